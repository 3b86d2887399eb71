//! The pool's races: a keep-alive exit against `shutdown` and its stop
//! hook, two `execute`s whose thread spawns fail, `shutdown` with no
//! deadline against a failed spawn, and `execute` against threads leaving
//! after a 1 ms keep-alive. Each failed on the pool's first version (a
//! cold review wrote them); the pool now spawns threads under its lock and
//! `shutdown` waits for stop hooks.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use parkway_blocking_pool::{BlockingPool, ExecuteErrorKind, Job, PoolConfig};
use util::NO_STACK;

/// `shutdown` waits for the stop hook of a thread leaving after its
/// keep-alive.
#[test]
fn shutdown_waits_for_a_leaving_threads_stop_hook() {
    let hook_done = Arc::new(AtomicBool::new(false));
    let h = Arc::clone(&hook_done);
    let pool = BlockingPool::new(PoolConfig {
        max_threads: 1,
        keep_alive: Duration::from_millis(1),
        on_thread_stop: Some(Arc::new(move || {
            std::thread::sleep(Duration::from_millis(300));
            h.store(true, Ordering::SeqCst);
        })),
        ..PoolConfig::default()
    })
    .unwrap();
    let (tx, rx) = mpsc::channel();
    pool.execute(Box::new(move || tx.send(()).unwrap()))
        .unwrap();
    rx.recv().unwrap();
    let start = Instant::now();
    while pool.num_threads() != 0 {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(1));
    }
    // The thread is in its stop hook now (300 ms).
    assert!(pool.shutdown(Duration::from_secs(10)));
    assert!(
        hook_done.load(Ordering::SeqCst),
        "shutdown returned true before the thread's stop hook ran"
    );
}

/// Two concurrent `execute`s whose spawns fail: each caller gets back its
/// own job, and no job is accepted (`Ok`) and left queued with no thread.
#[test]
fn failed_spawns_hand_back_the_callers_own_job_and_strand_none() {
    for round in 0..2_000 {
        let pool = BlockingPool::new(PoolConfig {
            max_threads: 1 + round % 2,
            keep_alive: Duration::from_millis(1),
            stack_size: Some(NO_STACK),
            ..PoolConfig::default()
        })
        .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let tags: Vec<_> = (0..2usize)
            .map(|me| {
                let (pool, barrier) = (pool.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let tag = Arc::new(AtomicUsize::new(usize::MAX));
                    let t = Arc::clone(&tag);
                    let job: Job = Box::new(move || t.store(me, Ordering::SeqCst));
                    match pool.execute(job) {
                        Ok(()) => None,
                        Err(e) => {
                            assert!(matches!(e.kind, ExecuteErrorKind::Spawn(_)));
                            // Running the handed-back job tells whose it is.
                            (e.job)();
                            Some(me)
                        }
                    }
                    .map(|me| (me, tag))
                })
            })
            .collect();
        for h in tags {
            if let Some((me, tag)) = h.join().unwrap() {
                assert_eq!(
                    tag.load(Ordering::SeqCst),
                    me,
                    "round {round}: caller {me} was handed back another caller's job"
                );
            }
        }
        assert!(
            !(pool.num_threads() == 0 && pool.queue_len() > 0),
            "round {round}: {} job(s) accepted and queued with no thread to run them",
            pool.queue_len()
        );
    }
}

/// A `shutdown` with no deadline returns when a spawn racing it fails.
#[test]
fn shutdown_without_deadline_returns_after_a_failed_spawn() {
    for round in 0..5_000 {
        let pool = BlockingPool::new(PoolConfig {
            max_threads: 1,
            stack_size: Some(NO_STACK),
            ..PoolConfig::default()
        })
        .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let (p, b) = (pool.clone(), Arc::clone(&barrier));
        let exec = std::thread::spawn(move || {
            b.wait();
            let _ = p.execute(Box::new(|| {}));
        });
        let (done_tx, done_rx) = mpsc::channel();
        let p = pool.clone();
        std::thread::spawn(move || {
            barrier.wait();
            p.shutdown(Duration::MAX);
            let _ = done_tx.send(());
        });
        exec.join().unwrap();
        assert!(
            done_rx.recv_timeout(Duration::from_secs(5)).is_ok(),
            "round {round}: shutdown(Duration::MAX) hung with {} threads counted",
            pool.num_threads()
        );
    }
}

/// Keep-alive 1 ms, max 1–2 threads, several submitters: every job runs
/// (threads leave and start all the time).
#[test]
fn every_job_runs_while_threads_come_and_go() {
    for max in [1usize, 2] {
        let pool = BlockingPool::new(PoolConfig {
            max_threads: max,
            keep_alive: Duration::from_millis(1),
            ..PoolConfig::default()
        })
        .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let per = 20_000;
        let subs: Vec<_> = (0..3)
            .map(|s| {
                let (pool, ran) = (pool.clone(), Arc::clone(&ran));
                std::thread::spawn(move || {
                    for i in 0..per {
                        let r = Arc::clone(&ran);
                        pool.execute(Box::new(move || {
                            r.fetch_add(1, Ordering::SeqCst);
                        }))
                        .unwrap();
                        assert!(pool.num_threads() <= max);
                        if (i + s) % 97 == 0 {
                            // Let threads go idle and time out.
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                })
            })
            .collect();
        for h in subs {
            h.join().unwrap();
        }
        let start = Instant::now();
        while ran.load(Ordering::SeqCst) != 3 * per {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "max {max}: {} of {} ran; {pool:?}",
                ran.load(Ordering::SeqCst),
                3 * per
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(pool.shutdown(Duration::from_secs(10)));
    }
}
