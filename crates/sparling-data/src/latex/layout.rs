//! TeX's math layout for the formulas of the grammar (docs/latex.md; The TeXbook, Appendix G, rules
//! 15–19, and `tex.web` §§ 719–767), in TeX's integer scaled points.
//!
//! Only what the grammar can produce is implemented, but that part follows `tex.web`:
//!
//! * styles D, T, S, SS (cramped or not) and their sizes 10 / 7 / 5 pt; family 3 is cmex10,
//!   cmex7 and cmex7 at 5 pt (amsmath's font declaration), which sets the rule thickness of
//!   script-size fractions;
//! * an Ord character gets its italic correction as a kern unless it has a subscript
//!   (`make_ord` / rule 17); a script box gets `\scriptspace`; superscript and subscript
//!   shifts are rules 18a–18c with the nucleus a character (so both start at 0);
//! * `\frac` = amsmath's `{\begingroup#1\endgroup\over#2}`: rule 15 (num/denom shifts and
//!   clearances, `rebox` centring, the rule at the axis, `\nulldelimiterspace` on each side);
//!   the braces make it an Ord atom (it never has siblings in this grammar anyway);
//! * `\left( … \right)`: rule 19 and `var_delimiter` (`\delimiterfactor` 901,
//!   `\delimitershortfall` 5 pt; cmr `(` at the current size, then the larger sizes, then the
//!   cmex10 chain), the delimiter centred on the axis (`half(h − d) − axis`);
//! * inter-atom spacing from TeX's table (thin `3mu` Ord–Inner / Inner–Ord / Inner–Inner,
//!   medium `4mu` around Bin, only in D and T), `1mu = quad(cmsy)/18` via `math_glue`.
//!
//! Positions are sp, x to the right of the formula box's left edge, y **down** from its
//! baseline.

use serde::{Deserialize, Serialize};

use super::fonts::{FontId, FontSet, MathSize, SP_PER_PT};
use super::grammar::{LatexToken, MathSymbol};
use crate::error::LatexError;

/// `\scriptspace` = 0.5 pt.
const SCRIPT_SPACE: i64 = SP_PER_PT / 2;
/// `\nulldelimiterspace` = 1.2 pt (as TeX scans it: 78,643 sp).
const NULL_DELIMITER_SPACE: i64 = 78_643;
/// `\delimiterfactor` = 901.
const DELIMITER_FACTOR: i64 = 901;
/// `\delimitershortfall` = 5 pt.
const DELIMITER_SHORTFALL: i64 = 5 * SP_PER_PT;

/// A parsed formula of the grammar: a list of atoms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Atom {
    /// A symbol with at most one script.
    Symbol {
        /// The nucleus.
        symbol: MathSymbol,
        /// Its token index.
        token: usize,
        /// `^{s}` or `_{s}`.
        script: Option<Script>,
    },
    /// `+`.
    Plus {
        /// Its token index.
        token: usize,
    },
    /// `\left( body \right)`.
    Paren {
        /// Token index of `PAREN(`.
        open: usize,
        /// Token index of `PAREN)`.
        close: usize,
        /// The enclosed list.
        body: Vec<Atom>,
    },
    /// `\frac{num}{den}`.
    Frac {
        /// Token index of `FRAC(` (the bar's label).
        token: usize,
        /// Numerator.
        num: Vec<Atom>,
        /// Denominator.
        den: Vec<Atom>,
    },
}

/// A one-symbol superscript or subscript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// Superscript (`true`) or subscript.
    pub superscript: bool,
    /// The script symbol.
    pub symbol: MathSymbol,
    /// Its token index.
    pub token: usize,
}

/// Parses a token sequence of the grammar (`start`) into atoms.
///
/// # Errors
/// [`LatexError::Parse`] if the tokens are not a sentence of the grammar.
pub fn parse(tokens: &[LatexToken]) -> Result<Vec<Atom>, LatexError> {
    let mut p = Parser { tokens, pos: 0 };
    let atoms = p.start()?;
    if p.pos != tokens.len() {
        return Err(p.error("trailing tokens after a complete formula"));
    }
    Ok(atoms)
}

