//! The spatial sparsity layer: `relu(x - t)` with `t` a running quantile of the activations.

use std::sync::{Mutex, MutexGuard};

use burn::module::{Flag, Param, ParamId, RunningState};
use burn::prelude::*;
use burn::tensor::DType;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::shape::check_maps;
use crate::threshold::{KthMethod, kth_index, kth_smallest, kth_smallest_host, read_f32};

/// Whether each channel gets its own threshold.
#[derive(Config, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdScope {
    /// One threshold per channel (the paper's "MT"; the authors' `EnforceSparsityPerChannel2D`).
    /// Every channel keeps the target density on its own.
    PerChannel,
    /// One threshold over all channels (the "ST" ablation; `EnforceSparsityUniversally`).
    /// Only the total density is controlled.
    Universal,
}

// `#[derive(Default)]` with `#[default]` does not compose with burn's `Config` derive.
#[allow(clippy::derivable_impls)]
impl Default for ThresholdScope {
    fn default() -> Self {
        Self::PerChannel
    }
}

/// Configuration of a [`SparsityLayer`].
#[derive(Config, Debug)]
pub struct SparsityLayerConfig {
    /// Number of channels (axis 1 of the input).
    pub channels: usize,
    /// Starting density: the fraction of activations kept, in `(0, 1]`.
    #[config(default = 0.5)]
    pub density: f64,
    /// Weight of the new batch quantile in the running threshold, in `[0, 1]`
    /// (`t = (1 - momentum) t + momentum t_batch`).
    #[config(default = 0.1)]
    pub momentum: f64,
    /// Per-channel or universal threshold.
    #[config(default = "ThresholdScope::PerChannel")]
    pub scope: ThresholdScope,
    /// Buffer detached batches until `rows * density` reaches this many expected activations per
    /// channel before updating the threshold (the authors' `EnforceSparsityPerChannelAccumulated`
    /// with `StopAtFixedNumberMotifs`; 10 in the LaTeX and audio domains). `None` updates on
    /// every batch, as in DigitCircle.
    #[config(default = "None")]
    pub accumulate_motifs: Option<f64>,
    /// How the batch quantile is computed (identical results; differ in speed).
    #[config(default = "KthMethod::Select")]
    pub kth_method: KthMethod,
}

impl SparsityLayerConfig {
    /// Check every field.
    ///
    /// # Errors
    /// The first invalid field, as a [`CoreError`].
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.channels == 0 {
            return Err(CoreError::NoChannels(self.channels));
        }
        crate::check_density(self.density)?;
        if !(self.momentum.is_finite() && (0.0..=1.0).contains(&self.momentum)) {
            return Err(CoreError::InvalidMomentum(self.momentum));
        }
        if let Some(motifs) = self.accumulate_motifs
            && !(motifs.is_finite() && motifs > 0.0)
        {
            return Err(CoreError::InvalidAccumulationTarget(motifs));
        }
        Ok(())
    }

    /// Build the layer on `device`; thresholds start at 0, as in the reference.
    ///
    /// # Errors
    /// An invalid configuration ([`Self::validate`]).
    pub fn init(&self, device: &Device) -> Result<SparsityLayer, CoreError> {
        self.validate()?;
        let groups = match self.scope {
            ThresholdScope::PerChannel => self.channels,
            ThresholdScope::Universal => 1,
        };
        let sparsity_id = ParamId::new();
        Ok(SparsityLayer {
            thresholds: RunningState::new(Tensor::zeros([groups], device)),
            sparsity: RunningState::with_id(sparsity_id, sparsity_tensor(self.density, device)),
            training: Param::from_bool(true),
            settings: Settings {
                channels: self.channels,
                momentum: self.momentum,
                scope: self.scope,
                accumulate_motifs: self.accumulate_motifs,
                kth_method: self.kth_method,
                sparsity_id,
            },
            accumulator: Accumulator::default(),
        })
    }
}

/// The SPARLING spatial sparsity layer.
///
/// Input `[batch, channels, ...spatial]` (1-D, 2-D or more spatial axes). Output
/// `relu(x - t)` with one threshold per channel (or one in total, [`ThresholdScope::Universal`]).
///
/// * **Training** (autodiff device and training flag on): per channel, with
///   `rows = batch * spatial` and `k = max(1, floor(rows * (1 - density)))`, the batch threshold
///   is the k-th smallest activation (detached); the running threshold becomes
///   `t = (1 - momentum) t + momentum t_batch`, and the output uses the updated `t`. The gradient
///   reaches exactly the surviving entries (`x > t`).
/// * **Evaluation** ([`Module::valid`] or a plain device): `t` is frozen.
///
/// The density is runtime state: [`Self::set_density`] changes it, and it is saved in the module
/// record (as an `f64` tensor) together with the thresholds, so a reloaded model continues at the
/// same density with the same thresholds.
#[derive(Module, Debug)]
pub struct SparsityLayer {
    /// Running thresholds, `[channels]` (or `[1]` for the universal scope).
    thresholds: RunningState<Tensor<1>>,
    /// `1 - density` as a one-element `f64` tensor; kept as sparsity, like the reference, so the
    /// density grid `0.5 * 0.75^k` is reproduced bit for bit.
    sparsity: RunningState<Tensor<1>>,
    /// Whether training behaviour is enabled (turned off by [`Module::valid`]).
    training: Param<Flag>,
    #[module(skip)]
    settings: Settings,
    #[module(skip)]
    accumulator: Accumulator,
}

