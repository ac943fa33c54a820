//! Errors of the data crate.

use std::path::PathBuf;

use crate::digit_circle::ConfigError;

/// Everything that can go wrong in `sparling-data`.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A domain configuration failed validation.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The embedded stamp table could not be parsed (a build problem, not a user error).
    #[error("embedded stamp table is malformed: {0}")]
    Stamps(String),
    /// A sample index that the split cannot address.
    #[error("index {index} is out of range for split {split}: {reason}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The split's display name.
        split: String,
        /// Why the index is not allowed.
        reason: &'static str,
    },
    /// A token name that the vocabulary does not contain.
    #[error("unknown token {0:?}")]
    UnknownToken(String),
    /// A token id outside the vocabulary.
    #[error("token id {id} is outside the vocabulary of {size} tokens")]
    TokenIdOutOfRange {
        /// The offending id.
        id: u32,
        /// Vocabulary size.
        size: usize,
    },
    /// Writing an image failed.
    #[error("could not write image {path}: {source}")]
    Image {
        /// Destination file.
        path: PathBuf,
        /// Underlying error.
        source: image::ImageError,
    },
    /// A split name that is not one of the known splits.
    #[error("unknown split {0:?}; expected one of: train, val, test, motif-eval")]
    UnknownSplit(String),
}
