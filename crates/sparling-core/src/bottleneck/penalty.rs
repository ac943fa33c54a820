//! The paper's penalty baselines (the authors' `SparsityForL1` and `SparsityForKL`): no
//! threshold, a loss term instead. The bottleneck is `relu(BN(x))` with `λ * mean|·|` added to the
//! loss (L1), or `sigmoid(BN(x))` with `λ * KL(p || p̂)` towards a target rate `p` (KL).

use burn::prelude::*;

use super::require;
use crate::error::CoreError;

/// `mean(|maps|)` over every element of the batch tensor, `[1]`.
pub fn l1_penalty<const D: usize>(maps: Tensor<D>) -> Tensor<1> {
    maps.abs().mean()
}

/// `p ln(p / p̂) + (1 - p) ln((1 - p) / (1 - p̂))` with `p̂` the mean of `probabilities` over every
/// element of the batch tensor, `[1]`; zero exactly when `p̂ = p`. `p̂` is clamped to
/// `[1e-7, 1 - 1e-7]` so that an all-zero or all-one batch gives a large finite penalty.
///
/// # Errors
/// [`CoreError::InvalidMethodParameter`] unless `0 < target < 1`.
pub fn kl_penalty<const D: usize>(
    probabilities: Tensor<D>,
    target: f64,
) -> Result<Tensor<1>, CoreError> {
    require(
        target > 0.0 && target < 1.0,
        "KL penalty",
        "target",
        target,
        "a rate in (0, 1)",
    )?;
    let p_hat = probabilities.mean().clamp(1e-7, 1.0 - 1e-7);
    let p = target;
    let q = 1.0 - target;
    let first = p_hat.clone().recip().mul_scalar(p).log().mul_scalar(p);
    let second = p_hat
        .neg()
        .add_scalar(1.0)
        .recip()
        .mul_scalar(q)
        .log()
        .mul_scalar(q);
    Ok(first + second)
}
