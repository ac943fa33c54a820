//! `sparling eval --direct`: the single-digit motif evaluation of a DigitCircle run, and of a
//! run of the direct baseline.

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

/// A run of the direct baseline (the motif model alone, trained on single digits) has no
/// bottleneck and no trained downstream model: `sparling eval` gives it the single-digit
/// evaluation only.
#[test]
fn a_direct_baseline_run_gets_only_the_single_digit_evaluation() {
    use sparling_models::presets::{digit_circle_direct, digit_circle_tiny};
    let dir = tempfile::tempdir().unwrap();
    let mut config = digit_circle_direct(digit_circle_tiny(1));
    config.training.batch_size = 8;
    config.training.val_every = 8;
    config.training.val_samples = 8;
    config.training.max_samples = 16;
    let file = dir.path().join("direct.toml");
    std::fs::write(&file, config.to_toml().unwrap()).unwrap();
    let run = dir.path().join("run");
    let output = sparling()
        .args(["train", "digit-circle", "--config"])
        .arg(&file)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let output = sparling()
        .args(["eval", "--samples", "20", "--run"])
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    assert!(stdout(&output).contains("20 single-digit images"));
    let report = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("eval-")
        })
        .expect("a report in the run directory");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["samples"], 16);
    assert_eq!(
        report["direct"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap())
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        20
    );
    assert!(report.get("fpe").is_none(), "{report}");
}
