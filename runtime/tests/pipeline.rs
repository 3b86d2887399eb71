//! The pipeline family with core.async's semantics (its
//! `pipeline_test.clj` cases): sizes (n, count) of (1,0) (1,10) (10,10)
//! (20,10) (5,1000) for all three; items sleeping 2000/50/1000/100 ms at
//! n = 2 coming out in input order; `close` true and false; an error handler
//! turning item 3 into an error value; `pipeline_async` emitting several
//! values per input; order under random per-item delays; parallelism never
//! above `n`; stopping when the output closes.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parkway::chan::{self, Sender};
use parkway::{pipeline, pipeline_async, pipeline_blocking, Pipeline};
use util::{expect_panic, runtime, watchdog, Rng};

/// Which pipeline a case runs.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Go,
    Blocking,
    Async,
}

const KINDS: [Kind; 3] = [Kind::Go, Kind::Blocking, Kind::Async];

/// Runs the `kind` pipeline with parallelism `n` over `inputs`, where
/// input `x` becomes the outputs `f(x)`, and collects the outputs.
/// `delay(x)` is how long item `x` takes (slept on the pool for
/// `Blocking`, in a go block for `Async`; a tenth of it is burned for
/// `Go`, to stay well under go-check's stall threshold).
async fn run_kind(
    kind: Kind,
    n: usize,
    inputs: Vec<u64>,
    f: fn(u64) -> Vec<u64>,
    delay: fn(u64) -> Duration,
    close: bool,
) -> (Vec<u64>, Sender<u64>) {
    // With `close` false the outputs are drained after the pipeline ends,
    // so they must all fit.
    let (tx, rx) = chan::bounded(if close { 8 } else { 64 });
    let keep = tx.clone();
    let from = parkway::to_chan(inputs);
    let done = match kind {
        Kind::Go => pipeline(
            n,
            tx,
            move |x| {
                // A tenth of the delay, burned: it occupies a go worker.
                let d = delay(x) / 10;
                if !d.is_zero() {
                    let start = Instant::now();
                    while start.elapsed() < d {
                        std::hint::spin_loop();
                    }
                }
                f(x)
            },
            from,
            close,
        ),
        Kind::Blocking => pipeline_blocking(
            n,
            tx,
            move |x| {
                std::thread::sleep(delay(x));
                f(x)
            },
            from,
            close,
        ),
        Kind::Async => pipeline_async(
            n,
            tx,
            move |x, results: Sender<u64>| {
                parkway::go(async move {
                    parkway::sleep(delay(x)).await;
                    for y in f(x) {
                        results.send(y).await.unwrap();
                    }
                });
            },
            from,
            close,
        ),
    };
    let mut out = Vec::new();
    if close {
        while let Some(v) = rx.recv().await {
            out.push(v);
        }
    } else {
        // The output stays open: wait for the pipeline, then drain.
        done.await.unwrap();
        while let Ok(v) = rx.try_recv() {
            out.push(v);
        }
        assert!(!rx.is_closed(), "close = false closed the output");
    }
    (out, keep)
}

fn no_delay(_: u64) -> Duration {
    Duration::ZERO
}

fn inc(x: u64) -> Vec<u64> {
    vec![x + 1]
}

#[test]
fn sizes_from_core_async_tests_keep_order_for_all_three() {
    watchdog(|| {
        let rt = runtime(2);
        for kind in KINDS {
            for (n, count) in [(1, 0), (1, 10), (10, 10), (20, 10), (5, 1000)] {
                let inputs: Vec<u64> = (0..count).collect();
                let want: Vec<u64> = (1..=count).collect();
                let (got, _) = rt.block_on(run_kind(kind, n, inputs, inc, no_delay, true));
                assert_eq!(got, want, "{kind:?} n={n} count={count}");
            }
        }
    });
}

fn sleep_ms(x: u64) -> Duration {
    Duration::from_millis(x)
}

fn same(x: u64) -> Vec<u64> {
    vec![x]
}

