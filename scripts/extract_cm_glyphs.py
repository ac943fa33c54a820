#!/usr/bin/env python3
"""Extracts the Computer Modern glyphs and metrics the LaTeX-OCR renderer needs.

Reads, from Debian's `texlive-base` (no installation needed):
  fonts/type1/public/amsfonts/cm/{cmr,cmmi}{10,7,5}.pfb, cmex10.pfb   (AMS Type 1, OFL-1.1)
  fonts/type1/public/amsfonts/cmextra/cmex7.pfb                        (AMS Type 1, OFL-1.1)
  fonts/tfm/public/cm/{cmr,cmmi,cmsy}{10,7,5}.tfm, cmex10.tfm          (Knuth's metrics)
  fonts/tfm/public/amsfonts/cmextra/cmex7.tfm                          (AMS metrics)
and writes `crates/sparling-data/assets/latex_cm_glyphs.json`:

  fonts.<name>.size_sp        design size in TeX scaled points (2^-16 pt)
  fonts.<name>.params_sp      TFM parameters 1..n scaled like TeX's store_scaled
                              (floor(fix_word * size / 2^20); param 1, the slant, raw fix_word)
  fonts.<name>.glyphs.<code>  {name, w, h, d, ic (sp, TeX-scaled),
                               path: outline in 1/1000 em, y up:
                               ["M", x, y] ["L", x, y] ["C", x1, y1, x2, y2, x, y] ["Z"]}

Usage (any machine, as root or not):
    apt-get download texlive-base && dpkg-deb -x texlive-base_*.deb /tmp/tl
    python3 -m venv /tmp/ftvenv && /tmp/ftvenv/bin/pip install fonttools
    /tmp/ftvenv/bin/python scripts/extract_cm_glyphs.py /tmp/tl/usr/share/texlive/texmf-dist \
        > crates/sparling-data/assets/latex_cm_glyphs.json
"""

import json
import os
import struct
import sys

from fontTools.pens.recordingPen import RecordingPen
from fontTools.t1Lib import T1Font

CMR = [ord(c) for c in "0123456789+()"]
CMMI = [ord(c) for c in "abcxyz"]
# cmex10 parentheses: the four fixed sizes and the extensible pieces (top, bottom, repeater).
CMEX = [0x00, 0x01, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21, 0x30, 0x31, 0x40, 0x41, 0x42, 0x43]
# name in the table: (file, size in pt, character codes). amsmath re-declares the OMX/cmex
# shape as `<-8>cmex7 <8>cmex8 <9>cmex9 <10->cmex10`, so family 3 is cmex10 at 10 pt, cmex7
# at 7 pt and cmex7 scaled to 5 pt: script-size rule thickness and large delimiters come
# from cmex7.
FONTS = {
    "cmr10": ("cmr10", 10, CMR), "cmr7": ("cmr7", 7, CMR), "cmr5": ("cmr5", 5, CMR),
    "cmmi10": ("cmmi10", 10, CMMI), "cmmi7": ("cmmi7", 7, CMMI), "cmmi5": ("cmmi5", 5, CMMI),
    "cmex10": ("cmex10", 10, CMEX), "cmex7": ("cmex7", 7, CMEX), "cmex7at5": ("cmex7", 5, CMEX),
    "cmsy10": ("cmsy10", 10, []), "cmsy7": ("cmsy7", 7, []), "cmsy5": ("cmsy5", 5, []),
}


def read_tfm(path, at_pt=None):
    data = open(path, "rb").read()
    lf, lh, bc, ec, nw, nh, nd, ni, nl, nk, ne, np_ = struct.unpack(">12H", data[:24])
    words = [data[24 + 4 * i : 28 + 4 * i] for i in range(lf - 6)]

    def fix(wd):
        return struct.unpack(">i", wd)[0]

    pos = 0
    header = words[pos : pos + lh]; pos += lh
    design = fix(header[1])  # fix_word, 2^-20 pt
    char_info = words[pos : pos + ec - bc + 1]; pos += ec - bc + 1
    width = [fix(w) for w in words[pos : pos + nw]]; pos += nw
    height = [fix(w) for w in words[pos : pos + nh]]; pos += nh
    depth = [fix(w) for w in words[pos : pos + nd]]; pos += nd
    italic = [fix(w) for w in words[pos : pos + ni]]; pos += ni
    pos += nl + nk + ne
    params = [fix(w) for w in words[pos : pos + np_]]
    size_sp = design >> 4  # 2^-20 pt -> 2^-16 pt (design sizes are whole points here)
    assert design % 16 == 0
    if at_pt is not None:
        size_sp = at_pt * 65536

    def scaled(fw):
        return (fw * size_sp) >> 20  # floor, = TeX's store_scaled

    chars = {}
    for code in range(bc, ec + 1):
        ci = char_info[code - bc]
        wi, hd, it, _rem = ci
        if wi == 0:
            continue
        chars[code] = dict(
            w=scaled(width[wi]), h=scaled(height[hd >> 4]), d=scaled(depth[hd & 15]),
            ic=scaled(italic[it >> 2]), tag=it & 3, rem=_rem,
        )
    params_sp = [params[0]] + [scaled(p) for p in params[1:]]
    return size_sp, params_sp, chars


def outline(glyphset, name):
    pen = RecordingPen()
    glyphset[name].draw(pen)
    path = []
    for op, pts in pen.value:
        if op == "moveTo":
            path.append(["M", *pts[0]])
        elif op == "lineTo":
            path.append(["L", *pts[0]])
        elif op == "curveTo":
            assert len(pts) == 3
            path.append(["C", *pts[0], *pts[1], *pts[2]])
        elif op in ("closePath", "endPath"):
            path.append(["Z"])
        else:
            raise ValueError(op)
    return [[c[0]] + [round(float(v), 3) for v in c[1:]] for c in path]


def main():
    root = sys.argv[1]
    out = {"source": "Debian texlive-base: AMS Type 1 Computer Modern (OFL-1.1), Knuth's TFM", "fonts": {}}
    for font, (file, at_pt, codes) in FONTS.items():
        tfm = os.path.join(root, "fonts/tfm/public/cm", file + ".tfm")
        if not os.path.exists(tfm):
            tfm = os.path.join(root, "fonts/tfm/public/amsfonts/cmextra", file + ".tfm")
        size_sp, params_sp, chars = read_tfm(tfm, at_pt)
        entry = {"size_sp": size_sp, "params_sp": params_sp, "glyphs": {}}
        if codes:
            pfb = os.path.join(root, "fonts/type1/public/amsfonts/cm", file + ".pfb")
            if not os.path.exists(pfb):
                pfb = os.path.join(root, "fonts/type1/public/amsfonts/cmextra", file + ".pfb")
            t1 = T1Font(pfb)
            t1.parse()
            encoding = t1.font["Encoding"]
            matrix = t1.font["FontMatrix"]
            assert abs(matrix[0] - 0.001) < 1e-12 and abs(matrix[3] - 0.001) < 1e-12, matrix
            glyphset = t1.getGlyphSet()
            for code in codes:
                name = encoding[code]
                c = chars[code]
                entry["glyphs"][str(code)] = dict(
                    name=name, w=c["w"], h=c["h"], d=c["d"], ic=c["ic"],
                    next=c["rem"] if c["tag"] == 2 else None,
                    path=outline(glyphset, name),
                )
        out["fonts"][font] = entry
    json.dump(out, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
