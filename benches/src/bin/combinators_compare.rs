//! `combinators_compare`: parkway's combinators (pipeline family, mult,
//! `thread`) against the closest tokio programs, interleaved, in one
//! process; prints a markdown table of medians and ratios for
//! `docs/BENCHMARKS.md`. The workloads and their peers are described in
//! `parkway_benches::combinators`.
//!
//! ```text
//! cargo run --release -p parkway-benches --bin combinators_compare [-- --quick] [--rounds N] [--filter TEXT]
//! ```
//!
//! Both runtimes get one worker per core and are kept for every round.
//! Each measurement is one untimed warm-up run followed by a timed one.
//! Each run is checked (the pipelines' sums or order, the taps' sums), so a
//! broken program fails instead of timing fast. After the table, the
//! `pipeline_blocking` speed-up of n = 16 over n = 1 is printed for each
//! runtime (the issue expects about 16×).
//!
//! `--quick` runs 3 rounds with a tenth of the pipeline items (a smoke
//! test, not a measurement); `--rounds` defaults to 7.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use parkway_benches::combinators::{
    cheap_sum, parkway_impl as pk, tokio_impl as tk, BLOCKING_ITEMS, MULT_VALUES, PIPELINE_ITEMS,
    ROUND_TRIPS, TAPS,
};
use std::time::Duration;

use parkway_benches::compare::{time, Comparison, Row};
use parkway_benches::rt::cores;

struct Options {
    rounds: usize,
    items: u64,
    filter: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        rounds: 7,
        items: PIPELINE_ITEMS,
        filter: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                opts.rounds = 3;
                opts.items = PIPELINE_ITEMS / 10;
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

/// One measurement: an untimed warm-up run of `work`, then a timed one (as
/// `compare` does). Without it, a workload right after a sleep-heavy one
/// (`pipeline_blocking`) measured its first run on cold threads: `mult`'s
/// took 2 to 5 times its usual time in that position, on parkway's side
/// only.
fn warm(mut work: impl FnMut()) -> Duration {
    work();
    time(work)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("combinators_compare: {e}\nusage: combinators_compare [--quick] [--rounds N] [--filter TEXT]");
            return ExitCode::FAILURE;
        }
    };
    let workers = cores();
    let prt = parkway::Runtime::builder()
        .worker_threads(workers)
        .build()
        .expect("a parkway runtime");
    let trt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (prt, trt) = (&prt, &trt);
    let items = opts.items;
    let want = cheap_sum(items);
    let mut cmp = Comparison::new("parkway", &["tokio lanes", "tokio buffered", "tokio"]);
    let mut rows: Vec<Row<'_>> = Vec::new();
    for n in [1usize, 2, 4] {
        rows.push(
            Row::new(format!("pipeline n={n} ({items} items)"), items)
                .cell("parkway", move || {
                    warm(|| assert_eq!(pk::pipeline(prt, n, items), want))
                })
                .cell("tokio lanes", move || {
                    warm(|| assert_eq!(tk::pipeline_lanes(trt, n, items), want))
                })
                .cell("tokio buffered", move || {
                    warm(|| assert_eq!(tk::pipeline_buffered(trt, n, items), want))
                }),
        );
    }
    for n in [1usize, 16] {
        rows.push(
            Row::new(
                format!("pipeline_blocking n={n} ({BLOCKING_ITEMS} × 1 ms)"),
                BLOCKING_ITEMS,
            )
            .cell("parkway", move || {
                warm(|| assert_eq!(pk::pipeline_blocking(prt, n), BLOCKING_ITEMS))
            })
            .cell("tokio buffered", move || {
                warm(|| assert_eq!(tk::pipeline_blocking(trt, n), BLOCKING_ITEMS))
            }),
        );
    }
    let mult_sum = TAPS as u64 * (MULT_VALUES * (MULT_VALUES - 1) / 2);
    rows.push(
        Row::new(
            format!("mult {TAPS} taps ({MULT_VALUES} values)"),
            MULT_VALUES,
        )
        .cell("parkway", move || {
            warm(|| assert_eq!(pk::mult(prt), mult_sum))
        })
        .cell("tokio", move || {
            warm(|| assert_eq!(tk::broadcast(trt), mult_sum))
        }),
    );
    let rt_sum = ROUND_TRIPS * (ROUND_TRIPS - 1) / 2;
    rows.push(
        Row::new("thread round trip", ROUND_TRIPS)
            .cell("parkway", move || {
                warm(|| assert_eq!(pk::thread_round_trip(prt), rt_sum))
            })
            .cell("tokio", move || {
                warm(|| assert_eq!(tk::thread_round_trip(trt), rt_sum))
            }),
    );
    let mut kept = 0;
    for row in rows {
        if opts
            .filter
            .as_deref()
            .is_none_or(|f| row.name().contains(f))
        {
            cmp.push(row);
            kept += 1;
        }
    }
    if kept == 0 {
        eprintln!("combinators_compare: no row matches the filter");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "combinators_compare: {kept} workloads, {workers} workers each, {} rounds{}",
        opts.rounds,
        if items == PIPELINE_ITEMS {
            ""
        } else {
            " (quick run: a smoke test, not a measurement)"
        }
    );
    let report = cmp.run(opts.rounds, &mut std::io::stderr());
    println!("{report}");
    for (col, label) in [("parkway", "parkway"), ("tokio buffered", "tokio")] {
        let one = report.median(
            &format!("pipeline_blocking n=1 ({BLOCKING_ITEMS} × 1 ms)"),
            col,
        );
        let sixteen = report.median(
            &format!("pipeline_blocking n=16 ({BLOCKING_ITEMS} × 1 ms)"),
            col,
        );
        if let (Some(one), Some(sixteen)) = (one, sixteen) {
            println!(
                "pipeline_blocking speed-up n=16 over n=1, {label}: {:.1}×",
                one / sixteen
            );
        }
    }
    ExitCode::SUCCESS
}
