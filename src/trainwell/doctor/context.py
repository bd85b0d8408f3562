"""The facts about a run that the rules need and that do not change while it trains."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from ..training.losses import resolve_class_weights
from .baseline import cached_baseline, order_baseline
from .facts import TEXT_LEN_CAP, Context
from .image_measures import augment_distortion, augment_retention, conversion_loss, pool_retention, shift_retention
from .network_measures import (affine_network, cnn_collapse, flat_width, gradient_cut, l1_at_init, probability_outputs,
                               recurrent_axes)
from .column_screen import left_out_signal, noise_columns
from .series_measures import left_out_columns
from .network_measures import _safely
from .wiring import wiring
from .wiring_gradients import barely_learning, gradientless_share


def _val_rare_rows(prepared) -> int:
    """Rows of the smallest class in the validation split: what the per-epoch rare_recall is read on."""
    if prepared.val is None or not prepared.spec.classes or not len(prepared.val.y):
        return 0
    counts = np.bincount(np.asarray(prepared.val.y, dtype=np.int64))
    return int(counts[counts > 0].min())


def build_context(cfg, prepared, plan: dict) -> Context:
    spec = prepared.spec
    x = prepared.train.x
    shares = None
    if spec.classes:
        counts = np.bincount(np.asarray(prepared.train.y, dtype=np.int64), minlength=len(spec.classes))
        shares = (counts / max(counts.sum(), 1)).tolist()
    nonfinite, rms, sd, top, names = 0, [], [], [], []
    if x.dtype.kind == "f":
        finite = np.isfinite(x)
        nonfinite = int(x.size - finite.sum())
        if spec.kind == "tabular":
            flat, ok = x.reshape(len(x), -1), finite.reshape(len(x), -1)
        elif spec.kind in ("timeseries", "sequence") and x.ndim == 3:
            # (rows, steps, features): each feature's size over every step of every row (a series
            # with load near 100 beside temperatures near 5 and scaling off; fourth held-out set)
            flat, ok = x.reshape(-1, x.shape[-1]), finite.reshape(-1, x.shape[-1])
        else:
            flat = ok = None
        if flat is not None and len(flat):
            with np.errstate(invalid="ignore"):
                seen = np.where(ok, flat, np.nan)
                rms = np.sqrt(np.nanmean(seen ** 2, axis=0)).tolist()
                if cfg.model.type == "rnn" and cfg.data.scale == "none":   # what only _faint_features reads
                    sd, top = np.nanstd(seen, axis=0).tolist(), np.nanmax(np.abs(seen), axis=0).tolist()
            names = list(spec.feature_names)[:len(rms)]
            names += [f"feature {j}" for j in range(len(names), len(rms))]
    model = cfg.model
    target_rms = None
    if spec.task == "regression" and not getattr(cfg.data, "scale_target", True) and len(prepared.train.y):
        y = np.asarray(prepared.train.y, dtype=np.float64)
        target_rms = float(np.sqrt(np.nanmean(y ** 2))) if np.isfinite(y).any() else None
    unseen_target = _unseen_target_history(prepared)
    target_extreme = None
    if spec.task == "regression" and spec.kind == "tabular" and prepared.train.y_raw is not None:
        y_raw = np.asarray(prepared.train.y_raw, dtype=np.float64).reshape(len(prepared.train.y_raw), -1)
        if y_raw.shape[1] == 1:
            target_extreme = target_code(y_raw[:, 0], spec.target)
    extreme = (extreme_features(prepared.train.x, names, _raw_scales(prepared))
               if spec.kind == "tabular" and x.dtype.kind == "f" else [])
    return Context(
        task=spec.task, loss=plan["loss"], optimizer=cfg.optimizer.name, lr=cfg.optimizer.lr,
        momentum=cfg.optimizer.momentum if cfg.optimizer.name in ("sgd", "rmsprop") else 0.0,
        epochs=cfg.training.epochs, n_classes=len(spec.classes) if spec.classes else None, class_shares=shares,
        class_names=[str(c) for c in spec.classes] if spec.classes else None,
        imbalance=cfg.data.imbalance, data_kind=spec.kind, scale=cfg.data.scale, impute=cfg.data.clean.impute,
        target_scaled=bool(getattr(cfg.data, "scale_target", True)),
        nonfinite_inputs=nonfinite, feature_rms=[float(v) for v in rms], feature_names=names,
        feature_sd=[float(v) for v in sd], feature_absmax=[float(v) for v in top],
        spellings=spellings(cfg.data, prepared),
        activation=getattr(model, "activation", None), dropout=getattr(model, "dropout", 0.0),
        weight_decay=cfg.optimizer.weight_decay, has_val=prepared.val is not None, model_type=model.type,
        train_fraction=float(cfg.data.train_fraction),
        early_stopping=cfg.training.early_stopping.enabled, restore_best=cfg.training.early_stopping.restore_best,
        schedule=cfg.schedule.name, warmup_epochs=cfg.schedule.warmup_epochs, huber_delta=cfg.loss.huber_delta,
        label_smoothing=cfg.loss.label_smoothing,
        clip_grad_value=cfg.regularization.clip_grad_value, l1=cfg.regularization.l1,
        clip_grad_norm=cfg.regularization.clip_grad_norm,
        augment={k: v for k, v in cfg.data.augment.model_dump().items() if v},
        augment_distortion=augment_distortion(cfg.data.augment, prepared),
        augment_retention=augment_retention(cfg.data.augment, prepared) if spec.classes else None,
        shift_retention=shift_retention(cfg.data.augment, prepared) if spec.classes else None,
        # A custom or pretrained network may be built for the converted shape: the finding, no fix.
        conversion_loss=conversion_loss(cfg.data, prepared, fixable=model.type != "python"
                                        and not getattr(model, "init_from", None))
        if spec.kind == "image" and spec.classes else None,
        extreme_features=extreme, clip_outliers=cfg.data.clean.clip_outliers,
        narrowest_hidden=min(model.hidden) if model.type == "mlp" and getattr(model, "hidden", None) else None,
        mlp_hidden=list(model.hidden) if model.type == "mlp" and getattr(model, "hidden", None) else [],
        dropout_acts=dropout_acts(model),
        cell=getattr(model, "cell", None) if model.type == "rnn" else None,
        hidden_size=getattr(model, "hidden_size", None) if model.type == "rnn" else None,
        d_model=getattr(model, "d_model", None) if model.type == "transformer" else None,
        heads=getattr(model, "heads", None) if model.type == "transformer" else None,
        positional=getattr(model, "positional", None) if model.type == "transformer" else None,
        frozen=list(getattr(model, "freeze", None) or []), init_from=bool(getattr(model, "init_from", None)),
        loss_class_weights=resolve_class_weights(cfg.loss.class_weights, spec.classes) if spec.classes else None,
        **_coded(prepared),
        steps=int(x.shape[1]) if spec.kind in ("timeseries", "sequence") and x.ndim == 3 else None,
        n_train=len(x), val_rare_rows=_val_rare_rows(prepared), steps_per_epoch=_steps_per_epoch(cfg.training.batch_size, len(x)),
        linear=functools.partial(cached_baseline, prepared),
        eps=cfg.optimizer.eps,
        missing_codes=list(cfg.data.clean.missing_codes) if spec.kind in ("tabular", "timeseries") else [],
        target_rms=target_rms, unseen_target=unseen_target, target_extreme=target_extreme,
        target_missing_codes=list(cfg.data.clean.target_missing_codes),
        unordered_time=prepared.report.get("unordered_time"),
        conv_blocks=[b.model_dump() for b in model.blocks] if model.type == "cnn" else [],
        global_pool=bool(getattr(model, "global_pool", False)),
        pool_retention=pool_retention(prepared) if model.type == "cnn" and getattr(model, "global_pool", False)
        and spec.classes else None,
        pixel_pool_retention=pool_retention(prepared, kernel=1) if model.type == "cnn"
        and getattr(model, "global_pool", False) and spec.classes and model.blocks
        and all(b.kernel == 1 for b in model.blocks) else None,
        init_weight=model.init.weight.name if getattr(model, "init", None) is not None else "auto",
        init_bias_value=model.init.bias.value
        if getattr(model, "init", None) is not None and model.init.bias.name == "constant" else 0.0,
        es_monitor=cfg.training.early_stopping.monitor, es_mode=cfg.training.early_stopping.mode,
        betas=tuple(cfg.optimizer.betas), param_groups=[g.model_dump() for g in cfg.optimizer.param_groups],
        clip_outliers_factor=cfg.data.clean.clip_factor,
        clipped_cells=int(sum(((prepared.report.get("clipped") or {}).get("train") or {}).values())),
        clipped_columns=dict((prepared.report.get("clipped") or {}).get("train") or {}),
        es_min_delta=cfg.training.early_stopping.min_delta, es_patience=cfg.training.early_stopping.patience,
        batch_size=None if cfg.training.batch_size == "full" else int(cfg.training.batch_size),
        batch_norm=bool(getattr(model, "batch_norm", False)) if model.type == "mlp" else
        any(b.batch_norm for b in model.blocks) if model.type == "cnn" else False,
        shuffle=cfg.training.shuffle, row_order=None if cfg.training.shuffle else row_order(prepared),
        undersampled=prepared.report.get("imbalance") if cfg.data.imbalance == "undersample" else None,
        fill_far=fill_far(prepared, cfg.data.clean.impute_value) if cfg.data.clean.impute == "constant" else [],
        horizon=cfg.data.series.horizon if spec.kind == "timeseries" and cfg.data.series is not None else None,
        code_columns=code_columns(prepared), max_categories=cfg.data.max_categories,
        sequence_axes=sequence_axes(prepared.train.x) if spec.kind == "sequence" else None,
        cue_profile=cue_profile(prepared) if spec.kind == "sequence" and spec.classes
        and model.type == "rnn" and not getattr(model, "bidirectional", False) else None,
        bidirectional=bool(getattr(model, "bidirectional", False)),
        sequence_shapes=sequence_shapes(prepared) if spec.kind == "sequence" and spec.classes and model.type == "mlp"
        else None,
        sequence_layout=cfg.data.sequence.layout,
        # drop_duplicates works before the split: copies across a separate data.val file are not its to
        # fix, but a data.val file that is mostly the training rows is a slip of its own
        split_reversed=split_reversed(cfg.data, prepared),
        counts_as_codes=counts_as_codes(cfg.data, prepared) if spec.kind == "tabular" else [],
        categorical=list(cfg.data.categorical),
        split_twins=split_twins(prepared, cfg.data) if spec.kind == "tabular"
        and (cfg.data.val is not None or not cfg.data.clean.drop_duplicates) else None,
        text_cut=_with_cut_signal(cfg, prepared, text_cut(prepared.report)) if spec.kind == "text" else None,
        other_text=_safely(other_text_signal, cfg, prepared) if spec.kind == "text" else None,
        text_order=_safely(order_baseline, prepared) if spec.kind == "text" and model.type == "transformer"
        and getattr(model, "positional", None) == "none" else None,
        head=list(getattr(model, "head", None) or []) if model.type in ("rnn", "cnn") else [],
        n_outputs=plan.get("n_out"), schedule_collapse=schedule_collapse(cfg),
        schedule_rise=schedule_rise(cfg), min_lr=cfg.schedule.min_lr,
        day_month_swapped=prepared.report.get("day_month_swapped"),
        repeated_times=prepared.report.get("repeated_times"),
        blank_zeros=blank_zeros(prepared) if cfg.data.clean.impute in ("median", "mean", "most_frequent") else None,
        text_vocab=text_vocab(prepared.report) if spec.kind == "text" else None,
        text_lowercase=bool(cfg.data.text.lowercase), nesterov=bool(cfg.optimizer.nesterov),
        trailing_padding=prepared.report.get("padding") if spec.kind == "sequence" else None,
        skewed_columns=skewed_columns(prepared) if spec.kind == "tabular" else [],
        shifted_columns=shifted_columns(prepared) if spec.kind == "tabular" else [],
        drifted_inputs=drifted_inputs(prepared) if spec.kind == "timeseries" else [],
        input_columns=list(spec.input_columns or []),
        clip_flattened=clip_flattened(prepared) if cfg.data.clean.clip_outliers != "none" else [],
        dedup_conflicts=dedup_conflicts(prepared) if spec.kind == "tabular" and cfg.data.clean.drop_duplicates
        and spec.classes else None,
        series_gaps=series_gaps(prepared.report) if spec.kind == "timeseries" else None,
        left_out_columns=_safely(left_out_columns, cfg, prepared) if spec.kind == "timeseries" else None,
        noise_columns=_safely(noise_columns, prepared) if spec.kind == "tabular" else None,
        features_left_out=_safely(left_out_signal, cfg, prepared) if spec.kind == "tabular" and cfg.data.features else None,
        flat_width=flat_width(cfg, spec, plan) if model.type == "cnn" else None,
        l1_at_init=l1_at_init(cfg, spec, plan) if cfg.regularization.l1 > 0 else None,
        affine=affine_network(cfg, spec, plan, prepared) if model.type == "python" else None,
        recurrent_axes=recurrent_axes(cfg, spec, plan, prepared) if model.type == "python" else None,
        probability_outputs=probability_outputs(cfg, spec, plan, prepared) if model.type == "python" else False,
        gradient_cut=gradient_cut(cfg, spec, plan, prepared) if model.type == "python" else None,
        wiring=wiring(cfg, spec, plan, prepared) if model.type == "python" else None,
        gradientless=gradientless_share(cfg, spec, plan, prepared),
        barely_learning=barely_learning(cfg, spec, plan, prepared) if model.type == "python" else None,
        cnn_blocks=[b.model_dump(mode="json") for b in model.blocks] if model.type == "cnn" else [],
        cnn_collapse=_safely(cnn_collapse, cfg, spec, plan) if model.type == "cnn" else None)


# A training share under half the source's, smaller than the test share, on under this many
# training rows: the split's keys read the other way round. The team's 70/15/15 written as
# train 0.15, test 0.7 left a glyph CNN 180 images to learn from, 0.902/0.910 against 0.983/0.989
# (thirteenth held-out set). On many rows a small training share can be a choice; on few it costs.
REVERSED_SPLIT_ROWS = 10_000


# A column listed in data.categorical with this many levels or more, all numbers, whose levels' mean
# target rises or falls with the number (Spearman's rho over the levels): an amount, not a code. One-hot
# coding gives each level its own weight, learned from its own rows, and throws the order away: a
# kitchen's queue (0-44 orders, 33 levels, the rare long queues the costliest) as categories scored r2
# 0.850/0.849 against 0.925/0.946 as a number (seventeenth held-out set). Measured quantities at a few
# levels, each with hundreds of rows (concrete ages, 7; charge rates, 6), lose nothing, and ids have
# no order in their effect.
CODED_AMOUNT_LEVELS = 10
CODED_AMOUNT_RHO = 0.8


def counts_as_codes(cfg_data, prepared) -> list[dict]:
    import numpy as np
    from scipy.stats import spearmanr

    state, train = prepared.state, prepared.train
    if not cfg_data.categorical or not isinstance(state, dict) or train is None \
            or prepared.spec.task not in ("regression", "binary"):
        return []
    y = None
    out, at = [], 0
    for st in state.get("features", []):
        width = 1 if st["kind"] == "numeric" else len(st["categories"])
        if st["kind"] == "categorical" and st["column"] in cfg_data.categorical and width >= CODED_AMOUNT_LEVELS:
            # the numeric levels only: a blank cell is a level of its own ('<missing>') with no place in the order
            levels = [(j, _number(c)) for j, c in enumerate(st["categories"])]
            levels = [(j, v) for j, v in levels if v is not None]
            if len(levels) >= CODED_AMOUNT_LEVELS:
                if y is None:
                    y = np.asarray(train.y, dtype=np.float64).reshape(len(train.y), -1)[:, 0]
                block = np.asarray(train.x[:, [at + j for j, _ in levels]], dtype=np.float64)
                values = np.array([v for _, v in levels])
                rows = block.sum(0)
                seen = rows > 0
                means = (block.T @ y)[seen] / rows[seen]
                rho = float(spearmanr(values[seen], means).statistic) if seen.sum() >= CODED_AMOUNT_LEVELS else 0.0
                if abs(rho) >= CODED_AMOUNT_RHO:
                    out.append({"column": st["column"], "levels": int(len(levels)), "rho": round(rho, 3),
                                "range": [float(values.min()), float(values.max())],
                                "median_rows_per_level": float(np.median(rows[seen]))})
        at += width
    return out


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value else None


def split_reversed(cfg_data, prepared) -> dict | None:
    split = cfg_data.split
    if cfg_data.test is not None or split.train >= 0.5 or split.train >= split.test or prepared.train is None:
        return None
    rows = int(len(prepared.train.y))
    if rows >= REVERSED_SPLIT_ROWS:
        return None
    return {"train": split.train, "val": split.val, "test": split.test, "train_rows": rows}


def dropout_acts(model) -> bool:
    """Whether model.dropout reaches a layer of the network the builders make of this config: an
    MLP's hidden layers, an rnn's stacked layers (PyTorch drops between them only) or head, a cnn's
    dense head, a transformer's every layer; a custom network reads its own options instead."""
    if model.type == "mlp":
        return bool(model.hidden)
    if model.type == "rnn":
        return model.layers > 1 or bool(model.head)
    if model.type == "cnn":
        return bool(model.head)
    return model.type == "transformer"


