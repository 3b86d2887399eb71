//! The pipeline family: `pipeline` (cheap CPU work on go blocks),
//! `pipeline_blocking` (work on the blocking pool) and `pipeline_async`
//! (work that finishes later, through a channel), with core.async's
//! semantics: outputs in input order, at most `n` items at work at once.
//!
//! # How order is kept
//!
//! `pipeline` deals the inputs round-robin to `n` lanes: a dispatcher go
//! block sends input `k` into lane `k % n`, each lane has one worker go
//! block processing its inputs in order, and a collector go block takes
//! the results from lane 0, 1, .., n-1, 0, .. in turn. Input `k`'s outputs
//! are therefore the collector's `k`-th batch: order needs no sequence
//! numbers, no reorder buffer and no allocation per item. A worker ends its
//! lane with an end marker once its input closed, so the collector tells
//! the end of the input (a marker) from a worker that died (strict
//! go-check failing it, say: the lane closes without one). The price is
//! head-of-line blocking: a slow item holds up its lane, and the other
//! lanes run ahead by at most [`LANE_CAPACITY`] items; items that are slow
//! with a period of `n` all land on one lane. That suits cheap, even work,
//! which is what `pipeline` is for.
//!
//! `pipeline_blocking` (slow, uneven work) and `pipeline_async` share work
//! instead, as core.async does: the dispatcher queues, per input, a result
//! slot in an order queue (at most `n` outstanding), and any free worker
//! (`pipeline_blocking`: `n` go blocks, each running one pool job at a
//! time; `pipeline_async`: `af` itself) fills the slot; the collector
//! drains the slots in order.
//!
//! # Stopping
//!
//! The collector holds a stop channel; however it ends (its output closed,
//! the runtime shutting down, its handle aborted), the channel closes, and
//! the dispatcher, which waits on it whenever it would wait on anything
//! else, stops at once and drops `from`. At most the items already taken
//! (a few per lane, or `n` slots) are dropped.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;

use parkway_blocking_pool::{Id, Origin};
use parkway_channels::oneshot;

use super::{current_runtime, spawn_at};
use crate::chan::{self, Destination, Receiver, Sender, TryRecvError, TrySendError};
use crate::task::{JoinError, JoinHandle};

/// How many inputs, and how many results, each lane of `pipeline` buffers:
/// a lane can run up to about twice this many items ahead of a slow one.
pub const LANE_CAPACITY: usize = 16;

/// The error handler: turns a failed item into the output to deliver in
/// its place, if any.
type Handler<U> = Arc<dyn Fn(JoinError) -> Option<U> + Send + Sync + 'static>;

