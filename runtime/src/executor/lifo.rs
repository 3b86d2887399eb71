//! `LifoSlot`: the one task a worker runs next, ahead of its queue.
//!
//! When a task wakes another (a channel send waking its receiver, a spawn),
//! the woken task usually has its data hot in this core's cache; running it
//! next, before older queued work, is what makes message passing between two
//! go blocks fast. The slot holds at most one task; the previous occupant is
//! pushed to the worker's queue, where peers can steal it. The worker caps
//! how many slot tasks it runs in a row (`MAX_LIFO_POLLS`) so two tasks
//! ping-ponging through the slot cannot starve the queue.
//!
//! The slot is an atomic pointer rather than a plain field so that another
//! thread can swap its task out (the stall hand-off does, when the owning
//! worker is stuck in a poll).

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::task::raw::Header;
use crate::task::Notified;

/// Polls of slot tasks a worker makes in a row before the slot's task goes
/// to the back of the queue.
pub(crate) const MAX_LIFO_POLLS: usize = 3;

/// A one-task slot owned by a worker; see the module doc.
#[derive(Debug, Default)]
pub(crate) struct LifoSlot {
    /// The task (owning one reference), or null.
    task: AtomicPtr<Header>,
}

impl LifoSlot {
    /// Puts `task` in the slot; returns the task it displaced.
    pub(crate) fn replace(&self, task: Notified) -> Option<Notified> {
        let new = task.into_raw().as_ptr();
        let old = self.task.swap(new, Ordering::AcqRel);
        // SAFETY: a non-null slot value is a queue entry's reference, now
        // moved out of the slot.
        NonNull::new(old).map(|p| unsafe { Notified::from_raw(p) })
    }

    /// Whether a task is in the slot (a moment's answer).
    pub(crate) fn is_occupied(&self) -> bool {
        !self.task.load(Ordering::Acquire).is_null()
    }

    /// Takes the task out of the slot, if any.
    pub(crate) fn take(&self) -> Option<Notified> {
        if self.task.load(Ordering::Relaxed).is_null() {
            return None;
        }
        let old = self.task.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `replace`.
        NonNull::new(old).map(|p| unsafe { Notified::from_raw(p) })
    }
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}
