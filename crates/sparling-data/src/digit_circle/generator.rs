//! The DigitCircle sampler (`StampCircleDomain.sample_with_metadata` of the authors'
//! `pixel_art/domain/stamp_circle.py`, with the noise of `pixel_art/domain/noise.py`,
//! kavigupta/sparling-repro; docs/data.md).

use std::f64::consts::PI;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::config::{Derived, DigitCircleConfig};
use super::stamps::{Stamp, StampSet, digit_stamps};
use crate::bitmap::BinaryImage;
use crate::dataset::{Generator, Split};
use crate::error::DataError;
use crate::vocab::Vocabulary;
use sparling_numpy::{NumpyRandomState, UniformThreshold};

/// One placed digit: its ground-truth motif (an entry of the reference's `placed_stamps`: the
/// full 12×w stamp box, blank border included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedDigit {
    /// The digit drawn (its motif class).
    pub digit: u8,
    /// Stamp centre `(row, col)` after jitter.
    pub center: (usize, usize),
    /// Rows covered by the full stamp box, half-open (12 rows, blank border included).
    pub rows: Range<usize>,
    /// Columns covered by the full stamp box, half-open (the stamp width).
    pub cols: Range<usize>,
}

/// One DigitCircle sample with its metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitCircleSample {
    /// The noisy binary image.
    pub image: BinaryImage,
    /// Output sequence: digits in placement (counter-clockwise) order, rotated so the
    /// smallest digit comes first.
    pub label: Vec<u8>,
    /// Ground-truth motifs in placement order (increasing angle, *not* rotated). Later
    /// stamps overwrite earlier ones where boxes overlap.
    pub motifs: Vec<PlacedDigit>,
    /// Circle radius.
    pub radius: usize,
    /// Circle centre `(row, col)`.
    pub center: (usize, usize),
}

