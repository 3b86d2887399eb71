//! The slot array of a [`Ring`](super::ring::Ring), allocated lazily when
//! it is large.
//!
//! A ring of up to [`SEGMENT`] slots gets all its slots at creation. A
//! larger one (`bounded(1_000_000)`) gets a small table of segment
//! pointers, all null, and each segment of [`SEGMENT`] slots is allocated,
//! zeroed, by the first thread that touches one of its slots, and installed
//! with a CAS (a thread that loses the race frees its copy). So creating a
//! large channel costs one small allocation, as tokio's lazily grown block
//! list does, and a channel that never fills never pays for its full
//! capacity. The price is one predictable branch per slot access, and on
//! the first pass through a large ring one allocation per [`SEGMENT`]
//! values.
//!
//! (Zeroed memory from `alloc_zeroed` is not enough on its own: glibc
//! serves a large `calloc` from pages it has used before once a large block
//! was freed, and then clears all of it up front; measured at ~140 µs for a
//! million slots.)

#[cfg(not(loom))]
use std::alloc::{self, Layout};
use std::fmt;
use std::ptr;

use crate::sync::{AtomicPtr, Ordering};

/// Slots per lazily allocated segment (a power of two). Small under loom,
/// so the models exercise the lazy path.
#[cfg(not(loom))]
pub(crate) const SEGMENT: usize = 4096;
#[cfg(loom)]
pub(crate) const SEGMENT: usize = 2;

const SEGMENT_SHIFT: u32 = SEGMENT.trailing_zeros();

/// A slot type whose all-zero bit pattern is its valid initial state.
///
/// # Safety
///
/// An all-zero `Self` must be a valid value, and the slot's initial state.
pub(crate) unsafe trait ZeroInit: Sized {
    /// The initial state built normally (loom's atomics cannot come from
    /// zeroed memory).
    fn fresh() -> Self;
}

/// `len` slots of type `S`, eager or lazily segmented.
pub(crate) enum Slots<S: ZeroInit> {
    /// All slots, allocated at creation.
    Flat(Box<[S]>),
    /// Segments of [`SEGMENT`] slots, null until first touched.
    Lazy {
        segments: Box<[AtomicPtr<S>]>,
        len: usize,
    },
}

impl<S: ZeroInit> Slots<S> {
    /// `len` slots in their initial state; large arrays are allocated
    /// lazily.
    pub(crate) fn new(len: usize) -> Self {
        assert!(len > 0, "a slot array needs at least one slot");
        if len <= SEGMENT {
            return Self::Flat(new_block(len));
        }
        let n = len.div_ceil(SEGMENT);
        let segments = (0..n).map(|_| AtomicPtr::new(ptr::null_mut())).collect();
        Self::Lazy { segments, len }
    }

    /// The number of slots.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Flat(b) => b.len(),
            Self::Lazy { len, .. } => *len,
        }
    }

    /// The slot at `index`, allocating its segment on first use.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> &S {
        match self {
            Self::Flat(b) => &b[index],
            Self::Lazy { segments, len } => {
                assert!(index < *len, "slot index out of bounds");
                let seg = &segments[index >> SEGMENT_SHIFT];
                let mut p = seg.load(Ordering::Acquire);
                if p.is_null() {
                    p = install(seg);
                }
                // SAFETY: `p` is a non-null segment of `SEGMENT` initialized
                // slots (see `install`), never freed before `self` is
                // dropped, and `index & (SEGMENT - 1) < SEGMENT`.
                unsafe { &*p.add(index & (SEGMENT - 1)) }
            }
        }
    }

    /// The slot at `index` if its memory exists (for drop, which must not
    /// allocate): always for flat arrays.
    pub(crate) fn get_mut_existing(&mut self, index: usize) -> Option<&mut S> {
        match self {
            Self::Flat(b) => b.get_mut(index),
            Self::Lazy { segments, .. } => {
                let p = segments
                    .get(index >> SEGMENT_SHIFT)?
                    .load(Ordering::Relaxed);
                if p.is_null() {
                    return None;
                }
                // SAFETY: as in `get`; `&mut self` makes the access unique.
                Some(unsafe { &mut *p.add(index & (SEGMENT - 1)) })
            }
        }
    }
}

/// Allocates a segment and installs it in `seg`, or adopts the one another
/// thread installed first.
#[cold]
#[inline(never)]
fn install<S: ZeroInit>(seg: &AtomicPtr<S>) -> *mut S {
    let fresh = Box::into_raw(new_block::<S>(SEGMENT)).cast::<S>();
    match seg.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(theirs) => {
            // SAFETY: `fresh` came from `Box::into_raw` of a `SEGMENT`-slot
            // boxed slice just above and was never shared.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, SEGMENT)) });
            theirs
        }
    }
}

impl<S: ZeroInit> Drop for Slots<S> {
    fn drop(&mut self) {
        if let Self::Lazy { segments, .. } = self {
            for seg in segments.iter() {
                let p = seg.load(Ordering::Relaxed);
                if !p.is_null() {
                    // SAFETY: a non-null segment was made by `install` from
                    // `Box::into_raw` of a `SEGMENT`-slot boxed slice, and is
                    // freed exactly once, here. The values it holds were
                    // dropped by the ring before.
                    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p, SEGMENT)) });
                }
            }
        }
    }
}

impl<S: ZeroInit> fmt::Debug for Slots<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lazy = matches!(self, Self::Lazy { .. });
        f.debug_struct("Slots")
            .field("len", &self.len())
            .field("lazy", &lazy)
            .finish()
    }
}

/// `len` slots in their initial state, all zero bits, from `alloc_zeroed`.
#[cfg(not(loom))]
fn new_block<S: ZeroInit>(len: usize) -> Box<[S]> {
    let layout = Layout::array::<S>(len).expect("slot array overflows the address space");
    if layout.size() == 0 {
        // A zero-sized slot: any aligned dangling pointer will do.
        return (0..len).map(|_| S::fresh()).collect();
    }
    // SAFETY: `layout` has a non-zero size (just checked).
    let ptr = unsafe { alloc::alloc_zeroed(layout) }.cast::<S>();
    if ptr.is_null() {
        alloc::handle_alloc_error(layout);
    }
    // SAFETY:
    // - `ptr` is non-null and comes from the global allocator with
    //   `Layout::array::<S>(len)`, the layout a `Box<[S]>` of length `len`
    //   frees with;
    // - the `len` slots are all zero bits, a valid initial `S` (`ZeroInit`).
    unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(ptr, len)) }
}

/// `len` slots in their initial state, built one by one (loom).
#[cfg(loom)]
fn new_block<S: ZeroInit>(len: usize) -> Box<[S]> {
    (0..len).map(|_| S::fresh()).collect()
}
