//! Log-mel spectrogram, the reference's recipe (the authors'
//! `pixel_art/audo_mnist/spectrogram/spectrogram.py` with their vendored torchaudio
//! `MelSpectrogram` and `AmplitudeToDB(top_db=80)`, kavigupta/sparling-repro):
//!
//! 1. `torch.stft(n_fft, hop, win_length = n_fft, periodic Hann window, center=True,
//!    pad_mode="reflect", onesided)`: frame `t` covers samples `t·hop − n_fft/2 ..` of the
//!    reflect-padded signal; `1 + len/hop` frames (642 for 120,000 samples, hop 187).
//! 2. Power `|X|²` of the `n_fft/2 + 1` bins (188).
//! 3. HTK mel filterbank without normalisation (`create_fb_matrix`): `mel = P · fb`.
//! 4. `10·log10(max(mel, 1e-10))`, then clamped below at (max over the clip) − 80.
//!
//! Everything is computed in `f32` like torch; only the FFT algorithm (and so the last bits)
//! differs.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use super::augment::vtlp_warp;
use crate::error::AudioError;

/// Parameters of the spectrogram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpectrogramConfig {
    /// Sample rate of the input in Hz.
    pub sample_rate: u32,
    /// FFT size = window length.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
    /// Mel bands.
    pub n_mels: usize,
    /// Lowest filterbank frequency in Hz.
    pub f_min: f64,
    /// Highest filterbank frequency in Hz.
    pub f_max: f64,
    /// Dynamic range kept below the clip's maximum, in dB (`None`: no clamp).
    pub top_db: Option<f64>,
}

/// Largest FFT accepted; far above any use, it keeps buffer sizes sane.
const MAX_N_FFT: usize = 1 << 16;

impl SpectrogramConfig {
    /// The reference's `construct_spectrogram`: `n_fft = int(2 · time_chunk · rate / n_mels)`,
    /// hop `n_fft // 2`, filterbank 0 .. `rate // 2` Hz, `top_db` 80.
    #[must_use]
    pub fn from_time_chunk(sample_rate: u32, n_mels: usize, time_chunk_seconds: f64) -> Self {
        let n_fft = (2.0 * time_chunk_seconds * f64::from(sample_rate) / n_mels as f64) as usize;
        Self {
            sample_rate,
            n_fft,
            hop_length: n_fft / 2,
            n_mels,
            f_min: 0.0,
            f_max: f64::from(sample_rate / 2),
            top_db: Some(80.0),
        }
    }

    /// The paper's: 8 kHz, 64 mels, `time_chunk` 1.5 s, so n_fft 375 and hop 187.
    #[must_use]
    pub fn paper() -> Self {
        Self::from_time_chunk(8000, 64, 1.5)
    }

