"""Rules judged before the first step, from the prepared data and the plan: what no measure of the
training would show in time (a fault in the data, a plan that cannot train well). Each returns a
Finding at epoch 0 or None; with repair on, api._preflight applies the top fix before training.
The live rules (rules.py) call these too, so they stay one vocabulary with one ranking."""

from __future__ import annotations

import math
import statistics

from .facts import Context, usual_top
from .findings import Finding, Fix
from .measures import chance_loss


def bad_input_data(history, signals, ctx: Context) -> Finding | None:
    if ctx.nonfinite_inputs <= 0:
        return (_codes_too_common(ctx) or _clipped_away(ctx) or _out_of_time_order(ctx) or _day_month_swapped(ctx)
                or _coded_target(ctx)
                or _skewed_columns(ctx) or _blanks_mean_zero(ctx) or _filled_far_away(ctx) or _extreme_values(ctx) or _numbers_as_codes(ctx))
    return Finding(
        "bad_input_data", "error", 0, 0, {"nonfinite_cells": ctx.nonfinite_inputs, "impute": ctx.impute},
        f"The training inputs hold {ctx.nonfinite_inputs} NaN or infinite values. One of them in a batch makes "
        f"the loss NaN and every weight it touches NaN after the update, so training cannot recover. "
        f"data.clean.impute is {ctx.impute!r}.",
        [Fix({"data.clean.impute": "median"}, "fill missing numbers with the training median before training")])


# A missing-value code is a stand-in for the odd empty cell: the sentinels the suites hold fill 2%-4%
# of the cells. One that turns a quarter of the numeric training cells or more into missing values
# is a common real value, and imputation overwrites it (missing_codes [0] on digits made 49% of
# the pixels "missing", every background pixel filled with its column's ink: 0.79 against 0.95;
# sixth held-out set).
CODED_SHARE_LIMIT = 0.25


def _codes_too_common(ctx: Context) -> Finding | None:
    if not ctx.coded_cells or not ctx.numeric_columns or not ctx.n_train or not ctx.missing_codes:
        return None
    cells = sum(ctx.coded_cells.values())
    # Over the rows the codes were counted on: the training split before any over- or undersampling.
    share = cells / ((ctx.coded_rows or ctx.n_train) * ctx.numeric_columns)
    if share < CODED_SHARE_LIMIT:
        return None
    hit = sorted((c for c in ctx.coded_cells if ctx.coded_cells[c]), key=ctx.coded_cells.get, reverse=True)
    codes = ", ".join(f"{c:g}" for c in ctx.missing_codes)
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"missing_codes": ctx.missing_codes, "coded_cells": cells, "coded_share": round(share, 4),
         "columns_hit": len(hit), "numeric_columns": ctx.numeric_columns,
         "limit_share": CODED_SHARE_LIMIT},
        f"data.clean.missing_codes [{codes}] turned {share:.0%} of the numeric training cells into missing values "
        f"({cells} cells, in {len(hit)} of {ctx.numeric_columns} columns; most in "
        f"{', '.join(hit[:3])}), and imputation then overwrites each of them. A code for \"missing\" stands in for "
        f"the odd empty cell; one that common is a real value of the data.",
        [Fix({"data.clean.missing_codes": []}, f"keep {codes} as the value it is")])


def _skewed_columns(ctx: Context) -> Finding | None:
    """A column that varies in training but is one value throughout a separate validation or test
    file (context.skewed_columns): the file and the training rows were recorded at different
    moments. A churn table whose refund_requested flag is set by the cancellation itself: 43% of
    training rows, 0 in every test row; the net learned "no refund, stays" (0.69 against 0.81
    without the column; tenth held-out set). The fix trains without it."""
    cols = ctx.skewed_columns
    if not cols:
        return None
    names = [c["column"] for c in cols]
    keep = [c for c in ctx.input_columns if c not in names]
    c = cols[0]
    return Finding(
        "bad_input_data", "warning", 0, 0, {"columns": cols, "limit": f"training share ** rows < {1e-6:g}"},
        f"{len(cols)} column(s) {names} vary in the training rows but hold one value in every row of the data.{c['file']} "
        f"file ({c['column']} is {c['value']:g} in all {c['rows']}, where {c['training_share']:.0%} of the training rows "
        f"have it; chance cannot explain that). The training rows and that file were recorded at different moments: "
        f"a column filled in after the outcome is known leaks the answer into training and is empty when the model "
        f"is used.",
        [Fix({"data.features": keep}, f"train without {', '.join(names)}")] if keep else [])


def _blanks_mean_zero(ctx: Context) -> Finding | None:
    """Count columns an export left blank where they are 0 (context.blank_zeros), filled with the
    median or mean of the written values: every clean record then looks like one with a few late
    payments. The fix reads the blanks as 0, where no other column is imputed (0 would not suit it)."""
    b = ctx.blank_zeros
    if not b:
        return None
    cols = b["columns"]
    names = [c["column"] for c in cols]
    fixes = [] if b["other_imputed"] else [
        Fix({"data.clean.impute": "constant", "data.clean.impute_value": 0.0},
            "read the blanks as 0, the value such exports leave out")]
    return Finding(
        "bad_input_data", "warning", 0, 0, {**b, "impute": ctx.impute, "limit": "filled >= 0.5 of the rows, "
                                                                              "whole numbers > 0 where written"},
        f"{len(cols)} column(s) {names} are blank in most training rows ({', '.join(str(c['filled']) for c in cols)} "
        f"of {b['rows']}) and hold only whole numbers from 1 up where written: counts or flags from an export that "
        f"writes only what is not zero. data.clean.impute: {ctx.impute} fills the blanks with "
        f"{', '.join(str(c['fill']) for c in cols)}, so most records read as if they had what they do not."
        + (f" Other imputed columns ({b['other_imputed']}) would not suit a fill of 0: fill these columns with 0 in "
           f"the file." if b["other_imputed"] else ""),
        fixes)


def _extreme_values(ctx: Context) -> Finding | None:
    """A few values per feature far outside the rest (context.extreme_features): a missing-value
    code stored as a number, or a unit error. Standardizing then divides every real value by a
    spread the sentinels set, and the feature carries next to nothing (breast_cancer with 9999999
    in 2% of its cells: 0.612 against 0.918 with the outliers clipped; third held-out set)."""
    # Measured on the data as prepared, so clipping that was done counts (z-score clipping fitted on a
    # spread the sentinels inflate leaves them far out, and they are still named).
    if not ctx.extreme_features or ctx.data_kind != "tabular":
        return None
    worst = ctx.extreme_features[0]
    names = ", ".join(f["feature"] for f in ctx.extreme_features)
    # One repeated number in every far cell is a code for "missing": read as missing, the cells are
    # imputed like any empty one, where clipping leaves them at the edge of the real values (-999
    # in 4% of diabetes' cells, clipped: r2 0.23 against 0.35; fifth held-out set).
    codes = []
    for code in sorted([*ctx.missing_codes, *(f["code"] for f in ctx.extreme_features if "code" in f)]):
        if not codes or not math.isclose(code, codes[-1], rel_tol=1e-6):  # one code, read back twice
            codes.append(code)
    fix = (Fix({"data.clean.missing_codes": codes}, f"read {', '.join(f'{c:g}' for c in codes)} as missing, so "
                                                    f"imputation fills those cells from the real values")
           if all("code" in f for f in ctx.extreme_features) and ctx.impute != "none" else None)
    # The far number is the imputation's own fill value (impute: constant with impute_value 1e9):
    # the cells were missing, and the fill put them there (fourth held-out set).
    if all("fill" in f for f in ctx.extreme_features):
        fix = Fix({"data.clean.impute": "median"}, f"fill missing cells with the training median, not "
                                                   f"{ctx.extreme_features[0]['fill']:g}, far outside the real values")
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"features": ctx.extreme_features, "limit_mads": 1000, "clip_outliers": ctx.clip_outliers},
        f"Some features hold a few values far outside the rest ({names}): in {worst['feature']}, "
        f"{worst['share']:.1%} of the training rows sit up to {worst['mads']:.3g} median absolute deviations "
        f"from the median. That is the mark of a missing-value code stored as a number (9999, -999) or of a "
        f"unit error; scaling then squeezes every real value of the feature into a sliver, and the "
        f"network can hardly use it.",
        ([fix] if fix else [])
        + [Fix({"data.clean.clip_outliers": "iqr"}, "clip each numeric feature to 1.5 IQR beyond its quartiles "
                                                     "(fitted on the training split)")])


