//! The blocking-op check: blocking channel ops call it first.

use std::panic::Location;

use crate::report::{report, Report};
use crate::role::{role, WORKER_WARN};

/// Checks that a blocking op may run on the current thread.
///
/// Blocking ops (`send_blocking`, `recv_blocking`, `alt_blocking!`, a
/// blocking join) call this before they block. On a go worker whose runtime
/// is in [`Warn`](crate::GoCheck::Warn) or [`Strict`](crate::GoCheck::Strict)
/// mode it panics with a message naming `op`, the caller's location and the
/// fix. Off a go worker, or in [`Off`](crate::GoCheck::Off) mode, it returns
/// at the cost of one thread-local read.
///
/// While the thread is already panicking (a blocking op in a destructor run
/// by unwinding) it sends a [`ReportKind::BlockingOp`](crate::ReportKind)
/// report through [`report`] instead of panicking, since a second panic
/// would abort the process.
///
/// # Panics
///
/// On a go worker in `Warn` or `Strict` mode, when not already panicking.
///
/// # Examples
///
/// ```
/// use parkway_go_check::{check_blocking, enter_go_worker, GoCheck};
///
/// check_blocking("recv_blocking"); // not a go worker: fine
///
/// let _worker = enter_go_worker(GoCheck::Warn);
/// let err = std::panic::catch_unwind(|| check_blocking("recv_blocking")).unwrap_err();
/// let msg = err.downcast_ref::<String>().unwrap();
/// assert!(msg.contains("`recv_blocking` would block a go worker"));
/// ```
#[track_caller]
#[inline]
pub fn check_blocking(op: &'static str) {
    if role() >= WORKER_WARN {
        blocked(op, Location::caller());
    }
}

/// The slow path of [`check_blocking`]: the op would block a checked go worker.
#[cold]
#[inline(never)]
#[track_caller]
fn blocked(op: &'static str, location: &'static Location<'static>) {
    let r = Report::blocking_op(op, location);
    if std::thread::panicking() {
        report(&r);
    } else {
        panic!("{}", r.message);
    }
}
