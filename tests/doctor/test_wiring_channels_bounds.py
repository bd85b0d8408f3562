"""Custom networks that never read an image channel holding signal, whose regression output is bounded,
or that drop most of their units; and the causes put first whatever the symptom: an Adam eps that sets
the step, a training split cut by data.train_fraction (twenty-fifth held-out set)."""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest

import trainwell
from trainwell import api
from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.doctor import rules
from trainwell.doctor.context import build_context
from trainwell.doctor.facts import Context
from trainwell.doctor.findings import Finding, Fix
from trainwell.doctor.rules.root_causes import _with_dropout_option_fix, _with_eps_fix, _with_fraction_fix

from pretraining import found

NETS = '''
import torch
from torch import nn


def _out(spec):
    return 1 if spec.task == "binary" else spec.n_outputs   # trainwell's bce reads one logit


class TwoChannel(nn.Module):
    def __init__(self, c_in, n_out):
        super().__init__()
        self.c_in = c_in
        self.conv = nn.Conv2d(c_in, 8, 3, padding=1)
        self.head = nn.Linear(16, n_out)

    def forward(self, x):
        f = torch.relu(self.conv(x[:, :self.c_in]))
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))


def two_channel(spec, inputs="all"):
    return TwoChannel(spec.input_shape[0] if inputs == "all" else 1, _out(spec))


def squashed(spec, bound="none", dropout=0.1):
    layers = [nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, spec.n_outputs)]
    layers += {"none": [], "tanh": [nn.Tanh()], "sigmoid": [nn.Sigmoid()]}[bound]
    return nn.Sequential(*layers)
'''


