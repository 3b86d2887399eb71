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
//! - `sleeps_1m`: a task spawns [`SLEEPS`] tasks; task `i` sleeps
//!   [`sleep_for`]`(i)` (1 to [`SLEEP_SPREAD_MS`] ms, spread evenly) and
//!   counts down; the last signals. Both runtimes register a sleep's timer on
//!   its first poll, so this measures spawning, timer registration, expiry
//!   and wake-up of a million tasks. Sleeps are short next to the time it
//!   takes to spawn a million tasks, so at no time are all of them pending.
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

use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Concurrent sleeping tasks in `sleeps_1m`.
pub const SLEEPS: usize = 1_000_000;

/// The longest sleep in `sleeps_1m`, in milliseconds.
pub const SLEEP_SPREAD_MS: u64 = 10;

/// Parked tasks measured by `idle_task_bytes`.
pub const IDLE_TASKS: usize = 10_000;

/// How long task `i` of `sleeps_1m` sleeps: 1 to [`SLEEP_SPREAD_MS`]
/// milliseconds, cycling with `i`, so that timers land in several slots of
/// a millisecond-grained wheel.
#[must_use]
pub fn sleep_for(i: usize) -> Duration {
    #[allow(clippy::cast_possible_truncation, reason = "i % 10 fits in a u64")]
    let ms = (i % SLEEP_SPREAD_MS as usize) as u64 + 1;
    Duration::from_millis(ms)
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
    /// [`SLEEPS`] sleeping tasks.
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
                parkway_impl::sleeps(&parkway, 1_000);
                tokio_impl::sleeps(&tokio, 1_000);
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

    #[test]
    fn sleep_for_spreads_over_the_range() {
        assert_eq!(sleep_for(0), Duration::from_millis(1));
        assert_eq!(sleep_for(9), Duration::from_millis(SLEEP_SPREAD_MS));
        assert_eq!(sleep_for(10), Duration::from_millis(1));
    }
}
