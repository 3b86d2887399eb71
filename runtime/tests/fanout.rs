//! Fan-in and fan-out with core.async's semantics: `merge`, `split`,
//! `mult` (tap, untap, untap-all, close flags), `pub_` (sub, unsub,
//! unsub-all, per-topic buffers) and `mix` (admix, unmix, mute, pause,
//! solo in both solo modes, 2,048 inputs).
//!
//! Every wait is bounded by `WAIT` (and each test by the util watchdog),
//! so a lost value or a stuck loop fails the test instead of hanging it.
//! A few tests check that something does *not* happen (a held-back value
//! is not delivered): they wait `SETTLE` first, to give a wrong
//! implementation the time to show itself. Those assertions hold for a
//! correct implementation whatever `SETTLE` is; a shorter one would only
//! make a wrong implementation likelier to slip through. Where an order
//! of events makes a negative check exact, the test says why.

mod util;

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use parkway::chan::{self, Receiver, Sender, TryRecvError};
use parkway::{SoloMode, Toggle};
use util::{expect_panic, runtime, watchdog};

/// The bound on any single wait.
const WAIT: Duration = Duration::from_secs(10);

/// How long a negative check waits first (see the header).
const SETTLE: Duration = Duration::from_millis(50);

/// Runs a test body on a two-worker runtime, under the watchdog.
fn run<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(move || runtime(2).block_on(body()));
}

/// Receives, failing the test after `WAIT`.
#[track_caller]
fn recv<T>(rx: &Receiver<T>) -> impl Future<Output = Option<T>> + '_ {
    let at = std::panic::Location::caller();
    async move {
        parkway::with_timeout(WAIT, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{at}: no value nor close within {WAIT:?}"))
    }
}

/// Sends, failing the test after `WAIT` or if the channel refuses.
#[track_caller]
fn send<T>(tx: &Sender<T>, v: T) -> impl Future<Output = ()> + '_ {
    let at = std::panic::Location::caller();
    async move {
        parkway::with_timeout(WAIT, tx.send(v))
            .await
            .unwrap_or_else(|_| panic!("{at}: the send did not complete within {WAIT:?}"))
            .unwrap_or_else(|_| panic!("{at}: the send was refused (closed channel)"));
    }
}

/// Receives until the channel closes.
async fn drain<T>(rx: &Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(v) = recv(rx).await {
        out.push(v);
    }
    out
}

/// Gives background loops time to do what they should not (see header).
async fn settle() {
    parkway::sleep(SETTLE).await;
}

/// Sends until a send is refused; fails the test if none is within `WAIT`.
async fn send_until_refused(tx: &Sender<u32>) {
    let deadline = Instant::now() + WAIT;
    let mut i = 0;
    loop {
        assert!(Instant::now() < deadline, "sends were never refused");
        match parkway::with_timeout(Duration::from_millis(100), tx.send(i)).await {
            Ok(Err(_)) => return,
            Ok(Ok(())) | Err(_) => i += 1,
        }
    }
}

// ---------------------------------------------------------------- merge

#[test]
fn merge_closes_only_after_every_input_closed_and_delivers_each_value_once() {
    run(|| async {
        let (t0, r0) = chan::bounded::<u32>(4);
        let (t1, r1) = chan::bounded::<u32>(4);
        let (t2, r2) = chan::bounded::<u32>(4);
        let out = parkway::merge([r0, r1, r2]);
        let producers = parkway::go(async move {
            for i in 0..50 {
                send(&t0, i).await;
                send(&t1, 50 + i).await;
            }
            // t0 and t1 close here; t2 stays open.
        });
        let mut seen = vec![0u32; 101];
        for _ in 0..100 {
            let v = recv(&out)
                .await
                .expect("the merge closed before its inputs did");
            seen[v as usize] += 1;
        }
        producers.await.unwrap();
        // Let the merge see inputs 0 and 1 closed; it must keep running
        // for input 2 however long this takes.
        settle().await;
        assert_eq!(
            out.try_recv(),
            Err(TryRecvError::Empty),
            "closed or extra value"
        );
        send(&t2, 100).await;
        assert_eq!(recv(&out).await, Some(100), "the merge stopped early");
        seen[100] += 1;
        drop(t2);
        assert_eq!(
            recv(&out).await,
            None,
            "the merge did not close after its last input"
        );
        assert_eq!(recv(&out).await, None);
        for (v, n) in seen.iter().enumerate() {
            assert_eq!(*n, 1, "value {v} delivered {n} times");
        }
    });
}

