//! The convolutional motif model `ĝ` (the authors' `ConvolutionalMotifModel`): a 1x1 input
//! convolution, pre-activation residual units, and a 1x1 convolution to the motif channels.
//! Its receptive field is `1 + 2 * units * (kernel - 1)`: 17x17 for DigitCircle's 4 units of 3x3.

use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::residual::{ResidualUnit1d, ResidualUnit2d};

/// Shape of the motif model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotifConfig {
    /// Input channels (1 for images; the mel bands for audio, which are treated as channels).
    pub in_channels: usize,
    /// Width of the residual trunk (64 in the paper).
    pub hidden: usize,
    /// Motif channels at the output (10 for DigitCircle).
    pub motifs: usize,
    /// Number of residual units (each has two convolutions).
    pub residual_units: usize,
    /// Odd kernel size of the convolutions (3 in the paper).
    pub kernel: usize,
    /// Space-to-depth factor: the trunk runs on `patch x patch` blocks folded into channels and
    /// the motif logits are unfolded back to full resolution, so the motif maps keep the input's
    /// resolution while convolutions see `patch^2` times fewer positions. 1 (the paper) disables
    /// it. A CPU speed device; the receptive field stays local.
    #[serde(default = "one")]
    pub patch: usize,
}

fn one() -> usize {
    1
}

impl MotifConfig {
    /// Side of the receptive field in pixels (or frames), at most (for `patch > 1` it depends
    /// on the position inside the block).
    pub fn receptive_field(&self) -> usize {
        self.patch * (1 + 2 * self.residual_units * (self.kernel - 1))
    }

    /// Build the 2-D motif model.
    pub fn init_2d(&self, device: &Device) -> MotifModel2d {
        let p2 = self.patch * self.patch;
        MotifModel2d {
            conv_in: Conv2dConfig::new([self.in_channels * p2, self.hidden], [1, 1]).init(device),
            units: (0..self.residual_units)
                .map(|_| ResidualUnit2d::new(self.hidden, self.kernel, device))
                .collect(),
            conv_out: Conv2dConfig::new([self.hidden, self.motifs * p2], [1, 1]).init(device),
            patch: self.patch,
        }
    }

    /// Build the 1-D motif model.
    pub fn init_1d(&self, device: &Device) -> MotifModel1d {
        MotifModel1d {
            conv_in: Conv1dConfig::new(self.in_channels, self.hidden, 1).init(device),
            units: (0..self.residual_units)
                .map(|_| ResidualUnit1d::new(self.hidden, self.kernel, device))
                .collect(),
            conv_out: Conv1dConfig::new(self.hidden, self.motifs, 1).init(device),
        }
    }
}

/// 2-D motif model: `[batch, in, H, W] -> [batch, motifs, H, W]` (pre-sparsity logits).
#[derive(Module, Debug)]
pub struct MotifModel2d {
    conv_in: Conv2d,
    units: Vec<ResidualUnit2d>,
    conv_out: Conv2d,
    patch: usize,
}

impl MotifModel2d {
    /// # Shapes
    /// `[batch, in_channels, height, width] -> [batch, motifs, height, width]`; with `patch > 1`
    /// height and width must be multiples of `patch`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = space_to_depth(x, self.patch);
        let x = self
            .units
            .iter()
            .fold(self.conv_in.forward(x), |x, u| u.forward(x));
        depth_to_space(self.conv_out.forward(x), self.patch)
    }
}

/// `[N, C, H, W] -> [N, C * p * p, H / p, W / p]`; channel `c * p * p + i * p + j` holds pixel
/// `(i, j)` of each block.
pub fn space_to_depth(x: Tensor<4>, p: usize) -> Tensor<4> {
    if p == 1 {
        return x;
    }
    let [n, c, h, w] = x.dims();
    // [N, C, H/p, p, W/p, p] -> [N, C, p, p, H/p, W/p]
    x.reshape([n, c, h / p, p, w / p, p])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([n, c * p * p, h / p, w / p])
}

/// Inverse of [`space_to_depth`].
pub fn depth_to_space(x: Tensor<4>, p: usize) -> Tensor<4> {
    if p == 1 {
        return x;
    }
    let [n, cp, h, w] = x.dims();
    let c = cp / (p * p);
    // [N, C, p, p, H, W] -> [N, C, H, p, W, p]
    x.reshape([n, c, p, p, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([n, c, h * p, w * p])
}

/// 1-D motif model: `[batch, in, L] -> [batch, motifs, L]`.
#[derive(Module, Debug)]
pub struct MotifModel1d {
    conv_in: Conv1d,
    units: Vec<ResidualUnit1d>,
    conv_out: Conv1d,
}

impl MotifModel1d {
    /// # Shapes
    /// `[batch, in_channels, length] -> [batch, motifs, length]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self
            .units
            .iter()
            .fold(self.conv_in.forward(x), |x, u| u.forward(x));
        self.conv_out.forward(x)
    }
}
