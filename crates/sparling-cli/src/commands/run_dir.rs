//! What `eval` and `motifs` share: opening a finished (or running) run directory, choosing the
//! checkpoint by density and the backend.

use std::path::{Path, PathBuf};

use clap::Args;
use sparling_models::checkpoint::RunDir;
use sparling_models::checkpoint::{OpenedCheckpoint, open_checkpoint};
use sparling_models::config::DomainConfig;
use sparling_models::task::Task;
use sparling_models::{Backend, ModelError, RunConfig};

use super::{domain_task, usage};

/// Flags naming a model inside a run directory.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Run directory written by `sparling train`.
    #[arg(long)]
    pub run: PathBuf,
    /// Evaluate the last model trained at this density (within 1 %); default: the lowest
    /// density the run trained at.
    #[arg(long)]
    pub density: Option<f64>,
    /// Compute backend: `flex` (CPU, default), `tch` or `cuda` (need the cargo features).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Audio runs: directory of the FSDD recordings, instead of the one in the run's
    /// config.toml (or $SPARLING_FSDD when the run stored none).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// A run's configuration, the selected checkpoint and the device.
pub struct OpenedRun {
    /// The run directory.
    pub dir: RunDir,
    /// Its configuration.
    pub config: RunConfig,
    /// The checkpoint chosen by `--density`, with its model.
    pub checkpoint: OpenedCheckpoint,
    /// The device to run on.
    pub device: burn::prelude::Device,
    /// The run's task (for audio, it holds the loaded recordings).
    pub task: Box<dyn Task>,
}

/// Open the run named by `args`. A missing run, a run without checkpoints or an unknown
/// density are usage errors (exit code 2).
///
/// # Errors
/// Usage errors, or unreadable files.
pub fn open(args: &ModelArgs) -> anyhow::Result<OpenedRun> {
    let dir = RunDir::new(&args.run);
    let mut config = match dir.read_config() {
        Ok(Some(c)) => c,
        Ok(None) => return usage(missing_run(&args.run)),
        Err(e) => return usage(e.to_string()),
    };
    if let Some(data) = &args.data {
        match &mut config.domain {
            DomainConfig::Audio(audio) => audio.recordings = Some(data.clone()),
            other => {
                return usage(format!(
                    "--data only applies to audio runs; {} holds a {} run",
                    args.run.display(),
                    other.name()
                ));
            }
        }
    }
    let device = super::backend_device(args.backend)?;
    let checkpoint = match open_checkpoint(&dir, args.density, &config, &device) {
        Ok(c) => c,
        Err(e @ (ModelError::NoCheckpoint(_) | ModelError::InvalidConfig { .. })) => {
            return usage(e.to_string());
        }
        Err(e) => return Err(e.into()),
    };
    let task = domain_task(&config.domain)?;
    Ok(OpenedRun {
        dir,
        config,
        checkpoint,
        device,
        task,
    })
}

fn missing_run(path: &Path) -> String {
    format!(
        "--run {}: not a run directory (no config.toml); create one with `sparling train`",
        path.display()
    )
}
