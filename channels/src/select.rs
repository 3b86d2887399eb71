//! `Select`: wait on any of several channel operations, commit exactly one
//! (core.async `alts!` / `alts!!`).
//!
//! A select runs in rounds. First it tries every operation without waiting
//! (in a random order, or in insertion order with
//! [`priority`](Select::priority)); the first that can complete commits.
//! Otherwise it registers with every channel, under one shared
//! [`Context`](crate::waiter::Context), and waits. A channel that completes
//! or wakes a registration first claims the context with one CAS; every
//! other registration of that round is then dead and is removed by the
//! select itself. Values of send operations stay in their caller-owned
//! slots unless sent: on an unbuffered channel a waiting send parks its
//! value in the channel and takes it back when the round ends without it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use parkway_go_check::{budget, check_blocking};

use crate::chan::{self, CancelSend, HandoffSlot, RecvReg, RecvStart};
use crate::error::{SendError, TrySendError};
use crate::receiver::Receiver;
use crate::sender::Sender;
use crate::sync::{Arc, Mutex};
use crate::waiter::{Context, Waiter};

/// One operation of a select, with its handler.
trait Op<R> {
    /// Completes the operation now if it can (a closed channel can).
    fn try_now(&mut self) -> Option<R>;
    /// Registers with the channel, unless the operation looks ready, in
    /// which case nothing is registered and `true` is returned.
    fn register(&mut self, waiter: Waiter, blocking: bool) -> bool;
    /// Removes the registration (a parked value returns to its slot).
    fn unregister(&mut self, ctx: &Arc<Context>, op: usize);
    /// Completes the operation after the context was claimed for it.
    fn on_claimed(&mut self) -> Option<R>;
    /// Hands an unused wake-up to another waiter of the channel.
    fn pass_on(&self);
}

struct RecvOp<'a, T, F> {
    rx: &'a Receiver<T>,
    f: Option<F>,
    slot: Option<HandoffSlot<T>>,
}

impl<T, R, F: FnOnce(Option<T>) -> R> RecvOp<'_, T, F> {
    fn finish(&mut self, v: Option<T>) -> R {
        (self.f.take().expect("a select operation completes once"))(v)
    }
}

impl<T, R, F: FnOnce(Option<T>) -> R> Op<R> for RecvOp<'_, T, F> {
    fn try_now(&mut self) -> Option<R> {
        let chan = &self.rx.chan;
        if let Some(v) = chan.recv_fast() {
            return Some(self.finish(Some(v)));
        }
        if chan.surely_empty() {
            return None;
        }
        match chan.recv_slow(RecvReg::None) {
            RecvStart::Value(v) => Some(self.finish(Some(v))),
            RecvStart::Closed => Some(self.finish(None)),
            RecvStart::Empty => None,
            RecvStart::Registered | RecvStart::TooManyPending(_) => {
                unreachable!("try never registers")
            }
        }
    }

    fn register(&mut self, waiter: Waiter, blocking: bool) -> bool {
        let chan = &self.rx.chan;
        let slot = if blocking && chan.is_rendezvous() {
            Some(
                self.slot
                    .get_or_insert_with(|| Arc::new(Mutex::new(None)))
                    .clone(),
            )
        } else {
            None
        };
        chan.select_register_recv(waiter, slot)
    }

    fn unregister(&mut self, ctx: &Arc<Context>, op: usize) {
        self.rx.chan.cancel_recv(ctx, op);
    }

    fn on_claimed(&mut self) -> Option<R> {
        let handed = self.slot.as_ref().and_then(|s| s.lock().take());
        match handed {
            Some(v) => Some(self.finish(Some(v))),
            None => self.try_now(),
        }
    }

    fn pass_on(&self) {
        self.rx.chan.pass_on_recv();
    }
}

struct SendOp<'a, T, F> {
    tx: &'a Sender<T>,
    slot: &'a mut Option<T>,
    f: Option<F>,
    /// The value waits in an unbuffered channel's queue.
    parked: bool,
}

impl<T, R, F: FnOnce(Result<(), SendError<T>>) -> R> SendOp<'_, T, F> {
    fn finish(&mut self, r: Result<(), SendError<T>>) -> R {
        (self.f.take().expect("a select operation completes once"))(r)
    }
}

