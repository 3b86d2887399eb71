//! The one-shot channel (`oneshot()`): delivery in every order, closing from
//! either side, `try_recv`, `recv_blocking` and its go-check, waker
//! replacement, the cooperative budget, value drop accounting on every
//! path, and stress runs across two threads with random drops.

mod util;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::thread;

use futures_core::FusedFuture;
use parkway_channels::oneshot::{self, RecvError, TryRecvError};
use parkway_go_check::{budget, enter_go_worker, GoCheck};
use util::{
    assert_pending, block_on, expect_ready, join, poll_with, spawn_blocked, spawn_thread_future,
    watchdog, watchdog_for, CountWaker, DropTracker,
};

/// Polls a receiver once with a waker from `w`.
fn poll_rx<T>(rx: &mut oneshot::Receiver<T>, w: &Arc<CountWaker>) -> Poll<Result<T, RecvError>> {
    poll_with(Pin::new(rx), w)
}

// ---------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------

#[test]
fn send_then_recv() {
    let (tx, rx) = parkway_channels::oneshot();
    tx.send(String::from("hello")).unwrap();
    assert_eq!(block_on(rx).as_deref(), Ok("hello"));
}

#[test]
fn recv_then_send_wakes_parked_receiver() {
    let (tx, mut rx) = parkway_channels::oneshot();
    let w = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &w), "first poll, nothing sent");
    assert_eq!(w.count(), 0);
    tx.send(7u32).unwrap();
    assert_eq!(w.count(), 1, "send must wake the registered waker once");
    assert_eq!(expect_ready(poll_rx(&mut rx, &w), "after send"), Ok(7));
}

#[test]
fn recv_then_send_across_threads() {
    let _wd = watchdog();
    let (tx, rx) = parkway_channels::oneshot();
    let h = spawn_thread_future(rx);
    util::pause(); // lets the receiver park first (not required for correctness)
    tx.send(vec![1, 2, 3]).unwrap();
    assert_eq!(join(h, "receiver future"), Ok(vec![1, 2, 3]));
}

#[test]
fn repolling_with_the_same_waker_stays_pending_and_is_woken_once() {
    let (tx, mut rx) = parkway_channels::oneshot();
    let w = CountWaker::new();
    for _ in 0..3 {
        assert_pending(poll_rx(&mut rx, &w), "nothing sent");
    }
    tx.send(1u8).unwrap();
    assert_eq!(w.count(), 1);
    assert_eq!(expect_ready(poll_rx(&mut rx, &w), "after send"), Ok(1));
}

// ---------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------

#[test]
fn sender_dropped_gives_recv_error() {
    let (tx, rx) = parkway_channels::oneshot::<u32>();
    drop(tx);
    assert_eq!(block_on(rx), Err(RecvError));

    let (tx, rx) = parkway_channels::oneshot::<u32>();
    drop(tx);
    assert_eq!(rx.recv_blocking(), Err(RecvError));
}

#[test]
fn sender_dropped_wakes_parked_receiver() {
    let (tx, mut rx) = parkway_channels::oneshot::<u32>();
    let w = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &w), "nothing sent");
    drop(tx);
    assert_eq!(w.count(), 1, "dropping the sender must wake the receiver");
    assert_eq!(
        expect_ready(poll_rx(&mut rx, &w), "after drop"),
        Err(RecvError)
    );
}

#[test]
fn receiver_dropped_send_returns_value() {
    let (tx, rx) = parkway_channels::oneshot();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("back")), Err(String::from("back")));
}

#[test]
fn receiver_dropped_after_poll_send_returns_value() {
    let (tx, mut rx) = parkway_channels::oneshot();
    let w = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &w), "nothing sent");
    drop(rx);
    assert_eq!(tx.send(5u64), Err(5));
    assert_eq!(w.count(), 0, "nobody waits on a dropped receiver");
}

