//! Property tests of what each comparison method guarantees (`sparling_core::bottleneck`): which
//! activations survive, what the gradient reaches, and what the penalties measure.

mod common;

use burn::optim::GradientsParams;
use burn::prelude::*;
use common::{data, training_device};
use proptest::prelude::*;
use sparling_core::{BatchTopKConfig, JumpReluConfig, TopKConfig, kl_penalty, l1_penalty};

/// A map shape `[N, C, H, W]`.
fn shape() -> impl Strategy<Value = [usize; 4]> {
    (1usize..4, 1usize..4, 1usize..9, 1usize..9).prop_map(|(n, c, h, w)| [n, c, h, w])
}

fn tensor(values: &[f32], shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

fn host(t: Tensor<4>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
}

/// The `k`-th largest of `values` (k clamped to 1..=len).
fn kth_largest(values: &[f32], k: usize) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted[k.clamp(1, sorted.len()) - 1]
}

/// Indices of `[N, C, H, W]` grouped per `(n, c)` map (`per_sample`) or per channel.
fn groups(shape: [usize; 4], per_sample: bool) -> Vec<Vec<usize>> {
    let [n, c, h, w] = shape;
    let p = h * w;
    let mut out = vec![Vec::new(); if per_sample { n * c } else { c }];
    for i in 0..n * c * p {
        let (sample, channel) = (i / (c * p), (i / p) % c);
        out[if per_sample {
            sample * c + channel
        } else {
            channel
        }]
        .push(i);
    }
    out
}

