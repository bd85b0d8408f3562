"""The wiring reading of custom networks about the rows of a training batch (see wiring.py): a
network whose output for one row follows another row's input while it trains."""

from __future__ import annotations

from .network_measures import _forked_rng

# Training passes tried, each from its own seed: a transform drawn at random (a flip applied to half
# the batches) shows in one of them or more with probability 1 - 0.5^6 = 98%.
SWAP_TRIALS = 6


# A row's input moved: the output row that moves most is another one, by this many times the row's
# own, and by this share of what a moved row usually moves (the median over the passes of the largest
# change). A batch norm in training mode moves every row a little through the batch's statistics, its
# own row by far the most; a batch put in another order moves one other row alone, as much as its own.
# Where dropout hides most of the moved row's own path in one pass (9 units in 10 dropped behind a
# batch norm: its own change 0.055 against 2.5-10 in the other passes, another row's 0.35), the
# other rows' small changes lead but stay under a tenth of the usual one (twenty-fifth held-out set).
SWAP_RATIO, SWAP_SIZE = 2.0, 0.25


# A network whose first pair of passes takes longer than this is not read: the other passes would
# outweigh the other readings together (as for the uphill reading).
SWAP_PAIR_SECONDS = 0.5


def _rows_swapped(net, batch) -> dict | None:
    """In training mode, the output row that answers to input row 0 is another row: the batch put in
    another order inside forward (x.flip(0), the axis of one unbatched image, on the batch), so that
    those rows are trained against other rows' labels. Eval mode is left to rows_mixed. Each trial
    runs the same seed twice, so dropout masks and random draws are the same in both passes."""
    import time

    import torch

    n = int(batch.shape[0])
    if n < 8:
        return None
    moved = batch.clone()
    moved[0] = batch[n // 2]
    if torch.equal(moved[0], batch[0]):
        return None
    was_training = net.training
    passes = []
    try:
        net.train()
        with torch.no_grad(), _forked_rng():
            for trial in range(SWAP_TRIALS):
                started = time.perf_counter()
                torch.manual_seed(trial)
                first = net(batch)
                torch.manual_seed(trial)
                second = net(moved)
                if trial == 0 and time.perf_counter() - started > SWAP_PAIR_SECONDS:
                    return None
                if not isinstance(first, torch.Tensor) or first.shape != second.shape or first.shape[0] != n \
                        or not bool(torch.isfinite(first).all() and torch.isfinite(second).all()):
                    return None
                change = (first - second).abs().reshape(n, -1).sum(1)
                top = int(change.argmax())
                passes.append((top, float(change[top]), float(change[0])))
    finally:
        net.train(was_training)
    usual = sorted(most for _, most, _ in passes)[len(passes) // 2]
    swapped = [top for top, most, own in passes
               if top != 0 and most > SWAP_RATIO * own and most >= SWAP_SIZE * usual and most > 0]
    if not swapped:
        return None
    return {"trials": SWAP_TRIALS, "swapped": len(swapped), "batch": n, "row": 0, "answered_by_row": swapped[-1]}
