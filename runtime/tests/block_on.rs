//! `block_on`: refused on go workers in every go-check mode; its own thread
//! is not a go worker; it takes `!Send` futures; nesting it keeps wake-ups.

mod util;

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use parkway::{chan, GoCheck, Handle};
use util::{runtime, runtime_with, watchdog};

/// The three go-check modes.
const MODES: [GoCheck; 3] = [GoCheck::Off, GoCheck::Warn, GoCheck::Strict];

/// Checks that `err` is a panic whose message names `block_on`.
#[track_caller]
fn assert_block_on_panic(err: parkway::JoinError, mode: GoCheck) {
    assert!(err.is_panic(), "mode {mode:?}: {err}");
    let text = err.to_string();
    assert!(text.contains("block_on"), "mode {mode:?}: {text}");
    assert!(text.contains("go worker"), "mode {mode:?}: {text}");
}

#[test]
fn runtime_block_on_inside_a_go_block_panics_in_every_mode() {
    watchdog(|| {
        for mode in MODES {
            let rt = runtime_with(2, mode);
            // Another runtime, moved into the go block; an Arc clone stays
            // here so the runtime is never dropped on the worker.
            let other = Arc::new(runtime(1));
            let o = Arc::clone(&other);
            let err = rt.block_on(async move {
                parkway::go(async move { o.block_on(async { 1 }) })
                    .await
                    .unwrap_err()
            });
            assert_block_on_panic(err, mode);
            // The worker survived.
            assert_eq!(
                rt.block_on(async { parkway::go(async { 2 }).await.unwrap() }),
                2
            );
            drop(other);
        }
    });
}

#[test]
fn handle_block_on_inside_a_go_block_panics_in_every_mode() {
    watchdog(|| {
        for mode in MODES {
            let rt = runtime_with(1, mode);
            // The go block's own runtime's handle.
            let err = rt.block_on(async {
                parkway::go(async { Handle::current().block_on(async { 1 }) })
                    .await
                    .unwrap_err()
            });
            assert_block_on_panic(err, mode);
            // Another runtime's handle.
            let other = runtime(1);
            let h = other.handle().clone();
            let err = rt.block_on(async move {
                parkway::go(async move { h.block_on(async { 1 }) })
                    .await
                    .unwrap_err()
            });
            assert_block_on_panic(err, mode);
        }
    });
}

#[test]
fn block_on_refused_in_a_go_block_drops_the_future() {
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Off);
        let drops = util::DropCount::new();
        let g = drops.guard();
        let err = rt.block_on(async move {
            parkway::go(async move {
                Handle::current().block_on(async move {
                    let _g = g;
                })
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn block_on_thread_is_not_a_go_worker() {
    // parkway does not re-export `is_go_worker`; the observable consequence
    // is that blocking channel ops are allowed inside block_on's future
    // even in Strict mode.
    watchdog(|| {
        let rt = runtime_with(2, GoCheck::Strict);
        let v = rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(2);
            tx.send_blocking(1).unwrap();
            tx.send_blocking(2).unwrap();
            let a = rx.recv_blocking().unwrap();
            let b = parkway::alt_blocking! {
                recv(rx) -> v => v.unwrap(),
            };
            a + b
        });
        assert_eq!(v, 3);
        // A blocking receive that a go block satisfies while block_on's
        // thread blocks (it is not a worker, so nothing deadlocks).
        let v = rt.block_on(async {
            let (tx, rx) = chan::unbuffered::<u32>();
            parkway::go(async move {
                parkway::sleep(Duration::from_millis(5)).await;
                tx.send(42).await.unwrap();
            });
            rx.recv_blocking()
        });
        assert_eq!(v, Some(42));
    });
}

#[test]
fn block_on_thread_may_create_and_drop_runtimes() {
    // Not a go worker: making and dropping a runtime inside block_on's
    // future is allowed (only go blocks are refused).
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Strict);
        let v = rt.block_on(async {
            let inner = runtime(1);
            let v = inner.handle().go(async { 5 });
            let h = inner.handle().clone();
            let v = std::thread::spawn(move || h.block_on(v).unwrap())
                .join()
                .unwrap();
            drop(inner);
            v
        });
        assert_eq!(v, 5);
    });
}

