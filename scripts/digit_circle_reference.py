#!/usr/bin/env python3
"""Golden vectors for the Rust DigitCircle generator and the motif metrics.

Re-runs the authors' algorithm (kavigupta/sparling-repro @ 4d1f2281:
pixel_art/domain/stamp_circle.py, pixel_art/domain/noise.py, latex_decompiler/utils.py
compute_seed, pixel_art/utils/bootstrap.py, pixel_art/analysis/evaluate_motifs.py compute_ce)
on *real* numpy legacy `RandomState`, and prints a JSON document that the Rust tests compare
against (crates/sparling-data/tests/data/digit_circle_golden.json and
crates/sparling-metrics/tests/data/metrics_golden.json).

Usage (numpy 2.4.6, scipy 1.17.1 were used for the checked-in files):

    python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy scipy
    /tmp/npvenv/bin/python scripts/digit_circle_reference.py data  > crates/sparling-data/tests/data/digit_circle_golden.json
    /tmp/npvenv/bin/python scripts/digit_circle_reference.py metrics > crates/sparling-metrics/tests/data/metrics_golden.json
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAMPS_JSON = os.path.join(ROOT, "crates", "sparling-data", "assets", "digit_circle_stamps.json")


def load_stamps():
    with open(STAMPS_JSON) as f:
        raw = json.load(f)
    # dict insertion order '0'..'9', like the authors' pickle
    return {str(s["digit"]): np.array(s["rows"], dtype=bool) for s in raw}


STAMPS = load_stamps()


def compute_seed(seed, idx):
    return int(hashlib.sha256(str((seed, idx)).encode("ascii")).hexdigest(), 16) % 2**32


def noise(image, p, rng):
    mask = rng.rand(*image.shape) < p
    image[mask] = ~image[mask]


def sample_angles(n, rng):
    while True:
        angles = rng.rand(n)
        angles = angles / angles.sum()
        if (angles >= 1 / (2 * n)).all():
            angles = np.cumsum(angles)
            angles += rng.rand()
            angles *= 2 * np.pi
            return angles


def stamp_image(image, stamp, point):
    top_left = point - [stamp.shape[0] // 2, stamp.shape[1] // 2]
    sx = slice(top_left[0], top_left[0] + stamp.shape[0])
    sy = slice(top_left[1], top_left[1] + stamp.shape[1])
    image[sx, sy] = stamp
    return sx, sy


def digit_circle(rng, size=100, random_shift=3, min_radius=20, max_syms=6, pre_noise=0.5, post_noise=0.05):
    """StampCircleDomain.sample_with_metadata, also returning radius and center."""
    stamps = STAMPS
    max_size = np.max([v.shape for v in stamps.values()])
    background_pct = np.mean([np.mean(v) for v in stamps.values()])
    image = np.zeros((size, size), dtype=bool)
    noise(image, background_pct * pre_noise, rng)
    padding = random_shift + max_size
    radius = rng.randint(min_radius, size // 2 - padding)
    bb = radius + padding, size - radius - padding
    center = np.array([rng.randint(*bb) for _ in range(2)])
    n = rng.randint(3, max_syms + 1)
    symbols = list(rng.choice(list(stamps), size=n, replace=False))
    angles = sample_angles(n, rng)
    placed = []
    for i in range(n):
        point = center + radius * np.array([np.cos(angles[i]), np.sin(angles[i])])
        point = np.round(point).astype(np.int64)
        point += rng.randint(-random_shift, random_shift + 1, size=2)
        sx, sy = stamp_image(image, stamps[symbols[i]], point)
        placed.append(dict(row=int(point[0]), col=int(point[1]), digit=int(symbols[i]),
                           rows=[int(sx.start), int(sx.stop)], cols=[int(sy.start), int(sy.stop)]))
    noise(image, post_noise, rng)
    i = int(np.argmin(symbols))
    label = "".join(symbols[i:] + symbols[:i])
    return image, label, dict(radius=int(radius), center=[int(center[0]), int(center[1])], placed=placed)


def single_digit(rng, size=32, pre_noise=0.5, post_noise=0.05):
    stamps = STAMPS
    background_pct = np.mean([np.mean(v) for v in stamps.values()])
    image = np.zeros((size, size), dtype=bool)
    noise(image, background_pct * pre_noise, rng)
    symbol = rng.choice(list(stamps))
    point = np.array([size // 2, size // 2])
    stamp_image(image, stamps[symbol], point)
    noise(image, post_noise, rng)
    return image, int(symbol)


def bits(x):
    """IEEE-754 bits of a float64, so the Rust tests compare doubles exactly."""
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def image_hash(image):
    return hashlib.sha256(image.astype(np.uint8).tobytes()).hexdigest()


def record(source, rng_seed, rng):
    image, label, meta = digit_circle(rng)
    return dict(source=source, rng_seed=rng_seed, label=label, on_pixels=int(image.sum()),
                image_sha256=image_hash(image), **meta)


def data_golden():
    out = {"numpy_version": np.__version__}
    rs = np.random.RandomState(0)
    out["raw_randomstate_0"] = dict(
        first_u32=[int(x) for x in rs.randint(0, 2**32, size=5, dtype=np.uint64)],
    )
    rs = np.random.RandomState(12345)
    out["raw_randomstate_12345"] = dict(
        rand_bits=[bits(x) for x in rs.rand(5)],
        randint_0_10=[int(x) for x in rs.randint(0, 10, size=10)],
        randint_m3_4=[int(x) for x in rs.randint(-3, 4, size=10)],
        permutation_10=[int(x) for x in rs.permutation(10)],
        randint_0_1000003=[int(x) for x in rs.randint(0, 1000003, size=5)],
        randint_0_2pow40=[int(x) for x in rs.randint(0, 2**40, size=3)],
        permutation_7=[int(x) for x in rs.permutation(7)],
    )
    out["compute_seed"] = [[s, i, compute_seed(s, i)] for s in (1, 2, 9, -1, -2, -3) for i in (0, 1, 17, 123456)]
    samples = []
    for i in range(40):
        samples.append(record("motif_eval", i, np.random.RandomState(i)))
    for split, seed in (("train", 1), ("train", 9), ("val", -1), ("test", -2)):
        for idx in range(8):
            s = compute_seed(seed, idx)
            r = record(split, s, np.random.RandomState(s))
            r["split_seed"] = seed
            r["index"] = idx
            samples.append(r)
    out["samples"] = samples
    total = 0
    all_images = hashlib.sha256()
    for i in range(500):
        image, label, _ = digit_circle(np.random.RandomState(i))
        total += len(label)
        all_images.update(image.astype(np.uint8).tobytes())
    out["motif_eval_0_500_total_digits"] = total
    # sha256 of the 500 images concatenated (row-major uint8 0/1)
    out["motif_eval_0_500_images_sha256"] = all_images.hexdigest()
    counts = [0] * 10
    singles = []
    for idx in range(500):
        s = compute_seed(-2, idx)
        image, d = single_digit(np.random.RandomState(s))
        counts[d] += 1
        if idx < 20:
            singles.append(dict(index=idx, digit=d, on_pixels=int(image.sum()), image_sha256=image_hash(image)))
    out["single_digit_test_500_counts"] = counts
    out["single_digit_samples"] = singles
    return out


def bootstrap_mean(values, count=1000, confidence=0.05):
    values = np.array(values)
    values = values[~np.isnan(values)]
    samplings = np.random.RandomState(0).choice(values, size=(count, len(values)))
    means = np.mean(samplings, axis=1)
    return np.quantile(means, [confidence / 2, 1 - confidence / 2])


def metrics_golden():
    import scipy.optimize

    out = {"numpy_version": np.__version__}
    rs = np.random.RandomState(2024)
    boots = []
    for n in (1, 2, 5, 9, 20):
        values = [float(x) for x in rs.rand(n) * 3]
        lo, hi = bootstrap_mean(values)
        boots.append(dict(values=[bits(v) for v in values], low=bits(lo), high=bits(hi)))
    # with a NaN, which bootstrap_mean drops
    values = [0.5, float("nan"), 1.5, 0.25]
    lo, hi = bootstrap_mean(values)
    boots.append(dict(values=[bits(v) for v in values], low=bits(lo), high=bits(hi)))
    out["bootstrap"] = boots
    # pairwise summation, used by np.mean
    sums = []
    for n in (1, 7, 8, 9, 15, 16, 17, 100, 128, 129, 300, 1000):
        v = rs.rand(n)
        sums.append(dict(values=[bits(x) for x in v], sum=bits(v.sum())))
    out["sums"] = sums
    # Hungarian CE, as compute_ce in evaluate_motifs.py
    ces = []
    for shape in ((3, 3), (4, 6), (6, 4), (10, 10), (10, 15), (1, 5), (5, 1)):
        m = rs.randint(0, 20, size=shape)
        i_s, j_s = scipy.optimize.linear_sum_assignment(-m)
        ce = 1 - sum(m[i, j] for i, j in zip(i_s, j_s)) / m.sum()
        ces.append(dict(matrix=m.tolist(), ce=bits(ce)))
    out["hungarian_ce"] = ces
    return out


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "data"
    doc = data_golden() if what == "data" else metrics_golden()
    json.dump(doc, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
