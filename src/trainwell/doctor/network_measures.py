"""What the doctor measures on the network a config builds, before training: the width a CNN's
blocks hand its head, whether a custom network is one affine map, and L1's penalty at init. Each
builds the network in a forked random state, so training's own random stream stays as it was."""

from __future__ import annotations

import sys

import numpy as np


def _forked_rng():
    """A forked random state for measures that draw random numbers or build a network (which seeds
    torch): CPU, and every CUDA device once CUDA is in use, since torch.manual_seed reseeds those too
    and training's dropout masks and augmentation there must stay what the run's seed made them."""
    import torch

    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    return torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if cuda else [])


def flat_width(cfg, spec, plan: dict) -> int | None:
    """How many numbers a CNN's conv blocks hand its dense layers (the first Linear's inputs)."""
    import torch

    from ..models import build

    try:
        # A forked random state: building seeds torch, and training's own stream (dropout masks,
        # augmentation) must stay what the run's seed made it.
        with _forked_rng():
            net = build(cfg.model, spec, plan["n_out"], seed=0)
    except Exception:  # the training itself reports what the builder refuses
        return None
    first = next((m for m in net.modules() if isinstance(m, torch.nn.Linear)), None)
    return int(first.in_features) if first is not None else None


def affine_network(cfg, spec, plan: dict, prepared) -> dict | None:
    """For a custom network (model.type python) of two weight layers or more: how far it is from an
    affine map of its inputs, as initialised. f((a + b) / 2) against (f(a) + f(b)) / 2 on 64
    training rows, each input standardized over those rows (whether a map is affine does not depend
    on the inputs, but tiny ones keep a ReLU's pattern fixed and a tanh near its linear middle: a
    ReLU net on inputs a tenth of diabetes' own scale measured 1e-5), in eval mode, relative to
    |f(a) - f(b)|: about 1e-7 for stacked layers with no nonlinearity between them (float32
    rounding), 0.1 and more with a ReLU or tanh between them. Built-in networks always have their
    activation; text inputs are token ids, whose midpoint is no input. `activation_option`: the
    builder takes an `activation` keyword whose value here leaves it linear, and the network built
    with activation "relu" measures as nonlinear (so the fix is known to build and to work)."""
    x = getattr(prepared.train, "x", None)
    if cfg.model.type != "python" or spec.kind == "text" or x is None or len(x) < 8 or x.dtype.kind != "f":
        return None
    memo = vars(prepared).setdefault("_affine_network", {})  # build_context runs 2-3 times a run
    key = (id(prepared.train), cfg.model.builder, repr(sorted(cfg.model.options.items())))
    if key not in memo:
        memo[key] = _affine_network(cfg, spec, plan, x)
    return memo[key]


def _affine_gap(cfg, spec, plan: dict, rows, options: dict | None = None) -> tuple[float, int] | None:
    import torch

    from ..models import build

    model_cfg = cfg.model if options is None else cfg.model.model_copy(update={"options": options})
    try:
        with _forked_rng():
            net = build(model_cfg, spec, plan["n_out"], seed=0)
        weights = sum(1 for p in net.parameters() if p.dim() >= 2)
        half = len(rows) // 2
        a, b = rows[:half], rows[half:2 * half]
        net.eval()
        with torch.no_grad(), _forked_rng():
            fa, fb, fm = net(a).float(), net(b).float(), net((a + b) / 2).float()
    except Exception:  # the training itself reports what the builder refuses
        return None
    spread = float((fa - fb).abs().mean())
    if not spread > 0:
        return None
    return float((fm - (fa + fb) / 2).abs().mean()) / spread, weights


def _affine_network(cfg, spec, plan: dict, x) -> dict | None:
    import inspect

    import torch

    rows = np.nan_to_num(np.asarray(x[:64], dtype=np.float64))
    rows = (rows - rows.mean(0)) / np.where(rows.std(0) > 0, rows.std(0), 1.0)
    rows = torch.as_tensor(rows, dtype=torch.float32)
    measured = _affine_gap(cfg, spec, plan, rows)
    if measured is None or measured[1] < 2:
        return None  # one weight layer: a linear model on purpose
    gap, weights = measured
    option = False
    module, _, name = cfg.model.builder.partition(":")
    try:
        fn = getattr(sys.modules.get(module), name, None)
        param = inspect.signature(fn).parameters.get("activation") if fn is not None else None
    except (TypeError, ValueError):
        param = None
    if param is not None:
        current = cfg.model.options.get("activation", param.default)
        if current in (None, "linear", "identity", "none") and gap < 1e-3:
            with_relu = _affine_gap(cfg, spec, plan, rows, {**cfg.model.options, "activation": "relu"})
            option = with_relu is not None and with_relu[0] >= 1e-2
    return {"gap": gap, "weight_layers": weights, "activation_option": option}


def l1_at_init(cfg, spec, plan: dict) -> float | None:
    """regularization.l1 x the sum of |w| over the weights it covers (every parameter of two
    dimensions or more, as the trainer adds it), for the network as initialised."""
    import torch

    from ..models import build

    try:
        with _forked_rng():  # as flat_width: training's own random stream stays as it was
            net = build(cfg.model, spec, plan["n_out"], seed=0)
    except Exception:
        return None
    with torch.no_grad():
        total = sum(float(p.abs().sum()) for p in net.parameters() if p.dim() > 1)
    return cfg.regularization.l1 * total
