import numpy as np
import pytest
from sklearn import metrics as skm

from trainwell.metrics import compute, compute_per_epoch, smallest_class_recall


def test_per_epoch_fast_path_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 300)
    proba = rng.dirichlet(np.ones(4), 300)
    assert compute_per_epoch(["accuracy"], "multiclass", y, proba)["accuracy"] == pytest.approx(
        skm.accuracy_score(y, proba.argmax(1)))
    skewed = np.r_[np.zeros(280, int), np.ones(15, int), np.full(5, 2)]
    three = proba[:, :3] / proba[:, :3].sum(1, keepdims=True)  # no class beyond those in the labels
    for labels, p in ((y, proba), (skewed, three)):
        assert compute_per_epoch(["balanced_accuracy"], "multiclass", labels, p)["balanced_accuracy"] == \
            pytest.approx(skm.balanced_accuracy_score(labels, p.argmax(1)))
    # the doctor's rare-class recall: sklearn's recall of the class with the fewest rows (class 2)
    per_class = skm.recall_score(skewed, three.argmax(1), labels=[0, 1, 2], average=None)
    rare, others = smallest_class_recall(skewed, three)
    assert (rare, others) == (pytest.approx(per_class[2]), pytest.approx(per_class[:2].mean()))
    # a class missing from the labels counts in neither (balanced accuracy leaves it out too)
    assert smallest_class_recall(skewed[skewed != 1], three[skewed != 1])[1] == pytest.approx(per_class[0])
    yr, pr = rng.normal(50, 10, 300), rng.normal(50, 10, 300)
    fast = compute_per_epoch(["mae", "mse", "rmse", "r2"], "regression", yr, pr)
    assert fast["mae"] == pytest.approx(skm.mean_absolute_error(yr, pr))
    assert fast["mse"] == pytest.approx(skm.mean_squared_error(yr, pr))
    assert fast["rmse"] == pytest.approx(skm.mean_squared_error(yr, pr) ** 0.5)
    assert fast["r2"] == pytest.approx(skm.r2_score(yr, pr))
    # Anything without a fast path goes to sklearn.
    assert compute_per_epoch(["f1"], "multiclass", y, proba)["f1"] == pytest.approx(
        skm.f1_score(y, proba.argmax(1), average="macro"))


def test_classification_metrics_binary_and_multiclass():
    y = np.array([0, 1, 1, 0, 1])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0.1, 0.9]])
    m = compute(["accuracy", "roc_auc", "log_loss", "confusion_matrix", "f1"], "binary", y, proba)
    assert m["accuracy"] == 0.8
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))
    assert m["confusion_matrix"] == [[2, 0], [1, 2]]
    # A split where one class is absent still scores roc_auc over the classes present.
    y3 = np.array([0, 0, 1, 1])
    p3 = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1]])
    assert compute(["roc_auc"], "multiclass", y3, p3)["roc_auc"] == 1.0


def test_tossed_pair_finds_the_two_classes_split_evenly_and_ignores_a_learnt_pair():
    from trainwell.metrics import tossed_pair

    y = np.repeat([0, 1, 2, 3], 10)
    proba = np.zeros((40, 4))
    proba[y == 0, 0] = 1.0
    proba[y == 3, 3] = 1.0
    proba[(y == 1) | (y == 2), 1] = 0.5  # 1 and 2: the model is sure it is one of the two, never which
    proba[(y == 1) | (y == 2), 2] = 0.5
    a, b, toss, mass = tossed_pair(y, proba)
    assert (a, b) == (1, 2) and toss == pytest.approx(0.5) and mass == pytest.approx(1.0)
    learnt = np.eye(4)[y] * 0.9 + 0.025
    assert tossed_pair(y, learnt)[2] < 0.05
    assert tossed_pair(np.array([0, 1] * 5), np.full((10, 2), 0.5)) is None  # two classes: stuck_at_chance's
    assert tossed_pair(y[y < 2], proba[y < 2][:, :3]) is None  # fewer than 3 classes present


def test_macro_averages_cover_the_classes_the_rows_hold():
    """A class with no rows among those scored has no recall: macro precision, recall and f1 average
    over the classes present, as balanced accuracy does; the confusion matrix keeps every class."""
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.eye(4)[y] * 0.97 + 0.01  # perfect on classes 0-2; class 3 has no row here
    m = compute(["precision", "recall", "f1", "balanced_accuracy", "confusion_matrix"], "multiclass", y, proba)
    assert (m["precision"], m["recall"], m["f1"], m["balanced_accuracy"]) == (1.0, 1.0, 1.0, 1.0)
    assert len(m["confusion_matrix"]) == 4 and m["confusion_matrix"][3] == [0, 0, 0, 0]
    assert compute_per_epoch(["f1"], "multiclass", y, proba)["f1"] == 1.0  # what val_f1 and tuning read
    # half the rows answered with a class they do not hold: those predictions count against precision
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    wrong = np.eye(3)[[0, 0, 2, 2, 1, 1, 2, 2]]
    m = compute(["accuracy", "precision", "recall", "f1"], "multiclass", y, wrong)
    assert m["accuracy"] == 0.5 and m["recall"] == 0.5
    assert m["precision"] == pytest.approx(2 / 3) and m["f1"] == pytest.approx(4 / 9)


def test_evaluate_scores_macro_metrics_over_present_classes_without_warnings(cli, tmp_path, make_blobs):
    """Trained for real with a fourth class of one row: on the test split and on a file of a single
    class, recall equals balanced accuracy (both the mean recall of the classes present) and no
    sklearn warning reaches the user."""
    import json
    import warnings

    frame = make_blobs(120)
    frame.loc[0, "label"] = "fox"  # lands in the training split (seed 0), not the test split
    frame.to_csv(tmp_path / "rare.csv", index=False)
    frame[frame["label"] == "dog"].to_csv(tmp_path / "dogs.csv", index=False)
    cfg = tmp_path / "rare.yaml"
    cfg.write_text(f"name: rare\nseed: 0\ndoctor: {{enabled: false}}\ndata: {{source: {tmp_path / 'rare.csv'}, "
                   "target: label}\nmodel: {hidden: [16]}\ntraining: {epochs: 5}\n")
    code, _, err = cli("train", cfg, "--out", tmp_path / "run", "-q")
    assert code == 0, err
    for extra in ((), ("--data", tmp_path / "dogs.csv")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, out, err = cli("evaluate", tmp_path / "run", *extra)
        assert code == 0 and not caught and "Warning" not in err, (err, [str(w.message) for w in caught])
        scores = next(iter(json.loads(out).values()))
        assert len(scores["confusion_matrix"]) == 4 and not any(scores["confusion_matrix"][3])
        assert scores["recall"] == pytest.approx(scores["balanced_accuracy"])
