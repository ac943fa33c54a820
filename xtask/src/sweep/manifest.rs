//! The sweep manifest: one task per domain x preset x method x seed, each with the full run
//! configuration it trains, and where its run directory, result and log live.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sparling_models::checkpoint::write_atomic;
use sparling_models::evaluation::{DirectReport, EvalReport};
use sparling_models::{Backend, Domain, RunConfig, TrainSummary};

use crate::Usage;

/// `SWEEP_DIR/manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Format version.
    pub(crate) version: u32,
    /// Compute backend of every task.
    pub(crate) backend: Backend,
    /// Motif-eval images and test samples of each task's evaluation.
    pub(crate) samples: usize,
    /// Training minutes per task (validations excluded), if limited.
    pub(crate) time_budget_minutes: Option<f64>,
    /// The tasks; a task's index is its Slurm array index.
    pub(crate) tasks: Vec<Task>,
}

/// One run of the sweep: a resumable training followed by its evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Task {
    /// `<domain>-<preset>-<method>-seed<S>`, the name of its files.
    pub(crate) id: String,
    pub(crate) domain: Domain,
    pub(crate) preset: String,
    pub(crate) method: String,
    pub(crate) seed: i64,
    /// What the task trains.
    pub(crate) config: RunConfig,
}

/// What a finished task writes to `results/<id>.json` (atomically, last).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TaskResult {
    pub(crate) id: String,
    pub(crate) summary: TrainSummary,
    /// Motif and end-to-end errors (none for the direct baseline).
    pub(crate) eval: Option<EvalReport>,
    /// The direct single-digit evaluation, where defined.
    pub(crate) direct: Option<DirectReport>,
}

/// The manifest format this version writes and reads.
pub(crate) const MANIFEST_VERSION: u32 = 1;

/// The files of a sweep directory.
#[derive(Clone, Debug)]
pub(crate) struct SweepDir {
    root: PathBuf,
}

impl SweepDir {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    pub(crate) fn run_dir(&self, task: &Task) -> PathBuf {
        self.root.join("runs").join(&task.id)
    }

    pub(crate) fn result(&self, task: &Task) -> PathBuf {
        self.root.join("results").join(format!("{}.json", task.id))
    }

    /// The log of task `index` (Slurm names its output by array index).
    pub(crate) fn log(&self, index: usize) -> PathBuf {
        self.root.join("logs").join(format!("task-{index}.log"))
    }

    pub(crate) fn sbatch(&self) -> PathBuf {
        self.root.join("sweep.sbatch")
    }

    /// Read the manifest.
    ///
    /// # Errors
    /// A missing or unreadable manifest (a usage error: not a sweep directory), or one of
    /// another format version.
    pub(crate) fn read(&self) -> anyhow::Result<Manifest> {
        let path = self.manifest();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Usage(format!(
                    "{}: not a sweep directory (no manifest.json); create one with `cargo xtask \
                     sweep`",
                    self.root.display()
                ))
                .into());
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let manifest: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a sweep manifest", path.display()))?;
        if manifest.version != MANIFEST_VERSION {
            return Err(Usage(format!(
                "{}: manifest version {}, this xtask reads version {MANIFEST_VERSION}",
                path.display(),
                manifest.version
            ))
            .into());
        }
        Ok(manifest)
    }

    /// Write `manifest` into a new sweep directory, or accept an existing one holding the same
    /// manifest (the sweep continues); a directory holding another sweep is refused and left
    /// alone.
    ///
    /// # Errors
    /// [`Usage`] for a directory holding another manifest or other files; I/O errors.
    pub(crate) fn create(&self, manifest: &Manifest) -> anyhow::Result<()> {
        if self.manifest().exists() {
            let existing = self.read()?;
            if existing != *manifest {
                return Err(Usage(format!(
                    "{} holds another sweep (its manifest.json differs in tasks or settings); \
                     choose a new --out, or delete that directory to start over",
                    self.root.display()
                ))
                .into());
            }
            return Ok(());
        }
        if self.root.exists()
            && std::fs::read_dir(&self.root)
                .with_context(|| format!("reading {}", self.root.display()))?
                .next()
                .is_some()
        {
            return Err(Usage(format!(
                "{} exists and is not a sweep directory; give an empty or new --out",
                self.root.display()
            ))
            .into());
        }
        for sub in ["runs", "results", "logs"] {
            let dir = self.root.join(sub);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        write_atomic(
            &self.manifest(),
            serde_json::to_string_pretty(manifest)?.as_bytes(),
        )?;
        Ok(())
    }

    /// The result of `task`, if it finished.
    ///
    /// # Errors
    /// A result file that cannot be read or parsed (results are written atomically, so this
    /// is damage, not a task in progress).
    pub(crate) fn read_result(&self, task: &Task) -> anyhow::Result<Option<TaskResult>> {
        crate::reproduce::read_record(&self.result(task))
    }
}
