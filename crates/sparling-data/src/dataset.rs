//! Splits and indexed datasets (docs/data.md; the authors' `PixelArtDomainDataset`,
//! `pixel_art/data/pixel_art_domain_dataset.py` in kavigupta/sparling-repro).
//!
//! Every sample is generated from its own `RandomState`, seeded from its split and index only,
//! so sample `i` is the same whatever else is generated, in whatever order, on however many
//! threads.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::seed::compute_seed;
use sparling_numpy::NumpyRandomState;

/// A generator that draws one sample of a split from a numpy-compatible RNG.
pub trait Generator: Sync {
    /// What one draw produces.
    type Sample: Send;

    /// Draws one sample of `split`; the whole sample must depend only on `split` and `rng`.
    ///
    /// The split is passed because some domains draw from different pools per split (the
    /// audio domain uses the training speakers for train/val and the held-out speakers for
    /// test/motif-eval); DigitCircle ignores it. Fallible because a domain built on user data
    /// can hit a draw it cannot complete (see [`crate::audio::AudioClip`]).
    ///
    /// # Errors
    /// Domain-specific; DigitCircle and its single-digit variant never fail.
    fn sample_for_split(
        &self,
        split: Split,
        rng: &mut NumpyRandomState,
    ) -> Result<Self::Sample, DataError>;

    /// Draws sample `index` of `split`, given the `RandomState` the split seeds for it.
    ///
    /// The default ignores the index and calls [`sample_for_split`](Self::sample_for_split).
    /// Domains whose reference derives a second stream from the index override it: the
    /// LaTeX domain seeds its noise from `(dataset seed, index)`.
    ///
    /// # Errors
    /// As [`sample_for_split`](Self::sample_for_split).
    fn sample_at(
        &self,
        split: Split,
        index: u64,
        rng: &mut NumpyRandomState,
    ) -> Result<Self::Sample, DataError> {
        let _ = index;
        self.sample_for_split(split, rng)
    }
}

/// Which stream of samples to draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "split")]
pub enum Split {
    /// Training stream of one run: `RandomState(compute_seed(seed, i))`. The paper's runs use
    /// seeds 1–9 and consecutive indices from 0 (batch `k` of size `b` is `k·b .. k·b + b`).
    /// Negative seeds are evaluation streams (−1 validation, −2 test, −3 binning): build a
    /// training split from user input with [`Split::training`], which refuses them.
    Train {
        /// The run's data seed.
        seed: i64,
    },
    /// Validation set during training: seed −1 (indices 0..10,010 in the reference).
    Val,
    /// End-to-end test set: seed −2 (indices 0..10,000). Also the single-digit direct-eval set.
    Test,
    /// Motif-error evaluation: `RandomState(i)`, **not hashed** (indices 0..10,000).
    MotifEval,
}

impl Split {
    /// Dataset seed of the validation split.
    pub const VAL_SEED: i64 = -1;
    /// Dataset seed of the test split.
    pub const TEST_SEED: i64 = -2;

    /// The training stream of `seed`, refusing the negative seeds of the evaluation streams
    /// (`train` with seed −1 or −2 would be exactly the validation or test set).
    ///
    /// # Errors
    /// [`DataError::ReservedSeed`] for `seed < 0`.
    pub fn training(seed: i64) -> Result<Self, DataError> {
        if seed < 0 {
            return Err(DataError::ReservedSeed(seed));
        }
        Ok(Split::Train { seed })
    }

    /// The dataset seed hashed with the index, or `None` for the unhashed motif-eval split.
    #[must_use]
    pub fn dataset_seed(self) -> Option<i64> {
        match self {
            Split::Train { seed } => Some(seed),
            Split::Val => Some(Self::VAL_SEED),
            Split::Test => Some(Self::TEST_SEED),
            Split::MotifEval => None,
        }
    }

    /// The `RandomState` seed of sample `index`.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`] for a motif-eval index ≥ 2³² (numpy rejects such seeds).
    pub fn rng_seed(self, index: u64) -> Result<u32, DataError> {
        match self.dataset_seed() {
            Some(seed) => Ok(compute_seed(seed, index)),
            None => u32::try_from(index).map_err(|_| DataError::IndexOutOfRange {
                index,
                split: self.to_string(),
                reason: "motif-eval seeds RandomState(index) directly, which needs index < 2^32",
            }),
        }
    }

