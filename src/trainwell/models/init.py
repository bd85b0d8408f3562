"""Weight and bias initialisation for every layer type trainwell builds."""

from __future__ import annotations

import torch
from torch import nn

# Modules whose `weight` is a matrix or kernel that an init scheme should touch.
# Norm layers keep their (1, 0) defaults: re-initialising them breaks what they are for.
_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
             nn.Embedding)


def _gain_name(activation: str) -> str:
    return {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
            "selu": "selu"}.get(activation, "relu")


def _init_weight(w: torch.Tensor, spec, activation: str) -> None:
    name = spec.name
    if name == "auto":
        if activation in ("tanh", "sigmoid"):
            name = "xavier_uniform"
        elif activation == "selu":
            # LeCun normal, the init SELU's self-normalisation assumes.
            nn.init.kaiming_normal_(w, nonlinearity="linear")
            return
        else:
            name = "he_uniform"
    if name == "default" or w.dim() < 2 and name in ("xavier_uniform", "xavier_normal", "he_uniform",
                                                      "he_normal", "orthogonal"):
        return  # fan-based schemes are undefined for vectors; keep PyTorch's own init
    nl = _gain_name(activation)
    if name == "xavier_uniform":
        nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain(nl, 0.01) if nl == "leaky_relu" else nn.init.calculate_gain(nl))
    elif name == "xavier_normal":
        nn.init.xavier_normal_(w, gain=nn.init.calculate_gain(nl, 0.01) if nl == "leaky_relu" else nn.init.calculate_gain(nl))
    elif name in ("he_uniform", "he_normal"):
        kaiming_nl = nl if nl in ("relu", "leaky_relu") else "relu"
        fn = nn.init.kaiming_uniform_ if name == "he_uniform" else nn.init.kaiming_normal_
        fn(w, a=0.01 if kaiming_nl == "leaky_relu" else 0, nonlinearity=kaiming_nl)
    elif name == "orthogonal":
        nn.init.orthogonal_(w)
    elif name == "normal":
        nn.init.normal_(w, 0.0, spec.std)
    elif name == "uniform":
        nn.init.uniform_(w, -spec.a, spec.a)
    elif name == "constant":
        nn.init.constant_(w, spec.value)
    elif name == "zeros":
        nn.init.zeros_(w)


def _init_bias(b: torch.Tensor, spec) -> None:
    name = spec.name
    if name in ("auto", "zeros"):
        nn.init.zeros_(b)
    elif name == "default":
        return
    elif name == "normal":
        nn.init.normal_(b, 0.0, spec.std)
    elif name == "uniform":
        nn.init.uniform_(b, -spec.a, spec.a)
    elif name == "constant":
        nn.init.constant_(b, spec.value)
    else:
        # Fan-based schemes need a matrix; for a bias the honest equivalent is zeros.
        nn.init.zeros_(b)


@torch.no_grad()
def initialise(model: nn.Module, init_cfg, activation: str) -> nn.Module:
    if init_cfg.weight.name == "pytorch":
        _pytorch_init(model)
        return model
    for module in model.modules():
        if isinstance(module, _WEIGHTED):
            _init_weight(module.weight, init_cfg.weight, activation)
            if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                module.weight[module.padding_idx].zero_()  # padding carries no information
            if getattr(module, "bias", None) is not None:
                _init_bias(module.bias, init_cfg.bias)
        elif isinstance(module, (nn.RNNBase,)):
            for pname, p in module.named_parameters():
                if "weight" in pname:
                    _init_weight(p, init_cfg.weight, "tanh")
                else:
                    _init_bias(p, init_cfg.bias)
        elif isinstance(module, nn.MultiheadAttention):
            _init_attention(module, init_cfg, activation)
    return model


def _init_attention(module: nn.MultiheadAttention, init_cfg, activation: str) -> None:
    """The query, key and value projections (out_proj is a Linear, done above). `auto` keeps
    PyTorch's own for them (Xavier over the three stacked, the usual for attention); a named scheme
    applies to each projection as its own matrix, as it would to three Linear layers."""
    if init_cfg.weight.name not in ("auto", "default"):
        if module.in_proj_weight is not None:
            for block in module.in_proj_weight.chunk(3, dim=0):
                _init_weight(block, init_cfg.weight, activation)
        else:
            for w in (module.q_proj_weight, module.k_proj_weight, module.v_proj_weight):
                _init_weight(w, init_cfg.weight, activation)
    if module.in_proj_bias is not None:
        _init_bias(module.in_proj_bias, init_cfg.bias)




def _pytorch_init(model: nn.Module) -> None:
    """Every PyTorch layer (the root included) drawn again as its own constructor draws it, weights
    and biases together: a custom builder's init undone (model.init.bias is PyTorch's too). Only
    torch.nn's own classes: a custom layer's reset_parameters may be the very init being undone."""
    for module in model.modules():
        if not type(module).__module__.startswith("torch.nn"):
            continue
        reset = getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)
        if callable(reset):
            reset()
