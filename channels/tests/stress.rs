//! Stress: 4 senders x 4 receivers through every flavour, checking every value.
//!
//! Run in release by CI: `cargo test --release -p parkway-channels --test stress`.
//! Each run moves 1,000,000 values in total (250,000 per sender); debug builds
//! scale that down 20x (50,000) so `cargo test --workspace` stays fast.
//!
//! Values encode `(sender << 32) | sequence`. Bounded and unbuffered runs must
//! deliver every value exactly once (checked with a bitmap), and each receiver
//! must see each sender's values in increasing order. Dropping and sliding
//! runs must deliver a subset of what was sent, without duplicates, and each
//! (receiver, sender) pair must see strictly increasing sequence numbers.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parkway_channels::{
    bounded, dropping, sliding, PutError, Receiver, Sender, TryRecvError, TrySendError,
};
use util::{block_on, join};

const SENDERS: u64 = 4;
const RECEIVERS: usize = 4;
const TOTAL: u64 = if cfg!(debug_assertions) {
    1_000_000 / 20
} else {
    1_000_000
};
const PER_SENDER: u64 = TOTAL / SENDERS;

/// A generous per-test limit: a stuck stress run aborts instead of hanging CI.
fn watchdog() -> util::Watchdog {
    util::watchdog_for(Duration::from_secs(900))
}

fn encode(sender: u64, seq: u64) -> u64 {
    (sender << 32) | seq
}

fn decode(v: u64) -> (usize, u64) {
    ((v >> 32) as usize, v & 0xffff_ffff)
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Blocking,
    Async,
    /// Senders mix try_send / put / send_blocking; receivers mix try_recv /
    /// take / recv_blocking.
    Mixed,
}

fn spawn_senders(
    tx: &Sender<u64>,
    mode: Mode,
    start: &Arc<Barrier>,
    puts_ok: &Arc<AtomicUsize>,
) -> Vec<JoinHandle<usize>> {
    (0..SENDERS)
        .map(|s| {
            let tx = tx.clone();
            let start = Arc::clone(start);
            let puts_ok = Arc::clone(puts_ok);
            thread::spawn(move || {
                start.wait();
                match mode {
                    Mode::Blocking => {
                        for i in 0..PER_SENDER {
                            tx.send_blocking(encode(s, i)).unwrap();
                        }
                        0
                    }
                    Mode::Async => block_on(async {
                        for i in 0..PER_SENDER {
                            tx.send(encode(s, i)).await.unwrap();
                        }
                        0
                    }),
                    Mode::Mixed => mixed_sender(&tx, s, &puts_ok),
                }
            })
        })
        .collect()
}

/// Returns how many puts it issued.
fn mixed_sender(tx: &Sender<u64>, s: u64, puts_ok: &Arc<AtomicUsize>) -> usize {
    const MAX_IN_FLIGHT: usize = 64; // 4 senders x 64 stays far below MAX_PENDING
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut puts = 0;
    for i in 0..PER_SENDER {
        let v = encode(s, i);
        match i % 3 {
            0 => {
                let mut v = v;
                let mut tries = 0;
                loop {
                    match tx.try_send(v) {
                        Ok(()) => break,
                        Err(TrySendError::Full(back)) if tries < 16 => {
                            v = back;
                            tries += 1;
                            thread::yield_now();
                        }
                        Err(TrySendError::Full(back)) => {
                            tx.send_blocking(back).unwrap();
                            break;
                        }
                        Err(TrySendError::Closed(_)) => panic!("closed while a sender is alive"),
                    }
                }
            }
            1 => {
                while in_flight.load(Ordering::Acquire) >= MAX_IN_FLIGHT {
                    thread::yield_now();
                }
                in_flight.fetch_add(1, Ordering::AcqRel);
                let in_flight2 = Arc::clone(&in_flight);
                let puts_ok = Arc::clone(puts_ok);
                match tx.put(v, move |r| {
                    if r.is_ok() {
                        puts_ok.fetch_add(1, Ordering::AcqRel);
                    }
                    in_flight2.fetch_sub(1, Ordering::AcqRel);
                }) {
                    Ok(()) => puts += 1,
                    Err(PutError::TooManyPending(_)) => {
                        panic!(
                            "TooManyPending with at most {} puts in flight",
                            4 * MAX_IN_FLIGHT
                        )
                    }
                }
            }
            _ => tx.send_blocking(v).unwrap(),
        }
    }
    puts
}

