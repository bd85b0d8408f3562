"""Fitted preprocessing. Fitted on the training split only; the state is a plain JSON dict.

Per numeric column, in order: coerce text to numbers -> missing-value codes to missing -> impute -> clip -> scale.
Per categorical column: clean text (and normalize, if on) -> missing becomes the category
"<missing>" (missingness is often informative, and it keeps the one-hot rows well defined) ->
one-hot over the categories seen in train, sorted. A category unseen in train encodes as all
zeros in its group, and is counted.

transform_features / transform_target / inverse_target redo exactly these steps from the state,
so predicting on new data matches training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import UserError
from .clean import coerce_numeric, normalize_text, numeric_matrix, to_text

MISSING = "<missing>"
STATE_FORMAT = 1


# ----------------------------------------------------------------------------- helpers
def _num(value) -> float | None:
    """A JSON-safe float: python float, NaN/inf -> None."""
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _safe_scale(value: float) -> float:
    # A constant column has no spread; dividing by 1 leaves it at 0 after centering.
    return 1.0 if not np.isfinite(value) or value == 0 else float(value)


def _categorical_text(series: pd.Series, normalize: bool) -> pd.Series:
    text = to_text(series)
    if normalize:
        text, _ = normalize_text(text)
    return text.fillna(MISSING)


# ----------------------------------------------------------------------------- fitting
def _fit_impute(observed: np.ndarray, clean, column: str, notes: list) -> float | None:
    method = clean.impute
    if method == "none":
        return None
    if method == "constant":
        return float(clean.impute_value)
    if observed.size == 0:
        notes.append(f"column {column!r} has no values in the training split; missing values are filled with 0")
        return 0.0
    if method == "median":
        return float(np.median(observed))
    if method == "mean":
        return float(np.mean(observed))
    values, counts = np.unique(observed, return_counts=True)
    return float(values[np.argmax(counts)])  # ties: the smallest value, deterministically


def _fit_clip(observed: np.ndarray, clean) -> list[float] | None:
    if clean.clip_outliers == "none" or observed.size == 0:
        return None
    if clean.clip_outliers == "iqr":
        factor = clean.clip_factor or 1.5
        q1, q3 = np.percentile(observed, [25, 75])
        lo, hi = q1 - factor * (q3 - q1), q3 + factor * (q3 - q1)
    else:
        factor = clean.clip_factor or 3.0
        mean, std = observed.mean(), observed.std()
        lo, hi = mean - factor * std, mean + factor * std
    return [float(lo), float(hi)]


def _fit_scale(values: np.ndarray, method: str) -> tuple[float, float]:
    observed = values[~np.isnan(values)]
    if method == "none" or observed.size == 0:
        return 0.0, 1.0
    if method == "standardize":
        return float(observed.mean()), _safe_scale(observed.std())
    if method == "minmax":
        return float(observed.min()), _safe_scale(observed.max() - observed.min())
    q1, median, q3 = np.percentile(observed, [25, 50, 75])
    return float(median), _safe_scale(q3 - q1)


def _as_missing(values: np.ndarray, codes) -> np.ndarray:
    """The values with every missing-value code (data.clean.missing_codes) made NaN."""
    if not codes:
        return values
    # To a millionth of the code: a code read back from float32 features (the doctor's) is exact to
    # about 1e-7 of itself, and no real measurement sits that close to a code by chance.
    hit = np.zeros(values.shape, dtype=bool)
    for code in codes:
        hit |= np.isclose(values, code, rtol=1e-6, atol=0.0)
    return np.where(hit, np.nan, values)


def _fit_numeric(column: str, raw: np.ndarray, cfg, notes: list) -> dict:
    """Fit one numeric column from its coerced float64 values."""
    codes = [float(c) for c in cfg.clean.missing_codes]
    raw = _as_missing(raw, codes)
    observed = raw[~np.isnan(raw)]
    impute = _fit_impute(observed, cfg.clean, column, notes)
    clip = _fit_clip(observed, cfg.clean)
    # Scale statistics describe what the network will actually see: imputed and clipped values.
    filled = _apply_numeric_steps(raw, impute, clip)[0]
    center, scale = _fit_scale(filled, cfg.scale)
    return {"column": column, "kind": "numeric", "impute": _num(impute), "clip": clip,
            "center": center, "scale": scale, **({"missing_codes": codes} if codes else {})}


def _fit_categorical(column: str, series: pd.Series, normalize: bool) -> dict:
    text = _categorical_text(series, normalize)
    return {"column": column, "kind": "categorical", "categories": sorted(text.unique().tolist())}


def fit_features(train: pd.DataFrame, input_columns: list[str], column_types: dict[str, str],
                 cfg) -> tuple[list[dict], list[str], list[str]]:
    """Fit per-column transforms on the training split.

    Returns (feature states in input order, encoded feature names, notes).
    """
    notes: list[str] = []
    states, names, constant = [], [], []
    numeric = [c for c in input_columns if column_types[c] == "numeric"]
    matrix, _ = numeric_matrix(train, numeric)  # coerce every numeric column once, up front
    raw = dict(zip(numeric, matrix.T))
    for col in input_columns:
        if column_types[col] == "numeric":
            states.append(_fit_numeric(col, raw[col], cfg, notes))
            names.append(col)
            seen = raw[col][np.isfinite(raw[col])]
            if seen.size >= 2 and seen.min() == seen.max():
                constant.append(f"{col!r} ({seen[0]:g})")
        else:
            st = _fit_categorical(col, train[col], cfg.clean.normalize_categories)
            states.append(st)
            names.extend(f"{col}={c}" for c in st["categories"])
    if constant:
        shown = ", ".join(constant[:5]) + (f" and {len(constant) - 5} more" if len(constant) > 5 else "")
        notes.append(f"{len(constant)} column(s) hold one value in every training row: {shown}. The network learns "
                     f"nothing from them, and other values in new rows reach weights that never trained (leave "
                     f"them out with data.features)")
    return states, names, notes


def fit_target(task: str, classes: list | None, train_raw: np.ndarray, label_kind: str, cfg) -> dict:
    if task != "regression":
        return {"kind": "classification", "classes": classes, "label_kind": label_kind,
                "normalize": bool(cfg.clean.normalize_categories)}
    mean, std = 0.0, 1.0
    if cfg.scale_target and train_raw.size:
        mean, std = float(np.mean(train_raw)), _safe_scale(np.std(train_raw))
    return {"kind": "regression", "scaled": bool(cfg.scale_target), "mean": mean, "std": std}


# ----------------------------------------------------------------------------- applying
def _apply_numeric_steps(raw: np.ndarray, impute, clip) -> tuple[np.ndarray, int, int]:
    values = raw.copy()
    n_imputed = 0
    if impute is not None:
        nan = np.isnan(values)
        n_imputed = int(nan.sum())
        values[nan] = impute
    n_clipped = 0
    if clip is not None:
        lo, hi = clip
        with np.errstate(invalid="ignore"):
            n_clipped = int(((values < lo) | (values > hi)).sum())
        values = np.clip(values, lo, hi)  # NaN stays NaN
    return values, n_imputed, n_clipped


def _numeric_params(states: list[dict]) -> dict[str, np.ndarray]:
    """The fitted values of the numeric states as one row per step, for broadcasting over columns.

    A step a column does not use gets a neutral value: no impute -> NaN (filling NaN with NaN
    changes nothing, and has_impute keeps it from being counted); no clip -> (-inf, inf)
    (coerced values are finite or NaN, so nothing is clipped or counted).
    """
    def row(value_of) -> np.ndarray:
        return np.array([value_of(st) for st in states], dtype=np.float64)

    return {
        "has_impute": np.array([st["impute"] is not None for st in states], dtype=bool),
        "impute": row(lambda st: np.nan if st["impute"] is None else st["impute"]),
        "lo": row(lambda st: -np.inf if st["clip"] is None else st["clip"][0]),
        "hi": row(lambda st: np.inf if st["clip"] is None else st["clip"][1]),
        "center": row(lambda st: st["center"]),
        "scale": row(lambda st: st["scale"]),
    }


def _numeric_features(states: list[dict], df: pd.DataFrame, counts: dict) -> np.ndarray:
    """All numeric columns at once: coerce -> impute -> clip -> scale on one 2-D array.

    Each step is the same element-wise operation _apply_numeric_steps does on one column, just
    broadcast over all columns, so the values are identical to handling columns one at a time.
    """
    raw, n_coerced = numeric_matrix(df, [st["column"] for st in states])
    for j, st in enumerate(states):
        if st.get("missing_codes"):
            was = np.isnan(raw[:, j])
            real = raw[~was, j]
            raw[:, j] = _as_missing(raw[:, j], st["missing_codes"])
            coded = np.isnan(raw[:, j]) & ~was
            # Cells a code turned missing (the doctor asks: a code that common is a real value).
            counts.setdefault("coded", {})[st["column"]] = int(coded.sum())
            if coded.any():
                # Which rows, and the range of the values left, for prepare to set against the
                # target (the doctor asks: does the code say something the fill erases?).
                kept = raw[~np.isnan(raw[:, j]), j]
                hit = [float(c) for c in st["missing_codes"] if np.isclose(real, c, rtol=1e-6, atol=0.0).any()]
                counts.setdefault("coded_rows", {})[st["column"]] = {
                    "mask": coded, "codes": hit,
                    "real": [float(kept.min()), float(kept.max())] if kept.size else None}
    p = _numeric_params(states)
    nan = np.isnan(raw)
    n_imputed = np.where(p["has_impute"], nan.sum(axis=0), 0)
    values = np.where(nan, p["impute"], raw)
    with np.errstate(invalid="ignore"):
        n_clipped = ((values < p["lo"]) | (values > p["hi"])).sum(axis=0)
    values = np.clip(values, p["lo"], p["hi"])  # NaN stays NaN
    for j, st in enumerate(states):  # in column order: the report's dicts keep their key order
        for key, n in (("coerced", n_coerced[j]), ("imputed", n_imputed[j]), ("clipped", n_clipped[j])):
            if n:
                counts[key][st["column"]] = int(n)
    return (values - p["center"]) / p["scale"]


def _categorical_block(st: dict, series: pd.Series, normalize: bool, counts: dict) -> np.ndarray:
    text = _categorical_text(series, normalize)
    codes = pd.Index(st["categories"], dtype=object).get_indexer(pd.Index(text, dtype=object))
    known = codes >= 0
    n_unknown = int((~known).sum())
    if n_unknown:
        counts["unknown_categories"][st["column"]] = n_unknown
    block = np.zeros((len(codes), len(st["categories"])), dtype=np.float64)
    block[np.flatnonzero(known), codes[known]] = 1.0
    return block


def check_columns(df: pd.DataFrame, required: list[str], where: str) -> None:
    """UserError naming every missing column at once."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UserError(f"{where}: missing column(s) {missing}; the model needs {list(required)}, "
                        f"the data has {list(map(str, df.columns))}")


