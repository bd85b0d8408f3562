"""Custom networks of the sixteenth held-out set (heldout16.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h16_models:<name>`.

gas_net       an MLP for the gas analyses. `log_input` true takes log(max(x, detection_limit)) of the
              input first (detection_limit 0.1 ppm), as the chemist's script did with raw ppm: the
              class is in the gas RATIOS, which a log turns into differences. That needs data.scale
              none; under trainwell's default standardization most inputs (every reading at or
              below its column's mean) are under 0.1 and are all held at log 0.1.
soil_net      an MLP regressor whose layers are built as blocks of (Linear, ReLU, Dropout).
              `dropout_first` true builds each block as (Dropout, Linear, ReLU) instead (the order
              of a pre-activation recipe), so the first dropout falls on the nine input features:
              every training row loses a random half of its measurements.
soil_resnet   a deep residual MLP: a stem, `blocks` residual blocks x + W2 relu(W1 x) and a head.
              Each block's W2 starts at exactly zero (the zero-init residual trick), so the net
              starts as a shallow one and 16 blocks need no normalisation; trainwell's model.init
              auto and default keep a builder's own init, a named scheme re-draws it.
stroke_cell   a GRU read step by step (nn.GRUCell in a Python loop, as a streaming recogniser is
              written) with a linear head on the last state. `detach_every` k > 0 detaches the
              hidden state every k steps (truncated back-propagation through time, copied from a
              stateful language-model script): with k 1 no gradient crosses a single step.
              `inorm_dim` normalises each recording on its own before reading it: 1 (time) gives
              each channel of each recording mean 0 and sd 1 over its 40 steps; -1 normalises the
              three channels (dx, dy, pressure) of every STEP against one another (the wrong axis).
call_cnn      two conv blocks (conv 3x3, batch norm, ReLU, max pool 2) and a third conv, a global
              average pool and a linear head, for (N, 1, F, T) spectrograms. `pool_dims` (2, 3)
              averages over frequency and time; (1, 2) is Keras' GlobalAveragePooling2D axes
              written for channels-last (N, H, W, C) tensors: on PyTorch's (N, C, H, W) it averages
              over the channels and the FREQUENCY axis and keeps time (the head's width comes from
              a dummy pass, so it runs).
triage_bag    a bag of embeddings for text: nn.Embedding(vocab, 64, padding_idx=0) (token 0 is
              padding; its row is held at zero), a masked mean over the message, ReLU [64] and a
              linear head. `pool_mask` "tokens" averages the real tokens; "key_padding" reuses the
              mask the author built for a transformer's src_key_padding_mask (PyTorch's convention:
              True where there is NO token) as the weights of the mean, so every message is
              summarised by its padding positions, which are all zero.
air_gru       a GRU forecaster (last state -> linear head, one output per horizon step) with
              reversible instance normalisation (RevIN): `revin` "full" normalises each window by
              its own mean and sd, and puts the target column's back on the forecast; "norm_only"
              forgets that last step, so the forecast has lost the window's level; "off" reads the
              window as given. `target_index` is the target's column among the inputs (pm25 is
              the first of the air station's columns).
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


class GasNet(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, log_input: bool, floor: float):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        self.log_input = log_input
        self.floor = float(floor)

    def forward(self, x):
        if self.log_input:   # ppm -> log ppm, readings under the detection limit held at it (the chemist's script)
            x = torch.log(x.clamp(min=self.floor))
        return self.head(self.body(x))


def gas_net(spec, hidden=(64, 64), log_input=False, detection_limit=0.1):
    return GasNet(_n_in(spec), hidden, _n_out(spec), bool(log_input), detection_limit)


def soil_net(spec, hidden=(128, 128), dropout=0.3, dropout_first=False):
    layers: list[nn.Module] = [nn.Flatten()]
    width = _n_in(spec)
    for h in hidden:
        block = [nn.Linear(width, int(h)), nn.ReLU(), nn.Dropout(float(dropout))]
        if dropout_first:
            block = [block[2], block[0], block[1]]
        layers += block
        width = int(h)
    layers.append(nn.Linear(width, _n_out(spec)))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    def __init__(self, width: int, zero_init: bool):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        if zero_init:
            nn.init.zeros_(self.fc2.weight)
            nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(x)))


class SoilResNet(nn.Module):
    def __init__(self, n_in: int, width: int, blocks: int, n_out: int, zero_init: bool):
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResBlock(width, zero_init) for _ in range(blocks)])
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(torch.relu(self.blocks(self.stem(x.flatten(1)))))


def soil_resnet(spec, width=64, blocks=16, zero_init=True):
    return SoilResNet(_n_in(spec), int(width), int(blocks), _n_out(spec), bool(zero_init))


class StrokeCell(nn.Module):
    def __init__(self, n_feat: int, hidden: int, n_out: int, detach_every: int, inorm_dim):
        super().__init__()
        self.cell = nn.GRUCell(n_feat, hidden)
        self.head = nn.Linear(hidden, n_out)
        self.hidden = hidden
        self.detach_every = int(detach_every)
        self.inorm_dim = None if inorm_dim is None else int(inorm_dim)

    def forward(self, x):                      # x: (N, T, F)
        if self.inorm_dim is not None:
            mu = x.mean(self.inorm_dim, keepdim=True)
            sd = x.std(self.inorm_dim, keepdim=True) + 1e-5
            x = (x - mu) / sd
        h = x.new_zeros(x.shape[0], self.hidden)
        for t in range(x.shape[1]):
            if self.detach_every and t % self.detach_every == 0:
                h = h.detach()                 # truncated BPTT, from a stateful language-model script
            h = self.cell(x[:, t], h)
        return self.head(h)


def stroke_cell(spec, hidden=32, detach_every=0, inorm_dim=None):
    t, f = spec.input_shape
    return StrokeCell(int(f), int(hidden), _n_out(spec), detach_every, inorm_dim)


class CallCNN(nn.Module):
    def __init__(self, input_shape, channels, n_out: int, pool_dims, input_dropout: float):
        super().__init__()
        c = input_shape[0]
        layers: list[nn.Module] = [nn.Dropout2d(float(input_dropout))] if input_dropout else []
        for ch in channels:
            layers += [nn.Conv2d(c, int(ch), 3, padding=1), nn.BatchNorm2d(int(ch)), nn.ReLU(), nn.MaxPool2d(2)]
            c = int(ch)
        layers += [nn.Conv2d(c, c, 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool_dims = tuple(int(d) for d in pool_dims)
        with torch.no_grad():   # the head's width from a dummy pass
            width = self.features(torch.zeros(2, *input_shape)).mean(self.pool_dims).flatten(1).shape[1]
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(self.features(x).mean(self.pool_dims).flatten(1))


def call_cnn(spec, channels=(16, 32), pool_dims=(2, 3), input_dropout=0.0):
    shape = list(spec.input_shape)
    if len(shape) == 2:
        shape = [1, *shape]
    return CallCNN(shape, channels, _n_out(spec), pool_dims, input_dropout)


class TriageBag(nn.Module):
    def __init__(self, vocab: int, d_model: int, hidden: int, n_out: int, pool_mask: str):
        super().__init__()
        if pool_mask not in ("tokens", "key_padding"):
            raise ValueError(f"pool_mask: 'tokens' or 'key_padding', got {pool_mask!r}")
        self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
        self.body = nn.Sequential(nn.Linear(d_model, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_out)
        self.pool_mask = pool_mask

    def forward(self, ids):                     # ids: (N, L) token ids, 0 = padding
        ids = ids.long()
        key_padding_mask = ids == 0             # PyTorch's convention: True where there is NO token
        keep = ~key_padding_mask if self.pool_mask == "tokens" else key_padding_mask
        w = keep.unsqueeze(-1).float()
        pooled = (self.embed(ids) * w).sum(1) / w.sum(1).clamp(min=1.0)
        return self.head(self.body(pooled))


def triage_bag(spec, d_model=64, hidden=64, pool_mask="tokens"):
    return TriageBag(int(spec.vocab_size), int(d_model), int(hidden), _n_out(spec), pool_mask)


class AirGRU(nn.Module):
    def __init__(self, n_feat: int, hidden: int, n_out: int, revin: str, target_index: int):
        super().__init__()
        if revin not in ("off", "full", "norm_only"):
            raise ValueError(f"revin: 'off', 'full' or 'norm_only', got {revin!r}")
        self.gru = nn.GRU(n_feat, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)
        self.revin = revin
        self.target_index = int(target_index)

    def forward(self, x):                      # x: (N, T, F)
        if self.revin != "off":
            mu = x.mean(1, keepdim=True)
            sd = x.std(1, keepdim=True) + 1e-3
            x = (x - mu) / sd
        out, _ = self.gru(x)
        y = self.head(out[:, -1])
        if self.revin == "full":               # put the target column's level and spread back
            j = self.target_index
            y = y * sd[:, 0, j:j + 1] + mu[:, 0, j:j + 1]
        return y


def air_gru(spec, hidden=32, revin="off", target_index=0):
    t, f = spec.input_shape
    return AirGRU(int(f), int(hidden), _n_out(spec), revin, target_index)
