//! Plumbing between channels, iterators and collections: `pipe`,
//! `onto_chan`, `to_chan` (background go blocks) and `reduce`, `into`
//! (async functions).

use std::panic::Location;

use super::{current_runtime, spawn_at};
use crate::chan::{self, Destination, Receiver, SendError};
use crate::task::JoinHandle;

/// Moves every value from `from` to `to` in a background go block, as
/// core.async's `pipe`.
///
/// When `from` closes, `to` is closed too if `close` is true. (With
/// `close` false, `to` stays open only while some other [`Sender`](crate::chan::Sender) of it
/// lives: a channel closes when its last sender is dropped.) If `to`
/// closes first, the pipe stops taking from `from`, and the value `to`
/// refused is handed back: the returned handle resolves to `Some(value)`
/// in that case, and to `None` once `from` closed and everything was
/// moved.
///
/// # Panics
///
/// Outside a runtime (see [`go`](crate::go)).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let (in_tx, in_rx) = parkway::chan::bounded(4);
/// let (out_tx, out_rx) = parkway::chan::bounded(4);
/// let done = parkway::pipe(in_rx, out_tx, true);
/// in_tx.send(1).await.unwrap();
/// drop(in_tx); // closes `in_rx`, and so `out_rx` after the 1
/// assert_eq!(out_rx.recv().await, Some(1));
/// assert_eq!(out_rx.recv().await, None);
/// assert_eq!(done.await.unwrap(), None);
/// # });
/// ```
#[track_caller]
pub fn pipe<T: Send + 'static>(
    from: Receiver<T>,
    to: impl Destination<T>,
    close: bool,
) -> JoinHandle<Option<T>> {
    let rt = current_runtime("pipe");
    spawn_at(&rt, "parkway::pipe", Location::caller(), async move {
        while let Some(v) = from.recv().await {
            if let Err(SendError(v)) = to.send(v).await {
                return Some(v);
            }
        }
        if close {
            to.close();
        }
        None
    })
}

/// Sends every item of `iter` onto `ch` in a background go block, waiting
/// for room as needed, as core.async's `onto-chan!`. Closes `ch` afterwards
/// if `close` is true (with `close` false, it stays open only while some
/// other [`Sender`](crate::chan::Sender) of it lives).
///
/// The handle resolves to `Ok(())` once every item was sent, or to the
/// [`SendError`] holding the first item `ch` refused because it closed (the
/// items after it are not taken from the iterator). The iterator runs on a
/// go worker: it must not block (use [`thread`](crate::thread) for an
/// iterator that reads files or sockets). If it panics, the handle gives
/// the panic as a [`JoinError`](crate::JoinError) and `ch`'s sender is
/// dropped (which closes it if it was the last).
///
/// # Panics
///
/// Outside a runtime (see [`go`](crate::go)).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = parkway::chan::bounded(2);
/// let done = parkway::onto_chan(tx, 1..=5, true);
/// let all = parkway::into(Vec::new(), rx).await;
/// assert_eq!(all, [1, 2, 3, 4, 5]);
/// assert!(done.await.unwrap().is_ok());
/// # });
/// ```
#[track_caller]
pub fn onto_chan<I>(
    ch: impl Destination<I::Item>,
    iter: I,
    close: bool,
) -> JoinHandle<Result<(), SendError<I::Item>>>
where
    I: IntoIterator + Send + 'static,
    I::IntoIter: Send,
    I::Item: Send + 'static,
{
    let rt = current_runtime("onto_chan");
    spawn_at(&rt, "parkway::onto_chan", Location::caller(), async move {
        for v in iter {
            ch.send(v).await?;
        }
        if close {
            ch.close();
        }
        Ok(())
    })
}

/// A channel that delivers the items of `iter` and then closes, as
/// core.async's `to-chan!`. Its buffer holds up to 100 items (fewer if the
/// iterator says it can have no more); a background go block fills it. If
/// the iterator panics, the channel closes early, as at its end: the panic
/// is printed by Rust's panic hook.
///
/// # Panics
///
/// Outside a runtime (see [`go`](crate::go)).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let rx = parkway::to_chan(vec!["a", "b"]);
/// assert_eq!(rx.recv().await, Some("a"));
/// assert_eq!(rx.recv().await, Some("b"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
#[track_caller]
pub fn to_chan<I>(iter: I) -> Receiver<I::Item>
where
    I: IntoIterator + Send + 'static,
    I::IntoIter: Send,
    I::Item: Send + 'static,
{
    let iter = iter.into_iter();
    // core.async's `(bounded-count 100 coll)`: the upper bound, capped.
    let cap = iter.size_hint().1.unwrap_or(100).clamp(1, 100);
    let (tx, rx) = chan::bounded(cap);
    // If every receiver goes away, the go block stops at its next send.
    drop(onto_chan(tx, iter, true));
    rx
}

/// Folds every value of `ch` into `init` with `f`, and returns the result
/// once `ch` closes, as core.async's `reduce` (an async function here, not
/// a channel of the result).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let sum = parkway::reduce(|acc, x| acc + x, 0, parkway::to_chan(1..=10)).await;
/// assert_eq!(sum, 55);
/// # });
/// ```
pub async fn reduce<T, A>(mut f: impl FnMut(A, T) -> A, init: A, ch: Receiver<T>) -> A {
    let mut acc = init;
    while let Some(v) = ch.recv().await {
        acc = f(acc, v);
    }
    acc
}

/// Adds every value of `ch` to `coll` and returns it once `ch` closes, as
/// core.async's `into`.
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// use std::collections::BTreeSet;
/// let set = parkway::into(BTreeSet::new(), parkway::to_chan([3, 1, 3, 2])).await;
/// assert_eq!(set.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
/// # });
/// ```
pub async fn into<T, C: Extend<T>>(mut coll: C, ch: Receiver<T>) -> C {
    while let Some(v) = ch.recv().await {
        coll.extend(Some(v));
    }
    coll
}
