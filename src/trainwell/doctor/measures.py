"""The measures and sizes the rules (doctor/rules/) share: a history's values, the loss of a model
that ignores its input (chance, above label smoothing's floor), update ratios, and how far a
learning rate is cut or raised."""

from __future__ import annotations

import math
import statistics

from .facts import Context, usual_top as _usual_top
from .findings import Fix


def _epoch(history: list[dict], i: int) -> int:
    """The (1-based) epoch number of history[i]; after a repair the rules see only the epochs
    since, so a position in the list is not an epoch number."""
    h = history[i]
    return int(h["epoch"]) if isinstance(h.get("epoch"), int) else (i % len(history)) + 1


class _History(list):
    """The epoch logs for one examination, with each key's finite values extracted once: the
    rules ask for the same few series ~10 times per epoch, and on tiny epochs (a few ms) that
    re-scanning was a third of the rules' time."""

    def __init__(self, logs):
        super().__init__(logs)
        self.series: dict[str, list[float]] = {}


def _vals(history: list[dict], key: str) -> list[float]:
    cache = getattr(history, "series", None)
    if cache is not None and key in cache:
        return list(cache[key])
    values = [h[key] for h in history if isinstance(h.get(key), (int, float)) and math.isfinite(h[key])]
    if cache is not None:
        cache[key] = values
        return list(values)
    return values


def _raw_chance(ctx: Context) -> float | None:
    """The loss of a model that ignores its input and predicts the class shares (or the mean),
    as the loss function reports it (label smoothing included)."""
    return ctx.memo("raw_chance", lambda: _compute_raw_chance(ctx))


def _compute_raw_chance(ctx: Context) -> float | None:
    if ctx.task == "regression":
        # standardized target: predicting 0 gives mse 1; a target in its own units has no known level
        return 1.0 if ctx.loss == "mse" and ctx.target_scaled else None
    if ctx.loss not in ("cross_entropy", "bce") or not ctx.class_shares:
        return None
    eps = _smoothing(ctx)
    pos_weight = _bce_pos_weight(ctx) if ctx.loss == "bce" and not eps and len(ctx.class_shares) == 2 else None
    if pos_weight is not None:
        # BCE's pos_weight weighs the positive rows' term alone, unnormalised: the best input-blind
        # probability is pw*s1 / (pw*s1 + s0). With balanced weights and the rare class sorted first
        # (pw = 0.03) chance is about 0.04, not ln 2, and every comparison with it stayed silent.
        s0, s1 = ctx.class_shares
        if s0 <= 0 or s1 <= 0 or not (0 < pos_weight < math.inf):
            return None   # a weight of 0 (or one so lopsided the best answer is certain): no chance level
        p = pos_weight * s1 / (pos_weight * s1 + s0)
        if not 0 < p < 1:
            return None
        return -(pos_weight * s1 * math.log(p) + s0 * math.log(1 - p))
    shares = [s for s in ctx.class_shares if s > 0]
    if ctx.imbalance == "class_weights":
        # Balanced class weights make every class weigh the same in the loss: the best
        # input-blind answer is then the uniform one, whatever the row counts.
        shares = [1 / len(shares)] * len(shares)
    k = len(ctx.class_shares)
    # Smoothed targets average to (1 - eps) x the shares + eps / K: the best input-blind answer.
    mixed = [(1 - eps) * s + eps / k for s in shares] + [eps / k] * (k - len(shares))
    return -sum(p * math.log(p) for p in mixed if p > 0)


def _bce_pos_weight(ctx: Context) -> float | None:
    """The pos_weight BCE trains with (training.losses.build): the class weights' ratio w1 / w0,
    from loss.class_weights, or else data.imbalance class_weights (sklearn's balanced: 1 / share)."""
    weights = ctx.loss_class_weights
    if not weights and ctx.imbalance == "class_weights" and all(s > 0 for s in ctx.class_shares):
        weights = [1 / (2 * s) for s in ctx.class_shares]
    if not weights or len(weights) != 2 or not weights[0]:
        return None
    return weights[1] / weights[0]


