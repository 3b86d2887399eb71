//! Background load for the `spawn_many_remote_busy*` workloads: tasks that
//! keep the workers busy until told to stop, and a way to wait until they
//! all have.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::STALL;

/// How long [`BusyLoad`] waits for a background loop to start or exit
/// before deciding the runtime lost it.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Spins for [`STALL`] (10 µs), offering the CPU to other threads between
/// checks of the clock, as tokio's `stall()` does: CPU-bound work inside a
/// task, as far as the scheduler can tell.
pub fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// A set of background loops running on one runtime, stopped (and waited
/// for) by [`stop`](Self::stop) or on drop.
///
/// Each loop owns a [`Spinner`] from [`spinner`](Self::spinner), checks
/// [`Spinner::keep_going`] every turn, and reports its exit by dropping the
/// spinner. [`wait_running`](Self::wait_running) waits until every loop has
/// taken its first turn, so that a measurement starts under load rather
/// than while the loops are still queued.
pub struct BusyLoad {
    running: Arc<AtomicBool>,
    started: Arc<AtomicUsize>,
    exited_tx: SyncSender<()>,
    exited_rx: Receiver<()>,
    loops: usize,
}

impl fmt::Debug for BusyLoad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusyLoad")
            .field("running", &self.running.load(Ordering::Relaxed))
            .field("started", &self.started.load(Ordering::Relaxed))
            .field("loops", &self.loops)
            .finish_non_exhaustive()
    }
}

impl Default for BusyLoad {
    fn default() -> Self {
        Self::new()
    }
}

impl BusyLoad {
    /// A load with no loops yet.
    #[must_use]
    pub fn new() -> Self {
        // Room for every exit signal is made as spinners are handed out:
        // a rendezvous channel would block a worker's drop of its spinner.
        let (exited_tx, exited_rx) = mpsc::sync_channel(1024);
        Self {
            running: Arc::new(AtomicBool::new(true)),
            started: Arc::new(AtomicUsize::new(0)),
            exited_tx,
            exited_rx,
            loops: 0,
        }
    }

    /// The token of one more background loop.
    ///
    /// # Panics
    /// Past 1024 loops.
    #[must_use]
    pub fn spinner(&mut self) -> Spinner {
        assert!(self.loops < 1024, "too many background loops");
        self.loops += 1;
        Spinner {
            running: Arc::clone(&self.running),
            started: Arc::clone(&self.started),
            first_turn: Cell::new(true),
            exited: self.exited_tx.clone(),
        }
    }

    /// Blocks until every loop has called [`Spinner::keep_going`] at least
    /// once: the load is on the workers.
    ///
    /// # Panics
    /// If a loop has not started after 30 s.
    pub fn wait_running(&self) {
        let start = Instant::now();
        while self.started.load(Ordering::Acquire) < self.loops {
            assert!(
                start.elapsed() < EXIT_TIMEOUT,
                "background load: {} of {} loops started after {EXIT_TIMEOUT:?}",
                self.started.load(Ordering::Relaxed),
                self.loops
            );
            std::thread::yield_now();
        }
    }

    /// Tells every loop to stop and waits until each has dropped its
    /// spinner.
    ///
    /// # Panics
    /// If a loop has not exited after 30 s (a lost task).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for BusyLoad {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        for exited in 0..self.loops {
            if self.exited_rx.recv_timeout(EXIT_TIMEOUT).is_err() && !std::thread::panicking() {
                panic!(
                    "background load: {} of {} loops still running after {EXIT_TIMEOUT:?}",
                    self.loops - exited,
                    self.loops
                );
            }
        }
    }
}

/// One background loop's handle on its [`BusyLoad`]: whether to go on, and,
/// when dropped, the signal that the loop is over.
#[derive(Debug)]
pub struct Spinner {
    running: Arc<AtomicBool>,
    started: Arc<AtomicUsize>,
    /// Whether `keep_going` has yet to be called (the loop's first turn).
    first_turn: Cell<bool>,
    exited: SyncSender<()>,
}

impl Spinner {
    /// Whether the load is still running; the first call also tells the
    /// load that this loop has started.
    #[must_use]
    pub fn keep_going(&self) -> bool {
        if self.first_turn.replace(false) {
            self.started.fetch_add(1, Ordering::Release);
        }
        self.running.load(Ordering::Relaxed)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        // The load may be gone already (it panicked): nobody to tell.
        let _ = self.exited.try_send(());
    }
}
