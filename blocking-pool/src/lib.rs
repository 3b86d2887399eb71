//! The elastic thread pool parkway runs blocking work on: `thread` and
//! `thread_call`, core.async's `thread` and `thread-call`.
//!
//! Go blocks park, they never block; work that must block (file I/O, a
//! blocking client library, a long computation) goes here instead. The pool
//! will start threads on demand up to a limit (`max_blocking_threads`), let
//! idle ones exit after a keep-alive (`blocking_keep_alive`), and hand each
//! result back through a `BlockingHandle<T>`: a future for go blocks, a
//! go-checked blocking `join()` for plain threads, and `into_chan()` for a
//! channel of the result, as core.async's `thread` returns a channel.
//!
//! Nothing is here yet: this crate is a placeholder until the blocking pool
//! lands. It will depend on `parkway-channels` and `parkway-go-check` only,
//! and be re-exported by `parkway`.

#![forbid(unsafe_code)]
