//! `sleep` and `sleep_until`: never early, freed when dropped, many at once,
//! and fired while every worker is busy.
//!
//! Only lower bounds on elapsed time are asserted; the watchdog is the
//! only upper bound.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use util::{poll_once, runtime, watchdog, Rng};

/// Durations to check, from sub-millisecond to a few tens of milliseconds.
const DURATIONS: [Duration; 6] = [
    Duration::from_micros(1),
    Duration::from_micros(300),
    Duration::from_millis(1),
    Duration::from_millis(3),
    Duration::from_millis(10),
    Duration::from_millis(25),
];

#[test]
fn sleep_never_returns_early_in_a_go_block() {
    watchdog(|| {
        for workers in [1, 2] {
            let rt = runtime(workers);
            rt.block_on(async {
                for d in DURATIONS {
                    let h = parkway::go(async move {
                        let start = Instant::now();
                        parkway::sleep(d).await;
                        start.elapsed()
                    });
                    let slept = h.await.unwrap();
                    assert!(slept >= d, "slept {slept:?} < {d:?}");
                }
            });
        }
    });
}

#[test]
fn sleep_never_returns_early_in_block_on() {
    watchdog(|| {
        let rt = runtime(1);
        for d in DURATIONS {
            let start = Instant::now();
            rt.block_on(async move { parkway::sleep(d).await });
            let slept = start.elapsed();
            assert!(slept >= d, "slept {slept:?} < {d:?}");
        }
    });
}

#[test]
fn sleep_counts_from_creation_not_first_poll() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let start = Instant::now();
            let s = parkway::sleep(Duration::from_millis(20));
            assert!(s.deadline() >= start + Duration::from_millis(20));
            std::thread::sleep(Duration::from_millis(25));
            // Already due: ready on first poll.
            let mut s = s;
            assert!(poll_once(&mut s).await.is_ready());
            assert!(s.is_elapsed());
        });
    });
}

#[test]
fn zero_sleep_completes() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            parkway::sleep(Duration::ZERO).await;
            parkway::go(parkway::sleep(Duration::ZERO)).await.unwrap();
            parkway::sleep_until(Instant::now()).await;
            // An instant in the past.
            let past = Instant::now();
            std::thread::sleep(Duration::from_millis(1));
            parkway::sleep_until(past).await;
        });
    });
}

#[test]
fn huge_sleep_does_not_overflow() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let mut s = parkway::sleep(Duration::MAX);
            assert!(poll_once(&mut s).await.is_pending());
            let mut s2 = parkway::sleep(Duration::from_secs(u64::MAX / 4));
            assert!(poll_once(&mut s2).await.is_pending());
            let r = parkway::with_timeout(Duration::from_millis(5), s).await;
            assert!(r.is_err());
        });
    });
}

#[test]
fn sleep_until_never_returns_before_the_deadline() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            for d in DURATIONS {
                let deadline = Instant::now() + d;
                let s = parkway::sleep_until(deadline);
                assert_eq!(s.deadline(), deadline);
                s.await;
                let now = Instant::now();
                assert!(now >= deadline, "woke {:?} early", deadline - now);
            }
            let deadline = Instant::now() + Duration::from_millis(15);
            parkway::go(parkway::sleep_until(deadline)).await.unwrap();
            assert!(Instant::now() >= deadline);
        });
    });
}

#[test]
fn reset_moves_the_deadline_both_ways() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let m = parkway::Handle::current().metrics();
            // Later: registered once, reset, still never early.
            let mut s = parkway::sleep(Duration::from_millis(1));
            assert!(poll_once(&mut s).await.is_pending());
            let later = Instant::now() + Duration::from_millis(20);
            s.reset(later);
            assert_eq!(s.deadline(), later);
            (&mut s).await;
            assert!(Instant::now() >= later);
            assert!(s.is_elapsed());
            // Earlier: an hour-long sleep reset to soon completes.
            let mut s = parkway::sleep(Duration::from_secs(3600));
            assert!(poll_once(&mut s).await.is_pending());
            assert_eq!(m.num_pending_timers(), 1);
            let soon = Instant::now() + Duration::from_millis(5);
            s.reset(soon);
            (&mut s).await;
            assert!(Instant::now() >= soon);
            assert_eq!(m.num_pending_timers(), 0, "reset left the old timer behind");
            // A completed sleep reset becomes pending again.
            s.reset(Instant::now() + Duration::from_secs(3600));
            assert!(!s.is_elapsed());
            assert!(poll_once(&mut s).await.is_pending());
        });
    });
}

