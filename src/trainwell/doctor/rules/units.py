"""What the units do: early layers that get almost no gradient (vanishing_gradients), ReLU units
dead on every probe row (dying_relu), and sigmoid/tanh units stuck on their flat ends
(saturated_activations)."""

from __future__ import annotations

import math
import statistics

from ..facts import Context
from ..findings import Finding, Fix
from ..measures import _heavy_l2, _lr_cut, _lr_fix, _median_ratio, _rel_improvement, _round_lr, _vals, chance_loss
from .fit import _narrow_fix


def _recurrent_vanishing(history, records: list[dict], losses: list[float], ctx: Context) -> Finding | None:
    """A recurrent net's gradient through time, read as its recurrent weights' gradient over its
    input weights' (weight_hh / weight_ih of the first layer). Both see the same error signal;
    the recurrent one is a sum over steps of the error times the previous hidden state, so it
    fades when the state (or its gradient through the steps) does. Healthy GRUs and LSTMs in the
    suite, seeds 0-1: 0.26 at the lowest (a first check), medians 0.46-2.1. An LSTM with N(0,
    0.01) weights on 60-step sequences: 0.012, 0.012, 0.059 in its first 3 checks, at chance all
    run at SGD 0.1 and after raises to 0.01 and 1.0. Under 0.1 (2.6x below the lowest healthy
    reading) on the median of the last 3 checks, with under 5% progress in 2 epochs."""
    if ctx.steps is not None and ctx.steps < 3:
        # The recurrent weights act from the second step on, on a state that starts at zero: over
        # one step their gradient is 0 by construction, over two it is one term beside the input
        # weights' two; neither is a gradient that vanished through time (a forecaster of window 1
        # was called vanishing; eighth held-out set).
        return None
    ratios = [x for x in map(_recurrent_ratio, records[-3:]) if x is not None]
    born = _born_vanished(records, ctx)
    if born:
        return born
    gain = _rel_improvement(losses, 2)
    if len(ratios) < 3 or len(losses) < 3 or gain is None or gain > 0.05:
        return None
    # Stuck near chance, not thrown far above it: a GRU at SGD 3.0 (loss 10-40, chance 1.1) also
    # reads a small ratio, its state saturated by the steps; that is lr_too_high's.
    chance = chance_loss(ctx)
    if chance is not None and losses[-1] > 1.1 * chance:
        return None
    ratio = statistics.median(ratios)
    if ratio >= 0.1:
        return None
    return Finding(
        "vanishing_gradients", "error", records[-3]["epoch"], records[-3]["step"],
        {"recurrent_to_input_grad_ratio": ratio, "limit": 0.1, "train_loss_gain_last_2_epochs": gain},
        f"The recurrent weights get {ratio:.1e} of the gradient the input weights get: the error does not travel "
        f"back through the time steps, so the network cannot learn what happened earlier in a sequence and "
        f"training barely progresses. " + (_gates_shut(ctx) or
        "The initial weights are far too small for the hidden size: the hidden state stays near zero and carries "
        "nothing from step to step."),
        [_recurrent_init_fix(ctx, "a usable size")]
        + ([Fix({"optimizer.name": "adam", "optimizer.lr": 1e-3},
                "Adam scales each weight's step by its own gradient size, so small gradients still move")]
           if ctx.optimizer != "adam" else []))


# A one-way recurrent net reads its answer off the state after the last step, so a class cue must
# travel through every later step: at init an LSTM's forget gates sit at sigmoid(0) = 0.5, which
# halves what is left of it per step. 40 steps or more after the last tenth that tells the classes
# apart (context.cue_profile), and after 4 epochs no validation loss under 90% of chance: a knock in
# the first 12 of 100 steps left an LSTM at 0.348/0.326 (validation loss at best 1.08 against 1.10),
# the same LSTM bidirectional 0.948/0.956 (twelfth held-out set). The healthy one-way LSTMs and
# GRUs of the suites see their cue in every tenth, or in the last ones.
CUE_AFTER_STEPS, CUE_EPOCHS, CUE_CHANCE = 40, 4, 0.9


