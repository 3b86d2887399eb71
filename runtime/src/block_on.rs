//! Driving one future to completion on the calling thread, which sleeps
//! (`std::thread::park`) whenever the future is pending.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use parkway_go_check::budget;

/// Wakes the thread blocked in [`block_on`].
struct ThreadWaker {
    /// The thread to unpark.
    thread: Thread,
    /// Set by a wake, consumed by the thread before it sleeps again.
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

thread_local! {
    /// The thread's waker, made once (a `block_on` per request must not
    /// allocate one each time). A `block_on` takes it out while it runs, so
    /// a nested `block_on` makes its own and cannot consume a wake-up meant
    /// for the outer one.
    static WAKER: RefCell<Option<LentWaker>> = const { RefCell::new(None) };
}

/// A thread waker lent to one `block_on`.
#[derive(Clone)]
struct LentWaker {
    /// The waker's flag and thread.
    thread_waker: Arc<ThreadWaker>,
    /// The waker.
    waker: Waker,
}

impl LentWaker {
    /// Takes the thread's cached waker, or makes one (first use, nested
    /// `block_on`, or thread-locals gone).
    fn take() -> LentWaker {
        if let Ok(Some(lent)) = WAKER.try_with(|w| w.borrow_mut().take()) {
            return lent;
        }
        let thread_waker = Arc::new(ThreadWaker {
            thread: thread::current(),
            notified: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&thread_waker));
        LentWaker {
            thread_waker,
            waker,
        }
    }

    /// Puts the waker back in the thread's cache unless another is there.
    fn give_back(self) {
        // A stale wake-up must not leak into the next `block_on`.
        self.thread_waker.notified.store(false, Ordering::Relaxed);
        let _ = WAKER.try_with(|w| {
            let mut slot = w.borrow_mut();
            if slot.is_none() {
                *slot = Some(self);
            }
        });
    }
}

/// Polls `future` on this thread until it is ready, sleeping in between.
/// The caller has checked that this thread is not a go worker.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    /// Returns the waker to the cache however `block_on` ends.
    struct GiveBack(Option<LentWaker>);
    impl Drop for GiveBack {
        fn drop(&mut self) {
            if let Some(lent) = self.0.take() {
                lent.give_back();
            }
        }
    }
    let guard = GiveBack(Some(LentWaker::take()));
    let Some(lent) = guard.0.as_ref() else {
        unreachable!("the guard holds the waker until it drops")
    };
    let tw = &lent.thread_waker;
    let mut cx = Context::from_waker(&lent.waker);
    let mut future = pin!(future);
    loop {
        {
            // The same per-poll budget a go block gets, so a loop over ready
            // channels here also yields now and then.
            let _budget = budget::enter(budget::DEFAULT);
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
        wait_for_wake(&tw.notified);
    }
}

/// Spins this many times (a `spin_loop` hint each) before sleeping: a wake
/// that comes within about a microsecond then costs no futex round trip.
const SPINS_BEFORE_PARK: u32 = 64;

/// Waits until `notified` is set, then clears it: a short spin, then
/// `thread::park` (which may also return spuriously).
fn wait_for_wake(notified: &AtomicBool) {
    for _ in 0..SPINS_BEFORE_PARK {
        // Read before swapping: a spinning swap would pull the line away
        // from the waker on every turn.
        if notified.load(Ordering::Relaxed) && notified.swap(false, Ordering::Acquire) {
            return;
        }
        std::hint::spin_loop();
    }
    while !notified.swap(false, Ordering::Acquire) {
        thread::park();
    }
}
