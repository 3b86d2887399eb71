//! Scheduler workloads: parkway's runtime side by side with tokio's
//! multi-thread runtime.
//!
//! Every workload is written twice with the same program shape, once in
//! [`parkway_impl`] against `parkway::Runtime` and once in [`tokio_impl`]
//! against `tokio::runtime::Runtime`; a function call is one iteration.
//! [`Workload`] names them all, so the criterion bench
//! (`benches/rt_multi_threaded.rs`) and the `compare` binary walk the same
//! list.
//!
//! # Where the workloads come from
//!
//! The first seven follow tokio's `benches/rt_multi_threaded.rs` with its
//! parameters ([`NUM_SPAWN`], [`STALL`], …) and its shapes:
//!
//! - `spawn_many_local`: inside `block_on`, spawn [`NUM_SPAWN`] empty tasks
//!   that count down; the last one signals a std `sync_channel` that the
//!   `block_on` future itself waits on, blocking its thread.
//! - `spawn_many_remote_idle`: the bench thread spawns [`NUM_SPAWN`] empty
//!   tasks through the runtime handle, then awaits every `JoinHandle` in
//!   `block_on`.
//! - `spawn_many_remote_busy1`: the same while `2 × workers` background
//!   tasks loop `{ yield; spin STALL }` (tokio: `2 * NUM_WORKERS`).
//! - `spawn_many_remote_busy2`: [`BUSY2_SPAWN`] remote spawns while
//!   `workers` background chains spin [`STALL`] and then spawn their own
//!   successor (tokio: `NUM_WORKERS` chains).
//! - `ping_pong`: a task spawns [`NUM_PINGS`] tasks; each makes two one-shot
//!   channels, spawns a child that awaits the first and answers on the
//!   second, sends, awaits the answer and counts down.
//! - `yield_many`: the bench thread spawns [`YIELD_TASKS`] tasks that each
//!   yield [`NUM_YIELD`] times and then signal; it waits for all signals
//!   outside `block_on`.
//! - `chained_spawn`: a chain of [`CHAIN_LENGTH`] tasks, each spawning the
//!   next from its (synchronous) body; the last signals.
//!
//! tokio's background load runs for the whole criterion benchmark and is
//! stopped by clearing a flag; here it is a [`BusyLoad`], started before a
//! benchmark (or a `compare` cell) and stopped — flag cleared *and* every
//! loop seen to exit — right after, so that it never spins while the other
//! runtime is measured.
//!
//! The others are ours:
//!
//! - `chan_ping_pong`: [`ROUND_TRIPS`] round trips between two go blocks
//!   over a pair of capacity-1 channels.
//! - `mpsc_contention` and `mpsc_contention_full`: tokio's
//!   `benches/sync_mpsc.rs` `contention/bounded` and
//!   `contention/bounded_full`: inside `block_on`, a fresh channel of
//!   capacity [`CONTENTION_CAPACITY`] (resp. [`CONTENTION_FULL_CAPACITY`]),
//!   [`PRODUCERS`] spawned producers sending [`PER_PRODUCER`] values each,
//!   and the `block_on` future receiving them all.
//! - `sleeps_1m`: [`SLEEPS`] sleeps, all pending at the same time. The
//!   bench thread notes the start and sets a common instant `D` a margin
//!   ahead; inside `block_on`, a task spawns [`SLEEPS`] tasks, and task `i`
//!   awaits `sleep_until(D +` [`sleep_offset`]`(i))` (deadlines spread over
//!   [`SLEEP_SPREAD_MS`] ms) and counts down; the `block_on` future blocks
//!   its thread until the count reaches zero. Both runtimes register a
//!   sleep's timer on its first poll; each task's first poll is counted
//!   ([`SleepRound`]), and the instant the last one returns is
//!   "registered". The time reported for an iteration is the sum of two
//!   phases: *spawn + register*, from the start until every sleep is
//!   registered, and *expiry*, from `D` until the bench thread sees the
//!   last task done (the timers firing over the 10 ms window, a million
//!   wake-ups and task completions). The idle wait from "registered" to
//!   `D` is not counted. A round is valid only if every sleep was
//!   registered, and so every one pending, before `D`; otherwise its time
//!   is discarded and the round run again with twice the margin
//!   ([`timed_sleeps`]). The margin is twice the longest registration
//!   phase of a valid round so far in the process (at least
//!   [`SLEEP_MARGIN_MIN`], [`SLEEP_MARGIN_FIRST`] for the first round), the
//!   same rule for both runtimes. Expiry includes the 9 ms between the
//!   first and the last deadline, which no runtime can shorten.
//! - `idle_task_bytes` (not a time; `compare` only, since it needs a
//!   counting global allocator): the heap bytes one spawned, parked task
//!   holds, see [`parkway_impl::idle_task_bytes`].
//!
//! # Shape differences between the runtimes
//!
//! - parkway's `block_on` thread, like tokio's, is not a worker: a spawn
//!   from it (or from the bench thread through the handle) is a *remote*
//!   spawn into the injector in both runtimes. "local" in
//!   `spawn_many_local` is tokio's name; only the spawns made by tasks
//!   (`ping_pong`, `chained_spawn`, `sleeps_1m`) are worker-local.
//! - One-shot channels: tokio's `sync::oneshot` against parkway's
//!   `chan::oneshot` (both: a synchronous `send`, an awaited receiver, one
//!   small allocation). Multi-value channels: tokio's `sync::mpsc::channel`
//!   against `parkway::chan::bounded`.
//! - `bounded(1_000_000)` is built per iteration, as tokio's bench does; a
//!   channel that allocates its buffer up front pays for it here (see the
//!   `chan_create` bench), tokio's block list allocates as it fills.
//! - The count-down a signalling task does is a [`Countdown`] (one `Arc` per
//!   task) instead of tokio's separate `Arc<AtomicUsize>` and `SyncSender`
//!   clones: the same for both runtimes, one clone fewer.
//!
//! Both runtimes run with the same number of workers; [`worker_configs`]
//! gives the two configurations measured: 4 workers (tokio's file) and one
//! per core.
//!
//! # Examples
//!
//! ```
//! use parkway_benches::rt::{tokio_impl, Workload};
//!
//! let rt = tokio_impl::runtime(2);
//! tokio_impl::run(&rt, Workload::ChainedSpawn);
//! ```

