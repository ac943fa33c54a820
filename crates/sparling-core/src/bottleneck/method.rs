//! One interface over every method: [`Bottleneck`] is an optional BatchNorm followed by a
//! [`Method`]'s layer, and returns the motif maps with the loss term the method adds (if any).
//! A model holds a `Bottleneck` and switches method by configuration.

use burn::nn::{BatchNorm, BatchNormConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};
use serde::{Deserialize, Serialize};

use super::{
    BatchTopK, BatchTopKConfig, JumpRelu, JumpReluConfig, TopK, TopKConfig, kl_penalty, l1_penalty,
    require,
};
use crate::error::CoreError;
use crate::sparsity::{AccumulatorState, SparsityLayer, SparsityLayerConfig};

/// A sparsity method and its own parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Method {
    /// SPARLING: `relu(x - t)` with the running batch-quantile threshold ([`SparsityLayer`],
    /// configured by the bottleneck's density, momentum, scope and accumulation).
    #[default]
    Sparling,
    /// [`TopK`]: the `k` largest activations per sample and channel.
    TopK {
        /// Activations kept per sample and channel.
        k: usize,
    },
    /// [`BatchTopK`]: `k * batch` per channel over the batch in training, a learned cut-off in
    /// inference.
    BatchTopK {
        /// Activations kept per sample and channel on average.
        k: usize,
        /// Weight of a batch in the inference threshold.
        momentum: f64,
    },
    /// [`JumpRelu`] with the L0 penalty `l0_weight * (surviving fraction)`.
    JumpRelu {
        /// Starting threshold.
        initial_threshold: f64,
        /// Straight-through kernel bandwidth.
        bandwidth: f64,
        /// Weight of the L0 term in the loss.
        l0_weight: f64,
    },
    /// The paper's L1 baseline: `relu(x)` and `weight * mean|relu(x)|` in the loss.
    L1 {
        /// λ.
        weight: f64,
    },
    /// The paper's KL baseline: `s = sigmoid(x)`, `weight * KL(target || mean s)` in the loss,
    /// and `relu(s - 1/2)` passed on (the authors' `ThresholdForKL`).
    Kl {
        /// λ.
        weight: f64,
        /// Target rate `p`.
        target: f64,
    },
    /// No sparsity (and no BatchNorm): the motif logits pass unchanged (the "retrained"
    /// baseline, and a dense reference).
    Identity,
}

impl Method {
    /// Check the method's parameters.
    ///
    /// # Errors
    /// [`CoreError::InvalidMethodParameter`] naming the first bad one.
    pub fn validate(&self) -> Result<(), CoreError> {
        let name = self.name();
        let positive = |field, v: f64| {
            require(
                v.is_finite() && v > 0.0,
                name,
                field,
                v,
                "a finite number > 0",
            )
        };
        let weight = |field, v: f64| {
            require(
                v.is_finite() && v >= 0.0,
                name,
                field,
                v,
                "a finite number >= 0",
            )
        };
        match self {
            Method::Sparling | Method::Identity => Ok(()),
            Method::TopK { k } => require(*k >= 1, name, "k", *k as f64, "at least 1"),
            Method::BatchTopK { k, momentum } => {
                require(*k >= 1, name, "k", *k as f64, "at least 1")?;
                let m = *momentum;
                require(
                    m.is_finite() && m > 0.0 && m <= 1.0,
                    name,
                    "momentum",
                    m,
                    "a number in (0, 1]",
                )
            }
            Method::JumpRelu {
                initial_threshold,
                bandwidth,
                l0_weight,
            } => {
                positive("initial_threshold", *initial_threshold)?;
                positive("bandwidth", *bandwidth)?;
                weight("l0_weight", *l0_weight)
            }
            Method::L1 { weight: w } => weight("weight", *w),
            Method::Kl { weight: w, target } => {
                weight("weight", *w)?;
                require(
                    *target > 0.0 && *target < 1.0,
                    name,
                    "target",
                    *target,
                    "a rate in (0, 1)",
                )
            }
        }
    }

    /// Whether the method adds a loss term.
    pub fn adds_penalty(&self) -> bool {
        matches!(
            self,
            Method::JumpRelu { .. } | Method::L1 { .. } | Method::Kl { .. }
        )
    }

    /// The method's name in configuration files.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Sparling => "sparling",
            Method::TopK { .. } => "top-k",
            Method::BatchTopK { .. } => "batch-top-k",
            Method::JumpRelu { .. } => "jump-relu",
            Method::L1 { .. } => "l1",
            Method::Kl { .. } => "kl",
            Method::Identity => "identity",
        }
    }
}

