//! Options of the spoken-digit domain that the paper does not have (docs/audio.md): augmentation
//! of the training speakers' recordings, and an input level that depends only on the clip.
//!
//! Augmentation draws from its own stream, seeded from the sample's split seed and index
//! ([`augmentation_seed`]), so the numpy-exact clip stream is unchanged when it is off, and a
//! sample is the same whatever else is generated. Only the training split is augmented;
//! validation, test and motif-eval clips never are. Nothing removes time: a frequency mask
//! spans every frame but never a whole digit, and no time masks exist, so no labelled digit
//! is erased.

use serde::{Deserialize, Serialize};

use crate::error::AudioError;
use crate::seed::sha256_mod_2_32;
use sparling_numpy::NumpyRandomState;

/// Augmentation of the training speakers' recordings. Each placed recording gets its own gain,
/// speed and vocal-tract warp; each clip its frequency masks. Zero turns a part off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Augmentation {
    /// Gain in dB, uniform in `[-gain_db, gain_db]` per recording.
    pub gain_db: f64,
    /// Speed factor, uniform in `[1 - speed, 1 + speed]` per recording: the recording is
    /// resampled (linear interpolation), so tempo and pitch change together, as in Ko et al.
    /// (2015), "Audio augmentation for speech recognition".
    pub speed: f64,
    /// Vocal-tract-length perturbation: a warp factor `α` uniform in `[1 - vtlp, 1 + vtlp]`
    /// per recording scales the frequencies its frames are analysed at (the mel filterbank of
    /// those frames is evaluated at warped frequencies; Jaitly and Hinton (2013), "Vocal Tract
    /// Length Perturbation (VTLP) improves speech recognition").
    pub vtlp: f64,
    /// SpecAugment frequency masks per clip (Park et al. 2019): each sets `0..=mask_width` mel
    /// bands of every frame to the clip's mean.
    pub freq_masks: usize,
    /// Widest frequency mask, in mel bands.
    pub freq_mask_width: usize,
}

impl Default for Augmentation {
    /// The recipe of docs/audio.md: ±6 dB, ±10 % speed, ±10 % warp, two masks of up to 8 of
    /// the 64 bands.
    fn default() -> Self {
        Self {
            gain_db: 6.0,
            speed: 0.1,
            vtlp: 0.1,
            freq_masks: 2,
            freq_mask_width: 8,
        }
    }
}

/// What augmentation did to one placed recording.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordingAugmentation {
    /// Gain applied, dB.
    pub gain_db: f64,
    /// Speed factor (above 1: shorter and higher).
    pub speed: f64,
    /// Vocal-tract warp factor of its frames.
    pub warp: f64,
}

impl Augmentation {
    /// Longest a recording can become, as a factor of its length.
    #[must_use]
    pub fn max_stretch(&self) -> f64 {
        1.0 / (1.0 - self.speed)
    }

    /// Checks every parameter against `n_mels`.
    ///
    /// # Errors
    /// [`AudioError::InvalidParameter`] naming the first bad one.
    pub fn validate(&self, n_mels: usize) -> Result<(), AudioError> {
        let bad = |name, value: f64, reason| AudioError::InvalidParameter {
            name,
            value: value.to_string(),
            reason,
        };
        if !(self.gain_db >= 0.0 && self.gain_db <= 40.0) {
            return Err(bad("augment.gain_db", self.gain_db, "must be in [0, 40]"));
        }
        if !(self.speed >= 0.0 && self.speed <= 0.5) {
            return Err(bad("augment.speed", self.speed, "must be in [0, 0.5]"));
        }
        if !(self.vtlp >= 0.0 && self.vtlp <= 0.5) {
            return Err(bad("augment.vtlp", self.vtlp, "must be in [0, 0.5]"));
        }
        if self.freq_masks > 0 && self.freq_mask_width * 2 > n_mels {
            return Err(bad(
                "augment.freq_mask_width",
                self.freq_mask_width as f64,
                "must be at most half the mel bands",
            ));
        }
        Ok(())
    }

    /// Draws one recording's gain, speed and warp (in that order).
    pub fn draw_recording(&self, rng: &mut NumpyRandomState) -> RecordingAugmentation {
        let mut symmetric = |half_width: f64| (2.0 * rng.random_sample() - 1.0) * half_width;
        RecordingAugmentation {
            gain_db: symmetric(self.gain_db),
            speed: 1.0 + symmetric(self.speed),
            warp: 1.0 + symmetric(self.vtlp),
        }
    }

