"""Small image sets written by the tests: grey blobs whose width is the class."""

from __future__ import annotations

import numpy as np


def blobs(path, drift: float = 0.0) -> str:
    """300 grey 16x16 images of a soft blob whose width is the class, on a noisy background; with
    `drift`, a background brightness that varies from image to image by up to that much."""
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 3, n)
    grid = np.stack(np.meshgrid(np.arange(16), np.arange(16), indexing="ij"))
    centre = rng.uniform(5, 11, (n, 2))
    d2 = ((grid[None] - centre[:, :, None, None]) ** 2).sum(1)
    width = np.array([1.5, 2.5, 3.5])[y]
    x = 200 * np.exp(-d2 / (2 * width[:, None, None] ** 2)) + rng.normal(20, 6, (n, 16, 16))
    if drift:
        x = x + rng.uniform(0, drift, (n, 1, 1))
    np.savez(path, x=np.clip(x, 0, 255)[:, None].astype("float32"), y=y.astype("int64"))
    return str(path)
