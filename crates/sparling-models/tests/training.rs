//! The training loop as a library: exact resume, and errors that leave a run directory intact.

use std::fs;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use sparling_core::{DensitySchedule, LinearThresholdAdaptiveConfig, ScheduleConfig};
use sparling_models::checkpoint::{RunDir, StopReason, load_model, load_state, trained_levels};
use sparling_models::fork::InitFrom;
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
    let latest = RunDir::new(dir)
        .latest_checkpoint()
        .expect("readable")
        .expect("a checkpoint");
    checkpoint_weights(&latest, config)
}

/// [`latest_weights`] of one checkpoint directory.
fn checkpoint_weights(checkpoint: &Path, config: &RunConfig) -> Vec<(String, Vec<u32>)> {
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
    let model = load_model(config, checkpoint, &Device::flex()).expect("model");
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
    // Everything else the trainer keeps (schedule, running loss, position), to the last bit:
    // floats in state.json must read back exactly.
    assert_eq!(latest_state(&straight), latest_state(&resumed));
}

/// The latest checkpoint's `state.json` without wall-clock seconds.
fn latest_state(dir: &Path) -> serde_json::Value {
    let latest = RunDir::new(dir)
        .latest_checkpoint()
        .expect("readable")
        .expect("a checkpoint");
    let text = fs::read_to_string(latest.join("state.json")).expect("state.json");
    let mut state: serde_json::Value = serde_json::from_str(&text).expect("json");
    let object = state.as_object_mut().expect("object");
    object.remove("seconds");
    for record in object
        .get_mut("history")
        .and_then(|h| h.as_array_mut())
        .expect("history")
    {
        record.as_object_mut().expect("record").remove("seconds");
    }
    state
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

    // A directory of other files is not a run, and is not called one.
    let occupied = root.path().join("photos");
    fs::create_dir_all(&occupied).expect("mkdir");
    fs::write(occupied.join("cat.png"), b"meow").expect("write");
    let err = train(&config, &options(&occupied), &mut Quiet).expect_err("not a run");
    assert!(matches!(err, ModelError::NotARunDir(_)), "{err}");
    assert!(err.to_string().contains("holds no run"), "{err}");
    assert_eq!(fs::read_dir(&occupied).expect("dir").count(), 1);
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
    config.training.batch_size = 1 << 40;
    let message = config.validate().expect_err("huge batch").to_string();
    assert!(
        message.contains("batch_size") && message.contains("at most 1024"),
        "{message}"
    );

    // Training on seed -1 or -2 would train on the validation or test stream.
    for seed in [-1, -2] {
        let mut config = tiny();
        config.seed = seed;
        let message = config.validate().expect_err("reserved seed").to_string();
        assert!(
            message.contains("`seed`") && message.contains("reserved"),
            "{message}"
        );
    }

    let text = tiny()
        .to_toml()
        .expect("toml")
        .replace("learning_rate = 0.001", "learning_rate = -1.0");
    let message = RunConfig::from_toml(&text, Path::new("bad.toml"))
        .expect_err("lr")
        .to_string();
    assert!(
        message.starts_with("bad.toml: ") && message.contains("training.learning_rate"),
        "{message}"
    );
}

/// A tiny run whose schedule lowers the density at every validation (its accuracy target
/// starts below zero), so that it leaves density snapshots behind.
fn annealing() -> RunConfig {
    let mut config = tiny();
    config.training.schedule =
        ScheduleConfig::LinearThresholdAdaptive(LinearThresholdAdaptiveConfig {
            initial_threshold: -1.0,
            minimal_threshold: -1.0,
            ..LinearThresholdAdaptiveConfig::default()
        });
    config
}

#[test]
fn a_fork_starts_from_the_source_model_and_keeps_its_own_settings() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let source = root.path().join("source");
    let config = annealing();
    train(&config, &options(&source), &mut Quiet).expect("source run");
    let levels = trained_levels(&RunDir::new(&source)).expect("levels");
    let densities: Vec<f64> = levels.iter().map(|l| l.density).collect();
    assert_eq!(&densities[..2], &[0.5, 0.375]);

    // Another seed, learning rate and schedule: training settings may differ.
    let mut fork_config = tiny();
    fork_config.seed = 7;
    fork_config.training.learning_rate = 3e-4;
    let fork_dir = root.path().join("fork");
    let mut fork = options(&fork_dir);
    fork.init_from = Some(InitFrom {
        run: source.clone(),
        density: Some(0.375),
    });
    fork.pause_at = Some(0);
    let summary = train(&fork_config, &fork, &mut Quiet).expect("fork");
    assert_eq!(summary.samples, 0);
    let origin = summary.forked_from.expect("origin recorded");
    assert_eq!(origin.density, 0.375);
    assert_eq!(origin.checkpoint, levels[1].dir);

    // The fork's first checkpoint holds exactly the source's model at 0.375: weights, BatchNorm
    // statistics, thresholds and density.
    let (a, b) = (
        checkpoint_weights(&levels[1].dir, &config),
        latest_weights(&fork_dir, &fork_config),
    );
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between the source and the fork");
    }
    // Its schedule starts at that density, from the accuracy target the source had there.
    let state = load_state(
        &RunDir::new(&fork_dir)
            .latest_checkpoint()
            .expect("ok")
            .expect("some"),
    )
    .expect("state");
    assert_eq!(state.schedule.density(), 0.375);
    assert_eq!(state.schedule.threshold(), origin.schedule_threshold);
    assert_eq!(state.forked_from.as_ref(), Some(&origin));

    // The fork trains on, with its own data stream, and resumes like any run.
    let mut resume = options(&fork_dir);
    resume.resume = true;
    let done = train(&fork_config, &resume, &mut Quiet).expect("fork resumed");
    assert_eq!(done.samples, fork_config.training.max_samples);
}

