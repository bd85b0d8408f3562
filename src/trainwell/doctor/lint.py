"""Pre-flight lint: static checks on the config and the prepared data before the first step.

Each warning names the key, says what is odd in plain words and gives the fix as overrides.
None of them stops training: the config may be deliberate (the fault suite is full of them).
"""

from __future__ import annotations

import math

import numpy as np

# Usual learning-rate ranges: outside them a run is almost always too slow or unstable.
# Adaptive methods normalise the step, so their useful range sits lower than plain SGD's.
LR_RANGE = {"sgd": (1e-4, 1.0), "rmsprop": (1e-5, 1e-2), "adagrad": (1e-4, 1.0)}
ADAPTIVE = (1e-5, 1e-2)


def lint(cfg, prepared, plan: dict) -> list[dict]:
    out: list[dict] = []

    def warn(key, message, fix=None):
        out.append({"key": key, "message": message, "fix": fix or {}})

    spec = prepared.spec
    lr = cfg.optimizer.lr
    lo, hi = LR_RANGE.get(cfg.optimizer.name, ADAPTIVE)
    if isinstance(lr, (int, float)) and not lo <= lr <= hi:
        good = hi / 10 if lr > hi else lo * 10
        warn("optimizer.lr", f"{lr:g} is outside the usual range for {cfg.optimizer.name} ({lo:g} to {hi:g}); "
             f"expect {'divergence' if lr > hi else 'very slow progress'}, or run trainwell find-lr",
             {"optimizer.lr": good})
    if plan.get("loss") == "huber" and cfg.loss.huber_delta < 0.01:
        warn("loss.huber_delta", f"{cfg.loss.huber_delta:g} caps every residual's gradient at {cfg.loss.huber_delta:g}: "
             f"beyond it Huber is an L1 loss scaled by delta, so the steps are {1 / cfg.loss.huber_delta:.0f}x smaller "
             f"than an L1 loss's at the same learning rate", {"loss.huber_delta": 1.0})
    _schedule_lint(cfg, warn)
    if cfg.loss.class_weights is not None and cfg.data.imbalance in ("oversample", "undersample"):
        # Resampling already evens the classes out; weights on top correct the imbalance twice and
        # tip the model the other way (data.imbalance: class_weights with them is refused at load).
        warn("loss.class_weights", f"{cfg.loss.class_weights} on top of data.imbalance: {cfg.data.imbalance}, which "
             f"already gives every class the same share of the training rows: the imbalance is corrected twice and "
             f"the model leans to the rare classes", {"loss.class_weights": None})
    if getattr(cfg.model, "new_head", False) and not getattr(cfg.model, "init_from", None):
        # It does nothing then (every layer of a network built from scratch is fresh), and said nothing.
        warn("model.new_head", "a fresh output layer is for transferred weights (model.init_from), which this run "
             "does not load: every layer starts from random weights anyway", {"model.new_head": False})
    clip = cfg.regularization.clip_grad_value
    if clip is not None and clip < 1e-3 and cfg.optimizer.name == "sgd":
        warn("regularization.clip_grad_value", f"{clip:g} caps every gradient element, so no step can exceed {clip:g} "
             f"x the learning rate: training will barely move (clip_grad_norm: 1.0 guards against spikes instead)",
             {"regularization.clip_grad_value": None, "regularization.clip_grad_norm": 1.0})
    from .rules.plan import ADAM_FAMILY
    from .rules.rate import EPS_LIMIT

    if cfg.optimizer.name in ADAM_FAMILY and cfg.optimizer.eps >= EPS_LIMIT:
        warn("optimizer.eps", f"{cfg.optimizer.eps:g} is added to the gradient's running size in every "
             f"{cfg.optimizer.name} step: far above it, each step is lr x gradient / eps, tiny at any rate "
             f"(the default is 1e-8)", {"optimizer.eps": 1e-8})
    norm = cfg.regularization.clip_grad_norm
    if norm is not None and norm < 1e-3 and cfg.optimizer.name == "sgd":
        warn("regularization.clip_grad_norm", f"{norm:g} caps the gradient's length, so no step can be longer than "
             f"{norm:g} x the learning rate: training will barely move (1.0 is the usual guard against spikes)",
             {"regularization.clip_grad_norm": 1.0})
    momentum = cfg.optimizer.momentum
    if cfg.optimizer.name in ("sgd", "rmsprop") and momentum > 0.99:
        warn("optimizer.momentum", f"{momentum:g} makes {cfg.optimizer.name}'s steps about {1 / (1 - momentum):.0f}x the learning rate "
             f"once it builds up (lr / (1 - momentum)); expect the loss to climb (0.9 is usual)",
             {"optimizer.momentum": 0.9})
    eps, k_classes = cfg.loss.label_smoothing, len(spec.classes) if spec.classes else 0
    if plan.get("loss") in ("cross_entropy", "bce") and eps > 0 and k_classes >= 2:
        from .measures import SMOOTHING_EXCESS, smoothed_floor

        chance = math.log(k_classes)
        room = chance - smoothed_floor(eps, k_classes)
        if room < SMOOTHING_EXCESS * chance:
            warn("loss.label_smoothing", f"{eps:g} leaves {room:.2g} nats between a model that knows nothing "
                 f"({chance:.3g}) and a perfect one over {k_classes} classes: the targets barely say which class is "
                 f"right, and the network will learn slowly or not at all (0.1 is usual)",
                 {"loss.label_smoothing": 0.1})
    noise = cfg.data.augment.noise
    if noise > 1:
        # The inputs are standardized, so noise of std above 1 is louder than the signal itself.
        warn("data.augment.noise", f"{noise:g} adds noise louder than the inputs themselves (they are scaled to "
             f"std 1); the network sees mostly noise and may learn nothing", {"data.augment.noise": 0.1})
    widths = list(getattr(cfg.model, "hidden", None) or [])
    k = len(spec.classes) if spec.classes else 0
    if cfg.model.type == "mlp" and widths and k > 2 and min(widths) < k:
        warn("model.hidden", f"a hidden layer of {min(widths)} units is narrower than the {k} classes: everything the "
             f"output layer separates must pass through {min(widths)} numbers, and the model will likely underfit",
             {"model.hidden": [max(64, 2 * k)]})
    dropout = getattr(cfg.model, "dropout", 0.0) or 0.0
    if dropout > 0.5:
        warn("model.dropout", f"{dropout} drops most units on every step; above 0.5 a network usually underfits",
             {"model.dropout": 0.3})
    n_train = len(prepared.train.x)
    bs = cfg.training.batch_size
    if isinstance(bs, int) and bs > n_train:
        warn("training.batch_size", f"{bs} is larger than the {n_train} training rows; every step is a full batch "
             f"(say batch_size: full if that is meant)", {"training.batch_size": "full"})
    per_epoch = 1 if bs == "full" or (isinstance(bs, int) and bs >= n_train) else math.ceil(n_train / bs)
    steps = per_epoch * cfg.training.epochs
    if n_train >= 256 and per_epoch <= 2 and steps < 100 and cfg.model.type != "gan":
        # The suite's healthy runs take 150 (wine, 40 epochs of 4) to 1200 steps; a full-batch CNN
        # on digits given 12 in all ended at 0.43 against 0.97 (fourth held-out set). A few hundred
        # rows or more is enough for mini-batches; on fewer, full batches are a fair choice.
        warn("training.batch_size", f"the whole run takes only {steps} optimizer steps ({per_epoch} an epoch over "
             f"{cfg.training.epochs} epochs on {n_train} rows): networks usually need hundreds",
             {"training.batch_size": 32})
    if cfg.training.early_stopping.enabled and prepared.val is None and cfg.model.type != "gan":
        warn("training.early_stopping", "early stopping is on but there is no validation split, so it watches "
             "nothing", {"data.split.val": 0.15, "data.split.train": round(cfg.data.split.train - 0.15, 4)})
    x = prepared.train.x
    if x.dtype.kind == "f" and cfg.data.clean.impute == "none" and not np.isfinite(x).all():
        warn("data.clean.impute", "the inputs hold NaN/inf and imputation is off; the first batch holding one "
             "turns every weight it touches into NaN", {"data.clean.impute": "median"})
    if spec.kind == "tabular" and cfg.data.scale == "none" and x.dtype.kind == "f" and len(x):
        with np.errstate(invalid="ignore"):
            rms = np.sqrt(np.nanmean(x.astype(np.float64) ** 2, axis=0))
        rms = rms[np.isfinite(rms) & (rms > 0)]
        if len(rms) and rms.max() > 20:
            warn("data.scale", f"scaling is off and some features are large (typical magnitude up to {rms.max():.3g}); "
                 f"gradients will be dominated by them", {"data.scale": "standardize"})
    act = getattr(cfg.model, "activation", None)
    depth = len(getattr(cfg.model, "hidden", []) or [])
    init = cfg.model.init.weight
    small_init = init.name in ("normal", "uniform") and (init.std if init.name == "normal" else init.a) < 0.05
    if act in ("sigmoid", "tanh") and depth >= 4 and (small_init or init.name in ("zeros", "constant")):
        warn("model.init.weight", f"{depth} {act} layers with {init.name} init this small shrink the gradient at "
             f"every layer; the first layers will barely learn (vanishing gradients)",
             {"model.init.weight": "xavier_uniform"})
    elif init.name in ("zeros", "constant") and cfg.model.type in ("mlp", "cnn", "rnn", "transformer"):
        warn("model.init.weight", f"{init.name} init starts every unit of a layer identical: they get the same "
             f"gradient and stay copies of one another", {"model.init.weight": "auto"})
    if act in ("sigmoid",) and depth >= 6 and not getattr(cfg.model, "batch_norm", False):
        warn("model.activation", f"{depth} sigmoid layers: sigmoid's slope is at most 0.25, so the gradient "
             f"shrinks at least 4x per layer", {"model.activation": "relu"})
    return out