#[test]
fn dropping_a_pending_sleep_frees_its_timer() {
    watchdog(|| {
        let rt = runtime(2);
        let m = rt.handle().metrics();
        assert_eq!(m.num_pending_timers(), 0);
        rt.block_on(async {
            // Not polled: nothing registered.
            let unpolled = parkway::sleep(Duration::from_secs(3600));
            assert_eq!(m.num_pending_timers(), 0);
            drop(unpolled);
            let mut sleeps: Vec<_> = (0..100)
                .map(|i| parkway::sleep(Duration::from_secs(3600 + i)))
                .collect();
            for s in &mut sleeps {
                assert_eq!(poll_once(s).await, Poll::Pending);
            }
            assert_eq!(m.num_pending_timers(), 100);
            sleeps.truncate(40);
            assert_eq!(m.num_pending_timers(), 40);
            drop(sleeps);
            assert_eq!(m.num_pending_timers(), 0);
        });
        // In go blocks: with_timeout that finishes first frees its sleep.
        rt.block_on(async {
            for _ in 0..50 {
                let r = parkway::go(async {
                    parkway::with_timeout(Duration::from_secs(3600), async { 1 }).await
                })
                .await
                .unwrap();
                assert_eq!(r, Ok(1));
            }
            let r = parkway::with_timeout(Duration::from_secs(3600), parkway::yield_now()).await;
            assert!(r.is_ok());
        });
        assert_eq!(m.num_pending_timers(), 0);
    });
}

#[test]
fn a_fired_sleep_leaves_no_timer_behind() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let hs: Vec<_> = (0..100)
                .map(|i| parkway::go(parkway::sleep(Duration::from_millis(1 + i % 7))))
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(rt.handle().metrics().num_pending_timers(), 0);
    });
}

#[test]
fn ten_thousand_random_sleeps_all_complete_and_none_early() {
    watchdog(|| {
        let rt = runtime(2);
        let early = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut rng = Rng::new(0x5eed);
            let hs: Vec<_> = (0..10_000)
                .map(|_| {
                    let d = Duration::from_millis(rng.range(1, 50));
                    let early = Arc::clone(&early);
                    let done = Arc::clone(&done);
                    parkway::go(async move {
                        let start = Instant::now();
                        parkway::sleep(d).await;
                        if start.elapsed() < d {
                            early.fetch_add(1, Ordering::SeqCst);
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 10_000);
        assert_eq!(
            early.load(Ordering::SeqCst),
            0,
            "some sleeps returned early"
        );
        assert_eq!(rt.handle().metrics().num_pending_timers(), 0);
    });
}

#[test]
fn many_sleeps_in_one_task_with_same_deadline() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let deadline = Instant::now() + Duration::from_millis(10);
            let hs: Vec<_> = (0..500)
                .map(|_| parkway::go(parkway::sleep_until(deadline)))
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            assert!(Instant::now() >= deadline);
        });
    });
}