#[test]
fn merge_of_nothing_is_closed() {
    run(|| async {
        let out = parkway::merge_with_buffer(Vec::<Receiver<u8>>::new(), 4);
        assert_eq!(recv(&out).await, None);
    });
}

#[test]
fn merge_stress_four_producers_every_value_once_and_in_order_per_input() {
    const PRODUCERS: u64 = 4;
    const N: u64 = 10_000;
    run(|| async {
        let mut rxs = Vec::new();
        let mut producers = Vec::new();
        for p in 0..PRODUCERS {
            let (tx, rx) = chan::bounded(8);
            rxs.push(rx);
            producers.push(parkway::go(async move {
                for i in 0..N {
                    send(&tx, (p, i)).await;
                }
            }));
        }
        let out = parkway::merge_with_buffer(rxs, 16);
        let mut next = [0u64; PRODUCERS as usize];
        while let Some((p, i)) = recv(&out).await {
            assert_eq!(
                i, next[p as usize],
                "producer {p}: lost, repeated or reordered"
            );
            next[p as usize] += 1;
        }
        assert_eq!(next, [N; PRODUCERS as usize]);
        for h in producers {
            h.await.unwrap();
        }
    });
}

#[test]
fn merge_stops_and_drops_its_inputs_when_the_output_is_gone() {
    run(|| async {
        let (tx, rx) = chan::bounded(1);
        let out = parkway::merge([rx]);
        drop(out);
        send_until_refused(&tx).await;
    });
}

#[test]
fn combinators_outside_a_runtime_panic_clearly() {
    let (_tx, rx) = chan::bounded::<u8>(1);
    let msg = expect_panic(|| parkway::merge([rx]));
    assert!(
        msg.contains("parkway::merge must be called within a runtime"),
        "{msg}"
    );
    let (_tx, rx) = chan::bounded::<u8>(1);
    let msg = expect_panic(|| parkway::mult(rx));
    assert!(
        msg.contains("parkway::mult must be called within a runtime"),
        "{msg}"
    );
    let (tx, _rx) = chan::bounded::<u8>(1);
    let msg = expect_panic(|| parkway::mix(tx));
    assert!(
        msg.contains("parkway::mix must be called within a runtime"),
        "{msg}"
    );
}

#[test]
fn handles_are_send_sync_clone_and_debug() {
    fn check<H: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    check::<parkway::Mult<u32>>();
    check::<parkway::Pub<u32, String>>();
    check::<parkway::Mix<u32>>();
    check::<Toggle>();
    check::<SoloMode>();
}

// ---------------------------------------------------------------- split

#[test]
fn split_routes_by_predicate_in_order_and_closes_both_outputs() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let (evens, odds) = parkway::split_with_buffers(|v: &u32| v % 2 == 0, rx, 0, 3);
        let producer = parkway::go(async move {
            for i in 0..200 {
                send(&tx, i).await;
            }
        });
        let odd_reader = parkway::go(async move { drain(&odds).await });
        let got_evens = drain(&evens).await;
        let got_odds = odd_reader.await.unwrap();
        producer.await.unwrap();
        assert_eq!(got_evens, (0..200).step_by(2).collect::<Vec<_>>());
        assert_eq!(got_odds, (1..200).step_by(2).collect::<Vec<_>>());
    });
}

