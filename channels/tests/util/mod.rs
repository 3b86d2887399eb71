//! Helpers shared by the channel integration tests.
//!
//! There is no runtime in this crate, so the tests bring a tiny executor:
//! [`block_on`] (a thread park/unpark waker), [`spawn_thread_future`] (a std
//! thread running `block_on`), [`poll_with`]/[`poll_once`] to poll a future by
//! hand with a [`CountWaker`] that counts its wake-ups, and [`DropCounter`], a
//! value that records its drops so tests can prove nothing leaks or is dropped
//! twice.
//!
//! Nothing here asserts on wall-clock time. Every wait that could hang if the
//! channel is broken is bounded by [`DEADLINE`] and panics with a message
//! naming what it waited for. Sleeps only give another thread time to reach its
//! park; they never decide an assertion.

#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]
#![allow(unreachable_pub, reason = "test helper module, not a public API")]

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// `assert!(matches!(..))` that prints the value on failure. (The error types
/// promise `Debug`, not `PartialEq`, so tests match instead of comparing.)
#[allow(unused_macros, reason = "not every test file matches on results")]
macro_rules! assert_matches {
    ($e:expr, $p:pat $(if $g:expr)? $(,)?) => {
        match $e {
            $p $(if $g)? => {}
            ref other => panic!(
                "assertion failed: `{}` does not match `{}`: got {:?}",
                stringify!($e),
                stringify!($p $(if $g)?),
                other
            ),
        }
    };
    ($e:expr, $p:pat $(if $g:expr)?, $($msg:tt)+) => {
        match $e {
            $p $(if $g)? => {}
            ref other => panic!(
                "assertion failed: `{}` does not match `{}`: got {:?}: {}",
                stringify!($e),
                stringify!($p $(if $g)?),
                other,
                format_args!($($msg)+)
            ),
        }
    };
}

/// How long any single wait in the tests may take before the test fails
/// instead of hanging.
pub const DEADLINE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Wakers and hand polling
// ---------------------------------------------------------------------------

/// A waker that counts how many times it was woken.
#[derive(Debug, Default)]
pub struct CountWaker {
    count: AtomicUsize,
}

impl CountWaker {
    /// A fresh counter at zero.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A `Waker` that increments this counter.
    pub fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(Arc::clone(self))
    }

    /// How many times a waker from this counter was woken.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Whether it was woken at least once.
    pub fn woken(&self) -> bool {
        self.count() > 0
    }
}

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with a waker from `w`.
pub fn poll_with<F: Future + ?Sized>(fut: Pin<&mut F>, w: &Arc<CountWaker>) -> Poll<F::Output> {
    let waker = w.waker();
    let mut cx = Context::from_waker(&waker);
    fut.poll(&mut cx)
}

/// Polls `fut` once with a throwaway counting waker.
pub fn poll_once<F: Future + ?Sized>(fut: &mut Pin<&mut F>) -> Poll<F::Output> {
    poll_with(fut.as_mut(), &CountWaker::new())
}

/// Asserts `p` is `Pending`, with a message.
#[track_caller]
pub fn assert_pending<T: fmt::Debug>(p: Poll<T>, what: &str) {
    if let Poll::Ready(v) = p {
        panic!("{what}: expected Pending, got Ready({v:?})");
    }
}

/// Unwraps a `Ready`, panicking with a message on `Pending`.
#[track_caller]
pub fn expect_ready<T>(p: Poll<T>, what: &str) -> T {
    match p {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("{what}: expected Ready, got Pending"),
    }
}

/// Polls `Stream::poll_next` once with a waker from `w`.
pub fn poll_next_with<S: futures_core::Stream + Unpin + ?Sized>(
    s: &mut S,
    w: &Arc<CountWaker>,
) -> Poll<Option<S::Item>> {
    let waker = w.waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(s).poll_next(&mut cx)
}

/// `StreamExt::next` without pulling in `futures-util`.
pub fn next<S: futures_core::Stream + Unpin + ?Sized>(
    s: &mut S,
) -> impl Future<Output = Option<S::Item>> + '_ {
    std::future::poll_fn(move |cx| Pin::new(&mut *s).poll_next(cx))
}