impl<T, R, F: FnOnce(Result<(), SendError<T>>) -> R> Op<R> for SendOp<'_, T, F> {
    fn try_now(&mut self) -> Option<R> {
        let v = self
            .slot
            .take()
            .expect("parkway: a `Select::send` slot was empty (it must hold the value to send)");
        match chan::try_send(&self.tx.chan, v) {
            Ok(()) => Some(self.finish(Ok(()))),
            Err(TrySendError::Closed(v)) => Some(self.finish(Err(SendError(v)))),
            Err(TrySendError::Full(v)) => {
                *self.slot = Some(v);
                None
            }
        }
    }

    fn register(&mut self, waiter: Waiter, _blocking: bool) -> bool {
        match self.tx.chan.select_register_send(waiter, self.slot) {
            chan::SelectSend::Ready => true,
            chan::SelectSend::Parked => {
                self.parked = true;
                false
            }
            chan::SelectSend::Registered => false,
        }
    }

    fn unregister(&mut self, ctx: &Arc<Context>, op: usize) {
        if let CancelSend::Value(v) = self.tx.chan.cancel_send(ctx, op) {
            *self.slot = Some(v);
        }
        self.parked = false;
    }

    fn on_claimed(&mut self) -> Option<R> {
        if self.parked {
            // A receiver took the parked value.
            self.parked = false;
            Some(self.finish(Ok(())))
        } else {
            // Woken for room (or close): try again.
            self.try_now()
        }
    }

    fn pass_on(&self) {
        if !self.parked {
            self.tx.chan.pass_on_send();
        }
    }
}

/// Waits on several channel operations at once and commits exactly one:
/// core.async's `alts!` (with [`select`](Select::select)) and `alts!!`
/// (with [`select_blocking`](Select::select_blocking)), for a number of
/// operations known at run time. The [`alt!`](crate::alt!) macros are the
/// fixed-shape form.
///
/// Each operation has a handler that turns its outcome into the common
/// result `R`; only the committed operation's handler runs. A closed
/// channel is ready: its receive yields `None`, its send
/// `Err(SendError(v))`. With several operations ready, one is picked
/// uniformly at random, unless [`priority`](Select::priority) is set.
///
/// # Examples
///
/// ```
/// use parkway_channels::{bounded, Select};
///
/// let (tx_a, rx_a) = bounded::<u32>(1);
/// let (tx_b, rx_b) = bounded::<&str>(1);
/// tx_b.try_send("b").unwrap();
/// let mut spare = Some(5);
/// let mut sel = Select::new();
/// sel.recv(&rx_a, |v| format!("a: {v:?}"))
///     .recv(&rx_b, |v| format!("b: {v:?}"));
/// let out = sel.select_blocking();
/// assert_eq!(out, "b: Some(\"b\")");
///
/// // A send operation takes its value from a slot the caller owns, and
/// // leaves it there unless it commits.
/// let mut sel = Select::new();
/// sel.priority()
///     .recv(&rx_a, |_| "received")
///     .send(&tx_a, &mut spare, |_| "sent");
/// assert_eq!(sel.select_blocking(), "sent");
/// assert_eq!(spare, None);
/// # drop(tx_b);
/// ```
pub struct Select<'a, R> {
    ops: Vec<Box<dyn Op<R> + Send + 'a>>,
    default: Option<Box<dyn FnOnce() -> R + Send + 'a>>,
    priority: bool,
}

impl<R> fmt::Debug for Select<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("ops", &self.ops.len())
            .field("default", &self.default.is_some())
            .field("priority", &self.priority)
            .finish()
    }
}

impl<R> Default for Select<'_, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, R> Select<'a, R> {
    /// An empty select.
    pub fn new() -> Self {
        Self {
            ops: Vec::new(),
            default: None,
            priority: false,
        }
    }

    /// Among ready operations, pick the first added instead of a random
    /// one (core.async's `:priority true`).
    pub fn priority(&mut self) -> &mut Self {
        self.priority = true;
        self
    }

    /// Adds a receive; `f` gets `Some(value)`, or `None` if the channel is
    /// closed and drained.
    pub fn recv<T: Send>(
        &mut self,
        rx: &'a Receiver<T>,
        f: impl FnOnce(Option<T>) -> R + Send + 'a,
    ) -> &mut Self {
        self.ops.push(Box::new(RecvOp {
            rx,
            f: Some(f),
            slot: None,
        }));
        self
    }

    /// Adds a send of the value in `slot`, which must be `Some`. The value
    /// is taken from the slot only if this operation commits (it then goes
    /// into the channel, or, if the channel is closed, to `f` inside
    /// `Err(SendError(v))`); otherwise it stays in the slot, handed back.
    pub fn send<T: Send>(
        &mut self,
        tx: &'a Sender<T>,
        slot: &'a mut Option<T>,
        f: impl FnOnce(Result<(), SendError<T>>) -> R + Send + 'a,
    ) -> &mut Self {
        self.ops.push(Box::new(SendOp {
            tx,
            slot,
            f: Some(f),
            parked: false,
        }));
        self
    }

