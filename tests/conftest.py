"""Shared fixtures: tiny synthetic data, fixed seeds."""

import os

import numpy as np
import pandas as pd
import pytest

# A doctor rule that raises fails the test that ran it (for users it is skipped with a warning).
os.environ.setdefault("TRAINWELL_STRICT_RULES", "1")


def blobs_frame(n: int = 240, noise: float = 0.7, color: bool = True) -> pd.DataFrame:
    """Three Gaussian blobs (cat, dog, eel) in columns a, b; optionally a categorical `color`."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 0], [3, 3], [-3, 3]])
    x = centers[y] + rng.normal(0, noise, (n, 2))
    df = pd.DataFrame({"a": x[:, 0], "b": x[:, 1]})
    if color:
        df["color"] = rng.choice(["red", "blue"], n)
    df["label"] = np.array(["cat", "dog", "eel"])[y]
    return df


@pytest.fixture(scope="session")
def make_blobs():
    """blobs_frame, for fixtures of a wider scope than a test."""
    return blobs_frame


@pytest.fixture
def blobs_csv(tmp_path):
    """A 3-class CSV that a small MLP separates in a few epochs, with one categorical column."""
    path = tmp_path / "blobs.csv"
    blobs_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def tiny_cfg(blobs_csv):
    """A config dict that trains in well under a second."""
    return {
        "name": "tiny",
        "seed": 0,
        "data": {"source": str(blobs_csv), "target": "label"},
        "model": {"hidden": [16]},
        "optimizer": {"name": "adam", "lr": 0.01},
        "training": {"epochs": 5, "batch_size": 32},
    }


@pytest.fixture
def cli(capsys, monkeypatch):
    """Runs the real CLI entry point in-process; returns (exit code, stdout, stderr)."""
    import sys

    from trainwell.cli import main

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["trainwell", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def write_yaml(tmp_path):
    import yaml

    def write(cfg, name="cfg.yaml"):
        p = tmp_path / name
        p.write_text(yaml.safe_dump(cfg))
        return p

    return write


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tiny models train as fast on one thread, and one thread cannot stall at a barrier when
    other processes share the two cores (measured: 2 threads ran 5-60x slower under load)."""
    import torch

    torch.set_num_threads(1)
