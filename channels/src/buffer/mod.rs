//! core.async's buffer policies over two storage types: a lock-free ring of
//! stamped slots ([`ring`]) and a write-once cell ([`promise`]).
//!
//! | policy | storage | a send into a full buffer |
//! |---|---|---|
//! | fixed (`bounded(n)`, n ≥ 1) | ring | parks the sender |
//! | dropping | ring | succeeds; the new value is discarded |
//! | sliding | ring | succeeds; the oldest value is discarded |
//! | unbuffered (`bounded(0)`) | none | parks until a receiver takes it |
//! | promise | cell | succeeds; the value is discarded (the first one stays) |

pub(crate) mod promise;
pub(crate) mod ring;
pub(crate) mod slots;

use promise::PromiseCell;
use ring::Ring;

/// The storage and overflow policy of one channel.
pub(crate) enum Buffer<T> {
    /// `bounded(n)`, n ≥ 1: senders park while the ring is full.
    Fixed(Ring<T>),
    /// `dropping(n)`: a full ring discards the value being sent.
    Dropping(Ring<T>),
    /// `sliding(n)`: a full ring discards its oldest value.
    Sliding(Ring<T>),
    /// `unbuffered()` / `bounded(0)`: every value passes hand to hand.
    Rendezvous,
    /// `promise()`: the first value, cloned to every receiver, forever.
    Promise(PromiseCell<T>),
}

impl<T> Buffer<T> {
    /// Buffered values (a delivered promise counts as one, as core.async's
    /// promise buffer does).
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Fixed(r) | Self::Dropping(r) | Self::Sliding(r) => r.len(),
            Self::Rendezvous => 0,
            Self::Promise(p) => usize::from(p.is_set()),
        }
    }

    /// The buffer's capacity.
    pub(crate) fn capacity(&self) -> usize {
        match self {
            Self::Fixed(r) | Self::Dropping(r) | Self::Sliding(r) => r.capacity(),
            Self::Rendezvous => 0,
            Self::Promise(_) => 1,
        }
    }
}

impl<T> std::fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::Fixed(_) => "fixed",
            Self::Dropping(_) => "dropping",
            Self::Sliding(_) => "sliding",
            Self::Rendezvous => "unbuffered",
            Self::Promise(_) => "promise",
        };
        write!(f, "{kind}({})", self.capacity())
    }
}
