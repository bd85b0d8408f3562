"""Judged before the first step, from the plan for training: the model (frozen layers, blind or
narrow convolutions), the optimizer (class weights, Adam's betas, group rates), the schedule,
the stopping rule and the number of steps. Each returns a Finding at epoch 0 or None."""

from __future__ import annotations

import math

from ..facts import Context, usual_top
from ..findings import Finding, Fix
from ..measures import _round_lr, chance_loss, loss_floor, loss_shift
from .fit import NARROW_HIDDEN_SIZE


def frozen_at_random(history, signals, ctx: Context) -> Finding | None:
    """model.freeze with no model.init_from: the frozen layers keep their random initial weights
    for the whole run, and only the rest learns, on top of random features (a digits MLP with its
    body frozen: 0.64 against 0.95; sixth held-out set). Freezing is for weights trained before.
    Not the output layer alone of a built-in MLP with hidden layers at least as wide as its outputs:
    a fixed random readout costs next to nothing, the layers before it learn to feed it (Hoffer et
    al., "Fix your classifier", 2018; a frost-damage MLP [64, 64] with its head frozen: r2 0.779/0.827
    against 0.786/0.828 trained whole, twenty-fourth held-out set)."""
    if not ctx.frozen or ctx.init_from:
        return None
    if ctx.frozen == ["head"] and ctx.model_type == "mlp" and ctx.mlp_hidden and \
            min(ctx.mlp_hidden) >= (ctx.n_outputs or 1):
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"freeze": ctx.frozen, "init_from": None},
        f"model.freeze {ctx.frozen} keeps those layers at their random initial weights for the whole run: there is "
        f"no model.init_from, so nothing trained them before. Only the layers left unfrozen learn, on random "
        f"features, and the network can fit far less than its size suggests.",
        [Fix({"model.freeze": []}, "train every layer (or give model.init_from a run whose weights they should keep)")])


# Under a fifth of the class signal kept by what global pooling leaves (context.pool_retention):
# the classes differ by where things are, which averaging over space throws away. Solder-blob
# quadrants kept 0.05 and the CNN with global pooling scored 0.84 against 0.99 flattening its maps
# (eleventh held-out set); digits keep 0.76, spots at random angles 0.63.
POOL_RETENTION_LIMIT = 0.2


def pooled_position(history, signals, ctx: Context) -> Finding | None:
    kept = ctx.pool_retention
    if ctx.model_type != "cnn" or not ctx.global_pool or kept is None or kept >= POOL_RETENTION_LIMIT:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"global_pool": True, "class_signal_kept": kept, "limit": POOL_RETENTION_LIMIT},
        f"model.global_pool averages each feature map over the whole image before the head, which keeps what the "
        f"image shows and drops where it is. Here the classes differ by where: features that ignore position keep "
        f"{max(kept, 0):.0%} of what tells the classes apart (a class-mean classifier on random filters' pooled "
        f"responses, against one on the pixels), so the head cannot tell them apart but through the borders' padding.",
        [Fix({"model.global_pool": False}, "flatten the feature maps into the head, which then sees where each feature "
                                           "is", architecture=True)])


# Word order that says what the words alone do not: the linear yardstick with neighbouring word pairs
# beside the words at half the loss or less, and 5 points of accuracy more. Chess openings named by
# their first moves: words 0.437 nats and accuracy 0.867, with pairs 0.054 and 1.000; the transformer
# without positions scored 0.833 against 1.000 (nineteenth held-out set). Where the words alone
# already tell every class apart (claim texts: accuracy 1.000 either way, 0.212 and 0.106 nats) a
# transformer without positions trains as well as with them.
ORDER_LOSS_SHARE = 0.5
ORDER_ACCURACY_GAIN = 0.05


def order_unseen(history, signals, ctx: Context) -> Finding | None:
    """A transformer built without positions (model.positional none) on texts whose word order
    carries the label (baseline.order_baseline): attention over a bag of tokens sees which words a
    text holds, not in what order."""
    found = ctx.text_order
    if not found or found["pairs"] > ORDER_LOSS_SHARE * found["words"] or \
            (found["pairs_accuracy"] or 0) - (found["words_accuracy"] or 0) < ORDER_ACCURACY_GAIN:
        return None
    return Finding(
        "underfitting", "warning", 0, 0,
        {**found, "limits": f"pairs <= {ORDER_LOSS_SHARE} x words' loss, accuracy +{ORDER_ACCURACY_GAIN}"},
        f"model.positional is none, so the transformer sees each text as a bag of tokens: the same words in "
        f"another order read the same. Here the order says what the words alone do not: a logistic regression on "
        f"the words reaches a validation loss of {found['words']:.3g} (accuracy {found['words_accuracy']:.3f}), and "
        f"with each pair of neighbouring words beside them {found['pairs']:.3g} (accuracy "
        f"{found['pairs_accuracy']:.3f}; chance {found['chance_loss']:.3g}).",
        [Fix({"model.positional": "sinusoidal"}, "position encodings tell attention which token came where",
             architecture=True)])


# A network that is an affine map of its inputs however many layers it stacks: with no nonlinearity
# between them, Linear after Linear is one Linear. Stacked float32 layers give a gap of ~1e-7
# (context.affine_network), a ReLU or tanh between them 0.05 and more. A Keras port whose Dense
# layers kept their default linear activation, two layers of 128 on concrete strength, scored r2
# 0.856/0.867 against 0.932/0.941 with ReLU (twelfth held-out set): a linear regression's.
AFFINE_GAP = 1e-3