// ---------------------------------------------------------------------------
// A tiny executor
// ---------------------------------------------------------------------------

struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.notified.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Runs `fut` to completion on this thread, parking between polls.
///
/// # Panics
///
/// If the future stays `Pending` without being woken for [`DEADLINE`] (a
/// lost wake-up or a deadlock): the test fails instead of hanging.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let tw = Arc::new(ThreadWaker {
        thread: thread::current(),
        notified: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&tw));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        let deadline = Instant::now() + DEADLINE;
        while !tw.notified.swap(false, Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "block_on: the future stayed Pending and was not woken for {DEADLINE:?} \
                     (lost wake-up or deadlock)"
                );
            }
            thread::park_timeout(deadline - now);
        }
    }
}

/// Runs `fut` on a new std thread under [`block_on`].
pub fn spawn_thread_future<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    thread::spawn(move || block_on(fut))
}

/// Joins `h`, failing the test if the thread does not finish within
/// [`DEADLINE`]; re-raises the thread's panic.
#[track_caller]
pub fn join<T>(h: JoinHandle<T>, what: &str) -> T {
    wait_until(&format!("thread `{what}` to finish"), || h.is_finished());
    match h.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Runs `f` on its own thread and returns its result, failing the test if it
/// takes longer than [`DEADLINE`] (for operations that must not block).
#[track_caller]
pub fn run_with_timeout<R, F>(what: &str, f: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    join(thread::spawn(f), what)
}

/// Spins (sleeping 1 ms between tries) until `cond` holds; panics after
/// [`DEADLINE`].
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        if Instant::now() >= deadline {
            panic!("timed out after {DEADLINE:?} waiting for {what}");
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Receives from a std mpsc channel, failing the test after [`DEADLINE`].
#[track_caller]
pub fn recv_timeout<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => v,
        Err(e) => panic!("timed out after {DEADLINE:?} waiting for {what}: {e}"),
    }
}

/// Aborts the whole test process if the guard is not dropped within
/// `limit`: the last line of defence against a test hanging forever in a
/// blocking channel op on the test thread. Prints which test hung.
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
}

/// A [`Watchdog`] with a 120 s limit for the calling test.
pub fn watchdog() -> Watchdog {
    watchdog_for(Duration::from_secs(120))
}

/// A [`Watchdog`] with a custom limit (stress tests).
pub fn watchdog_for(limit: Duration) -> Watchdog {
    let name = thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string();
    let (done, rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!(
                "\nwatchdog: test `{name}` still running after {limit:?}: it hangs; aborting"
            );
            std::process::abort();
        }
    });
    Watchdog { done: Some(done) }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

// ---------------------------------------------------------------------------
// Waiting for another thread to block
// ---------------------------------------------------------------------------

/// The kernel thread id of the calling thread (Linux), from
/// `/proc/thread-self`.
pub fn current_tid() -> Option<u64> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// The scheduler state letter of thread `tid` of this process
/// (`R` running, `S` sleeping, ...), or `None` once it has exited.
fn thread_state(tid: u64) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // "tid (comm) S ..." — comm may hold spaces or parens, so split at the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

/// Spawns a thread running `f` and returns once that thread is blocked
/// inside `f` (asleep in the kernel for several consecutive samples), or
/// has finished.
///
/// Used where a test needs a thread *parked* in `send_blocking` /
/// `recv_blocking` / `select_blocking` before the main thread acts. Nobody
/// else touches the channel while we wait, so a thread asleep inside `f` is
/// parked in the channel op. Without `/proc` it falls back to a generous
/// sleep. Callers check `is_finished()` themselves when "still blocked" is
/// part of what they assert.
pub fn spawn_blocked<T, F>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tid_tx, tid_rx) = mpsc::channel();
    let h = thread::spawn(move || {
        tid_tx.send(current_tid()).unwrap();
        f()
    });
    let tid = recv_timeout(&tid_rx, "the spawned thread to start");
    wait_blocked(tid, &h);
    h
}