def _smoothing(ctx: Context) -> float:
    return ctx.label_smoothing if ctx.loss in ("cross_entropy", "bce") and ctx.n_classes else 0.0


def loss_floor(ctx: Context) -> float:
    """The lowest loss a perfect model reaches: 0, or with label smoothing eps over K classes the
    entropy of the smoothed target (1 - eps + eps/K on the true class, eps/K on each other):
    1.18 nats for eps 0.3 on 10 classes, 51% of chance's 2.30, where a 0.970 digits net sat and
    was called underfitting (third held-out set). A custom net that ends in a softmax hands
    cross-entropy probabilities as scores: its floor is log(e + K - 1) - 1, 0.905 for 5 classes,
    where a 0.947 classifier of bearing states sat and was called underfitting (thirteenth
    held-out set); the larger of the two when both apply."""
    return ctx.memo("loss_floor", lambda: _compute_loss_floor(ctx))


def _compute_loss_floor(ctx: Context) -> float:
    k = ctx.n_classes or 0
    softmaxed = math.log(math.e + k - 1) - 1 if ctx.probability_outputs and k >= 2 else 0.0
    return max(smoothed_floor(_smoothing(ctx), k), softmaxed)


def smoothed_floor(eps: float, k: int) -> float:
    if eps <= 0 or k < 2:
        return 0.0
    a, b = 1 - eps + eps / k, eps / k
    return -(a * math.log(a) + (k - 1) * b * math.log(b))


# Below this share of chance left between the floor and chance (label smoothing above about 0.5),
# the targets carry too little to learn from; the losses are judged as reported, and the rules
# name the smoothing itself.
SMOOTHING_EXCESS = 0.2


def _smoothing_levels(ctx: Context) -> tuple[float, float] | None:
    """(floor, chance as the loss reports it) when label smoothing sets a floor."""
    floor, chance = loss_floor(ctx), _raw_chance(ctx)
    return (floor, chance) if floor and chance else None


def loss_shift(ctx: Context) -> float:
    """What the rules subtract from every loss: the floor, when label smoothing leaves room to learn."""
    return ctx.memo("loss_shift", lambda: _compute_loss_shift(ctx))


def _compute_loss_shift(ctx: Context) -> float:
    levels = _smoothing_levels(ctx)
    return levels[0] if levels and levels[1] - levels[0] >= SMOOTHING_EXCESS * levels[1] else 0.0


def heavy_smoothing(ctx: Context) -> bool:
    """Label smoothing that leaves under SMOOTHING_EXCESS of chance to learn (a softmax-ended net's
    floor is no smoothing: nothing to fix in the loss there)."""
    chance, floor = _raw_chance(ctx), smoothed_floor(_smoothing(ctx), ctx.n_classes or 0)
    return bool(chance and floor) and chance - floor < SMOOTHING_EXCESS * chance


def _smoothing_fix(ctx: Context) -> Fix:
    chance, floor = _raw_chance(ctx) or 0.0, loss_floor(ctx)
    return Fix({"loss.label_smoothing": 0.1},
               f"label smoothing {ctx.label_smoothing:g} leaves {chance - floor:.2g} nats between a model that knows "
               f"nothing and a perfect one: the targets barely say which class is right; 0.1 is the usual amount")


def chance_loss(ctx: Context) -> float | None:
    """The loss of a model that ignores its input, measured from the lowest loss reachable: with
    label smoothing the rules read every loss above its floor (see examine)."""
    return ctx.memo("chance_loss", lambda: _compute_chance_loss(ctx))


def _compute_chance_loss(ctx: Context) -> float | None:
    chance = _raw_chance(ctx)
    return None if chance is None else chance - loss_shift(ctx)


