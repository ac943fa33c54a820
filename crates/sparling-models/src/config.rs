//! Run configuration: domain, architecture and training, as plain serde structs so a TOML file
//! can be written by hand, diffed, and stored as `config.toml` in the run directory.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sparling_core::{ScheduleConfig, ThresholdScope};
use sparling_data::{AudioConfig, DigitCircleConfig, LatexConfig, Vocabulary};

use crate::domain::Domain;
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
    /// Read the grid as a cyclic sequence of this many angular sectors with a bidirectional
    /// LSTM ([`crate::modules::angular::AngularScan`]) instead of row-major cells; grid
    /// positions are then not added (the sequence order carries the angle). `None` in the paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub angular_bins: Option<usize>,
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

/// Encoder over a pooled 1-D sequence (`TransformerAudio`): sinusoidal positions of the time
/// step, then the Transformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceEncoderConfig {
    /// The Transformer encoder.
    pub transformer: TransformerConfig,
}

/// A sequence model (`AudioConvolutionalMotifModel` + `TransformerAudio` of the authors'
/// `latex_decompiler/model.py`, kavigupta/sparling-repro; docs/audio.md): the input
/// `[batch, 1, frames, features]` is read as `features` channels over `frames` steps.
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
    /// Validation size and learning rate once the density is low (the paper keeps both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_density: Option<LowDensityTraining>,
}

/// Training settings that take over below a density. Each level there keeps about one
/// activation per motif, and the schedule's decisions rest on small accuracy differences: a
/// larger validation set lowers their noise, a smaller learning rate lets the downstream model
/// settle on the few activations left.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowDensityTraining {
    /// The settings hold while the density is below this.
    pub below_density: f64,
    /// Validate every this many samples there (instead of `training.val_every`).
    pub val_every: u64,
    /// Validation samples there (instead of `training.val_samples`).
    pub val_samples: usize,
    /// The learning rate there is `training.learning_rate` times this.
    pub learning_rate_factor: f64,
}

impl TrainingConfig {
    /// The low-density settings, if `density` is in their range.
    pub fn low_density_at(&self, density: f64) -> Option<&LowDensityTraining> {
        self.low_density
            .as_ref()
            .filter(|l| density < l.below_density)
    }

    /// Validation samples at `density`.
    pub fn val_samples_at(&self, density: f64) -> usize {
        self.low_density_at(density)
            .map_or(self.val_samples, |l| l.val_samples)
    }

    /// Samples between validations at `density`.
    pub fn val_every_at(&self, density: f64) -> u64 {
        self.low_density_at(density)
            .map_or(self.val_every, |l| l.val_every)
    }
}

/// The spoken-digit domain: the clip recipe plus where the recordings are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AudioDomainConfig {
    /// Directory holding the FSDD `{digit}_{speaker}_{take}.wav` files (`sparling train --data`
    /// stores it absolute; runs compare it canonically, see [`RunConfig::with_canonical_paths`]).
    /// When absent, `$SPARLING_FSDD` is read when the task is built, so a `config.toml` without
    /// it stays portable between machines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<PathBuf>,
    /// Speakers, clip, noise and spectrogram parameters (defaults: the paper's, with FSDD's
    /// speakers split 5 / 1).
    #[serde(default)]
    pub audio: AudioConfig,
}

/// The data domain of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DomainConfig {
    /// DigitCircle.
    DigitCircle(DigitCircleConfig),
    /// Spoken digits (FSDD clips as log-mel spectrograms; the paper's AudioMNIST-Sequence).
    Audio(AudioDomainConfig),
    /// LaTeX-OCR: rendered formulas of the authors' grammar (docs/latex.md), 120x360 images.
    Latex(LatexConfig),
}

