//! Waiting parties: the [`Context`] a parked future, a blocked thread or a
//! select shares with the channels it waits on.
//!
//! A context is registered in one channel's queue per operation it waits on
//! (a plain `send`/`recv` registers one, a select one per branch). Whoever
//! completes or wakes a registration first *claims* the context with one CAS
//! on [`Context::state`]; a registration whose context was claimed through
//! another channel is dead, and channels skip it. That single CAS is what
//! makes exactly one select branch commit.

use std::task::Waker;

use crate::sync::{
    current_thread, park, spin_loop, Arc, AtomicBool, AtomicUsize, Mutex, Ordering, Thread,
};

/// [`Context::state`] value while nobody has claimed the context.
pub(crate) const WAITING: usize = 0;

/// How a context is woken.
#[derive(Debug)]
enum Unparker {
    /// A future: the waker of the last poll.
    Task(Mutex<Option<Waker>>),
    /// A blocked thread.
    Thread(Thread),
}

/// A party waiting on one or more channel operations.
///
/// State (`state`):
/// - `WAITING` (0): registered, unclaimed. Set at creation and by
///   [`Context::reset`], which only the owner calls, after removing every
///   registration of the previous round (or directly, by
///   [`Context::for_task`], on a cached context nothing else holds).
/// - `op + 1`: operation `op` was claimed, by the channel that completed a
///   send registration (its value was taken) or woke a receive
///   registration. Set once per round by [`Context::try_claim`].
///
/// `poked` is a wake-up that claims nothing (a channel whose receivers all
/// went away pokes its parked senders so they take their values back).
#[derive(Debug)]
pub(crate) struct Context {
    state: AtomicUsize,
    poked: AtomicBool,
    unparker: Unparker,
}

impl Context {
    /// A context for the current async task.
    pub(crate) fn for_task(waker: &Waker) -> Arc<Self> {
        #[cfg(not(loom))]
        if let Some(mut ctx) = TASK_CTX.try_with(|c| c.take()).ok().flatten() {
            // Nothing else holds it: reset it without atomics or locking.
            if let Some(c) = Arc::get_mut(&mut ctx) {
                *c.state.get_mut() = WAITING;
                *c.poked.get_mut() = false;
                if let Unparker::Task(slot) = &mut c.unparker {
                    *slot.get_mut() = Some(waker.clone());
                }
                return ctx;
            }
        }
        Arc::new(Self {
            state: AtomicUsize::new(WAITING),
            poked: AtomicBool::new(false),
            unparker: Unparker::Task(Mutex::new(Some(waker.clone()))),
        })
    }

    /// A context for the current thread: the thread's cached one when no
    /// channel still holds a reference to it, else a new one.
    pub(crate) fn for_thread() -> Arc<Self> {
        #[cfg(not(loom))]
        if let Some(ctx) = THREAD_CTX.try_with(|c| c.take()).ok().flatten() {
            if Arc::strong_count(&ctx) == 1 {
                ctx.reset();
                return ctx;
            }
        }
        Arc::new(Self {
            state: AtomicUsize::new(WAITING),
            poked: AtomicBool::new(false),
            unparker: Unparker::Thread(current_thread()),
        })
    }

    /// Gives a context back to this thread's cache once the operation that
    /// used it is over (nothing else holds it any more).
    pub(crate) fn recycle(ctx: Arc<Self>) {
        #[cfg(not(loom))]
        {
            let mut ctx = ctx;
            // Only a context nothing else holds is cached.
            let Some(c) = Arc::get_mut(&mut ctx) else {
                return;
            };
            match &mut c.unparker {
                Unparker::Thread(_) => {
                    let _ = THREAD_CTX.try_with(|c| c.set(Some(ctx)));
                }
                Unparker::Task(slot) => {
                    // Do not keep the task alive through a cached waker
                    // (usually gone already: `unpark` takes it).
                    let waker = slot.get_mut().take();
                    drop(waker);
                    let _ = TASK_CTX.try_with(|c| c.set(Some(ctx)));
                }
            }
        }
        #[cfg(loom)]
        drop(ctx);
    }

    /// Stores the waker of the current poll, if it changed.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        if let Unparker::Task(slot) = &self.unparker {
            let mut slot = slot.lock();
            match &*slot {
                Some(w) if w.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
    }

