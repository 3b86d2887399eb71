//! What go-check's stall watchdog costs: the scheduler workloads on two
//! parkway runtimes side by side, one with go-check `Warn` (probe per poll,
//! monitor thread) and one with `Off` (neither), interleaved, medians of
//! 10 rounds: `cargo run --release -p parkway-benches --example go_check_cost`.

use std::time::{Duration, Instant};

use parkway::{GoCheck, Runtime};
use parkway_benches::compare::median;
use parkway_benches::rt::parkway_impl as p;

/// A runtime with `workers` workers in `mode`.
fn runtime(workers: usize, mode: GoCheck) -> Runtime {
    Runtime::builder()
        .worker_threads(workers)
        .go_check(mode)
        .build()
        .expect("runtime")
}

/// Time per iteration of `f` over `iters` iterations.
fn time(iters: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed() / iters
}

fn main() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let warn = runtime(workers, GoCheck::Warn);
    let off = runtime(workers, GoCheck::Off);
    type Workload = (&'static str, u32, fn(&Runtime));
    let workloads: [Workload; 3] = [
        ("spawn_many_local", 20, p::spawn_many_local),
        ("ping_pong", 50, p::ping_pong),
        ("yield_many", 10, p::yield_many),
    ];
    println!("| workload | workers | Warn | Off | Off time ÷ Warn time |");
    println!("|---|---:|---:|---:|---:|");
    for (name, iters, f) in workloads {
        let (mut w, mut o) = (Vec::new(), Vec::new());
        for round in 0..10 {
            if round % 2 == 0 {
                w.push(time(iters, || f(&warn)).as_secs_f64());
                o.push(time(iters, || f(&off)).as_secs_f64());
            } else {
                o.push(time(iters, || f(&off)).as_secs_f64());
                w.push(time(iters, || f(&warn)).as_secs_f64());
            }
        }
        let (mw, mo) = (median(&mut w), median(&mut o));
        println!(
            "| {name} | {workers} | {:.1} µs | {:.1} µs | {:.2} |",
            mw * 1e6,
            mo * 1e6,
            mo / mw
        );
    }
}
