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
