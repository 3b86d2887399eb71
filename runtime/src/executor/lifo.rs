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
//! thread can swap its task out: the stall hand-off does, when the owning
//! worker is stuck in a poll. It then *closes* the slot (a sentinel value),
//! so tasks the stuck poll still wakes go to the worker's queue, which
//! peers steal from, instead of waiting behind the stuck poll.

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::task::raw::Header;
use crate::task::Notified;

/// Polls of slot tasks a worker makes in a row before the slot's task goes
/// to the back of the queue.
pub(crate) const MAX_LIFO_POLLS: usize = 3;

/// Its address marks a closed slot: a static's address is never a task's
/// (tasks live on the heap).
static CLOSED_MARK: u8 = 0;

/// The value of a closed slot.
#[inline]
fn closed() -> *mut Header {
    std::ptr::addr_of!(CLOSED_MARK).cast::<Header>().cast_mut()
}

/// A one-task slot owned by a worker; see the module doc.
#[derive(Debug, Default)]
pub(crate) struct LifoSlot {
    /// The task (owning one reference), null, or the closed mark.
    task: AtomicPtr<Header>,
}

/// A slot value as the task it owns, if it is one.
fn owned(p: *mut Header) -> Option<Notified> {
    if p == closed() {
        return None;
    }
    // SAFETY: a slot value other than null and the closed mark is a queue entry's
    // reference, moved out of the slot by the swap that returned it.
    NonNull::new(p).map(|p| unsafe { Notified::from_raw(p) })
}

impl LifoSlot {
    /// Puts `task` in the slot; returns the task it displaced. A closed
    /// slot stays closed and gives `task` back, for the queue.
    #[inline]
    pub(crate) fn replace(&self, task: Notified) -> Option<Notified> {
        let new = task.into_raw().as_ptr();
        let old = self.task.swap(new, Ordering::AcqRel);
        if old == closed() {
            // Only the owner puts tasks in; only the hand-off closes, once.
            // So the slot still holds `new`: close it again, taking it back.
            return owned(self.task.swap(closed(), Ordering::AcqRel));
        }
        owned(old)
    }

    /// Whether a task is in the slot (a moment's answer).
    pub(crate) fn is_occupied(&self) -> bool {
        let p = self.task.load(Ordering::Acquire);
        !p.is_null() && p != closed()
    }

    /// Takes the task out of the slot, if any (a closed slot stays closed).
    #[inline]
    pub(crate) fn take(&self) -> Option<Notified> {
        let p = self.task.load(Ordering::Relaxed);
        if p.is_null() || p == closed() {
            return None;
        }
        let old = self.task.swap(ptr::null_mut(), Ordering::AcqRel);
        if old == closed() {
            // Closed between the load and the swap (the hand-off took the
            // task): close it again. Nobody else writes meanwhile: only the
            // owner (this thread) puts tasks in, and the hand-off closes
            // once.
            self.task.store(closed(), Ordering::Release);
            return None;
        }
        owned(old)
    }

    /// Closes the slot (the stall hand-off, once per hand-off); returns the
    /// task it held.
    pub(crate) fn close(&self) -> Option<Notified> {
        owned(self.task.swap(closed(), Ordering::AcqRel))
    }

    /// Opens the slot again, empty (its owner, giving the slot up after a
    /// hand-off); returns the task it held, if any.
    pub(crate) fn reopen(&self) -> Option<Notified> {
        owned(self.task.swap(ptr::null_mut(), Ordering::AcqRel))
    }
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.reopen());
    }
}
