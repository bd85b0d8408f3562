"""A custom image network that thresholds its own inputs ((x > 0), a mask written for raw counts over a
dark background, kept after standardization): named before training with the builder's default as the
fix (twenty-eighth held-out set)."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from trainwell import api

from image_data import blobs
from pretraining import found

NETS = '''
import torch
from torch import nn


class Masked(nn.Module):
    def __init__(self, channels, n_out, binarize, levels):
        super().__init__()
        self.binarize, self.levels = binarize, levels
        self.body = nn.Sequential(nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Linear(8 * 16, n_out)

    def forward(self, x):
        if self.binarize:
            x = (x > 0).float()            # 'crystal pixels are the positive ones'
        if self.levels:
            x = torch.round(x * self.levels) / self.levels   # a fine rounding keeps the shading
        return self.head(self.body(x))


def masked(spec, binarize=False, levels=0):
    return Masked(spec.input_shape[0], spec.n_outputs, bool(binarize), int(levels))
'''


@pytest.fixture
def nets(tmp_path, monkeypatch):
    (tmp_path / "mask_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("mask_nets", None)


def _found(config: dict) -> list:
    return found(config, "quantized_pixels")


def test_images_thresholded_inside_the_network_are_named_with_the_builders_default(nets):
    data = {"source": blobs(nets / "blobs.npz"), "kind": "image"}
    model = {"type": "python", "builder": "mask_nets:masked", "options": {"binarize": True}}
    (f,) = _found({"data": data, "model": model})
    assert (f.code, f.severity, f.epoch) == ("underfitting", "warning", 0)
    assert f.evidence["levels_seen"] == 2 and f.evidence["distinct_as_prepared"] > 8
    assert f.evidence["quantized_pixels"] >= 0.25 * f.evidence["pixels"]
    assert f.fixes[0].overrides == {"model.options.binarize": False} and f.fixes[0].architecture
    # the pixels as they are, or rounded finely enough to keep the shading: nothing
    assert not _found({"data": data, "model": {**model, "options": {}}})
    assert not _found({"data": data, "model": {**model, "options": {"levels": 50}}})


def test_the_threshold_is_taken_out_before_the_first_step(nets):
    data = {"source": blobs(nets / "blobs.npz"), "kind": "image"}
    cfg = {"seed": 0, "data": data, "model": {"type": "python", "builder": "mask_nets:masked", "options": {"binarize": True}},
           "training": {"epochs": 1, "threads": 1}, "doctor": {"repair": True, "allow_architecture_changes": True}}
    run = api.train(cfg, out=nets / "run", quiet=True)
    (repair,) = json.loads((run.path / "repairs.json").read_text())
    assert (repair["epoch"], repair["code"], repair["overrides"]) == (0, "underfitting", {"model.options.binarize": False})
    assert run.config.model.options["binarize"] is False
