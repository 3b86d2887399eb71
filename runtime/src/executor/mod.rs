//! The go pool: a hand-written work-stealing executor.
//!
//! Each worker thread owns a `crossbeam_deque::Worker` (its run queue) and
//! a [`LifoSlot`] for the task it woke last. Spawns and
//! wakes from outside the pool go to a global `Injector`. A worker takes
//! work in this order: every `GLOBAL_QUEUE_INTERVAL` ticks the injector
//! first (so it cannot be starved by local work), otherwise its LIFO slot,
//! its queue, then a batch from the injector, then the tasks that called
//! `yield_now` (deferred until now, so a yielding task gives way to all
//! queued work); with all of those empty it searches, stealing half of a
//! peer's queue; with nothing found it sleeps
//! ([`Idle`], [`Parker`]). The first worker to
//! sleep owns the timer driver and sleeps only until the next deadline;
//! every worker also fires due timers, without blocking, every
//! `EVENT_INTERVAL` ticks, so timers fire while every worker is busy.
//!
//! Workers are *slots* (Go's Ps), run by threads (Go's Ms). A runtime has
//! `worker_threads` active slots, plus up to `compensation_threads` spare
//! ones: when a thread is stuck in one poll, the hand-off ([`handoff`])
//! gives a spare slot to a standby thread, which takes over the stuck
//! slot's work. Peers steal from every slot in use, spare ones included.

pub(crate) mod handoff;
pub(crate) mod idle;
pub(crate) mod lifo;
pub(crate) mod park;
pub(crate) mod stacks;
pub(crate) mod watchdog;
pub(crate) mod worker;

use parkway_blocking_pool::BlockingPool;
use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use crossbeam_deque::{Injector, Steal, Stealer};
use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};

use crate::builder::Config;
use crate::context;
use crate::task::list::OwnedTasks;
use crate::task::raw::Cell;
use crate::task::{Id, JoinHandle, Notified};
use crate::time::driver::TimeDriver;

use self::idle::Idle;
use self::lifo::LifoSlot;
use self::park::Parker;

/// One worker slot: its owner's hot line, and what other threads touch.
#[derive(Debug)]
pub(crate) struct Remote {
    /// What the owner touches on every poll, on a line of its own.
    pub(crate) own: CachePadded<Own>,
    /// Steals from the worker's run queue.
    pub(crate) stealer: Stealer<Notified>,
    /// Where the worker sleeps.
    pub(crate) parker: Parker,
    /// Set by the worker before it registers as a sleeper; cleared by
    /// whoever picks it from the sleepers to wake it.
    pub(crate) parked: AtomicBool,
    /// Tasks that called `yield_now` on this slot, woken once the slot has
    /// nothing else queued: a yielding task gives way to everything queued,
    /// the injector included. Behind a lock (uncontended but for a
    /// hand-off) so the hand-off can take them from a stuck thread.
    pub(crate) deferred: Mutex<Vec<Waker>>,
}

/// The part of a slot its running thread reads and writes on every poll:
/// one cache line, written by the owner only (but for a hand-off), read
/// now and then by the monitor; away from the fields peers touch when they
/// steal or wake.
#[derive(Debug, Default)]
pub(crate) struct Own {
    /// The worker's LIFO slot.
    pub(crate) lifo: LifoSlot,
    /// What the stall watchdog samples.
    pub(crate) probe: watchdog::WorkerProbe,
    /// Who runs this slot: [`FREE`], [`ACTIVE`] or [`REPLACED`].
    pub(crate) role: AtomicU8,
}

/// A slot no thread runs; its queue is in the hand-off's free list.
pub(crate) const FREE: u8 = 0;
/// A slot run by a worker thread.
pub(crate) const ACTIVE: u8 = 1;
/// A slot whose thread was stuck in a poll and was replaced: its work went
/// to another slot. The thread gives the slot up when it notices (after
/// its poll); until then peers still steal from its queue.
pub(crate) const REPLACED: u8 = 2;

/// The state of one runtime shared by its workers, handles and tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The pool `thread` and `thread_call` run blocking work on.
    pub(crate) blocking: BlockingPool,
    /// Tasks spawned or woken from outside the pool.
    pub(crate) injector: Injector<Notified>,
    /// One per slot: the `workers` first ones active at start, the spare
    /// ones free.
    pub(crate) remotes: Box<[CachePadded<Remote>]>,
    /// Slots ever in use (`workers`, more after hand-offs): stealers and
    /// the monitor look at `remotes[..in_use]` only.
    pub(crate) in_use: AtomicUsize,
    /// Active slots (the builder's `worker_threads`).
    workers: usize,
    /// Spare slots and standby threads.
    pub(crate) handoff: handoff::Handoff,
    /// Per slot: where the watchdog asks the thread running it for its
    /// stack (`PARKWAY_GO_CHECK_BACKTRACE=1`); apart from `remotes`, which
    /// the workers touch all the time, as each holds a frame buffer.
    pub(crate) stacks: Box<[stacks::StackSlot]>,
    /// Who sleeps, who searches.
    pub(crate) idle: Idle,
    /// Every live task, for shutdown.
    pub(crate) owned: OwnedTasks,
    /// Timers.
    pub(crate) timer: TimeDriver,
    /// Set once shutdown begins.
    shutdown: AtomicBool,
    /// Threads started and exited; with `exit_cv`, for `shutdown_timeout`.
    threads: Mutex<Threads>,
    /// Signalled when a thread exits.
    exit_cv: Condvar,
    /// Where the stall watchdog's monitor sleeps between samples.
    pub(crate) monitor_parker: Parker,
    /// The builder's settings.
    pub(crate) config: Config,
}

