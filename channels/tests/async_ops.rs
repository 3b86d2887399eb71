//! Async ops (`send().await` = core.async `>!`, `recv().await` = `<!`): wake-ups,
//! waker replacement, many threads, and async mixed with blocking ops.

#[macro_use]
mod util;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::task::Poll;
use std::thread;

use parkway_channels::{bounded, unbuffered, Receiver, Sender};
use util::{assert_pending, block_on, join, poll_with, spawn_thread_future, CountWaker};

#[test]
fn send_then_recv_with_block_on() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(2);
    block_on(async {
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
    });
}

#[test]
fn ready_ops_complete_on_first_poll() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send(1));
    assert_matches!(poll_with(s.as_mut(), &w), Poll::Ready(Ok(())));
    let mut r = Box::pin(rx.recv());
    assert_eq!(poll_with(r.as_mut(), &w), Poll::Ready(Some(1)));
    assert_eq!(w.count(), 0, "an op that completed at once should not wake");
}

#[test]
fn parked_receiver_is_woken_by_a_send() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    let w = CountWaker::new();
    let mut r = Box::pin(rx.recv());
    assert_pending(poll_with(r.as_mut(), &w), "recv on empty");
    assert_pending(poll_with(r.as_mut(), &w), "recv on empty, polled again");
    assert_eq!(w.count(), 0, "woken with nothing sent");
    tx.send_blocking(5).unwrap();
    assert!(w.woken(), "send did not wake the parked receiver");
    assert_eq!(poll_with(r.as_mut(), &w), Poll::Ready(Some(5)));
}

#[test]
fn parked_sender_is_woken_when_room_appears() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &w), "send on full");
    assert_eq!(w.count(), 0);
    assert_eq!(rx.recv_blocking(), Some(1));
    assert!(w.woken(), "recv did not wake the parked sender");
    assert_matches!(poll_with(s.as_mut(), &w), Poll::Ready(Ok(())));
    assert_eq!(rx.recv_blocking(), Some(2));
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let _watchdog = util::watchdog();
    // Per the Future contract, only the waker of the most recent poll must be woken.
    let (tx, rx) = bounded(1);
    let first = CountWaker::new();
    let second = CountWaker::new();
    let mut r = Box::pin(rx.recv());
    assert_pending(poll_with(r.as_mut(), &first), "recv on empty");
    assert_pending(poll_with(r.as_mut(), &second), "recv on empty, new waker");
    tx.try_send(8).unwrap();
    assert!(
        second.woken(),
        "the waker from the latest poll was not woken"
    );
    assert_eq!(poll_with(r.as_mut(), &second), Poll::Ready(Some(8)));

    // Same for a sender.
    tx.try_send(1).unwrap();
    let first = CountWaker::new();
    let second = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &first), "send on full");
    assert_pending(poll_with(s.as_mut(), &second), "send on full, new waker");
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert!(
        second.woken(),
        "the waker from the latest poll was not woken"
    );
    assert_matches!(poll_with(s.as_mut(), &second), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv().ok(), Some(2));
}

#[test]
fn unbuffered_async_pair_on_two_threads() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let sender = spawn_thread_future(async move {
        for i in 0..1_000 {
            tx.send(i).await.unwrap();
        }
    });
    let receiver = spawn_thread_future(async move {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    join(sender, "async sender");
    assert_eq!(
        join(receiver, "async receiver"),
        (0..1_000).collect::<Vec<_>>()
    );
}

#[test]
fn unbuffered_async_send_parks_until_an_async_receiver_runs() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u32>();
    let ws = CountWaker::new();
    let wr = CountWaker::new();
    let mut s = Box::pin(tx.send(3));
    assert_pending(poll_with(s.as_mut(), &ws), "unbuffered send, no receiver");
    let mut r = Box::pin(rx.recv());
    assert_eq!(poll_with(r.as_mut(), &wr), Poll::Ready(Some(3)));
    assert!(
        ws.woken(),
        "the sender was not woken after its value was taken"
    );
    assert_matches!(poll_with(s.as_mut(), &ws), Poll::Ready(Ok(())));
}

#[test]
fn unbuffered_async_recv_first_then_async_send() {
    let _watchdog = util::watchdog();
    // The receiver parks first; the sender must not be lost even though an
    // async receiver is woken rather than handed the value.
    let (tx, rx) = unbuffered::<u32>();
    let ws = CountWaker::new();
    let wr = CountWaker::new();
    let mut r = Box::pin(rx.recv());
    assert_pending(poll_with(r.as_mut(), &wr), "unbuffered recv, no sender");
    let mut s = Box::pin(tx.send(4));
    let first = poll_with(s.as_mut(), &ws);
    assert!(wr.woken(), "the parked receiver was not woken by the send");
    assert_eq!(poll_with(r.as_mut(), &wr), Poll::Ready(Some(4)));
    match first {
        Poll::Ready(res) => assert!(res.is_ok()),
        Poll::Pending => {
            assert!(
                ws.woken(),
                "the sender was not woken after its value was taken"
            );
            assert_matches!(poll_with(s.as_mut(), &ws), Poll::Ready(Ok(())));
        }
    }
}

