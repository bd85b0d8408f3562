"""Custom networks of the twenty-eighth held-out set (heldout28.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h28_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

asphalt_net    an MLP ([64, 64, 64], SiLU, a linear head) for the pavement's roughness. `registered`
               true keeps the hidden layers in an nn.ModuleList. false is the slip: a refactor that
               builds them in a plain Python list (`self.hidden = [nn.Linear(...), ...]`, so that a
               loop can index them): the layers work in forward, but nn.Module does not register
               them, so model.parameters() (the optimizer's list) never sees them: they stay at
               PyTorch's random start and only the head learns, a linear model on random features.
bats_net       an MLP ([64, 64], ReLU, a linear head) for the bat species. `to_khz` false is the
               healthy net. true is the slip: the old recorder pipeline's conversion of the call
               frequencies from Hz to kHz (x / 1000) kept as the first line of forward, while the
               table is in kHz already and trainwell standardized it: every input is a thousand
               times smaller than the net's init expects, and the first layer's weights would have to
               grow a thousandfold. `norm` batch puts a BatchNorm1d after each hidden Linear;
               batch_nostats is BatchNorm1d(track_running_stats=False), which normalizes with the
               batch's own statistics also when evaluating (a reviewer reads a train/eval mismatch;
               a healthy run). `log_softmax` true returns log-probabilities instead of logits (a
               reviewer reads a double softmax under cross-entropy; log_softmax is idempotent under
               it: a healthy run).
rink_gru       a GRU (32) over the 24-hour window for the rink's load 1..6 hours ahead, a linear head
               on the newest step's output. `center` none is the healthy net. batch is the slip: the
               inputs centred with x - x.mean(0), meant as the window's mean (dim 1, a per-window
               level removal) but written over dim 0, the batch: training batches are shuffled
               windows from the whole training period, so the batch mean is about the same every
               step, but each evaluation batch is a run of consecutive windows of one later period,
               and centring it removes that period's own level (its warmer weather, its load) from
               every input.
flake_cnn      a CNN for the 16x16 snow-crystal images: a stem, then 3x3 conv blocks (32, 64) with
               batch norm and ReLU, a max pool after the first, the mean and the max over space and
               a linear head. `stem` plain is a 3x3 conv (16 channels, stride 1). imagenet is the
               slip: the torchvision ResNet stem (7x7 conv with stride 2, then a 3x3 max pool with
               stride 2) copied from the lab's 224 px model: the 16 px crystal is 4x4 before the first
               block, and the rime's lumps, the plate's corners and the thin end caps are gone.
               `binarize` true is another slip: (x > 0).float() as the first line, the crystal mask
               of the old pipeline (raw counts, dark background at 0) kept after trainwell's
               standardization: 'above the mean pixel' becomes the mask, and the faint caps and
               lumps, the brightness inside the crystal and its soft edges are lost.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- asphalt
class AsphaltNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, registered: bool):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers.append(nn.Linear(width, int(h)))
            width = int(h)
        # registered: an nn.ModuleList; the slip: a plain Python list nn.Module never sees
        self.hidden = nn.ModuleList(layers) if registered else layers
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        h = x.flatten(1)
        for lin in self.hidden:
            h = F.silu(lin(h))
        return self.head(h)


def asphalt_net(spec, hidden=(64, 64, 64), registered=True):
    return AsphaltNet(_n_in(spec), hidden, _n_out(spec), bool(registered))


# ----------------------------------------------------------------------------- bats
class BatsNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, to_khz: bool, norm: str, log_softmax: bool):
        super().__init__()
        self.to_khz = to_khz
        self.log_softmax = log_softmax
        layers, width = [], n_in
        for h in hidden:
            layers.append(nn.Linear(width, int(h)))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(int(h)))
            elif norm == "batch_nostats":
                layers.append(nn.BatchNorm1d(int(h), track_running_stats=False))
            layers.append(nn.ReLU())
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        x = x.flatten(1)
        if self.to_khz:
            x = x / 1000.0                        # Hz -> kHz, from the old recorder pipeline
        out = self.head(self.body(x))
        return F.log_softmax(out, dim=1) if self.log_softmax else out


def bats_net(spec, hidden=(64, 64), to_khz=False, norm="none", log_softmax=False):
    if norm not in ("none", "batch", "batch_nostats"):
        raise ValueError(f"norm: 'none', 'batch' or 'batch_nostats', got {norm!r}")
    return BatsNet(_n_in(spec), hidden, _n_out(spec), bool(to_khz), str(norm), bool(log_softmax))


# ----------------------------------------------------------------------------- rink
class RinkGRU(nn.Module):
    def __init__(self, f: int, hidden: int, n_out: int, center: str):
        super().__init__()
        self.center = center
        self.gru = nn.GRU(f, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):                        # x: (N, T, F), oldest step first
        if self.center == "batch":               # the slip: dim 0 (the batch) where the window (dim 1) was meant
            x = x - x.mean(0, keepdim=True)
        out, _ = self.gru(x)                     # (N, T, H)
        return self.head(out[:, -1])


def rink_gru(spec, hidden=32, center="none"):
    if center not in ("none", "batch"):
        raise ValueError(f"center: 'none' or 'batch', got {center!r}")
    t, f = spec.input_shape
    return RinkGRU(int(f), int(hidden), _n_out(spec), str(center))


# ----------------------------------------------------------------------------- snowflakes
class FlakeCNN(nn.Module):
    def __init__(self, c_in: int, n_out: int, stem: str, binarize: bool):
        super().__init__()
        self.binarize = binarize
        if stem == "plain":
            self.stem = nn.Sequential(nn.Conv2d(c_in, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        else:  # torchvision's ResNet stem
            self.stem = nn.Sequential(nn.Conv2d(c_in, 16, 7, stride=2, padding=3), nn.BatchNorm2d(16), nn.ReLU(),
                                      nn.MaxPool2d(3, stride=2, padding=1))
        self.features = nn.Sequential(
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.head = nn.Linear(128, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        if self.binarize:
            x = (x > 0).float()                  # 'crystal pixels are the positive ones'
        f = self.features(self.stem(x))
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))


def flake_cnn(spec, stem="plain", binarize=False):
    if stem not in ("plain", "imagenet"):
        raise ValueError(f"stem: 'plain' or 'imagenet', got {stem!r}")
    shape = list(spec.input_shape)
    c = 1 if len(shape) == 2 else int(shape[0])
    return FlakeCNN(c, _n_out(spec), str(stem), bool(binarize))
