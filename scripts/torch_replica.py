#!/usr/bin/env python3
"""PyTorch replica of the `cpu` presets of the three domains and of DigitCircle's `paper` preset,
for timing a training step side by side with the Rust/burn implementation of this workspace.

`--preset`: `paper` and `cpu` are DigitCircle's (presets/digit_circle.rs), `latex-cpu` is the
LaTeX-OCR `cpu` preset (v2, presets/latex.rs `latex_cpu`) and `audio-cpu` the spoken digits'
`cpu` preset (presets/audio.rs `audio_cpu`).

What is replicated (crates/sparling-models/src/presets/*.rs, model/{mod,image,sequence}.rs,
modules/*.rs; crates/sparling-core/src/{sparsity,batch_norm,threshold}.rs and
bottleneck/method.rs; `Trainer::step` in crates/sparling-models/src/training.rs):

DigitCircle, `paper` and `cpu`:
  images [N, 1, 100, 100]
    -> motif model: space-to-depth by `patch`, 1x1 input convolution (a Linear over channels,
       as ours), pre-activation residual units (BN, ReLU, 3x3 conv, BN, ReLU, 3x3 conv, + x),
       1x1 output convolution (Linear) to `motifs * patch^2` channels, depth-to-space
                                                                   -> logits [N, 10, 100, 100]
    -> bottleneck: BatchNorm2d(10, affine) then SPARLING's per-channel threshold
       relu(x - t), t the running k-th smallest value           -> maps   [N, 10, 100, 100]
    -> collapse: 1x1 Conv2d(10 -> d) and MaxPool2d(8) (pool first in `cpu`) -> [N, d, 12, 12]
    -> encoder: `paper` row BiLSTM(d, d/2) along each row + row sinusoids, 144 cells;
                `cpu`   angular scan (36 sectors, max over each sector's cells, BiLSTM(d, d/2)
                        over three laps, middle lap + skip) + sinusoids, 36 steps;
       then a Transformer encoder (post-LN 6 x (512, 8, 2048, dropout 0.1) for `paper`,
       pre-LN 2 x (64, 4, 256, no dropout) for `cpu`)        -> memory [N, S, d]
    -> decoder: embedding + sinusoids, Transformer decoder (same shapes as the encoder) with a
       causal mask over the memory, Linear to the 12 tokens    -> logits [N, L, 12]
    -> masked cross-entropy (mean over the kept tokens), backward, (no gradient clipping in
       either preset), Adam (betas 0.9/0.999, eps 1e-8, no weight decay).

LaTeX-OCR, `latex-cpu` (batch 16):
  images [16, 1, 120, 360] (1 is white)
    -> motif model: space-to-depth by 8 (15 x 45 blocks), Linear 64 -> 32, 2 residual units
       32 wide whose 3x3 convolutions pad by repeating the border (`padding = "edge"`: PyTorch's
       padding_mode='replicate' pads, then convolves unpadded, as ours), Linear 32 -> 32 * 4
       (each block's (8 / map_stride 4)^2 cells), depth-to-space by 2
                                                                   -> logits [16, 32, 30, 90]
    -> bottleneck: BatchNorm2d(32) without affine, then the accumulated per-channel threshold
       (`accumulate_motifs = 10`; items 11, 12)                  -> maps   [16, 32, 30, 90]
    -> collapse: MaxPool2d(2) first, then 1x1 Conv2d(32 -> 64)   -> [16, 64, 15, 45]
    -> encoder: row BiLSTM(64, 32) along each of the 15 rows + row sinusoids, and no
       Transformer encoder layer                                 -> memory [16, 675, 64]
    -> decoder: as DigitCircle `cpu`'s (pre-LN 2 x (64, 4, 256)) over the 28 LaTeX-CFG tokens,
       L = 31 (the longest formula: 30 tokens and </s>)          -> logits [16, 31, 28]
    -> loss and backward as above, Adam 1e-3 after a 5,000-sample warm-up, no clipping.

Spoken digits, `audio-cpu` (batch 16):
  log-mel spectrograms [16, 1, 642, 64] (frames x mel bands)
    -> motif model (1-D, sequence.rs): read as [16, 64, 642], the bands being the channels,
       Conv1d 1x1 64 -> 32, 4 pre-activation residual units (BatchNorm1d, Conv1d k3, zero
       padding) 32 wide, Conv1d 1x1 32 -> 10, laid out as maps
                                                                   -> logits [16, 10, 642, 1]
    -> bottleneck: BatchNorm2d(10) without affine, accumulated threshold (as LaTeX)
                                                                   -> maps   [16, 10, 642, 1]
    -> collapse: [16, 10, 642], 1x1 Conv1d(10 -> 64) then MaxPool1d(8) -> [16, 64, 80]
    -> encoder: time-step sinusoids, pre-LN 2 x (64, 4, 256)     -> memory [16, 80, 64]
    -> decoder: as LaTeX's, L = 11 (10 digits and </s>)          -> logits [16, 11, 28]
    -> loss, backward and Adam as LaTeX's.

Parameter counts. Our Rust counts come from
crates/sparling-models/tests/parameter_counts.rs (run
`cargo test -p sparling-models --test parameter_counts -- --nocapture`), hard-coded below in
RUST_COUNTS. burn's `num_params` counts every float tensor of the module record, also what
PyTorch calls buffers: the BatchNorm running mean and variance (of the motif model's residual
units and of the sparsity BatchNorm), the sparsity layer's running thresholds and its density
scalar. Without affine (LaTeX, audio) it also counts the sparsity BatchNorm's scale and shift,
which burn keeps frozen at 1 and 0 and PyTorch's BatchNorm2d(affine=False) does not have at all
(2 * motifs values, a known burn-only term). So `burn num_params = PyTorch parameters + those
buffers (+ the frozen scale and shift)`. This script checks both: its `parameters()` against
`burn num_params - burn extras`, and `parameters()` plus the same buffers (running_mean,
running_var, thresholds, sparsity; NOT BatchNorm's integer `num_batches_tracked`, which burn
does not have) plus the frozen term against `burn num_params`. It exits 1 if either differs.
PyTorch parameters + burn extras: `paper` 46,030,634 + 1,055, `cpu` 346,432 + 287,
`latex-cpu` 207,868 + 417 (64 frozen), `audio-cpu` 265,542 + 563 (20 frozen).

Timing. `--threads N` (torch.set_num_threads, default 2), `--warmup` untimed repetitions, then
`--steps` timed repetitions of: the full training step (zero_grad, forward, loss, loss.item(),
backward, Adam step), and per component, each forward + backward on its own:
  * motif trunk: motif model + sparsity layer, backward of maps.sum();
  * sparsity layer alone: BatchNorm + threshold + relu on a N(0, 1) tensor of the motif maps'
    shape, backward of out.sum() (as `benches/training_step.rs`'s "bottleneck");
  * downstream: collapse + encoder + decoder + loss from fixed (detached) sparse maps that
    require grad, so the gradient w.r.t. the maps is computed as in the full step;
  * optimizer step: `optimizer.step()` alone, on the gradients of one full backward.
Components are timed separately, so trunk + downstream + optimizer only approximates the full
step (the sparsity layer is inside the trunk).

NOT an exact replica (honest list; none of these changes a tensor shape or a parameter count):
  1. Initialisation: PyTorch's nn.MultiheadAttention uses Xavier-uniform packed in-projection
     weights and zero biases; burn uses Kaiming-uniform per q/k/v/out Linear, with biases. The
     other layers (Linear, Conv1d/2d, Embedding N(0,1), LSTM U(+-1/sqrt(h)), BatchNorm,
     LayerNorm) use the same distributions. Weights differ anyway (different RNGs); irrelevant
     for timing.
  2. Attention: PyTorch packs q/k/v into one in-projection matmul for self-attention and uses
     scaled_dot_product_attention; burn runs separate q, k, v Linears. Same function and count.
  3. LSTM: PyTorch's native nn.LSTM(bidirectional=True, batch_first=True) kernel; ours is a
     hand-batched loop (crates/sparling-models/src/modules/lstm.rs: one input projection for
     every step and both directions, one [2, N, H] x [2, H, 4H] matmul per step). Same
     function, gate order and parameters (w_ih, w_hh, b_ih, b_hh per direction).
  4. Sinusoidal tables are computed once (non-persistent buffers); ours are rebuilt on the host
     and uploaded in every forward (a few thousand floats). The replica computes the values of
     timescale 5000 (positional.rs LEGACY_TIMESCALE, which the three `cpu` presets use) for
     every preset; the `paper` preset uses the reference's 10000. The values do not change the
     timing.
  5. The sparsity layer's k-th value: torch.kthvalue on the detached [C, rows] view (plus an
     isfinite check, as ours rejects NaN/inf); ours copies it to the host and runs
     select_nth_unstable per channel on rayon (crates/sparling-core/src/threshold.rs). Same
     k = max(1, int(rows * (1 - density))) and the same momentum update in f32.
  6. Data: a fixed synthetic batch, not real data; ours are built from the host batch in every
     step (TensorBatch::new), here the tensors are built once. DigitCircle: Bernoulli(--ink,
     0.1) binary images, random sequences of 3 to 6 distinct digits, the first sample forced to
     6 digits so L = 7. LaTeX: Bernoulli(--ink, 0.74 ones, the white page with its noise)
     binary images, 1 to 30 tokens drawn uniformly from the 26 symbols (no grammar), the first
     sample forced to 30 so L = 31. Audio: N(0, 1) spectrograms (ours are log-mel in dB), 5 to
     10 digits (repeats allowed), the first sample forced to 10 so L = 11. The threshold
     selection's cost may depend slightly on the value distribution; nothing else does.
  7. Adam: PyTorch's default CPU implementation (`--adam default`, the single-tensor for-loop)
     or, with `--adam foreach|fused`, its multi-tensor or fused kernels; ours is burn's Adam.
     Both update every trainable parameter, including the BatchNorm and LayerNorm scales and
     shifts (not the frozen sparsity scale and shift that burn keeps without affine: they get
     no gradient).
  8. Memory layout: the image motif model permutes channel-last Linear outputs to NCHW views
     as ours does; PyTorch then runs the 3x3 convolutions in channels_last (oneDNN) on its own
     choice. The audio front end transposes [N, T, F] to a [N, F, T] view before its first
     Conv1d, as ours; each backend decides whether to copy it.
  9. Learning rate: the warm-ups (4,000 samples for DigitCircle `cpu`, 5,000 for `latex-cpu`
     and `audio-cpu`) are mirrored; they do not change the cost. Our per-step RNG reseeding,
     loss bookkeeping and the Diverged check are reduced to loss.item() and an isfinite test.
 10. Dropout 0.1 (`paper`) in the attention weights, residual branches, feed-forward and after
     the positional encodings, as burn; PyTorch's dropout(p=0) (the `cpu` presets) is a no-op,
     as burn's.
 11. BatchNorm without affine (LaTeX, audio): burn's batch-norm op (burn-backend's default
     `batch_norm_train`, which flex does not override) still multiplies by the frozen scale (1)
     and adds the frozen shift (0) in the forward, and its backward computes their gradients (two
     reductions) before dropping them; PyTorch's affine=False kernel does neither. A few extra
     passes over the logits (1.4 M values for LaTeX, 0.1 M for audio) in our step only.
 12. Accumulated threshold (LaTeX, audio: `accumulate_motifs = 10`): ours buffers detached
     batches on the host until rows * density >= 10 expected activations per channel, then
     selects over the buffer; a batch that reaches it alone with nothing buffered is selected in
     place, the per-step work of the plain layer (host copy of [C, rows], per-channel selection)
     plus one more finite scan of the batch. At batch 16 every batch reaches it alone at every
     density the presets train: LaTeX has rows = 16 * 30 * 90 = 43,200 per channel, enough down
     to 2.3e-4 per cell, and trains down to 0.5 * 0.75^24 = 5.0e-4; audio has rows = 16 * 642 =
     10,272, enough down to 9.7e-4, and trains down to 0.5 * 0.75^21 = 1.19e-3. So the replica
     does not buffer (it raises if it ever would) and times the threshold of item 5 at the
     starting density 0.5, as our benchmark does.

Usage (on an otherwise idle machine; also give the Rust side the same thread count, e.g.
RAYON_NUM_THREADS=2):
    python3 scripts/torch_replica.py --preset cpu   --threads 2 --warmup 3 --steps 20 --json cpu.json
    python3 scripts/torch_replica.py --preset paper --threads 2 --warmup 2 --steps 5  --json paper.json
    python3 scripts/torch_replica.py --preset latex-cpu --threads 2 --warmup 3 --steps 20 --json latex.json
    python3 scripts/torch_replica.py --preset audio-cpu --threads 2 --warmup 3 --steps 20 --json audio.json
    python3 scripts/torch_replica.py --preset paper --check-only   # counts and shapes only
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Our Rust counts, as printed and asserted by crates/sparling-models/tests/parameter_counts.rs:
# (burn `num_params`, burn extras = BatchNorm running mean/var + thresholds + density scalar
# + the frozen sparsity BatchNorm scale and shift of the presets without affine).
RUST_COUNTS = {
    "paper": {"burn_num_params": 46_031_689, "burn_extras": 1_055},
    "cpu": {"burn_num_params": 346_719, "burn_extras": 287},
    "latex-cpu": {"burn_num_params": 208_285, "burn_extras": 417},
    "audio-cpu": {"burn_num_params": 266_105, "burn_extras": 563},
}

# The buffers burn counts as parameters (module doc above).
COUNTED_BUFFERS = ("running_mean", "running_var", "thresholds", "sparsity")

# Every domain's vocabulary starts <s>, </s>. DigitCircle: digit d has id d + 2 (12 tokens);
# LaTeX-CFG (LaTeX and audio, 28 tokens): "+" is 2, digit d is d + 3.
BOS, EOS = 0, 1


def cpu_transformer(layers):
    """presets/mod.rs `cpu_transformer`: pre-LN, 4 heads, FF 256, no dropout."""
    return dict(layers=layers, heads=4, feed_forward=256, dropout=0.0, norm_first=True)


def paper_preset():
    """`digit_circle_paper` (pae-7bb1)."""
    return {
        "kind": "image",
        "input": (1, 100, 100),
        "data": dict(domain="digit-circle", ink=0.1, min_symbols=3, max_symbols=6),
        "batch_size": 10,
        "learning_rate": 1e-5,
        "warmup_samples": None,
        "adam_epsilon": 1e-8,
        "gradient_clip": None,
        "motif": dict(in_channels=1, hidden=64, motifs=10, residual_units=4, kernel=3,
                      patch=1, map_stride=1, padding="zeros"),
        "sparsity": dict(density=0.5, momentum=0.1, affine=True, accumulate_motifs=None),
        "collapse": dict(channels=512, pool=8, pool_first=False),
        "encoder": dict(row_lstm=True, angular_bins=None,
                        transformer=dict(layers=6, heads=8, feed_forward=2048, dropout=0.1,
                                         norm_first=False)),
        "decoder": dict(vocab=12,
                        transformer=dict(layers=6, heads=8, feed_forward=2048, dropout=0.1,
                                         norm_first=False)),
    }


def cpu_preset():
    """`digit_circle_cpu` (v3): the paper model with these changes."""
    p = paper_preset()
    p["batch_size"] = 16
    p["learning_rate"] = 1e-3
    p["warmup_samples"] = 4_000
    p["motif"].update(hidden=64, residual_units=1, patch=4)  # sub-pixel head, zero padding
    p["collapse"].update(channels=64, pool_first=True)
    # positions = polar, but with the angular scan the grid positions are not added (ours:
    # RowEncoder::forward returns from the angular branch first).
    p["encoder"] = dict(row_lstm=False, angular_bins=36, transformer=cpu_transformer(2))
    p["decoder"]["transformer"] = cpu_transformer(2)
    return p


def latex_cpu_preset():
    """`latex_cpu` (v2; presets/latex.rs): the `ltx-2dc3` model with the trunk on 8x8 blocks,
    motif maps at stride 4, max-pool 2 then 1x1 to 64, no encoder Transformer layer."""
    return {
        "kind": "image",
        "input": (1, 120, 360),
        # 1 is white: about 75 % of the page survives the 25 % noise, minus ~1.4 % ink
        # (tests/latex.rs); formulas of up to 30 tokens between <s> and </s>.
        "data": dict(domain="latex", ink=0.74, min_symbols=1, max_symbols=30),
        "batch_size": 16,
        "learning_rate": 1e-3,
        "warmup_samples": 5_000,
        "adam_epsilon": 1e-8,
        "gradient_clip": None,
        "motif": dict(in_channels=1, hidden=32, motifs=32, residual_units=2, kernel=3,
                      patch=8, map_stride=4, padding="edge"),
        "sparsity": dict(density=0.5, momentum=0.1, affine=False, accumulate_motifs=10.0),
        "collapse": dict(channels=64, pool=2, pool_first=True),
        "encoder": dict(row_lstm=True, angular_bins=None, transformer=cpu_transformer(0)),
        "decoder": dict(vocab=28, transformer=cpu_transformer(2)),
    }


def audio_cpu_preset():
    """`audio_cpu` (presets/audio.rs): the `aum-2ka1` model, 32 wide with 4 residual units,
    d_model 64, 2-layer pre-LN encoder and decoder."""
    return {
        "kind": "sequence",
        # [1, frames, mel bands]: 15 s clips of 5 to 10 spoken digits.
        "input": (1, 642, 64),
        "data": dict(domain="audio", ink=None, min_symbols=5, max_symbols=10),
        "batch_size": 16,
        "learning_rate": 1e-3,
        "warmup_samples": 5_000,
        "adam_epsilon": 1e-8,
        "gradient_clip": None,
        "motif": dict(in_channels=64, hidden=32, motifs=10, residual_units=4, kernel=3),
        "sparsity": dict(density=0.5, momentum=0.1, affine=False, accumulate_motifs=10.0),
        "collapse": dict(channels=64, pool=8),
        "encoder": dict(transformer=cpu_transformer(2)),
        "decoder": dict(vocab=28, transformer=cpu_transformer(2)),
    }


PRESETS = {"paper": paper_preset, "cpu": cpu_preset, "latex-cpu": latex_cpu_preset,
           "audio-cpu": audio_cpu_preset}


# ----------------------------------------------------------------------------------------------
# Modules


def space_to_depth(x, p):
    """[N, C, H, W] -> [N, H/p, W/p, C*p*p] (channel-last), as motif.rs."""
    n, c, h, w = x.shape
    return (x.reshape(n, c, h // p, p, w // p, p)
            .permute(0, 2, 4, 1, 3, 5)
            .reshape(n, h // p, w // p, c * p * p))


def depth_to_space(x, p):
    """[N, H/p, W/p, C*p*p] -> [N, C, H, W], inverse of space_to_depth."""
    n, h, w, cp = x.shape
    c = cp // (p * p)
    return (x.reshape(n, h, w, c, p, p)
            .permute(0, 3, 1, 4, 2, 5)
            .reshape(n, c, h * p, w * p))


# motif.rs `Padding`: Edge repeats the border (ours: an explicit edge pad, then a valid
# convolution; PyTorch's 'replicate' mode pads the same way before an unpadded convolution).
PADDING_MODES = {"zeros": "zeros", "edge": "replicate"}


class ResidualUnit(nn.Module):
    """y = conv2(relu(bn2(conv1(relu(bn1(x)))))) + x, 'same' padding (residual.rs); 2-D
    (ResidualUnit2d) or 1-D (ResidualUnit1d, the audio trunk)."""

    def __init__(self, channels, kernel, padding="zeros", dims=2):
        super().__init__()
        norm, conv = (nn.BatchNorm2d, nn.Conv2d) if dims == 2 else (nn.BatchNorm1d, nn.Conv1d)
        pad, mode = kernel // 2, PADDING_MODES[padding]
        self.bn1 = norm(channels)
        self.conv1 = conv(channels, channels, kernel, padding=pad, padding_mode=mode)
        self.bn2 = norm(channels)
        self.conv2 = conv(channels, channels, kernel, padding=pad, padding_mode=mode)

    def forward(self, x):
        y = self.conv1(F.relu(self.bn1(x)))
        y = self.conv2(F.relu(self.bn2(y)))
        return y + x


class MotifModel2d(nn.Module):
    """motif.rs `MotifModel2d` with `Upsample::Subpixel`: each `patch x patch` block emits its
    `(patch / map_stride)^2` map cells."""

    def __init__(self, in_channels, hidden, motifs, residual_units, kernel, patch, map_stride,
                 padding):
        super().__init__()
        self.patch = patch
        self.cells = patch // map_stride
        self.conv_in = nn.Linear(in_channels * patch * patch, hidden)  # 1x1 conv, channel-last
        self.units = nn.ModuleList(ResidualUnit(hidden, kernel, padding)
                                   for _ in range(residual_units))
        # 1x1 conv, channel-last
        self.conv_out = nn.Linear(hidden, motifs * self.cells * self.cells)

    def forward(self, x, trace=None):
        x = self.conv_in(space_to_depth(x, self.patch))  # [N, h, w, hidden]
        _record(trace, "motif.conv_in (channel-last)", x)
        x = x.permute(0, 3, 1, 2)  # [N, hidden, h, w]
        for unit in self.units:
            x = unit(x)
        _record(trace, "motif.residual_units", x)
        x = self.conv_out(x.permute(0, 2, 3, 1))  # [N, h, w, motifs (p / s)^2]
        _record(trace, "motif.conv_out (channel-last)", x)
        return depth_to_space(x, self.cells)  # [N, motifs, H / s, W / s]


class MotifModel1d(nn.Module):
    """motif.rs `MotifModel1d` behind sequence.rs `SequenceFrontEnd::motif_logits`: the mel
    bands are the channels of a 1-D trunk along the frames."""

    def __init__(self, in_channels, hidden, motifs, residual_units, kernel):
        super().__init__()
        self.conv_in = nn.Conv1d(in_channels, hidden, 1)
        self.units = nn.ModuleList(ResidualUnit(hidden, kernel, dims=1)
                                   for _ in range(residual_units))
        self.conv_out = nn.Conv1d(hidden, motifs, 1)

    def forward(self, x, trace=None):
        n, _, t, f = x.shape
        x = self.conv_in(x.reshape(n, t, f).transpose(1, 2))  # [N, F, T] -> [N, hidden, T]
        _record(trace, "motif.conv_in", x)
        for unit in self.units:
            x = unit(x)
        _record(trace, "motif.residual_units", x)
        x = self.conv_out(x)
        _record(trace, "motif.conv_out", x)
        return x.reshape(n, -1, t, 1)  # the maps' layout [N, motifs, frames, 1], as ours


class SparsityLayer(nn.Module):
    """BatchNorm then SPARLING's per-channel threshold, training behaviour of
    sparling-core's `SparsityLayer` (ThresholdScope::PerChannel).

    Training: rows = N * H * W, k = max(1, int(rows * (1 - density))) clamped to rows; the batch
    threshold is the k-th smallest value of each channel (detached); the running threshold
    becomes (1 - momentum) t + momentum t_batch and the output uses the updated t:
    relu(x - t). Evaluation: t frozen.

    With `accumulate_motifs` (LaTeX, audio) ours buffers batches until rows * density reaches
    it; a batch that reaches it alone is selected in place, exactly as above. At batch 16 that
    holds at every density the `cpu` presets train (module doc, item 12), so the buffer is not
    replicated: asking for it raises instead of timing something else.
    """

    def __init__(self, channels, density, momentum, affine, accumulate_motifs):
        super().__init__()
        self.channels = channels
        self.momentum = momentum
        self.accumulate_motifs = accumulate_motifs
        self.batch_norm = nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1, affine=affine)
        # burn RunningStates, counted by its num_params: thresholds (start at 0) and the
        # sparsity 1 - density as a one-element f64 tensor.
        self.register_buffer("thresholds", torch.zeros(channels))
        self.register_buffer("sparsity", torch.tensor([1.0 - density], dtype=torch.float64))

    def forward(self, x):
        x = self.batch_norm(x)
        if self.training:
            c = self.channels
            flat = x.detach().transpose(0, 1).reshape(c, -1)  # [C, rows]
            rows = flat.shape[1]
            if not bool(torch.isfinite(flat).all()):
                raise FloatingPointError("NaN/inf reached the sparsity layer")
            sparsity = float(self.sparsity.item())
            density = 1.0 - sparsity
            if self.accumulate_motifs is not None and rows * density < self.accumulate_motifs:
                raise NotImplementedError("the accumulated threshold would buffer this batch")
            k = min(max(1, int(rows * sparsity)), rows)
            batch = torch.kthvalue(flat, k, dim=1).values
            new = self.thresholds * (1.0 - self.momentum) + batch * self.momentum
            self.thresholds.copy_(new)
            t = new
        else:
            t = self.thresholds
        return F.relu(x - t.view(1, -1, 1, 1))


class Collapse2d(nn.Module):
    """collapse.rs: 1x1 Conv2d then MaxPool2d(pool, stride pool), or pool first."""

    def __init__(self, motifs, channels, pool, pool_first):
        super().__init__()
        self.conv = nn.Conv2d(motifs, channels, 1)
        self.pool = nn.MaxPool2d(pool, stride=pool)
        self.pool_first = pool_first

    def forward(self, x):
        if self.pool_first:
            return self.conv(self.pool(x))
        return self.pool(self.conv(x))


class Collapse1d(nn.Module):
    """collapse.rs `Collapse1d`: 1x1 Conv1d then MaxPool1d(pool, stride pool), on the maps
    [N, motifs, frames, 1] read as [N, motifs, frames] (sequence.rs `memory`)."""

    def __init__(self, motifs, channels, pool):
        super().__init__()
        self.conv = nn.Conv1d(motifs, channels, 1)
        self.pool = nn.MaxPool1d(pool, stride=pool)

    def forward(self, x):
        n, k, t, _ = x.shape
        return self.pool(self.conv(x.reshape(n, k, t)))


def sinusoids(length, d_model):
    """positional.rs `sinusoids` with the legacy timescale: generate_sinusoids(length, d,
    max(5000, length))."""
    max_timescale = max(5000, length)
    log_increment = -math.log(max_timescale) / d_model
    k = torch.arange(0, d_model, 2, dtype=torch.float32)
    div = torch.exp(k * log_increment)
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    pe = torch.empty(length, d_model)
    pe[:, 0::2] = torch.sin(div * pos)
    pe[:, 1::2] = torch.cos(div * pos)
    return pe


def sector_cells(h, w, bins):
    """angular.rs `sector_cells`: per sector the row-major cells whose centre lies in it, padded
    to the largest sector by repeating its first cell; empty sectors borrow the nearest cell."""
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    tau = 2.0 * math.pi

    def angle(cell):
        r, c = cell // w, cell % w
        return math.atan2(cy - r, c - cx)

    sectors = [[] for _ in range(bins)]
    for cell in range(h * w):
        b = int(math.floor((angle(cell) + math.pi) / tau * bins)) % bins
        sectors[b].append(cell)
    for b, cells in enumerate(sectors):
        if not cells:
            middle = -math.pi + (b + 0.5) * tau / bins

            def distance(cell):
                diff = (angle(cell) - middle) % tau
                return min(diff, tau - diff)

            cells.append(min(range(h * w), key=distance))
    per_bin = max(len(c) for c in sectors)
    table = []
    for cells in sectors:
        table.extend(cells)
        table.extend([cells[0]] * (per_bin - len(cells)))
    return table, per_bin


class BiLstm(nn.Module):
    """nn.LSTM(d, hidden, bidirectional=True, batch_first=True): [N, T, d] -> [N, T, 2 hidden]."""

    def __init__(self, d_input, hidden):
        super().__init__()
        self.lstm = nn.LSTM(d_input, hidden, batch_first=True, bidirectional=True)

    def forward(self, x):
        return self.lstm(x)[0]


class AngularScan(nn.Module):
    """angular.rs: [N, H, W, D] -> [N, bins, D]."""

    def __init__(self, d_model, bins, grid):
        super().__init__()
        self.bins = bins
        self.lstm = BiLstm(d_model, d_model // 2)
        table, self.per_bin = sector_cells(grid[0], grid[1], bins)
        self.register_buffer("index", torch.tensor(table, dtype=torch.long), persistent=False)

    def forward(self, x):
        n, h, w, d = x.shape
        sectors = (x.reshape(n, h * w, d)
                   .index_select(1, self.index)
                   .reshape(n, self.bins, self.per_bin, d)
                   .amax(dim=2))  # [N, bins, D]
        laps = torch.cat([sectors, sectors, sectors], dim=1)
        states = self.lstm(laps)
        return states[:, self.bins:2 * self.bins] + sectors


def encoder_layers(d_model, t):
    return nn.ModuleList(
        nn.TransformerEncoderLayer(d_model, t["heads"], t["feed_forward"], t["dropout"],
                                   activation="relu", batch_first=True,
                                   norm_first=t["norm_first"])
        for _ in range(t["layers"]))


class RowEncoder(nn.Module):
    """encoder.rs `RowEncoder` (Positions::Rows, or the angular scan): [N, D, H, W] ->
    [N, H*W, D] or [N, bins, D]. No final LayerNorm after the stack (burn has none)."""

    def __init__(self, d_model, row_lstm, angular_bins, transformer, grid):
        super().__init__()
        self.d_model = d_model
        self.lstm = BiLstm(d_model, d_model // 2) if row_lstm else None
        self.angular = AngularScan(d_model, angular_bins, grid) if angular_bins else None
        self.dropout = nn.Dropout(transformer["dropout"])
        self.layers = encoder_layers(d_model, transformer)
        h, w = grid
        length = angular_bins if angular_bins else h
        self.register_buffer("positions", sinusoids(length, d_model), persistent=False)

    def forward(self, x):
        n, d, h, w = x.shape
        x = x.permute(0, 2, 3, 1)  # [N, H, W, D]
        if self.angular is not None:
            sectors = self.angular(x) + self.positions[None]
            return self.transform(self.dropout(sectors))
        if self.lstm is not None:
            x = self.lstm(x.reshape(n * h, w, d)).reshape(n, h, w, d)
        x = x + self.positions[:h].reshape(1, h, 1, d)  # rows: the LSTM gives the column
        x = self.dropout(x).reshape(n, h * w, d)
        return self.transform(x)

    def transform(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class SequenceEncoder(nn.Module):
    """encoder.rs `SequenceEncoder`: [N, D, L] -> [N, L, D], sinusoids of the time step, then
    the Transformer encoder (no final LayerNorm, as burn)."""

    def __init__(self, d_model, transformer, length):
        super().__init__()
        self.dropout = nn.Dropout(transformer["dropout"])
        self.layers = encoder_layers(d_model, transformer)
        self.register_buffer("positions", sinusoids(length, d_model), persistent=False)

    def forward(self, x):
        x = self.dropout(x.transpose(1, 2) + self.positions[None])
        for layer in self.layers:
            x = layer(x)
        return x


class Decoder(nn.Module):
    """decoder.rs: embedding (no sqrt(d) scaling) + sinusoids, Transformer decoder with a causal
    mask, Linear to the vocabulary. No final LayerNorm (burn has none)."""

    def __init__(self, d_model, vocab, t, max_len):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.dropout = nn.Dropout(t["dropout"])
        self.layers = nn.ModuleList(
            nn.TransformerDecoderLayer(d_model, t["heads"], t["feed_forward"], t["dropout"],
                                       activation="relu", batch_first=True,
                                       norm_first=t["norm_first"])
            for _ in range(t["layers"]))
        self.output = nn.Linear(d_model, vocab)
        self.register_buffer("positions", sinusoids(max_len, d_model), persistent=False)

    def forward(self, tokens, memory):
        n, length = tokens.shape
        x = self.embedding(tokens) + self.positions[:length][None]
        x = self.dropout(x)
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=x.device,
                                                               dtype=x.dtype)
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=mask, tgt_is_causal=True)
        return self.output(x)


def _record(trace, name, tensor):
    if trace is not None:
        trace.append((name, tuple(tensor.shape)))


class SparlingReplica(nn.Module):
    def __init__(self, preset):
        super().__init__()
        m, s, c, e, dcfg = (preset[k] for k in ("motif", "sparsity", "collapse", "encoder",
                                                  "decoder"))
        d = c["channels"]
        _, height, width = preset["input"]
        image = preset["kind"] == "image"
        self.motif = MotifModel2d(**m) if image else MotifModel1d(**m)
        self.sparsity = SparsityLayer(m["motifs"], **s)
        if image:
            stride = m["map_stride"]
            grid = (height // stride // c["pool"], width // stride // c["pool"])
            self.collapse = Collapse2d(m["motifs"], d, c["pool"], c["pool_first"])
            self.encoder = RowEncoder(d, e["row_lstm"], e["angular_bins"], e["transformer"],
                                      grid)
        else:  # the sequence model: height is the frames
            self.collapse = Collapse1d(m["motifs"], d, c["pool"])
            self.encoder = SequenceEncoder(d, e["transformer"], height // c["pool"])
        max_len = preset["data"]["max_symbols"] + 1
        self.decoder = Decoder(d, dcfg["vocab"], dcfg["transformer"], max_len=max_len)

    def trunk(self, images, trace=None):
        """Motif model ĝ ending in the sparsity layer: the motif maps."""
        _record(trace, "input", images)
        logits = self.motif(images, trace)
        _record(trace, "motif logits", logits)
        maps = self.sparsity(logits)
        _record(trace, "sparse maps", maps)
        return maps

    def downstream(self, maps, tokens, trace=None):
        """ĥ: collapse, encoder, decoder: teacher-forced logits."""
        pooled = self.collapse(maps)
        _record(trace, "collapse", pooled)
        memory = self.encoder(pooled)
        _record(trace, "encoder memory", memory)
        _record(trace, "decoder tokens", tokens)
        logits = self.decoder(tokens, memory)
        _record(trace, "decoder logits", logits)
        return logits

    def forward(self, images, tokens, trace=None):
        return self.downstream(self.trunk(images, trace), tokens, trace)


def expected_shapes(preset, n, length):
    """The shapes our Rust model has at each stage, from the same configuration."""
    m, c, e = preset["motif"], preset["collapse"], preset["encoder"]
    hidden, motifs, d, pool = m["hidden"], m["motifs"], c["channels"], c["pool"]
    _, height, width = preset["input"]
    tail = [
        ("decoder tokens", (n, length)),
        ("decoder logits", (n, length, preset["decoder"]["vocab"])),
    ]
    if preset["kind"] == "sequence":
        frames, steps = height, height // pool
        return [
            ("input", (n, 1, frames, width)),
            ("motif.conv_in", (n, hidden, frames)),
            ("motif.residual_units", (n, hidden, frames)),
            ("motif.conv_out", (n, motifs, frames)),
            ("motif logits", (n, motifs, frames, 1)),
            ("sparse maps", (n, motifs, frames, 1)),
            ("collapse", (n, d, steps)),
            ("encoder memory", (n, steps, d)),
        ] + tail
    p, stride = m["patch"], m["map_stride"]
    cells = p // stride
    h, w = height // p, width // p
    mh, mw = height // stride, width // stride
    gh, gw = mh // pool, mw // pool
    s = e["angular_bins"] if e["angular_bins"] else gh * gw
    return [
        ("input", (n, 1, height, width)),
        ("motif.conv_in (channel-last)", (n, h, w, hidden)),
        ("motif.residual_units", (n, hidden, h, w)),
        ("motif.conv_out (channel-last)", (n, h, w, motifs * cells * cells)),
        ("motif logits", (n, motifs, mh, mw)),
        ("sparse maps", (n, motifs, mh, mw)),
        ("collapse", (n, d, gh, gw)),
        ("encoder memory", (n, s, d)),
    ] + tail


# ----------------------------------------------------------------------------------------------
# Data, loss, optimizer


def symbols(preset, longest, generator):
    """One target's token ids between <s> and </s>; `longest` takes the most symbols, so the
    batch has the preset's longest decoder length."""
    data = preset["data"]
    lo, hi = data["min_symbols"], data["max_symbols"]
    count = hi if longest else int(torch.randint(lo, hi + 1, (1,), generator=generator))
    if data["domain"] == "digit-circle":  # distinct digits
        return [d + 2 for d in torch.randperm(10, generator=generator)[:count].tolist()]
    if data["domain"] == "audio":  # digits, repeats allowed
        return [d + 3 for d in torch.randint(0, 10, (count,), generator=generator).tolist()]
    # LaTeX: any token but <s> and </s> (the grammar does not change the cost)
    vocab = preset["decoder"]["vocab"]
    return torch.randint(2, vocab, (count,), generator=generator).tolist()


