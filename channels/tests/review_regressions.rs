//! Regression tests for the defects a cold review of the channel core found
//! (each failed on the code before its fix).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parkway_channels::{bounded, promise, Select};

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn poll<F: Future + Unpin>(f: &mut F, w: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(w))
}

/// A select waiting for room ahead of a parked plain send must not stop
/// the send's value from moving into freed room, nor the wake-up of the
/// receiver that value is for.
#[test]
fn refill_steps_past_a_select_waiting_for_room() {
    let (tx, rx) = bounded::<u32>(1);
    let (_ca, wa) = counter();
    let (cb, wb) = counter();
    let (cs, ws) = counter();
    let (_cl, wl) = counter();
    let mut ra = rx.recv();
    let mut rb = rx.recv();
    assert!(poll(&mut ra, &wa).is_pending());
    assert!(poll(&mut rb, &wb).is_pending());
    tx.try_send(0).unwrap(); // wakes ra
    let mut slot = Some(1u32);
    let mut sel = Select::new();
    sel.send(&tx, &mut slot, |r| r.is_ok());
    let mut sf = sel.select();
    assert!(poll(&mut sf, &wl).is_pending()); // waits for room
    let mut s2 = tx.send(2);
    assert!(poll(&mut s2, &ws).is_pending()); // parked behind the select
    assert_eq!(poll(&mut ra, &wa), Poll::Ready(Some(0)));
    // S2's value moved into the freed slot; S2 and rb were woken for it.
    assert_eq!(
        cs.0.load(Ordering::SeqCst),
        1,
        "the parked sender was not completed"
    );
    assert_eq!(
        cb.0.load(Ordering::SeqCst),
        1,
        "the parked receiver was not woken"
    );
    assert_eq!(poll(&mut s2, &ws), Poll::Ready(Ok(())));
    assert_eq!(poll(&mut rb, &wb), Poll::Ready(Some(2)));
    drop(sf);
    assert_eq!(slot, Some(1), "the select's unsent value stays in its slot");
}

/// A `take` queued behind a select's dead registration is served by the
/// next value.
#[test]
fn take_behind_a_dead_select_entry_is_served() {
    let (tx_a, rx_a) = bounded::<u32>(4);
    let (tx_b, rx_b) = bounded::<u32>(4);
    let (_c, w) = counter();
    let mut sel = Select::new();
    sel.recv(&rx_a, |v| ("a", v)).recv(&rx_b, |v| ("b", v));
    let mut sf = sel.select();
    assert!(poll(&mut sf, &w).is_pending());
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    rx_a.take(move |v| g.store(v.unwrap() as usize + 100, Ordering::SeqCst))
        .unwrap();
    tx_b.try_send(9).unwrap(); // commits the select through b: its entry on a is dead
    tx_a.try_send(1).unwrap();
    assert_eq!(got.load(Ordering::SeqCst), 101, "the take was skipped");
    assert_eq!(poll(&mut sf, &w), Poll::Ready(("b", Some(9))));
}

static CLONE_PANICS: AtomicBool = AtomicBool::new(false);

#[derive(Debug, PartialEq)]
struct Fragile;

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(
            !CLONE_PANICS.load(Ordering::SeqCst),
            "clone panics on purpose"
        );
        Fragile
    }
}

/// A promise's `T::clone` is user code: it runs outside the lock, so a
/// panicking clone neither fails the sender nor strands parked receivers.
#[test]
fn promise_clone_panic_strands_nobody() {
    let (tx, rx) = promise::<Fragile>();
    let (c, w) = counter();
    let mut r = rx.recv();
    assert!(poll(&mut r, &w).is_pending());
    rx.take(|_| {}).unwrap();
    CLONE_PANICS.store(true, Ordering::SeqCst);
    let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.try_send(Fragile)));
    CLONE_PANICS.store(false, Ordering::SeqCst);
    assert!(
        matches!(sent, Ok(Ok(()))),
        "the sender must not see the clone's panic"
    );
    assert_eq!(
        c.0.load(Ordering::SeqCst),
        1,
        "the parked receiver was not woken"
    );
    assert_eq!(poll(&mut r, &w), Poll::Ready(Some(Fragile)));
}

struct PanickyWaker;

impl Wake for PanickyWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker panics on purpose");
    }
}

/// A waker that panics does not stop the rest of the deferred work: the
/// `take` callback still gets its value and the sender returns normally.
#[test]
fn panicking_waker_strands_nothing() {
    let (tx, rx) = bounded::<u32>(2);
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    rx.take(move |v| g.store(v.unwrap() as usize, Ordering::SeqCst))
        .unwrap();
    let pw = Waker::from(Arc::new(PanickyWaker));
    let mut r = rx.recv();
    assert!(poll(&mut r, &pw).is_pending());
    let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.try_send(7)));
    assert!(
        matches!(sent, Ok(Ok(()))),
        "the sender must not see the waker's panic"
    );
    assert_eq!(got.load(Ordering::SeqCst), 7);
    tx.try_send(8).unwrap();
    drop(r);
}
