//! Tasks: a data domain seen as `(input array, target tokens)` pairs, so the training loop and
//! the evaluation code are shared by all domains.

use rayon::prelude::*;
use sparling_data::{Dataset, DigitCircle, Split, Vocabulary};
use sparling_metrics::TrueMotif;

use crate::config::DomainConfig;
use crate::error::ModelError;

/// A batch of examples as host arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Inputs, `[batch, channels, height, width]` row-major.
    pub inputs: Vec<f32>,
    /// Shape of `inputs`.
    pub shape: [usize; 4],
    /// Target sequences `<s> … </s>` as vocabulary ids.
    pub targets: Vec<Vec<u32>>,
}

/// A domain as the training loop sees it.
pub trait Task: Send + Sync {
    /// Input shape of one example, `[channels, height, width]`.
    fn input_shape(&self) -> [usize; 3];

    /// The decoder vocabulary.
    fn vocabulary(&self) -> &Vocabulary;

    /// Examples `start .. start + count` of `split`, generated in parallel; the result does not
    /// depend on the number of threads.
    ///
    /// # Errors
    /// An index the split cannot address.
    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError>;

    /// Ground-truth motifs of examples `start .. start + count` of `split`, in placement order.
    ///
    /// # Errors
    /// An index the split cannot address.
    fn motifs(
        &self,
        split: Split,
        start: u64,
        count: usize,
    ) -> Result<Vec<Vec<TrueMotif>>, ModelError>;

    /// How the task's motif errors are computed.
    fn motif_protocol(&self) -> MotifProtocol;
}

/// How motif errors are measured for a task (digit_circle.md §4.2, latex_audio.md A7/B4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MotifProtocol {
    /// The split the motif errors are measured on.
    pub split: Split,
    /// Number of true motif classes.
    pub classes: usize,
    /// Footprints are padded by this many pixels.
    pub footprint_pad: usize,
    /// Confusion error by one-to-one (Hungarian) channel assignment; many-to-one otherwise.
    pub hungarian: bool,
}

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
        let [c, h, w] = self.input_shape();
        let mut inputs = Vec::with_capacity(count * c * h * w);
        for s in &samples {
            s.image.extend_f32(&mut inputs);
        }
        let targets = samples.par_iter().map(|s| s.token_ids()).collect();
        Ok(Batch {
            inputs,
            shape: [count, c, h, w],
            targets,
        })
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

impl DomainConfig {
    /// Build the task of this domain.
    ///
    /// # Errors
    /// An invalid domain configuration.
    pub fn task(&self) -> Result<Box<dyn Task>, ModelError> {
        Ok(match self {
            DomainConfig::DigitCircle(c) => {
                Box::new(DigitCircleTask::new(DigitCircle::new(c.clone())?))
            }
        })
    }
}
