"""A custom network's wiring read at its init (doctor/wiring.py): layers no optimizer sees, weights
frozen at random, steps the output never reads, token ids fed as numbers, outputs off the target's
scale; and a constant init that leaves every weight without a gradient. Real networks, one pass."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

import trainwell
from trainwell.doctor import rules

from pretraining import context as _context, found as _found

NETS = '''
import torch
from torch import nn


def _out(spec):
    return 1 if spec.task == "binary" else spec.n_outputs   # trainwell's bce reads one logit


class Blocks(nn.Module):
    def __init__(self, n_in, n_out, container):
        super().__init__()
        blocks = [nn.Sequential(nn.Linear(n_in, 16), nn.ReLU()), nn.Sequential(nn.Linear(16, 16), nn.ReLU())]
        self.blocks = nn.ModuleList(blocks) if container == "modulelist" else blocks
        self.head = nn.Linear(16, n_out)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x)


def blocks(spec, container="modulelist"):
    return Blocks(spec.n_features, _out(spec), container)


class Seq(nn.Module):
    def __init__(self, f, n_out, read):
        super().__init__()
        self.rnn, self.head, self.read = nn.GRU(f, 8, batch_first=True), nn.Linear(8, n_out), read

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, 0] if self.read == "first" else out[:, -1])


class Gated(nn.Module):
    """The last step as it is, plus a gate that starts at zero times an MLP over the whole window
    (a residual over persistence): at init only the last step reaches the output."""

    def __init__(self, steps, f, n_out):
        super().__init__()
        self.last = nn.Linear(f, n_out)
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(steps * f, 16), nn.ReLU(), nn.Linear(16, n_out))
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.last(x[:, -1]) + self.gate * self.mlp(x)


class Masked(Seq):
    """Reads the sequence through a frozen 0/1 mask that keeps its last 3 steps."""

    def __init__(self, steps, f, n_out):
        super().__init__(f, n_out, "last")
        mask = torch.zeros(steps)
        mask[-3:] = 1.0
        self.mask = nn.Parameter(mask, requires_grad=False)

    def forward(self, x):
        return super().forward(x * self.mask[None, :, None])


def seq(spec, read="last", zero_head=False, gated=False, masked=False):
    if gated:
        return Gated(spec.input_shape[0], spec.input_shape[1], _out(spec))
    if masked:
        return Masked(spec.input_shape[0], spec.input_shape[1], _out(spec))
    net = Seq(spec.input_shape[1], _out(spec), read)
    if zero_head:   # a common start for a head: no step reaches the output yet, and that is fine
        nn.init.zeros_(net.head.weight)
        nn.init.zeros_(net.head.bias)
    return net


class _Flip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -g


class Reversed(nn.Module):
    """An MLP with a gradient-reversal layer between its body and its head when `reverse`."""

    def __init__(self, n_in, n_out, reverse):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.head, self.reverse = nn.Linear(16, n_out), reverse

    def forward(self, x):
        h = self.body(x)
        if self.reverse == "straight_through":   # rounded forward, identity backward: meant so
            h = h + (torch.round(h * 10) / 10 - h).detach()
        return self.head(_Flip.apply(h) if self.reverse is True else h)


def reversed_mlp(spec, reverse=False):
    return Reversed(spec.n_features, _out(spec), reverse)


class Listed(nn.Module):
    def __init__(self, n_in, n_out, hidden, act):
        super().__init__()
        act = {"tanh": nn.Tanh}.get(act, act)
        self.layers, width = [], n_in   # a plain list: not registered
        for h in hidden:
            self.layers += [nn.Linear(width, h), act()]
            width = h
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def listed(spec, hidden=(), act=nn.ReLU):
    return Listed(spec.n_features, _out(spec), hidden, act)


class Bag(nn.Module):
    def __init__(self, vocab, length, n_out, freeze, embedding, loaded):
        super().__init__()
        self.embedding = embedding
        self.emb = nn.Embedding(vocab, 8, padding_idx=0)
        if loaded:   # vectors from a file: the same whatever the seed
            with torch.no_grad():
                self.emb.weight.copy_(torch.linspace(-1, 1, vocab * 8).reshape(vocab, 8))
        if freeze:
            self.emb.weight.requires_grad_(False)
        self.proj = nn.Linear(length, 8)
        self.head = nn.Linear(8, n_out)

    def forward(self, ids):
        if not self.embedding:
            return self.head(torch.relu(self.proj(ids.float())))
        return self.head(self.emb(ids).mean(1))


def bag(spec, freeze=False, embedding=True, loaded=False):
    return Bag(spec.vocab_size, spec.input_shape[0], _out(spec), freeze, embedding, loaded)


class Reg(nn.Module):   # `start`: the output bias started there (the target's mean in its own units)
    def __init__(self, n_in, unscale, start):
        super().__init__()
        self.net, self.unscale = nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, 1)), unscale
        nn.init.constant_(self.net[2].bias, start)

    def forward(self, x):
        out = self.net(x)
        return out * 80.0 + 150.0 if self.unscale else out


def reg(spec, unscale=False, start=0.0):
    return Reg(spec.n_features, unscale, start)


class Head(nn.Module):
    def __init__(self, n_in, n_out, dropout, softmax_dim):
        super().__init__()
        self.body, self.head = nn.Linear(n_in, 16), nn.Linear(16, n_out)
        self.dropout, self.softmax_dim = dropout, softmax_dim
        self.bn = nn.BatchNorm1d(16)   # in eval mode it reads its running statistics: rows stay apart

    def forward(self, x):
        x = self.bn(torch.relu(self.body(x)))
        if self.dropout == "functional":
            x = torch.nn.functional.dropout(x, 0.5)   # training=True whatever the module's mode
        out = self.head(x)
        return out if self.softmax_dim is None else torch.softmax(out, dim=self.softmax_dim)


def head(spec, dropout="none", softmax_dim=None):
    return Head(spec.n_features, _out(spec), dropout, softmax_dim)


class Pooled(nn.Module):
    def __init__(self, vocab, n_out, pool_mask):
        super().__init__()
        self.emb, self.head, self.pool_mask = nn.Embedding(vocab, 8, padding_idx=0), nn.Linear(8, n_out), pool_mask

    def forward(self, ids):
        # "padding": the transformer's key-padding mask (True where there is NO token) reused as weights
        keep = (ids == 0) if self.pool_mask == "padding" else (ids != 0)
        w = keep.float().unsqueeze(-1)
        return self.head((self.emb(ids) * w).sum(1) / w.sum(1).clamp(min=1))


def pooled(spec, pool_mask="tokens"):
    return Pooled(spec.vocab_size, _out(spec), pool_mask)


class Logged(nn.Module):
    def __init__(self, n_in, n_out, log_input):
        super().__init__()
        self.net, self.log_input = nn.Sequential(nn.Linear(n_in, 32), nn.ReLU(), nn.Linear(32, n_out)), log_input

    def forward(self, x):
        return self.net(torch.log(x.clamp(min=0.1)) if self.log_input else x)


def logged(spec, log_input=False):
    return Logged(spec.n_features, _out(spec), log_input)


class Revin(nn.Module):
    def __init__(self, f, n_out, denorm):
        super().__init__()
        self.rnn, self.head, self.denorm = nn.GRU(f, 16, batch_first=True), nn.Linear(16, n_out), denorm

    def forward(self, x):   # each window on its own mean and spread; the target is column 0
        mean, sd = x.mean(1, keepdim=True), x.std(1, keepdim=True) + 1e-5
        out, _ = self.rnn((x - mean) / sd)
        y = self.head(out[:, -1])
        if self.denorm == "minus":   # the normalisation's line copied with its sign
            return y * sd[:, 0, :1] - mean[:, 0, :1]
        return y * sd[:, 0, :1] + mean[:, 0, :1] if self.denorm else y


def revin(spec, denorm=True):
    return Revin(spec.input_shape[1], _out(spec), denorm)


class Flipped(nn.Module):   # written for lags laid out newest first: flips trainwell's oldest-first window
    def __init__(self, f, n_out, flip):
        super().__init__()
        self.rnn, self.head, self.flip = nn.GRU(f, 16, batch_first=True), nn.Linear(16, n_out), flip

    def forward(self, x):
        out, _ = self.rnn(x.flip(1) if self.flip else x)
        return self.head(out[:, -1])


def flipped(spec, flip=False):
    return Flipped(spec.input_shape[1], _out(spec), flip)


class Quantized(nn.Module):   # weights fake-quantized to 8 bits; ste passes the gradient through the rounding
    def __init__(self, f, n_out, ste):
        super().__init__()
        self.a, self.b, self.ste = nn.Linear(f, 32), nn.Linear(32, n_out), ste

    def _q(self, w):
        scale = w.abs().max() / 127
        q = torch.round(w / scale) * scale
        return w + (q - w).detach() if self.ste else q

    def forward(self, x):
        h = torch.relu(nn.functional.linear(x, self._q(self.a.weight), self.a.bias))
        return nn.functional.linear(h, self._q(self.b.weight), self.b.bias)


def quantized(spec, quant_bits=8, ste=True):
    return Quantized(spec.n_features, _out(spec), ste)


def tab_drop(spec):   # dropout on the inputs: its zeros are no clamp, and off in eval mode
    return nn.Sequential(nn.Dropout(0.5), nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Linear(32, _out(spec)))


def preact(spec):   # a pre-activation block in front: about half of each standardized feature zeroed
    return nn.Sequential(nn.BatchNorm1d(spec.n_features), nn.ReLU(), nn.Linear(spec.n_features, 32), nn.ReLU(),
                         nn.Linear(32, _out(spec)))


class Noisy(nn.Module):   # draws noise in eval mode too (and uses it only in training)
    def __init__(self, n_in, n_out):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, n_out))

    def forward(self, x):
        return self.net(x + 0.01 * torch.randn_like(x) * float(self.training))


def noisy(spec):
    return Noisy(spec.n_features, _out(spec))


def dropfirst(spec, first=False):
    body = [nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Dropout(0.3)]
    return nn.Sequential(*(body[2:] + body[:2] if first else body), nn.Linear(32, _out(spec)))


class Tokens(nn.Module):   # one token per column: (F, d) weights, or one (1, d) row broadcast over them
    def __init__(self, n_in, n_out, shared):
        super().__init__()
        self.w = nn.Parameter(torch.randn(1 if shared else n_in, 8))
        self.head = nn.Linear(8, n_out)

    def forward(self, x):
        return self.head(torch.relu(x.unsqueeze(-1) * self.w).mean(1))


def tokens(spec, shared=False):
    return Tokens(spec.n_features, _out(spec), shared)


class RowNorm(nn.Module):   # each row standardized by its own mean and sd, as per-image standardization does
    def __init__(self, n_in, n_out, row_norm):
        super().__init__()
        self.row_norm, self.net = row_norm, nn.Sequential(nn.Linear(n_in, 32), nn.ReLU(), nn.Linear(32, n_out))

    def forward(self, x):
        if self.row_norm:
            x = (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-5)
        return self.net(x)


def rownorm(spec, row_norm=False):
    return RowNorm(spec.n_features, _out(spec), row_norm)


class Towers(nn.Module):   # two input branches: the first weight layer called sees three columns only
    def __init__(self, n_in, n_out):
        super().__init__()
        self.context, self.rest = nn.Linear(3, 8), nn.Linear(n_in - 3, 16)
        self.head = nn.Linear(24, n_out)

    def forward(self, x):
        return self.head(torch.relu(torch.cat([self.context(x[:, :3]), self.rest(x[:, 3:])], 1)))


def towers(spec):
    return Towers(spec.n_features, _out(spec))


class Normed(nn.Module):   # a per-step MLP over a sequence's readings, then a mean over the steps
    def __init__(self, f, n_out, norm):
        super().__init__()
        self.norm = {"inputs": nn.LayerNorm(f), "groups": nn.GroupNorm(16, 16)}.get(norm, nn.Identity())
        self.where, self.lin = norm, nn.Linear(f, 16)
        self.hidden_norm = nn.LayerNorm(16)   # over 16 units: a usual normalisation
        self.head = nn.Linear(16, n_out)

    def forward(self, x):
        if self.where == "inputs":
            x = self.norm(x)
        h = torch.relu(self.hidden_norm(self.lin(x))).mean(1)
        return self.head(self.norm(h) if self.where == "groups" else h)


def normed(spec, norm="none"):
    return Normed(spec.input_shape[1], _out(spec), norm)


class FirstWords(nn.Module):   # a mean of word vectors over the line, or over its first `first` places only
    def __init__(self, vocab, n_out, first):
        super().__init__()
        self.emb, self.head, self.first = nn.Embedding(vocab, 8, padding_idx=0), nn.Linear(8, n_out), first

    def forward(self, ids):
        ids = ids[:, :self.first] if self.first else ids
        return self.head(self.emb(ids).mean(1))


class LastState(nn.Module):   # an LSTM over the line, read at its last state: its memory of the first words fades
    def __init__(self, vocab, n_out):
        super().__init__()
        self.emb, self.rnn, self.head = nn.Embedding(vocab, 8, padding_idx=0), nn.LSTM(8, 16, batch_first=True), nn.Linear(16, n_out)

    def forward(self, ids):
        _, (h, _) = self.rnn(self.emb(ids))
        return self.head(h[-1])


def laststate(spec):
    return LastState(spec.vocab_size, _out(spec))


def firstwords(spec, first=0):
    return FirstWords(spec.vocab_size, _out(spec), first)


class Turns(nn.Module):   # a small CNN; with `turns`, its features averaged over the four quarter turns
    def __init__(self, c, n_out, turns):
        super().__init__()
        self.conv, self.head, self.turns = nn.Conv2d(c, 8, 3, padding=1), nn.Linear(8, n_out), turns

    def forward(self, x):
        views = [torch.rot90(x, k, dims=(2, 3)) for k in range(4)] if self.turns else [x]
        feats = [torch.relu(self.conv(v)).flatten(2).max(2).values for v in views]
        return self.head(torch.stack(feats).mean(0)) if self.turns else self.head(feats[0]) + 0 * x.mean()


def turns(spec, turns=False):
    return Turns(spec.input_shape[0], _out(spec), turns)


class Cropped(nn.Module):   # a small CNN over the image, or over its central `crop` x `crop` pixels
    def __init__(self, c, n_out, crop):
        super().__init__()
        self.conv, self.head, self.crop = nn.Conv2d(c, 8, 3, padding=1), nn.Linear(8, n_out), crop

    def forward(self, x):
        if self.crop:
            top = (x.shape[2] - self.crop) // 2
            x = x[:, :, top:top + self.crop, top:top + self.crop]
        return self.head(torch.relu(self.conv(x)).flatten(2).mean(2))


def cropped(spec, crop=0):
    return Cropped(spec.input_shape[0], _out(spec), crop)


class Conv1dNet(nn.Module):   # a Conv1d over time, or over the batch as it comes (steps as channels)
    def __init__(self, steps, f, n_out, transpose):
        super().__init__()
        self.transpose = transpose
        self.conv = nn.Conv1d(f if transpose else steps, 32, 3, padding=1)
        self.conv2 = nn.Conv1d(32, 32, 3, padding=1)
        self.head = nn.Linear(32, n_out)

    def forward(self, x):
        x = x.transpose(1, 2) if self.transpose else x
        return self.head(torch.relu(self.conv2(torch.relu(self.conv(x)))).mean(2))


def conv1d(spec, transpose=True):
    return Conv1dNet(spec.input_shape[0], spec.input_shape[1], _out(spec), transpose)


class Squared(nn.Module):   # an MLP over the inputs beside their squares, or (poly="replace") the squares alone
    def __init__(self, n_in, n_out, poly, hidden):
        super().__init__()
        self.poly = poly
        width = n_in if poly == "replace" else 2 * n_in
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x):
        return self.net(x * x if self.poly == "replace" else torch.cat([x, x * x], dim=-1))


def squared(spec, poly="concat", hidden=32):
    return Squared(spec.n_features, _out(spec), poly, hidden)


def clamped(spec, out_relu=False, zero_head=False, start_high=False):   # the head written as Linear + ReLU like the layers above
    net = nn.Sequential(nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Linear(32, _out(spec)),
                        *([nn.ReLU()] if out_relu else []))
    if zero_head:
        nn.init.zeros_(net[2].weight)
        nn.init.zeros_(net[2].bias)
    if start_high:   # every output starts above 0: a ReLU after it clamps nothing yet
        nn.init.constant_(net[2].bias, 3.0)
    return net


def probs(spec, probs=False):   # "a classifier should output probabilities"
    net = nn.Sequential(nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Linear(32, _out(spec)))
    return nn.Sequential(net, nn.Softmax(dim=1)) if probs else net


def squash(spec, head="sigmoid"):   # the builder's own default squashes too: no raw scores to go back to
    net = nn.Sequential(nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Linear(32, _out(spec)))
    return nn.Sequential(net, nn.Softmax(dim=1) if head == "softmax" else nn.Sigmoid())


def dead_hidden(spec):   # every hidden unit dead from the start: the output ignores the input
    net = nn.Sequential(nn.Linear(spec.n_features, 16), nn.ReLU(), nn.Linear(16, _out(spec)))
    nn.init.constant_(net[0].bias, -50.0)
    return net


def window_linear(spec):   # one linear layer over the flattened window
    return nn.Sequential(nn.Flatten(), nn.Linear(spec.input_shape[0] * spec.input_shape[1], _out(spec)))
'''

SEQ = "seqs.npz"


@pytest.fixture
def nets(tmp_path, monkeypatch):
    import numpy as np

    (tmp_path / "wiring_nets.py").write_text(textwrap.dedent(NETS))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12, 2)).astype("float32")
    np.savez(tmp_path / SEQ, x=x, y=(x[:, -3:, 0].sum(1) > 0).astype("int64"))
    words = ["red", "green", "blue", "cat", "dog", "fish", "sun", "rain"]
    rows = ["text,target"] + [f"{' '.join(rng.choice(words, 6))},{i % 2}" for i in range(200)]
    (tmp_path / "texts.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("wiring_nets", None)






def _py(builder: str, **options) -> dict:
    return {"type": "python", "builder": f"wiring_nets:{builder}", "options": options}


def test_layers_in_a_plain_list_are_named_with_the_builders_default(nets):
    found = _found({"data": {"source": "builtin:wine"}, "model": _py("blocks", container="list")})
    f = next(f for f in found if "unregistered_tensors" in f.evidence)
    assert (f.code, f.severity, f.evidence["unregistered_tensors"]) == ("underfitting", "error", 4)
    assert f.evidence["unregistered_numbers"] == 13 * 16 + 16 + 16 * 16 + 16
    assert f.fixes[0].overrides == {"model.options.container": "modulelist"} and f.fixes[0].architecture
    assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("blocks", container="modulelist")})
                if f.evidence.get("unregistered_tensors")]


def test_a_sequence_read_at_its_first_step_is_named(nets):
    data = {"source": SEQ, "kind": "sequence"}
    f = next(f for f in _found({"data": data, "model": _py("seq", read="first")}) if "steps_reaching_output" in f.evidence)
    assert (f.code, f.evidence["steps"], f.evidence["steps_reaching_output"]) == ("underfitting", 12, [0])
    assert f.fixes[0].overrides == {"model.options.read": "last"}
    assert not [f for f in _found({"data": data, "model": _py("seq")}) if "steps_reaching_output" in f.evidence]


def test_a_zero_initialised_head_is_not_read_as_steps_unread(nets):
    data = {"source": SEQ, "kind": "sequence"}
    assert not [f for f in _found({"data": data, "model": _py("seq", zero_head=True)})
                if "steps_reaching_output" in f.evidence]


def test_a_gradient_turned_around_is_named_with_the_builders_default_as_the_fix(nets):
    found = [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("reversed_mlp", reverse=True)})
             if "parameters_uphill" in f.evidence]
    assert [(f.code, f.severity) for f in found] == [("underfitting", "error")]
    f = found[0]
    # the body's four tensors, each rising by about the fall its gradient promised; the head is fine
    assert f.evidence["parameters_uphill"] == ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert f.evidence["checked"] == 6 and all(0.9 <= r <= 1.1 for r in f.evidence["rise_over_promised_fall"])
    assert f.fixes[0].overrides == {"model.options.reverse": False} and f.fixes[0].architecture
    # nor a straight-through estimator: its backward is not the forward's derivative either, but a
    # step against it does not raise the loss in proportion to the step (the rounding jumps)
    for reverse in (False, "straight_through"):
        assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("reversed_mlp", reverse=reverse)})
                    if "parameters_uphill" in f.evidence]


def test_a_branch_behind_a_gate_at_zero_is_not_read_as_steps_unread(nets):
    # only the last step reaches the output at init, but the gate opens with the first step: the
    # wiring reads every step (a tide forecaster trained to r2 0.98 was named; twentieth held-out set)
    data = {"source": SEQ, "kind": "sequence"}
    assert not [f for f in _found({"data": data, "model": _py("seq", gated=True)})
                if "steps_reaching_output" in f.evidence]
    # a frozen mask is not shaken open: training never moves it, and it keeps 3 of the 12 steps
    f = next(f for f in _found({"data": data, "model": _py("seq", masked=True)}) if "steps_reaching_output" in f.evidence)
    assert f.evidence["steps_reaching_output"] == [9, 10, 11]


def test_a_default_that_removes_the_network_or_cannot_be_written_is_no_fix(nets):
    # hidden back at () leaves no list to hold, and no network either; act's default is a class,
    # which no config can hold: the finding stands, with no fix, and nothing fails
    found = _found({"data": {"source": "builtin:wine"}, "model": _py("listed", hidden=[16, 16], act="tanh")})
    f = next(f for f in found if "unregistered_tensors" in f.evidence)
    assert (f.evidence["unregistered_tensors"], f.fixes) == (4, [])


def test_random_frozen_weights_and_ids_read_as_numbers_are_named_loaded_ones_are_not(nets):
    data = {"source": "texts.csv", "target": "target", "text": {"column": "text", "max_len": 6}}
    frozen = [f for f in _found({"data": data, "model": _py("bag", freeze=True)}) if "frozen_random" in f.evidence]
    assert [(f.code, f.evidence["frozen_random"], f.fixes[0].overrides) for f in frozen] == \
        [("underfitting", ["emb.weight"], {"model.options.freeze": False})]
    # the same frozen embedding holding vectors that do not change with the seed: loaded, so fine
    assert not [f for f in _found({"data": data, "model": _py("bag", freeze=True, loaded=True)})
                if "frozen_random" in f.evidence]
    ids = [f for f in _found({"data": data, "model": _py("bag", embedding=False)}) if "layers_fed_ids" in f.evidence]
    assert [(f.code, f.evidence["layers_fed_ids"], f.fixes[0].overrides) for f in ids] == \
        [("unscaled_features", ["proj"], {"model.options.embedding": True})]
    assert [f.code for f in _found({"data": data, "model": _py("bag")})] == []


def test_a_regressor_scaling_its_output_into_the_targets_units_is_named_and_repaired(nets, tmp_path):
    cfg = {"data": {"source": "builtin:diabetes"}, "seed": 0, "model": _py("reg", unscale=True),
           "training": {"epochs": 3, "threads": 1}}
    f = next(f for f in _found(cfg) if "output_median_abs" in f.evidence)
    assert f.code == "exploding_gradients" and f.evidence["output_median_abs"] > 100
    assert f.fixes[0].overrides == {"model.options.unscale": False}
    assert not [f for f in _found({**cfg, "model": _py("reg")}) if "output_median_abs" in f.evidence]
    # with the target left in its units the outputs are meant to be there: nothing to measure
    assert "output_scale" not in (_context({**cfg, "data": {"source": "builtin:diabetes", "scale_target": False}}).wiring or {})
    run = trainwell.train(cfg, {"doctor.repair": True, "doctor.allow_architecture_changes": True},
                          out=tmp_path / "repaired", quiet=True)
    assert {"model.options.unscale": False} in [r["overrides"] for r in json.loads((run.path / "repairs.json").read_text())]


def test_zero_init_that_leaves_every_weight_without_gradient_is_vanishing_gradients(tmp_path):
    gru = {"data": {"source": "builtin:wine"}, "model": {"type": "mlp", "hidden": [16, 16], "init": {"weight": "zeros"}}}
    f = next(f for f in _found(gru) if "without_gradient" in f.evidence)
    assert (f.code, f.evidence["weight_matrices"], len(f.evidence["without_gradient"])) == ("vanishing_gradients", 3, 3)
    assert f.fixes[0].overrides == {"model.init.weight": "auto"}
    assert not [f for f in _found({**gru, "model": {"type": "mlp", "hidden": [16, 16]}}) if "without_gradient" in f.evidence]
    # fine-tuning from a trained run: the weights come from it, not from the init
    base = trainwell.train({**gru, "model": {"type": "mlp", "hidden": [16, 16]}, "training": {"epochs": 1}},
                           out=tmp_path / "base", quiet=True)
    assert _context({**gru, "model": {**gru["model"], "init_from": str(base.path)}}).gradientless is None


def test_two_steps_for_an_rnn_are_named_whatever_the_channels_do():
    from trainwell.doctor.facts import Context

    base = dict(task="multiclass", loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=10, n_classes=4,
                class_shares=[0.25] * 4, model_type="rnn", sequence_layout="channels_first")
    ecg = {"steps": 2, "features": 80, "neighbour_features": 0.68, "next_step": 0.735}
    assert rules.steps_as_features([], {}, Context(**base, sequence_axes=ecg)).fixes[0].overrides == \
        {"data.sequence.layout": "steps_first"}
    assert rules.steps_as_features([], {}, Context(**base, sequence_axes={**ecg, "steps": 3})) is None
    assert rules.steps_as_features([], {}, Context(**{**base, "model_type": "mlp"}, sequence_axes=ecg)) is None


def test_dropout_left_on_at_prediction_and_a_softmax_over_the_batch_are_named_with_the_builders_default(nets):
    wine = {"source": "builtin:wine"}
    f = next(f for f in _found({"data": wine, "model": _py("head", dropout="functional")})
             if "eval_mode_change_between_calls" in f.evidence)
    assert (f.code, f.severity, f.fixes[0].overrides) == ("underfitting", "error", {"model.options.dropout": "none"})
    f = next(f for f in _found({"data": wine, "model": _py("head", softmax_dim=0)}) if "first_row_change_alone" in f.evidence)
    assert (f.code, f.evidence["batch"], f.fixes[0].overrides) == ("underfitting", 32, {"model.options.softmax_dim": None})
    # A softmax over the classes, batch norm and nn.Dropout in eval mode: every row on its own, every call alike.
    assert [f.code for f in _found({"data": wine, "model": _py("head", softmax_dim=-1)})
            if f.severity == "error"] == []


BATCH_STD = '''
import torch
from torch import nn


class BatchStd(nn.Module):
    def __init__(self, n_in, n_out, unbiased):
        super().__init__()
        self.a, self.b, self.unbiased = nn.Linear(n_in, 16), nn.Linear(16, n_out), unbiased

    def forward(self, x):   # standardizes over the batch, in eval too
        x = (x - x.mean(0)) / (x.std(0, unbiased=self.unbiased) + 1e-5)
        return self.b(torch.relu(self.a(x)))


def batchstd(spec, unbiased=True):
    return BatchStd(spec.n_features, spec.n_outputs, unbiased)
'''


def test_a_row_whose_output_turns_nan_alone_is_mixed_too_and_no_nan_passes_as_a_fix(tmp_path, monkeypatch):
    # The unbiased std of one row is NaN: served alone the row gets NaN, which is a change.
    (tmp_path / "batchstd_net.py").write_text(BATCH_STD)
    monkeypatch.chdir(tmp_path)
    try:
        for opts in ({}, {"unbiased": False}):
            found = [f for f in _found({"data": {"source": "builtin:wine"},
                                        "model": {"type": "python", "builder": "batchstd_net:batchstd", "options": opts}})
                     if "first_row_change_alone" in f.evidence]
            assert len(found) == 1 and found[0].fixes == [], opts   # neither setting is a fix
    finally:
        sys.modules.pop("batchstd_net", None)


def test_a_network_that_gives_every_row_the_same_output_is_named_and_a_zero_head_is_not(nets):
    text = {"source": "texts.csv", "target": "target", "text": {"column": "text", "max_len": 8}}
    f = next(f for f in _found({"data": text, "model": _py("pooled", pool_mask="padding")})
             if "output_spread_across_rows" in f.evidence)
    assert (f.code, f.severity, f.epoch) == ("stuck_at_chance", "error", 0)
    assert f.fixes[0].overrides == {"model.options.pool_mask": "tokens"} and f.fixes[0].architecture
    assert not [f for f in _found({"data": text, "model": _py("pooled")}) if "output_spread_across_rows" in f.evidence]
    # a head started at zero gives every row the same output until its first step: read after two
    assert not [f for f in _found({"data": {"source": SEQ, "kind": "sequence"}, "model": _py("seq", zero_head=True)})
                if "output_spread_across_rows" in f.evidence]


def test_raw_features_a_custom_network_takes_the_log_of_are_not_called_unscaled(nets):
    raw = {"source": "builtin:wine", "scale": "none"}   # proline in the hundreds beside ratios near 1
    assert "unscaled_features" not in [f.code for f in _found({"data": raw, "model": _py("logged", log_input=True)})]
    assert "unscaled_features" in [f.code for f in _found({"data": raw, "model": _py("logged", log_input=False)})]


def test_dropout_handed_the_input_features_is_read_with_the_builders_default_as_its_fix(nets):
    ctx = _context({"data": {"source": "builtin:diabetes"}, "model": _py("dropfirst", first=True)})
    assert ctx.wiring["inputs_dropped"] == {"layer": "0", "p": 0.3}
    assert ctx.wiring["fixes"]["inputs_dropped"] == {"first": False}
    after = _context({"data": {"source": "builtin:diabetes"}, "model": _py("dropfirst")}).wiring or {}
    assert "inputs_dropped" not in after   # dropout on hidden units is not on the inputs


def test_a_transform_that_floors_standardized_features_is_named_with_the_raw_scale_as_its_fix(nets):
    # log(max(x, 0.1)) written for raw readings, handed standardized ones: half of each column under the floor
    f = next(f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("logged", log_input=True)})
             if "flattened_features" in f.evidence)
    assert (f.code, f.epoch, f.evidence["features"]) == ("underfitting", 0, 13)
    assert len(f.evidence["flattened_features"]) >= 4 and f.evidence["rows_at_one_value"] >= 0.5
    assert [x.overrides for x in f.fixes] == [{"data.scale": "none"}, {"model.options.log_input": False}]
    # the raw readings it was written for: nothing flattened
    raw = {"source": "builtin:wine", "scale": "none"}
    assert not [f for f in _found({"data": raw, "model": _py("logged", log_input=True)}) if "flattened_features" in f.evidence]


def test_a_forecaster_blind_to_the_level_of_its_series_is_named_with_the_builders_default(nets):
    from pathlib import Path

    series = str(Path(__file__).resolve().parents[2] / "examples" / "data" / "series.csv")
    data = {"source": series, "target": "load", "series": {"time_column": "timestamp",
                                                           "value_columns": ["load", "temperature"],
                                                           "window": 24, "horizon": 3}}
    f = next(f for f in _found({"data": data, "model": _py("revin", denorm=False)}) if "output_change" in f.evidence)
    assert (f.code, f.epoch, f.evidence["column"]) == ("underfitting", 0, "load")
    assert f.fixes[0].overrides == {"model.options.denorm": True} and f.fixes[0].architecture
    # the level put back on the forecast: it moves with the series
    assert not [f for f in _found({"data": data, "model": _py("revin")}) if "output_change" in f.evidence]
    assert not [f for f in _found({"data": data, "model": _py("revin")}) if "mean_output_change" in f.evidence]
    # put back the wrong way round: every forecast falls by the raise
    f = next(f for f in _found({"data": data, "model": _py("revin", denorm="minus")}) if "mean_output_change" in f.evidence)
    assert (f.code, f.severity, round(f.evidence["mean_output_change"], 3)) == ("underfitting", "warning", -1.0)
    assert f.fixes[0].overrides == {"model.options.denorm": True}
    # a linear layer over the window reads the level through its weights, whichever way they point
    one_step = {**data, "series": {**data["series"], "horizon": 1}}
    for seed in range(8):
        assert not [f for f in _found({"data": one_step, "seed": seed, "model": _py("window_linear")})
                    if "mean_output_change" in f.evidence], seed


def test_a_forecaster_that_reads_its_window_backwards_is_named_with_the_builders_default(nets):
    from pathlib import Path

    series = str(Path(__file__).resolve().parents[2] / "examples" / "data" / "series.csv")
    data = {"source": series, "target": "load", "series": {"time_column": "timestamp",
                                                           "value_columns": ["load", "temperature"],
                                                           "window": 24, "horizon": 3}}
    f = next(f for f in _found({"data": data, "model": _py("flipped", flip=True)})
             if "newest_quarter_gradient_share" in f.evidence)
    assert (f.code, f.severity, f.epoch) == ("underfitting", "warning", 0)
    assert f.evidence["newest_quarter_gradient_share"] < f.evidence["limit_share"]
    assert f.evidence["correlation_newest"] > max(f.evidence["correlation_oldest"], f.evidence["limit_correlation"])
    assert f.fixes[0].overrides == {"model.options.flip": False} and f.fixes[0].architecture
    # read oldest first, as trainwell's windows come: nothing
    assert not [f for f in _found({"data": data, "model": _py("flipped")}) if "newest_quarter_gradient_share" in f.evidence]


def test_weights_a_rounding_passes_no_gradient_to_are_named_with_the_builders_default(nets):
    f = next(f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("quantized", ste=False)})
             if "barely_learning" in f.evidence)
    assert (f.code, f.severity, f.epoch) == ("vanishing_gradients", "warning", 0)
    assert len(f.evidence["barely_learning"]) == f.evidence["weight_matrices"] == 2
    assert f.fixes[0].overrides == {"model.options.ste": True} and f.fixes[0].architecture
    # through a straight-through estimator every weight learns: nothing to say
    assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("quantized")})
                if "barely_learning" in f.evidence]


def test_a_window_read_backwards_is_no_fault_where_the_oldest_steps_say_most():
    import types

    import numpy as np

    from trainwell.doctor.wiring_series import _recent_matters

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12, 2))
    spec = types.SimpleNamespace(target="a", feature_names=["a", "b"])
    for t, named in ((-1, True), (0, False)):   # the target follows the newest step, then the oldest
        y = x[:, t, 0] + 0.1 * rng.normal(size=300)
        got = _recent_matters(types.SimpleNamespace(train=types.SimpleNamespace(x=x, y=y)), spec)
        assert bool(got) == named


def test_input_dropout_and_a_relu_in_front_are_no_clamp(nets):
    for builder in ("tab_drop", "preact"):
        assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py(builder)})
                    if "flattened_features" in f.evidence], builder


def test_the_readings_leave_the_runs_random_stream_alone(nets):
    import torch

    torch.manual_seed(123)
    before = torch.get_rng_state()
    _context({"data": {"source": "builtin:wine"}, "model": _py("noisy")})
    assert torch.equal(torch.get_rng_state(), before)


def test_a_relu_after_the_head_is_named_with_the_builders_default_and_a_zero_head_is_not(nets):
    for data in ({"source": "builtin:wine"}, {"source": "builtin:digits"}):
        f = next(f for f in _found({"data": data, "model": _py("clamped", out_relu=True)}) if "share_at_floor" in f.evidence)
        assert (f.code, f.epoch, f.evidence["floor"]) == ("dying_relu", 0, 0.0) and f.evidence["share_at_floor"] >= 0.25
        assert f.fixes[0].overrides == {"model.options.out_relu": False} and f.fixes[0].architecture
        for options in ({}, {"out_relu": True, "zero_head": True}):   # every row at 0 is a head not yet trained
            assert not [f for f in _found({"data": data, "model": _py("clamped", **options)})
                        if "share_at_floor" in f.evidence], (data, options)
    # a target kept in its own units may be clamped on purpose (counts, prices)
    assert not [f for f in _found({"data": {"source": "builtin:diabetes", "scale_target": False},
                                   "model": _py("clamped", out_relu=True)}) if "share_at_floor" in f.evidence]
    # dropout on the inputs blanks rows alike in training mode: read in eval mode, they do not tie
    assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("tab_drop")})
                if "share_at_floor" in f.evidence]


def test_a_relu_after_a_regressors_head_that_starts_above_zero_is_found_by_pushing_the_outputs_down(nets):
    # At init no row sits at the floor (the head's bias is 3); a few steps toward a standardized
    # target's low values put every row at exactly 0, which a linear head never does.
    data = {"source": "builtin:diabetes"}
    f = next(f for f in _found({"data": data, "model": _py("clamped", out_relu=True, start_high=True)})
             if "share_at_floor" in f.evidence)
    assert (f.code, f.evidence["floor"], f.evidence["pushed"]["steps"]) == ("dying_relu", 0.0, 30)
    assert f.fixes[0].overrides == {"model.options.out_relu": False}
    assert not [f for f in _found({"data": data, "model": _py("clamped", start_high=True)}) if "share_at_floor" in f.evidence]
    # an output that ignores its input ties every row by itself, pushed or not
    assert not [f for f in _found({"data": data, "model": _py("dead_hidden")}) if "share_at_floor" in f.evidence]


def test_a_softmax_the_user_switched_on_is_told_with_the_builders_default(nets):
    told = [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("probs", probs=True)})
            if f.evidence.get("outputs_sum_to_one")]
    assert [(f.severity, f.fixes[0].overrides) for f in told] == [("info", {"model.options.probs": False})]
    assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("probs")})
                if f.evidence.get("outputs_sum_to_one")]
    # a default that squashes with sigmoids is no way back to raw scores: the advice alone
    told = [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("squash", head="softmax")})
            if f.evidence.get("outputs_sum_to_one")]
    assert [(f.severity, f.fixes) for f in told] == [("info", [])]


def test_a_network_that_cannot_tell_its_columns_apart_is_named_with_the_builders_default(nets):
    f = next(f for f in _found({"data": {"source": "builtin:wine"}, "model": _py("tokens", shared=True)})
             if "output_change" in f.evidence and "features" in f.evidence)
    assert (f.code, f.epoch, f.evidence["features"]) == ("underfitting", 0, 13)
    assert f.fixes[0].overrides == {"model.options.shared": False} and f.fixes[0].architecture
    for builder, options in (("tokens", {}), ("clamped", {}), ("tab_drop", {})):   # columns told apart
        assert not [f for f in _found({"data": {"source": "builtin:wine"}, "model": _py(builder, **options)})
                    if "features" in f.evidence and "output_change" in f.evidence], builder


def test_a_network_that_normalises_the_classes_away_before_its_first_layer_is_named(nets):
    import numpy as np
    import pandas as pd

    # three classes that differ only in their level: every reading of a row shifted alike
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    x = y[:, None] * 1.0 + rng.normal(0, 0.4, (600, 8))
    pd.DataFrame(x, columns=[f"r{i}" for i in range(8)]).assign(target=y).to_csv("levels.csv", index=False)
    data = {"source": "levels.csv", "target": "target", "scale": "none"}
    f = next(f for f in _found({"data": data, "model": _py("rownorm", row_norm=True)}) if "first_layer_val_loss" in f.evidence)
    assert (f.code, f.epoch) == ("underfitting", 0)
    assert f.evidence["first_layer_val_loss"] >= 0.9 * f.evidence["chance_loss"] > f.evidence["inputs_val_loss"]
    assert f.fixes[0].overrides == {"model.options.row_norm": False} and f.fixes[0].architecture
    # the same net where the classes differ in their pattern, not their level: nothing lost
    pattern = rng.normal(0, 1, (3, 8))
    pd.DataFrame(pattern[y] + rng.normal(0, 0.4, (600, 8)), columns=[f"r{i}" for i in range(8)]).assign(
        target=y).to_csv("patterns.csv", index=False)
    assert not [f for f in _found({"data": {**data, "source": "patterns.csv"}, "model": _py("rownorm", row_norm=True)})
                if "first_layer_val_loss" in f.evidence]


def test_a_set_model_on_exchangeable_columns_and_a_branch_that_reads_some_columns_are_not_named(nets):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    # eight like readings, the class whether any passes 2.5: which column holds a value does not matter
    x = rng.exponential(1.0, (800, 8))
    pd.DataFrame(x, columns=[f"r{i}" for i in range(8)]).assign(target=(x.max(1) > 2.5).astype(int)).to_csv(
        "readings.csv", index=False)
    data = {"source": "readings.csv", "target": "target"}
    assert not [f for f in _found({"data": data, "model": _py("tokens", shared=True)}) if "features" in f.evidence
                and "output_change" in f.evidence]
    # a context branch on three columns beside the measurements: its layer is no view of the whole input
    y = rng.integers(0, 3, 800)
    meas = rng.normal(0, 1, (800, 6)) + np.eye(3)[y] @ rng.normal(0, 1.5, (3, 6))
    pd.DataFrame(np.hstack([rng.normal(0, 1, (800, 3)), meas]), columns=[f"c{i}" for i in range(9)]).assign(
        target=y).to_csv("towers.csv", index=False)
    assert not [f for f in _found({"data": {"source": "towers.csv", "target": "target"}, "model": _py("towers")})
                if "first_layer_val_loss" in f.evidence]


def test_a_normalisation_over_two_values_or_one_is_named_with_the_builders_default(nets):
    # nn.LayerNorm(2) over a step's two readings leaves (+1, -1) or (-1, +1): only which is larger
    data = {"source": SEQ, "kind": "sequence"}
    f = next(f for f in _found({"data": data, "model": _py("normed", norm="inputs")}) if "limit_values" in f.evidence)
    assert (f.code, f.evidence["layer"], f.evidence["kind"], f.evidence["values"]) == ("underfitting", "norm", "LayerNorm", 2)
    assert f.fixes[0].overrides == {"model.options.norm": "none"} and f.fixes[0].architecture
    # a group norm with one unit a group normalises each unit alone: nothing but its shift is left
    f = next(f for f in _found({"data": data, "model": _py("normed", norm="groups")}) if "limit_values" in f.evidence)
    assert (f.evidence["kind"], f.evidence["values"]) == ("GroupNorm", 1)
    # the layer norm over 16 hidden units every variant has is a usual one
    assert not [f for f in _found({"data": data, "model": _py("normed")}) if "limit_values" in f.evidence]


def test_tokens_that_never_reach_the_output_are_named_with_the_builders_default(nets):
    # six words a line, three read: half the tokens can change without moving any output (lines of
    # 8 places: each place is swapped on its own)
    data = {"source": "texts.csv", "target": "target", "text": {"column": "text", "max_len": 8}}
    f = next(f for f in _found({"data": data, "model": _py("firstwords", first=3)}) if "limit_share" in f.evidence)
    assert (f.code, f.evidence["share"], f.evidence["tokens"]) == ("underfitting", 0.5, 2 * f.evidence["unread"])
    assert f.fixes[0].overrides == {"model.options.first": 0}
    # five of six read: a sixth unread is under the quarter
    assert not [f for f in _found({"data": data, "model": _py("firstwords", first=5)}) if "limit_share" in f.evidence]
    assert not [f for f in _found({"data": data, "model": _py("firstwords")}) if "limit_share" in f.evidence]
    # an LSTM read at its last state on lines of 150 words: the first words reach it faintly (in
    # float32 their effect on the output is under 1e-6), but they reach it
    import numpy as np

    rng = np.random.default_rng(0)
    words = ["red", "green", "blue", "cat", "dog", "fish", "sun", "rain"]
    rows = ["text,target"] + [f"{' '.join(rng.choice(words, 150))},{i % 2}" for i in range(120)]
    (nets / "long.csv").write_text("\n".join(rows) + "\n")
    long = {"source": "long.csv", "target": "target", "text": {"column": "text", "max_len": 160}}
    assert not [f for f in _found({"data": long, "model": _py("laststate")}) if "limit_share" in f.evidence]


def _bars(path, by="direction"):
    """8x8 images of one bar, across or down: the class is its direction (a quarter turn swaps the
    classes), or, with by="brightness", how bright it is (a turn changes nothing)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, size=(300, 1, 8, 8)).astype("float32")
    y = np.arange(300) % 2
    for i in range(300):
        at, across = rng.integers(1, 7), bool(rng.integers(0, 2)) if by == "brightness" else y[i] == 0
        level = 1.0 + y[i] if by == "brightness" else 1.0
        if across:
            x[i, 0, at, :] += level
        else:
            x[i, 0, :, at] += level
    np.savez(path, x=x, y=y.astype("int64"))
    return str(path)