def _cue_out_of_reach(history, ctx: Context) -> Finding | None:
    cue = ctx.cue_profile
    if not cue or ctx.bidirectional or cue["after_cue"] < CUE_AFTER_STEPS:
        return None
    val = _vals(history, "val_loss")
    chance = chance_loss(ctx)
    if len(val) < CUE_EPOCHS or not chance or min(val) < CUE_CHANCE * chance:
        return None
    return Finding(
        "vanishing_gradients", "warning", len(history), None,
        {"steps": cue["steps"], "last_cue_step": cue["last_cue_step"], "steps_after_cue": cue["after_cue"],
         "class_signal_per_tenth": cue["gains"], "limit_steps_after_cue": CUE_AFTER_STEPS,
         "best_val_loss": round(min(val), 4), "chance_loss": round(chance, 4), "limit": f"{CUE_CHANCE} x chance"},
        f"What tells the classes apart lies in the first {cue['last_cue_step']} of {cue['steps']} steps (class signal "
        f"per tenth of the steps: {', '.join(f'{g:.2f}' for g in cue['gains'])}), and a one-way {ctx.cell or 'rnn'} "
        f"reads its answer off its state after the last step: the cue has to survive {cue['after_cue']} more steps, "
        f"and the gradient has to travel back through them, shrinking at every step. After {len(val)} epochs the "
        f"validation loss is still {min(val):.3f} against chance's {chance:.3f}. A bidirectional layer also reads "
        f"each sequence backwards, ending on the cue.",
        [Fix({"model.bidirectional": True}, "the backward direction reaches the cue within a few steps of its "
                                            "state's end", architecture=True)])


def _batch_norm(ctx: Context) -> dict:
    """The overrides that put batch norm before every activation: model.batch_norm for an MLP,
    each block's batch_norm for a CNN (a CNN has no model-wide switch: the fix there was refused,
    and a sigmoid CNN with its four blocks' batch norm off stayed at chance; seventh held-out
    set); none for recurrent nets and transformers, which have no such layers."""
    if ctx.model_type == "cnn":
        # Only where a block has it off (blocks have it on by default): rewriting the blocks rebuilds
        # them afresh, which must not be the whole of a "fix" that changes nothing.
        if not any(b.get("batch_norm") is False for b in ctx.conv_blocks):
            return {}
        return {"model.blocks": [{**b, "batch_norm": True} for b in ctx.conv_blocks]}
    return {"model.batch_norm": True} if ctx.model_type == "mlp" else {}


def _bn_fix(ctx: Context, reason: str) -> list[Fix]:
    bn = _batch_norm(ctx)
    return [Fix(bn, reason, architecture=True)] if bn else []


def _recurrent_ratio(record: dict) -> float | None:
    norms = record["grad_norms"]
    ih = next((v for k, v in norms.items() if "weight_ih" in k), None)
    hh = next((v for k, v in norms.items() if "weight_hh" in k), None)
    return hh / ih if ih and hh is not None else None


def _born_vanished(records: list[dict], ctx: Context) -> Finding | None:
    """The first check of the run (its first step) reading a recurrent ratio under 1e-2, 26x
    below the lowest healthy reading (0.26): the initial weights leave the hidden state near zero.
    Judged at once, as a warning, whatever the loss does next: a GRU forecaster with N(0, 1e-4)
    weights read 1.8e-4 there, crawled out by epoch 2 and still ended at r2 0.888 against 0.950
    in its 15 epochs, while no later check read under 0.2."""
    # Not with the standard init (nor PyTorch's), which is what the fix sets; not at a ratio of
    # exactly 0, which is a sequence of one step (the state before it is zero by definition).
    if (ctx.init_weight in ("auto", "default", "pytorch") and not _gates_shut(ctx)) or (ctx.steps is not None and ctx.steps < 2):
        return None
    first = records[0] if records and records[0]["epoch"] == 1 else None
    ratio = _recurrent_ratio(first) if first else None
    if ratio is None or not 0 < ratio < 1e-2:
        return None
    return Finding(
        "vanishing_gradients", "warning", 1, first["step"],
        {"recurrent_to_input_grad_ratio_at_first_step": ratio, "limit": 1e-2, "lowest_healthy_reading": 0.26},
        f"At the first step the recurrent weights got {ratio:.1e} of the gradient the input weights got. "
        + (_gates_shut(ctx) or "The initial weights are far too small for the hidden size, so the hidden state "
                               "starts near zero and carries nothing from step to step.")
        + " Training has to undo that before it can learn anything of the sequence, and spends its first epochs "
          "doing so, if it ever does.",
        [_recurrent_init_fix(ctx, "a usable size from the first step")])


