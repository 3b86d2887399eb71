//! Transform channels (`with_transform`), core.async's `(chan buf xform
//! ex-handler)`: the ready-made transforms, composition, early termination,
//! the flush on close, error handling, atomicity of a put's outputs under
//! concurrent senders, backpressure, close and cancellation.
//!
//! Follows core.async's semantics (`channels.clj`: a put is accepted when
//! the buffer is not `full?`, then `add!` runs the transducer and adds
//! every output; `close!` runs the completion arity; `handle` adds the
//! ex-handler's value or nothing).

#[macro_use]
mod util;

use std::collections::HashSet;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, Once};
use std::task::Poll;
use std::thread;

use parkway_channels::transform::{
    dedupe, filter, filter_map, flat_map, map, partition_all, take, take_while, try_map, Buffer,
    Emit, Step, Transform, TransformError,
};
use parkway_channels::{
    with_transform, with_transform_and_handler, Receiver, Select, SendError, TransformSender,
    TryRecvError, TrySendError,
};
use util::{
    assert_pending, block_on, expect_ready, join, poll_with, spawn_blocked, spawn_thread_future,
    CountWaker, DropTracker,
};

/// Receives until the channel is closed and drained, each wait bounded.
fn drain<U: Send + 'static>(rx: Receiver<U>) -> Vec<U> {
    join(
        thread::spawn(move || std::iter::from_fn(|| rx.recv_blocking()).collect()),
        "drain the receiver",
    )
}

/// Everything buffered now, without waiting.
fn take_now<U>(rx: &Receiver<U>) -> Vec<U> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// A transform that passes values through and counts its calls; its flush
/// emits `flush_value` and counts too.
struct Counted {
    steps: Arc<AtomicUsize>,
    flushes: Arc<AtomicUsize>,
    flush_value: Option<u64>,
}

impl Transform<u64> for Counted {
    type Output = u64;

    fn step(&mut self, x: u64, out: &mut Emit<'_, u64>) -> Result<Step, TransformError> {
        self.steps.fetch_add(1, Ordering::SeqCst);
        out.emit(x);
        Ok(Step::Continue)
    }

    fn flush(&mut self, out: &mut Emit<'_, u64>) -> Result<(), TransformError> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        if let Some(v) = self.flush_value {
            out.emit(v);
        }
        Ok(())
    }
}

fn counted(flush_value: Option<u64>) -> (Counted, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let steps = Arc::new(AtomicUsize::new(0));
    let flushes = Arc::new(AtomicUsize::new(0));
    (
        Counted {
            steps: steps.clone(),
            flushes: flushes.clone(),
            flush_value,
        },
        steps,
        flushes,
    )
}

// ---------------------------------------------------------------------------
// The ready-made transforms
// ---------------------------------------------------------------------------

#[test]
fn map_applies_to_every_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(4), map(|x: u32| format!("<{x}>")));
    for i in 0..3 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(drain(rx), ["<0>", "<1>", "<2>"]);
}

#[test]
fn filter_and_filter_map_keep_only_matches() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(16), filter(|x: &u32| x % 3 == 0));
    for i in 0..10 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(drain(rx), [0, 3, 6, 9]);

    let (tx, rx) = with_transform(
        Buffer::Bounded(16),
        filter_map(|s: &str| s.parse::<i32>().ok()),
    );
    for s in ["1", "x", "-2", "", "30"] {
        tx.send_blocking(s).unwrap();
    }
    drop(tx);
    assert_eq!(drain(rx), [1, -2, 30]);
}

#[test]
fn flat_map_emits_every_item_past_capacity() {
    let _watchdog = util::watchdog();
    // Five outputs of one put into a buffer of two: all are delivered, in
    // order, as core.async's fixed buffer takes every `add!`.
    let (tx, rx) = with_transform(Buffer::Bounded(2), flat_map(|n: u32| 0..n));
    tx.try_send(5).unwrap();
    tx.try_send(0).unwrap_err(); // over-full: no room for another put
    assert_eq!(take_now(&rx), [0, 1, 2, 3, 4]);
    tx.try_send(0).unwrap(); // emits nothing
    tx.try_send(2).unwrap();
    drop(tx);
    assert_eq!(drain(rx), [0, 1]);
}

#[test]
fn dedupe_and_take_while() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(16), dedupe());
    for x in [1, 1, 2, 3, 3, 3, 1, 1] {
        tx.send_blocking(x).unwrap();
    }
    drop(tx);
    assert_eq!(drain(rx), [1, 2, 3, 1]);

    let (tx, rx) = with_transform(Buffer::Bounded(16), take_while(|x: &u8| *x < 3));
    for x in 0..3 {
        tx.send_blocking(x).unwrap();
    }
    assert!(!tx.is_closed());
    tx.send_blocking(3).unwrap(); // accepted, dropped, and it ends the channel
    assert!(
        tx.is_closed(),
        "the value failing the predicate ends the channel"
    );
    assert_matches!(tx.send_blocking(1), Err(SendError(1)));
    assert_eq!(drain(rx), [0, 1, 2]);
}