def row_order(prepared) -> dict | None:
    """How the training rows run, in the order training takes them with shuffle off: for classes,
    the label changes from one row to the next against the (n - 1)(1 - sum of squared shares) a
    random order gives; for a table's regression target, its rank correlation with the row number."""
    y = np.asarray(prepared.train.y)
    if len(y) < 50 or prepared.spec.kind == "timeseries":  # a series' windows are in time order by design
        return None
    if prepared.spec.classes:
        y = y.astype(np.int64).ravel()
        shares = np.bincount(y) / len(y)
        expected = (len(y) - 1) * (1 - float(np.sum(shares ** 2)))
        return {"label_changes": int(np.sum(y[1:] != y[:-1])), "random_order_changes": round(expected, 1),
                "rows": len(y)} if expected > 0 else None
    if prepared.spec.kind != "tabular" or y.ndim > 1 and y.shape[1] != 1:
        return None
    from scipy.stats import spearmanr

    rho = spearmanr(np.arange(len(y)), y.ravel()).statistic
    return {"target_rank_correlation": round(float(rho), 4), "rows": len(y)} if np.isfinite(rho) else None


# A constant fill this many standard deviations (of the values the column holds) from their mean,
# and a whole range of them (max - min) away from the nearest, is no value of that column: the
# filled rows read as extreme measurements. A normal value lies 5 sd from its mean about once in 1.7
# million; 0 in wine's alcohol column (11.0-14.8, mean 13.0, sd 0.8) is 16 sd out and 3x its range
# below its lowest value. The range keeps a -1 beside counts or 0/1 flags (one unit from the data, a
# usual "missing" marker) from counting, however small their sd.
FILL_FAR_SD = 5.0


