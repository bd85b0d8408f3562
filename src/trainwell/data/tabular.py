"""Tables (builtin sets, CSV, Parquet, 2-D .npz): the kind every other builds on."""

from __future__ import annotations

import pandas as pd

from ..errors import UserError
from .prepare import prepare_tabular
from .sources import read_input_table
from .transforms import transform_features, transform_target

__all__ = ["prepare_tabular", "load_inputs", "load_labelled"]


def _frame(source) -> pd.DataFrame:
    return source if isinstance(source, pd.DataFrame) else read_input_table(str(source))


def load_inputs(state: dict, source):
    frame = _frame(source)
    return transform_features(state, frame), pd.DataFrame(index=frame.index)


def load_labelled(state: dict, source):
    frame = _frame(source)
    target = state["spec"]["target"]
    if target not in frame.columns:
        raise UserError(f"--data: the target column {target!r} is missing; evaluation needs it "
                        f"(columns: {list(frame.columns)[:20]})")
    frame = frame[frame[target].notna()]
    return transform_features(state, frame), transform_target(state, frame[target])
