//! The combinator workloads on parkway; [`super::tokio_impl`] has the tokio
//! programs.

use parkway::{chan, Runtime};

use super::{
    cheap, BLOCKING_ITEMS, BLOCKING_SLEEP, CHANNEL_CAPACITY, MULT_VALUES, ROUND_TRIPS, TAPS,
};

/// One `pipeline n` run of `items` items; returns the output's wrapping
/// sum.
pub fn pipeline(rt: &Runtime, n: usize, items: u64) -> u64 {
    rt.block_on(async move {
        parkway::go(async move {
            let (in_tx, in_rx) = chan::bounded(CHANNEL_CAPACITY);
            let (out_tx, out_rx) = chan::bounded(CHANNEL_CAPACITY);
            parkway::go(async move {
                for x in 0..items {
                    in_tx.send(x).await.expect("the pipeline reads its input");
                }
            });
            parkway::pipeline(n, out_tx, |x| Some(cheap(x)), in_rx, true);
            let mut sum = 0u64;
            while let Some(v) = out_rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        })
        .await
        .expect("the consumer does not panic")
    })
}

/// One `pipeline_blocking n` run; returns how many items came out in order.
pub fn pipeline_blocking(rt: &Runtime, n: usize) -> u64 {
    rt.block_on(async move {
        parkway::go(async move {
            let (out_tx, out_rx) = chan::bounded(CHANNEL_CAPACITY);
            parkway::pipeline_blocking(
                n,
                out_tx,
                |x: u64| {
                    std::thread::sleep(BLOCKING_SLEEP);
                    Some(x)
                },
                parkway::to_chan(0..BLOCKING_ITEMS),
                true,
            );
            let mut next = 0;
            while let Some(v) = out_rx.recv().await {
                assert_eq!(v, next, "pipeline_blocking kept input order");
                next += 1;
            }
            next
        })
        .await
        .expect("the consumer does not panic")
    })
}

/// One `mult` run: `MULT_VALUES` values to `TAPS` taps; returns the sum
/// of the taps' sums.
pub fn mult(rt: &Runtime) -> u64 {
    rt.block_on(async {
        parkway::go(async {
            let (src_tx, src_rx) = chan::bounded(CHANNEL_CAPACITY);
            let m = parkway::mult(src_rx);
            let mut taps = Vec::with_capacity(TAPS);
            for _ in 0..TAPS {
                let (tx, rx) = chan::bounded::<u64>(CHANNEL_CAPACITY);
                m.tap(tx, true);
                taps.push(parkway::go(async move {
                    let mut sum = 0u64;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                }));
            }
            for x in 0..MULT_VALUES {
                src_tx.send(x).await.expect("the mult reads its source");
            }
            drop(src_tx);
            let mut total = 0;
            for t in taps {
                total += t.await.expect("a tap does not panic");
            }
            total
        })
        .await
        .expect("the producer does not panic")
    })
}

/// One `thread round trip` run; returns the sum of the results.
pub fn thread_round_trip(rt: &Runtime) -> u64 {
    rt.block_on(async {
        parkway::go(async {
            let mut sum = 0;
            for i in 0..ROUND_TRIPS {
                sum += parkway::thread(move || i).await.expect("no panic");
            }
            sum
        })
        .await
        .expect("no panic")
    })
}
