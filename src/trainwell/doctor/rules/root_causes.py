"""Faults whose fix goes first whatever symptom they show: an init so small the signal fades, an
init that makes every unit a copy of the others, augmentation that moves rows past their size, and
momentum that multiplies every step. examine() passes each finding through these."""

from __future__ import annotations

import functools
import math

from ..facts import Context
from ..findings import Finding, Fix
from .fit import _augment_fix
from .units import _auto_init_name


def _live_only(wrapper):
    """A cause put first on findings made while training: one made before training names its own
    cause, and its own fix goes first (a swapped split is not repaired by data.train_fraction)."""
    @functools.wraps(wrapper)
    def wrapped(finding: Finding, ctx: Context) -> Finding:
        return wrapper(finding, ctx) if finding.epoch else finding
    return wrapped


# A deepest hidden layer whose inputs spread under 1e-3 before the first step: PyTorch's and He's
# inits keep it near the inputs' own spread of about 1 (0.1-1), so 1e-3 is a signal that has
# faded 1000x on its way through. N(0, 0.01) weights in a two-block CNN without batch norm left
# 1.2e-4 at its dense layer and sat at chance, called lr_too_low and stuck_at_chance, and raising
# the rate did nothing (0.100 against 0.944; ninth held-out set).
INIT_SIGNAL_LIMIT = 1e-3


_SMALL_INIT_SYMPTOMS = {"lr_too_low", "plateau", "stuck_at_chance", "underfitting", "vanishing_gradients",
                        "dying_relu"}


def _with_small_init_fix(finding: Finding, ctx: Context, signals: dict) -> Finding:
    """An init the user drew (model.init.weight normal or uniform) so small that the signal fades
    before the last hidden layer: whatever the symptom, the init goes first."""
    scale = (signals.get("initial_probe") or {}).get("scale") or {}
    # The probe runs in eval mode, where batch norm at init divides by running variances of 1 and
    # cannot restore the scale it does restore in training: there the measure says nothing.
    if (ctx.init_weight not in ("normal", "uniform") or finding.code not in _SMALL_INIT_SYMPTOMS
            or finding.epoch == 0 or not scale or ctx.batch_norm
            or any("model.init.weight" in f.overrides for f in finding.fixes[:1])):
        return finding
    layer, spread = list(scale.items())[-1]
    if not (math.isfinite(spread) and spread < INIT_SIGNAL_LIMIT):
        return finding
    finding.fixes.insert(0, Fix({"model.init.weight": "auto"},
                                f"an init sized to each layer's width ({_auto_init_name(ctx.activation)}) keeps the "
                                f"signal's size from layer to layer", architecture=True))
    finding.explanation += (f" Before the first step the inputs of {layer} spread only {spread:.2g} (about 1 with an "
                            f"init sized to the layers): the weights drawn by model.init.weight: {ctx.init_weight} are "
                            f"so small that the signal fades on its way through, and so does the gradient coming "
                            f"back.")
    finding.evidence.update(init_weight=ctx.init_weight, initial_spread={layer: spread},
                            limit_initial_spread=INIT_SIGNAL_LIMIT)
    return finding


# Findings a network of identical units can show: whatever the symptom, the init is the fault.
_SYMMETRY_SYMPTOMS = {"diverged", "lr_too_high", "lr_too_low", "plateau", "stuck_at_chance", "underfitting",
                      "vanishing_gradients", "exploding_gradients", "dying_relu", "saturated_activations"}


def _with_symmetry_fix(finding: Finding, ctx: Context) -> Finding:
    """Weights initialised to one constant (or zero) give every unit of a layer the same inputs
    and the same gradient, so the units stay copies of each other and a layer of 64 works as one:
    four GELU layers of 0.05 on digits sat at chance (0.24 against 0.96) and were called
    stuck_at_chance and exploding_gradients, and cutting the rate did nothing (fifth held-out set).
    The cure is a random init; it goes first."""
    # Not on findings made before training (epoch 0): their fixes are to the data or the plan.
    if ctx.init_weight not in ("constant", "zeros") or finding.code not in _SYMMETRY_SYMPTOMS or finding.epoch == 0 \
            or any("model.init.weight" in f.overrides for f in finding.fixes[:1]):
        return finding
    finding.fixes.insert(0, Fix({"model.init.weight": "auto"},
                                "a random init sized to the layer widths gives each unit its own start, so the "
                                "units learn different things", architecture=True))
    finding.explanation += (f" The weights start at one {'constant' if ctx.init_weight == 'constant' else 'zero'} "
                            f"value (model.init.weight: {ctx.init_weight}): every unit of a layer computes the same "
                            f"thing and gets the same gradient, so they stay copies of one another.")
    finding.evidence["init_weight"] = ctx.init_weight
    return finding


