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
    /// allocate one each time).
    static WAKER: RefCell<Option<(Arc<ThreadWaker>, Waker)>> = const { RefCell::new(None) };
}

/// The calling thread's waker and its flag.
fn thread_waker() -> (Arc<ThreadWaker>, Waker) {
    let make = || {
        let tw = Arc::new(ThreadWaker {
            thread: thread::current(),
            notified: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&tw));
        (tw, waker)
    };
    WAKER
        .try_with(|w| w.borrow_mut().get_or_insert_with(make).clone())
        .unwrap_or_else(|_| make())
}

/// Polls `future` on this thread until it is ready, sleeping in between.
/// The caller has checked that this thread is not a go worker.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let (tw, waker) = thread_waker();
    let mut cx = Context::from_waker(&waker);
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
        while !tw.notified.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
}