struct Parser<'a> {
    tokens: &'a [LatexToken],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> LatexError {
        LatexError::Parse {
            position: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<LatexToken> {
        self.tokens.get(self.pos).copied()
    }

    fn expect(&mut self, tok: LatexToken, reason: &'static str) -> Result<usize, LatexError> {
        if self.peek() == Some(tok) {
            self.pos += 1;
            Ok(self.pos - 1)
        } else {
            Err(self.error(reason))
        }
    }

    fn start(&mut self) -> Result<Vec<Atom>, LatexError> {
        if self.peek() == Some(LatexToken::FracOpen) {
            let token = self.pos;
            self.pos += 1;
            let num = self.start()?;
            self.expect(LatexToken::FracMid, "expected FRACMID")?;
            let den = self.start()?;
            self.expect(LatexToken::FracClose, "expected FRAC)")?;
            return Ok(vec![Atom::Frac { token, num, den }]);
        }
        self.expression()
    }

    fn expression(&mut self) -> Result<Vec<Atom>, LatexError> {
        let mut atoms = Vec::new();
        loop {
            self.term(&mut atoms)?;
            if self.peek() == Some(LatexToken::Plus) {
                atoms.push(Atom::Plus { token: self.pos });
                self.pos += 1;
            } else {
                return Ok(atoms);
            }
        }
    }

    fn term(&mut self, atoms: &mut Vec<Atom>) -> Result<(), LatexError> {
        self.atom(atoms)?;
        while matches!(
            self.peek(),
            Some(LatexToken::Symbol(_) | LatexToken::ParenOpen)
        ) {
            self.atom(atoms)?;
        }
        Ok(())
    }

    fn symbol(&mut self) -> Result<(MathSymbol, usize), LatexError> {
        match self.peek() {
            Some(LatexToken::Symbol(s)) => {
                self.pos += 1;
                Ok((s, self.pos - 1))
            }
            _ => Err(self.error("expected a symbol")),
        }
    }

    fn atom(&mut self, atoms: &mut Vec<Atom>) -> Result<(), LatexError> {
        if self.peek() == Some(LatexToken::ParenOpen) {
            let open = self.pos;
            self.pos += 1;
            let body = self.expression()?;
            let close = self.expect(LatexToken::ParenClose, "expected PAREN)")?;
            atoms.push(Atom::Paren { open, close, body });
            return Ok(());
        }
        let (symbol, token) = self.symbol()?;
        let script = match self.peek() {
            Some(t @ (LatexToken::SupOpen | LatexToken::SubOpen)) => {
                self.pos += 1;
                let (s, st) = self.symbol()?;
                let superscript = t == LatexToken::SupOpen;
                let close = if superscript {
                    LatexToken::SupClose
                } else {
                    LatexToken::SubClose
                };
                self.expect(close, "expected the script's closing token")?;
                Some(Script {
                    superscript,
                    symbol: s,
                    token: st,
                })
            }
            _ => None,
        };
        atoms.push(Atom::Symbol {
            symbol,
            token,
            script,
        });
        Ok(())
    }
}

/// A glyph placed by the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacedGlyph {
    /// Font.
    pub font: FontId,
    /// Character code.
    pub code: u8,
    /// Origin x (sp, right of the formula box's left edge).
    pub x: i64,
    /// Origin y (sp, below the formula's baseline; negative is above).
    pub y: i64,
    /// Index of the token it renders (`None` never happens for this grammar).
    pub token: Option<usize>,
}

/// A rule (the fraction bar) placed by the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacedRule {
    /// Left edge (sp).
    pub x: i64,
    /// Top edge (sp below the baseline; negative is above).
    pub top: i64,
    /// Width (sp).
    pub width: i64,
    /// Thickness (sp).
    pub height: i64,
    /// Index of the `FRAC(` token.
    pub token: usize,
}

/// Something drawn: a glyph or a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutItem {
    /// A character.
    Glyph(PlacedGlyph),
    /// A fraction bar.
    Rule(PlacedRule),
}

impl LayoutItem {
    fn moved(self, dx: i64, dy: i64) -> Self {
        match self {
            LayoutItem::Glyph(mut g) => {
                g.x += dx;
                g.y += dy;
                LayoutItem::Glyph(g)
            }
            LayoutItem::Rule(mut r) => {
                r.x += dx;
                r.top += dy;
                LayoutItem::Rule(r)
            }
        }
    }
}

/// The laid-out formula: its box and everything drawn in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Box width (sp).
    pub width: i64,
    /// Box height above the baseline (sp).
    pub height: i64,
    /// Box depth below the baseline (sp).
    pub depth: i64,
    /// Glyphs and rules in the order TeX ships them out (left to right; a fraction's
    /// numerator, then its bar, then its denominator), which is the order pdftoppm paints
    /// them and matters where anti-aliased edges of different colours overlap.
    pub items: Vec<LayoutItem>,
}

impl Layout {
    /// The glyphs, in drawing order.
    pub fn glyphs(&self) -> impl Iterator<Item = &PlacedGlyph> {
        self.items.iter().filter_map(|i| match i {
            LayoutItem::Glyph(g) => Some(g),
            LayoutItem::Rule(_) => None,
        })
    }

