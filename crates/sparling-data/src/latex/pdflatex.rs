//! The authors' rendering pipeline run for real (kavigupta/sparling-repro; docs/latex.md):
//! `pdflatex` on `latex_decompiler/render.py`'s template, `pdftoppm -r 200`, `dataset.padding`,
//! channel 0; ground-truth boxes from colour renders (`localize_latex_characters.py`). Batched as
//! one page per formula with `standalone`'s `multi` option, which gives the same pages as one
//! document per formula.
//!
//! Needs `pdflatex` (Debian `texlive-latex-base`, `texlive-latex-recommended`,
//! `texlive-latex-extra`) and `pdftoppm` (`poppler-utils`) on `PATH` or given by path; nothing
//! else of the crate needs them. Used to check the native renderer (see `docs/latex.md`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::grammar::{LatexToken, latex_code};
use super::render::{Rendering, SymbolBox, hue_sat};
use crate::error::LatexError;

/// The 18 hues of the colour renders (0, 20, …, 340 degrees).
const HUES: usize = 18;

/// Runs pdflatex and pdftoppm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdflatexRenderer {
    /// The `pdflatex` executable.
    pub pdflatex: PathBuf,
    /// The `pdftoppm` executable.
    pub pdftoppm: PathBuf,
    /// Resolution (200).
    pub dpi: u32,
    /// Canvas rows (120).
    pub height: usize,
    /// Canvas columns (360).
    pub width: usize,
    /// Pages per pdflatex run.
    pub batch: usize,
}

impl Default for PdflatexRenderer {
    fn default() -> Self {
        Self {
            pdflatex: PathBuf::from("pdflatex"),
            pdftoppm: PathBuf::from("pdftoppm"),
            dpi: 200,
            height: 120,
            width: 360,
            batch: 400,
        }
    }
}

/// An RGB page as pdftoppm wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbPage {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Row-major RGB bytes.
    pub rgb: Vec<u8>,
}

/// The document preamble: the reference template (`render.TEMPLATE`, font
/// `computer_modern` adds nothing) with `multi=eqnpage`.
fn preamble() -> String {
    let mut s = String::from(
        "\\documentclass[border=3pt,multi=eqnpage]{standalone}\n\\usepackage{amsmath}\n\
         \\usepackage{xcolor}\n\\newcommand{\\cleft}[2][.]{%\n  \\begingroup\\colorlet{savedleftcolor}{.}%\n\
         \x20 \\color{#1}\\left#2\\color{savedleftcolor}%\n}\n\\newcommand{\\cright}[2][.]{%\n\
         \x20 \\color{#1}\\right#2\\endgroup\n}\n",
    );
    for k in 0..HUES {
        let hue = k * 20;
        let (r, g, b) = hsv_to_rgb(hue as f64 / 360.0);
        let _ = writeln!(
            s,
            "\\definecolor{{color{hue}}}{{rgb}}{{{},{},{}}}",
            py_float(r),
            py_float(g),
            py_float(b)
        );
    }
    s.push_str("\\newenvironment{eqnpage}{}{}\n\\begin{document}\n");
    s
}

/// Python's `colorsys.hsv_to_rgb(h, 1, 1)`.
fn hsv_to_rgb(h: f64) -> (f64, f64, f64) {
    let i = (h * 6.0).floor();
    let f = h * 6.0 - i;
    let (p, q, t) = (0.0, 1.0 - f, f);
    match (i as i64).rem_euclid(6) {
        0 => (1.0, t, p),
        1 => (q, 1.0, p),
        2 => (p, 1.0, t),
        3 => (p, q, 1.0),
        4 => (t, p, 1.0),
        _ => (1.0, p, q),
    }
}

