//! Blocking channels: crossbeam-channel's comparison workloads
//! (`crossbeam-channel/benchmarks/crossbeam-channel.rs`) for parkway,
//! crossbeam-channel, flume, kanal and `std::sync::mpsc::sync_channel`.
//!
//! One criterion group per workload and capacity (`spsc/bounded1`, …) holds
//! the peers side by side. Each iteration sends [`MESSAGES`] messages
//! (crossbeam sends 5_000_000; scaled to 100_000) with [`THREADS`] producer
//! and consumer threads where the workload has several; throughput is per
//! message. Capacities as in crossbeam: `bounded0` (rendezvous), `bounded1`
//! and `bounded_n` with n = [`MESSAGES`]; `seq` only runs on `bounded_n`.
//!
//! Cells that do not exist: `std` has no select and no multi-consumer
//! receiver (no `mpmc`, `select_rx`, `select_both`); kanal has no select;
//! flume's `Selector` hangs in `select_both` (seen here with flume 0.11.1 at
//! every capacity; a lost wake-up, zesterer/flume#44 and #135), so flume runs
//! `select_rx` only.
//!
//! ```text
//! cargo bench -p parkway-benches --bench chan_blocking -- --warm-up-time 1 --measurement-time 2 --sample-size 10 'spsc/'
//! ```
#![forbid(unsafe_code)]

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use parkway_benches::blocking::{workloads, BlockingOps};
use parkway_benches::peers::{Crossbeam, Flume, Kanal, Parkway, StdMpsc};
use parkway_benches::{capacity_label, MESSAGES, THREADS};

/// The group of `workload` on capacity `cap`, counted per message. Runs take
/// milliseconds to seconds, hence flat sampling.
fn group<'a>(c: &'a mut Criterion, workload: &str, cap: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{workload}/{}", capacity_label(cap, MESSAGES)));
    g.throughput(Throughput::Elements(MESSAGES as u64));
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// One benchmark per peer in the group, all running the same workload.
macro_rules! peers {
    ($c:expr, $workload:ident, $cap:expr; $($peer:ty),+ $(,)?) => {{
        let mut g = group($c, stringify!($workload), $cap);
        $(
            g.bench_function(<$peer as BlockingOps>::NAME, |b| {
                b.iter(|| workloads::$workload::<$peer>($cap, MESSAGES));
            });
        )+
        g.finish();
    }};
}

fn blocking(c: &mut Criterion) {
    assert_eq!(MESSAGES % THREADS, 0);
    for cap in [0, 1, MESSAGES] {
        if cap == MESSAGES {
            peers!(c, seq, cap; Parkway, Crossbeam, Flume, Kanal, StdMpsc);
        }
        peers!(c, spsc, cap; Parkway, Crossbeam, Flume, Kanal, StdMpsc);
        peers!(c, mpsc, cap; Parkway, Crossbeam, Flume, Kanal, StdMpsc);
        peers!(c, mpmc, cap; Parkway, Crossbeam, Flume, Kanal);
        peers!(c, select_rx, cap; Parkway, Crossbeam, Flume);
        // flume's `Selector` hangs here: send and receive selects on shared
        // channels lose a wake-up (zesterer/flume#44, #135); crossbeam's own
        // flume suite runs no select either.
        peers!(c, select_both, cap; Parkway, Crossbeam);
        peers!(c, ping_pong, cap; Parkway, Crossbeam, Flume, Kanal, StdMpsc);
    }
}

// What `criterion_group!`/`criterion_main!` expand to, written out: the
// macro's `pub fn` would need a doc comment it cannot carry.
fn main() {
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    blocking(&mut c);
    c.final_summary();
}
