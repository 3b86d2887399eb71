//! `Idle`: which workers sleep, how many search for work, and whom to wake.
//!
//! One atomic word counts the workers that are awake (`unparked`) and those
//! of them searching for work to steal (`searching`); a mutex-guarded list
//! names the sleepers. The protocol that keeps wake-ups from being lost:
//!
//! - whoever makes work stealable (a push to the injector or to a local
//!   queue) then reads the word with a SeqCst read-modify-write; if nobody
//!   searches and someone sleeps, it wakes one sleeper, which starts out
//!   searching;
//! - a worker going to sleep first registers (decrements `unparked`, and
//!   `searching` if it searched) with a SeqCst read-modify-write, then, if
//!   it was the last searcher, looks at every queue once more and wakes a
//!   sleeper (possibly itself) if it finds work.
//!
//! Either the pusher sees the sleeper registered, or the last searcher's
//! second look sees the push. At most about half the workers search at
//! once (a check, then an increment: racing workers can overshoot, which
//! costs CPU, never a wake-up), so a burst of wake-ups does not turn into
//! every core spinning on steals.
//!
//! Items are `pub` so the loom build can export this file alone
//! (`parkway::loom_sched`, modelled in `tests/loom_idle.rs`); the module
//! itself is crate-private.
#![allow(unreachable_pub, reason = "pub only for the loom build's export")]

use crate::sync::{AtomicUsize, Mutex, Ordering};

/// Bits of the word holding `unparked`; `searching` is above them.
const UNPARKED_BITS: usize = 16;
/// One searching worker.
const SEARCHING_ONE: usize = 1 << UNPARKED_BITS;
/// Mask of `unparked`.
const UNPARKED_MASK: usize = SEARCHING_ONE - 1;

/// The sleep/search bookkeeping of one runtime.
#[derive(Debug)]
pub struct Idle {
    /// `searching << UNPARKED_BITS | unparked`.
    state: AtomicUsize,
    /// Workers asleep, by index.
    sleepers: Mutex<Vec<usize>>,
    /// Workers in the pool.
    num_workers: usize,
}

impl Idle {
    /// All `num_workers` awake, none searching.
    pub fn new(num_workers: usize) -> Idle {
        assert!(num_workers < UNPARKED_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Whether new work should wake a sleeper: nobody searches and someone
    /// sleeps. The SeqCst read-modify-write orders it after the caller's
    /// push (see the module doc).
    fn should_wake(&self) -> bool {
        let s = self.state.fetch_add(0, Ordering::SeqCst);
        s >> UNPARKED_BITS == 0 && (s & UNPARKED_MASK) < self.num_workers
    }

    /// Picks a sleeper to wake for new work, counting it as awake and
    /// searching; `None` when none should be woken.
    pub fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_wake() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(SEARCHING_ONE + 1, Ordering::SeqCst);
        Some(worker)
    }

    /// Registers `worker` as asleep. Returns whether it was the last
    /// searcher, in which case it must look for work once more.
    #[cfg_attr(
        not(loom),
        expect(
            dead_code,
            reason = "workers use the try_ form; the loom models this one"
        )
    )]
    pub fn transition_worker_to_parked(&self, worker: usize, searching: bool) -> bool {
        self.try_transition_worker_to_parked(worker, searching, || true)
            .unwrap_or(false)
    }

    /// As [`transition_worker_to_parked`](Idle::transition_worker_to_parked),
    /// if `may_park()`, asked under the sleepers' lock, says yes; `None`
    /// (nothing changed) otherwise. A worker whose slot was handed to
    /// another thread must not register: the hand-off checks, under the
    /// same lock ([`hand_off`](Idle::hand_off)), that the stalled worker
    /// is not asleep, so every registered sleeper owns an active slot and
    /// at most `num_workers` ever sleep.
    pub fn try_transition_worker_to_parked(
        &self,
        worker: usize,
        searching: bool,
        may_park: impl FnOnce() -> bool,
    ) -> Option<bool> {
        let mut sleepers = self.sleepers.lock();
        if !may_park() {
            return None;
        }
        let dec = 1 + if searching { SEARCHING_ONE } else { 0 };
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        Some(searching && prev >> UNPARKED_BITS == 1)
    }

    /// The stall hand-off: unless `worker` is asleep, runs `commit` under
    /// the sleepers' lock and returns what it returned. `commit` checks the
    /// worker is still stuck and, if so, marks its slot as handed over; as
    /// every hand-off commits under this lock, two cannot both take the
    /// same slot. The thread taking over counts as awake in place of the
    /// stalled one, so the counts do not change.
    pub fn hand_off(&self, worker: usize, commit: impl FnOnce() -> bool) -> bool {
        let sleepers = self.sleepers.lock();
        if sleepers.contains(&worker) {
            return false;
        }
        commit()
    }

    /// Tries to start searching; refused when half the workers already do.
    pub fn transition_worker_to_searching(&self) -> bool {
        let s = self.state.load(Ordering::SeqCst);
        if 2 * (s >> UNPARKED_BITS) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(SEARCHING_ONE, Ordering::SeqCst);
        true
    }

    /// Stops searching (work was found). Returns whether this was the last
    /// searcher, in which case the caller wakes another worker, since more
    /// work may be waiting.
    pub fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(SEARCHING_ONE, Ordering::SeqCst);
        prev >> UNPARKED_BITS == 1
    }

    /// Workers asleep now (a moment's count).
    pub fn num_sleeping(&self) -> usize {
        self.sleepers.lock().len()
    }
}
