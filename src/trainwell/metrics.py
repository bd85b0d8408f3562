"""Metrics, computed with sklearn.metrics on numpy arrays (never hand-rolled).

`y` holds class indices (classification) or values in the target's own units (regression);
`proba` holds class probabilities (n, K) and `pred` regression predictions.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

CLASSIFICATION = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss",
                  "confusion_matrix")
REGRESSION = ("mae", "mse", "rmse", "r2")
# One number each: what early stopping and tuning can compare (the confusion matrix is a table).
SCALAR = tuple(m for m in CLASSIFICATION + REGRESSION if m != "confusion_matrix")
# Scores grow when the model improves; everything else (losses, errors) shrinks.
HIGHER_IS_BETTER = {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "r2"}


def default_names(task: str) -> list[str]:
    return list(REGRESSION) if task == "regression" else list(CLASSIFICATION)


def default_per_epoch(task: str) -> list[str]:
    return ["mae", "r2"] if task == "regression" else ["accuracy"]


# Beyond 80/20 a classifier can score a high accuracy while it ignores the smaller class.
IMBALANCE_RATIO = 4.0


def imbalanced(task: str, y) -> bool:
    """Classification labels whose largest class has IMBALANCE_RATIO times the rows of the smallest."""
    if task not in ("binary", "multiclass"):
        return False
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or not len(y) or not np.isfinite(y).all() or y.min() < 0:
        return False
    counts = np.bincount(y.astype(np.int64))
    counts = counts[counts > 0]
    return len(counts) > 1 and counts.max() >= IMBALANCE_RATIO * counts.min()


def check_names(names: list[str], task: str, key: str = "metrics", prefix: str = "") -> list[str]:
    """key: the config key the names came from, named in the error; prefix: how that key writes them
    (val_ for a monitor)."""
    from .errors import UserError

    valid = REGRESSION if task == "regression" else CLASSIFICATION
    bad = [n for n in names if n not in valid]
    if bad:
        shown = [prefix + n for n in (["loss"] if prefix else []) + list(valid)
                 if not (prefix and n == "confusion_matrix")]
        raise UserError(f"{key}: {[prefix + n for n in bad]} do not fit a {task} task; valid: {shown}")
    return names


def compute(names: list[str], task: str, y: np.ndarray, out: np.ndarray) -> dict:
    """out: probabilities (n, K) for classification, predictions (n,) for regression."""
    from sklearn import metrics as skm

    result: dict = {}
    if task == "regression":
        y, out = np.asarray(y, dtype=np.float64), np.asarray(out, dtype=np.float64)
        for name in names:
            if name == "mae":
                result[name] = skm.mean_absolute_error(y, out)
            elif name == "mse":
                result[name] = skm.mean_squared_error(y, out)
            elif name == "rmse":
                result[name] = math.sqrt(skm.mean_squared_error(y, out))
            elif name == "r2":
                result[name] = skm.r2_score(y, out) if len(y) > 1 else float("nan")
        return {k: float(v) for k, v in result.items()}

    k = out.shape[1]
    labels = list(range(k))
    pred = out.argmax(axis=1)
    # Macro averages over the classes the scored rows hold, as balanced accuracy does: a class with
    # no rows here has no recall to average, and counting it as 0 made a perfect model score 0.75.
    # Precision and f1 also over the classes predicted: a prediction of a class the rows do not hold
    # is wrong, and that class's precision (0) says so.
    present = [int(c) for c in np.unique(y)] or labels
    named = sorted(set(present) | {int(c) for c in np.unique(pred)})
    for name in names:
        if name == "accuracy":
            result[name] = float(skm.accuracy_score(y, pred))
        elif name == "balanced_accuracy":
            with warnings.catch_warnings():
                # Predictions of a class absent from y are errors it already counts; sklearn's note
                # about them would reach the user's terminal on every evaluate.
                warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
                result[name] = float(skm.balanced_accuracy_score(y, pred))
        elif name in ("precision", "recall", "f1"):
            fn = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
            result[name] = float(fn(y, pred, labels=present if name == "recall" else named, average="macro",
                                    zero_division=0))
        elif name == "roc_auc":
            result[name] = _roc_auc(skm, y, out, k)
        elif name == "log_loss":
            result[name] = float(skm.log_loss(y, np.clip(out, 1e-15, 1.0), labels=labels))
        elif name == "confusion_matrix":
            result[name] = skm.confusion_matrix(y, pred, labels=labels).tolist()
    return result


def _roc_auc(skm, y: np.ndarray, proba: np.ndarray, k: int) -> float:
    present = np.unique(y)
    if len(present) < 2:
        return float("nan")  # undefined with one class present; NaN says so rather than guessing
    if k == 2:
        return float(skm.roc_auc_score(y, proba[:, 1]))
    if len(present) < k:
        # One-vs-rest over the classes that are present, so a tiny split still gets a score.
        p = proba[:, present] / proba[:, present].sum(axis=1, keepdims=True)
        labels = np.searchsorted(present, y)
        if len(present) == 2:
            return float(skm.roc_auc_score(labels, p[:, 1]))
        return float(skm.roc_auc_score(labels, p, multi_class="ovr", average="macro"))
    return float(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))


def is_better_high(metric: str) -> bool:
    name = metric.removeprefix("val_").removeprefix("train_")
    return name in HIGHER_IS_BETTER


def _r2(y, p) -> float:
    """Averaged over outputs for a 2-D target, as sklearn's r2_score does by default."""
    if y.ndim == 2:
        return float(np.mean([_r2(y[:, j], p[:, j]) for j in range(y.shape[1])]))
    sst = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - p) ** 2)) / sst if len(y) > 1 and sst > 0 else float("nan")


