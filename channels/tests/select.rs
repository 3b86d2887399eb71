//! `Select` (core.async `alts!` / `alts!!`) for ops known at run time: recv and
//! send ops over channels of different element types, `default`, `priority`,
//! uniform choice, closed channels, exactly-one commit, no garbage, blocking
//! and async waits, and cancellation.
//!
//! Follows core.async semantics of `alts!` (`:default`, `:priority`); the
//! "no garbage after many selects with default" check follows the issue.

#[macro_use]
mod util;

use std::task::Poll;
use std::thread;

use parkway_channels::{bounded, unbuffered, Select, SendError, TryRecvError, TrySendError};
use util::{
    assert_pending, block_on, join, poll_once, poll_with, spawn_blocked, spawn_thread_future,
    CountWaker, DropTracker,
};

#[derive(Debug, PartialEq)]
enum Got {
    Int(Option<i32>),
    Str(Option<String>),
    Sent(Result<(), i32>),
    Default,
}

fn sent(r: Result<(), SendError<i32>>) -> Got {
    Got::Sent(r.map_err(|SendError(v)| v))
}

#[test]
fn recv_over_different_types() {
    let _watchdog = util::watchdog();
    let (itx, irx) = bounded::<i32>(1);
    let (stx, srx) = bounded::<String>(1);
    stx.try_send("s".into()).unwrap();
    let mut sel = Select::new();
    sel.recv(&irx, Got::Int);
    sel.recv(&srx, Got::Str);
    assert_eq!(sel.select_blocking(), Got::Str(Some("s".into())));

    itx.try_send(3).unwrap();
    let mut sel = Select::new();
    sel.recv(&irx, Got::Int);
    sel.recv(&srx, Got::Str);
    assert_eq!(sel.select_blocking(), Got::Int(Some(3)));
    assert!(irx.is_empty() && srx.is_empty());
}

#[test]
fn default_when_nothing_is_ready() {
    let _watchdog = util::watchdog();
    let (_itx, irx) = bounded::<i32>(1);
    let (otx, _orx) = bounded::<i32>(1);
    otx.try_send(0).unwrap(); // full
    let mut slot = Some(5);
    let mut sel = Select::new();
    sel.recv(&irx, Got::Int);
    sel.send(&otx, &mut slot, sent);
    sel.default(|| Got::Default);
    assert_eq!(sel.select_blocking(), Got::Default);
    assert_eq!(slot, Some(5), "default ran but the send slot was emptied");
    assert_eq!(otx.len(), 1);
}

#[test]
fn default_is_not_chosen_when_an_op_is_ready() {
    let _watchdog = util::watchdog();
    for _ in 0..100 {
        let (tx, rx) = bounded::<i32>(1);
        tx.try_send(1).unwrap();
        let mut sel = Select::new();
        sel.recv(&rx, Got::Int);
        sel.default(|| Got::Default);
        assert_eq!(sel.select_blocking(), Got::Int(Some(1)));
    }
}

#[test]
fn send_and_recv_mixed() {
    let _watchdog = util::watchdog();
    let (itx, irx) = bounded::<i32>(1);
    let (otx, orx) = bounded::<i32>(1);
    let mut slot = Some(9);
    let mut sel = Select::new();
    sel.recv(&irx, Got::Int); // empty: not ready
    sel.send(&otx, &mut slot, sent); // room: ready
    assert_eq!(sel.select_blocking(), Got::Sent(Ok(())));
    assert_eq!(slot, None, "the sent value is still in its slot");
    assert_eq!(orx.try_recv().ok(), Some(9));
    drop(itx);
}

#[test]
fn priority_picks_the_first_ready_op_in_insertion_order() {
    let _watchdog = util::watchdog();
    let (atx, arx) = bounded::<i32>(1);
    let (btx, brx) = bounded::<i32>(1);
    let (ctx, crx) = bounded::<i32>(1);
    for round in 0..100 {
        // Keep all three ready.
        for tx in [&atx, &btx, &ctx] {
            let _ = tx.try_send(round);
        }
        let mut sel = Select::new();
        sel.priority();
        sel.recv(&arx, |v| ("a", v));
        sel.recv(&brx, |v| ("b", v));
        sel.recv(&crx, |v| ("c", v));
        assert_eq!(
            sel.select_blocking().0,
            "a",
            "round {round}: priority did not pick the first ready op"
        );
    }
    // With the first not ready, the second wins every time.
    while arx.try_recv().is_ok() {}
    for round in 0..100 {
        let _ = btx.try_send(round);
        let _ = ctx.try_send(round);
        let mut sel = Select::new();
        sel.priority();
        sel.recv(&arx, |v| ("a", v));
        sel.recv(&brx, |v| ("b", v));
        sel.recv(&crx, |v| ("c", v));
        assert_eq!(sel.select_blocking().0, "b", "round {round}");
    }
}

