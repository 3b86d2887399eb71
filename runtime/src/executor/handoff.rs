//! The stall hand-off (`Builder::compensate`): Go's answer to a thread
//! stuck in a system call, for go blocks.
//!
//! A runtime has `worker_threads` active *slots* and up to
//! `compensation_threads` spare ones; each slot has its own run queue
//! (a `crossbeam_deque::Worker`, which belongs to one thread at a time),
//! LIFO slot, deferred yields and watchdog probe. When the monitor sees a
//! thread stuck in one poll past the stall threshold, it takes a spare slot
//! from the free list here and gives it, as an [`Assignment`], to a standby
//! thread (started on demand). That thread, in `WorkerCore::take_over`:
//!
//! 1. checks the stuck thread is still in that poll (else gives up);
//! 2. under the sleepers' lock (`Idle::hand_off`: a sleeping worker is not
//!    stuck), closes the stuck slot's LIFO slot, taking its task, marks the
//!    stuck slot `REPLACED` and its own `ACTIVE`;
//! 3. drains the stuck slot's queue through its `Stealer` into its own
//!    queue, takes its deferred yields, and runs as a worker.
//!
//! It counts as awake in the stuck thread's place, so `Idle`'s counts do
//! not change. The stuck thread, after its poll (one Acquire load of its
//! slot's role; also at the top of its loop, for a thread woken just
//! before the hand-off), moves what it gathered meanwhile to the injector,
//! frees its slot and joins the standby threads. A replaced thread never
//! registers as a sleeper (it asks, under the sleepers' lock). While it is
//! stuck, tasks its poll wakes find its LIFO slot closed, or see that it
//! was replaced, and go to the injector, where every worker looks; what it
//! had queued before was taken by the stand-in, and peers steal from every
//! slot not free.
//!
//! At most `worker_threads + compensation_threads` threads run: a thread is
//! started only when no standby thread is waiting, and each thread holds a
//! slot or counts as waiting in standby (a thread giving its slot up counts
//! itself as waiting before the slot is free again).

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use crossbeam_deque::Worker;
use parking_lot::{Condvar, Mutex};

use crate::executor::{worker, Shared};
use crate::task::Notified;

/// A slot for a thread to run, with its queue.
pub(crate) struct Assignment {
    /// The slot's index in `Shared::remotes`.
    pub(crate) slot: usize,
    /// The slot's run queue.
    pub(crate) local: Worker<Notified>,
    /// For a hand-off: the stuck slot and the sequence word of the poll it
    /// was stuck in.
    pub(crate) take_over: Option<(usize, u64)>,
}

impl fmt::Debug for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assignment")
            .field("slot", &self.slot)
            .field("take_over", &self.take_over)
            .finish_non_exhaustive()
    }
}

/// Spare slots, standby threads, and the threads started for hand-offs.
#[derive(Debug)]
pub(crate) struct Handoff {
    /// Slots no thread runs, with their queues.
    free: Mutex<Vec<(usize, Worker<Notified>)>>,
    /// Standby threads and the assignments waiting for them.
    standby: Mutex<Standby>,
    /// Where standby threads wait.
    standby_cv: Condvar,
    /// Threads started for hand-offs, joined at shutdown.
    started: Mutex<Vec<thread::JoinHandle<()>>>,
    /// Hand-offs made so far.
    handoffs: AtomicU64,
}

/// What the standby threads share.
#[derive(Debug, Default)]
struct Standby {
    /// Threads waiting for an assignment.
    waiting: usize,
    /// Assignments not yet taken.
    jobs: Vec<Assignment>,
    /// Set at shutdown: standby threads exit.
    shutdown: bool,
}

/// Why a stall was not compensated.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Every spare slot is in use.
    NoSpare,
    /// Shutdown began.
    Shutdown,
    /// The OS refused a thread.
    Spawn(io::Error),
}

impl Handoff {
    /// A hand-off with these spare slots.
    pub(crate) fn new(free: Vec<(usize, Worker<Notified>)>) -> Handoff {
        Handoff {
            free: Mutex::new(free),
            standby: Mutex::new(Standby::default()),
            standby_cv: Condvar::new(),
            started: Mutex::new(Vec::new()),
            handoffs: AtomicU64::new(0),
        }
    }

    /// Counts a hand-off made.
    pub(crate) fn count(&self) {
        self.handoffs.fetch_add(1, Ordering::Relaxed);
    }

