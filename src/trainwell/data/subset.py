"""Subsets every data kind shares: keep some classes, use a fraction of the training split."""

from __future__ import annotations

import numpy as np

from ..errors import UserError


def class_mask(labels, classes: list | None, role: str = "data.classes") -> np.ndarray:
    """Rows whose label is one of `classes` (compared as text, so 3 matches '3' and 3.0 matches 3)."""
    values = np.asarray(labels, dtype=object)
    if classes is None:
        return np.ones(len(values), dtype=bool)
    def norm(v):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()
    wanted = {norm(c) for c in classes}
    present = {norm(v) for v in values}
    missing = sorted(wanted - present)
    if missing:
        booleans = [c for c in classes if isinstance(c, bool) and norm(c) in missing]
        hint = (f"; YAML reads {booleans} as true/false, not as a label (yes, no, on, off, true, false): "
                f"quote the label, e.g. ['yes']") if booleans else ""
        raise UserError(f"{role}: {missing} do not occur in the target; present: {sorted(present)[:30]}{hint}")
    mask = np.fromiter((norm(v) in wanted for v in values), dtype=bool, count=len(values))
    if len({norm(v) for v in values[mask]}) < 2:
        raise UserError(f"{role}: keeps fewer than 2 classes ({sorted(wanted)}); a classifier needs 2 or more")
    return mask


def fraction_indices(n: int, fraction: float, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
    """A seeded, stratified (when labels are given) subset of range(n) of size round(fraction * n)."""
    if fraction >= 1.0:
        return np.arange(n)
    keep = max(1, int(round(fraction * n)))
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.choice(n, keep, replace=False))
    # Per class, the same share, at least one row each, so no class vanishes from training.
    out = []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        take = max(1, int(round(fraction * len(rows))))
        out.append(rng.choice(rows, min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(out))
