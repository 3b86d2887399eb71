//! The pending-op limit: at most `MAX_PENDING` (1024) pending `put` callbacks
//! and, separately, 1024 pending `take` callbacks per channel; the 1025th is
//! refused with `TooManyPending` (a refused put hands its value back); the
//! channel recovers once drained; parked futures, blocked threads and select
//! registrations do not count.
//!
//! Follows core.async `src/test/clojure/clojure/core/async_test.clj`
//! `limit-async-take!-put!` ("puts and takes limit"), extended with recovery.

#[macro_use]
mod util;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use parkway_channels::{
    bounded, unbuffered, PutError, Receiver, Select, Sender, TakeError, TryRecvError, TrySendError,
    MAX_PENDING,
};
use util::{join, poll_with, spawn_blocked, wait_until, CountWaker, Slot};

/// Registers `n` pending puts of `base..base + n`, each counting its Ok in `oks`.
fn fill_puts(tx: &Sender<u64>, base: u64, n: usize, oks: &Arc<AtomicUsize>) {
    for i in 0..n as u64 {
        let oks = Arc::clone(oks);
        match tx.put(base + i, move |r| {
            assert!(r.is_ok());
            oks.fetch_add(1, Ordering::SeqCst);
        }) {
            Ok(()) => {}
            Err(e) => panic!("put {i} of {n} refused: {e:?}"),
        }
    }
}

/// Registers `n` pending takes, each recording its value in `got`.
fn fill_takes(rx: &Receiver<u64>, n: usize, got: &Arc<std::sync::Mutex<Vec<Option<u64>>>>) {
    for i in 0..n {
        let got = Arc::clone(got);
        match rx.take(move |v| got.lock().unwrap().push(v)) {
            Ok(()) => {}
            Err(e) => panic!("take {i} of {n} refused: {e:?}"),
        }
    }
}

#[track_caller]
fn assert_put_refused(tx: &Sender<u64>, v: u64) {
    let slot = Slot::new();
    match tx.put(v, util::put_cb(&slot)) {
        Err(PutError::TooManyPending(back)) => {
            assert_eq!(back, v, "refused put handed back another value")
        }
        Ok(()) => panic!(
            "put {} beyond the limit of {MAX_PENDING} pending puts was accepted",
            MAX_PENDING + 1
        ),
    }
    assert!(!slot.is_set(), "the callback of a refused put ran");
}

#[track_caller]
fn assert_take_refused(rx: &Receiver<u64>) {
    let slot: Arc<Slot<Option<u64>>> = Slot::new();
    match rx.take(util::take_cb(&slot)) {
        Err(TakeError::TooManyPending) => {}
        Ok(()) => panic!(
            "take {} beyond the limit of {MAX_PENDING} pending takes was accepted",
            MAX_PENDING + 1
        ),
    }
    assert!(!slot.is_set(), "the callback of a refused take ran");
}

// limit-async-take!-put! "async put! limit".
#[test]
fn put_limit_then_the_channel_unlocks() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u64>();
    let oks = Arc::new(AtomicUsize::new(0));
    fill_puts(&tx, 0, MAX_PENDING, &oks);
    assert_eq!(oks.load(Ordering::SeqCst), 0);
    assert_put_refused(&tx, 42);
    // make sure the channel unlocks
    assert_eq!(rx.recv_blocking(), Some(0));
    assert_eq!(oks.load(Ordering::SeqCst), 1);
    // One slot is free again: one more put is accepted, the next refused.
    fill_puts(&tx, 5_000, 1, &oks);
    assert_put_refused(&tx, 43);
    // Drain: FIFO, then the late put.
    for i in 1..MAX_PENDING as u64 {
        assert_eq!(rx.recv_blocking(), Some(i));
    }
    assert_eq!(rx.recv_blocking(), Some(5_000));
    assert_eq!(oks.load(Ordering::SeqCst), MAX_PENDING + 1);
    assert_matches!(rx.try_recv(), Err(TryRecvError::Empty));
    // Full recovery: another 1024 pending puts are accepted.
    fill_puts(&tx, 10_000, MAX_PENDING, &oks);
    assert_put_refused(&tx, 44);
    for i in 0..MAX_PENDING as u64 {
        assert_eq!(rx.try_recv().ok(), Some(10_000 + i));
    }
}

