//! Tasks that park: the operations an async workload needs, the workloads
//! themselves ([`workloads`]) and the one runtime they all run on.
//!
//! Every peer runs on the same tokio multi-thread runtime, with one worker
//! per core, so that only the channel differs between two measurements.

mod peers;
pub mod workloads;

use std::future::Future;

use crate::Message;

/// A bounded channel whose ends are awaited.
///
/// Errors cannot happen in the workloads (every end outlives the run), so
/// the operations panic on them instead of returning them.
pub trait AsyncOps: 'static {
    /// The name the peer has in benchmark ids and tables.
    const NAME: &'static str;
    /// Whether `bounded(0)`, a rendezvous channel, exists (tokio's mpsc and
    /// async-channel panic on capacity 0).
    const RENDEZVOUS: bool;
    /// The sending end.
    type Sender: Clone + Send + 'static;
    /// The receiving end.
    type Receiver: Send + 'static;

    /// A channel with room for `cap` messages.
    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver);
    /// Sends `msg`, parking while the channel is full.
    fn send(tx: &Self::Sender, msg: Message) -> impl Future<Output = ()> + Send + '_;
    /// Receives a message, parking while the channel is empty. (`&mut`
    /// because tokio's receiver needs it.)
    fn recv(rx: &mut Self::Receiver) -> impl Future<Output = Message> + Send + '_;
}

/// A channel whose receiving end may be shared by several consumer tasks.
pub trait AsyncMultiConsumer: AsyncOps {
    /// Another handle on the same receiving end.
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver;
}

/// The runtime every async workload runs on: tokio's multi-thread
/// scheduler with one worker per available core.
///
/// # Panics
/// If the runtime cannot be built (threads cannot be spawned).
#[must_use]
pub fn runtime() -> tokio::runtime::Runtime {
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("bench-worker")
        .build()
        .expect("cannot build the tokio runtime")
}
