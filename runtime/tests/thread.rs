//! `parkway::thread` / `thread_call` on the runtime's blocking pool: results
//! by `.await`, `join` and `into_chan`; panics; the go worker is never
//! blocked; the pool's limit and keep-alive; the runtime entered on pool
//! threads; shutdown waiting for blocking work (and not for queued work);
//! `thread` outside any runtime.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::sleep;
use std::time::{Duration, Instant};

use parkway::chan;
use parkway::{GoCheck, Handle, Runtime};
use util::{runtime, runtime_with, wait_until, watchdog};

#[test]
fn a_go_block_awaits_a_thread_and_a_plain_thread_joins_one() {
    watchdog(|| {
        let rt = runtime(2);
        let v = rt.block_on(async { parkway::thread(|| 40 + 2).await.unwrap() });
        assert_eq!(v, 42);
        let h = {
            let _g = rt.enter();
            parkway::thread_call(|| "joined")
        };
        assert_eq!(h.join().unwrap(), "joined");
    });
}

#[test]
fn into_chan_works_in_alt_with_a_timeout() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let slow = parkway::thread(|| {
                sleep(Duration::from_millis(300));
                "slow"
            })
            .into_chan();
            let t = parkway::timeout(Duration::from_millis(10));
            // The timeout wins: the job sleeps 300 ms, so it cannot have
            // delivered when the 10 ms timeout is taken (whichever way the
            // scheduler runs).
            let first = parkway::alt! {
                recv(slow) -> v => v.map(|r| r.unwrap()),
                recv(t) -> _ => None,
            };
            assert_eq!(first, None);
            // The result still comes, once, then the channel closes.
            assert_eq!(slow.recv().await.unwrap().unwrap(), "slow");
            assert!(slow.recv().await.is_none());
        });
    });
}

#[test]
fn a_panic_in_thread_surfaces_as_a_join_error() {
    watchdog(|| {
        let rt = runtime(1);
        let err = rt
            .block_on(async { parkway::thread(|| -> u8 { panic!("blocking boom") }).await })
            .unwrap_err();
        assert!(err.is_panic());
        assert!(err.is_blocking_job());
        assert!(err.to_string().contains("blocking boom"));
        assert!(err.to_string().contains("thread.rs"), "{err}");
        // The pool is fine afterwards.
        assert_eq!(
            rt.block_on(async { parkway::thread(|| 3).await }).unwrap(),
            3
        );
    });
}

/// With one go worker, a go block that calls `thread` and awaits it must
/// leave the worker free: the blocking job waits for a value that only
/// another go block, on that same single worker, sends. If `thread` (or
/// awaiting it) blocked the worker, this would deadlock and the watchdog
/// would fail the test.
#[test]
fn thread_in_a_go_block_never_blocks_the_worker() {
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Strict);
        let out = rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(1);
            let waiter = parkway::go(async move {
                parkway::thread(move || rx.recv_blocking().unwrap() * 2)
                    .await
                    .unwrap()
            });
            let sender = parkway::go(async move {
                parkway::sleep(Duration::from_millis(20)).await;
                tx.send(21).await.unwrap();
            });
            sender.await.unwrap();
            waiter.await.unwrap()
        });
        assert_eq!(out, 42);
    });
}

#[test]
fn pool_threads_are_not_go_workers_and_have_the_runtime_entered() {
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Strict);
        let spawned = rt.block_on(async {
            parkway::thread(move || {
                // The runtime is entered: `Handle::current` and `go` work
                // from a pool thread, and blocking on the result is allowed.
                let here = Handle::current();
                let v = parkway::go(async { 5 });
                here.block_on(v).unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(spawned, 5);
        // A blocking op on a pool thread is not flagged, even in Strict.
        let v = rt.block_on(async {
            let (tx, rx) = chan::bounded(1);
            tx.send(1).await.unwrap();
            parkway::thread(move || rx.recv_blocking()).await.unwrap()
        });
        assert_eq!(v, Some(1));
    });
}

#[test]
fn join_on_a_go_worker_is_flagged_by_go_check() {
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Warn);
        let err = rt
            .block_on(async {
                parkway::go(async {
                    let h = parkway::thread(|| 1);
                    h.join()
                })
                .await
            })
            .unwrap_err();
        assert!(err.is_panic());
        let msg = err.panic_message().unwrap_or_default().to_string();
        assert!(msg.contains("BlockingHandle::join"), "{msg}");
    });
}

#[test]
fn ten_thousand_threads_complete_with_the_pool_capped_at_64() {
    watchdog(|| {
        let rt = Runtime::builder()
            .worker_threads(2)
            .max_blocking_threads(64)
            .go_check(GoCheck::Off)
            .build()
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..10_000u64)
                .map(|i| {
                    let running = Arc::clone(&running);
                    let peak = Arc::clone(&peak);
                    parkway::thread(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        running.fetch_sub(1, Ordering::SeqCst);
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..10_000u64).sum::<u64>());
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= 64, "{peak} jobs ran at once");
        assert!(rt.handle().num_blocking_threads() <= 64);
    });
}