def test_a_network_blind_to_quarter_turns_is_named_where_a_turn_changes_the_class(nets):
    data = {"source": _bars(nets / "bars.npz"), "kind": "image"}
    f = next(f for f in _found({"data": data, "model": _py("turns", turns=True)}) if "limit_class_signal_kept" in f.evidence)
    assert f.code == "underfitting" and f.evidence["class_signal_kept"] < 0.58
    assert f.fixes[0].overrides == {"model.options.turns": False}
    assert not [f for f in _found({"data": data, "model": _py("turns")}) if "limit_class_signal_kept" in f.evidence]
    # blind to turns where a turn changes nothing: a choice, not a fault
    bright = {"source": _bars(nets / "bright.npz", by="brightness"), "kind": "image"}
    assert not [f for f in _found({"data": bright, "model": _py("turns", turns=True)})
                if "limit_class_signal_kept" in f.evidence]


def test_a_network_that_crops_away_a_quarter_of_the_image_or_more_is_named_with_the_builders_default(nets):
    data = {"source": _bars(nets / "bars.npz"), "kind": "image"}
    f = next(f for f in _found({"data": data, "model": _py("cropped", crop=4)}) if "pixels_unread" in f.evidence)
    assert (f.code, f.severity, f.evidence["pixels_unread"], f.evidence["pixels"]) == ("underfitting", "warning", 48, 64)
    assert f.evidence["read_box"] == [2, 6, 2, 6] and "rows 2-5 and columns 2-5" in f.explanation
    assert f.fixes[0].overrides == {"model.options.crop": 0} and f.fixes[0].architecture
    assert not [f for f in _found({"data": data, "model": _py("cropped")}) if "pixels_unread" in f.evidence]
    # an eighth of the image left out (one border row) is under the quarter: not named
    assert not [f for f in _found({"data": data, "model": _py("cropped", crop=7)}) if "pixels_unread" in f.evidence]


