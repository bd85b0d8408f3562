"""The learning rate out of place: steps that throw the network or make the loss oscillate
(lr_too_high), and steps too small to make progress in the budget (lr_too_low)."""

from __future__ import annotations

import math
import statistics

from ..facts import Context, usual_top as _usual_top
from ..findings import Finding, Fix
from ..measures import (_early_ratio, _epoch, _fastest_layer_ratio, _heavy_l2, _landing_note, _lr_cut, _lr_fix,
                        _lr_raise, _lr_room, _median_ratio, _rel_improvement, _round_lr, _vals, chance_loss,
                        loss_shift)
from .plan import ADAM_FAMILY, HUBER_DELTA_SHARE
from .fit import _narrow_fix
from .yardstick import _linear_learned, _linear_loss, _times


def lr_too_high(history, signals, ctx: Context) -> Finding | None:
    losses = _vals(history, "train_loss")
    if _heavy_l2(ctx):
        return None
    if len(losses) < 4:
        return _thrown_at_start(history, signals, ctx)
    chance = chance_loss(ctx)
    ratio = _median_ratio(signals.get("records", []))
    recent = losses[-4:]
    no_trend = recent[-1] > 0.97 * recent[0]  # < 3% progress over 3 epochs
    diffs = [b - a for a, b in zip(losses[-6:], losses[-5:])]
    flips = sum(1 for a, b in zip(diffs, diffs[1:]) if a * b < 0)
    oscillating = len(diffs) >= 4 and flips >= len(diffs) - 2  # the loss goes up and down, epoch after epoch
    # Steps of at least 0.1% of each weight: a run whose weights barely move (lr too LOW, or a
    # fresh net that starts above chance) cannot be overshooting, however high its loss.
    moving = ratio is None or ratio > 1e-3
    # A training loss measured with units dropped (dropout 0.9) can sit far above chance while
    # the whole network predicts better than chance on validation rows: the rate did not break
    # the model (digits at dropout 0.9: train 9.1 -> 5.5, validation 2.13-2.18, chance 2.30). A
    # rate too high breaks both (the suite's lr faults: validation 2-30x chance on most epochs).
    vals = _vals(history, "val_loss")[-4:]
    sound = chance is not None and len(vals) >= 2 and statistics.median(vals) < chance
    # A loss that fell at each of the last 3 epochs with steps under 1% of the weights is a slow
    # descent from a bad start, not a rate that overshoots (a 4-unit net on random labels went
    # 1.553, 1.538, 1.524, 1.509 with steps of 0.13%, chance 1.08, and was called here). Of the
    # suite's lr faults that reached this rule on seeds 0-2, none fell 3 epochs in a row with
    # steps that small.
    creeping = all(b < a for a, b in zip(recent, recent[1:])) and ratio is not None and ratio < 0.01
    # Above chance after 3 epochs: steps so large the model is worse than ignoring its input.
    above_chance = chance is not None and min(recent) > 1.1 * chance and moving and not sound and not creeping
    # Twice chance on each of the last 4 epochs needs no flat trend: a loss falling from 5x to 2.5x
    # chance is still a model far worse than ignoring its input (a GRU at Adam 1.0 stayed there for
    # 12 of its 20 epochs, and was called only when the trend flattened). A fresh network starts
    # near the loss of uniform predictions (ln K, chance itself for balanced classes), and a
    # healthy one is below it within an epoch or two. With imbalanced classes chance is lower
    # than that start (0.20 at 95/5 against ln 2 = 0.69), so the start is the level: a 95/5
    # breast_cancer net falling 1.12, 0.78, 0.57, 0.44 at Adam 3e-3 was called here.
    # And a loss that fell by 10% or more at each of the last 3 epochs is descending from a bad
    # start, not thrown about by the rate (a sigmoid net with N(0, 3) weights: 15.9, 8.8, 5.1,
    # 2.7 at Adam 1e-2, whose saturated units are the finding; the GRU at Adam 1.0 went 5.7, 6.8,
    # 5.9, 4.0).
    # (ln K above label smoothing's floor, as chance: see examine)
    start = _start_level(ctx, chance) if chance is not None else None
    descending = all(b < 0.9 * a for a, b in zip(recent, recent[1:]))
    well_above = chance is not None and min(recent) > 2 * start and moving and not sound and not descending \
        and not creeping
    # 5% of each weight's size per step is huge: healthy runs move 0.01%-1% (Karpathy's 1e-3 rule).
    big_steps = ratio is not None and ratio > 0.05
    # Loss jumps: an epoch whose training loss is 50% above the one before, by at least a tenth
    # of chance (so tiny losses near zero do not count). A descending run rarely goes up at all;
    # two jumps in the last 6 epochs with steps of 1% of the weights (10x the healthy 1e-3) is a
    # rate that throws the weights across the valley. Adam at lr 1 on wine does this while its
    # loss touches 0 between jumps, so it shows neither "no trend" nor "above chance".
    unit = 0.1 * chance if chance else 0.1
    jumps = sum(1 for a, b in zip(losses[-6:], losses[-5:]) if b > 1.5 * a and b - a > unit)
    erratic = jumps >= 2 and ratio is not None and ratio > 0.01
    # One such jump is enough at a rate FAR_OUT times the top of its optimizer's usual range or more
    # (lint.LR_RANGE), when the run never came back below where it stood before the jump: a GRU at
    # RAdam 2.0 went 1.05, 0.57, 0.38, then 1.68, and crept back only to 0.45-0.54 in 8 epochs, its
    # steps by then 0.2% of the weights, as a healthy run's (second held-out set: 0.82 against 0.95,
    # and nothing was named). Of every case file's runs at such a rate, the only healthy one is a
    # residual net at Adam 0.1, 10x the top, that never jumps.
    far_out = ctx.lr >= FAR_OUT * _usual_top(ctx)
    setback = _unrecovered_jump(history, unit) if far_out else None
    # Or, at such a rate, 4 epochs near chance without progress: a transformer at AdamW 0.5 (50x the
    # top) wandered 0.99-1.05 against ln 3 = 1.10 for 12 epochs, under `above_chance` and too loose
    # for stuck_at_chance's 3%; underfitting named it at epoch 11 and cut the rate only to 0.01 (0.659
    # against 0.881; fifth held-out set).
    stalled = far_out and chance is not None and no_trend and all(abs(v - chance) <= NEAR_CHANCE * chance
                                                                  for v in recent)
    unsettled = erratic or well_above or no_trend and (above_chance or (oscillating and big_steps)
                                                        or (big_steps and ratio > 0.2))
    if not (unsettled or setback is not None or stalled):
        return _thrown_at_start(history, signals, ctx)
    # 10x smaller at least (a rate 3x too high still oscillates), up to 1000x for adaptive
    # optimizers, sized on the first checks (a rate far too high inflates the weights, which
    # makes later ratios look smaller); 10x for SGD (see _lr_cut).
    factor = _lr_cut(ctx, signals.get("records", []), ratio)
    # First steps that were throws (see THROWN_RATIO) did their harm at once: the onset is the
    # first epoch, so a repair starts over from the weights before them. MAE on RAdam 3.0 moved
    # diabetes' weights by 76% at step 1; rolled back to epoch 1, already thrown, and cut to 3e-3,
    # it crept to r2 -0.27, where the same rate from the start reaches 0.28.
    early = _early_ratio(signals.get("records", []), ctx.judged_from)
    onset = (ctx.judged_from or 0) + 1 if _thrown(early, ctx) else _epoch(history, -4)
    evidence = {"train_loss_last_4": [round(v, 5) for v in recent], "chance_loss": chance,
                "median_update_ratio": ratio, "limit_update_ratio": 0.05, "direction_changes": flips,
                "loss_jumps_last_6": jumps, "lr": ctx.lr, "early_update_ratio": early}
    told = ""
    if not unsettled and setback is None:
        # Nothing learned is lost by starting over, and the weights the rate threw are left behind.
        onset = (ctx.judged_from or 0) + 1
        evidence.update(lr_over_usual_top=round(ctx.lr / _usual_top(ctx), 1), limit_lr_over_usual_top=FAR_OUT,
                        limit_near_chance=NEAR_CHANCE)
        told = (f"; it has stayed within {NEAR_CHANCE:.0%} of the {chance:.3g} a model ignoring its inputs reaches, "
                f"at a rate {ctx.lr / _usual_top(ctx):.0f}x the top of the usual range for {ctx.optimizer} "
                f"({_usual_top(ctx):g})")
    elif not unsettled:
        # named by the jump alone: the damage began there, and a rollback goes to before it
        at, before, after, floor, lowest = setback
        onset = onset if _thrown(early, ctx) else at
        evidence.update(loss_jump={"epoch": at, "before": round(before, 5), "after": round(after, 5),
                                   "lowest_before": round(floor, 5), "lowest_since": round(lowest, 5)},
                        lr_over_usual_top=round(ctx.lr / _usual_top(ctx), 1), limit_lr_over_usual_top=FAR_OUT)
        told = (f"; in epoch {at} it jumped from {before:.4g} to {after:.4g} and has not come back below "
                f"{floor:.4g} since (lowest {lowest:.4g}), at a rate {ctx.lr / _usual_top(ctx):.0f}x the top of "
                f"the usual range for {ctx.optimizer} ({_usual_top(ctx):g})")
    return Finding(
        "lr_too_high", "error" if above_chance else "warning", onset, None, evidence,
        f"The training loss does not settle (last 4 epochs: {', '.join(f'{v:.4g}' for v in recent)})"
        + told
        + (f" and stays above the {chance:.3g} a model ignoring its inputs would reach" if above_chance else "")
        + (f"; each step changes the weights by {ratio:.1%} of their size" if ratio is not None else "")
        + f". The learning rate ({ctx.lr:g}) is so large that steps overshoot the minimum.",
        _throw_fixes(ctx, factor, f"a {1 / factor:.0f}x smaller learning rate takes steps that land in the valley "
                                  f"instead of across it", thrown=_thrown(early, ctx))
        + [Fix({"schedule.name": "reduce_on_plateau", "optimizer.lr": _round_lr(ctx.lr * 0.3)},
               "start lower and cut the rate when progress stalls")])


