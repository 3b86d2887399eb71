//! `Parker`: how a go worker sleeps when it has nothing to do, and how
//! others wake it (a `parking_lot` mutex and condition variable, through
//! `crate::sync` so that loom can model them).
//!
//! Items are `pub` so the loom build can export this file alone
//! (`parkway::loom_sched`, modelled in `tests/loom_idle.rs`); the module
//! itself is crate-private.
#![allow(unreachable_pub, reason = "pub only for the loom build's export")]

#[cfg(not(loom))]
use std::time::Instant;

use crate::sync::{Condvar, Mutex};

/// One worker's sleeping place. An `unpark` before `park` is remembered
/// (one token), so a wake that races the decision to sleep is not lost.
#[derive(Debug, Default)]
pub struct Parker {
    /// The token: set by `unpark`, consumed by `park`.
    notified: Mutex<bool>,
    /// Where the worker waits for the token.
    condvar: Condvar,
}

impl Parker {
    /// Sleeps until the token is set, then consumes it.
    pub fn park(&self) {
        let mut notified = self.notified.lock();
        while !*notified {
            self.condvar.wait(&mut notified);
        }
        *notified = false;
    }

    /// Sleeps until the token is set or `deadline` passes; consumes the
    /// token if set. (Not in the loom build: loom has no clock.)
    #[cfg(not(loom))]
    pub fn park_until(&self, deadline: Instant) {
        let mut notified = self.notified.lock();
        while !*notified {
            if self.condvar.wait_until(&mut notified, deadline).timed_out() {
                break;
            }
        }
        *notified = false;
    }

    /// Sets the token and wakes the sleeper, if any.
    pub fn unpark(&self) {
        let mut notified = self.notified.lock();
        if !*notified {
            *notified = true;
            self.condvar.notify_one();
        }
    }
}
