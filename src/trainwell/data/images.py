"""Images: builtin:digits, a folder of class sub-folders (PNG/JPEG), or an .npz of x (N,[C,]H,W) and y.

Every source becomes raw float32 pixels (N, C, H, W) and one label per image; then the shared
steps run as for tables: keep data.classes -> stratified, seeded split -> data.train_fraction of
train -> per-channel mean/std fitted on TRAIN only -> data.imbalance on train. The state is plain
JSON (size, channels, colour, mean, std, the class list), so predict/evaluate redo exactly the same
resize, colour conversion and normalisation on new images.

Pixel scale: file pixels are read as 0..255. A model trained on a different scale (builtin:digits
is 0..16; an .npz in [0, 1]) records `file_scale`, the factor that brings 8-bit file pixels to
its own scale, so a PNG can be scored by a digits model. Arrays (.npz) are always taken as given.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from .prepare import DataSpec, Prepared, SplitArrays, _class_count_dict, _imbalance_note, _labels, _rebalance
from .split import split_fractions, split_indices
from .subset import class_mask, fraction_indices
from .transforms import STATE_FORMAT, fit_target, transform_target

__all__ = ["prepare_image", "load_inputs", "load_labelled", "EXTENSIONS"]

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "F"}
MAX_LISTED = 10  # unreadable files named in the report
SPLITS = ("train", "val", "test")


# ----------------------------------------------------------------------------- raw sources
class _Raw:
    """Raw pixels (N, C, H, W) float32, labels (object array, or None), and what loading did."""

    def __init__(self, x, labels, names=None, loaded=0, unreadable=None, resized=0, notes=None,
                 color=None, file_scale=1.0):
        self.x, self.labels, self.names = x, labels, names
        self.loaded, self.unreadable, self.resized = loaded, list(unreadable or []), resized
        self.notes, self.color, self.file_scale = list(notes or []), color, file_scale
        self.arrays_resized = False  # an array source resized to data.image.size (_sized)
        self.arrays_converted = False  # an array source converted to data.image.color (_colored)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)


def _is_gray(img) -> bool:
    if img.mode in GRAY_MODES:
        return True
    if img.mode == "P":  # a palette can hold colours or greys: look at what it draws
        rgb = np.asarray(img.convert("RGB"))
        return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())
    return False


def _open(path: Path):
    """A decoded PIL image, or None when Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None


def _pixels(img, color: str, size: tuple[int, int]) -> tuple[np.ndarray, bool]:
    """(C, H, W) float32 in 0..255 and whether it was resized. size is (H, W)."""
    from PIL import Image

    img = img.convert("L" if color == "grayscale" else "RGB")
    resized = (img.height, img.width) != tuple(size)
    if resized:
        img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32)
    return (arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)), resized