/// A pipeline's settings: parallelism, whether to close the output, and
/// what a failing item produces. [`pipeline`], [`pipeline_blocking`] and
/// [`pipeline_async`] are shorthands for the common case; use this builder
/// to set an error handler.
///
/// # The shape of `f`
///
/// `f` (for [`run`](Pipeline::run) and
/// [`run_blocking`](Pipeline::run_blocking)) returns any
/// [`IntoIterator`] of outputs: zero or more outputs per input, as
/// core.async's transducers give. Return `[x]` or `Some(x)` for one output,
/// `None` to drop an input, a `Vec` for several. `af` (for
/// [`run_async`](Pipeline::run_async)) gets each input with a
/// [`Sender`] of its own, sends zero or more outputs on it, and signals the
/// item done by dropping (or closing) it, typically from a go block or a
/// callback it starts.
///
/// # The output
///
/// `to` is any [`Destination`]: a plain [`Sender`], or the
/// [`TransformSender`](crate::chan::TransformSender) of a transform channel
/// (core.async's `(pipeline n (chan 10 xf) ..)`).
///
/// # Errors in items
///
/// An item whose `f` (or `af`, or the iterator `f` returns) panics gives a
/// [`JoinError`] with [`is_panic`](JoinError::is_panic) true, naming the
/// pipeline's call site; the handler set with
/// [`on_error`](Pipeline::on_error) turns it into the output to deliver in
/// the item's place (`Some(v)`), or into nothing (`None`). Without a
/// handler the item produces nothing; the panic has been printed by Rust's
/// panic hook, as core.async's default handler prints the exception. The
/// pipeline goes on either way. For expected failures, prefer outputs of a
/// `Result` type to panics.
///
/// The handler also gets the errors of `pipeline_blocking` items the
/// blocking pool never ran (the runtime shutting down:
/// [`is_cancelled`](JoinError::is_cancelled); the OS refusing a thread:
/// [`is_spawn_failed`](JoinError::is_spawn_failed)). An `af` that panics
/// after sending some outputs: those are dropped, and the handler's output
/// (if any) stands for the whole item.
///
/// A worker go block that dies (strict go-check failing a stalled `f`, for
/// one) ends the pipeline: `to` is closed as at the end (with `close`),
/// and the pipeline's handle gives a [`JoinError`] saying which item's
/// outputs were lost first, rather than `Ok`.
///
/// # Examples
///
/// ```
/// use parkway::{chan, Pipeline};
///
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let (out_tx, out_rx) = chan::bounded::<Result<u32, String>>(16);
/// let done = Pipeline::new(4)
///     .on_error(|e| Some(Err(e.panic_message().unwrap_or("?").to_string())))
///     .run(
///         out_tx,
///         |x: u32| {
///             assert!(x != 3, "three is not allowed");
///             Some(Ok(x * 10))
///         },
///         parkway::to_chan(1..=4),
///     );
/// let got = parkway::into(Vec::new(), out_rx).await;
/// assert_eq!(got[..2], [Ok(10), Ok(20)]);
/// assert!(got[2].as_ref().unwrap_err().contains("three is not allowed"));
/// assert_eq!(got[3], Ok(40));
/// done.await.unwrap();
/// # });
/// ```
pub struct Pipeline<U> {
    /// At most this many items at work at once.
    n: usize,
    /// Whether to close `to` when `from` closes.
    close: bool,
    /// What a failing item produces.
    on_error: Option<Handler<U>>,
    /// Where the pipeline was set up (for its errors and task names).
    location: &'static Location<'static>,
}

impl<U> fmt::Debug for Pipeline<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("n", &self.n)
            .field("close", &self.close)
            .field("on_error", &self.on_error.is_some())
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

