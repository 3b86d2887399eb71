//! Building `JoinError`s (the type lives in `parkway-blocking-pool`, so a
//! `BlockingHandle` gives the same error) from a task's header.

use std::time::Duration;

use parkway_blocking_pool::{JoinError, Origin};

use crate::task::raw::Header;

/// The error of a task cancelled by `abort` or shutdown.
pub(crate) fn cancelled(header: &Header) -> JoinError {
    JoinError::new_cancelled(
        Origin::Task,
        header.id,
        header.name.clone(),
        header.location,
    )
}

/// The error of a task whose future panicked with `payload`.
pub(crate) fn panic(
    header: &Header,
    payload: Box<dyn std::any::Any + Send + 'static>,
) -> JoinError {
    JoinError::new_panic(
        Origin::Task,
        header.id,
        header.name.clone(),
        header.location,
        payload,
    )
}

/// The error of a task strict go-check failed after a poll that blocked its
/// worker for `elapsed`.
pub(crate) fn stalled(header: &Header, elapsed: Duration) -> JoinError {
    JoinError::new_stalled(header.id, header.name.clone(), header.location, elapsed)
}
