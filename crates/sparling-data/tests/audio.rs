//! The spoken-digit domain on the real FSDD recordings (`shared/data/fsdd/recordings`, always
//! present next to the checkout), against `tests/data/audio_golden.json` from
//! `scripts/audio_reference.py` (real numpy 2.4.6 + scipy 1.17.1, the authors' sampling code and
//! a float64 numpy version of their torchaudio spectrogram recipe).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sparling_data::audio::{
    AudioClip, AudioConfig, AudioSequence, MelSpectrogram, RecordingIndex, SpeakerRole,
};
use sparling_data::{Dataset, NumpyRandomState, Split, Vocabulary};

fn fsdd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fsdd/recordings")
}

/// Loaded once per test binary (3,000 files, about 21 MB).
fn index() -> Arc<RecordingIndex> {
    static INDEX: OnceLock<Arc<RecordingIndex>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let dir = fsdd_dir();
            Arc::new(
                RecordingIndex::load(&dir).unwrap_or_else(|e| {
                    panic!("FSDD recordings must be at {}: {e}", dir.display())
                }),
            )
        })
        .clone()
}

fn clip_domain() -> AudioClip {
    AudioClip::paper(index()).unwrap()
}

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| serde_json::from_str(include_str!("data/audio_golden.json")).unwrap())
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn split_of(name: &str) -> Split {
    name.parse().unwrap()
}

#[test]
fn index_has_all_of_fsdd() {
    let index = index();
    assert_eq!(index.len(), 3000);
    assert_eq!(
        index.speakers(),
        ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
    );
    for speaker in index.speakers() {
        for digit in 0..10 {
            assert_eq!(index.takes(digit, speaker).len(), 50);
        }
    }
    // String order, as the reference's sorted(glob(...)): take 10 comes before take 2.
    let names: Vec<&str> = index.takes(0, "george")[..4]
        .iter()
        .map(|&i| index.get(i).unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [
            "0_george_0.wav",
            "0_george_1.wav",
            "0_george_10.wav",
            "0_george_11.wav"
        ]
    );
    let r = index.get(index.takes(9, "theo")[8]).unwrap();
    assert_eq!(r.file_name(), "9_theo_16.wav");
    assert_eq!(r.len(), 18_262); // the longest FSDD recording
    assert!(r.samples().iter().all(|x| (-1.0..1.0).contains(x)));
}

#[test]
fn unknown_speakers_are_rejected_against_the_index() {
    let config = AudioConfig {
        test_speakers: vec!["alice".into()],
        ..AudioConfig::default()
    };
    let err = AudioClip::new(config, index()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("alice") && msg.contains("theo"), "{msg}");
}

#[test]
fn clips_match_numpy_and_scipy() {
    let domain = clip_domain();
    let clips = golden()["clips"].as_array().unwrap();
    assert_eq!(clips.len(), 11);
    for c in clips {
        let split = split_of(c["split"].as_str().unwrap());
        let index = c["index"].as_u64().unwrap();
        let seed = c["rng_seed"].as_u64().unwrap() as u32;
        let what = format!("{split} #{index}");
        assert_eq!(split.rng_seed(index).unwrap(), seed, "{what}: seed");

        let mut rng = NumpyRandomState::new(seed);
        let s = domain
            .sample_role(SpeakerRole::of(split), &mut rng)
            .unwrap();
        // Everything drawn after the noise stays in step: the noise took exactly 120,000 doubles.
        assert_eq!(
            u64::from(rng.next_u32()),
            c["next_u32"].as_u64().unwrap(),
            "{what}: stream position"
        );
        let label: Vec<u8> = c["label"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(s.label, label, "{what}: label");
        let motifs = c["motifs"].as_array().unwrap();
        assert_eq!(s.motifs.len(), motifs.len());
        for (m, g) in s.motifs.iter().zip(motifs) {
            assert_eq!(m.file, g["file"].as_str().unwrap(), "{what}: file");
            assert_eq!(m.speaker, g["speaker"].as_str().unwrap());
            assert_eq!(u64::from(m.digit), g["digit"].as_u64().unwrap());
            assert_eq!(
                m.start as u64,
                g["start"].as_u64().unwrap(),
                "{what}: start"
            );
            assert_eq!(m.len as u64, g["len"].as_u64().unwrap());
            let frames = f64s(&g["frames"]);
            assert_eq!(
                (m.frames.start as f64, m.frames.end as f64),
                (frames[0], frames[1])
            );
        }
        // The noise is scipy's to a few ulps of float64, which vanish when the sum is rounded
        // to float32: the clip is bit-identical.
        let bytes: Vec<u8> = s.audio.iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            sha256_hex(&bytes),
            c["audio_sha256"].as_str().unwrap(),
            "{what}: audio"
        );
        for p in c["audio_probe"].as_array().unwrap() {
            let i = p[0].as_u64().unwrap() as usize;
            // serde_json's float parsing may be an ulp off in f64; the f32 value is exact.
            assert_eq!(s.audio[i], p[1].as_f64().unwrap() as f32, "{what}: [{i}]");
        }
        let sum: f64 = s.audio.iter().map(|&x| f64::from(x)).sum();
        assert!((sum - c["audio_sum"].as_f64().unwrap()).abs() < 1e-6);

        // The dataset path draws the same clip.
        let via_dataset = Dataset::new(domain.clone(), split).get(index).unwrap();
        assert_eq!(via_dataset, s, "{what}: Dataset::get");
    }
}

