"""Custom networks of the fifteenth held-out set (heldout15.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h15_models:<name>`.

classifier       an MLP classifier for tables (Linear + ReLU layers, a linear head). `softmax_dim` 0
                 ends the network in nn.Softmax(dim=0), copied from an example that scored one
                 unbatched vector at a time, where dim 0 was the class axis: on a batch it
                 normalises every class column over the ROWS of the batch, so each output is ~1/batch
                 and the loss (which applies its own softmax over the classes) sees nearly equal
                 scores whatever the weights do. `softmax_dim` null (the default): raw scores.
regressor        an MLP regressor for tables with dropout between its layers. `dropout_impl`
                 "module" uses nn.Dropout (off in eval mode); "functional" calls
                 torch.nn.functional.dropout(x, p), whose `training` argument defaults to True, so
                 the dropout stays on when the model is evaluated and every prediction (validation,
                 test, serving) is made by a random half-network. `zero_head` true starts the head at
                 zero weights (a common trick for residual nets; a healthy run of the set).
quake_conv       a 1-D CNN for (N, T, F) sequences: Conv1d blocks (conv, ReLU, max pool), a global
                 average over time and a linear head. Conv1d reads (N, channels, T), so the input
                 must be turned around. `to_channels` "transpose" does x.transpose(1, 2);
                 "reshape" does x.reshape(N, F, T) (the view bug): the numbers are read in their
                 memory order, so each "channel" is a third of the record with the three components
                 interleaved sample by sample (a draft that missed the set's 3-point bar, see its
                 header). `pool_dim` 1 averages over the channels instead of time (.mean(1) for
                 .mean(-1); the head's width comes from a dummy pass, so it runs): also a draft.
galaxy_cnn       three conv blocks (conv 3x3, ReLU, max pool after the first two) and a linear head,
                 for images, without batch norm by default. `input_scale` 255 divides the input by
                 255 first, as the training script it came from did with raw uint8 pixels;
                 trainwell already normalises the images (mean 0, sd 1 per channel), so the first
                 layer then reads inputs of sd ~0.004. `batch_norm` true adds batch norm after each
                 convolution (a healthy run of the set: the first one undoes the 1/255).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .h12_models import _n_in, _n_out
from .h13_models import _stack


class Classifier(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, softmax_dim):
        super().__init__()
        self.body, width = _stack(n_in, hidden)
        self.head = nn.Linear(width, n_out)
        self.out = nn.Identity() if softmax_dim is None else nn.Softmax(dim=int(softmax_dim))

    def forward(self, x):
        return self.out(self.head(self.body(x.flatten(1))))


def classifier(spec, hidden=(64, 64), softmax_dim=None):
    return Classifier(_n_in(spec), hidden, _n_out(spec), softmax_dim)


class Regressor(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, p: float, impl: str, zero_head: bool):
        super().__init__()
        if impl not in ("module", "functional"):
            raise ValueError(f"dropout_impl: 'module' or 'functional', got {impl!r}")
        self.layers = nn.ModuleList()
        width = n_in
        for h in hidden:
            self.layers.append(nn.Linear(width, int(h)))
            width = int(h)
        self.drop = nn.Dropout(p)
        self.p = float(p)
        self.impl = impl
        self.head = nn.Linear(width, n_out)
        if zero_head:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.layers:
            x = torch.relu(layer(x))
            x = self.drop(x) if self.impl == "module" else F.dropout(x, self.p)   # training=True by default
        return self.head(x)


def regressor(spec, hidden=(128, 128), dropout=0.2, dropout_impl="module", zero_head=False):
    return Regressor(_n_in(spec), hidden, _n_out(spec), dropout, dropout_impl, bool(zero_head))


class QuakeConv(nn.Module):
    def __init__(self, n_feat: int, steps: int, channels, kernel: int, n_out: int, to_channels: str, pool_dim: int):
        super().__init__()
        if to_channels not in ("transpose", "reshape"):
            raise ValueError(f"to_channels: 'transpose' or 'reshape', got {to_channels!r}")
        if pool_dim not in (1, 2, -1):
            raise ValueError(f"pool_dim: 2 (time) or 1 (channels), got {pool_dim!r}")
        self.to_channels = to_channels
        self.pool_dim = int(pool_dim)
        blocks: list[nn.Module] = []
        c = n_feat
        for ch in channels:
            blocks += [nn.Conv1d(c, int(ch), int(kernel), padding=int(kernel) // 2), nn.ReLU(), nn.MaxPool1d(2)]
            c = int(ch)
        self.blocks = nn.Sequential(*blocks)
        with torch.no_grad():   # the head's width from a dummy pass, as the script did
            width = self.blocks(torch.zeros(1, n_feat, steps)).mean(self.pool_dim).shape[-1]
        self.head = nn.Linear(width, n_out)

    def forward(self, x):                      # x: (N, T, F)
        n, t, f = x.shape
        x = x.transpose(1, 2) if self.to_channels == "transpose" else x.reshape(n, f, t)
        return self.head(self.blocks(x).mean(self.pool_dim))


def quake_conv(spec, channels=(32, 32, 32), kernel=5, to_channels="transpose", pool_dim=-1):
    t, f = spec.input_shape
    return QuakeConv(int(f), int(t), channels, kernel, _n_out(spec), to_channels, pool_dim)


class GalaxyCNN(nn.Module):
    def __init__(self, input_shape, channels, n_out: int, input_scale: float, batch_norm: bool):
        super().__init__()
        c, h, w = input_shape
        self.input_scale = float(input_scale)
        blocks: list[nn.Module] = []
        for i, ch in enumerate(channels):
            blocks.append(nn.Conv2d(c, int(ch), 3, padding=1))
            if batch_norm:
                blocks.append(nn.BatchNorm2d(int(ch)))
            blocks.append(nn.ReLU())
            if i < len(channels) - 1:
                blocks.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            c = int(ch)
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(c * h * w, n_out)

    def forward(self, x):
        x = x / self.input_scale           # 255: "pixels to [0, 1]", from a script that read raw uint8
        return self.head(self.features(x).flatten(1))


def galaxy_cnn(spec, channels=(16, 32, 32), input_scale=1.0, batch_norm=False):
    shape = list(spec.input_shape)
    if len(shape) == 2:
        shape = [1, *shape]
    return GalaxyCNN(shape, channels, _n_out(spec), input_scale, bool(batch_norm))
