//! `merge`: many channels into one (core.async `merge`).

use crate::chan::{self, Receiver, Select, TryRecvError};

use super::{current_runtime, spawn_loop};

/// Merges several channels into one (core.async `merge`): returns a
/// channel that receives every value taken from any of `chs`, and closes
/// once every one of them has closed and been drained.
///
/// One go block waits on all inputs at once (a [`Select`] over them), so
/// no input waits behind another: whichever has a value is read, and
/// ready inputs take turns (round-robin), so a busy one cannot starve the
/// others. Values from one input keep their
/// order; values from different inputs interleave in no fixed way. Each
/// value waits in the go block until the output takes it, and no other
/// input is read meanwhile, so a slow consumer slows every producer.
///
/// The output is unbuffered, as core.async's `(merge chs)`;
/// [`merge_with_buffer`] gives it a buffer (`(merge chs buf)`). With no
/// inputs it is closed at once.
///
/// If every receiver of the output is dropped, the go block stops and
/// drops its inputs (the value it held is dropped with it); senders on an
/// input that nothing else receives from then get `Err(SendError(v))`.
/// (core.async's `merge` keeps draining its inputs into the closed output
/// instead; here a sender learns that nobody listens.)
///
/// # Panics
///
/// Outside a runtime: call it from a go block or inside
/// [`Runtime::block_on`](crate::Runtime::block_on).
///
/// # Examples
///
/// ```
/// use parkway::chan;
///
/// parkway::Runtime::new().unwrap().block_on(async {
///     let (tx_a, rx_a) = chan::bounded(4);
///     let (tx_b, rx_b) = chan::bounded(4);
///     let merged = parkway::merge([rx_a, rx_b]);
///     tx_a.send(1).await.unwrap();
///     tx_b.send(2).await.unwrap();
///     drop((tx_a, tx_b)); // both inputs close: so will the output, once drained
///
///     let mut got = Vec::new();
///     while let Some(v) = merged.recv().await {
///         got.push(v);
///     }
///     got.sort();
///     assert_eq!(got, [1, 2]);
/// });
/// ```
#[track_caller]
pub fn merge<T: Send + 'static>(chs: impl IntoIterator<Item = Receiver<T>>) -> Receiver<T> {
    merge_with_buffer(chs, 0)
}

/// [`merge`] with an output buffer of `buf` values (core.async's
/// `(merge chs buf)`; `0`: unbuffered).
///
/// # Panics
///
/// Outside a runtime (see [`merge`]).
#[track_caller]
pub fn merge_with_buffer<T: Send + 'static>(
    chs: impl IntoIterator<Item = Receiver<T>>,
    buf: usize,
) -> Receiver<T> {
    let rt = current_runtime("merge");
    let inputs: Vec<Receiver<T>> = chs.into_iter().collect();
    let (out, out_rx) = chan::bounded(buf);
    if inputs.is_empty() {
        // Nothing to wait for: `out` is dropped here, which closes it.
        return out_rx;
    }
    spawn_loop(&rt, "parkway::merge", async move {
        let mut inputs = inputs;
        // Where this round's look over the inputs starts (round-robin).
        let mut turn = 0usize;
        while !inputs.is_empty() {
            turn = turn.wrapping_add(1);
            let ready = match try_read(&inputs, turn) {
                Some(ready) => ready,
                None => {
                    let mut sel = Select::new();
                    for (i, rx) in inputs.iter().enumerate() {
                        sel.recv(rx, move |v| (i, v));
                    }
                    sel.select().await
                }
            };
            match ready {
                (_, Some(v)) => {
                    if out.send(v).await.is_err() {
                        return; // nobody receives the output any more
                    }
                }
                (i, None) => {
                    // Closed and drained: stop waiting on it. The order of
                    // the rest does not matter.
                    inputs.swap_remove(i);
                }
            }
        }
        // Every input closed; dropping `out` closes the output.
    });
    out_rx
}

/// A value (or the end) of the first input, round-robin from `turn`, that
/// has one now: what the select would pick, without building it (no
/// allocation, and it stops at the first ready input).
fn try_read<T>(inputs: &[Receiver<T>], turn: usize) -> Option<(usize, Option<T>)> {
    let n = inputs.len();
    (0..n).find_map(|k| {
        let i = (turn + k) % n;
        match inputs[i].try_recv() {
            Ok(v) => Some((i, Some(v))),
            Err(TryRecvError::Closed) => Some((i, None)),
            Err(TryRecvError::Empty) => None,
        }
    })
}