    /// Draws the clip's frequency masks, `(first band, width)` each.
    pub fn draw_masks(&self, n_mels: usize, rng: &mut NumpyRandomState) -> Vec<(usize, usize)> {
        (0..self.freq_masks)
            .map(|_| {
                let width = rng.interval(self.freq_mask_width as u64) as usize;
                let first = rng.interval(n_mels.saturating_sub(width) as u64) as usize;
                (first, width)
            })
            .collect()
    }
}

/// Seed of the augmentation stream of sample `index` of the split with dataset seed `seed`.
#[must_use]
pub fn augmentation_seed(seed: i64, index: u64) -> u32 {
    sha256_mod_2_32(&format!("[{seed}, {index}, \"augment\"]"))
}

impl RecordingAugmentation {
    /// `samples` scaled by the gain and resampled by the speed factor (linear interpolation;
    /// the result has `round(len / speed)` samples, at least one).
    #[must_use]
    pub fn apply(&self, samples: &[f32]) -> Vec<f32> {
        let gain = 10f64.powf(self.gain_db / 20.0) as f32;
        let len = ((samples.len() as f64 / self.speed).round() as usize).max(1);
        let last = samples.len().saturating_sub(1);
        (0..len)
            .map(|i| {
                let x = i as f64 * self.speed;
                let k = (x.floor() as usize).min(last);
                let frac = (x - k as f64).min(1.0) as f32;
                let a = samples[k];
                let b = samples[(k + 1).min(last)];
                gain * (a + (b - a) * frac)
            })
            .collect()
    }
}

/// The vocal-tract warp of a frequency (Jaitly and Hinton 2013): `f · α` up to a boundary, then
/// the straight line that ends at the Nyquist frequency, so the warped band stays inside
/// `[0, nyquist]`. The boundary is 80 % of the Nyquist frequency, scaled by `min(α, 1)`.
#[must_use]
pub fn vtlp_warp(f: f64, alpha: f64, nyquist: f64) -> f64 {
    let f_hi = 0.8 * nyquist;
    let boundary = f_hi * alpha.min(1.0) / alpha;
    if f <= boundary {
        f * alpha
    } else {
        let warped_boundary = f_hi * alpha.min(1.0);
        nyquist - (nyquist - warped_boundary) / (nyquist - boundary) * (nyquist - f)
    }
}

/// How the log-mel input's level is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Level {
    /// The paper's: absolute dB (a quiet speaker's digits sit lower over the same noise).
    #[default]
    Absolute,
    /// dB relative to the clip's own `percentile` (0-100, linear interpolation as numpy's
    /// default): the clip is shifted so that value is 0 dB, whatever its recording level.
    ClipPercentile {
        /// Which percentile becomes 0 dB.
        percentile: f64,
    },
}

impl Level {
    /// Whether this is the paper's [`Level::Absolute`] (left out of configurations).
    #[must_use]
    pub fn is_absolute(&self) -> bool {
        *self == Level::Absolute
    }

    /// Checks the percentile.
    ///
    /// # Errors
    /// [`AudioError::InvalidParameter`] for a percentile outside `[0, 100]`.
    pub fn validate(&self) -> Result<(), AudioError> {
        match self {
            Level::Absolute => Ok(()),
            Level::ClipPercentile { percentile: p } if (0.0..=100.0).contains(p) => Ok(()),
            Level::ClipPercentile { percentile } => Err(AudioError::InvalidParameter {
                name: "level.percentile",
                value: percentile.to_string(),
                reason: "must be in [0, 100]",
            }),
        }
    }

    /// Sets the level of one clip's features (dB) in place.
    pub fn apply(&self, features: &mut [f32]) {
        let Level::ClipPercentile { percentile } = self else {
            return;
        };
        let Some(reference) = percentile_of(features, *percentile) else {
            return;
        };
        for v in features.iter_mut() {
            *v -= reference;
        }
    }
}

/// numpy's `percentile(values, q)` (linear interpolation), `None` for no values.
fn percentile_of(values: &[f32], q: f64) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    let rank = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (_, &mut at_hi, _) = sorted.select_nth_unstable_by(hi, f32::total_cmp);
    let at_lo = if lo == hi {
        at_hi
    } else {
        // Everything left of `hi` is at most `at_hi`: the largest of them is the lo-th.
        sorted[..hi]
            .iter()
            .copied()
            .max_by(f32::total_cmp)
            .unwrap_or(at_hi)
    };
    Some(at_lo + (at_hi - at_lo) * (rank - lo as f64) as f32)
}

