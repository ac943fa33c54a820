//! The native rasteriser: the layout drawn the way `pdftoppm -r 200` draws pdfTeX's page (the
//! authors' `latex_decompiler/render.py`, `dataset.py` and `localize_latex_characters.py`,
//! kavigupta/sparling-repro; docs/latex.md), into the 120×360 canvas.
//!
//! * **Page.** Formula box plus a 3 pt border on every side; the image is
//!   `ceil(page_bp · dpi / 72)` pixels with the MediaBox in bp rounded to three decimals as
//!   pdfTeX writes it; 1 pt = dpi / 72.27 px.
//! * **Glyphs.** poppler renders glyphs with FreeType (unhinted, 8-bit exact-area coverage of
//!   the outline in 26.6 fixed point, cubics flattened to 1/6 px) and places them with Splash's
//!   glyph cache, which snaps the origin to 1/4 pixel horizontally and to a whole pixel
//!   vertically (`splashFontFraction`), and to whole pixels for fonts with a tall bounding box
//!   (cmex). The same is done here, with `ab_glyph_rasterizer` accumulating the coverage.
//!   Glyphs are composited over white as Splash does for an opaque black source:
//!   `g ← div255((255 − a) · g)`.
//! * **Fraction bars.** pdfTeX strokes the rule as a line of the rule's thickness; Splash's
//!   stroke adjustment rounds its edges to whole pixels, fully black (`paint_rule`).
//!   This reproduced all 1,824 bars of 3,000 golden formulas exactly; the faint end pixel
//!   Splash's anti-aliasing adds (alpha 11/255) is below both thresholds and left out.
//! * **Fit.** Centred in the canvas, padded with white, or cropped at the centre when larger
//!   (`dataset.padding`).
//!
//! **Boxes.** The reference finds each labelled token's box in colour renders: up to 18 labelled
//! tokens per render get the hues 0, 20, …, 340 degrees (the others black), and a token's box
//! spans the pixels whose hue, rounded to 10 degrees, is its own and whose saturation exceeds
//! 0.1 (`localize_latex_characters.py`). The same colour renders are composited here, in
//! 8-bit RGB as Splash does, and the boxes read off them the same way. For a glyph alone over
//! white that is "coverage above 0.1"; where two coloured glyphs touch, their anti-aliased
//! mixture can take the hue of a third token (the one between them in hue order) and widen its
//! box, exactly as in the reference.

use ab_glyph_rasterizer::{Rasterizer, point};
use serde::{Deserialize, Serialize};

use super::fonts::{FontId, FontSet, PathOp, SP_PER_PT};
use super::grammar::{LatexToken, SymbolClass};
use super::layout::{Layout, LayoutItem, PlacedRule};
use crate::bitmap::BinaryImage;

/// Where the page is drawn and how large the canvas is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RasterGeometry {
    /// Canvas rows.
    pub height: usize,
    /// Canvas columns.
    pub width: usize,
    /// Resolution (dots per inch of 72 bp).
    pub dpi: f64,
    /// Border around the formula box (sp).
    pub border: i64,
}

/// A labelled symbol's ground-truth box, inclusive pixel coordinates in the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SymbolBox {
    /// Index of the token in the sample's token sequence.
    pub token: usize,
    /// Its class (one of 20).
    pub class: SymbolClass,
    /// Leftmost column.
    pub xmin: usize,
    /// Top row.
    pub ymin: usize,
    /// Rightmost column.
    pub xmax: usize,
    /// Bottom row.
    pub ymax: usize,
}

impl SymbolBox {
    /// The box grown by `pad` pixels on every side, as half-open `(rows, cols)` ranges
    /// clipped to a `height × width` canvas. With `pad = 2` this is the region the motif
    /// evaluation uses (`compute_stamps(pad=2)`: `slice(max(0, ymin − pad), ymax + pad + 1)`).
    #[must_use]
    pub fn padded(
        &self,
        pad: usize,
        height: usize,
        width: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let rows = self.ymin.saturating_sub(pad)..(self.ymax + pad + 1).min(height);
        let cols = self.xmin.saturating_sub(pad)..(self.xmax + pad + 1).min(width);
        (rows, cols)
    }

    /// Centre `(row, col)` of the box, in pixels.
    #[must_use]
    pub fn center(&self) -> (f64, f64) {
        (
            (self.ymin + self.ymax) as f64 / 2.0,
            (self.xmin + self.xmax) as f64 / 2.0,
        )
    }
}

