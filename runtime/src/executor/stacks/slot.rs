//! The slot's state machine (states in the [module docs](super)):
//! registration by the worker, the monitor's request and wait, and the
//! handler's answer (Linux).

use std::ptr;
use std::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering,
};
use std::time::{Duration, Instant};

use super::frames::{Frames, Regs};
use super::handler::{current_stack, gettid, handler_in_place, install, unblock_signal, CURRENT};
use super::symbolize::{format_stack_bounded, SYMBOLIZE_TIMEOUT};

/// Phase bits of the state word.
const PHASE: u64 = 0b111;
/// No thread runs the slot.
const UNREGISTERED: u64 = 0;
/// `register` is writing the thread id and stack range.
const REGISTERING: u64 = 1;
/// A thread is registered; no request.
const IDLE: u64 = 2;
/// A capture asked for the stack.
const REQUESTED: u64 = 3;
/// The handler is writing the buffer.
const WRITING: u64 = 4;
/// The buffer holds the answer.
const DONE: u64 = 5;
/// Set while the monitor uses the thread id to send the signal.
const KILLING: u64 = 0b1000;
/// The lowest generation bit.
const GEN_ONE: u64 = 0b1_0000;
/// Generation bits.
const GEN: u64 = !(GEN_ONE - 1);

/// The state word's generation bits, bumped by one.
fn next_gen(s: u64) -> u64 {
    (s & GEN).wrapping_add(GEN_ONE)
}

/// Waits a little in a loop that others end within microseconds.
fn backoff(spins: &mut u32) {
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
    *spins = spins.saturating_add(1);
}

/// The Linux slot: state word, registered thread, answer buffer.
#[derive(Debug, Default)]
pub(super) struct SlotImp {
    /// Generation, `KILLING` bit and phase (module docs).
    state: AtomicU64,
    /// Kernel thread id of the registered thread. Written in
    /// `REGISTERING` only; read by the monitor under `KILLING`, and by
    /// the handler after the state word (see `answer`).
    tid: AtomicI32,
    /// Lowest address of the registered thread's stack.
    stack_lo: AtomicUsize,
    /// One past the highest address of that stack.
    stack_hi: AtomicUsize,
    /// Set by a handler while it writes `frames` (see `answer`).
    writer: AtomicBool,
    /// The answer.
    frames: Frames,
}