#[test]
fn partition_all_flushes_the_last_batch_on_close() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(8), partition_all(3));
    for i in 1..=10 {
        tx.send_blocking(i).unwrap();
    }
    tx.close();
    assert_eq!(rx.recv_blocking(), Some(vec![1, 2, 3]));
    assert_eq!(rx.recv_blocking(), Some(vec![4, 5, 6]));
    assert_eq!(rx.recv_blocking(), Some(vec![7, 8, 9]));
    assert_eq!(rx.recv_blocking(), Some(vec![10]));
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn dropping_the_last_sender_flushes_too() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(8), partition_all(2));
    let tx2 = tx.clone();
    for i in 1..=3 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(vec![1, 2]));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "a sender is left");
    drop(tx2);
    assert_eq!(rx.try_recv(), Ok(vec![3]));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn flush_runs_exactly_once() {
    let _watchdog = util::watchdog();
    let (xf, steps, flushes) = counted(Some(99));
    let (tx, rx) = with_transform(Buffer::Bounded(4), xf);
    let tx2 = tx.clone();
    tx.send_blocking(1).unwrap();
    tx.close();
    tx2.close();
    drop(tx);
    drop(tx2);
    assert_eq!(flushes.load(Ordering::SeqCst), 1);
    assert_eq!(steps.load(Ordering::SeqCst), 1);
    assert_eq!(drain(rx), [1, 99]);
}

// ---------------------------------------------------------------------------
// Composition and early termination
// ---------------------------------------------------------------------------

#[test]
fn composition_applies_in_order() {
    let _watchdog = util::watchdog();
    let xform = map(|x: u32| x * 2)
        .then(filter(|x: &u32| x % 3 != 0))
        .then(partition_all(3));
    let (tx, rx) = with_transform(Buffer::Bounded(8), xform);
    for i in 1..=10 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    // 2 4 (6) 8 10 (12) 14 16 (18) 20
    assert_eq!(drain(rx), [vec![2, 4, 8], vec![10, 14, 16], vec![20]]);
}

#[test]
fn take_ends_the_channel_after_its_outputs() {
    let _watchdog = util::watchdog();
    let (xf, _steps, flushes) = counted(Some(0));
    let (tx, rx) = with_transform(Buffer::Bounded(8), take(3).then(xf));
    tx.send_blocking(1).unwrap();
    tx.send_blocking(2).unwrap();
    assert!(!tx.is_closed());
    tx.send_blocking(3).unwrap();
    assert!(tx.is_closed(), "the third value ends the channel");
    assert_matches!(tx.send_blocking(4), Err(SendError(4)));
    assert_matches!(tx.try_send(5), Err(TrySendError::Closed(5)));
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        1,
        "the flush runs on early termination"
    );
    // Receivers get what was produced, the flush's value, then `None`,
    // while a sender is still alive.
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_eq!(rx.recv_blocking(), Some(3));
    assert_eq!(rx.recv_blocking(), Some(0));
    assert_eq!(rx.recv_blocking(), None);
    drop(tx);
    assert_eq!(flushes.load(Ordering::SeqCst), 1, "and only once");
}

#[test]
fn done_inside_a_composition_drops_the_rest_and_flushes_downstream() {
    let _watchdog = util::watchdog();
    // flat_map makes [x, x+1, x+2]; take(4) stops in the middle of the
    // second put's outputs; partition_all's flush still sees everything.
    let xform = flat_map(|x: u32| [x, x + 1, x + 2])
        .then(take(4))
        .then(partition_all(3));
    let (tx, rx) = with_transform(Buffer::Bounded(8), xform);
    tx.send_blocking(10).unwrap();
    tx.send_blocking(20).unwrap();
    assert!(tx.is_closed());
    assert_eq!(drain(rx), [vec![10, 11, 12], vec![20]]);
}

#[test]
fn take_zero_closes_on_the_first_put() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(1), take(0));
    assert!(!tx.is_closed());
    tx.send_blocking(7).unwrap(); // accepted and dropped, as core.async's take 0
    assert!(tx.is_closed());
    assert_eq!(rx.recv_blocking(), None);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn error_handler_replaces_the_failed_value_and_the_run_goes_on() {
    let _watchdog = util::watchdog();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let (tx, rx) = with_transform_and_handler(
        Buffer::Bounded(8),
        try_map(|x: u32| {
            if x == 3 {
                Err(format!("bad {x}"))
            } else {
                Ok(Ok(x * 10))
            }
        }),
        move |e: TransformError| {
            assert!(!e.is_panic());
            seen2.lock().unwrap().push(e.to_string());
            Some(Err(e.to_string()))
        },
    );
    for i in 1..=5 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(
        drain(rx),
        [Ok(10), Ok(20), Err("bad 3".to_string()), Ok(40), Ok(50)]
    );
    assert_eq!(*seen.lock().unwrap(), ["bad 3"]);
}

