//! `Runtime`: the go pool, its timers, and the way in (`block_on`) and out
//! (drop, `shutdown_timeout`).

use parkway_blocking_pool::{BlockingPool, PoolConfig};
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::builder::Config;
use crate::context::{self, EnterGuard};
use crate::executor::handoff::Assignment;
use crate::executor::{worker, Shared};
use crate::task::JoinHandle;
use crate::{Builder, Handle};

/// A parkway runtime: a pool of go workers with their timers.
///
/// Create one with [`Runtime::new`] or [`Runtime::builder`], enter it with
/// [`block_on`](Runtime::block_on), spawn go blocks with [`go`](crate::go)
/// (inside) or [`Handle::go`] (from anywhere).
///
/// Dropping the runtime shuts it down: the workers stop after their current
/// poll, every task that has not finished has its future dropped (on the
/// dropping thread, inside the runtime's context, so `Drop` impls may still
/// call `go`, which then gives a cancelled handle), pending `timeout`
/// channels close, and the drop waits for the workers to exit. Then the
/// blocking pool shuts down, as tokio's does: work queued for it is
/// dropped (its handles report a cancellation) and the drop waits for the
/// blocking work already running ([`thread`](crate::thread) closures).
/// [`shutdown_timeout`](Runtime::shutdown_timeout) bounds both waits.
///
/// # Examples
///
/// ```
/// use parkway::chan;
///
/// let rt = parkway::Runtime::new().unwrap();
/// let total = rt.block_on(async {
///     let (tx, rx) = chan::bounded(8);
///     for i in 0..4 {
///         let tx = tx.clone();
///         parkway::go(async move { tx.send(i).await.unwrap() });
///     }
///     drop(tx);
///     let mut total = 0;
///     while let Some(v) = rx.recv().await {
///         total += v;
///     }
///     total
/// });
/// assert_eq!(total, 6);
/// ```
pub struct Runtime {
    /// The runtime's handle.
    handle: Handle,
    /// Worker threads, joined at shutdown.
    threads: Vec<thread::JoinHandle<()>>,
    /// The stall watchdog's monitor thread (none when go-check is `Off` and
    /// compensation is off).
    monitor: Option<thread::JoinHandle<()>>,
    /// Whether shutdown already ran.
    shut_down: bool,
}

impl Runtime {
    /// A runtime with the default settings (see [`Builder::new`]).
    ///
    /// # Errors
    ///
    /// The OS's error if a worker thread cannot be spawned.
    ///
    /// # Panics
    ///
    /// Inside a go block (see [`Builder::build`]).
    #[track_caller]
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to configure a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Starts the workers of a runtime configured by `config`.
    #[track_caller]
    pub(crate) fn start(config: Config) -> io::Result<Runtime> {
        if parkway_go_check::is_go_worker() {
            panic!(
                "parkway: a Runtime was created inside a go block (on a go worker); create \
                 runtimes on plain threads (e.g. in `main`) and spawn into the current one \
                 with `parkway::go` instead"
            );
        }
        let n = config.worker_threads;
        let blocking = BlockingPool::new(PoolConfig {
            max_threads: config.max_blocking_threads,
            keep_alive: config.blocking_keep_alive,
            thread_name: format!("{}-blocking", config.thread_name),
            stack_size: config.thread_stack_size,
            on_thread_start: config.on_thread_start.clone(),
            on_thread_stop: config.on_thread_stop.clone(),
        })?;
        let (shared, locals) = Shared::new(config, blocking);
        let shared = Arc::new(shared);
        let mut rt = Runtime {
            handle: Handle {
                shared: Arc::clone(&shared),
            },
            threads: Vec::with_capacity(n),
            monitor: None,
            shut_down: false,
        };
        for (index, local) in locals.into_iter().enumerate() {
            let mut b =
                thread::Builder::new().name(format!("{}-{index}", shared.config.thread_name));
            if let Some(size) = shared.config.thread_stack_size {
                b = b.stack_size(size);
            }
            let s = Arc::clone(&shared);
            let first = Assignment {
                slot: index,
                local,
                take_over: None,
            };
            match b.spawn(move || worker::run_thread(s, first)) {
                Ok(t) => rt.threads.push(t),
                Err(e) => {
                    // Workers never started count as exited, so shutdown
                    // does not wait for them.
                    for _ in index..n {
                        shared.worker_exited();
                    }
                    drop(rt);
                    return Err(e);
                }
            }
        }
        if crate::executor::watchdog::needed(&shared.config) {
            let s = Arc::clone(&shared);
            let monitor = thread::Builder::new()
                .name(format!("{}-watchdog", shared.config.thread_name))
                .spawn(move || crate::executor::watchdog::run_monitor(s));
            match monitor {
                Ok(t) => rt.monitor = Some(t),
                Err(e) => {
                    drop(rt);
                    return Err(e);
                }
            }
        }
        Ok(rt)
    }

