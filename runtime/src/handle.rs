//! `Handle`: a cloneable reference to a running runtime.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::context::{self, EnterGuard};
use crate::executor::Shared;
use crate::task::JoinHandle;

/// A cloneable reference to a runtime: spawn on it and `block_on` with it
/// from any thread.
///
/// # Examples
///
/// ```
/// let rt = parkway::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let out = std::thread::spawn(move || {
///     let h = handle.go(async { "from another thread" });
///     handle.block_on(h).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(out, "from another thread");
/// ```
#[derive(Clone)]
pub struct Handle {
    /// The runtime.
    pub(crate) shared: Arc<Shared>,
}

/// Returned by [`Handle::try_current`] outside a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no parkway runtime on this thread: call this from a go block or from \
             inside `Runtime::block_on`, or enter one with `Runtime::enter`",
        )
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime this thread is in: a go worker, a thread
    /// inside `block_on`, or a thread that called `enter`.
    ///
    /// # Panics
    ///
    /// Outside a runtime; [`try_current`](Handle::try_current) returns an
    /// error instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(e) => panic!("parkway::Handle::current: {e}"),
        }
    }

    /// The handle of the runtime this thread is in, if any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current().ok_or(TryCurrentError(()))
    }

    /// Spawns a go block on this runtime, from any thread; see
    /// [`go`](crate::go).
    #[track_caller]
    pub fn go<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_inner(future, None, Location::caller())
    }

    /// Spawns with a name and location.
    pub(crate) fn spawn_inner<F>(
        &self,
        future: F,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Arc::clone(&self.shared).spawn(future, name, location)
    }

    /// Runs `future` to completion on the calling thread, inside this
    /// runtime's context; see [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Panics
    ///
    /// On a go worker, in every go-check mode: it would block the worker.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        check_not_on_worker("block_on");
        let _enter = context::enter(self.clone());
        crate::block_on::block_on(future)
    }

    /// Makes this runtime the current one on this thread until the guard
    /// drops, so `go`, `sleep` and `timeout` work from plain code.
    pub fn enter(&self) -> EnterGuard {
        context::enter(self.clone())
    }

    /// Numbers describing the runtime now.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.num_workers())
            .field("shutdown", &self.shared.is_shutdown())
            .finish()
    }
}

/// Numbers describing a runtime, read when asked; from
/// [`Handle::metrics`].
#[derive(Clone)]
pub struct RuntimeMetrics {
    /// The runtime.
    shared: Arc<Shared>,
}

impl RuntimeMetrics {
    /// The number of go workers.
    pub fn num_workers(&self) -> usize {
        self.shared.num_workers()
    }

    /// Tasks spawned and not yet finished (running, queued or parked).
    pub fn num_alive_tasks(&self) -> usize {
        self.shared.owned.len()
    }

    /// Timers registered and not yet fired or cancelled (`sleep`s that have
    /// been polled, pending `timeout` channels).
    pub fn num_pending_timers(&self) -> usize {
        self.shared.timer.len()
    }

    /// Workers asleep now.
    pub fn num_sleeping_workers(&self) -> usize {
        self.shared.idle.num_sleeping()
    }

    /// How many times a stalled worker's tasks were handed to another
    /// thread so far (see [`Builder::compensate`](crate::Builder::compensate)).
    /// Anything but zero means some go block blocks its thread.
    pub fn num_handoffs(&self) -> u64 {
        self.shared.handoff.num_handoffs()
    }
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .field("num_pending_timers", &self.num_pending_timers())
            .field("num_handoffs", &self.num_handoffs())
            .finish()
    }
}

/// Panics if the calling thread is a go worker: `op` would block it.
#[track_caller]
pub(crate) fn check_not_on_worker(op: &str) {
    if parkway_go_check::is_go_worker() {
        panic!(
            "parkway: `{op}` called on a go worker (inside a go block): it would block the \
             worker and can deadlock the pool. Inside a go block, `.await` the future \
             instead; run synchronous blocking code on a thread of its own, or call \
             `{op}` from a plain thread."
        );
    }
}
