"""What the doctor measures on the network a config builds, before training: the width a CNN's
blocks hand its head, whether a custom network is one affine map, and L1's penalty at init. Each
builds the network in a forked random state, so training's own random stream stays as it was."""

from __future__ import annotations

import contextlib
import re
import sys

import numpy as np


@contextlib.contextmanager
def _forked_rng():
    """A forked random state for measures that draw random numbers or build a network (which seeds
    torch): CPU, and every CUDA device once CUDA is in use, since torch.manual_seed reseeds those too
    and training's dropout masks and augmentation there must stay what the run's seed made them;
    and numpy's and Python's global generators, which a custom builder may draw from."""
    import random

    import torch

    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    saved = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if cuda else []):
            yield
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])


def _once_per_network(prepared, cfg, name: str, measure):
    """A measure of a network, taken once per prepared data and network config: build_context runs
    2-3 times a run, and each measure builds the network."""
    memo = vars(prepared).setdefault(name, {})
    key = (id(prepared.train), repr(cfg.model.model_dump()))
    if key not in memo:
        memo[key] = measure()
    return memo[key]


def probe_loss(out):
    """A loss for measuring where gradients go: the outputs weighed by fixed random signs. Its
    gradient with respect to the outputs is never zero, even where the outputs are (a squared
    output's is zero at a zero output, so a network whose outputs start at 0 would have passed
    nothing back to its head). A head initialised at zero still passes nothing further back."""
    import torch

    flat = out.float().reshape(len(out), -1) if out.dim() else out.float().reshape(1, -1)
    signs = torch.randint(0, 2, flat.shape, generator=torch.Generator().manual_seed(0)).float() * 2 - 1
    return (flat * signs.to(flat.device)).mean()


def _builder_keywords(cfg) -> dict:
    """The keyword parameters of a custom network's builder function (model.builder, already
    imported by building the network), by name; empty when it cannot be read."""
    import inspect

    module, _, name = cfg.model.builder.partition(":")
    try:
        fn = getattr(sys.modules.get(module), name, None)
        return dict(inspect.signature(fn).parameters) if fn is not None else {}
    except (TypeError, ValueError):
        return {}


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
    return _once_per_network(prepared, cfg, "_affine_network", lambda: _affine_network(cfg, spec, plan, x))


def shaken_copy(net):
    """A copy of `net` with every trainable weight moved by a tenth of its tensor's spread (0.1 where
    it has none): what its wiring does, apart from the values it starts at. A stack of linear layers
    stays affine whatever its weights, a step the network never reads stays unread; a gate that sat at
    zero opens. Frozen tensors stay as they are: training never moves them (a fixed 0/1 mask over the
    steps). A copy: a builder may hand back a module it keeps, which the run then trains. The moves
    come from a generator of their own, and a tensor with no spread (a gate at zero) moves by 0.1
    exactly, up or down: drawn from the process's random state, a healthy tide forecaster's zero gate
    moved by 0.1 x N(0, 1) came out affine in some processes and not in others, by what ran before
    it (session 38)."""
    import copy

    import torch

    net = copy.deepcopy(net)
    draws = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in (p for p in net.parameters() if p.requires_grad):
            spread = float(p.std()) if p.numel() > 1 else 0.0
            if spread > 0:
                move = torch.randn(p.shape, generator=draws) * (0.1 * spread)
            else:
                move = (torch.randint(0, 2, p.shape, generator=draws) * 2 - 1) * 0.1
            p.add_(move.to(device=p.device, dtype=p.dtype))
    return net


