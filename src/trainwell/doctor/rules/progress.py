"""Progress that stalls: no new best for a while (plateau), and schedules that take the rate to
nothing before the network has learned."""

from __future__ import annotations

import math

from ..facts import Context, usual_low
from ..findings import Finding, Fix
from ..measures import _epoch, _lr_fix, _vals, chance_loss


# Early stopping about to end a run that is still learning: within the first half of its epochs, on a
# patience of 3 or less, while the training loss is still 40% of chance or more (the underfitting line)
# and fell 10% or more in its last epoch. A rice-kernel CNN with patience 1 stopped at epoch 2 of 30
# on its first wobble of the validation loss (batch norm's statistics settling), training loss 1.30
# against ln 5 = 1.61 and falling 26% an epoch: 0.322/0.222 against 0.844/0.789 at patience 8
# (twenty-fourth held-out set). A crop classifier learned in a few epochs and stopped by patience 1 at
# 6/3 of 40 with its training loss at 3.5-6.4% of chance, and a digits MLP stopped by a large min_delta at
# 12-13% of chance, are not named here (the min_delta is named before training).
STOP_PATIENCE = 3
STOP_BUDGET_SHARE = 0.5
STOP_LOSS_SHARE = 0.4
STOP_STILL_FALLING = 0.9
# The patience a repair gives: the schema's default.
REPAIRED_PATIENCE = 10


def stops_while_learning(history, signals, ctx: Context) -> Finding | None:
    if not ctx.es_stops_now or ctx.es_patience > STOP_PATIENCE or len(history) < 2:
        return None
    epoch = _epoch(history, -1)   # after a repair the rules see only the epochs since
    losses = _vals(history, "train_loss")
    chance = chance_loss(ctx)
    if epoch >= STOP_BUDGET_SHARE * ctx.epochs or chance is None or len(losses) < 2:
        return None
    last, before = losses[-1], losses[-2]
    if not (math.isfinite(last) and math.isfinite(before)) or last < STOP_LOSS_SHARE * chance or \
            last > STOP_STILL_FALLING * before:
        return None
    monitor = ctx.es_monitor
    return Finding(
        "underfitting", "warning", epoch, None,
        {"epoch": epoch, "epochs": ctx.epochs, "patience": ctx.es_patience, "monitor": monitor,
         "train_loss": round(last, 4), "train_loss_before": round(before, 4), "chance_loss": round(chance, 4),
         "limits": f"patience <= {STOP_PATIENCE}, epoch < {STOP_BUDGET_SHARE:.0%} of the budget, train loss >= "
                   f"{STOP_LOSS_SHARE:.0%} of chance and down >= {1 - STOP_STILL_FALLING:.0%} in the last epoch"},
        f"training.early_stopping stops the run at epoch {epoch} of {ctx.epochs}: {monitor} has not improved for "
        f"{ctx.es_patience} epoch(s). But the network is still learning fast: its training loss fell from "
        f"{before:.3g} to {last:.3g} in the last epoch and is still {last / chance:.0%} of chance. Early in a run the "
        f"validation loss wobbles (batch norm's statistics settle, the optimizer's steps are still large), and a "
        f"patience of {ctx.es_patience} takes the first wobble for the end of progress.",
        [Fix({"training.early_stopping.patience": REPAIRED_PATIENCE},
             f"wait {REPAIRED_PATIENCE} epochs without a new best before stopping (the default)")])


