//! The `paper` preset (`pae-7bb1`: the authors' `pixel_art/experiments/pae-7bb1.py`,
//! kavigupta/sparling-repro): parameter count, and two training steps so that it is known to run
//! before it goes to a GPU.

use burn::module::Module;
use burn::prelude::*;
use sparling_models::training::Quiet;
use sparling_models::{TrainOptions, presets, train};

/// Counted by hand from the authors' `latex_decompiler/model.py` as configured by `pae-7bb1.py`
/// (PyTorch's trainable parameters): motif model 297,226 + sparsity BN 20 + collapse 5,632 +
/// BiLSTM 1,576,960 + encoder 18,914,304 + decoder 25,224,192 + embedding 6,144 + output 6,156.
const PAPER_PARAMETERS: usize = 46_030_634;

/// burn's `num_params` also counts non-trainable `RunningState` buffers: the running mean and
/// variance of the 8 BatchNorm(64) of the residual units and of the sparsity BatchNorm(10)
/// (2 * (8 * 64 + 10) = 1,044), the 10 thresholds and the density scalar.
const BUFFERS: usize = 1_055;

#[test]
fn paper_model_has_the_reference_parameter_count() {
    let config = presets::digit_circle("paper", 1).expect("paper preset");
    let model = config.model.init(&Device::flex()).expect("paper model");
    assert_eq!(model.num_params(), PAPER_PARAMETERS + BUFFERS);
}

/// About a minute in release mode on 2 cores:
/// `cargo test --release -p sparling-models --test paper_preset -- --ignored`.
#[test]
#[ignore = "slow: 46 M parameters at full resolution"]
fn paper_preset_trains_two_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = presets::digit_circle("paper", 1).expect("paper preset");
    let batch = config.training.batch_size as u64;
    config.training.max_samples = 2 * batch;
    config.training.val_samples = 10;
    let summary = train(
        &config,
        &TrainOptions::new(dir.path(), Device::flex()),
        &mut Quiet,
    )
    .expect("two steps");
    assert_eq!(summary.samples, 2 * batch);
    assert!(summary.last_accuracy.is_some());
}
