//! The Computer Modern metrics and outlines the native renderer needs, embedded from
//! `assets/latex_cm_glyphs.json` (extracted once by `scripts/extract_cm_glyphs.py` from
//! Debian's `texlive-base`: Knuth's TFM files and the AMS Type 1 outlines, OFL-1.1; see
//! `assets/README.md`).
//!
//! Metrics are in TeX scaled points (sp, 2⁻¹⁶ pt), scaled from the TFM `fix_word`s exactly as
//! TeX's `store_scaled` does (`floor(fix_word · design_size / 2²⁰)`), so the layout can use
//! TeX's integer arithmetic. Outlines are in 1/1000 of the design size, y up.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::LatexError;

/// One scaled point per point: 1 pt = 65,536 sp.
pub const SP_PER_PT: i64 = 65_536;

/// A TeX math size: text (10 pt), script (7 pt) or scriptscript (5 pt).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MathSize {
    /// `\textfont`: 10 pt (display and text styles).
    Text = 0,
    /// `\scriptfont`: 7 pt.
    Script = 1,
    /// `\scriptscriptfont`: 5 pt.
    ScriptScript = 2,
}

impl MathSize {
    /// The next larger size (`None` for text size).
    #[must_use]
    pub fn larger(self) -> Option<Self> {
        match self {
            MathSize::Text => None,
            MathSize::Script => Some(MathSize::Text),
            MathSize::ScriptScript => Some(MathSize::Script),
        }
    }
}

/// The fonts a formula of this grammar uses (`pdffonts` lists exactly these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FontId {
    /// `cmr10` / `cmr7` / `cmr5`: digits, `+`, small parentheses.
    Roman(MathSize),
    /// `cmmi10` / `cmmi7` / `cmmi5`: the letters.
    Italic(MathSize),
    /// Family 3 (large parentheses, rule thickness): `cmex10` at text size; at script and
    /// scriptscript size `cmex7` at 7 pt and at 5 pt, because amsmath re-declares the
    /// OMX/cmex shape as `<-8>cmex7 <8>cmex8 <9>cmex9 <10->cmex10`.
    Extension(MathSize),
}

/// A path command of a glyph outline, in 1/1000 em, y up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PathOp {
    /// Start a contour.
    Move(f32, f32),
    /// Straight segment.
    Line(f32, f32),
    /// Cubic Bézier: two control points, end point.
    Cubic(f32, f32, f32, f32, f32, f32),
    /// Close the contour.
    Close,
}

/// A glyph: TFM metrics in sp and its outline.
#[derive(Clone, Debug, PartialEq)]
pub struct Glyph {
    /// PostScript glyph name.
    pub name: String,
    /// Advance width (sp).
    pub width: i64,
    /// Height above the baseline (sp).
    pub height: i64,
    /// Depth below the baseline (sp).
    pub depth: i64,
    /// Italic correction (sp).
    pub italic: i64,
    /// Next larger variant (TFM charlist), for delimiters.
    pub next: Option<u8>,
    /// Outline.
    pub path: Vec<PathOp>,
}

/// One font: design size, parameters and the glyphs the grammar needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Font {
    /// Design size (sp).
    pub size: i64,
    params: Vec<i64>,
    glyphs: HashMap<u8, Glyph>,
}

