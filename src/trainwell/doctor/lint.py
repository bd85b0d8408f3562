"""Pre-flight lint: static checks on the config and the prepared data before the first step.

Each warning names the key, says what is odd in plain words and gives the fix as overrides.
None of them stops training: the config may be deliberate (the fault suite is full of them).
"""

from __future__ import annotations

import numpy as np

# Usual learning-rate ranges: outside them a run is almost always too slow or unstable.
# Adaptive methods normalise the step, so their useful range sits lower than plain SGD's.
LR_RANGE = {"sgd": (1e-4, 1.0), "rmsprop": (1e-5, 1e-2), "adagrad": (1e-4, 1.0)}
ADAPTIVE = (1e-5, 1e-2)


def lint(cfg, prepared, plan: dict) -> list[dict]:
    out: list[dict] = []

    def warn(key, message, fix=None):
        out.append({"key": key, "message": message, "fix": fix or {}})

    spec = prepared.spec
    lr = cfg.optimizer.lr
    lo, hi = LR_RANGE.get(cfg.optimizer.name, ADAPTIVE)
    if isinstance(lr, (int, float)) and not lo <= lr <= hi:
        good = hi / 10 if lr > hi else lo * 10
        warn("optimizer.lr", f"{lr:g} is outside the usual range for {cfg.optimizer.name} ({lo:g} to {hi:g}); "
             f"expect {'divergence' if lr > hi else 'very slow progress'}, or run trainwell find-lr",
             {"optimizer.lr": good})
    dropout = getattr(cfg.model, "dropout", 0.0) or 0.0
    if dropout > 0.5:
        warn("model.dropout", f"{dropout} drops most units on every step; above 0.5 a network usually underfits",
             {"model.dropout": 0.3})
    n_train = len(prepared.train.x)
    bs = cfg.training.batch_size
    if isinstance(bs, int) and bs > n_train:
        warn("training.batch_size", f"{bs} is larger than the {n_train} training rows; every step is a full batch "
             f"(say batch_size: full if that is meant)", {"training.batch_size": "full"})
    if cfg.training.early_stopping.enabled and prepared.val is None and cfg.model.type != "gan":
        warn("training.early_stopping", "early stopping is on but there is no validation split, so it watches "
             "nothing", {"data.split.val": 0.15, "data.split.train": round(cfg.data.split.train - 0.15, 4)})
    x = prepared.train.x
    if x.dtype.kind == "f" and cfg.data.clean.impute == "none" and not np.isfinite(x).all():
        warn("data.clean.impute", "the inputs hold NaN/inf and imputation is off; the first batch holding one "
             "turns every weight it touches into NaN", {"data.clean.impute": "median"})
    if spec.kind == "tabular" and cfg.data.scale == "none" and x.dtype.kind == "f" and len(x):
        with np.errstate(invalid="ignore"):
            rms = np.sqrt(np.nanmean(x.astype(np.float64) ** 2, axis=0))
        rms = rms[np.isfinite(rms) & (rms > 0)]
        if len(rms) and rms.max() > 20:
            warn("data.scale", f"scaling is off and some features are large (typical magnitude up to {rms.max():.3g}); "
                 f"gradients will be dominated by them", {"data.scale": "standardize"})
    act = getattr(cfg.model, "activation", None)
    depth = len(getattr(cfg.model, "hidden", []) or [])
    init = cfg.model.init.weight
    small_init = init.name in ("normal", "uniform") and (init.std if init.name == "normal" else init.a) < 0.05
    if act in ("sigmoid", "tanh") and depth >= 4 and (small_init or init.name in ("zeros", "constant")):
        warn("model.init.weight", f"{depth} {act} layers with {init.name} init this small shrink the gradient at "
             f"every layer; the first layers will barely learn (vanishing gradients)",
             {"model.init.weight": "xavier_uniform"})
    if act in ("sigmoid",) and depth >= 6 and not getattr(cfg.model, "batch_norm", False):
        warn("model.activation", f"{depth} sigmoid layers: sigmoid's slope is at most 0.25, so the gradient "
             f"shrinks at least 4x per layer", {"model.activation": "relu"})
    return out
