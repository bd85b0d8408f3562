"""Data: load a source, clean it, split it, fit preprocessing on train, encode every split."""

from .prepare import DataSpec, Prepared, SplitArrays, prepare
from .sources import load_table, read_input_table
from .transforms import inverse_target, transform_features, transform_target

__all__ = [
    "prepare", "Prepared", "DataSpec", "SplitArrays", "transform_features", "transform_target",
    "inverse_target", "load_table", "read_input_table",
]
