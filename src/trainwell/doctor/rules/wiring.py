"""A custom network's wiring, judged before the first step from one forward and backward pass at
its init (doctor/wiring.py). Each reading is exact (a gradient that is zero, a tensor that is not a
parameter, a layer fed the ids themselves), so no threshold stands between noise and a finding but
the output's scale. The fix, where there is one, is a builder keyword the user set, back at the
builder's default, checked by building the network with it."""

from __future__ import annotations

from ..facts import Context
from ..findings import Finding, Fix
from ..measures import chance_loss
from ..wiring_inputs import FEATURES_UNREAD, FLAT_FEATURES, PIXELS_UNREAD, QUANT_LEVELS
from ..wiring import OUTPUT_SCALE_LIMIT
from ..wiring_series import MERGED_SHARE


def _option_fix(ctx: Context, problem: str, what: str) -> list[Fix]:
    option = ((ctx.wiring or {}).get("fixes") or {}).get(problem)
    if not option:
        return []
    key, value = next(iter(option.items()))
    return [Fix({f"model.options.{key}": value},
                f"the builder's default for {key} ({value!r}): {what} (checked by building the network with it)",
                architecture=True)]


def unregistered_weights(history, signals, ctx: Context) -> Finding | None:
    """Tensors that shape the output and ask for a gradient but are not the module's parameters:
    layers held in a plain list or dict, which nn.Module does not look into. A wafer-map CNN whose
    conv blocks sat in a list trained only its head: 0.933/0.876 against 0.990/0.981 with
    nn.ModuleList (fourteenth held-out set). Saved weights leave them out too, so a reloaded model
    predicts with other random convolutions: an error."""
    stray = (ctx.wiring or {}).get("unregistered")
    if not stray:
        return None
    return Finding(
        "underfitting", "error", 0, 0, {"unregistered_tensors": stray["tensors"], "unregistered_numbers": stray["numbers"],
                                        "shapes": stray["shapes"]},
        f"{stray['tensors']} tensor(s) with {stray['numbers']:,} weights (shapes {stray['shapes']}) take part in the "
        f"forward pass and ask for a gradient, but are not parameters of the network: the layers that hold them sit in "
        f"a plain Python list or dict (or a tensor is kept as an attribute), which nn.Module does not look into. The "
        f"optimizer never updates them, so they stay at their random init and only the rest learns; and the saved "
        f"model leaves them out, so a reloaded one predicts with other random weights; nor do they switch to eval mode "
        f"with the rest, so any dropout or batch norm among them keeps its training behaviour at prediction. Hold "
        f"layers in nn.ModuleList "
        f"or nn.ModuleDict, tensors in nn.Parameter.",
        _option_fix(ctx, "unregistered", "every weight is then a parameter"))


def frozen_random_weights(history, signals, ctx: Context) -> Finding | None:
    """Parameters the builder froze (requires_grad False) that a build with another seed draws anew:
    random, not loaded. A bag-of-embeddings classifier froze its embedding as the GloVe recipe it
    came from did after loading vectors, with none loaded: 0.903/0.850 against 0.997/0.994
    (fourteenth held-out set)."""
    frozen = (ctx.wiring or {}).get("frozen_random")
    if not frozen:
        return None
    shown = ", ".join(frozen[:6]) + (f" and {len(frozen) - 6} more" if len(frozen) > 6 else "")
    return Finding(
        "underfitting", "warning", 0, 0, {"frozen_random": frozen},
        f"The builder freezes {shown} (requires_grad False), and their values change with the random seed: they "
        f"are drawn at random, not loaded, and stay so for the whole run. The layers after them learn on random "
        f"features. Freezing is for weights trained before; load them first, or let them train (random features "
        f"on purpose are the exception: then ignore this).",
        _option_fix(ctx, "frozen_random", "they then train"))


def steps_unread(history, signals, ctx: Context) -> Finding | None:
    """A sequence network whose output depends on under half of the steps (the gradient to the
    others is exactly zero): a one-way GRU read at out[:, 0], the [CLS] habit, has seen one step.
    ECG strips of 80 steps: 0.289/0.304 against 0.956/0.956 read at the last step (fourteenth
    held-out set)."""
    steps = (ctx.wiring or {}).get("steps_read")
    if not steps:
        return None
    read, total = steps["read"], steps["steps"]
    which = "none" if not read else (f"step {read[0] + 1}" if len(read) == 1 else
                                     f"{len(read)} steps, {read[0] + 1} to {read[-1] + 1}")
    return Finding(
        "underfitting", "warning", 0, 0, {"steps": total, "steps_reaching_output": read},
        f"The network's output depends on {which} of the {total} steps of each sequence: the gradient to every other "
        f"step is exactly zero at init, so no weight can learn from them. A one-way recurrent net read at its first "
        f"output (out[:, 0], the habit of models that read a [CLS] token there) has seen only the first step; read "
        f"it at the last (out[:, -1]) or pool over the steps.",
        _option_fix(ctx, "steps_read", "the output then depends on every step"))


def gradient_uphill(history, signals, ctx: Context) -> Finding | None:
    """Parameters whose gradient points uphill (wiring: uphill): a small step against it raises the
    loss instead of lowering it, so every optimizer step makes those weights work against the loss.
    A gradient-reversal layer (meant for a domain head) left before the class head of a bread-grading
    MLP: the body learnt to hide the grade, balanced accuracy 0.61/0.43 against 0.81/0.82, and a
    smaller rate, the fix a rising loss suggests, made it worse (twentieth held-out set)."""
    found = (ctx.wiring or {}).get("uphill")
    if not found:
        return None
    shown = ", ".join(found["parameters"]) + (f" and {found['count'] - 6} more" if found["count"] > 6 else "")
    return Finding(
        "underfitting", "error", 0, 0,
        {"parameters_uphill": found["parameters"], "count": found["count"], "checked": found["checked"],
         "rise_over_promised_fall": found["rise_over_fall"], "limit": 0.5},
        f"The gradient of {shown} points uphill: a step of 1e-3 of each one's size against its gradient raises "
        f"the loss by {min(found['rise_over_fall']):.2f}x or more of the fall the gradient promises, where a true "
        f"gradient lowers it by about that much. The backward pass is not the derivative of the forward one: a "
        f"custom autograd Function (a gradient-reversal layer, for a domain head) or a hand-written backward "
        f"turns it around, so every optimizer step moves those weights to make the loss worse.",
        _option_fix(ctx, "uphill", "every gradient then points downhill"))


