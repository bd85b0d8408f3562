"""Generate examples/data/reviews.csv: short synthetic product reviews in 3 classes, and (with
--baseline) score a bag-of-words baseline on the same split the transformer example trains on.

    python examples/make_text.py                # writes examples/data/reviews.csv (seeded)
    python examples/make_text.py --baseline     # bag-of-words LogisticRegression on the same split

What the task tests, honestly: keyword + negation + clause-order detection on generated text.
It does not show language understanding. Each review is built from clauses like
"the battery is not great"; a clause's polarity is its adjective's, flipped by a negation
("not", "never", "hardly", "isn't"/"wasn't"). The label (positive / negative / mixed):

* one clause: its polarity;
* "A and B": the shared polarity, or mixed when they disagree;
* "A but B": B's polarity (the clause after "but" wins);
* "although A, B" and "B, although A": B's polarity (the conceded clause does not count).

So the same words can carry opposite labels depending on order and negation, which a bag of
words cannot see; single keywords still carry much of the signal, so a bag of words does far
better than chance. 5% of the labels are replaced at random (noise), 2% of the texts are empty
(their label is random too), and some reviews carry a random model code (e.g. "zx4821") that
is mostly absent from the training vocabulary, so val/test contain <unk> tokens.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
OUT = HERE / "data" / "reviews.csv"

ASPECTS = ["battery", "screen", "camera", "keyboard", "speaker", "charger", "case", "strap", "fan", "lens",
           "handle", "lid", "cable", "app", "motor", "button", "hinge", "display", "microphone", "mount"]
POSITIVE = ["good", "great", "excellent", "solid", "reliable", "fast", "sturdy", "bright", "comfortable", "quiet"]
NEGATIVE = ["bad", "awful", "flimsy", "slow", "noisy", "dim", "weak", "cheap", "fragile", "terrible"]
INTENSIFIERS = ["", "", "", "very ", "really ", "quite ", "pretty "]
PREFIXES = ["", "", "", "honestly, ", "overall ", "after two weeks ", "to be fair ", "well, ", "so far "]
SUFFIXES = [".", ".", "!", "", " for the price.", " in my opinion.", " :)", "..."]
FILLERS = ["", "", "", "", "i bought it for my brother. ", "arrived on tuesday. ", "second one i own. ",
           "ordered the blue one. ", "the box was fine. "]
CLASSES = ["negative", "positive", "mixed"]


def _clause(rng: np.random.Generator, polarity: int) -> str:
    """A clause whose meaning has the given polarity (+1 / -1); half of them say it by negation."""
    aspect = rng.choice(ASPECTS)
    negated = rng.random() < 0.45
    word_polarity = -polarity if negated else polarity
    adj = rng.choice(POSITIVE if word_polarity > 0 else NEGATIVE)
    tense = rng.choice(["is", "was", "feels", "seems"])
    intens = rng.choice(INTENSIFIERS)
    if negated:
        form = rng.integers(4)
        if form == 0 and tense in ("is", "was"):
            return f"the {aspect} {tense}n't {intens}{adj}"
        neg = ["not", "never", "hardly", "not"][form]
        return f"the {aspect} {tense} {neg} {intens}{adj}"
    return f"the {aspect} {tense} {intens}{adj}"


def _review(rng: np.random.Generator) -> tuple[str, str]:
    kind = rng.choice(["one", "and", "but", "although_front", "although_back"], p=[0.3, 0.3, 0.2, 0.1, 0.1])
    a, b = int(rng.choice([-1, 1])), int(rng.choice([-1, 1]))
    if kind == "one":
        body, label = _clause(rng, a), a
    elif kind == "and":
        b = -a if rng.random() < 0.6 else a  # mostly disagreeing: the mixed class needs rows
        body, label = f"{_clause(rng, a)} and {_clause(rng, b)}", (a if a == b else 0)
    elif kind == "but":
        body, label = f"{_clause(rng, a)} but {_clause(rng, b)}", b
    elif kind == "although_front":
        body, label = f"although {_clause(rng, a)}, {_clause(rng, b)}", b
    else:
        body, label = f"{_clause(rng, b)}, although {_clause(rng, a)}", b
    code = f"model {rng.choice(['zx', 'kp', 'qt'])}{rng.integers(1000, 10000)} " if rng.random() < 0.2 else ""
    text = f"{rng.choice(FILLERS)}{code}{rng.choice(PREFIXES)}{body}{rng.choice(SUFFIXES)}"
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]  # the tokenizer lowercases (data.text.lowercase)
    return text, {-1: "negative", 1: "positive", 0: "mixed"}[label]


def generate(n: int = 4000, seed: int = 0, noise: float = 0.05, empty: float = 0.02) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts, labels = zip(*(_review(rng) for _ in range(n)))
    texts, labels = list(texts), list(labels)
    for i in np.flatnonzero(rng.random(n) < noise):
        labels[i] = str(rng.choice(CLASSES))
    for i in np.flatnonzero(rng.random(n) < empty):
        texts[i], labels[i] = "", str(rng.choice(CLASSES))
    return pd.DataFrame({"review": texts, "sentiment": labels})


def baseline(config: Path) -> dict:
    """LogisticRegression on token counts (unigrams, and unigrams + bigrams), on the exact split and
    vocabulary the transformer example gets from trainwell's own data preparation."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    import trainwell
    from trainwell.data import prepare

    cfg = trainwell.load_config(config)
    source = Path(cfg.data.source)
    if not source.is_absolute() and not source.exists():
        cfg.data.source = str(config.parent / source)
    prepared = prepare(cfg.data, cfg.seed, cfg.model.type)

    def docs(x):  # token ids -> "id id id" (padding dropped); <unk> stays one shared token
        return [" ".join(str(i) for i in row if i) for row in x]

    out = {}
    for name, ngrams in (("unigram", (1, 1)), ("uni+bigram", (1, 2))):
        vec = CountVectorizer(token_pattern=r"\d+", ngram_range=ngrams)
        xtr = vec.fit_transform(docs(prepared.train.x))
        clf = LogisticRegression(max_iter=2000, C=1.0).fit(xtr, prepared.train.y)
        scores = {}
        for split in ("val", "test"):
            arrays = getattr(prepared, split)
            pred = clf.predict(vec.transform(docs(arrays.x)))
            scores[split] = {"accuracy": round(accuracy_score(arrays.y, pred), 4),
                             "f1": round(f1_score(arrays.y, pred, average="macro"), 4)}
        out[name] = scores
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--baseline", action="store_true", help="score bag-of-words on the example's split")
    parser.add_argument("--config", type=Path, default=HERE / "text_transformer.yaml")
    args = parser.parse_args()
    if args.baseline:
        for name, scores in baseline(args.config).items():
            print(f"bag of words ({name}) + LogisticRegression: {scores}")
        return
    frame = generate(args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {args.out} ({len(frame)} rows, {args.out.stat().st_size / 1e3:.0f} kB); "
          f"classes {frame['sentiment'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
