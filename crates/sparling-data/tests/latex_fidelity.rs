//! The native LaTeX renderer against pdflatex (docs/latex.md).
//!
//! `tests/data/latex_goldens.{png,json}` hold the first 300 test-split (seed −2) formulas as
//! the authors' pipeline renders them (pdflatex + `pdftoppm -r 200`, fitted into 120×360,
//! binarised at 0.75; boxes from the 18-hue colour renders), produced by
//! `scripts/latex_goldens.py` with Debian's TeX Live 2022 (pdfTeX 1.40.24) and poppler 22.12. No
//! TeX is needed here.

use serde::Deserialize;
use sparling_data::latex::{LatexOcr, LatexToken, SymbolBox};
use sparling_data::{Dataset, Split};

const H: usize = 120;
const W: usize = 360;

#[derive(Deserialize)]
struct Goldens {
    seed: i64,
    height: usize,
    width: usize,
    samples: Vec<Golden>,
}

#[derive(Deserialize)]
struct Golden {
    index: u64,
    tokens: String,
    page: (usize, usize),
    boxes: Vec<(usize, usize, usize, usize, usize)>,
}

struct Measured {
    index: u64,
    iou: f64,
    page_ok: bool,
    /// (token, distance of box centres in px) per golden box.
    centre_errors: Vec<(usize, f64)>,
    /// Golden boxes the native box equals exactly.
    boxes_equal: usize,
    /// Pixels where native and golden ink differ.
    pixels_differ: usize,
    missing_boxes: usize,
}

fn load() -> (Goldens, Vec<Vec<bool>>) {
    parse(
        include_str!("data/latex_goldens.json"),
        include_bytes!("data/latex_goldens.png"),
    )
}

fn parse(json: &str, png: &[u8]) -> (Goldens, Vec<Vec<bool>>) {
    let meta: Goldens = serde_json::from_str(json).expect("golden json");
    assert_eq!((meta.height, meta.width), (H, W));
    let png = image::load_from_memory(png).expect("golden png").to_luma8();
    assert_eq!(png.width() as usize, W);
    assert_eq!(png.height() as usize, H * meta.samples.len());
    let inks = (0..meta.samples.len())
        .map(|k| {
            let start = k * H * W;
            png.as_raw()[start..start + H * W]
                .iter()
                .map(|&v| v < 128)
                .collect()
        })
        .collect();
    (meta, inks)
}

fn tokens(names: &str) -> Vec<LatexToken> {
    names
        .split(' ')
        .map(|n| LatexToken::from_name(n).expect("token"))
        .collect()
}

fn centre(b: (usize, usize, usize, usize)) -> (f64, f64) {
    ((b.0 + b.2) as f64 / 2.0, (b.1 + b.3) as f64 / 2.0)
}