impl Font {
    /// TFM parameter `n` (1-based, as in TeX: 5 = x-height, 6 = quad, 8 = num1 / default rule
    /// thickness, …, 22 = axis height), in sp; 0 if the font has fewer parameters.
    #[must_use]
    pub fn param(&self, n: usize) -> i64 {
        n.checked_sub(1)
            .and_then(|i| self.params.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The glyph with character code `code`, if the table holds it.
    #[must_use]
    pub fn glyph(&self, code: u8) -> Option<&Glyph> {
        self.glyphs.get(&code)
    }
}

/// All fonts of the renderer, parsed once from the embedded table.
#[derive(Clone, Debug, PartialEq)]
pub struct FontSet {
    roman: [Font; 3],
    italic: [Font; 3],
    symbols: [Font; 3],
    extension: [Font; 3],
}

impl FontSet {
    /// The embedded table, parsed on first use.
    ///
    /// # Errors
    /// [`LatexError::FontTable`] if the embedded table is malformed (a build problem).
    pub fn embedded() -> Result<&'static FontSet, LatexError> {
        static FONTS: OnceLock<Result<FontSet, String>> = OnceLock::new();
        FONTS
            .get_or_init(|| parse(include_str!("../../assets/latex_cm_glyphs.json")))
            .as_ref()
            .map_err(|e| LatexError::FontTable(e.clone()))
    }

    /// A text font.
    #[must_use]
    pub fn font(&self, id: FontId) -> &Font {
        match id {
            FontId::Roman(s) => &self.roman[s as usize],
            FontId::Italic(s) => &self.italic[s as usize],
            FontId::Extension(s) => &self.extension[s as usize],
        }
    }

    /// The math-symbol font (`cmsy`) of a size: family 2, whose parameters drive the layout.
    #[must_use]
    pub fn symbols(&self, size: MathSize) -> &Font {
        &self.symbols[size as usize]
    }
}

#[derive(Deserialize)]
struct RawTable {
    fonts: HashMap<String, RawFont>,
}

#[derive(Deserialize)]
struct RawFont {
    size_sp: i64,
    params_sp: Vec<i64>,
    glyphs: HashMap<String, RawGlyph>,
}

#[derive(Deserialize)]
struct RawGlyph {
    name: String,
    w: i64,
    h: i64,
    d: i64,
    ic: i64,
    next: Option<u8>,
    path: Vec<Vec<serde_json::Value>>,
}

fn parse(text: &str) -> Result<FontSet, String> {
    let mut raw: RawTable = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut take = |name: &str| -> Result<Font, String> {
        let f = raw
            .fonts
            .remove(name)
            .ok_or_else(|| format!("font {name} missing"))?;
        let mut glyphs = HashMap::with_capacity(f.glyphs.len());
        for (code, g) in f.glyphs {
            let code: u8 = code
                .parse()
                .map_err(|_| format!("{name}: bad character code {code:?}"))?;
            let path = g
                .path
                .iter()
                .map(|op| parse_op(op).ok_or_else(|| format!("{name}/{}: bad path op", g.name)))
                .collect::<Result<Vec<_>, _>>()?;
            glyphs.insert(
                code,
                Glyph {
                    name: g.name,
                    width: g.w,
                    height: g.h,
                    depth: g.d,
                    italic: g.ic,
                    next: g.next,
                    path,
                },
            );
        }
        Ok(Font {
            size: f.size_sp,
            params: f.params_sp,
            glyphs,
        })
    };
    Ok(FontSet {
        roman: [take("cmr10")?, take("cmr7")?, take("cmr5")?],
        italic: [take("cmmi10")?, take("cmmi7")?, take("cmmi5")?],
        symbols: [take("cmsy10")?, take("cmsy7")?, take("cmsy5")?],
        extension: [take("cmex10")?, take("cmex7")?, take("cmex7at5")?],
    })
}

fn parse_op(op: &[serde_json::Value]) -> Option<PathOp> {
    let kind = op.first()?.as_str()?;
    let n = |i: usize| {
        op.get(i)
            .and_then(serde_json::Value::as_f64)
            .map(|v| v as f32)
    };
    Some(match kind {
        "M" => PathOp::Move(n(1)?, n(2)?),
        "L" => PathOp::Line(n(1)?, n(2)?),
        "C" => PathOp::Cubic(n(1)?, n(2)?, n(3)?, n(4)?, n(5)?, n(6)?),
        "Z" => PathOp::Close,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(sp: i64) -> f64 {
        sp as f64 / SP_PER_PT as f64
    }

    #[test]
    fn appendix_metrics() {
        let f = FontSet::embedded().expect("embedded table");
        let cmr10 = f.font(FontId::Roman(MathSize::Text));
        let zero = cmr10.glyph(b'0').expect("0");
        assert!((pt(zero.width) - 5.0).abs() < 1e-3 && (pt(zero.height) - 6.444).abs() < 1e-3);
        let plus = f
            .font(FontId::Roman(MathSize::Script))
            .glyph(b'+')
            .expect("+");
        assert!((pt(plus.width) - 6.139).abs() < 1e-3 && (pt(plus.depth) - 0.833).abs() < 1e-3);
        let y = f
            .font(FontId::Italic(MathSize::Text))
            .glyph(b'y')
            .expect("y");
        assert!((pt(y.italic) - 0.359).abs() < 1e-3 && (pt(y.depth) - 1.944).abs() < 1e-3);
        let z5 = f
            .font(FontId::Italic(MathSize::ScriptScript))
            .glyph(b'z')
            .expect("z");
        assert!((pt(z5.italic) - 0.185).abs() < 1e-3);
        let big = f
            .font(FontId::Extension(MathSize::Text))
            .glyph(0)
            .expect("cmex 0x00");
        assert!((pt(big.height + big.depth) - 12.0).abs() < 1e-3);
        assert_eq!(big.next, Some(0x10));
        assert!((pt(f.font(FontId::Extension(MathSize::Text)).param(8)) - 0.4).abs() < 1e-4);
        // cmex7's default rule thickness, at 7 pt and scaled to 5 pt.
        assert_eq!(f.font(FontId::Extension(MathSize::Script)).param(8), 22_281);
        assert_eq!(
            f.font(FontId::Extension(MathSize::ScriptScript)).param(8),
            15_915
        );
        let sy = f.symbols(MathSize::Script);
        assert!((pt(sy.param(22)) - 1.75).abs() < 1e-4 && (pt(sy.param(13)) - 3.5178).abs() < 1e-4);
        assert!((pt(f.symbols(MathSize::ScriptScript).param(6)) - 7.3612).abs() < 1e-4);
        for code in b"0123456789+()" {
            assert!(!cmr10.glyph(*code).expect("cmr glyph").path.is_empty());
        }
    }
}
