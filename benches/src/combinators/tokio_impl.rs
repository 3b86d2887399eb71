//! The combinator workloads on tokio: the closest programs to
//! [`super::parkway_impl`]'s.

use futures::stream::{self, StreamExt};
use tokio::runtime::Runtime;
use tokio::sync::{broadcast, mpsc};

use super::{
    cheap, BLOCKING_ITEMS, BLOCKING_SLEEP, CHANNEL_CAPACITY, MULT_VALUES, ROUND_TRIPS, TAPS,
};

/// Lane capacity of the "tokio lanes" pipeline (parkway's `LANE_CAPACITY`).
const LANE: usize = parkway::LANE_CAPACITY;

/// A producer task feeding `0..items` into a bounded mpsc channel.
fn producer(items: u64) -> mpsc::Receiver<u64> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(async move {
        for x in 0..items {
            tx.send(x).await.expect("the pipeline reads its input");
        }
    });
    rx
}

/// Sums a channel until it closes.
async fn consume(mut rx: mpsc::Receiver<u64>) -> u64 {
    let mut sum = 0u64;
    while let Some(v) = rx.recv().await {
        sum = sum.wrapping_add(v);
    }
    sum
}

/// Parkway's pipeline design with tokio's channels and tasks: one task for
/// n = 1; else a dispatcher dealing round-robin to n worker tasks and a
/// collector taking their results in turn.
pub fn pipeline_lanes(rt: &Runtime, n: usize, items: u64) -> u64 {
    rt.block_on(async move {
        tokio::spawn(async move {
            let mut input = producer(items);
            let (out_tx, out_rx) = mpsc::channel(CHANNEL_CAPACITY);
            if n == 1 {
                tokio::spawn(async move {
                    while let Some(x) = input.recv().await {
                        if out_tx.send(cheap(x)).await.is_err() {
                            return;
                        }
                    }
                });
            } else {
                let mut lanes_in = Vec::with_capacity(n);
                let mut lanes_out = Vec::with_capacity(n);
                for _ in 0..n {
                    let (in_tx, mut in_rx) = mpsc::channel::<u64>(LANE);
                    let (res_tx, res_rx) = mpsc::channel::<u64>(LANE);
                    tokio::spawn(async move {
                        while let Some(x) = in_rx.recv().await {
                            if res_tx.send(cheap(x)).await.is_err() {
                                return;
                            }
                        }
                    });
                    lanes_in.push(in_tx);
                    lanes_out.push(res_rx);
                }
                tokio::spawn(async move {
                    let mut lane = 0;
                    while let Some(x) = input.recv().await {
                        if lanes_in[lane].send(x).await.is_err() {
                            return;
                        }
                        lane = (lane + 1) % n;
                    }
                });
                tokio::spawn(async move {
                    let mut lane = 0;
                    while let Some(v) = lanes_out[lane].recv().await {
                        if out_tx.send(v).await.is_err() {
                            return;
                        }
                        lane = (lane + 1) % n;
                    }
                });
            }
            consume(out_rx).await
        })
        .await
        .expect("no panic")
    })
}

/// A stream of an mpsc receiver's values.
fn stream_of(rx: mpsc::Receiver<u64>) -> impl futures::Stream<Item = u64> {
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
}

/// A task per item, n in flight in input order (`StreamExt::buffered`).
pub fn pipeline_buffered(rt: &Runtime, n: usize, items: u64) -> u64 {
    rt.block_on(async move {
        tokio::spawn(async move {
            let input = producer(items);
            let (out_tx, out_rx) = mpsc::channel(CHANNEL_CAPACITY);
            tokio::spawn(async move {
                let results = stream_of(input)
                    .map(|x| tokio::spawn(async move { cheap(x) }))
                    .buffered(n);
                let mut results = std::pin::pin!(results);
                while let Some(v) = results.next().await {
                    if out_tx.send(v.expect("no panic")).await.is_err() {
                        return;
                    }
                }
            });
            consume(out_rx).await
        })
        .await
        .expect("no panic")
    })
}

/// `spawn_blocking` per item, n in flight in input order; returns how many
/// items came out in order.
pub fn pipeline_blocking(rt: &Runtime, n: usize) -> u64 {
    rt.block_on(async move {
        tokio::spawn(async move {
            let mut results = stream::iter(0..BLOCKING_ITEMS)
                .map(|x| {
                    tokio::task::spawn_blocking(move || {
                        std::thread::sleep(BLOCKING_SLEEP);
                        x
                    })
                })
                .buffered(n);
            let mut next = 0;
            while let Some(v) = results.next().await {
                assert_eq!(v.expect("no panic"), next);
                next += 1;
            }
            next
        })
        .await
        .expect("no panic")
    })
}

/// `MULT_VALUES` values to `TAPS` broadcast receivers; returns the sum of
/// the receivers' sums. Broadcast has no back-pressure (a receiver that
/// falls a whole buffer behind loses values), so the channel gets room for
/// every value: no receiver can lag, and the producer never waits, which is
/// broadcast's best case.
pub fn broadcast(rt: &Runtime) -> u64 {
    rt.block_on(async {
        tokio::spawn(async {
            let capacity = usize::try_from(MULT_VALUES)
                .expect("fits")
                .next_power_of_two();
            let (tx, _) = broadcast::channel::<u64>(capacity);
            let taps: Vec<_> = (0..TAPS)
                .map(|_| {
                    let mut rx = tx.subscribe();
                    tokio::spawn(async move {
                        let mut sum = 0u64;
                        loop {
                            match rx.recv().await {
                                Ok(v) => sum += v,
                                Err(broadcast::error::RecvError::Closed) => return sum,
                                Err(broadcast::error::RecvError::Lagged(k)) => {
                                    panic!("a receiver lost {k} values")
                                }
                            }
                        }
                    })
                })
                .collect();
            for x in 0..MULT_VALUES {
                tx.send(x).expect("receivers exist");
            }
            drop(tx);
            let mut total = 0;
            for t in taps {
                total += t.await.expect("a receiver does not panic");
            }
            total
        })
        .await
        .expect("no panic")
    })
}

/// `ROUND_TRIPS` sequential `spawn_blocking(|| x).await`; returns the sum.
pub fn thread_round_trip(rt: &Runtime) -> u64 {
    rt.block_on(async {
        tokio::spawn(async {
            let mut sum = 0;
            for i in 0..ROUND_TRIPS {
                sum += tokio::task::spawn_blocking(move || i)
                    .await
                    .expect("no panic");
            }
            sum
        })
        .await
        .expect("no panic")
    })
}
