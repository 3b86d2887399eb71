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
//!    which slot the thread answers on.
//! 2. The monitor ([`StackSlot::capture`]) moves the slot to `REQUESTED`,
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
//! 4. The monitor symbolizes the addresses off that thread with
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
//! - Code in libraries loaded with `dlopen` after the first capture is not
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
    imp: imp::SlotImp,
}

impl StackSlot {
    /// Called ON the worker thread when it starts running this slot:
    /// records its thread id (pthread_t, or gettid for tgkill) and stack
    /// range. Cheap; no-op off Linux. May be called again later by a
    /// different thread taking over the slot.
    ///
    /// The previous thread must have unregistered (or exited) first. The
    /// calling thread must call
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
    /// at most `timeout` for its frames, symbolizes them. Ok(text) is the
    /// formatted stack (multi-line, ready to append to a report, including
    /// the frame-pointer hint if frames look missing); Err(text) explains
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
        imp::signals_seen_by_current_thread()
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

/// The real implementation: Linux on x86_64 and aarch64.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod imp {
    use std::ffi::{c_int, c_void};
    use std::fmt::{self, Write as _};
    use std::ptr;
    use std::sync::atomic::{
        compiler_fence, fence, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use super::FRAME_POINTER_HINT;

    /// Addresses kept per capture: the instruction pointer, the scanned
    /// words, the frame-pointer chain.
    const MAX_FRAMES: usize = 96;
    /// At most this many scanned words (the rest is for the chain, which
    /// gets at least 64 entries).
    const MAX_SCANNED: usize = 31;
    /// How far above the stack pointer the scan looks, in bytes.
    const SCAN_BYTES: usize = 8 * 1024;
    /// Alignment of a frame record on both architectures.
    const WORD: usize = size_of::<usize>();

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

    thread_local! {
        /// The slot the current thread is registered on, for the signal
        /// handler; null when none. Const-initialized and without a
        /// destructor, so reading it is a plain TLS load (no lazy
        /// initialization, no allocation): safe in a signal handler.
        static CURRENT: AtomicPtr<SlotImp> = const { AtomicPtr::new(ptr::null_mut()) };
    }

    #[cfg(test)]
    thread_local! {
        /// Live-stack signals received by this thread (tests only).
        static SIGNALS_SEEN: AtomicUsize = const { AtomicUsize::new(0) };
    }

    /// Test hook: live-stack signals received by the calling thread.
    #[cfg(test)]
    pub(super) fn signals_seen_by_current_thread() -> usize {
        SIGNALS_SEEN.with(|n| n.load(Ordering::Relaxed))
    }

    /// The signal: `SIGRTMIN() + 5`. glibc keeps the real-time signals
    /// below `SIGRTMIN()` for itself; `+ 5` is an arbitrary pick among the
    /// ones left to applications, away from the first few that libraries
    /// tend to take. If something else handles it, captures fail with an
    /// error saying so.
    fn signal_number() -> c_int {
        libc::SIGRTMIN() + 5
    }

    /// Executable address ranges of the objects loaded when the handler
    /// was installed, for the stack scan (read by the handler: a
    /// `OnceLock::get` is one atomic load).
    static TEXT: OnceLock<Vec<(usize, usize)>> = OnceLock::new();

    /// Whether `addr` lies in loaded code.
    fn in_text(text: &[(usize, usize)], addr: usize) -> bool {
        text.iter().any(|&(lo, hi)| lo <= addr && addr < hi)
    }

    /// The executable `PT_LOAD` segments of every loaded object.
    fn text_ranges() -> Vec<(usize, usize)> {
        /// `dl_iterate_phdr` callback: appends the object's code ranges.
        extern "C" fn each(
            info: *mut libc::dl_phdr_info,
            _size: usize,
            data: *mut c_void,
        ) -> c_int {
            // SAFETY: `data` is the `&mut Vec` passed below, alive and not
            // otherwise borrowed during `dl_iterate_phdr`.
            let out = unsafe { &mut *data.cast::<Vec<(usize, usize)>>() };
            // SAFETY: `info` points to a valid `dl_phdr_info` for the
            // duration of the callback.
            let info = unsafe { &*info };
            if info.dlpi_phdr.is_null() {
                return 0;
            }
            // SAFETY: `dlpi_phdr` points to `dlpi_phnum` program headers
            // that stay valid during the callback.
            let phdrs =
                unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
            for ph in phdrs {
                if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                    let lo = (info.dlpi_addr as usize).wrapping_add(ph.p_vaddr as usize);
                    out.push((lo, lo.wrapping_add(ph.p_memsz as usize)));
                }
            }
            0
        }
        let mut out: Vec<(usize, usize)> = Vec::new();
        // SAFETY: the callback only reads what `dl_iterate_phdr` hands it
        // and writes to `out` through the pointer passed as `data`.
        unsafe {
            libc::dl_iterate_phdr(Some(each), ptr::from_mut(&mut out).cast::<c_void>());
        }
        out
    }

