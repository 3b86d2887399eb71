//! The write-once cell behind `promise()`: the first value sent is kept and
//! cloned to every receiver, forever; later sends are accepted and
//! discarded, as core.async's `promise-chan` does.

use std::fmt;
use std::mem::MaybeUninit;

use crate::sync::{AtomicUsize, Mutex, Ordering, UnsafeCell};

/// No value yet; open.
const EMPTY: usize = 0;
/// A sender won the race and is writing the value.
const WRITING: usize = 1;
/// The value is written and readable by everyone; terminal.
const FULL: usize = 2;
/// Closed before any value arrived; terminal.
const CLOSED: usize = 3;

/// Why [`PromiseCell::set`] did not store the value.
#[derive(Debug)]
pub(crate) enum SetError<T> {
    /// A value is already there: this one is discarded by policy.
    AlreadySet(T),
    /// Closed while empty: the value goes back to the sender.
    Closed(T),
}

/// A write-once cell with a captured clone function.
///
/// `state` moves `EMPTY → WRITING → FULL` (the one successful `set`) or
/// `EMPTY → CLOSED` (`close` before any value); both ends are terminal.
pub(crate) struct PromiseCell<T> {
    state: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
    clone: fn(&T) -> T,
    /// Serializes clones, so `T` need only be `Send` (two threads running
    /// a `RefCell`'s `clone` on one value at once would race).
    clone_lock: Mutex<()>,
}

impl<T> PromiseCell<T> {
    /// An empty cell that hands out values with `clone`.
    pub(crate) fn new(clone: fn(&T) -> T) -> Self {
        Self {
            state: AtomicUsize::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            clone,
            clone_lock: Mutex::new(()),
        }
    }

    /// Stores `v` if the cell is empty and open.
    pub(crate) fn set(&self, v: T) -> Result<(), SetError<T>> {
        match self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {
                // SAFETY: winning the EMPTY → WRITING CAS gives this thread
                // exclusive access to `value`: readers only touch it after
                // observing FULL, which is stored below, after the write.
                self.value.with_mut(|p| unsafe { (*p).write(v) });
                self.state.store(FULL, Ordering::SeqCst);
                Ok(())
            }
            Err(CLOSED) => Err(SetError::Closed(v)),
            Err(_) => Err(SetError::AlreadySet(v)),
        }
    }

    /// A clone of the value, if one was delivered.
    pub(crate) fn get(&self) -> Option<T> {
        if self.state.load(Ordering::SeqCst) == FULL {
            let _one_at_a_time = self.clone_lock.lock();
            // SAFETY: FULL is terminal and was stored (SeqCst) after the
            // value was written; the load above synchronizes with it. From
            // then on the value is never written, and `clone_lock` makes
            // this the only reference in use.
            Some(
                self.value
                    .with(|p| (self.clone)(unsafe { (*p).assume_init_ref() })),
            )
        } else {
            None
        }
    }

    /// Whether a value was delivered.
    pub(crate) fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) == FULL
    }

    /// Closes the cell if it is still empty. A cell being written or full
    /// keeps its value. Returns whether a value is (or is about to be) there.
    pub(crate) fn close(&self) -> bool {
        loop {
            match self
                .state
                .compare_exchange(EMPTY, CLOSED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) | Err(CLOSED) => return false,
                Err(FULL) => return true,
                // A writer is between its CAS and its store: it will finish.
                Err(_) => crate::sync::spin_loop(),
            }
        }
    }
}

impl<T> Drop for PromiseCell<T> {
    fn drop(&mut self) {
        if self.state.load(Ordering::Acquire) == FULL {
            // SAFETY: FULL means the value was initialized, and `&mut self`
            // means nobody else can read it any more; it is dropped once.
            self.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

impl<T> fmt::Debug for PromiseCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromiseCell")
            .field("set", &self.is_set())
            .finish()
    }
}

// SAFETY: the value is written once by the thread that won the EMPTY →
// WRITING CAS, before any reader can see it, and afterwards only read, one
// reader at a time (`clone_lock`). That is `Mutex<T>`'s discipline, which is
// `Sync` for `T: Send`.
unsafe impl<T: Send> Sync for PromiseCell<T> {}
// SAFETY: owning the cell owns at most one `T`; sending it needs `T: Send`.
unsafe impl<T: Send> Send for PromiseCell<T> {}
