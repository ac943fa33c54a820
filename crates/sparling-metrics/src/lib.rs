//! SPARLING metrics on plain arrays (no ML framework):
//!
//! * motif errors FPE / FNE / CE ([`ConfusionMatrix`], [`categorize`]): dense `[C, H, W]`
//!   maps or sparse activation lists, 2-D boxes or 1-D spans, optional footprint padding;
//!   one-to-one (Hungarian, DigitCircle) and many-to-one (LaTeX, audio) confusion error;
//! * end-to-end errors ([`SequenceErrors`], [`edit_distance_error`], [`exact_match_error`]);
//! * bootstrap confidence intervals of a mean over seeds ([`bootstrap_mean_ci`]).
//!
//! ```
//! use sparling_metrics::{ConfusionMatrix, MotifMap, TrueMotif};
//!
//! // One image, 2 channels of 4x4; one true digit "1" in rows 0..2, cols 0..2.
//! let mut maps = vec![0.0f32; 2 * 4 * 4];
//! maps[16 + 5] = 0.7; // channel 1, row 1, col 1: inside the box
//! maps[15] = 0.2;     // channel 0, row 3, col 3: a false positive
//! let mut confusion = ConfusionMatrix::new(10, 2);
//! confusion.add_batch(&maps, [1, 2, 4, 4], &[vec![TrueMotif::new(1, 0..2, 0..2)]], 0)?;
//! let e = confusion.errors();
//! assert_eq!((e.fne, e.fpe, e.ce), (0.0, 0.5, 0.0));
//! # Ok::<(), sparling_metrics::MetricsError>(())
//! ```

#![warn(missing_docs)]

pub mod bootstrap;
pub mod confusion;
pub mod error;
pub mod motif;
pub mod plot;
pub mod sequence;

pub use bootstrap::{BootstrapConfig, ConfidenceInterval, bootstrap_mean_ci};
pub use confusion::{ConfusionMatrix, MotifErrors};
pub use error::MetricsError;
pub use motif::{
    Activation, Categorized, Footprint, MotifMap, SiteOutcome, SparseMotifMap, TrueMotif,
    categorize, categorize_sparse,
};
pub use plot::{Curves, accuracy_comparison_svg, confusion_svg, training_curves_svg};
pub use sequence::{
    SequenceErrors, edit_distance_error, exact_match_error, levenshtein, normalized_edit_distance,
};
