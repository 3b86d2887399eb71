//! `JoinHandle` and `JoinError`: outputs, panics (message, payload, and a
//! worker that survives them), detaching, `is_finished`.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parkway::chan;
use util::{runtime, until, watchdog, DropCount};

#[test]
fn output_is_delivered() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let s = parkway::go(async { String::from("hello") }).await.unwrap();
            assert_eq!(s, "hello");
            let v = parkway::go(async { vec![1u8; 1 << 16] }).await.unwrap();
            assert_eq!(v.len(), 1 << 16);
            // A unit task, and one that parks before returning.
            parkway::go(async {}).await.unwrap();
            let parked = parkway::go(async {
                parkway::sleep(Duration::from_millis(5)).await;
                7
            });
            assert_eq!(parked.await.unwrap(), 7);
        });
    });
}

#[test]
fn panic_gives_is_panic_with_message_and_payload() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            // A &'static str payload.
            let err = parkway::go(async { panic!("static boom") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert!(!err.is_stalled());
            assert_eq!(err.panic_message(), Some("static boom"));
            assert!(err.to_string().contains("static boom"), "{err}");
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"static boom"));

            // A String payload (formatted panic).
            let n = 42;
            let err = parkway::go(async move { panic!("formatted {n}") })
                .await
                .unwrap_err();
            assert!(err.to_string().contains("formatted 42"), "{err}");
            let payload = err.try_into_panic().expect("a panic");
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("formatted 42")
            );

            // Any other payload travels as is.
            let err = parkway::go(async { std::panic::panic_any(1234_u32) })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.into_panic().downcast_ref::<u32>(), Some(&1234));
        });
    });
}

#[test]
fn panic_payload_can_be_resumed() {
    watchdog(|| {
        let rt = runtime(1);
        let err = rt.block_on(async { parkway::go(async { panic!("again") }).await.unwrap_err() });
        let msg = util::expect_panic(|| std::panic::resume_unwind(err.into_panic()));
        assert_eq!(msg, "again");
    });
}

#[test]
fn panic_after_parking_is_caught_too() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(1);
            let h = parkway::go(async move {
                let v = rx.recv().await.unwrap();
                panic!("got {v}");
            });
            parkway::sleep(Duration::from_millis(5)).await;
            tx.send(3).await.unwrap();
            let err = h.await.unwrap_err();
            assert!(err.to_string().contains("got 3"), "{err}");
        });
    });
}

#[test]
fn worker_survives_a_panicking_task() {
    watchdog(|| {
        // One worker: if the panic killed it, nothing would run afterwards.
        let rt = runtime(1);
        let worker_thread = rt.block_on(async {
            parkway::go(async { std::thread::current().id() })
                .await
                .unwrap()
        });
        for round in 0..10 {
            let err = rt.block_on(async move {
                parkway::go(async move { panic!("round {round}") })
                    .await
                    .unwrap_err()
            });
            assert!(err.is_panic());
            // A detached panicking task, too.
            drop(rt.go(async { panic!("detached") }));
        }
        let ran = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let hs: Vec<_> = (0..100)
                .map(|_| {
                    let ran = Arc::clone(&ran);
                    parkway::go(async move {
                        ran.fetch_add(1, Ordering::SeqCst);
                        std::thread::current().id()
                    })
                })
                .collect();
            for h in hs {
                assert_eq!(
                    h.await.unwrap(),
                    worker_thread,
                    "a new worker thread appeared"
                );
            }
        });
        assert_eq!(ran.load(Ordering::SeqCst), 100);
    });
}

#[test]
fn panicking_task_drops_its_future_and_captures() {
    watchdog(|| {
        let rt = runtime(1);
        let drops = DropCount::new();
        let guard = drops.guard();
        let err = rt.block_on(async move {
            parkway::go(async move {
                let _g = guard;
                panic!("with a guard");
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn try_into_panic_on_a_cancelled_task_gives_the_error_back() {
    watchdog(|| {
        let rt = runtime(1);
        let err = rt.block_on(async {
            let h = parkway::go(std::future::pending::<()>());
            h.abort();
            h.await.unwrap_err()
        });
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert_eq!(err.panic_message(), None);
        let id = err.id();
        let err = err
            .try_into_panic()
            .expect_err("a cancellation is not a panic");
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
        let text = err.to_string();
        assert!(text.contains("cancelled"), "{text}");
        // into_panic on it panics, naming the problem.
        let msg = util::expect_panic(move || err.into_panic());
        assert!(msg.contains("not a panic"), "{msg}");
    });
}

#[test]
fn join_error_converts_to_io_error() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let h = parkway::go(std::future::pending::<()>());
            h.abort();
            let io: std::io::Error = h.await.unwrap_err().into();
            // `Other`, never `Interrupted`: std's `Read` helpers retry
            // `Interrupted` forever.
            assert_eq!(io.kind(), std::io::ErrorKind::Other);
            assert!(io.to_string().contains("cancelled"), "{io}");
            let io: std::io::Error = parkway::go(async { panic!("p") }).await.unwrap_err().into();
            assert!(io.to_string().contains('p'));
        });
    });
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (gate_tx, gate_rx) = chan::bounded::<()>(1);
            let (done_tx, done_rx) = chan::bounded::<u32>(1);
            let h = parkway::go(async move {
                // Only proceeds after the handle is gone.
                gate_rx.recv().await.unwrap();
                done_tx.send(11).await.unwrap();
                "output nobody reads"
            });
            drop(h);
            gate_tx.send(()).await.unwrap();
            assert_eq!(done_rx.recv().await, Some(11));
        });
        util::wait_until("the detached task to be freed", || {
            rt.handle().metrics().num_alive_tasks() == 0
        });
    });
}