#[test]
fn priority_with_send_ops_first() {
    let _watchdog = util::watchdog();
    let (atx, arx) = bounded::<i32>(100);
    let (btx, brx) = bounded::<i32>(100);
    btx.try_send(0).unwrap();
    for round in 0..100 {
        let mut slot = Some(round);
        let mut sel = Select::new();
        sel.priority();
        sel.send(&atx, &mut slot, |r| r.is_ok());
        sel.recv(&brx, |_| false);
        assert!(
            sel.select_blocking(),
            "round {round}: priority skipped the first (send) op"
        );
        assert_eq!(slot, None);
        let _ = btx.try_send(round);
    }
    assert_eq!(arx.len(), 100);
}

#[test]
fn without_priority_choice_is_uniform() {
    let _watchdog = util::watchdog();
    let (atx, arx) = bounded::<u32>(1);
    let (btx, brx) = bounded::<u32>(1);
    let mut counts = [0usize; 2];
    for i in 0..2_000 {
        let _ = atx.try_send(i);
        let _ = btx.try_send(i);
        let mut sel = Select::new();
        sel.recv(&arx, |_| 0usize);
        sel.recv(&brx, |_| 1usize);
        counts[sel.select_blocking()] += 1;
    }
    assert!(
        counts[0] >= 700 && counts[1] >= 700,
        "2,000 selects over two ready ops chose them {counts:?} times (expected ~1,000 each)"
    );
}

#[test]
fn without_priority_choice_is_uniform_for_closed_channels_too() {
    let _watchdog = util::watchdog();
    // Two always-ready (closed) channels.
    let (_a_tx, arx) = bounded::<u32>(1);
    let (_b_tx, brx) = bounded::<u32>(1);
    arx.close();
    brx.close();
    let mut counts = [0usize; 2];
    for _ in 0..2_000 {
        let mut sel = Select::new();
        sel.recv(&arx, |v| {
            assert!(v.is_none());
            0usize
        });
        sel.recv(&brx, |v| {
            assert!(v.is_none());
            1usize
        });
        counts[sel.select_blocking()] += 1;
    }
    assert!(counts[0] >= 700 && counts[1] >= 700, "choices {counts:?}");
}

#[test]
fn closed_channel_is_ready() {
    let _watchdog = util::watchdog();
    let (itx, irx) = bounded::<i32>(1);
    let (_stx, srx) = bounded::<String>(1); // open and empty: never ready
    drop(itx);
    let mut sel = Select::new();
    sel.recv(&srx, Got::Str);
    sel.recv(&irx, Got::Int);
    assert_eq!(sel.select_blocking(), Got::Int(None));

    let (otx, orx) = bounded::<i32>(1);
    orx.close();
    let mut slot = Some(4);
    let mut sel = Select::new();
    sel.recv(&srx, Got::Str);
    sel.send(&otx, &mut slot, sent);
    assert_eq!(sel.select_blocking(), Got::Sent(Err(4)));
    assert_eq!(
        slot, None,
        "on a closed channel the value moves into the SendError"
    );
}

#[test]
fn closed_channel_is_ready_in_try_select_and_async_select() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<i32>();
    tx.close();
    let mut sel = Select::new();
    sel.recv(&rx, Got::Int);
    assert_eq!(sel.try_select().ok(), Some(Got::Int(None)));

    let mut slot = Some(1);
    let mut sel = Select::new();
    sel.send(&tx, &mut slot, sent);
    assert_eq!(block_on(sel.select()), Got::Sent(Err(1)));
}

