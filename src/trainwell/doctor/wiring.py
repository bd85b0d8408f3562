"""How a custom network (model.type: python) is wired, read from one forward and backward pass at
its init, before training: the slips that no loss curve explains until it is too late.

  unregistered   tensors that ask for a gradient and shape the output but are not the module's
                 parameters (layers kept in a plain Python list or dict, not nn.ModuleList): no
                 optimizer sees them and the saved model does not hold them
  frozen_random  parameters the builder froze (requires_grad False) whose values change with the
                 random seed: random weights, not loaded ones, kept as drawn for the whole run
  steps_read     sequences: the steps the output depends on at all, when that is under half of them
                 (a one-way recurrent net read at out[:, 0] has seen one step)
  ids_as_numbers text: layers that receive the token ids themselves as numbers (ids.float() into a
                 Linear layer), where an embedding should look them up
  output_scale   regression on a standardized target: the median size of the outputs at init, in
                 the target's standard deviations
  eval_random    in eval mode, two calls on the same rows give different outputs (dropout left on)
  rows_mixed     in eval mode, a row's output changes with the other rows of its batch
  inputs_unread  after two plain steps, every row gets the same output: nothing of the input
                 reaches it (a mask that selects padding only, a multiplication by a zero tensor)
  inputs_dropped a dropout layer handed the input features themselves (in training mode): each
                 training row loses that share of its measurements
  read_backwards a forecaster whose output, at init, hangs on the oldest steps of its window and
                 hardly on the newest (a recurrent net handed the window flipped in time), where the
                 data says the newest steps say most about the target
  level_blind    a forecaster whose output, after two plain steps, does not move when the target's
                 own past is raised by one standard deviation at every step: it cannot see the
                 series' level (a per-window normalisation never undone)
  tokens_unread  text: a quarter or more of the tokens get exactly no gradient from the output, in
                 float64 after two plain steps (heads cut from a reshape without the transpose:
                 the [CLS] reads half the line)
  turn_blind     square images: each turned a quarter, every row's output the same, where a
                 quarter turn changes the class (a class-mean classifier keeps under 58% of its signal)
  uphill         parameters whose gradient points uphill: a small step against it raises the loss
                 it was taken of (a gradient-reversal layer left before the class head: the body
                 learns to make the head's job harder)
  norm_too_narrow a normalisation layer that takes out the mean and spread of 2 values or fewer at a
                 time (nn.LayerNorm(2) over two readings): of each pair only which is larger is left
  inputs_flattened the first weight layer is handed, for a quarter of the features or more, one
                 value in 60% of the rows or more where the features themselves vary (a clamp or a
                 floor in the network's own transform of its inputs); with scaling on, whether the
                 features as stored (data.scale none) clear it is checked too

  inputs_quantized the first weight layer is handed, for a quarter of the features or more, at most
                 8 distinct values where the features themselves take many (torch.round of
                 standardized inputs: whole standard deviations)
  output_dropped a regressor whose output is a dropout layer's output: in training each output is
                 zeroed or scaled up, and what it learns comes back shrunk by 1 - p at prediction
  outputs_tied   a regressor with several outputs whose columns are equal on every row, on the
                 network and on a copy with its weights shaken: one number broadcast to all of them
  tokens_merged  text: an embedding handed, for each token, a row that is a function of its id but
                 gives the batch's tokens under half as many rows (ids hashed into a few buckets)
  features_unread tables and sequences: a quarter or more of the input features get exactly no
                 gradient from the output after two plain steps, and moving them leaves the output
                 as it was, while the others are read (x[..., :1] where x[..., :k] was meant)
  order_blind    a forecaster whose output, after two plain steps, is the same with the target's
                 own past handed in reverse time order: it cannot tell the newest step from the
                 oldest (the window averaged over its steps before the layers)

For each, `fixes` holds a builder keyword the user set, put back to the builder's own default,
when the network built that way no longer shows it (so the fix is known to build and to work).
Every build happens in a forked random state (network_measures._forked_rng)."""

from __future__ import annotations

import contextlib

import numpy as np

