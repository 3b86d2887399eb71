//! core.async's `timeout` channel and `with_timeout`.
//!
//! `timeout(d)` is a `chan::Receiver<()>` that closes at the deadline and
//! never before; each call makes its own channel; it works in `alt!`.
//! Only lower bounds on elapsed time are asserted.

mod util;

use std::time::{Duration, Instant};

use parkway::chan::{self, TryRecvError};
use parkway::Elapsed;
use util::{runtime, watchdog, DropCount};

#[test]
fn timeout_closes_at_the_deadline_never_before() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            for ms in [1u64, 5, 20] {
                let d = Duration::from_millis(ms);
                let start = Instant::now();
                let t = parkway::timeout(d);
                // Before the deadline it is open and empty.
                let r = t.try_recv();
                let now = Instant::now();
                match r {
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Closed) => assert!(now >= start + d, "closed early"),
                    Ok(()) => panic!("a timeout channel delivered a value"),
                }
                assert_eq!(t.recv().await, None);
                assert!(
                    start.elapsed() >= d,
                    "closed after {:?} < {d:?}",
                    start.elapsed()
                );
                assert!(t.is_closed());
                // Stays closed.
                assert_eq!(t.recv().await, None);
                assert!(matches!(t.try_recv(), Err(TryRecvError::Closed)));
            }
        });
    });
}

#[test]
fn timeout_in_a_go_block() {
    watchdog(|| {
        let rt = runtime(1);
        let slept = rt.block_on(async {
            parkway::go(async {
                let start = Instant::now();
                let t = parkway::timeout(Duration::from_millis(15));
                assert_eq!(t.recv().await, None);
                start.elapsed()
            })
            .await
            .unwrap()
        });
        assert!(slept >= Duration::from_millis(15));
    });
}

#[test]
fn timeout_is_not_closed_an_hour_early() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let t = parkway::timeout(Duration::from_secs(3600));
            parkway::sleep(Duration::from_millis(20)).await;
            assert!(matches!(t.try_recv(), Err(TryRecvError::Empty)));
            assert!(!t.is_closed());
            let r = parkway::with_timeout(Duration::from_millis(10), t.recv()).await;
            let _elapsed: Elapsed = r.unwrap_err();
        });
    });
}

#[test]
fn each_call_makes_its_own_channel() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let a = parkway::timeout(Duration::from_secs(3600));
            let b = parkway::timeout(Duration::from_secs(3600));
            assert!(!a.same_channel(&b), "two timeouts share a channel");
            let short = parkway::timeout(Duration::from_millis(5));
            assert!(!short.same_channel(&a));
            assert_eq!(short.recv().await, None);
            // The short one closing closed neither long one.
            assert!(!a.is_closed());
            assert!(!b.is_closed());
            // Many at once, with the same duration, all distinct and all
            // closing.
            let many: Vec<_> = (0..100)
                .map(|_| parkway::timeout(Duration::from_millis(3)))
                .collect();
            for (i, t) in many.iter().enumerate() {
                for u in &many[i + 1..] {
                    assert!(!t.same_channel(u));
                }
            }
            for t in &many {
                assert_eq!(t.recv().await, None);
            }
        });
    });
}

#[test]
fn zero_timeout_is_closed_at_once() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let t = parkway::timeout(Duration::ZERO);
            assert!(matches!(t.try_recv(), Err(TryRecvError::Closed)));
            assert_eq!(t.recv().await, None);
        });
    });
}

#[test]
fn timeout_in_alt_against_a_silent_channel() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (_tx, rx) = chan::bounded::<u32>(1); // never gets a value
            for _ in 0..5 {
                let start = Instant::now();
                let got = parkway::alt! {
                    recv(rx) -> v => panic!("the silent channel gave {v:?}"),
                    recv(parkway::timeout(Duration::from_millis(10))) -> v => v,
                };
                assert_eq!(got, None);
                assert!(start.elapsed() >= Duration::from_millis(10));
            }
            // The same in a go block, with a send branch that cannot commit.
            let (full_tx, _full_rx) = chan::bounded::<u32>(1);
            full_tx.try_send(0).unwrap();
            let took = parkway::go(async move {
                let start = Instant::now();
                let t = parkway::timeout(Duration::from_millis(10));
                let timed_out = parkway::alt! {
                    send(full_tx, 1) -> _ => false,
                    recv(t) -> _ => true,
                };
                assert!(timed_out);
                start.elapsed()
            })
            .await
            .unwrap();
            assert!(took >= Duration::from_millis(10));
        });
    });
}

