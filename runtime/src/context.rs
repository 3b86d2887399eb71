//! The thread's runtime context: which runtime `go`, `sleep` and
//! `Handle::current` use on this thread, and, on a worker thread, the
//! worker itself (so wakes land in its LIFO slot).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::ptr;
use std::sync::Arc;

use crate::executor::worker::WorkerCore;
use crate::executor::Shared;
use crate::task::JoinHandle;
use crate::Handle;

/// One thread's context.
struct Context {
    /// While the thread wakes a batch of tasks (fired timers, deferred
    /// yields): the runtime whose sleeping workers' wake-ups are held back
    /// (null outside a batch), and whether one is owed at the end.
    batch: Cell<(*const Shared, bool)>,
    /// The runtime entered on this thread, if any.
    handle: RefCell<Option<Handle>>,
    /// The worker running on this thread while it runs tasks; null when the
    /// thread is not a worker or the worker sleeps.
    worker: Cell<*const WorkerCore>,
}

thread_local! {
    /// This thread's context.
    static CONTEXT: Context = const {
        Context {
            batch: Cell::new((ptr::null(), false)),
            handle: RefCell::new(None),
            worker: Cell::new(ptr::null()),
        }
    };
}

/// The runtime entered on this thread, if any (none during thread-local
/// teardown).
pub(crate) fn current() -> Option<Handle> {
    CONTEXT
        .try_with(|c| c.handle.borrow().clone())
        .ok()
        .flatten()
}

/// Makes `handle` the thread's runtime until the guard drops.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let previous = CONTEXT
        .try_with(|c| c.handle.replace(Some(handle)))
        .ok()
        .flatten();
    EnterGuard {
        previous,
        _not_send: PhantomData,
    }
}

/// Restores the thread's previous runtime when dropped; returned by
/// [`Runtime::enter`](crate::Runtime::enter) and
/// [`Handle::enter`](crate::Handle::enter).
#[derive(Debug)]
#[must_use = "the runtime is left when the guard is dropped"]
pub struct EnterGuard {
    /// The runtime entered before.
    previous: Option<Handle>,
    /// The guard belongs to its thread.
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CONTEXT.try_with(|c| {
            let mine = c.handle.replace(previous);
            drop(mine);
        });
    }
}

/// The worker running on this thread, if it is running tasks.
pub(crate) fn current_worker<'a>() -> Option<&'a WorkerCore> {
    let ptr = CONTEXT.try_with(|c| c.worker.get()).unwrap_or(ptr::null());
    // SAFETY: the pointer is set by `run_worker` to a core that lives on
    // that thread's stack for as long as it is set, and only this thread
    // reads it; callers use the reference within the current call.
    unsafe { ptr.as_ref() }
}

/// Sets the worker of this thread; returns the previous value.
pub(crate) fn set_worker(worker: *const WorkerCore) -> *const WorkerCore {
    CONTEXT
        .try_with(|c| c.worker.replace(worker))
        .unwrap_or(ptr::null())
}

/// Runs `f`, which wakes many tasks, holding back the wake-ups of
/// `shared`'s sleeping workers until the end; returns whether one is owed
/// (the caller then wakes a worker: those it wakes pass the work on as they
/// find more of it). Wakes of tasks of other runtimes are not held back.
pub(crate) fn batch_wakes(shared: &Shared, f: impl FnOnce()) -> bool {
    let mine = (shared as *const Shared, false);
    let previous = CONTEXT.try_with(|c| c.batch.replace(mine)).ok();
    f();
    let Some(previous) = previous else {
        return true;
    };
    CONTEXT
        .try_with(|c| c.batch.replace(previous).1)
        .unwrap_or(true)
}

/// Whether a wake-up of `shared`'s sleeping workers should be held back,
/// because this thread is inside [`batch_wakes`] for that runtime; records
/// that one is owed.
pub(crate) fn hold_back_notify(shared: &Shared) -> bool {
    CONTEXT
        .try_with(|c| {
            let (batch, _) = c.batch.get();
            if ptr::eq(batch, shared) {
                c.batch.set((batch, true));
                true
            } else {
                false
            }
        })
        .unwrap_or(false)
}

/// Spawns on the thread's runtime; the body of [`go`](crate::go).
#[track_caller]
pub(crate) fn spawn_current<F>(
    future: F,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match current() {
        Some(handle) => handle.shared.spawn(future, name, location),
        None => panic!(
            "parkway::go called outside a parkway runtime (at {location}): start one with \
             `parkway::Runtime::new()?.block_on(async {{ .. }})` or `#[parkway::main]`, \
             or spawn through a handle: `runtime.handle().go(..)`"
        ),
    }
}
