//! The async workloads: crossbeam's `spsc`, `mpsc` and `mpmc` shapes with
//! tasks instead of threads. Each runs `messages` messages through a fresh
//! channel of capacity `cap`; producers and consumers are all spawned on the
//! current tokio runtime (call inside `Runtime::block_on`), and the run
//! panics unless the consumers saw exactly the messages sent.
//!
//! `messages` must be a multiple of [`THREADS`] for `mpsc` and `mpmc`.

use tokio::task::JoinHandle;

use super::{AsyncMultiConsumer, AsyncOps};
use crate::{checksum, Message, THREADS};

/// One producer task, one consumer task.
///
/// # Panics
/// If a task panics or the consumer's checksum is wrong, or if `cap` is 0
/// and the channel has no rendezvous flavour.
pub async fn spsc<C: AsyncOps>(cap: usize, messages: usize) {
    let (tx, rx) = bounded::<C>(cap);
    let producer = spawn_producer::<C>(tx, messages);
    let sum = spawn_consumer::<C>(rx, messages)
        .await
        .expect("consumer panicked");
    producer.await.expect("producer panicked");
    assert_eq!(sum, checksum(1, messages));
}

/// [`THREADS`] producer tasks, one consumer task.
///
/// # Panics
/// As [`spsc`].
pub async fn mpsc<C: AsyncOps>(cap: usize, messages: usize) {
    let per = per_task(messages);
    let (tx, rx) = bounded::<C>(cap);
    let producers: Vec<_> = (0..THREADS)
        .map(|_| spawn_producer::<C>(tx.clone(), per))
        .collect();
    drop(tx);
    let sum = spawn_consumer::<C>(rx, messages)
        .await
        .expect("consumer panicked");
    for p in producers {
        p.await.expect("producer panicked");
    }
    assert_eq!(sum, checksum(THREADS, per));
}

/// [`THREADS`] producer tasks and [`THREADS`] consumer tasks on one channel.
///
/// # Panics
/// As [`spsc`].
pub async fn mpmc<C: AsyncMultiConsumer>(cap: usize, messages: usize) {
    let per = per_task(messages);
    let (tx, rx) = bounded::<C>(cap);
    let producers: Vec<_> = (0..THREADS)
        .map(|_| spawn_producer::<C>(tx.clone(), per))
        .collect();
    let consumers: Vec<_> = (0..THREADS)
        .map(|_| spawn_consumer::<C>(C::clone_receiver(&rx), per))
        .collect();
    drop((tx, rx));
    let mut sum = 0;
    for c in consumers {
        sum += c.await.expect("consumer panicked");
    }
    for p in producers {
        p.await.expect("producer panicked");
    }
    assert_eq!(sum, checksum(THREADS, per));
}

fn bounded<C: AsyncOps>(cap: usize) -> (C::Sender, C::Receiver) {
    assert!(
        cap > 0 || C::RENDEZVOUS,
        "{} has no capacity-0 channel",
        C::NAME
    );
    C::bounded(cap)
}

fn spawn_producer<C: AsyncOps>(tx: C::Sender, count: usize) -> JoinHandle<()> {
    tokio::spawn(async move {
        for i in 0..count {
            C::send(&tx, Message(i)).await;
        }
    })
}

fn spawn_consumer<C: AsyncOps>(mut rx: C::Receiver, count: usize) -> JoinHandle<usize> {
    tokio::spawn(async move {
        let mut sum = 0;
        for _ in 0..count {
            sum += C::recv(&mut rx).await.0;
        }
        sum
    })
}

fn per_task(messages: usize) -> usize {
    assert_eq!(
        messages % THREADS,
        0,
        "messages must be a multiple of THREADS"
    );
    messages / THREADS
}
