//! `BlockingPool`: an elastic pool of threads for blocking work.
//!
//! Threads start on demand, one per job that finds no idle thread, up to
//! `max_threads`; past that, jobs queue (first in, first out) until a
//! thread is free. A thread idle for `keep_alive` exits (it stops counting
//! towards `max_threads` as it decides to, before its stop hook runs, so
//! threads in their stop hooks can briefly exceed the limit). Threads are
//! started under the pool's lock, so the counts only ever include threads
//! that exist. One mutex guards
//! the queue and the counts; each thread runs its jobs outside it.
//!
//! A job submitted is run, or handed back to the caller (`execute` after
//! shutdown, or when no thread could be started and none exists to run
//! it), or dropped by a shutdown that found it still queued: dropping is
//! how a job learns it will never run (a result channel inside it closes).
//! Never silently lost.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;

// parking_lot rather than std: no poisoning, and ThreadSanitizer sees its
// synchronization (std's precompiled locks are invisible to it).
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::handle::{self, BlockingHandle};

thread_local! {
    /// On a pool thread, the address of its pool's `Inner` (0 elsewhere):
    /// `shutdown` called from a job does not wait for its own thread.
    static POOL_OF_THREAD: Cell<usize> = const { Cell::new(0) };
    static IN_SHUTDOWN: Cell<bool> = const { Cell::new(false) };
}

/// A unit of blocking work.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// A hook run on each pool thread as it starts or stops.
pub type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// The default most threads a pool runs at once (tokio's default too).
pub const DEFAULT_MAX_THREADS: usize = 512;

/// The default time an idle thread waits for work before it exits.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How a [`BlockingPool`] is set up.
#[derive(Clone)]
pub struct PoolConfig {
    /// At most this many threads at once (at least 1). Jobs beyond it
    /// queue, so jobs must not wait for later jobs of the same pool when
    /// the limit could be reached (they would wait forever).
    pub max_threads: usize,
    /// An idle thread exits after this long without work.
    pub keep_alive: Duration,
    /// Threads are named `{thread_name}-{n}`.
    pub thread_name: String,
    /// The threads' stack size, if set.
    pub stack_size: Option<usize>,
    /// Run first on every pool thread.
    pub on_thread_start: Option<ThreadHook>,
    /// Run last on every pool thread.
    pub on_thread_stop: Option<ThreadHook>,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name: "parkway-blocking".to_string(),
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolConfig")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("thread_name", &self.thread_name)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

/// Why a job was handed back instead of run.
pub struct ExecuteError {
    /// The job, not run.
    pub job: Job,
    /// What went wrong.
    pub kind: ExecuteErrorKind,
}

/// The reason in an [`ExecuteError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ExecuteErrorKind {
    /// The pool is shut down.
    ShutDown,
    /// The OS refused a thread, and the pool has none to run the job.
    Spawn(io::Error),
}

impl fmt::Debug for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecuteError")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExecuteErrorKind::ShutDown => {
                f.write_str("parkway: the blocking pool is shut down; the job was not run")
            }
            ExecuteErrorKind::Spawn(e) => write!(
                f,
                "parkway: the blocking pool could not start a thread ({e}) and has none to \
                 run the job; it was not run"
            ),
        }
    }
}

impl std::error::Error for ExecuteError {}

/// An elastic pool of threads for blocking work; see the module doc.
/// Cloning gives another handle to the same pool.
#[derive(Clone)]
pub struct BlockingPool {
    /// The pool's state.
    inner: Arc<Inner>,
}

/// What the threads and the handles share.
struct Inner {
    /// The queue and the counts.
    state: Mutex<State>,
    /// Idle threads wait here for jobs.
    work: Condvar,
    /// `shutdown` waits here for the threads to exit.
    exited: Condvar,
    /// The settings.
    config: PoolConfig,
}

/// The queue and the counts.
#[derive(Default)]
struct State {
    /// Jobs no thread has taken yet.
    queue: VecDeque<Job>,
    /// Threads running (started and not exited).
    threads: usize,
    /// Of those, threads waiting for a job.
    idle: usize,
    /// Wake-ups sent to idle threads and not yet taken: a job pushed while
    /// one is owed for every queued job needs no new thread.
    notified: usize,
    /// Threads started so far (for names).
    started: usize,
    /// Set by `shutdown`.
    shutdown: bool,
    /// Jobs running now.
    running: usize,
    /// Threads not yet past their stop hook (`shutdown` waits on this).
    alive: usize,
    /// Pool threads now inside a `shutdown` of this pool (from a job or a
    /// hook): `shutdown` does not wait for them, as each exits only after
    /// its own call returns.
    shutting_from_inside: usize,
    /// The threads' handles (finished ones are pruned as new ones start):
    /// `shutdown` from outside the pool joins them, so it returns only once
    /// the threads are gone, thread-local destructors included.
    handles: Vec<thread::JoinHandle<()>>,
}