# A rate this many times the top of its optimizer's usual range (lint.LR_RANGE) is one the rules hold
# to a single loss jump, or to a stall near chance (see lr_too_high). Of the case files' 36 runs at 10x
# or more, 35 are faults.
FAR_OUT = 10.0
# A loss this close to chance (as a share of it) is one that learned nothing, at such a rate.
NEAR_CHANCE = 0.15
# Epochs after a jump that must all stay above the lowest loss before it: one epoch back near the
# old level is a run that shrugged the jump off.
SETBACK_EPOCHS = 3


def _unrecovered_jump(history, unit: float) -> tuple[int, float, float, float, float] | None:
    """The last epoch whose training loss jumped 50% over the epoch's before, by `unit` or more, after
    which every loss, SETBACK_EPOCHS of them at least, stayed above the lowest before the jump:
    (its epoch, the loss before it, its loss, the lowest before, the lowest since); else None."""
    pairs = [(_epoch(history, i), h["train_loss"]) for i, h in enumerate(history)
             if isinstance(h.get("train_loss"), (int, float)) and math.isfinite(h["train_loss"])]
    losses = [v for _, v in pairs]
    for i in range(len(losses) - SETBACK_EPOCHS, 0, -1):
        a, b = losses[i - 1], losses[i]
        if b > 1.5 * a and b - a > unit:
            floor, since = min(losses[:i]), min(losses[i:])
            return (pairs[i][0], a, b, floor, since) if since > floor else None
    return None


