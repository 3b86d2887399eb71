//! loom models of the stall hand-off's two races (`executor/handoff.rs`
//! states the protocol): the real `RawLifo` (the LIFO slot's protocol) and
//! the real `Idle`, reached through `parkway::loom_sched`.
//!
//! - The LIFO slot: the stuck owner keeps putting tasks in and taking them
//!   out while the hand-off closes the slot, once, and then marks the slot
//!   replaced; the owner, seeing that mark (an Acquire load, as after each
//!   poll), opens the slot again. Every task comes out exactly once, and
//!   none ever sits in a closed slot (where nobody but the stuck owner
//!   would find it).
//! - The sleepers: a worker going to sleep (`try_transition_worker_to_parked`
//!   asking "was I replaced?" under the sleepers' lock) races the hand-off
//!   (`hand_off`, which refuses a sleeping worker and marks it replaced
//!   under the same lock). Never both: a replaced worker never registers
//!   as a sleeper, so at most `num_workers` ever sleep.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release
//! -p parkway --test loom_handoff` (with its own `CARGO_TARGET_DIR`).
#![cfg(loom)]

use std::ptr::NonNull;

use loom::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use loom::sync::Arc;
use loom::thread;

use parkway::loom_sched::{Idle, RawLifo};

/// `Remote::role` values (as in `executor/mod.rs`).
const ACTIVE: u8 = 1;
const REPLACED: u8 = 2;

/// A task stand-in: a leaked box holding its number.
fn item(n: usize) -> NonNull<usize> {
    NonNull::from(Box::leak(Box::new(n)))
}

/// Takes a stand-in back, returning its number.
fn free(p: NonNull<usize>) -> usize {
    // SAFETY: every pointer here came from `item`, and the models free each
    // once (a double free is the bug they would then show).
    *unsafe { Box::from_raw(p.as_ptr()) }
}

/// Puts task `n` in the slot; returns the number of the task that came out
/// (the displaced one, or `n` itself from a closed slot).
fn put(lifo: &RawLifo<usize>, n: usize) -> Option<usize> {
    match lifo.replace(item(n)) {
        Ok(displaced) => displaced.map(free),
        Err(back) => Some(free(back)),
    }
}

/// One side of the slot model: the stuck owner or the hand-off.
struct Slot {
    lifo: RawLifo<usize>,
    role: AtomicU8,
}

/// The stuck owner puts tasks 1 and 2 in (a wake-up each), takes one out
/// (its next poll), then checks whether it was replaced and if so opens
/// the slot again. The hand-off closes the slot and marks it replaced.
/// Every task comes out exactly once; none is left in a closed slot.
#[test]
fn lifo_close_races_the_stuck_owner() {
    loom::model(|| {
        let slot = Arc::new(Slot {
            lifo: RawLifo::default(),
            role: AtomicU8::new(ACTIVE),
        });
        let s = Arc::clone(&slot);
        let hand_off = thread::spawn(move || {
            let taken = s.lifo.close().map(free);
            s.role.store(REPLACED, Ordering::Release);
            taken
        });
        let mut out = Vec::new();
        out.extend(put(&slot.lifo, 1));
        out.extend(put(&slot.lifo, 2));
        out.extend(slot.lifo.take().map(free));
        let saw_replaced = slot.role.load(Ordering::Acquire) == REPLACED;
        if saw_replaced {
            out.extend(slot.lifo.reopen().map(free));
        }
        out.extend(hand_off.join().unwrap());
        if !saw_replaced {
            // The hand-off ran, and the owner has not looked yet: its slot
            // is closed and holds nothing.
            assert!(!slot.lifo.is_occupied(), "a task sits in a closed slot");
            // The owner notices later (its next poll) and opens it.
            out.extend(slot.lifo.reopen().map(free));
        }
        out.sort_unstable();
        assert_eq!(out, vec![1, 2], "every task comes out exactly once");
        assert!(!slot.lifo.is_occupied());
    });
}

