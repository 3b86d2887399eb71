//! The sending handle and its operations: parking `send` (core.async
//! `>!`), blocking `send_blocking` (`>!!`), non-waiting `try_send`
//! (`offer!`) and callback `put` (`put!`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use parkway_go_check::{budget, check_blocking};

use crate::chan::{self, CancelSend, Chan, SendReg, SendStart};
use crate::error::{PutError, SendError, TrySendError};
use crate::sync::Arc;
use crate::waiter::{Context, Waiter};

/// The sending side of a channel. Cloning it adds a sender; the channel
/// closes when the last one is dropped (or on [`close`](Sender::close)).
pub struct Sender<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `v`, parking the task while the channel has no room
    /// (core.async `>!`).
    ///
    /// Completes with `Ok(())` once the value is in the channel: in the
    /// buffer, taken by a receiver, or discarded by a dropping, sliding or
    /// promise policy. A sender already parked when the channel is closed
    /// still delivers its value.
    ///
    /// # Errors
    ///
    /// `Err(SendError(v))` hands the value back if the channel was closed
    /// before the send began, or every receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes sends nothing: no receiver
    /// ever sees the value, which is dropped with the future.
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
    /// let (tx, rx) = parkway_channels::bounded(1);
    /// block_on(async {
    ///     tx.send(7).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(7));
    /// });
    /// ```
    pub fn send(&self, v: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            state: SendState::Init(v),
        }
    }

    /// Sends `v`, blocking the thread while the channel has no room
    /// (core.async `>!!`). Spins briefly before parking the thread.
    ///
    /// # Errors
    ///
    /// As [`send`](Sender::send): the value comes back if the channel is
    /// closed or every receiver is gone.
    ///
    /// # Panics
    ///
    /// On a go worker with go-check in `Warn` or `Strict` mode: blocking a
    /// go worker stalls every go block queued behind it. Use
    /// `send(v).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = parkway_channels::bounded(0);
    /// let t = std::thread::spawn(move || rx.recv_blocking());
    /// tx.send_blocking("hi").unwrap();
    /// assert_eq!(t.join().unwrap(), Some("hi"));
    /// ```
    #[track_caller]
    pub fn send_blocking(&self, v: T) -> Result<(), SendError<T>> {
        check_blocking("send_blocking");
        let v = match self.chan.send_fast(v) {
            Ok(r) => return r,
            Err(v) => v,
        };
        self.send_blocking_slow(v)
    }

    /// The parking half of [`send_blocking`](Sender::send_blocking), kept
    /// out of line so the fast path stays small.
    #[cold]
    #[inline(never)]
    fn send_blocking_slow(&self, v: T) -> Result<(), SendError<T>> {
        // No optimistic retries here (receivers have some): a registered
        // sender is completed by the receiver, which moves its value into
        // the ring, while senders that yield-and-retry only steal the
        // receiver's CPU. Measured on the 2-core VM with 4 senders on
        // `bounded(1)`: ~2.5 µs per message with 8 retries, ~1 µs with none.
        let ctx = Context::for_thread();
        let waiter = Waiter {
            ctx: ctx.clone(),
            op: 0,
        };
        let out = match self.chan.send_slow(v, SendReg::Value(waiter)) {
            SendStart::Sent => Ok(()),
            SendStart::Closed(v) => Err(SendError(v)),
            SendStart::Parked => loop {
                ctx.wait_blocking();
                if ctx.selected().is_some() {
                    break Ok(());
                }
                ctx.take_poke();
                if self.chan.is_disconnected() {
                    break match self.chan.cancel_send(&ctx, 0) {
                        CancelSend::Value(v) => Err(SendError(v)),
                        CancelSend::Gone | CancelSend::Removed => Ok(()),
                    };
                }
            },
            SendStart::Full(_) | SendStart::TooManyPending(..) => {
                unreachable!("a parking send registers")
            }
        };
        Context::recycle(ctx);
        out
    }

    /// Sends `v` if that can be done at once (core.async `offer!`).
    ///
    /// On an unbuffered channel that means a receiver is ready to be handed
    /// the value now: a thread blocked in `recv_blocking`, a blocking
    /// select, or a pending `take` callback. (Parked async receivers are
    /// woken rather than handed values, so they do not count.)
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::TrySendError;
    /// let (tx, _rx) = parkway_channels::bounded(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        chan::try_send(&self.chan, v)
    }

    /// Puts `v` without waiting, and calls `f` with the outcome
    /// (core.async `put!`).
    ///
    /// If the send completes at once (room, a waiting receiver, or a closed
    /// channel), `f` runs on this thread before `put` returns; otherwise the
    /// value waits in the channel and `f` runs on the thread that later
    /// completes it, never under a lock. `f` gets `Err(SendError(v))` with
    /// the value if the channel is closed, or if every receiver goes away
    /// before the value is taken. A panic in `f` is caught and reported
    /// through go-check.
    ///
    /// # Errors
    ///
    /// At most [`MAX_PENDING`](crate::MAX_PENDING) puts may wait on one
    /// channel; past that, `PutError::TooManyPending(v)` hands the value
    /// back and `f` is dropped without being called.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = parkway_channels::bounded(1);
    /// tx.put(1, |r| assert!(r.is_ok())).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn put(
        &self,
        v: T,
        f: impl FnOnce(Result<(), SendError<T>>) + Send + 'static,
    ) -> Result<(), PutError<T>> {
        let v = match self.chan.send_fast(v) {
            Ok(r) => {
                chan::run_callback("put", move || f(r));
                return Ok(());
            }
            Err(v) => v,
        };
        match self.chan.send_slow(v, SendReg::Put(Box::new(f))) {
            SendStart::Sent | SendStart::Parked => Ok(()),
            SendStart::TooManyPending(v, callback) => {
                // Dropped here, outside the channel's lock.
                drop(callback);
                Err(PutError::TooManyPending(v))
            }
            SendStart::Closed(_) | SendStart::Full(_) => {
                unreachable!("put hands every outcome to its callback")
            }
        }
    }

    /// Closes the channel (core.async `close!`). Values already buffered,
    /// and those of senders already parked, are still delivered; then
    /// receivers get `None`. Sends begun after this fail. Idempotent.
    pub fn close(&self) {
        self.chan.close();
    }

    /// Whether the channel is closed, or every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Buffered values (not counting those held by parked senders).
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity: `Some(0)` for an unbuffered channel,
    /// `Some(1)` for a promise.
    pub fn capacity(&self) -> Option<usize> {
        Some(self.chan.capacity())
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &*self.chan).finish()
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    state: SendState<T>,
}

