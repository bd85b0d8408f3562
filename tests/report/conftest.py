"""Runs to report on: trained once per session on tiny data, with the report written by train."""

import numpy as np
import pytest

import trainwell


@pytest.fixture(scope="session")
def class_run(tmp_path_factory, make_blobs):
    base = tmp_path_factory.mktemp("report_class")
    csv = base / "blobs.csv"
    df = make_blobs(210, noise=1.2, color=False)
    df.loc[::17, "a"] = np.nan  # something for the cleaning counts
    df.to_csv(csv, index=False)
    cfg = {"name": "blobs", "seed": 0, "data": {"source": str(csv), "target": "label"},
           "model": {"hidden": [16, 8]}, "optimizer": {"lr": 0.01}, "schedule": {"name": "cosine"},
           "training": {"epochs": 25, "early_stopping": {"monitor": "val_accuracy", "patience": 4}}}
    return trainwell.train(cfg, out=base / "runs" / "blobs").path


@pytest.fixture(scope="session")
def regression_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("report_reg")
    cfg = {"name": "diabetes", "seed": 0, "data": {"source": "builtin:diabetes"},
           "model": {"hidden": [16]}, "optimizer": {"lr": 0.01}, "training": {"epochs": 6}}
    return trainwell.train(cfg, out=base / "runs" / "diabetes").path
