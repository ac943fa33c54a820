//! Run configuration: domain, architecture and training, as plain serde structs so a TOML file
//! can be written by hand, diffed, and stored as `config.toml` in the run directory.

use serde::{Deserialize, Serialize};
use sparling_core::{ScheduleConfig, ThresholdScope};
use sparling_data::DigitCircleConfig;

use crate::error::ModelError;
use crate::modules::encoder::TransformerConfig;
use crate::modules::motif::MotifConfig;

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

/// `CollapseMotifs`: 1x1 convolution to the model width, then max pooling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollapseConfig {
    /// Model width after the collapse (`d_model` of the encoder and decoder).
    pub channels: usize,
    /// Pooling factor (8).
    pub pool: usize,
    /// Max-pool the motif maps before the 1x1 convolution instead of after it. Much cheaper at
    /// full resolution (the convolution then runs on the pooled grid); at low density, where a
    /// pooled cell holds at most one activation, the two differ only by a per-channel ReLU-like
    /// clamp at the bias. The paper convolves first.
    #[serde(default)]
    pub pool_first: bool,
}

/// Positional encoding of the pooled feature grid (added to the features).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Positions {
    /// Sinusoids of the row index over all `d_model` dimensions (the paper; the row LSTM
    /// supplies the column position).
    #[default]
    Rows,
    /// Row sinusoids in the first half of the dimensions, column sinusoids in the second half.
    /// For encoders without the row LSTM; adding both tables to the same dimensions would make
    /// `(r, c)` and `(c, r)` indistinguishable.
    Grid,
    /// Row and column sinusoids in a quarter of the dimensions each, and harmonics
    /// `sin(kθ), cos(kθ)` of the angle θ around the grid centre in the other half. An
    /// inductive bias for inputs whose reading order is angular (DigitCircle), used by the `cpu`
    /// preset to learn the counter-clockwise order from fewer samples.
    Polar,
}

/// Encoder over the pooled features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Run a bidirectional LSTM along each row first (the paper's image encoder).
    pub row_lstm: bool,
    /// How grid positions are encoded before the Transformer (the paper: rows only).
    #[serde(default)]
    pub positions: Positions,
    /// The Transformer encoder.
    pub transformer: TransformerConfig,
}

/// The autoregressive decoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderConfig {
    /// The Transformer decoder.
    pub transformer: TransformerConfig,
    /// Vocabulary size (12 for DigitCircle, 28 for LaTeX and audio).
    pub vocab: usize,
}

/// An image model (`LaTeXPredictor` as used for DigitCircle and LaTeX-OCR).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageModelConfig {
    /// Motif model `ĝ`.
    pub motif: MotifConfig,
    /// Bottleneck.
    pub sparsity: SparsityConfig,
    /// Post-sparse collapse.
    pub collapse: CollapseConfig,
    /// Encoder.
    pub encoder: EncoderConfig,
    /// Decoder.
    pub decoder: DecoderConfig,
}

/// When to decay the learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LearningRateSchedule {
    /// The paper: a constant rate.
    #[default]
    Constant,
    /// Linear warm-up over `warmup_samples`, then constant.
    Warmup {
        /// Samples over which the rate rises from 0.
        warmup_samples: u64,
    },
}

/// One stage of a training-data curriculum: until `until_samples` training samples have been
/// seen, examples hold at most `max_motifs` motifs (digits per image or per clip). Labels stay
/// the only supervision; only the training distribution changes, validation and test never do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurriculumStage {
    /// The stage lasts until this many training samples have been seen.
    pub until_samples: u64,
    /// Most motifs per example during the stage.
    pub max_motifs: usize,
}

/// Training loop settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Samples per optimizer step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Learning-rate schedule.
    #[serde(default)]
    pub learning_rate_schedule: LearningRateSchedule,
    /// Adam epsilon (PyTorch's 1e-8; burn's default is 1e-5).
    pub adam_epsilon: f64,
    /// Clip the gradient norm to this value.
    #[serde(default)]
    pub gradient_clip: Option<f64>,
    /// Validate (and maybe lower the density) every this many samples.
    pub val_every: u64,
    /// Validation samples (seed −1, indices from 0).
    pub val_samples: usize,
    /// Greedy decoding length during validation.
    pub val_max_length: usize,
    /// Stop after this many samples.
    pub max_samples: u64,
    /// Stop as soon as the density drops below this.
    pub done_at_density: f64,
    /// Density schedule.
    pub schedule: ScheduleConfig,
    /// Log a line every this many samples.
    pub log_every: u64,
    /// Easier training data first (none in the paper).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curriculum: Vec<CurriculumStage>,
}

/// The data domain of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DomainConfig {
    /// DigitCircle.
    DigitCircle(DigitCircleConfig),
}

impl DomainConfig {
    /// The same domain with at most `max_motifs` motifs per example.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] if the domain cannot hold that few or that many.
    pub fn with_max_motifs(&self, max_motifs: usize) -> Result<DomainConfig, ModelError> {
        match self {
            DomainConfig::DigitCircle(c) => {
                if max_motifs < c.min_digits || max_motifs > c.max_digits {
                    return Err(ModelError::invalid(
                        "training.curriculum.max_motifs",
                        max_motifs,
                        format!(
                            "must lie between domain.min_digits ({}) and domain.max_digits ({})",
                            c.min_digits, c.max_digits
                        ),
                    ));
                }
                Ok(DomainConfig::DigitCircle(
                    sparling_data::DigitCircleConfig {
                        max_digits: max_motifs,
                        ..c.clone()
                    },
                ))
            }
        }
    }

    /// The domain's CLI name.
    pub fn name(&self) -> &'static str {
        match self {
            DomainConfig::DigitCircle(_) => "digit-circle",
        }
    }
}

