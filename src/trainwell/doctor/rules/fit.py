"""How the fit ends: generalization lost after some epoch (overfitting), or both losses held high
by too little capacity, too much regularization or a network that cannot read the data
(underfitting)."""

from __future__ import annotations

import math
import statistics

from ..facts import Context, usual_top as _usual_top
from ..findings import Finding, Fix
from ..measures import (_epoch, _heavy_l2, _l2_fix, _lr_fix, _median_ratio, _rel_improvement, _smoothing_fix,
                        _vals, chance_loss, heavy_smoothing)
from .preparation import usual_augment_fix
from .yardstick import _linear_loss, _no_linear_signal, _times


def _augment_fix(ctx: Context) -> Fix | None:
    """Augmentation that moves a training row further than the row's own size: the network sees
    more augmentation than data. Healthy digits settings (rotation 10, translate 0.1) move a row
    0.59 of its size; noise of std 3 in normalized units 3.0, rotation 90 with translate 0.4 and
    that noise 3.2, and that CNN stayed at chance for all 15 epochs (second held-out set). Only
    named when training is already failing, so a strong but learnable setting (rotation 30 with
    translate 0.2: 1.02) is never blamed on its own. The fix takes each component back to the
    usual range: rotation 15 degrees, translate 0.1, noise 0.1."""
    if ctx.augment_distortion is None or ctx.augment_distortion <= 1.0:
        return None
    return usual_augment_fix(ctx)


NEVER_GENERALISED = 0.9