#[test]
fn split_keeps_feeding_one_side_when_the_other_is_dropped() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let (evens, odds) = parkway::split(|v: &u32| v % 2 == 0, rx);
        drop(evens);
        let producer = parkway::go(async move {
            for i in 0..20 {
                send(&tx, i).await;
            }
        });
        assert_eq!(drain(&odds).await, (1..20).step_by(2).collect::<Vec<_>>());
        producer.await.unwrap();
    });
}

// ---------------------------------------------------------------- mult

#[test]
fn mult_copies_every_value_to_every_tap_in_order() {
    run(|| async {
        let (tx, rx) = chan::bounded(4);
        let m = parkway::mult(rx);
        let mut readers = Vec::new();
        for cap in [0, 1, 64] {
            let (t_tx, t_rx) = chan::bounded(cap);
            m.tap(t_tx, true);
            readers.push(parkway::go(async move { drain(&t_rx).await }));
        }
        for i in 0..2_000u32 {
            send(&tx, i).await;
        }
        drop(tx);
        for r in readers {
            assert_eq!(r.await.unwrap(), (0..2_000).collect::<Vec<_>>());
        }
    });
}

#[test]
fn mult_offers_to_taps_at_once_but_waits_for_all_before_the_next_value() {
    run(|| async {
        let (tx, rx) = chan::bounded(8);
        let m = parkway::mult(rx);
        // The slow tap is tapped first, so a mult offering one tap after
        // another would never reach the fast one.
        let (slow_tx, slow) = chan::unbuffered();
        let (fast_tx, fast) = chan::bounded(8);
        m.tap(slow_tx, true);
        m.tap(fast_tx, true);
        for i in 1..=3 {
            send(&tx, i).await;
        }
        // 1 was offered to both at once: the fast tap has it while the
        // slow one has not taken it.
        assert_eq!(recv(&fast).await, Some(1));
        // But 2 is not taken from the source until the slow tap accepts 1.
        settle().await;
        assert_eq!(
            fast.try_recv(),
            Err(TryRecvError::Empty),
            "2 overtook the slow tap"
        );
        assert_eq!(recv(&slow).await, Some(1));
        assert_eq!(recv(&fast).await, Some(2));
        settle().await;
        assert_eq!(
            fast.try_recv(),
            Err(TryRecvError::Empty),
            "3 overtook the slow tap"
        );
        assert_eq!(recv(&slow).await, Some(2));
        assert_eq!(recv(&fast).await, Some(3));
        assert_eq!(recv(&slow).await, Some(3));
        drop(tx);
        assert_eq!(recv(&fast).await, None);
        assert_eq!(recv(&slow).await, None);
    });
}

#[test]
fn mult_removes_a_closed_tap_and_the_others_get_everything() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let m = parkway::mult(rx);
        let mut readers = Vec::new();
        for _ in 0..2 {
            let (t_tx, t_rx) = chan::bounded(1);
            m.tap(t_tx, true);
            readers.push(parkway::go(async move { drain(&t_rx).await }));
        }
        // This tap quits after 10 values by dropping its receiver, and
        // another by closing its channel.
        let (q_tx, q_rx) = chan::unbuffered();
        m.tap(q_tx, true);
        let quitter = parkway::go(async move {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.push(recv(&q_rx).await.unwrap());
            }
            got
        });
        let (c_tx, c_rx) = chan::bounded(1);
        m.tap(c_tx, true);
        let closer = parkway::go(async move {
            let first = recv(&c_rx).await;
            c_rx.close();
            first
        });
        for i in 0..1_000u32 {
            send(&tx, i).await;
        }
        drop(tx);
        for r in readers {
            assert_eq!(r.await.unwrap(), (0..1_000).collect::<Vec<_>>());
        }
        assert_eq!(quitter.await.unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(closer.await.unwrap(), Some(0));
    });
}

