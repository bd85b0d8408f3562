"""Custom networks of the twenty-fifth held-out set (heldout25.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h25_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

fires_net      an MLP (ReLU [64, 64], dropout 0.1 after each hidden layer) for the fires' rate of
               spread, a linear head. `bound` none returns the head's output as it is; tanh squashes
               it into (-1, 1) (the output layer of an older model whose target was min-max scaled
               to [-1, 1]): trainwell trains on the standardized target, whose fast fires lie up to
               8 standard deviations above the mean, so every fire faster than about one standard
               deviation (24 m/min) is predicted at the cap. (`dropout` is the drop probability;
               0.3 is a healthy run.)
sleep_net      an MLP (ReLU [64, 64]) for the sleep-study diagnosis, with its own input
               normalization and dropout after each hidden layer. `input_norm` batch puts a
               BatchNorm1d over the input columns (the net standardizes what it is given, so
               data.scale none trains the same net); none feeds the columns as they come.
               `dropout` is PyTorch's drop probability, 0.1; 0.9 is the slip: the keep probability of
               the TensorFlow 1 model it was ported from (keep_prob=0.9), written into nn.Dropout,
               which drops nine units in ten.
charge_tcn     a temporal convolutional forecaster for the charging hub's load: four Conv1d layers
               (32 channels, kernel 3, dilations 1, 2, 4, 8: 31 hours of receptive field) over the
               window (N, T, F), transposed to (N, F, T), and a two-layer head on the newest step's
               features, one output per hour ahead. `pad` left pads each layer's input with
               (kernel - 1) x dilation zeros in front (a causal convolution: every step sees its
               past); right pads behind it (F.pad's (left, right) pair written the other way
               round): every step then sees its future inside the window, and the newest step,
               whose features the head reads, sees only itself and padding: the net forecasts from
               the last hour alone, without the daily cycle the window holds.
radar_cnn      a CNN for the weather-radar patches (N, 2, 16, 16: reflectivity and radial
               velocity): three 3x3 conv blocks (16, 32, 32) with batch norm and ReLU, max pools
               after the first two, the mean and the max over space and a linear head. `inputs`
               all reads both channels; first reads x[:, :1], the reflectivity alone (the net of a
               reflectivity-only radar, reused): a rotating storm (a velocity couplet) then looks
               like any convective cell, and a squall line loses its outflow.
mains_gru      a hand-written GRU (nn.GRUCell stepped over the 40 cycles) for the power-quality
               recordings, a linear head on the last state. `carry` true feeds each step the
               previous step's state; false feeds it the initial zeros every time (h0 where h was
               meant: the loop variable mixed up), so the last state has seen the last cycle only,
               and an event earlier in the recording is invisible.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- fires
class FiresNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, dropout: float, bound: str):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        if bound not in ("none", "tanh"):
            raise ValueError(f"bound: 'none' or 'tanh', got {bound!r}")
        self.bound = bound

    def forward(self, x):
        out = self.head(self.body(x.flatten(1)))
        return torch.tanh(out) if self.bound == "tanh" else out


def fires_net(spec, hidden=(64, 64), dropout=0.1, bound="none"):
    return FiresNet(_n_in(spec), hidden, _n_out(spec), float(dropout), str(bound))


# ----------------------------------------------------------------------------- sleep
class SleepNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, input_norm: str, dropout: float):
        super().__init__()
        norms = {"none": lambda: nn.Identity(), "batch": lambda: nn.BatchNorm1d(n_in)}
        if input_norm not in norms:
            raise ValueError(f"input_norm: one of {sorted(norms)}, got {input_norm!r}")
        self.norm = norms[input_norm]()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(self.body(self.norm(x.flatten(1))))


def sleep_net(spec, hidden=(64, 64), input_norm="batch", dropout=0.1):
    return SleepNet(_n_in(spec), hidden, _n_out(spec), str(input_norm), float(dropout))


# ----------------------------------------------------------------------------- charging
class CausalConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, pad: str):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.amount = (kernel - 1) * dilation
        self.pad = pad

    def forward(self, x):                        # x: (N, C, T)
        p = (self.amount, 0) if self.pad == "left" else (0, self.amount)
        return self.conv(F.pad(x, p))


class ChargeTCN(nn.Module):
    def __init__(self, f: int, channels: int, n_out: int, pad: str):
        super().__init__()
        if pad not in ("left", "right"):
            raise ValueError(f"pad: 'left' or 'right', got {pad!r}")
        layers, c = [], f
        for d in (1, 2, 4, 8):
            layers += [CausalConv(c, channels, 3, d, pad), nn.ReLU()]
            c = channels
        self.tcn = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(channels, 64), nn.ReLU(), nn.Linear(64, n_out))

    def forward(self, x):                        # x: (N, T, F), oldest step first
        h = self.tcn(x.transpose(1, 2))
        return self.head(h[:, :, -1])            # the newest step's features


def charge_tcn(spec, channels=32, pad="left"):
    t, f = spec.input_shape
    return ChargeTCN(int(f), int(channels), _n_out(spec), str(pad))


# ----------------------------------------------------------------------------- radar
class RadarCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        self.c_in = c_in
        self.features = nn.Sequential(
            nn.Conv2d(c_in, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU())
        self.head = nn.Linear(2 * c3, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        f = self.features(x[:, :self.c_in])
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))


def radar_cnn(spec, channels=(16, 32, 32), inputs="all"):
    shape = list(spec.input_shape)
    c = 1 if len(shape) == 2 else int(shape[0])
    if inputs not in ("all", "first"):
        raise ValueError(f"inputs: 'all' or 'first', got {inputs!r}")
    return RadarCNN(c if inputs == "all" else 1, channels, _n_out(spec))


# ----------------------------------------------------------------------------- mains
class MainsGRU(nn.Module):
    def __init__(self, f: int, hidden: int, n_out: int, carry: bool):
        super().__init__()
        self.cell = nn.GRUCell(f, hidden)
        self.hidden = hidden
        self.carry = bool(carry)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):                        # x: (N, T, F)
        h0 = x.new_zeros(x.shape[0], self.hidden)
        h = h0
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h if self.carry else h0)
        return self.head(h)


def mains_gru(spec, hidden=32, carry=True):
    t, f = spec.input_shape
    return MainsGRU(int(f), int(hidden), _n_out(spec), bool(carry))
