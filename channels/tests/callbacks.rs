//! Callback ops: `put` (core.async `put!`) and `take` (`take!`). The callback
//! runs inline when the op completes at once, otherwise when it later
//! completes; a panicking callback is caught.
//!
//! Follows core.async `src/test/clojure/clojure/core/async_test.clj`:
//! `test-<!!-and-put!`, `test->!!-and-take!`, `puts-fulfill-when-buffer-available`,
//! and the on-caller? cases of `take!-on-caller?` / `put!-on-caller?` (here a
//! callback that can complete at once always runs on the caller).

#[macro_use]
mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::task::Poll;
use std::thread;

use parkway_channels::{bounded, unbuffered, TryRecvError};
use util::{
    assert_pending, block_on, join, poll_with, recv_timeout, spawn_blocked, CountWaker, Slot,
};

/// Records every go-check report in this test process. Installed once; it
/// only records, so tests in this file that do not look at reports are
/// unaffected. Each panicking test uses a unique panic message.
fn install_reporter() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        parkway_go_check::set_reporter(|r: &parkway_go_check::Report| {
            reports().lock().unwrap_or_else(|e| e.into_inner()).push((
                r.kind,
                r.op,
                r.message.clone(),
            ));
        });
    });
}

type Recorded = (parkway_go_check::ReportKind, Option<&'static str>, String);

fn reports() -> &'static Mutex<Vec<Recorded>> {
    static REPORTS: std::sync::OnceLock<Mutex<Vec<Recorded>>> = std::sync::OnceLock::new();
    REPORTS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Waits (bounded) for a callback-panic report about `op` whose message
/// holds `needle`, and checks there is exactly one.
#[track_caller]
fn assert_reported(op: &str, needle: &str) {
    let matching = || {
        reports()
            .lock()
            .unwrap()
            .iter()
            .filter(|(kind, o, m)| {
                *kind == parkway_go_check::ReportKind::CallbackPanic
                    && *o == Some(op)
                    && m.contains(needle)
            })
            .count()
    };
    util::wait_until(
        &format!("a go-check report of the `{op}` callback panic `{needle}`"),
        || matching() > 0,
    );
    assert_eq!(
        matching(),
        1,
        "the `{op}` callback panic `{needle}` was reported more than once"
    );
}

// async_test.clj test-<!!-and-put!
#[test]
fn put_on_unbuffered_completes_when_a_reader_arrives() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered();
    let slot = Slot::new();
    tx.put("test-val", util::put_cb(&slot)).unwrap();
    assert!(
        !slot.is_set(),
        "the put callback ran before a reader consumed the value"
    );
    assert_eq!(rx.recv_blocking(), Some("test-val"));
    assert_matches!(slot.wait_take("put callback"), Ok(()));
    assert_eq!(slot.calls(), 1);
}

// async_test.clj test->!!-and-take!
#[test]
fn take_on_unbuffered_completes_when_a_writer_arrives() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered();
    let slot = Slot::new();
    rx.take(util::take_cb(&slot)).unwrap();
    assert!(
        !slot.is_set(),
        "the take callback ran before a writer provided a value"
    );
    tx.send_blocking("test-val").unwrap();
    assert_eq!(slot.wait_take("take callback"), Some("test-val"));
    assert_eq!(slot.calls(), 1);
}

// async_test.clj puts-fulfill-when-buffer-available
#[test]
fn put_on_full_buffer_fires_when_room_frees_and_keeps_order() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.send_blocking("full").unwrap();
    let slot = Slot::new();
    tx.put("enqueues", util::put_cb(&slot)).unwrap();
    assert!(!slot.is_set(), "put on a full channel completed at once");
    assert_eq!(rx.recv_blocking(), Some("full"));
    assert_matches!(slot.wait_take("put callback"), Ok(()));
    assert_eq!(rx.recv_blocking(), Some("enqueues"));
}

