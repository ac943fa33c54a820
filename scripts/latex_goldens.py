#!/usr/bin/env python3
"""pdflatex goldens for the native LaTeX renderer (docs/latex.md).

For test-split (seed -2) formulas 0..N-1 this runs the authors' rendering pipeline:
`latex_decompiler/render.py`'s template (standalone, border=3pt, amsmath, xcolor, the 18 hue
colours and the \\cleft/\\cright macros) batched as one page per formula with standalone's
`multi` option, `pdflatex`, `pdftoppm -r 200` (what pdf2image.convert_from_path(dpi=200) runs),
`dataset.padding` into 120x360, channel 0, binarised with `gray/255 > 0.75` = background.
Ground-truth boxes come from the colour renders of `localize_latex_characters.py`
(18 labelled tokens per render, matplotlib's rgb_to_hsv, hue rounded to 10 degrees, sat > 0.1).

Writes
  <out>.png   1-bit greyscale, 360 wide, 120*N tall: the binarised images, ink black
  <out>.json  per formula: index, tokens (space-separated names), page size [h, w] in px
              before the fit, boxes [token index, xmin, ymin, xmax, ymax] (inclusive)
and, with --raw, <out>.raw.npz (grey images, for development; not committed).

Needs numpy, pdflatex (texlive-latex-base/-recommended/-extra) and pdftoppm (poppler-utils):
    /tmp/npvenv/bin/python scripts/latex_goldens.py --count 300 \
        --out crates/sparling-data/tests/data/latex_goldens
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from colorsys import hsv_to_rgb

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latex_reference import compute_seed, rejection_sample  # noqa: E402

H, W = 120, 360
HUES = list(range(0, 360, 20))
HEADER = r"""\documentclass[border=3pt,multi=eqnpage]{standalone}
\usepackage{amsmath}
\usepackage{xcolor}