def _affine_gap(cfg, spec, plan: dict, rows, options: dict | None = None,
                shaken: bool = False) -> tuple[float, int] | None:
    import torch

    from ..models import build

    model_cfg = cfg.model if options is None else cfg.model.model_copy(update={"options": options})
    try:
        with _forked_rng():
            net = build(model_cfg, spec, plan["n_out"], seed=0)
        weights = sum(1 for p in net.parameters() if p.dim() >= 2)
        if shaken:
            net = shaken_copy(net)
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
    import torch

    rows = np.nan_to_num(np.asarray(x[:64], dtype=np.float64))
    rows = (rows - rows.mean(0)) / np.where(rows.std(0) > 0, rows.std(0), 1.0)
    rows = torch.as_tensor(rows, dtype=torch.float32)
    measured = _affine_gap(cfg, spec, plan, rows)
    if measured is None or measured[1] < 2:
        return None  # one weight layer: a linear model on purpose
    gap, weights = measured
    if gap < 1e-3:
        # Affine at init can be by design: residual blocks behind gates that start at zero (ReZero:
        # h + alpha * block(h)) open as they learn. Judged again with every weight moved a little: a
        # stack with no nonlinearity stays affine, a gated one no longer is (a print-strength ReZero
        # MLP: 9e-8 at init, r2 0.978 as it trains; nineteenth held-out set).
        after = _affine_gap(cfg, spec, plan, rows, shaken=True)
        if after is not None:
            gap = max(gap, after[0])
    option = False
    default = None
    if gap < 1e-3:
        default = _nonlinear_default(cfg, spec, plan, rows)
    param = _builder_keywords(cfg).get("activation")
    if param is not None:
        current = cfg.model.options.get("activation", param.default)
        if current in (None, "linear", "identity", "none") and gap < 1e-3:
            with_relu = _affine_gap(cfg, spec, plan, rows, {**cfg.model.options, "activation": "relu"})
            option = with_relu is not None and with_relu[0] >= 1e-2
    return {"gap": gap, "weight_layers": weights, "activation_option": option, "default_option": default}


def _nonlinear_default(cfg, spec, plan: dict, rows) -> dict | None:
    """A builder keyword the user set, back at the builder's default, with which the network (its
    weights moved a little, as above) is no longer affine: {keyword: default}, or None."""
    import inspect

    for key, param in _builder_keywords(cfg).items():
        if key == "activation" or key not in cfg.model.options or param.default is inspect.Parameter.empty:
            continue
        default = _plain(param.default)
        if default is _NOT_PLAIN or _plain(cfg.model.options[key]) == default:
            continue
        again = _affine_gap(cfg, spec, plan, rows, {**cfg.model.options, key: default}, shaken=True)
        if again is not None and again[0] >= 1e-3:   # rules.plan.AFFINE_GAP: no longer affine
            return {key: default}
    return None


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


# Batch sizes for the axis test: two, so a time axis that follows the batch size is no coincidence
# of one sequence length; each is skipped when the data has a dimension of that length.
AXIS_BATCHES = (5, 7, 11, 13, 17, 19)


def recurrent_axes(cfg, spec, plan: dict, prepared) -> dict | None:
    """For a custom network (model.type python) on 3-D inputs (N, T, F): its recurrent layers
    (nn.RNN, nn.LSTM, nn.GRU) whose time axis is the batch. PyTorch's recurrent layers read (T, N, F)
    unless built with batch_first=True, and trainwell hands a network (N, T, F): the shapes fit,
    nothing fails, and the recurrence runs across the sequences of a batch. Measured by the shape
    each recurrent layer receives on two batches of different sizes: a layer whose time axis has the
    batch's length both times, while its batch axis keeps one length, reads the batch as time.
    `batch_first_option`: the builder takes a `batch_first` keyword, and the network built with it
    flipped feeds every recurrent layer its batch on the batch axis."""
    x = getattr(prepared.train, "x", None)
    if cfg.model.type != "python" or x is None or getattr(x, "ndim", 0) != 3 or x.dtype.kind != "f":
        return None
    sizes = [n for n in AXIS_BATCHES if n not in x.shape[1:] and n <= len(x)][:2]
    if len(sizes) < 2:
        return None
    return _once_per_network(prepared, cfg, "_recurrent_axes", lambda: _recurrent_axes(cfg, spec, plan, x, sizes))


