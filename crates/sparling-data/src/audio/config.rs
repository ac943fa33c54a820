//! Parameters of the spoken-digit domain (the authors' `AudioClipDomain` and spectrogram, in
//! `pixel_art/audo_mnist/` of kavigupta/sparling-repro; docs/data.md), with FSDD speakers.

use serde::{Deserialize, Serialize};

use super::augment::{Augmentation, Level};
use super::recordings::{Recording, RecordingIndex, SAMPLE_RATE};
use super::spectrogram::SpectrogramConfig;
use crate::dataset::Split;
use crate::error::AudioError;

/// The six FSDD speakers, sorted.
pub const FSDD_SPEAKERS: [&str; 6] = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"];

/// Which speaker list a split draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpeakerRole {
    /// Training speakers: the train and validation splits (validation is seed −1 on the
    /// training speakers, as in the reference).
    Train,
    /// Held-out speakers: the test and motif-eval splits.
    Test,
}

impl SpeakerRole {
    /// The speakers `split` draws from.
    #[must_use]
    pub fn of(split: Split) -> Self {
        match split {
            Split::Train { .. } | Split::Val => Self::Train,
            Split::Test | Split::MotifEval => Self::Test,
        }
    }

    /// `train` or `test`, for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }
}

/// Parameters of `AudioClipDomain` + `AudioClipDomainSpectrogram` (the reference's `aum-2ka1`),
/// with FSDD's six speakers split 5 / 1 instead of AudioMNIST's 51 / 9.
///
/// Defaults are the paper's everywhere else: 15 s clips at 8 kHz (120,000 samples), 5–10
/// digits, truncated-normal noise of log2 amplitude −10, 64 mel bands with `time_chunk` 1.5 s
/// (n_fft 375, hop 187, 642 frames).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioConfig {
    /// Speakers of the train and validation splits, in the order `rng.choice` indexes them.
    pub train_speakers: Vec<String>,
    /// Held-out speakers of the test and motif-eval splits, in `rng.choice` order.
    pub test_speakers: Vec<String>,
    /// Clip length in seconds; the clip has `int(8000 · clip_seconds)` samples.
    pub clip_seconds: f64,
    /// Fewest digits per clip.
    pub min_digits: usize,
    /// Most digits per clip (inclusive, `length_range[1]`).
    pub max_digits: usize,
    /// Noise amplitude as a power of two (**not** dB): the noise is
    /// `truncnorm(−1, 1, scale = min(2¹⁶, 2^noise_log2_amplitude))`. −100 is effectively none.
    pub noise_log2_amplitude: f64,
    /// Use only the first `n` takes (in string order) of each speaker and digit
    /// (`digits_per_speaker_limit`; `None` = all).
    pub takes_per_speaker: Option<usize>,
    /// Mel bands.
    pub n_mels: usize,
    /// `time_chunk` of the reference: `n_fft = int(2 · time_chunk · 8000 / n_mels)`.
    pub time_chunk_seconds: f64,
    /// Augmentation of the training split's recordings (none in the paper).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub augment: Option<Augmentation>,
    /// The input's level (the paper's absolute dB by default).
    #[serde(skip_serializing_if = "Level::is_absolute")]
    pub level: Level,
}

impl Default for AudioConfig {
    fn default() -> Self {
        Self {
            train_speakers: ["george", "jackson", "lucas", "nicolas", "yweweler"]
                .map(str::to_owned)
                .to_vec(),
            test_speakers: vec!["theo".to_owned()],
            clip_seconds: 15.0,
            min_digits: 5,
            max_digits: 10,
            noise_log2_amplitude: -10.0,
            takes_per_speaker: None,
            n_mels: 64,
            time_chunk_seconds: 1.5,
            augment: None,
            level: Level::Absolute,
        }
    }
}

/// Longest clip accepted, in seconds: far beyond any use, it only keeps sizes sane.
const MAX_CLIP_SECONDS: f64 = 3600.0;

impl AudioConfig {
    /// The speakers of one role.
    #[must_use]
    pub fn speakers(&self, role: SpeakerRole) -> &[String] {
        match role {
            SpeakerRole::Train => &self.train_speakers,
            SpeakerRole::Test => &self.test_speakers,
        }
    }

    /// Samples per clip, `int(SAMPLE_RATE · clip_seconds)` (120,000).
    #[must_use]
    pub fn clip_samples(&self) -> usize {
        // Python's int() truncates toward zero; validate() keeps the product positive.
        (f64::from(SAMPLE_RATE) * self.clip_seconds) as usize
    }

