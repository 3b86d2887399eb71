//! loom models of the lock-free ring behind buffered channels
//! (`src/buffer/ring.rs`), reached through the `#[doc(hidden)]` re-export
//! `LoomRing`. Capacities are 1 and 2, and every model checks that each
//! value ends up in exactly one place: popped, rejected by `push` (full or
//! closed), evicted and returned by `force_push`, or still in the ring at
//! the end.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p parkway-channels --test loom_ring`
//!
//! loom 0.7's DPOR remembers only the last access to each atomic, so a
//! store is never checked against other threads' loads that came before
//! the storing thread's own load of the same atomic (tokio-rs/loom#166,
//! #392). Every ring operation loads `head`/`tail` and a stamp, then CASes
//! or stores them: a naive model explores a single interleaving. So:
//! - each model runs its operations on two spawned threads (the main thread
//!   only joins and checks), once in each spawn order, since loom's first
//!   schedule runs the first-spawned thread first;
//! - it starts from a non-empty ring, so both threads store whichever runs
//!   first;
//! - it asserts that loom explored the interleavings it is about.
//!
//! Two worker threads, not three: two threads spinning on a third make loom
//! alternate between the spinners until it gives up (tokio-rs/loom#53).

#![cfg(loom)]

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use loom::sync::Arc;
use loom::thread;
use parkway_channels::LoomRing as Ring;