# A first step that moves the weights by a fifth of their size or more is a throw: most healthy runs
# take 1e-3 to 2e-2 in their first checks. Not all: over the healthy runs of all seven case files
# (seed 0, session 16) three took more, full-batch SGD on wine 0.37, an LSTM forecaster at RMSprop
# 0.33 and Adagrad on digits 0.25, and each was under a fifth of chance within 2 epochs. So a throw
# alone is no finding: every path that reads it also asks for a loss that stays high after it.
THROWN_RATIO = 0.2


# A training loss at 3x the linear yardstick's validation loss or more, where that model learned,
# is a network doing far worse than a straight line on the same rows (underfitting's limit too).
THROWN_LINEAR = 3.0


def _thrown(early: float | None, ctx: Context) -> bool:
    """The first epoch's steps were throws: a ratio of THROWN_RATIO or more, with the standard init
    (weights born tiny make any step look large beside them)."""
    return early is not None and early >= THROWN_RATIO and ctx.init_weight in ("auto", "default", "pytorch")


def _thrown_at_start(history, signals, ctx: Context) -> Finding | None:
    """A rate so large that its first steps threw the weights into a poor region, where the
    network then stays without a blow-up, a rise above chance or a jump: an LSTM forecaster at SGD
    2.0 with momentum 0.9 moved its weights by 51% of their size at step 1, then took steps of
    0.2%-0.5% with its training loss at 0.17-0.26 for 9 epochs, where a ridge regression reached
    0.034 on the validation rows (r2 0.67 against 0.95 at Adam 3e-3; at SGD 0.1, 0.95; fifth
    held-out set). Only with the standard init (weights born tiny make any step look large
    beside them), and only while the training loss has not fallen by 10% at each of the last 2
    epochs (a descent still under way)."""
    losses = _vals(history, "train_loss")
    records = signals.get("records", [])
    early = _early_ratio(records, ctx.judged_from)
    chance = chance_loss(ctx)
    if len(losses) < 3 or not _thrown(early, ctx) or chance is None:
        return None
    flattened = _thrown_to_chance(history, ctx, chance)
    if flattened is not None:
        # As serious as the stuck_at_chance it causes (an error), and named before it: a text
        # transformer at AdamW 2.0 sat at chance from epoch 1 and was reported as stuck first.
        return _thrown_finding(ctx, records, early, flattened, "error")
    recent = losses[-3:]
    if len(losses) < 4 or all(b < 0.9 * a for a, b in zip(recent, recent[1:])):
        return None
    shown = ", ".join(f"{v:.4g}" for v in recent)
    linear = _linear_loss(ctx)
    if linear is not None and _linear_learned(ctx) and min(recent) >= max(THROWN_LINEAR * linear, 0.1 * chance):
        return _thrown_finding(ctx, records, early, (
            {"train_loss_last_3": [round(v, 5) for v in recent], "linear_val_loss": round(linear, 5),
             "limit_linear_multiple": THROWN_LINEAR},
            f"Nothing blew up, but the training loss (last 3 epochs: {shown}) stays "
            f"{_times(min(recent), linear)} the {linear:.3g} a linear model reaches on the validation rows."))
    start = _start_level(ctx, chance)
    # Not at the data's own noise: a linear model that learned and does as well (within 1.5x).
    level = linear is not None and _linear_learned(ctx) and min(recent) <= 1.5 * linear
    if ctx.task != "regression" and min(recent) >= THROWN_SLOW * start and not level:
        return _thrown_finding(ctx, records, early, (
            {"train_loss_last_3": [round(v, 5) for v in recent], "chance_loss": round(start, 5),
             "limit_chance_share": THROWN_SLOW},
            f"Since then the training loss (last 3 epochs: {shown}) has not come down to half the {start:.3g} "
            f"of a model that ignores its input, nor fallen 10% an epoch."))
    return None