/// Counts of a runtime's threads (workers, standby, stand-ins).
#[derive(Debug, Default)]
struct Threads {
    /// Started, or about to be.
    started: usize,
    /// Exited (or never started after all).
    exited: usize,
}

impl Shared {
    /// A runtime's shared state; returns it with the run queues the worker
    /// threads will own (the spare slots' queues go to the hand-off).
    pub(crate) fn new(
        config: Config,
        blocking: BlockingPool,
    ) -> (Shared, Vec<crossbeam_deque::Worker<Notified>>) {
        let n = config.worker_threads;
        let spare = if config.compensate {
            config.compensation_threads
        } else {
            0
        };
        let mut locals: Vec<_> = (0..n + spare)
            .map(|_| crossbeam_deque::Worker::new_fifo())
            .collect();
        let remotes = locals
            .iter()
            .map(|w| {
                CachePadded::new(Remote {
                    own: CachePadded::new(Own::default()),
                    stealer: w.stealer(),
                    parker: Parker::default(),
                    parked: AtomicBool::new(false),
                    deferred: Mutex::new(Vec::new()),
                })
            })
            .collect::<Box<[_]>>();
        for remote in &remotes[..n] {
            remote.own.role.store(ACTIVE, Ordering::Relaxed);
        }
        let spares = locals.split_off(n).into_iter().enumerate();
        let shared = Shared {
            blocking,
            injector: Injector::new(),
            remotes,
            in_use: AtomicUsize::new(n),
            stacks: (0..n + spare)
                .map(|_| stacks::StackSlot::default())
                .collect(),
            workers: n,
            handoff: handoff::Handoff::new(spares.map(|(i, q)| (n + i, q)).collect()),
            idle: Idle::new(n),
            owned: OwnedTasks::new(n),
            timer: TimeDriver::new(),
            shutdown: AtomicBool::new(false),
            threads: Mutex::new(Threads {
                started: n,
                exited: 0,
            }),
            exit_cv: Condvar::new(),
            monitor_parker: Parker::default(),
            config,
        };
        (shared, locals)
    }

    /// Spawns `future` on this runtime. During or after shutdown the task
    /// is cancelled at once: its handle resolves to a cancelled
    /// `JoinError`.
    pub(crate) fn spawn<F>(
        self: Arc<Self>,
        future: F,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let ptr = Cell::allocate(future, self, Id::next(), name, location);
        // From here the runtime is reached through the task's own `Arc`
        // (one reference count update per spawn, not two); the handle's
        // reference keeps the task alive.
        // SAFETY: we hold three references to the new task.
        let shared: &Arc<Shared> = unsafe { &(*ptr.as_ptr()).shared };
        // SAFETY: a new task has three references: the handle's, the queue
        // entry's and the list's.
        let handle = unsafe { JoinHandle::from_raw(ptr) };
        // SAFETY: as above.
        let task = unsafe { Notified::from_raw(ptr) };
        if shared.owned.insert(ptr) {
            schedule_task(task, false);
        } else {
            // Shut down: cancel in place. `shutdown` consumes the list's
            // reference (never linked), the entry is dropped with its own.
            // SAFETY: the list's reference is ours; the vtable is the cell's.
            unsafe { (ptr.as_ref().vtable.shutdown)(ptr) };
            drop(task);
        }
        handle
    }

    /// Pushes a task from outside the pool onto the injector and wakes a
    /// sleeping worker for it.
    pub(crate) fn push_remote(&self, task: Notified) {
        self.injector.push(task);
        // Order the push before the shutdown check (shutdown sets the flag
        // and then drains): one of us drains this entry.
        fence(Ordering::SeqCst);
        if self.is_shutdown() {
            self.drain_injector();
            return;
        }
        if !context::hold_back_notify(self) {
            self.notify_parked();
        }
    }

    /// Wakes a sleeping worker if nobody is searching for work.
    pub(crate) fn notify_parked(&self) {
        if let Some(i) = self.idle.worker_to_notify() {
            let remote = &self.remotes[i];
            remote.parked.store(false, Ordering::Release);
            remote.parker.unpark();
        }
    }

