//! The workloads on tokio's multi-thread runtime; [`super::parkway_impl`]
//! holds the same programs for parkway, function for function.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::{mpsc as chan, oneshot};
use tokio::task::{yield_now, JoinHandle};

use super::{
    countdown, stall, timed_sleeps, AllocationMeter, BusyLoad, Countdown, LateRegistration,
    SleepRound, SleepsTiming, Spinner, Workload, BUSY2_SPAWN, CHAIN_LENGTH, CONTENTION_CAPACITY,
    CONTENTION_FULL_CAPACITY, IDLE_TASKS, NUM_PINGS, NUM_SPAWN, NUM_YIELD, PER_PRODUCER, PRODUCERS,
    ROUND_TRIPS, SLEEPS, YIELD_TASKS,
};

/// A multi-thread runtime with `workers` workers and every driver enabled,
/// as tokio's bench builds it.
///
/// # Panics
/// If the runtime cannot be built.
#[must_use]
pub fn runtime(workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("cannot build the tokio runtime")
}

/// Runs one iteration of `workload` on `rt`. The busy workloads expect
/// their [`background`] load to be running.
pub fn run(rt: &Runtime, workload: Workload) {
    match workload {
        Workload::SpawnManyLocal => spawn_many_local(rt),
        Workload::SpawnManyRemoteIdle | Workload::SpawnManyRemoteBusy1 => {
            spawn_many_remote(rt, NUM_SPAWN);
        }
        Workload::SpawnManyRemoteBusy2 => spawn_many_remote(rt, BUSY2_SPAWN),
        Workload::PingPong => ping_pong(rt),
        Workload::YieldMany => yield_many(rt),
        Workload::ChainedSpawn => chained_spawn(rt),
        Workload::ChanPingPong => chan_ping_pong(rt),
        Workload::MpscContention => mpsc_contention(rt, CONTENTION_CAPACITY),
        Workload::MpscContentionFull => mpsc_contention(rt, CONTENTION_FULL_CAPACITY),
        Workload::Sleeps1m => {
            sleeps_1m(rt);
        }
    }
}

/// Runs `iters` iterations of `workload` on `rt` and returns the time
/// they take: the wall-clock time of the loop, except for `sleeps_1m`,
/// which reports the sum of its iterations' measured phases
/// ([`sleeps_1m`]).
pub fn time_iters(rt: &Runtime, workload: Workload, iters: u64) -> Duration {
    if workload == Workload::Sleeps1m {
        return (0..iters).map(|_| sleeps_1m(rt)).sum();
    }
    crate::compare::time(|| {
        for _ in 0..iters {
            run(rt, workload);
        }
    })
}

/// Starts the background load `workload` runs against on `rt`, a runtime
/// with `workers` workers — `busy1` loops or `busy2` chains, none for the
/// others — and returns once every loop is running.
pub fn background(rt: &Runtime, workload: Workload, workers: usize) -> Option<BusyLoad> {
    let load = match workload {
        Workload::SpawnManyRemoteBusy1 => busy1_load(rt, workers),
        Workload::SpawnManyRemoteBusy2 => busy2_load(rt, workers),
        _ => return None,
    };
    load.wait_running();
    Some(load)
}

/// `spawn_many_local`: [`NUM_SPAWN`] spawns from the `block_on` future,
/// which then blocks its thread until the last task has run.
pub fn spawn_many_local(rt: &Runtime) {
    let (left, done) = countdown(NUM_SPAWN);
    rt.block_on(async move {
        for _ in 0..NUM_SPAWN {
            let left = Arc::clone(&left);
            tokio::spawn(async move { left.count_down() });
        }
        done.wait();
    });
}