def unscaled_features(history, signals, ctx: Context) -> Finding | None:
    # A feature whose typical magnitude (root mean square) is 100x its neighbours' makes the loss
    # surface a narrow valley: one learning rate is too large for it and too small for the rest.
    # Judged on the inputs as the network sees them, so scaling that was done counts.
    if ctx.data_kind == "text" or not ctx.feature_rms:
        return _unscaled_target(ctx)
    rms = [v for v in ctx.feature_rms if v > 0 and math.isfinite(v)]
    if len(rms) == 0:
        return None
    big = max(rms)
    typical = statistics.median(rms)
    # > 20: far outside the unit scale standardisation gives; ratio > 50: features disagree by
    # orders of magnitude. Both must hold, so uniformly scaled pixels (0..16) do not fire alone.
    # Into squashing units (a recurrent cell's gates, tanh or sigmoid layers) inputs over 20 are
    # enough with scaling off, whatever their neighbours: the units start saturated (a GRU
    # forecaster fed load near 100 beside temperature near 14: r2 0.538 against 0.950; fourth
    # held-out set).
    squashing = ctx.scale == "none" and big > 20 and (ctx.model_type == "rnn" or ctx.activation in ("tanh", "sigmoid"))
    if not squashing and (big <= 20 or (len(rms) > 1 and big / max(typical, 1e-12) <= 50 and big <= 1000)):
        return _unscaled_target(ctx)
    worst = sorted(zip(ctx.feature_rms, ctx.feature_names), reverse=True)[:3]
    return Finding(
        "unscaled_features", "warning", 0, 0,
        {"largest_rms": round(big, 4), "median_rms": round(typical, 4), "limit": 20,
         "largest_features": [n for _, n in worst], "scale": ctx.scale},
        (f"Input features are large with scaling off (largest typical magnitude {big:.3g}; worst: "
         f"{', '.join(n for _, n in worst)}): they drive the "
         f"{'recurrent cell' if ctx.model_type == 'rnn' else ctx.activation} units into saturation from the "
         f"first step, where they pass almost no gradient. " if squashing else
         f"Input features are on very different scales (largest typical magnitude {big:.3g}, median "
         f"{typical:.3g}; worst: {', '.join(n for _, n in worst)}). Gradients are then dominated by the large "
         f"features and no single learning rate suits all weights. ") + f"data.scale is {ctx.scale!r}.",
        [Fix({"data.scale": "standardize"}, "standardize every numeric feature (fitted on the training split)")])


def _unscaled_target(ctx: Context) -> Finding | None:
    """A regression target left in its own units (data.scale_target off) far from the unit scale a
    fresh network's output starts at: the last layer must grow its weights and bias to the target's
    size, at a step of about the learning rate under Adam, or with gradients the target's size
    under SGD (diabetes' raw 25-346 under Huber at Adam 3e-3: r2 0.05 against 0.29 in 60 epochs,
    sixth held-out set; under MSE at SGD 0.01, NaN in epoch 1, fourth). Same limit as a feature's: 20."""
    if ctx.task != "regression" or ctx.target_scaled or ctx.target_rms is None or ctx.target_rms <= 20:
        return None
    return Finding(
        "unscaled_features", "warning", 0, 0,
        {"target_rms": round(ctx.target_rms, 4), "limit": 20, "scale_target": False},
        f"The target is in its own units (typical magnitude {ctx.target_rms:.3g}) with data.scale_target off, while a "
        f"fresh network's output starts near 0 at unit scale. Its last layer must first grow to the target's size: "
        f"adaptive optimizers move each weight by about the learning rate a step, so that takes thousands of steps, "
        f"and plain SGD gets gradients the target's size, which can blow up.",
        [Fix({"data.scale_target": True}, "standardize the target on the training split (predictions are returned "
                                          "in its own units)")])


def frozen_at_random(history, signals, ctx: Context) -> Finding | None:
    """model.freeze with no model.init_from: the frozen layers keep their random initial weights
    for the whole run, and only the rest learns, on top of random features (a digits MLP with its
    body frozen: 0.64 against 0.95; sixth held-out set). Freezing is for weights trained before."""
    if not ctx.frozen or ctx.init_from:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"freeze": ctx.frozen, "init_from": None},
        f"model.freeze {ctx.frozen} keeps those layers at their random initial weights for the whole run: there is "
        f"no model.init_from, so nothing trained them before. Only the layers left unfrozen learn, on random "
        f"features, and the network can fit far less than its size suggests.",
        [Fix({"model.freeze": []}, "train every layer (or give model.init_from a run whose weights they should keep)")])


def blind_convolutions(history, signals, ctx: Context) -> Finding | None:
    """A CNN whose every kernel is 1x1, averaged over space before its head: no layer ever sees two
    pixels side by side, so what reaches the head is a mix of pixel intensities, not strokes or
    shapes (digits: 0.33 against 0.985 with 3x3 kernels; fifth held-out set). Pooling between the
    blocks does not help: it averages or picks intensities, it does not arrange them. Without global
    pooling the head still sees every position and learns as an MLP on the pixels would."""
    if ctx.model_type != "cnn" or not ctx.global_pool or not ctx.conv_blocks:
        return None
    if any(b.get("kernel", 3) > 1 for b in ctx.conv_blocks):
        return None
    # Padding "same" with the new kernel: an explicit padding of 0 that fit 1x1 kernels would shrink
    # the maps under 3x3 ones until a later block no longer fits.
    blocks = [{**b, "kernel": 3, "padding": "same"} for b in ctx.conv_blocks]
    return Finding(
        "underfitting", "warning", 0, 0, {"kernels": [b.get("kernel") for b in ctx.conv_blocks], "global_pool": True},
        "Every convolution has a 1x1 kernel and the feature maps are averaged over space before the head: no layer "
        "ever sees two neighbouring pixels together, so the network gets a mix of pixel intensities and cannot "
        "see strokes, edges or shapes.",
        [Fix({"model.blocks": blocks}, "3x3 kernels see each pixel with its neighbours", architecture=True)])


# Explicit loss.class_weights this far from the balancing ones (each class weighted by its inverse
# share), for some pair of classes, make the loss chase one class whatever the data: [1000, 1] on
# breast_cancer (37/63, balanced 1.7 : 1) scored 0.68 against 0.97 unweighted (sixth held-out set).
# 10x off still leaves a deliberate cost ratio (a missed disease weighed 10x a false alarm) alone.
CLASS_WEIGHT_LIMIT = 30.0


