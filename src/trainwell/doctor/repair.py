"""Applying a fix to the running model: the overrides that can change without starting over.

Learning rate, momentum, eps, gradient clipping, weight decay, L1, dropout rate, the schedule and
its settings, the optimizer, class weights, Huber's delta, label smoothing and the augmentation all
change in place after a rollback. Fixes to the network itself (activation, init, batch norm,
width, a recurrent net's cell, hidden size and direction) rebuild it inside the same run when
`doctor.allow_architecture_changes` is on: the run keeps its position, history and epoch budget,
and the new network carries over the old weights wherever they still fit and the fix does not
replace them (an activation swap keeps every weight; a new init, width or cell starts those layers
afresh, since the old values are the fault).
Data preparation cannot change in a running model: the doctor says so.
"""

from __future__ import annotations

from ..errors import UserError

LIVE_KEYS = {"optimizer.lr", "optimizer.weight_decay", "optimizer.name", "optimizer.momentum",
             "optimizer.eps", "regularization.l1", "regularization.clip_grad_norm", "regularization.clip_grad_value",
             "model.dropout", "schedule.name", "schedule.factor", "schedule.patience", "schedule.gamma",
             "schedule.step_size", "schedule.warmup_epochs", "schedule.milestones", "data.imbalance",
             "loss.huber_delta", "loss.label_smoothing", "data.augment.rotation", "data.augment.translate", "data.augment.noise",
             "data.augment.hflip", "data.augment.vflip",
             "training.early_stopping.enabled", "training.early_stopping.restore_best",
             "training.early_stopping.patience"}
# A learning rate raised this many times over also clears the optimizer's running averages.
RESET_RAISE = 10
# Network changes a rebuild can make (with doctor.allow_architecture_changes).
ARCH_KEYS = {"model.activation", "model.init.weight", "model.init.bias", "model.batch_norm", "model.hidden",
             "model.dropout", "model.cell", "model.hidden_size", "model.d_model", "model.ff",
             "model.positional", "model.blocks", "model.bidirectional"}
# Fixes whose new layers start afresh: the old values are the fault, or mean nothing to the new cell.
FRESH_KEYS = ("model.init", "model.hidden", "model.cell", "model.d_model", "model.blocks")


def can_apply(overrides: dict, architecture: bool) -> bool:
    # A custom network's builder keywords (model.options.*) rebuild it like any architecture fix.
    keys = {k for k in overrides if not (architecture and k.startswith("model.options."))}
    return keys <= (LIVE_KEYS | ARCH_KEYS if architecture else LIVE_KEYS)


