//! A one-shot channel: one value, one sender, one receiver, in one small
//! allocation; built with [`oneshot()`](crate::oneshot()).
//!
//! # When to use which
//!
//! - **`oneshot()`**: exactly one value goes from one place to one waiter,
//!   a reply or a completion signal ("here is your result"). The cheapest
//!   option: a single allocation of a state word, the value and the
//!   receiver's waker (40 bytes plus the value on 64-bit targets), no
//!   lock, and nothing allocated when the receiver parks or the sender
//!   sends. The value moves out; nothing is cloned.
//! - **[`promise()`](crate::promise())** (core.async's `promise-chan`): the
//!   value is kept and every receive, by any number of receivers, now or
//!   later, gets a clone of it. Use it when several parties wait for the
//!   same result, or when the result is read more than once.
//! - **[`bounded(1)`](crate::bounded())**: a full channel. Use it when the
//!   value must take part in [`alt!`](crate::alt!) or
//!   [`Select`](crate::Select), when you need cloned handles, `put`/`take`
//!   callbacks or a `Stream`, or when more than one value may follow.
//!
//! # Not a channel for `alt!`
//!
//! A oneshot [`Receiver`] is a [`Future`], not a [`chan::Receiver`]: it
//! does **not** take part in [`alt!`](crate::alt!),
//! [`alt_blocking!`](crate::alt_blocking!) or [`Select`](crate::Select).
//! To select on it, bridge it into a channel: give it a task (or a
//! thread) that awaits it and sends the value into a `bounded(1)`, and
//! select on that channel's receiver. In a go block:
//!
//! ```text
//! let (chan_tx, chan_rx) = chan::bounded(1);
//! parkway::go(async move {
//!     if let Ok(v) = oneshot_rx.await {
//!         let _ = chan_tx.send(v).await;
//!     } // else: chan_tx is dropped, which closes chan_rx
//! });
//! // `chan_rx` can now be used in `alt!`.
//! ```
//!
//! The same with a thread, runnable here:
//!
//! ```
//! use parkway_channels::alt_blocking;
//!
//! let (reply_tx, reply_rx) = parkway_channels::oneshot::<u32>();
//! let (bridge_tx, bridge_rx) = parkway_channels::bounded(1);
//! std::thread::spawn(move || {
//!     if let Ok(v) = reply_rx.recv_blocking() {
//!         let _ = bridge_tx.send_blocking(v);
//!     }
//! });
//! let (_other_tx, other_rx) = parkway_channels::unbuffered::<u32>();
//! reply_tx.send(7).unwrap();
//! let v = alt_blocking! {
//!     recv(other_rx) -> _ => 0,
//!     recv(bridge_rx) -> v => v.unwrap(),
//! };
//! assert_eq!(v, 7);
//! ```
//!
//! Simpler still: when you control the sending side and need select, use
//! `bounded(1)` or `promise()` in the first place.
//!
//! # Operations
//!
//! | core.async | oneshot |
//! |---|---|
//! | `>!` / `offer!` | [`Sender::send`] (never waits) |
//! | `<!` | `receiver.await` |
//! | `<!!` | [`Receiver::recv_blocking`] |
//! | `poll!` | [`Receiver::try_recv`] |
//! | `close!` | [`Receiver::close`], or dropping the [`Sender`] |
//!
//! # Examples
//!
//! ```
//! use std::thread;
//!
//! let (tx, rx) = parkway_channels::oneshot();
//! let worker = thread::spawn(move || {
//!     let answer = 6 * 7;
//!     tx.send(answer).unwrap();
//! });
//! assert_eq!(rx.recv_blocking(), Ok(42));
//! worker.join().unwrap();
//! ```
//!
//! [`chan::Receiver`]: crate::Receiver

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::mem::{self, MaybeUninit};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_core::FusedFuture;
use parkway_go_check::{budget, check_blocking};

use crate::sync::{current_thread, park, Arc, AtomicUsize, Ordering, Thread, UnsafeCell};

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// The receiver has stored a waker in [`Shared::rx_waker`] and lends it to
/// the sender: the sender reads it (to wake it) if the RMW that sets its
/// own bit ([`VALUE_SENT`] or [`TX_DROPPED`]) finds this bit set.
///
/// Set by the receiver, after writing the cell, with a Release RMW. Cleared
/// only by the receiver, with a CAS that fails once [`VALUE_SENT`] or
/// [`TX_DROPPED`] is set, to take the cell back and replace the waker;
/// never cleared after the sender finished, since the sender may then be
/// reading the cell.
const RX_WAKER_SET: usize = 0b0001;

