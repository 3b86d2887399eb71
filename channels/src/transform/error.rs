//! The error a transform step or flush fails with.

use std::error::Error;
use std::fmt;

/// Why a [`Transform`](super::Transform) step or flush failed: an error it
/// returned, or a panic the channel caught.
///
/// The channel hands it to the error handler given to
/// [`with_transform_and_handler`](super::with_transform_and_handler)
/// (core.async's `ex-handler`), or reports it when there is none.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::TransformError;
///
/// let e = TransformError::new("not a number");
/// assert!(!e.is_panic());
/// assert_eq!(e.to_string(), "not a number");
///
/// let io = TransformError::new(std::io::Error::other("disk full"));
/// assert!(io.get_ref().unwrap().is::<std::io::Error>());
/// ```
pub struct TransformError {
    repr: Repr,
}

enum Repr {
    /// Returned by the transform.
    Error(Box<dyn Error + Send + Sync + 'static>),
    /// A panic caught around the transform, with its message.
    Panic(String),
}

impl TransformError {
    /// An error from anything that converts into a boxed error: an error
    /// type, a `String` or a `&str`.
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self {
            repr: Repr::Error(error.into()),
        }
    }

    /// The error a caught panic becomes.
    pub(crate) fn from_panic(message: String) -> Self {
        Self {
            repr: Repr::Panic(message),
        }
    }

    /// Whether this stands for a panic caught in the transform.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The caught panic's message, if this stands for a panic.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(m) => Some(m),
            Repr::Error(_) => None,
        }
    }

    /// The error the transform returned, if it returned one.
    pub fn get_ref(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match &self.repr {
            Repr::Error(e) => Some(&**e),
            Repr::Panic(_) => None,
        }
    }

    /// The error the transform returned, if it returned one.
    pub fn into_inner(self) -> Option<Box<dyn Error + Send + Sync + 'static>> {
        match self.repr {
            Repr::Error(e) => Some(e),
            Repr::Panic(_) => None,
        }
    }
}

impl fmt::Debug for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Error(e) => f.debug_tuple("TransformError").field(e).finish(),
            Repr::Panic(m) => f.debug_struct("TransformError").field("panic", m).finish(),
        }
    }
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Error(e) => fmt::Display::fmt(e, f),
            Repr::Panic(m) => write!(f, "the transform panicked: {m}"),
        }
    }
}

/// Transparent over a returned error: `Display` and `source` are the
/// error's own.
impl Error for TransformError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.repr {
            Repr::Error(e) => e.source(),
            Repr::Panic(_) => None,
        }
    }
}
