//! The end-to-end SPARLING model: motif model `ĝ` ending in the sparsity layer, then the
//! downstream `ĥ` (collapse, encoder, decoder).
//!
//! One model type serves every domain. What depends on the input's layout (images or
//! spectrogram sequences) is its [`FrontEnd`]: the motif model before the bottleneck, and the
//! collapse and encoder after it. The bottleneck and the decoder are shared, and so is every
//! path through the model.

mod image;
mod sequence;

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_core::Bottleneck;

pub use image::{ImageFrontEnd, ImageModelConfig};
pub use sequence::{SequenceFrontEnd, SequenceModelConfig};

use crate::error::ModelError;
use crate::modules::collapse::CollapseConfig;
use crate::modules::decoder::{Decoder, DecoderCache, DecoderConfig};
use crate::modules::motif::MotifConfig;
use crate::modules::sparsity::SparsityConfig;

/// Architecture of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ModelConfig {
    /// A 2-D image model.
    Image(ImageModelConfig),
    /// A 1-D sequence model (audio).
    Sequence(SequenceModelConfig),
}

impl ModelConfig {
    /// Build the model on `device`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn init(&self, device: &Device) -> Result<SparlingModel, ModelError> {
        self.validate()?;
        let front = match self {
            ModelConfig::Image(c) => FrontEnd::Image(c.init_front(device)),
            ModelConfig::Sequence(c) => FrontEnd::Sequence(c.init_front(device)),
        };
        Ok(SparlingModel {
            front,
            sparsity: self.sparsity().init(self.motif().motifs, device)?,
            decoder: self.decoder().init(self.width(), device),
        })
    }

    /// The bottleneck configuration.
    pub fn sparsity(&self) -> &SparsityConfig {
        match self {
            ModelConfig::Image(m) => &m.sparsity,
            ModelConfig::Sequence(m) => &m.sparsity,
        }
    }

    /// The bottleneck configuration, mutable.
    pub fn sparsity_mut(&mut self) -> &mut SparsityConfig {
        match self {
            ModelConfig::Image(m) => &mut m.sparsity,
            ModelConfig::Sequence(m) => &mut m.sparsity,
        }
    }

    /// The motif model configuration.
    pub fn motif(&self) -> &MotifConfig {
        match self {
            ModelConfig::Image(m) => &m.motif,
            ModelConfig::Sequence(m) => &m.motif,
        }
    }

    /// The decoder configuration.
    pub fn decoder(&self) -> &DecoderConfig {
        match self {
            ModelConfig::Image(m) => &m.decoder,
            ModelConfig::Sequence(m) => &m.decoder,
        }
    }

    /// The model width `d_model` (the collapse's output channels).
    pub fn width(&self) -> usize {
        match self {
            ModelConfig::Image(m) => m.collapse.channels,
            ModelConfig::Sequence(m) => m.collapse.channels,
        }
    }

    /// The architecture's name in `config.toml` (`image` or `sequence`).
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Image(_) => "image",
            ModelConfig::Sequence(_) => "sequence",
        }
    }

    /// Check the architecture.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            ModelConfig::Image(m) => m.validate(),
            ModelConfig::Sequence(m) => m.validate(),
        }
    }
}

/// The checks of the parts every architecture has: motif model, bottleneck, collapse and
/// decoder. Returns the model width the encoder must match.
fn validate_shared(
    motif: &MotifConfig,
    sparsity: &SparsityConfig,
    collapse: &CollapseConfig,
    decoder: &DecoderConfig,
) -> Result<usize, ModelError> {
    motif.validate()?;
    sparsity.validate()?;
    collapse.validate()?;
    decoder.validate(collapse.channels)?;
    Ok(collapse.channels)
}

/// The parts of a model that depend on the input's layout.
// One model lives per training or evaluation; the size difference of the variants (module
// handles, not weights) is irrelevant, and boxing would get in the way of the Module derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum FrontEnd {
    /// Images `[batch, 1, H, W]` (DigitCircle, LaTeX-OCR).
    Image(ImageFrontEnd),
    /// Spectrograms `[batch, 1, frames, features]` (spoken digits).
    Sequence(SequenceFrontEnd),
}

impl FrontEnd {
    fn motif_logits(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        match self {
            FrontEnd::Image(f) => Ok(f.motif_logits(input)),
            FrontEnd::Sequence(f) => f.motif_logits(input),
        }
    }

    fn map_stride(&self) -> usize {
        match self {
            FrontEnd::Image(f) => f.map_stride(),
            FrontEnd::Sequence(_) => 1,
        }
    }

    fn memory(&self, maps: Tensor<4>) -> Tensor<3> {
        match self {
            FrontEnd::Image(f) => f.memory(maps),
            FrontEnd::Sequence(f) => f.memory(maps),
        }
    }
}

/// A SPARLING model: inputs `[batch, 1, H, W]` (images) or `[batch, 1, frames, features]`
/// (spectrograms) to token logits, through motif maps `[batch, motifs, H, W]` (`[batch, motifs,
/// frames, 1]` for spectrograms) that are non-negative and mostly zero.
#[derive(Module, Debug)]
pub struct SparlingModel {
    front: FrontEnd,
    sparsity: Bottleneck,
    decoder: Decoder,
}

/// What a training forward pass returns.
#[derive(Debug)]
pub struct ModelOutput {
    /// Token logits `[batch, L, vocab]`.
    pub logits: Tensor<3>,
    /// The weighted loss term of the sparsity method (`[1]`), for the methods that add one.
    pub penalty: Option<Tensor<1>>,
}

