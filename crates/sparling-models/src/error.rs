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
    #[error("invalid configuration: `{field}` = {value}; {allowed}")]
    InvalidConfig {
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
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
