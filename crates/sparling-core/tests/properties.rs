//! Property tests of the sparsity guarantees of `SparsityLayer` (issue "Workspace foundation and
//! sparling-core", properties 1-7; property 8, the schedule, lives next to the schedule).

mod common;

use burn::prelude::*;
use common::{data, training_device};
use proptest::prelude::*;
use sparling_core::threshold::kth_index;
use sparling_core::{SparsityLayer, SparsityLayerConfig, ThresholdScope};

/// Densities spread log-uniformly from 0.5 down to 1e-5.
fn density() -> impl Strategy<Value = f64> {
    (-5.0f64..=(0.5f64).log10()).prop_map(|e| 10f64.powf(e))
}

/// An input shape `[batch, channels, spatial...]` with one or two spatial axes.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    (
        1usize..5,
        1usize..6,
        1usize..20,
        prop::option::of(1usize..12),
    )
        .prop_map(|(n, c, a, b)| {
            let mut s = vec![n, c, a];
            s.extend(b);
            s
        })
}

fn layer(channels: usize, density: f64, momentum: f64, scope: ThresholdScope) -> SparsityLayer {
    SparsityLayerConfig::new(channels)
        .with_density(density)
        .with_momentum(momentum)
        .with_scope(scope)
        .init(&training_device())
        .expect("valid config")
}

/// Run `f` on an input of rank 3 or 4 built from `values`.
fn forward_dyn(
    layer: &SparsityLayer,
    shape: &[usize],
    values: &[f32],
    device: &Device,
) -> Vec<f32> {
    let data = TensorData::new(values.to_vec(), shape.to_vec());
    let out = match shape.len() {
        3 => layer
            .forward(Tensor::<3>::from_data(data, device))
            .into_data(),
        _ => layer
            .forward(Tensor::<4>::from_data(data, device))
            .into_data(),
    };
    out.convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}

/// Channel of flat index `i` for an `[N, C, spatial...]` layout.
fn channel_of(i: usize, shape: &[usize]) -> usize {
    let spatial: usize = shape[2..].iter().product();
    (i / spatial) % shape[1]
}

