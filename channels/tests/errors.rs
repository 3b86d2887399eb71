//! The error types: `Debug + Display + std::error::Error`, `into_inner()`
//! handing the value back, and which error each failing op produces.

#[macro_use]
mod util;

use std::error::Error;
use std::fmt::{Debug, Display};

use parkway_channels::{
    bounded, unbuffered, PutError, SendError, TakeError, TryRecvError, TrySendError, MAX_PENDING,
};

fn assert_error<E: Debug + Display + Error + Send + Sync + 'static>(e: &E) -> String {
    let shown = e.to_string();
    assert!(!shown.is_empty(), "Display of {e:?} is empty");
    assert!(!format!("{e:?}").is_empty());
    shown
}

#[test]
fn send_error_is_an_error_and_hands_the_value_back() {
    let _watchdog = util::watchdog();
    let e = SendError(String::from("v"));
    assert_error(&e);
    assert_eq!(e.0, "v");
    assert_eq!(SendError(7).into_inner(), 7);
    // A value that is not Debug still gives a usable error (the value is not printed).
    struct Opaque;
    let _ = SendError(Opaque).into_inner();
}

#[test]
fn try_send_error_variants() {
    let _watchdog = util::watchdog();
    let full = TrySendError::Full(1u8);
    let closed = TrySendError::Closed(2u8);
    let a = assert_error(&full);
    let b = assert_error(&closed);
    assert_ne!(a, b, "Full and Closed should read differently");
    assert_eq!(full.into_inner(), 1);
    assert_eq!(closed.into_inner(), 2);
}

#[test]
fn try_recv_error_variants() {
    let _watchdog = util::watchdog();
    let a = assert_error(&TryRecvError::Empty);
    let b = assert_error(&TryRecvError::Closed);
    assert_ne!(a, b, "Empty and Closed should read differently");
}

#[test]
fn put_and_take_errors() {
    let _watchdog = util::watchdog();
    assert_error(&PutError::TooManyPending(3u8));
    assert_eq!(PutError::TooManyPending(3u8).into_inner(), 3);
    assert_error(&TakeError::TooManyPending);
    assert_eq!(MAX_PENDING, 1024);
}

#[test]
fn errors_produced_by_ops_carry_the_right_value() {
    let _watchdog = util::watchdog();
    let (tx, rx) = bounded(1);
    tx.try_send(String::from("a")).unwrap();
    match tx.try_send(String::from("b")) {
        Err(TrySendError::Full(v)) => assert_eq!(v, "b"),
        other => panic!("expected Full(\"b\"), got {other:?}"),
    }
    rx.close();
    match tx.try_send(String::from("c")) {
        Err(TrySendError::Closed(v)) => assert_eq!(v, "c"),
        other => panic!("expected Closed(\"c\"), got {other:?}"),
    }
    match tx.send_blocking(String::from("d")) {
        Err(SendError(v)) => assert_eq!(v, "d"),
        other => panic!("expected SendError(\"d\"), got {other:?}"),
    }
    // The buffered value is still there, then Closed.
    assert_eq!(rx.try_recv().ok().as_deref(), Some("a"));
    assert_matches!(rx.try_recv(), Err(TryRecvError::Closed));

    let (utx, urx) = unbuffered::<u8>();
    assert_matches!(urx.try_recv(), Err(TryRecvError::Empty));
    assert_matches!(utx.try_send(4), Err(TrySendError::Full(4)));
}