#[test]
fn alt_prefers_the_value_that_arrives_before_the_timeout() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(1);
            parkway::go(async move {
                parkway::sleep(Duration::from_millis(5)).await;
                tx.send(9).await.unwrap();
            });
            let t = parkway::timeout(Duration::from_secs(3600));
            let got = parkway::alt! {
                recv(rx) -> v => v,
                recv(t) -> _ => panic!("an hour-long timeout fired"),
            };
            assert_eq!(got, Some(9));
        });
    });
}

#[test]
fn timeout_channel_works_from_plain_threads() {
    // The channel is runtime-agnostic: a plain thread may block on it.
    watchdog(|| {
        let rt = runtime(1);
        let start = Instant::now();
        let t = rt.block_on(async { parkway::timeout(Duration::from_millis(20)) });
        let got = std::thread::spawn(move || t.recv_blocking())
            .join()
            .unwrap();
        assert_eq!(got, None);
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn timeout_outside_a_runtime_panics() {
    let msg = util::expect_panic(|| parkway::timeout(Duration::from_millis(1)));
    assert!(msg.contains("outside a parkway runtime"), "{msg}");
}

#[test]
fn pending_timeouts_count_as_timers_until_they_fire() {
    watchdog(|| {
        let rt = runtime(1);
        let m = rt.handle().metrics();
        rt.block_on(async {
            let ts: Vec<_> = (0..10)
                .map(|_| parkway::timeout(Duration::from_millis(10)))
                .collect();
            assert_eq!(m.num_pending_timers(), 10);
            for t in ts {
                assert_eq!(t.recv().await, None);
            }
        });
        util::wait_until("the fired timers to be gone", || {
            m.num_pending_timers() == 0
        });
    });
}

#[test]
fn with_timeout_ok_when_the_future_wins() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            assert_eq!(
                parkway::with_timeout(Duration::from_secs(5), async { 7 }).await,
                Ok(7)
            );
            let (tx, rx) = chan::bounded(1);
            parkway::go(async move {
                parkway::sleep(Duration::from_millis(5)).await;
                tx.send("late but in time").await.unwrap();
            });
            let r = parkway::with_timeout(Duration::from_secs(3600), rx.recv()).await;
            assert_eq!(r, Ok(Some("late but in time")));
            // Zero duration, but the future is ready: the future wins.
            assert_eq!(
                parkway::with_timeout(Duration::ZERO, async { 1 }).await,
                Ok(1)
            );
        });
    });
}

#[test]
fn with_timeout_err_elapsed_when_the_deadline_wins() {
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let g = drops.guard();
        rt.block_on(async move {
            let d = Duration::from_millis(15);
            let start = Instant::now();
            let r = parkway::with_timeout(d, async move {
                let _g = g;
                std::future::pending::<u32>().await
            })
            .await;
            assert!(start.elapsed() >= d);
            let e = r.unwrap_err();
            assert_eq!(e.to_string(), "deadline has elapsed");
            let io: std::io::Error = e.into();
            assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
            // The losing future was dropped with the with_timeout future.
            assert_eq!(drops.get(), 1);

            // In a go block, around a channel nobody fills.
            let (_tx, rx) = chan::bounded::<u32>(1);
            let r = parkway::go(async move {
                parkway::with_timeout(Duration::from_millis(5), rx.recv()).await
            })
            .await
            .unwrap();
            assert!(r.is_err());
        });
    });
}

#[test]
fn with_timeout_nested() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let start = Instant::now();
            let inner =
                parkway::with_timeout(Duration::from_millis(10), std::future::pending::<()>());
            let outer = parkway::with_timeout(Duration::from_secs(3600), inner).await;
            assert!(matches!(outer, Ok(Err(_))), "{outer:?}");
            assert!(start.elapsed() >= Duration::from_millis(10));
        });
    });
}
