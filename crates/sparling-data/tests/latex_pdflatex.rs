//! The pdflatex backend reproduces the golden pipeline (`scripts/latex_goldens.py`) exactly.
//! Needs pdflatex and pdftoppm, so it is ignored by default:
//! `cargo test -p sparling-data --test latex_pdflatex -- --ignored`.

use serde::Deserialize;
use sparling_data::latex::LatexToken;
use sparling_data::latex::pdflatex::PdflatexRenderer;

#[derive(Deserialize)]
struct Goldens {
    samples: Vec<Golden>,
}

#[derive(Deserialize)]
struct Golden {
    tokens: String,
    page: (usize, usize),
    boxes: Vec<(usize, usize, usize, usize, usize)>,
}

#[test]
#[ignore = "needs pdflatex (texlive-latex-base/-recommended/-extra) and pdftoppm (poppler-utils)"]
fn backend_matches_the_python_goldens() {
    let meta: Goldens =
        serde_json::from_str(include_str!("data/latex_goldens.json")).expect("golden json");
    let png = image::load_from_memory(include_bytes!("data/latex_goldens.png"))
        .expect("golden png")
        .to_luma8();
    let count = 40;
    let formulas: Vec<Vec<LatexToken>> = meta.samples[..count]
        .iter()
        .map(|g| {
            g.tokens
                .split(' ')
                .map(|n| LatexToken::from_name(n).expect("token"))
                .collect()
        })
        .collect();
    let renderings = PdflatexRenderer::default()
        .render(&formulas)
        .expect("pdflatex backend");
    assert_eq!(renderings.len(), count);
    for (k, (r, g)) in renderings.iter().zip(&meta.samples).enumerate() {
        assert_eq!((r.page_height, r.page_width), g.page, "formula {k}");
        let ink = r.binarize(0.75, 120, 360);
        let gold = &png.as_raw()[k * 43_200..(k + 1) * 43_200];
        for (&px, &gv) in ink.pixels().iter().zip(gold) {
            assert_eq!(px == 0, gv < 128, "formula {k}");
        }
        let boxes: Vec<(usize, usize, usize, usize, usize)> = r
            .boxes
            .iter()
            .map(|b| (b.token, b.xmin, b.ymin, b.xmax, b.ymax))
            .collect();
        assert_eq!(boxes, g.boxes, "formula {k}");
    }
}

#[test]
#[ignore = "needs pdflatex (texlive-latex-base/-recommended/-extra) and pdftoppm (poppler-utils)"]
fn pdflatex_backend_through_the_dataset() {
    use sparling_data::latex::{LatexBackend, LatexOcr};
    use sparling_data::{Dataset, Split};
    let png = image::load_from_memory(include_bytes!("data/latex_goldens.png"))
        .expect("golden png")
        .to_luma8();
    let domain = LatexOcr::paper()
        .expect("domain")
        .with_backend(LatexBackend::Pdflatex(PdflatexRenderer::default()))
        .expect("backend");
    let native = Dataset::new(LatexOcr::paper().expect("domain"), Split::Test);
    let test = Dataset::new(domain, Split::Test);
    for index in 0..3u64 {
        let s = test.get(index).expect("sample");
        let n = native.get(index).expect("native sample");
        assert_eq!(s.tokens, n.tokens);
        assert_eq!(s.noise_seed, n.noise_seed);
        let gold = &png.as_raw()[index as usize * 43_200..(index as usize + 1) * 43_200];
        let differ = s
            .clean
            .pixels()
            .iter()
            .zip(gold)
            .filter(|(px, gv)| (**px == 0) != (**gv < 128))
            .count();
        let native_differ = n
            .clean
            .pixels()
            .iter()
            .zip(gold)
            .filter(|(px, gv)| (**px == 0) != (**gv < 128))
            .count();
        assert_eq!(
            differ, 0,
            "index {index}: native differs in {native_differ}"
        );
    }
}
