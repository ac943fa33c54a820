//! Single digits: DigitCircle's stamps one at a time in 32x32 images, each labelled with its
//! digit (the data of the direct baseline and of the direct motif evaluation).

use sparling_data::{Dataset, SingleDigit, Split, Vocabulary};
use sparling_metrics::TrueMotif;

use super::{Batch, MotifProtocol, Task};
use crate::error::ModelError;

/// Single digits: `[1, 32, 32]` binary images; the target is `<s> d </s>` in DigitCircle's
/// vocabulary, so the task also serves the sequence objective.
pub struct SingleDigitTask {
    domain: SingleDigit,
    vocabulary: Vocabulary,
}

impl SingleDigitTask {
    /// A task over `domain`.
    pub fn new(domain: SingleDigit) -> Self {
        Self {
            domain,
            vocabulary: Vocabulary::digit_circle(),
        }
    }
}

impl Task for SingleDigitTask {
    fn input_shape(&self) -> [usize; 3] {
        let size = self.domain.config().size;
        [1, size, size]
    }

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError> {
        let samples = Dataset::new(self.domain.clone(), split).batch(start, count)?;
        let targets = samples
            .iter()
            .map(|s| self.vocabulary.encode(&[s.digit.to_string()]))
            .collect::<Result<_, _>>()?;
        Ok(Batch::of_images(
            samples.iter().map(|s| &s.image),
            self.input_shape(),
            targets,
        ))
    }

    fn motifs(
        &self,
        split: Split,
        start: u64,
        count: usize,
    ) -> Result<Vec<Vec<TrueMotif>>, ModelError> {
        let samples = Dataset::new(self.domain.clone(), split).batch(start, count)?;
        Ok(samples
            .iter()
            .map(|s| {
                let m = &s.motif;
                vec![TrueMotif::new(
                    usize::from(m.digit),
                    m.rows.clone(),
                    m.cols.clone(),
                )]
            })
            .collect())
    }

    fn motif_protocol(&self) -> MotifProtocol {
        MotifProtocol {
            split: Split::MotifEval,
            classes: 10,
            footprint_pad: 0,
            hungarian: true,
        }
    }
}

/// The digit of each target `<s> d </s>` (DigitCircle's vocabulary) of a single-digit batch:
/// the class index of the direct objective.
///
/// # Errors
/// A target that is not one digit between `<s>` and `</s>`.
pub fn digit_classes(targets: &[Vec<u32>]) -> Result<Vec<i64>, ModelError> {
    let vocabulary = Vocabulary::digit_circle();
    targets
        .iter()
        .map(|t| {
            let digit = match t.as_slice() {
                [_, id, _] => vocabulary.name(*id).and_then(|n| n.parse::<u8>().ok()),
                _ => None,
            };
            digit.map(i64::from).ok_or_else(|| {
                ModelError::TensorData(format!(
                    "target {t:?} is not one digit between <s> and </s> (the direct-digits \
                     objective reads single-digit labels)"
                ))
            })
        })
        .collect()
}
