//! The state every handle of one transform channel shares, and the put
//! and close protocol.
//!
//! # How a put works
//!
//! The channel underneath is a plain one with the chosen buffer; only the
//! [`TransformSender`](super::TransformSender)s put into it. Their shared
//! state holds the transform under one mutex, the *transform lock*. A
//! put, holding that lock:
//!
//! 1. fails if the channel is closing (unless this sender was already
//!    waiting for room when it closed) or closed;
//! 2. asks the channel, under the channel's own lock, whether it has room
//!    ([`Chan::has_room`]), or registers to be woken when it may
//!    ([`Chan::select_register_send`], as a select's send branch does);
//!    with no room it returns, and the caller waits;
//! 3. runs the step, collecting its outputs;
//! 4. adds them all under one hold of the channel's lock
//!    ([`Chan::push_batch`]), past the capacity if need be; on a bounded
//!    buffer, room the outputs did not fill (a filtered value, a partial
//!    batch, a failed step) goes on to the next sender waiting for it;
//! 5. if the step said [`Step::Done`], or this was the last waiting sender
//!    of a closing channel, runs the flush and adds its outputs.
//!
//! Then, holding no lock, it runs the wakes the channel collected, closes
//! the channel if the flush ran, sends reports, and last drops the values
//! the buffer policy discarded ([`Afterwards`]): a `Drop` that panics
//! unwinds into the caller with the channel already closed.
//!
//! So a put holds the transform lock throughout and takes the channel's
//! lock twice (room check, push): transform channels have no lock-free
//! fast path, by design, since the step must run between the two. A
//! thread, or a go task, that finds the transform lock held blocks until
//! the put holding it is done, its step included: steps must be short.
//!
//! Why this is enough:
//!
//! * *Atomicity.* Steps and pushes happen under the transform lock, and
//!   only transform senders push: the outputs of two puts never
//!   interleave. The lock is held from the room check to the push, so
//!   nothing takes the room in between (receivers only make more).
//! * *Flush once, last.* `finished` is set, under the lock, by the one
//!   call that runs the flush; every later put sees it and fails. The
//!   flush runs in the same critical section as, or after, every accepted
//!   put's push, and the channel closes only after the flush's push.
//! * *No room left unused.* A sender waiting for room is woken by the
//!   receive that made it (the channel's refill, as for a select's send
//!   branch), one sender per slot. A woken sender that adds less than the
//!   room it was woken for passes the rest on in its push; one that gives
//!   up (a dropped future) passes its wake-up on.
//! * *Cancellation.* A put's outputs are in the channel before the put
//!   returns, so a send future dropped at any point loses nothing already
//!   produced: while it waits, its value is not transformed yet and is
//!   dropped with it. A dropped future that was woken for room passes the
//!   wake-up on, and one counted in `waiting` leaves the count, running
//!   the flush if it was the last. A future leaked while counted
//!   (`mem::forget`) never leaves it: the flush then waits for the last
//!   `TransformSender` to go, which runs it whatever `waiting` says (every
//!   future borrows a sender, so none can still be live).
//! * *`Ok` means delivered.* A put granted room before a
//!   [`Receiver::close`](crate::Receiver::close) still adds its outputs
//!   ([`WhenClosed::Deliver`]), queued behind the closed buffer, where
//!   receivers take them before `None`: it is treated as a sender already
//!   parked at close on a plain channel. A flush after a receiver-side
//!   close discards its outputs ([`WhenClosed::Discard`]); once every
//!   receiver is gone, everything is discarded, as a plain channel drops
//!   its buffered values then.
//! * *No user code under a channel lock*, and no waker, callback, report
//!   hook or `Drop` of a value under either lock. The transform and the
//!   error handler run under the transform lock only (documented: they
//!   must not block or use the channel).
//!
//! Nothing here is lock-free: every flag is read and written under the
//! transform lock (`Shared::closing` mirrors one for `is_closed`). The
//! waits reuse the channel's select registration for a send (the `Wake`
//! entries of its send queue, woken by its refill); `tests/loom_transform.rs`
//! models them against lock-free pops, `close` and `Receiver::close`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use parkway_go_check::{panic_message, report, Report};

use super::{Emit, Step, Transform, TransformError};
use crate::chan::{Chan, Deferred, SelectSend, WhenClosed};
use crate::sender::Sender;
use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::waiter::Waiter;

/// The error handler of a transform channel.
pub(super) type Handler<U> = Box<dyn FnMut(TransformError) -> Option<U> + Send>;

/// The transform of a channel, its type erased.
pub(super) type BoxedTransform<T, U> = Box<dyn Transform<T, Output = U> + Send>;

/// [`Chan::push_batch`], taken at construction where `U: 'static` is
/// known, so the handles (and their `Drop`) need no such bound.
type PushBatch<U> = fn(&Chan<U>, &mut Vec<U>, WhenClosed, &mut Vec<U>, &mut Deferred<U>);