def tokens_unread(history, signals, ctx: Context) -> Finding | None:
    """Text: a quarter or more of the batch's tokens get exactly no gradient at their word vectors
    (wiring: tokens_unread), after two plain steps. An attention encoder that cut its
    heads with a reshape where view + transpose was meant gave each head half the line, and the
    [CLS] read only the first half: 0.175 against 0.988 on radio transcripts whose instruction comes
    last (eighteenth held-out set)."""
    found = (ctx.wiring or {}).get("tokens_unread")
    if not found:
        return None
    from ..wiring_series import UNREAD_TOKENS

    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit_share": UNREAD_TOKENS},
        f"{found['unread']} of the {found['tokens']} tokens of a batch ({found['share']:.0%}) never reach the "
        f"network's output: their word vectors get exactly no gradient from it (after two training steps, in eval "
        f"mode), so no path leads from them to the output. Whatever those words say, no weight can learn it. Most "
        f"often the network mixes positions where it meant to split features: a reshape of (rows, tokens, d) into heads without the "
        f"transpose hands each head a run of tokens instead of a slice of every token's features, and a read of one "
        f"position then sees part of the line only; or a pooling or a mask that covers part of the line.",
        _option_fix(ctx, "tokens_unread", "every token then reaches the output"))


def ids_read_as_numbers(history, signals, ctx: Context) -> Finding | None:
    """A text network that feeds the token ids themselves to a layer as numbers (ids.float() into a
    Linear layer): id 812 is not 'more' than id 3, and ids run to the vocabulary's size. Ingredient
    lists read so: 0.167/0.194 against 0.997/0.994 through an embedding (fourteenth held-out set)."""
    layers = (ctx.wiring or {}).get("ids_as_numbers")
    if not layers:
        return None
    return Finding(
        "unscaled_features", "warning", 0, 0, {"layers_fed_ids": layers},
        f"Layer(s) {', '.join(layers)} receive the token ids themselves as numbers. An id is a name, not an amount "
        f"(id 812 is no more than id 3), and ids run up to the vocabulary's size, far from the scale a layer expects. "
        f"Look the ids up in an nn.Embedding (or nn.EmbeddingBag) first.",
        _option_fix(ctx, "ids_as_numbers", "the ids then go through an embedding"))


def output_off_scale(history, signals, ctx: Context) -> Finding | None:
    """A regressor whose outputs at init lie 10 or more standard deviations of the (standardized)
    target away: its first errors are hundreds of the target's spread, and their gradients throw the
    weights. A builder that multiplied its output back into euros (x 8600 + 7800, from a serving
    wrapper): r2 -1194 against 0.983; weights drawn from N(0, 1): 113 (thirteenth and fourteenth
    held-out sets)."""
    scale = (ctx.wiring or {}).get("output_scale")
    if not scale:
        return None
    return Finding(
        "exploding_gradients", "warning", 0, 0, {"output_median_abs": scale, "limit": OUTPUT_SCALE_LIMIT},
        f"At init the network's outputs are {scale:,.0f} standard deviations of the target from zero (the median "
        f"size), while trainwell trains on the target standardized (mean 0, sd 1) and turns predictions back into "
        f"its units itself. The first errors are that large, and so are their gradients. If the network scales its "
        f"output into the target's units, drop that: it is done for it.",
        _option_fix(ctx, "output_scale", "the outputs then start near the target's scale"))


GRADIENTLESS_SHARE = 0.9


def init_without_gradient(history, signals, ctx: Context) -> Finding | None:
    """Weights started at one constant (zeros) where 90% of the weight matrices or more still get
    exactly no gradient after a few steps: each hidden unit outputs the same thing and passes
    nothing back, so only biases can learn. A GRU forecaster at zeros (all 3 matrices): r2
    -0.004/-0.002 against 0.912/0.910 (fourteenth held-out set). A transformer at zeros keeps 4 of
    its 6 matrices dead, its attention and feed-forward layers, but its embedding and head learn
    and a bag of ingredients needs no more: 1.000/0.994, so nothing is said there."""
    measured = ctx.gradientless
    if not measured or len(measured["without_gradient"]) < GRADIENTLESS_SHARE * measured["weights"]:
        return None
    dead, total = measured["without_gradient"], measured["weights"]
    return Finding(
        "vanishing_gradients", "warning", 0, 0, {"weight_matrices": total, "without_gradient": dead,
                                                 "init_weight": ctx.init_weight},
        f"model.init.weight {ctx.init_weight} starts every weight at one value: every unit of a layer computes the "
        f"same thing, and {len(dead)} of the {total} weight matrices get exactly no gradient (measured on one batch "
        f"before training). They cannot move off their start, and the network cannot learn past its output bias.",
        [Fix({"model.init.weight": "auto"}, "a random init sized to the layer widths gives each unit its own start",
             architecture=True)])


def weights_barely_learn(history, signals, ctx: Context) -> Finding | None:
    """Before training: 90% or more of a custom network's weight matrices still get a gradient on
    under 1% of their entries after a few plain steps (wiring.barely_learning): a rounding or a step
    function in the forward pass passes nothing back. An 8-bit fake-quantized classifier with its
    straight-through estimator off: 0.770/0.830 against 1.000/1.000 (eighteenth held-out set)."""
    found = ctx.barely_learning
    if not found:
        return None
    from ..wiring_gradients import BARELY_ENTRIES

    fix = found.get("fix")
    key, value = next(iter(fix.items())) if fix else (None, None)
    barely, total = found["barely"], found["weights"]
    return Finding(
        "vanishing_gradients", "warning", 0, 0, {"weight_matrices": total, "barely_learning": barely,
                                                 "limit_entries_with_gradient": BARELY_ENTRIES},
        f"{len(barely)} of the network's {total} weight matrices get a non-zero gradient on under "
        f"{BARELY_ENTRIES:.0%} of their entries, even after a few steps (measured before training): almost nothing "
        f"flows back to them, so they keep their initial values. Most often the forward pass goes through an "
        f"operation whose derivative is zero almost everywhere (torch.round in a fake quantization without a "
        f"straight-through estimator, sign, a threshold, argmax), or a .detach() or .data.",
        [Fix({f"model.options.{key}": value}, f"the builder's default for {key} ({value!r}): the weights then get "
                                              f"their gradient (checked by building the network with it)",
             architecture=True)] if fix else [])


def _size(change) -> str:
    return "a value that turned NaN or infinite" if isinstance(change, str) else f"{change:.3g}"


