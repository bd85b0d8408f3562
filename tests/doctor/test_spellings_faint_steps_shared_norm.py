"""Class labels split by their spelling, faint inputs into a recurrent cell, a sequence net that reads only
each sequence's mean, and one batch norm module shared by two layers (twenty-seventh held-out set)."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from trainwell import api
from trainwell.doctor import rules
from trainwell.doctor.facts import Context

from pretraining import context as _context, found as _found

NETS = '''
import torch
from torch import nn
import torch.nn.functional as F


class Moves(nn.Module):
    """Each channel less its running mean over `window` steps, read by a Conv1d, beside the means."""
    def __init__(self, f, n_out, window):
        super().__init__()
        self.window = window
        self.conv = nn.Sequential(nn.Conv1d(f, 8, 5, padding=2), nn.ReLU())
        self.head = nn.Linear(16 + f, n_out)

    def forward(self, x):
        z = x.transpose(1, 2)
        k = self.window
        static = F.avg_pool1d(F.pad(z, (k // 2, k - 1 - k // 2), mode="replicate"), k, stride=1)
        h = self.conv(z - static)
        return self.head(torch.cat([h.mean(2), h.amax(2), static.mean(2)], dim=1))


def moves(spec, window=5):
    t, f = spec.input_shape
    return Moves(int(f), spec.n_outputs, int(window))


class Normed(nn.Module):
    def __init__(self, n_in, n_out, shared):
        super().__init__()
        self.a, self.b = nn.Linear(n_in, 16), nn.Linear(16, 16)
        self.norms = nn.ModuleList([nn.BatchNorm1d(16)] if shared else [nn.BatchNorm1d(16), nn.BatchNorm1d(16)])
        self.head = nn.Linear(16, n_out)

    def forward(self, x):
        h = torch.relu(self.norms[0](self.a(x)))
        h = torch.relu(self.norms[-1](self.b(h) * 3 + 2))
        return self.head(h)


def normed(spec, shared=False):
    return Normed(spec.n_features, spec.n_outputs, bool(shared))
'''


@pytest.fixture
def nets(tmp_path, monkeypatch):
    (tmp_path / "faint_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("faint_nets", None)






def _spelled(path) -> str:
    """Three groups told apart by two numbers; a tenth of the labels typed in other cases or with spaces."""
    rng = np.random.default_rng(0)
    n = 600
    group = rng.integers(0, 3, n)
    x = rng.normal(0, 1, (n, 2)) + np.array([[0, 0], [3, 0], [0, 3]])[group]
    names = np.array(["iron", "stony", "mixed"], dtype=object)[group]
    typed = rng.random(n) < 0.1
    names[typed] = [v.upper() if i % 2 else f" {v}" for i, v in enumerate(names[typed])]
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "kind": names}).to_csv(path, index=False)
    return str(path)


def test_class_labels_split_by_case_or_spaces_are_named_and_merged_before_training(tmp_path):
    data = {"source": _spelled(tmp_path / "m.csv"), "target": "kind", "clean": {"normalize_categories": False}}
    found = [f for f in _found({"data": data}) if "normalize_categories" in f.evidence]
    assert [(f.code, f.severity) for f in found] == [("bad_input_data", "warning")]
    assert found[0].evidence["n_groups"] == 3 and found[0].evidence["classes"] == 9
    assert found[0].fixes[0].overrides == {"data.clean.normalize_categories": True}
    # the default folds the spellings: nothing to name
    assert not [f for f in _found({"data": {**data, "clean": {}}}) if "normalize_categories" in f.evidence]
    # class weights given by label name the labels as they are: left alone
    weighted = {"data": data, "loss": {"class_weights": {"IRON": 2.0}}}
    assert not [f for f in _found(weighted) if "normalize_categories" in f.evidence]


def test_spellings_about_as_common_as_each_other_are_left_alone(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    y = rng.choice(["Co", "CO", "Fe"], n)   # cobalt and carbon monoxide, each a third of the rows
    pd.DataFrame({"a": rng.normal(size=n), "y": y}).to_csv(tmp_path / "e.csv", index=False)
    data = {"source": str(tmp_path / "e.csv"), "target": "y", "clean": {"normalize_categories": False}}
    assert _context({"data": data}).spellings == [["CO", "Co"]]
    assert not [f for f in _found({"data": data}) if "normalize_categories" in f.evidence]


def test_the_merge_before_training_trains_on_the_merged_classes(tmp_path):
    data = {"source": _spelled(tmp_path / "m.csv"), "target": "kind", "clean": {"normalize_categories": False}}
    run = api.train({"seed": 0, "data": data, "model": {"hidden": [16]}, "optimizer": {"lr": 0.01}, "training": {"epochs": 10},
                     "doctor": {"repair": True}}, out=tmp_path / "runs", quiet=True)
    assert run.config.data.clean.normalize_categories is True
    assert sorted(run.spec.classes) == ["iron", "mixed", "stony"] and run.plan["n_out"] == 3
    assert run.metrics["test"]["accuracy"] > 0.8


def _bursts(path, spread: float, offset: float) -> str:
    """Three channels of 30 steps whose class is how much they move, on a constant offset."""
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 1, (n, 30, 3)) * spread * np.array([0.5, 1.0, 1.5])[y][:, None, None]
    x[:, :, 2] += offset
    np.savez(path, x=x.astype("float32"), y=y.astype("int64"))
    return str(path)


def test_faint_inputs_into_a_recurrent_cell_with_scaling_off_are_named():
    ctx = Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=0.005, epochs=20, scale="none",
                  model_type="rnn", cell="gru", data_kind="sequence", feature_rms=[0.23, 0.16, 1.01],
                  feature_sd=[0.18, 0.155, 0.21], feature_absmax=[1.2, 0.9, 2.2], feature_names=["surge", "sway", "heave"])
    found = rules.unscaled_features([], {}, ctx)
    assert found.code == "unscaled_features" and found.fixes[0].overrides == {"data.scale": "standardize"}
    assert "heave also sits on a constant offset" in found.explanation
    # a spread near the unit scale, or the same inputs standardized, or an MLP: not named
    assert rules.unscaled_features([], {}, Context(**{**ctx.__dict__, "feature_sd": [0.45, 0.5, 0.48]})) is None
    assert rules.unscaled_features([], {}, Context(**{**ctx.__dict__, "scale": "standardize"})) is None
    assert rules.unscaled_features([], {}, Context(**{**ctx.__dict__, "model_type": "mlp"})) is None
    # min-max scaled by the user (every value within [-1, 1]): a unit range, left alone
    assert rules.unscaled_features([], {}, Context(**{**ctx.__dict__, "feature_absmax": [1.0, 0.9, 1.0]})) is None
    # a constant feature does not pull the spread down, nor become the offset named
    loud = Context(**{**ctx.__dict__, "feature_sd": [0.0, 0.5, 0.45], "feature_rms": [5.0, 0.5, 1.1]})
    assert rules.unscaled_features([], {}, loud) is None


def test_the_spread_is_read_from_the_prepared_sequences(tmp_path):
    faint = _bursts(tmp_path / "f.npz", 0.2, 1.0)
    base = {"data": {"source": faint, "scale": "none"}, "model": {"type": "rnn", "cell": "gru", "hidden_size": 8}}
    ctx = _context(base)
    assert len(ctx.feature_sd) == 3 and max(ctx.feature_sd) < 0.25
    assert [f.code for f in _found(base) if "spread" in f.evidence] == ["unscaled_features"]
    loud = {**base, "data": {"source": _bursts(tmp_path / "l.npz", 1.0, 1.0), "scale": "none"}}
    assert not [f for f in _found(loud) if "spread" in f.evidence]


def test_a_sequence_net_that_reads_only_each_sequences_mean_is_named_with_the_builders_default(nets):
    data = {"source": _bursts(nets / "b.npz", 1.0, 0.0), "kind": "sequence"}
    blind = {"type": "python", "builder": "faint_nets:moves", "options": {"window": 1}}
    found = [f for f in _found({"data": data, "model": blind}) if "yardstick_means" in f.evidence]
    assert [(f.code, f.severity) for f in found] == [("underfitting", "warning")]
    assert found[0].fixes[0].overrides == {"model.options.window": 5}
    assert not (_context({"data": data, "model": {**blind, "options": {"window": 5}}}).wiring or {}).get("steps_averaged")


def _table(path) -> str:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4))
    y = np.digitize(x @ [1.0, -1.0, 0.5, 0.0], [-0.5, 0.5])
    pd.DataFrame({**{f"x{i}": x[:, i] for i in range(4)}, "y": y}).to_csv(path, index=False)
    return str(path)


def test_one_batch_norm_module_applied_after_two_layers_is_named(nets):
    base = {"data": {"source": _table(nets / "t.csv"), "target": "y"}}
    shared = {"type": "python", "builder": "faint_nets:normed", "options": {"shared": True}}
    found = [f for f in _found({**base, "model": shared}) if "limit_variance_ratio" in f.evidence]
    assert [(f.code, f.severity) for f in found] == [("overfitting", "warning")]
    assert found[0].evidence["calls"] == 2 and found[0].evidence["layer"] == "norms.0"
    assert found[0].fixes[0].overrides == {"model.options.shared": False}
    assert not (_context({**base, "model": {**shared, "options": {"shared": False}}}).wiring or {}).get("bn_shared")


def test_a_ghost_batch_norm_over_chunks_of_the_batch_is_not_named():
    import torch

    from trainwell.doctor.wiring import _bn_call_hooks, _bn_shared

    norm = torch.nn.BatchNorm1d(8)
    calls: dict = {}
    hooks = _bn_call_hooks(torch.nn.ModuleDict({"norm": norm}), calls)
    x = torch.randn(32, 8) * torch.linspace(0.2, 3, 32)[:, None]   # chunks that differ a lot
    for chunk in x.split(4):
        norm(chunk)
    assert len(calls["norm"]) == 8 and _bn_shared(calls, 32) is None
    calls.clear()
    norm(x[:16] * 5 + 3)
    norm(x[16:])
    assert _bn_shared(calls, 32) is None   # two halves of one batch are chunks too
    calls.clear()
    norm(x * 5 + 3)
    norm(x)
    assert _bn_shared(calls, 32)["calls"] == 2
    calls.clear()
    norm.eval()   # a module kept in eval mode never blends its running statistics
    norm(x * 5 + 3)
    norm(x)
    assert calls == {}
    for h in hooks:
        h.remove()