def make_fixer(cfg_holder: dict, rebuild_loss, log, rebuild_model=None, rebuild_augment=None):
    """cfg_holder["cfg"] is the run's config; it is replaced by the repaired one as fixes land.

    rebuild_model(cfg) -> a new network on the run's device, for architecture fixes (None: none).
    rebuild_augment(cfg) -> the training batches' augmentation (None: augmentation cannot change).

    A rollback restores the optimizer as it was (its learning rates and weight decay too), so
    every fix applied so far is applied again after each rollback, the learning rate always
    relative to the one the current optimizer was built with.
    """
    initial_cfg = cfg_holder["cfg"]
    memory = {"base": None, "base_lr": initial_cfg.optimizer.lr, "applied": {}}

    def apply(trainer, overrides: dict) -> bool:
        from ..config import load_config
        from ..training.optim import Schedule, build_optimizer

        rebuild = _needs_rebuild(overrides, trainer.model)
        if not can_apply(overrides, rebuild_model is not None) or (rebuild and rebuild_model is None):
            log(f"doctor: {sorted(set(overrides) - LIVE_KEYS)} cannot change in a running model; "
                f"rerun with --set to apply them")
            return False
        if overrides.get("data.imbalance") not in (None, "class_weights"):
            return False
        if any(k.startswith("data.augment.") for k in overrides) and rebuild_augment is None:
            return False
        if memory["base"] is None:
            memory["base"] = list(trainer._base_lrs)
        applied = {**memory["applied"], **overrides}
        try:
            cfg = load_config(initial_cfg, applied)
        except UserError as exc:  # a fix this model type has no key for (e.g. activation on an RNN)
            log(f"doctor: {overrides} does not fit this model: {str(exc).splitlines()[0]}")
            return False
        if rebuild:
            old = trainer.model
            model = rebuild_model(cfg)
            kept = _carry_weights(old, model, overrides)
            trainer.replace_model(model, build_optimizer(cfg.optimizer, model))
            memory["base"], memory["base_lr"] = list(trainer._base_lrs), cfg.optimizer.lr
            log(f"doctor: rebuilt the network with {_only_model(overrides)}"
                + (f", keeping {kept} weight tensors of the old one" if kept else ", freshly initialised"))
        elif "optimizer.name" in applied:
            # The rollback restored the old optimizer's state: build the chosen one afresh.
            trainer.optimizer = build_optimizer(cfg.optimizer, trainer.model)
            memory["base"] = [g["lr"] for g in trainer.optimizer.param_groups]
            memory["base_lr"] = cfg.optimizer.lr
        factor = cfg.optimizer.lr / memory["base_lr"]
        before = trainer._base_lrs[0]
        trainer._base_lrs = [b * factor for b in memory["base"]]
        if trainer._base_lrs[0] >= RESET_RAISE * before * (1 - 1e-9):   # 3e-5 * 10 is 0.00029999...
            # The optimizer's running averages were gathered while the weights stood still at the
            # old rate; Adam's second moment forgets them over ~1000 steps, so they would set the
            # new steps' size for most of the run. Forgotten here, they start afresh (an LSTM at
            # Adam 3e-7 raised to 0.003: 0.904, 0.889, 0.859, 0.963 on seeds 0-3 with them kept,
            # 0.948, 0.919, 0.941, 0.933 with them cleared; 0.970, 0.948, 0.956, 0.970 trained
            # from the start at 0.003 for the same 17 epochs).
            trainer.optimizer.state.clear()
        for g, base in zip(trainer.optimizer.param_groups, trainer._base_lrs):
            g["lr"] = base
            g["weight_decay"] = cfg.optimizer.weight_decay
            if "momentum" in g:  # sgd and rmsprop
                g["momentum"] = cfg.optimizer.momentum
            if "eps" in g:
                g["eps"] = cfg.optimizer.eps
        trainer.schedule.base_lr = trainer._base_lrs[0]
        trainer.clip_grad_norm = cfg.regularization.clip_grad_norm
        trainer.clip_grad_value = cfg.regularization.clip_grad_value
        trainer.l1 = cfg.regularization.l1
        if "model.dropout" in applied and cfg.model.type != "python":
            # Only a dropout fix sets the rate: a custom network's own dropout layers are its
            # builder's, and model.dropout (0 unless set) is not theirs to overwrite.
            for m in _dropout_layers(trainer.model):
                m.p = cfg.model.dropout
        if any(k.startswith("schedule.") for k in applied):
            # Over the epochs left, from this point: a cosine swapped in at epoch 13 of 30 starts at
            # the full rate, as in a run started with it, not at the 60% its curve reads there (a
            # digits net whose step schedule froze it ended 0.944 that way, against 0.970).
            sched = Schedule(cfg.schedule)
            sched.start = trainer.pos.step
            sched.bind(trainer.batches_per_epoch, trainer.epochs, trainer._base_lrs[0])
            trainer.schedule = sched
        if any(k.startswith("data.augment.") for k in applied):
            trainer.augment = rebuild_augment(cfg)
        if {"data.imbalance", "loss.huber_delta", "loss.label_smoothing"} & set(applied):
            trainer.loss_fn = rebuild_loss(cfg)
            trainer._emit("on_loss_changed")
        memory["applied"] = applied
        cfg_holder["cfg"] = cfg
        return True

    def changes(overrides: dict) -> bool:
        """Whether the fix would change the run's config: one that asks for what is already in use
        (the init the network has) would roll back and rebuild for nothing."""
        from ..config import load_config

        if any(k.startswith("training.early_stopping.") for k in overrides):
            return True  # an action (stop at the best epoch now) more than a setting
        try:
            return load_config(initial_cfg, {**memory["applied"], **overrides}) != cfg_holder["cfg"]
        except UserError:  # a key this model has no place for (an activation on a transformer): apply
            return False   # would refuse it after the rollback, and spend a repair for nothing

    apply.changes = changes
    return apply


def _only_model(overrides: dict) -> dict:
    return {k: v for k, v in overrides.items() if k.startswith("model.")}


def _needs_rebuild(overrides: dict, model) -> bool:
    keys = set(_only_model(overrides))
    if keys == {"model.dropout"} and _dropout_layers(model):
        return False  # a dropout rate changes in place
    return bool(keys)


def _carry_weights(old, new, overrides: dict) -> int:
    """Copy the old network's tensors into the new one where names and shapes match, unless
    the fix is a new initialisation (then the old values are the fault). Returns how many."""
    if any(k.startswith(FRESH_KEYS) for k in overrides):
        return 0
    import torch

    mine = old.state_dict()
    theirs = new.state_dict()
    fits = {k: v for k, v in mine.items() if k in theirs and theirs[k].shape == v.shape}
    with torch.no_grad():
        new.load_state_dict(fits, strict=False)
    return sum(1 for v in fits.values() if v.dim() >= 2)


def _dropout_layers(model) -> list:
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
