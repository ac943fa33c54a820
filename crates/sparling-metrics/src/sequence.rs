//! End-to-end errors on output sequences (the paper's E2EE; `accuracy_at_checkpoint` in the
//! authors' `latex_decompiler/evaluate.py`, kavigupta/sparling-repro; docs/metrics.md).
//!
//! Sequences are compared as token slices (ids or names, anything `PartialEq`), after
//! stripping `<s>` and cutting at `</s>`.

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;

/// Levenshtein distance (unit cost insert / delete / substitute), as `editdistance.eval`.
#[must_use]
pub fn levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    // One row of the DP table over `b`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(x != y);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// `Lev(pred, truth) / max(|pred|, |truth|)`, in `[0, 1]`; 0 when both are empty.
#[must_use]
pub fn normalized_edit_distance<T: PartialEq>(pred: &[T], truth: &[T]) -> f64 {
    let longest = pred.len().max(truth.len());
    if longest == 0 {
        return 0.0;
    }
    levenshtein(pred, truth) as f64 / longest as f64
}

/// Streaming accumulator of the end-to-end errors over a test set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SequenceErrors {
    count: u64,
    mismatches: u64,
    edit_sum: f64,
}

impl SequenceErrors {
    /// An empty accumulator.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one (prediction, target) pair.
    pub fn add<T: PartialEq>(&mut self, pred: &[T], truth: &[T]) {
        self.count += 1;
        self.mismatches += u64::from(pred != truth);
        self.edit_sum += normalized_edit_distance(pred, truth);
    }

    /// Number of pairs seen.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Fraction of sequences that are not exactly right (1 − exact-match accuracy).
    ///
    /// # Errors
    /// [`MetricsError::Empty`] before any pair was added.
    pub fn exact_match_error(&self) -> Result<f64, MetricsError> {
        self.mean(self.mismatches as f64)
    }

    /// Mean normalized edit distance: the paper's E2EE (as a fraction; ×100 for %).
    ///
    /// # Errors
    /// [`MetricsError::Empty`] before any pair was added.
    pub fn edit_distance_error(&self) -> Result<f64, MetricsError> {
        self.mean(self.edit_sum)
    }

    fn mean(&self, total: f64) -> Result<f64, MetricsError> {
        if self.count == 0 {
            Err(MetricsError::Empty("no sequences were added"))
        } else {
            Ok(total / self.count as f64)
        }
    }
}

/// Exact-match error of paired lists.
///
/// # Errors
/// [`MetricsError::LengthMismatch`] or [`MetricsError::Empty`].
pub fn exact_match_error<T: PartialEq, P: AsRef<[T]>, Q: AsRef<[T]>>(
    predictions: &[P],
    targets: &[Q],
) -> Result<f64, MetricsError> {
    accumulate(predictions, targets)?.exact_match_error()
}

/// Mean normalized edit distance (E2EE) of paired lists.
///
/// # Errors
/// [`MetricsError::LengthMismatch`] or [`MetricsError::Empty`].
pub fn edit_distance_error<T: PartialEq, P: AsRef<[T]>, Q: AsRef<[T]>>(
    predictions: &[P],
    targets: &[Q],
) -> Result<f64, MetricsError> {
    accumulate(predictions, targets)?.edit_distance_error()
}

fn accumulate<T: PartialEq, P: AsRef<[T]>, Q: AsRef<[T]>>(
    predictions: &[P],
    targets: &[Q],
) -> Result<SequenceErrors, MetricsError> {
    if predictions.len() != targets.len() {
        return Err(MetricsError::LengthMismatch {
            predictions: predictions.len(),
            targets: targets.len(),
        });
    }
    let mut acc = SequenceErrors::new();
    for (p, t) in predictions.iter().zip(targets) {
        acc.add(p.as_ref(), t.as_ref());
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_known_values() {
        assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
        assert_eq!(levenshtein(b"", b"abc"), 3);
        assert_eq!(levenshtein(b"abc", b""), 3);
        assert_eq!(levenshtein(b"flaw", b"lawn"), 2);
        assert_eq!(levenshtein(&[0, 7, 2], &[0, 7, 2]), 0);
    }

    #[test]
    fn normalized_errors() {
        assert_eq!(normalized_edit_distance::<u8>(&[], &[]), 0.0);
        assert_eq!(normalized_edit_distance(&[1, 2, 3], &[1, 2]), 1.0 / 3.0);
        assert_eq!(normalized_edit_distance(&[9], &[1, 2, 3, 4]), 1.0);
        let preds = [vec![1, 2, 3], vec![4, 5], vec![]];
        let truth = [vec![1, 2, 3], vec![4, 6], vec![]];
        assert_eq!(exact_match_error(&preds, &truth), Ok(1.0 / 3.0));
        assert_eq!(edit_distance_error(&preds, &truth), Ok(0.5 / 3.0));
        assert!(exact_match_error(&preds, &truth[..2]).is_err());
        assert!(edit_distance_error::<u8, Vec<u8>, Vec<u8>>(&[], &[]).is_err());
    }
}
