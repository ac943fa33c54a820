//! The spoken-digit domain end to end: the paper model's size, a `tiny` training run that
//! writes a run directory and can be evaluated, and the error for missing recordings.
//!
//! Reads the FSDD recordings shipped at `shared/data/fsdd/recordings` next to the checkout.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use burn::module::Module;
use burn::prelude::*;
use sparling_data::Split;
use sparling_models::checkpoint::RunDir;
use sparling_models::checkpoint::open_checkpoint;
use sparling_models::config::DomainConfig;
use sparling_models::evaluation::{EvalOptions, evaluate};
use sparling_models::model::ModelConfig;
use sparling_models::training::Quiet;
use sparling_models::{Domain, ModelError, RunConfig, TrainOptions, presets, train};

/// flex keeps one random generator per process, so tests that train take turns.
static ONE_TRAINING_AT_A_TIME: Mutex<()> = Mutex::new(());

fn exclusive() -> MutexGuard<'static, ()> {
    ONE_TRAINING_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fsdd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fsdd/recordings")
}

fn with_recordings(mut config: RunConfig, dir: &Path) -> RunConfig {
    let DomainConfig::Audio(audio) = &mut config.domain else {
        panic!("not an audio config");
    };
    audio.recordings = Some(dir.to_path_buf());
    config
}

/// The `aum-2ka1` model (the authors' `pixel_art/experiments/aum-2ka1.py`), counted by hand as
/// PyTorch would (trainable parameters):
///
/// * motif model: Conv1d 1x1 64→64 = 64·64 + 64 = 4,160; 8 residual units of
///   2 × (BatchNorm1d(64) = 128 + Conv1d k3 64→64 = 64·64·3 + 64 = 12,352) = 24,960 each,
///   199,680; Conv1d 1x1 64→10 = 650; total 204,490;
/// * sparsity BatchNorm2d(10, affine=False): 0;
/// * collapse Conv1d 1x1 10→512: 5,120 + 512 = 5,632;
/// * encoder, 6 × TransformerEncoderLayer(512, 8, FF 2048): in-projection 3·512·512 + 3·512 =
///   787,968, out-projection 262,656, FF 1,050,624 + 1,049,088, 2 LayerNorms 2,048, so
///   3,152,384 per layer, 18,914,304;
/// * decoder, 6 × TransformerDecoderLayer(512, 8, FF 2048): 2 attentions 2 × 1,050,624, FF
///   2,099,712, 3 LayerNorms 3,072, so 4,204,032 per layer, 25,224,192;
/// * embedding 28 × 512 = 14,336; output Linear 512 → 28 = 14,364.
///
/// Sum: 204,490 + 5,632 + 18,914,304 + 25,224,192 + 14,336 + 14,364 = 44,377,318.
const PAPER_PARAMETERS: usize = 44_377_318;

/// burn's `num_params` also counts what PyTorch does not call parameters: the sparsity
/// BatchNorm's scale and shift, which exist but are frozen without affine (2 · 10 = 20), and the
/// `RunningState` buffers: running mean and variance of the 16 BatchNorm(64) of the residual
/// units and of the sparsity BatchNorm(10) (2 · (16 · 64 + 10) = 2,068), the 10 thresholds and
/// the density scalar.
const BURN_EXTRAS: usize = 20 + 2_068 + 10 + 1;

#[test]
fn paper_audio_model_has_the_reference_parameter_count() {
    let config = presets::get(Domain::Audio, "paper", 1).expect("paper preset");
    let model = config.model.init(&Device::flex()).expect("paper model");
    assert_eq!(model.num_params(), PAPER_PARAMETERS + BURN_EXTRAS);
    let ModelConfig::Sequence(m) = &config.model else {
        panic!("the audio model is a sequence model");
    };
    assert_eq!(m.motif.receptive_field(), 33);
}

