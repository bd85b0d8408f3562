"""The facts about a run that the rules need and that do not change while it trains."""

from __future__ import annotations

import numpy as np

from .rules import Context


def build_context(cfg, prepared, plan: dict) -> Context:
    spec = prepared.spec
    x = prepared.train.x
    shares = None
    if spec.classes:
        counts = np.bincount(np.asarray(prepared.train.y, dtype=np.int64), minlength=len(spec.classes))
        shares = (counts / max(counts.sum(), 1)).tolist()
    nonfinite, rms, names = 0, [], []
    if x.dtype.kind == "f":
        finite = np.isfinite(x)
        nonfinite = int(x.size - finite.sum())
        flat = x.reshape(len(x), -1) if spec.kind == "tabular" else None
        if flat is not None and len(flat):
            with np.errstate(invalid="ignore"):
                rms = np.sqrt(np.nanmean(np.where(finite, flat, np.nan) ** 2, axis=0)).tolist()
            names = list(spec.feature_names)[:len(rms)]
    model = cfg.model
    return Context(
        task=spec.task, loss=plan["loss"], optimizer=cfg.optimizer.name, lr=cfg.optimizer.lr,
        momentum=cfg.optimizer.momentum if cfg.optimizer.name == "sgd" else 0.0,
        epochs=cfg.training.epochs, n_classes=len(spec.classes) if spec.classes else None, class_shares=shares,
        imbalance=cfg.data.imbalance, data_kind=spec.kind, scale=cfg.data.scale, impute=cfg.data.clean.impute,
        target_scaled=bool(getattr(cfg.data, "scale_target", True)),
        nonfinite_inputs=nonfinite, feature_rms=[float(v) for v in rms], feature_names=names,
        activation=getattr(model, "activation", None), dropout=getattr(model, "dropout", 0.0),
        weight_decay=cfg.optimizer.weight_decay, has_val=prepared.val is not None, model_type=model.type,
        early_stopping=cfg.training.early_stopping.enabled, restore_best=cfg.training.early_stopping.restore_best,
        schedule=cfg.schedule.name, huber_delta=cfg.loss.huber_delta)
