//! The DigitCircle domain (the authors' `StampCircleDomain`, `pixel_art/domain/stamp_circle.py`
//! in kavigupta/sparling-repro; docs/data.md): 3–6 distinct font digits on a circle in a noisy
//! 100×100 binary image; the label is the digit sequence read counter-clockwise from the smallest
//! digit. Also its single-digit 32×32 variant (`StampCircleDomainSingleDigit`).
//!
//! Generation is bit-exact with the authors' numpy code (see [`crate::numpy_rng`]).

mod config;
pub mod export;
mod generator;
mod single_digit;
mod stamps;

pub use config::{DigitCircleConfig, SingleDigitConfig};
pub use generator::{DigitCircle, DigitCircleSample, PlacedDigit};
pub use single_digit::{SingleDigit, SingleDigitSample};
pub use stamps::{Stamp, StampSet, digit_stamps};

use crate::dataset::Dataset;

/// A split of the DigitCircle stream.
pub type DigitCircleDataset = Dataset<DigitCircle>;
/// A split of the single-digit stream.
pub type SingleDigitDataset = Dataset<SingleDigit>;
