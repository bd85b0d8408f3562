"""Augmentation of training batches, on the device, in a few lines of torch.

kornia would do the same, but it is one more large dependency for four transforms; an affine
grid sample covers rotation and translation in one pass per batch, and flips and noise are one
line each. Validation and test batches never pass through here (the loop calls it on training
batches only). Randomness comes from torch's global generator, which is seeded and saved in
checkpoints, so augmented runs stay reproducible and resumable.
"""

from __future__ import annotations

import math

from ..errors import UserError


def is_active(cfg) -> bool:
    return bool(cfg.rotation or cfg.translate or cfg.hflip or cfg.vflip or cfg.noise)


def build_augment(cfg, spec):
    """A callable x -> x for training batches, or None when nothing is asked for."""
    if not is_active(cfg):
        return None
    geometric = cfg.rotation or cfg.translate or cfg.hflip or cfg.vflip
    if geometric and spec.kind != "image":
        rest = ("no augmentation applies to token ids; remove data.augment" if spec.kind == "text"
                else "only data.augment.noise applies to it")
        raise UserError(f"data.augment: rotation, translate and flips need image data, but this is {spec.kind} "
                        f"data; {rest}")
    if spec.kind == "text" and cfg.noise:
        raise UserError("data.augment.noise: text is token ids, which noise would corrupt; set it to 0")

    def augment(x):
        import torch
        import torch.nn.functional as F

        n = x.shape[0]
        if cfg.rotation or cfg.translate:
            angle = (torch.rand(n, device=x.device) * 2 - 1) * math.radians(cfg.rotation)
            shift = (torch.rand(n, 2, device=x.device) * 2 - 1) * (2 * cfg.translate)  # grid spans [-1, 1]
            cos, sin = torch.cos(angle), torch.sin(angle)
            theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                                 torch.stack([sin, cos, shift[:, 1]], 1)], 1).to(x.dtype)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            # Border padding repeats the edge (the background, for digits) instead of inventing zeros,
            # which after normalisation would not be background.
            x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
        if cfg.hflip:
            flip = torch.rand(n, device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        if cfg.vflip:
            flip = torch.rand(n, device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-2), x)
        if cfg.noise:
            x = x + torch.randn_like(x) * cfg.noise
        return x

    return augment