def _swapped_layers(cfg, spec, plan: dict, x, sizes, options: dict | None = None) -> list[str] | None:
    import torch

    from ..models import build

    model_cfg = cfg.model if options is None else cfg.model.model_copy(update={"options": options})
    seen: dict[str, list] = {}

    def hook(name):
        def record(module, args):
            if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 3:
                seen.setdefault(name, []).append((bool(module.batch_first), tuple(args[0].shape)))
        return record

    try:
        with _forked_rng():
            net = build(model_cfg, spec, plan["n_out"], seed=0)
        handles = [m.register_forward_pre_hook(hook(name)) for name, m in net.named_modules()
                   if isinstance(m, torch.nn.RNNBase)]
        if not handles:
            return None
        net.eval()
        with torch.no_grad(), _forked_rng():
            for n in sizes:
                net(torch.as_tensor(np.nan_to_num(np.asarray(x[:n])), dtype=torch.float32))
    except Exception:  # the training itself reports what the builder refuses
        return None
    swapped = []
    for name, calls in seen.items():
        if len(calls) != len(sizes):
            continue  # called on some batches only: no telling which axis follows the batch
        time_axis = [1 if first else 0 for first, _ in calls]
        lengths = [shape[t] for (_, shape), t in zip(calls, time_axis)]
        batch_lengths = {shape[1 - t] for (_, shape), t in zip(calls, time_axis)}
        if lengths == list(sizes) and len(batch_lengths) == 1 and not batch_lengths & set(sizes):
            swapped.append(name)
    return swapped


def _recurrent_axes(cfg, spec, plan: dict, x, sizes) -> dict | None:
    swapped = _swapped_layers(cfg, spec, plan, x, sizes)
    if not swapped:
        return None
    option = None
    param = _builder_keywords(cfg).get("batch_first")
    if param is not None and isinstance(cfg.model.options.get("batch_first", param.default), bool):
        flipped = not cfg.model.options.get("batch_first", param.default)
        if _swapped_layers(cfg, spec, plan, x, sizes, {**cfg.model.options, "batch_first": flipped}) == []:
            option = flipped
    return {"layers": swapped, "batch_first_option": option, "steps": int(x.shape[1]),
            "batch_sizes": list(sizes)}


def probability_outputs(cfg, spec, plan: dict, prepared) -> bool:
    """A custom classifier (model.type python) whose outputs, as initialised, are rows of
    probabilities (each at least 0, each row summing to 1 over two or more outputs): a network that
    ends in nn.Softmax. trainwell's cross-entropy applies its own softmax, so it reads those
    probabilities as scores, and the loss cannot go under log(e + K - 1) - 1 (0.905 for 5 classes),
    which a perfect one-hot output reaches. The class ranking survives (softmax keeps the order), so
    such a net can classify well with its loss stuck high. Measured on 64 standardized training rows,
    in eval mode."""
    x = getattr(prepared.train, "x", None)
    if cfg.model.type != "python" or plan.get("loss") != "cross_entropy" or (plan.get("n_out") or 0) < 2 \
            or x is None or len(x) < 8 or x.dtype.kind != "f":
        return False
    return _once_per_network(prepared, cfg, "_probability_outputs", lambda: _probability_outputs(cfg, spec, plan, x))


def _probability_outputs(cfg, spec, plan: dict, x) -> bool:
    import torch

    from ..models import build

    rows = np.nan_to_num(np.asarray(x[:64], dtype=np.float64))
    rows = (rows - rows.mean(0)) / np.where(rows.std(0) > 0, rows.std(0), 1.0)
    try:
        with _forked_rng():
            net = build(cfg.model, spec, plan["n_out"], seed=0)
        net.eval()
        with torch.no_grad(), _forked_rng():
            out = net(torch.as_tensor(rows, dtype=torch.float32)).float()
    except Exception:  # the training itself reports what the builder refuses
        return False
    if out.dim() != 2 or out.shape[1] < 2:
        return False
    return bool((out >= -1e-6).all() and torch.allclose(out.sum(1), torch.ones(len(out)), atol=1e-4))


