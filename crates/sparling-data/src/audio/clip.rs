//! The clip sampler (`AudioClipDomain.sample_with_metadata` of the authors'
//! `pixel_art/audo_mnist/data/dataset.py`, kavigupta/sparling-repro) and its ground-truth motifs
//! (the `placed_stamps` of `AudioClipDomainSpectrogram` in the same file).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::augment::{Augmentation, RecordingAugmentation, augmentation_seed};
use super::config::{AudioConfig, SpeakerRole};
use super::recordings::{Recording, RecordingIndex};
use crate::dataset::{Generator, Split};
use crate::error::{AudioError, DataError};
use crate::scipy_stats::TruncatedNormal;
use sparling_numpy::NumpyRandomState;

/// Rejection-sampling attempts for the digit starts before giving up. The reference loops
/// forever; with FSDD and the paper's parameters a draw needs about 12 attempts on average
/// (99th percentile about 115, largest of 2,000 draws 256).
pub const MAX_PLACEMENT_ATTEMPTS: u64 = 1_000_000;

/// One spoken digit placed in a clip: its ground-truth motif.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpokenDigit {
    /// The digit (the motif class).
    pub digit: u8,
    /// Who spoke it.
    pub speaker: String,
    /// The recording's file name, e.g. `7_jackson_32.wav`.
    pub file: String,
    /// First sample in the clip.
    pub start: usize,
    /// Length in samples.
    pub len: usize,
    /// Spectrogram frames it covers (all mel bands):
    /// `[start·F/N, start·F/N + len·F/N)` with integer division, F = frames, N = samples.
    pub frames: Range<usize>,
    /// What augmentation did to the recording (training split with augmentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augmentation: Option<RecordingAugmentation>,
}

/// One clip with its metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioClipSample {
    /// The clip, `clip_samples` values (120,000): the digits on silence plus noise,
    /// `f32(f32 clip + f64 noise)` as the reference's `torch.tensor(audio + noise).float()`.
    pub audio: Vec<f32>,
    /// The label: the digits in drawn order, which is also time order
    /// (`ListOffDigitsOperation`).
    pub label: Vec<u8>,
    /// Ground-truth motifs, one per digit, in time order (same order as `label`).
    pub motifs: Vec<SpokenDigit>,
}

