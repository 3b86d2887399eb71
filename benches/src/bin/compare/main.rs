//! `compare`: parkway's runtime against tokio's multi-thread runtime on the
//! scheduler workloads of `parkway_benches::rt`, interleaved, in one
//! process; prints a markdown table of medians and ratios for
//! `docs/BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p parkway-benches --bin compare [-- --quick] [--rounds N] [--filter TEXT] [--workers N]
//! ```
//!
//! # What runs
//!
//! For each worker configuration — 4 workers (tokio's
//! `rt_multi_threaded.rs`) and one per core, or only `--workers N` — one
//! parkway and one tokio runtime are built with that many workers and kept
//! for every round, as criterion keeps tokio's runtime across iterations.
//! Each round runs every workload once on each runtime, parkway first in
//! even rounds and tokio first in odd ones, so that load from elsewhere on
//! the machine falls on both alike. A run of a workload is one untimed
//! warm-up iteration (none for `sleeps_1m`, which runs once) and then
//! [`Workload::iterations`] timed ones (a quarter under `--quick`); the
//! table gives the median over the rounds of
//! the time per iteration. `sleeps_1m` times itself: its time is the sum
//! of its two measured phases (spawn + register, expiry), without the idle
//! wait for the first deadline between them (see `parkway_benches::rt`);
//! a round that could not register every sleep before the first deadline
//! is discarded and run again with a longer margin, with a note on stderr.
//! The `busy` workloads start their background load on the runtime about
//! to be measured and stop it (and wait for it to exit) when the run ends,
//! so it never competes with the other runtime.
//!
//! The workloads are documented in `parkway_benches::rt`: what each does,
//! which of tokio's benches it follows, and where the two programs differ
//! (parkway's `block_on` thread, like tokio's, is not a worker, so spawns
//! from it are remote spawns in both; parkway's one-shot is a
//! `chan::bounded(1)` where tokio has `sync::oneshot`).
//!
//! The last row, `idle_task_bytes`, is not a time: the heap bytes one
//! spawned task holds while parked on a one-shot channel, counted by this
//! binary's global allocator ([`counting_alloc`], the one place with
//! `unsafe` in the bench crate) over [`IDLE_TASKS`] tasks on an already
//! warmed runtime, baseline subtracted; the median of the rounds.
//!
//! `--quick` runs 3 rounds instead of 10 and a quarter of the iterations (a
//! smoke test, not a measurement); `--filter` keeps the workloads whose
//! name contains TEXT; `--rounds` sets the number of rounds.
#![deny(unsafe_code)]

mod counting_alloc;

use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::Duration;

use counting_alloc::{CountingAlloc, Meter};
use parkway_benches::compare::{median, Comparison, Report, Row};
use parkway_benches::rt::{
    cores, parkway_impl, tokio_impl, worker_configs, BusyLoad, Workload, IDLE_TASKS,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Rounds without `--rounds`.
const ROUNDS: usize = 10;

/// Rounds under `--quick` without `--rounds`.
const QUICK_ROUNDS: usize = 3;

/// The name of the bytes-per-task row.
const IDLE_BYTES: &str = "idle_task_bytes";

struct Options {
    quick: bool,
    rounds: Option<usize>,
    filter: Option<String>,
    workers: Option<usize>,
}

impl Options {
    fn rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.quick { QUICK_ROUNDS } else { ROUNDS })
    }

    fn keeps(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    fn iterations(&self, workload: Workload) -> u64 {
        if self.quick {
            (workload.iterations() / 4).max(1)
        } else {
            workload.iterations()
        }
    }
}

