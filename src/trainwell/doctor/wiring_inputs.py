"""The wiring readings of custom networks about their input features (see wiring.py): features
no output reads, features the network can swap, what its first weight layer is handed (flattened
by a clamp, rounded to a few levels), a floor its own transform pushes rows onto, and class signal
lost before the first layer."""

from __future__ import annotations

import numpy as np

from .network_measures import _build, _evaluating, _forked_rng, _weight_layers


# A feature counts as flattened when one value fills 60% of the rows the first layer is handed, where
# the same feature as prepared has no value in more than a tenth of them; the network as a whole,
# when a quarter of its features are. A gas-analysis net taking log(max(x, 0.1)) of standardized
# readings held 76-86% of each gas at log 0.1: 0.839/0.789 against 0.956/0.958 on raw ppm (sixteenth
# held-out set). A one-hot or binary column repeats its values as prepared too, and is not counted;
# a ReLU in front of the first layer (a pre-activation block: BatchNorm, ReLU, Linear) zeroes about
# half of each standardized feature, under the 60%; read on 256 rows, where half stays near half.
FLAT_ROWS, VARIED_ROWS, FLAT_FEATURES = 0.6, 0.1, 0.25


# A feature counts as quantized when the first layer is handed at most QUANT_LEVELS distinct values of it
# where the feature as prepared takes a quarter as many distinct values as there are rows or more (a
# measurement, not a code or a count); the network as a whole, when a quarter of its features are. A
# log-grading MLP that rounded its standardized inputs ('whole centimetres') saw each in 5-7 whole
# standard deviations: 0.590/0.567 against 0.743/0.748 (twenty-second held-out set).
QUANT_LEVELS, QUANT_VARIED = 8, 0.25


# A regressor's outputs are pushed toward PUSH_TARGET (a standardized target's low values) by PUSH_STEPS
# Adam steps on a copy; a floor it cannot pass stays above PUSH_REACHED. A ReLU after the last layer
# shows at init only where the layer's output starts under 0: a ferry-delay net with its output
# written relu(y) ('a delay is never negative') of a standardized target (most sailings under the
# mean) had 3% of its rows at 0 at init, then learned to put most of them there, r2 0.832/0.737
# against 0.941/0.926 (twenty-first held-out set). Pushed, every row sat at exactly 0.
PUSH_TARGET, PUSH_STEPS, PUSH_REACHED = -2.0, 30, -1.0



def _row_spread(twin, batch):
    """(output, how far its rows differ from the first, its largest size) of the stepped copy on the
    batch, in eval mode; None when the output is not a finite, non-empty tensor."""
    import torch

    with torch.no_grad():
        out = twin(batch)
    if not isinstance(out, torch.Tensor) or not out.numel() or not torch.isfinite(out).all():
        return None
    flat = out.float().reshape(len(out), -1)
    return out, float((flat - flat[:1]).abs().max()), float(flat.abs().max())


def _inputs_unread(twin, batch) -> dict | None:
    """Every row's output the same, in eval mode, after two plain steps on a copy of the network
    (_stepped): the input never reaches the output. None when the rows themselves are all alike,
    or the outputs differ."""
    if len(batch) < 2 or bool((batch == batch[:1]).all()):
        return None
    read = _row_spread(twin, batch)
    if read is None:
        return None
    _, spread, size = read
    return {"rows": len(batch), "spread": spread, "output_size": round(size, 6)} if spread <= 1e-6 * (1 + size) else None


# A quarter of the input features or more with exactly no gradient, the others with some: a washer
# diagnosis GRU sliced x[..., :1] where x[..., :4] was meant, and read the drum's speed alone, 0.600/0.587
# against 1.000/1.000 (twenty-third held-out set). Exact zeros only: a weight near zero still reads.
# Not for images (a channel kept on purpose is a choice) nor token ids (tokens_unread).
FEATURES_UNREAD = 0.25


def _input_gradient(twin, batch):
    """The gradient of the stepped copy's output with respect to its input batch, the output weighed
    by fixed random numbers so that no sum over output columns cancels a gradient by chance; None when
    the output is not a finite float tensor that asks for a gradient."""
    import torch

    x = batch.detach().clone().requires_grad_(True)
    try:
        with _forked_rng():
            out = twin(x)
            if not isinstance(out, torch.Tensor) or not out.is_floating_point() or not out.requires_grad \
                    or not torch.isfinite(out).all():
                return None
            weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(0)).to(out)
            (out * weights).sum().backward()
    finally:
        twin.zero_grad(set_to_none=True)
    if x.grad is None:
        return None
    return x.grad


