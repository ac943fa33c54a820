//! LaTeX-OCR presets (the reference's `ltx-2dc3`: the authors' `pixel_art/experiments/ltx-2dc3.py`,
//! kavigupta/sparling-repro; docs/latex.md).

use sparling_core::{LinearThresholdAdaptiveConfig, Method, ScheduleConfig};
use sparling_data::LatexConfig;

use super::{cpu_transformer, transformer};
use crate::config::{DomainConfig, LearningRateSchedule, Objective, RunConfig, TrainingConfig};
use crate::domain::Domain;
use crate::error::ModelError;
use crate::model::{ImageModelConfig, ModelConfig};
use crate::modules::collapse::CollapseConfig;
use crate::modules::decoder::DecoderConfig;
use crate::modules::encoder::RowEncoderConfig;
use crate::modules::motif::{MotifConfig, Padding, Upsample};
use crate::modules::positional::{LEGACY_TIMESCALE, PAPER_TIMESCALE, Positions};
use crate::modules::sparsity::{Scope, SparsityConfig};

/// Preset names of the LaTeX domain.
pub const LATEX_PRESETS: [&str; 3] = ["paper", "cpu", "tiny"];

/// Visible symbols per formula in the reference's stopping rule (`done_at_density` in the
/// authors' `pixel_art/experiments/ltx-2dc3.py`; the mean over the first 200 test formulas, as
/// `mean_num_characters` in `pixel_art/analysis/latex_experiment.py` computes it; 9.50 over
/// 2,000).
pub const LATEX_MEAN_SYMBOLS: f64 = 9.64;

/// Motif channels of the paper's model: over-complete, 32 for the 20 symbol classes.
const PAPER_MOTIFS: usize = 32;

/// The reference's `done_at_density` after `set_num_motifs(32, 10)` (the authors'
/// `pixel_art/experiments/ltx-2dc3.py` and `experiment.py`): one active pixel per visible symbol,
/// `9.64 / (120 · 360 · 32) = 6.973e-6`. Training stops once the schedule would go below it, i.e.
/// when it would move from 0.5 · 0.75^38 = 8.94e-6 ([`LATEX_PAPER_EVAL_DENSITY`]) to
/// 0.5 · 0.75^39 = 6.70e-6.
pub const LATEX_MIN_DENSITY: f64 = LATEX_MEAN_SYMBOLS / (120.0 * 360.0 * PAPER_MOTIFS as f64);

/// The density the paper evaluates the LaTeX models at: the "sparsity bar"
/// `0.5 · 0.75^floor(log(s / 0.5) / log 0.75)` for `s` = [`LATEX_MIN_DENSITY`], i.e.
/// 0.5 · 0.75^38.
pub const LATEX_PAPER_EVAL_DENSITY: f64 = 8.939_187e-6;

/// A LaTeX preset with data seed `seed`.
///
/// # Errors
/// [`ModelError::UnknownPreset`].
pub fn latex(name: &str, seed: i64) -> Result<RunConfig, ModelError> {
    Ok(match name {
        "paper" => latex_paper(seed),
        "cpu" => latex_cpu(seed),
        "tiny" => latex_tiny(seed),
        _ => {
            return Err(ModelError::UnknownPreset {
                name: name.into(),
                domain: Domain::Latex.name().into(),
                available: LATEX_PRESETS.join(", "),
            });
        }
    })
}