#[test]
fn a_fork_of_another_architecture_or_density_is_refused() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let source = root.path().join("source");
    train(&annealing(), &options(&source), &mut Quiet).expect("source run");
    let fork_dir = root.path().join("fork");
    let fork = |init: &str| {
        let mut o = options(&fork_dir);
        o.init_from = Some(
            format!("{}{init}", source.display())
                .parse()
                .expect("parses"),
        );
        o
    };

    let mut wider = tiny();
    wider.model.sparsity_mut().density = 0.25; // the starting density may differ ...
    if let sparling_models::model::ModelConfig::Image(m) = &mut wider.model {
        m.motif.hidden += 1; // ... the architecture may not
    }
    let err = train(&wider, &fork(""), &mut Quiet).expect_err("other architecture");
    assert!(matches!(err, ModelError::ForkMismatch { .. }), "{err}");
    assert!(err.to_string().contains("hidden"), "{err}");

    let err = train(&tiny(), &fork("@0.01"), &mut Quiet).expect_err("untrained density");
    let message = err.to_string();
    assert!(
        message.contains("0.01") && message.contains("5.000000e-1"),
        "{message}"
    );

    let err = train(&tiny(), &fork("/nothing"), &mut Quiet).expect_err("no run there");
    assert!(matches!(err, ModelError::NoCheckpoint(_)), "{err}");

    let mut both = fork("");
    both.resume = true;
    let err = train(&tiny(), &both, &mut Quiet).expect_err("fork and resume");
    assert!(err.to_string().contains("--init-from"), "{err}");
    // None of these wrote anything.
    assert!(!fork_dir.exists());
}

/// Copy the directory tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create");
    for entry in fs::read_dir(from).expect("fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// `legacy-tiny-run-straight-metrics.jsonl` without the wall-clock seconds.
fn legacy_straight_history() -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::copy(
        Path::new(FIXTURES).join("legacy-tiny-run-straight-metrics.jsonl"),
        RunDir::new(dir.path()).metrics_path(),
    )
    .expect("copy");
    history(dir.path())
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[test]
fn a_run_of_the_earlier_model_layout_resumes_exactly() {
    let _one = exclusive();
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&Path::new(FIXTURES).join("legacy-tiny-run"), dir.path());
    let config = RunConfig::from_toml(
        &fs::read_to_string(dir.path().join("config.toml")).expect("config"),
        &dir.path().join("config.toml"),
    )
    .expect("the earlier config.toml still parses");
    let mut resume = options(dir.path());
    resume.resume = true;
    let summary = train(&config, &resume, &mut Quiet).expect("resumes");
    assert_eq!(summary.samples, 32);
    assert_eq!(summary.stopped, Some(StopReason::SampleCap));
    assert_eq!(history(dir.path()), legacy_straight_history());
}

#[test]
fn a_new_run_reproduces_the_earlier_versions_history() {
    let _one = exclusive();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = presets::digit_circle("tiny", 1).expect("tiny preset");
    config.training.max_samples = 32;
    train(&config, &options(dir.path()), &mut Quiet).expect("trains");
    assert_eq!(history(dir.path()), legacy_straight_history());
}

/// Every sparsity method trains through the same loop: the ones that add a loss term report it
/// per validation next to the task loss, and a run's config with its method reads back.
#[test]
fn every_sparsity_method_trains_through_the_loop() {
    use sparling_core::Method;
    let _one = exclusive();
    let methods = [
        Method::TopK { k: 3 },
        Method::BatchTopK {
            k: 3,
            momentum: 0.1,
        },
        Method::JumpRelu {
            initial_threshold: 0.5,
            bandwidth: 0.1,
            l0_weight: 0.1,
        },
        Method::L1 { weight: 0.1 },
        Method::Kl {
            weight: 0.1,
            target: 0.01,
        },
        Method::Identity,
    ];
    for method in methods {
        let name = method.name();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = presets::digit_circle("tiny", 1).expect("tiny preset");
        config.training.max_samples = 32;
        config.model.sparsity_mut().method = method.clone();
        let text = config.to_toml().expect("toml");
        let back = RunConfig::from_toml(&text, Path::new("config.toml")).expect("reads back");
        assert_eq!(back, config, "{name}");
        let summary = train(&config, &options(dir.path()), &mut Quiet).expect(name);
        assert_eq!(summary.samples, 32, "{name}");
        let penalized = method.adds_penalty();
        for record in history(dir.path()) {
            let penalty = record.get("penalty").and_then(serde_json::Value::as_f64);
            assert_eq!(penalty.is_some(), penalized, "{name}: {record}");
            assert!(penalty.is_none_or(|p| p.is_finite() && p >= 0.0), "{name}");
        }
    }
}

