//! Close semantics: close from either side, last `Sender` dropped, every
//! `Receiver` dropped; what buffered values, parked senders, parked receivers
//! and pending callbacks see.
//!
//! Follows core.async semantics (`close!`: pending puts still complete, buffered
//! values are still taken, then takes return nil); `async_test.clj`
//! `test-promise-chan` covers the promise flavour (see promise.rs).

#[macro_use]
mod util;

use std::task::Poll;

use parkway_channels::{bounded, unbuffered, SendError, TryRecvError, TrySendError};
use util::{
    assert_pending, block_on, join, poll_with, spawn_blocked, CountWaker, DropTracker, Slot,
};

#[test]
fn close_from_sender_side() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(1);
    tx.close();
    assert!(tx.is_closed());
    assert!(rx.is_closed());
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn close_from_receiver_side() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(1);
    rx.close();
    assert!(tx.is_closed());
    assert!(rx.is_closed());
    assert_matches!(tx.send_blocking(1), Err(SendError(1)));
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn close_is_idempotent() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(2);
    tx.try_send(1).unwrap();
    tx.close();
    rx.close();
    tx.close();
    assert!(rx.is_closed());
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn dropping_the_last_sender_closes() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(2);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "closed although a Sender clone is alive");
    tx2.try_send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed(), "not closed after the last Sender dropped");
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_eq!(rx.recv_blocking(), None);
    assert_matches!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn dropping_every_receiver_fails_sends_with_the_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<String>(4);
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed(), "closed although a Receiver clone is alive");
    tx.try_send("kept".into()).unwrap();
    drop(rx2);
    assert!(tx.is_closed(), "is_closed() false with every Receiver gone");
    match tx.try_send("a".into()) {
        Err(TrySendError::Closed(v)) => assert_eq!(v, "a"),
        other => panic!("expected Closed(\"a\"), got {other:?}"),
    }
    match tx.send_blocking("b".into()) {
        Err(SendError(v)) => assert_eq!(v, "b"),
        other => panic!("expected Err(SendError(\"b\")), got {other:?}"),
    }
    match block_on(tx.send("c".into())) {
        Err(SendError(v)) => assert_eq!(v, "c"),
        other => panic!("expected Err(SendError(\"c\")), got {other:?}"),
    }
    let slot = Slot::new();
    tx.put("d".to_string(), util::put_cb(&slot)).unwrap();
    match slot.wait_take("put callback on a receiver-less channel") {
        Err(SendError(v)) => assert_eq!(v, "d"),
        other => panic!("expected Err(SendError(\"d\")), got {other:?}"),
    }
}