    /// Sets what to return when no operation is ready at once: the select
    /// then never waits (core.async's `:default`).
    pub fn default(&mut self, f: impl FnOnce() -> R + Send + 'a) -> &mut Self {
        self.default = Some(Box::new(f));
        self
    }

    /// Completes an operation if one is ready now, or the default.
    ///
    /// # Errors
    ///
    /// Gives the select back if nothing was ready and there is no default.
    pub fn try_select(mut self) -> Result<R, Self> {
        let order = self.order();
        if let Some(r) = self.try_all(order.as_slice()) {
            return Ok(r);
        }
        match self.default.take() {
            Some(d) => Ok(d()),
            None => Err(self),
        }
    }

    /// Waits, parking the task, until one operation commits (core.async
    /// `alts!`).
    ///
    /// # Panics
    ///
    /// When polled with no operation and no default: it would wait forever.
    pub fn select(self) -> SelectFuture<'a, R> {
        SelectFuture {
            sel: self,
            ctx: None,
        }
    }

    /// Waits, blocking the thread, until one operation commits (core.async
    /// `alts!!`).
    ///
    /// # Panics
    ///
    /// With no operation and no default (it would wait forever), and on a
    /// go worker with go-check in `Warn` or `Strict` mode.
    #[track_caller]
    pub fn select_blocking(mut self) -> R {
        check_blocking("alt_blocking!");
        self.assert_can_finish();
        let ctx = Context::for_thread();
        let out = loop {
            match self.round(&ctx, true) {
                Round::Done(r) => break r,
                Round::Again => continue,
                Round::Waiting => loop {
                    ctx.wait_blocking();
                    if let Some(r) = self.after_wake(&ctx) {
                        match r {
                            Round::Done(r) => return finish(ctx, r),
                            Round::Again => break,
                            Round::Waiting => continue,
                        }
                    }
                },
            }
        };
        finish(ctx, out)
    }

    fn assert_can_finish(&self) {
        assert!(
            !self.ops.is_empty() || self.default.is_some(),
            "parkway: a select with no operations and no default would wait forever"
        );
    }

    /// The order in which to try the operations: insertion order with
    /// `priority`, else a uniformly random permutation. Up to 32 operations
    /// need no allocation.
    fn order(&self) -> Order {
        let n = self.ops.len();
        let mut order = if n <= INLINE_OPS {
            Order::Inline([0; INLINE_OPS], n as u8)
        } else {
            Order::Heap(vec![0; n])
        };
        let slice = order.as_mut_slice();
        for (i, slot) in slice.iter_mut().enumerate() {
            *slot = i as u32;
        }
        if !self.priority {
            for i in (1..slice.len()).rev() {
                let j = random_below(i + 1);
                slice.swap(i, j);
            }
        }
        order
    }

    fn try_all(&mut self, order: &[u32]) -> Option<R> {
        order.iter().find_map(|&i| self.ops[i as usize].try_now())
    }

    /// One round: try everything, else register everything and report
    /// whether the context was claimed meanwhile.
    fn round(&mut self, ctx: &Arc<Context>, blocking: bool) -> Round<R> {
        let order = self.order();
        let order = order.as_slice();
        if let Some(r) = self.try_all(order) {
            return Round::Done(r);
        }
        if let Some(d) = self.default.take() {
            return Round::Done(d());
        }
        ctx.reset();
        for (k, &i) in order.iter().enumerate() {
            let i = i as usize;
            if self.ops[i].register(
                Waiter {
                    ctx: ctx.clone(),
                    op: i,
                },
                blocking,
            ) {
                // Ready now: claim it ourselves, then complete it.
                if ctx.try_claim(i) {
                    self.unregister(ctx, &order[..k], None);
                    return match self.ops[i].try_now() {
                        Some(r) => Round::Done(r),
                        None => Round::Again,
                    };
                }
                break; // claimed through another channel meanwhile
            }
        }
        match ctx.selected() {
            None => Round::Waiting,
            Some(j) => self.finish_claimed(ctx, j),
        }
    }

    /// After a wake-up: `None` if it was spurious (still waiting).
    fn after_wake(&mut self, ctx: &Arc<Context>) -> Option<Round<R>> {
        if let Some(j) = ctx.selected() {
            return Some(self.finish_claimed(ctx, j));
        }
        if ctx.take_poke() {
            // A channel lost its receivers: end the round ourselves and
            // look again.
            let abort = self.ops.len();
            if ctx.try_claim(abort) {
                self.unregister_all(ctx, None);
                return Some(Round::Again);
            }
            let j = ctx.selected().expect("claimed");
            return Some(self.finish_claimed(ctx, j));
        }
        None
    }

    /// The context was claimed for operation `j` by a channel: clean up the
    /// rest and complete `j`, or start a new round if it can no longer
    /// complete (its value went to someone else).
    fn finish_claimed(&mut self, ctx: &Arc<Context>, j: usize) -> Round<R> {
        self.unregister_all(ctx, Some(j));
        match self.ops[j].on_claimed() {
            Some(r) => Round::Done(r),
            None => Round::Again,
        }
    }

    fn unregister(&mut self, ctx: &Arc<Context>, ops: &[u32], except: Option<usize>) {
        for &i in ops {
            let i = i as usize;
            if Some(i) != except {
                self.ops[i].unregister(ctx, i);
            }
        }
    }

    /// Removes every registration of the round, but `except`'s.
    fn unregister_all(&mut self, ctx: &Arc<Context>, except: Option<usize>) {
        for i in 0..self.ops.len() {
            if Some(i) != except {
                self.ops[i].unregister(ctx, i);
            }
        }
    }
}

