#!/usr/bin/env python3
"""PyTorch replica of the DigitCircle `paper` and `cpu` presets, for timing a training step
side by side with the Rust/burn implementation of this workspace.

What is replicated (crates/sparling-models/src/presets/digit_circle.rs and presets/mod.rs,
model/{mod,image}.rs, modules/*.rs; crates/sparling-core/src/{sparsity,batch_norm,threshold}.rs
and bottleneck/method.rs; `Trainer::step` in crates/sparling-models/src/training.rs):

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

Parameter counts. Our Rust counts come from
crates/sparling-models/tests/parameter_counts.rs (run
`cargo test -p sparling-models --test parameter_counts -- --nocapture`), hard-coded below in
RUST_COUNTS. burn's `num_params` counts every float tensor of the module record, also what
PyTorch calls buffers: the BatchNorm running mean and variance (of the motif model's residual
units and of the sparsity BatchNorm), the sparsity layer's running thresholds and its density
scalar. So `burn num_params = PyTorch parameters + those buffers`. This script checks both:
its `parameters()` against `burn num_params - burn extras`, and `parameters()` plus the same
buffers (running_mean, running_var, thresholds, sparsity; NOT BatchNorm's integer
`num_batches_tracked`, which burn does not have) against `burn num_params`. It exits 1 if
either differs.

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
     other layers (Linear, Conv2d, Embedding N(0,1), LSTM U(+-1/sqrt(h)), BatchNorm, LayerNorm)
     use the same distributions. Weights differ anyway (different RNGs); irrelevant for timing.
  2. Attention: PyTorch packs q/k/v into one in-projection matmul for self-attention and uses
     scaled_dot_product_attention; burn runs separate q, k, v Linears. Same function and count.
  3. LSTM: PyTorch's native nn.LSTM(bidirectional=True, batch_first=True) kernel; ours is a
     hand-batched loop (crates/sparling-models/src/modules/lstm.rs: one input projection for
     every step and both directions, one [2, N, H] x [2, H, 4H] matmul per step). Same
     function, gate order and parameters (w_ih, w_hh, b_ih, b_hh per direction).
  4. Sinusoidal tables are computed once (non-persistent buffers); ours are rebuilt on the host
     and uploaded in every forward (a few thousand floats). The replica computes the `cpu`
     preset's values (timescale 5000, positional.rs LEGACY_TIMESCALE) for both presets; the
     `paper` preset uses the reference's 10000. The values do not change the timing.
  5. The sparsity layer's k-th value: torch.kthvalue on the detached [C, rows] view (plus an
     isfinite check, as ours rejects NaN/inf); ours copies it to the host and runs
     select_nth_unstable per channel on rayon (crates/sparling-core/src/threshold.rs). Same
     k = max(1, int(rows * (1 - density))) and the same momentum update in f32.
  6. Data: a fixed synthetic batch (Bernoulli(--ink) binary images, random digit sequences of
     3 to 6 distinct digits, the first sample forced to 6 digits so L = 7), not real
     DigitCircle images; ours are built from the host batch in every step (TensorBatch::new),
     here the tensors are built once. The threshold selection's cost may depend slightly on the
     value distribution; nothing else does.
  7. Adam: PyTorch's default CPU implementation (`--adam default`, the single-tensor for-loop)
     or, with `--adam foreach|fused`, its multi-tensor or fused kernels; ours is burn's Adam.
     Both update every parameter, including the BatchNorm and LayerNorm scales and shifts.
  8. Memory layout: the motif model permutes channel-last Linear outputs to NCHW views as ours
     does; PyTorch then runs the 3x3 convolutions in channels_last (oneDNN) on its own choice.
  9. Learning rate: the `cpu` warm-up (4,000 samples) is mirrored; it does not change the cost.
     Our per-step RNG reseeding, loss bookkeeping and the Diverged check are reduced to
     loss.item() and an isfinite test.
 10. Dropout 0.1 (`paper`) in the attention weights, residual branches, feed-forward and after
     the positional encodings, as burn; PyTorch's dropout(p=0) (`cpu`) is a no-op, as burn's.

Usage (on an otherwise idle machine; also give the Rust side the same thread count, e.g.
RAYON_NUM_THREADS=2):
    python3 scripts/torch_replica.py --preset cpu   --threads 2 --warmup 3 --steps 20 --json cpu.json
    python3 scripts/torch_replica.py --preset paper --threads 2 --warmup 2 --steps 5  --json paper.json
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
# (burn `num_params`, burn extras = BatchNorm running mean/var + thresholds + density scalar).
RUST_COUNTS = {
    "paper": {"burn_num_params": 46_031_689, "burn_extras": 1_055},
    "cpu": {"burn_num_params": 346_719, "burn_extras": 287},
}

# The buffers burn counts as parameters (module doc above).
COUNTED_BUFFERS = ("running_mean", "running_var", "thresholds", "sparsity")

BOS, EOS = 0, 1  # DigitCircle vocabulary: <s>, </s>, then digit d has id d + 2
IMAGE = (1, 100, 100)
MIN_DIGITS, MAX_DIGITS = 3, 6


def paper_preset():
    """`digit_circle_paper` (pae-7bb1)."""
    return {
        "batch_size": 10,
        "learning_rate": 1e-5,
        "warmup_samples": None,
        "adam_epsilon": 1e-8,
        "gradient_clip": None,
        "motif": dict(in_channels=1, hidden=64, motifs=10, residual_units=4, kernel=3,
                      patch=1),
        "sparsity": dict(density=0.5, momentum=0.1, affine=True),
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
    cpu_transformer = dict(layers=2, heads=4, feed_forward=256, dropout=0.0, norm_first=True)
    # positions = polar, but with the angular scan the grid positions are not added (ours:
    # RowEncoder::forward returns from the angular branch first).
    p["encoder"] = dict(row_lstm=False, angular_bins=36, transformer=dict(cpu_transformer))
    p["decoder"]["transformer"] = dict(cpu_transformer)
    return p


PRESETS = {"paper": paper_preset, "cpu": cpu_preset}


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


class ResidualUnit2d(nn.Module):
    """y = conv2(relu(bn2(conv1(relu(bn1(x)))))) + x, zero 'same' padding (residual.rs)."""

    def __init__(self, channels, kernel):
        super().__init__()
        pad = kernel // 2
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, kernel, padding=pad)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel, padding=pad)

    def forward(self, x):
        y = self.conv1(F.relu(self.bn1(x)))
        y = self.conv2(F.relu(self.bn2(y)))
        return y + x


class MotifModel2d(nn.Module):
    """motif.rs `MotifModel2d` with `Upsample::Subpixel` and `Padding::Zeros`."""

    def __init__(self, in_channels, hidden, motifs, residual_units, kernel, patch):
        super().__init__()
        p2 = patch * patch
        self.patch = patch
        self.conv_in = nn.Linear(in_channels * p2, hidden)  # 1x1 conv, channel-last
        self.units = nn.ModuleList(ResidualUnit2d(hidden, kernel) for _ in range(residual_units))
        self.conv_out = nn.Linear(hidden, motifs * p2)  # 1x1 conv, channel-last

    def forward(self, x, trace=None):
        x = self.conv_in(space_to_depth(x, self.patch))  # [N, h, w, hidden]
        _record(trace, "motif.conv_in (channel-last)", x)
        x = x.permute(0, 3, 1, 2)  # [N, hidden, h, w]
        for unit in self.units:
            x = unit(x)
        _record(trace, "motif.residual_units", x)
        x = self.conv_out(x.permute(0, 2, 3, 1))  # [N, h, w, motifs p^2]
        _record(trace, "motif.conv_out (channel-last)", x)
        return depth_to_space(x, self.patch)  # [N, motifs, H, W]


class SparsityLayer(nn.Module):
    """BatchNorm then SPARLING's per-channel threshold, training behaviour of
    sparling-core's `SparsityLayer` (ThresholdScope::PerChannel, no accumulation).

    Training: rows = N * H * W, k = max(1, int(rows * (1 - density))) clamped to rows; the batch
    threshold is the k-th smallest value of each channel (detached); the running threshold
    becomes (1 - momentum) t + momentum t_batch and the output uses the updated t:
    relu(x - t). Evaluation: t frozen.
    """

    def __init__(self, channels, density, momentum, affine):
        super().__init__()
        self.channels = channels
        self.momentum = momentum
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
        grid = (IMAGE[1] // c["pool"], IMAGE[2] // c["pool"])
        self.motif = MotifModel2d(**m)
        self.sparsity = SparsityLayer(m["motifs"], **s)
        self.collapse = Collapse2d(m["motifs"], d, c["pool"], c["pool_first"])
        self.encoder = RowEncoder(d, e["row_lstm"], e["angular_bins"], e["transformer"], grid)
        self.decoder = Decoder(d, dcfg["vocab"], dcfg["transformer"], max_len=MAX_DIGITS + 1)

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
    p, hidden, motifs = m["patch"], m["hidden"], m["motifs"]
    _, height, width = IMAGE
    h, w = height // p, width // p
    d = c["channels"]
    gh, gw = height // c["pool"], width // c["pool"]
    s = e["angular_bins"] if e["angular_bins"] else gh * gw
    return [
        ("input", (n, 1, height, width)),
        ("motif.conv_in (channel-last)", (n, h, w, hidden)),
        ("motif.residual_units", (n, hidden, h, w)),
        ("motif.conv_out (channel-last)", (n, h, w, motifs * p * p)),
        ("motif logits", (n, motifs, height, width)),
        ("sparse maps", (n, motifs, height, width)),
        ("collapse", (n, d, gh, gw)),
        ("encoder memory", (n, s, d)),
        ("decoder tokens", (n, length)),
        ("decoder logits", (n, length, preset["decoder"]["vocab"])),
    ]


# ----------------------------------------------------------------------------------------------
# Data, loss, optimizer


def synthetic_batch(n, ink, generator):
    """Binary images and a TensorBatch (data.rs) of digit sequences <s> d... </s>."""
    images = (torch.rand((n,) + IMAGE, generator=generator) < ink).float()
    sequences = []
    for i in range(n):
        count = MAX_DIGITS if i == 0 else int(
            torch.randint(MIN_DIGITS, MAX_DIGITS + 1, (1,), generator=generator))
        digits = torch.randperm(10, generator=generator)[:count].tolist()
        sequences.append([BOS] + [d + 2 for d in digits] + [EOS])
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


def count_parameters(model, preset_name):
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for name, b in model.named_buffers()
                  if name.rsplit(".", 1)[-1] in COUNTED_BUFFERS)
    rust = RUST_COUNTS[preset_name]
    rust_params = rust["burn_num_params"] - rust["burn_extras"]
    breakdown = {name: sum(p.numel() for p in child.parameters())
                 for name, child in model.named_children()}
    return {
        "replica_parameters": params,
        "replica_trainable": trainable,
        "replica_counted_buffers": buffers,
        "replica_parameters_plus_buffers": params + buffers,
        "rust_burn_num_params": rust["burn_num_params"],
        "rust_burn_extras": rust["burn_extras"],
        "rust_parameters": rust_params,
        "breakdown": breakdown,
        "match": params == rust_params and trainable == params
        and params + buffers == rust["burn_num_params"],
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
    parser.add_argument("--ink", type=float, default=0.1,
                        help="fraction of lit pixels in the synthetic images (0.1)")
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
    n = preset["batch_size"]
    model = SparlingReplica(preset).train()

    counts = count_parameters(model, args.preset)
    print(f"preset {args.preset}: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"batch {n}")
    print(f"  parameters   replica {counts['replica_parameters']:>12,}   "
          f"rust {counts['rust_parameters']:>12,}  (burn num_params "
          f"{counts['rust_burn_num_params']:,} - extras {counts['rust_burn_extras']:,})")
    print(f"  + buffers    replica {counts['replica_parameters_plus_buffers']:>12,}   "
          f"rust {counts['rust_burn_num_params']:>12,}  (running mean/var, thresholds, "
          f"density; not num_batches_tracked)")
    print("  by module    " + ", ".join(f"{k} {v:,}" for k, v in counts["breakdown"].items()))
    if not counts["match"]:
        print("PARAMETER COUNT MISMATCH", file=sys.stderr)
        sys.exit(1)

    generator = torch.Generator().manual_seed(args.seed)
    images, dec_in, targets, mask = synthetic_batch(n, args.ink, generator)
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
              "ink": args.ink, "parameters": counts,
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
