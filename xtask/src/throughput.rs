//! `cargo xtask throughput`: training speed of a preset on this machine, and the share of a
//! training step spent in the sparsity layer.
//!
//! A step is the training loop's step (forward, masked cross-entropy, backward, Adam) on a real
//! batch of the preset's domain. The sparsity layer's share is the time of the layer alone
//! (`SparseLayerWithBatchNorm` forward + backward, training mode, same input shape) divided by
//! the step time; it is an estimate, since inside a step the layer shares caches with the rest.

use std::time::Instant;

use anyhow::Context;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::Args;
use sparling_core::{SparseLayerWithBatchNormConfig, SparsityLayerConfig};
use sparling_data::Split;
use sparling_models::data::{TensorBatch, masked_cross_entropy};
use sparling_models::{Domain, presets};

/// `cargo xtask throughput`.
#[derive(Debug, Args)]
pub struct ThroughputArgs {
    /// Domain.
    #[arg(long, value_enum, default_value_t = Domain::DigitCircle)]
    domain: Domain,
    /// Presets to time, comma-separated.
    #[arg(long, default_value = "cpu,paper")]
    presets: String,
    /// Timed steps per preset (after one warm-up step).
    #[arg(long, default_value_t = 10)]
    steps: usize,
}

/// Run `cargo xtask throughput`.
///
/// # Errors
/// Unknown presets, data or model errors.
pub fn run(args: &ThroughputArgs) -> anyhow::Result<()> {
    println!(
        "| preset | batch | step (ms) | samples/s | sparsity layer fwd+bwd (ms) | share of step |"
    );
    println!("|---|---|---|---|---|---|");
    for preset in args.presets.split(',').map(str::trim) {
        let config = presets::get(args.domain, preset, 1)?;
        let device = Device::flex().autodiff();
        device.seed(0);
        let mut model = config.model.init(&device)?;
        let task = config.domain.task()?;
        let batch_size = config.training.batch_size;
        let mut optim = AdamConfig::new()
            .with_epsilon(config.training.adam_epsilon as f32)
            .init();
        let mut step_times = Vec::new();
        let mut maps_shape = [0; 4];
        for step in 0..=args.steps {
            let host = task.batch(
                Split::Train { seed: 1 },
                (step * batch_size) as u64,
                batch_size,
            )?;
            let batch = TensorBatch::new(&host, &device);
            if step == 0 {
                let plain = TensorBatch::new(&host, &Device::flex());
                maps_shape = model.valid().motif_maps(plain.inputs)?.dims();
            }
            let start = Instant::now();
            let logits = model.forward(batch.inputs, batch.decoder_inputs)?;
            let loss = masked_cross_entropy(logits, batch.targets, batch.mask);
            let _: f32 = loss.clone().into_scalar();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.training.learning_rate, model, grads);
            if step > 0 {
                step_times.push(start.elapsed().as_secs_f64());
            }
        }
        let step = mean(&step_times);

        // The layer alone on the motif maps' shape.
        let motifs = config.model_sparsity();
        let layer = SparseLayerWithBatchNormConfig::new(
            SparsityLayerConfig::new(maps_shape[1])
                .with_density(motifs.density)
                .with_momentum(motifs.momentum)
                .with_accumulate_motifs(motifs.accumulate_motifs),
        )
        .with_affine(motifs.affine)
        .init(&device)
        .context("sparsity layer")?;
        let x = Tensor::<4>::random(maps_shape, Distribution::Normal(0.0, 1.0), &device);
        let mut layer_times = Vec::new();
        for rep in 0..=args.steps {
            let input = x.clone().require_grad();
            let start = Instant::now();
            let grads = layer.forward(input.clone()).sum().backward();
            let _ = input.grad(&grads);
            if rep > 0 {
                layer_times.push(start.elapsed().as_secs_f64());
            }
        }
        let layer = mean(&layer_times);
        println!(
            "| {preset} | {batch_size} | {:.0} | {:.1} | {:.1} | {:.1} % |",
            1e3 * step,
            batch_size as f64 / step,
            1e3 * layer,
            100.0 * layer / step
        );
    }
    Ok(())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}
