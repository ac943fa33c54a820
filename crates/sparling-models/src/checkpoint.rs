//! The run directory and its checkpoints.
//!
//! ```text
//! <run>/config.toml                    the resolved RunConfig
//! <run>/metrics.jsonl                  one ValidationRecord per validation
//! <run>/summary.json                   written when training stops
//! <run>/checkpoints/latest             name of the newest complete checkpoint directory
//! <run>/checkpoints/step-<samples>/    model.bpk, optimizer.bpk, state.json (full resume state)
//! <run>/checkpoints/density-<d>/       model.bpk, state.json: the last model trained at density d
//! ```
//!
//! Every checkpoint is written into a temporary directory and renamed into place, and
//! `latest` is replaced by an atomic rename, so a run killed at any moment leaves the previous
//! checkpoint intact.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};
use sparling_core::{AccumulatorState, Schedule};

use crate::config::RunConfig;

mod legacy;
mod selection;

use crate::error::ModelError;
use crate::fork::ForkOrigin;
use crate::model::SparlingModel;
pub use selection::{
    OpenedCheckpoint, SelectedCheckpoint, open_checkpoint, select_checkpoint, trained_levels,
};

/// One validation: what `metrics.jsonl` holds, one JSON object per line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// Training samples seen.
    pub samples: u64,
    /// Mean training loss since the previous validation.
    pub loss: f64,
    /// Exact-match validation accuracy.
    pub accuracy: f64,
    /// Density the model was trained and validated at.
    pub density: f64,
    /// Density after the schedule's decision (smaller when it fired).
    pub next_density: f64,
    /// Per-channel mean of the sparsity thresholds.
    pub threshold: f64,
    /// The schedule's accuracy target after the update, if it has one.
    pub schedule_threshold: Option<f64>,
    /// Wall-clock seconds of training so far (across resumes).
    pub seconds: f64,
    /// Mean weighted loss term of the sparsity method since the previous validation (not part
    /// of `loss`), for the methods that add one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<f64>,
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The density fell below `done_at_density`.
    DensityReached,
    /// `max_samples` were seen.
    SampleCap,
    /// Stopped by the user (Ctrl-C) after writing a checkpoint.
    Interrupted,
    /// The training time reached the budget the run was started with (`--time-budget-minutes`).
    /// Resuming with a larger budget continues the run.
    TimeBudget,
}

/// Everything besides the weights and optimizer moments needed to continue a run exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Training samples seen (the next batch starts at this index).
    pub samples: u64,
    /// Samples at the last validation.
    pub last_validation: u64,
    /// The density schedule, including its accuracy target.
    pub schedule: Schedule,
    /// Training wall-clock seconds so far.
    pub seconds: f64,
    /// Sum and count of training losses since the last validation.
    pub loss_sum: f64,
    /// Number of losses in `loss_sum`.
    pub loss_count: u64,
    /// Sum of the sparsity method's loss terms since the last validation (0 for methods that add
    /// none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub penalty_sum: f64,
    /// All validations so far.
    pub history: Vec<ValidationRecord>,
    /// Buffer of the accumulated sparsity variant (empty otherwise).
    #[serde(default)]
    pub accumulator: AccumulatorState,
    /// Set when the run has stopped for good.
    pub stopped: Option<StopReason>,
    /// The run this one was forked from (`--init-from`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkOrigin>,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

/// A run directory.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

const LATEST: &str = "latest";

/// The lock file a training process holds for its whole life.
const TRAIN_LOCK: &str = ".train.lock";

/// An exclusive claim on a run directory for training; released when dropped (or when the
/// process dies: it is an advisory `flock`, which the OS drops with the process).
#[derive(Debug)]
pub struct RunLock {
    _file: fs::File,
}

