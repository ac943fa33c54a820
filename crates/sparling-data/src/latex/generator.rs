//! The LaTeX-OCR generator: a sample is a formula of the grammar, rendered, binarised and
//! speckled, with its symbol boxes.

use serde::{Deserialize, Serialize};

use super::fonts::{FontSet, SP_PER_PT};
use super::layout::{Layout, layout, parse};
use super::{
    LatexConfig, LatexGrammar, LatexToken, NoiseTechnique, RasterGeometry, Rendering, SymbolBox,
    latex_code, pdflatex, render,
};
use crate::bitmap::BinaryImage;
use crate::dataset::{Dataset, Generator, Split};
use crate::error::{DataError, LatexError};
use crate::seed::{compute_seed, sha256_mod_2_32};
use crate::vocab::Vocabulary;
use sparling_numpy::{NumpyRandomState, UniformThreshold};

/// A split of the LaTeX-OCR stream.
pub type LatexDataset = Dataset<LatexOcr>;

/// The seed of the noise of sample `index` of dataset seed `seed`:
/// `int(stable_hash((seed, idx, "noise")), 16) % 2**32` (`NoisyBinaryLaTeXDataset`).
///
/// permacache's `stable_hash` is the sha256 of `json.dumps(obj, sort_keys=True)`, and a tuple
/// dumps as a list: the hashed text is `[seed, idx, "noise"]`, e.g. `[-2, 0, "noise"]`.
#[must_use]
pub fn noise_seed(seed: i64, index: u64) -> u32 {
    sha256_mod_2_32(&format!("[{seed}, {index}, \"noise\"]"))
}

/// One LaTeX-OCR sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatexSample {
    /// The model input: binarised and noised, **1 = white background, 0 = ink or noise**
    /// (the reference feeds `x` as float without inversion), `height × width` row-major.
    pub image: BinaryImage,
    /// The same image before noise.
    pub clean: BinaryImage,
    /// The formula's tokens (the decoder target without `<s>` / `</s>`).
    pub tokens: Vec<LatexToken>,
    /// Its LaTeX code.
    pub code: String,
    /// Ground-truth boxes of the labelled tokens, in token order (a token whose glyph lies
    /// entirely outside the canvas, after cropping, has none).
    pub symbols: Vec<SymbolBox>,
    /// Page size `(rows, cols)` in pixels before the fit into the canvas.
    pub page_size: (usize, usize),
    /// Seed of the `RandomState` the noise was drawn from; `None` when the noise continued the
    /// formula's stream ([`Generator::sample_for_split`] without an index).
    pub noise_seed: Option<u32>,
}

impl LatexSample {
    /// Decoder target `<s> tokens… </s>` in [`Vocabulary::latex_cfg`] ids.
    #[must_use]
    pub fn token_ids(&self) -> Vec<u32> {
        let mut ids = Vec::with_capacity(self.tokens.len() + 2);
        ids.push(Vocabulary::BOS_ID);
        ids.extend(self.tokens.iter().map(|t| t.vocab_id()));
        ids.push(Vocabulary::EOS_ID);
        ids
    }

    /// The token names, e.g. `["FRAC(", "b", "FRACMID", …]`.
    #[must_use]
    pub fn token_names(&self) -> Vec<&'static str> {
        self.tokens.iter().map(|t| t.name()).collect()
    }
}

/// Which renderer draws the formulas.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LatexBackend {
    /// The built-in TeX layout and rasteriser (fast, no external tools).
    #[default]
    Native,
    /// The authors' pipeline, run for real: pdflatex + pdftoppm, one run per formula
    /// (about 0.2 s each; use [`pdflatex::PdflatexRenderer::render`] for batches).
    Pdflatex(pdflatex::PdflatexRenderer),
}

/// The LaTeX-OCR generator: grammar sampler, renderer and noise.
#[derive(Clone, Debug)]
pub struct LatexOcr {
    config: LatexConfig,
    grammar: LatexGrammar,
    fonts: &'static FontSet,
    geometry: RasterGeometry,
    noise: UniformThreshold,
    backend: LatexBackend,
}