/// The `ltx-2dc3` architecture (the authors' `pixel_art/experiments/ltx-2dc3.py` and
/// `latex_decompiler/model.py`, kavigupta/sparling-repro): motif model 1 → 64 wide, 16 residual
/// units of 3x3 (`cr = 32`; receptive field 65x65 pixels) → 32 motif channels; BatchNorm without
/// affine and the accumulated per-channel threshold (10 expected activations per channel); collapse
/// 1x1 32 → 512 then max-pool 8 (120x360 → 15x45); row BiLSTM (2 × 256), row sinusoids, 6-layer
/// post-LN Transformer encoder; 6-layer decoder over the 28-token vocabulary.
fn paper_model() -> ImageModelConfig {
    ImageModelConfig {
        motif: MotifConfig {
            in_channels: 1,
            hidden: 64,
            motifs: PAPER_MOTIFS,
            residual_units: 16,
            kernel: 3,
            patch: 1,
            upsample: Upsample::Subpixel,
            padding: Padding::Zeros,
            map_stride: 1,
        },
        sparsity: SparsityConfig {
            density: 0.5,
            momentum: 0.1,
            affine: false,
            scope: Scope::PerChannel,
            accumulate_motifs: Some(10.0),
            method: Method::Sparling,
            batch_norm: true,
        },
        collapse: CollapseConfig {
            channels: 512,
            pool: 8,
            pool_first: false,
        },
        encoder: RowEncoderConfig {
            row_lstm: true,
            positions: Positions::Rows,
            angular_bins: None,
            transformer: transformer(6, 8, 2048, 0.1),
            timescale: PAPER_TIMESCALE,
        },
        decoder: DecoderConfig {
            transformer: transformer(6, 8, 2048, 0.1),
            timescale: PAPER_TIMESCALE,
            vocab: 28,
        },
    }
}

/// The `ltx-2dc3` run around `model`.
fn paper_run(seed: i64, model: ImageModelConfig) -> RunConfig {
    let domain = LatexConfig::default();
    // The reference decodes `maximal_length` = 30 steps (`LATEX_CFG_SPECS` in
    // `latex_decompiler/latex_cfg.py`). Formulas have up to 30 tokens, so no shorter decoding gives
    // the same accuracy: a 30-token formula is judged on its 30 tokens without seeing `</s>`, as in
    // the reference (DigitCircle and audio follow the same rule, the reference's length or a
    // shorter one that provably decides alike).
    let val_max_length = domain.max_length;
    RunConfig {
        preset: "paper".into(),
        seed,
        domain: DomainConfig::Latex(domain),
        model: ModelConfig::Image(model),
        training: TrainingConfig {
            batch_size: 8,
            learning_rate: 1e-5,
            learning_rate_schedule: LearningRateSchedule::Constant,
            adam_epsilon: 1e-8,
            gradient_clip: None,
            val_every: 20_000,
            // `val_percent 0.5` of 20,000, rounded up to whole batches of 8.
            val_samples: 10_008,
            val_max_length,
            max_samples: 6_000_000,
            done_at_density: LATEX_MIN_DENSITY,
            schedule: ScheduleConfig::LinearThresholdAdaptive(
                LinearThresholdAdaptiveConfig::default(),
            ),
            log_every: 1_000,
            curriculum: Vec::new(),
            low_density: None,
            freeze_motifs: false,
            objective: Objective::Sequence,
        },
    }
}

/// `ltx-2dc3` (the authors' `pixel_art/experiments/ltx-2dc3.py`; docs/latex.md): about 46.9 M
/// parameters (PyTorch's count; see `tests/latex.rs`), Adam 1e-5 (eps 1e-8), batch 8, validation
/// every 20,000 samples on 10,008 samples of seed −1 (exact match, decoding 30 steps), Algorithm 1
/// with threshold 1, decay 1e-7 per sample, multiplier 0.75, start at density 0.5; stop below
/// 6.973e-6 (so the last level trained is the paper's evaluation density 8.94e-6) or at 6 M
/// samples.
pub fn latex_paper(seed: i64) -> RunConfig {
    paper_run(seed, paper_model())
}

/// The `cpu` preset's per-pixel density target: four times the paper's evaluation density,
/// 4 · 8.94e-6 = 3.58e-5.
pub const LATEX_CPU_TARGET_DENSITY: f64 = 4.0 * LATEX_PAPER_EVAL_DENSITY;

/// Stride of the `cpu` preset's motif maps: one value per 4x4 pixels (30x90 cells).
pub const LATEX_CPU_MAP_STRIDE: usize = 4;

/// The `cpu` preset's stopping density, per map cell: 0.75 times the target per cell
/// (`LATEX_CPU_TARGET_DENSITY · 16` = 5.72e-4), so the last level trained is the first grid
/// level at or below the target, 0.5 · 0.75^24 = 5.02e-4 per cell = 3.14e-5 per pixel, and the
/// run stops when the schedule would move on to 0.5 · 0.75^25.
pub const LATEX_CPU_DONE_AT_DENSITY: f64 =
    0.75 * LATEX_CPU_TARGET_DENSITY * (LATEX_CPU_MAP_STRIDE * LATEX_CPU_MAP_STRIDE) as f64;

