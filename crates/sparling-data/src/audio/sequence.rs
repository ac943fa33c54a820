//! What the model consumes: a clip's log-mel spectrogram, its decoder target and its motif spans
//! (`AudioClipDomainSpectrogram` + `AudioMNISTDomainDataset` of the authors'
//! `pixel_art/audo_mnist/data/dataset.py`, kavigupta/sparling-repro).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::augment::apply_masks;
use super::clip::{AudioClip, AudioClipSample, SpokenDigit};
use super::config::SpeakerRole;
use super::spectrogram::{Layout, MelSpectrogram, Spectrogram};
use crate::dataset::{Generator, Split};
use crate::error::{AudioError, DataError};
use crate::vocab::Vocabulary;
use sparling_numpy::NumpyRandomState;

/// One model sample: spectrogram `[n_mels × n_frames]` + target + motifs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioSequenceSample {
    /// Log-mel spectrogram in dB, `[n_mels × n_frames]` row-major (64 × 642): mel bands are
    /// the channels of the 1-D motif network, frames its length.
    pub features: Vec<f32>,
    /// Mel bands (64).
    pub n_mels: usize,
    /// Frames (642).
    pub n_frames: usize,
    /// The digits, in time order.
    pub label: Vec<u8>,
    /// Decoder target `<s> digits… </s>` in the 28-token LaTeX-CFG vocabulary
    /// ([`Vocabulary::latex_cfg`]; digit `d` is id `d + 3`).
    pub token_ids: Vec<u32>,
    /// Ground-truth motifs in time order; each covers `frames` × all mel bands.
    pub motifs: Vec<SpokenDigit>,
}

impl AudioSequenceSample {
    /// The spectrogram as a time-major [`Spectrogram`] (for export).
    ///
    /// # Errors
    /// Only if the fields were edited into inconsistent sizes.
    pub fn spectrogram(&self) -> Result<Spectrogram, AudioError> {
        Spectrogram::from_mel_major(self.n_mels, self.n_frames, &self.features)
    }

    /// Motif frame spans with their digits, in time order.
    pub fn spans(&self) -> impl Iterator<Item = (u8, Range<usize>)> + '_ {
        self.motifs.iter().map(|m| (m.digit, m.frames.clone()))
    }

    /// The label as text, e.g. `"40718"`.
    #[must_use]
    pub fn label_string(&self) -> String {
        self.label.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

/// Clip + spectrogram in one draw: the domain the model trains on.
#[derive(Clone, Debug)]
pub struct AudioSequence {
    clip: AudioClip,
    spectrogram: MelSpectrogram,
    /// Token id of each digit in the decoder vocabulary.
    digit_ids: [u32; 10],
}

impl AudioSequence {
    /// The spectrogram of `clip`'s configuration.
    ///
    /// # Errors
    /// [`DataError::Audio`] if the spectrogram parameters are invalid (already checked by
    /// [`AudioClip::new`], so in practice never).
    pub fn new(clip: AudioClip) -> Result<Self, DataError> {
        let spectrogram = MelSpectrogram::new(clip.config().spectrogram())?;
        let vocab = Vocabulary::latex_cfg();
        let mut digit_ids = [0u32; 10];
        for (d, id) in (0u8..).zip(&mut digit_ids) {
            let name = d.to_string();
            *id = vocab.id(&name).ok_or(DataError::UnknownToken(name))?;
        }
        Ok(Self {
            clip,
            spectrogram,
            digit_ids,
        })
    }

    /// The clip generator.
    #[must_use]
    pub fn clip(&self) -> &AudioClip {
        &self.clip
    }

    /// The spectrogram transform.
    #[must_use]
    pub fn spectrogram(&self) -> &MelSpectrogram {
        &self.spectrogram
    }

    /// `(n_mels, n_frames)` of every sample: (64, 642).
    #[must_use]
    pub fn feature_shape(&self) -> (usize, usize) {
        (self.clip.config().n_mels, self.clip.n_frames())
    }

    /// Turns a drawn clip into a model sample.
    ///
    /// # Errors
    /// [`AudioError::SignalTooShort`] only for a clip shorter than half an FFT window, which a
    /// validated configuration rules out.
    pub fn featurize(&self, clip: &AudioClipSample) -> Result<AudioSequenceSample, AudioError> {
        self.featurize_augmented(clip, None)
    }

    /// [`featurize`](Self::featurize) for a clip drawn with augmentation: the frames of each
    /// warped recording are analysed with its vocal-tract warp, the configured level is set,
    /// then the frequency masks are drawn from `augment` (the clip's augmentation stream).
    ///
    /// # Errors
    /// As [`featurize`](Self::featurize).
    pub fn featurize_augmented(
        &self,
        clip: &AudioClipSample,
        augment: Option<&mut NumpyRandomState>,
    ) -> Result<AudioSequenceSample, AudioError> {
        let config = self.clip.config();
        let (n_mels, n_frames) = self.feature_shape();
        let mut features = vec![0.0; n_mels * n_frames];
        let warps: Vec<(Range<usize>, f64)> = clip
            .motifs
            .iter()
            .filter_map(|m| m.augmentation.map(|a| (m.frames.clone(), a.warp)))
            .collect();
        self.spectrogram.compute_warped_into(
            &clip.audio,
            Layout::MelMajor,
            &mut features,
            &warps,
        )?;
        config.level.apply(&mut features);
        if let (Some(rng), Some(augmentation)) = (augment, &config.augment) {
            let masks = augmentation.draw_masks(n_mels, rng);
            apply_masks(&mut features, n_frames, &masks);
        }
        let mut token_ids = Vec::with_capacity(clip.label.len() + 2);
        token_ids.push(Vocabulary::BOS_ID);
        token_ids.extend(
            clip.label
                .iter()
                .map(|&d| self.digit_ids[usize::from(d % 10)]),
        );
        token_ids.push(Vocabulary::EOS_ID);
        Ok(AudioSequenceSample {
            features,
            n_mels,
            n_frames,
            label: clip.label.clone(),
            token_ids,
            motifs: clip.motifs.clone(),
        })
    }
}

impl Generator for AudioSequence {
    type Sample = AudioSequenceSample;

    fn sample_for_split(
        &self,
        split: Split,
        rng: &mut NumpyRandomState,
    ) -> Result<AudioSequenceSample, DataError> {
        let clip = self.clip.sample_role(SpeakerRole::of(split), rng)?;
        Ok(self.featurize(&clip)?)
    }

    /// As [`AudioClip::sample_augmented`], then [`AudioSequence::featurize_augmented`].
    fn sample_at(
        &self,
        split: Split,
        index: u64,
        rng: &mut NumpyRandomState,
    ) -> Result<AudioSequenceSample, DataError> {
        let (clip, mut augment) = self.clip.sample_augmented(split, index, rng)?;
        Ok(self.featurize_augmented(&clip, augment.as_mut())?)
    }
}
