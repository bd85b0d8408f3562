"""The wiring readings of custom networks about their gradients (see wiring.py): parameters whose
gradient points uphill (a gradient-reversal layer left in), and networks whose output passes next to
no gradient back to the weights (a detach, a frozen body, a straight-through estimator)."""

from __future__ import annotations

import numpy as np

from .network_measures import (_NOT_PLAIN, TWIN_LIMIT, _build, _builder_keywords, _forked_rng, _once_per_network,
                               _plain, _safely, probe_loss)


# A weight matrix counts as barely learning when, after the same few passes, this share of its entries
# at most (or one) get a non-zero gradient; and the network, when this share of its matrices do.
BARELY_ENTRIES, BARELY_SHARE = 0.01, 0.9



# A parameter counts as uphill when a step of 1e-3 of its size against its gradient raises the loss by
# this share of the fall the gradient promises (step x |g|^2) or more. A true gradient lowers it by
# about that fall, as the step is small; one turned around raises it by about as much: a
# gradient-reversal layer before the class head of a bread-grading MLP put its body's four tensors at
# +1.00x the promised fall, while its head's two fell as promised (twentieth held-out set).
UPHILL_SHARE = 0.5


# Parameter tensors checked at most, a forward pass each, spread evenly over the network: a gradient
# turned around at one layer turns every tensor before it, so a spread sample finds it. A network whose
# forward pass on the batch takes longer than UPHILL_FORWARD_SECONDS is not checked: 16 more passes of
# it would outweigh the other readings together.
UPHILL_TENSORS = 16


UPHILL_FORWARD_SECONDS = 0.25


def _uphill(net, batch) -> dict | None:
    """The parameters of `net` whose gradient points uphill (UPHILL_SHARE), on a copy in eval mode
    (the same computation on every pass); None when all point down. The loss is probe_loss, so no
    target is needed: any loss the forward computes must fall along its own gradient. A rise too small
    to read in float32 (under 1e-5 of the loss or of the outputs' mean size) says nothing."""
    import copy
    import math
    import time

    import torch

    twin = copy.deepcopy(net).eval()
    params = [(n, p) for n, p in twin.named_parameters() if p.requires_grad]
    if len(params) > UPHILL_TENSORS:
        params = [params[round(i * (len(params) - 1) / (UPHILL_TENSORS - 1))] for i in range(UPHILL_TENSORS)]
    if not params:
        return None
    started = time.perf_counter()
    with _forked_rng():
        out = twin(batch)
        loss = probe_loss(out)
        grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
    if time.perf_counter() - started > 2 * UPHILL_FORWARD_SECONDS:   # a forward and a backward
        return None
    # The loss is a signed mean of the outputs: it can sit near 0 while they are large, and its
    # float32 rounding follows their size, not its own.
    base, size = float(loss.detach()), float(out.detach().float().abs().mean())
    up, checked, rises = [], 0, []
    with torch.no_grad():
        for (name, p), g in zip(params, grads):
            if g is None:
                continue
            g2 = float(g.double().pow(2).sum())
            if not math.isfinite(g2) or g2 == 0.0:
                continue
            t = 1e-3 * (float(p.double().norm()) or 1.0) / math.sqrt(g2)
            fall = t * g2
            if fall < 1e-5 * max(abs(base), size, 1e-3):
                continue
            share = _rise_over_fall(twin, batch, p, g, t, base, fall)
            checked += 1
            # Read again at a quarter of the step: a smooth loss along a turned-around gradient rises
            # by a quarter as much, the same share. A jump (a rounding the step crossed, as in a
            # straight-through estimator, whose backward is meant not to be the forward's derivative)
            # does not scale with the step.
            if share >= UPHILL_SHARE:
                again = _rise_over_fall(twin, batch, p, g, t / 4, base, fall / 4)
                if again >= UPHILL_SHARE and 0.5 <= again / share <= 2.0:
                    up.append(name)
                    rises.append(round(share, 2))
    return {"parameters": up[:6], "count": len(up), "checked": checked, "rise_over_fall": rises[:6]} if up else None


def _rise_over_fall(twin, batch, p, g, t: float, base: float, fall: float) -> float:
    """The loss's change after `p` moves by -t x g, over the fall the gradient promises (t x |g|^2);
    `p` is put back."""
    import torch

    with torch.no_grad():
        p.sub_(t * g)
        try:
            with _forked_rng():
                after = float(probe_loss(twin(batch)))
        finally:
            p.add_(t * g)
    return (after - base) / fall


