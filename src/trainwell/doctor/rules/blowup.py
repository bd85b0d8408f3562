"""Training that blows up: the loss non-finite or exploded (diverged), and gradients far above their
running size or a network born exploded by its init (exploding_gradients). Each names its cause in
order: bad inputs, the init, then the rate."""

from __future__ import annotations

import bisect
import math

from ..facts import Context, usual_top as _usual_top
from ..findings import Finding, Fix
from ..measures import HEALTHY_RATIO, _early_ratio, _epoch, _lr_cut, _lr_fix, _round_lr, _vals, chance_loss
from .units import _bn_fix, saturated_activations


def _init_blowup(records: list[dict], chance: float | None) -> bool:
    """The first check, taken within the first few steps, already saw a loss 100x chance: the
    network was born exploded (its init), not driven there by the learning rate."""
    if not records or not chance:
        return False
    first = records[0]
    loss = first.get("loss", 0.0)
    # Step <= 2: at most one update has landed, too few for any learning rate to do this.
    return first.get("step", 99) <= 2 and (not math.isfinite(loss) or loss > 100 * chance)


def _huge_from_the_start(nf, losses: list[float], chance: float | None, records: list[dict]) -> bool:
    """Where no check within the first steps is on record (a rollback to the start drops it): finite,
    over 100x chance in the first epoch and never higher since, so the weights were too large from
    the start, not driven there by the rate. A clip of the gradient, the first repair of a net born
    at 1.6e5 (N(0, 3) weights), rolled back to the start, and the rule then blamed the rate and cut
    it twice: 0.08 against 0.70 unrepaired. Not once the doctor has cut the rate for a blow-up: a
    rate still too large (Adam at 1000 cut to 1.0) blows the first epoch up as fast, and stays the
    suspect; nor after a raise of the rate, nor on a history judged from a later epoch (diverged's
    caller checks ctx.lr_cuts, ctx.lr_raised and that the judged history starts at epoch 1)."""
    if records and records[0].get("step", 99) <= 2:
        return False   # the first steps were checked: _init_blowup has the say
    return (nf is None and bool(losses) and bool(chance) and all(math.isfinite(v) for v in losses)
            and losses[0] > 100 * chance and max(losses) <= losses[0] * 1.01)



