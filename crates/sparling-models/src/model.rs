//! The end-to-end SPARLING model: motif model `ĝ` ending in the sparsity layer, then the
//! downstream `ĥ` (collapse, encoder, decoder).

use burn::prelude::*;
use sparling_core::{
    SparseLayerWithBatchNorm, SparseLayerWithBatchNormConfig, SparsityLayerConfig,
};

use crate::config::{ImageModelConfig, ModelConfig};
use crate::error::ModelError;
use crate::modules::collapse::Collapse2d;
use crate::modules::decoder::Decoder;
use crate::modules::encoder::RowEncoder;
use crate::modules::motif::MotifModel2d;

impl ImageModelConfig {
    /// Build the model on `device`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn init(&self, device: &Device) -> Result<ImageModel, ModelError> {
        self.validate()?;
        let s = &self.sparsity;
        let sparsity = SparseLayerWithBatchNormConfig::new(
            SparsityLayerConfig::new(self.motif.motifs)
                .with_density(s.density)
                .with_momentum(s.momentum)
                .with_scope(s.scope.into())
                .with_accumulate_motifs(s.accumulate_motifs),
        )
        .with_affine(s.affine)
        .init(device)?;
        let d = self.collapse.channels;
        Ok(ImageModel {
            motifs: self.motif.init_2d(device),
            sparsity,
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

/// Any SPARLING model; the training loop and the CLI work with this type.
#[derive(Module, Debug)]
pub enum SparlingModel {
    /// Image model (DigitCircle, LaTeX-OCR).
    Image(ImageModel),
}

impl ModelConfig {
    /// Build the model on `device`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn init(&self, device: &Device) -> Result<SparlingModel, ModelError> {
        Ok(match self {
            ModelConfig::Image(c) => SparlingModel::Image(c.init(device)?),
        })
    }
}

impl SparlingModel {
    /// Teacher-forced logits `[batch, L, vocab]` for inputs `[batch, C, H, W]`.
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
        }
    }

    /// Encoder memory `[batch, S, d_model]`.
    ///
    /// # Errors
    /// As [`Self::forward`].
    pub fn encode(&self, input: Tensor<4>) -> Result<Tensor<3>, ModelError> {
        match self {
            SparlingModel::Image(m) => m.encode(input),
        }
    }

    /// Decoder logits over a precomputed memory.
    pub fn decode(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> Tensor<3> {
        match self {
            SparlingModel::Image(m) => m.decode(tokens, memory),
        }
    }

    /// Post-sparsity motif maps `[batch, motifs, H, W]`.
    ///
    /// # Errors
    /// As [`Self::forward`].
    pub fn motif_maps(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        match self {
            SparlingModel::Image(m) => m.motif_maps(input),
        }
    }

    /// The bottleneck layer.
    pub fn sparsity(&self) -> &SparseLayerWithBatchNorm {
        match self {
            SparlingModel::Image(m) => &m.sparsity,
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
        }
        Ok(())
    }
}
