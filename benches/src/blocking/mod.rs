//! Threads that block: the operations a blocking workload needs, and the
//! workloads themselves ([`workloads`]).

mod peers;
pub mod workloads;

use crate::Message;

/// A bounded channel whose ends block the calling thread.
///
/// Errors cannot happen in the workloads (every end outlives the run), so
/// the operations panic on them instead of returning them.
pub trait BlockingOps {
    /// The name the peer has in benchmark ids and tables.
    const NAME: &'static str;
    /// The sending end.
    type Sender: Clone + Send;
    /// The receiving end.
    type Receiver: Send;

    /// A channel with room for `cap` messages; `0` is a rendezvous channel.
    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver);
    /// Sends `msg`, blocking while the channel is full.
    fn send(tx: &Self::Sender, msg: Message);
    /// Receives a message, blocking while the channel is empty.
    fn recv(rx: &Self::Receiver) -> Message;
}

/// A channel whose receiving end may be shared by several consumers.
pub trait MultiConsumer: BlockingOps {
    /// Another handle on the same receiving end.
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver;
}

/// A channel with a blocking select over a number of ends known at run time.
pub trait BlockingSelect: MultiConsumer {
    /// Receives one message from whichever of `rxs` is ready first.
    fn select_recv(rxs: &[Self::Receiver]) -> Message;
    /// Sends `msg` on whichever of `txs` is ready first.
    fn select_send(txs: &[Self::Sender], msg: Message);
}