# A gate bias of 1 or more away from 0 in every gate: sigmoid(-3) = 0.05 shuts the input, forget and
# output gates of an LSTM (a GRU's update and reset gates alike), so the state is forgotten at every
# step and nothing reaches it; at +1 or more on every gate they are pinned open (+1 on the forget
# gate alone is a known good variant, Jozefowicz et al. 2015, but a constant bias sets all gates).
# The usual init is 0. An LSTM with every bias at -3 sat at chance (0.37 against 0.87; seventh
# held-out set), and a new weight init alone, three times over, did nothing for it.
GATE_BIAS_LIMIT = 1.0


def _gates_shut(ctx: Context) -> str | None:
    if ctx.model_type != "rnn" or ctx.cell not in ("lstm", "gru") or abs(ctx.init_bias_value) < GATE_BIAS_LIMIT:
        return None
    g = 1 / (1 + math.exp(-ctx.init_bias_value))
    return (f"Every bias starts at {ctx.init_bias_value:g} (model.init.bias), so each {ctx.cell.upper()} gate starts "
            f"at sigmoid({ctx.init_bias_value:g}) = {g:.2f}: the gates are pinned {'shut' if g < 0.5 else 'open'}, "
            f"the state is overwritten or forgotten at every step, and the error cannot travel back through it.")


def _recurrent_init_fix(ctx: Context, size: str) -> Fix:
    if _gates_shut(ctx):
        return Fix({"model.init.bias": "zeros"}, "biases at 0 start every gate half open, so the state carries from "
                                                 "step to step", architecture=True)
    return Fix({"model.init.weight": "auto"}, f"an init sized to the cell's widths (model.init.weight: auto) gives "
                                              f"the hidden state {size}", architecture=True)


