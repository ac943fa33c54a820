//! The single-digit domain (`StampCircleDomainSingleDigit` of the authors'
//! `pixel_art/domain/stamp_circle.py`, kavigupta/sparling-repro): one digit at the centre of a
//! 32×32 noisy image, used for the direct motif evaluation.

use serde::{Deserialize, Serialize};

use super::config::{Derived, SingleDigitConfig};
use super::generator::{PlacedDigit, flip_noise, set_noise, stamp_image};
use super::stamps::{StampSet, digit_stamps};
use crate::bitmap::BinaryImage;
use crate::dataset::{Generator, Split};
use crate::error::DataError;
use sparling_numpy::{NumpyRandomState, UniformThreshold};

/// One single-digit sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingleDigitSample {
    /// The noisy binary image.
    pub image: BinaryImage,
    /// The digit (the label, `int(symbol)`).
    pub digit: u8,
    /// Where the stamp was placed.
    pub motif: PlacedDigit,
}

/// The single-digit generator.
#[derive(Clone, Debug)]
pub struct SingleDigit {
    config: SingleDigitConfig,
    derived: Derived,
    stamps: &'static StampSet,
    pre_flip: UniformThreshold,
    post_flip: UniformThreshold,
}

impl SingleDigit {
    /// Validates `config` and prepares the generator.
    ///
    /// # Errors
    /// [`DataError::DigitCircle`] for an invalid configuration.
    pub fn new(config: SingleDigitConfig) -> Result<Self, DataError> {
        let derived = config.derive()?;
        Ok(Self {
            pre_flip: UniformThreshold::new(derived.pre_flip),
            post_flip: UniformThreshold::new(config.post_noise),
            stamps: digit_stamps()?,
            config,
            derived,
        })
    }

    /// The paper's domain (32×32, `pre_noise` 0.5, `post_noise` 0.05).
    ///
    /// # Errors
    /// Only if the embedded stamp table is broken.
    pub fn paper() -> Result<Self, DataError> {
        Self::new(SingleDigitConfig::default())
    }

    /// The configuration this generator was built from.
    #[must_use]
    pub fn config(&self) -> &SingleDigitConfig {
        &self.config
    }

    /// RNG calls: `rand(size, size)` pre-noise, `choice(digits)` (= `randint(0, len)`), stamp
    /// at `(size/2, size/2)`, `rand(size, size)` post-noise.
    #[must_use]
    pub fn sample(&self, rng: &mut NumpyRandomState) -> SingleDigitSample {
        let size = self.config.size;
        let mut image = BinaryImage::zeros(size, size);
        set_noise(image.pixels_mut(), self.pre_flip, rng);
        let alphabet = &self.derived.digits;
        let pick = rng.randint_unchecked(0, alphabet.len() as i64) as usize;
        let digit = alphabet.get(pick).copied().unwrap_or_default();
        let centre = (size / 2) as i64;
        let motif = match self.stamps.get(digit) {
            Some(stamp) => stamp_image(&mut image, stamp, (centre, centre)),
            None => PlacedDigit {
                digit,
                center: (size / 2, size / 2),
                rows: 0..0,
                cols: 0..0,
            },
        };
        flip_noise(image.pixels_mut(), self.post_flip, rng);
        SingleDigitSample {
            image,
            digit,
            motif,
        }
    }
}

impl Generator for SingleDigit {
    type Sample = SingleDigitSample;

    /// The split only chooses the seed; every split draws the same way.
    fn sample_for_split(
        &self,
        _split: Split,
        rng: &mut NumpyRandomState,
    ) -> Result<SingleDigitSample, DataError> {
        Ok(SingleDigit::sample(self, rng))
    }
}
