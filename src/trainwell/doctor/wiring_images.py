"""The wiring readings of custom image networks about what their first convolution is handed (see
wiring.py): images whose spatial detail the network's own transform wipes out."""

from __future__ import annotations

import numpy as np

# An image is flat when the spread of its pixels around their own mean, as the first convolution
# gets it, is under this share of the spread of every value it gets over the batch: a constant field
# (1e-6 of that spread is float rounding). Over the 34 other custom image networks of the suites whose
# first convolution gets the image itself, the median image as handed sits at 0.47-1.02 and the
# flattest single image at 0.11.
FLAT_IMAGE_SHARE = 0.01


# The share of the images with spatial detail as prepared that must come out flat: all but a few.
FLAT_IMAGES = 0.9


def _images_flat(raw, seen, shape) -> dict | None:
    """Images the first convolution gets as one value per channel over all their pixels, where the
    images as prepared vary over their pixels: `x = x.mean((2, 3), keepdim=True).expand_as(x)` for
    `x = x - x.mean(...)` (the minus dropped) leaves each image a flat field of its own brightness,
    and no kernel can see a shape in it. `raw` and `seen` are rows of pixels (_first_layer_seen),
    `shape` the batch's (N, C, H, W)."""
    n = raw.shape[0]
    if n < 8 or len(shape) != 4 or shape[2] * shape[3] < 4:
        return None
    c, hw = int(shape[1]), int(shape[2] * shape[3])
    if raw.shape[1] != c * hw or seen.shape != raw.shape:
        return None

    def detail(a):
        planes = a.reshape(n, c, hw).astype(np.float64)
        spread = float(planes.std()) or 1.0
        return planes.std(axis=2).mean(axis=1) / spread   # per image: spatial spread / all values' spread

    before, after = detail(raw), detail(seen)
    varied = before >= 10 * FLAT_IMAGE_SHARE
    if varied.sum() < 8:
        return None
    flat = int(((after < FLAT_IMAGE_SHARE) & varied).sum())
    if flat < FLAT_IMAGES * varied.sum():
        return None
    return {"images": int(varied.sum()), "flat": flat, "pixels": hw,
            "detail_as_prepared": round(float(np.median(before[varied])), 3),
            "detail_handed": round(float(np.median(after[varied])), 6)}
