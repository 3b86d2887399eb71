//! What go-check shows when a go block blocks its thread: each report as a
//! user sees it. Run with `cargo run -p parkway --example blocking_in_go`
//! (add `PARKWAY_GO_CHECK_BACKTRACE=1`, on Linux, to see the stuck thread's
//! stack in the stall reports; build with
//! `RUSTFLAGS="-C force-frame-pointers=yes"` for a full one).
//!
//! 1. A blocking channel op inside a go block, after it has parked: the op
//!    is refused with a panic that names it and says what to do instead;
//!    the panic reaches the task's `JoinHandle`.
//! 2. A go block that blocks its worker with `std::thread::sleep` (no op
//!    check can see that): the stall watchdog reports it, with the task's
//!    name and the line that spawned it, and another thread takes over the
//!    rest of that worker's tasks meanwhile.
//! 3. The same in `Strict` mode: the task fails with `is_stalled()`.
//! 4. The fix: the blocking work on the blocking pool (`parkway::thread`), the go block
//!    parking until the result arrives.

use std::time::{Duration, Instant};

use parkway::{chan, GoCheck, Runtime};

fn main() {
    blocking_op_after_a_park();
    a_stall_is_reported_and_compensated();
    strict_mode_fails_the_task();
    the_fix();
}

fn section(title: &str) {
    println!("\n=== {title} ===");
}

fn blocking_op_after_a_park() {
    section("1. recv_blocking inside a go block, after it parked once");
    let rt = Runtime::builder()
        .worker_threads(2)
        .go_check(GoCheck::Warn)
        .build()
        .unwrap();
    let (tx, rx) = chan::bounded::<u32>(1);
    let err = rt
        .block_on(async move {
            parkway::go(async move {
                parkway::sleep(Duration::from_millis(1)).await;
                rx.recv_blocking()
            })
            .await
        })
        .unwrap_err();
    drop(tx);
    println!("the task's JoinError:\n  {err}");
    assert!(err.is_panic());
    assert!(err.to_string().contains("recv_blocking"));
}

fn a_stall_is_reported_and_compensated() {
    section("2. std::thread::sleep(300 ms) in a go block (the report goes to stderr)");
    let rt = Runtime::builder()
        .worker_threads(1)
        .go_check(GoCheck::Warn)
        .build()
        .unwrap();
    let started = Instant::now();
    let sleepy = parkway::task::Builder::new()
        .name("load-config")
        .go_on(rt.handle(), async {
            // Blocks the worker's thread: the bug go-check exists to catch.
            std::thread::sleep(Duration::from_millis(300));
        });
    // With the only worker stuck, this still runs: another thread took
    // over the worker's other tasks.
    let other = rt.block_on(async {
        parkway::sleep(Duration::from_millis(150)).await;
        parkway::go(async { 6 * 7 }).await.unwrap()
    });
    println!(
        "meanwhile another go block computed {other}, {} ms in",
        started.elapsed().as_millis()
    );
    rt.block_on(sleepy).unwrap();
}

fn strict_mode_fails_the_task() {
    section("3. the same stall in Strict mode");
    let rt = Runtime::builder()
        .worker_threads(1)
        .go_check(GoCheck::Strict)
        .on_go_check_report(|r| println!("report hook got: {:?} on worker {:?}", r.kind, r.worker))
        .build()
        .unwrap();
    let err = rt
        .block_on(rt.go(async {
            std::thread::sleep(Duration::from_millis(300));
        }))
        .unwrap_err();
    println!("the task's JoinError:\n  {err}");
    assert!(err.is_stalled());
}

fn the_fix() {
    section("4. the fix: blocking work on the blocking pool (parkway::thread)");
    let rt = Runtime::builder()
        .worker_threads(1)
        .go_check(GoCheck::Strict)
        .build()
        .unwrap();
    let v = rt
        .block_on(rt.go(async {
            // Parks, leaving the worker free, while a pool thread sleeps.
            parkway::thread(|| {
                std::thread::sleep(Duration::from_millis(300));
                42
            })
            .await
            .unwrap()
        }))
        .unwrap();
    println!("got {v}, no report");
    assert_eq!(v, 42);
}