def _majority(ctx: Context) -> float | None:
    return max(ctx.class_shares) if ctx.class_shares else None


def _rel_improvement(values: list[float], span: int) -> float | None:
    """Relative drop of the loss over the last `span` epochs (0.1 = fell by 10%)."""
    if len(values) < span + 1 or values[-span - 1] == 0:
        return None
    return (values[-span - 1] - values[-1]) / abs(values[-span - 1])


def _median_ratio(records: list[dict], last: int = 8, full_lr: bool = False) -> float | None:
    """Median update-to-weight ratio over the last checks. full_lr: only checks taken while the
    schedule ran at half its peak rate or more, so a warmup or a decayed tail (cosine, step) is
    not mistaken for a learning rate that is too small."""
    if full_lr:
        peak = max((r.get("lr", 0.0) for r in records), default=0.0)
        records = [r for r in records if r.get("lr", 0.0) >= 0.5 * peak]
    ratios = [statistics.median(r["update_ratio"].values()) for r in records[-last:]
              if r.get("update_ratio") and all(math.isfinite(v) for v in r["update_ratio"].values())]
    return statistics.median(ratios) if ratios else None


def _fastest_layer_ratio(records: list[dict], last: int = 8) -> float | None:
    """Median over the last checks of the largest per-layer update ratio."""
    tops = [max(r["update_ratio"].values()) for r in records[-last:]
            if r.get("update_ratio") and all(math.isfinite(v) for v in r["update_ratio"].values())]
    return statistics.median(tops) if tops else None


def _heavy_l2(ctx: Context) -> bool:
    # Coupled L2 (sgd, adam, ...) of 0.1 pulls every weight 10% of the way to zero per unit of
    # lr; common values are 1e-5..1e-3. Decoupled (adamw) decay is gentler: 0.01 is its
    # default, 1 is heavy.
    # Decay this heavy also explains the symptoms of tiny weights: gradients that fade layer by
    # layer, units that output zero, update ratios inflated by the small weights they are divided
    # by. vanishing_gradients, dying_relu and lr_too_high leave it to underfitting, which names the
    # decay (a digits CNN at AdamW with weight decay 100 was called vanishing_gradients at epoch 1
    # and given Adam, which kept it at chance).
    # L1 pulls every weight toward zero by lr x l1 a step, whatever its size; usual values are
    # 1e-5..1e-3, so 0.01 is 10x the top. breast_cancer at L1 1.0 sat at chance (0.635 against 0.953
    # at 1e-4; third held-out set).
    return ctx.weight_decay >= (1.0 if ctx.optimizer == "adamw" else 0.1) or ctx.l1 >= 0.01


def _l2_fix(ctx: Context) -> Fix:
    if ctx.l1 >= 0.01:
        return Fix({"regularization.l1": 1e-4},
                   f"an L1 penalty of {ctx.l1:g} drives the weights to zero; 1e-4 regularises without that")
    return Fix({"optimizer.weight_decay": 1e-4},
               f"weight_decay {ctx.weight_decay:g} holds the weights near zero; 1e-4 regularises without that")


def _lr_fix(ctx: Context, factor: float, reason: str) -> Fix:
    return Fix({"optimizer.lr": _round_lr(ctx.lr * factor)}, reason)


# The step size healthy runs take: each update moves a weight by about 1e-3 of its size
# (Karpathy's rule of thumb; the suite's healthy runs measure 1e-3 to 2e-2 in their first
# checks, falling to 1e-4 to 8e-3 as they converge).
HEALTHY_RATIO = 1e-3


