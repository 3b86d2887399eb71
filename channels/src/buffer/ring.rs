//! `Ring`: the lock-free bounded MPMC ring that is the fast path of
//! parkway's buffered channels.
//!
//! The algorithm is Dmitry Vyukov's bounded MPMC queue, the one behind
//! crossbeam's array channel flavour and `ArrayQueue`:
//!
//! - `head` and `tail` are *positions*: a slot index plus a lap count packed
//!   into one word (see [`Ring::one_lap`]). Pushers claim the position in
//!   `tail` with a CAS, poppers the one in `head`; nothing else is shared.
//! - Every slot carries a *stamp* saying which operation it waits for: the
//!   push at position `p` (stamp `p`, the slot is empty) or the pop at
//!   position `p` (stamp `p + 1`, the slot holds the value pushed at `p`).
//!   The winner of a CAS owns the slot's value until it publishes the next
//!   stamp with a `Release` store; the next owner reads it with `Acquire`.
//!   A stamp from one lap behind tells a pusher the ring may be full; a
//!   stamp equal to `head` tells a popper it may be empty. Re-reading the
//!   other end decides: a pusher after a `SeqCst` fence, a popper with a
//!   `SeqCst` load (see [`Ring::pop`]).
//! - [`Ring::force_push`] (a sliding buffer) turns "full" into "evict the
//!   oldest": it claims the oldest value by a CAS on `head`, exactly as a
//!   pop would, then advances `tail` over the same slot and swaps its value.
//!
//! **Slot stamps are stored relative to their slot's index**
//! (`stored = stamp - index`, wrapping), so the initial state "slot `i`
//! waits for the push at lap 0, index `i`" is all zero bits for every slot.
//! That lets the slot array ([`super::slots`]) come from `alloc_zeroed`
//! with nothing to initialize, and lets a large one be allocated lazily, a
//! segment at a time, on first touch: creating a ring of a million slots
//! costs one small allocation. (Slots are deliberately not cache-padded.)
//! Under loom, whose atomics cannot be made from zeroed memory, the slots
//! are built one by one instead.
//!
//! No operation locks or makes a syscall, and none allocates except the
//! first touch of a segment of a large ring; the retry loops only
//! spin through [`crate::sync::spin_loop`] (a yield under loom). A thread
//! may wait there for another one that has claimed a position but not yet
//! published its stamp (a window of a few instructions); waiting for
//! values or room is the channel layer's job, not this one's.

#![cfg_attr(
    not(loom),
    allow(unreachable_pub, reason = "pub only so the loom tests can reach it")
)]

use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};

use crossbeam_utils::CachePadded;

use super::slots::{Slots, ZeroInit};
use crate::sync::{fence, loom_sc_fence, spin_loop, AtomicUsize, Ordering, UnsafeCell};

/// Why [`Ring::push_open`] did not push; the value comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum PushError<T> {
    /// The ring is full.
    Full(T),
    /// The ring is closed.
    Closed(T),
}

impl<T> PushError<T> {
    /// The value that was not pushed.
    #[allow(dead_code, reason = "the ring's own tests and the loom models use it")]
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Closed(v) => v,
        }
    }
}

/// One cell of the ring.
struct Slot<T> {
    /// The slot's stamp minus the slot's index (wrapping), so that zero
    /// means "empty, waiting for the push at lap 0". With `lap` the lap of
    /// the operation the slot waits for, the stored value is:
    /// - `lap`: empty, waits for the push at position `lap | index`;
    /// - `lap + 1`: full, waits for the pop at position `lap | index`.
    ///
    /// Set by the push (to full) or pop/eviction (to empty, one lap on) that
    /// owns the slot, with `Release`, after it is done with `value`.
    rel_stamp: AtomicUsize,

    /// The value; initialized exactly when the stamp says "full".
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    /// Loads the slot's absolute stamp (`Acquire`: the previous owner's
    /// accesses to `value` happen before ours).
    #[inline]
    fn stamp(&self, index: usize) -> usize {
        self.rel_stamp.load(Ordering::Acquire).wrapping_add(index)
    }

    /// Publishes the slot's next absolute stamp, handing the slot on
    /// (`Release`).
    #[inline]
    fn set_stamp(&self, index: usize, stamp: usize) {
        self.rel_stamp
            .store(stamp.wrapping_sub(index), Ordering::Release);
    }
}

