//! loom models of the workers' no-lost-wake protocol: the real `Idle`
//! (`runtime/src/executor/idle.rs`, whose module doc states the protocol)
//! and the real `Parker` (`executor/park.rs`), reached through the
//! `#[doc(hidden)]` export `parkway::loom_sched`, driven by copies of the
//! worker loop's steps.
//!
//! The worker loop (`executor/worker.rs`) and `Shared` (`executor/mod.rs`)
//! are not compiled under loom, so [`Pool`] and [`Worker`] copy the calls
//! they make, in their order, each with a comment naming the function it
//! mirrors. Keep them in step with those files. What the copies leave out:
//! timers and deferred yields (no tasks wake other tasks here), the LIFO
//! slot (not stealable, so not part of the protocol), `push_remote`'s
//! shutdown fence (it only adds ordering; leaving it out makes the models
//! check the weaker `schedule_local` path too).
//!
//! Run queues are stand-ins: a loom `AtomicUsize` counting the tasks queued.
//! A push is a `Release` increment (crossbeam's `Worker::push` publishes
//! with a Release store; `Injector::push` with a SeqCst CAS and a Release
//! `fetch_or`), `is_empty` an `Acquire` load (crossbeam: Acquire loads
//! around a SeqCst fence, or SeqCst loads), a steal a decrement-if-positive
//! CAS. Each is at most as strong as crossbeam's, so a model that passes
//! with them holds for the real queues.
//!
//! A lost wake-up shows as a deadlock, which loom reports: a task stays
//! queued while every worker sleeps, and nobody ends the model. The model
//! ends only when a worker about to sleep sees that every task ran; it then
//! shuts the pool down as `Shared::begin_shutdown` does (flag, then unpark
//! every parker), so the workers asleep with nothing to do exit.
//!
//! Bookkeeping that is not part of the protocol (tasks run, wake-ups per
//! worker) uses std atomics: loom neither schedules around them nor
//! explores their orders, and every loom thread runs on the same OS thread.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release
//! -p parkway --test loom_idle` (with its own `CARGO_TARGET_DIR`).
#![cfg(loom)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::Mutex as StdMutex;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use parkway::loom_sched::{Idle, Parker};

/// A run queue's push (see the module doc).
fn push(queue: &AtomicUsize) {
    queue.fetch_add(1, Ordering::Release);
}

/// A run queue's `is_empty`.
fn is_empty(queue: &AtomicUsize) -> bool {
    queue.load(Ordering::Acquire) == 0
}

