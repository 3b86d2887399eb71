//! The handler's frame walk: the interrupted registers, the preallocated
//! answer buffer, and the bounds-checked stack reads that fill it (Linux).

use std::ffi::c_void;
use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::handler::{in_text, TEXT};

/// Addresses kept per capture: the instruction pointer, the scanned
/// words, the frame-pointer chain.
pub(super) const MAX_FRAMES: usize = 96;
/// At most this many scanned words (the rest is for the chain, which
/// gets at least 64 entries).
const MAX_SCANNED: usize = 31;
/// How far above the stack pointer the scan looks, in bytes.
const SCAN_BYTES: usize = 8 * 1024;
/// Alignment of a frame record on both architectures.
const WORD: usize = size_of::<usize>();

/// The registers the handler needs from the interrupted context.
#[derive(Clone, Copy)]
pub(super) struct Regs {
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
    pub(super) unsafe fn from_ucontext(ctx: *mut c_void) -> Regs {
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
pub(super) struct Frames {
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
#[derive(Clone, Copy)]
pub(super) struct Snapshot {
    /// The addresses, as in [`Frames`].
    pub(super) addrs: [usize; MAX_FRAMES],
    /// How many scanned words follow `addrs[0]`.
    pub(super) scanned: usize,
    /// How many chain addresses follow those.
    pub(super) chained: usize,
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
    pub(super) fn record(&self, regs: Regs, lo: usize, hi: usize) {
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
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot {
            addrs: std::array::from_fn(|i| self.addrs[i].load(Ordering::Relaxed)),
            scanned: self.scanned.load(Ordering::Relaxed).min(MAX_FRAMES - 1),
            chained: self.chained.load(Ordering::Relaxed),
        }
    }
}
