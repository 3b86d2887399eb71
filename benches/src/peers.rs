//! One marker type per channel crate; the traits in [`crate::blocking`] and
//! [`crate::async_ops`] are implemented for them next to the workloads.

/// parkway's own channels, `parkway::chan` (`send_blocking`/`recv_blocking`,
/// `send().await`/`recv().await`, `Select`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Parkway;

/// `crossbeam-channel`: blocking only, with `Select`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Crossbeam;

/// `flume`: blocking (`send`/`recv`, `Selector`) and async
/// (`send_async`/`recv_async`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flume;

/// `kanal`: blocking (`bounded`) and async (`bounded_async`); no select.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kanal;

/// `std::sync::mpsc::sync_channel`: blocking, one consumer, no select.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdMpsc;

/// `tokio::sync::mpsc::channel`: async, one consumer, capacity at least 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioMpsc;

/// `async-channel`: async, multi-consumer, capacity at least 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncChannel;
