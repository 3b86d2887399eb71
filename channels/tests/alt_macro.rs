//! The `alt!` (async, core.async `alt!`/`alts!`) and `alt_blocking!`
//! (`alt!!`/`alts!!`) macros: grammar, mixed element types, `default`,
//! `priority;`, closed channels, exactly-one commit, no garbage, waits.
//!
//! Grammar under test:
//! `alt! { [priority;] recv(rx) -> v => expr, send(tx, value) -> res => expr, default => expr }`.

#[macro_use]
mod util;

use std::task::Poll;

use parkway_channels::{
    alt, alt_blocking, bounded, unbuffered, SendError, TryRecvError, TrySendError,
};
use util::{
    assert_pending, block_on, join, poll_once, poll_with, spawn_blocked, spawn_thread_future,
    CountWaker, DropTracker,
};

#[test]
fn alt_blocking_recv_over_different_types() {
    let _watchdog = util::watchdog();
    let (_itx, irx) = bounded::<i32>(1);
    let (stx, srx) = bounded::<String>(1);
    stx.try_send("x".into()).unwrap();
    let got = alt_blocking! {
        recv(irx) -> v => format!("int {v:?}"),
        recv(srx) -> v => format!("str {v:?}")
    };
    assert_eq!(got, "str Some(\"x\")");
}

#[test]
fn alt_blocking_send_and_recv_branches() {
    let _watchdog = util::watchdog();
    let (itx, irx) = bounded::<i32>(1);
    let (otx, orx) = bounded::<u64>(1);
    // Only the send has room.
    let got = alt_blocking! {
        recv(irx) -> v => v.map(i64::from),
        send(otx, 10u64) -> res => { assert!(res.is_ok()); Some(-1) }
    };
    assert_eq!(got, Some(-1));
    assert_eq!(orx.try_recv().ok(), Some(10));
    // Now only the recv is ready (the output is full again).
    otx.try_send(0).unwrap();
    itx.try_send(5).unwrap();
    let got = alt_blocking! {
        recv(irx) -> v => v.map(i64::from),
        send(otx, 11u64) -> _res => Some(-1)
    };
    assert_eq!(got, Some(5));
    assert_eq!(orx.try_recv().ok(), Some(0));
    assert_matches!(
        orx.try_recv(),
        Err(TryRecvError::Empty),
        "the unchosen send was delivered"
    );
}

#[test]
fn alt_blocking_default() {
    let _watchdog = util::watchdog();
    let (_tx, rx) = bounded::<i32>(1);
    let (ftx, frx) = bounded::<i32>(1);
    ftx.try_send(0).unwrap();
    let got = alt_blocking! {
        recv(rx) -> _v => "recv",
        send(ftx, 1) -> _r => "send",
        default => "default"
    };
    assert_eq!(got, "default");
    assert_eq!(frx.len(), 1);
    assert_eq!(frx.try_recv().ok(), Some(0));
}

#[test]
fn alt_blocking_default_is_not_chosen_when_ready() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    for i in 0..100 {
        tx.try_send(i).unwrap();
        let got = alt_blocking! {
            recv(rx) -> v => v,
            default => None
        };
        assert_eq!(got, Some(i));
    }
}

#[test]
fn alt_blocking_priority() {
    let _watchdog = util::watchdog();
    let (atx, arx) = bounded::<i32>(1);
    let (btx, brx) = bounded::<i32>(1);
    for i in 0..100 {
        let _ = atx.try_send(i);
        let _ = btx.try_send(i);
        let got = alt_blocking! {
            priority;
            recv(arx) -> _v => 'a',
            recv(brx) -> _v => 'b'
        };
        assert_eq!(
            got, 'a',
            "round {i}: priority did not pick the first ready branch"
        );
    }
    // Priority also orders send branches against recv branches.
    let (otx, orx) = bounded::<i32>(200);
    for i in 0..100 {
        let _ = btx.try_send(i);
        let got = alt_blocking! {
            priority;
            send(otx, i) -> r => { assert!(r.is_ok()); 's' },
            recv(brx) -> _v => 'b'
        };
        assert_eq!(got, 's', "round {i}");
    }
    assert_eq!(orx.len(), 100);
}

#[test]
fn alt_blocking_is_uniform_without_priority() {
    let _watchdog = util::watchdog();
    let (atx, arx) = bounded::<u32>(1);
    let (btx, brx) = bounded::<u32>(1);
    let mut counts = [0usize; 2];
    for i in 0..2_000 {
        let _ = atx.try_send(i);
        let _ = btx.try_send(i);
        let which = alt_blocking! {
            recv(arx) -> _v => 0usize,
            recv(brx) -> _v => 1usize
        };
        counts[which] += 1;
    }
    assert!(
        counts[0] >= 700 && counts[1] >= 700,
        "choices {counts:?} over 2,000 alts"
    );
}