def random_at_prediction(history, signals, ctx: Context) -> Finding | None:
    """In eval mode two calls on the same rows disagree: something random stays on when the network
    predicts, most often F.dropout(x, p), whose training argument defaults to True. Validation,
    test and every served prediction then come from a random part of the network. A regressor
    with F.dropout at 0.5: r2 0.898/0.881 against 0.956/0.976 with nn.Dropout (fifteenth held-out
    set). An error: predictions are not reproducible."""
    found = (ctx.wiring or {}).get("eval_random")
    if not found or (ctx.wiring or {}).get("unregistered"):
        return None
    return Finding(
        "underfitting", "error", 0, 0, {"eval_mode_change_between_calls": found["max_change"],
                                        "output_size": found["output_size"]},
        f"In eval mode (as evaluate, predict and serve run it) the network gave different outputs for the same rows "
        f"on two calls, by up to {_size(found['max_change'])} on outputs of size {found['output_size']:.3g}: something "
        f"random stays on at prediction. Most often it is torch.nn.functional.dropout(x, p), whose training "
        f"argument defaults to True whatever the module's mode; use nn.Dropout, or pass training=self.training. "
        f"Validation and test scores are then those of a random part of the network, and so is every prediction.",
        _option_fix(ctx, "eval_random", "the network then predicts the same way every time"))


def rows_mixed(history, signals, ctx: Context) -> Finding | None:
    """In eval mode a row's output changes with the other rows of its batch: a softmax over dim 0
    (the batch) copied from code that scored one unbatched vector, or statistics taken over the
    batch. Each output is then a share among the batch's rows, and a row served alone gets another
    answer. A classifier ending in nn.Softmax(dim=0) sat near chance: 0.680/0.762 against
    0.928/0.919 (fifteenth held-out set). A recurrent layer reading the batch as time is named by
    recurrence_across_batch instead."""
    found = (ctx.wiring or {}).get("rows_mixed")
    if not found or ctx.recurrent_axes or (ctx.wiring or {}).get("unregistered"):
        return None  # unregistered layers never switch to eval mode either: unregistered_weights says it
    return Finding(
        "underfitting", "error", 0, 0, {"batch": found["batch"], "first_row_change_alone": found["max_change"],
                                        "output_size": found["output_size"]},
        f"In eval mode the first row's output changed by {_size(found['max_change'])} (outputs of size "
        f"{found['output_size']:.3g}) between a batch of {found['batch']} rows and that row alone: the network mixes "
        f"the rows of a batch. Each row's answer depends on which rows share its batch, and a row served alone gets "
        f"another one. Most often a softmax or a normalisation runs over dim 0, the batch (nn.Softmax(dim=0) from "
        f"code that scored one unbatched vector): use dim=-1, or leave the softmax out, since trainwell's loss "
        f"applies its own.",
        _option_fix(ctx, "rows_mixed", "each row's output then depends on that row alone"))


def inputs_unread(history, signals, ctx: Context) -> Finding | None:
    """After two plain steps every row gets the same output, to 1e-6: nothing of the input reaches
    it, and no training changes that. A bag-of-embeddings classifier that pooled over the
    transformer's key-padding mask (True at padding, so only the zero padding embeddings were
    averaged) gave every message one output: 0.179/0.179 against 0.987/0.983 (sixteenth held-out
    set). Read after steps, so a head that starts at zero is not taken for it."""
    found = (ctx.wiring or {}).get("inputs_unread")
    if not found or (ctx.wiring or {}).get("unregistered"):
        return None
    code = "underfitting" if ctx.task == "regression" else "stuck_at_chance"
    return Finding(
        code, "error", 0, 0, {"rows": found["rows"], "output_spread_across_rows": found["spread"],
                              "output_size": found["output_size"]},
        f"The network gives every row the same output: {found['rows']} different training rows, after two plain "
        f"training steps, got outputs within {found['spread']:.1g} of each other (outputs of size "
        f"{found['output_size']:.3g}). Nothing of the input reaches the output, so training can only learn "
        f"{'the mean target' if ctx.task == 'regression' else 'the class shares'}. Look for what cuts the input "
        f"off: a mask that keeps only padding (PyTorch's key-padding masks are True where there is no token), an "
        f"index or slice that selects nothing, a multiplication by a tensor of zeros, a detach before every layer "
        f"that learns.",
        _option_fix(ctx, "inputs_unread", "the output then depends on the rows"))


# A table's input features dropped at this share or more, with the training loss (features dropped)
# at DROPPED_RATIO times the validation loss (all features there) or more over the last 5 epochs: the
# dropping, not the data, sets what the network can fit. A soil-carbon regressor built (Dropout 0.3,
# Linear, ReLU), a pre-activation order that puts the first dropout on the 13 measurements: training
# 0.42/0.36 against validation 0.14/0.11 (3x), r2 0.820/0.799 against 0.975/0.939 (sixteenth held-out
# set). Images and text repeat what one input says in its neighbours, and dropout on them is a known
# regulariser (a call CNN with half its input channels blanked scored 1.000): tables only.
DROPPED_INPUTS = 0.1
DROPPED_RATIO = 1.3
GOOD_FIT = 0.05   # validation loss under 5% of chance: the soils fault sat at 11-14%


def inputs_dropped(history, signals, ctx: Context) -> Finding | None:
    found = (ctx.wiring or {}).get("inputs_dropped")
    if not found or found["p"] < DROPPED_INPUTS or ctx.data_kind != "tabular" or len(history) < 5:
        return None
    pairs = [(h.get("train_loss"), h.get("val_loss")) for h in history[-5:]]
    if not all(isinstance(t, (int, float)) and isinstance(v, (int, float)) and v > 0 for t, v in pairs):
        return None
    ratios = sorted(t / v for t, v in pairs)
    chance = chance_loss(ctx) or 1.0   # a standardized target's mean predicts at loss 1
    # A fit that is already good is no underfitting, however the ratio grows as validation nears 0
    # (wine at 1.000 with its inputs dropped at 0.3: validation 0.004, training 1.9x that).
    if ratios[2] < DROPPED_RATIO or min(v for _, v in pairs) < GOOD_FIT * chance:
        return None
    n = len(ctx.feature_rms) or None
    return Finding(
        "underfitting", "warning", history[-5].get("epoch", len(history) - 4), None,
        {"dropout_layer": found["layer"], "p": found["p"], "train_over_val_median_5": round(ratios[2], 3),
         "limit_p": DROPPED_INPUTS, "limit_ratio": DROPPED_RATIO},
        f"The network's first dropout ({found['layer']}, p {found['p']:g}) is handed the input features themselves: "
        f"every training row loses a random {found['p']:.0%} of its {n or ''} measurements"
        f"{'' if n is None else ''}, and the training loss with them dropped stays {ratios[2]:.1f}x the validation "
        f"loss with all of them there. In a table each column says something the others do not, so the network "
        f"cannot learn what needs the dropped ones together. Dropout belongs after a layer (Linear, activation, "
        f"Dropout), where the units repeat what the inputs say.",
        _option_fix(ctx, "inputs_dropped", "the dropout then falls on hidden units, not on the input features"))


