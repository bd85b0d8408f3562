"""data.text.column naming a column whose words say nothing while another text column of the file
tells the classes apart (context.other_text_signal, rule text_column_silent)."""

import numpy as np
import pandas as pd

from test_column_screen import _all


def _tickets(path) -> str:
    rng = np.random.default_rng(0)
    teams = {"billing": "invoice refund charge card", "network": "router wifi packet latency",
             "access": "password login account locked"}
    subjects = ["support request", "help needed", "(no subject)", "question", "urgent"]
    rows = []
    for i in range(400):
        team = list(teams)[i % 3]
        words = rng.choice(teams[team].split(), 4).tolist() + rng.choice(["the", "a", "my", "please"], 4).tolist()
        rows.append({"subject": f"{rng.choice(subjects)} case {rng.integers(10000, 99999)}",
                     "body": " ".join(rng.permutation(words)), "team": team})
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def _found(config: dict) -> list:
    return [f for f in _all(config) if "other_column" in f.evidence]


def test_a_text_column_that_says_nothing_is_named_with_the_column_that_does_as_the_fix(tmp_path):
    source = _tickets(tmp_path / "tickets.csv")
    model = {"type": "transformer", "d_model": 16, "heads": 2, "layers": 1, "ff": 32}
    (f,) = _found({"data": {"source": source, "target": "team", "text": {"column": "subject"}}, "model": model})
    assert (f.code, f.severity, f.epoch) == ("bad_input_data", "warning", 0)
    assert f.evidence["linear_val_loss"] >= 0.9 * f.evidence["chance_loss"]
    assert f.evidence["other_linear_val_loss"] < 0.6 * f.evidence["other_chance_loss"]
    assert f.fixes[0].overrides == {"data.text.column": "body"}
    # the column that carries the label: nothing to say
    assert not _found({"data": {"source": source, "target": "team", "text": {"column": "body"}}, "model": model})


def _orders(path) -> str:
    """Who called whom: the same two names and verb in both classes, only their order differs
    ("ana calls ben": the name first in the alphabet called; "ben calls ana": it was called)."""
    rng = np.random.default_rng(1)
    names = ["ana", "ben", "cho", "dev", "eli", "fay"]
    rows = []
    for i in range(600):
        a, b = sorted(rng.choice(names, 2, replace=False))
        first = i % 2 == 0
        filler = rng.choice(["today", "again", "twice", "late", "early"], 2).tolist()
        words = ([a, "calls", b] if first else [b, "calls", a]) + filler
        rows.append({"text": " ".join(words), "who": "caller" if first else "called"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_a_transformer_without_positions_is_told_where_word_order_carries_the_label(tmp_path):
    model = {"type": "transformer", "d_model": 16, "heads": 2, "layers": 1, "ff": 32, "positional": "none"}
    ordered = {"source": _orders(tmp_path / "orders.csv"), "target": "who", "text": {"column": "text"}}
    (f,) = [f for f in _all({"data": ordered, "model": model}) if "pairs" in f.evidence]
    assert (f.code, f.severity, f.epoch) == ("underfitting", "warning", 0)
    assert f.evidence["pairs"] <= 0.5 * f.evidence["words"]
    assert f.evidence["pairs_accuracy"] >= f.evidence["words_accuracy"] + 0.05
    assert f.fixes[0].overrides == {"model.positional": "sinusoidal"} and f.fixes[0].architecture
    # with positions, or on texts whose words alone tell the classes apart: nothing to say
    assert not [f for f in _all({"data": ordered, "model": {**model, "positional": "sinusoidal"}}) if "pairs" in f.evidence]
    tickets = {"source": _tickets(tmp_path / "tickets.csv"), "target": "team", "text": {"column": "body"}}
    assert not [f for f in _all({"data": tickets, "model": model}) if "pairs" in f.evidence]