#[test]
fn alt_blocking_closed_channels_are_ready() {
    let _watchdog = util::watchdog();
    let (_open_tx, open_rx) = bounded::<i32>(1);
    let (ctx, crx) = bounded::<String>(1);
    drop(ctx);
    let got = alt_blocking! {
        recv(open_rx) -> _v => None,
        recv(crx) -> v => Some(v)
    };
    assert_eq!(
        got,
        Some(None),
        "recv on a closed channel must be ready with None"
    );

    let (stx, srx) = bounded::<String>(1);
    srx.close();
    let got = alt_blocking! {
        recv(open_rx) -> _v => None,
        send(stx, "back".to_string()) -> res => Some(res)
    };
    match got {
        Some(Err(SendError(v))) => assert_eq!(v, "back"),
        other => panic!("expected the send branch with Err(SendError(\"back\")), got {other:?}"),
    }
}

#[test]
fn alt_blocking_exactly_one_send_commits_and_the_other_value_is_dropped() {
    let _watchdog = util::watchdog();
    for _ in 0..100 {
        let tracker = DropTracker::new();
        let (atx, arx) = bounded(1);
        let (btx, brx) = bounded(1);
        let which = alt_blocking! {
            send(atx, tracker.make(1)) -> r => { assert!(r.is_ok()); 1 },
            send(btx, tracker.make(2)) -> r => { assert!(r.is_ok()); 2 }
        };
        assert_eq!(
            arx.len() + brx.len(),
            1,
            "{} sends committed",
            arx.len() + brx.len()
        );
        let (sent_rx, unsent_id) = if which == 1 { (&arx, 2) } else { (&brx, 1) };
        assert_eq!(
            tracker.drops_of(unsent_id),
            1,
            "the unsent value was not dropped exactly once"
        );
        assert_eq!(tracker.alive(), 1, "expected only the sent value alive");
        assert_eq!(sent_rx.try_recv().unwrap().id, which as u64);
        drop((atx, arx, btx, brx));
        tracker.assert_all_dropped();
    }
}

#[test]
fn alt_blocking_waits_for_another_thread() {
    let _watchdog = util::watchdog();
    let (atx, arx) = unbuffered::<i32>();
    let (btx, brx) = bounded::<String>(1);
    let h = spawn_blocked(move || {
        let got = alt_blocking! {
            recv(arx) -> v => format!("a {v:?}"),
            recv(brx) -> v => format!("b {v:?}")
        };
        (got, arx, brx)
    });
    assert!(!h.is_finished(), "alt_blocking! on empty channels returned");
    atx.send_blocking(3).unwrap();
    let (got, _arx, brx) = join(h, "alt_blocking!");
    assert_eq!(got, "a Some(3)");
    btx.try_send("left".into()).unwrap();
    assert_eq!(
        brx.try_recv().ok().as_deref(),
        Some("left"),
        "stale registration on the other channel"
    );
}

#[test]
fn alt_blocking_send_on_unbuffered_completes_when_a_receiver_arrives() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<i32>();
    let (_tx2, rx2) = unbuffered::<i32>();
    let h = spawn_blocked(move || {
        alt_blocking! {
            send(tx, 7) -> res => res.is_ok(),
            recv(rx2) -> _v => false
        }
    });
    assert!(
        !h.is_finished(),
        "alt_blocking! with an unbuffered send returned with no receiver"
    );
    assert_eq!(rx.recv_blocking(), Some(7));
    assert!(join(h, "alt_blocking! send"));
}

#[test]
fn alt_async_with_block_on() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    let (otx, orx) = bounded::<&'static str>(1);
    tx.try_send(4).unwrap();
    let got = block_on(async {
        alt! {
            recv(rx) -> v => v,
            default => None
        }
    });
    assert_eq!(got, Some(4));
    let got = block_on(async {
        alt! {
            send(otx, "o") -> r => r.is_ok(),
            recv(rx) -> _v => false
        }
    });
    assert!(got);
    assert_eq!(orx.try_recv().ok(), Some("o"));
    let got = block_on(async {
        alt! {
            priority;
            recv(rx) -> _v => 1,
            recv(orx) -> _v => 2,
            default => 3
        }
    });
    assert_eq!(got, 3);
}

