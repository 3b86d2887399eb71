//! The combinator workloads of issue 5, each as a parkway program and the
//! closest tokio programs, for the `combinators_compare` binary.
//!
//! - `pipeline n=K`: [`PIPELINE_ITEMS`] cheap items (a multiply and a
//!   shift) through an order-keeping pipeline with parallelism K. A
//!   producer go block feeds a bounded input channel, a consumer go block
//!   sums the output channel (capacity [`CHANNEL_CAPACITY`] both) and checks
//!   the sum. Peers: "tokio lanes" is parkway's own design written with
//!   tokio's mpsc channels and tasks (a dispatcher dealing round-robin to K
//!   worker tasks, a collector taking their results in turn; one task when
//!   K = 1); "tokio buffered" spawns a task per item and keeps K in flight
//!   in input order with `futures::StreamExt::buffered`.
//! - `pipeline_blocking n=K`: [`BLOCKING_ITEMS`] items that each sleep
//!   [`BLOCKING_SLEEP`] on the blocking pool, parallelism K. Peer: a
//!   `spawn_blocking` per item kept K in flight with `buffered`.
//! - `mult 8 taps`: [`MULT_VALUES`] values through a `mult` into
//!   [`TAPS`] taps (capacity [`CHANNEL_CAPACITY`] each), each drained by
//!   its own go block. Peer: a `tokio::sync::broadcast` channel with 8
//!   receiver tasks. Broadcast has no back-pressure (a receiver a whole
//!   buffer behind loses values), so it gets room for every value: nothing
//!   can be lost and its producer never waits (its best case; the mult's
//!   producer does wait for the slowest tap). Each receiver checks its
//!   sum.
//! - `thread round trip`: [`ROUND_TRIPS`] sequential `thread(|| x).await`
//!   from a go block. Peer: `spawn_blocking(|| x).await` from a task.

pub mod parkway_impl;
pub mod tokio_impl;

use std::time::Duration;

/// Items per `pipeline` run.
pub const PIPELINE_ITEMS: u64 = 1_000_000;

/// Capacity of the input and output channels of every pipeline program.
pub const CHANNEL_CAPACITY: usize = 1024;

/// Items per `pipeline_blocking` run.
pub const BLOCKING_ITEMS: u64 = 1_000;

/// How long each `pipeline_blocking` item sleeps.
pub const BLOCKING_SLEEP: Duration = Duration::from_millis(1);

/// Values per `mult` run.
pub const MULT_VALUES: u64 = 100_000;

/// Taps (receivers) of the `mult` workload.
pub const TAPS: usize = 8;

/// Round trips per `thread round trip` run.
pub const ROUND_TRIPS: u64 = 10_000;

/// The cheap per-item work of `pipeline`.
#[inline]
#[must_use]
pub fn cheap(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (x >> 7)
}

/// The wrapping sum of `cheap` over `0..n`: what every pipeline run must
/// deliver.
#[must_use]
pub fn cheap_sum(n: u64) -> u64 {
    (0..n).fold(0u64, |s, x| s.wrapping_add(cheap(x)))
}
