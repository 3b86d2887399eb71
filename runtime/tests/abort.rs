//! `JoinHandle::abort`: of a parked task, a running task, a queued task
//! never polled, a finished task, twice, and racing a wake-up.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parkway::{chan, GoCheck};
use util::{runtime, runtime_with, until, watchdog, DropCount};

#[test]
fn abort_a_task_parked_on_a_channel() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let guard = drops.guard();
        rt.block_on(async move {
            let (tx, rx) = chan::bounded::<u32>(1);
            let (started_tx, started_rx) = chan::bounded(1);
            let h = parkway::go(async move {
                let _g = guard;
                started_tx.send(()).await.unwrap();
                // Nobody ever sends: parked for good.
                rx.recv().await
            });
            started_rx.recv().await.unwrap();
            parkway::sleep(Duration::from_millis(5)).await;
            assert_eq!(drops.get(), 0);
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled(), "{err}");
            assert_eq!(drops.get(), 1, "the aborted future was not dropped");
            // The channel's receiver went with the future.
            assert!(tx.send(1).await.is_err(), "the receiver outlived its task");
        });
    });
}

#[test]
fn abort_a_task_parked_on_a_sleep_frees_its_timer() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let hs: Vec<_> = (0..100)
                .map(|_| parkway::go(parkway::sleep(Duration::from_secs(3600))))
                .collect();
            let m = parkway::Handle::current().metrics();
            until(|| m.num_pending_timers() == 100).await;
            for h in &hs {
                h.abort();
            }
            for h in hs {
                assert!(h.await.unwrap_err().is_cancelled());
            }
            assert_eq!(m.num_pending_timers(), 0);
        });
    });
}

#[test]
fn abort_right_after_spawn() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        rt.block_on(async {
            for _ in 0..1000 {
                let g = drops.guard();
                let h = parkway::go(async move {
                    let _g = g;
                    std::future::pending::<()>().await
                });
                h.abort();
                assert!(h.await.unwrap_err().is_cancelled());
            }
        });
        assert_eq!(drops.get(), 1000);
    });
}

#[test]
fn abort_a_running_task_from_another_task() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let guard = drops.guard();
        let spins = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&spins);
        rt.block_on(async move {
            let spinner = parkway::go(async move {
                let _g = guard;
                loop {
                    s.fetch_add(1, Ordering::SeqCst);
                    parkway::yield_now().await;
                }
            });
            let spins2 = Arc::clone(&spins);
            let aborter = parkway::go(async move {
                until(|| spins2.load(Ordering::SeqCst) > 100).await;
                spinner.abort();
                spinner.await
            });
            let err = aborter.await.unwrap().unwrap_err();
            assert!(err.is_cancelled(), "{err}");
            assert_eq!(drops.get(), 1);
            // It is not polled any more.
            let at = spins.load(Ordering::SeqCst);
            parkway::sleep(Duration::from_millis(10)).await;
            assert_eq!(spins.load(Ordering::SeqCst), at);
        });
    });
}

#[test]
fn abort_a_running_task_on_one_worker() {
    // The spinner and the aborter share the only worker: the abort happens
    // while the spinner is queued between its yields.
    watchdog(|| {
        let rt = runtime(1);
        let spins = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&spins);
        let err = rt.block_on(async move {
            let spinner = parkway::go(async move {
                loop {
                    s.fetch_add(1, Ordering::SeqCst);
                    parkway::yield_now().await;
                }
            });
            parkway::go(async move {
                for _ in 0..50 {
                    parkway::yield_now().await;
                }
                spinner.abort();
                spinner.await.unwrap_err()
            })
            .await
            .unwrap()
        });
        assert!(err.is_cancelled());
        assert!(spins.load(Ordering::SeqCst) > 0);
    });
}

#[test]
fn abort_from_a_foreign_thread_while_the_task_spins() {
    watchdog(|| {
        let rt = runtime(2);
        let spins = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&spins);
        let h = rt.go(async move {
            loop {
                s.fetch_add(1, Ordering::SeqCst);
                parkway::yield_now().await;
            }
        });
        util::wait_until("the spinner to run", || spins.load(Ordering::SeqCst) > 100);
        let h = std::thread::spawn(move || {
            h.abort();
            h
        })
        .join()
        .unwrap();
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
    });
}

#[test]
fn abort_a_task_that_is_inside_a_poll() {
    // The abort lands while the task's poll is running (it is busy in a
    // compute loop); the task must end cancelled after that poll, without
    // another poll.
    watchdog(|| {
        let rt = runtime_with(2, GoCheck::Off);
        let in_poll = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let (i, r, p) = (
            Arc::clone(&in_poll),
            Arc::clone(&release),
            Arc::clone(&polls),
        );
        let h = rt.go(async move {
            loop {
                p.fetch_add(1, Ordering::SeqCst);
                i.store(true, Ordering::SeqCst);
                while !r.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                parkway::yield_now().await;
            }
        });
        util::wait_until("the task to be inside its poll", || {
            in_poll.load(Ordering::SeqCst)
        });
        h.abort();
        release.store(true, Ordering::SeqCst);
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert_eq!(polls.load(Ordering::SeqCst), 1, "polled again after abort");
    });
}

