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


# Shifts within the usual range (translate 0.1) are left to the network: the measure below is for
# larger ones, which may move what tells the classes apart out of place.
USUAL_TRANSLATE = 0.1


def shift_retention(aug_cfg, prepared, rows: int = 512, centroid_rows: int = 2000, cells: int = 4_000_000) -> float | None:
    """As augment_retention, for the augmentation's shifts alone (data.augment.translate above 0.1):
    how much of what tells the classes apart a class-mean classifier keeps on rows shifted as
    training shifts them. Class means are partly blind to what a convolution takes in its stride,
    so healthy shifts keep less here than turns do (digits under translate 0.1: 0.78; tread
    patterns under 0.3: 0.40); classes told apart by where things are keep next to nothing (wafer
    maps whose defect's place is its class, under translate 0.25: 0.13). None without such shifts."""
    x_all = prepared.train.x
    if (aug_cfg.translate or 0) <= USUAL_TRANSLATE or x_all.ndim != 4 or x_all.dtype.kind != "f" or len(x_all) < 20:
        return None
    memo = vars(prepared).setdefault("_shift_retention", {})
    key = (id(prepared.train), aug_cfg.translate)
    if key not in memo:
        memo[key] = _retention(aug_cfg, prepared, rows, centroid_rows, cells, keep=("translate",))
    return memo[key]


def quarter_turn_retention(prepared, rows: int = 512, centroid_rows: int = 2000, cells: int = 4_000_000) -> float | None:
    """As augment_retention, for square images each turned a quarter (90 degrees): how much of what
    tells the classes apart a class-mean classifier keeps. Measured once per prepared data."""
    import torch

    x_all = prepared.train.x
    if x_all.ndim != 4 or x_all.dtype.kind != "f" or len(x_all) < 20 or x_all.shape[2] != x_all.shape[3]:
        return None
    memo = vars(prepared).setdefault("_quarter_turn_retention", {})
    key = id(prepared.train)
    if key not in memo:
        memo[key] = _retention(None, prepared, rows, centroid_rows, cells,
                               move=lambda t: torch.rot90(t, 1, dims=(2, 3)))
    return memo[key]


def _retention(aug_cfg, prepared, rows: int, centroid_rows: int, cells: int, move=None,
               keep: tuple = ("rotation", "hflip", "vflip")) -> float | None:
    """`keep`: the components of aug_cfg applied (the others off)."""
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
    if move is not None:   # one fixed transform: one pass
        return round((accuracy(move(torch.as_tensor(x)).numpy().reshape(n, -1), y) - chance) / (clean - chance), 4)
    off = {"rotation": 0.0, "translate": 0.0, "noise": 0.0, "hflip": False, "vflip": False}
    chosen = aug_cfg.model_copy(update={k: v for k, v in off.items() if k not in keep})
    augment = build_augment(chosen, prepared.spec)
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


# A pair of classes counts when a translation-invariant reading of the stored images tells them
# apart on 80% of held-out rows or more, and is lost when the converted images keep under 30% of
# that margin over a coin's 50%. Measured (h12 data, digits): grayscale on fruit whose ripe and
# unripe share their luma, 1.00 -> 0.44 (kept 0); 1-pixel ribs shrunk 24 -> 12, 1.00 -> 0.57
# (0.14), and a CNN scored 0.753 against 1.000. Kept, and trained well: ribs 24 -> 16, whose
# aliasing leaves an oriented pattern (0.68; a CNN 0.993/1.000), 24 -> 20 (0.98), fruit 16 -> 4-8
# (0.99-1.00), digits 8 -> 3-6 (0.90-0.98), digits in random colours to grayscale (0.97: the colour
# was noise). Digits shrunk to 2x2 keep 0.49.
PAIR_SEPARABLE, PAIR_KEPT = 0.8, 0.3
PAIR_ROWS = 20  # held-out rows a class needs for its pairs to count


def _invariant_features(x: np.ndarray, chunk: int = 512) -> np.ndarray:
    """What an image shows wherever it shows it: each channel's mean and spread, 32 random 3x3
    filters (ReLU, each map's mean and max over space), and each channel's power spectrum pooled to
    8x8 frequency cells (a shift changes only the phase), which sees fine stripes and their
    direction. In chunks of rows, so the filters' maps of a large sample never sit in memory at once."""
    import torch

    w = torch.randn(32, x.shape[1], 3, 3, generator=torch.Generator().manual_seed(0))
    out = []
    for start in range(0, len(x), chunk):
        t = torch.as_tensor(np.nan_to_num(np.asarray(x[start:start + chunk], dtype=np.float32)))
        if max(t.shape[2:]) > 32:
            t = torch.nn.functional.adaptive_avg_pool2d(t, (min(32, t.shape[2]), min(32, t.shape[3])))
        with torch.no_grad():
            maps = torch.relu(torch.nn.functional.conv2d(t, w, padding=1))
            power = torch.fft.fftshift(torch.fft.fft2(t - t.mean((2, 3), keepdim=True)).abs() ** 2, dim=(2, 3))
            spectrum = torch.log1p(torch.nn.functional.adaptive_avg_pool2d(power, (8, 8))).flatten(1)
            # the spread over every pixel (not n - 1): a 1x1 image has spread 0, not NaN
            out.append(torch.cat([t.mean((2, 3)), t.std((2, 3), correction=0), maps.mean((2, 3)), maps.amax((2, 3)),
                                  spectrum], 1).numpy())
    return np.concatenate(out)


