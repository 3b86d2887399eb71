//! The task state word: who may touch a task's future, its output and its
//! join waker, and how many references keep its cell alive.
//!
//! Items are `pub` so the loom build can export this file alone
//! (`parkway::loom_task`); the module itself is crate-private.
//!
//! One `AtomicUsize` holds six flag bits and, above them, the reference
//! count. Every transition is one compare-and-swap (or one `fetch_*`), so
//! a wake, a poll, an abort and the `JoinHandle` can race freely.
//!
//! | bit | name | set by | cleared by |
//! |---|---|---|---|
//! | 0 | `SCHEDULED` | a wake of an idle task (the waker submits the task), a wake while running (the runner resubmits it), `abort` of an idle task | `transition_to_running` |
//! | 1 | `RUNNING` | `transition_to_running`, `transition_to_shutdown` (whoever sets it owns the future) | `transition_to_idle`, `transition_to_complete` |
//! | 2 | `COMPLETE` | `transition_to_complete`: the future is gone and the output (or the error) is stored; never cleared | — |
//! | 3 | `CANCELLED` | `abort`, runtime shutdown; never cleared | — |
//! | 4 | `JOIN_INTEREST` | spawn (the `JoinHandle` exists) | dropping the `JoinHandle` |
//! | 5 | `JOIN_WAKER` | the `JoinHandle` after writing the join waker: from then on the task side may read it | the `JoinHandle` (to replace the waker, only while not `COMPLETE`), or the task side after it has woken it on completion |
//!
//! References: one for the `JoinHandle`, one for the runtime's list of
//! live tasks (dropped when the task completes), one for each `Waker`, and
//! one for the queue entry while the task is scheduled. The cell is freed
//! when the count reaches zero; a count that would overflow aborts the
//! process (as `Arc` does), since a leaked waker loop is the only way there.
//!
//! Ownership rules that follow from the bits:
//! - the future is touched only by the holder of `RUNNING`;
//! - the output is written by the holder of `RUNNING` before it sets
//!   `COMPLETE`; after that it belongs to the `JoinHandle` if
//!   `JOIN_INTEREST` was set at that moment, else to the task side, which
//!   drops it;
//! - the join waker slot belongs to the `JoinHandle` while `JOIN_WAKER` is
//!   clear, and is read-only for both sides while it is set.

#![allow(unreachable_pub, reason = "pub only for the loom build's export")]

use crate::sync::{AtomicUsize, Ordering};

/// A wake asked for a poll that has not started yet.
const SCHEDULED: usize = 1 << 0;
/// Someone owns the future (polling or cancelling it).
const RUNNING: usize = 1 << 1;
/// The future is gone and the output is stored (or consumed).
const COMPLETE: usize = 1 << 2;
/// `abort` or shutdown asked the task to stop.
const CANCELLED: usize = 1 << 3;
/// A `JoinHandle` exists and wants the output.
const JOIN_INTEREST: usize = 1 << 4;
/// The join waker slot is filled and shared read-only with the task side.
const JOIN_WAKER: usize = 1 << 5;
/// Bits below this are flags; the reference count is counted in `REF_ONE`s.
const REF_SHIFT: usize = 6;
/// One reference.
const REF_ONE: usize = 1 << REF_SHIFT;

/// A copy of the state word, with accessors for its bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Snapshot(usize);

impl Snapshot {
    /// Whether `SCHEDULED` is set.
    pub fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
    /// Whether `RUNNING` is set.
    pub fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    /// Whether `COMPLETE` is set.
    pub fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    /// Whether `CANCELLED` is set.
    pub fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    /// Whether `JOIN_INTEREST` is set.
    pub fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    /// Whether `JOIN_WAKER` is set.
    pub fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    /// The reference count.
    pub fn refs(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("scheduled", &self.is_scheduled())
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.has_join_interest())
            .field("join_waker", &self.has_join_waker())
            .field("refs", &self.refs())
            .finish()
    }
}

/// What the worker that dequeued a task must do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAction {
    /// Poll the future (`RUNNING` is now held).
    Poll,
    /// Drop the future and complete with `Cancelled` (`RUNNING` is held).
    Cancel,
    /// The task completed meanwhile (or is being cancelled in place):
    /// drop the queue entry's reference and do nothing else.
    Skip,
}

/// What the runner must do after a poll returned `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleAction {
    /// The task is idle, and the queue entry's reference was dropped in
    /// the same step.
    Done,
    /// As `Done`, and that was the last reference: free the cell.
    Dealloc,
    /// A wake arrived during the poll: resubmit the task, reusing the queue
    /// entry's reference (`SCHEDULED` stays set).
    Reschedule,
    /// `abort` arrived during the poll: cancel now (`RUNNING` is still held).
    Cancel,
}