# A classifier still at half its chance loss or more 4 epochs after thrown first steps, and not
# falling 10% an epoch, learns from a poor region: the transformer below on another seed left
# chance at once but crept 1.07, 0.95, 0.87 (ln 3 = 1.10) and ended at 0.77 accuracy against 0.96.
# A healthy LSTM at RMSprop 3e-3 (first steps of 11%) fell 0.91, 0.76, 0.59: 16% and 22% an epoch;
# the healthy runs with first steps of 25-37% (see THROWN_RATIO) were under a fifth of chance by
# epoch 2.
THROWN_SLOW = 0.5


def _start_level(ctx: Context, chance: float) -> float:
    """The loss a fresh classifier starts from: ln K above label smoothing's floor, or chance where
    that is higher (see lr_too_high)."""
    return max(chance, math.log(len(ctx.class_shares)) - loss_shift(ctx)) if ctx.class_shares else chance


# Epochs at chance after thrown first steps, within THROWN_CHANCE of the chance loss: the throw
# wiped out what the network knew, and it predicts the class shares whatever its input.
THROWN_CHANCE = 0.03


def _thrown_to_chance(history, ctx: Context, chance: float) -> tuple[dict, str] | None:
    """Thrown first steps that flattened a classifier to chance: 2 of its epochs 2-4 (after the
    start or the last repair) at the chance loss, within 3%. The accuracy is not asked: averaged
    over an epoch whose weights still move it can read above the majority share at that loss
    (0.43 against 0.33 below). A three-layer transformer at Adam 0.1 without warmup moved its weights by
    22% at step 1 (the median over its layers) and sat at 1.101 and 1.092 (chance ln 3 = 1.099, accuracy 0.43 and 0.39) in
    epochs 2 and 3, then half recovered (0.83 against 0.92 for Adam 1e-2 with warmup; sixth
    held-out set); stuck_at_chance waits for 3 epochs in a row, and it left after 2. A healthy
    network that starts at chance and takes a while to leave it does not take first steps of
    THROWN_RATIO (see there)."""
    if ctx.task == "regression":
        return None
    since = [h for h in history if isinstance(h.get("epoch"), int) and h["epoch"] > (ctx.judged_from or 0)]
    # At either level: ln K, where uniform predictions sit, or chance proper (the class shares'
    # entropy), where a net that learned the shares and nothing else sits when classes are uneven.
    levels = sorted({round(_start_level(ctx, chance), 6), round(chance, 6)})
    flat = [h for h in since[1:4] if isinstance(h.get("train_loss"), (int, float))
            and any(abs(h["train_loss"] - v) <= THROWN_CHANCE * v for v in levels)]
    if len(flat) < 2:
        return None
    shown = ", ".join(f"{h['train_loss']:.4g} (epoch {h['epoch']})" for h in flat)
    what = " or ".join(f"{v:.3g}" for v in levels)
    return ({"train_loss_at_chance": [round(h["train_loss"], 5) for h in flat], "chance_loss": levels,
             "limit_chance_share": THROWN_CHANCE},
            f"Then the training loss sat at the {what} of a model that ignores its input (uniform answers, or the "
            f"class shares): {shown}. The throw wiped out what the network knew.")


