//! Constructors and the state queries `capacity()`, `len()`, `is_empty()`,
//! `is_closed()`, plus the auto traits the handles promise.
//!
//! Buffer counts follow core.async `src/test/clojure/clojure/core/async/buffers_test.clj`
//! (fixed, dropping, sliding and promise buffers); `bounded(0)` as rendezvous follows
//! `async_test.clj` `offer-poll` (`(offer! (chan) 1)` is nil).

#[macro_use]
mod util;

use std::fmt::Debug;

use parkway_channels::{
    bounded, dropping, promise, sliding, unbuffered, Receiver, Sender, TryRecvError, TrySendError,
};
use util::{poll_once, spawn_blocked};

#[test]
fn capacity_of_every_flavour() {
    let _watchdog = util::watchdog();
    assert_eq!(unbuffered::<u8>().0.capacity(), Some(0));
    assert_eq!(unbuffered::<u8>().1.capacity(), Some(0));
    assert_eq!(bounded::<u8>(0).0.capacity(), Some(0));
    assert_eq!(bounded::<u8>(0).1.capacity(), Some(0));
    assert_eq!(bounded::<u8>(1).0.capacity(), Some(1));
    assert_eq!(bounded::<u8>(7).1.capacity(), Some(7));
    assert_eq!(bounded::<u8>(1024).0.capacity(), Some(1024));
    assert_eq!(dropping::<u8>(3).0.capacity(), Some(3));
    assert_eq!(dropping::<u8>(3).1.capacity(), Some(3));
    assert_eq!(sliding::<u8>(5).0.capacity(), Some(5));
    assert_eq!(sliding::<u8>(5).1.capacity(), Some(5));
    assert_eq!(promise::<u8>().0.capacity(), Some(1));
    assert_eq!(promise::<u8>().1.capacity(), Some(1));
}

#[test]
fn fresh_channels_are_empty_and_open() {
    let _watchdog = util::watchdog();
    fn check<T>((tx, rx): (Sender<T>, Receiver<T>), name: &str) {
        assert_eq!(tx.len(), 0, "{name}: sender len");
        assert_eq!(rx.len(), 0, "{name}: receiver len");
        assert!(tx.is_empty(), "{name}: sender is_empty");
        assert!(rx.is_empty(), "{name}: receiver is_empty");
        assert!(!tx.is_closed(), "{name}: sender is_closed");
        assert!(!rx.is_closed(), "{name}: receiver is_closed");
    }
    check(unbuffered::<u32>(), "unbuffered");
    check(bounded::<u32>(0), "bounded(0)");
    check(bounded::<u32>(4), "bounded(4)");
    check(dropping::<u32>(4), "dropping(4)");
    check(sliding::<u32>(4), "sliding(4)");
    check(promise::<u32>(), "promise");
}

// buffers_test.clj fixed-buffer-tests: count goes 0, 1, 2 and back down.
#[test]
fn len_counts_buffered_values_on_both_handles() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(2);
    tx.try_send(1).unwrap();
    assert_eq!((tx.len(), rx.len()), (1, 1));
    assert!(!tx.is_empty() && !rx.is_empty());
    tx.try_send(2).unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!((tx.len(), rx.len()), (1, 1));
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_eq!((tx.len(), rx.len()), (0, 0));
    assert!(tx.is_empty() && rx.is_empty());
}

#[test]
fn len_does_not_count_values_held_by_parked_senders() {
    let _watchdog = util::watchdog();
    // A full bounded(1) channel with one more sender parked: len() stays 1.
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let mut fut = Box::pin(tx.send(2));
    util::assert_pending(poll_once(&mut fut.as_mut()), "send on a full channel");
    assert_eq!(rx.len(), 1);
    assert_eq!(tx.len(), 1);

    // An unbuffered channel with a parked sender: len() stays 0.
    let (utx, urx) = unbuffered::<i32>();
    let mut ufut = Box::pin(utx.send(9));
    util::assert_pending(
        poll_once(&mut ufut.as_mut()),
        "send on unbuffered, no receiver",
    );
    assert_eq!(urx.len(), 0);
    assert!(urx.is_empty());
    drop(ufut);
    drop(fut);
    assert_eq!(rx.try_recv().ok(), Some(1));
}