from .network_measures import _builder_keywords, _forked_rng, _once_per_network, probe_loss, shaken_copy


@contextlib.contextmanager
def _evaluating(net):
    """`net` in eval mode, without gradients, in a forked random state; its mode put back after."""
    import torch

    was_training = net.training
    try:
        net.eval()
        with torch.no_grad(), _forked_rng():
            yield net
    finally:
        net.train(was_training)


def wiring(cfg, spec, plan: dict, prepared) -> dict | None:
    x = getattr(prepared.train, "x", None)
    if cfg.model.type != "python" or getattr(cfg.model, "init_from", None) or x is None or len(x) < 2:
        return None
    scaled = spec.task == "regression" and bool(getattr(cfg.data, "scale_target", True))
    held = prepared if getattr(prepared, "val", None) is not None else None
    return _once_per_network(prepared, cfg, "_wiring", lambda: _safely(_wiring, cfg, spec, plan, x, scaled, held, prepared))


def _safely(measure, *args):
    """A measure that fails says nothing: it must never stop or change the user's run."""
    try:
        return measure(*args)
    except Exception:
        return None


def _build(cfg, spec, plan: dict, options: dict | None, seed: int):
    from ..models import build
    from ..models.transfer import freeze

    model_cfg = cfg.model if options is None else cfg.model.model_copy(update={"options": options})
    with _forked_rng():
        net = build(model_cfg, spec, plan["n_out"], seed=seed)
    freeze(net, model_cfg.freeze)
    return net


