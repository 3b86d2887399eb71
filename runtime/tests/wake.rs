//! Task wakers: woken from foreign threads, after the task finished, while
//! the task is running, and by many threads at once.

mod util;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

// parking_lot's mutex rather than std's: ThreadSanitizer sees its ordering
// (std is precompiled without instrumentation).
use parking_lot::Mutex;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use parkway::chan;
use util::{runtime, watchdog, DropCount};

/// Wakes a new clone of `waker` by value (the clone's reference is
/// consumed by the wake), as a waker stored elsewhere would be woken.
fn wake_a_clone(waker: &Waker) {
    let owned = waker.clone();
    owned.wake();
}

/// A future that stashes a clone of its task's waker on every poll, counts
/// its polls, and is ready once `ready` is set.
struct Stash {
    /// Where the waker goes.
    slot: Arc<Mutex<Option<Waker>>>,
    /// Polls so far.
    polls: Arc<AtomicUsize>,
    /// Completes the future when set.
    ready: Arc<AtomicBool>,
}

impl Future for Stash {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        *self.slot.lock() = Some(cx.waker().clone());
        if self.ready.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The shared state of a [`Stash`], kept by the test.
#[derive(Clone, Default)]
struct StashState {
    /// The stashed waker.
    slot: Arc<Mutex<Option<Waker>>>,
    /// Polls so far.
    polls: Arc<AtomicUsize>,
    /// Completes the future when set.
    ready: Arc<AtomicBool>,
}

impl StashState {
    /// A future reporting to this state.
    fn future(&self) -> Stash {
        Stash {
            slot: Arc::clone(&self.slot),
            polls: Arc::clone(&self.polls),
            ready: Arc::clone(&self.ready),
        }
    }

    /// The stashed waker (a clone).
    fn waker(&self) -> Waker {
        self.slot.lock().clone().expect("no waker stashed yet")
    }

    /// Polls so far.
    fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }
}

#[test]
fn wake_from_a_foreign_thread() {
    watchdog(|| {
        let rt = runtime(2);
        let (tx, rx) = chan::unbuffered::<u32>();
        let h = rt.go(async move {
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            sum
        });
        let t = thread::spawn(move || {
            for i in 0..1000 {
                if i % 100 == 0 {
                    thread::sleep(Duration::from_millis(1));
                }
                tx.send_blocking(i).unwrap();
            }
        });
        t.join().unwrap();
        assert_eq!(rt.block_on(h).unwrap(), (0..1000).sum::<u32>());
    });
}

#[test]
fn wake_a_stashed_waker_from_a_foreign_thread() {
    watchdog(|| {
        let rt = runtime(2);
        let s = StashState::default();
        let h = rt.go(s.future());
        util::wait_until("the first poll", || s.polls() == 1);
        let s2 = s.clone();
        thread::spawn(move || {
            s2.ready.store(true, Ordering::SeqCst);
            s2.waker().wake();
        })
        .join()
        .unwrap();
        rt.block_on(h).unwrap();
        assert_eq!(s.polls(), 2);
    });
}

