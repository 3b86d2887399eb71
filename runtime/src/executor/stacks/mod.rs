//! Live stacks of a stalled go worker, captured while it is stuck.
//!
//! With `PARKWAY_GO_CHECK_BACKTRACE=1` ([`enabled`]), the stall watchdog's
//! monitor thread asks a stuck worker for its stack through the worker's
//! [`StackSlot`]:
//!
//! 1. The worker [registers](StackSlot::register_current_thread) on the
//!    slot when it starts running it: its kernel thread id (for `tgkill`)
//!    and its stack range (`pthread_getattr_np`, read here, never in the
//!    signal handler). A thread-local pointer tells the signal handler
//!    which slot the thread answers on. The first registration installs
//!    the handler (`SA_ONSTACK`: on the thread's alternate stack if it has
//!    one); the thread unblocks the signal only once the handler is in.
//! 2. The monitor ([`StackSlot::capture`]) checks the handler is still
//!    ours (the default action would end the process), moves the slot to
//!    `REQUESTED`,
//!    sends the thread the signal `SIGRTMIN() + 5` with
//!    `tgkill(getpid(), tid, sig)` and polls the slot's state word until
//!    the answer is `DONE` or the timeout passes.
//! 3. The handler runs on the stuck thread, on top of whatever it was
//!    doing. It reads the interrupted instruction pointer, frame pointer
//!    and stack pointer from the `ucontext_t` and writes raw addresses into
//!    the slot's preallocated buffer: no allocation, no lock, no unwinder
//!    (unwinders take locks and are not async-signal-safe), errno kept.
//!    It records, innermost first: the interrupted instruction pointer;
//!    the code addresses it finds by scanning the live stack from the
//!    stack pointer up to the first frame record (the return addresses of
//!    frameless functions such as libc's `nanosleep`, and of the innermost
//!    function with a frame, which a frame-pointer walk alone skips; on
//!    aarch64 the link register first); then the frame-pointer chain. Every
//!    frame pointer is checked before it is read: inside the recorded
//!    stack range, aligned, strictly increasing; a garbage chain stops
//!    instead of faulting.
//! 4. The monitor symbolizes the addresses off that thread, on a helper
//!    thread it waits for at most 10 s (`backtrace` takes a process-wide
//!    lock the stuck thread may hold; past that, raw addresses), with
//!    `backtrace::resolve` (return addresses at `addr - 1`, so the line is
//!    the call's) and formats one line per frame, inlined calls on lines of
//!    their own: `  3: my_crate::handler  at src/main.rs:42`. Scanned words
//!    are kept only if they look like live return addresses: the
//!    instruction before is a call and, walking outwards in, each lies in
//!    the function the call above it entered (read off the code through
//!    `process_vm_readv`, which cannot fault); this drops the stale return
//!    addresses that uninitialized stack slots hold. Kept ones are marked
//!    `(scanned)`.
//! 5. When frames look missing (this build omits frame pointers, which a
//!    probe function's prologue tells; or the chain gave at most one frame;
//!    or no frame is outside std and libc), the text says so and how to get
//!    them: build with `RUSTFLAGS="-C force-frame-pointers=yes"`.
//!
//! # The slot's state word
//!
//! One `AtomicU64`: a generation in bits 4.., a `KILLING` bit (bit 3) and
//! a phase (bits 0..3). The generation grows with every registration and
//! every request, so an answer for an abandoned request, or for a previous
//! registration, matches nothing and writes nothing.
//!
//! - `UNREGISTERED`: no thread runs the slot. Set by `unregister`; left by
//!   `register` only.
//! - `REGISTERING`: `register` is writing the thread id and stack range.
//! - `IDLE`: a thread is registered, no request. Left by `capture` (to
//!   `REQUESTED`, new generation) or `unregister`.
//! - `REQUESTED`: `capture` sent, or is sending, the signal. The handler
//!   moves it to `WRITING`; the monitor back to `IDLE` when it gives up.
//! - `WRITING`: the handler is filling the buffer. The handler moves it to
//!   `DONE`; a monitor that gives up moves it to `IDLE`, and then the
//!   handler's final compare-exchange fails.
//! - `DONE`: the buffer holds the answer. The monitor copies it and moves
//!   the slot back to `IDLE`.
//! - `KILLING` bit: set by `capture` together with `REQUESTED`, cleared
//!   when `tgkill` has returned. While it is set the thread id is in use:
//!   `unregister` and `register` wait for it to clear, so once
//!   `unregister` returns no signal is sent to that thread id again, even
//!   if the kernel reuses it.
//!
//! One monitor at a time per slot: a second concurrent `capture` gets an
//! error.
//!
//! The handler reads the slot's thread id after the state word, and takes
//! the request with a compare-exchange from that state, so a thread whose
//! registration was superseded (`run_slot` frees a slot before it
//! unregisters) never answers for the new thread. The buffer also has a
//! `writer` flag, held by a handler while it writes: a handler of a
//! superseded registration still writing (its request given up) keeps the
//! new thread's handler out instead of mixing their frames; that capture
//! times out.
//!
//! # Layout
//!
//! - `mod.rs`: [`enabled`], [`StackSlot`] (the API), the stub elsewhere.
//! - `slot.rs`: the state machine: register, unregister, capture, answer.
//! - `handler.rs`: the signal, its installation, the handler.
//! - `frames.rs`: what the handler records and how it walks the stack.
//! - `symbolize.rs`: filtering and symbolizing on the monitor.
//!
//! # What it cannot do
//!
//! - A thread in uninterruptible sleep (`D` state: some disk or NFS I/O, a
//!   page fault on a slow mapping) does not run signal handlers until it
//!   wakes: `capture` returns "the thread did not answer".
//! - The signal interrupts the worker's system call. `SA_RESTART` restarts
//!   most of them, but not all: `nanosleep`, `clock_nanosleep`, `poll`,
//!   `epoll_wait`, `select` and calls with a timeout return `EINTR`. Rust's
//!   `std::thread::sleep` loops on `EINTR` and sleeps its full time; code
//!   calling libc directly must handle `EINTR`, as it must for any signal.
//! - Without frame pointers (the default for Rust code and for libc; the
//!   prebuilt std of recent toolchains keeps them) the chain jumps from one
//!   function with a frame record to the next, so frames in between are
//!   missing, and scanning is a heuristic that can miss frames or, rarely,
//!   keep a stale one. Build with `RUSTFLAGS="-C force-frame-pointers=yes"`
//!   for a complete stack.
//! - Under ThreadSanitizer the TSan runtime defers asynchronous signals to
//!   its next interceptor: a thread blocked in a raw system call (a futex,
//!   `clock_nanosleep`) answers only when the call returns, so captures of
//!   blocked threads time out there.
//! - Code in libraries loaded with `dlopen` after the first registration is not
//!   recognized by the scan (the frame-pointer chain still walks through
//!   it).
//! - If another handler already owns the signal, live stacks are off and
//!   `capture` says so; nothing is overwritten.
//! - Linux on x86_64 and aarch64 only; elsewhere `capture` returns an error
//!   and registering does nothing.
//!
//! The atomics here are std's, not the `crate::sync` facade's: the signal
//! handler needs real lock-free atomics, and loom cannot model signals (the
//! executor is not built under loom).

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that turns live stacks on when set to `1`.
const ENV_VAR: &str = "PARKWAY_GO_CHECK_BACKTRACE";

