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
  pixels_unread  images: a quarter or more of the image's positions get exactly no gradient from the
                 output on any row or channel after two plain steps, and moving them leaves the output
                 as it was (a crop of the centre where the objects reach the edges)
  channels_unread images: a channel whose every pixel gets exactly no gradient from the output after
                 two plain steps, and moving it leaves the output as it was, while a linear model on
                 that channel alone finds signal about the target (x[:, :1] of two-channel patches)
  outputs_bounded a regressor (standardized target) whose output, with its weights shaken and scaled
                 10x and 100x, stays inside a range that 5% of the training targets lie beyond (a
                 tanh or sigmoid after the last layer)
  heavy_dropout  a dropout layer of p > 0.5 in the network: not a finding alone, the cause put first
                 when the network underfits (a TensorFlow keep_prob of 0.9 passed as nn.Dropout's p)
  conv_over_features sequences: a Conv1d handed the (rows, steps, features) batch as it comes, built
                 with as many input channels as there are steps: its kernel slides along the features,
                 and the steps are its channels (the transpose to (rows, features, steps) left out)
  sign_blind     tables and sequences: the output, after two plain steps, the same for every row and
                 the row negated (the inputs squared, or their absolute value taken, before any weight
                 reads them), where a linear model finds signal in the inputs
  order_blind    a forecaster whose output, after two plain steps, is the same with the target's
                 own past handed in reverse time order: it cannot tell the newest step from the
                 oldest (the window averaged over its steps before the layers)
  newest_unread  a forecaster with outputs that take exactly no gradient from the newest step of
                 its window, after two plain steps in eval mode, and do not move when it moves, where
                 the data says the newest step says more about the target than the oldest (a head
                 read off each of the last steps' states as the forecasts 1..k ahead)
  steps_averaged sequences: the output, after two plain steps, the same with each row's steps all
                 replaced by their mean, where how the features move over the steps says more about
                 the target than their means (a running mean over 1 sample subtracted from the signal)
  bn_shared      one batch norm module applied twice or more in a forward pass, to values whose
                 statistics differ: its running statistics blend them, and every call in eval mode is
                 normalised with the blend (one self.norm reused after each hidden layer)
  bn_momentum    a batch norm layer whose momentum is over 0.5: PyTorch's momentum weighs the newest
                 batch (Keras' 0.99 weighs the past), so its running statistics are the last batch's

For each, `fixes` holds a builder keyword the user set, put back to the builder's own default,
when the network built that way no longer shows it (so the fix is known to build and to work).
Every build happens in a forked random state (network_measures._forked_rng)."""

from __future__ import annotations

import numpy as np

from .network_measures import (_NOT_PLAIN, TWIN_LIMIT, _build, _builder_keywords, _evaluating, _forked_rng,
                               _once_per_network, _plain, _safely, _stepped, _weight_layers, probe_loss, shaken_copy)
from .wiring_batch import _rows_swapped
from .wiring_gradients import _uphill
from .wiring_images import _images_flat
from .wiring_inputs import (_bounded, _channels_unread, _clamped, _features_unread, _first_layer_seen, _flattened, _inputs_unread,
                            _interchangeable, _pixels_unread, _quantized, _raw_scale_clears, _same_outputs,
                            _sign_blind, _signal_lost)
from .wiring_neighbours import _inputs_scrambled
from .wiring_series import (_backwards, _level_blind, _newest_unread, _order_blind, _recent_matters, _steps_averaged,
                            _steps_reached,
                            _tokens_merged, _tokens_unread)


def wiring(cfg, spec, plan: dict, prepared) -> dict | None:
    x = getattr(prepared.train, "x", None)
    if cfg.model.type != "python" or getattr(cfg.model, "init_from", None) or x is None or len(x) < 2:
        return None
    scaled = spec.task == "regression" and bool(getattr(cfg.data, "scale_target", True))
    held = prepared if getattr(prepared, "val", None) is not None else None
    return _once_per_network(prepared, cfg, "_wiring", lambda: _safely(_wiring, cfg, spec, plan, x, scaled, held, prepared))


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
        # A Conv1d handed the (rows, steps, features) batch as it comes reads it as (rows, channels,
        # length): the steps become its channels and its kernel slides along the features. Only when
        # the two axes differ in length, so that its in_channels tell which it was built for.
        over_features: list = []
        if not ids and batch.dim() == 3 and batch.shape[1] != batch.shape[2]:
            def as_channels(name):
                def hook(mod, args):
                    a = args[0] if args else None
                    if not over_features and isinstance(a, torch.Tensor) and a.shape == batch.shape and \
                            mod.in_channels == batch.shape[1] and torch.equal(a.detach(), batch.detach()):
                        over_features.append({"layer": name, "in_channels": int(mod.in_channels),
                                              "steps": int(batch.shape[1]), "features": int(batch.shape[2]),
                                              "kernel": int(mod.kernel_size[0])})
                return hook

            for name, m in net.named_modules():
                if isinstance(m, torch.nn.Conv1d):
                    handles.append(m.register_forward_pre_hook(as_channels(name)))
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
        bn_calls: dict = {}
        handles += _bn_call_hooks(net, bn_calls)
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
        sign_blind = _safely(_sign_blind, twin, batch.detach(), held) \
            if twin is not None and not unread and not ids and batch.dim() in (2, 3) else None
        pixels_unread = _safely(_pixels_unread, twin, batch.detach()) \
            if twin is not None and not unread and not ids and batch.dim() == 4 else None
        channels_unread = _safely(_channels_unread, twin, batch.detach(), held) \
            if twin is not None and not unread and not ids and batch.dim() == 4 else None
        order_blind = _safely(_order_blind, twin, batch.detach(), spec) \
            if twin is not None and not unread and not ids else None
        newest_unread = _safely(_newest_unread, twin, batch.detach(), spec) \
            if twin is not None and not unread and not ids and batch.dim() == 3 else None
        steps_averaged = _safely(_steps_averaged, twin, batch.detach(), spec, held) \
            if twin is not None and not unread and not ids and batch.dim() == 3 else None
        # One pass of the first layer's input serves the readings of the features as they come and of an embedding.
        seen = _safely(_first_layer_seen, net, x, batch, first_kind) if not ids else None
        view = seen[:2] if seen is not None and seen[2] else None
        # A floor on images is left to the pixels-unread reading: a dark background sits at one value as stored.
        flattened = _safely(_flattened, *view) if view is not None and batch.dim() == 2 else None
        quantized = _safely(_quantized, *view) if view is not None and not flattened else None
        images_flat = _safely(_images_flat, *view, tuple(batch.shape)) if view is not None and batch.dim() == 4 else None
        scrambled = _safely(_inputs_scrambled, *seen[:2]) if seen is not None and batch.dim() == 2 else None
        swapped = _safely(_rows_swapped, twin, batch.detach()) if twin is not None else None
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
    reading["outputs_bounded"] = _safely(_bounded, net, batch.detach(), held) \
        if not spec.classes and cfg.data.scale_target and not reading["outputs_clamped"] and not ids \
        and size <= TWIN_LIMIT else None
    reading["probabilities"] = _safely(_probabilities, net, batch.detach(), plan)
    reading["turn_blind"] = _safely(_turn_blind, twin if twin is not None else net, batch.detach()) \
        if not ids and batch.dim() == 4 and batch.shape[2] == batch.shape[3] else None
    reading["features_interchangeable"] = _safely(_interchangeable, net, batch.detach(), spec, held) if not ids else None
    reading["signal_lost"] = _safely(_signal_lost, net, held) if held is not None and spec.classes and not ids else None
    reading["inputs_flattened"] = flattened
    reading["inputs_quantized"] = quantized
    reading["images_flat"] = images_flat
    reading["inputs_scrambled"] = scrambled
    reading["rows_swapped"] = swapped
    reading["output_dropped"] = output_dropped
    reading["outputs_tied"] = _safely(_outputs_tied, net, batch.detach(), spec, size)
    reading["tokens_merged"] = _safely(_tokens_merged, batch.detach(), lookups) if ids and spec.kind == "text" else None
    reading["features_unread"] = features_unread
    reading["order_blind"] = order_blind
    reading["pixels_unread"] = pixels_unread
    reading["channels_unread"] = channels_unread
    reading["newest_unread"] = newest_unread
    reading["steps_averaged"] = steps_averaged
    momentum = [{"layer": name, "momentum": round(float(m.momentum), 4)} for name, m in net.named_modules()
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats
                and m.momentum is not None and float(m.momentum) > BN_MOMENTUM]
    reading["bn_momentum"] = max(momentum, key=lambda d: d["momentum"]) if momentum else None
    reading["bn_shared"] = _safely(_bn_shared, bn_calls, len(batch))
    heavy = [{"layer": name, "p": round(float(m.p), 3)} for name, m in net.named_modules()
             if isinstance(m, torch.nn.modules.dropout._DropoutNd) and float(m.p) > HEAVY_DROPOUT]
    reading["heavy_dropout"] = max(heavy, key=lambda d: d["p"]) if heavy else None
    reading["sign_blind"] = sign_blind
    reading["conv_over_features"] = over_features[0] if over_features else None
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


# A batch norm layer whose running statistics move more than half way to each batch's: PyTorch's
# momentum is the weight of the newest batch (0.1 by default), Keras' the weight of the past (0.99),
# so a Keras value ported as it is leaves the statistics a network predicts with as those of the last
# training batch (often a remainder of a few rows). A dairy regressor at 0.99 with a last batch of 2
# cows: r2 -2.8/-1.7 against 0.853/0.854 (twenty-sixth held-out set).
BN_MOMENTUM = 0.5


# One batch norm module's calls in a forward pass whose inputs differ by this much, per channel (the
# median over the channels): means this many pooled standard deviations apart, or variances this many
# times apart. The running statistics then hold a blend that is neither call's. A meteorite classifier
# with one self.norm after both hidden layers (means 0.63 sd apart at init, variances 1.7x): 0.744/0.872
# against 0.994/0.994 with a norm per layer (twenty-seventh held-out set). A module shared by two
# branches of like inputs (a siamese pair) sees the same statistics twice and is left alone.
SHARED_BN_SHIFT = 0.5
SHARED_BN_RATIO = 2.0


# Rows a call of a batch norm module must see for its statistics to be compared: under that, a
# ghost batch norm's chunks of one batch differ by sampling alone (4-row chunks passed the limits in
# every one of 20 tries, 8-row chunks in 12; 16-row chunks in none of 50).
SHARED_BN_ROWS = 16


def _bn_call_hooks(net, calls: dict) -> list:
    """Pre-hooks on every batch norm module that updates running statistics: per module, each call's
    per-channel mean and variance (and rows), in the training forward pass `_measure` runs anyway."""
    import torch

    def record(name):
        def hook(mod, args):
            a = args[0] if args else None
            # a module kept in eval mode, or at momentum 0, never blends its running statistics
            if not mod.training or mod.momentum == 0 or not isinstance(a, torch.Tensor) or a.dim() < 2 \
                    or not a.is_floating_point():
                return
            dims = [d for d in range(a.dim()) if d != 1]
            calls.setdefault(name, []).append((a.detach().mean(dims), a.detach().var(dims), int(a.shape[0])))
        return hook

    return [m.register_forward_pre_hook(record(name)) for name, m in net.named_modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def _bn_shared(calls: dict, batch_rows: int) -> dict | None:
    """A batch norm module called more than once in one training forward pass (_bn_call_hooks), each
    call on the whole batch (not chunks of it: a ghost batch norm), with inputs whose per-channel
    statistics differ (SHARED_BN_SHIFT, SHARED_BN_RATIO)."""
    import torch

    for name, seen in calls.items():
        if len(seen) < 2 or any(rows != batch_rows or rows < SHARED_BN_ROWS for _, _, rows in seen):
            continue
        m0, v0, _ = seen[0]
        for m1, v1, _ in seen[1:]:
            if m1.shape != m0.shape:
                continue
            shift = float(((m0 - m1).abs() / ((v0 + v1) / 2 + 1e-12).sqrt()).median())
            ratio = float((torch.maximum(v0, v1) / torch.minimum(v0, v1).clamp_min(1e-12)).median())
            if shift > SHARED_BN_SHIFT or ratio > SHARED_BN_RATIO:
                return {"layer": name, "calls": len(seen), "shift_sd": round(shift, 3), "variance_ratio": round(ratio, 3)}
    return None


# A dropout layer dropping more than half of what it is handed: the usual range is 0.1-0.5, and
# model.dropout above 0.5 is what the rules already treat as heavy (fit._dropout_underfit). Not a
# finding alone (a wide head may train at 0.6): a cause the rules put first when the network
# underfits (root_causes._with_dropout_option_fix).
HEAVY_DROPOUT = 0.5


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


# A standardized target has standard deviation 1; a net whose first outputs are 10 of those away
# makes errors of a hundred times the target's variance (a regressor that multiplied its output back
# into euros: ~7800; one whose output bias started at the mean kill in %, 17.4, where the target is
# standardized: 17, r2 0.766/0.601 against 0.842/0.884, twenty-fourth held-out set). The healthy
# custom regressors of the suites start at 1.6 standard deviations or less; PyTorch's own init under 1.
# The limit was 30 until session 34.
OUTPUT_SCALE_LIMIT = 10.0


def _turn_blind(net, batch) -> dict | None:
    """Square images: every row's output the same, in eval mode (to 1e-5 of its size), when each
    image is turned a quarter (90 degrees), while rows differ: the network cannot see orientation
    (features averaged over the four turns, a group-equivariant pooling)."""
    import torch

    return _same_outputs(net, batch, torch.rot90(batch, 1, dims=(2, 3)))


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


def _problems(reading: dict, frozen_random: list[str]) -> dict:
    found = {k: reading[k] for k in ("unregistered", "ids_as_numbers", "steps_read", "eval_random", "rows_mixed", "norm_too_narrow",
                                     "tokens_unread", "turn_blind", "uphill", "probabilities",
                                     "inputs_unread", "inputs_dropped", "inputs_flattened", "level_blind", "read_backwards",
                                     "outputs_clamped", "features_interchangeable", "signal_lost", "inputs_quantized",
                                     "output_dropped", "outputs_tied", "tokens_merged", "features_unread", "order_blind",
                                     "pixels_unread", "conv_over_features", "sign_blind", "channels_unread",
                                     "heavy_dropout", "outputs_bounded", "newest_unread", "bn_momentum",
                                     "steps_averaged", "bn_shared", "images_flat", "rows_swapped", "inputs_scrambled")
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
    if reading.get("newest_unread"):
        recent = _safely(_recent_matters, prepared, spec) if prepared is not None else None
        reading["newest_unread"] = {**reading["newest_unread"], "correlation": recent} if recent else None
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


# A default that removes the problem by removing the network (hidden=() where the layers sat in a
# list) is no fix: the rebuilt network must keep half its size or more (stray tensors counted in).
KEPT_SIZE = 0.5


# Problems of an embedding in front of the first layer: the embedding widens that layer (8 sines and
# 8 cosines a feature: 16 times its weights), so the network without it is smaller by that alone.
_WIDENS_FIRST_LAYER = {"inputs_scrambled"}


_HELD_READINGS = {"signal_lost", "features_interchangeable", "sign_blind", "channels_unread", "outputs_bounded",
                  "steps_averaged"}


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
        if again is None:
            continue
        shrunk = again["size"] < KEPT_SIZE * size
        frozen = _frozen_random(cfg, spec, plan, again, options) if "frozen_random" in found else []
        left = _problems(again, frozen)
        for problem in found:
            if problem not in left and problem not in fixes and (not shrunk or problem in _WIDENS_FIRST_LAYER):
                fixes[problem] = {key: default}
    return fixes


