"""Custom networks of the nineteenth held-out set (heldout19.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h19_models:<name>`.

roast_net     an ordinal (cumulative-link) classifier for the roast degree: an MLP scores each batch
              on one axis, f(x), and K - 1 ordered cut points c_1 < ... < c_K-1 cut that axis into
              the degrees: P(degree <= k) = sigmoid(c_k - f(x)); the class probabilities are the
              differences, and their logs are the scores (cross-entropy then takes them as they
              are). `order` names the classes from the lightest to the darkest; the builder maps
              that rank order to trainwell's class indices (sorted label order). Left out (null),
              the rank order IS the sorted label order: cinnamon, city, french, full_city, vienna,
              which puts french, the darkest, in the middle of the axis. `gaps` "softplus" keeps the
              cut points ordered (c_k+1 = c_k + softplus(g_k), the g_k starting at 0, so the cuts
              start 0.69 apart); "raw" adds the g_k as they are: they start at 0, so all four cuts
              coincide, the three middle degrees start with probability 0, where the clamp of the
              log (at 1e-7) passes no gradient: only the two end degrees pull on the cuts, which
              end up out of order, and the middle degrees open only in part.
print_net     a residual MLP with ReZero gates (Bachlechner et al.): an input layer to `width`,
              `blocks` residual blocks h = h + alpha_b * F_b(h), each alpha_b starting at 0 so the
              net starts as a linear model and opens each block as it learns, then a linear head.
              `gate` "parameter" makes each alpha an nn.Parameter; "tensor" keeps it as a plain
              tensor attribute (torch.zeros(1), as in a notebook draft), which the optimizer never
              sees: every alpha stays 0 and the blocks never contribute: the net is a linear map.
gauge_cnn     a CNN for the gauge photos: three 3x3 conv blocks (16, 32, 32 channels, batch norm,
              ReLU; max pools after the first two), a global mean and a linear head. `symmetry`
              "rot4" averages the features over the four 90-degree rotations of the image (a
              rotation-invariant model, as the microscopy project it came from wanted: a cell has
              no 'up'); "none" reads the image as it is. A gauge's reading IS the needle's angle.
song_spec     a spectral net for (N, T, F) recordings: the magnitude of a real FFT over `fft_dim`
              (1: the time axis), log1p, then an MLP [64, 64]. A trill is a peak at its rate in the
              pitch's spectrum, wherever the song starts. fft_dim -1 takes the FFT over the last
              axis, the F = 2 features of each frame (|pitch + level| and |pitch - level|), and the
              MLP gets the time signal instead, with the song's start and phase random.
chess_encoder a small hand-written transformer encoder for token ids: token and learned position
              embeddings, `layers` post-norm blocks of multi-head self-attention (padding masked)
              and a feed-forward, a masked mean over the tokens, a linear head. `positions` "index"
              looks the position embedding up by each token's place in the line (0, 1, 2, ...);
              "ids" looks it up by the token ids (self.pos(ids) where self.pos(arange(L)) was meant,
              a copy of the line above it): a second embedding of the same tokens, so the encoder
              gets no order at all and sees each line as a bag of moves.
green_tcn     a temporal convolution net for forecasting windows: `levels` residual blocks of a dilated
              conv (kernel 3, dilations 1, 2, 4, 8) and ReLU, the last step's channels to a linear
              head. `pad` "left" pads each conv on the left only (causal: step t sees t and earlier,
              the last step sees the last 31 hours); "right" pads on the right (the convention of a
              sequence-to-sequence model that reads ahead), so the last step sees itself and
              zeros: the forecast is made from the last hour alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- roasts
class RoastNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_classes: int, rank_of_class, gaps: str = "softplus"):
        super().__init__()
        if gaps not in ("softplus", "raw"):
            raise ValueError(f"gaps: 'softplus' or 'raw', got {gaps!r}")
        self.gap_kind = gaps
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.score = nn.Linear(width, 1)
        self.first = nn.Parameter(torch.tensor(-1.5))
        self.gaps = nn.Parameter(torch.zeros(n_classes - 2))          # softplus(0) = 0.69 between cuts
        self.register_buffer("rank", torch.as_tensor(rank_of_class, dtype=torch.long))

    def forward(self, x):
        f = self.score(self.body(x.flatten(1)))                          # (N, 1)
        step = F.softplus(self.gaps) + 1e-3 if self.gap_kind == "softplus" else self.gaps
        cuts = torch.cat([self.first[None], self.first + torch.cumsum(step, 0)])
        cdf = torch.sigmoid(cuts[None, :] - f)                           # (N, K - 1): P(rank <= k)
        ones = torch.ones_like(f)
        zeros = torch.zeros_like(f)
        p_rank = torch.cat([cdf, ones], 1) - torch.cat([zeros, cdf], 1)   # (N, K) by rank
        log_p = torch.log(p_rank.clamp_min(1e-7))
        return log_p[:, self.rank]                                       # by class index


def roast_net(spec, hidden=(64, 64), order=None, gaps="softplus"):
    classes = [str(c) for c in spec.classes]
    if order is None:
        rank = list(range(len(classes)))                                 # the sorted label order
    else:
        order = [str(c) for c in order]
        if sorted(order) != sorted(classes):
            raise ValueError(f"order: the classes {classes} in rank order, got {order}")
        rank = [order.index(c) for c in classes]
    return RoastNet(_n_in(spec), hidden, len(classes), rank, gaps)


# ----------------------------------------------------------------------------- prints
class ReZeroBlock(nn.Module):
    def __init__(self, width: int, gate: str):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
        if gate == "parameter":
            self.alpha = nn.Parameter(torch.zeros(1))
        elif gate == "tensor":
            self.alpha = torch.zeros(1)                                  # not registered: never trained
        else:
            raise ValueError(f"gate: 'parameter' or 'tensor', got {gate!r}")

    def forward(self, h):
        return h + self.alpha.to(h.device) * self.f(h)


class PrintNet(nn.Module):
    def __init__(self, n_in: int, width: int, blocks: int, n_out: int, gate: str):
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ReZeroBlock(width, gate) for _ in range(blocks)])
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(self.blocks(self.inp(x.flatten(1))))


def print_net(spec, width=64, blocks=3, gate="parameter"):
    return PrintNet(_n_in(spec), int(width), int(blocks), _n_out(spec), gate)


# ----------------------------------------------------------------------------- gauges
class GaugeCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int, symmetry: str):
        super().__init__()
        if symmetry not in ("none", "rot4"):
            raise ValueError(f"symmetry: 'none' or 'rot4', got {symmetry!r}")
        c1, c2, c3 = (int(c) for c in channels)
        self.features = nn.Sequential(
            nn.Conv2d(c_in, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU())
        self.head = nn.Linear(c3 * 25, n_out)
        self.symmetry = symmetry

    def _embed(self, x):
        return self.features(x).flatten(1)

    def forward(self, x):
        if self.symmetry == "rot4":
            h = torch.stack([self._embed(torch.rot90(x, k, (2, 3))) for k in range(4)]).mean(0)
        else:
            h = self._embed(x)
        return self.head(h)


def gauge_cnn(spec, channels=(16, 32, 32), symmetry="none"):
    shape = list(spec.input_shape)
    c_in = 1 if len(shape) == 2 else int(shape[0])
    return GaugeCNN(c_in, channels, _n_out(spec), symmetry)


# ----------------------------------------------------------------------------- songs
class SongSpec(nn.Module):
    def __init__(self, t: int, f: int, hidden, n_out: int, fft_dim: int):
        super().__init__()
        if fft_dim not in (1, -1):
            raise ValueError(f"fft_dim: 1 (time) or -1 (the last axis), got {fft_dim!r}")
        self.dim = fft_dim
        shape = torch.fft.rfft(torch.zeros(1, t, f), dim=fft_dim).shape
        width = shape[1] * shape[2]
        layers: list[nn.Module] = [nn.BatchNorm1d(width)]
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):                       # x: (N, T, F)
        spec = torch.log1p(torch.fft.rfft(x, dim=self.dim).abs())
        return self.head(self.mlp(spec.flatten(1)))


def song_spec(spec, hidden=(64, 64), fft_dim=1):
    t, f = spec.input_shape
    return SongSpec(int(t), int(f), hidden, _n_out(spec), int(fft_dim))


# ----------------------------------------------------------------------------- chess
class Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.h, self.dh = heads, d // heads

    def forward(self, x, pad):                  # x: (N, L, d); pad: (N, L), True = padding
        n, length, d = x.shape
        q, k, v = (t.view(n, length, self.h, self.dh).transpose(1, 2) for t in self.qkv(x).chunk(3, -1))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh)            # (N, heads, Lq, Lk)
        scores = scores.masked_fill(pad[:, None, None, :], -1e9)
        att = torch.softmax(scores, -1)
        y = (att @ v).transpose(1, 2).reshape(n, length, d)
        return self.out(y)


class ChessBlock(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.att = Attention(d, heads)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, pad):
        x = self.n1(x + self.drop(self.att(x, pad)))
        return self.n2(x + self.drop(self.ff(x)))


class ChessEncoder(nn.Module):
    def __init__(self, vocab: int, max_len: int, d: int, heads: int, layers: int, ff: int, n_out: int,
                 dropout: float, positions: str):
        super().__init__()
        if positions not in ("index", "ids"):
            raise ValueError(f"positions: 'index' or 'ids', got {positions!r}")
        self.positions = positions
        self.embed = nn.Embedding(vocab, d, padding_idx=0)
        self.pos = nn.Embedding(max(max_len, vocab), d)
        self.blocks = nn.ModuleList([ChessBlock(d, heads, ff, dropout) for _ in range(layers)])
        self.head = nn.Linear(d, n_out)

    def forward(self, ids):                     # ids: (N, L), 0 = padding
        ids = ids.long()
        n, length = ids.shape
        where = torch.arange(length, device=ids.device)[None] if self.positions == "index" else ids
        x = self.embed(ids) + self.pos(where)
        pad = ids == 0
        for block in self.blocks:
            x = block(x, pad)
        keep = (~pad).float()[:, :, None]
        return self.head((x * keep).sum(1) / keep.sum(1).clamp_min(1.0))


def chess_encoder(spec, d_model=32, heads=2, layers=2, ff=64, dropout=0.1, positions="index"):
    return ChessEncoder(int(spec.vocab_size), int(spec.input_shape[0]), int(d_model), int(heads), int(layers),
                        int(ff), _n_out(spec), float(dropout), positions)


# ----------------------------------------------------------------------------- greenhouse
class PadBlock(nn.Module):
    def __init__(self, c_in: int, c: int, k: int, dilation: int, side: str):
        super().__init__()
        self.pad = (k - 1) * dilation
        self.side = side
        self.conv = nn.Conv1d(c_in, c, k, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c, 1) if c_in != c else nn.Identity()

    def forward(self, x):                       # x: (N, C, T)
        padded = F.pad(x, (self.pad, 0) if self.side == "left" else (0, self.pad))
        return torch.relu(self.conv(padded)) + self.skip(x)


class GreenTCN(nn.Module):
    def __init__(self, n_feat: int, channels: int, levels: int, n_out: int, pad: str):
        super().__init__()
        if pad not in ("left", "right"):
            raise ValueError(f"pad: 'left' (causal) or 'right', got {pad!r}")
        blocks, c = [], n_feat
        for i in range(levels):
            blocks.append(PadBlock(c, channels, 3, 2 ** i, pad))
            c = channels
        self.tcn = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, n_out)

    def forward(self, x):                       # x: (N, T, F), oldest step first
        return self.head(self.tcn(x.transpose(1, 2))[:, :, -1])


def green_tcn(spec, channels=32, levels=4, pad="left"):
    t, f = spec.input_shape
    return GreenTCN(int(f), int(channels), int(levels), _n_out(spec), pad)