/// The "retrained" baseline: a fork of a SPARLING run with the bottleneck replaced by
/// `identity` and the motif model frozen keeps the motif model's parameters bit for bit while
/// the downstream model trains.
#[test]
fn a_retrained_fork_keeps_the_motif_model_and_trains_the_rest() {
    use sparling_core::{Method, ScheduleConfig};
    let _one = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let source = root.path().join("source");
    let mut config = tiny();
    config.training.max_samples = 32;
    train(&config, &options(&source), &mut Quiet).expect("source run");

    let mut retrained = config.clone();
    retrained.model.sparsity_mut().method = Method::Identity;
    retrained.training.freeze_motifs = true;
    retrained.training.schedule = ScheduleConfig::Constant;
    let dir = root.path().join("retrained");
    let mut fork = options(&dir);
    fork.init_from = Some(InitFrom {
        run: source.clone(),
        density: None,
    });
    train(&retrained, &fork, &mut Quiet).expect("retrained run");

    let before = latest_weights(&source, &config);
    let after = latest_weights(&dir, &retrained);
    let part = |weights: &[(String, Vec<u32>)], prefix: &str| -> Vec<(String, Vec<u32>)> {
        weights
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .cloned()
            .collect()
    };
    // Parameters only: the motif model's BatchNorm running statistics still follow the batches
    // in training mode, as in the reference, where freezing sets `requires_grad` only.
    let learned = |weights: Vec<(String, Vec<u32>)>| -> Vec<(String, Vec<u32>)> {
        weights
            .into_iter()
            .filter(|(name, _)| !name.contains("running_"))
            .collect()
    };
    let motifs = learned(part(&before, "front.Image.motifs"));
    assert!(!motifs.is_empty());
    assert_eq!(motifs, learned(part(&after, "front.Image.motifs")));
    assert_ne!(part(&before, "decoder"), part(&after, "decoder"));
    assert!(part(&after, "sparsity").is_empty(), "no bottleneck left");
}

/// The "direct" baseline: the motif model alone learns to tell single digits apart from the
/// spatial maxima of its channels, is validated by their accuracy, and is evaluated on single
/// digits only.
#[test]
fn the_direct_baseline_learns_single_digits_and_is_evaluated_directly() {
    use sparling_models::checkpoint::open_checkpoint;
    use sparling_models::evaluation::{EvalOptions, direct_motif_error, evaluate};
    let _one = exclusive();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = presets::digit_circle_direct(tiny());
    let t = &mut config.training;
    t.batch_size = 32;
    t.learning_rate = 1e-2;
    t.val_every = 320;
    t.val_samples = 200;
    t.max_samples = 1_920;
    let text = config.to_toml().expect("toml");
    assert!(text.contains("objective = \"direct-digits\""), "{text}");
    assert_eq!(
        RunConfig::from_toml(&text, Path::new("config.toml")).expect("reads back"),
        config
    );
    train(&config, &options(dir.path()), &mut Quiet).expect("direct run");
    let records = history(dir.path());
    let first = &records[0];
    let last = records.last().expect("validations");
    let value = |r: &serde_json::Value, key: &str| r[key].as_f64().expect(key);
    assert!(
        value(last, "loss") < value(first, "loss") - 0.2,
        "{first} -> {last}"
    );
    assert!(value(last, "accuracy") > 0.25, "{last}");

    let device = Device::flex();
    let opened = open_checkpoint(&RunDir::new(dir.path()), None, &config, &device).expect("open");
    let model = opened.model.clone().valid();
    let direct = direct_motif_error(&config, &model, 200, 50, &device).expect("direct");
    assert!(direct.error < 0.7, "{direct:?}");
    let Err(ModelError::InvalidConfig { field, .. }) = evaluate(
        &config,
        &opened,
        dir.path(),
        &EvalOptions::new(&config, 4),
        &device,
    ) else {
        panic!("the motif and end-to-end evaluation of a direct model must be refused");
    };
    assert_eq!(field, "training.objective");
}

/// The direct objective reads ten channels of an image motif model, alone.
#[test]
fn the_direct_objective_needs_ten_channels_of_a_lone_image_motif_model() {
    use sparling_core::Method;
    let direct = presets::digit_circle_direct(tiny());
    direct.validate().expect("the preset is valid");
    let field = |config: RunConfig| match config.validate() {
        Err(ModelError::InvalidConfig { field, .. }) => field,
        other => panic!("expected an invalid config, got {other:?}"),
    };
    let mut sparse = direct.clone();
    sparse.model.sparsity_mut().method = Method::Sparling;
    assert_eq!(field(sparse), "model.sparsity.method");
    let mut audio = presets::audio("tiny", 1).expect("audio preset");
    audio.training.objective = sparling_models::config::Objective::DirectDigits;
    audio.model.sparsity_mut().method = Method::Identity;
    assert_eq!(field(audio), "training.objective");
}
