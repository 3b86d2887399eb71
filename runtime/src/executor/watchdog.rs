//! The stall watchdog: notices a go worker stuck in one poll, reports the
//! task and the line that spawned it, and (strict mode) fails that task.
//!
//! Each worker publishes, with relaxed stores and no clock read, a
//! [`WorkerProbe`]: a poll counter bumped as each poll starts, and the
//! polled task's id and spawn location (never a pointer to the task, which
//! may be freed before the monitor looks). A monitor thread samples the
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

use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parkway_go_check::{GoCheck, Report};

use crate::context;
use crate::executor::Shared;
use crate::task::raw::Header;

/// What one worker publishes for the monitor.
#[derive(Debug, Default)]
pub(crate) struct WorkerProbe {
    /// Polls started so far; written by the worker only.
    polls: AtomicU64,
    /// The id of the task being polled (or last polled).
    task: AtomicU64,
    /// Where that task was spawned.
    location: AtomicPtr<Location<'static>>,
    /// Strict mode: the id of a task to fail after its poll, 0 for none.
    verdict: AtomicU64,
    /// How long, in ms, that task's poll had been stuck when judged.
    verdict_ms: AtomicU64,
}

impl WorkerProbe {
    /// Called by the worker as it starts polling `task`.
    #[inline]
    pub(crate) fn begin(&self, task: &Header) {
        // Only this worker writes `polls`: a load and a store, no RMW.
        let n = self.polls.load(Ordering::Relaxed);
        self.task.store(task.id.as_u64(), Ordering::Relaxed);
        self.location.store(
            task.location as *const Location<'static> as *mut Location<'static>,
            Ordering::Relaxed,
        );
        self.polls.store(n.wrapping_add(1), Ordering::Release);
    }
}

/// After a poll of task `id` on this thread's worker: the stall verdict the
/// monitor left for it, if any (strict mode), as the time it was stuck.
#[inline]
pub(crate) fn take_verdict(id: u64) -> Option<Duration> {
    let core = context::current_worker()?;
    let probe = core.probe();
    if probe.verdict.load(Ordering::Acquire) != id {
        return None;
    }
    probe.verdict.store(0, Ordering::Relaxed);
    Some(Duration::from_millis(
        probe.verdict_ms.load(Ordering::Relaxed),
    ))
}

/// What the monitor remembers about one worker.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The poll counter at the last change.
    polls: u64,
    /// When the counter was first seen at that value (or the worker asleep).
    since: Instant,
    /// Whether this stall has been reported.
    reported: bool,
}

/// The monitor thread's loop; returns at shutdown.
pub(crate) fn run_monitor(shared: Arc<Shared>) {
    let threshold = shared.config.stall_threshold;
    let strict = shared.config.go_check == GoCheck::Strict;
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
        })
        .collect();
    while !shared.is_shutdown() {
        let now = Instant::now();
        let mut all_asleep = true;
        for (worker, (remote, seen)) in shared.remotes.iter().zip(seen.iter_mut()).enumerate() {
            let polls = remote.probe.polls.load(Ordering::Acquire);
            let asleep = remote.parked.load(Ordering::Relaxed);
            all_asleep &= asleep;
            if asleep || polls != seen.polls {
                *seen = Seen {
                    polls,
                    since: now,
                    reported: false,
                };
                continue;
            }
            let stuck = now.duration_since(seen.since);
            if seen.reported || stuck < threshold {
                continue;
            }
            seen.reported = true;
            let task = remote.probe.task.load(Ordering::Relaxed);
            let location = remote.probe.location.load(Ordering::Relaxed);
            // These were stored before the counter value read above (with
            // Release/Acquire), so they describe the stuck poll; the second
            // read of the counter skips the rare case where the poll ended
            // just now and the next one began writing them.
            if location.is_null() || remote.probe.polls.load(Ordering::Acquire) != polls {
                continue;
            }
            // SAFETY: non-null values stored here are `&'static Location`s.
            let location: &'static Location<'static> = unsafe { &*location };
            if strict {
                remote
                    .probe
                    .verdict_ms
                    .store(stuck.as_millis() as u64, Ordering::Relaxed);
                remote.probe.verdict.store(task, Ordering::Release);
            }
            let report = Report::stall(
                shared.owned.describe(task),
                location,
                worker,
                stuck,
                threshold,
                strict,
            );
            match &shared.config.on_report {
                Some(hook) => {
                    let hook = Arc::clone(hook);
                    let r =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&report)));
                    if r.is_err() {
                        parkway_go_check::report(&report);
                    }
                }
                None => parkway_go_check::report(&report),
            }
        }
        let period = if all_asleep { idle_period } else { busy_period };
        shared.monitor_parker.park_until(Instant::now() + period);
    }
}
