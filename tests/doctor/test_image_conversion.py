"""data.image.color and data.image.size that make classes look alike, found before training."""

from __future__ import annotations

import json

import numpy as np
import pytest

import trainwell


def read(run, name):
    return json.loads((run.path / name).read_text())


def _fruit(folder, per_class=60, side=12):
    """Ripe (red) and unripe (green) of the same luma, and darker brown: only hue tells the first two apart."""
    from PIL import Image

    rng = np.random.default_rng(0)
    luma = np.array([0.299, 0.587, 0.114])
    colours = {"ripe": np.array([200.0, 40, 40]), "overripe": np.array([110.0, 70, 30])}
    green = np.array([0.0, 1.0, 0.2])
    colours["unripe"] = green * (luma @ colours["ripe"]) / (luma @ green)
    for name, colour in colours.items():
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            img = np.clip(colour * rng.uniform(0.85, 1.15) + rng.normal(0, 6, (side, side, 3)), 0, 255)
            Image.fromarray(img.astype(np.uint8)).save(folder / name / f"{i:03d}.png")


def _ribs(path, n=320, side=20):
    """1-pixel ribs across or along, and 6-pixel ribs across or along, at random phase, contrast and lighting."""
    rng = np.random.default_rng(1)
    x = np.empty((n, 1, side, side), dtype=np.float32)
    y = np.arange(n) % 4
    grid = np.arange(side)
    for i in range(n):
        if y[i] < 2:  # light and dark rows in turn, either way round
            wave = np.where((grid + rng.integers(0, 2)) % 2, 1.0, -1.0)
        else:
            wave = np.sin(2 * np.pi * (grid + rng.uniform(0, 6)) / 6)
        wave = wave * rng.uniform(0.5, 1.0)
        img = np.tile(wave[:, None], (1, side)) if y[i] % 2 == 0 else np.tile(wave[None, :], (side, 1))
        light = rng.uniform(-40, 40) * grid[:, None] / side + rng.uniform(-40, 40) * grid[None, :] / side
        x[i, 0] = 128 + 60 * img + light + rng.normal(0, 15, (side, side))
    np.savez(path, x=x, y=y)


def _found(run):
    return [f for f in read(run, "findings.json") if "lost_pairs" in f["evidence"]]


def test_grayscale_on_classes_told_apart_by_hue_is_found_and_undone(tmp_path):
    _fruit(tmp_path / "fruit")
    cfg = {"data": {"source": str(tmp_path / "fruit"), "image": {"color": "grayscale"}}, "seed": 0,
           "model": {"type": "cnn", "blocks": [{"channels": 8}]}, "training": {"epochs": 3, "threads": 1}}
    plain = trainwell.train(cfg, out=tmp_path / "plain", quiet=True)
    found = _found(plain)
    assert [(f["code"], f["epoch"]) for f in found] == [("bad_input_data", 0)]
    assert found[0]["fixes"][0]["overrides"] == {"data.image.color": "rgb"}
    assert sorted(found[0]["evidence"]["lost_pairs"][0]["classes"]) == ["ripe", "unripe"]
    assert found[0]["evidence"]["lost_pairs"][0]["stored"] >= 0.8 > 0.6 > found[0]["evidence"]["lost_pairs"][0]["converted"]
    # the stored colours, and a smaller size that keeps the hue: nothing to say
    for name, image in (("rgb", {"color": "rgb"}), ("small", {"size": [6, 6]})):
        run = trainwell.train(cfg, {"data.image": image}, out=tmp_path / name, quiet=True)
        assert _found(run) == []
    repaired = trainwell.train(cfg, {"doctor.repair": True}, out=tmp_path / "repaired", quiet=True)
    assert ("bad_input_data", {"data.image.color": "rgb"}) in \
        [(r["code"], r["overrides"]) for r in read(repaired, "repairs.json")]
    assert read(repaired, "data.json")["images"]["channels"] == 3
    assert repaired.metrics["test"]["accuracy"] > plain.metrics["test"]["accuracy"] + 0.15


def _loss(source, size, **data):
    from trainwell.config import load_config
    from trainwell.data import prepare
    from trainwell.doctor.image_measures import conversion_loss

    cfg = load_config({"data": {"source": source, "image": {"size": size}, **data}, "model": {"type": "cnn"}})
    return conversion_loss(cfg.data, prepare(cfg.data, 0, "cnn"))


@pytest.fixture
def ribs(tmp_path):
    _ribs(tmp_path / "ribs.npz")
    return str(tmp_path / "ribs.npz")


def test_a_size_that_averages_fine_ribs_away_is_found_and_a_sharper_one_is_not(ribs):
    half = _loss(ribs, [10, 10])
    assert [p["classes"] for p in half["lost_pairs"]] == [["0", "1"]]
    assert half["fix"] == {"data.image.size": None} and half["stored_size"] == [20, 20]
    assert _loss(ribs, [20, 20]) is None          # no change
    assert _loss(ribs, [40, 40]) is None          # enlarged: nothing lost
    assert _loss(ribs, [10, 10], classes=[2, 3]) is None  # only the coarse ribs, which survive
    assert _loss("builtin:digits", [4, 4]) is None


def test_the_size_fix_trains_the_stored_ribs(tmp_path, ribs):
    cfg = {"data": {"source": ribs, "image": {"size": [10, 10]}}, "seed": 0,
           "model": {"type": "cnn", "blocks": [{"channels": 8}]}, "training": {"epochs": 2, "threads": 1},
           "doctor": {"repair": True}}
    run = trainwell.train(cfg, out=tmp_path / "r", quiet=True)
    assert [r["overrides"] for r in read(run, "repairs.json")][:1] == [{"data.image.size": None}]
    assert read(run, "data.json")["images"]["size"] == [20, 20]


def test_a_one_pixel_size_and_a_custom_network_get_a_verdict_without_breaking_the_run(tmp_path, monkeypatch):
    import sys
    import textwrap

    # 1x1 images have no spread over their pixels: the measure must not feed NaN to its regression
    cfg = {"data": {"source": "builtin:digits", "image": {"size": [1, 1]}}, "seed": 0, "training": {"epochs": 1, "threads": 1},
           "model": {"type": "cnn", "blocks": [{"channels": 4, "pool": "none"}]}}
    trainwell.train(cfg, out=tmp_path / "tiny", quiet=True)
    # a custom network built for one channel: the colour fix would break it, so it is named, not offered
    _fruit(tmp_path / "fruit")
    (tmp_path / "gray_nets.py").write_text(textwrap.dedent('''
        from torch import nn

        def gray_cnn(spec):
            assert spec.input_shape[0] == 1, "built for grayscale"
            return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                 nn.Linear(8, spec.n_outputs))
    '''))
    monkeypatch.chdir(tmp_path)
    custom = {"data": {"source": str(tmp_path / "fruit"), "image": {"color": "grayscale"}}, "seed": 0,
              "model": {"type": "python", "builder": "gray_nets:gray_cnn"}, "training": {"epochs": 1, "threads": 1},
              "doctor": {"repair": True, "allow_architecture_changes": True}}
    try:
        run = trainwell.train(custom, out=tmp_path / "custom", quiet=True)
        found = _found(run)
        assert [(f["code"], f["fixes"]) for f in found] == [("bad_input_data", [])]
        assert "custom or pretrained" in found[0]["explanation"]
    finally:
        sys.modules.pop("gray_nets", None)
