//! Strict go-check fails a stalled task without unwinding, so it works in
//! programs built with `panic = "abort"`. CI runs this example built with
//! `RUSTFLAGS="-C panic=abort"`:
//! `cargo run -p parkway --example strict_under_abort`.

use std::time::Duration;

use parkway::{GoCheck, Runtime};

fn main() {
    let rt = Runtime::builder()
        .worker_threads(1)
        .go_check(GoCheck::Strict)
        .stall_threshold(Duration::from_millis(50))
        .on_go_check_report(|r| println!("reported: {:?} on worker {:?}", r.kind, r.worker))
        .build()
        .expect("runtime");
    let stuck = rt.go(async {
        std::thread::sleep(Duration::from_millis(400));
        1
    });
    let fine = rt.go(async {
        parkway::sleep(Duration::from_millis(10)).await;
        2
    });
    let err = rt.block_on(stuck).expect_err("the stalled task must fail");
    assert!(err.is_stalled(), "{err}");
    assert_eq!(rt.block_on(fine).expect("the other task is unaffected"), 2);
    println!("stalled task failed as it should: {err}");
}