enum SendState<T> {
    /// Not tried yet; holds the value.
    Init(T),
    /// The value is parked in the channel.
    Parked(Arc<Context>),
    /// Completed.
    Done,
}

// The value is never pinned: the future only moves it in and out by value.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match std::mem::replace(&mut this.state, SendState::Done) {
            SendState::Init(v) => {
                if !budget::try_spend() {
                    this.state = SendState::Init(v);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                let v = match this.chan.send_fast(v) {
                    Ok(r) => return Poll::Ready(r),
                    Err(v) => v,
                };
                let ctx = Context::for_task(cx.waker());
                match this.chan.send_slow(
                    v,
                    SendReg::Value(Waiter {
                        ctx: ctx.clone(),
                        op: 0,
                    }),
                ) {
                    SendStart::Sent => {
                        Context::recycle(ctx);
                        Poll::Ready(Ok(()))
                    }
                    SendStart::Closed(v) => {
                        Context::recycle(ctx);
                        Poll::Ready(Err(SendError(v)))
                    }
                    SendStart::Parked => {
                        this.state = SendState::Parked(ctx);
                        Poll::Pending
                    }
                    SendStart::Full(_) | SendStart::TooManyPending(..) => {
                        unreachable!("a parking send registers")
                    }
                }
            }
            SendState::Parked(ctx) => {
                // Completed: no waker needed any more. Else store it, then
                // look again: a claim made after that look finds it.
                if ctx.selected().is_some() {
                    Context::recycle(ctx);
                    return Poll::Ready(Ok(()));
                }
                ctx.set_waker(cx.waker());
                if ctx.selected().is_some() {
                    Context::recycle(ctx);
                    return Poll::Ready(Ok(()));
                }
                ctx.take_poke();
                if this.chan.is_disconnected() {
                    let out = match this.chan.cancel_send(&ctx, 0) {
                        CancelSend::Value(v) => Err(SendError(v)),
                        CancelSend::Gone | CancelSend::Removed => Ok(()),
                    };
                    Context::recycle(ctx);
                    return Poll::Ready(out);
                }
                this.state = SendState::Parked(ctx);
                Poll::Pending
            }
            SendState::Done => panic!("`SendFuture` polled after completion"),
        }
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let SendState::Parked(ctx) = std::mem::replace(&mut self.state, SendState::Done) {
            if ctx.selected().is_none() {
                // Take the value back (it is dropped here, outside the
                // lock); if it is gone, a receiver took it: the send
                // completed.
                if let CancelSend::Value(v) = self.chan.cancel_send(&ctx, 0) {
                    drop(v);
                }
            }
            Context::recycle(ctx);
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            SendState::Init(_) => "init",
            SendState::Parked(_) => "parked",
            SendState::Done => "done",
        };
        f.debug_struct("SendFuture").field("state", &state).finish()
    }
}