/// `x` where `keep(x, threshold of its group)` and `x > 0`, else 0.
fn gated(
    x: &[f32],
    groups: &[Vec<usize>],
    thresholds: &[f32],
    keep: impl Fn(f32, f32) -> bool,
) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for (group, &t) in groups.iter().zip(thresholds) {
        for &i in group {
            if keep(x[i], t) && x[i] > 0.0 {
                out[i] = x[i];
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// TopK: exactly the k largest of each sample's channel map survive (then ReLU), and the
    /// gradient reaches exactly the survivors.
    #[test]
    fn topk_keeps_the_k_largest_of_each_map(shape in shape(), k in 1usize..12, seed in any::<u64>()) {
        let device = training_device();
        let x = data(seed, shape.iter().product(), false);
        let layer = TopKConfig::new(k).init().expect("k >= 1");
        let input = tensor(&x, shape, &device).require_grad();
        let y = layer.try_forward(input.clone()).expect("valid input");
        let grads = y.clone().sum().backward();
        let gradient = host(input.grad(&grads).expect("a gradient"));
        let g = groups(shape, true);
        let kth: Vec<f32> = g
            .iter()
            .map(|idx| kth_largest(&idx.iter().map(|&i| x[i]).collect::<Vec<_>>(), k))
            .collect();
        let expected = gated(&x, &g, &kth, |v, t| v >= t);
        prop_assert_eq!(&host(y), &expected);
        for (i, e) in expected.iter().enumerate() {
            prop_assert_eq!(gradient[i], if *e > 0.0 { 1.0 } else { 0.0 });
        }
        for idx in &g {
            prop_assert!(idx.iter().filter(|&&i| expected[i] != 0.0).count() <= k);
        }
    }

    /// BatchTopK in training: the k * batch largest of each channel over the batch survive; the
    /// inference threshold starts at the first positive cut-off and then moves by the momentum
    /// (non-positive cut-offs leave it alone); inference keeps what lies above it.
    #[test]
    fn batch_topk_keeps_k_per_sample_over_the_batch(
        shape in shape(),
        k in 1usize..12,
        seed in any::<u64>(),
    ) {
        let device = training_device();
        let total: usize = shape.iter().product();
        let (first, second) = (data(seed, total, false), data(seed ^ 0x5eed, total, false));
        let layer = BatchTopKConfig::new(shape[1], k)
            .with_momentum(0.25)
            .init(&device)
            .expect("valid config");
        let g = groups(shape, false);
        let cutoffs = |x: &[f32]| -> Vec<f32> {
            g.iter()
                .map(|idx| kth_largest(&idx.iter().map(|&i| x[i]).collect::<Vec<_>>(), k * shape[0]))
                .collect()
        };
        // The inference threshold folds in positive cut-offs only.
        let fold = |old: &[f32], cut: &[f32]| -> Vec<f32> {
            old.iter()
                .zip(cut)
                .map(|(o, b)| match (o.is_finite(), *b > 0.0) {
                    (_, false) => *o,
                    (false, true) => *b,
                    (true, true) => 0.75 * o + 0.25 * b,
                })
                .collect()
        };
        let unset = vec![f32::NEG_INFINITY; shape[1]];
        let y = layer.try_forward(tensor(&first, shape, &device)).expect("valid input");
        prop_assert_eq!(host(y), gated(&first, &g, &cutoffs(&first), |v, t| v >= t));
        let after_first = fold(&unset, &cutoffs(&first));
        prop_assert_eq!(layer.thresholds().expect("readable"), after_first.clone());

        let y = layer.try_forward(tensor(&second, shape, &device)).expect("valid input");
        prop_assert_eq!(host(y), gated(&second, &g, &cutoffs(&second), |v, t| v >= t));
        let moved = fold(&after_first, &cutoffs(&second));
        let thresholds = layer.thresholds().expect("readable");
        prop_assert_eq!(&thresholds, &moved);

        let eval = layer.valid();
        let y = eval.try_forward(tensor(&second, shape, &Device::flex())).expect("valid input");
        prop_assert_eq!(host(y), gated(&second, &g, &thresholds, |v, t| v > t));
    }

    /// JumpReLU: survivors keep their value (no shift); the gradient with respect to the input is
    /// the gate; the L0 term is the surviving fraction, and its gradient with respect to `ln θ`
    /// is `-θ / ε` times the fraction of activations within `ε / 2` of `θ` (never positive:
    /// raising a threshold can only lower L0).
    #[test]
    fn jump_relu_gates_without_shifting_and_learns_thresholds(
        shape in shape(),
        theta in 0.05f64..2.0,
        seed in any::<u64>(),
    ) {
        let device = training_device();
        let x = data(seed, shape.iter().product(), true);
        let eps = 0.5;
        let layer = JumpReluConfig::new(shape[1])
            .with_initial_threshold(theta)
            .with_bandwidth(eps)
            .init(&device)
            .expect("valid config");
        let t = layer.thresholds().expect("readable");
        let input = tensor(&x, shape, &device).require_grad();
        let out = layer.try_forward(input.clone()).expect("valid input");
        let g = groups(shape, false);
        let expected = gated(&x, &g, &t, |v, t| v > t);
        prop_assert_eq!(&host(out.maps.clone()), &expected);
        let grads = out.maps.sum().backward();
        let gradient = host(input.grad(&grads).expect("a gradient"));
        for (i, e) in expected.iter().enumerate() {
            prop_assert_eq!(gradient[i], if *e != 0.0 { 1.0 } else { 0.0 });
        }

        let survivors = expected.iter().filter(|v| **v != 0.0).count() as f32 / x.len() as f32;
        let l0 = out.l0.clone().into_data().convert::<f32>().try_into_vec::<f32>().expect("f32")[0];
        prop_assert!((l0 - survivors).abs() < 1e-6, "{} vs {}", l0, survivors);
        // A second forward pass: burn's tape serves one backward.
        let out = layer.try_forward(tensor(&x, shape, &device)).expect("valid input");
        let grads = GradientsParams::from_grads(out.l0.backward(), &layer);
        let d = grads
            .get::<1>(layer.log_threshold().id)
            .expect("a threshold gradient")
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        for (channel, idx) in g.iter().enumerate() {
            let near = idx
                .iter()
                .filter(|&&i| (x[i] - t[channel]).abs() < (eps / 2.0) as f32)
                .count() as f32;
            let expected = -t[channel] / eps as f32 * near / x.len() as f32;
            prop_assert!(d[channel] <= 0.0);
            prop_assert!((d[channel] - expected).abs() < 1e-4, "{} vs {}", d[channel], expected);
        }
    }

    /// The KL penalty is never negative and vanishes when the mean rate equals the target; the
    /// L1 penalty is the mean absolute activation.
    #[test]
    fn penalties_measure_what_they_claim(
        shape in shape(),
        target in 0.001f64..0.9,
        seed in any::<u64>(),
    ) {
        let device = Device::flex();
        let x = data(seed, shape.iter().product(), false);
        let l1 = l1_penalty(tensor(&x, shape, &device)).into_scalar::<f32>();
        let mean_abs = x.iter().map(|v| v.abs()).sum::<f32>() / x.len() as f32;
        prop_assert!((l1 - mean_abs).abs() < 1e-4 * mean_abs.max(1.0));

        let probabilities: Vec<f32> = x.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
        let kl = kl_penalty(tensor(&probabilities, shape, &device), target)
            .expect("target in (0, 1)")
            .into_scalar::<f32>();
        prop_assert!(kl >= -1e-6, "{}", kl);
        let at_target = kl_penalty(Tensor::<4>::full(shape, target, &device), target)
            .expect("target in (0, 1)")
            .into_scalar::<f32>();
        prop_assert!(at_target.abs() < 1e-5, "{}", at_target);
    }
}

#[test]
fn bad_parameters_are_named() {
    let device = training_device();
    let message = |e: sparling_core::CoreError| e.to_string();
    assert!(message(TopKConfig::new(0).init().expect_err("refused")).contains("`k` = 0"));
    assert!(
        message(
            BatchTopKConfig::new(3, 2)
                .with_momentum(0.0)
                .init(&device)
                .expect_err("refused")
        )
        .contains("momentum")
    );
    assert!(
        message(
            JumpReluConfig::new(3)
                .with_bandwidth(-1.0)
                .init(&device)
                .expect_err("refused")
        )
        .contains("bandwidth")
    );
    assert!(
        message(kl_penalty(Tensor::<4>::zeros([1, 1, 1, 1], &device), 1.0).expect_err("refused"))
            .contains("target")
    );
}

/// Every method behind the one [`sparling_core::Bottleneck`] interface: the maps keep the input's
/// shape, exactly the penalty methods add a loss term, SPARLING's bottleneck equals the paper's
/// `SparseLayerWithBatchNorm`, identity passes the logits unchanged, and only SPARLING has a
/// density to set.
#[test]
fn every_method_works_behind_one_interface() {
    use sparling_core::{
        BottleneckConfig, Method, SparseLayerWithBatchNormConfig, SparsityLayerConfig,
    };
    let device = training_device();
    let shape = [2, 3, 5, 5];
    let x = data(11, shape.iter().product(), false);
    let methods = [
        Method::Sparling,
        Method::TopK { k: 2 },
        Method::BatchTopK {
            k: 2,
            momentum: 0.1,
        },
        Method::JumpRelu {
            initial_threshold: 0.5,
            bandwidth: 0.1,
            l0_weight: 0.01,
        },
        Method::L1 { weight: 1.0 },
        Method::Kl {
            weight: 1.0,
            target: 0.01,
        },
        Method::Identity,
    ];
    let sparsity = SparsityLayerConfig::new(3).with_density(0.2);
    for method in methods {
        let name = method.name();
        let mut bottleneck = BottleneckConfig::new(sparsity.clone())
            .with_method(method.clone())
            .init(&device)
            .expect("valid config");
        let out = bottleneck
            .try_forward(tensor(&x, shape, &device))
            .expect("valid input");
        assert_eq!(out.maps.dims(), shape, "{name}");
        let penalized = method.adds_penalty();
        assert_eq!(out.penalty.is_some(), penalized, "{name}");
        match method {
            Method::Sparling => {
                let paper = SparseLayerWithBatchNormConfig::new(sparsity.clone())
                    .init(&device)
                    .expect("valid config");
                let expected = paper.forward(tensor(&x, shape, &device));
                assert_eq!(host(out.maps), host(expected));
                // Stored as 1 - density, as the reference does.
                let close = |d: Option<f64>, v: f64| d.is_some_and(|d| (d - v).abs() < 1e-12);
                assert!(close(bottleneck.density(), 0.2));
                bottleneck.set_density(0.1).expect("a density");
                assert!(close(bottleneck.density(), 0.1));
            }
            Method::Identity => {
                assert!(bottleneck.batch_norm().is_none());
                assert_eq!(host(out.maps), x);
                // The direct evaluation's scores are the logits themselves.
                let scores = bottleneck
                    .forward_without_relu(tensor(&x, shape, &device))
                    .expect("identity scores");
                assert_eq!(host(scores), x);
            }
            _ => {
                assert_eq!(bottleneck.density(), None, "{name}");
                assert!(bottleneck.set_density(0.1).is_err(), "{name}");
                let scores = bottleneck.forward_without_relu(tensor(&x, shape, &device));
                assert!(scores.is_err(), "{name}: no scores without the ReLU");
            }
        }
    }
    let refused = BottleneckConfig::new(sparsity)
        .with_method(Method::L1 { weight: -1.0 })
        .init(&device)
        .expect_err("refused");
    assert!(refused.to_string().contains("weight"), "{refused}");
}
