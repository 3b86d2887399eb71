//! The task cell: one allocation holding the header, the future and,
//! later, its output; and the type-erased functions that reach them.
//!
//! A task is addressed by a `NonNull<Header>`. The header is the first
//! field of a `#[repr(C)]` [`Cell`], so the pointer to the header is the
//! pointer to the cell, and the [`Vtable`] in the header knows the cell's
//! real type. Everything outside this file works with the header alone:
//! the state word, the reference count, the waker and the queues.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::executor::watchdog::WorkerProbe;
use crate::executor::Shared;
use crate::task::error;
use crate::task::list::Links;
use crate::task::state::{IdleAction, RunAction, State};
use crate::task::waker;
use crate::task::Id;
use crate::task::JoinError;

/// The type-independent part of a task.
#[repr(C)]
pub(crate) struct Header {
    /// Flags and reference count (see `state.rs`).
    pub(crate) state: State,
    /// The functions that know the cell's type.
    pub(crate) vtable: &'static Vtable,
    /// The runtime the task belongs to: where wakes submit it.
    pub(crate) shared: Arc<Shared>,
    /// Links in the runtime's list of live tasks; guarded by the lock of the
    /// list shard the task's id selects.
    pub(crate) links: UnsafeCell<Links>,
    /// The task's id, unique within the process.
    pub(crate) id: Id,
    /// The name given with `task::Builder::name`, if any.
    pub(crate) name: Option<Arc<str>>,
    /// Where `go` was called.
    pub(crate) location: &'static Location<'static>,
    /// The waker of the task awaiting the `JoinHandle`; ownership is passed
    /// by the `JOIN_WAKER` bit (see `state.rs`).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

/// The type-specific functions of a task cell.
pub(crate) struct Vtable {
    /// Polls (or cancels) the task for the queue entry that owned one
    /// reference, which the call consumes.
    pub(crate) run: unsafe fn(NonNull<Header>, Option<&WorkerProbe>),
    /// Frees the cell.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: writes `Poll::Ready(output)` to `dst` (a
    /// `*mut Poll<Result<T, JoinError>>`) if complete, else registers the
    /// waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Drops the output on behalf of the `JoinHandle` that owns it.
    pub(crate) drop_output: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancels the task in place if nobody runs it; takes
    /// the live-task list's reference, which the call consumes.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// What the cell holds besides the header: the future, then its output.
pub(crate) enum Stage<F: Future> {
    /// The future, still being polled.
    Running(F),
    /// The future's output, or why there is none.
    Finished(Result<F::Output, JoinError>),
    /// The output was taken by the `JoinHandle` or dropped.
    Consumed,
}

/// One task: header first, so a header pointer is a cell pointer.
#[repr(C)]
pub(crate) struct Cell<F: Future> {
    /// Type-independent part.
    header: Header,
    /// The future or its output; owned per the rules in `state.rs`.
    stage: UnsafeCell<Stage<F>>,
}

impl<F> Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Allocates a task in the spawned state (see `State::new_spawned`).
    pub(crate) fn allocate(
        future: F,
        shared: Arc<Shared>,
        id: Id,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) -> NonNull<Header> {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new_spawned(),
                vtable: &Vtable {
                    run: run::<F>,
                    dealloc: dealloc::<F>,
                    try_read_output: try_read_output::<F>,
                    drop_output: drop_output::<F>,
                    shutdown: shutdown::<F>,
                },
                shared,
                links: UnsafeCell::new(Links::default()),
                id,
                name,
                location,
                join_waker: UnsafeCell::new(None),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        NonNull::from(Box::leak(cell)).cast()
    }
}

/// The cell behind a header pointer.
///
/// # Safety
/// `ptr` must point to the header of a live `Cell<F>` with this `F`.
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a Cell<F> {
    // SAFETY: the header is the first field of the `#[repr(C)]` cell, and
    // the caller promises the cell is a live `Cell<F>`.
    unsafe { ptr.cast::<Cell<F>>().as_ref() }
}

/// Drops one reference, freeing the cell if it was the last.
///
/// # Safety
/// The caller owns one reference to the live task at `ptr`.
pub(crate) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until here.
    let header = unsafe { ptr.as_ref() };
    if header.state.ref_dec(1) {
        // SAFETY: that was the last reference: nobody else can reach the
        // cell, and the vtable matches its type.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// Frees a `Cell<F>`.
///
/// # Safety
/// The reference count reached zero.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the cell was made by `Box::new` in `allocate`, and no
    // reference to it remains.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) };
    // The stage may hold a future (a task freed without ever being polled
    // to the end only happens at shutdown, and then it is cancelled first)
    // or an output nobody took; user drops must not unwind out of a waker
    // drop, so catch and report.
    drop_reporting("a task's output or future", cell);
}

/// The `Vtable::run` of a `Cell<F>`.
///
/// # Safety
/// `ptr` is a live `Cell<F>`, and the caller hands over one reference (the
/// queue entry's).
unsafe fn run<F>(ptr: NonNull<Header>, probe: Option<&WorkerProbe>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: the queue entry's reference keeps the cell alive; the type is
    // the vtable's.
    let cell = unsafe { cell::<F>(ptr) };
    match cell.header.state.transition_to_running() {
        RunAction::Skip => {
            // SAFETY: we own the queue entry's reference.
            unsafe { drop_ref(ptr) };
            return;
        }
        RunAction::Cancel => {
            // SAFETY: RUNNING is held; the queue entry's reference is ours.
            unsafe { cancel_and_complete::<F>(ptr, 1) };
            return;
        }
        RunAction::Poll => {}
    }

    // The waker we lend the future borrows the queue entry's reference:
    // `ManuallyDrop` keeps it from dropping a reference it never took.
    // SAFETY: the reference we hold outlives the borrowed waker.
    let waker = ManuallyDrop::new(unsafe { waker::borrowed(ptr) });
    let mut cx = Context::from_waker(&waker);
    let polled = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is held, so we own the stage; the cell never
        // moves, so the future is pinned.
        let stage = unsafe { &mut *cell.stage.get() };
        match stage {
            Stage::Running(future) => {
                // SAFETY: the future lives in the heap cell and is never moved
                // until it is dropped in place.
                unsafe { Pin::new_unchecked(future) }.poll(&mut cx)
            }
            _ => unreachable!("a task was polled after it completed"),
        }
    }));

    // Strict go-check: a poll the watchdog judged stuck fails the task,
    // whatever the poll returned (a panic keeps its own error).
    if let Some(stuck) = probe.and_then(WorkerProbe::take_verdict) {
        if polled.is_ok() {
            // Dropped here, outside any lock; a panicking drop is caught
            // like any output's.
            drop_reporting("a task's output", polled);
            let err = error::stalled(&cell.header, stuck);
            // SAFETY: RUNNING is held (not released on this path); the
            // queue entry's reference is ours.
            unsafe { store_and_complete::<F>(ptr, Err(err), 1) };
            return;
        }
    }
    let output = match polled {
        Ok(Poll::Pending) => {
            match cell.header.state.transition_to_idle() {
                IdleAction::Done => {}
                IdleAction::Dealloc => {
                    // SAFETY: the queue entry's reference was the last.
                    unsafe { (cell.header.vtable.dealloc)(ptr) }
                }
                IdleAction::Reschedule => {
                    // SAFETY: the queue entry's reference moves to the new
                    // queue entry.
                    let task = unsafe { super::Notified::from_raw(ptr) };
                    crate::executor::schedule_task(task, true);
                }
                IdleAction::Cancel => {
                    // SAFETY: RUNNING is still held; the reference is ours.
                    unsafe { cancel_and_complete::<F>(ptr, 1) };
                }
            }
            return;
        }
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => Err(error::panic(&cell.header, payload)),
    };
    // SAFETY: RUNNING is held; the queue entry's reference is ours.
    unsafe { store_and_complete::<F>(ptr, output, 1) };
}

