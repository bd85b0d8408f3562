"""Transfer learning: start from an earlier run's weights, replace the head, freeze layers.

Every builder names its output layer `head`, so "a new head" means the same thing for all.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def load_pretrained(model, model_cfg) -> dict:
    """Copies weights from model_cfg.init_from/model.safetensors into model; returns a summary."""
    from safetensors.torch import load_file

    run = Path(model_cfg.init_from)
    weights = run / "model.safetensors"
    if not weights.is_file():
        raise UserError(f"model.init_from: {str(run)!r} has no model.safetensors (a finished trainwell run is needed)")
    source = load_file(str(weights))
    target = model.state_dict()
    skipped_head = []
    loaded = {}
    problems = []
    for name, tensor in source.items():
        if model_cfg.new_head and name.startswith("head."):
            skipped_head.append(name)
            continue
        if name not in target:
            problems.append(f"{name} is in the pretrained run but not in this model")
        elif tuple(target[name].shape) != tuple(tensor.shape):
            hint = " (set model.new_head: true to replace the output layer)" if name.startswith("head.") else ""
            problems.append(f"layer {name}: pretrained shape {tuple(tensor.shape)}, this model {tuple(target[name].shape)}{hint}")
        else:
            loaded[name] = tensor
    missing = [n for n in target if n not in loaded and not (model_cfg.new_head and n.startswith("head."))]
    if missing:
        problems.append(f"this model has layers the pretrained run lacks: {missing[:5]}")
    if problems:
        raise UserError("model.init_from: the pretrained weights do not fit this model:\n  - " + "\n  - ".join(problems))
    if model_cfg.new_head and not any(n.startswith("head.") for n in target):
        raise UserError("model.new_head: this model has no output layer named 'head' to replace")
    model.load_state_dict(loaded, strict=False)
    return {"init_from": str(run), "loaded": len(loaded), "new_head": bool(skipped_head)}


def freeze(model, prefixes: list[str]) -> int:
    """Turns off gradients for parameters whose names start with a prefix; returns how many."""
    if not prefixes:
        return 0
    names = [n for n, _ in model.named_parameters()]
    unused = [p for p in prefixes if not any(n.startswith(p) for n in names)]
    if unused:
        tops = sorted({n.split(".")[0] for n in names})
        raise UserError(f"model.freeze: {unused} match no parameter; parameter names start with {tops}")
    count = 0
    for name, p in model.named_parameters():
        if any(name.startswith(prefix) for prefix in prefixes):
            p.requires_grad_(False)
            count += p.numel()
    return count
