//! SPARLING domains, with ground-truth motifs, as plain Rust (no ML framework).
//!
//! * Every sample is drawn from a numpy-compatible `RandomState` stream ([`NumpyRandomState`],
//!   from the `sparling-numpy` crate), so generated data is **bit-exact** with the authors'
//!   Python.
//! * [`digit_circle`]: the DigitCircle domain and its single-digit variant.
//! * [`audio`]: the spoken-digit domain (FSDD clips, log-mel spectrograms, digit spans).
//! * [`latex`]: the LaTeX-OCR domain (grammar sampler, native TeX-layout renderer, symbol
//!   boxes, optional pdflatex backend).
//! * [`scipy_stats`]: scipy's normal CDF / inverse and truncated normal on the numpy stream.
//! * [`dataset`]: splits (train / val / test / motif-eval) and indexed, parallel, thread-count
//!   independent batch generation.
//! * [`vocab`]: decoder vocabularies and padding.
//! * [`drawing`]: what the domains' pictures share (palette, rectangles, digit glyphs); each
//!   domain's PNG/WAV export is its `export` module.
//!
//! ```
//! use sparling_data::{DigitCircle, Dataset, Split};
//!
//! let test = Dataset::new(DigitCircle::paper()?, Split::Test);
//! let sample = test.get(0)?;
//! let pixels: Vec<f32> = sample.image.to_f32(); // [100 * 100], 0.0 / 1.0
//! let target: Vec<u32> = sample.token_ids();    // <s> digits… </s>
//! assert_eq!(pixels.len(), 100 * 100);
//! assert_eq!(target.len(), sample.label.len() + 2);
//! # Ok::<(), sparling_data::DataError>(())
//! ```

#![warn(missing_docs)]

pub mod audio;
pub mod bitmap;
pub mod dataset;
pub mod digit_circle;
pub mod drawing;
pub mod error;
pub mod latex;
pub mod scipy_stats;
pub mod seed;
pub mod vocab;

pub use audio::{
    AudioClip, AudioClipSample, AudioConfig, AudioSequence, AudioSequenceSample, MelSpectrogram,
    RecordingIndex, Spectrogram, SpokenDigit,
};
pub use bitmap::BinaryImage;
pub use dataset::{Batches, Dataset, Generator, Split};
pub use digit_circle::{
    DigitCircle, DigitCircleConfig, DigitCircleDataset, DigitCircleSample, PlacedDigit,
    SingleDigit, SingleDigitConfig, SingleDigitDataset, SingleDigitSample,
};
pub use error::{AudioError, DataError, DigitCircleError, LatexError};
pub use latex::{LatexConfig, LatexOcr, LatexSample, LatexToken, SymbolBox, SymbolClass};
pub use seed::compute_seed;
pub use sparling_numpy::{NumpyRandomState, UniformThreshold, WeightedChoice};
pub use vocab::{PaddedBatch, Vocabulary};