/// A lock-free, bounded, multi-producer multi-consumer FIFO ring.
///
/// [`push`](Ring::push) is core.async's `offer!` on a fixed buffer,
/// [`force_push`](Ring::force_push) a put on a `sliding-buffer`, and
/// [`pop`](Ring::pop) is `poll!`. See the module docs of `buffer::ring` for the
/// algorithm.
pub struct Ring<T> {
    /// The position of the next pop (see [`Ring::one_lap`]).
    head: CachePadded<AtomicUsize>,

    /// The position of the next push (see [`Ring::one_lap`]).
    tail: CachePadded<AtomicUsize>,

    /// `capacity` slots; all-zero on creation (see [`Slot::rel_stamp`]).
    slots: Slots<Slot<T>>,

    /// The closed mark, a bit of `tail` between the index and the lap:
    /// the smallest power of two above the capacity. Set once, by
    /// [`Ring::close`], with a `fetch_or`; from then on every push fails,
    /// atomically with respect to the CAS that claims a position.
    mark_bit: usize,

    /// The lap unit of a position, `2 * mark_bit`. A position (`head`, `tail`, or an absolute stamp) packs:
    /// - bits below `mark_bit`: the slot index, in `0..capacity`;
    /// - the `mark_bit` bit (`tail` only): the ring is closed;
    /// - bits from `one_lap` up: the lap, how many times the position has
    ///   wrapped around the slots (wrapping in the word).
    ///
    /// An absolute stamp may also be a position plus one: "full".
    one_lap: usize,

    /// The ring owns the `T`s in its slots (for drop check).
    _owns: PhantomData<T>,
}

// SAFETY: a `Ring<T>` owns the `T`s in its slots and nothing else that is
// tied to a thread (atomics and a heap allocation), so moving it to another
// thread moves those `T`s, which `T: Send` allows.
unsafe impl<T: Send> Send for Ring<T> {}

