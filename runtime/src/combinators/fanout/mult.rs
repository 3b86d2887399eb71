//! `mult`: one channel copied to every tap (core.async `mult`, `tap`,
//! `untap`, `untap-all`).
//!
//! The go block takes a value, offers a clone to every current tap at
//! once (`try_send`, then [`Sender::put`] for the taps that are full), and
//! waits for the last callback before taking the next value; when every
//! tap has room for several values it moves a batch of them at once (see
//! `run`). The tap list is copy-on-write (`Arc<Vec<Tap>>`)
//! so the go block takes a snapshot per value with one `Arc` clone under
//! the lock; tapping and untapping rebuild it. Senders removed from the
//! list are closed and dropped only after the lock is released: closing or
//! dropping the last sender of a channel wakes its receivers.

use std::fmt;
use std::sync::Arc;

use crate::chan::{self, PutError, Receiver, Sender, TrySendError};
use crate::sync::{AtomicUsize, Mutex, Ordering};
use crate::Handle;

use super::{current_runtime, spawn_loop};

/// A channel copied to any number of taps: core.async's `mult`, made with
/// [`mult`]. Clone it freely (clones are handles to the same mult) and
/// [`tap`](Mult::tap) channels in or [`untap`](Mult::untap) them from any
/// thread.
///
/// # All taps in step
///
/// Each value is offered to every tap at once, and the mult takes the next
/// value from its source only when **every** tap has accepted this one. A
/// tap that accepts early does not wait for a slow one to accept first,
/// but the value after it does: **one slow or stalled tap holds back all
/// the others**, and the source's producer behind them. This is
/// core.async's design (it keeps the taps in step and gives
/// back-pressure). If a consumer may lag, tap it through a buffered
/// channel, and if it may lag without bound, through a
/// [`dropping`](crate::chan::dropping) or [`sliding`](crate::chan::sliding)
/// one, which always accept.
///
/// One refinement for speed: when every tap has room for several values,
/// the mult copies the values already waiting in its source (at most as
/// many as the fullest tap has room for, at most 32) as a batch, tap by
/// tap, so each consumer is woken once per batch instead of once per value
/// (about 4 times faster with 8 taps, see `docs/BENCHMARKS.md`). No tap ever
/// gets more than its buffer holds, every tap gets the whole batch before
/// the mult takes another value, and a full or unbuffered tap turns
/// batching off. What differs from strict value-by-value delivery: within
/// a batch, one tap's consumer may see a later value a moment before
/// another tap has received an earlier one.
///
/// # Details
///
/// - Values taken while the mult has no tap are dropped (as in core.async).
/// - A tap whose channel refuses a value (closed, or every receiver
///   dropped) is removed: it does not get the value, and the others do.
/// - Tapping and untapping take effect from the next value the mult takes
///   from its source; a value already being offered still goes to the
///   taps it was offered to.
/// - When the source closes, taps made with `close == true` are closed;
///   the others are left open (the mult keeps their [`Sender`] while a
///   `Mult` handle exists; keep a clone of your own to keep the channel
///   open beyond that). A tap with `close == true` made after the source
///   closed is closed at once (core.async would leave it open forever).
/// - When the source is still open but the mult has no tap and every
///   `Mult` handle is dropped, nothing can receive its values any more:
///   the go block stops at the next value it takes and drops the source,
///   so its senders get errors instead of feeding a void.
///
/// # Examples
///
/// ```
/// use parkway::chan;
///
/// parkway::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = chan::bounded(4);
///     let m = parkway::mult(rx);
///     let (a_tx, a_rx) = chan::bounded(4);
///     let (b_tx, b_rx) = chan::bounded(4);
///     m.tap(a_tx, true);
///     m.tap(b_tx, true);
///     tx.send("hello").await.unwrap();
///     drop(tx); // the source closes: so do both taps (close == true)
///     assert_eq!(a_rx.recv().await, Some("hello"));
///     assert_eq!(b_rx.recv().await, Some("hello"));
///     assert_eq!(a_rx.recv().await, None);
///     assert_eq!(b_rx.recv().await, None);
/// });
/// ```
pub struct Mult<T> {
    shared: Arc<Shared<T>>,
}

