//! The data domain of a run and how it maps onto `sparling-data`'s generators.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sparling_data::audio::check_voice_name;
use sparling_data::{AudioConfig, DigitCircleConfig, LatexConfig, Vocabulary};

use crate::domain::Domain;
use crate::error::ModelError;

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
    /// Other voices that replace the held-out speakers of the test and motif-eval splits, for
    /// evaluation only (`sparling eval --test-voice`); training and validation never read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_voice: Option<TestVoice>,
}

/// A directory of recordings of voices outside the training data, evaluated in place of the
/// held-out speakers: `{digit}.wav` files are the voice `name` (take 0), FSDD-named files keep
/// their own speaker (`RecordingIndex::load_voice`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestVoice {
    /// The voice's name in reports (and of its `{digit}.wav` files).
    pub name: String,
    /// The directory.
    pub dir: PathBuf,
}

impl std::str::FromStr for TestVoice {
    type Err = String;

    /// `NAME=DIR`, or `DIR` named after its last component.
    fn from_str(value: &str) -> Result<Self, String> {
        let (name, dir) = match value.split_once('=') {
            Some((name, dir)) => (name.to_owned(), PathBuf::from(dir)),
            None => {
                let dir = PathBuf::from(value);
                let name = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| {
                        format!("`{value}` names no directory to take a voice name from")
                    })?
                    .to_owned();
                (name, dir)
            }
        };
        check_voice_name(&name)
            .map_err(|why| format!("voice name `{name}`: {why} (give NAME=DIR)"))?;
        Ok(TestVoice { name, dir })
    }
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