/// Runs `model(b_first)` under loom for both values of `b_first` (see
/// [`race`]) and returns the distinct outcomes it returned.
fn explore<O, F>(name: &str, cap: usize, model: F) -> HashSet<O>
where
    O: Hash + Eq + Send + std::fmt::Debug + 'static,
    F: Fn(bool) -> O + Send + Sync + 'static,
{
    let model = std::sync::Arc::new(model);
    let seen = std::sync::Arc::new(Mutex::new(HashSet::new()));
    for b_first in [false, true] {
        let (model, sink) = (model.clone(), seen.clone());
        loom::model(move || {
            let outcome = model(b_first);
            sink.lock().unwrap().insert(outcome);
        });
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let mut sorted: Vec<String> = seen.iter().map(|o| format!("{o:?}")).collect();
    sorted.sort();
    println!(
        "{name}, capacity {cap}: {} outcomes: {}",
        seen.len(),
        sorted.join(" ")
    );
    seen
}

/// Runs `a` and `b` on two new threads sharing `ring`, drops this handle,
/// and returns their results. `b_first` spawns `b` first, which makes
/// loom's first schedule run it first.
fn race<T, A, B, RA, RB>(ring: Arc<Ring<T>>, b_first: bool, a: A, b: B) -> (RA, RB)
where
    T: Send + 'static,
    A: FnOnce(&Ring<T>) -> RA + Send + 'static,
    B: FnOnce(&Ring<T>) -> RB + Send + 'static,
    RA: Send + 'static,
    RB: Send + 'static,
{
    let spawn_a = || {
        let ring = ring.clone();
        thread::spawn(move || a(&ring))
    };
    let spawn_b = || {
        let ring = ring.clone();
        thread::spawn(move || b(&ring))
    };
    let (ta, tb) = if b_first {
        let tb = spawn_b();
        (spawn_a(), tb)
    } else {
        let ta = spawn_a();
        (ta, spawn_b())
    };
    drop(ring);
    (ta.join().unwrap(), tb.join().unwrap())
}

/// Asserts that loom explored each of `expected`: the interleavings the
/// model is about, not only the sequential ones.
fn assert_explored<O: Hash + Eq + std::fmt::Debug>(seen: &HashSet<O>, expected: &[O]) {
    for outcome in expected {
        assert!(
            seen.contains(outcome),
            "{outcome:?} not explored; explored: {seen:?}"
        );
    }
}

/// Pops everything left in `ring`.
fn drain<T>(ring: &Ring<T>) -> Vec<T> {
    std::iter::from_fn(|| ring.pop()).collect()
}

/// Asserts that `values` holds each of `expected` exactly once.
fn assert_each_once(values: &[u32], expected: &[u32]) {
    let unique: HashSet<_> = values.iter().copied().collect();
    assert_eq!(
        unique.len(),
        values.len(),
        "a value appeared twice: {values:?}"
    );
    let expected: HashSet<_> = expected.iter().copied().collect();
    assert_eq!(unique, expected, "a value was lost or invented: {values:?}");
}

/// Asserts that the values of the producer owning `range` appear in
/// increasing order in `seq`.
fn assert_fifo(seq: &[u32], range: std::ops::Range<u32>) {
    let mine: Vec<_> = seq.iter().filter(|v| range.contains(v)).collect();
    assert!(
        mine.windows(2).all(|w| w[0] < w[1]),
        "out of order: {seq:?}"
    );
}

/// A producer pushes while a consumer pops: what was accepted is popped
/// exactly once, in order.
#[test]
fn push_and_pop_race() {
    for cap in [1, 2] {
        let seen = explore("push_and_pop_race", cap, move |b_first| {
            let ring = Arc::new(Ring::new(cap));
            // Not empty, so the consumer changes the ring whichever runs first.
            ring.push(0).unwrap();
            let (accepted, mut popped) = race(
                ring.clone(),
                b_first,
                |r| {
                    [1, 2, 3]
                        .into_iter()
                        .filter(|&v| r.push(v).is_ok())
                        .collect::<Vec<u32>>()
                },
                |r| (0..3).filter_map(|_| r.pop()).collect::<Vec<u32>>(),
            );
            let outcome = (accepted.clone(), popped.clone());
            popped.extend(drain(&ring));
            let sent: Vec<u32> = [0].into_iter().chain(accepted).collect();
            assert_eq!(popped, sent, "outcome {outcome:?}");
            outcome
        });
        let expected = if cap == 1 {
            // All rejected (ring full of 0), or one taken after the pop of 0.
            vec![(vec![], vec![0]), (vec![2], vec![0]), (vec![3], vec![0])]
        } else {
            // Consumer took values pushed concurrently; 2 rejected, 3 taken.
            vec![(vec![1, 2, 3], vec![0, 1, 2]), (vec![1, 3], vec![0, 1, 3])]
        };
        assert_explored(&seen, &expected);
    }
}

/// Two producers race for `tail` while one of them also pops: each
/// accepted value comes out once, in its producer's order.
#[test]
fn two_producers_and_a_popper() {
    for cap in [1, 2] {
        let seen = explore("two_producers_and_a_popper", cap, move |b_first| {
            let ring = Arc::new(Ring::new(cap));
            ring.push(0).unwrap();
            let (accepted, (b_pushed, b_popped)) = race(
                ring.clone(),
                b_first,
                |r| {
                    [1, 2]
                        .into_iter()
                        .filter(|&v| r.push(v).is_ok())
                        .collect::<Vec<u32>>()
                },
                |r| (r.push(11).is_ok(), r.pop()),
            );
            let outcome = (accepted.clone(), b_pushed, b_popped);
            let sent: Vec<u32> = [0]
                .into_iter()
                .chain(accepted)
                .chain(b_pushed.then_some(11))
                .collect();
            // B's pop happened before the drain: one sequential order.
            let out: Vec<u32> = b_popped.into_iter().chain(drain(&ring)).collect();
            assert_each_once(&out, &sent);
            assert_fifo(&out, 0..3);
            outcome
        });
        let expected = if cap == 1 {
            vec![(vec![2], false, Some(0))]
        } else {
            // B's 11 took the free slot before A's 1, or between 1 and 2.
            vec![(vec![2], true, Some(0)), (vec![1], true, Some(0))]
        };
        assert_explored(&seen, &expected);
    }
}

/// Two consumers race for `head` while one of them also pushes: no value
/// is popped twice or lost.
#[test]
fn two_poppers_and_a_pusher() {
    for cap in [1, 2] {
        let seen = explore("two_poppers_and_a_pusher", cap, move |b_first| {
            let ring = Arc::new(Ring::new(cap));
            let initial = [0, 1];
            for &v in &initial[..cap] {
                ring.push(v).unwrap();
            }
            let ((a_popped, a_pushed), b_popped) = race(
                ring.clone(),
                b_first,
                |r| (r.pop(), r.push(10).is_ok()),
                |r| [r.pop(), r.pop()],
            );
            let outcome = (a_popped, a_pushed, b_popped);
            let sent: Vec<u32> = initial[..cap]
                .iter()
                .copied()
                .chain(a_pushed.then_some(10))
                .collect();
            let b_popped: Vec<u32> = b_popped.into_iter().flatten().collect();
            assert_fifo(&b_popped, 0..11);
            let all: Vec<u32> = a_popped
                .into_iter()
                .chain(b_popped)
                .chain(drain(&ring))
                .collect();
            assert_each_once(&all, &sent);
            outcome
        });
        let expected = if cap == 1 {
            vec![
                (Some(0), true, [Some(10), None]),
                (None, true, [Some(0), None]),
            ]
        } else {
            // B popped 0 before A popped 1, then got A's 10.
            vec![
                (Some(1), true, [Some(0), Some(10)]),
                (Some(0), true, [Some(1), None]),
            ]
        };
        assert_explored(&seen, &expected);
    }
}

/// `force_push` evicting races `push` and `pop`: every value is popped,
/// rejected, evicted-and-returned, or left in the ring, exactly once.
#[test]
fn force_push_races_push_and_pop() {
    for cap in [1, 2] {
        let seen = explore("force_push_races_push_and_pop", cap, move |b_first| {
            let ring = Arc::new(Ring::new(cap));
            ring.push(0).unwrap();
            let (evicted, (rejected, popped)) = race(
                ring.clone(),
                b_first,
                |r| {
                    [1, 2, 3]
                        .into_iter()
                        .filter_map(|v| r.force_push(v))
                        .collect::<Vec<u32>>()
                },
                |r| (r.push(11).err(), r.pop()),
            );
            let outcome = (evicted.clone(), rejected.is_some(), popped);
            let left = drain(&ring);
            assert!(left.len() <= cap, "outcome {outcome:?}");
            // Evictions take the oldest values, so they come out in order.
            assert_fifo(&evicted, 0..4);
            let out: Vec<u32> = popped.into_iter().chain(left.iter().copied()).collect();
            assert_fifo(&out, 0..4);
            let all: Vec<u32> = evicted.into_iter().chain(rejected).chain(out).collect();
            assert_each_once(&all, &[0, 1, 2, 3, 11]);
            outcome
        });
        let expected = if cap == 1 {
            vec![(vec![1, 2], true, Some(0)), (vec![0, 1, 2], true, Some(3))]
        } else {
            // B's pushed 11 was evicted by A.
            vec![
                (vec![0, 11, 1], false, Some(2)),
                (vec![11, 1], false, Some(0)),
            ]
        };
        assert_explored(&seen, &expected);
    }
}

/// Two `force_push`es race to evict from a full ring; one then pops, the
/// other checks `len`.
#[test]
fn force_push_races_force_push() {
    for cap in [1, 2] {
        let seen = explore("force_push_races_force_push", cap, move |b_first| {
            let ring = Arc::new(Ring::new(cap));
            // Start full, so that both force_pushes may evict.
            let initial = [0, 1];
            for &v in &initial[..cap] {
                ring.push(v).unwrap();
            }
            let ((a_evicted, popped), b_evicted) = race(
                ring.clone(),
                b_first,
                |r| (r.force_push(10), r.pop()),
                move |r| {
                    let evicted = r.force_push(11);
                    let len = r.len();
                    assert!(len <= cap, "len {len} > capacity {cap}");
                    evicted
                },
            );
            let outcome = (a_evicted, popped, b_evicted);
            let all: Vec<u32> = [a_evicted, b_evicted, popped]
                .into_iter()
                .flatten()
                .chain(drain(&ring))
                .collect();
            let sent: Vec<u32> = initial[..cap].iter().copied().chain([10, 11]).collect();
            assert_each_once(&all, &sent);
            outcome
        });
        // Each pusher was seen evicting the other's value.
        let expected = if cap == 1 {
            [(Some(0), Some(11), Some(10)), (Some(11), Some(10), Some(0))]
        } else {
            [(Some(0), Some(10), Some(1)), (Some(1), Some(11), Some(0))]
        };
        assert_explored(&seen, &expected);
    }
}

/// `close` races `push` and `force_push`: each value is popped, left in
/// the ring, evicted, or handed back by a push that saw the ring closed,
/// exactly once; once `close` has returned, every push fails.
#[test]
fn close_races_push_and_force_push() {
    for cap in [1, 2] {
        let seen = explore("close_races_push_and_force_push", cap, move |b_first| {
            let ring = Arc::new(Ring::new(cap));
            ring.push(0).unwrap();
            let ((pushed, forced), popped) = race(
                ring.clone(),
                b_first,
                |r| {
                    let pushed = r.push_open(1).map_err(|e| e.into_inner());
                    (pushed, r.force_push_open(2))
                },
                |r| {
                    assert!(r.close(), "the first close closes");
                    r.pop()
                },
            );
            assert!(ring.is_closed() && !ring.close());
            assert_eq!(ring.push(98), Err(98));
            assert_eq!(ring.force_push_open(99), Err(99));
            let left_len = ring.len();
            let left = drain(&ring);
            assert_eq!(left.len(), left_len);
            let out: Vec<u32> = popped.into_iter().chain(left).collect();
            assert_fifo(&out, 0..3);
            let all: Vec<u32> = out
                .iter()
                .copied()
                .chain(pushed.err())
                .chain(forced.unwrap_or_else(Some))
                .collect();
            assert_each_once(&all, &[0, 1, 2]);
            (pushed.is_ok(), forced, popped)
        });
        // Closed before both pushes, between them, or after both.
        let expected = if cap == 1 {
            vec![(false, Err(2), Some(0)), (false, Ok(Some(0)), Some(2))]
        } else {
            vec![
                (false, Err(2), Some(0)),
                (true, Err(2), Some(0)),
                (true, Ok(Some(0)), Some(1)),
            ]
        };
        assert_explored(&seen, &expected);
    }
}

/// A value that counts its drops.
struct Tracked {
    id: usize,
    drops: std::sync::Arc<[AtomicUsize; 3]>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::Relaxed);
    }
}

