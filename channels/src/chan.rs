//! The channel core shared by every handle: the buffer (lock-free fast
//! path), the queues of parked parties (slow path, under a short lock), and
//! the close/disconnect protocol.
//!
//! # Fast path and the wake-up handshake
//!
//! A send into a ring with room, or a receive from a ring holding values,
//! touches only the ring's atomics and one flag load: `recv_waiting` after a
//! push, `send_waiting` after a pop. A party that must wait stores the flag
//! (SeqCst) under the lock, then looks at the ring again before it parks.
//! The ring's head/tail updates and the flag accesses are SeqCst, so of a
//! pusher and a registering receiver at least one sees the other: the
//! pusher sees the flag and wakes someone, or the receiver's second look
//! finds the value. Loom models SeqCst accesses as AcqRel only, so
//! [`crate::sync::loom_sc_fence`] adds the fence the model needs there.
//!
//! # What lives in the queues
//!
//! * `sendq`: senders that could not complete. A plain `send`,
//!   `send_blocking` and a select's send on an unbuffered channel park
//!   *with their value* ([`SendEntry::Value`]); the value is part of the
//!   channel's contents from then on (it is delivered after close, as
//!   core.async does) and a receiver completes the sender by claiming its
//!   context and taking the value. `put` callbacks ([`SendEntry::Put`]) the
//!   same. A select's send on a buffered channel only asks to be woken when
//!   there is room ([`SendEntry::Wake`]).
//! * `recvq`: receivers. Futures, blocked threads on buffered channels and
//!   async selects are woken, never handed values ([`RecvEntry::Wake`]), so a
//!   dropped `recv` future takes nothing. On an unbuffered channel, blocked
//!   threads and blocking selects are handed the value by the sender
//!   ([`RecvEntry::Handoff`]); `take` callbacks always are
//!   ([`RecvEntry::Take`]).
//!
//! The contents of a channel, in order, are: the ring's values, then the
//! values of `sendq`. After `close`, the ring takes no more values, and
//! receivers drain the ring and then `sendq`.
//!
//! Wakers and callbacks run after the lock is released
//! ([`Deferred`]).

use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_utils::CachePadded;

use crate::buffer::promise::{PromiseCell, SetError};
use crate::buffer::ring::PushError;
use crate::buffer::Buffer;
use crate::error::{SendError, TrySendError};
use crate::sync::{loom_sc_fence, Arc, AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::waiter::{Context, Waiter};
use crate::MAX_PENDING;

/// A `put!` callback.
pub(crate) type PutCallback<T> = Box<dyn FnOnce(Result<(), SendError<T>>) + Send>;
/// A `put!` callback with the outcome it is to be called with.
pub(crate) type PutOutcome<T> = (PutCallback<T>, Result<(), SendError<T>>);
/// A `take!` callback.
pub(crate) type TakeCallback<T> = Box<dyn FnOnce(Option<T>) + Send>;
/// The value slot of a hand-off registration.
pub(crate) type HandoffSlot<T> = Arc<Mutex<Option<T>>>;

/// A parked sender.
pub(crate) enum SendEntry<T> {
    /// Waits with its value; completed by a receiver that claims it.
    Value { waiter: Waiter, value: T },
    /// A `put` callback with its value.
    Put { value: T, callback: PutCallback<T> },
    /// A select's send on a buffered channel: woken when there may be room.
    Wake(Waiter),
}

/// A parked receiver.
pub(crate) enum RecvEntry<T> {
    /// Woken when a value may be there; takes it itself.
    Wake(Waiter),
    /// Unbuffered channels: a blocked thread or blocking select, handed the
    /// value by the sender that claims it.
    Handoff {
        waiter: Waiter,
        slot: HandoffSlot<T>,
    },
    /// A `take` callback, handed the value.
    Take(TakeCallback<T>),
}

/// `VecDeque::remove`, with the common case, the front entry, as a plain
/// `pop_front` (`remove` shifts through a general copy even for index 0).
#[inline]
fn remove_at<E>(q: &mut VecDeque<E>, i: usize) -> Option<E> {
    if i == 0 {
        q.pop_front()
    } else {
        q.remove(i)
    }
}

/// The parked parties of one channel.
pub(crate) struct Waiters<T> {
    sendq: VecDeque<SendEntry<T>>,
    recvq: VecDeque<RecvEntry<T>>,
    /// `Put` entries in `sendq`.
    puts: usize,
    /// `Take` entries in `recvq`.
    takes: usize,
}

impl<T> Waiters<T> {
    /// Parked senders holding a value (plain sends and puts, not selects
    /// waiting for room): values that are part of the channel's contents.
    fn parked_values(&self) -> usize {
        self.sendq
            .iter()
            .filter(|e| !matches!(e, SendEntry::Wake(_)))
            .count()
    }

    /// Whether any sender is parked with a value.
    fn has_parked_values(&self) -> bool {
        self.sendq.iter().any(|e| !matches!(e, SendEntry::Wake(_)))
    }
}

/// How a sender that cannot complete at once waits.
pub(crate) enum SendReg<T> {
    /// It does not: `try_send`.
    None,
    /// Parks with its value.
    Value(Waiter),
    /// A `put` callback.
    Put(PutCallback<T>),
}

/// What became of a send.
pub(crate) enum SendStart<T> {
    /// Sent (or discarded by the buffer's policy).
    Sent,
    /// No room and no registration asked for; the value comes back.
    Full(T),
    /// Closed or disconnected; the value comes back.
    Closed(T),
    /// The value is parked in the channel (or with the `put` callback).
    Parked,
    /// `put` refused: too many pending puts.
    TooManyPending(T, PutCallback<T>),
}

/// How a receiver that cannot complete at once waits.
pub(crate) enum RecvReg<T> {
    /// It does not: `try_recv`.
    None,
    /// Woken when a value may be there.
    Wake(Waiter),
    /// Handed the value on unbuffered channels, woken on the others.
    Handoff(Waiter, HandoffSlot<T>),
    /// A `take` callback.
    Take(TakeCallback<T>),
}

/// What became of a receive.
pub(crate) enum RecvStart<T> {
    /// A value.
    Value(T),
    /// Nothing now; open.
    Empty,
    /// Closed and drained.
    Closed,
    /// Registered.
    Registered,
    /// `take` refused: too many pending takes.
    TooManyPending(TakeCallback<T>),
}

/// Work to do once the lock is released.
///
/// The common case, one context to wake and nothing else, lives inline;
/// the rest is allocated on first use, so building, running and dropping a
/// `Deferred` costs next to nothing when it holds at most one wake.
pub(crate) struct Deferred<T> {
    /// The first context to wake.
    wake: Option<Arc<Context>>,
    /// Everything else, in [`Deferred::run`]'s order.
    more: Option<Box<MoreDeferred<T>>>,
    /// A refill moved parked values into the ring: receivers may need
    /// waking before the lock is released.
    refilled: bool,
}

/// The rarer work of a [`Deferred`].
struct MoreDeferred<T> {
    /// Contexts to wake after [`Deferred::wake`].
    wake: Vec<Arc<Context>>,
    poke: Vec<Arc<Context>>,
    puts: Vec<PutOutcome<T>>,
    takes: Vec<(TakeCallback<T>, Option<T>)>,
    /// `take` callbacks of a promise channel: each gets a clone of the
    /// value (or `None` if closed empty), made after the lock is released,
    /// since `T::clone` is user code.
    promise_takes: Vec<TakeCallback<T>>,
}

impl<T> Deferred<T> {
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            wake: None,
            more: None,
            refilled: false,
        }
    }

    /// Queues a context to wake.
    #[inline]
    pub(crate) fn wake(&mut self, ctx: Arc<Context>) {
        if self.wake.is_none() {
            self.wake = Some(ctx);
        } else {
            self.more().wake.push(ctx);
        }
    }

    /// Queues a poke ([`Context::poke`]).
    fn poke(&mut self, ctx: Arc<Context>) {
        self.more().poke.push(ctx);
    }

    /// Queues a `put` callback with its outcome.
    fn put(&mut self, outcome: PutOutcome<T>) {
        self.more().puts.push(outcome);
    }

    /// Queues a `take` callback with its value.
    fn take(&mut self, cb: TakeCallback<T>, v: Option<T>) {
        self.more().takes.push((cb, v));
    }

    /// Queues a promise's `take` callback.
    fn promise_take(&mut self, cb: TakeCallback<T>) {
        self.more().promise_takes.push(cb);
    }

    #[cold]
    fn more(&mut self) -> &mut MoreDeferred<T> {
        self.more.get_or_insert_with(|| {
            Box::new(MoreDeferred {
                wake: Vec::new(),
                poke: Vec::new(),
                puts: Vec::new(),
                takes: Vec::new(),
                promise_takes: Vec::new(),
            })
        })
    }

    /// Runs everything, in order: wakes, pokes, callbacks. A panicking
    /// waker or callback is caught and reported, and the rest still run:
    /// every claimed party is woken and every handed-over value delivered.
    #[inline]
    pub(crate) fn run(self, chan: &Chan<T>) {
        if let Some(ctx) = self.wake {
            run_callback("waker", move || ctx.unpark());
        }
        if let Some(more) = self.more {
            (*more).run(chan);
        }
    }
}