impl BlockingPool {
    /// A pool with `config` (no thread starts until work arrives).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `max_threads` is zero.
    pub fn new(config: PoolConfig) -> io::Result<BlockingPool> {
        if config.max_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "parkway: the blocking pool's max_threads must be at least 1",
            ));
        }
        Ok(BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                work: Condvar::new(),
                exited: Condvar::new(),
                config,
            }),
        })
    }

    /// Runs `job` on a pool thread: an idle one, a new one if all are busy
    /// and fewer than `max_threads` run, or the first to free up (the job
    /// queues).
    ///
    /// # Errors
    ///
    /// Hands the job back when the pool is shut down, or when the OS
    /// refuses a thread and the pool has no thread that could run it later.
    pub fn execute(&self, job: Job) -> Result<(), ExecuteError> {
        let inner = &self.inner;
        let mut state = inner.lock();
        if state.shutdown {
            return Err(ExecuteError {
                job,
                kind: ExecuteErrorKind::ShutDown,
            });
        }
        state.queue.push_back(job);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            inner.work.notify_one();
            return Ok(());
        }
        if state.threads >= inner.config.max_threads {
            // Saturated: the job waits for a thread.
            return Ok(());
        }
        // Spawned under the lock: `threads` then counts only threads that
        // exist, so a failed spawn with `threads == 0` means the queue holds
        // only this job (a thread leaves only with the queue empty).
        state.started += 1;
        let name = format!("{}-{}", inner.config.thread_name, state.started);
        let mut builder = thread::Builder::new().name(name);
        if let Some(size) = inner.config.stack_size {
            builder = builder.stack_size(size);
        }
        let pool = Arc::clone(inner);
        match builder.spawn(move || pool.run_thread()) {
            Ok(handle) => {
                state.handles.retain(|h| !h.is_finished());
                state.handles.push(handle);
                state.threads += 1;
                state.alive += 1;
                Ok(())
            }
            Err(e) => {
                if state.threads > 0 {
                    // A running thread takes it when it frees up.
                    return Ok(());
                }
                // No thread exists (a thread leaves only with the queue
                // empty), so the queue holds this job alone: hand it back.
                debug_assert_eq!(state.queue.len(), 1);
                match state.queue.pop_back() {
                    Some(job) => Err(ExecuteError {
                        job,
                        kind: ExecuteErrorKind::Spawn(e),
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    /// Runs `f` on a pool thread and returns a handle to its result: a
    /// future for go blocks, a blocking [`join`](BlockingHandle::join) for
    /// threads, or a channel ([`into_chan`](BlockingHandle::into_chan)).
    ///
    /// A panic in `f` reaches the handle as a [`JoinError`](crate::JoinError).
    /// If the pool is shut down, the handle gives a cancellation error; if
    /// the OS refuses a thread and the pool has none that could run `f`
    /// later, it gives an error with
    /// [`is_spawn_failed`](crate::JoinError::is_spawn_failed). `f` is never
    /// silently lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_blocking_pool::{BlockingPool, PoolConfig};
    ///
    /// let pool = BlockingPool::new(PoolConfig::default()).unwrap();
    /// let h = pool.spawn(|| std::fs::metadata(".").is_ok());
    /// assert!(h.join().unwrap());
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, f: F) -> BlockingHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let location = Location::caller();
        let (handle, completer) = handle::pair(location);
        let job: Job = Box::new(move || completer.run(f));
        if let Err(e) = self.execute(job) {
            if let ExecuteErrorKind::Spawn(io) = e.kind {
                handle.fail_spawn(location, io);
            }
            // Dropping the job drops its completer, which completes the
            // handle with a cancellation unless it failed already.
            drop(e.job);
        }
        handle
    }

    /// Threads running now (a moment's count).
    pub fn num_threads(&self) -> usize {
        self.inner.lock().threads
    }

    /// Threads waiting for a job now (a moment's count).
    pub fn num_idle_threads(&self) -> usize {
        let state = self.inner.lock();
        state.idle - state.notified.min(state.idle)
    }

    /// Jobs waiting for a thread now (a moment's count).
    pub fn queue_len(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// Shuts the pool down: no job is accepted any more, queued jobs are
    /// dropped (not run), idle threads exit, and running jobs finish.
    /// Waits up to `timeout` for every thread to exit, stop hooks included;
    /// returns whether they all did (threads still running a job are
    /// detached and exit when it returns). Called from a job of the pool
    /// itself, it waits for every other thread, not for its own (nor for
    /// other jobs of the pool inside `shutdown` at the same time). A queued
    /// job whose drop panics is reported, not propagated. It blocks: on a go
    /// worker go-check flags it, as it does `recv_blocking`.
    ///
    /// Dropping the last handle to a pool does not shut it down: its idle
    /// threads exit after the keep-alive, and running jobs finish.
    #[track_caller]
    pub fn shutdown(&self, timeout: Duration) -> bool {
        // It waits: not on a go worker (go-check's blocking-op check).
        parkway_go_check::check_blocking("BlockingPool::shutdown");
        let inner = &self.inner;
        // A job of this pool calling `shutdown` waits for the others only:
        // its own thread exits after the job returns. Several such calls
        // at once each leave all of them out.
        let own = Arc::as_ptr(inner) as usize;
        let inside = POOL_OF_THREAD.try_with(Cell::get) == Ok(own);
        let counted = inside && !IN_SHUTDOWN.try_with(|c| c.replace(true)).unwrap_or(true);
        let queued = {
            let mut state = inner.lock();
            state.shutdown = true;
            state.shutting_from_inside += usize::from(counted);
            std::mem::take(&mut state.queue)
        };
        /// Counts this call out again however it returns.
        struct Inside<'a>(&'a Inner, bool);
        impl Drop for Inside<'_> {
            fn drop(&mut self) {
                if self.1 {
                    let _ = IN_SHUTDOWN.try_with(|c| c.set(false));
                    self.0.lock().shutting_from_inside -= 1;
                    self.0.exited.notify_all();
                }
            }
        }
        let _inside = Inside(inner, counted);
        inner.work.notify_all();
        // Other pool threads inside `shutdown` no longer wait for this one.
        inner.exited.notify_all();
        // Dropped outside the lock, one by one: a job's drop may run user
        // code, and a panic there must neither escape `shutdown` (it would
        // skip the wait for running jobs) nor stop the other drops.
        for job in queued {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(job))) {
                parkway_go_check::report(&parkway_go_check::Report::drop_panic(
                    "a queued blocking job",
                    parkway_go_check::panic_message(&*payload),
                ));
                let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
            }
        }
        let deadline = Instant::now().checked_add(timeout);
        let mut state = inner.lock();
        // From outside the pool every thread is waited for; from inside,
        // all but those inside `shutdown` too.
        while state.alive
            > if inside {
                state.shutting_from_inside
            } else {
                0
            }
        {
            match deadline {
                None => inner.exited.wait(&mut state),
                Some(deadline) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    let _ = inner.exited.wait_until(&mut state, deadline);
                }
            }
        }
        if inside {
            // Pool threads cannot join their pool's threads (their own among
            // them); counted out is as far as they can see.
            return true;
        }
        // Counted out, each thread has still to run its thread-local
        // destructors: join them, within the deadline.
        let handles = std::mem::take(&mut state.handles);
        drop(state);
        let mut all = true;
        for handle in handles {
            while !handle.is_finished() {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                thread::sleep(Duration::from_millis(1));
            }
            if handle.is_finished() {
                let _ = handle.join();
            } else {
                all = false; // detached: it ends by itself
            }
        }
        all
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.lock().shutdown
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("running", &state.running)
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