    /// Hand-offs made so far.
    pub(crate) fn num_handoffs(&self) -> u64 {
        self.handoffs.load(Ordering::Relaxed)
    }

    /// The monitor: hands the work of slot `stuck`, stuck in the poll with
    /// sequence word `seq`, to a standby thread (started if none waits).
    pub(crate) fn compensate(shared: &Arc<Shared>, stuck: usize, seq: u64) -> Result<(), Refused> {
        let this = &shared.handoff;
        let Some((slot, local)) = this.free.lock().pop() else {
            return Err(Refused::NoSpare);
        };
        let job = Assignment {
            slot,
            local,
            take_over: Some((stuck, seq)),
        };
        let mut standby = this.standby.lock();
        if standby.shutdown {
            drop(standby);
            this.give_back(job.slot, job.local);
            return Err(Refused::Shutdown);
        }
        if standby.waiting > standby.jobs.len() {
            standby.jobs.push(job);
            drop(standby);
            this.standby_cv.notify_one();
            return Ok(());
        }
        drop(standby);
        spawn_thread(shared, job)
    }

    /// Puts a slot no thread runs any more back on the free list.
    pub(crate) fn give_back(&self, slot: usize, local: Worker<Notified>) {
        self.free.lock().push((slot, local));
    }

    /// A thread giving up its slot (`slot`, with its queue): the slot goes
    /// back to the free list and the thread waits for an assignment as a
    /// standby thread; `None` at shutdown. The thread counts as waiting
    /// before its slot is free, so the monitor never starts a thread for
    /// the slot this one could take.
    pub(crate) fn standby(&self, slot: usize, local: Worker<Notified>) -> Option<Assignment> {
        self.standby.lock().waiting += 1;
        self.give_back(slot, local);
        let mut standby = self.standby.lock();
        let job = loop {
            if standby.shutdown {
                break None;
            }
            if let Some(job) = standby.jobs.pop() {
                break Some(job);
            }
            self.standby_cv.wait(&mut standby);
        };
        standby.waiting -= 1;
        job
    }

    /// Shutdown: standby threads exit, assignments not taken are dropped
    /// (their slots' queues are empty: a spare slot's queue is drained
    /// before it is freed).
    pub(crate) fn shutdown(&self) {
        let jobs = {
            let mut standby = self.standby.lock();
            standby.shutdown = true;
            std::mem::take(&mut standby.jobs)
        };
        for job in jobs {
            self.give_back(job.slot, job.local);
        }
        self.standby_cv.notify_all();
    }

    /// The threads started for hand-offs so far (to join at shutdown).
    pub(crate) fn take_started(&self) -> Vec<thread::JoinHandle<()>> {
        std::mem::take(&mut *self.started.lock())
    }
}

/// Starts a thread of this runtime that first runs `job`.
fn spawn_thread(shared: &Arc<Shared>, job: Assignment) -> Result<(), Refused> {
    if !shared.thread_starting() {
        shared.handoff.give_back(job.slot, job.local);
        return Err(Refused::Shutdown);
    }
    let mut b = thread::Builder::new().name(format!("{}-{}", shared.config.thread_name, job.slot));
    if let Some(size) = shared.config.thread_stack_size {
        b = b.stack_size(size);
    }
    let slot = job.slot;
    // The job waits in a cell the new thread takes it from: if the OS
    // refuses the thread, the job, and with it the slot's queue, is taken
    // back. The queue cannot be made anew: its stealer in `Shared` works on
    // this queue's buffer.
    let cell = Arc::new(Mutex::new(Some(job)));
    let theirs = Arc::clone(&cell);
    let s = Arc::clone(shared);
    let spawned = b.spawn(move || {
        let job = theirs.lock().take();
        drop(theirs);
        match job {
            Some(job) => worker::run_thread(s, job),
            None => {
                // Cannot happen: the job is taken back only when the spawn
                // failed. Still counted as a thread that exited.
                s.worker_exited();
            }
        }
    });
    match spawned {
        Ok(t) => {
            shared.handoff.started.lock().push(t);
            Ok(())
        }
        Err(e) => {
            shared.worker_exited();
            if let Some(job) = cell.lock().take() {
                shared.handoff.give_back(slot, job.local);
            }
            Err(Refused::Spawn(e))
        }
    }
}
