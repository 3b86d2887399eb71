//! Sliding buffers (`sliding(n)`, core.async `sliding-buffer`): when full a
//! send succeeds and the OLDEST buffered value is discarded; a send never parks.
//!
//! Follows core.async `src/test/clojure/clojure/core/async/buffers_test.clj`
//! `sliding-buffer-tests` and `async_test.clj` `buffers-tests` (unblocking-buffer?).

#[macro_use]
mod util;

use std::task::Poll;

use parkway_channels::{sliding, TryRecvError};
use util::{block_on, poll_with, run_with_timeout, CountWaker, DropTracker, Slot};

// buffers_test.clj sliding-buffer-tests, through the channel.
#[test]
fn keeps_the_last_values() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(2);
    tx.send_blocking(1).unwrap();
    tx.send_blocking(2).unwrap();
    tx.send_blocking(3).unwrap();
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.recv_blocking(), Some(3));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn order_cap_3_sending_0_to_10() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(3);
    for i in 0..10 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    let got: Vec<i32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
    assert_eq!(got, vec![7, 8, 9]);
}

#[test]
fn every_kind_of_send_succeeds_when_full() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(1);
    tx.try_send(0).unwrap();
    assert_matches!(
        tx.try_send(1),
        Ok(()),
        "offer! on a full sliding buffer must succeed"
    );
    assert_matches!(block_on(tx.send(2)), Ok(()));
    let slot = Slot::new();
    tx.put(3, util::put_cb(&slot)).unwrap();
    assert!(
        slot.is_set(),
        "put on a full sliding buffer did not complete at once"
    );
    assert_matches!(slot.take(), Some(Ok(())));
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv().ok(), Some(3));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn send_blocking_never_parks() {
    let _watchdog = util::watchdog();
    let got = run_with_timeout("send_blocking on a full sliding buffer", || {
        let (tx, rx) = sliding(2);
        for i in 0..1_000 {
            tx.send_blocking(i).unwrap();
        }
        drop(tx);
        std::iter::from_fn(|| rx.recv_blocking()).collect::<Vec<_>>()
    });
    assert_eq!(got, vec![998, 999]);
}

#[test]
fn async_send_is_ready_on_first_poll_when_full() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(1);
    tx.try_send(0).unwrap();
    let w = CountWaker::new();
    for i in 1..10 {
        let mut s = Box::pin(tx.send(i));
        assert_matches!(
            poll_with(s.as_mut(), &w),
            Poll::Ready(Ok(())),
            "send {i} parked"
        );
    }
    assert_eq!(rx.try_recv().ok(), Some(9));
}

#[test]
fn evicted_values_are_dropped_exactly_once() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = sliding(2);
    for i in 0..5 {
        tx.send_blocking(tracker.make(i)).unwrap();
    }
    for i in 0..3 {
        assert_eq!(tracker.drops_of(i), 1, "evicted value {i}");
    }
    assert_eq!(tracker.drops_of(3), 0);
    assert_eq!(tracker.drops_of(4), 0);
    assert_eq!(rx.recv_blocking().unwrap().id, 3);
    drop((tx, rx));
    tracker.assert_all_dropped();
}

#[test]
fn room_after_receive_is_used_again() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(2);
    for i in 0..4 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(rx.try_recv().ok(), Some(2));
    tx.try_send(10).unwrap();
    tx.try_send(11).unwrap(); // evicts 3
    assert_eq!(rx.try_recv().ok(), Some(10));
    assert_eq!(rx.try_recv().ok(), Some(11));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn parked_receiver_is_woken() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(2);
    let w = CountWaker::new();
    let mut r = Box::pin(rx.recv());
    util::assert_pending(poll_with(r.as_mut(), &w), "recv on empty");
    tx.try_send(5).unwrap();
    assert!(w.woken());
    assert_eq!(poll_with(r.as_mut(), &w), Poll::Ready(Some(5)));
}

#[test]
fn close_keeps_buffered_values() {
    let _watchdog = util::watchdog();
    let (tx, rx) = sliding(2);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    tx.close();
    assert_matches!(tx.send_blocking(9), Err(parkway_channels::SendError(9)));
    assert_eq!(rx.recv_blocking(), Some(3));
    assert_eq!(rx.recv_blocking(), Some(4));
    assert_eq!(rx.recv_blocking(), None);
}