def _coded(prepared) -> dict:
    """The cells data.clean.missing_codes made missing, per column, and what they were counted over:
    a table's training rows and numeric columns, or a forecast's whole series and value columns."""
    report = prepared.report
    coded = report.get("coded") or {}
    if "series" in coded:
        return {"coded_cells": dict(coded["series"]), "coded_rows": int(report.get("rows_loaded") or 0),
                "numeric_columns": int(report.get("coded_columns") or 0)}
    state = prepared.state
    return {"coded_cells": dict(coded.get("train") or {}), "coded_rows": int((report.get("rows") or {}).get("train") or 0),
            "coded_signal": dict(report.get("coded_target") or {}),
            "numeric_columns": sum(1 for st in state.get("features", []) if st.get("kind") == "numeric")
            if isinstance(state, dict) else 0}


def _numeric_columns(prepared, split: str = "train"):
    """(feature state, its cells in `split` as fed, the same in the data's units) for each numeric
    input column of a table."""
    from ..data.transforms import _feature_offsets

    features = (prepared.state or {}).get("features") if isinstance(prepared.state, dict) else None
    arrays = getattr(prepared, split)
    if not features or prepared.spec.kind != "tabular" or arrays is None:
        return
    x = np.asarray(arrays.x, dtype=np.float64).reshape(len(arrays.x), -1)
    starts = _feature_offsets(features)
    for j, st in enumerate(features):
        if st.get("kind") == "numeric" and starts[j] < x.shape[1]:
            cells = x[:, starts[j]]
            yield st, cells, cells * (st.get("scale") or 1.0) + (st.get("center") or 0.0)


def fill_far(prepared, value: float) -> list[dict]:
    """Numeric columns where data.clean.impute: constant filled training cells with a value far
    outside the ones the column holds (raw units, after the column's clipping, as the network sees
    it): [{column, fill, mean, sd, filled, sds}]."""
    filled = ((prepared.report.get("imputed") or {}).get("train") or {})
    out = []
    for st, _, raw in _numeric_columns(prepared) if filled else ():
        n_filled = int(filled.get(st["column"]) or 0)
        if not n_filled:
            continue
        fill = float(np.clip(value, *st["clip"])) if st.get("clip") else float(value)
        # float32 cells: the fill reads back a few millionths of the column's scale off
        at_fill = np.isclose(raw, fill, rtol=1e-5, atol=1e-4 * (st.get("scale") or 1.0))
        if at_fill.sum() > n_filled:
            continue  # the column holds that value itself: a real value, not one far from its own
        real = raw[~at_fill]
        if len(real) < 10:
            continue
        mean, sd, lo, hi = float(real.mean()), float(real.std()), float(real.min()), float(real.max())
        if hi - lo <= 1e-6 * max(abs(lo), abs(hi), 1.0):
            # One value in every filled-in cell's column (a flag exported only where it is 1): the
            # fill is its other level, not a value far from the column's (tenth held-out set).
            continue
        gap = lo - fill if fill < lo else fill - hi if fill > hi else 0.0
        if sd > 0 and abs(fill - mean) >= FILL_FAR_SD * sd and gap > hi - lo:
            out.append({"column": st["column"], "fill": fill, "mean": float(f"{mean:.4g}"), "sd": float(f"{sd:.3g}"),
                        "filled": n_filled, "sds": float(f"{abs(fill - mean) / sd:.3g}")})
    return out


def _unseen_target_history(prepared) -> dict | None:
    """A forecast whose inputs leave out the target's own past: the target, the inputs, and the r2
    of persistence (the last observed target value, held) on the validation windows."""
    series = (prepared.state or {}).get("series") if isinstance(prepared.state, dict) else None
    val, base = prepared.val, (prepared.baselines or {}).get("val")
    if not series or series.get("target") in series.get("value_columns", []) or val is None or base is None:
        return None
    y = np.asarray(val.y_raw, dtype=np.float64).reshape(len(val.y_raw), -1)
    p = np.asarray(base, dtype=np.float64).reshape(len(y), -1)
    sst = float(np.sum((y - y.mean(axis=0)) ** 2))
    if len(y) < 10 or sst <= 0:
        return None
    return {"target": series["target"], "inputs": list(series["value_columns"]),
            "persistence_r2": 1.0 - float(np.sum((y - p) ** 2)) / sst}


