//! Channels with core.async's buffer policies and operations, and a
//! lock-free fast path.
//!
//! A channel is a queue between go blocks (async tasks), threads and
//! callbacks. Its buffer policy says what a send does when the buffer is
//! full: [`bounded`] parks the sender, [`dropping`] discards the new value,
//! [`sliding`] discards the oldest one, [`unbuffered`] hands every value
//! from a sender straight to a receiver, and [`promise`] keeps its first
//! value and gives a clone to every receiver, forever. Every operation
//! comes in four flavours, as in core.async:
//!
//! | core.async | parkway | waits by |
//! |---|---|---|
//! | `>!` / `<!` | [`Sender::send`]`.await` / [`Receiver::recv`]`.await` | parking the task |
//! | `>!!` / `<!!` | [`Sender::send_blocking`] / [`Receiver::recv_blocking`] | blocking the thread |
//! | `put!` / `take!` | [`Sender::put`] / [`Receiver::take`] | calling back |
//! | `offer!` / `poll!` | [`Sender::try_send`] / [`Receiver::try_recv`] | not waiting |
//! | `alts!` / `alt!` | [`Select`], [`alt!`] / [`alt_blocking!`] | any of the above |
//!
//! The crate knows no executor: futures use plain [`std::task::Waker`]s,
//! so they work on parkway's go pool, on tokio or on a hand-rolled
//! `block_on`. What it needs from a runtime (is this thread a go worker?
//! should this task yield?) it asks `parkway-go-check`.
//!
//! For a single reply from one place to one waiter, [`oneshot()`] is a
//! smaller, dedicated channel: its receiver is a [`Future`](std::future::Future)
//! rather than a [`Receiver`], so it does not take part in [`alt!`] (see the
//! [`oneshot`](mod@oneshot) module for when to use it instead of
//! [`promise`] or `bounded(1)`).
//!
//! # Transform channels
//!
//! [`with_transform`] is core.async's `(chan buf xform)`: every value put
//! goes through a [`Transform`](transform::Transform) (a transducer:
//! [`map`](transform::map), [`filter`](transform::filter),
//! [`partition_all`](transform::partition_all), … joined with
//! [`then`](transform::Transform::then)) that turns it into zero or more
//! values for the buffer, may end the channel early, and may flush last
//! values when it closes. The sending side is a [`TransformSender`], the
//! receiving side a plain [`Receiver`]. See the [`transform`] module.
//!
//! # Closing
//!
//! [`close`](Sender::close) (from either side, or dropping the last
//! [`Sender`]) stops new sends. Values already buffered, and the values of
//! senders already parked, are still delivered; then receivers get `None`.
//! When every [`Receiver`] is gone, sends fail and hand their values back.
//! A value is always delivered, handed back in an error, or discarded by a
//! dropping, sliding or promise policy you chose.
//!
//! # Examples
//!
//! ```
//! use std::thread;
//!
//! let (tx, rx) = parkway_channels::bounded(16);
//! let producers: Vec<_> = (0..4)
//!     .map(|p| {
//!         let tx = tx.clone();
//!         thread::spawn(move || {
//!             for i in 0..100 {
//!                 tx.send_blocking(p * 1000 + i).unwrap();
//!             }
//!         })
//!     })
//!     .collect();
//! drop(tx); // the channel closes when the producers' clones are gone
//! let mut n = 0;
//! while let Some(_v) = rx.recv_blocking() {
//!     n += 1;
//! }
//! assert_eq!(n, 400);
//! for p in producers {
//!     p.join().unwrap();
//! }
//! ```

mod buffer;
mod chan;
mod destination;
mod error;
#[doc(hidden)]
pub mod macros;
pub mod oneshot;
mod receiver;
mod select;
mod sender;
mod sync;
pub mod transform;
mod waiter;

pub use destination::Destination;
pub use error::{PutError, SendError, TakeError, TryRecvError, TrySendError};
pub use receiver::{Receiver, RecvFuture};
pub use select::{Select, SelectFuture};
pub use sender::{SendFuture, Sender};
pub use transform::{
    with_transform, with_transform_and_handler, TransformSendFuture, TransformSender,
};

#[cfg(loom)]
#[doc(hidden)]
pub use buffer::ring::Ring as LoomRing;

use buffer::promise::PromiseCell;
use buffer::ring::Ring;
use buffer::Buffer;
use chan::Chan;
use sync::Arc;

/// Pending `put` callbacks allowed per channel, and separately pending
/// `take` callbacks, as in core.async. Parked futures, blocked threads and
/// select registrations do not count.
pub const MAX_PENDING: usize = 1024;

