//! JumpReLU: `x * [x > θ]` with one learned threshold `θ = exp(log θ) > 0` per channel, and an L0
//! penalty (the fraction of activations that survive) that pushes the thresholds up.
//!
//! The step function has no useful gradient, so `θ` learns through the straight-through
//! estimators of Rajamanoharan et al. (2024), with a rectangle kernel `K(u) = [|u| < 1/2]` of
//! bandwidth `ε`: `∂/∂θ JumpReLU(x) ≈ -(θ / ε) K((x - θ) / ε)` and `∂/∂θ [x > θ] ≈ -(1 / ε)
//! K((x - θ) / ε)`. Only activations within `ε / 2` of the threshold move it. The gradient with
//! respect to `x` is the gate `[x > θ]`, exactly.
//!
//! Both estimators are written as `value + c * (θ - detach(θ))` with a detached `c`: the value
//! is unchanged and the gradient with respect to `θ` is `c`.

use burn::module::Param;
use burn::prelude::*;

use super::{check_maps, require};
use crate::error::CoreError;

/// Configuration of [`JumpRelu`].
#[derive(Config, Debug)]
pub struct JumpReluConfig {
    /// Number of channels (axis 1 of the input).
    pub channels: usize,
    /// Starting threshold of every channel (> 0).
    #[config(default = 0.5)]
    pub initial_threshold: f64,
    /// Kernel bandwidth `ε` of the straight-through estimators (> 0), in units of the input.
    #[config(default = 0.05)]
    pub bandwidth: f64,
}

impl JumpReluConfig {
    /// Build the layer.
    ///
    /// # Errors
    /// [`CoreError::NoChannels`], or [`CoreError::InvalidMethodParameter`] for a threshold or
    /// bandwidth that is not a finite number above 0.
    pub fn init(&self, device: &Device) -> Result<JumpRelu, CoreError> {
        if self.channels == 0 {
            return Err(CoreError::NoChannels(0));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        require(
            positive(self.initial_threshold),
            "JumpReLU",
            "initial_threshold",
            self.initial_threshold,
            "a finite number > 0",
        )?;
        require(
            positive(self.bandwidth),
            "JumpReLU",
            "bandwidth",
            self.bandwidth,
            "a finite number > 0",
        )?;
        Ok(JumpRelu {
            log_threshold: Param::from_tensor(Tensor::full(
                [self.channels],
                self.initial_threshold.ln(),
                device,
            )),
            channels: self.channels,
            bandwidth: self.bandwidth,
        })
    }
}

/// The JumpReLU bottleneck.
#[derive(Module, Debug)]
pub struct JumpRelu {
    /// `ln θ` per channel (learned).
    log_threshold: Param<Tensor<1>>,
    channels: usize,
    bandwidth: f64,
}

/// What [`JumpRelu::try_forward`] returns.
#[derive(Debug)]
pub struct JumpReluOutput<const D: usize> {
    /// `x * [x > θ]`, the input's shape.
    pub maps: Tensor<D>,
    /// The fraction of activations that survive, `[1]`, with the straight-through gradient
    /// towards the thresholds (none towards the input). Multiply by the penalty weight and add
    /// to the loss.
    pub l0: Tensor<1>,
}

impl JumpRelu {
    /// The thresholds `θ` on the host.
    ///
    /// # Errors
    /// A failed read from the device.
    pub fn thresholds(&self) -> Result<Vec<f32>, CoreError> {
        crate::threshold::read_f32(self.log_threshold.val().exp())
    }

    /// The learned parameter `ln θ`, `[channels]`.
    pub fn log_threshold(&self) -> &Param<Tensor<1>> {
        &self.log_threshold
    }

    /// Gate `x` with the learned thresholds.
    ///
    /// # Shapes
    /// `[batch, channels, ...spatial] -> same`
    ///
    /// # Errors
    /// Wrong rank or channel count, or an empty input.
    pub fn try_forward<const D: usize>(
        &self,
        x: Tensor<D>,
    ) -> Result<JumpReluOutput<D>, CoreError> {
        let dims = check_maps(&x, Some(self.channels))?;
        let mut shape = [1usize; D];
        shape[1] = self.channels;
        let theta: Tensor<D> = self.log_threshold.val().exp().reshape(shape).expand(dims);
        let fixed = theta.clone().detach();
        let moving = theta - fixed.clone();
        let z = x.clone().detach();
        let gate = z.clone().greater(fixed.clone()).float();
        let eps = self.bandwidth;
        let window = (z - fixed.clone())
            .abs()
            .lower_elem(eps / 2.0)
            .float()
            .div_scalar(eps);
        let maps = x * gate.clone() - moving.clone() * fixed * window.clone();
        let l0 = (gate - moving * window).mean();
        Ok(JumpReluOutput { maps, l0 })
    }
}
