"""Losses, and the output layer they imply.

The network always emits raw scores. The loss decides how many outputs there are and how they
become probabilities, so the output activation can never be applied twice.
"""

from __future__ import annotations

from ..errors import UserError

VALID = {
    "binary": ("bce", "cross_entropy", "hinge"),
    "multiclass": ("cross_entropy", "hinge"),
    "regression": ("mse", "mae", "huber"),
}
DEFAULT = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}


def resolve_name(name: str, task: str) -> str:
    if name == "auto":
        return DEFAULT[task]
    if name not in VALID[task]:
        raise UserError(
            f"loss.name: {name!r} does not fit a {task} task; valid: {', '.join(VALID[task])} (or auto)")
    return name


def output_size(loss_name: str, task: str, n_classes: int | None, n_targets: int = 1) -> int:
    if task == "regression":
        return n_targets
    if loss_name == "bce":
        return 1
    return int(n_classes)


def build(cfg, task: str, n_classes: int | None, class_weights=None, device=None):
    """Returns loss_fn(outputs, y) -> scalar tensor."""
    import torch
    from torch import nn

    name = resolve_name(cfg.name, task)
    weights = cfg.class_weights or class_weights
    if weights is not None and task == "regression":
        raise UserError("loss.class_weights: only for classification tasks")
    if weights is not None and len(weights) != n_classes:
        raise UserError(f"loss.class_weights: needs {n_classes} values (one per class), got {len(weights)}")
    w = torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None

    if name == "cross_entropy":
        fn = nn.CrossEntropyLoss(weight=w, label_smoothing=cfg.label_smoothing)
        return lambda out, y: fn(out, y)
    if name == "hinge":
        fn = nn.MultiMarginLoss(weight=w)
        return lambda out, y: fn(out, y)
    if name == "bce":
        # pos_weight carries the class weights' ratio: BCE weighs one logit, not two classes.
        pos = (w[1] / w[0]).reshape(1) if w is not None else None
        fn = nn.BCEWithLogitsLoss(pos_weight=pos)
        return lambda out, y: fn(out[:, 0], y.to(out.dtype))
    if name == "mse":
        fn = nn.MSELoss()
    elif name == "mae":
        fn = nn.L1Loss()
    else:
        fn = nn.HuberLoss(delta=cfg.huber_delta)
    # One target: compare column 0 with y (n,); several (a forecast horizon): the whole matrix.
    return lambda out, y: fn(out[:, 0] if y.dim() == 1 else out, y)


def to_output(loss_name: str, task: str, out):
    """Raw network outputs -> probabilities (n, K) for classification, values (n,) for regression."""
    import torch

    if task == "regression":
        return out[:, 0] if out.shape[1] == 1 else out
    if loss_name == "bce":
        p = torch.sigmoid(out[:, 0])
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(out, dim=1)
