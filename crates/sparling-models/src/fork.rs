//! Forking a run: a new run that starts from the weights and thresholds of another run's saved
//! model (`sparling train ... --init-from RUN_DIR[@DENSITY]`).
//!
//! The new run keeps its own configuration, data stream, optimizer and output directory; only
//! the model (weights, BatchNorm statistics, sparsity thresholds and density) and the density
//! schedule's accuracy target come from the source. An experiment on the low-density phase then
//! starts from, say, the 1e-3 snapshot in minutes instead of retraining from scratch.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::checkpoint::select_checkpoint;
use crate::checkpoint::{RunDir, TrainerState, ValidationRecord, read_json};
use crate::config::RunConfig;
use crate::error::ModelError;
use sparling_core::Method;

/// Which saved model a new run starts from: `RUN_DIR` (the model `sparling eval --run RUN_DIR`
/// would evaluate: the one trained at the lowest density reached) or `RUN_DIR@DENSITY` (the last
/// model trained at that density, within 1 %).
#[derive(Clone, Debug, PartialEq)]
pub struct InitFrom {
    /// The source run directory.
    pub run: PathBuf,
    /// The density level to start from; `None`: the lowest one trained.
    pub density: Option<f64>,
}

impl FromStr for InitFrom {
    type Err = String;

    /// `DIR` or `DIR@DENSITY`; the text after the last `@` must be a density in `(0, 1]`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (run, density) = match text.rsplit_once('@') {
            None => (text, None),
            Some((run, d)) => match d.parse::<f64>() {
                Ok(v) if v > 0.0 && v <= 1.0 => (run, Some(v)),
                _ => {
                    return Err(format!(
                        "`{d}` after `@` in `{text}` is not a density in (0, 1]; \
                         expected RUN_DIR or RUN_DIR@DENSITY, e.g. runs/dc@1.19e-3"
                    ));
                }
            },
        };
        if run.is_empty() {
            return Err(format!("`{text}` names no run directory"));
        }
        Ok(Self {
            run: PathBuf::from(run),
            density,
        })
    }
}

impl fmt::Display for InitFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.run.display())?;
        if let Some(d) = self.density {
            write!(f, "@{d:e}")?;
        }
        Ok(())
    }
}

/// Where a forked run came from; kept in its trainer state (and so in every checkpoint).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkOrigin {
    /// The source run directory, as given.
    pub run: PathBuf,
    /// The checkpoint directory the model was read from.
    pub checkpoint: PathBuf,
    /// Density of that model.
    pub density: f64,
    /// Training samples behind that model in the source run.
    pub samples: u64,
    /// The source schedule's accuracy target there, which the new schedule starts from.
    pub schedule_threshold: Option<f64>,
}

/// Resolve `init` for a new run of `config`: the checkpoint to load and its origin.
///
/// # Errors
/// [`ModelError::NoCheckpoint`] if the source holds no run or no saved model,
/// [`ModelError::InvalidConfig`] for a density that was not trained there (listing those that
/// were), [`ModelError::ForkMismatch`] if the source model has another architecture.
pub fn resolve(init: &InitFrom, config: &RunConfig) -> Result<ForkOrigin, ModelError> {
    let source = RunDir::new(&init.run);
    let Some(source_config) = source.read_config()? else {
        return Err(ModelError::NoCheckpoint(init.run.clone()));
    };
    check_same_architecture(&source_config, config, &init.run)?;
    let selected = select_checkpoint(&source, init.density)?;
    Ok(ForkOrigin {
        run: init.run.clone(),
        schedule_threshold: schedule_threshold(&selected.dir)?,
        checkpoint: selected.dir,
        density: selected.density,
        samples: selected.samples,
    })
}

/// The accuracy target stored with a checkpoint: a density snapshot keeps the validation
/// record that left its level, a step checkpoint the whole schedule.
fn schedule_threshold(checkpoint: &Path) -> Result<Option<f64>, ModelError> {
    let state = checkpoint.join("state.json");
    if let Ok(record) = read_json::<ValidationRecord>(&state) {
        return Ok(record.schedule_threshold);
    }
    let trainer: TrainerState = read_json(&state)?;
    Ok(trainer.schedule.threshold())
}

/// The models must agree in everything but the starting density (which the fork takes from
/// the checkpoint), except that the fork may replace the bottleneck by `identity` (the
/// "retrained" baseline; the source's bottleneck tensors are then left out).
fn check_same_architecture(
    source: &RunConfig,
    target: &RunConfig,
    dir: &Path,
) -> Result<(), ModelError> {
    // The target configuration with the source's model, so that the first differing line of
    // the two documents is a model setting.
    let mut from_source = target.clone();
    from_source.model = source.model.clone();
    let wanted = target.model.sparsity();
    let sparsity = from_source.model.sparsity_mut();
    sparsity.density = wanted.density;
    if wanted.method == Method::Identity {
        // The "retrained" baseline: the same model with the bottleneck removed.
        *sparsity = wanted.clone();
    }
    if from_source.model == target.model {
        return Ok(());
    }
    Err(ModelError::ForkMismatch {
        dir: dir.to_path_buf(),
        detail: crate::checkpoint::first_difference(&from_source, target)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_from_parses_a_directory_and_an_optional_density() {
        let plain: InitFrom = "runs/dc".parse().expect("plain");
        assert_eq!(plain.run, PathBuf::from("runs/dc"));
        assert_eq!(plain.density, None);
        let at: InitFrom = "runs/a@b/dc@1.19e-3".parse().expect("with density");
        assert_eq!(at.run, PathBuf::from("runs/a@b/dc"));
        assert_eq!(at.density, Some(1.19e-3));
        assert_eq!(at.to_string(), "runs/a@b/dc@1.19e-3");
        for bad in [
            "runs/dc@",
            "runs/dc@high",
            "runs/dc@0",
            "runs/dc@1.5",
            "@1e-3",
        ] {
            let message = bad.parse::<InitFrom>().expect_err(bad);
            assert!(message.contains(bad), "{message}");
        }
    }
}
