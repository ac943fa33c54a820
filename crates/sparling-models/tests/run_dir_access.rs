//! A run directory shared between a trainer and its readers: readers hold a complete model even
//! when the trainer replaces the checkpoint they read, and a second trainer is refused.

use std::fs;
use std::path::Path;

use burn::prelude::*;
use sparling_models::checkpoint::{RunDir, open_checkpoint};
use sparling_models::evaluation::{EvalOptions, evaluate};
use sparling_models::training::Quiet;
use sparling_models::{ModelError, RunConfig, TrainOptions, presets, train};

fn tiny() -> RunConfig {
    let mut config = presets::digit_circle("tiny", 1).expect("tiny preset");
    config.training.max_samples = 32;
    config
}

fn paused_at_16(out: &Path) -> TrainOptions {
    let mut options = TrainOptions::new(out, Device::flex());
    options.pause_at = Some(16);
    options
}

fn resuming(out: &Path) -> TrainOptions {
    let mut options = TrainOptions::new(out, Device::flex());
    options.resume = true;
    options
}

#[test]
fn an_opened_checkpoint_survives_the_trainer_removing_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("run");
    let config = tiny();
    train(
        &config,
        &TrainOptions::new(&out, Device::flex()),
        &mut Quiet,
    )
    .expect("tiny run");

    let run = RunDir::new(&out);
    let device = Device::flex();
    let opened = open_checkpoint(&run, None, &config, &device).expect("a trained level");
    // What a running trainer does to a superseded checkpoint. A model whose weights were still
    // mapped from the file failed here, inside the backend, with a panic.
    fs::remove_dir_all(run.checkpoints()).expect("remove checkpoints");
    let options = EvalOptions {
        batch_size: 2,
        ..EvalOptions::new(&config, 2)
    };
    let report = evaluate(&config, &opened, &out, &options, &device).expect("evaluation");
    assert_eq!(report.motif_samples, 2);
    assert!((0.0..=1.0).contains(&report.fpe), "{report:?}");
}

#[test]
fn a_second_trainer_is_refused_and_told_who_holds_the_run() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("run");
    let config = tiny();
    train(&config, &paused_at_16(&out), &mut Quiet).expect("first half");

    // Another process holding the directory: its lock file names it.
    let held = RunDir::new(&out).lock_for_training().expect("free");
    let resume = resuming(&out);
    let before = fs::read(out.join("metrics.jsonl")).expect("metrics");
    match train(&config, &resume, &mut Quiet) {
        Err(ModelError::RunLocked { dir, holder }) => {
            assert_eq!(dir, out);
            assert_eq!(holder, format!("process {}", std::process::id()));
        }
        other => panic!("expected RunLocked, got {other:?}"),
    }
    assert_eq!(
        fs::read(out.join("metrics.jsonl")).expect("metrics"),
        before
    );

    // Released when the holder goes away; the run then continues.
    drop(held);
    let summary = train(&config, &resume, &mut Quiet).expect("resumed");
    assert_eq!(summary.samples, 32);
}

#[test]
fn leftovers_of_a_killed_save_are_removed_when_the_run_continues() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("run");
    let config = tiny();
    train(&config, &paused_at_16(&out), &mut Quiet).expect("first half");

    // What `kill -9` during a save leaves: a half-written checkpoint directory and temporary
    // files of the atomic renames.
    let run = RunDir::new(&out);
    let half = run.checkpoints().join(".tmp-step-000000000032-4242");
    fs::create_dir_all(&half).expect("mkdir");
    fs::write(half.join("model.bpk"), b"half").expect("write");
    let stray = [
        run.checkpoints().join("latest.tmp-4242"),
        out.join("metrics.tmp-4242"),
        out.join("summary.tmp-4242"),
    ];
    for file in &stray {
        fs::write(file, b"half").expect("write");
    }
    // Not ours: a reader's report in progress, and the user's own files.
    let keep = [out.join("eval-1.000e-1.tmp-4242"), out.join("notes.txt")];
    for file in &keep {
        fs::write(file, b"keep").expect("write");
    }

    let resume = resuming(&out);
    train(&config, &resume, &mut Quiet).expect("resumed");
    assert!(!half.exists());
    for file in &stray {
        assert!(!file.exists(), "{} left behind", file.display());
    }
    for file in &keep {
        assert!(file.exists(), "{} removed", file.display());
    }
}
