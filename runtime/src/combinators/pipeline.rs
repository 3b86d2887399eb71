//! The pipeline family: `pipeline` (cheap CPU work on go blocks),
//! `pipeline_blocking` (work on the blocking pool) and `pipeline_async`
//! (work that finishes later, through a channel), with core.async's
//! semantics: outputs in input order, at most `n` items at work at once.
//!
//! # How order is kept
//!
//! `pipeline` and `pipeline_blocking` deal the inputs round-robin to `n`
//! lanes: a dispatcher go block sends input `k` into lane `k % n`, each lane
//! has one worker processing its inputs in order, and a collector go block
//! takes the results from lane 0, 1, .., n-1, 0, .. in turn. Input `k`'s
//! outputs are therefore the collector's `k`-th batch: order needs no
//! sequence numbers and no reorder buffer, and a lane closes only after its
//! last input, so the collector meeting a closed lane means every input was
//! delivered. Each lane's channels hold [`LANE_CAPACITY`] items, so a slow
//! item lets the others run ahead by at most that many before they wait.
//!
//! `pipeline_async` cannot use lanes (its `af` returns before the item is
//! done), so it hands out `n` tokens: the dispatcher takes a token, calls
//! `af` with a fresh result channel, and queues that channel; the collector
//! drains the queued channels in order and returns a token after each.

use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;

use parkway_blocking_pool::{Id, Origin};

use super::flow::spawn_named;
use crate::chan::{self, Receiver, Sender};
use crate::task::{JoinError, JoinHandle};