/// Configuration of a [`Bottleneck`].
#[derive(Clone, Debug)]
pub struct BottleneckConfig {
    /// Channels, and SPARLING's density, momentum, scope and accumulation (used by
    /// [`Method::Sparling`]; `channels` sizes every method).
    pub sparsity: SparsityLayerConfig,
    /// The method.
    pub method: Method,
    /// BatchNorm in front of the method (the paper's default; off in the "no BN" ablations and
    /// always off for [`Method::Identity`]).
    pub batch_norm: bool,
    /// Learn the BatchNorm scale and shift.
    pub affine: bool,
}

impl BottleneckConfig {
    /// SPARLING with BatchNorm (affine), as the paper.
    pub fn new(sparsity: SparsityLayerConfig) -> Self {
        Self {
            sparsity,
            method: Method::Sparling,
            batch_norm: true,
            affine: true,
        }
    }

    /// The same with another method.
    #[must_use]
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The same with or without BatchNorm.
    #[must_use]
    pub fn with_batch_norm(mut self, batch_norm: bool) -> Self {
        self.batch_norm = batch_norm;
        self
    }

    /// The same with or without a learned BatchNorm scale and shift.
    #[must_use]
    pub fn with_affine(mut self, affine: bool) -> Self {
        self.affine = affine;
        self
    }

    /// Build the bottleneck.
    ///
    /// # Errors
    /// An invalid SPARLING configuration or method parameter.
    pub fn init(&self, device: &Device) -> Result<Bottleneck, CoreError> {
        self.sparsity.validate()?;
        self.method.validate()?;
        let channels = self.sparsity.channels;
        let method = match &self.method {
            Method::Sparling => MethodLayer::Sparling(self.sparsity.init(device)?),
            Method::TopK { k } => MethodLayer::TopK(TopKConfig::new(*k).init()?),
            Method::BatchTopK { k, momentum } => MethodLayer::BatchTopK(
                BatchTopKConfig::new(channels, *k)
                    .with_momentum(*momentum)
                    .init(device)?,
            ),
            Method::JumpRelu {
                initial_threshold,
                bandwidth,
                ..
            } => MethodLayer::JumpRelu(
                JumpReluConfig::new(channels)
                    .with_initial_threshold(*initial_threshold)
                    .with_bandwidth(*bandwidth)
                    .init(device)?,
            ),
            Method::L1 { .. } | Method::Kl { .. } | Method::Identity => {
                MethodLayer::Stateless(Stateless { channels })
            }
        };
        let batch_norm = (self.batch_norm && self.method != Method::Identity).then(|| {
            let mut bn = BatchNormConfig::new(channels).init(device);
            if !self.affine {
                bn.gamma = bn.gamma.set_require_grad(false);
                bn.beta = bn.beta.set_require_grad(false);
            }
            bn
        });
        Ok(Bottleneck {
            batch_norm,
            layer: method,
            channels,
            method: self.method.clone(),
        })
    }
}

/// The layer of a [`Method`]: the stateful ones, and [`Stateless`] for L1, KL and identity
/// (their behaviour is the bottleneck's [`Method`]).
#[derive(Module, Debug)]
pub enum MethodLayer {
    /// [`Method::Sparling`].
    Sparling(SparsityLayer),
    /// [`Method::TopK`].
    TopK(TopK),
    /// [`Method::BatchTopK`].
    BatchTopK(BatchTopK),
    /// [`Method::JumpRelu`].
    JumpRelu(JumpRelu),
    /// [`Method::L1`], [`Method::Kl`] and [`Method::Identity`].
    Stateless(Stateless),
}

/// A method layer without parameters or state.
#[derive(Module, Debug)]
pub struct Stateless {
    channels: usize,
}

/// What a [`Bottleneck`] returns.
#[derive(Debug)]
pub struct BottleneckOutput<const D: usize> {
    /// The motif maps passed downstream (the input's shape).
    pub maps: Tensor<D>,
    /// The weighted loss term the method adds (`[1]`), if it adds one.
    pub penalty: Option<Tensor<1>>,
}

/// An optional BatchNorm followed by a sparsity method.
#[derive(Module, Debug)]
pub struct Bottleneck {
    batch_norm: Option<BatchNorm>,
    layer: MethodLayer,
    channels: usize,
    #[module(skip)]
    method: Method,
}