def norm_too_narrow(history, signals, ctx: Context) -> Finding | None:
    """Before training: a normalisation layer that takes the mean and spread of 2 values or fewer at a
    time (wiring: norm_too_narrow). Two values less their mean, over their spread, are always +1 and
    -1: only which is the larger survives, not how large either is. A smart-plug CNN that put
    nn.LayerNorm(F) on its two readings per step (watts, power factor), as the transformer recipe it
    came from did over 64 channels, called every kettle a microwave: 0.696/0.726 against 1.000/1.000
    (eighteenth held-out set)."""
    found = (ctx.wiring or {}).get("norm_too_narrow")
    if not found:
        return None
    n = found["values"]
    what = "nothing is left of it but its learned shift" if n <= 1 else \
        "each pair comes out as (+1, -1) or (-1, +1): only which of the two is the larger is left"
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit_values": 2},
        f"The network's {found['kind']} {found['layer']!r} normalises {n} value{'s' if n != 1 else ''} at a time: "
        f"{what}, whatever the inputs were. A normalisation needs many values to take a mean and a spread over (a "
        f"layer norm over a transformer's 64 channels, a group norm over a feature map): over the features of one "
        f"step of a 2-reading sequence, or over a single unit, it erases what it was meant to steady. Normalise over "
        f"more values (the channels after the first layer), or leave the inputs to data.scale.",
        _option_fix(ctx, "norm_too_narrow", "the network then has no normalisation over so few values"))


def inputs_flattened(history, signals, ctx: Context) -> Finding | None:
    """Before training: the network's own transform of its inputs (a clamp, a floor, a log of
    values under its floor) hands the first weight layer one value in most rows for a quarter of the
    features or more, where the features as prepared vary (wiring: inputs_flattened). Most often the
    transform was written for raw readings and data.scale standardizes them first: half of each
    standardized column is under 0, under any floor meant for concentrations."""
    found = (ctx.wiring or {}).get("inputs_flattened")
    if not found:
        return None
    names = [ctx.feature_names[j] if j < len(ctx.feature_names) else f"feature {j}" for j in found["features"]]
    fixes = _option_fix(ctx, "inputs_flattened", "the first layer then sees the features vary")
    if ctx.scale != "none" and found.get("raw_scale_clears"):
        fixes.insert(0, Fix({"data.scale": "none"}, "the raw values, which a transform written for readings in "
                                                    "their own units (a log with a detection floor) expects "
                                                    "(checked: handed them, the network no longer flattens them)"))
    return Finding(
        "underfitting", "warning", 0, 0, {"flattened_features": names, "features": found["of"],
                                          "rows_at_one_value": found["share"], "limit_rows": 0.5, "limit_features": 0.25},
        f"The network's own transform of its inputs hands its first weight layer one value in {found['share']:.0%} of the "
        f"rows (on average) for {len(names)} of its {found['of']} features ({', '.join(names[:4])}"
        f"{', ...' if len(names) > 4 else ''}), which vary as data.scale ({ctx.scale!r}) prepares them: a clamp or a "
        f"floor cuts them off, and every row under it looks the same. A transform written for raw readings (a log "
        f"with a detection floor) takes standardized values, half of them negative, as under its floor.",
        fixes)


def inputs_quantized(history, signals, ctx: Context) -> Finding | None:
    """Before training: the network's own transform hands its first weight layer a few distinct values
    of features that take many as prepared (wiring: inputs_quantized): a rounding (torch.round,
    a cast to int) or a coarse bucketing. Written for raw units (whole centimetres), it rounds
    standardized inputs to whole standard deviations."""
    found = (ctx.wiring or {}).get("inputs_quantized")
    if not found:
        return None
    if ctx.data_kind == "image":
        return _pixels_quantized(ctx, found)
    names = [ctx.feature_names[j] if j < len(ctx.feature_names) else f"feature {j}" for j in found["features"]]
    return Finding(
        "underfitting", "warning", 0, 0, {"quantized_features": names, "features": found["of"],
                                          **_levels_evidence(found), "limit_features": FLAT_FEATURES},
        f"The network's own transform of its inputs hands its first weight layer {found['levels']} distinct values (the "
        f"median) of {len(names)} of its {found['of']} features ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}), "
        f"which take {found['distinct_as_prepared']} in the same {found['rows']} rows as data.scale ({ctx.scale!r}) "
        f"prepares them: a rounding or a coarse bucketing, and every row between two levels looks the same. Rounding "
        f"written for raw units (whole centimetres) rounds standardized inputs to whole standard deviations.",
        _option_fix(ctx, "inputs_quantized", "the first layer then sees the features' own values"))


def _levels_evidence(found: dict) -> dict:
    return {"levels_seen": found["levels"], "distinct_as_prepared": found["distinct_as_prepared"],
            "rows": found["rows"], "limit_levels": QUANT_LEVELS}


def _pixels_quantized(ctx: Context, found: dict) -> Finding:
    """A threshold or a rounding of the images inside the network: (x > 0) from a pipeline that
    masked raw counts over a dark background, kept after standardization (0 is then the mean pixel):
    faint parts of an object and its shading are cut away (snow crystals: 0.784/0.778 against
    0.882/0.869, twenty-eighth held-out set)."""
    share = len(found["features"]) / max(found["of"], 1)
    return Finding(
        "underfitting", "warning", 0, 0, {"quantized_pixels": len(found["features"]), "pixels": found["of"],
                                          **_levels_evidence(found), "limit_share": FLAT_FEATURES},
        f"The network's own transform of its images hands its first layer {found['levels']} distinct values (the "
        f"median) at {share:.0%} of the pixel positions, which take {found['distinct_as_prepared']} in the same "
        f"{found['rows']} images as data.scale ({ctx.scale!r}) prepares them: a threshold or a rounding, so shading, "
        f"soft edges and faint detail are cut away. A mask written for raw counts over a dark background "
        f"((x > 0)) takes standardized pixels, where 0 is the mean, and keeps only the bright cores.",
        _option_fix(ctx, "inputs_quantized", "the first layer then sees the pixels' own values"))


def output_dropped(history, signals, ctx: Context) -> Finding | None:
    """Before training: a regressor whose output is a dropout layer's (wiring: output_dropped)."""
    found = (ctx.wiring or {}).get("output_dropped")
    if not found:
        return None
    p = found["p"]
    return Finding(
        "underfitting", "warning", 0, 0, {**found},
        f"The network's output passes through its dropout {found['layer']!r} (p {p:g}): in training each prediction is "
        f"zeroed {p:.0%} of the time and scaled by {1 / (1 - p):.3g} otherwise, so the squared error is least where the "
        f"kept predictions hit the target, and at prediction, with dropout off, every one comes back shrunk to "
        f"{1 - p:.2g} of it. Dropout belongs between hidden layers, not after the output layer.",
        _option_fix(ctx, "output_dropped", "the output then leaves the last layer as it is"))