@pytest.fixture
def nets(tmp_path, monkeypatch):
    (tmp_path / "bound_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("bound_nets", None)


def _found(config: dict, key: str) -> list:
    return found(config, key)


def _py(builder: str, **options) -> dict:
    return {"type": "python", "builder": f"bound_nets:{builder}", "options": options}


def _patches(path, signal_in: int, second: str = "noise") -> str:
    """8x8 two-channel patches: the class is a bright spot in channel `signal_in`; the other channel
    is noise, or (second="flat") one constant plane."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, size=(400, 2, 8, 8)).astype("float32")
    y = np.arange(400) % 2
    for i in np.nonzero(y)[0]:
        r, c = rng.integers(1, 7, 2)
        x[i, signal_in, r - 1:r + 1, c - 1:c + 1] += 2.0
    if second == "flat":
        x[:, 1 - signal_in] = 1.0
    np.savez(path, x=x, y=y.astype("int64"))
    return str(path)


def test_an_image_channel_never_read_is_named_where_it_alone_tells_the_classes(nets):
    data = {"source": _patches(nets / "spots.npz", signal_in=1), "kind": "image"}
    f = next(iter(_found({"data": data, "model": _py("two_channel", inputs="first")}, "channels_unread")))
    assert (f.code, f.severity, f.evidence["channels_unread"], f.evidence["channels"]) == ("underfitting", "warning", [1], 2)
    assert f.fixes[0].overrides == {"model.options.inputs": "all"} and f.fixes[0].architecture
    assert not _found({"data": data, "model": _py("two_channel")}, "channels_unread")
    # the channel left out holds nothing (a constant plane, the signal in the one read): a choice, not a fault
    flat = {"source": _patches(nets / "flat.npz", signal_in=0, second="flat"), "kind": "image"}
    assert not _found({"data": flat, "model": _py("two_channel", inputs="first")}, "channels_unread")
    # noise in the unread channel, the signal in the read one: nothing lost either
    read = {"source": _patches(nets / "read.npz", signal_in=0), "kind": "image"}
    assert not _found({"data": read, "model": _py("two_channel", inputs="first")}, "channels_unread")


@pytest.mark.parametrize("bound", ["tanh", "sigmoid"])
def test_a_regressors_output_squashed_under_its_standardized_target_is_named(nets, bound):
    data = {"source": "builtin:diabetes"}
    f = next(iter(_found({"data": data, "model": _py("squashed", bound=bound)}, "scales")))
    assert (f.code, f.severity) == ("underfitting", "warning")
    sides = f.evidence["columns"][0]
    assert "above" in sides and sides["above"]["reached"] <= 1.0 + 1e-6 and sides["above"]["targets_beyond"] >= 0.05
    assert f.fixes[0].overrides == {"model.options.bound": "none"}
    assert not _found({"data": data, "model": _py("squashed")}, "scales")
    # a target kept in its own units: a bounded output may be the point (a share); not judged
    raw = {"source": "builtin:diabetes", "scale_target": False}
    assert not _found({"data": raw, "model": _py("squashed", bound=bound)}, "scales")
    # repaired before the first step: the rebuilt network's output reaches the target
    cfg = {"data": data, "seed": 0, "model": _py("squashed", bound=bound), "training": {"epochs": 1, "threads": 1},
           "doctor": {"repair": True, "allow_architecture_changes": True}}
    run = trainwell.train(cfg, out=nets / "run", quiet=True)
    assert json.loads((run.path / "repairs.json").read_text())[0]["overrides"] == {"model.options.bound": "none"}


def test_heavy_dropout_in_a_custom_network_is_read_and_its_default_goes_first_when_it_underfits(nets):
    cfg = load_config({"seed": 0, "data": {"source": "builtin:wine"}, "model": _py("squashed", dropout=0.9)})
    prepared = prepare(cfg.data, cfg.seed, cfg.model.type)
    ctx = build_context(cfg, prepared, api._plan(cfg, prepared.spec))
    assert ctx.wiring["heavy_dropout"] == {"layer": "2", "p": 0.9}
    assert ctx.wiring["fixes"]["heavy_dropout"] == {"dropout": 0.1}
    # not a finding alone
    assert not [f for f in rules.examine([], {}, ctx, rules.PRE_TRAINING) if "heavy_dropout" in f.evidence]
    under = Finding("underfitting", "warning", 12, None, {}, "Training loss stalls.", [Fix({"training.epochs": 120}, "more")])
    fixed = _with_dropout_option_fix(under, ctx)
    assert fixed.fixes[0].overrides == {"model.options.dropout": 0.1} and "keep_prob" in fixed.explanation
    assert fixed.evidence["heavy_dropout"]["p"] == 0.9
    # an info, or a symptom dropout does not cause, is left as it was
    over = Finding("overfitting", "warning", 12, None, {}, "x", [Fix({"optimizer.weight_decay": 1e-3}, "decay")])
    assert _with_dropout_option_fix(over, ctx).fixes[0].overrides == {"optimizer.weight_decay": 1e-3}
    # at 0.5, the top of the usual range, nothing is read
    ok = load_config({"seed": 0, "data": {"source": "builtin:wine"}, "model": _py("squashed", dropout=0.5)})
    assert not (build_context(ok, prepared, api._plan(ok, prepared.spec)).wiring or {}).get("heavy_dropout")


def _stalled(code="stuck_at_chance"):
    return Finding(code, "warning", 3, None, {}, "The loss stays at chance.", [Fix({"optimizer.weight_decay": 1e-3}, "x")])


def test_an_adam_eps_far_over_its_default_goes_first_whatever_the_stall_is_called():
    ctx = Context(task="regression", loss="mse", optimizer="adam", lr=0.008, epochs=30, eps=1.0)
    f = _with_eps_fix(_stalled(), ctx)
    assert f.fixes[0].overrides == {"optimizer.eps": 1e-8} and f.evidence["eps"] == 1.0 and "lr x gradient / eps" in f.explanation
    for other in (Context(task="regression", loss="mse", optimizer="adam", lr=0.008, epochs=30, eps=1e-8),   # the default
                  Context(task="regression", loss="mse", optimizer="sgd", lr=0.008, epochs=30, eps=1.0)):    # SGD has no eps
        assert _with_eps_fix(_stalled(), other).fixes[0].overrides == {"optimizer.weight_decay": 1e-3}
    # a blow-up is no symptom of a large eps
    assert _with_eps_fix(_stalled("lr_too_high"), ctx).fixes[0].overrides == {"optimizer.weight_decay": 1e-3}


def test_overfitting_on_part_of_the_training_split_offers_all_of_it_first():
    over = Finding("overfitting", "info", 23, None, {}, "Validation loss rose.", [Fix({"optimizer.weight_decay": 1e-3}, "x")])
    f = _with_fraction_fix(over, Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=30, train_fraction=0.1))
    assert f.fixes[0].overrides == {"data.train_fraction": 1.0} and f.severity == "info"
    assert "0.1" in f.explanation and f.evidence["train_fraction"] == 0.1
    whole = Finding("overfitting", "info", 23, None, {}, "x", [Fix({"optimizer.weight_decay": 1e-3}, "x")])
    assert _with_fraction_fix(whole, Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=30)).fixes[0].overrides == \
        {"optimizer.weight_decay": 1e-3}
