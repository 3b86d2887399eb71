//! Helpers shared by the blocking pool's integration tests.

#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]
#![allow(unreachable_pub, reason = "test helper module, not a public API")]

use parkway_blocking_pool::{BlockingPool, PoolConfig};

/// A stack size no OS will map: every thread spawn with it fails.
pub const NO_STACK: usize = 1 << 52;

/// A pool of at most `max` threads, the other settings left at their
/// defaults.
pub fn pool(max: usize) -> BlockingPool {
    BlockingPool::new(PoolConfig {
        max_threads: max,
        ..PoolConfig::default()
    })
    .unwrap()
}
