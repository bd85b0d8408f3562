"""Ordered data: time-series forecasting (kind "timeseries") and sequence classification or
regression from a 3-D .npz (kind "sequence").

Time series, from a CSV or Parquet table (one row per time step):

    load -> sort by data.series.time_column -> coerce value columns to numbers (garbage -> NaN,
    counted) -> cut the SERIES into train / val / test in time order -> fill or drop missing
    values within each part -> fit per-column mean/std on the train part -> windows.

A sample is x = values[t - window : t] (window, n_value_columns) and y = target[t : t + horizon].
A window belongs to the split that holds all of its target steps; its input steps may reach back
into the previous split (val's first windows read the last `window` steps of train). That is
standard for forecasting and leaks no target: the model only ever sees the past of what it
predicts. Interpolation runs inside each part, so no value of a later part shapes an earlier one.
data.split.stratify has no meaning for a time series and is ignored (the report notes it).

Sequences, from an .npz with x (N, T, F) or (N, T) and y (N,): the task is inferred like a
table's target, the split is stratified and seeded, and each feature is standardized with a mean
and std over every training sample and time step. Labels are encoded by transforms.fit_target, so
the state's "target" has the tabular layout and the tabular inverse_target reads it.
"""

from __future__ import annotations

import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadCells, UserError
from .clean import _short, coerce_numeric_array, column_kind, refuse_unreadable_numbers
from .prepare import (SPLITS, DataSpec, Prepared, SplitArrays, _class_count_dict, _imbalance_note, _rebalance,
                      _resolve_task, _suggest, _target_kind)
from .sampling import check_imbalance_setting
from .sources import load_table, read_input_table
from .split import split_fractions, split_indices, split_sizes
from .subset import class_mask, fraction_indices
from .transforms import _as_missing
from .transforms import STATE_FORMAT, _fit_scale, fit_target, raw_target, transform_target

__all__ = ["prepare_timeseries", "prepare_sequences", "load_inputs", "load_labelled", "inverse_target"]


# ============================================================================= time series
def _numeric_columns(frame: pd.DataFrame, exclude: list[str]) -> list[str]:
    # column_kind accepts a column with a few garbage strings as numeric: they are coerced later.
    return [c for c in frame.columns if c not in exclude and column_kind(frame[c]) == "numeric"]


def _resolve_columns(cfg, frame: pd.DataFrame) -> tuple[str | None, list[str], str]:
    s = cfg.series
    columns = list(frame.columns)
    if s.time_column is not None and s.time_column not in columns:
        raise UserError(f"data.series.time_column: column {s.time_column!r} not found"
                        f"{_suggest(s.time_column, columns)}; columns are: {columns}")
    exclude = [s.time_column] if s.time_column else []
    if s.value_columns is None:
        values = _numeric_columns(frame, exclude)
        if not values:
            raise UserError(f"data.series.value_columns: no numeric column besides the time column; "
                            f"columns are: {columns}")
    else:
        if not s.value_columns:
            raise UserError("data.series.value_columns: empty list; name at least one column, or remove the "
                            "key to use every numeric column")
        unknown = [c for c in s.value_columns if c not in columns]
        if unknown:
            listed = ", ".join(f"{c!r}{_suggest(c, columns)}" for c in unknown)
            raise UserError(f"data.series.value_columns: unknown column(s) {listed}; columns are: {columns}")
        if s.time_column in s.value_columns:
            raise UserError(f"data.series.value_columns: lists the time column {s.time_column!r}; remove it")
        values = list(dict.fromkeys(s.value_columns))
        text = [c for c in values if column_kind(frame[c]) != "numeric"]
        if text:
            raise UserError(f"data.series.value_columns: column(s) {text} hold text, not numbers; "
                            "a series needs numeric columns")
    target = cfg.target or values[0]
    if target not in columns:
        raise UserError(f"data.target: column {target!r} not found{_suggest(target, columns)}; columns are: {columns}")
    if target == s.time_column:
        raise UserError(f"data.target: {target!r} is the time column; choose a value column to forecast")
    if column_kind(frame[target]) != "numeric":
        raise UserError(f"data.target: column {target!r} holds text; a forecast target must be numeric")
    return s.time_column, values, target


