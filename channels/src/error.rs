//! Error types of channel operations. Every error that stands for a value
//! that could not be sent carries that value, so nothing is silently lost.

use std::error::Error;
use std::fmt;

/// The channel is closed (or every receiver is gone): the value comes back.
///
/// Returned by [`Sender::send`](crate::Sender::send) and
/// [`Sender::send_blocking`](crate::Sender::send_blocking), and handed to
/// [`put`](crate::Sender::put) callbacks and select send branches.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed channel")
    }
}

impl<T> Error for SendError<T> {}

/// Why [`Sender::try_send`](crate::Sender::try_send) (core.async `offer!`)
/// did not send; the value comes back either way.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The buffer is full, or an unbuffered channel has no receiver ready to
    /// take the value at once.
    Full(T),
    /// The channel is closed, or every receiver is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Closed(v) => v,
        }
    }

    /// Whether the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the channel was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        Self::Closed(e.0)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("sending on a full channel"),
            Self::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`](crate::Receiver::try_recv) (core.async
/// `poll!`) returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// Nothing to take now; the channel is still open.
    Empty,
    /// The channel is closed and drained.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("receiving on an empty channel"),
            Self::Closed => f.write_str("receiving on a closed and empty channel"),
        }
    }
}

impl Error for TryRecvError {}

/// Why [`Sender::put`](crate::Sender::put) (core.async `put!`) was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The channel already holds [`MAX_PENDING`](crate::MAX_PENDING)
    /// pending `put` callbacks; the value comes back.
    TooManyPending(T),
}

impl<T> PutError<T> {
    /// The value that was not queued.
    pub fn into_inner(self) -> T {
        match self {
            Self::TooManyPending(v) => v,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TooManyPending(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "more than {} pending put callbacks on one channel; the value was handed back",
            crate::MAX_PENDING
        )
    }
}

impl<T> Error for PutError<T> {}

/// Why [`Receiver::take`](crate::Receiver::take) (core.async `take!`) was
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TakeError {
    /// The channel already holds [`MAX_PENDING`](crate::MAX_PENDING)
    /// pending `take` callbacks.
    TooManyPending,
}

impl fmt::Display for TakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "more than {} pending take callbacks on one channel",
            crate::MAX_PENDING
        )
    }
}

impl Error for TakeError {}
