//! The stall hand-off (`Builder::compensate`): when a go worker is stuck in
//! one poll, another thread takes over the rest of its work, so the rest of
//! the program keeps going.
//!
//! The assertions are about the order of events (everything else finished
//! before the stuck go blocks woke up), never about how long anything took.
//! Where the stuck go blocks hold *every* worker, nothing else can run
//! without a hand-off, so the order proves it happened; the control test
//! with compensation off shows the opposite order.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use parkway::{chan, GoCheck, Report, Runtime};
use util::watchdog;

/// A runtime with `workers` workers, go-check `mode` (reports collected),
/// a 50 ms threshold, compensation `compensate`, counting its threads.
struct Rig {
    rt: Runtime,
    reports: Arc<Mutex<Vec<Report>>>,
    threads: Arc<AtomicUsize>,
}

fn rig(workers: usize, mode: GoCheck, compensate: bool, spare: usize) -> Rig {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let threads = Arc::new(AtomicUsize::new(0));
    let sink = Arc::clone(&reports);
    let count = Arc::clone(&threads);
    let rt = Runtime::builder()
        .worker_threads(workers)
        .go_check(mode)
        .stall_threshold(Duration::from_millis(50))
        .compensate(compensate)
        .compensation_threads(spare)
        .on_go_check_report(move |r| sink.lock().unwrap().push(r.clone()))
        .on_thread_start(move || {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    Rig {
        rt,
        reports,
        threads,
    }
}

/// Spawns `n` go blocks that each block their worker's thread for `d`
/// (`std::thread::sleep`: what go-check exists to catch), and waits until
/// all `n` are inside the sleep at once. Returns the flag set as the first
/// of them wakes up.
fn stall_workers(rt: &Runtime, n: usize, d: Duration) -> Arc<AtomicBool> {
    let woke = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    for _ in 0..n {
        let started = started_tx.clone();
        let woke = Arc::clone(&woke);
        rt.go(async move {
            started.send(()).unwrap();
            std::thread::sleep(d);
            woke.store(true, Ordering::SeqCst);
        });
    }
    for _ in 0..n {
        started_rx.recv().unwrap();
    }
    woke
}

/// Waits (boundedly: the anti-hang limit fails the test) until `cond`.
fn wait_until(cond: impl Fn() -> bool) {
    while !cond() {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `pairs` ping-pong pairs, each exchanging `rounds` messages over
/// unbuffered channels; returns when every pair is done, with the number
/// of messages that came back.
async fn ping_pong(pairs: usize, rounds: usize) -> usize {
    let mut handles = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let (ping_tx, ping_rx) = chan::unbuffered::<usize>();
        let (pong_tx, pong_rx) = chan::unbuffered::<usize>();
        parkway::go(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        handles.push(parkway::go(async move {
            let mut back = 0;
            for i in 0..rounds {
                ping_tx.send(i).await.unwrap();
                assert_eq!(pong_rx.recv().await, Some(i + 1));
                back += 1;
            }
            back
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    total
}

#[test]
fn ten_thousand_ping_pongs_finish_while_a_go_block_sleeps_on_its_thread() {
    // The scenario: 2 workers, one go block sleeps 2 s on its
    // thread.
    watchdog(|| {
        let r = rig(2, GoCheck::Warn, true, 4);
        let start = std::time::Instant::now();
        let woke = stall_workers(&r.rt, 1, Duration::from_secs(2));
        let done = r.rt.block_on(ping_pong(10_000, 1));
        let finished = start.elapsed();
        assert_eq!(done, 10_000);
        assert!(
            !woke.load(Ordering::SeqCst),
            "the ping-pongs finished only after the sleeping go block woke"
        );
        // For the record (`--nocapture`), not asserted: when each happened.
        wait_until(|| woke.load(Ordering::SeqCst));
        eprintln!(
            "10,000 ping-pongs done at {finished:?}; the sleeper woke at {:?}; hand-offs: {}",
            start.elapsed(),
            r.rt.handle().metrics().num_handoffs()
        );
    });
}

#[test]
fn work_goes_on_while_every_worker_is_stuck() {
    // Both workers blocked: only threads that took over their work can run
    // the ping-pongs before the sleepers wake.
    watchdog(|| {
        let r = rig(2, GoCheck::Warn, true, 4);
        let start = std::time::Instant::now();
        let woke = stall_workers(&r.rt, 2, Duration::from_secs(3));
        let done = r.rt.block_on(ping_pong(1_000, 10));
        eprintln!(
            "with both workers stuck for 3 s: 10,000 round trips done at {:?}",
            start.elapsed()
        );
        assert_eq!(done, 10_000);
        assert!(
            !woke.load(Ordering::SeqCst),
            "the ping-pongs finished only after the sleepers woke"
        );
        // Two stand-in threads started (they count as runtime threads; the
        // second may still be starting when the ping-pongs are done).
        wait_until(|| r.threads.load(Ordering::SeqCst) == 4);
        assert_eq!(r.rt.handle().metrics().num_handoffs(), 2);
        let reports = r.reports.lock().unwrap();
        assert_eq!(reports.len(), 2, "{reports:#?}");
        for report in reports.iter() {
            assert!(
                report.message.contains("another thread took over"),
                "{report}"
            );
        }
    });
}

#[test]
fn without_compensation_the_stuck_workers_hold_everything_up() {
    // The control: the same program with compensation off runs nothing
    // else until the sleepers wake.
    watchdog(|| {
        let r = rig(2, GoCheck::Warn, false, 4);
        let woke = stall_workers(&r.rt, 2, Duration::from_millis(500));
        let done = r.rt.block_on(ping_pong(10, 10));
        assert_eq!(done, 100);
        assert!(woke.load(Ordering::SeqCst));
        assert_eq!(r.rt.handle().metrics().num_handoffs(), 0);
        assert_eq!(r.threads.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn compensation_works_with_go_check_off_and_reports_nothing() {
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let woke = stall_workers(&r.rt, 1, Duration::from_secs(2));
        let done = r.rt.block_on(ping_pong(100, 10));
        assert_eq!(done, 1_000);
        assert!(!woke.load(Ordering::SeqCst));
        assert!(r.reports.lock().unwrap().is_empty());
    });
}

#[test]
fn tasks_woken_into_the_stuck_workers_lifo_slot_still_run() {
    // The stuck go block spawns a task (it goes to its worker's LIFO slot)
    // and only then blocks: the hand-off takes that task too. With one
    // worker, nothing could steal it.
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let (tx, rx) = mpsc::channel();
        let woke = Arc::new(AtomicBool::new(false));
        let w = Arc::clone(&woke);
        r.rt.go(async move {
            parkway::go(async move { tx.send(()).unwrap() });
            // Still in the same poll: block.
            std::thread::sleep(Duration::from_secs(2));
            w.store(true, Ordering::SeqCst);
        });
        rx.recv().unwrap();
        assert!(!woke.load(Ordering::SeqCst));
    });
}

#[test]
fn tasks_the_stuck_poll_wakes_after_the_hand_off_still_run() {
    // The stuck poll keeps waking tasks after its slot was handed away;
    // its LIFO slot is closed by then, so they go where peers find them.
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let (tx, rx) = chan::bounded::<usize>(64);
        let woke = Arc::new(AtomicBool::new(false));
        let w = Arc::clone(&woke);
        r.rt.go(async move {
            for i in 0..20 {
                std::thread::sleep(Duration::from_millis(100));
                let tx = tx.clone();
                parkway::go(async move { tx.send(i).await.unwrap() });
            }
            std::thread::sleep(Duration::from_millis(1_000));
            w.store(true, Ordering::SeqCst);
        });
        let got = r.rt.block_on(async move {
            let mut got = Vec::new();
            for _ in 0..20 {
                got.push(rx.recv().await.unwrap());
            }
            got.sort_unstable();
            got
        });
        assert_eq!(got, (0..20).collect::<Vec<_>>());
        assert!(!woke.load(Ordering::SeqCst));
    });
}

#[test]
fn a_replaced_thread_comes_back_as_standby_and_is_reused() {
    watchdog(|| {
        let r = rig(1, GoCheck::Warn, true, 4);
        for round in 0..3 {
            let woke = stall_workers(&r.rt, 1, Duration::from_millis(400));
            let done = r.rt.block_on(ping_pong(10, 10));
            assert_eq!(done, 100, "round {round}");
            assert!(!woke.load(Ordering::SeqCst), "round {round}");
            // Let the stuck thread finish and go to standby.
            while !woke.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // One worker plus one stand-in, taking turns: the thread replaced
        // in one round stands in for the stuck one in the next.
        assert_eq!(r.threads.load(Ordering::SeqCst), 2);
        assert_eq!(r.rt.handle().metrics().num_workers(), 1);
        assert_eq!(r.reports.lock().unwrap().len(), 3);
    });
}

#[test]
fn with_every_compensation_thread_in_use_the_report_says_so() {
    watchdog(|| {
        let r = rig(2, GoCheck::Warn, true, 1);
        let woke = stall_workers(&r.rt, 2, Duration::from_millis(600));
        // One stand-in: it runs the rest.
        let done = r.rt.block_on(ping_pong(10, 10));
        assert_eq!(done, 100);
        assert!(!woke.load(Ordering::SeqCst));
        while !woke.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(r.rt);
        assert_eq!(r.threads.load(Ordering::SeqCst), 3);
        let reports = r.reports.lock().unwrap();
        assert_eq!(reports.len(), 2, "{reports:#?}");
        let refused = reports
            .iter()
            .filter(|r| r.message.contains("compensation threads are in use"))
            .count();
        assert_eq!(refused, 1, "{reports:#?}");
    });
}

#[test]
fn strict_mode_fails_the_stuck_task_and_the_rest_keeps_running() {
    watchdog(|| {
        let r = rig(1, GoCheck::Strict, true, 2);
        let stuck = r.rt.go(async {
            std::thread::sleep(Duration::from_millis(600));
            1
        });
        // Give it time to be stuck, then run other work meanwhile.
        std::thread::sleep(Duration::from_millis(150));
        let done = r.rt.block_on(ping_pong(10, 10));
        assert_eq!(done, 100);
        let err = r.rt.block_on(stuck).unwrap_err();
        assert!(err.is_stalled(), "{err}");
    });
}

#[test]
fn yielded_tasks_of_a_stuck_worker_are_taken_over() {
    // On one worker: the blocker is queued, the yielder runs first from
    // the LIFO slot and yields (its wake is deferred until the worker's
    // queue is empty), then the blocker blocks the thread. The deferred
    // wake is handed over with the rest.
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let woke = Arc::new(AtomicBool::new(false));
        let w = Arc::clone(&woke);
        let (tx, rx) = mpsc::channel();
        r.rt.go(async move {
            parkway::go(async move {
                std::thread::sleep(Duration::from_secs(2));
                w.store(true, Ordering::SeqCst);
            });
            parkway::go(async move {
                for _ in 0..100 {
                    parkway::yield_now().await;
                }
                tx.send(()).unwrap();
            });
        });
        rx.recv().unwrap();
        assert!(!woke.load(Ordering::SeqCst));
    });
}

#[test]
fn shutdown_with_a_replaced_thread_still_stuck() {
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let _woke = stall_workers(&r.rt, 1, Duration::from_millis(700));
        assert_eq!(r.rt.block_on(ping_pong(10, 10)), 100);
        // Dropping waits for the stuck thread's poll to return.
        drop(r.rt);
        assert_eq!(r.threads.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn shutdown_timeout_detaches_a_stuck_replaced_thread() {
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let _woke = stall_workers(&r.rt, 1, Duration::from_secs(3));
        assert_eq!(r.rt.block_on(ping_pong(10, 10)), 100);
        r.rt.shutdown_timeout(Duration::from_millis(100));
    });
}

#[test]
fn builder_refuses_too_many_compensation_threads() {
    let err = Runtime::builder()
        .compensation_threads(parkway::MAX_COMPENSATION_THREADS + 1)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("compensation_threads"), "{err}");
    let err = Runtime::builder()
        .worker_threads(parkway::MAX_WORKER_THREADS + 1)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_task_the_stuck_poll_wakes_runs_while_the_stand_in_is_busy() {
    // After the hand-off, the stuck poll spawns a task. The stand-in is
    // never idle (a go block yields until that task ran), so it never
    // steals: the task must reach it through the injector.
    watchdog(|| {
        let r = rig(1, GoCheck::Off, true, 2);
        let child_ran = Arc::new(AtomicBool::new(false));
        let stuck_woke = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = mpsc::channel();
        let (c, w) = (Arc::clone(&child_ran), Arc::clone(&stuck_woke));
        r.rt.go(async move {
            started_tx.send(()).unwrap();
            // Stuck long enough to be handed off (threshold 50 ms).
            std::thread::sleep(Duration::from_millis(400));
            parkway::go(async move { c.store(true, Ordering::SeqCst) });
            std::thread::sleep(Duration::from_millis(2_000));
            w.store(true, Ordering::SeqCst);
        });
        started_rx.recv().unwrap();
        let c = Arc::clone(&child_ran);
        let ran = r.rt.block_on(r.rt.go(async move {
            while !c.load(Ordering::SeqCst) {
                parkway::yield_now().await;
            }
        }));
        ran.unwrap();
        assert!(!stuck_woke.load(Ordering::SeqCst));
    });
}

#[test]
fn zero_compensation_threads_turns_the_hand_off_off() {
    watchdog(|| {
        let r = rig(1, GoCheck::Warn, true, 0);
        r.rt.block_on(r.rt.go(async { std::thread::sleep(Duration::from_millis(300)) }))
            .unwrap();
        assert_eq!(r.rt.handle().metrics().num_handoffs(), 0);
        let reports = r.reports.lock().unwrap();
        assert_eq!(reports.len(), 1, "{reports:#?}");
        assert!(
            !reports[0].message.contains("compensation"),
            "{}",
            reports[0].message
        );
    });
}

#[test]
fn a_panicking_thread_start_hook_does_not_cost_a_worker_or_a_stand_in() {
    watchdog(|| {
        let rt = Runtime::builder()
            .worker_threads(1)
            .go_check(GoCheck::Off)
            .stall_threshold(Duration::from_millis(50))
            .on_thread_start(|| panic!("hook fails"))
            .build()
            .unwrap();
        let woke = stall_workers(&rt, 1, Duration::from_secs(2));
        assert_eq!(rt.block_on(ping_pong(10, 10)), 100);
        assert!(!woke.load(Ordering::SeqCst));
        assert_eq!(rt.handle().metrics().num_handoffs(), 1);
    });
}