/// core.async's `test-sizes`-style timing case: 2000/50/1000/100 ms at
/// n = 2 come out in input order (the short items finish first). For `Go`
/// the delays are 800/20/400/40 (a tenth of each is burned on a go worker,
/// under go-check's threshold).
#[test]
fn slow_and_fast_items_come_out_in_input_order() {
    watchdog(|| {
        let rt = runtime(2);
        let results: Vec<_> = [Kind::Blocking, Kind::Async]
            .into_iter()
            .map(|kind| {
                let h = rt.handle().clone();
                std::thread::spawn(move || {
                    h.block_on(run_kind(
                        kind,
                        2,
                        vec![2000, 50, 1000, 100],
                        same,
                        sleep_ms,
                        true,
                    ))
                    .0
                })
            })
            .collect();
        for r in results {
            assert_eq!(r.join().unwrap(), [2000, 50, 1000, 100]);
        }
        let (got, _) = rt.block_on(run_kind(
            Kind::Go,
            2,
            vec![800, 20, 400, 40],
            same,
            sleep_ms,
            true,
        ));
        assert_eq!(got, [800, 20, 400, 40]);
    });
}

#[test]
fn close_false_leaves_the_output_open() {
    watchdog(|| {
        let rt = runtime(2);
        for kind in KINDS {
            for n in [1, 3] {
                let (got, keep) =
                    rt.block_on(run_kind(kind, n, (0..20).collect(), inc, no_delay, false));
                assert_eq!(got, (1..=20).collect::<Vec<_>>(), "{kind:?} n={n}");
                drop(keep);
            }
        }
    });
}

fn random_delay(x: u64) -> Duration {
    // A fixed pseudo-random delay per item, 0..8 ms.
    Duration::from_micros(Rng::new(x).below(8_000))
}

#[test]
fn order_holds_under_random_per_item_delays() {
    watchdog(|| {
        let rt = runtime(2);
        for kind in KINDS {
            for n in [2, 7] {
                let (got, _) = rt.block_on(run_kind(
                    kind,
                    n,
                    (0..60).collect(),
                    same,
                    random_delay,
                    true,
                ));
                assert_eq!(got, (0..60).collect::<Vec<_>>(), "{kind:?} n={n}");
            }
        }
    });
}

fn three(x: u64) -> Vec<u64> {
    vec![x * 10, x * 10 + 1, x * 10 + 2]
}

fn none_for_odd(x: u64) -> Vec<u64> {
    if x % 2 == 0 {
        vec![x]
    } else {
        vec![]
    }
}

#[test]
fn zero_or_several_outputs_per_input_stay_grouped_in_order() {
    watchdog(|| {
        let rt = runtime(2);
        for kind in KINDS {
            for n in [1, 4] {
                let (got, _) = rt.block_on(run_kind(
                    kind,
                    n,
                    (0..30).collect(),
                    three,
                    random_delay,
                    true,
                ));
                let want: Vec<u64> = (0..30).flat_map(three).collect();
                assert_eq!(got, want, "{kind:?} n={n}");
                let (got, _) = rt.block_on(run_kind(
                    kind,
                    n,
                    (0..30).collect(),
                    none_for_odd,
                    no_delay,
                    true,
                ));
                let want: Vec<u64> = (0..30).filter(|x| x % 2 == 0).collect();
                assert_eq!(got, want, "{kind:?} n={n}");
            }
        }
    });
}

/// The error handler turns the item that fails (3) into an error value;
/// the others go through, in order.
#[test]
fn an_error_handler_turns_item_3_into_an_error_value() {
    watchdog(|| {
        let rt = runtime(2);
        for kind in KINDS {
            for n in [1, 3] {
                let got = rt.block_on(async move {
                    let (tx, rx) = chan::bounded::<Result<u64, String>>(4);
                    let p = Pipeline::new(n).on_error(|e| {
                        assert!(e.is_panic());
                        Some(Err(e.panic_message().unwrap_or("?").to_string()))
                    });
                    let from = parkway::to_chan(0..6u64);
                    let f = |x: u64| {
                        assert_ne!(x, 3, "item 3 fails");
                        Some(Ok(x))
                    };
                    match kind {
                        Kind::Go => p.run(tx, f, from),
                        Kind::Blocking => p.run_blocking(tx, f, from),
                        Kind::Async => p.run_async(
                            tx,
                            move |x, results: Sender<Result<u64, String>>| {
                                let out = f(x);
                                parkway::go(async move {
                                    let _ = results.send(out.unwrap()).await;
                                });
                            },
                            from,
                        ),
                    };
                    parkway::into(Vec::new(), rx).await
                });
                assert_eq!(got.len(), 6, "{kind:?} n={n}: {got:?}");
                for (i, r) in got.iter().enumerate() {
                    if i == 3 {
                        let e = r.as_ref().unwrap_err();
                        assert!(e.contains("item 3 fails"), "{kind:?}: {e}");
                    } else {
                        assert_eq!(r, &Ok(i as u64), "{kind:?} n={n}");
                    }
                }
            }
        }
    });
}