/// `spawn_many_remote_*`: `n` empty tasks spawned from this thread through
/// the handle, then every `JoinHandle` awaited in `block_on`.
///
/// # Panics
/// If a task panics.
pub fn spawn_many_remote(rt: &Runtime, n: usize) {
    let handle = rt.handle();
    let tasks: Vec<JoinHandle<()>> = (0..n).map(|_| handle.spawn(async {})).collect();
    rt.block_on(async move {
        for task in tasks {
            task.await.expect("empty task failed");
        }
    });
}

/// The `busy1` load: `2 × workers` tasks looping `{ yield; stall }`.
pub fn busy1_load(rt: &Runtime, workers: usize) -> BusyLoad {
    let mut load = BusyLoad::new();
    for _ in 0..2 * workers {
        let spinner = load.spinner();
        rt.spawn(async move {
            while spinner.keep_going() {
                yield_now().await;
                stall();
            }
        });
    }
    load
}

/// The `busy2` load: `workers` chains of tasks, each stalling and then
/// spawning its successor.
pub fn busy2_load(rt: &Runtime, workers: usize) -> BusyLoad {
    fn link(spinner: Spinner) {
        tokio::spawn(async move {
            if spinner.keep_going() {
                stall();
                link(spinner);
            }
        });
    }
    let mut load = BusyLoad::new();
    for _ in 0..workers {
        let spinner = load.spinner();
        rt.spawn(async move { link(spinner) });
    }
    load
}

/// `ping_pong`: one task spawns [`NUM_PINGS`] tasks, each of which pings a
/// child of its own over a oneshot and awaits the pong on another.
pub fn ping_pong(rt: &Runtime) {
    let (left, done) = countdown(NUM_PINGS);
    rt.block_on(async move {
        tokio::spawn(async move {
            for _ in 0..NUM_PINGS {
                let left = Arc::clone(&left);
                tokio::spawn(async move {
                    let (ping_tx, ping_rx) = oneshot::channel();
                    let (pong_tx, pong_rx) = oneshot::channel();
                    tokio::spawn(async move {
                        ping_rx.await.expect("no ping");
                        pong_tx.send(()).expect("pinger gone");
                    });
                    ping_tx.send(()).expect("ponger gone");
                    pong_rx.await.expect("no pong");
                    left.count_down();
                });
            }
        });
        done.wait();
    });
}

/// `yield_many`: [`YIELD_TASKS`] tasks spawned from this thread, each
/// yielding [`NUM_YIELD`] times; this thread waits for them outside the
/// runtime.
pub fn yield_many(rt: &Runtime) {
    let (left, done) = countdown(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        let left = Arc::clone(&left);
        rt.spawn(async move {
            for _ in 0..NUM_YIELD {
                yield_now().await;
            }
            left.count_down();
        });
    }
    done.wait();
}

/// `chained_spawn`: a chain of [`CHAIN_LENGTH`] tasks, each spawning the
/// next from its body.
pub fn chained_spawn(rt: &Runtime) {
    fn link(left: Arc<Countdown>, n: usize) {
        if n == 0 {
            left.count_down();
        } else {
            tokio::spawn(async move { link(left, n - 1) });
        }
    }
    let (left, done) = countdown(1);
    rt.block_on(async move {
        tokio::spawn(async move { link(left, CHAIN_LENGTH) });
        done.wait();
    });
}

/// `chan_ping_pong`: [`ROUND_TRIPS`] round trips between two tasks over two
/// `mpsc::channel(1)`s.
///
/// # Panics
/// If a value comes back changed or a task fails.
pub fn chan_ping_pong(rt: &Runtime) {
    rt.block_on(async {
        let (ping_tx, mut ping_rx) = chan::channel::<usize>(1);
        let (pong_tx, mut pong_rx) = chan::channel::<usize>(1);
        let echo = tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v).await.expect("pinger gone");
            }
        });
        let pinger = tokio::spawn(async move {
            for i in 0..ROUND_TRIPS {
                ping_tx.send(i).await.expect("echo gone");
                assert_eq!(pong_rx.recv().await, Some(i));
            }
        });
        pinger.await.expect("pinger failed");
        echo.await.expect("echo failed");
    });
}

