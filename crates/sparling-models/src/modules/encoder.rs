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
use super::positional::{
    Positions, grid_positions, legacy_timescale, sinusoids, validate_timescale,
};
use crate::error::ModelError;
use crate::validate::positive;

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
    /// Check the shape against the model width `d_model`; `at` is the field path
    /// (`model.encoder.transformer`).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self, at: &str, d_model: usize) -> Result<(), ModelError> {
        if self.heads == 0 || !d_model.is_multiple_of(self.heads) {
            return Err(ModelError::invalid(
                format!("{at}.heads"),
                self.heads,
                format!("must divide the model width {d_model}"),
            ));
        }
        positive(&format!("{at}.feed_forward"), self.feed_forward)?;
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ModelError::invalid(
                format!("{at}.dropout"),
                self.dropout,
                "must be in [0, 1)",
            ));
        }
        Ok(())
    }

    pub(crate) fn encoder(&self, d_model: usize, device: &Device) -> TransformerEncoder {
        TransformerEncoderConfig::new(d_model, self.feed_forward, self.heads, self.layers)
            .with_dropout(self.dropout)
            .with_norm_first(self.norm_first)
            .with_activation(ActivationConfig::Relu)
            .init(device)
    }
}

/// The image encoder over the pooled grid ([`RowEncoder`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowEncoderConfig {
    /// Run a bidirectional LSTM along each row first (the paper's image encoder).
    pub row_lstm: bool,
    /// How grid positions are encoded before the Transformer (the paper: rows only).
    #[serde(default)]
    pub positions: Positions,
    /// Read the grid as a cyclic sequence of this many angular sectors with a bidirectional
    /// LSTM ([`AngularScan`]) instead of row-major cells; grid positions are then not added (the
    /// sequence order carries the angle). `None` in the paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub angular_bins: Option<usize>,
    /// The Transformer encoder.
    pub transformer: TransformerConfig,
    /// Timescale of the position sinusoids (the reference: 10,000;
    /// [`super::positional::LEGACY_TIMESCALE`] when absent).
    #[serde(default = "legacy_timescale")]
    pub timescale: usize,
}

impl RowEncoderConfig {
    /// A row encoder of width `d_model` (even).
    pub fn init(&self, d_model: usize, device: &Device) -> RowEncoder {
        let t = &self.transformer;
        RowEncoder {
            lstm: self
                .row_lstm
                .then(|| BiLstm::new(d_model, d_model / 2, device)),
            angular: self
                .angular_bins
                .map(|bins| AngularScan::new(d_model, bins, device)),
            dropout: DropoutConfig::new(t.dropout).init(),
            transformer: (t.layers > 0).then(|| t.encoder(d_model, device)),
            d_model,
            positions: self.positions,
            timescale: self.timescale,
        }
    }

    /// Check the values (`model.encoder.*`) for width `d_model`.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self, d_model: usize) -> Result<(), ModelError> {
        if d_model > 0 && self.positions != Positions::Rows && !d_model.is_multiple_of(4) {
            return Err(ModelError::invalid(
                "model.collapse.channels",
                d_model,
                "must be a multiple of 4 with `grid` or `polar` positions",
            ));
        }
        if let Some(bins) = self.angular_bins {
            if bins < 2 {
                return Err(ModelError::invalid(
                    "model.encoder.angular_bins",
                    bins,
                    "must be at least 2",
                ));
            }
            if self.row_lstm {
                return Err(ModelError::invalid(
                    "model.encoder.angular_bins",
                    bins,
                    "cannot be combined with row_lstm = true (choose one way to read the grid)",
                ));
            }
        }
        validate_timescale("model.encoder.timescale", self.timescale)?;
        self.transformer
            .validate("model.encoder.transformer", d_model)
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
    #[module(skip)]
    timescale: usize,
}

impl RowEncoder {
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
            let table = sinusoids(bins, self.d_model, self.timescale, &device);
            let sectors = sectors + table.reshape([1, bins, d]);
            return self.transform(self.dropout.forward(sectors));
        }
        if let Some(lstm) = &self.lstm {
            // [N, H, W, D] -> [N*H, W, D]: each row is one sequence along the width.
            let rows = lstm.forward(x.reshape([n * h, w, d]));
            x = rows.reshape([n, h, w, d]);
        }
        let table = grid_positions(h, w, self.d_model, self.positions, self.timescale, &device);
        x = x + table.unsqueeze::<4>();
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

/// Encoder over a pooled 1-D sequence ([`SequenceEncoder`], `TransformerAudio`): sinusoidal
/// positions of the time step, then the Transformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceEncoderConfig {
    /// The Transformer encoder.
    pub transformer: TransformerConfig,
    /// Timescale of the position sinusoids (the reference: 10,000;
    /// [`super::positional::LEGACY_TIMESCALE`] when absent).
    #[serde(default = "legacy_timescale")]
    pub timescale: usize,
}

impl SequenceEncoderConfig {
    /// A sequence encoder of width `d_model`.
    pub fn init(&self, d_model: usize, device: &Device) -> SequenceEncoder {
        let t = &self.transformer;
        SequenceEncoder {
            dropout: DropoutConfig::new(t.dropout).init(),
            transformer: (t.layers > 0).then(|| t.encoder(d_model, device)),
            d_model,
            timescale: self.timescale,
        }
    }

    /// Check the values (`model.encoder.*`) for width `d_model`.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self, d_model: usize) -> Result<(), ModelError> {
        validate_timescale("model.encoder.timescale", self.timescale)?;
        self.transformer
            .validate("model.encoder.transformer", d_model)
    }
}

/// `TransformerAudio`: positions along one axis.
#[derive(Module, Debug)]
pub struct SequenceEncoder {
    dropout: Dropout,
    transformer: Option<TransformerEncoder>,
    d_model: usize,
    #[module(skip)]
    timescale: usize,
}

impl SequenceEncoder {
    /// # Shapes
    /// `[batch, d_model, L] -> [batch, L, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [_, d, l] = x.dims();
        let device = x.device();
        // [N, D, L] -> [N, L, D]
        let table = sinusoids(l, self.d_model, self.timescale, &device);
        let x = x.swap_dims(1, 2) + table.reshape([1, l, d]);
        let x = self.dropout.forward(x);
        match &self.transformer {
            Some(t) => t.forward(TransformerEncoderInput::new(x)),
            None => x,
        }
    }
}
