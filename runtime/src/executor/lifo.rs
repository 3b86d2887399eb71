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
//!
//! The protocol lives in [`RawLifo`], generic over the pointee so that the
//! loom build can export it alone (`parkway::loom_sched`, modelled in
//! `tests/loom_handoff.rs`); [`LifoSlot`] is its typed face for tasks.
#![allow(unreachable_pub, reason = "pub only for the loom build's export")]

use std::ptr::{self, NonNull};

use crate::sync::{AtomicPtr, Ordering};

#[cfg(not(loom))]
use crate::task::raw::Header;
#[cfg(not(loom))]
use crate::task::Notified;

/// Polls of slot tasks a worker makes in a row before the slot's task goes
/// to the back of the queue.
#[cfg(not(loom))]
pub(crate) const MAX_LIFO_POLLS: usize = 3;

/// Its address marks a closed slot: a static's address is never an item's
/// (items live on the heap).
static CLOSED_MARK: u8 = 0;

/// The raw slot: null, an item (owned by the slot), or closed.
///
/// Who does what: the owner thread calls `replace`, `take` and `reopen`;
/// the hand-off calls `close`, once, while the owner is stuck (the owner
/// may still be running). Every item put in comes out exactly once: as the
/// item displaced by a `replace` (a closed slot gives back the item just
/// put), from `take`, `close` or `reopen`.
pub struct RawLifo<T> {
    /// The item, null, or `closed()`.
    ptr: AtomicPtr<T>,
}

impl<T> std::fmt::Debug for RawLifo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawLifo")
            .field("occupied", &self.is_occupied())
            .finish()
    }
}

impl<T> Default for RawLifo<T> {
    fn default() -> Self {
        RawLifo {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

impl<T> RawLifo<T> {
    /// The value of a closed slot.
    #[inline]
    fn closed() -> *mut T {
        ptr::addr_of!(CLOSED_MARK).cast::<T>().cast_mut()
    }

    /// A slot value as the item it owns, if it is one.
    #[inline]
    fn item(p: *mut T) -> Option<NonNull<T>> {
        if p == Self::closed() {
            return None;
        }
        NonNull::new(p)
    }

    /// Puts `new` in the slot; returns the item it displaced. A closed slot
    /// stays closed and gives `new` back as `Err`.
    #[inline]
    pub fn replace(&self, new: NonNull<T>) -> Result<Option<NonNull<T>>, NonNull<T>> {
        let old = self.ptr.swap(new.as_ptr(), Ordering::AcqRel);
        if old == Self::closed() {
            // Only the owner puts items in; only the hand-off closes, once.
            // So the slot still holds `new`: close it again, taking it back.
            let back = self.ptr.swap(Self::closed(), Ordering::AcqRel);
            debug_assert_eq!(back, new.as_ptr());
            return Err(new);
        }
        Ok(Self::item(old))
    }

    /// Whether an item is in the slot (a moment's answer).
    pub fn is_occupied(&self) -> bool {
        let p = self.ptr.load(Ordering::Acquire);
        !p.is_null() && p != Self::closed()
    }

    /// Takes the item out of the slot, if any (a closed slot stays closed).
    #[inline]
    pub fn take(&self) -> Option<NonNull<T>> {
        let p = self.ptr.load(Ordering::Relaxed);
        if p.is_null() || p == Self::closed() {
            return None;
        }
        let old = self.ptr.swap(ptr::null_mut(), Ordering::AcqRel);
        if old == Self::closed() {
            // Closed between the load and the swap (the hand-off took the
            // item): close it again. Nobody else writes meanwhile: only the
            // owner (this thread) puts items in, and the hand-off closes
            // once.
            self.ptr.store(Self::closed(), Ordering::Release);
            return None;
        }
        Self::item(old)
    }

    /// Closes the slot (the stall hand-off, once per hand-off); returns the
    /// item it held.
    pub fn close(&self) -> Option<NonNull<T>> {
        Self::item(self.ptr.swap(Self::closed(), Ordering::AcqRel))
    }

    /// Opens the slot again, empty (its owner, giving the slot up after a
    /// hand-off); returns the item it held, if any.
    pub fn reopen(&self) -> Option<NonNull<T>> {
        Self::item(self.ptr.swap(ptr::null_mut(), Ordering::AcqRel))
    }
}

/// A one-task slot owned by a worker; see the module doc.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub(crate) struct LifoSlot {
    /// The slot; an item is a queue entry's reference to its task.
    raw: RawLifo<Header>,
}

#[cfg(not(loom))]
impl LifoSlot {
    /// Puts `task` in the slot; returns the task it displaced, or
    /// `Err(task)` if the slot is closed.
    #[inline]
    pub(crate) fn replace(&self, task: Notified) -> Result<Option<Notified>, Notified> {
        match self.raw.replace(task.into_raw()) {
            // SAFETY: an item coming out of the slot is a queue entry's
            // reference that went in through `replace`, and comes out once
            // (`RawLifo`'s contract); the same holds for each `from_raw`
            // below.
            Ok(displaced) => Ok(displaced.map(|p| unsafe { Notified::from_raw(p) })),
            // SAFETY: as above (given back at once).
            Err(p) => Err(unsafe { Notified::from_raw(p) }),
        }
    }

    /// Whether a task is in the slot (a moment's answer).
    pub(crate) fn is_occupied(&self) -> bool {
        self.raw.is_occupied()
    }

    /// Takes the task out of the slot, if any.
    #[inline]
    pub(crate) fn take(&self) -> Option<Notified> {
        // SAFETY: as in `replace`.
        self.raw.take().map(|p| unsafe { Notified::from_raw(p) })
    }

    /// Closes the slot (the stall hand-off); returns the task it held.
    pub(crate) fn close(&self) -> Option<Notified> {
        // SAFETY: as in `replace`.
        self.raw.close().map(|p| unsafe { Notified::from_raw(p) })
    }

    /// Opens the slot again, empty; returns the task it held, if any.
    pub(crate) fn reopen(&self) -> Option<Notified> {
        // SAFETY: as in `replace`.
        self.raw.reopen().map(|p| unsafe { Notified::from_raw(p) })
    }
}

#[cfg(not(loom))]
impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.reopen());
    }
}
