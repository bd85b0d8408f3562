"""The wiring reading of custom networks about neighbouring rows (see wiring.py): an embedding of the
inputs, inside the network, that hands its first layer codes in which rows next to each other are as
far apart as any two, so that nothing learnt on one row carries to its neighbours."""

from __future__ import annotations

import numpy as np

# Per row, the distance to its nearest neighbour (nearest in the features as prepared) over the median
# distance to the other rows, both as the first layer gets them. The identity, a log, a scaling or a
# smooth embedding keep neighbours near: over the 98 other custom table networks of the suites, 0.07-0.54
# as prepared and 0.55 at most as handed, but 0.73 for a log of raw counts inside the network; sines of
# standardized features at frequencies drawn with a scale of 10 (Fourier features meant for
# coordinates in [0, 1]) put them as far apart as any pair: 1.0, a kiln regressor that memorized its
# training tiles, r2 0.000/0.004 against 0.991/0.993 (twenty-ninth held-out set).
SCRAMBLED_RATIO = 0.85


# Only where neighbours are near as prepared (in many dimensions every pair is about as far apart).
NEAR_AS_PREPARED = 0.6


def _distances(a):
    a = a.astype(np.float64)
    sq = (a * a).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * a @ a.T, 0.0)
    return np.sqrt(d2)


def _neighbour_ratio(d, nearest) -> float:
    n = len(d)
    others = ~np.eye(n, dtype=bool)
    typical = np.median(d[others].reshape(n, n - 1), axis=1)
    near = d[np.arange(n), nearest]
    ok = typical > 0
    return float(np.median(near[ok] / typical[ok])) if ok.sum() >= n // 2 else float("nan")


def _inputs_scrambled(raw, seen) -> dict | None:
    """Rows whose nearest neighbours, as prepared, the first layer gets as far apart as any two rows.
    `raw` and `seen` are the rows as prepared and as the first weight layer gets them
    (_first_layer_seen)."""
    n = raw.shape[0]
    if n < 64 or raw.shape[1] < 1 or not np.isfinite(seen).all():
        return None
    d_raw = _distances(raw)
    np.fill_diagonal(d_raw, np.inf)
    nearest = d_raw.argmin(1)
    np.fill_diagonal(d_raw, 0.0)
    before = _neighbour_ratio(d_raw, nearest)
    after = _neighbour_ratio(_distances(seen), nearest)
    if not (before <= NEAR_AS_PREPARED and after >= SCRAMBLED_RATIO):
        return None
    return {"rows": int(n), "features": int(raw.shape[1]), "width_handed": int(seen.shape[1]),
            "neighbour_ratio_as_prepared": round(before, 3), "neighbour_ratio_handed": round(after, 3)}
