//! loom models of the one-shot channel (`src/oneshot.rs`): a registered
//! receiver (future or blocked thread) is always woken when the outcome is
//! decided, a replaced waker is never the one woken, and a value is
//! received, handed back by `send`, or dropped with the receiver: exactly
//! one of these, once.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release -p parkway-channels --test loom_oneshot`
//!
//! As in `tests/loom_ring.rs` (which explains why): each model runs the two
//! sides on two spawned threads, once in each spawn order, and asserts that
//! loom explored the outcomes the model is about, so a model that only ever
//! ran the sequential schedules fails instead of passing quietly.
//!
//! A lost wake-up shows as loom's deadlock report (every thread parked);
//! a value dropped twice or never as a failed count; a leaked allocation
//! as loom's leak check on its `Arc`.

#![cfg(loom)]

use std::collections::HashSet;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::sync::Mutex;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use parkway_channels::oneshot::{self, RecvError, TryRecvError};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Runs `model(rx_first)` under loom for both spawn orders and returns the
/// distinct outcomes.
fn explore<O, F>(name: &str, model: F) -> HashSet<O>
where
    O: Hash + Eq + Send + std::fmt::Debug + 'static,
    F: Fn(bool) -> O + Send + Sync + 'static,
{
    let model = std::sync::Arc::new(model);
    let seen = std::sync::Arc::new(Mutex::new(HashSet::new()));
    let runs = std::sync::Arc::new(StdAtomicUsize::new(0));
    for rx_first in [false, true] {
        let (model, sink, runs) = (model.clone(), seen.clone(), runs.clone());
        loom::model(move || {
            let outcome = model(rx_first);
            sink.lock().unwrap().insert(outcome);
            runs.fetch_add(1, StdOrdering::Relaxed);
        });
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let mut sorted: Vec<String> = seen.iter().map(|o| format!("{o:?}")).collect();
    sorted.sort();
    println!(
        "{name}: {} schedules, {} outcomes: {}",
        runs.load(StdOrdering::Relaxed),
        seen.len(),
        sorted.join(" ")
    );
    seen
}

/// Runs the receiving side `r` and the sending side `s` on two new threads
/// and returns their results; `rx_first` spawns `r` first (loom's first
/// schedule runs the first-spawned thread first).
fn race<R, S, RR, RS>(rx_first: bool, r: R, s: S) -> (RR, RS)
where
    R: FnOnce() -> RR + Send + 'static,
    S: FnOnce() -> RS + Send + 'static,
    RR: Send + 'static,
    RS: Send + 'static,
{
    if rx_first {
        let tr = thread::spawn(r);
        let ts = thread::spawn(s);
        (tr.join().unwrap(), ts.join().unwrap())
    } else {
        let ts = thread::spawn(s);
        let tr = thread::spawn(r);
        (tr.join().unwrap(), ts.join().unwrap())
    }
}

/// Asserts that loom explored each of `expected`.
fn assert_explored<O: Hash + Eq + std::fmt::Debug>(seen: &HashSet<O>, expected: &[O]) {
    for outcome in expected {
        assert!(
            seen.contains(outcome),
            "{outcome:?} not explored; explored: {seen:?}"
        );
    }
}

/// A waker that counts its wake-ups and unparks the (loom) thread that made
/// it, so that thread can wait for it.
struct LoomWaker {
    count: AtomicUsize,
    thread: thread::Thread,
}

impl LoomWaker {
    fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            count: AtomicUsize::new(0),
            thread: thread::current(),
        })
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Parks the owning thread until the waker was woken at least once. If
    /// nobody ever wakes it, loom reports a deadlock: the lost wake-up.
    fn wait(&self) {
        while self.count() == 0 {
            thread::park();
        }
    }
}

impl Wake for LoomWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.count.fetch_add(1, Ordering::Release);
        self.thread.unpark();
    }
}

fn poll_with<T>(
    rx: &mut oneshot::Receiver<T>,
    w: &std::sync::Arc<LoomWaker>,
) -> Poll<Result<T, RecvError>> {
    let waker = Waker::from(w.clone());
    Pin::new(rx).poll(&mut Context::from_waker(&waker))
}

use std::future::Future as _;

/// A value that counts its drops (checked after the model's threads are
/// joined, so a std atomic suffices).
struct Tracked(std::sync::Arc<StdAtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, StdOrdering::SeqCst);
    }
}

/// How the receiver side of a model ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rx {
    /// The first poll (with waker A) was ready.
    ReadyAtA,
    /// The second poll (with waker B, replacing A) was ready; `a_woken`
    /// says whether the sender woke A before B's registration.
    ReadyAtB { a_woken: bool },
    /// Both polls were pending; B was woken and the next poll was ready.
    WokenB,
}