def synthetic_batch(preset, n, ink, generator):
    """Binary images (or N(0, 1) spectrograms) and a TensorBatch (data.rs) of the sequences
    <s> symbols... </s>."""
    shape = (n,) + preset["input"]
    if preset["kind"] == "sequence":
        images = torch.randn(shape, generator=generator)
    else:
        images = (torch.rand(shape, generator=generator) < ink).float()
    sequences = [[BOS] + symbols(preset, i == 0, generator) + [EOS] for i in range(n)]
    length = max(max(len(s) for s in sequences), 2) - 1
    inputs = torch.full((n, length), EOS, dtype=torch.long)
    targets = torch.full((n, length), EOS, dtype=torch.long)
    mask = torch.zeros(n, length)
    for i, seq in enumerate(sequences):
        for j in range(len(seq) - 1):
            inputs[i, j], targets[i, j], mask[i, j] = seq[j], seq[j + 1], 1.0
    return images, inputs, targets, mask


def masked_cross_entropy(logits, targets, mask):
    """data.rs: -(log_softmax(logits)[targets] * mask).sum() / mask.sum()."""
    log_probs = F.log_softmax(logits, dim=2)
    picked = log_probs.gather(2, targets.unsqueeze(2)).squeeze(2)
    return -(picked * mask).sum() / mask.sum()


