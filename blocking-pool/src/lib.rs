//! The elastic thread pool parkway runs blocking work on: `thread` and
//! `thread_call`, core.async's `thread` and `thread-call`.
//!
//! Go blocks park, they never block; work that must block (file I/O, a
//! blocking client library, a long computation) goes here instead. The pool
//! starts threads on demand up to a limit (`max_threads`, the runtime's
//! `max_blocking_threads`) and lets idle ones exit after a keep-alive
//! (`keep_alive`, the runtime's `blocking_keep_alive`). When every thread
//! is busy, work queues first in, first out.
//!
//! - [`BlockingPool`] is the pool. A runtime owns one (`parkway::thread`
//!   uses the current runtime's); a program without a runtime can make its
//!   own and [`spawn`](BlockingPool::spawn) on it.
//! - [`BlockingHandle<T>`] is a job's result: a future for go blocks, a
//!   go-checked blocking [`join`](BlockingHandle::join) for plain threads,
//!   and [`into_chan`](BlockingHandle::into_chan) for a channel that
//!   delivers the result and closes, as core.async's `thread` returns a
//!   channel.
//! - [`JoinError`] and [`Id`] live here so that a `BlockingHandle` and the
//!   runtime's `JoinHandle` give the same error type; `parkway`
//!   re-exports them.
//!
//! A job is run, or its handle reports why not (the pool shut down first;
//! the OS refused a thread while the pool had none): never lost silently.
//!
//! # Examples
//!
//! ```
//! use std::sync::mpsc;
//! use std::time::Duration;
//! use parkway_blocking_pool::{BlockingPool, PoolConfig};
//!
//! let pool = BlockingPool::new(PoolConfig {
//!     max_threads: 4,
//!     ..PoolConfig::default()
//! })
//! .unwrap();
//! let (tx, rx) = mpsc::channel();
//! for i in 0..10 {
//!     let tx = tx.clone();
//!     pool.execute(Box::new(move || tx.send(i * i).unwrap())).unwrap();
//! }
//! drop(tx);
//! let mut squares: Vec<i32> = rx.iter().collect();
//! squares.sort();
//! assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//! assert!(pool.num_threads() <= 4);
//! assert!(pool.shutdown(Duration::from_secs(5)));
//! ```

#![forbid(unsafe_code)]

mod error;
mod handle;
#[cfg(not(loom))]
mod pool;

pub use error::{Id, JoinError, Origin};
pub use handle::BlockingHandle;

/// The handle's completion cell alone, for the loom models in
/// `tests/loom_handle.rs` (the pool itself is not built under loom).
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_handle {
    use std::panic::Location;

    use crate::handle::{pair, Completer};
    use crate::BlockingHandle;

    /// A job's completer: run it (or drop it) to complete the handle.
    pub struct Job<T>(Completer<T>);

    impl<T> std::fmt::Debug for Job<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Job")
        }
    }

    impl<T> Job<T> {
        /// Runs `f` as the job and completes the handle with its result.
        pub fn run(self, f: impl FnOnce() -> T) {
            self.0.run(f);
        }
    }

    /// A handle and the job that completes it.
    #[track_caller]
    pub fn new<T>() -> (BlockingHandle<T>, Job<T>) {
        let (h, c) = pair(Location::caller());
        (h, Job(c))
    }
}

#[cfg(not(loom))]
pub use pool::{
    BlockingPool, ExecuteError, ExecuteErrorKind, Job, PoolConfig, ThreadHook, DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_THREADS,
};
