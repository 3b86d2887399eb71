//! `chan_compare`: parkway's channels against the fastest peers — kanal and
//! crossbeam-channel for blocking ends, kanal and tokio's mpsc for async
//! ends — on every workload of the criterion benches, interleaved, in one
//! process; prints a markdown table of medians and ratios for
//! `docs/BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p parkway-benches --bin chan_compare [-- --quick] [--rounds N] [--filter TEXT]
//! ```
//!
//! `--quick` sends 10_000 messages per run instead of 100_000 (a smoke
//! test, not a measurement); `--filter` keeps the rows whose name contains
//! TEXT; `--rounds` defaults to 7.
#![forbid(unsafe_code)]

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use parkway_benches::async_ops::{self, workloads as aw, AsyncOps};
use parkway_benches::blocking::{workloads as bw, BlockingOps};
use parkway_benches::compare::{time, Comparison, Row};
use parkway_benches::peers::{Crossbeam, Kanal, Parkway, TokioMpsc};
use parkway_benches::{capacity_label, CREATE_CAPACITY, MESSAGES};
use tokio::runtime::Runtime;

/// A blocking workload: `(capacity, messages)`.
type Workload = fn(usize, usize);

/// Messages per run under `--quick`.
const QUICK_MESSAGES: usize = 10_000;

struct Options {
    messages: usize,
    creates: usize,
    rounds: usize,
    filter: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        messages: MESSAGES,
        creates: 50,
        rounds: 7,
        filter: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                opts.messages = QUICK_MESSAGES;
                opts.creates = 10;
            }
            "--rounds" => {
                opts.rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--rounds needs a positive number")?;
            }
            "--filter" => opts.filter = Some(args.next().ok_or("--filter needs a text")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!(
                "chan_compare: {e}\nusage: chan_compare [--quick] [--rounds N] [--filter TEXT]"
            );
            return ExitCode::FAILURE;
        }
    };
    let rt = async_ops::runtime();
    let mut cmp = Comparison::new(
        <Parkway as BlockingOps>::NAME,
        &[
            <Kanal as BlockingOps>::NAME,
            Crossbeam::NAME,
            TokioMpsc::NAME,
        ],
    );
    let rows = blocking_rows(opts.messages)
        .into_iter()
        .chain(async_rows(&rt, opts.messages))
        .chain(create_rows(opts.creates));
    let mut kept = 0;
    for row in rows {
        let keep = match &opts.filter {
            Some(f) => row.name().contains(f.as_str()),
            None => true,
        };
        if keep {
            cmp.push(row);
            kept += 1;
        }
    }
    if kept == 0 {
        eprintln!("chan_compare: no row matches the filter");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "chan_compare: {kept} workloads, {} messages per run, {} rounds{}",
        opts.messages,
        opts.rounds,
        if opts.messages == MESSAGES {
            ""
        } else {
            " (quick run: a smoke test, not a measurement)"
        }
    );
    let report = cmp.run(opts.rounds, &mut std::io::stderr());
    println!("{report}");
    ExitCode::SUCCESS
}

/// A cell that runs a blocking workload once.
fn blocking(workload: Workload, cap: usize, m: usize) -> impl FnMut() -> Duration {
    move || time(|| workload(cap, m))
}