/// State shared by the `Mult` handles and the go block.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// Live `Mult` handles. Only handles add taps, so once this is zero
    /// and the tap list is empty (read under the lock), both stay so.
    handles: AtomicUsize,
}

struct State<T> {
    /// The taps; the go block clones the `Arc` as its snapshot per value.
    taps: Arc<Vec<Tap<T>>>,
    /// The id of the next new tap (a failed delivery names its tap by id).
    next_id: u64,
    /// Set once the go block has ended (its source closed, it stopped, or
    /// it panicked); taps with `close == true` are closed from then on.
    finished: bool,
}

struct Tap<T> {
    id: u64,
    tx: Sender<T>,
    close: bool,
}

impl<T> Clone for Tap<T> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            tx: self.tx.clone(),
            close: self.close,
        }
    }
}

/// Senders taken out of a tap list under its lock, to be closed (`close`)
/// or just dropped once no lock is held: see [`Released::release`].
#[must_use = "call `release` once no lock is held"]
pub(super) struct Released<T> {
    close: Vec<Sender<T>>,
    drop: Vec<Sender<T>>,
    /// A replaced tap list, whose last reference may be this one.
    old: Option<Arc<Vec<Tap<T>>>>,
}

impl<T> Released<T> {
    fn new() -> Self {
        Self {
            close: Vec::new(),
            drop: Vec::new(),
            old: None,
        }
    }

    /// Closes the senders to close, then drops everything. Must be called
    /// with no lock held: closing a channel, or dropping its last sender,
    /// wakes its receivers.
    pub(super) fn release(self) {
        for tx in &self.close {
            tx.close();
        }
        drop(self);
    }
}

impl<T> State<T> {
    /// Rebuilds the tap list with `edit` (in place if no snapshot shares
    /// it); the old list, and whatever `edit` removes, go to `released`.
    /// `edit` must move removed senders into `released`, never drop them.
    fn edit_taps(
        &mut self,
        released: &mut Released<T>,
        edit: impl FnOnce(&mut Vec<Tap<T>>, &mut Released<T>),
    ) {
        if let Some(taps) = Arc::get_mut(&mut self.taps) {
            // Unique, and only cloned under this lock: it stays unique.
            edit(taps, released);
            return;
        }
        let mut taps = self.taps.as_ref().clone();
        edit(&mut taps, released);
        let old = std::mem::replace(&mut self.taps, Arc::new(taps));
        debug_assert!(released.old.is_none(), "one edit per `Released`");
        released.old = Some(old);
    }
}

/// Moves the taps for which `remove` is true out of `taps`, handing their
/// senders to `out` (so none is dropped under the lock).
fn take_taps<T>(
    taps: &mut Vec<Tap<T>>,
    mut remove: impl FnMut(&Tap<T>) -> bool,
    out: &mut Vec<Sender<T>>,
) {
    for tap in std::mem::take(taps) {
        if remove(&tap) {
            out.push(tap.tx);
        } else {
            taps.push(tap);
        }
    }
}

/// Makes a mult of `ch` (core.async `mult`): every value taken from `ch`
/// is copied to each channel [tapped](Mult::tap) in. See [`Mult`] for how
/// taps are kept in step, and why one slow tap slows them all.
///
/// # Panics
///
/// Outside a runtime: call it from a go block or inside
/// [`Runtime::block_on`](crate::Runtime::block_on).
#[track_caller]
pub fn mult<T: Clone + Send + 'static>(ch: Receiver<T>) -> Mult<T> {
    let rt = current_runtime("mult");
    Mult::spawn(&rt, ch, "parkway::mult")
}

impl<T: Clone + Send + 'static> Mult<T> {
    /// Makes a mult of `src` whose go block, named `name`, runs on `rt`.
    #[track_caller]
    pub(super) fn spawn(rt: &Handle, src: Receiver<T>, name: &str) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                taps: Arc::new(Vec::new()),
                next_id: 0,
                finished: false,
            }),
            handles: AtomicUsize::new(1),
        });
        spawn_loop(rt, name, run(src, shared.clone(), rt.clone()));
        Mult { shared }
    }
}

