//! `JoinError`: why a task has no output.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::task::raw::Header;
use crate::task::Id;

/// Why a task ended without an output: it panicked, it was cancelled
/// (`abort`, runtime shutdown, spawned during shutdown), or strict go-check
/// failed it for blocking the go pool.
///
/// A panic is never swallowed: the payload travels here, its message is in
/// `Display`, and [`into_panic`](JoinError::into_panic) hands the payload
/// back so it can be re-raised with [`std::panic::resume_unwind`].
///
/// # Examples
///
/// ```
/// let rt = parkway::Runtime::new().unwrap();
/// let err = rt.block_on(async {
///     parkway::go(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert!(err.to_string().contains("boom"));
/// ```
pub struct JoinError {
    /// What happened.
    repr: Repr,
    /// The task's id.
    id: Id,
    /// The task's name, if it had one.
    name: Option<Arc<str>>,
    /// Where the task was spawned.
    location: &'static Location<'static>,
}

/// The kinds of `JoinError`.
enum Repr {
    /// Aborted, or dropped by runtime shutdown.
    Cancelled,
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
}

impl JoinError {
    /// The error of a task cancelled by `abort` or shutdown.
    pub(crate) fn cancelled(header: &Header) -> JoinError {
        JoinError::new(header, Repr::Cancelled)
    }

    /// The error of a task whose future panicked with `payload`.
    pub(crate) fn panic(header: &Header, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = parkway_go_check::panic_message(&*payload);
        JoinError::new(
            header,
            Repr::Panic {
                message,
                payload: Mutex::new(payload),
            },
        )
    }

    /// The error of a task strict go-check failed after a poll that blocked
    /// its worker for `elapsed`.
    pub(crate) fn stalled(header: &Header, elapsed: Duration) -> JoinError {
        JoinError::new(header, Repr::Stalled(elapsed))
    }

    /// Builds an error for the task `header` describes.
    fn new(header: &Header, repr: Repr) -> JoinError {
        JoinError {
            repr,
            id: header.id,
            name: header.name.clone(),
            location: header.location,
        }
    }

    /// Whether the task was cancelled (by [`JoinHandle::abort`], by runtime
    /// shutdown, or because it was spawned while the runtime shut down).
    ///
    /// [`JoinHandle::abort`]: crate::JoinHandle::abort
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic { .. })
    }

    /// Whether strict go-check failed the task for blocking its go worker.
    pub fn is_stalled(&self) -> bool {
        matches!(self.repr, Repr::Stalled(_))
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

    /// The name of the task, if it was given one with
    /// [`task::Builder::name`](crate::task::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
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
            Repr::Panic { payload, .. } => Ok(payload.into_inner()),
            repr => Err(JoinError { repr, ..self }),
        }
    }

    /// "task 12 `name` spawned at src/main.rs:3:5", for messages.
    fn describe_task(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " `{name}`")?;
        }
        write!(f, " (spawned at {})", self.location)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe_task(f)?;
        match &self.repr {
            Repr::Cancelled => write!(f, " was cancelled"),
            Repr::Panic { message, .. } => write!(f, " panicked: {message}"),
            Repr::Stalled(d) => write!(
                f,
                " blocked its go worker for {} ms and was failed by strict go-check",
                d.as_millis()
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.repr {
            Repr::Cancelled => "Cancelled".to_string(),
            Repr::Panic { message, .. } => format!("Panic({message:?})"),
            Repr::Stalled(d) => format!("Stalled({d:?})"),
        };
        f.debug_struct("JoinError")
            .field("kind", &format_args!("{kind}"))
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for io::Error {
    fn from(e: JoinError) -> io::Error {
        let kind = if e.is_cancelled() {
            io::ErrorKind::Interrupted
        } else {
            io::ErrorKind::Other
        };
        io::Error::new(kind, e.to_string())
    }
}
