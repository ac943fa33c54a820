//! The convolutional motif model `ĝ` (the authors' `ConvolutionalMotifModel`): a 1x1 input
//! convolution, pre-activation residual units, and a 1x1 convolution to the motif channels.
//! Its receptive field is `1 + 2 * units * (kernel - 1)`: 17x17 for DigitCircle's 4 units of 3x3.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use serde::{Deserialize, Serialize};

use super::residual::{ResidualUnit1d, ResidualUnit2d};
use crate::error::ModelError;
use crate::validate::{is_one, one, positive};

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
    /// Space-to-depth factor: the trunk runs on `patch x patch` blocks folded into channels, so
    /// convolutions see `patch^2` times fewer positions, and the motif logits are unfolded back
    /// to the maps' resolution (`map_stride`). 1 (the paper) disables it. A CPU speed device;
    /// the receptive field stays local.
    #[serde(default = "one")]
    pub patch: usize,
    /// How the block trunk's output reaches the maps' resolution when `patch > 1`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub upsample: Upsample,
    /// What the trunk's convolutions read beyond the border.
    #[serde(default, skip_serializing_if = "is_default")]
    pub padding: Padding,
    /// Resolution of the motif maps: one value per `map_stride x map_stride` pixels. 1 (the
    /// paper): full resolution. Larger values (a divisor of `patch`, with the sub-pixel head)
    /// make the bottleneck and the collapse see `map_stride^2` times fewer values: a deviation
    /// from the paper (docs/latex.md). The motif metrics and pictures place each value at its
    /// cell's centre pixel ([`crate::inference::motif_maps_host`]), so footprints and measured
    /// densities stay per pixel; the trained density is per map cell, `map_stride^2` times the
    /// per-pixel one.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub map_stride: usize,
}

/// What a convolution reads beyond the input's border.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Padding {
    /// Zeros (the paper, PyTorch's default). Where the background is not zero (LaTeX-OCR's
    /// white page is 1.0) the border looks like ink, and the motif model can fire along it.
    #[default]
    Zeros,
    /// The border value repeated: a uniform background stays uniform up to the border, in
    /// every layer, so an empty border reads as background whatever its value.
    Edge,
}

/// How a block trunk (`patch > 1`) produces its motif maps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Upsample {
    /// Each block emits its `(patch / map_stride)^2` map cells with their own weights
    /// (depth-to-space).
    /// Nothing ties a peak to the ink: the downstream pooling only sees which pooled cell an
    /// activation is in, so peaks may sit anywhere in the block, also outside the motif.
    #[default]
    Subpixel,
    /// Motif logits per block, bilinearly interpolated to full resolution (half-pixel centres).
    /// The same weights serve every pixel, so a map's maxima lie at block centres, at most
    /// `patch / 2` pixels from the centre of the block that detects the motif.
    Bilinear,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl MotifConfig {
    /// Check the values (`model.motif.*`).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        positive("model.motif.in_channels", self.in_channels)?;
        positive("model.motif.hidden", self.hidden)?;
        positive("model.motif.motifs", self.motifs)?;
        positive("model.motif.patch", self.patch)?;
        positive("model.motif.map_stride", self.map_stride)?;
        if !self.patch.is_multiple_of(self.map_stride) {
            return Err(ModelError::invalid(
                "model.motif.map_stride",
                self.map_stride,
                format!("must divide model.motif.patch = {}", self.patch),
            ));
        }
        if self.map_stride > 1 && self.upsample != Upsample::Subpixel {
            return Err(ModelError::invalid(
                "model.motif.map_stride",
                self.map_stride,
                "must be 1 with the bilinear head (only the sub-pixel head emits coarser maps)",
            ));
        }
        if self.kernel.is_multiple_of(2) {
            return Err(ModelError::invalid(
                "model.motif.kernel",
                self.kernel,
                "must be odd",
            ));
        }
        Ok(())
    }

    /// Side of the receptive field in pixels (or frames), at most (for `patch > 1` it depends
    /// on the position inside the block).
    pub fn receptive_field(&self) -> usize {
        self.patch * (1 + 2 * self.residual_units * (self.kernel - 1))
    }

    /// Build the 2-D motif model.
    pub fn init_2d(&self, device: &Device) -> MotifModel2d {
        let p2 = self.patch * self.patch;
        // The 1x1 convolutions are `Linear`s over the channel axis: same function, parameter
        // count and default initialisation (Kaiming uniform over the fan-in), and on flex a
        // channel-last matmul is about 2.5x faster than a 1x1 `Conv2d` (the space-to-depth
        // reshuffles also share their copies with it).
        let pointwise = |d_in: usize, d_out: usize| LinearConfig::new(d_in, d_out).init(device);
        // Sub-pixel: each block emits its (patch / map_stride)^2 map cells.
        let cells = self.patch / self.map_stride.max(1);
        let per_block = match self.upsample {
            Upsample::Subpixel => cells * cells,
            Upsample::Bilinear => 1,
        };
        MotifModel2d {
            conv_in: pointwise(self.in_channels * p2, self.hidden),
            units: (0..self.residual_units)
                .map(|_| ResidualUnit2d::new(self.hidden, self.kernel, self.padding, device))
                .collect(),
            conv_out: pointwise(self.hidden, self.motifs * per_block),
            patch: self.patch,
            bilinear: self.upsample == Upsample::Bilinear && self.patch > 1,
            map_stride: self.map_stride,
        }
    }

    /// Build the 1-D motif model.
    pub fn init_1d(&self, device: &Device) -> MotifModel1d {
        MotifModel1d {
            conv_in: Conv1dConfig::new(self.in_channels, self.hidden, 1).init(device),
            units: (0..self.residual_units)
                .map(|_| ResidualUnit1d::new(self.hidden, self.kernel, self.padding, device))
                .collect(),
            conv_out: Conv1dConfig::new(self.hidden, self.motifs, 1).init(device),
        }
    }
}