impl RunDir {
    /// A handle on `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// `summary.json`.
    pub fn summary_path(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    /// `checkpoints/`.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// The stored configuration, if the directory holds a run.
    ///
    /// # Errors
    /// An unreadable or unparsable `config.toml`.
    pub fn read_config(&self) -> Result<Option<RunConfig>, ModelError> {
        let path = self.config_path();
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        RunConfig::from_toml(&text, &path).map(Some)
    }

    /// Set up the directory for training `config`.
    ///
    /// A new or empty directory gets `config.toml`. A directory that already holds a run is only
    /// accepted with `resume` and the same configuration; nothing is written otherwise.
    ///
    /// # Errors
    /// [`ModelError::RunExists`], [`ModelError::RunDirMismatch`], or I/O errors.
    pub fn prepare(&self, config: &RunConfig, resume: bool) -> Result<(), ModelError> {
        if let Some(existing) = self.read_config()? {
            if !resume {
                return Err(ModelError::RunExists(self.root.clone()));
            }
            if existing.clone().with_canonical_paths() != config.clone().with_canonical_paths() {
                return Err(ModelError::RunDirMismatch {
                    dir: self.root.clone(),
                    detail: first_difference(&existing, config)?,
                });
            }
            return Ok(());
        }
        if self.root.exists() {
            let mut entries =
                fs::read_dir(&self.root).map_err(|e| ModelError::io(&self.root, e))?;
            let occupied = entries.any(|e| e.is_ok_and(|e| e.file_name() != TRAIN_LOCK));
            if occupied {
                return Err(ModelError::NotARunDir(self.root.clone()));
            }
        }
        fs::create_dir_all(self.checkpoints())
            .map_err(|e| ModelError::io(self.checkpoints(), e))?;
        write_atomic(&self.config_path(), config.to_toml()?.as_bytes())
    }

    /// Claim the directory for training. A second trainer on the same directory gets
    /// [`ModelError::RunLocked`] naming the first; readers take no lock.
    ///
    /// # Errors
    /// [`ModelError::RunLocked`], or I/O failures creating the lock file.
    pub fn lock_for_training(&self) -> Result<RunLock, ModelError> {
        use std::io::{Read, Seek, Write};
        fs::create_dir_all(&self.root).map_err(|e| ModelError::io(&self.root, e))?;
        let path = self.root.join(TRAIN_LOCK);
        // Not truncated on open: until the lock is ours, the file names the holder.
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| ModelError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(ModelError::RunLocked {
                    dir: self.root.clone(),
                    holder: if holder.is_empty() {
                        "a process that has not written its id yet".into()
                    } else {
                        holder.into()
                    },
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(ModelError::io(&path, e)),
        }
        let id = format!("process {}", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(id.as_bytes()))
            .map_err(|e| ModelError::io(&path, e))?;
        Ok(RunLock { _file: file })
    }

    /// Remove what a killed trainer left half-written: `checkpoints/.tmp-*` directories and
    /// the temporary files of `config.toml`, `metrics.jsonl`, `summary.json` and `latest`.
    /// Only the lock holder may call this (another trainer could be writing them).
    ///
    /// # Errors
    /// An unreadable directory or a leftover that cannot be removed.
    pub fn remove_leftovers(&self, _lock: &RunLock) -> Result<(), ModelError> {
        remove_matching(&self.checkpoints(), |n| {
            n.starts_with(".tmp-") || n.starts_with("latest.tmp-")
        })?;
        remove_matching(&self.root, |n| {
            ["config.tmp-", "metrics.tmp-", "summary.tmp-"]
                .iter()
                .any(|p| n.starts_with(p))
        })
    }

    /// The name in the `latest` pointer, if it can be read (for noticing that a running
    /// trainer moved on).
    pub fn latest_name(&self) -> Option<String> {
        fs::read_to_string(self.checkpoints().join(LATEST)).ok()
    }

    /// The newest complete checkpoint directory.
    ///
    /// # Errors
    /// An unreadable `latest` pointer.
    pub fn latest_checkpoint(&self) -> Result<Option<PathBuf>, ModelError> {
        let pointer = self.checkpoints().join(LATEST);
        if !pointer.exists() {
            return Ok(None);
        }
        let name = fs::read_to_string(&pointer).map_err(|e| ModelError::io(&pointer, e))?;
        let dir = self.checkpoints().join(name.trim());
        if !dir.is_dir() {
            return Err(ModelError::CorruptCheckpoint {
                path: pointer,
                message: format!("points to missing directory {}", dir.display()),
            });
        }
        Ok(Some(dir))
    }

    /// Write a full checkpoint and make it the latest; older step checkpoints are removed.
    ///
    /// # Errors
    /// I/O or serialisation failures (the previous checkpoint then stays the latest).
    pub fn save_checkpoint(
        &self,
        model: &SparlingModel,
        optimizer: &ModuleOptimizer,
        state: &TrainerState,
    ) -> Result<PathBuf, ModelError> {
        let name = format!("step-{:012}", state.samples);
        let dir = self.write_dir(&name, |tmp| {
            save_model(model, &tmp.join("model.bpk"))?;
            optimizer
                .save(tmp.join("optimizer.bpk"))
                .map_err(|e| write_error(&tmp.join("optimizer.bpk"), e))?;
            write_json(&tmp.join("state.json"), state)
        })?;
        let previous = self.latest_checkpoint().ok().flatten();
        write_atomic(&self.checkpoints().join(LATEST), name.as_bytes())?;
        if let Some(old) = previous
            && old != dir
        {
            // Only once the new checkpoint is the latest may the old one go.
            let _ = fs::remove_dir_all(old);
        }
        // Rewrite metrics.jsonl from the checkpointed history, so it never runs ahead of it.
        let mut lines = String::new();
        for record in &state.history {
            lines.push_str(&to_json_line(record)?);
        }
        write_atomic(&self.metrics_path(), lines.as_bytes())?;
        Ok(dir)
    }

    /// Keep `model` as the last model trained at `record.density`.
    ///
    /// # Errors
    /// I/O failures.
    pub fn save_density_snapshot(
        &self,
        model: &SparlingModel,
        record: &ValidationRecord,
    ) -> Result<PathBuf, ModelError> {
        self.write_dir(&density_dir_name(record.density), |tmp| {
            save_model(model, &tmp.join("model.bpk"))?;
            write_json(&tmp.join("state.json"), record)
        })
    }

    /// The density snapshots, `(density, directory)`, highest density first.
    ///
    /// # Errors
    /// An unreadable checkpoints directory.
    pub fn density_snapshots(&self) -> Result<Vec<(ValidationRecord, PathBuf)>, ModelError> {
        let dir = self.checkpoints();
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| ModelError::io(&dir, e))? {
            let path = entry.map_err(|e| ModelError::io(&dir, e))?.path();
            let is_snapshot = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("density-"));
            if is_snapshot {
                let record: ValidationRecord = read_json(&path.join("state.json"))?;
                out.push((record, path));
            }
        }
        out.sort_by(|a, b| b.0.density.total_cmp(&a.0.density));
        Ok(out)
    }

