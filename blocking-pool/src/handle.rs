//! `BlockingHandle<T>`: the result of a blocking job, for a go block (a
//! future), a plain thread (`join`) or a channel (`into_chan`).
//!
//! The job and its handle share one small cell: a mutex over the job's
//! state (running with whoever waits for it, done with its result, or
//! taken). The job completes the cell once, from its thread; whoever waits
//! is then woken outside the lock. A job the pool drops without running it
//! (queued at shutdown) completes the cell from its drop, with a
//! cancellation, so a waiter always hears back.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

// The cell's lock and the thread parking of `join` come from loom under
// `--cfg loom`, so `tests/loom_handle.rs` checks the protocol that ships.
#[cfg(loom)]
use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(loom)]
use loom::thread::{self, Thread};
// parking_lot's lock outside loom: ThreadSanitizer sees it (std's
// precompiled lock is invisible to it), and it has no poisoning.
#[cfg(not(loom))]
use parking_lot::{Mutex, MutexGuard};
#[cfg(not(loom))]
use std::sync::Arc;
#[cfg(not(loom))]
use std::thread::{self, Thread};

use parkway_channels as chan;

use crate::error::{Id, JoinError, Origin};

/// The result of a blocking job: `thread`, `thread_call` or
/// [`BlockingPool::spawn`](crate::BlockingPool::spawn).
///
/// Three ways to get it, one per kind of caller:
///
/// - a go block `.await`s it (the handle is a
///   `Future<Output = Result<T, JoinError>>`): the go block parks, its
///   worker runs other go blocks meanwhile;
/// - a plain thread calls [`join`](BlockingHandle::join), which blocks
///   (go-check flags it on a go worker, as it does `recv_blocking`);
/// - [`into_chan`](BlockingHandle::into_chan) turns it into a channel that
///   delivers the one result and then closes, as core.async's `thread`
///   returns a channel; it works in `alt!`, `Select` and the combinators.
///
/// A panic in the job reaches the handle as a [`JoinError`] whose
/// [`is_panic`](JoinError::is_panic) is true. A job that never runs (its
/// pool shut down first, or the OS refused a thread and the pool had none)
/// gives an error saying so. Dropping the handle detaches the job: it still
/// runs to the end, and its result is dropped. [`abort`](BlockingHandle::abort)
/// cancels a job no thread has started yet; a running job cannot be
/// cancelled (a thread cannot be interrupted safely), as with tokio's
/// `spawn_blocking`.
pub struct BlockingHandle<T> {
    /// The cell the job completes.
    cell: Arc<Cell<T>>,
    /// The job's id.
    id: Id,
}

/// What the job and its handle share.
struct Cell<T> {
    /// The job's state.
    state: Mutex<State<T>>,
    /// Set by `abort`: a job not started yet does not run.
    aborted: std::sync::atomic::AtomicBool,
}

/// A job's state.
enum State<T> {
    /// Not finished; whoever waits for it.
    Running(Waiter<T>),
    /// Finished; the result not yet taken.
    Done(Result<T, JoinError>),
    /// The result was taken (by `await`, `join` or `into_chan`).
    Taken,
}

/// Who waits for a running job.
enum Waiter<T> {
    /// Nobody yet.
    Nobody,
    /// A future (a go block awaiting the handle).
    Task(Waker),
    /// A thread in `join`.
    Thread(Thread),
    /// A channel from `into_chan`: the result goes in, then it closes.
    Chan(chan::Sender<Result<T, JoinError>>),
}