/// 2-D motif model: `[batch, in, H, W] -> [batch, motifs, H, W]` (pre-sparsity logits).
#[derive(Module, Debug)]
pub struct MotifModel2d {
    /// The input 1x1 convolution, channel-last.
    conv_in: Linear,
    units: Vec<ResidualUnit2d>,
    /// The output 1x1 convolution to the motif channels, channel-last.
    conv_out: Linear,
    patch: usize,
    /// [`Upsample::Bilinear`].
    bilinear: bool,
    /// [`MotifConfig::map_stride`].
    map_stride: usize,
}

impl MotifModel2d {
    /// The stride of the motif maps in input pixels ([`MotifConfig::map_stride`]).
    pub fn map_stride(&self) -> usize {
        self.map_stride.max(1)
    }

    /// # Shapes
    /// `[batch, in_channels, height, width] -> [batch, motifs, height / s, width / s]` with
    /// `s` = [`Self::map_stride`]; with `patch > 1` height and width must be multiples of
    /// `patch`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        // [N, h, w, C p^2] -> [N, h, w, hidden] -> [N, hidden, h, w]
        let x = self
            .conv_in
            .forward(space_to_depth(x, self.patch))
            .permute([0, 3, 1, 2]);
        let x = self.units.iter().fold(x, |x, u| u.forward(x));
        let x = self.conv_out.forward(x.permute([0, 2, 3, 1]));
        if self.bilinear {
            // [N, h, w, motifs] -> [N, motifs, h, w] -> [N, motifs, H, W]
            let [_, h, w, _] = x.dims();
            let options = InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(false)
                .with_output_size([h * self.patch, w * self.patch]);
            interpolate(x.permute([0, 3, 1, 2]), options)
        } else {
            // [N, h, w, motifs (p / s)^2] -> [N, motifs, H / s, W / s]
            depth_to_space(x, self.patch / self.map_stride())
        }
    }
}

/// `[N, C, H, W] -> [N, H / p, W / p, C * p * p]` (channel-last); channel `c * p * p + i * p +
/// j` holds pixel `(i, j)` of each `p x p` block.
pub fn space_to_depth(x: Tensor<4>, p: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    // [N, C, H/p, p, W/p, p] -> [N, H/p, W/p, C, p, p]
    x.reshape([n, c, h / p, p, w / p, p])
        .permute([0, 2, 4, 1, 3, 5])
        .reshape([n, h / p, w / p, c * p * p])
}