impl<T> Mult<T> {
    /// Copies the mult's values to `ch` (core.async `tap`), from the next
    /// value the mult takes on. If `close` is true, `ch` is closed when the
    /// mult's source closes. Tapping a channel that is already a tap only
    /// updates its `close` flag.
    ///
    /// The mult waits for `ch` to accept each value before taking the next
    /// one (see [`Mult`]); give `ch` a buffer if its consumer may lag.
    pub fn tap(&self, ch: Sender<T>, close: bool) {
        self.tap_locked(ch, close).release();
    }

    /// [`tap`](Mult::tap) without releasing what it displaced.
    pub(super) fn tap_locked(&self, ch: Sender<T>, close: bool) -> Released<T> {
        let mut released = Released::new();
        let mut st = self.shared.state.lock();
        if st.finished && close {
            released.close.push(ch);
            return released;
        }
        let id = st.next_id;
        let mut ch = Some(ch);
        st.edit_taps(&mut released, |taps, _| {
            let tx = ch.take().expect("taken once");
            match taps.iter_mut().find(|t| t.tx.same_channel(&tx)) {
                Some(t) => {
                    t.close = close;
                    ch = Some(tx); // a duplicate handle: dropped below
                }
                None => taps.push(Tap { id, tx, close }),
            }
        });
        match ch {
            Some(dup) => released.drop.push(dup),
            None => st.next_id += 1,
        }
        released
    }

    /// Stops copying values to `ch` (core.async `untap`), from the next
    /// value the mult takes on. `ch` is not closed; the mult drops its
    /// [`Sender`], which closes the channel only if it was the last one.
    pub fn untap(&self, ch: &Sender<T>) {
        self.untap_locked(ch).release();
    }

    /// [`untap`](Mult::untap) without releasing the removed sender.
    pub(super) fn untap_locked(&self, ch: &Sender<T>) -> Released<T> {
        let mut released = Released::new();
        let mut st = self.shared.state.lock();
        if st.taps.iter().any(|t| t.tx.same_channel(ch)) {
            st.edit_taps(&mut released, |taps, released| {
                take_taps(taps, |t| t.tx.same_channel(ch), &mut released.drop);
            });
        }
        released
    }

    /// Removes every tap (core.async `untap-all`), closing none of them.
    pub fn untap_all(&self) {
        self.untap_all_locked().release();
    }

    /// [`untap_all`](Mult::untap_all) without releasing the removed
    /// senders.
    pub(super) fn untap_all_locked(&self) -> Released<T> {
        let mut released = Released::new();
        let mut st = self.shared.state.lock();
        let old = std::mem::replace(&mut st.taps, Arc::new(Vec::new()));
        released.old = Some(old);
        released
    }
}

