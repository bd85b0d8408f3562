import pytest
import torch

from trainwell.config import load_config
from trainwell.data import DataSpec
from trainwell.models import build, count_parameters

SPEC = DataSpec(task="multiclass", target="y", input_columns=["a", "b", "c"],
                column_types={"a": "numeric", "b": "numeric", "c": "numeric"},
                feature_names=["a", "b", "c"], n_features=3, classes=[0, 1, 2, 3], n_outputs=4)


def _model(**model):
    return build(load_config({"model": model}).model, SPEC, 4, seed=0)


def test_shape_and_raw_logits():
    m = _model(hidden=[8, 8])
    out = m(torch.randn(5, 3))
    assert out.shape == (5, 4)
    # Raw scores: not a probability simplex, so no softmax is hidden in the network.
    assert not torch.allclose(out.softmax(1).sum(1), out.sum(1))
    assert count_parameters(m) == 3 * 8 + 8 + 8 * 8 + 8 + 8 * 4 + 4


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "sigmoid"])
def test_every_activation_trains_one_step(act):
    m = _model(hidden=[8], activation=act, dropout=0.1, batch_norm=True)
    before = [p.detach().clone() for p in m.parameters()]
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(m(torch.randn(6, 3)), torch.tensor([0, 1, 2, 3, 0, 1]))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, m.parameters()))


@pytest.mark.parametrize("init,check", [
    ("zeros", lambda w: torch.count_nonzero(w) == 0),
    ({"name": "constant", "value": 0.3}, lambda w: torch.allclose(w, torch.full_like(w, 0.3))),
    ({"name": "normal", "std": 0.001}, lambda w: w.std() < 0.01),
    ({"name": "uniform", "a": 0.002}, lambda w: w.abs().max() <= 0.002),
    ("orthogonal", lambda w: torch.allclose(w.T @ w, torch.eye(w.shape[1]), atol=1e-5)),
    ("he_normal", lambda w: 0.3 < w.std() / (2 / w.shape[1]) ** 0.5 < 1.7),
    ("xavier_uniform", lambda w: w.abs().max() <= (6 / sum(w.shape)) ** 0.5 * 1.0001),
])
def test_weight_inits(init, check):
    m = build(load_config({"model": {"hidden": [64], "activation": "tanh" if init == "xavier_uniform" else "relu",
                                     "init": {"weight": init}}}).model, SPEC, 4, seed=0)
    w = m.body[0].weight.detach()
    if init == "xavier_uniform":
        w = w / (5 / 3)  # tanh gain
    assert check(w)


def test_bias_init_and_batchnorm_left_alone():
    m = build(load_config({"model": {"hidden": [8], "batch_norm": True,
                                     "init": {"bias": {"name": "constant", "value": 0.5}}}}).model, SPEC, 4, seed=0)
    assert torch.allclose(m.head.bias, torch.full((4,), 0.5))
    bn = m.body[1]
    assert torch.equal(bn.weight, torch.ones(8)) and torch.equal(bn.bias, torch.zeros(8))


def test_same_seed_same_weights():
    a, b = _model(hidden=[8]), _model(hidden=[8])
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
