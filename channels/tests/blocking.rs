//! Blocking ops (`send_blocking` = core.async `>!!`, `recv_blocking` = `<!!`)
//! from one and many threads.
//!
//! Follows core.async `src/test/clojure/clojure/core/async_test.clj`:
//! `basic-channel-test`, `writes-block-on-full-buffer`, `unfulfilled-readers-block`.

#[macro_use]
mod util;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use parkway_channels::{bounded, unbuffered, TrySendError};
use util::{join, spawn_blocked};

// async_test.clj basic-channel-test.
#[test]
fn basic_channel() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    let reader = thread::spawn(move || rx.recv_blocking());
    tx.send_blocking(42).unwrap();
    assert_eq!(join(reader, "reader"), Some(42));
}

#[test]
fn single_thread_fifo() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(16);
    for i in 0..16 {
        tx.send_blocking(i).unwrap();
    }
    for i in 0..16 {
        assert_eq!(rx.recv_blocking(), Some(i));
    }
}

// async_test.clj writes-block-on-full-buffer, without the 20 ms deref: we wait
// until the writer is asleep, then check it has not returned.
#[test]
fn writes_block_on_full_buffer() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.send_blocking(42).unwrap();
    let writer = spawn_blocked(move || tx.send_blocking(43));
    assert!(
        !writer.is_finished(),
        "send_blocking on a full channel returned without a taker"
    );
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.recv_blocking(), Some(42));
    assert_matches!(join(writer, "writer"), Ok(()));
    assert_eq!(rx.recv_blocking(), Some(43));
}

// async_test.clj unfulfilled-readers-block: one value, two readers: exactly
// one gets it, the other stays blocked (until close).
#[test]
fn unfulfilled_readers_block() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    let rx2 = rx.clone();
    let r1 = spawn_blocked(move || rx.recv_blocking());
    let r2 = spawn_blocked(move || rx2.recv_blocking());
    tx.send_blocking(42).unwrap();
    util::wait_until("one reader to return", || {
        r1.is_finished() || r2.is_finished()
    });
    // The value went to exactly one reader: the other gets None at close
    // (a duplicate Some(42) or an early None fails the check below).
    tx.close();
    let mut got = vec![join(r1, "r1"), join(r2, "r2")];
    got.sort();
    assert_eq!(got, vec![None, Some(42)]);
}

#[test]
fn recv_blocking_waits_for_a_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u8>(4);
    let reader = spawn_blocked(move || rx.recv_blocking());
    assert!(
        !reader.is_finished(),
        "recv_blocking on an empty channel returned"
    );
    tx.send_blocking(9).unwrap();
    assert_eq!(join(reader, "reader"), Some(9));
}

#[test]
fn unbuffered_rendezvous_both_ways() {
    let _watchdog = util::watchdog();
    // Sender first.
    let (tx, rx) = unbuffered();
    let sender = spawn_blocked(move || tx.send_blocking(1));
    assert!(
        !sender.is_finished(),
        "unbuffered send_blocking returned without a receiver"
    );
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_matches!(join(sender, "sender"), Ok(()));

    // Receiver first.
    let (tx, rx) = unbuffered();
    let receiver = spawn_blocked(move || rx.recv_blocking());
    assert!(!receiver.is_finished());
    tx.send_blocking(2).unwrap();
    assert_eq!(join(receiver, "receiver"), Some(2));
}

#[test]
fn several_blocked_senders_all_deliver_in_arrival_order() {
    let _watchdog = util::watchdog();
    // Each sender parks before the next starts, so their order is known.
    let (tx, rx) = bounded(1);
    tx.send_blocking(0).unwrap();
    let mut senders = Vec::new();
    for i in 1..=4 {
        let tx = tx.clone();
        let h = spawn_blocked(move || tx.send_blocking(i));
        assert!(
            !h.is_finished(),
            "sender {i} did not block on a full channel"
        );
        senders.push(h);
    }
    let got: Vec<i32> = (0..5).map(|_| rx.recv_blocking().unwrap()).collect();
    assert_eq!(
        got,
        vec![0, 1, 2, 3, 4],
        "parked senders were not served FIFO"
    );
    for (i, h) in senders.into_iter().enumerate() {
        assert_matches!(join(h, &format!("sender {i}")), Ok(()));
    }
    assert_matches!(tx.try_send(5), Ok(()));
}

fn many_threads(cap: usize, senders: u64, receivers: usize, per_sender: u64) {
    let (tx, rx) = bounded::<u64>(cap);
    let start = Arc::new(Barrier::new(senders as usize + receivers));
    let mut s_handles = Vec::new();
    for s in 0..senders {
        let tx = tx.clone();
        let start = Arc::clone(&start);
        s_handles.push(thread::spawn(move || {
            start.wait();
            for i in 0..per_sender {
                tx.send_blocking(s * per_sender + i).unwrap();
            }
        }));
    }
    drop(tx);
    let mut r_handles = Vec::new();
    for _ in 0..receivers {
        let rx = rx.clone();
        let start = Arc::clone(&start);
        r_handles.push(thread::spawn(move || {
            start.wait();
            let mut got = Vec::new();
            while let Some(v) = rx.recv_blocking() {
                got.push(v);
            }
            got
        }));
    }
    drop(rx);
    for (i, h) in s_handles.into_iter().enumerate() {
        join(h, &format!("sender {i}"));
    }
    let mut seen = HashSet::new();
    for (i, h) in r_handles.into_iter().enumerate() {
        let got = join(h, &format!("receiver {i}"));
        // Per receiver, each sender's values arrive in increasing order.
        let mut last = vec![None; senders as usize];
        for v in got {
            let s = (v / per_sender) as usize;
            assert!(
                last[s] < Some(v),
                "receiver {i} saw sender {s} out of order"
            );
            last[s] = Some(v);
            assert!(seen.insert(v), "value {v} received twice");
        }
    }
    assert_eq!(seen.len() as u64, senders * per_sender, "values lost");
}

#[test]
fn many_threads_bounded() {
    let _watchdog = util::watchdog();
    many_threads(8, 4, 4, 5_000);
}

#[test]
fn many_threads_bounded_one() {
    let _watchdog = util::watchdog();
    many_threads(1, 4, 4, 5_000);
}

#[test]
fn many_threads_unbuffered() {
    let _watchdog = util::watchdog();
    many_threads(0, 4, 4, 2_000);
}

#[test]
fn blocked_receivers_each_get_one_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let mut receivers = Vec::new();
    for _ in 0..4 {
        let rx = rx.clone();
        receivers.push(spawn_blocked(move || rx.recv_blocking()));
    }
    for v in 0..4 {
        tx.send_blocking(v).unwrap();
    }
    let mut got: Vec<u32> = receivers
        .into_iter()
        .map(|h| join(h, "receiver").expect("receiver got None"))
        .collect();
    got.sort();
    assert_eq!(got, vec![0, 1, 2, 3]);
    assert_matches!(tx.try_send(9), Err(TrySendError::Full(9)));
}
