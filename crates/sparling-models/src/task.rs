//! Tasks: a data domain seen as `(input array, target tokens)` pairs, so the training loop and
//! the evaluation code are shared by all domains. One file per domain: `task/digit_circle.rs`,
//! `task/audio.rs`, `task/latex.rs`, and
//! `task/single_digit.rs` (the direct baseline's data).

use sparling_data::latex::LatexOcr;
use sparling_data::{BinaryImage, DigitCircle, Split, Vocabulary};
use sparling_metrics::TrueMotif;

use crate::config::DomainConfig;
use crate::error::ModelError;

mod audio;
mod digit_circle;
mod latex;
mod single_digit;

pub use audio::AudioTask;
pub use digit_circle::DigitCircleTask;
pub use latex::{LATEX_FOOTPRINT_PAD, LatexTask, latex_motifs};
pub use single_digit::{SingleDigitTask, digit_classes};

/// A batch of examples as host arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Inputs, `[batch, channels, height, width]` row-major (`[batch, 1, frames, n_mels]` for
    /// audio).
    pub inputs: Vec<f32>,
    /// Shape of `inputs`.
    pub shape: [usize; 4],
    /// Target sequences `<s> … </s>` as vocabulary ids.
    pub targets: Vec<Vec<u32>>,
}

impl Batch {
    /// A batch of one-channel binary images (`[1, height, width]` each) and their targets.
    pub fn of_images<'a>(
        images: impl IntoIterator<Item = &'a BinaryImage>,
        [c, h, w]: [usize; 3],
        targets: Vec<Vec<u32>>,
    ) -> Self {
        let count = targets.len();
        let mut inputs = Vec::with_capacity(count * c * h * w);
        for image in images {
            image.extend_f32(&mut inputs);
        }
        Self {
            inputs,
            shape: [count, c, h, w],
            targets,
        }
    }
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

/// How motif errors are measured for a task (docs/metrics.md; the authors'
/// `pixel_art/analysis/evaluate_motifs.py`, `evaluate_latex_motifs.py` and
/// `audio_mnist_experiment.py`, kavigupta/sparling-repro).
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

impl DomainConfig {
    /// Build the task of this domain. The audio domain reads its recordings here (once per
    /// process and directory); LaTeX renders with the built-in TeX layout and rasteriser (the
    /// pdflatex backend, 0.2 s per formula, is for fidelity checks, not training).
    ///
    /// # Errors
    /// An invalid domain configuration, or missing or unreadable recordings.
    pub fn task(&self) -> Result<Box<dyn Task>, ModelError> {
        Ok(match self {
            DomainConfig::DigitCircle(c) => {
                Box::new(DigitCircleTask::new(DigitCircle::new(c.clone())?))
            }
            DomainConfig::Audio(c) => Box::new(AudioTask::new(c.sequence()?)),
            DomainConfig::Latex(c) => Box::new(LatexTask::new(LatexOcr::new(c.clone())?)),
        })
    }
}
