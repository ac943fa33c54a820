//! Domain parameters of DigitCircle and of its single-digit variant.

use serde::{Deserialize, Serialize};

use super::stamps::{StampSet, digit_stamps};
use crate::error::DigitCircleError;
use sparling_numpy::numpy_mean;

/// Parameters of `StampCircleDomain` (the authors' `pixel_art/domain/stamp_circle.py`, set by
/// `pixel_art/experiments/experiment.py` and `pae-7bb1.py`, kavigupta/sparling-repro). Defaults are
/// the paper's (`pae-7bb1`): 100×100, 3–6 distinct digits, radius ≥ 20, jitter ±3, `pre_noise` 0.5
/// (flip probability 0.5 × background ink fraction = 0.1251901455026455), `post_noise` 0.05.
///
/// Any valid configuration draws from the RNG in the same order as the reference, so the
/// defaults are bit-exact and other settings are what the Python would produce with the same
/// arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DigitCircleConfig {
    /// Side of the square image in pixels.
    pub size: usize,
    /// Smallest circle radius; the radius is uniform in `[min_radius, size/2 - padding)`,
    /// `padding = random_shift + max stamp size`.
    pub min_radius: usize,
    /// Each digit centre is jittered by a uniform integer in `[-random_shift, random_shift]`
    /// on each axis.
    pub random_shift: usize,
    /// Fewest digits per image (hard-coded to 3 in the reference).
    pub min_digits: usize,
    /// Most digits per image (`max_syms`).
    pub max_digits: usize,
    /// Pre-noise level: pixels are switched on before stamping with probability
    /// `pre_noise × mean stamp ink fraction`.
    pub pre_noise: f64,
    /// Probability of flipping each pixel after stamping.
    pub post_noise: f64,
    /// The digit alphabet, in the order the reference's `list(stamps)` has them; digits are
    /// drawn from it without replacement.
    pub digits: String,
}

impl Default for DigitCircleConfig {
    fn default() -> Self {
        Self {
            size: 100,
            min_radius: 20,
            random_shift: 3,
            min_digits: 3,
            max_digits: 6,
            pre_noise: 0.5,
            post_noise: 0.05,
            digits: "0123456789".to_owned(),
        }
    }
}

/// Quantities derived from a validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Derived {
    /// The alphabet as digit values.
    pub digits: Vec<u8>,
    /// `np.max` over all stamp shapes (both dimensions).
    pub max_size: usize,
    /// Flip probability of the pre-noise.
    pub pre_flip: f64,
}

impl DigitCircleConfig {
    /// Checks every parameter.
    ///
    /// # Errors
    /// The first [`DigitCircleError`] found.
    pub fn validate(&self) -> Result<(), DigitCircleError> {
        self.derive().map(|_| ())
    }

    pub(crate) fn derive(&self) -> Result<Derived, DigitCircleError> {
        let stamps = embedded_stamps()?;
        let digits = parse_digits(&self.digits)?;
        let pre_flip = pre_flip_probability(stamps, &digits, self.pre_noise)?;
        check_probability("post_noise", self.post_noise)?;
        if self.min_digits == 0 {
            return Err(DigitCircleError::NoDigits);
        }
        if self.min_digits > self.max_digits {
            return Err(DigitCircleError::MinAboveMax {
                min: self.min_digits,
                max: self.max_digits,
            });
        }
        if self.max_digits > digits.len() {
            return Err(DigitCircleError::TooManyDigits {
                max: self.max_digits,
                available: digits.len(),
                digits: self.digits.clone(),
            });
        }
        let (max_h, max_w) = max_stamp_shape(stamps, &digits);
        let max_size = max_h.max(max_w);
        // Radius range [min_radius, size // 2 - padding) must be non-empty. Then the centre ranges
        // are non-empty too, and every stamp box lies inside the image.
        let limit = (self.size / 2) as i64 - (self.random_shift + max_size) as i64;
        if self.min_radius as i64 >= limit {
            return Err(DigitCircleError::RadiusDoesNotFit {
                min_radius: self.min_radius,
                size: self.size,
                limit,
            });
        }
        Ok(Derived {
            digits,
            max_size,
            pre_flip,
        })
    }
}

/// Parameters of `StampCircleDomainSingleDigit` (the authors' `pixel_art/domain/stamp_circle.py`):
/// one digit stamped at the centre of a small image, for the direct motif evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SingleDigitConfig {
    /// Side of the square image in pixels.
    pub size: usize,
    /// Pre-noise level (see [`DigitCircleConfig::pre_noise`]).
    pub pre_noise: f64,
    /// Post-noise flip probability.
    pub post_noise: f64,
    /// The digit alphabet; one digit is drawn uniformly from it.
    pub digits: String,
}

impl Default for SingleDigitConfig {
    fn default() -> Self {
        Self {
            size: 32,
            pre_noise: 0.5,
            post_noise: 0.05,
            digits: "0123456789".to_owned(),
        }
    }
}

impl SingleDigitConfig {
    /// Checks every parameter.
    ///
    /// # Errors
    /// The first [`DigitCircleError`] found.
    pub fn validate(&self) -> Result<(), DigitCircleError> {
        self.derive().map(|_| ())
    }