/// [`Shared::value`] holds a value that belongs to the receiver.
///
/// Set by [`Sender::send`], after writing the value, with a CAS (Release)
/// that fails if [`CLOSED`] is set: the value was sent only if the receiver
/// had not closed first. Never cleared; the receiver that takes the value
/// gives up its handle on the allocation at once, and a receiver dropped
/// with the bit set and its handle still live drops the value.
const VALUE_SENT: usize = 0b0010;

/// The receiver is closed ([`Receiver::close`]) or dropped: sends fail and
/// hand their values back.
///
/// Set by the receiver; never cleared. A value sent before it is still
/// received (or dropped with the receiver).
const CLOSED: usize = 0b0100;

/// The sender was dropped without sending: the receiver gets
/// [`RecvError`].
///
/// Set by the sender's `Drop`; never cleared. Exclusive with
/// [`VALUE_SENT`] (a sender that sent is not dropped "without sending").
const TX_DROPPED: usize = 0b1000;

/// The bits after which the receiver's outcome is decided.
const COMPLETE: usize = VALUE_SENT | TX_DROPPED | CLOSED;

/// Whether the receiver's outcome is decided in `state`.
#[inline]
fn is_complete(state: usize) -> bool {
    state & COMPLETE != 0
}

/// The state bits, for `Debug`.
struct StateBits(usize);

impl fmt::Debug for StateBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (RX_WAKER_SET, "RX_WAKER_SET"),
            (VALUE_SENT, "VALUE_SENT"),
            (CLOSED, "CLOSED"),
            (TX_DROPPED, "TX_DROPPED"),
        ];
        let mut first = true;
        for (bit, name) in names {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The shared allocation
// ---------------------------------------------------------------------------

/// How the sender wakes the receiver.
#[derive(Debug)]
enum RxWaker {
    /// A future: the waker of its last poll that registered.
    Task(Waker),
    /// A thread blocked in [`Receiver::recv_blocking`].
    Thread(Thread),
}

impl RxWaker {
    /// Wakes the receiver. A panicking task waker is caught and reported
    /// through go-check, as the channels do: the send (or drop) that woke
    /// it has completed and is not charged with the executor's panic.
    fn wake(&self) {
        match self {
            Self::Task(w) => crate::chan::run_callback("waker", || w.wake_by_ref()),
            Self::Thread(t) => t.unpark(),
        }
    }
}

/// The one allocation behind a sender and its receiver.
///
/// Who may touch the cells (the state bits are documented on their
/// constants):
/// - `value`: the sender, until it sets [`VALUE_SENT`] (or reads its value
///   back after seeing [`CLOSED`]); then the receiver, which moves it out
///   (receiving) or drops it (dropped with the value unreceived). The
///   allocation never drops it itself: whoever owns it does.
/// - `rx_waker`: the receiver writes it while [`RX_WAKER_SET`] is clear;
///   while the bit is set both sides may read it, and the receiver writes
///   it again only after clearing the bit by CAS. It always holds a waker
///   (a no-op one until the first registration), dropped with the
///   allocation.
struct Shared<T> {
    state: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
    rx_waker: UnsafeCell<RxWaker>,
}

// SAFETY:
// - `value` moves a `T` from the sender's thread to the receiver's (or back
//   to the sender's), so `T: Send` is required; the cell is never accessed
//   from both sides at once (the `VALUE_SENT` / `CLOSED` hand-over above),
//   so `T: Sync` is not.
// - `rx_waker` holds a `Waker` or a `Thread`, both `Send + Sync`; it is
//   written only by the receiver while the sender may not read it
//   (`RX_WAKER_SET` clear) and read concurrently only by shared reference.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as for `Send`: every access to the cells through `&Shared` is
// serialized by the state protocol, and the only shared concurrent access
// (reading `rx_waker`) is to `Sync` types.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            rx_waker: UnsafeCell::new(RxWaker::Task(Waker::noop().clone())),
        }
    }

    /// Wakes the receiver through the waker it lent.
    ///
    /// # Safety
    ///
    /// The caller is the sender and has set [`VALUE_SENT`] or
    /// [`TX_DROPPED`] with an Acquire RMW that saw [`RX_WAKER_SET`] set:
    /// the receiver's write of the waker happens before this read, and the
    /// receiver can no longer clear the bit to write the cell again.
    unsafe fn wake_rx(&self) {
        self.rx_waker.with(|p| {
            // SAFETY: the function's contract: the cell is initialized,
            // published to us, and nobody writes it any more.
            let waker = unsafe { &*p };
            waker.wake();
        });
    }

    /// The receiver's registration: stores `new` in `rx_waker` and sets
    /// [`RX_WAKER_SET`], without losing a wake-up. `state` is the last state
    /// the receiver saw (not complete). Returns the state just before the
    /// registration took effect; if that is complete, the sender finished
    /// first and will not wake the new waker, so the caller must act on it.
    ///
    /// Called only by the receiver (it holds `&mut Receiver`).
    fn register(&self, mut state: usize, new: RxWaker) -> usize {
        if state & RX_WAKER_SET != 0 {
            // Take the cell back from the sender. The receiver is the only
            // other writer of the state, so this fails for good only if the
            // sender finished meanwhile: then the sender may be reading the
            // old waker, which we leave alone, and the caller takes the
            // outcome instead of parking.
            loop {
                if is_complete(state) {
                    return state;
                }
                // Success: Relaxed. The sender reads the cell only after its
                // completing RMW, which would make this CAS fail; it reads a
                // waker we write next only through our Release below.
                // Failure: Acquire, since the caller may then read the value.
                match self.state.compare_exchange_weak(
                    state,
                    state & !RX_WAKER_SET,
                    Ordering::Relaxed,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => state = actual,
                }
            }
        }
        let old = self.rx_waker.with_mut(|p| {
            // SAFETY: `RX_WAKER_SET` is clear (never set yet, or cleared by
            // the CAS above before the sender finished), so the sender will
            // not read the cell until it sees the bit set again, after the
            // Release below; only the receiver (us) writes it.
            unsafe { mem::replace(&mut *p, new) }
        });
        // Release publishes the waker to the sender; Acquire lets us read a
        // value sent just before.
        let prev = self.state.fetch_or(RX_WAKER_SET, Ordering::AcqRel);
        // Dropped after publishing, so a panicking waker destructor leaves
        // a consistent state.
        drop(old);
        prev
    }
}