    /// The truncated-normal scale `min(2¹⁶, 2^noise_log2_amplitude)`.
    #[must_use]
    pub fn noise_scale(&self) -> f64 {
        2f64.powf(self.noise_log2_amplitude).min(65_536.0)
    }

    /// The spectrogram recipe these parameters give (the authors'
    /// `pixel_art/audo_mnist/spectrogram/spectrogram.py`).
    #[must_use]
    pub fn spectrogram(&self) -> SpectrogramConfig {
        SpectrogramConfig::from_time_chunk(SAMPLE_RATE, self.n_mels, self.time_chunk_seconds)
    }

    /// Spectrogram frames per clip (642).
    #[must_use]
    pub fn n_frames(&self) -> usize {
        self.spectrogram().n_frames(self.clip_samples())
    }

    /// Longest decoder output: `max_digits + 3` (13), the reference's `maximal_length`.
    #[must_use]
    pub fn maximal_length(&self) -> usize {
        self.max_digits + 3
    }

    /// Checks every parameter that does not need the recordings.
    ///
    /// # Errors
    /// The first problem found: an empty, repeated or overlapping speaker list, or a number
    /// out of range.
    pub fn validate(&self) -> Result<(), AudioError> {
        for role in [SpeakerRole::Train, SpeakerRole::Test] {
            let list = self.speakers(role);
            if list.is_empty() {
                return Err(AudioError::NoSpeakers { role: role.name() });
            }
            for (i, s) in list.iter().enumerate() {
                if list[..i].contains(s) {
                    return Err(AudioError::DuplicateSpeaker {
                        speaker: s.clone(),
                        role: role.name(),
                    });
                }
            }
        }
        if let Some(s) = self
            .train_speakers
            .iter()
            .find(|s| self.test_speakers.contains(s))
        {
            return Err(AudioError::SpeakerOverlap { speaker: s.clone() });
        }
        if !(self.clip_seconds > 0.0 && self.clip_seconds <= MAX_CLIP_SECONDS) {
            return Err(invalid(
                "clip_seconds",
                self.clip_seconds,
                "must be in (0, 3600]",
            ));
        }
        if self.min_digits == 0 {
            return Err(invalid("min_digits", 0, "must be at least 1"));
        }
        if self.max_digits < self.min_digits {
            return Err(invalid(
                "max_digits",
                self.max_digits,
                "must be at least min_digits",
            ));
        }
        if !self.noise_log2_amplitude.is_finite() {
            return Err(invalid(
                "noise_log2_amplitude",
                self.noise_log2_amplitude,
                "must be finite",
            ));
        }
        if self.takes_per_speaker == Some(0) {
            return Err(invalid(
                "takes_per_speaker",
                0,
                "must be at least 1 (or absent for all takes)",
            ));
        }
        if !(self.time_chunk_seconds > 0.0 && self.time_chunk_seconds.is_finite()) {
            return Err(invalid(
                "time_chunk_seconds",
                self.time_chunk_seconds,
                "must be positive",
            ));
        }
        if self.n_mels == 0 {
            return Err(invalid("n_mels", 0, "must be at least 1"));
        }
        let spec = self.spectrogram();
        spec.validate()?;
        if let Some(augment) = &self.augment {
            augment.validate(self.n_mels)?;
        }
        self.level.validate()?;
        // torch's reflect padding needs the signal to be longer than the pad.
        if self.clip_samples() <= spec.n_fft / 2 {
            return Err(invalid(
                "clip_seconds",
                self.clip_seconds,
                "the clip must be longer than half an FFT window",
            ));
        }
        Ok(())
    }

    /// [`validate`](Self::validate), then checks that every configured speaker has at least
    /// one recording of every digit in `index`.
    ///
    /// # Errors
    /// As `validate`, plus [`AudioError::UnknownSpeaker`] and [`AudioError::MissingDigit`].
    pub fn validate_against(&self, index: &RecordingIndex) -> Result<(), AudioError> {
        self.validate()?;
        for role in [SpeakerRole::Train, SpeakerRole::Test] {
            for speaker in self.speakers(role) {
                if !index.speakers().contains(speaker) {
                    return Err(AudioError::UnknownSpeaker {
                        speaker: speaker.clone(),
                        role: role.name(),
                        dir: index.dir().to_owned(),
                        available: index.speakers().join(", "),
                    });
                }
                for digit in 0..10 {
                    if index.takes(digit, speaker).is_empty() {
                        return Err(AudioError::MissingDigit {
                            speaker: speaker.clone(),
                            role: role.name(),
                            digit,
                            dir: index.dir().to_owned(),
                        });
                    }
                }
            }
        }
        self.check_lengths(index)
    }