def _ratio_factor(ratio: float | None, default: float, lo: float, hi: float,
                  target: float = HEALTHY_RATIO) -> float:
    """The lr multiplier that brings the measured update ratio to `target`, as a power of 10
    within [lo, hi]. The step scales about linearly with the lr (SGD exactly; Adam's step is
    lr-sized by design), so one measured ratio says how far off the rate is; without one,
    default. Rounded away from 1 (a 30x-too-high rate gets 100x smaller): the measured ratio
    understates the error both ways (a rate far too high inflates the weights it is divided by;
    a rate far too low is judged while the gradients are still large), and a second repair
    costs more epochs than a slightly generous first one."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return default
    exp = math.log10(target / ratio)
    exp = math.ceil(exp - 1e-9) if exp > 0 else math.floor(exp + 1e-9)
    return min(hi, max(lo, 10.0 ** exp))


def _early_ratio(records: list[dict], since: int = 0) -> float | None:
    """The update ratio from the first checks, before a blow-up made the weights huge or NaN:
    the largest of at most 3, from the first epoch after `since` (the epoch the last repair
    resumed from; earlier checks measured another rate). Only the first epoch: checks are spaced
    by time, and on a small set the second one can come epochs later, when the units the big
    steps killed no longer move at all (Adam at 1.0 on the digits CNN: 0.68 at step 1, 1e-5 at
    step 100). The largest: within an epoch the weights already inflate (a transformer at AdamW
    2.0: 0.70 at step 1, 0.02 from step 80 on, which asked for a 100x cut that still overshot)."""
    records = [r for r in records if r.get("epoch", 0) > since]  # none yet: no measure, the default cut
    first = [r for r in records[:3] if r.get("epoch") == records[0].get("epoch")] if records else []
    ratios = [_median_ratio([r]) for r in first]
    return max((v for v in ratios if v is not None), default=None)


def _round_lr(lr: float) -> float:
    return float(f"{lr:.2g}")


def _lr_room(ctx: Context) -> float:
    """How many times the rate may grow before it reaches the top of its optimizer's usual range."""
    return _usual_top(ctx) / ctx.lr if ctx.lr > 0 else math.inf


def _lr_raise(ctx: Context, ratio: float) -> float | None:
    """How much larger the rate must get when its steps are too small (lr_too_low, a run stuck at
    chance with tiny steps); None at (or past) the top of the usual range, where the rate is not
    what is small: the steps are tiny because the units are dead or get no gradient (SGD at 2.0
    that killed a ReLU net's units measured 1e-6 and was once "fixed" to 20).
    Enough to bring the steps to the size healthy runs take early in training (5e-3: the suite's
    healthy runs measure 1e-3 to 2e-2 in their first checks), rounded up to a power of 10: 10x to
    10^4x, but never past that top (lint.LR_RANGE; Adam 1e-2), where a rate that was too low
    would become one too high. A GRU at Adam 1e-6 needs the full 10^4 (1e-3 ended 4.5 points
    short of the healthy 5e-3 run in its 19 epochs)."""
    room = _lr_room(ctx)
    if room < 2:
        return None
    factor = _ratio_factor(ratio, 10, 10, 1e4, target=5e-3)
    if ctx.optimizer != "sgd" and ctx.lr > 0:
        # An adaptive optimizer's raise lands no lower than its default, as a cut does (see
        # _lr_cut): RMSprop at 3e-7, raised 1000x by the measured step to 3e-4, ended 2 test rows
        # of wine short of the same net at 1e-3 (held-out set); the suite's raises of Adam and
        # AdamW land at 3e-3 to 1e-2 anyway.
        factor = max(factor, _safe_lr(ctx) / ctx.lr)
    return min(factor, room)


def _safe_lr(ctx: Context) -> float:
    """Where an adaptive optimizer's first cut or raise lands (see SAFE_LR below)."""
    return SAFE_LR.get(ctx.optimizer, ADAPTIVE_SAFE_LR)


def _landing_note(ctx: Context, factor: float) -> str:
    safe = _safe_lr(ctx)
    landed = ctx.optimizer != "sgd" and math.isclose(ctx.lr * factor, safe, rel_tol=1e-6)
    return f", and no lower than {safe:g}, the rate {ctx.optimizer} is usually run at" if landed else ""