    /// Write `summary.json`.
    ///
    /// # Errors
    /// I/O failures.
    pub fn write_summary<T: Serialize>(&self, summary: &T) -> Result<(), ModelError> {
        write_json(&self.summary_path(), summary)
    }

    fn write_dir(
        &self,
        name: &str,
        fill: impl FnOnce(&Path) -> Result<(), ModelError>,
    ) -> Result<PathBuf, ModelError> {
        let root = self.checkpoints();
        fs::create_dir_all(&root).map_err(|e| ModelError::io(&root, e))?;
        let tmp = root.join(format!(".tmp-{name}-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
        if let Err(e) = fill(&tmp) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let dir = root.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| ModelError::io(&dir, e))?;
        }
        fs::rename(&tmp, &dir).map_err(|e| ModelError::io(&dir, e))?;
        Ok(dir)
    }
}

/// Remove the entries of `dir` whose names satisfy `leftover` (a missing `dir` has none).
fn remove_matching(dir: &Path, leftover: impl Fn(&str) -> bool) -> Result<(), ModelError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry.map_err(|e| ModelError::io(dir, e))?.path();
        if !path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(&leftover)
        {
            continue;
        }
        let removed = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|e| ModelError::io(&path, e))?;
        tracing::info!(path = %path.display(), "removed a leftover of an interrupted save");
    }
    Ok(())
}

/// The directory name of the density snapshot for `density` (the reference's `f"{d:.6e}"` key).
pub fn density_dir_name(density: f64) -> String {
    format!("density-{density:.6e}")
}

/// Load a checkpoint's weights into a freshly built model of `config`.
///
/// # Errors
/// [`ModelError::CorruptCheckpoint`] for an unreadable, truncated or mismatched file.
pub fn load_model(
    config: &RunConfig,
    checkpoint_dir: &Path,
    device: &Device,
) -> Result<SparlingModel, ModelError> {
    load_model_into(config, checkpoint_dir, device, false)
}