#[test]
fn close_then_send_fails_and_receiver_sees_closed() {
    let (tx, mut rx) = parkway_channels::oneshot();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(9i32), Err(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    // Awaiting a closed receiver completes at once.
    let (tx, mut rx) = parkway_channels::oneshot::<i32>();
    rx.close();
    assert_eq!(block_on(rx), Err(RecvError));
    assert_eq!(tx.send(1), Err(1));
}

#[test]
fn close_after_send_still_delivers() {
    let (tx, mut rx) = parkway_channels::oneshot();
    tx.send(3u8).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn close_while_parked_then_sender_dropped() {
    let (tx, mut rx) = parkway_channels::oneshot::<u8>();
    let w = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &w), "nothing sent");
    rx.close();
    assert_eq!(expect_ready(poll_rx(&mut rx, &w), "closed"), Err(RecvError));
    drop(tx);
}

// ---------------------------------------------------------------------------
// try_recv
// ---------------------------------------------------------------------------

#[test]
fn try_recv_empty_ok_then_spent() {
    let (tx, mut rx) = parkway_channels::oneshot();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send('x').unwrap();
    assert_eq!(rx.try_recv(), Ok('x'));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "spent");
}

#[test]
fn try_recv_closed_when_sender_dropped() {
    let (tx, mut rx) = parkway_channels::oneshot::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_after_poll_registered() {
    let (tx, mut rx) = parkway_channels::oneshot();
    let w = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &w), "nothing sent");
    tx.send(4u16).unwrap();
    assert_eq!(rx.try_recv(), Ok(4));
}

#[test]
#[should_panic(expected = "`oneshot::Receiver` polled after it completed")]
fn poll_after_completion_panics() {
    let (tx, mut rx) = parkway_channels::oneshot();
    assert!(!rx.is_terminated());
    tx.send(1u8).unwrap();
    let w = CountWaker::new();
    assert_eq!(expect_ready(poll_rx(&mut rx, &w), "sent"), Ok(1));
    assert!(rx.is_terminated(), "a spent receiver is terminated");
    let _ = poll_rx(&mut rx, &w);
}

#[test]
fn spent_receiver_recv_blocking_errs() {
    let (tx, mut rx) = parkway_channels::oneshot();
    tx.send(1u8).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.recv_blocking(), Err(RecvError));
}

// ---------------------------------------------------------------------------
// recv_blocking and go-check
// ---------------------------------------------------------------------------

#[test]
fn recv_blocking_across_threads() {
    let _wd = watchdog();
    let (tx, rx) = parkway_channels::oneshot();
    // The receiver is parked in recv_blocking before the send.
    let receiver = spawn_blocked(move || rx.recv_blocking());
    let sender = thread::spawn(move || tx.send(String::from("over")).unwrap());
    join(sender, "sender");
    assert_eq!(join(receiver, "blocked receiver").as_deref(), Ok("over"));
}

#[test]
fn recv_blocking_woken_by_sender_drop() {
    let _wd = watchdog();
    let (tx, rx) = parkway_channels::oneshot::<u8>();
    let receiver = spawn_blocked(move || rx.recv_blocking());
    drop(tx);
    assert_eq!(join(receiver, "blocked receiver"), Err(RecvError));
}

#[test]
fn recv_blocking_after_poll_replaces_the_task_waker() {
    let _wd = watchdog();
    let (tx, mut rx) = parkway_channels::oneshot();
    let w = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &w), "nothing sent");
    let receiver = spawn_blocked(move || rx.recv_blocking());
    tx.send(11u32).unwrap();
    assert_eq!(join(receiver, "blocked receiver"), Ok(11));
    assert_eq!(w.count(), 0, "the replaced task waker must not be woken");
}

#[test]
fn recv_blocking_on_go_worker_panics() {
    let (tx, rx) = parkway_channels::oneshot::<u8>();
    tx.send(1).unwrap(); // even with a value ready: the check comes first
    let _worker = enter_go_worker(GoCheck::Warn);
    let line = line!() + 1;
    let err = catch_unwind(AssertUnwindSafe(move || rx.recv_blocking())).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .expect("go-check panics with a String message");
    assert!(
        msg.contains("`recv_blocking` would block a go worker"),
        "unexpected message: {msg}"
    );
    // `#[track_caller]`: the report points at the caller, not at oneshot.rs.
    assert!(
        msg.contains(&format!("{}:{line}", file!())),
        "message should name the call site {}:{line}: {msg}",
        file!()
    );
}