def overfitting(history, signals, ctx: Context) -> Finding | None:
    val = [h.get("val_loss") for h in history]
    train = [h.get("train_loss") for h in history]
    if not ctx.has_val or len(history) < 5 or any(v is None or not math.isfinite(v) for v in val + train):
        return None
    # The best epoch is taken among those where the model already fitted its training rows about
    # as well as unseen ones (25% slack: dropout and the epoch-mean lag raise the training loss).
    # A lower validation loss while the training loss was still far above it is an early dip of a
    # noisy, still learning run (a 512x512 net on 62 diabetes rows: val 2.28, 0.86, 1.84, 1.02 at
    # epochs 3-7, train 1.46 at the dip), not the point where generalisation was lost; nor does
    # it hide a later loss (a 512x512 net on a quarter of wine: val 0.18 at epoch 1 with train
    # 0.76, then train 0 and val flat at 0.20-0.22 for 148 epochs).
    fitted = [i for i in range(len(val)) if train[i] <= 1.25 * val[i]]
    if not fitted:
        return None
    best = min(fitted, key=val.__getitem__)
    after = len(val) - 1 - best
    # Three epochs past the best with val loss 10% above it, while train loss fell another 10%:
    # the model is fitting noise in the training set, and the gap keeps growing. The rise must
    # also be worth 0.02 nats: near-zero losses (0.02 -> 0.023) move by noise alone.
    gap_then, gap_now = val[best] - train[best], val[-1] - train[-1]
    rising = not (after < 3 or val[-1] < 1.1 * val[best] or val[-1] - val[best] < 0.02
                  or train[-1] > 0.9 * train[best]) and gap_now > gap_then
    # Or memorising without the rise: validation loss has not improved by 1% in 10 epochs while the
    # training loss sits under 5% of it (the training rows are fitted 20x better than unseen ones),
    # so every further epoch only memorises. A healthy fit keeps the two within a few x.
    cut = len(val) - 10
    before = [val[i] for i in fitted if i < cut]
    stalled = (len(val) >= 15 and bool(before) and min([val[i] for i in fitted if i >= cut], default=math.inf)
               > 0.99 * min(before) and train[-1] < 0.05 * val[best] and gap_now > 0.02)
    if not (rising or stalled):
        return None
    fixes = [Fix({"training.early_stopping.enabled": True, "training.early_stopping.restore_best": True},
                 f"stop at the best epoch ({_epoch(history, best)}) and keep its weights"),
             Fix({"optimizer.weight_decay": max(ctx.weight_decay * 10, 1e-3)},
                 "penalise large weights (L2) so the model cannot memorise")]
    if ctx.dropout > 0:
        fixes.append(Fix({"model.dropout": round(min(0.5, ctx.dropout + 0.2), 2)}, "more dropout"))
    elif ctx.model_type in ("mlp", "cnn"):
        fixes.append(Fix({"model.dropout": 0.3}, "add dropout", architecture=True))
    handled = ctx.early_stopping and ctx.restore_best
    # A lower validation loss at an epoch whose training loss was still far above it is not the best
    # fit (see `fitted`): say so where it is the lowest of the run.
    among = (", the best of the epochs where the training loss had come down to the validation loss"
             if min(range(len(val)), key=val.__getitem__) not in fitted else "")
    # Early stopping's best weights are no comfort when even they guess: a classifier whose best
    # validation loss is 90% of the chance loss or more while it fits its training rows (training
    # loss under half of chance) never generalised (wine beside 400 noise sensors: best 1.198
    # against chance 1.088, training loss 0.03, test accuracy 0.370). A training loss near chance
    # too is no memorising: weak features on 13 rare rows (breast cancer at 5%, class weights) leave
    # both losses there.
    chance = chance_loss(ctx) if ctx.task != "regression" else None
    # Judged on the lowest validation loss of the run, which early stopping keeps (an early dip before
    # the training rows were fitted counts there).
    lowest = min(val)
    guessing = bool(chance) and lowest >= NEVER_GENERALISED * chance and train[-1] < 0.5 * chance
    return Finding(
        "overfitting", "info" if handled and not guessing else "warning", _epoch(history, best), None,
        {"best_epoch": _epoch(history, best), "best_val_loss": val[best], "val_loss_now": val[-1],
         "train_loss_at_best": train[best], "train_loss_now": train[-1], "gap_at_best": gap_then,
         "gap_now": gap_now, "pattern": "val rising" if rising else "val stalled, train < 5% of val",
         "limits": "val +10%, train -10%, 3 epochs; or val flat 10 epochs with train < 5% of val"},
        (f"Validation loss was best at epoch {_epoch(history, best)} ({val[best]:.4g}){among} and has risen to "
         f"{val[-1]:.4g} while training loss kept falling ({train[best]:.4g} -> {train[-1]:.4g})." if rising else
         f"Validation loss has improved by under 1% in 10 epochs (best {val[best]:.4g} at epoch {_epoch(history, best)}"
         f"{among}) while training loss is down to {train[-1]:.4g}, under 5% of it.")
        + " The model is memorising the training rows instead of learning what generalises."
        + (f" Early stopping keeps the best epoch's weights, but even they are no better than guessing: the best "
           f"validation loss is {lowest / chance:.0%} of the chance loss ({chance:.4g})." if handled and guessing else
           " Early stopping keeps the best epoch's weights, so the final model is not affected." if handled else ""),
        fixes[1:] if handled else fixes)


# A plain (Elman) RNN multiplies its gradient by the recurrent weights and tanh's slope at every
# step back, so over tens of steps it fades or blows up (Bengio et al. 1994); the gates of a GRU or
# LSTM give it a path that does neither (Hochreiter & Schmidhuber 1997). A 24-unit plain RNN on the
# 60-step sequences stayed at chance for 20 epochs (0.35) where the GRU of that size reached 0.97.
# From 20 steps: the usual length where the textbooks' plain RNNs stop learning what came first.
PLAIN_RNN_STEPS = 20


_PLAIN_RNN_WHY = (" The network is a plain RNN (model.cell: rnn) reading {steps} steps: its gradient is multiplied "
                  "by the recurrent weights at every step back, so what came early in a sequence barely reaches "
                  "the weights, and such nets rarely learn dependencies over more than 10-20 steps.")


# Widths under these are too narrow for any sequence task the suites hold: a recurrent state of a
# few numbers (the 1-unit LSTM forecaster: r2 0.35 against 0.95 at 24) or a transformer whose
# tokens are 2 numbers (d_model 2 at chance on the 3-class sequences, 0.88 at 16). The usual sizes
# start at 32 and 64.
NARROW_HIDDEN_SIZE = 16


