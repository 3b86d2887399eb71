//! The hand-written `RawWaker` vtable of a task: a waker is a header
//! pointer that owns one reference.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::executor::schedule_task;
use crate::task::raw::{drop_ref, Header};
use crate::task::state::WakeAction;
use crate::task::Notified;

/// The vtable every task waker uses.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the task at `ptr` that does not own a reference: the caller
/// must wrap it in `ManuallyDrop` and keep its own reference alive while
/// the waker is in use (clones take references of their own).
///
/// # Safety
/// `ptr` is a live task, kept alive by the caller for as long as the waker
/// is used.
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    let raw = RawWaker::new(ptr.as_ptr() as *const (), &VTABLE);
    // SAFETY: the vtable functions below uphold `RawWaker`'s contract for
    // a pointer to a live task header.
    unsafe { Waker::from_raw(raw) }
}

/// The header pointer of a waker's data pointer.
///
/// # Safety
/// `data` came from `borrowed` or `clone`.
unsafe fn header(data: *const ()) -> NonNull<Header> {
    // SAFETY: our wakers never carry a null pointer.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

/// `RawWakerVTable::clone`: one more reference.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the task alive.
    let ptr = unsafe { header(data) };
    // SAFETY: as above.
    unsafe { ptr.as_ref() }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

/// `RawWakerVTable::wake`: schedule the task, consuming the waker's
/// reference.
unsafe fn wake(data: *const ()) {
    // SAFETY: the waker owns a reference, so the task is alive.
    let ptr = unsafe { header(data) };
    // SAFETY: as above.
    let h = unsafe { ptr.as_ref() };
    match h.state.wake_by_val() {
        WakeAction::None => {}
        WakeAction::Submit => {
            // SAFETY: the waker's reference moves to the queue entry.
            let task = unsafe { Notified::from_raw(ptr) };
            schedule_task(task, false);
        }
        WakeAction::Dealloc => {
            // SAFETY: the count reached zero with the waker's reference.
            unsafe { (h.vtable.dealloc)(ptr) }
        }
    }
}

/// `RawWakerVTable::wake_by_ref`: schedule the task, keeping the waker.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the borrowed waker's owner keeps the task alive.
    let ptr = unsafe { header(data) };
    // SAFETY: as above.
    let h = unsafe { ptr.as_ref() };
    if h.state.wake_by_ref() == WakeAction::Submit {
        // SAFETY: `wake_by_ref` took a reference for the queue entry.
        let task = unsafe { Notified::from_raw(ptr) };
        schedule_task(task, false);
    }
}

/// `RawWakerVTable::drop`: drop the waker's reference.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns a reference.
    unsafe { drop_ref(header(data)) }
}