    /// Runs `future` to completion on the calling thread, inside this
    /// runtime's context: `go`, `sleep`, `timeout` and `Handle::current`
    /// work within it. The future need not be `Send`. The calling thread is
    /// not a go worker, so go blocks spawned from here are queued for the
    /// workers (as with tokio's multi-thread runtime).
    ///
    /// # Panics
    ///
    /// On a go worker, in every go-check mode: it would block the worker and
    /// can deadlock the pool. `.await` the future instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns a go block on this runtime; see [`go`](crate::go).
    #[track_caller]
    pub fn go<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.go(future)
    }

    /// Makes this runtime the current one on this thread until the guard
    /// drops.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Shuts the runtime down as dropping it does, but waits at most
    /// `timeout` for the workers to stop; workers still inside a poll after
    /// that (a go block that blocks) are detached, and their tasks are
    /// cancelled when that poll returns. The blocking pool's running work is
    /// waited for within the same `timeout`, then detached (it runs to its
    /// end on its own); its queued work is dropped, and the handles report a
    /// cancellation.
    ///
    /// # Panics
    ///
    /// Inside a go block (see [`Drop`](#impl-Drop-for-Runtime)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = parkway::Runtime::new().unwrap();
    /// rt.go(async { std::future::pending::<()>().await });
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// ```
    #[track_caller]
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        if parkway_go_check::is_go_worker() {
            self.shut_down = true;
            panic!(
                "parkway: Runtime::shutdown_timeout called inside a go block (on a go worker); \
                 it waits for the runtime's workers, which would block this one. Shut runtimes \
                 down from plain threads"
            );
        }
        // A deadline too far to represent is no deadline.
        self.shutdown(Instant::now().checked_add(timeout));
    }

    /// The shutdown sequence; `deadline` bounds the wait for workers.
    #[track_caller]
    fn shutdown(&mut self, deadline: Option<Instant>) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        let shared = &self.handle.shared;
        shared.begin_shutdown();
        let all_exited = shared.wait_workers(deadline);
        if all_exited {
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        } else {
            // Detach: the stuck threads exit by themselves once their poll
            // returns.
            self.threads.clear();
        }
        if let Some(monitor) = self.monitor.take() {
            // It wakes at `begin_shutdown` and returns, unless a report hook
            // holds it: then `shutdown_timeout`'s deadline still holds, and
            // the monitor is detached.
            match deadline {
                None => {
                    let _ = monitor.join();
                }
                Some(deadline) => {
                    while !monitor.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                    if monitor.is_finished() {
                        let _ = monitor.join();
                    }
                }
            }
        }
        // The monitor starts the threads that stand in for stalled workers,
        // and records their handles after starting them: with the monitor
        // gone, every handle is recorded. They exited if the workers did
        // (shutdown counts them).
        if all_exited {
            for t in shared.handoff.take_started() {
                let _ = t.join();
            }
        }
        let _enter = context::enter(self.handle.clone());
        shared.finish_shutdown();
        // Blocking work last, as tokio does: the go blocks awaiting it are
        // gone; queued jobs are dropped (their handles report a
        // cancellation) and running ones are waited for, up to the deadline.
        let wait = match deadline {
            None => Duration::MAX,
            Some(d) => d.saturating_duration_since(Instant::now()),
        };
        shared.blocking.shutdown(wait);
    }
}

impl Drop for Runtime {
    /// Shuts the runtime down (see [`Runtime`]).
    ///
    /// # Panics
    ///
    /// On a go worker (dropping a runtime inside a go block would block the
    /// worker while the dropped runtime's workers stop), unless the thread
    /// is already panicking.
    fn drop(&mut self) {
        if self.shut_down {
            return;
        }
        if parkway_go_check::is_go_worker() && !thread::panicking() {
            self.shut_down = true;
            // Leave the runtime running rather than block the worker; its
            // threads stop when the process exits.
            panic!(
                "parkway: a Runtime was dropped inside a go block (on a go worker); dropping \
                 waits for its workers, which would block this one. Drop runtimes on plain \
                 threads (send it to a std thread and drop it there)"
            );
        }
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}
