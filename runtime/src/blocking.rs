//! `thread` and `thread_call`: blocking work on the blocking pool, as
//! core.async's `thread` and `thread-call`.

use std::sync::OnceLock;

use parkway_blocking_pool::{BlockingHandle, BlockingPool, PoolConfig};

use crate::{context, Handle};

/// Runs the blocking closure `f` on the blocking pool and returns a handle
/// to its result, as core.async's `thread` does. Go blocks park, they never
/// block: a file read, a blocking client library or a long computation
/// belongs here, not in a go block.
///
/// The handle is a future (`.await` it in a go block: the go block parks,
/// its worker runs others), a blocking [`join`](BlockingHandle::join) for
/// plain threads, or a channel with
/// [`into_chan`](BlockingHandle::into_chan), which delivers the one result
/// and closes, as core.async's `thread` returns a channel. A panic in `f`
/// reaches the handle as a [`JoinError`](crate::JoinError).
///
/// Inside a runtime, `f` runs on that runtime's pool (sized by
/// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads))
/// with the runtime entered, so `go`, `Handle::current` and `timeout` work
/// in it; the runtime's shutdown waits for it. Outside any runtime, `f`
/// runs on a process-wide pool with the default settings (note that in
/// `rt.block_on(parkway::thread(f))` the argument is evaluated before
/// `block_on` enters the runtime; write `rt.handle().thread(f)` or call
/// `thread` inside the async block to use the runtime's pool). Calling `thread`
/// never waits for the work (it takes the pool's lock briefly, and may start
/// a thread), so it is safe in a go block. Pool threads are
/// not go workers: go-check never flags blocking there.
///
/// `f` is never silently lost: if the pool is shut down the handle reports
/// a cancellation, and if the OS refuses a new thread while the pool has
/// none, it reports [`is_spawn_failed`](crate::JoinError::is_spawn_failed).
///
/// # Examples
///
/// ```
/// #[parkway::main]
/// async fn main() {
///     // A go block hands blocking work to a thread and parks meanwhile.
///     let len = parkway::thread(|| std::fs::read_to_string("Cargo.toml").map(|s| s.len()))
///         .await
///         .expect("the closure did not panic")
///         .expect("Cargo.toml is readable");
///     assert!(len > 0);
///
///     // core.async style: the result as a channel, raced against a timeout.
///     let rx = parkway::thread(|| 6 * 7).into_chan();
///     let t = parkway::timeout(std::time::Duration::from_secs(10));
///     let answer = parkway::alt! {
///         recv(rx) -> v => v.expect("one result").unwrap(),
///         recv(t) -> _ => panic!("timed out"),
///     };
///     assert_eq!(answer, 42);
/// }
/// ```
#[track_caller]
pub fn thread<F, T>(f: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match context::current() {
        Some(handle) => handle.thread(f),
        None => global_pool().spawn(f),
    }
}

/// core.async's `thread-call`: the same as [`thread`], under its other
/// name (in Clojure, `thread` takes a body and `thread-call` a function;
/// in Rust both take a closure).
#[track_caller]
pub fn thread_call<F, T>(f: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    thread(f)
}

impl Handle {
    /// Runs `f` on this runtime's blocking pool, with this runtime entered;
    /// see [`thread`].
    #[track_caller]
    pub fn thread<F, T>(&self, f: F) -> BlockingHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = self.clone();
        self.shared.blocking.spawn(move || {
            let _enter = context::enter(handle);
            f()
        })
    }

    /// Blocking-pool threads running now, idle ones included (a moment's
    /// count).
    pub fn num_blocking_threads(&self) -> usize {
        self.shared.blocking.num_threads()
    }

    /// Blocking-pool threads waiting for work now (a moment's count).
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.shared.blocking.num_idle_threads()
    }

    /// Blocking jobs waiting for a free thread now (a moment's count).
    pub fn blocking_queue_depth(&self) -> usize {
        self.shared.blocking.queue_len()
    }
}

/// The pool `thread` uses outside any runtime: made on first use, with the
/// default settings, never shut down (idle threads exit after the
/// keep-alive, so it costs nothing while unused).
fn global_pool() -> &'static BlockingPool {
    static POOL: OnceLock<BlockingPool> = OnceLock::new();
    POOL.get_or_init(|| {
        BlockingPool::new(PoolConfig {
            thread_name: "parkway-blocking".to_string(),
            ..PoolConfig::default()
        })
        .expect("the default pool settings are valid")
    })
}