// limit-async-take!-put! "async take! limit".
#[test]
fn take_limit_then_the_channel_unlocks() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u64>();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    fill_takes(&rx, MAX_PENDING, &got);
    assert_take_refused(&rx);
    // make sure the channel unlocks
    assert_matches!(tx.send_blocking(42), Ok(()));
    assert_eq!(*got.lock().unwrap(), vec![Some(42)]);
    fill_takes(&rx, 1, &got);
    assert_take_refused(&rx);
    for i in 0..MAX_PENDING as u64 {
        assert_matches!(tx.try_send(i), Ok(()), "offer to pending take {i}");
    }
    assert_matches!(
        tx.try_send(7),
        Err(TrySendError::Full(7)),
        "more takes served than registered"
    );
    assert_eq!(got.lock().unwrap().len(), MAX_PENDING + 1);
    // Full recovery.
    fill_takes(&rx, MAX_PENDING, &got);
    assert_take_refused(&rx);
    tx.close();
    assert_eq!(got.lock().unwrap().len(), 2 * MAX_PENDING + 1);
    assert!(got.lock().unwrap()[MAX_PENDING + 1..]
        .iter()
        .all(Option::is_none));
}

#[test]
fn put_limit_on_a_full_bounded_channel() {
    let _watchdog = util::watchdog();
    // The buffered values do not count; the pending puts beyond them do.
    let (tx, rx) = bounded::<u64>(4);
    let oks = Arc::new(AtomicUsize::new(0));
    fill_puts(&tx, 0, 4 + MAX_PENDING, &oks);
    assert_eq!(
        oks.load(Ordering::SeqCst),
        4,
        "puts into free buffer space complete inline"
    );
    assert_put_refused(&tx, 99);
    for i in 0..(4 + MAX_PENDING) as u64 {
        assert_eq!(rx.try_recv().ok(), Some(i));
    }
    assert_eq!(oks.load(Ordering::SeqCst), 4 + MAX_PENDING);
}

#[test]
fn put_and_take_limits_are_separate_and_recover() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u64>();
    let oks = Arc::new(AtomicUsize::new(0));
    for round in 0..3u64 {
        fill_puts(&tx, round * 10_000, MAX_PENDING, &oks);
        assert_put_refused(&tx, 1);
        for i in 0..MAX_PENDING as u64 {
            assert_eq!(
                rx.try_recv().ok(),
                Some(round * 10_000 + i),
                "round {round}"
            );
        }
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        fill_takes(&rx, MAX_PENDING, &got);
        assert_take_refused(&rx);
        for i in 0..MAX_PENDING as u64 {
            assert_matches!(
                tx.try_send(i),
                Ok(()),
                "round {round}: offer to pending take {i}"
            );
        }
        assert_eq!(got.lock().unwrap().len(), MAX_PENDING);
    }
    assert_eq!(oks.load(Ordering::SeqCst), 3 * MAX_PENDING);
}

#[test]
fn inline_ops_never_count() {
    let _watchdog = util::watchdog();
    // Puts and takes that complete at once are not pending: any number works.
    let (tx, rx) = bounded::<u64>(1);
    for i in 0..5_000 {
        tx.put(i, |r| assert!(r.is_ok())).unwrap();
        let slot = Slot::new();
        rx.take(util::take_cb(&slot)).unwrap();
        assert_eq!(slot.take(), Some(Some(i)));
    }
}

#[test]
fn parked_send_futures_do_not_count() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u64>();
    const FUTURES: usize = 2_000;
    let ws: Vec<_> = (0..FUTURES).map(|_| CountWaker::new()).collect();
    let mut futs: Vec<_> = (0..FUTURES as u64).map(|i| Box::pin(tx.send(i))).collect();
    for (f, w) in futs.iter_mut().zip(&ws) {
        util::assert_pending(poll_with(f.as_mut(), w), "unbuffered send");
    }
    let oks = Arc::new(AtomicUsize::new(0));
    fill_puts(&tx, 100_000, MAX_PENDING, &oks);
    assert_put_refused(&tx, 1);

    // Drain everything: every future value and every put value exactly once.
    let mut done = vec![false; FUTURES];
    let mut got = Vec::new();
    wait_until("draining 2,000 parked sends and 1,024 puts", || {
        loop {
            match rx.try_recv() {
                Ok(v) => got.push(v),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => unreachable!(),
            }
        }
        for i in 0..FUTURES {
            if !done[i] && ws[i].woken() {
                if let Poll::Ready(r) = poll_with(futs[i].as_mut(), &ws[i]) {
                    assert!(r.is_ok());
                    done[i] = true;
                }
            }
        }
        got.len() == FUTURES + MAX_PENDING && done.iter().all(|d| *d)
    });
    got.sort();
    let mut expect: Vec<u64> = (0..FUTURES as u64).collect();
    expect.extend(100_000..100_000 + MAX_PENDING as u64);
    assert_eq!(got, expect);
    assert_eq!(oks.load(Ordering::SeqCst), MAX_PENDING);
}

