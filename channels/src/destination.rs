//! `Destination<T>`: what the combinators send to, a plain [`Sender`] or a
//! transform channel's [`TransformSender`].

use std::future::Future;

use crate::error::SendError;
use crate::sender::Sender;
use crate::transform::TransformSender;

/// The sending side of a channel, plain or transform: what `parkway`'s
/// combinators that only send and close (`pipe`, `onto_chan`, the
/// pipelines' output) accept, so a transform channel can be their output as
/// core.async's `(pipeline n (chan 10 xf) ..)` has it.
///
/// Implemented by [`Sender<T>`] and [`TransformSender<T, U>`]; not meant to
/// be implemented elsewhere (it may gain methods).
pub trait Destination<T>: Send + Sync + 'static {
    /// Puts `v`, parking while there is no room; see [`Sender::send`].
    fn send(&self, v: T) -> impl Future<Output = Result<(), SendError<T>>> + Send + '_;

    /// Closes the channel; see [`Sender::close`].
    fn close(&self);

    /// Whether the channel is closed (or every receiver is gone); see
    /// [`Sender::is_closed`].
    fn is_closed(&self) -> bool;
}

impl<T: Send + 'static> Destination<T> for Sender<T> {
    fn send(&self, v: T) -> impl Future<Output = Result<(), SendError<T>>> + Send + '_ {
        Sender::send(self, v)
    }

    fn close(&self) {
        Sender::close(self);
    }

    fn is_closed(&self) -> bool {
        Sender::is_closed(self)
    }
}

impl<T: Send + 'static, U: Send + 'static> Destination<T> for TransformSender<T, U> {
    fn send(&self, v: T) -> impl Future<Output = Result<(), SendError<T>>> + Send + '_ {
        TransformSender::send(self, v)
    }

    fn close(&self) {
        TransformSender::close(self);
    }

    fn is_closed(&self) -> bool {
        TransformSender::is_closed(self)
    }
}
