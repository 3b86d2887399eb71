//! A tour of parkway's channels: every buffer kind, close, callbacks and
//! select, with go-style producers and consumers.
//!
//! Run it with `cargo run -p parkway --example demo`.
//!
//! The go pool is not there yet (it lands with the runtime), so each "go
//! block" here is an `async` block driven on its own std thread by a
//! ten-line `block_on`. The async code inside is what it will be on the
//! runtime: swap `go_thread(..)` for `parkway::go(..)` and nothing else
//! changes. Every outcome printed is also asserted, and none depends on
//! thread timing.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};

use parkway::chan::{self, SendError, TryRecvError, TrySendError};
use parkway::GoCheck;

fn main() {
    println!("parkway demo: go blocks park, they never block");
    bounded_back_pressure();
    unbuffered_rendezvous();
    dropping_keeps_the_first();
    sliding_keeps_the_last();
    promise_for_every_reader();
    close_drains_then_none();
    callbacks();
    select();
    go_check();
    println!("\ndemo: every outcome above was checked");
}

/// `bounded(n)`: a fixed buffer; a full buffer makes senders wait.
fn bounded_back_pressure() {
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
    assert_eq!(tx.len(), 2);
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!(rx.try_recv().ok(), Some(2));

    // A producer sends ten values into two slots: it parks whenever the
    // buffer is full and resumes when the consumer makes room.
    let producer = go_thread(async move {
        for i in 1..=10 {
            tx.send(i).await.unwrap();
        }
        // The last Sender is dropped here, which closes the channel.
    });
    let consumer = go_thread(async move {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    producer.join().unwrap();
    let got = consumer.join().unwrap();
    println!("consumer got {got:?}, in order, then None once the producer was done");
    assert_eq!(got, (1..=10).collect::<Vec<_>>());
}

/// `unbuffered()`: a send completes only when a receiver takes the value.
fn unbuffered_rendezvous() {
    section("unbuffered(): sender and receiver meet (rendezvous)");
    let (tx, rx) = chan::unbuffered::<&'static str>();
    assert_eq!(tx.capacity(), Some(0));
    match tx.try_send("early") {
        Err(TrySendError::Full(v)) => {
            println!("try_send({v:?}) with nobody receiving -> Full (there is no buffer)")
        }
        other => panic!("expected Full, got {other:?}"),
    }

    // The producer's send cannot finish before the receiver arrives, so
    // when it finishes it must see the flag the receiver set first.
    let receiver_arrived = Arc::new(AtomicBool::new(false));
    let seen_by_sender = receiver_arrived.clone();
    let producer = go_thread(async move {
        tx.send("ping").await.unwrap();
        seen_by_sender.load(Ordering::SeqCst)
    });
    receiver_arrived.store(true, Ordering::SeqCst);
    let got = rx.recv_blocking();
    let sender_saw_receiver = producer.join().unwrap();
    println!("received {got:?}; the sender's send returned only after the receiver came");
    assert_eq!(got, Some("ping"));
    assert!(sender_saw_receiver);

    // Ping-pong over two rendezvous channels: strictly alternating.
    let (ping_tx, ping_rx) = chan::unbuffered::<u32>();
    let (pong_tx, pong_rx) = chan::unbuffered::<u32>();
    let ponger = go_thread(async move {
        while let Some(n) = ping_rx.recv().await {
            pong_tx.send(n * 10).await.unwrap();
        }
    });
    let mut rounds = Vec::new();
    for n in 1..=3 {
        ping_tx.send_blocking(n).unwrap();
        let reply = pong_rx.recv_blocking().unwrap();
        rounds.push(format!("{n}->{reply}"));
    }
    ping_tx.close();
    ponger.join().unwrap();
    println!("ping-pong: {}", rounds.join(", "));
    assert_eq!(rounds, ["1->10", "2->20", "3->30"]);
}

/// `dropping(n)`: when full, the new value is discarded; sends never wait.
fn dropping_keeps_the_first() {
    section("dropping(3): when full, new values are dropped; keeps the FIRST 3");
    let (tx, rx) = chan::dropping::<u32>(3);
    for i in 1..=6 {
        // Never waits: a full dropping buffer accepts and discards.
        tx.send_blocking(i).unwrap();
    }
    tx.close();
    let kept = drain(&rx);
    println!("sent 1..=6, buffer kept {kept:?}");
    assert_eq!(kept, [1, 2, 3]);
}

/// `sliding(n)`: when full, the oldest value is discarded; sends never wait.
fn sliding_keeps_the_last() {
    section("sliding(3): when full, the oldest value is dropped; keeps the LAST 3");
    let (tx, rx) = chan::sliding::<u32>(3);
    for i in 1..=6 {
        tx.send_blocking(i).unwrap();
    }
    tx.close();
    let kept = drain(&rx);
    println!("sent 1..=6, buffer kept {kept:?}");
    assert_eq!(kept, [4, 5, 6]);
}

/// `promise()`: the first value is kept and every reader gets a clone.
fn promise_for_every_reader() {
    section("promise(): one value, delivered to every reader, forever");
    let (tx, rx) = chan::promise::<String>();
    let readers: Vec<_> = (1..=3)
        .map(|id| {
            let rx = rx.clone();
            go_thread(async move {
                let first = rx.recv().await;
                let again = rx.recv().await;
                (id, first, again)
            })
        })
        .collect();
    tx.send_blocking("the answer".to_string()).unwrap();
    tx.send_blocking("a later value".to_string()).unwrap(); // accepted, discarded
    for reader in readers {
        let (id, first, again) = reader.join().unwrap();
        println!("reader {id}: {first:?}, and again {again:?}");
        assert_eq!(first.as_deref(), Some("the answer"));
        assert_eq!(again.as_deref(), Some("the answer"));
    }
    let late = rx.recv_blocking();
    println!("a late reader still gets {late:?}; the later send was discarded");
    assert_eq!(late.as_deref(), Some("the answer"));
}

/// `close()`: buffered values are still delivered, then `None`.
fn close_drains_then_none() {
    section("close(): buffered values are still delivered, then None");
    let (tx, rx) = chan::bounded::<u32>(4);
    for i in 1..=3 {
        tx.try_send(i).unwrap();
    }
    tx.close();
    println!(
        "closed with {} values buffered; is_closed = {}",
        rx.len(),
        rx.is_closed()
    );
    assert!(rx.is_closed() && tx.is_closed());
    match tx.send_blocking(4) {
        Err(SendError(v)) => println!("send({v}) after close -> Err, the value is handed back"),
        Ok(()) => panic!("send after close succeeded"),
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(rx.recv_blocking());
    }
    println!("recv x4 -> {got:?}");
    assert_eq!(got, [Some(1), Some(2), Some(3), None]);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));

    // A consumer parked on an empty channel is released by close.
    let (tx, rx) = chan::bounded::<u32>(1);
    let parked = go_thread(async move { rx.recv().await });
    tx.close();
    let got = parked.join().unwrap();
    println!("a consumer waiting on an empty channel gets {got:?} when it closes");
    assert_eq!(got, None);
}

