//! LaTeX-OCR as a [`Task`] (docs/latex.md): the authors' noisy images
//! (`NoisyBinaryLaTeXDataset`, `latex_decompiler/dataset.py`), symbol boxes
//! (`latex_decompiler/localize_latex_characters.py`) and motif evaluation
//! (`pixel_art/analysis/evaluate_latex_motifs.py`), all in kavigupta/sparling-repro.

use sparling_data::latex::LatexOcr;
use sparling_data::{Dataset, LatexSample, Split, SymbolClass, Vocabulary};
use sparling_metrics::TrueMotif;

use super::{Batch, MotifProtocol, Task};
use crate::error::ModelError;

/// Pixels added on every side of a symbol's box before the motif errors are computed
/// (`compute_stamps(pad=2)` of the authors' `latex_decompiler/localize_latex_characters.py`,
/// with `pad = 2` from `pixel_art/analysis/latex_experiment.py`, kavigupta/sparling-repro): a
/// motif may fire on the glyph's edge or just beside it and still count. The metrics clip the
/// padded box at the image border, as numpy's slicing does.
pub const LATEX_FOOTPRINT_PAD: usize = 2;

/// LaTeX-OCR: `[1, 120, 360]` noisy binary images (1.0 = white background, 0.0 = ink or noise,
/// fed without inversion as the reference does), targets in the 28-token LaTeX-CFG vocabulary,
/// and one true motif per visible labelled token (20 classes, the fraction bar included).
pub struct LatexTask {
    domain: LatexOcr,
    vocabulary: Vocabulary,
}

impl LatexTask {
    /// A task over `domain`.
    pub fn new(domain: LatexOcr) -> Self {
        Self {
            domain,
            vocabulary: Vocabulary::latex_cfg(),
        }
    }

    /// The underlying generator.
    pub fn domain(&self) -> &LatexOcr {
        &self.domain
    }

    fn samples(
        &self,
        split: Split,
        start: u64,
        count: usize,
    ) -> Result<Vec<LatexSample>, ModelError> {
        Ok(Dataset::new(self.domain.clone(), split).batch(start, count)?)
    }
}

/// The true motifs of a sample: each visible labelled token's box (inclusive pixel bounds made
/// half-open), in token order, unpadded; [`MotifProtocol::footprint_pad`] adds the padding.
pub fn latex_motifs(sample: &LatexSample) -> Vec<TrueMotif> {
    sample
        .symbols
        .iter()
        .map(|b| TrueMotif::new(b.class.id(), b.ymin..b.ymax + 1, b.xmin..b.xmax + 1))
        .collect()
}

impl Task for LatexTask {
    fn input_shape(&self) -> [usize; 3] {
        let c = self.domain.config();
        [1, c.height, c.width]
    }

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError> {
        let samples = self.samples(split, start, count)?;
        let targets = samples.iter().map(LatexSample::token_ids).collect();
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
        Ok(self
            .samples(split, start, count)?
            .iter()
            .map(latex_motifs)
            .collect())
    }

    /// As the authors' `pixel_art/analysis/evaluate_latex_motifs.py` (kavigupta/sparling-repro):
    /// motif errors on the test set (seed −2; this domain's `MotifEval` split draws exactly the
    /// test samples), boxes padded by 2 pixels and consumed in token order, 20 classes,
    /// many-to-one confusion error (32 channels for 20 classes: several channels may stand for
    /// one symbol).
    fn motif_protocol(&self) -> MotifProtocol {
        MotifProtocol {
            split: Split::MotifEval,
            classes: SymbolClass::COUNT,
            footprint_pad: LATEX_FOOTPRINT_PAD,
            hungarian: false,
        }
    }
}