#[test]
fn a_panicking_step_goes_to_the_handler_and_keeps_earlier_outputs() {
    let _watchdog = util::watchdog();
    let panics = Arc::new(AtomicUsize::new(0));
    let panics2 = panics.clone();
    // Emits x, then panics on 2 after emitting: the emitted value stays,
    // the handler's value follows it.
    struct EmitThenPanic;
    impl Transform<i32> for EmitThenPanic {
        type Output = i32;
        fn step(&mut self, x: i32, out: &mut Emit<'_, i32>) -> Result<Step, TransformError> {
            out.emit(x);
            if x == 2 {
                panic!("two");
            }
            Ok(Step::Continue)
        }
    }
    let (tx, rx) = with_transform_and_handler(Buffer::Bounded(8), EmitThenPanic, move |e| {
        assert!(e.is_panic());
        assert_eq!(e.panic_message(), Some("two"));
        panics2.fetch_add(1, Ordering::SeqCst);
        Some(-1)
    });
    for i in 1..=3 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(drain(rx), [1, 2, -1, 3]);
    assert_eq!(panics.load(Ordering::SeqCst), 1);
}

/// Reports whose message holds `marker`, collected by one process-wide
/// reporter (the hook is global; other tests here send no reports).
fn reports_with(marker: &str) -> Vec<String> {
    static INSTALL: Once = Once::new();
    static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    INSTALL.call_once(|| {
        parkway_go_check::set_reporter(|r| REPORTS.lock().unwrap().push(r.message.clone()));
    });
    REPORTS
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(marker))
        .cloned()
        .collect()
}

#[test]
fn without_a_handler_a_failed_value_is_dropped_and_reported() {
    let _watchdog = util::watchdog();
    let _ = reports_with(""); // install the reporter first
    let (tx, rx) = with_transform(
        Buffer::Bounded(8),
        try_map(|x: u32| {
            if x == 2 {
                Err("no-handler-marker: two")
            } else {
                Ok(x)
            }
        }),
    );
    for i in 1..=3 {
        tx.send_blocking(i).unwrap(); // the put itself succeeds
    }
    drop(tx);
    assert_eq!(drain(rx), [1, 3]);
    let reports = reports_with("no-handler-marker");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("error handler"), "{}", reports[0]);
}

#[test]
fn a_handler_returning_none_adds_nothing() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform_and_handler(
        Buffer::Bounded(8),
        try_map(|x: u32| if x % 2 == 0 { Err("even") } else { Ok(x) }),
        |_| None,
    );
    for i in 0..6 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(drain(rx), [1, 3, 5]);
}

#[test]
#[should_panic(expected = "needs a buffer")]
fn unbuffered_is_refused() {
    let _ = with_transform(Buffer::Bounded(0), map(|x: u8| x));
}

// ---------------------------------------------------------------------------
// Concurrency: every value once, per-sender order, no interleaving
// ---------------------------------------------------------------------------

const SENDERS: u64 = 4;
const PER_SENDER: u64 = 10_000;