#[test]
fn pending_puts_deliver_in_order() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(2);
    let slots: Vec<_> = (0..10).map(|_| Slot::new()).collect();
    for (i, s) in slots.iter().enumerate() {
        tx.put(i, util::put_cb(s)).unwrap();
        assert_eq!(s.is_set(), i < 2, "put {i}: inline iff there was room");
    }
    let got: Vec<usize> = (0..10).map(|_| rx.recv_blocking().unwrap()).collect();
    assert_eq!(
        got,
        (0..10).collect::<Vec<_>>(),
        "pending puts delivered out of order"
    );
    for s in &slots {
        assert_matches!(s.wait_take("put callback"), Ok(()));
        assert_eq!(s.calls(), 1);
    }
}

// take!-on-caller?: "a value is ready to read: take!'s callback executes on the same thread".
#[test]
fn take_with_a_value_ready_runs_inline_on_the_caller() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(4).unwrap();
    let caller = thread::current().id();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = Arc::clone(&seen);
    rx.take(move |v| *seen2.lock().unwrap() = Some((v, thread::current().id())))
        .unwrap();
    let got = seen.lock().unwrap().take();
    assert_eq!(
        got,
        Some((Some(4), caller)),
        "take did not run its callback inline"
    );
}

// put!-on-caller?: "a reader can consume the value: put!'s callback executes on the same thread".
#[test]
fn put_with_room_runs_inline_on_the_caller() {
    let _watchdog = util::watchdog();
    let caller = thread::current().id();
    for (name, (tx, rx)) in [
        ("bounded(1)", bounded(1)),
        ("unbuffered+taker", unbuffered()),
    ] {
        let taken = Slot::new();
        if name.starts_with("unbuffered") {
            rx.take(util::take_cb(&taken)).unwrap();
        }
        let seen = Arc::new(Mutex::new(None));
        let seen2 = Arc::clone(&seen);
        tx.put(1u8, move |r| {
            *seen2.lock().unwrap() = Some((r.is_ok(), thread::current().id()))
        })
        .unwrap();
        let got = seen.lock().unwrap().take();
        assert_eq!(
            got,
            Some((true, caller)),
            "{name}: put did not run its callback inline"
        );
        if name.starts_with("unbuffered") {
            assert_eq!(taken.take(), Some(Some(1)));
        } else {
            assert_eq!(rx.try_recv().ok(), Some(1));
        }
    }
}

#[test]
fn take_on_empty_fires_when_a_value_is_sent_by_any_op() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u32>(2);
    let a = Slot::new();
    let b = Slot::new();
    let c = Slot::new();
    rx.take(util::take_cb(&a)).unwrap();
    rx.take(util::take_cb(&b)).unwrap();
    rx.take(util::take_cb(&c)).unwrap();
    assert!(!a.is_set() && !b.is_set() && !c.is_set());
    tx.try_send(1).unwrap();
    block_on(tx.send(2)).unwrap();
    let p = Slot::new();
    tx.put(3, util::put_cb(&p)).unwrap();
    assert_matches!(p.wait_take("put to a pending take"), Ok(()));
    // Pending takes are served in order.
    assert_eq!(a.wait_take("take a"), Some(1));
    assert_eq!(b.wait_take("take b"), Some(2));
    assert_eq!(c.wait_take("take c"), Some(3));
    assert_eq!(
        rx.len(),
        0,
        "a value sent to a pending take was also buffered"
    );
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn pending_take_and_parked_async_receiver_both_get_a_value() {
    let _watchdog = util::watchdog();
    // Not a fairness requirement across kinds, just that neither loses the value.
    let (tx, rx) = bounded::<u32>(1);
    let slot = Slot::new();
    rx.take(util::take_cb(&slot)).unwrap();
    let w = CountWaker::new();
    let mut r = Box::pin(rx.recv());
    assert_pending(poll_with(r.as_mut(), &w), "recv on empty");
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let from_take = slot.wait_take("take callback").unwrap();
    let from_future = match poll_with(r.as_mut(), &w) {
        Poll::Ready(v) => v.unwrap(),
        Poll::Pending => panic!("parked receiver pending with a value available"),
    };
    let mut got = vec![from_take, from_future];
    got.sort();
    assert_eq!(got, vec![1, 2]);
}

