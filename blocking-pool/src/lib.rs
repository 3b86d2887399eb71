//! The elastic thread pool parkway runs blocking work on: `thread` and
//! `thread_call`, core.async's `thread` and `thread-call`.
//!
//! Go blocks park, they never block; work that must block (file I/O, a
//! blocking client library, a long computation) goes here instead. The pool
//! starts threads on demand up to a limit (`max_blocking_threads`) and lets
//! idle ones exit after a keep-alive (`blocking_keep_alive`). `thread` and
//! `thread_call` will hand each result back through a `BlockingHandle<T>`:
//! a future for go blocks, a go-checked blocking `join()` for plain threads,
//! and `into_chan()` for a channel of the result, as core.async's `thread`
//! returns a channel.
//!
//! What is here so far is the pool itself, [`BlockingPool`]: elastic
//! threads, a queue when saturated, keep-alive, named threads, graceful
//! shutdown. `thread`, `thread_call` and `BlockingHandle` build on it next
//! (parkway issue 5), and `parkway` will re-export them.
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

mod pool;

pub use pool::{
    BlockingPool, ExecuteError, ExecuteErrorKind, Job, PoolConfig, ThreadHook, DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_THREADS,
};