#[test]
fn concurrent_senders_deliver_every_value_once_in_order() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(16), map(|v: u64| v + 1));
    let start = Arc::new(Barrier::new(SENDERS as usize));
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let tx = tx.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for i in 0..PER_SENDER {
                    tx.send_blocking((s << 32) | i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let got = drain(rx);
    for (s, h) in senders.into_iter().enumerate() {
        join(h, &format!("sender {s}"));
    }
    assert_eq!(got.len() as u64, SENDERS * PER_SENDER);
    let mut next = [0u64; SENDERS as usize];
    let mut seen = HashSet::new();
    for v in got {
        let v = v - 1;
        assert!(seen.insert(v), "{v:#x} delivered twice");
        let (s, i) = ((v >> 32) as usize, v & 0xffff_ffff);
        assert_eq!(i, next[s], "sender {s}: out of order");
        next[s] += 1;
    }
    assert!(next.iter().all(|&n| n == PER_SENDER));
}

#[test]
fn the_outputs_of_one_put_are_never_interleaved_with_another() {
    let _watchdog = util::watchdog();
    const N: u64 = 5_000;
    // Each put emits a run of three copies; with a buffer of 2 every run
    // overflows it, and four senders race for the room.
    let (tx, rx) = with_transform(Buffer::Bounded(2), flat_map(|v: u64| [v, v, v]));
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..N {
                    // Mix the three ways of putting.
                    let v = (s << 32) | i;
                    match i % 3 {
                        0 => tx.send_blocking(v).unwrap(),
                        1 => block_on(tx.send(v)).unwrap(),
                        _ => {
                            let mut v = v;
                            loop {
                                match tx.try_send(v) {
                                    Ok(()) => break,
                                    Err(TrySendError::Full(back)) => {
                                        v = back;
                                        thread::yield_now();
                                    }
                                    Err(TrySendError::Closed(_)) => panic!("closed"),
                                }
                            }
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let got = drain(rx);
    for h in senders {
        join(h, "sender");
    }
    assert_eq!(got.len() as u64, SENDERS * N * 3);
    let mut next = [0u64; SENDERS as usize];
    for run in got.chunks(3) {
        assert!(
            run[0] == run[1] && run[1] == run[2],
            "a put's outputs were interleaved: {run:x?}"
        );
        let (s, i) = ((run[0] >> 32) as usize, run[0] & 0xffff_ffff);
        assert_eq!(i, next[s], "sender {s}: out of order");
        next[s] += 1;
    }
}

// ---------------------------------------------------------------------------
// Backpressure
// ---------------------------------------------------------------------------

#[test]
fn a_send_waits_for_room_before_the_step_runs() {
    let _watchdog = util::watchdog();
    let (xf, steps, _) = counted(None);
    let (tx, rx) = with_transform(Buffer::Bounded(1), xf);
    let tx = Arc::new(tx);
    tx.send_blocking(1).unwrap();
    assert_matches!(tx.try_send(2), Err(TrySendError::Full(2)));
    let tx2 = tx.clone();
    let h = spawn_blocked(move || tx2.send_blocking(2));
    assert!(
        !h.is_finished(),
        "the send must wait while the buffer is full"
    );
    assert_eq!(
        steps.load(Ordering::SeqCst),
        1,
        "the step runs only once there is room"
    );
    assert_eq!(rx.recv_blocking(), Some(1));
    join(h, "the waiting sender").unwrap();
    assert_eq!(steps.load(Ordering::SeqCst), 2);
    assert_eq!(rx.recv_blocking(), Some(2));
}

#[test]
fn an_over_full_buffer_takes_no_put_until_below_capacity() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(2), flat_map(|v: u32| [v; 4]));
    tx.try_send(1).unwrap(); // four values in a buffer of two
    for taken in 0..2 {
        assert_matches!(
            tx.try_send(2),
            Err(TrySendError::Full(2)),
            "after {taken} taken"
        );
        assert_eq!(rx.try_recv(), Ok(1));
    }
    // Two left in a buffer of two: still full.
    assert_matches!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(2).unwrap();
    assert_eq!(take_now(&rx), [1, 2, 2, 2, 2]);
}

#[test]
fn dropping_and_sliding_buffers_apply_their_policy_to_each_output() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Dropping(2), flat_map(|n: u32| 0..n));
    tx.try_send(5).unwrap();
    tx.send_blocking(3).unwrap(); // never waits: the buffer is full, all dropped
    assert_eq!(take_now(&rx), [0, 1]);

    let (tx, rx) = with_transform(Buffer::Sliding(2), flat_map(|n: u32| 0..n));
    tx.try_send(5).unwrap();
    assert_eq!(take_now(&rx), [3, 4]);
    tx.try_send(1).unwrap();
    tx.try_send(3).unwrap();
    assert_eq!(take_now(&rx), [1, 2]);
    drop(tx);
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn discarded_and_leftover_values_are_dropped_once() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    {
        let t = tracker.clone();
        let (tx, rx) = with_transform(
            Buffer::Sliding(3),
            flat_map(move |n: u64| (0..n).map(|i| t.make(i)).collect::<Vec<_>>()),
        );
        tx.try_send(10).unwrap(); // seven evicted
        assert_eq!(tracker.alive(), 3);
        assert_eq!(rx.try_recv().map(|v| v.id), Ok(7));
        drop(tx);
        drop(rx); // two left in the buffer
    }
    tracker.assert_all_dropped();
}

// ---------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------

#[test]
fn a_send_after_close_hands_the_value_back() {
    let _watchdog = util::watchdog();
    let (xf, steps, _) = counted(None);
    let (tx, rx) = with_transform(Buffer::Bounded(4), xf);
    tx.close();
    assert!(tx.is_closed());
    assert_matches!(tx.send_blocking(1), Err(SendError(1)));
    assert_matches!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_matches!(block_on(tx.send(3)), Err(SendError(3)));
    assert_eq!(steps.load(Ordering::SeqCst), 0, "no step after close");
    assert_eq!(rx.recv_blocking(), None);
    assert!(rx.is_closed());
}