impl Bottleneck {
    /// Apply BatchNorm (if any) and the method.
    ///
    /// # Shapes
    /// `[batch, channels, ...spatial] -> same`
    ///
    /// # Errors
    /// Wrong rank or channel count, an empty input, or NaN/inf in a training step.
    pub fn try_forward<const D: usize>(
        &self,
        x: Tensor<D>,
    ) -> Result<BottleneckOutput<D>, CoreError> {
        super::check_maps(&x, Some(self.channels))?;
        let x = match &self.batch_norm {
            Some(bn) => bn.forward(x),
            None => x,
        };
        let (maps, penalty) = match (&self.layer, &self.method) {
            (MethodLayer::Sparling(layer), _) => (layer.try_forward(x)?, None),
            (MethodLayer::TopK(layer), _) => (layer.try_forward(x)?, None),
            (MethodLayer::BatchTopK(layer), _) => (layer.try_forward(x)?, None),
            (MethodLayer::JumpRelu(layer), Method::JumpRelu { l0_weight, .. }) => {
                let out = layer.try_forward(x)?;
                (out.maps, Some(out.l0.mul_scalar(*l0_weight)))
            }
            (_, Method::L1 { weight }) => {
                let maps = relu(x);
                let penalty = l1_penalty(maps.clone()).mul_scalar(*weight);
                (maps, Some(penalty))
            }
            (_, Method::Kl { weight, target }) => {
                let s = sigmoid(x);
                let penalty = kl_penalty(s.clone(), *target)?.mul_scalar(*weight);
                (relu(s.sub_scalar(0.5)), Some(penalty))
            }
            _ => (x, None),
        };
        Ok(BottleneckOutput { maps, penalty })
    }

    /// The motif scores of the direct evaluation: for SPARLING, BatchNorm (if any) then `x - t`
    /// without the ReLU (see [`SparsityLayer::forward_without_relu`]); for
    /// [`Method::Identity`] (the directly trained motif model), the motif logits themselves.
    ///
    /// # Errors
    /// Shape errors, or [`CoreError::InvalidMethodParameter`] for another method.
    pub fn forward_without_relu<const D: usize>(
        &self,
        x: Tensor<D>,
    ) -> Result<Tensor<D>, CoreError> {
        super::check_maps(&x, Some(self.channels))?;
        if self.method == Method::Identity {
            return Ok(x);
        }
        let MethodLayer::Sparling(layer) = &self.layer else {
            return Err(CoreError::InvalidMethodParameter {
                method: self.method.name(),
                name: "scores",
                value: f64::NAN,
                allowed: "SPARLING's threshold or identity (scores without the ReLU are defined \
                          only there)",
            });
        };
        let x = match &self.batch_norm {
            Some(bn) => bn.forward(x),
            None => x,
        };
        layer.forward_without_relu(x)
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The method's thresholds on the host: SPARLING's running thresholds, BatchTopK's inference
    /// thresholds, JumpReLU's learned ones; empty for the others.
    ///
    /// # Errors
    /// A failed read from the device.
    pub fn thresholds(&self) -> Result<Vec<f32>, CoreError> {
        match &self.layer {
            MethodLayer::Sparling(layer) => layer.thresholds(),
            MethodLayer::BatchTopK(layer) => layer.thresholds(),
            MethodLayer::JumpRelu(layer) => layer.thresholds(),
            MethodLayer::TopK(_) | MethodLayer::Stateless(_) => Ok(Vec::new()),
        }
    }

    /// SPARLING's accumulated-threshold buffer (empty for the other methods), for an exact
    /// resume.
    pub fn accumulator_state(&self) -> AccumulatorState {
        match &self.layer {
            MethodLayer::Sparling(layer) => layer.accumulator_state(),
            _ => AccumulatorState::default(),
        }
    }

    /// Restore a buffer saved with [`Self::accumulator_state`] (ignored by the other methods).
    pub fn restore_accumulator(&self, state: AccumulatorState) {
        if let MethodLayer::Sparling(layer) = &self.layer {
            layer.restore_accumulator(state);
        }
    }

    /// The method's layer.
    pub fn layer(&self) -> &MethodLayer {
        &self.layer
    }

    /// The method and its parameters.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The BatchNorm in front of the method, if any.
    pub fn batch_norm(&self) -> Option<&BatchNorm> {
        self.batch_norm.as_ref()
    }

    /// The target density of a SPARLING bottleneck; `None` for methods whose density is not
    /// set from outside (it is then measured on the maps).
    pub fn density(&self) -> Option<f64> {
        match &self.layer {
            MethodLayer::Sparling(layer) => Some(layer.density()),
            _ => None,
        }
    }

    /// Set the density of a SPARLING bottleneck.
    ///
    /// # Errors
    /// [`CoreError::InvalidDensity`] outside `(0, 1]`, or [`CoreError::InvalidMethodParameter`]
    /// for a method without a settable density.
    pub fn set_density(&mut self, density: f64) -> Result<(), CoreError> {
        match &mut self.layer {
            MethodLayer::Sparling(layer) => layer.set_density(density),
            _ => Err(CoreError::InvalidMethodParameter {
                method: "this sparsity method",
                name: "density",
                value: density,
                allowed: "no density schedule: only SPARLING's density is set from outside",
            }),
        }
    }
}