def outputs_tied(history, signals, ctx: Context) -> Finding | None:
    """Before training: a regressor's output columns equal on every row (wiring: outputs_tied)."""
    found = (ctx.wiring or {}).get("outputs_tied")
    if not found:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {**found},
        f"The network's {found['outputs']} outputs are equal on every row ({found['rows']} rows, on the network as "
        f"built and with its weights shaken): one number broadcast to all of them (a head of one output expanded to "
        f"every hour ahead, or every target), so no weight can make one differ from another, and the best it can do "
        f"is their mean. The last layer needs one output per column of the target.",
        _option_fix(ctx, "outputs_tied", "the network then has an output for each column"))


def tokens_merged(history, signals, ctx: Context) -> Finding | None:
    """Before training: text whose tokens the network merges before its embedding looks them up
    (wiring: tokens_merged), as hashing ids into a few buckets does."""
    found = (ctx.wiring or {}).get("tokens_merged")
    if not found:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"embedding": found["layer"], "distinct_tokens": found["tokens"],
                                          "rows_looked_up": found["rows"], "table_rows": found["table"],
                                          "limit_share": MERGED_SHARE},
        f"The network's embedding {found['layer']!r} is handed {found['rows']} distinct rows for the {found['tokens']} "
        f"distinct tokens of 32 training texts (its table holds {found['table']}): each token's row is a function of its "
        f"id that sends many tokens to one row, as hashing ids into a few buckets does, so the words that share a row "
        f"share one vector and the network cannot tell them apart. Hashing bounds memory only with far more buckets "
        f"than words; the vocabulary (data.text.vocab_size) already bounds it here.",
        _option_fix(ctx, "tokens_merged", "each token then has a row of its own"))


def features_unread(history, signals, ctx: Context) -> Finding | None:
    """Before training: input features that get exactly no gradient from the output, a quarter of them
    or more, after two plain steps, and whose moving leaves every output as it was (wiring:
    features_unread): the network never reads them, whatever it learns. A slice short of the columns
    meant (x[..., :1] for x[..., :4])."""
    found = (ctx.wiring or {}).get("features_unread")
    if not found:
        return None
    names = found["features"]
    shown = ", ".join(map(repr, names[:6])) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    read = ", ".join(map(repr, found["read"]))
    return Finding(
        "underfitting", "warning", 0, 0, {"features_unread": names, "features": found["of"],
                                          "limit": f"{FEATURES_UNREAD:.0%} of the features, exact zeros"},
        f"{len(names)} of the {found['of']} input features ({shown}) get exactly no gradient from the network's "
        f"output, on every row and step, after two plain steps, and changing them leaves every output as it was; "
        f"the network reads {read} and never the rest. "
        f"Nothing it learns can use them. Most often a slice or an index picks fewer columns than meant (x[..., :1] "
        f"where x[..., :4] was), or a column list in the builder leaves them out; if they are meant to be unused, "
        f"leave them out of the data instead (data.features).",
        _option_fix(ctx, "features_unread", "the network then reads every feature"))


def pixels_unread(history, signals, ctx: Context) -> Finding | None:
    """Before training: a quarter or more of an image's positions get exactly no gradient from the
    output, on every row and channel, after two plain steps, and changing them leaves every output as
    it was (wiring: pixels_unread): the network never looks there. A crop of the centre where what
    tells the classes apart reaches the edges."""
    found = (ctx.wiring or {}).get("pixels_unread")
    if not found:
        return None
    top, bottom, left, right = found["read_box"]
    h, w = found["size"]
    return Finding(
        "underfitting", "warning", 0, 0, {"pixels_unread": found["unread"], "pixels": found["of"],
                                          "read_box": found["read_box"], "limit": f"{PIXELS_UNREAD:.0%} of the image"},
        f"{found['unread']} of the {found['of']} positions of each {h}x{w} image get exactly no gradient from the "
        f"network's output, on every row and channel, after two plain steps, and changing them leaves every output "
        f"as it was: the network only looks at rows {top}-{bottom - 1} and columns {left}-{right - 1}. Whatever lies "
        f"outside (the ends of an object that is not centred) cannot inform its answer. Most often a crop or a slice "
        f"in the builder keeps less of the image than the data needs.",
        _option_fix(ctx, "pixels_unread", "the network then looks at the whole image"))


def channels_unread(history, signals, ctx: Context) -> Finding | None:
    """Before training: an image channel that gets exactly no gradient from the output after two plain
    steps, and whose changes leave every output as it was, while a linear model on it alone finds
    signal about the target (wiring: channels_unread): the network never reads what that channel tells."""
    found = (ctx.wiring or {}).get("channels_unread")
    if not found:
        return None
    base = found.get("yardstick") or {}
    told = (f"validation r2 {base['val_r2']:.3g}" if "val_r2" in base else
            f"validation loss {base['val_loss']:.3g} against {base['chance_loss']:.3g} for the class shares"
            if "val_loss" in base else "signal")
    shown = ", ".join(str(c) for c in found["channels"])
    return Finding(
        "underfitting", "warning", 0, 0, {"channels_unread": found["channels"], "channels": found["of"],
                                          "unread_channels_alone": base,
                                          "limit": "no gradient, output unmoved, yardstick signal"},
        f"Channel(s) {shown} of the {found['of']} in each image get exactly no gradient from the network's output "
        f"after two plain steps, and changing them leaves every output as it was: the network never reads them. "
        f"Yet a linear model on those channels alone learns the target ({told}), so what tells the rows apart "
        f"there is lost to the network. Most often a slice in the builder (x[:, :1]) kept from a network made "
        f"for fewer channels, or a first layer built with too few input channels.",
        _option_fix(ctx, "channels_unread", "the network then reads every channel"))


def conv_over_features(history, signals, ctx: Context) -> Finding | None:
    """Before training: a custom network's Conv1d handed the (rows, steps, features) batch untransposed,
    with as many input channels as steps (wiring: conv_over_features): it convolves across the features
    and takes the steps as channels. Exact: the layer's input is the batch itself. A drone-log CNN built
    Conv1d(32 steps, 32, 3) to silence 'expected input to have 5 channels, but got 32' scored
    0.787/0.840 against 0.880/0.933 with the transpose (twenty-fourth held-out set)."""
    found = (ctx.wiring or {}).get("conv_over_features")
    if not found:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit": "in_channels == steps, the batch untransposed"},
        f"Layer {found['layer']!r} (a Conv1d with {found['in_channels']} input channels) is handed the batch as "
        f"trainwell gives it, (rows, {found['steps']} steps, {found['features']} features). A Conv1d reads "
        f"(rows, channels, length), so it takes the {found['steps']} steps as its channels and slides its kernel of "
        f"{found['kernel']} along the {found['features']} features: it mixes unrelated measurements as if they were "
        f"neighbours in time, and sees the whole sequence at once with no notion of order. A convolution over time "
        f"needs x.transpose(1, 2) first and Conv1d({found['features']}, ...).",
        _option_fix(ctx, "conv_over_features", "the convolution then runs along the steps"))