def gradient_cut(cfg, spec, plan: dict, prepared) -> dict | None:
    """For a custom network (model.type python): layers that take part in the forward pass, with
    weights that ask for a gradient (requires_grad), yet get none from the output: their part runs
    under torch.no_grad(), or their output is .detach()ed, or their weights are used through .data.
    Such layers keep their initial weights for the whole run. Measured by one forward and backward
    pass on 32 training rows, in a forked random state; layers that are not called (defined but
    unused) and layers frozen with requires_grad=False are left out. `option`: a boolean keyword of
    the builder that, flipped, gives the same parameters every one of which then gets a gradient
    (so the fix is known to build and to work)."""
    x = getattr(prepared.train, "x", None)
    if cfg.model.type != "python" or x is None or len(x) < 2:
        return None
    return _once_per_network(prepared, cfg, "_gradient_cut", lambda: _gradient_cut(cfg, spec, plan, x))


def _cut_layers(cfg, spec, plan: dict, x, options: dict | None = None) -> tuple[list, list, set] | None:
    """(names of called layers whose trainable weights got no gradient, every parameter's name, the
    parameters that did get one)."""
    import torch

    from ..models import build
    from ..models.transfer import freeze

    model_cfg = cfg.model if options is None else cfg.model.model_copy(update={"options": options})
    called: set[str] = set()
    try:
        with _forked_rng():
            net = build(model_cfg, spec, plan["n_out"], seed=0)
        freeze(net, model_cfg.freeze)   # layers the config froze on purpose ask for no gradient
        owners = {name: m for name, m in net.named_modules() if any(True for _ in m.parameters(recurse=False))}
        for name, m in owners.items():
            m.register_forward_hook(lambda mod, args, out, name=name: called.add(name))
        rows = np.asarray(x[:32])
        batch = torch.as_tensor(rows if rows.dtype.kind in "iu" else np.nan_to_num(rows.astype(np.float32)))
        net.train()   # as training runs it: a head used only in training takes part (dropout draws are forked)
        with _forked_rng():
            out = net(batch)
            if not isinstance(out, torch.Tensor) or not out.requires_grad:
                return None  # nothing to trace back (the training reports an output that cannot learn)
            probe_loss(out).backward()
    except Exception:  # the training itself reports what the builder refuses
        return None
    cut = [name for name in sorted(called) if any(p.requires_grad and p.grad is None
                                                   for p in owners[name].parameters(recurse=False))]
    learning = {name for name, p in net.named_parameters() if p.requires_grad and p.grad is not None}
    return cut, [name for name, _ in net.named_parameters()], learning


# Builder keywords the option search may flip: what turns a gradient off or on.
# Activation checkpointing (use_reentrant=True) cuts the gradient of a segment whose inputs ask for
# none: a prototype classifier's embedding kept its random start, 0.600/0.523 against 0.908/0.918
# (twenty-ninth held-out set).
GRADIENT_SWITCH = re.compile(r"grad|detach|freez|frozen|train|probe|checkpoint", re.IGNORECASE)


def _gradient_cut(cfg, spec, plan: dict, x) -> dict | None:
    measured = _cut_layers(cfg, spec, plan, x)
    if not measured or not measured[0]:
        return None
    cut, names, _ = measured
    option = None
    params = _builder_keywords(cfg)
    cut_params = [n for n in names if any(n.startswith(layer + ".") for layer in cut)]
    for key in params:
        current = cfg.model.options.get(key)
        # Only a switch the user set, named for what it does to the gradient: another keyword may
        # do anything when flipped (pretrained=True downloads weights).
        if not isinstance(current, bool) or not GRADIENT_SWITCH.search(key):
            continue
        flipped = _cut_layers(cfg, spec, plan, x, {**cfg.model.options, key: not current})
        # The same parameters, and the ones cut before now learning (not frozen instead).
        if flipped is not None and not flipped[0] and flipped[1] == names and set(cut_params) <= flipped[2]:
            option = {key: not current}
            break
    return {"layers": cut, "option": option}


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


