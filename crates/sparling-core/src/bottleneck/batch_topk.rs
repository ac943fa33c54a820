//! BatchTopK: in training, the `k * batch` largest activations of each channel over the whole
//! batch survive (so a sample may keep more or fewer than `k` per channel); inference gates with
//! a per-channel threshold estimated from the training batches, a running average of the
//! smallest surviving (positive) activation. Survivors keep their value (`x * [x >= t]`, then a ReLU);
//! SPARLING instead shifts them (`relu(x - t)`).

use burn::module::{Flag, Param, RunningState};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::{check_maps, expand_groups, require};
use crate::error::CoreError;
use crate::threshold::{kth_smallest_host, read_f32};

/// Configuration of [`BatchTopK`].
#[derive(Config, Debug)]
pub struct BatchTopKConfig {
    /// Number of channels (axis 1 of the input).
    pub channels: usize,
    /// Activations kept per sample and channel on average over a training batch (at least 1).
    pub k: usize,
    /// Weight of a training batch's threshold in the inference threshold, in `(0, 1]`.
    #[config(default = 0.1)]
    pub momentum: f64,
}

impl BatchTopKConfig {
    /// Build the layer; the inference threshold is unset (`-inf`, so everything positive passes)
    /// until the first training batch sets it.
    ///
    /// # Errors
    /// [`CoreError::NoChannels`], or [`CoreError::InvalidMethodParameter`] for `k` or
    /// `momentum`.
    pub fn init(&self, device: &Device) -> Result<BatchTopK, CoreError> {
        if self.channels == 0 {
            return Err(CoreError::NoChannels(0));
        }
        require(self.k >= 1, "BatchTopK", "k", self.k as f64, "at least 1")?;
        let m = self.momentum;
        require(
            m.is_finite() && m > 0.0 && m <= 1.0,
            "BatchTopK",
            "momentum",
            m,
            "a number in (0, 1]",
        )?;
        Ok(BatchTopK {
            thresholds: RunningState::new(Tensor::full([self.channels], f32::NEG_INFINITY, device)),
            training: Param::from_bool(true),
            settings: Settings {
                channels: self.channels,
                k: self.k,
                momentum: m,
            },
        })
    }
}

#[derive(Clone, Debug)]
struct Settings {
    channels: usize,
    k: usize,
    momentum: f64,
}

/// The BatchTopK bottleneck.
#[derive(Module, Debug)]
pub struct BatchTopK {
    /// Inference thresholds `[channels]`.
    thresholds: RunningState<Tensor<1>>,
    /// Whether training behaviour is enabled (turned off by `Module::valid`).
    training: Param<Flag>,
    #[module(skip)]
    settings: Settings,
}

impl BatchTopK {
    /// Activations kept per sample and channel on average in training.
    pub fn k(&self) -> usize {
        self.settings.k
    }

    /// The inference thresholds on the host (`-inf` before any training batch).
    ///
    /// # Errors
    /// A failed read from the device.
    pub fn thresholds(&self) -> Result<Vec<f32>, CoreError> {
        read_f32(self.thresholds.value_sync())
    }

    /// Whether a forward pass on `x` is a training step (batch selection, threshold update).
    pub fn is_training<const D: usize>(&self, x: &Tensor<D>) -> bool {
        x.device().is_autodiff() && self.training.is_enabled()
    }

    /// In training, keep the `k * batch` largest values of each channel over the batch (ties
    /// at the last one all survive) and fold the smallest kept value into the inference
    /// threshold; in inference keep the values above that threshold. Then ReLU.
    ///
    /// # Shapes
    /// `[batch, channels, ...spatial] -> same`
    ///
    /// # Errors
    /// Wrong rank or channel count, an empty input, or NaN/inf in a training step.
    pub fn try_forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, CoreError> {
        let channels = self.settings.channels;
        let dims = check_maps(&x, Some(channels))?;
        let device = x.device();
        let keep = if self.is_training(&x) {
            let rows = dims.iter().product::<usize>() / channels;
            let kept = (self.settings.k * dims[0]).min(rows);
            // [N, C, ...] -> [C, N, ...] -> [C, rows]
            let flat = x.clone().detach().swap_dims(0, 1).reshape([channels, rows]);
            let mut data = read_f32(flat)?;
            let batch = kth_smallest_host(&mut data, channels, rows - kept + 1)?;
            let old = read_f32(self.thresholds.value_sync())?;
            let m = self.settings.momentum as f32;
            let new: Vec<f32> = old
                .iter()
                .zip(&batch)
                // Only a positive cut-off is a surviving activation (the ReLU zeroes the rest);
                // a batch whose k * batch-th value is not positive leaves the threshold alone.
                .map(|(o, b)| match (o.is_finite(), *b > 0.0) {
                    (_, false) => *o,
                    (false, true) => *b,
                    (true, true) => (1.0 - m) * o + m * b,
                })
                .collect();
            self.thresholds
                .update(Tensor::from_data(TensorData::new(new, [channels]), &device));
            x.clone()
                .greater_equal(expand_groups(batch, dims, false, &device))
        } else {
            let t = read_f32(self.thresholds.value())?;
            x.clone().greater(expand_groups(t, dims, false, &device))
        };
        Ok(relu(x.mask_fill(keep.bool_not(), 0.0)))
    }
}
