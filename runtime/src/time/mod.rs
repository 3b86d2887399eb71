//! Time: `sleep`, `sleep_until`, core.async's `timeout` channel, and
//! `with_timeout` for any future.
//!
//! Timers live in a hierarchical timing wheel with 1 ms resolution
//! (`wheel.rs`), driven by the runtime's workers (`driver.rs`). A timer
//! never fires before its deadline. A `Sleep` registers its timer on first
//! poll (so building a million of them costs no locking) and removes it
//! when dropped, freeing the entry at once.

pub(crate) mod driver;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, with_timeout, Elapsed, WithTimeout};

use std::time::{Duration, Instant};

use crate::Handle;

/// The instant `duration` from now; a duration too large to add is
/// "forever", and a century will do.
fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

/// The current runtime, for the timer function `what`; panics outside a
/// runtime with a message saying how to get one.
#[track_caller]
fn timer_handle(what: &str) -> Handle {
    match Handle::try_current() {
        Ok(h) => h,
        Err(_) => panic!(
            "parkway::{what} called outside a parkway runtime: call it in a go block or \
             inside `Runtime::block_on` (or enter a runtime with `Runtime::enter`)"
        ),
    }
}
