//! `#[parkway::main]` and `#[parkway::test]`: the expansion builds a runtime
//! from the attribute's options and runs the body on it with `block_on`.
//!
//! Each test checks something that would fail if the body did not run, ran
//! off a runtime, or ran on a runtime without the options asked for. The
//! number of go workers is not observable directly; the worker tests check
//! what it implies (one worker: every go block on one thread; three: at most
//! three threads), with go-check off so that no stall hand-off can bring in
//! a standby thread on a loaded machine.

use std::collections::HashSet;
use std::error::Error;
use std::fmt;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use parkway::chan;

/// Runs `count` go blocks, each keeping its worker busy for a moment (so
/// that idle workers, if any, take some of them) and then sending its index
/// and its thread through a channel; checks that every index arrived exactly
/// once. Returns the set of threads the go blocks ran on.
async fn go_blocks_threads(count: usize) -> HashSet<ThreadId> {
    let (tx, rx) = chan::bounded(count);
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        let tx = tx.clone();
        handles.push(parkway::go(async move {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(1) {
                std::hint::spin_loop();
            }
            tx.send((i, thread::current().id())).await.unwrap();
        }));
    }
    drop(tx);
    for handle in handles {
        handle.await.unwrap();
    }
    let mut seen = vec![false; count];
    let mut threads = HashSet::new();
    while let Some((i, thread)) = rx.recv().await {
        assert!(!seen[i], "go block {i} sent twice");
        seen[i] = true;
        threads.insert(thread);
    }
    assert!(seen.iter().all(|&s| s), "missing go blocks: {seen:?}");
    threads
}

/// Runs `recv_blocking` on a channel holding a value, inside a go block, and
/// returns what the go block gave: the value, or its `JoinError`'s message.
async fn recv_blocking_in_go_block() -> Result<Option<u32>, String> {
    let (tx, rx) = chan::bounded(1);
    tx.send(7).await.unwrap();
    parkway::go(async move { rx.recv_blocking() })
        .await
        .map_err(|e| e.to_string())
}

#[parkway::test]
async fn test_runs_the_body_on_a_runtime() {
    let (tx, rx) = chan::bounded(1);
    tx.send(1).await.unwrap();
    assert_eq!(rx.recv().await, Some(1));
    // `go` works only on a runtime: the body runs on one.
    assert_eq!(parkway::go(async { 6 * 7 }).await.unwrap(), 42);
}

#[parkway::test(worker_threads = 1, go_check = "off")]
async fn one_worker_runs_every_go_block_on_one_thread() {
    let threads = go_blocks_threads(16).await;
    assert_eq!(threads.len(), 1, "go blocks ran on {threads:?}");
    // `block_on` runs the body on the test's thread, which is not a worker.
    assert!(!threads.contains(&thread::current().id()));
}

#[parkway::test(worker_threads = 3, go_check = "off")]
async fn three_workers_run_go_blocks_on_at_most_three_threads() {
    let threads = go_blocks_threads(48).await;
    assert!(
        (1..=3).contains(&threads.len()),
        "go blocks ran on {threads:?}"
    );
    assert!(!threads.contains(&thread::current().id()));
}

#[parkway::test(go_check = "strict")]
async fn strict_go_check_fails_a_blocking_op_in_a_go_block() {
    let message = recv_blocking_in_go_block().await.unwrap_err();
    assert!(
        message.contains("`recv_blocking` would block a go worker"),
        "{message}"
    );
}

#[parkway::test(go_check = "warn")]
async fn warn_go_check_fails_a_blocking_op_in_a_go_block() {
    let message = recv_blocking_in_go_block().await.unwrap_err();
    assert!(
        message.contains("`recv_blocking` would block a go worker"),
        "{message}"
    );
}

#[parkway::test(go_check = "off")]
async fn off_go_check_lets_a_blocking_op_run_in_a_go_block() {
    assert_eq!(recv_blocking_in_go_block().await, Ok(Some(7)));
}

#[parkway::test(go_check = "strict")]
async fn the_body_is_not_on_a_go_worker() {
    // The thread running `block_on` is not a go worker, so even strict
    // go-check lets the body itself use blocking ops.
    let (tx, rx) = chan::bounded(1);
    tx.send(3).await.unwrap();
    assert_eq!(rx.recv_blocking(), Some(3));
}

