//! `Receiver<T>: futures_core::Stream<Item = T>`: values in order, then `None`
//! after close and drain; wake-ups; several consumers.

#[macro_use]
mod util;

use std::task::Poll;

use futures_core::Stream;
use parkway_channels::{bounded, dropping, sliding, unbuffered, Receiver};
use util::{assert_pending, block_on, join, next, poll_next_with, spawn_thread_future, CountWaker};

#[test]
fn receiver_is_a_stream() {
    let _watchdog = util::watchdog();
    fn assert_stream<S: Stream<Item = u8> + Unpin>() {}
    assert_stream::<Receiver<u8>>();
}

#[test]
fn yields_in_order_then_none_after_close_and_drain() {
    let _watchdog = util::watchdog();
    let (tx, mut rx) = bounded(8);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    tx.close();
    let got = block_on(async {
        let mut got = Vec::new();
        while let Some(v) = next(&mut rx).await {
            got.push(v);
        }
        got
    });
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
    assert_eq!(
        block_on(next(&mut rx)),
        None,
        "a finished stream must keep returning None"
    );
}

#[test]
fn poll_next_is_pending_then_woken() {
    let _watchdog = util::watchdog();
    let (tx, mut rx) = bounded::<u32>(1);
    let w = CountWaker::new();
    assert_pending(poll_next_with(&mut rx, &w), "poll_next on empty");
    tx.try_send(1).unwrap();
    assert!(w.woken(), "poll_next waiter not woken by a send");
    assert_eq!(poll_next_with(&mut rx, &w), Poll::Ready(Some(1)));
    assert_pending(poll_next_with(&mut rx, &w), "poll_next on empty again");
    let before = w.count();
    drop(tx);
    assert!(
        w.count() > before,
        "poll_next waiter not woken when the last sender dropped"
    );
    assert_eq!(poll_next_with(&mut rx, &w), Poll::Ready(None));
}

#[test]
fn stream_over_unbuffered_from_another_thread() {
    let _watchdog = util::watchdog();
    let (tx, mut rx) = unbuffered::<u32>();
    let consumer = spawn_thread_future(async move {
        let mut got = Vec::new();
        while let Some(v) = next(&mut rx).await {
            got.push(v);
        }
        got
    });
    for i in 0..500 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(
        join(consumer, "stream consumer"),
        (0..500).collect::<Vec<_>>()
    );
}

#[test]
fn two_streams_share_the_values_exactly_once() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<u32>(4);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let mut rx = rx.clone();
            spawn_thread_future(async move {
                let mut got = Vec::new();
                while let Some(v) = next(&mut rx).await {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);
    for i in 0..2_000 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    let mut all = Vec::new();
    for h in consumers {
        let got = join(h, "stream consumer");
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "a stream saw values out of order"
        );
        all.extend(got);
    }
    all.sort();
    assert_eq!(all, (0..2_000).collect::<Vec<_>>());
}

#[test]
fn dropped_stream_poll_leaves_no_registration() {
    let _watchdog = util::watchdog();
    // A stream polled to Pending and then dropped (or just not polled again)
    // does not swallow a value.
    let (tx, rx) = unbuffered::<u32>();
    {
        let mut rx2 = rx.clone();
        assert_pending(
            util::poll_next_with(&mut rx2, &CountWaker::new()),
            "poll_next on empty",
        );
    }
    assert!(
        tx.try_send(1).is_err(),
        "an offer went to a dropped stream's registration"
    );
    let (btx, mut brx) = bounded::<u32>(1);
    assert_pending(
        poll_next_with(&mut brx, &CountWaker::new()),
        "poll_next on empty",
    );
    btx.try_send(2).unwrap();
    assert_eq!(
        brx.try_recv().ok(),
        Some(2),
        "the value went somewhere other than the buffer"
    );
}

#[test]
fn dropping_and_sliding_streams() {
    let _watchdog = util::watchdog();
    let (tx, mut rx) = dropping(2);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    assert_eq!(
        block_on(async {
            let mut v = Vec::new();
            while let Some(x) = next(&mut rx).await {
                v.push(x);
            }
            v
        }),
        vec![0, 1]
    );

    let (tx, mut rx) = sliding(2);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    assert_eq!(
        block_on(async {
            let mut v = Vec::new();
            while let Some(x) = next(&mut rx).await {
                v.push(x);
            }
            v
        }),
        vec![3, 4]
    );
}

#[test]
fn woken_stream_dropped_passes_the_wakeup_on() {
    let _watchdog = util::watchdog();
    // Two receiver clones wait in poll_next; one value arrives; the receiver
    // that was woken is dropped without polling again: the other must be
    // woken and get the value.
    let (tx, rx) = bounded::<u32>(1);
    let mut a = rx.clone();
    let mut b = rx;
    let wa = CountWaker::new();
    let wb = CountWaker::new();
    assert_pending(poll_next_with(&mut a, &wa), "a: poll_next on empty");
    assert_pending(poll_next_with(&mut b, &wb), "b: poll_next on empty");
    tx.try_send(7).unwrap();
    assert!(wa.woken() || wb.woken(), "no waiting stream woken");
    let (mut survivor, ws) = if wa.woken() {
        let before = wb.count();
        drop(a);
        assert!(
            wb.count() > before || wb.woken(),
            "the wake-up was not passed on to the other stream"
        );
        (b, wb)
    } else {
        let before = wa.count();
        drop(b);
        assert!(
            wa.count() > before || wa.woken(),
            "the wake-up was not passed on to the other stream"
        );
        (a, wa)
    };
    assert_eq!(poll_next_with(&mut survivor, &ws), Poll::Ready(Some(7)));
}
