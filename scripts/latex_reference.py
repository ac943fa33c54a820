#!/usr/bin/env python3
"""Reference values for the LaTeX-OCR grammar sampler and noise seeds (docs/latex.md).

Re-implements, with real numpy, the sampling half of the authors' pipeline
(`latex_decompiler/cfg.py` `CFG.sample` / `rejection_sample`, the `latex_cfg` grammar of
`latex_decompiler/latex_cfg.py`, `utils.compute_seed`, and the noise seed of
`dataset.NoisyBinaryLaTeXDataset.produce_noise`, which hashes `(seed, idx, "noise")` with
permacache's `stable_hash` = sha256 of `json.dumps(obj, sort_keys=True)`).

Prints JSON on stdout; `crates/sparling-data/tests/latex_grammar.rs` holds its output as test
vectors. Run with a numpy install (no other dependency):

    python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy
    /tmp/npvenv/bin/python scripts/latex_reference.py > /tmp/latex_reference.json
"""

import hashlib
import json
import sys

import numpy as np


class Tok:
    def __init__(self, name, code, symbols):
        self.name, self.code, self.symbols = name, code, symbols


def sym(c):
    return Tok(c, c, (c,))


SUP_O, SUP_C = Tok("SUP(", "^{", ()), Tok("SUP)", "}", ())
SUB_O, SUB_C = Tok("SUB(", "_{", ()), Tok("SUB)", "}", ())
FRAC_O = Tok("FRAC(", r"\frac{", ())
FRAC_M = Tok("FRACMID", "}{", ("FRACBABR",))
FRAC_C = Tok("FRAC)", "}", ())
PAREN_O = Tok("PAREN(", r"\left(", "(")
PAREN_C = Tok("PAREN)", r"\right)", ")")
PLUS = Tok("+", "+", "+")

# (elements, weight), in the reference's production order.
GRAMMAR = {
    "start": [(["straightline_expression"], 1), ([FRAC_O, "start", FRAC_M, "start", FRAC_C], 0.25)],
    "straightline_expression": [(["term"], 1), (["term", PLUS, "straightline_expression"], 0.25)],
    "term": [(["atom"], 1), (["atom", "term"], 0.25)],
    "atom": [(["combined_symbol"], 1), ([PAREN_O, "straightline_expression", PAREN_C], 0.25)],
    "combined_symbol": [
        (["symbol"], 1),
        (["symbol", SUP_O, "symbol", SUP_C], 1),
        (["symbol", SUB_O, "symbol", SUB_C], 1),
    ],
    "symbol": [([sym(c)], 1) for c in "0123456789xyzabc"],
}


def sample(symbol, rng):
    if isinstance(symbol, Tok):
        return [symbol]
    productions = GRAMMAR[symbol]
    weights = np.array([w for _, w in productions])
    weights = weights / weights.sum()
    choice = rng.choice(len(productions), p=weights)
    result = []
    for element in productions[choice][0]:
        result.extend(sample(element, rng))
    return result


def rejection_sample(seed, minimal_length=1, maximal_length=30):
    rng = np.random.RandomState(seed)
    length = rng.choice(list(range(minimal_length, 1 + maximal_length)))
    attempts = 0
    while True:
        attempts += 1
        result = sample("start", rng)
        if len(result) == length:
            return result, rng, attempts


def compute_seed(seed, idx):
    return int(hashlib.sha256(str((seed, idx)).encode("ascii")).hexdigest(), 16) % 2**32


def noise_seed(seed, idx):
    text = json.dumps([seed, idx, "noise"], sort_keys=True)
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 2**32


def visible(tokens):
    # Labelled symbols (as `symbols` in the authors' localize_latex_characters.py): characters,
    # + ( ), and one FRACBAR per fraction.
    return sum(1 for t in tokens if t.symbols and t.name != "FRACMID") + sum(
        1 for t in tokens if t.name == "FRAC("
    )


def main():
    out = {"samples": [], "stats": {}, "noise": [], "choice_p": []}
    for seed in (1, -1, -2):
        for idx in range(12):
            s = compute_seed(seed, idx)
            toks, rng, attempts = rejection_sample(s)
            out["samples"].append(
                dict(
                    seed=seed,
                    index=idx,
                    rng_seed=s,
                    tokens=[t.name for t in toks],
                    code="".join(t.code for t in toks),
                    attempts=attempts,
                    next_u32=int(rng.randint(2**32, dtype=np.uint64)),
                )
            )
    for seed, idx in [(1, 0), (-1, 5), (-2, 0), (-2, 9999)]:
        ns = noise_seed(seed, idx)
        noise = np.random.RandomState(ns).rand(120, 360) < 0.25
        out["noise"].append(
            dict(
                seed=seed,
                index=idx,
                noise_seed=ns,
                count=int(noise.sum()),
                first_row=int(np.packbits(noise[0, :64]).view(">u8")[0]),
            )
        )
    # choice(n, p) against arbitrary weights, to pin searchsorted(side='right') semantics.
    rng = np.random.RandomState(12345)
    for weights in ([1, 0.25], [1, 1, 1], [1] * 16, [0.1, 0, 0.3, 0.6], [3, 1e-9, 2]):
        w = np.array(weights, dtype=np.float64)
        p = w / w.sum()
        out["choice_p"].append(dict(weights=weights, draws=[int(rng.choice(len(w), p=p)) for _ in range(20)]))
    n = 2000
    lengths, vis, fracs, atts = [], [], [], []
    for idx in range(n):
        toks, _, attempts = rejection_sample(compute_seed(-2, idx))
        lengths.append(len(toks))
        vis.append(visible(toks))
        fracs.append(sum(t.name == "FRAC(" for t in toks))
        atts.append(attempts)
    out["stats"] = dict(
        count=n,
        mean_tokens=float(np.mean(lengths)),
        mean_visible=float(np.mean(vis)),
        mean_fracs=float(np.mean(fracs)),
        mean_visible_first_200=float(np.mean(vis[:200])),
        sum_tokens=int(np.sum(lengths)),
        sum_visible=int(np.sum(vis)),
        sum_attempts=int(np.sum(atts)),
    )
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