def _thrown_finding(ctx: Context, records: list[dict], early: float, said: tuple[dict, str],
                    severity: str = "warning") -> Finding:
    evidence, words = said
    factor = _lr_cut(ctx, records)
    where = "the start" if not ctx.judged_from else f"epoch {ctx.judged_from}"
    return Finding(
        "lr_too_high", severity, ctx.judged_from + 1 if ctx.judged_from else 1, None,
        {"early_update_ratio": round(early, 4), "limit_update_ratio": THROWN_RATIO, **evidence, "lr": ctx.lr},
        f"The first steps after {where} moved the weights by {early:.0%} of their size (healthy first steps move "
        f"0.1%-2%): the learning rate ({ctx.lr:g} with {ctx.optimizer}) threw the network far from where it started. "
        + words,
        _throw_fixes(ctx, factor, f"a {1 / factor:.0f}x smaller learning rate takes first steps of a usual size"))


def _throw_fixes(ctx: Context, factor: float, reason: str, thrown: bool = True) -> list[Fix]:
    """The cut for a rate whose first steps were throws; a transformer without warmup gets a
    warmup first. Its attention and layer norms are most fragile in the first steps, with Adam's
    moment estimates still empty, which is why transformers are trained with warmup (Vaswani et
    al. 2017; Liu et al. 2020, "On the Variance of the Adaptive Learning Rate"). Then a 10x cut
    is enough, and a cosine decay where the rate was constant: the three-layer transformer at
    Adam 0.1 scored 0.88/0.90 (seeds 0/1) at 1e-3 without warmup, 0.87/0.96 at 1e-2, and
    0.92/0.96 at 1e-2 with 2 warmup epochs and cosine."""
    plain = _lr_fix(ctx, factor, reason)
    if (not thrown or ctx.model_type != "transformer" or ctx.warmup_epochs > 0 or ctx.optimizer == "sgd"
            or ctx.schedule == "one_cycle"):  # one_cycle rises from lr / div_factor: a warmup of its own
        return [plain]
    # 10x less, or as far as the plain cut where that is higher; at most the top of the usual
    # range (Adam at 2.0 lands at 1e-2, not 0.2).
    warm = {"optimizer.lr": _round_lr(max(ctx.lr * factor, min(ctx.lr * 0.1, _usual_top(ctx)))),
            "schedule.warmup_epochs": 2}
    if ctx.schedule == "constant":
        warm["schedule.name"] = "cosine"
    return [Fix(warm, "a smaller rate reached after 2 epochs of warmup (then decayed): the first steps of a "
                      "transformer, before the optimizer's running estimates settle, are the ones that throw it"),
            plain]


def _few_steps(losses: list[float], records: list[dict], still_high: bool, ratio: float) -> bool:
    """Steps of a usual size, but too few of them: under 5 an epoch (full batch, or nearly), and
    the training loss falling every epoch for 6 epochs by under 1% an epoch while still high.
    Full-batch SGD at 1e-3 on wine took one step an epoch of 2e-4 to 1e-3 of the weights and fell
    0.5% an epoch in a straight line, at 2.6x chance after 12 of its 60 epochs (0.148 against 1.000;
    third held-out set). With many steps an epoch the same fall is a rate whose steps are measured
    tiny (the usual test, below); here each step is fine and there are simply not enough.
    Judged at the schedule's full rate, with steps under 5e-3 of the weights (steps that are
    already large are not what is short), and steps an epoch counted between checks at least an
    epoch apart (a check can come early in its epoch)."""
    if not still_high or len(losses) < 6 or len(records) < 2 or not 0 < ratio < 5e-3:
        return False
    peak = max((r.get("lr", 0.0) for r in records), default=0.0)
    if records[-1].get("lr", 0.0) < 0.5 * peak:
        return False
    first, last_check = records[0], records[-1]
    epochs = last_check.get("epoch", 0) - first.get("epoch", 0)
    if epochs < 1 or (last_check["step"] - first["step"]) / epochs >= 5:
        return False
    last = losses[-6:]
    falls = [(a - b) / abs(a) for a, b in zip(last, last[1:]) if a]
    return len(falls) == 5 and all(0 < f < 0.01 for f in falls)


# 1e-3: far above the 1e-8 default and above most gradients' running size (healthy 1e-4 to 1e-1),
# where it starts to set the step instead of the gradient's size.
EPS_LIMIT = 1e-3


# A third of the planned epochs gone, the better of the training and validation losses 3x a linear
# model's validation loss or more, and at its pace over the last 3 epochs still 1.5x it at the end:
# steps of a usual size, too few of them for the budget. A GRU forecaster on Adagrad at Adam's rate
# (3e-3), whose steps shrink as its squared gradients pile up, was at 0.33 (ridge regression: 0.044)
# after 5 of 12 epochs, its validation loss falling 0.05 that epoch, and ended at r2 0.69 against 0.94 (eleventh held-out
# set); at 3e-2 it scores 0.94 from the start. A run still falling that fast is no stall, so the
# stall rules never spoke. Judged on validation falling at each of the last 3 epochs: one that has
# stopped falling is underfitting's to judge.
BEHIND_LINEAR = 3.0