#[test]
fn detached_task_output_is_dropped() {
    watchdog(|| {
        let rt = runtime(1);
        let drops = DropCount::new();
        let guard = drops.guard();
        rt.block_on(async move {
            let (tx, rx) = chan::bounded(1);
            let h = parkway::go(async move {
                rx.recv().await;
                guard // the output
            });
            drop(h);
            tx.send(()).await.unwrap();
        });
        util::wait_until("the detached output to be dropped", || drops.get() == 1);
    });
}

#[test]
fn unread_output_is_dropped_with_the_handle() {
    watchdog(|| {
        let rt = runtime(1);
        let drops = DropCount::new();
        let guard = drops.guard();
        let h = rt.go(async move { guard });
        util::wait_until("the task to finish", || h.is_finished());
        assert_eq!(
            drops.get(),
            0,
            "the output was dropped while the handle wanted it"
        );
        drop(h);
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn is_finished_tracks_completion() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(1);
            let mut h = parkway::go(async move { rx.recv().await.unwrap() * 2 });
            parkway::sleep(Duration::from_millis(10)).await;
            assert!(!h.is_finished(), "finished while parked on a channel");
            tx.send(21).await.unwrap();
            until(|| h.is_finished()).await;
            assert_eq!((&mut h).await.unwrap(), 42);
            // Still finished after the output was taken; abort is a no-op.
            assert!(h.is_finished());
            h.abort();
            assert!(h.is_finished());
        });
    });
}

#[test]
fn is_finished_for_panicked_and_cancelled_tasks() {
    watchdog(|| {
        let rt = runtime(1);
        rt.block_on(async {
            let p = parkway::go(async { panic!("p") });
            until(|| p.is_finished()).await;
            assert!(p.await.unwrap_err().is_panic());
            let c = parkway::go(std::future::pending::<()>());
            assert!(!c.is_finished());
            c.abort();
            until(|| c.is_finished()).await;
            assert!(c.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn handle_awaited_from_another_task_and_from_another_thread() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = chan::bounded(1);
            let inner = parkway::go(async move { rx.recv().await.unwrap() + 1 });
            // The handle moves into another task, which awaits it.
            let outer = parkway::go(async move { inner.await.unwrap() * 10 });
            tx.send(4).await.unwrap();
            assert_eq!(outer.await.unwrap(), 50);
        });
        // A handle awaited by a plain thread through Handle::block_on, with
        // the task finishing only later.
        let (tx, rx) = chan::bounded::<u32>(1);
        let h = rt.go(async move { rx.recv().await.unwrap() });
        let handle = rt.handle().clone();
        let t = std::thread::spawn(move || handle.block_on(h).unwrap());
        std::thread::sleep(Duration::from_millis(10));
        tx.send_blocking(77).unwrap();
        assert_eq!(t.join().unwrap(), 77);
    });
}

#[test]
fn join_handle_polled_with_changing_wakers() {
    // The handle is polled from one task, then moved to another and
    // awaited there: the second waker must be the one woken.
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(1);
            let mut h = parkway::go(async move { rx.recv().await.unwrap() });
            assert!(util::poll_once(&mut h).await.is_pending());
            let waiter = parkway::go(async move { h.await.unwrap() });
            parkway::sleep(Duration::from_millis(5)).await;
            tx.send(5).await.unwrap();
            assert_eq!(waiter.await.unwrap(), 5);
        });
    });
}

#[test]
fn join_error_is_a_std_error() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    watchdog(|| {
        let rt = runtime(1);
        let err = rt.block_on(async { parkway::go(async { panic!("e") }).await.unwrap_err() });
        is_error(&err);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        assert!(boxed.to_string().contains('e'));
    });
}

#[test]
fn dropping_handles_racing_completion_drops_each_output_once() {
    // Handles dropped on another thread while their tasks finish: every
    // output is dropped exactly once, whichever side wins.
    watchdog(|| {
        let rt = runtime(2);
        let drops = DropCount::new();
        let mut handles = Vec::new();
        for i in 0..5000 {
            let g = drops.guard();
            handles.push(rt.go(async move {
                if i % 3 == 0 {
                    parkway::yield_now().await;
                }
                g
            }));
        }
        let dropper = std::thread::spawn(move || drop(handles));
        dropper.join().unwrap();
        util::wait_until("every output to be dropped", || drops.get() == 5000);
        util::wait_until("every task to be freed", || {
            rt.handle().metrics().num_alive_tasks() == 0
        });
        assert_eq!(drops.get(), 5000);
    });
}

#[test]
fn a_panic_while_dropping_a_finished_future_is_reported_as_a_panic() {
    // The future returned, then its own drop panicked: the handle reports
    // that panic rather than an output whose task did not end cleanly.
    watchdog(|| {
        let rt = runtime(1);
        let drops = DropCount::new();
        let g = drops.guard_with(|| panic!("drop of the future"));
        let err = rt.block_on(async move {
            parkway::go(async move {
                let _g = g;
                parkway::yield_now().await;
                5
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic(), "{err}");
        assert!(err.to_string().contains("drop of the future"), "{err}");
        // The worker survives.
        assert_eq!(
            rt.block_on(async { parkway::go(async { 6 }).await.unwrap() }),
            6
        );
    });
}
