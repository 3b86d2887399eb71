//! The receiving handle and its operations: parking `recv` (core.async
//! `<!`), blocking `recv_blocking` (`<!!`), non-waiting `try_recv`
//! (`poll!`), callback `take` (`take!`), and the `Stream` impl.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use parkway_go_check::{budget, check_blocking};

use crate::chan::{Chan, RecvReg, RecvStart};
use crate::error::{TakeError, TryRecvError};
use crate::sync::{Arc, Mutex};
use crate::waiter::{Context, Waiter};

/// The receiving side of a channel. Cloning it adds a receiver (each value
/// goes to one of them); when the last one is dropped, sends fail and hand
/// their values back.
pub struct Receiver<T> {
    pub(crate) chan: Arc<Chan<T>>,
    /// The registration of the `Stream` impl, between polls.
    stream: Option<Arc<Context>>,
}

impl<T> Receiver<T> {
    pub(crate) fn new(chan: Arc<Chan<T>>) -> Self {
        Self { chan, stream: None }
    }

    /// Receives a value, parking the task while there is none (core.async
    /// `<!`). `None` once the channel is closed and drained.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes takes nothing: the value
    /// stays in the channel for the next receiver. A future that was woken
    /// and is then dropped passes its wake-up on to another receiver.
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
    /// let (tx, rx) = parkway_channels::bounded(4);
    /// tx.try_send(1).unwrap();
    /// tx.close();
    /// block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: &self.chan,
            wait: None,
            done: false,
        }
    }

    /// Receives a value, blocking the thread while there is none
    /// (core.async `<!!`). Spins briefly before parking the thread.
    /// `None` once the channel is closed and drained.
    ///
    /// # Panics
    ///
    /// On a go worker with go-check in `Warn` or `Strict` mode. Use
    /// `recv().await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = parkway_channels::bounded(1);
    /// std::thread::spawn(move || tx.send_blocking(5).unwrap());
    /// assert_eq!(rx.recv_blocking(), Some(5));
    /// assert_eq!(rx.recv_blocking(), None); // the sender is gone
    /// ```
    #[track_caller]
    pub fn recv_blocking(&self) -> Option<T> {
        check_blocking("recv_blocking");
        if let Some(v) = self.chan.recv_fast() {
            return Some(v);
        }
        self.recv_blocking_slow()
    }

    /// The parking half of [`recv_blocking`](Receiver::recv_blocking), kept
    /// out of line so the fast path stays small.
    #[cold]
    #[inline(never)]
    fn recv_blocking_slow(&self) -> Option<T> {
        // A value is often a moment away: look again a few times before
        // registering (which makes every sender take the lock to wake us).
        if !self.chan.is_rendezvous() {
            for _ in 0..crate::waiter::RECV_RETRIES {
                crate::waiter::pause();
                if let Some(v) = self.chan.recv_fast() {
                    return Some(v);
                }
                if self.chan.is_closed() {
                    break;
                }
            }
        }
        let ctx = Context::for_thread();
        let out = self.recv_blocking_wait(&ctx);
        Context::recycle(ctx);
        out
    }

    fn recv_blocking_wait(&self, ctx: &Arc<Context>) -> Option<T> {
        // Only an unbuffered channel hands values over; the others wake.
        let slot = self
            .chan
            .is_rendezvous()
            .then(|| Arc::new(Mutex::new(None)));
        loop {
            let waiter = Waiter {
                ctx: ctx.clone(),
                op: 0,
            };
            let reg = match &slot {
                Some(slot) => RecvReg::Handoff(waiter, slot.clone()),
                None => RecvReg::Wake(waiter),
            };
            match self.chan.recv_slow(reg) {
                RecvStart::Value(v) => return Some(v),
                RecvStart::Closed => return None,
                RecvStart::Registered => {
                    ctx.wait_blocking();
                    if let Some(v) = slot.as_ref().and_then(|s| s.lock().take()) {
                        return Some(v);
                    }
                    // Woken (our registration is gone): look again.
                    ctx.reset();
                    if let Some(v) = self.chan.recv_fast() {
                        return Some(v);
                    }
                }
                RecvStart::Empty | RecvStart::TooManyPending(_) => {
                    unreachable!("a blocking receive registers")
                }
            }
        }
    }

    /// Takes a value if one is there now (core.async `poll!`).
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is none yet, [`TryRecvError::Closed`]
    /// if the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::TryRecvError;
    /// let (tx, rx) = parkway_channels::bounded::<i32>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(v) = self.chan.recv_fast() {
            return Ok(v);
        }
        if self.chan.surely_empty() {
            return Err(TryRecvError::Empty);
        }
        match self.chan.recv_slow(RecvReg::None) {
            RecvStart::Value(v) => Ok(v),
            RecvStart::Empty => Err(TryRecvError::Empty),
            RecvStart::Closed => Err(TryRecvError::Closed),
            RecvStart::Registered | RecvStart::TooManyPending(_) => {
                unreachable!("try_recv never registers")
            }
        }
    }

    /// Takes a value without waiting, and calls `f` with it (core.async
    /// `take!`): `Some(v)`, or `None` once the channel is closed and
    /// drained.
    ///
    /// If a value (or the end) is there now, `f` runs on this thread before
    /// `take` returns; otherwise `f` runs on the thread that later sends the
    /// value or closes the channel, never under a lock. A panic in `f` is
    /// caught and reported through go-check.
    ///
    /// # Errors
    ///
    /// At most [`MAX_PENDING`](crate::MAX_PENDING) takes may wait on one
    /// channel; past that, `TakeError::TooManyPending` and `f` is dropped
    /// without being called.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let (tx, rx) = parkway_channels::unbuffered();
    /// let (done_tx, done_rx) = mpsc::channel();
    /// rx.take(move |v| done_tx.send(v).unwrap()).unwrap();
    /// tx.try_send(3).unwrap(); // the pending take is ready for it
    /// assert_eq!(done_rx.recv().unwrap(), Some(3));
    /// ```
    pub fn take(&self, f: impl FnOnce(Option<T>) + Send + 'static) -> Result<(), TakeError> {
        if let Some(v) = self.chan.recv_fast() {
            crate::chan::run_callback("take", move || f(Some(v)));
            return Ok(());
        }
        match self.chan.recv_slow(RecvReg::Take(Box::new(f))) {
            RecvStart::Registered => Ok(()),
            RecvStart::TooManyPending(callback) => {
                // Dropped here, outside the channel's lock.
                drop(callback);
                Err(TakeError::TooManyPending)
            }
            RecvStart::Value(_) | RecvStart::Closed | RecvStart::Empty => {
                unreachable!("take hands every outcome to its callback")
            }
        }
    }

    /// Closes the channel, as [`Sender::close`](crate::Sender::close).
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

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.add_receiver();
        Self::new(self.chan.clone())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        cancel_wait(&self.chan, &mut self.stream);
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &*self.chan)
            .finish()
    }
}

