//! # sparling-models
//!
//! The paper's architectures, presets and the training loop.
//!
//! * [`config`]: the run configuration (domain, model, training) as TOML-friendly serde structs.
//! * [`presets`]: `paper`, `cpu` and `tiny` per domain.
//! * [`model`]: the end-to-end model (motif model → sparsity layer → collapse → encoder →
//!   decoder), one type for images and spectrograms; [`modules`] holds its parts, each beside
//!   its configuration.
//! * [`training`]: the step-based loop with the adaptive density schedule, atomic checkpoints
//!   and exact resume; [`checkpoint`] is the run directory.
//! * [`inference`]: greedy decoding, accuracy and motif maps.
//! * [`task`] / [`data`]: domains as `(input, tokens)` batches, and their tensors.
//! * [`device`]: backend selection (`flex` always; `tch`, `cuda` behind cargo features).

#![warn(missing_docs)]

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod domain;
pub mod error;
pub mod evaluation;
pub mod fork;
pub mod inference;
pub mod model;
pub mod modules;
pub mod presets;
pub mod task;
pub mod training;
mod validate;

pub use config::RunConfig;
pub use device::Backend;
pub use domain::Domain;
pub use error::ModelError;
pub use model::SparlingModel;
pub use training::{TrainObserver, TrainOptions, TrainSummary, train};
