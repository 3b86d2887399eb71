//! Interleaved comparison runs: the engine of the `chan_compare` binary.
//!
//! Criterion measures one benchmark after another, so on a shared machine a
//! burst of load from elsewhere lands on whichever peer happens to be running.
//! A [`Comparison`] instead runs every cell of every row once per round,
//! rotating the order of the cells each round, and reports the median of the
//! rounds: the noise falls on all peers alike and the ratios stay honest.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::time::{Duration, Instant};

/// One measurement of one cell: runs the workload once, returns its duration.
pub type Run<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Times one call of `f`.
pub fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// A row of the table: one workload, run by the baseline and some peers.
pub struct Row<'a> {
    name: String,
    ops: u64,
    cells: Vec<(&'static str, Run<'a>)>,
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("name", &self.name)
            .field("ops", &self.ops)
            .field(
                "cells",
                &self.cells.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<'a> Row<'a> {
    /// A row named `name` whose runs each perform `ops` operations (messages,
    /// or channels created); times are reported per operation.
    #[must_use]
    pub fn new(name: impl Into<String>, ops: u64) -> Self {
        Self {
            name: name.into(),
            ops,
            cells: Vec::new(),
        }
    }

    /// The row's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds the cell of column `column`; a column left out prints as `–`.
    #[must_use]
    pub fn cell(mut self, column: &'static str, run: impl FnMut() -> Duration + 'a) -> Self {
        self.cells.push((column, Box::new(run)));
        self
    }
}

/// A table of rows measured interleaved; the first column is the baseline
/// every other column is divided by.
#[derive(Debug)]
pub struct Comparison<'a> {
    columns: Vec<&'static str>,
    rows: Vec<Row<'a>>,
}

impl<'a> Comparison<'a> {
    /// A comparison of `baseline` against `peers`, in that column order.
    #[must_use]
    pub fn new(baseline: &'static str, peers: &[&'static str]) -> Self {
        let mut columns = vec![baseline];
        columns.extend_from_slice(peers);
        Self {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    ///
    /// # Panics
    /// If the row has a cell for a column the comparison does not have.
    pub fn push(&mut self, row: Row<'a>) {
        for (column, _) in &row.cells {
            assert!(
                self.columns.contains(column),
                "row {:?}: unknown column {column:?}",
                row.name
            );
        }
        self.rows.push(row);
    }

    /// Runs `rounds` rounds of every cell of every row, one at a time, the
    /// cells of each row in an order rotated every round; a line per round goes
    /// to `progress`.
    ///
    /// # Panics
    /// If a workload panics.
    pub fn run(mut self, rounds: usize, progress: &mut impl Write) -> Report {
        let mut samples: Vec<Vec<Vec<f64>>> = self
            .rows
            .iter()
            .map(|r| vec![Vec::with_capacity(rounds); r.cells.len()])
            .collect();
        for round in 0..rounds {
            let started = Instant::now();
            for (row, row_samples) in self.rows.iter_mut().zip(&mut samples) {
                let n = row.cells.len();
                for k in 0..n {
                    let i = (k + round) % n;
                    let elapsed = (row.cells[i].1)();
                    // Lossless: nanoseconds and op counts stay far below 2^52.
                    #[allow(clippy::cast_precision_loss)]
                    let per_op = elapsed.as_nanos() as f64 / row.ops as f64;
                    row_samples[i].push(per_op);
                }
            }
            // Progress is best effort: a closed stderr must not stop the run.
            let _ = writeln!(
                progress,
                "round {}/{rounds} done in {:.1?}",
                round + 1,
                started.elapsed()
            );
        }
        let rows = self
            .rows
            .iter()
            .zip(samples)
            .map(|(row, row_samples)| {
                let medians = self
                    .columns
                    .iter()
                    .map(|col| {
                        row.cells
                            .iter()
                            .position(|(c, _)| c == col)
                            .map(|i| median(&mut row_samples[i].clone()))
                    })
                    .collect();
                (row.name.clone(), medians)
            })
            .collect();
        Report {
            columns: self.columns,
            rounds,
            rows,
        }
    }
}

/// The medians of a [`Comparison`]; its `Display` is a markdown table.
#[derive(Debug)]
pub struct Report {
    columns: Vec<&'static str>,
    rounds: usize,
    /// Per row: its name and, per column, the median ns/op if it ran.
    rows: Vec<(String, Vec<Option<f64>>)>,
}

impl Report {
    /// The median ns/op of `column` in row `row`, if that cell ran.
    #[must_use]
    pub fn median(&self, row: &str, column: &str) -> Option<f64> {
        let c = self.columns.iter().position(|&x| x == column)?;
        let (_, medians) = self.rows.iter().find(|(name, _)| name == row)?;
        medians[c]
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (baseline, peers) = self.columns.split_first().expect("a baseline column");
        let mut header = format!("| workload | {baseline} ns/op |");
        let mut rule = String::from("|---|---:|");
        for peer in peers {
            write!(header, " {peer} ns/op |")?;
            rule.push_str("---:|");
        }
        for peer in peers {
            write!(header, " {peer} ÷ {baseline} |")?;
            rule.push_str("---:|");
        }
        writeln!(f, "{header}\n{rule}")?;
        for (name, medians) in &self.rows {
            write!(f, "| {name} |")?;
            for m in medians {
                match m {
                    Some(ns) => write!(f, " {} |", fmt_ns(*ns))?,
                    None => write!(f, " – |")?,
                }
            }
            for m in &medians[1..] {
                match (medians[0], m) {
                    (Some(base), Some(peer)) if base > 0.0 => {
                        write!(f, " {} |", fmt_ratio(peer / base))?;
                    }
                    _ => write!(f, " – |")?,
                }
            }
            writeln!(f)?;
        }
        write!(
            f,
            "\nMedians of {} interleaved rounds; ratio above 1 = {baseline} faster.",
            self.rounds
        )
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.1}")
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 0.1 {
        format!("{r:.2}")
    } else {
        format!("{r:.1e}")
    }
}

/// The median of `xs` (mean of the middle two for an even count); sorts
/// `xs`.
///
/// # Panics
/// If `xs` is empty.
pub fn median(xs: &mut [f64]) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        assert!((median(&mut [3.0, 1.0, 2.0]) - 2.0).abs() < f64::EPSILON);
        assert!((median(&mut [4.0, 1.0, 3.0, 2.0]) - 2.5).abs() < f64::EPSILON);
    }

    #[test]
    fn report_ratios_and_missing_cells() {
        let mut cmp = Comparison::new("base", &["peer", "other"]);
        cmp.push(
            Row::new("w", 10)
                .cell("base", || Duration::from_nanos(100))
                .cell("peer", || Duration::from_nanos(300)),
        );
        let report = cmp.run(3, &mut std::io::sink());
        assert_eq!(report.median("w", "base"), Some(10.0));
        assert_eq!(report.median("w", "peer"), Some(30.0));
        assert_eq!(report.median("w", "other"), None);
        let table = report.to_string();
        assert!(
            table.contains("| w | 10.0 | 30.0 | – | 3.00 | – |"),
            "{table}"
        );
    }
}
