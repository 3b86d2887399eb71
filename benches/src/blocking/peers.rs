//! [`BlockingOps`] and friends for each crate that has blocking ends.

use parkway::chan;

use super::{BlockingOps, BlockingSelect, MultiConsumer};
use crate::peers::{Crossbeam, Flume, Kanal, Parkway, StdMpsc};
use crate::Message;

impl BlockingOps for Parkway {
    const NAME: &'static str = "parkway";
    type Sender = chan::Sender<Message>;
    type Receiver = chan::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        chan::bounded(cap)
    }
    fn send(tx: &Self::Sender, msg: Message) {
        tx.send_blocking(msg).expect("parkway: channel closed");
    }
    fn recv(rx: &Self::Receiver) -> Message {
        rx.recv_blocking().expect("parkway: channel closed")
    }
}

impl MultiConsumer for Parkway {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl BlockingSelect for Parkway {
    fn select_recv(rxs: &[Self::Receiver]) -> Message {
        let mut sel = chan::Select::new();
        for rx in rxs {
            sel.recv(rx, |v| v);
        }
        sel.select_blocking().expect("parkway: channel closed")
    }
    fn select_send(txs: &[Self::Sender], msg: Message) {
        // One slot per end, on the stack: the selects span `THREADS` ends.
        assert!(
            txs.len() <= crate::THREADS,
            "select over more than THREADS ends"
        );
        let mut slots = [Some(msg); crate::THREADS];
        let mut sel = chan::Select::new();
        for (tx, slot) in txs.iter().zip(&mut slots) {
            sel.send(tx, slot, |r| r);
        }
        sel.select_blocking().expect("parkway: channel closed");
    }
}

impl BlockingOps for Crossbeam {
    const NAME: &'static str = "crossbeam";
    type Sender = crossbeam_channel::Sender<Message>;
    type Receiver = crossbeam_channel::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        crossbeam_channel::bounded(cap)
    }
    fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).expect("crossbeam: channel closed");
    }
    fn recv(rx: &Self::Receiver) -> Message {
        rx.recv().expect("crossbeam: channel closed")
    }
}

impl MultiConsumer for Crossbeam {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl BlockingSelect for Crossbeam {
    // As crossbeam's own suite does it: build a `Select`, wait, finish the
    // chosen operation on the end it names.
    fn select_recv(rxs: &[Self::Receiver]) -> Message {
        let mut sel = crossbeam_channel::Select::new();
        for rx in rxs {
            sel.recv(rx);
        }
        let op = sel.select();
        let index = op.index();
        op.recv(&rxs[index]).expect("crossbeam: channel closed")
    }
    fn select_send(txs: &[Self::Sender], msg: Message) {
        let mut sel = crossbeam_channel::Select::new();
        for tx in txs {
            sel.send(tx);
        }
        let op = sel.select();
        let index = op.index();
        op.send(&txs[index], msg)
            .expect("crossbeam: channel closed");
    }
}

impl BlockingOps for Flume {
    const NAME: &'static str = "flume";
    type Sender = flume::Sender<Message>;
    type Receiver = flume::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        flume::bounded(cap)
    }
    fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).expect("flume: channel closed");
    }
    fn recv(rx: &Self::Receiver) -> Message {
        rx.recv().expect("flume: channel closed")
    }
}

impl MultiConsumer for Flume {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl BlockingSelect for Flume {
    fn select_recv(rxs: &[Self::Receiver]) -> Message {
        rxs.iter()
            .fold(flume::Selector::new(), |sel, rx| {
                sel.recv(rx, |r| r.expect("flume: channel closed"))
            })
            .wait()
    }
    fn select_send(txs: &[Self::Sender], msg: Message) {
        txs.iter()
            .fold(flume::Selector::new(), |sel, tx| {
                sel.send(tx, msg, |r| r.expect("flume: channel closed"))
            })
            .wait();
    }
}

impl BlockingOps for Kanal {
    const NAME: &'static str = "kanal";
    type Sender = kanal::Sender<Message>;
    type Receiver = kanal::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        kanal::bounded(cap)
    }
    fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).expect("kanal: channel closed");
    }
    fn recv(rx: &Self::Receiver) -> Message {
        rx.recv().expect("kanal: channel closed")
    }
}

impl MultiConsumer for Kanal {
    fn clone_receiver(rx: &Self::Receiver) -> Self::Receiver {
        rx.clone()
    }
}

impl BlockingOps for StdMpsc {
    const NAME: &'static str = "std";
    type Sender = std::sync::mpsc::SyncSender<Message>;
    type Receiver = std::sync::mpsc::Receiver<Message>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        std::sync::mpsc::sync_channel(cap)
    }
    fn send(tx: &Self::Sender, msg: Message) {
        tx.send(msg).expect("std: channel closed");
    }
    fn recv(rx: &Self::Receiver) -> Message {
        rx.recv().expect("std: channel closed")
    }
}