fn positive(arg: Option<String>, flag: &str) -> Result<usize, String> {
    arg.and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{flag} needs a positive number"))
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        quick: false,
        rounds: None,
        filter: None,
        workers: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--rounds" => opts.rounds = Some(positive(args.next(), "--rounds")?),
            "--workers" => opts.workers = Some(positive(args.next(), "--workers")?),
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
                "compare: {e}\nusage: compare [--quick] [--rounds N] [--filter TEXT] [--workers N]"
            );
            return ExitCode::FAILURE;
        }
    };
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| opts.keeps(w.name()))
        .collect();
    let idle_bytes = opts.keeps(IDLE_BYTES);
    if workloads.is_empty() && !idle_bytes {
        eprintln!("compare: no workload matches the filter");
        return ExitCode::FAILURE;
    }
    let configs: Vec<(String, usize)> = match opts.workers {
        Some(n) => vec![(n.to_string(), n)],
        None => {
            let mut configs: Vec<(String, usize)> = Vec::new();
            for (label, n) in worker_configs() {
                // One per core may be 4 already.
                if configs.iter().all(|&(_, m)| m != n) {
                    let label = if label == "ncpu" {
                        format!("{n} (ncpu)")
                    } else {
                        n.to_string()
                    };
                    configs.push((label, n));
                }
            }
            configs
        }
    };
    eprintln!(
        "compare: {} workloads{}, {} rounds, workers {:?}{}",
        workloads.len(),
        if idle_bytes { " + idle_task_bytes" } else { "" },
        opts.rounds(),
        configs.iter().map(|&(_, n)| n).collect::<Vec<_>>(),
        if opts.quick {
            " (quick run: a smoke test, not a measurement)"
        } else {
            ""
        }
    );

    let mut table = Table::default();
    for (label, workers) in &configs {
        let parkway = parkway_impl::runtime(*workers);
        let tokio = tokio_impl::runtime(*workers);
        eprintln!("compare: {workers} workers");
        if !workloads.is_empty() {
            let report = time_rows(&opts, &workloads, *workers, &parkway, &tokio);
            for w in &workloads {
                table.push(
                    w.name(),
                    label,
                    report.median(w.name(), "parkway").map(Cell::Nanos),
                    report.median(w.name(), "tokio").map(Cell::Nanos),
                );
            }
        }
        if idle_bytes {
            let (p, t) = idle_task_bytes(opts.rounds(), &parkway, &tokio);
            table.push(
                IDLE_BYTES,
                label,
                Some(Cell::Bytes(p)),
                Some(Cell::Bytes(t)),
            );
        }
    }
    println!("{}", header());
    println!("{}", table.render(opts.rounds()));
    ExitCode::SUCCESS
}

/// Runs every workload on both runtimes, interleaved, `rounds` times.
fn time_rows(
    opts: &Options,
    workloads: &[Workload],
    workers: usize,
    parkway: &parkway::Runtime,
    tokio: &tokio::runtime::Runtime,
) -> Report {
    let mut cmp = Comparison::new("parkway", &["tokio"]);
    for &w in workloads {
        let iters = opts.iterations(w);
        cmp.push(
            Row::new(w.name(), iters)
                .cell(
                    "parkway",
                    cell(
                        parkway,
                        w,
                        workers,
                        iters,
                        parkway_impl::run,
                        parkway_impl::time_iters,
                        parkway_impl::background,
                    ),
                )
                .cell(
                    "tokio",
                    cell(
                        tokio,
                        w,
                        workers,
                        iters,
                        tokio_impl::run,
                        tokio_impl::time_iters,
                        tokio_impl::background,
                    ),
                ),
        );
    }
    cmp.run(opts.rounds(), &mut std::io::stderr())
}

/// One run of `workload` on `rt`: background load up, one warm-up
/// iteration (unless `iters` is 1: the rounds' median absorbs a cold first
/// run, and a second million sleeps would double the cost), `iters` timed
/// ones, background load down. The time is `time_iters`': the loop's
/// wall-clock time, or for `sleeps_1m` the sum of its measured phases.
fn cell<'a, R>(
    rt: &'a R,
    workload: Workload,
    workers: usize,
    iters: u64,
    run: fn(&R, Workload),
    time_iters: fn(&R, Workload, u64) -> Duration,
    background: fn(&R, Workload, usize) -> Option<BusyLoad>,
) -> impl FnMut() -> Duration + 'a {
    move || {
        let load = background(rt, workload, workers);
        if iters > 1 {
            run(rt, workload);
        }
        let elapsed = time_iters(rt, workload, iters);
        drop(load);
        elapsed
    }
}

/// The median bytes per idle task on each runtime over `rounds` rounds,
/// alternating which goes first, after one unrecorded warm-up each.
fn idle_task_bytes(
    rounds: usize,
    parkway: &parkway::Runtime,
    tokio: &tokio::runtime::Runtime,
) -> (f64, f64) {
    let meter = Meter;
    parkway_impl::idle_task_bytes(parkway, &meter);
    tokio_impl::idle_task_bytes(tokio, &meter);
    let mut p = Vec::with_capacity(rounds);
    let mut t = Vec::with_capacity(rounds);
    for round in 0..rounds {
        if round % 2 == 0 {
            p.push(parkway_impl::idle_task_bytes(parkway, &meter));
            t.push(tokio_impl::idle_task_bytes(tokio, &meter));
        } else {
            t.push(tokio_impl::idle_task_bytes(tokio, &meter));
            p.push(parkway_impl::idle_task_bytes(parkway, &meter));
        }
    }
    eprintln!("idle_task_bytes: {rounds} rounds of {IDLE_TASKS} tasks done");
    (median(&mut p), median(&mut t))
}

