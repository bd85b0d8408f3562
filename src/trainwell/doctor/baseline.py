"""A linear model on the same prepared features: the yardstick that tells a network that cannot
learn apart from data that holds nothing to learn.

A network stuck at chance, or underfitting, reads the same from its own losses whether the
training is at fault (a rate far off, dead units, a net too small) or the target is unrelated to
the inputs (a wrong target column, labels shuffled apart from their rows). A logistic regression
(or ridge regression) fitted on the same training rows and scored on the validation rows tells
the two apart in well under a second, so it runs once, after training, and only for the findings
whose explanation depends on it.
"""

from __future__ import annotations

import math
import warnings

# Findings whose cause the yardstick decides between the training and the data.
ASKS = ("stuck_at_chance", "underfitting")
# Rows fitted on: enough for a linear model's estimate, and it stays well under a second.
MAX_ROWS = 5000
# Inputs wider than this (large images, long sequences flattened) are not worth a linear fit here.
MAX_FEATURES = 4096
# Classification: the linear model's validation loss as a share of the loss of predicting the
# training class shares. Measured on the bundled sets, seeds 0-2 (`trainwell.data.prepare`'s
# splits): 0.015-0.30 as they are (breast_cancer seed 1 the highest), 0.98-1.20 with the labels
# shuffled. At 0.9 or more it found nothing either; under 0.6 it found real signal.
# Regression: validation r2, diabetes 0.42-0.66 as it is, -0.16 to -0.02 shuffled.
NOTHING, SIGNAL = 0.9, 0.6
R2_NOTHING, R2_SIGNAL = 0.05, 0.2


def linear_baseline(prepared) -> dict | None:
    """{"model", "val_loss", "chance_loss", "val_accuracy", "majority_share"} for classification,
    {"model", "val_r2"} for regression; None when there is no validation split or the inputs are
    not numbers a linear model reads. Text is read as a bag of words: each text's count of every
    vocabulary token, log-scaled, the classic linear baseline for text classification."""
    import numpy as np

    spec, train, val = prepared.spec, prepared.train, prepared.val
    if val is None or len(val.y) < 2:
        return None
    y = np.asarray(train.y)
    pick = np.random.default_rng(0).choice(len(y), MAX_ROWS, replace=False) if len(y) > MAX_ROWS else None
    if spec.kind == "text":
        x, xv = _bag_of_words(train.x if pick is None else np.asarray(train.x)[pick], val.x, spec.vocab_size)
    else:
        x = np.asarray(train.x, dtype=np.float64).reshape(len(train.x), -1)
        xv = np.asarray(val.x, dtype=np.float64).reshape(len(val.x), -1)
        if x.shape[1] > MAX_FEATURES or not (np.isfinite(x).all() and np.isfinite(xv).all()):
            return None
        if pick is not None:
            x = x[pick]
    if pick is not None:
        y = y[pick]
    from sklearn import metrics
    from sklearn.linear_model import Ridge

    if spec.task == "regression":
        model = Ridge(alpha=1.0).fit(x, y.astype(np.float64))
        return {"model": "ridge regression", "val_r2": round(float(metrics.r2_score(val.y, model.predict(xv))), 4)}
    k = len(spec.classes)
    y = y.astype(int)
    if len(np.unique(y)) < 2:
        return None
    proba = _logistic_proba(x, y, xv, k)
    shares = np.bincount(y, minlength=k) / len(y)
    prior = np.clip(shares, 1e-6, 1.0)
    prior = prior / prior.sum()
    yv = np.asarray(val.y).astype(int)
    # The log losses by hand: sklearn's log_loss validates and one-hot encodes its input, 2 ms a
    # call, as long as the fit on wine, and the rules may ask for this while training.
    rows = np.arange(len(yv))
    return {"model": "logistic regression",
            "val_loss": round(float(-np.log(np.clip(proba[rows, yv], 1e-15, 1.0)).mean()), 4),
            "chance_loss": round(float(-np.log(prior[yv]).mean()), 4),
            "val_accuracy": round(float((proba.argmax(axis=1) == yv).mean()), 4),
            "majority_share": round(float(shares.max()), 4), "val_rows": int(len(yv))}


