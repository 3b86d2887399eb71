//! Fairness on one worker: a task spinning on `yield_now`, or looping over
//! always-ready channel operations (the cooperative budget), must not
//! starve the others.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parkway::{chan, GoCheck};
use util::{runtime, watchdog};

/// Spawns `spinner` on a one-worker runtime, waits until it has run, then
/// checks that other go blocks (spawned from outside, and from inside the
/// pool) and a timer still get their turn; aborts the spinner at the end.
fn others_progress_beside<F>(spinner: impl FnOnce(Arc<AtomicUsize>) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = runtime(1);
    let spins = Arc::new(AtomicUsize::new(0));
    let h = rt.go(spinner(Arc::clone(&spins)));
    util::wait_until("the spinner to run", || spins.load(Ordering::SeqCst) > 10);
    rt.block_on(async {
        // Spawned from outside the pool (the injector).
        assert_eq!(parkway::go(async { 7 }).await.unwrap(), 7);
        // Spawned from inside the pool.
        let nested = parkway::go(async { parkway::go(async { 8 }).await.unwrap() });
        assert_eq!(nested.await.unwrap(), 8);
        // A go block that parks on a timer.
        parkway::go(parkway::sleep(Duration::from_millis(5)))
            .await
            .unwrap();
        // And block_on's own timer.
        parkway::sleep(Duration::from_millis(5)).await;
    });
    let before = spins.load(Ordering::SeqCst);
    util::wait_until("the spinner to keep running", || {
        spins.load(Ordering::SeqCst) > before
    });
    h.abort();
    assert!(rt.block_on(h).unwrap_err().is_cancelled());
}

#[test]
fn yield_now_spinner_does_not_starve_others() {
    watchdog(|| {
        others_progress_beside(|spins| async move {
            loop {
                spins.fetch_add(1, Ordering::SeqCst);
                parkway::yield_now().await;
            }
        });
    });
}

