"""The linear model fitted beside the net (doctor/baseline.py), read as the rules need it: what loss
a logistic or ridge regression reaches on the same rows, and whether it learned anything at all."""

from __future__ import annotations

from ..facts import Context


def _linear_loss(ctx: Context) -> float | None:
    """The linear yardstick's validation loss in the training loss's own units, or None where they
    differ (class weights, label smoothing, a target in its own units, other losses)."""
    if ctx.linear is None:
        return None
    if ctx.task == "regression":
        if ctx.loss != "mse" or not ctx.target_scaled:
            return None
    elif ctx.loss not in ("cross_entropy", "bce") or ctx.imbalance == "class_weights" or ctx.label_smoothing:
        return None
    base = ctx.linear()
    if not base:
        return None
    # Regression: the target is standardized on the training split, so 1 - r2 is its mse.
    return 1.0 - base["val_r2"] if "val_r2" in base else base.get("val_loss")


def _times(value: float, base: float, spec: str = ".1f") -> str:
    """'5.1x' (value over base), or 'far above' when the yardstick rounds to 0 (a noiseless target:
    ridge regression's r2 of 1.0000)."""
    return f"{value / base:{spec}}x" if base > 0 else "far above"


def _no_signal_in_table(ctx: Context) -> bool:
    """A table whose linear yardstick found nothing (baseline.verdict)."""
    from ..baseline import verdict

    return ctx.data_kind == "tabular" and ctx.linear is not None and verdict(ctx.linear()) == "nothing"


def _linear_learned(ctx: Context) -> bool:
    """Whether the linear yardstick found signal (baseline.verdict), called after _linear_loss."""
    from ..baseline import verdict

    return verdict(ctx.linear()) == "signal"


def _no_linear_signal(ctx: Context) -> bool:
    """Whether the linear yardstick found nothing (baseline.verdict), called after _linear_loss."""
    from ..baseline import verdict

    return verdict(ctx.linear()) == "nothing"