def _resize_arrays(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, C, H, W) arrays -> (N, C, *size), bilinear as image files are resized (antialiased when
    shrinking, so a smaller size averages pixels rather than skipping them)."""
    import torch
    import torch.nn.functional as F

    shrink = size[0] < x.shape[2] or size[1] < x.shape[3]
    out = []
    for start in range(0, len(x), 4096):  # bounded memory on large arrays
        t = torch.from_numpy(np.ascontiguousarray(x[start:start + 4096], dtype=np.float32))
        out.append(F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=shrink).numpy())
    return np.concatenate(out) if out else x.reshape(0, x.shape[1], *size)


def _sized(raw: "_Raw", size: tuple[int, int] | None) -> "_Raw":
    """An array source (builtin:digits, an .npz) resized to data.image.size; folders are resized as
    they are read."""
    if size is None or tuple(raw.x.shape[2:]) == tuple(size):
        return raw
    h, w = raw.x.shape[2:]
    raw.x = _resize_arrays(raw.x, size)
    raw.resized = len(raw.x)
    raw.notes.append(f"images: {len(raw.x)} image array(s) resized from {h}x{w} to {size[0]}x{size[1]} (HxW, "
                     "bilinear), as data.image.size asks")
    raw.arrays_resized = True
    return raw


# ITU-R 601-2 luma, the weights PIL's convert("L") gives image files.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _convert_arrays(x: np.ndarray, color: str) -> np.ndarray:
    """(N, C, H, W) arrays in the colour data.image.color asks, converted as image files are."""
    if color == "grayscale" and x.shape[1] == 3:
        return np.einsum("nchw,c->nhw", x, LUMA, dtype=np.float32)[:, None]
    if color == "rgb" and x.shape[1] == 1:
        return np.repeat(x, 3, axis=1)
    return x


def _colored(raw: "_Raw", color: str, role: str = "data.source") -> "_Raw":
    """An array source (builtin:digits, an .npz) in data.image.color; folders are converted as they
    are read. It used to be ignored for arrays: an RGB .npz asked for grayscale trained on RGB."""
    if color not in ("grayscale", "rgb") or color == raw.color:
        return raw
    if raw.x.shape[1] not in (1, 3):
        raise UserError(f"data.image.color: {color!r} cannot apply to {role}, whose arrays have {raw.x.shape[1]} "
                        f"channels; valid for them: auto (the channels as they are)")
    n = len(raw.x)
    raw.x = _convert_arrays(raw.x, color)
    raw.notes.append(f"images: {n} image array(s) converted from {raw.color} to {color}, as data.image.color asks")
    raw.color, raw.arrays_converted = color, True
    return raw


def _check_size(size, role: str = "data.image.size") -> tuple[int, int] | None:
    if size is None:
        return None
    if len(size) != 2 or any(int(s) < 1 for s in size):
        raise UserError(f"{role}: expected [height, width] with both >= 1, got {list(size)}")
    return int(size[0]), int(size[1])


def _decode_all(paths: list[Path], root: Path):
    """Open every file once; returns ([(path, image)], unreadable relative names)."""
    images, unreadable = [], []
    for p in paths:
        img = _open(p)
        if img is None:
            unreadable.append(str(p.relative_to(root)))
        else:
            images.append((p, img))
    return images, unreadable


def _to_array(images: list, color: str, size: tuple[int, int]) -> tuple[np.ndarray, int]:
    x = np.empty((len(images), 1 if color == "grayscale" else 3, *size), dtype=np.float32)
    resized = 0
    for i, (_, img) in enumerate(images):
        x[i], was_resized = _pixels(img, color, size)
        resized += was_resized
    return x, resized


def _load_folder(folder: Path, cfg_image, role: str, color: str | None = None,
                 size: tuple[int, int] | None = None) -> _Raw:
    """A folder of class sub-folders. color/size fixed by the caller (val/test files) or chosen here."""
    notes = []
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = _image_files(folder)
    per_class = [(d.name, _image_files(d)) for d in subdirs]
    if not any(files for _, files in per_class):
        found = f"; it holds {len(loose)} image(s) directly but no class sub-folders" if loose else ""
        raise UserError(f"{role}: no images found in {str(folder)!r}{found}. Expected one sub-folder per class "
                        f"holding {', '.join(EXTENSIONS)} files (e.g. {folder}/cat/001.png)")
    if loose:
        notes.append(f"images: {len(loose)} image(s) directly in {folder.name}/ have no class sub-folder "
                     "and were ignored")
    items, labels, unreadable = [], [], []
    for name, files in per_class:
        if not files:
            notes.append(f"images: class folder {name!r} holds no {'/'.join(EXTENSIONS)} files; skipped")
            continue
        decoded, bad = _decode_all(files, folder)
        unreadable.extend(bad)
        if not decoded:
            notes.append(f"images: no file in class folder {name!r} could be read; skipped")
            continue
        items.extend(decoded)
        labels.extend([name] * len(decoded))
    if not items:
        raise UserError(f"{role}: none of the {len(unreadable)} image file(s) in {str(folder)!r} could be read "
                        f"(e.g. {unreadable[:3]}); they may be corrupt or not images")
    if unreadable:
        notes.append(f"images: {len(unreadable)} file(s) could not be read and were skipped, "
                     f"e.g. {unreadable[:3]}")
    if color is None:
        color = cfg_image.color
        if color == "auto":
            color = "grayscale" if all(_is_gray(img) for _, img in items) else "rgb"
    if size is None:
        size = _check_size(cfg_image.size) or (items[0][1].height, items[0][1].width)
    x, resized = _to_array(items, color, size)
    if resized:
        notes.append(f"images: {resized} of {len(items)} image(s) were resized to {size[0]}x{size[1]} (HxW)")
    names = [str(p.relative_to(folder)) for p, _ in items]
    return _Raw(x, np.array(labels, dtype=object), names, len(items), unreadable, resized, notes, color)


def _as_nchw(x: np.ndarray, where: str) -> np.ndarray:
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise UserError(f"{where}: 'x' must be (N, H, W) or (N, C, H, W) images, got shape {tuple(x.shape)}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise UserError(f"{where}: 'x' must hold numbers, got dtype {x.dtype}")
    return x.astype(np.float32)


def _read_npz(path: Path, role: str, need_y: bool) -> tuple[np.ndarray, np.ndarray | None]:
    import zipfile

    if not path.is_file():
        raise UserError(f"{role}: file {str(path)!r} not found")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{role}: {str(path)!r} is not a numpy .npz archive (save one with numpy.savez(path, x=..., y=...))")
    try:
        with np.load(path, allow_pickle=False) as archive:
            files = set(archive.files)
            wanted = ["x", "y"] if need_y else ["x"]
            missing = [k for k in wanted if k not in files]
            if missing:
                raise UserError(f"{role}: {str(path)!r} needs arrays {wanted} (x: (N, [C,] H, W) images, y: (N,) "
                                f"labels); missing {missing}, found {sorted(files)}")
            x = archive["x"]
            y = archive["y"] if "y" in files else None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UserError(f"{role}: could not read {str(path)!r} as npz: {exc}") from None
    x = _as_nchw(x, f"{role} {str(path)!r}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1 or len(y) != len(x):
            raise UserError(f"{role}: {str(path)!r}: 'y' must be (N,) with N = {len(x)} (one label per image), "
                            f"got shape {tuple(y.shape)}")
    return x, y


def _npz_scale(x: np.ndarray) -> float:
    # Arrays in [0, 1] are the common float convention; anything larger is taken as 8-bit.
    return 1.0 / 255.0 if x.size and float(np.nanmax(x)) <= 1.0 else 1.0


def _load_digits() -> _Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32)[:, None]  # (N, 1, 8, 8), values 0..16
    return _Raw(x, bunch.target.astype(np.int64).astype(object), None, len(x), color="grayscale",
                file_scale=16.0 / 255.0)


def _load_source(source: str, cfg_image, role: str, color=None, size=None) -> _Raw:
    if not isinstance(source, str) or not source.strip():
        raise UserError(f"{role}: empty source; valid: builtin:digits, a folder of class sub-folders, or an .npz")
    if source.startswith("builtin:"):
        if source != "builtin:digits":
            raise UserError(f"{role}: {source!r} is not an image dataset; the builtin image set is builtin:digits "
                            "(or use data.kind: tabular for a table)")
        return _load_digits()
    path = Path(source)
    if path.is_dir():
        return _load_folder(path, cfg_image, role, color, size)
    if path.suffix.lower() == ".npz":
        x, y = _read_npz(path, role, need_y=True)
        if len(x) == 0:
            raise UserError(f"{role}: {str(path)!r} holds no images")
        labels = np.array([v.item() if hasattr(v, "item") else v for v in y], dtype=object)
        c = x.shape[1]
        # Any channel count trains (multispectral arrays too); only 1 and 3 map onto image files.
        color = "grayscale" if c == 1 else "rgb" if c == 3 else f"{c} channels"
        return _Raw(x, labels, None, len(x), color=color, file_scale=_npz_scale(x))
    what = "not found" if not path.exists() else f"has an unsupported type {path.suffix or '(none)'!r}"
    raise UserError(f"{role}: {source!r} {what}; image data is builtin:digits, a folder with one sub-folder per "
                    f"class of {', '.join(EXTENSIONS)} files, or an .npz with x (N, [C,] H, W) and y (N,)")


def native_sample(cfg, per_class: int = 150, max_cells: int = 50_000_000, max_rows: int = 4000,
                  min_per_class: int = 1) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to `per_class` images of each class of data.source as stored, before data.image.color and
    data.image.size change them: (N, C, H, W) float32 and the labels, at most `max_rows` images and
    `max_cells` numbers (fewer a class when there are many classes or the images are large). A
    folder's files are sampled evenly per class and decoded in their own colour (rgb unless every
    sampled image is grey) at the first readable image's size. None when the source cannot be read
    (training reports why) or the budget leaves under `min_per_class` images a class."""
    def budget(classes: int, cells: int) -> int:
        return min(per_class, max_rows // max(classes, 1), max_cells // max(cells * max(classes, 1), 1))

    try:
        path = Path(cfg.source) if isinstance(cfg.source, str) and not cfg.source.startswith("builtin:") else None
        if path is not None and path.is_dir():
            folders = [(d, _image_files(d)) for d in sorted(path.iterdir()) if d.is_dir() and not d.name.startswith(".")]
            first = next((img for _, files in folders for img in map(_open, files[:5]) if img is not None), None)
            if first is None:
                return None
            n = budget(len(folders), 3 * first.height * first.width)
            if n < min_per_class:
                return None
            items, labels = [], []
            for d, files in folders:
                picked = [files[i] for i in np.linspace(0, len(files) - 1, min(n, len(files))).astype(int)] \
                    if files else []
                decoded, _ = _decode_all(picked, path)
                items.extend(decoded)
                labels.extend([d.name] * len(decoded))
            color = "grayscale" if all(_is_gray(img) for _, img in items) else "rgb"
            x, _ = _to_array(items, color, (first.height, first.width))
            labels = np.array(labels, dtype=object)
        elif path is not None and path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                x, y = archive["x"], np.asarray(archive["y"]).ravel()
            n = budget(len(np.unique(y)), int(np.prod(x.shape[1:])))
            if n < min_per_class:
                return None
            pick = _per_class(y, n)
            x = _as_nchw(x[pick], str(path))
            labels = np.array([v.item() if hasattr(v, "item") else v for v in y[pick]], dtype=object)
        else:
            raw = _load_source(cfg.source, cfg.image, "data.source")
            n = budget(len(pd.unique(raw.labels)), int(np.prod(raw.x.shape[1:])))
            if n < min_per_class:
                return None
            pick = _per_class(raw.labels, n)
            x, labels = raw.x[pick], raw.labels[pick]
    except (UserError, OSError, ValueError, KeyError):
        return None
    if cfg.classes is not None:
        try:
            keep = class_mask(labels, cfg.classes)
        except UserError:
            return None
        x, labels = x[keep], labels[keep]
    return x, labels


def _per_class(labels: np.ndarray, n: int) -> np.ndarray:
    """The row numbers of the first `n` rows of each class, in file order."""
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:n] for c in pd.unique(labels)]))