/// A rendered formula before noise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendering {
    /// Page height in pixels before the fit (`pdftoppm`'s image height).
    pub page_height: usize,
    /// Page width in pixels before the fit.
    pub page_width: usize,
    /// Grey levels of the canvas, row-major, 255 = white.
    pub gray: Vec<u8>,
    /// Ground-truth boxes of the labelled tokens that are visible, in token order.
    pub boxes: Vec<SymbolBox>,
}

impl Rendering {
    /// The binarised canvas, `gray / 255 > threshold` (1 = background, 0 = ink).
    #[must_use]
    pub fn binarize(&self, threshold: f64, height: usize, width: usize) -> BinaryImage {
        let mut image = BinaryImage::zeros(height, width);
        for (px, &g) in image.pixels_mut().iter_mut().zip(&self.gray) {
            *px = u8::from(f64::from(g) / 255.0 > threshold);
        }
        image
    }
}

/// Splash's `div255`.
#[inline]
fn div255(x: u32) -> u8 {
    ((x + (x >> 8) + 0x80) >> 8) as u8
}

/// Labelled tokens coloured per colour render (18 hues, 0, 20, …, 340 degrees: `hues` of the
/// authors' `latex_decompiler/render.py`, used by `localize_latex_characters.py`).
const HUES: usize = 18;

/// The 8-bit RGB of hue `20·j` degrees at full saturation and value, as poppler converts
/// xcolor's `hsv_to_rgb` components (0, 1/3, 2/3, 1) to bytes.
fn hue_rgb(j: usize) -> [u8; 3] {
    let sextant = (20 * j) / 60;
    let f = ((20 * j) % 60) as u32;
    let up = (f * 255 / 60) as u8; // 0, 85, 170
    let down = 255 - up;
    match sextant {
        0 => [255, up, 0],
        1 => [down, 255, 0],
        2 => [0, 255, up],
        3 => [0, down, 255],
        4 => [up, 0, 255],
        _ => [255, 0, down],
    }
}

/// matplotlib's `rgb_to_hsv` hue and saturation of an 8-bit pixel divided by 255, with the
/// reference's rounding of the hue: `round(h · 360 / 10) · 10 mod 360`, `h` cast to float32.
pub(crate) fn hue_sat(r: u8, g: u8, b: u8) -> (i64, f64) {
    let (r, g, b) = (
        f64::from(r) / 255.0,
        f64::from(g) / 255.0,
        f64::from(b) / 255.0,
    );
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let sat = if max > 0.0 { delta / max } else { 0.0 };
    let mut h = 0.0;
    // Later assignments win, as in matplotlib.
    if delta > 0.0 {
        if r == max {
            h = (g - b) / delta;
        }
        if g == max {
            h = 2.0 + (b - r) / delta;
        }
        if b == max {
            h = 4.0 + (r - g) / delta;
        }
    }
    let h = (h / 6.0).rem_euclid(1.0);
    let hue = ((h as f32 * 360.0 / 10.0).round() as i64 * 10).rem_euclid(360);
    (hue, sat)
}

struct Canvas<'a> {
    geometry: &'a RasterGeometry,
    gray: Vec<u8>,
    /// One RGB canvas per colour render (chunk of up to 18 labelled tokens).
    renders: Vec<Vec<[u8; 3]>>,
    /// Per token: its colour render and hue index there (`None`: not labelled).
    colour: Vec<Option<(usize, usize)>>,
    /// Bounding rectangle of everything painted: `(xmin, ymin, xmax, ymax)`.
    touched: Option<(usize, usize, usize, usize)>,
}