impl AudioClipSample {
    /// The label as text, e.g. `"40718"`.
    #[must_use]
    pub fn label_string(&self) -> String {
        self.label.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

/// The speakers of one role, resolved against the recordings.
#[derive(Clone, Debug)]
struct SpeakerPool {
    names: Vec<String>,
    /// `takes[s][d]`: positions in the index of `names[s]`'s takes of digit `d`, file-name
    /// order, truncated to `takes_per_speaker`. Never empty (checked at construction).
    takes: Vec<[Vec<usize>; 10]>,
}

impl SpeakerPool {
    fn new(config: &AudioConfig, index: &RecordingIndex, role: SpeakerRole) -> Self {
        let names = config.speakers(role).to_vec();
        let takes = names
            .iter()
            .map(|name| {
                std::array::from_fn(|d| {
                    let all = index.takes(d as u8, name);
                    let n = config
                        .takes_per_speaker
                        .map_or(all.len(), |l| l.min(all.len()));
                    all[..n].to_vec()
                })
            })
            .collect();
        Self { names, takes }
    }
}

/// The spoken-digit clip generator over a set of recordings. Cheap to clone (the recordings
/// are shared).
#[derive(Clone, Debug)]
pub struct AudioClip {
    config: AudioConfig,
    recordings: Arc<RecordingIndex>,
    train: SpeakerPool,
    test: SpeakerPool,
    noise: TruncatedNormal,
    clip_samples: usize,
    n_frames: usize,
}

impl AudioClip {
    /// Validates `config` against `recordings` and prepares the generator.
    ///
    /// # Errors
    /// [`DataError::Audio`] for an invalid configuration or a speaker without recordings of
    /// every digit.
    pub fn new(config: AudioConfig, recordings: Arc<RecordingIndex>) -> Result<Self, DataError> {
        config.validate_against(&recordings)?;
        let noise = TruncatedNormal::new(-1.0, 1.0, config.noise_scale()).map_err(|e| {
            AudioError::InvalidParameter {
                name: "noise_log2_amplitude",
                value: config.noise_log2_amplitude.to_string(),
                reason: if e.scale > 0.0 {
                    "invalid noise distribution"
                } else {
                    "the noise scale underflows to 0"
                },
            }
        })?;
        Ok(Self {
            train: SpeakerPool::new(&config, &recordings, SpeakerRole::Train),
            test: SpeakerPool::new(&config, &recordings, SpeakerRole::Test),
            clip_samples: config.clip_samples(),
            n_frames: config.n_frames(),
            noise,
            config,
            recordings,
        })
    }

    /// The paper's domain ([`AudioConfig::default`]) over `recordings`.
    ///
    /// # Errors
    /// As [`new`](Self::new), e.g. if a default speaker is missing from `recordings`.
    pub fn paper(recordings: Arc<RecordingIndex>) -> Result<Self, DataError> {
        Self::new(AudioConfig::default(), recordings)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &AudioConfig {
        &self.config
    }

    /// The recordings.
    #[must_use]
    pub fn recordings(&self) -> &Arc<RecordingIndex> {
        &self.recordings
    }

    /// Samples per clip (120,000).
    #[must_use]
    pub fn clip_samples(&self) -> usize {
        self.clip_samples
    }

    /// Spectrogram frames per clip (642), the unit of [`SpokenDigit::frames`].
    #[must_use]
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Draws one clip from the speakers of `role`, consuming the numpy stream exactly as the
    /// reference: `randint(min, max + 1)`, `choice(10, size=n)`, per digit `choice(speakers)`
    /// then `choice(takes)`, the start rejection loop (`sort(choice(N, size=n))`), then
    /// `N` uniforms for the truncated-normal noise.
    ///
    /// # Errors
    /// [`AudioError::PlacementFailed`] if the digits cannot be placed (their total length
    /// exceeds the clip, or [`MAX_PLACEMENT_ATTEMPTS`] rejections in a row).
    pub fn sample_role(
        &self,
        role: SpeakerRole,
        rng: &mut NumpyRandomState,
    ) -> Result<AudioClipSample, AudioError> {
        self.sample_role_augmented(role, rng, None)
    }

    /// [`sample_role`](Self::sample_role), each chosen recording transformed by
    /// [`RecordingAugmentation`]s drawn from `augment` (its own stream, after the numpy
    /// stream's choice of recordings) before it is placed.
    ///
    /// # Errors
    /// As [`sample_role`](Self::sample_role).
    pub fn sample_role_augmented(
        &self,
        role: SpeakerRole,
        rng: &mut NumpyRandomState,
        augment: Option<(&Augmentation, &mut NumpyRandomState)>,
    ) -> Result<AudioClipSample, AudioError> {
        let pool = match role {
            SpeakerRole::Train => &self.train,
            SpeakerRole::Test => &self.test,
        };
        let (lo, hi) = (self.config.min_digits as i64, self.config.max_digits as i64);
        let n = rng.randint_unchecked(lo, hi + 1) as usize;
        let digits: Vec<u8> = (0..n).map(|_| rng.interval(9) as u8).collect();
        let chosen: Vec<(usize, &Recording)> = digits
            .iter()
            .map(|&d| {
                let s = pick(rng, pool.names.len());
                let takes = &pool.takes[s][usize::from(d)];
                let position = takes[pick(rng, takes.len())];
                (s, &self.recordings.recordings()[position])
            })
            .collect();
        let (sources, augmentations): (Vec<Cow<'_, [f32]>>, Vec<_>) = match augment {
            None => chosen
                .iter()
                .map(|(_, r)| (Cow::Borrowed(r.samples()), None))
                .unzip(),
            Some((augment, aug_rng)) => chosen
                .iter()
                .map(|(_, r)| {
                    let a = augment.draw_recording(aug_rng);
                    (Cow::Owned(a.apply(r.samples())), Some(a))
                })
                .unzip(),
        };
        let lengths: Vec<usize> = sources.iter().map(|s| s.len()).collect();
        let starts = place(rng, &lengths, self.clip_samples)?;

        let mut audio = vec![0f32; self.clip_samples];
        let mut motifs = Vec::with_capacity(n);
        let placed = digits.iter().zip(&chosen).zip(&starts).zip(&sources);
        for ((((&digit, &(s, rec)), &start), source), augmentation) in placed.zip(augmentations) {
            let len = source.len();
            audio[start..start + len].copy_from_slice(source);
            let first = start * self.n_frames / self.clip_samples;
            let frames = len * self.n_frames / self.clip_samples;
            motifs.push(SpokenDigit {
                digit,
                speaker: pool.names[s].clone(),
                file: rec.file_name().to_owned(),
                start,
                len,
                frames: first..first + frames,
                augmentation,
            });
        }
        // audio (f32) + noise (f64) is float64 in numpy; torch's .float() rounds it back.
        self.noise.for_each(rng, &mut audio, |x, noise| {
            *x = (f64::from(*x) + noise) as f32;
        });
        Ok(AudioClipSample {
            audio,
            label: digits,
            motifs,
        })
    }

    /// Sample `index` of `split` from its numpy stream `rng`, with the augmentation stream
    /// of that sample if the split is augmented (the training split, when the configuration
    /// asks for it). The augmentation stream is returned, positioned after the recordings'
    /// draws, for the spectrogram's own draws.
    ///
    /// # Errors
    /// As [`sample_role`](Self::sample_role).
    pub fn sample_augmented(
        &self,
        split: Split,
        index: u64,
        rng: &mut NumpyRandomState,
    ) -> Result<(AudioClipSample, Option<NumpyRandomState>), AudioError> {
        let role = SpeakerRole::of(split);
        match (&self.config.augment, split) {
            (Some(augment), Split::Train { seed }) => {
                let mut aug_rng = NumpyRandomState::new(augmentation_seed(seed, index));
                let clip = self.sample_role_augmented(role, rng, Some((augment, &mut aug_rng)))?;
                Ok((clip, Some(aug_rng)))
            }
            _ => Ok((self.sample_role(role, rng)?, None)),
        }
    }

    /// `sample_role(SpeakerRole::of(split), RandomState(seed))`.
    ///
    /// # Errors
    /// As [`sample_role`](Self::sample_role).
    pub fn sample_seed(&self, split: Split, seed: u32) -> Result<AudioClipSample, AudioError> {
        self.sample_role(SpeakerRole::of(split), &mut NumpyRandomState::new(seed))
    }
}

/// `rng.choice(n)` for a pool that construction guarantees non-empty.
fn pick(rng: &mut NumpyRandomState, n: usize) -> usize {
    rng.interval(n.saturating_sub(1) as u64) as usize
}

/// `compute_digit_starts`: draw `sort(choice(clip, size=n))` until every gap to the next start
/// (or the clip end) holds its digit.
fn place(
    rng: &mut NumpyRandomState,
    lengths: &[usize],
    clip: usize,
) -> Result<Vec<usize>, AudioError> {
    let total: usize = lengths.iter().sum();
    let failed = |attempts| AudioError::PlacementFailed {
        count: lengths.len(),
        total_len: total,
        clip_len: clip,
        attempts,
    };
    // No placement exists: the reference would loop forever.
    if total > clip {
        return Err(failed(0));
    }
    let mut starts = vec![0usize; lengths.len()];
    for _ in 0..MAX_PLACEMENT_ATTEMPTS {
        for s in &mut starts {
            *s = pick(rng, clip);
        }
        starts.sort_unstable();
        let ends = starts.iter().skip(1).copied().chain([clip]);
        if starts
            .iter()
            .zip(ends)
            .zip(lengths)
            .all(|((&s, next), &len)| next - s >= len)
        {
            return Ok(starts);
        }
    }
    Err(failed(MAX_PLACEMENT_ATTEMPTS))
}

impl Generator for AudioClip {
    type Sample = AudioClipSample;

    /// Train and val draw from the training speakers, test and motif-eval from the held-out
    /// ones.
    fn sample_for_split(
        &self,
        split: Split,
        rng: &mut NumpyRandomState,
    ) -> Result<AudioClipSample, DataError> {
        Ok(self.sample_role(SpeakerRole::of(split), rng)?)
    }

    /// As [`AudioClip::sample_augmented`].
    fn sample_at(
        &self,
        split: Split,
        index: u64,
        rng: &mut NumpyRandomState,
    ) -> Result<AudioClipSample, DataError> {
        Ok(self.sample_augmented(split, index, rng)?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two speakers × 10 digits × 3 takes of constant, distinguishable audio.
    fn tiny_index() -> Arc<RecordingIndex> {
        let mut recs = Vec::new();
        for (si, speaker) in ["ann", "bob"].into_iter().enumerate() {
            for d in 0..10u8 {
                for take in 0..3 {
                    let len = 400 + 100 * usize::from(d) + 10 * take;
                    let value = 0.01 * f32::from(d) + 0.1 * si as f32 + 0.001;
                    let name = format!("{d}_{speaker}_{take}.wav");
                    recs.push(Recording::new(&name, vec![value; len]).expect("valid"));
                }
            }
        }
        Arc::new(RecordingIndex::from_recordings("mem", recs))
    }

    fn tiny_config() -> AudioConfig {
        AudioConfig {
            train_speakers: vec!["ann".into()],
            test_speakers: vec!["bob".into()],
            clip_seconds: 2.0,
            min_digits: 2,
            max_digits: 4,
            ..AudioConfig::default()
        }
    }

    #[test]
    fn clips_follow_the_recipe() {
        let g = AudioClip::new(tiny_config(), tiny_index()).expect("valid");
        assert_eq!((g.clip_samples(), g.n_frames()), (16_000, 86));
        for seed in 0..50 {
            let s = g.sample_seed(Split::Test, seed).expect("fits");
            assert!((2..=4).contains(&s.label.len()));
            assert_eq!(s.audio.len(), 16_000);
            let mut end = 0;
            for (m, &d) in s.motifs.iter().zip(&s.label) {
                assert_eq!(m.digit, d);
                assert_eq!(m.speaker, "bob");
                assert!(m.start >= end, "overlap");
                end = m.start + m.len;
                assert_eq!(m.frames.start, m.start * 86 / 16_000);
                assert_eq!(m.frames.len(), m.len * 86 / 16_000);
                // The recording is copied in; noise is at most 2^-10.
                let want = 0.01 * f32::from(d) + 0.1 + 0.001;
                assert!((s.audio[m.start] - want).abs() <= 2f32.powi(-10) + 1e-6);
            }
            assert!(end <= 16_000);
        }
        let s = g.sample_seed(Split::Val, 3).expect("fits");
        assert!(s.motifs.iter().all(|m| m.speaker == "ann"));
    }

    #[test]
    fn noise_is_bounded_truncated_normal() {
        let g = AudioClip::new(tiny_config(), tiny_index()).expect("valid");
        let s = g.sample_seed(Split::Train { seed: 1 }, 9).expect("fits");
        let bound = 2f32.powi(-10);
        let silent: Vec<f32> = s
            .audio
            .iter()
            .copied()
            .enumerate()
            .filter(|(i, _)| {
                !s.motifs
                    .iter()
                    .any(|m| (m.start..m.start + m.len).contains(i))
            })
            .map(|(_, v)| v)
            .collect();
        assert!(silent.iter().all(|v| v.abs() <= bound));
        let std =
            (silent.iter().map(|v| f64::from(v * v)).sum::<f64>() / silent.len() as f64).sqrt();
        assert!((std - 5.27e-4).abs() < 2e-5, "std {std}");
    }

    #[test]
    fn impossible_placements_fail_cleanly() {
        let mut rng = NumpyRandomState::new(0);
        assert!(matches!(
            place(&mut rng, &[600, 600], 1000),
            Err(AudioError::PlacementFailed { attempts: 0, .. })
        ));
        // A tight but possible fit: one digit filling the whole clip, so only start 0.
        let starts = place(&mut rng, &[1000], 1000).expect("one way");
        assert_eq!(starts, [0]);
        // Recordings that 10 digits in 0.5 s can never hold are refused when the domain is
        // built, naming a file, instead of failing at some sample far into a run.
        let config = AudioConfig {
            clip_seconds: 0.5,
            min_digits: 10,
            max_digits: 10,
            ..tiny_config()
        };
        let err = AudioClip::new(config, tiny_index()).expect_err("cannot fit");
        assert!(
            matches!(err, DataError::Audio(AudioError::RecordingTooLong { .. })),
            "{err}"
        );
        assert!(err.to_string().contains(".wav"), "{err}");
    }

    #[test]
    fn missing_speakers_and_digits_are_reported() {
        let err = AudioClip::new(
            AudioConfig {
                test_speakers: vec!["carl".into()],
                ..tiny_config()
            },
            tiny_index(),
        )
        .expect_err("unknown speaker");
        assert!(err.to_string().contains("carl") && err.to_string().contains("ann, bob"));

        let recs = tiny_index()
            .recordings()
            .iter()
            .filter(|r| !(r.speaker() == "bob" && r.digit() == 7))
            .cloned()
            .collect();
        let index = Arc::new(RecordingIndex::from_recordings("mem", recs));
        let err = AudioClip::new(tiny_config(), index).expect_err("missing digit");
        assert!(
            matches!(
                err,
                DataError::Audio(AudioError::MissingDigit { digit: 7, .. })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_recording_no_clip_can_hold_is_refused_by_name() {
        // Clip 16,000 samples, up to 4 digits, shortest recording 400: at most 14,800 fit.
        let mut recs: Vec<Recording> = tiny_index().recordings().to_vec();
        for (len, fits) in [(14_800, true), (14_801, false), (240_000, false)] {
            recs.retain(|r| r.file_name() != "3_bob_9.wav");
            recs.push(Recording::new("3_bob_9.wav", vec![0.1; len]).expect("valid"));
            let index = Arc::new(RecordingIndex::from_recordings("mem", recs.clone()));
            match AudioClip::new(tiny_config(), index) {
                Ok(_) => assert!(fits, "{len} samples accepted"),
                Err(DataError::Audio(AudioError::RecordingTooLong {
                    path, samples, max, ..
                })) => {
                    assert!(!fits, "{len} samples refused");
                    assert_eq!(path, std::path::Path::new("mem/3_bob_9.wav"));
                    assert_eq!((samples, max), (len, 14_800));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn takes_limit_restricts_the_pool() {
        let config = AudioConfig {
            takes_per_speaker: Some(1),
            ..tiny_config()
        };
        let g = AudioClip::new(config, tiny_index()).expect("valid");
        for seed in 0..20 {
            let s = g.sample_seed(Split::Val, seed).expect("fits");
            assert!(s.motifs.iter().all(|m| m.file.ends_with("_0.wav")));
        }
    }
}
