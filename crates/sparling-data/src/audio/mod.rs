//! The spoken-digit domain (the paper's AudioMNIST-Sequence; docs/data.md, docs/audio.md), on the
//! Free Spoken Digit Dataset: 5–10 recorded digits placed without overlap in a 15 s clip at 8 kHz,
//! plus truncated-normal noise; the model sees its 64-band log-mel spectrogram (642 frames) and
//! decodes the digit sequence. Each digit's ground-truth motif is its whole frame span.
//!
//! * [`recordings`]: the `{digit}_{speaker}_{take}.wav` index, loaded into memory once.
//! * [`config`]: [`AudioConfig`], the speaker split (5 train / 1 test speakers by default).
//! * [`clip`]: [`AudioClip`], the clip sampler (numpy-stream exact up to the noise values).
//! * [`spectrogram`]: [`MelSpectrogram`], the torchaudio recipe of the reference.
//! * [`sequence`]: [`AudioSequence`], clip + spectrogram + target, what the model consumes.
//! * [`augment`]: options beyond the paper: [`Augmentation`] of the training recordings and
//!   the clip-relative input [`Level`].
//! * [`export`]: WAV and PNG output.
//!
//! ```no_run
//! use std::sync::Arc;
//! use sparling_data::audio::{AudioClip, AudioSequence, RecordingIndex, resolve_recordings_dir};
//! use sparling_data::{Dataset, Split};
//!
//! let dir = resolve_recordings_dir(None)?; // $SPARLING_FSDD
//! let recordings = Arc::new(RecordingIndex::load(dir)?);
//! let domain = AudioSequence::new(AudioClip::paper(recordings)?)?;
//! let train = Dataset::new(domain, Split::Train { seed: 1 });
//! let batch = train.batch(0, 8)?;
//! assert_eq!(batch[0].features.len(), 64 * 642);
//! # Ok::<(), sparling_data::DataError>(())
//! ```

pub mod augment;
pub mod clip;
pub mod config;
pub mod export;
pub mod recordings;
pub mod sequence;
pub mod spectrogram;

pub use crate::error::AudioError;
pub use augment::{Augmentation, Level, RecordingAugmentation};
pub use clip::{AudioClip, AudioClipSample, MAX_PLACEMENT_ATTEMPTS, SpokenDigit};
pub use config::{AudioConfig, FSDD_SPEAKERS, SpeakerRole};
pub use recordings::{
    FSDD_ENV, Recording, RecordingIndex, SAMPLE_RATE, check_voice_name, parse_file_name,
    resolve_recordings_dir,
};
pub use sequence::{AudioSequence, AudioSequenceSample};
pub use spectrogram::{Layout, MelFilterbank, MelSpectrogram, Spectrogram, SpectrogramConfig};

use crate::dataset::Dataset;

/// A split of the clip stream.
pub type AudioClipDataset = Dataset<AudioClip>;
/// A split of the model-input stream.
pub type AudioSequenceDataset = Dataset<AudioSequence>;