/// Compares dB values of selected frames; float32 FFT vs float64 numpy.
fn assert_spectrogram_close(spec: &sparling_data::Spectrogram, golden: &Value, what: &str) {
    assert_eq!(spec.n_frames() as u64, golden["n_frames"].as_u64().unwrap());
    assert_eq!(spec.n_mels() as u64, golden["n_mels"].as_u64().unwrap());
    let (lo, hi) = spec.range();
    assert!(
        (f64::from(hi) - golden["max"].as_f64().unwrap()).abs() < 1e-3,
        "{what}: max"
    );
    assert!(
        (f64::from(lo) - golden["min"].as_f64().unwrap()).abs() < 1e-3,
        "{what}: min"
    );
    let mean = spec.time_major().iter().map(|&v| f64::from(v)).sum::<f64>()
        / spec.time_major().len() as f64;
    assert!(
        (mean - golden["mean"].as_f64().unwrap()).abs() < 1e-3,
        "{what}: mean"
    );
    let mut worst = 0f64;
    for (t, values) in golden["frames"].as_object().unwrap() {
        let t: usize = t.parse().unwrap();
        let row = spec.frame(t).unwrap();
        for (m, want) in f64s(values).into_iter().enumerate() {
            worst = worst.max((f64::from(row[m]) - want).abs());
        }
    }
    assert!(worst < 1e-3, "{what}: worst dB difference {worst}");
}

#[test]
fn spectrogram_matches_numpy_reference() {
    let g = golden();
    let s = MelSpectrogram::paper().unwrap();

    // The deterministic test signal of the script.
    let mut rng = NumpyRandomState::new(0);
    let signal: Vec<f32> = (0..120_000)
        .map(|i| {
            let n = f64::from(i);
            let tau = 2.0 * std::f64::consts::PI;
            let mut x = 0.3 * (tau * 440.0 * n / 8000.0).sin();
            x += 0.2 * (tau * 1750.3 * n / 8000.0 + 0.5).sin() * (n / 120_000.0);
            if (40_000..60_000).contains(&i) {
                x += 0.05 * (tau * 3100.0 * n / 8000.0).sin();
            }
            x += 0.01 * (2.0 * rng.random_sample() - 1.0);
            x as f32
        })
        .collect();
    assert_spectrogram_close(
        &s.compute(&signal).unwrap(),
        &g["test_signal"],
        "test signal",
    );

    // Real clips: the golden clips with a spectrogram (index 0 of each split).
    let domain = clip_domain();
    let sequence = AudioSequence::new(domain.clone()).unwrap();
    let vocab = Vocabulary::latex_cfg();
    for c in g["clips"].as_array().unwrap() {
        if c["spectrogram"].is_null() {
            continue;
        }
        let split = split_of(c["split"].as_str().unwrap());
        let clip = Dataset::new(domain.clone(), split).get(0).unwrap();
        let spec = s.compute(&clip.audio).unwrap();
        assert_spectrogram_close(&spec, &c["spectrogram"], &format!("{split} clip"));

        // The model sample carries the same spectrogram, mel-major, and the target ids.
        let sample = Dataset::new(sequence.clone(), split).get(0).unwrap();
        assert_eq!((sample.n_mels, sample.n_frames), (64, 642));
        assert_eq!(sample.features, spec.to_mel_major());
        assert_eq!(sample.spectrogram().unwrap(), spec);
        let names: Vec<String> = clip.label.iter().map(u8::to_string).collect();
        assert_eq!(sample.token_ids, vocab.encode(&names).unwrap());
        assert_eq!(sample.motifs, clip.motifs);
        assert_eq!(sample.label_string(), clip.label_string());
        assert!(sample.spans().all(|(_, f)| f.end <= 642));
    }
}