impl DomainConfig {
    /// Fewest and most motifs per example, with the names of the two fields. For LaTeX the
    /// bound is the formula length in tokens: the grammar draws the length first and the visible
    /// symbols follow from it (at most one per token), so shorter formulas are the easier
    /// examples a curriculum wants.
    fn motif_count_range(&self) -> ((usize, &'static str), (usize, &'static str)) {
        match self {
            DomainConfig::DigitCircle(c) => (
                (c.min_digits, "domain.min_digits"),
                (c.max_digits, "domain.max_digits"),
            ),
            DomainConfig::Audio(c) => (
                (c.audio.min_digits, "domain.audio.min_digits"),
                (c.audio.max_digits, "domain.audio.max_digits"),
            ),
            DomainConfig::Latex(c) => (
                (c.min_length, "domain.min_length"),
                (c.max_length, "domain.max_length"),
            ),
        }
    }

    /// The same domain with at most `max_motifs` motifs (digits per image or per clip) per
    /// example. For LaTeX, `max_motifs` caps the formula length in tokens (`domain.max_length`),
    /// an upper bound on its visible symbols.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] if the domain cannot hold that few or that many.
    pub fn with_max_motifs(&self, max_motifs: usize) -> Result<DomainConfig, ModelError> {
        let ((min, min_field), (max, max_field)) = self.motif_count_range();
        if max_motifs < min || max_motifs > max {
            return Err(ModelError::invalid(
                "training.curriculum.max_motifs",
                max_motifs,
                format!("must lie between {min_field} ({min}) and {max_field} ({max})"),
            ));
        }
        Ok(match self {
            DomainConfig::DigitCircle(c) => DomainConfig::DigitCircle(DigitCircleConfig {
                max_digits: max_motifs,
                ..c.clone()
            }),
            DomainConfig::Audio(c) => {
                let mut c = c.clone();
                c.audio.max_digits = max_motifs;
                DomainConfig::Audio(c)
            }
            DomainConfig::Latex(c) => DomainConfig::Latex(LatexConfig {
                max_length: max_motifs,
                ..c.clone()
            }),
        })
    }

    /// Which domain this configures.
    pub fn domain(&self) -> Domain {
        match self {
            DomainConfig::DigitCircle(_) => Domain::DigitCircle,
            DomainConfig::Audio(_) => Domain::Audio,
            DomainConfig::Latex(_) => Domain::Latex,
        }
    }