def vanishing_gradients(history, signals, ctx: Context) -> Finding | None:
    if _heavy_l2(ctx):
        return None
    records = [r for r in signals.get("records", []) if len(r.get("grad_norms", {})) >= 3]
    losses = _vals(history, "train_loss")
    # Or the signal itself dies on the way forward (see _signal_shrink): then every layer's
    # gradient is equally tiny and the ratio below reads about 1. Two probes show it (the one
    # before the first step counts), so it needs no 3 checks: on a tiny set they come every
    # fourth epoch, and lr_too_low, seeing the tiny steps, would raise the rate first.
    shrink = _signal_shrink(signals, ctx)
    if ctx.model_type == "rnn":
        return _recurrent_vanishing(history, records, losses, ctx) or _cue_out_of_reach(history, ctx)
    # A faded signal with the whole first epoch learning nothing is judged then: the damage is
    # done in that epoch. Adam grew six ELU layers' N(0, 1e-3) weights to a normal signal by
    # epoch 2, but from units all alike, and the net ended at 0.61 on digits against 0.96 (the
    # signal was 3e-11 of the first layer's at the last one, 0.007x a layer; epoch 1's loss 2.3028
    # against chance's 2.3026). Within 5% of chance: it learned nothing of its inputs.
    chance = chance_loss(ctx)
    first_epoch = bool(shrink and chance and len(losses) in (1, 2) and losses[0] >= 0.95 * chance)
    if len(records) < (1 if shrink else 3) or (len(losses) < 3 and not first_epoch):
        return None
    ratios = []
    for r in records[-8:]:
        norms = list(r["grad_norms"].values())
        if norms[-1] > 0:
            ratios.append(norms[0] / norms[-1])
    if len(ratios) < (1 if shrink else 3):
        return None
    ratio = statistics.median(ratios)
    gain = _rel_improvement(losses, 2)
    # First layer's gradient 1000x smaller than the last's: the early layers learn ~1000x slower.
    # With < 5% progress in 2 epochs it is hurting, not just a deep net's normal gradient spread.
    if (ratio > 1e-3 and shrink is None) or (not first_epoch and (gain is None or gain > 0.05)):
        return None
    names = list(records[-1]["grad_norms"])
    # The smallest cure keeps the activation the user chose: Glorot's init for it plus batch norm
    # (in the suite it trained all four deep sigmoid stacks within 1.4 points of the healthy
    # one-layer nets; ReLU + He + batch norm fell 3 points short on digits and breast_cancer).
    # The ReLU cure comes second, and whole: ReLU + He alone diverged the 8-layer digits net at
    # SGD 0.05 (test 0.54).
    # A CNN's batch norm is set per block (model.blocks[i].batch_norm), so the fix rewrites the blocks.
    bn = _batch_norm(ctx)
    arch = [Fix({"model.init.weight": "auto", **bn},
                f"an init scaled to the layer widths ({_auto_init_name(ctx.activation)}) starts every "
                f"layer in its responsive range, and batch norm keeps it there as the weights move",
                architecture=True),
            Fix({"model.activation": "relu", "model.init.weight": "he_uniform", **bn},
                "ReLU passes gradients unshrunk where sigmoid/tanh multiply them by < 0.25 per layer, and "
                "batch norm keeps each layer's inputs at unit scale so the deep stack trains at this rate",
                architecture=True)]
    if ctx.model_type not in ("mlp", "cnn"):
        arch = arch[:1]  # a recurrent net or a transformer has no model.activation to swap
    if ctx.init_weight == "auto" and not bn:
        arch = arch[1:]  # that init is the one in use, and there is no batch norm to add: no change
    # A transformer whose tokens are a few numbers wide: layer norm over 2 numbers outputs +-1
    # whatever its input, so little gradient passes it (d_model 2 on sequences: the embedding's
    # gradient from 5.5e-3 to 55x the head's from one check to the next, and in some runs under
    # 1e-3 for three, which called this rule and rebuilt it with the init it already had; the
    # widening stuck_at_chance offers is the cure).
    narrow = _narrow_fix(ctx) if ctx.model_type == "transformer" else None
    if narrow is not None and "model.d_model" in narrow.overrides:  # not the positions fix: no gradient cure
        arch.insert(0, narrow)
    fixes = ([Fix({"optimizer.name": "adam", "optimizer.lr": 1e-3},
                  "Adam scales each weight's step by its own gradient size, so small gradients still move")]
             if ctx.optimizer != "adam" else [])
    evidence = {"first_to_last_grad_ratio": ratio, "limit": 1e-3, "first_layer": names[0], "last_layer": names[-1],
                "train_loss_gain_last_2_epochs": gain, "activation": ctx.activation}
    if ratio > 1e-3:
        evidence.update(signal_ratio=shrink[0], signal_shrink_per_layer=shrink[1],
                        limit="signal: last/first < 1e-3 and < 0.2 per layer")
        why = (f"The signal fades on its way through the network: the inputs of the last hidden layer are "
               f"{shrink[0]:.1e} the size of the first's ({shrink[1]:.2f}x per layer), so every layer's gradient is "
               f"just as small and training barely progresses. The initial weights are far too small for the "
               f"layer widths.")
    else:
        why = (f"The first layer ({names[0]}) receives {ratio:.1e} of the gradient the last layer ({names[-1]}) gets, and "
               f"training barely progresses. Each {ctx.activation or 'saturating'} layer shrinks the gradient on its "
               f"way back, so the early layers stay near their initial random weights.")
    return Finding(
        "vanishing_gradients", "error", records[-min(3, len(records))]["epoch"], records[-min(3, len(records))]["step"],
        evidence, why,
        # The cure is the architecture (Glorot & Bengio 2010; He et al. 2015), so it leads; a live
        # repair, which cannot change the network, takes the first fix it can apply (Adam).
        arch + fixes)


