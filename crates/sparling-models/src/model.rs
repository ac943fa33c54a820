//! The end-to-end SPARLING model: motif model `ĝ` ending in the sparsity layer, then the
//! downstream `ĥ` (collapse, encoder, decoder).

use burn::prelude::*;
use sparling_core::{
    SparseLayerWithBatchNorm, SparseLayerWithBatchNormConfig, SparsityLayerConfig,
};

use crate::config::{ImageModelConfig, ModelConfig, SequenceModelConfig, SparsityConfig};
use crate::error::ModelError;
use crate::modules::collapse::{Collapse1d, Collapse2d};
use crate::modules::decoder::Decoder;
use crate::modules::encoder::{RowEncoder, SequenceEncoder};
use crate::modules::motif::{MotifModel1d, MotifModel2d};

impl SparsityConfig {
    /// Build the bottleneck for `channels` motif channels.
    ///
    /// # Errors
    /// An invalid density, momentum or accumulation target.
    pub fn init(
        &self,
        channels: usize,
        device: &Device,
    ) -> Result<SparseLayerWithBatchNorm, ModelError> {
        Ok(SparseLayerWithBatchNormConfig::new(
            SparsityLayerConfig::new(channels)
                .with_density(self.density)
                .with_momentum(self.momentum)
                .with_scope(self.scope.into())
                .with_accumulate_motifs(self.accumulate_motifs),
        )
        .with_affine(self.affine)
        .init(device)?)
    }
}

impl ImageModelConfig {
    /// Build the model on `device`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn init(&self, device: &Device) -> Result<ImageModel, ModelError> {
        self.validate()?;
        let d = self.collapse.channels;
        Ok(ImageModel {
            motifs: self.motif.init_2d(device),
            sparsity: self.sparsity.init(self.motif.motifs, device)?,
            collapse: Collapse2d::new(
                self.motif.motifs,
                d,
                self.collapse.pool,
                self.collapse.pool_first,
                device,
            ),
            encoder: RowEncoder::new(
                d,
                self.encoder.row_lstm,
                self.encoder.positions,
                self.encoder.angular_bins,
                &self.encoder.transformer,
                device,
            ),
            decoder: Decoder::new(d, self.decoder.vocab, &self.decoder.transformer, device),
        })
    }
}

/// The image model (`LaTeXPredictor`): `[batch, 1, H, W]` images to token logits.
#[derive(Module, Debug)]
pub struct ImageModel {
    motifs: MotifModel2d,
    sparsity: SparseLayerWithBatchNorm,
    collapse: Collapse2d,
    encoder: RowEncoder,
    decoder: Decoder,
}

impl ImageModel {
    /// The motif maps after the sparsity layer (what the metrics evaluate).
    ///
    /// # Shapes
    /// `[batch, 1, H, W] -> [batch, motifs, H, W]`, non-negative and mostly zero.
    ///
    /// # Errors
    /// NaN/inf reaching the sparsity layer in a training step.
    pub fn motif_maps(&self, images: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        Ok(self.sparsity.try_forward(self.motifs.forward(images))?)
    }

    /// BatchNorm then `x - t` without the ReLU: the motif scores used by the direct motif
    /// evaluation on single digits.
    ///
    /// # Errors
    /// Shape errors.
    pub fn motif_scores(&self, images: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        Ok(self
            .sparsity
            .forward_without_relu(self.motifs.forward(images))?)
    }

    /// Encoder memory.
    ///
    /// # Shapes
    /// `[batch, 1, H, W] -> [batch, (H / pool) * (W / pool), d_model]`
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn encode(&self, images: Tensor<4>) -> Result<Tensor<3>, ModelError> {
        let motifs = self.motif_maps(images)?;
        Ok(self.encoder.forward(self.collapse.forward(motifs)))
    }

    /// Teacher-forced logits.
    ///
    /// # Shapes
    /// - `images`: `[batch, 1, H, W]`
    /// - `tokens`: `[batch, L]`, starting with `<s>`
    /// - output: `[batch, L, vocab]`
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn forward(
        &self,
        images: Tensor<4>,
        tokens: Tensor<2, Int>,
    ) -> Result<Tensor<3>, ModelError> {
        let memory = self.encode(images)?;
        Ok(self.decoder.forward(tokens, memory))
    }