def _behind_linear(history, ratio: float, ctx: Context) -> Finding | None:
    train, val = _vals(history, "train_loss"), _vals(history, "val_loss")
    done = _epoch(history, -1) if history else 0
    if len(val) < 4 or len(train) < 1 or done < ctx.epochs / 3 or ctx.lr_cuts or _heavy_l2(ctx):
        return None
    # Steps of a usual size (healthy runs: 1e-3 to 2e-2 early on, 1e-4 and up later): larger ones
    # are no sign that the rate is too small, and tiny ones are the rest of lr_too_low's to judge,
    # with their own causes (an eps, a clip, a Huber delta).
    if not 1e-4 <= ratio <= 2e-3:
        return None
    last = val[-4:]
    falls = [(a - b) / a for a, b in zip(last, last[1:]) if a > 0]
    if len(falls) < 3 or min(falls) <= 0:
        return None
    best, chance = min(train[-1], val[-1]), chance_loss(ctx)
    if chance is not None and best < 0.2 * chance:
        return None  # most of the way there: not worth fitting the linear model to ask
    linear = _linear_loss(ctx)
    if linear is None or linear <= 0 or not _linear_learned(ctx) or best < BEHIND_LINEAR * linear:
        return None
    # Projected as if validation kept falling by its last epoch's amount to the end: a loss curve
    # bends flatter as it goes, so that is more than it will get, and a run still short of the mark
    # that way is short. (A geometric projection from the mean relative fall called a healthy wine
    # net slow whose loss was falling by a steady 0.085 an epoch from 2.6x chance: it ended at 0.93.)
    pace, left = statistics.mean(falls), max(ctx.epochs - done, 0)
    projected = val[-1] - (val[-2] - val[-1]) * left
    factor = min(10.0, _lr_room(ctx))
    if projected < 1.5 * linear or factor < 2:
        return None
    evidence = {"median_update_ratio": ratio, "train_loss": train[-1], "val_loss": val[-1],
                "linear_model_val_loss": round(linear, 5), "val_fall_per_epoch": round(pace, 4), "epochs_left": left,
                "projected_at_end": round(projected, 5), "lr": ctx.lr,
                "limit": f"better loss >= {BEHIND_LINEAR:g}x the linear model's after a third of the epochs; "
                         f"validation, falling by its last epoch's amount to the end, still >= 1.5x it"}
    behind = (f"After {done} of {ctx.epochs} epochs the {'validation' if val[-1] <= train[-1] else 'training'} loss "
              f"(the lower of the two) is {best:.4g}, {_times(best, linear)} the validation loss a linear model reaches "
              f"on the same features ({linear:.4g}). It still falls ({pace:.0%} an epoch over the last 3), but even "
              f"falling as much as in the last epoch to the end, validation would end at {projected:.3g} or more, far "
              f"from a fit")
    faster = [_lr_fix(ctx, factor, f"a {factor:.0f}x larger learning rate, within {ctx.optimizer}'s usual range"),
              Fix({"training.epochs": ctx.epochs * 2}, "train longer")]
    # A recurrent state or a transformer's width far under the usual sizes creeps the same way, with
    # steps of a usual size: the narrow network is the first suspect, not the rate. A GRU of 2 units
    # on lift rides was given Adam 1e-2 for 5e-3 and ended at 0.66 against 0.97 at 32 units
    # (twentieth held-out set).
    narrow = _narrow_fix(ctx)
    if narrow is not None and set(narrow.overrides) & {"model.hidden_size", "model.d_model"}:
        return Finding(
            "underfitting", "warning", done, None, {**evidence, "narrow": next(iter(narrow.overrides.items()))[0]},
            f"{behind}. Each step is of a usual size ({ratio:.1e} of the weights): the network is too narrow to fit "
            f"what a linear model finds ({narrow.reason}).",
            [narrow, *faster])
    return Finding(
        # No rollback: every epoch so far was progress, only too slow.
        "lr_too_low", "warning", done, None, evidence,
        f"{behind}: each step is of a usual size ({ratio:.1e} of the weights), and there are too few of them at this "
        f"learning rate ({ctx.lr:g} with {ctx.optimizer}) for the epochs planned.",
        faster)