    /// Installs the handler once per process; the signal number, or why
    /// not.
    fn install() -> Result<c_int, String> {
        static INSTALLED: OnceLock<Result<c_int, String>> = OnceLock::new();
        INSTALLED
            .get_or_init(|| {
                TEXT.get_or_init(text_ranges);
                let sig = signal_number();
                if sig > libc::SIGRTMAX() {
                    return Err(format!("no real-time signal SIGRTMIN+5 ({sig}) on this system"));
                }
                // SAFETY: an all-zero `sigaction` is a valid value (no
                // handler, empty mask, no flags).
                let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
                // SAFETY: a null new action only reads the current one
                // into `old`, a valid out-pointer.
                if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0 {
                    return Err(format!("sigaction({sig}) failed: {}", std::io::Error::last_os_error()));
                }
                if old.sa_sigaction != libc::SIG_DFL {
                    return Err(format!(
                        "signal SIGRTMIN+5 ({sig}) already has a handler installed by someone else; \
                         parkway leaves it alone"
                    ));
                }
                // SAFETY: as above, all-zero is a valid `sigaction`.
                let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
                new.sa_sigaction = on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)
                    as libc::sighandler_t;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                // SAFETY: `new.sa_mask` is a valid `sigset_t` to clear.
                unsafe { libc::sigemptyset(&mut new.sa_mask) };
                // SAFETY: `new` is a fully initialized action whose handler
                // is async-signal-safe (see `on_signal`).
                if unsafe { libc::sigaction(sig, &new, ptr::null_mut()) } != 0 {
                    return Err(format!("sigaction({sig}) failed: {}", std::io::Error::last_os_error()));
                }
                Ok(sig)
            })
            .clone()
    }

    /// The calling thread's kernel thread id.
    fn gettid() -> i32 {
        // SAFETY: `gettid` takes no arguments and cannot fail.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) };
        tid as i32
    }

    /// The calling thread's stack as `(lowest, highest)` address, or
    /// `(0, 0)` if unknown (then only the instruction pointer is kept).
    fn current_stack() -> (usize, usize) {
        // SAFETY: all-zero is a valid placeholder for `pthread_attr_t`,
        // which `pthread_getattr_np` initializes.
        let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `pthread_self()` is the calling, live thread; `attr` is a
        // valid out-pointer.
        if unsafe { libc::pthread_getattr_np(libc::pthread_self(), &mut attr) } != 0 {
            return (0, 0);
        }
        let mut addr: *mut c_void = ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: `attr` was initialized by `pthread_getattr_np`; the out-
        // pointers are valid.
        let rc = unsafe { libc::pthread_attr_getstack(&attr, &mut addr, &mut size) };
        // SAFETY: `attr` was initialized and is destroyed once.
        unsafe { libc::pthread_attr_destroy(&mut attr) };
        if rc != 0 || addr.is_null() {
            return (0, 0);
        }
        (addr as usize, (addr as usize).saturating_add(size))
    }

    /// Unblocks the live-stack signal on the calling thread (a thread may
    /// inherit a mask blocking it, and would then never answer).
    fn unblock_signal() {
        // SAFETY: all-zero is a valid `sigset_t` to initialize.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid `sigset_t`; the calls only edit it and
        // the calling thread's mask.
        unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal_number());
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, ptr::null_mut());
        }
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

    /// The registers the handler needs from the interrupted context.
    #[derive(Clone, Copy)]
    struct Regs {
        /// Instruction pointer.
        ip: usize,
        /// Frame pointer (`rbp`, `x29`).
        fp: usize,
        /// Stack pointer.
        sp: usize,
        /// Link register (`x30`): the return address of a leaf function.
        #[cfg(target_arch = "aarch64")]
        lr: usize,
    }

    impl Regs {
        /// Reads the registers of the interrupted context.
        ///
        /// # Safety
        ///
        /// `ctx` is the `ucontext_t` the kernel passed to an `SA_SIGINFO`
        /// handler.
        unsafe fn from_ucontext(ctx: *mut c_void) -> Regs {
            // SAFETY: the caller passes the kernel's `ucontext_t`, valid
            // for the handler's duration.
            let mc = unsafe { &(*ctx.cast::<libc::ucontext_t>()).uc_mcontext };
            #[cfg(target_arch = "x86_64")]
            {
                Regs {
                    ip: mc.gregs[libc::REG_RIP as usize] as usize,
                    fp: mc.gregs[libc::REG_RBP as usize] as usize,
                    sp: mc.gregs[libc::REG_RSP as usize] as usize,
                }
            }
            #[cfg(target_arch = "aarch64")]
            {
                Regs {
                    ip: mc.pc as usize,
                    fp: mc.regs[29] as usize,
                    sp: mc.sp as usize,
                    lr: mc.regs[30] as usize,
                }
            }
        }
    }

    /// Strips pointer-authentication bits from a code address (aarch64;
    /// user addresses fit in 48 bits).
    fn strip(addr: usize) -> usize {
        #[cfg(target_arch = "aarch64")]
        {
            addr & 0x0000_ffff_ffff_ffff
        }
        #[cfg(not(target_arch = "aarch64"))]
        {
            addr
        }
    }

    /// The preallocated answer: `addrs[0]` is the instruction pointer, then
    /// `scanned` scanned words, then `chained` frame-chain return addresses.
    /// Written by the handler in `WRITING` only, read by the monitor in
    /// `DONE` only.
    struct Frames {
        /// The addresses.
        addrs: [AtomicUsize; MAX_FRAMES],
        /// How many scanned words follow `addrs[0]`.
        scanned: AtomicUsize,
        /// How many chain addresses follow those.
        chained: AtomicUsize,
    }

    impl Default for Frames {
        fn default() -> Self {
            Frames {
                addrs: std::array::from_fn(|_| AtomicUsize::new(0)),
                scanned: AtomicUsize::new(0),
                chained: AtomicUsize::new(0),
            }
        }
    }

    impl fmt::Debug for Frames {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Frames")
                .field("scanned", &self.scanned.load(Ordering::Relaxed))
                .field("chained", &self.chained.load(Ordering::Relaxed))
                .finish_non_exhaustive()
        }
    }

    /// A copy of [`Frames`] taken by the monitor.
    struct Snapshot {
        /// The addresses, as in [`Frames`].
        addrs: [usize; MAX_FRAMES],
        /// How many scanned words follow `addrs[0]`.
        scanned: usize,
        /// How many chain addresses follow those.
        chained: usize,
    }

    /// Reads one stack word. Only called on addresses checked to lie in
    /// `[sp, stack end)` of the running thread, which is mapped.
    ///
    /// # Safety
    ///
    /// `addr` is aligned and inside the live part of the current thread's
    /// stack.
    unsafe fn read_word(addr: usize) -> usize {
        // SAFETY: the caller guarantees `addr` is aligned and mapped.
        unsafe { ptr::read_volatile(addr as *const usize) }
    }

    /// Whether `p` can be a frame record (`[p]` = caller's record, `[p +
    /// 8]` = return address) of a thread whose live stack is `[sp, hi)`.
    fn plausible_record(p: usize, sp: usize, hi: usize, text: Option<&[(usize, usize)]>) -> bool {
        if p % WORD != 0 || p < sp || p.saturating_add(2 * WORD) > hi {
            return false;
        }
        // SAFETY: `p` and `p + 8` are aligned and in `[sp, hi)`.
        let (next, ret) = unsafe { (read_word(p), read_word(p + WORD)) };
        let next_ok = next == 0 || (next > p && next % WORD == 0 && next < hi);
        let ret_ok = text.is_none_or(|t| in_text(t, strip(ret)));
        next_ok && ret_ok
    }

    impl Frames {
        /// Fills the buffer from the interrupted registers. Async-signal-
        /// safe: only loads from the checked stack range and atomic stores.
        fn record(&self, regs: Regs, lo: usize, hi: usize) {
            let text = TEXT.get().map(Vec::as_slice);
            let mut n = 0;
            let mut push = |addr: usize| {
                if let Some(slot) = self.addrs.get(n) {
                    slot.store(addr, Ordering::Relaxed);
                    n += 1;
                    true
                } else {
                    false
                }
            };
            push(regs.ip);
            let sp = regs.sp;
            let live = lo != 0 && lo <= sp && sp < hi && sp % WORD == 0;
            let mut scanned = 0;
            let mut chained = 0;
            #[cfg(target_arch = "aarch64")]
            {
                let lr = strip(regs.lr);
                if lr != 0 && text.is_some_and(|t| in_text(t, lr)) && push(lr) {
                    scanned += 1;
                }
            }
            if live {
                let limit = hi.min(sp.saturating_add(SCAN_BYTES));
                // Where the chain starts: the frame pointer if it is a
                // plausible record, else the first pair of plausible
                // records above the stack pointer (a chain broken by a
                // function that uses the frame-pointer register as data).
                let mut fp = 0;
                if plausible_record(regs.fp, sp, hi, text) {
                    fp = regs.fp;
                } else if text.is_some() {
                    let mut p = sp;
                    while p < limit {
                        if plausible_record(p, sp, hi, text) {
                            // SAFETY: `plausible_record` checked `p`.
                            let next = unsafe { read_word(p) };
                            if next != 0 && plausible_record(next, sp, hi, text) {
                                fp = p;
                                break;
                            }
                        }
                        p += WORD;
                    }
                }
                // Scan `[sp, fp)` for code addresses.
                if let Some(text) = text {
                    let end = if fp != 0 { fp } else { limit };
                    let mut p = sp;
                    while p < end && scanned < MAX_SCANNED {
                        // SAFETY: `sp <= p < end <= hi`, aligned.
                        let w = strip(unsafe { read_word(p) });
                        if in_text(text, w) && push(w) {
                            scanned += 1;
                        }
                        p += WORD;
                    }
                }
                // Walk the chain.
                let mut p = fp;
                let mut floor = sp;
                while p != 0 && p % WORD == 0 && p >= floor && p.saturating_add(2 * WORD) <= hi {
                    // SAFETY: `p` and `p + 8` are aligned and in `[sp, hi)`.
                    let (next, ret) = unsafe { (read_word(p), strip(read_word(p + WORD))) };
                    if ret == 0 || !push(ret) {
                        break;
                    }
                    chained += 1;
                    floor = p + WORD; // strictly increasing
                    p = next;
                }
            }
            self.scanned.store(scanned, Ordering::Relaxed);
            self.chained.store(chained, Ordering::Relaxed);
        }

        /// Copies the buffer (the monitor, in `DONE`).
        fn snapshot(&self) -> Snapshot {
            Snapshot {
                addrs: std::array::from_fn(|i| self.addrs[i].load(Ordering::Relaxed)),
                scanned: self.scanned.load(Ordering::Relaxed).min(MAX_FRAMES - 1),
                chained: self.chained.load(Ordering::Relaxed),
            }
        }
    }

    /// The Linux slot: state word, registered thread, answer buffer.
    #[derive(Debug, Default)]
    pub(super) struct SlotImp {
        /// Generation, `KILLING` bit and phase (module docs).
        state: AtomicU64,
        /// Kernel thread id of the registered thread. Written in
        /// `REGISTERING` only; read by the monitor under `KILLING`.
        tid: AtomicI32,
        /// Lowest address of the registered thread's stack.
        stack_lo: AtomicUsize,
        /// One past the highest address of that stack.
        stack_hi: AtomicUsize,
        /// The answer.
        frames: Frames,
    }

    /// The signal handler: answers a pending request on the slot the
    /// current thread is registered on. Async-signal-safe: TLS load,
    /// atomics, loads from the checked stack range, `gettid`; errno is
    /// restored.
    extern "C" fn on_signal(_sig: c_int, _info: *mut libc::siginfo_t, ctx: *mut c_void) {
        // SAFETY: `__errno_location` returns the calling thread's errno.
        let errno = unsafe { *libc::__errno_location() };
        #[cfg(test)]
        let _ = SIGNALS_SEEN.try_with(|n| n.fetch_add(1, Ordering::Relaxed));
        let slot = CURRENT
            .try_with(|c| c.load(Ordering::Relaxed))
            .unwrap_or(ptr::null_mut());
        if !slot.is_null() && !ctx.is_null() {
            // SAFETY: `CURRENT` is set only between this thread's
            // `register` and `unregister`, and a slot is not dropped while
            // a thread is registered on it.
            let slot = unsafe { &*slot };
            // SAFETY: `ctx` is the kernel's `ucontext_t` (`SA_SIGINFO`).
            let regs = unsafe { Regs::from_ucontext(ctx) };
            slot.answer(regs);
        }
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = errno };
    }

    impl SlotImp {
        /// Handler side: if a request is pending, writes the frames and
        /// publishes `DONE`.
        fn answer(&self, regs: Regs) {
            if self.tid.load(Ordering::Relaxed) != gettid() {
                return; // the slot changed hands; not ours to answer
            }
            let mut s = self.state.load(Ordering::Acquire);
            loop {
                if s & PHASE != REQUESTED {
                    return; // no request, or one abandoned: write nothing
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
            // Seqlock writer side: the phase change is ordered before the
            // buffer writes, for a monitor validating its copy.
            fence(Ordering::Release);
            let gen = s & GEN;
            self.frames.record(
                regs,
                self.stack_lo.load(Ordering::Relaxed),
                self.stack_hi.load(Ordering::Relaxed),
            );
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
            unblock_signal();
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
                let _ =
                    c.compare_exchange(me, ptr::null_mut(), Ordering::Relaxed, Ordering::Relaxed);
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
            let sig = install().map_err(|e| format!("no live stack: {e}"))?;
            let mut spins = 0;
            let mut s = self.state.load(Ordering::Acquire);
            let gen = loop {
                match s & PHASE {
                    UNREGISTERED => {
                        return Err(
                            "no live stack: no thread is registered on this worker slot".into()
                        )
                    }
                    REGISTERING => {
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

            let deadline = Instant::now() + timeout;
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
                    UNREGISTERED => return Err(
                        "no live stack: the thread stopped running the worker before it answered"
                            .into(),
                    ),
                    _ => {}
                }
                if Instant::now() >= deadline {
                    // Give up: REQUESTED or WRITING back to IDLE, so a late
                    // handler finds nothing to answer or cannot publish.
                    if self
                        .state
                        .compare_exchange(
                            s,
                            (s & !PHASE) | IDLE,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        )
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
                    let left = deadline.saturating_duration_since(Instant::now());
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
            Ok(format_stack(&snap))
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

    /// Reads `N` bytes of this process's memory at `addr` without faulting
    /// (through `process_vm_readv`), or `None` if unreadable or refused.
    fn read_code<const N: usize>(addr: usize) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: N,
        };
        let remote = libc::iovec {
            iov_base: addr as *mut c_void,
            iov_len: N,
        };
        // SAFETY: `local` describes `buf`, writable for `N` bytes; the
        // kernel validates `remote` and fails instead of faulting.
        let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
        (n == N as isize).then_some(buf)
    }

    /// Whether the instruction before `ret` is a call, i.e. whether a
    /// scanned word is a return address rather than some other pointer into
    /// code. `None` if the code cannot be read (then the word is kept).
    fn follows_call(ret: usize) -> Option<bool> {
        #[cfg(target_arch = "x86_64")]
        {
            let b: [u8; 8] = read_code(ret.checked_sub(8)?)?;
            // call rel32: E8 xx xx xx xx
            if b[3] == 0xe8 {
                return Some(true);
            }
            // call r/m64: FF /2, 2 to 7 bytes long (prefixes come before).
            Some((2..=7).any(|len| b[8 - len] == 0xff && (b[9 - len] >> 3) & 7 == 2))
        }
        #[cfg(target_arch = "aarch64")]
        {
            let b: [u8; 4] = read_code(ret.checked_sub(4)?)?;
            let insn = u32::from_le_bytes(b);
            let bl = insn & 0xfc00_0000 == 0x9400_0000;
            let blr = insn & 0xffff_fc1f == 0xd63f_0000;
            let blra = insn & 0xfeff_f800 == 0xd63f_0800;
            Some(bl || blr || blra)
        }
    }

    /// Where the call instruction before `ret` goes, when that can be read
    /// off the code: a direct call, or (x86_64) an indirect call through a
    /// RIP-relative slot (the GOT); a PLT stub is followed to its target.
    fn call_target(ret: usize) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        {
            let b: [u8; 6] = read_code(ret.checked_sub(6)?)?;
            let target = if b[1] == 0xe8 {
                let rel = i32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                ret.wrapping_add_signed(rel as isize)
            } else if b[0] == 0xff && b[1] == 0x15 {
                let rel = i32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                usize::from_ne_bytes(read_code(ret.wrapping_add_signed(rel as isize))?)
            } else {
                return None;
            };
            // A PLT stub: [endbr64] [bnd] jmp *disp32(%rip).
            let code: [u8; 11] = read_code(target)?;
            let mut at = if code[..4] == [0xf3, 0x0f, 0x1e, 0xfa] {
                4
            } else {
                0
            };
            if code[at] == 0xf2 {
                at += 1;
            }
            if code[at] == 0xff && code[at + 1] == 0x25 {
                let rel = i32::from_le_bytes(code[at + 2..at + 6].try_into().ok()?);
                let next = target
                    .wrapping_add(at + 6)
                    .wrapping_add_signed(rel as isize);
                return Some(usize::from_ne_bytes(read_code(next)?));
            }
            Some(target)
        }
        #[cfg(target_arch = "aarch64")]
        {
            let insn = u32::from_le_bytes(read_code(ret.checked_sub(4)?)?);
            if insn & 0xfc00_0000 != 0x9400_0000 {
                return None;
            }
            // imm26, sign-extended, in instructions.
            let imm = (((insn & 0x03ff_ffff) << 6) as i32 >> 6) as isize * 4;
            Some((ret - 4).wrapping_add_signed(imm))
        }
    }

    /// The name of the function containing `addr` (the outermost of the
    /// inlined frames there: the one the code belongs to).
    fn function_name(addr: usize) -> Option<String> {
        let mut name = None;
        resolve_exactly(addr, |sym| {
            name = sym.name().map(|n| format!("{n:#}"));
        });
        name
    }

    /// The name of the function a call before `ret` enters, if known.
    fn callee(ret: usize) -> Option<String> {
        call_target(ret).and_then(function_name)
    }

    /// Keeps the scanned words (innermost first) that look like live
    /// return addresses: each follows a call, and, walking outwards in,
    /// each lies in the function the call above it entered when that is
    /// known (the first chain frame's call gives the outermost one). This
    /// drops most stale return addresses left in uninitialized stack slots.
    fn filter_scanned(
        scanned: &[usize],
        first_chained: Option<usize>,
        ip_function: Option<String>,
    ) -> Vec<usize> {
        let pass = |anchor: Option<String>| {
            let mut want = anchor;
            let mut kept = Vec::new();
            for &ret in scanned.iter().rev() {
                if follows_call(ret) == Some(false) {
                    continue;
                }
                if want.is_some() && function_name(ret.wrapping_sub(1)) != want {
                    continue;
                }
                kept.push(ret);
                want = callee(ret);
            }
            kept.reverse();
            kept
        };
        let anchor = first_chained.and_then(callee);
        let mut kept = pass(anchor.clone());
        if kept.is_empty() && anchor.is_some() {
            kept = pass(None); // a tail call broke the expectation
        }
        // A return address into the interrupted function itself, innermost:
        // stale (on aarch64, the link register of a non-leaf function).
        if ip_function.is_some()
            && kept.first().map(|&r| function_name(r.wrapping_sub(1))) == Some(ip_function)
        {
            kept.remove(0);
        }
        kept
    }

    /// Whether this build keeps frame pointers: does a non-inlined function
    /// of this crate (built with the same flags as the user's code, in the
    /// usual case) set up a frame record?
    fn built_with_frame_pointers() -> bool {
        /// A function with no need for a frame of its own.
        #[inline(never)]
        fn probe(x: usize) -> usize {
            std::hint::black_box(x) ^ 1
        }
        static ANSWER: OnceLock<bool> = OnceLock::new();
        *ANSWER.get_or_init(|| {
            let f = probe as fn(usize) -> usize as usize;
            #[cfg(target_arch = "x86_64")]
            {
                // [endbr64] push %rbp; mov %rsp,%rbp
                let Some(code) = read_code::<8>(f) else {
                    return true;
                };
                let code = if code[..4] == [0xf3, 0x0f, 0x1e, 0xfa] {
                    &code[4..]
                } else {
                    &code[..]
                };
                code[..4] == [0x55, 0x48, 0x89, 0xe5]
            }
            #[cfg(target_arch = "aarch64")]
            {
                // mov x29, sp among the first instructions.
                let Some(code) = read_code::<16>(f) else {
                    return true;
                };
                code.chunks_exact(4)
                    .any(|i| u32::from_le_bytes([i[0], i[1], i[2], i[3]]) == 0x9100_03fd)
            }
        })
    }

    /// One symbolized name at an address (several when inlined).
    struct Line {
        /// Demangled name without hash.
        name: Option<String>,
        /// Source file, relative to the working directory when under it.
        file: Option<String>,
        /// Source line.
        line: Option<u32>,
    }

    /// `backtrace::resolve` for the code at `addr` itself: `resolve`
    /// subtracts one (it expects return addresses), so this adds it back.
    fn resolve_exactly(addr: usize, cb: impl FnMut(&backtrace::Symbol)) {
        backtrace::resolve(addr.wrapping_add(1) as *mut c_void, cb);
    }

    /// Symbolizes the code at `addr` (for a return address, pass the
    /// address minus one: the call).
    fn resolve(addr: usize) -> Vec<Line> {
        let mut out = Vec::new();
        let cwd = std::env::current_dir().ok();
        resolve_exactly(addr, |sym| {
            let file = sym.filename().map(|f| {
                let f = cwd
                    .as_deref()
                    .and_then(|cwd| f.strip_prefix(cwd).ok())
                    .unwrap_or(f);
                f.display().to_string()
            });
            out.push(Line {
                name: sym.name().map(|n| format!("{n:#}")),
                file,
                line: sym.lineno(),
            });
        });
        out
    }

    /// Whether a function name is the user's rather than std's or libc's.
    fn is_user_frame(name: &str) -> bool {
        const NOT_USER: [&str; 6] = [
            "std::", "core::", "alloc::", "<std::", "<core::", "<alloc::",
        ];
        name.contains("::") && !NOT_USER.iter().any(|p| name.starts_with(p))
    }

    /// Formats the captured frames, one line per frame (inlined calls get a
    /// line each), and the frame-pointer hint when frames look missing.
    fn format_stack(snap: &Snapshot) -> String {
        let scanned_end = 1 + snap.scanned;
        let chain_end = (scanned_end + snap.chained).min(MAX_FRAMES);
        let ip = snap.addrs[0];
        let chain = &snap.addrs[scanned_end..chain_end];
        let scanned = filter_scanned(
            &snap.addrs[1..scanned_end],
            chain.first().copied(),
            function_name(ip),
        );

        let mut out = String::new();
        let mut user_frames = 0;
        let frames = std::iter::once((ip, ""))
            .chain(scanned.iter().map(|&a| (a, "  (scanned)")))
            .chain(chain.iter().map(|&a| (a, "")));
        for (index, (addr, mark)) in frames.enumerate() {
            // Return addresses point after the call; `- 1` names the call.
            let lines = resolve(if index == 0 {
                addr
            } else {
                addr.wrapping_sub(1)
            });
            if lines.is_empty() {
                let _ = writeln!(out, "{index:>3}: {addr:#x}  <unknown>{mark}");
            }
            for (k, l) in lines.iter().enumerate() {
                if k == 0 {
                    let _ = write!(out, "{index:>3}: ");
                } else {
                    out.push_str("     "); // inlined into the frame above
                }
                match &l.name {
                    Some(n) => {
                        user_frames += usize::from(is_user_frame(n));
                        out.push_str(n);
                    }
                    None => {
                        let _ = write!(out, "{addr:#x}");
                    }
                }
                if let (Some(f), Some(line)) = (&l.file, l.line) {
                    let _ = write!(out, "  at {f}:{line}");
                }
                out.push_str(mark);
                out.push('\n');
            }
        }
        let omitted = !built_with_frame_pointers();
        if omitted || chain.len() <= 1 || user_frames == 0 {
            let why = if omitted {
                "this build omits them, so frames between the ones shown can be missing".to_string()
            } else {
                format!("the frame-pointer chain gave {} frame(s)", chain.len())
            };
            let _ = writeln!(
                out,
                "  ({FRAME_POINTER_HINT}: {why}; frames marked (scanned) are a best guess; \
                 build with RUSTFLAGS=\"-C force-frame-pointers=yes\" for the full stack)"
            );
        }
        out
    }
}

/// The stub: live stacks are not supported on this platform.
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod imp {
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

#[cfg(test)]
mod tests {
    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Barrier;
    use std::thread;
    use std::time::{Duration, Instant};

    use super::{StackSlot, FRAME_POINTER_HINT};

    /// Generous: the tests check answers, not speed (a loaded 2-core box).
    const TIMEOUT: Duration = Duration::from_secs(2);

    /// Whether live stacks exist on this platform.
    const SUPPORTED: bool = cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ));

    /// The frames of `stack` name `function`, or (only when the text says
    /// frame pointers are missing) at least hold a frame line.
    fn assert_shows(stack: &str, function: &str) {
        if stack.contains(FRAME_POINTER_HINT) {
            assert!(stack.contains("  0: "), "no frame at all:\n{stack}");
        } else {
            assert!(
                stack.contains(function),
                "{function} missing from:\n{stack}"
            );
        }
    }

    /// Registers, then sleeps two seconds in `std::thread::sleep`; returns
    /// how long the sleep took and how many signals this thread got.
    #[inline(never)]
    fn stuck_here_for_the_test(slot: &StackSlot, ready: &Barrier) -> (Duration, usize) {
        slot.register_current_thread();
        ready.wait();
        let start = Instant::now();
        thread::sleep(Duration::from_secs(2));
        let slept = start.elapsed();
        slot.unregister_current_thread();
        // Uses the results after the call, so the sleep is not a tail call.
        black_box((slept, StackSlot::signals_seen_by_current_thread()))
    }

    #[test]
    fn captures_a_thread_blocked_in_sleep() {
        let slot = StackSlot::default();
        let ready = Barrier::new(2);
        thread::scope(|s| {
            let sleeper = s.spawn(|| stuck_here_for_the_test(&slot, &ready));
            ready.wait();
            thread::sleep(Duration::from_millis(200)); // well inside the sleep
            let stack = slot.capture(TIMEOUT);
            let (slept, signals) = sleeper.join().unwrap();
            assert!(
                slept >= Duration::from_secs(2),
                "the signal cut the sleep short: {slept:?}"
            );
            if !SUPPORTED {
                assert!(stack.is_err());
                return;
            }
            let stack = stack.unwrap();
            eprintln!("live stack of a thread in std::thread::sleep:\n{stack}");
            assert_eq!(signals, 1);
            assert_shows(&stack, "stuck_here_for_the_test");
        });
    }

    #[test]
    fn unregistered_slot_is_an_error() {
        let slot = StackSlot::default();
        let err = slot.capture(TIMEOUT).unwrap_err();
        if SUPPORTED {
            assert!(err.contains("no thread is registered"), "{err}");
        }
    }

    #[test]
    fn no_signal_after_unregister() {
        let slot = StackSlot::default();
        let step = Barrier::new(2);
        thread::scope(|s| {
            let worker = s.spawn(|| {
                slot.register_current_thread();
                step.wait(); // 1: registered
                step.wait(); // 2: first capture done
                slot.unregister_current_thread();
                step.wait(); // 3: unregistered
                step.wait(); // 4: second capture done (a signal sent to
                             // this thread would have landed by now)
                StackSlot::signals_seen_by_current_thread()
            });
            // Asserts wait for the join, so a failure cannot strand the
            // worker at a barrier.
            step.wait();
            let first = slot.capture(TIMEOUT);
            step.wait();
            step.wait();
            let second = slot.capture(TIMEOUT);
            step.wait();
            let seen = worker.join().unwrap();
            assert_eq!(first.is_ok(), SUPPORTED, "{first:?}");
            let second = second.unwrap_err();
            if SUPPORTED {
                assert!(second.contains("no thread is registered"), "{second}");
                assert_eq!(seen, 1, "signalled after unregister");
            }
        });
    }

    /// Sets the flag when dropped, so a failing assertion still stops the
    /// spinning thread (instead of hanging the test).
    struct StopOnDrop<'a>(&'a AtomicBool);

    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// Spins until `stop`.
    #[inline(never)]
    fn busy_here_for_the_test(slot: &StackSlot, ready: &Barrier, stop: &AtomicBool) -> u64 {
        slot.register_current_thread();
        ready.wait();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            n = black_box(n.wrapping_add(1));
        }
        slot.unregister_current_thread();
        black_box(n)
    }

    #[test]
    fn many_captures_of_a_busy_thread() {
        if !SUPPORTED {
            return;
        }
        let slot = StackSlot::default();
        let ready = Barrier::new(2);
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            let busy = s.spawn(|| busy_here_for_the_test(&slot, &ready, &stop));
            let stopper = StopOnDrop(&stop);
            ready.wait();
            let (mut ok, mut timed_out) = (0, 0);
            for i in 0..200 {
                // Every fourth request is given up at once, so late answers
                // land while later requests are made.
                let timeout = if i % 4 == 3 { Duration::ZERO } else { TIMEOUT };
                match slot.capture(timeout) {
                    Ok(stack) => {
                        assert_shows(&stack, "busy_here_for_the_test");
                        ok += 1;
                    }
                    Err(e) => {
                        assert!(e.contains("did not answer"), "{e}");
                        timed_out += 1;
                    }
                }
            }
            drop(stopper);
            busy.join().unwrap();
            assert_eq!(ok + timed_out, 200);
            assert!(ok >= 150, "{ok} answers, {timed_out} timeouts");
        });
    }

    #[test]
    fn captures_race_register_and_unregister() {
        if !SUPPORTED {
            return;
        }
        let slot = StackSlot::default();
        let stop = AtomicBool::new(false);
        let rounds = AtomicUsize::new(0);
        thread::scope(|s| {
            let churn = s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    slot.register_current_thread();
                    for i in 0..100 {
                        black_box(i);
                    }
                    slot.unregister_current_thread();
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
                StackSlot::signals_seen_by_current_thread()
            });
            let stopper = StopOnDrop(&stop);
            let (mut ok, mut captures) = (0, 0);
            while captures < 1000 || rounds.load(Ordering::Relaxed) < 1000 {
                match slot.capture(Duration::from_millis(50)) {
                    Ok(stack) => {
                        assert!(stack.contains("  0: "), "{stack}");
                        ok += 1;
                    }
                    Err(e) => {
                        let known = [
                            "no thread is registered",
                            "stopped running",
                            "changed threads",
                            "did not answer",
                        ];
                        assert!(known.iter().any(|k| e.contains(k)), "{e}");
                    }
                }
                captures += 1;
            }
            drop(stopper);
            let signals = churn.join().unwrap();
            // Every answer came from a signal; a signal after unregister
            // would be extra, but cannot be told apart from an unanswered
            // one here: the bound is the number of captures.
            assert!(
                signals >= ok && signals <= captures,
                "{signals} signals, {ok} answers, {captures} captures"
            );
        });
    }

    #[test]
    fn enabled_reads_the_environment_once() {
        let first = super::enabled();
        assert_eq!(super::enabled(), first);
        assert_eq!(
            first,
            std::env::var_os("PARKWAY_GO_CHECK_BACKTRACE").is_some_and(|v| v == "1")
        );
    }
}