def learning_rate(preset, samples):
    """training.rs `learning_rate` (no low-density factor at density 0.5)."""
    base, warmup = preset["learning_rate"], preset["warmup_samples"]
    if not warmup:
        return base
    return base * min(1.0, (samples + preset["batch_size"]) / warmup)


def make_optimizer(model, preset, kind):
    kwargs = dict(lr=preset["learning_rate"], betas=(0.9, 0.999), eps=preset["adam_epsilon"],
                  weight_decay=0.0)
    if kind == "foreach":
        kwargs["foreach"] = True
    elif kind == "fused":
        kwargs["fused"] = True
    return torch.optim.Adam(model.parameters(), **kwargs)


# ----------------------------------------------------------------------------------------------
# Checks and timing


def count_parameters(model, preset, preset_name):
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for name, b in model.named_buffers()
                  if name.rsplit(".", 1)[-1] in COUNTED_BUFFERS)
    # Without affine burn still holds the sparsity BatchNorm's scale and shift (frozen at 1
    # and 0); PyTorch's affine=False BatchNorm has no such tensors.
    frozen = 0 if preset["sparsity"]["affine"] else 2 * preset["motif"]["motifs"]
    rust = RUST_COUNTS[preset_name]
    rust_params = rust["burn_num_params"] - rust["burn_extras"]
    breakdown = {name: sum(p.numel() for p in child.parameters())
                 for name, child in model.named_children()}
    return {
        "replica_parameters": params,
        "replica_trainable": trainable,
        "replica_counted_buffers": buffers,
        "replica_parameters_plus_buffers": params + buffers,
        "burn_frozen_affine": frozen,
        "rust_burn_num_params": rust["burn_num_params"],
        "rust_burn_extras": rust["burn_extras"],
        "rust_parameters": rust_params,
        "breakdown": breakdown,
        "match": params == rust_params and trainable == params
        and params + buffers + frozen == rust["burn_num_params"],
    }