def _feature_offsets(states: list[dict]) -> np.ndarray:
    """Where each column's block starts in the encoded row (plus the total width at the end)."""
    widths = [1 if st["kind"] == "numeric" else len(st["categories"]) for st in states]
    return np.concatenate([[0], np.cumsum(widths, dtype=np.int64)]).astype(np.int64)


def transform_features_counted(state: dict, df: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Like transform_features, also returning per-column counts of what each step did."""
    spec = state["spec"]
    check_columns(df, spec["input_columns"], "input data")
    counts = {"coerced": {}, "imputed": {}, "clipped": {}, "unknown_categories": {}}
    normalize = state.get("normalize_categories", True)
    states = state["features"]
    starts = _feature_offsets(states)
    # Blocks are written into a float32 array: the same rounding as stacking them in float64 and
    # casting once at the end, without the intermediate copy.
    x = np.empty((len(df), starts[-1]), dtype=np.float32)
    numeric = [j for j, st in enumerate(states) if st["kind"] == "numeric"]
    if numeric:
        x[:, starts[numeric]] = _numeric_features([states[j] for j in numeric], df, counts)
    for j, st in enumerate(states):
        if st["kind"] != "numeric":
            series = df[st["column"]].reset_index(drop=True)
            x[:, starts[j]:starts[j + 1]] = _categorical_block(st, series, normalize, counts)
    return x, counts


def transform_features(state: dict, df: pd.DataFrame) -> np.ndarray:
    """Raw input columns -> float32 (n, n_features). Extra columns are ignored."""
    return transform_features_counted(state, df)[0]


def _as_series(values) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    arr = np.asarray(values)
    return pd.Series(arr.ravel() if arr.ndim > 1 and arr.size == len(arr) else arr)


def _class_indices(target: dict, values: pd.Series) -> np.ndarray:
    classes = target["classes"]
    if target["label_kind"] == "numeric":
        v, _ = coerce_numeric(values)
        v = v.to_numpy(dtype="float64")
        ordered = np.asarray(classes, dtype="float64")  # classes are stored sorted
        pos = np.clip(np.searchsorted(ordered, v), 0, len(ordered) - 1)
        return np.where(ordered[pos] == v, pos, -1)
    text = to_text(values)
    if target.get("normalize", True):
        text, _ = normalize_text(text)
    return pd.Index(classes, dtype=object).get_indexer(pd.Index(text, dtype=object))


def transform_target(state: dict, values) -> np.ndarray:
    """Raw target values -> int64 class indices, or float32 (scaled) regression targets."""
    target, name = state["target"], state["spec"]["target"]
    series = _as_series(values)
    if target["kind"] == "classification":
        idx = _class_indices(target, series)
        unknown = idx < 0
        if unknown.any():
            labels = pd.unique(series[unknown].astype(object))[:10].tolist()
            raise UserError(f"target {name!r}: {int(unknown.sum())} value(s) are not known classes, "
                            f"e.g. {labels}; the model knows {target['classes']}")
        return idx.astype(np.int64)
    y = _regression_values(name, series)
    if target["scaled"]:
        y = (y - target["mean"]) / target["std"]
    return y.astype(np.float32)


def _regression_values(name: str, series: pd.Series) -> np.ndarray:
    v, _ = coerce_numeric(series)
    if v.isna().any():
        raise UserError(f"target {name!r}: {int(v.isna().sum())} value(s) are missing or not numbers; "
                        "a regression target must be numeric")
    return v.to_numpy(dtype="float64")


def raw_target(state: dict, values) -> np.ndarray:
    """Regression: validated float64 values in original units; classification: class indices."""
    if state["target"]["kind"] == "classification":
        return transform_target(state, values)
    return _regression_values(state["spec"]["target"], _as_series(values))


def inverse_target(state: dict, y: np.ndarray) -> np.ndarray:
    """Regression: scaled -> original units (float64). Classification: indices -> labels (object)."""
    target = state["target"]
    y = np.asarray(y)
    if target["kind"] == "classification":
        classes = np.empty(len(target["classes"]), dtype=object)
        classes[:] = target["classes"]
        idx = y.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(classes)):
            raise UserError(f"class index out of range 0..{len(classes) - 1}")
        return classes[idx]
    y = y.astype(np.float64)
    if target["scaled"]:
        y = y * target["std"] + target["mean"]
    return y