# ----------------------------------------------------------------------------- labels and task
def _classes(labels: np.ndarray, forced: str) -> tuple[str, list, str]:
    series = pd.Series(labels)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in labels)
    classes, label_kind = _labels(series if numeric else series.astype(str), "numeric" if numeric else "categorical")
    if forced == "regression":
        raise UserError("data.task: regression is not supported for image data; images are classified "
                        "(set data.task: auto, binary or multiclass)")
    if len(classes) < 2:
        raise UserError(f"data.source: every image has the label {classes[0]!r}; a classifier needs at least 2 classes")
    if forced == "binary" and len(classes) > 2:
        raise UserError(f"data.task: binary needs 2 classes, but the images have {len(classes)}: {classes[:20]}; "
                        "set data.task: multiclass (or auto)")
    task = forced if forced in ("binary", "multiclass") else ("binary" if len(classes) == 2 else "multiclass")
    return task, classes, label_kind


# ----------------------------------------------------------------------------- normalisation
def _fit_norm(x: np.ndarray) -> tuple[list[float], list[float]]:
    # float64 sums: millions of pixels in float32 would lose digits in the mean.
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)  # a constant channel: centre it, do not divide by 0
    return [float(m) for m in mean], [float(s) for s in std]


def _normalize(image_state: dict, x: np.ndarray) -> np.ndarray:
    mean = np.asarray(image_state["mean"], dtype=np.float32)[None, :, None, None]
    std = np.asarray(image_state["std"], dtype=np.float32)[None, :, None, None]
    return ((x - mean) / std).astype(np.float32, copy=False)


