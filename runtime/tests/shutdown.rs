//! Shutdown: dropping a `Runtime` drops every pending task's future inside
//! the runtime's context, cancels their handles, closes pending `timeout`
//! channels, refuses later spawns with cancelled handles, and leaks
//! nothing; `shutdown_timeout` returns while a go block is stuck.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parkway::chan::{self, TryRecvError};
use parkway::{GoCheck, Handle, JoinHandle, Runtime};
use util::{runtime, runtime_with, watchdog, DropCount};

/// Tasks of each kind the shutdown tests leave pending.
const PER_KIND: usize = 40;

/// Awaits `h` on a fresh runtime (the one it belonged to is gone).
fn join_elsewhere<T: Send + 'static>(h: JoinHandle<T>) -> Result<T, parkway::JoinError> {
    runtime(1).block_on(h)
}

#[test]
fn drop_drops_every_pending_future_and_cancels_its_handle() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let started = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        let mut senders = Vec::new();
        for _ in 0..PER_KIND {
            // Parked on a channel receive that never gets a value.
            let (tx, rx) = chan::bounded::<u32>(1);
            senders.push(tx);
            let (g, s) = (drops.guard(), Arc::clone(&started));
            handles.push(rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                rx.recv().await;
            }));
            // Parked on an hour-long sleep.
            let (g, s) = (drops.guard(), Arc::clone(&started));
            handles.push(rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                parkway::sleep(Duration::from_secs(3600)).await;
            }));
            // Parked on a future that never completes.
            let (g, s) = (drops.guard(), Arc::clone(&started));
            handles.push(rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }));
        }
        // A few running (yield loops) at the moment of the drop.
        for _ in 0..4 {
            let (g, s) = (drops.guard(), Arc::clone(&started));
            handles.push(rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                loop {
                    parkway::yield_now().await;
                }
            }));
        }
        let total = handles.len();
        util::wait_until("every task to start", || {
            started.load(Ordering::SeqCst) == total
        });
        assert_eq!(drops.get(), 0);
        drop(rt);
        assert_eq!(drops.get(), total, "some pending futures were not dropped");
        let elsewhere = runtime(1);
        for h in handles {
            assert!(h.is_finished());
            let err = elsewhere.block_on(h).unwrap_err();
            assert!(err.is_cancelled(), "{err}");
        }
        // The receivers went with the futures: the channels are closed.
        for tx in senders {
            assert!(tx.try_send(1).is_err());
        }
    });
}

