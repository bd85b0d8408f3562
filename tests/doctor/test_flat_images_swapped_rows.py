"""A custom network's own transform that wipes its images flat (the mean put in place of the image),
one that puts the batch out of order while it trains (x.flip(0) on the batch), an embedding that sets
neighbouring rows as far apart as any two (Fourier features at too high a frequency), and activation
checkpointing that cuts the gradient of what it wraps: each named before training with the builder's
default as the fix (twenty-ninth held-out set)."""

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
import torch.utils.checkpoint
from torch import nn


class Grains(nn.Module):
    def __init__(self, channels, n_out, level, flip):
        super().__init__()
        self.level, self.flip = level, flip
        self.body = nn.Sequential(nn.Conv2d(channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Linear(8 * 16, n_out)

    def forward(self, x):
        if self.level == "subtract":
            x = x - x.mean((2, 3), keepdim=True)
        elif self.level == "replace":
            x = x.mean((2, 3), keepdim=True).expand_as(x)     # the minus dropped
        if self.training and self.flip != "none" and torch.rand(()) < 0.5:
            x = x.flip(3 if self.flip == "width" else 0)
        return self.head(self.body(x))


def grains(spec, level="subtract", flip="width"):
    return Grains(spec.input_shape[0], spec.n_outputs, level, flip)


class Rows(nn.Module):
    def __init__(self, n_in, n_out, flip, checkpoint):
        super().__init__()
        self.flip, self.checkpoint = flip, checkpoint
        self.body = nn.Sequential(nn.Linear(n_in, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.head = nn.Linear(32, n_out)

    def forward(self, x):
        if self.training and self.flip:
            x = x.flip(0)
        h = torch.utils.checkpoint.checkpoint(self.body, x, use_reentrant=True) if self.checkpoint else self.body(x)
        return self.head(h)


def rows(spec, flip=False, checkpoint=False):
    return Rows(spec.input_shape[0], spec.n_outputs, bool(flip), bool(checkpoint))


class Fourier(nn.Module):
    def __init__(self, n_in, n_out, scale):
        super().__init__()
        self.scale = scale
        if scale > 0:
            self.register_buffer("freq", torch.randn(n_in, 8, generator=torch.Generator().manual_seed(0)) * scale)
        self.body = nn.Sequential(nn.Linear(n_in * 16 if scale > 0 else n_in, 32), nn.SiLU(), nn.Linear(32, n_out))

    def forward(self, x):
        if self.scale > 0:
            a = 2 * torch.pi * x[:, :, None] * self.freq[None]
            x = torch.cat([torch.sin(a), torch.cos(a)], dim=2).flatten(1)
        return self.body(x)


def fourier(spec, scale=0.0):
    return Fourier(spec.input_shape[0], spec.n_outputs, float(scale))
'''


@pytest.fixture
def nets(tmp_path, monkeypatch):
    (tmp_path / "grain_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("grain_nets", None)


def _images(nets, **options) -> dict:
    return {"data": {"source": blobs(nets / "grains.npz", drift=40), "kind": "image"},
            "model": {"type": "python", "builder": "grain_nets:grains", "options": options}}


def test_images_wiped_flat_inside_the_network_are_named_with_the_builders_default(nets):
    (f,) = found(_images(nets, level="replace"), "flat_images")
    assert (f.code, f.severity, f.epoch) == ("underfitting", "error", 0)
    assert f.evidence["flat_images"] >= 0.9 * f.evidence["images"] and f.evidence["pixels"] == 256
    assert f.evidence["detail_handed"] < 0.01 < f.evidence["detail_as_prepared"]
    assert f.fixes[0].overrides == {"model.options.level": "subtract"} and f.fixes[0].architecture
    # each image centred on its own mean keeps its detail; so does the image as it comes
    assert not found(_images(nets, level="subtract"), "flat_images")
    assert not found(_images(nets, level="none"), "flat_images")


def test_a_batch_flipped_on_its_rows_in_training_is_named_and_a_mirror_is_not(nets):
    (f,) = found(_images(nets, flip="batch"), "passes_swapped")
    assert (f.code, f.severity) == ("underfitting", "error")
    assert f.evidence["passes_swapped"] >= 1 and f.evidence["output_row_that_answered"] == f.evidence["batch"] - 1
    assert f.fixes[0].overrides == {"model.options.flip": "width"}
    # a mirror of each image, and batch norm's statistics over the batch in training mode, are no swap
    assert not found(_images(nets, flip="width"), "passes_swapped")
    assert not found(_images(nets, flip="none"), "passes_swapped")


def test_rows_of_a_table_batch_flipped_in_training_are_named(nets):
    model = {"type": "python", "builder": "grain_nets:rows", "options": {"flip": True}}
    (f,) = found({"data": {"source": "builtin:wine"}, "model": model}, "passes_swapped")
    assert f.evidence["passes_swapped"] == f.evidence["training_passes"]   # every pass, not at random
    assert f.fixes[0].overrides == {"model.options.flip": False}
    assert not found({"data": {"source": "builtin:wine"}, "model": {**model, "options": {}}}, "passes_swapped")


def test_activation_checkpointing_that_cuts_the_gradient_is_switched_off(nets):
    model = {"type": "python", "builder": "grain_nets:rows", "options": {"checkpoint": True}}
    with pytest.warns(UserWarning):   # PyTorch's own: "None of the inputs have requires_grad=True"
        (f,) = found({"data": {"source": "builtin:wine"}, "model": model}, "layers_without_gradient")
    assert f.code == "vanishing_gradients" and f.evidence["layers_without_gradient"] == ["body.0", "body.2"]
    assert f.fixes[0].overrides == {"model.options.checkpoint": False}


def test_an_embedding_that_scatters_neighbouring_rows_is_named_and_a_gentle_one_is_not(nets):
    model = {"type": "python", "builder": "grain_nets:fourier", "options": {"scale": 10}}
    (f,) = found({"data": {"source": "builtin:diabetes"}, "model": model}, "neighbour_ratio_handed")
    assert (f.code, f.severity) == ("overfitting", "warning")
    assert f.evidence["neighbour_ratio_handed"] >= 0.85 > 0.6 >= f.evidence["neighbour_ratio_as_prepared"]
    assert f.evidence["width_handed"] == 16 * 10
    # the network without the embedding is smaller by the embedding's width alone: still the fix
    assert f.fixes[0].overrides == {"model.options.scale": 0.0}
    for gentle in ({"scale": 0.1}, {}):
        assert not found({"data": {"source": "builtin:diabetes"}, "model": {**model, "options": gentle}},
                         "neighbour_ratio_handed")


def test_the_flipped_batch_is_repaired_before_the_first_step(nets):
    cfg = {"seed": 0, **_images(nets, flip="batch"), "training": {"epochs": 1, "threads": 1},
           "doctor": {"repair": True, "allow_architecture_changes": True}}
    run = api.train(cfg, out=nets / "run", quiet=True)
    (repair,) = json.loads((run.path / "repairs.json").read_text())
    assert (repair["epoch"], repair["code"], repair["overrides"]) == (0, "underfitting", {"model.options.flip": "width"})
    assert run.config.model.options["flip"] == "width"
