//! The DigitCircle task: binary images in, digit tokens out.

use rayon::prelude::*;
use sparling_data::{Dataset, DigitCircle, Split, Vocabulary};
use sparling_metrics::TrueMotif;

use super::{Batch, MotifProtocol, Task};
use crate::error::ModelError;

/// DigitCircle: `[1, 100, 100]` binary images, 12-token vocabulary.
pub struct DigitCircleTask {
    domain: DigitCircle,
    vocabulary: Vocabulary,
}

impl DigitCircleTask {
    /// A task over `domain`.
    pub fn new(domain: DigitCircle) -> Self {
        Self {
            domain,
            vocabulary: Vocabulary::digit_circle(),
        }
    }

    /// The underlying generator.
    pub fn domain(&self) -> &DigitCircle {
        &self.domain
    }
}

impl Task for DigitCircleTask {
    fn input_shape(&self) -> [usize; 3] {
        let size = self.domain.config().size;
        [1, size, size]
    }

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError> {
        let dataset = Dataset::new(self.domain.clone(), split);
        let samples = dataset.batch(start, count)?;
        let targets = samples.par_iter().map(|s| s.token_ids()).collect();
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
        let dataset = Dataset::new(self.domain.clone(), split);
        Ok(dataset
            .batch(start, count)?
            .iter()
            .map(|s| {
                s.motifs
                    .iter()
                    .map(|m| TrueMotif::new(usize::from(m.digit), m.rows.clone(), m.cols.clone()))
                    .collect()
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
