//! Transform channels: core.async's `(chan buf xform ex-handler)`.
//!
//! A transform channel runs every value put into it through a
//! [`Transform`] (the Rust counterpart of a transducer) before buffering
//! it. A step turns one input into zero or more outputs, may end the
//! channel early ([`Step::Done`], core.async's `reduced`), and may fail; at
//! close the transform's [`flush`](Transform::flush) (the transducer's
//! completion step) runs once and may add last values, as `partition-all`
//! does with its partial batch.
//!
//! [`with_transform`] returns a [`TransformSender`] and a plain
//! [`Receiver`](crate::Receiver), so the receiving side works everywhere a
//! plain channel does (`alt!`, [`Select`](crate::Select), as a `Stream`).
//!
//! # Semantics, after core.async
//!
//! * A put is accepted when the buffer has room under its [`Buffer`]
//!   policy (a bounded buffer that is full makes it wait; dropping and
//!   sliding buffers always accept). Only then does the step run.
//! * Every output of one put is added to the buffer at once, past its
//!   capacity if need be, and the outputs of two puts never interleave.
//!   A bounded buffer holding more than its capacity accepts no new put
//!   until receivers bring it below capacity; dropping and sliding buffers
//!   apply their policy to each output.
//! * [`Step::Done`] closes the channel once that put's outputs (and the
//!   flush's) are in: receivers get them, then `None`.
//! * Closing ([`TransformSender::close`], or dropping the last
//!   `TransformSender`) runs the flush exactly once, after the outputs of
//!   every accepted put; receivers get the flushed values before `None`.
//!   Senders already waiting for room when the channel is closed still
//!   deliver (as parked senders of a plain channel do); the flush runs
//!   after the last of them. A send future leaked with `mem::forget`
//!   while waiting never finishes, so the flush then waits for the last
//!   `TransformSender` to be dropped, which runs it regardless.
//! * Room a woken sender does not use (its step emitted nothing, or fewer
//!   outputs than there is room for) goes on to the next waiting sender.
//! * A step or flush that returns an error, or panics, is handed to the
//!   error handler ([`with_transform_and_handler`]); a value it returns is
//!   added where the failed step's outputs would have gone, after any the
//!   step emitted before failing. Without a handler the error is reported
//!   through [`parkway_go_check::report`] (stderr unless a hook is
//!   installed) and the value is dropped, as core.async's default handler
//!   prints the exception and adds nothing. The transform keeps being used
//!   afterwards, as in core.async.
//!
//! # Writing a transform
//!
//! Implement [`Transform`], or build one from the ready-made pieces
//! ([`map`], [`filter`], [`filter_map`], [`flat_map`], [`try_map`],
//! [`take`], [`take_while`], [`partition_all`], [`dedupe`]) joined with
//! [`then`](Transform::then). The transform, and the error handler, run
//! under the channel's transform lock, one put at a time: they must not
//! block, and must not use the same channel (that would deadlock).
//!
//! # Differences from plain channels
//!
//! * An unbuffered transform channel does not exist (core.async: "buffer
//!   must be supplied when transducer is"): `Buffer::Bounded(0)` panics.
//! * A [`TransformSender`] has no `put` (callback) operation and cannot be
//!   a `send` branch of `alt!` or [`Select`](crate::Select); its receiver
//!   can do everything a plain receiver does.
//! * [`TransformSender::len`] counts every value receivers have still to
//!   take, including outputs queued past the capacity; the plain
//!   [`Receiver::len`](crate::Receiver::len) counts the buffer only.
//!
//! # Closing from the receiving side
//!
//! [`Receiver::close`](crate::Receiver::close) closes the channel without
//! a flush into it: puts that have not been granted room yet fail, and
//! senders waiting for room get their values back. The flush still runs
//! once (when the last `TransformSender` goes, or at `close`), and its
//! outputs are dropped: whatever the transform still held then (say,
//! `partition_all`'s partial batch) is lost, as receivers asked for no
//! more.
//!
//! A put granted room before the close is treated as a sender already
//! parked at close on a plain channel: its step runs, it returns `Ok`,
//! and its outputs are delivered, queued behind the closed buffer, before
//! `None`. One narrow window remains: a receive that completes while
//! that put's step runs (after the close, before its outputs are added),
//! such as a receiver woken by the close, sees the channel closed and
//! drained and gets `None` (or [`TryRecvError::Closed`](crate::TryRecvError::Closed)),
//! though the outputs follow; a later receive gets them, then `None`
//! again. Code that stops at the first `None` after closing from the
//! receiving side may so leave one put's outputs unreceived. If the step
//! returns [`Step::Done`], that put's outputs are delivered and the
//! flush's, as after any receiver-side close, are dropped.
//!
//! Dropping every receiver disconnects the channel: puts fail, waiting
//! senders get their values back, and the outputs of a put whose step is
//! running are dropped when it adds them (its `send` still returns `Ok`),
//! as a plain channel drops its buffered values once nobody can receive
//! them.
//!
//! # Cost and locking
//!
//! Each put holds the channel's transform lock from its room check to its
//! push, step included, and takes the lock of the channel underneath
//! twice (to check for room, and to add its outputs). There is no
//! lock-free fast path for transform channels, by design: the step has to
//! run between those two points, one put at a time. A sender that finds
//! the transform lock held blocks its thread until the other put is done:
//! a go task in `send(..).await` that contends for it blocks its worker
//! for as long as the other put's step runs. Keep steps (and the error
//! handler) short, and do slow work before sending. Receiving is
//! unaffected: the receiver is a plain one, with its lock-free path.
//!
//! # Examples
//!
//! ```
//! use parkway_channels::transform::{filter, map, partition_all, Buffer, Transform};
//!
//! let xform = map(|x: u32| x * 10)
//!     .then(filter(|x: &u32| *x != 30))
//!     .then(partition_all(2));
//! let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(8), xform);
//! for i in 1..=5 {
//!     tx.send_blocking(i).unwrap();
//! }
//! tx.close(); // flushes the last, partial batch
//! let got: Vec<Vec<u32>> = std::iter::from_fn(|| rx.recv_blocking()).collect();
//! assert_eq!(got, vec![vec![10, 20], vec![40, 50]]);
//! ```

