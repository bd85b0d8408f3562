"""Custom networks of the seventeenth held-out set (heldout17.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h17_models:<name>`.

hive_net      an MLP for the hive summaries: Linear, ReLU blocks and a linear head. `preact_input`
              true builds every block as (ReLU, Linear), the order of a pre-activation residual
              recipe, so the first ReLU falls on the standardized inputs: every reading below its
              column's mean (a light hive, a cold brood, a quiet colony, a weight LOSS) becomes 0.
              (A candidate fault of the set, dropped: under 3 points on one seed; no case uses it.)
hive_tokens   a per-reading embedding net for the hive summaries: each standardized reading x_j becomes
              a token relu(x_j * w_j + b_j) of `d` numbers, the tokens are averaged, then ReLU [hidden]
              and a linear head (an additive model in the readings). `weights` "per_feature" gives
              each reading its own w_j, b_j (parameters of shape (F, d)); "shared" makes them (1, d),
              which broadcasts without an error: every reading is embedded by the same map, and the
              mean over the tokens no longer knows which reading is which.
deliv_resnet  a deep residual MLP for the deliveries: a stem, `blocks` blocks x + W2 relu(W1 x) and a
              head, PyTorch's default init, no normalisation. `skip` false drops the "x +" of every
              block (a refactor that turned the block into nn.Sequential): 2 x `blocks` plain
              ReLU layers at PyTorch's default init, under which each layer keeps about a sixth of
              its input's variance.
tile_cnn      two conv blocks (conv 3x3, batch norm, ReLU, max pool 2), a third conv, a global
              average pool and a linear head, for (N, 1, 20, 20) tile images. `input_norm`
              "per_image" standardizes every image by its own mean and sd first (as TensorFlow's
              per_image_standardization does), which erases the overall brightness of the tile;
              "none" reads the image as trainwell normalised it. `logit_relu` true puts a ReLU after
              the head (the head was written as Linear + ReLU like the hidden layers above it), so
              a class score can never go below 0.
swim_conv     a 1-D CNN for (N, T, F) wrist recordings: the input is turned to (N, F, T) for
              nn.Conv1d, two conv blocks (kernel 5, batch norm, ReLU, max pool 2), a global average
              pool over time and a linear head. `center` true first subtracts each recording's mean
              per channel ('remove gravity and sensor bias', as IMU tutorials do), which also removes
              the wrist's orientation. `to_channels` "transpose" is x.transpose(1, 2); "view" is
              x.view(N, F, T) (written as reshape), which has the right shape and scrambles the data:
              each 'channel' is a quarter of the recording with the four sensor axes interleaved in
              time (a candidate fault, dropped: the net still learned it; no case uses it).
log_encoder   a transformer encoder for token ids: a learned [CLS] token PREPENDED to the message, a
              learned position embedding, `layers` post-norm encoder layers (d_model 32, 2 heads) with
              the padding masked, and a linear head. `pool` "first" reads the [CLS] position, "last"
              the last real token. `causal` true adds a causal (look-back only) attention mask, the
              mask of a GPT block this was adapted from: with pool "last" the last token has seen the
              whole line (fine); with pool "first" the [CLS] token, at position 0, sees only itself.
river_gru     a GRU forecaster (last state -> linear head, one output per horizon step).
              `newest_first` true flips the window in time before the GRU (the builder was written
              for a feature store that laid the lags out newest first, lag 1 ... lag T); trainwell's
              windows are already oldest first, so the GRU ends its reading on the OLDEST hour.
              `input_norm` true (or "columns") puts a BatchNorm1d over the input columns (per
              column, over the batch and the window) in front of the GRU, so the net scales raw
              inputs itself; "steps" is nn.BatchNorm1d(x.shape[1]) applied to the (N, T, F) window
              as it is, which PyTorch reads as T channels: each window STEP is normalised over the
              batch and the columns together, so the columns keep their raw proportions.
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


def hive_net(spec, hidden=(64, 64), preact_input=False):
    layers: list[nn.Module] = [nn.Flatten()]
    width = _n_in(spec)
    for h in hidden:
        block = [nn.Linear(width, int(h)), nn.ReLU()]
        if preact_input:
            block = [block[1], block[0]]
        layers += block
        width = int(h)
    if preact_input:
        layers.append(nn.ReLU())
    layers.append(nn.Linear(width, _n_out(spec)))
    return nn.Sequential(*layers)


class HiveTokens(nn.Module):
    def __init__(self, n_feat: int, d: int, hidden: int, n_out: int, weights: str):
        super().__init__()
        if weights not in ("per_feature", "shared"):
            raise ValueError(f"weights: 'per_feature' or 'shared', got {weights!r}")
        rows = n_feat if weights == "per_feature" else 1   # (1, d) broadcasts over the features just the same
        self.w = nn.Parameter(torch.randn(rows, d))
        self.b = nn.Parameter(torch.zeros(rows, d))
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):                      # x: (N, F) standardized readings
        tokens = torch.relu(x.flatten(1).unsqueeze(-1) * self.w + self.b)    # (N, F, d): one token per reading
        return self.head(self.mlp(tokens.mean(1)))


def hive_tokens(spec, d=32, hidden=64, weights="per_feature"):
    return HiveTokens(_n_in(spec), int(d), int(hidden), _n_out(spec), weights)


class ResBlock(nn.Module):
    def __init__(self, width: int, skip: bool):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.skip = skip

    def forward(self, x):
        y = self.fc2(torch.relu(self.fc1(x)))
        return x + y if self.skip else torch.relu(y)


class DelivResNet(nn.Module):
    def __init__(self, n_in: int, width: int, blocks: int, n_out: int, skip: bool):
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResBlock(width, skip) for _ in range(blocks)])
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(torch.relu(self.blocks(self.stem(x.flatten(1)))))


def deliv_resnet(spec, width=64, blocks=10, skip=True):
    return DelivResNet(_n_in(spec), int(width), int(blocks), _n_out(spec), bool(skip))


class TileCNN(nn.Module):
    def __init__(self, input_shape, channels, n_out: int, input_norm: str, logit_relu: bool):
        super().__init__()
        if input_norm not in ("none", "per_image"):
            raise ValueError(f"input_norm: 'none' or 'per_image', got {input_norm!r}")
        c = input_shape[0]
        layers: list[nn.Module] = []
        for ch in channels:
            layers += [nn.Conv2d(c, int(ch), 3, padding=1), nn.BatchNorm2d(int(ch)), nn.ReLU(), nn.MaxPool2d(2)]
            c = int(ch)
        layers += [nn.Conv2d(c, c, 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, n_out)
        self.input_norm = input_norm
        self.logit_relu = bool(logit_relu)

    def forward(self, x):
        if self.input_norm == "per_image":
            mu = x.mean((1, 2, 3), keepdim=True)
            sd = x.std((1, 2, 3), keepdim=True) + 1e-5
            x = (x - mu) / sd
        y = self.head(self.features(x).mean((2, 3)))
        return torch.relu(y) if self.logit_relu else y


def tile_cnn(spec, channels=(16, 32), input_norm="none", logit_relu=False):
    shape = list(spec.input_shape)
    if len(shape) == 2:
        shape = [1, *shape]
    return TileCNN(shape, channels, _n_out(spec), input_norm, logit_relu)


class SwimConv(nn.Module):
    def __init__(self, n_feat: int, channels, n_out: int, to_channels: str, center: bool):
        super().__init__()
        self.center = bool(center)
        if to_channels not in ("transpose", "view"):
            raise ValueError(f"to_channels: 'transpose' or 'view', got {to_channels!r}")
        c = n_feat
        layers: list[nn.Module] = []
        for ch in channels:
            layers += [nn.Conv1d(c, int(ch), 5, padding=2), nn.BatchNorm1d(int(ch)), nn.ReLU(), nn.MaxPool1d(2)]
            c = int(ch)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, n_out)
        self.to_channels = to_channels

    def forward(self, x):                      # x: (N, T, F)
        n, t, f = x.shape
        if self.center:                        # 'remove gravity and sensor bias': each recording's channel mean
            x = x - x.mean(1, keepdim=True)
        x = x.transpose(1, 2) if self.to_channels == "transpose" else x.reshape(n, f, t)
        return self.head(self.features(x).mean(2))


def swim_conv(spec, channels=(32, 32), to_channels="transpose", center=False):
    t, f = spec.input_shape
    return SwimConv(int(f), channels, _n_out(spec), to_channels, center)


class LogEncoder(nn.Module):
    def __init__(self, vocab: int, max_len: int, d_model: int, heads: int, layers: int, ff: int, n_out: int,
                 pool: str, causal: bool, dropout: float):
        super().__init__()
        if pool not in ("first", "last"):
            raise ValueError(f"pool: 'first' or 'last', got {pool!r}")
        self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
        self.cls = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, max_len + 1, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, n_out)
        self.pool = pool
        self.causal = bool(causal)

    def forward(self, ids):                    # ids: (N, L) token ids, 0 = padding
        ids = ids.long()
        n, length = ids.shape
        x = torch.cat([self.cls.expand(n, -1, -1), self.embed(ids)], 1) + self.pos[:, :length + 1]
        pad = torch.cat([torch.zeros(n, 1, dtype=torch.bool, device=ids.device), ids == 0], 1)
        mask = None
        if self.causal:                        # the GPT block's look-back-only mask
            mask = torch.triu(torch.ones(length + 1, length + 1, dtype=torch.bool, device=ids.device), 1)
        h = self.encoder(x, mask=mask, src_key_padding_mask=pad)
        if self.pool == "first":
            z = h[:, 0]
        else:                                  # the last real token (the [CLS] when the line is empty)
            last = (~pad).long().sum(1) - 1
            z = h[torch.arange(n, device=ids.device), last]
        return self.head(z)


def log_encoder(spec, d_model=32, heads=2, layers=1, ff=64, pool="first", causal=False, dropout=0.1):
    return LogEncoder(int(spec.vocab_size), int(spec.input_shape[0]), int(d_model), int(heads), int(layers), int(ff),
                      _n_out(spec), pool, causal, float(dropout))


class RiverGRU(nn.Module):
    def __init__(self, n_steps: int, n_feat: int, hidden: int, n_out: int, newest_first: bool, input_norm):
        super().__init__()
        if input_norm not in (False, True, "columns", "steps"):
            raise ValueError(f"input_norm: false, true/'columns' or 'steps', got {input_norm!r}")
        self.input_norm = "columns" if input_norm is True else input_norm
        self.norm = None
        if self.input_norm == "columns":
            self.norm = nn.BatchNorm1d(n_feat)
        elif self.input_norm == "steps":       # BatchNorm1d(x.shape[1]) on (N, T, F): one channel per window STEP
            self.norm = nn.BatchNorm1d(n_steps)
        self.gru = nn.GRU(n_feat, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)
        self.newest_first = bool(newest_first)

    def forward(self, x):                      # x: (N, T, F), oldest step first
        if self.input_norm == "columns":
            x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        elif self.input_norm == "steps":
            x = self.norm(x)
        if self.newest_first:                  # lag 1 ... lag T -> oldest first (the feature store's order)
            x = torch.flip(x, [1])
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def river_gru(spec, hidden=32, newest_first=False, input_norm=False):
    t, f = spec.input_shape
    return RiverGRU(int(t), int(f), int(hidden), _n_out(spec), newest_first, input_norm)
