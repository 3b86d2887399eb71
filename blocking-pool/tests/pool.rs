//! The elastic pool: every job runs (or is handed back, or dropped by a
//! shutdown, never lost), threads stay within `max_threads`, jobs queue
//! when the pool is saturated, idle threads exit after the keep-alive, a
//! panicking job does not take its thread down, and shutdown waits for
//! running work up to its timeout.
//!
//! No assertion bounds how long anything took; the waits below are
//! anti-hang limits and settle times with wide margins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use parkway_blocking_pool::{BlockingPool, ExecuteErrorKind, PoolConfig};

fn pool(max_threads: usize, keep_alive: Duration) -> BlockingPool {
    BlockingPool::new(PoolConfig {
        max_threads,
        keep_alive,
        thread_name: "test-blocking".to_string(),
        ..PoolConfig::default()
    })
    .unwrap()
}

/// Waits until `cond` holds, failing the test after 30 s.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn ten_thousand_jobs_all_run_with_the_pool_capped_at_64() {
    let pool = pool(64, Duration::from_secs(10));
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    for i in 0..10_000u32 {
        let (running, most, tx) = (Arc::clone(&running), Arc::clone(&most), tx.clone());
        pool.execute(Box::new(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Block a little, as blocking work does.
            std::thread::sleep(Duration::from_micros(200));
            running.fetch_sub(1, Ordering::SeqCst);
            tx.send(i).unwrap();
        }))
        .unwrap();
        assert!(pool.num_threads() <= 64);
    }
    drop(tx);
    let mut got: Vec<u32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, (0..10_000).collect::<Vec<_>>(), "every job ran once");
    assert!(most.load(Ordering::SeqCst) <= 64);
    assert!(most.load(Ordering::SeqCst) > 1, "the jobs ran in parallel");
    assert!(pool.shutdown(Duration::from_secs(10)));
}

#[test]
fn a_saturated_pool_queues_and_runs_in_order() {
    let pool = pool(1, Duration::from_secs(10));
    let gate = Arc::new(Barrier::new(2));
    let order = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&gate);
    let (started_tx, started_rx) = mpsc::channel();
    pool.execute(Box::new(move || {
        started_tx.send(()).unwrap();
        g.wait();
    }))
    .unwrap();
    started_rx.recv().unwrap();
    for i in 0..5 {
        let order = Arc::clone(&order);
        pool.execute(Box::new(move || order.lock().unwrap().push(i)))
            .unwrap();
    }
    // One thread, busy: the five wait.
    assert_eq!(pool.num_threads(), 1);
    assert_eq!(pool.queue_len(), 5);
    gate.wait();
    wait_until("the queue to drain", || order.lock().unwrap().len() == 5);
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    assert!(pool.shutdown(Duration::from_secs(10)));
}

#[test]
fn idle_threads_exit_after_the_keep_alive_and_come_back_on_demand() {
    let pool = pool(8, Duration::from_millis(100));
    let gate = Arc::new(Barrier::new(5));
    for _ in 0..4 {
        let g = Arc::clone(&gate);
        pool.execute(Box::new(move || {
            g.wait();
        }))
        .unwrap();
    }
    gate.wait();
    assert_eq!(pool.num_threads(), 4);
    wait_until("idle threads to exit", || pool.num_threads() == 0);
    let (tx, rx) = mpsc::channel();
    pool.execute(Box::new(move || tx.send(7).unwrap())).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 7);
    assert!(pool.num_threads() <= 1);
    assert!(pool.shutdown(Duration::from_secs(10)));
}

#[test]
fn an_idle_thread_is_reused_rather_than_a_new_one_started() {
    let pool = pool(8, Duration::from_secs(10));
    for i in 0..50 {
        let (tx, rx) = mpsc::channel();
        pool.execute(Box::new(move || tx.send(i).unwrap())).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), i);
        // Its thread goes back to waiting for work.
        wait_until("the thread to be idle", || {
            pool.num_idle_threads() == pool.num_threads()
        });
    }
    assert_eq!(pool.num_threads(), 1, "{pool:?}");
    assert!(pool.shutdown(Duration::from_secs(10)));
}