#[test]
fn alt_async_parks_and_wakes_across_threads() {
    let _watchdog = util::watchdog();
    let (atx, arx) = unbuffered::<i32>();
    let (btx, brx) = unbuffered::<String>();
    let h = spawn_thread_future(async move {
        let mut out = Vec::new();
        for _ in 0..20 {
            let s = alt! {
                recv(arx) -> v => format!("a{}", v.unwrap()),
                recv(brx) -> v => format!("b{}", v.unwrap())
            };
            out.push(s);
        }
        out
    });
    for i in 0..10 {
        atx.send_blocking(i).unwrap();
        btx.send_blocking(i.to_string()).unwrap();
    }
    let out = join(h, "async alt! loop");
    let a: Vec<_> = out.iter().filter(|s| s.starts_with('a')).cloned().collect();
    let b: Vec<_> = out.iter().filter(|s| s.starts_with('b')).cloned().collect();
    assert_eq!(a, (0..10).map(|i| format!("a{i}")).collect::<Vec<_>>());
    assert_eq!(b, (0..10).map(|i| format!("b{i}")).collect::<Vec<_>>());
}

#[test]
fn alt_async_is_woken_by_a_send() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded::<i32>(1);
    let (_tx2, rx2) = bounded::<i32>(1);
    let w = CountWaker::new();
    let mut fut = Box::pin(async {
        alt! {
            recv(rx) -> v => v,
            recv(rx2) -> v => v.map(|x| -x)
        }
    });
    assert_pending(poll_with(fut.as_mut(), &w), "alt! on empty channels");
    tx.try_send(8).unwrap();
    assert!(w.woken(), "the parked alt! was not woken");
    assert_eq!(poll_with(fut.as_mut(), &w), Poll::Ready(Some(8)));
}

#[test]
fn alt_async_closed_channel_is_ready() {
    let _watchdog = util::watchdog();
    let (tx, rx) = unbuffered::<i32>();
    tx.close();
    let got = block_on(async {
        alt! {
            recv(rx) -> v => v,
            send(tx, 5) -> r => r.err().map(|SendError(v)| v * 100)
        }
    });
    // Both branches are ready (closed); either answer is right.
    assert!(got.is_none() || got == Some(500), "got {got:?}");
}

// As the "alt!/alts! with default leaves no garbage".
#[test]
fn many_alts_with_default_leave_no_garbage() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (etx, erx) = bounded::<i32>(1);
    let (utx, urx) = unbuffered::<i32>();
    let (ftx, frx) = bounded(1);
    ftx.try_send(tracker.make(0)).unwrap();
    for i in 0..10_000 {
        let got = block_on(async {
            alt! {
                recv(erx) -> _v => 0,
                recv(urx) -> _v => 1,
                send(ftx, tracker.make(1)) -> _r => 2,
                default => 3
            }
        });
        assert_eq!(got, 3, "iteration {i}");
    }
    assert_eq!(tracker.alive(), 1, "values leaked by alt! with default");
    assert_eq!(frx.len(), 1);
    // Nothing stale swallows a value.
    etx.try_send(1).unwrap();
    assert_eq!(erx.try_recv().ok(), Some(1));
    assert_matches!(
        utx.try_send(2),
        Err(TrySendError::Full(2)),
        "a stale alt! registration took an offer"
    );
    assert_eq!(frx.try_recv().unwrap().id, 0);
    assert_matches!(frx.try_recv(), Err(TryRecvError::Empty));
    drop((ftx, frx));
    tracker.assert_all_dropped();

    // Same with alt_blocking!.
    for i in 0..10_000 {
        let got = alt_blocking! {
            recv(erx) -> _v => 0,
            recv(urx) -> _v => 1,
            default => 3
        };
        assert_eq!(got, 3, "iteration {i}");
    }
    etx.try_send(5).unwrap();
    assert_eq!(erx.try_recv().ok(), Some(5));
    assert_matches!(utx.try_send(6), Err(TrySendError::Full(6)));
}

#[test]
fn dropped_parked_alt_leaves_no_registration() {
    let _watchdog = util::watchdog();
    let tracker = DropTracker::new();
    let (tx, rx) = unbuffered();
    let (otx, orx) = unbuffered();
    {
        let mut fut = Box::pin(async {
            alt! {
                recv(rx) -> v => v.map(|x: u32| x as u64),
                send(otx, tracker.make(9)) -> _r => None
            }
        });
        assert_pending(poll_once(&mut fut.as_mut()), "alt! on unbuffered channels");
    }
    assert_eq!(
        tracker.alive(),
        0,
        "the parked alt!'s send value was not dropped with it"
    );
    assert_matches!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "ghost receiver after a dropped alt!"
    );
    assert_matches!(
        orx.try_recv(),
        Err(TryRecvError::Empty),
        "ghost sender after a dropped alt!"
    );
    // A real pair still meets.
    let w = CountWaker::new();
    let mut s = Box::pin(tx.send(2));
    assert_pending(poll_with(s.as_mut(), &w), "unbuffered send");
    assert_eq!(rx.try_recv().ok(), Some(2));
    assert_matches!(poll_with(s.as_mut(), &w), Poll::Ready(Ok(())));
}
