//! The live-stack signal: its number, its installation, and the handler
//! that answers a request on the interrupted thread (Linux).
//!
//! Everything the handler runs is async-signal-safe: const thread-local
//! loads, atomics, `gettid`, and loads from the checked stack range (see
//! [`frames`](super::frames)); errno is saved and restored.

use std::ffi::{c_int, c_void};
use std::ptr;
#[cfg(test)]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

use super::frames::Regs;
use super::slot::SlotImp;

thread_local! {
    /// The slot the current thread is registered on, for the signal
    /// handler; null when none. Const-initialized and without a
    /// destructor, so reading it is a plain TLS load (no lazy
    /// initialization, no allocation): safe in a signal handler.
    pub(super) static CURRENT: AtomicPtr<SlotImp> = const { AtomicPtr::new(ptr::null_mut()) };
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
pub(super) static TEXT: OnceLock<Vec<(usize, usize)>> = OnceLock::new();

/// Whether `addr` lies in loaded code.
pub(super) fn in_text(text: &[(usize, usize)], addr: usize) -> bool {
    text.iter().any(|&(lo, hi)| lo <= addr && addr < hi)
}

/// The executable `PT_LOAD` segments of every loaded object.
fn text_ranges() -> Vec<(usize, usize)> {
    /// `dl_iterate_phdr` callback: appends the object's code ranges.
    extern "C" fn each(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
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

/// [`on_signal`] as `sigaction` stores it.
fn handler_address() -> libc::sighandler_t {
    on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as libc::sighandler_t
}

/// Whether [`on_signal`] still handles `sig` (something may have replaced
/// it since [`install`]; sending the signal then could end the process).
pub(super) fn handler_in_place(sig: c_int) -> bool {
    // SAFETY: an all-zero `sigaction` is a valid value (no handler, empty
    // mask, no flags).
    let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `now`, a
    // valid out-pointer.
    let rc = unsafe { libc::sigaction(sig, ptr::null(), &mut now) };
    rc == 0 && now.sa_sigaction == handler_address()
}

/// Installs the handler once per process; the signal number, or why
/// not.
pub(super) fn install() -> Result<c_int, String> {
    static INSTALLED: OnceLock<Result<c_int, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            TEXT.get_or_init(text_ranges);
            let sig = signal_number();
            if sig > libc::SIGRTMAX() {
                return Err(format!(
                    "no real-time signal SIGRTMIN+5 ({sig}) on this system"
                ));
            }
            // SAFETY: an all-zero `sigaction` is a valid value (no
            // handler, empty mask, no flags).
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: a null new action only reads the current one
            // into `old`, a valid out-pointer.
            if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0 {
                return Err(format!(
                    "sigaction({sig}) failed: {}",
                    std::io::Error::last_os_error()
                ));
            }
            if old.sa_sigaction != libc::SIG_DFL {
                return Err(format!(
                    "signal SIGRTMIN+5 ({sig}) already has a handler installed by someone else; \
                     parkway leaves it alone"
                ));
            }
            // SAFETY: as above, all-zero is a valid `sigaction`.
            let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
            new.sa_sigaction = handler_address();
            // `SA_ONSTACK`: on the thread's alternate stack when it has one
            // (std gives its threads one), so a thread stuck near the end
            // of its stack does not overflow it running the handler.
            new.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
            // SAFETY: `new.sa_mask` is a valid `sigset_t` to clear.
            unsafe { libc::sigemptyset(&mut new.sa_mask) };
            // SAFETY: `new` is a fully initialized action whose handler
            // is async-signal-safe (see `on_signal`).
            if unsafe { libc::sigaction(sig, &new, ptr::null_mut()) } != 0 {
                return Err(format!(
                    "sigaction({sig}) failed: {}",
                    std::io::Error::last_os_error()
                ));
            }
            Ok(sig)
        })
        .clone()
}

/// The calling thread's kernel thread id.
pub(super) fn gettid() -> i32 {
    // SAFETY: `gettid` takes no arguments and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    tid as i32
}

/// The calling thread's stack as `(lowest, highest)` address, or
/// `(0, 0)` if unknown (then only the instruction pointer is kept).
pub(super) fn current_stack() -> (usize, usize) {
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
    // Word-aligned: the handler reads whole words below the top.
    let hi = (addr as usize).saturating_add(size) & !(size_of::<usize>() - 1);
    (addr as usize, hi)
}

/// Unblocks the live-stack signal on the calling thread (a thread may
/// inherit a mask blocking it, and would then never answer).
pub(super) fn unblock_signal() {
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
