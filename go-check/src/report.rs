//! What go-check found, and the process-global hook it is sent to.

use std::any::Any;
use std::fmt;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

/// The fix every blocking-op message ends with.
const BLOCKING_FIX: &str = "fix: `.await` the parking version \
     (e.g. `send(v).await` / `recv().await` / `alt!`, or the `BlockingHandle` itself) \
     or move the blocking work to `parkway::thread(|| ..).await`";

/// Something go-check found: a blocking op on a go worker, a panic caught in
/// a user callback, and (later) a stalled worker.
///
/// Reports are built with the constructors ([`Report::blocking_op`],
/// [`Report::callback_panic`]) and sent with [`report`]. More fields will be
/// added (stall reports carry the task name, spawn location, worker, elapsed
/// time, threshold and a stack), so the struct is `#[non_exhaustive]`.
///
/// `Display` gives the human message, fix included.
///
/// # Examples
///
/// ```
/// use parkway_go_check::{Report, ReportKind};
///
/// let r = Report::callback_panic("take", "boom".to_string());
/// assert_eq!(r.kind, ReportKind::CallbackPanic);
/// assert!(r.to_string().contains("boom"));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct Report {
    /// What was found.
    pub kind: ReportKind,
    /// The operation involved (`"send_blocking"`, `"take"`, …), if any.
    pub op: Option<&'static str>,
    /// Where in the user's code it happened, if known.
    pub location: Option<&'static Location<'static>>,
    /// The human-readable message, including how to fix it.
    pub message: String,
    /// The task involved, as "task 12" or "task 12 `name`", if known.
    pub task: Option<String>,
    /// The index of the go worker involved, if any.
    pub worker: Option<usize>,
    /// How long the worker had been stuck when this was reported (a stall).
    pub elapsed: Option<Duration>,
    /// The stall threshold in force (a stall).
    pub threshold: Option<Duration>,
    /// The stack of the stuck thread, captured while it was stuck (a
    /// stall, with `PARKWAY_GO_CHECK_BACKTRACE=1`, on Linux): one frame per
    /// line, innermost first. [`Display`](fmt::Display) shows it after the
    /// message.
    pub stack: Option<String>,
}

/// The kind of a [`Report`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// A blocking op (`send_blocking`, `recv_blocking`, `alt_blocking!`, a
    /// blocking join…) ran on a go worker. Normally a panic; reported
    /// instead when the thread is already panicking.
    BlockingOp,
    /// A user callback (`put`/`take` callback, waker) panicked; the panic was
    /// caught so the channel stays consistent and whoever ran the callback
    /// is not charged with it.
    CallbackPanic,
    /// A go worker was stuck in one poll of one task for longer than the
    /// stall threshold: something in the task blocks the thread (a blocking
    /// call, a lock held across a slow call, a long loop without `.await`).
    Stall,
    /// A `Drop` the runtime ran on the user's behalf panicked (a task's
    /// future or output dropped after completion, at abort or at shutdown),
    /// where there was nobody to hand the panic to.
    DropPanic,
}

impl Report {
    /// The report of the blocking op `op` called at `location` on a go worker.
    ///
    /// Its message names the op, the location and the fix; it is also the
    /// message [`check_blocking`](crate::check_blocking) panics with.
    pub fn blocking_op(op: &'static str, location: &'static Location<'static>) -> Report {
        Report {
            kind: ReportKind::BlockingOp,
            op: Some(op),
            location: Some(location),
            message: format!(
                "parkway go-check: `{op}` would block a go worker (at {location}); \
                 go blocks park, they never block. {BLOCKING_FIX}"
            ),
            ..Report::empty(ReportKind::BlockingOp)
        }
    }

    /// The report of a panic caught while the runtime dropped `what` (for
    /// instance "a task's output") on the user's behalf.
    ///
    /// ```
    /// use parkway_go_check::{Report, ReportKind};
    ///
    /// let r = Report::drop_panic("a task's output", "boom".to_string());
    /// assert_eq!(r.kind, ReportKind::DropPanic);
    /// assert!(r.to_string().contains("boom"));
    /// ```
    pub fn drop_panic(what: &'static str, panic_message: String) -> Report {
        Report {
            kind: ReportKind::DropPanic,
            op: Some(what),
            location: None,
            message: format!(
                "parkway: dropping {what} panicked: {panic_message}; the panic was caught \
                 and the runtime goes on. fix: make the type's `Drop` not panic"
            ),
            ..Report::empty(ReportKind::DropPanic)
        }
    }