# A regression target's code for "no value" (-999, 9999) is one number repeated in a few rows, far
# from the median and set apart from every real value. Targets run to heavy tails and caps, so the
# test is the gap, not the distance alone: a price capped at its top value (California housing's
# 5.00001) repeats at the edge of the real values, with neighbours close by. -999 among diabetes'
# targets (25-346; median 129, MAD 59) sits 19 MADs out and 17 MADs from the nearest real value.
TARGET_CODE_MADS = 10.0
TARGET_CODE_GAP = 5.0


def target_code(y, name: str) -> dict | None:
    """The one value of a regression target that looks like a missing-value code, or None."""
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    if len(y) < 50:
        return None
    med = float(np.median(y))
    mad = float(np.median(np.abs(y - med)))
    if mad <= 0:
        return None
    values, counts = np.unique(y, return_counts=True)
    # Only the outermost value on each side: a repeated value inside a long tail, past which real
    # values go on, is part of the tail.
    for v, n in ((values[0], counts[0]), (values[-1], counts[-1])):
        if abs(v - med) < TARGET_CODE_MADS * mad:
            continue
        share = n / len(y)
        rest = y[y != v]
        gap = float(np.min(np.abs(rest - v))) if len(rest) else 0.0
        if 0.005 <= share <= 0.1 and n >= 2 and gap >= TARGET_CODE_GAP * mad:
            return {"feature": name, "code": float(v), "share": round(float(share), 4),
                    "mads": float(f"{abs(v - med) / mad:.3g}")}
    return None


