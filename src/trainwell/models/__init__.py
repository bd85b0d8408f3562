"""Model registry: model.type -> builder(model_cfg, data_spec, n_out) -> nn.Module, initialised."""

from __future__ import annotations

from .init import initialise
from .mlp import build_mlp

BUILDERS = {"mlp": build_mlp}


def build(model_cfg, spec, n_out: int, seed: int | None = None):
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    model = BUILDERS[model_cfg.type](model_cfg, spec, n_out)
    return initialise(model, model_cfg.init, getattr(model_cfg, "activation", "relu"))


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
