"""Custom networks of the fourteenth held-out set (heldout14.yaml), for model.type: python.

Each builder is called by trainwell as `function(spec, **model.options)` and returns an nn.Module
that emits raw scores. Run the suite from the repository root: trainwell imports a builder from the
working directory, as `benchmarks.doctor.h14_models:<name>`.

regressor        an MLP regressor for tables (Linear + ReLU layers, a linear head). One way it is
                 written wrong in the set: `unscale` [mean, std] multiplies the output by std and
                 adds mean, "so that the model returns euros", as the serving wrapper it was copied
                 from did; trainwell already standardizes the target while training (and turns
                 predictions back into its units), so the net must now shrink its output ~10,000-fold
                 and its first errors are thousands of standard deviations.
wafer_cnn        two conv blocks (conv 3x3, batch norm, ReLU, max pool) and a linear head, for
                 images. `container` "list" keeps the blocks in a plain Python list instead of an
                 nn.ModuleList (the refactor that turned a loop of `self.add_module` into a list):
                 their parameters are then not the module's, so no optimizer ever sees them, and
                 trainwell's init and the doctor's probes do not either; the convolutions stay at
                 their random init and their batch norms in training mode, and only the head learns.
seq_classifier   an LSTM (or GRU) over (N, T, F) sequences and a linear head. `read` "last" (the
                 default) classifies from the output at the last step; "first" takes out[:, 0], the
                 habit of BERT-style models that read a [CLS] token at position 0: a one-way
                 recurrent net's first output has seen only the first step.
bag_classifier   a bag-of-embeddings text classifier: token embeddings (32) averaged over the
                 non-padding tokens, a hidden layer of 64 ReLU units and a linear head.
                 `freeze_embedding` true sets the embedding's requires_grad to False, as the GloVe
                 recipe it came from did after loading pretrained vectors; here no vectors are
                 loaded, so the net classifies from averages of fixed random vectors.
                 `embedding` false drops the embedding and feeds the token ids, as floats, straight
                 into a Linear layer (max_len -> 32), as if the ids were measurements.
classifier       an MLP classifier for tables (ReLU layers, a linear head). `temperature` divides the
                 logits (0.01 is a healthy run of the set); `negative_slope` (LeakyReLU) and `output`
                 "relu" (a ReLU on the logits) were drafts that did not make the set (see its header).
"""

from __future__ import annotations

import torch
from torch import nn

from .h12_models import _n_in, _n_out
from .h13_models import _stack


class Regressor(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, unscale):
        super().__init__()
        self.body, width = _stack(n_in, hidden)
        self.head = nn.Linear(width, n_out)
        self.unscale = None if unscale is None else (float(unscale[0]), float(unscale[1]))

    def forward(self, x):
        out = self.head(self.body(x.flatten(1)))
        if self.unscale is not None:         # from the serving wrapper: "return euros, not z-scores"
            out = out * self.unscale[1] + self.unscale[0]
        return out


def regressor(spec, hidden=(64, 64), unscale=None):
    return Regressor(_n_in(spec), hidden, _n_out(spec), unscale)


class WaferCNN(nn.Module):
    def __init__(self, input_shape, channels, head_hidden, n_out: int, container: str):
        super().__init__()
        c, h, w = input_shape
        blocks = []
        for ch in channels:
            blocks.append(nn.Sequential(nn.Conv2d(c, int(ch), 3, padding=1), nn.BatchNorm2d(int(ch)), nn.ReLU(),
                                        nn.MaxPool2d(2)))
            c, h, w = int(ch), h // 2, w // 2
        if container == "modulelist":
            self.blocks = nn.ModuleList(blocks)
        elif container == "list":
            self.blocks = blocks              # a plain list: not registered as submodules
        else:
            raise ValueError(f"container: 'modulelist' or 'list', got {container!r}")
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, int(head_hidden)), nn.ReLU())
        self.head = nn.Linear(int(head_hidden), n_out)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(self.dense(x))


def wafer_cnn(spec, channels=(16, 32), head=64, container="modulelist"):
    shape = list(spec.input_shape)
    if len(shape) == 2:
        shape = [1, *shape]
    return WaferCNN(shape, channels, head, _n_out(spec), container)


class SeqClassifier(nn.Module):
    def __init__(self, n_feat: int, hidden: int, n_out: int, cell: str, read: str):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(n_feat, int(hidden), batch_first=True)
        self.head = nn.Linear(int(hidden), n_out)
        if read not in ("last", "first"):
            raise ValueError(f"read: 'last' or 'first', got {read!r}")
        self.read = read

    def forward(self, x):
        out, _ = self.rnn(x)
        h = out[:, -1] if self.read == "last" else out[:, 0]   # "first": the [CLS] position of a BERT model
        return self.head(h)


def seq_classifier(spec, hidden=32, cell="lstm", read="last"):
    t, f = spec.input_shape
    return SeqClassifier(int(f), hidden, _n_out(spec), cell, read)


class BagClassifier(nn.Module):
    def __init__(self, vocab: int, dim: int, hidden: int, n_out: int, freeze: bool, embedding: bool = True,
                 max_len: int = 0):
        super().__init__()
        self.embedding = embedding
        if not embedding:      # the ids read as numbers by a Linear layer
            self.proj = nn.Linear(int(max_len), int(dim))
        self.emb = nn.Embedding(vocab, int(dim), padding_idx=0)
        if freeze:
            self.emb.weight.requires_grad_(False)   # from the GloVe recipe: keep the pretrained vectors
        self.body = nn.Sequential(nn.Linear(int(dim), int(hidden)), nn.ReLU())
        self.head = nn.Linear(int(hidden), n_out)

    def forward(self, ids):
        if not self.embedding:
            return self.head(self.body(torch.relu(self.proj(ids.float()))))
        mask = (ids != 0).float().unsqueeze(-1)
        e = (self.emb(ids) * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(self.body(e))


def bag_classifier(spec, dim=32, hidden=64, freeze_embedding=False, embedding=True):
    return BagClassifier(int(spec.vocab_size), dim, hidden, _n_out(spec), bool(freeze_embedding), bool(embedding),
                         int(spec.input_shape[0]))


class Classifier(nn.Module):
    def __init__(self, n_in: int, hidden, n_out: int, temperature: float, negative_slope, output):
        super().__init__()
        self.output = output
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            act = nn.ReLU() if negative_slope is None else nn.LeakyReLU(float(negative_slope))
            layers += [nn.Linear(width, int(h)), act]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)
        self.temperature = float(temperature)

    def forward(self, x):
        out = self.head(self.body(x.flatten(1))) / self.temperature
        return torch.relu(out) if self.output == "relu" else out


def classifier(spec, hidden=(64, 64), temperature=1.0, negative_slope=None, output=None):
    return Classifier(_n_in(spec), hidden, _n_out(spec), temperature, negative_slope, output)