#[test]
fn without_a_handler_a_failing_item_produces_nothing() {
    watchdog(|| {
        let rt = runtime(2);
        let got = rt.block_on(async {
            let (tx, rx) = chan::bounded(4);
            pipeline(
                2,
                tx,
                |x: u64| {
                    assert_ne!(x, 3, "item 3 fails");
                    Some(x)
                },
                parkway::to_chan(0..6u64),
                true,
            );
            parkway::into(Vec::new(), rx).await
        });
        assert_eq!(got, [0, 1, 2, 4, 5]);
    });
}

#[test]
fn pipeline_async_emits_several_values_per_input() {
    watchdog(|| {
        let rt = runtime(2);
        let got = rt.block_on(async {
            let (tx, rx) = chan::bounded(2);
            pipeline_async(
                3,
                tx,
                |x: u64, results: Sender<u64>| {
                    // From a callback this time, not a go block: `put`s
                    // queue in order; dropping `results` ends the item.
                    for i in 0..x {
                        results.put(x * 100 + i, |_| {}).unwrap();
                    }
                },
                parkway::to_chan(0..5u64),
                true,
            );
            parkway::into(Vec::new(), rx).await
        });
        let want: Vec<u64> = (0..5u64)
            .flat_map(|x| (0..x).map(move |i| x * 100 + i))
            .collect();
        assert_eq!(got, want);
    });
}

/// Counts items at work at once and records the peak.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn exit(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn parallelism_never_exceeds_n() {
    watchdog(|| {
        let rt = runtime(2);
        for n in [1, 3, 8] {
            // Blocking: items sleep 2 ms on the pool.
            let g = Arc::new(Gauge::default());
            let g2 = Arc::clone(&g);
            let got = rt.block_on(async move {
                let (tx, rx) = chan::bounded(4);
                pipeline_blocking(
                    n,
                    tx,
                    move |x: u64| {
                        g2.enter();
                        std::thread::sleep(Duration::from_millis(2));
                        g2.exit();
                        Some(x)
                    },
                    parkway::to_chan(0..100u64),
                    true,
                );
                parkway::into(Vec::new(), rx).await
            });
            assert_eq!(got, (0..100).collect::<Vec<_>>());
            let peak = g.peak.load(Ordering::SeqCst);
            assert!(peak <= n, "blocking n={n}: {peak} at once");
            // Async: an item is at work from `af` until its sender drops.
            let g = Arc::new(Gauge::default());
            let g2 = Arc::clone(&g);
            let got = rt.block_on(async move {
                let (tx, rx) = chan::bounded(4);
                pipeline_async(
                    n,
                    tx,
                    move |x: u64, results: Sender<u64>| {
                        g2.enter();
                        let g3 = Arc::clone(&g2);
                        parkway::go(async move {
                            parkway::sleep(Duration::from_millis(2)).await;
                            results.send(x).await.unwrap();
                            g3.exit();
                        });
                    },
                    parkway::to_chan(0..100u64),
                    true,
                );
                parkway::into(Vec::new(), rx).await
            });
            assert_eq!(got, (0..100).collect::<Vec<_>>());
            let peak = g.peak.load(Ordering::SeqCst);
            assert!(peak <= n, "async n={n}: {peak} at once");
            // Go: the workers are go blocks; count them in `f`, on a
            // runtime with more workers than `n` (with fewer, the peak
            // could not exceed `n` whatever the pipeline did).
            let wide = runtime(n + 2);
            let g = Arc::new(Gauge::default());
            let g2 = Arc::clone(&g);
            wide.block_on(async move {
                let (tx, rx) = chan::bounded(4);
                pipeline(
                    n,
                    tx,
                    move |x: u64| {
                        g2.enter();
                        // Long enough for the other workers to overlap.
                        let start = Instant::now();
                        while start.elapsed() < Duration::from_micros(200) {
                            std::hint::spin_loop();
                        }
                        g2.exit();
                        Some(x)
                    },
                    parkway::to_chan(0..1000u64),
                    true,
                );
                assert_eq!(parkway::into(Vec::new(), rx).await.len(), 1000);
            });
            let peak = g.peak.load(Ordering::SeqCst);
            assert!(peak <= n, "go n={n}: {peak} at once");
        }
    });
}

