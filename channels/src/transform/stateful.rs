//! Transforms that remember: `take`, `take_while`, `partition_all`,
//! `dedupe` (core.async's transducers of the same names).

use std::fmt;

use super::{Emit, Step, Transform, TransformError};

/// The transform of [`take`].
#[derive(Debug, Clone)]
pub struct Take {
    left: usize,
}

/// Passes the first `n` values, then ends the channel (core.async
/// `(take n)`): the put that brings the `n`th value closes it, and puts
/// after that get their values back. `take(0)` drops the first value put
/// and closes the channel then, as core.async's does.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{take, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(4), take(2));
/// tx.send_blocking('a').unwrap();
/// tx.send_blocking('b').unwrap();
/// assert!(tx.is_closed());
/// assert!(tx.send_blocking('c').is_err());
/// assert_eq!(rx.recv_blocking(), Some('a'));
/// assert_eq!(rx.recv_blocking(), Some('b'));
/// assert_eq!(rx.recv_blocking(), None);
/// ```
pub fn take(n: usize) -> Take {
    Take { left: n }
}

impl<T> Transform<T> for Take {
    type Output = T;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, T>) -> Result<Step, TransformError> {
        if self.left > 0 {
            self.left -= 1;
            out.emit(input);
        }
        Ok(if self.left == 0 {
            Step::Done
        } else {
            Step::Continue
        })
    }
}

/// The transform of [`take_while`].
#[derive(Clone)]
pub struct TakeWhile<P> {
    pred: P,
}

impl<P> fmt::Debug for TakeWhile<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TakeWhile").finish_non_exhaustive()
    }
}

/// Passes values while `pred` holds; the first value for which it does
/// not is dropped and ends the channel (core.async `(take-while pred)`).
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{take_while, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(4), take_while(|x: &i32| *x >= 0));
/// tx.send_blocking(3).unwrap();
/// tx.send_blocking(-1).unwrap(); // accepted, dropped, and the channel closes
/// assert_eq!(rx.recv_blocking(), Some(3));
/// assert_eq!(rx.recv_blocking(), None);
/// ```
pub fn take_while<P>(pred: P) -> TakeWhile<P> {
    TakeWhile { pred }
}

impl<T, P: FnMut(&T) -> bool> Transform<T> for TakeWhile<P> {
    type Output = T;

    #[inline]
    fn step(&mut self, input: T, out: &mut Emit<'_, T>) -> Result<Step, TransformError> {
        if (self.pred)(&input) {
            out.emit(input);
            Ok(Step::Continue)
        } else {
            Ok(Step::Done)
        }
    }
}

/// The transform of [`partition_all`].
#[derive(Debug, Clone)]
pub struct PartitionAll<T> {
    n: usize,
    batch: Vec<T>,
}

/// Groups values into `Vec`s of `n`; the flush at close emits the last,
/// shorter group if there is one (core.async `(partition-all n)`).
///
/// # Panics
///
/// If `n` is 0.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{partition_all, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(4), partition_all(2));
/// for x in 1..=3 {
///     tx.send_blocking(x).unwrap();
/// }
/// tx.close();
/// assert_eq!(rx.recv_blocking(), Some(vec![1, 2]));
/// assert_eq!(rx.recv_blocking(), Some(vec![3]));
/// assert_eq!(rx.recv_blocking(), None);
/// ```
pub fn partition_all<T>(n: usize) -> PartitionAll<T> {
    assert!(
        n > 0,
        "parkway: partition_all(0) would never fill a group; use a size of at least 1"
    );
    PartitionAll {
        n,
        batch: Vec::new(),
    }
}

impl<T> Transform<T> for PartitionAll<T> {
    type Output = Vec<T>;

    fn step(&mut self, input: T, out: &mut Emit<'_, Vec<T>>) -> Result<Step, TransformError> {
        if self.batch.capacity() == 0 {
            self.batch.reserve_exact(self.n);
        }
        self.batch.push(input);
        if self.batch.len() >= self.n {
            out.emit(std::mem::take(&mut self.batch));
        }
        Ok(Step::Continue)
    }

    fn flush(&mut self, out: &mut Emit<'_, Vec<T>>) -> Result<(), TransformError> {
        if !self.batch.is_empty() {
            out.emit(std::mem::take(&mut self.batch));
        }
        Ok(())
    }
}

/// The transform of [`dedupe`].
#[derive(Debug, Clone)]
pub struct Dedupe<T> {
    last: Option<T>,
}

/// Drops a value equal to the one passed just before it (core.async
/// `(dedupe)`). Keeps a clone of the last value passed.
///
/// # Examples
///
/// ```
/// use parkway_channels::transform::{dedupe, Buffer};
///
/// let (tx, rx) = parkway_channels::with_transform(Buffer::Bounded(8), dedupe());
/// for x in [1, 1, 2, 2, 2, 1] {
///     tx.send_blocking(x).unwrap();
/// }
/// tx.close();
/// let got: Vec<i32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
/// assert_eq!(got, [1, 2, 1]);
/// ```
pub fn dedupe<T>() -> Dedupe<T> {
    Dedupe { last: None }
}

impl<T: PartialEq + Clone> Transform<T> for Dedupe<T> {
    type Output = T;

    fn step(&mut self, input: T, out: &mut Emit<'_, T>) -> Result<Step, TransformError> {
        if self.last.as_ref() != Some(&input) {
            self.last = Some(input.clone());
            out.emit(input);
        }
        Ok(Step::Continue)
    }
}