    /// Frequency bins, `n_fft / 2 + 1` (188).
    #[must_use]
    pub fn n_freqs(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames for a signal of `n_samples`: `1 + (n + 2·(n_fft/2) − n_fft) / hop` (642 for
    /// 120,000 samples). 0 for an empty signal.
    #[must_use]
    pub fn n_frames(&self, n_samples: usize) -> usize {
        let padded = n_samples + 2 * (self.n_fft / 2);
        if n_samples == 0 || padded < self.n_fft || self.hop_length == 0 {
            return 0;
        }
        1 + (padded - self.n_fft) / self.hop_length
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`AudioError::InvalidParameter`] naming the first bad one.
    pub fn validate(&self) -> Result<(), AudioError> {
        let bad = |name, value: String, reason| {
            Err(AudioError::InvalidParameter {
                name,
                value,
                reason,
            })
        };
        if self.sample_rate == 0 {
            return bad("sample_rate", "0".into(), "must be positive");
        }
        if !(2..=MAX_N_FFT).contains(&self.n_fft) {
            return bad(
                "n_fft",
                self.n_fft.to_string(),
                "must be in 2..=65536 (check n_mels and time_chunk_seconds)",
            );
        }
        if self.hop_length == 0 {
            return bad("hop_length", "0".into(), "must be positive");
        }
        if self.n_mels == 0 {
            return bad("n_mels", "0".into(), "must be positive");
        }
        if !(self.f_min >= 0.0 && self.f_min < self.f_max && self.f_max.is_finite()) {
            return bad(
                "f_min/f_max",
                format!("{}/{}", self.f_min, self.f_max),
                "need 0 <= f_min < f_max, finite",
            );
        }
        if let Some(top_db) = self.top_db
            && !(top_db >= 0.0 && top_db.is_finite())
        {
            return bad("top_db", top_db.to_string(), "must be finite and >= 0");
        }
        Ok(())
    }
}

/// `create_fb_matrix(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None)`: triangular HTK
/// mel filters, stored as `[n_freqs × n_mels]` like torchaudio and as one contiguous run of
/// non-zero weights per band for the product.
#[derive(Clone, Debug, PartialEq)]
pub struct MelFilterbank {
    n_freqs: usize,
    n_mels: usize,
    /// `[n_freqs × n_mels]`, row-major.
    matrix: Vec<f32>,
    /// Per band: first bin with a non-zero weight, and the weights from there on.
    bands: Vec<(usize, Vec<f32>)>,
}

/// HTK mel scale, `2595 · log10(1 + f/700)`.
#[must_use]
pub fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Inverse of [`hz_to_mel`].
#[must_use]
pub fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

impl MelFilterbank {
    /// The filterbank, computed in `f64` and stored as `f32`.
    ///
    /// Bin `k` is at `k · (rate // 2) / (n_freqs − 1)` Hz; `n_mels + 2` mel points are evenly
    /// spaced from `mel(f_min)` to `mel(f_max)`; filter `m` rises from point `m` to `m + 1`
    /// and falls to `m + 2`:
    /// `fb[k][m] = max(0, min((f_k − f_m)/(f_{m+1} − f_m), (f_{m+2} − f_k)/(f_{m+2} − f_{m+1})))`.
    #[must_use]
    pub fn htk(n_freqs: usize, f_min: f64, f_max: f64, n_mels: usize, sample_rate: u32) -> Self {
        Self::build(n_freqs, f_min, f_max, n_mels, sample_rate, |f| f)
    }

    /// [`htk`](Self::htk) with every bin's frequency vocal-tract warped by `alpha`
    /// ([`vtlp_warp`]) before the filters are evaluated: energy at `f` lands in the band of
    /// `warp(f)`, as if the speaker's formants were scaled by `alpha`.
    #[must_use]
    pub fn htk_warped(
        n_freqs: usize,
        f_min: f64,
        f_max: f64,
        n_mels: usize,
        sample_rate: u32,
        alpha: f64,
    ) -> Self {
        let nyquist = f64::from(sample_rate / 2);
        Self::build(n_freqs, f_min, f_max, n_mels, sample_rate, |f| {
            vtlp_warp(f, alpha, nyquist)
        })
    }

    fn build(
        n_freqs: usize,
        f_min: f64,
        f_max: f64,
        n_mels: usize,
        sample_rate: u32,
        warp: impl Fn(f64) -> f64,
    ) -> Self {
        let nyquist = f64::from(sample_rate / 2);
        let step = if n_freqs > 1 {
            nyquist / (n_freqs - 1) as f64
        } else {
            0.0
        };
        let all_freqs: Vec<f64> = (0..n_freqs).map(|k| warp(k as f64 * step)).collect();
        let (m_min, m_max) = (hz_to_mel(f_min), hz_to_mel(f_max));
        let m_step = (m_max - m_min) / (n_mels + 1) as f64;
        let f_pts: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(m_min + i as f64 * m_step))
            .collect();
        let mut matrix = vec![0f32; n_freqs * n_mels];
        for (k, &f) in all_freqs.iter().enumerate() {
            for m in 0..n_mels {
                let down = (f - f_pts[m]) / (f_pts[m + 1] - f_pts[m]);
                let up = (f_pts[m + 2] - f) / (f_pts[m + 2] - f_pts[m + 1]);
                matrix[k * n_mels + m] = down.min(up).max(0.0) as f32;
            }
        }
        let bands = (0..n_mels)
            .map(|m| {
                let column = |k: usize| matrix[k * n_mels + m];
                let first = (0..n_freqs).find(|&k| column(k) > 0.0);
                match first {
                    Some(first) => {
                        let last = (first..n_freqs)
                            .rev()
                            .find(|&k| column(k) > 0.0)
                            .unwrap_or(first);
                        (first, (first..=last).map(column).collect())
                    }
                    None => (0, Vec::new()),
                }
            })
            .collect();
        Self {
            n_freqs,
            n_mels,
            matrix,
            bands,
        }
    }

    /// Frequency bins (rows).
    #[must_use]
    pub fn n_freqs(&self) -> usize {
        self.n_freqs
    }

    /// Mel bands (columns).
    #[must_use]
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The `[n_freqs × n_mels]` matrix, row-major (torchaudio's `fb`).
    #[must_use]
    pub fn matrix(&self) -> &[f32] {
        &self.matrix
    }

    /// Weight of bin `freq` in band `mel`.
    #[must_use]
    pub fn weight(&self, freq: usize, mel: usize) -> Option<f32> {
        if freq < self.n_freqs && mel < self.n_mels {
            self.matrix.get(freq * self.n_mels + mel).copied()
        } else {
            None
        }
    }

    /// `out[m] = Σ_k power[k] · fb[k][m]`, over each band's non-zero run only.
    fn apply(&self, power: &[f32], out: impl FnMut(usize, f32)) {
        let mut out = out;
        for (m, (first, weights)) in self.bands.iter().enumerate() {
            let bins = power.get(*first..*first + weights.len()).unwrap_or(&[]);
            let sum = bins.iter().zip(weights).map(|(p, w)| p * w).sum();
            out(m, sum);
        }
    }
}

/// A log-mel spectrogram, `[n_frames × n_mels]` row-major (time × mel, the reference's
/// `spec.T`), in dB.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrogram {
    n_frames: usize,
    n_mels: usize,
    data: Vec<f32>,
}

impl Spectrogram {
    /// Wraps time-major values.
    ///
    /// # Errors
    /// [`AudioError::ShapeMismatch`] if `data.len() != n_frames · n_mels`.
    pub fn from_time_major(
        n_frames: usize,
        n_mels: usize,
        data: Vec<f32>,
    ) -> Result<Self, AudioError> {
        check_len("spectrogram", n_frames * n_mels, data.len())?;
        Ok(Self {
            n_frames,
            n_mels,
            data,
        })
    }

