"""Every loss trains end to end on the task it fits; output sizes follow task and loss."""

import numpy as np
import pandas as pd
import pytest

import trainwell
from trainwell.training.losses import output_size, resolve_name


@pytest.fixture
def binary_csv(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    y = np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "pos", "neg")
    p = tmp_path / "bin.csv"
    pd.DataFrame({"f0": x[:, 0], "f1": x[:, 1], "f2": x[:, 2], "y": y}).to_csv(p, index=False)
    return p


@pytest.fixture
def regression_csv(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 2))
    p = tmp_path / "reg.csv"
    pd.DataFrame({"f0": x[:, 0], "f1": x[:, 1], "y": 100 + 30 * x[:, 0] - 10 * x[:, 1] + rng.normal(0, 1, 200)}
                 ).to_csv(p, index=False)
    return p


def cfg(source, loss_name, **extra):
    c = {"data": {"source": str(source), "target": "y"}, "model": {"hidden": [16]}, "loss": {"name": loss_name},
         "optimizer": {"lr": 0.02}, "training": {"epochs": 15, "batch_size": 16}}
    for k, v in extra.items():
        c.setdefault(k, {}).update(v)
    return c


@pytest.mark.parametrize("loss", ["bce", "cross_entropy", "hinge"])
def test_binary_losses_learn(binary_csv, tmp_path, loss):
    run = trainwell.train(cfg(binary_csv, loss), out=tmp_path / loss)
    assert run.metrics["test"]["accuracy"] > 0.85
    assert run.info["n_out"] == (1 if loss == "bce" else 2)
    probs = run.predict(pd.read_csv(binary_csv).head(5))
    assert np.allclose(probs[["proba_neg", "proba_pos"]].sum(axis=1), 1)


def test_cross_entropy_label_smoothing_and_class_weights(blobs_csv, tmp_path):
    c = cfg(blobs_csv, "cross_entropy", loss={"label_smoothing": 0.1, "class_weights": [1.0, 2.0, 1.0]})
    c["data"]["target"] = "label"
    run = trainwell.train(c, out=tmp_path / "ce")
    assert run.metrics["test"]["accuracy"] > 0.9


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_losses_learn_in_original_units(regression_csv, tmp_path, loss):
    run = trainwell.train(cfg(regression_csv, loss, training={"epochs": 40}), out=tmp_path / loss)
    test = run.metrics["test"]
    assert test["r2"] > 0.9
    assert test["rmse"] == pytest.approx(test["mse"] ** 0.5)
    pred = run.predict(pd.read_csv(regression_csv).head(50))["prediction"]
    assert 50 < pred.mean() < 150  # original units, not standardized ones


def test_loss_resolution():
    assert resolve_name("auto", "binary") == "bce"
    assert resolve_name("auto", "multiclass") == "cross_entropy"
    assert resolve_name("auto", "regression") == "mse"
    assert output_size("hinge", "binary", 2) == 2
    with pytest.raises(trainwell.UserError, match="valid: mse, mae, huber"):
        resolve_name("bce", "regression")


def test_the_l1_penalty_is_optimised_but_train_loss_reports_the_data_loss_as_val_loss_does(tiny_cfg, tmp_path):
    import json

    import trainwell

    def history(l1):
        run = trainwell.train(tiny_cfg, {"regularization.l1": l1, "doctor.enabled": False}, out=tmp_path / f"r{l1}",
                              quiet=True)
        return [json.loads(line) for line in (run.path / "history.jsonl").read_text().splitlines()]

    plain, penalised = history(0.0), history(1.0)
    # L1 of 1.0 on the 16-unit net's weights is a penalty of several nats at the start; the reported
    # loss stays on the data loss's scale (1.8 -> 1.1 here; ln 3 = 1.10 is chance).
    assert all(h["train_loss"] < 3 for h in penalised), [h["train_loss"] for h in penalised]  # was 52 -> 30
    # ... while the penalty still shapes training: the weights it shrinks give another loss.
    assert [h["train_loss"] for h in penalised] != [h["train_loss"] for h in plain]


