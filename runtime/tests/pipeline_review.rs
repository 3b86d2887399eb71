//! Cases from a second cold review of the pipelines and the mult: a
//! pipeline whose worker died while `from` stays open and idle must still
//! end (it hung); a worker failed after finishing its lane lost nothing and
//! is not reported as a loss; `pipeline` with `n = 1` closes `to` when its
//! go block is failed; and a mult stress run with taps tapped, untapped and
//! dropped while values flow (every value once, in order, per tap). Each of
//! the first three failed before its fix.

mod util;

use std::time::{Duration, Instant};

use parkway::chan;
use parkway::pipeline;
use util::watchdog;

/// A worker dies (strict go-check); the collector reaches its lane, sees it
/// closed without an end marker, and awaits every worker. `from` stays open
/// and idle: the dispatcher waits on it (and on `stop`, which the collector
/// still holds), so the live worker waits for input forever and the
/// collector awaits it forever: `to` never closes, the handle never
/// resolves.
#[test]
fn collector_awaiting_workers_does_not_hang_on_an_idle_open_input() {
    watchdog(|| {
        let rt = parkway::Runtime::builder()
            .worker_threads(2)
            .go_check(parkway::GoCheck::Strict)
            .stall_threshold(Duration::from_millis(50))
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let (tx, rx) = chan::bounded(16);
            let (in_tx, in_rx) = chan::bounded(16);
            let before = handle.metrics().num_alive_tasks();
            let done = pipeline(
                2,
                tx,
                |x: u64| {
                    if x == 1 {
                        std::thread::sleep(Duration::from_millis(400));
                    }
                    Some(x)
                },
                in_rx,
                true,
            );
            let spawned = handle.metrics().num_alive_tasks() - before;
            in_tx.send(0).await.unwrap();
            in_tx.send(1).await.unwrap();
            assert_eq!(rx.recv().await, Some(0));
            assert_eq!(rx.recv().await, Some(1));
            // Wait until strict go-check has failed lane 1's worker.
            let start = Instant::now();
            while handle.metrics().num_alive_tasks() - before == spawned {
                assert!(start.elapsed() < Duration::from_secs(10), "never failed");
                parkway::sleep(Duration::from_millis(5)).await;
            }
            // Item 2 goes to lane 0 (alive): delivered; the collector then
            // turns to lane 1 (dead) and ends. `in_tx` stays open.
            in_tx.send(2).await.unwrap();
            assert_eq!(rx.recv().await, Some(2));
            let closed = parkway::with_timeout(Duration::from_secs(5), rx.recv()).await;
            assert_eq!(closed, Ok(None), "`to` must close once a dead lane is seen");
            let result = parkway::with_timeout(Duration::from_secs(5), done)
                .await
                .expect("the pipeline's handle must resolve (collector hung awaiting workers)");
            assert!(result.is_err());
            drop(in_tx);
        });
    });
}