def sign_blind(history, signals, ctx: Context) -> Finding | None:
    """Before training: a custom network whose output is the same for every row and the row negated
    (wiring: sign_blind, after two plain steps), where a linear model finds signal in the inputs: it
    cannot tell a reading below its mean from one as far above."""
    found = (ctx.wiring or {}).get("sign_blind")
    if not found:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit": "outputs equal to 1e-6 for x and -x, yardstick signal"},
        f"The network gives every one of {found['rows']} training rows the same output as the row with every input "
        f"negated, after two plain steps: it is an even function of its inputs (they are squared, or their absolute "
        f"value taken, before any weight reads them). The inputs are standardized, so a reading as far below its mean "
        f"as another is above looks the same to it, while a linear model on the same rows finds signal in which side "
        f"they are on. Most often the raw inputs were meant to go in beside their squares (torch.cat([x, x * x])).",
        _option_fix(ctx, "sign_blind", "the network then reads the sign of its inputs"))


def order_blind(history, signals, ctx: Context) -> Finding | None:
    """Before training: a forecaster whose output is the same with the target's own past handed in
    reverse time order (wiring: order_blind, read after two plain steps): it cannot tell the newest
    step from the oldest, where a forecast hangs on what happened last."""
    found = (ctx.wiring or {}).get("order_blind")
    if not found:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"steps": found["steps"], "output_change_reversed": found["change"],
                                          "output_size": found["output_size"]},
        f"Handing the network the series' own past in reverse time order, in each window of {found['steps']} steps, "
        f"leaves its forecast where it was (it moved {found['change']:.1g}, on outputs of size {found['output_size']:.3g}): it reads the steps "
        f"as a set, so it cannot tell the newest from the oldest, nor which way the series is heading. Most often "
        f"the window is averaged (or summed, or max-pooled) over its steps before the layers; flatten it, or read "
        f"it with a recurrent or convolutional layer.",
        _option_fix(ctx, "order_blind", "the forecast then depends on the order of the steps"))


def steps_averaged(history, signals, ctx: Context) -> Finding | None:
    """Before training: a sequence network whose output is the same with each row's steps all replaced
    by their mean (wiring: steps_averaged, read after two plain steps), where how the features move
    over the steps says more about the target than their means: it sees each sequence's average and
    nothing of what happens in it."""
    found = (ctx.wiring or {}).get("steps_averaged")
    if not found:
        return None
    full, alone = found["summaries"], found["means"]
    if "val_r2" in full:
        said = f"r2 {full['val_r2']:.2f} against {alone['val_r2']:.2f} from the means alone"
    else:
        said = (f"a validation loss of {full['val_loss']:.3f} against {alone['val_loss']:.3f} from the means alone "
                f"(chance {full['chance_loss']:.3f})")
    return Finding(
        "underfitting", "warning", 0, 0, {"steps": found["steps"], "features": found["features"],
                                          "yardstick_summaries": full, "yardstick_means": alone},
        f"Replacing every step of a sequence with the sequence's mean ({found['features']} feature(s) over "
        f"{found['steps']} steps) leaves the network's output where it was: it reads only each feature's average, "
        f"and nothing of how the features move. The moves carry the signal here: a linear model on each "
        f"feature's mean, spread and quantiles over the steps reaches {said}. Most often a smoothing or "
        f"detrending step takes away what it was meant to keep (a running mean over 1 sample subtracted from the "
        f"signal leaves zero), or the steps are pooled before any layer reads them.",
        _option_fix(ctx, "steps_averaged", "the network then reads how the features move over the steps"))


def level_blind(history, signals, ctx: Context) -> Finding | None:
    """Before training: a forecaster whose output does not move when the target's own past is raised
    by a standard deviation at every step (wiring: level_blind, read after two plain steps). It sees
    each window's shape, never its level, and must guess where the series is: a RevIN-style network
    that normalised each window and never put the level back scored r2 0.590/0.545, one that put back
    another column's level 0.564/0.568, against 0.943/0.947 (sixteenth held-out set)."""
    found = (ctx.wiring or {}).get("level_blind")
    if not found:
        return None
    if found.get("against"):
        return Finding(
            "underfitting", "warning", 0, 0, {"column": found["column"], "mean_output_change": found["change"],
                                              "raised_by": 1.0},
            f"Raising {found['column']!r}, the series being forecast, by 1 (a standard deviation, as the data is "
            f"scaled) at every step of the window lowers every forecast by exactly as much ({-found['change']:.3g}), "
            f"whatever the network's weights: it puts its forecast back on the series' level the wrong way round, so "
            f"the higher the series has been, the lower it forecasts. Most often each window is normalised by its own "
            f"mean and spread and the forecast is mapped back with the mean subtracted (z * s - m) where z * s + m "
            f"undoes the normalisation.",
            _option_fix(ctx, "level_blind", "the forecast then moves with the level of the series"))
    return Finding(
        "underfitting", "warning", 0, 0, {"column": found["column"], "output_change": found["change"],
                                          "output_size": found["output_size"]},
        f"Raising {found['column']!r}, the series being forecast, by one standard deviation at every step of the "
        f"window leaves the forecast where it was (it moved {found['change']:.1g}, on outputs of size "
        f"{found['output_size']:.3g}): the network sees the shape of each window but not its level, and has to guess "
        f"where the series is. Most often each window is normalised by its own mean and spread (RevIN) and the "
        f"forecast is never put back on the target's level, or is put back with another column's.",
        _option_fix(ctx, "level_blind", "the forecast then moves with the level of the series"))


