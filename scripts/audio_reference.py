#!/usr/bin/env python3
"""Golden vectors for the Rust spoken-digit (audio) domain.

Re-runs the authors' algorithm (kavigupta/sparling-repro @ 4d1f2281:
pixel_art/audo_mnist/data/dataset.py AudioClipDomain.sample_with_metadata and
AudioClipDomainSpectrogram, pixel_art/audo_mnist/spectrogram/*, latex_decompiler/utils.py
compute_seed) on *real* numpy legacy `RandomState` and scipy, with FSDD in place of AudioMNIST:
paths[digit][speaker] = sorted(glob(f"{digit}_{speaker}_*.wav")), 8 kHz int16 read as x / 32768
(what librosa.load(sr=8000) returns for these files). The spectrogram is the vendored torchaudio
recipe written in float64 numpy (torch is not needed): centred reflect-padded STFT with a periodic
Hann window, |X|^2, HTK mel filterbank (create_fb_matrix, no norm), 10*log10(clamp(., 1e-10)),
clamp at max - 80.

Prints a JSON document that crates/sparling-data/tests/audio.rs compares against
(crates/sparling-data/tests/data/audio_golden.json). Usage (numpy 2.4.6, scipy 1.17.1 were used
for the checked-in file):

    python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy scipy
    /tmp/npvenv/bin/python scripts/audio_reference.py > crates/sparling-data/tests/data/audio_golden.json

The FSDD directory defaults to ../shared/data/fsdd/recordings (relative to the repository root);
set SPARLING_FSDD to override.
"""
import glob
import hashlib
import json
import math
import os
import sys
import wave

import numpy as np
from scipy import stats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FSDD = os.environ.get("SPARLING_FSDD") or os.path.join(ROOT, "..", "shared", "data", "fsdd", "recordings")

SAMPLE_RATE = 8000
TRAIN_SPEAKERS = ["george", "jackson", "lucas", "nicolas", "yweweler"]
TEST_SPEAKERS = ["theo"]
CLIP = int(SAMPLE_RATE * 15)
N_MELS = 64
N_FFT = int(2 * 1.5 * SAMPLE_RATE / N_MELS)  # 375
HOP = N_FFT // 2  # 187


def compute_seed(seed, idx):
    return int(hashlib.sha256(str((seed, idx)).encode("ascii")).hexdigest(), 16) % 2**32


def audio_paths(speakers):
    return {
        digit: {s: sorted(glob.glob(os.path.join(FSDD, f"{digit}_{s}_*.wav"))) for s in speakers}
        for digit in range(10)
    }


_CACHE = {}


def from_path(path):
    if path not in _CACHE:
        with wave.open(path) as w:
            assert w.getframerate() == SAMPLE_RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
            raw = w.readframes(w.getnframes())
        _CACHE[path] = (np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768)).astype(np.float32)
    return _CACHE[path]


def sample_clip(rng, paths, speaker_set, noise_amplitude=-10, length_range=(5, 10)):
    """AudioClipDomain.sample_with_metadata with ListOffDigitsOperation."""
    length = rng.randint(length_range[0], length_range[1] + 1)
    digits = rng.choice(10, size=length)
    chosen = []
    for digit in digits:
        speaker = rng.choice(speaker_set)
        chosen.append(rng.choice(paths[digit][speaker]))
    digit_samples = [from_path(p) for p in chosen]
    audio = np.zeros(CLIP, np.float32)
    lengths = [x.shape[0] for x in digit_samples]
    while True:
        starts = rng.choice(CLIP, size=len(digit_samples))
        starts.sort()
        spaces = [*starts[1:], CLIP] - starts
        if (spaces >= lengths).all():
            break
    for s, x in zip(starts, digit_samples):
        audio[s : s + x.shape[0]] = x
    noise = stats.truncnorm(-1, 1, scale=min(2**16, 2**noise_amplitude)).rvs(CLIP, random_state=rng)
    # torch.tensor(audio + noise).float()
    final = (audio + noise).astype(np.float32)
    return final, digits, chosen, starts, lengths