def plateau(history, signals, ctx: Context) -> Finding | None:
    key = "val_loss" if ctx.has_val else "train_loss"
    losses = _vals(history, key)
    span = 8  # eight epochs: longer than the default early-stopping patience would tolerate noise
    stall = _schedule_stall(history, ctx)
    if stall:
        return _schedule_finding(history, ctx, stall)
    if len(losses) < span + 2:
        return None
    best_before = min(losses[:-span])
    best_recent = min(losses[-span:])
    chance = chance_loss(ctx)
    # No 0.5% improvement in 8 epochs, while still far from a fit (more than 30% of chance left).
    high = chance is not None and best_recent > 0.3 * chance
    if best_recent < best_before * 0.995 or not high:
        return None
    decayed = _schedule_collapse(history, ctx)
    if decayed:
        peak, now = decayed
        return Finding(
            "plateau", "warning", _epoch(history, -span - 1), None,
            {"metric": key, "best_before": best_before, "best_last_8": best_recent, "chance_loss": chance,
             "schedule": ctx.schedule, "peak_lr": peak, "lr_now": now, "epochs_run": _epoch(history, -1),
             "epochs_planned": ctx.epochs, "limit": "lr under 1% of its peak before half the epochs"},
            f"{key} has improved by under 0.5% in {span} epochs (best {best_recent:.4g} in them, {best_before:.4g} "
            f"before) and is still high, because the "
            f"{ctx.schedule} schedule has already taken the learning rate from {peak:.3g} to {now:.3g} with "
            f"{ctx.epochs - _epoch(history, -1)} of {ctx.epochs} epochs still to run: steps that small no longer move "
            f"the weights. The schedule decays far too fast for this run (schedule.gamma, step_size or milestones).",
            [Fix({"schedule.name": "cosine"}, "a cosine schedule spends the whole run going from the rate to zero, "
                                               "instead of reaching zero in a few epochs"),
             Fix({"schedule.name": "constant"}, "keep the rate constant")])
    fixes = [Fix({"schedule.name": "reduce_on_plateau"}, "halve the learning rate when validation loss stalls")]
    # A smaller rate only from within the usual range: under it, a plateau is slow progress, and a
    # smaller rate beside lr_too_low's larger one says two opposite things (SGD at 1e-5: 3e-6 offered).
    if ctx.lr >= usual_low(ctx):
        fixes.append(_lr_fix(ctx, 0.3, "a smaller learning rate for fine progress"))
    return Finding(
        "plateau", "info", _epoch(history, -span - 1), None,
        {"metric": key, "best_before": best_before, "best_last_8": best_recent, "chance_loss": chance},
        f"{key} has improved by under 0.5% in {span} epochs (best {best_recent:.4g} in them, {best_before:.4g} "
        f"before) and is still high. The optimizer sits on a flat region: a lower rate can settle into a narrow "
        f"valley, a schedule restarts progress.",
        fixes)


def _schedule_collapse(history, ctx: Context) -> tuple[float, float] | None:
    """(peak lr, lr now) when a decaying schedule has cut the rate under 1% of its peak before
    half of the planned epochs: two decays by the usual gamma of 0.1, which a step or exponential
    schedule is meant to spread over the run (an exponential schedule with gamma 0.1 per epoch took
    an iris net's SGD 0.05 to 5e-7 by epoch 6 of 60, and it stopped at 86% against the healthy
    95.5%). reduce_on_plateau cuts the rate because progress stalled, by design: not a collapse."""
    if ctx.schedule in ("constant", "reduce_on_plateau", "one_cycle"):
        return None
    lrs = [h["lr"] for h in history if isinstance(h.get("lr"), (int, float)) and h["lr"] == h["lr"]]
    if len(lrs) < 2 or _epoch(history, -1) >= 0.5 * ctx.epochs:
        return None
    peak, now = max(lrs), lrs[-1]
    return (peak, now) if peak > 0 and now < 0.01 * peak else None