/// Load a checkpoint's model into `config`'s architecture; with `allow_unused`, tensors the
/// architecture has no place for are skipped (a fork that drops the bottleneck: the "retrained"
/// baseline). Every tensor the architecture needs must be there.
pub(crate) fn load_model_into(
    config: &RunConfig,
    checkpoint_dir: &Path,
    device: &Device,
    allow_unused: bool,
) -> Result<SparlingModel, ModelError> {
    let path = checkpoint_dir.join("model.bpk");
    let model = config.model.init(device)?;
    // Read the file whole: `ModuleRecord::load` maps it lazily, and a reader of a running run
    // would then fail (inside the backend) once the trainer removes the superseded checkpoint.
    let bytes = legacy::upgrade(read_bytes(&path)?).map_err(|e| record_error(&path, e))?;
    let record = ModuleRecord::from_bytes(bytes)
        .map_err(|e| record_error(&path, e))?
        .allow_unused(allow_unused);
    model
        .try_load_record(record)
        .map_err(|e| record_error(&path, e))
}

fn read_bytes(path: &Path) -> Result<Bytes, ModelError> {
    let bytes = fs::read(path).map_err(|e| ModelError::io(path, e))?;
    Ok(Bytes::from_bytes_vec(bytes))
}

/// Load the optimizer state of a checkpoint.
///
/// # Errors
/// [`ModelError::CorruptCheckpoint`] for an unreadable or truncated file.
pub fn load_optimizer(
    optimizer: ModuleOptimizer,
    checkpoint_dir: &Path,
) -> Result<ModuleOptimizer, ModelError> {
    let path = checkpoint_dir.join("optimizer.bpk");
    optimizer
        .from_bytes(read_bytes(&path)?)
        .map_err(|e| record_error(&path, e))
}

/// Read a checkpoint's trainer state.
///
/// # Errors
/// [`ModelError::CorruptCheckpoint`] for an unreadable or unparsable file.
pub fn load_state(checkpoint_dir: &Path) -> Result<TrainerState, ModelError> {
    read_json(&checkpoint_dir.join("state.json"))
}

/// Save `model`'s record (weights, BatchNorm statistics, thresholds, density) to `path`, in
/// today's layout.
///
/// # Errors
/// [`ModelError::WriteFailed`].
pub fn save_model(model: &SparlingModel, path: &Path) -> Result<(), ModelError> {
    // Otherwise the record holds BatchNorm statistics one training step old.
    sparling_core::sync_running_states(model);
    model
        .clone()
        .into_record()
        .save(path)
        .map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::WriteFailed {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn record_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::CorruptCheckpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Write `bytes` to `path` through a temporary file and a rename.
///
/// # Errors
/// I/O failures (the old file, if any, is untouched, and no temporary file is left).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = fs::write(&tmp, bytes)
        .map_err(|e| ModelError::io(path, e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ModelError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| write_error(path, e))?;
    write_atomic(path, text.as_bytes())
}

fn to_json_line<T: Serialize>(value: &T) -> Result<String, ModelError> {
    let mut line = serde_json::to_string(value).map_err(|e| ModelError::Parse {
        path: "metrics.jsonl".into(),
        message: e.to_string(),
    })?;
    line.push('\n');
    Ok(line)
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ModelError> {
    let text = fs::read_to_string(path).map_err(|e| record_error(path, e))?;
    serde_json::from_str(&text).map_err(|e| record_error(path, e))
}

/// The first top-level TOML key whose value differs, for a readable mismatch message.
pub(crate) fn first_difference(a: &RunConfig, b: &RunConfig) -> Result<String, ModelError> {
    let (a, b) = (a.to_toml()?, b.to_toml()?);
    let diff = a
        .lines()
        .zip(b.lines())
        .find(|(x, y)| x != y)
        .map(|(x, y)| format!("stored `{x}`, requested `{y}`"));
    Ok(diff.unwrap_or_else(|| "different number of settings".into()))
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// `state.json` and `metrics.jsonl` hold f64s (running loss, schedule target, density);
        /// resume is exact only if every one reads back to the same bits.
        #[test]
        fn json_floats_read_back_exactly(bits in proptest::num::u64::ANY) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let text = serde_json::to_string(&x).expect("finite");
            let back: f64 = serde_json::from_str(&text).expect("a number");
            proptest::prop_assert_eq!(back.to_bits(), x.to_bits());
        }
    }
}