def _measure(cfg, spec, plan: dict, x, scaled: bool, options: dict | None = None, held=None,
             uphill: bool = True) -> dict | None:
    """The five readings of one network, or None where it cannot be built or run (the training
    itself then reports what the builder refuses)."""
    import torch

    handles: list = []
    try:
        net = _build(cfg, spec, plan, options, seed=0)
        rows = np.asarray(x[:32])
        ids = rows.dtype.kind in "iu"
        batch = torch.as_tensor(rows if ids else np.nan_to_num(rows.astype(np.float32)))
        if not ids:
            batch.requires_grad_(True)
        fed: list[str] = []
        lookups: list = []
        if ids and spec.kind == "text":
            as_float = batch.float()

            def look(name):
                def hook(mod, args):
                    a = args[0] if args else None
                    # the ids as they are, or reshaped (ids.float().unsqueeze(-1) into Linear(1, d))
                    if isinstance(a, torch.Tensor) and a.is_floating_point() and a.numel() == batch.numel() \
                            and torch.equal(a.detach().float().reshape(batch.shape), as_float.to(a.device)):
                        fed.append(name)
                return hook

            for name, m in net.named_modules():
                if any(True for _ in m.parameters(recurse=False)):
                    handles.append(m.register_forward_pre_hook(look(name)))

            def looked_up(name):
                def hook(mod, args):
                    a = args[0] if args else None
                    if isinstance(a, torch.Tensor) and not a.is_floating_point() and a.shape == batch.shape:
                        lookups.append((name, int(mod.num_embeddings), a.detach()))
                return hook

            for name, m in net.named_modules():
                if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
                    handles.append(m.register_forward_pre_hook(looked_up(name)))
        first: list = []
        first_kind: list = []
        dropped: list = []
        last_drop: list = []
        if not ids:
            # What the first weight layer is handed: a network that takes the log of its inputs, or
            # normalises them itself, feeds it numbers of a usual size however large the raw ones.
            def see(mod, args):
                if not first and args and isinstance(args[0], torch.Tensor) and args[0].is_floating_point():
                    first.append(args[0].detach())
                    first_kind.append(type(mod).__name__)

            layers = _weight_layers()
            for m in net.modules():
                if isinstance(m, layers):
                    handles.append(m.register_forward_pre_hook(see))
            flat_batch = batch.detach().reshape(-1)

            def drop(name):
                def hook(mod, args):
                    a = args[0] if args else None
                    if mod.training and getattr(mod, "p", 0) > 0 and isinstance(a, torch.Tensor) and \
                            a.numel() == flat_batch.numel() and torch.equal(a.detach().reshape(-1), flat_batch):
                        dropped.append({"layer": name, "p": float(mod.p)})
                return hook

            def dropped_out(name):
                def hook(mod, args, result):
                    if mod.training and getattr(mod, "p", 0) > 0 and isinstance(result, torch.Tensor):
                        last_drop.append({"layer": name, "p": float(mod.p), "out": result})
                return hook

            for name, m in net.named_modules():
                if isinstance(m, torch.nn.modules.dropout._DropoutNd):
                    handles.append(m.register_forward_pre_hook(drop(name)))
                    handles.append(m.register_forward_hook(dropped_out(name)))
        narrow: list = []

        def width(name):
            def hook(mod, args):
                a = args[0] if args else None
                n = _too_narrow(mod, a)
                if n is not None and not any(d["layer"] == name for d in narrow):
                    narrow.append({"layer": name, "kind": type(mod).__name__, "values": n})
            return hook

        for name, m in net.named_modules():
            if _is_norm(m):
                handles.append(m.register_forward_pre_hook(width(name)))
        net.train()   # as training runs it (dropout draws are forked)
        with _forked_rng():
            out = net(batch)
            if not isinstance(out, torch.Tensor) or not out.requires_grad:
                return None
            leaves = _graph_leaves(out)
            output_dropped = _safely(_output_dropped, out, last_drop, spec)
            last_drop.clear()
            probe_loss(out).backward()
    except Exception:
        return None
    finally:   # a builder may hand back a module it keeps (a cached backbone): leave it as it was
        for h in handles:
            h.remove()
    eval_random, rows_mixed = _in_eval(net, batch.detach())
    size = sum(p.numel() for p in net.parameters())
    twin = _safely(_stepped, net, batch.detach()) if not eval_random and not rows_mixed and size <= TWIN_LIMIT \
        else None
    with _forked_rng():   # a network that draws noise in eval mode must not move the run's random stream
        unread = _safely(_inputs_unread, twin, batch.detach()) if twin is not None else None
        blind = _safely(_level_blind, twin, batch.detach(), spec, net) if twin is not None and not unread else None
        tokens = _safely(_tokens_unread, twin, batch.detach(), spec) \
            if twin is not None and not unread and ids and spec.kind == "text" else None
        features_unread = _safely(_features_unread, twin, batch.detach(), spec) \
            if twin is not None and not unread and not ids and batch.dim() in (2, 3) else None
        order_blind = _safely(_order_blind, twin, batch.detach(), spec) \
            if twin is not None and not unread and not ids else None
        view = _safely(_first_layer_view, net, x, batch, first_kind) if not ids else None
        flattened = _safely(_flattened, *view) if view is not None else None
        quantized = _safely(_quantized, *view) if view is not None and not flattened else None
    uphill = _safely(_uphill, net, batch.detach()) if uphill and not eval_random and not rows_mixed else None
    params = dict(net.named_parameters())
    known = {id(p) for p in params.values()} | {id(batch)}
    stray = [v for v in leaves if id(v) not in known]
    reading: dict = {"unregistered": {"tensors": len(stray), "numbers": int(sum(v.numel() for v in stray)),
                                      "shapes": [list(v.shape) for v in stray[:6]]} if stray else None,
                     "ids_as_numbers": sorted(set(fed)) or None, "steps_read": None, "output_scale": None,
                     "eval_random": eval_random, "rows_mixed": rows_mixed, "inputs_unread": unread,
                     "inputs_dropped": dropped[0] if dropped else None, "level_blind": blind,
                     "norm_too_narrow": narrow[0] if narrow else None, "tokens_unread": tokens, "uphill": uphill,
                     "frozen": [n for n, p in params.items() if not p.requires_grad],
                     "size": int(sum(p.numel() for p in params.values())), "net": net}
    if not ids and batch.grad is not None and batch.dim() == 3 and batch.shape[1] >= 4:
        per_step = batch.grad.abs().sum(dim=(0, 2))
        reading["read_backwards"] = _backwards(per_step, spec, batch)
        read = [int(i) for i in torch.nonzero(per_step > 0).flatten()]
        # Under half the steps reach the output at all: no weight can learn from the rest. None at
        # all says nothing about the steps: a head initialised at zero passes nothing back yet.
        # Nor does a gate at zero: read again with the weights shaken, the wiring alone decides (a
        # tide forecaster, persistence plus a zero-gated MLP over its window, read only its last
        # step at init and trained to r2 0.98; twentieth held-out set).
        if read and len(read) < batch.shape[1] / 2:
            again = _safely(_steps_reached, net, batch.detach())
            if again is None or len(again) < batch.shape[1] / 2:
                reading["steps_read"] = {"steps": int(batch.shape[1]), "read": read}
    if scaled and out.dim() >= 1 and out.numel():
        reading["output_scale"] = float(out.detach().float().abs().median())
    reading["outputs_clamped"] = _safely(_clamped, net, batch.detach(), spec, cfg)
    reading["probabilities"] = _safely(_probabilities, net, batch.detach(), plan)
    reading["turn_blind"] = _safely(_turn_blind, twin if twin is not None else net, batch.detach()) \
        if not ids and batch.dim() == 4 and batch.shape[2] == batch.shape[3] else None
    reading["features_interchangeable"] = _safely(_interchangeable, net, batch.detach(), spec, held) if not ids else None
    reading["signal_lost"] = _safely(_signal_lost, net, held) if held is not None and spec.classes and not ids else None
    reading["inputs_flattened"] = flattened
    reading["inputs_quantized"] = quantized
    reading["output_dropped"] = output_dropped
    reading["outputs_tied"] = _safely(_outputs_tied, net, batch.detach(), spec, size)
    reading["tokens_merged"] = _safely(_tokens_merged, batch.detach(), lookups) if ids and spec.kind == "text" else None
    reading["features_unread"] = features_unread
    reading["order_blind"] = order_blind
    # Per input feature: what a Linear or a recurrent layer reads along its last axis (a Conv1d reads
    # (rows, features, steps), whose last axis is time).
    if first and first[0].dim() >= 2 and first[0].numel() and not (first[0].dim() == 3 and "Conv" in first_kind[0]):
        seen = first[0].float()
        seen = seen.movedim(1, -1) if seen.dim() == 4 else seen   # images: per channel
        flat = seen.reshape(-1, seen.shape[-1])
        rms = flat.pow(2).mean(0).sqrt()
        if torch.isfinite(rms).all():
            reading["first_layer_rms"] = [round(float(v), 4) for v in rms]
    return reading