/// What a waker must do after marking the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeAction {
    /// Nothing: the task is complete, already scheduled, or running (its
    /// runner will resubmit it).
    None,
    /// Submit the task: a reference for the queue entry is accounted for.
    Submit,
    /// Nothing to submit, and the waker's reference must be dropped: the
    /// count reached zero, so the caller frees the cell. Only
    /// [`State::wake_by_val`] returns it.
    Dealloc,
}

/// The atomic state word of a task.
pub struct State {
    /// Flags and reference count, as the module doc describes.
    word: AtomicUsize,
}

impl State {
    /// The state of a task just spawned: scheduled (its queue entry is
    /// being made), wanted by a `JoinHandle`, with three references (queue
    /// entry, `JoinHandle`, live-task list).
    pub fn new_spawned() -> State {
        State {
            word: AtomicUsize::new(SCHEDULED | JOIN_INTEREST | (3 * REF_ONE)),
        }
    }

    /// The current state (Acquire: the output is visible if `COMPLETE`).
    pub fn load(&self) -> Snapshot {
        Snapshot(self.word.load(Ordering::Acquire))
    }

    /// Runs `f` on the current word until its CAS succeeds; `f` returns the
    /// new word and a result, or `Err` to stop without writing.
    fn update<R>(&self, mut f: impl FnMut(usize) -> Result<(usize, R), R>) -> R {
        let mut cur = self.word.load(Ordering::Acquire);
        loop {
            let (next, r) = match f(cur) {
                Ok(v) => v,
                Err(r) => return r,
            };
            match self
                .word
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return r,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A worker dequeued the task: take `RUNNING` and clear `SCHEDULED`,
    /// unless the task completed or someone else holds `RUNNING`.
    pub fn transition_to_running(&self) -> RunAction {
        self.update(|cur| {
            if cur & (RUNNING | COMPLETE) != 0 {
                return Err(RunAction::Skip);
            }
            let next = (cur | RUNNING) & !SCHEDULED;
            let action = if cur & CANCELLED != 0 {
                RunAction::Cancel
            } else {
                RunAction::Poll
            };
            Ok((next, action))
        })
    }

    /// A poll returned `Pending`: release `RUNNING`, unless an abort
    /// arrived (then keep it and cancel). When no wake arrived during the
    /// poll, the queue entry's reference is dropped in the same CAS.
    pub fn transition_to_idle(&self) -> IdleAction {
        self.update(|cur| {
            debug_assert!(cur & RUNNING != 0);
            if cur & CANCELLED != 0 {
                return Err(IdleAction::Cancel);
            }
            if cur & SCHEDULED != 0 {
                return Ok((cur & !RUNNING, IdleAction::Reschedule));
            }
            let next = dec_ref(cur & !RUNNING);
            let action = if next >> REF_SHIFT == 0 {
                IdleAction::Dealloc
            } else {
                IdleAction::Done
            };
            Ok((next, action))
        })
    }

    /// The output is stored: set `COMPLETE`, clear `RUNNING`. Returns the
    /// state before, whose `JOIN_INTEREST` and `JOIN_WAKER` say who owns
    /// the output and whether the join waker must be woken.
    pub fn transition_to_complete(&self) -> Snapshot {
        // RUNNING is set and COMPLETE clear, so one XOR flips both.
        let prev = Snapshot(self.word.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// After waking the join waker on completion: give the slot back to the
    /// `JoinHandle`. Returns the state after; if it has no
    /// `JOIN_INTEREST`, the `JoinHandle` is gone and the caller must drop
    /// the waker.
    pub fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = self.word.fetch_and(!JOIN_WAKER, Ordering::AcqRel);
        Snapshot(prev & !JOIN_WAKER)
    }

    /// A wake through a borrowed waker (`wake_by_ref`). On `Submit` a new
    /// reference was taken for the queue entry.
    pub fn wake_by_ref(&self) -> WakeAction {
        self.update(|cur| {
            if cur & (COMPLETE | SCHEDULED) != 0 {
                Err(WakeAction::None)
            } else if cur & RUNNING != 0 {
                Ok((cur | SCHEDULED, WakeAction::None))
            } else {
                Ok((inc_ref(cur) | SCHEDULED, WakeAction::Submit))
            }
        })
    }

    /// A wake consuming a waker (`wake`). On `Submit` the waker's reference
    /// moved to the queue entry; otherwise it was dropped, and `Dealloc`
    /// says it was the last one.
    pub fn wake_by_val(&self) -> WakeAction {
        self.update(|cur| {
            if cur & (COMPLETE | SCHEDULED) != 0 {
                let next = dec_ref(cur);
                let action = if next >> REF_SHIFT == 0 {
                    WakeAction::Dealloc
                } else {
                    WakeAction::None
                };
                Ok((next, action))
            } else if cur & RUNNING != 0 {
                // The runner holds a reference, so this cannot be the last.
                Ok((dec_ref(cur) | SCHEDULED, WakeAction::None))
            } else {
                Ok((cur | SCHEDULED, WakeAction::Submit))
            }
        })
    }

    /// `abort`: set `CANCELLED`. Returns `Submit` (with a new reference for
    /// the queue entry) when the task was idle and must be scheduled so a
    /// worker cancels it; a running or scheduled task is cancelled by
    /// whoever runs it next.
    pub fn transition_to_cancelled(&self) -> WakeAction {
        self.update(|cur| {
            if cur & (COMPLETE | CANCELLED) != 0 {
                Err(WakeAction::None)
            } else if cur & (RUNNING | SCHEDULED) != 0 {
                Ok((cur | CANCELLED, WakeAction::None))
            } else {
                Ok((inc_ref(cur) | CANCELLED | SCHEDULED, WakeAction::Submit))
            }
        })
    }

    /// Runtime shutdown: set `CANCELLED` and, if nobody runs the task and it
    /// is not complete, take `RUNNING` too. Returns whether the caller now
    /// owns the future and must cancel it in place.
    pub fn transition_to_shutdown(&self) -> bool {
        self.update(|cur| {
            if cur & (RUNNING | COMPLETE) != 0 {
                Ok((cur | CANCELLED, false))
            } else {
                Ok((cur | CANCELLED | RUNNING, true))
            }
        })
    }

    /// The `JoinHandle` wrote the join waker and publishes it. Fails (the
    /// slot stays the handle's) if the task completed meanwhile.
    pub fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|cur| {
            debug_assert!(cur & JOIN_INTEREST != 0 && cur & JOIN_WAKER == 0);
            if cur & COMPLETE != 0 {
                Err(Err(Snapshot(cur)))
            } else {
                Ok((cur | JOIN_WAKER, Ok(())))
            }
        })
    }

    /// The `JoinHandle` takes the join waker slot back to replace it. Fails
    /// if the task completed (then the task side owns the slot until it has
    /// woken the waker).
    pub fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|cur| {
            debug_assert!(cur & JOIN_INTEREST != 0 && cur & JOIN_WAKER != 0);
            if cur & COMPLETE != 0 {
                Err(Err(Snapshot(cur)))
            } else {
                Ok((cur & !JOIN_WAKER, Ok(())))
            }
        })
    }

    /// The `JoinHandle` is dropped: clear `JOIN_INTEREST` and, if the task
    /// is not complete, take the join waker slot back (`JOIN_WAKER`).
    /// Returns the state before: if it was `COMPLETE`, the handle owns the
    /// output and must drop it; if it was not complete and had
    /// `JOIN_WAKER`, the handle must drop the waker.
    pub fn drop_join_interest(&self) -> Snapshot {
        self.update(|cur| {
            debug_assert!(cur & JOIN_INTEREST != 0);
            let mut next = cur & !JOIN_INTEREST;
            if cur & COMPLETE == 0 {
                next &= !JOIN_WAKER;
            }
            Ok((next, Snapshot(cur)))
        })
    }

    /// Takes one more reference (a cloned waker, a queue entry).
    pub fn ref_inc(&self) {
        let prev = self.word.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops `n` references; returns whether they were the last, so the
    /// caller must free the cell.
    pub fn ref_dec(&self, n: usize) -> bool {
        let prev = self.word.fetch_sub(n * REF_ONE, Ordering::AcqRel);
        debug_assert!(prev >> REF_SHIFT >= n, "task reference count underflow");
        prev >> REF_SHIFT == n
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Snapshot(self.word.load(Ordering::Relaxed)).fmt(f)
    }
}

/// `cur` with one more reference; aborts on overflow.
fn inc_ref(cur: usize) -> usize {
    if cur > isize::MAX as usize {
        std::process::abort();
    }
    cur + REF_ONE
}

/// `cur` with one reference fewer.
fn dec_ref(cur: usize) -> usize {
    debug_assert!(cur >> REF_SHIFT > 0, "task reference count underflow");
    cur - REF_ONE
}
