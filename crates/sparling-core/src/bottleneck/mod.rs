//! The sparsity methods a researcher compares SPARLING with, as burn modules over motif maps
//! `[batch, channels, ...spatial]`:
//!
//! * [`TopK`]: the `k` largest activations of each sample and channel survive (k-sparse /
//!   TopK autoencoders, Makhzani & Frey 2013; Gao et al. 2024), adapted from latents to
//!   channels x positions.
//! * [`BatchTopK`]: the `k * batch` largest activations of each channel over the batch survive
//!   in training; inference applies a per-channel threshold estimated from the training batches
//!   (Bussmann, Leask & Nanda 2024). The closest relative of SPARLING's batch quantile, but
//!   gating (`x * [x > t]`) instead of shifting (`relu(x - t)`).
//! * [`JumpRelu`]: `x * [x > θ]` with per-channel thresholds `θ` learned through a
//!   straight-through estimator, and an L0 penalty (Rajamanoharan et al. 2024).
//! * [`l1_penalty`] and [`kl_penalty`]: the paper's penalty baselines (an L1 penalty on
//!   `relu(BN(x))`, a KL penalty on `sigmoid(BN(x))` towards a target rate).
//!
//! [`Bottleneck`] puts any of them (or SPARLING's threshold, or nothing) behind one interface:
//! an optional BatchNorm, the method, and the loss term it adds. Each method's guarantees are
//! property-tested in `tests/methods.rs`.

mod batch_topk;
mod jump_relu;
mod method;
mod penalty;
mod topk;

pub use batch_topk::{BatchTopK, BatchTopKConfig};
pub use jump_relu::{JumpRelu, JumpReluConfig, JumpReluOutput};
pub use method::{Bottleneck, BottleneckConfig, BottleneckOutput, Method, MethodLayer, Stateless};
pub use penalty::{kl_penalty, l1_penalty};
pub use topk::{TopK, TopKConfig};

use burn::prelude::*;

use crate::error::CoreError;
pub(crate) use crate::shape::check_maps;

/// Per-group values `[groups]` shaped to broadcast over axis 0 and 1 of `dims`: `[N, C, 1, ...]`
/// when `per_sample`, else `[1, C, 1, ...]`, expanded to `dims`.
pub(crate) fn expand_groups<const D: usize>(
    values: Vec<f32>,
    dims: [usize; D],
    per_sample: bool,
    device: &Device,
) -> Tensor<D> {
    let mut shape = [1usize; D];
    shape[1] = dims[1];
    if per_sample {
        shape[0] = dims[0];
    }
    let groups = values.len();
    Tensor::<1>::from_data(TensorData::new(values, [groups]), device)
        .reshape(shape)
        .expand(dims)
}

/// Check a method parameter.
pub(crate) fn require(
    ok: bool,
    method: &'static str,
    name: &'static str,
    value: f64,
    allowed: &'static str,
) -> Result<(), CoreError> {
    if ok {
        Ok(())
    } else {
        Err(CoreError::InvalidMethodParameter {
            method,
            name,
            value,
            allowed,
        })
    }
}
