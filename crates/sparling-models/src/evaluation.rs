//! Evaluation of a trained run: motif errors (FPE, FNE, CE) on the motif-evaluation split and
//! end-to-end errors on the test split, at a chosen density.
//!
//! The task's [`crate::task::MotifProtocol`] decides the details: DigitCircle uses the Hungarian
//! (one-to-one) confusion error; the audio domain the many-to-one one, with each digit's frame
//! span as its footprint, and its motif-eval and test splits draw from the held-out speaker
//! (the authors' `pixel_art/analysis/audio_mnist_experiment.py`, kavigupta/sparling-repro;
//! docs/audio.md).

mod direct;

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_data::Split;
use sparling_metrics::{ConfusionMatrix, SequenceErrors};

use crate::checkpoint::OpenedCheckpoint;
use crate::config::{DomainConfig, Objective, RunConfig};
use crate::error::ModelError;
use crate::inference::{for_each_batch, motif_maps_host, predict, read_host};
use crate::model::SparlingModel;
use crate::task::Task;
use crate::validate::{is_one, one};

pub use direct::{DIRECT_SAMPLES, DirectReport, DirectRunReport, direct_motif_error};

/// Evaluation sizes.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Images for the motif errors (the paper uses 10,000).
    pub motif_samples: usize,
    /// Test samples for the end-to-end errors (the paper uses 10,000).
    pub test_samples: usize,
    /// Decoding length of the end-to-end evaluation.
    pub max_length: usize,
    /// Batch size (memory only).
    pub batch_size: usize,
}

/// Batch size of an evaluation unless a caller chooses (memory only; results do not depend on
/// it).
pub const EVAL_BATCH_SIZE: usize = 50;

impl EvalOptions {
    /// `samples` motif-eval images and `samples` test samples, decoded to the run's validation
    /// length, in batches of [`EVAL_BATCH_SIZE`].
    pub fn new(config: &RunConfig, samples: usize) -> Self {
        Self {
            motif_samples: samples,
            test_samples: samples,
            max_length: config.training.val_max_length,
            batch_size: EVAL_BATCH_SIZE,
        }
    }
}

/// What `sparling eval` reports and writes as JSON. Errors are fractions in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Run directory.
    pub run: PathBuf,
    /// Checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// Density the model was trained at, per position of its motif maps.
    pub density: f64,
    /// Stride of the motif maps in input pixels (1: full resolution; `s` for one map cell per
    /// `s x s` pixels, whose per-pixel density is [`Self::density_per_pixel`]).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub map_stride: usize,
    /// Fraction of nonzero motif activations measured on the motif-evaluation images, per
    /// input pixel (coarser maps' cells are placed at their centre pixels, [`motif_maps_host`]).
    pub measured_density: f64,
    /// The same on the first validation examples (at most [`VAL_DENSITY_SAMPLES`]), which
    /// come from the training distribution (for audio: the training speakers). Next to
    /// `density` it tells whether the evaluation-mode statistics (BatchNorm's running
    /// statistics, the running thresholds) match training; next to `measured_density`, how
    /// far the evaluation data moves the activations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_density_val: Option<f64>,
    /// Training samples behind the model.
    pub samples: u64,
    /// Motif-evaluation images.
    pub motif_samples: usize,
    /// False-positive error.
    pub fpe: f64,
    /// False-negative error.
    pub fne: f64,
    /// Confusion error.
    pub ce: f64,
    /// `hungarian` (one-to-one, DigitCircle) or `many-to-one` (LaTeX, audio).
    pub ce_method: String,
    /// Test samples.
    pub test_samples: usize,
    /// End-to-end exact-match error.
    pub e2e_exact_error: f64,
    /// End-to-end normalised edit-distance error (the paper's E2EE).
    pub e2e_edit_error: f64,
    /// Confusion counts: rows are the true classes then "none", columns the channels then
    /// "none".
    pub confusion: Vec<Vec<u64>>,
    /// Audio: the held-out voices the motif-eval and test clips were drawn from (the test
    /// voice's name, or the configured test speakers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<String>,
    /// The direct single-digit motif evaluation, when asked for ([`direct_motif_error`];
    /// DigitCircle with SPARLING's threshold only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<DirectReport>,
}

impl EvalReport {
    /// The trained density per input pixel: `density / map_stride²`, the same number of
    /// activations per image spread over the pixel grid (comparable with the paper's
    /// full-resolution densities and with `measured_density`).
    pub fn density_per_pixel(&self) -> f64 {
        self.density / (self.map_stride * self.map_stride) as f64
    }
}

