//! Loom models of transform channels (`src/transform/`): a put's room check,
//! step and push under the transform lock, racing the receiver's lock-free
//! pops, `close`, and `Receiver::close`. Each model checks every value
//! arrives exactly once, in order, with the flush last and once.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p parkway-channels --test loom_transform`
//!
//! Each model prints how many schedules loom explored (from ~15 to ~2,000
//! at 2 preemptions, under a second in all; they also pass at 3), and the
//! models about a race assert that loom reached it. loom's DPOR prunes
//! more than a real machine would (see `tests/loom_ring.rs`), so the
//! integration tests in `tests/transform.rs` also pin each race down
//! deterministically.
#![cfg(loom)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use loom::future::block_on;
use loom::thread;
use parkway_channels::transform::{
    filter, flat_map, map, Buffer, Emit, Step, Transform, TransformError,
};
use parkway_channels::{with_transform, TryRecvError};

/// Passes values through; the flush emits `self.0`.
struct FlushWith(u32);

impl Transform<u32> for FlushWith {
    type Output = u32;

    fn step(&mut self, x: u32, out: &mut Emit<'_, u32>) -> Result<Step, TransformError> {
        out.emit(x);
        Ok(Step::Continue)
    }

    fn flush(&mut self, out: &mut Emit<'_, u32>) -> Result<(), TransformError> {
        out.emit(self.0);
        Ok(())
    }
}

/// Runs `f` under `loom::model`, prints how many schedules it explored,
/// and returns the outcomes `f` recorded with [`seen`] under `name` (the
/// models check that loom reached the races they are about).
fn model(name: &'static str, f: impl Fn() + Sync + Send + 'static) -> BTreeSet<&'static str> {
    let schedules = std::sync::Arc::new(AtomicUsize::new(0));
    let count = schedules.clone();
    loom::model(move || {
        count.fetch_add(1, Ordering::Relaxed);
        f();
    });
    let outcomes = OUTCOMES.lock().unwrap().remove(name).unwrap_or_default();
    eprintln!(
        "{name}: {} schedules, outcomes {outcomes:?}",
        schedules.load(Ordering::Relaxed)
    );
    outcomes
}

/// Outcomes per model (tests run in parallel).
static OUTCOMES: Mutex<BTreeMap<&'static str, BTreeSet<&'static str>>> =
    Mutex::new(BTreeMap::new());

/// Records that an execution of the model `name` ended in `outcome`.
fn seen(name: &'static str, outcome: &'static str) {
    OUTCOMES
        .lock()
        .unwrap()
        .entry(name)
        .or_default()
        .insert(outcome);
}

/// An async send waits for room while the receiver pops lock-free: the pop
/// must wake it (the room handshake), then dropping the sender flushes
/// after its value.
#[test]
fn async_send_waiting_for_room_vs_lock_free_pop_then_flush() {
    model("async_send_waiting_for_room", || {
        let (tx, rx) = with_transform(Buffer::Bounded(1), FlushWith(99));
        tx.try_send(0).unwrap();
        let t = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            // `tx` dropped: the last sender closes and flushes.
        });
        let got = block_on(async {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        t.join().unwrap();
        assert_eq!(got, [0, 1, 99]);
    });
}

/// Puts whose outputs overflow the buffer (queued behind it) while the
/// receiver pops lock-free and refills from the queue.
#[test]
fn batch_past_capacity_vs_lock_free_pops() {
    model("batch_past_capacity", || {
        let (tx, rx) = with_transform(Buffer::Bounded(1), flat_map(|x: u32| [x, x + 10]));
        let t = thread::spawn(move || {
            tx.send_blocking(1).unwrap();
            tx.send_blocking(2).unwrap();
        });
        let got: Vec<u32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
        t.join().unwrap();
        assert_eq!(got, [1, 11, 2, 12]);
    });
}

