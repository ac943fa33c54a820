//! `CollapseMotifs`: a 1x1 convolution from the motif channels to the model width, then max
//! pooling by `pool` (stride `pool`, no padding, floor): 100x100 -> 12x12 for DigitCircle. The
//! convolution (and its bias) comes before the max, as in the reference.

use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig, MaxPool2d, MaxPool2dConfig};
use burn::prelude::*;

/// 2-D collapse.
#[derive(Module, Debug)]
pub struct Collapse2d {
    conv: Conv2d,
    pool: MaxPool2d,
    pool_first: bool,
}

impl Collapse2d {
    /// `motifs -> channels`, pooled by `pool`; `pool_first` swaps the two (see
    /// [`crate::config::CollapseConfig::pool_first`]).
    pub fn new(
        motifs: usize,
        channels: usize,
        pool: usize,
        pool_first: bool,
        device: &Device,
    ) -> Self {
        Self {
            conv: Conv2dConfig::new([motifs, channels], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([pool, pool])
                .with_strides([pool, pool])
                .init(),
            pool_first,
        }
    }

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
    /// `motifs -> channels`, pooled by `pool`.
    pub fn new(motifs: usize, channels: usize, pool: usize, device: &Device) -> Self {
        Self {
            conv: Conv1dConfig::new(motifs, channels, 1).init(device),
            pool: MaxPool1dConfig::new(pool).with_stride(pool).init(),
        }
    }

    /// # Shapes
    /// `[batch, motifs, L] -> [batch, channels, L / pool]` (floor)
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.pool.forward(self.conv.forward(x))
    }
}