mod busy;
pub mod parkway_impl;
mod signal;
pub mod tokio_impl;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use busy::{stall, BusyLoad, Spinner};
pub use signal::{countdown, Countdown, Done};

/// Tasks spawned per iteration by the `spawn_many_*` workloads except
/// `busy2` (tokio's `NUM_SPAWN`).
pub const NUM_SPAWN: usize = 10_000;

/// Tasks spawned per iteration by `spawn_many_remote_busy2` (tokio's local
/// `NUM_SPAWN` there).
pub const BUSY2_SPAWN: usize = 1_000;

/// How long a background task spins between yields or spawns (tokio's
/// `STALL_DUR`).
pub const STALL: Duration = Duration::from_micros(10);

/// Worker threads in tokio's file (`NUM_WORKERS`).
pub const TOKIO_WORKERS: usize = 4;

/// Tasks in `yield_many` (tokio's `TASKS`).
pub const YIELD_TASKS: usize = 200;

/// Yields per task in `yield_many` (tokio's `NUM_YIELD`).
pub const NUM_YIELD: usize = 1_000;

/// Ping-pong pairs in `ping_pong` (tokio's `NUM_PINGS`).
pub const NUM_PINGS: usize = 1_000;

/// Tasks in the `chained_spawn` chain (tokio's `ITER`).
pub const CHAIN_LENGTH: usize = 1_000;

/// Round trips in `chan_ping_pong`.
pub const ROUND_TRIPS: usize = 100_000;

/// Producer tasks in the `mpsc_contention` workloads (tokio's `sync_mpsc`).
pub const PRODUCERS: usize = 5;

/// Values each producer sends in the `mpsc_contention` workloads.
pub const PER_PRODUCER: usize = 1_000;

/// Channel capacity in `mpsc_contention` (tokio's `contention/bounded`):
/// every value fits, producers never wait.
pub const CONTENTION_CAPACITY: usize = 1_000_000;

