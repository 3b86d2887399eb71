//! Spawning go blocks: many of them, nested, from every kind of thread,
//! with names, and outside a runtime (where it must panic helpfully).

mod util;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use parkway::{chan, Handle, Runtime};
use util::{expect_panic, runtime, until, watchdog};

/// One million: the count the runtime must handle (release and debug
/// alike; it takes about a second in a debug build on 2 cores).
const MILLION: u64 = 1_000_000;

/// Waits until `total` holds the sum `1 + 2 + .. + n` that `n` tasks adding
/// `i + 1` each produce, then checks that the runtime has no task left.
async fn wait_for_sum(total: &AtomicU64, n: u64) {
    let want = n * (n + 1) / 2;
    until(|| total.load(Ordering::SeqCst) >= want).await;
    assert_eq!(total.load(Ordering::SeqCst), want, "a task ran twice");
}

#[test]
fn a_million_tiny_tasks_from_block_on() {
    watchdog(|| {
        let rt = runtime(2);
        let total = Arc::new(AtomicU64::new(0));
        rt.block_on(async {
            for i in 0..MILLION {
                let total = Arc::clone(&total);
                parkway::go(async move {
                    total.fetch_add(i + 1, Ordering::SeqCst);
                });
            }
            wait_for_sum(&total, MILLION).await;
        });
        util::wait_until("every task to be freed", || {
            rt.handle().metrics().num_alive_tasks() == 0
        });
        // Every task dropped its clone of the counter.
        util::wait_until("every task future to be dropped", || {
            Arc::strong_count(&total) == 1
        });
    });
}

#[test]
fn a_million_tiny_tasks_spawned_by_go_blocks() {
    watchdog(|| {
        let rt = runtime(2);
        let total = Arc::new(AtomicU64::new(0));
        const SPAWNERS: u64 = 1000;
        const PER: u64 = MILLION / SPAWNERS;
        rt.block_on(async {
            for s in 0..SPAWNERS {
                let total = Arc::clone(&total);
                parkway::go(async move {
                    for i in 0..PER {
                        let total = Arc::clone(&total);
                        parkway::go(async move {
                            total.fetch_add(s * PER + i + 1, Ordering::SeqCst);
                        });
                    }
                });
            }
            wait_for_sum(&total, MILLION).await;
        });
        util::wait_until("every task to be freed", || {
            rt.handle().metrics().num_alive_tasks() == 0
        });
    });
}

/// A node of a task tree: spawns `fanout` children down to `depth`, joins
/// them, and returns the number of leaves under it plus its own label sum.
fn tree(depth: u32, fanout: u64, label: u64) -> Pin<Box<dyn Future<Output = (u64, u64)> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return (1, label);
        }
        let children: Vec<_> = (0..fanout)
            .map(|c| parkway::go(tree(depth - 1, fanout, label * fanout + c)))
            .collect();
        let mut leaves = 0;
        let mut labels = 0;
        for child in children {
            let (l, s) = child.await.expect("child task failed");
            leaves += l;
            labels += s;
        }
        (leaves, labels)
    })
}

#[test]
fn nested_spawns_join_through_four_levels() {
    watchdog(|| {
        for workers in [1, 2, 4] {
            let rt = runtime(workers);
            let (leaves, labels) = rt.block_on(async { parkway::go(tree(4, 4, 0)).await.unwrap() });
            // 4^4 leaves labelled 0..256 in base 4.
            assert_eq!(leaves, 256, "workers = {workers}");
            assert_eq!(labels, (0..256).sum::<u64>(), "workers = {workers}");
        }
    });
}

#[test]
fn deep_chain_of_spawns() {
    // Each task spawns the next and awaits it: 500 levels of parked
    // parents, woken one after the other on the way back.
    fn chain(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
        Box::pin(async move {
            if n == 0 {
                0
            } else {
                parkway::go(chain(n - 1)).await.unwrap() + 1
            }
        })
    }
    watchdog(|| {
        let rt = runtime(2);
        assert_eq!(rt.block_on(chain(500)), 500);
    });
}

