//! `TransformerCFGDecoder`: token embedding (no `sqrt(d)` scaling) plus a sinusoidal encoding of
//! the token position, a post-LN Transformer decoder with a causal mask over the encoder memory,
//! and a linear layer to the vocabulary.

use burn::nn::activation::ActivationConfig;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderConfig, TransformerDecoderInput,
};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::encoder::TransformerConfig;
use super::positional::{legacy_timescale, sinusoids, validate_timescale};
use crate::error::ModelError;

/// The autoregressive decoder ([`Decoder`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderConfig {
    /// The Transformer decoder.
    pub transformer: TransformerConfig,
    /// Vocabulary size (12 for DigitCircle, 28 for LaTeX and audio).
    pub vocab: usize,
    /// Timescale of the token-position sinusoids (the reference: 10,000;
    /// [`super::positional::LEGACY_TIMESCALE`] when absent).
    #[serde(default = "legacy_timescale")]
    pub timescale: usize,
}

impl DecoderConfig {
    /// A decoder of width `d_model`.
    pub fn init(&self, d_model: usize, device: &Device) -> Decoder {
        let t = &self.transformer;
        Decoder {
            embedding: EmbeddingConfig::new(self.vocab, d_model).init(device),
            dropout: DropoutConfig::new(t.dropout).init(),
            transformer: TransformerDecoderConfig::new(d_model, t.feed_forward, t.heads, t.layers)
                .with_dropout(t.dropout)
                .with_norm_first(t.norm_first)
                .with_activation(ActivationConfig::Relu)
                .init(device),
            output: LinearConfig::new(d_model, self.vocab).init(device),
            d_model,
            timescale: self.timescale,
        }
    }

    /// Check the values (`model.decoder.*`) for width `d_model`.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self, d_model: usize) -> Result<(), ModelError> {
        self.transformer
            .validate("model.decoder.transformer", d_model)?;
        validate_timescale("model.decoder.timescale", self.timescale)?;
        if self.transformer.layers == 0 {
            return Err(ModelError::invalid(
                "model.decoder.transformer.layers",
                0,
                "the decoder needs at least one layer",
            ));
        }
        if self.vocab < 3 {
            return Err(ModelError::invalid(
                "model.decoder.vocab",
                self.vocab,
                "must hold <s>, </s> and at least one symbol",
            ));
        }
        Ok(())
    }
}

/// The autoregressive decoder.
#[derive(Module, Debug)]
pub struct Decoder {
    embedding: Embedding,
    dropout: Dropout,
    transformer: TransformerDecoder,
    output: Linear,
    d_model: usize,
    #[module(skip)]
    timescale: usize,
}

impl Decoder {
    /// Teacher-forced logits.
    ///
    /// # Shapes
    /// - `tokens`: `[batch, L]` token ids (starting with `<s>`)
    /// - `memory`: `[batch, S, d_model]`
    /// - output: `[batch, L, vocab]`; position `i` predicts token `i + 1`
    pub fn forward(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> Tensor<3> {
        let [n, l] = tokens.dims();
        let device = tokens.device();
        let x = self.embedding.forward(tokens)
            + sinusoids(l, self.d_model, self.timescale, &device).reshape([1, l, self.d_model]);
        let x = self.dropout.forward(x);
        let input = TransformerDecoderInput::new(x, memory)
            .target_mask_attn(generate_autoregressive_mask(n, l, &device));
        self.output.forward(self.transformer.forward(input))
    }
}