/// As above, with the owner taking first and putting after: a `take`
/// racing the close must leave the slot closed, and the `replace` after it
/// must give its task back.
#[test]
fn lifo_take_then_replace_race_the_close() {
    loom::model(|| {
        let slot = Arc::new(Slot {
            lifo: RawLifo::default(),
            role: AtomicU8::new(ACTIVE),
        });
        let mut out = Vec::new();
        out.extend(put(&slot.lifo, 1));
        let s = Arc::clone(&slot);
        let hand_off = thread::spawn(move || {
            let taken = s.lifo.close().map(free);
            s.role.store(REPLACED, Ordering::Release);
            taken
        });
        out.extend(slot.lifo.take().map(free));
        out.extend(put(&slot.lifo, 2));
        let replaced = hand_off.join().unwrap();
        out.extend(replaced);
        // Closed now: a put gives its task straight back.
        let back = match slot.lifo.replace(item(3)) {
            Ok(displaced) => panic!(
                "a closed slot took the task (displacing {:?})",
                displaced.map(free)
            ),
            Err(back) => free(back),
        };
        assert_eq!(back, 3);
        out.push(back);
        assert!(!slot.lifo.is_occupied(), "a task sits in a closed slot");
        assert_eq!(slot.role.load(Ordering::Acquire), REPLACED);
        out.extend(slot.lifo.reopen().map(free));
        out.sort_unstable();
        assert_eq!(out, vec![1, 2, 3], "every task comes out exactly once");
    });
}

/// A worker going to sleep (possibly as the last searcher) races the
/// hand-off. Never both a sleeper and replaced; exactly one of them wins.
#[test]
fn a_replaced_worker_never_sleeps() {
    for searching in [false, true] {
        loom::model(move || {
            let idle = Arc::new(Idle::new(2));
            let role = Arc::new(AtomicU8::new(ACTIVE));
            if searching {
                assert!(idle.transition_worker_to_searching());
            }
            let (i, r) = (Arc::clone(&idle), Arc::clone(&role));
            let hand_off = thread::spawn(move || {
                i.hand_off(0, || {
                    r.store(REPLACED, Ordering::Release);
                    true
                })
            });
            // The worker: its check after the poll, then going to sleep.
            let parked = if role.load(Ordering::Acquire) == REPLACED {
                None
            } else {
                idle.try_transition_worker_to_parked(0, searching, || {
                    role.load(Ordering::Acquire) != REPLACED
                })
            };
            let committed = hand_off.join().unwrap();
            assert_ne!(
                committed,
                parked.is_some(),
                "replaced {committed}, asleep {}",
                parked.is_some()
            );
            assert_eq!(idle.num_sleeping(), usize::from(parked.is_some()));
            if committed {
                assert_eq!(role.load(Ordering::Acquire), REPLACED);
            }
        });
    }
}

/// `WorkerCore::take_over`'s shape: a cheap check, then the same check
/// again inside `hand_off`'s commit, under the sleepers' lock.
fn take_over(idle: &Idle, role: &AtomicU8, seq: &AtomicU64, stuck_in: u64) -> bool {
    let still_stuck =
        || role.load(Ordering::Acquire) == ACTIVE && seq.load(Ordering::Acquire) == stuck_in;
    if !still_stuck() {
        return false;
    }
    idle.hand_off(0, || {
        if !still_stuck() {
            return false;
        }
        role.store(REPLACED, Ordering::Release);
        true
    })
}

/// Two assignments for the same slot: one for an earlier stall (poll 1),
/// late, and one for the stall the slot is in now (poll 3, after poll 1
/// returned). At most one takes the slot.
#[test]
fn a_slot_is_never_handed_off_twice() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(2));
        let role = Arc::new(AtomicU8::new(ACTIVE));
        let seq = Arc::new(AtomicU64::new(1));
        let (i, r, s) = (Arc::clone(&idle), Arc::clone(&role), Arc::clone(&seq));
        let late = thread::spawn(move || take_over(&i, &r, &s, 1));
        // Poll 1 returns, poll 3 gets stuck, and its assignment runs.
        seq.store(3, Ordering::Release);
        let current = take_over(&idle, &role, &seq, 3);
        let late = late.join().unwrap();
        assert!(!(late && current), "a slot was handed off twice");
    });
}
