"""What the doctor measures on images before training: how far augmentation moves a row, how much
of the class signal it keeps, and how much translation-invariant (globally pooled) features keep."""

from __future__ import annotations

import numpy as np

from .network_measures import _forked_rng


def augment_distortion(aug_cfg, prepared, rows: int = 256) -> float | None:
    """How far augmentation moves a training row, as a share of the row's own size (median over
    the first rows). Drawn from a forked random state, so measuring it leaves training's stream
    (and a seeded run's result) as it was."""
    from ..data.augment import build_augment, is_active

    if not is_active(aug_cfg) or prepared.train.x.dtype.kind != "f" or not len(prepared.train.x):
        return None
    import torch

    augment = build_augment(aug_cfg, prepared.spec)
    x = torch.as_tensor(np.nan_to_num(np.asarray(prepared.train.x[:rows], dtype=np.float32)))
    with _forked_rng():
        torch.manual_seed(0)
        moved = augment(x.clone())
    size = x.flatten(1).norm(dim=1)
    keep = size > 0
    if not keep.any():
        return None
    return round(float(((moved - x).flatten(1).norm(dim=1)[keep] / size[keep]).median()), 4)




# Rotation and flips beyond these change an image's orientation, which some classes depend on (a 6
# turned half way is a 9) and others do not (cells under a microscope).
USUAL_ROTATION = 15.0


def augment_retention(aug_cfg, prepared, rows: int = 512, centroid_rows: int = 2000,
                      cells: int = 4_000_000) -> float | None:
    """How much of what tells the classes apart survives the augmentation's changes of orientation
    (rotation beyond 15 degrees, flips), as a class-mean classifier sees it: (accuracy on rotated or
    flipped rows - 1/K) / (accuracy on the rows as they are - 1/K). Class means are blind to what
    a transform keeps when the classes look the same in every orientation (pairs of spots at random
    angles: 1.00 under rotation 180 and both flips) and see it go when they do not (digits: 0.22 under
    rotation 180, 0.48 under both flips, 0.62 under rotation 45 or one flip). Translation and noise
    are left out: a class mean is blind to a shift that a convolution takes in its stride, and
    augment_distortion measures those. None when the augmentation does not turn or flip images.
    Drawn from a forked random state, as augment_distortion; at most `cells` numbers in memory at
    once (large images: fewer rows), and measured once per prepared data and augmentation."""
    x_all = prepared.train.x
    turns = (aug_cfg.rotation or 0) > USUAL_ROTATION or aug_cfg.hflip or aug_cfg.vflip
    if not turns or x_all.ndim != 4 or x_all.dtype.kind != "f" or len(x_all) < 20:
        return None
    memo = vars(prepared).setdefault("_augment_retention", {})
    key = (id(prepared.train), aug_cfg.rotation, aug_cfg.hflip, aug_cfg.vflip)
    if key not in memo:
        memo[key] = _retention(aug_cfg, prepared, rows, centroid_rows, cells)
    return memo[key]