/// The output closing stops the pipeline: its handle resolves, it stops
/// taking from `from` promptly (dropping it, so sends there are refused),
/// and `f` runs on at most a few values taken before it noticed.
#[test]
fn a_closed_output_stops_the_pipeline() {
    watchdog(|| {
        let rt = runtime(2);
        for kind in KINDS {
            for n in [1, 8] {
                rt.block_on(async move {
                    let (in_tx, in_rx) = chan::bounded::<u64>(4);
                    let (out_tx, out_rx) = chan::bounded(1);
                    let calls = Arc::new(AtomicUsize::new(0));
                    let c = Arc::clone(&calls);
                    let f = move |x: u64| {
                        c.fetch_add(1, Ordering::SeqCst);
                        Some(x)
                    };
                    let done = match kind {
                        Kind::Go => pipeline(n, out_tx, f, in_rx, true),
                        Kind::Blocking => pipeline_blocking(n, out_tx, f, in_rx, true),
                        Kind::Async => pipeline_async(
                            n,
                            out_tx,
                            move |x, r: Sender<u64>| {
                                let _ = r.try_send(f(x).unwrap());
                            },
                            in_rx,
                            true,
                        ),
                    };
                    in_tx.send(1).await.unwrap();
                    assert_eq!(out_rx.recv().await, Some(1));
                    out_rx.close();
                    // One more value lets the collector see the closed output.
                    in_tx.send(2).await.unwrap();
                    parkway::with_timeout(Duration::from_secs(10), done)
                        .await
                        .expect("the pipeline stopped")
                        .unwrap();
                    let calls_at_stop = calls.load(Ordering::SeqCst);
                    // It let go of `from`: sends there are refused (after at
                    // most its 4 buffered values), instead of being taken.
                    let mut accepted = 0;
                    loop {
                        match parkway::with_timeout(Duration::from_secs(10), in_tx.send(3)).await {
                            Ok(Ok(())) => accepted += 1,
                            Ok(Err(_)) => break,
                            Err(_) => panic!("{kind:?} n={n}: a send on `from` hung"),
                        }
                        assert!(accepted <= 4, "{kind:?} n={n}: `from` is still being read");
                    }
                    assert_eq!(
                        calls.load(Ordering::SeqCst),
                        calls_at_stop,
                        "{kind:?} n={n}: f ran after the pipeline stopped"
                    );
                });
            }
        }
    });
}

