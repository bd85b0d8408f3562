import numpy as np
import pandas as pd
import pytest

from trainwell.config import Clean, DataConfig
from trainwell.data import prepare
from trainwell.data.clean import (check_max_categories, clean_table, coerce_numeric, column_kind,
                                  normalize_text, to_text)
from trainwell.errors import UserError


def test_mostly_numeric_text_is_numeric_and_coerced():
    s = pd.Series([str(i) for i in range(38)] + ["?", " 7 ", ""], dtype=object)
    assert column_kind(s) == "numeric"  # 39 of 40 non-empty values parse: 97.5% >= 95%
    values, coerced = coerce_numeric(s)
    assert coerced == 1  # "?" only; the blank is missing, not coerced
    assert values.iloc[37] == 37.0 and values.iloc[39] == 7.0
    assert values.iloc[[38, 40]].isna().all()


def test_mostly_text_is_categorical():
    s = pd.Series(["red", "blue", "1", "green", "2"])
    assert column_kind(s) == "categorical"


def test_numeric_dtype_is_numeric_and_inf_is_coerced():
    values, coerced = coerce_numeric(pd.Series([1.0, np.inf, np.nan]))
    assert coerced == 1 and values.isna().sum() == 2


def test_to_text_blank_is_missing_and_integral_floats_print_as_ints():
    assert to_text(pd.Series(["a", "  ", None])).isna().tolist() == [False, True, True]
    assert to_text(pd.Series([1.0, 2.0, np.nan])).tolist()[:2] == ["1", "2"]


def test_normalize_counts_changed_values():
    out, n = normalize_text(pd.Series([" Red", "red", "RED", None], dtype=object))
    assert out.tolist()[:3] == ["red"] * 3 and n == 2


def _frame():
    return pd.DataFrame({
        "num": [1.0, 1.0, 2.0, 3.0, 4.0],
        "color": [" Red", " Red", "blue", "BLUE", "red"],
        "y": ["a", "a", None, "b", "b"],
    })


def test_clean_table_counts_each_step():
    kinds = {"num": "numeric", "color": "categorical", "y": "categorical"}
    df, counts, coerced = clean_table(_frame(), "y", kinds, Clean())
    assert counts["duplicates_dropped"] == 1
    assert counts["missing_target_dropped"] == 1
    assert counts["categories_normalized"] == {"color": 3, "y": 0}
    assert coerced == {}
    assert len(df) == 3 and sorted(df["color"]) == ["blue", "red", "red"]


def test_clean_steps_can_be_switched_off():
    kinds = {"num": "numeric", "color": "categorical", "y": "categorical"}
    clean = Clean(drop_duplicates=False, normalize_categories=False)
    df, counts, _ = clean_table(_frame(), "y", kinds, clean)
    assert counts["duplicates_dropped"] == 0 and counts["categories_normalized"] == {}
    assert len(df) == 4 and " Red" in set(df["color"])


def test_missing_target_with_drop_off_is_user_error():
    kinds = {"num": "numeric", "color": "categorical", "y": "categorical"}
    with pytest.raises(UserError, match=r"data.target: column 'y' has 1 missing values; turn on "
                                        r"data.clean.drop_missing_target or fill them"):
        clean_table(_frame(), "y", kinds, Clean(drop_missing_target=False))


def test_too_many_categories_names_column_count_and_fix():
    df = pd.DataFrame({"id": [f"u{i}" for i in range(10)]})
    with pytest.raises(UserError, match=r"'id' has 10 distinct values.*data.max_categories is 5.*"
                                        r"List data.features without it.*at least 10"):
        check_max_categories(df, {"id": "categorical"}, 5)
    # sentences: the text section is named too; IDs do not get that advice
    notes = pd.DataFrame({"note": [f"the pump {i} failed after the storm" for i in range(10)]})
    with pytest.raises(UserError, match=r"set data.text.column: note"):
        check_max_categories(notes, {"note": "categorical"}, 5)
    with pytest.raises(UserError) as err:
        check_max_categories(df, {"id": "categorical"}, 5)
    assert "data.text" not in str(err.value)


def _write(tmp_path, df):
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_prepare_reports_coerced_garbage(tmp_path):
    rng = np.random.default_rng(0)
    weight = [f"{v:.2f}" for v in rng.normal(70, 5, 40)]
    weight[3] = "n/a kg"
    df = pd.DataFrame({"weight": weight, "y": [0, 1] * 20})
    p = prepare(DataConfig(source=_write(tmp_path, df), target="y"), seed=0)
    assert p.spec.column_types == {"weight": "numeric"}
    assert p.report["coerced"] == {"weight": 1}
    assert sum(p.report["imputed"][s].get("weight", 0) for s in ("train", "val", "test")) == 1
    assert not np.isnan(p.train.x).any()


def test_prepare_text_column_is_one_hot(tmp_path):
    df = pd.DataFrame({"color": [" Red", "blue", "RED", "green"] * 10, "y": [0, 1] * 20,
                       "n": np.arange(40.0)})
    df.loc[40] = [" GREEN", 1, 39.0]  # row 39 ("green", 1, 39.0) once normalized
    p = prepare(DataConfig(source=_write(tmp_path, df), target="y"), seed=0)
    assert p.spec.column_types == {"color": "categorical", "n": "numeric"}
    assert p.spec.feature_names == ["color=blue", "color=green", "color=red", "n"]
    assert p.report["cleaning"]["categories_normalized"] == {"color": 21}
    assert p.report["cleaning"]["duplicates_dropped"] == 1
    assert p.report["rows_after_cleaning"] == 40


def test_prepare_too_many_levels_is_user_error(tmp_path):
    df = pd.DataFrame({"name": [f"person {i}" for i in range(30)], "y": [0, 1] * 15})
    with pytest.raises(UserError, match=r"'name' has 30 distinct values.*max_categories is 20"):
        prepare(DataConfig(source=_write(tmp_path, df), target="y", max_categories=20), seed=0)


def test_drop_duplicates_keeps_a_separate_test_file_as_given(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "y": [0, 1] * 30})
    train = pd.concat([df, df.iloc[:10]])         # 10 repeats in the source: dropped before the split
    test = pd.concat([df.iloc[:20], df.iloc[:5]])  # 5 repeats in the test file: scored as given
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    p = prepare(DataConfig(source=str(tmp_path / "train.csv"), test=str(tmp_path / "test.csv"), target="y"), seed=0)
    assert p.report["cleaning"]["duplicates_dropped"] == 10
    assert p.report["cleaning"]["files"]["test"]["duplicates_dropped"] == 0 and len(p.test.y) == 25


def test_the_imbalance_note_advises_only_where_nothing_balances_the_classes(tmp_path):
    df = pd.DataFrame({"a": np.arange(80.0), "y": [0] * 70 + [1] * 10})
    df.to_csv(tmp_path / "d.csv", index=False)
    notes = {m: " ".join(prepare(DataConfig(source=str(tmp_path / "d.csv"), target="y", imbalance=m),
                                 seed=0).report["notes"]) for m in ("none", "class_weights", "oversample")}
    assert "consider data.imbalance" in notes["none"]
    for m in ("class_weights", "oversample"):
        assert "consider" not in notes[m] and f"data.imbalance: {m} balances them" in notes[m]
