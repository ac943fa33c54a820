//! `sparling generate latex` end to end.

#![allow(clippy::unwrap_used)]

mod common;

use common::{sparling, stderr};

#[test]
fn generate_latex_writes_pngs_boxes_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("latex");
    let status = sparling()
        .args([
            "generate",
            "latex",
            "--split",
            "test",
            "--count",
            "3",
            "--overlay",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
    for i in 0..3 {
        for suffix in ["", "_clean", "_overlay"] {
            assert!(
                out.join(format!("{i:05}{suffix}.png")).is_file(),
                "{i} {suffix}"
            );
        }
    }
    let labels = std::fs::read_to_string(out.join("labels.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = labels
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let first = &lines[0];
    assert_eq!(first["split"], "test");
    // Test formula 0 (numpy reference, scripts/latex_reference.py) and its seeds.
    assert_eq!(
        first["code"],
        "\\frac{\\left(\\left(8^{6}\\right)6_{b}\\right)}{2_{7}+7_{0}3^{x}}"
    );
    assert_eq!(first["formula_seed"], 4_270_960_298u64);
    assert_eq!(first["noise_seed"], 763_268_063u64);
    let tokens = first["tokens"].as_array().unwrap();
    let ids = first["token_ids"].as_array().unwrap();
    assert_eq!(ids.len(), tokens.len() + 2);
    assert_eq!(ids[0], 0);
    assert_eq!(ids[1], 13, "FRAC( is id 13");
    assert_eq!(ids[ids.len() - 1], 1);
    // 16 labelled tokens: the bar, 4 parentheses, 10 symbols and +; pdflatex's colour
    // renders put the bar on row 63 from column 123 to 236.
    let symbols = first["symbols"].as_array().unwrap();
    assert_eq!(symbols.len(), 16);
    assert_eq!(symbols[0]["class"], "FRACBAR");
    assert_eq!(symbols[0]["class_id"], 13);
    assert_eq!(symbols[0]["box"], serde_json::json!([123, 63, 236, 63]));
    let image = image_size(&out.join("00000.png"));
    assert_eq!(image, (360, 120));
    assert_eq!(image_size(&out.join("00000_overlay.png")), (1440, 480));
}

fn image_size(path: &std::path::Path) -> (u32, u32) {
    // PNG IHDR: width and height as big-endian u32 at bytes 16..24.
    let bytes = std::fs::read(path).unwrap();
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn generate_latex_rejects_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let output = sparling()
        .args(["generate", "latex", "--scale", "0", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--scale"));
    let output = sparling()
        .args(["generate", "latex", "--backend", "typst", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
}
