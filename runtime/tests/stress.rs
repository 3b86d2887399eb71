//! Randomized stress: several hundred go blocks pass values through
//! channels with random yields, sleeps, timeouts and `alt!`, on 1, 2 and 4
//! workers; every value must arrive exactly once.
//!
//! Each run is seeded; a failure message names the seed and worker count.

mod util;

use std::time::Duration;

use parkway::chan::{self, Receiver, Sender};
use util::{runtime, watchdog, Rng};

/// Producers, each sending `PER_PRODUCER` distinct values.
const PRODUCERS: u64 = 100;
/// Values per producer.
const PER_PRODUCER: u64 = 100;
/// Relays between the work channel and the output channel.
const RELAYS: u64 = 150;
/// Collectors draining the output channel.
const COLLECTORS: u64 = 50;

/// A random pause: nothing, a yield, or a short sleep.
async fn pause(rng: &mut Rng) {
    match rng.below(10) {
        0..=4 => {}
        5..=7 => parkway::yield_now().await,
        8 => parkway::sleep(Duration::from_micros(rng.range(1, 500))).await,
        _ => parkway::sleep(Duration::from_millis(rng.range(1, 3))).await,
    }
}

/// A producer: sends its values, each by a randomly chosen route.
async fn produce(id: u64, tx: Sender<u64>, seed: u64) {
    let mut rng = Rng::new(seed ^ id.wrapping_mul(0x1000_0001));
    for i in 0..PER_PRODUCER {
        let v = id * PER_PRODUCER + i;
        pause(&mut rng).await;
        match rng.below(3) {
            0 => tx.send(v).await.unwrap(),
            // try first, park if full.
            1 => {
                if let Err(e) = tx.try_send(v) {
                    let v = match e {
                        chan::TrySendError::Full(v) => v,
                        chan::TrySendError::Closed(v) => panic!("work closed with {v}"),
                    };
                    tx.send(v).await.unwrap();
                }
            }
            // alt! against a short timeout, retried until the send commits.
            _ => loop {
                let sent = parkway::alt! {
                    send(tx, v) -> r => { r.unwrap(); true },
                    recv(parkway::timeout(Duration::from_micros(rng.range(50, 2000)))) -> _ => false,
                };
                if sent {
                    break;
                }
            },
        }
    }
}

/// A relay: forwards from `rx` to `tx` until `rx` closes; returns how many
/// it forwarded.
async fn relay(id: u64, rx: Receiver<u64>, tx: Sender<u64>, seed: u64) -> u64 {
    let mut rng = Rng::new(seed ^ id.wrapping_mul(0x2000_0003) ^ 0xABCD);
    let mut n = 0;
    loop {
        let v = if rng.below(2) == 0 {
            rx.recv().await
        } else {
            // Receive with a timeout, looping on timeouts.
            loop {
                let got = parkway::alt! {
                    recv(rx) -> v => Some(v),
                    recv(parkway::timeout(Duration::from_micros(rng.range(50, 3000)))) -> _ => None,
                };
                if let Some(v) = got {
                    break v;
                }
            }
        };
        let Some(v) = v else { return n };
        pause(&mut rng).await;
        tx.send(v).await.unwrap();
        n += 1;
    }
}

/// A collector: gathers from `rx` until it closes.
async fn collect(id: u64, rx: Receiver<u64>, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed ^ id.wrapping_mul(0x3000_0005) ^ 0x1234);
    let mut got = Vec::new();
    while let Some(v) = rx.recv().await {
        got.push(v);
        pause(&mut rng).await;
    }
    got
}

/// One full run: every value sent by a producer must reach exactly one
/// collector, and the relays' counts must add up.
fn run(workers: usize, seed: u64) {
    let rt = runtime(workers);
    let (mut all, relayed) = rt.block_on(async move {
        let (work_tx, work_rx) = chan::bounded::<u64>(8);
        let (out_tx, out_rx) = chan::unbuffered::<u64>();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| parkway::go(produce(p, work_tx.clone(), seed)))
            .collect();
        drop(work_tx);
        let relays: Vec<_> = (0..RELAYS)
            .map(|r| parkway::go(relay(r, work_rx.clone(), out_tx.clone(), seed)))
            .collect();
        drop((work_rx, out_tx));
        let collectors: Vec<_> = (0..COLLECTORS)
            .map(|c| parkway::go(collect(c, out_rx.clone(), seed)))
            .collect();
        drop(out_rx);
        for p in producers {
            p.await.unwrap();
        }
        let mut relayed = 0;
        for r in relays {
            relayed += r.await.unwrap();
        }
        let mut all = Vec::new();
        for c in collectors {
            all.extend(c.await.unwrap());
        }
        (all, relayed)
    });
    let total = PRODUCERS * PER_PRODUCER;
    assert_eq!(
        relayed, total,
        "workers {workers}, seed {seed:#x}: relay count"
    );
    all.sort_unstable();
    let missing: Vec<_> = (0..total)
        .filter(|v| all.binary_search(v).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "workers {workers}, seed {seed:#x}: missing {missing:?}"
    );
    assert_eq!(
        all.len() as u64,
        total,
        "workers {workers}, seed {seed:#x}: duplicated values"
    );
    util::wait_until("every task to be freed", || {
        rt.handle().metrics().num_alive_tasks() == 0
    });
}

#[test]
fn values_through_channels_with_random_pauses_one_worker() {
    watchdog(|| run(1, 0x0001));
}

#[test]
fn values_through_channels_with_random_pauses_two_workers() {
    watchdog(|| {
        run(2, 0x0002);
        run(2, 0xDEAD_BEEF);
    });
}

#[test]
fn values_through_channels_with_random_pauses_four_workers() {
    watchdog(|| run(4, 0x0004));
}

#[test]
fn spawn_join_and_abort_storm() {
    // Tasks spawn random children, some aborted at random moments; every
    // child either delivers its value or ends cancelled, and the sum of the
    // delivered values matches what the children report through a channel.
    watchdog(|| {
        let rt = runtime(2);
        let (delivered, reported) = rt.block_on(async {
            let (tx, rx) = chan::bounded::<u64>(1024);
            let parents: Vec<_> = (0..200u64)
                .map(|p| {
                    let tx = tx.clone();
                    parkway::go(async move {
                        let mut rng = Rng::new(p + 7);
                        let mut delivered = 0;
                        for c in 0..10u64 {
                            let v = p * 100 + c;
                            let tx = tx.clone();
                            let mut crng = Rng::new(v);
                            let child = parkway::go(async move {
                                pause(&mut crng).await;
                                pause(&mut crng).await;
                                // Reported only once the value is certain
                                // to be returned (no await after this).
                                tx.try_send(v).expect("report channel full");
                                v
                            });
                            if rng.below(3) == 0 {
                                pause(&mut rng).await;
                                child.abort();
                            }
                            match child.await {
                                Ok(v) => delivered += v,
                                Err(e) => assert!(e.is_cancelled(), "{e}"),
                            }
                        }
                        delivered
                    })
                })
                .collect();
            drop(tx);
            let reader = parkway::go(async move {
                let mut sum = 0;
                while let Some(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let mut delivered = 0;
            for p in parents {
                delivered += p.await.unwrap();
            }
            (delivered, reader.await.unwrap())
        });
        assert_eq!(
            delivered, reported,
            "a cancelled child's value was delivered, or lost"
        );
    });
}
