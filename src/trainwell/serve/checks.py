"""What the network can compute with, checked on the encoded inputs and on the outputs.

New values are checked one by one before this (tabular.check_new_rows, the server's own checks),
but a valid number can still be too large for the model: scaled with the training center and
spread it may not fit the float32 the network takes (it becomes inf), or it fits and the network's
own arithmetic overflows (the output is NaN). A NaN answer is no answer: JSON cannot carry it and a
CSV writes it as an empty cell, so both are refused naming the rows and the fields.
"""

from __future__ import annotations

import numpy as np

from ..errors import BadCells, UserError

F32_MAX = float(np.finfo(np.float32).max)
EXAMPLES = 5  # rows quoted in a message; the server still gets every cell
# Training spreads from the training center beyond which a field is named as the likely cause of a
# non-finite output; real data is a few spreads out, an overflow needs dozens of orders of magnitude.
FAR = 1e3


def _is_table(state: dict) -> bool:
    return state.get("kind", "tabular") == "tabular" and "features" in state


def _positions(state: dict) -> list[dict | None]:
    """The feature state behind each position of an encoded table row (one-hot blocks repeat it)."""
    out: list = []
    for st in state["features"]:
        out += [st] * (1 if st["kind"] == "numeric" else len(st["categories"]))
    return out


def _fields(state: dict, x: np.ndarray, width: int) -> list:
    """The column behind each position of an encoded row: a table's features, or a forecast window's
    value columns (its last axis), else None."""
    if _is_table(state):
        return [st["column"] for st in _positions(state)]
    columns = (state.get("series") or {}).get("value_columns") if state.get("kind") == "timeseries" else None
    if columns and x.ndim == 3 and x.shape[-1] == len(columns):
        return [columns[c % len(columns)] for c in range(width)]
    return [None] * width


def _row_name(state: dict, i: int, ids) -> str:
    kind = state.get("kind", "tabular")
    if kind == "timeseries" and ids is not None and len(ids.columns):
        return f"the window ending at {ids.iloc[i, 0]}"
    return f"row {i + 1}" if kind in ("tabular", "text") else f"input {i + 1}"


def _where(state: dict) -> str:
    if state.get("kind", "tabular") in ("tabular", "text"):
        return " Rows are counted from 1 below the header (row 1 is line 2 of a CSV)."
    return ""


def _cells(state: dict, cells: list) -> list:
    """A series' rows here are windows, which no single row of the request holds: no cells then."""
    return [] if state.get("kind") == "timeseries" else cells


def _listed(parts: list[str]) -> str:
    more = f"; and {len(parts) - EXAMPLES} more row(s)" if len(parts) > EXAMPLES else ""
    return "; ".join(parts[:EXAMPLES]) + more


def check_inputs(state: dict, x: np.ndarray, ids=None) -> None:
    """Encoded inputs the network can take: no inf (a value past float32 once scaled) and no NaN."""
    flat = x.reshape(len(x), -1)
    if np.isfinite(flat).all():
        return
    inf = np.isinf(flat)
    if inf.any():
        rows, cols = np.nonzero(inf)
        fields = _fields(state, x, flat.shape[1])
        by_row: dict[int, list] = {}
        for r, c in zip(rows.tolist(), cols.tolist()):
            if fields[c] not in by_row.setdefault(r, []):
                by_row[r].append(fields[c])
        problem = (f"too large for this model: scaled with its training center and spread it is beyond "
                   f"±{F32_MAX:.3g}, the largest float32 the network computes with")
        parts = [_row_name(state, r, ids) + (f": {', '.join(map(repr, f))}" if f != [None] else "")
                 for r, f in by_row.items()]
        raise BadCells(f"input data: value(s) out of the range this model can compute with ({_listed(parts)}): "
                       f"{problem}.{_where(state)} Send values within the range the model was trained on",
                       _cells(state, [(r, f, f"{f!r} is {problem}" if f else problem)
                                      for r, fs in by_row.items() for f in fs]))
    bad = ~np.isfinite(flat).all(axis=0)
    if _is_table(state):
        cols = list(dict.fromkeys(st["column"] for st, b in zip(_positions(state), bad) if b))
        raise UserError(f"input column(s) {cols} hold missing values after preprocessing; this model was "
                        "trained without imputing them (data.clean.impute: none) and cannot take NaN. Fill them "
                        "in, or retrain with data.clean.impute: median")
    raise UserError(f"input {list(state['spec'].get('input_columns') or ['input'])}: holds NaN values, which the "
                    "model cannot take")


def _suspects(state: dict, row: np.ndarray) -> list[tuple[str, str]]:
    """A table row's numeric fields far from the training data: (field, value in its own units)."""
    numeric = [(j, st) for j, st in enumerate(_positions(state)) if st["kind"] == "numeric"]
    if not numeric:
        return []
    far = [(j, st) for j, st in numeric if abs(float(row[j])) >= FAR]
    if not far:
        far = [max(numeric, key=lambda p: abs(float(row[p[0]])))]
    return [(st["column"], f"{float(row[j]) * st['scale'] + st['center']:.4g}") for j, st in far]


def check_outputs(state: dict, x: np.ndarray, out: np.ndarray, ids=None) -> None:
    """Outputs (raw, or in the target's units) that are finite numbers, else a BadCells naming the
    rows and, for a table, the fields that put the row out of range."""
    finite = np.isfinite(np.asarray(out, dtype=np.float64).reshape(len(out), -1)).all(axis=1)
    if finite.all():
        return
    parts, cells = [], []
    problem = "the model's output is not a finite number for this input (its arithmetic overflows)"
    for r in np.flatnonzero(~finite).tolist():
        suspects = _suspects(state, x[r].reshape(-1)) if _is_table(state) else []
        parts.append(_row_name(state, r, ids) + (": " + ", ".join(f"{f!r} = {v}" for f, v in suspects)
                                                 if suspects else ""))
        cells += [(r, f, f"{f!r} = {v}: {problem}") for f, v in suspects] or [(r, None, problem)]
    raise BadCells(f"input data: value(s) out of the range this model can compute with ({_listed(parts)}): "
                   f"{problem}.{_where(state)} Send values within the range the model was trained on",
                   _cells(state, cells))
