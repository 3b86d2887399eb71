//! The stall watchdog: notices a go worker stuck in one poll, reports the
//! task and the line that spawned it, and (strict mode) fails that task.
//!
//! Each worker publishes, with plain stores and no clock read, a
//! [`WorkerProbe`]: a poll counter bumped as each poll starts and ends, and
//! the polled task's id (never a pointer to the task, which may be freed
//! before the monitor looks). A monitor thread samples the
//! counters, as Go's sysmon samples its schedtick: a worker that is not
//! asleep and shows the same counter for longer than the threshold is
//! stuck in that poll. It is reported once per stall, through the runtime's
//! `on_go_check_report` hook or go-check's process-wide reporter. In
//! `Strict` mode the monitor also leaves a verdict in the probe; the worker
//! reads it with one load after each poll and completes the task with a
//! `JoinError` whose `is_stalled()` is true.
//!
//! What the watchdog cannot tell apart: a worker the operating system did
//! not schedule for longer than the threshold looks stuck too.

use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parkway_go_check::{GoCheck, Report};

use crate::builder::Config;
use crate::executor::handoff::{Handoff, Refused};
use crate::executor::stacks;
use crate::executor::worker::WATCHDOG;
use crate::executor::{Shared, ACTIVE, FREE};
use crate::task::raw::Header;

/// What one worker publishes for the monitor: a sequence word and the id
/// of the polled task, as a seqlock. The word is even between polls and
/// odd inside one: per poll the worker writes the task's id, then moves
/// `seq` from `2k` to `2k + 1` (Release), and after the poll to `2k + 2`
/// followed by a Release fence, so a monitor that reads an id written by a
/// later poll also sees `seq` move on (see `run_monitor`). Only an odd
/// `seq` held for longer than the threshold is a stall, so a worker
/// between polls (waking up, firing timers, searching) is never blamed on
/// the task it polled last. The task's name and spawn location are looked
/// up by id, in the live-task list, only when a stall is reported.
#[derive(Debug, Default)]
pub(crate) struct WorkerProbe {
    /// The sequence word; written by the worker only.
    seq: AtomicU64,
    /// The id of the task being polled.
    task: AtomicU64,
    /// Strict mode: the `seq` of a poll to fail when it returns, 0 for
    /// none. Keyed by the poll, not the task: a verdict that lands after
    /// its poll ended matches no later poll.
    verdict: AtomicU64,
    /// How long, in ms, that poll had been stuck when judged.
    verdict_ms: AtomicU64,
}

impl WorkerProbe {
    /// Called by the worker as it starts polling `task`; `base` is the
    /// (even) sequence word between polls, which only this worker writes:
    /// it keeps a copy, so there is nothing to load.
    #[inline]
    pub(crate) fn begin(&self, task: &Header, base: u64) {
        self.task.store(task.id.as_u64(), Ordering::Relaxed);
        self.seq.store(base | 1, Ordering::Release);
    }

    /// Called by the worker after the poll returned; the word becomes
    /// `base + 2`.
    #[inline]
    pub(crate) fn end(&self, base: u64) {
        self.seq.store(base + 2, Ordering::Relaxed);
        // Orders the store above before the next poll's id store.
        fence(Ordering::Release);
    }

    /// The sequence word (see the type's doc).
    pub(crate) fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// After a poll on this probe's worker, before [`end`](Self::end): the
    /// stall verdict the monitor left for this very poll, if any (strict
    /// mode), as the time it was stuck.
    #[inline]
    pub(crate) fn take_verdict(&self) -> Option<Duration> {
        let verdict = self.verdict.load(Ordering::Acquire);
        if verdict == 0 || verdict != self.seq.load(Ordering::Relaxed) {
            return None;
        }
        self.verdict.store(0, Ordering::Relaxed);
        Some(Duration::from_millis(
            self.verdict_ms.load(Ordering::Relaxed),
        ))
    }
}

/// How long the monitor waits for a stuck thread to answer the live-stack
/// signal.
const STACK_TIMEOUT: Duration = Duration::from_millis(250);

/// What the monitor remembers about one worker.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The sequence word at the last change.
    polls: u64,
    /// When the counter was first seen at that value (or the worker asleep).
    since: Instant,
    /// Whether this stall has been reported.
    reported: bool,
    /// Whether this stall's work was handed to another thread.
    handed_off: bool,
}

/// Whether a runtime with `config` runs the monitor: go-check reports
/// stalls, or the hand-off compensates them (never with the bench-only
/// `bench-no-watchdog` feature).
pub(crate) fn needed(config: &Config) -> bool {
    WATCHDOG
        && (config.go_check != GoCheck::Off
            || (config.compensate && config.compensation_threads > 0))
}