#[test]
fn recv_blocking_on_go_worker_with_check_off_proceeds() {
    let (tx, rx) = parkway_channels::oneshot::<u8>();
    tx.send(2).unwrap();
    let _worker = enter_go_worker(GoCheck::Off);
    assert_eq!(rx.recv_blocking(), Ok(2));
}

// ---------------------------------------------------------------------------
// Waker replacement and budget
// ---------------------------------------------------------------------------

#[test]
fn waker_replacement_wakes_only_the_latest() {
    let (tx, mut rx) = parkway_channels::oneshot();
    let a = CountWaker::new();
    let b = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &a), "poll with A");
    assert_pending(poll_rx(&mut rx, &b), "poll with B");
    tx.send(1u8).unwrap();
    assert_eq!(b.count(), 1, "B, the latest waker, must be woken");
    assert_eq!(a.count(), 0, "A was replaced and must not be woken");
    assert_eq!(expect_ready(poll_rx(&mut rx, &b), "after send"), Ok(1));
}

#[test]
fn waker_replacement_then_sender_drop_wakes_latest() {
    let (tx, mut rx) = parkway_channels::oneshot::<u8>();
    let a = CountWaker::new();
    let b = CountWaker::new();
    assert_pending(poll_rx(&mut rx, &a), "poll with A");
    assert_pending(poll_rx(&mut rx, &b), "poll with B");
    drop(tx);
    assert_eq!((a.count(), b.count()), (0, 1));
}

/// A waker that panics when woken.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker panics on purpose");
    }
}