#[test]
fn go_from_block_on_from_a_task_and_from_a_foreign_thread() {
    watchdog(|| {
        let rt = runtime(2);
        // From block_on.
        assert_eq!(
            rt.block_on(async { parkway::go(async { 1 }).await.unwrap() }),
            1
        );
        // From a task.
        let from_task = rt.block_on(async {
            parkway::go(async { parkway::go(async { 2 }).await.unwrap() })
                .await
                .unwrap()
        });
        assert_eq!(from_task, 2);
        // From a foreign std thread, through a Handle; awaited both there
        // (Handle::block_on) and back here.
        let handle = rt.handle().clone();
        let (there, back) = thread::spawn(move || {
            assert!(
                Handle::try_current().is_err(),
                "a plain thread must not be inside a runtime"
            );
            let a = handle.go(async { 3 });
            let b = handle.go(async { 4 });
            (handle.block_on(a).unwrap(), b)
        })
        .join()
        .unwrap();
        assert_eq!(there, 3);
        assert_eq!(rt.block_on(back).unwrap(), 4);
        // Runtime::go from the owning thread, outside block_on.
        let h = rt.go(async { 5 });
        assert_eq!(rt.block_on(h).unwrap(), 5);
    });
}

#[test]
fn go_runs_concurrently_with_block_on() {
    // The block_on thread waits on a channel only a go block fills: the go
    // block must run on a worker while block_on parks.
    watchdog(|| {
        let rt = runtime(1);
        let got = rt.block_on(async {
            let (tx, rx) = chan::unbuffered();
            parkway::go(async move {
                for i in 0..100 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            sum
        });
        assert_eq!(got, (0..100).sum::<i32>());
    });
}

#[test]
fn go_outside_a_runtime_panics_saying_how_to_get_one() {
    watchdog(|| {
        let msg = expect_panic(|| parkway::go(async {}));
        assert!(
            msg.contains("outside a parkway runtime"),
            "message does not say what is wrong: {msg}"
        );
        assert!(
            msg.contains("Runtime::new") && msg.contains("block_on"),
            "message does not say how to get a runtime: {msg}"
        );
        assert!(
            msg.contains("handle"),
            "message does not mention spawning through a handle: {msg}"
        );
        // The same through task::Builder.
        let msg = expect_panic(|| parkway::task::Builder::new().name("x").go(async {}));
        assert!(msg.contains("outside a parkway runtime"), "{msg}");
    });
}

#[test]
fn go_outside_a_runtime_drops_the_future() {
    let drops = util::DropCount::new();
    let guard = drops.guard();
    let _ = expect_panic(move || {
        parkway::go(async move {
            drop(guard);
        })
    });
    assert_eq!(drops.get(), 1, "the refused future was leaked");
}

#[test]
fn handle_current_outside_a_runtime_panics_and_try_current_errs() {
    watchdog(|| {
        let err = Handle::try_current().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no parkway runtime"), "{text}");
        let msg = expect_panic(Handle::current);
        assert!(msg.contains("no parkway runtime"), "{msg}");
        assert!(msg.contains("block_on"), "{msg}");
    });
}

#[test]
fn handle_current_inside_block_on_a_task_and_enter() {
    watchdog(|| {
        let rt = util::runtime(3);
        // Inside block_on: the runtime's handle (3 workers tells it apart).
        let n = rt.block_on(async { Handle::current().metrics().num_workers() });
        assert_eq!(n, 3);
        // Left again after block_on.
        assert!(Handle::try_current().is_err());
        // Inside a go block.
        let n = rt.block_on(async {
            parkway::go(async { Handle::current().metrics().num_workers() })
                .await
                .unwrap()
        });
        assert_eq!(n, 3);
        // Through enter, until the guard drops; go works there too.
        {
            let _g = rt.enter();
            assert_eq!(Handle::current().metrics().num_workers(), 3);
            let h = parkway::go(async { 9 });
            drop(_g);
            assert!(Handle::try_current().is_err());
            assert_eq!(rt.block_on(h).unwrap(), 9);
        }
        // A handle from current() spawns on the same runtime.
        let h = rt.block_on(async { Handle::current() });
        assert_eq!(rt.block_on(h.go(async { 10 })).unwrap(), 10);
    });
}

#[test]
fn nested_enter_restores_the_outer_runtime() {
    watchdog(|| {
        let a = runtime(1);
        let b = runtime(2);
        let _ga = a.enter();
        {
            let _gb = b.enter();
            assert_eq!(Handle::current().metrics().num_workers(), 2);
        }
        assert_eq!(Handle::current().metrics().num_workers(), 1);
        b.block_on(async {
            assert_eq!(Handle::current().metrics().num_workers(), 2);
        });
        assert_eq!(Handle::current().metrics().num_workers(), 1);
    });
}

#[test]
fn named_tasks_carry_their_name_into_join_errors() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let err = parkway::task::Builder::new()
                .name("fetcher-7")
                .go(async { panic!("no route to host") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.name(), Some("fetcher-7"));
            let text = err.to_string();
            assert!(text.contains("fetcher-7"), "name missing: {text}");
            assert!(text.contains("no route to host"), "message missing: {text}");
            assert!(format!("{err:?}").contains("fetcher-7"));

            // A cancelled named task, too.
            let h = parkway::task::Builder::new()
                .name("sleeper")
                .go(std::future::pending::<()>());
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled());
            assert_eq!(err.name(), Some("sleeper"));
            assert!(err.to_string().contains("sleeper"), "{err}");

            // Unnamed: no name.
            let err = parkway::go(async { panic!("x") }).await.unwrap_err();
            assert_eq!(err.name(), None);

            // A named task's output arrives as any other.
            let v = parkway::task::Builder::new()
                .name("ok")
                .go(async { 5 })
                .await
                .unwrap();
            assert_eq!(v, 5);
        });
        // go_on spawns on a given handle from a plain thread.
        let handle = rt.handle().clone();
        let err = thread::spawn(move || {
            let h = parkway::task::Builder::new()
                .name("remote")
                .go_on(&handle, async { panic!("far away") });
            handle.block_on(h).unwrap_err()
        })
        .join()
        .unwrap();
        assert_eq!(err.name(), Some("remote"));
        assert!(err.to_string().contains("far away"));
    });
}

