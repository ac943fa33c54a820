//! Run configuration: domain, architecture and training, as plain serde structs so a TOML file
//! can be written by hand, diffed, and stored as `config.toml` in the run directory. Each part of
//! the architecture is configured beside its module ([`crate::model`], [`crate::modules`]).

mod domain;
mod training;

use serde::{Deserialize, Serialize};

pub use domain::{AudioDomainConfig, DomainConfig, TestVoice};
pub use training::{
    CurriculumStage, LearningRateSchedule, LowDensityTraining, MAX_BATCH_SIZE, Objective,
    TrainingConfig,
};

use sparling_core::Method;
use sparling_data::{SingleDigit, SingleDigitConfig};

use crate::error::ModelError;
use crate::model::ModelConfig;
use crate::modules::sparsity::SparsityConfig;
use crate::task::{LATEX_FOOTPRINT_PAD, SingleDigitTask, Task};

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
        t.validate()?;
        self.domain.validate()?;
        self.model.validate()?;
        self.check_domain_fits_model()?;
        let density = self.model_sparsity().density;
        t.schedule.init(density)?;
        for stage in &t.curriculum {
            self.domain.with_max_motifs(stage.max_motifs)?;
        }
        if t.objective == Objective::DirectDigits {
            self.check_direct_digits()?;
        }
        Ok(())
    }

    /// The task the training loop draws its batches and validations from: the domain's, or
    /// the single digits of [`Objective::DirectDigits`].
    ///
    /// # Errors
    /// As [`DomainConfig::task`].
    pub fn training_task(&self) -> Result<Box<dyn Task>, ModelError> {
        match self.training.objective {
            Objective::Sequence => self.domain.task(),
            Objective::DirectDigits => Ok(Box::new(SingleDigitTask::new(SingleDigit::paper()?))),
        }
    }

    /// [`Objective::DirectDigits`] trains an image motif model with one channel per digit,
    /// alone, on DigitCircle's single digits.
    fn check_direct_digits(&self) -> Result<(), ModelError> {
        const WHY: &str = "the direct-digits objective";
        let DomainConfig::DigitCircle(_) = &self.domain else {
            return Err(ModelError::invalid(
                "training.objective",
                "direct-digits",
                format!(
                    "needs the digit-circle domain (its single digits); this run is {}",
                    self.domain.name()
                ),
            ));
        };
        let ModelConfig::Image(image) = &self.model else {
            return Err(ModelError::invalid(
                "model.kind",
                self.model.kind(),
                format!("{WHY} reads single-digit images with an `image` model"),
            ));
        };
        let size = SingleDigitConfig::default().size;
        image.check_image(size, size, 0)?;
        if image.motif.motifs != 10 {
            return Err(ModelError::invalid(
                "model.motif.motifs",
                image.motif.motifs,
                format!("must be 10 for {WHY}: each channel's maximum is one digit's logit"),
            ));
        }
        let method = &image.sparsity.method;
        if *method != Method::Identity {
            return Err(ModelError::invalid(
                "model.sparsity.method",
                method.name(),
                format!("must be identity for {WHY}: the motif model trains alone"),
            ));
        }
        if self.training.freeze_motifs {
            return Err(ModelError::invalid(
                "training.freeze_motifs",
                true,
                format!("must be false for {WHY}: the motif model is all that trains"),
            ));
        }
        if !self.training.curriculum.is_empty() {
            return Err(ModelError::invalid(
                "training.curriculum",
                self.training.curriculum.len(),
                format!("must be empty for {WHY} (every image holds one digit)"),
            ));
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
            // The footprint paddings of the domains' motif protocols (task/*.rs).
            (DomainConfig::DigitCircle(c), ModelConfig::Image(m)) => {
                m.check_image(c.size, c.size, 0)?
            }
            (DomainConfig::Latex(c), ModelConfig::Image(m)) => {
                m.check_image(c.height, c.width, LATEX_FOOTPRINT_PAD)?
            }
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