/// Rounds one poll of an async select may run before it yields.
const ROUNDS_PER_POLL: usize = 16;

/// Operations whose try order needs no allocation.
const INLINE_OPS: usize = 32;

/// A try order: a permutation of the operation indices.
enum Order {
    Inline([u32; INLINE_OPS], u8),
    Heap(Vec<u32>),
}

impl Order {
    fn as_slice(&self) -> &[u32] {
        match self {
            Self::Inline(a, n) => &a[..usize::from(*n)],
            Self::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u32] {
        match self {
            Self::Inline(a, n) => &mut a[..usize::from(*n)],
            Self::Heap(v) => v,
        }
    }
}

/// Ends a blocking select: the context goes back to the thread's cache.
fn finish<R>(ctx: Arc<Context>, r: R) -> R {
    Context::recycle(ctx);
    r
}

enum Round<R> {
    Done(R),
    Again,
    Waiting,
}

/// The future of [`Select::select`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SelectFuture<'a, R> {
    sel: Select<'a, R>,
    /// The registration of the current round, while waiting.
    ctx: Option<Arc<Context>>,
}

impl<R> fmt::Debug for SelectFuture<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectFuture")
            .field("sel", &self.sel)
            .field("waiting", &self.ctx.is_some())
            .finish()
    }
}

// Nothing is pinned: operations live in boxes and are only borrowed.
impl<R> Unpin for SelectFuture<'_, R> {}

impl<R> Future for SelectFuture<'_, R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<R> {
        let this = &mut *self;
        this.sel.assert_can_finish();
        if !budget::try_spend() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let Some(ctx) = this.ctx.take() {
            ctx.set_waker(cx.waker());
            match this.sel.after_wake(&ctx) {
                None => {
                    this.ctx = Some(ctx);
                    return Poll::Pending;
                }
                Some(Round::Done(r)) => return Poll::Ready(r),
                Some(Round::Again | Round::Waiting) => {}
            }
        }
        let ctx = Context::for_task(cx.waker());
        for _ in 0..ROUNDS_PER_POLL {
            match this.sel.round(&ctx, false) {
                Round::Done(r) => {
                    Context::recycle(ctx);
                    return Poll::Ready(r);
                }
                Round::Again => continue,
                Round::Waiting => {
                    this.ctx = Some(ctx);
                    return Poll::Pending;
                }
            }
        }
        // Rounds keep ending without a commit (values taken by others just
        // before we could): give the worker back and try again soon.
        Context::recycle(ctx);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<R> Drop for SelectFuture<'_, R> {
    fn drop(&mut self) {
        let Some(ctx) = self.ctx.take() else { return };
        let abort = self.sel.ops.len();
        if ctx.try_claim(abort) {
            self.sel.unregister_all(&ctx, None);
            return;
        }
        // Claimed for an operation we will never complete.
        let j = ctx.selected().expect("claimed");
        self.sel.unregister_all(&ctx, Some(j));
        if j < self.sel.ops.len() {
            self.sel.ops[j].pass_on();
        }
    }
}

/// Under loom every run of a model must make the same choices: a fixed
/// "random" order.
#[cfg(loom)]
fn random_below(_n: usize) -> usize {
    0
}

/// A small xorshift generator per thread, seeded from the thread's
/// identity and a stack address, for the uniform choice among ready
/// operations.
#[cfg(not(loom))]
fn random_below(n: usize) -> usize {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    let next = STATE
        .try_with(|s| {
            let mut x = s.get();
            if x == 0 {
                let local = 0u8;
                let seed = std::ptr::addr_of!(local) as u64;
                let t = {
                    use std::hash::{BuildHasher, RandomState};
                    RandomState::new().hash_one(std::thread::current().id())
                };
                x = (seed ^ t) | 1;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            x
        })
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    ((u128::from(next) * n as u128) >> 64) as usize
}