def _logistic_proba(x, y, xv, k: int):
    """A logistic regression fitted on (x, y), its class probabilities on xv over all k classes
    (0 for a class the training rows lack)."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=300).fit(x, y)
    proba = np.zeros((xv.shape[0], k))
    proba[:, model.classes_] = model.predict_proba(xv)
    return proba


def _word_pairs(ids, val_ids, vocab_size: int):
    """The bag of words with each pair of neighbouring words beside it (hashed into 2^16 columns,
    log(1 + count)): what a linear model sees of the words' order."""
    import numpy as np
    from scipy import sparse

    width = 1 << 16

    def pairs(a):
        a = np.asarray(a, dtype=np.int64)
        left, right = a[:, :-1], a[:, 1:]
        rows, cols = np.nonzero((left >= 3) & (right >= 3))
        code = (left[rows, cols] * 1_000_003 + right[rows, cols]) % width
        m = sparse.csr_matrix((np.ones(len(rows)), (rows, code)), shape=(len(a), width))
        m.sum_duplicates()
        m.data = np.log1p(m.data)
        return m

    words, val_words = _bag_of_words(ids, val_ids, vocab_size)
    return sparse.hstack([words, pairs(ids)]).tocsr(), sparse.hstack([val_words, pairs(val_ids)]).tocsr()


def order_baseline(prepared) -> dict | None:
    """Text classification: the linear yardstick on the bag of words, and on the words with their
    neighbouring pairs, {"words": val_loss, "pairs": val_loss, "chance_loss", ...}: how much the
    words' order says beyond which words a text holds. None where there is no yardstick."""
    import numpy as np

    spec, train, val = prepared.spec, prepared.train, prepared.val
    if spec.kind != "text" or not spec.classes or val is None or len(val.y) < 2:
        return None
    words = cached_baseline(prepared)
    if not words or "val_loss" not in words:
        return None
    y = np.asarray(train.y).astype(int)
    pick = np.random.default_rng(0).choice(len(y), MAX_ROWS, replace=False) if len(y) > MAX_ROWS else None
    x, xv = _word_pairs(train.x if pick is None else np.asarray(train.x)[pick], val.x, spec.vocab_size)
    if pick is not None:
        y = y[pick]
    if len(np.unique(y)) < 2:
        return None
    from sklearn import metrics

    k = len(spec.classes)
    proba = _logistic_proba(x, y, xv, k)
    yv = np.asarray(val.y).astype(int)
    return {"words": words["val_loss"], "words_accuracy": words.get("val_accuracy"),
            "pairs": round(float(metrics.log_loss(yv, np.clip(proba, 1e-15, 1.0), labels=list(range(k)))), 4),
            "pairs_accuracy": round(float(metrics.accuracy_score(yv, proba.argmax(axis=1))), 4),
            "chance_loss": words["chance_loss"], "rows": int(x.shape[0])}


def _bag_of_words(ids, val_ids, vocab_size: int):
    """Token ids (rows, max_len) -> sparse log(1 + count) per vocabulary token, <pad> and the other
    specials left out (text.SPECIALS: ids 0-2), for the training and validation rows."""
    import numpy as np
    from scipy import sparse

    def bag(a):
        a = np.asarray(a, dtype=np.int64)
        rows, cols = np.nonzero(a >= 3)
        m = sparse.csr_matrix((np.ones(len(rows)), (rows, a[rows, cols])), shape=(len(a), max(int(vocab_size), 3)))
        m.sum_duplicates()
        m.data = np.log1p(m.data)
        return m

    return bag(ids), bag(val_ids)


