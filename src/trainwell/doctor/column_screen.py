"""A wide table (as many input features as training rows, or more) whose signal sits in a few
columns: each column screened on its own against the target on the training rows (an F-test), and
the linear yardstick (baseline.linear_baseline) fitted on all the columns and on the ones the
screen keeps. Where the few do far better, the rest are noise a network has room to memorise."""

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
    return {k: base[k] for k in ("model", "val_loss", "val_accuracy", "val_r2") if k in base}


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