impl<T> Cell<T> {
    /// Locks the state. No user code runs under it.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        #[cfg(loom)]
        return self.state.lock().unwrap_or_else(|e| e.into_inner());
        #[cfg(not(loom))]
        return self.state.lock();
    }

    /// Stores the job's result, unless it has one already, and wakes
    /// whoever waits, outside the lock.
    fn complete(&self, result: Result<T, JoinError>) {
        let mut state = self.lock();
        let waiter = match &mut *state {
            State::Running(waiter) => std::mem::replace(waiter, Waiter::Nobody),
            // Completed already (a spawn failure recorded before the job
            // was dropped): the first result stands.
            State::Done(_) | State::Taken => return,
        };
        if let Waiter::Chan(tx) = waiter {
            *state = State::Taken;
            drop(state);
            // A fresh channel of capacity 1 that nothing else sends on: it
            // has room. If its receiver is gone, the result goes with it.
            let _ = tx.try_send(result);
            // Dropping the only sender closes the channel after the value.
            drop(tx);
            return;
        }
        *state = State::Done(result);
        drop(state);
        match waiter {
            Waiter::Task(waker) => {
                // A waker that panics must not take the pool thread's job
                // wrapper with it; the result is stored already.
                if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                    parkway_go_check::report(&parkway_go_check::Report::callback_panic(
                        "waker",
                        parkway_go_check::panic_message(&*payload),
                    ));
                }
            }
            Waiter::Thread(t) => t.unpark(),
            Waiter::Nobody | Waiter::Chan(_) => {}
        }
    }
}

/// The job's side of the cell: completes it once, with the job's result,
/// or with a cancellation if the job is dropped without running.
pub(crate) struct Completer<T> {
    /// The cell; `None` once completed.
    cell: Option<Arc<Cell<T>>>,
    /// The job's id.
    id: Id,
    /// Where the job was started.
    location: &'static Location<'static>,
}

impl<T> Completer<T> {
    /// Runs `f` and completes the cell with its output, or with a
    /// `JoinError` carrying its panic.
    pub(crate) fn run(mut self, f: impl FnOnce() -> T) {
        let aborted = self
            .cell
            .as_ref()
            .is_some_and(|c| c.aborted.load(std::sync::atomic::Ordering::Acquire));
        if aborted {
            if let Some(cell) = self.cell.take() {
                cell.complete(Err(JoinError::aborted(self.id, self.location)));
            }
            return;
        }
        let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
            JoinError::new_panic(Origin::Blocking, self.id, None, self.location, payload)
        });
        if let Some(cell) = self.cell.take() {
            cell.complete(result);
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            // Dropped without running: the pool shut down with the job
            // still queued, or it refused the job.
            cell.complete(Err(JoinError::new_cancelled(
                Origin::Blocking,
                self.id,
                None,
                self.location,
            )));
        }
    }
}

/// A new handle and the completer its job owns.
#[cfg_attr(loom, allow(unreachable_pub, reason = "exported for the loom models"))]
pub(crate) fn pair<T>(location: &'static Location<'static>) -> (BlockingHandle<T>, Completer<T>) {
    let cell = Arc::new(Cell {
        state: Mutex::new(State::Running(Waiter::Nobody)),
        aborted: std::sync::atomic::AtomicBool::new(false),
    });
    let id = Id::next();
    let completer = Completer {
        cell: Some(Arc::clone(&cell)),
        id,
        location,
    };
    (BlockingHandle { cell, id }, completer)
}

impl<T> BlockingHandle<T> {
    /// Records that the job never ran because no thread could be started
    /// for it (before its completer is dropped with the job).
    #[cfg_attr(loom, allow(dead_code, reason = "the pool is not built under loom"))]
    pub(crate) fn fail_spawn(&self, location: &'static Location<'static>, e: std::io::Error) {
        self.cell
            .complete(Err(JoinError::spawn_failed(self.id, location, e)));
    }

    /// The job's id (the one its [`JoinError`] carries).
    pub fn id(&self) -> Id {
        self.id
    }

