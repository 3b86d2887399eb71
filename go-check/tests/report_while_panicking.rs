//! While the thread is already panicking, `check_blocking` reports instead
//! of panicking (a second panic would abort).

use std::panic::catch_unwind;

use parking_lot::Mutex;
use parkway_go_check::{
    check_blocking, enter_go_worker, set_reporter, GoCheck, Report, ReportKind,
};

static SEEN: Mutex<Vec<Report>> = Mutex::new(Vec::new());

/// Calls a blocking op from its destructor, as a value held across a panic
/// might.
struct BlocksOnDrop {
    line: u32,
}

impl Drop for BlocksOnDrop {
    fn drop(&mut self) {
        self.line = line!() + 1;
        check_blocking("recv_blocking");
        // Only reached because check_blocking reported instead of panicking.
        LINE.with(|l| l.set(self.line));
    }
}

thread_local! {
    static LINE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

#[test]
fn reports_instead_of_panicking_during_unwinding() {
    // The only test in this binary: the reporter is process-global.
    set_reporter(|r| SEEN.lock().push(r.clone()));

    let _worker = enter_go_worker(GoCheck::Strict);
    let payload = catch_unwind(|| {
        let _guard = BlocksOnDrop { line: 0 };
        panic!("the first panic");
    })
    .unwrap_err();

    // The panic that escaped is the first one, not the go-check one.
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the first panic"));

    let line = LINE.with(|l| l.get());
    assert_ne!(line, 0, "the destructor did not finish");

    let seen = SEEN.lock();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let r = &seen[0];
    assert_eq!(r.kind, ReportKind::BlockingOp);
    assert_eq!(r.op, Some("recv_blocking"));
    let at = r.location.expect("a location");
    assert_eq!((at.file(), at.line()), (file!(), line));
    assert!(r
        .message
        .contains("`recv_blocking` would block a go worker"));
    assert!(r.message.contains("fix:"));
    assert_eq!(r.to_string(), r.message);
}