impl<U: Send + 'static> Pipeline<U> {
    /// A pipeline running at most `n` items at once, closing its output
    /// when its input closes, with no error handler.
    ///
    /// # Panics
    ///
    /// If `n` is zero.
    #[track_caller]
    pub fn new(n: usize) -> Pipeline<U> {
        assert!(
            n > 0,
            "parkway: a pipeline's parallelism `n` must be at least 1"
        );
        Pipeline {
            n,
            close: true,
            on_error: None,
            location: Location::caller(),
        }
    }

    /// Whether to close the output channel once the input closed and every
    /// output was delivered (default `true`, as core.async's). With
    /// `false`, the output stays open only while some other [`Sender`] of
    /// it lives.
    pub fn close(mut self, close: bool) -> Pipeline<U> {
        self.close = close;
        self
    }

    /// Sets what a failing item produces: `handler` gets the item's
    /// [`JoinError`] and returns the output to deliver in its place, or
    /// `None` for nothing. See [Errors in items](Pipeline#errors-in-items).
    ///
    /// The handler runs where the item ran: on a go worker for
    /// [`run`](Pipeline::run) and [`run_async`](Pipeline::run_async) (so
    /// it must not block: no `send_blocking`, which go-check flags), on a
    /// blocking-pool thread for [`run_blocking`](Pipeline::run_blocking).
    /// A handler that panics produces nothing for the item.
    pub fn on_error(
        mut self,
        handler: impl Fn(JoinError) -> Option<U> + Send + Sync + 'static,
    ) -> Pipeline<U> {
        self.on_error = Some(Arc::new(handler));
        self
    }

    /// Runs `f` on go blocks over every value of `from`, sending the
    /// outputs to `to` in input order; see [`pipeline`].
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`go`](crate::go)).
    #[track_caller]
    pub fn run<T, R, F>(self, to: impl Destination<U>, f: F, from: Receiver<T>) -> JoinHandle<()>
    where
        T: Send + 'static,
        R: IntoIterator<Item = U>,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let rt = current_runtime("pipeline");
        let location = self.location;
        let items = Items {
            f: Arc::new(f),
            on_error: self.on_error.clone(),
            location,
        };
        if self.n == 1 {
            // One at a time: one go block does it all, in order.
            let close = self.close;
            return spawn_at(&rt, "parkway::pipeline", location, async move {
                // Closes `to` however this go block ends (strict go-check
                // failing a stalled `f` included), as the wider pipelines do.
                let to = CloseOnDrop {
                    to,
                    close,
                    _items: PhantomData,
                };
                while let Some(v) = from.recv().await {
                    if deliver(&to.to, items.run(v)).await.is_err() {
                        return;
                    }
                }
            });
        }
        let n = self.n;
        let (stop_tx, stop_rx) = chan::bounded::<()>(1);
        let mut inputs = Vec::with_capacity(n);
        let mut outputs = Vec::with_capacity(n);
        let mut workers = Vec::with_capacity(n);
        for _ in 0..n {
            // `None` is the end marker the dispatcher sends at the end of
            // the input; a lane closed without it was abandoned.
            let (in_tx, in_rx) = chan::bounded::<Option<T>>(LANE_CAPACITY);
            let (out_tx, out_rx) = chan::bounded::<Batch<U>>(LANE_CAPACITY);
            let items = items.clone();
            workers.push(spawn_at(
                &rt,
                "parkway::pipeline worker",
                location,
                async move {
                    loop {
                        match in_rx.recv().await {
                            Some(Some(v)) => {
                                if out_tx.send(items.run(v)).await.is_err() {
                                    return;
                                }
                            }
                            // The end of the input: pass the marker on.
                            Some(None) => {
                                let _ = out_tx.send(Batch::End).await;
                                return;
                            }
                            // Abandoned: the collector sees the lane close
                            // without a marker.
                            None => return,
                        }
                    }
                },
            ));
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        spawn_at(&rt, "parkway::pipeline dispatcher", location, async move {
            let mut lane = 0;
            while let Some(v) = next_input(&from, &stop_rx).await {
                if !forward(&inputs[lane], Some(v), &stop_rx).await {
                    // A lane refused: its worker died or the collector is
                    // gone. Abandon the lanes, with no end marker.
                    return;
                }
                lane = if lane + 1 == n { 0 } else { lane + 1 };
            }
            if stop_rx.is_closed() {
                return;
            }
            for input in &inputs {
                if !forward(input, None, &stop_rx).await {
                    return;
                }
            }
        });
        let close = self.close;
        spawn_at(&rt, "parkway::pipeline collector", location, async move {
            let stop = stop_tx;
            let mut lane = 0;
            let mut item: u64 = 0;
            let ended = loop {
                match outputs[lane].recv().await {
                    Some(Batch::End) => break true,
                    Some(batch) => {
                        if deliver(&to, batch).await.is_err() {
                            return;
                        }
                    }
                    // Closed without the end marker: abandoned.
                    None => break false,
                }
                item += 1;
                lane = if lane + 1 == n { 0 } else { lane + 1 };
            };
            // Let the dispatcher go (it may be waiting on an idle `from`),
            // so every worker ends: lanes closed, or end markers.
            drop(stop);
            drop(outputs);
            if close {
                to.close();
            }
            if ended {
                // Every output was delivered: a worker failed after
                // finishing its lane (go-check reported it) lost nothing.
                return;
            }
            let mut failure = None;
            for worker in workers {
                if let Err(e) = worker.await {
                    failure.get_or_insert(e);
                }
            }
            if let Some(e) = failure {
                panic!(
                    "parkway::pipeline (started at {location}): a worker failed ({e}); the \
                     outputs of item {item} and later were not delivered"
                );
            }
        })
    }

    /// Runs `f` on the blocking pool over every value of `from`, sending
    /// the outputs to `to` in input order; see [`pipeline_blocking`].
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`go`](crate::go)).
    #[track_caller]
    pub fn run_blocking<T, R, F>(
        self,
        to: impl Destination<U>,
        f: F,
        from: Receiver<T>,
    ) -> JoinHandle<()>
    where
        T: Send + 'static,
        R: IntoIterator<Item = U>,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let rt = current_runtime("pipeline_blocking");
        let location = self.location;
        let items = Items {
            f: Arc::new(f),
            on_error: self.on_error.clone(),
            location,
        };
        let n = self.n;
        let (stop_tx, stop_rx) = chan::bounded::<()>(1);
        // At most n slots outstanding: the dispatcher waits for the
        // collector beyond that.
        let (order_tx, order_rx) = chan::bounded::<oneshot::Receiver<Batch<U>>>(n);
        let (jobs_tx, jobs_rx) = chan::bounded::<(T, oneshot::Sender<Batch<U>>)>(n);
        for _ in 0..n {
            let jobs_rx = jobs_rx.clone();
            let items = items.clone();
            spawn_at(
                &rt,
                "parkway::pipeline_blocking worker",
                location,
                async move {
                    while let Some((v, slot)) = jobs_rx.recv().await {
                        let job = items.clone();
                        // One pool job per item: a worker never holds a pool
                        // thread while it waits, so a pool smaller than `n`
                        // cannot deadlock the pipeline.
                        let batch = match crate::thread(move || job.run(v)).await {
                            Ok(batch) => batch,
                            // `run` catches the item's panics; this is a job the
                            // pool never ran (the runtime is shutting down) or
                            // could not start a thread for.
                            Err(e) => Batch::from_option(handle_error(items.on_error.as_ref(), e)),
                        };
                        // The collector gone: the batch goes with the slot.
                        let _ = slot.send(batch);
                    }
                },
            );
        }
        drop(jobs_rx);
        spawn_at(
            &rt,
            "parkway::pipeline_blocking dispatcher",
            location,
            async move {
                while let Some(v) = next_input(&from, &stop_rx).await {
                    let (slot_tx, slot_rx) = chan::oneshot();
                    if !forward(&order_tx, slot_rx, &stop_rx).await
                        || !forward(&jobs_tx, (v, slot_tx), &stop_rx).await
                    {
                        return;
                    }
                }
            },
        );
        let close = self.close;
        spawn_at(
            &rt,
            "parkway::pipeline_blocking collector",
            location,
            async move {
                let _stop = stop_tx;
                let mut item: u64 = 0;
                while let Some(slot) = order_rx.recv().await {
                    match slot.await {
                        Ok(batch) => {
                            if deliver(&to, batch).await.is_err() {
                                return;
                            }
                        }
                        Err(_) => {
                            // The slot's sender dropped unfilled: its worker died.
                            if close {
                                to.close();
                            }
                            panic!(
                                "parkway::pipeline_blocking (started at {location}): a worker \
                             failed; the outputs of item {item} and later were not delivered"
                            );
                        }
                    }
                    item += 1;
                }
                if close {
                    to.close();
                }
            },
        )
    }

    /// Calls `af` for every value of `from` with a channel of its own, and
    /// sends what `af` puts on each channel to `to`, in input order; see
    /// [`pipeline_async`].
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`go`](crate::go)).
    #[track_caller]
    pub fn run_async<T, F>(
        self,
        to: impl Destination<U>,
        af: F,
        from: Receiver<T>,
    ) -> JoinHandle<()>
    where
        T: Send + 'static,
        F: Fn(T, Sender<U>) + Send + Sync + 'static,
    {
        let rt = current_runtime("pipeline_async");
        let n = self.n;
        let location = self.location;
        let (stop_tx, stop_rx) = chan::bounded::<()>(1);
        let (token_tx, token_rx) = chan::bounded::<()>(n);
        for _ in 0..n {
            // Fresh, capacity n: n tokens fit.
            let _ = token_tx.try_send(());
        }
        // At most n result channels are out at once (the tokens), so the
        // queue never makes the dispatcher wait. `None` marks the end of
        // the input, so the collector tells it from a dispatcher that died
        // (`af` stalling it under strict go-check, say).
        let (queue_tx, queue_rx) = chan::bounded::<Option<Receiver<U>>>(n + 1);
        let on_error = self.on_error;
        spawn_at(
            &rt,
            "parkway::pipeline_async dispatcher",
            location,
            async move {
                loop {
                    // A token first: at most n items at work.
                    if token_rx.recv().await.is_none() {
                        return;
                    }
                    let Some(v) = next_input(&from, &stop_rx).await else {
                        if !stop_rx.is_closed() {
                            let _ = queue_tx.send(None).await;
                        }
                        return;
                    };
                    let (tx, rx) = chan::bounded(1);
                    let results = match panic::catch_unwind(AssertUnwindSafe(|| af(v, tx))) {
                        Ok(()) => rx,
                        Err(payload) => {
                            let err = item_error(location, payload);
                            let (tx, replacement) = chan::bounded(1);
                            if let Some(u) = handle_error(on_error.as_ref(), err) {
                                let _ = tx.try_send(u);
                            }
                            // `tx` drops here: `replacement` closes after it.
                            replacement
                        }
                    };
                    if queue_tx.send(Some(results)).await.is_err() {
                        return;
                    }
                }
            },
        );
        let close = self.close;
        spawn_at(
            &rt,
            "parkway::pipeline_async collector",
            location,
            async move {
                let _stop = stop_tx;
                let mut item: u64 = 0;
                loop {
                    match queue_rx.recv().await {
                        Some(Some(results)) => {
                            while let Some(u) = results.recv().await {
                                if to.send(u).await.is_err() {
                                    return;
                                }
                            }
                            // The dispatcher may be gone (its input closed):
                            // then no token is needed any more.
                            let _ = token_tx.try_send(());
                        }
                        Some(None) => break,
                        None => {
                            if close {
                                to.close();
                            }
                            panic!(
                                "parkway::pipeline_async (started at {location}): its dispatcher \
                             failed (did `af` block?); the outputs of item {item} and later \
                             were not delivered"
                            );
                        }
                    }
                    item += 1;
                }
                if close {
                    to.close();
                }
            },
        )
    }
}