    /// Cancels the job if no thread has started it yet: it then never runs,
    /// and the handle gives a [`JoinError`] with
    /// [`is_cancelled`](JoinError::is_cancelled). A job already running runs
    /// to its end (a thread cannot be interrupted safely), as with tokio's
    /// `spawn_blocking`. The handle stays usable; it completes when a thread
    /// would have started the job (or at the pool's shutdown), so in a busy
    /// pool that can take until a thread frees up.
    pub fn abort(&self) {
        self.cell
            .aborted
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether the job has finished (or will never run). A moment's
    /// answer: `false` may be stale by the time you act on it.
    pub fn is_finished(&self) -> bool {
        !matches!(&*self.cell.lock(), State::Running(_))
    }

    /// Waits for the job on this thread and returns its result.
    ///
    /// This blocks. In a go block `.await` the handle instead; on a go
    /// worker, go-check (in `Warn` and `Strict`) panics here with a message
    /// naming the fix, as it does for `recv_blocking`.
    #[track_caller]
    pub fn join(self) -> Result<T, JoinError> {
        parkway_go_check::check_blocking("BlockingHandle::join");
        let mut state = self.cell.lock();
        loop {
            match std::mem::replace(&mut *state, State::Taken) {
                State::Done(result) => return result,
                State::Running(old) => {
                    *state = State::Running(Waiter::Thread(thread::current()));
                    drop(state);
                    // A waker from an earlier poll, dropped outside the lock.
                    drop(old);
                    // A spurious or early unpark just loops.
                    thread::park();
                    state = self.cell.lock();
                }
                State::Taken => unreachable!("a BlockingHandle's result is taken only by itself"),
            }
        }
    }

    /// A channel that delivers the job's result and then closes, as
    /// core.async's `thread` returns a channel. Use it in `alt!` (with a
    /// `timeout`, say), `Select`, or to hand the result to a combinator.
    ///
    /// The channel holds the result until it is received; if its receiver
    /// is dropped first, the result is dropped. A job that never runs
    /// delivers its `JoinError`.
    pub fn into_chan(self) -> chan::Receiver<Result<T, JoinError>>
    where
        T: Send + 'static,
    {
        let (tx, rx) = chan::bounded(1);
        let mut state = self.cell.lock();
        let old = std::mem::replace(&mut *state, State::Taken);
        match old {
            State::Done(result) => {
                drop(state);
                // Fresh, capacity 1, and `rx` is alive: it has room.
                let _ = tx.try_send(result);
            }
            State::Running(waiter) => {
                *state = State::Running(Waiter::Chan(tx));
                drop(state);
                // A waker from an earlier poll is dropped outside the lock.
                drop(waiter);
            }
            State::Taken => unreachable!("a BlockingHandle's result is taken only by itself"),
        }
        rx
    }
}

impl<T> Future for BlockingHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.cell.lock();
        match &mut *state {
            State::Done(_) => match std::mem::replace(&mut *state, State::Taken) {
                State::Done(result) => Poll::Ready(result),
                _ => unreachable!(),
            },
            State::Running(Waiter::Task(waker)) if waker.will_wake(cx.waker()) => Poll::Pending,
            State::Running(waiter) => {
                let old = std::mem::replace(waiter, Waiter::Task(cx.waker().clone()));
                // The old waker is dropped outside the lock.
                drop(state);
                drop(old);
                Poll::Pending
            }
            State::Taken => panic!("BlockingHandle polled after it returned its result"),
        }
    }
}

impl<T> Unpin for BlockingHandle<T> {}

impl<T> Drop for BlockingHandle<T> {
    /// Detaches the job: it runs on, and its result is dropped when it
    /// ends. A waker left by an earlier poll is released now (outside the
    /// lock), not when the job ends, so a go block given up on (a
    /// `with_timeout` that fired, a runtime shut down) is not kept alive by
    /// a long job.
    fn drop(&mut self) {
        let mut state = self.cell.lock();
        let old = match &mut *state {
            State::Running(waiter @ Waiter::Task(_)) => std::mem::replace(waiter, Waiter::Nobody),
            // `into_chan`'s channel stays: the result goes there. Done: the
            // result goes with the cell. Taken: nothing is left.
            State::Running(_) | State::Done(_) | State::Taken => return,
        };
        drop(state);
        drop(old);
    }
}

impl<T> fmt::Debug for BlockingHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingHandle")
            .field("id", &self.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}
