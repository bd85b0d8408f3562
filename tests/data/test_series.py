import json

import numpy as np
import pandas as pd
import pytest

from trainwell.config import DataConfig
from trainwell.data import inverse_target, load_inputs, load_labelled, prepare
from trainwell.errors import UserError


def _series_csv(tmp_path, n=60, name="s.csv", **edit):
    """Column v = row number (so values reveal their time), w = 10 * v, shuffled rows with a time column."""
    t = np.arange(n)
    df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                       "v": t.astype(float), "w": 10.0 * t, "other": np.sin(t)})
    for (row, col), value in edit.get("cells", {}).items():
        df[col] = df[col].astype(object) if isinstance(value, str) else df[col]
        df.loc[row, col] = value
    df = df.sample(frac=1.0, random_state=0)  # the file is out of order; the time column fixes that
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


def _cfg(source, **series):
    extra = series.pop("data", {})
    return DataConfig(source=source, series={"time_column": "time", "value_columns": ["v", "w"],
                                             "window": 5, "horizon": 3, **series}, **extra)


def _prep(tmp_path, n=60, cells=None, **series):
    return prepare(_cfg(_series_csv(tmp_path, n, cells=cells or {}), **series), seed=0)


# ----------------------------------------------------------------------------- windows and split
def test_windows_line_up_in_time(tmp_path):
    p = _prep(tmp_path)
    assert p.spec.kind == "timeseries" and p.spec.task == "regression"
    assert p.spec.input_shape == [5, 2] and p.spec.n_outputs == 3 and p.spec.feature_names == ["v", "w"]
    assert p.spec.input_columns == ["time", "v", "w"] and p.spec.target == "v"
    sc = p.state["scale"]
    for split in (p.train, p.val, p.test):
        v = split.x[:, :, 0] * sc["std"][0] + sc["mean"][0]     # back to row numbers
        w = split.x[:, :, 1] * sc["std"][1] + sc["mean"][1]
        assert split.x.shape[1:] == (5, 2) and split.y.shape == (len(split.x), 3)
        np.testing.assert_allclose(w, 10 * v, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(np.diff(v, axis=1), 1.0, atol=1e-4)   # consecutive steps
        # y starts at the step right after the window's last one.
        np.testing.assert_allclose(split.y_raw[:, 0], v[:, -1] + 1, atol=1e-3)
        np.testing.assert_allclose(split.y_raw, split.y_raw[:, :1] + np.arange(3), atol=1e-9)
        np.testing.assert_allclose(inverse_target(p.state, split.y), split.y_raw, atol=1e-4)


def test_chronological_split_and_counts(tmp_path):
    p = _prep(tmp_path)
    # 60 rows -> 42 / 9 / 9; train windows need window history: 42 - 5 - 3 + 1 = 35; val/test 9 - 3 + 1 = 7.
    assert p.report["series_rows"] == {"train": 42, "val": 9, "test": 9}
    assert p.report["rows"] == {"train": 35, "val": 7, "test": 7}
    assert p.train.y_raw.max() < p.val.y_raw.min() and p.val.y_raw.max() < p.test.y_raw.min()
    assert p.train.y_raw.max() == 41 and p.val.y_raw.min() == 42 and p.test.y_raw.min() == 51
    # val's first window reads the last 5 training steps as history (inputs only, no target).
    first_val_inputs = p.val.x[0, :, 0] * p.state["scale"]["std"][0] + p.state["scale"]["mean"][0]
    np.testing.assert_allclose(first_val_inputs, np.arange(37, 42), atol=1e-3)
    assert any("stratify" in n for n in p.report["notes"])


def test_scaling_fitted_on_train_only(tmp_path):
    p = _prep(tmp_path)
    train_rows = np.arange(42.0)
    assert p.state["scale"]["mean"] == pytest.approx([train_rows.mean(), 10 * train_rows.mean()])
    assert p.state["scale"]["std"] == pytest.approx([train_rows.std(), 10 * train_rows.std()])
    assert p.state["target"]["mean"] == pytest.approx(train_rows.mean())
    assert abs(float(p.test.x.mean())) > 1  # test lies beyond the train range: not re-centred


def test_missing_codes_are_gaps_in_a_series_and_clipping_is_refused(tmp_path):
    # Both were ignored for a series: -999 was read as a value, clipping silently skipped.
    coded = _prep(tmp_path, cells={(10, "w"): -999.0}, data={"clean": {"missing_codes": [-999]}})
    plain = _prep(tmp_path)
    assert coded.state["scale"]["mean"] == pytest.approx(plain.state["scale"]["mean"])  # interpolated: 100
    assert any("missing-value code became gaps" in n for n in coded.report["notes"])
    assert coded.state["series"]["missing_codes"] == [-999.0]
    ignored = _prep(tmp_path, cells={(10, "w"): -999.0})
    assert ignored.state["scale"]["mean"][1] < plain.state["scale"]["mean"][1]  # without the code, a value
    new = pd.read_csv(_series_csv(tmp_path, cells={(10, "w"): -999.0}, name="new.csv"))
    x, _ = load_inputs(coded.state, new)
    assert np.isfinite(x).all() and x.min() > -5   # predict reads the code as a gap too
    with pytest.raises(UserError, match="data.clean.clip_outliers.*time series"):
        _prep(tmp_path, data={"clean": {"clip_outliers": "iqr"}})
    # a run started before the codes were kept still resumes: the missing keys meant no codes
    from trainwell.api import _state_defaults

    older = {**plain.state, "series": {k: v for k, v in plain.state["series"].items() if "missing_codes" not in k}}
    assert _state_defaults(older) == plain.state


def test_horizon_one_gives_flat_targets_and_baseline(tmp_path):
    p = _prep(tmp_path, horizon=1)
    assert p.train.y.shape == (len(p.train.x),) and p.baselines["test"].shape == p.test.y.shape


def test_persistence_baseline_is_last_observed_target(tmp_path):
    p = _prep(tmp_path)
    assert set(p.baselines) == {"val", "test"}
    for name in ("val", "test"):
        split, base = getattr(p, name), p.baselines[name]
        assert base.shape == split.y_raw.shape
        np.testing.assert_allclose(base, np.repeat(split.y_raw[:, :1] - 1, 3, axis=1))


def test_target_outside_inputs(tmp_path):
    p = prepare(_cfg(_series_csv(tmp_path), data={"target": "other"}), seed=0)
    assert p.spec.target == "other" and p.spec.feature_names == ["v", "w"] and p.train.x.shape[2] == 2
    np.testing.assert_allclose(p.train.y_raw[0], np.sin(np.arange(5, 8)), atol=1e-9)


def test_default_value_columns_are_numeric_columns(tmp_path):
    cfg = DataConfig(source=_series_csv(tmp_path), series={"time_column": "time", "window": 4})
    p = prepare(cfg, seed=0)
    assert p.spec.feature_names == ["v", "w", "other"] and p.spec.target == "v"


# ----------------------------------------------------------------------------- missing values
def test_interpolation_fills_and_counts(tmp_path):
    p = _prep(tmp_path, cells={(10, "v"): np.nan, (11, "v"): np.nan, (20, "w"): "garbage"})
    assert p.report["missing"] == {"v": 2, "w": 1} and p.report["coerced"] == {"w": 1}
    v = p.train.x[:, :, 0] * p.state["scale"]["std"][0] + p.state["scale"]["mean"][0]
    np.testing.assert_allclose(np.diff(v, axis=1), 1.0, atol=1e-4)  # linear gaps in a line: exact
    assert np.isfinite(p.train.x).all() and np.isfinite(p.train.y).all()


def test_drop_removes_rows_and_counts(tmp_path):
    p = _prep(tmp_path, missing="drop", cells={(3, "v"): np.nan, (50, "w"): np.nan})
    assert p.report["missing"] == {"v": 1, "w": 1}
    assert sum(p.report["series_rows"].values()) == 58
    assert 3 not in p.train.y_raw and np.isfinite(p.test.x).all()


def test_nan_at_the_edges_does_not_crash(tmp_path):
    cells = {(0, "v"): np.nan, (59, "v"): np.nan, (41, "w"): np.nan, (42, "w"): "x"}
    p = _prep(tmp_path, cells=cells)
    assert all(np.isfinite(getattr(p, s).x).all() for s in ("train", "val", "test"))


# ----------------------------------------------------------------------------- errors
def test_window_longer_than_series_is_user_error(tmp_path):
    with pytest.raises(UserError, match=r"data.series.window.*needs at least 103 rows.*has 60"):
        _prep(tmp_path, window=100)


def test_split_without_windows_is_user_error(tmp_path):
    with pytest.raises(UserError, match=r"data.series.window.*val/test.*train 42 rows, val 9 rows"):
        _prep(tmp_path, horizon=10)


def test_unknown_columns_are_user_errors(tmp_path):
    src = _series_csv(tmp_path)
    with pytest.raises(UserError, match="data.series.value_columns.*'nope'"):
        prepare(_cfg(src, value_columns=["v", "nope"]), seed=0)
    with pytest.raises(UserError, match="data.series.time_column.*'when'"):
        prepare(_cfg(src, time_column="when"), seed=0)


# ----------------------------------------------------------------------------- new data
def test_load_inputs_and_labelled(tmp_path):
    p = _prep(tmp_path)
    state = _roundtrip(p.state)
    new = _series_csv(tmp_path, n=20, name="new.csv")
    x, ids = load_inputs(state, new)
    assert x.shape == (16, 5, 2) and x.dtype == np.float32   # every complete window: 20 - 5 + 1
    assert list(ids.columns) == ["time"] and str(ids["time"].iloc[-1]).startswith("2024-01-20")
    xl, yl = load_labelled(state, new)
    assert xl.shape == (13, 5, 2) and yl.shape == (13, 3)     # windows with all 3 targets: 20 - 5 - 3 + 1
    np.testing.assert_allclose(inverse_target(state, yl)[:, 0], np.arange(5, 18), atol=1e-4)
    with pytest.raises(UserError, match=r"missing column\(s\) \['w'\]"):
        load_inputs(state, pd.read_csv(new).drop(columns="w"))


def _roundtrip(obj):
    import json

    return json.loads(json.dumps(obj))


# ----------------------------------------------------------------------------- sequences
def _npz(tmp_path, n=90, labels=None, name="seq.npz", two_d=False):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3 if labels is None else labels
    t = np.arange(12)
    x = np.sin(t[None, :] * (1 + np.asarray(y, dtype=float)[:, None] * 0.5 if labels is None else 1))
    x = x[:, :, None] + rng.normal(0, 0.1, (n, 12, 1))
    x = np.concatenate([x, 5 + 3 * x], axis=2)
    if two_d:
        x = x[:, :, 0]
    path = tmp_path / name
    np.savez(path, x=x.astype(np.float32), y=y)
    return str(path)


def test_sequences_classification(tmp_path):
    p = prepare(DataConfig(source=_npz(tmp_path)), seed=0, model_type="rnn")
    assert p.spec.kind == "sequence" and p.spec.task == "multiclass" and p.spec.classes == [0, 1, 2]
    assert p.spec.input_shape == [12, 2] and p.train.x.shape[1:] == (12, 2) and p.train.x.dtype == np.float32
    flat = p.train.x.reshape(-1, 2)
    np.testing.assert_allclose(flat.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(flat.std(0), 1, atol=1e-4)
    assert p.state["target"]["kind"] == "classification"
    assert list(inverse_target(p.state, np.array([2, 0]))) == [2, 0]
    # Stratified: 90 rows of 3 balanced classes -> 14 val / 14 test rows with 4 or 5 of each class.
    for split in ("val", "test"):
        assert sorted(p.report["class_counts"][split].values()) == [4, 5, 5]


def test_sequences_text_labels_and_two_d(tmp_path):
    labels = np.array(["up", "down"] * 30)
    p = prepare(DataConfig(source=_npz(tmp_path, n=60, labels=labels, two_d=True)), seed=0, model_type="rnn")
    assert p.spec.task == "binary" and p.spec.classes == ["down", "up"] and p.spec.input_shape == [12, 1]


def test_sequences_regression(tmp_path):
    y = np.linspace(0, 10, 90)
    p = prepare(DataConfig(source=_npz(tmp_path, labels=y)), seed=0, model_type="rnn")
    assert p.spec.task == "regression" and p.spec.n_outputs == 1
    np.testing.assert_allclose(inverse_target(p.state, p.test.y), p.test.y_raw, atol=1e-4)


def test_missing_and_infinite_sequence_values_are_counted_per_file_and_split(tmp_path, cli, write_yaml):
    # NaN in a data.val or data.test file was imputed without a count, and one inf among the training
    # steps made its feature's mean infinite: every value of that feature became 0, silently.
    src, val = _npz(tmp_path), _npz(tmp_path, n=30, name="val.npz")
    x = np.load(src)["x"]
    x[::10, 3, 1] = np.inf          # 9 rows, spread over the splits
    x[5, :, 0] = np.nan             # one row: 12 steps
    np.savez(src, x=x, y=np.load(src)["y"])
    vx = np.load(val)["x"]
    vx[0, 0, 0] = np.nan
    np.savez(val, x=vx, y=np.load(val)["y"])
    p = prepare(DataConfig(source=src, val=val), seed=0, model_type="rnn")
    assert np.isfinite(p.state["scale"]["mean"]).all() and np.abs(p.train.x[:, :, 1]).max() > 0.5
    assert p.report["coerced"] == {"x1": 9}
    imputed = p.report["imputed"]
    assert imputed["val"] == {"x0": 1}
    assert sum(imputed["train"].values()) + sum(imputed["test"].values()) == 12 + 9
    notes = [n for n in p.report["notes"] if n.startswith("missing:")]
    assert notes == [f"missing: 21 NaN or infinite value(s) (9 of them infinite) in x of data.source {src!r} "
                     f"(x0: 12, x1: 9); each takes the training mean of its feature",
                     f"missing: 1 NaN value(s) in x of data.val {val!r} (x0: 1); each takes the training mean of its "
                     f"feature"]
    assert "data.scale: none" in prepare(DataConfig(source=src, scale="none"), seed=0,
                                         model_type="rnn").report["notes"][0]
    # The log says it, as it says a table's imputation.
    code, _, err = cli("train", write_yaml({"data": {"source": src, "val": val}, "training": {"epochs": 1},
                                            "model": {"type": "rnn", "hidden_size": 4}}), "--out", tmp_path / "r")
    assert code == 0, err
    log = (tmp_path / "r" / "log.txt").read_text()
    assert "imputed: {'train': {" in log and "'val': {'x0': 1}" in log and f"data.val {val!r} (x0: 1)" in log
    assert json.loads((tmp_path / "r" / "data.json").read_text())["imputed"]["val"] == {"x0": 1}


def test_sequence_load_inputs_checks_shape(tmp_path):
    p = prepare(DataConfig(source=_npz(tmp_path)), seed=0, model_type="rnn")
    x, ids = load_inputs(p.state, _npz(tmp_path, n=9, name="new.npz"))
    assert x.shape == (9, 12, 2) and len(ids) == 9
    with pytest.raises(UserError, match=r"shape \(12, 1\)"):
        load_inputs(p.state, _npz(tmp_path, n=9, name="flat.npz", two_d=True))


def _channels_first(tmp_path, n=90, name="cf.npz"):
    """The _npz sequences saved as (N, features, steps), as PyTorch's Conv1d takes them."""
    with np.load(_npz(tmp_path, n=n, name="steps_" + name)) as d:
        x, y = d["x"], d["y"]
    path = tmp_path / name
    np.savez(path, x=np.ascontiguousarray(x.transpose(0, 2, 1)), y=y)
    return str(path), x


def test_channels_first_sequences_are_read_steps_first_for_training_and_new_data(tmp_path):
    src, steps_first = _channels_first(tmp_path)
    cfg = DataConfig(source=src, sequence={"layout": "channels_first"})
    p = prepare(cfg, seed=0, model_type="rnn")
    assert p.spec.input_shape == [12, 2] and p.state["layout"] == "channels_first"
    same = prepare(DataConfig(source=str(tmp_path / "steps_cf.npz")), seed=0, model_type="rnn")
    np.testing.assert_allclose(p.train.x, same.train.x)
    new, _ = _channels_first(tmp_path, n=9, name="new.npz")
    x, ids = load_inputs(p.state, new)
    np.testing.assert_allclose(x, load_inputs(same.state, str(tmp_path / "steps_new.npz"))[0])
    # A steps-first file given to a model trained channels-first is named in the file's own layout.
    with pytest.raises(UserError, match=r"shape \(12, 2\) \(F, T\), but the model was trained on \(2, 12\)"):
        load_inputs(p.state, str(tmp_path / "steps_new.npz"))


def test_a_channels_first_run_describes_and_resumes_in_its_files_layout(tmp_path):
    import json

    import trainwell
    from trainwell.serve.predict import load_predictor

    src, _ = _channels_first(tmp_path)
    cfg = {"name": "cf", "seed": 0, "data": {"source": src, "sequence": {"layout": "channels_first"}},
           "model": {"type": "rnn", "cell": "gru", "hidden_size": 4}, "training": {"epochs": 1, "threads": 1}}
    run = trainwell.train(cfg, out=tmp_path / "run", quiet=True)
    meta = load_predictor(run.path).metadata()
    assert meta["input_shape"] == [2, 12] and meta["layout"] == "channels_first"
    # a state saved before the layout key existed compares equal on resume: the missing key meant steps_first
    from trainwell.api import _state_defaults

    state = json.loads((run.path / "preprocess.json").read_text())
    state["layout"] = "steps_first"
    older = {k: v for k, v in state.items() if k != "layout"}
    assert _state_defaults(older) == state


def test_a_sequence_layout_on_other_data_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="data.sequence.layout: channels_first applies to sequence data"):
        prepare(DataConfig(source="builtin:iris", sequence={"layout": "channels_first"}), seed=0)
    with pytest.raises(Exception, match="steps_first"):
        DataConfig(source="builtin:iris", sequence={"layout": "NCT"})


def test_the_server_takes_sequences_in_the_files_layout(tmp_path):
    from trainwell.serve.server import PayloadError, array_from_inputs

    src, _ = _channels_first(tmp_path)
    state = prepare(DataConfig(source=src, sequence={"layout": "channels_first"}), seed=0, model_type="rnn").state
    assert array_from_inputs(state, np.zeros((3, 2, 12)).tolist()).shape == (3, 2, 12)
    with pytest.raises(PayloadError):
        array_from_inputs(state, np.zeros((3, 12, 2)).tolist())


# ----------------------------------------------------------------------------- end to end
def test_forecast_end_to_end(tmp_path):
    import trainwell

    src = _series_csv(tmp_path, n=80)
    run = trainwell.train({"name": "fc", "seed": 0,
                           "data": {"source": src, "target": "v",
                                    "series": {"time_column": "time", "value_columns": ["v", "w"],
                                               "window": 6, "horizon": 2}},
                           "model": {"type": "rnn", "cell": "gru", "hidden_size": 8},
                           "training": {"epochs": 3, "batch_size": 16}}, out=tmp_path / "run")
    test = run.metrics["test"]
    assert {"mae", "persistence_mae", "skill_mae", "skill_rmse"} <= set(test)
    assert test["persistence_mae"] == pytest.approx(1.5)  # a line: persistence is off by 1 and 2 steps
    pred = run.predict(src)
    assert list(pred.columns) == ["time", "prediction_1", "prediction_2"] and len(pred) == 75
    scores = run.evaluate()
    assert scores["test"]["mae"] == pytest.approx(test["mae"], rel=1e-5)
    assert run.evaluate(src)["rows"] == 80 - 6 - 2 + 1


def test_sequence_classification_end_to_end(tmp_path):
    import trainwell

    src = _npz(tmp_path)
    run = trainwell.train({"name": "seq", "seed": 0, "data": {"source": src},
                           "model": {"type": "rnn", "cell": "lstm", "hidden_size": 8},
                           "optimizer": {"lr": 0.01}, "training": {"epochs": 3, "batch_size": 16}},
                          out=tmp_path / "run")
    assert run.info["task"] == "multiclass" and 0 <= run.metrics["test"]["accuracy"] <= 1
    pred = run.predict(src)
    assert len(pred) == 90 and set(pred["prediction"]) <= {0, 1, 2}
    assert {"proba_0", "proba_1", "proba_2"} <= set(pred.columns)
    assert run.evaluate()["test"]["accuracy"] == pytest.approx(run.metrics["test"]["accuracy"])
    assert run.evaluate(src)["rows"] == 90


def test_train_fraction_and_numeric_time(tmp_path):
    df = pd.DataFrame({"step": np.arange(50)[::-1], "v": np.arange(50.0)[::-1]})  # descending in the file
    path = tmp_path / "num.csv"
    df.to_csv(path, index=False)
    cfg = DataConfig(source=str(path), train_fraction=0.5,
                     series={"time_column": "step", "window": 4, "horizon": 1})
    p = prepare(cfg, seed=0)
    assert p.state["series"]["time_kind"] == "numeric" and p.spec.feature_names == ["v"]
    # 50 rows -> 34 train rows -> 34 - 4 = 30 windows, half of them kept.
    assert len(p.train.x) == 15 and any("train_fraction" in n for n in p.report["notes"])
    np.testing.assert_allclose(p.baselines["test"], p.test.y_raw - 1)


def _dayfirst_csv(tmp_path, n=24 * 120):
    """An hourly series from 1 January written day first (02/01/2023 is 2 January), in time order."""
    t = pd.date_range("2023-01-01", periods=n, freq="h")
    df = pd.DataFrame({"time": t.strftime("%d/%m/%Y %H:%M"), "v": np.arange(n, dtype=float), "w": np.sin(np.arange(n))})
    path = tmp_path / "dayfirst.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_dates_written_day_first_are_read_with_dayfirst_and_a_swap_is_reported(tmp_path):
    src = _dayfirst_csv(tmp_path)
    misread = prepare(_cfg(src, window=5, horizon=1), seed=0)
    swap = misread.report["day_month_swapped"]
    assert swap["column"] == "time" and swap["dayfirst"] is False and swap["steps_back"] >= 3
    assert any("dayfirst: True" in n for n in misread.report["notes"])
    right = prepare(_cfg(src, window=5, horizon=1, dayfirst=True), seed=0)
    assert "day_month_swapped" not in right.report
    # read day first, the rows keep their file order: v is the row number
    assert np.all(np.diff(right.train.y_raw.ravel()) == 1)
    # new data is read the same way
    x, ids = load_inputs(right.state, src)
    assert ids["time"].iloc[0] == pd.Timestamp("2023-01-01 04:00") and ids["time"].is_monotonic_increasing


def test_iso_dates_are_never_read_day_first(tmp_path):
    p = prepare(_cfg(_series_csv(tmp_path), dayfirst=True), seed=0)
    assert "day_month_swapped" not in p.report and p.state["series"]["dayfirst"] is True
    np.testing.assert_allclose(np.sort(p.train.y_raw[:, 0]), p.train.y_raw[:, 0])


def test_a_day_first_file_in_order_without_a_time_column_is_not_called_out_of_order(tmp_path):
    t = pd.date_range("2022-01-01", periods=200, freq="D")
    path = tmp_path / "daily.csv"
    pd.DataFrame({"date": t.strftime("%d/%m/%Y"), "v": np.arange(200.0)}).to_csv(path, index=False)

    def cfg(**series):
        return DataConfig(source=str(path), series={"value_columns": ["v"], "window": 5, **series})

    # read as written (day first): in order, nothing to say
    assert "unordered_time" not in prepare(cfg(dayfirst=True), seed=0).report
    # read month first it goes back in time, but day first it never does: the fix reads it day first
    u = prepare(cfg(), seed=0).report["unordered_time"]
    assert u["column"] == "date" and u["dayfirst"] is True


def test_the_swap_example_is_a_date_the_two_readings_disagree_on(tmp_path):
    from trainwell.data.series import _day_month_swapped

    raw = pd.Series(pd.date_range("2023-01-01", periods=24 * 60, freq="h").strftime("%d/%m/%Y %H:%M"))
    found = _day_month_swapped(raw, dayfirst=False)
    day, month = found["example"][:2], found["example"][3:5]
    assert day != month and int(day) <= 12
    # numbers and parsed datetimes are no case for it
    assert _day_month_swapped(pd.Series(np.arange(50.0)), False) is None
    assert _day_month_swapped(pd.Series(pd.date_range("2023-01-01", periods=50)), False) is None


def test_padding_after_the_signal_moves_to_the_front_for_training_and_new_data(tmp_path):
    rng = np.random.default_rng(0)
    n, T = 60, 10
    signal = rng.normal(1.0, 0.5, (n, T, 2))
    lengths = rng.integers(3, 8, n)
    post = np.zeros_like(signal)
    pre = np.zeros_like(signal)
    for i, k in enumerate(lengths):
        post[i, :k] = signal[i, :k]        # signal first, zeros after
        pre[i, T - k:] = signal[i, :k]     # the same signal ending on the last step
    y = (signal[:, 0, 0] > 1).astype(int)
    np.savez(tmp_path / "post.npz", x=post, y=y)
    np.savez(tmp_path / "pre.npz", x=pre, y=y)
    as_given = prepare(DataConfig(source=str(tmp_path / "post.npz")), seed=0, model_type="rnn")
    pad = as_given.report["padding"]
    assert pad["method"] == "as_given" and pad["padded_after"] == pad["rows"] and 0.2 < pad["median_share"] < 0.8
    front = prepare(DataConfig(source=str(tmp_path / "post.npz"), sequence={"padding": "front"}), seed=0,
                    model_type="rnn")
    ref = prepare(DataConfig(source=str(tmp_path / "pre.npz")), seed=0, model_type="rnn")
    np.testing.assert_allclose(front.train.x, ref.train.x)
    assert front.state["padding"] == "front" and ref.report["padding"]["padded_after"] == 0
    x, _ = load_inputs(front.state, str(tmp_path / "post.npz"))   # new data written the same way
    np.testing.assert_allclose(x, load_inputs(ref.state, str(tmp_path / "pre.npz"))[0])
    with pytest.raises(UserError, match=r"data\.sequence\.padding: front applies to sequence data"):
        prepare(DataConfig(source="builtin:iris", sequence={"padding": "front"}), seed=0)


def test_a_forecast_honours_data_target_and_documents_its_default(tmp_path):
    # Reported as "data.target is ignored with data.series": it never was; the reference now says so.
    from trainwell.config import markdown_reference

    assert _prep(tmp_path).spec.target == "v"                                     # the first value column
    assert prepare(_cfg(_series_csv(tmp_path), data={"target": "w"}), seed=0).spec.target == "w"
    row = next(line for line in markdown_reference().splitlines() if line.startswith("| `data.target`"))
    assert "with data.series, the column forecast (default: the first of data.series.value_columns" in row