fn wait_blocked<T>(tid: Option<u64>, h: &JoinHandle<T>) {
    let Some(tid) = tid else {
        thread::sleep(Duration::from_millis(300));
        return;
    };
    let deadline = Instant::now() + DEADLINE;
    let mut asleep_in_a_row = 0;
    loop {
        if h.is_finished() {
            return;
        }
        match thread_state(tid) {
            None => return, // exited
            Some('S') | Some('D') => {
                asleep_in_a_row += 1;
                if asleep_in_a_row >= 5 {
                    return;
                }
            }
            Some(_) => asleep_in_a_row = 0,
        }
        if Instant::now() >= deadline {
            panic!("timed out after {DEADLINE:?} waiting for thread {tid} to block");
        }
        thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------------------
// Drop counting
// ---------------------------------------------------------------------------

/// Shared bookkeeping for [`DropCounter`] values.
#[derive(Debug, Default)]
pub struct DropTracker {
    created: AtomicUsize,
    dropped: AtomicUsize,
    drops_by_id: Mutex<HashMap<u64, usize>>,
}

impl DropTracker {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A new tracked value with identity `id`.
    pub fn make(self: &Arc<Self>, id: u64) -> DropCounter {
        self.created.fetch_add(1, Ordering::SeqCst);
        DropCounter {
            id,
            tracker: Arc::clone(self),
        }
    }

    /// Values created (including clones).
    pub fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }

    /// Drops observed.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Values created and not yet dropped.
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }

    /// How many times a value with identity `id` was dropped.
    pub fn drops_of(&self, id: u64) -> usize {
        self.drops_by_id
            .lock()
            .unwrap()
            .get(&id)
            .copied()
            .unwrap_or(0)
    }

    /// Asserts every value created was dropped exactly once overall and no
    /// identity was dropped more often than it was created.
    #[track_caller]
    pub fn assert_all_dropped(&self) {
        assert_eq!(
            self.dropped(),
            self.created(),
            "created {} tracked values but {} were dropped (leak or double drop)",
            self.created(),
            self.dropped()
        );
    }
}

/// A value that records its drop in a [`DropTracker`].
pub struct DropCounter {
    pub id: u64,
    tracker: Arc<DropTracker>,
}

impl Clone for DropCounter {
    fn clone(&self) -> Self {
        self.tracker.make(self.id)
    }
}

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.tracker.dropped.fetch_add(1, Ordering::SeqCst);
        *self
            .tracker
            .drops_by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(self.id)
            .or_insert(0) += 1;
    }
}

impl fmt::Debug for DropCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DropCounter({})", self.id)
    }
}

impl PartialEq for DropCounter {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/// A one-shot slot a callback fills, for `put`/`take` tests.
#[derive(Debug)]
pub struct Slot<T> {
    value: Mutex<Option<T>>,
    calls: AtomicUsize,
}

impl<T> Slot<T> {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            value: Mutex::new(None),
            calls: AtomicUsize::new(0),
        })
    }

    /// Records `v` (the callback side).
    pub fn set(&self, v: T) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        *self.value.lock().unwrap() = Some(v);
    }

    /// How many times the callback ran.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Whether the callback ran.
    pub fn is_set(&self) -> bool {
        self.calls() > 0
    }

    /// Takes the recorded value.
    pub fn take(&self) -> Option<T> {
        self.value.lock().unwrap().take()
    }

    /// Waits (bounded) for the callback, then takes its value.
    #[track_caller]
    pub fn wait_take(&self, what: &str) -> T {
        wait_until(what, || self.is_set());
        self.take()
            .expect("callback ran but its value was already taken")
    }
}

/// A callback for `put` that records its result in `slot`.
pub fn put_cb<T: Send + 'static>(
    slot: &Arc<Slot<Result<(), parkway_channels::SendError<T>>>>,
) -> impl FnOnce(Result<(), parkway_channels::SendError<T>>) + Send + 'static {
    let slot = Arc::clone(slot);
    move |r| slot.set(r)
}

/// A callback for `take` that records its result in `slot`.
pub fn take_cb<T: Send + 'static>(
    slot: &Arc<Slot<Option<T>>>,
) -> impl FnOnce(Option<T>) + Send + 'static {
    let slot = Arc::clone(slot);
    move |v| slot.set(v)
}

/// Lets another thread run for a moment (never used to decide an assertion).
pub fn pause() {
    thread::sleep(Duration::from_millis(10));
}