/// Architecture of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ModelConfig {
    /// A 2-D image model.
    Image(ImageModelConfig),
}

/// Everything that defines a run; stored as `config.toml` in the run directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The preset this config started from (informational).
    pub preset: String,
    /// Seed of the training data stream and of initialisation and dropout.
    pub seed: i64,
    /// Data domain.
    pub domain: DomainConfig,
    /// Architecture.
    pub model: ModelConfig,
    /// Training loop.
    pub training: TrainingConfig,
}

impl RunConfig {
    /// Check every value a user could have written wrong.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let t = &self.training;
        positive("training.batch_size", t.batch_size)?;
        positive("training.val_samples", t.val_samples)?;
        positive("training.val_max_length", t.val_max_length)?;
        if t.val_every == 0 {
            return Err(ModelError::invalid("training.val_every", 0, "must be > 0"));
        }
        if t.log_every == 0 {
            return Err(ModelError::invalid("training.log_every", 0, "must be > 0"));
        }
        finite_positive("training.learning_rate", t.learning_rate)?;
        finite_positive("training.adam_epsilon", t.adam_epsilon)?;
        if let Some(clip) = t.gradient_clip {
            finite_positive("training.gradient_clip", clip)?;
        }
        if !(t.done_at_density >= 0.0 && t.done_at_density < 1.0) {
            return Err(ModelError::invalid(
                "training.done_at_density",
                t.done_at_density,
                "must be in [0, 1)",
            ));
        }
        match &self.domain {
            DomainConfig::DigitCircle(c) => c.validate().map_err(sparling_data::DataError::from)?,
        }
        match &self.model {
            ModelConfig::Image(m) => m.validate()?,
        }
        let density = self.model_sparsity().density;
        t.schedule.init(density)?;
        let mut previous = 0;
        for stage in &t.curriculum {
            if stage.until_samples <= previous {
                return Err(ModelError::invalid(
                    "training.curriculum.until_samples",
                    stage.until_samples,
                    "stages must end at strictly increasing sample counts above 0",
                ));
            }
            previous = stage.until_samples;
            self.domain.with_max_motifs(stage.max_motifs)?;
        }
        Ok(())
    }

    /// The bottleneck configuration of the model.
    pub fn model_sparsity(&self) -> &SparsityConfig {
        match &self.model {
            ModelConfig::Image(m) => &m.sparsity,
        }
    }

    /// Parse and validate a TOML document.
    ///
    /// # Errors
    /// A syntax error or unknown field, reported against `origin`, or an invalid value
    /// ([`Self::validate`]).
    pub fn from_toml(text: &str, origin: &std::path::Path) -> Result<Self, ModelError> {
        let config: Self = toml::from_str(text).map_err(|e| ModelError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Render as TOML.
    ///
    /// # Errors
    /// Serialisation failure (a bug: every field is representable).
    pub fn to_toml(&self) -> Result<String, ModelError> {
        toml::to_string_pretty(self).map_err(|e| ModelError::Parse {
            path: "config.toml".into(),
            message: e.to_string(),
        })
    }
}

impl ImageModelConfig {
    /// Check the architecture.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let m = &self.motif;
        positive("model.motif.in_channels", m.in_channels)?;
        positive("model.motif.hidden", m.hidden)?;
        positive("model.motif.motifs", m.motifs)?;
        if m.kernel.is_multiple_of(2) {
            return Err(ModelError::invalid(
                "model.motif.kernel",
                m.kernel,
                "must be odd",
            ));
        }
        let s = &self.sparsity;
        sparling_core::check_density(s.density)?;
        let d = self.collapse.channels;
        if d == 0 || !d.is_multiple_of(2) {
            return Err(ModelError::invalid(
                "model.collapse.channels",
                d,
                "must be a positive even number (it is the model width)",
            ));
        }
        if self.encoder.positions != Positions::Rows && !d.is_multiple_of(4) {
            return Err(ModelError::invalid(
                "model.collapse.channels",
                d,
                "must be a multiple of 4 with `grid` or `polar` positions",
            ));
        }
        positive("model.collapse.pool", self.collapse.pool)?;
        for (name, t) in [
            ("model.encoder.transformer", &self.encoder.transformer),
            ("model.decoder.transformer", &self.decoder.transformer),
        ] {
            if t.heads == 0 || !d.is_multiple_of(t.heads) {
                return Err(ModelError::invalid(
                    format!("{name}.heads"),
                    t.heads,
                    format!("must divide the model width {d}"),
                ));
            }
            positive(&format!("{name}.feed_forward"), t.feed_forward)?;
            if !(0.0..1.0).contains(&t.dropout) {
                return Err(ModelError::invalid(
                    format!("{name}.dropout"),
                    t.dropout,
                    "must be in [0, 1)",
                ));
            }
        }
        if self.decoder.transformer.layers == 0 {
            return Err(ModelError::invalid(
                "model.decoder.transformer.layers",
                0,
                "the decoder needs at least one layer",
            ));
        }
        if self.decoder.vocab < 3 {
            return Err(ModelError::invalid(
                "model.decoder.vocab",
                self.decoder.vocab,
                "must hold <s>, </s> and at least one symbol",
            ));
        }
        Ok(())
    }
}

fn positive(field: &str, value: usize) -> Result<(), ModelError> {
    if value == 0 {
        return Err(ModelError::invalid(field, value, "must be > 0"));
    }
    Ok(())
}

fn finite_positive(field: &str, value: f64) -> Result<(), ModelError> {
    if !(value.is_finite() && value > 0.0) {
        return Err(ModelError::invalid(
            field,
            value,
            "must be a finite number > 0",
        ));
    }
    Ok(())
}
