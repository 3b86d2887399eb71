//! Thread roles: entering a go worker, nesting, restoring, per-thread.

use parkway_go_check::{current_mode, enter_go_worker, is_go_worker, GoCheck};

#[test]
fn a_plain_thread_is_not_a_go_worker() {
    assert!(!is_go_worker());
    assert_eq!(current_mode(), None);
}

#[test]
fn entering_sets_the_mode_and_dropping_restores() {
    for mode in [GoCheck::Off, GoCheck::Warn, GoCheck::Strict] {
        let guard = enter_go_worker(mode);
        assert!(is_go_worker());
        assert_eq!(current_mode(), Some(mode));
        drop(guard);
        assert!(!is_go_worker());
        assert_eq!(current_mode(), None);
    }
}

#[test]
fn guards_nest() {
    let outer = enter_go_worker(GoCheck::Warn);
    {
        let _strict = enter_go_worker(GoCheck::Strict);
        assert_eq!(current_mode(), Some(GoCheck::Strict));
        {
            let _off = enter_go_worker(GoCheck::Off);
            assert_eq!(current_mode(), Some(GoCheck::Off));
            assert!(is_go_worker(), "Off is still a go worker");
        }
        assert_eq!(current_mode(), Some(GoCheck::Strict));
    }
    assert_eq!(current_mode(), Some(GoCheck::Warn));
    drop(outer);
    assert_eq!(current_mode(), None);
}

#[test]
fn the_role_is_per_thread() {
    let _guard = enter_go_worker(GoCheck::Strict);
    let other = std::thread::spawn(|| {
        let before = current_mode();
        let _inner = enter_go_worker(GoCheck::Off);
        (before, current_mode())
    })
    .join()
    .unwrap();
    assert_eq!(other, (None, Some(GoCheck::Off)));
    assert_eq!(current_mode(), Some(GoCheck::Strict));
}

#[test]
fn guard_debug_names_the_modes() {
    let _outer = enter_go_worker(GoCheck::Warn);
    let inner = enter_go_worker(GoCheck::Strict);
    let shown = format!("{inner:?}");
    assert!(
        shown.contains("Strict") && shown.contains("Warn"),
        "{shown}"
    );
}

#[test]
fn role_queries_work_in_thread_local_destructors() {
    // A thread-local's destructor runs during thread-local teardown, in an
    // unspecified order with the others: asking for the role there must not
    // panic, and the thread is no longer a go worker.
    struct AskOnDrop;
    impl Drop for AskOnDrop {
        fn drop(&mut self) {
            assert!(!is_go_worker());
            assert_eq!(current_mode(), None);
            parkway_go_check::check_blocking("recv_blocking");
            DESTRUCTOR_RAN.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    static DESTRUCTOR_RAN: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);
    thread_local! {
        static ASK: AskOnDrop = const { AskOnDrop };
    }
    std::thread::spawn(|| {
        ASK.with(|_| {});
        let _guard = enter_go_worker(GoCheck::Off);
    })
    .join()
    .unwrap();
    assert!(DESTRUCTOR_RAN.load(std::sync::atomic::Ordering::SeqCst));
}
