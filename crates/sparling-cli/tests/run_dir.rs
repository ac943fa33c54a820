//! Exit codes and refusals around a run directory: evaluation reports never replace the run's
//! own files, evaluation seeds cannot be trained on, and Ctrl-C is not a success.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{sparling, stderr, train_tiny};

#[test]
fn eval_refuses_report_paths_before_evaluating() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train_tiny(&run, 16);
    let config = std::fs::read(run.join("config.toml")).unwrap();
    for (json, expect) in [
        (run.join("config.toml"), "inside the run directory"),
        (
            run.join("checkpoints").join("eval.json"),
            "inside the run directory",
        ),
        (run.clone(), "is a directory"),
        (dir.path().join("missing").join("r.json"), "does not exist"),
    ] {
        let output = sparling()
            .args(["eval", "--samples", "1", "--run"])
            .arg(&run)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(expect), "{}", stderr(&output));
    }
    assert_eq!(std::fs::read(run.join("config.toml")).unwrap(), config);
    let leftovers: Vec<_> = std::fs::read_dir(&run)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The default name inside the run is a report, and allowed.
    let output = sparling()
        .args(["eval", "--samples", "1", "--run"])
        .arg(&run)
        .arg("--json")
        .arg(run.join("eval-mine.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(run.join("eval-mine.json").is_file());
}

#[test]
fn evaluation_seeds_cannot_be_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    for seed in ["-1", "-2"] {
        let out = dir.path().join(format!("seed{seed}"));
        let output = sparling()
            .args(["train", "digit-circle", "--preset", "tiny", "--seed", seed])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains("reserved"), "{}", stderr(&output));
        assert!(!out.exists(), "a refused run wrote {}", out.display());
    }
}

#[test]
fn ctrl_c_stops_with_a_checkpoint_and_exit_code_130() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let child = sparling()
        .args([
            "train",
            "digit-circle",
            "--preset",
            "tiny",
            "--max-samples",
            "100000",
        ])
        .arg("--out")
        .arg(&run)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The handler is installed before the run directory is written.
    let started = Instant::now();
    while !run.join("config.toml").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "training never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("--resume"), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("\"interrupted\""), "{summary}");
    assert!(run.join("checkpoints").join("latest").is_file());
}

#[test]
fn motifs_draws_any_count_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train_tiny(&run, 16);
    let out = dir.path().join("pictures");
    // 17 pictures: one more than a chunk, so the second chunk's indices must continue at 16.
    let output = sparling()
        .args([
            "motifs",
            "--count",
            "17",
            "--confusion-samples",
            "2",
            "--run",
        ])
        .arg(&run)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let pictures = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("motifs-"))
        })
        .count();
    assert_eq!(pictures, 17);
    assert!(out.join("motifs-016.png").is_file());
}
