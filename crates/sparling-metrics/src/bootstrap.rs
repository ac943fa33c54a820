//! 95% bootstrap interval of a mean over seeds, as `pixel_art/utils/bootstrap.py`
//! `bootstrap_mean`:
//!
//! ```python
//! values = values[~np.isnan(values)]
//! samplings = np.random.RandomState(0).choice(values, size=(count, len(values)))
//! means = np.mean(samplings, axis=1)
//! return np.quantile(means, [confidence / 2, 1 - confidence / 2])
//! ```
//!
//! The resampling reproduces numpy exactly: the `RandomState` stream and pairwise mean of
//! `sparling-numpy` (the generators' own), and numpy's linear-interpolation quantile.

use serde::{Deserialize, Serialize};
use sparling_numpy::{NumpyRandomState, numpy_mean};

use crate::error::MetricsError;

/// Settings of [`bootstrap_mean_ci`]; the defaults are the authors'.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    /// Number of resamples (1000).
    pub resamples: usize,
    /// Two-sided miss rate: the interval is the `confidence/2` and `1 − confidence/2`
    /// quantiles (0.05, i.e. a 95% interval).
    pub confidence: f64,
    /// `RandomState` seed of the resampling (0).
    pub seed: u32,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 1000,
            confidence: 0.05,
            seed: 0,
        }
    }
}

/// A mean and its bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Mean of the non-NaN values.
    pub mean: f64,
    /// Lower quantile of the resampled means.
    pub low: f64,
    /// Upper quantile of the resampled means.
    pub high: f64,
}

/// Bootstrap interval of the mean of `values` (NaNs are dropped, like the Python).
///
/// # Errors
/// [`MetricsError::Empty`] if no non-NaN value remains, [`MetricsError::InvalidBootstrap`] for
/// zero resamples or a confidence outside (0, 1).
pub fn bootstrap_mean_ci(
    values: &[f64],
    config: &BootstrapConfig,
) -> Result<ConfidenceInterval, MetricsError> {
    if config.resamples == 0 {
        return Err(MetricsError::InvalidBootstrap(
            "resamples must be positive".into(),
        ));
    }
    if !(config.confidence > 0.0 && config.confidence < 1.0) {
        return Err(MetricsError::InvalidBootstrap(format!(
            "confidence must be in (0, 1), got {}",
            config.confidence
        )));
    }
    let values: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if values.is_empty() {
        return Err(MetricsError::Empty(
            "bootstrap needs at least one non-NaN value",
        ));
    }
    let n = values.len();
    let mut rng = NumpyRandomState::new(config.seed);
    let mut row = vec![0.0; n];
    let mut means = Vec::with_capacity(config.resamples);
    for _ in 0..config.resamples {
        // choice(values, size=(count, n)) = values[randint(0, n, size=(count, n))], row-major.
        for slot in &mut row {
            *slot = values[rng.interval((n - 1) as u64) as usize];
        }
        means.push(numpy_mean(&row));
    }
    means.sort_by(f64::total_cmp);
    Ok(ConfidenceInterval {
        mean: numpy_mean(&values),
        low: quantile_linear(&means, config.confidence / 2.0),
        high: quantile_linear(&means, 1.0 - config.confidence / 2.0),
    })
}

/// `np.quantile(sorted, q)` with the default `linear` method, including numpy's `_lerp`
/// (which interpolates from the upper neighbour when the fraction is ≥ 0.5).
fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * q;
    let below = virtual_index.floor();
    let lo = (below as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = virtual_index - below;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_values_give_a_point_interval() {
        let ci = bootstrap_mean_ci(&[2.0; 9], &BootstrapConfig::default()).expect("valid");
        assert_eq!((ci.mean, ci.low, ci.high), (2.0, 2.0, 2.0));
    }

    #[test]
    fn bad_inputs() {
        let c = BootstrapConfig::default();
        assert!(bootstrap_mean_ci(&[], &c).is_err());
        assert!(bootstrap_mean_ci(&[f64::NAN], &c).is_err());
        let zero = BootstrapConfig {
            resamples: 0,
            ..c.clone()
        };
        assert!(bootstrap_mean_ci(&[1.0], &zero).is_err());
        let bad = BootstrapConfig {
            confidence: 1.0,
            ..c
        };
        assert!(bootstrap_mean_ci(&[1.0], &bad).is_err());
    }

    #[test]
    fn quantile_matches_numpy_examples() {
        // np.quantile([1, 2, 3, 4], 0.5) == 2.5, [0.25] -> 1.75, [0.9] -> 3.7
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_linear(&s, 0.5), 2.5);
        assert_eq!(quantile_linear(&s, 0.25), 1.75);
        assert!((quantile_linear(&s, 0.9) - 3.7).abs() < 1e-15);
        assert_eq!(quantile_linear(&s, 1.0), 4.0);
    }
}

#[cfg(test)]
mod golden {
    //! Golden values from `scripts/digit_circle_reference.py metrics` (numpy 2.4.6).

    #[test]
    fn pairwise_sum_matches_numpy() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/metrics_golden.json"))
                .expect("golden parses");
        for case in doc["sums"].as_array().expect("array") {
            let values: Vec<f64> = case["values"]
                .as_array()
                .expect("array")
                .iter()
                .map(|b| f64::from_bits(b.as_u64().expect("bits")))
                .collect();
            let want = f64::from_bits(case["sum"].as_u64().expect("bits"));
            assert_eq!(
                sparling_numpy::numpy_sum(&values).to_bits(),
                want.to_bits(),
                "n = {}",
                values.len()
            );
        }
    }
}