# ----------------------------------------------------------------------------- prepare
def _extra_files(cfg, raw: _Raw) -> dict[str, _Raw]:
    """data.val / data.test as folders or .npz, read with the source's colour and size."""
    out = {}
    c, h, w = raw.x.shape[1:]
    for role in ("val", "test"):
        path = getattr(cfg, role)
        if not path:
            continue
        extra = _load_source(path, cfg.image, f"data.{role}", color=raw.color, size=(h, w))
        extra = _colored(extra, raw.color, f"data.{role}")
        if cfg.image.size is not None:
            extra = _sized(extra, (h, w))
        if extra.x.shape[1:] != raw.x.shape[1:]:
            raise UserError(f"data.{role}: images are {list(extra.x.shape[1:])} (C, H, W) but the source's are "
                            f"{[c, h, w]}; they must match")
        out[role] = extra
    return out


def prepare_image(cfg, seed: int) -> Prepared:
    """cfg is a DataConfig. Returns arrays (N, C, H, W) float32, normalised with train statistics."""
    raw = _sized(_colored(_load_source(cfg.source, cfg.image, "data.source"), cfg.image.color),
                 _check_size(cfg.image.size))
    report: dict = {"source": cfg.source, "kind": "image", "val_source": cfg.val, "test_source": cfg.test}
    notes = list(raw.notes)
    extras = _extra_files(cfg, raw)
    for role, extra in extras.items():
        notes.extend(f"data.{role}: {n}" for n in extra.notes)

    labels, x = raw.labels, raw.x
    if cfg.classes is not None:
        keep = class_mask(labels, cfg.classes)
        report["other_classes_dropped"] = int((~keep).sum())
        labels, x = labels[keep], x[keep]
    task, classes, label_kind = _classes(labels, cfg.task)
    target = fit_target(task, classes, np.empty(0), label_kind, cfg)
    # Folder names are the labels exactly as written: no case folding, unlike table cells.
    target["normalize"] = False
    partial = {"spec": {"target": "label"}, "target": target}

    def encode(values, role: str) -> np.ndarray:
        try:
            return transform_target(partial, values)
        except UserError as exc:
            raise UserError(f"{role}: {exc}") from None

    y = encode(labels, "data.source")
    fractions = split_fractions(cfg.split, "val" in extras, "test" in extras)
    index = split_indices(len(y), fractions, y, cfg.split.stratify, seed, notes)
    xs = {name: x[rows] for name, rows in index.items()}
    ys = {name: y[rows] for name, rows in index.items()}
    for role, extra in extras.items():
        keep = class_mask(extra.labels, cfg.classes, f"data.{role}") if cfg.classes is not None \
            else np.ones(len(extra.labels), dtype=bool)
        xs[role], ys[role] = extra.x[keep], encode(extra.labels[keep], f"data.{role}")
    if cfg.train_fraction < 1:
        rows = fraction_indices(len(ys["train"]), cfg.train_fraction, seed, ys["train"])
        report["train_fraction"] = {"fraction": cfg.train_fraction, "rows_before": int(len(ys["train"])),
                                    "rows_after": int(len(rows))}
        xs["train"], ys["train"] = xs["train"][rows], ys["train"][rows]

    c, h, w = (int(d) for d in x.shape[1:])
    mean, std = _fit_norm(xs["train"])
    image_state = {"size": [h, w], "channels": c, "color": raw.color, "mean": mean, "std": std,
                   "file_scale": float(raw.file_scale)}
    if raw.arrays_resized:
        # Trained on arrays resized to data.image.size: arrays given to predict are resized alike.
        image_state["resize_arrays"] = True
    if raw.arrays_converted:
        image_state["convert_arrays"] = True  # and converted to its colour alike
    spec = DataSpec(task=task, target="label", input_columns=[], column_types={}, feature_names=["pixels"],
                    n_features=c * h * w, classes=classes, n_outputs=len(classes), kind="image",
                    input_shape=[c, h, w])
    state = {"kind": "image", "format": STATE_FORMAT, "spec": asdict(spec), "image": image_state, "target": target}

    arrays = {s: SplitArrays(x=_normalize(image_state, xs[s]), y=ys[s], y_raw=ys[s]) for s in SPLITS if s in xs}
    report.update(task=task, task_inferred=cfg.task == "auto", target="label",
                  rows={s: int(len(a.y)) for s, a in arrays.items()},
                  class_counts={s: _class_count_dict(a.y, classes) for s, a in arrays.items()},
                  images={"loaded": int(raw.loaded + sum(e.loaded for e in extras.values())),
                          "unreadable": int(len(raw.unreadable) + sum(len(e.unreadable) for e in extras.values())),
                          "resized": int(raw.resized + sum(e.resized for e in extras.values())),
                          "skipped_files": (raw.unreadable + [u for e in extras.values() for u in e.unreadable])
                          [:MAX_LISTED],
                          "size": [h, w], "channels": c, "color": raw.color})
    _imbalance_note(arrays["train"].y, classes, notes, cfg.imbalance)
    train, weights = _rebalance(cfg, arrays["train"], classes, seed, report)
    report["notes"] = notes
    return Prepared(spec=spec, train=train, val=arrays.get("val"), test=arrays.get("test"),
                    state=state, report=report, class_weights=weights)


