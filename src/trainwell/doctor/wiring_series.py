"""The wiring readings of custom networks for sequences, forecasts and texts (see wiring.py): which
steps of a window reach the output, whether a forecaster reads its window backwards, sees the series'
level or tells its newest step from its oldest, and whether a text net reads its tokens or merges
them into a few rows."""

from __future__ import annotations

import numpy as np

from .network_measures import _evaluating, _forked_rng, probe_loss, shaken_copy
from .wiring_inputs import _unmoved


def _steps_reached(net, batch) -> list[int]:
    """The steps of a (rows, steps, features) batch that reach the output of `net` with its weights
    shaken (network_measures.shaken_copy)."""
    import torch

    twin = shaken_copy(net)
    batch = batch.clone().requires_grad_(True)
    twin.train()
    with _forked_rng():
        probe_loss(twin(batch)).backward()
    per_step = batch.grad.abs().sum(dim=(0, 2))
    return [int(i) for i in torch.nonzero(per_step > 0).flatten()]


# The newest quarter of a forecaster's window reaching its output with under this share of the
# oldest quarter's gradient, at init. A one-way recurrent net reads the end of what it is handed
# most: a river GRU handed its 48 hours flipped ('to chronological order', for a feature store's
# newest-first lags) had 4e-9 of it against 0.19 for the oldest; read the right way, 0.19 against
# 4e-9 (seventeenth held-out set). Every healthy forecaster of the suites reads its newest quarter
# at least as much as its oldest.
BACKWARDS_SHARE = 0.01


# ...and the data: the target's own column at the newest step correlates with the target more than
# at the oldest, and by at least this much (0.98 against 0.09 on the river gauge; 0.95 against 0.89
# on an hourly load a day's window back, where the oldest step is the same hour a day before).
RECENT_LEAST = 0.3


def _target_column(spec, batch) -> int | None:
    """The target's own column in a forecaster's (rows, steps, features) window, or None."""
    names = list(getattr(spec, "feature_names", []) or [])
    target = getattr(spec, "target", None)
    if spec.task != "regression" or batch.dim() != 3 or not isinstance(target, str) or target not in names \
            or len(names) != batch.shape[-1]:
        return None
    return names.index(target)


