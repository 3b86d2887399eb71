//! The go block of a [`Mix`](super::Mix): reads its inputs per a *plan*,
//! delivers or drops each value, and replans when the state changes.
//!
//! A plan is the inputs to read and, for each, whether its values are
//! delivered or dropped, computed from the shared state under its lock
//! (core.async's `calc-state`). The go block selects over the plan's
//! inputs plus the mix's change channel, which has priority; the inputs
//! are tried round-robin after it, so a change is seen at the next read
//! and no ready input starves. Before building a select, it looks for a
//! ready input without waiting (no allocation, and it stops at the first
//! ready one), which keeps a busy mix of thousands of inputs cheap.

use std::sync::Arc;

use crate::chan::{Receiver, Select, Sender, TryRecvError};
use crate::sync::Ordering;

use super::mix::{Shared, SoloMode};

/// What the go block reads, and what it does with each input's values.
struct Plan<T> {
    /// The inputs to read.
    reads: Vec<Receiver<T>>,
    /// `deliver[i]`: whether values of `reads[i]` go to `out`.
    deliver: Vec<bool>,
    /// Nothing to read, and no handle left to change that: the go block
    /// should stop.
    exit: bool,
}

impl<T> Plan<T> {
    /// The plan for the current state (core.async's `calc-state`).
    fn snapshot(shared: &Shared<T>) -> Self {
        let st = shared.state.lock();
        let any_solo = st.inputs.iter().any(|i| i.solo);
        let solo_pauses = any_solo && st.solo_mode == SoloMode::Pause;
        let mut reads = Vec::new();
        let mut deliver = Vec::new();
        for input in &st.inputs {
            let read = if solo_pauses {
                input.solo
            } else {
                !input.pause
            };
            if read {
                reads.push(input.rx.clone());
                deliver.push(if any_solo { input.solo } else { !input.mute });
            }
        }
        // Only handles change the state, so with none left (read under the
        // lock) the plan is final.
        let exit = reads.is_empty() && shared.handles.load(Ordering::Acquire) == 0;
        Self {
            reads,
            deliver,
            exit,
        }
    }

    /// Whether values of `rx` are delivered, if this plan reads it.
    fn delivers(&self, rx: &Receiver<T>) -> Option<bool> {
        let i = self.reads.iter().position(|r| r.same_channel(rx))?;
        Some(self.deliver[i])
    }
}

/// What one select of the go block yields.
enum Event<T> {
    /// The state changed.
    Changed,
    /// `reads[i]` gave a value, or `None`: it is closed and drained.
    Input(usize, Option<T>),
}

/// The go block: reads per the plan, delivers or drops, replans on change.
pub(super) async fn run<T: Send + 'static>(
    out: Sender<T>,
    changed: Receiver<()>,
    shared: Arc<Shared<T>>,
) {
    let _exit = StopOnExit(shared.clone());
    // Where the round-robin over the inputs starts this round.
    let mut turn = 0usize;
    'replan: loop {
        // A pending poke is covered by the snapshot taken after it.
        let _ = changed.try_recv();
        let mut plan = Plan::snapshot(&shared);
        if plan.exit {
            return; // nothing to read, and nobody can change that
        }
        loop {
            if out.is_closed() {
                return; // core.async: the mix stops when `out` refuses
            }
            let event = match try_read(&changed, &plan.reads, turn) {
                Some(event) => event,
                None => {
                    let n = plan.reads.len();
                    let mut sel = Select::new();
                    sel.priority().recv(&changed, |_| Event::Changed);
                    for k in 0..n {
                        let i = (turn + k) % n;
                        sel.recv(&plan.reads[i], move |v| Event::Input(i, v));
                    }
                    sel.select().await
                }
            };
            turn = turn.wrapping_add(1);
            match event {
                Event::Changed => continue 'replan,
                Event::Input(i, None) => {
                    let rx = plan.reads.swap_remove(i);
                    plan.deliver.swap_remove(i);
                    remove_input(&shared, &rx);
                    drop(rx);
                    if plan.reads.is_empty() {
                        continue 'replan; // is anything left to wait for?
                    }
                }
                Event::Input(i, Some(v)) => {
                    let mut deliver = plan.deliver[i];
                    let mut exit = false;
                    if changed.try_recv().is_ok() {
                        // The state changed while this value was being read:
                        // mute and solo apply to it (see `Mix`'s docs).
                        let rx = plan.reads[i].clone();
                        plan = Plan::snapshot(&shared);
                        deliver = plan.delivers(&rx).unwrap_or(deliver);
                        exit = plan.exit;
                    }
                    if deliver && out.send(v).await.is_err() {
                        return;
                    }
                    if exit {
                        return;
                    }
                }
            }
        }
    }
}

/// The select's choice, if it can be made without waiting: a change
/// first, then the first input, round-robin from `turn`, that has a value
/// or is closed. Cheaper than building the select when inputs are busy
/// (no allocation, and it stops at the first ready input).
fn try_read<T>(changed: &Receiver<()>, reads: &[Receiver<T>], turn: usize) -> Option<Event<T>> {
    if changed.try_recv().is_ok() {
        return Some(Event::Changed);
    }
    let n = reads.len();
    (0..n).find_map(|k| {
        let i = (turn + k) % n;
        match reads[i].try_recv() {
            Ok(v) => Some(Event::Input(i, Some(v))),
            Err(TryRecvError::Closed) => Some(Event::Input(i, None)),
            Err(TryRecvError::Empty) => None,
        }
    })
}

/// Removes the closed input `rx` from the state.
fn remove_input<T>(shared: &Shared<T>, rx: &Receiver<T>) {
    let removed = {
        let mut st = shared.state.lock();
        let i = st.inputs.iter().position(|i| i.rx.same_channel(rx));
        i.map(|i| st.inputs.swap_remove(i))
    };
    drop(removed);
}

/// Runs when the go block ends, however it ends: marks the mix stopped and
/// drops its inputs.
struct StopOnExit<T>(Arc<Shared<T>>);

impl<T> Drop for StopOnExit<T> {
    fn drop(&mut self) {
        let inputs = {
            let mut st = self.0.state.lock();
            st.stopped = true;
            std::mem::take(&mut st.inputs)
        };
        drop(inputs);
    }
}