def _parse_time(raw: pd.Series, dayfirst: bool = False) -> tuple[pd.Series, str]:
    """Numbers stay numbers; text that mostly parses as dates becomes datetimes. Returns (times, kind)."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw, "datetime"
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64"), "numeric"
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().sum() >= 0.9 * raw.notna().sum() and raw.notna().any():
        return numbers.astype("float64"), "numeric"
    times = _to_datetime(raw, dayfirst)
    if times.notna().sum() >= 0.9 * raw.notna().sum() and raw.notna().any():
        return times, "datetime"
    return raw.astype(str), "text"  # sorted as text: ISO-like stamps still sort right


def _to_datetime(raw: pd.Series, dayfirst: bool) -> pd.Series:
    import warnings

    with warnings.catch_warnings():  # pandas warns when a day-first date contradicts dayfirst; we measure that
        warnings.simplefilter("ignore")
        if dayfirst:
            # ISO dates (2023-01-02) are never day first, but pandas' mixed parser with dayfirst
            # reads them as 1 February.
            iso = pd.to_datetime(raw, errors="coerce", format="ISO8601")
            if iso.notna().sum() >= 0.9 * raw.notna().sum():
                return iso
        return pd.to_datetime(raw, errors="coerce", format="mixed", dayfirst=dayfirst)


def _steps_back(times: pd.Series) -> int:
    t = times.dropna().to_numpy()
    return int((t[1:] < t[:-1]).sum())


def _day_month_swapped(raw: pd.Series, dayfirst: bool) -> dict | None:
    """Dates such as 02/01/2023 read as 1 February when the file writes 2 January: in file order the
    other reading of day and month never goes back in time, this one does (3 times or more), which
    only the swap explains in a file written in time order. (Sorted, both readings can look like a
    regular clock: the swap only permutes the first twelve days of the months.)"""
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_datetime64_any_dtype(raw):
        return None
    raw = raw.iloc[:SWAP_ROWS]  # parsing twice is slow; a year of hourly rows is plenty to see it
    try:
        this, other = _to_datetime(raw, dayfirst), _to_datetime(raw, not dayfirst)
    except (ValueError, TypeError, OverflowError):
        return None
    if this.isna().all() or other.isna().sum() > this.isna().sum():
        return None
    back, back_other = _steps_back(this), _steps_back(other)
    if back_other == 0 and back >= 3:
        differ = (this != other) & this.notna() & other.notna()
        example = str(raw[differ].iloc[0]) if differ.any() else str(raw.dropna().iloc[0])
        return {"steps_back": back, "steps_back_swapped": 0, "rows": int(this.notna().sum()), "dayfirst": dayfirst,
                "example": example}
    return None


SWAP_ROWS = 10_000


def _unordered_time(frame: pd.DataFrame, skip: list[str], dayfirst: bool = False) -> dict | None:
    """Without a time column the rows are the series in file order. A column of dates (not one of
    the series' values) whose dates go back in time says the file is not in that order: windows
    would string together unrelated moments. The first such column, with how often it goes back."""
    for col in frame.columns:
        if col in skip or pd.api.types.is_numeric_dtype(frame[col]):
            continue
        try:
            times, kind = _parse_time(frame[col], dayfirst)
        except (ValueError, TypeError, OverflowError):  # mixed time zones, odd text: not a clue either way
            continue
        if kind != "datetime":
            continue
        t = times.dropna().to_numpy()
        back = int((t[1:] < t[:-1]).sum())
        # A clock put back once a year (local time), or a date column that is not the series' own
        # (a last-service date), goes back now and then; a shuffled file on every other row.
        if back >= max(3, 0.05 * len(t)):
            # In order once day and month are read the other way: the file is in time order, and
            # sorting by the misread dates would scramble it.
            swapped = _day_month_swapped(frame[col], dayfirst)
            return {"column": str(col), "steps_back": back, "rows": int(len(t)),
                    **({"dayfirst": not dayfirst} if swapped else {})}
    return None


# A time column repeating its values in a tenth of the rows or more, and going back in time in file
# order 3 times or more, so that half the rows or more are out of its order (_rows_out_of_order): not
# the series' clock but a part of it (the hour of the day, the weekday: back once a day or a week),
# or several series stacked in one file. A log with two rows a day and a few entered late has only
# those few out of order. Sorted by it, the rows of different days interleave: 90 midnights, then 90
# one o'clocks (a district-heating load sorted by its hour column: r2 0.693/0.696 against 0.873/0.886
# by its timestamp; twenty-fourth held-out set). A file in the column's order keeps its rows where
# they are under the stable sort, so a date column over hourly rows is not named.
REPEATED_TIMES_SHARE = 0.1
REPEATED_TIMES_MOVED = 0.5


def _rows_out_of_order(times: pd.Series) -> int:
    """The fewest rows that must move for the file to be in time order: the rows less the longest run
    of rows, not necessarily adjacent, whose times never go back. A few late entries count as
    themselves, where a plain count of rows the sort shifts would count every row after them."""
    import bisect

    _, codes = np.unique(times.to_numpy(), return_inverse=True)
    tails: list[int] = []
    for c in codes.tolist():
        i = bisect.bisect_right(tails, c)
        if i == len(tails):
            tails.append(c)
        else:
            tails[i] = c
    return len(codes) - len(tails)


def _repeated_times(frame: pd.DataFrame, time_col: str | None, seen: dict, skip: list[str],
                    dayfirst: bool) -> dict | None:
    """The time column's repeats when they scramble the series (REPEATED_TIMES_SHARE), with another
    column of the file that reads as dates and repeats none (the clock it was taken for), if any."""
    rows = seen.get("rows", 0)
    if time_col is None or not rows or seen["repeated"] < REPEATED_TIMES_SHARE * rows or seen["steps_back"] < 3 \
            or seen["moved"] < REPEATED_TIMES_MOVED * rows:
        return None
    candidate = None
    for col in frame.columns:
        if col == time_col or col in skip or pd.api.types.is_numeric_dtype(frame[col]):
            continue
        try:
            times, kind = _parse_time(frame[col], dayfirst)
        except (ValueError, TypeError, OverflowError):
            continue
        if kind == "datetime" and times.notna().all() and not times.duplicated().any():
            candidate = str(col)
            break
    return {"column": time_col, "rows": rows, "distinct": rows - seen["repeated"], "repeated": seen["repeated"],
            "steps_back": seen["steps_back"], "moved": seen["moved"], "candidate": candidate}


def _order(frame: pd.DataFrame, time_col: str | None, kind: str | None, where: str,
           notes: list | None, dayfirst: bool = False, seen: dict | None = None) -> tuple[pd.DataFrame, pd.Series, str | None]:
    """Rows sorted by time (stable); rows without a time are dropped. Returns (frame, ids, time kind).
    `seen`: filled with the times' repeats and steps back in file order, read before the sort."""
    if time_col is None:
        return frame.reset_index(drop=True), pd.Series(np.arange(len(frame)), name="row"), None
    raw = frame[time_col]
    if kind is None:
        times, kind = _parse_time(raw, dayfirst)
    elif kind == "datetime":
        times = _to_datetime(raw, dayfirst)
    elif kind == "numeric":
        times = pd.to_numeric(raw, errors="coerce").astype("float64")
    else:
        times = raw.astype(str)
    bad = times.isna().to_numpy()
    if bad.any() and notes is None:
        _refuse_times(raw, bad, time_col)
    if bad.any():
        if notes is not None:
            notes.append(f"{where}: {int(bad.sum())} row(s) with a missing or unreadable time in "
                         f"{time_col!r} were dropped")
        frame, times = frame[~bad], times[~bad]
    if seen is not None:
        repeated, back = int(times.duplicated().sum()), _steps_back(times)
        seen.update(rows=int(len(times)), repeated=repeated, steps_back=back,
                    # only worth the count where the cheap signs are there
                    moved=_rows_out_of_order(times) if repeated >= REPEATED_TIMES_SHARE * len(times) and back >= 3 else 0)
    order = np.argsort(times.to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    times = times.iloc[order].reset_index(drop=True).rename(time_col)
    if notes is not None:
        dup = int(times.duplicated().sum())
        if dup:
            notes.append(f"{where}: {dup} row(s) repeat an earlier time in {time_col!r}; they are kept in file order")
    return frame, times, kind


def _refuse_times(raw: pd.Series, bad: np.ndarray, time_col: str) -> None:
    """New rows (predict, evaluate, serve) with no readable time. Training drops such rows with a
    note; here a dropped row would silently shift every window after it and lose a forecast."""
    rows = np.flatnonzero(bad)
    shown = ", ".join(f"row {i + 1}: {'missing' if pd.isna(raw.iloc[i]) else _short(raw.iloc[i])}" for i in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    problem = f"{time_col!r} must be a time the series can be ordered by, like the training file's"
    raise BadCells(f"input data: {len(rows)} value(s) of the time column {time_col!r} cannot be read as a time "
                   f"({shown}{more}). Rows are counted from 1 below the header (row 1 is line 2 of a CSV). Write a "
                   "time in each of these cells, in the training file's format",
                   [(int(i), time_col, f"{problem}; got {'nothing' if pd.isna(raw.iloc[i]) else _short(raw.iloc[i])}")
                    for i in rows])


def _coerce(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    matrix = np.empty((len(frame), len(columns)), dtype=np.float64)
    coerced = {}
    for j, col in enumerate(columns):
        matrix[:, j], n = coerce_numeric_array(frame[col].reset_index(drop=True))
        if n:
            coerced[col] = n
    return matrix, coerced


def _handle_missing(values: np.ndarray, columns: list[str], method: str, where: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Fill gaps (linear, inside the part) or drop their rows. Returns (values, kept row mask, counts per column)."""
    nan = np.isnan(values)
    counts = {c: int(n) for c, n in zip(columns, nan.sum(axis=0)) if n}
    keep = np.ones(len(values), dtype=bool)
    if not counts:
        return values, keep, counts
    if method == "drop":
        keep = ~nan.any(axis=1)
        return values[keep], keep, counts
    empty = [c for c, n in zip(columns, nan.sum(axis=0)) if n == len(values)]
    if empty:
        raise UserError(f"{where}: column(s) {empty} have no values at all, so there is nothing to interpolate "
                        "from; remove them from data.series.value_columns")
    # Linear in row position (equal steps assumed); the ends take the nearest observed value.
    filled = pd.DataFrame(values).interpolate(method="linear", limit_direction="both").to_numpy()
    return filled, keep, counts


def _series_state(cfg, time_col, time_kind, values, target) -> dict:
    s = cfg.series
    return {"time_column": time_col, "time_kind": time_kind, "value_columns": values, "target": target,
            "window": s.window, "horizon": s.horizon, "missing": s.missing, "dayfirst": s.dayfirst,
            "missing_codes": [float(c) for c in cfg.clean.missing_codes],
            "target_missing_codes": [float(c) for c in cfg.clean.target_missing_codes]}


def _codes_as_gaps(values: np.ndarray, columns: list[str], ss: dict) -> tuple[np.ndarray, dict[str, int]]:
    """data.clean.missing_codes (the input series) and target_missing_codes (the target) made gaps,
    which data.series.missing then fills or drops like empty cells. They used to be ignored for a
    series: -999 in 60 load values was read as a load of -999."""
    counts = {}
    for j, col in enumerate(columns):
        codes = (ss.get("missing_codes") or []) if col in ss["value_columns"] else []
        codes = codes + ((ss.get("target_missing_codes") or []) if col == ss["target"] else [])
        if codes:
            before = np.isnan(values[:, j])
            values[:, j] = _as_missing(values[:, j], codes)
            n = int((np.isnan(values[:, j]) & ~before).sum())
            if n:
                counts[col] = n
    return values, counts


def _window_starts(lo: int, hi: int, window: int, horizon: int) -> np.ndarray:
    """Forecast origins t whose targets t .. t+horizon-1 lie in rows [lo, hi) and whose inputs exist."""
    return np.arange(max(lo, window), hi - horizon + 1)


def _windows(x: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """x (rows, F) -> (len(starts), window, F), the `window` rows before each start."""
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (rows - window + 1, F, window)
    return view[starts - window].transpose(0, 2, 1)


def _targets(y: np.ndarray, starts: np.ndarray, horizon: int) -> np.ndarray:
    out = y[starts[:, None] + np.arange(horizon)]
    return out[:, 0] if horizon == 1 else out


def _scale(values: np.ndarray, sc: dict) -> np.ndarray:
    return ((values - np.asarray(sc["mean"])) / np.asarray(sc["std"])).astype(np.float32)


def _scale_y(y: np.ndarray, target: dict) -> np.ndarray:
    return ((y - target["mean"]) / target["std"]).astype(np.float32) if target["scaled"] else y.astype(np.float32)


def prepare_timeseries(cfg, seed: int) -> Prepared:
    if cfg.series is None:
        raise UserError("data.kind: timeseries needs a data.series section (window, horizon, value_columns ...)")
    s = cfg.series
    for key in ("val", "test"):
        if getattr(cfg, key):
            raise UserError(f"data.{key}: separate files are not supported for a time series; it is cut in time "
                            f"order by data.split (remove data.{key})")
    if cfg.task not in ("auto", "regression"):
        raise UserError(f"data.task: a forecast is regression, got {cfg.task!r}; set data.task: auto or regression")
    if cfg.classes is not None:
        raise UserError("data.classes: only for classification; a forecast is regression, remove data.classes")
    if cfg.features is not None:
        raise UserError("data.features: a time series takes its inputs from data.series.value_columns; "
                        "move the columns there")
    check_imbalance_setting(cfg.imbalance, "regression")
    if cfg.clean.clip_outliers != "none":
        # It was ignored silently: a series' spikes are often what it forecasts.
        raise UserError(f"data.clean.clip_outliers: {cfg.clean.clip_outliers!r} is not applied to a time series (its "
                        "spikes are often what it forecasts); set it to none, or clip the values before training")

    notes = ["split: chronological (train, then val, then test, in time order); data.split.stratify "
             "does not apply to a time series"]
    frame = load_table(cfg.source, "data.source")
    frame.columns = frame.columns.map(str)
    time_col, value_cols, target = _resolve_columns(cfg, frame)
    unordered = _unordered_time(frame, value_cols + [target], s.dayfirst) if time_col is None else None
    if unordered and "dayfirst" in unordered:
        notes.append(f"data.series.time_column: not set; column {unordered['column']!r} holds dates in file order "
                     f"only when read with data.series.dayfirst: {unordered['dayfirst']}")
    elif unordered:
        notes.append(f"data.series.time_column: not set, so the rows are taken in file order, but column "
                     f"{unordered['column']!r} holds dates that go back in time {unordered['steps_back']} time(s); "
                     f"set data.series.time_column: {unordered['column']} to sort by it")
    swapped = _day_month_swapped(frame[time_col], s.dayfirst) if time_col is not None else None
    if swapped:
        notes.append(f"data.series.time_column: {time_col!r} falls on a regular clock only with day and month the "
                     f"other way round (e.g. {swapped['example']!r}); set data.series.dayfirst: {not s.dayfirst}")
    loaded = frame
    seen: dict = {}
    frame, times, time_kind = _order(frame, time_col, None, "data.series.time_column", notes, s.dayfirst, seen)
    repeated = _repeated_times(loaded, time_col, seen, value_cols + [target], s.dayfirst)
    columns = list(dict.fromkeys(value_cols + [target]))  # the target is coerced with the inputs
    raw, coerced = _coerce(frame, columns)
    raw, coded = _codes_as_gaps(raw, columns, _series_state(cfg, time_col, None, value_cols, target))
    if coded:
        notes.append(f"data.clean: {sum(coded.values())} value(s) matching a missing-value code became gaps "
                     f"({coded}), filled or dropped as data.series.missing says")
    n = len(raw)
    window, horizon = s.window, s.horizon
    if n < window + horizon:
        raise UserError(f"data.series.window: a window of {window} steps plus a horizon of {horizon} needs at "
                        f"least {window + horizon} rows, but the series has {n}; lower data.series.window "
                        "or data.series.horizon")

    fractions = split_fractions(cfg.split, False, False)
    sizes = split_sizes(fractions, n)
    bounds, at = {}, 0
    for name in SPLITS:
        if sizes[name]:
            bounds[name] = (at, at + sizes[name])
            at += sizes[name]

    # Missing values are handled part by part, so a later part never shapes an earlier one.
    parts, missing = [], {}
    series_rows, dropped, new_bounds, at = {}, 0, {}, 0
    for name, (lo, hi) in bounds.items():
        part, keep, counts = _handle_missing(raw[lo:hi], columns, s.missing, f"data.source ({name} part)")
        parts.append(part)
        for col, k in counts.items():
            missing[col] = missing.get(col, 0) + k
        dropped += int((~keep).sum())
        new_bounds[name] = (at, at + len(part))
        series_rows[name] = len(part)
        at += len(part)
    values = np.concatenate(parts)
    if s.missing == "drop" and dropped:
        notes.append(f"missing: {dropped} row(s) with a missing value were dropped; windows span the gaps")

    starts = {name: _window_starts(lo, hi, window, horizon) for name, (lo, hi) in new_bounds.items()}
    empty = [name for name, st in starts.items() if len(st) == 0]
    if empty:
        detail = ", ".join(f"{k} {v} rows" for k, v in series_rows.items())
        raise UserError(f"data.series.window: with window {window} and horizon {horizon}, the {'/'.join(empty)} "
                        f"part(s) hold no complete window ({detail}; train needs more than window + horizon - 1 "
                        f"= {window + horizon - 1} rows, val and test at least horizon = {horizon}); lower "
                        "data.series.window or data.series.horizon, or change data.split")

    in_idx = [columns.index(c) for c in value_cols]
    y_all = values[:, columns.index(target)]
    train_lo, train_hi = new_bounds["train"]
    scale = {"columns": value_cols, "mean": [], "std": []}
    for j in in_idx:
        mean, std = _fit_scale(values[train_lo:train_hi, j], "none" if cfg.scale == "none" else "standardize")
        scale["mean"].append(mean)
        scale["std"].append(std)
    target_state = fit_target("regression", None, y_all[train_lo:train_hi], "numeric", cfg)

    spec = DataSpec(task="regression", target=target,
                    input_columns=([time_col] if time_col else []) + value_cols,
                    column_types={c: "numeric" for c in value_cols}, feature_names=value_cols,
                    n_features=len(value_cols), classes=None, n_outputs=horizon, kind="timeseries",
                    input_shape=[window, len(value_cols)])
    state = {"format": STATE_FORMAT, "kind": "timeseries", "spec": asdict(spec),
             "series": _series_state(cfg, time_col, time_kind, value_cols, target),
             "scale": scale, "target": target_state}

    x_scaled = _scale(values[:, in_idx], scale)
    arrays, baselines, rows = {}, {}, {}
    for name, st in starts.items():
        if name == "train" and cfg.train_fraction < 1:
            keep = fraction_indices(len(st), cfg.train_fraction, seed)
            notes.append(f"train_fraction: {len(keep)} of {len(st)} training windows kept (seeded, at random)")
            st = st[keep]
        y_raw = _targets(y_all, st, horizon)
        arrays[name] = SplitArrays(x=np.ascontiguousarray(_windows(x_scaled, st, window)),
                                   y=_scale_y(y_raw, target_state), y_raw=y_raw)
        # Persistence: the last observed target value, held for every step of the horizon.
        last = y_all[st - 1]
        baselines[name] = last if horizon == 1 else np.repeat(last[:, None], horizon, axis=1)
        rows[name] = len(st)

    report = {"source": cfg.source, "kind": "timeseries", "task": "regression", "target": target,
              **({"unordered_time": unordered} if unordered else {}),
              **({"day_month_swapped": {"column": time_col, **swapped}} if swapped else {}),
              **({"repeated_times": repeated} if repeated else {}),
              "window": window, "horizon": horizon, "rows_loaded": n, "rows": rows,
              "series_rows": series_rows, "missing": missing, "missing_method": s.missing,
              "coerced": coerced, "notes": notes,
              # over the whole series (the codes are read before the split), with the columns they were read in
              **({"coded": {"series": coded}, "coded_columns": len(columns)} if coded else {})}
    return Prepared(spec=spec, train=arrays["train"], val=arrays.get("val"), test=arrays.get("test"),
                    state=state, report=report, class_weights=None,
                    baselines={k: v for k, v in baselines.items() if k != "train"})


def _series_frame(state: dict, source, need_target: bool) -> tuple[np.ndarray, pd.Series, dict]:
    """A new table -> (values in `columns` order, ids per row, series state), cleaned like training."""
    ss = state["series"]
    frame = source.copy() if isinstance(source, pd.DataFrame) else read_input_table(str(source))
    frame.columns = frame.columns.map(str)
    columns = list(dict.fromkeys(ss["value_columns"] + ([ss["target"]] if need_target else [])))
    required = ([ss["time_column"]] if ss["time_column"] else []) + columns
    missing = [c for c in required if c not in frame.columns]
    if missing:
        what = "evaluation needs the target too; " if need_target and ss["target"] in missing else ""
        raise UserError(f"input data: missing column(s) {missing}; {what}the model needs {required}, "
                        f"the data has {list(frame.columns)}")
    # Training coerces stray strings to gaps; new rows are refused instead, as the server does (before
    # the rows are ordered by time, so the row numbers are the file's).
    gap = {"interpolate": "an empty cell is a gap, interpolated as in training",
           "drop": "an empty cell is a gap; its row is dropped as in training"}.get(ss["missing"])
    refuse_unreadable_numbers(frame, columns, "input data", {c: gap for c in columns} if gap else {})
    frame, times, _ = _order(frame, ss["time_column"], ss["time_kind"], "input data", None, ss.get("dayfirst", False))
    values, _ = _coerce(frame, columns)
    values, _ = _codes_as_gaps(values, columns, ss)
    values, keep, _ = _handle_missing(values, columns, ss["missing"], "input data")
    return values, times[keep].reset_index(drop=True), ss


def _too_short(n: int, need: int, ss: dict, what: str) -> UserError:
    return UserError(f"input data: {n} usable rows, but {what} needs at least {need} (data.series.window "
                     f"{ss['window']}, horizon {ss['horizon']})")


def _series_inputs(state: dict, source):
    values, times, ss = _series_frame(state, source, need_target=False)
    window = ss["window"]
    if len(values) < window:
        raise _too_short(len(values), window, ss, "one window")
    # Every complete window, including the one ending at the last row (a forecast past the data).
    starts = np.arange(window, len(values) + 1)
    x = _scale(values, state["scale"])
    windows = np.ascontiguousarray(_windows(x, starts, window))
    # Each row is named by its last observed step: the forecast is for the steps after it.
    ids = pd.DataFrame({times.name: times.iloc[starts - 1].to_numpy()})
    return windows, ids


def _series_labelled(state: dict, source):
    values, _, ss = _series_frame(state, source, need_target=True)
    window, horizon = ss["window"], ss["horizon"]
    if len(values) < window + horizon:
        raise _too_short(len(values), window + horizon, ss, "one window with its targets")
    columns = list(dict.fromkeys(ss["value_columns"] + [ss["target"]]))
    starts = _window_starts(0, len(values), window, horizon)
    x = _windows(_scale(values[:, [columns.index(c) for c in ss["value_columns"]]], state["scale"]), starts, window)
    y = _scale_y(_targets(values[:, columns.index(ss["target"])], starts, horizon), state["target"])
    return np.ascontiguousarray(x), y


def inverse_target(state: dict, y) -> np.ndarray:
    """Scaled forecasts (N,) or (N, H) -> original units, float64."""
    y = np.asarray(y, dtype=np.float64)
    target = state["target"]
    return y * target["std"] + target["mean"] if target["scaled"] else y


# ============================================================================= sequences
def _read_sequences(path: str, role: str, need_y: bool = True,
                    layout: str = "steps_first") -> tuple[np.ndarray, np.ndarray | None]:
    p = Path(path)
    if p.suffix.lower() != ".npz":
        raise UserError(f"{role}: sequence data is an .npz with arrays x (N, T, F) and y (N,); got {path!r}")
    if not p.is_file():
        raise UserError(f"{role}: file {path!r} not found")
    if not zipfile.is_zipfile(p):
        raise UserError(f"{role}: {path!r} is not a numpy .npz archive (save one with numpy.savez(path, x=..., y=...))")
    try:
        with np.load(p, allow_pickle=False) as archive:
            files = archive.files
            if "x" not in files or (need_y and "y" not in files):
                raise UserError(f"{role}: {path!r} needs arrays 'x' (N, T, F) and 'y' (N,); found {sorted(files)}")
            x = archive["x"]
            y = archive["y"] if "y" in files else None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UserError(f"{role}: could not read {path!r} as npz: {exc}") from None
    return _check_sequences(x, y, f"{role}: {path!r}", layout)


def _check_sequences(x, y, where: str, layout: str = "steps_first"):
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[:, :, None]  # (N, T): one feature per step, whichever the layout
    elif x.ndim == 3 and layout == "channels_first":
        x = x.transpose(0, 2, 1)  # (N, F, T) -> (N, T, F)
    if x.ndim != 3:
        shape = "(N, F, T)" if layout == "channels_first" else "(N, T, F)"
        raise UserError(f"{where}: 'x' must be {shape} or (N, T), got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise UserError(f"{where}: 'x' must be numeric, got dtype {x.dtype}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise UserError(f"{where}: 'y' must be 1-D (N,), got shape {y.shape}")
        if len(y) != len(x):
            raise UserError(f"{where}: 'x' has {len(x)} sequences but 'y' has {len(y)}")
    return x.astype(np.float64), y


def _trailing_zero_steps(x: np.ndarray) -> np.ndarray:
    """Per sequence (N, T, F), how many of its last steps are all zero: padding written after it."""
    zero = np.all(x == 0, axis=2)                   # (N, T)
    run = np.cumprod(zero[:, ::-1], axis=1)         # 1 while the steps from the end are still zero
    return run.sum(axis=1).astype(np.int64)


def _pad_front(x: np.ndarray) -> np.ndarray:
    """Each sequence's trailing all-zero steps moved to its start (data.sequence.padding: front):
    the signal then ends at the last step, where a recurrent net's reading ends. A sequence of
    zeros only stays as it is."""
    k = _trailing_zero_steps(x)
    k[k == x.shape[1]] = 0
    if not k.any():
        return x
    steps = (np.arange(x.shape[1])[None, :] - k[:, None]) % x.shape[1]
    return x[np.arange(len(x))[:, None], steps]


def _padding_report(x: np.ndarray) -> dict:
    """How much of the training sequences is trailing zeros (for the doctor's padded_after)."""
    k = _trailing_zero_steps(x)
    k = k[k < x.shape[1]]
    padded = k[k > 0]
    return {"rows": int(len(k)), "padded_after": int(len(padded)),
            "median_share": round(float(np.median(padded) / x.shape[1]), 4) if len(padded) else 0.0}


def _seq_scale(x: np.ndarray, sc: dict) -> np.ndarray:
    # NaN steps take the training mean, i.e. 0 after standardizing.
    out = (x - np.asarray(sc["mean"])) / np.asarray(sc["std"])
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _missing_counts(x: np.ndarray, names: list[str]) -> dict[str, int]:
    """NaN values per feature of sequences (N, T, F), for the features that have any."""
    counts = np.isnan(x).reshape(-1, x.shape[2]).sum(axis=0)
    return {n: int(k) for n, k in zip(names, counts) if k}


def _nonfinite_as_missing(x: np.ndarray, names: list[str]) -> tuple[np.ndarray, dict, dict]:
    """The sequences with ±inf made NaN; the missing values per feature, and the infinities among them."""
    inf = np.isinf(x)
    coerced = {n: int(k) for n, k in zip(names, inf.reshape(-1, x.shape[2]).sum(axis=0)) if k}
    if coerced:
        x = np.where(inf, np.nan, x)
    return x, _missing_counts(x, names), coerced


def _missing_note(missing: dict, coerced: dict, role: str, path, scale: str) -> list[str]:
    if not missing:
        return []
    n, n_inf = sum(missing.values()), sum(coerced.values())
    what = "NaN or infinite" if n_inf else "NaN"
    inf = f" ({n_inf} of them infinite)" if n_inf and n_inf < n else ""
    fill = "0 (data.scale: none)" if scale == "none" else "the training mean of its feature"
    per = ", ".join(f"{k}: {v}" for k, v in missing.items())
    return [f"missing: {n} {what} value(s){inf} in x of {role} {str(path)!r} ({per}); each takes {fill}"]


def _drop_missing_y(x, y, role: str, report: dict):
    bad = pd.isna(pd.Series(y, dtype=object)).to_numpy() if y.dtype.kind not in "biu" else np.zeros(len(y), bool)
    if bad.any():
        report.setdefault("missing_target_dropped", {})[role] = int(bad.sum())
        x, y = x[~bad], y[~bad]
    return x, y


def prepare_sequences(cfg, seed: int) -> Prepared:
    notes: list[str] = []
    report: dict = {"source": cfg.source, "kind": "sequence", "val_source": cfg.val, "test_source": cfg.test}
    if cfg.series is not None:
        raise UserError("data.series: set for a sequence (.npz) source; remove it, or set data.kind: timeseries")
    layout = cfg.sequence.layout
    x, y = _read_sequences(cfg.source, "data.source", layout=layout)
    x, y = _drop_missing_y(x, y, "source", report)
    files = {}
    for role in ("val", "test"):
        path = getattr(cfg, role)
        if path:
            fx, fy = _read_sequences(path, f"data.{role}", layout=layout)
            if fx.shape[1:] != x.shape[1:]:
                flip = (lambda t: t[::-1]) if layout == "channels_first" else (lambda t: t)
                names = "(F, T)" if layout == "channels_first" else "(T, F)"
                raise UserError(f"data.{role}: sequences of shape {flip(fx.shape[1:])} {names}, but data.source has "
                                f"{flip(x.shape[1:])}")
            files[role] = _drop_missing_y(fx, fy, role, report)
    report["rows_loaded"] = len(x)
    target = "y"
    series = pd.Series(y)
    kind = _target_kind(series, cfg.task, target)
    if cfg.classes is not None:
        keep = class_mask(y, cfg.classes)
        report["other_classes_dropped"] = int((~keep).sum())
        x, y, series = x[keep], y[keep], series[keep].reset_index(drop=True)
        for role, (fx, fy) in files.items():
            fk = class_mask(fy, cfg.classes, f"data.classes ({role} file)")
            files[role] = (fx[fk], fy[fk])
    names = [f"x{i}" for i in range(x.shape[2])]
    # An infinite step would make its feature's training mean infinite, and then every value of that
    # feature 0: it is read as missing, as a table's infinities are, and counted.
    x, missing, coerced = _nonfinite_as_missing(x, names)
    notes += _missing_note(missing, coerced, "data.source", cfg.source, cfg.scale)
    for role, (fx, fy) in list(files.items()):
        fx, f_missing, f_coerced = _nonfinite_as_missing(fx, names)
        files[role] = (fx, fy)
        notes += _missing_note(f_missing, f_coerced, f"data.{role}", getattr(cfg, role), cfg.scale)
        for n, k in f_coerced.items():
            coerced[n] = coerced.get(n, 0) + k
    task, classes, label_kind = _resolve_task(series, kind, cfg.task, target, notes)
    check_imbalance_setting(cfg.imbalance, task)

    fractions = split_fractions(cfg.split, "val" in files, "test" in files)
    labels = pd.factorize(series)[0] if classes is not None else None
    index = split_indices(len(x), fractions, labels, cfg.split.stratify, seed, notes)
    parts = {name: (x[rows], y[rows]) for name, rows in index.items()}
    parts.update(files)
    if cfg.train_fraction < 1:
        tx, ty = parts["train"]
        train_labels = pd.Series(ty).astype(str).to_numpy() if classes is not None else None
        rows = fraction_indices(len(tx), cfg.train_fraction, seed, train_labels)
        report["train_fraction"] = {"fraction": cfg.train_fraction, "rows_before": len(tx), "rows_after": int(len(rows))}
        parts["train"] = (tx[rows], ty[rows])

    T, F = x.shape[1], x.shape[2]
    padding = cfg.sequence.padding
    report["padding"] = {"method": padding, **_padding_report(parts["train"][0])}
    if padding == "front":
        parts = {name: (_pad_front(px), py) for name, (px, py) in parts.items()}
    tx = parts["train"][0].reshape(-1, F)
    scale = {"mean": [], "std": []}
    for j in range(F):
        mean, std = _fit_scale(tx[:, j], "none" if cfg.scale == "none" else "standardize")
        scale["mean"].append(mean)
        scale["std"].append(std)
    train_raw = parts["train"][1].astype("float64") if classes is None else np.empty(0)
    spec = DataSpec(task=task, target=target, input_columns=["x"], column_types={n: "numeric" for n in names},
                    feature_names=names, n_features=F, classes=classes,
                    n_outputs=1 if classes is None else len(classes), kind="sequence", input_shape=[T, F])
    state = {"format": STATE_FORMAT, "kind": "sequence", "spec": asdict(spec), "scale": scale, "layout": layout,
             "padding": padding,
             "normalize_categories": bool(cfg.clean.normalize_categories),
             "target": fit_target(task, classes, train_raw, label_kind, cfg)}

    arrays = {}
    for name in SPLITS:
        if name not in parts:
            continue
        px, py = parts[name]
        try:
            arrays[name] = SplitArrays(x=_seq_scale(px, scale), y=transform_target(state, py),
                                       y_raw=raw_target(state, py))
        except UserError as exc:
            raise UserError(f"data.{name if name in files else 'source'}: {exc}") from None
    # Per split and feature, as a table's imputation is counted (the log and data.json show it).
    imputed = {name: _missing_counts(px, names) for name, (px, _) in parts.items() if name in arrays}
    report.update(task=task, task_inferred=cfg.task == "auto", target=target, sequence_length=T, features=F, layout=layout,
                  rows={k: len(a.x) for k, a in arrays.items()}, missing=missing, imputed=imputed, coerced=coerced)
    if classes is not None:
        report["class_counts"] = {k: _class_count_dict(a.y, classes) for k, a in arrays.items()}
        _imbalance_note(arrays["train"].y, classes, notes, cfg.imbalance)
    train, weights = _rebalance(cfg, arrays["train"], classes, seed, report)
    report["notes"] = notes
    return Prepared(spec=spec, train=train, val=arrays.get("val"), test=arrays.get("test"),
                    state=state, report=report, class_weights=weights)


def sequence_file_shape(state: dict) -> list[int]:
    """A sequence as the user's files hold it: (T, F), or (F, T) with data.sequence.layout channels_first."""
    shape = list(state["spec"]["input_shape"])
    return shape[::-1] if state.get("layout") == "channels_first" else shape


def _sequence_source(state: dict, source, need_y: bool):
    layout = state.get("layout", "steps_first")
    if isinstance(source, dict):
        x, y = _check_sequences(source["x"], source.get("y"), "input data", layout)
    elif isinstance(source, np.ndarray):
        x, y = _check_sequences(source, None, "input data", layout)
    else:
        x, y = _read_sequences(str(source), "input file", need_y, layout)
    want = tuple(state["spec"]["input_shape"])
    if x.shape[1:] != want:
        given, trained = ((x.shape[1:][::-1], tuple(sequence_file_shape(state))) if layout == "channels_first"
                          else (x.shape[1:], want))
        names = "(F, T)" if layout == "channels_first" else "(T, F)"
        raise UserError(f"input data: sequences of shape {given} {names}, but the model was trained on {trained}")
    if need_y and y is None:
        raise UserError("input data: evaluation needs the labels 'y' beside 'x'")
    if state.get("padding") == "front":
        x = _pad_front(x)
    return x, y


# ============================================================================= dispatch
def load_inputs(state: dict, source):
    """Network inputs and one id row per sample: a series' last observed time, or a sequence's row number."""
    if state.get("kind") == "timeseries":
        return _series_inputs(state, source)
    x, _ = _sequence_source(state, source, need_y=False)
    return _seq_scale(x, state["scale"]), pd.DataFrame({"row": np.arange(len(x))})


def load_labelled(state: dict, source):
    if state.get("kind") == "timeseries":
        return _series_labelled(state, source)
    x, y = _sequence_source(state, source, need_y=True)
    x, y = _drop_missing_y(x, y, "input", {})
    return _seq_scale(x, state["scale"]), transform_target(state, y)