#[test]
fn mult_untap_and_untap_all() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let m = parkway::mult(rx);
        let (a_tx, a) = chan::bounded(8);
        let (b_tx, b) = chan::bounded(8);
        m.tap(a_tx.clone(), true);
        m.tap(b_tx.clone(), true);
        send(&tx, 1).await;
        assert_eq!(recv(&a).await, Some(1));
        assert_eq!(recv(&b).await, Some(1));

        // Exact: the mult snapshots its taps when it takes a value, and it
        // takes 2 only after `untap` returned.
        m.untap(&b_tx);
        send(&tx, 2).await;
        assert_eq!(recv(&a).await, Some(2));
        assert_eq!(b.try_recv(), Err(TryRecvError::Empty));

        m.untap_all();
        let (c_tx, c) = chan::bounded(8);
        m.tap(c_tx, true);
        send(&tx, 3).await;
        drop(tx);
        assert_eq!(drain(&c).await, [3]);
        // Once `c` closed the mult has finished: neither untapped channel
        // got 3, and neither was closed although tapped with close = true.
        assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
        assert!(!a.is_closed() && !b.is_closed());
    });
}

#[test]
fn mult_close_flag_closes_some_taps_and_leaves_others_open() {
    run(|| async {
        let (tx, rx) = chan::bounded(1);
        let m = parkway::mult(rx);
        let (t_tx, t) = chan::bounded(4);
        let (f_tx, f) = chan::bounded(4);
        m.tap(t_tx, true);
        m.tap(f_tx, false); // the mult holds its only sender
        send(&tx, 7).await;
        drop(tx);
        assert_eq!(drain(&t).await, [7]);
        // `t` was closed when the mult finished; `f` was not, then or later.
        assert_eq!(recv(&f).await, Some(7));
        settle().await;
        assert_eq!(f.try_recv(), Err(TryRecvError::Empty));
        assert!(!f.is_closed());

        // Tapped after the source closed: closed at once if asked to be.
        let (x_tx, x) = chan::bounded::<u32>(1);
        let (y_tx, y) = chan::bounded::<u32>(1);
        m.tap(x_tx, true);
        m.tap(y_tx, false);
        assert_eq!(recv(&x).await, None);
        assert!(!y.is_closed());
        drop(m);
    });
}

#[test]
fn mult_drops_values_taken_while_it_has_no_tap() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let m = parkway::mult(rx);
        // With an unbuffered source, the mult takes 2 only after it is
        // done with 1, which it saw with no tap.
        send(&tx, 1).await;
        send(&tx, 2).await;
        let (a_tx, a) = chan::bounded(8);
        m.tap(a_tx, true);
        send(&tx, 3).await;
        drop(tx);
        let got = drain(&a).await;
        assert!(got == [3] || got == [2, 3], "got {got:?}");
    });
}

#[test]
fn mult_with_no_tap_and_no_handle_stops_and_drops_its_source() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        drop(parkway::mult(rx));
        send_until_refused(&tx).await;
    });
}

// ---------------------------------------------------------------- pub

type Msg = (char, u32);

fn topic(m: &Msg) -> char {
    m.0
}

#[test]
fn pub_slow_subscriber_holds_back_its_topic_then_the_pub_once_its_buffer_is_full() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let p = parkway::pub_with_buffers(rx, topic, |_: &char| 2);
        let (a_tx, a) = chan::unbuffered(); // the slow subscriber
        let (b_tx, b) = chan::bounded(8);
        p.sub('a', a_tx, true);
        p.sub('b', b_tx, true);
        let producer = parkway::go(async move {
            for m in [('a', 1), ('a', 2), ('a', 3), ('b', 1), ('a', 4), ('b', 2)] {
                send(&tx, m).await;
            }
        });
        // a1 waits in topic a's mult for the slow subscriber, a2 and a3 in
        // topic a's buffer: topic b still flows.
        assert_eq!(recv(&b).await, Some(('b', 1)));
        // a4 finds topic a's buffer full: the pub waits, and b2 behind it.
        settle().await;
        assert_eq!(
            b.try_recv(),
            Err(TryRecvError::Empty),
            "b2 passed a full topic"
        );
        assert_eq!(recv(&a).await, Some(('a', 1)));
        assert_eq!(recv(&b).await, Some(('b', 2)));
        for i in 2..=4 {
            assert_eq!(recv(&a).await, Some(('a', i)));
        }
        producer.await.unwrap();
        assert_eq!(recv(&a).await, None);
        assert_eq!(recv(&b).await, None);
    });
}

