//! `sparling train / eval / motifs` on the LaTeX-OCR domain, with the `tiny` preset.

#![allow(clippy::unwrap_used)]

mod common;

use common::{sparling, stderr, stdout, succeeded};
use std::path::Path;

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn tiny_latex_run_trains_evaluates_and_draws_motifs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");

    let output = sparling()
        .args([
            "train",
            "latex",
            "--preset",
            "cpu",
            "--dump-config",
            "--out",
        ])
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let config = stdout(&output);
    assert!(
        config.contains("name = \"latex\"")
            && config.contains("patch = 8")
            && config.contains("map_stride = 4"),
        "{config}"
    );
    assert!(!run.exists(), "--dump-config writes nothing");

    let output = sparling()
        .args(["train", "latex", "--preset", "tiny", "--max-samples", "16"])
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["samples"], 16);
    assert_eq!(summary["preset"], "tiny");

    let output = sparling()
        .args(["eval", "--samples", "3", "--batch-size", "2", "--run"])
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let printed = stdout(&output);
    assert!(
        printed.contains("many-to-one")
            && printed.contains("E2EE edit")
            // The tiny model's maps have one cell per 2x2 pixels: both densities are printed.
            && printed.contains("per pixel")
            && printed.contains("2x2-pixel map cell"),
        "{printed}"
    );

    let pictures = dir.path().join("motifs");
    let output = sparling()
        .args([
            "motifs",
            "--count",
            "2",
            "--confusion-samples",
            "3",
            "--scale",
            "2",
            "--run",
        ])
        .arg(&run)
        .arg("--out")
        .arg(&pictures)
        .output()
        .unwrap();
    succeeded(&output);
    assert!(stdout(&output).contains("channel -> class (majority)"));
    assert_eq!(
        file_names(&pictures),
        ["confusion.svg", "motifs-000.png", "motifs-001.png"]
    );
    // The pictures are the 120x360 images at scale 2 (PNG IHDR: width, height at 16..24).
    let png = std::fs::read(pictures.join("motifs-000.png")).unwrap();
    let size = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!(size, (720, 240));
    // The matrix's rows are the 20 symbol classes by name.
    let svg = std::fs::read_to_string(pictures.join("confusion.svg")).unwrap();
    assert!(
        svg.contains("FRACBAR") && svg.contains("true symbol"),
        "{svg}"
    );

    // LaTeX renders its own images: --data is for audio only.
    let output = sparling()
        .args(["train", "latex", "--preset", "tiny", "--data", "x", "--out"])
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--data"));
}