    /// The domain's name.
    pub fn name(&self) -> &'static str {
        self.domain().name()
    }

    /// Size of the decoder vocabulary the domain's targets are written in (12 for DigitCircle;
    /// the 28-token LaTeX-CFG vocabulary for LaTeX and audio).
    pub fn vocabulary_size(&self) -> usize {
        match self {
            DomainConfig::DigitCircle(_) => Vocabulary::digit_circle().len(),
            DomainConfig::Audio(_) | DomainConfig::Latex(_) => Vocabulary::latex_cfg().len(),
        }
    }

    /// Check the domain's parameters (not the recordings, which are read by
    /// [`DomainConfig::task`]).
    ///
    /// # Errors
    /// The domain's own validation error.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            DomainConfig::DigitCircle(c) => c.validate().map_err(sparling_data::DataError::from)?,
            DomainConfig::Audio(c) => c.audio.validate().map_err(sparling_data::DataError::from)?,
            DomainConfig::Latex(c) => c.validate().map_err(sparling_data::DataError::from)?,
        }
        Ok(())
    }
}

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
    /// This configuration with the recordings directory canonical where it exists, for
    /// comparing two runs: `data/fsdd` and `/home/me/data/fsdd` are one directory.
    #[must_use]
    pub fn with_canonical_paths(mut self) -> Self {
        if let DomainConfig::Audio(audio) = &mut self.domain
            && let Some(dir) = &audio.recordings
            && let Ok(canonical) = dir.canonicalize()
        {
            audio.recordings = Some(canonical);
        }
        self
    }

    /// Check every value a user could have written wrong.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        if let Err(e) = sparling_data::Split::training(self.seed) {
            return Err(ModelError::invalid("seed", self.seed, e.to_string()));
        }
        let t = &self.training;
        positive("training.batch_size", t.batch_size)?;
        // One batch of 100x100 DigitCircle motif maps is 400 kB per sample and layer output;
        // LaTeX's are 5.5 MB. Beyond this an allocation failure would abort the process.
        if t.batch_size > MAX_BATCH_SIZE {
            return Err(ModelError::invalid(
                "training.batch_size",
                t.batch_size,
                format!("at most {MAX_BATCH_SIZE} (the paper uses 10)"),
            ));
        }
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
        self.domain.validate()?;
        self.model.validate()?;
        self.check_domain_fits_model()?;
        if let Some(low) = &t.low_density {
            let d = low.below_density;
            if !(d > 0.0 && d <= 1.0) {
                return Err(ModelError::invalid(
                    "training.low_density.below_density",
                    d,
                    "must be a density in (0, 1]",
                ));
            }
            positive("training.low_density.val_samples", low.val_samples)?;
            if low.val_every == 0 {
                return Err(ModelError::invalid(
                    "training.low_density.val_every",
                    0,
                    "must be > 0",
                ));
            }
            finite_positive(
                "training.low_density.learning_rate_factor",
                low.learning_rate_factor,
            )?;
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
        self.model.sparsity()
    }

    /// The model must be of the domain's kind, accept its inputs and decode its vocabulary.
    fn check_domain_fits_model(&self) -> Result<(), ModelError> {
        match (&self.domain, &self.model) {
            (DomainConfig::DigitCircle(c), ModelConfig::Image(m)) => {
                m.check_image(c.size, c.size)?
            }
            (DomainConfig::Latex(c), ModelConfig::Image(m)) => m.check_image(c.height, c.width)?,
            (DomainConfig::Audio(a), ModelConfig::Sequence(m)) => {
                let mels = a.audio.n_mels;
                if m.motif.in_channels != mels {
                    return Err(ModelError::invalid(
                        "model.motif.in_channels",
                        m.motif.in_channels,
                        format!(
                            "must equal the number of mel bands, domain.audio.n_mels ({mels}): \
                             the bands are the channels of the 1-D motif model"
                        ),
                    ));
                }
                let frames = a.audio.n_frames();
                if m.collapse.pool > frames {
                    return Err(ModelError::invalid(
                        "model.collapse.pool",
                        m.collapse.pool,
                        format!("must not exceed the {frames} spectrogram frames of a clip"),
                    ));
                }
            }
            (domain, model) => {
                return Err(ModelError::invalid(
                    "model.kind",
                    model.kind(),
                    format!(
                        "the {} domain needs a `{}` model",
                        domain.name(),
                        match domain {
                            DomainConfig::DigitCircle(_) | DomainConfig::Latex(_) => "image",
                            DomainConfig::Audio(_) => "sequence",
                        }
                    ),
                ));
            }
        }
        // A smaller vocabulary would index past the logits in the loss; a larger one could
        // decode ids that name no token.
        let vocab = self.domain.vocabulary_size();
        let decoder = self.model.decoder().vocab;
        if decoder != vocab {
            return Err(ModelError::invalid(
                "model.decoder.vocab",
                decoder,
                format!(
                    "must equal the {} domain's vocabulary size ({vocab})",
                    self.domain.name()
                ),
            ));
        }
        Ok(())
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
        config.validate().map_err(|e| e.in_file(origin))?;
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
        let d = self.collapse.channels;
        if d > 0 && self.encoder.positions != Positions::Rows && !d.is_multiple_of(4) {
            return Err(ModelError::invalid(
                "model.collapse.channels",
                d,
                "must be a multiple of 4 with `grid` or `polar` positions",
            ));
        }
        if let Some(bins) = self.encoder.angular_bins {
            if bins < 2 {
                return Err(ModelError::invalid(
                    "model.encoder.angular_bins",
                    bins,
                    "must be at least 2",
                ));
            }
            if self.encoder.row_lstm {
                return Err(ModelError::invalid(
                    "model.encoder.angular_bins",
                    bins,
                    "cannot be combined with row_lstm = true (choose one way to read the grid)",
                ));
            }
        }
        validate_parts(
            &self.motif,
            &self.sparsity,
            &self.collapse,
            &self.encoder.transformer,
            &self.decoder,
        )
    }

    /// The model must read one-channel `height x width` images: the space-to-depth folding
    /// needs whole blocks, and the collapse's pooling at least one cell.
    fn check_image(&self, height: usize, width: usize) -> Result<(), ModelError> {
        if self.motif.in_channels != 1 {
            return Err(ModelError::invalid(
                "model.motif.in_channels",
                self.motif.in_channels,
                "must be 1: the images have one channel",
            ));
        }
        let p = self.motif.patch;
        if !height.is_multiple_of(p) || !width.is_multiple_of(p) {
            return Err(ModelError::invalid(
                "model.motif.patch",
                p,
                format!("must divide the image size {height}x{width}"),
            ));
        }
        if self.collapse.pool > height.min(width) {
            return Err(ModelError::invalid(
                "model.collapse.pool",
                self.collapse.pool,
                format!("must not exceed the shorter side of the {height}x{width} images"),
            ));
        }
        Ok(())
    }
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
        validate_parts(
            &self.motif,
            &self.sparsity,
            &self.collapse,
            &self.encoder.transformer,
            &self.decoder,
        )
    }
}