def _retention(aug_cfg, prepared, rows: int, centroid_rows: int, cells: int) -> float | None:
    import torch

    from ..data.augment import build_augment

    x_all, y_all = prepared.train.x, np.asarray(prepared.train.y)
    per_row = int(np.prod(x_all.shape[1:]))
    chunk = max(16, cells // max(per_row, 1))
    classes = np.unique(y_all[:centroid_rows])
    if len(classes) < 2:
        return None
    sums, counts = np.zeros((len(classes), per_row)), np.zeros(len(classes))
    for start in range(0, min(centroid_rows, len(x_all)), chunk):
        part = np.nan_to_num(np.asarray(x_all[start:min(start + chunk, centroid_rows)], dtype=np.float32))
        labels = np.searchsorted(classes, y_all[start:start + len(part)])
        np.add.at(sums, labels, part.reshape(len(part), -1))
        counts += np.bincount(labels, minlength=len(classes))
    means = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)

    def accuracy(f: np.ndarray, labels: np.ndarray) -> float:
        far = (f ** 2).sum(1)[:, None] - 2 * f @ means.T + (means ** 2).sum(1)[None]
        return float((classes[far.argmin(1)] == labels).mean())

    n = min(rows, chunk, len(x_all))
    x = np.nan_to_num(np.asarray(x_all[:n], dtype=np.float32))
    y = y_all[:n]
    chance = 1 / len(classes)
    clean = accuracy(x.reshape(n, -1), y)
    if clean < chance + 0.1:
        return None  # class means tell these classes apart no better than chance: nothing to lose
    orient = aug_cfg.model_copy(update={"translate": 0.0, "noise": 0.0})
    augment = build_augment(orient, prepared.spec)
    hits = 0.0
    with _forked_rng():
        torch.manual_seed(0)
        for _ in range(3):
            moved = augment(torch.as_tensor(x).clone()).numpy()
            hits += accuracy(moved.reshape(n, -1), y)
    return round((hits / 3 - chance) / (clean - chance), 4)


def pool_retention(prepared, rows: int = 1000, side: int = 32, kernel: int = 3) -> float | None:
    """How much of what tells the classes apart a translation-invariant reading of the images keeps:
    32 random `kernel` x `kernel` filters, ReLU, each map's mean and max over space (what global
    pooling leaves of a position), against the pixels as they are, both read by a class-mean
    classifier fitted on one half of the rows and scored on the other: (accuracy - 1/K) / (pixels'
    accuracy - 1/K). Classes told apart by what is in the image keep much of it with 3x3 filters
    (digits 0.76; pairs of spots at random angles 0.63); classes told apart by where it is keep
    nothing (the quadrant holding a blob: 0.05). 1x1 filters read each pixel alone: digits keep
    0.15-0.18 (strokes are pixels side by side), fruit told apart by colour 1.6-1.9 (more than the
    pixels: colour wherever it is). Images are averaged down to at most 32x32 first; the filters come
    from their own seeded generator, so training's random stream is untouched."""
    x_all = prepared.train.x
    if x_all.ndim != 4 or x_all.dtype.kind != "f" or len(x_all) < 40:
        return None
    memo = vars(prepared).setdefault("_pool_retention", {})  # build_context runs 2-3 times a run
    key = (id(prepared.train), kernel)
    if key not in memo:
        memo[key] = _pool_retention(x_all, np.asarray(prepared.train.y), rows, side, kernel)
    return memo[key]


def _pool_retention(x_all, y_all, rows: int, side: int, kernel: int = 3) -> float | None:
    import torch

    x = torch.as_tensor(np.nan_to_num(np.asarray(x_all[:rows], dtype=np.float32)))
    y = y_all[:len(x)]
    if max(x.shape[2:]) > side:
        x = torch.nn.functional.adaptive_avg_pool2d(x, (min(side, x.shape[2]), min(side, x.shape[3])))
    classes = np.unique(y)
    half = len(x) // 2
    if len(classes) < 2 or any(not (y[:half] == c).any() for c in classes):
        return None

    def accuracy(f: np.ndarray) -> float:
        f = (f - f.mean(0)) / (f.std(0) + 1e-6)
        means = np.stack([f[:half][y[:half] == c].mean(0) for c in classes])
        rest = f[half:]
        far = (rest ** 2).sum(1)[:, None] - 2 * rest @ means.T + (means ** 2).sum(1)[None]
        return float((classes[far.argmin(1)] == y[half:]).mean())

    chance = 1 / len(classes)
    pixels = accuracy(x.reshape(len(x), -1).numpy())
    if pixels < chance + 0.1:
        return None
    w = torch.randn(32, x.shape[1], kernel, kernel, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        maps = torch.relu(torch.nn.functional.conv2d(x, w, padding=kernel // 2))
        pooled = torch.cat([maps.mean((2, 3)), maps.amax((2, 3))], dim=1).numpy()
    return round((accuracy(pooled) - chance) / (pixels - chance), 4)
