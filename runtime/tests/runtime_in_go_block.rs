//! Creating, dropping or shutting down a `Runtime` inside a go block panics
//! with a clear message, in every go-check mode, and the outer runtime
//! survives.

mod util;

use std::time::Duration;

use parkway::{GoCheck, Runtime};
use util::{runtime, runtime_with, watchdog};

/// The three go-check modes.
const MODES: [GoCheck; 3] = [GoCheck::Off, GoCheck::Warn, GoCheck::Strict];

#[test]
fn creating_a_runtime_in_a_go_block_panics() {
    watchdog(|| {
        for mode in MODES {
            let rt = runtime_with(1, mode);
            rt.block_on(async {
                let err = parkway::go(async { Runtime::new().map(drop) })
                    .await
                    .unwrap_err();
                assert!(err.is_panic(), "{mode:?}: {err}");
                let text = err.to_string();
                assert!(
                    text.contains("created inside a go block"),
                    "{mode:?}: {text}"
                );

                let err =
                    parkway::go(async { Runtime::builder().worker_threads(1).build().map(drop) })
                        .await
                        .unwrap_err();
                assert!(err.is_panic(), "{mode:?}: {err}");
                assert!(err.to_string().contains("created inside a go block"));
            });
            // The outer runtime survives.
            assert_eq!(
                rt.block_on(async { parkway::go(async { 1 }).await.unwrap() }),
                1
            );
        }
    });
}

#[test]
fn dropping_a_runtime_in_a_go_block_panics() {
    watchdog(|| {
        for mode in MODES {
            let outer = runtime_with(2, mode);
            // Created outside, moved in, dropped there.
            let inner = runtime(1);
            let err = outer.block_on(async move {
                parkway::go(async move { drop(inner) }).await.unwrap_err()
            });
            assert!(err.is_panic(), "{mode:?}: {err}");
            let text = err.to_string();
            assert!(
                text.contains("dropped inside a go block"),
                "{mode:?}: {text}"
            );
            // The outer runtime survives, on every worker.
            let sum = outer.block_on(async {
                let hs: Vec<_> = (0..100).map(|i| parkway::go(async move { i })).collect();
                let mut s = 0;
                for h in hs {
                    s += h.await.unwrap();
                }
                s
            });
            assert_eq!(sum, (0..100).sum::<i32>());
            // And still shuts down normally.
            drop(outer);
        }
    });
}

#[test]
fn shutdown_timeout_in_a_go_block_panics() {
    watchdog(|| {
        let outer = runtime_with(1, GoCheck::Off);
        let inner = runtime(1);
        let err = outer.block_on(async move {
            parkway::go(async move { inner.shutdown_timeout(Duration::from_millis(10)) })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic(), "{err}");
        assert!(err.to_string().contains("shutdown_timeout"), "{err}");
        assert_eq!(
            outer.block_on(async { parkway::go(async { 2 }).await.unwrap() }),
            2
        );
    });
}

#[test]
fn a_runtime_dropped_while_a_go_block_unwinds_shuts_down() {
    // Dropped during a panic's unwinding inside a go block: no second panic
    // (that would abort); the panic surfaces as the task's error.
    watchdog(|| {
        let outer = runtime_with(1, GoCheck::Off);
        let inner = runtime(1);
        let err = outer.block_on(async move {
            parkway::go(async move {
                let _inner = inner;
                panic!("first panic");
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        assert!(err.to_string().contains("first panic"), "{err}");
        assert_eq!(
            outer.block_on(async { parkway::go(async { 3 }).await.unwrap() }),
            3
        );
    });
}
