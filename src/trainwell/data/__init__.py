"""Data: load a source, clean it, split it, fit preprocessing on train, encode every split.

One entry point per job, dispatched on the data kind (tabular, image, timeseries, sequence,
text); each kind's module provides prepare_<kind>(cfg, seed) and, for new inputs at predict
time, load_inputs(state, source) and load_labelled(state, source).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .prepare import DataSpec, Prepared, SplitArrays
from .sources import load_table, read_input_table
from .transforms import transform_features, transform_target

__all__ = [
    "prepare", "resolve_kind", "Prepared", "DataSpec", "SplitArrays", "transform_features", "transform_target",
    "inverse_target", "load_table", "read_input_table", "load_inputs", "load_labelled",
]

_MODULES = {"tabular": "tabular", "image": "images", "timeseries": "series", "sequence": "series", "text": "text"}


def resolve_kind(cfg, model_type: str = "mlp") -> str:
    if cfg.kind != "auto":
        return cfg.kind
    source = cfg.source
    if model_type == "gan":
        return "image"
    if cfg.text.column:
        return "text"
    if cfg.series is not None:
        return "timeseries"
    if not source.startswith("builtin:") and Path(source).is_dir():
        return "image"
    if model_type == "cnn":
        return "image"
    if source.lower().endswith(".npz") and model_type in ("rnn", "transformer"):
        return "sequence"
    return "tabular"


def _module(kind: str):
    return importlib.import_module(f".{_MODULES[kind]}", __name__)


def prepare(cfg, seed: int, model_type: str = "mlp") -> Prepared:
    kind = resolve_kind(cfg, model_type)
    fn = getattr(_module(kind), f"prepare_{'sequences' if kind == 'sequence' else kind}")
    prepared = fn(cfg, seed)
    prepared.state.setdefault("kind", kind)
    prepared.spec.kind = kind
    prepared.state["spec"]["kind"] = kind
    return prepared


def load_inputs(state: dict, source):
    """New inputs for predict -> (network inputs, a DataFrame of identifying columns, one row each)."""
    return _module(state.get("kind", "tabular")).load_inputs(state, source)


def load_labelled(state: dict, source):
    """A labelled file for evaluate -> (network inputs, encoded targets)."""
    return _module(state.get("kind", "tabular")).load_labelled(state, source)


def inverse_target(state: dict, y):
    kind = state.get("kind", "tabular")
    if kind == "timeseries":
        return _module(kind).inverse_target(state, y)
    from .transforms import inverse_target as tabular_inverse

    return tabular_inverse(state, y)