/// Evaluate the checkpoint `opened` (from [`open_checkpoint`]) of the run `config`.
///
/// # Errors
/// Data or model errors.
pub fn evaluate(
    config: &RunConfig,
    opened: &OpenedCheckpoint,
    run_dir: &Path,
    options: &EvalOptions,
    device: &Device,
) -> Result<EvalReport, ModelError> {
    if config.training.objective == Objective::DirectDigits {
        return Err(ModelError::invalid(
            "training.objective",
            "direct-digits",
            "a directly trained motif model has no sparsity and no trained downstream model; \
             it is evaluated on single digits only (direct_motif_error, `sparling eval`)",
        ));
    }
    let task = config.domain.task()?;
    let selected = &opened.selected;
    let model = opened.model.clone().valid();
    let (confusion, measured_density) = motif_confusion(
        &model,
        task.as_ref(),
        options.motif_samples,
        options.batch_size,
        device,
    )?;
    let measured_density_val = nonzero_fraction(
        &model,
        task.as_ref(),
        Split::Val,
        options.motif_samples.min(VAL_DENSITY_SAMPLES),
        options.batch_size,
        device,
    )?;
    let protocol = task.motif_protocol();
    let errors = if protocol.hungarian {
        confusion.errors()
    } else {
        confusion.errors_many_to_one()
    };
    let pairs = predict(
        &model,
        task.as_ref(),
        Split::Test,
        options.test_samples,
        options.batch_size,
        options.max_length,
        device,
    )?;
    let mut sequences = SequenceErrors::new();
    for (p, t) in &pairs {
        sequences.add(p, t);
    }
    let metric = |r: Result<f64, sparling_metrics::MetricsError>| {
        r.map_err(|e| ModelError::TensorData(e.to_string()))
    };
    Ok(EvalReport {
        run: run_dir.to_path_buf(),
        checkpoint: selected.dir.clone(),
        density: selected.density,
        map_stride: model.map_stride(),
        measured_density,
        measured_density_val: Some(measured_density_val),
        samples: selected.samples,
        motif_samples: options.motif_samples,
        fpe: errors.fpe,
        fne: errors.fne,
        ce: errors.ce,
        ce_method: if protocol.hungarian {
            "hungarian"
        } else {
            "many-to-one"
        }
        .into(),
        test_samples: options.test_samples,
        e2e_exact_error: metric(sequences.exact_match_error())?,
        e2e_edit_error: metric(sequences.edit_distance_error())?,
        confusion: confusion_rows(&confusion),
        held_out: match &config.domain {
            DomainConfig::Audio(a) => Some(match &a.test_voice {
                Some(voice) => voice.name.clone(),
                None => a.audio.test_speakers.join(","),
            }),
            _ => None,
        },
        direct: None,
    })
}

/// Validation examples the evaluation measures the density on.
pub const VAL_DENSITY_SAMPLES: usize = 1_000;

/// Fraction of nonzero motif activations over the first `count` examples of `split`.
///
/// # Errors
/// Data or model errors.
pub fn nonzero_fraction(
    model: &SparlingModel,
    task: &dyn Task,
    split: Split,
    count: usize,
    batch_size: usize,
    device: &Device,
) -> Result<f64, ModelError> {
    // Counted on the map cells: placing them on the pixel grid adds only zeros.
    let stride = model.map_stride();
    let mut density = NonzeroCount::default();
    for_each_batch(task, split, count, batch_size, device, |_, _, inputs| {
        density.add(&read_host(model.motif_maps(inputs)?)?, stride * stride);
        Ok(())
    })?;
    Ok(density.fraction())
}

/// Nonzero values over positions, per input pixel.
#[derive(Default)]
struct NonzeroCount {
    nonzero: usize,
    pixels: usize,
}

impl NonzeroCount {
    /// `values`, each standing for `pixels_per_value` input pixels.
    fn add(&mut self, values: &[f32], pixels_per_value: usize) {
        self.nonzero += values.iter().filter(|v| **v != 0.0).count();
        self.pixels += values.len() * pixels_per_value;
    }

    fn fraction(&self) -> f64 {
        self.nonzero as f64 / self.pixels.max(1) as f64
    }
}

/// Motif confusion counts over the first `count` images of the task's motif split, and the
/// measured density of the motif maps.
///
/// # Errors
/// Data or model errors.
pub fn motif_confusion(
    model: &SparlingModel,
    task: &dyn Task,
    count: usize,
    batch_size: usize,
    device: &Device,
) -> Result<(ConfusionMatrix, f64), ModelError> {
    let protocol = task.motif_protocol();
    let channels = model.sparsity().channels();
    let mut confusion = ConfusionMatrix::new(protocol.classes, channels);
    let mut density = NonzeroCount::default();
    let split = protocol.split;
    for_each_batch(
        task,
        split,
        count,
        batch_size,
        device,
        |start, targets, inputs| {
            let truths = task.motifs(split, start, targets.len())?;
            let (maps, shape) = motif_maps_host(model, inputs)?;
            density.add(&maps, 1);
            confusion
                .add_batch(&maps, shape, &truths, protocol.footprint_pad)
                .map_err(|e| ModelError::TensorData(e.to_string()))
        },
    )?;
    Ok((confusion, density.fraction()))
}

/// The confusion counts as rows (true classes then none) of columns (channels then none).
pub fn confusion_rows(confusion: &ConfusionMatrix) -> Vec<Vec<u64>> {
    let classes: Vec<Option<usize>> = (0..confusion.num_classes())
        .map(Some)
        .chain([None])
        .collect();
    let channels: Vec<Option<usize>> = (0..confusion.num_channels())
        .map(Some)
        .chain([None])
        .collect();
    classes
        .iter()
        .map(|t| channels.iter().map(|c| confusion.get(*t, *c)).collect())
        .collect()
}
