import json

import numpy as np
import pandas as pd
import pytest

from trainwell.config import Clean, DataConfig, Split
from trainwell.data import prepare, transform_target
from trainwell.errors import UserError


def _csv(tmp_path, df, name="d.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


def _frame(y, n=None, seed=0):
    n = n or len(y)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": y})


# ----------------------------------------------------------------------------- task inference
@pytest.mark.parametrize("y,task,n_out", [
    (["cat", "dog"] * 20, "binary", 2),
    (["a", "b", "c", "d"] * 10, "multiclass", 4),
    ([0, 1, 2, 3, 4] * 8, "multiclass", 5),
    (list(range(40)), "regression", 1),            # integers, but more than 20 values
    (list(np.linspace(0, 1, 40)), "regression", 1),  # not integers
])
def test_task_inference(tmp_path, y, task, n_out):
    p = prepare(DataConfig(source=_csv(tmp_path, _frame(y)), target="y"), seed=0)
    assert p.spec.task == task and p.spec.n_outputs == n_out
    assert (p.spec.classes is None) == (task == "regression")


def test_forced_binary_with_three_classes_is_user_error(tmp_path):
    with pytest.raises(UserError, match=r"data.task: binary needs 2 classes.*has 3"):
        prepare(DataConfig(source="builtin:iris", task="binary"), seed=0)


def test_forced_regression_on_text_is_user_error(tmp_path):
    path = _csv(tmp_path, _frame(["low", "high"] * 20))
    with pytest.raises(UserError, match=r"data.task: regression needs a numeric target.*'y'"):
        prepare(DataConfig(source=path, target="y", task="regression"), seed=0)


def test_forced_regression_and_multiclass_on_integers(tmp_path):
    p = prepare(DataConfig(source="builtin:iris", task="regression"), seed=0)
    assert p.spec.task == "regression" and p.spec.classes is None
    path = _csv(tmp_path, _frame(list(range(30)) * 2))
    p = prepare(DataConfig(source=path, target="y", task="multiclass",
                           split=Split(train=0.5, val=0.25, test=0.25, stratify=False)),
                seed=0)
    assert p.spec.task == "multiclass" and p.spec.classes == list(range(30))


def test_single_class_target_is_user_error(tmp_path):
    y = ["spam"] * 10 + [None] * 2
    with pytest.raises(UserError, match=r"data.target: column 'y' has a single value 'spam'"):
        prepare(DataConfig(source=_csv(tmp_path, _frame(y)), target="y"), seed=0)


def test_nan_target_with_drop_off_is_user_error(tmp_path):
    y = [1.5, None, 2.5, None] * 10
    with pytest.raises(UserError, match=r"column 'y' has 20 missing values; turn on data.clean.drop_missing_target"):
        prepare(DataConfig(source=_csv(tmp_path, _frame(y)), target="y",
                           clean=Clean(drop_missing_target=False)), seed=0)
    p = prepare(DataConfig(source=_csv(tmp_path, _frame(y)), target="y"), seed=0)
    assert p.report["cleaning"]["missing_target_dropped"] == 20


def test_numeric_text_target_with_garbage_is_coerced_then_dropped(tmp_path):
    y = [str(v) for v in np.linspace(0, 10, 39).round(3)] + ["unknown"]
    p = prepare(DataConfig(source=_csv(tmp_path, _frame(y)), target="y"), seed=0)
    assert p.spec.task == "regression"
    assert p.report["coerced"] == {"y": 1} and p.report["cleaning"]["missing_target_dropped"] == 1


def test_all_target_missing_leaves_no_rows(tmp_path):
    with pytest.raises(UserError, match="no rows left after cleaning"):
        prepare(DataConfig(source=_csv(tmp_path, _frame([None] * 5)), target="y"), seed=0)


# ----------------------------------------------------------------------------- columns
def test_csv_requires_target_and_lists_columns(tmp_path):
    with pytest.raises(UserError, match=r"data.target: required for CSV files; columns are: \['a', 'b', 'y'\]"):
        prepare(DataConfig(source=_csv(tmp_path, _frame([0, 1] * 5))), seed=0)


def test_unknown_target_suggests_and_lists_columns(tmp_path):
    with pytest.raises(UserError, match=r"column 'yy' not found \(did you mean 'y'\?\); columns are: \['a', 'b', 'y'\]"):
        prepare(DataConfig(source=_csv(tmp_path, _frame([0, 1] * 5)), target="yy"), seed=0)


def test_features_select_and_validate(tmp_path):
    path = _csv(tmp_path, _frame([0, 1] * 20))
    p = prepare(DataConfig(source=path, target="y", features=["b"]), seed=0)
    assert p.spec.input_columns == ["b"] and p.spec.n_features == 1
    with pytest.raises(UserError, match=r"data.features: unknown column\(s\) 'aa' \(did you mean 'a'\?\), 'zzz'"):
        prepare(DataConfig(source=path, target="y", features=["aa", "zzz"]), seed=0)
    with pytest.raises(UserError, match="lists the target column 'y'"):
        prepare(DataConfig(source=path, target="y", features=["a", "y"]), seed=0)


def test_npz_and_parquet_sources(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(40, 3)), y=np.array([0, 1] * 20))
    p = prepare(DataConfig(source=str(tmp_path / "d.npz")), seed=0)
    assert p.spec.target == "y" and p.spec.input_columns == ["x0", "x1", "x2"] and p.spec.task == "binary"
    _frame(["u", "v"] * 20).to_parquet(tmp_path / "d.parquet")
    p = prepare(DataConfig(source=str(tmp_path / "d.parquet"), target="y"), seed=0)
    assert p.spec.classes == ["u", "v"]


