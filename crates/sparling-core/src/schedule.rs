//! Density schedules: when and how far to lower the density of a sparsity layer.
//!
//! A schedule is a pure state machine. The training loop calls [`DensitySchedule::update`] after
//! each validation with the number of training samples seen so far and the validation accuracy;
//! when it returns `Some(density)` the loop sets that density on the model
//! (e.g. [`crate::SparsityLayer::set_density`]).
//!
//! Internally the schedules keep the *sparsity* `s = 1 - density` and update it exactly as the
//! authors' Python does (`s = 1 - (1 - s) * multiplier`), so the visited densities are the same
//! floating-point values as in the reference runs (for `s >= 0.5` the conversion `1 - s` is exact).

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A serializable state machine that decides the density of a sparsity layer over training.
pub trait DensitySchedule {
    /// The density the model should currently use.
    fn density(&self) -> f64;

    /// Report a validation result.
    ///
    /// `step` is the number of training samples seen (the reference code counts samples, not
    /// optimizer steps) and `accuracy` the validation accuracy in `[0, 1]`. Returns the new
    /// density when it changed.
    ///
    /// # Errors
    /// [`CoreError::StepWentBackwards`] if `step` is smaller than the step of an earlier update,
    /// [`CoreError::InvalidAccuracy`] if `accuracy` is not a finite number.
    fn update(&mut self, step: u64, accuracy: f64) -> Result<Option<f64>, CoreError>;
}

/// Parameters of [`LinearThresholdAdaptive`] (Algorithm 1 of the paper; the authors'
/// `LinearThresholdAdaptiveSUO`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearThresholdAdaptiveConfig {
    /// Accuracy threshold at the start (`T_0`).
    pub initial_threshold: f64,
    /// Lower clamp of the threshold.
    pub minimal_threshold: f64,
    /// Upper clamp of the threshold.
    pub maximal_threshold: f64,
    /// How much the threshold decays per training sample (`d_T`).
    pub threshold_decrease_per_sample: f64,
    /// Updates closer than this many samples to the previous one are ignored.
    pub minimal_update_frequency: u64,
    /// Factor applied to the density when the accuracy beats the threshold (`δ_update`).
    pub information_multiplier: f64,
    /// The step counter at construction.
    pub initial_step: u64,
    /// Different pacing once the density is low (not in the paper, whose schedule is the same
    /// throughout; `None` keeps it so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_density: Option<LowDensityPhase>,
}

/// Pacing of Algorithm 1 below a density: a slower decay of the accuracy target and a minimum
/// number of samples at each level before the density may fall again.
///
/// At low density each reduction costs the downstream model accuracy it needs samples to
/// recover, and a target that decays by about the noise of one validation per validation lets
/// reductions fire on noise (docs/reproduction.md). Reductions stay accuracy-gated: the phase only
/// changes how fast the target decays and how long a level lasts at least.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowDensityPhase {
    /// The phase holds while the density is below this.
    pub below_density: f64,
    /// Replaces [`LinearThresholdAdaptiveConfig::threshold_decrease_per_sample`] in the phase.
    pub threshold_decrease_per_sample: f64,
    /// No reduction fires before this many samples were trained at the current density;
    /// validations before that only let the accuracy target decay.
    #[serde(default)]
    pub minimal_samples_per_level: u64,
}

impl Default for LinearThresholdAdaptiveConfig {
    /// The paper's values for every domain (`initial 1, min 0, max 1, d_T = 1e-7, M = 0,
    /// multiplier 0.75`).
    fn default() -> Self {
        Self {
            initial_threshold: 1.0,
            minimal_threshold: 0.0,
            maximal_threshold: 1.0,
            threshold_decrease_per_sample: 1e-7,
            minimal_update_frequency: 0,
            information_multiplier: 0.75,
            initial_step: 0,
            low_density: None,
        }
    }
}