impl Canvas<'_> {
    /// Composites alpha `a` (0–255) at canvas pixel `(x, y)` for `token`, in the grey image
    /// (black ink) and in every colour render (the token's hue in its own render, black in
    /// the others), as Splash does: `c ← div255((255 − a)·c + a·src)`.
    #[inline]
    fn paint(&mut self, x: i64, y: i64, a: u8, token: Option<usize>) {
        let (w, h) = (self.geometry.width as i64, self.geometry.height as i64);
        if a == 0 || x < 0 || y < 0 || x >= w || y >= h {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        let i = y * self.geometry.width + x;
        let (keep, a32) = (255 - u32::from(a), u32::from(a));
        let g = &mut self.gray[i];
        *g = div255(keep * u32::from(*g));
        let own = token.and_then(|t| self.colour.get(t).copied().flatten());
        for (k, render) in self.renders.iter_mut().enumerate() {
            let src = match own {
                Some((chunk, j)) if chunk == k => hue_rgb(j),
                _ => [0, 0, 0],
            };
            let px = &mut render[i];
            for c in 0..3 {
                px[c] = div255(keep * u32::from(px[c]) + a32 * u32::from(src[c]));
            }
        }
        self.touched = Some(match self.touched {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
        });
    }

    /// The reference's boxes (`localize_latex_characters.py`): in each colour render, the
    /// pixels whose rounded hue is a token's hue and whose saturation exceeds 0.1.
    fn boxes(&self, tokens: &[LatexToken]) -> Vec<SymbolBox> {
        let mut extents: Vec<Option<(usize, usize, usize, usize)>> = vec![None; tokens.len()];
        let Some((x0, y0, x1, y1)) = self.touched else {
            return Vec::new();
        };
        for (k, render) in self.renders.iter().enumerate() {
            // Token of each hue index in this render.
            let mut by_hue = [None; HUES];
            for (t, c) in self.colour.iter().enumerate() {
                if let Some((chunk, j)) = *c
                    && chunk == k
                {
                    by_hue[j] = Some(t);
                }
            }
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let [r, g, b] = render[y * self.geometry.width + x];
                    if r == g && g == b {
                        continue; // grey: saturation 0
                    }
                    let (hue, sat) = hue_sat(r, g, b);
                    if sat <= 0.1 || hue % 20 != 0 {
                        continue;
                    }
                    let Some(t) = by_hue.get((hue / 20) as usize).copied().flatten() else {
                        continue;
                    };
                    extents[t] = Some(match extents[t] {
                        None => (x, y, x, y),
                        Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
                    });
                }
            }
        }
        extents
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let class = tokens.get(i)?.symbol_class()?;
                let (xmin, ymin, xmax, ymax) = (*e)?;
                Some(SymbolBox {
                    token: i,
                    class,
                    xmin,
                    ymin,
                    xmax,
                    ymax,
                })
            })
            .collect()
    }
}

/// Page size in pixels: `ceil(page_bp · dpi / 72)`, page = box + 2 · border.
#[must_use]
pub fn page_pixels(layout: &Layout, geometry: &RasterGeometry) -> (usize, usize) {
    // pdfTeX writes the MediaBox in bp with three decimals.
    let px = |sp: i64| (pdf_bp(sp) * geometry.dpi / 72.0).ceil().max(0.0) as usize;
    (
        px(layout.height + layout.depth + 2 * geometry.border),
        px(layout.width + 2 * geometry.border),
    )
}

/// Offset of the page's top-left pixel in the canvas for a page of `page` pixels into a
/// canvas of `canvas` pixels: centred, or cropped at the centre (`extra // 2` cut first).
fn fit_offset(page: usize, canvas: usize) -> i64 {
    if page > canvas {
        -(((page - canvas) / 2) as i64)
    } else {
        ((canvas - page) / 2) as i64
    }
}

/// Draws a cubic Bézier as FreeType's smooth rasteriser flattens it (`gray_render_cubic`,
/// FreeType 2.10–2.12): in 24.8 fixed point, bisect until both control points lie within 1/6
/// pixel of the chord and neither makes an acute angle with it, then draw the chord.
fn flatten_cubic(raster: &mut Rasterizer, arc: [ab_glyph_rasterizer::Point; 4]) {
    type P = (i64, i64);
    let fix = |p: ab_glyph_rasterizer::Point| {
        (
            (f64::from(p.x) * 256.0).round() as i64,
            (f64::from(p.y) * 256.0).round() as i64,
        )
    };
    let unfix = |p: P| point(p.0 as f32 / 256.0, p.1 as f32 / 256.0);
    // Stack of arcs still to draw, each [from, c1, c2, to]; the last is drawn first.
    // Bisection depth is bounded (FreeType's own stack holds 16 levels); 32 is plenty.
    const DEPTH: usize = 32;
    let mut stack = [[(0i64, 0i64); 4]; DEPTH];
    stack[0] = [fix(arc[0]), fix(arc[1]), fix(arc[2]), fix(arc[3])];
    let mut len_stack = 1usize;
    let mut from = arc[0];
    while len_stack > 0 {
        len_stack -= 1;
        let [p0, p1, p2, p3] = stack[len_stack];
        let (dx, dy) = (p3.0 - p0.0, p3.1 - p0.1);
        let len = ((dx * dx + dy * dy) as f64).sqrt() as i64;
        let (dx1, dy1) = (p1.0 - p0.0, p1.1 - p0.1);
        let (dx2, dy2) = (p2.0 - p0.0, p2.1 - p0.1);
        let limit = len * (256 / 6);
        let split = len > 32_767
            || (dy * dx1 - dx * dy1).abs() > limit
            || (dy * dx2 - dx * dy2).abs() > limit
            || dx1 * (dx1 - dx) + dy1 * (dy1 - dy) > 0
            || dx2 * (dx2 - dx) + dy2 * (dy2 - dy) > 0;
        if split && len_stack + 2 <= DEPTH {
            // de Casteljau at t = 1/2, with FreeType's integer halving.
            let mid = |a: P, b: P| ((a.0 + b.0) >> 1, (a.1 + b.1) >> 1);
            let (a, b, c) = (mid(p0, p1), mid(p1, p2), mid(p2, p3));
            let (ab, bc) = (mid(a, b), mid(b, c));
            let m = mid(ab, bc);
            stack[len_stack] = [m, bc, c, p3];
            stack[len_stack + 1] = [p0, a, ab, m];
            len_stack += 2;
            continue;
        }
        let to = unfix(p3);
        raster.draw_line(from, to);
        from = to;
    }
}

