//! Async channels: parkway (`send().await` / `recv().await`) against tokio's
//! `sync::mpsc`, async-channel, flume (`send_async` / `recv_async`) and kanal
//! (`bounded_async`), every one on the same tokio multi-thread runtime with
//! one worker per core, so that only the channel differs.
//!
//! Workloads `spsc`, `mpsc` ([`THREADS`] producer tasks) and `mpmc`
//! ([`THREADS`] × [`THREADS`] tasks), [`MESSAGES`] messages per iteration,
//! throughput per message; capacities 0, 1 and 1024, one criterion group per
//! workload and capacity (`mpsc/bounded1024`, …) with the peers side by side.
//!
//! Cells that do not exist: tokio's mpsc and async-channel have no capacity
//! 0 (both panic on it); tokio's mpsc has no multi-consumer receiver (no
//! `mpmc`).
//!
//! ```text
//! cargo bench -p parkway-benches --bench chan_async -- --warm-up-time 1 --measurement-time 2 --sample-size 10
//! ```
#![forbid(unsafe_code)]

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use parkway_benches::async_ops::{self, workloads, AsyncOps};
use parkway_benches::peers::{AsyncChannel, Flume, Kanal, Parkway, TokioMpsc};
use parkway_benches::{capacity_label, MESSAGES, THREADS};
use tokio::runtime::Runtime;

/// The group of `workload` on capacity `cap`, counted per message.
fn group<'a>(c: &'a mut Criterion, workload: &str, cap: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{workload}/{}", capacity_label(cap, MESSAGES)));
    g.throughput(Throughput::Elements(MESSAGES as u64));
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// One benchmark per peer in the group, all running the same workload on
/// the same runtime.
macro_rules! peers {
    ($c:expr, $rt:expr, $workload:ident, $cap:expr; $($peer:ty),+ $(,)?) => {{
        let mut g = group($c, stringify!($workload), $cap);
        $(
            g.bench_function(<$peer as AsyncOps>::NAME, |b| {
                b.iter(|| $rt.block_on(workloads::$workload::<$peer>($cap, MESSAGES)));
            });
        )+
        g.finish();
    }};
}

fn run_async(c: &mut Criterion) {
    assert_eq!(MESSAGES % THREADS, 0);
    let rt: Runtime = async_ops::runtime();
    // Rendezvous: only the peers that have it.
    peers!(c, rt, spsc, 0; Parkway, Flume, Kanal);
    peers!(c, rt, mpsc, 0; Parkway, Flume, Kanal);
    peers!(c, rt, mpmc, 0; Parkway, Flume, Kanal);
    for cap in [1, 1024] {
        peers!(c, rt, spsc, cap; Parkway, TokioMpsc, AsyncChannel, Flume, Kanal);
        peers!(c, rt, mpsc, cap; Parkway, TokioMpsc, AsyncChannel, Flume, Kanal);
        peers!(c, rt, mpmc, cap; Parkway, AsyncChannel, Flume, Kanal);
    }
}

// What `criterion_group!`/`criterion_main!` expand to, written out: the
// macro's `pub fn` would need a doc comment it cannot carry.
fn main() {
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    run_async(&mut c);
    c.final_summary();
}
