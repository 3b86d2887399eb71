//! The sending side of a transform channel: its constructors and the
//! [`TransformSender`] handle. The protocol behind them is in
//! [`shared`](super::shared), the future of `send` in
//! [`send_future`](super::send_future).

use std::fmt;

use parkway_go_check::check_blocking;

use super::send_future::TransformSendFuture;
use super::shared::{Attempt, BoxedTransform, Handler, Shared};
use super::{Buffer, Transform, TransformError};
use crate::error::{SendError, TrySendError};
use crate::receiver::Receiver;
use crate::sync::{Arc, Ordering};
use crate::waiter::{Context, Waiter};

/// Makes a transform channel with the given buffer and transform (core.async
/// `(chan buf xform)`). Errors and panics of the transform are reported
/// through [`parkway_go_check::report`] and their values dropped; see
/// [`with_transform_and_handler`] to handle them.
///
/// The receiving side is a plain [`Receiver`]; see the
/// [module docs](super) for the semantics.
///
/// # Panics
///
/// If the buffer has no room: `Buffer::Bounded(0)` (a transform channel
/// cannot be unbuffered, as in core.async), `Dropping(0)` or `Sliding(0)`.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{flat_map, Buffer};
///
/// // core.async: (chan 1 (mapcat (fn [x] [x x])))
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(1), flat_map(|x: u8| [x, x]));
/// let t = std::thread::spawn(move || {
///     for x in 0..3 {
///         tx.send_blocking(x).unwrap(); // waits while the buffer is full
///     }
/// });
/// let got: Vec<u8> = std::iter::from_fn(|| rx.recv_blocking()).collect();
/// assert_eq!(got, [0, 0, 1, 1, 2, 2]);
/// t.join().unwrap();
/// ```
pub fn with_transform<T, X>(
    buffer: Buffer,
    xform: X,
) -> (TransformSender<T, X::Output>, Receiver<X::Output>)
where
    T: 'static,
    X: Transform<T> + Send + 'static,
    X::Output: 'static,
{
    build(buffer, Box::new(xform), None)
}