/// A 2-core CPU recipe (v2; docs/latex.md explains the choices, the measured step times and
/// the experiments):
///
/// * Motif model: the trunk runs on 8x8 pixel blocks (space-to-depth: 15x45 positions), 32
///   channels, 2 residual units with edge padding (a blank border reads as background); its
///   receptive field is 8 · (1 + 2 · 2 · 2) = 72 pixels (the paper's is 65). The motif maps
///   have the paper's 32 channels, BatchNorm without affine and the accumulated threshold,
///   but **one value per 4x4 pixels** (30x90 cells, [`LATEX_CPU_MAP_STRIDE`]; each block emits
///   its 2x2 cells): the bottleneck sees 16 times fewer values than at full resolution. The
///   motif metrics place each cell's value at its centre pixel and use the paper's
///   full-resolution symbol boxes; densities are reported per pixel.
/// * Downstream: max-pool 2 (the paper's 8x8-pixel cells: a 15x45 grid), a 1x1 convolution to
///   width 64, the paper's row BiLSTM and row sinusoids, **no** Transformer encoder layer
///   (self-attention over the 675 cells cost half of a step on flex; the row encoder with an
///   attending decoder is the im2latex architecture of Deng et al. 2017), and a 2-layer pre-LN
///   decoder (4 heads, FF 256, no dropout).
/// * Training: batch 16, Adam 1e-3 after 5,000 warm-up samples; validation every 2,500 samples
///   on 500 (exact match). Algorithm 1 as in the paper: the accuracy target starts at 1 and
///   decays 2e-6 per sample (0.005 per validation; the paper's 1e-7 per sample is 0.002 per
///   20,000-sample validation), and is raised to the accuracy after each check, so the density
///   stays at 0.5 until the model decodes formulas; stop below [`LATEX_CPU_DONE_AT_DENSITY`]
///   (the last level trained is 3.14e-5 per pixel, under the target
///   [`LATEX_CPU_TARGET_DENSITY`]) or at 1 M samples (a cap, not a target).
pub fn latex_cpu(seed: i64) -> RunConfig {
    let mut m = paper_model();
    m.motif.hidden = 32;
    m.motif.residual_units = 2;
    m.motif.patch = 8;
    m.motif.map_stride = LATEX_CPU_MAP_STRIDE;
    m.motif.padding = Padding::Edge;
    m.collapse.channels = 64;
    m.collapse.pool = 8 / LATEX_CPU_MAP_STRIDE;
    m.collapse.pool_first = true;
    m.encoder.transformer = cpu_transformer(0);
    m.decoder.transformer = cpu_transformer(2);
    // Tuned and trained with the legacy position timescale (positional.rs).
    m.encoder.timescale = LEGACY_TIMESCALE;
    m.decoder.timescale = LEGACY_TIMESCALE;
    let mut c = paper_run(seed, m);
    c.preset = "cpu".into();
    let t = &mut c.training;
    t.batch_size = 16;
    t.learning_rate = 1e-3;
    t.learning_rate_schedule = LearningRateSchedule::Warmup {
        warmup_samples: 5_000,
    };
    t.val_every = 2_500;
    t.val_samples = 500;
    t.max_samples = 1_000_000;
    t.done_at_density = LATEX_CPU_DONE_AT_DENSITY;
    t.schedule = ScheduleConfig::LinearThresholdAdaptive(LinearThresholdAdaptiveConfig {
        threshold_decrease_per_sample: 2e-6,
        ..LinearThresholdAdaptiveConfig::default()
    });
    c
}

