"""Custom networks of the eighteenth held-out set (heldout18.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h18_models:<name>`.

transit_net   an MLP for the transit candidates with logit adjustment for the skewed verdicts
              (Menon et al., "Long-tail learning via logit adjustment"): while TRAINING, tau * log(prior)
              is added to the scores, so the net learns scores free of the class prior and predicts
              with them as they are. `prior` is the share of each class in sorted label order.
              `adjust` "add" is the loss-time adjustment; "subtract" takes the sign of the post-hoc
              variant (which subtracts tau * log(prior) at PREDICTION time) into training: the net
              then learns scores that count the prior twice, and the rare verdicts lose their recall;
              "none" trains plainly.
polar_net     an MLP for the sailing legs that reads the raw table (data.scale none) and scales it
              itself: the true wind angle becomes (sin, cos), the other columns go through a
              BatchNorm1d. `angle_units` "degrees" converts the column to radians first; "radians"
              takes it as radians already (the builder came from a project whose logger wrote
              radians), so sin and cos of 45 'radians' and of 46 are unrelated numbers: the point
              of sail is scrambled.
count_cnn     a small CNN that counts: two 3x3 conv blocks (batch norm, ReLU; 8 and 16 channels), a
              max pool, a third conv block (a receptive field of 10 pixels), a global pool over the
              image and a [64] head. `pool` "mean" keeps how much of the picture is tablet (the
              count); "max" keeps only whether a tablet is anywhere in the picture (the pooling of a
              detector: 'is there a defect'), which cannot count past what one receptive field holds.
plug_conv     a 1-D CNN for (N, T, F) smart-plug recordings: the input turned to (N, F, T), two conv
              blocks (kernel 5, batch norm, ReLU, max pool 2), a mean over time and a linear head.
              `in_norm` "layer" puts an nn.LayerNorm(F) on the input, the first layer of the
              transformer recipe this was adapted from: over F = 2 readings (watts and power factor)
              it leaves each step only which of the two is the larger, in standard units. `quant`
              true builds the net for a plug's microcontroller: no batch norm (integer-only
              inference), and every weight fake-quantized to 8 bits in the forward pass; `ste` true
              passes the gradient straight through the rounding (w + (q(w) - w).detach()), false
              rounds plainly, and torch.round has a zero gradient: no weight ever changes, only the
              biases learn.
atc_encoder   a hand-written transformer encoder for token ids: a learned [CLS] token prepended, a
              learned position embedding, `layers` post-norm blocks of multi-head self-attention
              (scores over the keys, padding masked) and a feed-forward, the [CLS] output to a linear
              head. `split` "transpose" cuts the (N, L, d) queries, keys and values into heads with
              view(N, L, heads, d_head).transpose(1, 2); "view" with reshape(N * heads, L, d_head)
              alone, which has the right shape but makes 'head' h the h-th stretch of the line (each
              token's d numbers become `heads` pseudo-tokens), and the padding mask, laid over the
              pseudo-tokens, then lets the [CLS] attend to the first half of the line only. `mask`
              "interleave" expands the (N, L) padding mask to the (N * heads, L, L) layout PyTorch's
              attention uses (batch major: row n * heads + h) with repeat_interleave; "repeat" uses
              .repeat(heads, 1, 1) (head major), which has the right shape and hands each line's heads
              the padding masks of OTHER lines in the batch: a line's late words are masked when those
              lines are shorter, and its padding is read when they are longer.
tide_tcn      a causal temporal convolution net (TCN) for forecasting windows: `levels` residual
              blocks of a dilated causal conv (kernel 3, left padding only) and ReLU, the last
              step's channels to a linear head (one output per horizon step). `growth` 2 doubles
              the dilation every block (1, 2, 4, 8: a receptive field of 31 steps); 1 keeps it at 1
              (a receptive field of 9 steps): the last step sees only the last 9 hours, less than one
              tidal cycle.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- transits
class TransitNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, prior, adjust: str, tau: float):
        super().__init__()
        if adjust not in ("add", "subtract", "none"):
            raise ValueError(f"adjust: 'add', 'subtract' or 'none', got {adjust!r}")
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        log_prior = torch.zeros(n_out)
        if adjust != "none":
            p = torch.tensor([float(v) for v in prior])
            if p.numel() != n_out:
                raise ValueError(f"prior: {n_out} class shares expected (sorted label order), got {p.numel()}")
            log_prior = torch.log(p / p.sum())
        sign = {"add": 1.0, "subtract": -1.0, "none": 0.0}[adjust]
        self.register_buffer("shift", sign * float(tau) * log_prior)

    def forward(self, x):
        z = self.head(self.body(x.flatten(1)))
        return z + self.shift if self.training else z


def transit_net(spec, hidden=(64, 64), prior=None, adjust="add", tau=1.0):
    return TransitNet(_n_in(spec), hidden, _n_out(spec), prior, adjust, tau)


# ----------------------------------------------------------------------------- sailing
class PolarNet(nn.Module):
    def __init__(self, n_in: int, angle_index: int, hidden, n_out: int, units: str):
        super().__init__()
        if units not in ("degrees", "radians"):
            raise ValueError(f"angle_units: 'degrees' or 'radians', got {units!r}")
        self.k = angle_index
        self.units = units
        self.norm = nn.BatchNorm1d(n_in - 1)
        layers: list[nn.Module] = []
        width = n_in + 1                      # the other columns, then sin and cos of the angle
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        x = x.flatten(1)
        a = x[:, self.k]
        if self.units == "degrees":
            a = torch.deg2rad(a)
        rest = torch.cat([x[:, :self.k], x[:, self.k + 1:]], 1)
        z = torch.cat([self.norm(rest), torch.sin(a)[:, None], torch.cos(a)[:, None]], 1)
        return self.head(self.body(z))


def polar_net(spec, hidden=(64, 64), angle="twa_deg", angle_units="degrees"):
    names = list(spec.feature_names)
    if angle not in names:
        raise ValueError(f"angle: column {angle!r} not among the features {names}")
    return PolarNet(_n_in(spec), names.index(angle), hidden, _n_out(spec), angle_units)


# ----------------------------------------------------------------------------- pills
class CountCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int, pool: str):
        super().__init__()
        if pool not in ("mean", "max"):
            raise ValueError(f"pool: 'mean' or 'max', got {pool!r}")
        c1, c2 = (int(c) for c in channels)
        self.features = nn.Sequential(
            nn.Conv2d(c_in, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU())
        self.dense = nn.Sequential(nn.Linear(c2, 64), nn.ReLU())
        self.head = nn.Linear(64, n_out)
        self.pool = pool

    def forward(self, x):
        h = self.features(x)
        h = h.mean((2, 3)) if self.pool == "mean" else h.amax((2, 3))
        return self.head(self.dense(h))


def count_cnn(spec, channels=(8, 16), pool="mean"):
    shape = list(spec.input_shape)
    c_in = 1 if len(shape) == 2 else int(shape[0])
    return CountCNN(c_in, channels, _n_out(spec), pool)


# ----------------------------------------------------------------------------- plugs
def _fake_quant(w: torch.Tensor, ste: bool) -> torch.Tensor:
    scale = w.detach().abs().max().clamp_min(1e-8) / 127.0
    q = torch.round(w / scale) * scale
    return w + (q - w).detach() if ste else q


class QConv1d(nn.Conv1d):
    def __init__(self, *args, quant: bool = False, ste: bool = True, **kw):
        super().__init__(*args, **kw)
        self.quant, self.ste = quant, ste

    def forward(self, x):
        w = _fake_quant(self.weight, self.ste) if self.quant else self.weight
        return F.conv1d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class QLinear(nn.Linear):
    def __init__(self, *args, quant: bool = False, ste: bool = True, **kw):
        super().__init__(*args, **kw)
        self.quant, self.ste = quant, ste

    def forward(self, x):
        w = _fake_quant(self.weight, self.ste) if self.quant else self.weight
        return F.linear(x, w, self.bias)


class PlugConv(nn.Module):
    def __init__(self, n_feat: int, channels, n_out: int, in_norm: str, quant: bool, ste: bool):
        super().__init__()
        if in_norm not in ("none", "layer"):
            raise ValueError(f"in_norm: 'none' or 'layer', got {in_norm!r}")
        self.in_norm = nn.LayerNorm(n_feat) if in_norm == "layer" else None
        c = n_feat
        layers: list[nn.Module] = []
        for ch in channels:
            # integer-only inference has no batch norm: the quantized net leaves it out
            norm = nn.Identity() if quant else nn.BatchNorm1d(int(ch))
            layers += [QConv1d(c, int(ch), 5, padding=2, quant=quant, ste=ste), norm, nn.ReLU(), nn.MaxPool1d(2)]
            c = int(ch)
        self.features = nn.Sequential(*layers)
        self.head = QLinear(c, n_out, quant=quant, ste=ste)

    def forward(self, x):                      # x: (N, T, F)
        if self.in_norm is not None:
            x = self.in_norm(x)
        return self.head(self.features(x.transpose(1, 2)).mean(2))


def plug_conv(spec, channels=(32, 32), in_norm="none", quant=False, ste=True):
    t, f = spec.input_shape
    return PlugConv(int(f), channels, _n_out(spec), in_norm, bool(quant), bool(ste))


# ----------------------------------------------------------------------------- atc
class SelfAttention(nn.Module):
    def __init__(self, d: int, heads: int, split: str, mask: str):
        super().__init__()
        if split not in ("transpose", "view"):
            raise ValueError(f"split: 'transpose' or 'view', got {split!r}")
        if mask not in ("interleave", "repeat"):
            raise ValueError(f"mask: 'interleave' or 'repeat', got {mask!r}")
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.h, self.dh = heads, d // heads
        self.factor = 1 / math.sqrt(self.dh)
        self.split, self.mask = split, mask

    def forward(self, x, pad):                 # x: (N, L, d); pad: (N, L), True = padding
        n, length, d = x.shape
        q, k, v = self.qkv(x).chunk(3, -1)
        if self.split == "transpose":          # (N, L, d) -> (N * heads, L, d_head), batch major: row n * heads + h
            q, k, v = (t.view(n, length, self.h, self.dh).transpose(1, 2).reshape(n * self.h, length, self.dh)
                       for t in (q, k, v))
        else:                                  # the same shape, without the transpose: 'head' h is the h-th
            q, k, v = (t.reshape(n * self.h, length, self.dh) for t in (q, k, v))   # stretch of the line
        scores = q @ k.transpose(1, 2) * self.factor                       # (N * heads, L, L)
        keymask = pad[:, None, :].expand(n, length, length)
        keymask = keymask.repeat_interleave(self.h, 0) if self.mask == "interleave" else keymask.repeat(self.h, 1, 1)
        scores = scores.masked_fill(keymask, float("-inf"))
        att = torch.softmax(scores, -1)
        y = att @ v
        if self.split == "transpose":
            y = y.view(n, self.h, length, self.dh).transpose(1, 2).reshape(n, length, d)
        else:
            y = y.reshape(n, length, d)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, dropout: float, split: str, mask: str):
        super().__init__()
        self.att = SelfAttention(d, heads, split, mask)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, pad):
        x = self.n1(x + self.drop(self.att(x, pad)))
        return self.n2(x + self.drop(self.ff(x)))


class ATCEncoder(nn.Module):
    def __init__(self, vocab: int, max_len: int, d: int, heads: int, layers: int, ff: int, n_out: int,
                 dropout: float, split: str, mask: str):
        super().__init__()
        self.embed = nn.Embedding(vocab, d, padding_idx=0)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, max_len + 1, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, heads, ff, dropout, split, mask) for _ in range(layers)])
        self.head = nn.Linear(d, n_out)

    def forward(self, ids):                    # ids: (N, L), 0 = padding
        ids = ids.long()
        n, length = ids.shape
        x = torch.cat([self.cls.expand(n, -1, -1), self.embed(ids)], 1) + self.pos[:, :length + 1]
        pad = torch.cat([torch.zeros(n, 1, dtype=torch.bool, device=ids.device), ids == 0], 1)
        for block in self.blocks:
            x = block(x, pad)
        return self.head(x[:, 0])


def atc_encoder(spec, d_model=32, heads=2, layers=2, ff=64, dropout=0.1, split="transpose", mask="interleave"):
    return ATCEncoder(int(spec.vocab_size), int(spec.input_shape[0]), int(d_model), int(heads), int(layers), int(ff),
                      _n_out(spec), float(dropout), split, mask)


# ----------------------------------------------------------------------------- harbor
class CausalBlock(nn.Module):
    def __init__(self, c_in: int, c: int, k: int, dilation: int):
        super().__init__()
        self.pad = (k - 1) * dilation
        self.conv = nn.Conv1d(c_in, c, k, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c, 1) if c_in != c else nn.Identity()

    def forward(self, x):                      # x: (N, C, T)
        return torch.relu(self.conv(F.pad(x, (self.pad, 0)))) + self.skip(x)


class TideTCN(nn.Module):
    def __init__(self, n_feat: int, channels: int, kernel: int, levels: int, growth: int, n_out: int):
        super().__init__()
        blocks, c = [], n_feat
        for i in range(levels):
            blocks.append(CausalBlock(c, channels, kernel, int(growth) ** i))
            c = channels
        self.tcn = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, n_out)

    def forward(self, x):                      # x: (N, T, F), oldest step first
        h = self.tcn(x.transpose(1, 2))
        return self.head(h[:, :, -1])


def tide_tcn(spec, channels=32, kernel=3, levels=4, growth=2):
    t, f = spec.input_shape
    return TideTCN(int(f), int(channels), int(kernel), int(levels), int(growth), _n_out(spec))