# ----------------------------------------------------------------------------- explicit files
def test_explicit_val_and_test_files(tmp_path):
    src = _csv(tmp_path, _frame(["a", "b", "c"] * 20), "src.csv")
    val = _csv(tmp_path, _frame(["a", "b"] * 5, seed=1), "val.csv")
    test = _csv(tmp_path, _frame(["c"] * 7, seed=2), "test.csv")
    p = prepare(DataConfig(source=src, target="y", val=val, split=Split(train=0.6, val=0.2, test=0.2)), seed=0)
    assert p.report["rows"] == {"train": 45, "val": 10, "test": 15}  # source split 0.75 / 0.25
    p = prepare(DataConfig(source=src, target="y", val=val, test=test), seed=0)
    assert p.report["rows"] == {"train": 60, "val": 10, "test": 7}
    assert p.spec.classes == ["a", "b", "c"] and p.test.y.tolist() == [2] * 7


def test_explicit_file_with_unknown_class_or_missing_column(tmp_path):
    src = _csv(tmp_path, _frame(["a", "b"] * 20), "src.csv")
    bad = _csv(tmp_path, _frame(["a", "z"] * 3), "bad.csv")
    with pytest.raises(UserError, match=r"data.test: target 'y'.*\['z'\]"):
        prepare(DataConfig(source=src, target="y", test=bad), seed=0)
    nocol = _csv(tmp_path, _frame(["a", "b"] * 3).drop(columns=["a", "b"]), "nocol.csv")
    with pytest.raises(UserError, match=r"data.val .*missing column\(s\) \['a', 'b'\]"):
        prepare(DataConfig(source=src, target="y", val=nocol), seed=0)


def test_no_val_no_test():
    p = prepare(DataConfig(source="builtin:iris", split=Split(train=1.0, val=0, test=0)), seed=0)
    assert p.val is None and p.test is None and p.report["rows"] == {"train": 149}


# ----------------------------------------------------------------------------- imbalance
def _imbalanced(tmp_path):
    return _csv(tmp_path, _frame(["a"] * 60 + ["b"] * 24 + ["c"] * 12))


def test_class_weights_formula(tmp_path):
    p = prepare(DataConfig(source=_imbalanced(tmp_path), target="y", imbalance="class_weights",
                           split=Split(train=1.0, val=0, test=0)), seed=0)
    n = 96
    assert p.class_weights == pytest.approx([n / (3 * 60), n / (3 * 24), n / (3 * 12)])
    from sklearn.utils.class_weight import compute_class_weight
    assert p.class_weights == pytest.approx(
        compute_class_weight("balanced", classes=np.arange(3), y=p.train.y).tolist())


def test_oversample_and_undersample_counts(tmp_path):
    path = _imbalanced(tmp_path)
    over = prepare(DataConfig(source=path, target="y", imbalance="oversample"), seed=0)
    before = over.report["imbalance"]["before"]
    assert before == over.report["class_counts"]["train"]
    top = max(before.values())
    assert over.report["imbalance"]["after"] == {k: top for k in before}
    assert np.bincount(over.train.y).tolist() == [top] * 3 and len(over.train.x) == 3 * top
    # val/test keep their true shares
    assert over.report["class_counts"]["test"] == {"a": 9, "b": 3, "c": 2}
    under = prepare(DataConfig(source=path, target="y", imbalance="undersample"), seed=0)
    low = min(under.report["imbalance"]["before"].values())
    assert np.bincount(under.train.y).tolist() == [low] * 3
    # undersampling keeps distinct rows
    assert len(np.unique(under.train.x, axis=0)) == 3 * low


def test_imbalance_on_regression_is_user_error():
    with pytest.raises(UserError, match="data.imbalance: 'oversample' only applies to classification"):
        prepare(DataConfig(source="builtin:diabetes", imbalance="oversample"), seed=0)


# ----------------------------------------------------------------------------- report / state
def test_report_and_state_are_json(tmp_path):
    df = _frame(["a", "b"] * 20)
    df["color"] = ["red", "Blue "] * 20
    df.loc[0, "a"] = np.nan
    p = prepare(DataConfig(source=_csv(tmp_path, df), target="y", imbalance="class_weights"), seed=0)
    report = json.loads(json.dumps(p.report, allow_nan=False))
    state = json.loads(json.dumps(p.state, allow_nan=False))
    for key in ("source", "rows_loaded", "cleaning", "coerced", "imputed", "clipped", "unknown_categories",
                "rows", "class_counts", "imbalance", "notes"):
        assert key in report
    assert state["spec"]["classes"] == ["a", "b"]
    assert p.train.x.dtype == np.float32 and p.train.y.dtype == np.int64
    np.testing.assert_array_equal(p.train.y, p.train.y_raw)
    assert transform_target(state, ["b"]).tolist() == [1]


def test_prepare_is_deterministic():
    a = prepare(DataConfig(source="builtin:wine"), seed=5)
    b = prepare(DataConfig(source="builtin:wine"), seed=5)
    np.testing.assert_array_equal(a.train.x, b.train.x)
    np.testing.assert_array_equal(a.test.y, b.test.y)
