//! Which checkpoint of a run to read: the last model trained at each density level, chosen
//! by density, and read consistently while a trainer may still be replacing it.

use std::path::PathBuf;

use burn::prelude::*;

use super::{RunDir, StopReason, load_model, load_state};
use crate::config::RunConfig;
use crate::error::ModelError;
use crate::model::SparlingModel;

/// A checkpoint chosen for evaluation (or for a fork).
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