def read_backwards(history, signals, ctx: Context) -> Finding | None:
    """Before training: a forecaster whose output at init hangs on the oldest steps of its window and
    hardly on the newest, where the data says the newest say most (wiring: read_backwards). A
    one-way recurrent net remembers best what it read last; handed the window flipped in time, it
    ends on the oldest hour and must carry the newest through every step: a river-gauge GRU that
    flipped its 48 hours 'to chronological order' scored r2 0.868/0.887 against 0.951/0.954
    (seventeenth held-out set)."""
    found = (ctx.wiring or {}).get("read_backwards")
    if not found:
        return None
    from ..wiring_series import BACKWARDS_SHARE, RECENT_LEAST

    corr = found["correlation"]
    return Finding(
        "underfitting", "warning", 0, 0, {"steps": found["steps"], "newest_quarter_gradient_share": found["newest_share"],
                                          "limit_share": BACKWARDS_SHARE, "correlation_newest": corr["newest"],
                                          "correlation_oldest": corr["oldest"], "limit_correlation": RECENT_LEAST},
        f"The network reads its {found['steps']}-step window backwards: at init, the newest quarter of the steps "
        f"reaches its output with {found['newest_share']:.2g} of the gradient of the oldest quarter, while in the "
        f"data {corr['column']!r} at the newest step correlates {corr['newest']:.2f} with what is forecast, and "
        f"{corr['oldest']:.2f} at the oldest. A one-way recurrent layer remembers best what it reads last; "
        f"trainwell's windows run oldest first, so a network that flips them (written for lags laid out newest "
        f"first) ends on the oldest step and must carry the newest through every step after it. Hand it the "
        f"window as it comes, or read the last output of a layer that runs over it oldest first.",
        _option_fix(ctx, "read_backwards", "the network then ends its window on the newest step"))


def newest_unread(history, signals, ctx: Context) -> Finding | None:
    """Before training: a forecaster some of whose outputs take exactly no gradient from the newest
    step of the window and do not move when it moves, where the data says the newest step says most
    (wiring: newest_unread). A head read off each of the last six steps' states as the forecasts 1-6
    hours ahead gave the next hour a state five hours old: r2 0.511/0.493 against 0.759/0.750
    (twenty-sixth held-out set)."""
    found = (ctx.wiring or {}).get("newest_unread")
    if not found:
        return None
    from ..wiring_series import RECENT_LEAST

    corr, blind = found["correlation"], found["blind"]
    which = (f"{len(blind)} of its {found['outputs']} outputs ({', '.join(map(str, blind[:8]))}"
             + (", ..." if len(blind) > 8 else "") + ")" if found["outputs"] > 1 else "its output")
    return Finding(
        "underfitting", "warning", 0, 0, {"outputs": found["outputs"], "outputs_blind_to_newest_step": blind,
                                          "steps": found["steps"], "correlation_newest": corr["newest"],
                                          "correlation_oldest": corr["oldest"], "limit_correlation": RECENT_LEAST,
                                          "limit": "no gradient from the newest step, output unmoved"},
        f"The network never reads the newest step of its {found['steps']}-step window for {which}: those outputs get "
        f"exactly no gradient from it after two training steps, and changing it leaves them as they were. In the "
        f"data {corr['column']!r} at the newest step correlates {corr['newest']:.2f} with what is forecast ("
        f"{corr['oldest']:.2f} at the oldest), so those forecasts start from stale information. Most often the "
        f"outputs are read off earlier steps of a recurrent layer's output (out[:, -k:], a sequence-to-sequence "
        f"habit: the forecast k hours ahead taken from the state k - 1 hours older than the newest) where every "
        f"forecast should start from the state after the newest step.",
        _option_fix(ctx, "newest_unread", "every output then reads the newest step"))


def bn_momentum(history, signals, ctx: Context) -> Finding | None:
    """Before training: a custom network's batch norm with momentum over 0.5 (wiring: bn_momentum).
    PyTorch's momentum is the weight of the newest batch in the running statistics (0.1 by default),
    Keras' the weight of the past (0.99): ported as it is, the statistics the network predicts with
    are those of the last training batch, often a remainder of a few rows. A dairy regressor at 0.99
    whose last batch held 2 cows: r2 -2.8/-1.7 against 0.853/0.854 (twenty-sixth held-out set)."""
    found = (ctx.wiring or {}).get("bn_momentum")
    if not found:
        return None
    from ..wiring import BN_MOMENTUM

    last = ctx.n_train % ctx.batch_size if ctx.batch_size and ctx.n_train else 0
    return Finding(
        "overfitting", "warning", 0, 0, {**found, "limit_momentum": BN_MOMENTUM, "batch_size": ctx.batch_size,
                                         "last_batch_rows": last or ctx.batch_size},
        f"The batch norm layer {found['layer']!r} has momentum {found['momentum']:g}. In PyTorch the momentum is the "
        f"weight of the newest batch in the running mean and variance (0.1 by default); Keras' momentum (0.99) is "
        f"the weight of the past. At {found['momentum']:g} the statistics the network predicts with are in effect "
        f"those of the last training batch"
        + (f", here a remainder of {last} row(s)" if last else "")
        + ", not of the training data: validation and test rows are normalised with them, and predictions go wrong "
          "however well training fits. Use 1 - the Keras value (0.01 for 0.99).",
        _option_fix(ctx, "bn_momentum", "the running statistics then average over many batches"))


def bn_shared(history, signals, ctx: Context) -> Finding | None:
    """Before training: one batch norm module applied twice or more in a forward pass, to values whose
    statistics differ (wiring: bn_shared). In training each call normalises with its own batch's
    statistics and the network fits; its running mean and variance blend the calls, and in eval mode
    every call is normalised with that blend: validation goes wrong however well training fits."""
    found = (ctx.wiring or {}).get("bn_shared")
    if not found:
        return None
    from ..wiring import SHARED_BN_RATIO, SHARED_BN_SHIFT

    return Finding(
        "overfitting", "warning", 0, 0, {**found, "limit_shift_sd": SHARED_BN_SHIFT,
                                         "limit_variance_ratio": SHARED_BN_RATIO},
        f"The batch norm module {found['layer']!r} is applied {found['calls']} times in one forward pass, to values "
        f"unlike each other (their means {found['shift_sd']:.2g} standard deviations apart, their variances "
        f"{found['variance_ratio']:.2g}x apart, at init). In training each call is normalised with its own batch's "
        f"statistics, so the training loss falls; but the module keeps one running mean and variance, a blend of "
        f"all its calls, and in evaluation every call is normalised with that blend, which fits none of them: "
        f"validation and test predictions go wrong however well training fits. Give each place its own "
        f"BatchNorm module (an nn.ModuleList of them, one per layer), or normalise the calls' inputs together "
        f"in one call where they are meant to share statistics.",
        _option_fix(ctx, "bn_shared", "each place then has its own batch norm"))