/// `close` races a sender waiting for room: the sender either is refused
/// (it came after the close) or delivers; the flush runs once, after it.
#[test]
fn close_vs_a_sender_waiting_for_room() {
    let outcomes = model("close_vs_waiting_sender", || {
        let (tx, rx) = with_transform(Buffer::Bounded(1), FlushWith(99));
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        let t = thread::spawn(move || tx2.send_blocking(1));
        tx.close();
        let got: Vec<u32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
        match t.join().unwrap() {
            // It can only have been counted as waiting before the close:
            // the flush waited for it.
            Ok(()) => {
                assert_eq!(got, [0, 1, 99]);
                seen("close_vs_waiting_sender", "waiting at close, delivered");
            }
            Err(e) => {
                assert_eq!(e.0, 1);
                assert_eq!(got, [0, 99]);
                seen("close_vs_waiting_sender", "refused");
            }
        }
    });
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
}

/// `Receiver::close` races a put: a put that reports `Ok` has its output
/// delivered before `None`; one refused gets its value back.
#[test]
fn receiver_close_vs_a_put() {
    // Set right after `Receiver::close` returns, read by the step: a plain
    // atomic, outside the model (loom runs one thread at a time and
    // switches only at its own operations), so it tells which came first.
    static CLOSED: AtomicBool = AtomicBool::new(false);
    let outcomes = model("receiver_close_vs_put", || {
        CLOSED.store(false, Ordering::SeqCst);
        let closed_in_step = std::sync::Arc::new(AtomicBool::new(false));
        let flag = closed_in_step.clone();
        let (tx, rx) = with_transform(
            Buffer::Bounded(1),
            map(move |x: u32| {
                flag.store(CLOSED.load(Ordering::SeqCst), Ordering::SeqCst);
                x + 1
            }),
        );
        let t = thread::spawn(move || tx.send_blocking(1).is_ok());
        rx.close();
        CLOSED.store(true, Ordering::SeqCst);
        let sent = t.join().unwrap();
        if sent {
            assert_eq!(rx.try_recv(), Ok(2), "an `Ok` put must be delivered");
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        let outcome = match (sent, closed_in_step.load(Ordering::SeqCst)) {
            (false, _) => "refused",
            (true, false) => "pushed before the close",
            (true, true) => "closed while the step ran",
        };
        seen("receiver_close_vs_put", outcome);
    });
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
}

/// Two senders wait behind a full buffer; the first one woken is filtered
/// out and must pass the room on, or the second waits forever.
#[test]
fn two_waiting_senders_with_a_filter_step() {
    model("two_waiting_senders_filter", || {
        let (tx, rx) = with_transform(Buffer::Bounded(1), filter(|x: &u32| x % 2 == 0));
        tx.try_send(0).unwrap();
        let (ta, tb) = (tx.clone(), tx.clone());
        drop(tx);
        let a = thread::spawn(move || ta.send_blocking(1).unwrap());
        let b = thread::spawn(move || tb.send_blocking(2).unwrap());
        assert_eq!(rx.recv_blocking(), Some(0));
        assert_eq!(rx.recv_blocking(), Some(2));
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(rx.recv_blocking(), None);
    });
}

/// The same behind a `close`: the flush waits for every sender that was
/// waiting, so the second one must be woken for the flush to run at all.
#[test]
fn close_with_two_waiting_senders_and_a_filter_step() {
    let outcomes = model("close_two_waiting_senders_filter", || {
        let xform = filter(|x: &u32| x % 2 == 0).then(FlushWith(99));
        let (tx, rx) = with_transform(Buffer::Bounded(1), xform);
        tx.try_send(0).unwrap();
        let (ta, tb) = (tx.clone(), tx.clone());
        let a = thread::spawn(move || ta.send_blocking(1).is_ok());
        let b = thread::spawn(move || tb.send_blocking(2).is_ok());
        tx.close();
        let got: Vec<u32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
        let (a_sent, b_sent) = (a.join().unwrap(), b.join().unwrap());
        let want: &[u32] = if b_sent { &[0, 2, 99] } else { &[0, 99] };
        assert_eq!(got, want);
        if a_sent && b_sent {
            seen("close_two_waiting_senders_filter", "both waited");
        }
    });
    assert!(outcomes.contains("both waited"), "{outcomes:?}");
}
