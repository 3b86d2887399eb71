//! `task::Builder`: spawn a task with a name.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::task::JoinHandle;
use crate::Handle;

/// Configures a task before spawning it; today that is its name, which
/// shows in [`JoinError`](crate::JoinError)s and go-check reports.
///
/// # Examples
///
/// ```
/// let rt = parkway::Runtime::new().unwrap();
/// rt.block_on(async {
///     let h = parkway::task::Builder::new()
///         .name("fetcher")
///         .go(async { panic!("no route") });
///     let err = h.await.unwrap_err();
///     assert_eq!(err.name(), Some("fetcher"));
/// });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    /// The task's name.
    name: Option<Arc<str>>,
}

impl Builder {
    /// A builder with no name set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl AsRef<str>) -> Builder {
        self.name = Some(Arc::from(name.as_ref()));
        self
    }

    /// Spawns `future` on the current runtime, as [`go`](crate::go) does.
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`go`](crate::go)).
    #[track_caller]
    pub fn go<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        crate::context::spawn_current(future, self.name, location)
    }

    /// Spawns `future` on the runtime of `handle`.
    #[track_caller]
    pub fn go_on<F>(self, handle: &Handle, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn_inner(future, self.name, Location::caller())
    }
}
