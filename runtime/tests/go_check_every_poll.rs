//! go-check marks a go worker for its whole life, so a blocking op is
//! caught in any poll of a go block (not only before its first park, as
//! core.async's go-checking is) and in callbacks the runtime runs on a
//! worker (a channel callback completed there, a waker a timer fires).
//!
//! Callback panics are reported through go-check's process-wide reporter,
//! so this file has its own test binary and installs the reporter once.

mod util;

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Wake, Waker};
use std::time::Duration;

use parkway::{chan, GoCheck, Report, ReportKind};
use util::{runtime_with, watchdog};

/// Every report go-check's process-wide reporter got.
fn reports() -> &'static Mutex<Vec<Report>> {
    static REPORTS: OnceLock<Mutex<Vec<Report>>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        parkway_go_check::set_reporter(|r| reports().lock().unwrap().push(r.clone()));
        Mutex::new(Vec::new())
    })
}

/// Waits (boundedly) until a report of `kind` whose message contains
/// `needle` arrives.
fn wait_for_report(kind: ReportKind, needle: &str) -> Report {
    for _ in 0..2_000 {
        if let Some(r) = reports()
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.kind == kind && r.message.contains(needle))
        {
            return r.clone();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!(
        "no {kind:?} report mentioning {needle:?}: {:#?}",
        reports().lock().unwrap()
    );
}

#[test]
fn a_blocking_op_after_many_parks_is_caught() {
    watchdog(|| {
        for mode in [GoCheck::Warn, GoCheck::Strict] {
            let rt = runtime_with(2, mode);
            let (tx, rx) = chan::bounded::<u32>(1);
            let err = rt
                .block_on(async move {
                    parkway::go(async move {
                        // Park several times first: a timer, a yield, a
                        // channel.
                        parkway::sleep(Duration::from_millis(1)).await;
                        parkway::yield_now().await;
                        let (t, r) = chan::oneshot();
                        parkway::go(async move { t.send(()).unwrap() });
                        r.await.unwrap();
                        tx.send_blocking(1)
                    })
                    .await
                })
                .unwrap_err();
            assert!(err.is_panic(), "{mode:?}: {err}");
            assert!(err.to_string().contains("send_blocking"), "{mode:?}: {err}");
            // Refused before it ran: nothing was sent.
            assert_eq!(rx.try_recv().ok(), None);
        }
    });
}

#[test]
fn a_blocking_op_in_a_channel_callback_run_on_a_worker_is_caught() {
    watchdog(|| {
        reports();
        let rt = runtime_with(1, GoCheck::Warn);
        let (tx, rx) = chan::bounded::<u32>(0);
        let (other_tx, other_rx) = chan::bounded::<u32>(1);
        // The callback is registered here, on a plain thread, and runs where
        // the take completes: in the go block's send, on a worker.
        rx.take(move |v| {
            assert_eq!(v, Some(1));
            other_tx.send_blocking(2).unwrap();
        })
        .unwrap();
        rt.block_on(async move {
            parkway::go(async move { tx.send(1).await.unwrap() })
                .await
                .unwrap();
        });
        let r = wait_for_report(ReportKind::CallbackPanic, "send_blocking");
        assert!(r.message.contains("take"), "{r}");
        // Refused before it ran.
        assert_eq!(other_rx.try_recv().ok(), None);
    });
}

/// A waker that makes a blocking channel op when woken.
struct BlockingWaker(chan::Sender<u32>);

impl Wake for BlockingWaker {
    fn wake(self: Arc<Self>) {
        self.0.send_blocking(3).unwrap();
    }
}

#[test]
fn a_blocking_op_in_a_waker_a_timer_fires_on_a_worker_is_caught() {
    watchdog(|| {
        reports();
        let rt = runtime_with(1, GoCheck::Warn);
        let (tx, rx) = chan::bounded::<u32>(1);
        let waker = Waker::from(Arc::new(BlockingWaker(tx)));
        rt.block_on(async move {
            parkway::go(async move {
                // Register a sleep with the foreign waker, then let the
                // worker fire it (it fires timers between polls).
                let mut sleep = Box::pin(parkway::sleep(Duration::from_millis(5)));
                {
                    let mut cx = std::task::Context::from_waker(&waker);
                    assert!(sleep.as_mut().poll(&mut cx).is_pending());
                }
                parkway::sleep(Duration::from_millis(50)).await;
                drop(sleep);
            })
            .await
            .unwrap();
        });
        let r = wait_for_report(ReportKind::CallbackPanic, "send_blocking");
        assert!(r.message.contains("send_blocking"), "{r}");
        assert_eq!(rx.try_recv().ok(), None);
    });
}
