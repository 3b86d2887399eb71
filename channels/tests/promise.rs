//! Promise channels (`promise()`, core.async `promise-chan`): the first value
//! is delivered to every receiver forever; later sends succeed and are
//! discarded; close before a value gives `None` forever.
//!
//! Follows core.async `src/test/clojure/clojure/core/async_test.clj`
//! `test-promise-chan` and `buffers_test.clj` `promise-buffer-tests`.

#[macro_use]
mod util;

use std::task::Poll;

use parkway_channels::{promise, TryRecvError};
use util::{
    assert_pending, block_on, join, next, poll_next_with, poll_with, spawn_blocked,
    spawn_thread_future, CountWaker, DropTracker, Slot,
};

// test-promise-chan "put on promise-chan fulfills all pending takers" and the
// three "then ..." steps.
#[test]
fn put_fulfills_all_pending_takers_then_delivers_forever() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<&'static str>();
    let t1 = {
        let rx = rx.clone();
        spawn_blocked(move || rx.recv_blocking())
    };
    let t2 = {
        let rx = rx.clone();
        spawn_blocked(move || rx.recv_blocking())
    };
    tx.send_blocking("val").unwrap();
    assert_eq!(join(t1, "t1"), Some("val"));
    assert_eq!(join(t2, "t2"), Some("val"));
    // then puts succeed but are dropped
    assert_matches!(tx.send_blocking("LOST"), Ok(()));
    assert_eq!(rx.recv_blocking(), Some("val"));
    // then takes succeed with the original value
    for _ in 0..3 {
        assert_eq!(rx.recv_blocking(), Some("val"));
    }
    // then after close takes continue returning value
    tx.close();
    for _ in 0..2 {
        assert_eq!(rx.recv_blocking(), Some("val"));
    }
    assert_eq!(rx.try_recv().ok(), Some("val"));
    assert_eq!(block_on(rx.recv()), Some("val"));
}

// test-promise-chan "close on promise-chan fulfills all pending takers".
#[test]
fn close_before_a_value_gives_none_forever() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<u32>();
    let t1 = {
        let rx = rx.clone();
        spawn_blocked(move || (rx.recv_blocking(), rx.recv_blocking()))
    };
    let t2 = {
        let rx = rx.clone();
        spawn_blocked(move || (rx.recv_blocking(), rx.recv_blocking()))
    };
    tx.close();
    assert_eq!(join(t1, "t1"), (None, None));
    assert_eq!(join(t2, "t2"), (None, None));
    assert_eq!(rx.recv_blocking(), None);
    assert_matches!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_matches!(
        tx.try_send(1),
        Err(parkway_channels::TrySendError::Closed(1))
    );
    assert_eq!(rx.recv_blocking(), None);
}

// test-promise-chan "close after put on promise-chan continues delivering promised value".
#[test]
fn close_after_value_keeps_delivering() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise();
    tx.send_blocking(5).unwrap();
    assert_eq!(rx.recv_blocking(), Some(5));
    assert_eq!(rx.recv_blocking(), Some(5));
    rx.close();
    assert!(rx.is_closed());
    assert_eq!(rx.recv_blocking(), Some(5));
    assert_eq!(rx.recv_blocking(), Some(5));
    drop(tx);
    assert_eq!(rx.recv_blocking(), Some(5));
}

#[test]
fn later_sends_of_every_kind_succeed_and_are_discarded() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = promise();
    tx.try_send(tracker.make(1)).unwrap();
    assert_matches!(tx.try_send(tracker.make(2)), Ok(()));
    assert_matches!(tx.send_blocking(tracker.make(3)), Ok(()));
    assert_matches!(block_on(tx.send(tracker.make(4))), Ok(()));
    let slot = Slot::new();
    tx.put(tracker.make(5), util::put_cb(&slot)).unwrap();
    assert!(
        slot.is_set(),
        "put on a delivered promise did not complete at once"
    );
    assert_matches!(slot.take(), Some(Ok(())));
    for id in 2..=5 {
        assert_eq!(tracker.drops_of(id), 1, "discarded value {id} dropped once");
    }
    for _ in 0..3 {
        let v = rx.recv_blocking().unwrap();
        assert_eq!(v.id, 1);
    }
    drop((tx, rx));
    tracker.assert_all_dropped();
}