def _features_unread(twin, batch, spec) -> dict | None:
    """The features (last axis of a (rows, features) or (rows, steps, features) batch) whose every
    entry gets exactly no gradient from the output of the stepped copy, in eval mode, when they are
    FEATURES_UNREAD of them or more and some others do get one (_input_gradient)."""
    import torch

    n = int(batch.shape[-1])
    grad = _input_gradient(twin, batch) if n >= 2 else None
    if grad is None:
        return None
    per = grad.abs().reshape(-1, n).sum(0)
    unread = [int(j) for j in torch.nonzero(per == 0).flatten()]
    if not unread or len(unread) == n or len(unread) < FEATURES_UNREAD * n:
        return None
    # No gradient is not yet unread: a column turned into an index (.long() into an embedding, a
    # bucketize, a comparison) passes none back and is still read. Each candidate, its rows reversed
    # and moved by 1, must leave every output as it was (all at once first: the usual case).
    unread = _unchanged_when_moved(twin, batch, unread)
    if len(unread) < max(1, FEATURES_UNREAD * n):
        return None
    names = list(getattr(spec, "feature_names", []) or [])
    shown = [names[j] if len(names) == n else f"feature {j}" for j in unread]
    return {"features": shown, "of": n, "read": [names[j] if len(names) == n else f"feature {j}"
                                                 for j in range(n) if j not in unread][:6]}


# A quarter of an image's positions or more with exactly no gradient on any row or channel, the others
# with some: a rice-kernel grader that cropped the central 8x8 of its 16x16 patches ('the kernel is
# centred', true of an older camera) never saw the kernels' ends, 0.644/0.656 against 0.911/0.878
# (twenty-fourth held-out set). Convolutions with padding read every position; pooling and strides
# that drop an odd last row or column leave far under a quarter.
PIXELS_UNREAD = 0.25


def _pixels_unread(twin, batch) -> dict | None:
    """The positions of a (rows, channels, height, width) batch whose every entry gets exactly no
    gradient from the output of the stepped copy, in eval mode, when they are PIXELS_UNREAD of the
    image or more and some others do get one, and moving them all leaves every output as it was.
    With the box the read positions fall in."""
    import torch

    grad = _input_gradient(twin, batch) if batch.dim() == 4 and batch.shape[2] * batch.shape[3] >= 4 else None
    if grad is None:
        return None
    unread = grad.abs().sum(dim=(0, 1)) == 0
    count, total = int(unread.sum()), unread.numel()
    if not count or count == total or count < PIXELS_UNREAD * total:
        return None
    moved = batch.clone()
    moved[:, :, unread] = batch[:, :, unread].flip(0) + 1.0
    with torch.no_grad():
        if not _unmoved(twin(batch), twin(moved)):
            return None
    rows, cols = torch.nonzero(~unread, as_tuple=True)
    return {"unread": count, "of": total, "size": [int(batch.shape[2]), int(batch.shape[3])],
            "read_box": [int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1]}


def _channel_summary(x, channels: list[int]):
    """Per row, each channel's mean, spread and quantiles (min, 10%, median, 90%, max): what a channel
    tells about a row wherever in the image it lies. A linear model on the raw pixels of 16x16 radar
    patches overfits 420 rows (validation loss 3x chance on the velocity channel alone); on these seven
    numbers it reads the couplet's extremes."""
    a = np.asarray(x)[:, channels].astype(np.float64).reshape(len(x), len(channels), -1)
    q = np.quantile(a, [0.0, 0.1, 0.5, 0.9, 1.0], axis=2).transpose(1, 2, 0)
    return np.concatenate([a.mean(2, keepdims=True), a.std(2, keepdims=True), q], axis=2).reshape(len(x), -1)