def outputs_clamped(history, signals, ctx: Context) -> Finding | None:
    """Before training: a quarter or more of a fresh network's rows share the lowest value of an output
    column while the rest vary (wiring: outputs_clamped), the mark of a ReLU or a clamp after the last
    layer. A class score held at its floor passes no gradient back, so a class whose score goes under 0
    on every row can never win again: a tile-defect CNN with its head written as Linear + ReLU like the
    layers above it lost the pinhole class, 0.785/0.800 against 1.000/1.000 (seventeenth held-out set)."""
    found = (ctx.wiring or {}).get("outputs_clamped")
    if not found:
        return None
    from ..wiring_inputs import CLAMPED_SHARE

    classes = ctx.task != "regression"
    what = "class scores" if classes else "predictions (of a standardized target, half of it under 0)"
    lost = "a class whose score is under it on every row is never predicted" if classes else \
        "the values under it are never learned"
    return Finding(
        "dying_relu", "warning", 0, 0, {**found, "limit_share": CLAMPED_SHARE},
        f"The network's output passes through a floor: in {len(found['columns'])} of its {found['outputs']} output "
        f"columns, {found['share_at_floor']:.0%} of {found['rows']} rows sit exactly at the lowest value "
        f"({found['floor']:.3g})"
        + (f" after {found['pushed']['steps']} training steps of a copy toward {found['pushed']['target']:g} on every "
           f"row (at init they varied and few sat there), which no row could pass"
           if found.get("pushed") else " while the others vary")
        + f", which a layer's continuous output never does. Its "
        f"{what} are clamped, most often by a ReLU after the last layer: where an output sits at the floor it "
        f"passes no gradient back, so {lost}. The last layer's output should reach the loss as it is.",
        _option_fix(ctx, "outputs_clamped", "the output then reaches the loss unclamped"))


def outputs_bounded(history, signals, ctx: Context) -> Finding | None:
    """Before training: a regressor whose output stays inside a range whatever its weights (shaken, then
    scaled 10x and 100x), with 5% of the training targets or more beyond it (wiring: outputs_bounded): a
    squashing function after the last layer, so those targets can never be predicted."""
    found = (ctx.wiring or {}).get("outputs_bounded")
    if not found:
        return None
    from ..wiring_inputs import BOUNDED_SHARE

    parts = []
    for j, sides in found["columns"].items():
        for side, d in sides.items():
            parts.append(f"output {j} never {'over' if side == 'above' else 'under'} {d['reached']:.3g}, "
                         f"with {d['targets_beyond']:.0%} of the training targets {side} it")
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit_share": BOUNDED_SHARE},
        f"The network's output stays inside a fixed range whatever its weights (shaken, then scaled "
        f"{' and '.join(f'{c:g}x' for c in found['scales'])}): {'; '.join(parts)}. The output passes through a "
        f"bound, most often a tanh or a sigmoid after the last layer: trainwell trains a regressor on the "
        f"standardized target, whose values run well past +-1, so every row beyond the bound is predicted at the "
        f"bound and the loss keeps pulling at units that are already saturated. A regressor's last layer should "
        f"reach the loss as it is.",
        _option_fix(ctx, "outputs_bounded", "the output then reaches every target value"))


def features_interchangeable(history, signals, ctx: Context) -> Finding | None:
    """Before training: a table's columns each moved into another's slot leave every row's output as
    it was (wiring: features_interchangeable). The network reads a row as a bag of values, not knowing
    which column each came from. A beehive net that embedded each reading with one shared (1, d) row of
    weights where (F, d) was meant broadcast it over the readings: 0.643/0.590 against 0.973/0.960
    (seventeenth held-out set)."""
    found = (ctx.wiring or {}).get("features_interchangeable")
    if not found:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit": "outputs equal to 1e-5 of their size"},
        f"The network cannot tell its {found['features']} input columns apart: with every column of {found['rows']} "
        f"rows moved into the next one's place, each row's output stayed the same (it moved {found['output_change']:.1g} "
        f"on outputs of size {found['output_size']:.3g}). It sees which values a row holds but not which "
        f"measurement each is, so a high temperature and a high weight read alike. Most often every column goes "
        f"through the same weights (one row of an embedding or a scale shared where one per column was meant, which "
        f"broadcasting hides) and the results are pooled over the columns.",
        _option_fix(ctx, "features_interchangeable", "each column then gets its own weights"))


def turn_blind(history, signals, ctx: Context) -> Finding | None:
    """Before training: square images each turned a quarter leave every output as it was (wiring:
    turn_blind), where a quarter turn changes the class. A dial-gauge net from a microscopy project
    averaged its features over the four quarter turns, where a gauge's reading is its needle's
    angle: 0.333/0.354 against 0.951/0.965 (nineteenth held-out set)."""
    found = (ctx.wiring or {}).get("turn_blind")
    if not found:
        return None
    from .preparation import AUGMENT_RETENTION_LIMIT

    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit_class_signal_kept": AUGMENT_RETENTION_LIMIT},
        f"The network cannot see which way up an image is: each of {found['rows']} images turned a quarter (90 "
        f"degrees) gives the same output as before (it moved {found['output_change']:.1g} on outputs of size "
        f"{found['output_size']:.3g}). In this data the classes depend on it: a classifier by class means keeps "
        f"{max(found['class_signal_kept'], 0):.0%} of what tells them apart on the turned images. A network made "
        f"blind to rotation (features averaged or pooled over the turns) suits images with no up, such as cells "
        f"under a microscope; here the classes look different turned, so a reader that cannot see the turn loses "
        f"part of what tells them apart (all of it where one class is another turned, as a needle's angle is).",
        _option_fix(ctx, "turn_blind", "the network then sees orientation"))


def signal_lost(history, signals, ctx: Context) -> Finding | None:
    """Before training: the inputs hold the classes (a linear model on them, each column standardized,
    is well under chance) and what the network's first weight layer is handed does not (the same model
    there does no better than the class shares): something the network does to its inputs before any
    weight throws the classes away (wiring: signal_lost). A tile CNN that standardized each image by its
    own mean and sd erased the darkness of the dull glaze, 0.830/0.830 against 1.000/1.000; a swim-stroke
    net that centred each recording removed the wrist's orientation, 0.788/0.805 against 1.000/1.000
    (seventeenth held-out set)."""
    found = (ctx.wiring or {}).get("signal_lost")
    if not found:
        return None
    raw, seen = found["inputs"], found["first_layer"]
    return Finding(
        "underfitting", "warning", 0, 0,
        {"inputs_val_loss": raw["val_loss"], "first_layer_val_loss": seen["val_loss"], "chance_loss": raw["chance_loss"],
         "rows": found["rows"], "model": raw["model"], "limits": "inputs < 0.6 of chance, first layer >= 0.9"},
        f"What the network's first weight layer is handed has lost the classes: a {raw['model']} on the inputs "
        f"(each column standardized, {found['rows']} training rows) reaches a validation loss of {raw['val_loss']:.3g} "
        f"against {raw['chance_loss']:.3g} for the class shares, and on what that layer receives, {seen['val_loss']:.3g}. "
        f"Something the network does to its inputs before any weight sees them removes what tells the classes apart: "
        f"a normalisation of each row by its own mean and spread (where a class differs in its level), a centring, a "
        f"crop or a pooling that drops the part that matters.",
        _option_fix(ctx, "signal_lost", "the first layer is then handed what tells the classes apart"))