def _with_augment_fix(finding: Finding, ctx: Context) -> Finding:
    """Augmentation that moves rows further than their own size makes every batch's loss jump
    whatever the rate: input noise of std 8 on wine was called lr_too_high and the rate cut 10x
    (0.444 against 1.000; fourth held-out set). The augmentation goes first (see _augment_fix)."""
    augment = _augment_fix(ctx) if finding.code in ("lr_too_high", "exploding_gradients") else None
    if augment is None or any(set(f.overrides) == set(augment.overrides) for f in finding.fixes):
        return finding
    finding.fixes.insert(0, augment)
    finding.explanation += (f" Augmentation moves each training row by {ctx.augment_distortion:.1f}x its own size "
                            f"(data.augment: {ctx.augment}), which alone makes the training loss jump.")
    finding.evidence.update(augment_distortion=ctx.augment_distortion, limit_augment_distortion=1.0)
    return finding


# SGD's step is about lr / (1 - momentum) once the momentum has built up: 10x the rate at the usual
# 0.9, 1000x at 0.999. Above 0.99 the momentum, not the rate, is what makes steps too large (SGD
# 0.05 with momentum 0.999 on digits: the loss climbed from 1.1 to 202 in 5 epochs, and clipping
# the gradient left it at 0.852 against 0.967; third held-out set).
MOMENTUM_LIMIT = 0.99


def _with_momentum_fix(finding: Finding, ctx: Context) -> Finding:
    # RMSprop's momentum works the same way on its normalised step (RMSprop at 1e-4 with momentum
    # 0.999 on digits: 0.867 against 0.959 at 0.9; sixth held-out set).
    if (finding.code not in ("diverged", "lr_too_high", "exploding_gradients") or ctx.optimizer not in ("sgd", "rmsprop")
            or ctx.momentum <= MOMENTUM_LIMIT or ctx.nonfinite_inputs
            or any(k.startswith(("data.", "model.")) or k == "optimizer.momentum"
                   for fix in finding.fixes[:1] for k in fix.overrides)):
        return finding
    finding.fixes.insert(0, Fix({"optimizer.momentum": 0.9},
                                f"momentum {ctx.momentum:g} makes each step about {1 / (1 - ctx.momentum):.0f}x the "
                                f"learning rate once it builds up (lr / (1 - momentum)); 0.9 is the usual, 10x"))
    finding.explanation += (f" With momentum {ctx.momentum:g}, {ctx.optimizer}'s steps grow to about {1 / (1 - ctx.momentum):.0f}x "
                            f"the learning rate: the momentum is what makes them too large.")
    finding.evidence["momentum"] = ctx.momentum
    finding.evidence["limit_momentum"] = MOMENTUM_LIMIT
    # The momentum was too high from the first step: the steps grew as its buffer filled, and the
    # weights they reached are the damage, so a repair starts over (RMSprop at momentum 0.999,
    # rolled back to epoch 5 of a run whose validation loss rose from epoch 2, kept 0.867).
    finding.epoch = (ctx.judged_from or 0) + 1
    return finding


# Symptoms of steps shrunk by a large eps: slow or no learning, on the training rows or new ones.
_EPS_SYMPTOMS = {"lr_too_low", "plateau", "stuck_at_chance", "underfitting"}


@_live_only
def _with_eps_fix(finding: Finding, ctx: Context) -> Finding:
    """An Adam-family eps far above the 1e-8 default (EPS_LIMIT, as lr_too_low reads it): each step
    is lr x m / (sqrt(v) + eps), so the eps, not the gradient's running size, sets the step, and
    whatever the symptom it goes first. A GRU forecaster at Adam eps 1 was called stuck_at_chance
    (its validation loss never under the mean's, r2 0.22/0.20 against 0.91/0.88), with no rate fix
    to offer: its steps were not tiny enough for lr_too_low (twenty-fifth held-out set)."""
    from .plan import ADAM_FAMILY
    from .rate import EPS_LIMIT

    if (finding.code not in _EPS_SYMPTOMS or ctx.optimizer not in ADAM_FAMILY or not ctx.eps >= EPS_LIMIT
            or any("optimizer.eps" in f.overrides for f in finding.fixes)):
        return finding
    finding.fixes.insert(0, Fix({"optimizer.eps": 1e-8}, f"eps {ctx.eps:g} swamps the gradient's running size in "
                                                         f"each step's denominator; 1e-8 is {ctx.optimizer}'s usual"))
    finding.explanation += (f" optimizer.eps is {ctx.eps:g}: each {ctx.optimizer} step is lr x m / (sqrt(v) + eps), "
                            f"so with eps far above the gradients' running size the step shrinks to lr x gradient / "
                            f"eps, and the eps, not the rate, is what holds training back.")
    finding.evidence.update(eps=ctx.eps, limit_eps=EPS_LIMIT)
    return finding


# Symptoms of a network that drops most of its units at every step: it fits its own rows badly.
_DROPOUT_SYMPTOMS = {"underfitting", "stuck_at_chance", "plateau", "lr_too_low", "dying_relu"}


