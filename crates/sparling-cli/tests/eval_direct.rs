//! `sparling eval --direct`: the single-digit motif evaluation of a DigitCircle run.

#![allow(clippy::unwrap_used)]

mod common;

use common::{sparling, stdout, succeeded, train_tiny};

#[test]
fn direct_evaluation_counts_every_single_digit_image() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train_tiny(&run, 16);
    let json = dir.path().join("report.json");
    let output = sparling()
        .args([
            "eval",
            "--samples",
            "30",
            "--batch-size",
            "7",
            "--direct",
            "--run",
        ])
        .arg(&run)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    succeeded(&output);
    assert!(stdout(&output).contains("30 single-digit images"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let direct = &report["direct"];
    let counts: Vec<Vec<u64>> = serde_json::from_value(direct["counts"].clone()).unwrap();
    assert_eq!(counts.len(), 10, "one row per channel");
    assert!(
        counts.iter().all(|row| row.len() == 10),
        "one column per digit"
    );
    assert_eq!(counts.iter().flatten().sum::<u64>(), 30);
    let credited: u64 = counts.iter().map(|r| r.iter().max().unwrap()).sum();
    let error = direct["error"].as_f64().unwrap();
    assert!((error - (1.0 - credited as f64 / 30.0)).abs() < 1e-12);
}