fn measure(meta: &Goldens, inks: &[Vec<bool>]) -> Vec<Measured> {
    let domain = LatexOcr::paper().expect("domain");
    meta.samples
        .iter()
        .zip(inks)
        .map(|(g, gold_ink)| {
            let toks = tokens(&g.tokens);
            let rendering = domain.render(&toks).expect("render");
            let clean = rendering.binarize(0.75, H, W);
            let (mut inter, mut union) = (0usize, 0usize);
            for (&px, &gi) in clean.pixels().iter().zip(gold_ink) {
                let ni = px == 0;
                inter += usize::from(ni && gi);
                union += usize::from(ni || gi);
            }
            let mut centre_errors = Vec::new();
            let mut missing_boxes = 0;
            let mut boxes_equal = 0;
            for &(token, xmin, ymin, xmax, ymax) in &g.boxes {
                let native: Option<&SymbolBox> = rendering.boxes.iter().find(|b| b.token == token);
                match native {
                    Some(b) => {
                        boxes_equal += usize::from(
                            (b.xmin, b.ymin, b.xmax, b.ymax) == (xmin, ymin, xmax, ymax),
                        );
                        let (nx, ny) = centre((b.xmin, b.ymin, b.xmax, b.ymax));
                        let (gx, gy) = centre((xmin, ymin, xmax, ymax));
                        centre_errors.push((token, ((nx - gx).powi(2) + (ny - gy).powi(2)).sqrt()));
                    }
                    None => missing_boxes += 1,
                }
            }
            Measured {
                index: g.index,
                iou: if union == 0 {
                    1.0
                } else {
                    inter as f64 / union as f64
                },
                page_ok: (rendering.page_height, rendering.page_width) == g.page,
                centre_errors,
                boxes_equal,
                pixels_differ: union - inter,
                missing_boxes,
            }
        })
        .collect()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Prints the distributions and returns (mean IoU, min IoU, pages equal, largest centre
/// distance, boxes missing).
fn report(measured: &[Measured]) -> (f64, f64, usize, f64, usize) {
    let mut ious: Vec<f64> = measured.iter().map(|m| m.iou).collect();
    ious.sort_by(f64::total_cmp);
    let mean = ious.iter().sum::<f64>() / ious.len() as f64;
    let pages_ok = measured.iter().filter(|m| m.page_ok).count();
    let mut errs: Vec<f64> = measured
        .iter()
        .flat_map(|m| m.centre_errors.iter().map(|e| e.1))
        .collect();
    errs.sort_by(f64::total_cmp);
    let missing: usize = measured.iter().map(|m| m.missing_boxes).sum();
    eprintln!(
        "ink IoU over {} formulas: mean {mean:.4}, min {:.4}, p5 {:.4}, median {:.4}; \
         page sizes equal {pages_ok}/{}; box centre distance over {} boxes: mean {:.3}, \
         p99 {:.3}, max {:.3}; boxes missing {missing}",
        ious.len(),
        ious[0],
        quantile(&ious, 0.05),
        quantile(&ious, 0.5),
        measured.len(),
        errs.len(),
        errs.iter().sum::<f64>() / errs.len() as f64,
        quantile(&errs, 0.99),
        errs[errs.len() - 1],
    );
    let below: Vec<u64> = measured
        .iter()
        .filter(|m| m.iou < 0.9)
        .map(|m| m.index)
        .collect();
    eprintln!("  formulas with IoU below 0.9: {below:?}");
    let mut worst: Vec<&Measured> = measured.iter().collect();
    worst.sort_by(|a, b| a.iou.total_cmp(&b.iou));
    let worst: Vec<(u64, f64, usize)> = worst
        .iter()
        .take(5)
        .map(|m| (m.index, m.iou, m.pixels_differ))
        .collect();
    eprintln!("  lowest IoU (index, IoU, differing pixels): {worst:.3?}");
    let identical = measured.iter().filter(|m| m.pixels_differ == 0).count();
    let differ: usize = measured.iter().map(|m| m.pixels_differ).sum();
    let equal: usize = measured.iter().map(|m| m.boxes_equal).sum();
    eprintln!(
        "  binarised images identical: {identical}/{}; differing pixels per formula: {:.2}; \
         boxes identical: {equal}/{}",
        measured.len(),
        differ as f64 / measured.len() as f64,
        errs.len()
    );
    let far: Vec<(u64, usize, f64)> = measured
        .iter()
        .flat_map(|m| {
            m.centre_errors
                .iter()
                .filter(|e| e.1 > 2.0)
                .map(move |e| (m.index, e.0, e.1))
        })
        .collect();
    eprintln!("  box centres more than 2 px apart (index, token, px): {far:?}");
    (mean, ious[0], pages_ok, errs[errs.len() - 1], missing)
}

#[test]
fn native_renderer_matches_pdflatex() {
    let (meta, inks) = load();
    let measured = measure(&meta, &inks);
    let (mean, min, pages_ok, max_centre, missing) = report(&measured);
    assert_eq!(pages_ok, measured.len(), "page sizes differ");
    assert!(mean >= 0.90, "mean ink IoU {mean}");
    assert!(min >= 0.75, "worst ink IoU {min}");
    assert_eq!(missing, 0);
    assert!(
        max_centre <= 2.0,
        "largest box-centre distance {max_centre}"
    );
}

/// The same measurement on a larger golden set made with `scripts/latex_goldens.py`:
/// `SPARLING_LATEX_GOLDENS=/tmp/test2000 cargo test -p sparling-data --release --test
/// latex_fidelity -- --ignored --nocapture` reads `/tmp/test2000.{json,png}`.
#[test]
#[ignore = "needs a golden set made with pdflatex, named by SPARLING_LATEX_GOLDENS"]
fn native_renderer_matches_a_larger_golden_set() {
    let stem = std::env::var("SPARLING_LATEX_GOLDENS").expect("SPARLING_LATEX_GOLDENS");
    let json = std::fs::read_to_string(format!("{stem}.json")).expect("golden json");
    let png = std::fs::read(format!("{stem}.png")).expect("golden png");
    let (meta, inks) = parse(&json, &png);
    let measured = measure(&meta, &inks);
    let (mean, min, pages_ok, max_centre, missing) = report(&measured);
    assert_eq!(pages_ok, measured.len(), "page sizes differ");
    assert!(mean >= 0.90 && min >= 0.75 && max_centre <= 2.0 && missing == 0);
}

#[test]
fn goldens_are_the_test_split() {
    let (meta, _) = load();
    assert_eq!(meta.seed, Split::TEST_SEED);
    let test = Dataset::new(LatexOcr::paper().expect("domain"), Split::Test);
    for g in meta.samples.iter().take(40) {
        let sample = test.get(g.index).expect("sample");
        assert_eq!(
            sample.token_names().join(" "),
            g.tokens,
            "index {}",
            g.index
        );
    }
}
