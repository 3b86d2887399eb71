//! `Builder`: worker count, thread names, thread start/stop hooks, and the
//! refusal of zero workers.

mod util;

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use parkway::{GoCheck, Runtime};
use util::watchdog;

/// The names of the threads that ran `n` go blocks (each parks once, so
/// they spread over the workers).
fn go_block_thread_names(rt: &Runtime, n: usize) -> HashSet<String> {
    rt.block_on(async {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                parkway::go(async {
                    parkway::yield_now().await;
                    util::burn(std::time::Duration::from_micros(100));
                    thread::current().name().map(str::to_string)
                })
            })
            .collect();
        let mut names = HashSet::new();
        for h in hs {
            names.insert(h.await.unwrap().expect("an unnamed worker thread"));
        }
        names
    })
}

#[test]
fn zero_workers_is_invalid_input() {
    let err = Runtime::builder().worker_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"), "{err}");
}

#[test]
fn worker_count_is_what_was_asked() {
    watchdog(|| {
        for n in [1, 2, 3, 5] {
            let rt = Runtime::builder().worker_threads(n).build().unwrap();
            assert_eq!(rt.handle().metrics().num_workers(), n);
            let names = go_block_thread_names(&rt, 200);
            assert!(
                names.len() <= n,
                "{n} workers but go blocks ran on {names:?}"
            );
        }
        // Default: one per core.
        let rt = Runtime::new().unwrap();
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(rt.handle().metrics().num_workers(), cores);
    });
}

#[test]
fn threads_are_named_from_thread_name() {
    watchdog(|| {
        let rt = Runtime::builder()
            .worker_threads(3)
            .thread_name("pw-test")
            .build()
            .unwrap();
        let names = go_block_thread_names(&rt, 300);
        let allowed: HashSet<String> = (0..3).map(|i| format!("pw-test-{i}")).collect();
        assert!(!names.is_empty());
        assert!(names.is_subset(&allowed), "unexpected names {names:?}");
        // Default names.
        let rt = Runtime::builder().worker_threads(2).build().unwrap();
        let names = go_block_thread_names(&rt, 100);
        for name in names {
            assert!(name.starts_with("parkway-worker-"), "{name}");
        }
    });
}

#[test]
fn start_and_stop_hooks_run_once_per_worker() {
    watchdog(|| {
        let starts: Arc<Mutex<HashMap<ThreadId, usize>>> = Arc::default();
        let stops: Arc<Mutex<HashMap<ThreadId, usize>>> = Arc::default();
        let start_names: Arc<Mutex<Vec<String>>> = Arc::default();
        let (s1, s2, s3) = (
            Arc::clone(&starts),
            Arc::clone(&stops),
            Arc::clone(&start_names),
        );
        let rt = Runtime::builder()
            .worker_threads(3)
            .thread_name("hooked")
            .on_thread_start(move || {
                *s1.lock()
                    .unwrap()
                    .entry(thread::current().id())
                    .or_default() += 1;
                s3.lock()
                    .unwrap()
                    .push(thread::current().name().unwrap_or("").to_string());
            })
            .on_thread_stop(move || {
                *s2.lock()
                    .unwrap()
                    .entry(thread::current().id())
                    .or_default() += 1;
            })
            .build()
            .unwrap();
        // Work that wakes and parks workers many times must not re-run the
        // hooks.
        for _ in 0..20 {
            rt.block_on(async {
                let hs: Vec<_> = (0..50)
                    .map(|_| {
                        parkway::go(async {
                            parkway::sleep(std::time::Duration::from_millis(1)).await;
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
        }
        util::wait_until("every worker to start", || {
            starts.lock().unwrap().len() == 3
        });
        assert!(
            stops.lock().unwrap().is_empty(),
            "a stop hook ran before shutdown"
        );
        drop(rt);
        let starts = starts.lock().unwrap().clone();
        let stops = stops.lock().unwrap().clone();
        assert_eq!(starts.len(), 3, "{starts:?}");
        assert!(starts.values().all(|&n| n == 1), "{starts:?}");
        assert_eq!(stops.len(), 3, "{stops:?}");
        assert!(stops.values().all(|&n| n == 1), "{stops:?}");
        let start_ids: HashSet<_> = starts.keys().collect();
        let stop_ids: HashSet<_> = stops.keys().collect();
        assert_eq!(start_ids, stop_ids, "stop hooks ran on other threads");
        let mut names = start_names.lock().unwrap().clone();
        names.sort();
        assert_eq!(names, ["hooked-0", "hooked-1", "hooked-2"]);
    });
}

#[test]
fn start_hook_runs_before_any_task_on_that_worker() {
    watchdog(|| {
        let started: Arc<Mutex<HashSet<ThreadId>>> = Arc::default();
        let s = Arc::clone(&started);
        let rt = Runtime::builder()
            .worker_threads(2)
            .on_thread_start(move || {
                s.lock().unwrap().insert(thread::current().id());
            })
            .build()
            .unwrap();
        let bad = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    let started = Arc::clone(&started);
                    let bad = Arc::clone(&bad);
                    parkway::go(async move {
                        if !started.lock().unwrap().contains(&thread::current().id()) {
                            bad.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(
            bad.load(Ordering::SeqCst),
            0,
            "a task ran before its worker's start hook"
        );
    });
}

#[test]
fn a_builder_builds_independent_runtimes() {
    watchdog(|| {
        let b = Runtime::builder()
            .worker_threads(2)
            .go_check(GoCheck::Off)
            .thread_name("twice");
        let r1 = b.build().unwrap();
        let r2 = b.clone().build().unwrap();
        assert_eq!(
            r1.block_on(async { parkway::go(async { 1 }).await.unwrap() }),
            1
        );
        drop(r1);
        assert_eq!(
            r2.block_on(async { parkway::go(async { 2 }).await.unwrap() }),
            2
        );
    });
}

#[test]
fn thread_stack_size_is_applied() {
    // A go block that needs more than a small default stack would give, on
    // a runtime asking for 8 MiB.
    watchdog(|| {
        fn deep(n: u32) -> u64 {
            let buf = std::hint::black_box([n as u8; 1024]);
            if n == 0 {
                buf[0] as u64
            } else {
                deep(n - 1) + buf[1] as u64
            }
        }
        let rt = Runtime::builder()
            .worker_threads(1)
            .thread_stack_size(8 << 20)
            .build()
            .unwrap();
        let v = rt.block_on(async { parkway::go(async { deep(3000) }).await.unwrap() });
        assert!(v > 0);
    });
}

#[test]
fn many_workers() {
    watchdog(|| {
        let rt = Runtime::builder().worker_threads(16).build().unwrap();
        assert_eq!(rt.handle().metrics().num_workers(), 16);
        let sum = rt.block_on(async {
            let hs: Vec<_> = (0..1000u64)
                .map(|i| {
                    parkway::go(async move {
                        parkway::yield_now().await;
                        i
                    })
                })
                .collect();
            let mut s = 0;
            for h in hs {
                s += h.await.unwrap();
            }
            s
        });
        assert_eq!(sum, (0..1000).sum::<u64>());
    });
}