def _pair_accuracies(f: np.ndarray, y: np.ndarray, order: np.ndarray) -> dict:
    """A logistic regression fitted on one half of the rows, scored on the other half, for every
    pair of classes: {(a, b): share of a's and b's held-out rows it gives their own class the
    higher probability of the two}."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    f, y = f[order], y[order]
    half = len(y) // 2
    classes = [c for c in np.unique(y) if (y[:half] == c).sum() >= PAIR_ROWS and (y[half:] == c).sum() >= PAIR_ROWS]
    if len(classes) < 2:
        return {}
    fit_rows = np.isin(y[:half], classes)
    f = (f - f[:half].mean(0)) / (f[:half].std(0) + 1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unconverged fit still ranks the classes
        model = LogisticRegression(max_iter=300).fit(f[:half][fit_rows], y[:half][fit_rows])
    far = -model.predict_log_proba(f[half:])
    column = {c: i for i, c in enumerate(model.classes_)}
    labels = y[half:]
    out = {}
    for i, a in enumerate(classes):
        rows_a, ia = labels == a, column[a]
        for b in classes[i + 1:]:
            rows_b, ib = labels == b, column[b]
            hits = np.sum(far[rows_a, ia] < far[rows_a, ib]) + np.sum(far[rows_b, ib] < far[rows_b, ia])
            out[(a, b)] = float(hits / (rows_a.sum() + rows_b.sum()))
    return out


def _lost_pairs(native: dict, converted: dict) -> list[dict]:
    lost = []
    for pair, before in native.items():
        after = converted.get(pair)
        if after is None or before < PAIR_SEPARABLE:
            continue
        kept = max(after - 0.5, 0.0) / (before - 0.5)
        if kept < PAIR_KEPT:
            lost.append({"classes": [str(pair[0]), str(pair[1])], "stored": round(before, 3),
                         "converted": round(after, 3), "kept": round(kept, 3)})
    return sorted(lost, key=lambda p: p["kept"])


# Images read for conversion_loss: up to 150 a class and 4000 in all; a class needs twice
# PAIR_ROWS for its pairs to count, so with over 100 classes there is no verdict.
SAMPLE_PER_CLASS, SAMPLE_ROWS = 150, 4000


def conversion_loss(cfg_data, prepared, fixable: bool = True) -> dict | None:
    """What data.image.color (to grayscale) and data.image.size (shrinking) take from the images
    before the network sees them: the pairs of classes that a translation-invariant reading of the
    stored images tells apart and of the converted ones does not (PAIR_SEPARABLE, PAIR_KEPT), on up to
    150 images a class. The change to undo: `color` back to rgb when grayscale alone loses them, else
    the smallest of twice, four times ... the asked size (up to the stored one) that keeps every
    pair; none when not `fixable` (a custom or pretrained network may be built for the converted
    shape). None when nothing is converted or nothing is lost, or the measure cannot be taken. The
    features read images averaged to at most 32x32, so detail lost between larger sizes (512 -> 128)
    is not measured: no verdict."""
    image = cfg_data.image
    if image.color != "grayscale" and image.size is None:
        return None
    memo = vars(prepared).setdefault("_conversion_loss", {})  # build_context runs 2-3 times a run
    key = (str(cfg_data.source), image.color, tuple(image.size or ()), repr(cfg_data.classes), fixable)
    if key not in memo:
        try:
            memo[key] = _conversion_loss(cfg_data, fixable)
        except (ValueError, RuntimeError, MemoryError):  # no verdict is no reason to fail a run
            memo[key] = None
    return memo[key]


def _conversion_loss(cfg_data, fixable: bool) -> dict | None:
    from ..data.images import _check_size, _convert_arrays, _resize_arrays, native_sample

    image = cfg_data.image
    size = _check_size(image.size)
    sample = native_sample(cfg_data, SAMPLE_PER_CLASS, max_rows=SAMPLE_ROWS, min_per_class=2 * PAIR_ROWS)
    if sample is None:
        return None
    x, labels = sample
    y = np.asarray([str(v) for v in labels], dtype=object)
    h, w = x.shape[2:]
    to_gray = image.color == "grayscale" and x.shape[1] == 3
    shrinks = size is not None and (size[0] < h or size[1] < w)
    if not to_gray and not shrinks:
        return None
    order = np.random.default_rng(0).permutation(len(y))
    stored = _invariant_features(x)
    native = _pair_accuracies(stored, y, order)

    def pairs_after(color_off: bool, to: tuple | None) -> dict:
        c = x if color_off or not to_gray else _convert_arrays(x, "grayscale")
        if to is not None and tuple(to) != (h, w):
            c = _resize_arrays(c, tuple(to))
        return native if c is x else _pair_accuracies(_invariant_features(c), y, order)

    lost = _lost_pairs(native, pairs_after(False, size if shrinks else None))
    if not lost:
        return None
    keeps = lambda color_off, to: not _lost_pairs(native, pairs_after(color_off, to))  # noqa: E731
    fix = {}
    if not fixable:
        pass
    elif to_gray and keeps(True, size if shrinks else None):
        fix = {"data.image.color": "rgb"}
    elif shrinks:
        factor = 1
        while not fix and factor < 2 * max(h, w):
            factor *= 2
            to = (min(h, size[0] * factor), min(w, size[1] * factor))
            for color_off in ([False, True] if to_gray else [False]):
                if keeps(color_off, to):
                    fix = {"data.image.size": list(to) if to != (h, w) else None}
                    if color_off:
                        fix["data.image.color"] = "rgb"
                    break
    return {"grayscale": to_gray, "stored_size": [int(h), int(w)], "size": list(size) if shrinks else None,
            "stored_channels": int(x.shape[1]), "lost_pairs": lost[:5], "pairs_lost": len(lost),
            "pairs": len(native), "rows": int(len(y)), "fix": fix, "fixable": fixable}