#[test]
fn take_callback_fires_from_another_thread_send() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let (done_tx, done_rx) = mpsc::channel();
    rx.take(move |v| done_tx.send(v).unwrap()).unwrap();
    let sender = thread::spawn(move || tx.send_blocking(77));
    assert_eq!(recv_timeout(&done_rx, "take callback"), Some(77));
    assert_matches!(join(sender, "sender"), Ok(()));
}

#[test]
fn put_callback_fires_when_a_blocked_receiver_takes() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let receiver = spawn_blocked(move || rx.recv_blocking());
    let slot = Slot::new();
    tx.put(5, util::put_cb(&slot)).unwrap();
    assert_eq!(join(receiver, "receiver"), Some(5));
    assert_matches!(slot.wait_take("put callback"), Ok(()));
}

#[test]
fn put_hands_value_to_pending_take_inline() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<String>();
    let took = Slot::new();
    rx.take(util::take_cb(&took)).unwrap();
    let put = Slot::new();
    tx.put("x".to_string(), util::put_cb(&put)).unwrap();
    assert!(
        put.is_set(),
        "put to a pending take did not complete inline"
    );
    assert!(
        took.is_set(),
        "the pending take did not run when a put met it"
    );
    assert_eq!(took.take(), Some(Some("x".to_string())));
    assert_matches!(put.take(), Some(Ok(())));
}

#[test]
fn panicking_take_callback_is_caught_and_the_channel_stays_usable() {
    let _watchdog = util::watchdog();
    install_reporter();
    let (tx, rx) = bounded::<u32>(1);
    rx.take(|_| panic!("take-cb-panic-1")).unwrap();
    // The sender completes the take; the callback's panic must not reach it.
    let r = catch_unwind(AssertUnwindSafe(|| tx.send_blocking(1)));
    match r {
        Ok(res) => assert!(res.is_ok(), "send to a pending take failed: {res:?}"),
        Err(_) => panic!("a take callback's panic propagated into send_blocking"),
    }
    // Still usable, from every op.
    tx.try_send(2).unwrap();
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_eq!(
        block_on(async {
            tx.send(3).await.unwrap();
            rx.recv().await
        }),
        Some(3)
    );
    let slot = Slot::new();
    rx.take(util::take_cb(&slot)).unwrap();
    tx.try_send(4).unwrap();
    assert_eq!(slot.wait_take("take after a panicking callback"), Some(4));
    assert_reported("take", "take-cb-panic-1");
}

#[test]
fn panicking_take_callback_from_another_thread_does_not_kill_the_sender() {
    let _watchdog = util::watchdog();
    install_reporter();
    let (tx, rx) = unbuffered::<u32>();
    rx.take(|_| panic!("take-cb-panic-2")).unwrap();
    let sender = thread::spawn(move || {
        let r = tx.send_blocking(1);
        (r.is_ok(), tx)
    });
    let (ok, tx) = join(sender, "sender with a panicking take callback");
    assert!(ok);
    let receiver = spawn_blocked(move || rx.recv_blocking());
    tx.send_blocking(2).unwrap();
    assert_eq!(join(receiver, "receiver"), Some(2));
    assert_reported("take", "take-cb-panic-2");
}

#[test]
fn panicking_put_callback_inline_is_caught() {
    let _watchdog = util::watchdog();
    install_reporter();
    let (tx, rx) = bounded::<u32>(2);
    let r = catch_unwind(AssertUnwindSafe(|| tx.put(1, |_| panic!("put-cb-panic-3"))));
    match r {
        Ok(res) => assert!(res.is_ok(), "put returned {res:?}"),
        Err(_) => panic!("an inline put callback's panic propagated out of put"),
    }
    assert_eq!(
        rx.try_recv().ok(),
        Some(1),
        "the value of a put whose callback panicked was lost"
    );
    tx.try_send(2).unwrap();
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_reported("put", "put-cb-panic-3");
}

