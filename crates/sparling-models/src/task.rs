//! Tasks: a data domain seen as `(input array, target tokens)` pairs, so the training loop and
//! the evaluation code are shared by all domains.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use rayon::prelude::*;
use sparling_data::audio::{FSDD_ENV, resolve_recordings_dir};
use sparling_data::latex::LatexOcr;
use sparling_data::{
    AudioClip, AudioSequence, Dataset, DigitCircle, RecordingIndex, Split, Vocabulary,
};
use sparling_metrics::TrueMotif;

use crate::config::{AudioDomainConfig, DomainConfig};
use crate::error::ModelError;

mod latex;

pub use latex::{LATEX_FOOTPRINT_PAD, LatexTask, latex_motifs};

/// A batch of examples as host arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Inputs, `[batch, channels, height, width]` row-major (`[batch, 1, frames, n_mels]` for
    /// audio).
    pub inputs: Vec<f32>,
    /// Shape of `inputs`.
    pub shape: [usize; 4],
    /// Target sequences `<s> … </s>` as vocabulary ids.
    pub targets: Vec<Vec<u32>>,
}

/// A domain as the training loop sees it.
pub trait Task: Send + Sync {
    /// Input shape of one example, `[channels, height, width]`.
    fn input_shape(&self) -> [usize; 3];

    /// The decoder vocabulary.
    fn vocabulary(&self) -> &Vocabulary;

    /// Examples `start .. start + count` of `split`, generated in parallel; the result does not
    /// depend on the number of threads.
    ///
    /// # Errors
    /// An index the split cannot address.
    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError>;

    /// Ground-truth motifs of examples `start .. start + count` of `split`, in placement order.
    ///
    /// # Errors
    /// An index the split cannot address.
    fn motifs(
        &self,
        split: Split,
        start: u64,
        count: usize,
    ) -> Result<Vec<Vec<TrueMotif>>, ModelError>;

    /// How the task's motif errors are computed.
    fn motif_protocol(&self) -> MotifProtocol;
}

/// How motif errors are measured for a task (digit_circle.md §4.2, latex_audio.md A7/B4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MotifProtocol {
    /// The split the motif errors are measured on.
    pub split: Split,
    /// Number of true motif classes.
    pub classes: usize,
    /// Footprints are padded by this many pixels.
    pub footprint_pad: usize,
    /// Confusion error by one-to-one (Hungarian) channel assignment; many-to-one otherwise.
    pub hungarian: bool,
}

/// DigitCircle: `[1, 100, 100]` binary images, 12-token vocabulary.
pub struct DigitCircleTask {
    domain: DigitCircle,
    vocabulary: Vocabulary,
}

impl DigitCircleTask {
    /// A task over `domain`.
    pub fn new(domain: DigitCircle) -> Self {
        Self {
            domain,
            vocabulary: Vocabulary::digit_circle(),
        }
    }

    /// The underlying generator.
    pub fn domain(&self) -> &DigitCircle {
        &self.domain
    }
}

impl Task for DigitCircleTask {
    fn input_shape(&self) -> [usize; 3] {
        let size = self.domain.config().size;
        [1, size, size]
    }

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn batch(&self, split: Split, start: u64, count: usize) -> Result<Batch, ModelError> {
        let dataset = Dataset::new(self.domain.clone(), split);
        let samples = dataset.batch(start, count)?;
        let [c, h, w] = self.input_shape();
        let mut inputs = Vec::with_capacity(count * c * h * w);
        for s in &samples {
            s.image.extend_f32(&mut inputs);
        }
        let targets = samples.par_iter().map(|s| s.token_ids()).collect();
        Ok(Batch {
            inputs,
            shape: [count, c, h, w],
            targets,
        })
    }

    fn motifs(
        &self,
        split: Split,
        start: u64,
        count: usize,
    ) -> Result<Vec<Vec<TrueMotif>>, ModelError> {
        let dataset = Dataset::new(self.domain.clone(), split);
        Ok(dataset
            .batch(start, count)?
            .iter()
            .map(|s| {
                s.motifs
                    .iter()
                    .map(|m| TrueMotif::new(usize::from(m.digit), m.rows.clone(), m.cols.clone()))
                    .collect()
            })
            .collect())
    }

    fn motif_protocol(&self) -> MotifProtocol {
        MotifProtocol {
            split: Split::MotifEval,
            classes: 10,
            footprint_pad: 0,
            hungarian: true,
        }
    }
}

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
                    .map(|m| TrueMotif::new(usize::from(m.digit), m.frames.clone(), 0..1))
                    .collect()
            })
            .collect())
    }

    /// latex_audio.md B4: the motif errors are measured on the held-out speaker, without
    /// padding, with the many-to-one confusion error of A7.
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

    /// The model-input domain over the recordings.
    ///
    /// # Errors
    /// As [`Self::recordings`], or a configuration that does not fit the recordings (unknown
    /// speaker, a speaker without some digit).
    pub fn sequence(&self) -> Result<AudioSequence, ModelError> {
        let clips = AudioClip::new(self.audio.clone(), self.recordings()?)?;
        Ok(AudioSequence::new(clips)?)
    }
}

impl DomainConfig {
    /// Build the task of this domain. The audio domain reads its recordings here (once per
    /// process and directory); LaTeX renders with the built-in TeX layout and rasteriser (the
    /// pdflatex backend, 0.2 s per formula, is for fidelity checks, not training).
    ///
    /// # Errors
    /// An invalid domain configuration, or missing or unreadable recordings.
    pub fn task(&self) -> Result<Box<dyn Task>, ModelError> {
        Ok(match self {
            DomainConfig::DigitCircle(c) => {
                Box::new(DigitCircleTask::new(DigitCircle::new(c.clone())?))
            }
            DomainConfig::Audio(c) => Box::new(AudioTask::new(c.sequence()?)),
            DomainConfig::Latex(c) => Box::new(LatexTask::new(LatexOcr::new(c.clone())?)),
        })
    }
}
