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


def resolve_class_weights(weights, classes) -> list[float] | None:
    """loss.class_weights as one weight per class, in the order of `classes` (the sorted labels).
    A mapping gives weights by label (a label left out weighs 1); a list is in that order already."""
    if weights is None or not isinstance(weights, dict):
        return None if weights is None else [float(w) for w in weights]
    if not classes:
        raise UserError("loss.class_weights: only for classification tasks")
    labels = [str(c) for c in classes]
    unknown = [k for k in weights if k not in labels]
    if unknown:
        raise UserError(f"loss.class_weights: no class {', '.join(map(repr, unknown))} in the training data; "
                        f"the classes are {labels}")
    return [float(weights.get(label, 1.0)) for label in labels]


def build(cfg, task: str, n_classes: int | None, class_weights=None, device=None, classes=None):
    """Returns loss_fn(outputs, y) -> scalar tensor. `classes`, the labels in class order, resolves
    loss.class_weights given as a mapping."""
    import torch
    from torch import nn

    name = resolve_name(cfg.name, task)
    if cfg.class_weights is not None and task == "regression":
        raise UserError("loss.class_weights: only for classification tasks")
    weights = resolve_class_weights(cfg.class_weights, classes) or class_weights
    if weights is not None and len(weights) != n_classes:
        order = f" for the classes {[str(c) for c in classes]} in this order" if classes else ""
        raise UserError(f"loss.class_weights: needs {n_classes} values (one per class){order}, got {len(weights)}; "
                        f"or a mapping from class label to weight")
    w = torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None

    eps = cfg.label_smoothing
    if eps and name not in ("cross_entropy", "bce"):
        raise UserError(f"loss.label_smoothing: only for cross_entropy and bce, which read probabilities; "
                        f"the loss here is {name} ({task} task): set loss.label_smoothing to 0")
    if name == "cross_entropy":
        if w is not None and eps:
            return _weighted_rows(nn.CrossEntropyLoss(reduction="none", label_smoothing=eps), w)
        fn = nn.CrossEntropyLoss(weight=w, label_smoothing=eps)
        return lambda out, y: fn(out, y)
    if name == "hinge":
        fn = nn.MultiMarginLoss(weight=w)
        return lambda out, y: fn(out, y)
    if name == "bce":
        if eps:
            # Two classes smoothed as cross_entropy smooths them: 1 - eps/2 on the true class.
            each = nn.BCEWithLogitsLoss(reduction="none")
            per_row = lambda out, y: each(out[:, 0], y.to(out.dtype) * (1 - eps) + eps / 2)  # noqa: E731
            if w is not None:
                return _weighted_rows(per_row, w)
            return lambda out, y: per_row(out, y).mean()
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


def _weighted_rows(per_row, w):
    """Class weights as row weights: each row's whole (smoothed) loss times its own class's weight,
    averaged over the weights, as PyTorch weighs an unsmoothed cross entropy. PyTorch's weighted
    cross entropy with label smoothing also weighs the smoothing's share for every other class by
    that class's weight, so a rare class of weight 26 gets 26x the smoothing mass in every row, and
    a net trained on 4% failures at smoothing 0.1 called 839 of 867 healthy days failures (eleventh
    held-out set)."""
    def fn(out, y):
        rw = w[y.long()]
        return (per_row(out, y) * rw).sum() / rw.sum()
    return fn


def to_output(loss_name: str, task: str, out):
    """Raw network outputs -> probabilities (n, K) for classification, values (n,) for regression."""
    import torch

    if task == "regression":
        return out[:, 0] if out.shape[1] == 1 else out
    if loss_name == "bce":
        p = torch.sigmoid(out[:, 0])
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(out, dim=1)
