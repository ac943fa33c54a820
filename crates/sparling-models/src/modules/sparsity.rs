//! The bottleneck's configuration: BatchNorm then the sparsity layer of `sparling-core`
//! (`SparseLayerWithBatchNorm`), the last operation of the motif model.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_core::{
    SparseLayerWithBatchNorm, SparseLayerWithBatchNormConfig, SparsityLayerConfig, ThresholdScope,
};

use crate::error::ModelError;

/// Which threshold the sparsity layer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// One threshold per channel (the paper's "MT").
    #[default]
    PerChannel,
    /// One threshold for all channels (the "ST" ablation).
    Universal,
}

impl From<Scope> for ThresholdScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::PerChannel => ThresholdScope::PerChannel,
            Scope::Universal => ThresholdScope::Universal,
        }
    }
}

/// The bottleneck: BatchNorm then the sparsity layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparsityConfig {
    /// Starting density (0.5 in every paper run).
    pub density: f64,
    /// Weight of the batch quantile in the running threshold (0.1).
    pub momentum: f64,
    /// Learnable BatchNorm scale and shift.
    pub affine: bool,
    /// Per-channel or universal threshold.
    #[serde(default)]
    pub scope: Scope,
    /// Accumulate batches until this many activations per channel are expected (LaTeX, audio).
    #[serde(default)]
    pub accumulate_motifs: Option<f64>,
}

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

    /// Check the values (`model.sparsity.*`).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        sparling_core::check_density(self.density)?;
        if !(self.momentum.is_finite() && (0.0..=1.0).contains(&self.momentum)) {
            return Err(ModelError::invalid(
                "model.sparsity.momentum",
                self.momentum,
                "must be in [0, 1]",
            ));
        }
        if let Some(motifs) = self.accumulate_motifs
            && !(motifs.is_finite() && motifs > 0.0)
        {
            return Err(ModelError::invalid(
                "model.sparsity.accumulate_motifs",
                motifs,
                "must be a finite number > 0 (or absent to update on every batch)",
            ));
        }
        Ok(())
    }
}