fn nonzeros_per_channel(out: &[f32], shape: &[usize]) -> Vec<usize> {
    let mut counts = vec![0; shape[1]];
    for (i, v) in out.iter().enumerate() {
        if *v != 0.0 {
            counts[channel_of(i, shape)] += 1;
        }
    }
    counts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// (1) With the batch threshold alone (momentum 1) each channel keeps at most `rows - k`
    /// nonzeros, exactly `rows - k` when the values are distinct; so the measured density exceeds
    /// the target only by the floor of `k`.
    #[test]
    fn per_channel_keeps_at_most_rows_minus_k(
        shape in shape(), density in density(), seed in any::<u64>(), ties in any::<bool>(),
    ) {
        let n: usize = shape.iter().product();
        let values = data(seed, n, ties);
        let layer = layer(shape[1], density, 1.0, ThresholdScope::PerChannel);
        let out = forward_dyn(&layer, &shape, &values, &training_device());
        let rows = n / shape[1];
        let k = kth_index(rows, 1.0 - density);
        let mut distinct = vec![std::collections::BTreeSet::new(); shape[1]];
        for (i, v) in values.iter().enumerate() {
            distinct[channel_of(i, &shape)].insert((v + 0.0).to_bits()); // -0.0 == 0.0
        }
        for (c, kept) in nonzeros_per_channel(&out, &shape).into_iter().enumerate() {
            prop_assert!(kept <= rows - k, "channel {c}: kept {kept} > rows - k = {}", rows - k);
            if distinct[c].len() == rows {
                prop_assert_eq!(kept, rows - k);
            }
            let measured = kept as f64 / rows as f64;
            prop_assert!(measured <= density + 1.0 / rows as f64);
        }
    }

    /// (2) Outputs are >= 0, zero exactly where `x <= t` and `x - t` elsewhere, for any momentum.
    #[test]
    fn output_is_relu_of_x_minus_updated_threshold(
        shape in shape(), density in density(), momentum in 0.0f64..=1.0, seed in any::<u64>(),
    ) {
        let n: usize = shape.iter().product();
        let layer = layer(shape[1], density, momentum, ThresholdScope::PerChannel);
        let device = training_device();
        forward_dyn(&layer, &shape, &data(seed ^ 7, n, false), &device);
        let values = data(seed, n, false);
        let out = forward_dyn(&layer, &shape, &values, &device);
        let t = layer.thresholds().expect("thresholds");
        for (i, (x, y)) in values.iter().zip(&out).enumerate() {
            let tc = t[channel_of(i, &shape)];
            prop_assert!(*y >= 0.0);
            if *x <= tc { prop_assert_eq!(*y, 0.0) } else { prop_assert_eq!(*y, x - tc) }
        }
    }

    /// (3) For the same input and the same previous thresholds, a lower density never adds a
    /// nonzero: the surviving set shrinks.
    #[test]
    fn lower_density_never_adds_nonzeros(
        shape in shape(), d_hi in density(), factor in 0.01f64..1.0, momentum in 0.0f64..=1.0,
        seed in any::<u64>(), ties in any::<bool>(),
    ) {
        let n: usize = shape.iter().product();
        let device = training_device();
        let warmup = data(seed ^ 3, n, ties);
        let values = data(seed, n, ties);
        let hi = layer(shape[1], d_hi, momentum, ThresholdScope::PerChannel);
        let mut lo = layer(shape[1], d_hi, momentum, ThresholdScope::PerChannel);
        forward_dyn(&hi, &shape, &warmup, &device);
        forward_dyn(&lo, &shape, &warmup, &device);
        lo.set_density(d_hi * factor).expect("valid density");
        let out_hi = forward_dyn(&hi, &shape, &values, &device);
        let out_lo = forward_dyn(&lo, &shape, &values, &device);
        for (a, b) in out_hi.iter().zip(&out_lo) {
            prop_assert!(*b == 0.0 || *a != 0.0, "lower density kept an entry the higher one zeroed");
        }
    }

    /// (4) Evaluation is deterministic and leaves the thresholds alone.
    #[test]
    fn eval_is_deterministic_and_frozen(
        shape in shape(), density in density(), seed in any::<u64>(),
    ) {
        let n: usize = shape.iter().product();
        let trained = layer(shape[1], density, 0.1, ThresholdScope::PerChannel);
        forward_dyn(&trained, &shape, &data(seed ^ 5, n, false), &training_device());
        let eval = trained.valid();
        let before = eval.thresholds().expect("thresholds");
        let values = data(seed, n, false);
        let a = forward_dyn(&eval, &shape, &values, &Device::flex());
        let b = forward_dyn(&eval, &shape, &values, &Device::flex());
        prop_assert_eq!(a, b);
        prop_assert_eq!(eval.thresholds().expect("thresholds"), before.clone());
        // The autodiff device alone does not switch a validation copy back to training.
        forward_dyn(&eval, &shape, &values, &training_device());
        prop_assert_eq!(eval.thresholds().expect("thresholds"), before);
    }

    /// (5) The gradient is exactly zero on the entries the layer zeroed and passes the upstream
    /// gradient unchanged on the survivors.
    #[test]
    fn gradient_only_reaches_survivors(
        dims in (1usize..4, 1usize..5, 1usize..10, 1usize..10),
        density in density(), seed in any::<u64>(), ties in any::<bool>(),
    ) {
        let (b, c, h, w) = dims;
        let n = b * c * h * w;
        let device = training_device();
        let layer = layer(c, density, 0.3, ThresholdScope::PerChannel);
        let x = Tensor::<4>::from_data(TensorData::new(data(seed, n, ties), [b, c, h, w]), &device)
            .require_grad();
        let weights = data(seed ^ 11, n, false);
        let wt = Tensor::<4>::from_data(TensorData::new(weights.clone(), [b, c, h, w]), &device);
        let y = layer.forward(x.clone());
        let out = y.clone().into_data().convert::<f32>().try_into_vec::<f32>().expect("f32");
        let grads = (y * wt).sum().backward();
        let g = x.grad(&grads).expect("x gets a gradient")
            .into_data().convert::<f32>().try_into_vec::<f32>().expect("f32");
        for i in 0..n {
            if out[i] == 0.0 { prop_assert_eq!(g[i], 0.0) } else { prop_assert_eq!(g[i], weights[i]) }
        }
    }

    /// (6) The universal threshold bounds the total density, not each channel's.
    #[test]
    fn universal_bounds_total_density(
        shape in shape(), density in density(), seed in any::<u64>(), ties in any::<bool>(),
    ) {
        let n: usize = shape.iter().product();
        let values = data(seed, n, ties);
        let layer = layer(shape[1], density, 1.0, ThresholdScope::Universal);
        let out = forward_dyn(&layer, &shape, &values, &training_device());
        let kept = out.iter().filter(|v| **v != 0.0).count();
        let k = kth_index(n, 1.0 - density);
        prop_assert!(kept <= n - k);
        let t = layer.thresholds().expect("thresholds");
        prop_assert_eq!(t.len(), 1);
    }

    /// (7) The accumulated variant leaves the thresholds alone until `rows * density` reaches the
    /// target, then sets them from the quantile of all buffered rows.
    #[test]
    fn accumulated_updates_only_after_enough_rows(
        c in 1usize..4, rows_per_batch in 2usize..40, density in 0.01f64..0.5,
        motifs in 1.0f64..10.0, seed in any::<u64>(),
    ) {
        let device = training_device();
        let layer = SparsityLayerConfig::new(c)
            .with_density(density)
            .with_momentum(1.0)
            .with_accumulate_motifs(Some(motifs))
            .init(&device)
            .expect("valid config");
        let mut buffered: Vec<Vec<f32>> = vec![Vec::new(); c];
        let mut rows = 0;
        for step in 0..200u64 {
            let values = data(seed.wrapping_add(step), c * rows_per_batch, false);
            // Input [rows, C, 1]: channel c of row r is values[r * C + c].
            let x = Tensor::<3>::from_data(TensorData::new(values.clone(), [rows_per_batch, c, 1]), &device);
            for (i, v) in values.iter().enumerate() {
                buffered[i % c].push(*v);
            }
            rows += rows_per_batch;
            layer.forward(x);
            let t = layer.thresholds().expect("thresholds");
            if (rows as f64) * density < motifs {
                prop_assert!(t.iter().all(|v| *v == 0.0), "updated after only {rows} rows");
                prop_assert_eq!(layer.accumulator_state().rows, rows);
            } else {
                let k = kth_index(rows, 1.0 - density);
                for (ch, buf) in buffered.iter().enumerate() {
                    let mut sorted = buf.clone();
                    sorted.sort_by(f32::total_cmp);
                    prop_assert_eq!(t[ch], sorted[k - 1]);
                }
                prop_assert_eq!(layer.accumulator_state().rows, 0);
                break;
            }
        }
    }
}
