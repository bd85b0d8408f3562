"""Tables (builtin sets, CSV, Parquet, 2-D .npz): the kind every other builds on."""

from __future__ import annotations

import pandas as pd

from ..errors import UserError
from .clean import refuse_unreadable_numbers
from .prepare import prepare_tabular
from .sources import read_input_table
from .transforms import check_columns, transform_features, transform_target

__all__ = ["prepare_tabular", "load_inputs", "load_labelled"]


def _frame(source) -> pd.DataFrame:
    return source if isinstance(source, pd.DataFrame) else read_input_table(str(source))


def check_new_rows(state: dict, frame: pd.DataFrame) -> None:
    """New rows for the trained model: every input column present, and every value of a numeric
    column a finite number or missing. Training's tolerance (up to 5% stray strings in a numeric
    column, imputed) decides a column's type over the training rows; here the type is fixed, and an
    unreadable value is refused like the REST server refuses it (422), naming column, row and value."""
    check_columns(frame, state["spec"]["input_columns"], "input data")
    numeric = [st for st in state.get("features", []) if st["kind"] == "numeric"]
    hints = {st["column"]: "an empty cell is a missing value, imputed as in training" if st.get("impute") is not None
             else "this model was trained with data.clean.impute: none, so it cannot take a missing value there either"
             for st in numeric}
    refuse_unreadable_numbers(frame, [st["column"] for st in numeric], "input data", hints)


def load_inputs(state: dict, source):
    frame = _frame(source)
    check_new_rows(state, frame)
    return transform_features(state, frame), pd.DataFrame(index=frame.index)


def load_labelled(state: dict, source):
    frame = _frame(source)
    target = state["spec"]["target"]
    if target not in frame.columns:
        raise UserError(f"--data: the target column {target!r} is missing; evaluation needs it "
                        f"(columns: {list(frame.columns)[:20]})")
    check_new_rows(state, frame)  # before rows without a target are dropped, so row numbers are the file's
    frame = frame[frame[target].notna()]
    return transform_features(state, frame), transform_target(state, frame[target])
