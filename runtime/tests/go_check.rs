//! go-check on the runtime's workers: blocking channel ops in a go block
//! panic in `Warn` and `Strict` (surfacing as the task's `JoinError`) and
//! run in `Off`; each runtime keeps its own mode.

mod util;

use std::time::Duration;

use parkway::{chan, GoCheck};
use util::{runtime_with, watchdog};

/// Runs `f` in a go block on a fresh runtime in `mode` and returns what the
/// go block gave.
fn in_go_block<T: Send + 'static>(
    mode: GoCheck,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, parkway::JoinError> {
    let rt = runtime_with(1, mode);
    rt.block_on(async move { parkway::go(async move { f() }).await })
}

#[test]
fn send_blocking_in_a_go_block_panics_in_warn_and_strict() {
    watchdog(|| {
        for mode in [GoCheck::Warn, GoCheck::Strict] {
            let (tx, rx) = chan::bounded::<u32>(1);
            let err = in_go_block(mode, move || tx.send_blocking(1)).unwrap_err();
            assert!(err.is_panic(), "{mode:?}: {err}");
            let text = err.to_string();
            assert!(text.contains("send_blocking"), "{mode:?}: {text}");
            // The op was refused before it ran: nothing was sent.
            assert_eq!(rx.try_recv().ok(), None, "{mode:?}");
        }
    });
}

#[test]
fn recv_blocking_in_a_go_block_panics_in_warn_and_strict() {
    watchdog(|| {
        for mode in [GoCheck::Warn, GoCheck::Strict] {
            let (tx, rx) = chan::bounded::<u32>(1);
            tx.try_send(5).unwrap();
            let err = in_go_block(mode, move || rx.recv_blocking()).unwrap_err();
            assert!(err.is_panic(), "{mode:?}: {err}");
            assert!(err.to_string().contains("recv_blocking"), "{mode:?}: {err}");
        }
    });
}

#[test]
fn alt_blocking_in_a_go_block_panics_in_warn_and_strict() {
    watchdog(|| {
        for mode in [GoCheck::Warn, GoCheck::Strict] {
            let (tx, rx) = chan::bounded::<u32>(1);
            tx.try_send(5).unwrap();
            let err = in_go_block(mode, move || {
                parkway::alt_blocking! {
                    recv(rx) -> v => v,
                }
            })
            .unwrap_err();
            assert!(err.is_panic(), "{mode:?}: {err}");
            assert!(err.to_string().contains("alt_blocking"), "{mode:?}: {err}");
        }
    });
}

#[test]
fn blocking_ops_in_a_go_block_run_in_off_mode() {
    watchdog(|| {
        let (tx, rx) = chan::bounded::<u32>(2);
        let tx2 = tx.clone();
        in_go_block(GoCheck::Off, move || tx2.send_blocking(7))
            .unwrap()
            .unwrap();
        let rx2 = rx.clone();
        assert_eq!(
            in_go_block(GoCheck::Off, move || rx2.recv_blocking()).unwrap(),
            Some(7)
        );
        tx.try_send(8).unwrap();
        let got = in_go_block(GoCheck::Off, move || {
            parkway::alt_blocking! {
                recv(rx) -> v => v,
            }
        })
        .unwrap();
        assert_eq!(got, Some(8));
    });
}

#[test]
fn the_worker_survives_a_refused_blocking_op() {
    watchdog(|| {
        let rt = runtime_with(1, GoCheck::Strict);
        rt.block_on(async {
            for _ in 0..10 {
                let (tx, _rx) = chan::bounded::<u32>(1);
                let err = parkway::go(async move { tx.send_blocking(1) })
                    .await
                    .unwrap_err();
                assert!(err.is_panic());
            }
            // Parking ops still work on the same worker.
            let (tx, rx) = chan::unbuffered();
            parkway::go(async move { tx.send(3).await.unwrap() });
            assert_eq!(
                parkway::go(async move { rx.recv().await }).await.unwrap(),
                Some(3)
            );
        });
    });
}

#[test]
fn runtimes_in_different_modes_do_not_interfere() {
    // Two runtimes alive at once, one Off and one Strict: each worker
    // follows its own runtime's mode.
    watchdog(|| {
        let off = runtime_with(2, GoCheck::Off);
        let strict = runtime_with(2, GoCheck::Strict);
        for _ in 0..20 {
            let (tx, rx) = chan::bounded::<u32>(1);
            let ok = off.go(async move { tx.send_blocking(1) });
            let (tx2, _rx2) = chan::bounded::<u32>(1);
            let refused = strict.go(async move { tx2.send_blocking(1) });
            assert!(off.block_on(ok).unwrap().is_ok());
            assert_eq!(rx.try_recv().ok(), Some(1));
            assert!(strict.block_on(refused).unwrap_err().is_panic());
        }
    });
}

#[test]
fn blocking_ops_on_plain_threads_are_never_checked() {
    watchdog(|| {
        let _strict = runtime_with(1, GoCheck::Strict);
        let (tx, rx) = chan::bounded::<u32>(1);
        let t = std::thread::spawn(move || rx.recv_blocking());
        std::thread::sleep(Duration::from_millis(5));
        tx.send_blocking(4).unwrap();
        assert_eq!(t.join().unwrap(), Some(4));
    });
}
