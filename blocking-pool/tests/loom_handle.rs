//! loom models of `BlockingHandle`'s completion protocol
//! (`blocking-pool/src/handle.rs`): the job's thread completes the cell
//! once (with its result, or with a cancellation when the job is dropped
//! unrun) while the other side waits in any of its three ways: `join`
//! (parks its thread), polling as a future (a waker), or `into_chan` (a
//! channel that gets the result). The cell's mutex and `join`'s thread
//! parking are loom's under `--cfg loom` (the module's facade), so these
//! are the shipping code paths, reached through the `#[doc(hidden)]`
//! export `parkway_blocking_pool::loom_handle`.
//!
//! A lost wake-up shows as a deadlock (loom reports it); a lost or doubled
//! result as a failed assertion.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release
//! -p parkway-blocking-pool --test loom_handle` (own `CARGO_TARGET_DIR`).
#![cfg(loom)]

use loom::thread;
use parkway_blocking_pool::loom_handle;

/// `join` against the job finishing: the joiner parks only while the job
/// runs, and is unparked with the result.
#[test]
fn join_against_completion() {
    loom::model(|| {
        let (handle, job) = loom_handle::new::<u32>();
        let t = thread::spawn(move || job.run(|| 7));
        assert_eq!(handle.join().unwrap(), 7);
        t.join().unwrap();
    });
}

/// A job dropped unrun (the pool's shutdown dropping its queue) wakes a
/// joiner with a cancellation.
#[test]
fn join_against_a_dropped_job() {
    loom::model(|| {
        let (handle, job) = loom_handle::new::<u32>();
        let t = thread::spawn(move || drop(job));
        let err = handle.join().unwrap_err();
        assert!(err.is_cancelled());
        t.join().unwrap();
    });
}

/// Polled as a future against the job finishing: the waker stored under
/// the lock is woken after the result is stored, never before, never lost.
#[test]
fn await_against_completion() {
    loom::model(|| {
        let (handle, job) = loom_handle::new::<u32>();
        let t = thread::spawn(move || job.run(|| 9));
        assert_eq!(loom::future::block_on(handle).unwrap(), 9);
        t.join().unwrap();
    });
}

/// A panicking job: the panic reaches the waiter as a `JoinError`.
#[test]
fn a_panicking_job_reaches_the_waiter() {
    loom::model(|| {
        let (handle, job) = loom_handle::new::<u32>();
        let t = thread::spawn(move || job.run(|| panic!("boom")));
        let err = loom::future::block_on(handle).unwrap_err();
        assert!(err.is_panic());
        t.join().unwrap();
    });
}

/// `into_chan` against the job finishing: whichever comes first, the
/// channel gets exactly the one result, then closes.
#[test]
fn into_chan_against_completion() {
    loom::model(|| {
        let (handle, job) = loom_handle::new::<u32>();
        let t = thread::spawn(move || job.run(|| 3));
        let rx = handle.into_chan();
        t.join().unwrap();
        assert_eq!(rx.try_recv().unwrap().unwrap(), 3);
        assert!(rx.try_recv().is_err());
        assert!(rx.is_closed());
    });
}