/// Inverse of [`space_to_depth`]: `[N, H / p, W / p, C * p * p] -> [N, C, H, W]`.
pub fn depth_to_space(x: Tensor<4>, p: usize) -> Tensor<4> {
    let [n, h, w, cp] = x.dims();
    let c = cp / (p * p);
    // [N, H/p, W/p, C, p, p] -> [N, C, H/p, p, W/p, p]
    x.reshape([n, h, w, c, p, p])
        .permute([0, 3, 1, 4, 2, 5])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_to_depth_layout_and_inverse() {
        let device = Device::flex();
        let x = Tensor::<1, Int>::arange(0..2 * 3 * 4 * 8, &device)
            .float()
            .reshape([2, 3, 4, 8]);
        let blocks = space_to_depth(x.clone(), 2);
        assert_eq!(blocks.dims(), [2, 2, 4, 12]);
        // Batch 1, block (1, 2), channel 2, pixel (1, 0) of the block = x[1, 2, 3, 4].
        let value: f32 = blocks
            .clone()
            .slice([1..2, 1..2, 2..3, (2 * 4 + 2)..(2 * 4 + 3)])
            .into_scalar();
        let expected: f32 = x.clone().slice([1..2, 2..3, 3..4, 4..5]).into_scalar();
        assert_eq!(value, expected);
        let back = depth_to_space(blocks, 2);
        assert!(back.equal(x).all().into_scalar::<bool>());
    }

    #[test]
    fn motif_model_keeps_resolution() {
        let device = Device::flex();
        let config = MotifConfig {
            in_channels: 1,
            hidden: 4,
            motifs: 3,
            residual_units: 1,
            kernel: 3,
            patch: 4,
            upsample: Upsample::Subpixel,
            padding: Padding::Zeros,
            map_stride: 1,
        };
        let model = config.init_2d(&device);
        let y = model.forward(Tensor::<4>::zeros([2, 1, 16, 24], &device));
        assert_eq!(y.dims(), [2, 3, 16, 24]);
        assert_eq!(config.receptive_field(), 20);
    }

    #[test]
    fn coarser_maps_have_the_map_stride() {
        let device = Device::flex();
        let config = |map_stride| MotifConfig {
            in_channels: 1,
            hidden: 4,
            motifs: 3,
            residual_units: 1,
            kernel: 3,
            patch: 8,
            upsample: Upsample::Subpixel,
            padding: Padding::Edge,
            map_stride,
        };
        for (stride, dims) in [(1, [2, 3, 16, 24]), (4, [2, 3, 4, 6]), (8, [2, 3, 2, 3])] {
            let c = config(stride);
            c.validate().expect("valid");
            let model = c.init_2d(&device);
            assert_eq!(model.map_stride(), stride);
            let y = model.forward(Tensor::<4>::zeros([2, 1, 16, 24], &device));
            assert_eq!(y.dims(), dims, "map_stride {stride}");
        }
        let err = config(3).validate().expect_err("3 does not divide 8");
        assert!(err.to_string().contains("model.motif.map_stride"), "{err}");
        let bilinear = MotifConfig {
            upsample: Upsample::Bilinear,
            ..config(4)
        };
        assert!(bilinear.validate().is_err());
    }

    /// Edge padding keeps the resolution and passes gradients to the trunk's convolutions.
    #[test]
    fn edge_padding_keeps_resolution_and_trains() {
        let device = Device::flex().autodiff();
        for upsample in [Upsample::Subpixel, Upsample::Bilinear] {
            let config = MotifConfig {
                in_channels: 1,
                hidden: 4,
                motifs: 3,
                residual_units: 2,
                kernel: 3,
                patch: 4,
                upsample,
                padding: Padding::Edge,
                map_stride: 1,
            };
            let model = config.init_2d(&device);
            let x = Tensor::<4>::random(
                [2, 1, 16, 24],
                burn::tensor::Distribution::Uniform(0.0, 1.0),
                &device,
            );
            let y = model.forward(x);
            assert_eq!(y.dims(), [2, 3, 16, 24]);
            let grads = y.sum().backward();
            let weight = model.units[0].conv1_weight();
            assert!(weight.grad(&grads).is_some(), "{upsample:?}");
        }
    }

    #[test]
    fn bilinear_maxima_sit_at_block_centres() {
        let device = Device::flex();
        device.seed(7);
        let config = MotifConfig {
            in_channels: 1,
            hidden: 8,
            motifs: 3,
            residual_units: 1,
            kernel: 3,
            patch: 4,
            upsample: Upsample::Bilinear,
            padding: Padding::Zeros,
            map_stride: 1,
        };
        let model = config.init_2d(&device);
        let x = Tensor::<4>::random(
            [2, 1, 32, 32],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &device,
        );
        let full = model.forward(x.clone());
        assert_eq!(full.dims(), [2, 3, 32, 32]);
        // The block logits, as the forward pass computes them before interpolation.
        let blocks = model.units.iter().fold(
            model
                .conv_in
                .forward(space_to_depth(x, 4))
                .permute([0, 3, 1, 2]),
            |x, u| u.forward(x),
        );
        let blocks = model.conv_out.forward(blocks.permute([0, 2, 3, 1]));
        let full = full.into_data().try_into_vec::<f32>().expect("f32");
        let blocks = blocks.into_data().try_into_vec::<f32>().expect("f32");
        let max = |v: &[f32]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for n in 0..2 {
            for c in 0..3 {
                let map: Vec<f32> = (0..32 * 32).map(|i| full[(n * 3 + c) * 1024 + i]).collect();
                // blocks: [N, 8, 8, motifs], channel-last.
                let block: Vec<f32> = (0..64).map(|i| blocks[(n * 64 + i) * 3 + c]).collect();
                let peak = max(&map);
                let best = max(&block);
                // Interpolation is a convex combination of block values ...
                assert!(peak <= best + 1e-5, "{peak} > {best}");
                // ... and bilinear between block centres, so the maximum is reached on one of
                // the 2x2 pixels around a block centre (border pixels only tie with them).
                let central = |i: usize| matches!(i % 4, 1 | 2);
                let at_centres = (0..32 * 32)
                    .filter(|i| central(i / 32) && central(i % 32))
                    .map(|i| map[i])
                    .fold(f32::NEG_INFINITY, f32::max);
                // (Up to rounding: a border pixel's convex combination of two equal block
                // values can come out one ulp above them.)
                assert!(
                    peak - at_centres <= 1e-5 * peak.abs().max(1.0),
                    "{peak} vs {at_centres}"
                );
            }
        }
    }
}
