//! A hierarchical timing wheel with a resolution of one tick (1 ms).
//!
//! The wheel is a pure data structure: it holds no lock, reads no clock and
//! starts no thread. The timer driver wraps it in a mutex, converts
//! `Instant`s to ticks (deadlines rounded up, the current time rounded down,
//! so nothing fires early) and calls [`Wheel::advance_bounded`], waking the
//! returned wakers once the lock is released.
//!
//! # Levels and slots
//!
//! There are `LEVELS` = 6 levels of `SLOTS` = 64 slots. A slot of level
//! `k` is `64^k` ticks wide, so level 0 slots are single ticks, level 1
//! slots are 64 ticks, ... and level 5 slots are `64^5` ticks (about 12
//! days); the whole wheel spans `64^6 = 2^36` ticks (about 795 days).
//!
//! Read a tick as base-64 digits: digit `k` (bits `6k .. 6k + 6`) is the
//! slot index at level `k`. An entry whose deadline is later than the
//! wheel's current tick `now` is filed at the level of the *highest digit in
//! which its deadline differs from `now`*, in the slot named by that digit
//! of the deadline. Hence every entry of level `k` agrees with `now` on all
//! digits above `k` and has a larger digit `k`: the occupied slots of a
//! level all lie *ahead* of `now`'s own slot in that level, never behind it,
//! and the wheel never has to wrap around. (The one exception: while an
//! advance is paused inside a slot's list, see below, that list is in
//! `now`'s own slot.) An entry in a level 0 slot is due
//! exactly at the start of that slot; an entry in a level `k > 0` slot is
//! due somewhere inside the `64^k` ticks the slot spans.
//!
//! Deadlines that differ from `now` above the top level (2^36 ticks or more
//! away, counting in aligned blocks) wait in an *overflow* list, and
//! entries inserted with a deadline `<= now` wait in an *overdue* list that
//! the next advance fires whatever its target.
//!
//! # Cascading
//!
//! [`advance_bounded`](Wheel::advance_bounded) visits, in time order, the
//! slots whose start tick it reaches. At a slot it first moves `now` to the
//! slot's start, then takes the entries off the slot's list one by one:
//! entries due by `now` fire, the others are filed again relative to the
//! new `now`, which puts them at a lower level ("cascading"). The overflow
//! list is visited likewise when `now` reaches the aligned `2^36`-tick
//! block of its earliest entry. Each entry therefore moves at most once per
//! level before it fires.
//!
//! An advance visits at most a given number of entries (the driver's
//! `FIRE_BATCH`, so its lock is never held for long): when the budget runs
//! out inside a list, the wheel remembers that list (`resume`), stays at
//! its slot's start, and the next advance finishes it first;
//! [`next_deadline`](Wheel::next_deadline) says "now" meanwhile. The
//! entries of a paused list stay on it, pending and removable. The one
//! list not visited in bounded steps is the overflow list (its entries can
//! go back onto it, so it is detached whole): it is visited once per
//! `2^36` ticks, when `now` crosses into the block of its earliest entry.
//!
//! # Occupancy bitmaps
//!
//! Each level keeps a `u64` with one bit per non-empty slot. Finding the next
//! slot to visit is a mask and a `trailing_zeros` per level, so advancing
//! over an idle gap of any length (0 to 10 000 000, or to `u64::MAX`) costs
//! time proportional to the number of occupied slots visited, not to the
//! ticks elapsed. The same scan answers [`next_deadline`](Wheel::next_deadline).
//!
//! # The slab
//!
//! Entries live in a slab, a `Vec<Entry>` plus a stack of free indices, and
//! every slot, the overflow and the overdue list are intrusive doubly
//! linked lists threaded through the entries by `u32` index. Insert and
//! remove are O(1) and allocate nothing once the slab has grown; a removed
//! (cancelled) or fired entry goes back on the free stack at once, and the
//! most recently freed entry (likely still in cache) is reused first. The
//! free stack is a separate `Vec<u32>` rather than a list threaded through
//! free entries so that taking an entry does not wait on a cache miss to
//! learn the next one. A
//! [`TimerKey`] names an entry by index and generation; the generation is
//! bumped whenever the entry is freed, so a key outliving its entry is
//! recognised as stale even after the slab slot has been reused.

use std::fmt;
use std::task::Waker;

/// Number of bits of a tick consumed by one level: log2 of [`SLOTS`].
const SLOT_BITS: u32 = 6;

/// Number of slots in each level; also the ratio between the slot widths of
/// two adjacent levels.
const SLOTS: usize = 1 << SLOT_BITS;

/// Mask selecting one level's digit of a tick once shifted down.
const SLOT_MASK: u64 = SLOTS as u64 - 1;

/// Number of levels. The wheel spans `64^LEVELS = 2^36` ticks.
const LEVELS: usize = 6;

/// Number of tick bits covered by the wheel; larger differences overflow.
const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;

/// List id of the overflow list (ids below it are wheel slots, numbered
/// `level * SLOTS + slot`).
const OVERFLOW: u16 = (LEVELS * SLOTS) as u16;

/// List id of the overdue list: entries inserted with a deadline `<= now`.
const OVERDUE: u16 = OVERFLOW + 1;

/// Number of list heads: every wheel slot, the overflow and the overdue list.
const LIST_COUNT: usize = OVERDUE as usize + 1;

/// The `Entry::list` value of a free slab entry (on no list).
const FREE: u16 = u16::MAX;

/// The null index: end of a list, or no entry.
const NIL: u32 = u32::MAX;

/// Handle to one timer entry.
///
/// A key stays valid until its entry fires, is removed or is drained; after
/// that the entry's generation has moved on and every operation taking the
/// key reports it as stale, even if the slab slot now holds another entry.
/// (Generations are `u32` and wrap: a key would be confused with a new one
/// only after four billion reuses of the same slot while it is still held.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    /// Index of the entry in the slab.
    index: u32,
    /// Generation the entry had when the key was issued.
    generation: u32,
}

/// One slab entry: a pending timer, or a free cell (its index on the free
/// stack).
///
/// 40 bytes on 64-bit targets.
#[derive(Debug)]
struct Entry {
    /// The waker handed out when the entry fires; `None` while free.
    waker: Option<Waker>,
    /// The tick at which the entry is due.
    deadline: u64,
    /// Next entry of the same list, `NIL` at the end (unused while free).
    next: u32,
    /// Previous entry of the same list, `NIL` at the head (unused while free).
    prev: u32,
    /// Bumped each time the entry is freed, to make old keys stale.
    generation: u32,
    /// Id of the list holding the entry: a wheel slot
    /// (`level * SLOTS + slot`), `OVERFLOW`, `OVERDUE`, or `FREE`.
    list: u16,
}

