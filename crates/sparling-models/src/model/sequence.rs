//! The sequence front end (`AudioConvolutionalMotifModel` + `TransformerAudio` of the authors'
//! `latex_decompiler/model.py`, kavigupta/sparling-repro; docs/audio.md): the input
//! `[batch, 1, frames, features]` (a time x mel spectrogram, the reference's `xs[:, None]`) is
//! read as `features` channels over `frames` steps.
//!
//! The motif maps have the layout `[batch, motifs, frames, 1]`, like the reference's
//! `N x 10 x 642 x 1`, so they match the image model's (`W = 1`) and the metrics treat a digit's
//! frame span as rows `start..end`, column 0.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::modules::collapse::{Collapse1d, CollapseConfig};
use crate::modules::decoder::DecoderConfig;
use crate::modules::encoder::{SequenceEncoder, SequenceEncoderConfig};
use crate::modules::motif::{MotifConfig, MotifModel1d};
use crate::modules::sparsity::SparsityConfig;

/// A sequence model (spoken digits).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceModelConfig {
    /// 1-D motif model `ĝ`; `in_channels` is the number of features per step (64 mel bands).
    pub motif: MotifConfig,
    /// Bottleneck.
    pub sparsity: SparsityConfig,
    /// Post-sparse collapse (1-D: 1x1 convolution and max-pool along time).
    pub collapse: CollapseConfig,
    /// Encoder.
    pub encoder: SequenceEncoderConfig,
    /// Decoder.
    pub decoder: DecoderConfig,
}

impl SequenceModelConfig {
    /// Check the architecture.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.motif.patch != 1 {
            return Err(ModelError::invalid(
                "model.motif.patch",
                self.motif.patch,
                "must be 1: the 1-D motif model has no space-to-depth folding",
            ));
        }
        if self.collapse.pool_first {
            return Err(ModelError::invalid(
                "model.collapse.pool_first",
                true,
                "must be false for the sequence model (its collapse convolves, then pools)",
            ));
        }
        let width =
            super::validate_shared(&self.motif, &self.sparsity, &self.collapse, &self.decoder)?;
        self.encoder.validate(width)
    }

    /// The sequence front end.
    pub(crate) fn init_front(&self, device: &Device) -> SequenceFrontEnd {
        let d = self.collapse.channels;
        SequenceFrontEnd {
            motifs: self.motif.init_1d(device),
            collapse: self.collapse.init_1d(self.motif.motifs, device),
            encoder: self.encoder.init(d, device),
            features: self.motif.in_channels,
        }
    }
}

/// The sequence parts of a model: `[batch, 1, frames, features]` inputs to motif logits
/// `[batch, motifs, frames, 1]`, and sparse motif maps to the encoder memory
/// `[batch, frames / pool, d_model]`.
#[derive(Module, Debug)]
pub struct SequenceFrontEnd {
    motifs: MotifModel1d,
    collapse: Collapse1d,
    encoder: SequenceEncoder,
    /// Features per frame (the motif model's input channels).
    features: usize,
}

impl SequenceFrontEnd {
    pub(crate) fn freeze_motifs(self) -> Self {
        Self {
            motifs: self.motifs.no_grad(),
            ..self
        }
    }

    pub(crate) fn motif_logits(&self, input: Tensor<4>) -> Result<Tensor<4>, ModelError> {
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

    pub(crate) fn memory(&self, maps: Tensor<4>) -> Tensor<3> {
        let [n, k, t, _] = maps.dims();
        self.encoder
            .forward(self.collapse.forward(maps.reshape([n, k, t])))
    }
}
