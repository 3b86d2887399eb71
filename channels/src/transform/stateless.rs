//! Transforms that look at one value at a time: `map`, `try_map`,
//! `filter`, `filter_map`, `flat_map` (core.async's `map`, `filter`,
//! `keep`, `mapcat`).

use std::error::Error;
use std::fmt;

use super::{Emit, Step, Transform, TransformError};

/// Writes `Name { .. }`: the closures inside have no useful `Debug`.
macro_rules! opaque_debug {
    ($($name:ident),*) => {$(
        impl<F> fmt::Debug for $name<F> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )*};
}

opaque_debug!(Map, TryMap, Filter, FilterMap, FlatMap);

/// The transform of [`map`].
#[derive(Clone)]
pub struct Map<F> {
    f: F,
}

/// Applies `f` to every value (core.async `(map f)`).
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{map, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(2), map(|s: &str| s.len()));
/// tx.send_blocking("four").unwrap();
/// assert_eq!(rx.recv_blocking(), Some(4));
/// ```
pub fn map<F>(f: F) -> Map<F> {
    Map { f }
}

impl<T, U, F: FnMut(T) -> U> Transform<T> for Map<F> {
    type Output = U;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, U>) -> Result<Step, TransformError> {
        out.emit((self.f)(input));
        Ok(Step::Continue)
    }
}

/// The transform of [`try_map`].
#[derive(Clone)]
pub struct TryMap<F> {
    f: F,
}

/// Applies `f` to every value; an `Err` goes to the channel's error
/// handler (which may put a value in its place) or is reported, and the
/// value is dropped.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{try_map, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform_and_handler(
///     Buffer::Bounded(4),
///     try_map(|s: &str| s.parse::<i32>()),
///     |_err| Some(-1), // a stand-in for every value that does not parse
/// );
/// tx.send_blocking("7").unwrap();
/// tx.send_blocking("seven").unwrap();
/// assert_eq!(rx.recv_blocking(), Some(7));
/// assert_eq!(rx.recv_blocking(), Some(-1));
/// ```
pub fn try_map<F>(f: F) -> TryMap<F> {
    TryMap { f }
}

impl<T, U, E, F> Transform<T> for TryMap<F>
where
    F: FnMut(T) -> Result<U, E>,
    E: Into<Box<dyn Error + Send + Sync + 'static>>,
{
    type Output = U;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, U>) -> Result<Step, TransformError> {
        out.emit((self.f)(input).map_err(TransformError::new)?);
        Ok(Step::Continue)
    }
}

/// The transform of [`filter`].
#[derive(Clone)]
pub struct Filter<P> {
    pred: P,
}

/// Keeps the values for which `pred` holds (core.async `(filter pred)`).
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{filter, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(4), filter(|x: &u8| x % 2 == 0));
/// for x in 1..=4 {
///     tx.send_blocking(x).unwrap();
/// }
/// assert_eq!(rx.recv_blocking(), Some(2));
/// assert_eq!(rx.recv_blocking(), Some(4));
/// ```
pub fn filter<P>(pred: P) -> Filter<P> {
    Filter { pred }
}

impl<T, P: FnMut(&T) -> bool> Transform<T> for Filter<P> {
    type Output = T;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, T>) -> Result<Step, TransformError> {
        if (self.pred)(&input) {
            out.emit(input);
        }
        Ok(Step::Continue)
    }
}

/// The transform of [`filter_map`].
#[derive(Clone)]
pub struct FilterMap<F> {
    f: F,
}

/// Applies `f` and keeps the `Some`s (core.async `(keep f)`).
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{filter_map, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(
///     Buffer::Bounded(4),
///     filter_map(|s: &str| s.parse::<u8>().ok()),
/// );
/// tx.send_blocking("x").unwrap();
/// tx.send_blocking("9").unwrap();
/// assert_eq!(rx.recv_blocking(), Some(9));
/// ```
pub fn filter_map<F>(f: F) -> FilterMap<F> {
    FilterMap { f }
}

impl<T, U, F: FnMut(T) -> Option<U>> Transform<T> for FilterMap<F> {
    type Output = U;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, U>) -> Result<Step, TransformError> {
        if let Some(v) = (self.f)(input) {
            out.emit(v);
        }
        Ok(Step::Continue)
    }
}

/// The transform of [`flat_map`].
#[derive(Clone)]
pub struct FlatMap<F> {
    f: F,
}

/// Applies `f` and emits every item of what it returns, in order
/// (core.async `(mapcat f)`). All of one input's items join the buffer
/// together, even past its capacity.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{flat_map, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(
///     Buffer::Bounded(1),
///     flat_map(|s: &'static str| s.chars()),
/// );
/// tx.send_blocking("abc").unwrap(); // three values in a buffer of one
/// let got: String = std::iter::from_fn(|| rx.try_recv().ok()).collect();
/// assert_eq!(got, "abc");
/// ```
pub fn flat_map<F>(f: F) -> FlatMap<F> {
    FlatMap { f }
}

impl<T, I, F> Transform<T> for FlatMap<F>
where
    F: FnMut(T) -> I,
    I: IntoIterator,
{
    type Output = I::Item;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, I::Item>) -> Result<Step, TransformError> {
        out.emit_all((self.f)(input));
        Ok(Step::Continue)
    }
}