def _schedule_stall(history, ctx: Context) -> dict | None:
    """The schedule took the rate away while the model was still learning fast: the training loss
    fell by at least 3% in the last epoch at half the peak rate or more, and by under 1% an epoch
    (and under a fifth of that fall) in the 2 or more epochs since the rate went under 1% of its
    peak, before half the planned epochs. Progress stopping exactly when the rate collapsed names
    the schedule, however low the loss already is: a step schedule with gamma 0.01 every 2 epochs
    froze a digits net at 17% of chance (0.616, 0.392, 0.389, 0.387: 0.878 against the healthy
    0.974), and reduce_on_plateau with factor 0.001 and patience 0 cut the rate 1000x at the first
    epoch whose validation loss did not improve, while the training loss was still falling 7.6%
    an epoch (diabetes, r2 -0.29 against 0.02; second held-out set). A loss under 10% of chance
    (of the first epoch's loss where chance is unknown) is a fitted model, which a decaying rate is
    meant to polish: a breast_cancer net at 0.044 nats (6.7% of chance, test accuracy 0.988) whose
    reduce_on_plateau (factor 0.2, patience 1) cut the rate as validation converged drew this rule
    with a 5% floor.
    reduce_on_plateau counts only while the validation loss is within 2% of its best when the rate
    is cut: a cut because validation got worse is the schedule doing its job against overfitting."""
    if ctx.schedule in ("constant", "cosine", "one_cycle"):  # these reach their floor at the very end only
        return None
    rows = [h for h in history if isinstance(h.get("lr"), (int, float)) and h["lr"] == h["lr"]
            and isinstance(h.get("train_loss"), (int, float)) and math.isfinite(h["train_loss"])]
    if len(rows) < 4:
        return None
    lrs, losses = [h["lr"] for h in rows], [h["train_loss"] for h in rows]
    top = max(range(len(lrs)), key=lambda i: lrs[i])
    peak = lrs[top]
    # A relative tolerance: gamma 0.01 gives 0.002 * 0.01 = 2.0000000000000002e-05.
    cut = next((i for i in range(top + 1, len(lrs)) if lrs[i] <= 0.01 * peak * (1 + 1e-6)), None)
    if peak <= 0 or cut is None or _epoch(rows, cut) >= 0.5 * ctx.epochs or len(rows) - 1 - cut < 2:
        return None
    full = max((i for i in range(cut) if lrs[i] >= 0.5 * peak * (1 - 1e-6)), default=None)
    chance = chance_loss(ctx)
    if full is None or (full == 0 and (chance is None or _epoch(rows, 0) != 1 or ctx.judged_from
                                       or ctx.schedule == "reduce_on_plateau")):
        return None  # no epoch at the full rate with a loss before it to measure its progress
    # Only the first epoch ran at the full rate (milestones [1, 2] meant as [10, 20]: a CNN frozen
    # at 0.615 against 0.978, third held-out set): its progress is measured from chance, where a
    # fresh network starts (an init that starts above chance only makes the fall look smaller).
    # Not for reduce_on_plateau, which cuts only on a validation loss that stopped improving, and
    # that takes two measured epochs.
    start = losses[full - 1] if full else chance
    before = (start - losses[full]) / abs(start) if start else 0.0
    after = (losses[cut] - losses[-1]) / abs(losses[cut]) / (len(rows) - 1 - cut) if losses[cut] else 0.0
    floor = 0.1 * (chance if chance is not None else losses[0])
    if before < 0.03 or after >= 0.01 or after >= before / 5 or losses[-1] <= floor:
        return None
    if ctx.schedule == "reduce_on_plateau":
        val = [h.get("val_loss") for h in rows[:cut]]
        val = [v for v in val if isinstance(v, (int, float)) and math.isfinite(v)]
        if not val or val[-1] > 1.02 * min(val):
            return None
    return {"peak_lr": peak, "lr_now": lrs[-1], "collapsed_at_epoch": _epoch(rows, cut),
            "train_loss_fall_at_full_rate": round(before, 4), "train_loss_fall_per_epoch_since": round(after, 5),
            "limit": "fell >= 3% an epoch at the full rate, < 1% an epoch once under 1% of it, before half the epochs"}


def _schedule_finding(history, ctx: Context, stall: dict) -> Finding:
    if ctx.schedule == "reduce_on_plateau":
        why = (f"reduce_on_plateau cut it at the first epochs whose validation loss did not improve, while the "
               f"training loss was still falling {stall['train_loss_fall_at_full_rate']:.1%} an epoch: its factor "
               f"is far too small or its patience too short for this noisy a validation loss "
               f"(schedule.factor, schedule.patience)")
        fixes = [Fix({"schedule.factor": 0.5, "schedule.patience": 5},
                     "halve the rate only after 5 epochs without progress, so noise in one epoch does not end the run"),
                 Fix({"schedule.name": "cosine"}, "a cosine schedule decays the rate smoothly over the whole run")]
    else:
        why = (f"the {ctx.schedule} schedule decays far too fast for this run (schedule.gamma, step_size or "
               f"milestones)")
        fixes = [Fix({"schedule.name": "cosine"}, "a cosine schedule spends the whole run going from the rate to zero, "
                                                   "instead of reaching zero in a few epochs"),
                 Fix({"schedule.name": "constant"}, "keep the rate constant")]
    return Finding(
        "plateau", "warning", stall["collapsed_at_epoch"], None,
        {"metric": "train_loss", "schedule": ctx.schedule, **stall, "epochs_run": _epoch(history, -1),
         "epochs_planned": ctx.epochs},
        f"Training stopped progressing at epoch {stall['collapsed_at_epoch']}, just as the learning rate fell from "
        f"{stall['peak_lr']:.3g} to {stall['lr_now']:.3g}: the training loss fell "
        f"{stall['train_loss_fall_at_full_rate']:.1%} in the last epoch at the full rate and "
        f"{stall['train_loss_fall_per_epoch_since']:.2%} an epoch since. The model was still learning; " + why + ".",
        fixes)
