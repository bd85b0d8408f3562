"""Custom networks of the twentieth held-out set (heldout20.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h20_models:<name>`.

loaf_net      an MLP for the loaves table: `hidden` ReLU layers, a linear head. Two options, each
              a slip left over from another experiment: `reverse` true puts a gradient-reversal
              layer (identity forward, gradient times -1 backward: the trick of domain-adversarial
              training, meant for a domain head) between the body and the class head, so the head
              learns to classify while the body is pushed to make that as hard as it can;
              `detach` true detaches the body's output before the head (a feature-extraction
              experiment's `.detach()`), so the body never trains: the head reads fixed random
              ReLU features.
turbine_net   a monotone power-curve net for the turbine table: the power rises with the wind, as a
              sum of K steps a_k sigmoid(b_k (v - c_k - s(x))) in the standardized wind speed v
              (a_k = softplus, b_k = softplus: every step rises), shifted by s(x) and scaled by
              exp(g(x)) from a small MLP over the other columns (turbine type, yaw, density,
              icing ...), plus a bias. `edge` "v-c" is the rising step; "c-v", sigmoid(b (c - v)),
              the form of a survival curve copied from elsewhere, makes every step FALL with the
              wind: the curve can only go down as the wind rises. `detach` true detaches the
              modulator's output (shift and log-scale), so its MLP never trains: the curve is
              shifted and scaled by a fixed random function of the other columns.
tread_cnn     a CNN for the tread patches: three 3x3 conv blocks (16, 32, 32 channels, batch norm,
              ReLU; max pools after the first two), a global mean and a linear head. `pool`
              "space" averages each channel over the 4x4 positions (mean over dims (2, 3));
              "channels" averages over the channel axis (x.mean(1), the wrong axis) and the head
              reads the 4x4 map of channel means (its width sized to match); tried for the set, it
              did no harm on these patches (accuracy 1.000) and is not used by heldout20.yaml.
lift_net      a 1-D conv net for the lift trips (N, T, F): each trip's signals minus their mean
              (the phone's offsets), the signals and their running sums over time (cumsum: the
              acceleration's integral is the velocity, whose sign is the direction and whose length
              is the distance) side by side, two conv layers (kernel 5, 32 channels, ReLU), a mean
              and a max over time, a linear head. `center` "time" subtracts the mean over time
              (x.mean(1)); "sensors" the mean over the last axis (x.mean(-1)), the three sensors of
              each sample, which mixes acceleration, pressure and door into two differences.
              `integrate_dim` -1 (the sums over the sensors, not time) and `layout` "reshape" (a
              reshape where a transpose was meant before the convs) are slips tried for the set that
              did no measurable harm here (the raw pressure carries direction and distance anyway);
              they are not used by heldout20.yaml.
repair_encoder a small transformer encoder for token ids with a learned [CLS] vector put in front:
              token and learned position embeddings, `layers` nn.TransformerEncoderLayer blocks
              (batch_first), the [CLS] position's output to a linear head. `mask` "pad" passes
              src_key_padding_mask = (ids == 0) (True = ignore, PyTorch's convention); "keep"
              passes (ids != 0), the attention-mask convention of another library (1 = keep), so
              every real token is ignored and the [CLS] attends to itself and the padding.
tide_net      a residual-over-persistence forecaster for windows (N, T, F): the forecast is the
              last observed level (the target column's last step, standardized like the target)
              for every horizon, plus gate x MLP(flattened window), the gate starting at 0 so the
              net starts as persistence. `gate` "linear" uses the gate as it is; "relu" passes it
              through a ReLU first (to keep it non-negative), whose gradient at exactly 0 is 0: the
              gate never opens and the net stays a persistence forecast.
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- loaves
class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class LoafNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, reverse: bool, detach: bool):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        self.reverse, self.detach = bool(reverse), bool(detach)

    def forward(self, x):
        h = self.body(x.flatten(1))
        if self.reverse:
            h = _Reverse.apply(h)                   # meant for the domain head, not the class head
        if self.detach:
            h = h.detach()
        return self.head(h)


def loaf_net(spec, hidden=(64, 64), reverse=False, detach=False):
    return LoafNet(_n_in(spec), hidden, _n_out(spec), reverse, detach)


# ----------------------------------------------------------------------------- turbines
class TurbineNet(nn.Module):
    def __init__(self, n_in: int, wind_index: int, k: int, hidden: int, edge: str, detach: bool = False):
        super().__init__()
        self.detach = bool(detach)
        if edge not in ("v-c", "c-v"):
            raise ValueError(f"edge: 'v-c' (a rising step) or 'c-v', got {edge!r}")
        self.edge = edge
        self.iw = wind_index
        others = [i for i in range(n_in) if i != wind_index]
        self.register_buffer("others", torch.as_tensor(others, dtype=torch.long))
        self.mod = nn.Sequential(nn.Linear(len(others), hidden), nn.ReLU(), nn.Linear(hidden, 2))
        self.a = nn.Parameter(torch.zeros(k))
        self.b = nn.Parameter(torch.full((k,), 1.0))
        self.c = nn.Parameter(torch.linspace(-1.5, 2.5, k))
        self.bias = nn.Parameter(torch.tensor(-1.0))

    def forward(self, x):
        x = x.flatten(1)
        v = x[:, self.iw:self.iw + 1]                                         # (N, 1)
        m = self.mod(x[:, self.others])
        if self.detach:
            m = m.detach()
        shift, log_scale = m.unbind(1)
        z = v - self.c[None] - shift[:, None] if self.edge == "v-c" else self.c[None] + shift[:, None] - v
        steps = nn.functional.softplus(self.a)[None] * torch.sigmoid(nn.functional.softplus(self.b)[None] * 2 * z)
        return (steps.sum(1) * torch.exp(log_scale) + self.bias)[:, None]


def turbine_net(spec, wind="wind_ms", k=8, hidden=32, edge="v-c", detach=False):
    names = list(spec.feature_names)
    if wind not in names:
        raise ValueError(f"wind: a feature column, one of {names}, got {wind!r}")
    return TurbineNet(_n_in(spec), names.index(wind), int(k), int(hidden), edge, detach)


# ----------------------------------------------------------------------------- treads
class TreadCNN(nn.Module):
    def __init__(self, c_in: int, channels, size, n_out: int, pool: str):
        super().__init__()
        if pool not in ("space", "channels"):
            raise ValueError(f"pool: 'space' or 'channels', got {pool!r}")
        c1, c2, c3 = (int(c) for c in channels)
        self.features = nn.Sequential(
            nn.Conv2d(c_in, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU())
        self.pool = pool
        h, w = size[0] // 4, size[1] // 4
        self.head = nn.Linear(c3 if pool == "space" else h * w, n_out)

    def forward(self, x):
        f = self.features(x)                                                    # (N, C, H, W)
        z = f.mean((2, 3)) if self.pool == "space" else f.mean(1).flatten(1)
        return self.head(z)


def tread_cnn(spec, channels=(16, 32, 32), pool="space"):
    shape = list(spec.input_shape)
    c_in = 1 if len(shape) == 2 else int(shape[0])
    return TreadCNN(c_in, channels, shape[-2:], _n_out(spec), pool)


# ----------------------------------------------------------------------------- lifts
class LiftNet(nn.Module):
    def __init__(self, f: int, channels: int, n_out: int, integrate_dim: int, layout: str = "transpose",
                 center: str = "time"):
        super().__init__()
        if layout not in ("transpose", "reshape"):
            raise ValueError(f"layout: 'transpose' or 'reshape', got {layout!r}")
        self.layout = layout
        if center not in ("time", "sensors"):
            raise ValueError(f"center: 'time' or 'sensors', got {center!r}")
        self.center = center
        if integrate_dim not in (1, -1):
            raise ValueError(f"integrate_dim: 1 (time) or -1 (the last axis), got {integrate_dim!r}")
        self.dim = integrate_dim
        self.conv = nn.Sequential(
            nn.Conv1d(2 * f, channels, 5, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, padding=2), nn.ReLU())
        self.head = nn.Linear(2 * channels, n_out)

    def forward(self, x):                        # x: (N, T, F)
        x = x - x.mean(1 if self.center == "time" else -1, keepdim=True)      # the phone's offsets
        run = torch.cumsum(x, dim=self.dim) / x.shape[1] ** 0.5
        z = torch.cat([x, run], -1)                                             # (N, T, 2F)
        z = z.transpose(1, 2) if self.layout == "transpose" else z.reshape(z.shape[0], z.shape[2], z.shape[1])
        h = self.conv(z)                                                        # (N, C, T)
        return self.head(torch.cat([h.mean(2), h.amax(2)], 1))


def lift_net(spec, channels=32, integrate_dim=1, layout="transpose", center="time"):
    t, f = spec.input_shape
    return LiftNet(int(f), int(channels), _n_out(spec), int(integrate_dim), layout, center)


# ----------------------------------------------------------------------------- repairs
class RepairEncoder(nn.Module):
    def __init__(self, vocab: int, max_len: int, d: int, heads: int, layers: int, ff: int, n_out: int,
                 dropout: float, mask: str):
        super().__init__()
        if mask not in ("pad", "keep"):
            raise ValueError(f"mask: 'pad' (True = padding) or 'keep', got {mask!r}")
        self.mask = mask
        self.embed = nn.Embedding(vocab, d, padding_idx=0)
        self.pos = nn.Embedding(max_len + 1, d)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, n_out)

    def forward(self, ids):                      # ids: (N, L), 0 = padding
        ids = ids.long()
        n, length = ids.shape
        x = torch.cat([self.cls.expand(n, 1, -1), self.embed(ids)], 1)
        x = x + self.pos(torch.arange(length + 1, device=ids.device))[None]
        ignore = ids == 0 if self.mask == "pad" else ids != 0
        ignore = torch.cat([torch.zeros(n, 1, dtype=torch.bool, device=ids.device), ignore], 1)
        h = self.encoder(x, src_key_padding_mask=ignore)
        return self.head(h[:, 0])


def repair_encoder(spec, d_model=32, heads=2, layers=2, ff=64, dropout=0.1, mask="pad"):
    return RepairEncoder(int(spec.vocab_size), int(spec.input_shape[0]), int(d_model), int(heads), int(layers),
                         int(ff), _n_out(spec), float(dropout), mask)


# ----------------------------------------------------------------------------- tides
class TideNet(nn.Module):
    def __init__(self, t: int, f: int, level_index: int, hidden: int, n_out: int, gate: str):
        super().__init__()
        if gate not in ("linear", "relu"):
            raise ValueError(f"gate: 'linear' or 'relu', got {gate!r}")
        self.gate_kind = gate
        self.il = level_index
        self.mlp = nn.Sequential(nn.Linear(t * f, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_out))
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x):                        # x: (N, T, F), oldest step first
        last = x[:, -1, self.il:self.il + 1]                                   # (N, 1)
        g = self.gate if self.gate_kind == "linear" else torch.relu(self.gate)
        return last + g * self.mlp(x.flatten(1))


def tide_net(spec, level="level_m", hidden=64, gate="linear"):
    t, f = spec.input_shape
    names = list(spec.feature_names)
    if level not in names:
        raise ValueError(f"level: an input column, one of {names}, got {level!r}")
    return TideNet(int(t), int(f), names.index(level), int(hidden), _n_out(spec), gate)
