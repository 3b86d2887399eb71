//! `check_blocking` panics on checked go workers, and only there.

use std::panic::{catch_unwind, Location};

use parkway_go_check::{check_blocking, enter_go_worker, GoCheck};

/// Runs `check_blocking(op)` and returns its panic message, if it panicked,
/// and the location of the call.
fn run(op: &'static str) -> (Option<String>, &'static Location<'static>) {
    let mut at = None;
    let result = catch_unwind(std::panic::AssertUnwindSafe(|| {
        at = Some(Location::caller());
        check_blocking(op);
    }));
    let msg = result.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .expect("panic message is a String")
    });
    (msg, at.unwrap())
}

#[test]
fn panics_on_a_go_worker_in_warn_and_strict() {
    for mode in [GoCheck::Warn, GoCheck::Strict] {
        let _worker = enter_go_worker(mode);
        for op in ["send_blocking", "recv_blocking", "alt_blocking!"] {
            let (msg, _) = run(op);
            let msg = msg.unwrap_or_else(|| panic!("{op} did not panic in {mode:?}"));
            assert!(msg.starts_with("parkway go-check: "), "{msg}");
            assert!(
                msg.contains(&format!("`{op}` would block a go worker")),
                "{msg}"
            );
            assert!(msg.contains("fix: `.await` the parking version"), "{msg}");
            assert!(msg.contains("`send(v).await`"), "{msg}");
            assert!(msg.contains("`parkway::thread(|| ..).await`"), "{msg}");
        }
    }
}

#[test]
fn the_message_names_the_callers_location() {
    let _worker = enter_go_worker(GoCheck::Strict);
    let line = line!() + 1;
    let err = catch_unwind(|| check_blocking("send_blocking")).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    let expected = format!("{}:{line}:", file!());
    assert!(msg.contains(&expected), "expected {expected} in: {msg}");
}

#[test]
fn returns_in_off_mode() {
    let _worker = enter_go_worker(GoCheck::Off);
    let (msg, _) = run("send_blocking");
    assert_eq!(msg, None);
}

#[test]
fn returns_off_a_go_worker() {
    let (msg, _) = run("recv_blocking");
    assert_eq!(msg, None);
}

#[test]
fn follows_the_innermost_role() {
    let _strict = enter_go_worker(GoCheck::Strict);
    {
        let _off = enter_go_worker(GoCheck::Off);
        assert_eq!(run("recv_blocking").0, None);
    }
    assert!(run("recv_blocking").0.is_some());
}

#[test]
fn another_threads_role_does_not_count() {
    let _worker = enter_go_worker(GoCheck::Strict);
    let msg = std::thread::spawn(|| run("send_blocking").0)
        .join()
        .unwrap();
    assert_eq!(msg, None);
}
