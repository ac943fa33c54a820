//! The bottleneck's configuration: BatchNorm then a sparsity method of `sparling-core`
//! ([`Bottleneck`]: SPARLING's threshold by default, or a method it is compared with), the last
//! operation of the motif model.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_core::{Bottleneck, BottleneckConfig, Method, SparsityLayerConfig, ThresholdScope};

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
    /// The sparsity method (`type = "sparling"` by default; `top-k`, `batch-top-k`,
    /// `jump-relu`, `l1`, `kl`, `identity`: see [`Method`]). `density`, `momentum`, `scope` and
    /// `accumulate_motifs` configure SPARLING's threshold only.
    #[serde(default, skip_serializing_if = "is_sparling")]
    pub method: Method,
    /// BatchNorm in front of the method (the paper; `false` in the "no BN" ablations).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub batch_norm: bool,
}

fn is_sparling(method: &Method) -> bool {
    *method == Method::Sparling
}

fn yes() -> bool {
    true
}

fn is_yes(value: &bool) -> bool {
    *value
}

impl SparsityConfig {
    /// Build the bottleneck for `channels` motif channels.
    ///
    /// # Errors
    /// An invalid density, momentum or accumulation target.
    pub fn init(&self, channels: usize, device: &Device) -> Result<Bottleneck, ModelError> {
        Ok(BottleneckConfig::new(
            SparsityLayerConfig::new(channels)
                .with_density(self.density)
                .with_momentum(self.momentum)
                .with_scope(self.scope.into())
                .with_accumulate_motifs(self.accumulate_motifs),
        )
        .with_method(self.method.clone())
        .with_batch_norm(self.batch_norm)
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
        if let Err(sparling_core::CoreError::InvalidMethodParameter {
            name,
            value,
            allowed,
            ..
        }) = self.method.validate()
        {
            return Err(ModelError::invalid(
                format!("model.sparsity.method.{name}"),
                value,
                format!("{allowed} (method `{}`)", self.method.name()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_method_parameter_is_named_as_a_config_field() {
        let config = SparsityConfig {
            density: 0.5,
            momentum: 0.1,
            affine: true,
            scope: Scope::PerChannel,
            accumulate_motifs: None,
            method: Method::TopK { k: 0 },
            batch_norm: true,
        };
        let message = config.validate().expect_err("k = 0").to_string();
        assert!(message.contains("model.sparsity.method.k"), "{message}");
        assert!(message.contains("top-k"), "{message}");
    }
}
