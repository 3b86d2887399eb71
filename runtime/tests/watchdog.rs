//! The stall watchdog: a go worker stuck in one poll past the threshold is
//! reported once, with the task's name and spawn location; `Strict` also
//! fails that task (and only that one); a busy task that yields and an idle
//! runtime never trip it.
//!
//! The stalls here block for several times the threshold, and the tasks
//! that must not trip yield every millisecond or so, against thresholds of
//! 100 ms and more: generous margins, not timing claims.

mod util;

use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parkway::{GoCheck, Report, ReportKind, Runtime};
use util::watchdog;

/// A runtime in `mode` whose go-check reports are collected.
fn collecting(
    workers: usize,
    mode: GoCheck,
    threshold: Duration,
) -> (Runtime, Arc<Mutex<Vec<Report>>>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let rt = Runtime::builder()
        .worker_threads(workers)
        .go_check(mode)
        .stall_threshold(threshold)
        .on_go_check_report(move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    (rt, reports)
}

#[test]
fn a_thread_sleep_in_a_go_block_trips_once_with_name_and_location() {
    watchdog(|| {
        let (rt, reports) = collecting(2, GoCheck::Warn, Duration::from_millis(100));
        let spawned_at = Location::caller();
        let h = parkway::task::Builder::new()
            .name("sleepy")
            .go_on(rt.handle(), async {
                std::thread::sleep(Duration::from_millis(600));
                5
            });
        // Warn only reports: the task finishes normally.
        assert_eq!(rt.block_on(h).unwrap(), 5);
        drop(rt);
        let reports = reports.lock().unwrap();
        assert_eq!(reports.len(), 1, "one report per stall: {reports:#?}");
        let r = &reports[0];
        assert_eq!(r.kind, ReportKind::Stall);
        assert!(r.task.as_deref().unwrap().contains("`sleepy`"), "{r:?}");
        let loc = r.location.unwrap();
        assert_eq!(loc.file(), spawned_at.file());
        // The `go_on` call, a few lines below `spawned_at` (rustfmt decides
        // exactly where).
        assert!(
            (spawned_at.line() + 1..=spawned_at.line() + 4).contains(&loc.line()),
            "{loc} vs {spawned_at}"
        );
        assert!(r.elapsed.unwrap() >= Duration::from_millis(100));
        assert_eq!(r.threshold, Some(Duration::from_millis(100)));
        assert!(r.worker.unwrap() < 2);
        assert!(
            r.message.contains("sleepy") && r.message.contains("fix:"),
            "{}",
            r.message
        );
    });
}

#[test]
fn strict_fails_the_stalled_task_and_only_that_task() {
    watchdog(|| {
        let (rt, reports) = collecting(2, GoCheck::Strict, Duration::from_millis(100));
        let stuck = rt.go(async {
            std::thread::sleep(Duration::from_millis(600));
            "finished"
        });
        let fine = rt.go(async {
            for _ in 0..50 {
                parkway::sleep(Duration::from_millis(2)).await;
            }
            "fine"
        });
        let err = rt.block_on(stuck).unwrap_err();
        assert!(err.is_stalled(), "{err}");
        assert!(!err.is_panic() && !err.is_cancelled());
        assert!(err.to_string().contains("blocked its go worker"), "{err}");
        assert_eq!(rt.block_on(fine).unwrap(), "fine");
        // The runtime goes on.
        assert_eq!(rt.block_on(rt.go(async { 1 })).unwrap(), 1);
        drop(rt);
        assert_eq!(reports.lock().unwrap().len(), 1);
    });
}

#[test]
fn a_busy_task_that_yields_never_trips() {
    watchdog(|| {
        let (rt, reports) = collecting(2, GoCheck::Strict, Duration::from_millis(500));
        let busy = rt.go(async {
            let until = Instant::now() + Duration::from_millis(800);
            let mut spins = 0u64;
            while Instant::now() < until {
                util::burn(Duration::from_micros(500));
                parkway::yield_now().await;
                spins += 1;
            }
            spins
        });
        assert!(rt.block_on(busy).unwrap() > 0);
        drop(rt);
        assert!(
            reports.lock().unwrap().is_empty(),
            "{:#?}",
            reports.lock().unwrap()
        );
    });
}

#[test]
fn an_idle_runtime_never_trips() {
    watchdog(|| {
        let (rt, reports) = collecting(2, GoCheck::Strict, Duration::from_millis(100));
        // Work, then nothing at all for several thresholds, then work.
        rt.block_on(async { parkway::go(async { 1 }).await.unwrap() });
        std::thread::sleep(Duration::from_millis(500));
        rt.block_on(async {
            parkway::sleep(Duration::from_millis(300)).await;
        });
        drop(rt);
        assert!(
            reports.lock().unwrap().is_empty(),
            "{:#?}",
            reports.lock().unwrap()
        );
    });
}

#[test]
fn off_mode_reports_nothing() {
    watchdog(|| {
        let (rt, reports) = collecting(1, GoCheck::Off, Duration::from_millis(50));
        let h = rt.go(async {
            std::thread::sleep(Duration::from_millis(300));
            3
        });
        assert_eq!(rt.block_on(h).unwrap(), 3);
        drop(rt);
        assert!(reports.lock().unwrap().is_empty());
    });
}

#[test]
fn two_stalls_are_two_reports() {
    watchdog(|| {
        let (rt, reports) = collecting(1, GoCheck::Warn, Duration::from_millis(100));
        for _ in 0..2 {
            let h = rt.go(async { std::thread::sleep(Duration::from_millis(400)) });
            rt.block_on(h).unwrap();
        }
        drop(rt);
        assert_eq!(reports.lock().unwrap().len(), 2);
    });
}

#[test]
fn a_zero_threshold_is_refused() {
    let err = Runtime::builder()
        .stall_threshold(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// A waker that blocks its caller when woken.
struct BlockingWaker(Duration);

impl std::task::Wake for BlockingWaker {
    fn wake(self: Arc<Self>) {
        std::thread::sleep(self.0);
    }
}

#[test]
fn a_worker_blocked_outside_any_poll_does_not_fail_the_last_task_it_polled() {
    // A timer's waker that blocks runs on a worker between polls (firing
    // timers). Nothing is inside a poll then, so no task is blamed: the
    // innocent task that ran just before must not be failed in strict mode.
    watchdog(|| {
        let (rt, reports) = collecting(1, GoCheck::Strict, Duration::from_millis(100));
        rt.block_on(async {
            let innocent = parkway::task::Builder::new().name("innocent").go(async {
                // Register a timer whose waker blocks for 300 ms when it fires.
                let mut sleep = Box::pin(parkway::sleep(Duration::from_millis(5)));
                {
                    let waker =
                        std::task::Waker::from(Arc::new(BlockingWaker(Duration::from_millis(300))));
                    let mut cx = std::task::Context::from_waker(&waker);
                    assert!(sleep.as_mut().poll(&mut cx).is_pending());
                }
                // Keep running short polls across the moment it fires.
                let until = Instant::now() + Duration::from_millis(600);
                while Instant::now() < until {
                    util::burn(Duration::from_micros(200));
                    parkway::yield_now().await;
                }
                drop(sleep);
                "done"
            });
            assert_eq!(innocent.await.unwrap(), "done");
        });
        drop(rt);
        let reports = reports.lock().unwrap();
        assert!(
            reports
                .iter()
                .all(|r| !r.task.as_deref().unwrap_or("").contains("innocent")),
            "{reports:#?}"
        );
    });
}