/// Paints a fraction bar. Splash's stroke adjustment: edges rounded to whole pixels, at least
/// one row, fully covered.
fn paint_rule(
    canvas: &mut Canvas<'_>,
    r: &PlacedRule,
    layout: &Layout,
    geometry: &RasterGeometry,
    ox: f64,
    oy: f64,
) {
    // pdfTeX: `q 1 0 0 1 e f cm [] 0 d 0 J θ w 0 0 m len 0 l S Q`, every number in bp with
    // three decimals, f the rule's centre line measured from the page bottom. poppler maps user
    // space to the device with the CTM `[s, 0, 0, −s, e·s, f·(−s) + H·s]` (s = dpi/72, H the
    // MediaBox height) and strokes the outline `y = ±θ/2`; Splash's stroke adjustment then
    // rounds each edge (`floor(v + 0.5)`, at least one pixel). The arithmetic is done in the
    // same order in f64, because edges land exactly on .5 (train formula 502).
    let page_height = layout.height + layout.depth + 2 * geometry.border;
    let s = geometry.dpi / 72.0;
    let centre_from_top = geometry.border + layout.height + r.top + r.height - (r.height + 1) / 2;
    let e = pdf_bp(geometry.border + r.x);
    let f = pdf_bp(page_height - centre_from_top);
    let m4 = e * s + f * 0.0 + 0.0;
    let m5 = e * 0.0 + f * (-s) + pdf_bp(page_height) * s;
    let half = pdf_bp(r.height) * 0.5;
    let round = |v: f64| (v + 0.5).floor() as i64;
    let r0 = round(0.0 * 0.0 + half * (-s) + m5);
    let r1 = round(0.0 * 0.0 + (-half) * (-s) + m5).max(r0 + 1);
    let c0 = round(0.0 * s + m4);
    let c1 = round(pdf_bp(r.width) * s + m4);
    let (oy, ox) = (oy as i64, ox as i64);
    for row in r0..r1 {
        for c in c0..c1 {
            canvas.paint(c + ox, row + oy, 255, Some(r.token));
        }
    }
}

/// A length in sp as pdfTeX writes it: bp with three decimals (`pdf_print_bp`:
/// `divide_scaled(s, one_hundred_bp, 5)`, rounding halves away from zero).
fn pdf_bp(sp: i64) -> f64 {
    const HUNDRED_BP: i64 = 6_578_176;
    let n = sp.abs() * 100_000;
    let q = (2 * n + HUNDRED_BP) / (2 * HUNDRED_BP);
    (sp.signum() * q) as f64 / 1000.0
}