/// Channel capacity in `mpsc_contention_full` (tokio's
/// `contention/bounded_full`): producers wait for room.
pub const CONTENTION_FULL_CAPACITY: usize = 100;

/// Sleeping tasks in `sleeps_1m`, all pending at once.
pub const SLEEPS: usize = 1_000_000;

/// The window the `sleeps_1m` deadlines are spread over, in milliseconds:
/// task `i` sleeps until `D +` [`sleep_offset`]`(i)`, 0 to
/// `SLEEP_SPREAD_MS - 1` ms after the common instant `D`.
pub const SLEEP_SPREAD_MS: u64 = 10;

/// Parked tasks measured by `idle_task_bytes`.
pub const IDLE_TASKS: usize = 10_000;

/// The margin from the start of the process's first `sleeps_1m` round to
/// its first deadline `D`, before any round has shown how long spawning and
/// registering take on this machine.
pub const SLEEP_MARGIN_FIRST: Duration = Duration::from_secs(3);

/// The shortest margin a `sleeps_1m` round gets.
pub const SLEEP_MARGIN_MIN: Duration = Duration::from_millis(200);

/// Rounds `sleeps_1m` tries (doubling the margin each time) before giving
/// up on registering every sleep before the first deadline.
pub const SLEEP_ATTEMPTS: u32 = 4;

/// How far past the common instant `D` task `i` of `sleeps_1m` sleeps: 0 to
/// `SLEEP_SPREAD_MS - 1` milliseconds, cycling with `i`, so that the timers
/// land in several slots of a millisecond-grained wheel.
#[must_use]
pub fn sleep_offset(i: usize) -> Duration {
    #[allow(clippy::cast_possible_truncation, reason = "i % 10 fits in a u64")]
    let ms = (i % SLEEP_SPREAD_MS as usize) as u64;
    Duration::from_millis(ms)
}

/// The two measured phases of one valid `sleeps_1m` round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SleepsTiming {
    /// Spawn and register: from the start of the round until the last task
    /// has polled its sleep once (each first poll registered a timer and
    /// returned `Pending`).
    pub register: Duration,
    /// Expiry: from the first deadline `D` until the last task has been
    /// woken, finished, and the bench thread has seen the count reach zero.
    pub expiry: Duration,
}

impl SleepsTiming {
    /// The time `sleeps_1m` reports for the round: both phases, without the
    /// idle gap between them.
    #[must_use]
    pub fn total(&self) -> Duration {
        self.register + self.expiry
    }
}

/// A `sleeps_1m` round that did not have every sleep pending at once:
/// registration ran past the first deadline, so the round measured
/// something else and its time is discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateRegistration {
    /// Sleeps in the round.
    pub sleeps: usize,
    /// The margin from the start of the round to the first deadline `D`.
    pub margin: Duration,
    /// When (from the start of the round) the last task first polled its
    /// sleep.
    pub registered_after: Duration,
    /// Sleeps already `Ready` on their first poll (never registered).
    pub ready_at_first_poll: usize,
}

impl std::fmt::Display for LateRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sleeps_1m: the {} sleeps took {:.1?} to register, past the first deadline \
             {:.1?} after the start ({} were already due on their first poll): \
             not all of them were pending at once",
            self.sleeps, self.registered_after, self.margin, self.ready_at_first_poll
        )
    }
}

/// What the tasks of one `sleeps_1m` round share (one `Arc` per task, as
/// the [`Countdown`] of the other workloads): the deadlines, the count of
/// first polls and the count-down. Both runtimes use it alike.
#[derive(Debug)]
pub struct SleepRound {
    sleeps: usize,
    start: Instant,
    first_deadline: Instant,
    polled: AtomicUsize,
    ready_at_first_poll: AtomicUsize,
    all_polled_at: OnceLock<Instant>,
    left: Arc<Countdown>,
}

impl SleepRound {
    /// A round of `sleeps` sleeps starting now, with its first deadline `D`
    /// `margin` from now, and the end its bench thread waits on.
    ///
    /// # Panics
    /// If `sleeps` is 0.
    #[must_use]
    pub fn start(sleeps: usize, margin: Duration) -> (Arc<Self>, Done) {
        let (left, done) = countdown(sleeps);
        let start = Instant::now();
        let round = Self {
            sleeps,
            start,
            first_deadline: start + margin,
            polled: AtomicUsize::new(0),
            ready_at_first_poll: AtomicUsize::new(0),
            all_polled_at: OnceLock::new(),
            left,
        };
        (Arc::new(round), done)
    }