/// Runs `f` over every value of `from` on go blocks, at most `n` at once,
/// and sends the outputs to `to` in input order, as core.async's
/// `pipeline`. For cheap CPU work: `f` runs on a go worker and must not
/// block (use [`pipeline_blocking`] for work that does).
///
/// `f` returns zero or more outputs per input (any [`IntoIterator`]:
/// `Some(x)`, `[x]`, a `Vec`; see [the shape of `f`](Pipeline#the-shape-of-f)).
/// When `from` closes and every output was delivered, `to` is closed if
/// `close` is true; the returned handle resolves then. If `to` closes
/// first, the pipeline stops taking from `from` (values it took and had not
/// delivered are dropped). A panicking item produces nothing; set a handler
/// with [`Pipeline::on_error`] to choose otherwise.
///
/// Its `n` lanes are made up front: two channels of [`LANE_CAPACITY`]
/// slots and a go block each, whatever the input, so a very large `n`
/// costs memory and set-up time before the first item. Pick `n` near the
/// number of cores.
///
/// It reads ahead: with a slow consumer it takes up to about
/// `2 × LANE_CAPACITY + 1` values per lane from `from` before waiting
/// (core.async's pipeline about 2 in all per unit of `n`), which is what
/// lets each lane move values in runs (with lanes of 4 instead of 16 it
/// measured about half the throughput). Those values are dropped if `to`
/// closes. [`pipeline_blocking`] and [`pipeline_async`] read ahead only
/// about `n`.
///
/// # Panics
///
/// If `n` is zero; outside a runtime (see [`go`](crate::go)).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = parkway::chan::bounded(8);
/// parkway::pipeline(4, tx, |x: u64| Some(x * x), parkway::to_chan(1..=5), true);
/// assert_eq!(parkway::into(Vec::new(), rx).await, [1, 4, 9, 16, 25]);
/// # });
/// ```
#[track_caller]
pub fn pipeline<T, U, R, F>(
    n: usize,
    to: impl Destination<U>,
    f: F,
    from: Receiver<T>,
    close: bool,
) -> JoinHandle<()>
where
    T: Send + 'static,
    U: Send + 'static,
    R: IntoIterator<Item = U>,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    Pipeline::new(n).close(close).run(to, f, from)
}