# Two values less their mean, divided by their spread, are +1 and -1 (or -1 and +1): a normalisation
# over so few keeps only which is larger; over one it keeps nothing. An RMS norm keeps the mean, so
# only one value at a time (its sign) is as narrow. Exact, not calibrated.
NARROW_NORM = 2


def _is_norm(mod) -> bool:
    import torch

    nn = torch.nn
    kinds = (nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm) + \
        ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
    return isinstance(mod, kinds)


def _too_narrow(mod, a) -> int | None:
    """How many values `mod` normalises together, for input `a`, when so few are left nothing but
    their order (or sign); None otherwise."""
    import math

    import torch

    nn = torch.nn
    if isinstance(mod, nn.LayerNorm):
        n = math.prod(mod.normalized_shape)
    elif hasattr(nn, "RMSNorm") and isinstance(mod, nn.RMSNorm):
        n = math.prod(mod.normalized_shape)
        return n if n <= 1 else None
    elif isinstance(a, torch.Tensor) and a.dim() >= 2 and isinstance(mod, nn.GroupNorm):
        n = (a.shape[1] // max(mod.num_groups, 1)) * math.prod(a.shape[2:])
    elif isinstance(a, torch.Tensor) and a.dim() > 2 and isinstance(mod, nn.modules.instancenorm._InstanceNorm):
        n = math.prod(a.shape[2:])
    else:
        return None
    return n if n <= NARROW_NORM else None


# Layers whose weights multiply their input: what unscaled inputs would make lopsided.
def _weight_layers():
    from torch import nn

    return (nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.RNNBase, nn.RNNCellBase,
            nn.MultiheadAttention)


def _in_eval(net, batch) -> tuple[dict | None, dict | None]:
    """The network as evaluate, predict and serve run it (eval mode, no gradient). eval_random: two
    calls on the same rows disagree, so something random (dropout through F.dropout, whose training
    argument defaults to True; noise) stays on at prediction. rows_mixed: a row's output changes
    with the other rows of its batch (a softmax over dim 0, the batch; statistics of the batch),
    so it depends on what it is served with. Each is exact up to float rounding: the tolerance is
    1e-4 of the outputs' size, where batch sizes change the order of a sum."""
    import torch

    try:
        with _evaluating(net):
            first, again, alone = net(batch), net(batch), net(batch[:1])
    except Exception:
        return None, None
    if not all(isinstance(t, torch.Tensor) and t.is_floating_point() for t in (first, again, alone)) \
            or first.shape != again.shape or first.shape[1:] != alone.shape[1:] or not first.numel():
        return None, None
    if not bool(torch.isfinite(first).all()):
        return None, None   # the network's own outputs are not finite: other checks say so
    scale = float(first.abs().max()) or 1.0

    def change(a, b) -> float:
        # A value that turns NaN or infinite is a change too (x.std(0) of one row is NaN).
        return float("inf") if not bool(torch.isfinite(b).all()) else float((a - b).abs().max())
    shown = lambda v: "not finite" if v == float("inf") else round(v, 6)   # findings.json is strict JSON
    if change(first, again) > 1e-4 * scale:
        return {"max_change": shown(change(first, again)), "output_size": round(scale, 6)}, None
    if change(first[:1], alone) > 1e-4 * scale:
        return None, {"batch": int(batch.shape[0]), "max_change": shown(change(first[:1], alone)),
                      "output_size": round(scale, 6)}
    return None, None


def _graph_leaves(out) -> list:
    """The tensors at the roots of the autograd graph behind `out` that collect a gradient."""
    seen, leaves, stack = set(), [], [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        var = getattr(fn, "variable", None)   # AccumulateGrad: a leaf tensor
        if var is not None:
            leaves.append(var)
        stack.extend(nxt for nxt, _ in getattr(fn, "next_functions", ()))
    return leaves


def _frozen_random(cfg, spec, plan: dict, reading: dict, options: dict | None = None) -> list[str]:
    """Of the parameters the builder froze, those a second build with another seed draws anew (the
    first build is the one just measured, at seed 0)."""
    import torch

    frozen = reading["frozen"]
    if not frozen or cfg.model.freeze:
        return []
    try:
        a = dict(reading["net"].named_parameters())
        b = dict(_build(cfg, spec, plan, options, seed=1).named_parameters())
    except Exception:
        return []
    return [n for n in frozen if n in a and n in b and a[n].shape == b[n].shape and a[n].numel() > 1
            and not torch.equal(a[n], b[n])]


# A standardized target has standard deviation 1; a net whose first outputs are 30 of those away
# makes errors of hundreds of times the target's spread (a regressor that multiplied its output
# back into euros: ~7800; PyTorch's own init gives outputs under 1).
OUTPUT_SCALE_LIMIT = 30.0


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


def _stepped(net, batch):
    """A copy of the network after two plain SGD steps on the batch, in eval mode: read after steps,
    not at init, so that a head started at zero (the same output for every row until its first
    step) is not taken for a network that ignores its input. None without trainable parameters."""
    import copy

    import torch

    twin = copy.deepcopy(net)
    params = [p for p in twin.parameters() if p.requires_grad]
    if not params:
        return None
    step = torch.optim.SGD(params, lr=0.1)
    twin.train()
    with _forked_rng():
        for _ in range(2):
            step.zero_grad()
            probe_loss(twin(batch)).backward()
            step.step()
    return twin.eval()


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


def _turn_blind(net, batch) -> dict | None:
    """Square images: every row's output the same, in eval mode (to 1e-5 of its size), when each
    image is turned a quarter (90 degrees), while rows differ: the network cannot see orientation
    (features averaged over the four turns, a group-equivariant pooling)."""
    import torch

    return _same_outputs(net, batch, torch.rot90(batch, 1, dims=(2, 3)))


def _inputs_unread(twin, batch) -> dict | None:
    """Every row's output the same, in eval mode, after two plain steps on a copy of the network
    (_stepped): the input never reaches the output. None when the rows themselves are all alike,
    or the outputs differ."""
    import torch

    if len(batch) < 2 or bool((batch == batch[:1]).all()):
        return None
    with torch.no_grad():
        out = twin(batch)
    if not isinstance(out, torch.Tensor) or not out.numel() or not torch.isfinite(out).all():
        return None
    flat = out.float().reshape(len(out), -1)
    spread = float((flat - flat[:1]).abs().max())
    size = float(flat.abs().max())
    return {"rows": len(flat), "spread": spread, "output_size": round(size, 6)} if spread <= 1e-6 * (1 + size) else None


# A quarter of the input features or more with exactly no gradient, the others with some: a washer
# diagnosis GRU sliced x[..., :1] where x[..., :4] was meant, and read the drum's speed alone, 0.600/0.587
# against 1.000/1.000 (twenty-third held-out set). Exact zeros only: a weight near zero still reads.
# Not for images (a channel kept on purpose is a choice) nor token ids (tokens_unread).
FEATURES_UNREAD = 0.25


def _features_unread(twin, batch, spec) -> dict | None:
    """The features (last axis of a (rows, features) or (rows, steps, features) batch) whose every
    entry gets exactly no gradient from the output of the stepped copy, in eval mode, when they are
    FEATURES_UNREAD of them or more and some others do get one. The output is weighed by fixed random
    numbers, so that no sum over output columns cancels a gradient by chance."""
    import torch

    n = int(batch.shape[-1])
    if n < 2:
        return None
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
    per = x.grad.abs().reshape(-1, n).sum(0)
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


# A feature counts as flattened when one value fills 60% of the rows the first layer is handed, where
# the same feature as prepared has no value in more than a tenth of them; the network as a whole,
# when a quarter of its features are. A gas-analysis net taking log(max(x, 0.1)) of standardized
# readings held 76-86% of each gas at log 0.1: 0.839/0.789 against 0.956/0.958 on raw ppm (sixteenth
# held-out set). A one-hot or binary column repeats its values as prepared too, and is not counted;
# a ReLU in front of the first layer (a pre-activation block: BatchNorm, ReLU, Linear) zeroes about
# half of each standardized feature, under the 60%; read on 256 rows, where half stays near half.
FLAT_ROWS, VARIED_ROWS, FLAT_FEATURES = 0.6, 0.1, 0.25


# Networks above this many parameters are not copied for the readings after two steps: a copy of
# a large pretrained backbone doubles its memory for a check meant for small hand-written nets.
TWIN_LIMIT = 20_000_000
FLAT_SAMPLE = 256


def _flattened_reading(net, x, batch, first_kind) -> dict | None:
    view = _first_layer_view(net, x, batch, first_kind)
    return None if view is None else _flattened(*view)


def _first_layer_view(net, x, batch, first_kind):
    """(the features as prepared, what the first weight layer is handed) on up to FLAT_SAMPLE table
    rows as arrays, in eval mode (dropout's zeros are no clamp), for inputs_flattened and inputs_quantized."""
    import torch

    if batch.dim() != 2 or not first_kind or first_kind[0] != "Linear":
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
    if not seen or seen[0].shape != rows.shape:
        return None
    return rows.numpy(), seen[0].float().cpu().numpy()


# A feature counts as quantized when the first layer is handed at most QUANT_LEVELS distinct values of it
# where the feature as prepared takes a quarter as many distinct values as there are rows or more (a
# measurement, not a code or a count); the network as a whole, when a quarter of its features are. A
# log-grading MLP that rounded its standardized inputs ('whole centimetres') saw each in 5-7 whole
# standard deviations: 0.590/0.567 against 0.743/0.748 (twenty-second held-out set).
QUANT_LEVELS, QUANT_VARIED = 8, 0.25


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


def _output_dropped(out, drops: list, spec) -> dict | None:
    """A regressor whose output is a dropout layer's own output (or a view of it), in training mode:
    each output is zeroed with probability p or scaled by 1 / (1 - p), so the squared error is least
    where the kept outputs hit the target, and at prediction (dropout off) every forecast comes back
    shrunk by 1 - p. A car-park forecaster with Dropout(0.3) after its output layer scored r2
    0.819/0.808 against 0.900/0.893 (twenty-second held-out set). Regression only: a classifier's
    scores dropped out leave its argmax."""
    if spec.task != "regression":
        return None
    ptr = out.untyped_storage().data_ptr()
    for d in reversed(drops):   # the last one run is the nearest the output
        if d["out"].untyped_storage().data_ptr() == ptr and d["p"] < 1:   # p 1: nothing learns at all
            return {"layer": d["layer"], "p": d["p"]}
    return None


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


def _outputs_tied(net, batch, spec, size: int) -> dict | None:
    """A regressor's output columns (the hours of a forecast, several targets) equal on every row, in
    eval mode, on the network and on a copy with its weights shaken (a head started at zero ties them
    at init, by design): one number broadcast to all, so no weight can tell one apart. A car-park
    forecaster with one output expanded to its six hours ahead scored r2 0.689/0.696 against
    0.900/0.893 (twenty-second held-out set). Exact, not calibrated."""
    import torch

    if spec.task != "regression" or size > TWIN_LIMIT:
        return None
    for shaken in (False, True):   # the copy only once the network as built ties them
        candidate = shaken_copy(net) if shaken else net
        with _evaluating(candidate):
            out = candidate(batch)
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] < 2 or len(out) < 2 \
                or not bool(torch.isfinite(out).all()):
            return None
        out = out.double()
        spread = float((out.max(dim=1).values - out.min(dim=1).values).max())
        if spread > 1e-6 * (1.0 + float(out.abs().max())):
            return None
    return {"outputs": int(out.shape[1]), "rows": int(len(out))}


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


def _probabilities(net, batch, plan: dict) -> dict | None:
    """A classifier under cross-entropy whose outputs, in eval mode, all lie in [0, 1]: not the raw
    scores the loss expects. `sums_to_one`: rows of probabilities, a network that ends in a softmax
    (network_measures.probability_outputs says so of every such network; _wiring then seeks a
    builder option the user set that returns raw scores instead, and an option that gives sigmoid
    outputs, still squashed, is no such fix)."""
    import torch

    if plan.get("loss") != "cross_entropy":
        return None
    with _evaluating(net):
        out = net(batch)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] < 2 or not len(out):
        return None
    rows = out.float()
    if not bool(torch.isfinite(rows).all()) or not bool(((rows >= -1e-6) & (rows <= 1 + 1e-6)).all()):
        return None
    return {"sums_to_one": bool(((rows.sum(1) - 1).abs() <= 1e-4).all())}