#[test]
fn buffered_values_are_delivered_after_close_then_none() {
    let _watchdog = util::watchdog();
    for close_from_receiver in [false, true] {
        let (tx, rx) = bounded(4);
        for i in 0..3 {
            tx.send_blocking(i).unwrap();
        }
        if close_from_receiver {
            rx.close();
        } else {
            tx.close();
        }
        assert_eq!(rx.len(), 3);
        assert_eq!(rx.recv_blocking(), Some(0));
        assert_eq!(rx.try_recv().ok(), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(rx.recv_blocking(), None);
        assert_eq!(block_on(rx.recv()), None);
        assert_matches!(rx.try_recv(), Err(TryRecvError::Closed));
    }
}

#[test]
fn send_begun_after_close_fails_with_the_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u32>(8);
    tx.close();
    assert_matches!(tx.send_blocking(1), Err(SendError(1)));
    assert_matches!(block_on(tx.send(2)), Err(SendError(2)));
    assert_matches!(tx.try_send(3), Err(TrySendError::Closed(3)));
    let slot = Slot::new();
    tx.put(4, util::put_cb(&slot)).unwrap();
    assert_matches!(
        slot.wait_take("put callback after close"),
        Err(SendError(4))
    );
    assert_eq!(rx.len(), 0, "a send after close was buffered");
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn parked_async_sender_at_close_still_delivers_bounded() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &w), "send on full");
    tx.close();
    // Close alone does not fail the parked send.
    if let Poll::Ready(r) = poll_with(s.as_mut(), &w) {
        panic!("parked send completed at close with {r:?}; it must wait for a taker");
    }
    assert_eq!(rx.recv_blocking(), Some(1));
    // Either the parked value moved into the freed slot (the send completes
    // now) or it stays with the parked sender until a receiver takes it (the
    // send completes then). Both deliver 1, 2, then None.
    match poll_with(s.as_mut(), &w) {
        Poll::Ready(r) => {
            assert!(r.is_ok(), "parked send failed after close: {r:?}");
            assert_eq!(rx.recv_blocking(), Some(2));
        }
        Poll::Pending => {
            assert_eq!(
                rx.recv_blocking(),
                Some(2),
                "the parked sender's value was lost at close"
            );
            assert!(
                w.woken(),
                "parked sender not woken when its value was taken"
            );
            assert_matches!(poll_with(s.as_mut(), &w), Poll::Ready(Ok(())));
        }
    }
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn parked_async_sender_at_close_still_delivers_to_async_receiver_bounded() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let ws = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &ws), "send on full");
    rx.close();
    let wr = CountWaker::new();
    let mut got = Vec::new();
    let mut sent = None;
    // Drive both sides by hand until the receiver sees None.
    for _ in 0..10 {
        if sent.is_none() {
            if let Poll::Ready(r) = poll_with(s.as_mut(), &ws) {
                sent = Some(r.is_ok());
            }
        }
        let mut r = Box::pin(rx.recv());
        match poll_with(r.as_mut(), &wr) {
            Poll::Ready(Some(v)) => got.push(v),
            Poll::Ready(None) => break,
            Poll::Pending => {}
        }
    }
    assert_eq!(got, vec![1, 2], "values delivered after close");
    if sent.is_none() {
        sent = match poll_with(s.as_mut(), &ws) {
            Poll::Ready(r) => Some(r.is_ok()),
            Poll::Pending => None,
        };
    }
    assert_eq!(sent, Some(true), "the parked send did not complete Ok");
}

#[test]
fn parked_async_sender_at_close_still_delivers_unbuffered() {
    let _watchdog = util::watchdog();
    for close_from_receiver in [false, true] {
        let (tx, rx) = unbuffered();
        let w = CountWaker::new();
        let mut s = Box::pin(tx.send(7));
        assert_pending(poll_with(s.as_mut(), &w), "unbuffered send");
        if close_from_receiver {
            rx.close();
        } else {
            tx.close();
        }
        assert_eq!(
            rx.recv_blocking(),
            Some(7),
            "the parked sender's value was lost at close"
        );
        assert_matches!(poll_with(s.as_mut(), &w), Poll::Ready(Ok(())));
        assert_eq!(rx.recv_blocking(), None);
    }
}

#[test]
fn parked_async_sender_at_close_delivers_to_async_receiver() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered();
    let ws = CountWaker::new();
    let mut s = Box::pin(tx.send(8));
    assert_pending(poll_with(s.as_mut(), &ws), "unbuffered send");
    tx.close();
    assert_eq!(block_on(rx.recv()), Some(8));
    assert_matches!(poll_with(s.as_mut(), &ws), Poll::Ready(Ok(())));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn thread_blocked_in_send_blocking_at_close_still_delivers() {
    let _watchdog = util::watchdog();
    for cap in [0usize, 1] {
        let (tx, rx) = bounded(cap);
        if cap == 1 {
            tx.send_blocking(100).unwrap();
        }
        let tx2 = tx.clone();
        let sender = spawn_blocked(move || tx2.send_blocking(1));
        assert!(
            !sender.is_finished(),
            "cap {cap}: send_blocking did not block"
        );
        tx.close();
        if cap == 1 {
            assert_eq!(rx.recv_blocking(), Some(100));
        }
        assert_eq!(
            rx.recv_blocking(),
            Some(1),
            "cap {cap}: blocked sender's value lost at close"
        );
        assert_matches!(join(sender, "blocked sender"), Ok(()), "cap {cap}");
        assert_eq!(rx.recv_blocking(), None);
    }
}

