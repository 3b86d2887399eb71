//! parkway: a Rust runtime with core.async's model: go blocks park, they
//! never block.
//!
//! Tasks ("go blocks", started with `go`) will run on a work-stealing pool
//! of go workers and coordinate through [`chan`]nels whose buffer policy is
//! chosen at creation: [`bounded`](chan::bounded),
//! [`unbuffered`](chan::unbuffered), [`dropping`](chan::dropping),
//! [`sliding`](chan::sliding) and [`promise`](chan::promise). A go block
//! waits by *parking*: `tx.send(v).await` and `rx.recv().await` give its
//! worker back to other go blocks. Work that must block goes to a separate
//! elastic pool (`thread`, `thread_call`), and go-check ([`GoCheck`]) makes a
//! blocking op on a go worker fail loudly instead of silently starving the
//! pool. The same channels also offer blocking ops (`send_blocking`,
//! `recv_blocking`) for plain threads, callback ops (`put`, `take`) and
//! non-waiting ops (`try_send`, `try_recv`), as core.async does.
//!
//! # Status
//!
//! Today this crate re-exports the channels ([`chan`]) and the go-check mode
//! ([`GoCheck`]). The go pool (`Runtime`, `go`, `block_on`), timers
//! (`sleep`, `timeout`) and the mio reactor are coming next (issues 3 to 5).
//! Until then the channels work with any executor (they use plain
//! [`std::task::Waker`]s) or with plain threads, as below.
//!
//! # Examples
//!
//! A producer thread and a consumer over a bounded channel; closing the
//! channel (here, by dropping the last sender) lets the consumer drain what
//! is buffered and then see `None`.
//!
//! ```
//! use parkway::chan;
//!
//! let (tx, rx) = chan::bounded(2);
//! let producer = std::thread::spawn(move || {
//!     for i in 1..=5 {
//!         // Blocks this (plain) thread while the buffer is full.
//!         tx.send_blocking(i).unwrap();
//!     }
//!     // `tx` is dropped here: the channel closes.
//! });
//!
//! let mut got = Vec::new();
//! while let Some(v) = rx.recv_blocking() {
//!     got.push(v);
//! }
//! producer.join().unwrap();
//! assert_eq!(got, [1, 2, 3, 4, 5]);
//! ```

pub use parkway_channels as chan;
pub use parkway_channels::{alt, alt_blocking};
pub use parkway_go_check::{GoCheck, Report, ReportKind};