#[test]
fn exactly_one_send_commits() {
    let _watchdog = util::watchdog();
    for round in 0..200 {
        let (atx, arx) = bounded::<i32>(1);
        let (btx, brx) = bounded::<i32>(1);
        let mut a = Some(1);
        let mut b = Some(2);
        let mut sel = Select::new();
        sel.send(&atx, &mut a, |r| (1, r.is_ok()));
        sel.send(&btx, &mut b, |r| (2, r.is_ok()));
        let Ok((which, ok)) = sel.try_select() else {
            panic!("two sends with room: one must be ready");
        };
        assert!(ok);
        assert_eq!(
            arx.len() + brx.len(),
            1,
            "round {round}: {} values sent",
            arx.len() + brx.len()
        );
        match which {
            1 => {
                assert_eq!(
                    (a, b),
                    (None, Some(2)),
                    "round {round}: the unsent value must stay in its slot"
                );
                assert_eq!(arx.try_recv().ok(), Some(1));
            }
            2 => {
                assert_eq!((a, b), (Some(1), None), "round {round}");
                assert_eq!(brx.try_recv().ok(), Some(2));
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn exactly_one_recv_commits() {
    let _watchdog = util::watchdog();
    for round in 0..200 {
        let (atx, arx) = bounded::<i32>(1);
        let (btx, brx) = bounded::<i32>(1);
        atx.try_send(1).unwrap();
        btx.try_send(2).unwrap();
        let mut sel = Select::new();
        sel.recv(&arx, |v| v);
        sel.recv(&brx, |v| v);
        let v = sel.select_blocking().unwrap();
        assert_eq!(arx.len() + brx.len(), 1, "round {round}: two values taken");
        let rest = if v == 1 {
            brx.try_recv()
        } else {
            arx.try_recv()
        };
        assert_eq!(rest.ok(), Some(3 - v), "round {round}");
    }
}

#[test]
fn unsent_values_are_handed_back_not_dropped() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (atx, arx) = bounded(1);
    let (btx, brx) = bounded(1);
    let mut a = Some(tracker.make(1));
    let mut b = Some(tracker.make(2));
    {
        let mut sel = Select::new();
        sel.send(&atx, &mut a, |r| r.is_ok());
        sel.send(&btx, &mut b, |r| r.is_ok());
        assert!(sel.select_blocking());
    }
    assert_eq!(tracker.dropped(), 0, "the select dropped a value");
    let left = a.or(b).expect("the unsent value was not handed back");
    let taken = arx.try_recv().or_else(|_| brx.try_recv()).unwrap();
    assert_ne!(left.id, taken.id);
    drop((left, taken, atx, arx, btx, brx));
    tracker.assert_all_dropped();
}

#[test]
fn try_select_without_default_gives_the_select_back() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    let mut sel = Select::new();
    sel.recv(&rx, Got::Int);
    let sel = match sel.try_select() {
        Ok(r) => panic!("try_select on an empty channel returned {r:?}"),
        Err(sel) => sel,
    };
    tx.try_send(6).unwrap();
    assert_eq!(sel.try_select().ok(), Some(Got::Int(Some(6))));
}

#[test]
fn try_select_with_default_runs_default() {
    let _watchdog = util::watchdog();
    let (_tx, rx) = bounded::<i32>(1);
    let mut sel = Select::new();
    sel.recv(&rx, Got::Int);
    sel.default(|| Got::Default);
    assert_eq!(sel.try_select().ok(), Some(Got::Default));
}

#[test]
fn many_selects_with_default_leave_no_garbage() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (etx, erx) = bounded::<i32>(1); // stays empty
    let (ftx, frx) = bounded(1); // stays full
    ftx.try_send(tracker.make(0)).unwrap();
    let (utx, urx) = unbuffered::<i32>(); // nobody on the other side
    let mut slot = Some(tracker.make(1));
    let mut uslot = Some(7);
    for i in 0..10_000 {
        let mut sel = Select::new();
        sel.recv(&erx, |_| 0);
        sel.send(&ftx, &mut slot, |_| 1);
        sel.recv(&urx, |_| 2);
        sel.send(&utx, &mut uslot, |_| 3);
        sel.default(|| 4);
        assert_eq!(sel.select_blocking(), 4, "iteration {i}");
    }
    assert_eq!(tracker.created(), 2);
    assert_eq!(tracker.dropped(), 0, "selects with default dropped a value");
    assert_eq!(slot.as_ref().map(|v| v.id), Some(1));
    assert_eq!(uslot, Some(7));
    assert_eq!(erx.len(), 0);
    assert_eq!(frx.len(), 1);
    // No stale registration swallows a value.
    etx.try_send(1).unwrap();
    assert_eq!(erx.try_recv().ok(), Some(1));
    assert_matches!(
        utx.try_send(8),
        Err(TrySendError::Full(8)),
        "a stale select registration took an offer"
    );
    assert_matches!(
        urx.try_recv(),
        Err(TryRecvError::Empty),
        "a stale select registration is offering a value"
    );
    assert_eq!(frx.try_recv().unwrap().id, 0);
    ftx.try_send(slot.take().unwrap()).unwrap();
    assert_eq!(frx.try_recv().unwrap().id, 1);
    drop((etx, erx, ftx, frx));
    tracker.assert_all_dropped();
}

#[test]
fn blocking_select_wakes_when_another_thread_sends() {
    let _watchdog = util::watchdog();
    for cap in [0usize, 1] {
        let (atx, arx) = bounded::<i32>(cap);
        let (btx, brx) = bounded::<String>(cap);
        let selector = spawn_blocked(move || {
            let mut sel = Select::new();
            sel.recv(&arx, Got::Int);
            sel.recv(&brx, Got::Str);
            let got = sel.select_blocking();
            (got, arx, brx)
        });
        assert!(
            !selector.is_finished(),
            "cap {cap}: select_blocking on empty channels returned"
        );
        btx.send_blocking("hi".into()).unwrap();
        let (got, arx, brx) = join(selector, "blocking select");
        assert_eq!(got, Got::Str(Some("hi".into())), "cap {cap}");
        // The other op left nothing behind.
        assert!(brx.is_empty());
        if cap == 0 {
            assert_matches!(
                atx.try_send(1),
                Err(TrySendError::Full(1)),
                "stale registration on the other channel"
            );
        } else {
            atx.try_send(1).unwrap();
            assert_eq!(
                arx.try_recv().ok(),
                Some(1),
                "a stale registration took the value"
            );
        }
    }
}

#[test]
fn blocking_select_send_on_unbuffered_completes_when_a_receiver_arrives() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<i32>();
    let (_tx2, rx2) = unbuffered::<i32>();
    let selector = spawn_blocked(move || {
        let mut slot = Some(7);
        let mut sel = Select::new();
        sel.send(&tx, &mut slot, sent);
        sel.recv(&rx2, Got::Int);
        let got = sel.select_blocking();
        (got, slot)
    });
    assert!(
        !selector.is_finished(),
        "select with an unbuffered send returned with no receiver"
    );
    assert_eq!(rx.recv_blocking(), Some(7));
    assert_eq!(join(selector, "blocking select"), (Got::Sent(Ok(())), None));
}

