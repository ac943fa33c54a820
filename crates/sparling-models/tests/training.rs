//! The training loop as a library: exact resume, and errors that leave a run directory intact.

use std::fs;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use sparling_models::checkpoint::{RunDir, StopReason, load_model};
use sparling_models::training::Quiet;
use sparling_models::{ModelError, RunConfig, TrainOptions, presets, train};

/// flex keeps one random generator per process (dropout, initialisation), so two trainings
/// running at once in this test binary would draw from each other's stream. Tests that train
/// hold this lock.
static ONE_TRAINING_AT_A_TIME: Mutex<()> = Mutex::new(());

fn exclusive() -> MutexGuard<'static, ()> {
    ONE_TRAINING_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tiny() -> RunConfig {
    let mut config = presets::digit_circle("tiny", 1).expect("tiny preset");
    config.training.max_samples = 48;
    config
}

fn options(dir: &Path) -> TrainOptions {
    TrainOptions::new(dir, Device::flex())
}

fn latest_files(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let latest = RunDir::new(dir)
        .latest_checkpoint()
        .expect("readable")
        .expect("a checkpoint");
    (
        fs::read(latest.join("model.bpk")).expect("model"),
        fs::read(latest.join("optimizer.bpk")).expect("optimizer"),
    )
}

/// Validation history without the wall-clock seconds.
fn history(dir: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(RunDir::new(dir).metrics_path())
        .expect("metrics.jsonl")
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v.as_object_mut().expect("object").remove("seconds");
            v
        })
        .collect()
}

/// Every tensor of the latest checkpoint's model (weights, BatchNorm statistics, thresholds,
/// density) as bit patterns, by module path. File bytes cannot be compared across runs: they hold
/// each run's random parameter ids.
fn latest_weights(dir: &Path, config: &RunConfig) -> Vec<(String, Vec<u32>)> {
    struct Collect {
        path: Vec<String>,
        out: Vec<(String, Vec<u32>)>,
    }
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let values = param.val().into_data().convert::<f32>();
            let values = values.try_into_vec::<f32>().expect("f32");
            let bits = values.iter().map(|v| v.to_bits()).collect();
            self.out.push((self.path.join("."), bits));
        }
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
    }
    let latest = RunDir::new(dir)
        .latest_checkpoint()
        .expect("readable")
        .expect("a checkpoint");
    let model = load_model(config, &latest, &Device::flex()).expect("model");
    let mut collect = Collect {
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut collect);
    collect.out
}

#[test]
fn a_paused_and_resumed_run_equals_a_straight_run() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let config = tiny();
    let straight = root.path().join("straight");
    train(&config, &options(&straight), &mut Quiet).expect("straight run");

    // Pause between two validations (val_every = 16), so the resumed run also has to restore
    // the running loss and the position inside the validation interval.
    let resumed = root.path().join("resumed");
    let mut first = options(&resumed);
    first.pause_at = Some(24);
    let paused = train(&config, &first, &mut Quiet).expect("first half");
    assert_eq!(paused.samples, 24);
    let mut second = options(&resumed);
    second.resume = true;
    let done = train(&config, &second, &mut Quiet).expect("second half");
    assert_eq!(done.samples, 48);

    // The second half trains with the restored Adam moments, so equal weights at the end also
    // mean the optimizer state was restored exactly.
    let (a, b) = (
        latest_weights(&straight, &config),
        latest_weights(&resumed, &config),
    );
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs between the straight and the resumed run"
        );
    }
    assert_eq!(history(&straight), history(&resumed));
}

/// A run stopped by Ctrl-C or by its time budget continues on `--resume` (the budget only if
/// it is raised) and ends where a straight run ends.
#[test]
fn interrupted_and_time_boxed_runs_continue_when_resumed() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let config = tiny();
    let dir = root.path().join("run");

    let mut boxed = options(&dir);
    boxed.time_budget = Some(0.0);
    let stopped = train(&config, &boxed, &mut Quiet).expect("time-boxed run");
    assert_eq!(stopped.stopped, Some(StopReason::TimeBudget));
    assert_eq!(stopped.samples, 0);
    // The same budget again: nothing left to train.
    boxed.resume = true;
    let again = train(&config, &boxed, &mut Quiet).expect("same budget");
    assert_eq!(
        (again.stopped, again.samples),
        (Some(StopReason::TimeBudget), 0)
    );

    let mut interrupted = options(&dir);
    interrupted.resume = true;
    interrupted
        .stop
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let paused = train(&config, &interrupted, &mut Quiet).expect("interrupted run");
    assert_eq!(paused.stopped, Some(StopReason::Interrupted));

    let mut resume = options(&dir);
    resume.resume = true;
    let done = train(&config, &resume, &mut Quiet).expect("resumed run");
    assert_eq!(done.samples, config.training.max_samples);
    assert_eq!(done.stopped, Some(StopReason::SampleCap));
}

#[test]
fn bad_run_directories_are_refused_and_left_alone() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("run");
    let config = tiny();
    let mut first = options(&dir);
    first.pause_at = Some(16);
    train(&config, &first, &mut Quiet).expect("first run");
    let before = latest_files(&dir);

    // A fresh run into an existing run directory.
    let err = train(&config, &options(&dir), &mut Quiet).expect_err("run exists");
    assert!(matches!(err, ModelError::RunExists(_)), "{err}");

    // Resuming with another configuration.
    let mut other = config.clone();
    other.seed = 2;
    let mut resume = options(&dir);
    resume.resume = true;
    let err = train(&other, &resume, &mut Quiet).expect_err("different config");
    assert!(matches!(err, ModelError::RunDirMismatch { .. }), "{err}");
    assert!(latest_files(&dir) == before);

    // A truncated model file.
    let latest = RunDir::new(&dir)
        .latest_checkpoint()
        .expect("ok")
        .expect("some");
    let model = latest.join("model.bpk");
    let bytes = fs::read(&model).expect("model");
    fs::write(&model, &bytes[..bytes.len() / 2]).expect("truncate");
    let err = train(&config, &resume, &mut Quiet).expect_err("corrupt checkpoint");
    assert!(matches!(err, ModelError::CorruptCheckpoint { .. }), "{err}");
    assert_eq!(fs::read(&model).expect("model").len(), bytes.len() / 2);
    assert!(!root.path().join("run/summary.json").exists());
}

#[test]
fn unknown_presets_and_bad_values_are_named() {
    let err = presets::digit_circle("huge", 1).expect_err("unknown");
    let message = err.to_string();
    assert!(
        message.contains("huge") && message.contains("paper, cpu, tiny"),
        "{message}"
    );

    let mut config = tiny();
    config.training.batch_size = 0;
    let message = config.validate().expect_err("batch 0").to_string();
    assert!(message.contains("batch_size"), "{message}");

    let text = tiny()
        .to_toml()
        .expect("toml")
        .replace("learning_rate = 0.001", "learning_rate = -1.0");
    let message = RunConfig::from_toml(&text, Path::new("bad.toml"))
        .expect_err("lr")
        .to_string();
    assert!(message.contains("learning_rate"), "{message}");
}
