import json

import numpy as np
import pandas as pd
import pytest

from trainwell.config import Clean, DataConfig, Split
from trainwell.data import inverse_target, prepare, transform_features, transform_target
from trainwell.data.transforms import fit_features
from trainwell.errors import UserError


def _csv(tmp_path, df, name="d.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


def _mixed(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(40, 10, n).round(1),
        "income": rng.lognormal(10, 1, n).round(0),
        "color": rng.choice(["red", "green", "blue"], n),
        "y": rng.choice(["yes", "no"], n),
    })


def _roundtrip(state):
    return json.loads(json.dumps(state, allow_nan=False))


def test_standardize_is_fitted_on_train_only(tmp_path):
    df = _mixed()
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y"), seed=0)
    age = p.spec.feature_names.index("age")
    # Train columns are exactly standardized; the full data's mean differs from the fitted center.
    assert abs(p.train.x[:, age].mean()) < 1e-5 and abs(p.train.x[:, age].std() - 1) < 1e-4
    st = next(f for f in p.state["features"] if f["column"] == "age")
    assert st["center"] != pytest.approx(df["age"].mean(), abs=1e-9)
    raw_train = p.train.x[:, age] * st["scale"] + st["center"]
    assert st["center"] == pytest.approx(raw_train.mean(), rel=1e-5)
    assert st["scale"] == pytest.approx(raw_train.std(), rel=1e-4)


@pytest.mark.parametrize("scale", ["minmax", "robust", "none"])
def test_other_scalers(tmp_path, scale):
    p = prepare(DataConfig(source=_csv(tmp_path, _mixed()), target="y", scale=scale), seed=0)
    col = p.train.x[:, p.spec.feature_names.index("age")]
    if scale == "minmax":
        assert col.min() == pytest.approx(0) and col.max() == pytest.approx(1)
    elif scale == "robust":
        assert np.median(col) == pytest.approx(0, abs=1e-6)
        q1, q3 = np.percentile(col, [25, 75])
        assert q3 - q1 == pytest.approx(1, rel=1e-5)
    else:
        assert np.isin(np.round(col.astype(np.float64), 1), _mixed()["age"].round(1)).all()


def test_impute_median_is_train_median_and_counted(tmp_path):
    df = _mixed()
    df.loc[::10, "age"] = np.nan  # 6 missing cells
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y", scale="none"), seed=0)
    st = next(f for f in p.state["features"] if f["column"] == "age")
    total = sum(p.report["imputed"][s].get("age", 0) for s in ("train", "val", "test"))
    assert total == 6
    assert not np.isnan(p.train.x).any()
    assert (p.train.x[:, 0] == np.float32(st["impute"])).sum() >= p.report["imputed"]["train"]["age"]


@pytest.mark.parametrize("method,expected", [("median", 2.0), ("mean", 3.0), ("most_frequent", 1.0)])
def test_impute_statistic_comes_from_the_given_train_frame(method, expected):
    train = pd.DataFrame({"v": [1.0, 1.0, 2.0, 5.0, 6.0, np.nan]})
    cfg = DataConfig(clean=Clean(impute=method), scale="none")
    states, names, _ = fit_features(train, ["v"], {"v": "numeric"}, cfg)
    assert names == ["v"] and states[0]["impute"] == expected


def test_impute_constant_and_none(tmp_path):
    df = _mixed()
    df.loc[::10, "age"] = np.nan
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y", scale="none",
                           clean=Clean(impute="constant", impute_value=-1)), seed=0)
    assert (p.train.x[:, 0] == -1).sum() == p.report["imputed"]["train"]["age"]
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y", clean=Clean(impute="none")), seed=0)
    assert np.isnan(p.train.x[:, 0]).any()
    assert any("impute is none" in n for n in p.report["notes"])
    json.dumps(p.state, allow_nan=False)


