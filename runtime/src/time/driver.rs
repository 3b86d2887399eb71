//! `TimeDriver`: the runtime's timing wheel behind a lock, its clock, and
//! the handshake with the worker that sleeps on its behalf.
//!
//! Time is counted in whole milliseconds since the runtime started. A
//! deadline is rounded up to the next millisecond and the current time down,
//! so a timer never fires before its deadline (it may fire up to about a
//! millisecond late, plus scheduling delay).
//!
//! The first worker to go to sleep becomes the driver's owner: it sleeps
//! only until the next deadline, then fires what is due. Inserting a timer
//! earlier than the owner's wake-up time unparks the owner so it sleeps
//! less. Every worker also fires due timers, without blocking, every
//! `EVENT_INTERVAL` ticks and before it sleeps.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::executor::park::Parker;
use crate::executor::Shared;
use crate::time::wheel::{TimerKey, Wheel};

/// The wheel and who sleeps on its behalf; under the driver's lock.
#[derive(Debug)]
struct Inner {
    /// The timers.
    wheel: Wheel,
    /// The owning worker's index and the tick it sleeps until (`u64::MAX`
    /// for no deadline), while it sleeps.
    owner_sleep: Option<(usize, u64)>,
    /// Set at shutdown: new timers fire at once.
    shut_down: bool,
}

/// The timers of one runtime.
#[derive(Debug)]
pub(crate) struct TimeDriver {
    /// Tick 0.
    start: Instant,
    /// The wheel, under a lock.
    inner: Mutex<Inner>,
    /// The earliest pending deadline (`u64::MAX` if none): lets the
    /// periodic check skip the lock when nothing is due.
    next_due: AtomicU64,
    /// Whether some sleeping worker owns the driver.
    owned: AtomicBool,
}

/// Timers fired (or cascaded) per hold of the driver's lock: a million
/// timers due at once are fired in steps, so a poll that needs the lock
/// (registering or polling a `sleep`) waits for one step, not for all.
const FIRE_BATCH: usize = 1024;