#[test]
fn abort_a_queued_task_before_its_first_poll() {
    // One worker, held busy, so the second task waits in the queue; aborted
    // there, it must never be polled.
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Off);
        let busy = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let (b, r) = (Arc::clone(&busy), Arc::clone(&release));
        let blocker = rt.go(async move {
            b.store(true, Ordering::SeqCst);
            while !r.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
        });
        util::wait_until("the worker to be busy", || busy.load(Ordering::SeqCst));
        let polled = Arc::new(AtomicBool::new(false));
        let drops = DropCount::new();
        let g = drops.guard();
        let p = Arc::clone(&polled);
        let queued = rt.go(async move {
            let _g = g;
            p.store(true, Ordering::SeqCst);
        });
        queued.abort();
        queued.abort(); // twice is fine
        release.store(true, Ordering::SeqCst);
        rt.block_on(blocker).unwrap();
        let err = rt.block_on(queued).unwrap_err();
        assert!(err.is_cancelled());
        assert!(!polled.load(Ordering::SeqCst), "an aborted task was polled");
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn abort_after_completion_is_a_no_op() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let h = parkway::go(async { 5 });
            until(|| h.is_finished()).await;
            h.abort();
            h.abort();
            assert_eq!(h.await.unwrap(), 5);

            // Also after a panic: the panic stays.
            let h = parkway::go(async { panic!("first") });
            until(|| h.is_finished()).await;
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_panic(), "{err}");
        });
    });
}

#[test]
fn abort_twice_is_fine() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let g = drops.guard();
        rt.block_on(async move {
            let h = parkway::go(async move {
                let _g = g;
                parkway::sleep(Duration::from_secs(3600)).await;
            });
            parkway::sleep(Duration::from_millis(5)).await;
            h.abort();
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled());
        });
        assert_eq!(
            drops.get(),
            1,
            "the future was dropped more or less than once"
        );
    });
}

#[test]
fn abort_from_many_threads_at_once() {
    watchdog(|| {
        let rt = runtime(2);
        for _ in 0..50 {
            let drops = DropCount::new();
            let g = drops.guard();
            let h = Arc::new(rt.go(async move {
                let _g = g;
                loop {
                    parkway::yield_now().await;
                }
            }));
            let ts: Vec<_> = (0..4)
                .map(|_| {
                    let h = Arc::clone(&h);
                    std::thread::spawn(move || h.abort())
                })
                .collect();
            for t in ts {
                t.join().unwrap();
            }
            let h = Arc::into_inner(h).unwrap();
            assert!(rt.block_on(h).unwrap_err().is_cancelled());
            assert_eq!(drops.get(), 1);
        }
    });
}

#[test]
fn abort_racing_a_send_loses_no_value() {
    // A task parked on recv is woken by a send while it is being aborted:
    // either it returns the value, or it is cancelled and the value is
    // still in the channel. Never lost, never duplicated.
    watchdog(|| {
        let rt = runtime(2);
        let mut delivered = 0;
        let mut left = 0;
        for i in 0..2000u32 {
            let (tx, rx) = chan::bounded::<u32>(1);
            let rx2 = rx.clone();
            let h = rt.go(async move { rx.recv().await });
            if i % 2 == 0 {
                std::thread::yield_now();
            }
            let sender = std::thread::spawn(move || {
                tx.send_blocking(i).unwrap();
                tx
            });
            h.abort();
            let _tx = sender.join().unwrap();
            match rt.block_on(h) {
                Ok(v) => {
                    assert_eq!(v, Some(i));
                    delivered += 1;
                    assert!(rx2.try_recv().is_err(), "value {i} delivered twice");
                }
                Err(e) => {
                    assert!(e.is_cancelled());
                    assert_eq!(rx2.try_recv().ok(), Some(i), "value {i} lost by abort");
                    left += 1;
                }
            }
        }
        assert_eq!(delivered + left, 2000);
    });
}

#[test]
fn a_task_may_abort_itself() {
    // The task gets its own handle and aborts it during a poll, then parks:
    // it must end cancelled (its future dropped) rather than stay parked.
    watchdog(|| {
        let rt = runtime(1);
        let drops = DropCount::new();
        let g = drops.guard();
        rt.block_on(async move {
            let (tx, rx) = chan::bounded::<parkway::JoinHandle<()>>(1);
            let (keep_tx, keep_rx) = chan::bounded::<u32>(1);
            let h = parkway::go(async move {
                let _g = g;
                let me = rx.recv().await.unwrap();
                me.abort();
                // Would park forever if the abort were lost.
                keep_rx.recv().await;
            });
            // The handle is handed to the task itself, so observe the end
            // through the drop guard.
            tx.send(h).await.unwrap();
            until(|| drops.get() == 1).await;
            drop(keep_tx);
        });
    });
}
