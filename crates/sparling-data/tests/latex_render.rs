//! The native LaTeX layout and rasteriser: exact TeX box dimensions, page sizes, ground-truth
//! boxes and the noise (docs/latex.md).

use sparling_data::UniformThreshold;
use sparling_data::latex::{LatexConfig, LatexOcr, LatexToken, NoiseTechnique, noise_seed};
use sparling_data::{Dataset, NumpyRandomState, Split};

fn tokens(names: &str) -> Vec<LatexToken> {
    names
        .split(' ')
        .map(|n| LatexToken::from_name(n).expect("token"))
        .collect()
}

/// `\setbox0\hbox{$\displaystyle …$}` measured by pdfTeX 3.141592653-2.6-1.40.24 (Debian's TeX Live
/// 2022) with `\usepackage{amsmath}`: (formula, `\ht`, `\dp`, `\wd` in sp). The first ten are
/// hand-picked (the five page-size examples below, scriptscript fractions, nested and large
/// parentheses), the rest are test formulas 0..40.
const TEX_BOXES: &[(&str, i64, i64, i64)] = &[
    (
        "FRAC( b FRACMID a SUB( 0 SUB) FRAC)",
        898467,
        547848,
        797705,
    ),
    ("0 SUB( 7 SUB)", 422343, 98303, 621684),
    ("x SUP( 2 SUP)", 566233, 0, 668559),
    ("PAREN( x PAREN)", 491520, 163840, 884282),
    ("a + b", 455111, 54613, 1428664),
    (
        "FRAC( 1 FRACMID FRAC( 2 FRACMID FRAC( x FRACMID PAREN( c PAREN) FRAC) FRAC) FRAC)",
        865699,
        953991,
        1039652,
    ),
    (
        "FRAC( PAREN( y SUP( 2 SUP) PAREN) FRACMID z FRAC)",
        1042025,
        449545,
        1396863,
    ),
    ("FRAC( y FRACMID 2 3 4 FRAC)", 725524, 449545, 1140329),
    (
        "PAREN( PAREN( PAREN( z PAREN) PAREN) PAREN)",
        491520,
        163840,
        1862776,
    ),
    (
        "FRAC( FRAC( PAREN( b SUB( y SUB) + 2 PAREN) FRACMID 1 FRAC) FRACMID 7 FRAC)",
        1158056,
        449545,
        1902112,
    ),
    (
        "FRAC( PAREN( PAREN( 8 SUP( 6 SUP) PAREN) 6 SUB( b SUB) PAREN) FRACMID 2 SUB( 7 SUB) + 7 SUB( 0 SUB) 3 SUP( x SUP) FRAC)",
        1042025,
        547848,
        2859281,
    ),
    (
        "FRAC( PAREN( 3 SUP( 1 SUP) 6 + z SUB( c SUB) PAREN) y SUB( 8 SUB) z SUB( 2 SUB) FRACMID c SUP( 8 SUP) + y FRAC)",
        1042025,
        576976,
        4403459,
    ),
    (
        "FRAC( b FRACMID a SUB( 0 SUB) FRAC)",
        898467,
        547848,
        797705,
    ),
    (
        "FRAC( PAREN( 5 PAREN) FRACMID a SUP( 1 SUP) FRAC)",
        934876,
        449545,
        994693,
    ),
    ("4 SUB( c SUB) + 6 SUP( z SUP)", 468111, 98303, 2025298),
    (
        "FRAC( FRAC( 1 SUB( 6 SUB) FRACMID c SUB( 8 SUB) FRAC) FRACMID 4 FRAC)",
        1111453,
        449545,
        831583,
    ),
    (
        "PAREN( 4 SUB( 3 SUB) PAREN) c SUP( 6 SUP) + 3 SUP( 7 SUP) x SUP( 9 SUP)",
        566233,
        163840,
        3909481,
    ),
    ("3 SUP( 7 SUP) + 0 SUB( c SUB)", 566233, 98303, 2017332),
    (
        "7 PAREN( b SUB( y SUB) 8 SUP( c SUP) PAREN)",
        491520,
        187504,
        2137562,
    ),
    ("7 + a SUP( a SUP) + 5 SUB( 5 SUB)", 468111, 98303, 3214801),
    ("PAREN( y SUB( y SUB) PAREN)", 491520, 187504, 1146052),
    ("2 + 5", 422343, 54613, 1456352),
    (
        "PAREN( a SUB( 5 SUB) 8 SUP( x SUP) 3 SUB( 7 SUB) 8 PAREN)",
        491520,
        163840,
        2757147,
    ),
    ("PAREN( 4 PAREN)", 491520, 163840, 837407),
    ("8 SUB( 6 SUB) 7 SUP( x SUP)", 468111, 98303, 1279321),
    (
        "FRAC( PAREN( y PAREN( c SUB( 0 SUB) PAREN) PAREN) FRACMID FRAC( y SUB( 3 SUB) 2 x SUP( x SUP) FRACMID 1 SUP( 9 SUP) FRAC) FRAC)",
        934876,
        741902,
        2208400,
    ),
    (
        "PAREN( 8 SUP( 4 SUP) 0 SUP( 9 SUP) 2 PAREN) z SUP( 1 SUP) PAREN( 2 PAREN)",
        566233,
        229380,
        3855255,
    ),
    (
        "PAREN( a SUP( x SUP) PAREN( 8 PAREN) 3 PAREN) b SUB( x SUB)",
        491520,
        163840,
        3290072,
    ),
    (
        "PAREN( z + x PAREN( y SUB( z SUB) PAREN) x PAREN)",
        491520,
        163840,
        3744880,
    ),
    (
        "c SUP( 3 SUP) + 6 SUB( x SUB) PAREN( 8 SUP( 3 SUP) c SUB( 1 SUB) PAREN) 4",
        566233,
        229380,
        4382418,
    ),
    (
        "PAREN( 5 SUP( 8 SUP) PAREN( 5 SUP( a SUP) + PAREN( 8 SUP( 2 SUP) PAREN) PAREN) PAREN) c SUB( 9 SUB) PAREN( z PAREN)",
        566233,
        229380,
        6239939,
    ),
    (
        "FRAC( a SUP( 8 SUP) FRACMID 1 SUB( 5 SUB) 0 SUB( c SUB) + b FRAC)",
        976821,
        547848,
        2455876,
    ),
    (
        "FRAC( x SUP( b SUP) FRACMID FRAC( PAREN( 9 SUP( 1 SUP) PAREN) FRACMID 3 FRAC) FRAC)",
        999758,
        815813,
        1241185,
    ),
    ("1 SUB( x SUB)", 422343, 98303, 657637),
    (
        "PAREN( PAREN( 4 SUB( 0 SUB) 5 SUB( 5 SUB) a PAREN) y SUP( 6 SUP) PAREN( b SUB( 9 SUB) + 2 SUB( 6 SUB) PAREN) PAREN)",
        566233,
        229380,
        6065196,
    ),
    (
        "FRAC( FRAC( 4 SUB( z SUB) + 9 SUB( 1 SUB) FRACMID 6 SUB( b SUB) FRAC) FRACMID c SUB( z SUB) FRAC)",
        1115458,
        547848,
        1765702,
    ),
    (
        "PAREN( PAREN( PAREN( 2 SUP( 8 SUP) c SUP( 8 SUP) PAREN) PAREN) PAREN( 0 SUP( 7 SUP) PAREN( 0 SUP( 0 SUP) + PAREN( 4 PAREN) PAREN) PAREN) PAREN)",
        566233,
        229380,
        7303261,
    ),
    ("PAREN( 8 SUB( 5 SUB) PAREN) c", 491520, 163840, 1524245),
    (
        "PAREN( x + 7 + PAREN( y SUP( 8 SUP) 7 SUB( 9 SUB) PAREN) PAREN) PAREN( 1 PAREN)",
        566233,
        229380,
        5712859,
    ),
    (
        "FRAC( PAREN( PAREN( a PAREN) c SUB( 1 SUB) + x PAREN) FRACMID PAREN( 6 SUB( 2 SUB) PAREN) FRAC)",
        934876,
        613385,
        3385538,
    ),
    (
        "PAREN( PAREN( 0 PAREN) y + 1 SUP( 6 SUP) + 8 PAREN( 0 SUP( 1 SUP) PAREN) PAREN) PAREN( 7 SUB( 8 SUB) PAREN)",
        566233,
        229380,
        7015842,
    ),
    (
        "FRAC( 1 SUP( 5 SUP) FRACMID PAREN( 6 PAREN) FRAC)",
        976821,
        613385,
        994693,
    ),
    ("3 SUP( 4 SUP) 7 SUP( 2 SUP)", 566233, 0, 1243368),
    (
        "FRAC( 1 SUB( 8 SUB) a FRACMID b SUP( x SUP) 9 SUB( 0 SUB) 7 SUB( 6 SUB) FRAC)",
        865699,
        547848,
        2011868,
    ),
    (
        "FRAC( 5 SUP( b SUP) FRACMID x SUP( 8 SUP) + 5 SUB( 4 SUB) FRAC)",
        999758,
        547848,
        2248519,
    ),
    (
        "FRAC( PAREN( 4 SUP( 2 SUP) PAREN( c 7 SUP( y SUP) PAREN) PAREN) FRACMID PAREN( PAREN( x PAREN) c SUP( 4 SUP) PAREN) FRAC)",
        1042025,
        613385,
        2924977,
    ),
    ("5 SUB( x SUB)", 422343, 98303, 657637),
    (
        "6 SUB( c SUB) 3 SUB( 7 SUB) PAREN( 0 + z SUB( y SUB) PAREN) a SUB( 9 SUB)",
        491520,
        187504,
        4333396,
    ),
    (
        "3 SUP( 6 SUP) + y SUP( 2 SUP) + PAREN( PAREN( z PAREN) + a SUB( c SUB) PAREN)",
        566233,
        163840,
        5629924,
    ),
    (
        "FRAC( FRAC( PAREN( 6 SUP( 6 SUP) PAREN) FRACMID 2 SUB( 0 SUB) FRAC) FRACMID PAREN( 1 SUP( 4 SUP) PAREN) FRAC)",
        1405637,
        613385,
        1341309,
    ),
];