/// `mpsc_contention`: a fresh `mpsc::channel(capacity)`, [`PRODUCERS`]
/// spawned producers sending [`PER_PRODUCER`] values each, and the
/// `block_on` future receiving all of them.
///
/// # Panics
/// If the received values do not add up.
pub fn mpsc_contention(rt: &Runtime, capacity: usize) {
    rt.block_on(async move {
        let (tx, mut rx) = chan::channel::<usize>(capacity);
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..PER_PRODUCER {
                    tx.send(i).await.expect("receiver gone");
                }
            });
        }
        let mut sum = 0;
        for _ in 0..PRODUCERS * PER_PRODUCER {
            sum += rx.recv().await.expect("producers gone");
        }
        assert_eq!(sum, crate::checksum(PRODUCERS, PER_PRODUCER));
    });
}

/// `sleeps_1m`: one iteration of [`SLEEPS`] sleeps, see [`sleeps`]; the
/// time it reports is its two measured phases, without the idle wait for
/// the first deadline between them (an invalid round is run again with a
/// longer margin).
///
/// # Panics
/// If registration keeps running past the first deadline.
pub fn sleeps_1m(rt: &Runtime) -> Duration {
    timed_sleeps(|margin| sleeps(rt, SLEEPS, margin))
}

/// One round of `n` sleeps all pending at once: inside `block_on`, one task
/// spawns `n` tasks; task `i` awaits
/// `sleep_until(D +` [`sleep_offset`](super::sleep_offset)`(i))`, with `D`
/// `margin` after the start, and counts down; the `block_on` future blocks
/// its thread until the last one is done. See [`SleepRound`] for what is
/// timed.
///
/// # Errors
/// If the last task first polled its sleep only at or after `D`.
pub fn sleeps(rt: &Runtime, n: usize, margin: Duration) -> Result<SleepsTiming, LateRegistration> {
    let (round, done) = SleepRound::start(n, margin);
    rt.block_on(async move {
        let spawner = Arc::clone(&round);
        tokio::spawn(async move {
            for i in 0..n {
                let round = Arc::clone(&spawner);
                tokio::spawn(async move {
                    let sleep =
                        tokio::time::sleep_until(tokio::time::Instant::from_std(round.deadline(i)));
                    round.sleeper(sleep).await;
                });
            }
        });
        round.finish(done)
    })
}

/// `idle_task_bytes`: the net heap bytes per task of [`IDLE_TASKS`] tasks,
/// spawned from this thread and parked on a oneshot each, as `meter` counts
/// them. The oneshots, the `JoinHandle` vector and the counter exist before
/// the window opens; the window closes once every task has been polled and
/// parked, so a waker a channel stores for its receiver counts towards the
/// task. The tasks are then released and awaited.
///
/// # Panics
/// If a task fails or does not start within 30 s.
pub fn idle_task_bytes(rt: &Runtime, meter: &dyn AllocationMeter) -> f64 {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..IDLE_TASKS).map(|_| oneshot::channel::<()>()).unzip();
    let mut tasks: Vec<JoinHandle<()>> = Vec::with_capacity(IDLE_TASKS);
    let parked = Arc::new(AtomicUsize::new(0));
    let handle = rt.handle();
    meter.start();
    for rx in receivers {
        let parked = Arc::clone(&parked);
        tasks.push(handle.spawn(async move {
            parked.fetch_add(1, Ordering::Relaxed);
            rx.await.expect("released by a send");
        }));
    }
    super::wait_until_parked(&parked, IDLE_TASKS);
    let bytes = meter.stop();
    for tx in senders {
        tx.send(()).expect("task gone");
    }
    rt.block_on(async move {
        for task in tasks {
            task.await.expect("idle task failed");
        }
    });
    super::per_task(bytes, IDLE_TASKS)
}
