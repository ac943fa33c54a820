//! Parameter counts of the DigitCircle `paper` and `cpu` presets and of the LaTeX and audio `cpu`
//! presets, for the PyTorch replica used by the side-by-side training-step timing
//! (`scripts/torch_replica.py`, which hard-codes the numbers asserted here and exits 1 if its own
//! count differs).
//!
//! Run alone, printing the counts:
//! `cargo test -p sparling-models --test parameter_counts -- --nocapture`.
//!
//! burn's `num_params` counts every float tensor of the module record, also those PyTorch does
//! not call parameters. For these presets the difference is exactly:
//!
//! * the running mean and variance of every BatchNorm: `2 · residual_units` BatchNorm(hidden) of
//!   the motif model and the sparsity layer's BatchNorm(motifs) (PyTorch buffers `running_mean`,
//!   `running_var`; PyTorch's third BatchNorm buffer `num_batches_tracked` is an integer that
//!   burn does not have and that the replica leaves out of the comparison);
//! * the sparsity layer's running thresholds, one per motif channel (a buffer in the replica);
//! * the sparsity layer's density, a one-element `f64` tensor (a buffer in the replica);
//! * without affine (LaTeX, audio), the sparsity BatchNorm's scale and shift, which burn keeps
//!   frozen at 1 and 0 (`2 · motifs`); PyTorch's `BatchNorm2d(affine=False)` has no such tensor,
//!   so the replica adds them as a known burn-only term. With affine (DigitCircle) they are
//!   trainable parameters on both sides.
//!
//! So `num_params = PyTorch trainable parameters + BURN_EXTRAS`, and the replica checks both
//! sides: its `parameters()` against the first, `parameters()` plus those buffers (plus the frozen
//! scale and shift) against burn.

use burn::module::Module;
use burn::prelude::*;
use sparling_models::model::ModelConfig;
use sparling_models::{Domain, presets};

/// What burn counts beyond PyTorch's trainable parameters (module doc):
/// `2 · (2 · units · hidden + motifs) + motifs + 1`, plus `2 · motifs` without affine.
fn burn_extras(config: &ModelConfig) -> usize {
    let motif = config.motif();
    let batch_norm_statistics = 2 * (2 * motif.residual_units * motif.hidden + motif.motifs);
    let thresholds = motif.motifs;
    let density = 1;
    let frozen_affine = if config.sparsity().affine {
        0
    } else {
        2 * motif.motifs
    };
    batch_norm_statistics + thresholds + density + frozen_affine
}

/// `paper` (`pae-7bb1`), counted by hand as PyTorch's trainable parameters:
///
/// * motif model at full resolution: input 1x1 as Linear 1→64 = 128; 4 residual units of
///   2 × (BatchNorm(64) = 128 + Conv2d 3x3 64→64 = 36,928) = 74,112 each, 296,448; output
///   Linear 64→10 = 650; total 297,226;
/// * sparsity BatchNorm(10), affine: 20;
/// * collapse Conv2d 1x1 10→512: 5,632;
/// * row LSTM (512, 256, bidirectional): 2 × 4 · 256 · (512 + 256 + 2) = 1,576,960;
/// * encoder, 6 post-LN layers (512, 8 heads, FF 2048): 3,152,384 each, 18,914,304;
/// * decoder, 6 post-LN layers (512, 8 heads, FF 2048): 4,204,032 each, 25,224,192;
/// * embedding 12 × 512 = 6,144; output Linear 512→12 = 6,156.
///
/// Sum 46,030,634 (also `tests/paper_preset.rs`). burn extras: 2 · (8 · 64 + 10) + 10 + 1 = 1,055.
const PAPER_PYTORCH: usize = 46_030_634;
const PAPER_BURN_EXTRAS: usize = 1_055;

/// `cpu`, counted the same way:
///
/// * motif model on 4x4 blocks: input 1x1 as Linear 16→64 = 1,088; 1 residual unit of
///   2 × (128 + 36,928) = 74,112; sub-pixel output Linear 64 → 10·16 = 10,400; total 85,600;
/// * sparsity BatchNorm(10), affine: 20;
/// * collapse (pool first) Conv2d 1x1 10→64: 704;
/// * angular scan LSTM (64, 32, bidirectional): 2 × 4 · 32 · (64 + 32 + 2) = 25,088;
/// * encoder, 2 pre-LN layers (64, 4 heads, FF 256): 49,984 each (attention 16,640, FF 33,088,
///   2 LayerNorms 256), 99,968;
/// * decoder, 2 pre-LN layers (64, 4 heads, FF 256): 66,752 each (2 attentions 2 × 16,640,
///   FF 33,088, 3 LayerNorms 384), 133,504;
/// * embedding 12 × 64 = 768; output Linear 64→12 = 780.
///
/// Sum 346,432. burn extras: 2 · (2 · 64 + 10) + 10 + 1 = 287.
const CPU_PYTORCH: usize = 346_432;
const CPU_BURN_EXTRAS: usize = 287;