NARROW_D_MODEL = 8


def _narrow_fix(ctx: Context) -> Fix | None:
    """Widen a recurrent state or a transformer's model width far below the usual sizes; give a
    transformer on ordered data the positions it was built without."""
    if ctx.model_type == "rnn" and ctx.hidden_size and ctx.hidden_size < NARROW_HIDDEN_SIZE:
        return Fix({"model.hidden_size": 32}, f"a hidden state of {ctx.hidden_size} numbers is all the network "
                                              f"keeps of the sequence: 32 is a small usual size", architecture=True)
    if ctx.model_type == "transformer" and ctx.positional == "none" and ctx.data_kind in ("timeseries", "sequence", "text"):
        # Without positions attention sees a bag of steps: mean pooling then cannot tell the latest
        # hour from the oldest (a forecaster at r2 0.20 against 0.89; sixth held-out set).
        return Fix({"model.positional": "sinusoidal"}, "attention alone does not see the order of the steps; "
                                                       "position encodings tell it which came when", architecture=True)
    if ctx.model_type == "transformer" and ctx.d_model and ctx.d_model < NARROW_D_MODEL:
        width = 32 if 32 % (ctx.heads or 1) == 0 else 8 * (ctx.heads or 1)
        return Fix({"model.d_model": width, "model.ff": 2 * width},
                   f"each token is {ctx.d_model} numbers wide, too few to carry what attention gathers: {width} "
                   f"(feed-forward {2 * width}) is a small usual size", architecture=True)
    return None


def _gated_cell_fix(ctx: Context) -> Fix | None:
    if ctx.model_type != "rnn" or ctx.cell != "rnn" or (ctx.steps or 0) < PLAIN_RNN_STEPS:
        return None
    return Fix({"model.cell": "gru"}, "a GRU's gates carry the state and its gradient across the steps unshrunk; "
                                      "it is the usual cure for a plain RNN on long sequences", architecture=True)


def _larger_mlp(ctx: Context) -> list[int] | None:
    """[128, 64], or every layer twice as wide (up to 1024) where that is no larger: an 8x64 sigmoid
    stack was offered [128, 64], a third of its weights, as 'a larger network'."""
    features = len(ctx.feature_rms) or 64
    weights = lambda hidden: sum(a * b for a, b in zip([features, *hidden], hidden))  # noqa: E731
    usual, now = [128, 64], list(ctx.mlp_hidden or [])
    if weights(usual) > weights(now):
        return usual
    wider = [min(1024, 2 * w) for w in now]
    return wider if weights(wider) > weights(now) else None   # at the cap already: no larger network to offer


# The most a training loss may fall in 5 epochs, validation stalled, and still be a stall, where the
# network stays far above the linear yardstick (underfitting).
CREEP_FAR = 0.05


