//! crossbeam-channel's comparison workloads for blocking ends
//! (`crossbeam-channel/benchmarks/crossbeam-channel.rs`), generic over the
//! channel. Each runs `messages` messages through a fresh channel of
//! capacity `cap`, on threads it spawns and joins (as crossbeam's suite does),
//! and panics unless the receivers saw exactly the messages sent.
//!
//! `messages` must be a multiple of [`THREADS`] for the multi-party ones.
//!
//! No thread keeps an end it does not use: if one side panics, its ends drop,
//! the other side's next operation fails, and the run ends in a panic instead
//! of a hang.

use std::thread;

use super::{BlockingOps, BlockingSelect, MultiConsumer};
use crate::{checksum, Message, THREADS};

/// Fills the channel from one thread, then drains it: no thread ever waits.
///
/// # Panics
/// If `cap < messages` (the sender would wait for a receiver that never comes
/// — crossbeam only runs it on `bounded_n`).
pub fn seq<C: BlockingOps>(cap: usize, messages: usize) {
    assert!(cap >= messages, "seq needs room for every message");
    let (tx, rx) = C::bounded(cap);
    for i in 0..messages {
        C::send(&tx, Message(i));
    }
    let sum: usize = (0..messages).map(|_| C::recv(&rx).0).sum();
    assert_eq!(sum, checksum(1, messages));
}

/// One producer thread, the calling thread consumes.
pub fn spsc<C: BlockingOps>(cap: usize, messages: usize) {
    let (tx, rx) = C::bounded(cap);
    let sum = thread::scope(move |s| {
        s.spawn(move || {
            for i in 0..messages {
                C::send(&tx, Message(i));
            }
        });
        (0..messages).map(|_| C::recv(&rx).0).sum::<usize>()
    });
    assert_eq!(sum, checksum(1, messages));
}

/// [`THREADS`] producer threads, the calling thread consumes.
pub fn mpsc<C: BlockingOps>(cap: usize, messages: usize) {
    let per = per_thread(messages);
    let (tx, rx) = C::bounded(cap);
    let sum = thread::scope(move |s| {
        for _ in 0..THREADS {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    C::send(&tx, Message(i));
                }
            });
        }
        drop(tx);
        (0..messages).map(|_| C::recv(&rx).0).sum::<usize>()
    });
    assert_eq!(sum, checksum(THREADS, per));
}

/// [`THREADS`] producer threads and [`THREADS`] consumer threads on one
/// channel.
pub fn mpmc<C: MultiConsumer>(cap: usize, messages: usize) {
    let per = per_thread(messages);
    let (tx, rx) = C::bounded(cap);
    let sum = thread::scope(move |s| {
        for _ in 0..THREADS {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    C::send(&tx, Message(i));
                }
            });
        }
        let consumers: Vec<_> = (0..THREADS)
            .map(|_| {
                let rx = C::clone_receiver(&rx);
                s.spawn(move || (0..per).map(|_| C::recv(&rx).0).sum::<usize>())
            })
            .collect();
        drop((tx, rx));
        consumers
            .into_iter()
            .map(|h| h.join().expect("consumer panicked"))
            .sum::<usize>()
    });
    assert_eq!(sum, checksum(THREADS, per));
}

/// [`THREADS`] channels with a producer thread each; the calling thread
/// receives every message through a select over all of them.
pub fn select_rx<C: BlockingSelect>(cap: usize, messages: usize) {
    let per = per_thread(messages);
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| C::bounded(cap)).unzip();
    let sum = thread::scope(move |s| {
        // As in crossbeam's suite the original senders stay alive to the end:
        // a producer that is done must not disconnect its channel, which
        // would make it ready forever in the select.
        for tx in &txs {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    C::send(&tx, Message(i));
                }
            });
        }
        (0..messages).map(|_| C::select_recv(&rxs).0).sum::<usize>()
    });
    assert_eq!(sum, checksum(THREADS, per));
}

/// [`THREADS`] channels; [`THREADS`] producer threads each send through a
/// select over all senders, [`THREADS`] consumer threads each receive
/// through a select over all receivers.
pub fn select_both<C: BlockingSelect>(cap: usize, messages: usize) {
    let per = per_thread(messages);
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| C::bounded(cap)).unzip();
    let sum = thread::scope(move |s| {
        // The original senders stay alive to the end, as in `select_rx`.
        for _ in 0..THREADS {
            let txs = txs.clone();
            s.spawn(move || {
                for i in 0..per {
                    C::select_send(&txs, Message(i));
                }
            });
        }
        let consumers: Vec<_> = (0..THREADS)
            .map(|_| {
                let rxs: Vec<_> = rxs.iter().map(C::clone_receiver).collect();
                s.spawn(move || (0..per).map(|_| C::select_recv(&rxs).0).sum::<usize>())
            })
            .collect();
        drop(rxs);
        consumers
            .into_iter()
            .map(|h| h.join().expect("consumer panicked"))
            .sum::<usize>()
    });
    assert_eq!(sum, checksum(THREADS, per));
}

/// Two channels and two threads bouncing one message back and forth
/// `messages` times: every message is a hand-off to the other thread.
pub fn ping_pong<C: BlockingOps>(cap: usize, messages: usize) {
    let (txa, rxb) = C::bounded(cap);
    let (txb, rxa) = C::bounded(cap);
    let last = thread::scope(move |s| {
        s.spawn(move || {
            for _ in 0..messages {
                let Message(n) = C::recv(&rxb);
                C::send(&txb, Message(n + 1));
            }
        });
        let mut msg = Message(0);
        for _ in 0..messages {
            C::send(&txa, msg);
            msg = C::recv(&rxa);
        }
        msg
    });
    assert_eq!(last, Message(messages));
}

fn per_thread(messages: usize) -> usize {
    assert_eq!(
        messages % THREADS,
        0,
        "messages must be a multiple of THREADS"
    );
    messages / THREADS
}
