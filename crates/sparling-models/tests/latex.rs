//! The LaTeX-OCR domain end to end: the paper model's size, the task's batches and motif
//! footprints, a `tiny` training run that writes a run directory and can be evaluated, and the
//! configuration checks.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use burn::module::Module;
use burn::prelude::*;
use sparling_data::latex::LatexOcr;
use sparling_data::{Dataset, Split, SymbolClass};
use sparling_models::checkpoint::RunDir;
use sparling_models::checkpoint::open_checkpoint;
use sparling_models::config::{CurriculumStage, DomainConfig};
use sparling_models::evaluation::{EvalOptions, evaluate, nonzero_fraction};
use sparling_models::inference::{motif_maps_host, read_host};
use sparling_models::model::ModelConfig;
use sparling_models::task::LATEX_FOOTPRINT_PAD;
use sparling_models::training::Quiet;
use sparling_models::{Domain, RunConfig, TrainOptions, presets, train};

/// flex keeps one random generator per process, so tests that train take turns.
static ONE_TRAINING_AT_A_TIME: Mutex<()> = Mutex::new(());

fn exclusive() -> MutexGuard<'static, ()> {
    ONE_TRAINING_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `ltx-2dc3` model (the authors' `pixel_art/experiments/ltx-2dc3.py`), counted by hand as
/// PyTorch would (trainable parameters):
///
/// * motif model (`ConvolutionalMotifModel(1, 64, 32, cr=32)`): Conv2d 1x1 1→64 = 64 + 64 =
///   128; 16 residual units of 2 × (BatchNorm2d(64) = 128 + Conv2d 3x3 64→64 = 64·64·9 + 64 =
///   36,928) = 74,112 each, 1,185,792; Conv2d 1x1 64→32 = 2,048 + 32 = 2,080; total 1,188,000;
/// * sparsity BatchNorm2d(32, affine=False): 0;
/// * collapse Conv2d 1x1 32→512: 16,384 + 512 = 16,896;
/// * row LSTM `nn.LSTM(512, 256, bidirectional)`: per direction 4·256·(512 + 256) weights +
///   2 · 4·256 biases = 788,480, both 1,576,960;
/// * encoder, 6 × TransformerEncoderLayer(512, 8, FF 2048): 3,152,384 per layer (in-projection
///   787,968, out-projection 262,656, FF 1,050,624 + 1,049,088, 2 LayerNorms 2,048), 18,914,304;
/// * decoder, 6 × TransformerDecoderLayer(512, 8, FF 2048): 4,204,032 per layer (2 attentions
///   2 × 1,050,624, FF 2,099,712, 3 LayerNorms 3,072), 25,224,192;
/// * embedding 28 × 512 = 14,336; output Linear 512 → 28 = 14,364.
///
/// Sum: 1,188,000 + 16,896 + 1,576,960 + 18,914,304 + 25,224,192 + 14,336 + 14,364 =
/// 46,949,052, about 47 M.
const PAPER_PARAMETERS: usize = 46_949_052;

/// burn's `num_params` also counts what PyTorch does not call parameters: the sparsity
/// BatchNorm's scale and shift, frozen without affine (2 · 32 = 64), and the `RunningState`
/// buffers: running mean and variance of the 32 BatchNorm(64) of the residual units and of the
/// sparsity BatchNorm(32) (2 · (32 · 64 + 32) = 4,160), the 32 thresholds and the density scalar.
const BURN_EXTRAS: usize = 64 + 4_160 + 32 + 1;

#[test]
fn paper_latex_model_has_the_reference_parameter_count() {
    let config = presets::get(Domain::Latex, "paper", 1).expect("paper preset");
    let model = config.model.init(&Device::flex()).expect("paper model");
    assert_eq!(model.num_params(), PAPER_PARAMETERS + BURN_EXTRAS);
    let ModelConfig::Image(m) = &config.model else {
        panic!("the LaTeX model is an image model");
    };
    assert_eq!(m.motif.receptive_field(), 65);
    assert_eq!(m.sparsity.accumulate_motifs, Some(10.0));
    assert!(!m.sparsity.affine);
    let t = &config.training;
    assert_eq!(
        (t.batch_size, t.val_every, t.val_samples, t.max_samples),
        (8, 20_000, 10_008, 6_000_000)
    );
    assert!((t.done_at_density - 9.64 / (120.0 * 360.0 * 32.0)).abs() < 1e-15);
}

/// The `cpu` preset, counted the same way:
///
/// * motif model on 8x8 blocks: input 1x1 as Linear 64→32 = 2,080; 2 residual units of
///   2 × (BatchNorm(32) = 64 + Conv2d 3x3 32→32 = 9,248) = 18,624 each, 37,248; output Linear
///   32 → 32·4 (each block's 2x2 map cells) = 4,224; total 43,552;
/// * collapse Conv2d 1x1 32→64: 2,112;
/// * row LSTM (64, 32, bidirectional): 2 × (4·32·96 + 2·4·32) = 25,088;
/// * no encoder Transformer layer;
/// * decoder, 2 pre-LN layers (64, 4 heads, FF 256): 66,752 each (2 attentions 2 × 16,640,
///   FF 33,088, 3 LayerNorms 384), 133,504;
/// * embedding 28 × 64 = 1,792; output 64 → 28 = 1,820.
///
/// Sum 207,868; burn adds the frozen sparsity affine (64), the BatchNorm statistics
/// (2 · (4 · 32 + 32) = 320), 32 thresholds and the density.
#[test]
fn cpu_latex_model_is_small() {
    let config = presets::get(Domain::Latex, "cpu", 1).expect("cpu preset");
    let model = config.model.init(&Device::flex()).expect("cpu model");
    assert_eq!(model.num_params(), 207_868 + 64 + 320 + 32 + 1);
}

#[test]
fn batches_are_the_noisy_images_and_token_targets() {
    let config = presets::get(Domain::Latex, "tiny", 1).expect("tiny");
    let task = config.domain.task().expect("task");
    assert_eq!(task.input_shape(), [1, 120, 360]);
    assert_eq!(task.vocabulary().len(), 28);
    let batch = task.batch(Split::Val, 0, 3).expect("batch");
    assert_eq!(batch.shape, [3, 1, 120, 360]);
    assert_eq!(batch.inputs.len(), 3 * 120 * 360);
    assert!(batch.inputs.iter().all(|&v| v == 0.0 || v == 1.0));
    // 1 = white: about 75 % of the pixels survive the 25 % noise, minus ~1.4 % ink.
    let white = batch.inputs.iter().sum::<f32>() / batch.inputs.len() as f32;
    assert!((0.70..0.78).contains(&white), "{white}");
    // Exactly the data side's samples: pixels and `<s> tokens </s>`.
    let val = Dataset::new(LatexOcr::paper().expect("domain"), Split::Val);
    for (i, target) in batch.targets.iter().enumerate() {
        let sample = val.get(i as u64).expect("sample");
        assert_eq!(target, &sample.token_ids());
        assert_eq!(
            &batch.inputs[i * 120 * 360..(i + 1) * 120 * 360],
            sample.image.to_f32().as_slice()
        );
        assert!((3..=32).contains(&target.len()));
        assert_eq!((target[0], target[target.len() - 1]), (0, 1));
    }
}

#[test]
fn motif_footprints_are_the_symbol_boxes_of_the_test_set() {
    let config = presets::get(Domain::Latex, "tiny", 1).expect("tiny");
    let task = config.domain.task().expect("task");
    let protocol = task.motif_protocol();
    assert_eq!(protocol.split, Split::MotifEval);
    assert_eq!(protocol.classes, SymbolClass::COUNT);
    assert_eq!((protocol.footprint_pad, LATEX_FOOTPRINT_PAD), (2, 2));
    assert!(
        !protocol.hungarian,
        "the LaTeX confusion error is many-to-one"
    );

    // The motif split is the test set (seed −2): same images, same formulas.
    let motif_eval = task.batch(Split::MotifEval, 0, 4).expect("motif-eval");
    let test = task.batch(Split::Test, 0, 4).expect("test");
    assert_eq!(motif_eval, test);

    let truths = task.motifs(Split::MotifEval, 0, 4).expect("motifs");
    let samples = Dataset::new(LatexOcr::paper().expect("domain"), Split::Test)
        .batch(0, 4)
        .expect("samples");
    for (motifs, sample) in truths.iter().zip(&samples) {
        assert_eq!(motifs.len(), sample.symbols.len());
        for (m, b) in motifs.iter().zip(&sample.symbols) {
            assert_eq!(m.class, b.class.id());
            // Padded as the metrics pad (then clipped to the image), the footprint is the
            // data side's evaluation region `compute_stamps(pad=2)`.
            let padded = m.footprint.padded(protocol.footprint_pad);
            let clipped = (
                padded.rows.start..padded.rows.end.min(120),
                padded.cols.start..padded.cols.end.min(360),
            );
            assert_eq!(clipped, b.padded(2, 120, 360));
        }
    }
    // Test formula 0 (numpy reference): 16 labelled tokens in token order, the first the
    // fraction bar on row 63, columns 123..=236.
    let first = &truths[0];
    assert_eq!(first.len(), 16);
    assert_eq!(first[0].class, 13);
    assert_eq!(first[0].footprint.rows, 63..64);
    assert_eq!(first[0].footprint.cols, 123..237);
}

#[test]
fn tiny_latex_run_trains_and_evaluates() {
    let _guard = exclusive();
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("run");
    let mut config = presets::get(Domain::Latex, "tiny", 1).expect("tiny");
    config.training.max_samples = 16;
    let device = Device::flex();

    // Shapes through the model, on a plain device.
    let task = config.domain.task().expect("task");
    let batch = task.batch(Split::Train { seed: 1 }, 0, 2).expect("batch");
    let model = config.model.init(&device).expect("model");
    let inputs = Tensor::<4>::from_data(TensorData::new(batch.inputs, batch.shape), &device);
    // Motif maps at stride 2 (60 x 180 cells); the metrics read them on the pixel grid, each
    // cell's value at its centre pixel.
    assert_eq!(
        model.motif_maps(inputs.clone()).expect("maps").dims(),
        [2, 32, 60, 180]
    );
    assert_eq!(model.map_stride(), 2);
    let cells = read_host(model.motif_maps(inputs.clone()).expect("maps")).expect("host");
    let (pixels, dims) = motif_maps_host(&model, inputs.clone()).expect("host maps");
    assert_eq!(dims, [2, 32, 120, 360]);
    // Cell (7, 11) of channel 5, image 1, stands at pixel (15, 23).
    let cell = ((32 + 5) * 60 + 7) * 180 + 11;
    let pixel = ((32 + 5) * 120 + 15) * 360 + 23;
    assert_eq!(pixels[pixel], cells[cell]);
    let nonzero = |v: &[f32]| v.iter().filter(|x| **x != 0.0).count();
    assert_eq!(nonzero(&pixels), nonzero(&cells));
    // Max-pool 4 of the cells: a 15 x 45 grid, read row-major.
    assert_eq!(
        model.encode(inputs).expect("memory").dims(),
        [2, 15 * 45, 16]
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
    assert_eq!(run.read_config().expect("readable"), Some(config.clone()));
    let text = std::fs::read_to_string(run.config_path()).expect("config.toml");
    assert!(text.contains("name = \"latex\"") && text.contains("kind = \"image\""));

    let opened = open_checkpoint(&run, None, &config, &device).expect("a trained level");
    let options = EvalOptions {
        batch_size: 2,
        ..EvalOptions::new(&config, 3)
    };
    let report = evaluate(&config, &opened, &out, &options, &device).expect("evaluation");
    assert_eq!(report.ce_method, "many-to-one");
    // 20 classes and "none" by 32 channels and "none".
    assert_eq!(report.confusion.len(), 21);
    assert!(report.confusion.iter().all(|row| row.len() == 33));
    // Every labelled symbol of the 3 test images is either matched or missed.
    let symbols: usize = task
        .motifs(Split::MotifEval, 0, 3)
        .expect("motifs")
        .iter()
        .map(Vec::len)
        .sum();
    let counted: u64 = report.confusion[..20].iter().flatten().sum();
    assert_eq!(counted, symbols as u64);
    for e in [report.fpe, report.fne, report.ce, report.e2e_edit_error] {
        assert!((0.0..=1.0).contains(&e), "{report:?}");
    }
    assert!(report.measured_density > 0.0 && report.measured_density <= 1.0);
    // Counted on the 2x2-pixel cells or on the pixel grid they are placed on: the same
    // per-pixel density.
    assert_eq!(report.map_stride, 2);
    let on_cells = nonzero_fraction(
        &opened.model.clone().valid(),
        task.as_ref(),
        Split::MotifEval,
        3,
        2,
        &device,
    )
    .expect("density");
    assert!(
        (on_cells - report.measured_density).abs() < 1e-12,
        "{on_cells} vs {report:?}"
    );
}

#[test]
fn latex_configs_are_validated_and_curricula_bound_the_formula_length() {
    let config = presets::get(Domain::Latex, "cpu", 1).expect("cpu");
    assert_eq!(presets::names(Domain::Latex), ["paper", "cpu", "tiny"]);
    assert_eq!(config.domain.domain(), Domain::Latex);

    // A curriculum stage caps the formula length in tokens (1..=30).
    let short = config.domain.with_max_motifs(10).expect("10 tokens");
    let DomainConfig::Latex(c) = &short else {
        panic!("still LaTeX");
    };
    assert_eq!((c.min_length, c.max_length), (1, 10));
    let message = config
        .domain
        .with_max_motifs(31)
        .expect_err("longer than the grammar's maximum")
        .to_string();
    assert!(message.contains("domain.max_length"), "{message}");
    let mut staged = config.clone();
    staged.training.curriculum = vec![CurriculumStage {
        until_samples: 50_000,
        max_motifs: 8,
    }];
    staged.validate().expect("a valid curriculum");
    let task = short.task().expect("task");
    let targets = task.batch(Split::Train { seed: 1 }, 0, 16).expect("batch");
    assert!(targets.targets.iter().all(|t| t.len() <= 10 + 2));

    // The space-to-depth blocks must tile 120 x 360.
    let mut bad = config.clone();
    if let ModelConfig::Image(m) = &mut bad.model {
        m.motif.patch = 7;
        m.motif.map_stride = 1;
    }
    let message = bad.validate().expect_err("patch 7").to_string();
    assert!(
        message.contains("patch") && message.contains("120x360"),
        "{message}"
    );

    // Maps coarser than 2 · 2 + 1 pixels could score a symbol's edge outside its padded box.
    let cpu = presets::get(Domain::Latex, "cpu", 1).expect("cpu");
    cpu.validate().expect("stride 4 is allowed");
    let mut bad = cpu.clone();
    if let ModelConfig::Image(m) = &mut bad.model {
        m.motif.map_stride = 8;
        m.collapse.pool = 1;
    }
    let message = bad.validate().expect_err("stride 8").to_string();
    assert!(
        message.contains("model.motif.map_stride") && message.contains("at most 5"),
        "{message}"
    );
    // The pooling is checked against the motif maps (30 x 90 cells at stride 4).
    let mut bad = cpu.clone();
    if let ModelConfig::Image(m) = &mut bad.model {
        m.collapse.pool = 31;
    }
    let message = bad.validate().expect_err("pool 31").to_string();
    assert!(
        message.contains("model.collapse.pool") && message.contains("30x90 motif maps"),
        "{message}"
    );

    // The decoder must speak the 28-token vocabulary, and the model must be an image model.
    let mut bad = config.clone();
    if let ModelConfig::Image(m) = &mut bad.model {
        m.decoder.vocab = 12;
    }
    let message = bad.validate().expect_err("vocab").to_string();
    assert!(
        message.contains("model.decoder.vocab") && message.contains("28"),
        "{message}"
    );
    let mut bad = config.clone();
    bad.model = presets::get(Domain::Audio, "tiny", 1).expect("audio").model;
    let message = bad.validate().expect_err("kind").to_string();
    assert!(message.contains("image"), "{message}");

    // TOML round trip; the domain's fields are LatexConfig's, typos are rejected.
    let text = config.to_toml().expect("toml");
    assert!(text.contains("noise_amount = 0.25"), "{text}");
    let back = RunConfig::from_toml(&text, Path::new("config.toml")).expect("parses");
    assert_eq!(back, config);
    let typo = text.replace("noise_amount = ", "noise_amout = ");
    assert!(RunConfig::from_toml(&typo, Path::new("config.toml")).is_err());
}

/// Slow and memory-hungry on a CPU (a 64-wide trunk of 16 residual units at the full 120x360
/// resolution, batch 8), so it is run by hand before the preset goes to a GPU:
/// `cargo test --release -p sparling-models --test latex -- --ignored`.
#[test]
#[ignore = "slow: 47 M parameters, 16 residual units at 120x360"]
fn paper_latex_preset_trains_two_steps() {
    let _guard = exclusive();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = presets::get(Domain::Latex, "paper", 1).expect("paper preset");
    let batch = config.training.batch_size as u64;
    config.training.max_samples = 2 * batch;
    config.training.val_samples = 8;
    let summary = train(
        &config,
        &TrainOptions::new(dir.path(), Device::flex()),
        &mut Quiet,
    )
    .expect("two steps");
    assert_eq!(summary.samples, 2 * batch);
    assert!(summary.last_accuracy.is_some());
}

/// LaTeX pages are white (1.0). With edge padding, a uniform page stays uniform up to the
/// border in every layer, so an empty border reads as background: every block of the page
/// (the space-to-depth grid) gets the same maps as every other, and the sparsity layer finds
/// nothing there that is not everywhere. With the paper's zero padding, the border blocks
/// differ: the padding looks like ink.
#[test]
fn with_edge_padding_an_empty_border_reads_as_background() {
    use sparling_models::modules::motif::Padding;
    let device = Device::flex();
    let spread = |padding: Padding| -> f32 {
        let mut config = presets::latex("tiny", 1).expect("tiny");
        let ModelConfig::Image(image) = &mut config.model else {
            panic!("an image model");
        };
        image.motif.padding = padding;
        let patch = image.motif.patch;
        let model = config.model.init(&device).expect("model").valid();
        let page = Tensor::<4>::ones([1, 1, 120, 360], &device);
        let maps = model.motif_scores(page).expect("scores");
        let [_, channels, h, w] = maps.dims();
        let values = maps
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        // Largest difference between two pixels at the same place of their blocks.
        let mut worst = 0f32;
        for c in 0..channels {
            for y in 0..h {
                for x in 0..w {
                    let v = values[(c * h + y) * w + x];
                    let reference = values[(c * h + y % patch) * w + x % patch];
                    worst = worst.max((v - reference).abs());
                }
            }
        }
        worst
    };
    assert!(
        spread(Padding::Edge) < 1e-5,
        "edge: {}",
        spread(Padding::Edge)
    );
    assert!(
        spread(Padding::Zeros) > 1e-3,
        "zero padding shows the border"
    );
}