#[test]
fn layout_matches_tex_to_the_scaled_point() {
    let domain = LatexOcr::paper().expect("domain");
    for &(formula, ht, dp, wd) in TEX_BOXES {
        let layout = domain.layout(&tokens(formula)).expect("layout");
        assert_eq!(
            (layout.height, layout.depth, layout.width),
            (ht, dp, wd),
            "{formula}"
        );
    }
}

#[test]
fn page_sizes_of_the_reference_examples() {
    // pdflatex on the authors' template (`latex_decompiler/render.py`), then pdftoppm -r 200:
    // image sizes as (rows, columns).
    let domain = LatexOcr::paper().expect("domain");
    for (formula, size) in [
        ("FRAC( b FRACMID a SUB( 0 SUB) FRAC)", (78, 51)),
        ("0 SUB( 7 SUB)", (39, 43)),
        ("x SUP( 2 SUP)", (41, 45)),
        ("PAREN( x PAREN)", (45, 54)),
        ("a + b", (39, 77)),
    ] {
        assert_eq!(
            domain.page_size(&tokens(formula)).expect("size"),
            size,
            "{formula}"
        );
    }
}

#[test]
fn boxes_follow_the_glyphs() {
    let domain = LatexOcr::paper().expect("domain");
    let toks = tokens("FRAC( b FRACMID a SUB( 0 SUB) FRAC)");
    let r = domain.render(&toks).expect("render");
    // FRAC( (the bar), b, a, 0: every labelled token, in token order.
    let labelled: Vec<usize> = r.boxes.iter().map(|b| b.token).collect();
    assert_eq!(labelled, vec![0, 1, 3, 5]);
    let bar = r.boxes[0];
    assert_eq!(
        bar.ymin, bar.ymax,
        "a 0.4 pt bar is one pixel row at 200 dpi"
    );
    let (b, a, zero) = (r.boxes[1], r.boxes[2], r.boxes[3]);
    assert!(
        b.ymax < bar.ymin && a.ymin > bar.ymax,
        "numerator above, denominator below"
    );
    assert!(
        zero.xmin > a.xmax - 2 && zero.ymax > a.ymax,
        "subscript right of and below a"
    );
    // Every box pixel range holds ink of the clean image.
    let clean = r.binarize(0.75, 120, 360);
    for bx in &r.boxes {
        let ink = (bx.ymin..=bx.ymax)
            .flat_map(|y| (bx.xmin..=bx.xmax).map(move |x| (y, x)))
            .filter(|&(y, x)| clean.get(y, x) == Some(false))
            .count();
        assert!(ink > 0, "{bx:?}");
    }
    // Padding by 2 clips at the canvas.
    let (rows, cols) = bar.padded(2, 120, 360);
    assert_eq!(rows, bar.ymin - 2..bar.ymax + 3);
    assert_eq!(cols, bar.xmin - 2..bar.xmax + 3);
}