    pub(crate) fn derive(&self) -> Result<Derived, DigitCircleError> {
        let stamps = embedded_stamps()?;
        let digits = parse_digits(&self.digits)?;
        let pre_flip = pre_flip_probability(stamps, &digits, self.pre_noise)?;
        check_probability("post_noise", self.post_noise)?;
        let (max_h, max_w) = max_stamp_shape(stamps, &digits);
        // Top-left is size/2 - shape/2 (never negative when shape <= size); the far edge is
        // size/2 + ceil(shape/2), which must not pass the image.
        let centre = self.size / 2;
        if max_h > self.size
            || max_w > self.size
            || centre + max_h.div_ceil(2) > self.size
            || centre + max_w.div_ceil(2) > self.size
        {
            return Err(DigitCircleError::StampDoesNotFit {
                size: self.size,
                stamp_height: max_h,
                stamp_width: max_w,
            });
        }
        Ok(Derived {
            digits,
            max_size: max_h.max(max_w),
            pre_flip,
        })
    }
}

fn embedded_stamps() -> Result<&'static StampSet, DigitCircleError> {
    digit_stamps().map_err(|e| DigitCircleError::StampTable(e.to_string()))
}

fn parse_digits(text: &str) -> Result<Vec<u8>, DigitCircleError> {
    if text.is_empty() {
        return Err(DigitCircleError::EmptyDigitSet);
    }
    let mut digits = Vec::with_capacity(text.len());
    for c in text.chars() {
        let d = c
            .to_digit(10)
            .ok_or_else(|| DigitCircleError::UnknownDigit {
                found: c,
                digits: text.to_owned(),
            })? as u8;
        if digits.contains(&d) {
            return Err(DigitCircleError::DuplicateDigit {
                found: c,
                digits: text.to_owned(),
            });
        }
        digits.push(d);
    }
    Ok(digits)
}

fn check_probability(name: &'static str, value: f64) -> Result<(), DigitCircleError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(DigitCircleError::ProbabilityOutOfRange { name, value })
    }
}

/// `compute_background_pct(stamps) * pre_noise`, with numpy's mean so the product is bit-exact.
fn pre_flip_probability(
    stamps: &StampSet,
    digits: &[u8],
    pre_noise: f64,
) -> Result<f64, DigitCircleError> {
    if !pre_noise.is_finite() || pre_noise < 0.0 {
        return Err(DigitCircleError::ProbabilityOutOfRange {
            name: "pre_noise",
            value: pre_noise,
        });
    }
    let fractions: Vec<f64> = digits
        .iter()
        .filter_map(|&d| stamps.get(d))
        .map(|s| s.ink_fraction())
        .collect();
    let p = numpy_mean(&fractions) * pre_noise;
    check_probability("pre_noise x background ink fraction", p)?;
    Ok(p)
}

fn max_stamp_shape(stamps: &StampSet, digits: &[u8]) -> (usize, usize) {
    digits
        .iter()
        .filter_map(|&d| stamps.get(d))
        .fold((0, 0), |(h, w), s| (h.max(s.height()), w.max(s.width())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers() {
        let d = DigitCircleConfig::default()
            .derive()
            .expect("defaults are valid");
        assert_eq!(d.max_size, 12);
        assert_eq!(d.pre_flip, 0.125_190_145_502_645_5);
        assert_eq!(d.digits, (0..10).collect::<Vec<u8>>());
        SingleDigitConfig::default().validate().expect("valid");
    }

    #[test]
    fn bad_values_give_typed_errors() {
        let base = DigitCircleConfig::default;
        let cases: Vec<(DigitCircleConfig, &str)> = vec![
            (
                DigitCircleConfig {
                    min_radius: 35,
                    ..base()
                },
                "RadiusDoesNotFit",
            ),
            (DigitCircleConfig { size: 40, ..base() }, "RadiusDoesNotFit"),
            (
                DigitCircleConfig {
                    min_digits: 0,
                    ..base()
                },
                "NoDigits",
            ),
            (
                DigitCircleConfig {
                    min_digits: 5,
                    max_digits: 4,
                    ..base()
                },
                "MinAboveMax",
            ),
            (
                DigitCircleConfig {
                    max_digits: 11,
                    ..base()
                },
                "TooManyDigits",
            ),
            (
                DigitCircleConfig {
                    digits: "0123".into(),
                    ..base()
                },
                "TooManyDigits",
            ),
            (
                DigitCircleConfig {
                    post_noise: 1.5,
                    ..base()
                },
                "ProbabilityOutOfRange",
            ),
            (
                DigitCircleConfig {
                    post_noise: f64::NAN,
                    ..base()
                },
                "ProbabilityOutOfRange",
            ),
            (
                DigitCircleConfig {
                    pre_noise: -0.1,
                    ..base()
                },
                "ProbabilityOutOfRange",
            ),
            (
                DigitCircleConfig {
                    pre_noise: 5.0,
                    ..base()
                },
                "ProbabilityOutOfRange",
            ),
            (
                DigitCircleConfig {
                    digits: "01234567a9".into(),
                    ..base()
                },
                "UnknownDigit",
            ),
            (
                DigitCircleConfig {
                    digits: "0123456780".into(),
                    ..base()
                },
                "DuplicateDigit",
            ),
            (
                DigitCircleConfig {
                    digits: String::new(),
                    ..base()
                },
                "EmptyDigitSet",
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
        let small = SingleDigitConfig {
            size: 11,
            ..SingleDigitConfig::default()
        };
        assert!(matches!(
            small.validate(),
            Err(DigitCircleError::StampDoesNotFit { .. })
        ));
    }

    #[test]
    fn serde_defaults_and_unknown_fields() {
        let c: DigitCircleConfig = serde_json::from_str(r#"{"max_digits": 5}"#).expect("parses");
        assert_eq!(
            c,
            DigitCircleConfig {
                max_digits: 5,
                ..DigitCircleConfig::default()
            }
        );
        assert!(serde_json::from_str::<DigitCircleConfig>(r#"{"radius": 5}"#).is_err());
    }
}