/// LaTeX `cpu` (also `tests/latex.rs`, `cpu_latex_model_is_small`):
///
/// * motif model on 8x8 blocks: input 1x1 as Linear 64→32 = 2,080; 2 residual units of
///   2 × (BatchNorm(32) = 64 + Conv2d 3x3 32→32 = 9,248) = 18,624 each, 37,248; output Linear
///   32 → 32·4 (each block's 2x2 map cells at stride 4) = 4,224; total 43,552;
/// * sparsity BatchNorm(32) without affine: 0;
/// * collapse (pool first) Conv2d 1x1 32→64: 2,112;
/// * row LSTM (64, 32, bidirectional): 2 × 4 · 32 · (64 + 32 + 2) = 25,088;
/// * no encoder Transformer layer;
/// * decoder, 2 pre-LN layers (64, 4 heads, FF 256): 66,752 each, 133,504;
/// * embedding 28 × 64 = 1,792; output Linear 64→28 = 1,820.
///
/// Sum 207,868. burn extras: 2 · (4 · 32 + 32) + 32 + 1 + 2 · 32 = 417.
const LATEX_CPU_PYTORCH: usize = 207_868;
const LATEX_CPU_BURN_EXTRAS: usize = 417;

/// Audio `cpu`, counted the same way:
///
/// * 1-D motif model over the 64 mel bands: Conv1d 1x1 64→32 = 2,080; 4 residual units of
///   2 × (BatchNorm1d(32) = 64 + Conv1d k3 32→32 = 3,104) = 6,336 each, 25,344; Conv1d 1x1
///   32→10 = 330; total 27,754;
/// * sparsity BatchNorm(10) without affine: 0;
/// * collapse Conv1d 1x1 10→64: 704;
/// * encoder, 2 pre-LN layers (64, 4 heads, FF 256): 49,984 each, 99,968;
/// * decoder, 2 pre-LN layers (64, 4 heads, FF 256): 66,752 each, 133,504;
/// * embedding 28 × 64 = 1,792; output Linear 64→28 = 1,820.
///
/// Sum 265,542. burn extras: 2 · (8 · 32 + 10) + 10 + 1 + 2 · 10 = 563.
const AUDIO_CPU_PYTORCH: usize = 265_542;
const AUDIO_CPU_BURN_EXTRAS: usize = 563;

fn check(domain: Domain, preset: &str, pytorch: usize, extras: usize) {
    let config = presets::get(domain, preset, 1).expect("preset");
    assert_eq!(
        burn_extras(&config.model),
        extras,
        "{domain} {preset}: extras"
    );
    let model = config.model.init(&Device::flex()).expect("model");
    let num_params = model.num_params();
    // One parseable line per preset (read by hand into scripts/torch_replica.py).
    println!(
        "parameter_counts domain={domain} preset={preset} burn_num_params={num_params} \
         burn_extras={extras} pytorch_parameters={}",
        num_params - extras
    );
    assert_eq!(num_params, pytorch + extras, "{domain} {preset}");
}

#[test]
fn digit_circle_paper_parameter_count() {
    check(
        Domain::DigitCircle,
        "paper",
        PAPER_PYTORCH,
        PAPER_BURN_EXTRAS,
    );
}

#[test]
fn digit_circle_cpu_parameter_count() {
    check(Domain::DigitCircle, "cpu", CPU_PYTORCH, CPU_BURN_EXTRAS);
}

#[test]
fn latex_cpu_parameter_count() {
    check(
        Domain::Latex,
        "cpu",
        LATEX_CPU_PYTORCH,
        LATEX_CPU_BURN_EXTRAS,
    );
}

#[test]
fn audio_cpu_parameter_count() {
    check(
        Domain::Audio,
        "cpu",
        AUDIO_CPU_PYTORCH,
        AUDIO_CPU_BURN_EXTRAS,
    );
}