/// A hierarchical timing wheel of [`Waker`]s with 1-tick resolution.
///
/// See the [module documentation](self) for the layout.
pub(crate) struct Wheel {
    /// The tick the wheel has advanced to.
    now: u64,
    /// The slab of entries, pending and free.
    entries: Vec<Entry>,
    /// Indices of the free entries of `entries`, most recently freed last.
    free: Vec<u32>,
    /// Head of every list, indexed by list id; `NIL` when the list is empty.
    heads: [u32; LIST_COUNT],
    /// Per level, bit `s` is set iff slot `s` of that level is non-empty.
    occupied: [u64; LEVELS],
    /// A lower bound on the deadlines in the overflow list (exact after each
    /// visit of the list; removals may leave it lower). Meaningless while
    /// the list is empty.
    overflow_min: u64,
    /// A lower bound on the deadlines in the overdue list. Meaningless while
    /// the list is empty.
    overdue_min: u64,
    /// Number of pending entries.
    len: usize,
    /// A list `advance_bounded` stopped inside of (its budget ran out):
    /// `now` is at the start of its slot, and the next advance finishes it
    /// first. Entries on it are still pending and removable.
    resume: Option<u16>,
}

impl fmt::Debug for Wheel {
    /// Prints a summary (the slab can hold millions of entries).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("now", &self.now)
            .field("len", &self.len)
            .field("slab_len", &self.entries.len())
            .field("next_deadline", &self.next_deadline())
            .finish_non_exhaustive()
    }
}

impl Default for Wheel {
    /// Same as [`Wheel::new`].
    fn default() -> Wheel {
        Wheel::new()
    }
}

impl Wheel {
    /// An empty wheel whose current tick is 0.
    pub(crate) fn new() -> Wheel {
        Wheel {
            now: 0,
            entries: Vec::new(),
            free: Vec::new(),
            heads: [NIL; LIST_COUNT],
            occupied: [0; LEVELS],
            overflow_min: u64::MAX,
            overdue_min: u64::MAX,
            len: 0,
            resume: None,
        }
    }

    /// The tick the wheel has advanced to: the largest `now` passed to
    /// [`advance_bounded`](Wheel::advance_bounded), 0 at first.
    #[cfg(test)]
    pub(crate) fn now(&self) -> u64 {
        self.now
    }

    /// Number of pending entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is pending.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Registers `waker` to be woken at tick `deadline`.
    ///
    /// A deadline `<= now()` is legal: the entry fires on the next
    /// [`advance_bounded`](Wheel::advance_bounded) call, whatever its `now`.
    ///
    /// # Panics
    ///
    /// If `u32::MAX - 1` entries are already allocated.
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> TimerKey {
        let index = self.alloc(deadline, waker);
        self.len += 1;
        self.file(index);
        TimerKey {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    /// Frees a pending entry, dropping its waker.
    ///
    /// Returns `true` if the entry was pending (it is now removed), `false`
    /// if the key is stale (the entry already fired or was removed). The
    /// waker is dropped before returning, i.e. under the caller's lock.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, key: TimerKey) -> bool {
        self.take(key).is_some()
    }

    /// Removes a pending entry like `remove` (test-only), but hands its
    /// waker back, so the caller drops it after unlocking (a waker's drop
    /// is user code). `None` if the key is stale.
    pub(crate) fn take(&mut self, key: TimerKey) -> Option<Waker> {
        if !self.is_pending(key) {
            return None;
        }
        self.unlink(key.index);
        Some(self.release(key.index))
    }

    /// The waker of a pending entry; `None` if the key is stale.
    pub(crate) fn waker(&self, key: TimerKey) -> Option<&Waker> {
        if !self.is_pending(key) {
            return None;
        }
        self.entries[key.index as usize].waker.as_ref()
    }

    /// Replaces the waker of a pending entry and returns the old one, for
    /// the caller to drop after unlocking; gives `waker` back if the key is
    /// stale.
    pub(crate) fn replace_waker(&mut self, key: TimerKey, waker: Waker) -> Result<Waker, Waker> {
        if !self.is_pending(key) {
            return Err(waker);
        }
        let slot = &mut self.entries[key.index as usize].waker;
        Ok(slot
            .replace(waker)
            .expect("pending timer entry has a waker"))
    }

    /// Whether the entry is still pending (not fired, removed or drained).
    pub(crate) fn is_pending(&self, key: TimerKey) -> bool {
        self.entries
            .get(key.index as usize)
            .is_some_and(|e| e.generation == key.generation && e.list != FREE)
    }

    /// Replaces the waker of a pending entry with a clone of `waker`, unless
    /// [`Waker::will_wake`] says the stored one already wakes the same task.
    ///
    /// Returns `false` (and does nothing) if the key is stale. A replaced
    /// waker is dropped under the caller's lock.
    #[cfg(test)]
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        if !self.is_pending(key) {
            return false;
        }
        let slot = &mut self.entries[key.index as usize].waker;
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
        true
    }

