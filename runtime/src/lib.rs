//! parkway: a Rust runtime with core.async's model: go blocks park, they
//! never block.
//!
//! Go blocks (tasks, started with [`go`]) run on a work-stealing pool of go
//! workers and coordinate through [`chan`]nels whose buffer policy is chosen
//! at creation: [`bounded`](chan::bounded), [`unbuffered`](chan::unbuffered),
//! [`dropping`](chan::dropping), [`sliding`](chan::sliding) and
//! [`promise`](chan::promise). A go block waits by *parking*:
//! `tx.send(v).await`, `rx.recv().await`, [`sleep`] and [`alt!`] give its
//! worker back to other go blocks. go-check ([`GoCheck`]) makes a blocking
//! op on a go worker (`send_blocking`, `recv_blocking`, `alt_blocking!`,
//! `block_on`) fail loudly instead of silently starving the pool, and its
//! stall watchdog reports a go block that holds its worker past a threshold
//! by any other means (a `std::thread::sleep`, a file read, a long loop),
//! with the task's name, spawn location and, on Linux, the stuck thread's
//! stack, while another thread takes over the rest of that worker's tasks
//! ([`Builder::compensate`]). The same
//! channels offer blocking ops for plain threads, callback ops (`put`,
//! `take`) and non-waiting ops (`try_send`, `try_recv`), as core.async
//! does.
//!
//! | core.async | parkway |
//! |---|---|
//! | `(go ..)` | [`go`]`(async { .. })`, [`task::Builder`] for a named one |
//! | `<!!` on a go block's channel | `rt.block_on(handle)` or `handle.await` |
//! | `(timeout ms)` | [`timeout`]`(Duration)`, a channel that closes at the deadline |
//! | `(<! (timeout ms))` | [`sleep`]`(Duration).await` |
//!
//! `go` requires a `Send` future (there is no `spawn_local` yet);
//! [`Runtime::block_on`] accepts any future. `fork()` is not supported.
//!
//! # Examples
//!
//! A producer go block and a consumer over a bounded channel, with a
//! deadline from `timeout` raced in `alt!`:
//!
//! ```
//! use std::time::Duration;
//! use parkway::chan;
//!
//! #[parkway::main(worker_threads = 2)]
//! async fn main() {
//!     let (tx, rx) = chan::bounded(2);
//!     let producer = parkway::go(async move {
//!         for i in 1..=5 {
//!             tx.send(i).await.unwrap(); // parks while the buffer is full
//!         }
//!     });
//!
//!     let mut got = Vec::new();
//!     let deadline = parkway::timeout(Duration::from_secs(10));
//!     loop {
//!         parkway::alt! {
//!             recv(rx) -> v => match v {
//!                 Some(v) => got.push(v),
//!                 None => break, // closed: the producer is done
//!             },
//!             recv(deadline) -> _ => panic!("too slow"),
//!         }
//!     }
//!     producer.await.unwrap();
//!     assert_eq!(got, [1, 2, 3, 4, 5]);
//! }
//! ```

#[cfg(not(loom))]
mod block_on;
#[cfg(not(loom))]
mod blocking;
#[cfg(not(loom))]
mod builder;
#[cfg(not(loom))]
mod combinators;
#[cfg(not(loom))]
mod context;
#[cfg(not(loom))]
mod executor;
#[cfg(not(loom))]
mod handle;
#[cfg(not(loom))]
mod runtime;
mod sync;
#[cfg(not(loom))]
pub mod task;
#[cfg(not(loom))]
mod time;

/// The task state machine alone, for the loom model in
/// `tests/loom_task.rs`.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_task {
    pub use crate::loom_state::{IdleAction, RunAction, Snapshot, State, WakeAction};
}
/// The task state machine, compiled alone for loom.
#[cfg(loom)]
#[path = "task/state.rs"]
mod loom_state;

/// The workers' sleep/search bookkeeping and their parker alone, for the
/// loom models in `tests/loom_idle.rs`.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_sched {
    pub use crate::loom_idle::Idle;
    pub use crate::loom_lifo::RawLifo;
    pub use crate::loom_park::Parker;
}
/// `Idle`, compiled alone for loom.
#[cfg(loom)]
#[path = "executor/idle.rs"]
mod loom_idle;
/// The LIFO slot's protocol, compiled alone for loom.
#[cfg(loom)]
#[path = "executor/lifo.rs"]
mod loom_lifo;
/// `Parker`, compiled alone for loom.
#[cfg(loom)]
#[path = "executor/park.rs"]
mod loom_park;

#[cfg(not(loom))]
pub use blocking::{thread, thread_call};
#[cfg(not(loom))]
pub use builder::{
    Builder, DEFAULT_COMPENSATION_THREADS, DEFAULT_STALL_THRESHOLD, MAX_COMPENSATION_THREADS,
    MAX_WORKER_THREADS, STALL_THRESHOLD_ENV,
};
#[cfg(not(loom))]
pub use combinators::*;
#[cfg(not(loom))]
pub use context::EnterGuard;
#[cfg(not(loom))]
pub use handle::{Handle, RuntimeMetrics, TryCurrentError};
#[cfg(not(loom))]
pub use runtime::Runtime;
#[cfg(not(loom))]
pub use task::{yield_now, JoinError, JoinHandle};
#[cfg(not(loom))]
pub use time::{sleep, sleep_until, timeout, with_timeout, Elapsed, Sleep, WithTimeout};

#[cfg(not(loom))]
pub use parkway_blocking_pool::{BlockingHandle, BlockingPool, PoolConfig};
pub use parkway_channels as chan;
pub use parkway_channels::{alt, alt_blocking};
pub use parkway_go_check::{GoCheck, Report, ReportKind};
/// Turns `async fn main` into a `main` that builds a [`Runtime`] and runs
/// the body with [`Runtime::block_on`]; options: `worker_threads = N`,
/// `go_check = "off" | "warn" | "strict"`, `thread_name = "..."`,
/// `crate = "path"`.
///
/// ```
/// #[parkway::main(worker_threads = 2)]
/// async fn main() {
///     let h = parkway::go(async { 40 + 2 });
///     assert_eq!(h.await.unwrap(), 42);
/// }
/// ```
pub use parkway_macros::main;
/// Like [`main`] for tests: `#[parkway::test] async fn name() { .. }`
/// becomes a `#[test]` that runs the body on a fresh runtime (same
/// options).
///
/// ```
/// #[parkway::test(go_check = "strict")]
/// async fn answers() {
///     assert_eq!(parkway::go(async { 7 }).await.unwrap(), 7);
/// }
/// # fn main() {}
/// ```
pub use parkway_macros::test;

/// Spawns a go block on the current runtime and returns the handle to its
/// output (core.async's `go`).
///
/// The block runs on the go pool; it should wait only by parking
/// (`.await` on channels, [`sleep`], [`alt!`]). Its output, or its panic,
/// arrives through the [`JoinHandle`]; dropping the handle detaches the
/// task. `#[track_caller]`: the spawn location shows in [`JoinError`]s and
/// go-check reports.
///
/// # Panics
///
/// Outside a runtime: call it in a go block or inside
/// [`Runtime::block_on`], or spawn through a [`Handle`] from any thread.
///
/// # Examples
///
/// ```
/// let rt = parkway::Runtime::new().unwrap();
/// let h = rt.block_on(async {
///     let a = parkway::go(async { 20 });
///     let b = parkway::go(async { 22 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(h, 42);
/// ```
#[cfg(not(loom))]
#[track_caller]
pub fn go<F>(future: F) -> JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    context::spawn_current(future, None, std::panic::Location::caller())
}