impl DigitCircleSample {
    /// The label as text, e.g. `"0726"`.
    #[must_use]
    pub fn label_string(&self) -> String {
        self.label.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Decoder target `<s> d₁ … dₙ </s>` in [`Vocabulary::digit_circle`] ids (digit `d` is
    /// `d + 2`).
    #[must_use]
    pub fn token_ids(&self) -> Vec<u32> {
        let mut ids = Vec::with_capacity(self.label.len() + 2);
        ids.push(Vocabulary::BOS_ID);
        ids.extend(self.label.iter().map(|&d| u32::from(d) + 2));
        ids.push(Vocabulary::EOS_ID);
        ids
    }
}

/// The DigitCircle generator. Build it once with [`DigitCircle::new`]; sampling is then
/// infallible and allocation-light.
#[derive(Clone, Debug)]
pub struct DigitCircle {
    config: DigitCircleConfig,
    derived: Derived,
    stamps: &'static StampSet,
    pre_flip: UniformThreshold,
    post_flip: UniformThreshold,
}

impl DigitCircle {
    /// Validates `config` and prepares the generator.
    ///
    /// # Errors
    /// [`DataError::DigitCircle`] for an invalid configuration.
    pub fn new(config: DigitCircleConfig) -> Result<Self, DataError> {
        let derived = config.derive()?;
        let stamps = digit_stamps()?;
        Ok(Self {
            pre_flip: UniformThreshold::new(derived.pre_flip),
            post_flip: UniformThreshold::new(config.post_noise),
            config,
            derived,
            stamps,
        })
    }

    /// The paper's domain (`DigitCircleConfig::default()`).
    ///
    /// # Errors
    /// Only if the embedded stamp table is broken.
    pub fn paper() -> Result<Self, DataError> {
        Self::new(DigitCircleConfig::default())
    }

    /// The configuration this generator was built from.
    #[must_use]
    pub fn config(&self) -> &DigitCircleConfig {
        &self.config
    }

    /// Probability that the pre-noise switches a pixel on (0.1251901455026455 by default).
    #[must_use]
    pub fn pre_noise_probability(&self) -> f64 {
        self.derived.pre_flip
    }

    /// Draws one sample from `rng`, consuming exactly the numbers the reference consumes.
    #[must_use]
    pub fn sample(&self, rng: &mut NumpyRandomState) -> DigitCircleSample {
        let size = self.config.size;
        let mut image = BinaryImage::zeros(size, size);
        // noise(image, background_pct * pre_noise): the image is all zero, so flipping = setting.
        set_noise(image.pixels_mut(), self.pre_flip, rng);

        let padding = (self.config.random_shift + self.derived.max_size) as i64;
        let radius =
            rng.randint_unchecked(self.config.min_radius as i64, (size / 2) as i64 - padding);
        let (lo, hi) = (radius + padding, size as i64 - radius - padding);
        let center = (rng.randint_unchecked(lo, hi), rng.randint_unchecked(lo, hi));

        let count = rng.randint_unchecked(
            self.config.min_digits as i64,
            self.config.max_digits as i64 + 1,
        ) as usize;
        let symbols = self.choose_digits(rng, count);
        let angles = sample_angles(rng, count);

        let shift = self.config.random_shift as i64;
        let mut motifs = Vec::with_capacity(count);
        for (&digit, &angle) in symbols.iter().zip(&angles) {
            let (row, col) = point_around_circle(center, radius, angle);
            // randint(-shift, shift + 1, size=2): row offset first, then column.
            let row = row + rng.randint_unchecked(-shift, shift + 1);
            let col = col + rng.randint_unchecked(-shift, shift + 1);
            if let Some(stamp) = self.stamps.get(digit) {
                motifs.push(stamp_image(&mut image, stamp, (row, col)));
            }
        }
        flip_noise(image.pixels_mut(), self.post_flip, rng);

        DigitCircleSample {
            image,
            label: canonicalize(&symbols),
            motifs,
            radius: radius as usize,
            center: (center.0 as usize, center.1 as usize),
        }
    }

    /// `sample(RandomState(seed))`.
    #[must_use]
    pub fn sample_seed(&self, seed: u32) -> DigitCircleSample {
        self.sample(&mut NumpyRandomState::new(seed))
    }

    /// `rng.choice(list(stamps), size=count, replace=False)`: the first `count` entries of a
    /// permutation of the alphabet.
    fn choose_digits(&self, rng: &mut NumpyRandomState, count: usize) -> Vec<u8> {
        let alphabet = &self.derived.digits;
        let mut perm = rng.permutation(alphabet.len());
        perm.truncate(count);
        perm.into_iter()
            .filter_map(|i| alphabet.get(i).copied())
            .collect()
    }
}

impl Generator for DigitCircle {
    type Sample = DigitCircleSample;

    /// The split only chooses the seed; every split draws the same way.
    fn sample_for_split(
        &self,
        _split: Split,
        rng: &mut NumpyRandomState,
    ) -> Result<DigitCircleSample, DataError> {
        Ok(DigitCircle::sample(self, rng))
    }
}

/// `noise()` on an all-zero image: pixel = `rand() < p`, one double per pixel, row-major.
pub(crate) fn set_noise(pixels: &mut [u8], p: UniformThreshold, rng: &mut NumpyRandomState) {
    p.apply(rng, pixels, |px, hit| *px = u8::from(hit));
}

/// `noise()`: flip each pixel with probability `p`, one double per pixel, row-major.
pub(crate) fn flip_noise(pixels: &mut [u8], p: UniformThreshold, rng: &mut NumpyRandomState) {
    p.apply(rng, pixels, |px, hit| *px ^= u8::from(hit));
}

/// `sample_angles`: `n` angles whose consecutive gaps are all at least `1/(2n)` of the circle.
///
/// The normalising sum is sequential from 0.0, which is what numpy's pairwise sum does below 8
/// elements (checked against numpy for n = 3..6), and `cumsum` is sequential too.
fn sample_angles(rng: &mut NumpyRandomState, n: usize) -> Vec<f64> {
    let min_gap = 1.0 / (2 * n) as f64;
    let mut u = vec![0.0; n];
    loop {
        rng.fill_random_sample(&mut u);
        let total = u.iter().fold(0.0, |acc, &x| acc + x);
        if u.iter().all(|&x| x / total >= min_gap) {
            let offset = rng.random_sample();
            let mut cumulative = 0.0;
            return u
                .iter()
                .map(|&x| {
                    cumulative += x / total;
                    // `angles += rand(); angles *= 2 * np.pi`, with 2π rounded as numpy's.
                    (cumulative + offset) * (2.0 * PI)
                })
                .collect();
        }
    }
}

/// `np.round(center + radius * [cos a, sin a])` (round half to even).
fn point_around_circle(center: (i64, i64), radius: i64, angle: f64) -> (i64, i64) {
    let r = radius as f64;
    let row = (center.0 as f64 + r * angle.cos()).round_ties_even();
    let col = (center.1 as f64 + r * angle.sin()).round_ties_even();
    (row as i64, col as i64)
}

/// `stamp_image`: paste the full stamp (blank border included) with its centre at `point`.
///
/// Validated configurations keep every box inside the image (`DigitCircleConfig::validate`), so the
/// coordinates are non-negative; they are clamped at 0 only to keep the conversion total.
pub(crate) fn stamp_image(
    image: &mut BinaryImage,
    stamp: &Stamp,
    point: (i64, i64),
) -> PlacedDigit {
    let (h, w) = (stamp.height(), stamp.width());
    let top = (point.0 - (h / 2) as i64).max(0) as usize;
    let left = (point.1 - (w / 2) as i64).max(0) as usize;
    image.paste(stamp.pixels(), h, w, top, left);
    PlacedDigit {
        digit: stamp.digit(),
        center: (point.0.max(0) as usize, point.1.max(0) as usize),
        rows: top..top + h,
        cols: left..left + w,
    }
}

/// `canonicalize`: rotate so the first (smallest) digit leads.
fn canonicalize(symbols: &[u8]) -> Vec<u8> {
    // np.argmin returns the first minimum; digits are distinct here anyway.
    let start = symbols
        .iter()
        .enumerate()
        .min_by_key(|&(i, &d)| (d, i))
        .map_or(0, |(i, _)| i);
    symbols[start..]
        .iter()
        .chain(&symbols[..start])
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalize_rotates_to_minimum() {
        assert_eq!(canonicalize(&[3, 7, 6]), vec![3, 7, 6]);
        assert_eq!(canonicalize(&[7, 2, 6, 3, 4, 0]), vec![0, 7, 2, 6, 3, 4]);
        assert_eq!(canonicalize(&[]), Vec::<u8>::new());
    }

    #[test]
    fn randomstate_0_matches_spec_vector() {
        // Values from the authors' numpy generator (`scripts/digit_circle_reference.py`).
        let g = DigitCircle::paper().expect("paper config");
        let s = g.sample_seed(0);
        assert_eq!(s.label_string(), "376");
        assert_eq!((s.radius, s.center), (32, (47, 50)));
        let placed: Vec<_> = s.motifs.iter().map(|m| (m.center, m.digit)).collect();
        assert_eq!(placed, vec![((14, 37), 3), ((43, 16), 7), ((82, 49), 6)]);
        assert_eq!(s.image.count_on(), 1725);
        assert_eq!(s.token_ids(), vec![0, 5, 9, 8, 1]);
    }
}