#[test]
fn wide_formulas_are_cropped_at_the_centre() {
    let domain = LatexOcr::paper().expect("domain");
    // 24 digits are wider than 360 px (5 pt = 13.8 px each).
    let long = vec!["8"; 30].join(" ");
    let toks = tokens(&long);
    let (h, w) = domain.page_size(&toks).expect("size");
    assert!(w > 360 && h < 120);
    let r = domain.render(&toks).expect("render");
    // The outermost digits are cut off: no box, like the reference's empty colour mask.
    assert!(r.boxes.len() < toks.len());
    assert!(r.boxes.iter().all(|b| b.xmax < 360));
}

#[test]
fn noise_is_the_reference_stream() {
    // scripts/latex_reference.py: RandomState(noise_seed).rand(120, 360) < 0.25.
    for (seed, index, count) in [(1, 0, 10_859usize), (-1, 5, 10_871), (-2, 0, 10_782)] {
        let mut rng = NumpyRandomState::new(noise_seed(seed, index));
        let mut hits = vec![false; 120 * 360];
        UniformThreshold::new(0.25).apply(&mut rng, &mut hits, |h, hit| *h = hit);
        assert_eq!(hits.iter().filter(|&&h| h).count(), count);
    }
    // The sample's image is clean & !noise.
    let test = Dataset::new(LatexOcr::paper().expect("domain"), Split::Test);
    let s = test.get(0).expect("sample");
    let mut rng = NumpyRandomState::new(noise_seed(-2, 0));
    let mut noise = vec![false; 120 * 360];
    UniformThreshold::new(0.25).apply(&mut rng, &mut noise, |h, hit| *h = hit);
    assert_eq!(s.noise_seed, Some(noise_seed(-2, 0)));
    for ((&img, &clean), &n) in s.image.pixels().iter().zip(s.clean.pixels()).zip(&noise) {
        assert_eq!(img, u8::from(clean == 1 && !n));
    }
    // About 1.4 % ink before noise, mean ≈ 0.74 after (the authors' noisy images in
    // `tests/reference_data/dset_regression_latex.npz`, kavigupta/sparling-repro, average 0.739).
    let ink = s.clean.pixels().iter().filter(|&&p| p == 0).count() as f64 / 43_200.0;
    assert!(ink > 0.005 && ink < 0.05, "{ink}");
    let mean = s.image.to_f32().iter().sum::<f32>() / 43_200.0;
    assert!((mean - 0.74).abs() < 0.02, "{mean}");
}

