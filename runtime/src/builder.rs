//! `Builder`: configure a runtime before starting it.

use std::fmt;
use std::io;
use std::sync::Arc;

use std::time::Duration;

use parkway_go_check::{GoCheck, Report};

use crate::Runtime;

/// A hook run on each worker thread.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// The runtime's go-check report hook.
pub(crate) type ReportHook = Arc<dyn Fn(&Report) + Send + Sync + 'static>;

/// The stall threshold when neither the builder nor the environment sets
/// one.
pub const DEFAULT_STALL_THRESHOLD: Duration = Duration::from_millis(100);

/// The environment variable that sets the default stall threshold, in
/// milliseconds.
pub const STALL_THRESHOLD_ENV: &str = "PARKWAY_GO_CHECK_THRESHOLD_MS";

/// How many threads may stand in for stalled workers at once when neither
/// [`Builder::compensation_threads`] nor anything else sets it.
pub const DEFAULT_COMPENSATION_THREADS: usize = 64;

/// The most [`Builder::worker_threads`] accepts.
pub const MAX_WORKER_THREADS: usize = 4096;

/// The most [`Builder::compensation_threads`] accepts.
pub const MAX_COMPENSATION_THREADS: usize = 1024;

/// The settings a runtime runs with.
#[derive(Clone)]
pub(crate) struct Config {
    /// Go workers.
    pub(crate) worker_threads: usize,
    /// Worker thread name prefix; workers are `{name}-{index}`.
    pub(crate) thread_name: String,
    /// Worker thread stack size, if set.
    pub(crate) thread_stack_size: Option<usize>,
    /// The go-check mode of the workers.
    pub(crate) go_check: GoCheck,
    /// Run first on each worker thread.
    pub(crate) on_thread_start: Option<ThreadHook>,
    /// Run last on each worker thread.
    pub(crate) on_thread_stop: Option<ThreadHook>,
    /// How long one poll may hold a go worker before the watchdog trips.
    pub(crate) stall_threshold: Duration,
    /// Where the watchdog's reports go (go-check's reporter if `None`).
    pub(crate) on_report: Option<ReportHook>,
    /// Whether a stalled worker's queue is handed to a standby thread.
    pub(crate) compensate: bool,
    /// At most this many threads beyond `worker_threads` stand in for
    /// stalled workers at once.
    pub(crate) compensation_threads: usize,
    /// Most blocking-pool threads at once.
    pub(crate) max_blocking_threads: usize,
    /// How long an idle blocking-pool thread waits before it exits.
    pub(crate) blocking_keep_alive: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("go_check", &self.go_check)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .field("stall_threshold", &self.stall_threshold)
            .field("on_report", &self.on_report.is_some())
            .field("compensate", &self.compensate)
            .field("compensation_threads", &self.compensation_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .finish()
    }
}

