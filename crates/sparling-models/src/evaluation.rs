//! Evaluation of a trained run: motif errors (FPE, FNE, CE) on the motif-evaluation split and
//! end-to-end errors on the test split, at a chosen density.
//!
//! The task's [`crate::task::MotifProtocol`] decides the details: DigitCircle uses the Hungarian
//! (one-to-one) confusion error; the audio domain the many-to-one one, with each digit's frame
//! span as its footprint, and its motif-eval and test splits draw from the held-out speaker
//! (latex_audio.md B4).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_data::Split;
use sparling_metrics::{ConfusionMatrix, SequenceErrors};

use crate::checkpoint::{RunDir, StopReason, load_model, load_state};
use crate::config::RunConfig;
use crate::error::ModelError;
use crate::inference::{motif_maps_host, predict};
use crate::model::SparlingModel;
use crate::task::Task;

/// A checkpoint chosen for evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedCheckpoint {
    /// Its directory.
    pub dir: PathBuf,
    /// The density it was trained at.
    pub density: f64,
    /// Training samples seen when it was saved.
    pub samples: u64,
}

/// All models of a run that are "the last model trained at density d", highest density first:
/// every density snapshot, plus the latest checkpoint unless the run stopped because its last
/// reduction went below the minimum (that model was never trained at the new density).
///
/// # Errors
/// Unreadable run directory.
pub fn trained_levels(run: &RunDir) -> Result<Vec<SelectedCheckpoint>, ModelError> {
    let mut levels: Vec<SelectedCheckpoint> = run
        .density_snapshots()?
        .into_iter()
        .map(|(record, dir)| SelectedCheckpoint {
            dir,
            density: record.density,
            samples: record.samples,
        })
        .collect();
    if let Some(dir) = run.latest_checkpoint()? {
        let state = load_state(&dir)?;
        let density = sparling_core::DensitySchedule::density(&state.schedule);
        let trained_since = state
            .history
            .last()
            .is_none_or(|r| state.samples > r.samples || r.next_density == r.density);
        if state.stopped != Some(StopReason::DensityReached)
            && trained_since
            && !levels.iter().any(|l| same_density(l.density, density))
        {
            levels.push(SelectedCheckpoint {
                dir,
                density,
                samples: state.samples,
            });
        }
    }
    levels.sort_by(|a, b| b.density.total_cmp(&a.density));
    Ok(levels)
}

fn same_density(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.01 * b.abs()
}

/// The checkpoint to evaluate: the one trained at `density` (within 1 %, the reference's
/// tolerance), or by default the one at the lowest density reached.
///
/// # Errors
/// [`ModelError::NoCheckpoint`], or an [`ModelError::InvalidConfig`] listing the available
/// densities when none matches.
pub fn select_checkpoint(
    run: &RunDir,
    density: Option<f64>,
) -> Result<SelectedCheckpoint, ModelError> {
    let levels = trained_levels(run)?;
    let Some(lowest) = levels.last() else {
        return Err(ModelError::NoCheckpoint(run.root().to_path_buf()));
    };
    match density {
        None => Ok(lowest.clone()),
        Some(d) => levels
            .iter()
            .find(|l| same_density(l.density, d))
            .cloned()
            .ok_or_else(|| {
                let available: Vec<String> = levels
                    .iter()
                    .map(|l| format!("{:.6e}", l.density))
                    .collect();
                ModelError::invalid(
                    "--density",
                    d,
                    format!(
                        "no model was trained at it; available: {}",
                        available.join(", ")
                    ),
                )
            }),
    }
}

/// A checkpoint and its model, read together.
#[derive(Clone, Debug)]
pub struct OpenedCheckpoint {
    /// Which checkpoint.
    pub selected: SelectedCheckpoint,
    /// Its model (training mode; call `.valid()` for inference).
    pub model: SparlingModel,
}

/// How often [`open_checkpoint`] chooses again when the trainer replaced its choice.
const OPEN_ATTEMPTS: usize = 5;

/// [`select_checkpoint`] and load its model, consistently even while the run is training.
///
/// A running trainer replaces its latest checkpoint (and the snapshot of its current density)
/// at every validation. The model file is read whole, and when the chosen directory was
/// replaced while being read, the choice is made again, so a reader gets one complete
/// checkpoint or a clean error, never a mix of two saves.
///
/// # Errors
/// As [`select_checkpoint`] and [`load_model`]; [`ModelError::CheckpointChurn`] when every
/// attempt was overtaken by the trainer.
pub fn open_checkpoint(
    run: &RunDir,
    density: Option<f64>,
    config: &RunConfig,
    device: &Device,
) -> Result<OpenedCheckpoint, ModelError> {
    for _ in 0..OPEN_ATTEMPTS {
        let before = run.latest_name();
        match open_once(run, density, config, device) {
            Ok(Some(opened)) => return Ok(opened),
            Ok(None) => {}
            // A failure on a run that did not move is the answer; otherwise look again.
            Err(e) if run.latest_name() == before => return Err(e),
            Err(_) => {}
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(ModelError::CheckpointChurn(
        run.root().to_path_buf(),
        OPEN_ATTEMPTS,
    ))
}

/// One attempt; `None` when the checkpoint was replaced while it was read.
fn open_once(
    run: &RunDir,
    density: Option<f64>,
    config: &RunConfig,
    device: &Device,
) -> Result<Option<OpenedCheckpoint>, ModelError> {
    let selected = select_checkpoint(run, density)?;
    let model = match load_model(config, &selected.dir, device) {
        Ok(model) => model,
        Err(_) if !selected.dir.is_dir() => return Ok(None),
        Err(e) => return Err(e),
    };
    if select_checkpoint(run, density)? != selected {
        return Ok(None);
    }
    Ok(Some(OpenedCheckpoint { selected, model }))
}

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

/// What `sparling eval` reports and writes as JSON. Errors are fractions in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Run directory.
    pub run: PathBuf,
    /// Checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// Density the model was trained at.
    pub density: f64,
    /// Fraction of nonzero motif activations measured on the motif-evaluation images.
    pub measured_density: f64,
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
        measured_density,
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
    })
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
    let channels = model.sparsity().sparsity.channels();
    let mut confusion = ConfusionMatrix::new(protocol.classes, channels);
    let (mut nonzero, mut total) = (0usize, 0usize);
    let mut start = 0;
    while start < count {
        let len = batch_size.min(count - start);
        let batch = task.batch(protocol.split, start as u64, len)?;
        let truths = task.motifs(protocol.split, start as u64, len)?;
        let inputs = Tensor::from_data(TensorData::new(batch.inputs, batch.shape), device);
        let (maps, shape) = motif_maps_host(model, inputs)?;
        nonzero += maps.iter().filter(|v| **v != 0.0).count();
        total += maps.len();
        confusion
            .add_batch(&maps, shape, &truths, protocol.footprint_pad)
            .map_err(|e| ModelError::TensorData(e.to_string()))?;
        start += len;
    }
    Ok((confusion, nonzero as f64 / total.max(1) as f64))
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