/// Sets the bands of each `(first, width)` mask to the mean of `features` (mel-major,
/// `[n_mels × n_frames]`).
pub fn apply_masks(features: &mut [f32], n_frames: usize, masks: &[(usize, usize)]) {
    if features.is_empty() || masks.iter().all(|&(_, w)| w == 0) {
        return;
    }
    let mean = (features.iter().map(|&v| f64::from(v)).sum::<f64>() / features.len() as f64) as f32;
    for &(first, width) in masks {
        let band = first * n_frames..(first + width) * n_frames;
        if let Some(values) = features.get_mut(band) {
            values.fill(mean);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_match_numpy() {
        let v = [3.0, 1.0, 4.0, 1.0, 5.0];
        // np.percentile([3, 1, 4, 1, 5], [0, 50, 90, 100]) = [1, 3, 4.6, 5]
        for (q, want) in [(0.0, 1.0), (50.0, 3.0), (90.0, 4.6), (100.0, 5.0)] {
            let got = percentile_of(&v, q).expect("values");
            assert!((got - want).abs() < 1e-6, "q {q}: {got}");
        }
        assert_eq!(percentile_of(&[], 50.0), None);
    }

    #[test]
    fn gain_and_speed_scale_and_stretch() {
        let x: Vec<f32> = (0..100).map(|i| (i as f32 * 0.1).sin()).collect();
        let same = RecordingAugmentation {
            gain_db: 0.0,
            speed: 1.0,
            warp: 1.0,
        };
        assert_eq!(same.apply(&x), x);
        let louder = RecordingAugmentation {
            gain_db: 20.0,
            ..same
        };
        for (a, b) in louder.apply(&x).iter().zip(&x) {
            assert!((a - 10.0 * b).abs() < 1e-5);
        }
        let slower = RecordingAugmentation { speed: 0.5, ..same };
        let y = slower.apply(&x);
        assert_eq!(y.len(), 200);
        assert_eq!(y[10], x[5]);
        assert!((y[11] - (x[5] + x[6]) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn the_warp_is_monotone_and_keeps_the_band() {
        let nyquist = 4000.0;
        for alpha in [0.9, 1.0, 1.1] {
            assert!((vtlp_warp(0.0, alpha, nyquist)).abs() < 1e-9);
            assert!((vtlp_warp(nyquist, alpha, nyquist) - nyquist).abs() < 1e-9);
            let mut last = -1.0;
            for k in 0..=400 {
                let w = vtlp_warp(f64::from(k) * 10.0, alpha, nyquist);
                assert!(w > last, "alpha {alpha}");
                last = w;
            }
            assert!((vtlp_warp(1000.0, alpha, nyquist) - 1000.0 * alpha).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = [
            Augmentation {
                speed: 0.9,
                ..Augmentation::default()
            },
            Augmentation {
                gain_db: -1.0,
                ..Augmentation::default()
            },
            Augmentation {
                vtlp: f64::NAN,
                ..Augmentation::default()
            },
            Augmentation {
                freq_mask_width: 40,
                ..Augmentation::default()
            },
        ];
        for a in bad {
            let err = a.validate(64).expect_err("refused");
            assert!(err.to_string().contains("augment."), "{err}");
        }
        Augmentation::default().validate(64).expect("valid");
        assert!(
            Level::ClipPercentile { percentile: 101.0 }
                .validate()
                .is_err()
        );
    }

    proptest! {
        /// The clip-percentile level does not depend on the recording level: shifting every dB
        /// value by the same amount (a gain) leaves the input unchanged.
        #[test]
        fn the_clip_level_ignores_gain(
            values in proptest::collection::vec(-100f32..0.0, 1..200),
            shift in -40f32..40.0,
            q in 0f64..100.0,
        ) {
            let level = Level::ClipPercentile { percentile: q };
            let mut a = values.clone();
            level.apply(&mut a);
            let mut b: Vec<f32> = values.iter().map(|v| v + shift).collect();
            level.apply(&mut b);
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((x - y).abs() < 1e-3, "{x} vs {y}");
            }
        }

        /// Masks stay inside the bands and never reach a whole clip.
        #[test]
        fn masks_stay_inside(seed in any::<u32>(), n_mels in 16usize..80) {
            let a = Augmentation { freq_mask_width: n_mels / 2, ..Augmentation::default() };
            let mut rng = NumpyRandomState::new(seed);
            for (first, width) in a.draw_masks(n_mels, &mut rng) {
                prop_assert!(width <= n_mels / 2 && first + width <= n_mels);
            }
        }
    }
}
