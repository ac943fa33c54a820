//! Named configurations per domain: `paper` (the authors' run, exactly), `cpu` (a recipe that
//! anneals on a 2-core CPU) and `tiny` (for tests).

mod digit_circle;

pub use digit_circle::{
    DIGIT_CIRCLE_MIN_DENSITY, DIGIT_CIRCLE_PRESETS, digit_circle, digit_circle_cpu,
    digit_circle_paper, digit_circle_tiny,
};