# A regressor's outputs are pushed toward PUSH_TARGET (a standardized target's low values) by PUSH_STEPS
# Adam steps on a copy; a floor it cannot pass stays above PUSH_REACHED. A ReLU after the last layer
# shows at init only where the layer's output starts under 0: a ferry-delay net with its output
# written relu(y) ('a delay is never negative') of a standardized target (most sailings under the
# mean) had 3% of its rows at 0 at init, then learned to put most of them there, r2 0.832/0.737
# against 0.941/0.926 (twenty-first held-out set). Pushed, every row sat at exactly 0.
PUSH_TARGET, PUSH_STEPS, PUSH_REACHED = -2.0, 30, -1.0


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


def _problems(reading: dict, frozen_random: list[str]) -> dict:
    found = {k: reading[k] for k in ("unregistered", "ids_as_numbers", "steps_read", "eval_random", "rows_mixed", "norm_too_narrow",
                                     "tokens_unread", "turn_blind", "uphill", "probabilities",
                                     "inputs_unread", "inputs_dropped", "inputs_flattened", "level_blind", "read_backwards",
                                     "outputs_clamped", "features_interchangeable", "signal_lost", "inputs_quantized",
                                     "output_dropped", "outputs_tied", "tokens_merged", "features_unread", "order_blind")
             if reading.get(k)}
    if frozen_random:
        found["frozen_random"] = frozen_random
    scale = reading.get("output_scale")
    if scale is not None and scale >= OUTPUT_SCALE_LIMIT:
        found["output_scale"] = round(scale, 1)
    return found