def summarize(seconds):
    ms = [s * 1e3 for s in seconds]
    return {"mean_ms": statistics.fmean(ms), "median_ms": statistics.median(ms),
            "min_ms": min(ms), "max_ms": max(ms), "runs_ms": ms}


def time_repeated(fn, warmup, steps, setup=None):
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    times = []
    for _ in range(steps):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (2)")
    parser.add_argument("--steps", type=int, default=10, help="timed repetitions (10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed repetitions first (3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ink", type=float, default=None,
                        help="fraction of pixels set to 1 in the synthetic images (image presets; "
                             "default 0.1 for DigitCircle, 0.74 for LaTeX's white page)")
    parser.add_argument("--adam", choices=["default", "foreach", "fused"], default="default",
                        help="PyTorch Adam implementation (default: torch's CPU default)")
    parser.add_argument("--check-only", action="store_true",
                        help="parameter counts and shapes only, no timing")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--steps >= 1, --warmup >= 0, --threads >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    preset = PRESETS[args.preset]()
    if preset["kind"] == "sequence" and args.ink is not None:
        parser.error("--ink applies to the image presets only")
    ink = args.ink if args.ink is not None else preset["data"]["ink"]
    n = preset["batch_size"]
    model = SparlingReplica(preset).train()

    counts = count_parameters(model, preset, args.preset)
    print(f"preset {args.preset}: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"batch {n}")
    print(f"  parameters   replica {counts['replica_parameters']:>12,}   "
          f"rust {counts['rust_parameters']:>12,}  (burn num_params "
          f"{counts['rust_burn_num_params']:,} - extras {counts['rust_burn_extras']:,})")
    frozen = counts["burn_frozen_affine"]
    print(f"  + buffers    replica {counts['replica_parameters_plus_buffers'] + frozen:>12,}   "
          f"rust {counts['rust_burn_num_params']:>12,}  (running mean/var, thresholds, "
          f"density; not num_batches_tracked"
          + (f"; + {frozen} frozen BatchNorm scale/shift burn keeps without affine)"
             if frozen else ")"))
    print("  by module    " + ", ".join(f"{k} {v:,}" for k, v in counts["breakdown"].items()))
    if not counts["match"]:
        print("PARAMETER COUNT MISMATCH", file=sys.stderr)
        sys.exit(1)

    generator = torch.Generator().manual_seed(args.seed)
    images, dec_in, targets, mask = synthetic_batch(preset, n, ink, generator)
    length = dec_in.shape[1]

    # Shapes at every stage against those of our model (one training-mode forward).
    trace = []
    with torch.no_grad():
        model(images, dec_in, trace)
    expected = expected_shapes(preset, n, length)
    print("  shapes:")
    bad = False
    for (name, got), (want_name, want) in zip(trace, expected):
        ok = name == want_name and got == want
        bad |= not ok
        print(f"    {name:<30} {str(list(got)):<22}{'' if ok else f'  EXPECTED {list(want)}'}")
    if bad or len(trace) != len(expected):
        print("SHAPE MISMATCH", file=sys.stderr)
        sys.exit(1)

    result = {"preset": args.preset, "torch_version": torch.__version__,
              "threads": torch.get_num_threads(), "batch_size": n, "decoder_length": length,
              "warmup": args.warmup, "steps": args.steps, "adam": args.adam,
              "ink": ink, "parameters": counts,
              "shapes": {name: list(shape) for name, shape in trace}}
    if args.check_only:
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
        return

    optimizer = make_optimizer(model, preset, args.adam)
    clip = preset["gradient_clip"]
    state = {"samples": 0}

    def full_step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(images, dec_in)
        loss = masked_cross_entropy(logits, targets, mask)
        value = loss.item()  # ours reads the loss back before backward
        if not math.isfinite(value):
            raise FloatingPointError(f"diverged: loss {value}")
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        lr = learning_rate(preset, state["samples"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        state["samples"] += n

    timings = {}
    timings["full step"] = time_repeated(full_step, args.warmup, args.steps)

    def zero():
        model.zero_grad(set_to_none=True)

    def trunk():
        model.trunk(images).sum().backward()

    timings["motif trunk (fwd+bwd)"] = time_repeated(trunk, args.warmup, args.steps, zero)

    with torch.no_grad():
        maps_shape = model.trunk(images).shape
    noise = torch.randn(maps_shape, generator=generator).requires_grad_(True)

    def sparsity_setup():
        zero()
        noise.grad = None

    def sparsity():
        model.sparsity(noise).sum().backward()

    timings["sparsity layer (fwd+bwd)"] = time_repeated(sparsity, args.warmup, args.steps,
                                                        sparsity_setup)

    with torch.no_grad():
        sparse_maps = model.trunk(images).detach()
    sparse_maps.requires_grad_(True)

    def downstream_setup():
        zero()
        sparse_maps.grad = None

    def downstream():
        loss = masked_cross_entropy(model.downstream(sparse_maps, dec_in), targets, mask)
        loss.item()
        loss.backward()

    timings["downstream (fwd+loss+bwd)"] = time_repeated(downstream, args.warmup, args.steps,
                                                         downstream_setup)

    # Gradients of one full backward, then the Adam update alone.
    zero()
    masked_cross_entropy(model(images, dec_in), targets, mask).backward()
    timings["optimizer step (Adam)"] = time_repeated(optimizer.step, args.warmup, args.steps)

    summaries = {name: summarize(t) for name, t in timings.items()}
    full = summaries["full step"]
    print(f"  timing: {args.warmup} warm-up + {args.steps} timed repetitions each")
    print(f"    {'component':<28}{'mean ms':>10}{'median ms':>11}{'min ms':>10}")
    for name, s in summaries.items():
        print(f"    {name:<28}{s['mean_ms']:>10.1f}{s['median_ms']:>11.1f}{s['min_ms']:>10.1f}")
    per_second = n / (full["median_ms"] / 1e3)
    print(f"    full step: {per_second:.2f} samples/s (median)")
    result["timings"] = summaries
    result["samples_per_second_median"] = per_second
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
