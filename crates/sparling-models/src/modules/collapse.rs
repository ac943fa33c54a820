//! `CollapseMotifs`: a 1x1 convolution from the motif channels to the model width, then max
//! pooling by `pool` (stride `pool`, no padding, floor): 100x100 -> 12x12 for DigitCircle. The
//! convolution (and its bias) comes before the max, as in the reference.

use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig, MaxPool2d, MaxPool2dConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::validate::positive;

/// `CollapseMotifs`: 1x1 convolution to the model width, then max pooling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollapseConfig {
    /// Model width after the collapse (`d_model` of the encoder and decoder).
    pub channels: usize,
    /// Pooling factor (8).
    pub pool: usize,
    /// Max-pool the motif maps before the 1x1 convolution instead of after it. Much cheaper at
    /// full resolution (the convolution then runs on the pooled grid); at low density, where a
    /// pooled cell holds at most one activation, the two differ only by a per-channel ReLU-like
    /// clamp at the bias. The paper convolves first.
    #[serde(default)]
    pub pool_first: bool,
}

impl CollapseConfig {
    /// The 2-D collapse of `motifs` motif channels.
    pub fn init_2d(&self, motifs: usize, device: &Device) -> Collapse2d {
        Collapse2d {
            conv: Conv2dConfig::new([motifs, self.channels], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([self.pool, self.pool])
                .with_strides([self.pool, self.pool])
                .init(),
            pool_first: self.pool_first,
        }
    }

    /// The 1-D collapse of `motifs` motif channels (`pool_first` does not apply).
    pub fn init_1d(&self, motifs: usize, device: &Device) -> Collapse1d {
        Collapse1d {
            conv: Conv1dConfig::new(motifs, self.channels, 1).init(device),
            pool: MaxPool1dConfig::new(self.pool)
                .with_stride(self.pool)
                .init(),
        }
    }

    /// Check the values (`model.collapse.*`).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let d = self.channels;
        if d == 0 || !d.is_multiple_of(2) {
            return Err(ModelError::invalid(
                "model.collapse.channels",
                d,
                "must be a positive even number (it is the model width)",
            ));
        }
        positive("model.collapse.pool", self.pool)
    }
}

/// 2-D collapse.
#[derive(Module, Debug)]
pub struct Collapse2d {
    conv: Conv2d,
    pool: MaxPool2d,
    pool_first: bool,
}

impl Collapse2d {
    /// # Shapes
    /// `[batch, motifs, H, W] -> [batch, channels, H / pool, W / pool]` (floor)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if self.pool_first {
            self.conv.forward(self.pool.forward(x))
        } else {
            self.pool.forward(self.conv.forward(x))
        }
    }
}

/// 1-D collapse (`CollapseMotifsAudio`).
#[derive(Module, Debug)]
pub struct Collapse1d {
    conv: Conv1d,
    pool: MaxPool1d,
}

impl Collapse1d {
    /// # Shapes
    /// `[batch, motifs, L] -> [batch, channels, L / pool]` (floor)
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.pool.forward(self.conv.forward(x))
    }
}