#[test]
fn block_on_accepts_a_non_send_future() {
    watchdog(|| {
        let rt = runtime(2);
        let shared = Rc::new(Cell::new(0));
        let s = Rc::clone(&shared);
        let out = rt.block_on(async move {
            // The Rc lives across awaits of a go block, a sleep and a channel.
            s.set(s.get() + 1);
            let v = parkway::go(async { 10 }).await.unwrap();
            s.set(s.get() + v);
            parkway::sleep(Duration::from_millis(2)).await;
            let (tx, rx) = chan::bounded(1);
            parkway::go(async move { tx.send(100).await.unwrap() });
            s.set(s.get() + rx.recv().await.unwrap());
            Rc::strong_count(&s)
        });
        assert_eq!(out, 2);
        assert_eq!(shared.get(), 111);
    });
}

#[test]
fn block_on_returns_the_output_and_propagates_panics() {
    watchdog(|| {
        let rt = runtime(1);
        assert_eq!(rt.block_on(async { "out" }), "out");
        let msg = util::expect_panic(|| rt.block_on(async { panic!("in block_on") }));
        assert_eq!(msg, "in block_on");
        // The runtime is still fine, and the thread left its context.
        assert!(Handle::try_current().is_err());
        assert_eq!(
            rt.block_on(async { parkway::go(async { 3 }).await.unwrap() }),
            3
        );
    });
}

#[test]
fn block_on_from_many_threads_at_once() {
    watchdog(|| {
        let rt = Arc::new(runtime(2));
        let ts: Vec<_> = (0..4u64)
            .map(|i| {
                let rt = Arc::clone(&rt);
                std::thread::spawn(move || {
                    let mut sum = 0;
                    for j in 0..200u64 {
                        sum += rt.block_on(async move {
                            parkway::go(async move {
                                parkway::yield_now().await;
                                i * 1000 + j
                            })
                            .await
                            .unwrap()
                        });
                    }
                    sum
                })
            })
            .collect();
        for (i, t) in ts.into_iter().enumerate() {
            let i = i as u64;
            assert_eq!(
                t.join().unwrap(),
                (0..200).map(|j| i * 1000 + j).sum::<u64>()
            );
        }
    });
}

#[test]
fn nested_block_on_does_not_lose_the_outer_wake_up() {
    // The outer future registers a channel receive with the thread's waker,
    // then (in the same poll) runs a nested block_on; the value arrives
    // while the nested block_on waits. The outer future must be polled
    // again afterwards. (Nesting is allowed: block_on's thread is not a go
    // worker. Whether nesting should rather be refused, as tokio does, is a
    // design choice, and a panic naming block_on passes this test; hanging
    // does not.) A correct runtime finishes in about 100 ms.
    util::watchdog_for(Duration::from_secs(10), || {
        let a = runtime(1);
        let b = runtime(1);
        let (tx, rx) = chan::bounded::<u32>(1);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            a.block_on(async {
                let mut recv = pin!(rx.recv());
                let mut other = pin!(async {
                    b.block_on(async { parkway::sleep(Duration::from_millis(100)).await });
                    std::future::pending::<()>().await
                });
                let sender = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    tx.send_blocking(5).unwrap();
                    tx
                });
                let got = std::future::poll_fn(|cx| {
                    if let Poll::Ready(v) = recv.as_mut().poll(cx) {
                        return Poll::Ready(v);
                    }
                    let _ = other.as_mut().poll(cx);
                    Poll::Pending
                })
                .await;
                drop(sender.join().unwrap());
                got
            })
        }));
        match outcome {
            Ok(got) => assert_eq!(got, Some(5)),
            Err(payload) => {
                let msg = util::panic_message(&*payload);
                assert!(msg.contains("block_on"), "unexpected panic: {msg}");
            }
        }
    });
}