#[derive(Clone, Debug)]
struct Settings {
    channels: usize,
    momentum: f64,
    scope: ThresholdScope,
    accumulate_motifs: Option<f64>,
    kth_method: KthMethod,
    sparsity_id: ParamId,
}

/// Detached activations buffered by the accumulated variant, `values[group]` holding the rows of
/// one channel (or of all channels for the universal scope). Not part of the module record;
/// training loops that need an exact resume save it with [`SparsityLayer::accumulator_state`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccumulatorState {
    /// Rows buffered per channel.
    pub rows: usize,
    /// Buffered values per threshold group.
    pub values: Vec<Vec<f32>>,
}

/// Interior-mutable buffer; cloning the layer copies the buffer instead of sharing it.
#[derive(Debug, Default)]
struct Accumulator(Mutex<AccumulatorState>);

impl Accumulator {
    fn lock(&self) -> MutexGuard<'_, AccumulatorState> {
        // A panic elsewhere while holding the lock leaves a consistent (if partial) buffer.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clone for Accumulator {
    fn clone(&self) -> Self {
        Self(Mutex::new(self.lock().clone()))
    }
}

fn sparsity_tensor(density: f64, device: &Device) -> Tensor<1> {
    Tensor::from_data(
        TensorData::new(vec![1.0 - density], [1]),
        (device, DType::F64),
    )
}

