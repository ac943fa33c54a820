//! Named configurations per domain: `paper` (the authors' run, exactly), `cpu` (a recipe that
//! anneals on a 2-core CPU) and `tiny` (for tests).
//!
//! [`get`] picks a preset by [`Domain`] and name, as the CLI and xtask do.

mod audio;
mod digit_circle;
mod latex;

pub use audio::{
    AUDIO_MEAN_DIGITS, AUDIO_MIN_DENSITY, AUDIO_PAPER_EVAL_DENSITY, AUDIO_PRESETS, audio,
    audio_cpu, audio_paper, audio_tiny,
};
pub use digit_circle::{
    DIGIT_CIRCLE_MIN_DENSITY, DIGIT_CIRCLE_PRESETS, digit_circle, digit_circle_cpu,
    digit_circle_direct, digit_circle_paper, digit_circle_tiny,
};
pub use latex::{
    LATEX_CPU_DONE_AT_DENSITY, LATEX_CPU_MAP_STRIDE, LATEX_CPU_TARGET_DENSITY, LATEX_MEAN_SYMBOLS,
    LATEX_MIN_DENSITY, LATEX_PAPER_EVAL_DENSITY, LATEX_PRESETS, latex, latex_cpu, latex_paper,
    latex_tiny,
};

use sparling_core::{LinearThresholdAdaptiveConfig, ScheduleConfig};

use crate::config::{RunConfig, TrainingConfig};
use crate::domain::Domain;
use crate::error::ModelError;
use crate::modules::encoder::TransformerConfig;

/// The preset `name` of `domain` with seed `seed`.
///
/// # Errors
/// [`ModelError::UnknownPreset`].
pub fn get(domain: Domain, name: &str, seed: i64) -> Result<RunConfig, ModelError> {
    match domain {
        Domain::DigitCircle => digit_circle(name, seed),
        Domain::Audio => audio(name, seed),
        Domain::Latex => latex(name, seed),
    }
}

/// The preset names of `domain`.
#[must_use]
pub fn names(domain: Domain) -> &'static [&'static str] {
    match domain {
        Domain::DigitCircle => &DIGIT_CIRCLE_PRESETS,
        Domain::Audio => &AUDIO_PRESETS,
        Domain::Latex => &LATEX_PRESETS,
    }
}

/// A post-LN Transformer stack (PyTorch's `nn.TransformerEncoderLayer` defaults but the sizes).
fn transformer(
    layers: usize,
    heads: usize,
    feed_forward: usize,
    dropout: f64,
) -> TransformerConfig {
    TransformerConfig {
        layers,
        heads,
        feed_forward,
        dropout,
        norm_first: false,
    }
}

/// The CPU presets' stack: pre-LN (it tolerates their larger learning rate), 4 heads, FF 256,
/// no dropout.
fn cpu_transformer(layers: usize) -> TransformerConfig {
    TransformerConfig {
        norm_first: true,
        ..transformer(layers, 4, 256, 0.0)
    }
}

/// The `tiny` presets' training: batch 4, Adam 1e-3, validation every 16 samples on 8, 64
/// samples in all, and a schedule whose target starts at 0 so the density falls at every
/// validation (tests see several levels in seconds).
fn tiny_training(t: &mut TrainingConfig) {
    t.batch_size = 4;
    t.learning_rate = 1e-3;
    t.val_every = 16;
    t.val_samples = 8;
    t.max_samples = 64;
    t.log_every = 8;
    t.schedule = ScheduleConfig::LinearThresholdAdaptive(LinearThresholdAdaptiveConfig {
        initial_threshold: 0.0,
        ..LinearThresholdAdaptiveConfig::default()
    });
}
