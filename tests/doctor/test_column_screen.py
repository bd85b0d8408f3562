"""A wide table whose signal sits in a few columns (doctor/column_screen.py, rule columns_drown_signal)."""

import numpy as np
import pandas as pd
import pytest

from trainwell import api
from trainwell.config import load_config
from trainwell.data import prepare

from pretraining import found


def _wine_with_sensors(path, sensors: int) -> str:
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=(len(wine), sensors)), columns=[f"sensor_{j:03d}" for j in range(sensors)])
    table = pd.concat([wine.drop(columns="target"), noise, wine[["target"]]], axis=1)
    table.to_csv(path, index=False)
    return str(path)


def _found(config: dict) -> list:
    return [f for f in _all(config) if "kept_columns" in f.evidence]


@pytest.fixture
def wide(tmp_path):
    return _wine_with_sensors(tmp_path / "wine_wide.csv", 400)


def test_a_wide_table_of_noise_beside_the_signal_is_named_with_the_signal_columns_as_the_fix(wide):
    from sklearn.datasets import load_wine

    (f,) = _found({"data": {"source": wide, "target": "target"}})
    assert (f.code, f.severity, f.epoch) == ("overfitting", "warning", 0)
    assert f.evidence["features"] > f.evidence["training_rows"]
    assert f.evidence["linear_kept"]["val_loss"] < 0.5 * f.evidence["linear_all"]["val_loss"]
    kept = f.fixes[0].overrides["data.features"]
    assert set(kept) <= set(load_wine().feature_names) and len(kept) >= 8   # the measurements, no sensor


def test_the_fix_trains_on_the_signal_and_repairs_the_run(wide, tmp_path):
    config = {"seed": 0, "data": {"source": wide, "target": "target"}, "model": {"hidden": [64, 64]},
              "optimizer": {"lr": 0.001}, "training": {"epochs": 40, "batch_size": 32}, "logging": {"report": False}}
    plain = api.train(config, out=tmp_path / "plain", quiet=True)
    fixed = api.train({**config, "doctor": {"repair": True}}, out=tmp_path / "fixed", quiet=True)
    acc = lambda run: run.metrics["test"]["accuracy"]
    repaired = (fixed.path / "config.repaired.yaml").read_text()
    assert "sensor_" not in repaired.split("features:")[1].split("target")[0]
    assert acc(fixed) >= acc(plain) + 0.2 and acc(fixed) >= 0.9


def test_tables_whose_columns_all_count_or_that_are_not_wide_are_left_alone(tmp_path):
    # digits on about 40 training rows: wider than long, and most of the 64 pixels say something
    digits = {"data": {"source": "builtin:digits", "train_fraction": 0.03}}
    cfg = load_config({"seed": 0, **digits})
    assert len(prepare(cfg.data, 0, "mlp").train.x) < 64
    assert not _found(digits)
    # the same wine with 20 sensors: not wide
    assert not _found({"data": {"source": _wine_with_sensors(tmp_path / "narrow.csv", 20), "target": "target"}})


def test_a_feature_list_that_says_nothing_is_named_with_the_left_out_columns_that_do():
    cfg = {"data": {"source": "builtin:diabetes", "features": ["age", "sex"],
                    "split": {"train": 0.6, "val": 0.2, "test": 0.2}}}
    (f,) = [f for f in _all(cfg) if "helpful" in f.evidence]
    assert (f.code, f.severity, f.epoch) == ("underfitting", "warning", 0)
    added = f.fixes[0].overrides["data.features"]
    assert added[:2] == ["age", "sex"] and "bmi" in added
    assert f.evidence["with_helpful"]["val_r2"] > f.evidence["as_listed"]["val_r2"] + 0.2
    # a list that leaves columns out while the listed ones carry signal is a choice, not a slip
    chosen = {"data": {**cfg["data"], "features": ["bmi", "bp", "s5"]}}
    assert not [f for f in _all(chosen) if "helpful" in f.evidence]


def _all(config: dict) -> list:
    return found(config)


def test_a_left_out_column_that_alone_predicts_the_target_is_not_offered(tmp_path):
    # a copy of the outcome beside diabetes' measurements: more likely a leak than a forgotten input
    from sklearn.datasets import load_diabetes

    table = load_diabetes(as_frame=True).frame
    table["outcome_recorded"] = table["target"] + np.random.default_rng(0).normal(0, 1, len(table))
    table.to_csv(tmp_path / "diabetes_leak.csv", index=False)
    cfg = {"data": {"source": str(tmp_path / "diabetes_leak.csv"), "target": "target", "features": ["age", "sex"],
                    "split": {"train": 0.6, "val": 0.2, "test": 0.2}}}
    (f,) = [f for f in _all(cfg) if "helpful" in f.evidence]
    assert "outcome_recorded" not in f.fixes[0].overrides["data.features"] and "bmi" in f.fixes[0].overrides["data.features"]
    assert f.evidence["left_out_as_leaks"] == ["outcome_recorded"] and "leak" in f.explanation
