//! `pub_`: values routed by topic to subscribers (core.async `pub`, `sub`,
//! `unsub`, `unsub-all`).
//!
//! Built as core.async builds it: a go block reads the source, computes
//! each value's topic and sends the value into that topic's own channel,
//! which feeds a [`Mult`] whose taps are the topic's subscribers. The
//! topic table is a `HashMap` under a lock; the order of locks is always
//! the pub's, then a topic mult's. Senders and topics removed under the
//! lock are dropped after it is released.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use crate::chan::{self, Receiver, Sender};
use crate::sync::{AtomicUsize, Mutex, Ordering};
use crate::Handle;

use super::mult::{Mult, Released};
use super::{current_runtime, spawn_loop};

/// A channel whose values are routed by topic to subscribers: core.async's
/// `pub`, made with [`pub_`] or [`pub_with_buffers`]. Clone it freely
/// (clones are handles to the same pub) and [`sub`](Pub::sub) or
/// [`unsub`](Pub::unsub) from any thread.
///
/// # How values flow, and who waits for whom
///
/// The pub's go block takes a value from the source, computes its topic
/// with `topic_fn`, and sends it into the topic's channel (buffered per
/// [`pub_with_buffers`]'s `buf_fn`, unbuffered with [`pub_`]). A
/// [`Mult`] per topic copies that channel to the topic's subscribers, so
/// within a topic all subscribers go in step, as the taps of a mult do.
///
/// A slow subscriber first holds back only its own topic: the topic's
/// mult waits for it, and the topic's buffer fills. Once that buffer is
/// full, the pub's go block waits for room in it before it takes the next
/// value from the source, **whatever that value's topic**: from then on
/// one slow subscriber holds back every topic, until it catches up. This
/// is core.async's design. Remedies: a buffer per topic that covers the
/// expected lag (`buf_fn`), and, for a subscriber that may lag without
/// bound, a [`dropping`](crate::chan::dropping) or
/// [`sliding`](crate::chan::sliding) subscription channel, which always
/// accepts.
///
/// # Details
///
/// - A value whose topic has no subscription is dropped (core.async). A
///   topic that had subscribers keeps its channel and mult until
///   [`unsub_all`](Pub::unsub_all) or
///   [`unsub_all_topic`](Pub::unsub_all_topic); its values are dropped by
///   its mult while it has no subscriber.
/// - Subscribing and unsubscribing take effect from the next value that
///   the topic's mult takes (values already waiting in the topic's buffer
///   go to the subscribers of the moment they are taken).
/// - A subscription whose channel refuses a value (closed, or every
///   receiver dropped) is removed.
/// - When the source closes, every topic's channel is closed; once each
///   topic's mult has delivered what it holds, subscriptions made with
///   `close == true` are closed and the others are left open. A `close ==
///   true` subscription made after the source closed is closed at once.
/// - The topic type's `Hash` and `Eq` run under the pub's lock: they must
///   not call back into the pub.
/// - When the source is still open but the pub has no topic and every
///   `Pub` handle is dropped, the go block stops at the next value and
///   drops the source.
///
/// # Examples
///
/// ```
/// use parkway::chan;
///
/// parkway::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = chan::bounded(8);
///     let p = parkway::pub_(rx, |(topic, _): &(&str, u32)| *topic);
///     let (sports_tx, sports_rx) = chan::bounded(8);
///     let (news_tx, news_rx) = chan::bounded(8);
///     p.sub("sports", sports_tx, true);
///     p.sub("news", news_tx, true);
///
///     tx.send(("sports", 1)).await.unwrap();
///     tx.send(("weather", 2)).await.unwrap(); // no subscriber: dropped
///     tx.send(("news", 3)).await.unwrap();
///     drop(tx);
///
///     assert_eq!(sports_rx.recv().await, Some(("sports", 1)));
///     assert_eq!(sports_rx.recv().await, None);
///     assert_eq!(news_rx.recv().await, Some(("news", 3)));
///     assert_eq!(news_rx.recv().await, None);
/// });
/// ```
pub struct Pub<T, K> {
    shared: Arc<Shared<T, K>>,
}

/// State shared by the `Pub` handles and the go block.
struct Shared<T, K> {
    state: Mutex<State<T, K>>,
    /// The buffer size of a new topic's channel.
    buf_fn: Box<dyn Fn(&K) -> usize + Send + Sync>,
    /// Where topic mults run (a `sub` may come from any thread).
    rt: Handle,
    /// Live `Pub` handles; see `Mult`'s for why it is read under the lock.
    handles: AtomicUsize,
}

struct State<T, K> {
    topics: HashMap<K, Topic<T>>,
    /// The source closed (or the go block ended): no new topic is made.
    closed: bool,
}

struct Topic<T> {
    /// The topic's channel, taken (and so closed) when the source closes.
    tx: Option<Sender<T>>,
    /// The topic's mult, reading that channel.
    mult: Mult<T>,
}

