//! Tasks ("go blocks"): spawning with a name, the handle to a task's
//! output, its error, and yielding.
//!
//! A task is one heap cell holding a header (state, vtable, id, name, spawn
//! location), the future and, once it finishes, its output (`raw.rs`). Its
//! state word (`state.rs`) decides who may touch which part; its waker is a
//! hand-written `RawWaker` over the cell (`waker.rs`).

mod builder;
pub(crate) mod error;
mod join;
pub(crate) mod list;
pub(crate) mod raw;
pub(crate) mod state;
mod waker;
mod yield_now;

use std::fmt;
use std::ptr::NonNull;

use crate::executor::watchdog::WorkerProbe;

pub use builder::Builder;
pub use join::JoinHandle;
pub use parkway_blocking_pool::{Id, JoinError};
pub use yield_now::{yield_now, YieldNow};

use raw::Header;

/// A queue entry: a task that is scheduled, owning one reference.
pub(crate) struct Notified {
    /// The task.
    ptr: NonNull<Header>,
}

// SAFETY: a queue entry is a counted reference to a task whose future and
// output are `Send`; the header is shared through atomics.
unsafe impl Send for Notified {}

impl Notified {
    /// Wraps a task pointer that owns a reference.
    ///
    /// # Safety
    /// The caller hands over one reference to a live task with `SCHEDULED`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified { ptr }
    }

    /// Gives up the reference as a raw pointer (for the LIFO slot).
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    /// The task's header.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: our reference keeps the task alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls (or cancels) the task, consuming the entry. With `probe`
    /// (strict go-check), a stall verdict the watchdog left there for this
    /// poll fails the task.
    #[inline]
    pub(crate) fn run(self, probe: Option<&WorkerProbe>) {
        let ptr = self.into_raw();
        // SAFETY: the entry's reference passes to `run`, whose vtable
        // matches the cell.
        unsafe { (ptr.as_ref().vtable.run)(ptr, probe) }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: the entry owns a reference.
        unsafe { raw::drop_ref(self.ptr) }
    }
}

impl fmt::Debug for Notified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("id", &self.header().id)
            .finish()
    }
}
