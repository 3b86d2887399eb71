//! `yield_now`: give the worker to the other tasks once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once: the task resumes after the tasks queued on its worker
/// (and those waiting in the runtime's global queue) had a turn.
///
/// A task that loops over ready work (always-full channels, a CPU-bound
/// loop) should call this now and then; channel ops also yield by
/// themselves once a task has spent its per-poll budget.
///
/// # Examples
///
/// ```
/// let rt = parkway::Runtime::new().unwrap();
/// rt.block_on(async {
///     for _ in 0..3 {
///         parkway::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    /// Whether the first poll happened.
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        match crate::context::current_worker() {
            // On a go worker: wake it once the worker has run what is
            // queued (see `WorkerCore::defer`).
            Some(core) => core.defer(cx.waker()),
            // Elsewhere (inside `block_on`): wake at once.
            None => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}
