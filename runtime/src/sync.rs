//! The one place this crate takes the atomics of its wake protocols from:
//! std normally, loom's models under `--cfg loom`, so the loom tests
//! exercise exactly the state machine that ships.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