# Networks above this many parameters are not copied for the readings after two steps: a copy of
# a large pretrained backbone doubles its memory for a check meant for small hand-written nets.
TWIN_LIMIT = 20_000_000


# Layers whose weights multiply their input: what unscaled inputs would make lopsided.
def _weight_layers():
    from torch import nn

    return (nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.RNNBase, nn.RNNCellBase,
            nn.MultiheadAttention)


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


def cnn_collapse(cfg, spec, plan: dict) -> dict | None:
    """A built-in CNN one of whose blocks after the first is handed a 1x1 map: the strides and pools
    before it shrank the image to a single position, so from there on each kernel reads one pixel's
    channels and nothing around it. With the fixes (every stride 1; else no pooling from the block
    before the collapse on) that build without the collapse."""
    model = cfg.model
    sizes = _block_inputs(model, spec, plan)
    if not sizes or sizes[0] == [1, 1]:
        return None
    at = next((i for i, s in enumerate(sizes) if i > 0 and s == [1, 1]), None)
    if at is None:
        return None
    blocks = [b.model_dump(mode="json") for b in model.blocks]
    candidates = []
    if any(b.get("stride", 1) > 1 for b in blocks):
        candidates.append(([{**b, "stride": 1} for b in blocks], "every stride 1: only the pools shrink the map"))
    candidates.append(([{**b, "pool": "none"} if i >= at - 1 else b for i, b in enumerate(blocks)],
                       "no pooling from the block before the collapse on"))
    fixes = []
    stored = _stored_size(cfg) if cfg.data.image.size else None
    if stored and (stored[0] > sizes[0][0] or stored[1] > sizes[0][1]):
        import copy

        full = copy.copy(spec)
        full.input_shape = [int(spec.input_shape[0]), *stored]
        again = _block_inputs(model, full, plan)
        if again and [1, 1] not in again[1:]:
            fixes.append({"overrides": {"data.image.size": None}, "architecture": False,
                          "why": f"the images at their own {stored[0]}x{stored[1]}, which the blocks keep above 1x1"})
    for new, why in candidates:
        block_type = type(model.blocks[0])
        again = _block_inputs(model.model_copy(update={"blocks": [block_type.model_validate(b) for b in new]}),
                              spec, plan)
        if again and [1, 1] not in again[1:]:
            fixes.append({"overrides": {"model.blocks": new}, "architecture": True, "why": why})
    return {"block": at, "sizes": sizes, "image": sizes[0], "fixes": fixes}


def _stored_size(cfg) -> list[int] | None:
    """The height and width of the images as data.source stores them, before data.image.size."""
    from ..data.images import native_sample

    sample = native_sample(cfg.data, per_class=1, max_rows=16)
    return [int(v) for v in sample[0].shape[2:]] if sample is not None else None


def _block_inputs(model, spec, plan: dict) -> list[list[int]] | None:
    """The height and width of the map each conv block of a built-in CNN (its `model` section) is handed."""
    import torch

    from ..models import build

    try:
        with _forked_rng():
            net = build(model, spec, plan["n_out"], seed=0)
    except Exception:
        return None
    blocks = getattr(net, "blocks", None)
    shape = getattr(spec, "input_shape", None)
    if not isinstance(blocks, torch.nn.Sequential) or not shape:
        return None
    probe = torch.zeros(1, *[int(v) for v in shape])
    sizes = []
    net.eval()
    with torch.no_grad(), _forked_rng():
        for block in blocks:
            sizes.append([int(v) for v in probe.shape[-2:]])
            probe = block(probe)
    return sizes