#[test]
fn wake_after_completion_is_harmless() {
    watchdog(|| {
        let rt = runtime(2);
        let s = StashState::default();
        let drops = DropCount::new();
        let g = drops.guard();
        let fut = s.future();
        let h = rt.go(async move {
            let _g = g;
            fut.await;
            "done"
        });
        util::wait_until("the first poll", || s.polls() == 1);
        s.ready.store(true, Ordering::SeqCst);
        s.waker().wake_by_ref();
        assert_eq!(rt.block_on(h).unwrap(), "done");
        assert_eq!(drops.get(), 1);
        assert_eq!(s.polls(), 2);

        // The task is finished and its handle gone; the stashed waker keeps
        // its cell alive. Wake it a lot, by reference and by value, from
        // several threads.
        let waker = s.waker();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let w = waker.clone();
                thread::spawn(move || {
                    for _ in 0..10_000 {
                        w.wake_by_ref();
                        wake_a_clone(&w);
                    }
                    w.wake();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        waker.wake_by_ref();
        // Give a wrongly scheduled task time to be polled.
        thread::sleep(Duration::from_millis(20));
        assert_eq!(s.polls(), 2, "a finished task was polled again");
        // The last wakers go; the runtime keeps working.
        drop(waker);
        *s.slot.lock() = None;
        assert_eq!(
            rt.block_on(async { parkway::go(async { 1 }).await.unwrap() }),
            1
        );
        util::wait_until("the task to be freed", || {
            rt.handle().metrics().num_alive_tasks() == 0
        });
    });
}

#[test]
fn wake_after_the_runtime_is_gone() {
    watchdog(|| {
        let rt = runtime(2);
        let s = StashState::default();
        let _h = rt.go(s.future());
        util::wait_until("the first poll", || s.polls() == 1);
        drop(rt);
        // The task was cancelled by shutdown; its waker outlives the runtime.
        let w = s.waker();
        for _ in 0..100 {
            w.wake_by_ref();
        }
        wake_a_clone(&w);
        w.wake();
        assert_eq!(s.polls(), 1);
    });
}

/// Wakes itself during its first `wakes_in_first_poll` poll(s) and counts
/// polls; pending forever afterwards (until dropped).
struct SelfWaker {
    /// Polls so far.
    polls: Arc<AtomicUsize>,
    /// How to wake itself in the first poll.
    how: WakeHow,
}

/// How [`SelfWaker`] wakes itself.
#[derive(Clone, Copy)]
enum WakeHow {
    /// `wake_by_ref` once.
    ByRef,
    /// `clone().wake()` once.
    ByValue,
    /// `wake_by_ref` and `clone().wake()` ten times each.
    Many,
}

impl Future for SelfWaker {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let n = self.polls.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            match self.how {
                WakeHow::ByRef => cx.waker().wake_by_ref(),
                WakeHow::ByValue => wake_a_clone(cx.waker()),
                WakeHow::Many => {
                    for _ in 0..10 {
                        cx.waker().wake_by_ref();
                        wake_a_clone(cx.waker());
                    }
                }
            }
        }
        Poll::Pending
    }
}

#[test]
fn wake_while_running_polls_exactly_once_more() {
    watchdog(|| {
        for workers in [1, 2] {
            let rt = runtime(workers);
            for how in [WakeHow::ByRef, WakeHow::ByValue, WakeHow::Many] {
                let polls = Arc::new(AtomicUsize::new(0));
                let h = rt.go(SelfWaker {
                    polls: Arc::clone(&polls),
                    how,
                });
                util::wait_until("the second poll", || polls.load(Ordering::SeqCst) >= 2);
                // Give a duplicate schedule time to show up as a third poll.
                thread::sleep(Duration::from_millis(20));
                assert_eq!(
                    polls.load(Ordering::SeqCst),
                    2,
                    "wakes during one poll must give exactly one more poll"
                );
                h.abort();
                assert!(rt.block_on(h).unwrap_err().is_cancelled());
                assert_eq!(polls.load(Ordering::SeqCst), 2);
            }
        }
    });
}

#[test]
fn wake_while_running_then_complete() {
    // The classic: a future that wakes itself and returns Pending once, then
    // completes, polled exactly twice.
    struct Twice(Arc<AtomicUsize>);
    impl Future for Twice {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            if n == 1 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(n)
            }
        }
    }
    watchdog(|| {
        let rt = runtime(2);
        for _ in 0..100 {
            let polls = Arc::new(AtomicUsize::new(0));
            let n = rt.block_on(rt.go(Twice(Arc::clone(&polls)))).unwrap();
            assert_eq!(n, 2);
            assert_eq!(polls.load(Ordering::SeqCst), 2);
        }
    });
}