    /// Every recording a clip may draw fits a clip of `max_digits` digits even next to the
    /// shortest ones; otherwise sampling would fail, always at the same sample, far into a run.
    fn check_lengths(&self, index: &RecordingIndex) -> Result<(), AudioError> {
        let used: Vec<&Recording> = index
            .recordings()
            .iter()
            .filter(|r| {
                [SpeakerRole::Train, SpeakerRole::Test]
                    .iter()
                    .any(|&role| self.speakers(role).iter().any(|s| s == r.speaker()))
            })
            .collect();
        let Some(shortest) = used.iter().map(|r| r.len()).min() else {
            return Ok(());
        };
        let clip = self.clip_samples();
        let others = self.max_digits.saturating_sub(1);
        // Augmented recordings may be stretched: the longest must still fit next to the
        // others at their shortest.
        let stretch = self.augment.as_ref().map_or(1.0, Augmentation::max_stretch);
        let squeeze = self.augment.as_ref().map_or(1.0, |a| 1.0 + a.speed);
        let shortest = (shortest as f64 / squeeze).floor() as usize;
        let max = (clip.saturating_sub(others.saturating_mul(shortest)) as f64 / stretch) as usize;
        match used.iter().find(|r| r.len() > max) {
            Some(r) => Err(AudioError::RecordingTooLong {
                path: index.dir().join(r.file_name()),
                samples: r.len(),
                seconds: r.len() as f64 / f64::from(SAMPLE_RATE),
                clip_len: clip,
                others,
                max,
            }),
            None => Ok(()),
        }
    }
}

fn invalid(name: &'static str, value: impl ToString, reason: &'static str) -> AudioError {
    AudioError::InvalidParameter {
        name,
        value: value.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers() {
        let c = AudioConfig::default();
        c.validate().expect("defaults are valid");
        assert_eq!(c.clip_samples(), 120_000);
        assert_eq!(c.noise_scale(), 2f64.powi(-10));
        let s = c.spectrogram();
        assert_eq!((s.n_fft, s.hop_length, s.n_mels), (375, 187, 64));
        assert_eq!(c.n_frames(), 642);
        assert_eq!(c.maximal_length(), 13);
        assert_eq!(SpeakerRole::of(Split::Val), SpeakerRole::Train);
        assert_eq!(SpeakerRole::of(Split::MotifEval), SpeakerRole::Test);
        let mut all: Vec<&str> = c
            .train_speakers
            .iter()
            .chain(&c.test_speakers)
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        assert_eq!(all, FSDD_SPEAKERS);
    }

    #[test]
    fn bad_values_give_typed_errors() {
        let base = AudioConfig::default;
        let cases: Vec<(AudioConfig, &str)> = vec![
            (
                AudioConfig {
                    train_speakers: vec![],
                    ..base()
                },
                "NoSpeakers",
            ),
            (
                AudioConfig {
                    test_speakers: vec![],
                    ..base()
                },
                "NoSpeakers",
            ),
            (
                AudioConfig {
                    test_speakers: vec!["theo".into(), "theo".into()],
                    ..base()
                },
                "DuplicateSpeaker",
            ),
            (
                AudioConfig {
                    test_speakers: vec!["theo".into(), "george".into()],
                    ..base()
                },
                "SpeakerOverlap",
            ),
            (
                AudioConfig {
                    clip_seconds: 0.0,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    clip_seconds: f64::NAN,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    clip_seconds: 0.02,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    min_digits: 0,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    min_digits: 6,
                    max_digits: 5,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    noise_log2_amplitude: f64::INFINITY,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    takes_per_speaker: Some(0),
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    n_mels: 0,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    time_chunk_seconds: -1.0,
                    ..base()
                },
                "InvalidParameter",
            ),
            (
                AudioConfig {
                    n_mels: 20_000,
                    ..base()
                },
                "InvalidParameter",
            ),
        ];
        for (config, variant) in cases {
            let err = config.validate().expect_err(variant);
            assert!(
                format!("{err:?}").starts_with(variant),
                "{variant}: got {err:?}"
            );
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn serde_defaults_and_unknown_fields() {
        let c: AudioConfig =
            serde_json::from_str(r#"{"test_speakers": ["theo", "lucas"], "max_digits": 7}"#)
                .expect("parses");
        assert_eq!(c.max_digits, 7);
        assert_eq!(c.test_speakers, ["theo", "lucas"]);
        assert_eq!(c.min_digits, 5);
        assert!(c.validate().is_err(), "lucas is also a train speaker");
        assert!(serde_json::from_str::<AudioConfig>(r#"{"speakers": []}"#).is_err());
    }
}
