//! Unit tests of live stacks: real signals to real threads.

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

/// The order `run_slot` uses after a hand-off: the slot goes to the free
/// list, and may be registered by another thread, before the thread that
/// gave it up unregisters. That thread must neither answer the new
/// thread's captures nor unregister it.
#[test]
fn a_superseded_registration_neither_answers_nor_unregisters() {
    if !SUPPORTED {
        return;
    }
    let slot = StackSlot::default();
    let step = Barrier::new(2);
    let ready = Barrier::new(2);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let old = s.spawn(|| {
            slot.register_current_thread();
            step.wait(); // 1: registered
            step.wait(); // 2: superseded and captured
            slot.unregister_current_thread();
            step.wait(); // 3: unregistered (late)
            StackSlot::signals_seen_by_current_thread()
        });
        let stopper = StopOnDrop(&stop);
        step.wait();
        let new = s.spawn(|| busy_here_for_the_test(&slot, &ready, &stop));
        ready.wait();
        let first = slot.capture(TIMEOUT);
        step.wait();
        step.wait();
        let second = slot.capture(TIMEOUT);
        drop(stopper);
        new.join().unwrap();
        let seen_by_old = old.join().unwrap();
        assert_shows(&first.unwrap(), "busy_here_for_the_test");
        // Still registered: the old thread's unregister left it alone.
        assert_shows(&second.unwrap(), "busy_here_for_the_test");
        assert_eq!(seen_by_old, 0, "the superseded thread was signalled");
    });
}

/// Symbolizing takes the `backtrace` crate's process-wide lock; a thread
/// stuck while holding it must not hang the capture: past the limit, the
/// text holds the raw addresses.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn symbolizing_is_bounded_while_the_backtrace_lock_is_held() {
    use super::symbolize::SYMBOLS_MISSING;

    let slot = StackSlot::default();
    let ready = Barrier::new(2);
    let locked = Barrier::new(2);
    let (release, released) = std::sync::mpsc::channel::<()>();
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let busy = s.spawn(|| busy_here_for_the_test(&slot, &ready, &stop));
        let stopper = StopOnDrop(&stop);
        let locked = &locked;
        let holder = s.spawn(move || {
            // The callback runs under the lock. Held until released, or
            // for 5 s at most: an unbounded capture then ends too, with
            // symbols, and fails the assertion instead of hanging.
            backtrace::trace(|_| {
                locked.wait();
                let _ = released.recv_timeout(Duration::from_secs(5));
                false
            });
        });
        ready.wait();
        locked.wait();
        let stack = slot.imp.capture_with(TIMEOUT, Duration::from_millis(100));
        let _ = release.send(());
        holder.join().unwrap();
        drop(stopper);
        busy.join().unwrap();
        let stack = stack.unwrap();
        assert!(stack.contains(SYMBOLS_MISSING), "{stack}");
        assert!(stack.contains("  0: 0x"), "{stack}");
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
