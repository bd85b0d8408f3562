"""Custom networks of the twenty-fourth held-out set (heldout24.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h24_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

frost_net      an MLP (ReLU [64, 64]) for the orchard's blossom kill, a linear head. `bias_init`
               none leaves the head's bias as PyTorch draws it. A number sets the head's bias to it
               ('start the output at the mean kill, 17.4 %, so the net need not learn the level'):
               but trainwell standardizes a regression target while training, so the net's output
               is in standard deviations (the mean kill is 0 there), and a bias of 17.4 starts every
               prediction 17.4 standard deviations too high (the kill's sd is 30.7 %).
vines_net      an MLP (ReLU [64, 64]) for the vineyard diagnosis, over polynomial features. `poly`
               "concat" feeds torch.cat([x, x * x]) (the columns and their squares); "replace" feeds
               x * x alone (the concatenation lost in an edit): the columns are standardized, so
               the square of a reading is the same for a value far below its mean and one as far
               above it: dry soil and soaked soil, a cold week and a hot one, look alike.
heat_net       an MLP forecaster for the heating load over the most recent hours of the window
               (N, T, F): two ReLU layers of 128 and a linear head (one output per hour ahead).
               `take` "last" reads x[:, -recent:], the last 12 hours of the 24-hour window; "first"
               reads x[:, :recent] ('keep 12 hours': the window runs oldest first, so that is the
               oldest half, 13-24 hours back).
grain_cnn      a CNN for the rice-kernel patches: three 3x3 conv blocks (16, 32, 32) with batch norm
               and ReLU, max pools after the first two, a global mean over space and a linear head.
               `crop` 0 reads the whole 16 x 16 patch; a number n first crops the central n x n
               ('the kernel is centred', true of the grader's old camera, whose crop code this
               was): here a kernel lies up to 3.5 px off centre and the chalky end or the spot often
               falls outside the crop.
drone_cnn      a 1-D CNN for the flight logs (N, T, F): two Conv1d blocks (32, 32; kernel 3) with
               batch norm and ReLU, the mean and the max over time, and a linear head. `transpose`
               true feeds x.transpose(1, 2) (Conv1d wants (N, channels, steps)); false feeds x as it
               comes, (N, steps, channels), with the first layer built as Conv1d(steps, 32, 3) (the
               fix of the error 'expected input to have 5 channels, but got 32': the in_channels
               changed instead of the layout): the convolution then slides over the five sensors
               and the pooling mixes them, so the net half-forgets which sensor is which. (A first
               version, kernel 5 and a mean over time only, was weaker (accuracy 0.80/0.80) and the
               missing transpose cost it only 6.7/3.3 points.)
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- frost
class FrostNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, bias_init):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        if bias_init is not None:
            with torch.no_grad():
                self.head.bias.fill_(float(bias_init))

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


def frost_net(spec, hidden=(64, 64), bias_init=None):
    if bias_init is not None and not isinstance(bias_init, (int, float)):
        raise ValueError(f"bias_init: none or a number, got {bias_init!r}")
    return FrostNet(_n_in(spec), hidden, _n_out(spec), bias_init)


# ----------------------------------------------------------------------------- vines
class VinesNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, poly: str):
        super().__init__()
        if poly not in ("concat", "replace"):
            raise ValueError(f"poly: 'concat' or 'replace', got {poly!r}")
        self.poly = poly
        layers, width = [], 2 * n_in if poly == "concat" else n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, n_out))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        x = x.flatten(1)
        z = torch.cat([x, x * x], dim=1) if self.poly == "concat" else x * x
        return self.mlp(z)


def vines_net(spec, hidden=(64, 64), poly="concat"):
    return VinesNet(_n_in(spec), hidden, _n_out(spec), str(poly))


# ----------------------------------------------------------------------------- heatnet
class HeatNet(nn.Module):
    def __init__(self, recent: int, f: int, hidden: int, n_out: int, take: str):
        super().__init__()
        if take not in ("last", "first"):
            raise ValueError(f"take: 'last' or 'first', got {take!r}")
        self.recent, self.take = recent, take
        self.mlp = nn.Sequential(nn.Linear(recent * f, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_out))

    def forward(self, x):                        # x: (N, T, F), oldest step first
        z = x[:, -self.recent:] if self.take == "last" else x[:, :self.recent]
        return self.mlp(z.flatten(1))


def heat_net(spec, recent=12, hidden=128, take="last"):
    t, f = spec.input_shape
    return HeatNet(min(int(recent), int(t)), int(f), int(hidden), _n_out(spec), str(take))


# ----------------------------------------------------------------------------- grains
class GrainCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int, crop: int):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        self.crop = int(crop)
        self.features = nn.Sequential(
            nn.Conv2d(c_in, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU())
        self.head = nn.Linear(c3, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        if self.crop:
            h, w = x.shape[-2:]
            top, left = (h - self.crop) // 2, (w - self.crop) // 2
            x = x[..., top:top + self.crop, left:left + self.crop]
        return self.head(self.features(x).mean((2, 3)))


def grain_cnn(spec, channels=(16, 32, 32), crop=0):
    shape = list(spec.input_shape)
    c_in = 1 if len(shape) == 2 else int(shape[0])
    if int(crop) < 0 or int(crop) > min(shape[-2:]):
        raise ValueError(f"crop: 0 or a size up to the image's, got {crop!r}")
    return GrainCNN(c_in, channels, _n_out(spec), int(crop))


# ----------------------------------------------------------------------------- drones
class DroneCNN(nn.Module):
    def __init__(self, t: int, f: int, channels, kernel: int, n_out: int, transpose: bool):
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.transpose = bool(transpose)
        c_in = f if self.transpose else t
        self.features = nn.Sequential(
            nn.Conv1d(c_in, c1, kernel, padding=kernel // 2), nn.BatchNorm1d(c1), nn.ReLU(),
            nn.Conv1d(c1, c2, kernel, padding=kernel // 2), nn.BatchNorm1d(c2), nn.ReLU())
        self.head = nn.Linear(2 * c2, n_out)

    def forward(self, x):                        # x: (N, T, F)
        if self.transpose:
            x = x.transpose(1, 2)
        f = self.features(x)
        return self.head(torch.cat([f.mean(2), f.amax(2)], dim=1))


def drone_cnn(spec, channels=(32, 32), kernel=3, transpose=True):
    t, f = spec.input_shape
    return DroneCNN(int(t), int(f), channels, int(kernel), _n_out(spec), bool(transpose))
