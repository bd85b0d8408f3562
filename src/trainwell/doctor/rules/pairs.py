"""Judged while training: two classes the network can only toss a coin between, under an
augmentation that turns or mirrors the images (the per-epoch val_pair_* of metrics.tossed_pair)."""

from __future__ import annotations

from ..facts import Context
from ..findings import Finding, Fix
from ..measures import _epoch
from .preparation import orientation_fix

# A pair of classes whose validation rows the network splits between the two, over PAIR_WINDOW
# epochs in a row: each class's rows give the other at least PAIR_TOSS of the pair's probability
# (0.5 is a coin toss), PAIR_MEAN on average, while the pair holds PAIR_MASS of it (the network is
# sure it is one of the two). Mirror-image spirals under hflip: 0.38-0.50 (5-epoch means 0.43-0.47)
# with mass 0.91-1.00 from epoch 1 to the end (fifteenth held-out set, seeds 0/1); glyphs two of
# which are the same shape 45 degrees apart, under rotation 45: 0.33-0.50, mass 0.77-1.00, over 30
# epochs (thirteenth). Healthy runs under flips or rotation learn the pair apart: wafer maps under
# both flips sat at 0.26-0.47 for their first 9-14 epochs and fell to 0.02-0.22 (seeds 0-2; the
# closest 5 epochs: 0.31-0.38, mean 0.35, at mass 0.77-0.92); glyphs under rotation 10 at 0.25-0.45
# for 2-6 epochs, then 0.00-0.18; fruit, textures, galaxies under rotation 180 and digits under mild
# augmentation stayed under 0.25 from the first epochs.
PAIR_TOSS, PAIR_MEAN, PAIR_MASS, PAIR_WINDOW = 0.35, 0.4, 0.8, 5


def augment_mirrors_classes(history, signals, ctx: Context) -> Finding | None:
    fix, turns = orientation_fix(ctx)
    if (not fix and not ctx.orientation_undone) or not ctx.class_names or len(history) < PAIR_WINDOW:
        return None
    last = history[-PAIR_WINDOW:]
    pairs = {(h.get("val_pair_a"), h.get("val_pair_b")) for h in last}
    if len(pairs) != 1 or None in next(iter(pairs)):
        return None
    tosses = [h.get("val_pair_toss") for h in last]
    masses = [h.get("val_pair_mass") for h in last]
    if not all(isinstance(v, (int, float)) for v in tosses + masses):
        return None
    if min(tosses) < PAIR_TOSS or sum(tosses) / PAIR_WINDOW < PAIR_MEAN or min(masses) < PAIR_MASS:
        return None
    a, b = next(iter(pairs))
    names = ctx.class_names
    if not (0 <= a < len(names) and 0 <= b < len(names)):
        return None
    first, second = names[a], names[b]
    evidence = {"classes": [first, second], "val_pair_toss_last_5": [round(t, 3) for t in tosses],
                "val_pair_mass_last_5": [round(m, 3) for m in masses], "augment": ctx.augment,
                "limit_toss": PAIR_TOSS, "limit_mean_toss": PAIR_MEAN, "limit_mass": PAIR_MASS}
    if not fix:
        # The doctor took the flip or turn off and the pair is still a coin toss: it was not the cause,
        # and the repair must not read as one that held.
        return Finding(
            "underfitting", "warning", _epoch(history, -PAIR_WINDOW), None, {**evidence, "orientation_undone": True},
            f"Classes {first!r} and {second!r} are still a coin toss for the network {PAIR_WINDOW} epochs after the "
            f"flip or turn was taken off the augmentation: it was not the cause. The network cannot tell these two "
            f"classes apart in this data: check that they differ in the inputs at all (a duplicated class, labels "
            f"given at random between the two, or a difference the inputs do not carry).", [])
    return Finding(
        "underfitting", "warning", _epoch(history, -PAIR_WINDOW), None, evidence,
        f"Classes {first!r} and {second!r} are a coin toss for the network: over the last {PAIR_WINDOW} epochs it "
        f"gives the rows of either {min(tosses):.0%}-{max(tosses):.0%} of the pair's probability to the other, "
        f"while it is sure they are one of the two. data.augment ({turns}) changes the images' orientation. If "
        f"these two classes differ by orientation or handedness (mirror images: S- and Z-wound spirals, b and d; "
        f"one shape turned: a 6 and a 9), the augmentation turns rows of one into rows of the other with the "
        f"label unchanged, and the network learns that they are the same.",
        [Fix(fix, "rotation up to 15 degrees and no flips keep each image's orientation, which these classes "
                  "depend on")])
