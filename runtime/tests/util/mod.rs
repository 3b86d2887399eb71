//! Helpers shared by the runtime's integration tests.
//!
//! - [`runtime`] and [`runtime_with`] build runtimes with a fixed number of
//!   workers and an explicit go-check mode, so a test does not depend on
//!   `PARKWAY_GO_CHECK` or on the machine's core count.
//! - [`watchdog`] runs a test body on its own thread and fails the test if
//!   the body has not returned within a generous limit, so a runtime that
//!   loses a wake-up makes the test fail instead of hanging the suite.
//! - [`DropCount`] and [`DropGuard`] prove that a future was dropped (and
//!   where), [`expect_panic`] and [`panic_message`] read panic payloads,
//!   [`Rng`] is a small seeded generator for the stress tests.
//!
//! Nothing here asserts an upper bound on wall-clock time except as an
//! anti-hang limit; every limit is many times what a correct runtime needs.

#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]
#![allow(unreachable_pub, reason = "test helper module, not a public API")]

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use parkway::{GoCheck, Runtime};

/// The anti-hang limit for a whole test body: far above what any test here
/// needs on a loaded 2-core machine in a debug build.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// A runtime with `workers` go workers and go-check in `Warn` mode (the
/// debug-build default, made explicit).
pub fn runtime(workers: usize) -> Runtime {
    runtime_with(workers, GoCheck::Warn)
}

/// A runtime with `workers` go workers and go-check in `mode`.
pub fn runtime_with(workers: usize, mode: GoCheck) -> Runtime {
    Runtime::builder()
        .worker_threads(workers)
        .go_check(mode)
        .build()
        .expect("building a runtime")
}

/// Runs `body` on a fresh thread and returns its result; fails the test if
/// `body` has not returned within [`HANG_LIMIT`] (a hang is a failure, not
/// a stuck suite). A panic in `body` is re-raised on the caller's thread.
#[track_caller]
pub fn watchdog<T, F>(body: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    watchdog_for(HANG_LIMIT, body)
}

/// [`watchdog`] with an explicit limit.
#[track_caller]
pub fn watchdog_for<T, F>(limit: Duration, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(body));
            let _ = tx.send(r);
        })
        .expect("spawning the test body thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => v,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!(
            "the test body did not finish within {limit:?}: the runtime lost a wake-up \
             or deadlocked"
        ),
    }
}

/// The message of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Runs `f`, which must panic, and returns its panic message.
#[track_caller]
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic, but the call returned"),
        Err(payload) => panic_message(&*payload),
    }
}

/// A shared counter of drops; hand out [`DropGuard`]s with
/// [`guard`](DropCount::guard) and read the count with
/// [`get`](DropCount::get).
#[derive(Debug, Clone, Default)]
pub struct DropCount(Arc<AtomicUsize>);

impl DropCount {
    /// A counter at zero.
    pub fn new() -> DropCount {
        DropCount::default()
    }

    /// A guard that adds one to this counter when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard {
            count: Arc::clone(&self.0),
            on_drop: None,
        }
    }

    /// A guard that adds one to this counter when dropped, after running
    /// `f` (inside the guard's `Drop`).
    pub fn guard_with(&self, f: impl FnOnce() + Send + 'static) -> DropGuard {
        DropGuard {
            count: Arc::clone(&self.0),
            on_drop: Some(Box::new(f)),
        }
    }

    /// Guards dropped so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Adds one to its [`DropCount`] when dropped; move it into a future to
/// observe when the future is dropped.
pub struct DropGuard {
    /// The counter.
    count: Arc<AtomicUsize>,
    /// Run first in `Drop`.
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DropGuard").finish_non_exhaustive()
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(f) = self.on_drop.take() {
            f();
        }
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with the current task's context and returns the
/// result, without waiting.
pub async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
}

/// Waits (parking the task with 1 ms sleeps) until `cond` holds. Only for
/// use inside a runtime; the caller's [`watchdog`] bounds the wait.
pub async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        parkway::sleep(Duration::from_millis(1)).await;
    }
}

/// Blocks the calling plain thread until `cond` holds, checking every
/// millisecond; panics naming `what` after [`HANG_LIMIT`].
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG_LIMIT, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Keeps the CPU busy for `d` without blocking in the OS (a compute loop).
pub fn burn(d: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        for i in 0..64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    std::hint::black_box(x);
}

/// A small seeded pseudo-random generator (xorshift64*), so the stress
/// tests need no dependency and a failing seed can be replayed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `lo..hi` (`lo < hi`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }
}