mod compose;
mod error;
mod send_future;
mod sender;
mod shared;
mod stateful;
mod stateless;

use std::fmt;

pub use compose::Then;
pub use error::TransformError;
pub use send_future::TransformSendFuture;
pub use sender::{with_transform, with_transform_and_handler, TransformSender};
pub use stateful::{
    dedupe, partition_all, take, take_while, Dedupe, PartitionAll, Take, TakeWhile,
};
pub use stateless::{
    filter, filter_map, flat_map, map, try_map, Filter, FilterMap, FlatMap, Map, TryMap,
};

/// The buffer of a transform channel and its policy when full: the
/// buffered counterparts of [`bounded`](crate::bounded),
/// [`dropping`](crate::dropping) and [`sliding`](crate::sliding).
///
/// There is no unbuffered variant: a transform channel needs a buffer to
/// put a step's outputs in (core.async refuses a transducer without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Buffer {
    /// `n` values (core.async `(buffer n)`); a put waits while the buffer
    /// holds `n` or more. `n` must be at least 1.
    Bounded(usize),
    /// `n` values (core.async `(dropping-buffer n)`); puts never wait, and
    /// outputs that find the buffer full are discarded. `n` must be at
    /// least 1.
    Dropping(usize),
    /// `n` values (core.async `(sliding-buffer n)`); puts never wait, and
    /// each output that finds the buffer full discards the oldest value.
    /// `n` must be at least 1.
    Sliding(usize),
}

/// What a [`Transform`] step asks of the channel after it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "a `Step::Done` ends the channel; returning it is how a transform stops early"]
pub enum Step {
    /// Keep feeding values.
    Continue,
    /// The transform wants no more input (core.async's `reduced`): the
    /// channel closes once this step's outputs and the flush's are in.
    Done,
}

/// A transform for a channel, the Rust counterpart of a core.async
/// transducer: it turns each input into zero or more outputs, may stop
/// early, and may emit last values when the channel closes.
///
/// A channel calls [`step`](Transform::step) once per accepted put, in
/// order, and [`flush`](Transform::flush) exactly once at the end (on
/// close, or after a step returned [`Step::Done`]); it never calls `step`
/// after `Done` or after `flush`. Both run under the channel's transform
/// lock: they must not block, and must not use the same channel.
///
/// A panic in either is caught and treated as an error, and the transform
/// keeps being used: write transforms that stay consistent when a user
/// closure inside them panics, or return errors instead.
///
/// `Box<dyn Transform<T, Output = U> + Send>` is a transform too, for one
/// chosen at run time.
///
/// # Examples
///
/// A running sum, emitted every time it passes a multiple of 10, and at
/// close:
///
/// ```
/// use parkway_channels::transform::{Buffer, Emit, Step, Transform, TransformError};
///
/// struct Sums {
///     total: u32,
///     emitted: u32,
/// }
///
/// impl Transform<u32> for Sums {
///     type Output = u32;
///
///     fn step(&mut self, x: u32, out: &mut Emit<'_, u32>) -> Result<Step, TransformError> {
///         self.total += x;
///         if self.total / 10 > self.emitted / 10 {
///             self.emitted = self.total;
///             out.emit(self.total);
///         }
///         Ok(Step::Continue)
///     }
///
///     fn flush(&mut self, out: &mut Emit<'_, u32>) -> Result<(), TransformError> {
///         if self.total != self.emitted {
///             out.emit(self.total);
///         }
///         Ok(())
///     }
/// }
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(4), Sums { total: 0, emitted: 0 });
/// for x in [4, 4, 4, 1] {
///     tx.send_blocking(x).unwrap();
/// }
/// drop(tx); // the last sender gone: the channel closes and flushes
/// assert_eq!(rx.recv_blocking(), Some(12));
/// assert_eq!(rx.recv_blocking(), Some(13));
/// assert_eq!(rx.recv_blocking(), None);
/// ```
pub trait Transform<T> {
    /// The type of the values the transform emits.
    type Output;