# ----------------------------------------------------------------------------- predict / evaluate
def _check_array(state: dict, x: np.ndarray, where: str) -> np.ndarray:
    img = state["image"]
    want = (img["channels"], *img["size"])
    if img.get("convert_arrays") and x.ndim == 4:
        x = _convert_arrays(x, img["color"])
    if img.get("resize_arrays") and x.ndim == 4 and x.shape[1] == want[0] and tuple(x.shape[2:]) != tuple(want[1:]):
        x = _resize_arrays(x, tuple(want[1:]))
    if tuple(x.shape[1:]) != tuple(want):
        raise UserError(f"{where}: images are {list(x.shape[1:])} (C, H, W) but the model was trained on "
                        f"{list(want)} ({img['color']}, {img['size'][0]}x{img['size'][1]}); convert them, or pass "
                        "image files, which are resized and converted automatically")
    return x


def _files_to_array(state: dict, paths: list[Path], root: Path, where: str):
    img = state["image"]
    if img["color"] not in ("grayscale", "rgb"):
        raise UserError(f"{where}: this model was trained on arrays with {img['channels']} channels, which image "
                        "files cannot provide; pass an .npz with x (N, C, H, W)")
    decoded, bad = _decode_all(paths, root)
    if bad:
        if not decoded:
            raise UserError(f"{where}: none of the {len(bad)} image file(s) could be read (e.g. {bad[:3]})")
        warnings.warn(f"{where}: {len(bad)} file(s) could not be read and were skipped: {bad[:MAX_LISTED]}",
                      stacklevel=3)
    x, _ = _to_array(decoded, img["color"], tuple(img["size"]))
    x *= np.float32(img.get("file_scale", 1.0))  # 8-bit file pixels -> the scale the model was trained on
    names = [str(p.relative_to(root)) if p != root else p.name for p, _ in decoded]
    return x, names, [p for p, _ in decoded]