#[test]
fn a_sender_waiting_at_close_delivers_before_the_flush() {
    let _watchdog = util::watchdog();
    let (xf, _, flushes) = counted(Some(0));
    let (tx, rx) = with_transform(Buffer::Bounded(1), xf);
    let tx = Arc::new(tx);
    tx.send_blocking(1).unwrap();
    let tx2 = tx.clone();
    let h = spawn_blocked(move || tx2.send_blocking(2));
    assert!(!h.is_finished());
    tx.close();
    assert!(tx.is_closed());
    assert_matches!(
        tx.try_send(3),
        Err(TrySendError::Closed(3)),
        "new puts fail"
    );
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        0,
        "the flush waits for the waiting sender"
    );
    assert_eq!(rx.recv_blocking(), Some(1));
    join(h, "the waiting sender").unwrap();
    assert_eq!(flushes.load(Ordering::SeqCst), 1);
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_eq!(
        rx.recv_blocking(),
        Some(0),
        "the flush comes after every accepted put"
    );
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn dropping_every_receiver_fails_sends_without_running_the_step() {
    let _watchdog = util::watchdog();
    let (xf, steps, _) = counted(None);
    let (tx, rx) = with_transform(Buffer::Bounded(1), xf);
    tx.send_blocking(1).unwrap();
    let tx = Arc::new(tx);
    let tx2 = tx.clone();
    let h = spawn_blocked(move || tx2.send_blocking(2));
    drop(rx);
    assert_matches!(join(h, "the waiting sender"), Err(SendError(2)));
    assert_matches!(tx.send_blocking(3), Err(SendError(3)));
    assert!(tx.is_closed());
    assert_eq!(steps.load(Ordering::SeqCst), 1);
}

#[test]
fn closing_from_the_receiver_side_hands_waiting_values_back() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(1), map(|x: u8| x));
    tx.send_blocking(1).unwrap();
    let tx = Arc::new(tx);
    let tx2 = tx.clone();
    let h = spawn_blocked(move || tx2.send_blocking(2));
    rx.close();
    assert_matches!(join(h, "the waiting sender"), Err(SendError(2)));
    assert!(tx.is_closed());
    assert_eq!(
        rx.recv_blocking(),
        Some(1),
        "buffered values are still delivered"
    );
    assert_eq!(rx.recv_blocking(), None);
}

// ---------------------------------------------------------------------------
// Async and cancellation
// ---------------------------------------------------------------------------

#[test]
fn works_from_async_tasks() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(
        Buffer::Bounded(2),
        map(|x: u32| x * x).then(partition_all(4)),
    );
    let producer = spawn_thread_future(async move {
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
        // `tx` dropped here: the flush sends the last batch.
    });
    let got = block_on(async {
        let mut got = Vec::new();
        while let Some(batch) = rx.recv().await {
            got.push(batch);
        }
        got
    });
    join(producer, "the async producer");
    assert_eq!(got, [vec![0, 1, 4, 9], vec![16, 25, 36, 49], vec![64, 81]]);
}

#[test]
fn dropping_a_waiting_send_future_loses_no_produced_output() {
    let _watchdog = util::watchdog();
    let (xf, steps, _) = counted(None);
    let (tx, rx) = with_transform(Buffer::Bounded(1), flat_map(|x: u64| [x, x + 100]).then(xf));
    tx.try_send(1).unwrap(); // 1 and 101: over-full
    {
        let mut fut = pin!(tx.send(2));
        let w = CountWaker::new();
        assert_pending(poll_with(fut.as_mut(), &w), "a send into a full buffer");
        assert_eq!(
            steps.load(Ordering::SeqCst),
            2,
            "not transformed while waiting"
        );
    } // dropped while waiting: 2 is dropped untransformed
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(101));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "nothing from the dropped send"
    );
    tx.try_send(3).unwrap();
    drop(tx);
    assert_eq!(drain(rx), [3, 103]);
}

#[test]
fn a_woken_send_future_dropped_passes_the_wake_up_on() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(1), map(|x: u32| x));
    tx.try_send(0).unwrap();
    let (wa, wb) = (CountWaker::new(), CountWaker::new());
    let mut a = Box::pin(tx.send(1));
    let mut b = pin!(tx.send(2));
    assert_pending(poll_with(a.as_mut(), &wa), "send a");
    assert_pending(poll_with(b.as_mut(), &wb), "send b");
    assert_eq!(rx.try_recv(), Ok(0)); // room for one: wakes the first waiter
    assert!(wa.woken() && !wb.woken(), "one waiter is woken per slot");
    drop(a); // woken, never polled: must pass the room on
    assert!(wb.woken(), "the dropped future passed its wake-up on");
    expect_ready(poll_with(b.as_mut(), &wb), "send b").unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_dropped_waiting_future_no_longer_holds_back_the_flush() {
    let _watchdog = util::watchdog();
    let (xf, _, flushes) = counted(Some(0));
    let (tx, rx) = with_transform(Buffer::Bounded(1), xf);
    tx.try_send(1).unwrap();
    let mut fut = Box::pin(tx.send(2));
    assert_pending(
        poll_with(fut.as_mut(), &CountWaker::new()),
        "send into a full buffer",
    );
    tx.close();
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        0,
        "waits for the waiting sender"
    );
    drop(fut);
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        1,
        "the last waiting sender left"
    );
    assert_eq!(drain(rx), [1, 0]);
}