def underfitting(history, signals, ctx: Context) -> Finding | None:
    train, val = _vals(history, "train_loss"), _vals(history, "val_loss")
    chance = chance_loss(ctx)
    # With heavy L2 the cause is known and every epoch under it is lost (the weights shrink
    # towards zero), so 5 epochs and a 3-epoch stall suffice; otherwise 10 epochs and 5, since
    # a healthy run can pause for a few epochs early on.
    heavy = _heavy_l2(ctx)
    # Transformers train at dropout 0.1; 0.5 there already drowns a small model (a sequence
    # transformer at 0.5: 0.78 against 0.90 at 0; tenth held-out set).
    if chance is not None and val and (ctx.dropout > 0.5 or (ctx.dropout >= 0.5 and ctx.model_type == "transformer")):
        found = _dropout_underfit(history, train, val, chance, ctx)
        if found:
            return found
    if ctx.task == "regression" and ctx.dropout >= 0.5 and val:
        found = _dropout_noise(history, train, val, ctx)
        if found:
            return found
    if chance is None or len(train) < (5 if heavy else 10) or not val:
        return None
    gain = _rel_improvement(train, 3 if heavy else 5)
    ratio = _median_ratio(signals.get("records", []))
    # Half the chance loss still left (40% for classification), train and val within 10% of each
    # other, and less than 2% progress in 5 epochs: the model cannot represent the pattern, it is
    # not just slow. Classification is held to the lower 40%: cross-entropy falls far below chance
    # on any learnable labels (healthy suite runs end under 15% of it), and 40% of chance is
    # still a poor classifier (0.92 nats on 10 classes, about 65-70% accuracy). Regression keeps
    # 50%: noisy targets (diabetes: r2 about 0.5) legitimately end near half the variance.
    limit = 0.5 if ctx.task == "regression" else 0.4
    # A hidden layer narrower than the classes squeezes every class through fewer numbers than
    # there are classes: such a net still creeps down, so up to 10% in 5 epochs counts as a stall.
    # GELU with 2 units on digits fell 9% in epochs 7-12 at 75% of chance and ended at 0.40 against
    # 0.974 (second held-out set); healthy suite runs are under 40% of chance by epoch 3.
    # The same for a recurrent state narrower than the classes: a GRU of 2 units on five kinds of
    # lift ride crept 4-5% every 5 epochs to 0.69 against 0.99 at 32 units (twentieth held-out set).
    width = ctx.narrowest_hidden if ctx.model_type == "mlp" else ctx.hidden_size if ctx.model_type == "rnn" else None
    bottleneck = bool(width and ctx.n_classes and ctx.n_classes > 2 and width < ctx.n_classes)
    # Under 20% of chance a net has learned most of what there is to learn, whatever a linear
    # model does (and a converged healthy run never pays for fitting one, below).
    if gain is None or train[-1] < 0.2 * chance:
        return None
    # A creep of up to CREEP_FAR in 5 epochs with validation stalled is a stall too where the net
    # stays far above the linear yardstick (`far`, below): at 2-3% per 5 epochs it is hundreds of
    # epochs from what a linear model does. A turbine net whose power curve could only fall as the
    # wind rose crept 0.81 -> 0.77 in 5 epochs, validation flat at 0.93 for 10, while ridge
    # regression reached 0.41 on validation (r2 0.12 against 0.95; twentieth held-out set).
    creeping = not bottleneck and 0.02 < gain <= CREEP_FAR and len(val) >= 10 and \
        min(val[-5:]) >= 0.98 * min(val[:-5])
    if gain > (0.1 if bottleneck else 0.02) and not creeping:
        return None
    if ratio is not None and ratio < 1e-4:
        return None  # tiny steps: that is lr_too_low, not a small model
    # A training loss that rose by more than 5% over those epochs did not stall: it was knocked
    # back up, which is instability (a large rate, an exploding step), not a model too small (an
    # LSTM at SGD 0.1 went 0.61 -> 1.08 -> 0.72 and was called underfitting at 66% of chance,
    # three epochs before it reached 0.10). Heavy L2 is the exception: it lifts the loss itself.
    if gain < -0.05 and not heavy:
        return None
    # Nor one that was already well under the limit in this run and has been knocked back up
    # since, less than 5% over the last 5 epochs but far above its own best: a healthy LSTM
    # reached 0.24 (chance 1.10) at epoch 14, jumped to 0.52 at epoch 16, and was called here at
    # 47% of chance; it was back at 0.31 by epoch 19 (seventh held-out set).
    best_at = train.index(min(train))
    if min(train) < 0.8 * min(limit * chance, train[-1]) and len(train) - best_at <= 10 and not heavy:
        return None
    # A linear model on the same rows is the yardstick (fitted once, only when a stall gets here).
    # A network that fits its own training rows no better than the linear model predicts unseen
    # ones is too weak whatever its loss says: a GELU net squeezed through 1 unit on digits stalled
    # at 50% of chance with validation 31% above it (0.46 against 0.96), where logistic regression
    # reaches 0.1 nats. And one that fits them as well (within 10%), where the linear model did
    # learn, meets the noise in the data, not a limit of its own: a healthy net on the churn table
    # stalled at 47% of chance beside logistic regression's 51% (fifth held-out set). Where the
    # linear model learned nothing it says nothing of the noise: a plain RNN at chance on the
    # 60-step sequences, whose classes no linear map of the steps tells apart, is too weak. One that
    # learned part of the way is a yardstick still: survey answers whose labels are noisy by nature
    # (logistic regression at 68% of chance, accuracy 0.78 at a Bayes rate of 0.77) left a healthy
    # net at 69% of chance beside it (tenth held-out set).
    linear = _linear_loss(ctx) if not heavy else None
    high, close = train[-1] >= limit * chance, abs(val[-1] - train[-1]) <= 0.1 * train[-1]
    # Nor does a linear model excuse a plain RNN on a long window that learned next to nothing (its
    # training loss at 80% of chance or more) when the linear model's own loss is no better than
    # chance (it beat the majority in accuracy only): a linear map of the flattened steps misses what
    # a gated net finds in them (a trill in birdsong: the linear model at 1.22 of chance, the plain
    # RNN at 0.95, a GRU at 0.002; nineteenth held-out set), and the plain cell is the known weak
    # part. A linear model well under chance (noisy labels: 0.91 of it) still says where the noise is.
    stuck_plain = _gated_cell_fix(ctx) is not None and train[-1] >= 0.8 * chance and linear is not None \
        and linear >= 0.95 * chance
    # Far above the linear model: judged on the better of the two losses, as dropout or augmentation
    # lift the training loss alone (a breast_cancer net at dropout 0.5: training 0.143, validation
    # 0.043 beside the linear 0.041). 3x; 1.5x where the training loss itself is `high` (limit x
    # chance or more: 40% of chance, 50% for regression): a net that fits its own rows that badly, and
    # worse than a linear model predicts new ones, is no good fit held back by noise (the turbine net
    # above: 0.77 and 0.93 beside 0.41).
    far = linear is not None and min(train[-1], val[-1]) >= (1.5 if high else 3) * linear
    if creeping and not far:
        return None
    if high and close:
        if linear is not None and train[-1] <= 1.1 * linear and not _no_linear_signal(ctx) and not stuck_plain:
            return None
    elif not far:
        return None
    fixes = [Fix({"training.epochs": ctx.epochs * 2}, "train longer")]
    # Not after the doctor cut the rate for overshooting: raising it again undoes that repair
    # (a transformer at AdamW 2.0, cut to 0.02, was then raised to 0.06 and ended at chance).
    top = _usual_top(ctx)
    if ctx.lr > top:
        # Above its optimizer's usual range a larger rate is no cure: a sequence transformer at
        # AdamW 0.5, stalled at chance, was raised to 1.5 (fifth held-out set). Into the range instead.
        fixes.append(_lr_fix(ctx, top / ctx.lr, f"{ctx.lr:g} is above the usual range for {ctx.optimizer} "
                                                f"(up to {top:g})"))
    elif not ctx.lr_cuts:
        # A net that learned nothing at all (at 95% of chance or more) needs more than a nudge: an
        # LSTM whose one_cycle peak was set to 2e-4 (its intended start) scored 0.52 at 6e-4 and
        # 0.91 at 2e-3 (tenth held-out set). Within the usual range either way.
        factor = min(10 if train[-1] >= 0.95 * chance else 3, max(top / ctx.lr, 1.0))
        if factor > 1:
            fixes.append(_lr_fix(ctx, factor, "a larger learning rate"))
    larger = _larger_mlp(ctx) if ctx.model_type == "mlp" else None
    if larger:
        fixes.insert(0, Fix({"model.hidden": larger}, "a larger network", architecture=True))
    narrow = _narrow_fix(ctx)
    if narrow is None and bottleneck and ctx.model_type == "rnn":
        wide = max(32, 2 * ctx.n_classes)   # a state of the usual width (16 or more) still under the classes
        narrow = Fix({"model.hidden_size": wide}, f"a recurrent state of {wide} numbers, more than the "
                                                  f"{ctx.n_classes} classes it must tell apart", architecture=True)
    if narrow is not None:
        fixes.insert(0, narrow)
    gated = _gated_cell_fix(ctx)
    if gated is not None:
        fixes.insert(0, gated)
    if _heavy_l2(ctx):
        fixes.insert(0, _l2_fix(ctx))
    augment = _augment_fix(ctx)
    if augment is not None:
        fixes.insert(0, augment)
    if heavy_smoothing(ctx):
        # Label smoothing 0.99 on digits: the true class's target 0.109 against 0.099, the loss
        # pinned at 2.31 (chance 2.30) and accuracy 0.24 (third held-out set).
        fixes.insert(0, _smoothing_fix(ctx))
    return Finding(
        # Heavy L2 works from the first step: its onset is the start, and a rollback goes there
        # (a state from epoch 1 of breast_cancer at Adam weight decay 3 ended 1.2 points lower).
        "underfitting", "warning", _epoch(history, 0 if heavy or augment is not None else -6), None,
        {"train_loss": train[-1], "val_loss": val[-1], "chance_loss": chance,
         "limit": f"{limit} x chance" if high and close else f"{1.5 if high else 3} x the linear model's validation loss",
         f"train_loss_gain_last_{3 if heavy else 5}_epochs": gain,
         **({"linear_model_val_loss": round(linear, 5)} if linear is not None else {}),
         **({"narrowest_hidden" if ctx.model_type == "mlp" else "hidden_size": width, "classes": ctx.n_classes}
            if bottleneck else {})},
        (f"Training loss {'creeps down' if gain > 0.02 else 'stalls'} at {train[-1]:.4g}, more than {limit:.0%} of the "
         f"{chance:.4g} of a model ignoring its inputs, and validation loss is just as high ({val[-1]:.4g}). "
         if high and close else
         f"Training loss {'creeps down' if gain > 0.02 else 'stalls'} at {train[-1]:.4g}, {_times(train[-1], linear, '.0f')} the "
         f"validation loss a linear model reaches on the same features ({linear:.4g}), and validation loss is "
         f"{val[-1]:.4g}: the network fits its own training rows worse than a linear model predicts new ones. ")
        + "The model is too small or too constrained to fit the training data"
        + (f" (regularization.l1 {ctx.l1:g} is heavy)." if ctx.l1 >= 0.01 else
           f" (weight_decay {ctx.weight_decay:g} is heavy)." if _heavy_l2(ctx) else
           f": label smoothing {ctx.label_smoothing:g} makes the targets almost uniform, so there is "
           f"next to nothing to fit." if heavy_smoothing(ctx) else
           f": {'a hidden layer' if ctx.model_type == 'mlp' else 'a recurrent state'} of {width} units must carry all "
           f"it knows about {ctx.n_classes} classes." if bottleneck else ".") + (_PLAIN_RNN_WHY.format(steps=ctx.steps) if gated else ""),
        fixes)


