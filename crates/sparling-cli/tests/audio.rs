//! The `sparling` binary on the spoken-digit domain (reads the FSDD recordings shipped at
//! `shared/data/fsdd/recordings` next to the checkout).

#![allow(clippy::unwrap_used)]

mod common;

use common::{sparling, stderr, stdout, succeeded};
use std::path::{Path, PathBuf};

fn fsdd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fsdd/recordings")
}

#[test]
fn generate_audio_writes_wavs_spectrograms_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clips");
    let output = sparling()
        .args(["generate", "audio", "--split", "test", "--count", "4"])
        .arg("--out")
        .arg(&out)
        .arg("--data")
        .arg(fsdd_dir())
        .output()
        .unwrap();
    succeeded(&output);
    for i in 0..4 {
        // 16-bit mono: a 44-byte header and 2 bytes for each of the 120,000 samples.
        let wav = std::fs::metadata(out.join(format!("{i:05}.wav"))).unwrap();
        assert_eq!(wav.len(), 44 + 2 * 120_000);
        assert!(out.join(format!("{i:05}.png")).is_file());
    }
    let labels = std::fs::read_to_string(out.join("labels.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = labels
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["index"], i as u64);
        assert_eq!(line["split"], "test");
        assert_eq!(line["dataset_seed"], -2);
        assert_eq!(line["audio"], format!("{i:05}.wav"));
        assert_eq!(line["spectrogram"], format!("{i:05}.png"));
        let label = line["label"].as_str().unwrap();
        assert!((5..=10).contains(&label.len()), "{label}");
        let motifs = line["motifs"].as_array().unwrap();
        assert_eq!(motifs.len(), label.len());
        let mut previous_end = 0;
        for (m, digit) in motifs.iter().zip(label.chars()) {
            // The test split is the held-out speaker.
            assert_eq!(m["speaker"], "theo");
            assert_eq!(m["digit"].as_u64().unwrap(), u64::from(digit as u8 - b'0'));
            let (start, end) = (
                m["frames"][0].as_u64().unwrap(),
                m["frames"][1].as_u64().unwrap(),
            );
            assert!(previous_end <= start && start < end && end <= 642, "{m}");
            previous_end = end;
        }
    }
}

#[test]
fn missing_recordings_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-recordings");
    let run = dir.path().join("run");
    let cases: Vec<(Vec<&str>, bool)> = vec![
        (vec!["generate", "audio", "--count", "1", "--out"], true),
        (vec!["train", "audio", "--preset", "tiny", "--out"], true),
        (vec!["generate", "audio", "--count", "1", "--out"], false),
    ];
    for (args, with_data) in cases {
        let mut command = sparling();
        command.args(&args).arg(&run);
        if with_data {
            command.arg("--data").arg(&missing);
        }
        let output = command.output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        let needle = if with_data {
            "no-such-recordings"
        } else {
            "SPARLING_FSDD"
        };
        assert!(message.contains(needle), "{args:?}: {message}");
        assert!(message.contains("--data"), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
    // Nothing was written for the failed training.
    assert!(!run.join("config.toml").exists());

    // --data does not apply to images.
    let output = sparling()
        .args(["train", "digit-circle", "--preset", "tiny", "--out"])
        .arg(&run)
        .arg("--data")
        .arg(fsdd_dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--data"));
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn tiny_audio_run_trains_evaluates_and_draws_motifs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let output = sparling()
        .args(["train", "audio", "--preset", "tiny", "--max-samples", "16"])
        .arg("--out")
        .arg(&run)
        .arg("--data")
        .arg(fsdd_dir())
        .output()
        .unwrap();
    succeeded(&output);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["samples"], 16);

    let output = sparling()
        .args(["eval", "--samples", "3", "--batch-size", "2", "--run"])
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let printed = stdout(&output);
    assert!(printed.contains("many-to-one"), "{printed}");
    assert!(printed.contains("held out     theo"), "{printed}");

    // Another voice, for evaluation only: its report sits beside the first.
    let allison = fsdd_dir().join("../../allison-digits");
    let output = sparling()
        .args(["eval", "--samples", "3", "--batch-size", "2", "--run"])
        .arg(&run)
        .arg("--test-voice")
        .arg(format!("allison={}", allison.display()))
        .output()
        .unwrap();
    succeeded(&output);
    assert!(stdout(&output).contains("held out     allison"));
    let reports: Vec<String> = file_names(&run)
        .into_iter()
        .filter(|n| n.starts_with("eval-"))
        .collect();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports.iter().any(|n| n.ends_with("-allison.json")));
    // A missing directory, and FSDD's own speakers (they would be tested on their training
    // voices), are refused as usage errors.
    for voice in [
        "ghost=/nonexistent/voice".to_owned(),
        format!("fsdd={}", fsdd_dir().display()),
    ] {
        let output = sparling()
            .args(["eval", "--samples", "3", "--run"])
            .arg(&run)
            .args(["--test-voice", &voice])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{voice}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("--test-voice"),
            "{}",
            stderr(&output)
        );
    }

    let pictures = dir.path().join("motifs");
    let output = sparling()
        .args([
            "motifs",
            "--count",
            "2",
            "--confusion-samples",
            "3",
            "--run",
        ])
        .arg(&run)
        .arg("--out")
        .arg(&pictures)
        .output()
        .unwrap();
    succeeded(&output);
    assert!(stdout(&output).contains("(majority)"));
    assert_eq!(
        file_names(&pictures),
        ["confusion.svg", "motifs-000.png", "motifs-001.png"]
    );
}

#[test]
fn an_audio_run_finds_its_recordings_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // A relative --data, typed in the directory that holds `shared/`.
    let parent = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let output = sparling()
        .current_dir(&parent)
        .args(["train", "audio", "--preset", "tiny", "--max-samples", "16"])
        .args([
            "--pause-at",
            "8",
            "--data",
            "shared/data/fsdd/recordings",
            "--out",
        ])
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let stored = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let canonical = fsdd_dir().canonicalize().unwrap();
    assert!(
        stored.contains(&format!(
            "recordings = {:?}",
            canonical.display().to_string()
        )),
        "{stored}"
    );

    // Resumed elsewhere without --data: the stored directory is used.
    let output = sparling()
        .current_dir(dir.path())
        .args([
            "train",
            "audio",
            "--preset",
            "tiny",
            "--max-samples",
            "16",
            "--resume",
        ])
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["samples"], 16);

    // The same directory spelled differently is the same run.
    let output = sparling()
        .args([
            "train",
            "audio",
            "--preset",
            "tiny",
            "--max-samples",
            "16",
            "--resume",
        ])
        .arg("--data")
        .arg(fsdd_dir())
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    succeeded(&output);

    let output = sparling()
        .current_dir(dir.path())
        .args([
            "eval",
            "--samples",
            "2",
            "--batch-size",
            "2",
            "--run",
            "run",
        ])
        .output()
        .unwrap();
    succeeded(&output);
}