impl LatexOcr {
    /// Validates `config` and loads the embedded fonts.
    ///
    /// # Errors
    /// [`DataError::Latex`] for an invalid configuration or a broken font table.
    pub fn new(config: LatexConfig) -> Result<Self, DataError> {
        config.validate()?;
        let fonts = FontSet::embedded()?;
        let geometry = RasterGeometry {
            height: config.height,
            width: config.width,
            dpi: config.dpi,
            border: (config.border_pt * SP_PER_PT as f64).round() as i64,
        };
        Ok(Self {
            noise: UniformThreshold::new(config.noise_amount),
            grammar: LatexGrammar::paper(),
            config,
            fonts,
            geometry,
            backend: LatexBackend::Native,
        })
    }

    /// Switches the renderer. A pdflatex renderer is given this domain's canvas size, and
    /// its resolution must be a whole number of dpi.
    ///
    /// # Errors
    /// [`LatexError::Config`] for a pdflatex backend with a fractional `dpi`.
    pub fn with_backend(mut self, backend: LatexBackend) -> Result<Self, LatexError> {
        self.backend = match backend {
            LatexBackend::Native => LatexBackend::Native,
            LatexBackend::Pdflatex(mut r) => {
                if self.config.dpi.fract() != 0.0 || self.config.border_pt != 3.0 {
                    return Err(LatexError::Config {
                        field: "dpi",
                        value: format!("{} (border {} pt)", self.config.dpi, self.config.border_pt),
                        reason: "the pdflatex backend needs a whole dpi and the template's 3 pt border",
                    });
                }
                r.dpi = self.config.dpi as u32;
                r.height = self.config.height;
                r.width = self.config.width;
                LatexBackend::Pdflatex(r)
            }
        };
        Ok(self)
    }

    /// The renderer in use.
    #[must_use]
    pub fn backend(&self) -> &LatexBackend {
        &self.backend
    }

    /// The paper's domain (`LatexConfig::default()`).
    ///
    /// # Errors
    /// Only if the embedded font table is broken.
    pub fn paper() -> Result<Self, DataError> {
        Self::new(LatexConfig::default())
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &LatexConfig {
        &self.config
    }

    /// The grammar.
    #[must_use]
    pub fn grammar(&self) -> &LatexGrammar {
        &self.grammar
    }

    /// The canvas geometry.
    #[must_use]
    pub fn geometry(&self) -> &RasterGeometry {
        &self.geometry
    }

    /// `rejection_sample` on `rng`: the formula's tokens.
    ///
    /// # Errors
    /// See [`LatexGrammar::rejection_sample`].
    pub fn sample_tokens(&self, rng: &mut NumpyRandomState) -> Result<Vec<LatexToken>, LatexError> {
        self.grammar
            .rejection_sample(rng, self.config.min_length, self.config.max_length)
            .map(|(tokens, _)| tokens)
    }

    /// Renders a formula with the configured backend (no binarisation, no noise).
    ///
    /// # Errors
    /// [`LatexError::Parse`] if `tokens` is not a formula of the grammar; the pdflatex
    /// backend's errors (tools missing or failing).
    pub fn render(&self, tokens: &[LatexToken]) -> Result<Rendering, LatexError> {
        let atoms = parse(tokens)?;
        match &self.backend {
            LatexBackend::Native => {
                let layout = layout(&atoms, self.fonts)?;
                Ok(render::rasterize(
                    &layout,
                    tokens,
                    self.fonts,
                    &self.geometry,
                ))
            }
            LatexBackend::Pdflatex(r) => r
                .render(&[tokens.to_vec()])?
                .pop()
                .ok_or_else(|| LatexError::BadRaster("no page rendered".to_owned())),
        }
    }

    /// The laid-out formula (sizes and positions in sp).
    ///
    /// # Errors
    /// [`LatexError::Parse`] if `tokens` is not a formula of the grammar.
    pub fn layout(&self, tokens: &[LatexToken]) -> Result<Layout, LatexError> {
        layout(&parse(tokens)?, self.fonts)
    }

    /// Page size `(rows, cols)` in pixels of a formula, before the fit into the canvas.
    ///
    /// # Errors
    /// [`LatexError::Parse`] if `tokens` is not a formula of the grammar.
    pub fn page_size(&self, tokens: &[LatexToken]) -> Result<(usize, usize), LatexError> {
        Ok(render::page_pixels(&self.layout(tokens)?, &self.geometry))
    }

    /// Renders `tokens`, binarises, and applies the noise of `RandomState(noise_seed)`.
    ///
    /// # Errors
    /// [`LatexError::Parse`] if `tokens` is not a formula of the grammar.
    pub fn sample_from_tokens(
        &self,
        tokens: Vec<LatexToken>,
        noise_seed: u32,
    ) -> Result<LatexSample, LatexError> {
        self.finish(
            tokens,
            &mut NumpyRandomState::new(noise_seed),
            Some(noise_seed),
        )
    }

    /// Binarises an existing rendering of `tokens` (e.g. from a batched
    /// [`pdflatex::PdflatexRenderer::render`]) and applies the noise of
    /// `RandomState(noise_seed)`.
    #[must_use]
    pub fn sample_from_rendering(
        &self,
        tokens: Vec<LatexToken>,
        rendering: Rendering,
        noise_seed: u32,
    ) -> LatexSample {
        self.noisy(
            tokens,
            rendering,
            &mut NumpyRandomState::new(noise_seed),
            Some(noise_seed),
        )
    }

    fn finish(
        &self,
        tokens: Vec<LatexToken>,
        noise_rng: &mut NumpyRandomState,
        noise_seed: Option<u32>,
    ) -> Result<LatexSample, LatexError> {
        let rendering = self.render(&tokens)?;
        Ok(self.noisy(tokens, rendering, noise_rng, noise_seed))
    }

    fn noisy(
        &self,
        tokens: Vec<LatexToken>,
        rendering: Rendering,
        noise_rng: &mut NumpyRandomState,
        noise_seed: Option<u32>,
    ) -> LatexSample {
        let clean = rendering.binarize(
            self.config.binarization_threshold,
            self.config.height,
            self.config.width,
        );
        let mut image = clean.clone();
        // rand(h, w) < noise_amount, row-major, one double per pixel.
        match self.config.noise_technique {
            NoiseTechnique::SetFalse => {
                self.noise.apply(noise_rng, image.pixels_mut(), |px, hit| {
                    *px &= u8::from(!hit)
                });
            }
            NoiseTechnique::Flip => {
                self.noise.apply(noise_rng, image.pixels_mut(), |px, hit| {
                    *px ^= u8::from(hit)
                });
            }
        }
        LatexSample {
            image,
            clean,
            code: latex_code(&tokens),
            tokens,
            symbols: rendering.boxes,
            page_size: (rendering.page_height, rendering.page_width),
            noise_seed,
        }
    }
}

impl Generator for LatexOcr {
    type Sample = LatexSample;

