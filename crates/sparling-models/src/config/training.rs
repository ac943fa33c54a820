//! Training-loop settings: batch, optimizer, validation, the density schedule, curriculum and the
//! low-density phase.

use serde::{Deserialize, Serialize};
use sparling_core::ScheduleConfig;

use crate::error::ModelError;
use crate::validate::{finite_positive, positive};

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

/// What a run trains the model to predict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// The paper's: the domain's label sequence, teacher-forced cross-entropy through the whole
    /// model, validated by exact match.
    #[default]
    Sequence,
    /// The paper's "directly trained motifs" baseline (its `pae-11bb1`; the authors'
    /// `LaTeXPredictorJustMotifsModelStub`, kavigupta/sparling-repro): the motif model alone
    /// reads 32x32 single-digit images, each channel's maximum over space is the logit of one
    /// digit, and the loss is the cross-entropy against the digit; validated by the accuracy
    /// of the largest channel. The bottleneck must be `identity`; the downstream model is not
    /// used. DigitCircle only (its digit stamps).
    DirectDigits,
}

impl Objective {
    /// Whether this is the default [`Objective::Sequence`] (left out of `config.toml`).
    #[must_use]
    pub fn is_sequence(&self) -> bool {
        *self == Objective::Sequence
    }
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
    /// What the model is trained to predict (default: the label sequence).
    #[serde(default, skip_serializing_if = "Objective::is_sequence")]
    pub objective: Objective,
    /// Train only the downstream model: the motif model's parameters get no gradient (the
    /// paper's "retrained" baseline, forked from a SPARLING run with the bottleneck replaced
    /// by `identity`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub freeze_motifs: bool,
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

impl TrainingConfig {
    /// Check the loop's own values (`training.*`); the schedule and the curriculum are checked
    /// against the model and the domain by [`super::RunConfig::validate`].
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        positive("training.batch_size", self.batch_size)?;
        // One batch of 100x100 DigitCircle motif maps is 400 kB per sample and layer output;
        // LaTeX's are 5.5 MB. Beyond this an allocation failure would abort the process.
        if self.batch_size > MAX_BATCH_SIZE {
            return Err(ModelError::invalid(
                "training.batch_size",
                self.batch_size,
                format!("at most {MAX_BATCH_SIZE} (the paper uses 10)"),
            ));
        }
        positive("training.val_samples", self.val_samples)?;
        positive("training.val_max_length", self.val_max_length)?;
        if self.val_every == 0 {
            return Err(ModelError::invalid("training.val_every", 0, "must be > 0"));
        }
        if self.log_every == 0 {
            return Err(ModelError::invalid("training.log_every", 0, "must be > 0"));
        }
        finite_positive("training.learning_rate", self.learning_rate)?;
        finite_positive("training.adam_epsilon", self.adam_epsilon)?;
        if let Some(clip) = self.gradient_clip {
            finite_positive("training.gradient_clip", clip)?;
        }
        if !(self.done_at_density >= 0.0 && self.done_at_density < 1.0) {
            return Err(ModelError::invalid(
                "training.done_at_density",
                self.done_at_density,
                "must be in [0, 1)",
            ));
        }
        if let Some(low) = &self.low_density {
            low.validate()?;
        }
        let mut previous = 0;
        for stage in &self.curriculum {
            if stage.until_samples <= previous {
                return Err(ModelError::invalid(
                    "training.curriculum.until_samples",
                    stage.until_samples,
                    "stages must end at strictly increasing sample counts above 0",
                ));
            }
            previous = stage.until_samples;
        }
        Ok(())
    }
}

impl LowDensityTraining {
    fn validate(&self) -> Result<(), ModelError> {
        let d = self.below_density;
        if !(d > 0.0 && d <= 1.0) {
            return Err(ModelError::invalid(
                "training.low_density.below_density",
                d,
                "must be a density in (0, 1]",
            ));
        }
        positive("training.low_density.val_samples", self.val_samples)?;
        if self.val_every == 0 {
            return Err(ModelError::invalid(
                "training.low_density.val_every",
                0,
                "must be > 0",
            ));
        }
        finite_positive(
            "training.low_density.learning_rate_factor",
            self.learning_rate_factor,
        )
    }
}

/// The largest training batch a configuration may ask for.
pub const MAX_BATCH_SIZE: usize = 1024;
