//! Throughput of the bit-exact DigitCircle generator, in images per second.
//!
//! * `digit_circle/single_thread`: samples of the train split generated one after another on
//!   the calling thread (`Dataset::get`).
//! * `digit_circle/all_threads`: `Dataset::batch` on rayon's global pool (one thread per
//!   core unless `RAYON_NUM_THREADS` says otherwise).
//!
//! Run: `cargo bench -p sparling-benches --bench digit_circle_generation`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sparling_data::{Dataset, DigitCircle, Split};

/// Images per measured iteration.
const BATCH: usize = 256;

fn digit_circle_generation(c: &mut Criterion) {
    let dataset = Dataset::new(DigitCircle::paper().unwrap(), Split::Train { seed: 1 });
    let threads = rayon::current_num_threads();
    let mut group = c.benchmark_group("digit_circle");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);

    let mut start = 0u64;
    group.bench_function(BenchmarkId::new("single_thread", BATCH), |b| {
        b.iter(|| {
            for i in start..start + BATCH as u64 {
                black_box(dataset.get(i).unwrap());
            }
            start += BATCH as u64;
        });
    });

    let mut start = 0u64;
    group.bench_function(
        BenchmarkId::new(format!("all_threads_{threads}"), BATCH),
        |b| {
            b.iter(|| {
                black_box(dataset.batch(start, BATCH).unwrap());
                start += BATCH as u64;
            });
        },
    );
    group.finish();
}

criterion_group!(benches, digit_circle_generation);
criterion_main!(benches);
