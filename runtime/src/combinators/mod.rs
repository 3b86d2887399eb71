//! core.async's combinators, built on go blocks and channels: the pipeline
//! family, fan-in and fan-out (`merge`, `split`, `mult`, `pub_`, `mix`),
//! and the plumbing between iterators, channels and collections (`pipe`,
//! `onto_chan`, `to_chan`, `reduce`, `into`).
//!
//! Each one that runs in the background spawns go blocks on the current
//! runtime, so it must be called from inside one (a go block, `block_on`,
//! or a thread that entered the runtime).

mod fanout;
mod flow;
mod pipeline;

pub use fanout::*;
pub use flow::*;
pub use pipeline::*;