/// The receiver side shared by the async models: poll with waker A, then
/// (if `replace`) with waker B, then wait for the last waker and poll
/// again. Checks that a pending poll is always followed by a wake of the
/// latest waker, never of a replaced one, and returns the output.
fn recv_async<T>(mut rx: oneshot::Receiver<T>, replace: bool) -> (Rx, Result<T, RecvError>) {
    let a = LoomWaker::new();
    if let Poll::Ready(out) = poll_with(&mut rx, &a) {
        return (Rx::ReadyAtA, out);
    }
    if !replace {
        a.wait();
        let out = match poll_with(&mut rx, &a) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("woken, but the next poll was Pending"),
        };
        assert_eq!(a.count(), 1, "woken more than once");
        return (Rx::WokenB, out);
    }
    let b = LoomWaker::new();
    if let Poll::Ready(out) = poll_with(&mut rx, &b) {
        return (
            Rx::ReadyAtB {
                a_woken: a.count() > 0,
            },
            out,
        );
    }
    b.wait();
    let out = match poll_with(&mut rx, &b) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("woken, but the next poll was Pending"),
    };
    assert_eq!(b.count(), 1, "B woken more than once");
    assert_eq!(
        a.count(),
        0,
        "A was replaced by B before the outcome was decided, yet A was woken"
    );
    (Rx::WokenB, out)
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/// A send races the receiver's first poll: no lost wake-up, the value
/// arrives.
#[test]
fn send_vs_recv_poll() {
    let seen = explore("send_vs_recv_poll", |rx_first| {
        let (tx, rx) = parkway_channels::oneshot::<u32>();
        let ((how, out), sent) = race(rx_first, move || recv_async(rx, false), move || tx.send(7));
        assert_eq!(sent, Ok(()));
        assert_eq!(out, Ok(7));
        how
    });
    assert_explored(&seen, &[Rx::ReadyAtA, Rx::WokenB]);
}

/// A send races a waker replacement (poll with A, then with B): B is woken
/// whenever B's poll was pending, A never is then, and the value arrives.
#[test]
fn waker_replacement_vs_send() {
    let seen = explore("waker_replacement_vs_send", |rx_first| {
        let (tx, rx) = parkway_channels::oneshot::<u32>();
        let ((how, out), sent) = race(rx_first, move || recv_async(rx, true), move || tx.send(8));
        assert_eq!(sent, Ok(()));
        assert_eq!(out, Ok(8));
        how
    });
    assert_explored(
        &seen,
        &[
            Rx::ReadyAtA,
            // The sender finished between B's two steps (clearing A's
            // registration and publishing B): nobody was woken, and B's
            // re-check found the outcome.
            Rx::ReadyAtB { a_woken: false },
            // The sender woke A before B's poll.
            Rx::ReadyAtB { a_woken: true },
            Rx::WokenB,
        ],
    );
}

/// The sender is dropped without sending while the receiver polls (and
/// replaces its waker): the receiver is woken and gets `RecvError`.
#[test]
fn sender_drop_vs_poll() {
    let seen = explore("sender_drop_vs_poll", |rx_first| {
        let (tx, rx) = parkway_channels::oneshot::<u32>();
        let ((how, out), ()) = race(rx_first, move || recv_async(rx, true), move || drop(tx));
        assert_eq!(out, Err(RecvError));
        how
    });
    assert_explored(
        &seen,
        &[
            Rx::ReadyAtA,
            // The sender finished between B's two steps (clearing A's
            // registration and publishing B): nobody was woken, and B's
            // re-check found the outcome.
            Rx::ReadyAtB { a_woken: false },
            // The sender woke A before B's poll.
            Rx::ReadyAtB { a_woken: true },
            Rx::WokenB,
        ],
    );
}

/// How a send ended in the drop/close models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Sent {
    /// `send` returned `Ok`: the receiver owns the value.
    Delivered,
    /// `send` returned `Err(value)`: the value came back.
    HandedBack,
}

/// A send races the receiver's drop (after a poll that registered a waker,
/// or without one): the value is dropped exactly once, by the receiver or
/// by the sender's caller after `send` handed it back.
#[test]
fn send_vs_receiver_drop() {
    for poll_first in [false, true] {
        let seen = explore("send_vs_receiver_drop", move |rx_first| {
            let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
            let (tx, mut rx) = parkway_channels::oneshot::<Tracked>();
            let value = Tracked(drops.clone());
            let ((), sent) = race(
                rx_first,
                move || {
                    if poll_first {
                        let _ = poll_with(&mut rx, &LoomWaker::new());
                    }
                    drop(rx);
                },
                move || match tx.send(value) {
                    Ok(()) => Sent::Delivered,
                    Err(v) => {
                        drop(v);
                        Sent::HandedBack
                    }
                },
            );
            assert_eq!(
                drops.load(StdOrdering::SeqCst),
                1,
                "the value must be dropped exactly once ({sent:?})"
            );
            sent
        });
        assert_explored(&seen, &[Sent::Delivered, Sent::HandedBack]);
    }
}