    /// Without the sample index the reference noise seed is unknown, so this draws the
    /// formula from `rng` and the noise from the **same stream, continued**. The formula is the
    /// reference's; the noise has the right distribution but is not the reference's.
    /// [`Dataset::get`] calls [`Generator::sample_at`] instead, which is exact.
    fn sample_for_split(
        &self,
        _split: Split,
        rng: &mut NumpyRandomState,
    ) -> Result<LatexSample, DataError> {
        let tokens = self.sample_tokens(rng)?;
        Ok(self.finish(tokens, rng, None)?)
    }

    /// Exactly the reference's sample `index`: formula from `RandomState(compute_seed(seed,
    /// index))`, noise from `RandomState(noise_seed(seed, index))`. The motif-evaluation split of
    /// this domain is the test set (seed −2, as in the authors'
    /// `pixel_art/analysis/evaluate_latex_motifs.py`), so `MotifEval` draws the same samples as
    /// `Test` and ignores the unhashed `rng` it is given.
    fn sample_at(
        &self,
        split: Split,
        index: u64,
        rng: &mut NumpyRandomState,
    ) -> Result<LatexSample, DataError> {
        let seed = split.dataset_seed().unwrap_or(Split::TEST_SEED);
        let tokens = if split == Split::MotifEval {
            self.sample_tokens(&mut NumpyRandomState::new(compute_seed(seed, index)))?
        } else {
            self.sample_tokens(rng)?
        };
        let ns = noise_seed(seed, index);
        Ok(self.finish(tokens, &mut NumpyRandomState::new(ns), Some(ns))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_seeds_match_permacache() {
        // scripts/latex_reference.py (permacache.stable_hash):
        assert_eq!(noise_seed(1, 0), 2_464_979_494);
        assert_eq!(noise_seed(-1, 5), 274_169_819);
        assert_eq!(noise_seed(-2, 0), 763_268_063);
        assert_eq!(noise_seed(-2, 9999), 607_501_550);
    }
}
