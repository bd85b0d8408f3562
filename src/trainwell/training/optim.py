"""Optimizers (small factories over torch.optim) and learning-rate schedules.

Schedules are pure functions of the step count (fastai's idea), so resuming needs only the step;
reduce_on_plateau is the one schedule with memory, and it saves and restores it.
"""

from __future__ import annotations

import math


def param_groups(cfg, model) -> list[dict]:
    """Trainable parameters, split by optimizer.param_groups prefixes (first match wins)."""
    from ..errors import UserError

    groups = [{"params": [], "lr": g.lr, "prefix": g.prefix} for g in cfg.param_groups]
    rest = {"params": []}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        for g in groups:
            if any(name.startswith(prefix) for prefix in g["prefix"]):
                g["params"].append(p)
                break
        else:
            rest["params"].append(p)
    empty = [g["prefix"] for g in groups if not g["params"]]
    if empty:
        tops = sorted({n.split(".")[0] for n, _ in model.named_parameters()})
        raise UserError(f"optimizer.param_groups: {empty} match no trainable parameter; names start with {tops}")
    out = [{"params": g["params"], "lr": g["lr"]} for g in groups]
    if rest["params"]:
        out.append(rest)
    if not out:
        raise UserError("model.freeze: every parameter is frozen; nothing would train")
    return out


def build_optimizer(cfg, params):
    """params: a model (its trainable parameters, grouped by optimizer.param_groups) or an iterable."""
    import torch

    if isinstance(params, torch.nn.Module):
        params = param_groups(cfg, params)
    o = torch.optim
    common = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    factories = {
        "sgd": lambda: o.SGD(params, momentum=cfg.momentum, nesterov=cfg.nesterov, **common),
        "adam": lambda: o.Adam(params, betas=cfg.betas, eps=cfg.eps, **common),
        "adamw": lambda: o.AdamW(params, betas=cfg.betas, eps=cfg.eps, **common),
        "rmsprop": lambda: o.RMSprop(params, momentum=cfg.momentum, eps=cfg.eps, **common),
        "adagrad": lambda: o.Adagrad(params, eps=cfg.eps, **common),
        "adamax": lambda: o.Adamax(params, betas=cfg.betas, eps=cfg.eps, **common),
        "nadam": lambda: o.NAdam(params, betas=cfg.betas, eps=cfg.eps, **common),
        "radam": lambda: o.RAdam(params, betas=cfg.betas, eps=cfg.eps, **common),
    }
    return factories[cfg.name]()


class Schedule:
    """lr multiplier as a function of the global step; warmup first, then the named schedule."""

    def __init__(self, cfg, steps_per_epoch: int = 1, epochs: int = 1, base_lr: float = 0.0):
        self.cfg = cfg
        # The global step this schedule starts from: 0, or where the doctor swapped it in mid-run
        # (the new schedule spans the epochs left, as it would span a run started with it).
        self.start = 0
        self.plateau_factor = 1.0
        self.best = math.inf
        self.bad_epochs = 0
        self.bind(steps_per_epoch, epochs, base_lr)

    def bind(self, steps_per_epoch: int, epochs: int, base_lr: float) -> None:
        """The loop knows the batch count; it binds the schedule to it before the first step."""
        self.spe = steps_per_epoch
        self.run_steps = steps_per_epoch * epochs
        self.base_lr = base_lr
        self._span()

    def _span(self) -> None:
        """The steps this schedule spans from its start offset, and its warmup: plain attributes,
        as factor() reads them every batch; set again when a resumed run loads its offset."""
        self.total = max(self.run_steps - self.start, 1)
        self.warmup = min(int(round(self.cfg.warmup_epochs * self.spe)), self.total)

    @property
    def is_constant(self) -> bool:
        return self.cfg.name == "constant" and self.warmup == 0

    def factor(self, step: int) -> float:
        step = max(step - self.start, 0)
        if step < self.warmup:
            return (step + 1) / self.warmup
        s = step - self.warmup
        horizon = max(self.total - self.warmup, 1)
        c = self.cfg
        name = c.name
        if name == "constant":
            return 1.0
        if name == "reduce_on_plateau":
            return self.plateau_factor
        epoch = s // self.spe
        if name == "step":
            return c.gamma ** (epoch // c.step_size)
        if name == "multistep":
            return c.gamma ** sum(epoch >= m for m in c.milestones)
        if name == "exponential":
            return c.gamma ** epoch
        p = min(s / horizon, 1.0)
        if name == "cosine":
            floor = c.min_lr / self.base_lr if self.base_lr else 0.0
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p))
        if name == "one_cycle":
            lo = 1 / c.div_factor
            if p < c.pct_start:
                return lo + (1 - lo) * 0.5 * (1 - math.cos(math.pi * p / c.pct_start))
            q = (p - c.pct_start) / (1 - c.pct_start)
            end = lo / 1e4
            return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * q))
        raise ValueError(name)

    def on_epoch_end(self, value: float | None) -> None:
        """reduce_on_plateau: cut the lr after `patience` epochs without improvement of val loss."""
        if self.cfg.name != "reduce_on_plateau" or value is None or not math.isfinite(value):
            return
        if value < self.best * (1 - 1e-4):
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.cfg.patience:
                self.plateau_factor *= self.cfg.factor
                self.bad_epochs = 0

    def state_dict(self) -> dict:
        return {"plateau_factor": self.plateau_factor, "best": self.best if math.isfinite(self.best) else None,
                "bad_epochs": self.bad_epochs, "start": self.start}

    def load_state_dict(self, s: dict) -> None:
        self.plateau_factor = s["plateau_factor"]
        self.best = math.inf if s["best"] is None else s["best"]
        self.bad_epochs = s["bad_epochs"]
        self.start = s.get("start", 0)  # checkpoints from before the doctor could swap schedules
        self._span()