#[test]
fn two_yield_now_spinners_do_not_starve_a_third_task() {
    watchdog(|| {
        let rt = runtime(1);
        let stop = Arc::new(AtomicBool::new(false));
        let spinners: Vec<_> = (0..2)
            .map(|_| {
                let stop = Arc::clone(&stop);
                rt.go(async move {
                    while !stop.load(Ordering::SeqCst) {
                        parkway::yield_now().await;
                    }
                })
            })
            .collect();
        rt.block_on(async {
            let (tx, rx) = chan::unbuffered();
            parkway::go(async move {
                for i in 0..100 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut n = 0;
            while rx.recv().await.is_some() {
                n += 1;
            }
            assert_eq!(n, 100);
        });
        stop.store(true, Ordering::SeqCst);
        for s in spinners {
            rt.block_on(s).unwrap();
        }
    });
}

#[test]
fn recv_loop_on_a_closed_channel_does_not_starve_others() {
    // A closed channel is always ready (None): without the budget this loop
    // would never return Pending.
    watchdog(|| {
        others_progress_beside(|spins| async move {
            let (tx, rx) = chan::bounded::<u32>(1);
            drop(tx);
            loop {
                assert_eq!(rx.recv().await, None);
                spins.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

#[test]
fn send_recv_loop_on_an_always_ready_channel_does_not_starve_others() {
    watchdog(|| {
        others_progress_beside(|spins| async move {
            let (tx, rx) = chan::bounded::<u64>(1);
            let mut i = 0u64;
            loop {
                tx.send(i).await.unwrap();
                assert_eq!(rx.recv().await, Some(i));
                i += 1;
                spins.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

#[test]
fn recv_loop_on_a_full_channel_does_not_starve_others() {
    // A big buffer filled up front: every recv is ready at once.
    watchdog(|| {
        others_progress_beside(|spins| async move {
            let (tx, rx) = chan::bounded::<u32>(1_000_000);
            for i in 0..1_000_000 {
                tx.try_send(i).unwrap();
            }
            loop {
                let v = rx.recv().await.unwrap();
                tx.try_send(v).unwrap();
                spins.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

#[test]
fn send_loop_on_a_sliding_channel_does_not_starve_others() {
    // A sliding buffer never makes a sender wait.
    watchdog(|| {
        others_progress_beside(|spins| async move {
            let (tx, _rx) = chan::sliding::<u64>(1);
            let mut i = 0;
            loop {
                tx.send(i).await.unwrap();
                i += 1;
                spins.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

#[test]
fn alt_loop_over_a_ready_channel_does_not_starve_others() {
    watchdog(|| {
        others_progress_beside(|spins| async move {
            let (tx, rx) = chan::dropping::<u32>(4);
            let (_never_tx, never) = chan::bounded::<u32>(1);
            loop {
                tx.try_send(1).ok();
                parkway::alt! {
                    recv(rx) -> v => assert_eq!(v, Some(1)),
                    recv(never) -> _ => unreachable!(),
                }
                spins.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

#[test]
fn join_handle_poll_loop_does_not_starve_others() {
    // Awaiting finished handles in a loop is always ready, too.
    watchdog(|| {
        others_progress_beside(|spins| async move {
            loop {
                let hs: Vec<_> = (0..64).map(|i| parkway::go(async move { i })).collect();
                // Let them finish, then join them all without parking.
                parkway::yield_now().await;
                for h in hs {
                    h.await.unwrap();
                }
                spins.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

#[test]
fn ping_pong_pair_does_not_starve_the_queue() {
    // Two tasks waking each other through the LIFO slot forever: a third,
    // queued task must still run.
    watchdog(|| {
        let rt = runtime(1);
        let (a_tx, a_rx) = chan::unbuffered::<u32>();
        let (b_tx, b_rx) = chan::unbuffered::<u32>();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let ping = rt.go(async move {
            let mut n = 0;
            while !s.load(Ordering::SeqCst) {
                a_tx.send(n).await.unwrap();
                n = b_rx.recv().await.unwrap() + 1;
            }
        });
        let pong = rt.go(async move {
            while let Some(v) = a_rx.recv().await {
                if b_tx.send(v).await.is_err() {
                    break;
                }
            }
        });
        rt.block_on(async {
            parkway::sleep(Duration::from_millis(5)).await;
            for i in 0..20 {
                assert_eq!(parkway::go(async move { i }).await.unwrap(), i);
            }
        });
        stop.store(true, Ordering::SeqCst);
        rt.block_on(async {
            ping.await.unwrap();
            pong.await.unwrap();
        });
    });
}

#[test]
fn cpu_loop_with_yields_shares_one_worker_with_many_tasks() {
    watchdog(|| {
        let rt = runtime(1);
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let busy = rt.go(async move {
            while !s.load(Ordering::SeqCst) {
                util::burn(Duration::from_micros(200));
                parkway::yield_now().await;
            }
        });
        let done = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    let done = Arc::clone(&done);
                    parkway::go(async move {
                        for _ in 0..5 {
                            parkway::yield_now().await;
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 200);
        stop.store(true, Ordering::SeqCst);
        rt.block_on(busy).unwrap();
    });
}

#[test]
fn yield_now_lets_the_tasks_queued_before_it_run_first() {
    // One worker: a go block spawns children (queued on its worker), then
    // yields; when it resumes, every child has had its turn.
    watchdog(|| {
        let rt = runtime(1);
        let ran = rt.block_on(async {
            parkway::go(async {
                let ran = Arc::new(AtomicUsize::new(0));
                for _ in 0..10 {
                    let ran = Arc::clone(&ran);
                    parkway::go(async move {
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                }
                assert_eq!(
                    ran.load(Ordering::SeqCst),
                    0,
                    "children ran before the yield"
                );
                parkway::yield_now().await;
                ran.load(Ordering::SeqCst)
            })
            .await
            .unwrap()
        });
        assert_eq!(ran, 10, "yield_now resumed before the queued tasks ran");
    });
}

#[test]
fn yield_now_lets_tasks_spawned_from_outside_run_first() {
    // The same for tasks in the global queue: spawned from a plain thread
    // while the only worker is busy in a go block, which then yields.
    watchdog(|| {
        let rt = util::runtime_with(1, GoCheck::Off);
        let ran = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicBool::new(false));
        let spawned = Arc::new(AtomicBool::new(false));
        let (r, b, s) = (Arc::clone(&ran), Arc::clone(&busy), Arc::clone(&spawned));
        let yielder = rt.go(async move {
            b.store(true, Ordering::SeqCst);
            // Hold the worker until the outside spawns are queued.
            while !s.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            parkway::yield_now().await;
            r.load(Ordering::SeqCst)
        });
        util::wait_until("the worker to be busy", || busy.load(Ordering::SeqCst));
        for _ in 0..5 {
            let ran = Arc::clone(&ran);
            drop(rt.go(async move {
                ran.fetch_add(1, Ordering::SeqCst);
            }));
        }
        spawned.store(true, Ordering::SeqCst);
        assert_eq!(rt.block_on(yielder).unwrap(), 5);
    });
}