    /// The rules, in drawing order.
    pub fn rules(&self) -> impl Iterator<Item = &PlacedRule> {
        self.items.iter().filter_map(|i| match i {
            LayoutItem::Rule(r) => Some(r),
            LayoutItem::Glyph(_) => None,
        })
    }

    fn append(&mut self, other: Layout, shift: i64) {
        let dx = self.width;
        self.items
            .extend(other.items.into_iter().map(|i| i.moved(dx, shift)));
        self.width += other.width;
        self.height = self.height.max(other.height - shift);
        self.depth = self.depth.max(other.depth + shift);
    }

    fn kern(&mut self, w: i64) {
        self.width += w;
    }

    /// Moves the contents right by `dx` and sets the width to `width` (TeX's `rebox`
    /// centring with the glue already set).
    fn recentre(mut self, width: i64) -> Layout {
        if self.width != width && !self.items.is_empty() {
            let dx = pascal_round_half(width - self.width);
            for i in &mut self.items {
                *i = i.moved(dx, 0);
            }
        }
        self.width = width;
        self
    }
}

/// `round(x / 2)` with Pascal's round (halves away from zero).
fn pascal_round_half(x: i64) -> i64 {
    if x >= 0 { (x + 1) / 2 } else { -((-x + 1) / 2) }
}

/// TeX's `half`: `(x + 1) div 2` for odd `x`, else `x div 2` (div truncates toward zero).
fn half(x: i64) -> i64 {
    if x % 2 != 0 { (x + 1) / 2 } else { x / 2 }
}

/// A math style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Style {
    /// 0 = D, 1 = T, 2 = S, 3 = SS.
    level: u8,
    cramped: bool,
}

impl Style {
    const DISPLAY: Style = Style {
        level: 0,
        cramped: false,
    };

    fn size(self) -> MathSize {
        match self.level {
            0 | 1 => MathSize::Text,
            2 => MathSize::Script,
            _ => MathSize::ScriptScript,
        }
    }

    fn is_display(self) -> bool {
        self.level == 0
    }

    /// D and T: where the spacing marked "(n)" in TeX's table applies.
    fn is_text_or_display(self) -> bool {
        self.level <= 1
    }

    fn sup(self) -> Style {
        Style {
            level: if self.level <= 1 { 2 } else { 3 },
            cramped: self.cramped,
        }
    }

    fn sub(self) -> Style {
        Style {
            cramped: true,
            ..self.sup()
        }
    }

    fn num(self) -> Style {
        Style {
            level: (self.level + 1).min(3),
            cramped: self.cramped,
        }
    }