def lr_too_low(history, signals, ctx: Context) -> Finding | None:
    losses = _vals(history, "train_loss")
    records = signals.get("records", [])
    ratio = _median_ratio(records, full_lr=True)
    if ratio is None:
        return None
    behind = _behind_linear(history, ratio, ctx)
    if behind is not None:
        return behind
    # Steps 100x below the healthy 1e-3, over at least 3 checks, are no borderline call: judged
    # after 2 epochs instead of 4, as every epoch at such a rate is lost (a transformer at AdamW
    # 5e-7: 1.3e-6; the repaired run then has 2 more epochs at a working rate).
    extreme = 0 < ratio < 1e-5 and sum(1 for r in records[-8:] if r.get("update_ratio")) >= 3
    if len(losses) < (2 if extreme else 4):
        return None
    chance = chance_loss(ctx)
    span = min(3, len(losses) - 1)
    gain = _rel_improvement(losses, span)
    # 1e-4 of the weight per step, 10x below the ~1e-3 of healthy runs (in the fault suite SGD at
    # 1e-5 gives 2e-5 to 5e-5, Adam at 1e-6 3e-6): a weight needs ~10^4 steps to change by its
    # own size. Converging healthy runs can also fall to ~1e-4, so the loss must be high too:
    # < 3% progress in 3 epochs while it still holds half of chance's. Slow, not converged.
    # Judged at the schedule's full rate (see _median_ratio).
    still_high = (chance is None and losses[-1] > 0.5 * losses[0]) or (chance is not None and losses[-1] > 0.5 * chance)
    few = _few_steps(losses, records, still_high, ratio)
    # Steps 30x below healthy ones (under 3e-5) are slow even while the loss falls a few percent
    # an epoch: from a high start that is still tens of epochs from done (Adam with eps 10 moved a
    # breast_cancer net 2-3e-5 a step, its loss falling 2.3% an epoch, at 65% of chance after 20
    # epochs; fifth held-out set). Up to 5% an epoch there, over 2 epochs or more: one epoch's fall
    # says too little of the pace.
    per_epoch = 0.05 if ratio < 3e-5 and span >= 2 else 0.01
    # Huber's gradient beyond delta is delta x sign(residual): with delta 1e-4 every step is 1e-4 of
    # an L1 step, whatever the rate. Raising the rate 100x (SGD to 1.0, the usual top) still left a
    # diabetes net at r2 -0.40 against the 0.06 of delta 1 (second held-out set); the delta is the fault.
    # Read against the target's own spread: 0.01 on a standardized target ("one percent of the load")
    # caps nearly every residual, and a GRU forecaster crept 3-4% an epoch to r2 0.05 against 0.92
    # (tenth held-out set). There a loss still above half its start after 5 epochs, falling under 5%
    # an epoch, is the capped gradient at work, whatever the steps measure.
    # Judged against the target's spread where it is standardized (1); a target in its own units
    # keeps the absolute 0.01 (its RMS counts its mean too, so it is no measure of the residuals).
    tiny_delta = ctx.loss == "huber" and ctx.huber_delta < (HUBER_DELTA_SHARE if ctx.target_scaled else 0.01)
    # Plain SGD only: an Adam-family step divides by the gradient's running size, so a capped
    # gradient still gives steps of about lr, and such a loss is small because delta is.
    capped = tiny_delta and ctx.optimizer == "sgd" and len(losses) >= 5 and gain is not None and \
        gain < 0.05 * span and losses[-1] > 0.5 * losses[0]
    # A ratio of exactly 0 is no step at all (dead units, no gradient), not a slow one.
    if not few and not capped and not (0 < ratio < 1e-4 and gain is not None and gain < per_epoch * span and still_high):
        return None
    # Some layer already steps at a healthy 1e-3 of its size: the rate is big enough, the other
    # layers get too little gradient (deep sigmoid stacks: the head at 0.2, the first layer at 0).
    if not few and not capped and (_fastest_layer_ratio(signals.get("records", [])) or 0.0) >= 1e-3:
        return None
    factor = _lr_raise(ctx, ratio)
    if few and factor:
        # Each step is of a usual size; what is short is their number: 10x further, within the
        # usual range (wine's full batch: 0.01 ended at 0.926 against 1.000, 0.1 at 1.000).
        factor = min(10 * factor, _lr_room(ctx))
    # Clipping each gradient element at 1e-5 caps every step at lr x 1e-5, whatever the gradient:
    # a digits net at SGD 0.05 stayed at 8% accuracy, and the rate raised 20x to make up for it
    # ended at 0.833 against 0.967 (third held-out set). Healthy per-element gradients here run
    # 1e-4 to 1e-1, so a limit under 1e-3 caps most of them; only named once the steps are
    # measured to be tiny (above).
    # SGD only: Adam-family steps divide by the gradient's running size, so a clipped gradient
    # still gives steps of about lr.
    tiny_clip = ctx.optimizer == "sgd" and ctx.clip_grad_value is not None and ctx.clip_grad_value < 1e-3
    # The same for a gradient norm clipped under 1e-3: the whole step is then at most lr x the clip
    # long, where healthy gradient norms run 0.1 to 10 (a churn net at SGD with clip_grad_norm 1e-4
    # stayed at its random start, 0.26 against 0.87, and the rate raised 100x to 1.0 gave 0.30;
    # fifth held-out set).
    tiny_norm = ctx.optimizer == "sgd" and ctx.clip_grad_norm is not None and ctx.clip_grad_norm < 1e-3
    # An Adam-family step is lr x m / (sqrt(v) + eps): with eps far above the gradients' size
    # (1e-8 by default; 10 in that breast_cancer net) it is lr x gradient / eps, a plain SGD step
    # 10 times smaller than the gradient, at any rate.
    big_eps = ctx.optimizer in ADAM_FAMILY and ctx.eps >= EPS_LIMIT
    if factor is None and not (tiny_delta or tiny_clip or tiny_norm or big_eps):
        return None
    fixes = [_lr_fix(ctx, factor, f"a {factor:.0f}x larger learning rate: steps of about 0.005 of the weight's "
                                  f"size, as healthy runs take early on" + _landing_note(ctx, factor))] if factor else []
    if tiny_clip:
        fixes.insert(0, Fix({"regularization.clip_grad_value": None},
                            f"no clipping of each gradient element: at {ctx.clip_grad_value:g} it caps every step at "
                            f"{ctx.clip_grad_value:g} x the learning rate (clip_grad_norm is the usual guard)"))
    if big_eps:
        fixes.insert(0, Fix({"optimizer.eps": 1e-8}, f"eps {ctx.eps:g} swamps the gradient's running size in "
                                                     f"{ctx.optimizer}'s step; 1e-8 is its default"))
    if tiny_norm:
        fixes.insert(0, Fix({"regularization.clip_grad_norm": 1.0},
                            f"clip the gradient norm at 1.0, the usual guard against spikes: at {ctx.clip_grad_norm:g} "
                            f"every step is at most {ctx.clip_grad_norm:g} x the learning rate long"))
    if tiny_delta:
        fixes.insert(0, Fix({"loss.huber_delta": 1.0}, f"Huber's gradient is capped at delta: 1.0 (its default) "
                                                       f"gives residuals beyond it the gradient of an L1 loss, "
                                                       f"{1 / ctx.huber_delta:.0f}x that of delta {ctx.huber_delta:g}"))
    return Finding(
        "lr_too_low", "warning", _epoch(history, -span - 1), None,
        {"median_update_ratio": ratio, "limit_update_ratio": 1e-4, "train_loss_gain": round(gain, 5), "gain_over_epochs": span,
         "train_loss": losses[-1], "chance_loss": chance, "lr": ctx.lr,
         **({"huber_delta": ctx.huber_delta, "limit_huber_delta": HUBER_DELTA_SHARE if ctx.target_scaled else 0.01}
            if tiny_delta else {}),
         **({"clip_grad_value": ctx.clip_grad_value, "limit_clip_grad_value": 1e-3} if tiny_clip else {}),
         **({"clip_grad_norm": ctx.clip_grad_norm, "limit_clip_grad_norm": 1e-3} if tiny_norm else {}),
         **({"eps": ctx.eps, "limit_eps": EPS_LIMIT} if big_eps else {}),
         **({"few_steps": True, "limit": "under 5 steps an epoch, the loss falling under 1% an epoch for 6"}
            if few else {})},
        (f"Each step moves the weights by {ratio:.1e} of their size, a usual amount, but there are fewer than 5 "
         f"steps an epoch (a full or nearly full batch), and the training loss has fallen by under 1% an epoch "
         f"for 6 epochs while still high ({losses[-1]:.4g}). " if few else
         f"The training loss improved by {gain:.2%} over the last {span} epoch{'s' if span > 1 else ''} and is "
         f"still {losses[-1] / losses[0]:.0%} of where it started ({losses[-1]:.4g}). " if capped and not ratio < 1e-4 else
         f"Each step changes the weights by only {ratio:.1e} of their size and the training loss improved by "
         f"{gain:.2%} over the last {span} epoch{'s' if span > 1 else ''} while still high ({losses[-1]:.4g}). ")
        + (f"The Huber loss's delta ({ctx.huber_delta:g}) caps every residual's gradient at {ctx.huber_delta:g}, "
           f"so the steps are tiny at any learning rate." if tiny_delta else
           f"regularization.clip_grad_value ({ctx.clip_grad_value:g}) caps every gradient element, so the steps are "
           f"tiny at any learning rate." if tiny_clip else
           f"regularization.clip_grad_norm ({ctx.clip_grad_norm:g}) caps the whole gradient's length, so the steps "
           f"are tiny at any learning rate." if tiny_norm else
           f"optimizer.eps ({ctx.eps:g}) is added to the gradient's running size in each step's denominator: "
           f"far above it, every step shrinks to lr x gradient / eps." if big_eps else
           f"The learning rate ({ctx.lr:g}) is too small to make progress in the epochs planned."),
        fixes)