impl LinearThresholdAdaptiveConfig {
    /// Check the parameters.
    ///
    /// # Errors
    /// [`CoreError::InvalidScheduleParameter`] naming the bad field.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |name: &'static str, value: f64, allowed: &'static str| {
            Err(CoreError::InvalidScheduleParameter {
                name,
                value,
                allowed,
            })
        };
        for (name, value) in [
            ("initial_threshold", self.initial_threshold),
            ("minimal_threshold", self.minimal_threshold),
            ("maximal_threshold", self.maximal_threshold),
            (
                "threshold_decrease_per_sample",
                self.threshold_decrease_per_sample,
            ),
        ] {
            if !value.is_finite() {
                return bad(name, value, "a finite number");
            }
        }
        if self.minimal_threshold > self.maximal_threshold {
            return bad(
                "minimal_threshold",
                self.minimal_threshold,
                "a value <= maximal_threshold",
            );
        }
        let m = self.information_multiplier;
        if !(m.is_finite() && m > 0.0 && m < 1.0) {
            return bad("information_multiplier", m, "a number in (0, 1)");
        }
        if let Some(phase) = &self.low_density {
            let d = phase.below_density;
            if !(d.is_finite() && d > 0.0 && d <= 1.0) {
                return bad("low_density.below_density", d, "a density in (0, 1]");
            }
            let r = phase.threshold_decrease_per_sample;
            if !r.is_finite() {
                return bad(
                    "low_density.threshold_decrease_per_sample",
                    r,
                    "a finite number",
                );
            }
        }
        Ok(())
    }

    /// Build the schedule starting at `density`.
    ///
    /// # Errors
    /// A bad parameter ([`Self::validate`]) or a density outside `(0, 1]`.
    pub fn init(&self, density: f64) -> Result<LinearThresholdAdaptive, CoreError> {
        self.validate()?;
        crate::check_density(density)?;
        Ok(LinearThresholdAdaptive {
            config: self.clone(),
            threshold: self.initial_threshold,
            last_step: self.initial_step,
            level_start: self.initial_step,
            sparsity: 1.0 - density,
        })
    }
}

/// Algorithm 1: the accuracy target decays linearly with the samples seen; whenever validation
/// accuracy beats it, the density is multiplied by `information_multiplier` and the target is
/// raised to the accuracy reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearThresholdAdaptive {
    config: LinearThresholdAdaptiveConfig,
    threshold: f64,
    last_step: u64,
    /// Step at which the current density was set (states saved before this field existed
    /// read 0).
    #[serde(default)]
    level_start: u64,
    sparsity: f64,
}

impl LinearThresholdAdaptive {
    /// The current accuracy threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The parameters.
    pub fn config(&self) -> &LinearThresholdAdaptiveConfig {
        &self.config
    }

    /// The step of the last update that was not skipped.
    pub fn last_step(&self) -> u64 {
        self.last_step
    }

    /// Start from accuracy target `threshold` (clamped to the configured range) instead of
    /// `initial_threshold`, e.g. to continue the target of the run a model was forked from.
    pub fn set_threshold(&mut self, threshold: f64) {
        self.threshold = threshold
            .max(self.config.minimal_threshold)
            .min(self.config.maximal_threshold);
    }

    /// The low-density phase, if the current density is in it.
    fn phase(&self) -> Option<&LowDensityPhase> {
        self.config
            .low_density
            .as_ref()
            .filter(|p| self.density() < p.below_density)
    }
}

impl DensitySchedule for LinearThresholdAdaptive {
    fn density(&self) -> f64 {
        1.0 - self.sparsity
    }

    fn update(&mut self, step: u64, accuracy: f64) -> Result<Option<f64>, CoreError> {
        if !accuracy.is_finite() {
            return Err(CoreError::InvalidAccuracy(accuracy));
        }
        let Some(elapsed) = step.checked_sub(self.last_step) else {
            return Err(CoreError::StepWentBackwards {
                step,
                last: self.last_step,
            });
        };
        // A skipped update does not move `last_step`, as in the reference.
        if elapsed < self.config.minimal_update_frequency {
            return Ok(None);
        }
        self.last_step = step;
        let phase = self.phase();
        let rate = phase.map_or(self.config.threshold_decrease_per_sample, |p| {
            p.threshold_decrease_per_sample
        });
        let settled = phase.is_none_or(|p| step - self.level_start >= p.minimal_samples_per_level);
        let decayed = self.threshold - rate * elapsed as f64;
        self.threshold = decayed
            .max(self.config.minimal_threshold)
            .min(self.config.maximal_threshold);
        let fired = settled && accuracy > self.threshold;
        if fired {
            self.sparsity = 1.0 - (1.0 - self.sparsity) * self.config.information_multiplier;
            self.level_start = step;
        }
        // Inside a level's minimum length the target only decays: the first validation allowed
        // to fire compares against the accuracy that left the previous level.
        if settled {
            self.threshold = self.threshold.max(accuracy);
        }
        Ok(fired.then(|| self.density()))
    }
}

