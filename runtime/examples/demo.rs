//! A tour of parkway: go blocks on the work-stealing go pool, every buffer
//! kind, close, callbacks, `alt!` with `timeout`, panics that arrive in
//! `JoinError`, blocking work on `thread`, a pipeline and a mult, and
//! go-check catching a blocking call in a go block.
//!
//! Run it with `cargo run -p parkway --example demo`.
//!
//! Every outcome printed is also asserted, and none depends on thread
//! timing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parkway::chan::{self, SendError, TryRecvError, TrySendError};
use parkway::{GoCheck, Runtime};

fn main() -> std::io::Result<()> {
    println!("parkway demo: go blocks park, they never block");
    // Two sections panic on purpose; print those panics as one line each
    // rather than with the default hook's backtrace.
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        println!(
            "  (panic on thread {}: {})",
            thread.name().unwrap_or("?"),
            info.payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(|s| s.as_str()))
                .unwrap_or("<non-string payload>")
        );
    }));
    let rt = Runtime::builder().worker_threads(2).build()?;
    rt.block_on(async {
        fan_out_fan_in().await;
        bounded_back_pressure().await;
        unbuffered_rendezvous().await;
        dropping_keeps_the_first().await;
        sliding_keeps_the_last().await;
        promise_for_every_reader().await;
        close_drains_then_none().await;
        callbacks().await;
        alt_with_timeout().await;
        panics_arrive_in_join_error().await;
        blocking_work_on_thread().await;
        pipelines_keep_order().await;
        mult_to_every_tap().await;
    });
    go_check_trips();
    println!("\ndemo: every outcome above was checked");
    Ok(())
}

/// 1,000 go blocks on two workers, each sending one result.
async fn fan_out_fan_in() {
    section("go: 1,000 go blocks on 2 go workers, fan-in through one channel");
    let (tx, rx) = chan::bounded::<u64>(16);
    for i in 1..=1000u64 {
        let tx = tx.clone();
        parkway::go(async move {
            tx.send(i * i).await.unwrap(); // parks while the buffer is full
        });
    }
    drop(tx); // the channel closes once every go block has sent and dropped its sender
    let mut sum = 0;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    println!("sum of squares 1..=1000 = {sum}");
    assert_eq!(sum, 1000 * 1001 * 2001 / 6);
}

