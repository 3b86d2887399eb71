//! `alt!` and `alt_blocking!`: core.async's `alt!`/`alt!!` as
//! expressions over a [`Select`](crate::Select). Implementation details
//! live here; the macros are exported at the crate root.

use crate::{Receiver, Sender};

/// Accepts a receiver or a reference to one (`recv(rx)` and `recv(&rx)`).
pub trait AsReceiver {
    /// The element type.
    type Item;
    /// The receiver.
    fn as_receiver(&self) -> &Receiver<Self::Item>;
}

impl<T> AsReceiver for Receiver<T> {
    type Item = T;
    fn as_receiver(&self) -> &Receiver<T> {
        self
    }
}

impl<R: AsReceiver + ?Sized> AsReceiver for &R {
    type Item = R::Item;
    fn as_receiver(&self) -> &Receiver<R::Item> {
        (**self).as_receiver()
    }
}

/// Accepts a sender or a reference to one.
pub trait AsSender {
    /// The element type.
    type Item;
    /// The sender.
    fn as_sender(&self) -> &Sender<Self::Item>;
}

impl<T> AsSender for Sender<T> {
    type Item = T;
    fn as_sender(&self) -> &Sender<T> {
        self
    }
}

impl<S: AsSender + ?Sized> AsSender for &S {
    type Item = S::Item;
    fn as_sender(&self) -> &Sender<S::Item> {
        (**self).as_sender()
    }
}

/// Waits, parking the task, until one of several channel operations
/// commits, and evaluates that branch (core.async `alt!`). Use it inside
/// async code: it awaits.
///
/// ```text
/// alt! {
///     priority;                        // optional: first ready branch wins
///     recv(rx) -> v => expr,           // v: Option<T> (None: closed and drained)
///     send(tx, value) -> r => expr,    // r: Result<(), SendError<T>>
///     default => expr,                 // optional: taken when nothing is ready at once
/// }
/// ```
///
/// Branches may mix receives and sends over channels of different element
/// types. Exactly one operation commits; a send that does not commit drops
/// its value with the `alt!`. A closed channel is ready. Without
/// `priority;` a ready branch is chosen uniformly at random. Channel
/// expressions may be temporaries, such as a timeout channel.
///
/// # Examples
///
/// ```
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// use parkway_channels::{alt, bounded};
///
/// let (tx_n, rx_n) = bounded::<u32>(1);
/// let (tx_s, rx_s) = bounded::<String>(1);
/// tx_s.try_send("hello".into()).unwrap();
/// block_on(async {
///     let got = alt! {
///         recv(rx_n) -> n => format!("number {n:?}"),
///         recv(rx_s) -> s => format!("string {s:?}"),
///     };
///     assert_eq!(got, "string Some(\"hello\")");
///
///     let sent = alt! {
///         priority;
///         send(tx_n, 1) -> r => r.is_ok(),
///         default => false,
///     };
///     assert!(sent);
/// });
/// # drop(tx_s);
/// ```
#[macro_export]
macro_rules! alt {
    ($($body:tt)*) => {
        $crate::__alt_parse!(@start (async) $($body)*)
    };
}

/// Blocks the thread until one of several channel operations commits, and
/// evaluates that branch (core.async `alt!!`). Same grammar as
/// [`alt!`](crate::alt!).
///
/// # Panics
///
/// On a go worker with go-check in `Warn` or `Strict` mode; use `alt!`
/// there.
///
/// # Examples
///
/// ```
/// use parkway_channels::{alt_blocking, bounded};
///
/// let (tx, rx) = bounded::<i32>(1);
/// let (_keep_open, never) = bounded::<()>(1);
/// std::thread::spawn(move || tx.send_blocking(42).unwrap());
/// let v = alt_blocking! {
///     recv(never) -> _ => 0,
///     recv(rx) -> v => v.unwrap(),
/// };
/// assert_eq!(v, 42);
/// ```
#[macro_export]
macro_rules! alt_blocking {
    ($($body:tt)*) => {
        $crate::__alt_parse!(@start (blocking) $($body)*)
    };
}

