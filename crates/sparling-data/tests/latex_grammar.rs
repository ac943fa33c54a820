//! The LaTeX grammar sampler against real numpy (the authors' `latex_decompiler/latex_cfg.py`
//! and `cfg.py`, kavigupta/sparling-repro).
//!
//! Vectors from `scripts/latex_reference.py` (numpy 2.4.6): the authors' `latex_cfg` grammar and
//! `CFG.rejection_sample` on `RandomState(compute_seed(seed, idx))`.

use sparling_data::latex::{LatexGrammar, LatexOcr, LatexToken, latex_code};
use sparling_data::{Dataset, NumpyRandomState, Split, compute_seed};

/// (dataset seed, index, RandomState seed, tokens, derivations drawn, next `randint(2**32)`
/// of the stream after sampling).
const VECTORS: &[(i64, u64, u32, &str, u64, u64)] = &[
    (
        1,
        0,
        3993328244,
        "PAREN( 6 SUP( x SUP) 5 SUB( b SUB) 8 + PAREN( PAREN( 3 SUP( 7 SUP) a SUP( x SUP) PAREN) PAREN) PAREN)",
        198,
        3558866883,
    ),
    (
        1,
        1,
        635502921,
        "PAREN( PAREN( 7 PAREN) PAREN) + 2 SUB( 2 SUB) + a SUB( z SUB)",
        43,
        4266617699,
    ),
    (1, 2, 2448033992, "0 SUB( 7 SUB)", 1, 1669834862),
    (
        1,
        3,
        3186691054,
        "FRAC( 9 SUB( b SUB) FRACMID c SUB( z SUB) 5 SUP( 0 SUP) FRAC)",
        4,
        1859339123,
    ),
    (
        1,
        4,
        30995263,
        "FRAC( PAREN( 1 SUP( c SUP) + a + z SUP( 8 SUP) PAREN( a SUP( y SUP) PAREN) PAREN) FRACMID 3 SUP( 1 SUP) FRAC)",
        328,
        2703596228,
    ),
    (
        1,
        5,
        3389668707,
        "c SUP( 5 SUP) 5 SUP( a SUP) c SUP( z SUP) + 0 + 3 SUB( 7 SUB) a 6 SUP( 7 SUP)",
        78,
        2596163073,
    ),
    (1, 6, 2802835390, "PAREN( 3 PAREN)", 37, 1596496961),
    (
        1,
        7,
        3043930170,
        "FRAC( FRAC( 0 FRACMID FRAC( 9 SUB( c SUB) x FRACMID 7 SUB( 7 SUB) FRAC) FRAC) FRACMID 4 SUB( z SUB) FRAC)",
        155,
        1365408080,
    ),
    (
        1,
        8,
        654991288,
        "FRAC( PAREN( 4 SUP( 3 SUP) PAREN) FRACMID x SUP( 6 SUP) FRAC)",
        89,
        1660012732,
    ),
    (
        1,
        9,
        1092315017,
        "PAREN( 2 SUP( x SUP) + 5 SUP( 9 SUP) PAREN)",
        14,
        3481800802,
    ),
    (
        1,
        10,
        2962371344,
        "FRAC( 3 SUP( 9 SUP) + 3 + 0 SUP( z SUP) FRACMID 3 SUB( 5 SUB) PAREN( 8 SUP( c SUP) PAREN) FRAC)",
        18,
        611779444,
    ),
    (
        1,
        11,
        268929825,
        "FRAC( y SUB( 2 SUB) FRACMID 3 SUB( a SUB) 9 SUP( 2 SUP) + 3 + 3 FRAC)",
        6,
        3808068896,
    ),
    (
        -1,
        0,
        2072014212,
        "4 PAREN( 6 SUB( c SUB) PAREN) PAREN( c SUP( b SUP) PAREN) 3 SUP( 0 SUP)",
        51,
        2908173807,
    ),
    (
        -1,
        1,
        2627003873,
        "PAREN( z SUP( a SUP) 7 SUB( z SUB) PAREN) x SUP( 2 SUP)",
        2,
        3014965856,
    ),
    (
        -1,
        2,
        909039626,
        "FRAC( PAREN( c SUB( y SUB) PAREN) 4 FRACMID PAREN( x 9 PAREN) + 4 + 4 SUP( y SUP) FRAC)",
        74,
        3878710517,
    ),
    (
        -1,
        3,
        602441190,
        "FRAC( b FRACMID 4 SUB( 3 SUB) FRAC)",
        13,
        3895126980,
    ),
    (-1, 4, 774144330, "1 SUB( 8 SUB) + 0 7", 70, 3569311367),
    (-1, 5, 1011555469, "4 3", 414, 3998363774),
    (-1, 6, 3906125364, "PAREN( 8 PAREN)", 28, 2601506283),
    (-1, 7, 3811514873, "a SUP( 3 SUP) + 3", 7, 1327824672),
    (
        -1,
        8,
        1221985720,
        "PAREN( b SUP( x SUP) 4 SUB( c SUB) + PAREN( 1 PAREN) PAREN) + 6 SUP( 2 SUP)",
        65,
        1573139270,
    ),
    (
        -1,
        9,
        3455411133,
        "8 SUB( 5 SUB) + c SUB( 7 SUB)",
        7,
        1773413419,
    ),
    (
        -1,
        10,
        4180294026,
        "FRAC( 3 SUB( z SUB) FRACMID 7 0 + 2 SUB( 4 SUB) + 8 SUP( 1 SUP) + y SUB( b SUB) FRAC)",
        79,
        3518614827,
    ),
    (
        -1,
        11,
        1997061408,
        "FRAC( 3 SUB( x SUB) 7 SUB( b SUB) + 6 8 SUP( z SUP) FRACMID z y FRAC)",
        69,
        4257409351,
    ),
    (
        -2,
        0,
        4270960298,
        "FRAC( PAREN( PAREN( 8 SUP( 6 SUP) PAREN) 6 SUB( b SUB) PAREN) FRACMID 2 SUB( 7 SUB) + 7 SUB( 0 SUB) 3 SUP( x SUP) FRAC)",
        24,
        3344575170,
    ),
    (
        -2,
        1,
        1847193206,
        "FRAC( PAREN( 3 SUP( 1 SUP) 6 + z SUB( c SUB) PAREN) y SUB( 8 SUB) z SUB( 2 SUB) FRACMID c SUP( 8 SUP) + y FRAC)",
        341,
        3134170087,
    ),
    (
        -2,
        2,
        1750015260,
        "FRAC( b FRACMID a SUB( 0 SUB) FRAC)",
        9,
        2426569510,
    ),
    (
        -2,
        3,
        2677011205,
        "FRAC( PAREN( 5 PAREN) FRACMID a SUP( 1 SUP) FRAC)",
        1,
        4176350339,
    ),
    (
        -2,
        4,
        2047550234,
        "4 SUB( c SUB) + 6 SUP( z SUP)",
        51,
        127154591,
    ),
    (
        -2,
        5,
        2612388326,
        "FRAC( FRAC( 1 SUB( 6 SUB) FRACMID c SUB( 8 SUB) FRAC) FRACMID 4 FRAC)",
        127,
        824717737,
    ),
    (
        -2,
        6,
        657118941,
        "PAREN( 4 SUB( 3 SUB) PAREN) c SUP( 6 SUP) + 3 SUP( 7 SUP) x SUP( 9 SUP)",
        5,
        3239293758,
    ),
    (
        -2,
        7,
        1067956843,
        "3 SUP( 7 SUP) + 0 SUB( c SUB)",
        20,
        675421148,
    ),
    (
        -2,
        8,
        2094950016,
        "7 PAREN( b SUB( y SUB) 8 SUP( c SUP) PAREN)",
        22,
        3916601159,
    ),
    (
        -2,
        9,
        1462891460,
        "7 + a SUP( a SUP) + 5 SUB( 5 SUB)",
        11,
        2909208325,
    ),
    (
        -2,
        10,
        1819118884,
        "PAREN( y SUB( y SUB) PAREN)",
        29,
        2312479313,
    ),
    (-2, 11, 2849204740, "2 + 5", 52, 2706881329),
];