def class_weights_off(history, signals, ctx: Context) -> Finding | None:
    weights, shares = ctx.loss_class_weights, ctx.class_shares
    if not weights or not shares or len(weights) != len(shares) or min(weights) <= 0 or min(shares) <= 0:
        return None
    # Against balance: w_i * share_i is the weight class i carries in the loss as a whole.
    mass = [w * p for w, p in zip(weights, shares)]
    skew = max(mass) / min(mass)
    if skew < CLASS_WEIGHT_LIMIT:
        return None
    heavy = mass.index(max(mass))
    ratio = max(shares) / min(shares)
    imbalanced = ratio >= 4  # as class_imbalance reads a majority that can dominate
    fix = {"loss.class_weights": None, **({"data.imbalance": "class_weights"} if imbalanced else {})}
    return Finding(
        "class_imbalance", "warning", 0, 0,
        {"class_weights": weights, "class_shares": [round(p, 4) for p in shares],
         "weighted_share_ratio": round(skew, 1), "limit": CLASS_WEIGHT_LIMIT},
        f"loss.class_weights {weights} make class {heavy}'s rows weigh {skew:.0f}x the lightest class's in the loss as "
        f"a whole (weights times the classes' shares of the training rows, {', '.join(f'{p:.0%}' for p in shares)}). "
        f"The network learns to answer class {heavy} whenever it can, whatever the inputs say.",
        [Fix(fix, "weigh classes by their inverse frequency (data.imbalance: class_weights)" if imbalanced
             else "the classes are close to even: no weights")])


def too_few_steps(history, signals, ctx: Context) -> Finding | None:
    """A run planned with too few optimizer steps in all to learn: full batches (or two an
    epoch) over few epochs. Each step is of a usual size, so no measure of the steps shows it, and
    the loss falls a little each epoch; the run simply ends early in its descent. A max-pool CNN
    given the whole digits set as one batch, 12 steps in all, ended at 0.43 against 0.97 (fourth
    held-out set). Judged before training, from the plan, on 256 rows or more: under 100 steps at 2
    an epoch or fewer, under 30 otherwise (see below). The suite's healthy runs take 150 (wine, 40 epochs of 4) to 1200 steps; on a few hundred rows or
    more mini-batches are the usual choice, and on fewer full batches are a fair one."""
    per_epoch = ctx.steps_per_epoch
    if not per_epoch or ctx.n_train < 256 or ctx.model_type == "gan":
        return None
    # One epoch of mini-batches is how a config is tried, not trained (`epochs: 1` on an example).
    if per_epoch > 2 and ctx.epochs < 2:
        return None
    # A rate under 1/100 of its optimizer's usual top is the first suspect: the live lr_too_low
    # measures the steps and sizes the raise (SGD at 1e-4 on digits in batches of 1024, 80 steps
    # in all: mini-batches alone ended at 0.870 against 0.963, the measured raise at 0.94-0.96).
    if ctx.lr < usual_top(ctx) / 100:
        return None
    total = per_epoch * ctx.epochs
    # Full batches: mini-batches give the steps. Mini-batches already (2 epochs of 10 on digits, 20
    # steps in all: 0.87 against 0.95; sixth held-out set): more epochs, to 200 steps or more; held
    # to under 30 steps there (a fifth of the fewest a healthy suite run takes), as a quick look of
    # a few epochs (3 of 13 on breast_cancer) is a fair way to try a config, not a fault.
    if total >= (100 if per_epoch <= 2 else 30):
        return None
    fix = (Fix({"training.batch_size": 32}, f"mini-batches of 32 give about {max(1, ctx.n_train // 32)} steps an "
                                            f"epoch over the same epochs and data") if per_epoch <= 2 else
           Fix({"training.epochs": math.ceil(200 / per_epoch)}, f"{math.ceil(200 / per_epoch)} epochs of {per_epoch} "
                                                                 f"steps: 200 steps or more"))
    return Finding(
        "lr_too_low", "warning", 0, 0,
        {"optimizer_steps_planned": total, "steps_per_epoch": per_epoch, "epochs": ctx.epochs,
         "training_rows": ctx.n_train, "limit": "on >= 256 rows: 100 steps in all at <= 2 an epoch, else 30"},
        f"The run is planned to take only {total} optimizer steps in all ({per_epoch} an epoch over {ctx.epochs} "
        f"epochs on {ctx.n_train} rows). Each step is of a usual size, but a network needs hundreds of them: "
        f"this one will stop early in its descent, however the learning rate is set.",
        [fix])


# Clipping is for the odd outlier: a z-score limit of 3 clips 0.3% of normal values, Tukey's 1.5 IQR
# fences 0.7%. A fifth of the training cells clipped or more is no longer outliers, it is the data
# flattened onto two values per column (a z-score limit of 0.05 on diabetes clipped 96% of the
# cells: r2 0.27 against 0.35 at 3; seventh held-out set).
CLIPPED_SHARE_LIMIT = 0.2
_CLIP_DEFAULTS = {"zscore": 3.0, "iqr": 1.5}


def _clipped_away(ctx: Context) -> Finding | None:
    if ctx.clip_outliers not in _CLIP_DEFAULTS or not ctx.clipped_cells or not ctx.numeric_columns:
        return None
    share = ctx.clipped_cells / ((ctx.coded_rows or ctx.n_train) * ctx.numeric_columns)
    if share < CLIPPED_SHARE_LIMIT:
        return None
    default = _CLIP_DEFAULTS[ctx.clip_outliers]
    factor = ctx.clip_outliers_factor or default
    # At the usual limit or looser, the columns themselves are the cause (a 0/1 flag with under a
    # quarter of ones has an IQR of 0, and every 1 is "out"): no clipping.
    fix = (Fix({"data.clean.clip_factor": default}, f"the usual limit, {default:g}, clips only real outliers")
           if factor < default else
           Fix({"data.clean.clip_outliers": "none"}, "no clipping: at the usual limit it still flattens these "
                                                      "columns, so their spread is not made of outliers"))
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"clipped_share": round(share, 3), "clipped_cells": ctx.clipped_cells, "clip_outliers": ctx.clip_outliers,
         "clip_factor": factor, "limit": CLIPPED_SHARE_LIMIT},
        f"data.clean.clip_outliers {ctx.clip_outliers} with clip_factor {factor:g} clipped {share:.0%} of the numeric "
        f"training cells. Clipping is meant for the odd outlier (the default {default:g} clips under 1% of normal "
        f"values); this flattens most of each column onto its two bounds, and the network cannot tell those rows "
        f"apart.",
        [fix])


def monitor_backwards(history, signals, ctx: Context) -> Finding | None:
    """training.early_stopping.mode set against its monitor: "min" for a score (accuracy, f1, r2...)
    or "max" for a loss or an error. Early stopping then counts every real improvement as a
    setback, stops after `patience` epochs, and keeps (restores, and saves as best) the worst epoch
    it saw: SGD on digits watching val_accuracy in mode min kept epoch 1, 0.80 against 0.95
    (seventh held-out set). Nothing in the training curves shows it."""
    from ..metrics import is_better_high

    if not ctx.early_stopping or ctx.es_mode == "auto" or not ctx.has_val:
        return None
    right = "max" if is_better_high(ctx.es_monitor) else "min"
    if ctx.es_mode == right:
        return None
    what = "a score, higher is better" if right == "max" else "a loss or an error, lower is better"
    return Finding(
        "underfitting", "warning", 0, 0, {"monitor": ctx.es_monitor, "mode": ctx.es_mode, "expected_mode": right},
        f"training.early_stopping watches {ctx.es_monitor} ({what}) in mode {ctx.es_mode!r}: every real improvement "
        f"counts as a setback. It stops the run once it has seen {ctx.es_monitor} improve for `patience` epochs, "
        + ("and restores the weights of the worst epoch it saw (restore_best)." if ctx.restore_best else
           "and the checkpoint it keeps as best is the worst epoch it saw."),
        [Fix({"training.early_stopping.mode": "auto"}, f"mode auto reads {ctx.es_monitor} as it is meant ({right})")])


