//! Go-check for parkway: thread roles, the blocking-op check, the
//! cooperative budget and the report hook.
//!
//! parkway's rule is that go blocks park, they never block. This crate is
//! where the rest of parkway asks about it, without knowing the executor:
//! the runtime marks its worker threads as go workers of a runtime in some
//! [`GoCheck`] mode ([`enter_go_worker`]); blocking channel ops call
//! [`check_blocking`], which panics on a checked go worker with the op's name
//! and the fix; channel ops spend the per-poll [`budget`] so a busy task
//! yields; and what go-check finds outside a panic goes to a replaceable
//! hook as a [`Report`]. Outside a runtime every check says "go ahead", so
//! the channels work the same on plain threads or another executor.
//!
//! The mode defaults to `Warn` in debug builds and `Off` in release builds;
//! `PARKWAY_GO_CHECK=off|warn|strict` overrides it ([`GoCheck::from_env`]),
//! like core.async's `-Dclojure.core.async.go-checking=true`.
//!
//! # Examples
//!
//! ```
//! use parkway_go_check::{budget, check_blocking, enter_go_worker, GoCheck};
//!
//! // A plain thread may block.
//! check_blocking("send_blocking");
//!
//! // A go worker of a runtime in Warn mode may not.
//! let worker = enter_go_worker(GoCheck::Warn);
//! let err = std::panic::catch_unwind(|| check_blocking("send_blocking")).unwrap_err();
//! let msg = err.downcast_ref::<String>().unwrap();
//! assert!(msg.contains("`send_blocking` would block a go worker"));
//! assert!(msg.contains("fix:"));
//! drop(worker);
//!
//! // Each task poll runs with a budget of channel operations.
//! let poll = budget::enter(budget::DEFAULT);
//! assert!(budget::try_spend());
//! assert_eq!(budget::remaining(), Some(budget::DEFAULT - 1));
//! drop(poll);
//! assert_eq!(budget::remaining(), None);
//! ```

#![forbid(unsafe_code)]

pub mod budget;
mod check;
mod mode;
mod report;
mod role;

pub use check::check_blocking;
pub use mode::{GoCheck, ParseGoCheckError, ENV_VAR};
pub use report::{panic_message, report, set_reporter, Report, ReportKind};
pub use role::{current_mode, enter_go_worker, is_go_worker, GoWorkerGuard};