impl<T> MoreDeferred<T> {
    /// The rest of [`Deferred::run`], in order.
    #[cold]
    #[inline(never)]
    fn run(self, chan: &Chan<T>) {
        let Self {
            wake,
            poke,
            puts,
            takes,
            promise_takes,
        } = self;
        for ctx in wake {
            run_callback("waker", move || ctx.unpark());
        }
        for ctx in poke {
            run_callback("waker", move || ctx.poke());
        }
        for (cb, r) in puts {
            run_callback("put", move || cb(r));
        }
        for (cb, v) in takes {
            run_callback("take", move || cb(v));
        }
        if !promise_takes.is_empty() {
            if let Buffer::Promise(cell) = &chan.buf {
                for cb in promise_takes {
                    run_callback("take", || cb(cell.get()));
                }
            }
        }
    }
}

/// Runs a user callback; a panic is caught and reported through go-check,
/// not charged to whoever completed the operation.
pub(crate) fn run_callback(what: &'static str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_string()
        };
        parkway_go_check::report(&parkway_go_check::Report::callback_panic(what, msg));
    }
}

/// The shared state of a channel.
pub(crate) struct Chan<T> {
    buf: Buffer<T>,
    /// `close()` was called or the last sender dropped. Set under the lock.
    closed: AtomicBool,
    /// Every receiver is gone. Set under the lock.
    disconnected: AtomicBool,
    /// `recvq` is not empty. Stored under the lock, read by the fast path.
    recv_waiting: CachePadded<AtomicBool>,
    /// `sendq` is not empty. Stored under the lock, read by the fast path.
    send_waiting: CachePadded<AtomicBool>,
    waiters: Mutex<Waiters<T>>,
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chan")
            .field("buffer", &self.buf)
            .field("len", &self.buf.len())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> Chan<T> {
    pub(crate) fn new(buf: Buffer<T>) -> Self {
        Self {
            buf,
            closed: AtomicBool::new(false),
            disconnected: AtomicBool::new(false),
            recv_waiting: CachePadded::new(AtomicBool::new(false)),
            send_waiting: CachePadded::new(AtomicBool::new(false)),
            waiters: Mutex::new(Waiters {
                sendq: VecDeque::new(),
                recvq: VecDeque::new(),
                puts: 0,
                takes: 0,
            }),
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
        }
    }

    // ----- handles -------------------------------------------------------

    pub(crate) fn add_sender(&self) {
        if self.senders.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            std::process::abort();
        }
    }

    pub(crate) fn add_receiver(&self) {
        if self.receivers.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// The last sender closes the channel.
    pub(crate) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }

    /// The last receiver disconnects the channel: sends fail from now on and
    /// parked senders get their values back.
    pub(crate) fn drop_receiver(&self) {
        if self.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.disconnect();
        }
    }

    // ----- queries -------------------------------------------------------

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.disconnected.load(Ordering::Acquire)
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.disconnected.load(Ordering::Acquire)
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub(crate) fn is_rendezvous(&self) -> bool {
        matches!(self.buf, Buffer::Rendezvous)
    }

    fn lock(&self) -> MutexGuard<'_, Waiters<T>> {
        self.waiters.lock()
    }

    /// Runs `f` under the lock, settles the queues ([`Chan::settle`]),
    /// releases the lock, then runs the deferred wakes and callbacks.
    fn with_lock<R>(&self, f: impl FnOnce(&Self, &mut Waiters<T>, &mut Deferred<T>) -> R) -> R {
        let mut d = Deferred::new();
        let out = {
            let mut w = self.lock();
            let out = f(self, &mut w, &mut d);
            self.settle(&mut w, &mut d);
            out
        };
        d.run(self);
        out
    }

    /// Ends a locked section: if a refill moved parked values into the
    /// ring, wakes receivers for them, then mirrors the queues into the
    /// fast-path flags.
    fn settle(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) {
        while std::mem::take(&mut d.refilled) {
            self.notify_recv_locked(w, d);
        }
        self.sync_flags(w);
    }

    /// Mirrors the queues' emptiness into the fast-path flags.
    fn sync_flags(&self, w: &Waiters<T>) {
        let s = !w.sendq.is_empty();
        if self.send_waiting.load(Ordering::Relaxed) != s {
            self.send_waiting.store(s, Ordering::SeqCst);
        }
        let r = !w.recvq.is_empty();
        if self.recv_waiting.load(Ordering::Relaxed) != r {
            self.recv_waiting.store(r, Ordering::SeqCst);
        }
    }

    // ----- send ----------------------------------------------------------

    /// The lock-free attempt. `Err` gives the value back when the slow path
    /// must decide (full fixed ring, unbuffered channel).
    #[inline]
    pub(crate) fn send_fast(&self, v: T) -> Result<Result<(), SendError<T>>, T> {
        match &self.buf {
            Buffer::Fixed(ring) => {
                if self.send_waiting.load(Ordering::Relaxed) {
                    // Senders are parked: queue behind them.
                    return Err(v);
                }
                match ring.push_open(v) {
                    Ok(()) => {
                        self.after_push();
                        Ok(Ok(()))
                    }
                    Err(PushError::Full(v)) => Err(v),
                    Err(PushError::Closed(v)) => Ok(Err(SendError(v))),
                }
            }
            Buffer::Dropping(ring) => match ring.push_open(v) {
                Ok(()) => {
                    self.after_push();
                    Ok(Ok(()))
                }
                Err(PushError::Full(v)) => {
                    // The policy the user chose: the new value is discarded.
                    drop(v);
                    Ok(Ok(()))
                }
                Err(PushError::Closed(v)) => Ok(Err(SendError(v))),
            },
            Buffer::Sliding(ring) => match ring.force_push_open(v) {
                Ok(evicted) => {
                    self.after_push();
                    // The policy the user chose: the oldest value is discarded.
                    drop(evicted);
                    Ok(Ok(()))
                }
                Err(v) => Ok(Err(SendError(v))),
            },
            Buffer::Promise(cell) => {
                if self.closed.load(Ordering::Acquire) || self.disconnected.load(Ordering::Acquire)
                {
                    return Ok(Err(SendError(v)));
                }
                match cell.set(v) {
                    Ok(()) => {
                        loom_sc_fence();
                        if self.recv_waiting.load(Ordering::SeqCst) {
                            self.deliver_promise();
                        }
                        Ok(Ok(()))
                    }
                    Err(SetError::AlreadySet(v)) => {
                        drop(v);
                        Ok(Ok(()))
                    }
                    Err(SetError::Closed(v)) => Ok(Err(SendError(v))),
                }
            }
            Buffer::Rendezvous => Err(v),
        }
    }

    /// After a successful lock-free push: wake a receiver if one is parked.
    #[inline]
    fn after_push(&self) {
        loom_sc_fence();
        if self.recv_waiting.load(Ordering::SeqCst) {
            self.notify_recv();
        }
    }

    /// The locked path of a send.
    pub(crate) fn send_slow(&self, v: T, reg: SendReg<T>) -> SendStart<T> {
        self.with_lock(|c, w, d| c.send_locked(w, v, reg, d))
    }

    fn send_locked(
        &self,
        w: &mut Waiters<T>,
        v: T,
        reg: SendReg<T>,
        d: &mut Deferred<T>,
    ) -> SendStart<T> {
        let v = match self.try_send_locked(w, v, d) {
            Ok(()) => return Self::finish_send(reg, Ok(()), d),
            Err(TrySendError::Closed(v)) => return Self::finish_send(reg, Err(SendError(v)), d),
            Err(TrySendError::Full(v)) => v,
        };
        let parked = self.park_sender(w, v, reg);
        if self.is_rendezvous() {
            if let SendStart::Parked = parked {
                // A woken receiver will come and take the parked value.
                self.wake_one_receiver(w, d, None);
            }
        }
        parked
    }

    /// A send that completed under the lock: a `put` callback is told
    /// (after the lock is released); anyone else gets the outcome.
    fn finish_send(
        reg: SendReg<T>,
        res: Result<(), SendError<T>>,
        d: &mut Deferred<T>,
    ) -> SendStart<T> {
        match (reg, res) {
            (SendReg::Put(cb), res) => {
                d.put((cb, res));
                SendStart::Sent
            }
            (_, Ok(())) => SendStart::Sent,
            (_, Err(SendError(v))) => SendStart::Closed(v),
        }
    }

    /// Tries to complete a send under the lock without waiting.
    fn try_send_locked(
        &self,
        w: &mut Waiters<T>,
        v: T,
        d: &mut Deferred<T>,
    ) -> Result<(), TrySendError<T>> {
        if self.closed.load(Ordering::Relaxed) || self.disconnected.load(Ordering::Relaxed) {
            return Err(TrySendError::Closed(v));
        }
        match &self.buf {
            Buffer::Fixed(ring) => {
                if w.has_parked_values() {
                    // Queue behind the parked senders.
                    return Err(TrySendError::Full(v));
                }
                // Announce first, then look: a receiver popping now either
                // sees the flag or leaves room this push will see.
                self.send_waiting.store(true, Ordering::SeqCst);
                loom_sc_fence();
                match ring.push_open(v) {
                    Ok(()) => {
                        self.notify_recv_locked(w, d);
                        Ok(())
                    }
                    Err(PushError::Full(v)) => Err(TrySendError::Full(v)),
                    Err(PushError::Closed(v)) => Err(TrySendError::Closed(v)),
                }
            }
            Buffer::Rendezvous => {
                // Hand the value to a receiver that takes values directly.
                let mut i = 0;
                while i < w.recvq.len() {
                    match &w.recvq[i] {
                        RecvEntry::Wake(_) => i += 1,
                        RecvEntry::Take(_) => {
                            let Some(RecvEntry::Take(cb)) = remove_at(&mut w.recvq, i) else {
                                unreachable!()
                            };
                            w.takes -= 1;
                            d.take(cb, Some(v));
                            return Ok(());
                        }
                        RecvEntry::Handoff { waiter, slot } => {
                            // Claim while holding the slot's lock: the owner
                            // reads the slot only after seeing the claim, so
                            // it finds the value there.
                            let slot = slot.clone();
                            let mut slot = slot.lock();
                            if waiter.try_claim() {
                                *slot = Some(v);
                                drop(slot);
                                let Some(RecvEntry::Handoff { waiter, .. }) =
                                    remove_at(&mut w.recvq, i)
                                else {
                                    unreachable!()
                                };
                                d.wake(waiter.ctx);
                                return Ok(());
                            }
                            // Claimed through another channel: dead; its
                            // owner removes it.
                            i += 1;
                        }
                    }
                }
                Err(TrySendError::Full(v))
            }
            // The other policies complete every send on the fast path and
            // never get here (calling it under the lock would re-lock).
            Buffer::Dropping(_) | Buffer::Sliding(_) | Buffer::Promise(_) => {
                unreachable!("dropping, sliding and promise sends never take the locked path")
            }
        }
    }

    /// Queues a sender that found no room.
    fn park_sender(&self, w: &mut Waiters<T>, value: T, reg: SendReg<T>) -> SendStart<T> {
        match reg {
            SendReg::None => SendStart::Full(value),
            SendReg::Value(waiter) => {
                w.sendq.push_back(SendEntry::Value { waiter, value });
                SendStart::Parked
            }
            SendReg::Put(callback) => {
                if w.puts >= MAX_PENDING {
                    return SendStart::TooManyPending(value, callback);
                }
                w.puts += 1;
                w.sendq.push_back(SendEntry::Put { value, callback });
                SendStart::Parked
            }
        }
    }

    /// Removes a parked sender's registration. For a `Value` entry, returns
    /// its value (the send did not happen); `None` means it is gone: the
    /// send completed (or, for a select's `Wake` entry, it was woken).
    pub(crate) fn cancel_send(&self, ctx: &Arc<Context>, op: usize) -> CancelSend<T> {
        let mut w = self.lock();
        let pos = w.sendq.iter().position(|e| match e {
            SendEntry::Value { waiter, .. } | SendEntry::Wake(waiter) => waiter.is(ctx, op),
            SendEntry::Put { .. } => false,
        });
        let out = match pos.and_then(|i| remove_at(&mut w.sendq, i)) {
            Some(SendEntry::Value { value, .. }) => CancelSend::Value(value),
            Some(SendEntry::Wake(_)) => CancelSend::Removed,
            Some(SendEntry::Put { .. }) => unreachable!(),
            None => CancelSend::Gone,
        };
        self.sync_flags(&w);
        out
    }

    // ----- receive -------------------------------------------------------

    /// The lock-free attempt: `None` when the slow path must decide.
    #[inline]
    pub(crate) fn recv_fast(&self) -> Option<T> {
        match &self.buf {
            Buffer::Fixed(ring) => {
                let v = ring.pop()?;
                loom_sc_fence();
                if self.send_waiting.load(Ordering::SeqCst) {
                    self.refill();
                }
                Some(v)
            }
            Buffer::Dropping(ring) | Buffer::Sliding(ring) => ring.pop(),
            Buffer::Promise(cell) => cell.get(),
            Buffer::Rendezvous => None,
        }
    }

    /// Whether `try_recv` may answer `Empty` without the lock.
    #[inline]
    pub(crate) fn surely_empty(&self) -> bool {
        !self.is_rendezvous()
            && !self.send_waiting.load(Ordering::SeqCst)
            && !self.closed.load(Ordering::Acquire)
    }

    /// The locked path of a receive.
    pub(crate) fn recv_slow(&self, reg: RecvReg<T>) -> RecvStart<T> {
        if let Buffer::Promise(cell) = &self.buf {
            return self.recv_promise(cell, reg);
        }
        self.with_lock(|c, w, d| c.recv_locked(w, reg, d))
    }

    fn recv_locked(
        &self,
        w: &mut Waiters<T>,
        reg: RecvReg<T>,
        d: &mut Deferred<T>,
    ) -> RecvStart<T> {
        // A registering receive on an open ring with no sender parked with
        // a value skips the look before registering: the look after
        // announcing (below) finds whatever this one would (the ring's
        // oldest value), and each failed look costs a fence.
        let ring = matches!(
            self.buf,
            Buffer::Fixed(_) | Buffer::Dropping(_) | Buffer::Sliding(_)
        );
        // Not for a `take`: its pending limit is checked before the look
        // after announcing, and a value already buffered must be handed to
        // it rather than refused with `TooManyPending`.
        let look_later = ring
            && !matches!(reg, RecvReg::None | RecvReg::Take(_))
            && !self.closed.load(Ordering::Relaxed)
            && !w.has_parked_values();
        if !look_later {
            if let Some(v) = self.take_value_locked(w, d) {
                return Self::finish_recv(reg, Some(v), d);
            }
        }
        if self.closed.load(Ordering::Relaxed) {
            return Self::finish_recv(reg, None, d);
        }
        let (entry, handoff) = match reg {
            RecvReg::None => return RecvStart::Empty,
            RecvReg::Wake(waiter) => (RecvEntry::Wake(waiter), false),
            RecvReg::Handoff(waiter, slot) => {
                if self.is_rendezvous() {
                    (RecvEntry::Handoff { waiter, slot }, true)
                } else {
                    (RecvEntry::Wake(waiter), false)
                }
            }
            RecvReg::Take(cb) => {
                if w.takes >= MAX_PENDING {
                    return RecvStart::TooManyPending(cb);
                }
                w.takes += 1;
                (RecvEntry::Take(cb), false)
            }
        };
        w.recvq.push_back(entry);
        // Announce, then look again: a lock-free push that missed the flag
        // left its value where this second look finds it.
        self.recv_waiting.store(true, Ordering::SeqCst);
        loom_sc_fence();
        if !handoff {
            let again = match &self.buf {
                Buffer::Fixed(r) | Buffer::Dropping(r) | Buffer::Sliding(r) => r.pop(),
                Buffer::Promise(_) | Buffer::Rendezvous => None,
            };
            if let Some(v) = again {
                let mine = w.recvq.pop_back();
                self.refill_locked(w, d);
                return match mine {
                    Some(RecvEntry::Take(cb)) => {
                        w.takes -= 1;
                        d.take(cb, Some(v));
                        RecvStart::Registered
                    }
                    _ => RecvStart::Value(v),
                };
            }
        }
        RecvStart::Registered
    }

    /// A receive that completed under the lock: a `take` callback is told
    /// (after the lock is released); anyone else gets the outcome.
    fn finish_recv(reg: RecvReg<T>, v: Option<T>, d: &mut Deferred<T>) -> RecvStart<T> {
        match (reg, v) {
            (RecvReg::Take(cb), v) => {
                d.take(cb, v);
                RecvStart::Registered
            }
            (_, Some(v)) => RecvStart::Value(v),
            (_, None) => RecvStart::Closed,
        }
    }

    /// Takes the next value under the lock: from the buffer, else from a
    /// parked sender. Never for a promise, whose values are clones made
    /// outside the lock ([`Chan::recv_promise`]).
    fn take_value_locked(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) -> Option<T> {
        match &self.buf {
            Buffer::Fixed(ring) => {
                if let Some(v) = ring.pop() {
                    self.refill_locked(w, d);
                    return Some(v);
                }
            }
            Buffer::Dropping(ring) | Buffer::Sliding(ring) => {
                if let Some(v) = ring.pop() {
                    return Some(v);
                }
                // Only a transform channel closed from the receiving side
                // queues values here (`Chan::queue_after_close`); for the
                // others `sendq` holds none, and this finds nothing.
            }
            Buffer::Promise(_) => return None,
            Buffer::Rendezvous => {}
        }
        self.take_from_sender(w, d)
    }

    /// The receive path of a promise channel: the value is cloned only
    /// outside the lock (`T::clone` is user code); the lock only orders
    /// registration against delivery and close.
    fn recv_promise(&self, cell: &PromiseCell<T>, mut reg: RecvReg<T>) -> RecvStart<T> {
        loop {
            if let Some(v) = cell.get() {
                return self.finish_recv_unlocked(reg, Some(v));
            }
            let mut w = self.lock();
            if cell.is_set() {
                continue;
            }
            if self.closed.load(Ordering::Relaxed) {
                drop(w);
                return self.finish_recv_unlocked(reg, None);
            }
            let entry = match reg {
                RecvReg::None => return RecvStart::Empty,
                RecvReg::Wake(waiter) | RecvReg::Handoff(waiter, _) => RecvEntry::Wake(waiter),
                RecvReg::Take(cb) => {
                    if w.takes >= MAX_PENDING {
                        return RecvStart::TooManyPending(cb);
                    }
                    w.takes += 1;
                    RecvEntry::Take(cb)
                }
            };
            w.recvq.push_back(entry);
            self.recv_waiting.store(true, Ordering::SeqCst);
            loom_sc_fence();
            if !cell.is_set() {
                return RecvStart::Registered;
            }
            // Delivered meanwhile: take the registration back and clone.
            reg = match w.recvq.pop_back() {
                Some(RecvEntry::Wake(waiter)) => RecvReg::Wake(waiter),
                Some(RecvEntry::Take(cb)) => {
                    w.takes -= 1;
                    RecvReg::Take(cb)
                }
                _ => unreachable!("the entry just pushed"),
            };
            self.sync_flags(&w);
        }
    }

    /// [`Chan::finish_recv`] outside the lock: a `take` callback runs here.
    fn finish_recv_unlocked(&self, reg: RecvReg<T>, v: Option<T>) -> RecvStart<T> {
        match (reg, v) {
            (RecvReg::Take(cb), v) => {
                run_callback("take", move || cb(v));
                RecvStart::Registered
            }
            (_, Some(v)) => RecvStart::Value(v),
            (_, None) => RecvStart::Closed,
        }
    }

    /// Completes the first live parked sender and takes its value.
    fn take_from_sender(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) -> Option<T> {
        let mut i = 0;
        while i < w.sendq.len() {
            match &w.sendq[i] {
                SendEntry::Wake(_) => i += 1,
                SendEntry::Value { waiter, .. } => {
                    if waiter.try_claim() {
                        let Some(SendEntry::Value { waiter, value }) = remove_at(&mut w.sendq, i)
                        else {
                            unreachable!()
                        };
                        d.wake(waiter.ctx);
                        return Some(value);
                    }
                    i += 1;
                }
                SendEntry::Put { .. } => {
                    let Some(SendEntry::Put { value, callback }) = remove_at(&mut w.sendq, i)
                    else {
                        unreachable!()
                    };
                    w.puts -= 1;
                    d.put((callback, Ok(())));
                    return Some(value);
                }
            }
        }
        None
    }

    /// After a lock-free pop from a fixed ring found senders parked.
    fn refill(&self) {
        self.with_lock(|c, w, d| c.refill_locked(w, d));
    }

    /// Moves parked senders' values (plain sends and puts, in order) into
    /// the fixed ring while it has room, completing those senders; selects
    /// waiting for room are stepped over and keep their place. If room is
    /// left once no value waits, one such select is woken. Sets
    /// `d.refilled` when it moved anything, so the locked section wakes
    /// receivers for those values before it ends ([`Chan::settle`]).
    fn refill_locked(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) {
        let Buffer::Fixed(ring) = &self.buf else {
            return;
        };
        let mut i = 0;
        while i < w.sendq.len() {
            if let SendEntry::Wake(_) = w.sendq[i] {
                i += 1;
                continue;
            }
            match remove_at(&mut w.sendq, i) {
                Some(SendEntry::Value { waiter, value }) => match ring.push_open(value) {
                    Ok(()) => {
                        // Only plain sends park with a value on a ring, and
                        // nobody else claims a plain send's context.
                        let claimed = waiter.try_claim();
                        debug_assert!(claimed, "a parked plain send was claimed twice");
                        d.wake(waiter.ctx);
                        d.refilled = true;
                    }
                    Err(PushError::Full(value) | PushError::Closed(value)) => {
                        w.sendq.insert(i, SendEntry::Value { waiter, value });
                        return;
                    }
                },
                Some(SendEntry::Put { value, callback }) => match ring.push_open(value) {
                    Ok(()) => {
                        w.puts -= 1;
                        d.put((callback, Ok(())));
                        d.refilled = true;
                    }
                    Err(PushError::Full(value) | PushError::Closed(value)) => {
                        w.sendq.insert(i, SendEntry::Put { value, callback });
                        return;
                    }
                },
                Some(SendEntry::Wake(_)) | None => unreachable!("checked above"),
            }
        }
        // Every parked value is in; room left goes to a waiting select.
        if !ring.is_full() {
            while let Some(pos) = w.sendq.iter().position(|e| matches!(e, SendEntry::Wake(_))) {
                let Some(SendEntry::Wake(waiter)) = remove_at(&mut w.sendq, pos) else {
                    unreachable!()
                };
                if waiter.try_claim() {
                    d.wake(waiter.ctx);
                    break;
                }
            }
        }
    }

    /// Removes a receiver's registration. `false` means it is gone: the
    /// receiver was woken (or handed a value), and must consume or pass the
    /// wake-up on.
    pub(crate) fn cancel_recv(&self, ctx: &Arc<Context>, op: usize) -> bool {
        let mut w = self.lock();
        let pos = w.recvq.iter().position(|e| match e {
            RecvEntry::Wake(waiter) | RecvEntry::Handoff { waiter, .. } => waiter.is(ctx, op),
            RecvEntry::Take(_) => false,
        });
        let found = pos.and_then(|i| remove_at(&mut w.recvq, i)).is_some();
        self.sync_flags(&w);
        found
    }

    /// A receiver that was woken but will not consume passes the wake-up on.
    pub(crate) fn pass_on_recv(&self) {
        self.notify_recv();
    }

    /// A select woken for room that will not use it passes the wake-up on.
    pub(crate) fn pass_on_send(&self) {
        if let Buffer::Fixed(_) = self.buf {
            self.refill();
        }
    }

    /// Wakes (or hands a value to) parked receivers after a push.
    fn notify_recv(&self) {
        self.with_lock(|c, w, d| c.notify_recv_locked(w, d));
    }

    /// Serves parked receivers in queue order: `take` callbacks while
    /// values last, and as many live `Wake` receivers as there are values
    /// waiting (buffered or parked with senders); dead `Wake` entries are
    /// dropped on the way. Waking one too many is harmless (it registers
    /// again); one too few would strand a value.
    fn notify_recv_locked(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) {
        if let Buffer::Promise(_) = self.buf {
            return self.deliver_promise_locked(w, d);
        }
        let mut wakes = self.values_waiting(w);
        let mut i = 0;
        while i < w.recvq.len() {
            match &w.recvq[i] {
                RecvEntry::Take(_) => {
                    let Some(RecvEntry::Take(cb)) = remove_at(&mut w.recvq, i) else {
                        unreachable!()
                    };
                    match self.take_value_locked(w, d) {
                        Some(v) => {
                            w.takes -= 1;
                            d.take(cb, Some(v));
                            wakes = wakes.saturating_sub(1);
                        }
                        None => {
                            w.recvq.insert(i, RecvEntry::Take(cb));
                            return;
                        }
                    }
                }
                RecvEntry::Wake(_) => {
                    if wakes == 0 {
                        return;
                    }
                    let Some(RecvEntry::Wake(waiter)) = remove_at(&mut w.recvq, i) else {
                        unreachable!()
                    };
                    if waiter.try_claim() {
                        d.wake(waiter.ctx);
                        wakes -= 1;
                    }
                }
                // Fed by arriving senders, not by notification.
                RecvEntry::Handoff { .. } => i += 1,
            }
        }
    }

    /// Values a receiver could take now: buffered ones and those parked
    /// with senders.
    fn values_waiting(&self, w: &Waiters<T>) -> usize {
        let buffered = match &self.buf {
            Buffer::Fixed(r) | Buffer::Dropping(r) | Buffer::Sliding(r) => r.len(),
            Buffer::Promise(_) | Buffer::Rendezvous => 0,
        };
        let parked = w.parked_values();
        buffered + parked
    }

    /// Wakes the first live `Wake` receiver (not `skip`'s, a select's own),
    /// dropping dead ones.
    fn wake_one_receiver(
        &self,
        w: &mut Waiters<T>,
        d: &mut Deferred<T>,
        skip: Option<&Arc<Context>>,
    ) {
        let mut i = 0;
        while i < w.recvq.len() {
            match &w.recvq[i] {
                RecvEntry::Wake(waiter) if skip.is_some_and(|c| Arc::ptr_eq(c, &waiter.ctx)) => {
                    i += 1
                }
                RecvEntry::Wake(_) => {
                    let Some(RecvEntry::Wake(waiter)) = remove_at(&mut w.recvq, i) else {
                        unreachable!()
                    };
                    if waiter.try_claim() {
                        d.wake(waiter.ctx);
                        return;
                    }
                }
                RecvEntry::Handoff { .. } | RecvEntry::Take(_) => i += 1,
            }
        }
    }

    /// A promise got its value: every parked receiver gets it.
    fn deliver_promise(&self) {
        self.with_lock(|c, w, d| c.deliver_promise_locked(w, d));
    }

    fn deliver_promise_locked(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) {
        let Buffer::Promise(cell) = &self.buf else {
            return;
        };
        if !cell.is_set() {
            return;
        }
        for entry in w.recvq.drain(..) {
            match entry {
                RecvEntry::Wake(waiter) | RecvEntry::Handoff { waiter, .. } => {
                    if waiter.try_claim() {
                        d.wake(waiter.ctx);
                    }
                }
                // Cloned after the lock is released.
                RecvEntry::Take(cb) => d.promise_take(cb),
            }
        }
        w.takes = 0;
    }

    // ----- select --------------------------------------------------------

    /// Whether a receive could complete now, ignoring `ctx`'s own parked
    /// sends (a select cannot rendezvous with itself). A hint: it may say
    /// yes to a value someone else then takes, never no to one that is
    /// there.
    fn recv_ready_locked(&self, w: &Waiters<T>, ctx: &Arc<Context>) -> bool {
        let buffered = match &self.buf {
            Buffer::Fixed(r) | Buffer::Dropping(r) | Buffer::Sliding(r) => !r.is_empty(),
            Buffer::Promise(c) => c.is_set(),
            Buffer::Rendezvous => false,
        };
        buffered
            || self.closed.load(Ordering::Relaxed)
            || w.sendq.iter().any(|e| match e {
                SendEntry::Value { waiter, .. } => {
                    !Arc::ptr_eq(&waiter.ctx, ctx) && waiter.ctx.selected().is_none()
                }
                SendEntry::Put { .. } => true,
                SendEntry::Wake(_) => false,
            })
    }

    /// Registers a select's receive, unless it looks ready (then nothing is
    /// registered and `true` comes back). `slot` asks for a hand-off
    /// registration (blocking selects on unbuffered channels).
    pub(crate) fn select_register_recv(
        &self,
        waiter: Waiter,
        slot: Option<HandoffSlot<T>>,
    ) -> bool {
        let mut w = self.lock();
        if self.recv_ready_locked(&w, &waiter.ctx) {
            return true;
        }
        let ctx = waiter.ctx.clone();
        match slot {
            Some(slot) if self.is_rendezvous() => {
                w.recvq.push_back(RecvEntry::Handoff { waiter, slot })
            }
            _ => w.recvq.push_back(RecvEntry::Wake(waiter)),
        }
        self.recv_waiting.store(true, Ordering::SeqCst);
        loom_sc_fence();
        // A lock-free push that missed the flag is visible now.
        let ready = self.recv_ready_locked(&w, &ctx);
        if ready {
            w.recvq.pop_back();
        }
        self.sync_flags(&w);
        ready
    }

    /// Registers a select's send of the value in `slot`, unless it looks
    /// ready. On an unbuffered channel the value moves into the channel
    /// ([`SelectSend::Parked`]); on a buffered one it stays in the slot.
    pub(crate) fn select_register_send(&self, waiter: Waiter, slot: &mut Option<T>) -> SelectSend {
        self.with_lock(|c, w, d| c.select_register_send_locked(w, waiter, slot, d))
    }

    fn select_register_send_locked(
        &self,
        w: &mut Waiters<T>,
        waiter: Waiter,
        slot: &mut Option<T>,
        d: &mut Deferred<T>,
    ) -> SelectSend {
        if self.closed.load(Ordering::Relaxed) || self.disconnected.load(Ordering::Relaxed) {
            return SelectSend::Ready;
        }
        match &self.buf {
            Buffer::Fixed(ring) => {
                let queued = Waiters::has_parked_values;
                if !queued(w) && !ring.is_full() {
                    return SelectSend::Ready;
                }
                w.sendq.push_back(SendEntry::Wake(waiter));
                self.send_waiting.store(true, Ordering::SeqCst);
                loom_sc_fence();
                // A lock-free pop that missed the flag left room we see now.
                if !queued(w) && !ring.is_full() {
                    w.sendq.pop_back();
                    return SelectSend::Ready;
                }
                SelectSend::Registered
            }
            Buffer::Rendezvous => {
                let ctx = &waiter.ctx;
                let taker = w.recvq.iter().any(|e| match e {
                    RecvEntry::Take(_) => true,
                    RecvEntry::Handoff { waiter: r, .. } => {
                        !Arc::ptr_eq(&r.ctx, ctx) && r.ctx.selected().is_none()
                    }
                    RecvEntry::Wake(_) => false,
                });
                if taker {
                    return SelectSend::Ready;
                }
                let value = slot
                    .take()
                    .expect("parkway: a `Select::send` slot was empty");
                let waiter_ctx = waiter.ctx.clone();
                w.sendq.push_back(SendEntry::Value { waiter, value });
                self.wake_one_receiver(w, d, Some(&waiter_ctx));
                SelectSend::Parked
            }
            Buffer::Dropping(_) | Buffer::Sliding(_) | Buffer::Promise(_) => SelectSend::Ready,
        }
    }

    // ----- transform channels (crate::transform) --------------------------
    //
    // Used only by `TransformSender`, which owns the one `Sender` of its
    // channel and calls these under its own lock; plain handles never reach
    // them, so the paths above are unchanged (but for one hook: receives
    // from a closed dropping or sliding buffer also take queued values, see
    // `take_value_locked`; plain channels of those kinds never queue any).

    /// Whether a new put would find room (core.async's `full?` is false):
    /// a fixed ring that is not full and has no parked value before it;
    /// always for the policies that never park. Exact: read under the lock.
    pub(crate) fn has_room(&self) -> bool {
        match &self.buf {
            Buffer::Fixed(ring) => {
                let w = self.lock();
                !w.has_parked_values() && !ring.is_full()
            }
            Buffer::Dropping(_) | Buffer::Sliding(_) | Buffer::Promise(_) => true,
            Buffer::Rendezvous => false,
        }
    }

    /// The buffered values plus those queued behind the buffer (a
    /// transform's outputs past the capacity, or added after `close`):
    /// everything receivers have still to take. Takes the lock.
    pub(crate) fn len_with_queued(&self) -> usize {
        let w = self.lock();
        self.buf.len() + w.puts
    }

    /// Adds every value of `values` (drained, in order) under one lock, as
    /// core.async adds a transducer's outputs to its buffer: past a fixed
    /// ring's capacity if need be, the rest queueing behind the ring as
    /// parked puts with no callback (delivered in order, also after close);
    /// dropping and sliding buffers apply their policy to each value.
    ///
    /// On a fixed ring it then passes on room the batch left (even an
    /// empty one): a sender woken for room whose step emitted nothing must
    /// not keep the next waiting sender asleep.
    ///
    /// If the channel was closed from the receiving side meanwhile (closed,
    /// not disconnected), `when_closed` decides: [`WhenClosed::Deliver`]
    /// queues the values behind the closed ring, where receivers take them
    /// before they see the channel drained (dropping and sliding buffers
    /// still apply their policy, counting the queued values as buffered);
    /// [`WhenClosed::Discard`] discards them. Once every receiver is gone,
    /// values are discarded either way.
    ///
    /// Values discarded go to `discarded`, for the caller to drop outside
    /// every lock. Wakes and callbacks are left in `d`, to run once the
    /// caller has released its own lock.
    pub(crate) fn push_batch(
        &self,
        values: &mut Vec<T>,
        when_closed: WhenClosed,
        discarded: &mut Vec<T>,
        d: &mut Deferred<T>,
    ) where
        T: 'static,
    {
        if values.is_empty() {
            // An empty batch has only room to pass on, on a fixed ring, to
            // a sender waiting for it. Those register under the caller's
            // transform lock, held now, setting `send_waiting` (which we
            // see through that lock): clear, nobody waits.
            if !matches!(self.buf, Buffer::Fixed(_)) || !self.send_waiting.load(Ordering::SeqCst) {
                return;
            }
        }
        let mut w = self.lock();
        if self.disconnected.load(Ordering::Relaxed) {
            discarded.append(values);
            return;
        }
        if self.closed.load(Ordering::Relaxed) {
            match when_closed {
                WhenClosed::Deliver => self.queue_after_close(&mut w, values, discarded),
                WhenClosed::Discard => discarded.append(values),
            }
            // No receiver parks on a closed channel (`close` woke them
            // all, and later receives answer at once), but serve any
            // `take` the same way as after an open push.
            self.notify_recv_locked(&mut w, d);
            self.settle(&mut w, d);
            return;
        }
        match &self.buf {
            Buffer::Fixed(ring) => {
                // Announce first, as `try_send_locked` does: a receiver
                // popping meanwhile sees the flag and refills from the
                // queue, or leaves room a push below sees.
                self.send_waiting.store(true, Ordering::SeqCst);
                loom_sc_fence();
                for v in values.drain(..) {
                    let v = if w.has_parked_values() {
                        v
                    } else {
                        match ring.push_open(v) {
                            Ok(()) => continue,
                            // `Closed` cannot happen (the ring closes under
                            // the lock, with `closed`, checked above).
                            Err(PushError::Full(v) | PushError::Closed(v)) => v,
                        }
                    };
                    self.queue_put(&mut w, v);
                }
                // Room this batch did not fill (a lock-free pop may also
                // have made some meanwhile) goes to queued values first,
                // then to one sender waiting for room.
                self.refill_locked(&mut w, d);
            }
            Buffer::Dropping(ring) => {
                for v in values.drain(..) {
                    if let Err(PushError::Full(v) | PushError::Closed(v)) = ring.push_open(v) {
                        discarded.push(v);
                    }
                }
            }
            Buffer::Sliding(ring) => {
                for v in values.drain(..) {
                    match ring.force_push_open(v) {
                        Ok(evicted) => discarded.extend(evicted),
                        Err(v) => discarded.push(v),
                    }
                }
            }
            Buffer::Promise(cell) => {
                for v in values.drain(..) {
                    if let Err(SetError::AlreadySet(v) | SetError::Closed(v)) = cell.set(v) {
                        discarded.push(v);
                    }
                }
            }
            Buffer::Rendezvous => unreachable!("transform channels always have a buffer"),
        }
        self.notify_recv_locked(&mut w, d);
        self.settle(&mut w, d);
    }

    /// Queues `v` behind the ring as a parked put with no callback.
    fn queue_put(&self, w: &mut Waiters<T>, v: T) {
        // Not counted against `MAX_PENDING` in spirit: nobody but the
        // transform sender puts on this channel.
        w.puts += 1;
        w.sendq.push_back(SendEntry::Put {
            value: v,
            callback: Box::new(|_| {}),
        });
    }

    /// [`Chan::push_batch`] on a channel closed from the receiving side,
    /// with [`WhenClosed::Deliver`]: the closed ring takes no value, so
    /// every one queues behind it, after what is queued already. Dropping
    /// and sliding buffers count the ring's values and the queued ones
    /// against their capacity: a dropping buffer discards what finds it
    /// full, a sliding one evicts the oldest (the ring's front, else the
    /// first queued value).
    fn queue_after_close(&self, w: &mut Waiters<T>, values: &mut Vec<T>, discarded: &mut Vec<T>) {
        let cap = self.buf.capacity();
        for v in values.drain(..) {
            match &self.buf {
                Buffer::Fixed(_) => {}
                Buffer::Dropping(ring) => {
                    if ring.len() + w.puts >= cap {
                        discarded.push(v);
                        continue;
                    }
                }
                Buffer::Sliding(ring) => {
                    if ring.len() + w.puts >= cap {
                        let oldest = ring.pop().or_else(|| {
                            let i = w
                                .sendq
                                .iter()
                                .position(|e| matches!(e, SendEntry::Put { .. }))?;
                            let Some(SendEntry::Put { value, .. }) = remove_at(&mut w.sendq, i)
                            else {
                                unreachable!()
                            };
                            w.puts -= 1;
                            Some(value)
                        });
                        discarded.extend(oldest);
                    }
                }
                Buffer::Promise(_) | Buffer::Rendezvous => {
                    unreachable!("transform channels have a ring buffer")
                }
            }
            self.queue_put(w, v);
        }
    }

    // ----- close ---------------------------------------------------------

    /// Closes the buffer itself (the ring's close mark, the promise cell),
    /// so lock-free pushes fail from now on; called under the lock.
    fn close_buffer(&self) {
        match &self.buf {
            Buffer::Fixed(r) | Buffer::Dropping(r) | Buffer::Sliding(r) => {
                r.close();
            }
            Buffer::Promise(c) => {
                c.close();
            }
            Buffer::Rendezvous => {}
        }
    }

    /// Closes the channel (core.async `close!`): no new sends; buffered
    /// values and the values of already parked senders are still
    /// delivered; receivers get `None` once all of them are taken.
    pub(crate) fn close(&self) {
        let mut d = Deferred::new();
        {
            let mut w = self.lock();
            if self.closed.swap(true, Ordering::AcqRel) {
                return;
            }
            self.close_buffer();
            // `take` callbacks get what is left, in order, then `None`.
            self.wake_all_receivers(&mut w, &mut d);
            // Selects waiting for room: their send branches are now ready
            // (closed). Value and put entries stay: they are delivered.
            self.wake_select_senders(&mut w, &mut d);
            self.settle(&mut w, &mut d);
        }
        d.run(self);
    }

    fn wake_all_receivers(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) {
        let entries: Vec<_> = w.recvq.drain(..).collect();
        w.takes = 0;
        for entry in entries {
            match entry {
                RecvEntry::Wake(waiter) | RecvEntry::Handoff { waiter, .. } => {
                    if waiter.try_claim() {
                        d.wake(waiter.ctx);
                    }
                }
                RecvEntry::Take(cb) => {
                    if let Buffer::Promise(_) = self.buf {
                        // The value (or `None`) is cloned after unlocking.
                        d.promise_take(cb);
                    } else {
                        let v = self.take_value_locked(w, d);
                        d.take(cb, v);
                    }
                }
            }
        }
    }

    fn wake_select_senders(&self, w: &mut Waiters<T>, d: &mut Deferred<T>) {
        w.sendq.retain(|e| match e {
            SendEntry::Wake(waiter) => {
                if waiter.try_claim() {
                    d.wake(waiter.ctx.clone());
                }
                false
            }
            _ => true,
        });
    }

    /// Every receiver is gone: sends fail and parked senders get their
    /// values back.
    fn disconnect(&self) {
        let mut d = Deferred::new();
        {
            let mut w = self.lock();
            if self.disconnected.swap(true, Ordering::AcqRel) {
                return;
            }
            self.close_buffer();
            let entries: Vec<_> = w.sendq.drain(..).collect();
            for entry in entries {
                match entry {
                    // The owner takes its value back when it sees the poke.
                    SendEntry::Value { waiter, value } => {
                        d.poke(waiter.ctx.clone());
                        w.sendq.push_back(SendEntry::Value { waiter, value });
                    }
                    SendEntry::Put { value, callback } => {
                        w.puts -= 1;
                        d.put((callback, Err(SendError(value))));
                    }
                    SendEntry::Wake(waiter) => {
                        if waiter.try_claim() {
                            d.wake(waiter.ctx);
                        }
                    }
                }
            }
            self.settle(&mut w, &mut d);
        }
        d.run(self);
    }
}

