//! [`AsyncOps`] for each crate that has async ends.

use parkway::chan;

use super::{AsyncMultiConsumer, AsyncOps};
use crate::peers::{AsyncChannel, Flume, Kanal, Parkway, TokioMpsc};
use crate::Message;

impl AsyncOps for Parkway {
    const NAME: &'static str = "parkway";
    const RENDEZVOUS: bool = true;
    type Sender = chan::Sender<Message>;
    type Receiver = chan::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        chan::bounded(cap)
    }
    async fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).await.expect("parkway: channel closed");
    }
    async fn recv(rx: &mut Self::Receiver) -> Message {
        rx.recv().await.expect("parkway: channel closed")
    }
}

impl AsyncMultiConsumer for Parkway {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl AsyncOps for TokioMpsc {
    const NAME: &'static str = "tokio";
    const RENDEZVOUS: bool = false;
    type Sender = tokio::sync::mpsc::Sender<Message>;
    type Receiver = tokio::sync::mpsc::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        tokio::sync::mpsc::channel(cap)
    }
    async fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).await.expect("tokio: channel closed");
    }
    async fn recv(rx: &mut Self::Receiver) -> Message {
        rx.recv().await.expect("tokio: channel closed")
    }
}

impl AsyncOps for AsyncChannel {
    const NAME: &'static str = "async-channel";
    const RENDEZVOUS: bool = false;
    type Sender = async_channel::Sender<Message>;
    type Receiver = async_channel::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        async_channel::bounded(cap)
    }
    async fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).await.expect("async-channel: channel closed");
    }
    async fn recv(rx: &mut Self::Receiver) -> Message {
        rx.recv().await.expect("async-channel: channel closed")
    }
}

impl AsyncMultiConsumer for AsyncChannel {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl AsyncOps for Flume {
    const NAME: &'static str = "flume";
    const RENDEZVOUS: bool = true;
    type Sender = flume::Sender<Message>;
    type Receiver = flume::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        flume::bounded(cap)
    }
    async fn send(tx: &Self::Sender, msg: Message) {
        tx.send_async(msg).await.expect("flume: channel closed");
    }
    async fn recv(rx: &mut Self::Receiver) -> Message {
        rx.recv_async().await.expect("flume: channel closed")
    }
}

impl AsyncMultiConsumer for Flume {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl AsyncOps for Kanal {
    const NAME: &'static str = "kanal";
    const RENDEZVOUS: bool = true;
    type Sender = kanal::AsyncSender<Message>;
    type Receiver = kanal::AsyncReceiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        kanal::bounded_async(cap)
    }
    async fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).await.expect("kanal: channel closed");
    }
    async fn recv(rx: &mut Self::Receiver) -> Message {
        rx.recv().await.expect("kanal: channel closed")
    }
}

impl AsyncMultiConsumer for Kanal {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}