/// Makes a pub of `ch` whose topics are computed by `topic_fn`, with an
/// unbuffered channel per topic (core.async `(pub ch topic-fn)`). See
/// [`Pub`] for how values flow and who waits for whom.
///
/// # Panics
///
/// Outside a runtime: call it from a go block or inside
/// [`Runtime::block_on`](crate::Runtime::block_on). A panic in `topic_fn`
/// ends the go block, which then closes every topic as if the source had
/// closed.
#[track_caller]
pub fn pub_<T, K>(ch: Receiver<T>, topic_fn: impl Fn(&T) -> K + Send + 'static) -> Pub<T, K>
where
    T: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    let rt = current_runtime("pub_");
    Pub::spawn(rt, ch, topic_fn, Box::new(|_: &K| 0))
}

/// Makes a pub of `ch` whose topics are computed by `topic_fn`, where the
/// channel of topic `k` has a buffer of `buf_fn(&k)` values (core.async
/// `(pub ch topic-fn buf-fn)`). The buffer lets a topic's subscribers lag
/// by that many values before the pub waits for them (see [`Pub`]).
///
/// `buf_fn` runs when a topic gets its first subscriber, on the thread
/// calling [`sub`](Pub::sub), with no lock held. It must be `Sync` (a
/// refinement of the core.async signature) because any clone of the `Pub`
/// may call it, from any thread.
///
/// # Panics
///
/// As [`pub_`]. A panic in `buf_fn` unwinds out of the `sub` that called
/// it, leaving the pub unchanged.
///
/// # Examples
///
/// ```
/// use parkway::chan;
///
/// parkway::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = chan::bounded(8);
///     // Even numbers get a topic buffer of 16, odd ones none.
///     let p = parkway::pub_with_buffers(rx, |v: &u32| v % 2, |k: &u32| if *k == 0 { 16 } else { 0 });
///     let (evens_tx, evens_rx) = chan::bounded(16);
///     p.sub(0, evens_tx, true);
///     for v in [2, 4, 6] {
///         tx.send(v).await.unwrap();
///     }
///     drop(tx);
///     let mut got = Vec::new();
///     while let Some(v) = evens_rx.recv().await {
///         got.push(v);
///     }
///     assert_eq!(got, [2, 4, 6]);
/// });
/// ```
#[track_caller]
pub fn pub_with_buffers<T, K>(
    ch: Receiver<T>,
    topic_fn: impl Fn(&T) -> K + Send + 'static,
    buf_fn: impl Fn(&K) -> usize + Send + Sync + 'static,
) -> Pub<T, K>
where
    T: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    let rt = current_runtime("pub_with_buffers");
    Pub::spawn(rt, ch, topic_fn, Box::new(buf_fn))
}

impl<T, K> Pub<T, K>
where
    T: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    #[track_caller]
    fn spawn(
        rt: Handle,
        src: Receiver<T>,
        topic_fn: impl Fn(&T) -> K + Send + 'static,
        buf_fn: Box<dyn Fn(&K) -> usize + Send + Sync>,
    ) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                topics: HashMap::new(),
                closed: false,
            }),
            buf_fn,
            rt: rt.clone(),
            handles: AtomicUsize::new(1),
        });
        spawn_loop(&rt, "parkway::pub_", run(src, topic_fn, shared.clone()));
        Pub { shared }
    }

    /// Subscribes `ch` to `topic` (core.async `sub`): it gets every value
    /// of that topic from the next one its mult takes on. If `close` is
    /// true, `ch` is closed when the pub's source closes. Subscribing a
    /// channel twice to one topic only updates its `close` flag.
    ///
    /// The first subscription to a topic creates the topic's channel (with
    /// `buf_fn`'s buffer) and its mult, on the pub's runtime; this may be
    /// called from any thread.
    #[track_caller]
    pub fn sub(&self, topic: K, ch: Sender<T>, close: bool) {
        let tapped = {
            let st = self.shared.state.lock();
            if st.closed {
                Err(ch)
            } else {
                match st.topics.get(&topic) {
                    // Tap under the pub's lock: the topic cannot be removed
                    // (and its mult finish) between lookup and tap.
                    Some(t) => Ok(t.mult.tap_locked(ch, close)),
                    None => {
                        drop(st);
                        return self.sub_new_topic(topic, ch, close);
                    }
                }
            }
        };
        match tapped {
            Ok(released) => released.release(),
            Err(ch) => closed_sub(ch, close),
        }
    }

    /// [`sub`](Pub::sub) to a topic not seen yet: makes its channel and
    /// mult with no lock held, then adds them unless another `sub` won.
    #[track_caller]
    fn sub_new_topic(&self, topic: K, ch: Sender<T>, close: bool) {
        let buf = (self.shared.buf_fn)(&topic);
        let (tx, rx) = chan::bounded(buf);
        let mult = Mult::spawn(&self.shared.rt, rx, "parkway::pub_ (topic mult)");
        // The key's clone (user code) is made before the lock is taken.
        let key = topic.clone();
        let mut unused = None;
        let tapped = {
            let mut st = self.shared.state.lock();
            if st.closed {
                Err(ch)
            } else {
                // `contains_key` first, not `entry`: an occupied entry would
                // drop our duplicate key under the lock.
                if !st.topics.contains_key(&topic) {
                    let t = Topic {
                        tx: Some(tx),
                        mult: mult.clone(),
                    };
                    st.topics.insert(key, t);
                } else {
                    unused = Some(tx); // another `sub` made the topic first
                }
                let t = st
                    .topics
                    .get(&topic)
                    .expect("the topic is present: found or inserted under this lock");
                Ok(t.mult.tap_locked(ch, close))
            }
        };
        // Dropping an unused topic channel's only sender closes it, which
        // ends its mult's go block.
        drop(unused);
        match tapped {
            Ok(released) => released.release(),
            Err(ch) => closed_sub(ch, close),
        }
    }
}

