"""A custom network's own transform of its inputs, judged before the first step (doctor/wiring.py):
images it wipes flat, a batch it puts out of order while it trains, and an embedding that sets
neighbouring rows as far apart as any two. The fix, where there is one,
is a builder keyword the user set, back at the builder's default, checked by building the network
with it."""

from __future__ import annotations

from ..facts import Context
from ..findings import Finding
from ..wiring_batch import SWAP_RATIO
from ..wiring_images import FLAT_IMAGE_SHARE
from ..wiring_neighbours import SCRAMBLED_RATIO
from .wiring import _option_fix


def images_flat(history, signals, ctx: Context) -> Finding | None:
    """The first convolution gets each image as one value over all its pixels: a slip in the
    network's own preprocessing (the mean put in place of the image, `x = x.mean((2, 3), keepdim=True)`
    for `x = x - x.mean(...)`). Only each image's brightness is left: pollen grains, 0.320/0.320
    against 0.987/0.993 (twenty-ninth held-out set)."""
    found = (ctx.wiring or {}).get("images_flat")
    if not found:
        return None
    return Finding(
        "underfitting", "error", 0, 0, {"flat_images": found["flat"], "images": found["images"],
                                        "pixels": found["pixels"], "detail_as_prepared": found["detail_as_prepared"],
                                        "detail_handed": found["detail_handed"], "limit": FLAT_IMAGE_SHARE},
        f"The network's own transform hands its first convolution {found['flat']} of {found['images']} images as one "
        f"value over all their {found['pixels']} pixels (their spread over the pixels {found['detail_handed']:.2g} of "
        f"the batch's, {found['detail_as_prepared']:.2g} as prepared): each image becomes a flat field of its "
        f"brightness, and no kernel can see an edge or a shape in it. Most often a mean meant to be subtracted "
        f"replaces the image (x = x.mean((2, 3), keepdim=True) for x = x - x.mean((2, 3), keepdim=True)).",
        _option_fix(ctx, "images_flat", "the first convolution then sees the images' own detail"))


def rows_swapped(history, signals, ctx: Context) -> Finding | None:
    """In training mode the output for one row answers to another row's input: the network puts the
    batch in another order (x.flip(0), written for one unbatched image, applied to the batch), so the
    rows it moves are trained against other rows' labels while evaluation, in eval mode, never sees
    it. A pollen CNN's random mirror on dim 0: 0.863/0.765 against 0.987/0.993 (twenty-ninth
    held-out set)."""
    found = (ctx.wiring or {}).get("rows_swapped")
    if not found or (ctx.wiring or {}).get("rows_mixed"):
        return None
    return Finding(
        "underfitting", "error", 0, 0, {"training_passes": found["trials"], "passes_swapped": found["swapped"],
                                        "batch": found["batch"], "row_changed": found["row"],
                                        "output_row_that_answered": found["answered_by_row"], "limit_ratio": SWAP_RATIO},
        f"In training mode, changing row {found['row']} of a {found['batch']}-row batch moved the output of row "
        f"{found['answered_by_row']} most, in {found['swapped']} of {found['trials']} training passes: the network "
        f"puts the batch in another order, so those rows are trained against other rows' labels, a label noise that "
        f"validation and prediction (eval mode) never show. Most often a flip or a roll written for one image (its "
        f"dim 0) runs on the batch: flip the image axes (x.flip(3) for a mirror), never dim 0.",
        _option_fix(ctx, "rows_swapped", "each row's output then answers to that row alone"))


def inputs_scrambled(history, signals, ctx: Context) -> Finding | None:
    """The network's own embedding of its inputs sets rows that are neighbours as prepared as far
    apart as any two rows: Fourier features at a frequency scale meant for coordinates in [0, 1]
    (10) on standardized features, so every row gets a random code, the network memorizes its
    training rows and learns nothing that carries to the next: a kiln regressor, r2 0.000/0.004
    against 0.991/0.993 without the embedding (twenty-ninth held-out set)."""
    found = (ctx.wiring or {}).get("inputs_scrambled")
    if not found:
        return None
    return Finding(
        "overfitting", "warning", 0, 0, {"neighbour_ratio_handed": found["neighbour_ratio_handed"],
                                         "neighbour_ratio_as_prepared": found["neighbour_ratio_as_prepared"],
                                         "rows": found["rows"], "width_handed": found["width_handed"],
                                         "limit_ratio": SCRAMBLED_RATIO},
        f"The network's own transform of its {found['features']} input features hands its first layer "
        f"{found['width_handed']} values per row in which each row's nearest neighbour (nearest as prepared) is "
        f"{found['neighbour_ratio_handed']:.2f} of the usual distance to other rows away, against "
        f"{found['neighbour_ratio_as_prepared']:.2f} as prepared ({found['rows']} rows): every row gets what amounts "
        f"to a random code, so the network can memorize its training rows and nothing it learns on one row carries "
        f"to the rows beside it. Most often a periodic (Fourier) embedding at a frequency scale meant for inputs in "
        f"[0, 1], applied to standardized features: scale the frequencies down, or leave the embedding out.",
        _option_fix(ctx, "inputs_scrambled", "neighbouring rows then stay near"))