def verdict(base: dict | None) -> str | None:
    """"nothing", "signal" or None (in between, or no yardstick)."""
    if not base:
        return None
    if "val_r2" in base:
        r2 = base["val_r2"]
        return "nothing" if r2 < R2_NOTHING else "signal" if r2 > R2_SIGNAL else None
    loss, chance = base["val_loss"], base["chance_loss"]
    if not (math.isfinite(loss) and chance > 0):
        return None
    share = loss / chance
    if share >= NOTHING and _beats_majority(base):
        # Labels with much noise keep even the best model's loss near chance (a quarter of them
        # flipped: 0.81 of it at best), while its accuracy still tells the classes apart: loan
        # labels 25% flipped gave the linear model 0.91 of chance and accuracy 0.68 against a
        # majority of 0.53 over 400 rows (eleventh held-out set). Not "nothing", then.
        return None
    return "nothing" if share >= NOTHING else "signal" if share < SIGNAL else None


def _beats_majority(base: dict) -> bool:
    """Validation accuracy over the majority share by 5 points and 3 standard errors of a
    proportion over the validation rows: shuffled labels stay within that."""
    acc, major, rows = base.get("val_accuracy"), base.get("majority_share"), base.get("val_rows")
    if acc is None or major is None or not rows:
        return False
    return acc - major >= max(0.05, 3 * math.sqrt(major * (1 - major) / rows))


def sentence(base: dict) -> str:
    said = verdict(base)
    if "val_r2" in base:
        how = f"validation r2 {base['val_r2']:.3g}"
    else:
        how = (f"validation loss {base['val_loss']:.4g} against {base['chance_loss']:.4g} for predicting the "
               f"class shares, accuracy {base['val_accuracy']:.3g} against a majority share of "
               f"{base['majority_share']:.3g}")
    if said == "nothing":
        return (f" A {base['model']} on the same features does no better ({how}): there is no linear signal "
                f"either. If the target should be predictable from these inputs, check that data.target names the "
                f"column meant, and that the labels were not shuffled or joined apart from their rows.")
    if said == "signal":
        return (f" A {base['model']} on the same features does learn ({how}): the data holds signal the network "
                f"is not picking up, so the training is at fault, not the data.")
    return f" For comparison, a {base['model']} on the same features: {how}."


def cached_baseline(prepared) -> dict | None:
    """linear_baseline, fitted at most once per prepared data: underfitting may ask for it while
    training, and the finished run's findings after."""
    memo = vars(prepared)
    # Keyed on the splits it was fitted on: a data hook (bagging, CV folds) may swap them.
    key = (id(prepared.train), id(prepared.val))
    if memo.get("_linear_baseline", (None,))[0] != key:
        try:
            memo["_linear_baseline"] = (key, linear_baseline(prepared))
        except (ValueError, MemoryError):  # a fit that cannot be made is no reason to fail a run
            memo["_linear_baseline"] = (key, None)
    return memo["_linear_baseline"][1]


def annotate(findings: list, repairs: list, prepared) -> None:
    """Add the yardstick to the findings (and the repaired findings' records) that ask for it,
    computing it once and only if one does."""
    # Not the findings made before training: they name a setting (min_delta, batch norm over two
    # rows), whose explanation the data's signal does not change.
    asking = [f for f in findings if f.code in ASKS and f.epoch != 0] + \
        [r for r in repairs if r.get("code") in ASKS and r.get("onset_epoch") != 0]
    if not asking:
        return
    base = cached_baseline(prepared)
    if base is None:
        return
    for item in asking:
        if isinstance(item, dict):
            item.setdefault("before", {})["linear_baseline"] = base
            if item.get("explanation"):
                item["explanation"] += sentence(base)
        else:
            item.evidence["linear_baseline"] = base
            item.explanation += sentence(base)
            # Only where training fell while validation stayed at chance (_val_at_chance's evidence):
            # a training loss stuck at chance memorises nothing.
            if not item.fixes and verdict(base) == "signal" and "val_loss_best" in item.evidence \
                    and "settled_by_epoch" not in item.evidence:
                # Validation at chance while a linear model finds signal: the network memorises
                # rows. For the next run; the live doctor had no fix to apply.
                from .findings import Fix

                item.fixes = [Fix({"optimizer.weight_decay": 1e-3},
                                  "penalise large weights so the network cannot memorise single rows"),
                              Fix({"model.dropout": 0.3}, "drop units while training, for the same reason",
                                  architecture=True)]
