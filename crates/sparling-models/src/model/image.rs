//! The image front end (`LaTeXPredictor` as used for DigitCircle and LaTeX-OCR): a 2-D motif
//! model on `[batch, 1, H, W]` images, a 2-D collapse and the row (or angular) encoder.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::modules::collapse::{Collapse2d, CollapseConfig};
use crate::modules::decoder::DecoderConfig;
use crate::modules::encoder::{RowEncoder, RowEncoderConfig};
use crate::modules::motif::{MotifConfig, MotifModel2d};
use crate::modules::sparsity::SparsityConfig;

/// An image model (`LaTeXPredictor` as used for DigitCircle and LaTeX-OCR).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageModelConfig {
    /// Motif model `ĝ`.
    pub motif: MotifConfig,
    /// Bottleneck.
    pub sparsity: SparsityConfig,
    /// Post-sparse collapse.
    pub collapse: CollapseConfig,
    /// Encoder.
    pub encoder: RowEncoderConfig,
    /// Decoder.
    pub decoder: DecoderConfig,
}

impl ImageModelConfig {
    /// Check the architecture.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let width =
            super::validate_shared(&self.motif, &self.sparsity, &self.collapse, &self.decoder)?;
        self.encoder.validate(width)
    }

    /// The model must read one-channel `height x width` images: the space-to-depth folding
    /// needs whole blocks, and the collapse's pooling at least one cell. Motif maps coarser than
    /// the input are scored with each cell's value at its centre pixel, which stays within
    /// `footprint_pad` pixels of every pixel of its cell only for `map_stride <= 2 *
    /// footprint_pad + 1`; beyond that an activation on a motif's edge could count as a false
    /// positive.
    pub(crate) fn check_image(
        &self,
        height: usize,
        width: usize,
        footprint_pad: usize,
    ) -> Result<(), ModelError> {
        let stride = self.motif.map_stride;
        if stride > 2 * footprint_pad + 1 {
            return Err(ModelError::invalid(
                "model.motif.map_stride",
                stride,
                format!(
                    "must be at most {} for this domain: the motif metrics place each map \
                     cell's value at its centre pixel and pad the true footprints by \
                     {footprint_pad} pixels, so a coarser cell on a motif's edge could be \
                     scored outside it",
                    2 * footprint_pad + 1
                ),
            ));
        }
        if self.motif.in_channels != 1 {
            return Err(ModelError::invalid(
                "model.motif.in_channels",
                self.motif.in_channels,
                "must be 1: the images have one channel",
            ));
        }
        let p = self.motif.patch;
        if !height.is_multiple_of(p) || !width.is_multiple_of(p) {
            return Err(ModelError::invalid(
                "model.motif.patch",
                p,
                format!("must divide the image size {height}x{width}"),
            ));
        }
        let (map_height, map_width) = (height / stride, width / stride);
        if self.collapse.pool > map_height.min(map_width) {
            return Err(ModelError::invalid(
                "model.collapse.pool",
                self.collapse.pool,
                format!(
                    "must not exceed the shorter side of the {map_height}x{map_width} motif maps \
                     ({height}x{width} images)"
                ),
            ));
        }
        Ok(())
    }

    /// The image front end.
    pub(crate) fn init_front(&self, device: &Device) -> ImageFrontEnd {
        let d = self.collapse.channels;
        ImageFrontEnd {
            motifs: self.motif.init_2d(device),
            collapse: self.collapse.init_2d(self.motif.motifs, device),
            encoder: self.encoder.init(d, device),
        }
    }
}

/// The image parts of a model: `[batch, 1, H, W]` images to motif logits `[batch, motifs, H, W]`,
/// and sparse motif maps to the encoder memory `[batch, S, d_model]`.
#[derive(Module, Debug)]
pub struct ImageFrontEnd {
    motifs: MotifModel2d,
    collapse: Collapse2d,
    encoder: RowEncoder,
}

impl ImageFrontEnd {
    pub(crate) fn freeze_motifs(self) -> Self {
        Self {
            motifs: self.motifs.no_grad(),
            ..self
        }
    }

    pub(crate) fn map_stride(&self) -> usize {
        self.motifs.map_stride()
    }

    pub(crate) fn motif_logits(&self, images: Tensor<4>) -> Tensor<4> {
        self.motifs.forward(images)
    }

    /// # Shapes
    /// `[batch, motifs, H, W] -> [batch, (H / pool) * (W / pool), d_model]` (or
    /// `[batch, bins, d_model]` with the angular scan)
    pub(crate) fn memory(&self, maps: Tensor<4>) -> Tensor<3> {
        self.encoder.forward(self.collapse.forward(maps))
    }
}