/// A measured value: nanoseconds per iteration, or bytes per task.
#[derive(Clone, Copy)]
enum Cell {
    Nanos(f64),
    Bytes(f64),
}

impl Cell {
    fn value(self) -> f64 {
        match self {
            Self::Nanos(x) | Self::Bytes(x) => x,
        }
    }

    fn render(self) -> String {
        match self {
            Self::Bytes(b) => format!("{b:.0} B"),
            Self::Nanos(ns) if ns >= 1e8 => format!("{:.0} ms", ns / 1e6),
            Self::Nanos(ns) if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
            Self::Nanos(ns) if ns >= 1e3 => format!("{:.1} µs", ns / 1e3),
            Self::Nanos(ns) => format!("{ns:.0} ns"),
        }
    }
}

/// The rows of the final table, in the order measured.
#[derive(Default)]
struct Table {
    rows: Vec<(&'static str, String, Option<Cell>, Option<Cell>)>,
}

impl Table {
    fn push(
        &mut self,
        workload: &'static str,
        workers: &str,
        parkway: Option<Cell>,
        tokio: Option<Cell>,
    ) {
        self.rows
            .push((workload, workers.to_owned(), parkway, tokio));
    }

    /// Rows grouped by workload, each workload's worker counts together.
    fn render(&self, rounds: usize) -> String {
        let mut names: Vec<&str> = Vec::new();
        for (name, ..) in &self.rows {
            if !names.contains(name) {
                names.push(name);
            }
        }
        let mut out = String::from(
            "| workload | workers | parkway | tokio | tokio ÷ parkway |\n|---|---:|---:|---:|---:|\n",
        );
        for name in names {
            for (_, workers, p, t) in self.rows.iter().filter(|r| r.0 == name) {
                let show = |c: &Option<Cell>| c.map_or_else(|| "–".to_owned(), |c| c.render());
                let ratio = match (p, t) {
                    (Some(p), Some(t)) if p.value() > 0.0 => {
                        format!("{:.2}", t.value() / p.value())
                    }
                    _ => "–".to_owned(),
                };
                // Writing to a String cannot fail.
                let _ = writeln!(
                    out,
                    "| {name} | {workers} | {} | {} | {ratio} |",
                    show(p),
                    show(t)
                );
            }
        }
        let _ = write!(
            out,
            "\nTimes are per iteration, medians of {rounds} interleaved rounds; \
             {IDLE_BYTES} is heap bytes per parked task (median of {rounds} rounds \
             of {IDLE_TASKS} tasks). Ratio above 1 = parkway faster (or smaller)."
        );
        out
    }
}

/// Date, machine, commit and compiler, as `docs/BENCHMARKS.md` records
/// them.
fn header() -> String {
    let date = command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown".into());
    let commit = command("git", &["rev-parse", "--short", "HEAD"]).map_or_else(
        || "unknown".to_owned(),
        |c| {
            // `git diff --quiet` exits 1 when the tree has changes.
            let dirty = Command::new("git")
                .args(["diff", "--quiet", "HEAD"])
                .status()
                .is_ok_and(|s| s.code() == Some(1));
            if dirty {
                format!("{c} (with uncommitted changes)")
            } else {
                c
            }
        },
    );
    let rustc = command("rustc", &["--version"]).unwrap_or_else(|| "unknown".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .map_or_else(String::new, |m| format!(", {m}"));
    let tokio = tokio_version().map_or_else(|| "tokio".to_owned(), |v| format!("tokio {v}"));
    format!(
        "parkway vs {tokio}: scheduler workloads\n\n\
         - date: {date}\n- machine: {} cores{cpu}\n- commit: {commit}\n- rustc: {rustc}\n",
        cores()
    )
}

/// tokio's version as locked in the workspace's `Cargo.lock`, if it can be
/// read from here.
fn tokio_version() -> Option<String> {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    lines.find(|l| *l == "name = \"tokio\"")?;
    let version = lines.next()?.strip_prefix("version = \"")?;
    Some(version.trim_end_matches('"').to_owned())
}

/// The trimmed standard output of `program args`, if it ran and succeeded.
fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
