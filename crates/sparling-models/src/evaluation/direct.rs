//! The direct motif evaluation (the paper's single-digit evaluation; the authors'
//! `pixel_art/analysis/single_digit_motif_results.py`, kavigupta/sparling-repro): the motif model
//! reads 32x32 images holding one digit each, and a channel is read as a classifier. Per image,
//! BatchNorm then `x - t` without the ReLU (so a digit whose activations fall below the threshold
//! still has a preferred channel), the maximum over space per channel, and the channel with the
//! largest maximum is the prediction. The error is many-to-one: each channel is credited with the
//! digit it predicts most often. A directly trained motif model (the baseline of the same
//! name) has no threshold: its motif logits are the scores.

use std::path::PathBuf;

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_data::{SingleDigit, Split};

use crate::config::RunConfig;
use crate::error::ModelError;
use crate::inference::{best_channel, for_each_batch, read_host};
use crate::model::{ModelConfig, SparlingModel};
use crate::task::{SingleDigitTask, digit_classes};

/// The paper's evaluation size.
pub const DIRECT_SAMPLES: usize = 10_000;

/// The result of [`direct_motif_error`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectReport {
    /// Single-digit images (test split, seed -2).
    pub samples: usize,
    /// Many-to-one error: `1 - Σ_channel max_digit counts[channel][digit] / samples`.
    pub error: f64,
    /// `counts[channel][digit]`: how often the channel was the prediction for the digit.
    pub counts: Vec<Vec<u64>>,
}

/// What `sparling eval` reports for a directly trained motif model
/// ([`crate::config::Objective::DirectDigits`]), which has only the direct evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectRunReport {
    /// Run directory.
    pub run: PathBuf,
    /// Checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// Training samples behind the model.
    pub samples: u64,
    /// The evaluation.
    pub direct: DirectReport,
}

/// The direct motif error of `model` (of the run `config`) on the first `samples` single-digit
/// test images.
///
/// # Errors
/// A model that cannot read 32x32 images (a sequence model, a patch that does not divide 32),
/// a model with neither SPARLING's threshold nor the identity (the scores without the ReLU are
/// defined only there), data or model errors.
pub fn direct_motif_error(
    config: &RunConfig,
    model: &SparlingModel,
    samples: usize,
    batch_size: usize,
    device: &Device,
) -> Result<DirectReport, ModelError> {
    let domain = SingleDigit::paper()?;
    let size = domain.config().size;
    let ModelConfig::Image(image) = &config.model else {
        return Err(ModelError::invalid(
            "model.kind",
            config.model.kind(),
            "the direct evaluation reads single-digit images with an image model",
        ));
    };
    let patch = image.motif.patch;
    if !size.is_multiple_of(patch) {
        return Err(ModelError::invalid(
            "model.motif.patch",
            patch,
            format!("must divide the {size}x{size} single-digit images of the direct evaluation"),
        ));
    }
    let channels = model.sparsity().channels();
    let mut counts = vec![vec![0u64; 10]; channels];
    let task = SingleDigitTask::new(domain);
    for_each_batch(
        &task,
        Split::Test,
        samples,
        batch_size,
        device,
        |_, targets, input| {
            let digits = digit_classes(&targets)?;
            let len = digits.len();
            let scores: Tensor<3> = model.motif_scores(input)?.flatten(2, 3);
            // [n, C, H*W] -> max over space -> [n, C]
            let maxima = read_host(scores.max_dim(2).reshape([len, channels]))?;
            for (&digit, row) in digits.iter().zip(maxima.chunks(channels)) {
                let best = best_channel(row);
                if let Some(cell) = usize::try_from(digit)
                    .ok()
                    .and_then(|d| counts[best].get_mut(d))
                {
                    *cell += 1;
                }
            }
            Ok(())
        },
    )?;
    let credited: u64 = counts
        .iter()
        .map(|row| row.iter().copied().max().unwrap_or(0))
        .sum();
    Ok(DirectReport {
        samples,
        error: 1.0 - credited as f64 / samples.max(1) as f64,
        counts,
    })
}
