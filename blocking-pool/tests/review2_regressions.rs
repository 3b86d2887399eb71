//! Second cold review of the blocking pool: failing tests for the bugs found.
mod util;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use parkway_blocking_pool::BlockingPool;
use util::pool;

/// A value whose drop shuts its pool down and reports whether that call
/// said "all exited" and whether the long job had in fact finished.
struct ShutOnDrop {
    pool: BlockingPool,
    long_done: Arc<AtomicBool>,
    out: mpsc::Sender<(bool, bool)>,
}
impl Drop for ShutOnDrop {
    fn drop(&mut self) {
        let ok = self.pool.shutdown(Duration::from_secs(10));
        let _ = self.out.send((ok, self.long_done.load(Ordering::SeqCst)));
    }
}

/// `shutting_from_inside` counts calls, not threads: a nested `shutdown` on
/// a pool thread (here from the drop of a queued job that the outer call
/// drops) counts its thread twice and returns `true` without waiting for
/// another thread that still runs a job.
#[test]
fn a_nested_shutdown_on_a_pool_thread_still_waits_for_the_other_threads() {
    let p = pool(2);
    let long_done = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let ld = Arc::clone(&long_done);
    let s1 = started_tx.clone();
    let _long = p.spawn(move || {
        s1.send(()).unwrap();
        thread::sleep(Duration::from_millis(500));
        ld.store(true, Ordering::SeqCst);
    });
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let p2 = p.clone();
    let outer = p.spawn(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        p2.shutdown(Duration::from_secs(10))
    });
    started_rx.recv().unwrap();
    started_rx.recv().unwrap();
    // Both threads busy, max 2: this one queues.
    let (out_tx, out_rx) = mpsc::channel();
    let guard = ShutOnDrop {
        pool: p.clone(),
        long_done: Arc::clone(&long_done),
        out: out_tx,
    };
    let queued = p.spawn(move || drop(guard));
    assert_eq!(p.queue_len(), 1);
    go_tx.send(()).unwrap();
    let (inner_ok, long_was_done) = out_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(outer.join().unwrap());
    assert!(queued.join().unwrap_err().is_cancelled());
    assert!(
        !inner_ok || long_was_done,
        "nested shutdown returned true while another pool thread was still running its job"
    );
}

/// An aborted job's error says the pool shut down, which it did not.
#[test]
fn an_aborted_jobs_error_does_not_blame_a_shutdown() {
    let p = pool(1);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let busy = p.spawn(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    let queued = p.spawn(|| 1);
    queued.abort();
    go_tx.send(()).unwrap();
    busy.join().unwrap();
    let err = queued.join().unwrap_err();
    assert!(err.is_cancelled());
    assert!(!p.is_shut_down());
    let msg = err.to_string();
    assert!(
        !msg.contains("shut down"),
        "abort's error blames a shutdown that never happened: {msg}"
    );
}

struct SlowTls(Arc<AtomicBool>);
impl Drop for SlowTls {
    fn drop(&mut self) {
        thread::sleep(Duration::from_millis(300));
        self.0.store(true, Ordering::SeqCst);
    }
}
thread_local! {
    static SLOW: RefCell<Option<SlowTls>> = const { RefCell::new(None) };
}

/// `shutdown` says it waits "for every thread to exit", and the runtime
/// that it waits for blocking work "as tokio does" (tokio joins its blocking
/// threads): but the pool never joins its threads, so `shutdown` returns
/// `true` while a pool thread still runs user code (its thread-local
/// destructors). After `Runtime` drop, `main` returning kills them mid-way.
#[test]
fn shutdown_true_means_the_threads_have_finished() {
    let p = pool(1);
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    p.spawn(move || SLOW.with(|s| *s.borrow_mut() = Some(SlowTls(f))))
        .join()
        .unwrap();
    assert!(p.shutdown(Duration::from_secs(10)));
    assert!(
        flag.load(Ordering::SeqCst),
        "shutdown returned true while a pool thread was still running its TLS destructors"
    );
}
