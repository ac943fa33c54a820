//! # sparling-core
//!
//! The SPARLING spatial sparsity layer for [burn](https://burn.dev) models, and the adaptive
//! density schedule that anneals it (Gupta, Bastani, Solar-Lezama, "SPARLING: Learning Latent
//! Representations with Extremely Sparse Activations").
//!
//! * [`SparsityLayer`]: `relu(x - t)` with a per-channel (or universal) threshold `t` tracking the
//!   `(1 - density)` quantile of the activations over batch and positions; the accumulated variant
//!   buffers batches until enough activations are expected.
//! * [`SparseLayerWithBatchNorm`]: BatchNorm in front of it, the configuration the paper uses.
//! * [`bottleneck`]: the methods SPARLING is compared with: [`TopK`], [`BatchTopK`],
//!   [`JumpRelu`], and the paper's [`l1_penalty`] and [`kl_penalty`] baselines.
//! * [`LinearThresholdAdaptive`]: Algorithm 1, which lowers the density whenever validation
//!   accuracy beats a slowly decaying target; [`ConstantDensity`] keeps it fixed.
//!
//! ```
//! use burn::prelude::*;
//! use sparling_core::{DensitySchedule, ScheduleConfig, SparseLayerWithBatchNormConfig, SparsityLayerConfig};
//!
//! let device = Device::flex().autodiff();
//! let mut layer = SparseLayerWithBatchNormConfig::new(SparsityLayerConfig::new(4).with_density(0.5))
//!     .init(&device)?;
//! let x = Tensor::<4>::random([2, 4, 8, 8], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
//! let y = layer.forward(x); // about half of each channel is zero
//!
//! let mut schedule = ScheduleConfig::default().init(layer.density())?;
//! if let Some(density) = schedule.update(20_000, 0.999)? {
//!     layer.set_density(density)?;
//! }
//! # Ok::<(), sparling_core::CoreError>(())
//! ```

#![warn(missing_docs)]

use burn::module::Module;

mod batch_norm;
pub mod bottleneck;
mod error;
pub mod schedule;
mod shape;
mod sparsity;
pub mod threshold;

pub use batch_norm::{SparseLayerWithBatchNorm, SparseLayerWithBatchNormConfig};
pub use bottleneck::{
    BatchTopK, BatchTopKConfig, Bottleneck, BottleneckConfig, BottleneckOutput, JumpRelu,
    JumpReluConfig, JumpReluOutput, Method, TopK, TopKConfig, kl_penalty, l1_penalty,
};
pub use error::CoreError;
pub use schedule::{
    ConstantDensity, DensitySchedule, LinearThresholdAdaptive, LinearThresholdAdaptiveConfig,
    LowDensityPhase, Schedule, ScheduleConfig,
};
pub use sparsity::{AccumulatorState, SparsityLayer, SparsityLayerConfig, ThresholdScope};
pub use threshold::KthMethod;

/// Fold pending running-state updates into `module` (and every clone sharing its state) so that
/// a record taken next holds the latest values.
///
/// burn's `RunningState` (BatchNorm statistics, and this crate's thresholds) keeps the last update
/// made on each thread pending until it is next read with synchronisation, and
/// `Module::into_record` / `save_file` read the value *without* folding them in: a layer saved
/// straight after a training step would store statistics one step old. `Module::valid` folds the
/// pending updates into the shared state; this calls it and drops the copy.
pub fn sync_running_states<M: Module>(module: &M) {
    let _ = module.valid();
}

/// Check that a density lies in `(0, 1]`.
///
/// # Errors
/// [`CoreError::InvalidDensity`] otherwise (NaN included).
pub fn check_density(density: f64) -> Result<(), CoreError> {
    if density > 0.0 && density <= 1.0 {
        Ok(())
    } else {
        Err(CoreError::InvalidDensity(density))
    }
}
