"""Custom networks of the twenty-seventh held-out set (heldout27.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h27_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

marathon_net   an MLP ([64, 64]) for the runners' finish time, a linear head. `act` leaky is
               nn.LeakyReLU(0.01, inplace=True); relu is nn.ReLU(True) (inplace, as the positional
               argument means for ReLU); leaky_true is nn.LeakyReLU(True): the ReLU(True) habit
               kept while switching to LeakyReLU, whose first positional argument is
               negative_slope, not inplace: True becomes a slope of 1.0, every 'activation' is the
               identity and the net is one linear map.
meteor_net     an MLP (Linear -> BatchNorm1d -> ReLU -> Dropout 0.1, [64, 64]) for the meteorite's
               group, with an optional BatchNorm1d over the inputs (`input_bn`, false). `shared_bn`
               false gives each hidden layer its own BatchNorm1d; true is the slip: one BatchNorm1d
               module (self.norm, defined once) applied after every hidden layer. Training normalizes
               each call with its own batch's statistics, but the module's running mean and variance
               blend the two layers' outputs, and every evaluation normalizes both layers with that
               blend.
pond_gru       a GRU (32) over the 24-hour window for the pond's dissolved oxygen 1..6 hours ahead,
               a linear head on h_n[-1], 'the last layer's final state'. `bidirectional` false is
               the healthy net. true is the slip: the GRU made bidirectional for accuracy and
               h_n[-1] kept; for a bidirectional GRU h_n[-1] is the BACKWARD direction's final
               state, which read the window from the newest hour to the oldest and ended on the
               hour 24 hours back: the forecast rests on a state whose latest input is a day old.
               `stateful` true (Keras' stateful=True habit) starts each batch from the previous
               batch's final state, detached; with shuffled windows that is an unrelated window's
               state, which 24 hours of input wash out: harmless (a healthy run of heldout27.yaml).
stork_net      a behaviour classifier for the storks' acceleration bursts (10 Hz): the static
               (gravity, posture) part of each channel is a running mean over `window` samples
               (11, about 1 s, replicate padding), the dynamic part is the signal minus it; the
               posture (the static part's mean over the burst, 3 values) and a 1-D conv net over
               the dynamic part (3 -> 32 -> 32, kernel 5, ReLU, the mean and the max over time)
               feed a ReLU head [64]. window 1 is the slip: a '1 s' smoothing written into a key
               counted in samples: the running mean of one sample is the sample itself, the dynamic
               part is zero, and only the posture is left.
plankton_cnn   a CNN for the cytometer's 20x20 images: an optional box blur (`blur` px, 0 = none;
               AvgPool2d with stride 1, same size), three 3x3 conv blocks (16, 32, 32) with batch
               norm and ReLU, max pools after the first two, the mean and the max over space and a
               linear head. blur 5 is the slip: the denoising step of the full-resolution pipeline
               (a 5 px blur on 1280 px frames) kept on the 20 px crops: antennae, spines and cilia,
               one pixel wide, are smeared into the background.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- marathon
def _act(name: str) -> nn.Module:
    if name == "leaky":
        return nn.LeakyReLU(0.01, inplace=True)
    if name == "relu":
        return nn.ReLU(True)
    if name == "leaky_true":
        return nn.LeakyReLU(True)          # negative_slope=True == 1.0: the identity
    raise ValueError(f"act: 'leaky', 'relu' or 'leaky_true', got {name!r}")


class MarathonNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, act: str):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), _act(act)]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


def marathon_net(spec, hidden=(64, 64), act="leaky"):
    _act(str(act))
    return MarathonNet(_n_in(spec), hidden, _n_out(spec), str(act))


# ----------------------------------------------------------------------------- meteorites
class MeteorNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, dropout: float, input_bn: bool, shared_bn: bool):
        super().__init__()
        widths = [int(h) for h in hidden]
        if shared_bn and len(set(widths)) != 1:
            raise ValueError(f"shared_bn: needs equal hidden widths, got {hidden!r}")
        self.inp = nn.BatchNorm1d(n_in) if input_bn else nn.Identity()
        self.linears = nn.ModuleList()
        width = n_in
        for h in widths:
            self.linears.append(nn.Linear(width, h))
            width = h
        # one BatchNorm per layer; shared_bn: one BatchNorm module applied after every layer
        self.norms = nn.ModuleList([nn.BatchNorm1d(widths[0])] if shared_bn else [nn.BatchNorm1d(h) for h in widths])
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        h = self.inp(x.flatten(1))
        for i, lin in enumerate(self.linears):
            norm = self.norms[min(i, len(self.norms) - 1)]
            h = self.drop(torch.relu(norm(lin(h))))
        return self.head(h)


def meteor_net(spec, hidden=(64, 64), dropout=0.1, input_bn=False, shared_bn=False):
    return MeteorNet(_n_in(spec), hidden, _n_out(spec), float(dropout), bool(input_bn), bool(shared_bn))


# ----------------------------------------------------------------------------- pond
class PondGRU(nn.Module):
    def __init__(self, f: int, hidden: int, n_out: int, bidirectional: bool, stateful: bool):
        super().__init__()
        self.gru = nn.GRU(f, hidden, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden, n_out)
        self.stateful = stateful
        self._h = None

    def forward(self, x):                        # x: (N, T, F), oldest step first
        h0 = None
        if self.stateful and self._h is not None and self._h.shape[1] == x.shape[0]:
            h0 = self._h
        _, h_n = self.gru(x, h0)                 # (layers * directions, N, H)
        if self.stateful:
            self._h = h_n.detach()
        return self.head(h_n[-1])                # bidirectional: the backward direction's state


def pond_gru(spec, hidden=32, bidirectional=False, stateful=False):
    t, f = spec.input_shape
    return PondGRU(int(f), int(hidden), _n_out(spec), bool(bidirectional), bool(stateful))


# ----------------------------------------------------------------------------- storks
class StorkNet(nn.Module):
    def __init__(self, f: int, channels: int, n_out: int, window: int):
        super().__init__()
        self.window = window
        self.conv = nn.Sequential(
            nn.Conv1d(f, channels, 5, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, padding=2), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * channels + f, 64), nn.ReLU(), nn.Linear(64, n_out))

    def forward(self, x):                        # x: (N, T, F)
        z = x.transpose(1, 2)                    # (N, F, T)
        k = self.window
        static = F.avg_pool1d(F.pad(z, (k // 2, k - 1 - k // 2), mode="replicate"), k, stride=1)
        dynamic = z - static
        h = self.conv(dynamic)
        return self.head(torch.cat([h.mean(2), h.amax(2), static.mean(2)], dim=1))


def stork_net(spec, channels=32, window=11):
    w = int(window)
    if w < 1:
        raise ValueError(f"window: samples >= 1, got {window!r}")
    t, f = spec.input_shape
    return StorkNet(int(f), int(channels), _n_out(spec), w)


# ----------------------------------------------------------------------------- plankton
class PlanktonCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int, blur: int):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        self.blur = (nn.AvgPool2d(blur, stride=1, padding=blur // 2, count_include_pad=False)
                     if blur > 1 else nn.Identity())
        conv = lambda a, b: nn.Conv2d(a, b, 3, padding=1)
        self.features = nn.Sequential(
            conv(c_in, c1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            conv(c1, c2), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            conv(c2, c3), nn.BatchNorm2d(c3), nn.ReLU())
        self.head = nn.Linear(2 * c3, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        f = self.features(self.blur(x))
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))


def plankton_cnn(spec, channels=(16, 32, 32), blur=0):
    b = int(blur)
    if b < 0 or (b > 1 and b % 2 == 0):
        raise ValueError(f"blur: 0, 1 or an odd number of pixels, got {blur!r}")
    shape = list(spec.input_shape)
    c = 1 if len(shape) == 2 else int(shape[0])
    return PlanktonCNN(c, channels, _n_out(spec), b)
