//! The "last one out signals" count-down most workloads end with.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

/// A count shared by the tasks of one iteration; the task that brings it
/// to zero signals the matching [`Done`] through a std `sync_channel`, as
/// tokio's benches do.
#[derive(Debug)]
pub struct Countdown {
    remaining: AtomicUsize,
    done: SyncSender<()>,
}

/// The waiting end of a [`Countdown`].
#[derive(Debug)]
pub struct Done(Receiver<()>);

/// A count-down from `n` (which must be at least 1) and its waiting end.
///
/// # Panics
/// If `n` is 0: nobody would ever signal.
#[must_use]
pub fn countdown(n: usize) -> (Arc<Countdown>, Done) {
    assert!(n > 0, "a countdown from 0 never signals");
    let (done, rx) = mpsc::sync_channel(1);
    let countdown = Countdown {
        remaining: AtomicUsize::new(n),
        done,
    };
    (Arc::new(countdown), Done(rx))
}

impl Countdown {
    /// Counts one down; the call that reaches zero signals.
    ///
    /// # Panics
    /// If called more times than the count.
    pub fn count_down(&self) {
        let before = self.remaining.fetch_sub(1, Ordering::AcqRel);
        assert!(before > 0, "counted down past zero");
        if before == 1 {
            self.done.send(()).expect("the waiter is gone");
        }
    }
}

impl Done {
    /// Blocks the calling thread until the count reaches zero.
    ///
    /// # Panics
    /// If every [`Countdown`] handle is dropped first (a task was lost or
    /// panicked).
    pub fn wait(self) {
        self.0
            .recv()
            .expect("count-down dropped before reaching zero");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_at_zero_only() {
        let (left, done) = countdown(2);
        left.count_down();
        assert!(done.0.try_recv().is_err(), "signalled early");
        left.count_down();
        done.wait();
    }
}
