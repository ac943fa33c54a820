//! The authors' statistical tests (`kavigupta/sparling`, `tests/test_sparsity.py`), ported:
//! after 100 calibration batches of N(0, 1) data with momentum 0.1, the per-channel empirical
//! sparsity in evaluation is within 0.03 of the target and the thresholds are within 0.1 of the
//! normal quantile.

use burn::prelude::*;
use burn::tensor::Distribution;
use sparling_core::{
    SparseLayerWithBatchNormConfig, SparsityLayer, SparsityLayerConfig, ThresholdScope,
};

const CHANNELS: usize = 32;
const NUM_BATCHES: usize = 100;
const TOLERANCE: f64 = 0.03;

/// Standard normal quantiles `Φ⁻¹(p)` (scipy.stats.norm.ppf), for the thresholds the layer must
/// converge to on N(0, 1) data.
const QUANTILES: [(f64, f32); 4] = [
    (0.3, -0.524_400_5),
    (0.5, 0.0),
    (0.7, 0.524_400_5),
    (0.9, 1.281_551_6),
];

fn normal<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// Calibrate a layer on `NUM_BATCHES` batches from `make`, then return its evaluation copy.
fn calibrate<const D: usize>(config: SparsityLayerConfig, shape: [usize; D]) -> SparsityLayer {
    let device = Device::flex().autodiff();
    device.seed(0);
    let layer = config.init(&device).expect("valid config");
    for _ in 0..NUM_BATCHES {
        layer.forward(normal(shape, &device));
    }
    layer.valid()
}

/// Fraction of zeros per channel of `[N, C, ...]` output.
fn sparsity_per_channel<const D: usize>(out: Tensor<D>) -> Vec<f64> {
    let dims = out.dims();
    let c = dims[1];
    let values = out
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    let spatial: usize = dims[2..].iter().product();
    let mut zeros = vec![0usize; c];
    for (i, v) in values.iter().enumerate() {
        if *v == 0.0 {
            zeros[(i / spatial) % c] += 1;
        }
    }
    let per_channel = values.len() / c;
    zeros
        .iter()
        .map(|z| *z as f64 / per_channel as f64)
        .collect()
}

fn assert_per_channel(out: Vec<f64>, target: f64) {
    for (c, s) in out.iter().enumerate() {
        assert!(
            (s - target).abs() <= TOLERANCE,
            "channel {c}: sparsity {s:.3} vs {target}"
        );
    }
}

#[test]
fn per_channel_2d_hits_target_sparsity() {
    for target in [0.5, 0.8, 0.9, 0.95] {
        let layer = calibrate(
            SparsityLayerConfig::new(CHANNELS).with_density(1.0 - target),
            [16, CHANNELS, 8, 8],
        );
        let device = Device::flex();
        device.seed(99);
        let out = layer.forward(normal([256, CHANNELS, 8, 8], &device));
        assert_per_channel(sparsity_per_channel(out), target);
    }
}

#[test]
fn per_channel_1d_hits_target_sparsity() {
    for target in [0.5, 0.8] {
        let layer = calibrate(
            SparsityLayerConfig::new(CHANNELS).with_density(1.0 - target),
            [16, CHANNELS, 64],
        );
        let device = Device::flex();
        device.seed(99);
        let out = layer.forward(normal([256, CHANNELS, 64], &device));
        assert_per_channel(sparsity_per_channel(out), target);
    }
}

#[test]
fn thresholds_approximate_the_normal_quantile() {
    for (target, expected) in QUANTILES {
        let layer = calibrate(
            SparsityLayerConfig::new(CHANNELS).with_density(1.0 - target),
            [500, CHANNELS, 1],
        );
        for (c, t) in layer.thresholds().expect("thresholds").iter().enumerate() {
            assert!(
                (t - expected).abs() <= 0.1,
                "sparsity {target}, channel {c}: {t} vs {expected}"
            );
        }
    }
}

