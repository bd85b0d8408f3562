"""Custom networks of the twelfth held-out set (heldout12.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h12_models:<name>`.

gru_classifier   a GRU over (N, T, F) sequences, read at its last output step. `batch_first`
                 false is the classic slip: PyTorch's nn.GRU defaults to (T, N, F), so the batch
                 axis is read as time and the time axis as the batch, and `out[:, -1]` then holds,
                 for each sequence, a state that ran over the LAST step of every earlier sequence in
                 the batch. The shapes all fit, nothing fails, and the net learns next to nothing.
residual_mlp     a ResNet-style MLP: an input layer, `blocks` residual blocks x + W2 relu(W1 x)
                 and a linear head; `norm` none, layer (pre-norm LayerNorm in each block and before
                 the head) or batch. Without normalization each block adds its branch's variance to
                 the stream: at PyTorch's default init a branch carries ~1/18 of its input's variance
                 (fine), under He init (model.init.weight he_normal, 'right for ReLU') a whole copy,
                 so the stream's variance doubles per block.
keras_dense      Dense layers ported from a Keras model: `activation` defaults to None as Keras's
                 Dense(units) does, so a port that leaves it out stacks linear layers: the whole
                 network is one linear map however many layers it has. `output` log_softmax ends it
                 in nn.LogSoftmax, as a PyTorch tutorial's classifier written for NLLLoss does.
"""

from __future__ import annotations

import torch
from torch import nn


def _n_out(spec) -> int:
    # trainwell's binary loss (bce) reads one logit; spec.n_outputs counts the two classes.
    return 1 if spec.task == "binary" else spec.n_outputs


def _n_in(spec) -> int:
    n = 1
    for d in (spec.input_shape or [spec.n_features]):
        n *= d
    return n


class GRUClassifier(nn.Module):
    def __init__(self, n_features: int, hidden: int, n_out: int, batch_first: bool):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, batch_first=batch_first)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def gru_classifier(spec, hidden=32, batch_first=True):
    return GRUClassifier(spec.input_shape[-1], hidden, _n_out(spec), bool(batch_first))


class ResidualBlock(nn.Module):
    def __init__(self, width: int, norm: str):
        super().__init__()
        self.norm = {"none": nn.Identity, "layer": nn.LayerNorm, "batch": nn.BatchNorm1d}[norm](
            *([] if norm == "none" else [width]))
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


class ResidualMLP(nn.Module):
    def __init__(self, n_in: int, width: int, blocks: int, n_out: int, norm: str):
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width, norm) for _ in range(blocks)])
        self.final_norm = nn.LayerNorm(width) if norm == "layer" else nn.Identity()
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        h = self.blocks(self.stem(x.flatten(1)))
        return self.head(torch.relu(self.final_norm(h)))


def residual_mlp(spec, width=64, blocks=16, norm="none"):
    return ResidualMLP(_n_in(spec), int(width), int(blocks), _n_out(spec), str(norm))


ACTIVATIONS = {None: None, "none": None, "linear": None, "relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


def keras_dense(spec, hidden=(128, 128), activation=None, output=None):
    """Dense layers as Keras builds them: Dense(units, activation=None) is linear unless told. output
    log_softmax ends the net in nn.LogSoftmax (a PyTorch tutorial's classifier, written for NLLLoss)."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = _n_in(spec)
    act = ACTIVATIONS[activation]
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if act is not None:
            layers.append(act())
        width = h
    layers.append(nn.Linear(width, _n_out(spec)))
    if output == "log_softmax":
        layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers)