    /// Wakes a sleeper if some queue holds work (after the last searcher
    /// went to sleep).
    pub(crate) fn notify_if_work_pending(&self) {
        // LIFO slots are not stealable, so they do not count.
        let pending = !self.injector.is_empty()
            || self
                .slots_in_use()
                .iter()
                .any(|r| r.own.role.load(Ordering::Acquire) != FREE && !r.stealer.is_empty());
        if pending {
            self.notify_parked();
        }
    }

    /// The slots ever in use (free ones among them are skipped by callers).
    pub(crate) fn slots_in_use(&self) -> &[CachePadded<Remote>] {
        &self.remotes[..self.in_use.load(Ordering::Acquire)]
    }

    /// The number of go workers (active slots).
    pub(crate) fn num_workers(&self) -> usize {
        self.workers
    }

    /// Whether shutdown began.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Drops every task in the injector (after shutdown).
    fn drain_injector(&self) {
        drop_all(|| self.injector.steal());
    }

    /// A thread of this runtime is exiting (or was never started).
    pub(crate) fn worker_exited(&self) {
        self.threads.lock().exited += 1;
        self.exit_cv.notify_all();
    }

    /// Counts a thread about to start, unless shutdown began (`false`):
    /// shutdown waits for every thread counted here.
    pub(crate) fn thread_starting(&self) -> bool {
        let mut threads = self.threads.lock();
        if self.is_shutdown() {
            return false;
        }
        threads.started += 1;
        true
    }

    /// Begins shutdown: no task runs again; workers exit after their
    /// current poll. Returns false if it had begun already.
    pub(crate) fn begin_shutdown(&self) -> bool {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return false;
        }
        // Under the counts' lock, so no thread starts after this.
        drop(self.threads.lock());
        for remote in self.remotes.iter() {
            remote.parker.unpark();
        }
        self.handoff.shutdown();
        self.monitor_parker.unpark();
        true
    }

    /// Waits until every thread has exited, or until `deadline`. Returns
    /// whether they all did.
    pub(crate) fn wait_workers(&self, deadline: Option<Instant>) -> bool {
        let mut threads = self.threads.lock();
        while threads.exited < threads.started {
            match deadline {
                None => self.exit_cv.wait(&mut threads),
                Some(d) => {
                    if self.exit_cv.wait_until(&mut threads, d).timed_out() {
                        return threads.exited >= threads.started;
                    }
                }
            }
        }
        true
    }

    /// Ends shutdown, after the workers stopped (or the wait timed out):
    /// cancels every live task in place (dropping its future on this
    /// thread, inside the runtime's context), closes the pending `timeout`
    /// channels and empties the injector.
    pub(crate) fn finish_shutdown(&self) {
        for ptr in self.owned.close_and_take_all() {
            // SAFETY: `close_and_take_all` handed us the list's reference of
            // each task; the vtable is the task's own.
            unsafe { (ptr.as_ref().vtable.shutdown)(ptr) };
        }
        self.timer.shutdown();
        self.drain_injector();
        // Workers drain their own queues as they exit; a worker detached by
        // `shutdown_timeout` has not, so take what is left from every queue
        // (each entry holds a reference to its task, and the task one to
        // this runtime).
        for remote in self.remotes.iter() {
            drop_all(|| remote.stealer.steal());
            drop(remote.own.lifo.reopen());
            drop(std::mem::take(&mut *remote.deferred.lock()));
        }
    }

    /// Fires due timers without blocking (skipped when another thread is at
    /// it).
    pub(crate) fn fire_due_timers(&self) {
        self.timer.fire_due(self);
    }

    /// Wakes the worker that owns the timer driver, so it sleeps until an
    /// earlier deadline.
    pub(crate) fn unpark_worker(&self, index: usize) {
        self.remotes[index].parker.unpark();
    }
}

/// Schedules a task on its runtime: onto the current worker (its LIFO
/// slot, or the back of its queue when the task yielded) if the calling
/// thread is a worker of that runtime, else onto the injector.
///
/// The runtime is reached through the task's header, which another worker
/// may free as soon as the task is pushed: it is only borrowed before the
/// push, and the remote path takes its own `Arc` first.
pub(crate) fn schedule_task(task: Notified, is_yield: bool) {
    if let Some(core) = context::current_worker() {
        if Arc::ptr_eq(core.shared(), &task.header().shared) {
            // This worker's own `Arc` keeps the runtime alive.
            core.schedule_local(task, is_yield);
            return;
        }
    }
    let shared = Arc::clone(&task.header().shared);
    shared.push_remote(task);
}

/// Steals with `steal` until the queue is empty, dropping each entry (and
/// with it the entry's reference to its task).
pub(crate) fn drop_all(steal: impl Fn() -> Steal<Notified>) {
    loop {
        match steal() {
            Steal::Success(task) => drop(task),
            Steal::Retry => continue,
            Steal::Empty => break,
        }
    }
}
