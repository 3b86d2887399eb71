//! Attribute macros for parkway: `#[parkway::main]` and `#[parkway::test]`.
//!
//! Both turn an `async fn` into a plain function that builds a
//! `parkway::Runtime` and runs the body to completion with
//! `Runtime::block_on`, on the calling thread. The body may therefore hold
//! `!Send` values across `.await`; what it starts with `parkway::go` runs on
//! the runtime's go workers. The runtime is dropped when the body returns,
//! which stops the workers and waits for running blocking work.
//!
//! Use the macros through `parkway`, which re-exports them
//! (`parkway::main`, `parkway::test`); this crate is an implementation
//! detail. The examples below are plain text here, since this crate cannot
//! depend on `parkway`; compiled ones are in `parkway`'s docs (its crate
//! example and the `parkway::main` / `parkway::test` re-exports).
//!
//! # Options
//!
//! Both attributes take the same options, as `name = value` pairs separated
//! by commas. Each maps to one `parkway::Builder` call; an option left out
//! leaves the builder's default in place.
//!
//! | option | value | builder call | default |
//! |---|---|---|---|
//! | `worker_threads` | integer literal, at least 1 | `.worker_threads(n)` | the builder's (see `Builder::worker_threads`) |
//! | `go_check` | `"off"`, `"warn"` or `"strict"` | `.go_check(GoCheck::Off \| Warn \| Strict)` | the builder's (`PARKWAY_GO_CHECK` if set, else `warn` in debug builds, `off` in release) |
//! | `thread_name` | string literal | `.thread_name(name)` | the builder's |
//! | `crate` | string literal holding a path | none: where `parkway` is found | `"::parkway"` |
//!
//! `crate` is for code that reaches `parkway` under another name, such as
//! a crate that re-exports it: `#[rt::main(crate = "rt")]`.
//!
//! # Errors
//!
//! Misuse is a compile error pointing at the offending tokens: a function
//! without `async`, with parameters or with generics; an unknown option
//! (the message lists the valid ones), an option given twice, a
//! `worker_threads` that is not a positive integer literal, or a
//! `go_check` that is not one of the three modes (read as `GoCheck`'s
//! `FromStr` reads them: case and surrounding spaces do not matter).
//!
//! # Examples
//!
//! ```text
//! #[parkway::main(worker_threads = 4)]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let (tx, rx) = parkway::chan::bounded(1);
//!     parkway::go(async move { tx.send(42).await }).await??;
//!     assert_eq!(rx.recv().await, Some(42));
//!     Ok(())
//! }
//! ```

#![forbid(unsafe_code)]

mod entry_fn;
mod errors;
mod expand;
mod options;

use proc_macro::TokenStream;

use crate::entry_fn::EntryKind;

/// Runs an `async fn main` on a parkway runtime.
///
/// `#[parkway::main] async fn main() -> R { body }` becomes a synchronous
/// `fn main() -> R` with the same attributes, visibility and return type,
/// which builds a `parkway::Runtime` from the options and returns
/// `runtime.block_on(body)`. The body runs on the main thread (it need not
/// be `Send`); `parkway::go` inside it starts go blocks on the runtime's
/// workers. `return`, `?` and error conversions (`return
/// Err(Box::new(e))`) work as in the declared return type.
///
/// The attribute may also be put on a function not named `main`: it then
/// gives a synchronous function that runs its body on a runtime of its own
/// each time it is called. Such a function must not be called from inside a
/// runtime (a go block), where `block_on` would deadlock.
///
/// # Options
///
/// - `worker_threads = N`: the number of go workers (N ≥ 1); default: the
///   builder's (see `Builder::worker_threads`).
/// - `go_check = "off" | "warn" | "strict"`: the go-check mode; default: the
///   builder's, which reads `PARKWAY_GO_CHECK`.
/// - `thread_name = "name"`: the workers' thread name; default: the
///   builder's.
/// - `crate = "path"`: the path to `parkway`; default `::parkway`.
///
/// # Panics
///
/// The generated function panics with `parkway: failed to build the
/// runtime` if the runtime cannot be built (the OS refused a thread or an
/// I/O driver), and lets a panic of the body propagate.
///
/// # Examples
///
/// ```text
/// #[parkway::main]
/// async fn main() {
///     let (tx, rx) = parkway::chan::bounded(1);
///     parkway::go(async move { tx.send("hello").await.unwrap() });
///     println!("{}", rx.recv().await.unwrap());
/// }
/// ```
///
/// With options, returning a `Result`:
///
/// ```text
/// #[parkway::main(worker_threads = 2, go_check = "strict", thread_name = "app")]
/// async fn main() -> std::io::Result<()> {
///     let config = std::fs::read_to_string("app.toml")?;
///     println!("{} bytes of config", config.len());
///     Ok(())
/// }
/// ```
///
/// What the first example expands to:
///
/// ```text
/// fn main() {
///     async fn body() {
///         let (tx, rx) = parkway::chan::bounded(1);
///         parkway::go(async move { tx.send("hello").await.unwrap() });
///         println!("{}", rx.recv().await.unwrap());
///     }
///     let runtime = ::parkway::Runtime::builder()
///         .build()
///         .expect("parkway: failed to build the runtime");
///     runtime.block_on(body())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(EntryKind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a parkway runtime of its own.
///
/// `#[parkway::test] async fn name() -> R { body }` becomes `#[test] fn
/// name() -> R`, which builds a fresh `parkway::Runtime` from the options,
/// runs the body on the test's thread with `block_on`, and drops the runtime
/// before returning. Tests in one binary run in parallel, each with its own
/// runtime and go-check mode.
///
/// Other attributes are kept, so `#[should_panic]` and `#[ignore]` work as
/// with `#[test]`, and so does a return type such as `Result<(), E>`. Do not
/// add `#[test]` as well: the attribute already does.
///
/// Unlike `#[tokio::test]`, which defaults to a single-threaded runtime,
/// the runtime has the builder's default number of go workers; write
/// `worker_threads = 1` for one.
///
/// # Options
///
/// The same as [`main`](macro@main): `worker_threads`, `go_check`,
/// `thread_name`, `crate`.
///
/// # Panics
///
/// The test panics (fails) with `parkway: failed to build the runtime` if
/// the runtime cannot be built, and when the body panics.
///
/// # Examples
///
/// ```text
/// #[parkway::test]
/// async fn recv_gets_what_was_sent() {
///     let (tx, rx) = parkway::chan::bounded(1);
///     tx.send(1).await.unwrap();
///     assert_eq!(rx.recv().await, Some(1));
/// }
///
/// #[parkway::test(worker_threads = 1, go_check = "strict")]
/// async fn a_go_block_result() -> Result<(), Box<dyn std::error::Error>> {
///     let n = parkway::go(async { 6 * 7 }).await?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
///
/// #[parkway::test]
/// #[should_panic(expected = "boom")]
/// async fn panics_fail_the_test() {
///     panic!("boom");
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(EntryKind::Test, args.into(), item.into()).into()
}
