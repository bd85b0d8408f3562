"""data.categorical: numeric columns that are codes, one-hot encoded like text."""

import numpy as np
import pandas as pd
import pytest

from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.data.clean import to_text
from trainwell.data.tabular import load_inputs
from trainwell.errors import UserError


def _stores(path, n=400):
    rng = np.random.default_rng(0)
    store = rng.integers(101, 111, n)
    pd.DataFrame({"store": store, "price": rng.normal(10, 2, n), "target": (store % 3 == 0).astype(int)}) \
        .to_csv(path, index=False)
    return path


def _cfg(path, **data):
    return load_config({"data": {"source": str(path), "target": "target", **data}, "model": {"hidden": [8]}}).data


def test_a_numeric_column_listed_as_categorical_is_one_hot_encoded(tmp_path):
    path = _stores(tmp_path / "s.csv")
    plain = prepare(_cfg(path), 0, "mlp")
    assert plain.spec.feature_names == ["store", "price"]
    coded = prepare(_cfg(path, categorical=["store"]), 0, "mlp")
    assert coded.spec.feature_names == [f"store={s}" for s in range(101, 111)] + ["price"]
    assert coded.spec.column_types["store"] == "categorical"
    # new rows: the code as an int, a float or text is the same category
    rows = pd.DataFrame({"store": pd.Series([103, 103.0, "103"], dtype=object), "price": [10.0] * 3})
    x, _ = load_inputs(coded.state, rows)
    assert (x[:, :10].argmax(1) == 2).all() and (x[:, :10].sum(1) == 1).all()


def test_categorical_names_a_column_that_is_not_an_input(tmp_path):
    path = _stores(tmp_path / "s.csv")
    with pytest.raises(UserError, match=r"data.categorical: \['shop'\] is not among the input columns"):
        prepare(_cfg(path, categorical=["shop"]), 0, "mlp")
    with pytest.raises(UserError, match="data.categorical: only a table's columns"):
        prepare(load_config({"data": {"source": "builtin:digits", "categorical": ["x"]}, "model": {"type": "cnn"}}).data,
                0, "cnn")


def test_numbers_in_an_object_column_print_as_the_same_code():
    assert to_text(pd.Series([101, 102.0, None, "a", 3.5], dtype=object)).tolist()[:2] == ["101", "102"]
    assert to_text(pd.Series([1.0, np.nan])).tolist()[0] == "1"


def test_a_measurement_listed_as_categorical_names_that_key(tmp_path):
    # price has ~400 distinct values: the error is about data.categorical, which made it a category,
    # not about data.features (a helper writing the fourteenth held-out set was sent to the wrong key)
    path = _stores(tmp_path / "s.csv")
    with pytest.raises(UserError, match=r"data.categorical: 'price' has \d+ distinct values.*out of data.categorical"):
        prepare(_cfg(path, categorical=["price"]), 0, "mlp")