#[test]
fn many_concurrent_wakers_wake_one_task() {
    watchdog(|| {
        let rt = runtime(2);
        const THREADS: usize = 8;
        const PER: usize = 5_000;
        let hits = Arc::new(AtomicUsize::new(0));
        let s = StashState::default();
        let h = {
            let hits = Arc::clone(&hits);
            let mut fut = s.future();
            rt.go(std::future::poll_fn(move |cx| {
                let r = Pin::new(&mut fut).poll(cx);
                if hits.load(Ordering::SeqCst) == THREADS * PER {
                    return Poll::Ready(());
                }
                r
            }))
        };
        util::wait_until("the first poll", || s.polls() >= 1);
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let s = s.clone();
                let hits = Arc::clone(&hits);
                thread::spawn(move || {
                    for j in 0..PER {
                        hits.fetch_add(1, Ordering::SeqCst);
                        let w = s.waker();
                        if (i + j) % 2 == 0 {
                            w.wake();
                        } else {
                            w.wake_by_ref();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        rt.block_on(h).unwrap();
        let polls = s.polls();
        assert!(polls >= 2, "polls = {polls}");
        assert!(
            polls <= THREADS * PER + 1,
            "more polls ({polls}) than wake-ups: wakes were duplicated"
        );
    });
}

#[test]
fn many_tasks_woken_from_many_threads() {
    watchdog(|| {
        let rt = runtime(2);
        const TASKS: usize = 200;
        let states: Vec<StashState> = (0..TASKS).map(|_| StashState::default()).collect();
        let handles: Vec<_> = states.iter().map(|s| rt.go(s.future())).collect();
        util::wait_until("every first poll", || states.iter().all(|s| s.polls() >= 1));
        let states = Arc::new(states);
        let threads: Vec<_> = (0..4)
            .map(|k| {
                let states = Arc::clone(&states);
                thread::spawn(move || {
                    for (i, s) in states.iter().enumerate() {
                        if i % 4 == k {
                            s.ready.store(true, Ordering::SeqCst);
                        }
                        // Everyone wakes everyone: spurious wakes included.
                        s.waker().wake_by_ref();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for h in handles {
            rt.block_on(h).unwrap();
        }
    });
}

#[test]
fn waker_clones_outlive_a_detached_task() {
    // A task whose handle is dropped, that completes, and whose waker is
    // still held elsewhere: the cell lives until the last waker goes, and
    // dropping that waker frees it without touching the runtime.
    watchdog(|| {
        let rt = runtime(1);
        let s = StashState::default();
        drop(rt.go(s.future()));
        util::wait_until("the first poll", || s.polls() == 1);
        s.ready.store(true, Ordering::SeqCst);
        let w = s.waker();
        w.wake_by_ref();
        util::wait_until("the second poll", || s.polls() == 2);
        util::wait_until("completion", || {
            rt.handle().metrics().num_alive_tasks() == 0
        });
        *s.slot.lock() = None;
        w.wake(); // by value: the last reference
        drop(rt);
    });
}

#[test]
fn will_wake_holds_across_polls() {
    // The waker a task sees is the same task's on every poll, so futures can
    // skip re-registering.
    watchdog(|| {
        let rt = runtime(2);
        let first: Arc<Mutex<Option<Waker>>> = Arc::default();
        let same = Arc::new(AtomicBool::new(true));
        let checks = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&checks);
        let (f, sm) = (Arc::clone(&first), Arc::clone(&same));
        let mut n = 0;
        rt.block_on(rt.go(std::future::poll_fn(move |cx| {
            n += 1;
            let mut slot = f.lock();
            match &*slot {
                None => {
                    *slot = Some(cx.waker().clone());
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Some(w) if n < 5 => {
                    c.fetch_add(1, Ordering::SeqCst);
                    if !w.will_wake(cx.waker()) {
                        sm.store(false, Ordering::SeqCst);
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Some(_) => Poll::Ready(()),
            }
        })))
        .unwrap();
        assert_eq!(checks.load(Ordering::SeqCst), 3);
        assert!(same.load(Ordering::SeqCst));
    });
}

#[test]
fn wake_across_runtimes() {
    // Go blocks on two runtimes wake each other through channels: each
    // wake comes from the other runtime's worker thread.
    watchdog(|| {
        let a = runtime(1);
        let b = runtime(2);
        let (to_b, from_a) = chan::unbuffered::<u32>();
        let (to_a, from_b) = chan::unbuffered::<u32>();
        let ha = a.go(async move {
            let mut v = 0;
            for _ in 0..1000 {
                to_b.send(v).await.unwrap();
                v = from_b.recv().await.unwrap();
            }
            v
        });
        let hb = b.go(async move {
            while let Some(v) = from_a.recv().await {
                if to_a.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        assert_eq!(a.block_on(ha).unwrap(), 1000);
        b.block_on(hb).unwrap();
    });
}

#[test]
fn a_timer_of_one_runtime_wakes_a_task_of_another_whose_workers_sleep() {
    // The sleep belongs to runtime `a` (its timers fire it); the task that
    // awaits it runs on `b`, whose only worker sleeps meanwhile. The wake
    // from `a`'s timer batch must wake `b`'s worker.
    util::watchdog(|| {
        let a = util::runtime(1);
        let b = util::runtime(1);
        for _ in 0..20 {
            let sleep = {
                let _in_a = a.enter();
                parkway::sleep(std::time::Duration::from_millis(5))
            };
            let h = b.go(async move {
                sleep.await;
                7
            });
            assert_eq!(b.block_on(h).unwrap(), 7);
        }
    });
}