/// `str(float)` for the values above (Python's shortest round-trip repr).
fn py_float(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// `color_latex_code`: a token's code in a colour render.
fn colored_code(tok: LatexToken, color: Option<usize>) -> String {
    let Some(hue) = color else {
        return match tok.symbol_class() {
            Some(_)
                if tok != LatexToken::FracOpen
                    && tok != LatexToken::ParenOpen
                    && tok != LatexToken::ParenClose =>
            {
                format!("\\color{{black}} {}", tok.code())
            }
            Some(_) => colored_named(tok, "black"),
            None => tok.code().to_owned(),
        };
    };
    colored_named(tok, &format!("color{hue}"))
}

fn colored_named(tok: LatexToken, name: &str) -> String {
    match tok {
        LatexToken::ParenOpen => format!("\\cleft[{name}]("),
        LatexToken::ParenClose => format!("\\cright[{name}])"),
        LatexToken::FracOpen => format!("\\color{{{name}}} \\frac{{"),
        other => format!("\\color{{{name}}} {}", other.code()),
    }
}

static SCRATCH: AtomicU64 = AtomicU64::new(0);

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, LatexError> {
        let n = SCRATCH.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("sparling-pdflatex-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|source| LatexError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command, program: &Path) -> Result<(), LatexError> {
    let out = cmd.output().map_err(|source| LatexError::ToolMissing {
        program: program.display().to_string(),
        source,
    })?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let tail: String = text
        .lines()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    Err(LatexError::ToolFailed {
        program: program.display().to_string(),
        status: out.status.to_string(),
        output: tail,
    })
}

fn read_ppm(path: &Path) -> Result<RgbPage, LatexError> {
    let data = std::fs::read(path).map_err(|source| LatexError::Io {
        path: path.to_owned(),
        source,
    })?;
    // "P6\n<w> <h>\n255\n" then RGB bytes.
    let mut fields = Vec::with_capacity(4);
    let mut pos = 0;
    while fields.len() < 4 && pos < data.len() {
        while pos < data.len() && data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while pos < data.len() && !data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..pos]).into_owned());
    }
    pos += 1;
    let bad = || LatexError::BadRaster(format!("{} is not a binary PPM", path.display()));
    if fields.len() != 4 || fields[0] != "P6" || fields[3] != "255" {
        return Err(bad());
    }
    let width: usize = fields[1].parse().map_err(|_| bad())?;
    let height: usize = fields[2].parse().map_err(|_| bad())?;
    let rgb = data
        .get(pos..pos + width * height * 3)
        .ok_or_else(bad)?
        .to_vec();
    Ok(RgbPage { height, width, rgb })
}

impl RgbPage {
    /// `dataset.padding` into `height × width`: centre-crop what is larger, pad with white.
    /// Returns the fitted RGB canvas.
    #[must_use]
    pub fn fit(&self, height: usize, width: usize) -> Vec<u8> {
        let mut out = vec![255u8; height * width * 3];
        let off = |page: usize, canvas: usize| -> i64 {
            if page > canvas {
                -(((page - canvas) / 2) as i64)
            } else {
                ((canvas - page) / 2) as i64
            }
        };
        let (oy, ox) = (off(self.height, height), off(self.width, width));
        for y in 0..self.height {
            let cy = y as i64 + oy;
            if cy < 0 || cy >= height as i64 {
                continue;
            }
            for x in 0..self.width {
                let cx = x as i64 + ox;
                if cx < 0 || cx >= width as i64 {
                    continue;
                }
                let src = (y * self.width + x) * 3;
                let dst = (cy as usize * width + cx as usize) * 3;
                out[dst..dst + 3].copy_from_slice(&self.rgb[src..src + 3]);
            }
        }
        out
    }
}

