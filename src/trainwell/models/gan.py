"""Generator and discriminator for model.type gan: arch mlp (dense layers) or dcgan (conv layers).

The generator maps noise (N, latent) to images (N, C, H, W) in the *normalized* units the data
module produced (per-channel mean 0 / std 1). Its output is a tanh rescaled onto each channel's
range in the training images (`out_lo`, `out_hi`, buffers saved with the weights): the bounded
output of the classic GAN recipe, matched to data that is standardized rather than in [-1, 1]
(digits standardized run from about -0.8 to 1.9, which a plain tanh could not reach; a linear
output could leave the pixel range). The discriminator returns one raw logit from a layer named
`head`; the loss adds the sigmoid.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UserError


class ScaledTanh(nn.Module):
    """tanh mapped from (-1, 1) onto (lo, hi) per channel; lo/hi travel with the state dict."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("out_lo", torch.full((channels, 1, 1), -1.0))
        self.register_buffer("out_hi", torch.full((channels, 1, 1), 1.0))

    def set_bounds(self, lo, hi) -> None:
        with torch.no_grad():
            self.out_lo.copy_(torch.as_tensor(lo, dtype=torch.float32).reshape(-1, 1, 1))
            self.out_hi.copy_(torch.as_tensor(hi, dtype=torch.float32).reshape(-1, 1, 1))

    def forward(self, x):
        return self.out_lo + (self.out_hi - self.out_lo) * (torch.tanh(x) + 1) * 0.5


class MLPGenerator(nn.Module):
    """latent -> [Linear -> BatchNorm -> ReLU] x len(hidden) -> Linear -> reshape -> scaled tanh."""

    def __init__(self, latent: int, hidden: list[int], shape: list[int]):
        super().__init__()
        self.latent, self.shape = latent, list(shape)
        layers: list[nn.Module] = []
        width = latent
        for h in hidden:
            # No bias before batch norm: its shift makes one redundant.
            layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(width, math.prod(shape))
        self.scale = ScaledTanh(shape[0])

    def forward(self, z):
        return self.scale(self.out(self.body(z)).view(-1, *self.shape))


class MLPDiscriminator(nn.Module):
    """flatten -> [Linear -> LeakyReLU(0.2)] x len(hidden) -> head (one logit)."""

    def __init__(self, hidden: list[int], shape: list[int]):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(shape)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        return self.head(self.body(x))


class ConvGenerator(nn.Module):
    """DCGAN generator: latent -> Linear to channels[0] x h0 x w0 -> one stride-2 transposed conv
    per further entry of `channels` and one more to the image's channels (each doubling H and W),
    BatchNorm + ReLU between, scaled tanh at the end. For 8x8 and channels [128, 64]: 2x2 -> 4x4 -> 8x8.
    A size that is not a multiple of 2**len(channels) is generated one step larger and center-cropped."""

    def __init__(self, latent: int, channels: list[int], shape: list[int]):
        super().__init__()
        c, h, w = shape
        ups = len(channels)
        self.latent, self.shape = latent, list(shape)
        self.h0, self.w0 = math.ceil(h / 2 ** ups), math.ceil(w / 2 ** ups)
        self.c0 = channels[0]
        self.project = nn.Sequential(nn.Linear(latent, self.c0 * self.h0 * self.w0, bias=False),
                                     nn.BatchNorm1d(self.c0 * self.h0 * self.w0), nn.ReLU())
        layers: list[nn.Module] = []
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.out = nn.ConvTranspose2d(channels[-1], c, 4, 2, 1)
        self.scale = ScaledTanh(c)

    def forward(self, z):
        x = self.out(self.body(self.project(z).view(-1, self.c0, self.h0, self.w0)))
        h, w = self.shape[1:]
        top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
        return self.scale(x[:, :, top:top + h, left:left + w])


class ConvDiscriminator(nn.Module):
    """DCGAN discriminator: stride-2 4x4 convs (halving H and W), LeakyReLU(0.2), BatchNorm on
    all but the first (as in the DCGAN paper), then head: Linear to one logit."""

    def __init__(self, channels: list[int], shape: list[int]):
        super().__init__()
        c, h, w = shape
        layers: list[nn.Module] = []
        for i, c_out in enumerate(channels):
            layers.append(nn.Conv2d(c, c_out, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            c, h, w = c_out, h // 2, w // 2
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(c * h * w, 1)

    def forward(self, x):
        return self.head(self.body(x))


def _check(cfg, shape) -> list[int]:
    if shape is None or len(shape) != 3:
        raise UserError(f"model.type gan: needs image data (input shape [C, H, W]), got input shape {shape}; "
                        f"use an image source such as builtin:digits or a folder of images")
    shape = [int(s) for s in shape]
    if not cfg.generator or not cfg.discriminator:
        raise UserError("model.generator and model.discriminator: each needs at least one size, "
                        f"got {cfg.generator} and {cfg.discriminator}")
    if cfg.arch == "dcgan":
        smallest = min(shape[1:])
        if smallest < 2 ** len(cfg.discriminator):
            raise UserError(
                f"model.discriminator: {len(cfg.discriminator)} stride-2 conv layers halve a "
                f"{shape[1]}x{shape[2]} image to nothing; use at most {int(math.log2(smallest))} channel entries")
    return shape


def _initialise(net: nn.Module, cfg, activation: str) -> None:
    from ..config import Init, InitSpec
    from .init import initialise

    init = cfg.init
    if init.weight.name == "auto" and cfg.arch == "dcgan":
        # The DCGAN paper's N(0, 0.02) for every conv and dense weight.
        init = Init(weight=InitSpec(name="normal", std=0.02), bias=init.bias)
    initialise(net, init, activation)


def build_gan(cfg, spec, bounds: tuple | None = None, seed: int | None = None) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for a GANModel config and an image DataSpec.

    bounds: per-channel (lo, hi) of the training images in normalized units; without them the
    output range is a placeholder that loading a saved state dict replaces.
    """
    shape = _check(cfg, spec.input_shape)
    if seed is not None:
        torch.manual_seed(seed)
    if cfg.arch == "mlp":
        g, d = MLPGenerator(cfg.latent, cfg.generator, shape), MLPDiscriminator(cfg.discriminator, shape)
    else:
        g, d = ConvGenerator(cfg.latent, cfg.generator, shape), ConvDiscriminator(cfg.discriminator, shape)
    _initialise(g, cfg, "relu")
    _initialise(d, cfg, "leaky_relu")
    if bounds is not None:
        g.scale.set_bounds(*bounds)
    return g, d


def data_bounds(x: torch.Tensor, margin: float = 0.02) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (lo, hi) of images x (N, C, H, W), widened by `margin` of the range so the
    tanh need not saturate to reach the background value."""
    lo = x.amin(dim=(0, 2, 3))
    hi = x.amax(dim=(0, 2, 3))
    pad = (hi - lo).clamp_min(1e-6) * margin
    return lo - pad, hi + pad
