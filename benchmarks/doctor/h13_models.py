"""Custom networks of the thirteenth held-out set (heldout13.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h13_models:<name>`.

regressor         an encoder (Linear + ReLU layers) and a linear head, for tables. Two ways it is
                  written wrong in the set:
                  `no_grad_encoder` true runs the encoder under torch.no_grad(), as the linear-probe
                  script it was adapted from did with its pretrained encoder: here the encoder is
                  fresh, and no gradient ever reaches it, so it stays at its random init and only
                  the head learns (a linear fit on random features);
                  `init` "normal" re-initialises every parameter with nn.init.normal_(p), whose std
                  defaults to 1.0 (as TF1's tf.random_normal did): weights and biases of std 1 on
                  64-wide layers, so each layer multiplies the activations' scale by ~6 and the first
                  outputs are in the hundreds. "torch" (the default) keeps PyTorch's own init.
keras_classifier  Dense layers ported from a Keras classifier whose last layer was
                  Dense(k, activation="softmax"): `output` softmax keeps that nn.Softmax, so
                  trainwell's cross-entropy applies a second softmax to probabilities. The scores
                  then lie in [0, 1], the loss cannot go under log(1 + (k-1)/e) (0.905 for five
                  classes), yet the ranking of the classes, and so the accuracy, is unharmed.
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out


def _stack(n_in: int, hidden) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        width = int(h)
    return nn.Sequential(*layers), width


class Regressor(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, no_grad_encoder: bool):
        super().__init__()
        self.encoder, width = _stack(n_in, hidden)
        self.head = nn.Linear(width, n_out)
        self.no_grad_encoder = no_grad_encoder

    def forward(self, x):
        x = x.flatten(1)
        if self.no_grad_encoder:
            with torch.no_grad():        # from the linear-probe script: its encoder was pretrained and frozen
                h = self.encoder(x)
        else:
            h = self.encoder(x)
        return self.head(h)


def regressor(spec, hidden=(64, 64), no_grad_encoder=False, init="torch"):
    net = Regressor(_n_in(spec), hidden, _n_out(spec), bool(no_grad_encoder))
    if init == "normal":
        for p in net.parameters():
            nn.init.normal_(p)           # std defaults to 1.0
    elif init != "torch":
        raise ValueError(f"init: 'torch' or 'normal', got {init!r}")
    return net


def keras_classifier(spec, hidden=(64, 64), output=None):
    body, width = _stack(_n_in(spec), hidden)
    layers: list[nn.Module] = [nn.Flatten(), *body, nn.Linear(width, _n_out(spec))]
    if output == "softmax":
        layers.append(nn.Softmax(dim=1))
    elif output is not None:
        raise ValueError(f"output: None or 'softmax', got {output!r}")
    return nn.Sequential(*layers)