/// A run queue's steal (or pop): takes one task if there is one.
fn take(queue: &AtomicUsize) -> bool {
    queue
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

/// `executor/mod.rs` `Remote`: what other threads touch of one worker.
struct Remote {
    /// The worker's run queue, as its stealer sees it.
    local: AtomicUsize,
    /// Where the worker sleeps.
    parker: Parker,
    /// Set by the worker before it registers as a sleeper; cleared by
    /// whoever picks it.
    parked: AtomicBool,
}

/// `executor/mod.rs` `Shared`, reduced to the protocol, plus the model's
/// bookkeeping.
struct Pool {
    /// The injector.
    injector: AtomicUsize,
    /// One per worker.
    remotes: Vec<Remote>,
    /// The real sleep/search bookkeeping.
    idle: Idle,
    /// Set once shutdown begins.
    shutdown: AtomicBool,
    /// Tasks this model pushes in all.
    tasks: usize,
    /// Bookkeeping: tasks run so far.
    ran: StdAtomicUsize,
    /// Bookkeeping: times each worker was picked by `notify_parked`.
    woken: Vec<StdAtomicUsize>,
    /// Bookkeeping: times `transition_worker_to_searching` refused.
    refused: StdAtomicUsize,
}

impl Pool {
    /// `workers` workers, all awake and not searching (`Idle::new`), and
    /// `tasks` tasks to come.
    fn new(workers: usize, tasks: usize) -> Arc<Pool> {
        Arc::new(Pool {
            injector: AtomicUsize::new(0),
            remotes: (0..workers)
                .map(|_| Remote {
                    local: AtomicUsize::new(0),
                    parker: Parker::default(),
                    parked: AtomicBool::new(false),
                })
                .collect(),
            idle: Idle::new(workers),
            shutdown: AtomicBool::new(false),
            tasks,
            ran: StdAtomicUsize::new(0),
            woken: (0..workers).map(|_| StdAtomicUsize::new(0)).collect(),
            refused: StdAtomicUsize::new(0),
        })
    }

    /// `Shared::notify_parked`.
    fn notify_parked(&self) {
        if let Some(i) = self.idle.worker_to_notify() {
            self.woken[i].fetch_add(1, Relaxed);
            let remote = &self.remotes[i];
            remote.parked.store(false, Ordering::Release);
            remote.parker.unpark();
        }
    }

    /// `Shared::notify_if_work_pending`.
    fn notify_if_work_pending(&self) {
        let pending = !is_empty(&self.injector) || self.remotes.iter().any(|r| !is_empty(&r.local));
        if pending {
            self.notify_parked();
        }
    }

    /// `Shared::is_shutdown`.
    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// `Shared::begin_shutdown`.
    fn begin_shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        for remote in &self.remotes {
            remote.parker.unpark();
        }
    }

    /// `Shared::push_remote` (without its shutdown fence and check): a
    /// spawn or wake from outside the pool.
    fn push_remote(&self) {
        push(&self.injector);
        self.notify_parked();
    }

    /// `WorkerCore::schedule_local` for a task that goes to the queue of
    /// worker `index`, which is in the middle of a poll.
    fn schedule_local(&self, index: usize) {
        push(&self.remotes[index].local);
        self.notify_parked();
    }

    /// Registers worker `index` as asleep before the model starts (the
    /// first half of `WorkerCore::park`, with nothing to look at); its
    /// thread then runs [`Worker::sleep_then_run`].
    fn park_before_start(&self, index: usize) {
        self.remotes[index].parked.store(true, Ordering::Release);
        assert!(!self.idle.transition_worker_to_parked(index, false));
    }

    /// Checks every task ran exactly once and no queue holds one.
    fn assert_all_ran(&self) {
        assert_eq!(self.ran.load(Relaxed), self.tasks, "tasks run");
        assert!(is_empty(&self.injector), "injector not empty");
        for (i, r) in self.remotes.iter().enumerate() {
            assert!(is_empty(&r.local), "queue of worker {i} not empty");
        }
    }
}

/// `executor/worker.rs` `WorkerCore`, reduced to the protocol.
struct Worker {
    /// The pool.
    pool: Arc<Pool>,
    /// This worker's index.
    index: usize,
    /// Whether this worker counts as searching in `Idle`.
    searching: bool,
}

impl Worker {
    /// A worker that is awake; `searching` as `Idle` counts it.
    fn new(pool: &Arc<Pool>, index: usize, searching: bool) -> Worker {
        Worker {
            pool: pool.clone(),
            index,
            searching,
        }
    }

    /// `WorkerCore::next_task`, its own sources: its queue, the injector.
    /// (The LIFO slot and deferred yields are never used here.)
    fn next_task(&self) -> bool {
        take(&self.pool.remotes[self.index].local) || take(&self.pool.injector)
    }

    /// `WorkerCore::steal_work`: becomes searching unless half the workers
    /// do, then the injector, then every peer's queue.
    fn steal_work(&mut self) -> bool {
        if !self.searching {
            if !self.pool.idle.transition_worker_to_searching() {
                self.pool.refused.fetch_add(1, Relaxed);
                return false;
            }
            self.searching = true;
        }
        if take(&self.pool.injector) {
            return true;
        }
        let n = self.pool.remotes.len();
        (1..n).any(|i| take(&self.pool.remotes[(self.index + i) % n].local))
    }

    /// `WorkerCore::stop_searching`: the last searcher wakes another.
    fn stop_searching(&mut self) {
        if std::mem::replace(&mut self.searching, false)
            && self.pool.idle.transition_worker_from_searching()
        {
            self.pool.notify_parked();
        }
    }

    /// `WorkerCore::run_task`: stops searching, then polls the task.
    fn run_task(&mut self) {
        self.stop_searching();
        self.pool.ran.fetch_add(1, Relaxed);
    }