ADAM_FAMILY = ("adam", "adamw", "nadam", "radam", "adamax")
# Adam divides a running mean of the gradients (beta1: over ~1/(1 - beta1) steps) by the root of
# a running mean of their squares (beta2). Kingma and Ba's convergence bound needs
# beta1^2 < sqrt(beta2): with beta2 too short beside beta1, the divisor follows only the last few
# gradients while the numerator remembers many, and as the gradients shrink each step grows far
# past the rate. betas [0.999, 0.5] on digits (the two swapped) scored 0.83 against 0.96 for
# [0.5, 0.999] (seventh held-out set); the usual settings ([0.9, 0.999], [0.9, 0.98] for
# transformers, [0.5, 0.999] for GANs) are far inside it.
def adam_betas_off(history, signals, ctx: Context) -> Finding | None:
    if ctx.optimizer not in ADAM_FAMILY or len(ctx.betas) != 2:
        return None
    b1, b2 = ctx.betas
    if b1 * b1 < math.sqrt(b2):
        return None
    swapped = b1 > b2
    fix = [min(b1, 0.9), 0.999]
    return Finding(
        "lr_too_high", "warning", 0, 0, {"betas": [b1, b2], "limit": "beta1^2 < sqrt(beta2)"},
        f"optimizer.betas is [{b1:g}, {b2:g}]: {ctx.optimizer} divides a running mean of the gradients over about "
        f"{1 / max(1 - b1, 1e-9):.0f} steps by the root of their squares over about {1 / max(1 - b2, 1e-9):.0f}. "
        f"With the second that short, the divisor follows only the last few gradients, and as they shrink each step "
        f"grows far past the learning rate ({ctx.lr:g}): the weights are thrown about"
        + (" (the two betas look swapped)" if swapped else "") + ".",
        [Fix({"optimizer.betas": fix}, f"betas {fix}: the second moment averaged over ~{1 / (1 - fix[1]):.0f} steps, "
                                       f"as Adam is meant to run")])


# Persistence (tomorrow as today) explaining half the variance of the validation targets or more:
# the target's own past is the strongest input a forecaster can have. A load forecaster given only
# the temperature scored r2 0.45 where persistence alone reaches 0.61 and the same LSTM with load
# among its inputs 0.95 (seventh held-out set).
PERSISTENCE_R2 = 0.5


def target_history_unseen(history, signals, ctx: Context) -> Finding | None:
    """data.series.value_columns that leave out the target: the network forecasts a series it never
    sees. Some forecasts must (the target is not known at prediction time); then persistence's
    score says what that costs."""
    seen = ctx.unseen_target
    if not seen or seen["persistence_r2"] < PERSISTENCE_R2:
        return None
    target, inputs = seen["target"], seen["inputs"]
    return Finding(
        "underfitting", "warning", 0, 0,
        {"target": target, "value_columns": inputs, "persistence_val_r2": round(seen["persistence_r2"], 4),
         "limit": PERSISTENCE_R2},
        f"data.series.value_columns {inputs} leave out the target {target!r}: the network forecasts {target} without "
        f"ever seeing its past. Its past alone explains much of it: holding the last value (persistence) scores r2 "
        f"{seen['persistence_r2']:.2f} on the validation windows. If {target} is known when forecasts are made, it "
        f"belongs among the inputs.",
        [Fix({"data.series.value_columns": [*inputs, target]}, f"add {target!r} to the inputs")])


def _out_of_time_order(ctx: Context) -> Finding | None:
    """A series with no data.series.time_column, read in file order, while a column of dates in the
    file goes back in time: the windows string together unrelated moments, and the split is not
    chronological. A load series saved shuffled scored r2 -0.02 that way, 0.95 sorted by its
    timestamp (seventh held-out set)."""
    u = ctx.unordered_time
    if not u:
        return None
    if "dayfirst" in u:
        # The file is in time order once its dates are read the other way: sorting by the misread
        # dates would scramble rows that are right as they are.
        return Finding(
            "bad_input_data", "warning", 0, 0, {"date_column": u["column"], "times_back_in_time": u["steps_back"],
                                                "rows": u["rows"], "time_column": None, "dayfirst": u["dayfirst"]},
            f"data.series.time_column is not set, so the rows are read as the series in file order. The dates in "
            f"column {u['column']!r} go back in time {u['steps_back']} times as they are read, but never when read "
            f"{'day' if u['dayfirst'] else 'month'} first: the file is in time order and its dates are written "
            f"{'day' if u['dayfirst'] else 'month'} first.",
            [Fix({"data.series.time_column": u["column"], "data.series.dayfirst": u["dayfirst"]},
                 f"sort the rows by {u['column']!r} read {'day' if u['dayfirst'] else 'month'} first (and split "
                 f"chronologically)")])
    return Finding(
        "bad_input_data", "error", 0, 0, {"date_column": u["column"], "times_back_in_time": u["steps_back"],
                                          "rows": u["rows"], "time_column": None},
        f"data.series.time_column is not set, so the rows are read as the series in file order, but the dates in "
        f"column {u['column']!r} go back in time {u['steps_back']} times over {u['rows']} rows: the file is not in "
        f"time order. Each window then strings together unrelated moments, and no model can forecast from it.",
        [Fix({"data.series.time_column": u["column"]},
             f"sort the rows by {u['column']!r} (and split chronologically)")])


def _day_month_swapped(ctx: Context) -> Finding | None:
    """A series' dates read with day and month the wrong way round (data report's
    day_month_swapped): 02/01/2023 taken as 1 February scatters the hours of each month's first
    twelve days among other months, so the rows sorted by time are out of order and each window
    strings together unrelated moments (0.87 against 0.94 read day first; ninth held-out set).
    The data step measures it: in file order the other reading never goes back in time, this one
    does, 3 times or more."""
    d = ctx.day_month_swapped
    if not d:
        return None
    flip = not d["dayfirst"]
    return Finding(
        "bad_input_data", "warning", 0, 0, {**d, "limit": "the other reading never back in time, this one >= 3 times"},
        f"The dates in {d['column']!r} (such as {d['example']!r}) are read {'day' if d['dayfirst'] else 'month'} "
        f"first, and so read they go back in time {d['steps_back']} times over the file's {d['rows']} rows; read "
        f"{'day' if flip else 'month'} first they never do. Sorted by the misread dates, the rows are out of time "
        f"order and each window strings together unrelated moments.",
        [Fix({"data.series.dayfirst": flip}, f"read the dates {'day' if flip else 'month'} first")])


# A parameter group's own rate 10x above the top of its optimizer's usual range (lint.LR_RANGE) is no
# choice a schedule or a measure can rescue: the live repairs scale every group's rate together, so
# the group stays that far above the others. A digits MLP at Adam 1e-3 with its head group at 30
# (meant 3e-3) scored 0.91/0.88; its head at 1e-2, 0.96 (seventh held-out set).
GROUP_LR_LIMIT = 10.0


def group_rate_off(history, signals, ctx: Context) -> Finding | None:
    top = usual_top(ctx)
    wild = [g for g in ctx.param_groups if g.get("lr", 0) > GROUP_LR_LIMIT * top]
    if not wild:
        return None
    new_lr = float(f"{min(top, 10 * ctx.lr):.2g}")
    groups = [{**g, "lr": new_lr} if g in wild else g for g in ctx.param_groups]
    names = ", ".join(f"{g['prefix']} at {g['lr']:g}" for g in wild)
    return Finding(
        "lr_too_high", "warning", 0, 0,
        {"groups": [{"prefix": g["prefix"], "lr": g["lr"]} for g in wild], "lr": ctx.lr, "usual_top": top,
         "limit": f"{GROUP_LR_LIMIT:g}x the usual top"},
        f"optimizer.param_groups gives {names}: over {GROUP_LR_LIMIT:g}x the top of the usual range for "
        f"{ctx.optimizer} ({top:g}), where the rest of the network learns at {ctx.lr:g}. Steps that large throw those "
        f"weights about at every update; a repair of the learning rate would scale every group together and leave "
        f"that one as far above the others.",
        [Fix({"optimizer.param_groups": groups}, f"{new_lr:g} for that group: at most 10x the base rate, within "
                                                 f"the usual range")])


