//! Live stacks: with `PARKWAY_GO_CHECK_BACKTRACE=1`, a stall report carries
//! the stack of the stuck thread, captured while it was stuck, down to the
//! user's function that made the blocking call (Linux x86_64; elsewhere
//! the report says why there is no stack).
//!
//! The variable is read once per process, so this file is its own test
//! binary with one test, which sets it before any runtime starts.

mod util;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parkway::{GoCheck, Report, ReportKind, Runtime};
use util::watchdog;

/// The user's function that blocks the worker: its name must show up in
/// the captured stack.
#[inline(never)]
fn stuck_in_user_code_for_the_test() -> u32 {
    std::thread::sleep(Duration::from_millis(600));
    7
}

#[test]
fn a_stall_report_carries_the_stuck_threads_stack() {
    // No other thread reads the environment yet: this binary's only test,
    // before its first runtime.
    std::env::set_var("PARKWAY_GO_CHECK_BACKTRACE", "1");
    watchdog(|| {
        let reports = Arc::new(Mutex::new(Vec::<Report>::new()));
        let sink = Arc::clone(&reports);
        let rt = Runtime::builder()
            .worker_threads(1)
            .go_check(GoCheck::Warn)
            .stall_threshold(Duration::from_millis(50))
            .on_go_check_report(move |r| sink.lock().unwrap().push(r.clone()))
            .build()
            .unwrap();
        let started = Instant::now();
        let v = rt
            .block_on(rt.go(async { stuck_in_user_code_for_the_test() }))
            .unwrap();
        assert_eq!(v, 7);
        // The signal did not cut the sleep short (std retries on EINTR).
        assert!(started.elapsed() >= Duration::from_millis(600));
        drop(rt);
        let reports = reports.lock().unwrap();
        assert_eq!(reports.len(), 1, "{reports:#?}");
        let r = &reports[0];
        assert_eq!(r.kind, ReportKind::Stall);
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            let stack = r
                .stack
                .as_deref()
                .unwrap_or_else(|| panic!("no stack: {r}"));
            assert!(
                stack.contains("stuck_in_user_code_for_the_test"),
                "the stack misses the user's function:\n{stack}"
            );
            assert!(stack.contains("sleep"), "{stack}");
            assert!(r.to_string().contains(stack));
        } else {
            assert!(r.message.contains("No live stack"), "{r}");
        }
    });
}