/// crossbeam's workloads with blocking ends: capacities 0, 1 and n = messages.
fn blocking_rows(m: usize) -> Vec<Row<'static>> {
    let mut rows = Vec::new();
    for cap in [0, 1, m] {
        let label = capacity_label(cap, m);
        let row = |name: &str| Row::new(format!("blocking {name} {label}"), m as u64);
        if cap == m {
            // A single thread fills, then drains: only with room for all.
            rows.push(
                row("seq")
                    .cell("parkway", blocking(bw::seq::<Parkway>, cap, m))
                    .cell("kanal", blocking(bw::seq::<Kanal>, cap, m))
                    .cell("crossbeam", blocking(bw::seq::<Crossbeam>, cap, m)),
            );
        }
        let shared: [(&str, [Workload; 3]); 4] = [
            (
                "spsc",
                [
                    bw::spsc::<Parkway>,
                    bw::spsc::<Kanal>,
                    bw::spsc::<Crossbeam>,
                ],
            ),
            (
                "mpsc",
                [
                    bw::mpsc::<Parkway>,
                    bw::mpsc::<Kanal>,
                    bw::mpsc::<Crossbeam>,
                ],
            ),
            (
                "mpmc",
                [
                    bw::mpmc::<Parkway>,
                    bw::mpmc::<Kanal>,
                    bw::mpmc::<Crossbeam>,
                ],
            ),
            (
                "ping_pong",
                [
                    bw::ping_pong::<Parkway>,
                    bw::ping_pong::<Kanal>,
                    bw::ping_pong::<Crossbeam>,
                ],
            ),
        ];
        for (name, [parkway, kanal, crossbeam]) in shared {
            rows.push(
                row(name)
                    .cell("parkway", blocking(parkway, cap, m))
                    .cell("kanal", blocking(kanal, cap, m))
                    .cell("crossbeam", blocking(crossbeam, cap, m)),
            );
        }
        // kanal has no select.
        let select: [(&str, [Workload; 2]); 2] = [
            (
                "select_rx",
                [bw::select_rx::<Parkway>, bw::select_rx::<Crossbeam>],
            ),
            (
                "select_both",
                [bw::select_both::<Parkway>, bw::select_both::<Crossbeam>],
            ),
        ];
        for (name, [parkway, crossbeam]) in select {
            rows.push(
                row(name)
                    .cell("parkway", blocking(parkway, cap, m))
                    .cell("crossbeam", blocking(crossbeam, cap, m)),
            );
        }
    }
    rows
}

/// A cell that runs an async workload once on `rt`.
fn on_runtime<'a, F: Future<Output = ()> + 'a>(
    rt: &'a Runtime,
    workload: fn(usize, usize) -> F,
    cap: usize,
    m: usize,
) -> impl FnMut() -> Duration + 'a {
    move || time(|| rt.block_on(workload(cap, m)))
}

/// The async workloads, all on `rt`: capacities 0, 1 and 1024.
fn async_rows(rt: &Runtime, m: usize) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    for cap in [0, 1, 1024] {
        let label = capacity_label(cap, m);
        let row = |name: &str| Row::new(format!("async {name} {label}"), m as u64);
        let mut spsc = row("spsc")
            .cell("parkway", on_runtime(rt, aw::spsc::<Parkway>, cap, m))
            .cell("kanal", on_runtime(rt, aw::spsc::<Kanal>, cap, m));
        let mut mpsc = row("mpsc")
            .cell("parkway", on_runtime(rt, aw::mpsc::<Parkway>, cap, m))
            .cell("kanal", on_runtime(rt, aw::mpsc::<Kanal>, cap, m));
        // tokio's mpsc has no capacity 0 and no multi-consumer receiver.
        if cap > 0 {
            spsc = spsc.cell("tokio", on_runtime(rt, aw::spsc::<TokioMpsc>, cap, m));
            mpsc = mpsc.cell("tokio", on_runtime(rt, aw::mpsc::<TokioMpsc>, cap, m));
        }
        let mpmc = row("mpmc")
            .cell("parkway", on_runtime(rt, aw::mpmc::<Parkway>, cap, m))
            .cell("kanal", on_runtime(rt, aw::mpmc::<Kanal>, cap, m));
        rows.extend([spsc, mpsc, mpmc]);
    }
    rows
}

/// Creating (and dropping) a `bounded(1_000_000)` channel, `creates` times
/// per run.
fn create_rows(creates: usize) -> Vec<Row<'static>> {
    fn create_n<T>(creates: usize, make: fn(usize) -> T) -> impl FnMut() -> Duration {
        move || {
            time(|| {
                for _ in 0..creates {
                    drop(std::hint::black_box(make(CREATE_CAPACITY)));
                }
            })
        }
    }
    vec![Row::new(
        format!("create bounded({CREATE_CAPACITY}) + drop"),
        creates as u64,
    )
    .cell(
        "parkway",
        create_n(creates, <Parkway as BlockingOps>::bounded),
    )
    .cell("kanal", create_n(creates, <Kanal as BlockingOps>::bounded))
    .cell("crossbeam", create_n(creates, Crossbeam::bounded))
    .cell("tokio", create_n(creates, TokioMpsc::bounded))]
}
