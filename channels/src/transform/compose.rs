//! Composition: `a.then(b)`, core.async's `(comp a b)` of transducers.

use super::{Emit, Step, Transform, TransformError};

/// Two transforms in a row: the outputs of the first are the inputs of
/// the second. Built by [`Transform::then`].
///
/// * A step of the first runs, and each value it emits goes straight
///   through the second (no buffering in between).
/// * [`Step::Done`] from either ends the whole. Once the second is done,
///   further values from the first are dropped.
/// * An error from either ends this step with that error (values already
///   through are kept); the rest of the first's outputs for this input
///   are dropped, as an exception unwinds a core.async transducer stack.
///   If several parts fail in one call, the first failure is the one
///   returned.
/// * The flush flushes the first into the second, then flushes the
///   second, each exactly once, whatever came before.
#[derive(Debug, Clone)]
pub struct Then<A, B> {
    first: A,
    second: B,
    /// The second returned `Done`: it takes no more values.
    second_done: bool,
}

impl<A, B> Then<A, B> {
    pub(super) fn new(first: A, second: B) -> Self {
        Self {
            first,
            second,
            second_done: false,
        }
    }
}

/// Runs `feed` with an [`Emit`] that steps `second` with every value,
/// until it returns `Done` or fails. Returns `feed`'s result and how the
/// second ended up.
fn through<X, B, R>(
    second: &mut B,
    second_done: bool,
    out: &mut Emit<'_, B::Output>,
    feed: impl FnOnce(&mut Emit<'_, X>) -> R,
) -> (R, Result<Step, TransformError>)
where
    B: Transform<X>,
{
    let mut state = Ok(if second_done {
        Step::Done
    } else {
        Step::Continue
    });
    let r = {
        let mut sink = |x: X| {
            if let Ok(Step::Continue) = state {
                state = second.step(x, out);
            }
        };
        feed(&mut Emit::new(&mut sink))
    };
    (r, state)
}

impl<T, A, B> Transform<T> for Then<A, B>
where
    A: Transform<T>,
    B: Transform<A::Output>,
{
    type Output = B::Output;

    fn step(&mut self, input: T, out: &mut Emit<'_, B::Output>) -> Result<Step, TransformError> {
        let first = &mut self.first;
        let (first_res, second_res) = through(&mut self.second, self.second_done, out, |e| {
            first.step(input, e)
        });
        let second_step = second_res?;
        if second_step == Step::Done {
            self.second_done = true;
        }
        let first_step = first_res?;
        Ok(if first_step == Step::Done || second_step == Step::Done {
            Step::Done
        } else {
            Step::Continue
        })
    }

    fn flush(&mut self, out: &mut Emit<'_, B::Output>) -> Result<(), TransformError> {
        let first = &mut self.first;
        let (first_res, second_res) =
            through(&mut self.second, self.second_done, out, |e| first.flush(e));
        let last = self.second.flush(out);
        let _: Step = second_res?;
        first_res?;
        last
    }
}
