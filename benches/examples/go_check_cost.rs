//! What the stall watchdog and the hand-off cost, per the workloads that
//! poll the most: `spawn_many_local`, `ping_pong`, `yield_many`.
//!
//! One invocation measures one workload in one configuration and prints
//! the time per iteration in seconds:
//! `go_check_cost <workload> <off|warn>`. Three configurations are
//! compared by `benches/scripts/go_check_cost.sh`, which builds this
//! example twice and interleaves the runs:
//!
//! - `compiled-out`: built with the bench-only `no-watchdog` feature
//!   (parkway's `bench-no-watchdog`): no probe, no monitor, no hand-off
//!   check; the mode argument is ignored;
//! - `off`: the normal build, go-check `Off`: compensation is on (the
//!   default), so the probe is written on every poll and the monitor runs;
//! - `warn`: the normal build, go-check `Warn` (reports on, as debug builds
//!   default to), compensation on.

use std::time::Instant;

use parkway::{GoCheck, Runtime};
use parkway_benches::rt::parkway_impl as p;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: go_check_cost <spawn_many_local|ping_pong|yield_many> <off|warn>";
    let [workload, mode] = args.as_slice() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let (iters, f): (u32, fn(&Runtime)) = match workload.as_str() {
        "spawn_many_local" => (100, p::spawn_many_local),
        "ping_pong" => (500, p::ping_pong),
        "yield_many" => (30, p::yield_many),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let mode = match mode.as_str() {
        "off" => GoCheck::Off,
        "warn" => GoCheck::Warn,
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = Runtime::builder()
        .worker_threads(workers)
        .go_check(mode)
        .build()
        .expect("runtime");
    // Warm up: threads started, allocator and caches primed.
    for _ in 0..iters / 4 + 1 {
        f(&rt);
    }
    let start = Instant::now();
    for _ in 0..iters {
        f(&rt);
    }
    println!("{:.9}", (start.elapsed() / iters).as_secs_f64());
}
