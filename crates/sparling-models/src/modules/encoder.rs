//! Encoders from the pooled motif features to the decoder's memory.
//!
//! * [`RowEncoder`] (`RowLSTMTransformerEncoder`, images): a bidirectional LSTM along each row,
//!   a sinusoidal encoding of the **row** index (the LSTM supplies the column position), then a
//!   post-LN Transformer encoder over the `H * W` positions in row-major order.
//! * [`SequenceEncoder`] (`TransformerAudio`, audio): a sinusoidal encoding of the time step,
//!   then the Transformer encoder.

use burn::nn::activation::ActivationConfig;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::angular::AngularScan;
use super::lstm::BiLstm;
use super::positional::{grid_positions, sinusoids};
use crate::config::Positions;

/// Shape of a Transformer stack (PyTorch's `nn.TransformerEncoderLayer` defaults in the paper:
/// 8 heads, FF 2048, dropout 0.1, ReLU, post-LN).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerConfig {
    /// Number of layers (0 skips the stack).
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width.
    pub feed_forward: usize,
    /// Dropout inside the layers and after the positional encoding.
    pub dropout: f64,
    /// Pre-LN instead of the paper's post-LN. Pre-LN tolerates larger learning rates.
    #[serde(default)]
    pub norm_first: bool,
}

impl TransformerConfig {
    pub(crate) fn encoder(&self, d_model: usize, device: &Device) -> TransformerEncoder {
        TransformerEncoderConfig::new(d_model, self.feed_forward, self.heads, self.layers)
            .with_dropout(self.dropout)
            .with_norm_first(self.norm_first)
            .with_activation(ActivationConfig::Relu)
            .init(device)
    }
}

/// `RowLSTMTransformerEncoder`.
#[derive(Module, Debug)]
pub struct RowEncoder {
    lstm: Option<BiLstm>,
    angular: Option<AngularScan>,
    dropout: Dropout,
    transformer: Option<TransformerEncoder>,
    d_model: usize,
    #[module(skip)]
    positions: Positions,
}

impl RowEncoder {
    /// A row encoder of width `d_model` (even), with or without the row LSTM, or reading the
    /// grid in `angular_bins` sectors instead.
    pub fn new(
        d_model: usize,
        lstm: bool,
        positions: Positions,
        angular_bins: Option<usize>,
        transformer: &TransformerConfig,
        device: &Device,
    ) -> Self {
        Self {
            lstm: lstm.then(|| BiLstm::new(d_model, d_model / 2, device)),
            angular: angular_bins.map(|bins| AngularScan::new(d_model, bins, device)),
            dropout: DropoutConfig::new(transformer.dropout).init(),
            transformer: (transformer.layers > 0).then(|| transformer.encoder(d_model, device)),
            d_model,
            positions,
        }
    }

    /// # Shapes
    /// `[batch, d_model, H, W] -> [batch, H * W, d_model]` (position `h * W + w`), or
    /// `[batch, bins, d_model]` with the angular scan.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let [n, d, h, w] = x.dims();
        let device = x.device();
        // [N, D, H, W] -> [N, H, W, D]
        let mut x = x.permute([0, 2, 3, 1]);
        if let Some(scan) = &self.angular {
            let sectors = scan.forward(x);
            let bins = sectors.dims()[1];
            let sectors = sectors + sinusoids(bins, self.d_model, &device).reshape([1, bins, d]);
            return self.transform(self.dropout.forward(sectors));
        }
        if let Some(lstm) = &self.lstm {
            // [N, H, W, D] -> [N*H, W, D]: each row is one sequence along the width.
            let rows = lstm.forward(x.reshape([n * h, w, d]));
            x = rows.reshape([n, h, w, d]);
        }
        x = x + grid_positions(h, w, self.d_model, self.positions, &device).unsqueeze::<4>();
        // [N, H, W, D] -> [N, H*W, D]
        let x = self.dropout.forward(x).reshape([n, h * w, d]);
        self.transform(x)
    }

    fn transform(&self, x: Tensor<3>) -> Tensor<3> {
        match &self.transformer {
            Some(t) => t.forward(TransformerEncoderInput::new(x)),
            None => x,
        }
    }
}

/// `TransformerAudio`: positions along one axis.
#[derive(Module, Debug)]
pub struct SequenceEncoder {
    dropout: Dropout,
    transformer: Option<TransformerEncoder>,
    d_model: usize,
}

impl SequenceEncoder {
    /// A sequence encoder of width `d_model`.
    pub fn new(d_model: usize, transformer: &TransformerConfig, device: &Device) -> Self {
        Self {
            dropout: DropoutConfig::new(transformer.dropout).init(),
            transformer: (transformer.layers > 0).then(|| transformer.encoder(d_model, device)),
            d_model,
        }
    }

    /// # Shapes
    /// `[batch, d_model, L] -> [batch, L, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [_, d, l] = x.dims();
        let device = x.device();
        // [N, D, L] -> [N, L, D]
        let x = x.swap_dims(1, 2) + sinusoids(l, self.d_model, &device).reshape([1, l, d]);
        let x = self.dropout.forward(x);
        match &self.transformer {
            Some(t) => t.forward(TransformerEncoderInput::new(x)),
            None => x,
        }
    }
}