\newcommand{\cleft}[2][.]{%
  \begingroup\colorlet{savedleftcolor}{.}%
  \color{#1}\left#2\color{savedleftcolor}%
}
\newcommand{\cright}[2][.]{%
  \color{#1}\right#2\endgroup
}

""" + "\n".join(
    r"\definecolor{color%d}{rgb}{%s}" % (h, ",".join(map(str, hsv_to_rgb(h / 360, 1, 1))))
    for h in HUES
) + "\n\\newenvironment{eqnpage}{}{}\n\\begin{document}\n"


def color_code(color, tok):
    code = tok.code
    if len(code) == 1:  # letters, digits, +
        return r"\color{%s} %s" % (color, code)
    if code == r"\left(":
        return r"\cleft[%s](" % color
    if code == r"\right)":
        return r"\cright[%s])" % color
    if tok.name == "FRAC(":
        return r"\color{" + color + r"} \frac{"
    assert color == "black", tok.name
    return code


def symbol(tok):
    if tok.name == "FRACMID":
        return None
    if tok.name == "FRAC(":
        return "FRACBAR"
    return tok.symbols[0] if tok.symbols else None


def padding(x):
    if x.shape[0] > H:
        extra = x.shape[0] - H
        x = x[extra // 2 : -(extra - extra // 2)]
    if x.shape[1] > W:
        extra = x.shape[1] - W
        x = x[:, extra // 2 : -(extra - extra // 2)]
    top = (H - x.shape[0]) // 2
    left = (W - x.shape[1]) // 2
    return np.pad(
        x,
        [(top, H - x.shape[0] - top), (left, W - x.shape[1] - left), (0, 0)],
        constant_values=255,
    )


def rgb_to_hsv(arr):
    # matplotlib.colors.rgb_to_hsv
    out = np.zeros_like(arr)
    arr_max = arr.max(-1)
    ipos = arr_max > 0
    delta = arr.ptp(-1) if hasattr(arr, "ptp") else np.ptp(arr, -1)
    s = np.zeros_like(delta)
    s[ipos] = delta[ipos] / arr_max[ipos]
    ipos = delta > 0
    idx = (arr[..., 0] == arr_max) & ipos
    out[idx, 0] = (arr[idx, 1] - arr[idx, 2]) / delta[idx]
    idx = (arr[..., 1] == arr_max) & ipos
    out[idx, 0] = 2.0 + (arr[idx, 2] - arr[idx, 0]) / delta[idx]
    idx = (arr[..., 2] == arr_max) & ipos
    out[idx, 0] = 4.0 + (arr[idx, 0] - arr[idx, 1]) / delta[idx]
    out[..., 0] = (out[..., 0] / 6.0) % 1.0
    out[..., 1] = s
    out[..., 2] = arr_max
    return out


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6"
    w, h = int(parts[1]), int(parts[2])
    pix = np.frombuffer(parts[4][: w * h * 3], dtype=np.uint8).reshape(h, w, 3)
    return pix


def render_pages(codes, workdir):
    tex = HEADER + "".join(
        "\\begin{eqnpage}$\\displaystyle\n%s\n$\\end{eqnpage}\n" % c for c in codes
    ) + "\\end{document}\n"
    with open(os.path.join(workdir, "eqn.tex"), "w") as f:
        f.write(tex)
    subprocess.check_call(
        ["pdflatex", "-interaction=nonstopmode", "eqn.tex"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    subprocess.check_call(["pdftoppm", "-r", "200", "eqn.pdf", "pg"], cwd=workdir)
    names = sorted(
        (n for n in os.listdir(workdir) if n.startswith("pg") and n.endswith(".ppm")),
        key=lambda n: int(n[3:-4]),
    )
    assert len(names) == len(codes), (len(names), len(codes))
    pages = [read_ppm(os.path.join(workdir, n)) for n in names]
    for n in names:
        os.remove(os.path.join(workdir, n))
    return pages


def png_1bit(ink, path):
    h, w = ink.shape
    raw = b"".join(b"\x00" + np.packbits(~ink[r]).tobytes() for r in range(h))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seed", type=int, default=-2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--batch", type=int, default=250)
    args = ap.parse_args()

    samples = []
    for idx in range(args.start, args.start + args.count):
        toks, _, _ = rejection_sample(compute_seed(args.seed, idx))
        samples.append((idx, toks))

    # Page list: the plain render, then ceil(labelled/18) colour renders per formula.
    jobs = []
    for k, (idx, toks) in enumerate(samples):
        jobs.append(("plain", k, None, "".join(t.code for t in toks)))
        labelled = [i for i, t in enumerate(toks) if symbol(t) is not None]
        for c in range(0, len(labelled), len(HUES)):
            chunk = labelled[c : c + len(HUES)]
            hue_of = {i: h for i, h in zip(chunk, HUES)}
            colors = ["black"] * len(toks)
            for i, h in hue_of.items():
                colors[i] = "color%d" % h
            code = "".join(color_code(col, t) for col, t in zip(colors, toks))
            jobs.append(("color", k, hue_of, code))

    images = [None] * len(samples)
    raw_sizes = [None] * len(samples)
    boxes = [dict() for _ in samples]
    with tempfile.TemporaryDirectory() as workdir:
        for b in range(0, len(jobs), args.batch):
            batch = jobs[b : b + args.batch]
            pages = render_pages([j[3] for j in batch], workdir)
            for (kind, k, hue_of, _), page in zip(batch, pages):
                img = padding(page)
                if kind == "plain":
                    images[k] = img[:, :, 0]
                    raw_sizes[k] = list(page.shape[:2])
                    continue
                hsv = rgb_to_hsv(img / 255)
                hue = (hsv[:, :, 0].astype(np.float32) * 360 / 10).round().astype(np.int64) * 10 % 360
                sat = hsv[:, :, 1]
                for i, h in hue_of.items():
                    mask = (hue == h) & (sat > 0.1)
                    if not mask.any():
                        continue
                    ys, xs = np.where(mask)
                    boxes[k][i] = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
            print("rendered", min(b + args.batch, len(jobs)), "/", len(jobs), file=sys.stderr)

    gray = np.stack(images)
    ink = ~(gray / 255 > 0.75)
    png_1bit(ink.reshape(-1, W), args.out + ".png")
    meta = []
    for k, (idx, toks) in enumerate(samples):
        meta.append(
            dict(
                index=idx,
                tokens=" ".join(t.name for t in toks),
                page=raw_sizes[k],
                # [token index, xmin, ymin, xmax, ymax] per labelled token found
                boxes=[[i, *boxes[k][i]] for i in sorted(boxes[k])],
            )
        )
    with open(args.out + ".json", "w") as f:
        f.write('{"seed":%d,"height":%d,"width":%d,"samples":[\n' % (args.seed, H, W))
        f.write(",\n".join(json.dumps(m, separators=(",", ":")) for m in meta))
        f.write("\n]}\n")
    if args.raw:
        np.savez_compressed(args.out + ".raw.npz", gray=gray)


if __name__ == "__main__":
    main()