/// As [`pipeline`], but `f` runs on the blocking pool (one pool job per
/// item, at most `n` at once), as core.async's `pipeline-blocking`: for
/// work that blocks (file or network I/O through blocking APIs) or runs
/// long.
///
/// # Panics
///
/// If `n` is zero; outside a runtime (see [`go`](crate::go)).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// let (tx, rx) = parkway::chan::bounded(8);
/// parkway::pipeline_blocking(
///     4,
///     tx,
///     |ms: u64| {
///         std::thread::sleep(Duration::from_millis(ms)); // blocking is fine here
///         Some(ms)
///     },
///     parkway::to_chan([30, 10, 20, 0]),
///     true,
/// );
/// // Input order, whatever order they finished in.
/// assert_eq!(parkway::into(Vec::new(), rx).await, [30, 10, 20, 0]);
/// # });
/// ```
#[track_caller]
pub fn pipeline_blocking<T, U, R, F>(
    n: usize,
    to: impl Destination<U>,
    f: F,
    from: Receiver<T>,
    close: bool,
) -> JoinHandle<()>
where
    T: Send + 'static,
    U: Send + 'static,
    R: IntoIterator<Item = U>,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    Pipeline::new(n).close(close).run_blocking(to, f, from)
}

/// As [`pipeline`], for work that completes later, as core.async's
/// `pipeline-async`: `af(input, results)` starts the work (a go block, a
/// callback, a request) and returns at once; the work sends zero or more
/// outputs on `results` and signals the item done by dropping (or closing)
/// it. Outputs reach `to` in input order; at most `n` items are at work at
/// once. `af` itself runs on a go worker and must not block. Each item's
/// `results` channel holds one value: send with `.await` (or with `put`
/// callbacks, at most 1,024 waiting per item).
///
/// # Panics
///
/// If `n` is zero; outside a runtime (see [`go`](crate::go)).
///
/// # Examples
///
/// ```
/// # parkway::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = parkway::chan::bounded(8);
/// parkway::pipeline_async(
///     2,
///     tx,
///     |word: &'static str, results: parkway::chan::Sender<char>| {
///         parkway::go(async move {
///             for c in word.chars() {
///                 let _ = results.send(c).await;
///             }
///             // `results` drops here: this item is done.
///         });
///     },
///     parkway::to_chan(["ab", "", "cd"]),
///     true,
/// );
/// assert_eq!(parkway::into(String::new(), rx).await, "abcd");
/// # });
/// ```
#[track_caller]
pub fn pipeline_async<T, U, F>(
    n: usize,
    to: impl Destination<U>,
    af: F,
    from: Receiver<T>,
    close: bool,
) -> JoinHandle<()>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T, Sender<U>) + Send + Sync + 'static,
{
    Pipeline::new(n).close(close).run_async(to, af, from)
}