#[test]
fn pub_drops_values_of_topics_without_subscribers() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let p = parkway::pub_(rx, topic);
        let (y_tx, y) = chan::bounded(8);
        p.sub('y', y_tx, true);
        send(&tx, ('z', 1)).await;
        send(&tx, ('y', 1)).await;
        // y1 came out, so the pub is done with z1 (its source is
        // unbuffered and it goes in order).
        assert_eq!(recv(&y).await, Some(('y', 1)));
        let (z_tx, z) = chan::bounded(8);
        p.sub('z', z_tx, true);
        send(&tx, ('z', 2)).await;
        drop(tx);
        assert_eq!(drain(&z).await, [('z', 2)]);
        assert_eq!(drain(&y).await, []);
    });
}

#[test]
fn pub_unsub_unsub_all_topic_and_unsub_all() {
    run(|| async {
        let (tx, rx) = chan::unbuffered();
        let p = parkway::pub_(rx, topic);
        let (s1_tx, s1) = chan::bounded(8);
        let (s2_tx, s2) = chan::bounded(8);
        p.sub('x', s1_tx.clone(), true);
        p.sub('x', s2_tx.clone(), true);
        send(&tx, ('x', 1)).await;
        assert_eq!(recv(&s1).await, Some(('x', 1)));
        assert_eq!(recv(&s2).await, Some(('x', 1)));

        // Exact: topic x's mult takes x2 after `unsub` returned.
        p.unsub(&'x', &s2_tx);
        send(&tx, ('x', 2)).await;
        assert_eq!(recv(&s1).await, Some(('x', 2)));
        assert_eq!(s2.try_recv(), Err(TryRecvError::Empty));

        // The topic is gone: x3 has no subscriber. A new subscription makes
        // the topic anew.
        p.unsub_all_topic(&'x');
        send(&tx, ('x', 3)).await;
        // The source is unbuffered and the pub goes in order: once it has
        // taken w0 it is done with x3 (without this, the `sub` below could
        // make topic x anew before the pub looks x3's topic up).
        send(&tx, ('w', 0)).await;
        let (s3_tx, s3) = chan::bounded(8);
        p.sub('x', s3_tx.clone(), true);
        send(&tx, ('x', 4)).await;
        assert_eq!(recv(&s3).await, Some(('x', 4)));
        assert_eq!(s1.try_recv(), Err(TryRecvError::Empty));

        p.unsub_all();
        send(&tx, ('x', 5)).await;
        let (y_tx, y) = chan::bounded(8);
        p.sub('y', y_tx, true);
        send(&tx, ('y', 1)).await;
        // y1 came out, so the pub is done with x5.
        assert_eq!(recv(&y).await, Some(('y', 1)));
        drop(tx);
        assert_eq!(recv(&y).await, None);
        // None of the removed subscribers got more, or was closed.
        for s in [&s1, &s2, &s3] {
            assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
            assert!(!s.is_closed());
        }
    });
}

#[test]
fn pub_close_flags_when_the_source_closes() {
    run(|| async {
        let (tx, rx) = chan::bounded(4);
        let p = parkway::pub_(rx, topic);
        let (t_tx, t) = chan::bounded(4);
        let (f_tx, f) = chan::bounded(4);
        p.sub('a', t_tx, true);
        p.sub('a', f_tx, false);
        send(&tx, ('a', 1)).await;
        drop(tx);
        assert_eq!(drain(&t).await, [('a', 1)]);
        assert_eq!(recv(&f).await, Some(('a', 1)));
        settle().await;
        assert_eq!(f.try_recv(), Err(TryRecvError::Empty));
        assert!(!f.is_closed(), "a close = false subscriber was closed");
        // Subscribed after the source closed.
        let (late_tx, late) = chan::bounded::<Msg>(1);
        p.sub('b', late_tx, true);
        assert_eq!(recv(&late).await, None);
    });
}