/// A worker that dies (strict go-check failing a stalled `f`) does not
/// pass for the end of the input: the handle reports it.
#[test]
fn a_dead_worker_is_reported_not_taken_for_the_end() {
    watchdog(|| {
        let rt = parkway::Runtime::builder()
            .worker_threads(2)
            .go_check(parkway::GoCheck::Strict)
            .stall_threshold(Duration::from_millis(50))
            .build()
            .unwrap();
        for kind in [Kind::Go, Kind::Async] {
            let handle = rt.handle().clone();
            let (got, result) = rt.block_on(async move {
                let (tx, rx) = chan::bounded(16);
                // `from` stays open until the stalled go block has been
                // failed: it then ends its poll waiting for more input, and
                // strict go-check fails it there (had the input ended, the
                // poll could finish its work and nothing would be lost).
                let (in_tx, in_rx) = chan::bounded(16);
                for x in 0..10u64 {
                    in_tx.send(x).await.unwrap();
                }
                let stall = |x: u64| {
                    if x == 1 {
                        // Blocks its go worker past the threshold.
                        std::thread::sleep(Duration::from_millis(400));
                    }
                    x
                };
                let before = handle.metrics().num_alive_tasks();
                let done = match kind {
                    Kind::Go => pipeline(2, tx, move |x| Some(stall(x)), in_rx, true),
                    _ => pipeline_async(
                        2,
                        tx,
                        move |x, r: Sender<u64>| {
                            let _ = r.try_send(stall(x));
                        },
                        in_rx,
                        true,
                    ),
                };
                let spawned = handle.metrics().num_alive_tasks() - before;
                let mut got = Vec::new();
                while got.len() < 10 {
                    match parkway::with_timeout(Duration::from_secs(10), rx.recv()).await {
                        Ok(Some(v)) => got.push(v),
                        Ok(None) => break,
                        Err(_) => panic!("{kind:?}: outputs stopped at {got:?}"),
                    }
                }
                // Wait until strict go-check has failed the stalled go block.
                let start = Instant::now();
                while handle.metrics().num_alive_tasks() - before == spawned {
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "{kind:?}: never failed"
                    );
                    parkway::sleep(Duration::from_millis(5)).await;
                }
                // More input after the loss: the dead lane's next item cannot
                // be processed (an end of input right after the failure
                // would lose nothing, and is rightly not reported).
                for x in 10..20u64 {
                    let sent = parkway::with_timeout(Duration::from_secs(10), in_tx.send(x)).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        break; // the pipeline let go of `from`
                    }
                }
                drop(in_tx);
                while let Ok(Some(v)) =
                    parkway::with_timeout(Duration::from_secs(10), rx.recv()).await
                {
                    got.push(v);
                }
                assert!(
                    rx.is_closed(),
                    "{kind:?}: `to` must close, no consumer waits forever"
                );
                let result = parkway::with_timeout(Duration::from_secs(10), done)
                    .await
                    .expect("the pipeline ends");
                (got, result)
            });
            let err = result.expect_err("a dead worker must not look like success");
            let msg = err.to_string();
            assert!(msg.contains("were not delivered"), "{kind:?}: {msg}");
            // What did arrive is a prefix, in order.
            assert_eq!(got, (0..got.len() as u64).collect::<Vec<_>>(), "{kind:?}");
        }
    });
}

/// `pipeline_blocking` wider than the blocking pool still finishes: it
/// holds no pool thread while it waits.
#[test]
fn pipeline_blocking_wider_than_the_pool_finishes() {
    watchdog(|| {
        let rt = parkway::Runtime::builder()
            .worker_threads(2)
            .max_blocking_threads(2)
            .build()
            .unwrap();
        let got = rt.block_on(async {
            let (tx, rx) = chan::bounded(4);
            pipeline_blocking(
                8,
                tx,
                |x: u64| {
                    std::thread::sleep(Duration::from_millis(1));
                    Some(x)
                },
                parkway::to_chan(0..100u64),
                true,
            );
            parkway::into(Vec::new(), rx).await
        });
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn zero_parallelism_is_refused_clearly() {
    let msg = expect_panic(|| Pipeline::<u8>::new(0));
    assert!(msg.contains("at least 1"), "{msg}");
}

/// `pipeline_blocking` shares work: while item 0 is slow, item `n` (which
/// a round-robin lane design would queue behind it) is taken by a free
/// worker. Item 0 waits until item 4 has started, so a design that queues
/// item 4 behind item 0 never finishes (the watchdog fails the test).
#[test]
fn pipeline_blocking_has_no_head_of_line_blocking() {
    watchdog(|| {
        let rt = runtime(2);
        let got = rt.block_on(async {
            let (started_tx, started_rx) = std::sync::mpsc::channel::<u64>();
            let started_rx = std::sync::Mutex::new(started_rx);
            let (tx, rx) = chan::bounded(16);
            pipeline_blocking(
                4,
                tx,
                move |x: u64| {
                    if x == 0 {
                        let rx = started_rx.lock().unwrap();
                        while rx.recv().unwrap() != 4 {}
                    } else {
                        let _ = started_tx.send(x);
                    }
                    Some(x)
                },
                parkway::to_chan(0..16u64),
                true,
            );
            parkway::into(Vec::new(), rx).await
        });
        assert_eq!(got, (0..16).collect::<Vec<_>>());
    });
}
