//! `split`: one channel into two by a predicate (core.async `split`).

use crate::chan::{self, Receiver};

use super::{current_runtime, spawn_loop};

/// Splits a channel in two by a predicate (core.async `split`): returns
/// `(t, f)`, where `t` receives the values of `ch` for which `pred` is
/// true and `f` the others, each in `ch`'s order. Both close when `ch`
/// closes (after the values already taken are delivered).
///
/// Both outputs are unbuffered, as core.async's `(split p ch)`;
/// [`split_with_buffers`] gives them buffers. One go block reads `ch`,
/// calls `pred` and waits until the
/// chosen output takes the value before reading the next, so a slow
/// consumer of one side also holds back the other side once its buffer is
/// full.
///
/// If every receiver of one output is dropped, the values meant for it
/// are dropped and the other output keeps flowing; once both outputs are
/// gone the go block stops and drops `ch`. (core.async's `split` stops at
/// the first value an output refuses, which would silently starve the
/// other output.)
///
/// # Panics
///
/// Outside a runtime: call it from a go block or inside
/// [`Runtime::block_on`](crate::Runtime::block_on). A panic in `pred`
/// ends the go block (reported through its task, as any go block's
/// panic), which closes both outputs.
///
/// # Examples
///
/// ```
/// use parkway::chan;
///
/// parkway::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = chan::bounded(8);
///     let (evens, odds) = parkway::split_with_buffers(|v: &u32| v % 2 == 0, rx, 8, 8);
///     for v in 1..=6 {
///         tx.send(v).await.unwrap();
///     }
///     drop(tx);
///     let mut got_evens = Vec::new();
///     while let Some(v) = evens.recv().await {
///         got_evens.push(v);
///     }
///     assert_eq!(got_evens, [2, 4, 6]);
///     assert_eq!(odds.recv().await, Some(1));
/// });
/// ```
#[track_caller]
pub fn split<T: Send + 'static>(
    pred: impl Fn(&T) -> bool + Send + 'static,
    ch: Receiver<T>,
) -> (Receiver<T>, Receiver<T>) {
    split_with_buffers(pred, ch, 0, 0)
}

/// [`split`] with output buffers of `t_buf` and `f_buf` values (core.async's
/// `(split p ch t-buf f-buf)`; `0`: unbuffered).
///
/// # Panics
///
/// Outside a runtime (see [`split`]).
#[track_caller]
pub fn split_with_buffers<T: Send + 'static>(
    pred: impl Fn(&T) -> bool + Send + 'static,
    ch: Receiver<T>,
    t_buf: usize,
    f_buf: usize,
) -> (Receiver<T>, Receiver<T>) {
    let rt = current_runtime("split");
    let (t_tx, t_rx) = chan::bounded(t_buf);
    let (f_tx, f_rx) = chan::bounded(f_buf);
    spawn_loop(&rt, "parkway::split", async move {
        // An output whose receivers are gone is dropped here, so its
        // channel's state is settled and its values are skipped.
        let mut t_tx = Some(t_tx);
        let mut f_tx = Some(f_tx);
        while let Some(v) = ch.recv().await {
            let side = if pred(&v) { &mut t_tx } else { &mut f_tx };
            if let Some(tx) = side {
                if tx.send(v).await.is_err() {
                    *side = None;
                    if t_tx.is_none() && f_tx.is_none() {
                        return; // nobody receives either side
                    }
                }
            }
        }
        // `ch` closed: dropping the senders closes both outputs.
    });
    (t_rx, f_rx)
}