/// Configures and builds a [`Runtime`].
///
/// # Examples
///
/// ```
/// use parkway::{GoCheck, Runtime};
///
/// let rt = Runtime::builder()
///     .worker_threads(2)
///     .thread_name("api")
///     .go_check(GoCheck::Strict)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    /// Go workers, if set.
    worker_threads: Option<usize>,
    /// Everything else `build` uses.
    config: Config,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: one worker per core, threads named
    /// `parkway-worker-N`, go-check from `PARKWAY_GO_CHECK`, or else `Warn`
    /// in debug builds and `Off` in release builds.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            config: Config {
                worker_threads: 0,
                thread_name: "parkway-worker".to_string(),
                thread_stack_size: None,
                go_check: GoCheck::from_env(),
                on_thread_start: None,
                on_thread_stop: None,
                stall_threshold: threshold_from_env(),
                on_report: None,
                compensate: true,
                compensation_threads: DEFAULT_COMPENSATION_THREADS,
                max_blocking_threads: parkway_blocking_pool::DEFAULT_MAX_THREADS,
                blocking_keep_alive: parkway_blocking_pool::DEFAULT_KEEP_ALIVE,
            },
        }
    }

    /// Sets the number of go workers (default: one per core, from
    /// [`std::thread::available_parallelism`]). [`build`](Builder::build)
    /// refuses zero.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        self.worker_threads = Some(n);
        self
    }

    /// Sets the worker threads' name prefix; worker `i` is named
    /// `{name}-{i}` (default `parkway-worker`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.config.thread_name = name.into();
        self
    }

    /// Sets the stack size of the worker threads (default: std's).
    pub fn thread_stack_size(mut self, bytes: usize) -> Builder {
        self.config.thread_stack_size = Some(bytes);
        self
    }

    /// Sets the go-check mode of this runtime's workers (default: from
    /// `PARKWAY_GO_CHECK`, else `Warn` in debug builds and `Off` in release
    /// builds). See [`GoCheck`].
    pub fn go_check(mut self, mode: GoCheck) -> Builder {
        self.config.go_check = mode;
        self
    }

    /// Sets how long one poll may hold a go worker before the stall
    /// watchdog reports it (and, in `Strict` mode, fails the task). Default:
    /// `PARKWAY_GO_CHECK_THRESHOLD_MS` if set, else 100 ms.
    /// [`build`](Builder::build) refuses zero.
    pub fn stall_threshold(mut self, threshold: Duration) -> Builder {
        self.config.stall_threshold = threshold;
        self
    }

    /// Sends this runtime's go-check reports (stalls) to `f` instead of
    /// go-check's process-wide reporter (stderr by default). `f` runs on the
    /// watchdog's thread; a panic in it is caught and the report goes to the
    /// process-wide reporter. With the `tracing` feature, every report is
    /// also a `tracing` event (target `parkway::go_check`), hook or not.
    pub fn on_go_check_report(mut self, f: impl Fn(&Report) + Send + Sync + 'static) -> Builder {
        self.config.on_report = Some(Arc::new(f));
        self
    }

    /// Whether a go worker stuck in one poll past the stall threshold has
    /// its work handed to another thread (default: on, in every build and
    /// every go-check mode).
    ///
    /// This is Go's hand-off, for go blocks: the stuck thread keeps the
    /// poll it is stuck in, and a standby thread takes everything else it
    /// held (its queue, its next task, its yielded tasks) and runs as a
    /// worker in its place, so the rest of the program keeps its
    /// throughput. When the stuck poll returns, its thread gives back what
    /// it gathered meanwhile and becomes a standby thread itself. At most
    /// [`compensation_threads`](Builder::compensation_threads) threads stand
    /// in at once. The stall watchdog's monitor thread, which notices the
    /// stall, runs whenever this is on, even with go-check `Off`; it samples
    /// four times per threshold and every 100 ms while all workers sleep.
    ///
    /// A hand-off keeps the runtime going; it does not make blocking in a go
    /// block right. Move blocking work off the go pool.
    pub fn compensate(mut self, on: bool) -> Builder {
        self.config.compensate = on;
        self
    }

    /// At most `n` threads beyond [`worker_threads`](Builder::worker_threads)
    /// stand in for stalled workers at once (default
    /// [`DEFAULT_COMPENSATION_THREADS`]; they start only when a worker
    /// stalls, and stay as standby threads until the runtime shuts down).
    /// With all of them in use, a further stall is reported but not
    /// compensated. [`build`](Builder::build) refuses more than
    /// [`MAX_COMPENSATION_THREADS`]; zero turns compensation off.
    pub fn compensation_threads(mut self, n: usize) -> Builder {
        self.config.compensation_threads = n;
        self
    }

    /// Sets the most threads the runtime's blocking pool runs at once
    /// (default 512, as tokio's): the threads [`thread`](crate::thread),
    /// [`thread_call`](crate::thread_call) and
    /// [`pipeline_blocking`](crate::pipeline_blocking) run their work on.
    /// Past it, blocking work queues (first in, first out) until a thread is
    /// free. [`build`](Builder::build) refuses zero.
    ///
    /// Queued work waits for a thread to finish its job, so blocking work
    /// must not wait for other blocking work of the same pool (a `join` of
    /// a `thread` inside a `thread`, a job waiting on a channel another job
    /// feeds) when the limit could be reached: with every thread waiting,
    /// the work they wait for never starts, and go-check cannot see it (as
    /// with tokio's `spawn_blocking`).
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.config.max_blocking_threads = n;
        self
    }

    /// Sets how long an idle blocking-pool thread waits for more work
    /// before it exits (default 10 s, as tokio's).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Runs `f` first on every worker thread (threads that stand in for
    /// stalled workers included) and every blocking-pool thread.
    pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Builder {
        self.config.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` last on every worker thread and blocking-pool thread, as it
    /// exits.
    pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Builder {
        self.config.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Starts the runtime's worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `worker_threads(0)` or `max_blocking_threads(0)`
    /// was set, or a limit above its maximum; the OS's error if a
    /// worker thread cannot be spawned (the threads already started are
    /// stopped again).
    ///
    /// # Panics
    ///
    /// Inside a go block: a runtime must not be created on a go worker
    /// (its `block_on` could never run there, and dropping it would block the
    /// worker).
    #[track_caller]
    pub fn build(&self) -> io::Result<Runtime> {
        let mut config = self.config.clone();
        config.worker_threads = match self.worker_threads {
            Some(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "parkway: worker_threads must be at least 1",
                ))
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if config.stall_threshold.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "parkway: stall_threshold must be more than zero",
            ));
        }
        if config.compensation_threads > MAX_COMPENSATION_THREADS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("parkway: compensation_threads must be at most {MAX_COMPENSATION_THREADS}"),
            ));
        }
        if config.max_blocking_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "parkway: max_blocking_threads must be at least 1",
            ));
        }
        if config.worker_threads > MAX_WORKER_THREADS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("parkway: worker_threads must be at most {MAX_WORKER_THREADS}"),
            ));
        }
        Runtime::start(config)
    }
}

/// The default stall threshold: `PARKWAY_GO_CHECK_THRESHOLD_MS` if it holds
/// a positive whole number of milliseconds, else 100 ms (an unusable value
/// is reported once on stderr).
fn threshold_from_env() -> Duration {
    let Ok(value) = std::env::var(STALL_THRESHOLD_ENV) else {
        return DEFAULT_STALL_THRESHOLD;
    };
    match value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Duration::from_millis(ms),
        _ => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                eprintln!(
                    "parkway: {STALL_THRESHOLD_ENV}={value:?} is not a positive number of \
                     milliseconds; using {} ms",
                    DEFAULT_STALL_THRESHOLD.as_millis()
                );
            });
            DEFAULT_STALL_THRESHOLD
        }
    }
}