#[test]
fn idle_pool_threads_exit_after_the_keep_alive() {
    watchdog(|| {
        let rt = Runtime::builder()
            .worker_threads(1)
            .blocking_keep_alive(Duration::from_millis(50))
            .build()
            .unwrap();
        let hs: Vec<_> = {
            let _g = rt.enter();
            (0..4)
                .map(|_| parkway::thread(|| sleep(Duration::from_millis(20))))
                .collect()
        };
        for h in hs {
            h.join().unwrap();
        }
        assert!(rt.handle().num_blocking_threads() >= 1);
        wait_until("blocking threads exit", || {
            rt.handle().num_blocking_threads() == 0
        });
        // And come back on demand.
        assert_eq!(
            rt.block_on(async { parkway::thread(|| 7).await }).unwrap(),
            7
        );
    });
}

#[test]
fn dropping_the_runtime_waits_for_running_blocking_work() {
    watchdog(|| {
        let rt = runtime(1);
        let done = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = mpsc::channel();
        {
            let done = Arc::clone(&done);
            let _g = rt.enter();
            drop(parkway::thread(move || {
                started_tx.send(()).unwrap();
                sleep(Duration::from_millis(200));
                done.store(true, Ordering::SeqCst);
            }));
        }
        started_rx.recv().unwrap();
        drop(rt);
        assert!(
            done.load(Ordering::SeqCst),
            "drop returned before the job ended"
        );
    });
}

#[test]
fn shutdown_timeout_detaches_blocking_work_and_cancels_queued_work() {
    watchdog(|| {
        let rt = Runtime::builder()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let (running, queued) = {
            let _g = rt.enter();
            let running = parkway::thread(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                "finished"
            });
            started_rx.recv().unwrap();
            (running, parkway::thread(|| "never"))
        };
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(50));
        assert!(start.elapsed() < Duration::from_secs(5));
        // Queued behind the busy thread: dropped, and it says so.
        let err = queued.join().unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        // The running one was detached, not killed.
        assert!(!running.is_finished());
        release_tx.send(()).unwrap();
        assert_eq!(running.join().unwrap(), "finished");
    });
}

#[test]
fn thread_on_a_shut_down_runtime_reports_a_cancellation() {
    watchdog(|| {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        drop(rt);
        let err = handle.thread(|| 1).join().unwrap_err();
        assert!(err.is_cancelled(), "{err}");
    });
}

#[test]
fn dropping_the_runtime_from_its_own_blocking_thread_does_not_hang() {
    watchdog(|| {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        let h = handle.thread(move || {
            drop(rt);
            "dropped"
        });
        assert_eq!(h.join().unwrap(), "dropped");
    });
}

#[test]
fn thread_outside_any_runtime_uses_a_process_wide_pool() {
    watchdog(|| {
        let h = parkway::thread(|| Handle::try_current().is_err());
        assert!(
            h.join().unwrap(),
            "no runtime is entered on the global pool"
        );
        let rx = parkway::thread(|| 9).into_chan();
        assert_eq!(rx.recv_blocking().unwrap().unwrap(), 9);
    });
}

#[test]
fn builder_refuses_zero_blocking_threads() {
    let err = Runtime::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_blocking_threads"));
}

#[test]
fn thread_hooks_run_on_blocking_threads() {
    watchdog(|| {
        let started = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&started);
        let rt = Runtime::builder()
            .worker_threads(1)
            .on_thread_start(move || {
                if std::thread::current()
                    .name()
                    .is_some_and(|n| n.contains("blocking"))
                {
                    s.fetch_add(1, Ordering::SeqCst);
                }
            })
            .build()
            .unwrap();
        // Called inside the runtime (an argument to `block_on` would be
        // evaluated outside it, on the process-wide pool).
        rt.block_on(async { parkway::thread(|| ()).await }).unwrap();
        assert_eq!(started.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn shutting_a_pool_down_on_a_go_worker_is_flagged_by_go_check() {
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Warn);
        let pool = parkway::BlockingPool::new(parkway::PoolConfig::default()).unwrap();
        let p = pool.clone();
        let err = rt
            .block_on(async move {
                parkway::go(async move { p.shutdown(Duration::from_secs(1)) }).await
            })
            .unwrap_err();
        let msg = err.panic_message().unwrap_or_default().to_string();
        assert!(msg.contains("BlockingPool::shutdown"), "{msg}");
        // From a plain thread it is fine.
        assert!(pool.shutdown(Duration::from_secs(5)));
    });
}