def _coded_target(ctx: Context) -> Finding | None:
    """A regression target with one number repeated far from the rest (context.target_code): a code
    for "no value" stored in the target. The network is trained to predict it,
    and the loss, dominated by those rows, pulls every prediction towards it (-999 in 4% of
    diabetes' targets, 25-346 otherwise: r2 -1.9 on clean test rows, against 0.46 without those
    rows; seventh held-out set)."""
    far = ctx.target_extreme
    if not far or "code" not in far:
        return None
    code = far["code"]
    codes = [*ctx.target_missing_codes, code]
    return Finding(
        "bad_input_data", "warning", 0, 0, {"target": far["feature"], "code": code, "share": far["share"],
                                          "mads": far["mads"], "limit_mads": 10, "limit_gap_mads": 5},
        f"The target {far['feature']!r} holds {code:g} in {far['share']:.1%} of the training rows, up to "
        f"{far['mads']:.3g} median absolute deviations from the rest: a code for a missing value, stored as a number. "
        f"The network is trained to predict it, and those rows dominate the loss.",
        [Fix({"data.clean.target_missing_codes": codes}, f"drop the rows whose target is {code:g}, as rows with an "
                                                          f"empty target are")])


def _filled_far_away(ctx: Context) -> Finding | None:
    """data.clean.impute: constant with a fill value far outside the columns it fills
    (context.fill_far: 5 sd or more from the values each holds, and outside them). The value is
    in raw units, so the default 0 reads as a measurement no row has, the filled rows look like
    extreme ones, and the column's scaling is stretched to span them (wine with 8% of its cells
    blank, filled with 0: alcohol, 11-15 otherwise, got 13 zeros; 0.67 against 0.93 with mean
    imputation; eighth held-out set)."""
    far = ctx.fill_far
    if not far or sum(f["filled"] for f in far) < max(2, 0.01 * ctx.n_train):
        return None
    worst = max(far, key=lambda f: f["sds"])
    fill = worst["fill"]
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"impute": "constant", "impute_value": fill, "columns": far,
         "limit": "5 sd from the column's mean, and its range away from its nearest value"},
        f"data.clean.impute: constant fills the empty cells with {fill:g}, in the columns' own units. In "
        f"{len(far)} column(s) no real value comes near it: {worst['column']!r} holds values around "
        f"{worst['mean']:g} (sd {worst['sd']:g}), so its {worst['filled']} filled rows sit {worst['sds']:g} sd away. "
        f"The network reads them as extreme measurements.",
        [Fix({"data.clean.impute": "median"}, "fill each column with its training median, a value it holds")])


def rows_sorted(history, signals, ctx: Context) -> Finding | None:
    """training.shuffle off on training rows sorted by their target (context.row_order): each epoch
    walks one class after another (or from low targets to high), so every stretch of batches pulls
    the weights towards what it holds, momentum and batch norm's running statistics follow the last
    stretch, and the epoch ends tuned to the last classes (a CNN on digits sorted by class: 0.19
    against 0.98 shuffled; eighth held-out set). Fires at a tenth of the label changes a random
    order gives, or a rank correlation of 0.9 between a regression target and the row number."""
    order = ctx.row_order
    if ctx.shuffle or not order:
        return None
    if "label_changes" in order:
        if order["label_changes"] > 0.1 * order["random_order_changes"]:
            return None
        how = (f"the class changes only {order['label_changes']} times from one row to the next, where a random "
               f"order changes it about {order['random_order_changes']:.0f} times")
        limit = "label changes <= 0.1 x a random order's"
    else:
        if abs(order["target_rank_correlation"]) < 0.9:
            return None
        how = f"the target's rank correlation with the row number is {order['target_rank_correlation']:.2f}"
        limit = "|rank correlation| >= 0.9"
    return Finding(
        "bad_input_data", "warning", 0, 0, {**order, "shuffle": False, "limit": limit},
        f"training.shuffle is off and the training rows are sorted by their target: {how} (over "
        f"{order['rows']} rows). Each epoch then shows the network one kind of row after another, and it "
        f"ends every epoch fitted to the last ones it saw.",
        [Fix({"training.shuffle": True}, "shuffle the rows every epoch, so every batch is a fair sample")])


def stops_too_soon(history, signals, ctx: Context) -> Finding | None:
    """training.early_stopping.min_delta too large for the monitored value: an epoch counts as
    better only when it gains min_delta, which late in training no epoch does, so the run stops
    while it is still improving (min_delta 0.1 on digits' validation loss, patience 2: stopped at
    0.88 against 0.96; eighth held-out set). The scale is what the value moves over: chance's loss
    for a classifier's loss, 1 for a standardized target's, 1 for scores in [0, 1]. 2% of it is
    several times what a late epoch gains (min_delta's default is 0; 1e-3 and 1e-4 are the usual
    choices)."""
    from ..metrics import is_better_high

    if not ctx.early_stopping or not ctx.has_val or ctx.es_min_delta <= 0:
        return None
    monitor = ctx.es_monitor
    if monitor.endswith("loss"):
        scale = chance_loss(ctx) if ctx.task != "regression" else (1.0 if ctx.target_scaled and ctx.loss == "mse" else None)
    else:
        scale = 1.0 if is_better_high(monitor) else None
    # At least 0.01 whatever the scale: a rare class's chance loss is tiny (0.03 nats at 0.5%), and
    # 1e-3 there is still a usual setting.
    if not scale or ctx.es_min_delta < max(0.02 * scale, 0.01):
        return None
    return Finding(
        "underfitting", "warning", 0, 0,
        {"monitor": monitor, "min_delta": ctx.es_min_delta, "patience": ctx.es_patience, "scale": round(scale, 4),
         "limit": "min_delta < 0.02 x scale"},
        f"training.early_stopping counts an epoch as better only when {monitor} improves by {ctx.es_min_delta:g} "
        f"({ctx.es_min_delta / scale:.0%} of the {scale:.3g} it moves over). Late in training epochs gain far less, "
        f"so after {ctx.es_patience} such epochs the run stops while it is still improving.",
        [Fix({"training.early_stopping.min_delta": 0.0}, "any improvement counts, as by default; patience still "
                                                          "stops a run that has stopped improving")])


# Batch norm normalizes each unit over the rows of the batch: over 2 rows every output is about +-1
# whatever the input, and the running statistics used to evaluate are noise. Wu and He (Group
# Normalization, 2018) measured ResNet-50's error rising from 23.6% at 32 images a GPU to 34.7% at
# 2; under 8 rows it is well off (a digits MLP at batch 2: 0.77 against 0.96 at 16; eighth held-out set).
BN_MIN_BATCH = 8


def batch_norm_starved(history, signals, ctx: Context) -> Finding | None:
    # An MLP's batch norm: a CNN's averages each channel over the batch's rows and every pixel of
    # the feature map, so 4 images of 8x8 give it 256 values (a digits CNN at batch 4 scored 0.981).
    if ctx.model_type != "mlp" or not ctx.batch_norm or ctx.batch_size is None or ctx.batch_size >= BN_MIN_BATCH \
            or ctx.n_train < 4 * BN_MIN_BATCH:
        return None
    to = min(32, ctx.n_train)
    return Finding(
        "underfitting", "warning", 0, 0, {"batch_size": ctx.batch_size, "batch_norm": True, "limit": BN_MIN_BATCH},
        f"The network uses batch norm with batches of {ctx.batch_size} rows: each unit is normalized over "
        f"{ctx.batch_size} values, which says almost nothing of its real spread, so in training the outputs are "
        f"noise-driven and the running statistics used at evaluation are off.",
        [Fix({"training.batch_size": to}, f"batches of {to}: from 16 rows or so batch norm's statistics hold, "
                                          f"and 32 is the usual default")])