def _loss(name, task, k, eps=0.0, weights=None):
    from types import SimpleNamespace

    from trainwell.training.losses import build

    return build(SimpleNamespace(name=name, label_smoothing=eps, class_weights=weights, huber_delta=1.0), task, k)


def test_label_smoothing_on_bce_is_the_two_class_cross_entropys():
    import torch

    torch.manual_seed(0)
    logit, y = torch.randn(8, 1), torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    both = torch.cat([torch.zeros(8, 1), logit], dim=1)
    assert torch.allclose(_loss("bce", "binary", 2, 0.2)(logit, y), _loss("cross_entropy", "binary", 2, 0.2)(both, y))
    assert not torch.allclose(_loss("bce", "binary", 2, 0.2)(logit, y), _loss("bce", "binary", 2)(logit, y))


def test_class_weights_weigh_each_rows_smoothed_loss_by_its_own_class():
    import torch

    # A confident, right answer for every row, classes weighted 1 and 26 (a 4% class balanced).
    out, y = torch.tensor([[4.0, -4.0]] * 24 + [[-4.0, 4.0]]), torch.tensor([0] * 24 + [1])
    ours = _loss("cross_entropy", "binary", 2, 0.1, [1.0, 26.0])
    plain = torch.nn.functional.cross_entropy(out, y, label_smoothing=0.1, reduction="none")
    assert torch.allclose(ours(out, y), (plain * torch.tensor([1.0] * 24 + [26.0])).sum() / 50)
    # PyTorch's own weighted smoothing charges the rare class's weight on every common row's smoothing
    # share, so the all-right answer above costs far more there: the pull towards the rare class.
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 26.0]), label_smoothing=0.1)(out, y)
    assert theirs > 2 * ours(out, y)
    # without smoothing the two agree
    assert torch.allclose(_loss("cross_entropy", "binary", 2, 0.0, [1.0, 26.0])(out, y),
                          torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 26.0]))(out, y))


def test_label_smoothing_on_a_loss_without_probabilities_is_refused(regression_csv, tmp_path):
    from trainwell.errors import UserError

    with pytest.raises(UserError, match="loss.label_smoothing"):
        _loss("hinge", "multiclass", 3, 0.1)
    with pytest.raises(UserError, match="loss.label_smoothing.*mse"):
        trainwell.train({"data": {"source": str(regression_csv), "target": "y"}, "loss": {"label_smoothing": 0.1},
                         "training": {"epochs": 1}}, out=tmp_path / "r", quiet=True)


def test_class_weights_by_label_go_to_the_class_they_name(binary_csv, tmp_path):
    # Sorted labels: neg, pos. A mapping cannot be given in the wrong order; a list follows that order.
    x = pd.read_csv(binary_csv).drop(columns="y")
    shares = {}
    for name, weights in {"map": {"pos": 1000.0}, "list": [1000.0, 1.0]}.items():
        run = trainwell.train(cfg(binary_csv, "cross_entropy", loss={"class_weights": weights},
                                  training={"epochs": 3}), out=tmp_path / name)
        shares[name] = (run.predict(x)["prediction"] == "pos").mean()
    assert shares["map"] > 0.8 and shares["list"] < 0.2


def test_class_weights_by_label_name_an_unknown_label():
    from trainwell.errors import UserError
    from trainwell.training.losses import resolve_class_weights

    assert resolve_class_weights({"b": 3.0}, ["a", "b", "c"]) == [1.0, 3.0, 1.0]
    assert resolve_class_weights({"2": 3.0}, [0, 1, 2]) == [1.0, 1.0, 3.0]
    with pytest.raises(UserError, match=r"no class 'd'.*\['a', 'b', 'c'\]"):
        resolve_class_weights({"d": 3.0}, ["a", "b", "c"])