def diverged(history, signals, ctx: Context) -> Finding | None:
    nf = signals.get("nonfinite")
    losses = _vals(history, "train_loss")
    exploded = None
    # 100x the first epoch's loss: no healthy run climbs that far; it is a blow-up in progress.
    if len(losses) >= 2 and losses[0] > 0 and max(losses[1:]) > 100 * losses[0]:
        exploded = next(_epoch(history, i + 1) for i, v in enumerate(losses[1:]) if v > 100 * losses[0])
    # 100x the loss of a model that ignores its input, in any epoch (the first included: the
    # blow-up can happen inside it). A fresh network, even a badly initialised one, starts within
    # a few times chance; 100x means the weights were thrown far away. Only with scaled inputs:
    # raw features of size 10^4 give huge first losses by themselves (unscaled_features says so).
    chance = chance_loss(ctx)
    if exploded is None and chance and ctx.scale != "none" and losses and max(losses) > 100 * chance:
        exploded = next(_epoch(history, i) for i, v in enumerate(losses) if v > 100 * chance)
    if nf is None and exploded is None and not any(not math.isfinite(h.get("train_loss", 0.0)) for h in history):
        return None
    epoch = nf["epoch"] if nf else exploded or (_epoch(history, -1) if history else 1)
    code = "diverged"
    evidence = {"lr": ctx.lr, "optimizer": ctx.optimizer}
    if nf:
        evidence.update(step=nf["step"], loss=str(nf["loss"]), first_nonfinite_grad=nf["first_nonfinite_grad"],
                        first_nonfinite_weight=nf["first_nonfinite_weight"])
    if exploded:
        evidence.update(first_epoch_loss=losses[0], max_loss=max(losses), chance_loss=chance,
                        limit="100x the first epoch's loss or 100x chance")
    # Attribute the cause in order: bad inputs, then the first layer that broke, then the lr.
    if ctx.nonfinite_inputs > 0:
        why = (f"The loss became non-finite because the inputs hold {ctx.nonfinite_inputs} NaN/inf values "
               f"(see bad_input_data).")
        fixes = [Fix({"data.clean.impute": "median"}, "impute the missing values")]
    elif ctx.scale != "none" and (_init_blowup(signals.get("records", []), chance)
                                  or (not ctx.lr_cuts and not ctx.lr_raised and bool(history)
                                      and history[0].get("epoch") == 1
                                      and _huge_from_the_start(nf, losses, chance, signals.get("records", [])))):
        if nf is None and max(losses) <= losses[0] * 1.01 and saturated_activations(history, signals, ctx):
            # Huge from the first step and no higher since, with half of a sigmoid/tanh layer's
            # units saturated: nothing diverged; the init saturated the units and its large
            # weights scale the output (a tanh regression net with N(0, 3) weights: loss 323 at
            # step 1, 247 over epoch 1). saturated_activations says so, with the init as its fix.
            return None
        records = signals.get("records") or []
        first = records[0] if _init_blowup(records, chance) else {"loss": losses[0], "step": "the first epoch's"}
        evidence.update(first_check_loss=first["loss"], first_check_step=first["step"])
        if nf is None and all(math.isfinite(v) for v in losses):
            # Still finite: nothing diverged; the init made activations and gradients explode
            # through the layers. A ResNet-style MLP of 16 blocks without normalization under He
            # init (logits ~8600 at init, epoch 1 at 600x chance; twelfth held-out set), as the
            # suites' ReLU, ELU and GELU nets with N(0, 1)-sized weights.
            code = "exploding_gradients"
        when = (f"at step {first['step']}, over 100x the {chance:.3g} of a model ignoring its inputs, before the "
                f"optimizer had moved the weights" if isinstance(first["step"], int) else
                f"on average over the first epoch from the start, over 100x the {chance:.3g} of a model ignoring its "
                f"inputs, and no higher since")
        why = (f"The loss was already {first['loss']:.3g} {when}: the initial weights are far too large for the "
               f"layer widths, so activations and gradients grow layer after layer.")
        fixes = [Fix({"model.init.weight": "auto", "model.init.bias": "zeros"},
                     "the standard init for the activation (He for ReLU, Xavier for tanh/sigmoid) keeps "
                     "activations at unit scale", architecture=True),
                 *_bn_fix(ctx, "batch norm rescales every layer's inputs"),
                 Fix({"regularization.clip_grad_norm": 1.0}, "cap the gradient norm so no single step can explode")]
    else:
        layer = nf and (nf["first_nonfinite_grad"] or nf["first_nonfinite_weight"])
        where = f" The first layer to break was {layer}." if layer else ""
        why = (f"The loss {'became non-finite' if nf else 'exploded'} in epoch {epoch}.{where} With clean inputs "
               f"this is the learning rate ({ctx.lr:g} with {ctx.optimizer}) taking steps so large that the "
               f"weights overshoot and grow without bound.")
        # At least 10x smaller; as much as 1000x when the first steps already moved the weights by
        # a large share of their size (adaptive optimizers; see _lr_cut).
        factor = _lr_cut(ctx, signals.get("records", []))
        evidence["early_update_ratio"] = _early_ratio(signals.get("records", []), ctx.judged_from)
        size = (f"brings each step back to about {HEALTHY_RATIO:g} of the weight's size" if ctx.optimizer != "sgd"
                else "keeps SGD's steps (rate times gradient) from feeding the blow-up, within SGD's usual range for its momentum")
        fixes = [Fix({"optimizer.lr": _round_lr(ctx.lr * factor)}, f"a {1 / factor:.0f}x smaller learning rate {size}",
                     repeatable=True),
                 Fix({"regularization.clip_grad_norm": 1.0}, "cap the gradient norm so no single step can explode")]
    return Finding(code, "error", epoch, nf["step"] if nf else None, evidence, why, fixes)


