//! Second cold review of the blocking pool: runtime shutdown drops queued
//! `thread` jobs outside the runtime's context.
use std::sync::mpsc;
use std::time::Duration;

struct GoOnDrop(mpsc::Sender<bool>);
impl Drop for GoOnDrop {
    fn drop(&mut self) {
        // As a go block's future dropped at shutdown may: `go` gives a
        // cancelled handle inside the runtime's context, panics outside.
        let r = std::panic::catch_unwind(|| drop(parkway::go(async {})));
        let _ = self.0.send(r.is_ok());
    }
}

#[test]
fn a_queued_thread_job_is_dropped_inside_the_runtime_context() {
    let rt = parkway::Runtime::builder()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let busy = rt.handle().thread(move || {
        started_tx.send(()).unwrap();
        let _ = gate_rx.recv_timeout(Duration::from_secs(20));
    });
    started_rx.recv().unwrap();
    let (tx, rx) = mpsc::channel();
    let g = GoOnDrop(tx);
    let queued = rt.handle().thread(move || drop(g));
    let helper = std::thread::spawn(move || {
        let ok = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        gate_tx.send(()).unwrap();
        ok
    });
    drop(rt);
    busy.join().unwrap();
    assert!(queued.join().unwrap_err().is_cancelled());
    assert!(
        helper.join().unwrap(),
        "a queued thread job's drop ran outside the runtime's context (`go` panicked)"
    );
}