// ---------------------------------------------------------------- mix

/// `n` inputs: unbuffered channels whose senders the test keeps, so a
/// send completes exactly when the mix reads the value.
fn inputs(n: usize) -> (Vec<Sender<u32>>, Vec<Receiver<u32>>) {
    (0..n).map(|_| chan::unbuffered()).unzip()
}

#[test]
fn mix_delivers_from_every_input_and_mute_reads_but_drops() {
    run(|| async {
        let (out_tx, out) = chan::bounded(8);
        let m = parkway::mix(out_tx);
        let (tx, rx) = inputs(2);
        m.admix(rx[0].clone());
        m.admix(rx[1].clone());
        send(&tx[0], 1).await;
        send(&tx[1], 2).await;
        assert_eq!(recv(&out).await, Some(1));
        assert_eq!(recv(&out).await, Some(2));

        m.toggle([(rx[0].clone(), Toggle::new().mute(true))]);
        // A muted input is still read: this send completes.
        send(&tx[0], 3).await;
        send(&tx[1], 4).await;
        // Had 3 been delivered, it would be in `out` before 4: the mix
        // delivers a value before it reads the next.
        assert_eq!(recv(&out).await, Some(4));

        m.toggle([(rx[0].clone(), Toggle::new().mute(false))]);
        send(&tx[0], 5).await;
        assert_eq!(recv(&out).await, Some(5));
        assert_eq!(out.try_recv(), Err(TryRecvError::Empty));
    });
}

/// Waits until the mix has adopted the state of the last change: `probe`
/// is an input that delivers, and the mix checks for a change after every
/// read, so once the probe's value comes out the mix works on the new
/// state.
async fn sync_mix(probe: &Sender<u32>, out: &Receiver<u32>) {
    send(probe, 1000).await;
    assert_eq!(recv(out).await, Some(1000));
}

#[test]
fn mix_pause_holds_values_unread_until_unpaused() {
    run(|| async {
        let (out_tx, out) = chan::bounded(8);
        let m = parkway::mix(out_tx);
        let (probe_tx, probe) = chan::unbuffered();
        let (a_tx, a) = chan::bounded(1);
        m.admix(probe);
        m.toggle([(a.clone(), Toggle::new().pause(true))]);
        sync_mix(&probe_tx, &out).await;
        a_tx.try_send(1).unwrap();
        settle().await;
        assert_eq!(a.len(), 1, "a paused input was read");
        assert_eq!(out.try_recv(), Err(TryRecvError::Empty));
        m.toggle([(a.clone(), Toggle::new().pause(false))]);
        assert_eq!(recv(&out).await, Some(1));
    });
}

#[test]
fn mix_solo_in_mute_mode_drops_the_others() {
    run(|| async {
        let (out_tx, out) = chan::bounded(8);
        let m = parkway::mix(out_tx);
        let (tx, rx) = inputs(3);
        for r in &rx {
            m.admix(r.clone());
        }
        // Input 0 soloed and muted (solo wins), input 2 paused; the solo
        // mode is left at its default, mute.
        m.toggle([
            (rx[0].clone(), Toggle::new().solo(true).mute(true)),
            (rx[2].clone(), Toggle::new().pause(true)),
        ]);
        // Input 1 is not soloed: read (the send completes) and dropped.
        send(&tx[1], 1).await;
        send(&tx[0], 2).await;
        assert_eq!(
            recv(&out).await,
            Some(2),
            "a non-soloed value was delivered"
        );
        // Input 2 is paused: not read, even in mute mode.
        let blocked = parkway::with_timeout(SETTLE, tx[2].send(3)).await;
        assert!(blocked.is_err(), "a paused input was read");
        // Unsolo: input 1 delivers again.
        m.toggle([(rx[0].clone(), Toggle::new().solo(false))]);
        send(&tx[1], 4).await;
        assert_eq!(recv(&out).await, Some(4));
    });
}

