//! The spoken-digit task: log-mel spectrograms in, digit tokens out; the recordings are
//! loaded once per process and directory.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use rayon::prelude::*;
use sparling_data::audio::{FSDD_ENV, resolve_recordings_dir};
use sparling_data::{
    AudioClip, AudioConfig, AudioSequence, Dataset, RecordingIndex, Split, Vocabulary,
};
use sparling_metrics::{Footprint, TrueMotif};

use super::{Batch, MotifProtocol, Task};
use crate::config::AudioDomainConfig;
use crate::error::ModelError;

/// Spoken digits: `[1, frames, n_mels]` log-mel spectrograms (time x mel, 642 x 64), the
/// 28-token LaTeX-CFG vocabulary, one motif per digit covering its frame span.
pub struct AudioTask {
    domain: AudioSequence,
    clips: AudioClip,
    vocabulary: Vocabulary,
}

impl AudioTask {
    /// A task over `domain`.
    pub fn new(domain: AudioSequence) -> Self {
        Self {
            clips: domain.clip().clone(),
            domain,
            vocabulary: Vocabulary::latex_cfg(),
        }
    }

    /// The underlying generator.
    pub fn domain(&self) -> &AudioSequence {
        &self.domain
    }
}

impl Task for AudioTask {
    fn input_shape(&self) -> [usize; 3] {
        let (mels, frames) = self.domain.feature_shape();
        [1, frames, mels]
    }

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError> {
        let samples = Dataset::new(self.domain.clone(), split).batch(start, count)?;
        let [c, frames, mels] = self.input_shape();
        let per_sample = frames * mels;
        let mut inputs = vec![0f32; count * per_sample];
        // Samples hold the spectrogram mel-major ([mels x frames]); the model input is
        // time-major ([frames x mels]), the reference's `spec.T`.
        inputs
            .par_chunks_mut(per_sample)
            .zip(&samples)
            .for_each(|(out, s)| {
                for (m, band) in s.features.chunks_exact(frames).enumerate() {
                    for (t, &v) in band.iter().enumerate() {
                        out[t * mels + m] = v;
                    }
                }
            });
        Ok(Batch {
            inputs,
            shape: [count, c, frames, mels],
            targets: samples.into_iter().map(|s| s.token_ids).collect(),
        })
    }

    fn motifs(
        &self,
        split: Split,
        start: u64,
        count: usize,
    ) -> Result<Vec<Vec<TrueMotif>>, ModelError> {
        // The clip stream alone gives the same digits and spans without the spectrograms.
        let clips = Dataset::new(self.clips.clone(), split).batch(start, count)?;
        Ok(clips
            .iter()
            .map(|s| {
                s.motifs
                    .iter()
                    .map(|m| TrueMotif {
                        class: usize::from(m.digit),
                        footprint: Footprint::span(m.frames.clone()),
                    })
                    .collect()
            })
            .collect())
    }

    /// As the authors' `pixel_art/analysis/audio_mnist_experiment.py`: the motif errors are
    /// measured on the held-out speaker, without padding, with the many-to-one confusion error
    /// of LaTeX-OCR (`evaluate_latex_motifs.confusion_error`).
    fn motif_protocol(&self) -> MotifProtocol {
        MotifProtocol {
            split: Split::MotifEval,
            classes: 10,
            footprint_pad: 0,
            hungarian: false,
        }
    }
}

/// Recordings already loaded in this process, by directory, so that curriculum stages,
/// validation and evaluation share one copy (about 21 MB for FSDD). Entries do not keep the
/// recordings alive.
static RECORDINGS: Mutex<Vec<(PathBuf, Weak<RecordingIndex>)>> = Mutex::new(Vec::new());

/// Load the recordings of `dir`, or reuse the copy another task of this process holds.
fn load_recordings(dir: PathBuf) -> Result<Arc<RecordingIndex>, sparling_data::DataError> {
    let mut cache = RECORDINGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.retain(|(_, index)| index.strong_count() > 0);
    if let Some(index) = cache
        .iter()
        .find(|(d, _)| *d == dir)
        .and_then(|(_, index)| index.upgrade())
    {
        return Ok(index);
    }
    let index = Arc::new(RecordingIndex::load(&dir)?);
    cache.push((dir, Arc::downgrade(&index)));
    Ok(index)
}

impl AudioDomainConfig {
    /// The recordings directory: `recordings` if set, else `$SPARLING_FSDD`.
    ///
    /// # Errors
    /// [`ModelError::Recordings`] if neither is set.
    pub fn recordings_dir(&self) -> Result<PathBuf, ModelError> {
        resolve_recordings_dir(self.recordings.clone()).map_err(|e| ModelError::Recordings {
            cause: e.into(),
            env: FSDD_ENV,
        })
    }

    /// The recordings, loaded once per process and directory.
    ///
    /// # Errors
    /// [`ModelError::Recordings`] for a missing directory or an unreadable recording.
    pub fn recordings(&self) -> Result<Arc<RecordingIndex>, ModelError> {
        load_recordings(self.recordings_dir()?).map_err(|cause| ModelError::Recordings {
            cause,
            env: FSDD_ENV,
        })
    }

    /// The model-input domain over the recordings; with a test voice, its voices are the
    /// held-out speakers.
    ///
    /// # Errors
    /// As [`Self::recordings`], or a configuration that does not fit the recordings (unknown
    /// speaker, a speaker without some digit, a test voice named like a training speaker).
    pub fn sequence(&self) -> Result<AudioSequence, ModelError> {
        let recordings = self.recordings()?;
        let clips = match &self.test_voice {
            None => AudioClip::new(self.audio.clone(), recordings)?,
            Some(voice) => {
                let bad_voice = |e: sparling_data::AudioError| ModelError::TestVoice {
                    dir: voice.dir.clone(),
                    cause: e.into(),
                };
                let voices =
                    RecordingIndex::load_voice(&voice.dir, &voice.name).map_err(bad_voice)?;
                let audio = AudioConfig {
                    test_speakers: voices.speakers().to_vec(),
                    ..self.audio.clone()
                };
                let merged = recordings.merged(&voices).map_err(bad_voice)?;
                // The run's own configuration was checked when it trained: what fails here is
                // the voice (a missing digit, a recording too long for the clip).
                AudioClip::new(audio, Arc::new(merged)).map_err(|e| ModelError::TestVoice {
                    dir: voice.dir.clone(),
                    cause: e,
                })?
            }
        };
        Ok(AudioSequence::new(clips)?)
    }
}
