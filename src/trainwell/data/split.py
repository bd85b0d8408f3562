"""Train/val/test split of the cleaned source (sklearn train_test_split, seeded).

Sizes are computed up front as whole rows (fraction * rows, rounded half up) so that every
"too small" case becomes a UserError naming the config key, instead of an sklearn ValueError.
When val and/or test come from explicit files, the source is split only into the remaining
parts, their fractions rescaled to sum to 1.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import UserError


def split_fractions(split, has_val_file: bool, has_test_file: bool) -> dict[str, float]:
    """Fractions of the source for each part it still has to provide (summing to 1)."""
    parts = {"train": split.train}
    if not has_val_file:
        parts["val"] = split.val
    if not has_test_file:
        parts["test"] = split.test
    total = sum(parts.values())
    return {k: v / total for k, v in parts.items()}


def _rows(fraction: float, n: int) -> int:
    return int(math.floor(fraction * n + 0.5))


def split_sizes(fractions: dict[str, float], n: int) -> dict[str, int]:
    """Whole-row sizes per part; UserError when a part comes out empty."""
    sizes = {}
    for name in ("val", "test"):
        frac = fractions.get(name, 0.0)
        sizes[name] = _rows(frac, n) if frac > 0 else 0
        if frac > 0 and sizes[name] == 0:
            raise UserError(
                f"data.split.{name}: a share of {frac:.3g} of {n} cleaned rows is 0 rows; "
                f"use at least {1 / n:.3g} (one row), or set data.split.{name}: 0")
    sizes["train"] = n - sizes["val"] - sizes["test"]
    if sizes["train"] < 1:
        raise UserError(
            f"data.split: {n} cleaned rows cannot give {sizes['val']} val and {sizes['test']} test rows "
            f"and still leave a training row (more val/test than rows); lower data.split.val / "
            f"data.split.test, or use more data")
    return sizes


class TooFewRowsToStratify(UserError):
    """_check_stratified_sizes' refusal, with its numbers: `auto` has no data.split to set, so it
    words the advice itself."""

    def __init__(self, message: str, part: str, rows: int, n_classes: int, n: int):
        self.part, self.rows, self.n_classes, self.n = part, rows, n_classes, n
        super().__init__(message)


def _check_stratified_sizes(sizes: dict[str, int], n_classes: int, n: int) -> None:
    for name in ("val", "test"):
        if 0 < sizes[name] < n_classes:
            raise TooFewRowsToStratify(
                f"data.split.{name}: {sizes[name]} rows cannot hold one row of each of the {n_classes} "
                f"classes when stratifying; use data.split.{name} >= {n_classes / n:.3g}, "
                "or set data.split.stratify: false", name, sizes[name], n_classes, n)


def _stratify_ok(labels: np.ndarray, sizes: dict[str, int], notes: list[str]) -> bool:
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        notes.append("split: a class has a single row, too few to stratify; the split is not stratified")
        return False
    if sizes["train"] < len(counts):
        notes.append(f"split: {sizes['train']} training rows cannot hold all {len(counts)} classes; "
                     "the split is not stratified")
        return False
    return True


def _cut(index: np.ndarray, labels, size: int, seed: int, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Split `size` rows off `index`; stratified when labels are given and it is possible."""
    # Imported here: sklearn takes about a second to import, and predicting from an export
    # (which loads this package for its preprocessing) never splits anything.
    from sklearn.model_selection import train_test_split

    if size == 0:
        return index, index[:0]
    if labels is not None:
        try:
            rest, part = train_test_split(index, test_size=size, random_state=seed, stratify=labels)
            return rest, part
        except ValueError:
            notes.append("split: classes too small to stratify at one step; that step is not stratified")
    rest, part = train_test_split(index, test_size=size, random_state=seed)
    return rest, part


def split_indices(n: int, fractions: dict[str, float], labels: np.ndarray | None, stratify: bool,
                  seed: int, notes: list[str]) -> dict[str, np.ndarray]:
    """Row indices per part (only the parts in `fractions` with rows; train always)."""
    sizes = split_sizes(fractions, n)
    use_labels = labels is not None and stratify
    if use_labels:
        _check_stratified_sizes(sizes, len(np.unique(labels)), n)
        use_labels = _stratify_ok(labels, sizes, notes)
    index = np.arange(n)
    rest, test = _cut(index, labels if use_labels else None, sizes["test"], seed, notes)
    rest_labels = labels[rest] if use_labels else None
    train, val = _cut(rest, rest_labels, sizes["val"], seed, notes)
    out = {"train": train}
    if "val" in fractions and sizes["val"]:
        out["val"] = val
    if "test" in fractions and sizes["test"]:
        out["test"] = test
    return out