    /// `WorkerCore::run`, until shutdown. Where the real worker would go to
    /// sleep with every task run, the model ends instead (see the module
    /// doc).
    fn run(&mut self) {
        while !self.pool.is_shutdown() {
            if self.next_task() {
                self.run_task();
                continue;
            }
            if self.steal_work() {
                self.run_task();
                continue;
            }
            if self.pool.ran.load(Relaxed) == self.pool.tasks {
                self.pool.begin_shutdown();
                return;
            }
            self.park();
        }
    }

    /// `WorkerCore::park` (its early returns for timers, deferred yields,
    /// the LIFO slot and its own queue never apply here).
    fn park(&mut self) {
        let pool = &*self.pool;
        let remote = &pool.remotes[self.index];
        remote.parked.store(true, Ordering::Release);
        let last_searcher = pool
            .idle
            .transition_worker_to_parked(self.index, std::mem::replace(&mut self.searching, false));
        if last_searcher || !is_empty(&pool.injector) {
            // The second look.
            pool.notify_if_work_pending();
        }
        self.wait();
    }

    /// The end of `WorkerCore::park`: sleeps until picked (or shutdown),
    /// then counts as searching, as whoever picked it counted it.
    fn wait(&mut self) {
        let pool = &*self.pool;
        let remote = &pool.remotes[self.index];
        while remote.parked.load(Ordering::Acquire) && !pool.is_shutdown() {
            remote.parker.park();
        }
        self.searching = !pool.is_shutdown();
    }

    /// A worker registered by [`Pool::park_before_start`]: sleeps, then
    /// runs.
    fn sleep_then_run(mut self) {
        self.wait();
        self.run();
    }
}

/// Runs `model` under loom, prints how many schedules it explored and the
/// distinct values it returned, and returns those, so a test can check
/// that loom explored the schedules it is about.
fn explore<O, F>(name: &str, model: F) -> BTreeSet<O>
where
    O: Ord + Send + std::fmt::Debug + 'static,
    F: Fn() -> O + Send + Sync + 'static,
{
    let seen = std::sync::Arc::new(StdMutex::new((0_usize, BTreeSet::new())));
    let sink = seen.clone();
    loom::model(move || {
        let o = model();
        let mut seen = sink.lock().unwrap();
        seen.0 += 1;
        seen.1.insert(o);
    });
    let (schedules, seen) = std::mem::take(&mut *seen.lock().unwrap());
    println!("{name}: {schedules} schedules, outcomes {seen:?}");
    seen
}

/// A worker that finds nothing goes to sleep while a running worker pushes
/// a task onto its own queue (`schedule_local`) and notifies; that worker
/// stays in its poll, so only the sleeper can run the task. The sleeper
/// either sees the task (before sleeping, or in the last searcher's
/// second look, which reads every queue) or is picked and unparked.
#[test]
fn sleeper_vs_local_push() {
    let seen = explore("sleeper_vs_local_push", || {
        let pool = Pool::new(2, 1);
        let sleeper = {
            let pool = pool.clone();
            thread::spawn(move || Worker::new(&pool, 0, false).run())
        };
        // Worker 1, in the middle of a poll.
        pool.schedule_local(1);
        sleeper.join().unwrap();
        pool.assert_all_ran();
        pool.woken[0].load(Relaxed)
    });
    // Both ways the task can reach the sleeper: it saw it, or it was woken.
    assert_eq!(seen, BTreeSet::from([0, 1]), "times the sleeper was woken");
}

/// The only worker goes to sleep while a task arrives from outside the
/// pool (`push_remote`).
#[test]
fn sleeper_vs_remote_push() {
    let seen = explore("sleeper_vs_remote_push", || {
        let pool = Pool::new(1, 1);
        let sleeper = {
            let pool = pool.clone();
            thread::spawn(move || Worker::new(&pool, 0, false).run())
        };
        pool.push_remote();
        sleeper.join().unwrap();
        pool.assert_all_ran();
        pool.woken[0].load(Relaxed)
    });
    assert_eq!(seen, BTreeSet::from([0, 1]), "times the sleeper was woken");
}