#[test]
fn drop_drops_queued_futures_never_polled() {
    watchdog(|| {
        let rt = runtime(1);
        let drops = DropCount::new();
        let handles: Vec<_> = (0..2000)
            .map(|_| {
                let g = drops.guard();
                rt.go(async move {
                    let _g = g;
                    std::future::pending::<()>().await
                })
            })
            .collect();
        drop(rt);
        assert_eq!(drops.get(), 2000);
        let elsewhere = runtime(1);
        for h in handles {
            assert!(elsewhere.block_on(h).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn futures_are_dropped_inside_the_runtime_context() {
    watchdog(|| {
        // Three workers tells this runtime's handle from any other.
        let rt = runtime(3);
        let in_context = Arc::new(AtomicUsize::new(0));
        let drops = DropCount::new();
        let started = Arc::new(AtomicUsize::new(0));
        for i in 0..20 {
            let ic = Arc::clone(&in_context);
            let g = drops.guard_with(move || {
                if let Ok(h) = Handle::try_current() {
                    if h.metrics().num_workers() == 3 {
                        ic.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            let s = Arc::clone(&started);
            rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                if i % 2 == 0 {
                    parkway::sleep(Duration::from_secs(3600)).await;
                } else {
                    std::future::pending::<()>().await;
                }
            });
        }
        util::wait_until("every task to start", || {
            started.load(Ordering::SeqCst) == 20
        });
        drop(rt);
        assert_eq!(drops.get(), 20);
        assert_eq!(
            in_context.load(Ordering::SeqCst),
            20,
            "futures were dropped outside the runtime's context"
        );
        // And the context was left again afterwards.
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn go_during_shutdown_gives_a_cancelled_handle() {
    watchdog(|| {
        let rt = runtime(2);
        let spawned: Arc<Mutex<Vec<JoinHandle<u32>>>> = Arc::default();
        let inner_drops = DropCount::new();
        let inner_ran = Arc::new(AtomicBool::new(false));
        let timeouts: Arc<Mutex<Vec<chan::Receiver<()>>>> = Arc::default();
        let started = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let sp = Arc::clone(&spawned);
            let id = inner_drops.clone();
            let ran = Arc::clone(&inner_ran);
            let ts = Arc::clone(&timeouts);
            let g = DropCount::new().guard_with(move || {
                // Runs while the runtime shuts down.
                let g = id.guard();
                let ran = Arc::clone(&ran);
                let h = parkway::go(async move {
                    let _g = g;
                    ran.store(true, Ordering::SeqCst);
                    1
                });
                let h2 = Handle::current().go(async { 2 });
                sp.lock().unwrap().push(h);
                sp.lock().unwrap().push(h2);
                ts.lock()
                    .unwrap()
                    .push(parkway::timeout(Duration::from_secs(3600)));
            });
            let s = Arc::clone(&started);
            rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await
            });
        }
        util::wait_until("every task to start", || {
            started.load(Ordering::SeqCst) == 10
        });
        drop(rt);
        let spawned = std::mem::take(&mut *spawned.lock().unwrap());
        assert_eq!(spawned.len(), 20);
        for h in spawned {
            assert!(
                h.is_finished(),
                "a handle spawned during shutdown is not finished"
            );
            let err = join_elsewhere(h).unwrap_err();
            assert!(err.is_cancelled(), "{err}");
        }
        assert!(
            !inner_ran.load(Ordering::SeqCst),
            "a go block spawned during shutdown ran"
        );
        assert_eq!(
            inner_drops.get(),
            10,
            "futures spawned during shutdown leaked"
        );
        // Timeouts made during shutdown are closed too.
        for t in timeouts.lock().unwrap().iter() {
            assert!(matches!(t.try_recv(), Err(TryRecvError::Closed)));
        }
    });
}

#[test]
fn handle_go_after_the_runtime_was_dropped_is_cancelled() {
    watchdog(|| {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        drop(rt);
        let drops = DropCount::new();
        let ran = Arc::new(AtomicBool::new(false));
        let (g, r) = (drops.guard(), Arc::clone(&ran));
        let h = handle.go(async move {
            let _g = g;
            r.store(true, Ordering::SeqCst);
            5
        });
        assert!(h.is_finished());
        assert_eq!(drops.get(), 1, "the refused future was not dropped");
        let err = join_elsewhere(h).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert!(!ran.load(Ordering::SeqCst));
        // Through task::Builder, and through an entered context.
        let h = parkway::task::Builder::new()
            .name("late")
            .go_on(&handle, async { 6 });
        let err = join_elsewhere(h).unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.name(), Some("late"));
        let _g = handle.enter();
        let h = parkway::go(async { 7 });
        drop(_g);
        assert!(join_elsewhere(h).unwrap_err().is_cancelled());
        // Handle::block_on still drives a future that needs no timers.
        assert_eq!(handle.block_on(async { 8 }), 8);
    });
}

#[test]
fn pending_timeout_channels_close_at_shutdown() {
    watchdog(|| {
        let rt = runtime(1);
        let (t1, t2) = rt.block_on(async {
            (
                parkway::timeout(Duration::from_secs(3600)),
                parkway::timeout(Duration::from_secs(7200)),
            )
        });
        // One is being waited on by a plain thread during the drop.
        let waiter = std::thread::spawn(move || t2.recv_blocking());
        std::thread::sleep(Duration::from_millis(10));
        assert!(matches!(t1.try_recv(), Err(TryRecvError::Empty)));
        drop(rt);
        assert_eq!(t1.recv_blocking(), None);
        assert!(t1.is_closed());
        assert_eq!(waiter.join().unwrap(), None);
    });
}

#[test]
fn timeout_made_after_shutdown_is_closed_at_once() {
    watchdog(|| {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        drop(rt);
        let _g = handle.enter();
        let t = parkway::timeout(Duration::from_secs(3600));
        assert!(matches!(t.try_recv(), Err(TryRecvError::Closed)));
    });
}

#[test]
fn sleep_polled_after_shutdown_panics_clearly() {
    watchdog(|| {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        drop(rt);
        let msg = util::expect_panic(|| {
            handle.block_on(async { parkway::sleep(Duration::from_secs(1)).await })
        });
        assert!(msg.contains("shut down"), "{msg}");
    });
}

#[test]
fn a_sleep_awaited_elsewhere_panics_at_shutdown_instead_of_hanging() {
    // A plain thread sleeps on the runtime's timers through Handle::block_on;
    // the runtime is dropped under it. Its timers stop, so the sleep cannot
    // complete: it must fail loudly (as tokio's does), not hang.
    watchdog(|| {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        let sleeper = std::thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handle.block_on(async { parkway::sleep(Duration::from_secs(3600)).await })
            }))
        });
        std::thread::sleep(Duration::from_millis(20));
        drop(rt);
        let payload = sleeper.join().unwrap().unwrap_err();
        let msg = util::panic_message(&*payload);
        assert!(msg.contains("shut down"), "{msg}");
    });
}

#[test]
fn a_join_handle_awaited_elsewhere_wakes_on_shutdown() {
    watchdog(|| {
        let rt = runtime(2);
        let h = rt.go(std::future::pending::<()>());
        let handle = rt.handle().clone();
        let waiter = std::thread::spawn(move || handle.block_on(h));
        std::thread::sleep(Duration::from_millis(10));
        drop(rt);
        let err = waiter.join().unwrap().unwrap_err();
        assert!(err.is_cancelled(), "{err}");
    });
}

#[test]
fn a_go_block_awaiting_another_runtimes_task_sees_the_cancellation() {
    watchdog(|| {
        let a = runtime(1);
        let b = runtime(1);
        let h = b.go(async { parkway::sleep(Duration::from_secs(3600)).await });
        // The handle itself is the go block: it awaits the other runtime's task.
        let waiter = a.go(h);
        std::thread::sleep(Duration::from_millis(10));
        drop(b);
        let inner = a.block_on(waiter).unwrap();
        assert!(inner.unwrap_err().is_cancelled());
    });
}

#[test]
fn shutdown_timeout_returns_while_a_go_block_is_stuck() {
    watchdog(|| {
        let rt = runtime_with(2, GoCheck::Off);
        let stuck_for = Duration::from_secs(3);
        let in_sleep = Arc::new(AtomicBool::new(false));
        let drops = DropCount::new();
        let (g, s) = (drops.guard(), Arc::clone(&in_sleep));
        let stuck = rt.go(async move {
            let _g = g;
            s.store(true, Ordering::SeqCst);
            // Blocks its worker (go-check is off).
            std::thread::sleep(stuck_for);
            // Parks afterwards: the task is cancelled once this poll ends.
            std::future::pending::<()>().await
        });
        let parked_drops = DropCount::new();
        let g = parked_drops.guard();
        let parked = rt.go(async move {
            let _g = g;
            parkway::sleep(Duration::from_secs(3600)).await
        });
        util::wait_until("the go block to block", || in_sleep.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(10));
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(100));
        let took = start.elapsed();
        // Returned without waiting for the stuck worker (which needs ~3 s).
        assert!(
            took < Duration::from_millis(2500),
            "shutdown_timeout took {took:?}"
        );
        // The parked task was cancelled at once.
        assert_eq!(parked_drops.get(), 1);
        assert!(join_elsewhere(parked).unwrap_err().is_cancelled());
        // The stuck one ends cancelled when its poll returns.
        let err = join_elsewhere(stuck).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn shutdown_timeout_with_nothing_stuck_is_a_full_shutdown() {
    watchdog(|| {
        let stopped = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&stopped);
        let rt = Runtime::builder()
            .worker_threads(2)
            .on_thread_stop(move || {
                s.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let drops = DropCount::new();
        let g = drops.guard();
        let h = rt.go(async move {
            let _g = g;
            std::future::pending::<()>().await
        });
        rt.shutdown_timeout(Duration::from_secs(10));
        assert_eq!(drops.get(), 1);
        assert_eq!(stopped.load(Ordering::SeqCst), 2, "workers were not joined");
        assert!(join_elsewhere(h).unwrap_err().is_cancelled());
    });
}

#[test]
fn nothing_leaks_after_the_runtime_is_dropped() {
    watchdog(|| {
        // `marker` is captured by every task and by a thread hook, which the
        // runtime's shared state keeps: a strong count back to 1 proves the
        // task cells and the runtime itself were freed.
        let marker = Arc::new(());
        let m = Arc::clone(&marker);
        let rt = Runtime::builder()
            .worker_threads(2)
            .on_thread_start(move || {
                let _ = &m;
            })
            .build()
            .unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for i in 0..200 {
            let m = Arc::clone(&marker);
            let s = Arc::clone(&started);
            let (tx, rx) = chan::bounded::<u32>(1);
            senders.push(tx);
            let h = rt.go(async move {
                let _m = m;
                s.fetch_add(1, Ordering::SeqCst);
                match i % 4 {
                    0 => {
                        rx.recv().await;
                    }
                    1 => parkway::sleep(Duration::from_secs(3600)).await,
                    2 => loop {
                        parkway::yield_now().await;
                    },
                    _ => {}
                }
                drop(rx);
            });
            if i % 8 < 4 {
                handles.push(h);
            }
            // The other handles are dropped: detached tasks.
        }
        // Finished tasks whose outputs hold clones and are never read.
        for _ in 0..20 {
            let m = Arc::clone(&marker);
            handles.push(rt.go(async move {
                drop(m);
            }));
        }
        let unread: Vec<_> = (0..20)
            .map(|_| {
                let m = Arc::clone(&marker);
                rt.go(async move { m })
            })
            .collect();
        util::wait_until("every task to start", || {
            started.load(Ordering::SeqCst) == 200
        });
        drop(rt);
        drop(handles);
        drop(unread);
        // The senders outlive the runtime: the cancelled receives must not
        // have left the tasks' wakers in the channels.
        assert_eq!(
            Arc::strong_count(&marker),
            1,
            "task cells or the runtime's shared state leaked"
        );
        drop(senders);
    });
}

#[test]
fn a_task_queued_on_a_worker_at_shutdown_does_not_leak_the_runtime() {
    // A task that wakes itself in every poll is always in its worker's run
    // queue (or running) when the runtime is dropped. Its future must be
    // dropped, and its cell and the runtime's shared state freed: `marker`
    // is held by the task's future and by a thread hook, which the shared
    // state keeps. (`yield_now` would do too, but it parks the waker in a
    // per-worker list first, which makes the queue entry a matter of timing.)
    watchdog(|| {
        for workers in [1, 2] {
            let marker = Arc::new(());
            let m = Arc::clone(&marker);
            let rt = Runtime::builder()
                .worker_threads(workers)
                .on_thread_start(move || {
                    let _ = &m;
                })
                .build()
                .unwrap();
            let drops = DropCount::new();
            let (g, m) = (drops.guard(), Arc::clone(&marker));
            let polls = Arc::new(AtomicUsize::new(0));
            let p = Arc::clone(&polls);
            drop(rt.go(async move {
                let _g = g;
                let _m = m;
                std::future::poll_fn(|cx| {
                    p.fetch_add(1, Ordering::SeqCst);
                    cx.waker().wake_by_ref();
                    std::task::Poll::<()>::Pending
                })
                .await
            }));
            util::wait_until("the task to spin", || polls.load(Ordering::SeqCst) > 100);
            drop(rt);
            assert_eq!(drops.get(), 1, "the future was not dropped");
            assert_eq!(
                Arc::strong_count(&marker),
                1,
                "{workers} worker(s): the task's cell or the runtime's shared state leaked"
            );
        }
    });
}

#[test]
fn a_yielding_task_at_shutdown_does_not_leak_the_runtime() {
    // The same with a yield_now loop, the common way to spin.
    watchdog(|| {
        for _ in 0..10 {
            let marker = Arc::new(());
            let m = Arc::clone(&marker);
            let rt = Runtime::builder()
                .worker_threads(1)
                .on_thread_start(move || {
                    let _ = &m;
                })
                .build()
                .unwrap();
            let spins = Arc::new(AtomicUsize::new(0));
            let (s, m) = (Arc::clone(&spins), Arc::clone(&marker));
            drop(rt.go(async move {
                let _m = m;
                loop {
                    s.fetch_add(1, Ordering::SeqCst);
                    parkway::yield_now().await;
                }
            }));
            util::wait_until("the task to spin", || spins.load(Ordering::SeqCst) > 100);
            drop(rt);
            assert_eq!(Arc::strong_count(&marker), 1, "the runtime leaked");
        }
    });
}

#[test]
fn handles_outliving_the_runtime_keep_only_their_task() {
    watchdog(|| {
        let marker = Arc::new(());
        let rt = runtime(1);
        let m = Arc::clone(&marker);
        let h = rt.go(async move { m });
        util::wait_until("the task to finish", || h.is_finished());
        drop(rt);
        // The output (holding a clone) is still there for the handle.
        assert_eq!(Arc::strong_count(&marker), 2);
        let out = join_elsewhere(h).unwrap();
        drop(out);
        assert_eq!(Arc::strong_count(&marker), 1);
    });
}

#[test]
fn dropping_a_runtime_on_another_thread() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let g = drops.guard();
        rt.go(async move {
            let _g = g;
            std::future::pending::<()>().await
        });
        std::thread::spawn(move || drop(rt)).join().unwrap();
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn a_panicking_drop_during_shutdown_does_not_stop_the_others() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let started = Arc::new(AtomicUsize::new(0));
        for i in 0..10 {
            let g = if i == 3 {
                drops.guard_with(|| panic!("drop panics during shutdown"))
            } else {
                drops.guard()
            };
            let s = Arc::clone(&started);
            rt.go(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await
            });
        }
        util::wait_until("every task to start", || {
            started.load(Ordering::SeqCst) == 10
        });
        drop(rt);
        // The panicking guard panicked before counting itself.
        assert_eq!(drops.get(), 9);
    });
}