impl SparsityLayer {
    /// Apply the layer.
    ///
    /// # Shapes
    /// - input: `[batch, channels, ...spatial]`, rank >= 3
    /// - output: same as the input
    ///
    /// # Panics
    /// On the errors of [`Self::try_forward`] (wrong channel count or rank, NaN/inf in a training
    /// step), with the error's message. Use `try_forward` to handle them.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.try_forward(x)
            .unwrap_or_else(|e| panic!("sparsity layer: {e}"))
    }

    /// Apply the layer, reporting bad input as an error.
    ///
    /// # Errors
    /// [`CoreError::RankTooLow`], [`CoreError::ChannelMismatch`], [`CoreError::EmptyInput`], or
    /// [`CoreError::NonFiniteInput`] when NaN/inf reaches a training step (the thresholds are then
    /// left unchanged).
    pub fn try_forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, CoreError> {
        let t = self.threshold_for(&x)?;
        Ok(relu(x - t))
    }

    /// `x - t` without the ReLU (the reference's `disable_relu=True`), used to read the motif
    /// model's preference on inputs where nothing would survive. Never updates the thresholds.
    ///
    /// # Errors
    /// Shape errors as in [`Self::try_forward`].
    pub fn forward_without_relu<const D: usize>(
        &self,
        x: Tensor<D>,
    ) -> Result<Tensor<D>, CoreError> {
        self.check_shape(&x)?;
        let t = self.broadcast::<D>(self.thresholds.value_sync(), &x.device());
        Ok(x - t)
    }

    /// The current density (fraction of activations kept).
    ///
    /// # Panics
    /// If the backend cannot read the one-element density tensor back (a device failure).
    pub fn density(&self) -> f64 {
        match self.sparsity_value() {
            Ok(s) => 1.0 - s,
            Err(e) => panic!("sparsity layer: {e}"),
        }
    }

    /// Set the density, e.g. from a [`crate::DensitySchedule`]. Thresholds are kept and
    /// re-converge through the momentum, as in the reference.
    ///
    /// # Errors
    /// [`CoreError::InvalidDensity`] outside `(0, 1]`.
    pub fn set_density(&mut self, density: f64) -> Result<(), CoreError> {
        crate::check_density(density)?;
        let device = self.sparsity.value().device();
        self.sparsity =
            RunningState::with_id(self.settings.sparsity_id, sparsity_tensor(density, &device));
        Ok(())
    }

    /// The running thresholds on the host (`[channels]`, or one value for the universal scope).
    ///
    /// # Errors
    /// A failed read from the device.
    pub fn thresholds(&self) -> Result<Vec<f32>, CoreError> {
        read_f32(self.thresholds.value_sync())
    }

    /// Number of channels the layer was built for.
    pub fn channels(&self) -> usize {
        self.settings.channels
    }

    /// Threshold scope.
    pub fn scope(&self) -> ThresholdScope {
        self.settings.scope
    }

    /// Whether a forward pass on `x` would update the thresholds.
    pub fn is_training<const D: usize>(&self, x: &Tensor<D>) -> bool {
        x.device().is_autodiff() && self.training.is_enabled()
    }

    /// A copy of the accumulated-variant buffer (empty for the plain variant).
    pub fn accumulator_state(&self) -> AccumulatorState {
        self.accumulator.lock().clone()
    }

    /// Restore a buffer saved with [`Self::accumulator_state`].
    pub fn restore_accumulator(&self, state: AccumulatorState) {
        *self.accumulator.lock() = state;
    }

    fn sparsity_value(&self) -> Result<f64, CoreError> {
        // One host read per call: the tensor is the persisted source of truth, so a freshly
        // loaded record is always honoured.
        let values = self
            .sparsity
            .value()
            .try_into_data()
            .map_err(|e| CoreError::TensorData(format!("{e:?}")))?
            .convert::<f64>()
            .try_into_vec::<f64>()
            .map_err(|e| CoreError::TensorData(format!("{e:?}")))?;
        values
            .first()
            .copied()
            .ok_or_else(|| CoreError::TensorData("empty density tensor".into()))
    }

    fn check_shape<const D: usize>(&self, x: &Tensor<D>) -> Result<[usize; D], CoreError> {
        check_maps(x, Some(self.settings.channels))
    }

    /// Shape the thresholds `[groups]` to broadcast against an input of rank `D`.
    fn broadcast<const D: usize>(&self, t: Tensor<1>, device: &Device) -> Tensor<D> {
        let mut shape = [1usize; D];
        if self.settings.scope == ThresholdScope::PerChannel {
            shape[1] = self.settings.channels;
        }
        t.to_device(device).reshape(shape)
    }

    fn threshold_for<const D: usize>(&self, x: &Tensor<D>) -> Result<Tensor<D>, CoreError> {
        let dims = self.check_shape(x)?;
        let device = x.device();
        let t = if self.is_training(x) {
            match self.batch_threshold(x, dims)? {
                Some(batch) => {
                    let old = read_f32(self.thresholds.value_sync())?;
                    let keep = (1.0 - self.settings.momentum) as f32;
                    let take = self.settings.momentum as f32;
                    let new: Vec<f32> = old
                        .iter()
                        .zip(&batch)
                        .map(|(o, b)| o * keep + b * take)
                        .collect();
                    let groups = new.len();
                    let new = Tensor::<1>::from_data(TensorData::new(new, [groups]), &device);
                    self.thresholds.update(new.clone());
                    new
                }
                None => self.thresholds.value_sync(),
            }
        } else {
            self.thresholds.value()
        };
        Ok(self.broadcast(t, &device))
    }

    /// The batch quantile per group, or `None` while the accumulated variant is still buffering.
    fn batch_threshold<const D: usize>(
        &self,
        x: &Tensor<D>,
        dims: [usize; D],
    ) -> Result<Option<Vec<f32>>, CoreError> {
        let (groups, rows) = match self.settings.scope {
            ThresholdScope::PerChannel => (dims[1], dims.iter().product::<usize>() / dims[1]),
            ThresholdScope::Universal => (1, dims.iter().product::<usize>()),
        };
        // [N, C, ...] -> [C, N, ...] -> [C, rows]; the universal scope flattens everything.
        let flat: Tensor<2> = match self.settings.scope {
            ThresholdScope::PerChannel => {
                x.clone().detach().swap_dims(0, 1).reshape([groups, rows])
            }
            ThresholdScope::Universal => x.clone().detach().reshape([1, rows]),
        };
        let sparsity = self.sparsity_value()?;
        let Some(motifs) = self.settings.accumulate_motifs else {
            let k = kth_index(rows, sparsity);
            return kth_smallest(flat, k, self.settings.kth_method).map(Some);
        };
        let mut data = read_f32(flat)?;
        if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
            return Err(CoreError::NonFiniteInput {
                channel: pos / rows,
                value: data[pos],
            });
        }
        let mut acc = self.accumulator.lock();
        if acc.values.len() != groups {
            acc.values = vec![Vec::new(); groups];
            acc.rows = 0;
        }
        if acc.rows == 0 && (rows as f64) * (1.0 - sparsity) >= motifs {
            // Nothing buffered and this batch suffices: select in place (the same values as
            // buffering and concatenating, without two copies of the batch; at the LaTeX
            // shape that is 88 MB each).
            drop(acc);
            return kth_smallest_host(&mut data, groups, kth_index(rows, sparsity)).map(Some);
        }
        for (buffer, chunk) in acc.values.iter_mut().zip(data.chunks(rows)) {
            buffer.extend_from_slice(chunk);
        }
        acc.rows += rows;
        if (acc.rows as f64) * (1.0 - sparsity) < motifs {
            return Ok(None);
        }
        let total = acc.rows;
        let mut all: Vec<f32> = std::mem::take(&mut acc.values).concat();
        acc.values = vec![Vec::new(); groups];
        acc.rows = 0;
        drop(acc);
        kth_smallest_host(&mut all, groups, kth_index(total, sparsity)).map(Some)
    }
}
