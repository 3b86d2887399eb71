//! Scheduler workloads: parkway's runtime against tokio's multi-thread
//! runtime, after tokio's own `benches/rt_multi_threaded.rs` (with its
//! parameters) plus `chan_ping_pong`, tokio's `sync_mpsc` contention cases
//! and a million sleeps; `parkway_benches::rt` documents each workload and
//! where the two programs differ.
//!
//! One criterion group per workload holds `parkway/4`, `tokio/4`,
//! `parkway/ncpu` and `tokio/ncpu` side by side: both runtimes with 4
//! workers (tokio's file) and with one worker per core. As in tokio's file,
//! each benchmark builds its runtime once and reuses it for every
//! iteration; the `busy` workloads start their background load before the
//! benchmark and stop it after. Every benchmark times its iterations with
//! `time_iters` through `iter_custom`: the loop's wall-clock time, as
//! `iter` would measure it, except for `sleeps_1m`, whose time is the sum
//! of its two measured phases (spawn + register, expiry) without the idle
//! wait for the first deadline between them. Heap bytes per idle task are
//! not a time: the `compare` binary reports them.
//!
//! ```text
//! cargo bench -p parkway-benches --bench rt_multi_threaded -- spawn_many_local
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use parkway_benches::rt::{parkway_impl, tokio_impl, worker_configs, Workload};

fn rt_multi_threaded(c: &mut Criterion) {
    let mut configs = worker_configs().to_vec();
    // With 4 cores, one per core is the first configuration again.
    configs.dedup_by_key(|&mut (_, n)| n);
    for workload in Workload::ALL {
        let mut g = c.benchmark_group(workload.name());
        if workload.is_long() {
            g.sampling_mode(SamplingMode::Flat);
        }
        for &(label, workers) in &configs {
            {
                let rt = parkway_impl::runtime(workers);
                let load = parkway_impl::background(&rt, workload, workers);
                g.bench_function(format!("parkway/{label}"), |b| {
                    b.iter_custom(|iters| parkway_impl::time_iters(&rt, workload, iters));
                });
                drop(load);
            }
            {
                let rt = tokio_impl::runtime(workers);
                let load = tokio_impl::background(&rt, workload, workers);
                g.bench_function(format!("tokio/{label}"), |b| {
                    b.iter_custom(|iters| tokio_impl::time_iters(&rt, workload, iters));
                });
                drop(load);
            }
        }
        g.finish();
    }
}

// What `criterion_group!`/`criterion_main!` expand to, written out: the
// macro's `pub fn` would need a doc comment it cannot carry.
fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    rt_multi_threaded(&mut c);
    c.final_summary();
}
