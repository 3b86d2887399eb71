//! Channel creation: building (and dropping) a `bounded(1_000_000)` channel,
//! as tokio's `sync_mpsc` contention benchmarks do once per iteration.
//! Group `create/bounded1000000` holds parkway, tokio's mpsc, crossbeam,
//! flume, kanal, async-channel and std's `sync_channel` side by side.
//!
//! ```text
//! cargo bench -p parkway-benches --bench chan_create -- --warm-up-time 1 --measurement-time 2
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;

use criterion::Criterion;
use parkway_benches::async_ops::AsyncOps;
use parkway_benches::blocking::BlockingOps;
use parkway_benches::peers::{AsyncChannel, Crossbeam, Flume, Kanal, Parkway, StdMpsc, TokioMpsc};
use parkway_benches::CREATE_CAPACITY;

fn create(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("create/bounded{CREATE_CAPACITY}"));
    // The channel is dropped inside the timed loop: creation and teardown.
    g.bench_function(<Parkway as BlockingOps>::NAME, |b| {
        b.iter(|| <Parkway as BlockingOps>::bounded(black_box(CREATE_CAPACITY)));
    });
    g.bench_function(TokioMpsc::NAME, |b| {
        b.iter(|| TokioMpsc::bounded(black_box(CREATE_CAPACITY)));
    });
    g.bench_function(Crossbeam::NAME, |b| {
        b.iter(|| Crossbeam::bounded(black_box(CREATE_CAPACITY)));
    });
    g.bench_function(<Flume as BlockingOps>::NAME, |b| {
        b.iter(|| <Flume as BlockingOps>::bounded(black_box(CREATE_CAPACITY)));
    });
    g.bench_function(<Kanal as BlockingOps>::NAME, |b| {
        b.iter(|| <Kanal as BlockingOps>::bounded(black_box(CREATE_CAPACITY)));
    });
    g.bench_function(AsyncChannel::NAME, |b| {
        b.iter(|| AsyncChannel::bounded(black_box(CREATE_CAPACITY)));
    });
    g.bench_function(StdMpsc::NAME, |b| {
        b.iter(|| StdMpsc::bounded(black_box(CREATE_CAPACITY)));
    });
    g.finish();
}

// What `criterion_group!`/`criterion_main!` expand to, written out: the
// macro's `pub fn` would need a doc comment it cannot carry.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    create(&mut c);
    c.final_summary();
}