/// Whether live stacks are wanted: `PARKWAY_GO_CHECK_BACKTRACE=1` (read
/// once, cached).
pub(crate) fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os(ENV_VAR).is_some_and(|v| v == "1"))
}

/// One worker slot's capture state and preallocated frame buffer. Lives in
/// a shared struct (Sync), one per worker slot.
///
/// A registered thread must unregister before the slot is dropped (the
/// signal handler of that thread reaches the slot through a thread-local
/// pointer until then).
#[derive(Debug, Default)]
pub(crate) struct StackSlot {
    /// The platform's implementation (empty off Linux x86_64/aarch64).
    imp: SlotImp,
}

impl StackSlot {
    /// Called ON the worker thread when it starts running this slot:
    /// records its thread id (pthread_t, or gettid for tgkill) and stack
    /// range. Cheap (the first call in the process also installs the
    /// signal handler); no-op off Linux. May be called again later by a
    /// different thread taking over the slot.
    ///
    /// A previous thread still registered is superseded (`run_slot` frees
    /// a slot before it unregisters): its handler answers nothing more and
    /// its unregister leaves the new registration alone. The calling
    /// thread must call
    /// [`unregister_current_thread`](Self::unregister_current_thread)
    /// before it exits or the slot is dropped.
    pub(crate) fn register_current_thread(&self) {
        self.imp.register_current_thread();
    }

    /// Called on the same thread when it stops running the slot (exits or
    /// gives the slot up): after this, `capture` returns an error and never
    /// signals that thread.
    ///
    /// Waits out a monitor that is in the middle of sending the signal (a
    /// few microseconds); does nothing if the calling thread is not the
    /// one registered.
    pub(crate) fn unregister_current_thread(&self) {
        self.imp.unregister_current_thread();
    }

    /// Called from the monitor thread: signals the registered thread, waits
    /// at most `timeout` for its frames, symbolizes them (for at most 10 s,
    /// then it gives the raw addresses). Ok(text) is the formatted stack
    /// (multi-line, ready to append to a report, including the
    /// frame-pointer hint if frames look missing); Err(text) explains
    /// why there is no stack (not Linux, not registered, signal handler
    /// could not be installed, thread did not answer in time, ...).
    ///
    /// # Errors
    ///
    /// Every case where no stack was captured; the text says why.
    pub(crate) fn capture(&self, timeout: Duration) -> Result<String, String> {
        self.imp.capture(timeout)
    }

    /// Test hook: how many live-stack signals the calling thread has
    /// received so far.
    #[cfg(test)]
    fn signals_seen_by_current_thread() -> usize {
        signals_seen_by_current_thread()
    }
}

/// The line added when frames look missing; also what tests look for.
#[cfg_attr(
    not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )),
    allow(dead_code, reason = "only the Linux implementation writes the hint")
)]
const FRAME_POINTER_HINT: &str = "frame pointers look missing";

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod frames;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod handler;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod slot;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod symbolize;
#[cfg(test)]
mod tests;

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
use slot::SlotImp;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
use unsupported::SlotImp;

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[cfg(test)]
use handler::signals_seen_by_current_thread;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
#[cfg(test)]
use unsupported::signals_seen_by_current_thread;

/// The stub: live stacks are not supported on this platform.
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod unsupported {
    use std::time::Duration;

    /// Nothing to record here.
    #[derive(Debug, Default)]
    pub(super) struct SlotImp;

    impl SlotImp {
        /// Does nothing.
        pub(super) fn register_current_thread(&self) {}

        /// Does nothing.
        pub(super) fn unregister_current_thread(&self) {}

        /// Always an error.
        pub(super) fn capture(&self, _timeout: Duration) -> Result<String, String> {
            Err("no live stack: only supported on Linux x86_64 and aarch64".into())
        }
    }

    /// Test hook: no signals off Linux.
    #[cfg(test)]
    pub(super) fn signals_seen_by_current_thread() -> usize {
        0
    }
}
