//! Prints the two phases of `sleeps_1m` (spawn + register, expiry) for
//! both runtimes, a few rounds each, interleaved:
//! `cargo run --release -p parkway-benches --example sleep_phases [workers]`.

use std::time::Duration;

use parkway_benches::rt::{parkway_impl, tokio_impl, SLEEPS};

fn main() {
    let workers = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let p = parkway_impl::runtime(workers);
    let t = tokio_impl::runtime(workers);
    let margin = Duration::from_secs(3);
    for round in 0..3 {
        let a = parkway_impl::sleeps(&p, SLEEPS, margin).expect("parkway late");
        let b = tokio_impl::sleeps(&t, SLEEPS, margin).expect("tokio late");
        println!(
            "round {round}: parkway register {:?} expiry {:?} | tokio register {:?} expiry {:?}",
            a.register, a.expiry, b.register, b.expiry
        );
    }
}