def usual_warmup(epochs: int) -> int:
    """A tenth of the run, the usual warmup (none for runs under 10 epochs)."""
    return max(1, epochs // 10) if epochs >= 10 else 0


def _schedule_lint(cfg, warn) -> None:
    from ..training.optim import Schedule

    sc, epochs = cfg.schedule, cfg.training.epochs
    if sc.name in ("step", "multistep", "exponential") and epochs >= 4:
        # 1% of the rate by half the run: two decays by the usual 0.1, which these schedules are
        # meant to spread over the whole run. The doctor watches for the stall this causes.
        half = Schedule(sc, 1, epochs).factor(int(round(sc.warmup_epochs)) + epochs // 2 - 1)
        if half < 0.01:
            warn(f"schedule.{'step_size' if sc.name == 'step' else 'gamma'}",
                 f"the {sc.name} schedule takes the rate to {half:.1e} of its start by epoch {epochs // 2} of "
                 f"{epochs}; training will mostly stop there", {"schedule.name": "cosine"})
    if sc.warmup_epochs >= epochs:
        # The warmup is cut to the run (the rate reaches optimizer.lr at its last step), so the run
        # is all warmup and the named schedule never starts; a tenth of the run is the usual warmup.
        warn("schedule.warmup_epochs", f"{sc.warmup_epochs:g} warmup epochs in a run of {epochs}: the whole run is "
             f"warmup, the rate climbs to optimizer.lr only at the last step"
             + (f" and the {sc.name} schedule never starts" if sc.name != "constant" else ""),
             {"schedule.warmup_epochs": usual_warmup(epochs)})
    if sc.name == "reduce_on_plateau" and sc.factor < 0.1:
        warn("schedule.factor", f"reduce_on_plateau multiplies the rate by {sc.factor:g} at each stall: one noisy "
             f"epoch can end training (0.1 to 0.5 is usual)", {"schedule.factor": 0.5})