@pytest.mark.parametrize("method,factor", [("iqr", 0.0), ("zscore", 1.0)])
def test_clip_outliers_counts(tmp_path, method, factor):
    df = _mixed(80)
    df.loc[[1, 2, 3], "income"] = 1e9
    cfg = DataConfig(source=_csv(tmp_path, df), target="y", scale="none",
                     clean=Clean(clip_outliers=method, clip_factor=factor), split=Split(train=1, val=0, test=0))
    p = prepare(cfg, seed=0)
    st = next(f for f in p.state["features"] if f["column"] == "income")
    lo, hi = st["clip"]
    col = p.train.x[:, p.spec.feature_names.index("income")]
    assert col.max() <= hi * (1 + 1e-6) and col.min() >= lo - abs(lo) * 1e-6
    assert p.report["clipped"]["train"]["income"] >= 3


def test_missing_value_codes_are_read_as_missing_in_training_and_in_new_rows(tmp_path):
    df = _mixed(80)
    df.loc[[1, 2, 3], "income"] = -999
    df.loc[[4, 5], "age"] = 9999999
    cfg = DataConfig(source=_csv(tmp_path, df), target="y", scale="none",
                     clean=Clean(missing_codes=[-999, 9999999]), split=Split(train=1, val=0, test=0))
    p = prepare(cfg, seed=0)
    assert p.report["imputed"]["train"] == {"age": 2, "income": 3}
    assert p.train.x[:, p.spec.feature_names.index("income")].min() > 0
    # New rows get the same reading, from the saved state (serving, predict).
    new = pd.DataFrame({"age": [9999999.0, 30.0], "income": [-999.0, 5e4], "color": ["red", "red"]})
    x = transform_features(_roundtrip(p.state), new)
    income = p.spec.feature_names.index("income")
    assert x[0, income] == pytest.approx(next(f for f in p.state["features"] if f["column"] == "income")["impute"])
    assert x[1, income] == pytest.approx(5e4)


def test_a_regression_targets_missing_value_code_drops_its_rows_and_only_there(tmp_path):
    df = _mixed(80).assign(y=np.linspace(25, 346, 80).round(0))
    df.loc[[1, 2, 3], "y"] = -999
    df.loc[[4], "income"] = -999  # a feature's -999 is no target code
    cfg = DataConfig(source=_csv(tmp_path, df), target="y", clean=Clean(target_missing_codes=[-999]),
                     split=Split(train=1, val=0, test=0))
    p = prepare(cfg, seed=0)
    assert p.report["cleaning"]["coded_target_dropped"] == 3 and len(p.train.y_raw) == 77
    assert p.train.y_raw.min() >= 25
    # Not for class labels; and not dropped silently when rows with no target are to be kept.
    labels = _mixed(80)
    with pytest.raises(UserError, match="data.clean.target_missing_codes: only for a regression target"):
        prepare(DataConfig(source=_csv(tmp_path, labels, "l.csv"), target="y", clean=Clean(target_missing_codes=[0])), 0)
    with pytest.raises(UserError, match="drop_missing_target"):
        prepare(cfg.model_copy(update={"clean": Clean(target_missing_codes=[-999], drop_missing_target=False)}), 0)


def test_unknown_category_encodes_as_zeros_and_missing_is_a_category(tmp_path):
    p = prepare(DataConfig(source=_csv(tmp_path, _mixed()), target="y"), seed=0)
    new = pd.DataFrame({"age": [30.0, 31.0, 32.0], "income": [1e4, 2e4, 3e4],
                        "color": ["purple", " RED ", None]})
    x = transform_features(p.state, new)
    groups = [i for i, n in enumerate(p.spec.feature_names) if n.startswith("color=")]
    assert x[0, groups].sum() == 0  # unknown -> all zeros
    assert x[1, p.spec.feature_names.index("color=red")] == 1  # normalized like training data
    assert x[2, groups].sum() == 0  # "<missing>" was not seen in train


