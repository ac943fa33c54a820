//! `TransformerCFGDecoder`: token embedding (no `sqrt(d)` scaling) plus a sinusoidal encoding of
//! the token position, a post-LN Transformer decoder with a causal mask over the encoder memory,
//! and a linear layer to the vocabulary.

use burn::nn::activation::ActivationConfig;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderAutoregressiveCache, TransformerDecoderConfig,
    TransformerDecoderInput,
};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::s;
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
        self.output
            .forward(self.transformer.forward(self.input(tokens, memory)))
    }

    /// The embedded tokens with their position sinusoids, causally masked, over `memory`.
    fn input(&self, tokens: Tensor<2, Int>, memory: Tensor<3>) -> TransformerDecoderInput {
        let [n, l] = tokens.dims();
        let device = tokens.device();
        let x = self.embedding.forward(tokens)
            + sinusoids(l, self.d_model, self.timescale, &device).reshape([1, l, self.d_model]);
        let x = self.dropout.forward(x);
        TransformerDecoderInput::new(x, memory)
            .target_mask_attn(generate_autoregressive_mask(n, l, &device))
    }

    /// An empty cache for [`Self::step`].
    pub fn new_cache(&self) -> DecoderCache {
        DecoderCache {
            layers: self.transformer.new_autoregressive_cache(),
            positions: 0,
            batch: None,
        }
    }

    /// Logits `[batch, vocab]` of the token after `tokens` (`[batch, L]`, starting with `<s>`):
    /// [`Self::forward`] at the last position, computed incrementally. `cache` holds the calls
    /// for the prefixes of lengths `1..L` of the same tokens over the same memory (start with
    /// [`Self::new_cache`] and call once per decoding step). burn's autoregressive cache then
    /// reuses the earlier positions' outputs of every layer's projections, feed-forward and
    /// normalisations and the memory's key and value projections, so those cost one position
    /// per step instead of `L`; the attention scores themselves are still computed for every
    /// position (burn 0.22's cached attention keeps all queries). Equal to the full pass up to
    /// float rounding (the new row goes through the same matrix products alone).
    ///
    /// # Errors
    /// [`ModelError::InputShape`] when `tokens` is not one position longer than the previous
    /// call's, or the batch changed: the cache would silently hold the wrong rows.
    pub fn step(
        &self,
        tokens: Tensor<2, Int>,
        memory: Tensor<3>,
        cache: &mut DecoderCache,
    ) -> Result<Tensor<2>, ModelError> {
        let [n, l] = tokens.dims();
        if l != cache.positions + 1 || cache.batch.is_some_and(|b| b != n) {
            return Err(ModelError::InputShape {
                expected: format!(
                    "[{}, {}]: one position more than the cached prefix",
                    cache.batch.map_or("batch".to_string(), |b| b.to_string()),
                    cache.positions + 1
                ),
                found: vec![n, l],
            });
        }
        let input = self.input(tokens, memory);
        let hidden = self
            .transformer
            .forward_autoregressive_inference(input, &mut cache.layers)
            .slice(s![.., (l - 1)..l, ..]);
        cache.positions = l;
        cache.batch = Some(n);
        let vocab = self.output.weight.dims()[1];
        Ok(self.output.forward(hidden).reshape([n, vocab]))
    }
}

/// What an incremental decode ([`Decoder::step`]) keeps between steps: burn's per-layer cache
/// and the prefix it holds.
pub struct DecoderCache {
    layers: TransformerDecoderAutoregressiveCache,
    positions: usize,
    batch: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// The incremental step gives the full pass's logits at the last position, for both layer
    /// norm orders, over every prefix of a sequence.
    #[test]
    fn a_cached_step_is_the_full_pass_at_the_last_position() {
        let device = Device::flex();
        device.seed(3);
        for norm_first in [false, true] {
            let config = DecoderConfig {
                transformer: TransformerConfig {
                    layers: 2,
                    heads: 2,
                    feed_forward: 32,
                    dropout: 0.0,
                    norm_first,
                },
                vocab: 12,
                timescale: 10_000,
            };
            let decoder = config.init(16, &device);
            let memory = Tensor::<3>::random([3, 7, 16], Distribution::Normal(0.0, 1.0), &device);
            let tokens = Tensor::<2, Int>::from_data(
                TensorData::new(
                    vec![0i64, 5, 3, 9, 2, 0, 7, 7, 1, 4, 0, 11, 2, 6, 8],
                    [3, 5],
                ),
                &device,
            );
            let full = decoder.forward(tokens.clone(), memory.clone());
            let mut cache = decoder.new_cache();
            for l in 1..=5 {
                let prefix = tokens.clone().slice(s![.., 0..l]);
                let step = decoder
                    .step(prefix, memory.clone(), &mut cache)
                    .expect("the next position");
                let expected = full.clone().slice(s![.., (l - 1)..l, ..]).reshape([3, 12]);
                let diff: f32 = (step - expected).abs().max().into_scalar();
                assert!(diff < 1e-4, "norm_first {norm_first}, length {l}: {diff}");
            }
            // Repeating a prefix (or skipping one) is refused.
            let again = decoder.step(tokens.clone(), memory.clone(), &mut cache);
            assert!(again.is_err());
        }
    }
}
