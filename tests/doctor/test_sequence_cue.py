"""A one-way recurrent net whose class cue lies far before the last step."""

from __future__ import annotations

import json

import numpy as np
import yaml

import trainwell
from trainwell.doctor.context import _cue_profile


def read(run, name):
    return json.loads((run.path / name).read_text())


def _knocks(path=None, n=360, steps=80, cue_at=0):
    """Three shapes of transient in 8 steps starting at `cue_at`, in noise: the class is the shape."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    x = rng.normal(0, 1, (n, steps, 2)).astype(np.float32)
    t = np.arange(8)
    for i in range(n):
        shape = [np.exp(-(t - 3) ** 2), np.exp(-(t - 1) ** 2) + np.exp(-(t - 5) ** 2), np.sin(t * 1.5)][y[i]]
        x[i, cue_at:cue_at + 8, 0] += 3 * shape
    if path is not None:
        np.savez(path, x=x, y=y)
    return x, y


def cue_profile(x, y):
    return _cue_profile(x, y, 2000)


def test_the_profile_finds_where_the_cue_lies():
    early = cue_profile(*_knocks())
    assert early["luck"] < 0.2
    assert early["gains"][0] > 0.2 and max(early["gains"][1:]) < early["gains"][0] / 3
    assert (early["last_cue_step"], early["after_cue"]) == (8, 72)
    late = cue_profile(*_knocks(cue_at=72))
    assert late["after_cue"] == 0
    everywhere = np.random.default_rng(1).normal(size=(300, 50, 2))
    labels = np.arange(300) % 2
    everywhere[:, :, 0] += labels[:, None] * 0.8   # the class shows in every step
    assert cue_profile(everywhere, labels)["after_cue"] == 0


def test_noise_seldom_shows_a_cue_early_enough_to_call():
    # no signal anywhere: a tenth may pass a gain of 0.1 by luck on 60-150 held-out rows, but not
    # 3 standard errors of chance
    early = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = (120, 200, 300)[seed % 3]
        profile = cue_profile(rng.normal(size=(n, 100, 2)), np.arange(n) % 3)
        early += profile is not None and profile["after_cue"] >= 40
    assert early <= 2, early


def test_a_one_way_lstm_far_from_its_cue_is_found_and_made_bidirectional(tmp_path):
    _knocks(tmp_path / "knocks.npz")
    cfg = {"data": {"source": str(tmp_path / "knocks.npz")}, "seed": 0, "optimizer": {"lr": 0.005},
           "model": {"type": "rnn", "cell": "lstm", "hidden_size": 16}, "training": {"epochs": 8, "threads": 1}}
    plain = trainwell.train(cfg, out=tmp_path / "plain", quiet=True)
    found = [f for f in read(plain, "findings.json") if "steps_after_cue" in f["evidence"]]
    assert [(f["code"], f["epoch"], f["evidence"]["steps_after_cue"]) for f in found] == [("vanishing_gradients", 4, 72)]
    assert found[0]["fixes"][0]["overrides"] == {"model.bidirectional": True}
    both = trainwell.train(cfg, {"model.bidirectional": True}, out=tmp_path / "both", quiet=True)
    assert not [f for f in read(both, "findings.json") if f["severity"] != "info"]
    repaired = trainwell.train(cfg, {"doctor.repair": True, "doctor.allow_architecture_changes": True},
                               out=tmp_path / "repaired", quiet=True)
    assert [(r["code"], r["overrides"]) for r in read(repaired, "repairs.json")] == \
        [("vanishing_gradients", {"model.bidirectional": True})]
    assert repaired.metrics["test"]["accuracy"] > plain.metrics["test"]["accuracy"] + 0.3


def test_an_mlp_on_shapes_that_occur_at_any_time_is_named_and_given_a_gru(tmp_path, cli, write_yaml):
    import re
    import shlex
    from pathlib import Path

    seqs = Path(__file__).resolve().parents[2] / "examples" / "data" / "sequences.npz"   # waves of random phase
    cfg = {"data": {"source": str(seqs), "kind": "sequence"}, "seed": 0, "model": {"hidden": [64]},
           "training": {"epochs": 2, "threads": 1}}
    path = write_yaml(cfg)
    code, _, err = cli("train", path, "--out", str(tmp_path / "plain"), "-q")
    assert code == 0, err
    found = [f for f in json.loads((tmp_path / "plain" / "findings.json").read_text())
             if "linear_on_shift_free_features" in f["evidence"]]
    assert [(f["code"], f["severity"], f["epoch"]) for f in found] == [("overfitting", "warning", 0)]
    assert found[0]["evidence"]["linear_on_shift_free_features"] > 0.5 > found[0]["evidence"]["linear_on_steps_as_given"]
    # the fix as diagnose prints it, pasted into a shell: the whole model section becomes a GRU
    code, out, _ = cli("diagnose", str(tmp_path / "plain"))
    line = re.search(r"^\s*fix 1 \(changes the network\): a GRU.*?(--set .*)$", out, re.M).group(1)
    code, _, err = cli("train", path, "--out", str(tmp_path / "gru"), "-q", *shlex.split(line))
    assert code == 0, err
    assert yaml.safe_load((tmp_path / "gru" / "config.yaml").read_text())["model"]["type"] == "rnn"
    assert not [f for f in json.loads((tmp_path / "gru" / "findings.json").read_text())
                if "linear_on_shift_free_features" in f["evidence"]]
    # sequences aligned at a trigger: an MLP's steps line up, nothing to say
    _knocks(tmp_path / "knocks.npz")
    aligned = trainwell.train({**cfg, "data": {"source": str(tmp_path / "knocks.npz"), "kind": "sequence"}},
                              out=tmp_path / "aligned", quiet=True)
    assert not [f for f in read(aligned, "findings.json") if "linear_on_shift_free_features" in f["evidence"]]
    repaired = trainwell.train(cfg, {"doctor.repair": True, "doctor.allow_architecture_changes": True},
                               out=tmp_path / "repaired", quiet=True)
    assert [(r["code"], r["overrides"]) for r in read(repaired, "repairs.json")] == \
        [("overfitting", {"model": {"type": "rnn", "cell": "gru", "hidden_size": 32}})]