def linear_network(history, signals, ctx: Context) -> Finding | None:
    affine = ctx.affine
    if not affine or affine["gap"] >= AFFINE_GAP:
        return None
    fixes = [Fix({"model.options.activation": "relu"}, "the builder's activation option: a ReLU between the layers "
                                                       "makes their stack more than one linear map", architecture=True)
             ] if affine["activation_option"] else []
    for key, value in (affine.get("default_option") or {}).items():
        fixes.append(Fix({f"model.options.{key}": value},
                         f"the builder's default for {key} ({value!r}): the network is then more than one linear map "
                         f"(checked by building it with that default)", architecture=True))
    return Finding(
        "underfitting", "warning", 0, 0,
        {"affine_gap": float(f"{affine['gap']:.3g}"), "limit": AFFINE_GAP, "weight_layers": affine["weight_layers"]},
        f"The custom network computes an affine map of its inputs: its {affine['weight_layers']} weight layers have no "
        f"nonlinearity between them (the output at the midpoint of two inputs is the midpoint of their outputs, to "
        f"{affine['gap']:.1g}), and a stack of linear layers is one linear layer. It can fit no more than a linear "
        f"model, however deep; nor do its weights moving change that (each moved a little, the network stays "
        f"affine), so it is not a gate that starts closed. Put an activation (nn.ReLU, nn.Tanh, ...) after each "
        f"hidden layer, and keep any learned gate in an nn.Parameter"
        + (", for instance through the builder's `activation` option" if affine["activation_option"] else "") + ".",
        fixes)


def recurrence_across_batch(history, signals, ctx: Context) -> Finding | None:
    """A recurrent layer of a custom network that reads the batch axis as time (network_measures.
    recurrent_axes, measured on two batch sizes, so no threshold: the layer's time axis has the
    batch's length, or it does not). A custom GRU written without batch_first=True, on sine-wave
    sequences, scored 0.444/0.437 against 0.963 with it (twelfth held-out set): each sequence's
    state ran over one step of every earlier sequence in its batch."""
    axes = ctx.recurrent_axes
    if not axes:
        return None
    option = axes["batch_first_option"]
    fixes = [Fix({"model.options.batch_first": option},
                 f"the builder's batch_first option: with it {option}, every recurrent layer runs along each "
                 "sequence's own steps (checked by building the network with it)", architecture=True)
             ] if option is not None else []
    layers = ", ".join(axes["layers"])
    return Finding(
        "underfitting", "error", 0, 0,
        {"recurrent_layers_reading_batch_as_time": axes["layers"], "steps_per_sequence": axes["steps"],
         "time_axis_lengths_on_batches_of": axes["batch_sizes"]},
        f"The custom network's recurrent layer{'s' if len(axes['layers']) > 1 else ''} ({layers}) read the batch as "
        f"time: on batches of {axes['batch_sizes'][0]} and {axes['batch_sizes'][1]} sequences their time axis was "
        f"{axes['batch_sizes'][0]} and then {axes['batch_sizes'][1]} steps long, while each sequence has "
        f"{axes['steps']}. trainwell hands a network its sequences as (batch, steps, features), and nn.RNN, nn.LSTM "
        f"and nn.GRU read (steps, batch, features) unless built with batch_first=True. Every shape fits and nothing "
        f"fails, but the recurrence runs across the sequences of a batch, one step of each, so a sequence's state "
        f"carries other sequences' data and almost none of its own. Build the layer with batch_first=True, or "
        f"transpose its input to (steps, batch, features).",
        fixes)


# An MLP on sequences reads step t of a feature as its own input, so a shape that can occur at any
# time is a different input at each offset, to be learned afresh at each. Measured on held-out rows
# (context.sequence_shapes): sine waves of random phase (examples/data/sequences.npz), steps as
# given 0.04 of the way from chance to perfect, shift-free features 0.87, and an MLP [128, 128]
# scored 0.578/0.541 against a GRU's 0.963 (twelfth held-out set); the suites' other sequence sets
# alike (0.00-0.08 against 0.70-0.84; 0.32 against 0.83 for a 2%-class cut). Knocks aligned at a
# trigger read 0.89 as given and 0.60 shift-free: there the steps line up and an MLP has a chance.
SHAPES_GAIN, STEPS_SHARE = 0.5, 1 / 3


def mlp_reads_steps(history, signals, ctx: Context) -> Finding | None:
    shapes = ctx.sequence_shapes
    if not shapes or shapes["shapes_gain"] < SHAPES_GAIN or shapes["steps_gain"] >= STEPS_SHARE * shapes["shapes_gain"]:
        return None
    return Finding(
        "overfitting", "warning", 0, 0,
        {"model_type": "mlp", "steps": shapes["steps"], "linear_on_steps_as_given": shapes["steps_gain"],
         "linear_on_shift_free_features": shapes["shapes_gain"], "limit": f"as given < {STEPS_SHARE:.2f} x shift-free, "
                                                                           f"shift-free >= {SHAPES_GAIN}"},
        f"An MLP reads each of the {shapes['steps']} steps of each feature as an input of its own, but here the classes "
        f"differ by shapes that occur at any time: a linear model on what does not move when a sequence shifts (each "
        f"feature's spectrum, level and spread) gets {shapes['shapes_gain']:.0%} of the way from chance to perfect on "
        f"held-out rows, the same model on the steps as given {max(shapes['steps_gain'], 0):.0%}. The MLP has to learn "
        f"each shape anew at every offset, and with a few hundred sequences it memorises them instead. A recurrent "
        f"network applies the same weights at every step.",
        [Fix({"model": {"type": "rnn", "cell": "gru", "hidden_size": 32}},
             "a GRU reads the sequence step by step with shared weights, wherever the shape occurs", architecture=True)])