def _wiring(cfg, spec, plan: dict, x, scaled: bool, held=None, prepared=None) -> dict | None:
    reading = _measure(cfg, spec, plan, x, scaled, held=held)
    if reading is None:
        return None
    if reading.get("read_backwards"):
        recent = _safely(_recent_matters, prepared, spec) if prepared is not None else None
        reading["read_backwards"] = {**reading["read_backwards"], "correlation": recent} if recent else None
    if reading.get("turn_blind"):
        # A network blind to quarter turns is a choice (cells under a microscope have no up) unless
        # a quarter turn changes the class: then it cannot tell those classes apart.
        from .image_measures import quarter_turn_retention
        from .rules.preparation import AUGMENT_RETENTION_LIMIT   # the limit for an augmentation's turns

        kept = _safely(quarter_turn_retention, prepared) if prepared is not None else None
        reading["turn_blind"] = {**reading["turn_blind"], "class_signal_kept": kept} \
            if kept is not None and kept < AUGMENT_RETENTION_LIMIT else None
    if reading.get("inputs_flattened") and cfg.data.scale != "none":
        reading["inputs_flattened"]["raw_scale_clears"] = _safely(_raw_scale_clears, cfg, spec, plan) or False
    if reading.get("probabilities") and not reading["probabilities"]["sums_to_one"]:
        reading["probabilities"] = None   # squashed scores (sigmoids) with no second softmax to undo
    seen = {"first_layer_rms": reading["first_layer_rms"]} if reading.get("first_layer_rms") else {}
    found = _problems(reading, _frozen_random(cfg, spec, plan, reading))
    if not found:
        return seen or None
    return {**found, **seen, "fixes": _fixes(cfg, spec, plan, x, scaled, found, reading, held)}


