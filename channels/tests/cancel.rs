//! Cancel safety: dropping a parked send or recv future leaves no trace, and a
//! woken receiver future that is dropped passes its wake-up on.
//!
//! (DESIGN.md "Rules every part keeps": a value owned by a future the user
//! drops is dropped with it; a woken receiver future that is dropped passes
//! its wake-up on.)

#[macro_use]
mod util;

use std::task::Poll;

use parkway_channels::{bounded, unbuffered, TryRecvError, TrySendError};
use util::{assert_pending, poll_once, poll_with, CountWaker, DropTracker};

#[test]
fn dropped_parked_send_sends_nothing_bounded() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = bounded(1);
    tx.try_send(tracker.make(1)).unwrap();
    {
        let mut s = Box::pin(tx.send(tracker.make(2)));
        assert_pending(poll_once(&mut s.as_mut()), "send on full");
        assert_eq!(tracker.drops_of(2), 0);
    }
    assert_eq!(
        tracker.drops_of(2),
        1,
        "the cancelled send's value was not dropped exactly once"
    );
    assert_eq!(rx.try_recv().unwrap().id, 1);
    assert_matches!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the cancelled value was delivered"
    );
    // Room is free for a new value and nothing stale takes it.
    tx.try_send(tracker.make(3)).unwrap();
    assert_eq!(rx.try_recv().unwrap().id, 3);
    assert_eq!(tracker.drops_of(2), 1);
    drop((tx, rx));
    tracker.assert_all_dropped();
}

#[test]
fn dropped_parked_send_sends_nothing_unbuffered() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = unbuffered();
    {
        let mut s = Box::pin(tx.send(tracker.make(1)));
        assert_pending(poll_once(&mut s.as_mut()), "unbuffered send");
    }
    assert_eq!(tracker.drops_of(1), 1);
    assert_matches!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the cancelled value was delivered"
    );
    // A receiver arriving now waits; it must not find a ghost sender.
    let mut r = Box::pin(rx.recv());
    assert_pending(
        poll_once(&mut r.as_mut()),
        "recv after the sender was cancelled",
    );
    drop(r);
    drop((tx, rx));
    tracker.assert_all_dropped();
}

#[test]
fn dropped_parked_send_lets_the_next_sender_in() {
    let _watchdog = util::watchdog();
    // Two parked senders; the first is cancelled; room goes to the second.
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let w1 = CountWaker::new();
    let w2 = CountWaker::new();
    let mut s1 = Box::pin(tx.send(1));
    let mut s2 = Box::pin(tx.send(2));
    assert_pending(poll_with(s1.as_mut(), &w1), "s1");
    assert_pending(poll_with(s2.as_mut(), &w2), "s2");
    drop(s1);
    assert_eq!(rx.try_recv().ok(), Some(0));
    assert!(
        w2.woken(),
        "the remaining parked sender was not woken when room appeared"
    );
    assert_matches!(poll_with(s2.as_mut(), &w2), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn woken_then_dropped_send_passes_room_on() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let w1 = CountWaker::new();
    let w2 = CountWaker::new();
    let mut s1 = Box::pin(tx.send(1));
    let mut s2 = Box::pin(tx.send(2));
    assert_pending(poll_with(s1.as_mut(), &w1), "s1");
    assert_pending(poll_with(s2.as_mut(), &w2), "s2");
    assert_eq!(rx.try_recv().ok(), Some(0));
    assert!(
        w1.woken() || w2.woken(),
        "no parked sender woken when room appeared"
    );
    // Drop the woken sender without polling it. Either the channel already
    // moved its value into the buffer (then that value is delivered), or the
    // value dies with the future and the room passes to the other sender.
    let (mut survivor, ws, dropped_val, survivor_val) = if w1.woken() {
        drop(s1);
        (s2, w2, 1, 2)
    } else {
        drop(s2);
        (s1, w1, 2, 1)
    };
    let mut got = Vec::new();
    match poll_with(survivor.as_mut(), &ws) {
        Poll::Ready(r) => assert!(r.is_ok()),
        Poll::Pending => {
            // The room must be held by the dropped sender's delivered value.
            match rx.try_recv() {
                Ok(v) => got.push(v),
                Err(e) => panic!(
                    "room freed by a recv was lost when the woken sender was dropped \
                     (survivor Pending, channel {e:?})"
                ),
            }
            assert!(ws.woken(), "survivor not woken when room appeared again");
            assert_matches!(poll_with(survivor.as_mut(), &ws), Poll::Ready(Ok(())));
        }
    }
    while let Ok(v) = rx.try_recv() {
        got.push(v);
    }
    assert_eq!(
        got.last(),
        Some(&survivor_val),
        "survivor's value missing: {got:?}"
    );
    assert!(
        got == vec![survivor_val] || got == vec![dropped_val, survivor_val],
        "unexpected values {got:?}"
    );
}

#[test]
fn dropped_parked_recv_takes_nothing_bounded() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    {
        let mut r = Box::pin(rx.recv());
        assert_pending(poll_once(&mut r.as_mut()), "recv on empty");
    }
    tx.try_send(5).unwrap();
    assert_eq!(rx.len(), 1, "the value went to a cancelled receiver");
    assert_eq!(rx.try_recv().ok(), Some(5));
}