#[test]
fn rejection_sampler_is_bit_exact() {
    let grammar = LatexGrammar::paper();
    for &(seed, index, rng_seed, tokens, attempts, next) in VECTORS {
        assert_eq!(compute_seed(seed, index), rng_seed);
        let mut rng = NumpyRandomState::new(rng_seed);
        let (got, stats) = grammar.rejection_sample(&mut rng, 1, 30).expect("sample");
        let names: Vec<&str> = got.iter().map(|t| t.name()).collect();
        assert_eq!(names.join(" "), tokens, "seed {seed} index {index}");
        assert_eq!(stats.attempts, attempts, "seed {seed} index {index}");
        assert_eq!(stats.target_len, got.len());
        // The stream is left exactly where numpy leaves it.
        assert_eq!(rng.randint(0, 1 << 32).ok(), Some(next as i64));
    }
}

#[test]
fn datasets_draw_the_reference_formulas() {
    let domain = LatexOcr::paper().expect("domain");
    for (split, seed) in [
        (Split::Train { seed: 1 }, 1),
        (Split::Val, -1),
        (Split::Test, -2),
    ] {
        let data = Dataset::new(domain.clone(), split);
        for &(s, index, _, tokens, _, _) in VECTORS.iter().filter(|v| v.0 == seed).take(4) {
            assert_eq!(s, seed);
            let sample = data.get(index).expect("sample");
            assert_eq!(sample.token_names().join(" "), tokens);
            assert_eq!(sample.code, latex_code(&sample.tokens));
            let ids = sample.token_ids();
            assert_eq!(ids.len(), sample.tokens.len() + 2);
            let back: Vec<LatexToken> = ids[1..ids.len() - 1]
                .iter()
                .map(|&id| LatexToken::from_vocab_id(id).expect("id"))
                .collect();
            assert_eq!(back, sample.tokens);
        }
    }
    // Seed 1, index 0 from the table above, and its LaTeX code.
    let first = Dataset::new(domain, Split::Train { seed: 1 })
        .get(0)
        .expect("sample");
    assert_eq!(
        first.code,
        "\\left(6^{x}5_{b}8+\\left(\\left(3^{7}a^{x}\\right)\\right)\\right)"
    );
}

