//! One module per subcommand; each has an `Args` struct (clap) and a `run` function.
//!
//! Errors: a [`UsageError`] means the invocation itself was wrong (exit code 2, like clap's own
//! usage errors); anything else is a runtime failure (exit code 1).

use std::fmt;

use burn::prelude::Device;
use sparling_data::AudioSequence;
use sparling_models::ModelError;
use sparling_models::config::{AudioDomainConfig, DomainConfig};
use sparling_models::device::Backend;
use sparling_models::task::Task;

pub mod eval;
pub mod generate;
pub mod motifs;
pub mod run_dir;
pub mod train;

/// An invalid argument value that clap could not catch by itself.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Training stopped by Ctrl-C after writing a checkpoint: exit code 130 (as a shell reports
/// SIGINT), so that `sparling train ... && sparling eval ...` does not evaluate an unfinished
/// run.
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted: a checkpoint was written; continue with --resume")
    }
}

impl std::error::Error for Interrupted {}

/// Exit code of an interrupted training (128 + SIGINT).
pub const INTERRUPTED_EXIT_CODE: u8 = 130;

/// Shorthand for returning a [`UsageError`].
pub fn usage<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(message.into()).into())
}

/// The plain device of `--backend`; a backend that was not compiled in is a usage error.
///
/// # Errors
/// Usage errors.
pub fn backend_device(backend: Backend) -> anyhow::Result<Device> {
    backend.device().or_else(|e| usage(e.to_string()))
}

/// The spoken-digit domain over its recordings; missing or unusable recordings are a usage
/// error (the message says where the directory comes from and how to set it).
///
/// # Errors
/// Usage errors for the recordings, runtime errors otherwise.
pub fn audio_sequence(config: &AudioDomainConfig) -> anyhow::Result<AudioSequence> {
    match config.sequence() {
        Ok(s) => Ok(s),
        Err(e @ ModelError::Recordings { .. }) => usage(e.to_string()),
        Err(e) => Err(e.into()),
    }
}

/// The task of a domain, built before anything is written so that missing recordings are
/// reported as a usage error.
///
/// # Errors
/// As [`audio_sequence`].
pub fn domain_task(config: &DomainConfig) -> anyhow::Result<Box<dyn Task>> {
    match config.task() {
        Ok(t) => Ok(t),
        Err(e @ ModelError::Recordings { .. }) => usage(e.to_string()),
        Err(e) => Err(e.into()),
    }
}