def softmax_twice(history, signals, ctx: Context) -> Finding | None:
    """A custom classifier that ends in a softmax (network_measures.probability_outputs): advice,
    since the classes still rank right; the rules read its losses above the floor it sets. With a fix
    where a builder option the user set, back at its default, returns raw scores (wiring:
    probabilities): a fishing-catch classifier built with `probs: true` ('a classifier should output
    probabilities') scored 0.788/0.806 against 0.831/0.841, and 0.831/0.841 with the fix (twenty-first
    held-out set). Still advice, not a warning: a bearing classifier whose builder took `output:
    softmax` scored 0.947 (thirteenth set), so the doctor does not rebuild a run for it."""
    if not ctx.probability_outputs or not ctx.n_classes:
        return None
    from .wiring import _option_fix

    floor = loss_floor(ctx)
    fixes = _option_fix(ctx, "probabilities", "the network then hands the loss raw scores")
    return Finding(
        "underfitting", "info", 0, 0, {"outputs_sum_to_one": True, "loss_floor": round(floor, 4)},
        f"The custom network's outputs are probabilities (each row sums to 1: it ends in a softmax), and "
        f"trainwell's cross-entropy applies a softmax of its own, so it reads them as scores. The classes still rank "
        f"in the right order, but the loss cannot go under {floor:.3g} however well the network classifies, and "
        f"its gradients shrink as the outputs saturate. "
        + ("The doctor reads the losses above that floor. " if loss_shift(ctx) else
           "With these classes the floor lies close to the loss of a model ignoring its inputs, so the losses are "
           "judged as they are, and a healthy run may read as underfitting. ")
        + "Return raw scores (drop the last nn.Softmax) to train on the loss as meant.", fixes)


def gradient_never_arrives(history, signals, ctx: Context) -> Finding | None:
    """Layers of a custom network that the output depends on but no gradient reaches
    (network_measures.gradient_cut: one backward pass, no threshold). An encoder run under
    torch.no_grad(), copied from a linear-probe script, left a rent regressor's head to learn on
    random features: r2 0.697/0.703 against 0.946/0.940 (thirteenth held-out set)."""
    cut = ctx.gradient_cut
    if not cut:
        return None
    layers = cut["layers"]
    option = cut["option"]
    fixes = [Fix({f"model.options.{k}": v for k, v in option.items()},
                 f"the builder's {next(iter(option))} option: with it {next(iter(option.values()))}, every layer "
                 f"gets a gradient (checked by building the network with it)", architecture=True)] if option else []
    shown = ", ".join(layers[:6]) + (f" and {len(layers) - 6} more" if len(layers) > 6 else "")
    return Finding(
        "vanishing_gradients", "warning", 0, 0, {"layers_without_gradient": layers, "option": option},
        f"No gradient reaches {len(layers)} layer(s) of the custom network ({shown}), though the output depends on "
        f"them: their part of the forward pass runs under torch.no_grad(), or its result is .detach()ed, or the "
        f"weights are used through .data. They keep their initial weights for the whole run, and the layers after "
        f"them learn on what random weights make of the inputs. If they are pretrained and meant to stay as they "
        f"are, set requires_grad=False on them (or use model.freeze) to say so; if not, let the gradient through.",
        fixes)


PIXEL_POOL_LIMIT = 0.5


def blind_convolutions(history, signals, ctx: Context) -> Finding | None:
    """A CNN whose every kernel is 1x1, averaged over space before its head: no layer ever sees two
    pixels side by side, so what reaches the head is a mix of pixel intensities, not strokes or
    shapes (digits: 0.33 against 0.985 with 3x3 kernels; fifth held-out set). Pooling between the
    blocks does not help: it averages or picks intensities, it does not arrange them. Without global
    pooling the head still sees every position and learns as an MLP on the pixels would. Unless the
    classes are told apart by single pixels, such as colour (context.pool_retention with 1x1
    filters: fruit by ripeness kept 1.6-1.9 of the pixels' signal and trained to 1.000; digits keep
    0.15-0.18)."""
    if ctx.model_type != "cnn" or not ctx.global_pool or not ctx.conv_blocks:
        return None
    if any(b.get("kernel", 3) > 1 for b in ctx.conv_blocks):
        return None
    if ctx.pixel_pool_retention is not None and ctx.pixel_pool_retention >= PIXEL_POOL_LIMIT:
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
# The same weights handed out again, the largest to the rarest class, leave the classes' weighted
# shares within 4x of each other (the ratio class_imbalance reads as a majority that can dominate):
# the weights were meant to balance the classes and were written in another class order than the
# sorted labels trainwell uses. [1, 1, 10] written billing, technical, security for the sorted
# billing, security, technical: 79x as given, 1.3x rarest first, which is the config that scores
# 0.940/0.951 against 0.667/0.667 (thirteenth held-out set); inverse-share weights get 0.909/0.951.
REORDERED_LIMIT = 4.0


def _weighted_skew(weights, shares) -> tuple[float, int]:
    """max/min of weight x share over the classes (the weight each class carries in the loss as a
    whole), and the class that carries most."""
    mass = [w * p for w, p in zip(weights, shares)]
    return max(mass) / min(mass), mass.index(max(mass))