/// A subscription made after the source closed: closed now if asked to be
/// closed when the source closes.
fn closed_sub<T>(ch: Sender<T>, close: bool) {
    if close {
        ch.close();
    }
}

impl<T, K: Eq + Hash> Pub<T, K> {
    /// Unsubscribes `ch` from `topic` (core.async `unsub`), from the next
    /// value the topic's mult takes on. `ch` is not closed; the pub drops
    /// its [`Sender`], which closes the channel only if it was the last
    /// one.
    pub fn unsub(&self, topic: &K, ch: &Sender<T>) {
        let released = {
            let st = self.shared.state.lock();
            st.topics.get(topic).map(|t| t.mult.untap_locked(ch))
        };
        if let Some(released) = released {
            released.release();
        }
    }

    /// Removes every topic with its subscriptions (core.async
    /// `unsub-all`), closing no subscriber. Values waiting in the removed
    /// topics' channels are dropped.
    pub fn unsub_all(&self) {
        let removed: Vec<(K, Topic<T>, Released<T>)> = {
            let mut st = self.shared.state.lock();
            st.topics
                .drain()
                .map(|(k, t)| {
                    let released = t.mult.untap_all_locked();
                    (k, t, released)
                })
                .collect()
        };
        for (k, t, released) in removed {
            retire_topic(k, t, released);
        }
    }

    /// Removes `topic` with its subscriptions (core.async `unsub-all` with
    /// a topic), closing no subscriber. Values waiting in the topic's
    /// channel are dropped.
    pub fn unsub_all_topic(&self, topic: &K) {
        let removed = {
            let mut st = self.shared.state.lock();
            st.topics.remove_entry(topic).map(|(k, t)| {
                let released = t.mult.untap_all_locked();
                (k, t, released)
            })
        };
        if let Some((k, t, released)) = removed {
            retire_topic(k, t, released);
        }
    }
}

/// Disposes of a removed topic once no lock is held: its subscribers
/// (already untapped) are dropped first, then its channel, whose closing
/// ends its mult's go block with no tap left to close.
fn retire_topic<T, K>(key: K, topic: Topic<T>, released: Released<T>) {
    released.release();
    drop(topic);
    drop(key);
}

impl<T, K> Clone for Pub<T, K> {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T, K> Drop for Pub<T, K> {
    fn drop(&mut self) {
        self.shared.handles.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<T, K> fmt::Debug for Pub<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("Pub")
            .field("topics", &st.topics.len())
            .field("closed", &st.closed)
            .finish()
    }
}

/// The go block: routes each value to its topic's channel.
async fn run<T, K>(src: Receiver<T>, topic_fn: impl Fn(&T) -> K, shared: Arc<Shared<T, K>>)
where
    T: Send + 'static,
    K: Eq + Hash,
{
    let _exit = CloseOnExit(shared.clone());
    while let Some(v) = src.recv().await {
        let key = topic_fn(&v);
        let tx = {
            let st = shared.state.lock();
            if st.topics.is_empty() && shared.handles.load(Ordering::Acquire) == 0 {
                return; // nobody can ever subscribe: stop, dropping the source
            }
            st.topics.get(&key).and_then(|t| t.tx.clone())
        };
        let Some(tx) = tx else {
            continue; // no subscriber for this topic: dropped (core.async)
        };
        if tx.send(v).await.is_err() {
            // The topic's mult is gone (it can only end on its own if it
            // panicked): forget the topic, so a new `sub` makes a new one.
            let removed = {
                let mut st = shared.state.lock();
                let ours = st
                    .topics
                    .get(&key)
                    .and_then(|t| t.tx.as_ref())
                    .is_some_and(|t| t.same_channel(&tx));
                if ours {
                    st.topics.remove_entry(&key)
                } else {
                    None
                }
            };
            drop(removed);
        }
        drop(tx);
        drop(key);
    }
}

/// Runs when the go block ends, however it ends: closes every topic's
/// channel (their mults then close the `close == true` subscriptions) and
/// stops new topics from being made.
struct CloseOnExit<T, K>(Arc<Shared<T, K>>);

impl<T, K> Drop for CloseOnExit<T, K> {
    fn drop(&mut self) {
        let senders: Vec<Sender<T>> = {
            let mut st = self.0.state.lock();
            st.closed = true;
            st.topics.values_mut().filter_map(|t| t.tx.take()).collect()
        };
        drop(senders);
    }
}