    /// Task `i`'s deadline: `D +` [`sleep_offset`]`(i)`.
    #[must_use]
    pub fn deadline(&self, i: usize) -> Instant {
        self.first_deadline + sleep_offset(i)
    }

    /// The body of task `i`, given its runtime's sleep future (created, not
    /// yet polled, for [`deadline`](Self::deadline)`(i)`): awaits it,
    /// counting its first poll as registered (`Pending`) or not (`Ready`),
    /// and then counts down.
    pub async fn sleeper(self: Arc<Self>, sleep: impl Future<Output = ()>) {
        let mut sleep = pin!(sleep);
        let mut first = true;
        poll_fn(|cx| {
            let poll = sleep.as_mut().poll(cx);
            if first {
                first = false;
                self.first_poll(poll.is_ready());
            }
            poll
        })
        .await;
        self.left.count_down();
    }

    fn first_poll(&self, ready: bool) {
        if ready {
            self.ready_at_first_poll.fetch_add(1, Ordering::Relaxed);
        }
        if self.polled.fetch_add(1, Ordering::AcqRel) + 1 == self.sleeps {
            // Only the last first poll gets here.
            let _ = self.all_polled_at.set(Instant::now());
        }
    }

    /// Ends the round once `done` has seen every task finish: its phases if
    /// every sleep was registered before the first deadline, and so every
    /// one pending at that moment.
    ///
    /// # Errors
    /// If the last task first polled its sleep at or after the first
    /// deadline (or a sleep was due at its first poll).
    ///
    /// # Panics
    /// If a task finished without polling its sleep.
    pub fn finish(&self, done: Done) -> Result<SleepsTiming, LateRegistration> {
        done.wait();
        let end = Instant::now();
        let all_polled_at = *self
            .all_polled_at
            .get()
            .expect("every task polls its sleep before counting down");
        let ready_at_first_poll = self.ready_at_first_poll.load(Ordering::Relaxed);
        if all_polled_at >= self.first_deadline || ready_at_first_poll > 0 {
            return Err(LateRegistration {
                sleeps: self.sleeps,
                margin: self.first_deadline - self.start,
                registered_after: all_polled_at - self.start,
                ready_at_first_poll,
            });
        }
        Ok(SleepsTiming {
            register: all_polled_at - self.start,
            expiry: end - self.first_deadline,
        })
    }
}

/// The longest registration phase a valid `sleeps_1m` round has taken in
/// this process, in nanoseconds (0 before the first); sets the margin of
/// the next round, the same for both runtimes. Invalid rounds do not count:
/// once their first timers fire, the firing competes with the rest of the
/// registration and stretches it.
static LONGEST_REGISTRATION: AtomicU64 = AtomicU64::new(0);

/// The margin of the next `sleeps_1m` round: twice the longest registration
/// phase of a valid round so far (at least [`SLEEP_MARGIN_MIN`]), or
/// [`SLEEP_MARGIN_FIRST`] before any.
fn next_sleep_margin() -> Duration {
    match LONGEST_REGISTRATION.load(Ordering::Relaxed) {
        0 => SLEEP_MARGIN_FIRST,
        ns => (2 * Duration::from_nanos(ns)).max(SLEEP_MARGIN_MIN),
    }
}

/// One `sleeps_1m` iteration: runs `round` (one runtime's round with the
/// given margin) until a round is valid and returns its
/// [`SleepsTiming::total`]. A round whose registration ran past its first
/// deadline is discarded, with a note on stderr, and run again with twice
/// the margin.
///
/// # Panics
/// If [`SLEEP_ATTEMPTS`] rounds in a row are invalid.
pub fn timed_sleeps(
    mut round: impl FnMut(Duration) -> Result<SleepsTiming, LateRegistration>,
) -> Duration {
    let mut margin = next_sleep_margin();
    for _ in 0..SLEEP_ATTEMPTS {
        match round(margin) {
            Ok(timing) => {
                let ns = u64::try_from(timing.register.as_nanos()).unwrap_or(u64::MAX);
                LONGEST_REGISTRATION.fetch_max(ns, Ordering::Relaxed);
                return timing.total();
            }
            Err(late) => {
                margin *= 2;
                eprintln!("{late}; round discarded, retrying with a {margin:.1?} margin");
            }
        }
    }
    panic!(
        "sleeps_1m: {SLEEP_ATTEMPTS} rounds in a row could not register every sleep before \
         the first deadline"
    );
}