    /// Claims the context for operation `op`. Only one claim per round
    /// succeeds.
    #[inline]
    pub(crate) fn try_claim(&self, op: usize) -> bool {
        self.state
            .compare_exchange(WAITING, op + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The claimed operation, if any.
    #[inline]
    pub(crate) fn selected(&self) -> Option<usize> {
        match self.state.load(Ordering::Acquire) {
            WAITING => None,
            n => Some(n - 1),
        }
    }

    /// Starts a new round. The owner calls this only after every
    /// registration of the previous round is gone from every channel.
    pub(crate) fn reset(&self) {
        self.state.store(WAITING, Ordering::Release);
        self.poked.store(false, Ordering::Relaxed);
    }

    /// Wakes the owner. Call it without holding any channel lock.
    ///
    /// A task's waker is taken, not cloned: one wake-up is all a round
    /// needs, and the poll it causes stores a waker again
    /// ([`Context::set_waker`]) before it looks at the state, so a later
    /// claim or poke still finds one. Taking it saves the clone here and
    /// the drop in [`Context::recycle`] (two reference-count updates on
    /// the task per hand-off).
    pub(crate) fn unpark(&self) {
        match &self.unparker {
            Unparker::Task(slot) => {
                let waker = slot.lock().take();
                if let Some(w) = waker {
                    w.wake();
                }
            }
            Unparker::Thread(t) => t.unpark(),
        }
    }

    /// Wakes the owner without claiming anything; it re-checks its channels.
    pub(crate) fn poke(&self) {
        self.poked.store(true, Ordering::Release);
        self.unpark();
    }

    /// Takes a pending poke.
    pub(crate) fn take_poke(&self) -> bool {
        self.poked.swap(false, Ordering::AcqRel)
    }

    /// Blocks the current thread (which must own this context) until it is
    /// claimed or poked. It spins a little, then yields its time slice up to
    /// [`YIELD_LIMIT`] times, then parks: a hand-off that arrives within a
    /// few scheduler rounds costs no sleep and no futex wake (this is what
    /// makes kanal's hand-offs fast; crossbeam parks sooner).
    #[cfg_attr(
        loom,
        allow(
            clippy::reversed_empty_ranges,
            reason = "loom sets the spin and yield limits to 0"
        )
    )]
    pub(crate) fn wait_blocking(&self) {
        let done =
            || self.state.load(Ordering::Acquire) != WAITING || self.poked.load(Ordering::Acquire);
        for step in 0..SPIN_LIMIT {
            if done() {
                return;
            }
            for _ in 0..(1u32 << step) {
                spin_loop();
            }
        }
        for _ in 0..YIELD_LIMIT {
            if done() {
                return;
            }
            std::thread::yield_now();
        }
        while !done() {
            park();
        }
    }
}

/// Doubling rounds of `spin_loop` before a blocked thread starts yielding
/// (1 + 2 + 4 pauses). Kept short: a `pause` costs tens of cycles on
/// recent x86 cores, and a long spin checks the flag too rarely; measured
/// on the 2-core VM, 127 pauses before the first yield made a rendezvous
/// hand-off 5x slower than yielding at once.
#[cfg(not(loom))]
const SPIN_LIMIT: u32 = 3;
#[cfg(loom)]
const SPIN_LIMIT: u32 = 0;

/// How many times a blocking receive on an empty buffered channel looks
/// again (with a [`pause`] between) before it registers and waits: a value
/// is often a moment away, and registering makes every sender take the
/// lock to wake it.
#[cfg(not(loom))]
pub(crate) const RECV_RETRIES: u32 = 8;
#[cfg(loom)]
pub(crate) const RECV_RETRIES: u32 = 1;

/// The pause between optimistic retries: one spin hint for the first two,
/// then a yield of the time slice.
pub(crate) fn pause() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    spin_loop();
}

/// `yield_now` rounds before a blocked thread parks.
#[cfg(not(loom))]
const YIELD_LIMIT: u32 = 256;
#[cfg(loom)]
const YIELD_LIMIT: u32 = 0;

#[cfg(not(loom))]
thread_local! {
    /// The blocking-operation context of this thread, reused so a blocking
    /// send or receive that must wait does not allocate.
    static THREAD_CTX: std::cell::Cell<Option<Arc<Context>>> = const { std::cell::Cell::new(None) };
    /// The same for parking futures on this thread: a `recv().await` that
    /// must park does not allocate.
    static TASK_CTX: std::cell::Cell<Option<Arc<Context>>> = const { std::cell::Cell::new(None) };
}

/// A registration's identity in a channel queue: its context and operation.
#[derive(Debug, Clone)]
pub(crate) struct Waiter {
    pub(crate) ctx: Arc<Context>,
    pub(crate) op: usize,
}

impl Waiter {
    /// Whether this registration belongs to `ctx`'s operation `op`.
    #[inline]
    pub(crate) fn is(&self, ctx: &Arc<Context>, op: usize) -> bool {
        self.op == op && Arc::ptr_eq(&self.ctx, ctx)
    }

    /// Claims the registration's context for its operation.
    #[inline]
    pub(crate) fn try_claim(&self) -> bool {
        self.ctx.try_claim(self.op)
    }
}