def _auto_init_name(activation: str | None) -> str:
    """What `model.init.weight: auto` draws for this activation (models/init.py)."""
    if activation in (None, "sigmoid", "tanh"):
        return f"Xavier for {activation or 'sigmoid/tanh'}"
    return "LeCun for selu" if activation == "selu" else f"He for {activation}"


def _signal_shrink(signals: dict, ctx: Context) -> tuple[float, float] | None:
    """(last/first, per layer): how much the activations' inputs (their spread over the probe
    rows) shrink from the first hidden layer of an MLP to its last, on each of the last 2 probes
    (the one before the first step counts), when that is 1000x overall and more than 5x per
    layer; else None. Weights N(0, 0.005) in 128-wide tanh layers shrink the signal 17x a layer
    (1e-6 over six), where PyTorch's default init shrinks it at most 1.7x (tanh) or 2.4x (ReLU)
    a layer: 5x is well clear of any usable init."""
    initial = (signals.get("initial_probe") or {}).get("scale")
    probes = ([initial] if initial else []) + [r["scale"] for r in signals.get("records", []) if r.get("scale")]
    probes = probes[-2:]
    if ctx.model_type != "mlp" or len(probes) < 2 or any(len(p) < 4 for p in probes):
        return None
    found = []
    for p in probes:
        first, last = list(p.values())[0], list(p.values())[-1]
        if not (first > 0 and math.isfinite(first) and math.isfinite(last)):
            return None
        overall = last / first
        per_layer = overall ** (1.0 / (len(p) - 1))
        if overall >= 1e-3 or per_layer >= 0.2:
            return None
        found.append((overall, per_layer))
    return found[-1]


def _from_the_start(probes: list[dict], key: str, layers: list[str], initial: dict | None = None,
                    limit: float = 0.5) -> bool:
    """True when the problem was there before training moved the weights, so the
    initialisation (or the inputs), not the learning rate, put the units there. Read from the
    probe taken before the first step when there is one (`limit`: the share that counts there);
    otherwise from the first probe of the run, which a very large learning rate can already have
    changed within the first epoch."""
    if initial and key in initial:
        return all(initial[key].get(n, 0) > limit for n in layers)
    first = probes[0][key]
    return probes[0]["epoch"] <= 1 and all(first.get(n, 0) > 0.5 for n in layers)


# A dying_relu finding with the loss still falling this much over the last 3 epochs, already under
# half of chance (most of the way learned), with no step of LARGE_STEP or more (update ratio,
# median over layers), and at most 80% of the layer dead, is an info: the rate did not kill the units (steps that do measure 0.18-3 in the suites' faults: SGD
# 2.0, Adam 0.3-1.0, RadAm 3.0, momentum 0.99) and the network is learning with what is left. A CNN
# trained with rotation 45 on glyphs (steps 0.03, 73% of its head dead from epoch 5, the loss falling
# 16% over epochs 6-9) was cut 10x and ended at 0.700 against 0.828 unrepaired; translate 0.25 on
# wafer maps (steps 0.036, 80% dead, 17%): 0.819 against 0.895 (thirteenth and fourteenth held-out sets).
STILL_LEARNING = 0.1
LARGE_STEP = 0.1