#[test]
fn filterbank_and_window_match_numpy() {
    let g = golden();
    let s = MelSpectrogram::paper().unwrap();
    let fb = s.filterbank();
    let gf = &g["filterbank"];
    assert_eq!(fb.n_freqs() as u64, gf["n_freqs"].as_u64().unwrap());
    assert_eq!(fb.n_mels() as u64, gf["n_mels"].as_u64().unwrap());
    let row_sums = f64s(&gf["row_sums"]);
    for (k, want) in row_sums.iter().enumerate() {
        let got: f64 = (0..64).map(|m| f64::from(fb.weight(k, m).unwrap())).sum();
        assert!((got - want).abs() < 1e-5, "row {k}: {got} vs {want}");
    }
    let col_sums = f64s(&gf["col_sums"]);
    let first = f64s(&gf["first_bin"]);
    let last = f64s(&gf["last_bin"]);
    for m in 0..64 {
        let column: Vec<f32> = (0..188).map(|k| fb.weight(k, m).unwrap()).collect();
        let got: f64 = column.iter().map(|&w| f64::from(w)).sum();
        assert!((got - col_sums[m]).abs() < 1e-5, "band {m}");
        let nonzero: Vec<usize> = (0..188).filter(|&k| column[k] > 0.0).collect();
        assert_eq!(
            nonzero.first().map(|&k| k as f64),
            Some(first[m]),
            "band {m}"
        );
        assert_eq!(nonzero.last().map(|&k| k as f64), Some(last[m]), "band {m}");
    }
    for e in gf["entries"].as_array().unwrap() {
        let (k, m) = (
            e[0].as_u64().unwrap() as usize,
            e[1].as_u64().unwrap() as usize,
        );
        let want = e[2].as_f64().unwrap();
        assert!((f64::from(fb.weight(k, m).unwrap()) - want).abs() < 1e-6);
    }
    let w = &g["window"];
    for (got, want) in s.window().iter().zip(f64s(&w["first"])) {
        assert!((f64::from(*got) - want).abs() < 1e-7);
    }
    let sum: f64 = s.window().iter().map(|&x| f64::from(x)).sum();
    assert!((sum - w["sum"].as_f64().unwrap()).abs() < 1e-4);
}

