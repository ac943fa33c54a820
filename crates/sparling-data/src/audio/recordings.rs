//! The spoken-digit recordings: an index of `{digit}_{speaker}_{take}.wav` files (the Free
//! Spoken Digit Dataset layout), all loaded into memory once.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::AudioError;

/// Sample rate of the domain (`SAMPLE_RATE` of the reference). FSDD is recorded at this rate,
/// so nothing is resampled; other rates are rejected.
pub const SAMPLE_RATE: u32 = 8000;

/// Environment variable naming the recordings directory when none is passed explicitly.
pub const FSDD_ENV: &str = "SPARLING_FSDD";

/// The recordings directory: `explicit` if given, else `$SPARLING_FSDD` (if set and not
/// empty).
///
/// # Errors
/// [`AudioError::NoRecordingsDir`] if neither is available. The directory itself is checked
/// by [`RecordingIndex::load`].
pub fn resolve_recordings_dir(explicit: Option<PathBuf>) -> Result<PathBuf, AudioError> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    match std::env::var_os(FSDD_ENV) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Err(AudioError::NoRecordingsDir { env: FSDD_ENV }),
    }
}

/// One recording, decoded to `f32` in [−1, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    file_name: String,
    digit: u8,
    speaker: String,
    take: u32,
    samples: Vec<f32>,
}

impl Recording {
    /// A recording from its file name (`{digit}_{speaker}_{take}.wav`) and samples, e.g. for
    /// tests that build an index in memory.
    ///
    /// # Errors
    /// [`AudioError::BadFileName`] or [`AudioError::EmptyRecording`].
    pub fn new(file_name: &str, samples: Vec<f32>) -> Result<Self, AudioError> {
        let (digit, speaker, take) =
            parse_file_name(file_name).map_err(|reason| AudioError::BadFileName {
                path: PathBuf::from(file_name),
                reason,
            })?;
        if samples.is_empty() {
            return Err(AudioError::EmptyRecording {
                path: PathBuf::from(file_name),
            });
        }
        Ok(Self {
            file_name: file_name.to_owned(),
            digit,
            speaker,
            take,
            samples,
        })
    }

    /// File name, e.g. `7_jackson_32.wav`.
    #[must_use]
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The digit spoken.
    #[must_use]
    pub fn digit(&self) -> u8 {
        self.digit
    }

    /// The speaker.
    #[must_use]
    pub fn speaker(&self) -> &str {
        &self.speaker
    }

    /// The take number.
    #[must_use]
    pub fn take(&self) -> u32 {
        self.take
    }

    /// The samples, in [−1, 1].
    #[must_use]
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Number of samples (never 0).
    #[must_use]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Always false: empty recordings are rejected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// A voice name becomes part of file names (`{digit}_{voice}_0.wav`): non-empty, without `_`
/// or a path separator.
///
/// # Errors
/// What is wrong with it.
pub fn check_voice_name(voice: &str) -> Result<(), &'static str> {
    if voice.is_empty() || voice.contains(['_', '/', '\\']) {
        return Err("must be non-empty, without `_` or path separators");
    }
    Ok(())
}

/// Splits `{digit}_{speaker}_{take}.wav` into its parts.
///
/// # Errors
/// A short reason if the name does not match the pattern.
pub fn parse_file_name(name: &str) -> Result<(u8, String, u32), &'static str> {
    let stem = name
        .strip_suffix(".wav")
        .ok_or("the extension is not .wav")?;
    let mut parts = stem.split('_');
    let (Some(digit), Some(speaker), Some(take), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected exactly three '_'-separated parts");
    };
    let digit = match digit.as_bytes() {
        [d @ b'0'..=b'9'] => d - b'0',
        _ => return Err("the digit is not a single character 0-9"),
    };
    if speaker.is_empty() {
        return Err("the speaker is empty");
    }
    if take.is_empty() || !take.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the take is not a non-negative integer");
    }
    let take = take.parse().map_err(|_| "the take is too large")?;
    Ok((digit, speaker.to_owned(), take))
}

/// All recordings of a directory, sorted by file name as strings (the reference sorts its
/// glob results the same way, so `choice` over a speaker's takes picks the same position).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingIndex {
    dir: PathBuf,
    recordings: Vec<Recording>,
    speakers: Vec<String>,
    /// `by_digit[d][s]`: positions in `recordings` of digit `d` by `speakers[s]`, in order.
    by_digit: Vec<Vec<Vec<usize>>>,
}