    fn denom(self) -> Style {
        Style {
            cramped: true,
            ..self.num()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AtomKind {
    Ord,
    Bin,
    Inner,
}

/// Lays out a parsed formula in display style (`$\displaystyle …$`).
///
/// # Errors
/// [`LatexError::MissingGlyph`] if the font table lacks a glyph (a build problem).
pub fn layout(atoms: &[Atom], fonts: &FontSet) -> Result<Layout, LatexError> {
    Typesetter { fonts }.mlist(atoms, Style::DISPLAY)
}

struct Typesetter<'a> {
    fonts: &'a FontSet,
}

impl Typesetter<'_> {
    fn char_box(
        &self,
        font: FontId,
        code: u8,
        token: Option<usize>,
    ) -> Result<(Layout, i64), LatexError> {
        let g = self
            .fonts
            .font(font)
            .glyph(code)
            .ok_or(LatexError::MissingGlyph { code })?;
        let layout = Layout {
            width: g.width,
            height: g.height,
            depth: g.depth,
            items: vec![LayoutItem::Glyph(PlacedGlyph {
                font,
                code,
                x: 0,
                y: 0,
                token,
            })],
        };
        Ok((layout, g.italic))
    }

    fn symbol_font(symbol: MathSymbol, size: MathSize) -> FontId {
        if symbol.is_digit() {
            FontId::Roman(size)
        } else {
            FontId::Italic(size)
        }
    }

    /// A character Ord with no scripts: the glyph plus its italic correction as a kern.
    fn plain_char(
        &self,
        symbol: MathSymbol,
        style: Style,
        token: usize,
    ) -> Result<Layout, LatexError> {
        let (mut b, ic) = self.char_box(
            Self::symbol_font(symbol, style.size()),
            symbol.code(),
            Some(token),
        )?;
        b.kern(ic);
        Ok(b)
    }

    fn sy(&self, style: Style, n: usize) -> i64 {
        self.fonts.symbols(style.size()).param(n)
    }

    /// `1mu` glue of `n` mu in `style` (`math_glue` with `cur_mu = x_over_n(quad, 18)`).
    fn mu(&self, style: Style, n: i64) -> i64 {
        let m = self.sy(style, 6) / 18;
        let (whole, frac) = (m.div_euclid(SP_PER_PT), m.rem_euclid(SP_PER_PT));
        let x = n * SP_PER_PT;
        whole * x + (x * frac) / SP_PER_PT
    }

    fn atom(&self, atom: &Atom, style: Style) -> Result<(AtomKind, Layout), LatexError> {
        match atom {
            Atom::Plus { token } => {
                let (b, _) = self.char_box(FontId::Roman(style.size()), b'+', Some(*token))?;
                Ok((AtomKind::Bin, b))
            }
            Atom::Symbol {
                symbol,
                token,
                script,
            } => {
                let font = Self::symbol_font(*symbol, style.size());
                let (mut b, ic) = self.char_box(font, symbol.code(), Some(*token))?;
                match script {
                    None => b.kern(ic),
                    Some(s) if s.superscript => {
                        b.kern(ic);
                        let mut x = self.plain_char(s.symbol, style.sup(), s.token)?;
                        x.width += SCRIPT_SPACE;
                        let clr = if style.cramped {
                            self.sy(style, 15)
                        } else if style.is_display() {
                            self.sy(style, 13)
                        } else {
                            self.sy(style, 14)
                        };
                        let shift_up = 0.max(clr).max(x.depth + self.sy(style, 5).abs() / 4);
                        b.append(x, -shift_up);
                    }
                    Some(s) => {
                        let mut x = self.plain_char(s.symbol, style.sub(), s.token)?;
                        x.width += SCRIPT_SPACE;
                        let shift_down = 0
                            .max(self.sy(style, 16))
                            .max(x.height - (self.sy(style, 5) * 4).abs() / 5);
                        b.append(x, shift_down);
                    }
                }
                Ok((AtomKind::Ord, b))
            }
            Atom::Paren { open, close, body } => {
                let inner = self.mlist(body, style)?;
                let axis = self.sy(style, 22);
                let mut delta2 = inner.depth + axis;
                let mut delta1 = inner.height + inner.depth - delta2;
                if delta2 > delta1 {
                    delta1 = delta2;
                }
                let mut delta = (delta1 / 500) * DELIMITER_FACTOR;
                delta2 = delta1 + delta1 - DELIMITER_SHORTFALL;
                if delta < delta2 {
                    delta = delta2;
                }
                let (left, lshift) = self.delimiter(b'(', 0x00, style, delta, *open)?;
                let (right, rshift) = self.delimiter(b')', 0x01, style, delta, *close)?;
                let mut b = Layout::default();
                b.append(left, lshift);
                b.append(inner, 0);
                b.append(right, rshift);
                Ok((AtomKind::Inner, b))
            }
            Atom::Frac { token, num, den } => {
                Ok((AtomKind::Ord, self.fraction(num, den, style, *token)?))
            }
        }
    }

    /// `var_delimiter`: the first variant at least `size` tall, else the largest seen; and
    /// its shift `half(h − d) − axis`.
    fn delimiter(
        &self,
        small: u8,
        large: u8,
        style: Style,
        size: i64,
        token: usize,
    ) -> Result<(Layout, i64), LatexError> {
        let mut best: Option<(FontId, u8, i64)> = None;
        let mut consider = |font: FontId, code: u8| -> Option<bool> {
            let g = self.fonts.font(font).glyph(code)?;
            let u = g.height + g.depth;
            if best.is_none_or(|(_, _, w)| u > w) {
                best = Some((font, code, u));
                if u >= size {
                    return Some(true);
                }
            }
            Some(false)
        };
        let mut found = false;
        let mut z = Some(style.size());
        while let Some(s) = z {
            if consider(FontId::Roman(s), small) == Some(true) {
                found = true;
                break;
            }
            z = s.larger();
        }
        // Then the large variant: family 3's chain at the current size, then larger sizes.
        // Its end (0x30 / 0x31) is extensible, which this grammar never reaches (nested
        // parentheses stay at 12 pt); the largest fixed size stands in for it.
        let mut z = Some(style.size()).filter(|_| !found);
        'sizes: while let Some(s) = z {
            let ext = FontId::Extension(s);
            let mut code = Some(large);
            while let Some(c) = code {
                if consider(ext, c) == Some(true) {
                    break 'sizes;
                }
                code = self
                    .fonts
                    .font(ext)
                    .glyph(c)
                    .and_then(|g| g.next)
                    .filter(|n| *n < 0x30);
            }
            z = s.larger();
        }
        let (font, code, _) = best.ok_or(LatexError::MissingGlyph { code: small })?;
        let (mut b, ic) = self.char_box(font, code, Some(token))?;
        b.width += ic;
        let shift = half(b.height - b.depth) - self.sy(style, 22);
        Ok((b, shift))
    }