# Undersampling balances classes by dropping rows of the larger ones. Keeping under a quarter of the
# training rows, with the smallest class under 50, leaves too little to learn from: class weights
# balance the loss instead and keep every row (a 3% minority on a 5-vs-rest digits set: 44 of 662
# rows kept, balanced accuracy 0.80 against 0.92 with class weights; eighth held-out set).
UNDERSAMPLE_KEEP = 0.25
UNDERSAMPLE_MIN_CLASS = 50


def undersampled_away(history, signals, ctx: Context) -> Finding | None:
    rep = ctx.undersampled
    if not rep or not rep.get("before") or not rep.get("after"):
        return None
    before, after = sum(rep["before"].values()), sum(rep["after"].values())
    smallest = min((n for n in rep["before"].values() if n > 0), default=0)
    if not before or after > UNDERSAMPLE_KEEP * before or smallest >= UNDERSAMPLE_MIN_CLASS:
        return None
    return Finding(
        "class_imbalance", "warning", 0, 0,
        {"imbalance": "undersample", "rows_before": before, "rows_after": after, "smallest_class": smallest,
         "limit": f"kept <= {UNDERSAMPLE_KEEP} of the rows with the smallest class under {UNDERSAMPLE_MIN_CLASS}"},
        f"data.imbalance: undersample cut the training split from {before} rows to {after}, as many of each class "
        f"as the smallest has ({smallest}). That throws away {1 - after / before:.0%} of the data to balance it.",
        [Fix({"data.imbalance": "class_weights", **({"loss.class_weights": None} if ctx.loss_class_weights else {})},
             "class weights balance the loss and keep every row")])


# A forecast of `horizon` steps from a window shorter than the horizon: the network sees less past
# than it must extend. N-BEATS (Oreshkin et al. 2020) looks back 2 to 7 horizons; 4 is the middle
# (a GRU forecasting 6 hours of load from a window of 1: r2 0.65 against 0.94 from 24; eighth
# held-out set).
LOOKBACK_HORIZONS = 4


def window_too_short(history, signals, ctx: Context) -> Finding | None:
    if ctx.data_kind != "timeseries" or not ctx.horizon or not ctx.steps or ctx.steps >= ctx.horizon:
        return None
    # A longer window leaves fewer windows in the training part (its rows minus window and horizon):
    # at most as long as keeps half of them.
    rows = ctx.n_train + ctx.steps + ctx.horizon - 1
    to = min(LOOKBACK_HORIZONS * ctx.horizon, (rows - ctx.horizon + 1) // 2)
    fixes = [Fix({"data.series.window": to}, f"a window of {to} steps ({to / ctx.horizon:.3g} horizons; forecasting "
                                              f"models usually look back 2-7)")] if to > ctx.steps else []
    return Finding(
        "underfitting", "warning", 0, 0, {"window": ctx.steps, "horizon": ctx.horizon, "limit": "window >= horizon"},
        f"data.series.window is {ctx.steps} step(s) for a forecast {ctx.horizon} steps ahead: the network sees less "
        f"of the past than it must extend, so it cannot pick up the series' trend or cycle.",
        fixes)


def _numbers_as_codes(ctx: Context) -> Finding | None:
    """Numeric columns that are codes, not measurements (context.code_columns): store 101 is not
    "one more" than store 100, but a network reads the number as a size, so it can only draw a
    smooth curve through effects that jump from one code to the next (store IDs 101-140 read as
    numbers: 0.68 against 0.84 one-hot; eighth held-out set). The fix one-hot encodes them with
    `data.categorical`."""
    codes = ctx.code_columns
    if not codes:
        return None
    names = [c["column"] for c in codes]
    first = codes[0]
    fix = {"data.categorical": names}
    most = max(c["levels"] for c in codes)
    if most > ctx.max_categories:
        fix["data.max_categories"] = most
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"columns": codes, "limit": "epsilon2 >= 0.15 and >= 5x a line's r2, neighbouring codes' effects "
                                    "correlated under 0.5"},
        f"{'Columns' if len(names) > 1 else 'Column'} {', '.join(repr(n) for n in names)} hold whole numbers that act "
        f"as codes, not measurements: {first['column']!r}'s {first['levels']} values explain {first['epsilon2']:.0%} of "
        f"the target's variance between them, a straight line in the number {first['line_r2']:.1%}, and neighbouring "
        f"codes have unrelated effects (correlation {first['neighbours']:.2f}). Read as a number, the network can only "
        f"fit a smooth curve through effects that jump from one code to the next.",
        [Fix(fix, "one-hot encode them as categories: one input per code")])


def steps_as_features(history, signals, ctx: Context) -> Finding | None:
    """Sequences whose steps and features are swapped (context.sequence_axes): an .npz saved as
    (N, channels, steps), the layout PyTorch's Conv1d takes, read as (N, steps, features), gives a
    recurrent net 2 "steps" of 60 numbers each, so it never walks through time (0.33 against 0.90 on
    the example sequences; eighth held-out set). Fires on at most 4 steps of at least 8x as many
    features where neighbouring features move together (median correlation >= 0.3) by at least 0.1
    more than a feature does from one step to the next: a time series' neighbours are alike, two
    channels at one moment need not be. The fix flips data.sequence.layout."""
    axes = ctx.sequence_axes
    if not axes or axes["neighbour_features"] < 0.3:
        return None
    if axes["next_step"] is not None and axes["neighbour_features"] < axes["next_step"] + 0.1:
        return None
    flip = "steps_first" if ctx.sequence_layout == "channels_first" else "channels_first"
    step_note = "" if axes["next_step"] is None else \
        f", while a feature moves with itself one step later only {axes['next_step']:.2f}"
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**axes, "layout": ctx.sequence_layout,
         "limit": "steps <= 4, features >= 8 x steps, neighbouring features' correlation >= 0.3 and >= 0.1 over "
                  "the next step's"},
        f"The sequences have {axes['steps']} step(s) of {axes['features']} features, and neighbouring features move "
        f"together (median correlation {axes['neighbour_features']:.2f}){step_note}: the features look like time "
        f"steps and the steps like channels, as when an array saved as (N, channels, steps) is read as (N, steps, "
        f"features). A recurrent net then takes {axes['steps']} step(s) and never walks through the series.",
        [Fix({"data.sequence.layout": flip}, f"read x as {'(N, features, steps)' if flip == 'channels_first' else '(N, steps, features)'}"
             f" (data.sequence.layout: {flip}), so the net steps through time")])


def split_twins(history, signals, ctx: Context) -> Finding | None:
    """Copies of one record on both sides of the split (context.split_twins): with
    data.clean.drop_duplicates off, a file that repeats its rows puts a twin of most validation rows
    in training, so validation scores memory instead of generalisation, early stopping and every
    choice made on it follow that, and the run ends on a memorised model (breast_cancer with each row
    four times and 20% wrong labels: 0.81 against 0.92 deduplicated; ninth held-out set). Fires when
    a tenth of the validation rows (5 or more) has an exact twin in training, in a table with a
    column of measurements, where two records rarely agree to the last digit by chance."""
    twins = ctx.split_twins
    if not twins or twins["share"] < 0.1 or twins["with_training_twin"] < 5:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**twins, "drop_duplicates": False, "limit": "share >= 0.1 of validation rows, 5 or more"},
        f"{twins['with_training_twin']} of the {twins['val_rows']} validation rows ({twins['share']:.0%}) are exact "
        f"copies of training rows, inputs and target alike, with data.clean.drop_duplicates off. Validation then "
        f"rewards memorising the training rows, so its scores, early stopping and any tuning on them overstate what "
        f"the model does on new records.",
        [Fix({"data.clean.drop_duplicates": True}, "drop the repeated rows before the split, so each record lands "
                                                   "in one split only")])


