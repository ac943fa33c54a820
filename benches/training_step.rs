//! One training step of the training loop ([`Trainer::step`]: forward, masked cross-entropy,
//! backward, gradient clipping, learning-rate schedule and Adam), in samples per second, for
//! the `cpu` presets of the three domains and DigitCircle's `paper` preset, on one real batch
//! of the preset's domain at the starting density 0.5. Next to each, the bottleneck alone
//! (BatchNorm, threshold and `relu`, forward and backward, training mode) on the motif maps of
//! the same batch, so its share of the step can be read off.
//!
//! The spoken-digit recordings are read from `$SPARLING_FSDD`, else
//! `../shared/data/fsdd/recordings` next to the checkout; without them the audio preset is
//! skipped with a note. A second group times the DigitCircle `cpu` step with each sparsity
//! method of `sparling_core::Method` in the bottleneck. A third (`components`) times each part
//! of the model forward and backward on its own: the motif model, the bottleneck, the collapse
//! with the encoder, the decoder, the whole model, and the whole step (the optimizer is the
//! difference of the last two). Run:
//! `cargo bench -p sparling-benches --bench training_step`
//! (append e.g. `-- digit-circle/cpu` to run one preset; figures in docs/benchmarks.md).
//! `SPARLING_BENCH_CONFIGS=a.toml,b.toml` adds run configurations (as `sparling train
//! --dump-config` writes them), named by file stem, to the `training_step` and `components`
//! groups: a recipe's cost measured before it is trained.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sparling_core::Method;
use sparling_data::Split;
use sparling_data::audio::resolve_recordings_dir;
use sparling_models::config::DomainConfig;
use sparling_models::data::TensorBatch;
use sparling_models::task::Batch;
use sparling_models::training::Trainer;
use sparling_models::{Domain, RunConfig, presets};

/// The configurations timed: the presets, then the files of `SPARLING_BENCH_CONFIGS`.
fn configs() -> Vec<(String, RunConfig)> {
    let mut out: Vec<(String, RunConfig)> = PRESETS
        .iter()
        .filter_map(|&(domain, preset)| {
            Some((format!("{domain}/{preset}"), config(domain, preset)?))
        })
        .collect();
    for path in std::env::var("SPARLING_BENCH_CONFIGS")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("SPARLING_BENCH_CONFIGS: {}: {e}", path.display()));
        let config: RunConfig = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("SPARLING_BENCH_CONFIGS: {}: {e}", path.display()));
        config.validate().unwrap();
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        out.push((format!("{}/{stem}", config.domain.name()), config));
    }
    out
}

/// The first training batch of `config`'s domain.
fn first_batch(config: &RunConfig) -> Batch {
    config
        .domain
        .task()
        .unwrap()
        .batch(Split::Train { seed: 1 }, 0, config.training.batch_size)
        .unwrap()
}

/// The presets timed, as `(domain, preset)`.
const PRESETS: [(Domain, &str); 4] = [
    (Domain::DigitCircle, "cpu"),
    (Domain::Audio, "cpu"),
    (Domain::Latex, "cpu"),
    (Domain::DigitCircle, "paper"),
];

/// The preset with its data located, or `None` (with a note) when the data is missing.
fn config(domain: Domain, preset: &str) -> Option<RunConfig> {
    let mut config = presets::get(domain, preset, 1).unwrap();
    if let DomainConfig::Audio(audio) = &mut config.domain {
        let default =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fsdd/recordings");
        let dir = resolve_recordings_dir(None).unwrap_or(default);
        if !dir.is_dir() {
            eprintln!(
                "skipping {domain}/{preset}: no FSDD recordings at {} (set SPARLING_FSDD)",
                dir.display()
            );
            return None;
        }
        audio.recordings = Some(dir);
    }
    Some(config)
}

fn training_step(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("training_step");
    group.sample_size(10);
    for (name, config) in configs() {
        let batch_size = config.training.batch_size;
        let batch = first_batch(&config);
        let mut trainer = Trainer::new(&config, &device).unwrap();
        group.throughput(Throughput::Elements(batch_size as u64));
        group.bench_function(BenchmarkId::new("step", &name), |b| {
            b.iter(|| black_box(trainer.step(&batch).unwrap()));
        });

        // The bottleneck alone on the motif maps' shape.
        let shape = trainer
            .model()
            .valid()
            .motif_maps(TensorBatch::new(&batch, &device).inputs)
            .unwrap()
            .dims();
        let autodiff = device.clone().autodiff();
        let layer = config.model_sparsity().init(shape[1], &autodiff).unwrap();
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &autodiff);
        group.bench_function(BenchmarkId::new("bottleneck", &name), |b| {
            b.iter(|| {
                let input = x.clone().require_grad();
                let out = layer.try_forward(input.clone()).unwrap();
                let grads = match out.penalty {
                    Some(p) => out.maps.sum() + p,
                    None => out.maps.sum(),
                }
                .backward();
                black_box(input.grad(&grads).unwrap());
            });
        });
    }
    group.finish();
}