fn channel<T>(buf: Buffer<T>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(buf));
    (Sender { chan: chan.clone() }, Receiver::new(chan))
}

/// An unbuffered (rendezvous) channel, core.async's `(chan)`: a send
/// completes when a receiver takes the value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = parkway_channels::unbuffered();
/// assert!(tx.try_send(1).is_err()); // nobody is there to take it
/// let t = std::thread::spawn(move || rx.recv_blocking());
/// tx.send_blocking(1).unwrap();
/// assert_eq!(t.join().unwrap(), Some(1));
/// ```
pub fn unbuffered<T>() -> (Sender<T>, Receiver<T>) {
    channel(Buffer::Rendezvous)
}

/// A channel with a fixed buffer of `cap` values, core.async's
/// `(chan n)`: senders park while it is full. `bounded(0)` is
/// [`unbuffered`].
///
/// The buffer is allocated up front but not touched: the pages of a large
/// buffer are faulted in as values reach them.
///
/// # Examples
///
/// ```
/// let (tx, rx) = parkway_channels::bounded(2);
/// tx.try_send('a').unwrap();
/// tx.try_send('b').unwrap();
/// assert!(tx.try_send('c').is_err()); // full
/// assert_eq!(rx.try_recv(), Ok('a'));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    if cap == 0 {
        unbuffered()
    } else {
        channel(Buffer::Fixed(Ring::new(cap)))
    }
}

/// A channel whose full buffer discards the value being sent, core.async's
/// `(chan (dropping-buffer n))`. Sends never park.
///
/// # Panics
///
/// If `cap` is 0: a dropping buffer with no room would discard every value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = parkway_channels::dropping(2);
/// for i in 0..5 {
///     tx.try_send(i).unwrap(); // always succeeds
/// }
/// assert_eq!(rx.try_recv(), Ok(0));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert!(rx.try_recv().is_err()); // 2, 3 and 4 were dropped
/// ```
pub fn dropping<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(cap > 0, "parkway: dropping(0) would discard every value; a dropping buffer needs a capacity of at least 1");
    channel(Buffer::Dropping(Ring::new(cap)))
}

/// A channel whose full buffer discards its oldest value to make room,
/// core.async's `(chan (sliding-buffer n))`. Sends never park.
///
/// # Panics
///
/// If `cap` is 0: a sliding buffer with no room would discard every value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = parkway_channels::sliding(2);
/// for i in 0..5 {
///     tx.try_send(i).unwrap(); // always succeeds
/// }
/// assert_eq!(rx.try_recv(), Ok(3));
/// assert_eq!(rx.try_recv(), Ok(4));
/// ```
pub fn sliding<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(cap > 0, "parkway: sliding(0) would discard every value; a sliding buffer needs a capacity of at least 1");
    channel(Buffer::Sliding(Ring::new(cap)))
}

/// A promise channel, core.async's `promise-chan`: the first value sent is
/// kept, and every receive, now or later, gets a clone of it. Later sends
/// succeed and are discarded. Closed before any value, it gives `None`
/// forever; closed after, it keeps giving the value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = parkway_channels::promise();
/// tx.try_send(String::from("done")).unwrap();
/// tx.try_send(String::from("ignored")).unwrap();
/// assert_eq!(rx.try_recv().as_deref(), Ok("done"));
/// assert_eq!(rx.recv_blocking().as_deref(), Some("done"));
/// ```
pub fn promise<T: Clone>() -> (Sender<T>, Receiver<T>) {
    channel(Buffer::Promise(PromiseCell::new(T::clone)))
}

/// A one-shot channel: one value from one [`oneshot::Sender`] to one
/// [`oneshot::Receiver`], in a single small allocation. The receiver is a
/// [`Future`](std::future::Future) (and has `recv_blocking` and
/// `try_recv`); it is not a [`Receiver`] and does not take part in
/// [`alt!`] or [`Select`]. See the [`oneshot`](mod@oneshot) module for when
/// to prefer it to [`promise`] or [`bounded`]`(1)`.
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
/// use parkway_channels::oneshot;
///
/// let (tx, rx) = parkway_channels::oneshot();
/// std::thread::spawn(move || tx.send(String::from("pong")).unwrap());
/// assert_eq!(block_on(rx).as_deref(), Ok("pong"));
///
/// // A sender dropped without sending: the receiver learns no value comes.
/// let (tx, rx) = parkway_channels::oneshot::<u32>();
/// drop(tx);
/// assert_eq!(block_on(rx), Err(oneshot::RecvError));
/// ```
pub fn oneshot<T>() -> (oneshot::Sender<T>, oneshot::Receiver<T>) {
    oneshot::channel()
}