def _born_exploded(history, signals, ctx: Context) -> Finding | None:
    """The first check, before any step could do it, saw 100x chance, while no epoch's mean
    reached it (that is diverged's): the optimizer is shrinking weights the init made far too
    large. SELU with U(-1, 1) weights on wine: 143 at step 1, 84.5 over epoch 1 (77x chance), then
    a steady fall that still ended 4 test rows short of LeCun init's 1.000 (second held-out set).
    A warning, not diverged, which would stop a run that is recovering."""
    records = signals.get("records", [])
    chance = chance_loss(ctx)
    losses = _vals(history, "train_loss")
    if ctx.judged_from or ctx.scale == "none" or not losses or not _init_blowup(records, chance) \
            or max(losses) > 100 * chance or saturated_activations(history, signals, ctx):
        return None
    first = records[0]
    return Finding(
        "exploding_gradients", "warning", _epoch(history, 0), first["step"],
        {"first_check_loss": first["loss"], "first_check_step": first["step"], "first_grad_norm": first["grad_norm"],
         "chance_loss": chance, "first_epoch_loss": losses[0], "limit": "100x chance before the first steps"},
        f"The loss was already {first['loss']:.3g} at step {first['step']} (gradient norm {first['grad_norm']:.3g}), "
        f"over 100x the {chance:.3g} of a model ignoring its inputs, before the optimizer had moved the weights: the "
        f"initial weights are far too large for the layer widths, so activations and gradients grow layer after "
        f"layer. Training is spending its first epochs shrinking them.",
        [Fix({"model.init.weight": "auto", "model.init.bias": "zeros"},
             "the standard init for the activation (He for ReLU, Xavier for tanh/sigmoid, LeCun for SELU) keeps "
             "activations at unit scale", architecture=True),
         *_bn_fix(ctx, "batch norm rescales every layer's inputs")])


# A recurrent gain (signals.recurrent_gain) at or above this: 2.4x trainwell's auto init (1.05), 4x
# PyTorch's (0.58). The one fault seen, an LSTM at N(0, 1) on 24 units, read 4.9.
RECURRENT_GAIN_LIMIT = 2.5


def _born_chaotic(signals, ctx: Context) -> Finding | None:
    """Recurrent weights initialised so large that each step multiplies the hidden state: a small
    change early in a sequence grows step after step, and so does the gradient sent back through
    the steps. An LSTM forecaster with N(0, 1) weights (gain 4.9) started at 6.2x chance with 11x
    the healthy gradient norm, fell every epoch, and ended with a training loss of 0.29 against a
    validation loss of 0.79, r2 0.32 against the standard init's 0.95 (fifth held-out set): no
    gate saturated (2% of pre-activations beyond |z| = 5), and no loss or gradient rule saw it.
    Judged once, from the weights before the first step and the first check's loss at 2x chance or
    more (the init's weights did show in the output), and only with an init the user chose."""
    initial = signals.get("initial_probe") or {}
    gains = initial.get("gain") or {}
    records = signals.get("records") or []
    chance = chance_loss(ctx)
    if ctx.judged_from or ctx.init_weight in ("auto", "default", "pytorch") or not gains or not records or not chance:
        return None
    first = records[0]
    name, gain = max(gains.items(), key=lambda kv: kv[1])
    if first["epoch"] != 1 or first.get("step", 99) > 2 or gain < RECURRENT_GAIN_LIMIT \
            or not first["loss"] >= 2 * chance:
        return None
    return Finding(
        "exploding_gradients", "warning", 1, first["step"],
        {"recurrent_gain": round(gain, 3), "layer": name, "limit": RECURRENT_GAIN_LIMIT, "auto_init_gain": 1.05,
         "first_check_loss": first["loss"], "chance_loss": chance, "first_grad_norm": first["grad_norm"]},
        f"The recurrent weights {name} start with a gain of {gain:.2g} (the spread of their entries times the square "
        f"root of the hidden size; the standard init gives about 1): every time step multiplies the hidden state's "
        f"changes by about that much, so what the first steps of a sequence saw is blown up by the last, and the "
        f"gradient sent back through the steps grows the same way. The loss at step {first['step']} was "
        f"{first['loss']:.3g}, {first['loss'] / chance:.1f}x that of a model ignoring its inputs. The network can "
        f"still fit its training rows this way, but it fits noise that does not carry over to new ones.",
        [Fix({"model.init.weight": "auto"}, "an init sized to the cell's widths (model.init.weight: auto) keeps "
                                            "the hidden state at one size from step to step", architecture=True)])


