"""The Python API and training options end to end on tiny real data."""

import json

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import trainwell
from trainwell.api import resolve_device


def test_api_returns_run_with_metrics_history_predict(tiny_cfg, tmp_path, blobs_csv):
    run = trainwell.train(tiny_cfg, overrides={"training.epochs": 3}, out=tmp_path / "r")
    assert len(run.history) == 3 and "val_loss" in run.history[0]
    assert run.metrics["test"]["accuracy"] > 0.5
    frame = pd.read_csv(blobs_csv).drop(columns=["label"]).head(7)
    pred = run.predict(frame)
    assert len(pred) == 7 and list(pred.index) == list(frame.index)
    again = trainwell.load_run(run.path)
    assert again.predict(frame).equals(pred)


@pytest.mark.parametrize("bs", [1, "full", 1000])
def test_batch_sizes(tiny_cfg, tmp_path, bs):
    run = trainwell.train(tiny_cfg, {"training.batch_size": bs, "training.epochs": 2}, out=tmp_path / str(bs))
    assert len(run.history) == 2 and all(h["train_loss"] == h["train_loss"] for h in run.history)


@pytest.mark.parametrize("schedule", [
    {"name": "step", "step_size": 1, "gamma": 0.5},
    {"name": "multistep", "milestones": [1, 2], "gamma": 0.1},
    {"name": "exponential", "gamma": 0.5},
    {"name": "cosine", "warmup_epochs": 1},
    {"name": "one_cycle"},
    {"name": "reduce_on_plateau", "patience": 0, "factor": 0.5},
])
def test_schedules_change_lr_over_epochs(tiny_cfg, tmp_path, schedule):
    tiny_cfg["schedule"] = schedule
    tiny_cfg["training"]["epochs"] = 4
    if schedule["name"] == "reduce_on_plateau":
        # A large lr on easy data makes val loss stall within a few epochs.
        tiny_cfg["training"]["epochs"] = 15
        tiny_cfg["optimizer"]["lr"] = 0.3
    run = trainwell.train(tiny_cfg, out=tmp_path / schedule["name"])
    lrs = [h["lr"] for h in run.history]
    assert len(set(lrs)) > 1, lrs
    if schedule["name"] in ("step", "exponential"):
        assert lrs == sorted(lrs, reverse=True)


def test_gradient_clipping_and_l1(tiny_cfg, tmp_path):
    base = trainwell.train(tiny_cfg, {"training.epochs": 3}, out=tmp_path / "base")
    l1 = trainwell.train(tiny_cfg, {"training.epochs": 3, "regularization.l1": 0.01}, out=tmp_path / "l1")
    norm = lambda r: sum(float(v.abs().sum()) for k, v in load_file(str(r.path / "model.safetensors")).items()
                         if k.endswith("weight"))
    assert norm(l1) < norm(base)
    for key in ("regularization.clip_grad_norm", "regularization.clip_grad_value"):
        run = trainwell.train(tiny_cfg, {"training.epochs": 2, key: 0.1}, out=tmp_path / key)
        assert run.history[-1]["train_loss"] < 5


def test_oversample_and_class_weights_handle_imbalance(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    n = 400
    y = (rng.random(n) < 0.1).astype(int)
    x = rng.normal(size=(n, 2)) + y[:, None] * 1.5
    p = tmp_path / "imb.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y}).to_csv(p, index=False)
    cfg = {"data": {"source": str(p), "target": "y"}, "model": {"hidden": [8]},
           "training": {"epochs": 10, "batch_size": 32}, "optimizer": {"lr": 0.01}}
    for method in ("class_weights", "oversample", "undersample"):
        run = trainwell.train(cfg, {"data.imbalance": method}, out=tmp_path / method)
        report = json.loads((run.path / "data.json").read_text())
        assert report["imbalance"]["method"] == method
        assert run.metrics["test"]["balanced_accuracy"] > 0.6
    # Classes 9:1 apart: balanced accuracy is watched every epoch beside accuracy; 1:1 apart, not.
    assert {"val_accuracy", "val_balanced_accuracy"} <= set(run.history[-1])
    even = tmp_path / "even.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": np.arange(n) % 2}).to_csv(even, index=False)
    run = trainwell.train({**cfg, "data": {"source": str(even), "target": "y"}}, {"training.epochs": 1},
                          out=tmp_path / "even")
    assert "val_balanced_accuracy" not in run.history[-1]


def test_explicit_val_and_test_files(tmp_path, blobs_csv):
    df = pd.read_csv(blobs_csv)
    paths = {}
    for name, part in (("train", df[:160]), ("val", df[160:200]), ("test", df[200:])):
        paths[name] = tmp_path / f"{name}.csv"
        part.to_csv(paths[name], index=False)
    cfg = {"data": {"source": str(paths["train"]), "target": "label", "val": str(paths["val"]),
                    "test": str(paths["test"]), "split": {"train": 1.0, "val": 0.0, "test": 0.0}},
           "model": {"hidden": [8]}, "training": {"epochs": 2}}
    run = trainwell.train(cfg, out=tmp_path / "r")
    rows = json.loads((run.path / "data.json").read_text())["rows"]
    assert rows == {"train": 160, "val": 40, "test": 40}


def test_progress_bar_runs(tiny_cfg, tmp_path, capsys):
    trainwell.train(tiny_cfg, {"training.epochs": 2}, out=tmp_path / "r", quiet=False)
    err = capsys.readouterr().err
    assert "epoch" in err and "val_loss" in err and "data:" in err


def test_device_auto_and_errors():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(trainwell.UserError, match="training.device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(trainwell.UserError, match="no CUDA device"):
            resolve_device("cuda")


def test_find_lr_and_diagnose_are_in_the_public_api(tmp_path):
    import trainwell

    assert {"find_lr", "diagnose"} <= set(trainwell.__all__)
    cfg = {"data": {"source": "builtin:iris"}, "seed": 0, "training": {"epochs": 2, "threads": 1}}
    run = trainwell.train(cfg, out=tmp_path / "run", quiet=True)
    verdict = trainwell.diagnose(run.path)
    assert verdict["text"].startswith(str(run.path)) and isinstance(verdict["findings"], list)
    assert [f.code for f in verdict["findings"]] == [d["code"] for d in json.loads((run.path / "findings.json").read_text())]
    swept = trainwell.find_lr(cfg, steps=20)
    assert swept.steps_run > 0 and len(swept.lrs) == len(swept.losses) == swept.steps_run
    with pytest.raises(trainwell.UserError):
        trainwell.diagnose(tmp_path / "nowhere")
