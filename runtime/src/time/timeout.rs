//! core.async's `timeout` channel, and `with_timeout` for a future.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::chan;
use crate::time::{driver, sleep, Sleep};

/// A channel that closes once `duration` has passed (core.async's
/// `timeout`): a `recv` on it, or its `recv` branch in [`alt!`](crate::alt),
/// is ready with `None` at the deadline and never before.
///
/// Every call makes its own channel (core.async shares one per 10 ms window,
/// which can run a busy service into its limit of 1024 pending takes per
/// channel). No value is ever sent on it. Pending timeout channels also
/// close when their runtime shuts down: the one case where they close
/// early.
///
/// The timer (with the channel it closes) stays registered until its
/// deadline even if the receiver is dropped first. In a hot loop with long
/// deadlines, create one timeout per request and reuse it across that
/// request's `alt!`s, or use [`with_timeout`], whose timer is freed as soon
/// as it is dropped.
///
/// # Panics
///
/// Outside a runtime (call it in a go block or inside `block_on`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use parkway::chan;
///
/// let rt = parkway::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (_tx, rx) = chan::bounded::<u32>(1); // nobody ever sends
///     let t = parkway::timeout(Duration::from_millis(10));
///     let got = parkway::alt! {
///         recv(rx) -> v => v,
///         recv(t) -> _ => None,
///     };
///     assert_eq!(got, None);
/// });
/// ```
#[track_caller]
pub fn timeout(duration: Duration) -> chan::Receiver<()> {
    let handle = super::timer_handle("timeout");
    let (tx, rx) = chan::unbuffered::<()>();
    let deadline = super::deadline_after(duration);
    if duration.is_zero() {
        tx.close();
        return rx;
    }
    let waker = Waker::from(Arc::new(CloseOnWake(tx)));
    // After shutdown the waker is dropped unregistered, and with it the
    // only sender: the channel closes.
    let _ = driver::register(&handle.shared, deadline, waker);
    rx
}

/// A timer waker that closes a `timeout` channel.
struct CloseOnWake(chan::Sender<()>);

impl Wake for CloseOnWake {
    fn wake(self: Arc<Self>) {
        self.0.close();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.close();
    }
}

/// Runs `future`, giving up once `duration` has passed: `Ok(output)` if it
/// finished first, `Err(Elapsed)` otherwise (the future is then dropped
/// with the returned future).
///
/// # Panics
///
/// Outside a runtime (as [`sleep`](fn@crate::sleep)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = parkway::Runtime::new().unwrap();
/// rt.block_on(async {
///     let slow = parkway::sleep(Duration::from_secs(60));
///     assert!(parkway::with_timeout(Duration::from_millis(5), slow).await.is_err());
///     let fast = async { 7 };
///     assert_eq!(parkway::with_timeout(Duration::from_secs(5), fast).await, Ok(7));
/// });
/// ```
#[track_caller]
pub fn with_timeout<F: Future>(duration: Duration, future: F) -> WithTimeout<F> {
    WithTimeout {
        future,
        sleep: sleep(duration),
    }
}

/// The future of [`with_timeout`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WithTimeout<F> {
    /// The future being raced; structurally pinned.
    future: F,
    /// The deadline.
    sleep: Sleep,
}

impl<F: Future> Future for WithTimeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is pinned structurally (never moved out, no
        // `Unpin`-dependent `Drop`); `sleep` is `Unpin` and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above: `future` stays in place inside the pinned self.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for WithTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithTimeout")
            .field("sleep", &self.sleep)
            .finish_non_exhaustive()
    }
}

/// The error of [`with_timeout`]: the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
