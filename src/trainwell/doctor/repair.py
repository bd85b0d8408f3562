"""Applying a fix to the running model: the overrides that can change without starting over.

Learning rate, gradient clipping, weight decay, dropout rate, the schedule, the optimizer and
class weights all change in place after a rollback; everything else (data preparation, the
network's shape) needs a new run, and the doctor says so instead of pretending.
"""

from __future__ import annotations

LIVE_KEYS = {"optimizer.lr", "optimizer.weight_decay", "optimizer.name", "regularization.clip_grad_norm",
             "regularization.clip_grad_value", "model.dropout", "schedule.name", "data.imbalance",
             "training.early_stopping.enabled", "training.early_stopping.restore_best"}


def make_fixer(cfg_holder: dict, rebuild_loss, log):
    """cfg_holder["cfg"] is the run's config; it is replaced by the repaired one as fixes land."""

    def apply(trainer, overrides: dict) -> bool:
        from ..config import load_config
        from ..training.optim import Schedule, build_optimizer

        if not set(overrides) <= LIVE_KEYS:
            log(f"doctor: {sorted(set(overrides) - LIVE_KEYS)} cannot change in a running model; "
                f"rerun with --set to apply them")
            return False
        if overrides.get("data.imbalance") not in (None, "class_weights"):
            return False
        old = cfg_holder["cfg"]
        cfg = load_config(old, overrides)
        cfg_holder["cfg"] = cfg
        if "optimizer.name" in overrides:
            trainer.optimizer = build_optimizer(cfg.optimizer, trainer.model)
            trainer._base_lrs = [g["lr"] for g in trainer.optimizer.param_groups]
        if "optimizer.lr" in overrides:
            factor = cfg.optimizer.lr / old.optimizer.lr
            trainer._base_lrs = [lr * factor for lr in trainer._base_lrs]
            for g, base in zip(trainer.optimizer.param_groups, trainer._base_lrs):
                g["lr"] = base
            trainer.schedule.base_lr = trainer._base_lrs[0]
        if "optimizer.weight_decay" in overrides:
            for g in trainer.optimizer.param_groups:
                g["weight_decay"] = cfg.optimizer.weight_decay
        if "regularization.clip_grad_norm" in overrides:
            trainer.clip_grad_norm = cfg.regularization.clip_grad_norm
        if "regularization.clip_grad_value" in overrides:
            trainer.clip_grad_value = cfg.regularization.clip_grad_value
        if "model.dropout" in overrides:
            import torch

            layers = [m for m in trainer.model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
            if not layers:
                return False
            for m in layers:
                m.p = cfg.model.dropout
        if "schedule.name" in overrides:
            sched = Schedule(cfg.schedule)
            sched.bind(trainer.batches_per_epoch, trainer.epochs, trainer._base_lrs[0])
            trainer.schedule = sched
        if "data.imbalance" in overrides:
            trainer.loss_fn = rebuild_loss(cfg)
        return True

    return apply