# Per-epoch monitoring runs every epoch on small splits, where sklearn's input validation costs
# far more than the arithmetic (0.7 ms against a few µs for accuracy on 270 rows, measured). These
# few are one line of numpy each and are checked against sklearn.metrics in the tests; the final
# metrics in metrics.json always come from sklearn.
def _balanced_accuracy(y, out) -> float:
    """The mean recall over the classes present in y, as sklearn's balanced_accuracy_score."""
    pred = out.argmax(axis=1)
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def smallest_class_recall(y, out) -> tuple[float, float | None]:
    """The recall of the class with the fewest rows in y (the first such class on a tie), and the
    mean recall of the other classes present: a rare class the model gives up on, told from
    several middling ones."""
    classes, counts = np.unique(y, return_counts=True)
    pred = out.argmax(axis=1)
    recalls = [float(np.mean(pred[y == c] == c)) for c in classes]
    rare = int(np.argmin(counts))
    others = recalls[:rare] + recalls[rare + 1:]
    return recalls[rare], (float(np.mean(others)) if others else None)


def tossed_pair(y, proba, min_rows: int = 5) -> tuple[int, int, float, float] | None:
    """The two classes the model most treats as one: (a, b, toss, mass). From the mean predicted
    probabilities of each class's rows, M[c] (a soft confusion matrix), toss is the smaller of
    M[a,b] / (M[a,a] + M[a,b]) and M[b,a] / (M[b,b] + M[b,a]): 0.5 when the rows of either class
    are split evenly between the two, 0 when the model tells them apart. mass is the smaller of
    M[a,a] + M[a,b] and M[b,b] + M[b,a]: how much of those rows' probability the pair holds (near 1
    when the model is sure it is one of the two and cannot say which). Classes with fewer than
    `min_rows` rows are left out; None with fewer than 3 classes (2 classes tossed are stuck_at_chance)."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 3:
        return None
    classes, counts = np.unique(y, return_counts=True)
    classes = classes[(counts >= min_rows) & (classes >= 0) & (classes < proba.shape[1])].astype(int)
    if len(classes) < 3:
        return None
    m = np.stack([proba[y == c][:, classes].mean(0) for c in classes])  # rows: true class; columns: predicted
    own = np.diag(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = np.nan_to_num(m / (own[:, None] + m))
    toss = np.minimum(cross, cross.T)
    np.fill_diagonal(toss, -1.0)
    i, j = np.unravel_index(int(np.argmax(toss)), toss.shape)
    mass = min(own[i] + m[i, j], own[j] + m[j, i])
    return int(classes[i]), int(classes[j]), float(toss[i, j]), float(mass)


_FAST = {
    "accuracy": lambda y, out: float(np.mean(out.argmax(axis=1) == y)),
    "balanced_accuracy": _balanced_accuracy,
    "mae": lambda y, p: float(np.mean(np.abs(y - p))),
    "mse": lambda y, p: float(np.mean((y - p) ** 2)),
    "rmse": lambda y, p: math.sqrt(float(np.mean((y - p) ** 2))),
    "r2": _r2,
}


def compute_per_epoch(names: list[str], task: str, y: np.ndarray, out: np.ndarray) -> dict:
    if task == "regression":
        y, out = np.asarray(y, dtype=np.float64), np.asarray(out, dtype=np.float64)
    fast = {n: _FAST[n](y, out) for n in names if n in _FAST}
    rest = [n for n in names if n not in _FAST]
    return {**fast, **compute(rest, task, y, out)} if rest else fast
