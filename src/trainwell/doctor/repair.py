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
    """cfg_holder["cfg"] is the run's config; it is replaced by the repaired one as fixes land.

    A rollback restores the optimizer as it was (its learning rates and weight decay too), so
    every fix applied so far is applied again after each rollback, the learning rate always
    relative to where the run started.
    """
    initial_cfg = cfg_holder["cfg"]
    memory = {"base": None, "applied": {}}

    def apply(trainer, overrides: dict) -> bool:
        from ..config import load_config
        from ..training.optim import Schedule, build_optimizer

        if not set(overrides) <= LIVE_KEYS:
            log(f"doctor: {sorted(set(overrides) - LIVE_KEYS)} cannot change in a running model; "
                f"rerun with --set to apply them")
            return False
        if overrides.get("data.imbalance") not in (None, "class_weights"):
            return False
        if "model.dropout" in overrides and not _dropout_layers(trainer.model):
            return False
        if memory["base"] is None:
            memory["base"] = list(trainer._base_lrs)
        applied = {**memory["applied"], **overrides}
        cfg = load_config(initial_cfg, applied)
        if "optimizer.name" in applied:
            trainer.optimizer = build_optimizer(cfg.optimizer, trainer.model)
            memory["base"] = [g["lr"] for g in trainer.optimizer.param_groups]
            factor = 1.0
        else:
            factor = cfg.optimizer.lr / initial_cfg.optimizer.lr
        trainer._base_lrs = [b * factor for b in memory["base"]]
        for g, base in zip(trainer.optimizer.param_groups, trainer._base_lrs):
            g["lr"] = base
            g["weight_decay"] = cfg.optimizer.weight_decay
        trainer.schedule.base_lr = trainer._base_lrs[0]
        trainer.clip_grad_norm = cfg.regularization.clip_grad_norm
        trainer.clip_grad_value = cfg.regularization.clip_grad_value
        for m in _dropout_layers(trainer.model):
            m.p = cfg.model.dropout
        if "schedule.name" in applied:
            sched = Schedule(cfg.schedule)
            sched.bind(trainer.batches_per_epoch, trainer.epochs, trainer._base_lrs[0])
            trainer.schedule = sched
        if "data.imbalance" in applied:
            trainer.loss_fn = rebuild_loss(cfg)
        memory["applied"] = applied
        cfg_holder["cfg"] = cfg
        return True

    return apply


def _dropout_layers(model) -> list:
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
