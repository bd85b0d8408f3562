"""Custom networks of the twenty-sixth held-out set (heldout26.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h26_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

dairy_net      an MLP (Linear -> BatchNorm1d -> ReLU, [64, 64]) for the cows' milk yield, a linear
               head. `bn_momentum` is PyTorch's BatchNorm momentum, 0.1: the weight of the NEW
               batch in the running statistics. 0.99 is the slip: Keras' BatchNormalization
               default (momentum=0.99, the weight of the OLD statistics), copied into PyTorch,
               where it means the running mean and variance are almost exactly the last training
               batch's: evaluation then normalizes every cow with the statistics of whichever 32
               (or fewer) cows came last in the epoch.
aval_net       an MLP (ReLU [64, 64], dropout 0.1) for the avalanche problem, a linear head whose
               logits are divided by `temperature`, 1.0. 20 (the distillation temperature of the
               teacher-student recipe the net came from, left in the student's forward pass) looks
               like a slip, and the first epochs' loss stays near ln 5, but with Adam it does no
               harm (Adam's steps do not depend on the gradient's scale and the weights grow to make
               up for it): a healthy run of heldout26.yaml.
sewer_gru      a GRU (32) over the 24-hour window for the sewer's inflow, 1..6 hours ahead.
               `read` last: a linear head on the last step's state emits all six forecasts (the
               newest state has seen the whole window); steps: a one-output head is applied to
               each of the last six steps' states and they are read as the six forecasts (a
               sequence-to-sequence habit: output k of the last six steps taken for hour k
               ahead): the forecast for the next hour then comes from the state five hours old,
               which has not seen the last five hours of flow or rain.
engine_spec    a spectral classifier for the diesel generator's recordings: the mean removed per
               channel, the FFT over time (torch.fft.rfft, 33 bins per channel), its magnitude,
               a BatchNorm1d over the 99 values and an MLP [64, 64]. `spectrum` abs takes the
               magnitude (.abs()), which does not depend on where in its cycle the recording
               started; real takes the real part (.real, the autocomplete for 'make the complex
               tensor real'): a component's amplitude times the cosine of its random phase, so
               the same fault shows up with any value from -A to A.
thermal_cnn    a CNN for the infrared module images (N, 1, 16, 16): three 3x3 conv blocks (16, 32,
               32) with batch norm and ReLU, max pools after the first two, the mean and the max
               over space and a linear head. `padding_mode` zeros pads each conv with zeros (the
               PyTorch default: the image's edge is seen as an edge); circular wraps the image
               around (the conv of the team's global weather-grid model, which wraps around the
               longitudes, reused): the top rows become the neighbours of the bottom rows, and
               with the global pooling the net should no longer tell a warm band along the top edge
               (the junction box) from one along the bottom (soiling). Measured, it did no harm
               (the net finds other cues), so no case of heldout26.yaml uses it.
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- dairy
class DairyNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, bn_momentum: float):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.BatchNorm1d(int(h), momentum=bn_momentum), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


def dairy_net(spec, hidden=(64, 64), bn_momentum=0.1):
    m = float(bn_momentum)
    if not 0 < m <= 1:
        raise ValueError(f"bn_momentum: in (0, 1], got {bn_momentum!r}")
    return DairyNet(_n_in(spec), hidden, _n_out(spec), m)


# ----------------------------------------------------------------------------- avalanche
class AvalNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, dropout: float, temperature: float):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        self.temperature = temperature

    def forward(self, x):
        return self.head(self.body(x.flatten(1))) / self.temperature


def aval_net(spec, hidden=(64, 64), dropout=0.1, temperature=1.0):
    t = float(temperature)
    if t <= 0:
        raise ValueError(f"temperature: > 0, got {temperature!r}")
    return AvalNet(_n_in(spec), hidden, _n_out(spec), float(dropout), t)


# ----------------------------------------------------------------------------- sewer
class SewerGRU(nn.Module):
    def __init__(self, f: int, hidden: int, n_out: int, read: str):
        super().__init__()
        if read not in ("last", "steps"):
            raise ValueError(f"read: 'last' or 'steps', got {read!r}")
        self.gru = nn.GRU(f, hidden, batch_first=True)
        self.read = read
        self.n_out = n_out
        self.head = nn.Linear(hidden, n_out if read == "last" else 1)

    def forward(self, x):                        # x: (N, T, F), oldest step first
        out, _ = self.gru(x)                     # (N, T, H)
        if self.read == "last":
            return self.head(out[:, -1])
        return self.head(out[:, -self.n_out:]).squeeze(-1)     # step T-6+k read as k+1 hours ahead


def sewer_gru(spec, hidden=32, read="last"):
    t, f = spec.input_shape
    return SewerGRU(int(f), int(hidden), _n_out(spec), str(read))


# ----------------------------------------------------------------------------- engines
class EngineSpec(nn.Module):
    def __init__(self, t: int, f: int, hidden, n_out: int, spectrum: str):
        super().__init__()
        if spectrum not in ("abs", "real"):
            raise ValueError(f"spectrum: 'abs' or 'real', got {spectrum!r}")
        self.spectrum = spectrum
        n = (t // 2 + 1) * f
        layers, width = [nn.BatchNorm1d(n)], n
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):                        # x: (N, T, F)
        x = x - x.mean(dim=1, keepdim=True)
        z = torch.fft.rfft(x, dim=1)             # (N, T//2 + 1, F), complex
        s = z.abs() if self.spectrum == "abs" else z.real
        return self.head(self.mlp(s.flatten(1)))


def engine_spec(spec, hidden=(64, 64), spectrum="abs"):
    t, f = spec.input_shape
    return EngineSpec(int(t), int(f), hidden, _n_out(spec), str(spectrum))


# ----------------------------------------------------------------------------- thermal
class ThermalCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int, padding_mode: str):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        conv = lambda a, b: nn.Conv2d(a, b, 3, padding=1, padding_mode=padding_mode)
        self.features = nn.Sequential(
            conv(c_in, c1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            conv(c1, c2), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            conv(c2, c3), nn.BatchNorm2d(c3), nn.ReLU())
        self.head = nn.Linear(2 * c3, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        f = self.features(x)
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))


def thermal_cnn(spec, channels=(16, 32, 32), padding_mode="zeros"):
    if padding_mode not in ("zeros", "circular"):
        raise ValueError(f"padding_mode: 'zeros' or 'circular', got {padding_mode!r}")
    shape = list(spec.input_shape)
    c = 1 if len(shape) == 2 else int(shape[0])
    return ThermalCNN(c, channels, _n_out(spec), str(padding_mode))