/// `put`/`take`: callbacks instead of waiting (core.async `put!`/`take!`).
fn callbacks() {
    section("put / take: callbacks instead of waiting");
    let (log_tx, log_rx) = chan::bounded::<String>(4);

    let (tx, rx) = chan::bounded::<u32>(1);
    let log = log_tx.clone();
    rx.take(move |v| {
        log.try_send(format!("take callback got {v:?}")).unwrap();
    })
    .unwrap();
    tx.send_blocking(7).unwrap(); // completes the pending take
    let line = log_rx.recv_blocking().unwrap();
    println!("{line}");
    assert_eq!(line, "take callback got Some(7)");

    tx.try_send(1).unwrap(); // the buffer is now full
    let log = log_tx.clone();
    tx.put(2, move |r| {
        log.try_send(format!("put(2) callback: ok = {}", r.is_ok()))
            .unwrap();
    })
    .unwrap();
    println!("put(2) on a full channel returned at once; the put is pending");
    let first = rx.recv_blocking();
    let second = rx.recv_blocking();
    let line = log_rx.recv_blocking().unwrap();
    println!("recv -> {first:?}, {second:?}; {line}");
    assert_eq!((first, second), (Some(1), Some(2)));
    assert_eq!(line, "put(2) callback: ok = true");

    tx.close();
    let log = log_tx;
    rx.take(move |v| {
        log.try_send(format!("take on a closed, empty channel got {v:?}"))
            .unwrap();
    })
    .unwrap();
    let line = log_rx.recv_blocking().unwrap();
    println!("{line}");
    assert_eq!(line, "take on a closed, empty channel got None");
}