/// Drops the future (catching a panic in its `Drop`) and stores
/// `Cancelled`, then completes.
///
/// # Safety
/// RUNNING is held for `ptr`, a live `Cell<F>`; the caller hands over
/// `refs` references.
unsafe fn cancel_and_complete<F>(ptr: NonNull<Header>, refs: usize)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: caller's references keep it alive.
    let cell = unsafe { cell::<F>(ptr) };
    let err = error::cancelled(&cell.header);
    // SAFETY: RUNNING is held, and we hand the references on.
    unsafe { store_and_complete::<F>(ptr, Err(err), refs) };
}

/// Replaces the future with `output` (dropping the future, catching a panic
/// in its `Drop`), publishes `COMPLETE`, wakes the `JoinHandle`, leaves the
/// live-task list and drops `refs` references plus the list's.
///
/// # Safety
/// RUNNING is held for `ptr`, a live `Cell<F>`; the caller hands over
/// `refs` references.
unsafe fn store_and_complete<F>(
    ptr: NonNull<Header>,
    output: Result<F::Output, JoinError>,
    refs: usize,
) where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: the caller's references keep the cell alive.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.header;
    // Drop the future first, on its own, so a panicking `Drop` is caught
    // and does not lose the output.
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is held: the stage is ours.
        unsafe { *cell.stage.get() = Stage::Consumed };
    }));
    let output = match dropped {
        Ok(()) => output,
        // The future's own `Drop` panicked. A finished task reports that
        // panic; a cancelled or panicked one keeps its first error and the
        // drop panic is reported.
        Err(payload) => match output {
            Ok(_) => Err(error::panic(header, payload)),
            Err(e) => {
                report_drop_panic("a task's future", &*payload);
                Err(e)
            }
        },
    };
    // SAFETY: RUNNING is still held.
    unsafe { *cell.stage.get() = Stage::Finished(output) };

    let prev = header.state.transition_to_complete();
    if !prev.has_join_interest() {
        // Nobody will read the output: it is ours to drop.
        // SAFETY: COMPLETE without JOIN_INTEREST: the task side owns the
        // stage.
        let out = unsafe { std::ptr::replace(cell.stage.get(), Stage::Consumed) };
        drop_reporting("a task's output", out);
    } else if prev.has_join_waker() {
        // SAFETY: JOIN_WAKER is set: the slot is filled and read-only for
        // both sides until we clear the bit.
        let waker = unsafe { &*header.join_waker.get() };
        if let Some(waker) = waker {
            // A waker is user code: a panic must not unwind into the worker.
            wake_reporting(|| waker.wake_by_ref());
        }
        let after = header.state.unset_join_waker_after_complete();
        if !after.has_join_interest() {
            // The handle was dropped meanwhile and left the slot to us.
            // SAFETY: JOIN_WAKER is clear and the handle is gone.
            let waker = unsafe { (*header.join_waker.get()).take() };
            drop_reporting("a join waker", waker);
        }
    }

    let list_ref = header.shared.owned.remove(ptr);
    let n = refs + usize::from(list_ref);
    if header.state.ref_dec(n) {
        // SAFETY: those were the last references.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// The `Vtable::try_read_output` of a `Cell<F>`.
///
/// # Safety
/// `ptr` is a live `Cell<F>` whose `JoinHandle` calls this; `dst` points to
/// a `Poll<Result<F::Output, JoinError>>`.
unsafe fn try_read_output<F: Future>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { cell::<F>(ptr) };
    if !can_read_output(&cell.header, waker) {
        return;
    }
    // SAFETY: COMPLETE with JOIN_INTEREST: the handle owns the stage.
    let stage = unsafe { std::ptr::replace(cell.stage.get(), Stage::Consumed) };
    let out = match stage {
        Stage::Finished(out) => out,
        _ => panic!("JoinHandle polled after it returned the task's output"),
    };
    // SAFETY: the caller passes a pointer to a `Poll<Result<F::Output, _>>`.
    unsafe { *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(out) };
}