#[test]
fn panicking_waker_is_not_charged_to_the_sender() {
    let (tx, mut rx) = parkway_channels::oneshot();
    let waker = std::task::Waker::from(Arc::new(PanickingWaker));
    let mut cx = std::task::Context::from_waker(&waker);
    assert_pending(Pin::new(&mut rx).poll(&mut cx), "nothing sent");
    // The panic is caught and reported through go-check; the send succeeded.
    assert_eq!(tx.send(1u8), Ok(()));
    assert_eq!(rx.try_recv(), Ok(1));

    let (tx, mut rx) = parkway_channels::oneshot::<u8>();
    assert_pending(Pin::new(&mut rx).poll(&mut cx), "nothing sent");
    drop(tx); // must not panic either
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn spent_budget_yields_even_when_ready() {
    let (tx, mut rx) = parkway_channels::oneshot();
    tx.send(5u8).unwrap();
    let w = CountWaker::new();
    {
        let _budget = budget::enter(0);
        assert_pending(poll_rx(&mut rx, &w), "budget spent");
        assert_eq!(w.count(), 1, "a receiver out of budget wakes itself");
    }
    {
        let _budget = budget::enter(2);
        assert_eq!(expect_ready(poll_rx(&mut rx, &w), "budget left"), Ok(5));
        assert_eq!(budget::remaining(), Some(1), "one poll spends one unit");
    }
}

// ---------------------------------------------------------------------------
// Value drop accounting
// ---------------------------------------------------------------------------

#[test]
fn every_value_dropped_exactly_once_on_every_path() {
    let t = DropTracker::new();

    // Received (async, blocking, try_recv): the receiver's caller drops it.
    let (tx, rx) = parkway_channels::oneshot();
    tx.send(t.make(1)).unwrap();
    drop(block_on(rx).unwrap());
    let (tx, rx) = parkway_channels::oneshot();
    tx.send(t.make(2)).unwrap();
    drop(rx.recv_blocking().unwrap());
    let (tx, mut rx) = parkway_channels::oneshot();
    tx.send(t.make(3)).unwrap();
    drop(rx.try_recv().unwrap());
    drop(rx);

    // Sent, receiver dropped without receiving: the receiver drops it.
    let (tx, rx) = parkway_channels::oneshot();
    tx.send(t.make(4)).unwrap();
    assert_eq!(t.drops_of(4), 0);
    drop(rx);
    assert_eq!(
        t.drops_of(4),
        1,
        "dropping the receiver drops the sent value"
    );

    // Sent to a parked receiver, which is then dropped.
    let (tx, mut rx) = parkway_channels::oneshot();
    assert_pending(poll_rx(&mut rx, &CountWaker::new()), "nothing sent");
    tx.send(t.make(5)).unwrap();
    drop(rx);
    assert_eq!(t.drops_of(5), 1);

    // Receiver dropped first: the value comes back.
    let (tx, rx) = parkway_channels::oneshot();
    drop(rx);
    let back = tx.send(t.make(6)).unwrap_err();
    assert_eq!(back.id, 6);
    assert_eq!(
        t.drops_of(6),
        0,
        "a returned value is not dropped by the channel"
    );
    drop(back);

    // Closed first: the value comes back; the receiver later drops nothing.
    let (tx, mut rx) = parkway_channels::oneshot();
    rx.close();
    let back = tx.send(t.make(7)).unwrap_err();
    drop(rx);
    assert_eq!(t.drops_of(7), 0);
    drop(back);

    // Sent, then closed, then dropped: the receiver drops it.
    let (tx, mut rx) = parkway_channels::oneshot();
    tx.send(t.make(8)).unwrap();
    rx.close();
    drop(rx);
    assert_eq!(t.drops_of(8), 1);

    // Sent, receiver spent after a poll: dropping the spent receiver drops nothing more.
    let (tx, mut rx) = parkway_channels::oneshot();
    tx.send(t.make(9)).unwrap();
    let v = expect_ready(poll_rx(&mut rx, &CountWaker::new()), "sent").unwrap();
    drop(rx);
    assert_eq!(t.drops_of(9), 0);
    drop(v);

    // Sender dropped without sending: nothing to drop.
    let (tx, rx) = parkway_channels::oneshot::<util::DropCounter>();
    drop(tx);
    assert_eq!(block_on(rx), Err(RecvError));

    for id in 1..=9 {
        assert_eq!(
            t.drops_of(id),
            1,
            "value {id} dropped {} times",
            t.drops_of(id)
        );
    }
    t.assert_all_dropped();
}

// ---------------------------------------------------------------------------
// Traits
// ---------------------------------------------------------------------------

#[test]
fn handle_and_error_traits() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn error<E: std::error::Error + Clone + Copy + PartialEq + Eq + Send + Sync + 'static>() {}
    send_sync_unpin::<oneshot::Sender<std::cell::Cell<u8>>>(); // T: Send suffices
    send_sync_unpin::<oneshot::Receiver<std::cell::Cell<u8>>>();
    error::<RecvError>();
    error::<TryRecvError>();

    struct NotDebug;
    let (tx, rx) = parkway_channels::oneshot::<NotDebug>();
    assert!(format!("{tx:?}").contains("oneshot::Sender"));
    assert!(format!("{rx:?}").contains("EMPTY"));
    drop(rx);
    assert!(format!("{tx:?}").contains("CLOSED"));
    assert!(tx.send(NotDebug).is_err());

    assert!(!RecvError.to_string().is_empty());
    assert_ne!(
        TryRecvError::Empty.to_string(),
        TryRecvError::Closed.to_string()
    );
}

// ---------------------------------------------------------------------------
// Stress
// ---------------------------------------------------------------------------

const STRESS_N: usize = 100_000;

/// Keeps the two stress threads on the same one-shot, so each send races
/// its receive (instead of the sender running far ahead and every receive
/// finding its value already there): the receiver announces the index it
/// is about to receive, and the sender waits for that before sending.
#[derive(Default)]
struct Lockstep(AtomicUsize);

impl Lockstep {
    /// Receiver side: about to receive one-shot `i`.
    fn reached(&self, i: usize) {
        self.0.store(i + 1, Ordering::Release);
    }

    /// Sender side: waits until the receiver reached one-shot `i`.
    fn wait_for(&self, i: usize) {
        while self.0.load(Ordering::Acquire) <= i {
            thread::yield_now();
        }
    }
}

/// How the receiving thread takes value `i` (all three ways are exercised).
fn receive<T>(i: usize, mut rx: oneshot::Receiver<T>) -> Result<T, RecvError> {
    match i % 3 {
        0 => rx.recv_blocking(),
        1 => block_on(rx),
        _ => loop {
            match rx.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => thread::yield_now(),
            }
        },
    }
}