/// `bounded(n)`: a fixed buffer; a full buffer makes senders wait.
async fn bounded_back_pressure() {
    section("bounded(2): a full buffer makes senders wait (back-pressure)");
    let (tx, rx) = chan::bounded::<u32>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    match tx.try_send(3) {
        Err(TrySendError::Full(v)) => println!(
            "try_send({v}) -> Full: {} of {:?} slots used, the value is handed back",
            tx.len(),
            tx.capacity()
        ),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!(rx.try_recv().ok(), Some(2));

    let producer = parkway::go(async move {
        for i in 1..=10 {
            tx.send(i).await.unwrap();
        }
        // The last Sender is dropped here, which closes the channel.
    });
    let consumer = parkway::go(async move {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    producer.await.unwrap();
    let got = consumer.await.unwrap();
    println!("consumer got {got:?}, in order, then None once the producer was done");
    assert_eq!(got, (1..=10).collect::<Vec<_>>());
}

/// `unbuffered()`: a send completes only when a receiver takes the value.
async fn unbuffered_rendezvous() {
    section("unbuffered(): sender and receiver meet (rendezvous)");
    let (tx, rx) = chan::unbuffered::<&'static str>();
    match tx.try_send("early") {
        Err(TrySendError::Full(v)) => {
            println!("try_send({v:?}) with nobody receiving -> Full (there is no buffer)")
        }
        other => panic!("expected Full, got {other:?}"),
    }

    // The send cannot finish before the receiver arrives, so when it
    // finishes it sees the flag the receiver set first.
    let receiver_arrived = Arc::new(AtomicBool::new(false));
    let seen_by_sender = receiver_arrived.clone();
    let producer = parkway::go(async move {
        tx.send("ping").await.unwrap();
        seen_by_sender.load(Ordering::SeqCst)
    });
    parkway::sleep(Duration::from_millis(5)).await; // let the sender park first
    receiver_arrived.store(true, Ordering::SeqCst);
    let got = rx.recv().await;
    let sender_saw_receiver = producer.await.unwrap();
    println!("received {got:?}; the sender's send returned only after the receiver came");
    assert_eq!(got, Some("ping"));
    assert!(sender_saw_receiver);

    // Ping-pong between two go blocks over rendezvous channels.
    let (ping_tx, ping_rx) = chan::unbuffered::<u32>();
    let (pong_tx, pong_rx) = chan::unbuffered::<u32>();
    let ponger = parkway::go(async move {
        while let Some(n) = ping_rx.recv().await {
            pong_tx.send(n * 10).await.unwrap();
        }
    });
    let mut rounds = Vec::new();
    for n in 1..=3 {
        ping_tx.send(n).await.unwrap();
        let reply = pong_rx.recv().await.unwrap();
        rounds.push(format!("{n}->{reply}"));
    }
    ping_tx.close();
    ponger.await.unwrap();
    println!("ping-pong: {}", rounds.join(", "));
    assert_eq!(rounds, ["1->10", "2->20", "3->30"]);
}

/// `dropping(n)`: when full, the new value is discarded; sends never wait.
async fn dropping_keeps_the_first() {
    section("dropping(3): when full, new values are dropped; keeps the FIRST 3");
    let (tx, rx) = chan::dropping::<u32>(3);
    for i in 1..=6 {
        tx.send(i).await.unwrap(); // never waits
    }
    tx.close();
    let kept = drain(&rx).await;
    println!("sent 1..=6, buffer kept {kept:?}");
    assert_eq!(kept, [1, 2, 3]);
}

/// `sliding(n)`: when full, the oldest value is discarded; sends never wait.
async fn sliding_keeps_the_last() {
    section("sliding(3): when full, the oldest value is dropped; keeps the LAST 3");
    let (tx, rx) = chan::sliding::<u32>(3);
    for i in 1..=6 {
        tx.send(i).await.unwrap();
    }
    tx.close();
    let kept = drain(&rx).await;
    println!("sent 1..=6, buffer kept {kept:?}");
    assert_eq!(kept, [4, 5, 6]);
}

/// `promise()`: the first value is kept and every reader gets a clone.
async fn promise_for_every_reader() {
    section("promise(): one value, delivered to every reader, forever");
    let (tx, rx) = chan::promise::<String>();
    let readers: Vec<_> = (1..=3)
        .map(|id| {
            let rx = rx.clone();
            parkway::go(async move {
                let first = rx.recv().await;
                let again = rx.recv().await;
                (id, first, again)
            })
        })
        .collect();
    tx.send("the answer".to_string()).await.unwrap();
    tx.send("a later value".to_string()).await.unwrap(); // accepted, discarded
    for reader in readers {
        let (id, first, again) = reader.await.unwrap();
        println!("reader {id}: {first:?}, and again {again:?}");
        assert_eq!(first.as_deref(), Some("the answer"));
        assert_eq!(again.as_deref(), Some("the answer"));
    }
}

/// `close()`: buffered values are still delivered, then `None`.
async fn close_drains_then_none() {
    section("close(): buffered values are still delivered, then None");
    let (tx, rx) = chan::bounded::<u32>(4);
    for i in 1..=3 {
        tx.try_send(i).unwrap();
    }
    tx.close();
    match tx.send(4).await {
        Err(SendError(v)) => println!("send({v}) after close -> Err, the value is handed back"),
        Ok(()) => panic!("send after close succeeded"),
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(rx.recv().await);
    }
    println!("recv x4 -> {got:?}");
    assert_eq!(got, [Some(1), Some(2), Some(3), None]);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));

    // A go block parked on an empty channel is released by close.
    let (tx, rx) = chan::bounded::<u32>(1);
    let parked = parkway::go(async move { rx.recv().await });
    parkway::sleep(Duration::from_millis(5)).await;
    tx.close();
    let got = parked.await.unwrap();
    println!("a go block waiting on an empty channel gets {got:?} when it closes");
    assert_eq!(got, None);
}

/// `put`/`take`: callbacks instead of waiting (core.async `put!`/`take!`).
async fn callbacks() {
    section("put / take: callbacks instead of waiting");
    let (log_tx, log_rx) = chan::bounded::<String>(4);
    let (tx, rx) = chan::bounded::<u32>(1);
    let log = log_tx.clone();
    rx.take(move |v| {
        log.try_send(format!("take callback got {v:?}")).unwrap();
    })
    .unwrap();
    tx.send(7).await.unwrap(); // completes the pending take
    let line = log_rx.recv().await.unwrap();
    println!("{line}");
    assert_eq!(line, "take callback got Some(7)");

    tx.try_send(1).unwrap(); // the buffer is now full
    let log = log_tx;
    tx.put(2, move |r| {
        log.try_send(format!("put(2) callback: ok = {}", r.is_ok()))
            .unwrap();
    })
    .unwrap();
    let first = rx.recv().await;
    let second = rx.recv().await;
    let line = log_rx.recv().await.unwrap();
    println!("put(2) on a full channel returned at once; recv -> {first:?}, {second:?}; {line}");
    assert_eq!((first, second), (Some(1), Some(2)));
    assert_eq!(line, "put(2) callback: ok = true");
}

/// `alt!` over a channel and a `timeout`: the first ready branch wins.
async fn alt_with_timeout() {
    section("alt! with timeout: whichever is ready first");
    let (tx, rx) = chan::bounded::<&'static str>(1);
    let start = Instant::now();
    let got = parkway::alt! {
        recv(rx) -> v => format!("value {v:?}"),
        recv(parkway::timeout(Duration::from_millis(30))) -> _ => "timed out".to_string(),
    };
    println!("nobody sent: {got} after at least 30 ms");
    assert_eq!(got, "timed out");
    assert!(start.elapsed() >= Duration::from_millis(30));

    parkway::go(async move {
        parkway::sleep(Duration::from_millis(5)).await;
        tx.send("hello").await.unwrap();
    });
    let got = parkway::alt! {
        recv(rx) -> v => format!("value {v:?}"),
        recv(parkway::timeout(Duration::from_secs(10))) -> _ => "timed out".to_string(),
    };
    println!("a go block sent within the deadline: {got}");
    assert_eq!(got, "value Some(\"hello\")");

    let slow = parkway::sleep(Duration::from_secs(60));
    let r = parkway::with_timeout(Duration::from_millis(10), slow).await;
    println!("with_timeout(10 ms, sleep(60 s)) -> {r:?}");
    assert!(r.is_err());
}

/// A panic in a go block reaches whoever awaits its handle.
async fn panics_arrive_in_join_error() {
    section("a panic in a go block arrives in its JoinError; the worker lives on");
    let done = Arc::new(AtomicU64::new(0));
    let h = parkway::task::Builder::new()
        .name("parser")
        .go(async { panic!("unexpected token at 3:14") });
    let err = h.await.unwrap_err();
    println!("JoinError: {err}");
    assert!(err.is_panic());
    assert_eq!(err.name(), Some("parser"));
    assert_eq!(err.panic_message(), Some("unexpected token at 3:14"));
    let d = done.clone();
    parkway::go(async move { d.fetch_add(1, Ordering::SeqCst) })
        .await
        .unwrap();
    println!("the next go block ran fine");
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

/// `thread`: blocking work on the blocking pool; the go block parks.
async fn blocking_work_on_thread() {
    section("thread: blocking work on the blocking pool, raced against a timeout");
    // The job blocks its pool thread until a go block, spawned after it,
    // sends a value: blocking there holds up no go worker.
    let (go_ran_tx, go_ran_rx) = chan::bounded::<&str>(1);
    let slow = parkway::thread(move || {
        let who = go_ran_rx.recv_blocking().expect("the go block sends"); // blocking is fine here
        format!("slow answer, after the {who}")
    });
    parkway::go(async move { go_ran_tx.send("go block").await.unwrap() })
        .await
        .unwrap();
    println!("a go block ran while the blocking work waited on its thread");
    let rx = slow.into_chan();
    let t = parkway::timeout(Duration::from_secs(10));
    let answer = parkway::alt! {
        recv(rx) -> r => r.expect("one result").expect("no panic"),
        recv(t) -> _ => panic!("the thread did not answer"),
    };
    println!("thread answered: {answer}");
    assert_eq!(answer, "slow answer, after the go block");
}

/// `pipeline_blocking`: several at once, outputs in input order.
async fn pipelines_keep_order() {
    section("pipeline_blocking(4, ..): slow and fast items, output in input order");
    let (tx, rx) = chan::bounded(8);
    parkway::pipeline_blocking(
        4,
        tx,
        |ms: u64| {
            std::thread::sleep(Duration::from_millis(ms));
            Some(format!("{ms} ms"))
        },
        parkway::to_chan([120, 10, 60, 0, 30]),
        true,
    );
    let out = parkway::into(Vec::new(), rx).await;
    println!("{out:?}");
    assert_eq!(out, ["120 ms", "10 ms", "60 ms", "0 ms", "30 ms"]);
}

/// `mult`: every value to every tap.
async fn mult_to_every_tap() {
    section("mult: every value copied to every tap");
    let (tx, rx) = chan::bounded(4);
    let m = parkway::mult(rx);
    let (a_tx, a_rx) = chan::bounded(4);
    let (b_tx, b_rx) = chan::bounded(4);
    m.tap(a_tx, true);
    m.tap(b_tx, true);
    parkway::onto_chan(tx, ["tick", "tock"], true);
    let (a, b) = (drain(&a_rx).await, drain(&b_rx).await);
    println!("tap a: {a:?}, tap b: {b:?}");
    assert_eq!(a, ["tick", "tock"]);
    assert_eq!(b, ["tick", "tock"]);
}

/// go-check: a blocking call inside a go block fails loudly.
fn go_check_trips() {
    section("go-check: send_blocking inside a go block is caught");
    let rt = Runtime::builder()
        .worker_threads(1)
        .go_check(GoCheck::Warn)
        .build()
        .unwrap();
    let err = rt.block_on(async {
        let (tx, _rx) = chan::bounded::<u32>(1);
        parkway::go(async move { tx.send_blocking(1) })
            .await
            .unwrap_err()
    });
    let msg = err.panic_message().unwrap_or_default().to_string();
    println!("JoinError: {err}");
    assert!(msg.contains("send_blocking"));
    // The same call on a plain thread is fine.
    let (tx, rx) = chan::bounded::<u32>(1);
    std::thread::spawn(move || tx.send_blocking(1).unwrap())
        .join()
        .unwrap();
    assert_eq!(rx.recv_blocking(), Some(1));
    println!("on a plain thread send_blocking just blocks, as it should");
}

// ---- helpers ---------------------------------------------------------------

/// Prints a section title.
fn section(title: &str) {
    println!("\n== {title}");
}

/// Receives until the channel is closed and empty.
async fn drain<T>(rx: &chan::Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(v) = rx.recv().await {
        out.push(v);
    }
    out
}
