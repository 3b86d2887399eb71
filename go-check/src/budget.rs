//! The cooperative budget: how many channel operations a task may complete
//! in one poll before it must yield.
//!
//! The runtime activates a budget around each task poll ([`enter`]); channel
//! operations spend one unit each ([`try_spend`]) and, once it is spent,
//! wake themselves and return `Pending`, so a task looping over always-ready
//! channels cannot starve the others on its worker. Outside a runtime no
//! budget is active and every operation may continue.
//!
//! # Examples
//!
//! ```
//! use parkway_go_check::budget;
//!
//! assert!(budget::try_spend()); // no budget active: always true
//! let _poll = budget::enter(2);
//! assert!(budget::try_spend());
//! assert!(budget::try_spend());
//! assert!(!budget::try_spend()); // spent: the op yields
//! assert!(budget::must_yield());
//! ```

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

/// The budget the runtime gives each task poll.
pub const DEFAULT: u32 = 128;

thread_local! {
    /// The active budget's remaining units; `None` when no budget is active.
    static BUDGET: Cell<Option<u32>> = const { Cell::new(None) };
}

/// The active budget's remaining units, `None` when inactive or during
/// thread-local teardown.
#[inline]
fn get() -> Option<u32> {
    BUDGET.try_with(Cell::get).unwrap_or(None)
}

/// Spends one unit of the active budget, if any.
///
/// Returns `true` when the caller may continue: no budget is active (outside
/// a runtime), or one unit was spent. Returns `false` when the budget is
/// spent: the caller must wake its task's waker and return `Pending`.
#[inline]
pub fn try_spend() -> bool {
    BUDGET
        .try_with(|b| match b.get() {
            None => true,
            Some(0) => false,
            Some(n) => {
                b.set(Some(n - 1));
                true
            }
        })
        .unwrap_or(true)
}

/// Whether a budget is active and spent.
#[inline]
pub fn must_yield() -> bool {
    get() == Some(0)
}

/// The active budget's remaining units; `None` when no budget is active.
#[inline]
pub fn remaining() -> Option<u32> {
    get()
}

/// Activates a budget of `n` units for the current thread until the guard is
/// dropped, which restores the budget (or its absence) from before.
///
/// The runtime calls this around each task poll with [`DEFAULT`].
#[must_use = "the budget is deactivated when the guard is dropped"]
pub fn enter(n: u32) -> BudgetGuard {
    let previous = BUDGET.try_with(|b| b.replace(Some(n))).unwrap_or(None);
    BudgetGuard {
        previous,
        _not_send: PhantomData,
    }
}

/// Refills the active budget to `n` units; does nothing when no budget is
/// active.
pub fn reset(n: u32) {
    let _ = BUDGET.try_with(|b| {
        if b.get().is_some() {
            b.set(Some(n));
        }
    });
}

/// Keeps a budget active; returned by [`enter`]. Dropping it restores the
/// previous budget. Not `Send`: the budget belongs to the thread.
#[must_use = "the budget is deactivated when the guard is dropped"]
pub struct BudgetGuard {
    /// The budget to restore on drop.
    previous: Option<u32>,
    /// Makes the guard `!Send + !Sync`.
    _not_send: PhantomData<*const ()>,
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        let previous = self.previous;
        let _ = BUDGET.try_with(|b| b.set(previous));
    }
}

impl fmt::Debug for BudgetGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetGuard")
            .field("remaining", &get())
            .field("previous", &self.previous)
            .finish()
    }
}
