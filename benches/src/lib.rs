//! Benchmarks: parkway's channels side by side with their peers, and
//! parkway's runtime side by side with tokio's ([`rt`]).
//!
//! The workloads follow crossbeam-channel's comparison suite
//! (`crossbeam-channel/benchmarks/crossbeam-channel.rs`: `seq`, `spsc`,
//! `mpsc`, `mpmc`, `select_rx`, `select_both`, `ping_pong`) with its
//! `THREADS = 4`, but [`MESSAGES`] is scaled down from crossbeam's 5_000_000
//! to 100_000 per run so that a criterion sample stays short on a shared
//! 2-core machine. Capacities follow crossbeam too: `bounded0` (rendezvous),
//! `bounded1` and `bounded_n`, where `n` is the number of messages in the run.
//!
//! Every channel is reached through one small trait per way of waiting —
//! [`blocking::BlockingOps`] for threads that block, [`async_ops::AsyncOps`]
//! for tasks that park — implemented by a marker type per crate in
//! [`peers`]. A workload is written once, generic over that trait, so each
//! peer runs exactly the same code; a peer that lacks an operation (std has
//! no select and no multi-consumer receiver, tokio's mpsc no multi-consumer
//! receiver and no capacity 0, kanal no select) simply does not implement
//! the trait the workload asks for.
//!
//! The criterion benches (`benches/chan_*.rs`) group each workload and
//! capacity with all peers side by side; the `chan_compare` binary runs
//! parkway against the fastest peers interleaved in one process and prints
//! the medians and ratios that `docs/BENCHMARKS.md` records.
//!
//! The scheduler workloads of [`rt`] (tokio's `rt_multi_threaded` suite and
//! a few of ours) run on parkway's `Runtime` and on tokio's multi-thread
//! runtime with the same worker count; the criterion bench
//! `benches/rt_multi_threaded.rs` groups them, and the `compare` binary runs
//! them interleaved and prints medians, ratios and the heap bytes an idle
//! task costs.
//!
//! # Examples
//!
//! ```
//! use parkway_benches::{blocking::workloads, peers::Crossbeam};
//!
//! // 1_000 messages from one thread to another through a 1-slot buffer.
//! workloads::spsc::<Crossbeam>(1, 1_000);
//! ```
#![forbid(unsafe_code)]

pub mod async_ops;
pub mod blocking;
pub mod combinators;
pub mod compare;
pub mod peers;
pub mod rt;

/// Messages sent per run of a workload (crossbeam's suite sends 5_000_000).
pub const MESSAGES: usize = 100_000;

/// Producer (and consumer) threads or tasks in the multi-party workloads,
/// as in crossbeam's suite; also the number of channels a select spans.
pub const THREADS: usize = 4;

/// Capacity of the channel built in the creation benchmark; tokio's
/// `sync_mpsc` contention benchmarks build a channel this size per iteration.
pub const CREATE_CAPACITY: usize = 1_000_000;

/// The value every workload sends: one machine word, like crossbeam's
/// `message::Message` (`[usize; 1]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message(pub usize);

/// The sum of the payloads `producers` senders deliver when each sends
/// `Message(0)` up to `Message(per_producer - 1)`: every workload checks that
/// its receivers saw exactly this.
#[must_use]
pub fn checksum(producers: usize, per_producer: usize) -> usize {
    producers * (per_producer * per_producer.saturating_sub(1) / 2)
}

/// The name crossbeam's suite gives a capacity in a run of `messages`
/// messages: `bounded0`, `bounded1`, `bounded_n` when it equals `messages`,
/// `bounded<cap>` otherwise.
#[must_use]
pub fn capacity_label(cap: usize, messages: usize) -> String {
    if cap == messages {
        "bounded_n".to_owned()
    } else {
        format!("bounded{cap}")
    }
}
