//! Regression tests from a cold review of the blocking pool and its handle:
//! two jobs shutting their own pool down at once; an old waker dropped
//! under the handle's lock by `into_chan`; a queued job whose drop panics
//! during `shutdown`; `join` from a thread-local destructor; `JoinError` as
//! `io::Error` making std retry forever; a dropped handle keeping its waker
//! until the job ends. Each failed on the code before its fix, but the
//! thread-local one, which checks a case that already worked.
mod util;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use parkway_blocking_pool::{BlockingPool, PoolConfig};
use util::{pool, NO_STACK};

/// Two jobs of one pool each call `shutdown`: neither waits for the
/// other's thread (each exits only after its call returns).
#[test]
fn two_jobs_shutting_down_their_own_pool_do_not_wait_for_each_other() {
    let p = pool(4);
    let b = Arc::new(Barrier::new(2));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let p2 = p.clone();
            let b = Arc::clone(&b);
            p.spawn(move || {
                b.wait();
                let t = Instant::now();
                let ok = p2.shutdown(Duration::from_secs(2));
                (ok, t.elapsed())
            })
        })
        .collect();
    for h in hs {
        let (ok, took) = h.join().unwrap();
        assert!(
            ok && took < Duration::from_secs(1),
            "shutdown from a job: all_exited={ok}, took {took:?}"
        );
    }
}

/// A waker whose drop releases the job and then waits for the next queued
/// job (same 1-thread pool) to start: that can only happen once the first
/// job's `complete` got the cell lock.
struct W {
    go: mpsc::SyncSender<()>,
    next_started: Arc<AtomicBool>,
    ok: Arc<AtomicBool>,
}
impl Wake for W {
    fn wake(self: Arc<Self>) {}
}
impl Drop for W {
    fn drop(&mut self) {
        let _ = self.go.send(());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if self.next_started.load(Ordering::SeqCst) {
                self.ok.store(true, Ordering::SeqCst);
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn into_chan_drops_the_old_waker_outside_the_cell_lock() {
    let p = pool(1);
    let (go_tx, go_rx) = mpsc::sync_channel::<()>(1);
    let h = p.spawn(move || {
        go_rx.recv().unwrap();
        1
    });
    let next_started = Arc::new(AtomicBool::new(false));
    let ns = Arc::clone(&next_started);
    let _next = p.spawn(move || ns.store(true, Ordering::SeqCst));
    let ok = Arc::new(AtomicBool::new(false));
    let waker = Waker::from(Arc::new(W {
        go: go_tx,
        next_started,
        ok: Arc::clone(&ok),
    }));
    let mut h = h;
    {
        let mut cx = Context::from_waker(&waker);
        assert!(pin!(&mut h).poll(&mut cx).is_pending());
    }
    drop(waker); // the cell now holds the only clone
    let rx = h.into_chan(); // drops the cell's waker
    assert!(
        ok.load(Ordering::SeqCst),
        "the waker was dropped while the cell was locked: the job could not complete"
    );
    assert_eq!(rx.recv_blocking().unwrap().unwrap(), 1);
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop of a queued job's capture");
    }
}

/// A queued job whose captures panic on drop: the panic is reported, and
/// `shutdown` still waits for the running job.
#[test]
fn a_panicking_drop_of_a_queued_job_stays_inside_shutdown() {
    let p = pool(1);
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let done = Arc::new(AtomicBool::new(false));
    let d = Arc::clone(&done);
    let _running = p.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        thread::sleep(Duration::from_millis(200));
        d.store(true, Ordering::SeqCst);
    });
    started_rx.recv().unwrap();
    let guard = PanicOnDrop;
    let _queued = p.spawn(move || drop(guard));
    release_tx.send(()).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        p.shutdown(Duration::from_secs(10))
    }));
    assert!(r.is_ok(), "shutdown panicked");
    assert!(
        done.load(Ordering::SeqCst),
        "shutdown returned before the running job ended"
    );
}

struct JoinInDtor(BlockingPool);
impl Drop for JoinInDtor {
    fn drop(&mut self) {
        let v = self.0.spawn(|| 5).join().unwrap();
        assert_eq!(v, 5);
    }
}
thread_local! {
    static J: std::cell::RefCell<Option<JoinInDtor>> = const { std::cell::RefCell::new(None) };
}

/// `spawn` and `join` from a thread-local destructor work.
#[test]
fn join_in_a_tls_destructor() {
    let p = pool(1);
    let t = thread::spawn(move || {
        J.with(|j| *j.borrow_mut() = Some(JoinInDtor(p)));
    });
    assert!(t.join().is_ok());
}

/// A reader that does its I/O on the pool, converting a JoinError with `?`.
struct PoolReader(BlockingPool, usize);
impl std::io::Read for PoolReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 += 1;
        if self.1 > 1000 {
            panic!(
                "read_to_end retried {} times: it would spin forever",
                self.1
            );
        }
        let n = self.0.spawn(|| 0usize).join()?;
        let _ = buf;
        Ok(n)
    }
}

/// A cancelled job's error as `io::Error` is `Other`, not `Interrupted`,
/// which `read_to_end` would retry forever.
#[test]
fn a_cancelled_join_error_as_io_error_ends_std_retries() {
    let p = pool(1);
    assert!(p.shutdown(Duration::from_secs(1)));
    let mut r = PoolReader(p, 0);
    let mut v = Vec::new();
    let res = std::io::Read::read_to_end(&mut r, &mut v);
    assert!(res.is_err());
}

/// A job the OS refused a thread for: as an `io::Error` it is `Other`
/// (the OS's `EAGAIN` would read as `WouldBlock`, which async code waits
/// on forever), with the OS's error as its source.
#[test]
fn a_spawn_failure_as_io_error_is_other_with_the_os_error_as_source() {
    let p = BlockingPool::new(PoolConfig {
        stack_size: Some(NO_STACK),
        ..PoolConfig::default()
    })
    .unwrap();
    let err = p.spawn(|| 1).join().unwrap_err();
    assert!(err.is_spawn_failed());
    assert!(std::error::Error::source(&err).is_some());
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
}

struct Flag(Arc<AtomicBool>);
impl Wake for Flag {
    fn wake(self: Arc<Self>) {}
}
impl Drop for Flag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_dropped_handle_releases_its_waker() {
    let p = pool(1);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut h = p.spawn(move || {
        let _ = go_rx.recv();
    });
    let dropped = Arc::new(AtomicBool::new(false));
    let waker = Waker::from(Arc::new(Flag(Arc::clone(&dropped))));
    assert!(pin!(&mut h)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    drop(h);
    let released = dropped.load(Ordering::SeqCst);
    drop(go_tx);
    assert!(
        released,
        "the cell keeps the waker (and the task behind it) until the job ends"
    );
}