/// The two worker counts every workload runs with, labelled as in benchmark
/// ids: `("4", 4)` as in tokio's file and `("ncpu", n)` with one worker per
/// available core.
#[must_use]
pub fn worker_configs() -> [(&'static str, usize); 2] {
    [("4", TOKIO_WORKERS), ("ncpu", cores())]
}

/// Available cores (`std::thread::available_parallelism`), 1 if unknown.
#[must_use]
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Net heap bytes allocated over a window: how `idle_task_bytes` measures.
/// Implemented by the `compare` binary's counting global allocator.
pub trait AllocationMeter {
    /// Opens a window: from now on allocations and frees are counted.
    fn start(&self);
    /// Closes the window: the bytes allocated minus the bytes freed since
    /// [`start`](Self::start), by every thread.
    fn stop(&self) -> isize;
}

/// Blocks until `parked` reaches `n` (each idle task bumps it on its first
/// poll, just before it parks), then gives the last tasks a moment to
/// finish parking.
///
/// # Panics
/// After 30 s without all tasks started.
fn wait_until_parked(parked: &AtomicUsize, n: usize) {
    let start = Instant::now();
    while parked.load(Ordering::Relaxed) < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "idle tasks: {} of {n} started after 30 s",
            parked.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // The counter is bumped before the task registers its waker.
    std::thread::sleep(Duration::from_millis(20));
}

/// `bytes` spread over `tasks` tasks.
fn per_task(bytes: isize, tasks: usize) -> f64 {
    #[allow(
        clippy::cast_precision_loss,
        reason = "byte and task counts stay far below 2^52"
    )]
    let per = bytes as f64 / tasks as f64;
    per
}

