//! `JoinError` and `Id`: why a go block or a blocking job has no output,
//! and which one it was.
//!
//! They live here, below the runtime, so that [`BlockingHandle`] (in this
//! crate) and the runtime's `JoinHandle` give the same error type; `parkway`
//! re-exports both as `parkway::JoinError` and `parkway::task::Id`.
//!
//! [`BlockingHandle`]: crate::BlockingHandle

use std::any::Any;
use std::fmt;
use std::io;
use std::num::NonZeroU64;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The id of a go block or a blocking job: unique among all of them in the
/// process, never reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The next id. For parkway's runtime, which numbers its go blocks
    /// from the same counter; not part of the public API.
    #[doc(hidden)]
    pub fn next() -> Id {
        /// The last id handed out.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("task id counter wrapped"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// What ran: a go block or a job on the blocking pool (for messages).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[doc(hidden)]
pub enum Origin {
    /// A go block (`parkway::go`).
    Task,
    /// A blocking job (`thread`, `thread_call`, `BlockingPool::spawn`).
    Blocking,
}

/// Why a go block or a blocking job ended without an output: it panicked,
/// it was cancelled (`abort`, runtime or pool shutdown, spawned during
/// shutdown), strict go-check failed it for blocking the go pool, or (a
/// blocking job) no thread could be started to run it.
///
/// A panic is never swallowed: the payload travels here, its message is in
/// `Display`, and [`into_panic`](JoinError::into_panic) hands the payload
/// back so it can be re-raised with [`std::panic::resume_unwind`].
///
/// # Examples
///
/// ```
/// use parkway_blocking_pool::{BlockingPool, PoolConfig};
///
/// let pool = BlockingPool::new(PoolConfig::default()).unwrap();
/// let err = pool.spawn(|| -> u32 { panic!("boom") }).join().unwrap_err();
/// assert!(err.is_panic());
/// assert!(err.is_blocking_job());
/// assert!(err.to_string().contains("boom"));
/// ```
pub struct JoinError {
    /// What happened.
    repr: Repr,
    /// The task's id.
    id: Id,
    /// A go block or a blocking job.
    origin: Origin,
    /// The task's name, if it had one.
    name: Option<Arc<str>>,
    /// Where the task was spawned.
    location: &'static Location<'static>,
}

/// The kinds of `JoinError`.
enum Repr {
    /// Aborted, or dropped by runtime shutdown.
    Cancelled,
    /// A blocking job `BlockingHandle::abort` cancelled before it started.
    Aborted,
    /// The future panicked.
    Panic {
        /// The panic's message (from a `&str` or `String` payload).
        message: String,
        /// The payload, behind a lock only so the error is `Sync`.
        payload: Mutex<Box<dyn Any + Send + 'static>>,
    },
    /// Strict go-check failed the task: one of its polls blocked its worker
    /// this long.
    Stalled(Duration),
    /// The OS refused a thread and the pool had none to run the job.
    SpawnFailed(io::Error),
}

impl JoinError {
    /// The error of a task cancelled by `abort` or shutdown. For parkway's
    /// runtime; not part of the public API.
    #[doc(hidden)]
    pub fn new_cancelled(
        origin: Origin,
        id: Id,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) -> JoinError {
        JoinError::new(Repr::Cancelled, origin, id, name, location)
    }

    /// The error of a task whose body panicked with `payload`. For
    /// parkway's runtime; not part of the public API.
    #[doc(hidden)]
    pub fn new_panic(
        origin: Origin,
        id: Id,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> JoinError {
        let message = parkway_go_check::panic_message(&*payload);
        let repr = Repr::Panic {
            message,
            payload: Mutex::new(payload),
        };
        JoinError::new(repr, origin, id, name, location)
    }

    /// The error of a task strict go-check failed after a poll that blocked
    /// its worker for `elapsed`. For parkway's runtime; not part of the
    /// public API.
    #[doc(hidden)]
    pub fn new_stalled(
        id: Id,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
        elapsed: Duration,
    ) -> JoinError {
        JoinError::new(Repr::Stalled(elapsed), Origin::Task, id, name, location)
    }

    /// The error of a blocking job `abort` cancelled before it started.
    pub(crate) fn aborted(id: Id, location: &'static Location<'static>) -> JoinError {
        JoinError::new(Repr::Aborted, Origin::Blocking, id, None, location)
    }

    /// The error of a blocking job no thread could run.
    pub(crate) fn spawn_failed(
        id: Id,
        location: &'static Location<'static>,
        error: io::Error,
    ) -> JoinError {
        JoinError::new(
            Repr::SpawnFailed(error),
            Origin::Blocking,
            id,
            None,
            location,
        )
    }

    /// Builds an error.
    fn new(
        repr: Repr,
        origin: Origin,
        id: Id,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) -> JoinError {
        JoinError {
            repr,
            id,
            origin,
            name,
            location,
        }
    }

    /// Whether the task was cancelled: a go block by `JoinHandle::abort`,
    /// by runtime shutdown, or because it was spawned while the runtime shut
    /// down; a blocking job by `BlockingHandle::abort` before it started, or
    /// because its pool shut down before a thread took it (`Display` says
    /// which).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled | Repr::Aborted)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic { .. })
    }

    /// Whether strict go-check failed the task for blocking its go worker.
    pub fn is_stalled(&self) -> bool {
        matches!(self.repr, Repr::Stalled(_))
    }

    /// Whether a blocking job never ran because the OS refused to start a
    /// thread for it and the pool had no thread that could run it later.
    /// [`spawn_error`](JoinError::spawn_error) gives the OS's error.
    pub fn is_spawn_failed(&self) -> bool {
        matches!(self.repr, Repr::SpawnFailed(_))
    }

    /// The OS's error, if the job never ran because no thread could be
    /// started for it.
    pub fn spawn_error(&self) -> Option<&io::Error> {
        match &self.repr {
            Repr::SpawnFailed(e) => Some(e),
            _ => None,
        }
    }

    /// Whether this is the error of a blocking job (`thread`,
    /// `thread_call`, [`BlockingPool::spawn`](crate::BlockingPool::spawn))
    /// rather than of a go block.
    pub fn is_blocking_job(&self) -> bool {
        self.origin == Origin::Blocking
    }

    /// The panic's message, if the task panicked with a `&str` or `String`
    /// (other payloads give a placeholder).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name of the go block, if it was given one with parkway's
    /// `task::Builder::name`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the go block was spawned, or where `thread`, `thread_call` or
    /// `BlockingPool::spawn` was called for a blocking job.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The panic payload, to re-raise with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// If the error is not a panic; use
    /// [`try_into_panic`](JoinError::try_into_panic) to check.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(e) => panic!("JoinError::into_panic called on an error that is not a panic: {e}"),
        }
    }

    /// The panic payload, or the error itself if it is not a panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic { payload, .. } => {
                Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner()))
            }
            repr => Err(JoinError { repr, ..self }),
        }
    }

    /// "task 12 `name` (spawned at src/main.rs:3:5)", or "blocking job 12
    /// (started at ...)", for messages.
    fn describe_task(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.origin {
            Origin::Task => "task",
            Origin::Blocking => "blocking job",
        };
        write!(f, "{what} {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " `{name}`")?;
        }
        let verb = match self.origin {
            Origin::Task => "spawned",
            Origin::Blocking => "started",
        };
        write!(f, " ({verb} at {})", self.location)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe_task(f)?;
        match &self.repr {
            Repr::Aborted => write!(f, " was cancelled by `abort()` before it started"),
            Repr::Cancelled => match self.origin {
                Origin::Task => write!(f, " was cancelled"),
                Origin::Blocking => {
                    write!(f, " was cancelled: its pool shut down before a thread took it")
                }
            },
            Repr::Panic { message, .. } => write!(f, " panicked: {message}"),
            Repr::Stalled(d) => write!(
                f,
                " blocked its go worker for {} ms and was failed by strict go-check",
                d.as_millis()
            ),
            Repr::SpawnFailed(e) => write!(
                f,
                " never ran: the OS refused a new blocking-pool thread and the pool had none to run it ({e})"
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.repr {
            Repr::Cancelled => "Cancelled".to_string(),
            Repr::Aborted => "Aborted".to_string(),
            Repr::Panic { message, .. } => format!("Panic({message:?})"),
            Repr::Stalled(d) => format!("Stalled({d:?})"),
            Repr::SpawnFailed(e) => format!("SpawnFailed({e})"),
        };
        f.debug_struct("JoinError")
            .field("kind", &format_args!("{kind}"))
            .field("id", &self.id)
            .field("origin", &self.origin)
            .field("name", &self.name)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

impl std::error::Error for JoinError {
    /// The OS's error, for a blocking job no thread could be started for.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::SpawnFailed(e) => Some(e),
            _ => None,
        }
    }
}

impl From<JoinError> for io::Error {
    fn from(e: JoinError) -> io::Error {
        // Always `Other`, as tokio does: `Interrupted` or `WouldBlock`
        // (a refused thread is often `EAGAIN`) would make std's `Read`
        // helpers and async I/O code retry forever. The OS error stays
        // reachable through `source()`.
        io::Error::other(e)
    }
}