def text_cut_short(history, signals, ctx: Context) -> Finding | None:
    """data.text.max_len cuts most texts to a fraction of their words (context.text_cut): whatever
    the label depends on past the cut never reaches the network (reviews cut to 16 tokens before
    their verdict: 0.49 against 0.97 at 64; ninth held-out set). Fires when half the training texts
    are cut and under half of all their tokens are kept; the fix keeps 99% of the texts whole."""
    cut = ctx.text_cut
    if not cut or cut["truncated"] < 0.5 * cut["rows"] or cut["kept_share"] >= 0.5:
        return None
    to = min(TEXT_LEN_CAP, -(-max(cut["length_p99"], 1) // 8) * 8)
    why = (f"{to} tokens keep 99% of the training texts whole" if to >= cut["length_p99"] else
           f"{to} tokens, the most worth the attention's cost (which grows with the square of the length)")
    fixes = [Fix({"data.text.max_len": to}, why)] if to > cut["max_len"] else []
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**cut, "limit": "truncated >= 0.5 of the texts and kept_share < 0.5 of the tokens"},
        f"data.text.max_len is {cut['max_len']} tokens: {cut['truncated']} of {cut['rows']} training texts are longer "
        f"and are cut, keeping {cut['kept_share']:.0%} of their tokens (99% of the texts have up to "
        f"{cut['length_p99']}). Whatever decides the label past the cut never reaches the network.",
        fixes)


TEXT_LEN_CAP = 512  # attention's cost grows with the square of the length


def narrow_head(history, signals, ctx: Context) -> Finding | None:
    """A dense head (model.head of an rnn or cnn) with a layer narrower than the outputs it feeds:
    everything the network predicts passes through fewer numbers than it must tell apart, and one
    ReLU unit is one non-negative number (head [1] before a 6-step forecast: r2 0.43 against 0.94;
    ninth held-out set). Fires under max(2, outputs, classes) units."""
    need = max(2, ctx.n_outputs or 0, ctx.n_classes or 0)
    if ctx.model_type == "cnn" and ctx.flat_width is not None and ctx.flat_width < need and ctx.cnn_blocks:
        found = _narrow_convolutions(ctx, need)   # None where the blocks already have the usual widths
        if found is not None:
            return found
    if ctx.model_type not in ("rnn", "cnn") or not ctx.head:
        return None
    narrow = min(ctx.head)
    if narrow >= need:
        return None
    wide = max(32, 2 * need)
    fixed = [max(w, wide) if w < need else w for w in ctx.head]
    return Finding(
        "underfitting", "warning", 0, 0,
        {"head": ctx.head, "outputs": ctx.n_outputs, "classes": ctx.n_classes, "limit": f"every head layer >= {need}"},
        f"model.head {ctx.head} has a layer of {narrow} unit(s) before {ctx.n_outputs} output(s)"
        f"{f' for {ctx.n_classes} classes' if ctx.n_classes else ''}: everything the network predicts must pass "
        f"through {narrow} number(s), too few to carry it.",
        [Fix({"model.head": fixed}, f"widen the narrow layer to {wide} units", architecture=True)])


def _narrow_convolutions(ctx: Context, need: int) -> Finding | None:
    """A CNN whose conv blocks hand the dense layers fewer numbers than the outputs: blocks of 1
    channel ("digits are grayscale") left 4 numbers per 8x8 digit for 10 classes (0.65 against 0.98;
    tenth held-out set). The fix gives the blocks the usual widths, 16 doubling per block."""
    channels = [b["channels"] for b in ctx.cnn_blocks]
    widths = [max(c, min(128, 16 * 2 ** i)) for i, c in enumerate(channels)]
    if widths == channels:
        return None  # usual widths (many classes after global pooling): nothing this fix would change
    return Finding(
        "underfitting", "warning", 0, 0,
        {"channels": channels, "flattened": ctx.flat_width, "outputs": ctx.n_outputs,
         "classes": ctx.n_classes, "limit": f"flattened >= {need}"},
        f"model.blocks have {channels} channel(s): after pooling the conv blocks hand the dense layers "
        f"{ctx.flat_width} number(s) per input, fewer than the {need} {'classes' if ctx.n_classes else 'outputs'} "
        f"the network must tell apart. Whatever the images show is squeezed through too few numbers to carry it.",
        [Fix({"model.blocks": [{**b, "channels": w} for b, w in zip(ctx.cnn_blocks, widths)]},
             f"give the blocks {widths} channels", architecture=True)])


def decays_too_fast(history, signals, ctx: Context) -> Finding | None:
    """A step, multistep or exponential schedule that takes the rate under 1% of its start before
    half of the planned epochs (context.schedule_collapse): the rest of the run barely moves the
    weights (exponential with gamma 0.5 per epoch over 15 epochs: 0.91 against 0.98; ninth held-out
    set; the suite's step decays every 1 or 5 epochs). Judged before training from the config; the
    fix is the schedule that spends the whole run going down."""
    at = ctx.schedule_collapse
    if not at:
        return None
    cosine = {"schedule.name": "cosine"}
    why = "a cosine schedule spends the whole run going from the rate to zero"
    if ctx.model_type == "transformer" and not ctx.warmup_epochs and ctx.optimizer != "sgd" and ctx.lr >= 1e-3:
        # Cosine keeps the full rate for longer than the fast decay did, and a transformer's first
        # steps at a full adaptive rate are what warmup guards against (rules._warmup_fix): the
        # sequence transformer at AdamW 1e-2 scored 0.84/0.91 under cosine alone, 0.90/0.96 with 2
        # warmup epochs (seeds 0/1; ninth held-out set).
        cosine["schedule.warmup_epochs"] = 2
        why += ", after 2 epochs of warmup that spare a transformer's first steps the full rate"
    return Finding(
        "plateau", "warning", 0, 0,
        {**at, "schedule": ctx.schedule, "limit": "rate under 1% of its start before half the epochs"},
        f"The {ctx.schedule} schedule has the learning rate under 1% of its start ({at['factor']:.2g}x) from epoch "
        f"{at['epoch']} of {at['epochs']}: the epochs after that barely move the weights, so the run stalls wherever "
        f"it is then (schedule.gamma, step_size or milestones decay far too fast for this run).",
        [Fix(cosine, why), Fix({"schedule.name": "constant"}, "keep the rate constant")])


def usual_augment_fix(ctx: Context) -> Fix | None:
    """Each augmentation component above its usual range brought back into it: rotation 15 degrees,
    translate 0.1, noise 0.1."""
    usual = {"rotation": 15.0, "translate": 0.1, "noise": 0.1}
    over = {f"data.augment.{k}": v for k, v in usual.items() if ctx.augment.get(k, 0) > v}
    if not over:
        return None
    usual_range = ", ".join(f"{k.rsplit('.', 1)[-1]} {v:g}" for k, v in over.items())
    return Fix(over, f"augmented rows differ from the originals by {ctx.augment_distortion:.1f}x their own size: "
                     f"back to the usual range ({usual_range})")


# Before training, augmentation is named on its own only when it moves a row a quarter past the
# row's own size: translate 0.5 on 8x8 digits moves a digit 1.33x its size and left a CNN at 0.67
# against 0.99 (ninth held-out set), while rotation 30 with translate 0.2 (1.02), a quarter-image
# shift (1.02) or both flips (0.84) are heavy settings that can be meant; those are only named once
# training fails (rules._augment_fix, at 1.0).
AUGMENT_ALONE_LIMIT = 1.25


