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

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::task::JoinHandle;
use crate::Handle;

/// The runtime the combinator `what` spawns its go blocks on: the current
/// one.
///
/// # Panics
///
/// Outside a runtime, naming `what` and where to call it from.
#[track_caller]
pub(crate) fn current_runtime(what: &str) -> Handle {
    match Handle::try_current() {
        Ok(h) => h,
        Err(_) => panic!(
            "parkway::{what} must be called within a runtime: from a go block, inside \
             `Runtime::block_on`, or on a thread that entered one with `Runtime::enter` \
             (it spawns a go block)"
        ),
    }
}

/// Spawns one of a combinator's go blocks on `rt`, named `name`, with
/// `location` (the user's call) as its spawn location, so go-check reports
/// name the combinator and the line that started it.
pub(crate) fn spawn_at<F>(
    rt: &Handle,
    name: &str,
    location: &'static Location<'static>,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.spawn_inner(future, Some(Arc::from(name)), location)
}