# Adam's and AdamW's default rate: the floor of a first cut of an adaptive optimizer (see _lr_cut).
# Adagrad's is 1e-2 (PyTorch's default, Duchi et al.): it divides by the sum of all squared
# gradients so far, so its steps keep shrinking and it needs a larger nominal rate; Adagrad at 5
# on diabetes, cut to 5e-3, ended at r2 -0.06 against 0.12.
ADAPTIVE_SAFE_LR = 1e-3
SAFE_LR = {"adagrad": 1e-2}


def _lr_cut(ctx: Context, records: list[dict], ratio: float | None = None) -> float:
    """How much smaller the rate must get when its steps are too big (diverged, lr_too_high,
    ReLUs killed by the steps). `ratio`: a later measured update ratio, when larger than the
    first checks' (a rate far too high can inflate the weights it is divided by).

    Adaptive optimizers (adam, adamw, rmsprop, adagrad) take steps of about lr by design, so the
    update ratio of the first checks says how far off the rate is (Adam at 2.0 on diabetes:
    0.75, a 1000x cut to 0.002 trains). Plain SGD's step is lr times the gradient, and the
    gradient itself explodes in the first steps of a blow-up: the ratio saturates (SGD at 0.5 and
    at 10 both measured about 2.5 in the suite) and says nothing of the distance. There the cut
    is 10x (0.5 -> 0.05 trains diabetes; 1000x, at 0.0005, fell 5 r2 points short), and at
    least down to the top of SGD's usual range for its momentum (see _sgd_top): a rate far above
    it (30 on an LSTM) still overshoots after 10x. When the blow-up comes back after a cut that
    left the rate above that top, 100x more; otherwise 10x more: a second blow-up costs a part of
    an epoch, a rate cut too far costs the whole run.
    A rate the doctor itself raised (lr_too_low) was sized from a measured ratio and is at most
    one power of ten too high: 10x back (the digits CNN raised from Adam 1e-6 to 1e-2 lost units;
    the ratio asked for 100x more, 1e-4, which left it 12 points short)."""
    if ctx.lr_raised and not ctx.lr_cuts:
        return 0.1
    if ctx.optimizer == "sgd":
        top = _sgd_top(ctx)
        if ctx.lr_cuts:
            return 0.01 if ctx.lr > 1.001 * top else 0.1  # 1.001: 1 * (1 - 0.9) is 0.0999...
        return min(0.1, top / ctx.lr) if ctx.lr > 0 else 0.1
    early = _early_ratio(records, ctx.judged_from)
    safe = _safe_lr(ctx)
    first = not ctx.lr_cuts and ctx.lr > 0
    # At most 1000x at once, except that a first cut may go all the way down to the landing
    # below: RMSprop at 10 was cut 1000x to 1e-2, 10x its default, trained there without a new
    # finding and ended 5 points short (held-out set).
    factor = _ratio_factor(max(early or 0.0, ratio or 0.0) or None, 0.1, min(1e-3, safe / ctx.lr) if first else 1e-3,
                           0.1)
    if first:
        # A first cut lands no lower than 1e-3, the default of Adam and AdamW and the rate
        # adaptive runs are usually tuned around (still at least 10x): Adam at 0.3 on
        # breast_cancer, cut 1000x to 3e-4, ended 2.4 points short of the same net at 1e-3. If
        # 1e-3 still overshoots, the next cut is sized from there.
        factor = max(factor, min(0.1, safe / ctx.lr))
    return factor


def _sgd_top(ctx: Context) -> float:
    """The largest SGD rate worth keeping after a blow-up: the top of its usual range (1) for the
    effective step lr / (1 - momentum), so 0.1 at the default momentum 0.9 (the classic
    SGD+momentum setting; the suite's healthy SGD runs use 0.01 to 0.1)."""
    return _usual_top(ctx) * (1.0 - min(max(ctx.momentum, 0.0), 0.99))