    /// The split's name without its seed: `train`, `val`, `test` or `motif-eval`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Split::Train { .. } => "train",
            Split::Val => "val",
            Split::Test => "test",
            Split::MotifEval => "motif-eval",
        }
    }

    /// Parses a split name; `train` takes `train_seed`.
    ///
    /// # Errors
    /// [`DataError::UnknownSplit`] for anything but `train`, `val`, `test`, `motif-eval`;
    /// [`DataError::ReservedSeed`] for `train` with a negative seed.
    pub fn from_name(name: &str, train_seed: i64) -> Result<Self, DataError> {
        match name {
            "train" => Split::training(train_seed),
            "val" => Ok(Split::Val),
            "test" => Ok(Split::Test),
            "motif-eval" => Ok(Split::MotifEval),
            other => Err(DataError::UnknownSplit(other.to_owned())),
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Split::Train { seed } => write!(f, "train(seed={seed})"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Split {
    type Err = DataError;

    /// `train` (seed 1), `train:SEED`, `val`, `test` or `motif-eval`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(seed) = s.strip_prefix("train:") {
            let seed = seed
                .parse()
                .map_err(|_| DataError::UnknownSplit(s.to_owned()))?;
            return Split::training(seed);
        }
        Split::from_name(s, 1)
    }
}

/// One split of a domain: an infinite, randomly addressable stream of samples.
#[derive(Clone, Debug)]
pub struct Dataset<D> {
    domain: D,
    split: Split,
}

impl<D: Generator> Dataset<D> {
    /// The `split` stream of `domain`.
    pub fn new(domain: D, split: Split) -> Self {
        Self { domain, split }
    }

    /// The generator.
    pub fn domain(&self) -> &D {
        &self.domain
    }

    /// The split.
    pub fn split(&self) -> Split {
        self.split
    }

    /// Sample `index` (`dataset[index]` in the reference).
    ///
    /// # Errors
    /// See [`Split::rng_seed`], and whatever the domain's draw can fail with.
    pub fn get(&self, index: u64) -> Result<D::Sample, DataError> {
        let seed = self.split.rng_seed(index)?;
        self.domain
            .sample_at(self.split, index, &mut NumpyRandomState::new(seed))
    }

    /// Samples `start .. start + len`, generated in parallel on the rayon pool, in index
    /// order. The result does not depend on the number of threads.
    ///
    /// # Errors
    /// See [`Split::rng_seed`]; also if `start + len` overflows.
    pub fn batch(&self, start: u64, len: usize) -> Result<Vec<D::Sample>, DataError> {
        let end = start
            .checked_add(len as u64)
            .ok_or(DataError::IndexOutOfRange {
                index: start,
                split: self.split.to_string(),
                reason: "start + len overflows u64",
            })?;
        (start..end).into_par_iter().map(|i| self.get(i)).collect()
    }

    /// Consecutive batches `start + k·batch_size ..`, as the training loop reads them.
    /// The iterator never ends on its own (the stream is infinite); `take` what you need.
    pub fn batches(&self, start: u64, batch_size: usize) -> Batches<'_, D> {
        Batches {
            dataset: self,
            next: Some(start),
            batch_size,
        }
    }
}

/// Iterator over consecutive batches of a [`Dataset`]; see [`Dataset::batches`].
#[derive(Debug)]
pub struct Batches<'a, D> {
    dataset: &'a Dataset<D>,
    next: Option<u64>,
    batch_size: usize,
}

impl<D: Generator> Iterator for Batches<'_, D> {
    type Item = Result<Vec<D::Sample>, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next?;
        self.next = start.checked_add(self.batch_size as u64);
        Some(self.dataset.batch(start, self.batch_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_seeds() {
        assert_eq!(
            Split::Train { seed: 1 }.rng_seed(0).ok(),
            Some(3_993_328_244)
        );
        assert_eq!(Split::Val.rng_seed(0).ok(), Some(2_072_014_212));
        assert_eq!(Split::Test.rng_seed(0).ok(), Some(4_270_960_298));
        assert_eq!(Split::MotifEval.rng_seed(17).ok(), Some(17));
        assert!(Split::MotifEval.rng_seed(1 << 32).is_err());
    }

    #[test]
    fn split_names_round_trip() {
        for s in [
            Split::Train { seed: 4 },
            Split::Val,
            Split::Test,
            Split::MotifEval,
        ] {
            let seed = s.dataset_seed().unwrap_or(0);
            assert_eq!(Split::from_name(s.name(), seed).ok(), Some(s));
        }
        assert_eq!(
            "train:0".parse::<Split>().ok(),
            Some(Split::Train { seed: 0 })
        );
        assert!("validation".parse::<Split>().is_err());
    }

    proptest::proptest! {
        /// No user-built training split is an evaluation stream: every negative seed is refused
        /// (by name and by `train:SEED`), every other one accepted.
        #[test]
        fn negative_training_seeds_are_refused(seed in proptest::num::i64::ANY) {
            let by_name = Split::from_name("train", seed);
            let by_text = format!("train:{seed}").parse::<Split>();
            if seed < 0 {
                proptest::prop_assert!(matches!(by_name, Err(DataError::ReservedSeed(s)) if s == seed));
                proptest::prop_assert!(matches!(by_text, Err(DataError::ReservedSeed(s)) if s == seed));
            } else {
                proptest::prop_assert_eq!(by_name.ok(), Some(Split::Train { seed }));
                proptest::prop_assert_eq!(by_text.ok(), Some(Split::Train { seed }));
            }
        }
    }
}