#[test]
fn blocking_select_wakes_on_close() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    let selector = spawn_blocked(move || {
        let mut sel = Select::new();
        sel.recv(&rx, Got::Int);
        sel.select_blocking()
    });
    tx.close();
    assert_eq!(join(selector, "blocking select"), Got::Int(None));
}

#[test]
fn async_select_parks_and_is_woken() {
    let _watchdog = util::watchdog();
    let (atx, arx) = bounded::<i32>(1);
    let (_btx, brx) = bounded::<String>(1);
    let w = CountWaker::new();
    let mut sel = Select::new();
    sel.recv(&arx, Got::Int);
    sel.recv(&brx, Got::Str);
    let mut fut = Box::pin(sel.select());
    assert_pending(
        poll_with(fut.as_mut(), &w),
        "async select on empty channels",
    );
    atx.try_send(5).unwrap();
    assert!(w.woken(), "the parked select was not woken");
    assert_eq!(poll_with(fut.as_mut(), &w), Poll::Ready(Got::Int(Some(5))));
}

#[test]
fn async_select_on_another_thread() {
    let _watchdog = util::watchdog();
    let (atx, arx) = unbuffered::<i32>();
    let (btx, brx) = unbuffered::<i32>();
    let h = spawn_thread_future(async move {
        let mut out = Vec::new();
        for _ in 0..100 {
            let mut sel = Select::new();
            sel.recv(&arx, |v| ("a", v));
            sel.recv(&brx, |v| ("b", v));
            out.push(sel.select().await);
        }
        out
    });
    for i in 0..50 {
        atx.send_blocking(i).unwrap();
        btx.send_blocking(100 + i).unwrap();
    }
    let out = join(h, "async select loop");
    let a: Vec<_> = out
        .iter()
        .filter(|(c, _)| *c == "a")
        .map(|(_, v)| v.unwrap())
        .collect();
    let b: Vec<_> = out
        .iter()
        .filter(|(c, _)| *c == "b")
        .map(|(_, v)| v.unwrap())
        .collect();
    assert_eq!(a, (0..50).collect::<Vec<_>>());
    assert_eq!(b, (100..150).collect::<Vec<_>>());
}

