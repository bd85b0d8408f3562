"""Class imbalance handling, on the training split only (val/test keep the true class shares)."""

from __future__ import annotations

import numpy as np

from ..errors import UserError


def check_imbalance_setting(imbalance: str, task: str) -> None:
    if imbalance != "none" and task == "regression":
        raise UserError(f"data.imbalance: {imbalance!r} only applies to classification, and the task is "
                        "regression; set data.imbalance: none")


def class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)


def class_weights(y: np.ndarray, n_classes: int) -> list[float]:
    """sklearn's "balanced": n_samples / (n_present_classes * count_c); absent classes get 1.0."""
    counts = class_counts(y, n_classes)
    present = counts > 0
    weights = np.ones(n_classes, dtype=np.float64)
    weights[present] = len(y) / (present.sum() * counts[present])
    return [float(w) for w in weights]


def resample_indices(y: np.ndarray, n_classes: int, method: str, seed: int) -> np.ndarray:
    """Row indices after over- or undersampling, shuffled so classes are not in blocks.

    oversample: keep every row and add random repeats of each minority class up to the majority
    count; undersample: keep a random subset of each class, down to the smallest present class.
    Classes with no training rows stay absent.
    """
    rng = np.random.default_rng(seed)
    counts = class_counts(y, n_classes)
    present = np.flatnonzero(counts)
    goal = counts[present].max() if method == "oversample" else counts[present].min()
    picked = []
    for c in present:
        rows = np.flatnonzero(y == c)
        if method == "oversample":
            extra = rng.choice(rows, size=goal - len(rows), replace=True)
            picked.append(np.concatenate([rows, extra]))
        else:
            picked.append(rng.choice(rows, size=goal, replace=False))
    index = np.concatenate(picked)
    return index[rng.permutation(len(index))]
