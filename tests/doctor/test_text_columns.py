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
