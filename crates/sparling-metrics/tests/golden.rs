//! Metrics against numpy / scipy.
//!
//! `tests/data/metrics_golden.json` was produced by `scripts/digit_circle_reference.py metrics`
//! (numpy 2.4.6, scipy 1.17.1): `bootstrap_mean` from `pixel_art/utils/bootstrap.py` and
//! `compute_ce` from `pixel_art/analysis/evaluate_motifs.py` on random count matrices.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use sparling_metrics::{
    BootstrapConfig, Categorized, ConfusionMatrix, SiteOutcome, bootstrap_mean_ci,
};

fn golden() -> Value {
    serde_json::from_str(include_str!("data/metrics_golden.json")).unwrap()
}

fn f(bits: &Value) -> f64 {
    f64::from_bits(bits.as_u64().unwrap())
}

#[test]
fn bootstrap_matches_numpy_bit_for_bit() {
    for case in golden()["bootstrap"].as_array().unwrap() {
        let values: Vec<f64> = case["values"].as_array().unwrap().iter().map(f).collect();
        let ci = bootstrap_mean_ci(&values, &BootstrapConfig::default()).unwrap();
        assert_eq!(ci.low.to_bits(), f(&case["low"]).to_bits(), "{values:?}");
        assert_eq!(ci.high.to_bits(), f(&case["high"]).to_bits(), "{values:?}");
        assert!(ci.low <= ci.mean && ci.mean <= ci.high);
    }
}

#[test]
fn hungarian_ce_matches_scipy() {
    for case in golden()["hungarian_ce"].as_array().unwrap() {
        let rows = case["matrix"].as_array().unwrap();
        let classes = rows.len();
        let channels = rows[0].as_array().unwrap().len();
        let mut sites = Vec::new();
        for (d, row) in rows.iter().enumerate() {
            for (c, n) in row.as_array().unwrap().iter().enumerate() {
                for _ in 0..n.as_u64().unwrap() {
                    sites.push(SiteOutcome {
                        class: d,
                        channel: Some(c),
                    });
                }
            }
        }
        let mut m = ConfusionMatrix::new(classes, channels);
        m.add(&Categorized {
            sites,
            false_positives: vec![0; channels],
        })
        .unwrap();
        assert_eq!(
            m.ce_hungarian().to_bits(),
            f(&case["ce"]).to_bits(),
            "{classes}x{channels}"
        );
    }
}