// SAFETY: through `&Ring<T>` values only move in (`push`, `force_push`) and
// out (`pop`, eviction) by value; no `&T` is ever handed out, so `T: Sync`
// is not needed, and moving a `T` between threads is what `T: Send` allows.
// Accesses to a slot's value never overlap: a thread touches it only after
// winning the CAS on `head` or `tail` that claims the slot's position and
// `Acquire`-loading the stamp its previous owner published with `Release`
// once done with the value.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// Creates an empty ring holding at most `cap` values.
    ///
    /// For a large `cap` this allocates only a table of segment pointers;
    /// the slots are allocated a segment at a time on first use (see
    /// [`super::slots`]).
    ///
    /// # Panics
    ///
    /// If `cap` is 0, or the slot array would not fit in memory.
    pub fn new(cap: usize) -> Self {
        assert!(cap > 0, "Ring capacity must be at least 1");
        let mark_bit = cap
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .expect("Ring capacity overflows usize positions");
        let one_lap = mark_bit
            .checked_mul(2)
            .expect("Ring capacity overflows usize positions");
        Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots: Slots::new(cap),
            mark_bit,
            one_lap,
            _owns: PhantomData,
        }
    }

    /// Pushes `value` at the back, or gives it back in `Err` if the ring is
    /// full.
    ///
    /// This is core.async's `offer!` on a fixed buffer.
    ///
    /// # Errors
    ///
    /// `Err(value)` when the ring is full.
    #[allow(dead_code, reason = "the ring's own tests and the loom models use it")]
    pub fn push(&self, value: T) -> Result<(), T> {
        self.push_open(value).map_err(PushError::into_inner)
    }

    /// Pushes `value` at the back, telling a full ring from a closed one.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the ring is full, [`PushError::Closed`]
    /// once [`close`](Ring::close) was called; the value comes back.
    pub fn push_open(&self, value: T) -> Result<(), PushError<T>> {
        self.push_or_else(value, |value, tail, _, _| {
            let head = self.head.load(Ordering::Relaxed);
            if head.wrapping_add(self.one_lap) == tail {
                Err(PushError::Full(value))
            } else {
                Ok(value)
            }
        })
    }

    /// Pushes `value` at the back; if the ring is full, first removes the
    /// oldest value and returns it. Never fails.
    ///
    /// This is a put on core.async's `sliding-buffer`.
    #[allow(dead_code, reason = "the ring's own tests and the loom models use it")]
    pub fn force_push(&self, value: T) -> Option<T> {
        match self.force_push_open(value) {
            Ok(evicted) => evicted,
            Err(value) => Some(value),
        }
    }

    /// As [`force_push`](Ring::force_push), but fails with the value once
    /// the ring is closed.
    ///
    /// # Errors
    ///
    /// `Err(value)` once [`close`](Ring::close) was called.
    pub fn force_push_open(&self, value: T) -> Result<Option<T>, T> {
        let out = self.push_or_else(value, |value, tail, new_tail, index| {
            // The slot at `tail` still holds the value pushed one lap ago,
            // at `tail - one_lap`. If that is `head`, the ring is full and
            // that value is the oldest: claim it as a pop would.
            let head = tail.wrapping_sub(self.one_lap);
            let new_head = new_tail.wrapping_sub(self.one_lap);
            if self
                .head
                .compare_exchange_weak(head, new_head, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
            {
                // Not full after all, or someone else got there: retry.
                return Ok(value);
            }
            // No pusher can move `tail` now: a pusher needs this slot's
            // stamp to move it, and only we will write it. `close` may set
            // the mark meanwhile: adding the distance keeps it (no carry
            // reaches the mark bit: the index part goes from `index` to 0
            // or `index + 1 < capacity`).
            self.tail
                // Must stay a SeqCst read-modify-write: a failed `pop`
                // reads `tail` with a plain SeqCst load (see there).
                .fetch_add(new_tail.wrapping_sub(tail), Ordering::SeqCst);
            let slot = self.slots.get(index);
            let old = slot.value.with_mut(|p| {
                // SAFETY:
                // - we own the slot: our CAS claimed its position as `head`,
                //   and it is still `tail` (no pusher can claim it);
                // - the value is initialized: the stamp we loaded (Acquire)
                //   in `push_or_else` said "full since lap `tail - one_lap`".
                unsafe { p.replace(MaybeUninit::new(value)).assume_init() }
            });
            slot.set_stamp(index, tail + 1);
            Err(PushError::Full(old))
        });
        match out {
            Ok(()) => Ok(None),
            Err(PushError::Full(evicted)) => Ok(Some(evicted)),
            Err(PushError::Closed(value)) => Err(value),
        }
    }

    /// Pops the value at the front, or returns `None` if the ring is empty.
    ///
    /// This is core.async's `poll!`.
    pub fn pop(&self) -> Option<T> {
        let mut backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let (index, new_head) = self.split(head);
            let slot = self.slots.get(index);
            let stamp = slot.stamp(index);
            if stamp == head + 1 {
                // Full with the value pushed at `head`: claim it.
                match self.head.compare_exchange_weak(
                    head,
                    new_head,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let value = slot.value.with_mut(|p| {
                            // SAFETY:
                            // - we own the slot: our CAS claimed its position;
                            // - the value is initialized: the stamp we loaded
                            //   (Acquire) said "full" for this position.
                            unsafe { p.read().assume_init() }
                        });
                        slot.set_stamp(index, head.wrapping_add(self.one_lap));
                        return Some(value);
                    }
                    Err(current) => {
                        head = current;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Empty, waiting for the push at `head`: has it been claimed?
                // Every change to `tail` is a SeqCst read-modify-write, so
                // a SeqCst load reads the latest one in the single total
                // order: `tail == head` there means no push claimed `head`
                // yet, and "empty" is true at that load. (crossbeam puts a
                // SeqCst fence before a relaxed load here; on x86 that is an
                // `mfence` on every failed pop, while this load is a plain
                // `mov`.) Loom models SeqCst loads as Acquire only, so it
                // gets the fence ([`loom_sc_fence`]).
                loom_sc_fence();
                let tail = self.tail.load(Ordering::SeqCst) & !self.mark_bit;
                if tail == head {
                    return None;
                }
                backoff.spin();
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another thread holds the slot (a pop of the previous lap
                // or an eviction is finishing), or `head` is stale.
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Returns the number of values in the ring.
    ///
    /// A snapshot: under concurrent use it may be stale as soon as it is
    /// returned, and it may count a value being evicted by `force_push` but
    /// not yet the one replacing it.
    pub fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            // A consistent pair: `tail` did not move while we read `head`.
            if self.tail.load(Ordering::SeqCst) == tail {
                return self.len_between(head, tail & !self.mark_bit);
            }
            spin_loop();
        }
    }

    /// Returns `true` if the ring holds no value (a snapshot, like
    /// [`len`](Ring::len)).
    pub fn is_empty(&self) -> bool {
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst) & !self.mark_bit;
        tail == head
    }

    /// Returns `true` if the ring holds `capacity` values (a snapshot, like
    /// [`len`](Ring::len)).
    pub fn is_full(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst) & !self.mark_bit;
        let head = self.head.load(Ordering::SeqCst);
        head.wrapping_add(self.one_lap) == tail
    }

    /// Closes the ring: every later push fails with
    /// [`PushError::Closed`]; pops go on until it is empty. Returns whether
    /// this call closed it.
    pub fn close(&self) -> bool {
        // Must stay a SeqCst read-modify-write: a failed `pop` reads `tail`
        // with a plain SeqCst load (see there).
        self.tail.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    /// Whether [`close`](Ring::close) was called.
    #[allow(dead_code, reason = "the ring's own tests and the loom models use it")]
    pub fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// Returns the most values the ring holds.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The shared loop of `push` and `force_push`: claims the position in
    /// `tail` and writes `value` there. When the slot still holds the
    /// value of the previous lap, calls `on_full(value, tail, new_tail,
    /// index)`, which returns `Ok(value)` to retry or `Err(x)` to return
    /// `Err(x)`.
    #[inline]
    fn push_or_else<F>(&self, mut value: T, mut on_full: F) -> Result<(), PushError<T>>
    where
        F: FnMut(T, usize, usize, usize) -> Result<T, PushError<T>>,
    {
        let mut backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(PushError::Closed(value));
            }
            let (index, new_tail) = self.split(tail);
            let slot = self.slots.get(index);
            let stamp = slot.stamp(index);
            if stamp == tail {
                // Empty, waiting for the push at `tail`: claim it.
                // Must stay a SeqCst read-modify-write: a failed `pop`
                // reads `tail` with a plain SeqCst load (see there).
                match self.tail.compare_exchange_weak(
                    tail,
                    new_tail,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        slot.value.with_mut(|p| {
                            // SAFETY: we own the slot: our CAS claimed its
                            // position, and the stamp we loaded (Acquire)
                            // said its previous value, if any, was moved
                            // out. Writing does not drop the old bytes.
                            unsafe { p.write(MaybeUninit::new(value)) }
                        });
                        slot.set_stamp(index, tail + 1);
                        return Ok(());
                    }
                    Err(current) => {
                        tail = current;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // Still full with the value pushed one lap ago: maybe the
                // ring is full.
                fence(Ordering::SeqCst);
                value = on_full(value, tail, new_tail, index)?;
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another thread holds the slot (the push of the previous
                // lap is still writing it), or `tail` is stale.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Splits a position into its slot index and the position after it.
    #[inline]
    fn split(&self, pos: usize) -> (usize, usize) {
        let index = pos & (self.mark_bit - 1);
        let lap = pos & !(self.one_lap - 1);
        let next = if index + 1 < self.capacity() {
            // Same lap, next index; cannot overflow: index < capacity < one_lap.
            pos + 1
        } else {
            lap.wrapping_add(self.one_lap)
        };
        (index, next)
    }

    /// The number of values between the positions `head` and `tail`.
    fn len_between(&self, head: usize, tail: usize) -> usize {
        let hix = head & (self.mark_bit - 1);
        let tix = tail & (self.mark_bit - 1);
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.capacity() - hix + tix
        } else if tail == head {
            0
        } else {
            self.capacity()
        }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        if !mem::needs_drop::<T>() {
            return;
        }
        // `&mut self`: every operation has finished, so the values are
        // exactly those in the `len` slots from `head` on.
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed) & !self.mark_bit;
        let hix = head & (self.mark_bit - 1);
        for i in 0..self.len_between(head, tail) {
            let index = if hix + i < self.capacity() {
                hix + i
            } else {
                hix + i - self.capacity()
            };
            // Every slot holding a value was written, so its memory exists.
            if let Some(slot) = self.slots.get_mut_existing(index) {
                slot.value.with_mut(|p| {
                    // SAFETY: the slots from `head` up to `tail` hold the values
                    // pushed and not yet popped or evicted, initialized; each is
                    // dropped once, here, and the slot is not used again.
                    unsafe { (*p).assume_init_drop() }
                });
            }
        }
    }
}

impl<T> fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

// SAFETY: an all-zero `Slot<T>` is a zero relative stamp ("empty, waiting
// for the push at lap 0", the initial state of every slot) and an
// uninitialized `UnsafeCell<MaybeUninit<T>>`, which needs no initialization.
unsafe impl<T> ZeroInit for Slot<T> {
    fn fresh() -> Self {
        Slot {
            rel_stamp: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

/// Exponential busy-waiting between retries. It only spins, through
/// [`spin_loop`] (a yield under loom, so the model can switch threads), and
/// never sleeps or yields to the OS: no syscall on the fast path.
struct Backoff {
    /// How many times the spin count has doubled so far.
    step: u32,
}

impl Backoff {
    /// The most doublings after a lost CAS race (up to 2^6 spins).
    const SPIN_LIMIT: u32 = if cfg!(loom) { 0 } else { 6 };
    /// The most doublings while another thread finishes with a slot.
    const SNOOZE_LIMIT: u32 = if cfg!(loom) { 0 } else { 10 };

    #[inline]
    fn new() -> Self {
        Self { step: 0 }
    }

    /// Backs off after losing a race for `head` or `tail`.
    #[inline]
    fn spin(&mut self) {
        self.wait(Self::SPIN_LIMIT);
    }

    /// Backs off while another thread finishes with a slot.
    #[inline]
    fn snooze(&mut self) {
        self.wait(Self::SNOOZE_LIMIT);
    }

    #[inline]
    fn wait(&mut self, limit: u32) {
        for _ in 0..1u32 << self.step.min(limit) {
            spin_loop();
        }
        if self.step < limit {
            self.step += 1;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Ring;

    use std::collections::{HashSet, VecDeque};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::thread;

    /// A value that counts its own drops in `drops[id]`.
    #[derive(Debug)]
    struct Tracked {
        id: usize,
        drops: Arc<[AtomicUsize]>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.drops[self.id].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn drop_counters(n: usize) -> Arc<[AtomicUsize]> {
        (0..n).map(|_| AtomicUsize::new(0)).collect()
    }

    fn assert_dropped_once(drops: &[AtomicUsize]) {
        for (id, d) in drops.iter().enumerate() {
            assert_eq!(
                d.load(Ordering::Relaxed),
                1,
                "value {id} dropped wrong number of times"
            );
        }
    }

    /// xorshift64*: a deterministic pseudo-random sequence for model tests.
    fn rng(mut s: u64) -> impl FnMut() -> u64 {
        move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    #[should_panic(expected = "Ring capacity must be at least 1")]
    fn zero_capacity_panics() {
        let _ = Ring::<u8>::new(0);
    }

    #[test]
    fn fifo() {
        let r = Ring::new(4);
        for i in 0..4 {
            r.push(i).unwrap();
        }
        assert_eq!(r.push(4), Err(4));
        for i in 0..4 {
            assert_eq!(r.pop(), Some(i));
        }
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn full_and_empty() {
        for cap in 1..=5 {
            let r = Ring::new(cap);
            assert_eq!(r.capacity(), cap);
            assert!(r.is_empty() && !r.is_full());
            assert_eq!(r.pop(), None);
            for i in 0..cap {
                assert!(!r.is_full());
                r.push(i).unwrap();
                assert!(!r.is_empty());
            }
            assert!(r.is_full());
            assert_eq!(r.push(99), Err(99));
            assert_eq!(r.pop(), Some(0));
            assert!(!r.is_full());
            r.push(cap).unwrap();
            assert!(r.is_full());
            for i in 1..=cap {
                assert_eq!(r.pop(), Some(i));
            }
            assert!(r.is_empty() && !r.is_full());
            assert_eq!(r.pop(), None);
        }
    }

    #[test]
    fn len_tracks_contents() {
        for cap in 1..=4 {
            let r = Ring::new(cap);
            let mut model = 0;
            for round in 0..(5 * cap) {
                if round % 3 == 2 {
                    if r.pop().is_some() {
                        model -= 1;
                    }
                } else if r.push(round).is_ok() {
                    model += 1;
                }
                assert_eq!(r.len(), model, "cap {cap}, round {round}");
                assert_eq!(r.is_empty(), model == 0);
                assert_eq!(r.is_full(), model == cap);
            }
        }
    }

    /// Random pushes, force_pushes and pops over many laps, against a
    /// `VecDeque` model.
    #[test]
    fn wrap_around_many_laps_matches_model() {
        for cap in [1, 2, 3, 4, 5, 7, 8, 9] {
            let r = Ring::new(cap);
            let mut model = VecDeque::new();
            let mut next = rng(cap as u64 + 1);
            for v in 0..50_000u64 {
                match next() % 4 {
                    0 => {
                        let expected = if model.len() == cap {
                            model.pop_front()
                        } else {
                            None
                        };
                        model.push_back(v);
                        assert_eq!(r.force_push(v), expected);
                    }
                    1 => {
                        if model.len() < cap {
                            model.push_back(v);
                            assert_eq!(r.push(v), Ok(()));
                        } else {
                            assert_eq!(r.push(v), Err(v));
                        }
                    }
                    _ => assert_eq!(r.pop(), model.pop_front()),
                }
                assert_eq!(r.len(), model.len());
            }
            // Laps wrapped many times: 50_000 operations on at most 9 slots.
            while let Some(v) = model.pop_front() {
                assert_eq!(r.pop(), Some(v));
            }
            assert_eq!(r.pop(), None);
        }
    }

    #[test]
    fn force_push_evicts_oldest_cap1() {
        let r = Ring::new(1);
        assert_eq!(r.force_push(1), None);
        assert_eq!(r.force_push(2), Some(1));
        assert_eq!(r.force_push(3), Some(2));
        assert_eq!(r.len(), 1);
        assert_eq!(r.pop(), Some(3));
        assert_eq!(r.pop(), None);
        assert_eq!(r.force_push(4), None);
        assert_eq!(r.pop(), Some(4));
    }

    #[test]
    fn force_push_evicts_oldest_cap2() {
        let r = Ring::new(2);
        assert_eq!(r.force_push(1), None);
        assert_eq!(r.force_push(2), None);
        assert_eq!(r.force_push(3), Some(1));
        assert_eq!(r.force_push(4), Some(2));
        assert_eq!(r.force_push(5), Some(3));
        assert!(r.is_full());
        assert_eq!(r.pop(), Some(4));
        assert_eq!(r.pop(), Some(5));
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn force_push_evicts_oldest_cap3() {
        let r = Ring::new(3);
        for i in 1..=3 {
            assert_eq!(r.force_push(i), None);
        }
        // Move `head` off index 0 so evictions wrap around the slots.
        assert_eq!(r.pop(), Some(1));
        assert_eq!(r.force_push(4), None);
        assert_eq!(r.force_push(5), Some(2));
        assert_eq!(r.force_push(6), Some(3));
        assert_eq!(r.force_push(7), Some(4));
        assert_eq!(r.len(), 3);
        assert_eq!(r.push(8), Err(8));
        for i in 5..=7 {
            assert_eq!(r.pop(), Some(i));
        }
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn values_dropped_exactly_once() {
        const N: usize = 20;
        for cap in [1, 3, 4] {
            let drops = drop_counters(N);
            let val = |id| Tracked {
                id,
                drops: drops.clone(),
            };
            {
                let r = Ring::new(cap);
                let mut id = 0;
                // Fill, pop a little, then wrap with evictions.
                while r.push(val(id)).is_ok() {
                    id += 1;
                }
                // The rejected value came back and was dropped here.
                assert_eq!(drops[id].load(Ordering::Relaxed), 1);
                id += 1;
                drop(r.pop());
                for _ in 0..(2 * cap + 1) {
                    drop(r.force_push(val(id)));
                    id += 1;
                }
                assert!(id < N);
                // Unused ids, so the final check covers every counter.
                for unused in id..N {
                    drop(val(unused));
                }
                assert_eq!(r.len(), cap);
            } // Drops the `cap` values still in the ring.
            assert_dropped_once(&drops);
        }
    }

    #[test]
    fn drop_with_wrapped_head_drops_each_value_once() {
        let drops = drop_counters(5);
        let val = |id| Tracked {
            id,
            drops: drops.clone(),
        };
        {
            let r = Ring::new(3);
            for id in 0..3 {
                r.push(val(id)).unwrap();
            }
            drop(r.pop());
            drop(r.pop());
            r.push(val(3)).unwrap();
            r.push(val(4)).unwrap();
            // Now head is at index 2 and tail at index 1.
            assert_eq!(r.len(), 3);
        }
        assert_dropped_once(&drops);
    }

    #[test]
    fn zero_sized_values() {
        let r = Ring::new(3);
        for _ in 0..3 {
            r.push(()).unwrap();
        }
        assert_eq!(r.push(()), Err(()));
        assert_eq!(r.force_push(()), Some(()));
        assert_eq!(r.len(), 3);
        for _ in 0..3 {
            assert_eq!(r.pop(), Some(()));
        }
        assert_eq!(r.pop(), None);
        let big = Ring::<()>::new(1_000_000);
        big.push(()).unwrap();
        assert_eq!(big.len(), 1);
    }

    #[test]
    fn zero_sized_values_with_drop_are_dropped_once() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Zst;
        impl Drop for Zst {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::Relaxed);
            }
        }
        {
            let r = Ring::new(2);
            r.push(Zst).ok().unwrap();
            r.push(Zst).ok().unwrap();
            drop(r.force_push(Zst)); // 1 drop: the evicted one.
            drop(r.pop()); // 2 drops.
        } // 3 drops: the one left.
        assert_eq!(DROPS.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn over_aligned_values() {
        #[repr(align(64))]
        #[derive(Debug, PartialEq)]
        struct Aligned(u8);
        let r = Ring::new(3);
        for i in 0..3 {
            r.push(Aligned(i)).unwrap();
        }
        assert_eq!(r.force_push(Aligned(3)), Some(Aligned(0)));
        for i in 1..4 {
            assert_eq!(r.pop(), Some(Aligned(i)));
        }
    }

    #[test]
    fn huge_capacity_is_usable() {
        let r = Ring::new(1_000_000);
        assert_eq!(r.capacity(), 1_000_000);
        assert!(r.is_empty() && !r.is_full());
        for i in 0..1000u64 {
            r.push(i).unwrap();
        }
        for i in 0..1000 {
            assert_eq!(r.pop(), Some(i));
        }
        assert_eq!(r.pop(), None);
    }

    /// Resident set size of this process, from `/proc/self/status`.
    #[cfg(target_os = "linux")]
    fn rss_bytes() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }

    /// Creating a huge ring must not touch its slots: 16 Mi slots of 16
    /// bytes (256 MiB) would show in the resident set if they were written.
    #[cfg(target_os = "linux")]
    #[test]
    fn huge_capacity_creation_touches_no_slot() {
        const CAP: usize = 16 << 20;
        let before = rss_bytes();
        let r = Ring::<u64>::new(CAP);
        r.push(1).unwrap();
        assert_eq!(r.pop(), Some(1));
        let grown = rss_bytes().saturating_sub(before);
        assert!(
            grown < 64 << 20,
            "creating a ring of {CAP} slots grew the RSS by {} MiB",
            grown >> 20
        );
        drop(r);
    }

    /// The value a stress producer sends: its number and a sequence number.
    fn value(producer: usize, seq: usize) -> usize {
        (producer << 32) | seq
    }

    #[test]
    fn stress_mpmc_every_value_once() {
        const PRODUCERS: usize = 4;
        const CONSUMERS: usize = 4;
        const PER_PRODUCER: usize = 100_000;
        const TOTAL: usize = PRODUCERS * PER_PRODUCER;

        let ring = Arc::new(Ring::new(16));
        let received = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(PRODUCERS + CONSUMERS));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let (ring, start) = (ring.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    for seq in 0..PER_PRODUCER {
                        let mut v = value(p, seq);
                        while let Err(back) = ring.push(v) {
                            v = back;
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let (ring, start, received) = (ring.clone(), start.clone(), received.clone());
                thread::spawn(move || {
                    start.wait();
                    let mut got = Vec::new();
                    while received.load(Ordering::Relaxed) < TOTAL {
                        match ring.pop() {
                            Some(v) => {
                                got.push(v);
                                received.fetch_add(1, Ordering::Relaxed);
                            }
                            None => thread::yield_now(),
                        }
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let mut all = Vec::with_capacity(TOTAL);
        for c in consumers {
            let got = c.join().unwrap();
            // FIFO per producer, as seen by each consumer.
            let mut last = [None; PRODUCERS];
            for &v in &got {
                let (p, seq) = (v >> 32, v & 0xffff_ffff);
                assert!(
                    last[p] < Some(seq),
                    "producer {p}: {seq} after {:?}",
                    last[p]
                );
                last[p] = Some(seq);
            }
            all.extend(got);
        }
        assert_eq!(ring.pop(), None);
        all.sort_unstable();
        let expected: Vec<_> = (0..PRODUCERS)
            .flat_map(|p| (0..PER_PRODUCER).map(move |s| value(p, s)))
            .collect();
        assert_eq!(all.len(), TOTAL);
        assert!(all == expected, "some value lost or received twice");
    }

    #[test]
    fn stress_force_push_loses_and_duplicates_nothing() {
        const PRODUCERS: usize = 4;
        const CONSUMERS: usize = 2;
        const PER_PRODUCER: usize = 100_000;

        let ring = Arc::new(Ring::new(8));
        let done = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(PRODUCERS + CONSUMERS));
        let check_order = |seen: &[usize]| {
            let mut last = [None; PRODUCERS];
            for &v in seen {
                let (p, seq) = (v >> 32, v & 0xffff_ffff);
                assert!(
                    last[p] < Some(seq),
                    "producer {p}: {seq} after {:?}",
                    last[p]
                );
                last[p] = Some(seq);
            }
        };
        // Each producer returns what it evicted; each consumer what it popped.
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let (ring, start, done) = (ring.clone(), start.clone(), done.clone());
                thread::spawn(move || {
                    start.wait();
                    let evicted: Vec<_> = (0..PER_PRODUCER)
                        .filter_map(|seq| ring.force_push(value(p, seq)))
                        .collect();
                    done.fetch_add(1, Ordering::Release);
                    evicted
                })
            })
            .collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let (ring, start, done) = (ring.clone(), start.clone(), done.clone());
                thread::spawn(move || {
                    start.wait();
                    let mut got = Vec::new();
                    loop {
                        // Read `done` first: if every producer had finished,
                        // an empty ring afterwards stays empty.
                        let finished = done.load(Ordering::Acquire) == PRODUCERS;
                        match ring.pop() {
                            Some(v) => got.push(v),
                            None if finished => break got,
                            None => thread::yield_now(),
                        }
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut evictions = 0;
        for p in producers {
            let evicted = p.join().unwrap();
            check_order(&evicted);
            evictions += evicted.len();
            seen.extend(evicted);
        }
        let mut popped = 0;
        for c in consumers {
            let got = c.join().unwrap();
            check_order(&got);
            popped += got.len();
            seen.extend(got);
        }
        assert!(ring.is_empty());
        // The ring is small and consumers are few: evictions must happen,
        // or this test checks nothing of force_push's eviction path.
        assert!(
            evictions > 0 && popped > 0,
            "evictions {evictions}, popped {popped}"
        );
        // received ⊆ sent, no duplicates, and nothing lost: every value was
        // popped or evicted-and-returned.
        let unique: HashSet<_> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a value was received twice");
        let sent: HashSet<_> = (0..PRODUCERS)
            .flat_map(|p| (0..PER_PRODUCER).map(move |s| value(p, s)))
            .collect();
        assert!(unique == sent, "a value was lost or invented");
    }

    #[test]
    fn debug_shows_len_and_capacity() {
        let r = Ring::new(2);
        r.push(1).unwrap();
        assert_eq!(format!("{r:?}"), "Ring { len: 1, capacity: 2, .. }");
    }

    #[test]
    fn ring_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        // `Cell` is `Send` but not `Sync`: the ring only moves values.
        check::<Ring<std::cell::Cell<u8>>>();
    }
}