/// The checks every architecture shares: motif model, bottleneck, collapse, Transformer shapes
/// and decoder.
fn validate_parts(
    m: &MotifConfig,
    s: &SparsityConfig,
    collapse: &CollapseConfig,
    encoder: &TransformerConfig,
    decoder: &DecoderConfig,
) -> Result<(), ModelError> {
    positive("model.motif.in_channels", m.in_channels)?;
    positive("model.motif.hidden", m.hidden)?;
    positive("model.motif.motifs", m.motifs)?;
    positive("model.motif.patch", m.patch)?;
    if m.kernel.is_multiple_of(2) {
        return Err(ModelError::invalid(
            "model.motif.kernel",
            m.kernel,
            "must be odd",
        ));
    }
    sparling_core::check_density(s.density)?;
    if !(s.momentum.is_finite() && (0.0..=1.0).contains(&s.momentum)) {
        return Err(ModelError::invalid(
            "model.sparsity.momentum",
            s.momentum,
            "must be in [0, 1]",
        ));
    }
    if let Some(motifs) = s.accumulate_motifs
        && !(motifs.is_finite() && motifs > 0.0)
    {
        return Err(ModelError::invalid(
            "model.sparsity.accumulate_motifs",
            motifs,
            "must be a finite number > 0 (or absent to update on every batch)",
        ));
    }
    let d = collapse.channels;
    if d == 0 || !d.is_multiple_of(2) {
        return Err(ModelError::invalid(
            "model.collapse.channels",
            d,
            "must be a positive even number (it is the model width)",
        ));
    }
    positive("model.collapse.pool", collapse.pool)?;
    for (name, t) in [
        ("model.encoder.transformer", encoder),
        ("model.decoder.transformer", &decoder.transformer),
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
    if decoder.transformer.layers == 0 {
        return Err(ModelError::invalid(
            "model.decoder.transformer.layers",
            0,
            "the decoder needs at least one layer",
        ));
    }
    if decoder.vocab < 3 {
        return Err(ModelError::invalid(
            "model.decoder.vocab",
            decoder.vocab,
            "must hold <s>, </s> and at least one symbol",
        ));
    }
    Ok(())
}

/// The largest training batch a configuration may ask for.
pub const MAX_BATCH_SIZE: usize = 1024;

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