/// Measured with numpy (`scripts/latex_reference.py`) on test indices 0..2000: 30,954 tokens,
/// 18,996 visible characters (FRACBAR once per fraction), 170,715 derivations, 9.64 visible
/// characters on average over the first 200.
#[test]
fn grammar_statistics_match_the_reference() {
    let grammar = LatexGrammar::paper();
    let (mut tokens, mut visible, mut attempts, mut fracs) = (0usize, 0usize, 0u64, 0usize);
    let mut visible_200 = 0usize;
    for idx in 0..2000 {
        let mut rng = NumpyRandomState::new(compute_seed(-2, idx));
        let (toks, stats) = grammar.rejection_sample(&mut rng, 1, 30).expect("sample");
        let v = toks.iter().filter(|t| t.symbol_class().is_some()).count();
        tokens += toks.len();
        visible += v;
        attempts += stats.attempts;
        fracs += toks.iter().filter(|t| **t == LatexToken::FracOpen).count();
        if idx < 200 {
            visible_200 += v;
        }
    }
    assert_eq!(tokens, 30_954);
    assert_eq!(visible, 18_996);
    assert_eq!(attempts, 170_715);
    assert_eq!(fracs, 1225);
    assert_eq!(visible_200, 1928);
    assert!((tokens as f64 / 2000.0 - 15.48).abs() < 0.01);
    assert!((visible as f64 / 2000.0 - 9.50).abs() < 0.01);
}