impl TimeDriver {
    /// A driver whose tick 0 is now.
    pub(crate) fn new() -> TimeDriver {
        TimeDriver {
            start: Instant::now(),
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                owner_sleep: None,
                shut_down: false,
            }),
            next_due: AtomicU64::new(u64::MAX),
            owned: AtomicBool::new(false),
        }
    }

    /// The current tick (milliseconds since start, rounded down).
    fn now_tick(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The tick of `deadline`, rounded up, so firing at it is never early.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        let nanos = since.as_nanos();
        let ms = nanos.div_ceil(1_000_000);
        u64::try_from(ms).unwrap_or(u64::MAX - 1).min(u64::MAX - 1)
    }

    /// The instant of tick `tick`.
    fn tick_instant(&self, tick: u64) -> Option<Instant> {
        self.start.checked_add(Duration::from_millis(tick))
    }

    /// Registers `waker` for `deadline`. Returns the key and, if the
    /// sleeping owner must wake earlier, its worker index (the caller
    /// unparks it: see [`register`]). `None` for the key means the runtime
    /// shut down.
    fn insert(&self, deadline: Instant, waker: Waker) -> (Option<TimerKey>, Option<usize>) {
        let tick = self.deadline_tick(deadline);
        let mut inner = self.inner.lock();
        if inner.shut_down {
            return (None, None);
        }
        let key = inner.wheel.insert(tick, waker);
        self.next_due.fetch_min(tick, Ordering::AcqRel);
        let unpark = match inner.owner_sleep {
            Some((worker, until)) if tick < until => {
                // Tell it once: it will recompute its wake-up time.
                inner.owner_sleep = Some((worker, tick));
                Some(worker)
            }
            _ => None,
        };
        (Some(key), unpark)
    }

    /// Removes a timer (a dropped sleep). Returns whether it was pending.
    pub(crate) fn remove(&self, key: TimerKey) -> bool {
        let waker = self.inner.lock().wheel.take(key);
        // Dropped after unlocking: a waker's drop is user code.
        waker.is_some()
    }

    /// Whether the timer is still pending; if so, makes `waker` the one it
    /// wakes. Wakers are cloned and dropped outside the lock.
    pub(crate) fn poll_pending(&self, key: TimerKey, waker: &Waker) -> bool {
        match self.inner.lock().wheel.waker(key) {
            None => return false,
            Some(current) if current.will_wake(waker) => return true,
            Some(_) => {}
        }
        let new = waker.clone();
        let replaced = self.inner.lock().wheel.replace_waker(key, new);
        // The old waker (or the unused new one) is dropped here, unlocked.
        replaced.is_ok()
    }

    /// Pending timers.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().wheel.len()
    }

    /// Fires every due timer, if nobody else is at it; wakers run after the
    /// lock is released.
    pub(crate) fn fire_due(&self, shared: &Shared) {
        let now = self.now_tick();
        if now < self.next_due.load(Ordering::Acquire) {
            return;
        }
        // Skipped when another thread holds the lock (a firing one goes on;
        // a registering one lets go at once, and the deadline published
        // stays "due" until all is fired, so the next look fires the rest).
        let Some(mut inner) = self.inner.try_lock() else {
            return;
        };
        let mut fired = Vec::new();
        loop {
            let done = self.advance_locked(&mut inner, now, &mut fired);
            drop(inner);
            wake_batch(std::mem::take(&mut fired), shared);
            if done {
                return;
            }
            // Having started, finish: wait for the lock (held for at most a
            // step, or a registration), as the tasks just woken may take it
            // to poll their sleeps.
            inner = self.inner.lock();
        }
    }

    /// Advances the wheel toward `now` by at most [`FIRE_BATCH`] entries and
    /// republishes the next deadline; returns whether it reached `now`.
    fn advance_locked(&self, inner: &mut Inner, now: u64, fired: &mut Vec<Waker>) -> bool {
        let done = inner.wheel.advance_bounded(now, fired, FIRE_BATCH);
        let next = inner.wheel.next_deadline().unwrap_or(u64::MAX);
        self.next_due.store(next, Ordering::Release);
        done
    }

    /// Sleeps on `parker` as the driver's owner, until the next deadline or
    /// an unpark, and fires what is due. Returns false at once, without
    /// sleeping, if another worker owns the driver.
    pub(crate) fn park_owner(&self, worker: usize, parker: &Parker, shared: &Shared) -> bool {
        if self.owned.swap(true, Ordering::Acquire) {
            return false;
        }
        let mut fired = Vec::new();
        let (done, wake_at) = {
            let mut inner = self.inner.lock();
            let now = self.now_tick();
            let done = self.advance_locked(&mut inner, now, &mut fired);
            let until = inner.wheel.next_deadline().unwrap_or(u64::MAX);
            inner.owner_sleep = Some((worker, until));
            (done, until)
        };
        // Tasks due now run at once, on other workers, while this one goes
        // on firing or sleeps.
        let had_work = !fired.is_empty();
        wake_batch(std::mem::take(&mut fired), shared);
        if done && !had_work {
            match (wake_at != u64::MAX)
                .then(|| self.tick_instant(wake_at))
                .flatten()
            {
                Some(at) => parker.park_until(at),
                None => parker.park(),
            }
        }
        let now = self.now_tick();
        {
            let mut inner = self.inner.lock();
            inner.owner_sleep = None;
        }
        // Fire what is due, a batch per lock hold, waking each batch at
        // once so other workers run those tasks meanwhile.
        loop {
            let done = {
                let mut inner = self.inner.lock();
                self.advance_locked(&mut inner, now, &mut fired)
            };
            wake_batch(std::mem::take(&mut fired), shared);
            if done {
                break;
            }
        }
        self.owned.store(false, Ordering::Release);
        true
    }

    /// At runtime shutdown: fires every remaining timer (closing pending
    /// `timeout` channels) and makes later registrations fire at once.
    pub(crate) fn shutdown(&self) {
        let mut all = Vec::new();
        {
            let mut inner = self.inner.lock();
            inner.shut_down = true;
            inner.wheel.drain(&mut all);
            self.next_due.store(u64::MAX, Ordering::Release);
        }
        wake_all(all);
    }
}

/// Registers `waker` for `deadline` on `shared`'s driver, unparking the
/// driver's owner if it must wake earlier. `None` once the runtime shut
/// down.
pub(crate) fn register(shared: &Shared, deadline: Instant, waker: Waker) -> Option<TimerKey> {
    let (key, unpark) = shared.timer.insert(deadline, waker);
    if let Some(worker) = unpark {
        shared.unpark_worker(worker);
    }
    key
}

/// Wakes the fired timers of `shared` as one batch: sleeping workers are
/// woken once at the end rather than once per task.
fn wake_batch(wakers: Vec<Waker>, shared: &Shared) {
    if wakers.is_empty() {
        return;
    }
    if crate::context::batch_wakes(shared, || wake_all(wakers)) {
        shared.notify_parked();
    }
}

/// Wakes every waker, catching (and reporting) a panicking one so the
/// others still run.
fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        crate::task::raw::wake_reporting(move || waker.wake());
    }
}