fn spawn_receivers(
    rx: &Receiver<u64>,
    mode: Mode,
    start: &Arc<Barrier>,
) -> Vec<JoinHandle<Vec<u64>>> {
    (0..RECEIVERS)
        .map(|_| {
            let rx = rx.clone();
            let start = Arc::clone(start);
            thread::spawn(move || {
                start.wait();
                let mut got = Vec::with_capacity((TOTAL / RECEIVERS as u64) as usize);
                match mode {
                    Mode::Blocking => {
                        while let Some(v) = rx.recv_blocking() {
                            got.push(v);
                        }
                    }
                    Mode::Async => block_on(async {
                        while let Some(v) = rx.recv().await {
                            got.push(v);
                        }
                    }),
                    Mode::Mixed => mixed_receiver(&rx, &mut got),
                }
                got
            })
        })
        .collect()
}

fn mixed_receiver(rx: &Receiver<u64>, got: &mut Vec<u64>) {
    let (cb_tx, cb_rx) = mpsc::channel();
    let mut n = 0u64;
    loop {
        n += 1;
        let v = match n % 3 {
            0 => match rx.try_recv() {
                Ok(v) => Some(v),
                Err(TryRecvError::Empty) => {
                    thread::yield_now();
                    continue;
                }
                Err(TryRecvError::Closed) => None,
            },
            1 => {
                let cb_tx = cb_tx.clone();
                rx.take(move |v| cb_tx.send(v).unwrap())
                    .expect("TooManyPending with 4 takes in flight");
                util::recv_timeout(&cb_rx, "a take callback in the stress run")
            }
            _ => rx.recv_blocking(),
        };
        match v {
            Some(v) => got.push(v),
            None => return,
        }
    }
}

enum Expect {
    ExactlyOnce,
    Subset,
}

fn run(name: &str, (tx, rx): (Sender<u64>, Receiver<u64>), mode: Mode, expect: Expect) {
    let start = Arc::new(Barrier::new(SENDERS as usize + RECEIVERS));
    let puts_ok = Arc::new(AtomicUsize::new(0));
    let senders = spawn_senders(&tx, mode, &start, &puts_ok);
    let receivers = spawn_receivers(&rx, mode, &start);
    drop((tx, rx));
    let mut puts_issued = 0;
    for h in senders {
        puts_issued += join(h, &format!("{name}: sender"));
    }
    let results: Vec<Vec<u64>> = receivers
        .into_iter()
        .map(|h| join(h, &format!("{name}: receiver")))
        .collect();
    assert_eq!(
        puts_ok.load(Ordering::Acquire),
        puts_issued,
        "{name}: put callbacks Ok != puts issued"
    );

    let mut seen = vec![false; (SENDERS * PER_SENDER) as usize];
    let mut received = 0u64;
    for (r, got) in results.iter().enumerate() {
        let mut last: Vec<Option<u64>> = vec![None; SENDERS as usize];
        for &v in got {
            let (s, seq) = decode(v);
            assert!(
                s < SENDERS as usize && seq < PER_SENDER,
                "{name}: value {v:#x} was never sent"
            );
            let idx = s * PER_SENDER as usize + seq as usize;
            assert!(
                !seen[idx],
                "{name}: value (sender {s}, seq {seq}) received twice"
            );
            seen[idx] = true;
            received += 1;
            if !matches!(mode, Mode::Mixed) {
                assert!(
                    last[s] < Some(seq),
                    "{name}: receiver {r} saw sender {s}'s seq {seq} after {:?}",
                    last[s]
                );
                last[s] = Some(seq);
            }
        }
    }
    match expect {
        Expect::ExactlyOnce => {
            let missing: Vec<(usize, u64)> = seen
                .iter()
                .enumerate()
                .filter(|(_, s)| !**s)
                .map(|(i, _)| (i / PER_SENDER as usize, i as u64 % PER_SENDER))
                .collect();
            assert!(
                missing.is_empty(),
                "{name}: {} values lost; first (sender, seq): {:?}{}",
                missing.len(),
                &missing[..missing.len().min(20)],
                if matches!(mode, Mode::Mixed) {
                    " (mixed: seq % 3 == 0 try_send, 1 put, 2 send_blocking)"
                } else {
                    ""
                }
            );
            assert_eq!(received, SENDERS * PER_SENDER, "{name}: values lost");
        }
        Expect::Subset => {
            assert!(received > 0, "{name}: nothing received");
            assert!(received <= SENDERS * PER_SENDER);
        }
    }
}

fn run_lossy_ordered(name: &str, chan: (Sender<u64>, Receiver<u64>)) {
    // Per (receiver, sender) strictly increasing is checked by `run` for
    // non-mixed modes; here it is the main property.
    run(name, chan, Mode::Blocking, Expect::Subset);
}

// ----- blocking ops -----