/// The DigitCircle `cpu` step with each sparsity method in the bottleneck, to set each
/// method's cost against SPARLING's (docs/methods.md).
fn method_step(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("method_step");
    group.sample_size(10);
    let methods = [
        Method::Sparling,
        Method::TopK { k: 1 },
        Method::BatchTopK {
            k: 1,
            momentum: 0.1,
        },
        Method::JumpRelu {
            initial_threshold: 0.5,
            bandwidth: 0.05,
            l0_weight: 1.0,
        },
        Method::L1 { weight: 1.0 },
        Method::Kl {
            weight: 1.0,
            target: 5e-5,
        },
        Method::Identity,
    ];
    let base = presets::get(Domain::DigitCircle, "cpu", 1).unwrap();
    let batch = base
        .domain
        .task()
        .unwrap()
        .batch(Split::Train { seed: 1 }, 0, base.training.batch_size)
        .unwrap();
    group.throughput(Throughput::Elements(base.training.batch_size as u64));
    for method in methods {
        let mut config = base.clone();
        config.model.sparsity_mut().method = method.clone();
        let mut trainer = Trainer::new(&config, &device).unwrap();
        group.bench_function(BenchmarkId::new("digit-circle/cpu", method.name()), |b| {
            b.iter(|| black_box(trainer.step(&batch).unwrap()));
        });
    }
    group.finish();
}

/// Forward and backward of `f`'s output summed, with the gradient of `input` read back.
fn backward_through<const D: usize, const E: usize>(
    input: &Tensor<D>,
    f: impl Fn(Tensor<D>) -> Tensor<E>,
) {
    let input = input.clone().require_grad();
    let grads = f(input.clone()).sum().backward();
    black_box(input.grad(&grads));
}

/// Each part of the model forward and backward on its own, next to the whole model and the
/// whole step, on the first batch at density 0.5.
fn components(c: &mut Criterion) {
    let device = Device::flex();
    let autodiff = device.clone().autodiff();
    let mut group = c.benchmark_group("components");
    group.sample_size(10);
    for (name, config) in configs() {
        let batch = first_batch(&config);
        let mut trainer = Trainer::new(&config, &device).unwrap();
        // Its own model: a clone would share the running statistics and thresholds with the
        // trainer's, which the part benchmarks update.
        let model = Trainer::new(&config, &device).unwrap().model().clone();
        let tensors = TensorBatch::new(&batch, &autodiff);
        let logits = model.motif_logits(tensors.inputs.clone()).unwrap().detach();
        let maps = model
            .sparsity()
            .try_forward(logits.clone())
            .unwrap()
            .maps
            .detach();
        let memory = model.memory(maps.clone()).detach();
        group.throughput(Throughput::Elements(config.training.batch_size as u64));
        group.bench_function(BenchmarkId::new("motif-model", &name), |b| {
            b.iter(|| {
                let grads = model
                    .motif_logits(tensors.inputs.clone())
                    .unwrap()
                    .sum()
                    .backward();
                black_box(grads);
            });
        });
        group.bench_function(BenchmarkId::new("bottleneck", &name), |b| {
            b.iter(|| backward_through(&logits, |x| model.sparsity().try_forward(x).unwrap().maps));
        });
        group.bench_function(BenchmarkId::new("collapse-encoder", &name), |b| {
            b.iter(|| backward_through(&maps, |x| model.memory(x)));
        });
        group.bench_function(BenchmarkId::new("decoder", &name), |b| {
            b.iter(|| {
                backward_through(&memory, |m| model.decode(tensors.decoder_inputs.clone(), m))
            });
        });
        group.bench_function(BenchmarkId::new("model", &name), |b| {
            b.iter(|| {
                let out = model
                    .forward(tensors.inputs.clone(), tensors.decoder_inputs.clone())
                    .unwrap();
                black_box(out.sum().backward());
            });
        });
        group.bench_function(BenchmarkId::new("step", &name), |b| {
            b.iter(|| black_box(trainer.step(&batch).unwrap()));
        });
    }
    group.finish();
}

criterion_group!(benches, training_step, method_step, components);
criterion_main!(benches);