#[test]
fn tiny_audio_run_trains_and_evaluates() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("run");
    let mut config = with_recordings(
        presets::get(Domain::Audio, "tiny", 1).expect("tiny"),
        &fsdd_dir(),
    );
    config.training.max_samples = 16;
    let device = Device::flex();

    // Shapes through the model, on a plain device.
    let task = config.domain.task().expect("recordings load");
    assert_eq!(task.input_shape(), [1, 642, 64]);
    let batch = task.batch(Split::Val, 0, 2).expect("batch");
    assert_eq!(batch.shape, [2, 1, 642, 64]);
    assert!(batch.targets.iter().all(|t| (7..=12).contains(&t.len())));
    let model = config.model.init(&device).expect("model");
    let inputs = Tensor::<4>::from_data(TensorData::new(batch.inputs, batch.shape), &device);
    assert_eq!(
        model.motif_maps(inputs.clone()).expect("maps").dims(),
        [2, 10, 642, 1]
    );
    assert_eq!(model.encode(inputs).expect("memory").dims(), [2, 80, 16]);
    let motifs = task.motifs(Split::MotifEval, 0, 2).expect("motifs");
    assert!(
        motifs
            .iter()
            .flatten()
            .all(|m| m.footprint.cols == (0..1) && m.footprint.rows.end <= 642)
    );

    let summary = train(
        &config,
        &TrainOptions::new(&out, device.clone()),
        &mut Quiet,
    )
    .expect("tiny training");
    assert_eq!(summary.samples, 16);
    assert_eq!(summary.validations, 1);

    let run = RunDir::new(&out);
    // config.toml stores the recordings directory as given and reads back equal.
    assert_eq!(run.read_config().expect("readable"), Some(config.clone()));
    let text = std::fs::read_to_string(run.config_path()).expect("config.toml");
    assert!(text.contains("name = \"audio\"") && text.contains("kind = \"sequence\""));
    assert!(text.contains("recordings = "));

    let opened = open_checkpoint(&run, None, &config, &device).expect("a trained level");
    let options = EvalOptions {
        batch_size: 2,
        ..EvalOptions::new(&config, 3)
    };
    let report = evaluate(&config, &opened, &out, &options, &device).expect("evaluation");
    assert_eq!(report.ce_method, "many-to-one");
    assert_eq!(report.confusion.len(), 11);
    assert!(report.confusion.iter().all(|row| row.len() == 11));
    // Every digit of the 3 motif-eval clips is either matched or missed.
    let digits: usize = task
        .motifs(Split::MotifEval, 0, 3)
        .expect("motifs")
        .iter()
        .map(Vec::len)
        .sum();
    let counted: u64 = report.confusion[..10].iter().flatten().sum();
    assert_eq!(counted, digits as u64);
    for e in [report.fpe, report.fne, report.ce, report.e2e_edit_error] {
        assert!((0.0..=1.0).contains(&e), "{report:?}");
    }
    assert!(report.measured_density > 0.0 && report.measured_density <= 1.0);
    assert!(
        report
            .measured_density_val
            .is_some_and(|d| d > 0.0 && d <= 1.0)
    );
    assert_eq!(report.held_out.as_deref(), Some("theo"));
}

/// The options of docs/audio.md, written as there, read back and train through the loop.
#[test]
fn the_documented_audio_options_read_and_train() {
    use sparling_data::audio::{Augmentation, Level};
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let mut config = with_recordings(
        presets::get(Domain::Audio, "tiny", 1).expect("tiny"),
        &fsdd_dir(),
    );
    config.training.max_samples = 8;
    let documented = r#"
[domain.audio.augment]
gain_db = 6.0
speed = 0.1
vtlp = 0.1
freq_masks = 2
freq_mask_width = 8

[domain.audio.level]
type = "clip-percentile"
percentile = 99.0
"#;
    let text = format!("{}{documented}", config.to_toml().expect("toml"));
    let read = RunConfig::from_toml(&text, Path::new("audio.toml")).expect("reads");
    let DomainConfig::Audio(audio) = &read.domain else {
        panic!("audio");
    };
    assert_eq!(audio.audio.augment, Some(Augmentation::default()));
    assert_eq!(
        audio.audio.level,
        Level::ClipPercentile { percentile: 99.0 }
    );
    let out = root.path().join("run");
    let summary = train(&read, &TrainOptions::new(&out, Device::flex()), &mut Quiet)
        .expect("augmented training");
    assert_eq!(summary.samples, 8);
    assert_eq!(
        RunDir::new(&out).read_config().expect("readable"),
        Some(read)
    );
}

#[test]
fn missing_recordings_are_reported_with_the_way_to_fix_them() {
    let missing = PathBuf::from("/nonexistent/fsdd-recordings");
    let config = with_recordings(
        presets::get(Domain::Audio, "tiny", 1).expect("tiny"),
        &missing,
    );
    config
        .validate()
        .expect("the configuration itself is valid");
    let Err(err) = config.domain.task() else {
        panic!("a missing directory must fail");
    };
    assert!(matches!(err, ModelError::Recordings { .. }), "{err:?}");
    let message = err.to_string();
    for needle in ["/nonexistent/fsdd-recordings", "--data", "SPARLING_FSDD"] {
        assert!(message.contains(needle), "{needle} missing from: {message}");
    }
}

#[test]
fn audio_configs_are_validated_and_curricula_bounded() {
    let config = presets::get(Domain::Audio, "cpu", 1).expect("cpu");
    let err = "speech".parse::<Domain>().expect_err("unknown domain");
    assert!(err.to_string().contains("digit-circle, audio"), "{err}");

    // The model must read the 64 mel bands.
    let mut bad = config.clone();
    if let ModelConfig::Sequence(m) = &mut bad.model {
        m.motif.in_channels = 1;
    }
    let message = bad.validate().expect_err("in_channels").to_string();
    assert!(
        message.contains("in_channels") && message.contains("n_mels"),
        "{message}"
    );

    // An image model cannot read audio.
    let mut bad = config.clone();
    bad.model = presets::get(Domain::DigitCircle, "tiny", 1)
        .expect("dc")
        .model;
    let message = bad.validate().expect_err("kind").to_string();
    assert!(message.contains("sequence"), "{message}");

    // Curriculum stages: between 5 and 10 digits per clip.
    assert!(config.domain.with_max_motifs(6).is_ok());
    let message = config
        .domain
        .with_max_motifs(3)
        .expect_err("too few")
        .to_string();
    assert!(message.contains("domain.audio.min_digits"), "{message}");

    // TOML round trip, recordings path included.
    let config = with_recordings(config, Path::new("data/fsdd"));
    let text = config.to_toml().expect("toml");
    let back = RunConfig::from_toml(&text, Path::new("config.toml")).expect("parses");
    assert_eq!(back, config);
    let typo = text.replace("recordings = ", "recording = ");
    assert!(RunConfig::from_toml(&typo, Path::new("config.toml")).is_err());
}