impl SparlingModel {
    /// The motif model's output before the bottleneck, `[batch, motifs, H / s, W / s]` with
    /// `s` = [`Self::map_stride`] (for spectrograms `[batch, motifs, frames, 1]`).
    ///
    /// # Errors
    /// A wrong input shape.
    pub fn motif_logits(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        self.front.motif_logits(input)
    }

    /// The downstream encoder's memory `[batch, S, d_model]` over sparse motif maps (the
    /// collapse and the encoder; [`Self::encode`] is `memory(motif_maps(input))`).
    pub fn memory(&self, maps: Tensor<4>) -> Tensor<3> {
        self.front.memory(maps)
    }

    /// The motif maps after the sparsity layer (what the metrics evaluate).
    ///
    /// # Errors
    /// A wrong input shape, or NaN/inf reaching the sparsity layer in a training step.
    pub fn motif_maps(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        Ok(self
            .sparsity
            .try_forward(self.front.motif_logits(input)?)?
            .maps)
    }

    /// The stride of [`Self::motif_maps`] in input pixels: 1 when the maps have the input's
    /// resolution, else [`crate::modules::motif::MotifConfig::map_stride`] (one map cell per
    /// `s x s` pixels).
    pub fn map_stride(&self) -> usize {
        self.front.map_stride()
    }

    /// BatchNorm then `x - t` without the ReLU, same layout as [`Self::motif_maps`]: the motif
    /// scores used by the direct motif evaluation on single digits (SPARLING, and the motif
    /// logits themselves without a bottleneck).
    ///
    /// # Errors
    /// Shape errors, or another sparsity method.
    pub fn motif_scores(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
        Ok(self
            .sparsity
            .forward_without_relu(self.front.motif_logits(input)?)?)
    }

    /// Each channel's maximum over space, `[batch, motifs]`: the digit logits of the direct
    /// objective ([`crate::config::Objective::DirectDigits`]).
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn spatial_maxima(&self, input: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        let maps = self.motif_maps(input)?;
        let [n, c, _, _] = maps.dims();
        Ok(maps.flatten::<3>(2, 3).max_dim(2).reshape([n, c]))
    }

    /// Encoder memory `[batch, S, d_model]`.
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn encode(&self, input: Tensor<4>) -> Result<Tensor<3>, ModelError> {
        Ok(self.front.memory(self.motif_maps(input)?))
    }

    /// Teacher-forced logits with the sparsity method's loss term (the training step).
    ///
    /// # Shapes
    /// - `input`: `[batch, 1, H, W]` or `[batch, 1, frames, features]`
    /// - `tokens`: `[batch, L]`, starting with `<s>`
    /// - logits: `[batch, L, vocab]`
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn forward_with_penalty(
        &self,
        input: Tensor<4>,
        tokens: Tensor<2, Int>,
    ) -> Result<ModelOutput, ModelError> {
        let sparse = self.sparsity.try_forward(self.front.motif_logits(input)?)?;
        let memory = self.front.memory(sparse.maps);
        Ok(ModelOutput {
            logits: self.decoder.forward(tokens, memory),
            penalty: sparse.penalty,
        })
    }

    /// Teacher-forced logits `[batch, L, vocab]` (see [`Self::forward_with_penalty`]).
    ///
    /// # Errors
    /// As [`Self::motif_maps`].
    pub fn forward(
        &self,
        input: Tensor<4>,
        tokens: Tensor<2, Int>,
    ) -> Result<Tensor<3>, ModelError> {
        Ok(self.forward_with_penalty(input, tokens)?.logits)
    }

    /// Decoder logits for `tokens` over a precomputed memory.
    pub fn decode(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> Tensor<3> {
        self.decoder.forward(tokens, memory)
    }

    /// An empty cache for [`Self::decode_step`].
    pub fn decoder_cache(&self) -> DecoderCache {
        self.decoder.new_cache()
    }

    /// The logits `[batch, vocab]` of the token after `tokens`, incrementally
    /// ([`Decoder::step`]): what greedy decoding calls once per step.
    ///
    /// # Errors
    /// As [`Decoder::step`].
    pub fn decode_step(
        &self,
        tokens: Tensor<2, Int>,
        memory: Tensor<3>,
        cache: &mut DecoderCache,
    ) -> Result<Tensor<2>, ModelError> {
        self.decoder.step(tokens, memory, cache)
    }

    /// The bottleneck.
    pub fn sparsity(&self) -> &Bottleneck {
        &self.sparsity
    }

    /// Current target density of a SPARLING bottleneck; `None` for methods whose density is
    /// only measured.
    pub fn density(&self) -> Option<f64> {
        self.sparsity.density()
    }

    /// The same model with the motif model's parameters frozen (no gradient, so no update):
    /// only the bottleneck and the downstream model train.
    #[must_use]
    pub fn freeze_motifs(self) -> Self {
        let front = match self.front {
            FrontEnd::Image(f) => FrontEnd::Image(f.freeze_motifs()),
            FrontEnd::Sequence(f) => FrontEnd::Sequence(f.freeze_motifs()),
        };
        Self { front, ..self }
    }

    /// Set the density of a SPARLING bottleneck.
    ///
    /// # Errors
    /// A density outside `(0, 1]`, or a method without a settable density.
    pub fn set_density(&mut self, density: f64) -> Result<(), ModelError> {
        Ok(self.sparsity.set_density(density)?)
    }
}