#[test]
fn stress_every_value_delivered() {
    let _wd = watchdog_for(std::time::Duration::from_secs(300));
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..STRESS_N).map(|_| parkway_channels::oneshot()).unzip();
    let step = Arc::new(Lockstep::default());
    let s = step.clone();
    let sender = thread::spawn(move || {
        for (i, tx) in txs.into_iter().enumerate() {
            s.wait_for(i);
            tx.send(i as u64).unwrap();
        }
    });
    let receiver = thread::spawn(move || {
        for (i, rx) in rxs.into_iter().enumerate() {
            step.reached(i);
            assert_eq!(receive(i, rx), Ok(i as u64), "value {i}");
        }
    });
    join(sender, "sender");
    join(receiver, "receiver");
}

/// What happens to one-shot `i` in the random-drop stress test.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    /// Sent and received.
    Deliver,
    /// The sender is dropped without sending.
    DropSender,
    /// The receiver is dropped (sometimes after registering a waker), racing
    /// the send.
    DropReceiver,
    /// The receiver closes, then receives, racing the send.
    CloseReceiver,
}

/// A fixed pseudo-random fate per index (splitmix64), so both threads agree
/// without talking.
fn fate(i: usize) -> Fate {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    match z % 8 {
        0 => Fate::DropSender,
        1 | 2 => Fate::DropReceiver,
        3 => Fate::CloseReceiver,
        _ => Fate::Deliver,
    }
}

#[test]
fn stress_random_drops_every_value_accounted_for() {
    let _wd = watchdog_for(std::time::Duration::from_secs(300));
    let tracker = DropTracker::new();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..STRESS_N).map(|_| parkway_channels::oneshot()).unzip();

    let step = Arc::new(Lockstep::default());
    let s = step.clone();
    let t = tracker.clone();
    let sender = thread::spawn(move || {
        // Some(true): sent; Some(false): handed back; None: not sent.
        let mut sent = Vec::with_capacity(STRESS_N);
        for (i, tx) in txs.into_iter().enumerate() {
            s.wait_for(i);
            if fate(i) == Fate::DropSender {
                drop(tx);
                sent.push(None);
                continue;
            }
            match tx.send(t.make(i as u64)) {
                Ok(()) => sent.push(Some(true)),
                Err(v) => {
                    assert_eq!(v.id, i as u64, "a failed send hands back its own value");
                    sent.push(Some(false));
                }
            }
        }
        sent
    });
    let receiver = thread::spawn(move || {
        // Some(id) received, None: nothing received.
        let mut got = Vec::with_capacity(STRESS_N);
        for (i, mut rx) in rxs.into_iter().enumerate() {
            step.reached(i);
            match fate(i) {
                Fate::DropReceiver => {
                    if i % 2 == 0 {
                        let _ = poll_rx(&mut rx, &CountWaker::new());
                    }
                    drop(rx);
                    got.push(None);
                }
                Fate::CloseReceiver => {
                    rx.close();
                    got.push(rx.recv_blocking().ok().map(|v| v.id));
                }
                Fate::Deliver | Fate::DropSender => {
                    got.push(receive(i, rx).ok().map(|v| v.id));
                }
            }
        }
        got
    });
    let sent = join(sender, "sender");
    let got = join(receiver, "receiver");

    for i in 0..STRESS_N {
        let (s, g) = (sent[i], got[i]);
        match fate(i) {
            Fate::Deliver => assert_eq!((s, g), (Some(true), Some(i as u64)), "one-shot {i}"),
            Fate::DropSender => assert_eq!((s, g), (None, None), "one-shot {i}"),
            Fate::DropReceiver => assert!(s.is_some() && g.is_none(), "one-shot {i}: {s:?} {g:?}"),
            Fate::CloseReceiver => match s {
                // Sent before the close: still received.
                Some(true) => assert_eq!(g, Some(i as u64), "one-shot {i}"),
                // Sent after: handed back, nothing received.
                _ => assert_eq!(g, None, "one-shot {i}"),
            },
        }
        if s.is_some() {
            assert_eq!(
                tracker.drops_of(i as u64),
                1,
                "value {i} must be dropped exactly once"
            );
        }
    }
    tracker.assert_all_dropped();
}
