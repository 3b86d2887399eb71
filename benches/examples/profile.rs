//! Runs one scheduler workload on parkway alone, for a profiler:
//! `cargo build --release -p parkway-benches --example profile &&
//! perf record -g target/release/examples/profile yield_many 2 50`
//! (workload, workers, iterations).

use parkway_benches::rt::parkway_impl as p;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("yield_many", String::as_str);
    let workers = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let iterations: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50);
    let rt = p::runtime(workers);
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        match name {
            "spawn_many_local" => p::spawn_many_local(&rt),
            "ping_pong" => p::ping_pong(&rt),
            "yield_many" => p::yield_many(&rt),
            "chained_spawn" => p::chained_spawn(&rt),
            "chan_ping_pong" => p::chan_ping_pong(&rt),
            "mpsc_contention_full" => {
                p::mpsc_contention(&rt, parkway_benches::rt::CONTENTION_FULL_CAPACITY);
            }
            other => panic!("unknown workload {other}"),
        }
    }
    println!(
        "{name}: {:?} per iteration",
        start.elapsed() / iterations as u32
    );
}
