"""Custom networks of the twenty-second held-out set (heldout22.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h22_models:<name>`. The default options build the healthy
net; each option named below reproduces one slip a practitioner could make.

snow_net       a ReZero residual MLP for the snowmaking nights: a linear stem (the residual stream,
               width 64), two residual blocks h + a_i * W2 relu(W1 h) whose gates a_i start at 0
               (ReZero: every block starts as the identity and opens as it learns), and a linear
               head. `gate` "param" makes each a_i an nn.Parameter; "buffer" registers it with
               register_buffer (a slip when moving the gate to a buffer 'so that it is saved with
               the state dict'): the gates are never trained and stay 0, the blocks never open, and
               the whole net is the stem and the head, one linear map of the inputs. `spectral`
               true wraps every layer in spectral normalization (copied from a GAN critic); tried
               for the set, it did no harm (r2 0.758 against 0.758 on seed 0) and heldout22.yaml
               does not use it.
timber_net     an MLP (ReLU [64, 64]) for the log grades, a linear head whose raw scores go to
               trainwell's cross-entropy. `round_inputs` true rounds the inputs with torch.round
               ('the grader reads whole centimetres and whole knots'), but the inputs are
               standardized: every measurement is cut to levels one standard deviation apart.
               Options tried for the set and not used by heldout22.yaml: `temperature` (the scores
               divided by it; 50, 'left from a distillation script', did no harm: accuracy 0.748
               against 0.743 on seed 0, Adam simply grew the weights) and `columns` (the input
               columns the net reads, by name; a list with the old scanner's name top_diam_cm for
               small_end_diam_cm silently drops the diameter: 0.595 against 0.743 on seed 0, left
               out for round_inputs, the timber's one custom fault).
carpark_net    an MLP forecaster over the flattened window (N, T, F): every hidden layer built by
               one helper as Linear -> ReLU -> Dropout(p) (p 0.3), then a linear head for the 1..6
               hours (`outputs` "horizon"). `outputs` 1 gives the head one output and broadcasts
               it with expand to the six hours (a one-step model made to pass the shape check):
               the forecast is the same number for every hour ahead. `head_dropout` true passes the head's output through the helper's Dropout too
               (the same block for every layer, the last included): the forecast of a training
               batch is randomly zeroed and scaled by 1 / (1 - p), and the squared loss is least
               when the net forecasts (1 - p) times the target, which it then does at test time,
               when dropout is off.
trap_cnn       a CNN for the sticky-trap patches: three 3x3 conv blocks (16, 32, 32) with batch
               norm and ReLU, max pools after the first two, a global mean and a linear head.
               `clamp` true first clamps the input to [0, 1] ('pixels live in [0, 1]'), but
               trainwell hands the net images standardized per channel (the card about 0, a dark
               insect about -2 to -4), so everything darker than the average pixel, every aphid,
               thrips and fungus gnat, is cut to 0 (and the brightest whitefly to 1).
               `bn_momentum` is passed to every nn.BatchNorm2d: PyTorch's 0.1 (the running
               statistics keep 90% of their past at each batch); 0.99 is Keras's default copied
               into PyTorch, where it means the opposite: keep 1%, so the running statistics used
               at evaluation are nearly those of the last training batch alone. Tried for the set,
               0.99 did no harm on these patches (accuracy 0.980 against 1.000 on seed 0) and
               heldout22.yaml does not use it.
espresso_net   a GRU classifier (batch_first, 48 units) for the espresso shots (N, T, F), a linear
               head on the last step. `stride` k > 1 reads x[:, ::k] ('every k-th sample is
               enough for a 25-second shot, and k times faster'): with k = 4 the 1.5 Hz log becomes
               one sample every 2.7 s, which misses most of the 1-2 s collapses of a channeling
               shot and aliases the temperature's 2-3.5 s swing. `stateful` true starts each batch
               from the previous batch's final states (Keras's stateful=True habit); tried for the
               set, it did no harm (accuracy 1.000/1.000) and heldout22.yaml does not use it.
notes_bag      an embedding-bag classifier for the courier notes: token embeddings (width 32), the
               mean over the real tokens (padding masked out), a ReLU layer of 64 and a linear head.
               `buckets` 0 embeds each token id; k > 0 hashes the ids into k rows (ids % k, the
               'hashing trick' to bound memory), and with k = 8 the ~240 tokens of the notes share
               8 vectors, so 'dented', 'gate' and 'porch' may be one token.
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


# ----------------------------------------------------------------------------- snowguns
class SnowNet(nn.Module):
    def __init__(self, n_in: int, width: int, blocks: int, gate: str, spectral: bool = False):
        super().__init__()
        if gate not in ("param", "buffer"):
            raise ValueError(f"gate: 'param' or 'buffer', got {gate!r}")
        sn = nn.utils.parametrizations.spectral_norm if spectral else (lambda m: m)
        self.stem = sn(nn.Linear(n_in, width))
        self.blocks = nn.ModuleList(nn.Sequential(sn(nn.Linear(width, width)), nn.ReLU(), sn(nn.Linear(width, width)))
                                    for _ in range(blocks))
        if gate == "param":
            self.gates = nn.Parameter(torch.zeros(blocks))
        else:
            self.register_buffer("gates", torch.zeros(blocks))
        self.head = sn(nn.Linear(width, 1))

    def forward(self, x):
        h = self.stem(x.flatten(1))
        for i, block in enumerate(self.blocks):
            h = h + self.gates[i] * block(h)
        return self.head(h)


def snow_net(spec, width=64, blocks=2, gate="param", spectral=False):
    return SnowNet(_n_in(spec), int(width), int(blocks), gate, bool(spectral))


# ----------------------------------------------------------------------------- timber
class TimberNet(nn.Module):
    def __init__(self, n_in: int, idx, hidden, n_out: int, temperature: float):
        super().__init__()
        self.register_buffer("idx", torch.as_tensor(list(idx), dtype=torch.long))
        layers, width = [], len(idx)
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, n_out))
        self.mlp = nn.Sequential(*layers)
        self.temperature = float(temperature)
        self.round = False

    def forward(self, x):
        x = x.flatten(1)[:, self.idx]
        if self.round:
            x = torch.round(x)
        return self.mlp(x) / self.temperature


def timber_net(spec, hidden=(64, 64), columns=None, temperature=1.0, round_inputs=False):
    if float(temperature) <= 0:
        raise ValueError(f"temperature: a positive number, got {temperature!r}")
    names = list(spec.feature_names)
    if columns is None:
        idx = list(range(len(names)))
    else:  # the columns the net reads; a one-hot column counts under its source's name (species_oak)
        idx = [i for i, c in enumerate(names) if any(c == w or c.startswith(f"{w}_") for w in columns)]
        if not idx:
            raise ValueError(f"columns: none of {columns!r} is among {names}")
    net = TimberNet(_n_in(spec), idx, hidden, _n_out(spec), temperature)
    net.round = bool(round_inputs)
    return net


# ----------------------------------------------------------------------------- carpark
def _dense(n_in: int, n_out: int, p: float) -> list[nn.Module]:
    return [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(p)]


class CarparkNet(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_out: int, p: float, head_dropout: bool, outputs: int):
        super().__init__()
        self.n_out = n_out
        layers = _dense(n_in, hidden, p) + _dense(hidden, hidden, p) + [nn.Linear(hidden, outputs)]
        if head_dropout:
            layers.append(nn.Dropout(p))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x):                        # x: (N, T, F)
        y = self.mlp(x.flatten(1))
        return y.expand(-1, self.n_out) if y.shape[1] == 1 else y


def carpark_net(spec, hidden=128, dropout=0.3, head_dropout=False, outputs="horizon"):
    n_out = _n_out(spec)
    if outputs not in ("horizon", 1):
        raise ValueError(f"outputs: 'horizon' (one per hour ahead) or 1, got {outputs!r}")
    return CarparkNet(_n_in(spec), int(hidden), n_out, float(dropout), bool(head_dropout),
                      n_out if outputs == "horizon" else 1)


# ----------------------------------------------------------------------------- traps
class TrapCNN(nn.Module):
    def __init__(self, c_in: int, channels, n_out: int, clamp: bool, bn_momentum: float):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        m = float(bn_momentum)
        self.clamp = bool(clamp)
        self.features = nn.Sequential(
            nn.Conv2d(c_in, c1, 3, padding=1), nn.BatchNorm2d(c1, momentum=m), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2, momentum=m), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3, momentum=m), nn.ReLU())
        self.head = nn.Linear(c3, n_out)

    def forward(self, x):                        # x: (N, C, H, W)
        if self.clamp:
            x = x.clamp(0.0, 1.0)
        return self.head(self.features(x).mean((2, 3)))


def trap_cnn(spec, channels=(16, 32, 32), clamp=False, bn_momentum=0.1):
    shape = list(spec.input_shape)
    c_in = 1 if len(shape) == 2 else int(shape[0])
    return TrapCNN(c_in, channels, _n_out(spec), clamp, bn_momentum)


# ----------------------------------------------------------------------------- espresso
class EspressoNet(nn.Module):
    def __init__(self, f: int, hidden: int, n_out: int, stride: int, stateful: bool = False):
        super().__init__()
        if stride < 1:
            raise ValueError(f"stride: an integer >= 1, got {stride!r}")
        self.stride, self.stateful = int(stride), bool(stateful)
        self.gru = nn.GRU(f, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)
        self._h = None

    def forward(self, x):                        # x: (N, T, F)
        h0 = None
        if self.stateful and self._h is not None:   # the last batch's final states start this batch
            prev = self._h
            reps = -(-x.shape[0] // prev.shape[1])
            h0 = prev.repeat(1, reps, 1)[:, :x.shape[0]].contiguous()
        out, h = self.gru(x[:, ::self.stride], h0)
        if self.stateful:
            self._h = h.detach()
        return self.head(out[:, -1])


def espresso_net(spec, hidden=48, stride=1, stateful=False):
    t, f = spec.input_shape
    return EspressoNet(int(f), int(hidden), _n_out(spec), int(stride), bool(stateful))


# ----------------------------------------------------------------------------- notes
class NotesBag(nn.Module):
    def __init__(self, vocab: int, dim: int, hidden: int, n_out: int, buckets: int):
        super().__init__()
        self.buckets = int(buckets)
        self.embed = nn.Embedding(self.buckets if self.buckets > 0 else vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, ids):                      # ids: (N, L), 0 = padding
        ids = ids.long()
        keep = (ids != 0).float().unsqueeze(-1)
        rows = ids % self.buckets if self.buckets > 0 else ids
        e = self.embed(rows) * keep
        return self.mlp(e.sum(1) / keep.sum(1).clamp(min=1.0))


def notes_bag(spec, dim=32, hidden=64, buckets=0):
    if int(buckets) < 0:
        raise ValueError(f"buckets: 0 (no hashing) or a positive number of rows, got {buckets!r}")
    return NotesBag(int(spec.vocab_size), int(dim), int(hidden), _n_out(spec), int(buckets))
