//! A go worker: the loop that finds a task, polls it, and sleeps when there
//! is none (see the module doc of `executor` for the order it looks in).

use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;

use crossbeam_deque::{Steal, Worker};
use parkway_go_check::budget;

use crate::context;
use crate::executor::handoff::Assignment;
use crate::executor::lifo::MAX_LIFO_POLLS;
use crate::executor::{Remote, Shared, ACTIVE, FREE, REPLACED};
use crate::task::Notified;

/// Whether the stall watchdog (and with it the hand-off) is built in; the
/// bench-only `bench-no-watchdog` feature compiles both out, to measure
/// what they cost.
pub(crate) const WATCHDOG: bool = !cfg!(feature = "bench-no-watchdog");

/// Why a worker stopped running its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// The runtime shuts down.
    Shutdown,
    /// Its slot was handed to another thread while it was stuck in a poll.
    Replaced,
}

/// Every this many ticks a worker takes from the injector before its own
/// queue, so remote spawns cannot be starved by local work (tokio: 31).
const GLOBAL_QUEUE_INTERVAL: u32 = 31;

/// Every this many ticks a worker fires due timers without blocking (tokio
/// checks its drivers every 61 ticks).
const EVENT_INTERVAL: u32 = 61;

/// The thread-owned part of a worker; reached through the thread's context
/// while the worker runs tasks, so wakes on this thread land in its LIFO
/// slot or queue.
#[derive(Debug)]
pub(crate) struct WorkerCore {
    /// This worker's index in `Shared::remotes`.
    index: usize,
    /// The runtime.
    shared: Arc<Shared>,
    /// This worker's run queue (FIFO: a yielded task goes to the back).
    local: Worker<Notified>,
    /// Tasks polled so far (wrapping).
    tick: Cell<u32>,
    /// Whether this worker counts as searching in `Idle`.
    searching: Cell<bool>,
    /// xorshift state for picking the first peer to steal from.
    rng: Cell<u32>,
    /// Set while the deferred yields (`Remote::deferred`) are being woken,
    /// so those tasks go to the back of the queue rather than the LIFO
    /// slot.
    waking_deferred: Cell<bool>,
    /// Whether go-check is `Strict` (a stalled task is failed).
    strict: bool,
    /// `&shared.remotes[index]`, without the bounds check and the index
    /// arithmetic on every use (several per poll).
    remote: std::ptr::NonNull<Remote>,
    /// The probe's sequence word between polls (only this thread writes
    /// it; kept here so a poll stores it without loading it).
    poll_seq: Cell<u64>,
    /// A spare buffer for the deferred wakers, swapped with the slot's list
    /// so they are woken outside its lock and no allocation is lost.
    spare_deferred: RefCell<Vec<Waker>>,
}

impl WorkerCore {
    /// The runtime this worker belongs to.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// This worker's remote half.
    fn remote(&self) -> &Remote {
        // SAFETY: `remote` points into `shared.remotes`, a boxed slice
        // that lives as long as `shared`, which this core holds.
        unsafe { self.remote.as_ref() }
    }

    /// What this worker publishes for the stall watchdog.
    pub(crate) fn probe(&self) -> &crate::executor::watchdog::WorkerProbe {
        &self.remote().own.probe
    }

    /// Polls one task with a fresh budget, published to the watchdog
    /// (unless compiled out); in strict mode the task reads the
    /// watchdog's verdict on the poll from the probe.
    ///
    /// Returns whether this worker's slot was handed to another thread
    /// meanwhile (one Acquire load after the poll).
    #[inline]
    fn poll(&self, task: Notified) -> bool {
        budget::reset(budget::DEFAULT);
        // Published even when no monitor runs (go-check `Off` and
        // compensation off): a few stores cost less than a branch on every
        // poll to skip them.
        if WATCHDOG {
            let probe = self.probe();
            let seq = self.poll_seq.get();
            probe.begin(task.header(), seq);
            task.run(self.strict.then_some(probe));
            probe.end(seq);
            self.poll_seq.set(seq + 2);
            self.replaced()
        } else {
            task.run(None);
            false
        }
    }

