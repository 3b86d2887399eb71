//! `JoinHandle`: the owned handle to a spawned task's output.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use crate::task::raw::{drop_ref, Header};
use crate::task::state::WakeAction;
use crate::task::JoinError;
use crate::task::{Id, Notified};

/// An owned permission to await a task's output; returned by
/// [`go`](crate::go).
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked,
/// was cancelled, or was failed by strict go-check. Dropping it detaches
/// the task: it keeps running and its output is dropped.
///
/// # Examples
///
/// ```
/// let rt = parkway::Runtime::new().unwrap();
/// let n = rt.block_on(async { parkway::go(async { 6 * 7 }).await.unwrap() });
/// assert_eq!(n, 42);
/// ```
pub struct JoinHandle<T> {
    /// The task; the handle owns one reference.
    raw: NonNull<Header>,
    /// The output type.
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output (`T: Send`) between threads; the
// header is shared through its atomic state.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the atomic state (`is_finished`, `id`)
// or sets the cancel bit (`abort`).
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Wraps a task; takes over the handle's reference.
    ///
    /// # Safety
    /// `raw` is a task whose output type is `T`, with `JOIN_INTEREST` set and
    /// one reference for the handle.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// The task's header.
    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the task alive.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task: a parked task is dropped at its next turn on a
    /// worker (without being polled again); a running one after its current
    /// poll returns. Awaiting the handle then gives a `JoinError` whose
    /// [`is_cancelled`](JoinError::is_cancelled) is true, unless the task
    /// finished first. Aborting a finished task does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = parkway::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let h = parkway::go(parkway::sleep(Duration::from_secs(3600)));
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        let header = self.header();
        if header.state.transition_to_cancelled() == WakeAction::Submit {
            // SAFETY: the transition took a reference for the queue entry.
            let task = unsafe { Notified::from_raw(self.raw) };
            crate::executor::schedule_task(task, false);
        }
    }

    /// Whether the task has finished (its output, or its error, is ready).
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !parkway_go_check::budget::try_spend() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        let header = self.header();
        // SAFETY: the vtable is the cell's own, whose output type is `T`,
        // and `out` is a `Poll<Result<T, JoinError>>`.
        unsafe {
            (header.vtable.try_read_output)(
                self.raw,
                &mut out as *mut Poll<Result<T, JoinError>> as *mut (),
                cx.waker(),
            )
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.header();
        let prev = header.state.drop_join_interest();
        if prev.is_complete() {
            // The output is ours, and nobody took it: drop it.
            // SAFETY: COMPLETE was set while JOIN_INTEREST was ours.
            unsafe { (header.vtable.drop_output)(self.raw) };
        }
        if !(prev.is_complete() && prev.has_join_waker()) {
            // The slot is ours: not complete (we just cleared JOIN_WAKER),
            // or complete and already handed back by the task side.
            // SAFETY: JOIN_WAKER is clear and the task side no longer reads
            // the slot.
            let waker = unsafe { (*header.join_waker.get()).take() };
            drop(waker);
        }
        // SAFETY: the handle's reference.
        unsafe { drop_ref(self.raw) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.header();
        f.debug_struct("JoinHandle")
            .field("id", &header.id)
            .field("name", &header.name)
            .field("finished", &self.is_finished())
            .finish()
    }
}
