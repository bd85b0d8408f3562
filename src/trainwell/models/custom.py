"""model.type: python — the user's own nn.Module, built by 'package.module:function'(spec, **options)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from ..errors import UserError


def build_python(cfg, spec, n_out: int):
    import torch

    target = cfg.builder
    if ":" not in target:
        raise UserError(f"model.builder: expected 'package.module:function', got {target!r}")
    module_name, func_name = target.split(":", 1)
    # The working directory is searched too, so a builder beside the config needs no install.
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or anything the module raises while importing
        raise UserError(f"model.builder: cannot import {module_name!r}: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise UserError(f"model.builder: {module_name!r} has no function {func_name!r}")
    try:
        model = fn(spec, **cfg.options)
    except TypeError as exc:
        raise UserError(f"model.builder: {target}(spec, **model.options) failed: {exc}") from None
    except Exception as exc:  # the builder's own check of its options (a ValueError), or torch's on a layer
        raise UserError(f"model.builder: {target}(spec, **model.options) failed: {type(exc).__name__}: {exc} "
                        f"(model.options: {cfg.options})") from None
    if not isinstance(model, torch.nn.Module):
        raise UserError(f"model.builder: {target} must return a torch.nn.Module, got {type(model).__name__}")
    check_output_shape(model, spec, n_out, target)
    return model


def check_output_shape(model, spec, n_out: int, what: str) -> None:
    import torch

    shape = spec.input_shape or [spec.n_features]
    dtype = torch.long if spec.kind == "text" else torch.float32
    x = torch.zeros((2, *shape), dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:
        raise UserError(f"model.builder: {what} failed on an input of shape {(2, *shape)}: "
                        f"{type(exc).__name__}: {exc}") from None
    finally:
        model.train(was_training)
    if not hasattr(out, "shape") or tuple(out.shape) != (2, n_out):
        got = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
        raise UserError(f"model.builder: {what} must output (batch, {n_out}) raw scores for this task "
                        f"({spec.task}), got {got} for a batch of 2")
