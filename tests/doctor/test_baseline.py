"""The linear yardstick: it tells data without signal from a network that does not learn."""

import json

import numpy as np
import pandas as pd

import trainwell
from trainwell import data as data_mod
from trainwell.config import load_config
from trainwell.doctor import baseline
from trainwell.doctor.findings import Finding


def prepared(source, shuffle=False, seed=0):
    cfg = load_config({"data": {"source": source}, "seed": seed})
    p = data_mod.prepare(cfg.data, cfg.seed, cfg.model.type)
    if shuffle:
        rng = np.random.default_rng(seed)
        p.train.y, p.val.y = rng.permutation(p.train.y), rng.permutation(p.val.y)
    return p


def test_real_labels_have_signal_and_shuffled_ones_none():
    for source in ("builtin:iris", "builtin:breast_cancer", "builtin:diabetes"):
        assert baseline.verdict(baseline.linear_baseline(prepared(source))) == "signal", source
        assert baseline.verdict(baseline.linear_baseline(prepared(source, shuffle=True))) == "nothing", source
    base = baseline.linear_baseline(prepared("builtin:iris"))
    assert base["model"] == "logistic regression" and base["val_accuracy"] > 0.8
    assert base["chance_loss"] > 1.0 > base["val_loss"] and base["majority_share"] < 0.4


def test_texts_are_read_as_a_bag_of_words(tmp_path):
    # Topic words decide the label; with the labels shuffled no word does.
    rng = np.random.default_rng(0)
    topics = {"billing": ["invoice", "refund", "charge"], "tech": ["crash", "error", "bug"], "access": ["login", "password", "locked"]}
    filler = ["please", "help", "today", "my", "the", "account", "thanks", "again"]
    rows = [(" ".join(list(rng.choice(filler, 5)) + [rng.choice(topics[t])]), t)
            for t in rng.choice(list(topics), 600)]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "t.csv", index=False)
    cfg = load_config({"data": {"source": str(tmp_path / "t.csv"), "target": "label", "text": {"column": "text"}},
                       "model": {"type": "transformer"}})
    p = data_mod.prepare(cfg.data, 0, "transformer")
    base = baseline.linear_baseline(p)
    assert base["model"] == "logistic regression" and base["val_accuracy"] > 0.95
    assert baseline.verdict(base) == "signal"
    p.train.y, p.val.y = rng.permutation(p.train.y), rng.permutation(p.val.y)
    assert baseline.verdict(baseline.linear_baseline(p)) == "nothing"


def test_annotate_touches_only_the_findings_that_ask_and_adds_fixes_when_the_data_has_signal():
    p = prepared("builtin:iris")
    stuck = Finding("stuck_at_chance", "warning", 1, None, {"val_loss_best": 1.09}, "Validation never beat chance.")
    still = Finding("stuck_at_chance", "error", 3, None, {"train_loss_last_3": [1.1] * 3}, "Training at chance.")
    other = Finding("lr_too_low", "warning", 3, None, {}, "Slow.")
    repaired = {"code": "underfitting", "explanation": "Too small.", "before": {"train_loss": 1.0}}
    baseline.annotate([stuck, still, other], [repaired], p)
    assert stuck.evidence["linear_baseline"]["model"] == "logistic regression"
    assert "does learn" in stuck.explanation and "training is at fault" in stuck.explanation
    assert [f.overrides for f in stuck.fixes] == [{"optimizer.weight_decay": 1e-3}, {"model.dropout": 0.3}]
    # a training loss that never left chance memorises nothing: no regularisation offered
    assert "does learn" in still.explanation and still.fixes == []
    assert other.evidence == {} and other.explanation == "Slow."
    assert "linear_baseline" in repaired["before"] and "does learn" in repaired["explanation"]
    # without a validation split there is nothing to score on: left as it was
    p.val = None
    alone = Finding("stuck_at_chance", "warning", 1, None, {}, "x")
    baseline.annotate([alone], [], p)
    assert alone.evidence == {} and alone.explanation == "x"


def test_random_labels_are_called_out_end_to_end(tmp_path, cli):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 6)), columns=list("abcdef"))
    frame["label"] = rng.choice(["x", "y", "z"], len(frame))
    frame.to_csv(tmp_path / "noise.csv", index=False)
    cfg = {"seed": 0, "data": {"source": str(tmp_path / "noise.csv"), "target": "label"},
           "model": {"hidden": [16]}, "training": {"epochs": 30, "threads": 1}}
    run = trainwell.train(cfg, out=tmp_path / "r", quiet=True)
    findings = json.loads((run.path / "findings.json").read_text())
    assert [(f["code"], f["severity"]) for f in findings] == [("stuck_at_chance", "warning")]
    assert findings[0]["evidence"]["linear_baseline"]["val_loss"] >= 0.9 * findings[0]["evidence"]["linear_baseline"]["chance_loss"]
    code, out, err = cli("diagnose", run.path)
    assert code == 0, err
    assert "no linear signal either" in out and "data.target" in out


def test_a_constant_fill_is_far_only_when_no_value_of_the_column_is_near_it(tmp_path):
    import numpy as np
    import pandas as pd

    from trainwell.config import load_config
    from trainwell.data import prepare
    from trainwell.doctor.context import fill_far

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "alcohol": rng.normal(13, 0.8, n),                        # 0 is 16 sd and 3 ranges away
        "zeros": np.where(rng.random(n) < 0.3, 0.0, rng.normal(100, 5, n)),  # holds 0 itself
        "count": rng.poisson(0.02, n).astype(float),              # -1 is one unit from its values
        "color": rng.choice(["red", "blue"], n),                  # a one-hot block before the numbers
        "target": rng.integers(0, 2, n)})
    frame = frame[["color", "alcohol", "zeros", "count", "target"]]
    for col in ("alcohol", "zeros", "count"):
        frame.loc[rng.random(n) < 0.05, col] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)

    def far(value, **clean):
        cfg = load_config({"data": {"source": str(tmp_path / "t.csv"), "target": "target",
                                    "clean": {"impute": "constant", "impute_value": value, **clean}}})
        return [f["column"] for f in fill_far(prepare(cfg.data, 0, "mlp"), value)]

    assert far(0.0) == ["alcohol"]
    assert far(-1.0) == ["alcohol"]          # not the count column
    # clipped at 3 sd before the network sees it: no longer far
    assert far(0.0, clip_outliers="zscore") == []


def test_a_loss_near_chance_is_no_verdict_of_nothing_when_the_accuracy_clearly_beats_the_majority():
    from trainwell.doctor.baseline import verdict

    # loan labels with a quarter flipped: the best loss stays near chance, the accuracy does not
    noisy = {"val_loss": 0.6247, "chance_loss": 0.6891, "val_accuracy": 0.68, "majority_share": 0.532, "val_rows": 400}
    assert verdict(noisy) is None
    assert verdict({**noisy, "val_accuracy": 0.56}) == "nothing"  # within 3 standard errors of the majority
    assert verdict({**noisy, "val_rows": 20}) == "nothing"  # 15 points over 20 rows is no proof
    assert verdict({k: v for k, v in noisy.items() if k != "val_rows"}) == "nothing"  # a yardstick saved before
