"""Transfer learning: init_from, freeze, new_head, param_groups."""

import pytest
import torch
from safetensors.torch import load_file

import trainwell


def test_init_from_copies_weights_and_freeze_keeps_them(tiny_cfg, tmp_path):
    base = trainwell.train(tiny_cfg, {"training.epochs": 2}, out=tmp_path / "base")
    tuned = trainwell.train(tiny_cfg, {"training.epochs": 2, "model.init_from": str(base.path),
                                       "model.freeze": ["body"]}, out=tmp_path / "tuned")
    a, b = load_file(str(base.path / "model.safetensors")), load_file(str(tuned.path / "model.safetensors"))
    assert torch.equal(a["body.0.weight"], b["body.0.weight"])  # frozen: untouched
    assert not torch.equal(a["head.weight"], b["head.weight"])  # trained on
    assert "froze" in (tuned.path / "log.txt").read_text()


def test_new_head_and_param_groups(tiny_cfg, tmp_path):
    base = trainwell.train(tiny_cfg, {"training.epochs": 2}, out=tmp_path / "base")
    tuned = trainwell.train(tiny_cfg, {
        "training.epochs": 1, "model.init_from": str(base.path), "model.new_head": True,
        "optimizer.param_groups": [{"prefix": ["body"], "lr": 1e-6}], "optimizer.lr": 0.05,
    }, out=tmp_path / "tuned")
    a, b = load_file(str(base.path / "model.safetensors")), load_file(str(tuned.path / "model.safetensors"))
    # The backbone moved by a tiny lr only; the new head is far from the old one.
    assert (a["body.0.weight"] - b["body.0.weight"]).abs().max() < 1e-3
    assert (a["head.weight"] - b["head.weight"]).abs().max() > 1e-2


def test_incompatible_shapes_name_the_layer(tiny_cfg, tmp_path):
    base = trainwell.train(tiny_cfg, {"training.epochs": 1}, out=tmp_path / "base")
    with pytest.raises(trainwell.UserError) as exc:
        trainwell.train(tiny_cfg, {"model.init_from": str(base.path), "model.hidden": [32]}, out=tmp_path / "x")
    msg = str(exc.value)
    assert "layer body.0.weight" in msg and "(16, 4)" in msg and "(32, 4)" in msg
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_bad_freeze_prefix_and_missing_run(tiny_cfg, tmp_path):
    with pytest.raises(trainwell.UserError, match=r"model.freeze: \['encoder'\] match no parameter"):
        trainwell.train(tiny_cfg, {"model.freeze": ["encoder"]}, out=tmp_path / "a")
    with pytest.raises(trainwell.UserError, match="model.init_from"):
        trainwell.train(tiny_cfg, {"model.init_from": str(tmp_path / "nowhere")}, out=tmp_path / "b")
    with pytest.raises(trainwell.UserError, match="optimizer.param_groups"):
        trainwell.train(tiny_cfg, {"optimizer.param_groups": [{"prefix": ["nothing"], "lr": 0.1}]},
                        out=tmp_path / "c")
