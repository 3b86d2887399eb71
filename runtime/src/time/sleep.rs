//! `sleep` and `sleep_until`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::driver;
use crate::time::wheel::TimerKey;
use crate::Handle;

/// Waits until `duration` has passed; never returns early.
///
/// The timer is registered when the future is first polled and removed
/// when it is dropped.
///
/// # Panics
///
/// Outside a runtime (call it in a go block or inside `block_on`).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let rt = parkway::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     parkway::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(super::deadline_after(duration))
}

/// Waits until `deadline`; never returns before it.
///
/// # Panics
///
/// Outside a runtime (call it in a go block or inside `block_on`).
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    let handle = super::timer_handle("sleep");
    Sleep {
        deadline,
        handle,
        key: None,
        elapsed: false,
    }
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    /// When it is ready.
    deadline: Instant,
    /// The runtime whose timers it uses.
    handle: Handle,
    /// The registered timer, after the first pending poll.
    key: Option<TimerKey>,
    /// Whether it has returned `Ready`.
    elapsed: bool,
}

impl Sleep {
    /// The instant this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed (returned `Ready`).
    pub fn is_elapsed(&self) -> bool {
        self.elapsed
    }

    /// Moves the deadline (earlier or later), as if the sleep had been
    /// created with `deadline`; a completed sleep becomes pending again.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel_timer();
        self.deadline = deadline;
        self.elapsed = false;
    }

    /// Removes the registered timer, if any.
    fn cancel_timer(&mut self) {
        if let Some(key) = self.key.take() {
            self.handle.shared.timer.remove(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.elapsed {
            return Poll::Ready(());
        }
        let this = &mut *self;
        match this.key {
            None => {
                if Instant::now() >= this.deadline {
                    this.elapsed = true;
                    return Poll::Ready(());
                }
                match driver::register(&this.handle.shared, this.deadline, cx.waker().clone()) {
                    Some(key) => this.key = Some(key),
                    None => shut_down_panic(),
                }
                Poll::Pending
            }
            Some(key) => {
                if this.handle.shared.timer.poll_pending(key, cx.waker()) {
                    return Poll::Pending;
                }
                this.key = None;
                if Instant::now() < this.deadline {
                    // Only shutdown drains a timer before its deadline.
                    shut_down_panic();
                }
                this.elapsed = true;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

/// A sleep polled after its runtime shut down cannot complete.
#[track_caller]
fn shut_down_panic() -> ! {
    panic!(
        "parkway::sleep polled after its runtime shut down: its timers no longer run \
         (a runtime's timers stop when the Runtime is dropped)"
    )
}