impl<T> Clone for Mult<T> {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Mult<T> {
    fn drop(&mut self) {
        self.shared.handles.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<T> fmt::Debug for Mult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("Mult")
            .field("taps", &st.taps.len())
            .field("finished", &st.finished)
            .finish()
    }
}

/// Most values the go block moves per round when every tap has room for
/// them all.
const BATCH: usize = 32;

/// Free slots in a tap's buffer now (none for an unbuffered or promise
/// channel, which never take part in a batch).
fn room<T>(tap: &Tap<T>) -> usize {
    match tap.tx.capacity() {
        Some(cap) if cap > 0 => cap.saturating_sub(tap.tx.len()),
        _ => 0,
    }
}

/// The go block: offers each value to a snapshot of the taps, and takes the
/// next only once every tap accepted it.
///
/// When every tap has room for several values, it moves a batch: up to
/// that many values already waiting in the source (never more, so the mult
/// holds no more than the taps could take at once, and a full tap still
/// holds everything back), the whole batch to one tap, then to the next.
/// Each tap sees the values in order, and a consumer parked on an empty tap
/// is woken once per batch rather than once per value (about 17 times
/// fewer wake-ups with 8 taps; see `combinators_compare`). The one
/// difference from strict value-by-value delivery: within a batch, a tap's
/// consumer may see a later value a moment before another tap has received
/// an earlier one. Every tap still receives every value of the batch
/// before the mult takes another from the source.
async fn run<T: Clone + Send + 'static>(src: Receiver<T>, shared: Arc<Shared<T>>, rt: Handle) {
    let _exit = CloseOnExit(shared.clone());
    let (done_tx, done_rx) = chan::bounded(1);
    let mut batch: Vec<T> = Vec::new();
    while let Some(v) = src.recv().await {
        let taps = {
            let st = shared.state.lock();
            if st.taps.is_empty() && shared.handles.load(Ordering::Acquire) == 0 {
                return; // nobody can ever tap: stop, dropping the source
            }
            st.taps.clone()
        };
        if taps.is_empty() {
            continue; // no tap: the value is dropped (core.async)
        }
        let mut failed: Vec<u64> = Vec::new();
        let fits = taps.iter().map(room).min().unwrap_or(0).min(BATCH);
        let mut single = Some(v);
        if fits > 1 {
            if let Ok(second) = src.try_recv() {
                batch.extend(single.take());
                batch.push(second);
                while batch.len() < fits {
                    match src.try_recv() {
                        Ok(v) => batch.push(v),
                        Err(_) => break,
                    }
                }
            }
        }
        let taps = if single.is_none() {
            // Taken again now that the batch is taken: a tap or untap that
            // returned before one of these values was taken applies to it.
            let now = shared.state.lock().taps.clone();
            if !Arc::ptr_eq(&now, &taps) && now.iter().map(room).min().unwrap_or(0) < batch.len() {
                // No longer room for it all: one value at a time.
                for v in batch.drain(..) {
                    offer_all(&now, v, &mut failed, &done_tx, &done_rx, &rt).await;
                }
            }
            now
        } else {
            taps
        };
        match single {
            Some(v) => offer_all(&taps, v, &mut failed, &done_tx, &done_rx, &rt).await,
            None if batch.is_empty() => {}
            None => send_batch(&taps, &mut batch, &mut failed, &done_tx, &done_rx, &rt).await,
        }
        if !failed.is_empty() {
            let released = {
                let mut st = shared.state.lock();
                let mut released = Released::new();
                st.edit_taps(&mut released, |taps, released| {
                    take_taps(taps, |t| failed.contains(&t.id), &mut released.drop);
                });
                released
            };
            released.release();
        }
        drop(taps); // may hold the last reference to untapped senders
    }
}

/// Offers one value to every tap at once: first without waiting (no
/// allocation when every tap has room), then, for the taps that are full,
/// by `put` callbacks that all wait together. Taps that refuse it go to
/// `failed`.
async fn offer_all<T: Clone + Send + 'static>(
    taps: &[Tap<T>],
    v: T,
    failed: &mut Vec<u64>,
    done_tx: &Sender<()>,
    done_rx: &Receiver<()>,
    rt: &Handle,
) {
    let mut full: Vec<(&Tap<T>, T)> = Vec::new();
    let mut v = Some(v);
    let n = taps.len();
    for (i, tap) in taps.iter().enumerate() {
        let Some(value) = (if i + 1 == n { v.take() } else { v.clone() }) else {
            break;
        };
        match tap.tx.try_send(value) {
            Ok(()) => {}
            Err(TrySendError::Full(value)) => full.push((tap, value)),
            Err(TrySendError::Closed(_)) => failed.push(tap.id),
        }
    }
    if !full.is_empty() {
        wait_for(full, failed, done_tx, done_rx, rt).await;
    }
}

/// Offers each value of `full` to its (full) tap with a `put` callback, all
/// at once, and waits for the last; taps that refuse go to `failed`.
async fn wait_for<T: Send + 'static>(
    full: Vec<(&Tap<T>, T)>,
    failed: &mut Vec<u64>,
    done_tx: &Sender<()>,
    done_rx: &Receiver<()>,
    rt: &Handle,
) {
    let delivery = Arc::new(Delivery {
        remaining: AtomicUsize::new(full.len()),
        failed: Mutex::new(Vec::new()),
        done: done_tx.clone(),
    });
    for (tap, value) in full {
        offer(tap, value, &delivery, rt);
    }
    // Never closes: the go block holds `done_tx`.
    let _ = done_rx.recv().await;
    failed.append(&mut delivery.failed.lock());
}