#[test]
fn len_never_exceeds_capacity_for_dropping_and_sliding() {
    let _watchdog = util::watchdog();
    let (dtx, drx) = dropping(3);
    let (stx, srx) = sliding(3);
    for i in 0..10 {
        dtx.try_send(i).unwrap();
        stx.try_send(i).unwrap();
        let expect = (i + 1).min(3) as usize;
        assert_eq!(drx.len(), expect, "dropping len after {} sends", i + 1);
        assert_eq!(srx.len(), expect, "sliding len after {} sends", i + 1);
    }
}

// buffers_test.clj promise-buffer-tests: count is 0, then 1 forever.
#[test]
fn promise_len_is_zero_then_one() {
    let _watchdog = util::watchdog();
    let (tx, rx) = promise::<u8>();
    assert_eq!(rx.len(), 0);
    tx.try_send(1).unwrap();
    assert_eq!(rx.len(), 1);
    tx.try_send(2).unwrap();
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!(rx.len(), 1, "taking from a promise does not empty it");
}

#[test]
#[should_panic(expected = "dropping")]
fn dropping_zero_panics() {
    let _watchdog = util::watchdog();
    let _ = dropping::<u8>(0);
}

#[test]
#[should_panic(expected = "sliding")]
fn sliding_zero_panics() {
    let _watchdog = util::watchdog();
    let _ = sliding::<u8>(0);
}

// async_test.clj offer-poll: (offer! (chan) 1) => nil, (poll! (chan)) => nil.
#[test]
fn bounded_zero_is_rendezvous_for_try_ops() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(0);
    assert_matches!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.len(), 0);
}

#[test]
fn bounded_zero_send_completes_only_when_a_receiver_takes() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(0);
    let sender = spawn_blocked(move || tx.send_blocking(42));
    assert!(
        !sender.is_finished(),
        "send_blocking on bounded(0) returned with no receiver (it must rendezvous)"
    );
    assert_eq!(rx.len(), 0, "bounded(0) must not buffer the value");
    assert_eq!(rx.recv_blocking(), Some(42));
    assert_matches!(util::join(sender, "bounded(0) sender"), Ok(()));
}

#[test]
fn bounded_zero_async_send_is_pending_until_taken() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(0);
    let w = util::CountWaker::new();
    let mut fut = Box::pin(tx.send(5));
    util::assert_pending(
        util::poll_with(fut.as_mut(), &w),
        "bounded(0) send, no receiver",
    );
    assert_eq!(
        rx.try_recv().ok(),
        Some(5),
        "a parked sender's value can be polled"
    );
    assert!(
        w.woken(),
        "the parked sender was not woken when its value was taken"
    );
    assert_matches!(
        util::poll_with(fut.as_mut(), &w),
        std::task::Poll::Ready(Ok(()))
    );
}

#[test]
fn clones_share_the_channel() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(4);
    let tx2 = tx.clone();
    let rx2 = rx.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    assert_eq!(rx2.len(), 2);
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!(rx2.try_recv().ok(), Some(2));
    tx2.close();
    assert!(tx.is_closed() && rx.is_closed() && rx2.is_closed());
}

#[test]
fn handles_have_the_promised_auto_traits() {
    let _watchdog = util::watchdog();
    fn assert_traits<T: Clone + Debug + Send + Sync + Unpin + 'static>() {}
    assert_traits::<Sender<u32>>();
    assert_traits::<Receiver<u32>>();
    assert_traits::<Sender<String>>();
    assert_traits::<Receiver<Vec<u8>>>();
    // Send + Sync even when T is Send but not Sync.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sender<std::cell::Cell<u8>>>();
    assert_send_sync::<Receiver<std::cell::Cell<u8>>>();
}

#[test]
fn futures_are_send_when_t_is_send() {
    let _watchdog = util::watchdog();
    fn assert_send<T: Send>(_: &T) {}
    let (tx, rx) = bounded::<String>(1);
    let s = tx.send(String::from("x"));
    assert_send(&s);
    let r = rx.recv();
    assert_send(&r);
    drop(s);
    drop(r);
    // An async block holding them across an await is Send too (spawnable).
    let fut = async move {
        tx.send(String::from("y")).await.unwrap();
        rx.recv().await
    };
    assert_send(&fut);
    assert_eq!(util::block_on(fut), Some(String::from("y")));
}

#[test]
fn debug_output_is_non_empty() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(2);
    assert!(!format!("{tx:?}").is_empty());
    assert!(!format!("{rx:?}").is_empty());
}