#[test]
fn panicking_put_callback_completed_by_a_receiver_is_caught() {
    let _watchdog = util::watchdog();
    install_reporter();
    let (tx, rx) = bounded::<u32>(1);
    tx.try_send(0).unwrap();
    tx.put(1, |_| panic!("put-cb-panic-4")).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        (rx.recv_blocking(), rx.recv_blocking())
    }));
    match r {
        Ok(got) => assert_eq!(got, (Some(0), Some(1))),
        Err(_) => panic!("a put callback's panic propagated into recv_blocking"),
    }
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_reported("put", "put-cb-panic-4");
}

#[test]
fn panicking_inline_take_callback_is_caught() {
    let _watchdog = util::watchdog();
    install_reporter();
    let (tx, rx) = bounded::<u32>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| rx.take(|_| panic!("take-cb-panic-5"))));
    match r {
        Ok(res) => assert!(res.is_ok()),
        Err(_) => panic!("an inline take callback's panic propagated out of take"),
    }
    assert_eq!(
        rx.try_recv().ok(),
        Some(2),
        "the panicking take consumed more than one value"
    );
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_reported("take", "take-cb-panic-5");
}

#[test]
fn panicking_callbacks_at_close_are_caught() {
    let _watchdog = util::watchdog();
    install_reporter();
    let (tx, rx) = bounded::<u32>(1);
    rx.take(|_| panic!("take-cb-panic-6")).unwrap();
    let ok = Slot::new();
    rx.take(util::take_cb(&ok)).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| tx.close()));
    assert!(
        r.is_ok(),
        "a take callback's panic propagated out of close()"
    );
    assert_eq!(ok.wait_take("the second take callback at close"), None);

    let (tx, rx) = unbuffered::<u32>();
    tx.put(1, |_| panic!("put-cb-panic-7")).unwrap();
    let r = catch_unwind(AssertUnwindSafe(move || drop(rx)));
    assert!(
        r.is_ok(),
        "a put callback's panic propagated out of dropping the last receiver"
    );
    assert_matches!(
        tx.try_send(2),
        Err(parkway_channels::TrySendError::Closed(2))
    );
    assert_reported("take", "take-cb-panic-6");
    assert_reported("put", "put-cb-panic-7");
}

/// How a racing sender sends.
#[derive(Clone, Copy, Debug)]
enum SendOp {
    /// `try_send`, retrying while full.
    Offer,
    /// `put` with at most 32 callbacks in flight.
    Put,
    /// `send_blocking`.
    Blocking,
}

/// How a racing receiver receives.
#[derive(Clone, Copy, Debug)]
enum RecvOp {
    /// `take`, waiting for each callback before the next.
    Take,
    /// `recv_blocking`.
    Blocking,
    /// `try_recv`, retrying while empty.
    Poll,
}

