//! Errors of model construction, training and evaluation.

use std::path::PathBuf;

use sparling_core::CoreError;
use sparling_data::DataError;

/// Everything that can go wrong in `sparling-models`.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A sparsity layer or schedule rejected its input.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A data domain rejected its configuration or index.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A configuration value is out of range.
    #[error("{}invalid configuration: `{field}` = {value}; {allowed}", file_prefix(.file.as_ref()))]
    InvalidConfig {
        /// The configuration file, when the value came from one.
        file: Option<PathBuf>,
        /// Dotted field path.
        field: String,
        /// The offending value, printed.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// No preset of that name.
    #[error("unknown preset `{name}` for {domain}; available: {available}")]
    UnknownPreset {
        /// Requested name.
        name: String,
        /// Domain asked for.
        domain: String,
        /// Comma-separated list.
        available: String,
    },
    /// No domain of that name.
    #[error("unknown domain `{name}`; available: {available}")]
    UnknownDomain {
        /// Requested name.
        name: String,
        /// Comma-separated list.
        available: String,
    },
    /// The spoken-digit recordings could not be found or loaded.
    #[error(
        "{cause}; the audio domain reads the FSDD recordings from `--data DIR`, from \
         `domain.recordings` in the run configuration, or from ${env}"
    )]
    Recordings {
        /// What went wrong (missing directory, unreadable file, ...). Kept out of
        /// `Error::source` because the message already includes it.
        cause: DataError,
        /// The environment variable consulted when no directory is configured.
        env: &'static str,
    },
    /// The test voice's recordings could not be read.
    #[error("test voice {dir}: {cause}")]
    TestVoice {
        /// The directory given.
        dir: PathBuf,
        /// What went wrong.
        cause: DataError,
    },
    /// A model input of the wrong shape.
    #[error("model input has shape {found:?}; expected {expected}")]
    InputShape {
        /// What the model expects.
        expected: String,
        /// What it got.
        found: Vec<usize>,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A TOML or JSON file could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// File involved.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// `--out` is a non-empty directory that holds no run.
    #[error(
        "{0} is not empty and holds no run (no config.toml); choose a new or empty --out \
         directory"
    )]
    NotARunDir(PathBuf),
    /// A checkpoint or model file could not be written (disk full, permissions, ...).
    #[error("could not write {path}: {message}")]
    WriteFailed {
        /// The file.
        path: PathBuf,
        /// Cause.
        message: String,
    },
    /// A run directory holds a run with a different configuration.
    #[error(
        "{dir} already holds a run with a different configuration ({detail}); \
         use a new --out directory, or --resume with the same settings"
    )]
    RunDirMismatch {
        /// The run directory.
        dir: PathBuf,
        /// First difference found.
        detail: String,
    },
    /// A run directory already holds a run and resuming was not asked for.
    #[error("{0} already holds a run; pass --resume to continue it or choose another --out")]
    RunExists(PathBuf),
    /// `--init-from` names a run whose model has another architecture.
    #[error(
        "cannot start from {dir}: its model differs from the one configured here ({detail}); \
         a fork may change training settings, not the architecture"
    )]
    ForkMismatch {
        /// The source run directory.
        dir: PathBuf,
        /// First difference found.
        detail: String,
    },
    /// Nothing to resume or evaluate.
    #[error("{0} holds no checkpoint")]
    NoCheckpoint(PathBuf),
    /// The run's checkpoints were replaced on every attempt to read one.
    #[error(
        "{0}: the training process replaced the checkpoint on each of {1} attempts to read it; \
         try again"
    )]
    CheckpointChurn(PathBuf, usize),
    /// Another process is training in this run directory.
    #[error(
        "{dir} is being trained by another process ({holder}); wait for it to stop, or use \
         another --out. Reading the run (eval, motifs) needs no lock"
    )]
    RunLocked {
        /// The run directory.
        dir: PathBuf,
        /// Who holds the lock, as the lock file records it.
        holder: String,
    },
    /// A checkpoint file is unreadable, truncated or does not match the model.
    #[error("checkpoint {path} is corrupt or incompatible: {message}")]
    CorruptCheckpoint {
        /// Checkpoint file.
        path: PathBuf,
        /// Cause.
        message: String,
    },
    /// A tensor could not be read back from the device.
    #[error("could not read tensor data: {0}")]
    TensorData(String),
    /// The loss became NaN or infinite.
    #[error("training diverged at {samples} samples: loss is {loss}")]
    Diverged {
        /// Samples seen.
        samples: u64,
        /// The loss value.
        loss: f64,
    },
    /// The requested backend is not compiled in.
    #[error("backend `{0}` is not available in this build; rebuild with `--features {0}`")]
    BackendUnavailable(String),
}

impl ModelError {
    pub(crate) fn invalid(
        field: impl Into<String>,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            file: None,
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// Whether the error says the input was wrong (a configuration value, a preset, a run
    /// directory that cannot be used as asked) rather than that work failed: the commands exit
    /// with code 2 for these, 1 for the rest.
    #[must_use]
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::InvalidConfig { .. }
                | Self::UnknownPreset { .. }
                | Self::UnknownDomain { .. }
                | Self::RunExists(_)
                | Self::RunDirMismatch { .. }
                | Self::ForkMismatch { .. }
                | Self::NotARunDir(_)
                | Self::RunLocked { .. }
                | Self::NoCheckpoint(_)
                | Self::TestVoice { .. }
        )
    }

    /// This error, attributed to the configuration file `path` it was found in.
    #[must_use]
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        match self {
            Self::InvalidConfig {
                file: None,
                field,
                value,
                allowed,
            } => Self::InvalidConfig {
                file: Some(path.to_path_buf()),
                field,
                value,
                allowed,
            },
            other @ (Self::Core(_) | Self::Data(_)) => Self::Parse {
                path: path.to_path_buf(),
                message: other.to_string(),
            },
            other => other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

fn file_prefix(file: Option<&PathBuf>) -> String {
    file.map(|f| format!("{}: ", f.display()))
        .unwrap_or_default()
}

/// An error and its causes on one line, each cause once: many messages already quote their
/// cause (`{path}: {source}`), and printing the chain as well would repeat the OS error.
#[must_use]
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device");
        let err = ModelError::io("/runs/a/config.toml", io);
        assert_eq!(
            describe(&err),
            "/runs/a/config.toml: No space left on device"
        );
    }
}