/// `Select`: wait for whichever of several operations is ready first
/// (core.async `alts!!`; the `alt!`/`alt_blocking!` macros come with the
/// same rules).
fn select() {
    section("Select: the first ready operation wins (alts!!)");
    let (a_tx, a_rx) = chan::bounded::<u32>(1);
    let (b_tx, b_rx) = chan::bounded::<&'static str>(1);

    // Nothing ready: try_select gives the select back, a default runs.
    let mut sel = chan::Select::new();
    sel.recv(&a_rx, |v| format!("a: {v:?}"))
        .recv(&b_rx, |v| format!("b: {v:?}"));
    let nothing_ready = sel.try_select().is_err();
    let mut sel = chan::Select::new();
    sel.recv(&a_rx, |v| format!("a: {v:?}"))
        .recv(&b_rx, |v| format!("b: {v:?}"))
        .default(|| "default: nothing was ready".to_string());
    let got = sel.select_blocking();
    println!("try_select with nothing ready -> Err; with a default -> {got:?}");
    assert!(nothing_ready);
    assert_eq!(got, "default: nothing was ready");

    // Both ready: with `priority`, the first in insertion order wins.
    a_tx.try_send(1).unwrap();
    b_tx.try_send("hello").unwrap();
    let mut sel = chan::Select::new();
    sel.priority()
        .recv(&a_rx, |v| format!("a: {v:?}"))
        .recv(&b_rx, |v| format!("b: {v:?}"));
    let first = sel.select_blocking();
    let mut sel = chan::Select::new();
    sel.priority()
        .recv(&a_rx, |v| format!("a: {v:?}"))
        .recv(&b_rx, |v| format!("b: {v:?}"));
    let second = sel.select_blocking();
    println!("both ready, priority -> {first}, then {second}");
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("a: Some(1)", "b: Some(\"hello\")")
    );

    // A send op: the value leaves its slot only if the send is chosen.
    let (full_tx, _full_rx) = chan::bounded::<u32>(1);
    full_tx.try_send(0).unwrap();
    let mut to_full = Some(100);
    let mut to_a = Some(5);
    let mut sel = chan::Select::new();
    sel.send(&full_tx, &mut to_full, |r| format!("full: {r:?}"))
        .send(&a_tx, &mut to_a, |r| format!("a: {r:?}"));
    let got = sel.select_blocking();
    println!("send to a full channel or to a: {got}; the unsent value stayed: {to_full:?}");
    assert_eq!(got, "a: Ok(())");
    assert_eq!((to_full, to_a), (Some(100), None));
    assert_eq!(a_rx.try_recv().ok(), Some(5));

    // A go block parks on a select until a value arrives. (Driven on a
    // thread where it is created, so the select need not be `Send`.)
    let (a_rx2, b_rx2) = (a_rx.clone(), b_rx.clone());
    let waiter = thread::spawn(move || {
        block_on(async move {
            let mut sel = chan::Select::new();
            sel.recv(&a_rx2, |v| format!("a: {v:?}"))
                .recv(&b_rx2, |v| format!("b: {v:?}"));
            sel.select().await
        })
    });
    a_tx.send_blocking(2).unwrap();
    let got = waiter.join().unwrap();
    println!("a go block parked on select woke with {got}");
    assert_eq!(got, "a: Some(2)");

    // A closed channel is ready: its recv op yields None.
    drop(b_tx); // the last Sender of b: b closes
    let mut sel = chan::Select::new();
    sel.recv(&a_rx, |v| format!("a: {v:?}"))
        .recv(&b_rx, |v| format!("b: {v:?}"));
    let got = sel.select_blocking();
    println!("a empty, b closed -> {got}");
    assert_eq!(got, "b: None");
}

/// The go-check mode a runtime built now would use.
fn go_check() {
    section("go-check");
    let mode = GoCheck::default();
    println!(
        "mode from PARKWAY_GO_CHECK or the build default: {mode} \
         (in Warn/Strict, send_blocking/recv_blocking on a go worker panic \
         with the fix; plain threads like these may block)"
    );
}

// ---- helpers ---------------------------------------------------------------

fn section(title: &str) {
    println!("\n== {title}");
}

/// Receives until the channel is closed and empty.
fn drain<T>(rx: &chan::Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(v) = rx.recv_blocking() {
        out.push(v);
    }
    out
}

/// Runs a go block on its own thread until the runtime's `go` exists.
fn go_thread<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    thread::spawn(move || block_on(fut))
}

/// Wakes a thread parked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread, parking the thread while it is pending.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}