#[test]
fn pending_put_at_close_still_delivers() {
    let _watchdog = util::watchdog();
    for cap in [0usize, 1] {
        let (tx, rx) = bounded(cap);
        if cap == 1 {
            tx.try_send(100).unwrap();
        }
        let slot = Slot::new();
        tx.put(1, util::put_cb(&slot)).unwrap();
        assert!(!slot.is_set(), "cap {cap}: put completed with no room");
        rx.close();
        assert!(!slot.is_set(), "cap {cap}: close completed the pending put");
        if cap == 1 {
            assert_eq!(rx.recv_blocking(), Some(100));
        }
        assert_eq!(
            rx.recv_blocking(),
            Some(1),
            "cap {cap}: pending put lost at close"
        );
        assert_matches!(slot.wait_take("put callback"), Ok(()));
        assert_eq!(slot.calls(), 1);
        assert_eq!(rx.recv_blocking(), None);
    }
}

#[test]
fn parked_async_receiver_gets_none_at_close() {
    let _watchdog = util::watchdog();
    for close_from_receiver in [false, true] {
        let (tx, rx) = unbuffered::<u8>();
        let w = CountWaker::new();
        let mut r = Box::pin(rx.recv());
        assert_pending(poll_with(r.as_mut(), &w), "recv on empty");
        if close_from_receiver {
            rx.close();
        } else {
            tx.close();
        }
        assert!(w.woken(), "close did not wake the parked receiver");
        assert_eq!(poll_with(r.as_mut(), &w), Poll::Ready(None));
    }
}

#[test]
fn parked_async_receivers_all_get_none_when_last_sender_drops() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(2);
    let ws: Vec<_> = (0..3).map(|_| CountWaker::new()).collect();
    let mut rs: Vec<_> = (0..3).map(|_| Box::pin(rx.recv())).collect();
    for (r, w) in rs.iter_mut().zip(&ws) {
        assert_pending(poll_with(r.as_mut(), w), "recv on empty");
    }
    drop(tx);
    for (i, (r, w)) in rs.iter_mut().zip(&ws).enumerate() {
        assert!(
            w.woken(),
            "receiver {i} not woken when the last sender dropped"
        );
        assert_eq!(poll_with(r.as_mut(), w), Poll::Ready(None));
    }
}

#[test]
fn blocked_receiver_threads_get_none_at_close() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(1);
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            spawn_blocked(move || rx.recv_blocking())
        })
        .collect();
    tx.close();
    for h in receivers {
        assert_eq!(join(h, "blocked receiver"), None);
    }
}

#[test]
fn blocked_receiver_thread_gets_none_when_last_sender_drops() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u8>();
    let receiver = spawn_blocked(move || rx.recv_blocking());
    assert!(!receiver.is_finished());
    drop(tx);
    assert_eq!(join(receiver, "blocked receiver"), None);
}

#[test]
fn pending_take_callbacks_get_none_at_close() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(1);
    let slots: Vec<_> = (0..3).map(|_| Slot::new()).collect();
    for s in &slots {
        rx.take(util::take_cb(s)).unwrap();
        assert!(!s.is_set());
    }
    tx.close();
    for s in &slots {
        assert_eq!(s.wait_take("take callback at close"), None);
        assert_eq!(s.calls(), 1);
    }
}

#[test]
fn take_on_closed_empty_channel_runs_inline_with_none() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(1);
    drop(tx);
    let slot = Slot::new();
    rx.take(util::take_cb(&slot)).unwrap();
    assert!(
        slot.is_set(),
        "take on a closed channel did not complete at once"
    );
    assert_eq!(slot.take(), Some(None));
}

