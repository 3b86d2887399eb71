//! A global allocator that counts net heap bytes while a window is open:
//! how `idle_task_bytes` sees what a parked task costs.
//!
//! This is the one place in the bench crate with `unsafe`: a
//! `GlobalAlloc` can only be written as an `unsafe impl`, and its methods
//! can only reach the system allocator through `unsafe` calls. The library
//! keeps `#![forbid(unsafe_code)]`; this module lives in the `compare`
//! binary's own crate, which denies unsafe code everywhere else. Every
//! method hands the call to [`System`] unchanged and only adds or subtracts
//! the size in an atomic counter afterwards.
//!
//! Outside a window the overhead is one relaxed load of a flag per call,
//! paid alike by both runtimes.
#![allow(unsafe_code, reason = "a GlobalAlloc is an unsafe impl")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use parkway_benches::rt::AllocationMeter;

/// Whether a window is open.
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Bytes allocated minus bytes freed since the window opened.
static NET: AtomicIsize = AtomicIsize::new(0);

/// [`System`], counting.
#[derive(Debug)]
pub(crate) struct CountingAlloc;

/// The window over [`CountingAlloc`]'s counter.
#[derive(Debug)]
pub(crate) struct Meter;

impl AllocationMeter for Meter {
    fn start(&self) {
        NET.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
    }

    fn stop(&self) -> isize {
        COUNTING.store(false, Ordering::SeqCst);
        NET.load(Ordering::SeqCst)
    }
}

/// Adds `delta` bytes to the count if a window is open. Neither allocates
/// nor panics.
fn record(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        NET.fetch_add(delta, Ordering::Relaxed);
    }
}

/// A layout's size as a signed count; `Layout` guarantees it is at most
/// `isize::MAX`, so the cast is exact.
#[allow(
    clippy::cast_possible_wrap,
    reason = "Layout sizes never exceed isize::MAX"
)]
fn signed(size: usize) -> isize {
    size as isize
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// implements `GlobalAlloc` correctly, and returns what `System` returned;
// the bookkeeping only touches two atomics, so it neither allocates (no
// recursion into the allocator) nor unwinds.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size),
        // which is `System::alloc`'s.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(signed(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`: the caller's contract is `System`'s.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(signed(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator with
        // `layout`; every pointer this allocator hands out came from
        // `System` with the same layout.
        unsafe { System.dealloc(ptr, layout) };
        record(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY:
        // - `ptr` came from `System` with `layout` (see `dealloc`);
        // - the caller guarantees `new_size` is non-zero and does not
        //   overflow `isize` once rounded to `layout.align()`, which is
        //   `System::realloc`'s contract too.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(signed(new_size) - signed(layout.size()));
        }
        new
    }
}