#[test]
fn a_panicking_job_does_not_take_its_thread_down() {
    let pool = pool(1, Duration::from_secs(10));
    pool.execute(Box::new(|| panic!("job fails on purpose")))
        .unwrap();
    let (tx, rx) = mpsc::channel();
    pool.execute(Box::new(move || {
        tx.send(std::thread::current().name().map(str::to_string))
            .unwrap()
    }))
    .unwrap();
    let name = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(
        name.as_deref(),
        Some("test-blocking-1"),
        "the same thread ran on"
    );
    assert!(pool.shutdown(Duration::from_secs(10)));
}

#[test]
fn shutdown_waits_for_running_work_and_drops_queued_work() {
    let pool = pool(1, Duration::from_secs(10));
    let (started_tx, started_rx) = mpsc::channel();
    let finished = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&finished);
    pool.execute(Box::new(move || {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        f.fetch_add(1, Ordering::SeqCst);
    }))
    .unwrap();
    // Queued behind it: dropped at shutdown, which its sender shows.
    let (never_tx, never_rx) = mpsc::channel::<()>();
    pool.execute(Box::new(move || never_tx.send(()).unwrap()))
        .unwrap();
    started_rx.recv().unwrap();
    assert!(pool.shutdown(Duration::from_secs(10)));
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the running job finished"
    );
    assert_eq!(
        never_rx.recv_timeout(Duration::from_secs(10)),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "the queued job was dropped, not run"
    );
    assert_eq!(pool.num_threads(), 0);
}

#[test]
fn shutdown_timeout_detaches_a_job_that_runs_on() {
    let pool = pool(1, Duration::from_secs(10));
    let (started_tx, started_rx) = mpsc::channel();
    pool.execute(Box::new(move || {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(1_500));
    }))
    .unwrap();
    started_rx.recv().unwrap();
    assert!(!pool.shutdown(Duration::from_millis(50)));
    // The thread exits by itself once the job returns.
    wait_until("the detached thread to exit", || pool.num_threads() == 0);
}

#[test]
fn execute_after_shutdown_hands_the_job_back() {
    let pool = pool(2, Duration::from_secs(10));
    assert!(pool.shutdown(Duration::from_secs(1)));
    assert!(pool.is_shut_down());
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let err = pool
        .execute(Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap_err();
    assert!(matches!(err.kind, ExecuteErrorKind::ShutDown));
    assert!(err.to_string().contains("shut down"), "{err}");
    // The job is whole: the caller may still run it.
    (err.job)();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn zero_max_threads_is_refused() {
    let err = BlockingPool::new(PoolConfig {
        max_threads: 0,
        ..PoolConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn threads_are_named_and_run_their_hooks() {
    let starts = Arc::new(AtomicUsize::new(0));
    let stops = Arc::new(AtomicUsize::new(0));
    let (s, t) = (Arc::clone(&starts), Arc::clone(&stops));
    let pool = BlockingPool::new(PoolConfig {
        max_threads: 2,
        thread_name: "named".to_string(),
        on_thread_start: Some(Arc::new(move || {
            s.fetch_add(1, Ordering::SeqCst);
        })),
        on_thread_stop: Some(Arc::new(move || {
            t.fetch_add(1, Ordering::SeqCst);
        })),
        ..PoolConfig::default()
    })
    .unwrap();
    let (tx, rx) = mpsc::channel();
    pool.execute(Box::new(move || {
        tx.send(std::thread::current().name().map(str::to_string))
            .unwrap()
    }))
    .unwrap();
    let name = rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap();
    assert!(name.starts_with("named-"), "{name}");
    assert!(pool.shutdown(Duration::from_secs(10)));
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert_eq!(stops.load(Ordering::SeqCst), 1);
}