/// What the transform lock guards.
struct State<T, U> {
    xform: BoxedTransform<T, U>,
    handler: Option<Handler<U>>,
    /// `close` was called, or a step returned `Done`: only senders counted
    /// in `waiting` may still put. Set once, never cleared.
    closing: bool,
    /// The flush ran: no step runs again. Set once, never cleared; implies
    /// `closing`.
    finished: bool,
    /// Senders that had to wait for room and have not finished yet. After
    /// `close` they may still put, and the flush waits for the last of
    /// them (or for the last `TransformSender` to go: a future leaked while
    /// counted never leaves the count).
    waiting: usize,
    /// The outputs of the call being run; empty between calls (kept for
    /// its allocation).
    outputs: Vec<U>,
}

impl<T, U> State<T, U> {
    /// Runs one call into the transform (a step, or the flush), catching a
    /// panic. A failure goes to the handler, whose value joins the outputs
    /// after those already emitted (core.async's `handle`); without a
    /// handler, or if the handler panics, a report comes back for the
    /// caller to send once no lock is held.
    fn call(
        &mut self,
        f: impl FnOnce(
            &mut (dyn Transform<T, Output = U> + Send),
            &mut Emit<'_, U>,
        ) -> Result<Step, TransformError>,
    ) -> (Step, Option<Report>) {
        let Self {
            xform,
            handler,
            outputs,
            ..
        } = self;
        let res = {
            let mut sink = |u: U| outputs.push(u);
            let mut emit = Emit::new(&mut sink);
            catch_unwind(AssertUnwindSafe(|| f(&mut **xform, &mut emit)))
        };
        let err = match res {
            Ok(Ok(step)) => return (step, None),
            Ok(Err(e)) => e,
            Err(payload) => TransformError::from_panic(panic_message(&*payload)),
        };
        let Some(handler) = handler else {
            return (Step::Continue, Some(unhandled(&err)));
        };
        match catch_unwind(AssertUnwindSafe(|| handler(err))) {
            Ok(Some(u)) => {
                outputs.push(u);
                (Step::Continue, None)
            }
            Ok(None) => (Step::Continue, None),
            Err(payload) => (
                Step::Continue,
                Some(Report::callback_panic(
                    "transform error handler",
                    panic_message(&*payload),
                )),
            ),
        }
    }
}

/// The report of a failure with no handler to take it (core.async's
/// default handler hands the exception to the thread's uncaught-exception
/// handler, which prints it). go-check has no report kind of its own for
/// this; `CallbackPanic` is the nearest: user code failed, was caught, and
/// the channel goes on.
fn unhandled(err: &TransformError) -> Report {
    let mut r = Report::callback_panic("transform", err.to_string());
    r.message = format!(
        "parkway: a channel transform failed: {err}; the value was dropped and the channel goes \
         on. fix: give the channel an error handler (`with_transform_and_handler`), or handle \
         the error inside the transform"
    );
    r
}

/// Work collected under the transform lock, done once it is released.
struct Afterwards<U> {
    wakes: Deferred<U>,
    discarded: Vec<U>,
    reports: Vec<Report>,
    close_chan: bool,
}

impl<U> Afterwards<U> {
    fn new() -> Self {
        Self {
            wakes: Deferred::new(),
            discarded: Vec::new(),
            reports: Vec::new(),
            close_chan: false,
        }
    }

    /// Runs the wakes, closes the channel if the flush ran, sends the
    /// reports, and drops the discarded values: all of it user code
    /// (wakers, the report hook, `Drop`s), so never under a lock. Wakers
    /// and the report hook cannot unwind out of here (their panics are
    /// caught); a panicking `Drop` can, so the drops come last, once the
    /// channel is consistent and closed.
    fn run(self, chan: &Chan<U>) {
        let Self {
            wakes,
            discarded,
            reports,
            close_chan,
        } = self;
        wakes.run(chan);
        if close_chan {
            chan.close();
        }
        for r in &reports {
            report(r);
        }
        drop(discarded);
    }
}

/// What became of one attempt to put.
pub(super) enum Attempt<T> {
    /// Accepted: the outputs are in the channel.
    Sent,
    /// Closing or closed: the value comes back untransformed.
    Closed(T),
    /// No room, and no waiter was given.
    Full(T),
    /// No room; the waiter is registered with the channel.
    Waiting(T),
}

/// The state every handle of one transform channel shares.
pub(super) struct Shared<T, U> {
    /// The one sender of the channel underneath.
    pub(super) inner: Sender<U>,
    state: Mutex<State<T, U>>,
    push: PushBatch<U>,
    /// `State::closing`, readable without the lock.
    closing: AtomicBool,
    /// Live `TransformSender`s; the last one to go closes the channel.
    pub(super) senders: AtomicUsize,
}

