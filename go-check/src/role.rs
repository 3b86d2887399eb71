//! The role of the current thread: a go worker of a runtime in some mode,
//! or not a go worker.
//!
//! The role is one `Cell<u8>` in a const-initialized thread-local, so the
//! checks that read it cost one thread-local access. It is read with
//! `try_with`: during thread-local teardown (a value dropped by another
//! thread-local's destructor) the thread counts as not a go worker.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use crate::GoCheck;

/// Role byte: not a go worker.
pub(crate) const NOT_WORKER: u8 = 0;
/// Role byte: a go worker of a runtime in [`GoCheck::Off`].
const WORKER_OFF: u8 = 1;
/// Role byte: a go worker of a runtime in [`GoCheck::Warn`].
pub(crate) const WORKER_WARN: u8 = 2;
/// Role byte: a go worker of a runtime in [`GoCheck::Strict`].
const WORKER_STRICT: u8 = 3;

thread_local! {
    /// This thread's role byte (one of the constants above).
    static ROLE: Cell<u8> = const { Cell::new(NOT_WORKER) };
}

/// The current role byte; [`NOT_WORKER`] during thread-local teardown.
#[inline]
pub(crate) fn role() -> u8 {
    ROLE.try_with(Cell::get).unwrap_or(NOT_WORKER)
}

/// Replaces the role byte and returns the previous one (`NOT_WORKER` if the
/// thread-local is gone).
fn replace_role(new: u8) -> u8 {
    ROLE.try_with(|r| r.replace(new)).unwrap_or(NOT_WORKER)
}

const fn encode(mode: GoCheck) -> u8 {
    match mode {
        GoCheck::Off => WORKER_OFF,
        GoCheck::Warn => WORKER_WARN,
        GoCheck::Strict => WORKER_STRICT,
    }
}

pub(crate) const fn decode(role: u8) -> Option<GoCheck> {
    match role {
        WORKER_OFF => Some(GoCheck::Off),
        WORKER_WARN => Some(GoCheck::Warn),
        WORKER_STRICT => Some(GoCheck::Strict),
        _ => None,
    }
}

/// Marks the current thread as a go worker until dropped; returned by
/// [`enter_go_worker`].
///
/// Dropping it restores the role the thread had before. Guards nest; drop
/// them in reverse order of creation (as scopes do). The guard is neither
/// `Send` nor `Sync`: the role belongs to the thread that entered it.
#[must_use = "the thread stops being a go worker when the guard is dropped"]
pub struct GoWorkerGuard {
    /// The role byte to restore on drop.
    previous: u8,
    /// The role byte this guard set.
    entered: u8,
    /// Makes the guard `!Send + !Sync`.
    _not_send: PhantomData<*const ()>,
}

/// Marks the current thread as a go worker of a runtime in `mode`, until
/// the returned guard is dropped.
///
/// The runtime calls this when a worker thread starts (and a hand-off
/// standby when it takes a worker's place). Entering while already a go
/// worker is allowed; the guard restores the earlier role.
///
/// # Examples
///
/// ```
/// use parkway_go_check::{current_mode, enter_go_worker, is_go_worker, GoCheck};
///
/// assert!(!is_go_worker());
/// {
///     let _worker = enter_go_worker(GoCheck::Strict);
///     assert_eq!(current_mode(), Some(GoCheck::Strict));
///     {
///         let _inner = enter_go_worker(GoCheck::Off);
///         assert_eq!(current_mode(), Some(GoCheck::Off));
///     }
///     assert_eq!(current_mode(), Some(GoCheck::Strict));
/// }
/// assert_eq!(current_mode(), None);
/// ```
pub fn enter_go_worker(mode: GoCheck) -> GoWorkerGuard {
    let entered = encode(mode);
    let previous = replace_role(entered);
    GoWorkerGuard {
        previous,
        entered,
        _not_send: PhantomData,
    }
}

/// Whether the current thread is a go worker (in any mode, `Off` included).
///
/// False during thread-local teardown.
#[inline]
pub fn is_go_worker() -> bool {
    role() != NOT_WORKER
}

/// The go-check mode of the runtime whose go worker the current thread is;
/// `None` when it is not a go worker.
#[inline]
pub fn current_mode() -> Option<GoCheck> {
    decode(role())
}

impl Drop for GoWorkerGuard {
    fn drop(&mut self) {
        replace_role(self.previous);
    }
}

impl fmt::Debug for GoWorkerGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoWorkerGuard")
            .field("mode", &decode(self.entered))
            .field("previous", &decode(self.previous))
            .finish()
    }
}