/// Takes the next value of `from`, without waiting if one is there;
/// `None` once `from` closed or `stop` did (the collector ended).
async fn next_input<T: Send>(from: &Receiver<T>, stop: &Receiver<()>) -> Option<T> {
    if stop.is_closed() {
        return None;
    }
    match from.try_recv() {
        Ok(v) => return Some(v),
        Err(TryRecvError::Closed) => return None,
        Err(TryRecvError::Empty) => {}
    }
    parkway_channels::alt! {
        priority;
        recv(stop) -> _ => None,
        recv(from) -> v => v,
    }
}

/// Sends `v` into one of the pipeline's own channels, without waiting if
/// there is room; `false` if it refuses (its worker or the collector is
/// gone) or `stop` closed first (`v` is dropped then).
async fn forward<V: Send>(to: &Sender<V>, v: V, stop: &Receiver<()>) -> bool {
    let v = match to.try_send(v) {
        Ok(()) => return true,
        Err(TrySendError::Closed(_)) => return false,
        Err(TrySendError::Full(v)) => v,
    };
    parkway_channels::alt! {
        priority;
        recv(stop) -> _ => false,
        send(to, v) -> r => r.is_ok(),
    }
}

/// Closes its destination when dropped, if `close`.
struct CloseOnDrop<D: Destination<U>, U> {
    /// The destination.
    to: D,
    /// Whether to close it.
    close: bool,
    /// The item type.
    _items: PhantomData<fn(U)>,
}