def augment_too_strong(history, signals, ctx: Context) -> Finding | None:
    if ctx.augment_distortion is None or ctx.augment_distortion < AUGMENT_ALONE_LIMIT:
        return None
    fix = usual_augment_fix(ctx)
    settings = ", ".join(f"{k} {str(v).lower() if isinstance(v, bool) else format(v, 'g')}"
                         for k, v in ctx.augment.items())
    return Finding(
        "underfitting", "warning", 0, 0,
        {"augment": ctx.augment, "augment_distortion": ctx.augment_distortion, "limit": AUGMENT_ALONE_LIMIT},
        f"data.augment ({settings}) moves each training row by "
        f"{ctx.augment_distortion:.2f}x its own size (median over 256 rows): the network sees more augmentation than "
        f"data, the training rows stop looking like the validation rows, and it underfits both.",
        [fix] if fix else [])


# A vocabulary that leaves out this share of the words the training texts use more than once, at a
# min_freq of 1% of the training texts or more: on 960 support tickets, min_freq 50 (from a config
# for two million) made every topic word <unk> (56% of the repeated words, 5% of the tokens) and
# left the transformer at chance (0.33 against 0.98; tenth held-out set). A large corpus's min_freq
# is a sliver of its texts, and the words it drops are the long tail.
VOCAB_DROPPED_SHARE = 0.3
MIN_FREQ_TEXT_SHARE = 0.01


def vocab_starved(history, signals, ctx: Context) -> Finding | None:
    """data.text.min_freq set for a far larger corpus (context.text_vocab): most words that recur
    in the training texts are read as <unk>. Only where min_freq, not vocab_size, is what cuts."""
    v = ctx.text_vocab
    if not v or v["min_freq"] <= 2 or not v["repeated_words"]:
        return None
    share = v["repeated_dropped"] / v["repeated_words"]
    capped = v.get("vocab_limit") is not None and v["vocab_size"] >= v["vocab_limit"]
    if share < VOCAB_DROPPED_SHARE or v["min_freq"] < MIN_FREQ_TEXT_SHARE * v["rows"] or capped:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**v, "dropped_share": round(share, 3),
         "limit": f"dropped_share >= {VOCAB_DROPPED_SHARE} and min_freq >= {MIN_FREQ_TEXT_SHARE} x training texts"},
        f"data.text.min_freq {v['min_freq']} keeps only words seen {v['min_freq']} times or more in {v['rows']} training "
        f"texts: {v['repeated_dropped']} of the {v['repeated_words']} words they use more than once ({share:.0%}) are "
        f"read as <unk>, {v['unknown_rate']:.0%} of all tokens. Whatever the labels depend on among those words never "
        f"reaches the network.",
        [Fix({"data.text.min_freq": 2}, "keep every word the training texts use twice or more")])


def clip_flattens(history, signals, ctx: Context) -> Finding | None:
    """data.clean.clip_outliers with bounds that collapse to one value (context.clip_flattened):
    IQR clipping on a count that is 0 in over 75% of the rows has Q1 = Q3 = 0, so every late payment,
    chargeback and dispute flag became 0 and the net predicted the majority (0.71 against 0.89;
    tenth held-out set). Any such column is constant as the network sees it."""
    cols = ctx.clip_flattened
    if not cols:
        return None
    names = [c["column"] for c in cols]
    return Finding(
        "bad_input_data", "warning", 0, 0, {"clip_outliers": ctx.clip_outliers, "columns": cols,
                                            "limit": "clip bounds collapse to one value"},
        f"data.clean.clip_outliers: {ctx.clip_outliers} fits bounds of one value on {len(cols)} column(s) {names}: "
        f"over half of their training values are the same number, so the range it measures is 0, and every "
        f"other value ({sum(c['clipped'] for c in cols)} training cells) is clipped to it. The network sees "
        f"{'these columns' if len(cols) > 1 else 'this column'} as constant.",
        [Fix({"data.clean.clip_outliers": "none"}, "keep the values as they are (scaling still brings them to size)")])


# Deduplication that removed half the rows or more and left this share of the distinct inputs with
# more than one label: the rows were not copies of one record but respondents who answered alike,
# and how many of them said yes or no was the signal. Survey answers over 1024 patterns, 20000 rows
# cut to 1931: 907 of the patterns kept one yes and one no, and the net fell to 0.69/0.65 against
# 0.78 with the repeats (tenth held-out set). A table of measurements rarely repeats an input at all.
DEDUP_CONFLICT_SHARE = 0.2


def dedup_conflicts(history, signals, ctx: Context) -> Finding | None:
    d = ctx.dedup_conflicts
    if not d or d["share"] < DEDUP_CONFLICT_SHARE:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0, {**d, "drop_duplicates": True,
                                            "limit": f"half the rows dropped and share >= {DEDUP_CONFLICT_SHARE}"},
        f"data.clean.drop_duplicates removed {d['duplicates_dropped']} of {d['rows_loaded']} rows, and "
        f"{d['with_several_labels']} of the {d['train_inputs']} distinct training inputs ({d['share']:.0%}) still appear "
        f"with more than one label. These repeats are different records that happen to agree, not copies of one: "
        f"how often each answer occurs was what the model could learn, and deduplication threw it away.",
        [Fix({"data.clean.drop_duplicates": False}, "keep the repeated rows: each is a record of its own")])


# A series with this share of its rows dropped for a missing value: the windows then run across
# the gaps as if the hours were consecutive (18.5% of the hours blank in drop-outs of 1-8 hours:
# r2 0.62 against 0.86 interpolated; tenth held-out set).
SERIES_GAP_SHARE = 0.05


def series_gaps_dropped(history, signals, ctx: Context) -> Finding | None:
    g = ctx.series_gaps
    if not g or g["share"] < SERIES_GAP_SHARE:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0, {**g, "missing": "drop", "limit": f"share >= {SERIES_GAP_SHARE}"},
        f"data.series.missing: drop removed {g['dropped']} of the series' {g['rows_loaded']} rows ({g['share']:.0%}) "
        f"for a missing value. The rows left are joined as if they were consecutive, so many windows run across "
        f"gaps: the steps the network reads as one hour apart are sometimes many hours apart, and the target it "
        f"forecasts is not the horizon it was asked for.",
        [Fix({"data.series.missing": "interpolate"}, "fill each gap from its neighbours, so every step is one step")])


# Sequences whose signal is followed by zero steps (padding written after it, "post" padding) in
# half the training rows or more, the padding a quarter of their length at the median: a recurrent
# net reads the signal first and then a long run of zeros that washes it out of its state before
# the last step, the only one the head sees (an LSTM with 30-48 zero steps after 12-30 steps of
# signal: 0.33 against 0.90 with the same padding in front; tenth held-out set). Transformers and
# convolutions see every step at once and are left alone.
PADDED_AFTER_SHARE = 0.5
PADDED_AFTER_LENGTH = 0.25


def padded_after(history, signals, ctx: Context) -> Finding | None:
    p = ctx.trailing_padding
    if ctx.model_type != "rnn" or not p or p.get("method") != "as_given" or not p.get("rows"):
        return None
    share = p["padded_after"] / p["rows"]
    if share < PADDED_AFTER_SHARE or p["median_share"] < PADDED_AFTER_LENGTH:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**p, "share": round(share, 4), "limit": f"share >= {PADDED_AFTER_SHARE} of the sequences, median padding "
                                                 f">= {PADDED_AFTER_LENGTH} of the length"},
        f"{p['padded_after']} of {p['rows']} training sequences ({share:.0%}) end in steps that are all zero, "
        f"{p['median_share']:.0%} of their length at the median: padding written after the signal. A recurrent "
        f"network reads the signal first and then that run of zeros, which washes it out of its state before the "
        f"last step, the one its head sees.",
        [Fix({"data.sequence.padding": "front"}, "move each sequence's padding to its start, so the signal ends "
                                                 "on the last step")])