    /// Decoder logits for `tokens` over a precomputed memory.
    pub fn decode(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> Tensor<3> {
        self.decoder.forward(tokens, memory)
    }

    /// The bottleneck.
    pub fn sparsity(&self) -> &SparseLayerWithBatchNorm {
        &self.sparsity
    }
}

impl SequenceModelConfig {
    /// Build the model on `device`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn init(&self, device: &Device) -> Result<SequenceModel, ModelError> {
        self.validate()?;
        let d = self.collapse.channels;
        Ok(SequenceModel {
            motifs: self.motif.init_1d(device),
            sparsity: self.sparsity.init(self.motif.motifs, device)?,
            collapse: Collapse1d::new(self.motif.motifs, d, self.collapse.pool, device),
            encoder: SequenceEncoder::new(d, &self.encoder.transformer, device),
            decoder: Decoder::new(d, self.decoder.vocab, &self.decoder.transformer, device),
            features: self.motif.in_channels,
        })
    }
}

/// The sequence model (`AudioMNISTSequence`'s model: the authors'
/// `pixel_art/experiments/aum-2ka1.py` and `latex_decompiler/model.py`, kavigupta/sparling-repro;
/// docs/audio.md): `[batch, 1, frames, features]` inputs (a time x mel spectrogram, the
/// reference's `xs[:, None]`) to token logits.
///
/// The features of each frame are the input channels of a 1-D motif model along time; the motif
/// maps are returned as `[batch, motifs, frames, 1]`, like the reference's
/// `N x 10 x 642 x 1`, so they have the image model's layout (`W = 1`) and the metrics treat a
/// digit's frame span as rows `start..end`, column 0.
#[derive(Module, Debug)]
pub struct SequenceModel {
    motifs: MotifModel1d,
    sparsity: SparseLayerWithBatchNorm,
    collapse: Collapse1d,
    encoder: SequenceEncoder,
    decoder: Decoder,
    /// Features per frame (the motif model's input channels).
    features: usize,
}

impl SequenceModel {
    /// Motif logits before the bottleneck.
    ///
    /// # Shapes
    /// `[batch, 1, frames, features] -> [batch, motifs, frames, 1]`
    fn motif_logits(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        let [n, c, t, f] = input.dims();
        if c != 1 || f != self.features {
            return Err(ModelError::InputShape {
                expected: format!("[batch, 1, frames, {}]", self.features),
                found: vec![n, c, t, f],
            });
        }
        // [N, 1, T, F] -> [N, F, T]: features are channels, time is the length.
        let x = input.reshape([n, t, f]).swap_dims(1, 2);
        let y = self.motifs.forward(x);
        let [_, k, _] = y.dims();
        Ok(y.reshape([n, k, t, 1]))
    }

    /// The motif maps after the sparsity layer (what the metrics evaluate).
    ///
    /// # Shapes
    /// `[batch, 1, frames, features] -> [batch, motifs, frames, 1]`, non-negative and mostly zero.
    ///
    /// # Errors
    /// A wrong input shape, or NaN/inf reaching the sparsity layer in a training step.
    pub fn motif_maps(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        Ok(self.sparsity.try_forward(self.motif_logits(input)?)?)
    }

    /// BatchNorm then `x - t` without the ReLU (see [`ImageModel::motif_scores`]).
    ///
    /// # Errors
    /// Shape errors.
    pub fn motif_scores(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        Ok(self
            .sparsity
            .forward_without_relu(self.motif_logits(input)?)?)
    }

    /// Encoder memory.
    ///
    /// # Shapes
    /// `[batch, 1, frames, features] -> [batch, frames / pool, d_model]`
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn encode(&self, input: Tensor<4>) -> Result<Tensor<3>, ModelError> {
        let maps = self.motif_maps(input)?;
        let [n, k, t, _] = maps.dims();
        Ok(self
            .encoder
            .forward(self.collapse.forward(maps.reshape([n, k, t]))))
    }