    /// The report of a panic caught in a user callback.
    ///
    /// `what` names the callback (`"put"`, `"take"`, `"waker"`…);
    /// `panic_message` is the panic's message, for instance from
    /// [`panic_message`].
    pub fn callback_panic(what: &'static str, panic_message: String) -> Report {
        Report {
            kind: ReportKind::CallbackPanic,
            op: Some(what),
            location: None,
            message: if what.starts_with("on_thread_") {
                format!(
                    "parkway: the runtime's `{what}` hook panicked: {panic_message}; the panic \
                     was caught and the thread goes on. fix: handle errors inside the hook"
                )
            } else if what == "blocking job" {
                format!(
                    "parkway: a blocking job given to `BlockingPool::execute` panicked: \
                     {panic_message}; the panic was caught and the pool thread goes on. fix: \
                     handle errors inside the job, or use `BlockingPool::spawn`, whose handle \
                     carries the panic as a `JoinError`"
                )
            } else if what == "waker" {
                format!(
                    "parkway go-check: a task's waker panicked when woken (by a channel, a \
                     timer or the runtime): {panic_message}; the panic was caught, and what \
                     woke it and the other waiters are unaffected. fix: look at the executor \
                     or the code that made the waker"
                )
            } else {
                format!(
                    "parkway go-check: a `{what}` callback panicked: {panic_message}; \
                     the panic was caught and the channel is unaffected. \
                     fix: handle errors inside the callback, or use the parking op in a go block"
                )
            },
            ..Report::empty(ReportKind::CallbackPanic)
        }
    }

    /// A report of `kind` with every optional field empty.
    fn empty(kind: ReportKind) -> Report {
        Report {
            kind,
            op: None,
            location: None,
            message: String::new(),
            task: None,
            worker: None,
            elapsed: None,
            threshold: None,
            stack: None,
        }
    }

    /// The report of a stall: go worker `worker` has been inside one poll
    /// of `task` (spawned at `location`) for `elapsed`, past `threshold`.
    /// `strict` adds that the task will be failed when the poll returns.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parkway_go_check::{Report, ReportKind};
    ///
    /// let r = Report::stall(
    ///     "task 7 `fetcher`".into(),
    ///     std::panic::Location::caller(),
    ///     1,
    ///     Duration::from_millis(310),
    ///     Duration::from_millis(100),
    ///     false,
    /// );
    /// assert_eq!(r.kind, ReportKind::Stall);
    /// assert!(r.to_string().contains("fetcher"));
    /// assert!(r.to_string().contains("310 ms"));
    /// ```
    pub fn stall(
        task: String,
        location: &'static Location<'static>,
        worker: usize,
        elapsed: Duration,
        threshold: Duration,
        strict: bool,
    ) -> Report {
        let consequence = if strict {
            " strict mode fails this task when the poll returns."
        } else {
            ""
        };
        Report {
            location: Some(location),
            message: format!(
                "parkway go-check: go worker {worker} has been stuck in one poll of {task} \
                 (spawned at {location}) for {} ms (threshold {} ms): something in it blocks \
                 the thread (a blocking call such as std::thread::sleep, std::fs or a \
                 blocking client, a lock held across a slow call, or a long loop without \
                 `.await`).{consequence} fix: move the blocking work to the blocking pool \
                 (`parkway::thread(|| ..).await`), or give long loops `.await` points \
                 (`parkway::yield_now().await`)",
                elapsed.as_millis(),
                threshold.as_millis()
            ),
            task: Some(task),
            worker: Some(worker),
            elapsed: Some(elapsed),
            threshold: Some(threshold),
            ..Report::empty(ReportKind::Stall)
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(stack) = &self.stack {
            write!(f, "\nstack of the stuck thread, while stuck:\n{stack}")?;
        }
        Ok(())
    }
}

/// The text of a panic payload: the `&str` or `String` given to `panic!`,
/// else a placeholder.
///
/// # Examples
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("oops {}", 1)).unwrap_err();
/// assert_eq!(parkway_go_check::panic_message(&*payload), "oops 1");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// The installed hook; `None` means "write to stderr".
type Reporter = Arc<dyn Fn(&Report) + Send + Sync + 'static>;

static REPORTER: RwLock<Option<Reporter>> = RwLock::new(None);

/// Installs the process-global hook every [`report`] goes to, replacing the
/// previous one. The default hook writes the report's `Display` to stderr.
///
/// The hook may run on any thread, go workers included, and must not block
/// for long. A runtime's `on_go_check_report` builds on this.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use parkway_go_check::{report, set_reporter, Report};
///
/// static SEEN: AtomicUsize = AtomicUsize::new(0);
/// set_reporter(|_r: &Report| {
///     SEEN.fetch_add(1, Ordering::Relaxed);
/// });
/// report(&Report::callback_panic("take", "boom".into()));
/// assert_eq!(SEEN.load(Ordering::Relaxed), 1);
/// ```
pub fn set_reporter(f: impl Fn(&Report) + Send + Sync + 'static) {
    let new: Reporter = Arc::new(f);
    // Drop the old hook after releasing the lock: its destructor is user code.
    let old = REPORTER.write().replace(new);
    drop(old);
}

/// Sends `r` to the installed hook (stderr by default). Never panics: if the
/// hook panics, the panic is caught and the report goes to stderr.
pub fn report(r: &Report) {
    // Clone the hook out so no lock is held while user code runs.
    let hook = REPORTER.read().clone();
    match hook {
        None => write_stderr(r),
        Some(hook) => {
            if catch_unwind(AssertUnwindSafe(|| hook(r))).is_err() {
                write_stderr(r);
                let _ = writeln!(
                    std::io::stderr(),
                    "parkway go-check: (the report hook panicked; the report above went to stderr)"
                );
            }
        }
    }
}

fn write_stderr(r: &Report) {
    // A closed stderr is no reason to panic: ignore write errors.
    let _ = writeln!(std::io::stderr(), "{r}");
}