    /// Transforms one input, emitting any number of outputs into `out`.
    ///
    /// # Errors
    ///
    /// An error goes to the channel's error handler (or is reported); the
    /// values already emitted by this call are kept.
    fn step(&mut self, input: T, out: &mut Emit<'_, Self::Output>) -> Result<Step, TransformError>;

    /// Emits whatever the transform still holds: the completion step,
    /// run once when the channel closes. Does nothing by default.
    ///
    /// # Errors
    ///
    /// As [`step`](Transform::step).
    fn flush(&mut self, out: &mut Emit<'_, Self::Output>) -> Result<(), TransformError> {
        let _ = out;
        Ok(())
    }

    /// Feeds this transform's outputs into `next` (transducer composition,
    /// `(comp a b)`): `a.then(b)` applies `a`, then `b`. A [`Step::Done`]
    /// from either ends the whole; the flush flushes `self` into `next`,
    /// then flushes `next`.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::transform::{flat_map, take, Buffer, Transform};
    ///
    /// let (tx, rx) = parkway_channels::with_transform(
    ///     Buffer::Bounded(8),
    ///     flat_map(|x: u32| [x, x]).then(take(3)),
    /// );
    /// tx.send_blocking(1).unwrap();
    /// tx.send_blocking(2).unwrap(); // the third output ends the channel
    /// assert!(tx.send_blocking(3).is_err());
    /// let got: Vec<u32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
    /// assert_eq!(got, [1, 1, 2]);
    /// ```
    fn then<B>(self, next: B) -> Then<Self, B>
    where
        Self: Sized,
        B: Transform<Self::Output>,
    {
        Then::new(self, next)
    }
}

impl<T, X: Transform<T> + ?Sized> Transform<T> for Box<X> {
    type Output = X::Output;

    fn step(&mut self, input: T, out: &mut Emit<'_, Self::Output>) -> Result<Step, TransformError> {
        (**self).step(input, out)
    }

    fn flush(&mut self, out: &mut Emit<'_, Self::Output>) -> Result<(), TransformError> {
        (**self).flush(out)
    }
}

/// Where a [`Transform`] puts its outputs.
///
/// A channel hands one to every step and to the flush; everything emitted
/// into it joins the buffer together, in order. Running a transform by
/// hand (in a test, or inside another transform) takes one built with
/// [`Emit::new`].
pub struct Emit<'a, U> {
    sink: &'a mut (dyn FnMut(U) + 'a),
}

impl<'a, U> Emit<'a, U> {
    /// An `Emit` that passes every value to `sink`.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::transform::{partition_all, Emit, Transform};
    ///
    /// let mut batches = Vec::new();
    /// let mut push = |b: Vec<u8>| batches.push(b);
    /// let mut out = Emit::new(&mut push);
    /// let mut xform = partition_all(2);
    /// for x in 1..=3 {
    ///     let _ = xform.step(x, &mut out).unwrap();
    /// }
    /// xform.flush(&mut out).unwrap();
    /// assert_eq!(batches, vec![vec![1, 2], vec![3]]);
    /// ```
    pub fn new(sink: &'a mut (dyn FnMut(U) + 'a)) -> Self {
        Self { sink }
    }

    /// Emits one value.
    #[inline]
    pub fn emit(&mut self, value: U) {
        (self.sink)(value);
    }

    /// Emits every value of `values`, in order.
    pub fn emit_all(&mut self, values: impl IntoIterator<Item = U>) {
        for v in values {
            (self.sink)(v);
        }
    }
}

impl<U> fmt::Debug for Emit<'_, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emit").finish_non_exhaustive()
    }
}