def class_weights_off(history, signals, ctx: Context) -> Finding | None:
    weights, shares = ctx.loss_class_weights, ctx.class_shares
    if not weights or not shares or len(weights) != len(shares) or min(weights) <= 0 or min(shares) <= 0:
        return None
    skew, heavy = _weighted_skew(weights, shares)
    if skew < CLASS_WEIGHT_LIMIT:
        return None
    names = ctx.class_names if ctx.class_names and len(ctx.class_names) == len(shares) else \
        [str(i) for i in range(len(shares))]
    rarest_first = sorted(range(len(shares)), key=lambda i: shares[i])
    reordered = [0.0] * len(shares)
    for i, w in zip(rarest_first, sorted(weights, reverse=True)):
        reordered[i] = w
    reordered_skew, _ = _weighted_skew(reordered, shares)
    ratio = max(shares) / min(shares)
    imbalanced = ratio >= 4  # as class_imbalance reads a majority that can dominate
    balance = {"loss.class_weights": None, **({"data.imbalance": "class_weights"} if imbalanced else {})}
    fixes = [Fix(balance, "weigh classes by their inverse frequency (data.imbalance: class_weights)" if imbalanced
                 else "the classes are close to even: no weights")]
    order = f"A list of loss.class_weights goes to the classes in sorted label order ({', '.join(names)})"
    evidence = {"class_weights": weights, "class_shares": [round(p, 4) for p in shares], "classes": names,
                "weighted_share_ratio": round(skew, 1), "limit": CLASS_WEIGHT_LIMIT}
    text = (f"loss.class_weights {weights} make class {names[heavy]}'s rows weigh {skew:.0f}x the lightest class's in "
            f"the loss as a whole (weights times the classes' shares of the training rows, "
            f"{', '.join(f'{n}: {p:.0%}' for n, p in zip(names, shares))}). The network learns to answer "
            f"{names[heavy]} whenever it can, whatever the inputs say. {order}.")
    if reordered_skew <= REORDERED_LIMIT:
        evidence.update(reordered_weights=reordered, reordered_ratio=round(reordered_skew, 2),
                        reordered_limit=REORDERED_LIMIT)
        text += (f" The same weights given rarest class first, {{{', '.join(f'{n}: {w:g}' for n, w in zip(names, reordered))}}}, "
                 f"would balance the classes "
                 f"(within {reordered_skew:.1f}x): they look written in another class order.")
        fixes.insert(0, Fix({"loss.class_weights": dict(zip(names, reordered))},
                            "your weights, the largest to the rarest class, by label (a mapping cannot be misordered)"))
    return Finding("class_imbalance", "warning", 0, 0, evidence, text, fixes)


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


def monitor_backwards(history, signals, ctx: Context) -> Finding | None:
    """training.early_stopping.mode set against its monitor: "min" for a score (accuracy, f1, r2...)
    or "max" for a loss or an error. Early stopping then counts every real improvement as a
    setback, stops after `patience` epochs, and keeps (restores, and saves as best) the worst epoch
    it saw: SGD on digits watching val_accuracy in mode min kept epoch 1, 0.80 against 0.95
    (seventh held-out set). Nothing in the training curves shows it."""
    from ...metrics import is_better_high

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


# SGD or RMSprop momentum that averages over more than 200 steps (above 0.995): the step grows to
# about lr / (1 - momentum) as the buffer fills (1000x the rate at 0.999), and it keeps pushing for
# hundreds of steps after the gradient turns, so no rate suits it. On a digits MLP (doctor off, seeds
# 0/1), momentum 0.999 lost 3.4-12 points against momentum 0.9 at every rate tried (SGD 1e-5 to 1e-2,
# RMSprop 3e-6 to 1e-3); 0.995 at a small rate (SGD 1e-3, RMSprop 1e-5) came within 3.3. The third
# and sixth held-out sets' 0.999 runs (meant 0.9) were found live, from the damage, when the checks
# happened to see it. At 0.99 or less the momentum can be a choice (root_causes.MOMENTUM_LIMIT takes
# it from there, when a rate finding fires).
MOMENTUM_RUNAWAY = 0.995


def momentum_runaway(history, signals, ctx: Context) -> Finding | None:
    if ctx.optimizer not in ("sgd", "rmsprop") or ctx.momentum <= MOMENTUM_RUNAWAY:
        return None
    steps = 1 / (1 - ctx.momentum)
    return Finding(
        "lr_too_high", "warning", 0, 0,
        {"optimizer": ctx.optimizer, "momentum": ctx.momentum, "limit": MOMENTUM_RUNAWAY, "lr": ctx.lr},
        f"optimizer.momentum {ctx.momentum:g}: {ctx.optimizer} adds up its last ~{steps:.0f} steps, so once the buffer "
        f"fills each move is about {steps:.0f}x the learning rate ({ctx.lr:g}), and it keeps pushing the same way "
        f"for hundreds of steps after the gradient turns. The weights overshoot and the loss climbs; a smaller rate "
        f"only slows the same swing (0.999 lost 3-12 points to 0.9 on digits at every rate tried). 0.9 is the usual "
        f"momentum (0.99 at most).",
        [Fix({"optimizer.momentum": 0.9}, f"momentum 0.9: the step is about 10x the rate instead of {steps:.0f}x, "
                                          f"and it turns with the gradient within ~10 steps")])


# A parameter group's own rate 10x above the top of its optimizer's usual range (lint.LR_RANGE) is no
# choice a schedule or a measure can rescue: the live repairs scale every group's rate together, so
# the group stays that far above the others. A digits MLP at Adam 1e-3 with its head group at 30
# (meant 3e-3) scored 0.91/0.88; its head at 1e-2, 0.96 (seventh held-out set).
GROUP_LR_LIMIT = 10.0


def _prefix(group: dict) -> str:
    prefix = group.get("prefix")
    return "/".join(map(str, prefix)) if isinstance(prefix, (list, tuple)) else str(prefix)


def _wild_groups(ctx: Context) -> list[dict]:
    return [g for g in ctx.param_groups if g.get("lr", 0) > GROUP_LR_LIMIT * usual_top(ctx)]


def _starved_groups(ctx: Context) -> list[dict]:
    # A custom network (model.type python) may load pretrained weights itself, where a low rate
    # for its backbone is the recipe; only model.init_from says so for the others.
    if ctx.init_from or ctx.model_type == "python":
        return []
    return [g for g in ctx.param_groups if 0 < g.get("lr", ctx.lr) < GROUP_LR_STARVED * ctx.lr * (1 - 1e-9)]


def _groups_fixed(ctx: Context) -> list[dict]:
    """param_groups with every group too high or too low brought back, in one override: the two rules'
    fixes both set optimizer.param_groups, and the last one merged would undo the other."""
    wild, starved = _wild_groups(ctx), _starved_groups(ctx)
    high = float(f"{min(usual_top(ctx), 10 * ctx.lr):.2g}")
    return [{**g, "lr": high} if g in wild else {**g, "lr": ctx.lr} if g in starved else g for g in ctx.param_groups]