#[test]
fn parked_recv_futures_do_not_count() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u64>(1);
    const FUTURES: usize = 2_000;
    let ws: Vec<_> = (0..FUTURES).map(|_| CountWaker::new()).collect();
    let mut futs: Vec<_> = (0..FUTURES).map(|_| Box::pin(rx.recv())).collect();
    for (f, w) in futs.iter_mut().zip(&ws) {
        util::assert_pending(poll_with(f.as_mut(), w), "recv on empty");
    }
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    fill_takes(&rx, MAX_PENDING, &got);
    assert_take_refused(&rx);

    let total = (FUTURES + MAX_PENDING) as u64;
    let mut next = 0u64;
    let mut from_futs = Vec::new();
    let mut done = vec![false; FUTURES];
    wait_until("serving 2,000 parked receivers and 1,024 takes", || {
        while next < total {
            match tx.try_send(next) {
                Ok(()) => next += 1,
                Err(TrySendError::Full(_)) => break,
                Err(TrySendError::Closed(_)) => unreachable!(),
            }
        }
        for i in 0..FUTURES {
            if !done[i] && ws[i].woken() {
                if let Poll::Ready(v) = poll_with(futs[i].as_mut(), &ws[i]) {
                    from_futs.push(v.expect("None from an open channel"));
                    done[i] = true;
                }
            }
        }
        next == total && done.iter().all(|d| *d)
    });
    let mut all: Vec<u64> = got.lock().unwrap().iter().map(|v| v.unwrap()).collect();
    all.extend(from_futs);
    all.sort();
    assert_eq!(all, (0..total).collect::<Vec<_>>());
}

#[test]
fn blocked_threads_do_not_count() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u64>();
    let senders: Vec<_> = (0..4u64)
        .map(|i| {
            let tx = tx.clone();
            spawn_blocked(move || tx.send_blocking(1_000_000 + i))
        })
        .collect();
    let oks = Arc::new(AtomicUsize::new(0));
    fill_puts(&tx, 0, MAX_PENDING, &oks);
    assert_put_refused(&tx, 1);
    let mut got: Vec<u64> = (0..MAX_PENDING + 4)
        .map(|_| rx.recv_blocking().unwrap())
        .collect();
    for h in senders {
        assert_matches!(join(h, "blocked sender"), Ok(()));
    }
    got.sort();
    let mut expect: Vec<u64> = (0..MAX_PENDING as u64).collect();
    expect.extend(1_000_000..1_000_004);
    assert_eq!(got, expect);

    // Blocked receivers do not count against the take limit either.
    let receivers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            spawn_blocked(move || rx.recv_blocking())
        })
        .collect();
    let took = Arc::new(std::sync::Mutex::new(Vec::new()));
    fill_takes(&rx, MAX_PENDING, &took);
    assert_take_refused(&rx);
    for i in 0..(MAX_PENDING + 4) as u64 {
        tx.send_blocking(i).unwrap();
    }
    let mut all: Vec<u64> = took.lock().unwrap().iter().map(|v| v.unwrap()).collect();
    for h in receivers {
        all.push(join(h, "blocked receiver").unwrap());
    }
    all.sort();
    assert_eq!(all, (0..(MAX_PENDING + 4) as u64).collect::<Vec<_>>());
}

#[test]
fn parked_select_registrations_do_not_count() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<u64>();
    const SELECTS: usize = 1_100;
    let ws: Vec<_> = (0..SELECTS).map(|_| CountWaker::new()).collect();
    let mut sels: Vec<Pin<Box<dyn Future<Output = Option<u64>> + '_>>> = (0..SELECTS)
        .map(|_| {
            let mut s = Select::new();
            s.recv(&rx, |v| v);
            Box::pin(s.select()) as Pin<Box<dyn Future<Output = Option<u64>> + '_>>
        })
        .collect();
    for (f, w) in sels.iter_mut().zip(&ws) {
        util::assert_pending(poll_with(f.as_mut(), w), "select on empty");
    }
    let took = Arc::new(std::sync::Mutex::new(Vec::new()));
    fill_takes(&rx, MAX_PENDING, &took);
    assert_take_refused(&rx);
    drop(sels);
    // With the selects gone, each offer goes to a pending take.
    for i in 0..MAX_PENDING as u64 {
        assert_matches!(tx.try_send(i), Ok(()), "offer {i} with pending takes");
    }
    assert_eq!(took.lock().unwrap().len(), MAX_PENDING);
}
