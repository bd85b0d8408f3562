"""Custom networks of the twenty-ninth held-out set (heldout29.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h29_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

kiln_net       an MLP ([64, 64, 64], SiLU, a linear head) for the tiles' firing shrinkage.
               `spectral_norm` true is a slip: every Linear wrapped in
               torch.nn.utils.parametrizations.spectral_norm, the `SNLinear` block copied from the
               lab's GAN discriminator (where a 1-Lipschitz critic is the point): the whole net is
               then 1-Lipschitz in its standardized inputs, and the shrinkage's steep rise at the
               body's vitrification point (several target standard deviations over a fraction of an
               input standard deviation) cannot be followed. `fourier_scale` > 0 puts a periodic
               embedding in front (each standardized feature x becomes sin and cos of 2 pi f x for 8
               fixed frequencies f drawn from N(0, scale^2)); 10 is the slip, the scale of the lab's
               Fourier-feature notebook (coordinates in [0, 1], where scale 10 resolves fine
               detail): on standardized inputs (about -2..2) the features oscillate dozens of times
               across a feature's range, every tile gets an essentially random code, and the net
               memorizes its training tiles. `detach_input` true puts x = x.detach() as the first
               line of forward (a reviewer reads a detach that cuts the graph; the input needs no
               gradient, and the run is the reference's to the last digit: a healthy run).
crown_net      a prototype classifier for the tree species: an MLP embedding ([64, 64] ReLU, then 16
               dims) and one learned prototype per class; the logits are minus the squared distance
               to each prototype. `sign` positive returns the distances themselves (a reviewer reads
               a sign slip that rewards the farthest prototype; the squared norm of the embedding is
               common to every class and cancels in the softmax, what is left is a linear layer with
               a bias tied to the prototype's norm, and the run is as good: a healthy run).
               `checkpoint` true is the slip: the embedding run through
               torch.utils.checkpoint.checkpoint(self.embed, x, use_reentrant=True), activation
               checkpointing copied from the lab's large-model recipe to save memory; with the
               reentrant variant a segment whose inputs do not require grad returns an output that
               does not either (PyTorch only warns), so the embedding's weights never get a gradient
               and stay at their random start: only the prototypes learn.
tram_gru       a GRU (32) over the 24-hour window for the line's boardings 1..6 hours ahead, a linear
               head on the newest step's output. Its first lines smooth the inputs with an
               exponential moving average, s = alpha * x + (1 - alpha) * s (`ema` pandas, the
               convention of pandas' ewm(alpha=...), with alpha 0.9: a light smoothing of the
               counters' jitter). `ema` decay is the slip: the same alpha read in the convention of a
               weight EMA (s = decay * s + (1 - decay) * x, decay 0.9), a ten-hour smoothing that
               smears the rush hours, the event crowds and the newest hour into the day's average.
               `reverse_horizon` true returns the six forecasts in reverse order (a reviewer reads a
               flipped horizon; the loss compares position to position, so the head learns its rows
               in the other order: a healthy run).
pollen_cnn     a CNN for the 16x16 pollen images: its first lines subtract each image's mean (`level`
               subtract: the lamp's brightness, which drifts from slide to slide) and, in training,
               mirror the batch left-right with probability 1/2 (`flip` width: x.flip(3)); then 3x3
               conv blocks (16, 32, 32) with batch norm and ReLU, max pools after the first two, the
               mean and the max over space, a linear head. `flip` batch is a slip: x.flip(0), the line of the
               lab's notebook that mirrored one (H, W) image (axis 0 there), moved into forward, where
               dim 0 is the batch: in half the training batches the images come in reverse order
               against their labels. `level` replace is another: x = x.mean((2, 3), keepdim=True) for
               x = x - x.mean(...) (a dropped minus): every image becomes a flat field of its own
               mean brightness. `invert` true negates the input first (x = -x, the dark-field habit
               of showing grains bright on black; a reviewer reads an inverted image; the first
               convolution's weights are drawn symmetric about 0, so the net is the same up to their
               sign: a healthy run).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- kilns
class KilnNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, spectral: bool, fourier_scale: float, detach_input: bool):
        super().__init__()
        self.detach_input = detach_input
        self.fourier = fourier_scale > 0
        if self.fourier:
            g = torch.Generator().manual_seed(0)
            self.register_buffer("freq", torch.randn(n_in, 8, generator=g) * fourier_scale)
            n_in = n_in * 16
        wrap = nn.utils.parametrizations.spectral_norm if spectral else (lambda m: m)
        layers, width = [], n_in
        for h in hidden:
            layers.append(wrap(nn.Linear(width, int(h))))
            width = int(h)
        self.hidden = nn.ModuleList(layers)
        self.head = wrap(nn.Linear(width, n_out))

    def forward(self, x):
        h = x.flatten(1)
        if self.detach_input:
            h = h.detach()
        if self.fourier:                         # periodic embedding: sin and cos of 2 pi f x
            a = 2 * torch.pi * h[:, :, None] * self.freq[None]
            h = torch.cat([torch.sin(a), torch.cos(a)], dim=2).flatten(1)
        for lin in self.hidden:
            h = F.silu(lin(h))
        return self.head(h)


def kiln_net(spec, hidden=(64, 64, 64), spectral_norm=False, fourier_scale=0.0, detach_input=False):
    return KilnNet(_n_in(spec), hidden, _n_out(spec), bool(spectral_norm), float(fourier_scale), bool(detach_input))


# ----------------------------------------------------------------------------- crowns
class CrownNet(nn.Module):
    def __init__(self, n_in: int, hidden, dim: int, n_out: int, sign: str, checkpoint: bool):
        super().__init__()
        self.sign = -1.0 if sign == "negative" else 1.0
        self.checkpoint = checkpoint
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, dim))
        self.embed = nn.Sequential(*layers)
        self.prototypes = nn.Parameter(torch.randn(n_out, dim) * 0.5)

    def forward(self, x):
        x = x.flatten(1)
        if self.checkpoint:                      # 'save memory', from the large-model recipe
            z = torch.utils.checkpoint.checkpoint(self.embed, x, use_reentrant=True)
        else:
            z = self.embed(x)
        d2 = ((z[:, None, :] - self.prototypes[None]) ** 2).sum(-1)      # (N, classes)
        return self.sign * d2


def crown_net(spec, hidden=(64, 64), dim=16, sign="negative", checkpoint=False):
    if sign not in ("negative", "positive"):
        raise ValueError(f"sign: 'negative' or 'positive', got {sign!r}")
    return CrownNet(_n_in(spec), hidden, int(dim), _n_out(spec), str(sign), bool(checkpoint))


# ----------------------------------------------------------------------------- tram
class TramGRU(nn.Module):
    def __init__(self, f: int, hidden: int, n_out: int, alpha: float, ema: str, reverse_horizon: bool):
        super().__init__()
        self.alpha, self.ema, self.reverse_horizon = alpha, ema, reverse_horizon
        self.gru = nn.GRU(f, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):                        # x: (N, T, F), oldest step first
        # the weight on the new reading: alpha (pandas' ewm(alpha=...)); the slip reads alpha as a decay
        w = self.alpha if self.ema == "pandas" else 1.0 - self.alpha
        steps, s = [], x[:, 0]
        for t in range(x.shape[1]):
            s = w * x[:, t] + (1.0 - w) * s
            steps.append(s)
        out, _ = self.gru(torch.stack(steps, 1))
        y = self.head(out[:, -1])
        return y.flip(1) if self.reverse_horizon else y


def tram_gru(spec, hidden=32, alpha=0.9, ema="pandas", reverse_horizon=False):
    if ema not in ("pandas", "decay"):
        raise ValueError(f"ema: 'pandas' or 'decay', got {ema!r}")
    t, f = spec.input_shape
    return TramGRU(int(f), int(hidden), _n_out(spec), float(alpha), str(ema), bool(reverse_horizon))


# ----------------------------------------------------------------------------- pollen
class PollenCNN(nn.Module):
    def __init__(self, c_in: int, n_out: int, width: int, flip: str, level: str, invert: bool):
        super().__init__()
        self.flip, self.level, self.invert = flip, level, invert
        w = int(width)

        def block(cin, cout, pool):
            layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        self.features = nn.Sequential(*block(c_in, w, True), *block(w, 2 * w, True), *block(2 * w, 2 * w, False))
        self.head = nn.Linear(4 * w, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        if self.invert:
            x = -x                               # the dark-field habit: grains bright on black
        if self.level == "subtract":
            x = x - x.mean((2, 3), keepdim=True)            # each slide's lamp level
        elif self.level == "replace":
            x = x.mean((2, 3), keepdim=True).expand_as(x)  # the slip: the minus dropped
        if self.training and self.flip != "none" and torch.rand(()) < 0.5:
            x = x.flip(3 if self.flip == "width" else 0)   # a random mirror; the slip flips dim 0, the batch
        f = self.features(x)
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))


def pollen_cnn(spec, width=16, flip="width", level="subtract", invert=False):
    if flip not in ("width", "batch", "none"):
        raise ValueError(f"flip: 'width', 'batch' or 'none', got {flip!r}")
    if level not in ("subtract", "replace", "none"):
        raise ValueError(f"level: 'subtract', 'replace' or 'none', got {level!r}")
    shape = list(spec.input_shape)
    c = 1 if len(shape) == 2 else int(shape[0])
    return PollenCNN(c, _n_out(spec), int(width), str(flip), str(level), bool(invert))