fn spawn_async_senders(
    tx: &Sender<u64>,
    senders: u64,
    per_sender: u64,
    start: &Arc<Barrier>,
) -> Vec<thread::JoinHandle<()>> {
    (0..senders)
        .map(|s| {
            let tx = tx.clone();
            let start = Arc::clone(start);
            thread::spawn(move || {
                start.wait();
                block_on(async move {
                    for i in 0..per_sender {
                        tx.send(s * per_sender + i).await.unwrap();
                    }
                })
            })
        })
        .collect()
}

fn spawn_blocking_senders(
    tx: &Sender<u64>,
    senders: u64,
    per_sender: u64,
    start: &Arc<Barrier>,
) -> Vec<thread::JoinHandle<()>> {
    (0..senders)
        .map(|s| {
            let tx = tx.clone();
            let start = Arc::clone(start);
            thread::spawn(move || {
                start.wait();
                for i in 0..per_sender {
                    tx.send_blocking(s * per_sender + i).unwrap();
                }
            })
        })
        .collect()
}

fn spawn_async_receivers(
    rx: &Receiver<u64>,
    n: usize,
    start: &Arc<Barrier>,
) -> Vec<thread::JoinHandle<Vec<u64>>> {
    (0..n)
        .map(|_| {
            let rx = rx.clone();
            let start = Arc::clone(start);
            thread::spawn(move || {
                start.wait();
                block_on(async move {
                    let mut got = Vec::new();
                    while let Some(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                })
            })
        })
        .collect()
}

fn spawn_blocking_receivers(
    rx: &Receiver<u64>,
    n: usize,
    start: &Arc<Barrier>,
) -> Vec<thread::JoinHandle<Vec<u64>>> {
    (0..n)
        .map(|_| {
            let rx = rx.clone();
            let start = Arc::clone(start);
            thread::spawn(move || {
                start.wait();
                let mut got = Vec::new();
                while let Some(v) = rx.recv_blocking() {
                    got.push(v);
                }
                got
            })
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Side {
    Async,
    Blocking,
}

fn run(cap: usize, send: Side, recv: Side) {
    const SENDERS: u64 = 4;
    const RECEIVERS: usize = 4;
    const PER_SENDER: u64 = 5_000;
    let (tx, rx) = bounded::<u64>(cap);
    let start = Arc::new(Barrier::new(SENDERS as usize + RECEIVERS));
    let senders = match send {
        Side::Async => spawn_async_senders(&tx, SENDERS, PER_SENDER, &start),
        Side::Blocking => spawn_blocking_senders(&tx, SENDERS, PER_SENDER, &start),
    };
    let receivers = match recv {
        Side::Async => spawn_async_receivers(&rx, RECEIVERS, &start),
        Side::Blocking => spawn_blocking_receivers(&rx, RECEIVERS, &start),
    };
    drop((tx, rx));
    for h in senders {
        join(h, "sender");
    }
    let mut seen = HashSet::new();
    for (r, h) in receivers.into_iter().enumerate() {
        let mut last = vec![None; SENDERS as usize];
        for v in join(h, "receiver") {
            let s = (v / PER_SENDER) as usize;
            assert!(
                last[s] < Some(v),
                "receiver {r}: sender {s}'s values out of order"
            );
            last[s] = Some(v);
            assert!(seen.insert(v), "value {v} received twice");
        }
    }
    assert_eq!(seen.len() as u64, SENDERS * PER_SENDER, "values lost");
}

#[test]
fn async_senders_async_receivers_bounded() {
    let _watchdog = util::watchdog();
    run(16, Side::Async, Side::Async);
}

#[test]
fn async_senders_async_receivers_bounded_one() {
    let _watchdog = util::watchdog();
    run(1, Side::Async, Side::Async);
}

#[test]
fn async_senders_async_receivers_unbuffered() {
    let _watchdog = util::watchdog();
    run(0, Side::Async, Side::Async);
}

#[test]
fn async_senders_blocking_receivers() {
    let _watchdog = util::watchdog();
    run(4, Side::Async, Side::Blocking);
    run(0, Side::Async, Side::Blocking);
}

#[test]
fn blocking_senders_async_receivers() {
    let _watchdog = util::watchdog();
    run(4, Side::Blocking, Side::Async);
    run(0, Side::Blocking, Side::Async);
}

#[test]
fn many_parked_receivers_all_served() {
    let _watchdog = util::watchdog();
    // 64 async receivers park on one channel; 64 values wake them all.
    let (tx, rx) = bounded::<u32>(1);
    let wakers: Vec<_> = (0..64).map(|_| CountWaker::new()).collect();
    let mut futs: Vec<_> = (0..64).map(|_| Box::pin(rx.recv())).collect();
    for (f, w) in futs.iter_mut().zip(&wakers) {
        assert_pending(poll_with(f.as_mut(), w), "recv on empty");
    }
    let mut got = Vec::new();
    let mut done = [false; 64];
    for v in 0..64u32 {
        tx.send_blocking(v).unwrap();
        // Poll every woken, unfinished receiver; exactly one should get v.
        let mut progressed = false;
        for i in 0..64 {
            if !done[i] && wakers[i].woken() {
                if let Poll::Ready(x) = poll_with(futs[i].as_mut(), &wakers[i]) {
                    got.push(x.expect("None from an open channel"));
                    done[i] = true;
                    progressed = true;
                    break;
                }
            }
        }
        assert!(progressed, "no woken receiver could take value {v}");
    }
    got.sort();
    assert_eq!(got, (0..64).collect::<Vec<_>>());
}