#[test]
fn dropped_parked_recv_takes_nothing_unbuffered() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    {
        let mut r = Box::pin(rx.recv());
        assert_pending(poll_once(&mut r.as_mut()), "recv on empty");
    }
    // Nobody waits now: an offer must fail (a stale registration would take
    // the value into a dropped future and lose it).
    assert_matches!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "offer went to a cancelled receiver"
    );
    // A parked sender's value goes to the next receiver.
    let ws = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &ws), "unbuffered send");
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(poll_with(s.as_mut(), &ws), Poll::Ready(Ok(())));
}

#[test]
fn dropped_parked_recv_with_blocking_sender_next() {
    let _watchdog = util::watchdog();
    // After a cancelled async receiver, a blocking receiver gets the value.
    let (tx, rx) = unbuffered::<u32>();
    {
        let mut r = Box::pin(rx.recv());
        assert_pending(poll_once(&mut r.as_mut()), "recv on empty");
    }
    let rx2 = rx.clone();
    let receiver = util::spawn_blocked(move || rx2.recv_blocking());
    tx.send_blocking(3).unwrap();
    assert_eq!(util::join(receiver, "receiver"), Some(3));
}

fn woken_dropped_receiver_passes_wakeup_on(cap: usize) {
    let (tx, rx) = bounded::<u32>(cap);
    let w1 = CountWaker::new();
    let w2 = CountWaker::new();
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = Box::pin(rx.recv());
    assert_pending(poll_with(r1.as_mut(), &w1), "r1");
    assert_pending(poll_with(r2.as_mut(), &w2), "r2");

    // One value. With cap 0, a parked async sender offers it.
    let ws = CountWaker::new();
    let mut s = Box::pin(tx.send(42));
    let sent_at_once = match poll_with(s.as_mut(), &ws) {
        Poll::Ready(r) => {
            assert!(r.is_ok());
            true
        }
        Poll::Pending => false,
    };
    assert!(
        w1.woken() || w2.woken(),
        "cap {cap}: no parked receiver was woken by the send"
    );

    // Drop the woken one without polling it.
    let (mut other, w_other) = if w1.woken() {
        drop(r1);
        (r2, w2)
    } else {
        drop(r2);
        (r1, w1)
    };
    assert!(
        w_other.woken(),
        "cap {cap}: the woken receiver was dropped and the wake-up was not passed on"
    );
    assert_eq!(
        poll_with(other.as_mut(), &w_other),
        Poll::Ready(Some(42)),
        "cap {cap}: the second receiver could not take the value"
    );
    if !sent_at_once {
        assert!(
            ws.woken(),
            "cap {cap}: sender not woken after its value was taken"
        );
        assert_matches!(poll_with(s.as_mut(), &ws), Poll::Ready(Ok(())));
    }
}