/// A model small enough for tests (a fraction of a second per step): 4 wide, one residual
/// unit on 4x4 blocks, motif maps at stride 2 (60x180 cells, pooled by 4 to the paper's 15x45
/// grid), width 16, one-layer Transformers; the schedule lowers the density at every
/// validation.
pub fn latex_tiny(seed: i64) -> RunConfig {
    let mut m = paper_model();
    m.motif.hidden = 4;
    m.motif.residual_units = 1;
    m.motif.patch = 4;
    m.motif.map_stride = 2;
    m.collapse.channels = 16;
    m.collapse.pool = 4;
    m.collapse.pool_first = true;
    m.encoder.transformer = transformer(1, 2, 32, 0.1);
    m.decoder.transformer = transformer(1, 2, 32, 0.1);
    // Tuned and trained with the legacy position timescale (positional.rs).
    m.encoder.timescale = LEGACY_TIMESCALE;
    m.decoder.timescale = LEGACY_TIMESCALE;
    let mut c = paper_run(seed, m);
    c.preset = "tiny".into();
    super::tiny_training(&mut c.training);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid level `0.5 · 0.75^k` the schedule reaches after `k` reductions.
    fn level(k: i32) -> f64 {
        0.5 * 0.75f64.powi(k)
    }

    /// The last level a run trains: the lowest grid level not below `done_at_density` (the
    /// loop stops when the next reduction would go below it).
    fn last_level(done_at_density: f64) -> (i32, f64) {
        let k = (0..200)
            .take_while(|&k| level(k) >= done_at_density)
            .last()
            .unwrap_or(0);
        (k, level(k))
    }

    #[test]
    fn presets_validate() {
        for name in LATEX_PRESETS {
            let c = latex(name, 1).expect("preset");
            c.validate().expect("valid");
            assert_eq!(c.domain.name(), "latex");
            assert_eq!(c.preset, name);
            assert_eq!(c.training.val_max_length, 30);
        }
        let err = latex("huge", 1).expect_err("unknown preset");
        assert!(err.to_string().contains("paper, cpu, tiny"), "{err}");
    }

    #[test]
    fn paper_stops_after_its_evaluation_density() {
        assert!((LATEX_MIN_DENSITY - 6.973e-6).abs() < 1e-9);
        // The sparsity bar (`SparsityBar.right_above_line` in the authors'
        // `pixel_art/analysis/main_experiment.py`): floor(log(s / 0.5) / log 0.75) = 38.
        let k = ((LATEX_MIN_DENSITY / 0.5).ln() / 0.75f64.ln()).floor() as i32;
        assert_eq!(k, 38);
        assert!((level(38) - LATEX_PAPER_EVAL_DENSITY).abs() < 1e-12);
        let c = latex_paper(1);
        assert_eq!(last_level(c.training.done_at_density), (38, level(38)));
    }

    #[test]
    fn cpu_trains_down_to_at_most_four_times_the_paper_density() {
        let c = latex_cpu(1);
        let (k, last) = last_level(c.training.done_at_density);
        assert_eq!(k, 24);
        let cells = (LATEX_CPU_MAP_STRIDE * LATEX_CPU_MAP_STRIDE) as f64;
        let per_pixel = last / cells;
        assert!(per_pixel <= LATEX_CPU_TARGET_DENSITY, "{per_pixel}");
        // The level before is above the target: no level is trained beyond what it needs.
        assert!(level(k - 1) / cells > LATEX_CPU_TARGET_DENSITY);
        assert!((per_pixel - 3.1356e-5).abs() < 1e-8, "{per_pixel}");
        let ModelConfig::Image(m) = &c.model else {
            panic!("the LaTeX model is an image model");
        };
        assert_eq!(m.motif.receptive_field(), 72);
        assert_eq!(m.motif.motifs, 32);
        assert_eq!(m.motif.map_stride, LATEX_CPU_MAP_STRIDE);
        // The downstream grid is the paper's: 8x8-pixel cells.
        assert_eq!(m.collapse.pool * m.motif.map_stride, 8);
        let ModelConfig::Image(p) = &latex_paper(1).model else {
            panic!("the LaTeX model is an image model");
        };
        assert_eq!(p.motif.receptive_field(), 65);
        assert_eq!(p.collapse.pool * p.motif.map_stride, 8);
        // Algorithm 1 as in the paper: the target starts at 1.
        let ScheduleConfig::LinearThresholdAdaptive(schedule) = &c.training.schedule else {
            panic!("Algorithm 1");
        };
        assert_eq!(schedule.initial_threshold, 1.0);
    }
}