impl PdflatexRenderer {
    /// Renders each LaTeX body (`$\displaystyle body$`) on its own page.
    ///
    /// # Errors
    /// [`LatexError::ToolMissing`] / [`LatexError::ToolFailed`] if pdflatex or pdftoppm is
    /// missing or fails, [`LatexError::Io`] / [`LatexError::BadRaster`] on unexpected output.
    pub fn render_pages(&self, bodies: &[String]) -> Result<Vec<RgbPage>, LatexError> {
        let mut pages = Vec::with_capacity(bodies.len());
        for chunk in bodies.chunks(self.batch.max(1)) {
            let dir = Scratch::new()?;
            let mut tex = preamble();
            for body in chunk {
                let _ = write!(
                    tex,
                    "\\begin{{eqnpage}}$\\displaystyle\n{body}\n$\\end{{eqnpage}}\n"
                );
            }
            tex.push_str("\\end{document}\n");
            let tex_path = dir.0.join("eqn.tex");
            std::fs::write(&tex_path, tex).map_err(|source| LatexError::Io {
                path: tex_path.clone(),
                source,
            })?;
            run(
                Command::new(&self.pdflatex)
                    .args(["-interaction=nonstopmode", "-halt-on-error", "eqn.tex"])
                    .current_dir(&dir.0),
                &self.pdflatex,
            )?;
            run(
                Command::new(&self.pdftoppm)
                    .args(["-r", &self.dpi.to_string(), "eqn.pdf", "pg"])
                    .current_dir(&dir.0),
                &self.pdftoppm,
            )?;
            let mut names: Vec<(usize, PathBuf)> = std::fs::read_dir(&dir.0)
                .map_err(|source| LatexError::Io {
                    path: dir.0.clone(),
                    source,
                })?
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let n = name
                        .strip_prefix("pg-")?
                        .strip_suffix(".ppm")?
                        .parse()
                        .ok()?;
                    Some((n, e.path()))
                })
                .collect();
            names.sort_unstable();
            if names.len() != chunk.len() {
                return Err(LatexError::BadRaster(format!(
                    "{} pages for {} formulas",
                    names.len(),
                    chunk.len()
                )));
            }
            for (_, path) in names {
                pages.push(read_ppm(&path)?);
            }
        }
        Ok(pages)
    }

    /// The reference rendering of each formula: page size, fitted grey canvas (channel 0) and the
    /// colour-render boxes (up to 18 labelled tokens per render, as
    /// `localize_latex_characters.py` does).
    ///
    /// # Errors
    /// As [`render_pages`](Self::render_pages).
    pub fn render(&self, formulas: &[Vec<LatexToken>]) -> Result<Vec<Rendering>, LatexError> {
        // Page list: the plain render, then the colour renders of each formula.
        let mut bodies = Vec::new();
        let mut jobs: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
        for (k, tokens) in formulas.iter().enumerate() {
            bodies.push(latex_code(tokens));
            jobs.push((k, Vec::new()));
            let labelled: Vec<usize> = (0..tokens.len())
                .filter(|&i| tokens[i].symbol_class().is_some())
                .collect();
            for chunk in labelled.chunks(HUES) {
                let hue_of: Vec<(usize, usize)> = chunk
                    .iter()
                    .enumerate()
                    .map(|(j, &i)| (i, j * 20))
                    .collect();
                let body: String = tokens
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| {
                        let hue = hue_of.iter().find(|(ti, _)| *ti == i).map(|(_, h)| *h);
                        colored_code(t, hue)
                    })
                    .collect();
                bodies.push(body);
                jobs.push((k, hue_of));
            }
        }
        let pages = self.render_pages(&bodies)?;
        let mut out: Vec<Rendering> = Vec::with_capacity(formulas.len());
        for ((k, hue_of), page) in jobs.into_iter().zip(pages) {
            let canvas = page.fit(self.height, self.width);
            if hue_of.is_empty() {
                out.push(Rendering {
                    page_height: page.height,
                    page_width: page.width,
                    gray: canvas.chunks_exact(3).map(|p| p[0]).collect(),
                    boxes: Vec::new(),
                });
                continue;
            }
            let Some(rendering) = out.get_mut(k) else {
                continue;
            };
            for (token, hue) in hue_of {
                let mut ext: Option<(usize, usize, usize, usize)> = None;
                for (i, p) in canvas.chunks_exact(3).enumerate() {
                    let (h, s) = hue_sat(p[0], p[1], p[2]);
                    if h as usize == hue && s > 0.1 {
                        let (y, x) = (i / self.width, i % self.width);
                        ext = Some(match ext {
                            None => (x, y, x, y),
                            Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
                        });
                    }
                }
                let class = formulas[k].get(token).and_then(|t| t.symbol_class());
                if let (Some((xmin, ymin, xmax, ymax)), Some(class)) = (ext, class) {
                    rendering.boxes.push(SymbolBox {
                        token,
                        class,
                        xmin,
                        ymin,
                        xmax,
                        ymax,
                    });
                }
            }
            rendering.boxes.sort_by_key(|b| b.token);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_match_python() {
        assert_eq!(hsv_to_rgb(20.0 / 360.0).1, 1.0 / 3.0);
        assert_eq!(py_float(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(py_float(1.0), "1.0");
        assert!(preamble().contains("\\definecolor{color120}{rgb}{0.0,1.0,0.0}"));
        assert_eq!(hue_sat(255, 0, 0), (0, 1.0));
        assert_eq!(hue_sat(0, 0, 255).0, 240);
        assert_eq!(hue_sat(255, 255, 255).1, 0.0);
    }

    #[test]
    fn colour_codes_follow_the_reference() {
        assert_eq!(
            colored_code(LatexToken::FracOpen, Some(40)),
            "\\color{color40} \\frac{"
        );
        assert_eq!(
            colored_code(LatexToken::ParenClose, None),
            "\\cright[black])"
        );
        assert_eq!(colored_code(LatexToken::SupOpen, None), "^{");
        assert_eq!(colored_code(LatexToken::Plus, None), "\\color{black} +");
    }

    #[test]
    fn missing_tool_is_a_clear_error() {
        let r = PdflatexRenderer {
            pdflatex: PathBuf::from("/nonexistent/pdflatex"),
            ..PdflatexRenderer::default()
        };
        let err = r.render_pages(&["x".to_owned()]).expect_err("no pdflatex");
        assert!(err.to_string().contains("texlive-latex-base"), "{err}");
    }
}