#[test]
fn dropped_async_select_leaves_no_registration() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<i32>();
    let (btx, brx) = bounded::<i32>(1);
    btx.try_send(0).unwrap(); // full
    let mut slot = Some(3);
    {
        let mut sel = Select::new();
        sel.recv(&rx, Got::Int);
        sel.send(&btx, &mut slot, sent);
        let mut fut = Box::pin(sel.select());
        assert_pending(
            poll_once(&mut fut.as_mut()),
            "select on empty/full channels",
        );
    }
    assert_eq!(
        slot,
        Some(3),
        "a dropped select must leave its unsent value in the slot"
    );
    assert_eq!(brx.len(), 1);
    // The unbuffered channel has no ghost receiver: an offer fails, and a
    // parked sender's value goes to the next real receiver.
    assert_matches!(tx.try_send(1), Err(TrySendError::Full(1)));
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &w), "unbuffered send");
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(poll_with(s.as_mut(), &w), Poll::Ready(Ok(())));
    // The full channel has no ghost sender: after a recv there is room and
    // nothing else arrives.
    assert_eq!(brx.try_recv().ok(), Some(0));
    assert_matches!(brx.try_recv(), Err(TryRecvError::Empty));
    btx.try_send(4).unwrap();
    assert_eq!(brx.try_recv().ok(), Some(4));
}

#[test]
fn dropped_async_select_with_tracked_value() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = unbuffered();
    let mut slot = Some(tracker.make(1));
    {
        let mut sel = Select::new();
        sel.send(&tx, &mut slot, |r| r.is_ok());
        let mut fut = Box::pin(sel.select());
        assert_pending(poll_once(&mut fut.as_mut()), "select send on unbuffered");
    }
    assert_eq!(
        tracker.dropped(),
        0,
        "dropping a parked select dropped the unsent value"
    );
    assert_eq!(
        slot.as_ref().map(|v| v.id),
        Some(1),
        "the unsent value was not left in its slot"
    );
    assert_matches!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "a dropped select still offers its value"
    );
    drop(slot);
    drop((tx, rx));
    tracker.assert_all_dropped();
}

#[test]
#[should_panic]
fn select_blocking_with_no_ops_and_no_default_panics() {
    let _watchdog = util::watchdog();
    let sel: Select<'_, ()> = Select::new();
    sel.select_blocking();
}

#[test]
#[should_panic]
fn async_select_with_no_ops_and_no_default_panics() {
    let _watchdog = util::watchdog();
    let sel: Select<'_, ()> = Select::new();
    let mut fut = Box::pin(sel.select());
    let _ = poll_once(&mut fut.as_mut());
}

#[test]
#[should_panic]
fn send_op_with_an_empty_slot_panics() {
    let _watchdog = util::watchdog();
    let (tx, _rx) = bounded::<i32>(1);
    let mut slot = None;
    let mut sel = Select::new();
    sel.send(&tx, &mut slot, |_| ());
    sel.select_blocking();
}

#[test]
fn select_only_default() {
    let _watchdog = util::watchdog();
    let mut sel: Select<'_, u8> = Select::new();
    sel.default(|| 3);
    assert_eq!(sel.select_blocking(), 3);
}

#[test]
fn concurrent_selectors_and_senders_exactly_once() {
    let _watchdog = util::watchdog();
    // Four threads select over two unbuffered channels; two threads send.
    let (atx, arx) = unbuffered::<u64>();
    let (btx, brx) = unbuffered::<u64>();
    const PER: u64 = 2_000;
    let selectors: Vec<_> = (0..4)
        .map(|_| {
            let (arx, brx) = (arx.clone(), brx.clone());
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let mut sel = Select::new();
                    sel.recv(&arx, |v| v);
                    sel.recv(&brx, |v| v);
                    match sel.select_blocking() {
                        Some(v) => got.push(v),
                        // One closed: drain the other with plain recv.
                        None => {
                            while let Some(v) = arx.recv_blocking() {
                                got.push(v);
                            }
                            while let Some(v) = brx.recv_blocking() {
                                got.push(v);
                            }
                            return got;
                        }
                    }
                }
            })
        })
        .collect();
    drop((arx, brx));
    let sa = thread::spawn(move || (0..PER).for_each(|i| atx.send_blocking(i).unwrap()));
    let sb = thread::spawn(move || (0..PER).for_each(|i| btx.send_blocking(PER + i).unwrap()));
    join(sa, "sender a");
    join(sb, "sender b");
    let mut all: Vec<u64> = selectors
        .into_iter()
        .flat_map(|h| join(h, "selector"))
        .collect();
    all.sort();
    assert_eq!(all, (0..2 * PER).collect::<Vec<_>>());
}