/// A schedule that never changes the density (the authors' `NoopSUO`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstantDensity {
    density: f64,
}

impl ConstantDensity {
    /// Keep `density` for the whole run.
    ///
    /// # Errors
    /// [`CoreError::InvalidDensity`] outside `(0, 1]`.
    pub fn new(density: f64) -> Result<Self, CoreError> {
        crate::check_density(density)?;
        Ok(Self { density })
    }
}

impl DensitySchedule for ConstantDensity {
    fn density(&self) -> f64 {
        self.density
    }

    fn update(&mut self, _step: u64, accuracy: f64) -> Result<Option<f64>, CoreError> {
        if !accuracy.is_finite() {
            return Err(CoreError::InvalidAccuracy(accuracy));
        }
        Ok(None)
    }
}

/// Which schedule a run uses, as written in a config file (`type = "linear_threshold_adaptive"`
/// or `type = "constant"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// Algorithm 1.
    LinearThresholdAdaptive(LinearThresholdAdaptiveConfig),
    /// Keep the starting density.
    Constant,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self::LinearThresholdAdaptive(LinearThresholdAdaptiveConfig::default())
    }
}

impl ScheduleConfig {
    /// Build the schedule starting at `density`.
    ///
    /// # Errors
    /// A bad parameter or density.
    pub fn init(&self, density: f64) -> Result<Schedule, CoreError> {
        Ok(match self {
            Self::LinearThresholdAdaptive(config) => {
                Schedule::LinearThresholdAdaptive(config.init(density)?)
            }
            Self::Constant => Schedule::Constant(ConstantDensity::new(density)?),
        })
    }
}

/// A running schedule of either kind; serialize it to checkpoint the schedule state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// Algorithm 1.
    LinearThresholdAdaptive(LinearThresholdAdaptive),
    /// Fixed density.
    Constant(ConstantDensity),
}

impl Schedule {
    /// The accuracy threshold, for schedules that have one.
    pub fn threshold(&self) -> Option<f64> {
        match self {
            Self::LinearThresholdAdaptive(s) => Some(s.threshold()),
            Self::Constant(_) => None,
        }
    }

    /// Start from accuracy target `threshold` (schedules without a target ignore it); see
    /// [`LinearThresholdAdaptive::set_threshold`].
    pub fn set_threshold(&mut self, threshold: f64) {
        if let Self::LinearThresholdAdaptive(s) = self {
            s.set_threshold(threshold);
        }
    }
}

impl DensitySchedule for Schedule {
    fn density(&self) -> f64 {
        match self {
            Self::LinearThresholdAdaptive(s) => s.density(),
            Self::Constant(s) => s.density(),
        }
    }