def test_a_conv1d_handed_the_steps_as_its_channels_is_named_with_the_builders_default(nets):
    data = {"source": SEQ, "kind": "sequence"}   # 12 steps of 2 features
    f = next(f for f in _found({"data": data, "model": _py("conv1d", transpose=False)}) if "in_channels" in f.evidence)
    assert (f.code, f.severity) == ("underfitting", "warning")
    assert (f.evidence["in_channels"], f.evidence["steps"], f.evidence["features"]) == (12, 12, 2)
    assert f.fixes[0].overrides == {"model.options.transpose": True}
    assert not [f for f in _found({"data": data, "model": _py("conv1d")}) if "in_channels" in f.evidence]
    # repaired in the run: the rebuilt network convolves along the steps
    cfg = {"data": data, "seed": 0, "model": _py("conv1d", transpose=False), "training": {"epochs": 1, "threads": 1},
           "doctor": {"repair": True, "allow_architecture_changes": True}}
    run = trainwell.train(cfg, out=nets / "run", quiet=True)
    assert json.loads((run.path / "repairs.json").read_text())[0]["overrides"] == {"model.options.transpose": True}


def test_a_network_blind_to_the_sign_of_its_inputs_is_named_where_a_linear_model_finds_signal(nets):
    import numpy as np

    wine = {"source": "builtin:wine"}
    f = next(f for f in _found({"data": wine, "model": _py("squared", poly="replace")}) if "rows" in f.evidence
             and "limit" in f.evidence and "x and -x" in str(f.evidence["limit"]))
    assert (f.code, f.severity) == ("underfitting", "warning") and "even function" in f.explanation
    assert f.fixes[0].overrides == {"model.options.poly": "concat"}
    # another option the user set, back at its default, leaves the network as blind: not offered
    wide = next(f for f in _found({"data": wine, "model": _py("squared", poly="replace", hidden=64)})
                if "x and -x" in str(f.evidence.get("limit")))
    assert [x.overrides for x in wide.fixes] == [{"model.options.poly": "concat"}]
    assert not [f for f in _found({"data": wine, "model": _py("squared")}) if "x and -x" in str(f.evidence.get("limit"))]
    # labels that no linear model reads from the inputs: the sign may not matter, nothing is said
    rng = np.random.default_rng(0)
    rows = ["a,b,c,target"] + [f"{a:.3f},{b:.3f},{c:.3f},{int(rng.integers(0, 2))}" for a, b, c in rng.normal(size=(300, 3))]
    (nets / "noise.csv").write_text("\n".join(rows) + "\n")
    noise = {"source": "noise.csv", "target": "target"}
    assert not [f for f in _found({"data": noise, "model": _py("squared", poly="replace")})
                if "x and -x" in str(f.evidence.get("limit"))]


def test_a_regressor_whose_output_bias_starts_at_the_targets_mean_in_its_units_is_named(nets):
    data = {"source": "builtin:diabetes"}
    f = next(f for f in _found({"data": data, "model": _py("reg", start=17.0)}) if "output_median_abs" in f.evidence)
    assert f.code == "exploding_gradients" and 10 <= f.evidence["output_median_abs"] < 30 and f.evidence["limit"] == 10
    assert f.fixes[0].overrides == {"model.options.start": 0.0}
    # a few standard deviations off is within what training moves in its first steps
    assert not [f for f in _found({"data": data, "model": _py("reg", start=3.0)}) if "output_median_abs" in f.evidence]

