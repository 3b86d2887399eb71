//! Attribute macros for parkway: `#[parkway::main]` and `#[parkway::test]`.
//!
//! `#[parkway::main]` will turn `async fn main()` into a `main` that builds a
//! `parkway::Runtime` and runs the body with `block_on`; `#[parkway::test]`
//! will do the same for `async fn` tests, with a fresh runtime per test.
//!
//! Nothing is here yet: this crate is a placeholder until the runtime
//! exists. Use the macros through `parkway`, which re-exports them; do not
//! depend on this crate directly.

#![forbid(unsafe_code)]