def _raw_inputs(state: dict, source, need_labels: bool):
    """(raw x (N, C, H, W), ids DataFrame, labels or None)."""
    where = "input" if not need_labels else "--data"
    if isinstance(source, np.ndarray):
        if need_labels:
            raise UserError(f"{where}: an array has no labels; pass an .npz with x and y, or a class-folder tree")
        x = _check_array(state, _as_nchw(source, where), where)
        return x, pd.DataFrame({"row": np.arange(len(x))}), None
    source = str(source)
    if source.startswith("builtin:"):
        raw = _load_source(source, None, where)
        x = _check_array(state, raw.x, where)
        return x, pd.DataFrame({"row": np.arange(len(x))}), raw.labels
    path = Path(source)
    if path.is_dir():
        return _folder_inputs(state, path, where, need_labels)
    if path.suffix.lower() == ".npz":
        x, y = _read_npz(path, where, need_y=need_labels)
        x = _check_array(state, x, f"{where} {str(path)!r}")
        labels = None if y is None else np.array([v.item() if hasattr(v, "item") else v for v in y], dtype=object)
        return x, pd.DataFrame({"row": np.arange(len(x))}), labels
    if path.is_file() and path.suffix.lower() in EXTENSIONS:
        if need_labels:
            raise UserError(f"{where}: a single image has no label; pass a folder with one sub-folder per class, "
                            "or an .npz with x and y")
        x, names, _ = _files_to_array(state, [path], path.parent, where)
        return x, pd.DataFrame({"file": names}), None
    what = "not found" if not path.exists() else f"has an unsupported type {path.suffix or '(none)'!r}"
    raise UserError(f"{where}: {source!r} {what}; give an image file ({', '.join(EXTENSIONS)}), a folder of images "
                    "(flat, or one sub-folder per class), or an .npz with x (N, [C,] H, W)")