// ---------------------------------------------------------------------------
// The receiving side is a plain receiver
// ---------------------------------------------------------------------------

#[test]
fn the_receiver_takes_part_in_select() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(4), map(|x: u8| x as char));
    let (_other_tx, other_rx) = parkway_channels::bounded::<char>(1);
    let h = spawn_blocked(move || {
        let mut sel = Select::new();
        sel.recv(&other_rx, |_| None).recv(&rx, |v| v);
        sel.select_blocking()
    });
    tx.send_blocking(b'z').unwrap();
    assert_eq!(join(h, "the select"), Some('z'));
}

#[test]
fn handles_are_send_sync_and_debug() {
    fn send_sync<X: Send + Sync>() {}
    fn send<X: Send>() {}
    send_sync::<TransformSender<String, Vec<u8>>>();
    send::<parkway_channels::TransformSendFuture<'static, String, Vec<u8>>>();
    let (tx, _rx) = with_transform(Buffer::Bounded(1), map(|x: u8| x));
    let s = format!("{tx:?}");
    assert!(s.contains("TransformSender"), "{s}");
    assert!(format!("{:?}", tx.send(1)).contains("TransformSendFuture"));
    assert_eq!(tx.capacity(), Some(1));
    assert!(tx.same_channel(&tx.clone()));
}

#[test]
fn poll_after_waiting_completes_once_room_appears() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(1), map(|x: u8| x));
    tx.try_send(1).unwrap();
    let w = CountWaker::new();
    let mut fut = pin!(tx.send(2));
    assert_pending(poll_with(fut.as_mut(), &w), "full");
    assert_pending(poll_with(fut.as_mut(), &w), "still full");
    assert!(!w.woken());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(w.woken());
    assert_matches!(poll_with(fut.as_mut(), &w), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

// ---------------------------------------------------------------------------
// Review regressions: room passed on, late puts after a receiver-side
// close, closing despite panicking drops and leaked futures, `len`
// ---------------------------------------------------------------------------

/// Bounded(1) holding one value, two senders waiting for room. The pop
/// wakes the first; its step emits nothing, so the room is still there and
/// must go to the second, which nobody else will wake.
#[test]
fn a_woken_sender_whose_step_emits_nothing_passes_the_room_on() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(1), filter(|x: &u32| x % 2 == 0));
    tx.try_send(0).unwrap();
    let (wa, wb) = (CountWaker::new(), CountWaker::new());
    let mut a = pin!(tx.send(1)); // filtered out
    let mut b = pin!(tx.send(2));
    assert_pending(poll_with(a.as_mut(), &wa), "send 1");
    assert_pending(poll_with(b.as_mut(), &wb), "send 2");
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(wa.woken() && !wb.woken(), "one slot, one wake-up");
    expect_ready(poll_with(a.as_mut(), &wa), "send 1").unwrap();
    assert!(wb.woken(), "the room send 1 left unused went to send 2");
    expect_ready(poll_with(b.as_mut(), &wb), "send 2").unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

/// The same with a failing step whose handler adds nothing.
#[test]
fn a_woken_sender_whose_step_fails_passes_the_room_on() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform_and_handler(
        Buffer::Bounded(1),
        try_map(|x: u32| if x == 1 { Err("one") } else { Ok(x) }),
        |_| None,
    );
    tx.try_send(0).unwrap();
    let (wa, wb) = (CountWaker::new(), CountWaker::new());
    let mut a = pin!(tx.send(1));
    let mut b = pin!(tx.send(2));
    assert_pending(poll_with(a.as_mut(), &wa), "send 1");
    assert_pending(poll_with(b.as_mut(), &wb), "send 2");
    assert_eq!(rx.try_recv(), Ok(0));
    expect_ready(poll_with(a.as_mut(), &wa), "send 1").unwrap();
    assert!(wb.woken(), "the failed step left the room to send 2");
    expect_ready(poll_with(b.as_mut(), &wb), "send 2").unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

