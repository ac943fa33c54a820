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

use super::encoder::TransformerConfig;
use super::positional::sinusoids;

/// The autoregressive decoder.
#[derive(Module, Debug)]
pub struct Decoder {
    embedding: Embedding,
    dropout: Dropout,
    transformer: TransformerDecoder,
    output: Linear,
    d_model: usize,
}

impl Decoder {
    /// A decoder of width `d_model` over `vocab` tokens.
    pub fn new(d_model: usize, vocab: usize, config: &TransformerConfig, device: &Device) -> Self {
        Self {
            embedding: EmbeddingConfig::new(vocab, d_model).init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
            transformer: TransformerDecoderConfig::new(
                d_model,
                config.feed_forward,
                config.heads,
                config.layers,
            )
            .with_dropout(config.dropout)
            .with_norm_first(config.norm_first)
            .with_activation(ActivationConfig::Relu)
            .init(device),
            output: LinearConfig::new(d_model, vocab).init(device),
            d_model,
        }
    }

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
            + sinusoids(l, self.d_model, &device).reshape([1, l, self.d_model]);
        let x = self.dropout.forward(x);
        let input = TransformerDecoderInput::new(x, memory)
            .target_mask_attn(generate_autoregressive_mask(n, l, &device));
        self.output.forward(self.transformer.forward(input))
    }
}
