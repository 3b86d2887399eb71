//! `try_send` (core.async `offer!`) and `try_recv` (`poll!`) on full, empty,
//! unbuffered and closed channels.
//!
//! Follows core.async `src/test/clojure/clojure/core/async_test.clj`, `offer-poll`.

#[macro_use]
mod util;

use std::task::Poll;

use parkway_channels::{bounded, unbuffered, TryRecvError, TrySendError};
use util::{poll_with, wait_until, CountWaker, Slot};

// async_test.clj offer-poll, first half.
#[test]
fn offer_poll_on_bounded() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(2);
    assert_matches!(tx.try_send(1), Ok(()));
    assert_matches!(tx.try_send(2), Ok(()));
    assert_matches!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

// async_test.clj offer-poll, second half.
#[test]
fn offer_poll_on_unbuffered_with_nobody_waiting() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<i32>();
    assert_matches!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
    // Nothing was left behind by the failed offer.
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_send_full_hands_the_value_back_and_leaves_the_buffer_alone() {
    let _watchdog = util::watchdog();
    let tracker = util::DropTracker::new();
    let (tx, rx) = bounded(1);
    tx.try_send(tracker.make(1)).unwrap();
    match tx.try_send(tracker.make(2)) {
        Err(TrySendError::Full(v)) => {
            assert_eq!(v.id, 2);
            drop(v);
        }
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(tracker.drops_of(2), 1);
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv().unwrap().id, 1);
    assert_eq!(tracker.drops_of(1), 1);
    tracker.assert_all_dropped();
}

#[test]
fn try_ops_on_closed_channels() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(3);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    tx.close();
    assert_matches!(tx.try_send(3), Err(TrySendError::Closed(3)));
    // Closed, but buffered values are still delivered, then Closed.
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Closed));

    let (utx, urx) = unbuffered::<u8>();
    urx.close();
    assert_matches!(utx.try_send(1), Err(TrySendError::Closed(1)));
    assert_matches!(urx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_send_on_closed_channel_with_room_is_closed_not_ok() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(8);
    rx.close();
    assert_matches!(tx.try_send(1), Err(TrySendError::Closed(1)));
    assert_eq!(rx.len(), 0);
}

#[test]
fn try_send_on_unbuffered_succeeds_when_a_thread_waits_in_recv_blocking() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let _keep_open = rx.clone(); // the receiver thread's handle is dropped when it returns
    let receiver = std::thread::spawn(move || rx.recv_blocking());
    // Offer until the receiver has parked; every failed offer must be Full
    // and hand the value back.
    wait_until(
        "the unbuffered offer to meet the blocked receiver",
        || match tx.try_send(77) {
            Ok(()) => true,
            Err(TrySendError::Full(77)) => false,
            Err(e) => panic!("unexpected {e:?}"),
        },
    );
    assert_eq!(util::join(receiver, "receiver"), Some(77));
    // Exactly one offer got through: nothing else is waiting.
    assert_matches!(tx.try_send(78), Err(TrySendError::Full(78)));
}

#[test]
fn try_send_on_unbuffered_succeeds_when_a_take_callback_is_pending() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let slot = Slot::new();
    rx.take(util::take_cb(&slot)).unwrap();
    assert!(
        !slot.is_set(),
        "take on an empty channel ran its callback at once"
    );
    assert_matches!(tx.try_send(5), Ok(()));
    assert_eq!(slot.wait_take("take callback"), Some(5));
    assert_eq!(slot.calls(), 1);
    assert_matches!(tx.try_send(6), Err(TrySendError::Full(6)));
}

#[test]
fn try_recv_on_unbuffered_takes_from_a_parked_async_sender() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let w = CountWaker::new();
    let mut fut = Box::pin(tx.send(11));
    util::assert_pending(
        poll_with(fut.as_mut(), &w),
        "unbuffered send with no receiver",
    );
    assert_eq!(rx.try_recv().ok(), Some(11));
    assert!(w.woken(), "the sender whose value was taken was not woken");
    assert_matches!(poll_with(fut.as_mut(), &w), Poll::Ready(Ok(())));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_recv_on_unbuffered_takes_from_a_thread_blocked_in_send_blocking() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let sender = std::thread::spawn(move || tx.send_blocking(21));
    let mut got = None;
    wait_until("poll! to meet the blocked sender", || match rx.try_recv() {
        Ok(v) => {
            got = Some(v);
            true
        }
        Err(TryRecvError::Empty) => false,
        Err(TryRecvError::Closed) => panic!("channel closed while the sender is alive"),
    });
    assert_eq!(got, Some(21));
    assert_matches!(util::join(sender, "sender"), Ok(()));
}

#[test]
fn try_recv_on_unbuffered_takes_from_a_pending_put() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let slot = Slot::new();
    tx.put(31, util::put_cb(&slot)).unwrap();
    assert!(
        !slot.is_set(),
        "put on unbuffered with no taker completed at once"
    );
    assert_eq!(rx.try_recv().ok(), Some(31));
    assert_matches!(slot.wait_take("put callback"), Ok(()));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_recv_on_full_bounded_lets_a_parked_sender_in() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let w = CountWaker::new();
    let mut fut = Box::pin(tx.send(2));
    util::assert_pending(poll_with(fut.as_mut(), &w), "send on a full channel");
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert!(
        w.woken(),
        "the parked sender was not woken when room appeared"
    );
    assert_matches!(poll_with(fut.as_mut(), &w), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_send_wakes_a_parked_async_receiver() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    let w = CountWaker::new();
    let mut fut = Box::pin(rx.recv());
    util::assert_pending(poll_with(fut.as_mut(), &w), "recv on an empty channel");
    assert_matches!(tx.try_send(3), Ok(()));
    assert!(w.woken(), "try_send did not wake the parked receiver");
    assert_eq!(poll_with(fut.as_mut(), &w), Poll::Ready(Some(3)));
}
