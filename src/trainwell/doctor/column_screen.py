"""Which columns of a table carry the signal, measured with the linear yardstick
(baseline.linear_baseline) before training:

  noise_columns      a wide table (as many input features as training rows, or more) whose signal
                     sits in a few columns: each column screened on its own against the target on
                     the training rows (an F-test), and the yardstick fitted on all the columns and
                     on the kept ones. Where the few do far better, the rest are noise a network
                     has room to memorise.
  left_out_signal    data.features listing columns in which the yardstick finds nothing, where
                     columns the list leaves out, each added to it, carry the signal."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

# Features per training row from which a table counts as wide: a network can then fit every
# training row through columns that say nothing. Sensors logged beside wine's 13 measurements (413
# columns for 124 rows) left an MLP at 0.370/0.556 against 1.000/0.963 on the 13 (eighth held-out
# set): its validation loss never went under chance while its training loss fell to 0.03.
WIDE_RATIO = 1.0
# A column is kept when its F-test against the target on the training rows passes Benjamini and
# Hochberg's false discovery rate at this level (sklearn's SelectFdr). On wine with 400 sensors it
# keeps the 13 measurements on seeds 0 and 1 (p < 0.01 each kept 6 sensors too, and the MLP on
# those 19 scored 0.963 against 1.000 on the 13).
KEEP_FDR = 0.05
# The screen names columns only when it keeps under half of them...
KEPT_SHARE = 0.5
# ...and the yardstick on the kept columns does far better on the validation rows: its loss under
# this share of the yardstick's on all of them, 5 accuracy points up (wine with the sensors: 0.053
# against 0.31, 1.000 against 0.852; digits on 100 rows, breast cancer on 40, digits' rare class on
# 48, and 1561 one-hot listing ids on 1540 rentals gain nothing: 0.9-1.8 of the loss), or for a
# regression validation r2 0.1 up.
LOSS_SHARE, ACCURACY_GAIN, R2_GAIN = 0.5, 0.05, 0.1
# A fit on more than this many numbers is not worth the seconds before training.
MAX_CELLS = 4_000_000


def noise_columns(prepared) -> dict | None:
    """{"features", "rows", "kept", "kept_features", "all": yardstick, "screened": yardstick} for a
    wide tabular split whose screened columns beat all of them; else None."""
    from .baseline import MAX_FEATURES, linear_baseline

    spec, train, val = prepared.spec, prepared.train, prepared.val
    x = np.asarray(train.x)
    if spec.kind != "tabular" or val is None or x.ndim != 2 or x.dtype.kind != "f" or len(x) < 10:
        return None
    rows, features = x.shape
    if features < WIDE_RATIO * rows or features > MAX_FEATURES or rows * features > MAX_CELLS \
            or not np.isfinite(x).all():
        return None
    from sklearn.feature_selection import SelectFdr, f_classif, f_regression

    y = np.asarray(train.y)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        screen = SelectFdr(f_regression if spec.task == "regression" else f_classif, alpha=KEEP_FDR)
        keep = screen.fit(x, y).get_support()
    columns = _source_columns(spec, np.flatnonzero(keep))
    if not keep.any() or not columns or len(columns) >= KEPT_SHARE * len(spec.input_columns):
        return None
    everything = linear_baseline(prepared)
    narrowed = dataclasses.replace(prepared, train=dataclasses.replace(train, x=x[:, keep]),
                                   val=dataclasses.replace(val, x=np.asarray(val.x)[:, keep]))
    screened = linear_baseline(narrowed)
    if not everything or not screened or not _far_better(screened, everything):
        return None
    return {"features": int(features), "rows": int(rows), "kept": columns, "kept_features": int(keep.sum()),
            "all": _short(everything), "screened": _short(screened)}


def _far_better(screened: dict, everything: dict) -> bool:
    if "val_r2" in screened:
        return screened["val_r2"] >= everything["val_r2"] + R2_GAIN
    return (screened["val_loss"] <= LOSS_SHARE * everything["val_loss"]
            and screened["val_accuracy"] >= everything["val_accuracy"] + ACCURACY_GAIN)


def _short(base: dict) -> dict:
    return {k: base[k] for k in ("model", "val_loss", "chance_loss", "val_accuracy", "val_r2") if k in base}


def _source_columns(spec, kept) -> list[str]:
    """The data.features names behind the kept encoded features (a one-hot 'city=Oslo' is 'city'),
    in the order of the inputs."""
    names, inputs = list(spec.feature_names), list(spec.input_columns or [])
    found = set()
    for j in kept:
        name = names[j] if j < len(names) else None
        if name in inputs:
            found.add(name)
            continue
        owners = [c for c in inputs if name is not None and name.startswith(f"{c}=")]
        if not owners:
            return []   # a feature no input column accounts for: no fix can be written
        found.add(max(owners, key=len))
    return [c for c in inputs if c in found]


# Columns data.features leaves out, tried one by one beside the listed ones, at most: beyond this the
# list looks like a deliberate choice among many.
MAX_LEFT_OUT = 32
# A left-out column counts when adding it lowers the yardstick's validation loss by this share of
# the chance loss (classification), or raises its r2 by this much (regression).
LOSS_GAIN, LEFT_OUT_R2_GAIN = 0.05, 0.02


def left_out_signal(cfg, prepared) -> dict | None:
    """With data.features set on a table, and the yardstick finding nothing in the listed columns:
    the left-out columns that, each added to the list, carry signal, where all of them together
    give the yardstick real signal: {"listed", "helpful": [{"column", "gain"}], "as_listed",
    "with_helpful"}; else None. Diabetes' age and sex alone (a list from a demographics config) give
    a network r2 0.013/0.025 against 0.196/0.359 with the clinical measurements (eighth held-out
    set). A list that leaves out a column on purpose (a leak, an id, a logger added later) while
    the listed ones carry signal is not questioned."""
    from ..data import prepare
    from .baseline import cached_baseline, verdict

    listed = list(cfg.data.features or [])
    spec = prepared.spec
    if not listed or spec.kind != "tabular" or prepared.val is None or verdict(cached_baseline(prepared)) != "nothing":
        return None
    width = _source_width(cfg.data.source)   # before preparing every column of a wide file
    if width is not None and width - len(listed) - 1 > MAX_LEFT_OUT:
        return None
    every = prepare(cfg.data.model_copy(update={"features": None}), cfg.seed, cfg.model.type)
    inputs = list(every.spec.input_columns or [])
    others = [c for c in inputs if c not in listed]
    # Every yardstick below is fitted on this preparation's split (dropping duplicates over fewer
    # columns can leave a few more or fewer rows than the run's).
    if not others or len(others) > MAX_LEFT_OUT or any(c not in inputs for c in listed) or every.val is None:
        return None
    owner = _owners(every.spec)
    if owner is None:
        return None
    as_listed = _yardstick(every, owner, listed)   # the run's own said nothing; this one is the base of the gains
    if not as_listed:
        return None
    helpful, leaks = [], []
    for c in others:
        gain = _gain(_yardstick(every, owner, listed + [c]), as_listed)
        if gain is not None and gain >= (LEFT_OUT_R2_GAIN if "val_r2" in as_listed else LOSS_GAIN):
            (leaks if _too_good(_yardstick(every, owner, [c])) else helpful).append({"column": c, "gain": round(gain, 4)})
    if not helpful:
        return None
    both = _yardstick(every, owner, listed + [h["column"] for h in helpful])
    if verdict(both) != "signal":
        return None
    return {"listed": listed, "helpful": helpful, "as_listed": _short(as_listed), "with_helpful": _short(both),
            "left_out_as_leaks": [h["column"] for h in leaks]}


# A left-out column that predicts the validation rows almost perfectly on its own is more likely a
# leak (a refund asked for after cancelling) than what the list forgot: never added by the fix.
LEAK_ACCURACY, LEAK_R2 = 0.99, 0.98


def _too_good(alone: dict | None) -> bool:
    if not alone:
        return False
    return alone.get("val_r2", -1) >= LEAK_R2 or alone.get("val_accuracy", 0) >= LEAK_ACCURACY


def _source_width(source) -> int | None:
    """How many columns a CSV or Parquet file has, from its header alone; None for anything else."""
    path = str(source)
    try:
        if path.endswith(".csv"):
            import pandas as pd

            return len(pd.read_csv(path, nrows=0).columns)
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            return len(pq.read_schema(path).names)
    except Exception:
        return None
    return None


def _owners(spec) -> list[str] | None:
    """Each encoded feature's input column (a one-hot 'city=Oslo' is 'city'), or None."""
    inputs, out = list(spec.input_columns or []), []
    for name in spec.feature_names:
        if name in inputs:
            out.append(name)
            continue
        owners = [c for c in inputs if name.startswith(f"{c}=")]
        if not owners:
            return None
        out.append(max(owners, key=len))
    return out


def _yardstick(prepared, owner: list[str], columns: list[str]) -> dict | None:
    from .baseline import linear_baseline

    keep = np.array([o in columns for o in owner])
    train, val = prepared.train, prepared.val
    return linear_baseline(dataclasses.replace(
        prepared, train=dataclasses.replace(train, x=np.asarray(train.x)[:, keep]),
        val=dataclasses.replace(val, x=np.asarray(val.x)[:, keep])))


def _gain(better: dict | None, base: dict) -> float | None:
    if not better:
        return None
    if "val_r2" in base:
        return better["val_r2"] - base["val_r2"]
    return (base["val_loss"] - better["val_loss"]) / base["chance_loss"] if base["chance_loss"] > 0 else None
