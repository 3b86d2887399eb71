//! loom models of the task state machine (`runtime/src/task/state.rs`):
//! every interleaving of its transitions between a runner, wakers, the
//! `JoinHandle`, `abort` and shutdown, checking that no wake is lost, the
//! cell is freed exactly once, the output has exactly one owner, and a
//! cancel happens exactly once.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release
//! -p parkway --test loom_task` (with its own `CARGO_TARGET_DIR`).
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use parkway::loom_task::{IdleAction, RunAction, State, WakeAction};

/// A task that was spawned and dequeued: the runner holds `RUNNING` and the
/// queue entry's reference.
fn running_task() -> Arc<State> {
    let s = Arc::new(State::new_spawned());
    assert_eq!(s.transition_to_running(), RunAction::Poll);
    s
}

/// A wake during a poll is never lost: the poll saw it, the runner
/// reschedules, or the waker submits; and never both submit.
#[test]
fn wake_while_running_is_not_lost() {
    loom::model(|| {
        let s = running_task();
        let woke = Arc::new(AtomicBool::new(false));
        let waker = {
            let (s, woke) = (s.clone(), woke.clone());
            s.ref_inc(); // the waker's reference
            thread::spawn(move || {
                woke.store(true, SeqCst); // the event the task waits for
                s.wake_by_val()
            })
        };
        // The runner: the poll looks at the event, then goes idle.
        let saw = woke.load(SeqCst);
        let idle = s.transition_to_idle();
        let wake = waker.join().unwrap();
        let resubmitted =
            usize::from(idle == IdleAction::Reschedule) + usize::from(wake == WakeAction::Submit);
        assert!(resubmitted <= 1, "scheduled twice: {idle:?} {wake:?}");
        assert!(saw || resubmitted == 1, "lost wake: {idle:?} {wake:?}");
    });
}