    /// Wraps mel-major (`[n_mels × n_frames]`) values, transposing them.
    ///
    /// # Errors
    /// [`AudioError::ShapeMismatch`] if `data.len() != n_frames · n_mels`.
    pub fn from_mel_major(
        n_mels: usize,
        n_frames: usize,
        data: &[f32],
    ) -> Result<Self, AudioError> {
        check_len("spectrogram", n_frames * n_mels, data.len())?;
        Ok(Self {
            n_frames,
            n_mels,
            data: transpose(data, n_mels, n_frames),
        })
    }

    /// Frames (time steps).
    #[must_use]
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Mel bands.
    #[must_use]
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// `[n_frames × n_mels]`, row-major.
    #[must_use]
    pub fn time_major(&self) -> &[f32] {
        &self.data
    }

    /// `[n_mels × n_frames]`, row-major: mel bands as channels, time as length, which is what
    /// the 1-D motif network consumes.
    #[must_use]
    pub fn to_mel_major(&self) -> Vec<f32> {
        transpose(&self.data, self.n_frames, self.n_mels)
    }

    /// Value at `(frame, mel)`.
    #[must_use]
    pub fn get(&self, frame: usize, mel: usize) -> Option<f32> {
        if frame < self.n_frames && mel < self.n_mels {
            self.data.get(frame * self.n_mels + mel).copied()
        } else {
            None
        }
    }

