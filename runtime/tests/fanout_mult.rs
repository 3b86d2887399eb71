//! mult's batch path in detail: a tap that fills in the middle of a batch
//! (another sender writes to it) is not held behind another stalled tap for
//! the value being offered; a tap with `MAX_PENDING` puts already waiting
//! still gets its values; dropping, sliding and promise taps next to
//! buffered ones. Written from a cold review of the batch path.
//!
//! Values here carry a `Clone` hook: the mult clones a value once per tap,
//! so a hook that sleeps in a chosen clone holds the mult at a known point
//! of its batch while the test fills taps. The sleeps are those holds; each
//! assertion is about the order of events they set up, not about time.

mod util;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parkway::chan::{self, Receiver};
use parkway::GoCheck;
use util::{runtime_with, watchdog};

type Hook = Arc<dyn Fn(u32) + Send + Sync>;

/// A value whose `Clone` calls a hook (user code the mult runs).
struct V {
    id: u32,
    hook: Option<Hook>,
}

impl Clone for V {
    fn clone(&self) -> Self {
        if let Some(h) = &self.hook {
            h(self.id);
        }
        V {
            id: self.id,
            hook: self.hook.clone(),
        }
    }
}

fn v(id: u32, hook: &Hook) -> V {
    V {
        id,
        hook: Some(hook.clone()),
    }
}

fn plain(id: u32) -> V {
    V { id, hook: None }
}

fn wait_for(flag: &AtomicU32, want: u32) {
    let t = Instant::now();
    while flag.load(Ordering::SeqCst) != want {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "never reached {want}"
        );
        thread::sleep(Duration::from_micros(100));
    }
}

fn recv_within(rx: &Receiver<V>, d: Duration) -> Option<u32> {
    let t = Instant::now();
    loop {
        if let Ok(x) = rx.try_recv() {
            return Some(x.id);
        }
        if t.elapsed() > d {
            return None;
        }
        thread::sleep(Duration::from_micros(200));
    }
}

/// core.async offers each value to every tap at once (`put!`), so a tap's
/// consumer is never held back behind another tap for the value being
/// offered. Here taps P (never read) and Q both fill in the middle of a
/// batch: Q must get v0 as soon as it has room, not wait for P. (The
/// first version sent the rest of the batch tap after tap, and Q's v0
/// waited for P forever.)
#[test]
fn a_tap_filling_mid_batch_is_not_held_behind_another() {
    watchdog(|| {
        let rt = runtime_with(2, GoCheck::Off);
        let reached = Arc::new(AtomicU32::new(u32::MAX));
        let armed = Arc::new(std::sync::Mutex::new(vec![0u32, 1]));
        let v1_clones = Arc::new(AtomicU32::new(0));
        let hook: Hook = {
            let reached = reached.clone();
            let v1_clones = v1_clones.clone();
            let armed = armed.clone();
            Arc::new(move |id| {
                let hit = {
                    let mut a = armed.lock().unwrap();
                    a.iter()
                        .position(|&x| x == id)
                        .map(|i| a.remove(i))
                        .is_some()
                };
                if id == 2 {
                    v1_clones.fetch_add(1, Ordering::SeqCst);
                }
                if hit {
                    reached.store(id, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(300));
                }
            })
        };
        let (src, src_rx) = chan::bounded::<V>(8);
        let m = rt.block_on(async { parkway::mult(src_rx) });
        let (p_tx, _p) = chan::bounded::<V>(4); // never read: a stalled tap
        let (q_tx, q) = chan::bounded::<V>(4);
        m.tap(p_tx.clone(), true);
        m.tap(q_tx.clone(), true);
        // w (id 0): its first clone parks the mult in offer_all while we
        // queue v0, v1 so the next round is a batch.
        src.try_send(v(0, &hook)).unwrap();
        wait_for(&reached, 0);
        src.try_send(v(1, &hook)).unwrap();
        src.try_send(v(2, &hook)).unwrap();
        // v0's first clone is in send_batch (tap P): fill P and Q meanwhile.
        wait_for(&reached, 1);
        for k in 0..3 {
            p_tx.try_send(plain(1000 + k)).unwrap();
            q_tx.try_send(plain(2000 + k)).unwrap();
        }
        // The mult cloned v1 for the rest of P's batch: it is in the late
        // path (Q, also full, was skipped after its first refusal).
        // (A mult that offers each value to all taps at once never clones
        // v1 here: give up waiting after 1 s, well past the 300 ms clone.)
        let t = Instant::now();
        while v1_clones.load(Ordering::SeqCst) == 0 && t.elapsed() < Duration::from_secs(1) {
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(Duration::from_millis(50));
        // Q's consumer reads: w, 3 extras, then v0 (core.async: v0's put to
        // Q is pending alongside P's and completes as soon as Q has room).
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(recv_within(&q, Duration::from_secs(2)));
        }
        assert_eq!(
            got,
            [Some(0), Some(2000), Some(2001), Some(2002), Some(1)],
            "tap Q waited behind stalled tap P for v0"
        );
        drop(m);
    });
}

/// A tap with MAX_PENDING puts already waiting: the mult falls back to a
/// go block per value; the value still arrives, after the others.
#[test]
fn mult_tap_with_max_pending_puts_still_gets_values() {
    watchdog(|| {
        let rt = runtime_with(2, GoCheck::Off);
        rt.block_on(async {
            let (src, src_rx) = chan::bounded::<u32>(4);
            let m = parkway::mult(src_rx);
            let (t_tx, t) = chan::bounded::<u32>(1);
            t_tx.try_send(0).unwrap();
            for i in 0..parkway::chan::MAX_PENDING as u32 {
                t_tx.put(1 + i, |r| assert!(r.is_ok())).unwrap();
            }
            assert!(t_tx.put(99_999, |_| {}).is_err());
            m.tap(t_tx.clone(), true);
            src.send(5_000).await.unwrap();
            src.send(5_001).await.unwrap();
            drop(src);
            let mut got = Vec::new();
            while let Some(v) = t.recv().await {
                got.push(v);
            }
            let n = parkway::chan::MAX_PENDING as u32;
            let mut want: Vec<u32> = (0..=n).collect();
            want.extend([5_000, 5_001]);
            assert_eq!(got.len(), want.len());
            assert_eq!(got, want);
        });
    });
}

/// Dropping, sliding and promise taps next to a fixed one, batches on.
#[test]
fn mult_batches_with_policy_taps() {
    watchdog(|| {
        let rt = runtime_with(2, GoCheck::Off);
        rt.block_on(async {
            let (src, src_rx) = chan::bounded::<u32>(64);
            let m = parkway::mult(src_rx);
            let (f_tx, f) = chan::bounded::<u32>(64);
            let (d_tx, d) = chan::dropping::<u32>(8);
            let (s_tx, s) = chan::sliding::<u32>(8);
            let (p_tx, p) = chan::promise::<u32>();
            m.tap(f_tx, true);
            m.tap(d_tx, true);
            m.tap(s_tx, true);
            m.tap(p_tx, true);
            for i in 0..1000 {
                src.send(i).await.unwrap();
                if i % 10 == 9 {
                    while f.try_recv().is_ok() {}
                }
            }
            drop(src);
            let _ = (d.len(), s.len());
            assert_eq!(p.recv().await, Some(0));
            assert_eq!(p.recv().await, Some(0));
        });
    });
}