/// The workloads both runtimes run, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// [`NUM_SPAWN`] spawns from inside `block_on`; tokio's
    /// `spawn_many_local`.
    SpawnManyLocal,
    /// [`NUM_SPAWN`] spawns through the handle on an idle runtime; tokio's
    /// `spawn_many_remote_idle`.
    SpawnManyRemoteIdle,
    /// [`NUM_SPAWN`] remote spawns while tasks yield and spin; tokio's
    /// `spawn_many_remote_busy1`.
    SpawnManyRemoteBusy1,
    /// [`BUSY2_SPAWN`] remote spawns while chains spin and spawn; tokio's
    /// `spawn_many_remote_busy2`.
    SpawnManyRemoteBusy2,
    /// [`NUM_PINGS`] one-shot ping-pongs, three spawns each; tokio's
    /// `ping_pong`.
    PingPong,
    /// [`YIELD_TASKS`] tasks yielding [`NUM_YIELD`] times; tokio's
    /// `yield_many`.
    YieldMany,
    /// A chain of [`CHAIN_LENGTH`] spawns; tokio's `chained_spawn`.
    ChainedSpawn,
    /// [`ROUND_TRIPS`] round trips between two go blocks.
    ChanPingPong,
    /// [`PRODUCERS`] × [`PER_PRODUCER`] values into one receiver, capacity
    /// [`CONTENTION_CAPACITY`]; tokio's `sync_mpsc` `contention/bounded`.
    MpscContention,
    /// The same with capacity [`CONTENTION_FULL_CAPACITY`]; tokio's
    /// `contention/bounded_full`.
    MpscContentionFull,
    /// [`SLEEPS`] sleeps pending at once; reports spawn + register plus
    /// expiry.
    Sleeps1m,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Self; 11] = [
        Self::SpawnManyLocal,
        Self::SpawnManyRemoteIdle,
        Self::SpawnManyRemoteBusy1,
        Self::SpawnManyRemoteBusy2,
        Self::PingPong,
        Self::YieldMany,
        Self::ChainedSpawn,
        Self::ChanPingPong,
        Self::MpscContention,
        Self::MpscContentionFull,
        Self::Sleeps1m,
    ];

    /// The workload's name in benchmark ids and tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::SpawnManyLocal => "spawn_many_local",
            Self::SpawnManyRemoteIdle => "spawn_many_remote_idle",
            Self::SpawnManyRemoteBusy1 => "spawn_many_remote_busy1",
            Self::SpawnManyRemoteBusy2 => "spawn_many_remote_busy2",
            Self::PingPong => "ping_pong",
            Self::YieldMany => "yield_many",
            Self::ChainedSpawn => "chained_spawn",
            Self::ChanPingPong => "chan_ping_pong",
            Self::MpscContention => "mpsc_contention",
            Self::MpscContentionFull => "mpsc_contention_full",
            Self::Sleeps1m => "sleeps_1m",
        }
    }

    /// Iterations per `compare` cell, chosen so that one cell takes tens of
    /// milliseconds on a 2-core machine (one for the workloads that take
    /// longer than that on their own).
    #[must_use]
    pub fn iterations(self) -> u64 {
        match self {
            Self::SpawnManyLocal
            | Self::SpawnManyRemoteIdle
            | Self::PingPong
            | Self::MpscContention
            | Self::MpscContentionFull => 16,
            Self::SpawnManyRemoteBusy1
            | Self::SpawnManyRemoteBusy2
            | Self::YieldMany
            | Self::ChanPingPong => 4,
            Self::ChainedSpawn => 64,
            Self::Sleeps1m => 1,
        }
    }

    /// Whether one iteration takes long enough (tens of milliseconds or
    /// more) that criterion's linear sampling (1 + 2 + … + 10 = 55
    /// iterations for 10 samples) would not fit a 2 s measurement: such
    /// workloads are sampled flat.
    #[must_use]
    pub fn is_long(self) -> bool {
        matches!(
            self,
            Self::SpawnManyRemoteBusy2 | Self::ChanPingPong | Self::Sleeps1m
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every workload once on each runtime, with its background load: a
    /// workload that panics, hangs or loses a task fails here before it
    /// spoils a benchmark run. (`sleeps_1m` runs with a thousand sleeps.)
    #[test]
    fn every_workload_runs_on_both_runtimes() {
        let parkway = parkway_impl::runtime(2);
        let tokio = tokio_impl::runtime(2);
        for w in Workload::ALL {
            if w == Workload::Sleeps1m {
                let margin = Duration::from_millis(500);
                let p = parkway_impl::sleeps(&parkway, 1_000, margin).expect("parkway round");
                let t = tokio_impl::sleeps(&tokio, 1_000, margin).expect("tokio round");
                for timing in [p, t] {
                    assert!(timing.register < margin, "{timing:?}");
                    assert!(timing.expiry >= sleep_offset(999), "{timing:?}");
                }
                continue;
            }
            let load = parkway_impl::background(&parkway, w, 2);
            parkway_impl::run(&parkway, w);
            drop(load);
            let load = tokio_impl::background(&tokio, w, 2);
            tokio_impl::run(&tokio, w);
            drop(load);
        }
    }

    /// A round whose first deadline passes before every sleep is
    /// registered reports no time, on either runtime.
    #[test]
    fn late_registration_is_rejected() {
        let parkway = parkway_impl::runtime(2);
        let tokio = tokio_impl::runtime(2);
        let p = parkway_impl::sleeps(&parkway, 1_000, Duration::ZERO).unwrap_err();
        let t = tokio_impl::sleeps(&tokio, 1_000, Duration::ZERO).unwrap_err();
        for late in [p, t] {
            assert_eq!(late.sleeps, 1_000);
            assert!(late.registered_after >= late.margin, "{late:?}");
        }
    }

    #[test]
    fn sleep_offset_spreads_over_the_window() {
        assert_eq!(sleep_offset(0), Duration::ZERO);
        assert_eq!(sleep_offset(9), Duration::from_millis(SLEEP_SPREAD_MS - 1));
        assert_eq!(sleep_offset(10), Duration::ZERO);
    }
}