    /// Rule 15 for `{\begingroup num\endgroup\over den}`.
    fn fraction(
        &self,
        num: &[Atom],
        den: &[Atom],
        style: Style,
        token: usize,
    ) -> Result<Layout, LatexError> {
        let theta = self.fonts.font(FontId::Extension(style.size())).param(8);
        let mut x = self.mlist(num, style.num())?;
        let mut z = self.mlist(den, style.denom())?;
        if x.width < z.width {
            x = x.recentre(z.width);
        } else {
            z = z.recentre(x.width);
        }
        let (mut shift_up, mut shift_down) = if style.is_display() {
            (self.sy(style, 8), self.sy(style, 11))
        } else {
            (self.sy(style, 9), self.sy(style, 12))
        };
        let clr = if style.is_display() { 3 * theta } else { theta };
        let delta = half(theta);
        let axis = self.sy(style, 22);
        let delta1 = clr - ((shift_up - x.depth) - (axis + delta));
        let delta2 = clr - ((axis - delta) - (z.height - shift_down));
        if delta1 > 0 {
            shift_up += delta1;
        }
        if delta2 > 0 {
            shift_down += delta2;
        }
        let width = x.width;
        let mut items: Vec<LayoutItem> =
            x.items.into_iter().map(|i| i.moved(0, -shift_up)).collect();
        items.push(LayoutItem::Rule(PlacedRule {
            x: 0,
            top: -(axis + delta),
            width,
            height: theta,
            token,
        }));
        items.extend(z.items.into_iter().map(|i| i.moved(0, shift_down)));
        let v = Layout {
            width,
            height: shift_up + x.height,
            depth: z.depth + shift_down,
            items,
        };
        // Null delimiters: empty boxes of \nulldelimiterspace, raised to the axis.
        let null = Layout {
            width: NULL_DELIMITER_SPACE,
            ..Layout::default()
        };
        let mut b = Layout::default();
        b.append(null.clone(), -axis);
        b.append(v, 0);
        b.append(null, -axis);
        Ok(b)
    }

    /// `mlist_to_hlist` + `hpack` of a list in `style`, with TeX's inter-atom spacing.
    fn mlist(&self, atoms: &[Atom], style: Style) -> Result<Layout, LatexError> {
        let mut out = Layout::default();
        let mut prev: Option<AtomKind> = None;
        for atom in atoms {
            let (kind, b) = self.atom(atom, style)?;
            if let Some(p) = prev {
                out.kern(self.spacing(p, kind, style));
            }
            out.append(b, 0);
            prev = Some(kind);
        }
        Ok(out)
    }

    fn spacing(&self, left: AtomKind, right: AtomKind, style: Style) -> i64 {
        use AtomKind::{Bin, Inner, Ord};
        let mu = match (left, right) {
            (Ord, Ord) | (Bin, Bin) => 0,
            (Ord, Bin) | (Bin, Ord) | (Bin, Inner) | (Inner, Bin) => 4,
            (Ord, Inner) | (Inner, Ord) | (Inner, Inner) => 3,
        };
        if mu == 0 || !style.is_text_or_display() {
            0
        } else {
            self.mu(style, mu)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(names: &[&str]) -> Vec<LatexToken> {
        names
            .iter()
            .map(|n| LatexToken::from_name(n).expect("token name"))
            .collect()
    }

    #[test]
    fn parses_the_grammar() {
        let t = tokens(&["PAREN(", "x", "SUP(", "2", "SUP)", "+", "y", "PAREN)", "3"]);
        let atoms = parse(&t).expect("valid");
        assert_eq!(atoms.len(), 2);
        assert!(matches!(&atoms[0], Atom::Paren { open: 0, close: 7, body } if body.len() == 3));
        assert!(parse(&tokens(&["x", "+"])).is_err());
        assert!(parse(&tokens(&["PAREN(", "x"])).is_err());
        assert!(parse(&tokens(&["x", "SUP(", "2"])).is_err());
        assert!(parse(&tokens(&["x", "FRACMID"])).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn half_and_round_follow_pascal() {
        assert_eq!(half(5), 3);
        assert_eq!(half(-5), -2);
        assert_eq!(half(-4), -2);
        assert_eq!(pascal_round_half(3), 2);
        assert_eq!(pascal_round_half(-3), -2);
    }
}