#[test]
fn timer_fires_while_every_worker_is_busy() {
    // Every worker runs CPU loops that yield but never park: the timer must
    // still fire (workers check timers every few ticks), for a go block and
    // for the block_on thread.
    watchdog(|| {
        for workers in [1, 2] {
            let rt = runtime(workers);
            let stop = Arc::new(AtomicBool::new(false));
            let busy: Vec<_> = (0..workers * 2)
                .map(|_| {
                    let stop = Arc::clone(&stop);
                    rt.go(async move {
                        while !stop.load(Ordering::SeqCst) {
                            util::burn(Duration::from_micros(50));
                            parkway::yield_now().await;
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(10));
            let d = Duration::from_millis(20);
            let start = Instant::now();
            let h = rt.go(async move {
                let start = Instant::now();
                parkway::sleep(d).await;
                start.elapsed()
            });
            rt.block_on(async move { parkway::sleep(d).await });
            assert!(start.elapsed() >= d);
            let slept = rt.block_on(h).unwrap();
            assert!(slept >= d);
            assert!(
                !stop.load(Ordering::SeqCst),
                "the busy tasks stopped before the timers fired"
            );
            stop.store(true, Ordering::SeqCst);
            for b in busy {
                rt.block_on(b).unwrap();
            }
        }
    });
}

#[test]
fn timer_registered_from_outside_wakes_a_sleeping_pool() {
    // Every worker asleep (one owning the timers, with an hour-long
    // deadline): a shorter timer registered from the block_on thread must
    // cut that sleep short.
    watchdog(|| {
        let rt = runtime(2);
        let long = rt.go(async { parkway::sleep(Duration::from_secs(3600)).await });
        std::thread::sleep(Duration::from_millis(20));
        for _ in 0..5 {
            let d = Duration::from_millis(10);
            let start = Instant::now();
            rt.block_on(async move { parkway::sleep(d).await });
            assert!(start.elapsed() >= d);
            // And a go block's, spawned from outside into the idle pool.
            let h = rt.go(async move { parkway::sleep(d).await });
            rt.block_on(h).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        long.abort();
    });
}

#[test]
fn sleeps_across_wheel_levels_fire_and_never_early() {
    // Durations around the 64 ms and 4096 ms boundaries of the timing
    // wheel's levels, all pending at once so entries cascade.
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let ms = [1u64, 63, 64, 65, 127, 128, 129, 200, 500, 1100];
            let hs: Vec<_> = ms
                .iter()
                .map(|&ms| {
                    let d = Duration::from_millis(ms);
                    parkway::go(async move {
                        let start = Instant::now();
                        parkway::sleep(d).await;
                        (d, start.elapsed())
                    })
                })
                .collect();
            for h in hs {
                let (d, slept) = h.await.unwrap();
                assert!(slept >= d, "slept {slept:?} < {d:?}");
            }
        });
        assert_eq!(rt.handle().metrics().num_pending_timers(), 0);
    });
}

#[test]
fn sleep_after_an_idle_period_is_not_early() {
    // The timer driver's clock may not have advanced while nothing was
    // pending; a sleep registered afterwards must still not fire early.
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async { parkway::sleep(Duration::from_millis(2)).await });
        std::thread::sleep(Duration::from_millis(150));
        rt.block_on(async {
            for ms in [1u64, 5, 70] {
                let d = Duration::from_millis(ms);
                let start = Instant::now();
                parkway::go(async move { parkway::sleep(d).await })
                    .await
                    .unwrap();
                assert!(
                    start.elapsed() >= d,
                    "{ms} ms sleep took {:?}",
                    start.elapsed()
                );
            }
        });
    });
}

#[test]
fn a_sleep_moved_between_tasks_wakes_its_new_owner() {
    // Polled (registered) in one task, then awaited in another: the timer
    // must wake the task that polled it last.
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = parkway::chan::bounded(1);
            let first = parkway::go(async move {
                let mut s = parkway::sleep(Duration::from_millis(20));
                assert!(poll_once(&mut s).await.is_pending());
                tx.send(s).await.unwrap();
            });
            first.await.unwrap();
            let s = rx.recv().await.unwrap();
            let deadline = s.deadline();
            parkway::go(s).await.unwrap();
            assert!(Instant::now() >= deadline);
        });
    });
}

#[test]
fn sleep_outside_a_runtime_panics() {
    let msg = util::expect_panic(|| parkway::sleep(Duration::from_millis(1)));
    assert!(msg.contains("outside a parkway runtime"), "{msg}");
    let msg = util::expect_panic(|| parkway::sleep_until(Instant::now()));
    assert!(msg.contains("outside a parkway runtime"), "{msg}");
}

#[test]
fn sleep_in_a_std_thread_that_entered_the_runtime() {
    // A Sleep made under `enter` and awaited by another runtime's
    // block_on still uses the runtime it was made in.
    watchdog(|| {
        let a = runtime(1);
        let b = runtime(1);
        let s = {
            let _g = a.enter();
            parkway::sleep(Duration::from_millis(10))
        };
        let start = Instant::now();
        b.block_on(s);
        assert!(start.elapsed() >= Duration::from_millis(10));
        let _ = a;
    });
}