    /// [`advance_bounded`](Self::advance_bounded) without a budget (tests).
    #[cfg(test)]
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) {
        while !self.advance_bounded(now, fired, usize::MAX) {}
    }

    /// Moves the wheel toward tick `now`, firing the entries due by then,
    /// but visits at most `budget` entries (fired or cascaded); returns
    /// whether it reached `now`. If not, it stopped inside a list and the
    /// next call goes on from there (meanwhile
    /// [`next_deadline`](Self::next_deadline) says "now"). The driver fires
    /// in such steps, releasing its lock between them, so a million timers
    /// due at once never hold the lock for long.
    ///
    /// A `now` lower than [`self.now()`](Wheel::now) is treated as
    /// `self.now()`. Every entry whose deadline is `<= now`, and every entry
    /// inserted with an already-past deadline, is removed and its waker
    /// pushed onto `fired`, for the caller to wake after unlocking; their
    /// keys become stale. Within a call, wakers are pushed in deadline
    /// order, except that entries of equal deadline, and the entries
    /// inserted with a deadline `<= now()` (which come first), are in no
    /// particular order.
    ///
    /// The cost is proportional to the occupied slots visited plus the
    /// entries fired or cascaded, never to the number of ticks elapsed.
    /// The overflow list is the exception to the budget (see the module
    /// doc).
    pub(crate) fn advance_bounded(
        &mut self,
        now: u64,
        fired: &mut Vec<Waker>,
        mut budget: usize,
    ) -> bool {
        debug_assert!(budget > 0, "an advance with no budget makes no progress");
        let target = now.max(self.now);
        if let Some(list) = self.resume.take() {
            if !self.visit(list, fired, &mut budget) {
                self.resume = Some(list);
                return false;
            }
        }
        if !self.visit(OVERDUE, fired, &mut budget) {
            self.resume = Some(OVERDUE);
            return false;
        }
        while let Some((list, start)) = self.next_expiration() {
            if start > target {
                break;
            }
            self.now = start;
            if !self.visit(list, fired, &mut budget) {
                self.resume = Some(list);
                return false;
            }
        }
        self.now = target;
        true
    }

    /// A tick the driver may sleep until: never later than the earliest
    /// pending deadline. `None` if no entry is pending.
    ///
    /// The result is a bound, exact in the common case:
    ///
    /// * if an entry was inserted with a deadline `<= now()`, it is at most
    ///   that deadline (so at most `now()`): advance at once;
    /// * otherwise it is greater than `now()`, and exactly the earliest
    ///   deadline when that deadline lies in the current 64-tick block
    ///   (level 0);
    /// * otherwise it is the start of the earliest occupied higher-level
    ///   slot (or, for the overflow list, a lower bound on its deadlines):
    ///   the tick at which [`advance_bounded`](Wheel::advance_bounded) has cascading to do.
    ///   Advancing to it and asking again converges on the exact deadline in
    ///   at most `LEVELS + 1` steps.
    ///
    /// Costs one bitmap test per level.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if self.resume.is_some() {
            // An advance stopped half-way: go on at once.
            return Some(self.now);
        }
        if self.heads[OVERDUE as usize] != NIL {
            return Some(self.overdue_min);
        }
        match self.next_expiration()? {
            (OVERFLOW, _) => Some(self.overflow_min),
            (_, start) => Some(start),
        }
    }

    /// Removes every pending entry, pushing its waker onto `out` (used at
    /// runtime shutdown). All keys become stale; `now()` is unchanged and the
    /// wheel stays usable.
    pub(crate) fn drain(&mut self, out: &mut Vec<Waker>) {
        for index in 0..self.entries.len() as u32 {
            if self.entries[index as usize].list != FREE {
                out.push(self.release(index));
            }
        }
        self.heads = [NIL; LIST_COUNT];
        self.occupied = [0; LEVELS];
        self.resume = None;
    }

    /// Takes a free slab entry (or grows the slab) and fills it in. The
    /// entry is on no list yet.
    fn alloc(&mut self, deadline: u64, waker: Waker) -> u32 {
        if let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            entry.waker = Some(waker);
            entry.deadline = deadline;
            index
        } else {
            let index = self.entries.len();
            assert!(index < NIL as usize, "timing wheel: too many timers");
            self.entries.push(Entry {
                waker: Some(waker),
                deadline,
                next: NIL,
                prev: NIL,
                generation: 0,
                list: FREE,
            });
            index as u32
        }
    }

    /// Frees an entry that is already off its list: bumps its generation,
    /// pushes it on the free stack and returns its waker.
    fn release(&mut self, index: u32) -> Waker {
        let entry = &mut self.entries[index as usize];
        entry.list = FREE;
        entry.generation = entry.generation.wrapping_add(1);
        entry.prev = NIL;
        entry.next = NIL;
        self.free.push(index);
        self.len -= 1;
        entry.waker.take().expect("pending timer entry has a waker")
    }

    /// The list an entry due at `deadline > now` belongs on: the wheel slot
    /// named by the highest digit in which `deadline` differs from `now`, or
    /// the overflow list if that digit is above the top level.
    fn list_for(&self, deadline: u64) -> u16 {
        debug_assert!(deadline > self.now);
        let highest_bit = 63 - (deadline ^ self.now).leading_zeros();
        let level = highest_bit / SLOT_BITS;
        if level as usize >= LEVELS {
            OVERFLOW
        } else {
            let slot = (deadline >> (level * SLOT_BITS)) & SLOT_MASK;
            (level as u64 * SLOTS as u64 + slot) as u16
        }
    }

    /// Links a free-standing pending entry onto the list its deadline calls
    /// for: the overdue list if due by `now`, else the wheel or overflow.
    fn file(&mut self, index: u32) {
        let deadline = self.entries[index as usize].deadline;
        let list = if deadline <= self.now {
            self.overdue_min = self.lowered_min(OVERDUE, self.overdue_min, deadline);
            OVERDUE
        } else {
            let list = self.list_for(deadline);
            if list == OVERFLOW {
                self.overflow_min = self.lowered_min(OVERFLOW, self.overflow_min, deadline);
            }
            list
        };
        self.link(index, list);
    }

    /// The new lower bound of `list` after adding `deadline`, given its
    /// current bound `min` (ignored if the list is empty).
    fn lowered_min(&self, list: u16, min: u64, deadline: u64) -> u64 {
        if self.heads[list as usize] == NIL {
            deadline
        } else {
            min.min(deadline)
        }
    }

    /// Pushes an entry at the front of `list`, marking the slot occupied.
    fn link(&mut self, index: u32, list: u16) {
        let head = self.heads[list as usize];
        let entry = &mut self.entries[index as usize];
        entry.list = list;
        entry.prev = NIL;
        entry.next = head;
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        self.heads[list as usize] = index;
        if list < OVERFLOW {
            self.occupied[list as usize / SLOTS] |= 1 << (list as usize % SLOTS);
        }
    }

    /// Takes a pending entry off its list, clearing the slot's occupancy bit
    /// if the list becomes empty. The entry still counts as pending.
    fn unlink(&mut self, index: u32) {
        let Entry {
            list, prev, next, ..
        } = self.entries[index as usize];
        if prev == NIL {
            self.heads[list as usize] = next;
            if next == NIL && list < OVERFLOW {
                self.occupied[list as usize / SLOTS] &= !(1 << (list as usize % SLOTS));
            }
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
    }

    /// The next list `advance` must visit, with the tick at which to visit
    /// it (always greater than `now`): the earliest occupied slot ahead of
    /// `now` at the lowest non-empty level, else the overflow list at the
    /// start of the `2^36`-tick block of its earliest entry. The overdue
    /// list is not considered.
    fn next_expiration(&self) -> Option<(u16, u64)> {
        // Its callers finish a paused list first (whose slot is `now`'s).
        debug_assert!(self.resume.is_none());
        for level in 0..LEVELS {
            let shift = level as u32 * SLOT_BITS;
            let current = (self.now >> shift) & SLOT_MASK;
            debug_assert!(
                self.occupied[level] & (1 << current) == 0,
                "an entry sits in the current slot of level {level}"
            );
            let ahead = u64::MAX.checked_shl(current as u32 + 1).unwrap_or(0);
            let later = self.occupied[level] & ahead;
            if later != 0 {
                let slot = u64::from(later.trailing_zeros());
                let block = self.now & !((1u64 << (shift + SLOT_BITS)) - 1);
                let start = block | (slot << shift);
                return Some(((level as u64 * SLOTS as u64 + slot) as u16, start));
            }
        }
        if self.heads[OVERFLOW as usize] != NIL {
            let start = (self.overflow_min >> WHEEL_BITS) << WHEEL_BITS;
            debug_assert!(start > self.now);
            return Some((OVERFLOW, start));
        }
        None
    }

    /// Takes the entries of `list` off it one by one and fires each (pushing
    /// its waker onto `fired`) if due by `now`, or files it again relative
    /// to `now` otherwise (never onto `list` itself: a cascaded entry goes
    /// to a lower level). Stops when `budget` entries were visited; returns
    /// whether `list` is empty.
    fn visit(&mut self, list: u16, fired: &mut Vec<Waker>, budget: &mut usize) -> bool {
        if list == OVERFLOW {
            // Entries of a later 2^36-tick block go back onto this very
            // list: detach it whole first, then file each entry once (not
            // bounded; the list is visited once per 2^36 ticks).
            let mut index = std::mem::replace(&mut self.heads[OVERFLOW as usize], NIL);
            while index != NIL {
                let next = self.entries[index as usize].next;
                *budget = budget.saturating_sub(1);
                if self.entries[index as usize].deadline <= self.now {
                    fired.push(self.release(index));
                } else {
                    self.file(index);
                }
                index = next;
            }
            return true;
        }
        loop {
            let index = self.heads[list as usize];
            if index == NIL {
                return true;
            }
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            self.unlink(index);
            if self.entries[index as usize].deadline <= self.now {
                fired.push(self.release(index));
            } else {
                self.file(index);
                debug_assert_ne!(self.entries[index as usize].list, list);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::{Arc, Mutex};
    use std::task::Wake;

    /// A waker that records its id in a shared log when woken.
    struct IdWake {
        /// Recorded on each wake.
        id: u64,
        /// The shared log.
        log: Arc<Mutex<Vec<u64>>>,
    }

    impl Wake for IdWake {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.log.lock().unwrap().push(self.id);
        }
    }

    /// A log of woken ids, and a maker of wakers that write to it.
    #[derive(Default)]
    struct Log(Arc<Mutex<Vec<u64>>>);

    impl Log {
        /// A waker that logs `id` when woken.
        fn waker(&self, id: u64) -> Waker {
            Waker::from(Arc::new(IdWake {
                id,
                log: self.0.clone(),
            }))
        }

        /// Advances `wheel` to `now`, wakes what fired and returns the ids
        /// woken, sorted. Advances in small steps (a budget of 3), as the
        /// driver does in steps of `FIRE_BATCH`, so every test also runs
        /// the resume path.
        fn advance(&self, wheel: &mut Wheel, now: u64) -> Vec<u64> {
            let mut fired = Vec::new();
            while !wheel.advance_bounded(now, &mut fired, 3) {}
            self.wake_all(fired)
        }

        /// Wakes every waker of `fired` and returns the ids woken, sorted.
        fn wake_all(&self, fired: Vec<Waker>) -> Vec<u64> {
            fired.into_iter().for_each(Waker::wake);
            let mut ids = std::mem::take(&mut *self.0.lock().unwrap());
            ids.sort_unstable();
            ids
        }
    }

    /// xorshift64* pseudo-random numbers, seeded for reproducibility.
    struct Rng(u64);

    impl Rng {
        /// The next 64 random bits.
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// A random number in `0..n` (`n > 0`).
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Checks every structural invariant of the wheel: list links, entry
    /// placement, occupancy bits, bounds, the free stack and `len`; also
    /// half-way through a bounded advance.
    fn check_invariants(wheel: &Wheel) {
        let mut on_lists = 0;
        for list in 0..LIST_COUNT as u16 {
            let head = wheel.heads[list as usize];
            if list < OVERFLOW {
                let bit = wheel.occupied[list as usize / SLOTS] >> (list as usize % SLOTS) & 1;
                assert_eq!(bit == 1, head != NIL, "occupancy of list {list}");
            }
            let mut prev = NIL;
            let mut index = head;
            while index != NIL {
                let e = &wheel.entries[index as usize];
                assert_eq!(e.list, list);
                assert_eq!(e.prev, prev);
                assert!(e.waker.is_some());
                if list == OVERDUE {
                    assert!(e.deadline <= wheel.now);
                    assert!(wheel.overdue_min <= e.deadline);
                } else if Some(list) == wheel.resume {
                    // A list an advance paused in: `now`'s own slot of its
                    // level (agreeing with `now` from that level up).
                    assert!(list < OVERFLOW);
                    let shift = (list as u32 / SLOTS as u32) * SLOT_BITS;
                    assert!(e.deadline >= wheel.now);
                    assert_eq!(
                        e.deadline.checked_shr(shift).unwrap_or(0),
                        wheel.now.checked_shr(shift).unwrap_or(0),
                        "an entry of the paused list outside now's slot"
                    );
                    assert_eq!((wheel.now >> shift) & SLOT_MASK, list as u64 % SLOTS as u64);
                } else {
                    assert!(e.deadline > wheel.now);
                    assert_eq!(wheel.list_for(e.deadline), list);
                }
                if list == OVERFLOW {
                    assert!(wheel.overflow_min <= e.deadline);
                    assert!(wheel.overflow_min >> WHEEL_BITS > wheel.now >> WHEEL_BITS);
                }
                on_lists += 1;
                prev = index;
                index = e.next;
            }
        }
        assert_eq!(on_lists, wheel.len);
        let mut seen = vec![false; wheel.entries.len()];
        for &index in &wheel.free {
            let e = &wheel.entries[index as usize];
            assert_eq!(e.list, FREE);
            assert!(e.waker.is_none());
            assert!(!std::mem::replace(&mut seen[index as usize], true));
        }
        assert_eq!(wheel.free.len() + wheel.len, wheel.entries.len());
    }

    /// Deadlines on both sides of every level boundary and beyond the wheel.
    fn boundary_deadlines() -> Vec<u64> {
        let mut out = vec![0, 1, 2, 62, 63, 64, 65, 127, 128, 4095, 4096, 4097];
        for k in 3..=8 {
            let p = 64u64.pow(k);
            out.extend([p - 1, p, p + 1]);
        }
        out.extend([1 << 40, (1 << 40) + 1, u64::MAX / 2, u64::MAX - 1, u64::MAX]);
        out
    }

    #[test]
    fn entry_is_small() {
        assert!(std::mem::size_of::<Entry>() <= 48);
    }

    #[test]
    fn empty_wheel() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        assert_eq!(wheel.now(), 0);
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_deadline(), None);
        assert!(log.advance(&mut wheel, 1_000).is_empty());
        assert_eq!(wheel.now(), 1_000);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn fires_exactly_at_deadline_never_before() {
        for base in [0, 1, 63, 4_000, 64u64.pow(5) - 7, 3 << 36] {
            for offset in boundary_deadlines() {
                let deadline = base.saturating_add(offset);
                let log = Log::default();
                let mut wheel = Wheel::new();
                log.advance(&mut wheel, base);
                let key = wheel.insert(deadline, log.waker(deadline));
                check_invariants(&wheel);
                if deadline > base {
                    assert!(
                        log.advance(&mut wheel, deadline - 1).is_empty(),
                        "{deadline}"
                    );
                    assert!(wheel.is_pending(key));
                    assert_eq!(wheel.next_deadline(), Some(deadline), "{base} {deadline}");
                    check_invariants(&wheel);
                }
                assert_eq!(log.advance(&mut wheel, deadline), [deadline]);
                assert!(!wheel.is_pending(key));
                assert!(wheel.is_empty());
                check_invariants(&wheel);
            }
        }
    }

    #[test]
    fn following_next_deadline_fires_on_time() {
        for base in [0, 5, 64u64.pow(6) - 3] {
            for offset in boundary_deadlines() {
                let deadline = base.saturating_add(offset);
                let log = Log::default();
                let mut wheel = Wheel::new();
                log.advance(&mut wheel, base);
                wheel.insert(deadline, log.waker(deadline));
                let mut steps = 0;
                loop {
                    let next = wheel.next_deadline().unwrap();
                    assert!(next <= deadline);
                    assert!(next > wheel.now() || deadline <= base);
                    let ids = log.advance(&mut wheel, next);
                    steps += 1;
                    assert!(steps <= LEVELS + 2, "{steps} wakeups for {deadline}");
                    if !ids.is_empty() {
                        assert_eq!(ids, [deadline]);
                        assert_eq!(wheel.now(), deadline.max(base));
                        break;
                    }
                }
                assert_eq!(wheel.next_deadline(), None);
            }
        }
    }

    #[test]
    fn all_boundaries_in_one_wheel() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let deadlines = boundary_deadlines();
        for &d in &deadlines {
            wheel.insert(d, log.waker(d));
        }
        let mut stops: Vec<u64> = deadlines
            .iter()
            .flat_map(|&d| [d.saturating_sub(1), d])
            .collect();
        stops.sort_unstable();
        stops.dedup();
        let mut prev = None;
        for now in stops {
            let expected: Vec<u64> = deadlines
                .iter()
                .copied()
                .filter(|&d| d <= now && prev.is_none_or(|p| d > p))
                .collect();
            assert_eq!(log.advance(&mut wheel, now), expected, "at {now}");
            check_invariants(&wheel);
            prev = Some(now);
        }
        assert!(wheel.is_empty());
    }

    #[test]
    fn past_deadline_fires_on_next_advance() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        log.advance(&mut wheel, 100);
        let a = wheel.insert(50, log.waker(1));
        wheel.insert(100, log.waker(2));
        wheel.insert(0, log.waker(3));
        wheel.insert(101, log.waker(4));
        check_invariants(&wheel);
        assert_eq!(wheel.next_deadline(), Some(0));
        // Removing the earliest leaves the bound low but still a bound.
        assert!(wheel.remove(wheel_key_of(&wheel, 0)));
        assert!(wheel.next_deadline().unwrap() <= 50);
        assert!(wheel.is_pending(a));
        // An advance to an earlier tick still fires the overdue entries.
        assert_eq!(log.advance(&mut wheel, 7), [1, 2]);
        assert_eq!(wheel.now(), 100);
        assert_eq!(wheel.next_deadline(), Some(101));
        assert_eq!(log.advance(&mut wheel, 101), [4]);
    }

    /// The key of the pending entry due at `deadline` (test helper; scans
    /// the slab).
    fn wheel_key_of(wheel: &Wheel, deadline: u64) -> TimerKey {
        let index = wheel
            .entries
            .iter()
            .position(|e| e.list != FREE && e.deadline == deadline)
            .unwrap();
        TimerKey {
            index: index as u32,
            generation: wheel.entries[index].generation,
        }
    }

    #[test]
    fn fires_in_deadline_order() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        log.advance(&mut wheel, 10);
        let mut rng = Rng(7);
        for _ in 0..2_000 {
            let d = random_deadline(&mut rng, 10).min(1 << 45);
            wheel.insert(d, log.waker(d));
        }
        let mut fired = Vec::new();
        wheel.advance(1 << 45, &mut fired);
        assert_eq!(fired.len(), 2_000);
        fired.into_iter().for_each(Waker::wake);
        let order = std::mem::take(&mut *log.0.lock().unwrap());
        let overdue = order.iter().take_while(|&&d| d <= 10).count();
        assert!(overdue > 0);
        assert!(order[overdue..].is_sorted());
        assert!(order[overdue..].iter().all(|&d| d > 10));
    }

    #[test]
    fn lower_now_is_ignored() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        log.advance(&mut wheel, 1_000);
        wheel.insert(1_001, log.waker(1));
        assert!(log.advance(&mut wheel, 10).is_empty());
        assert_eq!(wheel.now(), 1_000);
        assert_eq!(wheel.len(), 1);
        assert_eq!(log.advance(&mut wheel, 1_001), [1]);
    }

    #[test]
    fn remove_before_fire() {
        // One entry on each kind of list: level 0, 1, 3, overflow, overdue.
        let log = Log::default();
        let mut wheel = Wheel::new();
        log.advance(&mut wheel, 10);
        let deadlines = [5, 20, 700, 300_000, 1 << 40];
        let keys: Vec<TimerKey> = deadlines
            .iter()
            .map(|&d| wheel.insert(d, log.waker(d)))
            .collect();
        let extra = wheel.insert(21, log.waker(21));
        for (i, &key) in keys.iter().enumerate() {
            assert!(wheel.remove(key));
            assert_eq!(wheel.len(), deadlines.len() - i);
            assert!(!wheel.is_pending(key));
            assert!(!wheel.remove(key));
            check_invariants(&wheel);
        }
        assert_eq!(wheel.occupied.iter().filter(|&&b| b != 0).count(), 1);
        assert_eq!(log.advance(&mut wheel, u64::MAX), [21]);
        assert!(!wheel.remove(extra));
    }

    #[test]
    fn removed_slot_is_reused_and_old_key_is_stale() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let old = wheel.insert(30, log.waker(1));
        assert!(wheel.remove(old));
        let new = wheel.insert(30, log.waker(2));
        assert_eq!(new.index, old.index, "the freed entry is reused");
        assert_ne!(new, old);
        assert_eq!(wheel.entries.len(), 1);
        assert!(!wheel.is_pending(old));
        assert!(!wheel.remove(old));
        assert!(!wheel.set_waker(old, &log.waker(3)));
        assert!(wheel.is_pending(new));
        assert_eq!(log.advance(&mut wheel, 30), [2]);
    }

    #[test]
    fn fired_keys_are_stale() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let key = wheel.insert(5, log.waker(1));
        assert_eq!(log.advance(&mut wheel, 5), [1]);
        assert!(!wheel.is_pending(key));
        assert!(!wheel.remove(key));
        assert!(!wheel.set_waker(key, &log.waker(2)));
        let reused = wheel.insert(6, log.waker(3));
        assert_eq!(reused.index, key.index);
        assert!(!wheel.remove(key));
        assert_eq!(log.advance(&mut wheel, 6), [3]);
    }

    #[test]
    fn set_waker_replaces_the_waker_that_fires() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let a = wheel.insert(100_000, log.waker(1));
        let b = wheel.insert(100_000, log.waker(2));
        assert!(wheel.set_waker(a, &log.waker(10)));
        // Setting a waker that will_wake the stored one keeps it.
        let stored = wheel.entries[b.index as usize].waker.clone().unwrap();
        assert!(wheel.set_waker(b, &stored));
        assert!(log.advance(&mut wheel, 99_999).is_empty());
        assert_eq!(log.advance(&mut wheel, 100_000), [2, 10]);
    }

    #[test]
    fn large_jumps_skip_idle_ticks() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let deadlines = [
            3,
            9_999_999,
            10_000_000,
            10_000_001,
            1 << 50,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &d in &deadlines {
            wheel.insert(d, log.waker(d));
        }
        assert_eq!(
            log.advance(&mut wheel, 10_000_000),
            [3, 9_999_999, 10_000_000]
        );
        assert_eq!(wheel.next_deadline(), Some(10_000_001));
        // Stepping tick by tick here would never finish.
        assert_eq!(log.advance(&mut wheel, u64::MAX - 2), [10_000_001, 1 << 50]);
        check_invariants(&wheel);
        assert_eq!(log.advance(&mut wheel, u64::MAX), [u64::MAX - 1, u64::MAX]);
        assert_eq!(wheel.now(), u64::MAX);
        // At the end of time every new deadline is overdue.
        wheel.insert(u64::MAX, log.waker(7));
        assert_eq!(log.advance(&mut wheel, u64::MAX), [7]);
    }

    #[test]
    fn many_advances_by_one() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let mut rng = Rng(0x5eed);
        let mut expected: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for id in 0..5_000 {
            let d = rng.below(9_000);
            wheel.insert(d, log.waker(id));
            expected.entry(d).or_default().push(id);
        }
        for now in 0..9_100 {
            let mut want = expected.remove(&now).unwrap_or_default();
            want.sort_unstable();
            assert_eq!(log.advance(&mut wheel, now), want, "at {now}");
            if let Some((&first, _)) = expected.first_key_value() {
                let next = wheel.next_deadline().unwrap();
                assert!(next > now && next <= first);
                if first ^ now < 64 {
                    assert_eq!(next, first);
                }
            }
        }
        assert!(wheel.is_empty());
        check_invariants(&wheel);
    }

    #[test]
    fn bounded_advance_fires_everything_in_steps_and_keeps_entries_removable() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        // 3,000 entries due at the same tick (one slot), 50 a tick later,
        // and a few far ahead (cascaded on the way).
        let mut keys = Vec::new();
        for i in 0..3_000u64 {
            keys.push((i, wheel.insert(100, log.waker(i))));
        }
        for i in 0..50u64 {
            wheel.insert(101, log.waker(10_000 + i));
        }
        wheel.insert(70_000, log.waker(99_999));
        let mut fired = Vec::new();
        // Up to tick 99 the entries only cascade (from level 1 to level 0),
        // in steps as well.
        let mut steps = 0;
        while !wheel.advance_bounded(99, &mut fired, 1_000) {
            steps += 1;
        }
        assert!(steps >= 3 && fired.is_empty(), "{steps} steps");
        assert!(!wheel.advance_bounded(100, &mut fired, 1_000));
        assert_eq!(fired.len(), 1_000);
        // Stopped half-way: the wheel says "due now" and its entries can
        // still be removed.
        assert_eq!(wheel.next_deadline(), Some(wheel.now()));
        let mut removed = 0;
        for (_, key) in keys.iter().skip(2_000) {
            if wheel.remove(*key) {
                removed += 1;
            }
        }
        assert!(removed > 0, "some of the last 1,000 were still pending");
        while !wheel.advance_bounded(100, &mut fired, 1_000) {}
        let woken = log.wake_all(std::mem::take(&mut fired));
        assert_eq!(
            woken.len() + removed,
            3_000,
            "every entry fired or removed, once"
        );
        // The later ones fire when their time comes, in steps too.
        while !wheel.advance_bounded(101, &mut fired, 7) {}
        assert_eq!(log.wake_all(std::mem::take(&mut fired)).len(), 50);
        while !wheel.advance_bounded(69_999, &mut fired, 1) {}
        assert!(fired.is_empty());
        while !wheel.advance_bounded(70_000, &mut fired, 1) {}
        assert_eq!(log.wake_all(fired), [99_999]);
        assert!(wheel.is_empty());
    }

    #[test]
    fn drain_returns_everything() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        log.advance(&mut wheel, 1_000);
        let deadlines = [3, 1_000, 1_001, 1_064, 90_000, 1 << 37, u64::MAX];
        let keys: Vec<TimerKey> = deadlines
            .iter()
            .map(|&d| wheel.insert(d, log.waker(d)))
            .collect();
        let mut out = Vec::new();
        wheel.drain(&mut out);
        let mut want = deadlines.to_vec();
        want.sort_unstable();
        assert_eq!(log.wake_all(out), want);
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_deadline(), None);
        assert_eq!(wheel.now(), 1_000);
        assert!(keys
            .iter()
            .all(|&k| !wheel.is_pending(k) && !wheel.remove(k)));
        check_invariants(&wheel);
        // The wheel is usable after a drain, reusing the freed entries.
        wheel.insert(1_002, log.waker(1));
        assert_eq!(wheel.entries.len(), deadlines.len());
        assert_eq!(log.advance(&mut wheel, 1_002), [1]);
    }

    #[test]
    fn million_entries() {
        // Ids are deadlines: each fired id must be due in the step that
        // fired it, and each deadline must fire as many times as inserted.
        let log = Log::default();
        let mut wheel = Wheel::new();
        let mut rng = Rng(42);
        let wakers: Vec<Waker> = (0..10_000).map(|d| log.waker(d)).collect();
        let mut count = vec![0usize; 10_000];
        for _ in 0..1_000_000 {
            let d = rng.below(10_000);
            count[d as usize] += 1;
            wheel.insert(d, wakers[d as usize].clone());
        }
        assert_eq!(wheel.len(), 1_000_000);
        let mut prev = 0;
        for now in [0, 1, 63, 64, 4_095, 4_096, 7_777, 9_999] {
            let ids = log.advance(&mut wheel, now);
            let want: usize = count[prev..=now as usize].iter().sum();
            assert_eq!(ids.len(), want);
            for id in ids {
                assert!(id as usize >= prev && id <= now);
                count[id as usize] -= 1;
            }
            prev = now as usize + 1;
        }
        assert!(count.iter().all(|&c| c == 0));
        assert!(wheel.is_empty());
    }

    /// One live entry of the model test: its current waker id and deadline.
    struct Live {
        /// The wheel's key for the entry.
        key: TimerKey,
        /// The id the entry's current waker logs.
        id: u64,
        /// The entry's deadline.
        deadline: u64,
    }

    /// A random deadline relative to `now`, of widely varying magnitude:
    /// past, within level 0, within the wheel, beyond it, at the end of time.
    fn random_deadline(rng: &mut Rng, now: u64) -> u64 {
        let span = match rng.below(16) {
            0 => return now.saturating_sub(rng.below(100)),
            1 => return u64::MAX - rng.below(3),
            2..=5 => 64,
            6..=9 => 4_096,
            10..=12 => 1 << 20,
            13 | 14 => 1 << 30,
            _ => 1 << 40,
        };
        now.saturating_add(rng.below(span))
    }

    #[test]
    fn model_random_ops() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut live: Vec<Live> = Vec::new();
        let mut due: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut stale: Vec<TimerKey> = Vec::new();
        let mut next_id = 0;
        let mut fired_total = 0;
        for op in 0..100_000 {
            match rng.below(20) {
                0..=8 => {
                    let deadline = random_deadline(&mut rng, wheel.now());
                    let key = wheel.insert(deadline, log.waker(next_id));
                    assert!(wheel.is_pending(key));
                    due.insert((deadline, next_id));
                    live.push(Live {
                        key,
                        id: next_id,
                        deadline,
                    });
                    next_id += 1;
                }
                9..=11 if !live.is_empty() => {
                    let gone = live.swap_remove(rng.below(live.len() as u64) as usize);
                    assert!(wheel.remove(gone.key));
                    assert!(due.remove(&(gone.deadline, gone.id)));
                    stale.push(gone.key);
                }
                12 if !live.is_empty() => {
                    let pick = rng.below(live.len() as u64) as usize;
                    let entry = &mut live[pick];
                    assert!(wheel.set_waker(entry.key, &log.waker(next_id)));
                    assert!(due.remove(&(entry.deadline, entry.id)));
                    due.insert((entry.deadline, next_id));
                    entry.id = next_id;
                    next_id += 1;
                }
                13 if !stale.is_empty() => {
                    let key = stale[rng.below(stale.len() as u64) as usize];
                    assert!(!wheel.is_pending(key));
                    assert!(!wheel.remove(key));
                    assert!(!wheel.set_waker(key, &log.waker(u64::MAX)));
                }
                _ => {
                    let now = wheel.now();
                    // Following next_deadline, but not to the end of time.
                    let next = wheel.next_deadline().filter(|&t| t < now + (1 << 40));
                    let target = match rng.below(8) {
                        0 => now.saturating_sub(rng.below(10)),
                        1 => now + 1,
                        2 => next.unwrap_or(now),
                        3 => next.unwrap_or(now).saturating_sub(1),
                        4 => now.saturating_add(rng.below(64)),
                        5 => now.saturating_add(rng.below(10_000)),
                        6 => now.saturating_add(rng.below(1 << 24)),
                        _ => now.saturating_add(rng.below(1 << 38)),
                    };
                    let effective = target.max(now);
                    let mut want: Vec<u64> = Vec::new();
                    while let Some(&(d, id)) = due.first() {
                        if d > effective {
                            break;
                        }
                        due.pop_first();
                        want.push(id);
                    }
                    want.sort_unstable();
                    let ids = log.advance(&mut wheel, target);
                    assert_eq!(ids, want, "op {op}: advance {now} -> {target}");
                    assert_eq!(wheel.now(), effective);
                    fired_total += ids.len();
                    live.retain(|l| {
                        if l.deadline <= effective {
                            assert!(!wheel.is_pending(l.key));
                            stale.push(l.key);
                            false
                        } else {
                            true
                        }
                    });
                }
            }
            if stale.len() > 1_000 {
                stale.drain(..500);
            }
            assert_eq!(wheel.len(), due.len());
            match due.first() {
                None => assert_eq!(wheel.next_deadline(), None),
                Some(&(first, _)) => {
                    let next = wheel.next_deadline().unwrap();
                    assert!(next <= first, "op {op}: next {next} > {first}");
                    if first > wheel.now() {
                        assert!(next > wheel.now());
                        if first ^ wheel.now() < 64 {
                            assert_eq!(next, first);
                        }
                    }
                }
            }
            if op % 128 == 0 {
                check_invariants(&wheel);
            }
        }
        check_invariants(&wheel);
        assert!(fired_total > 10_000, "the model test fired too little");
        assert!(
            wheel.now() < 1 << 50,
            "the model test ran to the end of time"
        );
        // The rest, end-of-time deadlines included, fire at the end of time.
        let mut want: Vec<u64> = due.iter().map(|&(_, id)| id).collect();
        want.sort_unstable();
        assert!(!want.is_empty());
        assert_eq!(log.advance(&mut wheel, u64::MAX), want);
        assert!(wheel.is_empty());
        check_invariants(&wheel);
    }

    /// Many entries share few deadlines (so lists are long and steps stop
    /// inside them), operations land between steps, budgets are 1..=8.
    fn run_model(seed: u64, ops: usize) {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let mut rng = Rng(seed);
        // id -> (key, deadline) of every live entry.
        let mut live: BTreeMap<u64, (TimerKey, u64)> = BTreeMap::new();
        // (deadline, id) of every live entry.
        let mut due: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut dead: BTreeSet<u64> = BTreeSet::new();
        let mut next_id = 0u64;
        let mut stopped_inside = 0usize;
        // A pending advance: its target, while steps remain.
        let mut target: Option<u64> = None;
        for op in 0..ops {
            match rng.below(24) {
                0..=8 => {
                    // Clustered deadlines: long lists.
                    let now = wheel.now();
                    let deadline = match rng.below(4) {
                        0 => random_deadline(&mut rng, now),
                        1 => now,
                        2 => now.saturating_add(rng.below(3)),
                        _ => (now & !4095).saturating_add(4096 * (1 + rng.below(2))),
                    };
                    let key = wheel.insert(deadline, log.waker(next_id));
                    live.insert(next_id, (key, deadline));
                    due.insert((deadline, next_id));
                    next_id += 1;
                }
                9..=11 if !live.is_empty() => {
                    let nth = rng.below(live.len() as u64) as usize;
                    let (&id, &(key, deadline)) = live.iter().nth(nth).unwrap();
                    assert!(wheel.take(key).is_some(), "op {op}: live {id} not pending");
                    live.remove(&id);
                    due.remove(&(deadline, id));
                    dead.insert(id);
                }
                12 if !live.is_empty() => {
                    // replace_waker: the entry keeps its place, a new id.
                    let nth = rng.below(live.len() as u64) as usize;
                    let (&id, &(key, deadline)) = live.iter().nth(nth).unwrap();
                    let old = wheel.replace_waker(key, log.waker(next_id));
                    assert!(old.is_ok());
                    live.remove(&id);
                    due.remove(&(deadline, id));
                    dead.insert(id);
                    live.insert(next_id, (key, deadline));
                    due.insert((deadline, next_id));
                    next_id += 1;
                }
                _ => {
                    let now = wheel.now();
                    let t = match target {
                        Some(t) => t,
                        None => match rng.below(4) {
                            0 => now,
                            1 => now + rng.below(3),
                            2 => now.saturating_add(rng.below(10_000)),
                            _ => now.saturating_add(rng.below(1 << 26)),
                        },
                    };
                    let budget = 1 + rng.below(8) as usize;
                    let mut fired = Vec::new();
                    let done = wheel.advance_bounded(t, &mut fired, budget);
                    assert!(fired.len() <= budget, "op {op}: over budget");
                    assert!(wheel.now() <= t.max(now));
                    fired.into_iter().for_each(Waker::wake);
                    let ids = std::mem::take(&mut *log.0.lock().unwrap());
                    for id in ids {
                        assert!(
                            !dead.contains(&id),
                            "op {op}: removed/replaced id {id} fired"
                        );
                        let (_, deadline) = live
                            .remove(&id)
                            .unwrap_or_else(|| panic!("op {op}: id {id} fired twice"));
                        assert!(due.remove(&(deadline, id)));
                        assert!(deadline <= wheel.now(), "op {op}: {id} fired early");
                        dead.insert(id);
                    }
                    if done {
                        target = None;
                        let eff = t.max(now);
                        assert_eq!(wheel.now(), eff);
                        if let Some(&(d, id)) = due.first() {
                            assert!(
                                d > eff,
                                "op {op}: id {id} due {d} left after advance to {eff}"
                            );
                        }
                    } else {
                        stopped_inside += 1;
                        target = Some(t);
                        assert_eq!(wheel.next_deadline(), Some(wheel.now()));
                    }
                }
            }
            assert_eq!(wheel.len(), due.len());
            for (&id, &(key, _)) in &live {
                assert!(wheel.is_pending(key), "op {op}: {id} lost");
            }
            if target.is_none() {
                if let Some(&(first, _)) = due.first() {
                    assert!(wheel.next_deadline().unwrap() <= first);
                }
            }
            if op % 16 == 0 {
                check_invariants(&wheel);
            }
        }
        assert!(stopped_inside > 200, "{stopped_inside}");
        // Finish at the end of time: everything left fires, once.
        let mut fired = Vec::new();
        while !wheel.advance_bounded(u64::MAX, &mut fired, 5) {}
        assert_eq!(fired.len(), due.len());
        assert!(wheel.is_empty());
    }

    #[test]
    fn model_bounded_random_ops() {
        for seed in 1..=200u64 {
            run_model(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 20_000);
        }
    }

    #[test]
    fn drain_mid_resume() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        for i in 0..100 {
            wheel.insert(5_000, log.waker(i));
        }
        let mut fired = Vec::new();
        while wheel.resume.is_none() {
            wheel.advance_bounded(5_000, &mut fired, 7);
        }
        let mut out = Vec::new();
        wheel.drain(&mut out);
        assert_eq!(fired.len() + out.len(), 100);
        assert_eq!(wheel.next_deadline(), None);
        check_invariants(&wheel);
        wheel.insert(5_001, log.waker(1000));
        assert!(wheel.next_deadline().unwrap() <= 5_001);
        while !wheel.advance_bounded(5_001, &mut fired, 1) {}
        assert_eq!(fired.len() + out.len(), 101);
    }

    #[test]
    fn resume_list_emptied_by_removals() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let keys: Vec<_> = (0..10).map(|i| wheel.insert(200, log.waker(i))).collect();
        let other = wheel.insert(201, log.waker(99));
        let mut fired = Vec::new();
        // 200 is on level 1 (cascades at 192): stop inside that list.
        while wheel.resume.is_none() {
            assert!(!wheel.advance_bounded(201, &mut fired, 3) || wheel.resume.is_some());
        }
        for k in &keys {
            wheel.take(*k);
        }
        check_invariants(&wheel);
        assert_eq!(wheel.next_deadline(), Some(wheel.now()));
        while !wheel.advance_bounded(201, &mut fired, 3) {}
        assert!(!wheel.is_pending(other));
        assert!(wheel.is_empty());
    }
}