/// Parses `alt!` branches into a normalized list, assigning each branch an
/// enum variant, a type parameter and two locals from a fixed supply.
#[doc(hidden)]
#[macro_export]
macro_rules! __alt_parse {
    (@start $mode:tt priority; $($rest:tt)*) => {
        $crate::__alt_parse!(@branches $mode (priority) []
            [(B0 T0 c0 s0) (B1 T1 c1 s1) (B2 T2 c2 s2) (B3 T3 c3 s3) (B4 T4 c4 s4) (B5 T5 c5 s5)
             (B6 T6 c6 s6) (B7 T7 c7 s7) (B8 T8 c8 s8) (B9 T9 c9 s9) (B10 T10 c10 s10) (B11 T11 c11 s11)
             (B12 T12 c12 s12) (B13 T13 c13 s13) (B14 T14 c14 s14) (B15 T15 c15 s15) (B16 T16 c16 s16)
             (B17 T17 c17 s17) (B18 T18 c18 s18) (B19 T19 c19 s19) (B20 T20 c20 s20) (B21 T21 c21 s21)
             (B22 T22 c22 s22) (B23 T23 c23 s23) (B24 T24 c24 s24) (B25 T25 c25 s25) (B26 T26 c26 s26)
             (B27 T27 c27 s27) (B28 T28 c28 s28) (B29 T29 c29 s29) (B30 T30 c30 s30) (B31 T31 c31 s31)]
            $($rest)*)
    };
    (@start $mode:tt $($rest:tt)*) => {
        $crate::__alt_parse!(@branches $mode () []
            [(B0 T0 c0 s0) (B1 T1 c1 s1) (B2 T2 c2 s2) (B3 T3 c3 s3) (B4 T4 c4 s4) (B5 T5 c5 s5)
             (B6 T6 c6 s6) (B7 T7 c7 s7) (B8 T8 c8 s8) (B9 T9 c9 s9) (B10 T10 c10 s10) (B11 T11 c11 s11)
             (B12 T12 c12 s12) (B13 T13 c13 s13) (B14 T14 c14 s14) (B15 T15 c15 s15) (B16 T16 c16 s16)
             (B17 T17 c17 s17) (B18 T18 c18 s18) (B19 T19 c19 s19) (B20 T20 c20 s20) (B21 T21 c21 s21)
             (B22 T22 c22 s22) (B23 T23 c23 s23) (B24 T24 c24 s24) (B25 T25 c25 s25) (B26 T26 c26 s26)
             (B27 T27 c27 s27) (B28 T28 c28 s28) (B29 T29 c29 s29) (B30 T30 c30 s30) (B31 T31 c31 s31)]
            $($rest)*)
    };

    // recv(rx) -> pat => body
    (@branches $mode:tt $prio:tt [$($done:tt)*] [($b:ident $t:ident $c:ident $s:ident) $($ids:tt)*]
        recv($rx:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__alt_parse!(@branches $mode $prio [$($done)* (recv $b $t $c $s ($rx) ($p) ($body))] [$($ids)*] $($($rest)*)?)
    };
    // send(tx, value) -> pat => body
    (@branches $mode:tt $prio:tt [$($done:tt)*] [($b:ident $t:ident $c:ident $s:ident) $($ids:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__alt_parse!(@branches $mode $prio [$($done)* (send $b $t $c $s ($tx) ($v) ($p) ($body))] [$($ids)*] $($($rest)*)?)
    };
    // default => body
    (@branches $mode:tt $prio:tt [$($done:tt)*] [($b:ident $t:ident $c:ident $s:ident) $($ids:tt)*]
        default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__alt_parse!(@branches $mode $prio [$($done)* (default $b $t $c $s ($body))] [$($ids)*] $($($rest)*)?)
    };
    (@branches $mode:tt $prio:tt [$($done:tt)*] [] $($rest:tt)+) => {
        ::core::compile_error!("alt!: too many branches (at most 32)")
    };
    // all parsed
    (@branches $mode:tt $prio:tt [$($done:tt)+] [$($ids:tt)*]) => {
        $crate::__alt_emit!($mode $prio $($done)+)
    };
    (@branches $mode:tt $prio:tt [] [$($ids:tt)*]) => {
        ::core::compile_error!("alt!: expected at least one branch: `recv(rx) -> v => expr`, `send(tx, value) -> r => expr` or `default => expr`")
    };
    (@branches $mode:tt $prio:tt [$($done:tt)*] [$($ids:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(::core::concat!(
            "alt!: cannot parse a branch starting at `", ::core::stringify!($($rest)+),
            "`; expected `recv(rx) -> v => expr`, `send(tx, value) -> r => expr` or `default => expr`"
        ))
    };
}

/// Emits the select for parsed branches.
#[doc(hidden)]
#[macro_export]
macro_rules! __alt_emit {
    ($mode:tt $prio:tt $(($kind:ident $b:ident $t:ident $c:ident $s:ident $($x:tt)*))+) => {{
        #[allow(non_camel_case_types, dead_code)]
        enum __AltOut<$($t,)+> { $($b($t),)+ }
        $( $crate::__alt_bind!($kind $c $s $($x)*); )+
        let mut __sel = $crate::Select::new();
        $crate::__alt_prio!(__sel $prio);
        $( $crate::__alt_add!(__sel __AltOut $kind $b $c $s $($x)*); )+
        match $crate::__alt_run!($mode __sel) {
            $( $crate::__alt_arm_pat!(__AltOut $kind $b $($x)*) => $crate::__alt_arm_body!($kind $($x)*), )+
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_bind {
    (recv $c:ident $s:ident ($rx:expr) $($x:tt)*) => {
        let $c = &$rx;
    };
    (send $c:ident $s:ident ($tx:expr) ($v:expr) $($x:tt)*) => {
        let $c = &$tx;
        let mut $s = ::core::option::Option::Some($v);
    };
    (default $c:ident $s:ident $($x:tt)*) => {};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_prio {
    ($sel:ident (priority)) => {
        $sel.priority();
    };
    ($sel:ident ()) => {};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_add {
    ($sel:ident $out:ident recv $b:ident $c:ident $s:ident $($x:tt)*) => {
        $sel.recv($crate::macros::AsReceiver::as_receiver(&$c), $out::$b);
    };
    ($sel:ident $out:ident send $b:ident $c:ident $s:ident $($x:tt)*) => {
        $sel.send($crate::macros::AsSender::as_sender(&$c), &mut $s, $out::$b);
    };
    ($sel:ident $out:ident default $b:ident $c:ident $s:ident $($x:tt)*) => {
        $sel.default(|| $out::$b(()));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_run {
    ((async) $sel:ident) => {
        $sel.select().await
    };
    ((blocking) $sel:ident) => {
        $sel.select_blocking()
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_arm_pat {
    ($out:ident recv $b:ident ($rx:expr) ($p:pat) ($body:expr)) => {
        $out::$b($p)
    };
    ($out:ident send $b:ident ($tx:expr) ($v:expr) ($p:pat) ($body:expr)) => {
        $out::$b($p)
    };
    ($out:ident default $b:ident ($body:expr)) => {
        $out::$b(())
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_arm_body {
    (recv ($rx:expr) ($p:pat) ($body:expr)) => {
        $body
    };
    (send ($tx:expr) ($v:expr) ($p:pat) ($body:expr)) => {
        $body
    };
    (default ($body:expr)) => {
        $body
    };
}