/// What [`Chan::push_batch`] does with values that find the channel closed
/// from the receiving side (closed, receivers still there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenClosed {
    /// Queue them: receivers get them before `None`. A put granted room
    /// before the close.
    Deliver,
    /// Discard them. The flush after a receiver-side close.
    Discard,
}

/// What [`Chan::select_register_send`] did.
pub(crate) enum SelectSend {
    /// The send looks ready: nothing registered.
    Ready,
    /// The value is parked in the channel.
    Parked,
    /// Registered to be woken when there may be room.
    Registered,
}

/// What [`Chan::cancel_send`] found.
pub(crate) enum CancelSend<T> {
    /// The parked value, back with its owner: nothing was sent.
    Value(T),
    /// A `Wake` registration was removed.
    Removed,
    /// Nothing registered any more: the send completed or the select was
    /// woken.
    Gone,
}

/// `try_send` semantics shared by the handles.
#[inline]
pub(crate) fn try_send<T>(chan: &Chan<T>, v: T) -> Result<(), TrySendError<T>> {
    match chan.send_fast(v) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(SendError(v))) => Err(TrySendError::Closed(v)),
        Err(v) => try_send_slow(chan, v),
    }
}

#[cold]
#[inline(never)]
fn try_send_slow<T>(chan: &Chan<T>, v: T) -> Result<(), TrySendError<T>> {
    match chan.send_slow(v, SendReg::None) {
        SendStart::Sent => Ok(()),
        SendStart::Full(v) => Err(TrySendError::Full(v)),
        SendStart::Closed(v) => Err(TrySendError::Closed(v)),
        SendStart::Parked | SendStart::TooManyPending(..) => {
            unreachable!("try_send never registers")
        }
    }
}