/// A send races `close` followed by `try_recv`: a value sent before the
/// close is received, one sent after is handed back; never both, never
/// neither, and it is dropped once.
#[test]
fn send_vs_close() {
    let seen = explore("send_vs_close", |rx_first| {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let (tx, mut rx) = parkway_channels::oneshot::<Tracked>();
        let value = Tracked(drops.clone());
        let (received, sent) = race(
            rx_first,
            move || {
                rx.close();
                match rx.try_recv() {
                    Ok(v) => {
                        drop(v);
                        true
                    }
                    Err(TryRecvError::Closed) => false,
                    Err(TryRecvError::Empty) => panic!("a closed receiver is never Empty"),
                }
            },
            move || tx.send(value).map_err(drop),
        );
        assert_eq!(
            received,
            sent.is_ok(),
            "received {received}, send returned {sent:?}"
        );
        assert_eq!(drops.load(StdOrdering::SeqCst), 1, "dropped exactly once");
        if received {
            Sent::Delivered
        } else {
            Sent::HandedBack
        }
    });
    assert_explored(&seen, &[Sent::Delivered, Sent::HandedBack]);
}

/// How the blocking receiver side ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Blocking {
    /// The outcome was decided before the receiver blocked (seen by a poll
    /// or `try_recv` first).
    Immediate,
    /// `try_recv` found nothing, so `recv_blocking` ran with the other side
    /// still to act (it registers, and parks unless the other side beats
    /// its registration).
    Blocked,
}

/// `try_recv` first: `Ok(Immediate)` with its result if the outcome was
/// decided, `Err(rx)` to go on blocking.
fn try_first<T>(
    mut rx: oneshot::Receiver<T>,
) -> Result<Result<T, RecvError>, oneshot::Receiver<T>> {
    match rx.try_recv() {
        Ok(v) => Ok(Ok(v)),
        Err(TryRecvError::Closed) => Ok(Err(RecvError)),
        Err(TryRecvError::Empty) => Err(rx),
    }
}

/// `recv_blocking` races a send (optionally after a poll registered a task
/// waker, which the thread then replaces): the blocked thread is unparked
/// and gets the value.
#[test]
fn recv_blocking_vs_send() {
    for poll_first in [false, true] {
        let seen = explore("recv_blocking_vs_send", move |rx_first| {
            let (tx, mut rx) = parkway_channels::oneshot::<u32>();
            let (how, sent) = race(
                rx_first,
                move || {
                    let a = LoomWaker::new();
                    if poll_first {
                        if let Poll::Ready(out) = poll_with(&mut rx, &a) {
                            assert_eq!(out, Ok(3));
                            return Blocking::Immediate;
                        }
                    }
                    let (how, out) = match try_first(rx) {
                        Ok(out) => (Blocking::Immediate, out),
                        Err(rx) => (Blocking::Blocked, rx.recv_blocking()),
                    };
                    assert_eq!(out, Ok(3));
                    how
                },
                move || tx.send(3),
            );
            assert_eq!(sent, Ok(()));
            how
        });
        assert_explored(&seen, &[Blocking::Immediate, Blocking::Blocked]);
    }
}

/// `recv_blocking` races the sender's drop: the thread is unparked and gets
/// `RecvError`.
#[test]
fn recv_blocking_vs_sender_drop() {
    let seen = explore("recv_blocking_vs_sender_drop", |rx_first| {
        let (tx, rx) = parkway_channels::oneshot::<u32>();
        let (how, ()) = race(
            rx_first,
            move || {
                let (how, out) = match try_first(rx) {
                    Ok(out) => (Blocking::Immediate, out),
                    Err(rx) => (Blocking::Blocked, rx.recv_blocking()),
                };
                assert_eq!(out, Err(RecvError));
                how
            },
            move || drop(tx),
        );
        how
    });
    assert_explored(&seen, &[Blocking::Immediate, Blocking::Blocked]);
}

/// Both handles dropped at once: nothing to deliver, and loom's leak check
/// on the shared `Arc` proves the allocation is freed whichever goes last.
#[test]
fn sender_drop_vs_receiver_drop() {
    explore("sender_drop_vs_receiver_drop", |rx_first| {
        let (tx, rx) = parkway_channels::oneshot::<u32>();
        race(rx_first, move || drop(rx), move || drop(tx));
    });
}