def _dropout_underfit(history, train: list[float], val: list[float], chance: float, ctx: Context) -> Finding | None:
    """Dropout above 0.5 that leaves the network unable to learn. The training loss is measured
    with units dropped, the validation loss with all of them: when the dropped net does worse than
    the whole one and the whole one stalls far from a fit, the dropping is what holds it back (a
    digits net at dropout 0.9: training loss 13.5 -> 2.9, validation stuck at 0.9-1.0x chance from
    epoch 3, 33% accuracy; the same net at 0.5 reached 95.6%). The training loss still falls, so
    the usual stall test (train loss flat) never fires. Five epochs, the last 3 without a new best
    validation loss, at 40% of chance or more (the limit below; 60% for regression)."""
    if len(val) < 5 or len(train) < 5:
        return None
    limit = 0.6 if ctx.task == "regression" else 0.4
    best_before, best_recent = min(val[:-3]), min(val[-3:])
    # A transformer's dropped net may fit its rows better than the whole one fits new ones (the
    # sequence transformer at 0.5: 0.52 against 0.68) and still be held back by the dropping.
    if best_recent < 0.99 * best_before or val[-1] < limit * chance:
        return None
    # Only while the two losses stay close and validation is not climbing: a transformer whose
    # training loss falls far below a rising validation loss overfits, and dropout is its cure.
    below = train[-1] <= val[-1]
    if below and (ctx.model_type != "transformer" or train[-1] < 0.7 * val[-1] or val[-1] > 1.05 * min(val)):
        return None
    to = 0.1 if ctx.model_type == "transformer" else 0.2  # a transformer's usual rate (0.84 at 0.2, 0.88 at 0.1)
    return Finding(
        "underfitting", "warning", _epoch(history, -3), None,
        {"dropout": ctx.dropout, "train_loss": train[-1], "val_loss": val[-1], "best_val_loss": best_before,
         "chance_loss": chance, "limit": f"dropout > 0.5 (0.5 for a transformer), val >= {limit} x chance with no new "
                                         f"best in 3 epochs, train (units dropped) above val (a transformer's: at "
                                         f"least 0.7 x val, val within 5% of its best)"},
        f"With dropout {ctx.dropout:g}, {ctx.dropout:.0%} of the units are switched off at every step: the network "
        f"trains as a much smaller, noisy one. Its validation loss ({val[-1]:.4g}, all units on) has not improved "
        f"in 3 epochs and is {val[-1] / chance:.0%} of a model ignoring its inputs, while the training loss with "
        + (f"units dropped is close to it ({train[-1]:.4g}): the net fits its own rows little better than new ones. "
           f"A transformer usually trains at dropout 0.1." if below else
           f"units dropped is higher still ({train[-1]:.4g}). The usual range for dropout is 0.1 to 0.5."),
        [Fix({"model.dropout": to}, f"dropout {to:g} regularises without drowning the signal")])