def _steps_per_epoch(batch_size, rows: int) -> int | None:
    if not rows:
        return None
    if batch_size == "full" or batch_size >= rows:
        return 1
    # As the trainer counts them: a last batch of one row is folded into the one before.
    return max(1, rows // batch_size) if rows % batch_size == 1 else math.ceil(rows / batch_size)


# A value this many median absolute deviations from its feature's median is no measurement of the
# same thing: a normal feature's largest value in a million rows is about 7 MADs out, and even a
# log-normal one with sigma 1 (incomes) puts only 0.0002% of its rows past 1000. A missing-value
# code (9999999 in breast_cancer's cells) sits 10^5 and more out.
EXTREME_MADS = 1000.0


def _code(value: float, error: float) -> float | None:
    """A code read back from float32 features, `error` at most off: the nearest run of nines
    (-999, 9999999, the usual codes) or integer within that error, else the value itself when the
    error is under a millionth of it (data.clean.missing_codes matches to a millionth), else None:
    too blurred to name."""
    digits = len(str(int(abs(value)))) if abs(value) >= 1 else 1
    for nines in (math.copysign(10 ** digits - 1, value), math.copysign(10 ** (digits - 1) - 1, value)):
        if nines and abs(value - nines) <= max(error, 1e-6 * abs(nines)):
            return float(nines)
    if abs(value - round(value)) <= error:
        return float(round(value))
    return float(f"{value:.7g}") if error <= 1e-6 * abs(value) else None


def spellings(cfg_data, prepared) -> list[list[str]]:
    """With data.clean.normalize_categories off: the groups of class labels that are one value written
    apart by case or spaces ('LL', 'll', ' LL'). Only where the default folds them (tables and texts:
    sequence labels and image folders are read as they are, whatever the setting)."""
    spec = prepared.spec
    if cfg_data.clean.normalize_categories or spec.kind not in ("tabular", "text") or not spec.classes:
        return []
    groups: dict[str, list[str]] = {}
    for v in spec.classes:
        if isinstance(v, str):
            groups.setdefault(v.strip().lower(), []).append(v)
    return [g for g in groups.values() if len(g) > 1]


def _raw_scales(prepared) -> dict:
    """{numeric column: (center, scale, impute value)}: its scaling, to read a prepared value back
    in the data's own units, and what fills its missing cells."""
    states = (prepared.state or {}).get("features") or []
    return {st["column"]: (st["center"], st["scale"], st.get("impute")) for st in states if st.get("kind") == "numeric"}


def extreme_features(x, names: list[str], raw_scales: dict | None = None, limit: int = 5) -> list[dict]:
    """Features where a few values (0.1% to 10% of the rows) sit more than EXTREME_MADS median
    absolute deviations from the median: a sentinel or a unit error, which then sets the feature's
    scale and squeezes every real value into a sliver. Features with under 20 distinct values
    (flags, one-hot columns, counts) or a MAD of 0 are left alone. When every far value of a
    feature is one and the same number, it is a missing-value code, and `code` gives it in the
    data's units (from raw_scales: {column: (center, scale, impute value)}); when that number is the
    imputation's fill value, `fill` gives it instead."""
    flat = np.asarray(x).reshape(len(x), -1)
    if not len(flat):
        return []
    if len(flat) > 50_000:  # 0.1% of 50,000 rows is still 50 of them: a sample says the same
        flat = flat[np.random.default_rng(0).choice(len(flat), 50_000, replace=False)]
    flat = flat.astype(np.float64)
    out = []
    with np.errstate(invalid="ignore"):
        med = np.nanmedian(flat, axis=0)
        mad = np.nanmedian(np.abs(flat - med), axis=0)
    for j in range(flat.shape[1]):
        col, m = flat[:, j], mad[j]
        if not np.isfinite(m) or m <= 0:
            continue
        far = np.abs(col - med[j]) > EXTREME_MADS * m
        share = float(np.mean(far))
        if not 0.001 <= share <= 0.1 or len(np.unique(col[np.isfinite(col)])) < 20:
            continue
        name = names[j] if j < len(names) else f"column {j}"
        found = {"feature": name, "share": round(share, 4), "mads": float(f"{np.nanmax(np.abs(col - med[j])) / m:.3g}")}
        far_values = np.unique(col[far])
        if len(far_values) == 1 and raw_scales and name in raw_scales:
            center, scale, fill = raw_scales[name]
            scaled = float(far_values[0])
            value = scaled * scale + center
            # float32 features hold the scaled value to 2^-24 of itself; read back, the error grows
            # with the centre too (a -999 code in a column near 2e6 came back as -998.94).
            error = 4 * 2.0 ** -24 * (abs(center) + abs(scaled * scale))
            if fill is not None and abs(value - fill) <= error + 1e-6 * abs(fill):
                found["fill"] = fill   # the imputation's own constant (impute_value), not a code in the data
            else:
                code = _code(value, error)
                if code is not None:
                    found["code"] = code
        out.append(found)
    return sorted(out, key=lambda f: -f["mads"])[:limit]


# A numeric column that is a code (store 101, 102, ...) rather than a measurement:
# - its levels set the target apart: the adjusted share of the target's variance between them
#   (epsilon squared) is 0.15 or more, and 5x or more what a straight line in the number explains;
# - neighbouring codes have unrelated effects: the levels' target means, in code order, correlate
#   under 0.5 with their neighbours', where a measurement's effect changes smoothly (0.79-0.96 for an
#   age with a wavy effect, in the tests).
# Store IDs 101-140 with an effect each (eighth held-out set), seeds 0-2: epsilon squared 0.36-0.40,
# a line 0.0004-0.0014, neighbours -0.07 to -0.10. Chance moves the last two: 40 random effects'
# neighbours spread by about 0.16, and one training split of a synthetic store set read a line at
# 0.033 and neighbours at 0.34. Digits' pixels (17 intensity levels, whole numbers too) reach 0.45
# with a line at 0.22 (2x), or 100x a line at only 0.06 (an imbalanced digits set), with neighbours
# down to -0.07: hence the limits together.
CODE_MIN_LEVELS, CODE_ROWS_PER_LEVEL = 3, 5
def split_twins(prepared, data_cfg=None) -> dict | None:
    """Validation rows whose inputs and target equal a training row's, in a table with a column of
    measurements (50 distinct values or more), where exact repeats are copies of one record, not
    two records that happen to agree. With a data.val file, also its name and data.split's
    fractions (val_file, split)."""
    train, val = prepared.train, prepared.val
    if val is None or not len(val.x) or not len(train.x):
        return None
    def keys(split):
        x = np.ascontiguousarray(np.asarray(split.x, dtype=np.float32).reshape(len(split.x), -1))
        y = np.asarray(split.y).reshape(len(split.y), -1).astype(np.float64)
        return [a.tobytes() + b.tobytes() for a, b in zip(x, y)]

    seen = set(keys(train))
    twins = sum(k in seen for k in keys(val))
    if twins < 5 or twins < 0.1 * len(val.x):
        return None  # under what the rules act on: spare the count of measurement columns below
    tx = np.ascontiguousarray(np.asarray(train.x, dtype=np.float32).reshape(len(train.x), -1))
    continuous = int(sum(len(np.unique(tx[:, j])) >= 50 for j in range(tx.shape[1])))
    if not continuous:
        return None
    out = {"val_rows": len(val.x), "with_training_twin": twins, "share": round(twins / len(val.x), 4),
           "measurement_columns": continuous}
    if data_cfg is not None and data_cfg.val is not None:
        out.update(val_file=Path(str(data_cfg.val)).name,
                   split={"train": data_cfg.split.train, "val": data_cfg.split.val, "test": data_cfg.split.test})
    return out


def text_cut(report: dict) -> dict | None:
    """How much of the training texts data.text.max_len keeps (data report's text counts)."""
    text, rows = report.get("text") or {}, (report.get("rows") or {}).get("train") or 0
    if not rows or "kept_share" not in text:
        return None
    return {"max_len": text["max_len"], "truncated": text["truncated"].get("train", 0), "rows": rows,
            "kept_share": text["kept_share"].get("train", 1.0), "length_p99": text["length_p99"].get("train", 0)}


def _with_cut_signal(cfg, prepared, cut: dict | None) -> dict | None:
    """Where data.text.max_len cuts most training texts but keeps most of their tokens, what the cut
    costs, measured: the linear bag-of-words yardstick on the texts as cut, and again with max_len at
    the 99th percentile of their lengths. A text's beginning can be all boilerplate (a log line's
    timestamp, host and pid), and then most of the tokens kept say nothing."""
    if not cut or cut["truncated"] < 0.5 * cut["rows"] or cut["kept_share"] < 0.5 or cut["length_p99"] <= cut["max_len"]:
        return cut
    from ..data import prepare
    from .baseline import MAX_ROWS, linear_baseline, verdict

    try:
        as_cut = linear_baseline(prepared)
        # what is kept already tells the classes apart; or nothing to compare with (no validation
        # split, one class, a regression)
        if not as_cut or "val_loss" not in as_cut or verdict(as_cut) == "signal":
            return cut
        # the whole texts, as long as the fix would make them, on a sample of the training rows
        length = min(cut["length_p99"], TEXT_LEN_CAP)
        share = cfg.data.train_fraction * min(1.0, MAX_ROWS / max(cut["rows"], 1))
        whole_cfg = cfg.data.model_copy(update={"text": cfg.data.text.model_copy(update={"max_len": length}),
                                                "train_fraction": share})
        whole = linear_baseline(prepare(whole_cfg, cfg.seed, cfg.model.type))
    except Exception:   # a yardstick that fails says nothing
        return cut
    return {**cut, "baseline_as_cut": as_cut, "baseline_whole": whole} if as_cut and whole else cut


# Other text columns of the file tried, at most, where data.text.column says nothing.
TEXT_COLUMNS_TRIED = 4


def other_text_signal(cfg, prepared) -> dict | None:
    """Where the linear bag-of-words yardstick finds nothing in data.text.column's texts: the other
    text column of the file (up to TEXT_COLUMNS_TRIED, on a sample of the training rows) in whose
    words it finds the most signal, {"column", "as_is", "other": {"column", "baseline"}}; else None.
    A helpdesk classifier read the tickets' subjects, twelve generic lines ('support request', 're:
    case 48213') the same for every department, where the bodies said it: 0.258 against 1.000
    (eleventh held-out set)."""
    others = prepared.report.get("other_text_columns") or []
    if not others or not prepared.spec.classes:
        return None
    from ..data import prepare
    from .baseline import MAX_ROWS, cached_baseline, linear_baseline, verdict

    as_is = cached_baseline(prepared)
    if verdict(as_is) != "nothing":
        return None
    rows = len(prepared.train.y)
    share = cfg.data.train_fraction * min(1.0, MAX_ROWS / max(rows, 1))
    best = None
    for column in others[:TEXT_COLUMNS_TRIED]:
        try:
            other = linear_baseline(prepare(cfg.data.model_copy(update={
                "text": cfg.data.text.model_copy(update={"column": column}), "train_fraction": share}),
                cfg.seed, cfg.model.type))
        except Exception:   # a column that cannot be read as text says nothing
            continue
        if verdict(other) == "signal" and (best is None or other["val_loss"] / other["chance_loss"]
                                           < best["baseline"]["val_loss"] / best["baseline"]["chance_loss"]):
            best = {"column": column, "baseline": other}
    return {"column": cfg.data.text.column, "as_is": as_is, "other": best} if best else None


# A column imputed in this share of its training rows or more, of whole non-negative numbers that
# never include 0: a count or flag from an export that writes only what is not zero (late payments,
# chargebacks, a dispute flag: 83-93% blank, filled with medians of 3, 2 and 1; 0.78 against 0.89
# with the blanks read as 0; tenth held-out set). A measurement rarely misses half its values, and
# one that counts things usually has zeros of its own.
BLANK_ZERO_SHARE = 0.5
BLANK_ZERO_MAX = 50


def blank_zeros(prepared) -> dict | None:
    """Numeric columns mostly filled in by imputation whose written values are counts without a 0,
    and every other imputed column (a fill of 0 for all would not suit those)."""
    filled = ((prepared.report.get("imputed") or {}).get("train") or {})
    if not filled:
        return None
    rows, hits, others = len(prepared.train.x), [], []
    for st, _, raw in _numeric_columns(prepared):
        n = int(filled.get(st["column"]) or 0)
        if not n:
            continue
        whole = np.all(np.abs(raw - np.round(raw)) <= 1e-4 * max(1.0, float(np.abs(raw).max())))
        # Counts and flags are small numbers; years, codes and IDs are whole too, and 0 is no value of theirs.
        if n >= BLANK_ZERO_SHARE * rows and whole and raw.min() > 0.5 and raw.max() <= BLANK_ZERO_MAX:
            hits.append({"column": st["column"], "filled": n, "fill": float(f"{st['impute']:.4g}")
                         if isinstance(st.get("impute"), (int, float)) else st.get("impute")})
        else:
            others.append(st["column"])
    return {"columns": hits, "rows": rows, "other_imputed": others} if hits else None


# A value a separate file holds in every row, where the training rows hold it this rarely or less
# likely: by chance alone (training share ** rows) under one in a million.
SKEW_CHANCE = 1e-6
SKEW_SHARE = 0.9


def skewed_columns(prepared) -> list[dict]:
    """Numeric input columns that vary in training but hold one value in every row of a separate
    validation or test file (data.val, data.test), where chance cannot explain it: the file was
    made at another moment than the training rows (a flag set after the outcome, 0 for everyone at
    prediction time). Or the other way round (constant_in: training): one value in every training
    row and others in a tenth or more of such a file's rows."""
    train, train_units = {}, {}
    for st, cells, in_units in _numeric_columns(prepared):
        train[st["column"]], train_units[st["column"]] = cells, in_units
    out = []
    for role in ("val", "test"):
        split = getattr(prepared, role)
        if split is None or len(split.x) < 20:
            continue
        separate = bool(prepared.report.get(f"{role}_source"))
        for st, here, in_units in _numeric_columns(prepared, role):
            col = train[st["column"]]
            if not (np.isfinite(here).all() and np.isfinite(col).all()):
                continue
            if separate and np.ptp(col) == 0 and len(col) >= 20 and st["column"] not in [o["column"] for o in out]:
                # The other way round: one value in every training row, others in a tenth or more of
                # the file's (a logger installed after the training rows were recorded: 0 in all
                # 1400 training rows, real readings in the test file; 0.62 against 0.79 without the
                # column; eleventh held-out set). Its weights never train, and the new values drive
                # the output wherever they happen to point.
                other = float((~np.isclose(here, col[0], rtol=1e-6, atol=1e-9)).mean())
                if other >= 1 - SKEW_SHARE:  # a tenth of the rows, as the other direction
                    value = float(train_units[st["column"]][0])
                    value = 0.0 if abs(value) < 1e-6 * (st.get("scale") or 1.0) else value
                    out.append({"column": st["column"], "file": role, "rows": len(here), "constant_in": "training",
                                "value": float(f"{value:.6g}"), "other_share": round(other, 4)})
                continue
            if not separate or np.ptp(here) > 0 or np.ptp(col) == 0:
                continue
            share = float(np.isclose(col, here[0], rtol=1e-6, atol=1e-9).mean())
            chance = share ** len(here)
            # And a value a tenth of the training rows lack at least: a rare flag (a holiday, 2%)
            # absent from a later month's file is the calendar, not a leak.
            if chance < SKEW_CHANCE and share <= SKEW_SHARE and st["column"] not in [o["column"] for o in out]:
                value = float(in_units[0])
                value = 0.0 if abs(value) < 1e-6 * (st.get("scale") or 1.0) else value  # float32's read-back
                out.append({"column": st["column"], "file": role, "rows": len(here), "constant_in": role,
                            "value": float(f"{value:.6g}"), "training_share": round(share, 4)})
    return out


# One column of a separate validation or test file distributed unlike its training cells (a
# two-sample Kolmogorov-Smirnov distance of 0.3 or more, and twice what chance reaches) while the
# file's other columns match theirs (median distance within chance's: the 1% critical value,
# 1.63 sqrt(1/n + 1/m); over 3 others at least): the file comes from the same kind of source, and
# that column records where or when, not what (a lithology classifier's depth: the test well sits
# 700 m deeper, distance 0.34 against 0.02-0.04 for the six logs and a critical value of 0.07;
# 0.46 against 0.84 with depth left out; twelfth held-out set).
SHIFT_KS, SHIFT_CRITICAL = 0.3, 1.63


def shifted_columns(prepared) -> list[dict]:
    """Numeric input columns of a table whose cells in a separate validation or test file
    (data.val, data.test) are distributed unlike the training ones while the file's other numeric
    columns match theirs (SHIFT_KS, SHIFT_CRITICAL). For classes, within each class with 50 rows on
    both sides, and the smallest distance counts: a file whose class shares differ (or training rows
    over- or undersampled) moves the best predictor's distribution as a whole, not within a class."""
    memo = vars(prepared).setdefault("_shifted_columns", {})  # build_context runs 2-3 times a run
    if id(prepared.train) not in memo:
        memo[id(prepared.train)] = _shifted_columns(prepared)
    return memo[id(prepared.train)]


def _shifted_columns(prepared) -> list[dict]:
    from scipy.stats import ks_2samp

    if ((prepared.report.get("imbalance") or {}).get("method")) == "oversample":
        return []   # copies of training rows: the distances and their chance levels would be off
    classes = bool(prepared.spec.classes)
    train_y = np.asarray(prepared.train.y).ravel()
    train = {st["column"]: cells for st, cells, _ in _numeric_columns(prepared)}
    out = []
    for role in ("val", "test"):
        split = getattr(prepared, role)
        if split is None or len(split.x) < 50 or not prepared.report.get(f"{role}_source"):
            continue
        file_y = np.asarray(split.y).ravel()
        groups = [(train_y == c, file_y == c) for c in np.unique(file_y)] if classes else \
            [(np.ones(len(train_y), bool), np.ones(len(file_y), bool))]
        groups = [(a, b) for a, b in groups if a.sum() >= 50 and b.sum() >= 50]
        if not groups:
            continue
        chance = max(SHIFT_CRITICAL * math.sqrt(1 / a.sum() + 1 / b.sum()) for a, b in groups)
        distance = {}
        for st, here, _ in _numeric_columns(prepared, role):
            col = train.get(st["column"])
            finite = col[np.isfinite(col)] if col is not None else np.empty(0)
            if not len(finite) or np.ptp(finite) == 0:
                continue
            ds = []
            for a, b in groups:
                x, y = col[a], here[b]
                x, y = x[np.isfinite(x)], y[np.isfinite(y)]
                if len(x) >= 50 and len(y) >= 50:
                    ds.append(float(ks_2samp(x, y).statistic))
            if len(ds) == len(groups):
                distance[st["column"]] = min(ds)
        for name, d in distance.items():
            others = [v for k, v in distance.items() if k != name]
            if d >= max(SHIFT_KS, 2 * chance) and len(others) >= 3 and float(np.median(others)) <= chance \
                    and name not in [o["column"] for o in out]:
                out.append({"column": name, "file": role, "rows": int(len(split.x)), "ks": round(d, 3),
                            "others_median_ks": round(float(np.median(others)), 3), "chance_ks": round(chance, 3),
                            "within_classes": classes})
    return out


# Nine in ten of the validation windows' last values outside what training saw: no seasonal swing
# does that (the series example's load and temperature: 1-2%), a counter that only grows does
# (a cumulative meter reading: 100%).
DRIFT_SHARE = 0.9


def drifted_inputs(prepared) -> list[dict]:
    """A forecaster's input series (not the target) whose values in the validation split (the test
    split where there is none) lie outside the training windows' range in DRIFT_SHARE of the windows
    or more: a series that drifts with time, such as a running total."""
    split = prepared.val if prepared.val is not None and len(prepared.val.x) else prepared.test
    x = np.asarray(prepared.train.x)
    if split is None or x.ndim != 3 or not len(x) or not len(split.x):
        return []
    later = np.asarray(split.x)
    out = []
    shares = {}
    for j, name in enumerate(prepared.spec.feature_names[:x.shape[2]]):
        lo, hi = float(np.nanmin(x[:, :, j])), float(np.nanmax(x[:, :, j]))
        last = later[:, -1, j]
        shares[name] = (float(((last < lo) | (last > hi)).mean()), lo, hi, last)
    if shares.get(prepared.spec.target, (0.0,))[0] >= 0.5:
        return []  # the target drifts too: an input that grows with it may be what forecasts it
    for name, (share, lo, hi, last) in shares.items():
        if name == prepared.spec.target:
            continue
        if share >= DRIFT_SHARE:
            out.append({"column": name, "outside_share": round(share, 4), "split": "val" if split is prepared.val
                        else "test", "train_range": [round(lo, 3), round(hi, 3)],
                        "later_range": [round(float(np.nanmin(last)), 3), round(float(np.nanmax(last)), 3)]})
    return out


def text_vocab(report: dict) -> dict | None:
    """The vocabulary against the words the training texts repeat (data report's text counts)."""
    text, rows = report.get("text") or {}, (report.get("rows") or {}).get("train") or 0
    if "repeated_words" not in text or not rows:
        return None
    rates = text.get("unknown_rate") or {}
    return {"min_freq": text["min_freq"], "vocab_size": text["vocab_size"], "vocab_limit": text.get("vocab_limit"),
            "repeated_words": text["repeated_words"], "repeated_dropped": text["repeated_dropped"],
            "unknown_rate": rates.get("train"), "rows": rows,
            # the splits read from their own files (data.val, data.test), against the split of the source
            "file_unknown_rate": {s: rates[s] for s in ("val", "test") if report.get(f"{s}_source") and s in rates},
            # a held-out split of the source only: the training texts built the vocabulary, so theirs is ~0
            "split_unknown_rate": next((rates[s] for s in ("val", "test")
                                        if s in rates and not report.get(f"{s}_source")), None)}


def clip_flattened(prepared) -> list[dict]:
    """Numeric columns whose clipping bounds (data.clean.clip_outliers, fitted on training rows)
    collapse to one value while the column held others: every cell becomes that value."""
    clipped = ((prepared.report.get("clipped") or {}).get("train") or {})
    out = []
    for st, _, _ in _numeric_columns(prepared):
        clip, n = st.get("clip"), int(clipped.get(st["column"]) or 0) if isinstance(clipped, dict) else 0
        if clip and n and clip[1] - clip[0] <= 1e-12 * max(abs(clip[0]), abs(clip[1]), 1.0):
            out.append({"column": st["column"], "bounds": [float(f"{clip[0]:.4g}"), float(f"{clip[1]:.4g}")],
                        "clipped": n})
    return out


def dedup_conflicts(prepared) -> dict | None:
    """After data.clean.drop_duplicates, how many distinct training inputs still appear with more
    than one label: where most rows were repeats and many inputs carry both labels, the repeats
    were respondents answering alike, and their counts were the majority the model should learn."""
    cleaning = prepared.report.get("cleaning") or {}
    dropped = int(cleaning.get("duplicates_dropped") or 0)
    loaded = int(prepared.report.get("rows_loaded") or prepared.report.get("rows_after_cleaning", 0) + dropped)
    if not dropped or dropped < 0.5 * loaded:
        return None
    x = np.ascontiguousarray(np.asarray(prepared.train.x, dtype=np.float32).reshape(len(prepared.train.x), -1))
    labels: dict[bytes, set] = {}
    for row, y in zip(x, np.asarray(prepared.train.y).tolist()):
        labels.setdefault(row.tobytes(), set()).add(y)
    conflicting = sum(len(v) > 1 for v in labels.values())
    return {"rows_loaded": loaded, "duplicates_dropped": dropped, "train_inputs": len(labels),
            "with_several_labels": conflicting, "share": round(conflicting / max(len(labels), 1), 4)}


def series_gaps(report: dict) -> dict | None:
    """data.series.missing: drop, and the rows it removed from the series (data report)."""
    if report.get("missing_method") != "drop":
        return None
    loaded = int(report.get("rows_loaded") or 0)
    kept = sum((report.get("series_rows") or {}).values())
    return {"rows_loaded": loaded, "dropped": loaded - kept, "share": round((loaded - kept) / loaded, 4)} \
        if loaded and kept < loaded else None


def schedule_collapse(cfg) -> dict | None:
    """The first epoch at whose start a step, multistep or exponential schedule has the rate under
    1% of its start, when that comes before half of the planned epochs (runs of 8 epochs or more)."""
    sc, epochs = cfg.schedule, cfg.training.epochs
    if sc.name not in ("step", "multistep", "exponential") or epochs < 8:
        return None
    from ..training.optim import Schedule

    spe = 10  # a warmup of a fraction of an epoch still lands on a step
    schedule = Schedule(sc, steps_per_epoch=spe, epochs=epochs, base_lr=cfg.optimizer.lr)
    for epoch in range(epochs):
        if epoch * spe < schedule.warmup:  # the warmup's small start is the point of it, no collapse
            continue
        factor = schedule.factor(epoch * spe)
        if factor < 0.01:
            return {"epoch": epoch + 1, "epochs": epochs, "factor": factor} if epoch < 0.5 * epochs else None
    return None



# A cosine schedule whose floor takes the rate to this many times optimizer.lr or more: it rises
# over the run instead of decaying (Keras' CosineDecay alpha, a fraction of the rate, written into
# schedule.min_lr, an absolute rate: 0.05 under a GRU's 0.005 took it tenfold, and the run came
# apart in its second half, 0.760 against 0.973; twenty-sixth held-out set).
RISE_FACTOR = 2.0


def schedule_rise(cfg) -> dict | None:
    """Where a cosine schedule's floor (schedule.min_lr) lies RISE_FACTOR times above optimizer.lr or
    more: the schedule then goes up from the rate to the floor over the run."""
    sc, lr = cfg.schedule, cfg.optimizer.lr
    if sc.name != "cosine" or not lr or sc.min_lr < RISE_FACTOR * lr:
        return None
    return {"min_lr": sc.min_lr, "lr": lr, "peak_factor": round(sc.min_lr / lr, 3)}


# A sequence of at most AXES_STEPS steps with AXES_WIDTH times as many features: an RNN over 2
# steps of 60 numbers is what (N, channels, steps) read as (N, steps, features) looks like.
AXES_STEPS, AXES_WIDTH = 4, 8


def _neighbour_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Median over columns of the correlation between a[:, k] and b[:, k] (constant columns skipped)."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    den = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    ok = den > 0
    return float(np.median((a * b).sum(axis=0)[ok] / den[ok])) if ok.any() else 0.0


def sequence_axes(x: np.ndarray) -> dict | None:
    """For sequences (N, T, F) with few steps and many features: how much neighbouring features move
    together (pooled over rows and steps) against how much a feature moves with itself one step
    later. Time steps read as features show the first high and the second low; None otherwise."""
    if x.ndim != 3 or len(x) < 20:
        return None
    n, steps, features = x.shape
    if steps > AXES_STEPS or features < AXES_WIDTH * steps:
        return None
    x = np.nan_to_num(np.asarray(x[:2000], dtype=np.float64))
    flat = x.reshape(-1, features)
    across = _neighbour_correlation(flat[:, :-1], flat[:, 1:])
    along = float(np.median([_neighbour_correlation(x[:, t, :], x[:, t + 1, :]) for t in range(steps - 1)])) \
        if steps > 1 else None
    return {"steps": steps, "features": features, "neighbour_features": round(across, 3),
            "next_step": None if along is None else round(along, 3)}


# Where along a sequence the classes differ: each tenth of the steps summarised (mean, spread and
# mean size per feature) and read by a class-mean classifier fitted on half the rows (a seeded
# shuffle of them), as a share of the way from chance to perfect. A tenth counts at 0.1 and at a
# third of the best tenth, and when its accuracy is 3 standard errors of a coin's over chance on
# the held-out rows: pure noise in 3 classes over 60-300 rows put a tenth past 0.1 in a quarter of
# draws (the review of this check). Measured: examples/data/sequences.npz 0.17-0.28 in every tenth;
# knocks whose class is a transient in the first 12 of 100 steps 0.36 in the first tenth and
# -0.06-0.04 in the nine others.
CUE_WINDOWS, CUE_FLOOR, CUE_ERRORS = 10, 0.1, 3.0


def cue_profile(prepared, rows: int = 2000) -> dict | None:
    """Sequences (N, T, F) of a classifier: how well each tenth of the steps tells the classes
    apart, and how many steps follow the last tenth that does (`after_cue`). Measured once per
    prepared data, a tenth at a time."""
    memo = vars(prepared).setdefault("_cue_profile", {})
    if id(prepared.train) not in memo:
        memo[id(prepared.train)] = _cue_profile(prepared.train.x, np.asarray(prepared.train.y).ravel(), rows)
    return memo[id(prepared.train)]


def _cue_profile(x, y, rows: int) -> dict | None:
    if x.ndim != 3 or x.shape[1] < CUE_WINDOWS or len(x) < 40:
        return None
    pick = np.random.default_rng(0).permutation(len(x))[:rows]
    y = y[pick]
    half = len(y) // 2
    classes = np.unique(y)
    if len(classes) < 2 or any(not (y[:half] == c).any() for c in classes):
        return None
    chance = 1 / len(classes)
    # accuracy a coin-like guesser reaches by luck on these held-out rows, as a gain
    luck = CUE_ERRORS * np.sqrt(chance * (1 - chance) / (len(y) - half)) / (1 - chance)
    steps = x.shape[1]
    width = steps // CUE_WINDOWS
    gains = []
    for start in range(0, width * CUE_WINDOWS, width):
        seg = np.nan_to_num(np.asarray(x[pick, start:start + width], dtype=np.float64))
        f = np.concatenate([seg.mean(1), seg.std(1), np.abs(seg).mean(1)], 1)
        f = (f - f[:half].mean(0)) / (f[:half].std(0) + 1e-9)
        means = np.stack([f[:half][y[:half] == c].mean(0) for c in classes])
        rest = f[half:]
        far = (rest ** 2).sum(1)[:, None] - 2 * rest @ means.T + (means ** 2).sum(1)[None]
        accuracy = float((classes[far.argmin(1)] == y[half:]).mean())
        gains.append(round((accuracy - chance) / (1 - chance), 3))
    best = max(gains)
    cued = [i for i, g in enumerate(gains) if g >= max(CUE_FLOOR, best / 3, luck)]
    if not cued:
        return None
    return {"steps": steps, "window": width, "gains": gains, "last_cue_step": (cued[-1] + 1) * width,
            "after_cue": steps - (cued[-1] + 1) * width, "luck": round(float(luck), 3)}


def sequence_shapes(prepared, rows: int = 2000) -> dict | None:
    """Sequences (N, T, F) of a classifier: how well a logistic regression on the steps as given
    (each step of each feature its own input, as an MLP reads them) and one on what does not move
    when a sequence shifts in time (each feature's power spectrum in 16 bands, mean, spread and mean
    size) tell the classes apart on held-out rows, each as a share of the way from chance to
    perfect. Measured once per prepared data."""
    memo = vars(prepared).setdefault("_sequence_shapes", {})
    if id(prepared.train) in memo:
        return memo[id(prepared.train)]
    import warnings

    from sklearn.linear_model import LogisticRegression

    x, y = prepared.train.x, np.asarray(prepared.train.y).ravel()
    out = None
    if x.ndim == 3 and len(x) >= 40 and x.shape[1] >= 8:
        x = np.nan_to_num(np.asarray(x[:rows], dtype=np.float64))
        order = np.random.default_rng(0).permutation(len(x))
        x, y = x[order], y[:rows][order]
        half = len(y) // 2
        classes = np.unique(y)
        if len(classes) >= 2 and all((y[:half] == c).any() for c in classes):
            power = np.abs(np.fft.rfft(x - x.mean(1, keepdims=True), axis=1)) ** 2
            edges = np.linspace(0, power.shape[1], min(16, power.shape[1]) + 1).astype(int)
            bands = np.stack([power[:, a:b].mean(1) for a, b in zip(edges[:-1], edges[1:])], 1)
            moved = np.concatenate([np.log1p(bands).reshape(len(x), -1), x.mean(1), x.std(1), np.abs(x).mean(1)], 1)

            def gain(f):
                f = (f - f[:half].mean(0)) / (f[:half].std(0) + 1e-9)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # an unconverged fit still ranks the classes
                    model = LogisticRegression(max_iter=300).fit(f[:half], y[:half])
                accuracy = float((model.predict(f[half:]) == y[half:]).mean())
                return round((accuracy - 1 / len(classes)) / (1 - 1 / len(classes)), 3)

            out = {"steps_gain": gain(x.reshape(len(x), -1)), "shapes_gain": gain(moved), "steps": int(x.shape[1]),
                   "features": int(x.shape[2])}
    memo[id(prepared.train)] = out
    return out


CODE_EPSILON, CODE_OVER_LINE, CODE_SMOOTH = 0.15, 5.0, 0.5


def code_columns(prepared) -> list[dict]:
    """Integer-valued numeric input columns of a table that behave as codes: [{column, levels,
    epsilon2, line_r2, neighbours}]."""
    if len(prepared.train.y) < 50:
        return []
    y = np.asarray(prepared.train.y)
    if prepared.spec.classes:
        k = len(prepared.spec.classes)
        t = np.eye(k)[y.astype(np.int64).ravel()]
        t = t[:, 1:] if k == 2 else t
    else:
        t = y.reshape(len(y), -1).astype(np.float64)
    # Each distinct row once, its target included: data.imbalance oversample repeats the rare rows,
    # and a code's levels then explain the repeated rows' targets perfectly (a firewall's packet
    # count, 509 values, read 0.72 where the rows as drawn read far less; fifteenth held-out set).
    # Rows that share their features but not their target are different observations and stay.
    x = np.asarray(prepared.train.x)
    both = np.concatenate([x.reshape(len(x), -1).astype(np.float64), t], axis=1)
    rows = np.sort(np.unique(np.ascontiguousarray(both), axis=0, return_index=True)[1])
    t = t[rows]
    out = []
    for st, cells, raw in _numeric_columns(prepared):
        cells, raw = cells[rows], raw[rows]
        ok = np.isfinite(raw)
        # a float32 cell holds its scaled value to ~6e-8 of itself: read back in raw units that is
        # 1e-7 x scale x |cell| at most (a sentinel's huge scale must not make 0.3 a whole number)
        found = _as_code(raw[ok], t[ok], 1e-3 + 1e-7 * (st.get("scale") or 1.0) * np.abs(cells[ok]))
        if found:
            out.append({"column": st["column"], **found})
    return out


def _as_code(v: np.ndarray, t: np.ndarray, tolerance=1e-3) -> dict | None:
    if not len(v) or np.any(np.abs(v - np.round(v)) > tolerance):
        return None
    v = np.round(v)
    levels, index, counts = np.unique(v, return_inverse=True, return_counts=True)
    n, k = len(v), len(levels)
    if k < CODE_MIN_LEVELS or n < CODE_ROWS_PER_LEVEL * k:
        return None
    sums = np.zeros((k, t.shape[1]))
    np.add.at(sums, index, t)
    means = sums / counts[:, None]
    grand = t.mean(axis=0)
    sst = float(((t - grand) ** 2).sum())
    if sst <= 0:
        return None
    ssb = float((counts[:, None] * (means - grand) ** 2).sum())
    msw = (sst - ssb) / max(n - k, 1)
    epsilon2 = (ssb - (k - 1) * msw) / sst
    vc = v - v.mean()
    if not np.any(vc):
        return None
    slope = (vc @ (t - grand)) / (vc @ vc)
    line = float(((vc[:, None] * slope) ** 2).sum()) / sst
    spread = ((means - grand) ** 2).sum(axis=0)
    a, b = means[:-1] - means[:-1].mean(axis=0), means[1:] - means[1:].mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    corr = np.where(denom > 0, (a * b).sum(axis=0) / np.where(denom > 0, denom, 1.0), 0.0)
    neighbours = float((corr * spread).sum() / spread.sum()) if spread.sum() > 0 else 0.0
    if epsilon2 < CODE_EPSILON or epsilon2 < CODE_OVER_LINE * line or neighbours >= CODE_SMOOTH:
        return None
    return {"levels": int(k), "epsilon2": round(epsilon2, 4), "line_r2": round(line, 4),
            "neighbours": round(neighbours, 3)}