    /// Schedules a task woken or spawned on this worker's thread: into the
    /// LIFO slot (the displaced task goes to the queue), or to the back of
    /// the queue if it yielded.
    ///
    /// A worker whose slot was handed away (it is stuck in a poll that
    /// still wakes tasks) sends them to the injector instead, which every
    /// worker looks at, rather than to its queue, which peers only steal
    /// from when they run out of work.
    pub(crate) fn schedule_local(&self, task: Notified, is_yield: bool) {
        // Yields and deferred wakes come after a poll, or between polls, of
        // a worker that was not replaced when it last looked; if it was
        // replaced since, it gives its queue up as soon as it looks again.
        let to_queue = if is_yield || self.waking_deferred.get() {
            Some(task)
        } else {
            match self.remote().own.lifo.replace(task) {
                Ok(None) => None,
                Ok(Some(displaced)) if self.replaced() => {
                    // Displaced just before the hand-off closed the slot.
                    self.shared.push_remote(displaced);
                    return;
                }
                Ok(Some(displaced)) => Some(displaced),
                Err(task) => {
                    // Closed by the hand-off.
                    self.shared.push_remote(task);
                    return;
                }
            }
        };
        if let Some(task) = to_queue {
            self.local.push(task);
            // Batches of wakes (deferred yields, fired timers) notify once
            // at the end.
            if !context::hold_back_notify(&self.shared) {
                self.shared.notify_parked();
            }
        }
    }

    /// Whether this worker's slot was handed to another thread (after a
    /// stall): one Acquire load.
    #[inline]
    fn replaced(&self) -> bool {
        WATCHDOG && self.remote().own.role.load(Ordering::Acquire) == REPLACED
    }

    /// Defers the wake of a yielding task (see `Remote::deferred`).
    pub(crate) fn defer(&self, waker: &Waker) {
        self.remote().deferred.lock().push(waker.clone());
    }

    /// Wakes the deferred tasks onto the back of the local queue; returns
    /// whether there were any.
    fn wake_deferred(&self) -> bool {
        let mut wakers = {
            let mut deferred = self.remote().deferred.lock();
            if deferred.is_empty() {
                return false;
            }
            // Swap in the spare buffer, keeping both allocations.
            std::mem::replace(&mut *deferred, self.spare_deferred.take())
        };
        self.waking_deferred.set(true);
        let owed = context::batch_wakes(&self.shared, || {
            for waker in wakers.drain(..) {
                // Any future may call `yield_now`, with any waker: user code.
                crate::task::raw::wake_reporting(move || waker.wake());
            }
        });
        self.waking_deferred.set(false);
        // Keep the allocation for the next round.
        *self.spare_deferred.borrow_mut() = wakers;
        // Other workers may take some of them.
        if owed {
            self.shared.notify_parked();
        }
        true
    }