#[test]
fn motif_eval_split_is_the_test_set() {
    let domain = LatexOcr::paper().expect("domain");
    let test = Dataset::new(domain.clone(), Split::Test)
        .get(3)
        .expect("test");
    let motif = Dataset::new(domain, Split::MotifEval)
        .get(3)
        .expect("motif");
    assert_eq!(test, motif);
}

#[test]
fn flip_noise_and_config_errors() {
    let flip = LatexOcr::new(LatexConfig {
        noise_technique: NoiseTechnique::Flip,
        ..LatexConfig::default()
    })
    .expect("domain");
    let s = Dataset::new(flip, Split::Val).get(0).expect("sample");
    let flipped = s
        .image
        .pixels()
        .iter()
        .zip(s.clean.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!((flipped as f64 / 43_200.0 - 0.25).abs() < 0.02);
    assert!(
        LatexOcr::new(LatexConfig {
            min_length: 0,
            ..LatexConfig::default()
        })
        .is_err()
    );
    let domain = LatexOcr::paper().expect("domain");
    assert!(domain.render(&tokens("x +")).is_err());
}

#[test]
fn overlay_and_png_export() {
    use sparling_data::latex::export::{class_colour, render_overlay, to_gray};
    let test = Dataset::new(LatexOcr::paper().expect("domain"), Split::Test);
    let s = test.get(2).expect("sample");
    let gray = to_gray(&s.image);
    assert_eq!((gray.width(), gray.height()), (360, 120));
    // White where the model input is 1.
    let (x, y) = (0..360 * 120)
        .map(|i| (i % 360, i / 360))
        .find(|&(x, y)| s.image.get(y, x) == Some(true))
        .expect("a white pixel");
    assert_eq!(gray.get_pixel(x as u32, y as u32).0, [255]);
    let overlay = render_overlay(&s, 4);
    assert_eq!((overlay.width(), overlay.height()), (1440, 480));
    let b = s.symbols[0];
    let corner = overlay.get_pixel(b.xmin as u32 * 4 - 1, b.ymin as u32 * 4 - 1);
    assert_eq!(corner.0, class_colour(b.class.id()));
}

#[test]
fn sample_for_split_continues_the_formula_stream() {
    use sparling_data::{Generator, compute_seed};
    let domain = LatexOcr::paper().expect("domain");
    let mut rng = NumpyRandomState::new(compute_seed(-2, 0));
    let s = domain
        .sample_for_split(Split::Test, &mut rng)
        .expect("sample");
    let reference = Dataset::new(domain, Split::Test).get(0).expect("sample");
    assert_eq!(s.tokens, reference.tokens);
    assert_eq!(s.clean, reference.clean);
    assert_eq!(s.noise_seed, None);
    assert_ne!(s.image, reference.image, "noise from another stream");
    let speckled = s
        .clean
        .pixels()
        .iter()
        .zip(s.image.pixels())
        .filter(|(c, i)| c != i)
        .count() as f64
        / s.clean.pixels().iter().filter(|&&c| c == 1).count() as f64;
    assert!((speckled - 0.25).abs() < 0.02, "{speckled}");
}