#[test]
fn spawn_location_is_the_callers() {
    watchdog(|| {
        let rt = runtime(1);
        let this_file = file!();
        let check = |err: parkway::JoinError, line: u32| {
            assert_eq!(err.location().file(), this_file, "{err}");
            assert_eq!(err.location().line(), line, "{err}");
            assert!(err.to_string().contains(this_file), "{err}");
        };
        let (e1, l1) = rt.block_on(async {
            let line = line!() + 1;
            let h = parkway::go(async { panic!("a") });
            (h.await.unwrap_err(), line)
        });
        check(e1, l1);
        let line = line!() + 1;
        let h = rt.handle().go(async { panic!("b") });
        check(rt.block_on(h).unwrap_err(), line);
        let line = line!() + 1;
        let h = rt.go(async { panic!("c") });
        check(rt.block_on(h).unwrap_err(), line);
        let (e4, l4) = rt.block_on(async {
            let builder = parkway::task::Builder::new().name("n");
            let line = line!() + 1;
            let h = builder.go(async { panic!("d") });
            (h.await.unwrap_err(), line)
        });
        check(e4, l4);
    });
}

#[test]
fn task_ids_are_unique_and_match_their_errors() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let handles: Vec<_> = (0..100)
                .map(|_| parkway::go(async { panic!("id check") }))
                .collect();
            let ids: std::collections::HashSet<_> = handles.iter().map(|h| h.id()).collect();
            assert_eq!(ids.len(), 100);
            for h in handles {
                let id = h.id();
                assert_eq!(h.await.unwrap_err().id(), id);
            }
        });
    });
}

#[test]
fn many_threads_spawn_through_one_handle_at_once() {
    watchdog(|| {
        let rt = runtime(2);
        let count = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let handle = rt.handle().clone();
                let count = Arc::clone(&count);
                thread::spawn(move || {
                    let hs: Vec<_> = (0..2000)
                        .map(|i| {
                            let count = Arc::clone(&count);
                            handle.go(async move {
                                count.fetch_add(1, Ordering::SeqCst);
                                i
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for h in hs {
                        sum += handle.block_on(h).unwrap();
                    }
                    sum
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), (0..2000).sum::<i32>());
        }
        assert_eq!(count.load(Ordering::SeqCst), 8000);
    });
}

#[test]
fn runtime_and_handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<Handle>();
    assert_send_sync::<parkway::JoinHandle<u32>>();
    assert_send_sync::<parkway::JoinError>();
}