impl Inner {
    /// Locks the state.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// The body of a pool thread.
    fn run_thread(self: Arc<Self>) {
        /// Counts the thread out however it ends, unless the loop did
        /// already (an idle thread leaving).
        struct Exit<'a> {
            /// The pool.
            inner: &'a Inner,
            /// Whether the thread was counted out already.
            counted: bool,
        }
        impl Drop for Exit<'_> {
            fn drop(&mut self) {
                // No longer one of the pool's threads (for anything that
                // runs in this thread's thread-local teardown).
                let _ = POOL_OF_THREAD.try_with(|p| p.set(0));
                let mut state = self.inner.lock();
                if !self.counted {
                    state.threads -= 1;
                }
                state.alive -= 1;
                drop(state);
                self.inner.exited.notify_all();
            }
        }
        let mut exit = Exit {
            inner: &self,
            counted: false,
        };
        let _ = POOL_OF_THREAD.try_with(|p| p.set(Arc::as_ptr(&self) as usize));
        if let Some(hook) = &self.config.on_thread_start {
            run_caught("on_thread_start", || hook());
        }
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                state.running += 1;
                drop(state);
                // A panicking job is its own business (a handle's wrapper
                // catches and reports it); the thread goes on.
                run_caught("blocking job", job);
                state = self.lock();
                state.running -= 1;
                continue;
            }
            if state.shutdown {
                // Counted out after the stop hook (by `exit`): `shutdown`
                // waits for the hooks too.
                drop(state);
                if let Some(hook) = &self.config.on_thread_stop {
                    run_caught("on_thread_stop", || hook());
                }
                return;
            }
            state.idle += 1;
            let timeout = self.work.wait_for(&mut state, self.config.keep_alive);
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1;
            } else if timeout.timed_out() && state.queue.is_empty() {
                // Idle for a whole keep-alive: exit, counted out under the
                // lock that saw nothing to do, so an `execute` never counts
                // on a thread that is leaving.
                state.threads -= 1;
                exit.counted = true;
                break;
            }
        }
        drop(state);
        if let Some(hook) = &self.config.on_thread_stop {
            run_caught("on_thread_stop", || hook());
        }
        drop(exit);
    }
}

/// Runs `f`, catching a panic (and a panic in dropping its payload).
fn run_caught(what: &'static str, f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        parkway_go_check::report(&parkway_go_check::Report::callback_panic(
            what,
            parkway_go_check::panic_message(&*payload),
        ));
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}