#[test]
fn parked_async_receivers_all_get_the_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<String>();
    let ws: Vec<_> = (0..4).map(|_| CountWaker::new()).collect();
    let mut rs: Vec<_> = (0..4).map(|_| Box::pin(rx.recv())).collect();
    for (r, w) in rs.iter_mut().zip(&ws) {
        assert_pending(poll_with(r.as_mut(), w), "recv on an empty promise");
    }
    tx.send_blocking("p".to_string()).unwrap();
    for (i, (r, w)) in rs.iter_mut().zip(&ws).enumerate() {
        assert!(
            w.woken(),
            "parked receiver {i} not woken by the promise value"
        );
        assert_eq!(poll_with(r.as_mut(), w), Poll::Ready(Some("p".to_string())));
    }
}

#[test]
fn parked_receivers_of_every_kind_get_the_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<u64>();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            spawn_blocked(move || rx.recv_blocking())
        })
        .collect();
    let futs: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            spawn_thread_future(async move { rx.recv().await })
        })
        .collect();
    let slots: Vec<_> = (0..3).map(|_| Slot::new()).collect();
    for s in &slots {
        rx.take(util::take_cb(s)).unwrap();
        assert!(!s.is_set(), "take on an empty promise completed at once");
    }
    tx.send_blocking(99).unwrap();
    for h in threads {
        assert_eq!(join(h, "blocked receiver"), Some(99));
    }
    for h in futs {
        assert_eq!(join(h, "async receiver"), Some(99));
    }
    for s in &slots {
        assert_eq!(s.wait_take("take callback"), Some(99));
        assert_eq!(s.calls(), 1);
    }
}

#[test]
fn take_after_value_runs_inline_with_a_clone() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<u8>();
    tx.try_send(3).unwrap();
    for _ in 0..3 {
        let slot = Slot::new();
        rx.take(util::take_cb(&slot)).unwrap();
        assert!(
            slot.is_set(),
            "take on a delivered promise did not run inline"
        );
        assert_eq!(slot.take(), Some(Some(3)));
    }
}

#[test]
fn stream_yields_the_value_repeatedly() {
    let _watchdog = util::watchdog();
    let (tx, mut rx) = promise::<u16>();
    let w = CountWaker::new();
    assert_pending(poll_next_with(&mut rx, &w), "poll_next on an empty promise");
    tx.send_blocking(12).unwrap();
    assert!(w.woken(), "poll_next waiter not woken by the promise value");
    let three: Vec<u16> = block_on(async {
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(next(&mut rx).await.expect("promise stream ended"));
        }
        out
    });
    assert_eq!(three, vec![12, 12, 12]);
    tx.close();
    assert_eq!(
        block_on(next(&mut rx)),
        Some(12),
        "stream ended after close of a delivered promise"
    );
}

#[test]
fn stream_of_a_closed_empty_promise_ends() {
    let _watchdog = util::watchdog();
    let (tx, mut rx) = promise::<u16>();
    drop(tx);
    assert_eq!(block_on(next(&mut rx)), None);
    assert_eq!(block_on(next(&mut rx)), None);
}

#[test]
fn values_are_clones_and_the_original_is_dropped_once_at_the_end() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = promise();
    tx.send_blocking(tracker.make(7)).unwrap();
    let copies: Vec<_> = (0..5).map(|_| rx.recv_blocking().unwrap()).collect();
    assert!(copies.iter().all(|c| c.id == 7));
    drop(copies);
    assert!(tracker.alive() >= 1, "the promise lost its value");
    drop((tx, rx));
    tracker.assert_all_dropped();
}

#[test]
fn first_of_racing_senders_wins_for_everyone() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<usize>();
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let tx = tx.clone();
            std::thread::spawn(move || tx.send_blocking(i))
        })
        .collect();
    for h in senders {
        assert_matches!(join(h, "sender"), Ok(()));
    }
    let first = rx.recv_blocking().unwrap();
    assert!(first < 4);
    for _ in 0..10 {
        assert_eq!(rx.recv_blocking(), Some(first));
    }
}