/// Creates a one-shot channel. Use [`crate::oneshot()`], whose
/// documentation this is.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared::new());
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver {
            shared: Some(shared),
        },
    )
}

// ---------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------

/// The sending half of a one-shot channel; made by
/// [`oneshot()`](crate::oneshot()). Not `Clone`: one value, one sender.
///
/// Dropping it without sending closes the channel: the receiver gets
/// [`RecvError`].
pub struct Sender<T> {
    /// `None` only inside `send`, after the value is handed over.
    shared: Option<Arc<Shared<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value, waking the receiver if it waits. Never waits
    /// itself (core.async `>!`/`offer!` on a channel that always has room
    /// for its one value).
    ///
    /// # Errors
    ///
    /// If the receiver is dropped or [closed](Receiver::close), the value
    /// comes back as `Err(value)`. A successful send means the value now
    /// belongs to the receiver: it will be received, or dropped with the
    /// receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = parkway_channels::oneshot();
    /// tx.send("hi").unwrap();
    /// assert_eq!(rx.recv_blocking(), Ok("hi"));
    ///
    /// let (tx, rx) = parkway_channels::oneshot();
    /// drop(rx);
    /// assert_eq!(tx.send(String::from("lost?")), Err(String::from("lost?")));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(shared) = self.shared.take() else {
            unreachable!("a oneshot Sender owns its allocation until send");
        };
        // Relaxed: if CLOSED is set, the value never enters the cell; if
        // not, the CAS below decides.
        let mut state = shared.state.load(Ordering::Relaxed);
        if state & CLOSED != 0 {
            return Err(value);
        }
        shared.value.with_mut(|p| {
            // SAFETY: VALUE_SENT is not set (only this sender sets it, once),
            // so the receiver does not touch the cell; we are its only user.
            unsafe { (*p).write(value) };
        });
        loop {
            if state & CLOSED != 0 {
                // The receiver closed before we published: the value is
                // still ours.
                let value = shared.value.with_mut(|p| {
                    // SAFETY: written just above and VALUE_SENT not set, so
                    // the receiver never read nor dropped it; moving it out
                    // leaves the cell logically uninitialized, and nobody
                    // else will read it (VALUE_SENT stays clear).
                    unsafe { (*p).assume_init_read() }
                });
                return Err(value);
            }
            // Release publishes the value; Acquire makes the receiver's
            // waker (published by its Release when it set RX_WAKER_SET)
            // visible to us.
            match shared.state.compare_exchange_weak(
                state,
                state | VALUE_SENT,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        if state & RX_WAKER_SET != 0 {
            // SAFETY: our AcqRel CAS set VALUE_SENT and saw RX_WAKER_SET.
            unsafe { shared.wake_rx() };
        }
        Ok(())
    }

    /// Whether the receiver is dropped or [closed](Receiver::close): a
    /// send now would fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = parkway_channels::oneshot::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        match &self.shared {
            Some(shared) => shared.state.load(Ordering::Acquire) & CLOSED != 0,
            None => true,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            // Acquire: to read the waker the receiver published. No Release
            // needed: the receiver reads nothing we wrote.
            let prev = shared.state.fetch_or(TX_DROPPED, Ordering::Acquire);
            if prev & (RX_WAKER_SET | CLOSED) == RX_WAKER_SET {
                // SAFETY: our Acquire RMW set TX_DROPPED and saw
                // RX_WAKER_SET.
                unsafe { shared.wake_rx() };
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .shared
            .as_ref()
            .map(|s| StateBits(s.state.load(Ordering::Relaxed)));
        f.debug_struct("oneshot::Sender")
            .field("state", &state)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------

/// The receiving half of a one-shot channel; made by
/// [`oneshot()`](crate::oneshot()). Await it (it is a [`Future`]) or call
/// [`recv_blocking`](Receiver::recv_blocking) or
/// [`try_recv`](Receiver::try_recv).
///
/// It is not a [`chan::Receiver`](crate::Receiver) and does not take part in
/// [`alt!`](crate::alt!) or [`Select`](crate::Select); see the
/// [module documentation](self) for how to bridge it.
///
/// A receiver gives one outcome: the value, or an error saying none will
/// come. Once it has (through `.await`, `try_recv` or `recv_blocking`), it
/// is *spent*: it has let go of the shared allocation, `try_recv` returns
/// [`TryRecvError::Closed`] and polling it again panics.
///
/// # Cancel safety
///
/// Dropping the receiver (or a future that owns it) before it completes
/// closes the channel: a value already sent is dropped with it, and a later
/// send fails and hands its value back.
pub struct Receiver<T> {
    /// `None` once the receiver is spent.
    shared: Option<Arc<Shared<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the outcome decided in `state` (which is complete and was read
    /// with Acquire) and lets go of the allocation.
    fn finish(&mut self, state: usize) -> Result<T, RecvError> {
        debug_assert!(is_complete(state));
        let Some(shared) = self.shared.take() else {
            unreachable!("finish is only called on a live receiver");
        };
        if state & VALUE_SENT != 0 {
            let value = shared.value.with_mut(|p| {
                // SAFETY: VALUE_SENT is set, so the sender wrote the value
                // before its Release CAS, which our Acquire read of `state`
                // synchronized with; the value is ours alone, and we take it
                // once (the handle is gone, so neither `finish` nor `Drop`
                // will see it again).
                unsafe { (*p).assume_init_read() }
            });
            Ok(value)
        } else {
            Err(RecvError)
        }
    }

    /// Takes the value if it is there now (core.async `poll!`).
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if no value was sent yet and the sender is
    /// still there; [`TryRecvError::Closed`] if the sender was dropped
    /// without sending, the receiver was [closed](Receiver::close) without
    /// a value, or the receiver is spent (its outcome was already taken).
    /// Only `Empty` leaves the receiver live.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_channels::oneshot::TryRecvError;
    ///
    /// let (tx, mut rx) = parkway_channels::oneshot();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed)); // spent
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(shared) = &self.shared else {
            return Err(TryRecvError::Closed);
        };
        let state = shared.state.load(Ordering::Acquire);
        if !is_complete(state) {
            return Err(TryRecvError::Empty);
        }
        self.finish(state).map_err(|RecvError| TryRecvError::Closed)
    }

    /// Waits for the value, blocking the thread (core.async `<!!`).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is dropped without sending, the receiver
    /// was [closed](Receiver::close) without a value, or it is spent.
    ///
    /// # Panics
    ///
    /// On a go worker with go-check in `Warn` or `Strict` mode (it would
    /// block the worker). Use `.await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = parkway_channels::oneshot();
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(5));
    ///
    /// let (tx, rx) = parkway_channels::oneshot::<i32>();
    /// drop(tx);
    /// assert!(rx.recv_blocking().is_err());
    /// ```
    #[track_caller]
    pub fn recv_blocking(mut self) -> Result<T, RecvError> {
        check_blocking("recv_blocking");
        let Some(shared) = &self.shared else {
            return Err(RecvError);
        };
        let mut state = shared.state.load(Ordering::Acquire);
        if !is_complete(state) {
            state = shared.register(state, RxWaker::Thread(current_thread()));
            while !is_complete(state) {
                // Spurious wake-ups (and a stale unpark token) just loop.
                park();
                state = shared.state.load(Ordering::Acquire);
            }
        }
        self.finish(state)
    }

    /// Closes the channel from the receiving side: the sender sees
    /// [`is_closed`](Sender::is_closed) and a later send fails with its
    /// value. A value sent before the close can still be received (with
    /// `try_recv`, `.await` or `recv_blocking`); otherwise those return
    /// their "closed" error at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = parkway_channels::oneshot();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.send(1), Err(1));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&mut self) {
        if let Some(shared) = &self.shared {
            // Relaxed: the sender, seeing CLOSED, only reads back its own
            // value; we read nothing it wrote until a later Acquire load.
            shared.state.fetch_or(CLOSED, Ordering::Relaxed);
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// Completes with the value, or with [`RecvError`] if the sender is
    /// dropped without sending or the receiver was closed without a value.
    ///
    /// Spends one unit of the cooperative budget per poll: when it is
    /// spent, it wakes the task and returns `Pending`, so a loop over ready
    /// one-shots cannot starve a worker.
    ///
    /// # Panics
    ///
    /// If polled after it completed (or after `try_recv` took the outcome).
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(shared) = &this.shared else {
            panic!("`oneshot::Receiver` polled after it completed (its value or error was already taken)");
        };
        if !budget::try_spend() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut state = shared.state.load(Ordering::Acquire);
        if !is_complete(state) {
            if state & RX_WAKER_SET != 0 {
                let same = shared.rx_waker.with(|p| {
                    // SAFETY: RX_WAKER_SET is set and only the receiver (us)
                    // clears it, so nobody writes the cell; the sender may
                    // read it too, which shared reads allow.
                    match unsafe { &*p } {
                        RxWaker::Task(w) => w.will_wake(cx.waker()),
                        RxWaker::Thread(_) => false,
                    }
                });
                if same {
                    return Poll::Pending;
                }
            }
            state = shared.register(state, RxWaker::Task(cx.waker().clone()));
            if !is_complete(state) {
                return Poll::Pending;
            }
        }
        Poll::Ready(this.finish(state))
    }
}

/// `is_terminated` is true once the receiver is spent: polling it again
/// would panic.
impl<T> FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.shared.is_none()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            // Acquire: if the value was sent, we are about to drop it.
            let prev = shared.state.fetch_or(CLOSED, Ordering::Acquire);
            if prev & VALUE_SENT != 0 {
                shared.value.with_mut(|p| {
                    // SAFETY: VALUE_SENT is set and our handle is live, so
                    // the value was published to us (Acquire) and not yet
                    // taken (`finish` gives the handle up when it takes it);
                    // nobody else will touch it.
                    unsafe { (*p).assume_init_drop() }
                });
            }
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .shared
            .as_ref()
            .map(|s| StateBits(s.state.load(Ordering::Relaxed)));
        f.debug_struct("oneshot::Receiver")
            .field("state", &state)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// No value will come: the [`Sender`] was dropped without sending, or the
/// [`Receiver`] was closed (or spent) without one.
///
/// The output error of awaiting a [`Receiver`] and of
/// [`Receiver::recv_blocking`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "oneshot channel closed without a value (the sender was dropped without sending)",
        )
    }
}

impl Error for RecvError {}

/// Why [`Receiver::try_recv`] (core.async `poll!`) returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// No value yet; the sender is still there.
    Empty,
    /// No value will come: the sender was dropped without sending, the
    /// receiver was closed without one, or its outcome was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no value sent on the oneshot channel yet"),
            Self::Closed => f.write_str("oneshot channel closed without a value"),
        }
    }
}

impl Error for TryRecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The shared allocation stays small: it is what an idle task waiting
    /// on a reply costs.
    #[test]
    fn allocation_size() {
        let word = mem::size_of::<usize>();
        // state + waker (two words; a `Thread` fits in the same space)
        assert_eq!(mem::size_of::<Shared<()>>(), 3 * word);
        assert_eq!(mem::size_of::<Shared<u64>>(), 4 * word);
        // Handles are one pointer.
        assert_eq!(mem::size_of::<Sender<()>>(), word);
        assert_eq!(mem::size_of::<Receiver<()>>(), word);
    }
}
