//! Parameters of the LaTeX-OCR domain. Defaults are the paper's (`ltx-2dc3`:
//! `LATEX_CFG_SPECS["latex_cfg"]`, `data_config` w = 360, h = 120, dpi = 200,
//! `NoisyBinaryLaTeXDataset(noise_amount=0.25, binarization_threshold=0.75,
//! technique="set_false")`).

use serde::{Deserialize, Serialize};

use crate::error::LatexError;

/// Longest formula the sampler may be asked for. The reference uses 30. Long derivations get
/// geometrically rarer under this grammar, so the rejection sampler needs ever more draws to
/// hit an exact long length; 200 keeps a misconfiguration from running (practically) forever.
pub const MAX_FORMULA_TOKENS: usize = 200;

/// How the noise is applied to the binarised image (`NoisyBinaryLaTeXDataset.technique`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseTechnique {
    /// `x & ~noise`: noisy pixels become 0 (black speckle). The paper's setting.
    #[default]
    SetFalse,
    /// `x ^ noise`: noisy pixels are flipped.
    Flip,
}

/// Configuration of [`super::LatexOcr`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatexConfig {
    /// Shortest formula in tokens (`minimal_length`, 1).
    pub min_length: usize,
    /// Longest formula in tokens (`maximal_length`, 30).
    pub max_length: usize,
    /// Canvas rows (120).
    pub height: usize,
    /// Canvas columns (360).
    pub width: usize,
    /// Rasterisation resolution (200 dpi: 2.7674 px per pt).
    pub dpi: f64,
    /// `standalone`'s border around the formula, in pt (3).
    pub border_pt: f64,
    /// A pixel is background when `gray / 255 > binarization_threshold` (0.75).
    pub binarization_threshold: f64,
    /// Probability that a pixel is noise (0.25).
    pub noise_amount: f64,
    /// What noise does to a pixel.
    pub noise_technique: NoiseTechnique,
}

impl Default for LatexConfig {
    fn default() -> Self {
        Self {
            min_length: 1,
            max_length: 30,
            height: 120,
            width: 360,
            dpi: 200.0,
            border_pt: 3.0,
            binarization_threshold: 0.75,
            noise_amount: 0.25,
            noise_technique: NoiseTechnique::SetFalse,
        }
    }
}

impl LatexConfig {
    /// Longest decoder target: `max_length` tokens plus `<s>` and `</s>`.
    #[must_use]
    pub fn maximal_target_len(&self) -> usize {
        self.max_length + 2
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`LatexError::InvalidLengthRange`] or [`LatexError::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<(), LatexError> {
        if self.min_length == 0 || self.min_length > self.max_length {
            return Err(LatexError::InvalidLengthRange {
                min_len: self.min_length,
                max_len: self.max_length,
            });
        }
        let bad = |field: &'static str, value: String, reason: &'static str| {
            Err(LatexError::Config {
                field,
                value,
                reason,
            })
        };
        if self.max_length > MAX_FORMULA_TOKENS {
            return bad(
                "max_length",
                self.max_length.to_string(),
                "must be at most 200: the rejection sampler needs ever more draws for long \
                 formulas",
            );
        }
        if self.height == 0 || self.height > 4096 {
            return bad("height", self.height.to_string(), "must be in 1..=4096");
        }
        if self.width == 0 || self.width > 4096 {
            return bad("width", self.width.to_string(), "must be in 1..=4096");
        }
        if !(self.dpi.is_finite() && self.dpi >= 10.0 && self.dpi <= 2400.0) {
            return bad("dpi", self.dpi.to_string(), "must be in 10..=2400");
        }
        if !(self.border_pt.is_finite() && (0.0..=100.0).contains(&self.border_pt)) {
            return bad(
                "border_pt",
                self.border_pt.to_string(),
                "must be in 0..=100",
            );
        }
        if !(self.binarization_threshold.is_finite()
            && (0.0..=1.0).contains(&self.binarization_threshold))
        {
            return bad(
                "binarization_threshold",
                self.binarization_threshold.to_string(),
                "must be in [0, 1]",
            );
        }
        if !(self.noise_amount.is_finite() && (0.0..=1.0).contains(&self.noise_amount)) {
            return bad(
                "noise_amount",
                self.noise_amount.to_string(),
                "must be a probability in [0, 1]",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(LatexConfig::default().validate().is_ok());
        let c = LatexConfig {
            min_length: 5,
            max_length: 4,
            ..LatexConfig::default()
        };
        assert!(matches!(
            c.validate(),
            Err(LatexError::InvalidLengthRange { .. })
        ));
        let c = LatexConfig {
            noise_amount: 1.5,
            ..LatexConfig::default()
        };
        assert!(
            matches!(c.validate(), Err(LatexError::Config { field, .. }) if field == "noise_amount")
        );
        let c = LatexConfig {
            dpi: f64::NAN,
            ..LatexConfig::default()
        };
        assert!(c.validate().is_err());
        let parsed: LatexConfig = serde_json::from_str(r#"{"noise_amount": 0.1}"#).expect("json");
        assert_eq!(parsed.noise_amount, 0.1);
        assert!(serde_json::from_str::<LatexConfig>(r#"{"noise": 0.1}"#).is_err());
    }
}
