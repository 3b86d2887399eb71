//! On the monitor, off the stuck thread: the raw addresses made text.
//! Drops scanned words that do not look like live return addresses
//! (reading code through `process_vm_readv`, which cannot fault),
//! symbolizes with `backtrace`, and adds the frame-pointer hint (Linux).

use std::ffi::c_void;
use std::fmt::Write as _;
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

use super::frames::{Snapshot, MAX_FRAMES};
use super::FRAME_POINTER_HINT;

/// How long [`format_stack_bounded`] waits for symbols by default: long
/// enough for a first symbolization of a large binary with debug info.
pub(super) const SYMBOLIZE_TIMEOUT: Duration = Duration::from_secs(10);

/// [`format_stack`] on a helper thread, waited for at most `limit`; past
/// that, the raw addresses. `backtrace::resolve` takes the `backtrace`
/// crate's process-wide lock, which the stuck thread itself may hold (in
/// `Backtrace::new`, or blocked inside a `backtrace::trace` callback): the
/// monitor must not wait for it without bound. A helper that overran
/// finishes on its own and its text is dropped.
pub(super) fn format_stack_bounded(snap: Snapshot, limit: Duration) -> String {
    let (tx, rx) = mpsc::sync_channel(1);
    let helper = thread::Builder::new()
        .name("parkway-live-stack".into())
        .spawn(move || {
            let _ = tx.send(format_stack(&snap));
        });
    if helper.is_err() {
        // No thread to spare: symbolize here, as without a bound.
        return format_stack(&snap);
    }
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| format_raw(&snap, limit))
}

/// The captured addresses unsymbolized (scanned words unfiltered: the
/// filter needs symbols), with a line saying why.
fn format_raw(snap: &Snapshot, limit: Duration) -> String {
    let scanned_end = 1 + snap.scanned;
    let chain_end = (scanned_end + snap.chained).min(MAX_FRAMES);
    let mut out = String::new();
    for (index, &addr) in snap.addrs[..chain_end].iter().enumerate() {
        let mark = if (1..scanned_end).contains(&index) {
            "  (scanned, unfiltered)"
        } else {
            ""
        };
        let _ = writeln!(out, "{index:>3}: {addr:#x}{mark}");
    }
    let _ = writeln!(
        out,
        "  ({SYMBOLS_MISSING} within {limit:?}: another thread may hold the `backtrace` \
         crate's lock, as a thread stuck inside `backtrace::trace` or `Backtrace::new` does)"
    );
    out
}

/// The line added when symbolizing overran; also what tests look for.
pub(super) const SYMBOLS_MISSING: &str = "no symbols: symbolizing did not finish";

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
