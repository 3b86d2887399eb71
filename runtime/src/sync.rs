//! The one place this crate takes the atomics and locks of its wake
//! protocols from: std and parking_lot normally, loom's models under
//! `--cfg loom`, so the loom tests exercise exactly the state machines that
//! ship (the task state word, and the workers' sleep/search bookkeeping and
//! parking).
//!
//! `Mutex`, `MutexGuard` and `Condvar` are parking_lot's own types in the
//! normal build (no wrapper, so nothing changes there); under loom they are
//! thin wrappers giving loom's types the subset of parking_lot's API this
//! crate uses: `lock()` without poisoning, and `Condvar::wait(&mut guard)`.

#[cfg(not(loom))]
#[allow(
    unused_imports,
    reason = "the facade offers what the wake protocols need; not all is used yet"
)]
mod imp {
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
}

#[cfg(loom)]
#[allow(
    unused_imports,
    reason = "the facade offers what the wake protocols need; not all is used yet"
)]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

    /// A mutex without poisoning (loom's, unwrapped), with parking_lot's
    /// `lock()`.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        /// An unlocked mutex holding `v`.
        pub(crate) fn new(v: T) -> Self {
            Self(loom::sync::Mutex::new(v))
        }

        /// Locks the mutex (a poisoned one is taken as is, as parking_lot
        /// has no poisoning).
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(|e| e.into_inner())))
        }
    }

    /// The guard of [`Mutex`]. Always `Some` except inside
    /// [`Condvar::wait`], which hands loom's guard to loom's condvar by
    /// value and puts back the one it returns.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> std::ops::Deref for MutexGuard<'_, T> {
        type Target = T;

        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard taken by Condvar::wait")
        }
    }

    impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard taken by Condvar::wait")
        }
    }

    /// A condition variable with parking_lot's `wait(&mut guard)`.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        /// A condition variable nobody waits on.
        #[allow(dead_code, reason = "parking_lot's API; Default is what is used")]
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }

        /// Unlocks `guard`'s mutex, waits for a notification, and locks it
        /// again.
        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard taken by Condvar::wait");
            let inner = self.0.wait(inner).unwrap_or_else(|e| e.into_inner());
            guard.0 = Some(inner);
        }

        /// Wakes one waiter, if any.
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
    }
}

#[allow(
    unused_imports,
    reason = "not every item is used in every configuration"
)]
pub(crate) use imp::*;