#[parkway::test]
async fn a_test_may_return_a_result_and_use_question_mark() -> Result<(), Box<dyn Error>> {
    let (tx, rx) = chan::bounded(1);
    tx.send(5).await?;
    let from_chan = rx.recv().await.ok_or("channel closed")?;
    let from_go = parkway::go(async { 6 }).await?;
    let parsed: u32 = "31".parse()?;
    assert_eq!(from_chan + from_go + parsed, 42);
    Ok(())
}

#[parkway::test]
#[should_panic(expected = "boom from the body")]
async fn a_panic_in_the_body_fails_the_test() {
    let (tx, rx) = chan::bounded(1);
    tx.send("boom from the body").await.unwrap();
    panic!("{}", rx.recv().await.unwrap());
}

#[parkway::test]
#[should_panic(expected = "boom in a go block")]
async fn a_go_block_panic_reaches_the_test_through_its_join_handle() {
    if let Err(e) = parkway::go(async { panic!("boom in a go block") }).await {
        // `JoinError`'s `Display` carries the panic message.
        panic!("{e}");
    }
}

#[parkway::test]
#[ignore = "checks that #[ignore] is kept: this test must not run"]
async fn ignore_is_kept() {
    panic!("an #[ignore]d test ran");
}

#[parkway::test]
async fn the_body_may_hold_non_send_values_across_await() {
    // `block_on` accepts `!Send` futures: an `Rc` may live across `.await`.
    let local = std::rc::Rc::new(5);
    let (tx, rx) = chan::bounded(1);
    tx.send(*local).await.unwrap();
    assert_eq!(rx.recv().await, Some(*local));
}

#[parkway::test(worker_threads = 2, go_check = "warn", thread_name = "macro-test")]
async fn every_option_at_once() {
    #![allow(unused_variables, reason = "checks that inner attributes are kept")]
    let unused = 0_u8;
    let name = parkway::go(async { thread::current().name().map(str::to_owned) })
        .await
        .unwrap();
    assert!(
        name.as_deref().is_some_and(|n| n.starts_with("macro-test")),
        "go block ran on a thread named {name:?}"
    );
}

/// `parkway` under another name, for the `crate` option.
mod renamed {
    pub(crate) use parkway as rt;
}

#[renamed::rt::test(crate = "crate::renamed::rt")]
async fn the_crate_option_renames_the_path_to_parkway() {
    assert_eq!(renamed::rt::go(async { 1 }).await.unwrap(), 1);
}

// `#[parkway::main]` on functions not named `main`: each becomes a
// synchronous function that builds a runtime and runs its body when called.

#[parkway::main]
async fn main_like() -> u32 {
    let (tx, rx) = chan::bounded(1);
    let sender = parkway::go(async move { tx.send(7).await.unwrap() });
    let got = rx.recv().await.unwrap();
    sender.await.unwrap();
    got
}

#[parkway::main(worker_threads = 1, thread_name = "main-like")]
async fn main_like_with_options() -> Option<String> {
    parkway::go(async { thread::current().name().map(str::to_owned) })
        .await
        .unwrap()
}

#[derive(Debug)]
struct EarlyExit;

impl fmt::Display for EarlyExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("early exit")
    }
}

impl Error for EarlyExit {}

/// `return` leaves the body, and `Box::new(EarlyExit)` converts to the
/// declared `Box<dyn Error>`.
#[parkway::main]
async fn main_like_returning_early() -> Result<u32, Box<dyn Error>> {
    if std::hint::black_box(true) {
        return Err(Box::new(EarlyExit));
    }
    let n: u32 = "1".parse()?;
    Ok(n)
}

#[test]
fn main_on_another_function_gives_a_sync_function() {
    // Twice: each call builds its own runtime and drops it.
    assert_eq!(main_like(), 7);
    assert_eq!(main_like(), 7);
}

#[test]
fn main_passes_its_options_to_the_builder() {
    let name = main_like_with_options();
    assert!(
        name.as_deref().is_some_and(|n| n.starts_with("main-like")),
        "go block ran on a thread named {name:?}"
    );
}

#[test]
fn main_body_may_return_early_with_a_converted_error() {
    let err = main_like_returning_early().unwrap_err();
    assert!(err.downcast_ref::<EarlyExit>().is_some(), "{err}");
}
