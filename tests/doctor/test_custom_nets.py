"""Custom networks (model.type python) whose code, not their config, sets the trap."""

from __future__ import annotations

import json
import sys
import textwrap

import trainwell


def read(run, name):
    return json.loads((run.path / name).read_text())


def test_a_classifier_ending_in_softmax_is_read_above_its_floor(tmp_path, monkeypatch):
    (tmp_path / "soft_nets.py").write_text(textwrap.dedent('''
        from torch import nn

        def mlp(spec, softmax=True):
            layers = [nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Linear(32, spec.n_outputs)]
            return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if softmax else []))
    '''))
    monkeypatch.chdir(tmp_path)
    cfg = {"data": {"source": "builtin:wine"}, "seed": 0, "optimizer": {"lr": 0.01},
           "model": {"type": "python", "builder": "soft_nets:mlp"}, "training": {"epochs": 30, "threads": 1}}
    try:
        soft = trainwell.train(cfg, out=tmp_path / "soft", quiet=True)
        found = read(soft, "findings.json")
        assert soft.metrics["test"]["accuracy"] > 0.9
        assert [(f["code"], f["severity"]) for f in found if f["severity"] != "info"] == []
        told = [f for f in found if f["evidence"].get("outputs_sum_to_one")]
        assert abs(told[0]["evidence"]["loss_floor"] - 0.5514) < 1e-3   # log(e + 2) - 1 for 3 classes
        raw = trainwell.train(cfg, {"model.options.softmax": False}, out=tmp_path / "raw", quiet=True)
        assert not [f for f in read(raw, "findings.json") if f["evidence"].get("outputs_sum_to_one")]
    finally:
        sys.modules.pop("soft_nets", None)
