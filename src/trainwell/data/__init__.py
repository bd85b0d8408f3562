"""Data: load a source, clean it, split it, fit preprocessing on train, encode every split.

One entry point per job, dispatched on the data kind (tabular, image, timeseries, sequence,
text); each kind's module provides prepare_<kind>(cfg, seed) and, for new inputs at predict
time, load_inputs(state, source) and load_labelled(state, source).
"""

from __future__ import annotations

import copy
import importlib
import json
from collections import OrderedDict
from pathlib import Path

from ..errors import UserError
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


# The prepared data of the last few calls in this process. A study, an ensemble or the doctor's
# suite prepares the same data again for every run: digits took ~100 ms a time, a tenth of a
# sub-second tuning trial. The key holds the whole data config, the seed, the model type and
# each file's size and modification time (an edited file is read again); a folder source
# (images) is never cached. Every call gets its own deep copy (~1 ms for digits), so nothing a
# run does to its arrays reaches the next. Large data is not kept: its preparation dwarfs the copy
# saved and the memory matters more. Preparation draws from no global random state (checked for
# every data kind), so a cached call leaves training's randomness as a fresh one would.
_CACHE: OrderedDict = OrderedDict()
CACHE_RUNS = 4
CACHE_MAX_BYTES = 64 * 2**20


def _files_key(cfg) -> tuple | None:
    out = []
    for path in (cfg.source, cfg.val, cfg.test):
        if path is None or path.startswith("builtin:"):
            out.append(path)
            continue
        p = Path(path)
        if not p.is_file():
            return None
        st = p.stat()
        out.append((str(p.resolve()), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _nbytes(prepared: Prepared) -> int:
    splits = (prepared.train, prepared.val, prepared.test)
    return sum(getattr(a, "nbytes", 0) for s in splits if s is not None for a in (s.x, s.y, s.y_raw))


def data_seed(cfg, seed: int) -> int:
    """The seed of every random choice of rows: data.split.seed when set, else the run's seed."""
    return seed if cfg.split.seed is None else cfg.split.seed


def prepare(cfg, seed: int, model_type: str = "mlp") -> Prepared:
    seed = data_seed(cfg, seed)
    files = _files_key(cfg)
    key = None if files is None else (json.dumps(cfg.model_dump(mode="json"), sort_keys=True), seed, model_type, files)
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return copy.deepcopy(_CACHE[key])
    prepared = _prepare(cfg, seed, model_type)
    if key is not None and _nbytes(prepared) <= CACHE_MAX_BYTES:
        _CACHE[key] = copy.deepcopy(prepared)
        while len(_CACHE) > CACHE_RUNS:
            _CACHE.popitem(last=False)
    return prepared


def _prepare(cfg, seed: int, model_type: str) -> Prepared:
    kind = resolve_kind(cfg, model_type)
    if cfg.categorical and kind != "tabular":
        raise UserError(f"data.categorical: only a table's columns can be read as categories; this is {kind} data, "
                        f"so remove the key")
    if cfg.sequence.layout != "steps_first" and kind != "sequence":
        raise UserError(f"data.sequence.layout: {cfg.sequence.layout} applies to sequence data (an .npz with an rnn "
                        f"or transformer); this is {kind} data, so remove the key")
    if cfg.sequence.padding != "as_given" and kind != "sequence":
        raise UserError(f"data.sequence.padding: {cfg.sequence.padding} applies to sequence data (an .npz with an rnn "
                        f"or transformer); this is {kind} data, so remove the key")
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