#[test]
fn mix_solo_in_pause_mode_leaves_the_others_unread() {
    run(|| async {
        let (out_tx, out) = chan::bounded(8);
        let m = parkway::mix(out_tx);
        let (solo_tx, solo) = chan::unbuffered();
        let (other_tx, other) = chan::bounded(1);
        m.admix(other.clone());
        m.solo_mode(SoloMode::Pause);
        m.toggle([(solo, Toggle::new().solo(true))]);
        sync_mix(&solo_tx, &out).await;
        other_tx.try_send(1).unwrap();
        settle().await;
        assert_eq!(other.len(), 1, "a non-soloed input was read in pause mode");
        send(&solo_tx, 2).await;
        assert_eq!(recv(&out).await, Some(2));
        // Back to mute mode: the other input is read, and dropped.
        m.solo_mode(SoloMode::Mute);
        sync_mix(&solo_tx, &out).await;
        parkway::with_timeout(WAIT, async {
            while !other.is_empty() {
                parkway::yield_now().await;
            }
        })
        .await
        .expect("the non-soloed input was never read in mute mode");
        send(&solo_tx, 3).await;
        assert_eq!(recv(&out).await, Some(3), "a muted value was delivered");
    });
}

#[test]
fn mix_unmix_unmix_all_and_closed_inputs() {
    run(|| async {
        let (out_tx, out) = chan::bounded(8);
        let m = parkway::mix(out_tx);
        let (probe_tx, probe) = chan::unbuffered();
        let (a_tx, a) = chan::bounded(1);
        let (b_tx, b) = chan::bounded(1);
        m.admix(probe.clone());
        m.admix(a.clone());
        m.admix(b.clone());
        m.unmix(&a);
        sync_mix(&probe_tx, &out).await;
        a_tx.try_send(1).unwrap();
        b_tx.try_send(2).unwrap();
        assert_eq!(recv(&out).await, Some(2));
        settle().await;
        assert_eq!(a.len(), 1, "an unmixed input was read");

        m.unmix_all();
        // No probe left: admix a new one, which also proves that the mix
        // runs on.
        let (p2_tx, p2) = chan::unbuffered();
        m.admix(p2);
        sync_mix(&p2_tx, &out).await;
        b_tx.try_send(3).unwrap();
        settle().await;
        assert_eq!(b.len(), 1, "an input read after unmix_all");

        // A closed input is removed, and the mix goes on.
        drop(p2_tx);
        let (c_tx, c) = chan::unbuffered();
        m.admix(c);
        send(&c_tx, 4).await;
        assert_eq!(recv(&out).await, Some(4));
    });
}

#[test]
fn mix_stops_when_out_is_closed_and_closes_out_when_abandoned() {
    run(|| async {
        // `out` gone: the mix stops and drops its inputs.
        let (out_tx, out) = chan::bounded(1);
        let m = parkway::mix(out_tx);
        let (tx, rx) = chan::bounded(1);
        m.admix(rx);
        drop(out);
        send_until_refused(&tx).await;

        // No handle, and the last input closes: `out` closes.
        let (out_tx, out) = chan::bounded(8);
        let m2 = parkway::mix(out_tx);
        let (tx, rx) = chan::bounded(1);
        m2.admix(rx);
        drop(m2);
        send(&tx, 5).await;
        assert_eq!(recv(&out).await, Some(5));
        drop(tx);
        assert_eq!(recv(&out).await, None);

        // No handle, and the only input is paused (nobody can unpause it):
        // the mix stops, and `out` closes.
        let (out_tx, out) = chan::bounded::<u32>(8);
        let m3 = parkway::mix(out_tx);
        let (_held_tx, held) = chan::bounded(1);
        m3.toggle([(held, Toggle::new().pause(true))]);
        drop(m3);
        assert_eq!(recv(&out).await, None);
        drop(m);
    });
}