def dying_relu(history, signals, ctx: Context) -> Finding | None:
    probes = [r for r in signals.get("records", []) if r.get("dead")]
    if len(probes) < 2 or _heavy_l2(ctx):
        return None
    # Half a layer's units output zero for every probe row on the last two probes: they get no
    # gradient and, with a plain ReLU, never come back. A quarter, in a layer that had more than
    # a quarter dead before the first step: a sound init leaves almost none (at most 9.4% in the
    # suite's 37 healthy runs, on minmax-scaled inputs; 0% on most; benchmarks/doctor/
    # initial_dead.py), so those units were never alive and the init, not training, is to blame
    # (a bias of -5 left 41% of a digits MLP's units dead for good, and it ended 5 points short).
    initial = (signals.get("initial_probe") or {}).get("dead") or {}

    def limit(name: str) -> float:
        return 0.25 if initial.get(name, 0) > 0.25 else 0.5
    last = probes[-2:]
    layers = [name for name in last[-1]["dead"] if all(p["dead"].get(name, 0) > limit(name) for p in last)]
    if not layers:
        return None
    worst = max(layers, key=lambda n: last[-1]["dead"][n])
    share = last[-1]["dead"][worst]
    # Up to 80% dead is a cost only if it shows: with the training loss under a quarter of chance
    # (0.58 nats on 10 classes) the live units carry the fit, and a smaller rate would only slow
    # it. Healthy nets at brisk rates lose half a layer this way: a digits CNN at SGD 0.1 kept
    # 52-56% of its head dead from epoch 5 while its loss fell to 3% of chance (97.8% test
    # accuracy). Past 80%, or while the loss is still high, it is a finding.
    train, chance = _vals(history, "train_loss"), chance_loss(ctx)
    if share <= 0.8 and chance and train and train[-1] < 0.25 * chance:
        return None
    at_init = _from_the_start(probes, "dead", layers, signals.get("initial_probe"), limit=0.25)
    steps = [v for v in (_median_ratio([r]) for r in signals.get("records", [])) if v is not None]
    learning = share <= 0.8 and not at_init and len(train) >= 4 and train[-1] <= (1 - STILL_LEARNING) * train[-4] \
        and bool(chance) and train[-1] < 0.5 * chance and bool(steps) and max(steps) < LARGE_STEP
    # Sized like a blow-up's cut: Adam at 1.0 killed a CNN's units, and 10x smaller (0.1) still
    # killed them; the first checks' update ratio asks for 1000x.
    cut = _lr_cut(ctx, signals.get("records", []))
    lr = Fix({"optimizer.lr": _round_lr(ctx.lr * cut)},
             f"large steps push units into the always-negative region; {1 / cut:.0f}x smaller ones do not")
    init = Fix({"model.init.weight": "he_uniform", "model.init.bias": {"name": "constant", "value": 0.01}},
               "He init with a small positive bias starts every unit active", architecture=True)
    is_leaky = ctx.activation == "leaky_relu"
    leaky = [] if is_leaky else [Fix({"model.activation": "leaky_relu"},
                                     "a leaky ReLU keeps a small gradient for negative inputs", architecture=True)]
    # Dead from the first probe: the init (e.g. negative biases) did it, and only a new init cures
    # it; a smaller rate would not revive a unit that never had a gradient, so it is not offered.
    fixes = [init] + leaky if at_init else [lr] + leaky + [init]
    # Dropout above 0.5 kills units too: each step sees a fifth of a unit's inputs, scaled 5x,
    # and steps that noisy push units below zero for good. A CNN at dropout 0.8 lost its whole
    # head this way (held-out set); at 0.2 it trained to 97.8%. The smallest change comes first.
    heavy_dropout = ctx.dropout > 0.5 and not at_init
    if learning and not heavy_dropout:
        # Units gone with steps of a usual size while the loss keeps falling: the live units carry
        # the fit, and a rate cut would only slow it (an info, never repaired; see STILL_LEARNING).
        return Finding(
            "dying_relu", "info", last[0]["epoch"], last[0]["step"],
            {"dead_share": {n: round(last[-1]["dead"][n], 3) for n in layers}, "limit": limit(worst),
             "probes": len(probes), "train_loss_fall_3_epochs": round(1 - train[-1] / train[-4], 3),
             "still_learning_limit": STILL_LEARNING, "largest_update_ratio": round(max(steps), 5),
             "large_step_limit": LARGE_STEP},
            f"{share:.0%} of the units in {worst} output zero for every probe row, but the steps were of a usual "
            f"size (the largest update ratio {max(steps):.3g}, under {LARGE_STEP:g}) and the training "
            f"loss fell {1 - train[-1] / train[-4]:.0%} over the last 3 epochs: the live units carry the fit. A "
            f"smaller rate would only slow it; a leaky ReLU keeps every unit trainable if the loss stalls later.",
            leaky + [init])
    if heavy_dropout:
        fixes.insert(0, Fix({"model.dropout": 0.2}, f"dropout {ctx.dropout:g} makes the steps so noisy that they push "
                                                    f"units below zero for good; 0.2 regularises without that"))
    what = (f"{share:.0%} of the units in {worst} get a negative input on every probe row, so they sit on the "
            f"leaky slope: they pass 1/100 of the gradient and act as a near-zero linear map; the network works "
            f"with a fraction of its width." if is_leaky else
            f"{share:.0%} of the units in {worst} output zero for every probe row. A dead ReLU has zero gradient, so "
            f"it never recovers; the network works with a fraction of its width.")
    return Finding(
        "dying_relu", "error" if share > 0.8 else "warning", last[0]["epoch"], last[0]["step"],
        {"dead_share": {n: round(last[-1]["dead"][n], 3) for n in layers}, "limit": limit(worst), "probes": len(probes),
         "dead_at_first_probe": at_init, **({"dropout": ctx.dropout, "dropout_limit": 0.5} if heavy_dropout else {})},
        what + (" They were dead from the first probe: the initialisation put them there." if at_init else "")
        + (f" With dropout {ctx.dropout:g}, {ctx.dropout:.0%} of the units are switched off at every step and the "
           f"rest scaled {1 / (1 - ctx.dropout):.0f}x: steps that noisy push units below zero for good, so the "
           f"dropout is the first suspect." if heavy_dropout else ""),
        fixes)