impl SlotImp {
    /// Handler side: if a request for the calling thread is pending,
    /// writes the frames and publishes `DONE`.
    pub(super) fn answer(&self, regs: Regs) {
        let me = gettid();
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & PHASE != REQUESTED {
                return; // no request, or one abandoned: write nothing
            }
            // Read after the state word, and checked by the
            // compare-exchange below: if it succeeds, no registration came
            // between, so `tid` is that of the registration `s` belongs to
            // (its Release store heads the release sequence `s` was read
            // from). Read before it, a thread whose registration was just
            // superseded could take the new thread's request.
            if self.tid.load(Ordering::Relaxed) != me {
                return; // the slot changed hands; not ours to answer
            }
            match self.state.compare_exchange_weak(
                s,
                (s & !PHASE) | WRITING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        let gen = s & GEN;
        // One writer at a time. A handler of a superseded registration
        // (another thread, whose request was given up while it was in
        // `record`) may still be writing; it must not write into this
        // answer, nor this one into its. Whoever holds the flag writes;
        // the other writes nothing (its monitor times out).
        if self.writer.swap(true, Ordering::Acquire) {
            return;
        }
        // Still ours? A writer that released the flag moved the state to
        // its own `WRITING` before, so this load sees that if the flag
        // came from it.
        let now = self.state.load(Ordering::Acquire);
        if now & GEN != gen || now & PHASE != WRITING {
            self.writer.store(false, Ordering::Release);
            return;
        }
        // Seqlock writer side: the phase change is ordered before the
        // buffer writes, for a monitor validating its copy.
        fence(Ordering::Release);
        self.frames.record(
            regs,
            self.stack_lo.load(Ordering::Relaxed),
            self.stack_hi.load(Ordering::Relaxed),
        );
        self.writer.store(false, Ordering::Release);
        let mut s = self.state.load(Ordering::Relaxed);
        while s & GEN == gen && s & PHASE == WRITING {
            match self.state.compare_exchange_weak(
                s,
                (s & !PHASE) | DONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }

    /// See [`StackSlot::register_current_thread`](super::StackSlot::register_current_thread).
    pub(super) fn register_current_thread(&self) {
        let tid = gettid();
        let (lo, hi) = current_stack();
        // The handler goes in first: the signal is unblocked only with it
        // in place. Unblocked under the default action, a live-stack
        // signal meant for someone else (who blocks it and reads it with
        // `sigwaitinfo` or a signalfd) would end the process here. If the
        // install failed, `capture` says why.
        if install().is_ok() {
            unblock_signal();
        }
        let mut spins = 0;
        let mut s = self.state.load(Ordering::Relaxed);
        let gen = loop {
            if s & KILLING != 0 || s & PHASE == REGISTERING {
                backoff(&mut spins);
                s = self.state.load(Ordering::Relaxed);
                continue;
            }
            let gen = next_gen(s);
            match self.state.compare_exchange_weak(
                s,
                gen | REGISTERING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break gen,
                Err(now) => s = now,
            }
        };
        self.tid.store(tid, Ordering::Relaxed);
        self.stack_lo.store(lo, Ordering::Relaxed);
        self.stack_hi.store(hi, Ordering::Relaxed);
        CURRENT.with(|c| c.store(ptr::from_ref(self).cast_mut(), Ordering::Relaxed));
        // The handler runs on this thread: keep the compiler from
        // moving the stores above past the state change.
        compiler_fence(Ordering::SeqCst);
        self.state.store(gen | IDLE, Ordering::Release);
    }

    /// See [`StackSlot::unregister_current_thread`](super::StackSlot::unregister_current_thread).
    pub(super) fn unregister_current_thread(&self) {
        let me = ptr::from_ref(self).cast_mut();
        // First: this thread's handler no longer touches the slot.
        CURRENT.with(|c| {
            let _ = c.compare_exchange(me, ptr::null_mut(), Ordering::Relaxed, Ordering::Relaxed);
        });
        compiler_fence(Ordering::SeqCst);
        let tid = gettid();
        let mut spins = 0;
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let phase = s & PHASE;
            if phase == UNREGISTERED
                || phase == REGISTERING
                || self.tid.load(Ordering::Relaxed) != tid
            {
                return; // not registered, or registered by another thread
            }
            if s & KILLING != 0 {
                // A monitor is inside `tgkill` with our id: wait it out.
                backoff(&mut spins);
                s = self.state.load(Ordering::Acquire);
                continue;
            }
            match self.state.compare_exchange_weak(
                s,
                (s & GEN) | UNREGISTERED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }

    /// See [`StackSlot::capture`](super::StackSlot::capture).
    pub(super) fn capture(&self, timeout: Duration) -> Result<String, String> {
        self.capture_with(timeout, SYMBOLIZE_TIMEOUT)
    }

    /// [`capture`](Self::capture), giving symbolizing at most
    /// `symbolize_limit` (tests shorten it).
    pub(super) fn capture_with(
        &self,
        timeout: Duration,
        symbolize_limit: Duration,
    ) -> Result<String, String> {
        let sig = install().map_err(|e| format!("no live stack: {e}"))?;
        // Someone may have replaced the handler since: the default action
        // of a real-time signal ends the process, so check (a window
        // remains, as for any shared signal).
        if !handler_in_place(sig) {
            return Err(format!(
                "no live stack: the handler of signal SIGRTMIN+5 ({sig}) was replaced by \
                 someone else; not sending it"
            ));
        }
        // `None`: too far to represent, i.e. no deadline.
        let deadline = Instant::now().checked_add(timeout);
        let passed = || deadline.is_some_and(|d| Instant::now() >= d);
        let mut spins = 0;
        let mut s = self.state.load(Ordering::Acquire);
        let gen = loop {
            match s & PHASE {
                UNREGISTERED => {
                    return Err("no live stack: no thread is registered on this worker slot".into())
                }
                REGISTERING => {
                    // Ends within microseconds, unless the registering
                    // thread is descheduled: bounded all the same.
                    if passed() {
                        return Err(format!(
                            "no live stack: a thread was still registering on this worker \
                             slot after {timeout:?}"
                        ));
                    }
                    backoff(&mut spins);
                    s = self.state.load(Ordering::Acquire);
                }
                IDLE if s & KILLING == 0 => {
                    let gen = next_gen(s);
                    match self.state.compare_exchange_weak(
                        s,
                        gen | KILLING | REQUESTED,
                        Ordering::Acquire,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => break gen,
                        Err(now) => s = now,
                    }
                }
                _ => {
                    return Err(
                        "no live stack: another capture of this worker is in progress".into(),
                    )
                }
            }
        };
        // `KILLING` holds `register`/`unregister` off: `tid` is the
        // registered, live thread until the bit is cleared.
        let tid = self.tid.load(Ordering::Relaxed);
        // SAFETY: `tgkill` only sends a signal; `getpid()` confines it
        // to this process, and `tid` is a live thread of it (above).
        let rc = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, sig) };
        let kill_error = (rc != 0).then(std::io::Error::last_os_error);
        self.state.fetch_and(!KILLING, Ordering::Release);
        if let Some(e) = kill_error {
            self.abandon(gen);
            return Err(format!("no live stack: could not signal thread {tid}: {e}"));
        }

        let mut spins = 0u32;
        loop {
            let s = self.state.load(Ordering::Acquire);
            if s & GEN != gen {
                return Err(
                    "no live stack: the worker slot changed threads during the capture".into(),
                );
            }
            match s & PHASE {
                DONE => break,
                UNREGISTERED => {
                    return Err(
                        "no live stack: the thread stopped running the worker before it answered"
                            .into(),
                    )
                }
                _ => {}
            }
            if passed() {
                // Give up: REQUESTED or WRITING back to IDLE, so a late
                // handler finds nothing to answer or cannot publish.
                if self
                    .state
                    .compare_exchange(s, (s & !PHASE) | IDLE, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return Err(format!(
                        "no live stack: the thread did not answer within {timeout:?} (uninterruptible sleep?)"
                    ));
                }
                continue;
            }
            if spins < 200 {
                std::thread::yield_now();
            } else {
                let left = deadline.map_or(Duration::MAX, |d| {
                    d.saturating_duration_since(Instant::now())
                });
                std::thread::sleep(left.min(Duration::from_micros(500)));
            }
            spins += 1;
        }

        let snap = self.frames.snapshot();
        // Seqlock reader side: validate that no later answer overwrote
        // the buffer while it was copied.
        fence(Ordering::Acquire);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & GEN != gen {
                return Err(
                    "no live stack: the worker slot changed threads during the capture".into(),
                );
            }
            if s & PHASE != DONE {
                break; // unregistered meanwhile: the copy is still whole
            }
            match self.state.compare_exchange_weak(
                s,
                (s & !PHASE) | IDLE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        // Symbolizing takes the `backtrace` crate's global lock (and the
        // loader's): off this thread, bounded, so a stuck thread holding
        // one cannot hang the monitor.
        Ok(format_stack_bounded(snap, symbolize_limit))
    }

    /// Ends request `gen` without an answer, if it is still current.
    fn abandon(&self, gen: u64) {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & GEN == gen && matches!(s & PHASE, REQUESTED | WRITING | DONE) {
            match self.state.compare_exchange_weak(
                s,
                (s & !PHASE) | IDLE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }
}
