//! `BlockingPool::spawn` and `BlockingHandle`: results by `join`, by
//! polling as a future, and by `into_chan`; panics; jobs that never run
//! (pool shut down, no thread could be started); `shutdown` called from a
//! job of the pool.

mod util;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use parkway_blocking_pool::{BlockingPool, PoolConfig};
use util::{pool, NO_STACK};

/// A waker that unparks a thread and counts its wakes.
struct Unpark(Thread, AtomicUsize);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.unpark();
    }
}

/// Polls `fut` on this thread until it is ready (at most 10 s).
fn block_on<F: Future>(fut: F) -> F::Output {
    let unpark = Arc::new(Unpark(thread::current(), AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(Instant::now() < deadline, "future not ready after 10 s");
        thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn join_gives_the_result() {
    let p = pool(2);
    let h = p.spawn(|| 6 * 7);
    assert_eq!(h.join().unwrap(), 42);
    // And as a future, on a minimal executor with no runtime.
    assert_eq!(block_on(p.spawn(|| 5)).unwrap(), 5);
}

#[test]
fn the_handle_is_a_future_woken_when_the_job_ends() {
    let p = pool(2);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let h = p.spawn(move || {
        go_rx.recv().unwrap();
        "done"
    });
    let unpark = Arc::new(Unpark(thread::current(), AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    let mut h = pin!(h);
    // Not finished: the job waits for `go_tx`.
    assert!(h.as_mut().poll(&mut cx).is_pending());
    assert!(!h.is_finished());
    go_tx.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while unpark.1.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "never woken");
        thread::park_timeout(Duration::from_millis(100));
    }
    assert!(h.is_finished());
    match h.as_mut().poll(&mut cx) {
        Poll::Ready(r) => assert_eq!(r.unwrap(), "done"),
        Poll::Pending => panic!("woken but not ready"),
    }
}

#[test]
fn into_chan_delivers_the_result_once_then_closes() {
    let p = pool(2);
    // Converted before the job ends, and after.
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let early = p
        .spawn(move || {
            go_rx.recv().unwrap();
            1
        })
        .into_chan();
    let late_h = p.spawn(|| 2);
    // Polled, bounded: a job that never finishes fails the test.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !late_h.is_finished() {
        assert!(Instant::now() < deadline, "the job never finished");
        thread::sleep(Duration::from_millis(1));
    }
    let late = late_h.into_chan();
    go_tx.send(()).unwrap();
    assert_eq!(early.recv_blocking().unwrap().unwrap(), 1);
    assert_eq!(early.recv_blocking().map(|r| r.is_ok()), None);
    assert_eq!(late.recv_blocking().unwrap().unwrap(), 2);
    assert!(late.recv_blocking().is_none());
}

#[test]
fn a_panic_reaches_the_handle_and_the_thread_lives_on() {
    let p = pool(1);
    let err = p
        .spawn(|| -> u8 { panic!("disk on fire") })
        .join()
        .unwrap_err();
    assert!(err.is_panic());
    assert!(err.is_blocking_job());
    assert_eq!(err.panic_message(), Some("disk on fire"));
    let msg = err.to_string();
    assert!(msg.contains("blocking job"), "{msg}");
    assert!(msg.contains("handle.rs"), "location in {msg}");
    assert!(msg.contains("disk on fire"), "{msg}");
    // The one thread still runs jobs.
    assert_eq!(p.spawn(|| 5).join().unwrap(), 5);
    assert_eq!(p.num_threads(), 1);
    // The payload comes back.
    let payload = p
        .spawn(|| -> u8 { std::panic::panic_any(17u32) })
        .join()
        .unwrap_err()
        .into_panic();
    assert_eq!(payload.downcast_ref::<u32>(), Some(&17));
}

#[test]
fn spawn_after_shutdown_reports_a_cancellation() {
    let p = pool(1);
    assert!(p.shutdown(Duration::from_secs(5)));
    let err = p.spawn(|| 1).join().unwrap_err();
    assert!(err.is_cancelled(), "{err}");
}

#[test]
fn a_queued_job_dropped_by_shutdown_reports_a_cancellation() {
    let p = pool(1);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let running = p.spawn(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        1
    });
    started_rx.recv().unwrap();
    let queued = p.spawn(|| 2).into_chan();
    // The one thread is busy: `queued` waits in the queue.
    assert!(!p.shutdown(Duration::from_millis(20)));
    let err = queued
        .recv_blocking()
        .expect("an error, not silence")
        .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    go_tx.send(()).unwrap();
    assert_eq!(running.join().unwrap(), 1);
}

#[test]
fn a_refused_thread_gives_a_spawn_error_not_silence() {
    let p = BlockingPool::new(PoolConfig {
        stack_size: Some(NO_STACK),
        ..PoolConfig::default()
    })
    .unwrap();
    let err = p.spawn(|| 1).join().unwrap_err();
    assert!(err.is_spawn_failed(), "{err}");
    assert!(err.spawn_error().is_some());
    assert!(err.to_string().contains("refused"), "{err}");
    // The same through a channel.
    let err = p
        .spawn(|| 1)
        .into_chan()
        .recv_blocking()
        .unwrap()
        .unwrap_err();
    assert!(err.is_spawn_failed(), "{err}");
}

#[test]
fn shutdown_from_a_job_does_not_wait_for_its_own_thread() {
    let p = pool(2);
    let p2 = p.clone();
    let h = p.spawn(move || {
        let start = Instant::now();
        let all_exited = p2.shutdown(Duration::from_secs(5));
        (all_exited, start.elapsed())
    });
    let (all_exited, took) = h.join().unwrap();
    assert!(all_exited);
    assert!(took < Duration::from_secs(5), "waited for itself: {took:?}");
}

#[test]
fn ids_are_unique_and_carried_by_the_error() {
    let p = pool(2);
    let a = p.spawn(|| ());
    let b = p.spawn(|| -> () { panic!("x") });
    assert_ne!(a.id(), b.id());
    let id = b.id();
    assert_eq!(b.join().unwrap_err().id(), id);
    a.join().unwrap();
}

#[test]
fn dropping_the_handle_detaches_the_job() {
    let p = pool(1);
    let (tx, rx) = mpsc::channel();
    drop(p.spawn(move || tx.send(9).unwrap()));
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 9);
}

#[test]
fn abort_cancels_a_job_not_started_yet_and_not_a_running_one() {
    let p = pool(1);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let running = p.spawn(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        "ran"
    });
    started_rx.recv().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    // Queued behind the one busy thread.
    let queued = p.spawn(move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    queued.abort();
    running.abort(); // too late: it runs on
    go_tx.send(()).unwrap();
    assert_eq!(running.join().unwrap(), "ran");
    let err = queued.join().unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(ran.load(Ordering::SeqCst), 0, "an aborted job never runs");
}
