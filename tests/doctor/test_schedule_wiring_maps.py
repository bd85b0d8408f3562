"""A cosine floor above the rate, a warmup longer than the run, a CNN whose blocks shrink the image to one
position, a forecaster whose outputs never read the newest step, and batch norm at Keras' momentum
(twenty-sixth held-out set)."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.doctor.facts import Context
from trainwell.doctor.findings import Finding, Fix
from trainwell.doctor.rules.root_causes import _with_warmup_fix

from pretraining import context as _context, found as _found

NETS = '''
import torch
from torch import nn


class Forecaster(nn.Module):
    def __init__(self, f, n_out, read):
        super().__init__()
        self.gru = nn.GRU(f, 16, batch_first=True)
        self.read, self.n_out = read, n_out
        self.head = nn.Linear(16, n_out if read == "last" else 1)

    def forward(self, x):
        out, _ = self.gru(x)
        if self.read == "last":
            return self.head(out[:, -1])
        return self.head(out[:, -self.n_out:]).squeeze(-1)


def forecaster(spec, read="last"):
    return Forecaster(spec.input_shape[-1], spec.n_outputs, read)


def normed(spec, bn_momentum=0.1):
    return nn.Sequential(nn.Linear(spec.n_features, 16), nn.BatchNorm1d(16, momentum=bn_momentum), nn.ReLU(),
                         nn.Linear(16, spec.n_outputs))
'''


@pytest.fixture
def nets(tmp_path, monkeypatch):
    (tmp_path / "sched_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("sched_nets", None)






def _series(path) -> str:
    """An hourly series whose next values follow its latest ones (an AR(1) with a daily cycle)."""
    rng = np.random.default_rng(0)
    n = 600
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.9 * y[t - 1] + np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3)
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "load": y,
                  "temp": rng.normal(0, 1, n)}).to_csv(path, index=False)
    return str(path)


def test_a_cosine_floor_above_the_rate_is_named_and_read_as_the_fraction_it_was_meant(tmp_path):
    base = {"data": {"source": "builtin:iris"}, "optimizer": {"lr": 0.005}, "training": {"epochs": 20}}
    found = [f for f in _found({**base, "schedule": {"name": "cosine", "min_lr": 0.05}}) if "peak_factor" in f.evidence]
    assert [f.code for f in found] == ["lr_too_high"] and found[0].evidence["peak_factor"] == 10
    assert found[0].fixes[0].overrides == {"schedule.min_lr": 0.00025} and found[0].fixes[1].overrides == {"schedule.min_lr": 0.0}
    # a floor under the rate decays as meant
    assert not [f for f in _found({**base, "schedule": {"name": "cosine", "min_lr": 0.0005}}) if "peak_factor" in f.evidence]


def test_a_warmup_longer_than_the_run_is_an_info_whose_fix_the_stalls_put_first():
    base = {"data": {"source": "builtin:iris"}, "optimizer": {"lr": 0.005}, "training": {"epochs": 40}}
    found = [f for f in _found({**base, "schedule": {"warmup_epochs": 500}}) if "warmup_epochs" in f.evidence]
    assert [(f.code, f.severity) for f in found] == [("lr_too_low", "info")]
    assert found[0].fixes[0].overrides == {"schedule.warmup_epochs": 4}
    assert not [f for f in _found({**base, "schedule": {"warmup_epochs": 3}}) if "warmup_epochs" in f.evidence]
    ctx = Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=0.005, epochs=40, warmup_epochs=500)
    stall = Finding("underfitting", "warning", 12, None, {}, "Both losses stay high.", [Fix({"model.hidden": [128]}, "x")])
    fixed = _with_warmup_fix(stall, ctx)
    assert fixed.fixes[0].overrides == {"schedule.warmup_epochs": 4} and "still climbing" in fixed.explanation
    short = Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=0.005, epochs=40, warmup_epochs=3)
    again = Finding("underfitting", "warning", 12, None, {}, "x", [Fix({"model.hidden": [128]}, "x")])
    assert _with_warmup_fix(again, short).fixes[0].overrides == {"model.hidden": [128]}


def test_cnn_blocks_that_shrink_the_image_to_one_position_are_named_with_fixes_that_keep_it_larger(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, size=(200, 1, 16, 16)).astype("float32")
    np.savez(tmp_path / "img.npz", x=x, y=(np.arange(200) % 2).astype("int64"))
    data = {"source": str(tmp_path / "img.npz")}
    strided = {"type": "cnn", "blocks": [{"channels": 8, "stride": 2}, {"channels": 8, "stride": 2},
                                         {"channels": 8, "pool": "none", "stride": 2}], "global_pool": True}
    found = [f for f in _found({"data": data, "model": strided}) if "map_sizes" in f.evidence]
    assert [f.code for f in found] == ["underfitting"] and found[0].evidence["map_sizes"] == [[16, 16], [4, 4], [1, 1]]
    assert all(b["stride"] == 1 for b in found[0].fixes[0].overrides["model.blocks"])
    # the same blocks at stride 1 keep 16 -> 8 -> 4
    plain = {**strided, "blocks": [{**b, "stride": 1} for b in strided["blocks"]]}
    assert not [f for f in _found({"data": data, "model": plain}) if "map_sizes" in f.evidence]
    # shrunk by data.image.size: the images at their own size come first
    small = [f for f in _found({"data": {**data, "image": {"size": [4, 4]}}, "model": plain}) if "map_sizes" in f.evidence]
    assert small and small[0].fixes[0].overrides == {"data.image.size": None} and not small[0].fixes[0].architecture


def test_a_forecaster_whose_outputs_never_read_the_newest_step_is_named(nets):
    data = {"source": _series(nets / "load.csv"), "target": "load",
            "series": {"time_column": "time", "window": 24, "horizon": 6}}
    steps = {"type": "python", "builder": "sched_nets:forecaster", "options": {"read": "steps"}}
    found = [f for f in _found({"data": data, "model": steps}) if "outputs_blind_to_newest_step" in f.evidence]
    assert [f.code for f in found] == ["underfitting"]
    assert found[0].evidence["outputs_blind_to_newest_step"] == [1, 2, 3, 4, 5]
    assert found[0].fixes[0].overrides == {"model.options.read": "last"}
    last = {**steps, "options": {"read": "last"}}
    assert not (_context({"data": data, "model": last}).wiring or {}).get("newest_unread")


def test_batch_norm_at_keras_momentum_is_named_with_the_builders_default(nets):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(202, 4))
    pd.DataFrame({**{f"x{i}": x[:, i] for i in range(4)}, "y": x @ [1.0, -1.0, 0.5, 0.0]}).to_csv(nets / "t.csv", index=False)
    base = {"data": {"source": str(nets / "t.csv"), "target": "y"}, "training": {"batch_size": 8}}
    keras = {"type": "python", "builder": "sched_nets:normed", "options": {"bn_momentum": 0.99}}
    found = [f for f in _found({**base, "model": keras}) if "limit_momentum" in f.evidence]
    assert [(f.code, f.severity) for f in found] == [("overfitting", "warning")] and found[0].evidence["momentum"] == 0.99
    assert found[0].fixes[0].overrides == {"model.options.bn_momentum": 0.1}
    assert not [f for f in _found({**base, "model": {**keras, "options": {"bn_momentum": 0.01}}})
                if "limit_momentum" in f.evidence]


def _stability(path, informative: bool) -> str:
    """Taps to a failure (1-30), or 99 where the test never failed; the class follows the 99 or not."""
    rng = np.random.default_rng(0)
    n = 600
    never = rng.random(n) < 0.4
    taps = np.where(never, 99, rng.integers(1, 31, n))
    y = np.where(never if informative else rng.random(n) < 0.4, "stable", rng.choice(["slab", "wet"], n))
    pd.DataFrame({"taps": taps, "depth": rng.normal(50, 10, n), "y": y}).to_csv(path, index=False)
    return str(path)


def test_a_missing_code_whose_rows_tell_the_target_is_named_and_kept_as_a_value(tmp_path):
    data = {"source": _stability(tmp_path / "s.csv", True), "target": "y", "clean": {"missing_codes": [99]}}
    cfg = load_config({"seed": 0, "data": data})
    coded = prepare(cfg.data, 0, "mlp").report["coded_target"]["taps"]
    assert coded["codes"] == [99.0] and coded["real"] == [1.0, 30.0] and sum(coded["coded_counts"]) == coded["rows"]
    found = [f for f in _found({"data": data}) if "limit_distance" in f.evidence]
    assert [f.code for f in found] == ["bad_input_data"] and found[0].evidence["columns"][0]["column"] == "taps"
    assert found[0].fixes[0].overrides == {"data.clean.missing_codes": []} and "'stable'" in found[0].explanation
    # a code whose rows are like the others' is a gap like any other
    plain = {**data, "source": _stability(tmp_path / "r.csv", False)}
    assert not [f for f in _found({"data": plain}) if "limit_distance" in f.evidence]


def test_a_finding_before_training_keeps_its_own_fix_first():
    from trainwell.doctor.rules.root_causes import _with_eps_fix, _with_fraction_fix

    ctx = Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=0.005, epochs=40, warmup_epochs=500,
                  eps=1.0, train_fraction=0.1)
    own = {"data.split.train": 0.7, "data.split.test": 0.15}
    swapped = Finding("overfitting", "warning", 0, 0, {}, "The split looks swapped.", [Fix(own, "x")])
    assert _with_fraction_fix(swapped, ctx).fixes[0].overrides == own
    collapsed = Finding("underfitting", "warning", 0, 0, {}, "x", [Fix({"model.blocks": []}, "x")])
    assert _with_eps_fix(_with_warmup_fix(collapsed, ctx), ctx).fixes[0].overrides == {"model.blocks": []}