/// Stress of mult's batch, late and fallback paths: permanent taps of
/// varied capacities (some also written to by another sender, so they fill
/// mid-batch), transient taps tapped and untapped (or whose receiver is
/// dropped) while values flow. Every permanent tap gets every value once,
/// in order; every transient tap gets a contiguous run.
#[test]
fn mult_stress_order_no_loss_no_dup_with_churn() {
    use parkway::go;
    watchdog(|| {
        let rt = util::runtime_with(2, parkway::GoCheck::Off);
        rt.block_on(async {
            const N: u32 = 20_000;
            const SIDE: u32 = 1 << 31;
            let (src_tx, src_rx) = chan::bounded::<u32>(64);
            let m = parkway::mult(src_rx);
            let mut checks = Vec::new();
            let caps = [40usize, 33, 7, 1, 0, 64, 2];
            for (i, &cap) in caps.iter().enumerate() {
                let (tx, rx) = chan::bounded::<u32>(cap);
                m.tap(tx.clone(), true);
                if i % 2 == 0 {
                    // Another sender fills this tap now and then.
                    let side = tx.clone();
                    go(async move {
                        for k in 0..2000u32 {
                            if side.send(SIDE | k).await.is_err() {
                                return;
                            }
                            if k % 7 == 0 {
                                parkway::yield_now().await;
                            }
                        }
                    });
                }
                drop(tx);
                checks.push(go(async move {
                    let mut next = 0u32;
                    let mut side_next = 0u32;
                    let mut k = 0u64;
                    while let Some(x) = rx.recv().await {
                        if x & SIDE != 0 {
                            assert_eq!(x & !SIDE, side_next, "tap {i}: side order");
                            side_next += 1;
                        } else {
                            assert_eq!(x, next, "tap {i} (cap {cap}): order/loss/dup");
                            next += 1;
                        }
                        k += 1;
                        if (k + i as u64) % 13 == 0 {
                            parkway::yield_now().await;
                        }
                    }
                    assert_eq!(next, N, "tap {i}: all values");
                }));
            }
            // Churn: transient taps.
            let mc = m.clone();
            let churn = go(async move {
                let mut rng = 12345u64;
                let mut rand = move || {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng
                };
                for round in 0..300u32 {
                    let cap = (rand() % 40) as usize;
                    let (tx, rx) = chan::bounded::<u32>(cap);
                    mc.tap(tx.clone(), false);
                    let take = rand() % 100;
                    let mut got = Vec::new();
                    for _ in 0..take {
                        match parkway::with_timeout(Duration::from_millis(200), rx.recv()).await {
                            Ok(Some(x)) => got.push(x),
                            _ => break,
                        }
                    }
                    if round % 3 == 0 {
                        drop(rx); // the tap fails: the mult must remove it
                        drop(tx);
                    } else {
                        mc.untap(&tx);
                        drop(tx);
                        while let Ok(x) = rx.try_recv() {
                            got.push(x);
                        }
                    }
                    for w in got.windows(2) {
                        assert_eq!(
                            w[1],
                            w[0] + 1,
                            "transient tap {round}: not contiguous: {got:?}"
                        );
                    }
                }
            });
            for x in 0..N {
                src_tx.send(x).await.unwrap();
                if x % 97 == 0 {
                    parkway::yield_now().await;
                }
            }
            churn.await.unwrap();
            drop(src_tx);
            for c in checks {
                c.await.unwrap();
            }
            drop(m);
        });
    });
}

/// Strict go-check fails a worker whose stuck poll nevertheless finished
/// its lane (delivered its last item and the end marker): every output was
/// delivered, yet the handle says the outputs of item N "and later were
/// not delivered".
#[test]
fn a_worker_failed_after_finishing_its_lane_is_not_reported_as_a_loss() {
    watchdog(|| {
        let rt = parkway::Runtime::builder()
            .worker_threads(2)
            .go_check(parkway::GoCheck::Strict)
            .stall_threshold(Duration::from_millis(50))
            .build()
            .unwrap();
        rt.block_on(async move {
            let (tx, rx) = chan::bounded(16);
            let done = pipeline(
                2,
                tx,
                |x: u64| {
                    if x == 1 {
                        std::thread::sleep(Duration::from_millis(400));
                    }
                    Some(x)
                },
                parkway::to_chan(0..2u64),
                true,
            );
            let got = parkway::into(Vec::new(), rx).await;
            assert_eq!(got, [0, 1], "every output was delivered");
            let result = parkway::with_timeout(Duration::from_secs(10), done)
                .await
                .expect("ends");
            if let Err(e) = result {
                let msg = e.to_string();
                assert!(
                    !msg.contains("were not delivered"),
                    "claims a loss although all outputs were delivered: {msg}"
                );
            }
        });
    });
}

/// `n == 1` runs everything in one go block. When strict go-check fails
/// it, `to` is only dropped, not closed: with another `Sender` of `to`
/// alive (here the caller's clone), the consumer waits forever, although
/// the doc promises "`to` is closed as at the end (with `close`)" when a
/// worker dies; and the handle's error names no item.
#[test]
fn pipeline_n1_dead_worker_closes_to() {
    watchdog(|| {
        let rt = parkway::Runtime::builder()
            .worker_threads(2)
            .go_check(parkway::GoCheck::Strict)
            .stall_threshold(Duration::from_millis(50))
            .build()
            .unwrap();
        rt.block_on(async move {
            let (tx, rx) = chan::bounded(16);
            let keep = tx.clone();
            let (in_tx, in_rx) = chan::bounded(16);
            let done = pipeline(
                1,
                tx,
                |x: u64| {
                    if x == 0 {
                        std::thread::sleep(Duration::from_millis(400));
                    }
                    Some(x)
                },
                in_rx,
                true,
            );
            in_tx.send(0).await.unwrap();
            assert_eq!(rx.recv().await, Some(0));
            let result = parkway::with_timeout(Duration::from_secs(10), done)
                .await
                .expect("ends");
            assert!(result.is_err(), "the single go block was failed");
            let closed = parkway::with_timeout(Duration::from_secs(2), rx.recv()).await;
            assert_eq!(closed, Ok(None), "`to` must be closed (close == true)");
            drop((keep, in_tx));
        });
    });
}