def _folder_inputs(state: dict, folder: Path, where: str, need_labels: bool):
    loose = [] if need_labels else _image_files(folder)
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    paths, labels = list(loose), [None] * len(loose)
    for d in subdirs:
        files = _image_files(d)
        paths.extend(files)
        labels.extend([d.name] * len(files))
    if not paths:
        layout = "one sub-folder per class" if need_labels else "image files, or one sub-folder per class"
        raise UserError(f"{where}: no images found in {str(folder)!r}; expected {layout} with "
                        f"{', '.join(EXTENSIONS)} files")
    label_of = dict(zip(paths, labels))
    x, names, kept = _files_to_array(state, paths, folder, where)
    ids = pd.DataFrame({"file": names})
    return x, ids, np.array([label_of[p] for p in kept], dtype=object) if need_labels else None


def load_inputs(state: dict, source):
    """An image file, a folder (flat or class sub-folders), an .npz with x, or an array ->
    (x float32 (N, C, H, W) normalised as in training, ids DataFrame: 'file' or 'row')."""
    x, ids, _ = _raw_inputs(state, source, need_labels=False)
    return _normalize(state["image"], x), ids


def load_labelled(state: dict, source):
    """A folder of class sub-folders, or an .npz with x and y -> (x, int64 class indices)."""
    x, _, labels = _raw_inputs(state, source, need_labels=True)
    if labels is None:
        raise UserError(f"--data {str(source)!r}: has no labels ('y' in an .npz, or class sub-folders)")
    try:
        y = transform_target(state, labels)
    except UserError as exc:
        raise UserError(f"--data {str(source)!r}: {exc}") from None
    return _normalize(state["image"], x), y
