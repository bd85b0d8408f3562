"""A forecast's inputs measured before training (doctor/series_measures.py): columns of the file
that value_columns leave out and a linear model on the same windows finds worth adding."""

import numpy as np
import pandas as pd

from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.doctor import rules
from trainwell.doctor.series_measures import left_out_columns


def _series(tmp_path):
    # Demand follows the hour and the last hour's price, which its own past cannot tell; a
    # cumulative meter only climbs.
    rng = np.random.default_rng(0)
    n = 1500
    hour = np.arange(n) % 24
    price = rng.normal(size=n)
    demand = 50 + 10 * np.sin(hour / 24 * 2 * np.pi) - 8 * np.roll(price, 1) + rng.normal(0, 1, n)
    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=n, freq="h"), "demand": demand,
                          "price": price, "meter": np.cumsum(demand)})
    frame.to_csv(tmp_path / "demand.csv", index=False)
    return str(tmp_path / "demand.csv")


def test_a_column_left_out_that_a_linear_model_finds_useful_is_named_with_the_fix(tmp_path):
    source = _series(tmp_path)
    cfg = load_config({"data": {"source": source, "target": "demand",
                                "series": {"time_column": "timestamp", "window": 12, "horizon": 1,
                                           "value_columns": ["demand"]}}, "model": {"type": "rnn"}})
    found = left_out_columns(cfg, prepare(cfg.data, 0, "rnn"))
    assert [h["column"] for h in found["helpful"]] == ["price"]   # the meter's climb says nothing new
    assert found["r2_with_helpful"] > found["r2_listed"] + 0.02
    f = rules.columns_left_out([], {}, rules.Context(task="regression", loss="mse", optimizer="adam", lr=1e-3, epochs=10,
                                                                left_out_columns=found))
    assert f.code == "underfitting" and f.fixes[0].overrides == {"data.series.value_columns": ["demand", "price"]}
    # Every column in already, or no value_columns at all: nothing to measure.
    every = load_config({**cfg.model_dump(), "data": {**cfg.data.model_dump(),
                                                      "series": {**cfg.data.series.model_dump(), "value_columns": None}}})
    assert left_out_columns(every, prepare(every.data, 0, "rnn")) is None


def test_the_measure_forecasts_the_runs_own_target_and_leaves_a_target_outside_the_inputs_alone(tmp_path):
    frame = pd.read_csv(_series(tmp_path))[["timestamp", "price", "meter", "demand"]]   # demand last
    frame.to_csv(tmp_path / "reordered.csv", index=False)
    series = {"time_column": "timestamp", "window": 12, "horizon": 1, "value_columns": ["demand"]}
    # No data.target: the run forecasts the first listed column, demand, not the file's first (price).
    cfg = load_config({"data": {"source": str(tmp_path / "reordered.csv"), "series": series}, "model": {"type": "rnn"}})
    found = left_out_columns(cfg, prepare(cfg.data, 0, "rnn"))
    assert [h["column"] for h in found["helpful"]] == ["price"]
    # The target among the other columns only: target_history_unseen names that, with its own fix.
    cfg = load_config({"data": {"source": str(tmp_path / "reordered.csv"), "target": "demand",
                                "series": {**series, "value_columns": ["price"]}}, "model": {"type": "rnn"}})
    assert left_out_columns(cfg, prepare(cfg.data, 0, "rnn")) is None