#[test]
fn many_runtimes_created_and_dropped() {
    watchdog(|| {
        for i in 0..50 {
            let rt = runtime(1 + i % 3);
            let drops = DropCount::new();
            let g = drops.guard();
            let v = rt.block_on(async move {
                parkway::go(async move {
                    let _g = g;
                    parkway::sleep(Duration::from_secs(3600)).await
                });
                parkway::go(async move { i }).await.unwrap()
            });
            assert_eq!(v, i);
            drop(rt);
            assert_eq!(drops.get(), 1);
        }
    });
}

#[test]
fn spawns_racing_shutdown_all_resolve_and_drop_their_futures() {
    // Threads keep spawning through handles while the runtime is dropped:
    // every handle resolves (output or cancelled) and every future is
    // dropped exactly once.
    watchdog(|| {
        for round in 0..5 {
            let rt = runtime(2);
            let drops = DropCount::new();
            let stop = Arc::new(AtomicBool::new(false));
            let spawners: Vec<_> = (0..3)
                .map(|_| {
                    let handle = rt.handle().clone();
                    let drops = drops.clone();
                    let stop = Arc::clone(&stop);
                    std::thread::spawn(move || {
                        let mut hs = Vec::new();
                        // Until the runtime is gone, and at least 100.
                        while (!stop.load(Ordering::SeqCst) || hs.len() < 100) && hs.len() < 5000 {
                            let g = drops.guard();
                            hs.push(handle.go(async move {
                                let _g = g;
                                parkway::yield_now().await;
                                1u32
                            }));
                        }
                        hs
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(5 + round));
            drop(rt);
            stop.store(true, Ordering::SeqCst);
            let mut spawned = 0;
            let elsewhere = runtime(1);
            for t in spawners {
                for h in t.join().unwrap() {
                    spawned += 1;
                    match elsewhere.block_on(h) {
                        Ok(v) => assert_eq!(v, 1),
                        Err(e) => assert!(e.is_cancelled(), "{e}"),
                    }
                }
            }
            assert_eq!(drops.get(), spawned, "round {round}");
        }
    });
}

#[test]
fn wakes_racing_shutdown_are_harmless() {
    // Foreign threads keep waking parked tasks while the runtime is dropped.
    watchdog(|| {
        use std::task::{Poll, Waker};
        for _ in 0..5 {
            let rt = runtime(2);
            // parking_lot's mutex: ThreadSanitizer sees its ordering (std's
            // is precompiled without instrumentation).
            let wakers: Arc<parking_lot::Mutex<Vec<Waker>>> = Arc::default();
            let drops = DropCount::new();
            for _ in 0..100 {
                let w = Arc::clone(&wakers);
                let g = drops.guard();
                rt.go(async move {
                    let _g = g;
                    std::future::poll_fn(|cx| {
                        w.lock().push(cx.waker().clone());
                        Poll::<()>::Pending
                    })
                    .await
                });
            }
            util::wait_until("every task to park", || wakers.lock().len() >= 100);
            let stop = Arc::new(AtomicBool::new(false));
            let wakers_threads: Vec<_> = (0..3)
                .map(|_| {
                    let w = Arc::clone(&wakers);
                    let stop = Arc::clone(&stop);
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::SeqCst) {
                            let ws: Vec<Waker> = w.lock().iter().take(100).cloned().collect();
                            for w in ws {
                                w.wake();
                            }
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(5));
            drop(rt);
            stop.store(true, Ordering::SeqCst);
            for t in wakers_threads {
                t.join().unwrap();
            }
            assert_eq!(drops.get(), 100);
            wakers.lock().clear();
        }
    });
}