/// Values left in the ring are dropped exactly once, by whichever thread
/// drops the last handle, after concurrent evictions and rejections.
#[test]
fn drop_after_concurrent_force_push() {
    let seen = explore("drop_after_concurrent_force_push", 1, |b_first| {
        let drops = std::sync::Arc::new([const { AtomicUsize::new(0) }; 3]);
        let val = |id| Tracked {
            id,
            drops: drops.clone(),
        };
        let ring = Arc::new(Ring::new(1));
        let (v0, v1, v2) = (val(0), val(1), val(2));
        // `race` drops the main thread's handle: the last worker to finish
        // frees the ring and drops what is left in it.
        let outcome = race(
            ring,
            b_first,
            move |r| {
                let evicted = r.force_push(v0).map(|v| v.id);
                let rejected = r.push(v1).err().map(|v| v.id);
                (evicted, rejected)
            },
            move |r| r.force_push(v2).map(|v| v.id),
        );
        for (id, d) in drops.iter().enumerate() {
            assert_eq!(
                d.load(Ordering::Relaxed),
                1,
                "value {id}, outcome {outcome:?}"
            );
        }
        outcome
    });
    // B's value evicted by A, or A's by B.
    assert_explored(
        &seen,
        &[((None, Some(1)), Some(0)), ((Some(2), Some(1)), None)],
    );
}