    /// The `n_mels` values of one frame.
    #[must_use]
    pub fn frame(&self, frame: usize) -> Option<&[f32]> {
        let start = frame.checked_mul(self.n_mels)?;
        self.data.get(start..start + self.n_mels)
    }

    /// Smallest and largest value (`(0, 0)` when empty).
    #[must_use]
    pub fn range(&self) -> (f32, f32) {
        let mut it = self.data.iter().copied();
        let Some(first) = it.next() else {
            return (0.0, 0.0);
        };
        it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)))
    }
}

fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), AudioError> {
    if expected == found {
        Ok(())
    } else {
        Err(AudioError::ShapeMismatch {
            what,
            expected,
            found,
        })
    }
}

/// `[rows × cols]` → `[cols × rows]`.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (r, row) in data.chunks_exact(cols.max(1)).enumerate().take(rows) {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

/// Memory order of a computed spectrogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `[n_frames × n_mels]` (time × mel).
    TimeMajor,
    /// `[n_mels × n_frames]` (mel × time): the model input.
    MelMajor,
}

/// The spectrogram transform: window, FFT plan and filterbank built once, shared by threads
/// (`Sync`); each call allocates only its output and three frame-sized buffers.
#[derive(Clone)]
pub struct MelSpectrogram {
    config: SpectrogramConfig,
    window: Vec<f32>,
    filterbank: MelFilterbank,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl fmt::Debug for MelSpectrogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MelSpectrogram")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// `torch.hann_window(n)` (periodic): `0.5 − 0.5·cos(2πi/n)`.
#[must_use]
pub fn periodic_hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            (0.5 - 0.5 * phase.cos()) as f32
        })
        .collect()
}

/// `amin` of `AmplitudeToDB`.
const AMIN: f32 = 1e-10;

impl MelSpectrogram {
    /// Validates `config` and plans the FFT.
    ///
    /// # Errors
    /// [`AudioError::InvalidParameter`] for a bad configuration.
    pub fn new(config: SpectrogramConfig) -> Result<Self, AudioError> {
        config.validate()?;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(config.n_fft);
        let filterbank = MelFilterbank::htk(
            config.n_freqs(),
            config.f_min,
            config.f_max,
            config.n_mels,
            config.sample_rate,
        );
        Ok(Self {
            window: periodic_hann(config.n_fft),
            filterbank,
            fft,
            config,
        })
    }

    /// The paper's transform ([`SpectrogramConfig::paper`]).
    ///
    /// # Errors
    /// Never for the paper's parameters.
    pub fn paper() -> Result<Self, AudioError> {
        Self::new(SpectrogramConfig::paper())
    }

    /// The parameters.
    #[must_use]
    pub fn config(&self) -> &SpectrogramConfig {
        &self.config
    }

    /// The mel filterbank.
    #[must_use]
    pub fn filterbank(&self) -> &MelFilterbank {
        &self.filterbank
    }

    /// The analysis window.
    #[must_use]
    pub fn window(&self) -> &[f32] {
        &self.window
    }

    /// The spectrogram of `audio`, time-major.
    ///
    /// # Errors
    /// [`AudioError::SignalTooShort`] unless `audio` is longer than `n_fft / 2` (torch's
    /// reflect padding needs that).
    pub fn compute(&self, audio: &[f32]) -> Result<Spectrogram, AudioError> {
        let n_frames = self.config.n_frames(audio.len());
        let mut data = vec![0.0; n_frames * self.config.n_mels];
        self.compute_into(audio, Layout::TimeMajor, &mut data)?;
        Ok(Spectrogram {
            n_frames,
            n_mels: self.config.n_mels,
            data,
        })
    }

    /// The spectrogram of `audio` as `[n_mels × n_frames]` (the model input).
    ///
    /// # Errors
    /// As [`compute`](Self::compute).
    pub fn compute_mel_major(&self, audio: &[f32]) -> Result<Vec<f32>, AudioError> {
        let mut data = vec![0.0; self.config.n_frames(audio.len()) * self.config.n_mels];
        self.compute_into(audio, Layout::MelMajor, &mut data)?;
        Ok(data)
    }