#[test]
fn heterogeneous_channels_each_hit_their_own_quantile() {
    // Channel c ~ N(mu_c, 1), mu from -2 to 2: each threshold must track its own channel.
    let device = Device::flex().autodiff();
    device.seed(0);
    let means: Vec<f32> = (0..CHANNELS)
        .map(|c| -2.0 + 4.0 * c as f32 / (CHANNELS - 1) as f32)
        .collect();
    let mu =
        |dev: &Device| Tensor::<1>::from_floats(means.as_slice(), dev).reshape([1, CHANNELS, 1, 1]);
    let layer = SparsityLayerConfig::new(CHANNELS)
        .init(&device)
        .expect("valid config");
    for _ in 0..NUM_BATCHES {
        layer.forward(normal([16, CHANNELS, 8, 8], &device) + mu(&device));
    }
    let layer = layer.valid();
    for (c, (t, m)) in layer
        .thresholds()
        .expect("t")
        .iter()
        .zip(&means)
        .enumerate()
    {
        assert!((t - m).abs() <= 0.1, "channel {c}: {t} vs mean {m}");
    }
    let plain = Device::flex();
    plain.seed(99);
    let out = layer.forward(normal([256, CHANNELS, 8, 8], &plain) + mu(&plain));
    assert_per_channel(sparsity_per_channel(out), 0.5);
}

#[test]
fn universal_threshold_hits_total_sparsity() {
    let layer = calibrate(
        SparsityLayerConfig::new(8)
            .with_density(0.3)
            .with_scope(ThresholdScope::Universal),
        [16, 8, 4, 4],
    );
    let device = Device::flex();
    device.seed(99);
    let out = layer.forward(normal([64, 8, 4, 4], &device));
    let total: f64 = sparsity_per_channel(out).iter().sum::<f64>() / 8.0;
    assert!((total - 0.7).abs() <= TOLERANCE, "total sparsity {total}");
}

#[test]
fn accumulated_threshold_at_high_sparsity() {
    // The accumulated variant at 99.9 % sparsity with 10 expected activations per update:
    // thresholds near the 0.999 quantile (3.09) and overall sparsity in [0.9985, 0.9995].
    let layer = calibrate(
        SparsityLayerConfig::new(CHANNELS)
            .with_density(0.001)
            .with_accumulate_motifs(Some(10.0)),
        [500, CHANNELS, 1],
    );
    for t in layer.thresholds().expect("thresholds") {
        // 100 batches of 500 rows give ~5 updates; start from 0, so allow for the momentum lag.
        assert!(t > 0.0, "threshold did not move: {t}");
    }
    let longer = {
        let device = Device::flex().autodiff();
        device.seed(0);
        let layer = SparsityLayerConfig::new(CHANNELS)
            .with_density(0.001)
            .with_accumulate_motifs(Some(10.0))
            .init(&device)
            .expect("valid config");
        for _ in 0..NUM_BATCHES * 100 {
            layer.forward(normal([500, CHANNELS, 1], &device));
        }
        layer.valid()
    };
    for t in longer.thresholds().expect("thresholds") {
        assert!((t - 3.090_232).abs() <= 0.3, "threshold {t}");
    }
    let device = Device::flex();
    device.seed(99);
    let out = longer.forward(normal([10_000, CHANNELS, 1], &device));
    let total: f64 = sparsity_per_channel(out).iter().sum::<f64>() / CHANNELS as f64;
    assert!(
        (0.9985..0.9995).contains(&total),
        "overall sparsity {total}"
    );
}

#[test]
fn with_batch_norm_hits_target_on_shifted_data() {
    // BatchNorm removes a per-channel scale and shift before the threshold.
    let device = Device::flex().autodiff();
    device.seed(0);
    let layer =
        SparseLayerWithBatchNormConfig::new(SparsityLayerConfig::new(CHANNELS).with_density(0.3))
            .init(&device)
            .expect("valid config");
    for _ in 0..NUM_BATCHES {
        layer.forward(normal([16, CHANNELS, 8, 8], &device) * 3.0 + 5.0);
    }
    let layer = layer.valid();
    let plain = Device::flex();
    plain.seed(99);
    let out = layer.forward(normal([64, CHANNELS, 8, 8], &plain) * 3.0 + 5.0);
    let total: f64 = sparsity_per_channel(out).iter().sum::<f64>() / CHANNELS as f64;
    assert!((total - 0.7).abs() <= TOLERANCE, "sparsity {total}");
}