/// [`with_transform`] with an error handler (core.async `(chan buf xform
/// ex-handler)`).
///
/// When a step or the flush returns an error or panics, `handler` gets it
/// (a panic as a [`TransformError`] with [`is_panic`](TransformError::is_panic));
/// a value it returns is added to the buffer in place of the failed step's
/// outputs (after any the step emitted before failing), and `None` adds
/// nothing. The handler runs under the transform lock, like the transform:
/// it must not block or use the channel. A panic in the handler is caught
/// and reported.
///
/// # Panics
///
/// As [`with_transform`].
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{map, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform_and_handler(
///     Buffer::Bounded(4),
///     map(|x: u32| if x == 0 { panic!("zero") } else { Ok(100 / x) }),
///     |e| Some(Err(e.to_string())),
/// );
/// tx.send_blocking(4).unwrap();
/// tx.send_blocking(0).unwrap();
/// assert_eq!(rx.recv_blocking(), Some(Ok(25)));
/// assert_eq!(rx.recv_blocking(), Some(Err("the transform panicked: zero".to_string())));
/// ```
pub fn with_transform_and_handler<T, X, H>(
    buffer: Buffer,
    xform: X,
    handler: H,
) -> (TransformSender<T, X::Output>, Receiver<X::Output>)
where
    T: 'static,
    X: Transform<T> + Send + 'static,
    X::Output: 'static,
    H: FnMut(TransformError) -> Option<X::Output> + Send + 'static,
{
    build(buffer, Box::new(xform), Some(Box::new(handler)))
}

fn build<T, U: 'static>(
    buffer: Buffer,
    xform: BoxedTransform<T, U>,
    handler: Option<Handler<U>>,
) -> (TransformSender<T, U>, Receiver<U>) {
    let (inner, rx) = match buffer {
        Buffer::Bounded(0) => panic!(
            "parkway: a transform channel needs a buffer for its outputs (core.async: \
             \"buffer must be supplied when transducer is\"), and Buffer::Bounded(0) is \
             unbuffered: use Buffer::Bounded(1) or more"
        ),
        Buffer::Bounded(n) => crate::bounded(n),
        Buffer::Dropping(n) => crate::dropping(n),
        Buffer::Sliding(n) => crate::sliding(n),
    };
    let shared = Shared::new(inner, xform, handler);
    (
        TransformSender {
            shared: Arc::new(shared),
        },
        rx,
    )
}

/// The sending side of a transform channel: puts values of type `T`,
/// which its transform turns into the `U`s its [`Receiver`] gets.
///
/// Made by [`with_transform`]. Cloning it adds a sender; the channel
/// closes, and the transform's flush runs, when the last one is dropped or
/// on [`close`](TransformSender::close). Errors hand back the value put,
/// untransformed.
///
/// Every put takes the channel's transform lock and, twice, the lock of
/// the channel underneath: there is no lock-free fast path (see the
/// [module docs](super#cost-and-locking)).
pub struct TransformSender<T, U> {
    shared: Arc<Shared<T, U>>,
}

impl<T, U> TransformSender<T, U> {
    /// Puts `v`, parking the task while the buffer has no room, then runs
    /// the transform and adds its outputs (core.async `>!`).
    ///
    /// Completes with `Ok(())` once the value went through the transform
    /// and its outputs are in the buffer (or discarded by its policy, or
    /// the value failed and went to the error handler). A sender already
    /// waiting when the channel is closed still delivers its value; a put
    /// already accepted when the receiving side closes the channel still
    /// delivers its outputs, and they are dropped only if every receiver
    /// is gone by then, as buffered values are (see the
    /// [module docs](super#closing-from-the-receiving-side)).
    ///
    /// # Errors
    ///
    /// `Err(SendError(v))` hands the value back, untransformed, if the
    /// channel was closed (or ended by its transform) before the put was
    /// accepted, or every receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for room drops the value
    /// untransformed; nothing reaches the channel. Once there is room the
    /// put completes within one poll, so no output is ever held by the
    /// future. Leaking it (`mem::forget`) while it waits holds back the
    /// flush of a [`close`](Self::close) until the last sender is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let waker = std::task::Waker::noop();
    /// #     let mut cx = std::task::Context::from_waker(waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// use parkway_channels::transform::{map, Buffer};
    ///
    /// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(1), map(|x: u8| x + 1));
    /// block_on(async {
    ///     tx.send(1).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(2));
    /// });
    /// ```
    pub fn send(&self, v: T) -> TransformSendFuture<'_, T, U> {
        TransformSendFuture::new(&self.shared, v)
    }

    /// Puts `v`, blocking the thread while the buffer has no room, then
    /// runs the transform and adds its outputs (core.async `>!!`).
    ///
    /// # Errors
    ///
    /// As [`send`](TransformSender::send).
    ///
    /// # Panics
    ///
    /// On a go worker with go-check in `Warn` or `Strict` mode, as
    /// [`Sender::send_blocking`](crate::Sender::send_blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::transform::{filter, Buffer};
    ///
    /// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(1), filter(|x: &i32| *x > 0));
    /// tx.send_blocking(-1).unwrap(); // accepted and filtered out
    /// tx.send_blocking(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    #[track_caller]
    pub fn send_blocking(&self, v: T) -> Result<(), SendError<T>> {
        check_blocking("send_blocking");
        let mut counted = false;
        let mut v = v;
        loop {
            let ctx = Context::for_thread();
            let waiter = Waiter {
                ctx: ctx.clone(),
                op: 0,
            };
            match self.shared.attempt(v, Some(waiter), &mut counted) {
                Attempt::Sent => {
                    Context::recycle(ctx);
                    return Ok(());
                }
                Attempt::Closed(back) => {
                    Context::recycle(ctx);
                    return Err(SendError(back));
                }
                Attempt::Waiting(back) => {
                    // Woken (claimed) when there may be room, or when the
                    // channel closes; the registration is gone then.
                    ctx.wait_blocking();
                    Context::recycle(ctx);
                    v = back;
                }
                Attempt::Full(_) => unreachable!("a waiting put registers"),
            }
        }
    }

    /// Puts `v` if the buffer has room now (core.async `offer!`), running
    /// the transform and adding its outputs.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the buffer has no room (the transform did
    /// not run), [`TrySendError::Closed`] if the channel is closed; the
    /// value comes back either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::transform::{flat_map, Buffer};
    /// use parkway_channels::TrySendError;
    ///
    /// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(2), flat_map(|n: usize| 0..n));
    /// tx.try_send(3).unwrap(); // three outputs: the buffer is now over-full
    /// assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
    /// assert_eq!(rx.try_recv(), Ok(0));
    /// assert_eq!(rx.try_recv(), Ok(1)); // back below capacity
    /// tx.try_send(1).unwrap();
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        match self.shared.attempt(v, None, &mut false) {
            Attempt::Sent => Ok(()),
            Attempt::Closed(v) => Err(TrySendError::Closed(v)),
            Attempt::Full(v) => Err(TrySendError::Full(v)),
            Attempt::Waiting(_) => unreachable!("try_send never registers"),
        }
    }

    /// Closes the channel (core.async `close!`): puts begun after this
    /// fail. The transform's flush runs once, now, or after the senders
    /// that were already waiting for room have delivered; its outputs
    /// reach receivers before `None`. Idempotent.
    ///
    /// A send future leaked (`mem::forget`) while waiting for room counts
    /// as waiting forever: the flush then runs when the last
    /// `TransformSender` is dropped.
    ///
    /// # Panics
    ///
    /// If dropping a value the buffer's policy discards (a sliding buffer
    /// evicting for the flush's outputs, say) panics, the panic comes out
    /// of `close`, after the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::transform::{partition_all, Buffer};
    ///
    /// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(1), partition_all(4));
    /// tx.send_blocking(1).unwrap();
    /// tx.close();
    /// assert!(tx.send_blocking(2).is_err());
    /// assert_eq!(rx.recv_blocking(), Some(vec![1]));
    /// assert_eq!(rx.recv_blocking(), None);
    /// ```
    pub fn close(&self) {
        self.shared.close();
    }

    /// Whether the channel is closed or closing (by [`close`](Self::close)
    /// or its transform), or every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closing() || self.shared.inner.is_closed()
    }

    /// Values receivers have still to take: those in the buffer, and the
    /// outputs queued behind it (past its capacity, or added after a
    /// receiver-side close). Takes the channel's lock.
    ///
    /// The plain [`Receiver::len`] of the same channel counts the buffer
    /// only, so it can be smaller.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::transform::{flat_map, Buffer};
    ///
    /// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(1), flat_map(|x: u8| [x; 3]));
    /// tx.try_send(7).unwrap();
    /// assert_eq!(tx.len(), 3);
    /// assert_eq!(rx.len(), 1); // the buffer only
    /// ```
    pub fn len(&self) -> usize {
        self.shared.chan().len_with_queued()
    }

    /// Whether receivers have no value left to take ([`len`](Self::len)
    /// is 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity.
    pub fn capacity(&self) -> Option<usize> {
        self.shared.inner.capacity()
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T, U> Clone for TransformSender<T, U> {
    fn clone(&self) -> Self {
        if self.shared.senders.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            std::process::abort();
        }
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T, U> Drop for TransformSender<T, U> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.close_last();
        }
    }
}

impl<T, U> fmt::Debug for TransformSender<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransformSender")
            .field("chan", self.shared.chan())
            .field("closing", &self.shared.is_closing())
            .finish()
    }
}