    /// The next task from this worker's own sources, per the order in the
    /// module doc.
    fn next_task(&self) -> Option<Notified> {
        if self.tick.get() % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = self.pop_injector() {
                return Some(task);
            }
        }
        if let Some(task) = self.remote().own.lifo.take() {
            return Some(task);
        }
        // One call site of the queue's `pop`: the compiler inlines it
        // here only if it has few (the other places that empty the queue
        // go through its stealer).
        loop {
            if let Some(task) = self.local.pop() {
                return Some(task);
            }
            if let Some(task) = self.pop_injector() {
                return Some(task);
            }
            // The deferred yields go to the queue: look again.
            if !self.wake_deferred() {
                return None;
            }
        }
    }

    /// A batch from the injector into the local queue, returning one task.
    fn pop_injector(&self) -> Option<Notified> {
        loop {
            match self.shared.injector.steal_batch_and_pop(&self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    /// Searches for work: the injector, then half of a peer's queue. Gives
    /// up at once when half the workers already search.
    fn steal_work(&self) -> Option<Notified> {
        if !self.searching.get() {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.searching.set(true);
        }
        let slots = self.shared.slots_in_use();
        let n = slots.len();
        let start = self.next_rand() as usize % n;
        loop {
            let mut retry = false;
            match self.shared.injector.steal_batch_and_pop(&self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index || slots[victim].own.role.load(Ordering::Relaxed) == FREE {
                    continue;
                }
                match slots[victim].stealer.steal_batch_and_pop(&self.local) {
                    Steal::Success(task) => return Some(task),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// Leaves the searching state after finding work; the last searcher
    /// wakes another worker, as more work may be waiting.
    fn stop_searching(&self) {
        if self.searching.replace(false) && self.shared.idle.transition_worker_from_searching() {
            self.shared.notify_parked();
        }
    }

    /// Polls `task`, then up to `MAX_LIFO_POLLS` tasks it woke into the LIFO
    /// slot; a task still in the slot after that goes to the queue.
    ///
    /// Returns whether this worker's slot was handed to another thread
    /// meanwhile.
    fn run_task(&self, task: Notified) -> bool {
        self.stop_searching();
        if self.poll(task) {
            return true;
        }
        for _ in 0..MAX_LIFO_POLLS {
            if self.shared.is_shutdown() {
                return false;
            }
            let Some(task) = self.remote().own.lifo.take() else {
                return false;
            };
            self.tick.set(self.tick.get().wrapping_add(1));
            if self.poll(task) {
                return true;
            }
        }
        if let Some(task) = self.remote().own.lifo.take() {
            // No wake-up for a peer here: this worker takes the task again
            // right after what is queued before it, and a peer woken for it
            // would only pull a ping-ponging pair apart across two cores.
            self.local.push(task);
        }
        false
    }

    /// The worker loop; returns at shutdown, or when the slot was handed to
    /// another thread.
    fn run(&self) -> Exit {
        loop {
            if self.shared.is_shutdown() {
                return Exit::Shutdown;
            }
            // The slot is handed away only while this thread is awake: it
            // notices after a poll (`run_task`), or after trying to sleep.
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick % EVENT_INTERVAL == 0 {
                self.shared.fire_due_timers();
                self.wake_deferred();
            }
            let task = match self.next_task() {
                Some(task) => Some(task),
                None => self.steal_work(),
            };
            if let Some(task) = task {
                if self.run_task(task) {
                    return Exit::Replaced;
                }
                continue;
            }
            self.park();
            if self.replaced() {
                return Exit::Replaced;
            }
        }
    }

    /// Sleeps until woken for work (or shutdown). The first worker to sleep
    /// owns the timer driver and sleeps only until the next deadline.
    fn park(&self) {
        // Timers that are due now wake tasks onto this worker: run them
        // instead of sleeping.
        self.shared.fire_due_timers();
        if self.wake_deferred() || self.remote().own.lifo.is_occupied() || !self.local.is_empty() {
            return;
        }
        let remote = self.remote();
        remote.parked.store(true, Ordering::Release);
        let searching = self.searching.get();
        // A replaced worker must not register as a sleeper (see `handoff`).
        let Some(last_searcher) =
            self.shared
                .idle
                .try_transition_worker_to_parked(self.index, searching, || !self.replaced())
        else {
            remote.parked.store(false, Ordering::Release);
            return;
        };
        self.searching.set(false);
        if last_searcher || !self.shared.injector.is_empty() {
            // Our second look (see `idle.rs`); it may wake this worker.
            self.shared.notify_if_work_pending();
        }
        // While asleep, wakes on this thread (from timers) go to the
        // injector, so whichever worker is woken can take them.
        let core = context::set_worker(std::ptr::null());
        while remote.parked.load(Ordering::Acquire) && !self.shared.is_shutdown() {
            if !self
                .shared
                .timer
                .park_owner(self.index, &remote.parker, &self.shared)
            {
                remote.parker.park();
            }
        }
        context::set_worker(core);
        // Whoever woke us counted us as searching.
        self.searching.set(!self.shared.is_shutdown());
    }

    /// The next pseudo-random number (xorshift32).
    fn next_rand(&self) -> u32 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng.set(x);
        x
    }
}

impl WorkerCore {
    /// A core for running slot `index` with its queue `local`.
    fn new(shared: &Arc<Shared>, index: usize, local: Worker<Notified>) -> WorkerCore {
        let config = &shared.config;
        WorkerCore {
            index,
            shared: Arc::clone(shared),
            local,
            tick: Cell::new(0),
            searching: Cell::new(false),
            rng: Cell::new(0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B)),
            waking_deferred: Cell::new(false),
            spare_deferred: RefCell::new(Vec::new()),
            strict: config.go_check == parkway_go_check::GoCheck::Strict,
            remote: std::ptr::NonNull::from(&**shared.remotes.get(index).expect("a slot index")),
            // Carried on from the slot's previous thread: the hand-off
            // relies on the word only growing.
            // (Even between polls; rounded up to even all the same.)
            poll_seq: Cell::new((shared.remotes[index].own.probe.seq() + 1) & !1),
        }
    }

    /// The hand-off (see `handoff`): takes over the work of slot `stuck`
    /// if it is still in the poll with sequence word `seq` and not asleep.
    /// Returns false, changing nothing, otherwise.
    #[cold]
    #[inline(never)]
    fn take_over(&self, stuck: usize, seq: u64) -> bool {
        let shared = &self.shared;
        let theirs = &shared.remotes[stuck];
        let still_stuck =
            || theirs.own.role.load(Ordering::Acquire) == ACTIVE && theirs.own.probe.seq() == seq;
        if !still_stuck() {
            return false;
        }
        let mut next = None;
        let committed = shared.idle.hand_off(stuck, || {
            // Checked again under the lock every hand-off commits under, so
            // a slot is never taken twice (by a stale assignment for an
            // earlier stall of the same slot, say).
            if !still_stuck() {
                return false;
            }
            // Close their LIFO slot before marking them replaced: a stuck
            // thread that sees `REPLACED` sees its slot closed too.
            next = theirs.own.lifo.close();
            theirs.own.role.store(REPLACED, Ordering::Release);
            self.remote().own.role.store(ACTIVE, Ordering::Release);
            shared.in_use.fetch_max(self.index + 1, Ordering::AcqRel);
            true
        });
        if !committed {
            return false;
        }
        shared.handoff.count();
        // Their queue, through its stealer (the queue itself belongs to the
        // stuck thread).
        while let Steal::Success(()) | Steal::Retry = theirs.stealer.steal_batch(&self.local) {}
        let yielded = std::mem::take(&mut *theirs.deferred.lock());
        self.remote().deferred.lock().extend(yielded);
        if let Some(task) = next {
            // Our own slot is open and empty: nothing is displaced.
            if let Ok(Some(displaced)) | Err(displaced) = self.remote().own.lifo.replace(task) {
                self.local.push(displaced);
            }
        }
        if !self.local.is_empty() {
            // Peers may help with what we took.
            self.shared.notify_parked();
        }
        true
    }

    /// Gives the slot up after it was handed to another thread: what this
    /// thread gathered meanwhile (queue, LIFO slot, deferred yields) goes to
    /// the injector, and the slot to the free list. Returns the queue.
    #[cold]
    #[inline(never)]
    fn give_up(self) -> (usize, Worker<Notified>) {
        // Whoever woke us counted us as searching.
        self.stop_searching();
        let shared = &self.shared;
        let remote = self.remote();
        // Through the stealer (see `next_task`).
        loop {
            match remote.stealer.steal() {
                Steal::Success(task) => shared.push_remote(task),
                Steal::Retry => {}
                Steal::Empty => break,
            }
        }
        if let Some(task) = remote.own.lifo.reopen() {
            shared.push_remote(task);
        }
        let yielded = std::mem::take(&mut *remote.deferred.lock());
        for waker in yielded {
            // This thread is no worker now: the wakes go to the injector.
            crate::task::raw::wake_reporting(move || waker.wake());
        }
        remote.own.role.store(FREE, Ordering::Release);
        (self.index, self.local)
    }
}

/// The body of a runtime thread: runs `first`, then, whenever its slot is
/// handed away after a stall, waits as a standby thread for another slot;
/// returns at shutdown.
pub(crate) fn run_thread(shared: Arc<Shared>, first: Assignment) {
    /// Counts the thread as exited however it ends, so shutdown never waits
    /// for a thread that is gone.
    struct ExitGuard<'a>(&'a Shared);
    impl Drop for ExitGuard<'_> {
        fn drop(&mut self) {
            self.0.worker_exited();
        }
    }
    let exit = ExitGuard(&shared);
    {
        let _role = parkway_go_check::enter_go_worker(shared.config.go_check);
        let _budget = budget::enter(budget::DEFAULT);
        let _ctx = context::enter(crate::Handle {
            shared: Arc::clone(&shared),
        });
        // Inside the runtime's context, as tokio runs it: the hook may call
        // `Handle::current()`.
        if let Some(f) = &shared.config.on_thread_start {
            run_hook("on_thread_start", f);
        }
        let mut job = Some(first);
        while let Some(assignment) = job.take() {
            match run_slot(&shared, assignment) {
                Ended::Shutdown => break,
                Ended::GaveUp(slot, local) => job = shared.handoff.standby(slot, local),
            }
        }
        if let Some(f) = &shared.config.on_thread_stop {
            run_hook("on_thread_stop", f);
        }
    }
    drop(exit);
}

/// How a thread stopped running a slot.
enum Ended {
    /// The runtime shuts down.
    Shutdown,
    /// The slot was handed away (or, for a hand-off that found the stall
    /// over, never taken): here it is, with its queue, for the free list.
    GaveUp(usize, Worker<Notified>),
}

/// Runs a thread hook; a panic in it is caught and reported, so the thread
/// (a worker, or one standing in for a stalled worker) goes on.
#[cold]
#[inline(never)]
fn run_hook(what: &'static str, f: &crate::builder::ThreadHook) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f())) {
        let msg = parkway_go_check::panic_message(&*payload);
        crate::task::raw::drop_reporting("a thread hook's panic payload", payload);
        parkway_go_check::report(&parkway_go_check::Report::callback_panic(what, msg));
    }
}

/// Runs one slot until shutdown or until it is handed away.
fn run_slot(shared: &Arc<Shared>, assignment: Assignment) -> Ended {
    let core = WorkerCore::new(shared, assignment.slot, assignment.local);
    /// Restores the thread's worker pointer however `run` ends, so it
    /// never points at a core that is gone.
    struct WorkerPointer(*const WorkerCore);
    impl Drop for WorkerPointer {
        fn drop(&mut self) {
            context::set_worker(self.0);
        }
    }
    let previous = WorkerPointer(context::set_worker(&core));
    /// Registers this thread for live stacks on the slot while it runs the
    /// slot (unregistered however `run_slot` ends).
    struct StackRegistration<'a>(&'a crate::executor::stacks::StackSlot);
    impl Drop for StackRegistration<'_> {
        fn drop(&mut self) {
            self.0.unregister_current_thread();
        }
    }
    let stack = (WATCHDOG && crate::executor::stacks::enabled()).then(|| {
        let slot = &shared.stacks[core.index];
        slot.register_current_thread();
        StackRegistration(slot)
    });
    if let Some((stuck, seq)) = assignment.take_over {
        if !core.take_over(stuck, seq) {
            drop(stack);
            drop(previous);
            return Ended::GaveUp(core.index, core.local);
        }
    }
    let exit = core.run();
    // Unregistered before the slot can go to another thread.
    drop(stack);
    drop(previous);
    if exit == Exit::Replaced {
        let (slot, local) = core.give_up();
        return Ended::GaveUp(slot, local);
    }
    // Shutdown. Queue entries left behind hold only references (the tasks
    // are cancelled by the shutdown that stopped us), but they must be
    // dropped here: the queue's buffer is shared with its stealer in
    // `Shared`, so dropping `core.local` would not free them, and each
    // would keep its task, and through it the runtime, alive.
    drop(core.remote().own.lifo.reopen());
    drop(std::mem::take(&mut *core.remote().deferred.lock()));
    // Through the stealer (see `next_task`).
    crate::executor::drop_all(|| core.remote().stealer.steal());
    Ended::Shutdown
}
