//! Runs the `sparling` binary end to end.

#![allow(clippy::unwrap_used)]

mod common;

use common::{sparling, stderr, stdout};

#[test]
fn generate_digit_circle_writes_pngs_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples");
    let status = sparling()
        .args([
            "generate",
            "digit-circle",
            "--split",
            "motif-eval",
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
        assert!(out.join(format!("{i:05}.png")).is_file());
        assert!(out.join(format!("{i:05}_overlay.png")).is_file());
    }
    let labels = std::fs::read_to_string(out.join("labels.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = labels
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // Values from the authors' numpy generator (`scripts/digit_circle_reference.py`):
    // RandomState(0) is "376" with boxes centred at (14,37), (43,16), (82,49).
    assert_eq!(lines[0]["label"], "376");
    assert_eq!(lines[0]["split"], "motif-eval");
    assert_eq!(lines[0]["motifs"][0]["center"], serde_json::json!([14, 37]));
    assert_eq!(lines[0]["motifs"][0]["rows"], serde_json::json!([8, 20]));
    assert_eq!(lines[1]["label"], "27946");
}

#[test]
fn generate_train_split_uses_seed_and_start() {
    let dir = tempfile::tempdir().unwrap();
    let status = sparling()
        .args([
            "generate",
            "digit-circle",
            "--split",
            "train",
            "--seed",
            "1",
            "--start",
            "0",
            "--count",
            "1",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
    let labels = std::fs::read_to_string(dir.path().join("labels.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(labels.lines().next().unwrap()).unwrap();
    assert_eq!(line["label"], "17429");
    assert_eq!(line["rng_seed"], 3_993_328_244u64);
}

#[test]
fn bad_arguments_exit_with_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--split", "validation"], "validation"),
        // Training seeds -1 and -2 would be the validation and test streams.
        (&["--split", "train", "--seed", "-1"], "seed -1 is reserved"),
        (&["--split", "train", "--seed", "-2"], "seed -2 is reserved"),
        (&["--count", "0"], "'0'"),
        (&["--split", "test", "--seed", "3"], "--seed 3"),
        (&["--count", "-4"], "-4"),
    ];
    for (extra, needle) in cases {
        let output = sparling()
            .args(["generate", "digit-circle", "--out"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {message}");
        assert!(message.contains(needle), "{extra:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
    // An --out that is a file, not a directory.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let output = sparling()
        .args(["generate", "digit-circle", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("plain-file"));
}

#[test]
fn help_documents_every_flag() {
    let output = sparling()
        .args(["generate", "digit-circle", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = stdout(&output);
    for flag in [
        "--split",
        "--count",
        "--start",
        "--seed",
        "--out",
        "--overlay",
        "--scale",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn generating_again_into_a_directory_replaces_the_earlier_samples() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    for count in ["3", "1"] {
        let output = sparling()
            .args([
                "generate",
                "digit-circle",
                "--overlay",
                "--count",
                count,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "00000.png",
            "00000_overlay.png",
            "labels.jsonl",
            "notes.txt"
        ]
    );
    let labels = std::fs::read_to_string(out.join("labels.jsonl")).unwrap();
    assert_eq!(labels.lines().count(), 1);
}
