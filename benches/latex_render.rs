//! Throughput of the LaTeX-OCR domain with the native renderer, in formulas per second.
//!
//! * `latex/sample_single_thread`: whole samples of the train split one after another on the
//!   calling thread (`Dataset::get`: grammar draw, TeX layout, rasterisation with boxes,
//!   binarisation and the 25 % noise).
//! * `latex/sample_all_threads_N`: `Dataset::batch` on rayon's global pool.
//! * `latex/stages/*`: the grammar sampler, layout + rasterisation, and the noise alone
//!   (single thread), to see where the time goes.
//!
//! Run: `cargo bench -p sparling-benches --bench latex_render`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sparling_data::UniformThreshold;
use sparling_data::latex::{LatexOcr, noise_seed};
use sparling_data::{Dataset, NumpyRandomState, Split, compute_seed};

/// Formulas per measured iteration.
const BATCH: usize = 256;

fn latex_render(c: &mut Criterion) {
    let domain = LatexOcr::paper().unwrap();
    let dataset = Dataset::new(domain.clone(), Split::Train { seed: 1 });
    let threads = rayon::current_num_threads();
    let mut group = c.benchmark_group("latex");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);

    let mut start = 0u64;
    group.bench_function(BenchmarkId::new("sample_single_thread", BATCH), |b| {
        b.iter(|| {
            for i in start..start + BATCH as u64 {
                black_box(dataset.get(i).unwrap());
            }
            start += BATCH as u64;
        });
    });

    let mut start = 0u64;
    group.bench_function(
        BenchmarkId::new(format!("sample_all_threads_{threads}"), BATCH),
        |b| {
            b.iter(|| {
                black_box(dataset.batch(start, BATCH).unwrap());
                start += BATCH as u64;
            });
        },
    );

    let formulas: Vec<_> = (0..BATCH as u64)
        .map(|i| {
            domain
                .sample_tokens(&mut NumpyRandomState::new(compute_seed(1, i)))
                .unwrap()
        })
        .collect();
    group.bench_function(BenchmarkId::new("stages/grammar", BATCH), |b| {
        b.iter(|| {
            for i in 0..BATCH as u64 {
                let mut rng = NumpyRandomState::new(compute_seed(1, i));
                black_box(domain.sample_tokens(&mut rng).unwrap());
            }
        });
    });
    group.bench_function(BenchmarkId::new("stages/layout_raster", BATCH), |b| {
        b.iter(|| {
            for f in &formulas {
                black_box(domain.render(f).unwrap());
            }
        });
    });
    group.bench_function(BenchmarkId::new("stages/noise", BATCH), |b| {
        let mut pixels = vec![1u8; 120 * 360];
        let t = UniformThreshold::new(0.25);
        b.iter(|| {
            for i in 0..BATCH as u64 {
                let mut rng = NumpyRandomState::new(noise_seed(1, i));
                t.apply(&mut rng, &mut pixels, |px, hit| *px &= u8::from(!hit));
            }
            black_box(&pixels);
        });
    });
    group.finish();
}

criterion_group!(benches, latex_render);
criterion_main!(benches);