def _plain(value):
    """A value as YAML would give it back (tuples as lists), or a marker that it has no such form:
    a class, a function, an array or a sentinel as a builder's default cannot go into a config."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _plain(v) for k, v in value.items()}
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items.values()) else items
    return _NOT_PLAIN


_NOT_PLAIN = object()
# A default that removes the problem by removing the network (hidden=() where the layers sat in a
# list) is no fix: the rebuilt network must keep half its size or more (stray tensors counted in).
KEPT_SIZE = 0.5


_HELD_READINGS = {"signal_lost", "features_interchangeable"}


def _fixes(cfg, spec, plan: dict, x, scaled: bool, found: dict, reading: dict, held=None) -> dict:
    """problem -> {keyword: default}: a keyword the user set, back at the builder's default, with
    which the network no longer shows that problem and keeps most of its size."""
    import inspect

    size = reading["size"] + ((found.get("unregistered") or {}).get("numbers") or 0)
    fixes: dict = {}
    for key, param in _builder_keywords(cfg).items():
        if len(fixes) == len(found):
            break
        if key not in cfg.model.options or param.default is inspect.Parameter.empty:
            continue
        default = _plain(param.default)
        if default is _NOT_PLAIN or _plain(cfg.model.options[key]) == default:
            continue
        options = {**cfg.model.options, key: default}
        # the readings that need the held-out rows (a forward over thousands of them, a linear fit) only
        # where one of them is what the option should clear
        again = _measure(cfg, spec, plan, x, scaled, options, held if _HELD_READINGS & found.keys() else None,
                         uphill="uphill" in found)
        if again is None or again["size"] < KEPT_SIZE * size:
            continue
        frozen = _frozen_random(cfg, spec, plan, again, options) if "frozen_random" in found else []
        left = _problems(again, frozen)
        for problem in found:
            if problem not in left and problem not in fixes:
                fixes[problem] = {key: default}
    return fixes


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
# A weight matrix counts as barely learning when, after the same few passes, this share of its entries
# at most (or one) get a non-zero gradient; and the network, when this share of its matrices do.
BARELY_ENTRIES, BARELY_SHARE = 0.01, 0.9
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
