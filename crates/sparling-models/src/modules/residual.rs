//! Pre-activation residual units (He et al. 2016), as in the authors' `ResidualUnit`:
//! `y = conv2(relu(bn2(conv1(relu(bn1(x)))))) + x`.

use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig1d, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::PadMode;

use super::motif::Padding;

/// A 2-D residual unit: two `k x k` convolutions with "same" padding, `channels` wide.
#[derive(Module, Debug)]
pub struct ResidualUnit2d {
    bn1: BatchNorm,
    conv1: Conv2d,
    bn2: BatchNorm,
    conv2: Conv2d,
    /// With [`Padding::Edge`], the border repeated this many times on every side before each
    /// (then unpadded) convolution.
    #[module(skip)]
    edge: Option<usize>,
}

impl ResidualUnit2d {
    /// Build a unit of `channels` channels with square kernels of odd size `kernel`.
    pub fn new(channels: usize, kernel: usize, padding: Padding, device: &Device) -> Self {
        let p = kernel / 2;
        let conv = || {
            let config = Conv2dConfig::new([channels, channels], [kernel, kernel]);
            match padding {
                Padding::Zeros => config.with_padding(PaddingConfig2d::Explicit(p, p, p, p)),
                Padding::Edge => config.with_padding(PaddingConfig2d::Valid),
            }
            .init(device)
        };
        Self {
            bn1: BatchNormConfig::new(channels).init(device),
            conv1: conv(),
            bn2: BatchNormConfig::new(channels).init(device),
            conv2: conv(),
            edge: (padding == Padding::Edge).then_some(p),
        }
    }

    fn pad(&self, x: Tensor<4>) -> Tensor<4> {
        match self.edge {
            Some(p) => x.pad((p, p, p, p), PadMode::Edge),
            None => x,
        }
    }

    /// The first convolution's weight (for tests of what reaches it).
    #[cfg(test)]
    pub(crate) fn conv1_weight(&self) -> Tensor<4> {
        self.conv1.weight.val()
    }

    /// # Shapes
    /// `[batch, channels, height, width]` in and out.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self
            .conv1
            .forward(self.pad(relu(self.bn1.forward(x.clone()))));
        let y = self.conv2.forward(self.pad(relu(self.bn2.forward(y))));
        y + x
    }
}

/// A 1-D residual unit (the audio domain's `dim=1` variant).
#[derive(Module, Debug)]
pub struct ResidualUnit1d {
    bn1: BatchNorm,
    conv1: Conv1d,
    bn2: BatchNorm,
    conv2: Conv1d,
    /// As [`ResidualUnit2d`]'s, along the length.
    #[module(skip)]
    edge: Option<usize>,
}

impl ResidualUnit1d {
    /// Build a unit of `channels` channels with odd kernel size `kernel`.
    pub fn new(channels: usize, kernel: usize, padding: Padding, device: &Device) -> Self {
        let p = kernel / 2;
        let conv = || {
            let config = Conv1dConfig::new(channels, channels, kernel);
            match padding {
                Padding::Zeros => config.with_padding(PaddingConfig1d::Explicit(p, p)),
                Padding::Edge => config.with_padding(PaddingConfig1d::Valid),
            }
            .init(device)
        };
        Self {
            bn1: BatchNormConfig::new(channels).init(device),
            conv1: conv(),
            bn2: BatchNormConfig::new(channels).init(device),
            conv2: conv(),
            edge: (padding == Padding::Edge).then_some(p),
        }
    }

    fn pad(&self, x: Tensor<3>) -> Tensor<3> {
        match self.edge {
            Some(p) => x.pad([(p, p)], PadMode::Edge),
            None => x,
        }
    }

    /// # Shapes
    /// `[batch, channels, length]` in and out.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = self
            .conv1
            .forward(self.pad(relu(self.bn1.forward(x.clone()))));
        let y = self.conv2.forward(self.pad(relu(self.bn2.forward(y))));
        y + x
    }
}