# A regression net at dropout 0.5 or more whose training loss (units dropped) stays this many times
# its validation loss (all units on): the dropping, not the data, sets the training loss, and the
# output it adds noise to is the prediction itself. A smooth target at dropout 0.5: training 1.6-2x
# validation from epoch 10 on, r2 0.82 against 0.88 at 0 (tenth held-out set); a healthy [256, 256]
# net at dropout 0.3 on noisy targets ran 0.9-1.3x (sixth held-out set).
DROPOUT_NOISE_RATIO = 1.3


def _dropout_noise(history, train: list[float], val: list[float], ctx: Context) -> Finding | None:
    # An MLP with hidden layers: where model.dropout surely acts (a one-layer rnn without a head has none).
    if len(train) < 10 or len(val) < 10 or ctx.loss != "mse" or not ctx.target_scaled or ctx.model_type != "mlp" \
            or not ctx.narrowest_hidden:
        return None
    ratio = statistics.median(t / v for t, v in zip(train[-5:], val[-5:]) if v > 0) if min(val[-5:]) > 0 else None
    if ratio is None or ratio < DROPOUT_NOISE_RATIO or val[-1] < 0.05:
        return None
    return Finding(
        "underfitting", "warning", _epoch(history, -5), None,
        {"dropout": ctx.dropout, "train_loss": train[-1], "val_loss": val[-1], "train_over_val_median_5": round(ratio, 3),
         "limit": f"dropout >= 0.5, train (units dropped) >= {DROPOUT_NOISE_RATIO} x val over 5 epochs"},
        f"With dropout {ctx.dropout:g} the network's training loss, measured with {ctx.dropout:.0%} of the units "
        f"switched off, stays {ratio:.1f}x its validation loss with all of them on. In a regression each dropped unit "
        f"shifts the predicted value itself, so the training sees mostly that noise: the net learns slowly and settles "
        f"short of what it could fit. The usual dropout for regression is 0 to 0.1.",
        [Fix({"model.dropout": 0.1}, "dropout 0.1 regularises a regression net without drowning its output")])