def _backwards(per_step, spec, batch) -> dict | None:
    """A forecaster's gradient at init by window step (summed over rows and features): the newest
    quarter of the steps under BACKWARDS_SHARE of the oldest quarter's. The data's side is
    `_recent_matters`, checked in `_wiring`."""
    steps = int(per_step.shape[0])
    if _target_column(spec, batch) is None or steps < 8:
        return None
    q = max(1, steps // 4)
    old, new = float(per_step[:q].mean()), float(per_step[-q:].mean())
    if not (old > 0 and new < BACKWARDS_SHARE * old):
        return None
    return {"steps": steps, "newest_share": float(f"{new / old:.3g}")}


def _newest_unread(twin, batch, spec) -> dict | None:
    """A forecaster's outputs that take exactly no gradient from the newest step of the window, and do
    not move when it moves, while they read earlier steps (the stepped copy, in eval mode). A
    sequence-to-sequence habit, one head read off each of the last six steps' states as the forecasts
    1 to 6 hours ahead, gave the next hour a state five hours old: r2 0.511/0.493 against 0.759/0.750
    (twenty-sixth held-out set). Every healthy forecaster of the suites reads its newest step for every
    output. The data's side is `_recent_matters`, checked in `_wiring`."""
    import torch

    if _target_column(spec, batch) is None or batch.shape[1] < 4:
        return None
    x = batch.clone().requires_grad_(True)
    was = twin.training
    twin.eval()
    try:
        with _forked_rng():
            out = twin(x)
            out = out.reshape(len(x), -1)
            moved = batch.clone()
            moved[:, -1] = batch[:, -1].flip(0) + 1.0
            with torch.no_grad():
                again = twin(moved).reshape(len(x), -1)
            # Two forward passes first: only the outputs the move leaves as they were are asked for
            # their gradient, one backward pass each (a healthy forecaster has none).
            still = [j for j in range(out.shape[1]) if _unmoved(out[:, j].detach(), again[:, j])]
            blind = []
            for j in still:
                (g,) = torch.autograd.grad(out[:, j].sum(), x, retain_graph=True, allow_unused=True)
                if g is not None and float(g[:, :-1].abs().sum()) > 0 and float(g[:, -1].abs().sum()) == 0:
                    blind.append(j)
    finally:
        twin.train(was)
    if not blind:
        return None
    return {"outputs": int(out.shape[1]), "blind": [j + 1 for j in blind], "steps": int(batch.shape[1])}


def _recent_matters(prepared, spec) -> dict | None:
    """The target's own column, at the newest and at the oldest step of the training windows: its
    correlation with the (first) target, when the newest says more, and at least RECENT_LEAST; else None."""
    x, y = np.asarray(prepared.train.x), np.asarray(prepared.train.y)
    names = list(getattr(spec, "feature_names", []) or [])
    if x.ndim != 3 or len(x) < 8 or spec.target not in names or len(names) != x.shape[-1]:
        return None
    j, first = names.index(spec.target), y.reshape(len(y), -1)[:, 0].astype(np.float64)

    def corr(t):
        a = x[:, t, j].astype(np.float64)
        if a.std() == 0 or first.std() == 0:
            return 0.0
        return abs(float(np.corrcoef(a, first)[0, 1]))

    newest, oldest = corr(-1), corr(0)
    return {"column": spec.target, "newest": round(newest, 3), "oldest": round(oldest, 3)} \
        if newest > oldest and newest >= RECENT_LEAST else None


def _level_blind(twin, batch, spec, net=None) -> dict | None:
    """A forecaster (rows of steps x features, a regression) whose outputs do not move, to 1e-6, when
    the target's own column is raised by 1 (a standard deviation, standardized) at every step; or
    (`net`, as built) whose outputs all fall by the raise (_against_level)."""
    import torch

    j = _target_column(spec, batch)
    if j is None:
        return None
    target = spec.target
    raised = batch.clone()
    raised[:, :, j] += 1.0
    with torch.no_grad():
        out, moved = twin(batch), twin(raised)
    if not isinstance(out, torch.Tensor) or not torch.isfinite(out).all() or not torch.isfinite(moved).all():
        return None
    change = float((moved - out).abs().max())
    size = float(out.abs().max())
    if change <= 1e-6 * (1 + size):
        return {"column": target, "change": change, "output_size": round(size, 6)}
    return _against_level(net, batch, j, target) if net is not None else None


# Or it moves, but the wrong way, by exactly the raise: a forecast put back on its window's level as
# z s - m where z s + m was meant (a sign slipped copying the normalisation's line) falls by the
# raise whatever its weights: r2 -1.86/-1.85 against 0.956/0.957 (twenty-first held-out set). Read on
# the network as built and on a copy with its weights shaken, in eval mode, each output within
# AGAINST_TOLERANCE of -1: a network that reads the level through its weights (a linear layer over the
# window: about N(0, 0.6) at init, after two plain steps -0.7 on a series' own data in the review)
# moves by another amount once they move.
AGAINST_TOLERANCE = 0.02


def _against_level(net, batch, j: int, target) -> dict | None:
    import torch

    from .network_measures import shaken_copy

    raised = batch.clone()
    raised[:, :, j] += 1.0
    shifts = []
    for copy_ in (net, shaken_copy(net)):
        with _evaluating(copy_):
            shift = (copy_(raised) - copy_(batch)).float()
        if not bool(torch.isfinite(shift).all()) or not bool(((shift + 1).abs() <= AGAINST_TOLERANCE).all()):
            return None
        shifts.append(float(shift.mean()))
    return {"column": target, "change": round(shifts[0], 6), "output_size": None, "against": True}


# A token that never reaches the output is text the network cannot learn from; a healthy reader
# (pooling, a recurrent pass, attention from [CLS]) reaches every one. A quarter of the tokens, so
# that a builder that reads a long line's first 3/4 on purpose is not named.
UNREAD_TOKENS = 0.25


def _tokens_unread(twin, batch, spec) -> dict | None:
    """Text: the tokens whose word vectors get exactly no gradient from the output, in eval mode after
    two plain steps (_stepped), in float64: no path leads from them to the output. A path that is only
    faint (a recurrent net's memory of a word 100 steps back, 1e-30 of the newest's) still counts as
    one; float64 keeps such gradients from underflowing. Read at the nn.Embedding that looks up the
    ids themselves; None without one. Counted, with the positions, when a quarter or more of the
    batch's tokens are unread."""
    import copy

    import torch

    if batch.dim() != 2:
        return None
    net = copy.deepcopy(twin).double().eval()
    ids = batch.clone()   # storage of its own: an embedding handed the ids or a view of them is found by it
    flat = torch.arange(ids.numel()).view(ids.shape)
    looked: list = []

    def keep(mod, args, out):
        a = args[0] if args else None
        if isinstance(a, torch.Tensor) and a.untyped_storage().data_ptr() == ids.untyped_storage().data_ptr():
            # which of the batch's places each looked-up id sits at (ids[:, :k], ids.T, ...)
            where = torch.as_strided(flat, a.shape, a.stride(), a.storage_offset())
            out.retain_grad()
            looked.append((where, out))

    handles = [m.register_forward_hook(keep) for m in net.modules() if isinstance(m, torch.nn.Embedding)]
    try:
        with _forked_rng():
            out = net(ids)
            if not isinstance(out, torch.Tensor) or not out.requires_grad or not torch.isfinite(out).all():
                return None
            probe_loss(out).backward()
    finally:
        for h in handles:
            h.remove()
    reached = torch.zeros(ids.numel(), dtype=torch.bool)
    seen = False
    for where, v in looked:
        if v.grad is not None and v.dim() == where.dim() + 1:
            seen = True
            reached[where.reshape(-1)[(v.grad.abs().sum(-1) > 0).reshape(-1)]] = True
    if not seen:
        return None
    reached = reached.view(ids.shape)
    real = batch != 0
    total = int(real.sum())
    unread = real & ~reached
    if not total or int(unread.sum()) < UNREAD_TOKENS * total:
        return None
    places = [int(i) for i in torch.nonzero(unread.any(0)).flatten()]
    return {"tokens": total, "unread": int(unread.sum()), "share": round(int(unread.sum()) / total, 3),
            "positions": int(batch.shape[1]), "unread_places": places[:8]}


def _order_blind(twin, batch, spec) -> dict | None:
    """A forecaster (_target_column) whose outputs, from the stepped copy in eval mode, do not move,
    to 1e-6 of their size, when the target's own past is handed in reverse time order, while its steps
    differ and raising that past does move them: it reads the steps as a set. The other columns stay in
    place: a set model over (value, hour) pairs tells the steps apart by the hour, and a reversed value
    column moves its forecast. A pizza shop's hourly orders forecast from the window's mean over its 24
    hours ('a smoother input') scored r2 0.082/0.063 against 0.855/0.844 from the window itself
    (twenty-third held-out set)."""
    import torch

    j = _target_column(spec, batch)
    if j is None or batch.shape[1] < 2 or bool((batch[:, :, j] == batch[:, :1, j]).all()):
        return None
    reversed_, raised = batch.clone(), batch.clone()
    reversed_[:, :, j] = batch[:, :, j].flip(1)
    raised[:, :, j] += 1.0
    with torch.no_grad():
        out, flipped, moved = twin(batch), twin(reversed_), twin(raised)
    # a net that does not read the target's past at all (or not its level) is not asked about its order
    if not _unmoved(out, flipped) or _unmoved(out, moved):
        return None
    return {"steps": int(batch.shape[1]), "change": float((flipped - out).abs().max()),
            "output_size": round(float(out.abs().max()), 6)}


# A lookup counts as merging the tokens when the rows it is handed are a function of the token ids
# (the same token, the same row: a position table is not) that gives the batch's distinct tokens
# under half as many rows. A bag of words whose ids were hashed into 8 embedding rows (ids % 8) gave a
# courier's ~240 words 8 vectors: 0.324/0.307 against 0.853/0.813 (twenty-second held-out set); the
# same hashing into 4096 rows merges none.
MERGED_SHARE = 0.5


def _tokens_merged(batch, lookups: list) -> dict | None:
    import torch

    ids = batch.reshape(-1).long()
    real = ids != 0   # 0 is padding
    ids = ids[real]
    tokens = int(torch.unique(ids).numel())
    if tokens < 8:
        return None
    # Each lookup that is a function of the id, and the rows all of them give a token together: a
    # side table (a word's shape, a quotient and a remainder) merges tokens only its partner tells apart.
    keys = torch.zeros_like(ids)
    merging = None
    for name, table, handed in lookups:
        rows = handed.reshape(-1).long()[real]
        base = int(rows.max()) + 1
        if int(torch.unique(ids * base + rows).numel()) != tokens:   # not a function of the id (positions)
            continue
        used = int(torch.unique(rows).numel())
        if used < MERGED_SHARE * tokens and merging is None:
            merging = {"layer": name, "tokens": tokens, "rows": used, "table": table}
        keys = torch.unique(keys * base + rows, return_inverse=True)[1]   # the rows so far, renumbered
    if merging is None or int(torch.unique(keys).numel()) >= MERGED_SHARE * tokens:
        return None
    return merging


# What the steps say beyond their means: a linear model on each feature's mean, spread and quantiles
# over the steps against one on the means alone, on held-out rows. Classification: a validation loss
# at most this share of the means' (storks' behaviours: the moves of each burst tell apart what the
# posture alone does not). Regression: an r2 this much higher.
BEYOND_MEANS_LOSS = 0.75
BEYOND_MEANS_GAP = 0.1
BEYOND_MEANS_R2 = 0.1


def _summaries_against_means(held):
    """The linear yardstick on each feature's mean, spread and quantiles over the steps, and on the
    means alone (held-out rows), once per prepared data: each fix tried rebuilds the network, not the
    data. None where either cannot be fitted or the summaries hold no clear signal."""
    from .baseline import verdict
    from .wiring_inputs import LOST_ROWS, _channel_summary, _picks, _standardized_baseline

    memo = vars(held).setdefault("_summaries_against_means", {})
    if "value" not in memo:
        train, val = held.train, held.val
        tr, va = _picks(len(train.x), LOST_ROWS), _picks(len(val.x), LOST_ROWS // 2)
        xt = np.asarray(train.x)[tr].astype(np.float64).transpose(0, 2, 1)
        xv = np.asarray(val.x)[va].astype(np.float64).transpose(0, 2, 1)
        yt, yv = np.asarray(train.y)[tr], np.asarray(val.y)[va]
        channels = list(range(xt.shape[1]))
        full = _standardized_baseline(held.spec, _channel_summary(xt, channels), yt, _channel_summary(xv, channels), yv)
        alone = _standardized_baseline(held.spec, xt.mean(2), yt, xv.mean(2), yv)
        memo["value"] = (full, alone) if full and alone and verdict(full) == "signal" else None
    return memo["value"]


def _steps_averaged(twin, batch, spec, held) -> dict | None:
    """Sequences: the stepped copy's outputs, in eval mode, the same (to 1e-6 of their size) when each
    row's steps are all replaced by that row's mean over the steps, while the steps differ and the
    outputs differ over the rows: the network reads only each feature's mean over the sequence.
    Named where the way the features move over the steps says more about the target than their means
    (BEYOND_MEANS_LOSS, BEYOND_MEANS_GAP, BEYOND_MEANS_R2). A bird-tag classifier that split each channel into a running
    mean over `window` samples and the rest, with window 1 ('1 s' written in samples): the rest was
    zero, only the posture was left, 0.478/0.633 against 0.956/1.000 (twenty-seventh held-out set)."""
    import torch

    if held is None or held.val is None or spec.kind != "sequence" or batch.dim() != 3 or batch.shape[1] < 2:
        return None
    means = batch.mean(dim=1, keepdim=True).expand_as(batch).contiguous()
    if bool(torch.equal(means, batch)):
        return None
    with torch.no_grad():
        out, flat = twin(batch), twin(means)
    if not isinstance(out, torch.Tensor) or out.numel() < 2 or not _unmoved(out, flat):
        return None
    spread = float((out - out.mean(0, keepdim=True)).abs().max())
    if spread <= 1e-4 * (1 + float(out.abs().max())):
        return None   # one output for every row: inputs_unread's case
    pair = _summaries_against_means(held)
    if pair is None:
        return None
    full, alone = pair
    if "val_r2" in full:
        beyond = full["val_r2"] >= alone["val_r2"] + BEYOND_MEANS_R2
    else:
        # and by a tenth of chance or more: means that already hold nearly all the signal (0.08
        # against 0.05) leave the moves little to add
        beyond = full["val_loss"] <= BEYOND_MEANS_LOSS * alone["val_loss"] and \
            alone["val_loss"] - full["val_loss"] >= BEYOND_MEANS_GAP * full["chance_loss"]
    if not beyond:
        return None
    return {"steps": int(batch.shape[1]), "features": int(batch.shape[2]), "summaries": full, "means": alone}
