//! Fan-in and fan-out, core.async style: [`merge()`] and [`mix()`] gather
//! several channels into one; [`split()`], [`mult()`] and [`pub_()`] spread one
//! channel over several.
//!
//! Each combinator runs one background go block on the current runtime
//! (named after it, so it is recognizable in go-check reports and
//! [`JoinError`](crate::JoinError)s). That go block holds only the channel
//! handles it needs and a reference to the combinator's shared state, and
//! ends when its source closes, or when nothing could ever receive what it
//! forwards any more (see each function). Handles such as [`Mult`],
//! [`Pub`] and [`Mix`] are cheap to clone and may be used from any thread.
//!
//! | core.async | parkway | loop ends when |
//! |---|---|---|
//! | `(merge chs)`, `(merge chs buf)` | [`merge()`], [`merge_with_buffer`] | every input closed, or the output's receivers are gone |
//! | `(split p ch)`, `(split p ch tb fb)` | [`split()`], [`split_with_buffers`] | `ch` closed, or both outputs' receivers are gone |
//! | `(mult ch)`, `tap`, `untap`, `untap-all` | [`mult()`], [`Mult`] | `ch` closed, or no tap and no `Mult` handle left |
//! | `(pub ch topic-fn buf-fn)`, `sub`, `unsub`, `unsub-all` | [`pub_()`], [`pub_with_buffers`], [`Pub`] | `ch` closed, or no topic and no `Pub` handle left |
//! | `(mix out)`, `admix`, `unmix`, `toggle`, `solo-mode` | [`mix()`], [`Mix`] | `out` closed, or nothing to read and no `Mix` handle left |
//!
//! A loop whose outputs are all gone notices at its next value (or, for a
//! mix, its next state change): an idle one stays parked until then, or
//! until its source closes or the runtime shuts down.
//!
//! # Back-pressure
//!
//! None of these buffer behind your back: a value waits in the go block
//! until its destination takes it, and the go block reads nothing else
//! meanwhile (a mult moving a batch holds at most what its taps have room
//! for). A slow consumer therefore slows its producer, and with
//! [`mult()`] and [`pub_()`] it can slow the *other* consumers too; give such
//! consumers a buffer (a [`dropping`](crate::chan::dropping) or
//! [`sliding`](crate::chan::sliding) one if they may lose values).

mod merge;
mod mix;
mod mix_loop;
mod mult;
mod pub_;
mod split;

pub use merge::{merge, merge_with_buffer};
pub use mix::{mix, Mix, SoloMode, Toggle};
pub use mult::{mult, Mult};
pub use pub_::{pub_, pub_with_buffers, Pub};
pub use split::{split, split_with_buffers};

use std::future::Future;
use std::panic::Location;

use crate::Handle;

use super::current_runtime;

/// Spawns a combinator's background go block on `rt`, named `name`, and
/// detaches it. `#[track_caller]`: its spawn location is the user's call.
#[track_caller]
fn spawn_loop<F>(rt: &Handle, name: &str, future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    drop(super::spawn_at(rt, name, Location::caller(), future));
}
