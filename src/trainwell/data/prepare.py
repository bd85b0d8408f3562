"""prepare(): load -> select columns -> type + clean rows -> infer task -> split -> fit transforms
on train -> encode every split -> rebalance train. Returns arrays, the JSON state and a report.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ..errors import UserError
from .clean import check_max_categories, clean_table, column_kind, infer_column_types, to_text
from .subset import class_mask, fraction_indices
from .sampling import check_imbalance_setting, class_counts, class_weights, resample_indices
from .sources import default_target, load_table
from .split import split_fractions, split_indices
from .transforms import (STATE_FORMAT, check_columns, fit_features, fit_target, raw_target,
                         transform_features_counted, transform_target)

AUTO_MAX_CLASSES = 20  # an integer target with at most this many values is taken as class labels
SPLITS = ("train", "val", "test")


@dataclass
class DataSpec:
    task: str
    target: str
    input_columns: list[str]
    column_types: dict[str, str]
    feature_names: list[str]
    n_features: int
    classes: list | None
    n_outputs: int
    kind: str = "tabular"              # tabular | image | timeseries | sequence | text
    input_shape: list[int] | None = None  # one sample's shape: [F], [C, H, W], [T, F] or [L] tokens
    vocab_size: int | None = None         # text: token ids are < vocab_size; 0 is padding


@dataclass
class SplitArrays:
    x: np.ndarray
    y: np.ndarray
    y_raw: np.ndarray


@dataclass
class Prepared:
    spec: DataSpec
    train: SplitArrays
    val: SplitArrays | None
    test: SplitArrays | None
    state: dict
    report: dict
    class_weights: list[float] | None
    # Per split, a naive forecast in the target's units (time series: persistence), scored
    # beside the model so its metrics have a yardstick.
    baselines: dict | None = None


# ----------------------------------------------------------------------------- columns
def _suggest(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _resolve_target(cfg, columns: list[str]) -> str:
    target = cfg.target or default_target(cfg.source)
    if target is None:
        kind = "CSV" if cfg.source.lower().endswith(".csv") else "parquet"
        raise UserError(f"data.target: required for {kind} files; columns are: {columns}")
    if target not in columns:
        raise UserError(f"data.target: column {target!r} not found{_suggest(target, columns)}; "
                        f"columns are: {columns}")
    return target


def _resolve_features(cfg, columns: list[str], target: str) -> list[str]:
    if cfg.features is None:
        inputs = [c for c in columns if c != target]
    else:
        if not cfg.features:
            raise UserError("data.features: empty list; list at least one column, or remove the key "
                            "to use every column but the target")
        unknown = [f for f in cfg.features if f not in columns]
        if unknown:
            listed = ", ".join(f"{f!r}{_suggest(f, columns)}" for f in unknown)
            raise UserError(f"data.features: unknown column(s) {listed}; columns are: {columns}")
        if target in cfg.features:
            raise UserError(f"data.features: lists the target column {target!r}; remove it from data.features")
        inputs = list(dict.fromkeys(cfg.features))  # drop repeats, keep order
    if not inputs:
        raise UserError(f"data.source: no feature columns besides the target {target!r}")
    return inputs


def _load_extra_files(cfg, needed: list[str]) -> dict[str, pd.DataFrame]:
    files = {}
    for role in ("val", "test"):
        path = getattr(cfg, role)
        if path:
            frame = load_table(path, f"data.{role}")
            frame.columns = frame.columns.map(str)
            check_columns(frame, needed, f"data.{role} ({path})")
            files[role] = frame[needed]
    return files


# ----------------------------------------------------------------------------- task
def _target_kind(series: pd.Series, task: str, target: str) -> str:
    kind = column_kind(series)
    numeric_dtype = ptypes.is_numeric_dtype(series) or ptypes.is_bool_dtype(series)
    if task in ("binary", "multiclass") and not numeric_dtype:
        return "categorical"  # forced classification: text labels stay text, even "1"/"2"
    if task == "regression" and kind == "categorical":
        sample = to_text(series).dropna().unique()[:5].tolist()
        raise UserError(f"data.task: regression needs a numeric target, but column {target!r} holds text "
                        f"such as {sample}; set data.task: auto/binary/multiclass, or choose another data.target")
    return kind


def _labels(values: pd.Series, kind: str) -> tuple[list, str]:
    """Sorted distinct labels as plain python values, and their kind ('numeric' or 'text')."""
    if kind == "categorical":
        return sorted(str(v) for v in values.unique()), "text"
    uniq = np.unique(values.to_numpy(dtype="float64"))
    if np.all(uniq % 1 == 0):
        return [int(v) for v in uniq], "numeric"
    return [float(v) for v in uniq], "numeric"


def _resolve_task(values: pd.Series, kind: str, forced: str, target: str, notes: list) -> tuple[str, list | None, str]:
    if kind == "numeric":
        v = values.to_numpy(dtype="float64")
        n_unique = len(np.unique(v))
        integral = bool(np.all(v % 1 == 0))
        if forced == "auto":
            is_class = integral and n_unique <= AUTO_MAX_CLASSES
            # Only the ambiguous cases get a note: integers can be labels or quantities.
            if is_class and n_unique > 2:
                notes.append(f"task: target {target!r} has {n_unique} distinct integer values, so it is "
                             "taken as class labels; set data.task: regression if they are quantities")
            elif integral and not is_class:
                notes.append(f"task: target {target!r} has {n_unique} distinct integer values (more than "
                             f"{AUTO_MAX_CLASSES}), so the task is regression; set data.task: multiclass "
                             "if they are class labels")
        else:
            is_class = forced != "regression"
        if not is_class:
            return "regression", None, "numeric"
    classes, label_kind = _labels(values, kind)
    if len(classes) < 2:
        raise UserError(f"data.target: column {target!r} has a single value {classes[0]!r} after cleaning; "
                        "a classifier needs at least 2 classes. Choose another data.target or add data")
    if forced == "binary" and len(classes) > 2:
        # fractions, or more integers than auto takes as labels, are a quantity: many classes would be wrong too
        quantity = label_kind == "numeric" and (len(classes) > AUTO_MAX_CLASSES or isinstance(classes[0], float))
        raise UserError(f"data.task: binary needs 2 classes, but column {target!r} has {len(classes)}: "
                        f"{classes[:20]}; set data.task: {'regression' if quantity else 'multiclass'} (or auto)")
    task = forced if forced in ("binary", "multiclass") else ("binary" if len(classes) == 2 else "multiclass")
    return task, classes, label_kind


# ----------------------------------------------------------------------------- encoding
def _encode(state: dict, frame: pd.DataFrame, role: str) -> tuple[SplitArrays, dict]:
    x, counts = transform_features_counted(state, frame)
    target = state["spec"]["target"]
    try:
        y = transform_target(state, frame[target])
        y_raw = raw_target(state, frame[target])
    except UserError as exc:
        raise UserError(f"{role}: {exc}") from None
    if counts.get("coded_rows"):
        counts["coded_target"] = _coded_target(counts.pop("coded_rows"), y, state["spec"].get("classes"))
    return SplitArrays(x=x, y=y, y_raw=y_raw), counts


def _coded_target(coded: dict, y: np.ndarray, classes: list | None) -> dict:
    """Per column, the target of the rows data.clean.missing_codes blanked against the other rows':
    class counts, or the (standardized) target's mean and spread. The doctor asks whether the code
    said something about the target that imputation then erases."""
    out = {}
    for column, c in coded.items():
        mask = np.asarray(c["mask"], dtype=bool)
        if len(mask) != len(y):
            continue
        entry = {"rows": int(mask.sum()), "of": int(len(mask)), "codes": c["codes"], "real": c["real"]}
        if classes:
            k = len(classes)
            yi = np.asarray(y).reshape(len(y), -1)[:, 0].astype(np.int64) if np.asarray(y).ndim > 1 \
                else np.asarray(y).astype(np.int64)
            entry["coded_counts"] = np.bincount(yi[mask], minlength=k).tolist()
            entry["other_counts"] = np.bincount(yi[~mask], minlength=k).tolist()
        else:
            first = np.asarray(y, dtype=np.float64).reshape(len(y), -1)[:, 0]
            entry.update(coded_mean=float(first[mask].mean()), other_mean=float(first[~mask].mean()) if (~mask).any()
                         else None, spread=float(first.std()))
        out[column] = entry
    return out


def _class_count_dict(y: np.ndarray, classes: list) -> dict[str, int]:
    return {str(c): int(n) for c, n in zip(classes, class_counts(y, len(classes)))}


def _rebalance(cfg, train: SplitArrays, classes: list | None, seed: int, report: dict):
    """Apply data.imbalance to the train split; returns (train, class_weights)."""
    method = cfg.imbalance
    if classes is None or method == "none":
        report["imbalance"] = {"method": "none"}
        return train, None
    before = _class_count_dict(train.y, classes)
    if method == "class_weights":
        weights = class_weights(train.y, len(classes))
        report["imbalance"] = {"method": method, "before": before, "after": before,
                               "weights": {str(c): w for c, w in zip(classes, weights)}}
        return train, weights
    idx = resample_indices(train.y, len(classes), method, seed)
    train = SplitArrays(x=train.x[idx], y=train.y[idx], y_raw=train.y_raw[idx])
    report["imbalance"] = {"method": method, "before": before,
                           "after": _class_count_dict(train.y, classes), "rows_after": int(len(idx))}
    return train, None


def _imbalance_note(y: np.ndarray, classes: list, notes: list, method: str = "none") -> None:
    """A note on uneven classes, with the advice only where data.imbalance does not already act."""
    counts = class_counts(y, len(classes))
    present = counts[counts > 0]
    if len(present) > 1 and present.max() >= 3 * present.min():
        ratio = present.max() / present.min()
        if method == "none":
            notes.append(f"imbalance: the largest training class has {ratio:.1f}x the rows of the smallest; "
                         "consider data.imbalance: class_weights or oversample (unless loss.class_weights already "
                         "weighs the classes: the two cannot be set together)")
        else:
            notes.append(f"imbalance: the largest training class has {ratio:.1f}x the rows of the smallest; "
                         f"data.imbalance: {method} balances them in training")


def _nan_note(x: np.ndarray, names: list[str], split: str, notes: list) -> None:
    bad = np.isnan(x).any(axis=0)
    if bad.any():
        cols = [n for n, b in zip(names, bad) if b]
        notes.append(f"{split}: data.clean.impute is none and feature(s) {cols} still have missing values; "
                     "the network will see NaN")


# ----------------------------------------------------------------------------- main
def _clean_source(cfg, source: pd.DataFrame, target: str, inputs: list[str], report: dict):
    frame = source[inputs + [target]]
    column_types = infer_column_types(frame, inputs)
    unknown = [c for c in cfg.categorical if c not in inputs]
    if unknown:
        raise UserError(f"data.categorical: {unknown} {'is' if len(unknown) == 1 else 'are'} not among the input "
                        f"columns; they are {inputs}")
    column_types.update({c: "categorical" for c in cfg.categorical})  # codes: one-hot, whatever they look like
    kinds = {**column_types, target: _target_kind(frame[target], cfg.task, target)}
    cleaned, cleaning, coerced = clean_table(frame, target, kinds, cfg.clean)
    if len(cleaned) == 0:
        raise UserError(f"data.source: no rows left after cleaning ({cleaning}); check data.target "
                        f"{target!r} and data.clean")
    check_max_categories(cleaned, column_types, cfg.max_categories, declared=list(cfg.categorical))
    report["cleaning"], report["coerced"] = cleaning, coerced
    report["rows_after_cleaning"] = len(cleaned)
    return cleaned, column_types, kinds


def _clean_files(cfg, files: dict, target: str, kinds: dict, report: dict) -> dict[str, pd.DataFrame]:
    out = {}
    for role, frame in files.items():
        cleaned, counts, coerced = clean_table(frame, target, kinds, cfg.clean, role=f"data.{role}")
        if len(cleaned) == 0:
            raise UserError(f"data.{role}: no rows left after cleaning ({counts})")
        report["cleaning"].setdefault("files", {})[role] = counts
        for col, n in coerced.items():
            report["coerced"][col] = report["coerced"].get(col, 0) + n
        out[role] = cleaned
    return out


def _drop_coded_targets(cleaned: pd.DataFrame, files: dict, target: str, clean, report: dict):
    """A regression target holding one of data.clean.target_missing_codes has no value on that row:
    the row goes, as one with an empty target does (drop_missing_target). A key of its own, not
    missing_codes: a code for the features (0 for a blank sensor) can be a real target value (0 sales)."""
    from .transforms import _as_missing

    def drop(frame, role):
        coded = np.isnan(_as_missing(frame[target].to_numpy(dtype="float64"), clean.target_missing_codes)) & \
            frame[target].notna().to_numpy()
        n = int(coded.sum())
        if not n:
            return frame
        if not clean.drop_missing_target:
            raise UserError(f"data.clean.target_missing_codes: {n} row(s) of {role} hold one in {target!r}; turn on "
                            f"data.clean.drop_missing_target to drop them, or remove the code")
        report["cleaning"]["coded_target_dropped"] = report["cleaning"].get("coded_target_dropped", 0) + n
        return frame[~coded].reset_index(drop=True)

    return drop(cleaned, "data.source"), {role: drop(f, f"data.{role}") for role, f in files.items()}


def split_frames(cfg, cleaned: pd.DataFrame, target: str, classes, frames_from_files: dict, seed: int,
                 notes: list, report: dict) -> dict[str, pd.DataFrame]:
    """Split the cleaned source (stratified for classes), add explicit val/test files, and keep
    data.train_fraction of the training rows. Tables and text share it."""
    fractions = split_fractions(cfg.split, "val" in frames_from_files, "test" in frames_from_files)
    labels = pd.factorize(cleaned[target])[0] if classes is not None else None
    index = split_indices(len(cleaned), fractions, labels, cfg.split.stratify, seed, notes)
    frames = {name: cleaned.iloc[rows].reset_index(drop=True) for name, rows in index.items()}
    frames.update(frames_from_files)
    if cfg.train_fraction < 1:
        train_labels = frames["train"][target].astype(str).to_numpy() if classes is not None else None
        rows = fraction_indices(len(frames["train"]), cfg.train_fraction, seed, train_labels)
        report["train_fraction"] = {"fraction": cfg.train_fraction, "rows_before": len(frames["train"]),
                                    "rows_after": int(len(rows))}
        frames["train"] = frames["train"].iloc[rows].reset_index(drop=True)
    return frames


def prepare_tabular(cfg, seed: int) -> Prepared:
    """Everything from cfg (a DataConfig) to arrays; transforms are fitted on train only."""
    notes: list[str] = []
    report: dict = {"source": cfg.source, "val_source": cfg.val, "test_source": cfg.test}
    source = load_table(cfg.source, "data.source")
    source.columns = source.columns.map(str)
    report["rows_loaded"] = len(source)
    columns = list(source.columns)
    target = _resolve_target(cfg, columns)
    inputs = _resolve_features(cfg, columns, target)
    files = _load_extra_files(cfg, inputs + [target])

    cleaned, column_types, kinds = _clean_source(cfg, source, target, inputs, report)
    if cfg.classes is not None:
        keep = class_mask(cleaned[target].to_numpy(), cfg.classes)
        report["cleaning"]["other_classes_dropped"] = int((~keep).sum())
        cleaned = cleaned[keep].reset_index(drop=True)
    task, classes, label_kind = _resolve_task(cleaned[target], kinds[target], cfg.task, target, notes)
    check_imbalance_setting(cfg.imbalance, task)
    frames_from_files = _clean_files(cfg, files, target, kinds, report)
    if cfg.clean.target_missing_codes and task != "regression":
        raise UserError(f"data.clean.target_missing_codes: only for a regression target; {target!r} is {task} "
                        f"(its classes are names, not measurements); remove the key")
    if cfg.clean.target_missing_codes:
        cleaned, frames_from_files = _drop_coded_targets(cleaned, frames_from_files, target, cfg.clean, report)
    report.update(task=task, task_inferred=cfg.task == "auto", target=target)

    frames = split_frames(cfg, cleaned, target, classes, frames_from_files, seed, notes, report)

    features, names, fit_notes = fit_features(frames["train"], inputs, column_types, cfg)
    notes.extend(fit_notes)
    spec = DataSpec(task=task, target=target, input_columns=inputs, column_types=column_types,
                    feature_names=names, n_features=len(names), classes=classes,
                    n_outputs=1 if classes is None else len(classes), input_shape=[len(names)])
    train_raw = frames["train"][target].to_numpy(dtype="float64") if classes is None else np.empty(0)
    state = {"format": STATE_FORMAT, "spec": asdict(spec),
             "normalize_categories": bool(cfg.clean.normalize_categories),
             "features": features, "target": fit_target(task, classes, train_raw, label_kind, cfg)}

    arrays = _encode_splits(state, frames, report, notes)
    if classes is not None:
        report["class_counts"] = {s: _class_count_dict(a.y, classes) for s, a in arrays.items()}
        _imbalance_note(arrays["train"].y, classes, notes, cfg.imbalance)
    train, weights = _rebalance(cfg, arrays["train"], classes, seed, report)
    report["notes"] = notes
    return Prepared(spec=spec, train=train, val=arrays.get("val"), test=arrays.get("test"),
                    state=state, report=report, class_weights=weights)


def _encode_splits(state: dict, frames: dict, report: dict, notes: list) -> dict[str, SplitArrays]:
    arrays = {}
    report.update(imputed={}, clipped={}, unknown_categories={}, rows={})
    names = state["spec"]["feature_names"]
    for split in SPLITS:
        if split not in frames:
            continue
        role = f"data.{split}" if report.get(f"{split}_source") else "data.source"
        arrays[split], counts = _encode(state, frames[split], role)
        report["rows"][split] = len(frames[split])
        report["imputed"][split] = counts["imputed"]
        if counts.get("coded"):
            report.setdefault("coded", {})[split] = counts["coded"]
        if split == "train" and counts.get("coded_target"):
            report["coded_target"] = counts["coded_target"]
        report["clipped"][split] = counts["clipped"]
        if split != "train":
            report["unknown_categories"][split] = counts["unknown_categories"]
        for col, n in counts["coerced"].items():
            report["coerced"][col] = report["coerced"].get(col, 0) + n
        _nan_note(arrays[split].x, names, split, notes)
    return arrays