/// How many results (and inputs) each lane of `pipeline` and
/// `pipeline_blocking` buffers.
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
    pub fn run<T, R, F>(self, to: Sender<U>, f: F, from: Receiver<T>) -> JoinHandle<()>
    where
        T: Send + 'static,
        R: IntoIterator<Item = U>,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let items = Items {
            f: Arc::new(f),
            on_error: self.on_error.clone(),
            location: self.location,
        };
        if self.n == 1 {
            // One at a time: one go block does it all, in order.
            let close = self.close;
            return spawn_named("parkway::pipeline", async move {
                while let Some(v) = from.recv().await {
                    if deliver(&to, items.run(v)).await.is_err() {
                        return;
                    }
                }
                if close {
                    to.close();
                }
            });
        }
        self.lanes(
            to,
            from,
            move |input: Receiver<T>, output: Sender<Batch<U>>| {
                let items = items.clone();
                spawn_named("parkway::pipeline worker", async move {
                    while let Some(v) = input.recv().await {
                        if output.send(items.run(v)).await.is_err() {
                            return;
                        }
                    }
                });
            },
        )
    }

    /// Runs `f` on the blocking pool over every value of `from`, sending
    /// the outputs to `to` in input order; see [`pipeline_blocking`].
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`go`](crate::go)).
    #[track_caller]
    pub fn run_blocking<T, R, F>(self, to: Sender<U>, f: F, from: Receiver<T>) -> JoinHandle<()>
    where
        T: Send + 'static,
        R: IntoIterator<Item = U>,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let items = Items {
            f: Arc::new(f),
            on_error: self.on_error.clone(),
            location: self.location,
        };
        self.lanes(
            to,
            from,
            move |input: Receiver<T>, output: Sender<Batch<U>>| {
                let items = items.clone();
                spawn_named("parkway::pipeline_blocking worker", async move {
                    while let Some(v) = input.recv().await {
                        let job = items.clone();
                        // One pool job per item: a lane never holds a pool
                        // thread while it waits, so a small pool cannot
                        // deadlock a pipeline wider than it.
                        let batch = match crate::thread(move || job.run(v)).await {
                            Ok(batch) => batch,
                            // `run` catches the item's panics; this is a job the
                            // pool never ran (the runtime is shutting down) or
                            // could not start a thread for.
                            Err(e) => Batch::from_option(handle_error(items.on_error.as_ref(), e)),
                        };
                        if output.send(batch).await.is_err() {
                            return;
                        }
                    }
                });
            },
        )
    }

    /// Deals `from` round-robin to `n` lanes, each with a worker made by
    /// `spawn_worker(lane_input, lane_output)`, and collects the lanes in
    /// turn into `to`. Returns the collector's handle.
    #[track_caller]
    fn lanes<T: Send + 'static>(
        self,
        to: Sender<U>,
        from: Receiver<T>,
        spawn_worker: impl Fn(Receiver<T>, Sender<Batch<U>>),
    ) -> JoinHandle<()> {
        let n = self.n;
        let mut inputs = Vec::with_capacity(n);
        let mut outputs = Vec::with_capacity(n);
        for _ in 0..n {
            let (in_tx, in_rx) = chan::bounded(LANE_CAPACITY);
            let (out_tx, out_rx) = chan::bounded(LANE_CAPACITY);
            spawn_worker(in_rx, out_tx);
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        spawn_named("parkway::pipeline dispatcher", async move {
            let mut lane = 0;
            while let Some(v) = from.recv().await {
                // A lane refuses only once the collector stopped (its
                // output closed): the value is dropped with the pipeline.
                if inputs[lane].send(v).await.is_err() {
                    return;
                }
                lane = if lane + 1 == n { 0 } else { lane + 1 };
            }
        });
        let close = self.close;
        spawn_named("parkway::pipeline collector", async move {
            let mut lane = 0;
            // Input k's outputs come from lane k % n; a closed lane means
            // the dispatcher sent no more inputs.
            while let Some(batch) = outputs[lane].recv().await {
                if deliver(&to, batch).await.is_err() {
                    return;
                }
                lane = if lane + 1 == n { 0 } else { lane + 1 };
            }
            if close {
                to.close();
            }
        })
    }

    /// Calls `af` for every value of `from` with a channel of its own, and
    /// sends what `af` puts on each channel to `to`, in input order; see
    /// [`pipeline_async`].
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`go`](crate::go)).
    #[track_caller]
    pub fn run_async<T, F>(self, to: Sender<U>, af: F, from: Receiver<T>) -> JoinHandle<()>
    where
        T: Send + 'static,
        F: Fn(T, Sender<U>) + Send + Sync + 'static,
    {
        let n = self.n;
        let (token_tx, token_rx) = chan::bounded::<()>(n);
        for _ in 0..n {
            // Fresh, capacity n: n tokens fit.
            let _ = token_tx.try_send(());
        }
        // At most n result channels are out at once (the tokens), so the
        // queue never makes the dispatcher wait.
        let (queue_tx, queue_rx) = chan::bounded::<Receiver<U>>(n);
        let on_error = self.on_error;
        let location = self.location;
        spawn_named("parkway::pipeline_async dispatcher", async move {
            loop {
                // A token first: at most n items at work.
                if token_rx.recv().await.is_none() {
                    return;
                }
                let Some(v) = from.recv().await else { return };
                let (tx, rx) = chan::bounded(1);
                if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| af(v, tx))) {
                    let err = item_error(location, payload);
                    let (tx, replacement) = chan::bounded(1);
                    if let Some(u) = handle_error(on_error.as_ref(), err) {
                        let _ = tx.try_send(u);
                    }
                    // `tx` drops here: `replacement` closes after it.
                    if queue_tx.send(replacement).await.is_err() {
                        return;
                    }
                    continue;
                }
                if queue_tx.send(rx).await.is_err() {
                    return;
                }
            }
        });
        let close = self.close;
        spawn_named("parkway::pipeline_async collector", async move {
            while let Some(results) = queue_rx.recv().await {
                while let Some(u) = results.recv().await {
                    if to.send(u).await.is_err() {
                        return;
                    }
                }
                if token_tx.send(()).await.is_err() {
                    // The dispatcher is gone (its input closed): no more
                    // items come, only the ones queued.
                }
            }
            if close {
                to.close();
            }
        })
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
    to: Sender<U>,
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
    to: Sender<U>,
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
/// once. `af` itself runs on a go worker and must not block.
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
    to: Sender<U>,
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

/// The outputs of one input: none, one (no allocation), or several.
pub(crate) enum Batch<U> {
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
async fn deliver<U>(to: &Sender<U>, batch: Batch<U>) -> Result<(), ()> {
    match batch {
        Batch::Zero => Ok(()),
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
