//! The one place this crate takes its atomics, cells, locks and thread
//! parking from: std and parking_lot normally, loom's models under
//! `--cfg loom`, so the loom tests exercise exactly the code that ships.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use std::sync::Arc;
    pub(crate) use std::thread::{current as current_thread, park, Thread};

    /// A spin-loop hint (loom: a yield, so the model can switch threads).
    #[inline]
    pub(crate) fn spin_loop() {
        std::hint::spin_loop();
    }

    /// `UnsafeCell` with loom's closure-based accessors.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline]
        pub(crate) const fn new(v: T) -> Self {
            Self(std::cell::UnsafeCell::new(v))
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// A mutex without poisoning (parking_lot's).
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

    /// The guard of [`Mutex`].
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        #[inline]
        pub(crate) fn new(v: T) -> Self {
            Self(parking_lot::Mutex::new(v))
        }

        #[inline]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }

        /// The value, through unique access: no locking.
        #[inline]
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut()
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::thread::{current as current_thread, park, Thread};

    /// A spin-loop hint (loom: a yield, so the model can switch threads).
    #[inline]
    pub(crate) fn spin_loop() {
        loom::thread::yield_now();
    }

    /// A mutex without poisoning (loom's, unwrapped).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// The guard of [`Mutex`].
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(v: T) -> Self {
            Self(loom::sync::Mutex::new(v))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

/// Where the code relies on a SeqCst read-modify-write (or store) being
/// ordered before a later SeqCst load of another location (the Dekker
/// handshake between a lock-free push and a parking receiver), the C++
/// memory model already guarantees it through the single total order of
/// SeqCst operations, and x86 compiles it without a fence. Loom models
/// SeqCst accesses as AcqRel only, so under loom this is a real SeqCst
/// fence that restores the guarantee in the model; elsewhere it is nothing.
#[inline(always)]
pub(crate) fn loom_sc_fence() {
    #[cfg(loom)]
    loom::sync::atomic::fence(loom::sync::atomic::Ordering::SeqCst);
}

#[allow(
    unused_imports,
    reason = "not every item is used in every configuration"
)]
pub(crate) use imp::*;