    /// Writes the spectrogram of `audio` into `out` (`n_frames · n_mels` values) in `layout`.
    ///
    /// # Errors
    /// [`AudioError::SignalTooShort`], or [`AudioError::ShapeMismatch`] for a wrong `out`.
    pub fn compute_into(
        &self,
        audio: &[f32],
        layout: Layout,
        out: &mut [f32],
    ) -> Result<(), AudioError> {
        self.compute_with(audio, layout, out, |_| &self.filterbank)
    }

    /// [`compute_into`](Self::compute_into), with the frames of each `(frames, alpha)` span
    /// analysed by the filterbank warped by `alpha` ([`MelFilterbank::htk_warped`]; the
    /// vocal-tract-length perturbation of one recording). Frames outside every span, and
    /// spans with `alpha` 1, use the plain filterbank.
    ///
    /// # Errors
    /// As [`compute_into`](Self::compute_into).
    pub fn compute_warped_into(
        &self,
        audio: &[f32],
        layout: Layout,
        out: &mut [f32],
        warps: &[(Range<usize>, f64)],
    ) -> Result<(), AudioError> {
        let c = &self.config;
        let warped: Vec<(&Range<usize>, MelFilterbank)> = warps
            .iter()
            .filter(|(_, alpha)| *alpha != 1.0)
            .map(|(frames, alpha)| {
                let fb = MelFilterbank::htk_warped(
                    c.n_freqs(),
                    c.f_min,
                    c.f_max,
                    c.n_mels,
                    c.sample_rate,
                    *alpha,
                );
                (frames, fb)
            })
            .collect();
        self.compute_with(audio, layout, out, |t| {
            warped
                .iter()
                .find(|(frames, _)| frames.contains(&t))
                .map_or(&self.filterbank, |(_, fb)| fb)
        })
    }

    fn compute_with<'f>(
        &'f self,
        audio: &[f32],
        layout: Layout,
        out: &mut [f32],
        filterbank: impl Fn(usize) -> &'f MelFilterbank,
    ) -> Result<(), AudioError> {
        let pad = self.config.n_fft / 2;
        if audio.len() <= pad {
            return Err(AudioError::SignalTooShort {
                len: audio.len(),
                min: pad,
            });
        }
        let n_frames = self.config.n_frames(audio.len());
        let n_mels = self.config.n_mels;
        check_len("spectrogram output", n_frames * n_mels, out.len())?;

        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; self.config.n_freqs()];
        let mut max_mel = 0f32;
        for t in 0..n_frames {
            let start = (t * self.config.hop_length) as isize - pad as isize;
            fill_frame(audio, start, &self.window, &mut frame);
            // Lengths are the plan's own, so this cannot fail.
            if self
                .fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .is_err()
            {
                spectrum.fill(Complex::new(0.0, 0.0));
            }
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            filterbank(t).apply(&power, |m, v| {
                max_mel = max_mel.max(v);
                let i = match layout {
                    Layout::TimeMajor => t * n_mels + m,
                    Layout::MelMajor => m * n_frames + t,
                };
                out[i] = v;
            });
        }
        // log10 is monotonic, so the dB maximum is the dB of the largest mel power.
        let max_db = 10.0 * max_mel.max(AMIN).log10();
        let floor = self
            .config
            .top_db
            .map_or(f32::NEG_INFINITY, |top| (f64::from(max_db) - top) as f32);
        for v in out.iter_mut() {
            *v = (10.0 * v.max(AMIN).log10()).max(floor);
        }
        Ok(())
    }
}

