//! The go pool: a hand-written work-stealing executor.
//!
//! Each worker thread owns a `crossbeam_deque::Worker` (its run queue) and
//! a [`LifoSlot`](lifo::LifoSlot) for the task it woke last. Spawns and
//! wakes from outside the pool go to a global `Injector`. A worker takes
//! work in this order: every `GLOBAL_QUEUE_INTERVAL` ticks the injector
//! first (so it cannot be starved by local work), otherwise its LIFO slot,
//! its queue, then a batch from the injector, then the tasks that called
//! `yield_now` (deferred until now, so a yielding task gives way to all
//! queued work); with all of those empty it searches, stealing half of a
//! peer's queue; with nothing found it sleeps
//! ([`Idle`](idle::Idle), [`Parker`](park::Parker)). The first worker to
//! sleep owns the timer driver and sleeps only until the next deadline;
//! every worker also fires due timers, without blocking, every
//! `EVENT_INTERVAL` ticks, so timers fire while every worker is busy.

pub(crate) mod idle;
pub(crate) mod lifo;
pub(crate) mod park;
pub(crate) mod watchdog;
pub(crate) mod worker;

use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
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

/// What other threads may touch of one worker.
#[derive(Debug)]
pub(crate) struct Remote {
    /// Steals from the worker's run queue.
    pub(crate) stealer: Stealer<Notified>,
    /// The worker's LIFO slot.
    pub(crate) lifo: LifoSlot,
    /// Where the worker sleeps.
    pub(crate) parker: Parker,
    /// Set by the worker before it registers as a sleeper; cleared by
    /// whoever picks it from the sleepers to wake it.
    pub(crate) parked: AtomicBool,
    /// What the stall watchdog samples; on a line of its own, away from
    /// the fields peers touch when they steal or wake.
    pub(crate) probe: CachePadded<watchdog::WorkerProbe>,
}

/// The state of one runtime shared by its workers, handles and tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tasks spawned or woken from outside the pool.
    pub(crate) injector: Injector<Notified>,
    /// One per worker.
    pub(crate) remotes: Box<[CachePadded<Remote>]>,
    /// Who sleeps, who searches.
    pub(crate) idle: Idle,
    /// Every live task, for shutdown.
    pub(crate) owned: OwnedTasks,
    /// Timers.
    pub(crate) timer: TimeDriver,
    /// Set once shutdown begins.
    shutdown: AtomicBool,
    /// Workers that have exited; with `exit_cv`, for `shutdown_timeout`.
    exited: Mutex<usize>,
    /// Signalled when a worker exits.
    exit_cv: Condvar,
    /// Where the stall watchdog's monitor sleeps between samples.
    pub(crate) monitor_parker: Parker,
    /// The builder's settings.
    pub(crate) config: Config,
}

impl Shared {
    /// A runtime's shared state; returns it with the run queues the worker
    /// threads will own.
    pub(crate) fn new(config: Config) -> (Shared, Vec<crossbeam_deque::Worker<Notified>>) {
        let n = config.worker_threads;
        let locals: Vec<_> = (0..n)
            .map(|_| crossbeam_deque::Worker::new_fifo())
            .collect();
        let remotes = locals
            .iter()
            .map(|w| {
                CachePadded::new(Remote {
                    stealer: w.stealer(),
                    lifo: LifoSlot::default(),
                    parker: Parker::default(),
                    parked: AtomicBool::new(false),
                    probe: CachePadded::new(watchdog::WorkerProbe::default()),
                })
            })
            .collect();
        let shared = Shared {
            injector: Injector::new(),
            remotes,
            idle: Idle::new(n),
            owned: OwnedTasks::new(n),
            timer: TimeDriver::new(),
            shutdown: AtomicBool::new(false),
            exited: Mutex::new(0),
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
    fn push_remote(&self, task: Notified) {
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
        let pending =
            !self.injector.is_empty() || self.remotes.iter().any(|r| !r.stealer.is_empty());
        if pending {
            self.notify_parked();
        }
    }

    /// Whether shutdown began.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Drops every task in the injector (after shutdown).
    fn drain_injector(&self) {
        drop_all(|| self.injector.steal());
    }

    /// A worker thread is exiting.
    pub(crate) fn worker_exited(&self) {
        *self.exited.lock() += 1;
        self.exit_cv.notify_all();
    }

    /// Begins shutdown: no task runs again; workers exit after their
    /// current poll. Returns false if it had begun already.
    pub(crate) fn begin_shutdown(&self) -> bool {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return false;
        }
        for remote in self.remotes.iter() {
            remote.parker.unpark();
        }
        self.monitor_parker.unpark();
        true
    }

    /// Waits until every worker has exited, or until `deadline`. Returns
    /// whether they all did.
    pub(crate) fn wait_workers(&self, deadline: Option<Instant>) -> bool {
        let mut exited = self.exited.lock();
        while *exited < self.remotes.len() {
            match deadline {
                None => self.exit_cv.wait(&mut exited),
                Some(d) => {
                    if self.exit_cv.wait_until(&mut exited, d).timed_out() {
                        return *exited >= self.remotes.len();
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
fn drop_all(steal: impl Fn() -> Steal<Notified>) {
    loop {
        match steal() {
            Steal::Success(task) => drop(task),
            Steal::Retry => continue,
            Steal::Empty => break,
        }
    }
}