#[test]
fn parked_select_send_completes_when_its_channel_closes() {
    let _watchdog = util::watchdog();
    // The select waits for room in a full channel (and on an empty one).
    // Closing the full channel makes its send branch ready ("a closed
    // channel is ready"): the select is woken at once and completes with
    // Err(SendError(v)), the value handed back, without anyone draining the
    // buffer. The buffered value is still delivered.
    for close_from_receiver in [false, true] {
        let (tx, rx) = bounded::<i32>(1);
        let (_etx, erx) = bounded::<i32>(1);
        tx.try_send(0).unwrap();
        let w = CountWaker::new();
        let mut slot = Some(5);
        let got = {
            let mut sel = Select::new();
            sel.send(&tx, &mut slot, sent);
            sel.recv(&erx, Got::Int);
            let mut fut = Box::pin(sel.select());
            assert_pending(poll_with(fut.as_mut(), &w), "select send on a full channel");
            if close_from_receiver {
                rx.close();
            } else {
                tx.close();
            }
            assert!(
                w.woken(),
                "closing the channel did not wake the select parked on its send"
            );
            match poll_with(fut.as_mut(), &w) {
                Poll::Ready(r) => r,
                Poll::Pending => panic!("select still parked on a send to a closed channel"),
            }
        };
        assert_eq!(got, Got::Sent(Err(5)));
        assert_eq!(slot, None, "the value moves into the SendError");
        assert_eq!(rx.recv_blocking(), Some(0));
        assert_eq!(rx.recv_blocking(), None);
    }
}

#[test]
fn parked_select_send_fails_when_every_receiver_is_dropped() {
    let _watchdog = util::watchdog();
    for cap in [0usize, 1] {
        let (tx, rx) = bounded::<i32>(cap);
        let (_etx, erx) = bounded::<i32>(1);
        if cap == 1 {
            tx.try_send(0).unwrap();
        }
        let w = CountWaker::new();
        let mut slot = Some(6);
        let got = {
            let mut sel = Select::new();
            sel.send(&tx, &mut slot, sent);
            sel.recv(&erx, Got::Int);
            let mut fut = Box::pin(sel.select());
            assert_pending(poll_with(fut.as_mut(), &w), "select send with no room");
            drop(rx);
            assert!(
                w.woken(),
                "cap {cap}: dropping every receiver did not wake the parked select"
            );
            match poll_with(fut.as_mut(), &w) {
                Poll::Ready(r) => r,
                Poll::Pending => panic!("cap {cap}: select still parked with every receiver gone"),
            }
        };
        assert_eq!(got, Got::Sent(Err(6)), "cap {cap}");
        assert_eq!(slot, None);
    }
}

#[test]
fn parked_select_recv_gets_none_when_every_sender_is_dropped() {
    let _watchdog = util::watchdog();
    for cap in [0usize, 1] {
        let (tx, rx) = bounded::<i32>(cap);
        let (_otx, orx) = bounded::<String>(1);
        let w = CountWaker::new();
        let mut sel = Select::new();
        sel.recv(&rx, Got::Int);
        sel.recv(&orx, Got::Str);
        let mut fut = Box::pin(sel.select());
        assert_pending(poll_with(fut.as_mut(), &w), "select on empty channels");
        drop(tx);
        assert!(
            w.woken(),
            "cap {cap}: the last sender's drop did not wake the parked select"
        );
        assert_eq!(
            poll_with(fut.as_mut(), &w),
            Poll::Ready(Got::Int(None)),
            "cap {cap}"
        );
    }
}

#[test]
fn blocking_select_send_wakes_when_its_channel_closes() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    tx.try_send(0).unwrap();
    let (_etx, erx) = bounded::<i32>(1);
    let tx2 = tx.clone();
    let selector = spawn_blocked(move || {
        let mut slot = Some(9);
        let mut sel = Select::new();
        sel.send(&tx2, &mut slot, sent);
        sel.recv(&erx, Got::Int);
        (sel.select_blocking(), slot)
    });
    assert!(
        !selector.is_finished(),
        "select_blocking with a send on a full channel returned"
    );
    tx.close();
    // Nobody drains the buffer: the close alone must end the select.
    let (got, slot) = join(selector, "blocking select with a send on a closed channel");
    assert_eq!(got, Got::Sent(Err(9)));
    assert_eq!(slot, None);
    assert_eq!(rx.recv_blocking(), Some(0));
    assert_eq!(rx.recv_blocking(), None);
}
