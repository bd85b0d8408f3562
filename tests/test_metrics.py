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