/// Two threads blocked behind a full buffer, the transform holding a
/// partial batch: each put completes a batch only every other time, so the
/// first woken sender adds nothing and the second must still get in.
#[test]
fn two_blocked_senders_behind_a_partial_batch_both_deliver() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Bounded(1), partition_all(2));
    tx.send_blocking(1).unwrap();
    tx.send_blocking(2).unwrap(); // [1, 2] fills the buffer
    let tx = Arc::new(tx);
    let (t1, t2) = (tx.clone(), tx.clone());
    let a = spawn_blocked(move || t1.send_blocking(3));
    let b = spawn_blocked(move || t2.send_blocking(4));
    assert!(!a.is_finished() && !b.is_finished());
    assert_eq!(rx.recv_blocking(), Some(vec![1, 2]));
    join(a, "sender of 3").unwrap();
    join(b, "sender of 4").unwrap();
    drop(tx);
    let mut batch = drain(rx).concat();
    batch.sort_unstable();
    assert_eq!(batch, [3, 4]);
}

/// `close` with two senders waiting: the flush waits for both, and the
/// second only gets in if the first, adding nothing, passes the room on.
#[test]
fn close_with_two_waiting_senders_flushes_after_both() {
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(
        Buffer::Bounded(1),
        filter(|x: &u64| *x != 1).then(counted(Some(99)).0),
    );
    tx.try_send(0).unwrap();
    let (wa, wb) = (CountWaker::new(), CountWaker::new());
    let mut a = pin!(tx.send(1)); // filtered out
    let mut b = pin!(tx.send(2));
    assert_pending(poll_with(a.as_mut(), &wa), "send 1");
    assert_pending(poll_with(b.as_mut(), &wb), "send 2");
    tx.close();
    assert_eq!(rx.try_recv(), Ok(0));
    expect_ready(poll_with(a.as_mut(), &wa), "send 1").unwrap();
    assert!(wb.woken(), "send 2 must be woken, or the flush never runs");
    expect_ready(poll_with(b.as_mut(), &wb), "send 2").unwrap();
    assert_eq!(take_now(&rx), [2, 99]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// A step that, for the value `gated` only, tells `in_step` it runs and
/// then waits for `go`.
fn gated_step(
    gated: u32,
    in_step: std::sync::mpsc::Sender<()>,
    go: std::sync::mpsc::Receiver<()>,
) -> impl FnMut(u32) -> u32 + Send + 'static {
    move |x| {
        if x == gated {
            in_step.send(()).unwrap();
            go.recv().unwrap();
        }
        x
    }
}

/// `Receiver::close` while a step runs: the put had room before the close,
/// so it completes like a sender parked at close on a plain channel: `Ok`,
/// and its output is delivered before `None`. A receive made inside the
/// window (after the close, before the push) sees the channel closed and
/// drained, as the module docs say.
#[test]
fn receiver_close_during_a_step_still_delivers_its_outputs() {
    let _watchdog = util::watchdog();
    let (in_step_tx, in_step) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel();
    let (tx, rx) = with_transform(Buffer::Bounded(4), map(gated_step(7, in_step_tx, go_rx)));
    tx.send_blocking(6).unwrap();
    let h = thread::spawn(move || tx.send_blocking(7));
    util::recv_timeout(&in_step, "the step to start");
    rx.close();
    assert_eq!(rx.try_recv(), Ok(6));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Closed),
        "the documented window: the step has not pushed yet"
    );
    go.send(()).unwrap();
    join(h, "the sender").expect("room was granted before the close");
    assert_eq!(rx.try_recv(), Ok(7), "an `Ok` put is delivered");
    assert_eq!(rx.recv_blocking(), None);
}