#[test]
fn woken_dropped_receiver_passes_wakeup_on_bounded() {
    let _watchdog = util::watchdog();
    woken_dropped_receiver_passes_wakeup_on(1);
}

#[test]
fn woken_dropped_receiver_passes_wakeup_on_unbuffered() {
    let _watchdog = util::watchdog();
    woken_dropped_receiver_passes_wakeup_on(0);
}

#[test]
fn woken_dropped_receiver_wakeup_count_increments() {
    let _watchdog = util::watchdog();
    // Precisely: if only one receiver was woken by the send, dropping it must
    // increment the other's wake count.
    let (tx, rx) = bounded::<u32>(4);
    let w1 = CountWaker::new();
    let w2 = CountWaker::new();
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = Box::pin(rx.recv());
    assert_pending(poll_with(r1.as_mut(), &w1), "r1");
    assert_pending(poll_with(r2.as_mut(), &w2), "r2");
    tx.try_send(1).unwrap();
    let (c1, c2) = (w1.count(), w2.count());
    assert!(c1 + c2 > 0, "no receiver woken");
    if c1 > 0 && c2 > 0 {
        // Both were woken: nothing to pass on; the survivor still gets it.
        drop(r1);
        assert_eq!(poll_with(r2.as_mut(), &w2), Poll::Ready(Some(1)));
        return;
    }
    let (dropped, mut other, w_other, before) = if c1 > 0 {
        (r1, r2, w2, c2)
    } else {
        (r2, r1, w1, c1)
    };
    drop(dropped);
    assert!(
        w_other.count() > before,
        "dropping the woken, unpolled receiver did not wake the other parked receiver"
    );
    assert_eq!(poll_with(other.as_mut(), &w_other), Poll::Ready(Some(1)));
}

#[test]
fn woken_receiver_that_was_polled_does_not_double_take() {
    let _watchdog = util::watchdog();
    // A woken receiver that completes takes exactly one value; a second value
    // stays for the other receiver.
    let (tx, rx) = bounded::<u32>(4);
    let w1 = CountWaker::new();
    let w2 = CountWaker::new();
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = Box::pin(rx.recv());
    assert_pending(poll_with(r1.as_mut(), &w1), "r1");
    assert_pending(poll_with(r2.as_mut(), &w2), "r2");
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(
        w1.woken() && w2.woken(),
        "two values, two parked receivers: both must be woken"
    );
    let a = poll_with(r1.as_mut(), &w1);
    let b = poll_with(r2.as_mut(), &w2);
    let mut got = vec![a, b]
        .into_iter()
        .map(|p| match p {
            Poll::Ready(Some(v)) => v,
            other => panic!("expected a value, got {other:?}"),
        })
        .collect::<Vec<_>>();
    got.sort();
    assert_eq!(got, vec![1, 2]);
}

#[test]
fn many_cancelled_futures_leave_the_channel_usable() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = bounded(1);
    tx.try_send(tracker.make(0)).unwrap();
    for i in 1..=1_000 {
        let mut s = Box::pin(tx.send(tracker.make(i)));
        assert_pending(poll_once(&mut s.as_mut()), "send on full");
    }
    for i in 1..=1_000 {
        assert_eq!(tracker.drops_of(i), 1);
    }
    assert_eq!(rx.try_recv().unwrap().id, 0);
    for _ in 0..1_000 {
        let mut r = Box::pin(rx.recv());
        assert_pending(poll_once(&mut r.as_mut()), "recv on empty");
    }
    tx.try_send(tracker.make(5_000)).unwrap();
    assert_eq!(rx.try_recv().unwrap().id, 5_000);
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
    drop((tx, rx));
    tracker.assert_all_dropped();
}
