//! Forward + backward of the per-channel sparsity layer in training mode on flex, in elements
//! per second, at the DigitCircle shape `[10, 10, 100, 100]` and the LaTeX shape
//! `[8, 32, 120, 360]`, for both ways of computing the batch quantile, next to a plain
//! `relu` of the same tensor (the cheapest thing the layer could be replaced by).
//!
//! Run: `cargo bench -p sparling-benches --bench sparsity_layer`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::relu;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sparling_core::{KthMethod, SparsityLayerConfig};

const SHAPES: [[usize; 4]; 2] = [[10, 10, 100, 100], [8, 32, 120, 360]];

fn sparsity_layer(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut group = c.benchmark_group("sparsity_layer");
    group.sample_size(10);
    for shape in SHAPES {
        let elements: usize = shape.iter().product();
        group.throughput(Throughput::Elements(elements as u64));
        let name = format!("{}x{}x{}x{}", shape[0], shape[1], shape[2], shape[3]);
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        for (label, method) in [("select", KthMethod::Select), ("topk", KthMethod::TopK)] {
            let layer = SparsityLayerConfig::new(shape[1])
                .with_density(1e-3)
                .with_kth_method(method)
                .init(&device)
                .unwrap();
            group.bench_function(
                BenchmarkId::new(format!("forward_backward_{label}"), &name),
                |b| {
                    b.iter(|| {
                        let input = x.clone().require_grad();
                        let y = layer.forward(input.clone());
                        let grads = y.sum().backward();
                        black_box(input.grad(&grads).unwrap());
                    });
                },
            );
        }
        group.bench_function(BenchmarkId::new("relu_forward_backward", &name), |b| {
            b.iter(|| {
                let input = x.clone().require_grad();
                let grads = relu(input.clone()).sum().backward();
                black_box(input.grad(&grads).unwrap());
            });
        });
    }
    group.finish();
}

criterion_group!(benches, sparsity_layer);
criterion_main!(benches);
