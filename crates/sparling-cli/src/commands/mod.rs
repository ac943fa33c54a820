//! One module per subcommand; each has an `Args` struct (clap) and a `run` function.
//!
//! Errors: a [`UsageError`] means the invocation itself was wrong (exit code 2, like clap's own
//! usage errors); anything else is a runtime failure (exit code 1).

use std::fmt;

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

/// Shorthand for returning a [`UsageError`].
pub fn usage<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(message.into()).into())
}