def group_rate_off(history, signals, ctx: Context) -> Finding | None:
    top = usual_top(ctx)
    wild = _wild_groups(ctx)
    if not wild:
        return None
    new_lr = float(f"{min(top, 10 * ctx.lr):.2g}")
    groups = _groups_fixed(ctx)
    names = ", ".join(f"{_prefix(g)} at {g['lr']:g}" for g in wild)
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


# The other way: a group at under a tenth of the base rate in a run that starts from scratch (no
# model.init_from). Lower rates for some layers are a fine-tuning recipe (pretrained layers move
# little); from random weights those layers stay near random. A BiLSTM classifier with its recurrent
# layers at 5e-5 under a head at 5e-3 scored 0.667/0.652 against 0.948/0.956 (twelfth held-out set;
# at a tenth of the head's rate, 0.815/0.822: the limit leaves that to the user).
GROUP_LR_STARVED = 0.1


def group_rate_starved(history, signals, ctx: Context) -> Finding | None:
    starved = _starved_groups(ctx)
    if not starved:
        return None
    groups = _groups_fixed(ctx)
    names = ", ".join(f"{_prefix(g)} at {g['lr']:g}" for g in starved)
    return Finding(
        "lr_too_low", "warning", 0, 0,
        {"groups": [{"prefix": g["prefix"], "lr": g["lr"]} for g in starved], "lr": ctx.lr, "init_from": False,
         "limit": f"{GROUP_LR_STARVED:g}x the base rate"},
        f"optimizer.param_groups gives {names}, under {GROUP_LR_STARVED:g}x the {ctx.lr:g} the rest of the network "
        f"learns at, in a run that starts from random weights (no model.init_from). Lower rates for some layers are "
        f"a fine-tuning recipe, for layers that were trained already; here those layers barely move from random, "
        f"and a repair of the learning rate would scale every group together and leave them as far behind.",
        [Fix({"optimizer.param_groups": groups}, f"{ctx.lr:g} for that group, the base rate: every layer starts "
                                                 f"from random weights")])


def stops_too_soon(history, signals, ctx: Context) -> Finding | None:
    """training.early_stopping.min_delta too large for the monitored value: an epoch counts as
    better only when it gains min_delta, which late in training no epoch does, so the run stops
    while it is still improving (min_delta 0.1 on digits' validation loss, patience 2: stopped at
    0.88 against 0.96; eighth held-out set). The scale is what the value moves over: chance's loss
    for a classifier's loss, 1 for a standardized target's, 1 for scores in [0, 1]. 2% of it is
    several times what a late epoch gains (min_delta's default is 0; 1e-3 and 1e-4 are the usual
    choices)."""
    from ...metrics import is_better_high

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


# Coupled L2 (weight_decay with any optimizer but adamw) of 0.1 or more: 100x the top of the usual
# 1e-5..1e-3 (measures._heavy_l2). Named before training, not only once training stalls: a
# regression MLP under Adam with the 0.1 of an AdamW config learned, but ended at r2 0.931/0.925
# against 0.975/0.974 with its training loss held at 16x the reference's (fifteenth held-out set);
# a transformer under Adam with the same 0.1 ended 0.659 against 0.837 (eighth). Every case of
# the suites with coupled decay this heavy is a fault (Adam at 1.0 and 3.0 on digits, wine,
# breast_cancer and a GRU; SGD at 3.0 on wine).
COUPLED_DECAY_LIMIT = 0.1


def coupled_decay_heavy(history, signals, ctx: Context) -> Finding | None:
    if ctx.optimizer == "adamw" or ctx.weight_decay < COUPLED_DECAY_LIMIT:
        return None
    fixes = [Fix({"optimizer.weight_decay": 1e-4}, "1e-4, within the usual range of coupled L2")]
    adaptive = ctx.optimizer in ("adam", "nadam", "radam", "adamax")
    if adaptive and ctx.weight_decay <= 0.1:
        fixes.append(Fix({"optimizer.name": "adamw"},
                         f"adamw, where weight_decay {ctx.weight_decay:g} is decoupled from the gradient (the usual "
                         f"0.01-0.1 of AdamW recipes)"))
    how = ("is added to the gradient before Adam's scaling, so wherever the data's gradient is small the decay "
           "dominates and moves the weight toward zero at about the full rate every step" if adaptive else
           f"pulls every weight {ctx.weight_decay:g}x of the way to zero per unit of the learning rate, every step")
    return Finding(
        "underfitting", "warning", 0, 0,
        {"weight_decay": ctx.weight_decay, "optimizer": ctx.optimizer, "limit": COUPLED_DECAY_LIMIT},
        f"optimizer.weight_decay {ctx.weight_decay:g} with {ctx.optimizer} is an L2 penalty that {how}; the usual "
        f"values are 1e-5 to 1e-3. The weights are held near zero and the network fits less than it can."
        f"{' AdamW recipes use 0.01-0.1 because AdamW decouples the decay; under adam the same number pulls far harder.' if adaptive else ''}",
        fixes)