def exploding_gradients(history, signals, ctx: Context) -> Finding | None:
    born = _born_exploded(history, signals, ctx) or _born_chaotic(signals, ctx)
    if born is not None:
        return born
    # The last 60 checks: enough history for a median, and the cost stays flat on long runs.
    records = [r for r in signals.get("records", []) if math.isfinite(r.get("grad_norm", math.nan))][-60:]
    if len(records) < 6:
        # Too few checks for a running median (a short run checked once an epoch); the loss
        # still tells.
        return _loss_jumps(history, ctx, signals.get("records", []))
    spikes = []
    # The running median kept sorted as it grows (statistics.median over every prefix re-sorted
    # up to 60 numbers 55 times an epoch: a fifth of the rules' time on tiny epochs); the same values.
    seen = sorted(r["grad_norm"] for r in records[:5])
    for i in range(5, len(records)):
        half = len(seen) // 2
        base = seen[half] if len(seen) % 2 else (seen[half - 1] + seen[half]) / 2
        # 10x the running median: ordinary batch noise stays within ~3x; a blow-up grows without bound.
        if base > 0 and records[i]["grad_norm"] > 10 * base:
            spikes.append((i, records[i]["grad_norm"], base))
        bisect.insort(seen, records[i]["grad_norm"])
    huge = [r for r in records if r["grad_norm"] > 1e4]  # no sane scaled problem has gradient norms of 10^4
    # Spikes while the training loss halved since the first of them, or fell at every epoch from
    # it on, are the noise of small batches, not a blow-up: batch size 1 on wine had single-row
    # gradients of 7 against a median of 0.02 while its loss fell from 0.05 to 0.009. Halving
    # takes several epochs; before that, whether three spikes were seen at all depended on which
    # steps the time-budgeted checks happened to read (three of 14 on a loaded machine, none when
    # alone). A blow-up costs loss at once: the transformer at AdamW 2.0 went 1.07 -> 1.86 in
    # the epoch of its first spike.
    since = records[spikes[0][0]]["epoch"] if spikes else None
    if spikes and not huge and (_still_falling(history, since) or _fell_every_epoch(history, since)):
        spikes = []
    # Three spikes: one can be an unlucky batch; three is a pattern.
    if len(spikes) < 3 and len(huge) < 2:
        return _loss_jumps(history, ctx, signals.get("records", []))
    first = records[spikes[0][0]] if spikes else huge[0]
    worst = max(r["grad_norm"] for r in records)
    return Finding(
        "exploding_gradients", "error", first["epoch"], first["step"],
        {"spikes_over_10x_median": len(spikes), "max_grad_norm": worst,
         "running_median_at_first_spike": spikes[0][2] if spikes else None, "checks": len(records)},
        f"The gradient norm jumped to more than 10x its running median {len(spikes)} times (largest {worst:.3g}). "
        f"Large gradients times the learning rate ({ctx.lr:g}) give steps that throw the weights far from "
        f"where they were, so the loss jumps instead of descending.",
        _explosion_fixes(ctx, signals.get("records", []), "clip the global gradient norm to 1"))


def _explosion_fixes(ctx: Context, records: list[dict], clip_reason: str) -> list[Fix]:
    """Clip first, then a smaller rate; but an adaptive optimizer above its usual range gets the
    cut first. Clipping scales the gradient, and Adam-family steps are about lr whatever the
    gradient's size (they divide by its running RMS), so it leaves them as large: RAdam at 2.0 on
    a GRU, clipped to 1, ended at 0.82 against 0.96 (second held-out set), and a transformer at
    AdamW 2.0 spent a rollback on clipping before its rate was cut. The cut is lr_too_high's,
    sized from every check, the first epoch's included: a window of the last ones measured
    inflated weights, and cut that transformer only to 0.02."""
    clip = Fix({"regularization.clip_grad_norm": 1.0}, clip_reason)
    if ctx.optimizer != "sgd" and ctx.lr > _usual_top(ctx):
        cut = _lr_cut(ctx, records)
        return [_lr_fix(ctx, cut, f"{ctx.optimizer}'s steps are about the learning rate whatever the gradient, so "
                                  f"clipping does not shrink them: a {1 / cut:.0f}x smaller rate does"), clip]
    return [clip, _lr_fix(ctx, 0.3, "smaller steps for the same gradients")]