def _initial_saturated(signals, ctx: Context) -> dict | None:
    """The probe before the first step, as a probe of this stretch of the run (not after a
    repair: the run no longer starts there)."""
    initial = signals.get("initial_probe") or {}
    if ctx.judged_from or not initial.get("saturated"):
        return None
    return {"saturated": initial["saturated"], "epoch": 1, "step": 0}


def saturated_activations(history, signals, ctx: Context) -> Finding | None:
    probes = [r for r in signals.get("records", []) if r.get("saturated")]
    initial = _initial_saturated(signals, ctx)
    # The probe before the first step counts as one of the two: units saturated by the init and
    # still so after the first epoch are a fact of the init, not noise.
    if len(probes) + (initial is not None) < 2:
        return None
    # Half of the pre-activations beyond |z| = 5 on the last two probes: the derivative there is
    # < 0.007 (sigmoid) or < 0.0002 (tanh), so those units pass almost no gradient.
    last = ([initial] + probes)[-2:] if initial else probes[-2:]
    layers = [name for name in last[-1]["saturated"] if all(p["saturated"].get(name, 0) > 0.5 for p in last)]
    if not layers:
        return None
    worst = max(layers, key=lambda n: last[-1]["saturated"][n])
    share = last[-1]["saturated"][worst]
    fixes = []
    if ctx.scale == "none":
        fixes.append(Fix({"data.scale": "standardize"}, "large inputs push units into saturation"))
    lr = _lr_fix(ctx, 0.1, "smaller steps keep pre-activations from growing")
    arch = [Fix({"model.init.weight": "xavier_uniform"}, "Xavier init keeps pre-activations near unit scale",
                architecture=True),
            *_bn_fix(ctx, "batch norm re-centres pre-activations every batch")]
    at_init = _from_the_start(probes, "saturated", layers, signals.get("initial_probe"))
    # Saturated from the first probe: the init (weights too large for the fan-in) did it, and a
    # smaller rate would not shrink them (not offered); later: the steps grew the weights.
    fixes += arch if at_init else [lr] + arch
    return Finding(
        "saturated_activations", "warning", last[0]["epoch"], last[0]["step"] or None,
        {"saturated_share": {n: round(last[-1]["saturated"][n], 3) for n in layers}, "limit": 0.5, "z": 5,
         "saturated_at_first_probe": at_init},
        f"{share:.0%} of the pre-activations feeding {worst} are beyond |z| = 5, where sigmoid and tanh are flat. "
        f"Saturated units pass almost no gradient, so the layers before them stop learning.",
        fixes)