/// One poll of a parking receive, shared by [`RecvFuture`] and the
/// `Stream` impl. `wait` holds the registration between polls.
pub(crate) fn poll_recv<T>(
    chan: &Chan<T>,
    wait: &mut Option<Arc<Context>>,
    cx: &mut TaskContext<'_>,
) -> Poll<Option<T>> {
    if !budget::try_spend() {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    if wait.is_none() {
        if let Some(v) = chan.recv_fast() {
            return Poll::Ready(Some(v));
        }
    }
    poll_recv_slow(chan, wait, cx)
}

/// The registering half of [`poll_recv`], out of line.
#[cold]
#[inline(never)]
fn poll_recv_slow<T>(
    chan: &Chan<T>,
    wait: &mut Option<Arc<Context>>,
    cx: &mut TaskContext<'_>,
) -> Poll<Option<T>> {
    let ctx = match wait.take() {
        // `poll_recv` just found the buffer empty; the locked path looks
        // again after registering.
        None => Context::for_task(cx.waker()),
        Some(ctx) => {
            if ctx.selected().is_none() {
                // Store the waker, then look: a claim made after this
                // look finds the new waker.
                ctx.set_waker(cx.waker());
                if ctx.selected().is_none() {
                    // Still registered, not woken.
                    *wait = Some(ctx);
                    return Poll::Pending;
                }
            }
            // Woken: the registration is gone (and the waker was taken,
            // see `Context::unpark`). Look again.
            ctx.reset();
            if let Some(v) = chan.recv_fast() {
                Context::recycle(ctx);
                return Poll::Ready(Some(v));
            }
            ctx.set_waker(cx.waker());
            ctx
        }
    };
    match chan.recv_slow(RecvReg::Wake(Waiter {
        ctx: ctx.clone(),
        op: 0,
    })) {
        RecvStart::Value(v) => {
            Context::recycle(ctx);
            Poll::Ready(Some(v))
        }
        RecvStart::Closed => {
            Context::recycle(ctx);
            Poll::Ready(None)
        }
        RecvStart::Registered => {
            *wait = Some(ctx);
            Poll::Pending
        }
        RecvStart::Empty | RecvStart::TooManyPending(_) => {
            unreachable!("a parking receive registers")
        }
    }
}

/// Drops a parking receive's registration; a wake-up it received and will
/// not use goes to another receiver.
pub(crate) fn cancel_wait<T>(chan: &Chan<T>, wait: &mut Option<Arc<Context>>) {
    if let Some(ctx) = wait.take() {
        if ctx.selected().is_some() || !chan.cancel_recv(&ctx, 0) {
            chan.pass_on_recv();
        }
        Context::recycle(ctx);
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    wait: Option<Arc<Context>>,
    done: bool,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        assert!(!this.done, "`RecvFuture` polled after completion");
        let out = poll_recv(this.chan, &mut this.wait, cx);
        this.done = out.is_ready();
        out
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        cancel_wait(self.chan, &mut self.wait);
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("parked", &self.wait.is_some())
            .field("done", &self.done)
            .finish()
    }
}

/// Yields the channel's values until it is closed and drained. A promise
/// channel's stream yields its value forever (every receive of a
/// delivered promise succeeds), so bound it with something like
/// `take(n)`.
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        poll_recv(&this.chan, &mut this.stream, cx)
    }
}