def test_missing_category_in_train_is_its_own_column(tmp_path):
    df = _mixed()
    df.loc[::7, "color"] = ""
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y", split=Split(train=1, val=0, test=0)), seed=0)
    assert "color=<missing>" in p.spec.feature_names


def test_state_json_roundtrip_reproduces_arrays(tmp_path):
    df = _mixed()
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y",
                           clean=Clean(clip_outliers="iqr")), seed=1)
    state = _roundtrip(p.state)
    x1 = transform_features(p.state, df)
    x2 = transform_features(state, df)
    assert x2.dtype == np.float32 and x2.shape == (len(df), p.spec.n_features)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(transform_target(state, df["y"]), transform_target(p.state, df["y"]))
    assert state["spec"]["feature_names"] == p.spec.feature_names


def test_transform_reproduces_split_arrays_exactly(tmp_path):
    p = prepare(DataConfig(source="builtin:iris", split=Split(train=1, val=0, test=0)), seed=0)
    assert p.val is None and p.test is None
    state = _roundtrip(p.state)
    from trainwell.data import load_table
    x = transform_features(state, load_table("builtin:iris").drop_duplicates())
    assert sorted(map(tuple, x.tolist())) == sorted(map(tuple, p.train.x.tolist()))


def test_missing_columns_named_all_at_once_and_extra_ignored(tmp_path):
    p = prepare(DataConfig(source=_csv(tmp_path, _mixed()), target="y"), seed=0)
    with pytest.raises(UserError, match=r"missing column\(s\) \['age', 'color'\]"):
        transform_features(p.state, pd.DataFrame({"income": [1.0]}))
    x = transform_features(p.state, _mixed().assign(extra=1))
    assert x.shape[1] == p.spec.n_features


def test_new_data_is_coerced_like_training(tmp_path):
    p = prepare(DataConfig(source=_csv(tmp_path, _mixed()), target="y"), seed=0)
    new = pd.DataFrame({"age": ["35", "oops"], "income": [1e4, 1e4], "color": ["red", "red"]})
    x = transform_features(p.state, new)
    assert not np.isnan(x).any()  # "oops" -> NaN -> imputed with the train median


def test_target_encoding_and_inverse(tmp_path):
    p = prepare(DataConfig(source=_csv(tmp_path, _mixed()), target="y"), seed=0)
    assert p.spec.classes == ["no", "yes"] and p.spec.task == "binary" and p.spec.n_outputs == 2
    idx = transform_target(p.state, ["yes", " No", "no"])
    assert idx.dtype == np.int64 and idx.tolist() == [1, 0, 0]
    assert inverse_target(p.state, idx).tolist() == ["yes", "no", "no"]
    with pytest.raises(UserError, match=r"not known classes, e.g. \['maybe'\]; the model knows \['no', 'yes'\]"):
        transform_target(p.state, ["yes", "maybe"])


def test_numeric_labels_match_floats_and_invert_to_ints():
    p = prepare(DataConfig(source="builtin:wine"), seed=0)
    assert transform_target(p.state, np.array([2.0, 0.0])).tolist() == [2, 0]
    out = inverse_target(p.state, np.array([0, 2]))
    assert out.dtype == object and out.tolist() == [0, 2] and isinstance(out[0], int)


def test_regression_target_scaled_with_train_stats_and_inverted():
    p = prepare(DataConfig(source="builtin:diabetes"), seed=0)
    t = p.state["target"]
    assert t["mean"] == pytest.approx(p.train.y_raw.mean()) and t["std"] == pytest.approx(p.train.y_raw.std())
    assert p.train.y.dtype == np.float32 and p.train.y_raw.dtype == np.float64
    assert abs(p.train.y.mean()) < 1e-5
    np.testing.assert_allclose(inverse_target(p.state, p.test.y), p.test.y_raw, rtol=1e-5)
    p2 = prepare(DataConfig(source="builtin:diabetes", scale_target=False), seed=0)
    np.testing.assert_allclose(p2.train.y, p2.train.y_raw, rtol=1e-6)
