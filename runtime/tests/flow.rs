//! `pipe`, `onto_chan`, `to_chan`, `reduce` and `into`, with core.async's
//! semantics, and nothing lost: a value the destination refuses is handed
//! back.

mod util;

use std::time::Duration;

use parkway::chan;
use util::{runtime, watchdog};

#[test]
fn pipe_moves_everything_and_closes_when_asked() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            for close in [true, false] {
                let (in_tx, in_rx) = chan::bounded(4);
                let (out_tx, out_rx) = chan::bounded(4);
                let keep = out_tx.clone();
                let done = parkway::pipe(in_rx, out_tx, close);
                let feeder = parkway::onto_chan(in_tx, 0..1000u32, true);
                let mut got = Vec::new();
                for _ in 0..1000 {
                    got.push(out_rx.recv().await.unwrap());
                }
                assert_eq!(got, (0..1000).collect::<Vec<_>>());
                assert_eq!(done.await.unwrap(), None);
                feeder.await.unwrap().unwrap();
                // Closed only with `close`.
                assert_eq!(out_rx.is_closed(), close, "close = {close}");
                drop(keep);
            }
        });
    });
}

#[test]
fn pipe_hands_back_the_value_a_closed_destination_refused() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (in_tx, in_rx) = chan::bounded(4);
            let (out_tx, out_rx) = chan::bounded(1);
            let done = parkway::pipe(in_rx, out_tx, true);
            in_tx.send(1).await.unwrap();
            assert_eq!(out_rx.recv().await, Some(1));
            out_rx.close();
            in_tx.send(2).await.unwrap();
            assert_eq!(done.await.unwrap(), Some(2));
            // The pipe stopped, and dropped its source receiver: nobody
            // reads the source any more, so a send there hands 3 back.
            assert_eq!(in_tx.send(3).await.unwrap_err().0, 3);
        });
    });
}

#[test]
fn onto_chan_waits_for_room_and_reports_the_first_refused_item() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            // close = false: the channel stays open (another sender lives).
            let (tx, rx) = chan::bounded(1);
            let keep = tx.clone();
            let done = parkway::onto_chan(tx, vec![1, 2, 3], false);
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, Some(3));
            done.await.unwrap().unwrap();
            assert!(!rx.is_closed());
            drop(keep);
            // A receiver that goes away mid-way: the refused item comes
            // back. (Closing is not enough: a sender parked on a closed
            // channel still delivers, as in core.async.)
            let (tx, rx) = chan::bounded(1);
            let done = parkway::onto_chan(tx, 10..20, true);
            assert_eq!(rx.recv().await, Some(10));
            drop(rx);
            let err = done.await.unwrap().unwrap_err();
            // 11 was buffered before the close, or refused by it.
            assert!(err.0 == 11 || err.0 == 12, "refused {}", err.0);
        });
    });
}

#[test]
fn to_chan_delivers_then_closes_even_for_long_iterators() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let rx = parkway::to_chan(0..10_000u64);
            assert_eq!(rx.capacity(), Some(100));
            let sum = parkway::reduce(|a, x| a + x, 0, rx).await;
            assert_eq!(sum, (0..10_000u64).sum::<u64>());
            let empty = parkway::to_chan(Vec::<u8>::new());
            assert_eq!(empty.recv().await, None);
        });
    });
}

#[test]
fn reduce_and_into_return_once_the_channel_closes() {
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = chan::bounded(2);
            let r = parkway::go(parkway::into(Vec::new(), rx));
            for i in 0..5 {
                tx.send(i).await.unwrap();
            }
            parkway::sleep(Duration::from_millis(5)).await;
            // Not closed: `into` is still waiting.
            assert!(!r.is_finished());
            drop(tx);
            assert_eq!(r.await.unwrap(), [0, 1, 2, 3, 4]);
            let s = parkway::reduce(
                |s: String, c| s + c,
                String::new(),
                parkway::to_chan(["a", "b"]),
            )
            .await;
            assert_eq!(s, "ab");
        });
    });
}

/// A transform channel's sender is a destination like a plain one: core.async's
/// `(pipeline n (chan 10 xf) ..)` and `(onto-chan! (chan 1 xf) coll)`.
#[test]
fn transform_channels_are_destinations_for_pipe_onto_chan_and_pipelines() {
    use parkway::chan::transform::{filter, map, partition_all, Buffer};
    watchdog(|| {
        let rt = runtime(2);
        rt.block_on(async {
            // onto_chan into a transform channel: the flush comes at close.
            let (tx, rx) = parkway::chan::with_transform(Buffer::Bounded(4), partition_all(3));
            parkway::onto_chan(tx, 1..=7, true);
            let got = parkway::into(Vec::new(), rx).await;
            assert_eq!(got, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);

            // pipe from a plain channel into one.
            let (in_tx, in_rx) = chan::bounded(4);
            let (tx, rx) =
                parkway::chan::with_transform(Buffer::Bounded(4), filter(|x: &u32| x % 2 == 0));
            let done = parkway::pipe(in_rx, tx, true);
            parkway::onto_chan(in_tx, 0..10u32, true);
            assert_eq!(parkway::into(Vec::new(), rx).await, [0, 2, 4, 6, 8]);
            assert_eq!(done.await.unwrap(), None);

            // A pipeline's output.
            let (tx, rx) = parkway::chan::with_transform(Buffer::Bounded(8), map(|x: u64| x * 10));
            parkway::pipeline(3, tx, |x: u64| Some(x + 1), parkway::to_chan(0..5u64), true);
            assert_eq!(parkway::into(Vec::new(), rx).await, [10, 20, 30, 40, 50]);
        });
    });
}