def gradientless_share(cfg, spec, plan: dict, prepared) -> dict | None:
    """For a network whose weights start at one constant (model.init.weight zeros or constant): the
    share of its weight matrices (2 dimensions or more) that still get exactly no gradient after
    two plain steps on 32 training rows. With zeros every hidden unit outputs the same
    thing and passes back nothing; what does not come from model.init (a transformer's positional
    encoding) may still break the tie, which this measures rather than assumes."""
    x = getattr(prepared.train, "x", None)
    init = getattr(getattr(cfg.model, "init", None), "weight", None)
    name = init if isinstance(init, str) else getattr(init, "name", None)
    if name not in ("zeros", "constant") or getattr(cfg.model, "init_from", None) or x is None or len(x) < 2:
        return None   # with init_from the weights come from a trained run, not from the init
    return _once_per_network(prepared, cfg, "_gradientless", lambda: _safely(_gradientless, cfg, spec, plan, x))


PASSES = 3


# Builder keywords preferred as the fix, named for what they do to the gradient (a straight-through
# estimator's switch, a detach, a freeze) over any other that also clears the reading.
GRADIENT_KEYWORD = r"grad|detach|freez|frozen|train|probe|^ste$|straight"


def barely_learning(cfg, spec, plan: dict, prepared) -> dict | None:
    """For a custom network not started at one constant (init_without_gradient's): the weight matrices
    that, after a few plain steps on 32 training rows, still get a non-zero gradient on under 1% of
    their entries, when they are 90% of its matrices or more; with `fix`, a builder keyword the user
    set, back at its default, checked to clear it. A rounding in the forward pass (torch.round,
    sign, a step function) passes back nothing: an 8-bit fake-quantized plug classifier whose
    straight-through estimator was switched off moved only the one weight per matrix that sets
    its scale, 0.770/0.830 against 1.000/1.000 (eighteenth held-out set). At init many healthy nets
    pass nothing back to some layers (a zero-initialised head, ReZero branches); after two steps
    none of the suites' 76 custom networks has a single such matrix."""
    x = getattr(prepared.train, "x", None)
    init = getattr(getattr(cfg.model, "init", None), "weight", None)
    name = init if isinstance(init, str) else getattr(init, "name", None)
    if cfg.model.type != "python" or name in ("zeros", "constant") or getattr(cfg.model, "init_from", None) \
            or x is None or len(x) < 2:
        return None
    return _once_per_network(prepared, cfg, "_barely", lambda: _safely(_barely_found, cfg, spec, plan, x))


def _barely_found(cfg, spec, plan: dict, x) -> dict | None:
    import inspect
    import re

    found = _gradientless(cfg, spec, plan, x, limit=TWIN_LIMIT)
    if not found or len(found["barely"]) < max(2, BARELY_SHARE * found["weights"]):
        return None
    clears = []
    for key, param in _builder_keywords(cfg).items():
        if key not in cfg.model.options or param.default is inspect.Parameter.empty:
            continue
        default = _plain(param.default)
        if default is _NOT_PLAIN or _plain(cfg.model.options[key]) == default:
            continue
        again = _gradientless(cfg, spec, plan, x, {**cfg.model.options, key: default}, limit=TWIN_LIMIT)
        if again and len(again["barely"]) < BARELY_SHARE * again["weights"]:
            clears.append({key: default})
    named = [c for c in clears if re.search(GRADIENT_KEYWORD, next(iter(c)), re.IGNORECASE)]
    return {"weights": found["weights"], "barely": found["barely"], "fix": (named or clears or [None])[0]}


def _gradientless(cfg, spec, plan: dict, x, options: dict | None = None, limit: int | None = None) -> dict | None:
    import torch

    try:
        net = _build(cfg, spec, plan, options, seed=0)
        if limit is not None and sum(p.numel() for p in net.parameters()) > limit:
            return None
        rows = np.asarray(x[:32])
        batch = torch.as_tensor(rows if rows.dtype.kind in "iu" else np.nan_to_num(rows.astype(np.float32)))
        net.train()
        params = [p for p in net.parameters() if p.requires_grad]
        # Two plain steps first: what gets a gradient at the first pass (a transformer's head, fed by
        # its positional encoding) passes one back at the next (its embedding), and the tie may
        # break there. The rate only has to be non-zero. A deep residual stack at zeros could need
        # more passes than this to wake; none of the suites' networks did.
        step = torch.optim.SGD(params, lr=0.1)
        with _forked_rng():
            for _ in range(PASSES):
                step.zero_grad()
                probe_loss(net(batch)).backward()
                if _ < PASSES - 1:
                    step.step()
    except Exception:
        return None
    weights = [(n, p) for n, p in net.named_parameters() if p.requires_grad and p.dim() >= 2]
    if not weights:
        return None
    dead = [n for n, p in weights if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    # one entry always counts as barely (the one a quantizer's scale, max |w|, passes its gradient to)
    barely = [n for n, p in weights
              if p.grad is None or int((p.grad != 0).sum()) <= max(1, BARELY_ENTRIES * p.numel())]
    return {"weights": len(weights), "without_gradient": dead, "barely": barely}
