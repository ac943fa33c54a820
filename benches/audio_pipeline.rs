//! Throughput of the spoken-digit pipeline, in clips per second: a 15 s clip drawn from the
//! FSDD recordings (numpy-exact sampling + 120,000 truncated-normal noise values) and its
//! 642 × 64 log-mel spectrogram, i.e. one `AudioSequence` sample as the model consumes it.
//!
//! * `audio_pipeline/single_thread`: `Dataset::get` in a loop on the calling thread.
//! * `audio_pipeline/all_threads_N`: `Dataset::batch` on rayon's global pool.
//! * `audio_pipeline/clip_only` and `spectrogram_only`: the two halves, one thread.
//! * `audio_pipeline/augmented_single_thread`: as `single_thread` with the default
//!   augmentation (gain, speed, vocal-tract warp, frequency masks) and the clip-percentile
//!   level, the options of docs/audio.md.
//!
//! The recordings are read from `$SPARLING_FSDD`, else `../shared/data/fsdd/recordings` next
//! to the checkout. Run: `cargo bench -p sparling-benches --bench audio_pipeline`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sparling_data::audio::{
    AudioClip, AudioConfig, AudioSequence, Augmentation, Level, MelSpectrogram, RecordingIndex,
    resolve_recordings_dir,
};
use sparling_data::{Dataset, Split};

/// Clips per measured iteration.
const BATCH: usize = 32;

fn recordings() -> Arc<RecordingIndex> {
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fsdd/recordings");
    let dir = resolve_recordings_dir(None).unwrap_or(default);
    Arc::new(RecordingIndex::load(dir).unwrap())
}

fn audio_pipeline(c: &mut Criterion) {
    let clip = AudioClip::paper(recordings()).unwrap();
    let dataset = Dataset::new(
        AudioSequence::new(clip.clone()).unwrap(),
        Split::Train { seed: 1 },
    );
    let threads = rayon::current_num_threads();
    let mut group = c.benchmark_group("audio_pipeline");
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

    let options = AudioConfig {
        augment: Some(Augmentation::default()),
        level: Level::ClipPercentile { percentile: 99.0 },
        ..clip.config().clone()
    };
    let augmented = Dataset::new(
        AudioSequence::new(AudioClip::new(options, clip.recordings().clone()).unwrap()).unwrap(),
        Split::Train { seed: 1 },
    );
    let mut start = 0u64;
    group.bench_function(BenchmarkId::new("augmented_single_thread", BATCH), |b| {
        b.iter(|| {
            for i in start..start + BATCH as u64 {
                black_box(augmented.get(i).unwrap());
            }
            start += BATCH as u64;
        });
    });

    let clips = Dataset::new(clip, Split::Train { seed: 1 });
    let mut start = 0u64;
    group.bench_function(BenchmarkId::new("clip_only", BATCH), |b| {
        b.iter(|| {
            for i in start..start + BATCH as u64 {
                black_box(clips.get(i).unwrap());
            }
            start += BATCH as u64;
        });
    });

    let spectrogram = MelSpectrogram::paper().unwrap();
    let audio: Vec<Vec<f32>> = clips
        .batch(0, BATCH)
        .unwrap()
        .into_iter()
        .map(|s| s.audio)
        .collect();
    group.bench_function(BenchmarkId::new("spectrogram_only", BATCH), |b| {
        b.iter(|| {
            for a in &audio {
                black_box(spectrogram.compute_mel_major(a).unwrap());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, audio_pipeline);
criterion_main!(benches);