#[test]
fn all_receivers_dropped_fails_parked_async_sender_with_its_value() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = bounded(1);
    tx.try_send(tracker.make(0)).unwrap();
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send(tracker.make(1)));
    assert_pending(poll_with(s.as_mut(), &w), "send on full");
    drop(rx);
    assert!(
        w.woken(),
        "dropping every receiver did not wake the parked sender"
    );
    match poll_with(s.as_mut(), &w) {
        Poll::Ready(Err(SendError(v))) => assert_eq!(v.id, 1),
        other => panic!("expected Ready(Err(SendError(1))), got {other:?}"),
    }
    assert_eq!(tracker.drops_of(1), 1);
    drop(s);
    drop(tx);
    tracker.assert_all_dropped();
}

#[test]
fn all_receivers_dropped_fails_parked_unbuffered_async_sender() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<String>();
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send("mine".into()));
    assert_pending(poll_with(s.as_mut(), &w), "unbuffered send");
    drop(rx);
    assert!(w.woken());
    match poll_with(s.as_mut(), &w) {
        Poll::Ready(Err(SendError(v))) => assert_eq!(v, "mine"),
        other => panic!("expected Ready(Err(SendError(\"mine\"))), got {other:?}"),
    }
}

#[test]
fn all_receivers_dropped_fails_blocked_sender_thread_with_its_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<String>();
    let rx2 = rx.clone();
    let sender = spawn_blocked(move || tx.send_blocking("v".into()));
    assert!(!sender.is_finished());
    drop(rx);
    drop(rx2);
    match join(sender, "blocked sender") {
        Err(SendError(v)) => assert_eq!(v, "v"),
        other => panic!("expected Err(SendError(\"v\")), got {other:?}"),
    }
}

#[test]
fn all_receivers_dropped_fails_pending_puts_with_their_values() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let slots: Vec<_> = (0..3).map(|_| Slot::new()).collect();
    for (i, s) in slots.iter().enumerate() {
        tx.put(i as u32, util::put_cb(s)).unwrap();
        assert!(!s.is_set());
    }
    drop(rx);
    for (i, s) in slots.iter().enumerate() {
        match s.wait_take("put callback after every receiver dropped") {
            Err(SendError(v)) => assert_eq!(v, i as u32),
            other => panic!("put {i}: expected Err(SendError({i})), got {other:?}"),
        }
        assert_eq!(s.calls(), 1);
    }
}

#[test]
fn nothing_leaks_when_everything_is_dropped() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    {
        let (tx, rx) = bounded(4);
        for i in 0..3 {
            tx.try_send(tracker.make(i)).unwrap();
        }
        // A pending put on a full channel and a parked async sender too.
        tx.try_send(tracker.make(3)).unwrap();
        tx.put(tracker.make(4), drop).unwrap();
        let mut s = Box::pin(tx.send(tracker.make(5)));
        assert_pending(util::poll_once(&mut s.as_mut()), "send on full");
        drop(s);
        assert_eq!(tracker.drops_of(5), 1);
        assert_eq!(rx.try_recv().unwrap().id, 0);
        assert_eq!(tracker.drops_of(0), 1);
        drop(tx);
        drop(rx);
    }
    for id in 0..6 {
        assert_eq!(
            tracker.drops_of(id),
            1,
            "value {id} dropped {} times",
            tracker.drops_of(id)
        );
    }
    tracker.assert_all_dropped();
}

#[test]
fn close_wakes_a_blocked_sender_only_when_receivers_are_gone() {
    let _watchdog = util::watchdog();
    // close() with a receiver alive leaves the blocked sender blocked (it will
    // still deliver); dropping the last receiver then fails it.
    let (tx, rx) = bounded::<u8>(1);
    tx.try_send(1).unwrap();
    let tx2 = tx.clone();
    let sender = spawn_blocked(move || tx2.send_blocking(2));
    tx.close();
    util::pause();
    assert!(
        !sender.is_finished(),
        "close() completed a sender that has not been taken from"
    );
    drop(rx);
    assert_matches!(join(sender, "blocked sender"), Err(SendError(2)));
}