#[test]
fn splits_use_their_speakers() {
    let domain = clip_domain();
    let train = ["george", "jackson", "lucas", "nicolas", "yweweler"];
    for split in [Split::Train { seed: 3 }, Split::Val] {
        for s in Dataset::new(domain.clone(), split).batch(0, 6).unwrap() {
            assert!(s.motifs.iter().all(|m| train.contains(&m.speaker.as_str())));
        }
    }
    for split in [Split::Test, Split::MotifEval] {
        for s in Dataset::new(domain.clone(), split).batch(0, 6).unwrap() {
            assert!(s.motifs.iter().all(|m| m.speaker == "theo"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn clip_invariants(index in 0u64..1_000_000, split in 0usize..4, train_seed in 1i64..10) {
        let splits = [Split::Train { seed: train_seed }, Split::Val, Split::Test, Split::MotifEval];
        let split = splits[split];
        let s = Dataset::new(clip_domain(), split).get(index).unwrap();
        prop_assert!((5..=10).contains(&s.label.len()));
        prop_assert_eq!(s.label.len(), s.motifs.len());
        prop_assert_eq!(s.audio.len(), 120_000);
        let mut end = 0;
        for (m, &d) in s.motifs.iter().zip(&s.label) {
            prop_assert_eq!(m.digit, d);
            prop_assert!(m.start >= end, "overlap at {}", m.start);
            end = m.start + m.len;
            prop_assert!(end <= 120_000);
            prop_assert!(m.frames.start <= m.frames.end && m.frames.end <= 642);
            prop_assert!(!m.frames.is_empty());
            let prefix = format!("{d}_{}_", m.speaker);
            prop_assert!(m.file.starts_with(&prefix));
        }
        prop_assert!(s.audio.iter().all(|x| x.is_finite() && x.abs() <= 1.0 + 1e-3));
    }
}

proptest! {
    // Each case computes 9 spectrograms; a few cases are enough to catch shared state.
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn batches_do_not_depend_on_thread_count(start in 0u64..1_000_000) {
        let dataset = Dataset::new(AudioSequence::new(clip_domain()).unwrap(), Split::Test);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| dataset.batch(start, 3).unwrap())
        };
        let one = run(1);
        prop_assert_eq!(&one, &run(2));
        prop_assert_eq!(&one[1], &dataset.get(start + 1).unwrap());
    }
}

fn augmented_domain(level: sparling_data::audio::Level) -> AudioSequence {
    let config = AudioConfig {
        augment: Some(sparling_data::audio::Augmentation::default()),
        level,
        ..AudioConfig::default()
    };
    AudioSequence::new(AudioClip::new(config, index()).unwrap()).unwrap()
}

/// Augmentation changes the training clips only, never their labels, digits, speakers or
/// recordings (those come from the numpy stream before it), and the same sample is drawn
/// twice the same; validation, test and motif-eval clips are the paper's.
#[test]
fn augmentation_changes_training_sounds_only() {
    use sparling_data::audio::Level;
    let plain = AudioSequence::new(clip_domain()).unwrap();
    let augmented = augmented_domain(Level::Absolute);
    let train = Split::Train { seed: 3 };
    let a = Dataset::new(augmented.clone(), train).batch(0, 6).unwrap();
    let again = Dataset::new(augmented.clone(), train).batch(0, 6).unwrap();
    let p = Dataset::new(plain.clone(), train).batch(0, 6).unwrap();
    assert_eq!(a, again, "deterministic");
    for (a, p) in a.iter().zip(&p) {
        assert_eq!(a.label, p.label);
        assert_ne!(a.features, p.features);
        let files = |s: &sparling_data::AudioSequenceSample| -> Vec<String> {
            s.motifs.iter().map(|m| m.file.clone()).collect()
        };
        assert_eq!(files(a), files(p));
        for (m, q) in a.motifs.iter().zip(&p.motifs) {
            let aug = m
                .augmentation
                .expect("every training recording is augmented");
            assert!((aug.speed - 1.0).abs() <= 0.1 && (aug.warp - 1.0).abs() <= 0.1);
            assert!(aug.gain_db.abs() <= 6.0);
            let want = (q.len as f64 / aug.speed).round() as usize;
            assert_eq!(m.len, want.max(1));
            assert!(m.frames.end <= a.n_frames);
        }
    }
    for split in [Split::Val, Split::Test, Split::MotifEval] {
        let a = Dataset::new(augmented.clone(), split).batch(0, 3).unwrap();
        let p = Dataset::new(plain.clone(), split).batch(0, 3).unwrap();
        assert_eq!(a, p, "{split}");
    }
}

/// With the clip-percentile level, a clip's input does not depend on its recording level: the
/// same clip scaled by 20 dB (noise included) gives the same features.
#[test]
fn the_clip_level_makes_the_input_level_independent() {
    use sparling_data::audio::Level;
    let level = Level::ClipPercentile { percentile: 99.0 };
    let config = AudioConfig {
        level: level.clone(),
        ..AudioConfig::default()
    };
    let domain = AudioSequence::new(AudioClip::new(config, index()).unwrap()).unwrap();
    let absolute = AudioSequence::new(clip_domain()).unwrap();
    let mut clip = domain.clip().sample_seed(Split::Test, 5).unwrap();
    let quiet = domain.featurize(&clip).unwrap();
    let quiet_abs = absolute.featurize(&clip).unwrap();
    for v in &mut clip.audio {
        *v *= 10.0;
    }
    let loud = domain.featurize(&clip).unwrap();
    let worst = quiet
        .features
        .iter()
        .zip(&loud.features)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-3, "{worst} dB");
    // The paper's absolute level moves by the gain.
    let loud_abs = absolute.featurize(&clip).unwrap();
    for (a, b) in loud_abs.features.iter().zip(&quiet_abs.features) {
        assert!((a - b - 20.0).abs() < 1e-3, "{a} vs {b}");
    }
}