def _channels_unread(twin, batch, held) -> dict | None:
    """The channels of a (rows, channels, height, width) batch whose every entry gets exactly no
    gradient from the output of the stepped copy, in eval mode, while another channel gets some, and
    moving them all leaves every output as it was; named where a linear model on those channels alone
    finds signal about the target (a channel left out on purpose, a constant alpha plane, holds none).
    A weather-radar CNN reused from a reflectivity-only radar read x[:, :1] of (reflectivity, radial
    velocity) patches and never saw a mesocyclone's couplet: 0.800/0.767 against 0.978/0.967 (twenty-
    fifth held-out set)."""
    import torch

    if held is None or batch.dim() != 4 or batch.shape[1] < 2:
        return None
    grad = _input_gradient(twin, batch)
    if grad is None:
        return None
    per = grad.abs().sum(dim=(0, 2, 3))
    unread = [int(c) for c in torch.nonzero(per == 0).flatten()]
    if not unread or len(unread) == int(batch.shape[1]):
        return None
    moved = batch.clone()
    moved[:, unread] = batch[:, unread].flip(0) + 1.0
    with torch.no_grad():
        if not _unmoved(twin(batch), twin(moved)):
            return None
    from .baseline import _beats_majority, verdict

    train, val = held.train, held.val
    # A sample of rows: the summary copies every pixel of the channels it reads (as _standardized_baseline
    # keeps LOST_ROWS rows anyway).
    tr, va = _picks(len(train.x), LOST_ROWS), _picks(len(val.x), LOST_ROWS // 2)
    alone = _standardized_baseline(held.spec, _channel_summary(np.asarray(train.x)[tr], unread), np.asarray(train.y)[tr],
                                   _channel_summary(np.asarray(val.x)[va], unread), np.asarray(val.y)[va])
    if verdict(alone) != "signal" and not (alone and _beats_majority(alone)):
        return None
    return {"channels": unread, "of": int(batch.shape[1]), "yardstick": alone}


def _sign_blind(twin, batch, held) -> dict | None:
    """The stepped copy's output the same, in eval mode, for every row and the row negated (to 1e-6 of
    its size): the network is an even function of its inputs (it squares them, or takes their absolute
    value, before any weight reads their sign), so a reading as far below its mean as another is above
    gives the same answer. Named where the linear yardstick finds signal in the inputs as they are (a
    linear model is odd: the signal it finds lies in the signs the network throws away). A vineyard
    classifier fed x * x where torch.cat([x, x * x]) was meant: 0.789/0.828 against 0.944/0.956 (twenty-
    fourth held-out set)."""
    import torch

    from .baseline import verdict

    if held is None or not bool((batch != 0).any()):
        return None
    read = _row_spread(twin, batch)
    # Outputs that barely vary over the rows would pass any test of equality: not read here.
    if read is None or read[1] <= 1e-4 * (1 + read[2]):
        return None
    with torch.no_grad():
        if not _unmoved(read[0], twin(-batch)):
            return None
    if verdict(_raw_yardstick(held)) != "signal":
        return None
    return {"rows": int(len(batch))}


UNREAD_CHECKED = 32   # candidates moved one at a time when moving them all at once changes the output


def _unmoved(out, other) -> bool:
    """Two outputs of the same rows equal to 1e-6 of their size (finite tensors of one shape)."""
    import torch

    return isinstance(out, torch.Tensor) and isinstance(other, torch.Tensor) and out.shape == other.shape \
        and bool(torch.isfinite(out).all() and torch.isfinite(other).all()) \
        and float((other - out).abs().max()) <= 1e-6 * (1 + float(out.abs().max()))


def _unchanged_when_moved(twin, batch, columns: list[int]) -> list[int]:
    import torch

    def same(cols) -> bool:
        moved = batch.clone()
        for j in cols:
            moved[..., j] = batch[..., j].flip(0) + 1.0
        with torch.no_grad():
            return _unmoved(twin(batch), twin(moved))

    if same(columns):
        return columns
    return [j for j in columns[:UNREAD_CHECKED] if same([j])]


FLAT_SAMPLE = 256


def _flattened_reading(net, x, batch, first_kind) -> dict | None:
    view = _first_layer_view(net, x, batch, first_kind)
    return None if view is None else _flattened(*view)


def _first_layer_view(net, x, batch, first_kind):
    """_first_layer_seen's two arrays, where the first layer is handed the features in the shape they come."""
    seen = _first_layer_seen(net, x, batch, first_kind)
    return seen[:2] if seen is not None and seen[2] else None


def _first_layer_seen(net, x, batch, first_kind):
    """(the features as prepared, what the first weight layer is handed) on up to FLAT_SAMPLE table
    rows as arrays, in eval mode (dropout's zeros are no clamp), for inputs_flattened and inputs_quantized;
    images as rows of pixels (channel by position), when a Conv2d is handed the image itself; and
    whether it is handed them in the shape they come (not an embedding of more or fewer columns)."""
    import torch

    image = batch.dim() == 4 and bool(first_kind) and first_kind[0] == "Conv2d"
    if not image and (batch.dim() != 2 or not first_kind or first_kind[0] != "Linear"):
        return None
    rows = torch.as_tensor(np.nan_to_num(np.asarray(x[:FLAT_SAMPLE]).astype(np.float32)))
    seen: list = []

    def look(mod, args):
        if not seen and args and isinstance(args[0], torch.Tensor):
            seen.append(args[0].detach())

    hooks = [m.register_forward_pre_hook(look) for m in net.modules() if isinstance(m, _weight_layers())]
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(rows)
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    n = rows.shape[0]
    if not seen or seen[0].shape[0] != n:
        return None
    return rows.reshape(n, -1).numpy(), seen[0].float().cpu().reshape(n, -1).numpy(), seen[0].shape == rows.shape


def _quantized(raw, seen) -> dict | None:
    n = raw.shape[0]
    if n < 32:
        return None
    distinct = [len(np.unique(raw[:, j])) for j in range(raw.shape[1])]
    levels = {j: len(np.unique(seen[:, j])) for j, k in enumerate(distinct) if k >= QUANT_VARIED * n}
    few = [j for j, k in levels.items() if k <= QUANT_LEVELS]
    if len(few) < max(1, FLAT_FEATURES * raw.shape[1]):
        return None
    return {"features": few, "of": int(raw.shape[1]), "rows": int(n),
            "levels": int(np.median([levels[j] for j in few])),
            "distinct_as_prepared": int(np.median([distinct[j] for j in few]))}


def _raw_scale_clears(cfg, spec, plan: dict) -> bool:
    """Whether the network, handed the features as stored (data.scale none), no longer flattens them:
    the check that makes data.scale none a fix rather than a guess (a BatchNorm in front re-centres
    any scale, and then it would not help)."""
    from ..data import prepare

    raw = prepare(cfg.data.model_copy(update={"scale": "none"}), cfg.seed, cfg.model.type)
    net = _build(cfg, spec, plan, None, seed=0)
    with _forked_rng():
        return _flattened_reading(net, raw.train.x, _batch_like(raw.train.x), ["Linear"]) is None


def _batch_like(x):
    import torch

    return torch.as_tensor(np.nan_to_num(np.asarray(x[:2]).astype(np.float32)))


# A fresh network's scores are continuous: two rows never tie. A quarter of the rows tied at a column's
# lowest value (half of them, for a ReLU after the head) says the output passes through a floor.
CLAMPED_SHARE = 0.25


def _clamped(net, batch, spec, cfg) -> dict | None:
    """Output columns whose lowest value a quarter of the rows share while others vary: a ReLU or a
    clamp after the last layer. A class score held at 0 has no gradient there, so a class whose score
    falls below 0 on every row is never predicted again; a standardized target has half its values
    under 0. Only there: a clamp on a target kept in its own units can be the point (counts). In eval
    mode, over distinct rows: rows that dropout blanked alike, or that are alike, tie anyway."""
    import torch

    if not (spec.classes or cfg.data.scale_target):
        return None
    _, first = np.unique(batch.reshape(len(batch), -1).cpu().numpy(), axis=0, return_index=True)
    if len(first) < 8:
        return None
    with _evaluating(net):
        out = net(batch[np.sort(first)])
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or not bool(torch.isfinite(out).all()):
        return None
    cols = out.float().cpu()
    low = cols.min(dim=0).values
    varies = cols.max(dim=0).values > low   # a head initialised at zero ties every row, by design
    share = (cols == low).float().mean(dim=0)
    hit = [int(i) for i in torch.nonzero(varies & (share >= CLAMPED_SHARE)).flatten()]
    if not hit:
        return _pushed_floor(net, batch[np.sort(first)], varies) if not spec.classes else None
    return {"columns": hit, "outputs": int(cols.shape[1]), "rows": int(len(cols)),
            "share_at_floor": round(float(share[hit].mean()), 3), "floor": round(float(low[hit].min()), 6)}


# Networks above this many weights are not pushed: a copy, its gradients and Adam's two moments
# hold four times them (an 8M-weight MLP took 4.8 s on a loaded machine in the review).
PUSH_LIMIT = 2_000_000


def _pushed_floor(net, batch, varied) -> dict | None:
    """Output columns that vary over the rows at init (`varied`; an output that ignores its input
    ties every row by itself) and that a copy of the network, trained for a few steps to output
    PUSH_TARGET on every row, holds at one value shared by a quarter of the rows or more, above
    PUSH_REACHED."""
    import copy

    import torch

    if sum(p.numel() for p in net.parameters()) > PUSH_LIMIT or not bool(varied.any()):
        return None
    twin = copy.deepcopy(net)
    params = [p for p in twin.parameters() if p.requires_grad]
    if not params:
        return None
    step = torch.optim.Adam(params, lr=1e-2)
    twin.train()
    with _forked_rng():
        for _ in range(PUSH_STEPS):
            step.zero_grad()
            out = twin(batch)
            if not isinstance(out, torch.Tensor) or out.dim() != 2:
                return None
            (out.float() - PUSH_TARGET).pow(2).mean().backward()
            step.step()
        twin.eval()
        with torch.no_grad():
            cols = twin(batch).float().cpu()
    if not bool(torch.isfinite(cols).all()):
        return None
    low = cols.min(dim=0).values
    share = (cols == low).float().mean(dim=0)
    hit = [int(i) for i in torch.nonzero(varied & (share >= CLAMPED_SHARE) & (low > PUSH_REACHED)).flatten()]
    if not hit:
        return None
    return {"columns": hit, "outputs": int(cols.shape[1]), "rows": int(len(cols)),
            "share_at_floor": round(float(share[hit].mean()), 3), "floor": round(float(low[hit].min()), 6),
            "pushed": {"target": PUSH_TARGET, "steps": PUSH_STEPS}}


# A regressor whose every weight, shaken and then scaled 10x and 100x, keeps its output's size (under
# twice it from 10x to 100x) inside a range with this share of the training targets or more beyond it: the output is bounded whatever
# the weights (a tanh or sigmoid after the last layer, a clamp at both ends), so no training reaches
# those targets. A linear head's output grows with its weights (10x at least; a ReLU stack's by 10x a
# layer). A fire-spread regressor whose output went through tanh ('the target is standardized') could
# never pass +-1 of a target 17% beyond it: r2 0.580/0.555 against 0.886/0.876 (twenty-fifth held-out
# set). In eval mode, where batch norm divides by its running variance and so passes the scale on.
BOUNDED_SHARE, BOUNDED_SCALES, BOUNDED_GROWTH = 0.05, (1.0, 10.0, 100.0), 2.0


def _bounded(net, batch, held) -> dict | None:
    """Output columns of a regressor that stay, on every row and at every scale of the weights
    (BOUNDED_SCALES, after a shake that moves heads started at zero), under a value that
    BOUNDED_SHARE of the training targets or more lie above (or over one they lie below)."""
    import torch

    from .network_measures import shaken_copy

    if held is None:
        return None
    y = np.asarray(held.train.y, dtype=np.float64)
    y = y.reshape(len(y), -1)
    if not len(y) or not np.isfinite(y).all():
        return None
    outs = []
    for scale in BOUNDED_SCALES:
        twin = shaken_copy(net)
        with torch.no_grad():
            for p in (p for p in twin.parameters() if p.requires_grad):
                p.mul_(scale)
        with _evaluating(twin):
            out = twin(batch)
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != y.shape[1]:
            return None
        out = out.double().cpu().numpy()
        if not np.isfinite(out).all():
            return None
        outs.append(out)
    # Bounded: 10x larger weights again leave the largest output under twice what it was. A linear
    # head's grows 10x with them: only where the output's size stopped following the weights is its
    # range a bound and not just where these weights happen to put it.
    still = np.abs(outs[-1]).max(0) < BOUNDED_GROWTH * np.abs(outs[-2]).max(0)
    out = np.concatenate(outs)
    hi, lo = out.max(0), out.min(0)
    found = {}
    for side, beyond, edge in (("above", (y > hi).mean(0), hi), ("below", (y < lo).mean(0), lo)):
        for j in np.nonzero((beyond >= BOUNDED_SHARE) & still)[0]:
            found.setdefault(int(j), {})[side] = {"reached": round(float(edge[j]), 4),
                                                  "targets_beyond": round(float(beyond[j]), 3)}
    if not found:
        return None
    return {"columns": found, "outputs": int(y.shape[1]), "scales": list(BOUNDED_SCALES)}


def _interchangeable(net, batch, spec, held=None) -> dict | None:
    """A table's columns each moved one place along (every feature into another's slot) and every
    row's output the same, to 1e-5 of its size, while rows differ: the network cannot tell which
    reading is which, only which values a row holds (a per-feature embedding written with one shared
    row of weights; a mean over the features before any weight that tells them apart). In eval mode.
    Not where the data's columns are exchangeable themselves (a set of like readings, whose target
    is a max or a count over them): there a set model is the right one (_columns_matter)."""
    import torch

    if spec.kind != "tabular" or batch.dim() != 2 or batch.shape[1] < 2:
        return None
    same = _same_outputs(net, batch, torch.roll(batch, 1, dims=1))
    if same is None or (held is not None and not _columns_matter(held)):
        return None
    return {"features": int(batch.shape[1]), **same}


def _same_outputs(net, batch, moved) -> dict | None:
    """In eval mode, every row's output for `moved` the same as for `batch`, to 1e-5 of its size,
    while the rows' outputs differ (to 1e-4: else the input is unread, another reading):
    {"rows", "output_change", "output_size"}, or None."""
    import torch

    if len(batch) < 2:
        return None
    with _evaluating(net):
        out, after = net(batch), net(moved)
    if not (isinstance(out, torch.Tensor) and isinstance(after, torch.Tensor)) or out.shape != after.shape \
            or not bool(torch.isfinite(out).all()):
        return None
    size = float(out.abs().max()) or 1.0
    spread = float((out - out.mean(0)).abs().max())
    change = float((out - after).abs().max())
    if spread <= 1e-4 * size or change > 1e-5 * size:
        return None
    return {"rows": int(len(batch)), "output_change": round(change, 9), "output_size": round(size, 6)}


def _columns_matter(prepared) -> bool:
    """Does the target depend on which column holds which value? The linear yardstick fitted on the
    training rows, scored on the validation rows as they are and with each column moved one place
    along: where the columns are alike in meaning the score barely moves; where they are different
    measurements it falls (beehive readings: the loss rises past chance). Under 10% more loss (0.05
    less r2): exchangeable. With no answer from the yardstick, they are taken to matter."""
    train, val = prepared.train, prepared.val
    as_is = _raw_yardstick(prepared)
    moved = _standardized_baseline(prepared.spec, train.x, train.y, np.roll(np.asarray(val.x), 1, axis=1), val.y)
    if not as_is or not moved:
        return True
    if "val_r2" in as_is:
        return moved["val_r2"] < as_is["val_r2"] - 0.05
    return moved["val_loss"] > 1.1 * as_is["val_loss"]


def _standardized_baseline(spec, xt, yt, xv, yv) -> dict | None:
    """baseline.linear_baseline on columns standardized with the training rows' statistics (its L2
    penalty would otherwise read tiny or huge columns as weak or strong), at most LOST_ROWS rows."""
    import types

    from .baseline import linear_baseline

    def rows(x, y, n):
        x, y = np.asarray(x), np.asarray(y)
        pick = _picks(len(x), n)
        return x[pick].reshape(len(pick), -1).astype(np.float64), y[pick]

    (a, ya), (b, yb) = rows(xt, yt, LOST_ROWS), rows(xv, yv, LOST_ROWS // 2)
    mu, sd = a.mean(0), a.std(0)
    sd[sd == 0] = 1.0
    z = types.SimpleNamespace
    return linear_baseline(z(spec=spec, train=z(x=(a - mu) / sd, y=ya), val=z(x=(b - mu) / sd, y=yb)))


# Rows the yardstick is fitted and scored on: enough for a linear model's estimate, in about a second.
LOST_ROWS = 2000


LOST_ACCURACY = 0.1


def _signal_lost(net, prepared) -> dict | None:
    """A classifier's inputs hold linear signal (the yardstick of baseline.py, each column
    standardized) and what the network's first weight layer is handed holds none: a transform the
    network makes before any weight can learn throws the classes away (each image standardized by its
    own mean and sd, where one class is the darker; each recording centred, where the classes differ
    in their mean). In eval mode; only where that layer runs once a forward pass (not a cell stepped
    through time) and is handed the whole input, as wide as it is (not one branch of several), and
    where the input is narrow enough for the yardstick (baseline.MAX_FEATURES)."""
    import torch

    from .baseline import MAX_FEATURES, NOTHING, verdict

    xt, xv = np.asarray(prepared.train.x), np.asarray(prepared.val.x)
    width = int(np.prod(xt.shape[1:]))
    if width > MAX_FEATURES:
        return None
    raw = _raw_yardstick(prepared)
    if verdict(raw) != "signal":
        return None
    pick_t, pick_v = _picks(len(xt), LOST_ROWS), _picks(len(xv), LOST_ROWS // 2)
    handed: list = []   # the first weight layer's input, and that layer, per forward pass
    calls: list = []

    def see(mod, args):
        if not handed and args and isinstance(args[0], torch.Tensor):
            handed.append(args[0].detach().reshape(len(args[0]), -1).float().cpu().numpy())
            handed.append(mod)
        if handed and mod is handed[1]:
            calls.append(mod)

    hooks = [m.register_forward_pre_hook(see) for m in net.modules() if isinstance(m, _weight_layers())]
    was_training = net.training
    try:
        net.eval()
        first = []
        with torch.no_grad(), _forked_rng():
            for x in (xt[pick_t], xv[pick_v]):
                parts = []
                for i in range(0, len(x), 256):
                    handed.clear()
                    calls.clear()
                    net(torch.as_tensor(np.nan_to_num(x[i:i + 256].astype(np.float32))))
                    if not handed or handed[0].shape != (len(x[i:i + 256]), width) or len(calls) != 1:
                        return None
                    parts.append(handed[0])
                first.append(np.concatenate(parts))
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    y = np.asarray(prepared.train.y)[pick_t], np.asarray(prepared.val.y)[pick_v]
    seen = _standardized_baseline(prepared.spec, first[0], y[0], first[1], y[1])
    # Judged on the loss (at chance or worse) and on the accuracy (10 points lost or more): a linear
    # model that still tells some of five classes apart keeps its accuracy over the majority's, which
    # verdict() would read as noisy labels (tiles standardized per image: 0.55 of chance and 0.77
    # accuracy on the inputs, 1.45 and 0.57 on what the first layer is handed).
    if not seen or seen["val_loss"] < NOTHING * seen["chance_loss"] \
            or raw["val_accuracy"] - seen["val_accuracy"] < LOST_ACCURACY:
        return None
    return {"inputs": raw, "first_layer": seen, "rows": int(len(pick_t))}


def _picks(n: int, limit: int):
    return np.random.default_rng(0).choice(n, limit, replace=False) if n > limit else np.arange(n)


def _raw_yardstick(prepared) -> dict | None:
    """The yardstick on the inputs as prepared, once per prepared data (each fix tried rebuilds the
    network, not the data)."""
    memo = vars(prepared).setdefault("_raw_yardstick", {})
    if "value" not in memo:
        train, val = prepared.train, prepared.val
        memo["value"] = _standardized_baseline(prepared.spec, train.x, train.y, val.x, val.y)
    return memo["value"]


def _top_share(column) -> float:
    _, counts = np.unique(column, return_counts=True)
    return float(counts.max()) / len(column)


def _flattened(raw, seen) -> dict | None:
    flat = [j for j in range(raw.shape[1])
            if _top_share(seen[:, j]) >= FLAT_ROWS and _top_share(raw[:, j]) <= VARIED_ROWS]
    if len(flat) < max(1, FLAT_FEATURES * raw.shape[1]):
        return None
    return {"features": flat, "of": int(raw.shape[1]),
            "share": round(float(np.mean([_top_share(seen[:, j]) for j in flat])), 3)}