/// `frame[j] = padded[start + j] · window[j]`, where the padded signal reflects `audio` at
/// both ends (`x[−i] = x[i]`, `x[n−1+i] = x[n−1−i]`); the caller guarantees a single
/// reflection suffices (`pad < len`).
fn fill_frame(audio: &[f32], start: isize, window: &[f32], frame: &mut [f32]) {
    let n = audio.len() as isize;
    if start >= 0
        && let Some(src) = audio.get(start as usize..start as usize + frame.len())
    {
        for ((f, &x), &w) in frame.iter_mut().zip(src).zip(window) {
            *f = x * w;
        }
        return;
    }
    for (j, (f, &w)) in frame.iter_mut().zip(window).enumerate() {
        let mut i = start + j as isize;
        if i < 0 {
            i = -i;
        }
        if i >= n {
            i = 2 * (n - 1) - i;
        }
        *f = audio.get(i.max(0) as usize).copied().unwrap_or(0.0) * w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The warped filterbank is the plain one at `alpha` 1, and at `alpha` > 1 puts a tone's
    /// energy in the band of the warped frequency (higher bands: a shorter vocal tract).
    #[test]
    fn the_warped_filterbank_moves_energy_to_the_warped_frequency() {
        let (n_freqs, n_mels, rate) = (188, 64, 8000);
        let plain = MelFilterbank::htk(n_freqs, 0.0, 4000.0, n_mels, rate);
        let same = MelFilterbank::htk_warped(n_freqs, 0.0, 4000.0, n_mels, rate, 1.0);
        for (a, b) in plain.matrix().iter().zip(same.matrix()) {
            assert!((a - b).abs() < 1e-6);
        }
        let band_of = |fb: &MelFilterbank, bin: usize| {
            let w = |m: usize| fb.weight(bin, m).unwrap_or(0.0);
            (0..n_mels)
                .max_by(|&a, &b| w(a).total_cmp(&w(b)))
                .unwrap_or(0)
        };
        let higher = MelFilterbank::htk_warped(n_freqs, 0.0, 4000.0, n_mels, rate, 1.1);
        let bin = 40; // about 856 Hz
        let f = 40.0 * 4000.0 / 187.0;
        assert!(band_of(&higher, bin) > band_of(&plain, bin));
        let expected = (0..n_freqs)
            .min_by(|&a, &b| {
                let d = |k: usize| (k as f64 * 4000.0 / 187.0 - 1.1 * f).abs();
                d(a).total_cmp(&d(b))
            })
            .unwrap_or(0);
        assert!(band_of(&higher, bin).abs_diff(band_of(&plain, expected)) <= 1);
    }

    #[test]
    fn paper_shapes() {
        let c = SpectrogramConfig::paper();
        assert_eq!((c.n_fft, c.hop_length, c.n_freqs()), (375, 187, 188));
        assert_eq!(c.n_frames(120_000), 642);
        assert_eq!(c.n_frames(0), 0);
        let s = MelSpectrogram::paper().expect("valid");
        let spec = s.compute(&vec![0.0; 120_000]).expect("long enough");
        assert_eq!((spec.n_frames(), spec.n_mels()), (642, 64));
        // Silence: every value is 10·log10(1e-10) = −100 dB.
        assert!(spec.time_major().iter().all(|&v| v == -100.0));
        assert!(matches!(
            s.compute(&[0.0; 187]),
            Err(AudioError::SignalTooShort { len: 187, min: 187 })
        ));
        assert!(s.compute(&[0.0; 188]).is_ok());
    }

    #[test]
    fn window_is_periodic_hann() {
        let w = periodic_hann(4);
        assert_eq!(w, vec![0.0, 0.5, 1.0, 0.5]);
        let w = periodic_hann(375);
        assert_eq!(w[0], 0.0);
        assert!((w[187] - 1.0).abs() < 1e-4 && (w[188] - w[187]).abs() < 1e-4);
    }

    #[test]
    fn reflect_padding_mirrors_without_repeating_the_edge() {
        let audio: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let mut frame = vec![0.0; 6];
        fill_frame(&audio, -3, &[1.0; 6], &mut frame);
        assert_eq!(frame, [3.0, 2.0, 1.0, 0.0, 1.0, 2.0]);
        fill_frame(&audio, 7, &[1.0; 6], &mut frame);
        assert_eq!(frame, [7.0, 8.0, 9.0, 8.0, 7.0, 6.0]);
    }

    #[test]
    fn sine_peaks_in_its_bin_and_band() {
        let s = MelSpectrogram::paper().expect("valid");
        // Bin 47 is at 47 · 8000/375 = 1002.67 Hz.
        let f = 47.0 * 8000.0 / 375.0;
        let audio: Vec<f32> = (0..120_000)
            .map(|n| (0.5 * (2.0 * std::f64::consts::PI * f * n as f64 / 8000.0).sin()) as f32)
            .collect();
        let mut frame = s.fft.make_input_vec();
        let mut spectrum = s.fft.make_output_vec();
        fill_frame(&audio, 5000, s.window(), &mut frame);
        s.fft.process(&mut frame, &mut spectrum).expect("fft");
        let peak = (0..spectrum.len())
            .max_by(|&a, &b| spectrum[a].norm_sqr().total_cmp(&spectrum[b].norm_sqr()))
            .expect("non-empty");
        assert_eq!(peak, 47);
        // A windowed sine of amplitude A at an exact bin has |X| = A · Σw / 2 = A · n/4.
        let expected = 0.5 * 375.0 / 4.0;
        assert!((spectrum[47].norm() - expected).abs() < 1e-3 * expected);

        let spec = s.compute(&audio).expect("long enough");
        let fb = s.filterbank();
        let best_band = (0..64)
            .max_by(|&a, &b| {
                let (wa, wb) = (fb.weight(47, a), fb.weight(47, b));
                wa.partial_cmp(&wb).unwrap_or(std::cmp::Ordering::Equal)
            })
            .expect("bands");
        let row = spec.frame(300).expect("frame");
        let loudest = (0..64)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .expect("bands");
        assert_eq!(loudest, best_band);
        let (lo, hi) = spec.range();
        assert!(hi - lo <= 80.0 + 1e-3, "top_db clamp: {lo}..{hi}");
        assert_eq!(spec.to_mel_major()[loudest * 642 + 300], row[loudest]);
        let mel_major = s.compute_mel_major(&audio).expect("long enough");
        assert_eq!(mel_major, spec.to_mel_major());
        let back = Spectrogram::from_mel_major(64, 642, &mel_major).expect("shape");
        assert_eq!(back, spec);
    }

    #[test]
    fn filterbank_triangles() {
        let fb = MelFilterbank::htk(188, 0.0, 4000.0, 64, 8000);
        assert_eq!((fb.n_freqs(), fb.n_mels()), (188, 64));
        assert_eq!(fb.matrix().len(), 188 * 64);
        // Bin 0 (0 Hz) is the first mel point: weight 0 everywhere; the last bin (4000 Hz) is
        // the last mel point: weight 0 too.
        assert!((0..64).all(|m| fb.weight(0, m) == Some(0.0)));
        assert!((0..64).all(|m| fb.weight(187, m) == Some(0.0)));
        // Between two mel points the two overlapping triangles sum to 1.
        for k in 5..180 {
            let sum: f32 = (0..64).filter_map(|m| fb.weight(k, m)).sum();
            assert!((sum - 1.0).abs() < 1e-5, "bin {k}: {sum}");
        }
        assert_eq!(fb.weight(188, 0), None);
    }

    #[test]
    fn bad_configs_are_rejected() {
        let base = SpectrogramConfig::paper;
        for c in [
            SpectrogramConfig { n_fft: 1, ..base() },
            SpectrogramConfig {
                hop_length: 0,
                ..base()
            },
            SpectrogramConfig {
                n_mels: 0,
                ..base()
            },
            SpectrogramConfig {
                f_min: 5000.0,
                ..base()
            },
            SpectrogramConfig {
                top_db: Some(-1.0),
                ..base()
            },
            SpectrogramConfig {
                sample_rate: 0,
                ..base()
            },
        ] {
            assert!(MelSpectrogram::new(c).is_err());
        }
    }
}