#[test]
fn blocking_bounded_1() {
    let _w = watchdog();
    run(
        "blocking bounded(1)",
        bounded(1),
        Mode::Blocking,
        Expect::ExactlyOnce,
    );
}

#[test]
fn blocking_bounded_64() {
    let _w = watchdog();
    run(
        "blocking bounded(64)",
        bounded(64),
        Mode::Blocking,
        Expect::ExactlyOnce,
    );
}

#[test]
fn blocking_bounded_1024() {
    let _w = watchdog();
    run(
        "blocking bounded(1024)",
        bounded(1024),
        Mode::Blocking,
        Expect::ExactlyOnce,
    );
}

#[test]
fn blocking_unbuffered() {
    let _w = watchdog();
    run(
        "blocking unbuffered",
        parkway_channels::unbuffered(),
        Mode::Blocking,
        Expect::ExactlyOnce,
    );
}

// ----- async ops, each sender/receiver under block_on on its own thread -----

#[test]
fn async_bounded_1() {
    let _w = watchdog();
    run(
        "async bounded(1)",
        bounded(1),
        Mode::Async,
        Expect::ExactlyOnce,
    );
}

#[test]
fn async_bounded_64() {
    let _w = watchdog();
    run(
        "async bounded(64)",
        bounded(64),
        Mode::Async,
        Expect::ExactlyOnce,
    );
}

#[test]
fn async_bounded_1024() {
    let _w = watchdog();
    run(
        "async bounded(1024)",
        bounded(1024),
        Mode::Async,
        Expect::ExactlyOnce,
    );
}

#[test]
fn async_unbuffered() {
    let _w = watchdog();
    run(
        "async unbuffered",
        parkway_channels::unbuffered(),
        Mode::Async,
        Expect::ExactlyOnce,
    );
}

// ----- try_send / put / take mixed with blocking ops -----

#[test]
fn mixed_bounded_1() {
    let _w = watchdog();
    run(
        "mixed bounded(1)",
        bounded(1),
        Mode::Mixed,
        Expect::ExactlyOnce,
    );
}

#[test]
fn mixed_bounded_64() {
    let _w = watchdog();
    run(
        "mixed bounded(64)",
        bounded(64),
        Mode::Mixed,
        Expect::ExactlyOnce,
    );
}

#[test]
fn mixed_unbuffered() {
    let _w = watchdog();
    run(
        "mixed unbuffered",
        parkway_channels::unbuffered(),
        Mode::Mixed,
        Expect::ExactlyOnce,
    );
}

// ----- lossy buffers -----

#[test]
fn dropping_64() {
    let _w = watchdog();
    run_lossy_ordered("dropping(64)", dropping(64));
}

#[test]
fn sliding_64() {
    let _w = watchdog();
    run_lossy_ordered("sliding(64)", sliding(64));
}

#[test]
fn async_dropping_and_sliding_64() {
    let _w = watchdog();
    run(
        "async dropping(64)",
        dropping(64),
        Mode::Async,
        Expect::Subset,
    );
    run(
        "async sliding(64)",
        sliding(64),
        Mode::Async,
        Expect::Subset,
    );
}

/// Two threads ping-pong through a pair of channels with async `send` and
/// `recv`, never cancelling: every park of a receiver on a ring relies on
/// the announce-then-look handshake with the lock-free push, and a missed
/// wake-up stops the exchange (`util::block_on` then fails the test).
fn async_ping_pong(name: &'static str, make: fn() -> (Sender<u64>, Receiver<u64>)) {
    let _w = watchdog();
    let rounds = TOTAL / 5;
    let (ping_tx, ping_rx) = make();
    let (pong_tx, pong_rx) = make();
    let echo = thread::spawn(move || {
        block_on(async move {
            let mut n = 0u64;
            while let Some(v) = ping_rx.recv().await {
                assert_eq!(v, n, "{name}: ping out of order");
                pong_tx.send(v).await.expect("pinger gone");
                n += 1;
            }
            n
        })
    });
    block_on(async move {
        for i in 0..rounds {
            ping_tx.send(i).await.expect("echo gone");
            assert_eq!(pong_rx.recv().await, Some(i), "{name}: pong {i}");
        }
    });
    assert_eq!(echo.join().expect("echo panicked"), rounds, "{name}");
}

#[test]
fn async_ping_pong_bounded_1() {
    async_ping_pong("bounded(1)", || parkway_channels::bounded(1));
}

#[test]
fn async_ping_pong_bounded_2() {
    async_ping_pong("bounded(2)", || parkway_channels::bounded(2));
}

#[test]
fn async_ping_pong_unbuffered() {
    async_ping_pong("unbuffered", parkway_channels::unbuffered);
}