    fn update(&mut self, step: u64, accuracy: f64) -> Result<Option<f64>, CoreError> {
        match self {
            Self::LinearThresholdAdaptive(s) => s.update(step, accuracy),
            Self::Constant(s) => s.update(step, accuracy),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Sequences ported from the authors' `tests/test_sparsity_updater.py`; the Python compares
    //! sparsities with `assertEqual`, and so do we (as `1 - density`).
    use super::*;
    use proptest::prelude::*;

    fn suo(
        init: f64,
        min: f64,
        max: f64,
        dec: f64,
        freq: u64,
        mult: f64,
    ) -> LinearThresholdAdaptive {
        LinearThresholdAdaptiveConfig {
            initial_threshold: init,
            minimal_threshold: min,
            maximal_threshold: max,
            threshold_decrease_per_sample: dec,
            minimal_update_frequency: freq,
            information_multiplier: mult,
            initial_step: 0,
            low_density: None,
        }
        .init(0.5)
        .expect("valid schedule")
    }

    fn sparsity_after(s: &mut LinearThresholdAdaptive, step: u64, acc: f64) -> f64 {
        s.update(step, acc).expect("valid update");
        1.0 - s.density()
    }

    #[test]
    fn same_threshold_sequence() {
        let mut s = suo(0.8, 0.8, 0.8, 1e-5, 10, 0.1);
        assert_eq!(1.0 - s.density(), 0.5);
        assert_eq!(sparsity_after(&mut s, 100, 0.9), 0.95);
        assert_eq!(sparsity_after(&mut s, 200, 0.7), 0.95);
        assert_eq!(sparsity_after(&mut s, 300, 0.9), 0.995);
        assert_eq!(sparsity_after(&mut s, 305, 0.9), 0.995); // too soon after 300
        assert_eq!(sparsity_after(&mut s, 311, 0.9), 0.9995);
    }

    #[test]
    fn updating_threshold_sequence() {
        let mut s = suo(0.9, 0.8, 0.9, 0.01, 0, 0.1);
        assert_eq!(sparsity_after(&mut s, 3, 0.89), 0.95); // 89% > 87%
        assert_eq!(sparsity_after(&mut s, 4, 0.875), 0.95); // threshold now 88%
        assert_eq!(sparsity_after(&mut s, 100, 0.79), 0.95); // clamped to 80%
        assert_eq!(sparsity_after(&mut s, 101, 0.83), 0.995);
        assert_eq!(sparsity_after(&mut s, 102, 0.819), 0.995); // threshold 82%
    }

    #[test]
    fn below_threshold_no_update() {
        let mut s = suo(0.9, 0.0, 1.0, 0.0, 0, 0.5);
        assert_eq!(s.update(1, 0.8).expect("ok"), None);
        assert_eq!(s.density(), 0.5);
    }

    #[test]
    fn above_threshold_reduces_information() {
        let mut s = suo(0.5, 0.0, 1.0, 0.0, 0, 0.5);
        assert_eq!(s.update(1, 0.6).expect("ok"), Some(0.25));
        assert_eq!(1.0 - s.density(), 0.75);
    }

    #[test]
    fn minimal_update_frequency_enforced() {
        let mut s = suo(0.0, 0.0, 1.0, 0.0, 10, 0.5);
        assert_eq!(s.update(5, 0.9).expect("ok"), None);
        assert!(s.update(10, 0.9).expect("ok").is_some());
    }

    #[test]
    fn threshold_decreases_over_time() {
        let mut s = suo(0.9, 0.0, 1.0, 0.01, 0, 0.5);
        assert!(s.update(50, 0.5).expect("ok").is_some()); // threshold 0.4
    }

    #[test]
    fn threshold_clamped_to_minimal_and_maximal() {
        let mut s = suo(0.9, 0.8, 1.0, 0.1, 0, 0.5);
        assert!(s.update(100, 0.85).expect("ok").is_some());
        let mut s = suo(0.5, 0.0, 0.6, -0.1, 0, 0.5); // threshold grows, clamped at 0.6
        assert!(s.update(100, 0.7).expect("ok").is_some());
    }

    #[test]
    fn threshold_ratchets_up_to_accuracy() {
        let mut s = suo(0.5, 0.0, 1.0, 0.0, 0, 0.9);
        assert!(s.update(1, 0.8).expect("ok").is_some());
        assert_eq!(s.threshold(), 0.8);
        assert_eq!(s.update(2, 0.7).expect("ok"), None);
    }

    fn phased(below: f64, rate: f64, dwell: u64) -> LinearThresholdAdaptive {
        LinearThresholdAdaptiveConfig {
            initial_threshold: 0.5,
            threshold_decrease_per_sample: 0.01,
            information_multiplier: 0.5,
            low_density: Some(LowDensityPhase {
                below_density: below,
                threshold_decrease_per_sample: rate,
                minimal_samples_per_level: dwell,
            }),
            ..LinearThresholdAdaptiveConfig::default()
        }
        .init(0.5)
        .expect("valid schedule")
    }

    #[test]
    fn low_density_phase_slows_the_target_decay() {
        // Above 0.3 the target decays 0.01 per sample, below it 0.001.
        let mut s = phased(0.3, 0.001, 0);
        assert_eq!(s.update(1, 0.9).expect("ok"), Some(0.25));
        assert_eq!(s.threshold(), 0.9);
        assert_eq!(s.update(11, 0.5).expect("ok"), None);
        assert!((s.threshold() - 0.89).abs() < 1e-12);
        // Without the phase the same step would have decayed the target to 0.8.
        let mut t = phased(0.1, 0.001, 0);
        t.update(1, 0.9).expect("ok");
        t.update(11, 0.5).expect("ok");
        assert!((t.threshold() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn low_density_phase_holds_each_level_for_its_minimum() {
        let mut s = phased(0.3, 0.0, 100);
        // Entering the phase is the reduction at step 10; the next needs 100 more samples.
        assert_eq!(s.update(10, 0.9).expect("ok"), Some(0.25));
        assert_eq!(s.update(60, 0.99).expect("ok"), None);
        // Validations inside the minimum do not raise the target.
        assert_eq!(s.threshold(), 0.9);
        assert_eq!(s.update(109, 0.95).expect("ok"), None);
        assert_eq!(s.update(110, 0.95).expect("ok"), Some(0.125));
        assert_eq!(s.threshold(), 0.95);
        // Above the phase's density a reduction needs no minimum.
        let mut t = phased(0.1, 0.0, 100);
        assert!(t.update(10, 0.9).expect("ok").is_some());
        assert!(t.update(11, 0.95).expect("ok").is_some());
    }

    #[test]
    fn set_threshold_is_clamped() {
        let mut s = suo(0.5, 0.2, 0.9, 0.0, 0, 0.5);
        s.set_threshold(0.95);
        assert_eq!(s.threshold(), 0.9);
        s.set_threshold(0.7);
        assert_eq!(s.threshold(), 0.7);
    }

    #[test]
    fn paper_grid_reaches_the_reported_density() {
        // The authors' `LinearThresholdAdaptiveSUO` (`sparling/sparsity_update.py`,
        // kavigupta/sparling): 32 reductions from 0.5 give 5.0226212860327e-05, the density the
        // paper reports DigitCircle at.
        let mut s = LinearThresholdAdaptiveConfig::default()
            .init(0.5)
            .expect("paper schedule");
        s.threshold = 0.0;
        for i in 1..=32 {
            s.update(i * 20_000, 1.0).expect("ok");
            s.threshold = 0.0;
        }
        assert!((s.density() - 5.0226212860327e-05).abs() < 1e-17);
    }

    #[test]
    fn rejects_bad_input() {
        let mut s = suo(0.5, 0.0, 1.0, 0.0, 0, 0.5);
        s.update(10, 0.1).expect("ok");
        assert!(matches!(
            s.update(5, 0.1),
            Err(CoreError::StepWentBackwards { step: 5, last: 10 })
        ));
        assert!(matches!(
            s.update(20, f64::NAN),
            Err(CoreError::InvalidAccuracy(_))
        ));
        let bad = LinearThresholdAdaptiveConfig {
            information_multiplier: 1.5,
            ..Default::default()
        };
        assert!(bad.init(0.5).is_err());
        assert!(LinearThresholdAdaptiveConfig::default().init(0.0).is_err());
    }

    #[test]
    fn state_round_trips_through_serde() {
        let mut s = ScheduleConfig::default().init(0.5).expect("ok");
        s.update(20_000, 0.999).expect("ok");
        let json = serde_json::to_string(&s).expect("serialize");
        let back: Schedule = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Property (8): density only shrinks, by exactly the multiplier, and never while the
        /// accuracy is at or below the (decayed, clamped) threshold.
        #[test]
        fn only_shrinks_by_the_multiplier(
            init in 0.0f64..=1.0,
            dec in 0.0f64..1e-3,
            freq in 0u64..50,
            mult in 0.05f64..0.95,
            updates in prop::collection::vec((1u64..100, 0.0f64..=1.0), 1..40),
        ) {
            let mut s = suo(init, 0.0, 1.0, dec, freq, mult);
            let mut step = 0;
            for (gap, acc) in updates {
                step += gap;
                let before = s.density();
                let last = s.last_step();
                let threshold_before = s.threshold();
                let changed = s.update(step, acc).expect("valid");
                let after = s.density();
                prop_assert!(after <= before);
                match changed {
                    Some(d) => {
                        prop_assert_eq!(d, after);
                        prop_assert!((after - before * mult).abs() <= 1e-12 * before.max(1e-300) + 1e-15);
                        let decayed = (threshold_before - dec * (step - last) as f64).clamp(0.0, 1.0);
                        prop_assert!(acc > decayed);
                    }
                    None => {
                        prop_assert_eq!(after, before);
                        if step - last >= freq {
                            let decayed = (threshold_before - dec * (step - last) as f64).clamp(0.0, 1.0);
                            prop_assert!(acc <= decayed);
                        }
                    }
                }
            }
        }
    }
}
