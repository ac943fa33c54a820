//! The LaTeX-OCR domain (docs/latex.md; the authors' `latex_decompiler/` in
//! kavigupta/sparling-repro): formulas of a small weighted grammar (digits, `a b c x y z`, scripts,
//! `+`, `\left( \right)`, nested `\frac`), typeset as pdfLaTeX would, binarised and speckled; the
//! model reads the 120×360 image and decodes the token sequence. Each labelled token (20 classes)
//! has a ground-truth box.
//!
//! * `generator.rs`: [`LatexOcr`], the domain (sampling, rendering, noise, boxes).
//! * [`grammar`]: tokens, the grammar and its numpy-exact rejection sampler.
//! * [`mod@layout`]: TeX's math layout for this grammar, in scaled points.
//! * [`fonts`]: the embedded Computer Modern metrics and outlines.
//! * [`render`]: the native rasteriser (pdftoppm's rendering, ground-truth boxes).
//! * [`pdflatex`]: an optional backend running the authors' exact pipeline (pdflatex +
//!   pdftoppm), for fidelity checks.
//!
//! ```
//! use sparling_data::latex::LatexOcr;
//! use sparling_data::{Dataset, Split};
//!
//! let test = Dataset::new(LatexOcr::paper()?, Split::Test);
//! let sample = test.get(0)?;
//! let pixels: Vec<f32> = sample.image.to_f32(); // [120 * 360], 1.0 = white, 0.0 = ink/noise
//! let target: Vec<u32> = sample.token_ids();    // <s> tokens… </s> (28-token vocabulary)
//! assert_eq!(pixels.len(), 120 * 360);
//! assert_eq!(target.len(), sample.tokens.len() + 2);
//! for b in &sample.symbols {
//!     let _class: usize = b.class.id(); // 0..20
//!     let (_rows, _cols) = b.padded(2, 120, 360);
//! }
//! # Ok::<(), sparling_data::DataError>(())
//! ```

pub mod config;
pub mod export;
pub mod fonts;
mod generator;
pub mod grammar;
pub mod layout;
pub mod pdflatex;
pub mod render;

pub use config::{LatexConfig, NoiseTechnique};
pub use generator::{LatexBackend, LatexDataset, LatexOcr, LatexSample, noise_seed};
pub use grammar::{LatexGrammar, LatexToken, MathSymbol, SampleStats, SymbolClass, latex_code};
pub use layout::{Atom, Layout, LayoutItem, PlacedGlyph, PlacedRule, layout, parse};
pub use render::{RasterGeometry, Rendering, SymbolBox};