/// The monitor thread's loop; returns at shutdown.
pub(crate) fn run_monitor(shared: Arc<Shared>) {
    let threshold = shared.config.stall_threshold;
    let report = shared.config.go_check != GoCheck::Off;
    let strict = shared.config.go_check == GoCheck::Strict;
    let compensate = shared.config.compensate && shared.config.compensation_threads > 0;
    // Sample four times per threshold (1 ms to 25 ms), back off to 100 ms
    // while every worker sleeps.
    let busy_period = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(25));
    let idle_period = Duration::from_millis(100).max(busy_period);
    let now = Instant::now();
    let mut seen: Vec<Seen> = shared
        .remotes
        .iter()
        .map(|_| Seen {
            polls: 0,
            since: now,
            reported: false,
            handed_off: false,
        })
        .collect();
    while !shared.is_shutdown() {
        let now = Instant::now();
        let mut all_asleep = true;
        let slots = shared.slots_in_use();
        for (worker, (remote, seen)) in slots.iter().zip(seen.iter_mut()).enumerate() {
            let probe = &remote.own.probe;
            let role = remote.own.role.load(Ordering::Acquire);
            let seq = probe.seq.load(Ordering::Acquire);
            let asleep = remote.parked.load(Ordering::Relaxed);
            if role == ACTIVE {
                all_asleep &= asleep;
            }
            if role == FREE || asleep || seq % 2 == 0 || seq != seen.polls {
                *seen = Seen {
                    polls: seq,
                    since: now,
                    reported: false,
                    handed_off: false,
                };
                continue;
            }
            let stuck = now.duration_since(seen.since);
            if stuck < threshold || (seen.reported || !report) && (seen.handed_off || !compensate) {
                continue;
            }
            // Seqlock read: the id belongs to poll `seq` if `seq` is
            // unchanged after reading it (the Acquire load of `seq` above
            // sees that poll's id store; a later poll's id store comes after
            // `end`'s store and Release fence, which this fence then makes
            // visible).
            let task = probe.task.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if probe.seq.load(Ordering::Relaxed) != seq {
                continue;
            }
            // Hand the stuck worker's work to another thread first: that is
            // what keeps the program going.
            let mut outcome = None;
            if compensate && !seen.handed_off && role == ACTIVE {
                outcome = Some(Handoff::compensate(&shared, worker, seq));
                // A refusal is tried again at the next sample (a spare slot
                // may free up), but reported once.
                seen.handed_off = matches!(outcome, Some(Ok(())));
            }
            if !report || seen.reported {
                continue;
            }
            // The task is live while it is being polled; if it is gone, the
            // poll ended since the check above.
            let Some((task, location)) = shared.owned.describe(task) else {
                continue;
            };
            seen.reported = true;
            if strict {
                probe
                    .verdict_ms
                    .store(stuck.as_millis() as u64, Ordering::Relaxed);
                probe.verdict.store(seq, Ordering::Release);
            }
            let mut report = Report::stall(task, location, worker, stuck, threshold, strict);
            match outcome {
                Some(Ok(())) => report.message.push_str(
                    ". Meanwhile another thread took over the rest of this worker's tasks \
                     (Builder::compensate)",
                ),
                Some(Err(Refused::NoSpare)) => report.message.push_str(&format!(
                    ". No thread could take over this worker's other tasks: all {} \
                     compensation threads are in use (Builder::compensation_threads)",
                    shared.config.compensation_threads
                )),
                Some(Err(Refused::Spawn(e))) => report.message.push_str(&format!(
                    ". No thread could take over this worker's other tasks: the OS refused \
                     a thread ({e})"
                )),
                Some(Err(Refused::Shutdown)) | None => {}
            }
            if stacks::enabled() {
                match shared.stacks[worker].capture(STACK_TIMEOUT) {
                    Ok(stack) => report.stack = Some(stack),
                    Err(why) => report.message.push_str(&format!(". No live stack: {why}")),
                }
            } else if cfg!(target_os = "linux") {
                report
                    .message
                    .push_str(". Set PARKWAY_GO_CHECK_BACKTRACE=1 to see the stuck thread's stack");
            }
            deliver(&shared, &report);
        }
        let period = if all_asleep { idle_period } else { busy_period };
        shared.monitor_parker.park_until(Instant::now() + period);
    }
}

/// Sends a report to the runtime's hook, or to go-check's reporter; a
/// panicking hook (and a panicking drop of its payload) is caught, and the
/// report then goes to go-check's reporter.
fn deliver(shared: &Shared, report: &Report) {
    #[cfg(feature = "tracing")]
    trace(report);
    let Some(hook) = shared.config.on_report.clone() else {
        parkway_go_check::report(report);
        return;
    };
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(report))) {
        crate::task::raw::drop_reporting("a report hook's panic payload", payload);
        parkway_go_check::report(report);
    }
}

/// Emits `report` as a `tracing` event (target `parkway::go_check`, level
/// WARN), with its facts as fields.
#[cfg(feature = "tracing")]
fn trace(report: &Report) {
    tracing::warn!(
        target: "parkway::go_check",
        kind = ?report.kind,
        task = report.task.as_deref().unwrap_or(""),
        location = %report.location.map(|l| l.to_string()).unwrap_or_default(),
        worker = report.worker.map(|w| w as u64),
        elapsed_ms = report.elapsed.map(|d| d.as_millis() as u64),
        threshold_ms = report.threshold.map(|d| d.as_millis() as u64),
        "{}",
        report.message
    );
}