def l1_outweighs(history, signals, ctx: Context) -> Finding | None:
    """An L1 penalty that, on the initial weights, already costs as much as the loss of a model that
    knows nothing: the optimizer then spends its steps shrinking weights, and the network settles
    where the penalty and the data balance, far from a fit. L1 0.01 (a lasso strength from a linear
    model's dozen coefficients) on a GRU's 3456 weights came to 6.3 against a chance loss of 1.0;
    the data loss stalled at 0.28 against the reference's 0.05 (r2 0.64 against 0.94; eleventh
    held-out set); L1 1.0 on a breast_cancer MLP sat at chance (third). Usual strengths cost a few
    percent of it (1e-4 on that MLP: 0.02 against 0.69). Known before the first step; the size of the
    penalty, not its coefficient, is what counts (a lasso of 12 coefficients at 0.01 costs 0.04)."""
    chance = chance_loss(ctx)
    # And a coefficient above the usual 1e-5..1e-3: the initial penalty grows with the number of
    # weights while each weight's pull (l1 a step) does not, so a usual 1e-4 on three layers of 256
    # already costs 1.7x chance on breast_cancer and trains as well as without it (0.953).
    if not ctx.l1 or ctx.l1 <= 1e-3 or ctx.l1_at_init is None or not chance or ctx.l1_at_init < chance:
        return None
    # The coefficient that makes the initial penalty a tenth of chance, as a power of ten below.
    to = 10.0 ** math.floor(math.log10(ctx.l1 * 0.1 * chance / ctx.l1_at_init))
    return Finding(
        "underfitting", "warning", 0, 0,
        {"l1": ctx.l1, "l1_penalty_at_init": round(ctx.l1_at_init, 4), "chance_loss": round(chance, 4),
         "limit": "penalty at init >= chance loss"},
        f"regularization.l1 {ctx.l1:g} times the initial weights' sum of |w| is {ctx.l1_at_init:.3g}, "
        f"{ctx.l1_at_init / chance:.1f}x the loss of a model that ignores its inputs ({chance:.3g}): from the first step "
        f"the penalty outweighs the data, the optimizer mostly shrinks weights, and the network settles far from a fit.",
        [Fix({"regularization.l1": float(f"{to:.0e}")},
             f"l1 {to:.0e}: its penalty on these weights is then a tenth of the chance loss or less, a regulariser "
             f"rather than the objective")])


# Huber's delta under this share of a standardized target's spread caps the gradient of most residuals.
HUBER_DELTA_SHARE = 0.05


def huber_capped(history, signals, ctx: Context) -> Finding | None:
    """Huber's delta so small against the target that plain SGD's every step is capped: beyond delta
    the loss's gradient is delta x sign(residual), so at delta 0.01 on a standardized target (about
    1 wide) nearly every residual gets 1/100 of the gradient delta 1 gives it, whatever the rate. A
    GRU forecaster crept to r2 0.05 against 0.92 and, named live after 5 epochs, was repaired too
    late (0.89 against 0.92; tenth held-out set); delta 1e-4 left a diabetes net at r2 -2.1 against
    0.06 (second). Known from the plan alone, so named before the first step. Plain SGD only: an
    Adam-family step divides by the gradient's running size, so a capped gradient still moves the
    weights at about the rate. The live check (rate.lr_too_low) reads the same limits."""
    limit = HUBER_DELTA_SHARE if ctx.target_scaled else 0.01
    if ctx.loss != "huber" or ctx.optimizer != "sgd" or ctx.task != "regression" or ctx.huber_delta >= limit:
        return None
    return Finding(
        "lr_too_low", "warning", 0, 0, {"huber_delta": ctx.huber_delta, "optimizer": "sgd",
                                        "target_scaled": ctx.target_scaled, "limit_huber_delta": limit},
        f"loss.huber_delta is {ctx.huber_delta:g}"
        + (" on a standardized target (about 1 wide)" if ctx.target_scaled else "")
        + f": beyond delta, Huber's gradient is delta x the residual's sign, so nearly every residual gets "
        f"{1 / ctx.huber_delta:.0f}x less gradient than at delta 1, and plain SGD's steps shrink with it whatever "
        f"the learning rate. The network learns far too slowly.",
        [Fix({"loss.huber_delta": 1.0}, f"delta 1.0 (its default) gives residuals beyond it the gradient of an L1 "
                                        f"loss, {1 / ctx.huber_delta:.0f}x that of delta {ctx.huber_delta:g}")])


# A transformer's dropout acts on the attention weights, the feed-forward units and the residual
# stream of every layer (PyTorch's encoder layer applies it in four places), and the usual rate is
# 0.1 (Vaswani et al. 2017; BERT, GPT). At 0.5 (seed 0, doctor off): a text transformer 0.52 against
# 0.73 at 0.1, a forecaster's r2 0.36 against 0.88, two sequence transformers 0.54 against 0.84 and
# 0.78 against 0.90 (at 0 there); one text set at its label-noise ceiling lost nothing (0.97 at
# both). Judged live, the stall shows late: the last sequence transformer's at epoch 9 of 15, too
# late for a repair to catch up (0.79 against 0.90; tenth held-out set). 0.3, heavy but used on
# small data, is left to the checks during training.
TRANSFORMER_DROPOUT_LIMIT = 0.5


def transformer_dropout(history, signals, ctx: Context) -> Finding | None:
    if ctx.model_type != "transformer" or not ctx.dropout or ctx.dropout < TRANSFORMER_DROPOUT_LIMIT:
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"dropout": ctx.dropout, "model_type": "transformer",
                                          "limit": TRANSFORMER_DROPOUT_LIMIT},
        f"model.dropout {ctx.dropout:g} in a transformer drops {ctx.dropout:.0%} of the attention weights, the "
        f"feed-forward units and the residual stream in every layer, at every step: the network trains as a far "
        f"noisier one and learns slowly, if at all. Transformers usually train at dropout 0.1; 0.5 is an MLP's "
        f"rate.",
        [Fix({"model.dropout": 0.1}, "dropout 0.1, a transformer's usual rate, regularises without drowning the "
                                     "signal")])


# A transformer under SGD, measured with the doctor off on the seven healthy transformers of the
# suites (seeds 0/1; each against its own Adam or AdamW rate): plain SGD at 0.01 and at 0.1 lost 5-66
# points on all seven (but on the reviews' seed 1, whose reference is itself at chance, 0.536). With
# momentum 0.9, the best of 0.01, 0.03, 0.1 and 0.3, chosen per seed, still lost 7-13 points on a
# seed of four of the five non-text ones and matched the fifth (a load forecaster); on the two text
# transformers it lost 20 and 57 (embeddings: a token's row moves only on the steps that see it).
# Momentum 0.5 (on two, at 0.01 and 0.1) lost 10 points on a seed of each, like none.
# AdamW at 3e-3 came within 3.0 points of each reference on both seeds (19 above the reviews' seed 1).
# SGD with momentum under the usual 0.9, and any SGD on text, are warnings; SGD at 0.9 or more
# elsewhere is an info: tuned, it can work.
TRANSFORMER_SGD_MOMENTUM = 0.9
TRANSFORMER_SGD_FIX_LR = 3e-3


