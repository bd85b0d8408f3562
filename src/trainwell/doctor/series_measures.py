"""Measures on a forecast's inputs (data.series), taken once before training."""

from __future__ import annotations

import numpy as np

# A column left out of data.series.value_columns is worth naming when adding it to the listed ones
# raises a ridge regression's validation r2 on the same windows by this much.
COLUMN_GAIN = 0.02
# Beyond this many columns left out the choice looks deliberate, and trying each would cost seconds
# and gigabytes (200 columns of 20,000 hourly rows: 2 GB, 10 s); nothing is measured.
MAX_LEFT_OUT = 32
# Windows a ridge regression is fitted and scored on, at most (a fixed sample beyond).
MAX_WINDOWS = 5000


def left_out_columns(cfg, prepared) -> dict | None:
    """With data.series.value_columns set: the file's other numeric columns that a ridge regression
    on the same windows finds worth adding, each tried beside the listed ones on the validation
    windows: {"listed", "helpful": [{"column", "r2_gain"}], "r2_listed", "r2_with_helpful"}.
    None when every column is in, when none helps, or without a validation split."""
    series = cfg.data.series
    if series is None or series.value_columns is None or prepared.val is None or len(prepared.val.y) < 20:
        return None
    memo = vars(prepared).setdefault("_left_out_columns", {})
    key = tuple(series.value_columns)
    if key not in memo:
        memo[key] = _left_out(cfg, prepared)
    return memo[key]


def _left_out(cfg, prepared) -> dict | None:
    from ..data import prepare

    series = cfg.data.series
    mine = (prepared.state or {}).get("series") if isinstance(prepared.state, dict) else None
    target = (mine or {}).get("target")
    # A target outside the inputs is target_history_unseen's to name (its fix adds the target).
    if not target or target not in series.value_columns:
        return None
    # The same target as the run (without data.target the run's is the first listed column, and
    # every column's preparation would pick the file's first).
    every = prepare(cfg.data.model_copy(update={"target": target,
                                                "series": series.model_copy(update={"value_columns": None})}),
                    cfg.seed, cfg.model.type)
    state = (every.state or {}).get("series") if isinstance(every.state, dict) else None
    columns = list((state or {}).get("value_columns") or [])
    listed = [c for c in series.value_columns if c in columns]
    others = [c for c in columns if c not in listed]
    if not others or len(others) > MAX_LEFT_OUT or len(listed) != len(series.value_columns) or every.val is None \
            or (state or {}).get("target") != target \
            or len(every.train.y) != len(prepared.train.y) or len(every.val.y) != len(prepared.val.y):
        return None
    pick_rows = lambda n: np.sort(np.random.default_rng(0).choice(n, MAX_WINDOWS, replace=False)) if n > MAX_WINDOWS \
        else slice(None)
    rows, vrows = pick_rows(len(every.train.y)), pick_rows(len(every.val.y))
    x, xv = np.asarray(every.train.x[rows], dtype=np.float32), np.asarray(every.val.x[vrows], dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != len(columns):
        return None
    y, yv = np.asarray(every.train.y[rows], dtype=np.float64), np.asarray(every.val.y[vrows], dtype=np.float64)
    pick = lambda names: [columns.index(c) for c in names]
    base = _ridge_r2(x, y, xv, yv, pick(listed))
    helpful = []
    for c in others:
        gain = _ridge_r2(x, y, xv, yv, pick(listed + [c])) - base
        if gain >= COLUMN_GAIN:
            helpful.append({"column": c, "r2_gain": round(gain, 4)})
    if not helpful:
        return None
    both = _ridge_r2(x, y, xv, yv, pick(listed + [h["column"] for h in helpful]))
    return {"listed": listed, "helpful": helpful, "r2_listed": round(base, 4), "r2_with_helpful": round(both, 4)}


def _ridge_r2(x, y, xv, yv, cols: list[int]) -> float:
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    flat = lambda a: np.nan_to_num(a[:, :, cols].reshape(len(a), -1))
    model = Ridge(alpha=1.0).fit(flat(x), y.reshape(len(y), -1))
    return float(r2_score(yv.reshape(len(yv), -1), model.predict(flat(xv))))