def _epoch_losses(history) -> list[tuple[int, float]]:
    """(epoch, training loss) for every epoch whose loss is a finite number."""
    return [(_epoch(history, i), h["train_loss"]) for i, h in enumerate(history)
            if isinstance(h.get("train_loss"), (int, float)) and math.isfinite(h["train_loss"])]


def _still_falling(history, since_epoch: int) -> bool:
    """The training loss of the last epoch is under half of the loss in epoch `since_epoch`."""
    at = [loss for epoch, loss in _epoch_losses(history) if epoch == since_epoch]
    last = _vals(history, "train_loss")
    return bool(at and last) and last[-1] < 0.5 * at[0]


def _fell_every_epoch(history, since_epoch: int) -> bool:
    """The training loss fell at every epoch from `since_epoch` on (at least one), each under the
    epoch's before it. Strictly: spikes beside a loss that stalls may be what stalls it."""
    losses = _epoch_losses(history)
    pairs = [(before, loss) for (_, before), (epoch, loss) in zip(losses, losses[1:]) if epoch >= since_epoch]
    return bool(pairs) and all(loss < before for before, loss in pairs)


def _loss_jumps(history, ctx: Context, records: list[dict]) -> Finding | None:
    """Exploding gradients seen in the loss: a run that had learned and then, twice, lost half of
    it in one epoch. The checks read the gradient at a few steps an epoch (one on short epochs),
    so a spike between them shows only in the epoch's loss: an LSTM raised from Adam 3e-7 to
    3e-3 went 0.54 -> 1.17 at epoch 12 and 0.46 -> 1.20 at epoch 15 (chance 1.10), with the
    checked norms within 4x of their median, and ended 0.837 against 0.904; with the gradient
    norm clipped to 1 the same net at 3e-3 scored 0.948.
    A jump counts when the epoch's training loss is 1.5x the epoch before (not a wobble), more
    than 2x the best so far, and gives back at least half the distance from the best to chance
    (the model forgot what it learned; a loss of 0.16 rising to 0.39 with chance at 1.10 is not
    that). Only after the loss was below half of chance: before that there was nothing to lose,
    and a rate far too high is lr_too_high's. Two jumps: one can be an unlucky batch. None of the
    suite's healthy runs on seeds 0-2 had even one."""
    level = chance_loss(ctx)
    epochs = _epoch_losses(history)
    if level is None and epochs:
        level = epochs[0][1]  # no chance level (a target in its own units): the first epoch's loss
    if not level or len(epochs) < 4:
        return None
    jumps, best = [], epochs[0][1]
    for (_, before), (epoch, loss) in zip(epochs, epochs[1:]):
        if best < 0.5 * level and loss > 1.5 * before and loss > 2 * best and loss - best > 0.5 * (level - best):
            jumps.append((epoch, before, loss, best))
        best = min(best, loss)
    if len(jumps) < 2:
        return None
    told = "; ".join(f"epoch {e}: {b:.3g} -> {a:.3g}" for e, b, a, _ in jumps[:4])
    return Finding(
        "exploding_gradients", "warning", jumps[0][0], None,
        {"loss_jumps": len(jumps), "jumps": [{"epoch": e, "loss_before": b, "loss": a, "best_before": m}
                                             for e, b, a, m in jumps[:6]],
         "chance_loss": level, "limits": "loss 1.5x the epoch before, 2x the best, half the way back to chance; 2 jumps"},
        f"The training loss jumped back up {len(jumps)} times after it had fallen ({told}), each time losing "
        f"more than half of what the model had learned (chance is {level:.3g}). A few very large gradients "
        f"between the checks (common in recurrent networks) times the learning rate ({ctx.lr:g}) throw the "
        f"weights far from where they were.",
        _explosion_fixes(ctx, records, "clip the global gradient norm to 1, so one large gradient cannot throw the weights"))