@_live_only
def _with_dropout_option_fix(finding: Finding, ctx: Context) -> Finding:
    """A custom network holding a dropout layer of p > 0.5 (wiring: heavy_dropout) that underfits:
    the builder's dropout keyword, back at its default, goes first (found by building the network
    with it). A sleep-study classifier ported from TensorFlow 1 took keep_prob=0.9 as nn.Dropout's p,
    dropping nine units in ten: called underfitting and given more epochs, then a larger rate, 0.715/
    0.824 against 0.915/0.921 (twenty-fifth held-out set)."""
    from .wiring import _option_fix

    heavy = (ctx.wiring or {}).get("heavy_dropout")
    if not heavy or finding.code not in _DROPOUT_SYMPTOMS or finding.severity == "info":
        return finding
    fixes = _option_fix(ctx, "heavy_dropout", f"the network then drops fewer than {heavy['p']:.0%} of its units")
    if not fixes or any(fixes[0].overrides.items() <= f.overrides.items() for f in finding.fixes):
        return finding
    finding.fixes.insert(0, fixes[0])
    finding.explanation += (f" The network's layer {heavy['layer']!r} is a dropout of p = {heavy['p']:g}: it switches "
                            f"off {heavy['p']:.0%} of what it is handed at every training step (the usual range is 0.1 "
                            f"to 0.5), so the network trains as a much smaller one and fits its own rows badly. A "
                            f"keep probability (TensorFlow 1's keep_prob) passed as PyTorch's drop probability does "
                            f"this.")
    finding.evidence.update(heavy_dropout=heavy, limit_dropout=0.5)
    return finding


@_live_only
def _with_fraction_fix(finding: Finding, ctx: Context) -> Finding:
    """Overfitting while data.train_fraction holds back part of the training split: the rows left out
    are the surest cure, so all of them come first, for the next run (the data cannot change in a
    running model; the live repair takes the next fix). The fraction can be deliberate (a learning
    curve, the suite's tiny-data cases), so it stays a fix, not a finding. A radar CNN left at 0.1 from
    a smoke test: 0.511/0.478 against 0.944/0.889 on all of them (twenty-fifth held-out set)."""
    if finding.code != "overfitting" or ctx.train_fraction >= 1 \
            or any("data.train_fraction" in f.overrides for f in finding.fixes):
        return finding
    finding.fixes.insert(0, Fix({"data.train_fraction": 1.0},
                                f"the model trains on {ctx.train_fraction:.0%} of the training split "
                                f"(data.train_fraction); all of it is the surest cure for memorising a few rows"))
    finding.explanation += (f" data.train_fraction is {ctx.train_fraction:g}: the network sees only that share of "
                            f"the training rows, and the fewer rows, the sooner it memorises them.")
    finding.evidence["train_fraction"] = ctx.train_fraction
    return finding


# Symptoms unscaled inputs produce: lopsided gradients make a rate too large for one feature's
# weights and too small for another's.
_UNSCALED_SYMPTOMS = {"diverged", "lr_too_high", "lr_too_low", "plateau", "stuck_at_chance", "underfitting",
                      "exploding_gradients", "vanishing_gradients", "dying_relu"}


def _with_scaling_fix(finding: Finding, ctx: Context) -> Finding:
    """Inputs the check before training called unscaled (data.scale none): whatever the symptom
    while training, scaling goes first. Wine at Adam 1e-3 with proline near 750 was called
    lr_too_high (an error) and lr_too_low in one run; the first's fix, a 10x smaller rate, took it
    from 0.444 to 0.074, where standardizing gives 0.963."""
    if ctx.scale != "none" or not finding.epoch or finding.code not in _UNSCALED_SYMPTOMS \
            or any("data.scale" in f.overrides for f in finding.fixes):
        return finding
    from .input_data import unscaled_features

    cause = unscaled_features([], {}, ctx)
    # the features themselves, not a raw target alone (its fix is data.scale_target)
    if cause is None or cause.severity == "info" or not any("data.scale" in f.overrides for f in cause.fixes):
        return finding
    finding.fixes.insert(0, Fix({"data.scale": "standardize"}, "scale the inputs: the unscaled features found "
                                                               "before training make the gradients lopsided"))
    finding.explanation += (" The inputs are not scaled (see unscaled_features, found before training): the "
                            "weights of the large features get large gradients and the rest small ones, so no "
                            "single learning rate suits them all. Scale the inputs first.")
    finding.evidence["caused_by"] = "unscaled_features"
    return finding


@_live_only
def _with_warmup_fix(finding: Finding, ctx: Context) -> Finding:
    """A warmup longer than the run (plan.warmup_outlasts_run): the rate climbs all run long, so a
    stall or slow progress is the warmup's first; the warmup the user may have meant goes first."""
    from .plan import _warmup_fix

    if finding.code not in _EPS_SYMPTOMS or finding.severity == "info" \
            or any("schedule.warmup_epochs" in f.overrides for f in finding.fixes):
        return finding
    fix = _warmup_fix(ctx)
    if fix is None:
        return finding
    finding.fixes.insert(0, fix)
    finding.explanation += (f" schedule.warmup_epochs ({ctx.warmup_epochs:g}) is as long as the run ({ctx.epochs} "
                            f"epochs) or longer: the rate is still climbing toward optimizer.lr, which it reaches only at the "
                            f"last step.")
    finding.evidence.update(warmup_epochs=ctx.warmup_epochs)
    return finding
