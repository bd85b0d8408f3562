"""One small function per problem. Each reads the history and the signals and returns a Finding
or None. A condition must hold over several epochs or checks before it fires, so noise alone
never does; every threshold says in a comment why it is where it is.

history: the epoch logs (train_loss, val_loss, train_accuracy, val_accuracy, lr, ...).
signals: {"records": [check dicts from signals.Signals], "nonfinite": dict | None}.
ctx:     Context, the facts about the run that do not change while it trains.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from .findings import Finding, Fix


@dataclass
class Context:
    task: str                       # binary | multiclass | regression
    loss: str                       # resolved loss name
    optimizer: str
    lr: float
    epochs: int                     # planned
    n_classes: int | None = None
    class_shares: list[float] | None = None   # training split
    imbalance: str = "none"
    data_kind: str = "tabular"
    scale: str = "standardize"
    impute: str = "median"
    nonfinite_inputs: int = 0       # NaN/inf cells in the training inputs as fed to the network
    feature_rms: list[float] = field(default_factory=list)   # per input feature, as fed
    feature_names: list[str] = field(default_factory=list)
    activation: str | None = None
    dropout: float = 0.0
    weight_decay: float = 0.0
    has_val: bool = True
    model_type: str = "mlp"
    early_stopping: bool = True
    restore_best: bool = True


# ----------------------------------------------------------------------------- helpers
def _vals(history: list[dict], key: str) -> list[float]:
    return [h[key] for h in history if isinstance(h.get(key), (int, float)) and math.isfinite(h[key])]


def chance_loss(ctx: Context) -> float | None:
    """The loss of a model that ignores its input and predicts the class shares (or the mean)."""
    if ctx.task == "regression":
        return 1.0 if ctx.loss == "mse" else None  # standardized target: predicting 0 gives mse 1
    if ctx.loss not in ("cross_entropy", "bce") or not ctx.class_shares:
        return None
    shares = [s for s in ctx.class_shares if s > 0]
    return -sum(s * math.log(s) for s in shares)


def _majority(ctx: Context) -> float | None:
    return max(ctx.class_shares) if ctx.class_shares else None


def _rel_improvement(values: list[float], span: int) -> float | None:
    """Relative drop of the loss over the last `span` epochs (0.1 = fell by 10%)."""
    if len(values) < span + 1 or values[-span - 1] == 0:
        return None
    return (values[-span - 1] - values[-1]) / abs(values[-span - 1])


def _median_ratio(records: list[dict], last: int = 8) -> float | None:
    ratios = [statistics.median(r["update_ratio"].values()) for r in records[-last:]
              if r.get("update_ratio") and all(math.isfinite(v) for v in r["update_ratio"].values())]
    return statistics.median(ratios) if ratios else None


def _lr_fix(ctx: Context, factor: float, reason: str) -> Fix:
    return Fix({"optimizer.lr": _round_lr(ctx.lr * factor)}, reason)


def _round_lr(lr: float) -> float:
    return float(f"{lr:.2g}")


# ----------------------------------------------------------------------------- data
def bad_input_data(history, signals, ctx: Context) -> Finding | None:
    if ctx.nonfinite_inputs <= 0:
        return None
    return Finding(
        "bad_input_data", "error", 0, 0, {"nonfinite_cells": ctx.nonfinite_inputs, "impute": ctx.impute},
        f"The training inputs hold {ctx.nonfinite_inputs} NaN or infinite values. One of them in a batch makes "
        f"the loss NaN and every weight it touches NaN after the update, so training cannot recover. "
        f"data.clean.impute is {ctx.impute!r}.",
        [Fix({"data.clean.impute": "median"}, "fill missing numbers with the training median before training")])


def unscaled_features(history, signals, ctx: Context) -> Finding | None:
    # A feature whose typical magnitude (root mean square) is 100x its neighbours' makes the loss
    # surface a narrow valley: one learning rate is too large for it and too small for the rest.
    # Judged on the inputs as the network sees them, so scaling that was done counts.
    if ctx.data_kind == "text" or not ctx.feature_rms:
        return None
    rms = [v for v in ctx.feature_rms if v > 0 and math.isfinite(v)]
    if len(rms) == 0:
        return None
    big = max(rms)
    typical = statistics.median(rms)
    # > 20: far outside the unit scale standardisation gives; ratio > 50: features disagree by
    # orders of magnitude. Both must hold, so uniformly scaled pixels (0..16) do not fire alone.
    if big <= 20 or (len(rms) > 1 and big / max(typical, 1e-12) <= 50 and big <= 1000):
        return None
    worst = sorted(zip(ctx.feature_rms, ctx.feature_names), reverse=True)[:3]
    return Finding(
        "unscaled_features", "warning", 0, 0,
        {"largest_rms": round(big, 4), "median_rms": round(typical, 4), "limit": 20,
         "largest_features": [n for _, n in worst], "scale": ctx.scale},
        f"Input features are on very different scales (largest typical magnitude {big:.3g}, median "
        f"{typical:.3g}; worst: {', '.join(n for _, n in worst)}). Gradients are then dominated by the large "
        f"features and no single learning rate suits all weights. data.scale is {ctx.scale!r}.",
        [Fix({"data.scale": "standardize"}, "standardize every numeric feature (fitted on the training split)")])


def class_imbalance(history, signals, ctx: Context) -> Finding | None:
    if ctx.task == "regression" or not ctx.class_shares or ctx.imbalance != "none":
        return None
    shares = [s for s in ctx.class_shares if s > 0]
    ratio = max(shares) / min(shares)
    majority = max(shares)
    acc = _vals(history, "val_accuracy") or _vals(history, "train_accuracy")
    # Ratio 4: beyond 80/20 a model can score well by mostly answering the majority class.
    # It only fires when that is what happens: accuracy within 2 points of the majority share
    # for the last 3 epochs.
    if ratio < 4 or len(acc) < 3 or max(acc[-3:]) > majority + 0.02:
        return None
    onset = len(history) - 2
    return Finding(
        "class_imbalance", "warning", onset, None,
        {"imbalance_ratio": round(ratio, 2), "majority_share": round(majority, 4),
         "accuracy_last_3": [round(a, 4) for a in acc[-3:]], "limit_ratio": 4},
        f"One class makes up {majority:.0%} of the training rows (largest/smallest class {ratio:.1f}:1) and "
        f"accuracy stays at {acc[-1]:.1%}, about what always answering the majority class gives. The loss is "
        f"dominated by the majority class, so the others are ignored.",
        [Fix({"data.imbalance": "class_weights"}, "weigh each class's loss by its inverse frequency"),
         Fix({"data.imbalance": "oversample"}, "repeat minority-class rows in training until classes are even")])


# ----------------------------------------------------------------------------- divergence
def diverged(history, signals, ctx: Context) -> Finding | None:
    nf = signals.get("nonfinite")
    losses = _vals(history, "train_loss")
    exploded = None
    # 100x the first epoch's loss: no healthy run climbs that far; it is a blow-up in progress.
    if len(losses) >= 2 and losses[0] > 0 and max(losses[1:]) > 100 * losses[0]:
        exploded = next(i + 2 for i, v in enumerate(losses[1:]) if v > 100 * losses[0])
    if nf is None and exploded is None and not any(not math.isfinite(h.get("train_loss", 0.0)) for h in history):
        return None
    epoch = nf["epoch"] if nf else exploded or len(history)
    evidence = {"lr": ctx.lr, "optimizer": ctx.optimizer}
    if nf:
        evidence.update(step=nf["step"], loss=str(nf["loss"]), first_nonfinite_grad=nf["first_nonfinite_grad"],
                        first_nonfinite_weight=nf["first_nonfinite_weight"])
    if exploded:
        evidence.update(first_epoch_loss=losses[0], max_loss=max(losses), limit="100x the first epoch")
    # Attribute the cause in order: bad inputs, then the first layer that broke, then the lr.
    if ctx.nonfinite_inputs > 0:
        why = (f"The loss became non-finite because the inputs hold {ctx.nonfinite_inputs} NaN/inf values "
               f"(see bad_input_data).")
        fixes = [Fix({"data.clean.impute": "median"}, "impute the missing values")]
    else:
        layer = nf and (nf["first_nonfinite_grad"] or nf["first_nonfinite_weight"])
        where = f" The first layer to break was {layer}." if layer else ""
        why = (f"The loss {'became non-finite' if nf else 'exploded'} in epoch {epoch}.{where} With clean inputs "
               f"this is the learning rate ({ctx.lr:g} with {ctx.optimizer}) taking steps so large that the "
               f"weights overshoot and grow without bound.")
        fixes = [_lr_fix(ctx, 0.1, "a 10x smaller learning rate keeps the steps inside the basin"),
                 Fix({"regularization.clip_grad_norm": 1.0}, "cap the gradient norm so no single step can explode")]
    return Finding("diverged", "error", epoch, nf["step"] if nf else None, evidence, why, fixes)


def exploding_gradients(history, signals, ctx: Context) -> Finding | None:
    # The last 60 checks: enough history for a median, and the cost stays flat on long runs.
    records = [r for r in signals.get("records", []) if math.isfinite(r.get("grad_norm", math.nan))][-60:]
    if len(records) < 6:
        return None
    spikes = []
    for i in range(5, len(records)):
        base = statistics.median(r["grad_norm"] for r in records[:i])
        # 10x the running median: ordinary batch noise stays within ~3x; a blow-up grows without bound.
        if base > 0 and records[i]["grad_norm"] > 10 * base:
            spikes.append((i, records[i]["grad_norm"], base))
    huge = [r for r in records if r["grad_norm"] > 1e4]  # no sane scaled problem has gradient norms of 10^4
    # Three spikes: one can be an unlucky batch; three is a pattern.
    if len(spikes) < 3 and len(huge) < 2:
        return None
    first = records[spikes[0][0]] if spikes else huge[0]
    worst = max(r["grad_norm"] for r in records)
    return Finding(
        "exploding_gradients", "error", first["epoch"], first["step"],
        {"spikes_over_10x_median": len(spikes), "max_grad_norm": worst,
         "running_median_at_first_spike": spikes[0][2] if spikes else None, "checks": len(records)},
        f"The gradient norm jumped to more than 10x its running median {len(spikes)} times (largest {worst:.3g}). "
        f"Large gradients times the learning rate ({ctx.lr:g}) give steps that throw the weights far from "
        f"where they were, so the loss jumps instead of descending.",
        [Fix({"regularization.clip_grad_norm": 1.0}, "clip the global gradient norm to 1"),
         _lr_fix(ctx, 0.3, "smaller steps for the same gradients")])


# ----------------------------------------------------------------------------- learning rate
def lr_too_high(history, signals, ctx: Context) -> Finding | None:
    losses = _vals(history, "train_loss")
    if len(losses) < 4:
        return None
    chance = chance_loss(ctx)
    ratio = _median_ratio(signals.get("records", []))
    recent = losses[-4:]
    no_trend = recent[-1] > 0.97 * recent[0]  # < 3% progress over 3 epochs
    diffs = [b - a for a, b in zip(losses[-6:], losses[-5:])]
    flips = sum(1 for a, b in zip(diffs, diffs[1:]) if a * b < 0)
    oscillating = len(diffs) >= 4 and flips >= len(diffs) - 2  # the loss goes up and down, epoch after epoch
    # Above chance after 3 epochs: steps so large the model is worse than ignoring its input.
    above_chance = chance is not None and min(recent) > 1.1 * chance
    # 5% of each weight's size per step is huge: healthy runs move 0.01%-1% (Karpathy's 1e-3 rule).
    big_steps = ratio is not None and ratio > 0.05
    if not (no_trend and (above_chance or (oscillating and big_steps) or (big_steps and ratio > 0.2))):
        return None
    return Finding(
        "lr_too_high", "error" if above_chance else "warning", len(losses) - 3, None,
        {"train_loss_last_4": [round(v, 5) for v in recent], "chance_loss": chance,
         "median_update_ratio": ratio, "limit_update_ratio": 0.05, "direction_changes": flips, "lr": ctx.lr},
        f"The training loss does not go down (last 4 epochs: {', '.join(f'{v:.4g}' for v in recent)})"
        + (f" and stays above the {chance:.3g} a model ignoring its inputs would reach" if above_chance else "")
        + (f"; each step changes the weights by {ratio:.1%} of their size" if ratio is not None else "")
        + f". The learning rate ({ctx.lr:g}) is so large that steps overshoot the minimum.",
        [_lr_fix(ctx, 0.1, "a 10x smaller learning rate"),
         Fix({"schedule.name": "reduce_on_plateau", "optimizer.lr": _round_lr(ctx.lr * 0.3)},
             "start lower and cut the rate when progress stalls")])


def lr_too_low(history, signals, ctx: Context) -> Finding | None:
    losses = _vals(history, "train_loss")
    ratio = _median_ratio(signals.get("records", []))
    if len(losses) < 4 or ratio is None:
        return None
    chance = chance_loss(ctx)
    gain = _rel_improvement(losses, 3)
    # 1e-5 of the weight per step: at that pace a weight needs ~10^5 steps to change meaningfully.
    # And < 1% progress per epoch while the loss is still near its start: slow, not converged.
    still_high = (chance is None and losses[-1] > 0.5 * losses[0]) or (chance is not None and losses[-1] > 0.5 * chance)
    if not (ratio < 1e-5 and gain is not None and gain < 0.03 and still_high):
        return None
    factor = 100 if ratio < 1e-7 else 10
    return Finding(
        "lr_too_low", "warning", len(losses) - 3, None,
        {"median_update_ratio": ratio, "limit_update_ratio": 1e-5, "train_loss_gain_last_3_epochs": round(gain, 5),
         "train_loss": losses[-1], "chance_loss": chance, "lr": ctx.lr},
        f"Each step changes the weights by only {ratio:.1e} of their size and the training loss improved by "
        f"{gain:.2%} over the last 3 epochs while still high ({losses[-1]:.4g}). The learning rate ({ctx.lr:g}) "
        f"is too small to make progress in the epochs planned.",
        [_lr_fix(ctx, factor, f"a {factor}x larger learning rate")])


def plateau(history, signals, ctx: Context) -> Finding | None:
    key = "val_loss" if ctx.has_val else "train_loss"
    losses = _vals(history, key)
    span = 8  # eight epochs: longer than the default early-stopping patience would tolerate noise
    if len(losses) < span + 2:
        return None
    best_before = min(losses[:-span])
    best_recent = min(losses[-span:])
    chance = chance_loss(ctx)
    # No 0.5% improvement in 8 epochs, while still far from a fit (more than 30% of chance left).
    high = chance is not None and best_recent > 0.3 * chance
    if best_recent < best_before * 0.995 or not high:
        return None
    return Finding(
        "plateau", "info", len(losses) - span, None,
        {"metric": key, "best_before": best_before, "best_last_8": best_recent, "chance_loss": chance},
        f"{key} has not improved in {span} epochs (best {best_before:.4g}) and is still high. The optimizer "
        f"sits on a flat region: a lower rate can settle into a narrow valley, a schedule restarts progress.",
        [Fix({"schedule.name": "reduce_on_plateau"}, "halve the learning rate when validation loss stalls"),
         _lr_fix(ctx, 0.3, "a smaller learning rate for fine progress")])


def stuck_at_chance(history, signals, ctx: Context) -> Finding | None:
    chance = chance_loss(ctx)
    losses = _vals(history, "train_loss")
    if ctx.task == "regression" or chance is None or len(losses) < 3:
        return None
    acc = _vals(history, "train_accuracy")
    majority = _majority(ctx)
    # Within 3% of the chance loss for 3 epochs, and accuracy no better than the majority class.
    near = all(abs(v - chance) <= 0.03 * chance for v in losses[-3:])
    if not near or (acc and majority is not None and max(acc[-3:]) > majority + 0.02):
        return None
    ratio = _median_ratio(signals.get("records", []))
    if ratio is not None and ratio < 1e-5:
        fixes = [_lr_fix(ctx, 10, "the weights barely move: a larger learning rate")]
    else:
        fixes = [_lr_fix(ctx, 0.1, "a smaller learning rate, in case steps overshoot every time"),
                 _lr_fix(ctx, 10, "a larger one, in case they are too small to leave the start")]
    return Finding(
        "stuck_at_chance", "error", len(losses) - 2, None,
        {"train_loss_last_3": losses[-3:], "chance_loss": round(chance, 5), "majority_share": majority,
         "train_accuracy_last_3": acc[-3:], "median_update_ratio": ratio},
        f"The training loss stays at {losses[-1]:.4g}, the {chance:.4g} of a model that ignores its inputs and "
        f"predicts the class shares. The network has learned nothing: the signal is not getting through "
        f"(learning rate, dead or saturated units, or labels unrelated to the inputs).",
        fixes)


# ----------------------------------------------------------------------------- generalisation
def overfitting(history, signals, ctx: Context) -> Finding | None:
    val = [h.get("val_loss") for h in history]
    train = [h.get("train_loss") for h in history]
    if not ctx.has_val or len(history) < 5 or any(v is None or not math.isfinite(v) for v in val + train):
        return None
    best = min(range(len(val)), key=val.__getitem__)
    after = len(val) - 1 - best
    # Three epochs past the best with val loss 10% above it, while train loss fell another 10%:
    # the model is fitting noise in the training set, and the gap keeps growing. The rise must
    # also be worth 0.02 nats: near-zero losses (0.02 -> 0.023) move by noise alone.
    if after < 3 or val[-1] < 1.1 * val[best] or val[-1] - val[best] < 0.02 or train[-1] > 0.9 * train[best]:
        return None
    gap_then, gap_now = val[best] - train[best], val[-1] - train[-1]
    if gap_now <= gap_then:
        return None
    fixes = [Fix({"training.early_stopping.enabled": True, "training.early_stopping.restore_best": True},
                 f"stop at the best epoch ({best + 1}) and keep its weights"),
             Fix({"optimizer.weight_decay": max(ctx.weight_decay * 10, 1e-3)},
                 "penalise large weights (L2) so the model cannot memorise")]
    if ctx.dropout > 0:
        fixes.append(Fix({"model.dropout": round(min(0.5, ctx.dropout + 0.2), 2)}, "more dropout"))
    elif ctx.model_type in ("mlp", "cnn"):
        fixes.append(Fix({"model.dropout": 0.3}, "add dropout", architecture=True))
    handled = ctx.early_stopping and ctx.restore_best
    return Finding(
        "overfitting", "info" if handled else "warning", best + 1, None,
        {"best_epoch": best + 1, "best_val_loss": val[best], "val_loss_now": val[-1],
         "train_loss_at_best": train[best], "train_loss_now": train[-1], "gap_at_best": gap_then,
         "gap_now": gap_now, "limits": "val +10%, train -10%, 3 epochs"},
        f"Validation loss was best at epoch {best + 1} ({val[best]:.4g}) and has risen to {val[-1]:.4g} while "
        f"training loss kept falling ({train[best]:.4g} -> {train[-1]:.4g}). The model is memorising the "
        f"training rows instead of learning what generalises."
        + (" Early stopping keeps the best epoch's weights, so the final model is not affected." if handled else ""),
        fixes[1:] if handled else fixes)


def underfitting(history, signals, ctx: Context) -> Finding | None:
    train, val = _vals(history, "train_loss"), _vals(history, "val_loss")
    chance = chance_loss(ctx)
    if chance is None or len(train) < 10 or not val:
        return None
    gain = _rel_improvement(train, 5)
    ratio = _median_ratio(signals.get("records", []))
    # Half the chance loss still left, train and val within 10% of each other, and less than 2%
    # progress in 5 epochs: the model cannot represent the pattern, it is not just slow.
    if train[-1] < 0.5 * chance or abs(val[-1] - train[-1]) > 0.1 * train[-1] or gain is None or gain > 0.02:
        return None
    if ratio is not None and ratio < 1e-5:
        return None  # tiny steps: that is lr_too_low, not a small model
    fixes = [Fix({"training.epochs": ctx.epochs * 2}, "train longer"),
             _lr_fix(ctx, 3, "a larger learning rate")]
    if ctx.model_type == "mlp":
        fixes.insert(0, Fix({"model.hidden": [128, 64]}, "a larger network", architecture=True))
    return Finding(
        "underfitting", "warning", len(train) - 5, None,
        {"train_loss": train[-1], "val_loss": val[-1], "chance_loss": chance, "limit": "0.5 x chance",
         "train_loss_gain_last_5_epochs": gain},
        f"Training loss stalls at {train[-1]:.4g}, more than half the {chance:.4g} of a model ignoring its "
        f"inputs, and validation loss is just as high ({val[-1]:.4g}). The model is too small or too "
        f"constrained to fit the training data.",
        fixes)


# ----------------------------------------------------------------------------- gradients and units
def vanishing_gradients(history, signals, ctx: Context) -> Finding | None:
    records = [r for r in signals.get("records", []) if len(r.get("grad_norms", {})) >= 3]
    losses = _vals(history, "train_loss")
    if len(records) < 3 or len(losses) < 3:
        return None
    ratios = []
    for r in records[-8:]:
        norms = list(r["grad_norms"].values())
        if norms[-1] > 0:
            ratios.append(norms[0] / norms[-1])
    if len(ratios) < 3:
        return None
    ratio = statistics.median(ratios)
    gain = _rel_improvement(losses, 2)
    # First layer's gradient 1000x smaller than the last's: the early layers learn ~1000x slower.
    # With < 5% progress in 2 epochs it is hurting, not just a deep net's normal gradient spread.
    if ratio > 1e-3 or gain is None or gain > 0.05:
        return None
    names = list(records[-1]["grad_norms"])
    arch = [Fix({"model.activation": "relu", "model.init.weight": "he_uniform"},
                "ReLU passes gradients unshrunk where sigmoid/tanh multiply them by < 0.25 per layer",
                architecture=True),
            Fix({"model.batch_norm": True}, "batch norm keeps every layer's inputs in the responsive range",
                architecture=True)]
    fixes = ([Fix({"optimizer.name": "adam", "optimizer.lr": 1e-3},
                  "Adam scales each weight's step by its own gradient size, so small gradients still move")]
             if ctx.optimizer != "adam" else [])
    return Finding(
        "vanishing_gradients", "error", records[-3]["epoch"], records[-3]["step"],
        {"first_to_last_grad_ratio": ratio, "limit": 1e-3, "first_layer": names[0], "last_layer": names[-1],
         "train_loss_gain_last_2_epochs": gain, "activation": ctx.activation},
        f"The first layer ({names[0]}) receives {ratio:.1e} of the gradient the last layer ({names[-1]}) gets, and "
        f"training barely progresses. Each {ctx.activation or 'saturating'} layer shrinks the gradient on its "
        f"way back, so the early layers stay near their initial random weights.",
        fixes + arch)


def dying_relu(history, signals, ctx: Context) -> Finding | None:
    probes = [r for r in signals.get("records", []) if r.get("dead")]
    if len(probes) < 2:
        return None
    # Half a layer's units output zero for every probe row on the last two probes: they get no
    # gradient and, with a plain ReLU, never come back.
    last = probes[-2:]
    layers = [name for name in last[-1]["dead"] if all(p["dead"].get(name, 0) > 0.5 for p in last)]
    if not layers:
        return None
    worst = max(layers, key=lambda n: last[-1]["dead"][n])
    share = last[-1]["dead"][worst]
    fixes = [_lr_fix(ctx, 0.1, "large steps push units into the always-negative region; smaller ones do not"),
             Fix({"model.activation": "leaky_relu"}, "a leaky ReLU keeps a small gradient for negative inputs",
                 architecture=True),
             Fix({"model.init.weight": "he_uniform", "model.init.bias": {"name": "constant", "value": 0.01}},
                 "He init with a small positive bias starts every unit active", architecture=True)]
    return Finding(
        "dying_relu", "error" if share > 0.8 else "warning", last[0]["epoch"], last[0]["step"],
        {"dead_share": {n: round(last[-1]["dead"][n], 3) for n in layers}, "limit": 0.5, "probes": len(probes)},
        f"{share:.0%} of the units in {worst} output zero for every probe row. A dead ReLU has zero gradient, so "
        f"it never recovers; the network works with a fraction of its width.",
        fixes)


def saturated_activations(history, signals, ctx: Context) -> Finding | None:
    probes = [r for r in signals.get("records", []) if r.get("saturated")]
    if len(probes) < 2:
        return None
    # Half of the pre-activations beyond |z| = 5 on the last two probes: the derivative there is
    # < 0.007 (sigmoid) or < 0.0002 (tanh), so those units pass almost no gradient.
    last = probes[-2:]
    layers = [name for name in last[-1]["saturated"] if all(p["saturated"].get(name, 0) > 0.5 for p in last)]
    if not layers:
        return None
    worst = max(layers, key=lambda n: last[-1]["saturated"][n])
    share = last[-1]["saturated"][worst]
    fixes = []
    if ctx.scale == "none":
        fixes.append(Fix({"data.scale": "standardize"}, "large inputs push units into saturation"))
    fixes += [_lr_fix(ctx, 0.1, "smaller steps keep pre-activations from growing"),
              Fix({"model.init.weight": "xavier_uniform"}, "Xavier init keeps pre-activations near unit scale",
                  architecture=True),
              Fix({"model.batch_norm": True}, "batch norm re-centres pre-activations every batch", architecture=True)]
    return Finding(
        "saturated_activations", "warning", last[0]["epoch"], last[0]["step"],
        {"saturated_share": {n: round(last[-1]["saturated"][n], 3) for n in layers}, "limit": 0.5, "z": 5},
        f"{share:.0%} of the pre-activations feeding {worst} are beyond |z| = 5, where sigmoid and tanh are flat. "
        f"Saturated units pass almost no gradient, so the layers before them stop learning.",
        fixes)


# Order matters for reporting: causes before symptoms.
RULES = [bad_input_data, unscaled_features, diverged, exploding_gradients, lr_too_high, lr_too_low,
         vanishing_gradients, dying_relu, saturated_activations, stuck_at_chance, class_imbalance,
         overfitting, underfitting, plateau]
PRE_TRAINING = [bad_input_data, unscaled_features]


def examine(history: list[dict], signals: dict, ctx: Context, rules=None) -> list[Finding]:
    out = []
    for rule in rules or RULES:
        finding = rule(history, signals, ctx)
        if finding is not None:
            out.append(finding)
    return out