/// Sends the whole `batch` to each tap in turn (emptying it): every tap
/// had room for all of it, so no send waits, and each tap's consumer gets
/// the batch in one go (one wake-up, not one per value).
///
/// Should a tap fill meanwhile (another sender writes to it too), it gets
/// the rest of the batch as the slow path gives values: each remaining
/// value offered at once to every tap still owed it, the next only once
/// all of them took it.
async fn send_batch<T: Clone + Send + 'static>(
    taps: &[Tap<T>],
    batch: &mut Vec<T>,
    failed: &mut Vec<u64>,
    done_tx: &Sender<()>,
    done_rx: &Receiver<()>,
    rt: &Handle,
) {
    // Per tap that filled: the index of the first value it did not take.
    let mut late: Vec<(&Tap<T>, usize)> = Vec::new();
    for tap in taps {
        for (j, v) in batch.iter().enumerate() {
            match tap.tx.try_send(v.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    late.push((tap, j));
                    break;
                }
                Err(TrySendError::Closed(_)) => {
                    failed.push(tap.id);
                    break;
                }
            }
        }
    }
    if let Some(first) = late.iter().map(|&(_, j)| j).min() {
        // The rare path. Cloned before the waits: no `&T` is held across
        // them.
        let rest: Vec<T> = batch[first..].to_vec();
        for (k, v) in rest.into_iter().enumerate() {
            let owed: Vec<(&Tap<T>, T)> = late
                .iter()
                .filter(|&&(tap, j)| j <= first + k && !failed.contains(&tap.id))
                .map(|&(tap, _)| (tap, v.clone()))
                .collect();
            if !owed.is_empty() {
                wait_for(owed, failed, done_tx, done_rx, rt).await;
            }
        }
    }
    batch.clear();
}

/// Offers `v` to `tap` without waiting; `delivery` learns the outcome.
fn offer<T: Send + 'static>(tap: &Tap<T>, v: T, delivery: &Arc<Delivery>, rt: &Handle) {
    let id = tap.id;
    let d = delivery.clone();
    match tap.tx.put(v, move |r| d.complete(id, r.is_ok())) {
        Ok(()) => {}
        Err(PutError::TooManyPending(v)) => {
            // The channel already holds `MAX_PENDING` puts (it is tapped
            // into many mults, or put to elsewhere): wait in a go block
            // instead, which no limit applies to.
            let tx = tap.tx.clone();
            let d = delivery.clone();
            spawn_loop(rt, "parkway::mult (tap send)", async move {
                let ok = tx.send(v).await.is_ok();
                d.complete(id, ok);
            });
        }
    }
}

/// One value's offers to its taps: a count of those not yet settled, the
/// taps that refused it, and where to signal the end.
struct Delivery {
    remaining: AtomicUsize,
    failed: Mutex<Vec<u64>>,
    done: Sender<()>,
}

impl Delivery {
    /// Records the outcome of the offer to tap `id`; the last one wakes
    /// the go block.
    fn complete(&self, id: u64, accepted: bool) {
        if !accepted {
            self.failed.lock().push(id);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Room for it: one signal per value, taken before the next.
            let _ = self.done.try_send(());
        }
    }
}

/// Runs when the go block ends, however it ends (source closed, stopped,
/// panic, runtime shutdown): marks the mult finished and closes the taps
/// made with `close == true`.
struct CloseOnExit<T>(Arc<Shared<T>>);

impl<T> Drop for CloseOnExit<T> {
    fn drop(&mut self) {
        let mut released = Released::new();
        {
            let mut st = self.0.state.lock();
            st.finished = true;
            if st.taps.iter().any(|t| t.close) {
                st.edit_taps(&mut released, |taps, released| {
                    take_taps(taps, |t| t.close, &mut released.close);
                });
            }
        }
        released.release();
    }
}
