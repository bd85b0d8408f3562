"""The learning-rate range test (Smith 2015; fastai `lr_find`, Lightning `tuner/lr_finder.py`).

Train a fresh copy of the configured model for a few dozen mini-batches while the learning rate
grows exponentially from tiny to huge; record the loss; stop once it blows up. The loss first
sits still (lr too small to move the weights), then falls, then turns and explodes. A good
learning rate lies on the falling part: `suggest` picks the steepest point of that fall.

Written by hand rather than taken from a library: the sweep must batch exactly as our loop does
(by index from device tensors, the same loss, optimizer, clipping and L1), and it must run on a
copy built from the config, never on a live trainer that is saved and restored around it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UserError

# suggest(): the loss must fall by at least this share of its starting value to count as a fall.
MIN_FALL = 0.05
# suggest(): fewer usable points than this is no curve (the sweep diverged almost at once).
MIN_POINTS = 8
# suggest(): share of the first points skipped, where the bias-corrected average is still settling.
SKIP_START = 0.10
# suggest(): the slope at a point is taken over this share of the points on each side.
SLOPE_HALF_WINDOW = 0.03


@dataclass
class LRFinderResult:
    lrs: list[float]                  # the lr of each step, exponentially spaced
    losses: list[float]               # the smoothed training loss at each step
    raw_losses: list[float]           # the mini-batch loss at each step, as measured
    suggestion: float | None          # the suggested lr, or None when the curve gives none
    reason: str                       # why this lr, or why none (plain words, with the numbers)
    min_lr: float | None              # the lr where the smoothed loss was lowest
    steps_run: int                    # mini-batches actually run (< steps when it stopped early)
    stopped_early: bool               # the loss diverged (or went non-finite) before end_lr
    png: str | None = None            # the plot, when one was asked for
    settings: dict = field(default_factory=dict)  # start_lr, end_lr, steps, smoothing, diverge_factor

    def to_dict(self) -> dict:
        """Plain JSON values: a non-finite loss becomes null."""
        def clean(v):
            return v if not isinstance(v, float) or math.isfinite(v) else None

        d = asdict(self)
        for key in ("lrs", "losses", "raw_losses"):
            d[key] = [clean(v) for v in d[key]]
        return {k: clean(v) if isinstance(v, float) else v for k, v in d.items()}


# ----------------------------------------------------------------------------- the rule
def suggest(lrs, losses) -> tuple[float | None, str]:
    """The lr at the steepest descent of the (smoothed) loss against log10(lr), or None with why.

    Only the part of the curve before its minimum counts (past it the lr is already too high),
    and the first ~10% of points are skipped (the average there still mostly reflects the first
    batches). The lr at the minimum / 10 (fastai's older rule) is quoted as a second opinion.
    """
    import numpy as np

    lrs = np.asarray(lrs, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if len(lrs) != len(losses):
        raise ValueError(f"suggest: {len(lrs)} lrs but {len(losses)} losses")
    if len(losses) == 0:
        return None, "no clear suggestion: the sweep recorded no loss"
    bad = np.flatnonzero(~np.isfinite(losses))
    if len(bad) and bad[0] == 0:
        return None, (f"no clear suggestion: the loss was non-finite from the first step (lr {lrs[0]:.3g}); "
                      f"check the data for NaN or huge values, then try again")
    n = int(bad[0]) if len(bad) else len(losses)
    lrs, losses = lrs[:n], losses[:n]
    if n < MIN_POINTS:
        return None, (f"no clear suggestion: the loss diverged within {n} steps (by lr {lrs[-1]:.3g}); "
                      f"lower start_lr")
    i_min = int(np.argmin(losses))
    first, lowest = float(losses[0]), float(losses[i_min])
    fall = (first - lowest) / max(abs(first), 1e-12)
    if fall < MIN_FALL:
        return None, (f"no clear suggestion: the loss never fell by more than {fall:.1%} "
                      f"(from {first:.4g} to at best {lowest:.4g}) over lr {lrs[0]:.3g}..{lrs[-1]:.3g}; "
                      f"the model may not be learning at all (frozen or zero weights, labels unrelated to "
                      f"the inputs), or start_lr is already too high")
    skip = max(1, int(round(SKIP_START * n)))
    if i_min - skip < 2:
        return None, (f"no clear suggestion: the loss was lowest at lr {lrs[i_min]:.3g}, right at the start "
                      f"of the sweep, and only rose after; lower start_lr")
    x = np.log10(lrs[skip:i_min + 1])
    seg = losses[skip:i_min + 1]
    # The slope over a window of points on each side, not between neighbours: on a fine lr grid
    # the leftover wiggle of a flat stretch would otherwise look steeper than the real fall.
    h = max(1, int(round(SLOPE_HALF_WINDOW * n)))
    lo = np.maximum(np.arange(len(seg)) - h, 0)
    hi = np.minimum(np.arange(len(seg)) + h, len(seg) - 1)
    slope = (seg[hi] - seg[lo]) / (x[hi] - x[lo])
    j = int(np.argmin(slope))
    if not slope[j] < 0:
        return None, "no clear suggestion: the smoothed loss never fell after the first steps"
    lr = float(lrs[skip + j])
    min_lr = float(lrs[i_min])
    reason = (f"steepest fall of the smoothed loss at lr {lr:.3g} ({slope[j]:.3g} per decade of lr); "
              f"the loss was lowest ({lowest:.4g}) at lr {min_lr:.3g}, so min/10 = {min_lr / 10:.3g} "
              f"is a second opinion")
    if i_min == n - 1:
        reason += "; the loss was still falling at the end of the sweep (raise end_lr to see where it turns)"
    return lr, reason


# ----------------------------------------------------------------------------- the sweep
def _check_args(start_lr, end_lr, steps, smoothing, diverge_factor) -> None:
    problems = []
    if not (start_lr > 0 and math.isfinite(start_lr)):
        problems.append(f"start_lr must be a positive number, got {start_lr}")
    if not (end_lr > start_lr and math.isfinite(end_lr)):
        problems.append(f"end_lr must be a number above start_lr ({start_lr}), got {end_lr}")
    if not (isinstance(steps, int) and steps >= 2 * MIN_POINTS):
        problems.append(f"steps must be an integer >= {2 * MIN_POINTS}, got {steps}")
    if not 0 < smoothing < 1:
        problems.append(f"smoothing must be between 0 and 1 (exclusive), got {smoothing}")
    if not diverge_factor > 1:
        problems.append(f"diverge_factor must be above 1, got {diverge_factor}")
    if problems:
        raise UserError("find-lr: " + "; ".join(problems))


def _as_config(cfg):
    """A Config, or a YAML path / dict loaded as train() loads it (data paths beside the file)."""
    from ..config import Config, load_config

    if isinstance(cfg, Config):
        return cfg
    from ..api import _resolve_paths

    loaded = load_config(cfg)
    return _resolve_paths(loaded, Path(cfg) if isinstance(cfg, (str, Path)) else None)


def find_lr(cfg, *, start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100, smoothing: float = 0.05,
            diverge_factor: float = 4.0, out_png: str | Path | None = None, device=None) -> LRFinderResult:
    """Sweep the lr exponentially from start_lr to end_lr over `steps` mini-batches on a fresh copy of
    the configured model; smooth the loss; stop once it exceeds diverge_factor x its best.

    cfg: a Config (or a YAML path or dict). It is never changed. The same config gives the same curve.
    smoothing: the weight of each new loss in the moving average (beta = 1 - smoothing).
    """
    import torch

    from .. import data as data_mod
    from ..api import _plan, _seed_all, _to_tensors, resolve_device
    from ..models import build, has_batch_norm
    from ..models.transfer import freeze, load_pretrained
    from ..training.losses import build as build_loss
    from ..training.optim import build_optimizer

    _check_args(start_lr, end_lr, steps, smoothing, diverge_factor)
    cfg = _as_config(cfg)
    if cfg.model.type == "gan":
        raise UserError("find-lr: not available for GAN runs")
    if not isinstance(cfg.optimizer.lr, (int, float)):
        # optimizer.lr: auto is what this sweep decides; any number serves to build the optimizer,
        # since the sweep sets the lr before every step. A copy: the caller's cfg stays as it was.
        cfg = cfg.model_copy(update={"optimizer": cfg.optimizer.model_copy(update={"lr": start_lr})})
    device = resolve_device(cfg.training.device) if device is None else torch.device(device)

    # The caller's random state is left as it was: the sweep seeds its own, as train() does.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        _seed_all(cfg.seed)
        prepared = data_mod.prepare(cfg.data, cfg.seed, cfg.model.type)
        spec = prepared.spec
        plan = _plan(cfg, spec)
        train_t = _to_tensors(prepared.train, device)
        n = len(train_t)
        bs = n if cfg.training.batch_size == "full" else max(1, min(cfg.training.batch_size, n))

        model = build(cfg.model, spec, plan["n_out"], seed=cfg.seed)
        if has_batch_norm(model) and bs < 2:
            raise UserError("training.batch_size: batch norm needs batches of at least 2 rows; "
                            "use batch_size >= 2 or turn batch norm off in the model")
        if cfg.model.init_from:
            load_pretrained(model, cfg.model)
        freeze(model, cfg.model.freeze)
        model = model.to(device)
        loss_fn = build_loss(cfg.loss, spec.task, len(spec.classes) if spec.classes else None,
                             prepared.class_weights, device, classes=spec.classes)
        optimizer = build_optimizer(cfg.optimizer, model)
        swept = _swept_groups(cfg, optimizer)
        generator = torch.Generator().manual_seed(cfg.seed + 1)
        reg = cfg.regularization
        l1_params = [p for _, p in model.named_parameters() if p.dim() > 1] if reg.l1 else []

        ratio = (end_lr / start_lr) ** (1 / (steps - 1))
        beta = 1.0 - smoothing
        lrs, raw, smooth = [], [], []
        avg, best, stopped = 0.0, math.inf, False
        perm, cursor = None, n
        model.train()
        for i in range(steps):
            if cursor >= n:  # cycle: a fresh shuffle each time the training rows are used up
                perm = (torch.randperm(n, generator=generator) if cfg.training.shuffle
                        else torch.arange(n)).to(device)
                cursor = 0
            # A remainder of one row joins this batch (batch norm cannot train on one row).
            stop = n if n - (cursor + bs) < 2 else cursor + bs
            idx = perm[cursor:stop]
            cursor = stop
            lr = start_lr * ratio ** i
            for g in swept:
                g["lr"] = lr
            out = model(train_t.x[idx])
            loss = loss_fn(out, train_t.y[idx])
            if reg.l1:
                loss = loss + reg.l1 * sum(w.abs().sum() for w in l1_params)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if reg.clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), reg.clip_grad_norm)
            if reg.clip_grad_value:
                torch.nn.utils.clip_grad_value_(model.parameters(), reg.clip_grad_value)
            optimizer.step()
            value = loss.item()  # a sync point per step; the sweep needs the value to decide to stop
            avg = beta * avg + (1 - beta) * value
            smoothed = avg / (1 - beta ** (i + 1))  # bias correction: the average starts at 0
            lrs.append(lr)
            raw.append(value)
            smooth.append(smoothed)
            if not math.isfinite(smoothed) or smoothed > diverge_factor * best:
                stopped = True
                break
            best = min(best, smoothed)

    suggestion, reason = suggest(lrs, smooth)
    finite = [(v, lr) for v, lr in zip(smooth, lrs) if math.isfinite(v)]
    min_lr = min(finite)[1] if finite else None
    if stopped:
        why = "non-finite" if not math.isfinite(smooth[-1]) else f"above {diverge_factor:g}x its best ({best:.4g})"
        reason += f"; the sweep stopped at lr {lrs[-1]:.3g} after {len(lrs)} steps, the loss {why}"
    result = LRFinderResult(
        lrs=lrs, losses=smooth, raw_losses=raw, suggestion=suggestion, reason=reason, min_lr=min_lr,
        steps_run=len(lrs), stopped_early=stopped,
        settings={"start_lr": start_lr, "end_lr": end_lr, "steps": steps, "smoothing": smoothing,
                  "diverge_factor": diverge_factor, "batch_size": bs, "optimizer": cfg.optimizer.name})
    if out_png is not None:
        result.png = str(plot(result, out_png))
    return result


def _swept_groups(cfg, optimizer) -> list[dict]:
    """The param groups that optimizer.lr sets: all but those given their own lr in
    optimizer.param_groups, which keep it (that is how the found lr will be used). param_groups()
    puts the rest last; if every parameter sits in a named group, all of them are swept."""
    groups = optimizer.param_groups
    named = len(cfg.optimizer.param_groups)
    return groups[named:] if len(groups) > named else list(groups)


def lr_auto(cfg) -> tuple[float, str]:
    """For `optimizer.lr: auto`: the suggested lr and why, or a UserError that says to set one."""
    from .lint import ADAPTIVE, LR_RANGE

    result = find_lr(cfg)
    if result.suggestion is None:
        raise UserError(f"optimizer.lr: auto could not find a learning rate: {_for_config(result.reason)}; "
                        f"set optimizer.lr to a number")
    # The sweep's short, fast-rising rates can point past the optimizer's usual range (Adam at 0.026
    # on digits, which the lint then called a rate to expect divergence from; 0.948 against 0.97 at
    # 1e-3): the top of the range instead, and the record says so.
    top = LR_RANGE.get(cfg.optimizer.name, ADAPTIVE)[1]
    if result.suggestion > top:
        return top, (f"{result.reason}; the sweep suggested {result.suggestion:.3g}, above the usual range for "
                     f"{cfg.optimizer.name} (up to {top:g}), so the top of that range")
    return result.suggestion, result.reason


def _for_config(reason: str) -> str:
    """The sweep's advice as a config user can follow it: auto sweeps from a fixed start, so "lower
    start_lr" means running the sweep by hand."""
    return (reason.replace("lower start_lr", "to see the curve from lower rates, run trainwell find-lr CONFIG "
                                             "--start-lr 1e-9")
                  .replace("start_lr is already too high", "the sweep's first rate (1e-7) is already too high"))


# ----------------------------------------------------------------------------- the plot
def plot(result: LRFinderResult, path: str | Path) -> Path:
    """Smoothed loss against lr (log axis), the raw loss faintly behind, the suggestion marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        raw = [v if math.isfinite(v) else float("nan") for v in result.raw_losses]
        smooth = [v if math.isfinite(v) else float("nan") for v in result.losses]
        ax.plot(result.lrs, raw, color="0.75", linewidth=0.8, label="mini-batch loss")
        ax.plot(result.lrs, smooth, color="C0", linewidth=2, label="smoothed loss")
        ax.set_xscale("log")
        # Keep the divergence from squashing the useful part of the curve.
        finite = [v for v in smooth if math.isfinite(v)]
        if finite:
            lo = min(finite + [v for v in raw if math.isfinite(v)])
            hi = max(finite) if finite[0] <= 0 else min(max(finite), 1.5 * finite[0])
            pad = 0.05 * ((hi - lo) or abs(hi) or 1.0)
            ax.set_ylim(lo - pad, max(hi, lo) + 3 * pad)
        if result.suggestion is not None:
            ax.axvline(result.suggestion, color="C3", linestyle="--",
                       label=f"suggested lr {result.suggestion:.2g}")
        if result.min_lr is not None:
            ax.axvline(result.min_lr / 10, color="C2", linestyle=":",
                       label=f"lowest-loss lr / 10 = {result.min_lr / 10:.2g}")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("smoothed training loss")
        title = "LR range test" + ("" if result.suggestion is not None else ": no clear suggestion")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path

