"""The convolutional network: blocks of conv -> [BatchNorm] -> activation -> [pool] -> [Dropout],
then flatten (or global average pool) -> dense layers -> a linear `head` with raw scores.

Shapes are tracked by running a dummy image through each layer as it is built, so the head's
input size is never computed by hand, and a block that would shrink the map to nothing is caught
while building, with the block's config key in the message.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..errors import UserError
from .mlp import ACTIVATIONS


class CNN(nn.Module):
    # forward() does not read self.training: its modules alone decide whether train/eval mode matters
    # (doctor.signals.mode_free). Drop this if forward ever does.
    mode_free_forward = True

    def __init__(self, input_shape: list[int], blocks: list, head: list[int], n_out: int,
                 activation: str = "relu", dropout: float = 0.0, global_pool: bool = False):
        super().__init__()
        self.notes: list[str] = []  # what the builder had to adapt (a pool clamped or skipped)
        probe = torch.zeros(1, *input_shape)
        layers = []
        for i, block in enumerate(blocks):
            layer, probe = self._block(i, block, probe, activation)
            layers.append(layer)
        self.blocks = nn.Sequential(*layers)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()) if global_pool else nn.Flatten()
        with torch.no_grad():
            width = self.pool(probe).shape[1]
        dense: list[nn.Module] = []
        for h in head:
            dense += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            if dropout > 0:
                dense.append(nn.AlphaDropout(dropout) if activation == "selu" else nn.Dropout(dropout))
            width = h
        self.dense = nn.Sequential(*dense)
        # Raw scores (logits): the loss and predict() add softmax/sigmoid, exactly once.
        self.head = nn.Linear(width, n_out)

    def _block(self, i: int, b, probe: torch.Tensor, activation: str):
        key = f"model.blocks.{i}"
        h, w = probe.shape[-2:]
        if b.padding == "same":
            # PyTorch's padding="same" only exists for stride 1; kernel // 2 is the usual
            # equivalent for strided convs (output = ceil(size / stride) for odd kernels).
            padding = "same" if b.stride == 1 else b.kernel // 2
        else:
            padding = b.padding
        pad = b.kernel // 2 if padding == "same" else padding
        if h + 2 * pad < b.kernel or w + 2 * pad < b.kernel:
            raise UserError(f"{key}: kernel {b.kernel} with padding {b.padding} does not fit the {h}x{w} map "
                            f"this block receives; use padding: same, a smaller kernel, fewer blocks or less "
                            f"pooling before it, or larger images (data.image.size)")
        parts = OrderedDict(conv=nn.Conv2d(probe.shape[1], b.channels, b.kernel, b.stride, padding,
                                           bias=not b.batch_norm))
        if b.batch_norm:
            parts["bn"] = nn.BatchNorm2d(b.channels)
        parts["act"] = ACTIVATIONS[activation]()
        with torch.no_grad():
            size = parts["conv"](probe).shape[-2:]
        if b.pool != "none":
            kernel = (min(b.pool_size, size[0]), min(b.pool_size, size[1]))
            if kernel == (1, 1):
                if b.pool_size > 1:
                    self.notes.append(f"{key}: the map is already {size[0]}x{size[1]}, so its {b.pool} pool is skipped")
            else:
                if kernel != (b.pool_size, b.pool_size):
                    self.notes.append(f"{key}: pool_size {b.pool_size} is larger than the {size[0]}x{size[1]} "
                                      f"map; pooled with {kernel[0]}x{kernel[1]} instead")
                parts["pool"] = nn.MaxPool2d(kernel) if b.pool == "max" else nn.AvgPool2d(kernel)
        if b.dropout > 0:
            # Element-wise, as in the dense layers: channel dropout (Dropout2d) on maps of a few
            # pixels would drop most of what a small image carries.
            parts["dropout"] = nn.Dropout(b.dropout)
        block = nn.Sequential(parts)
        block.eval()  # batch norm in training mode cannot take the single dummy image
        with torch.no_grad():
            probe = block(probe)
        block.train()
        return block, probe

    def forward(self, x):
        return self.head(self.dense(self.pool(self.blocks(x))))


def _input_shape(spec) -> list[int]:
    shape = list(spec.input_shape or [])
    if len(shape) != 3 or spec.kind != "image":
        raise UserError(f"model.type: cnn needs image data (C, H, W), but this data is {spec.kind} with one "
                        f"sample shaped {shape}; use builtin:digits, an image folder or an .npz of images "
                        "(data.kind: image), or model.type: mlp for tables")
    return shape


def build_cnn(cfg, spec, n_out: int) -> CNN:
    return CNN(_input_shape(spec), cfg.blocks, cfg.head, n_out, cfg.activation, cfg.dropout, cfg.global_pool)
