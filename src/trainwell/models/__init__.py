"""Model registry: model.type -> builder(model_cfg, data_spec, n_out) -> nn.Module, initialised.

Every builder names its final output layer `head` and returns raw scores (no softmax).
"""

from __future__ import annotations

import importlib

from .init import initialise

# name -> "module:function", imported on use so one family's dependencies never slow another.
BUILDERS = {
    "mlp": "mlp:build_mlp",
    "cnn": "cnn:build_cnn",
    "rnn": "rnn:build_rnn",
    "transformer": "transformer:build_transformer",
    "python": "custom:build_python",
}


def build(model_cfg, spec, n_out: int, seed: int | None = None):
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    module, func = BUILDERS[model_cfg.type].split(":")
    builder = getattr(importlib.import_module(f".{module}", __name__), func)
    model = builder(model_cfg, spec, n_out)
    if model_cfg.type == "python" and model_cfg.init.weight.name == "auto":
        return model  # the user's module keeps its own init unless one is asked for
    return initialise(model, model_cfg.init, getattr(model_cfg, "activation", "relu"))


def count_parameters(model, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def has_batch_norm(model) -> bool:
    from torch import nn

    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