/// Draws a laid-out formula. `tokens` labels the boxes (their indices are the layout's token
/// indices).
#[must_use]
pub fn rasterize(
    layout: &Layout,
    tokens: &[LatexToken],
    fonts: &FontSet,
    geometry: &RasterGeometry,
) -> Rendering {
    let (page_height, page_width) = page_pixels(layout, geometry);
    let oy = fit_offset(page_height, geometry.height) as f64;
    let ox = fit_offset(page_width, geometry.width) as f64;
    let px_per_pt = geometry.dpi / 72.27;
    let to_px = |sp: i64| sp as f64 / SP_PER_PT as f64 * px_per_pt;
    // Labelled tokens in order, 18 per colour render.
    let mut colour = vec![None; tokens.len()];
    let mut labelled = 0usize;
    for (t, tok) in tokens.iter().enumerate() {
        if tok.symbol_class().is_some() {
            colour[t] = Some((labelled / HUES, labelled % HUES));
            labelled += 1;
        }
    }
    let mut canvas = Canvas {
        geometry,
        gray: vec![255; geometry.height * geometry.width],
        renders: vec![vec![[255; 3]; geometry.height * geometry.width]; labelled.div_ceil(HUES)],
        colour,
        touched: None,
    };
    let mut raster = Rasterizer::new(0, 0);
    let mut outline: Vec<PathOp> = Vec::new();

    for item in &layout.items {
        let g = match item {
            LayoutItem::Glyph(g) => g,
            LayoutItem::Rule(r) => {
                paint_rule(&mut canvas, r, layout, geometry, ox, oy);
                continue;
            }
        };
        let font = fonts.font(g.font);
        let Some(glyph) = font.glyph(g.code) else {
            continue;
        };
        // Device position of the origin, then Splash's glyph-cache snapping.
        let xt = to_px(geometry.border + g.x);
        let yt = to_px(geometry.border + layout.height + g.y);
        let x0 = if matches!(g.font, FontId::Extension(_)) {
            xt.floor()
        } else {
            xt.floor() + ((xt - xt.floor()) * 4.0).floor() / 4.0
        };
        let y0 = yt.floor();
        let k = (font.size as f64 / SP_PER_PT as f64) / 1000.0 * px_per_pt;
        // Outline in canvas pixels, and its bounding box.
        outline.clear();
        let (mut bx0, mut by0, mut bx1, mut by1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        // FreeType holds the scaled outline in 26.6 fixed point (1/64 px).
        let q = |v: f64| (v * 64.0).round() / 64.0;
        let tx = |u: f32| ox + x0 + q(f64::from(u) * k);
        let ty = |v: f32| oy + y0 - q(f64::from(v) * k);
        let mut grow = |x: f64, y: f64| {
            bx0 = bx0.min(x);
            by0 = by0.min(y);
            bx1 = bx1.max(x);
            by1 = by1.max(y);
        };
        for op in &glyph.path {
            let mapped = match *op {
                PathOp::Move(x, y) => {
                    grow(tx(x), ty(y));
                    PathOp::Move(tx(x) as f32, ty(y) as f32)
                }
                PathOp::Line(x, y) => {
                    grow(tx(x), ty(y));
                    PathOp::Line(tx(x) as f32, ty(y) as f32)
                }
                PathOp::Cubic(a, b, c, d, e, f) => {
                    grow(tx(a), ty(b));
                    grow(tx(c), ty(d));
                    grow(tx(e), ty(f));
                    PathOp::Cubic(
                        tx(a) as f32,
                        ty(b) as f32,
                        tx(c) as f32,
                        ty(d) as f32,
                        tx(e) as f32,
                        ty(f) as f32,
                    )
                }
                PathOp::Close => PathOp::Close,
            };
            outline.push(mapped);
        }
        if bx0 > bx1 {
            continue;
        }
        let (left, top) = (bx0.floor(), by0.floor());
        let w = (bx1.ceil() - left) as usize + 1;
        let h = (by1.ceil() - top) as usize + 1;
        raster.reset(w, h);
        let (lf, tf) = (left as f32, top as f32);
        let mut start = point(0.0, 0.0);
        let mut cur = start;
        for op in &outline {
            match *op {
                PathOp::Move(x, y) => {
                    if cur != start {
                        raster.draw_line(cur, start);
                    }
                    start = point(x - lf, y - tf);
                    cur = start;
                }
                PathOp::Line(x, y) => {
                    let p = point(x - lf, y - tf);
                    raster.draw_line(cur, p);
                    cur = p;
                }
                PathOp::Cubic(a, b, c, d, e, f) => {
                    let p = point(e - lf, f - tf);
                    flatten_cubic(
                        &mut raster,
                        [cur, point(a - lf, b - tf), point(c - lf, d - tf), p],
                    );
                    cur = p;
                }
                PathOp::Close => {
                    if cur != start {
                        raster.draw_line(cur, start);
                    }
                    cur = start;
                }
            }
        }
        if cur != start {
            raster.draw_line(cur, start);
        }
        let (left, top) = (left as i64, top as i64);
        raster.for_each_pixel_2d(|x, y, alpha| {
            // FreeType's 8-bit coverage.
            let a = (alpha * 256.0).clamp(0.0, 255.0) as u8;
            canvas.paint(left + i64::from(x), top + i64::from(y), a, g.token);
        });
    }

    let boxes = canvas.boxes(tokens);
    Rendering {
        page_height,
        page_width,
        gray: canvas.gray,
        boxes,
    }
}