    /// Teacher-forced logits `[batch, L, vocab]`.
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn forward(
        &self,
        input: Tensor<4>,
        tokens: Tensor<2, Int>,
    ) -> Result<Tensor<3>, ModelError> {
        let memory = self.encode(input)?;
        Ok(self.decoder.forward(tokens, memory))
    }

    /// Decoder logits for `tokens` over a precomputed memory.
    pub fn decode(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> Tensor<3> {
        self.decoder.forward(tokens, memory)
    }

    /// The bottleneck.
    pub fn sparsity(&self) -> &SparseLayerWithBatchNorm {
        &self.sparsity
    }
}

/// Any SPARLING model; the training loop and the CLI work with this type.
// One model lives per training or evaluation; the size difference of the variants (module
// handles, not weights) is irrelevant, and boxing would get in the way of the Module derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum SparlingModel {
    /// Image model (DigitCircle, LaTeX-OCR).
    Image(ImageModel),
    /// Sequence model (spoken digits).
    Sequence(SequenceModel),
}

impl ModelConfig {
    /// Build the model on `device`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn init(&self, device: &Device) -> Result<SparlingModel, ModelError> {
        Ok(match self {
            ModelConfig::Image(c) => SparlingModel::Image(c.init(device)?),
            ModelConfig::Sequence(c) => SparlingModel::Sequence(c.init(device)?),
        })
    }
}

impl SparlingModel {
    /// Teacher-forced logits `[batch, L, vocab]` for inputs `[batch, C, H, W]` (images) or
    /// `[batch, 1, frames, features]` (sequences).
    ///
    /// # Errors
    /// NaN/inf reaching the sparsity layer in a training step.
    pub fn forward(
        &self,
        input: Tensor<4>,
        tokens: Tensor<2, Int>,
    ) -> Result<Tensor<3>, ModelError> {
        match self {
            SparlingModel::Image(m) => m.forward(input, tokens),
            SparlingModel::Sequence(m) => m.forward(input, tokens),
        }
    }

    /// Encoder memory `[batch, S, d_model]`.
    ///
    /// # Errors
    /// As [`Self::forward`].
    pub fn encode(&self, input: Tensor<4>) -> Result<Tensor<3>, ModelError> {
        match self {
            SparlingModel::Image(m) => m.encode(input),
            SparlingModel::Sequence(m) => m.encode(input),
        }
    }

    /// Decoder logits over a precomputed memory.
    pub fn decode(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> Tensor<3> {
        match self {
            SparlingModel::Image(m) => m.decode(tokens, memory),
            SparlingModel::Sequence(m) => m.decode(tokens, memory),
        }
    }

    /// Post-sparsity motif maps `[batch, motifs, H, W]` (`[batch, motifs, frames, 1]` for
    /// sequences).
    ///
    /// # Errors
    /// As [`Self::forward`].
    pub fn motif_maps(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        match self {
            SparlingModel::Image(m) => m.motif_maps(input),
            SparlingModel::Sequence(m) => m.motif_maps(input),
        }
    }

    /// BatchNorm then `x - t` without the ReLU, same layout as [`Self::motif_maps`].
    ///
    /// # Errors
    /// Shape errors.
    pub fn motif_scores(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        match self {
            SparlingModel::Image(m) => m.motif_scores(input),
            SparlingModel::Sequence(m) => m.motif_scores(input),
        }
    }

    /// The bottleneck layer.
    pub fn sparsity(&self) -> &SparseLayerWithBatchNorm {
        match self {
            SparlingModel::Image(m) => &m.sparsity,
            SparlingModel::Sequence(m) => &m.sparsity,
        }
    }

    /// Current density of the bottleneck.
    pub fn density(&self) -> f64 {
        self.sparsity().density()
    }

    /// Set the density of the bottleneck.
    ///
    /// # Errors
    /// A density outside `(0, 1]`.
    pub fn set_density(&mut self, density: f64) -> Result<(), ModelError> {
        match self {
            SparlingModel::Image(m) => m.sparsity.set_density(density)?,
            SparlingModel::Sequence(m) => m.sparsity.set_density(density)?,
        }
        Ok(())
    }
}