def transformer_sgd(history, signals, ctx: Context) -> Finding | None:
    if ctx.model_type != "transformer" or ctx.optimizer != "sgd":
        return None
    plain = ctx.momentum < TRANSFORMER_SGD_MOMENTUM
    text = ctx.data_kind == "text"
    why = (f"SGD{'' if ctx.momentum else ' without momentum'} takes one global step size for every weight"
           if plain else f"SGD, even with momentum {ctx.momentum:g}, takes one global step size for every weight")
    return Finding(
        "lr_too_low", "warning" if plain or text else "info", 0, 0,
        {"optimizer": "sgd", "momentum": ctx.momentum, "model_type": "transformer", "data_kind": ctx.data_kind,
         "momentum_limit": TRANSFORMER_SGD_MOMENTUM},
        f"A transformer under {why}, but its attention, layer norms and embeddings get gradients of very "
        f"different sizes: a rate safe for the largest leaves the rest barely moving, so the loss falls slowly"
        + (", and an embedding row moves only on the steps whose batch holds its token" if text else "")
        + ". Transformers train with Adam-family optimizers, which scale each weight's step by its own gradient "
          "history; on six of seven transformers measured, SGD with momentum at its best rate lost 7-57 "
          "points to Adam.",
        # nesterov is SGD's alone: left on, the config would refuse AdamW (and every other fix with it)
        [Fix({"optimizer.name": "adamw", "optimizer.lr": TRANSFORMER_SGD_FIX_LR,
              **({"optimizer.nesterov": False} if ctx.nesterov else {})},
             "AdamW at 3e-3, a transformer's usual optimizer and rate (within 3 points of Adam on each of the "
             "seven)")])


def narrow_head(history, signals, ctx: Context) -> Finding | None:
    """A dense head (model.head of an rnn or cnn, an MLP's model.hidden) with a layer narrower than the outputs it feeds:
    everything the network predicts passes through fewer numbers than it must tell apart, and one
    ReLU unit is one non-negative number (head [1] before a 6-step forecast: r2 0.43 against 0.94;
    ninth held-out set). Fires under max(2, outputs, classes) units."""
    need = max(2, ctx.n_outputs or 0, ctx.n_classes or 0)
    if ctx.model_type == "cnn" and ctx.flat_width is not None and ctx.flat_width < need and ctx.cnn_blocks:
        found = _narrow_convolutions(ctx, need)   # None where the blocks already have the usual widths
        if found is not None:
            return found
    if ctx.model_type == "mlp" and ctx.mlp_hidden and min(ctx.mlp_hidden) < need:
        return _narrow_hidden(ctx, need)
    # A recurrent state under the usual sizes only: a 64-number state feeds a 72-step forecast through
    # its linear head as well as any (the steps are smooth and alike), so the outputs alone ask no width.
    state = (ctx.hidden_size or 0) * (2 if ctx.bidirectional else 1)
    if ctx.model_type == "rnn" and state and state < need and state < NARROW_HIDDEN_SIZE:
        return _narrow_state(ctx, need, state)
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


def _narrow_state(ctx: Context, need: int, state: int) -> Finding:
    """A recurrent state narrower than the outputs or classes: the state at the last step is all the
    network keeps of each sequence. A GRU of 2 units on five kinds of lift ride: 0.67/0.69 against
    0.97/0.99 at 32 (twentieth held-out set); the same slip in the third (an LSTM of 1 unit before a
    6-step forecast, r2 0.49 against 0.93) and sixth (a GRU of 2 units for 3 classes, 0.42 against 0.96)."""
    wide = max(32, 2 * need)
    what = f"{ctx.n_classes} classes" if ctx.n_classes else f"{ctx.n_outputs} output(s)"
    return Finding(
        "underfitting", "warning", 0, 0,
        {"hidden_size": ctx.hidden_size, "state": state, "outputs": ctx.n_outputs, "classes": ctx.n_classes,
         "limit": f"a state of {min(need, NARROW_HIDDEN_SIZE)} numbers or more"},
        f"model.hidden_size is {ctx.hidden_size}: the recurrent state, all the network keeps of each sequence by its "
        f"last step, is {state} number(s), fewer than the {what} it must tell apart, so it is too narrow to "
        f"carry them.",
        [Fix({"model.hidden_size": wide}, f"a recurrent state of {wide} numbers, a small usual size",
             architecture=True)])


def _narrow_hidden(ctx: Context, need: int) -> Finding:
    """An MLP hidden layer narrower than the outputs or classes: `hidden: [2]` meant as "two hidden
    layers" put five bearing states through 2 numbers, 0.835/0.683 against 0.944/0.933 ([64] gave
    0.955/0.933; thirteenth held-out set); [1] and [2] on digits, the suite's too-small nets. The
    fix widens each such layer to max(64, twice the outputs), as the lint of the same name."""
    wide = max(64, 2 * need)
    fixed = [max(w, wide) if w < need else w for w in ctx.mlp_hidden]
    narrow = min(ctx.mlp_hidden)
    return Finding(
        "underfitting", "warning", 0, 0,
        {"hidden": ctx.mlp_hidden, "outputs": ctx.n_outputs, "classes": ctx.n_classes, "limit": f"every layer >= {need}"},
        f"model.hidden {ctx.mlp_hidden} has a layer of {narrow} unit(s) before {ctx.n_outputs} output(s)"
        f"{f' for {ctx.n_classes} classes' if ctx.n_classes else ''}: everything the network predicts must pass "
        f"through {narrow} number(s), too few to carry it. (model.hidden lists the widths of the hidden layers, one "
        f"number per layer: [64, 64] is two layers of 64.)",
        [Fix({"model.hidden": fixed}, f"widen the narrow layer to {wide} units", architecture=True)])


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
        # steps at a full adaptive rate are what warmup guards against (rate._throw_fixes): the
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