/// Two wakers racing an idle task: exactly one submits.
#[test]
fn concurrent_wakes_submit_once() {
    loom::model(|| {
        let s = running_task();
        // Idle: the queue entry's reference goes in the same step.
        assert_eq!(s.transition_to_idle(), IdleAction::Done);
        let submits = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (s, submits) = (s.clone(), submits.clone());
                thread::spawn(move || {
                    if s.wake_by_ref() == WakeAction::Submit {
                        submits.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(submits.load(SeqCst), 1);
    });
}

/// Completion, the `JoinHandle`'s drop and a waker's drop race: the cell is
/// freed exactly once, and the output is dropped by exactly one side.
#[test]
fn complete_join_drop_and_waker_free_once() {
    loom::model(|| {
        let s = running_task();
        s.ref_inc(); // a waker
        let frees = Arc::new(AtomicUsize::new(0));
        let output_drops = Arc::new(AtomicUsize::new(0));

        let join = {
            let (s, frees, output_drops) = (s.clone(), frees.clone(), output_drops.clone());
            thread::spawn(move || {
                let prev = s.drop_join_interest();
                if prev.is_complete() {
                    output_drops.fetch_add(1, SeqCst);
                }
                if s.ref_dec(1) {
                    frees.fetch_add(1, SeqCst);
                }
            })
        };
        let waker = {
            let (s, frees) = (s.clone(), frees.clone());
            thread::spawn(move || {
                if s.wake_by_val() == WakeAction::Dealloc {
                    frees.fetch_add(1, SeqCst);
                }
            })
        };
        // The runner completes and drops the queue entry's and the list's
        // references.
        let prev = s.transition_to_complete();
        if !prev.has_join_interest() {
            output_drops.fetch_add(1, SeqCst);
        }
        if s.ref_dec(2) {
            frees.fetch_add(1, SeqCst);
        }
        join.join().unwrap();
        waker.join().unwrap();
        assert_eq!(frees.load(SeqCst), 1, "freed {} times", frees.load(SeqCst));
        assert_eq!(output_drops.load(SeqCst), 1);
    });
}

/// The join waker handshake: a `JoinHandle` that registered its waker is
/// woken by completion, or learns of the completion itself.
#[test]
fn join_waker_is_woken_or_sees_completion() {
    loom::model(|| {
        let s = running_task();
        let runner = {
            let s = s.clone();
            thread::spawn(move || {
                let prev = s.transition_to_complete();
                let woke = prev.has_join_interest() && prev.has_join_waker();
                if woke {
                    s.unset_join_waker_after_complete();
                }
                woke
            })
        };
        // JoinHandle::poll: not complete yet → publish the waker.
        let outcome = if s.load().is_complete() {
            "saw complete"
        } else {
            match s.set_join_waker() {
                Ok(()) => "registered",
                Err(_) => "saw complete",
            }
        };
        let woke = runner.join().unwrap();
        if outcome == "registered" {
            assert!(woke, "registered join waker never woken");
        } else {
            assert!(!woke, "woke a waker that was never published");
        }
    });
}

/// `JoinHandle` replaces its waker while the task completes: if the swap
/// fails the handle reads the output; the task side wakes only a waker
/// that is published.
#[test]
fn join_waker_replace_races_completion() {
    loom::model(|| {
        let s = running_task();
        assert!(s.set_join_waker().is_ok());
        let runner = {
            let s = s.clone();
            thread::spawn(move || {
                let prev = s.transition_to_complete();
                if prev.has_join_waker() {
                    s.unset_join_waker_after_complete();
                    true
                } else {
                    false
                }
            })
        };
        let replaced = match s.unset_join_waker() {
            Ok(()) => s.set_join_waker().is_ok(),
            Err(_) => false,
        };
        let woke = runner.join().unwrap();
        // Either the new waker is published (and then woken), or the handle
        // saw completion; the old waker may have been woken before the swap.
        if replaced {
            assert!(woke);
        }
        assert!(s.load().is_complete());
    });
}

/// `abort` racing a poll: the task is cancelled exactly once, by the
/// runner (before or after its poll) or by a second run the abort submits.
#[test]
fn abort_races_poll() {
    loom::model(|| {
        let s = Arc::new(State::new_spawned());
        let aborter = {
            let s = s.clone();
            thread::spawn(move || s.transition_to_cancelled())
        };
        let mut cancels = 0;
        match s.transition_to_running() {
            RunAction::Cancel => cancels += 1,
            RunAction::Poll => match s.transition_to_idle() {
                IdleAction::Cancel => cancels += 1,
                IdleAction::Done | IdleAction::Dealloc | IdleAction::Reschedule => {}
            },
            RunAction::Skip => unreachable!(),
        }
        let abort = aborter.join().unwrap();
        if abort == WakeAction::Submit {
            // The second run the abort scheduled.
            assert_eq!(s.transition_to_running(), RunAction::Cancel);
            cancels += 1;
        }
        assert_eq!(cancels, 1, "abort: {abort:?}");
    });
}

/// Shutdown racing a runner going idle: exactly one of them cancels.
#[test]
fn shutdown_races_idle() {
    loom::model(|| {
        let s = running_task();
        let shutdown = {
            let s = s.clone();
            thread::spawn(move || s.transition_to_shutdown())
        };
        let runner_cancels = s.transition_to_idle() == IdleAction::Cancel;
        let shutdown_cancels = shutdown.join().unwrap();
        assert!(runner_cancels ^ shutdown_cancels);
    });
}

/// Going idle drops the queue entry's reference in the same step; racing
/// the drop of the last waker, the cell is freed exactly once.
#[test]
fn idle_and_last_waker_drop_free_once() {
    loom::model(|| {
        let s = running_task();
        // The handle and the live-task list let go; a waker remains.
        s.drop_join_interest();
        assert!(!s.ref_dec(2));
        s.ref_inc();
        let frees = Arc::new(AtomicUsize::new(0));
        let waker = {
            let (s, frees) = (s.clone(), frees.clone());
            thread::spawn(move || {
                if s.ref_dec(1) {
                    frees.fetch_add(1, SeqCst);
                }
            })
        };
        match s.transition_to_idle() {
            IdleAction::Dealloc => {
                frees.fetch_add(1, SeqCst);
            }
            IdleAction::Done => {}
            other => panic!("unexpected {other:?}"),
        }
        waker.join().unwrap();
        assert_eq!(frees.load(SeqCst), 1);
    });
}