def create_fb_matrix(n_freqs, f_min, f_max, n_mels, sample_rate):
    all_freqs = np.linspace(0, sample_rate // 2, n_freqs)
    m_min = 2595.0 * math.log10(1.0 + (f_min / 700.0))
    m_max = 2595.0 * math.log10(1.0 + (f_max / 700.0))
    m_pts = np.linspace(m_min, m_max, n_mels + 2)
    f_pts = 700.0 * (10 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


FB = create_fb_matrix(N_FFT // 2 + 1, 0.0, float(SAMPLE_RATE // 2), N_MELS, SAMPLE_RATE)
WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # torch.hann_window(periodic)


def spectrogram(audio):
    """(frames, mels) in dB, float64."""
    pad = N_FFT // 2
    xp = np.pad(np.asarray(audio, dtype=np.float64), pad, mode="reflect")
    n_frames = 1 + (len(xp) - N_FFT) // HOP
    frames = np.stack([xp[t * HOP : t * HOP + N_FFT] * WINDOW for t in range(n_frames)])
    spec = np.fft.rfft(frames, axis=1)
    power = spec.real**2 + spec.imag**2
    mel = power @ FB
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    return np.maximum(db, db.max() - 80.0)


def test_signal():
    """Deterministic signal the Rust test rebuilds: two tones, a burst and RandomState(0) noise."""
    n = np.arange(CLIP, dtype=np.float64)
    u = np.random.RandomState(0).random_sample(CLIP)
    x = 0.3 * np.sin(2 * np.pi * 440.0 * n / SAMPLE_RATE)
    x += 0.2 * np.sin(2 * np.pi * 1750.3 * n / SAMPLE_RATE + 0.5) * (n / CLIP)
    burst = (n >= 40000) & (n < 60000)
    x[burst] += 0.05 * np.sin(2 * np.pi * 3100.0 * n[burst] / SAMPLE_RATE)
    x += 0.01 * (2.0 * u - 1.0)
    return x.astype(np.float32)


CHECK_FRAMES = [0, 1, 2, 100, 321, 500, 640, 641]


def spec_record(db):
    return dict(
        n_frames=int(db.shape[0]),
        n_mels=int(db.shape[1]),
        max=float(db.max()),
        min=float(db.min()),
        mean=float(db.mean()),
        frames={str(t): [float(v) for v in db[t]] for t in CHECK_FRAMES},
    )


def clip_record(split, index, rng_seed, role, paths):
    speakers = TRAIN_SPEAKERS if role == "train" else TEST_SPEAKERS
    rng = np.random.RandomState(rng_seed)
    audio, digits, chosen, starts, lengths = sample_clip(rng, paths, speakers)
    n_frames = 1 + (CLIP + 2 * (N_FFT // 2) - N_FFT) // HOP
    motifs = []
    for d, p, s, l in zip(digits, chosen, starts, lengths):
        f0 = int(s) * n_frames // CLIP
        fl = int(l) * n_frames // CLIP
        name = os.path.basename(p)
        motifs.append(dict(digit=int(d), file=name, speaker=name.split("_")[1], start=int(s), len=int(l),
                           frames=[f0, f0 + fl]))
    probe = [0, 1, 2, 1000, 59999, 60000, 119999] + [int(s) + 7 for s in starts]
    return dict(
        split=split,
        index=index,
        rng_seed=rng_seed,
        label=[int(d) for d in digits],
        motifs=motifs,
        audio_sha256=hashlib.sha256(audio.astype("<f4").tobytes()).hexdigest(),
        audio_sum=float(audio.astype(np.float64).sum()),
        audio_probe=[[i, float(audio[i])] for i in probe],
        # the next draw after the clip: checks that the noise consumed exactly CLIP doubles
        next_u32=int(rng.randint(2**32)),
        spectrogram=spec_record(spectrogram(audio)) if index == 0 else None,
    )


def main():
    out = {}
    fb = FB
    out["filterbank"] = dict(
        n_freqs=int(fb.shape[0]),
        n_mels=int(fb.shape[1]),
        row_sums=[float(v) for v in fb.sum(axis=1)],
        col_sums=[float(v) for v in fb.sum(axis=0)],
        first_bin=[int(np.nonzero(fb[:, m])[0].min()) if fb[:, m].any() else -1 for m in range(fb.shape[1])],
        last_bin=[int(np.nonzero(fb[:, m])[0].max()) if fb[:, m].any() else -1 for m in range(fb.shape[1])],
        entries=[[k, m, float(fb[k, m])] for k, m in [(1, 0), (2, 1), (10, 8), (47, 30), (100, 47), (150, 57), (186, 63)]],
    )
    out["window"] = dict(first=[float(v) for v in WINDOW[:5]], sum=float(WINDOW.sum()))
    out["test_signal"] = spec_record(spectrogram(test_signal()))

    paths = audio_paths(TRAIN_SPEAKERS + TEST_SPEAKERS)
    clips = []
    for split, seed, role, count in [("train:1", 1, "train", 4), ("val", -1, "train", 2), ("test", -2, "test", 3)]:
        for i in range(count):
            clips.append(clip_record(split, i, compute_seed(seed, i), role, paths))
    for i in range(2):
        clips.append(clip_record("motif-eval", i, i, "test", paths))
    out["clips"] = clips
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