/// The same with more outputs than the buffer holds: all of them, in order.
#[test]
fn receiver_close_during_a_step_keeps_a_batch_past_capacity() {
    let _watchdog = util::watchdog();
    let (in_step_tx, in_step) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel();
    let mut gate = gated_step(10, in_step_tx, go_rx);
    let (tx, rx) = with_transform(
        Buffer::Bounded(2),
        flat_map(move |x: u32| {
            let x = gate(x);
            [x, x + 1, x + 2]
        }),
    );
    let h = thread::spawn(move || {
        let r = tx.send_blocking(10);
        (r, tx)
    });
    util::recv_timeout(&in_step, "the step to start");
    rx.close();
    go.send(()).unwrap();
    let (r, tx) = join(h, "the sender");
    r.unwrap();
    assert_eq!(take_now(&rx), [10, 11, 12]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    drop(tx);
}

/// Dropping and sliding buffers keep applying their policy to a late
/// put's outputs, and deliver what it keeps.
#[test]
fn receiver_close_during_a_step_applies_dropping_and_sliding_policies() {
    let _watchdog = util::watchdog();
    for (buffer, want) in [
        (Buffer::Dropping(2), vec![0, 10]),
        (Buffer::Sliding(2), vec![11, 12]),
    ] {
        let (in_step_tx, in_step) = std::sync::mpsc::channel();
        let (go, go_rx) = std::sync::mpsc::channel();
        let mut gate = gated_step(10, in_step_tx, go_rx);
        let (tx, rx) = with_transform(
            buffer,
            flat_map(move |x: u32| match gate(x) {
                0 => vec![0], // the value already buffered
                x => vec![x, x + 1, x + 2],
            }),
        );
        tx.send_blocking(0).unwrap();
        let h = thread::spawn(move || tx.send_blocking(10));
        util::recv_timeout(&in_step, "the step to start");
        rx.close();
        go.send(()).unwrap();
        join(h, "the sender").unwrap();
        assert_eq!(take_now(&rx), want, "{buffer:?}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "{buffer:?}");
    }
}

/// Every receiver gone while a step runs: nobody can get the outputs, so
/// they are dropped (once, and at once, while the channel lives on), as a
/// plain channel drops its buffered values.
#[test]
fn every_receiver_dropped_during_a_step_drops_its_outputs_once() {
    let _watchdog = util::watchdog();
    let drops = DropTracker::new();
    let (in_step_tx, in_step) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel();
    let mut gate = gated_step(1, in_step_tx, go_rx);
    let made = drops.clone();
    let (tx, rx) = with_transform(
        Buffer::Bounded(1),
        flat_map(move |x: u32| {
            let x = gate(x);
            [made.make(x.into()), made.make((x + 1).into())]
        }),
    );
    let tx = Arc::new(tx);
    let tx2 = tx.clone();
    let h = thread::spawn(move || tx2.send_blocking(1).is_ok());
    util::recv_timeout(&in_step, "the step to start");
    drop(rx);
    go.send(()).unwrap();
    assert!(join(h, "the sender"), "accepted before the disconnect");
    assert_eq!(drops.created(), 2);
    drops.assert_all_dropped();
    assert!(tx.is_empty());
}

/// A value's `Drop` that panics while the flush's discarded values are
/// dropped: the channel still closes, and the panic reaches the caller.
#[test]
fn a_panicking_drop_of_a_discarded_value_still_closes_the_channel() {
    struct Bomb(bool);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 && !thread::panicking() {
                panic!("bomb");
            }
        }
    }
    struct FlushesADud;
    impl Transform<bool> for FlushesADud {
        type Output = Bomb;
        fn step(&mut self, armed: bool, out: &mut Emit<'_, Bomb>) -> Result<Step, TransformError> {
            out.emit(Bomb(armed));
            Ok(Step::Continue)
        }
        fn flush(&mut self, out: &mut Emit<'_, Bomb>) -> Result<(), TransformError> {
            out.emit(Bomb(false)); // evicts the armed one
            Ok(())
        }
    }
    let _watchdog = util::watchdog();
    let (tx, rx) = with_transform(Buffer::Sliding(1), FlushesADud);
    tx.send_blocking(true).unwrap();
    let closing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.close()));
    assert!(
        closing.is_err(),
        "the evicted value's panic reaches `close`"
    );
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(rx.try_recv().map(|b| b.0), Ok(false));
    assert_eq!(
        rx.try_recv().map(|b| b.0),
        Err(TryRecvError::Closed),
        "the flush ran, so the channel is closed"
    );
}

/// A send future leaked while it waits for room can never be polled or
/// dropped again; the last sender going must still flush.
#[test]
fn a_leaked_waiting_send_future_does_not_skip_the_flush() {
    let _watchdog = util::watchdog();
    // [1, 1, 2] fills the buffer; the second 2 stays in the partial batch.
    let (tx, rx) = with_transform(
        Buffer::Bounded(1),
        flat_map(|x: u32| [x, x]).then(partition_all(3)),
    );
    tx.send_blocking(1).unwrap();
    tx.send_blocking(2).unwrap();
    let mut fut = Box::pin(tx.send(3));
    assert_pending(poll_with(fut.as_mut(), &CountWaker::new()), "send 3");
    std::mem::forget(fut);
    drop(tx);
    assert_eq!(drain(rx), [vec![1, 1, 2], vec![2]]);
}

/// `TransformSender::len` counts outputs queued past the capacity; the
/// plain `Receiver::len` counts the buffer only.
#[test]
fn len_counts_outputs_over_capacity() {
    let (tx, rx) = with_transform(Buffer::Bounded(1), flat_map(|x: u32| [x; 3]));
    assert!(tx.is_empty());
    tx.try_send(5).unwrap();
    assert_eq!((tx.len(), rx.len()), (3, 1));
    rx.close();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(
        tx.len(),
        2,
        "after close the queued values stay behind the buffer"
    );
    assert!(!tx.is_empty());
    assert_eq!(take_now(&rx), [5, 5]);
    assert!(tx.is_empty());
}