/// The join-waker handshake: returns true when the task is complete and the
/// output may be read; otherwise leaves `waker` registered.
fn can_read_output(header: &Header, waker: &Waker) -> bool {
    let snap = header.state.load();
    if snap.is_complete() {
        return true;
    }
    if snap.has_join_waker() {
        // SAFETY: JOIN_WAKER is set: the slot is read-only for both sides.
        let current = unsafe { &*header.join_waker.get() };
        if current.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return false;
        }
        if header.state.unset_join_waker().is_err() {
            return true;
        }
    }
    // JOIN_WAKER is clear: the slot is ours.
    // SAFETY: only the handle writes while the bit is clear.
    unsafe { *header.join_waker.get() = Some(waker.clone()) };
    match header.state.set_join_waker() {
        Ok(()) => false,
        Err(_) => {
            // Completed meanwhile; the slot is still ours: empty it.
            // SAFETY: JOIN_WAKER is clear.
            let w = unsafe { (*header.join_waker.get()).take() };
            drop(w);
            true
        }
    }
}

/// The `Vtable::drop_output` of a `Cell<F>`.
///
/// # Safety
/// `ptr` is a live `Cell<F>`, COMPLETE, and the caller is its dropped
/// `JoinHandle`, which owned the output.
unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: per the caller's promise the stage is the handle's.
    let cell = unsafe { cell::<F>(ptr) };
    // SAFETY: as above.
    let out = unsafe { std::ptr::replace(cell.stage.get(), Stage::Consumed) };
    drop_reporting("a task's output", out);
}

/// The `Vtable::shutdown` of a `Cell<F>`.
///
/// # Safety
/// `ptr` is a live `Cell<F>`; the caller hands over the live-task list's
/// reference (it took the task out of the list).
unsafe fn shutdown<F>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: the list's reference keeps the cell alive.
    let cell = unsafe { cell::<F>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        // We hold RUNNING now. The list reference is the one we hand over;
        // the task is no longer linked, so `store_and_complete` finds no
        // list reference to drop.
        // SAFETY: RUNNING is held; one reference is ours.
        unsafe { cancel_and_complete::<F>(ptr, 1) };
    } else {
        // Running elsewhere (its runner cancels it after the poll) or
        // complete.
        // SAFETY: the list's reference is ours.
        unsafe { drop_ref(ptr) };
    }
}

/// Drops `value` (user code: a future, an output, a waker) on the user's
/// behalf, where there is nobody to hand a panic to: a panic is caught and
/// reported as a drop of `what`.
pub(crate) fn drop_reporting<T>(what: &'static str, value: T) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(value))) {
        report_drop_panic(what, &*payload);
    }
}

/// Runs `wake`, a call to a waker the runtime holds (a join waker, a
/// deferred yield, a fired timer): a panic in it is caught and reported,
/// so whatever runs the wake goes on.
pub(crate) fn wake_reporting(wake: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(wake)) {
        let msg = parkway_go_check::panic_message(&*payload);
        parkway_go_check::report(&parkway_go_check::Report::callback_panic("waker", msg));
    }
}

/// Reports a panic that escaped a `Drop` the runtime ran on the user's
/// behalf, where there is nobody to return it to.
fn report_drop_panic(what: &'static str, payload: &(dyn Any + Send)) {
    let msg = parkway_go_check::panic_message(payload);
    parkway_go_check::report(&parkway_go_check::Report::drop_panic(what, msg));
}