/// Callback ops racing the other ops on one channel: every value must arrive
/// exactly once and every put callback must run with `Ok`.
fn race(cap: usize, senders: &[SendOp], receivers: &[RecvOp]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const PER_SENDER: u64 = 20_000;
    let (tx, rx) = bounded::<u64>(cap);
    let puts_ok = Arc::new(AtomicUsize::new(0));
    let mut puts = 0;
    let s_handles: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(s, &op)| {
            if let SendOp::Put = op {
                puts += PER_SENDER as usize;
            }
            let tx = tx.clone();
            let puts_ok = Arc::clone(&puts_ok);
            thread::spawn(move || {
                let in_flight = Arc::new(AtomicUsize::new(0));
                for i in 0..PER_SENDER {
                    let v = s as u64 * PER_SENDER + i;
                    match op {
                        SendOp::Offer => {
                            let mut v = v;
                            loop {
                                match tx.try_send(v) {
                                    Ok(()) => break,
                                    Err(parkway_channels::TrySendError::Full(back)) => {
                                        v = back;
                                        thread::yield_now();
                                    }
                                    Err(e) => panic!("{e:?}"),
                                }
                            }
                        }
                        SendOp::Put => {
                            while in_flight.load(Ordering::Acquire) >= 32 {
                                thread::yield_now();
                            }
                            in_flight.fetch_add(1, Ordering::AcqRel);
                            let puts_ok = Arc::clone(&puts_ok);
                            let in_flight = Arc::clone(&in_flight);
                            tx.put(v, move |r| {
                                if r.is_ok() {
                                    puts_ok.fetch_add(1, Ordering::AcqRel);
                                }
                                in_flight.fetch_sub(1, Ordering::AcqRel);
                            })
                            .unwrap();
                        }
                        SendOp::Blocking => tx.send_blocking(v).unwrap(),
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let r_handles: Vec<_> = receivers
        .iter()
        .map(|&op| {
            let rx = rx.clone();
            thread::spawn(move || {
                let (cb_tx, cb_rx) = mpsc::channel();
                let mut got = Vec::new();
                loop {
                    let v = match op {
                        RecvOp::Take => {
                            let cb_tx = cb_tx.clone();
                            rx.take(move |v| cb_tx.send(v).unwrap()).unwrap();
                            recv_timeout(&cb_rx, "a take callback")
                        }
                        RecvOp::Blocking => rx.recv_blocking(),
                        RecvOp::Poll => match rx.try_recv() {
                            Ok(v) => Some(v),
                            Err(TryRecvError::Empty) => {
                                thread::yield_now();
                                continue;
                            }
                            Err(TryRecvError::Closed) => None,
                        },
                    };
                    match v {
                        Some(v) => got.push(v),
                        None => return got,
                    }
                }
            })
        })
        .collect();
    drop(rx);
    for h in s_handles {
        join(h, "sender");
    }
    let mut all: Vec<u64> = r_handles
        .into_iter()
        .flat_map(|h| join(h, "receiver"))
        .collect();
    all.sort();
    let expected: Vec<u64> = (0..senders.len() as u64 * PER_SENDER).collect();
    if all != expected {
        let got: std::collections::HashSet<u64> = all.iter().copied().collect();
        let missing: Vec<u64> = expected
            .iter()
            .copied()
            .filter(|v| !got.contains(v))
            .take(10)
            .collect();
        panic!(
            "cap {cap}, senders {senders:?}, receivers {receivers:?}: received {} of {} values \
             (duplicates or losses); first missing: {missing:?} (sender = value / {PER_SENDER})",
            all.len(),
            expected.len()
        );
    }
    assert_eq!(
        puts_ok.load(Ordering::Acquire),
        puts,
        "put callbacks that ran Ok"
    );
}

#[test]
fn race_puts_vs_take_and_blocking_receiver_bounded_1() {
    let _watchdog = util::watchdog();
    race(
        1,
        &[SendOp::Put, SendOp::Put],
        &[RecvOp::Take, RecvOp::Blocking],
    );
}

#[test]
fn race_blocking_sends_vs_take_and_blocking_receiver_bounded_1() {
    let _watchdog = util::watchdog();
    race(
        1,
        &[SendOp::Blocking, SendOp::Blocking],
        &[RecvOp::Take, RecvOp::Blocking],
    );
}

#[test]
fn race_all_ops_bounded_1() {
    let _watchdog = util::watchdog();
    use RecvOp as R;
    use SendOp as S;
    race(
        1,
        &[S::Offer, S::Put, S::Blocking],
        &[R::Take, R::Blocking, R::Poll],
    );
}

#[test]
fn race_all_ops_bounded_4() {
    let _watchdog = util::watchdog();
    use RecvOp as R;
    use SendOp as S;
    race(
        4,
        &[S::Offer, S::Put, S::Blocking],
        &[R::Take, R::Blocking, R::Poll],
    );
}

#[test]
fn race_all_ops_unbuffered() {
    let _watchdog = util::watchdog();
    use RecvOp as R;
    use SendOp as S;
    race(
        0,
        &[S::Offer, S::Put, S::Blocking],
        &[R::Take, R::Blocking, R::Poll],
    );
}
