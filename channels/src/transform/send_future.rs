//! The future of [`TransformSender::send`](super::TransformSender::send):
//! a put that parks the task while the buffer has no room.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use parkway_go_check::budget;

use super::shared::{Attempt, Shared};
use crate::chan::CancelSend;
use crate::error::SendError;
use crate::sync::Arc;
use crate::waiter::{Context, Waiter};

/// The future of [`TransformSender::send`](super::TransformSender::send).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TransformSendFuture<'a, T, U> {
    shared: &'a Shared<T, U>,
    /// The value, until the put is accepted or refused.
    value: Option<T>,
    /// Registered with the channel to be woken when there may be room.
    ctx: Option<Arc<Context>>,
    /// Counted among the senders a closing channel waits for.
    counted: bool,
}

impl<'a, T, U> TransformSendFuture<'a, T, U> {
    pub(super) fn new(shared: &'a Shared<T, U>, value: T) -> Self {
        Self {
            shared,
            value: Some(value),
            ctx: None,
            counted: false,
        }
    }
}

// The value is never pinned: the future only moves it in and out by value.
impl<T, U> Unpin for TransformSendFuture<'_, T, U> {}

impl<T, U> Future for TransformSendFuture<'_, T, U> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(ctx) = &this.ctx {
            // Registered: wait for the claim. Store the waker, then look
            // again: a claim made after that look finds it.
            if ctx.selected().is_none() {
                ctx.set_waker(cx.waker());
                if ctx.selected().is_none() {
                    return Poll::Pending;
                }
            }
        }
        if !budget::try_spend() {
            // A claimed registration stays in `ctx`: dropped now, the
            // future passes the wake-up on.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let Some(ctx) = this.ctx.take() {
            Context::recycle(ctx);
        }
        let v = this
            .value
            .take()
            .expect("`TransformSendFuture` polled after completion");
        let ctx = Context::for_task(cx.waker());
        let waiter = Waiter {
            ctx: ctx.clone(),
            op: 0,
        };
        match this.shared.attempt(v, Some(waiter), &mut this.counted) {
            Attempt::Sent => {
                Context::recycle(ctx);
                Poll::Ready(Ok(()))
            }
            Attempt::Closed(v) => {
                Context::recycle(ctx);
                Poll::Ready(Err(SendError(v)))
            }
            Attempt::Waiting(v) => {
                this.value = Some(v);
                this.ctx = Some(ctx);
                Poll::Pending
            }
            Attempt::Full(_) => unreachable!("a waiting put registers"),
        }
    }
}

impl<T, U> Drop for TransformSendFuture<'_, T, U> {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            let chan = self.shared.chan();
            // Woken for room it will not use: pass the wake-up on, so
            // another waiting sender gets the room.
            let woken =
                ctx.selected().is_some() || matches!(chan.cancel_send(&ctx, 0), CancelSend::Gone);
            if woken {
                chan.pass_on_send();
            }
            Context::recycle(ctx);
        }
        if self.counted {
            self.shared.uncount();
        }
    }
}

impl<T, U> fmt::Debug for TransformSendFuture<'_, T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (&self.value, &self.ctx) {
            (None, _) => "done",
            (Some(_), None) => "init",
            (Some(_), Some(_)) => "waiting",
        };
        f.debug_struct("TransformSendFuture")
            .field("state", &state)
            .finish()
    }
}
