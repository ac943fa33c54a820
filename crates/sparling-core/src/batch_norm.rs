//! `SparseLayerWithBatchNorm`: BatchNorm followed by the sparsity layer.
//!
//! The paper puts a BatchNorm before the threshold "to increase training stability"; without it
//! DigitCircle does not learn (E2EE about 71 %, the paper's batch-norm ablation). The authors'
//! library calls it "absolutely necessary for performance".

use burn::nn::{BatchNorm, BatchNormConfig};
use burn::prelude::*;

use crate::error::CoreError;
use crate::shape::check_maps;
use crate::sparsity::{SparsityLayer, SparsityLayerConfig};

/// Configuration of [`SparseLayerWithBatchNorm`].
#[derive(Config, Debug)]
pub struct SparseLayerWithBatchNormConfig {
    /// The sparsity layer; its `channels` also sizes the BatchNorm.
    pub sparsity: SparsityLayerConfig,
    /// Learn the BatchNorm scale and shift (`true` for DigitCircle, `false` for LaTeX and audio).
    /// Without affine the scale and shift stay at 1 and 0 and get no gradient.
    #[config(default = true)]
    pub affine: bool,
    /// BatchNorm epsilon (PyTorch's default).
    #[config(default = 1e-5)]
    pub epsilon: f64,
    /// BatchNorm running-statistics momentum (PyTorch's default).
    #[config(default = 0.1)]
    pub batch_norm_momentum: f64,
}

impl SparseLayerWithBatchNormConfig {
    /// Build the layer.
    ///
    /// # Errors
    /// An invalid sparsity configuration, or a BatchNorm momentum outside `[0, 1]`.
    pub fn init(&self, device: &Device) -> Result<SparseLayerWithBatchNorm, CoreError> {
        let sparsity = self.sparsity.init(device)?;
        let m = self.batch_norm_momentum;
        if !(m.is_finite() && (0.0..=1.0).contains(&m)) {
            return Err(CoreError::InvalidMomentum(m));
        }
        let mut batch_norm = BatchNormConfig::new(self.sparsity.channels)
            .with_epsilon(self.epsilon)
            .with_momentum(m)
            .init(device);
        if !self.affine {
            batch_norm.gamma = batch_norm.gamma.set_require_grad(false);
            batch_norm.beta = batch_norm.beta.set_require_grad(false);
        }
        Ok(SparseLayerWithBatchNorm {
            batch_norm,
            sparsity,
        })
    }
}

/// BatchNorm (batch statistics in training, running statistics in evaluation), then a
/// [`SparsityLayer`].
#[derive(Module, Debug)]
pub struct SparseLayerWithBatchNorm {
    /// The normalisation in front of the threshold.
    pub batch_norm: BatchNorm,
    /// The threshold layer.
    pub sparsity: SparsityLayer,
}

impl SparseLayerWithBatchNorm {
    /// Apply BatchNorm then the sparsity layer.
    ///
    /// # Shapes
    /// - input: `[batch, channels, ...spatial]`, rank >= 3
    /// - output: same as the input
    ///
    /// # Panics
    /// On the errors of [`Self::try_forward`].
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.try_forward(x)
            .unwrap_or_else(|e| panic!("sparsity layer: {e}"))
    }

    /// Apply BatchNorm then the sparsity layer, reporting bad input as an error.
    ///
    /// # Errors
    /// As [`SparsityLayer::try_forward`]; the shape is checked before BatchNorm sees the input.
    pub fn try_forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, CoreError> {
        self.check_channels(&x)?;
        self.sparsity.try_forward(self.batch_norm.forward(x))
    }

    /// BatchNorm then `x - t` without the ReLU (see [`SparsityLayer::forward_without_relu`]).
    ///
    /// # Errors
    /// Shape errors.
    pub fn forward_without_relu<const D: usize>(
        &self,
        x: Tensor<D>,
    ) -> Result<Tensor<D>, CoreError> {
        self.check_channels(&x)?;
        self.sparsity
            .forward_without_relu(self.batch_norm.forward(x))
    }

    /// The current density.
    pub fn density(&self) -> f64 {
        self.sparsity.density()
    }

    /// Set the density (see [`SparsityLayer::set_density`]).
    ///
    /// # Errors
    /// A density outside `(0, 1]`.
    pub fn set_density(&mut self, density: f64) -> Result<(), CoreError> {
        self.sparsity.set_density(density)
    }

    fn check_channels<const D: usize>(&self, x: &Tensor<D>) -> Result<(), CoreError> {
        check_maps(x, Some(self.sparsity.channels())).map(|_| ())
    }
}