def schedule_rises(history, signals, ctx: Context) -> Finding | None:
    """A cosine schedule whose floor (schedule.min_lr) lies far above optimizer.lr (context.schedule_rise):
    the schedule goes from the rate to its floor, so it raises the rate over the run. Keras' CosineDecay
    takes alpha, the floor as a fraction of the rate; written into min_lr, an absolute rate, 0.05 took a
    GRU at 0.005 tenfold and the run came apart in its second half (0.760 against 0.973; twenty-sixth
    held-out set). A floor meant as a fraction (under 1) is offered as that fraction of the rate first."""
    rise = ctx.schedule_rise
    if not rise:
        return None
    fixes = []
    if ctx.min_lr < 1:
        meant = _round_lr(ctx.min_lr * ctx.lr)
        fixes.append(Fix({"schedule.min_lr": meant},
                         f"{ctx.min_lr:g} read as a fraction of the rate, as Keras' CosineDecay alpha means it: "
                         f"a floor of {meant:g}"))
    fixes.append(Fix({"schedule.min_lr": 0.0}, "decay to zero, the default"))
    top = usual_top(ctx)
    return Finding(
        "lr_too_high", "warning", 0, 0, {**rise, "limit_factor": 2.0, "usual_top": top},
        f"schedule.min_lr ({ctx.min_lr:g}) is {rise['peak_factor']:g}x optimizer.lr ({ctx.lr:g}). The cosine schedule "
        f"goes from the rate to its floor over the run, so here it raises the rate to {ctx.min_lr:g} by the last epoch"
        + (f", above {ctx.optimizer}'s usual top of {top:g}" if top and ctx.min_lr > top else "")
        + ". min_lr is an absolute rate, the end of the decay; a floor written as a fraction of the rate (Keras' "
          "alpha) belongs there multiplied by the rate.",
        fixes)


def warmup_outlasts_run(history, signals, ctx: Context) -> Finding | None:
    """schedule.warmup_epochs as long as the run or longer: trainwell ends the warmup with the run, so the rate
    climbs from zero over every epoch and reaches optimizer.lr at the last step, and the schedule named
    never starts. Often harmless (a GRU at 0.008 scored as well with 300 warmup epochs in 30: the
    twenty-fourth held-out set's healthy run), sometimes not (an engine GRU at 0.005 with '500 warmup
    steps' written as epochs: 0.813 against 0.973; twenty-sixth set), which no reading before training
    tells apart: an info, whose fix the stall findings put first (root_causes._with_warmup_fix)."""
    fix = _warmup_fix(ctx)
    if fix is None:
        return None
    return Finding(
        "lr_too_low", "info", 0, 0, {"warmup_epochs": ctx.warmup_epochs, "epochs": ctx.epochs},
        f"schedule.warmup_epochs ({ctx.warmup_epochs:g}) is as long as the run ({ctx.epochs} epochs) or longer. The warmup ends "
        f"with the run, so the learning rate climbs from 0 over all of it and reaches optimizer.lr ({ctx.lr:g}) only at "
        f"the last step; half the run goes at under half the rate"
        + (f", and the {ctx.schedule} schedule after the warmup never starts" if ctx.schedule != "constant" else "")
        + ". Warmups take a few epochs; a count of steps written as epochs looks like this. If the run learns slowly, "
          "this is why.",
        [fix])


def _warmup_fix(ctx: Context) -> Fix | None:
    """The usual warmup, a tenth of the run (lint.usual_warmup), for one longer than the run."""
    from ..lint import usual_warmup

    if ctx.warmup_epochs < ctx.epochs or not ctx.epochs:
        return None
    epochs = usual_warmup(ctx.epochs)
    return Fix({"schedule.warmup_epochs": epochs},
               f"{epochs} epoch(s) of warmup, a tenth of the run" if epochs else "no warmup in a run this short")


def map_collapsed(history, signals, ctx: Context) -> Finding | None:
    """A built-in CNN one of whose blocks after the first is handed a 1x1 map (context.cnn_collapse):
    strides and pools together shrank the image to one position, so from there each kernel reads one
    pixel's channels and nothing around it, and what was lost on the way is gone. An ImageNet recipe's
    stride 2 in every block, on top of the pooling, took 16x16 infrared images of solar modules to 1x1
    by the third block: 0.578/0.711 against 0.967/0.989 at stride 1 (twenty-sixth held-out set)."""
    found = ctx.cnn_collapse
    if not found:
        return None
    sizes = " -> ".join(f"{h}x{w}" for h, w in found["sizes"])
    fixes = [Fix(f["overrides"], f["why"], architecture=f["architecture"]) for f in found["fixes"]]
    return Finding(
        "underfitting", "warning", 0, 0, {"block_handed_1x1": found["block"], "map_sizes": found["sizes"],
                                          "limit": "a block after the first handed a 1x1 map"},
        f"The CNN's blocks shrink the {found['image'][0]}x{found['image'][1]} images to a single position before "
        f"block {found['block']} (model.blocks.{found['block']}): the maps each block is handed are {sizes}. From "
        f"there on each 3x3 kernel reads one pixel's channels and nothing around it, and the detail the strides and "
        f"pools dropped on the way is gone. Each stride of 2 halves the map, and so does each pool: recipes made for "
        f"224-pixel images stride and pool far more than small images can take."
        + (" data.image.size shrinks the images as stored before the first block."
           if any("data.image.size" in f.overrides for f in fixes) else ""),
        fixes)