impl<T, U> Shared<T, U> {
    pub(super) fn new(
        inner: Sender<U>,
        xform: BoxedTransform<T, U>,
        handler: Option<Handler<U>>,
    ) -> Self
    where
        U: 'static,
    {
        Self {
            inner,
            state: Mutex::new(State {
                xform,
                handler,
                closing: false,
                finished: false,
                waiting: 0,
                outputs: Vec::new(),
            }),
            push: Chan::<U>::push_batch,
            closing: AtomicBool::new(false),
            senders: AtomicUsize::new(1),
        }
    }

    pub(super) fn chan(&self) -> &Chan<U> {
        &self.inner.chan
    }

    /// Whether `close` was called or the transform ended the channel.
    pub(super) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// One attempt to put `v`. With a `waiter`, a full channel registers it
    /// to be woken when there may be room. `counted` says whether this
    /// sender is counted in `State::waiting`, and is kept up to date: a
    /// sender that must wait is counted until its put ends.
    pub(super) fn attempt(&self, v: T, waiter: Option<Waiter>, counted: &mut bool) -> Attempt<T> {
        let chan = self.chan();
        let mut after = Afterwards::new();
        let out = {
            let mut guard = self.state.lock();
            let st = &mut *guard;
            if st.finished || (st.closing && !*counted) || chan.is_closed() {
                self.leave(st, counted, &mut after);
                Attempt::Closed(v)
            } else {
                let may_wait = waiter.is_some();
                let room = match waiter {
                    None => chan.has_room(),
                    Some(waiter) => match chan.select_register_send(waiter, &mut None) {
                        SelectSend::Ready => true,
                        SelectSend::Registered => false,
                        SelectSend::Parked => unreachable!("transform channels are buffered"),
                    },
                };
                if room {
                    let (step, rep) = st.call(|x, out| x.step(v, out));
                    after.reports.extend(rep);
                    // Granted room before any close: delivered even if the
                    // receiving side closes meanwhile.
                    (self.push)(
                        chan,
                        &mut st.outputs,
                        WhenClosed::Deliver,
                        &mut after.discarded,
                        &mut after.wakes,
                    );
                    if step == Step::Done {
                        self.finish(st, &mut after);
                    }
                    self.leave(st, counted, &mut after);
                    Attempt::Sent
                } else if may_wait {
                    if !*counted {
                        *counted = true;
                        st.waiting += 1;
                    }
                    Attempt::Waiting(v)
                } else {
                    Attempt::Full(v)
                }
            }
        };
        after.run(chan);
        out
    }

    /// A counted sender gives up (its future was dropped).
    pub(super) fn uncount(&self) {
        let mut after = Afterwards::new();
        {
            let mut guard = self.state.lock();
            self.leave(&mut guard, &mut true, &mut after);
        }
        after.run(self.chan());
    }

    /// Closes the channel (core.async `close!`): no new puts; the flush
    /// runs now, or after the last sender that was already waiting.
    pub(super) fn close(&self) {
        self.close_with(false);
    }

    /// The last `TransformSender` is gone: closes, and runs the flush now
    /// if it has not run. No put can be in progress or waiting any more
    /// (every put borrows a sender), so a non-zero `waiting` can only
    /// count futures leaked with `mem::forget`, which will never leave.
    pub(super) fn close_last(&self) {
        self.close_with(true);
    }

    fn close_with(&self, last_sender: bool) {
        let mut after = Afterwards::new();
        {
            let mut guard = self.state.lock();
            let st = &mut *guard;
            st.closing = true;
            self.closing.store(true, Ordering::Release);
            // A closing channel with `waiting == 0` has flushed already
            // (`leave` runs the flush when the count reaches zero).
            if !st.finished && (st.waiting == 0 || last_sender) {
                self.finish(st, &mut after);
            }
        }
        after.run(self.chan());
    }

    /// A sender's put is over: it leaves the waiting count if it was in
    /// it, and if it was the last one a closing channel waited for, the
    /// flush runs.
    fn leave(&self, st: &mut State<T, U>, counted: &mut bool, after: &mut Afterwards<U>) {
        if std::mem::take(counted) {
            st.waiting -= 1;
            if st.closing && !st.finished && st.waiting == 0 {
                self.finish(st, after);
            }
        }
    }

    /// Runs the flush (the completion step) and adds its outputs; the
    /// channel closes once the lock is released. Runs once.
    fn finish(&self, st: &mut State<T, U>, after: &mut Afterwards<U>) {
        debug_assert!(!st.finished, "the flush runs once");
        st.closing = true;
        st.finished = true;
        self.closing.store(true, Ordering::Release);
        let (_, rep) = st.call(|x, out| x.flush(out).map(|()| Step::Done));
        after.reports.extend(rep);
        // After a receiver-side close nobody asked for these.
        (self.push)(
            self.chan(),
            &mut st.outputs,
            WhenClosed::Discard,
            &mut after.discarded,
            &mut after.wakes,
        );
        after.close_chan = true;
    }
}
