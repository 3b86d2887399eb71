//! `Parker`: how a go worker sleeps when it has nothing to do, and how
//! others wake it (a `parking_lot` mutex and condition variable).

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// One worker's sleeping place. An `unpark` before `park` is remembered
/// (one token), so a wake that races the decision to sleep is not lost.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    /// The token: set by `unpark`, consumed by `park`.
    notified: Mutex<bool>,
    /// Where the worker waits for the token.
    condvar: Condvar,
}

impl Parker {
    /// Sleeps until the token is set, then consumes it.
    pub(crate) fn park(&self) {
        let mut notified = self.notified.lock();
        while !*notified {
            self.condvar.wait(&mut notified);
        }
        *notified = false;
    }

    /// Sleeps until the token is set or `deadline` passes; consumes the
    /// token if set.
    pub(crate) fn park_until(&self, deadline: Instant) {
        let mut notified = self.notified.lock();
        while !*notified {
            if self.condvar.wait_until(&mut notified, deadline).timed_out() {
                break;
            }
        }
        *notified = false;
    }

    /// Sets the token and wakes the sleeper, if any.
    pub(crate) fn unpark(&self) {
        let mut notified = self.notified.lock();
        if !*notified {
            *notified = true;
            self.condvar.notify_one();
        }
    }
}