impl<D: Destination<U>, U> Drop for CloseOnDrop<D, U> {
    fn drop(&mut self) {
        if self.close {
            self.to.close();
        }
    }
}

/// The outputs of one input: none, one (no allocation), or several; or
/// the end of a lane.
pub(crate) enum Batch<U> {
    /// The lane's input ended (`pipeline`'s workers send it last).
    End,
    /// No output.
    Zero,
    /// One output.
    One(U),
    /// Several outputs, in order.
    Many(Vec<U>),
}

impl<U> Batch<U> {
    /// Collects an iterator of outputs.
    fn collect(iter: impl IntoIterator<Item = U>) -> Batch<U> {
        let mut it = iter.into_iter();
        let Some(a) = it.next() else {
            return Batch::Zero;
        };
        let Some(b) = it.next() else {
            return Batch::One(a);
        };
        let mut v = Vec::with_capacity(2 + it.size_hint().0);
        v.push(a);
        v.push(b);
        v.extend(it);
        Batch::Many(v)
    }

    /// The batch of an optional output.
    fn from_option(u: Option<U>) -> Batch<U> {
        match u {
            Some(u) => Batch::One(u),
            None => Batch::Zero,
        }
    }
}

/// Sends a batch to `to`, in order; `Err` once `to` refuses (closed).
async fn deliver<U>(to: &impl Destination<U>, batch: Batch<U>) -> Result<(), ()> {
    match batch {
        // Nothing to send, but a closed `to` still stops the pipeline.
        Batch::Zero | Batch::End if to.is_closed() => Err(()),
        Batch::Zero | Batch::End => Ok(()),
        Batch::One(u) => to.send(u).await.map_err(drop),
        Batch::Many(v) => {
            for u in v {
                to.send(u).await.map_err(drop)?;
            }
            Ok(())
        }
    }
}

/// What every worker of a pipeline needs to process an item.
struct Items<F, U> {
    /// The user's function.
    f: Arc<F>,
    /// The error handler.
    on_error: Option<Handler<U>>,
    /// The pipeline's call site.
    location: &'static Location<'static>,
}

impl<F, U> Clone for Items<F, U> {
    fn clone(&self) -> Self {
        Items {
            f: Arc::clone(&self.f),
            on_error: self.on_error.clone(),
            location: self.location,
        }
    }
}

impl<F, U> Items<F, U> {
    /// Runs `f` on one input, catching a panic in `f` or in the iterator it
    /// returns and handing it to the error handler.
    fn run<T, R>(&self, v: T) -> Batch<U>
    where
        F: Fn(T) -> R,
        R: IntoIterator<Item = U>,
    {
        match panic::catch_unwind(AssertUnwindSafe(|| Batch::collect((self.f)(v)))) {
            Ok(batch) => batch,
            Err(payload) => Batch::from_option(handle_error(
                self.on_error.as_ref(),
                item_error(self.location, payload),
            )),
        }
    }
}

/// The `JoinError` of an item that panicked.
fn item_error(
    location: &'static Location<'static>,
    payload: Box<dyn std::any::Any + Send + 'static>,
) -> JoinError {
    JoinError::new_panic(
        Origin::Task,
        Id::next(),
        Some(Arc::from("pipeline item")),
        location,
        payload,
    )
}

/// What the handler makes of a failed item (nothing without a handler, or
/// if the handler itself panics).
fn handle_error<U>(handler: Option<&Handler<U>>, err: JoinError) -> Option<U> {
    let handler = handler?;
    panic::catch_unwind(AssertUnwindSafe(|| handler(err))).unwrap_or(None)
}