/// Two workers, one searching and one asleep, and a task from outside.
/// The push does not wake the sleeper while the other searches; the
/// searcher finds the task, or is the last searcher and its second look
/// does. Then "the last searcher wakes another": whoever finds the task
/// while counted as searching wakes the sleeper to look for more, so
/// worker 1 is woken in every schedule.
#[test]
fn searcher_and_sleeper_vs_push() {
    let seen = explore("searcher_and_sleeper_vs_push", || {
        let pool = Pool::new(2, 1);
        pool.park_before_start(1);
        assert!(pool.idle.transition_worker_to_searching());
        let searcher = {
            let pool = pool.clone();
            thread::spawn(move || Worker::new(&pool, 0, true).run())
        };
        let sleeper = {
            let pool = pool.clone();
            thread::spawn(move || Worker::new(&pool, 1, false).sleep_then_run())
        };
        pool.push_remote();
        searcher.join().unwrap();
        sleeper.join().unwrap();
        pool.assert_all_ran();
        let woken = [0, 1].map(|i| pool.woken[i].load(Relaxed));
        assert!(
            woken[1] >= 1,
            "last searcher did not wake the sleeper: {woken:?}"
        );
        woken
    });
    // The sleeper woken by the push, or by the searcher that found the
    // task; the searcher woken by its own second look, or not at all.
    assert!(seen.contains(&[0, 1]), "{seen:?}");
    assert!(seen.contains(&[1, 1]), "{seen:?}");
}

/// Two workers awake, one of them searching, and a task from outside: the
/// other worker, finding nothing, is refused as a searcher while half the
/// workers search, and goes to sleep without the last searcher's second
/// look; the searcher (or the push) must still get the task run.
#[test]
fn refused_searcher_sleeps_safely() {
    let seen = explore("refused_searcher_sleeps_safely", || {
        let pool = Pool::new(2, 1);
        assert!(pool.idle.transition_worker_to_searching());
        let searcher = {
            let pool = pool.clone();
            thread::spawn(move || Worker::new(&pool, 1, true).run())
        };
        let other = {
            let pool = pool.clone();
            thread::spawn(move || Worker::new(&pool, 0, false).run())
        };
        pool.push_remote();
        searcher.join().unwrap();
        other.join().unwrap();
        pool.assert_all_ran();
        pool.refused.load(Relaxed) > 0
    });
    // loom reached the refusal (and schedules without it).
    assert_eq!(seen, BTreeSet::from([false, true]), "refused");
}

/// "At most half the workers search": a worker is refused while half of
/// them search, and accepted again once one stops. (The check and the
/// increment are two steps, so workers racing in can overshoot the half,
/// as in tokio; that costs CPU, not wake-ups, and is not asserted.)
#[test]
fn at_most_half_search() {
    loom::model(|| {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching(), "3 of 4 searching");
        assert!(!idle.transition_worker_from_searching(), "not the last");
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_from_searching());
        assert!(idle.transition_worker_from_searching(), "the last");

        // Two racing in with nobody searching: at least one is accepted.
        let idle = Arc::new(Idle::new(2));
        let t = {
            let idle = idle.clone();
            thread::spawn(move || idle.transition_worker_to_searching())
        };
        let a = idle.transition_worker_to_searching();
        let b = t.join().unwrap();
        assert!(a || b, "nobody may search");
    });
}

/// An `unpark` before `park` is remembered: `park` returns at once.
/// Exactly one token: a second `unpark` before it adds nothing, so the
/// next `park` waits for a new `unpark` (the flag written before it).
#[test]
fn parker_remembers_one_early_unpark() {
    loom::model(|| {
        let parker = Arc::new(Parker::default());
        parker.unpark();
        parker.unpark();
        parker.park();
        let flag = Arc::new(AtomicBool::new(false));
        let t = {
            let (parker, flag) = (parker.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Relaxed);
                parker.unpark();
            })
        };
        parker.park();
        assert!(
            flag.load(Ordering::Relaxed),
            "park returned on a stale token"
        );
        t.join().unwrap();
    });
}

/// An `unpark` racing `park` (before it, during the wait, or between the
/// check and the wait) wakes it, and what was written before the
/// `unpark` is visible after the `park`.
#[test]
fn parker_unpark_races_park() {
    loom::model(|| {
        let parker = Arc::new(Parker::default());
        let flag = Arc::new(AtomicBool::new(false));
        let t = {
            let (parker, flag) = (parker.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Relaxed);
                parker.unpark();
            })
        };
        parker.park();
        assert!(flag.load(Ordering::Relaxed));
        t.join().unwrap();
    });
}