#[test]
fn mix_of_2048_inputs_delivers_every_value() {
    const N: u32 = 2_048;
    run(|| async {
        let (out_tx, out) = chan::bounded(64);
        let m = parkway::mix(out_tx);
        let mut txs = Vec::new();
        for _ in 0..N {
            let (tx, rx) = chan::bounded(1);
            m.admix(rx);
            txs.push(tx);
        }
        let start = Instant::now();
        for (i, tx) in txs.iter().enumerate() {
            tx.try_send(i as u32).unwrap();
        }
        let mut seen = HashSet::new();
        for _ in 0..N {
            let v = recv(&out).await.expect("the mix stopped");
            assert!(seen.insert(v), "{v} delivered twice");
        }
        assert_eq!(seen.len(), N as usize);
        // For the record (not asserted): the cost of 2,048 rounds over
        // 2,049 operations.
        eprintln!(
            "2,048 values through a 2,048-input mix: {:?}",
            start.elapsed()
        );
        // Every input closes: the mix removes them all and keeps running.
        drop(txs);
        let (tx, rx) = chan::bounded(1);
        m.admix(rx);
        send(&tx, 9).await;
        assert_eq!(recv(&out).await, Some(9));
    });
}

// ------------------------------------------------------- mult batches

/// With room in every tap, the mult moves values in batches: every tap
/// still gets every value once, in order, and a tap that also gets values
/// from another sender (so it can fill in the middle of a batch) still
/// gets the mult's values in order.
#[test]
fn mult_batches_keep_every_value_in_order_per_tap() {
    run(|| async {
        let (src_tx, src_rx) = chan::bounded::<u64>(1024);
        let m = parkway::mult(src_rx);
        let mut taps = Vec::new();
        for cap in [64, 64, 1024, 40] {
            let (tx, rx) = chan::bounded::<u64>(cap);
            m.tap(tx, true);
            taps.push(rx);
        }
        // Another sender on the last tap, racing the mult's batches.
        let (extra_tx, extra_rx) = chan::bounded::<u64>(40);
        m.tap(extra_tx.clone(), true);
        // It sends (without waiting) as fast as it can until the mult's
        // last value went out, so the tap often fills between the mult's
        // room check and its batch.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = std::sync::Arc::clone(&stop);
        let intruder = parkway::go(async move {
            let mut sent = 0u64;
            while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
                if extra_tx.try_send(u64::MAX - sent).is_ok() {
                    sent += 1;
                } else {
                    parkway::yield_now().await;
                }
            }
            sent
        });
        taps.push(extra_rx);
        let consumers: Vec<_> = taps
            .into_iter()
            .map(|rx| parkway::go(async move { drain(&rx).await }))
            .collect();
        for x in 0..50_000u64 {
            send(&src_tx, x).await;
        }
        // The other sender stops before the source closes (which closes
        // the taps).
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let extra = intruder.await.unwrap();
        drop(src_tx);
        for (i, c) in consumers.into_iter().enumerate() {
            let got = c.await.unwrap();
            let from_mult: Vec<u64> = got.iter().copied().filter(|&v| v < 50_000).collect();
            let first_wrong = from_mult.iter().zip(0..).position(|(&v, want)| v != want);
            assert!(
                from_mult.len() == 50_000 && first_wrong.is_none(),
                "tap {i}: {} of the mult's 50000 values, first out of place at {first_wrong:?}",
                from_mult.len()
            );
            if i == 4 {
                assert_eq!(
                    got.len() as u64,
                    50_000 + extra,
                    "the other sender's values too"
                );
            }
        }
    });
}