impl RecordingIndex {
    /// Lists `dir` (not recursively) and decodes every `*.wav` in parallel. Other files are
    /// skipped; a `.wav` whose name does not match `{digit}_{speaker}_{take}.wav` is an error.
    ///
    /// # Errors
    /// [`AudioError::MissingDirectory`], [`AudioError::ReadDir`], [`AudioError::NoRecordings`],
    /// [`AudioError::BadFileName`], or a per-file error from decoding (unreadable, wrong
    /// sample rate, not mono, unsupported format, empty).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, AudioError> {
        Self::load_named(dir.as_ref(), |name| {
            parse_file_name(name)?;
            Ok(name.to_owned())
        })
    }

    /// The recordings of other voices for evaluation (a test voice): every `*.wav` of `dir`,
    /// where `{digit}.wav` is take 0 of the voice `voice` (`{digit}_{voice}_0.wav`) and an
    /// FSDD-named `{digit}_{speaker}_{take}.wav` keeps its own speaker. The index's
    /// [`speakers`](Self::speakers) are then the voices found.
    ///
    /// # Errors
    /// As [`load`](Self::load), and [`AudioError::InvalidParameter`] for a voice name that is
    /// empty or holds `_` or a path separator (it becomes part of a file name).
    pub fn load_voice(dir: impl AsRef<Path>, voice: &str) -> Result<Self, AudioError> {
        check_voice_name(voice).map_err(|reason| AudioError::InvalidParameter {
            name: "test voice name",
            value: voice.to_owned(),
            reason,
        })?;
        Self::load_named(dir.as_ref(), |name| {
            let single_digit = name
                .strip_suffix(".wav")
                .filter(|stem| stem.len() == 1 && stem.as_bytes()[0].is_ascii_digit());
            match single_digit {
                Some(digit) => Ok(format!("{digit}_{voice}_0.wav")),
                None => parse_file_name(name)
                    .map(|_| name.to_owned())
                    .map_err(|_| "expected {digit}.wav or {digit}_{speaker}_{take}.wav"),
            }
        })
    }

    /// This index with the recordings of `other` added (for example a test voice next to the
    /// training speakers).
    ///
    /// # Errors
    /// [`AudioError::SpeakerOverlap`] if a speaker has recordings in both.
    pub fn merged(&self, other: &RecordingIndex) -> Result<Self, AudioError> {
        if let Some(s) = other.speakers.iter().find(|s| self.speakers.contains(s)) {
            return Err(AudioError::SpeakerOverlap { speaker: s.clone() });
        }
        let recordings = self
            .recordings
            .iter()
            .chain(&other.recordings)
            .cloned()
            .collect();
        Ok(Self::from_recordings(self.dir.clone(), recordings))
    }

    /// Lists `dir` and decodes every `*.wav`, named in the index by `name` of its file name
    /// (an FSDD name, or the reason it cannot have one).
    fn load_named(
        dir: &Path,
        name: impl Fn(&str) -> Result<String, &'static str>,
    ) -> Result<Self, AudioError> {
        if !dir.is_dir() {
            return Err(AudioError::MissingDirectory {
                path: dir.to_owned(),
            });
        }
        let read_dir_err = |source| AudioError::ReadDir {
            path: dir.to_owned(),
            source,
        };
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_dir_err)? {
            let path = entry.map_err(read_dir_err)?.path();
            if path.extension().is_none_or(|e| e != "wav") || !path.is_file() {
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| AudioError::BadFileName {
                    path: path.clone(),
                    reason: "the name is not valid UTF-8",
                })?
                .to_owned();
            files.push((name, path));
        }
        if files.is_empty() {
            return Err(AudioError::NoRecordings {
                path: dir.to_owned(),
            });
        }
        // Check every name before decoding anything, so a bad name is reported cheaply.
        let mut files = files
            .into_iter()
            .map(|(file, path)| match name(&file) {
                Ok(indexed) => Ok((indexed, path)),
                Err(reason) => Err(AudioError::BadFileName { path, reason }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        files.sort_unstable();
        let recordings = files
            .par_iter()
            .map(|(name, path)| {
                let samples = read_wav(path)?;
                Recording::new(name, samples).map_err(|e| match e {
                    AudioError::EmptyRecording { .. } => {
                        AudioError::EmptyRecording { path: path.clone() }
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::build(dir.to_owned(), recordings))
    }

    /// An index over recordings already in memory; `dir` is only used in messages. The
    /// recordings are sorted by file name.
    #[must_use]
    pub fn from_recordings(dir: impl Into<PathBuf>, mut recordings: Vec<Recording>) -> Self {
        recordings.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        Self::build(dir.into(), recordings)
    }

    fn build(dir: PathBuf, recordings: Vec<Recording>) -> Self {
        let mut speakers: Vec<String> = recordings.iter().map(|r| r.speaker.clone()).collect();
        speakers.sort_unstable();
        speakers.dedup();
        let mut by_digit = vec![vec![Vec::new(); speakers.len()]; 10];
        for (i, r) in recordings.iter().enumerate() {
            if let Ok(s) = speakers.binary_search(&r.speaker) {
                by_digit[usize::from(r.digit)][s].push(i);
            }
        }
        Self {
            dir,
            recordings,
            speakers,
            by_digit,
        }
    }

    /// The directory the recordings came from.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All recordings, sorted by file name.
    #[must_use]
    pub fn recordings(&self) -> &[Recording] {
        &self.recordings
    }

    /// Number of recordings.
    #[must_use]
    pub fn len(&self) -> usize {
        self.recordings.len()
    }

    /// True if there are no recordings (only for an index built from an empty list).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.recordings.is_empty()
    }

    /// Speakers with at least one recording, sorted.
    #[must_use]
    pub fn speakers(&self) -> &[String] {
        &self.speakers
    }

    /// Positions (into [`recordings`](Self::recordings)) of `speaker`'s takes of `digit`, in
    /// file-name order; empty for an unknown speaker or a digit above 9.
    #[must_use]
    pub fn takes(&self, digit: u8, speaker: &str) -> &[usize] {
        self.speakers
            .binary_search_by(|s| s.as_str().cmp(speaker))
            .ok()
            .and_then(|s| self.by_digit.get(usize::from(digit))?.get(s))
            .map_or(&[], Vec::as_slice)
    }

    /// Recording at `position`.
    #[must_use]
    pub fn get(&self, position: usize) -> Option<&Recording> {
        self.recordings.get(position)
    }
}

/// Decodes one WAV to `f32` in [−1, 1]: integer PCM of `b` bits is divided by `2^(b−1)` (for
/// 16-bit that is `x / 32768`, what librosa/soundfile return), 32-bit float is taken as is.
fn read_wav(path: &Path) -> Result<Vec<f32>, AudioError> {
    let unreadable = |source| AudioError::UnreadableWav {
        path: path.to_owned(),
        source,
    };
    let mut reader = hound::WavReader::open(path).map_err(unreadable)?;
    let spec = reader.spec();
    if spec.sample_rate != SAMPLE_RATE {
        return Err(AudioError::WrongSampleRate {
            path: path.to_owned(),
            found: spec.sample_rate,
            expected: SAMPLE_RATE,
        });
    }
    if spec.channels != 1 {
        return Err(AudioError::NotMono {
            path: path.to_owned(),
            channels: spec.channels,
        });
    }
    let samples = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .samples::<i16>()
            .map(|s| s.map(|v| f32::from(v) / 32_768.0))
            .collect::<Result<Vec<_>, _>>(),
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / 2f64.powi(i32::from(bits) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| (f64::from(v) * scale) as f32))
                .collect::<Result<Vec<_>, _>>()
        }
        (hound::SampleFormat::Float, 32) => reader.samples::<f32>().collect(),
        (format, bits) => {
            return Err(AudioError::UnsupportedFormat {
                path: path.to_owned(),
                bits,
                format: match format {
                    hound::SampleFormat::Int => "int",
                    hound::SampleFormat::Float => "float",
                },
            });
        }
    }
    .map_err(unreadable)?;
    if samples.is_empty() {
        return Err(AudioError::EmptyRecording {
            path: path.to_owned(),
        });
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for &s in samples {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn file_names_parse() {
        assert_eq!(
            parse_file_name("7_jackson_32.wav"),
            Ok((7, "jackson".to_owned(), 32))
        );
        for bad in [
            "7_jackson.wav",
            "7_jackson_3_2.wav",
            "17_jackson_3.wav",
            "x_jackson_3.wav",
            "7__3.wav",
            "7_jackson_.wav",
            "7_jackson_-3.wav",
            "7_jackson_3.WAV",
            "7_jackson_99999999999.wav",
        ] {
            assert!(parse_file_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loads_sorted_as_strings_and_skips_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["3_bob_10.wav", "3_bob_2.wav", "3_bob_1.wav", "4_amy_0.wav"] {
            write_wav(
                &dir.path().join(name),
                8000,
                1,
                &[0, 16_384, -32_768, 32_767],
            );
        }
        std::fs::write(dir.path().join("README.md"), "not audio").expect("write");
        std::fs::create_dir(dir.path().join("sub.wav")).expect("mkdir");
        let index = RecordingIndex::load(dir.path()).expect("loads");
        let names: Vec<&str> = index.recordings().iter().map(|r| r.file_name()).collect();
        assert_eq!(
            names,
            ["3_bob_1.wav", "3_bob_10.wav", "3_bob_2.wav", "4_amy_0.wav"]
        );
        assert_eq!(index.speakers(), ["amy", "bob"]);
        assert_eq!(index.takes(3, "bob"), [0, 1, 2]);
        assert!(index.takes(3, "amy").is_empty() && index.takes(11, "bob").is_empty());
        let r = &index.recordings()[0];
        assert_eq!(r.samples(), [0.0, 0.5, -1.0, 32_767.0 / 32_768.0]);
        assert_eq!((r.digit(), r.speaker(), r.take()), (3, "bob", 1));
    }

    #[test]
    fn a_test_voice_is_indexed_under_its_name_and_merged_beside_the_speakers() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["0.wav", "7.wav", "3_eve_4.wav"] {
            write_wav(&dir.path().join(name), 8000, 1, &[1, 2, 3]);
        }
        let voice = RecordingIndex::load_voice(dir.path(), "allison").expect("loads");
        let names: Vec<&str> = voice.recordings().iter().map(|r| r.file_name()).collect();
        assert_eq!(names, ["0_allison_0.wav", "3_eve_4.wav", "7_allison_0.wav"]);
        assert_eq!(voice.speakers(), ["allison", "eve"]);
        for bad in ["", "al_lison", "a/b"] {
            assert!(
                RecordingIndex::load_voice(dir.path(), bad).is_err(),
                "{bad:?}"
            );
        }
        write_wav(&dir.path().join("12.wav"), 8000, 1, &[1]);
        let err = RecordingIndex::load_voice(dir.path(), "allison").expect_err("12.wav");
        assert!(err.to_string().contains("12.wav"), "{err}");

        let train = RecordingIndex::from_recordings(
            "fsdd",
            vec![Recording::new("0_bob_0.wav", vec![0.5]).expect("valid")],
        );
        let merged = train.merged(&voice).expect("disjoint speakers");
        assert_eq!(merged.speakers(), ["allison", "bob", "eve"]);
        assert_eq!(merged.len(), 4);
        assert!(matches!(
            merged.merged(&train),
            Err(AudioError::SpeakerOverlap { speaker }) if speaker == "bob"
        ));
    }

    #[test]
    fn bad_inputs_name_the_file() {
        let missing = RecordingIndex::load("/nonexistent/fsdd").expect_err("missing");
        assert!(matches!(missing, AudioError::MissingDirectory { .. }));
        assert!(missing.to_string().contains("/nonexistent/fsdd"));

        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            RecordingIndex::load(dir.path()),
            Err(AudioError::NoRecordings { .. })
        ));

        let cases: [(&str, u32, u16, &[i16], &str); 4] = [
            ("1_amy_0.wav", 16_000, 1, &[1, 2], "WrongSampleRate"),
            ("1_amy_0.wav", 8000, 2, &[1, 2], "NotMono"),
            ("1_amy_0.wav", 8000, 1, &[], "EmptyRecording"),
            ("1_amy.wav", 8000, 1, &[1], "BadFileName"),
        ];
        for (name, rate, channels, samples, variant) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join(name);
            write_wav(&path, rate, channels, samples);
            let err = RecordingIndex::load(dir.path()).expect_err(variant);
            assert!(format!("{err:?}").starts_with(variant), "{err:?}");
            assert!(err.to_string().contains(name), "{err}");
        }

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("1_amy_0.wav"), b"RIFF junk").expect("write");
        let err = RecordingIndex::load(dir.path()).expect_err("junk");
        assert!(matches!(err, AudioError::UnreadableWav { .. }), "{err:?}");
        assert!(err.to_string().contains("1_amy_0.wav"));
    }

    #[test]
    fn explicit_dir_wins_over_environment() {
        let dir = resolve_recordings_dir(Some(PathBuf::from("/x"))).expect("explicit");
        assert_eq!(dir, PathBuf::from("/x"));
    }
}
