import math
import numpy as np
import pandas as pd
import pytest
import torch

import trainwell
from trainwell.config import load_config
from trainwell.data import DataSpec
from trainwell.errors import UserError
from trainwell.models import build
from trainwell.models.custom import check_output_shape

TEXT = DataSpec(task="multiclass", target="y", input_columns=["body"], column_types={"body": "text"},
                feature_names=["tokens"], n_features=8, classes=[0, 1, 2], n_outputs=3, kind="text",
                input_shape=[8], vocab_size=20)
SERIES = DataSpec(task="regression", target="y", input_columns=["a", "b"], column_types={"a": "numeric", "b": "numeric"},
                  feature_names=["a", "b"], n_features=2, classes=None, n_outputs=1, kind="timeseries",
                  input_shape=[10, 2])
SMALL = {"type": "transformer", "d_model": 16, "heads": 2, "layers": 1, "ff": 32}


def _model(spec, n_out, **model):
    return build(load_config({"model": {**SMALL, **model}}).model, spec, n_out, seed=0)


def _ids(n=4):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(3, 20, (n, 8), generator=g)
    x[1] = 0            # an empty text: all padding
    x[2, 3:] = 0        # a short one
    return x


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "none"])
def test_text_shapes_and_finite(pooling, positional):
    m = _model(TEXT, 3, pooling=pooling, positional=positional)
    x = _ids()
    for mode in (m.train, m.eval):  # eval may take PyTorch's fused fast path: check both
        mode()
        with torch.no_grad():
            out = m(x)
        assert out.shape == (4, 3) and torch.isfinite(out).all()
    assert isinstance(m.head, torch.nn.Linear) and m.head.out_features == 3
    check_output_shape(m, TEXT, 3, "transformer")  # all-zero ids: every row is padding


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "none"])
def test_float_sequence_shapes(pooling, positional):
    m = _model(SERIES, 3, pooling=pooling, positional=positional)
    out = m(torch.randn(5, 10, 2))
    assert out.shape == (5, 3) and torch.isfinite(out).all()
    if positional == "learned":
        assert m.pos.shape[1] == 10 + (pooling == "cls")


def test_all_padding_row_pools_to_zero_and_padding_is_ignored():
    m = _model(TEXT, 3, dropout=0.0).eval()
    x = _ids()
    with torch.no_grad():
        out = m(x)
        # The empty row sees no token: only the head's bias is left.
        assert torch.allclose(out[1], m.head.bias, atol=1e-6)
        # Padding changes nothing: the short row alone, cut to its 3 tokens, gives the same scores.
        short = m(x[2:3, :3])
    assert torch.allclose(out[2], short[0], atol=1e-5)


def test_all_padding_gradients_are_finite():
    m = _model(TEXT, 3, pooling="mean")
    loss = torch.nn.functional.cross_entropy(m(torch.zeros(3, 8, dtype=torch.long)), torch.tensor([0, 1, 2]))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)


@pytest.mark.parametrize("spec,x,y", [
    (TEXT, _ids(6), torch.tensor([0, 1, 2, 0, 1, 2])),
    (SERIES, torch.randn(6, 10, 2), torch.randn(6, 3)),
])
@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_one_training_step_changes_parameters(spec, x, y, pooling):
    m = _model(spec, 3, pooling=pooling, positional="learned")
    before = {k: v.detach().clone() for k, v in m.named_parameters()}
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    out = m(x)
    loss = (torch.nn.functional.cross_entropy(out, y) if spec.kind == "text"
            else torch.nn.functional.mse_loss(out, y))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    changed = {k for k, v in m.named_parameters() if not torch.equal(before[k], v)}
    assert {"head.weight", "embed.weight", "pos"} <= changed
    if pooling == "cls" and spec.kind != "text":
        assert "cls" in changed


def test_tabular_data_is_refused_with_a_clear_message():
    spec = DataSpec(task="binary", target="y", input_columns=["a"], column_types={"a": "numeric"},
                    feature_names=["a"], n_features=1, classes=[0, 1], n_outputs=2, input_shape=[1])
    with pytest.raises(UserError, match="model.type mlp"):
        _model(spec, 2)


def test_train_predict_evaluate_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    words = {"good": "pos", "great": "pos", "bad": "neg", "awful": "neg"}
    keys = rng.choice(list(words), 160)
    frame = pd.DataFrame({"body": [f"it was {w} number {i}" for i, w in enumerate(keys)],
                          "label": [words[w] for w in keys]})
    frame.loc[0, "body"] = ""
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    cfg = {"seed": 0, "data": {"source": str(path), "target": "label", "text": {"column": "body", "max_len": 8}},
           "model": {**SMALL, "pooling": "cls"}, "optimizer": {"name": "adam", "lr": 0.01},
           "training": {"epochs": 4, "batch_size": 32}}
    run = trainwell.train(cfg, out=tmp_path / "run")
    assert run.state["kind"] == "text" and run.metrics["test"]["accuracy"] >= 0.5
    new = pd.DataFrame({"body": ["it was great", "It was AWFUL", "", None]}, index=[10, 11, 12, 13])
    pred = run.predict(new)
    assert list(pred.index) == [10, 11, 12, 13]
    assert set(pred["prediction"]) <= {"neg", "pos"}
    probs = pred[["proba_neg", "proba_pos"]].to_numpy()
    assert np.isfinite(probs).all() and np.allclose(probs.sum(1), 1, atol=1e-5)
    scores = run.evaluate()
    assert "test" in scores and scores["rows"] > 0
    assert run.evaluate(path)["rows"] == len(frame)


def test_a_named_init_reaches_the_attention_projections_and_auto_keeps_pytorchs():
    constant = _model(TEXT, 3, init={"weight": {"name": "constant", "value": 0.5},
                                     "bias": {"name": "constant", "value": 0.25}})
    attn = constant.encoder.layers[0].self_attn
    assert torch.all(attn.in_proj_weight == 0.5) and torch.all(attn.in_proj_bias == 0.25)
    # each of query, key and value as its own matrix: orthogonal rows within each block
    ortho = _model(TEXT, 3, init={"weight": "orthogonal"}).encoder.layers[0].self_attn.in_proj_weight
    for block in ortho.detach().chunk(3):
        assert torch.allclose(block @ block.T, torch.eye(16), atol=1e-5)
    auto = _model(TEXT, 3).encoder.layers[0].self_attn
    assert torch.all(auto.in_proj_bias == 0) and auto.in_proj_weight.abs().max() <= math.sqrt(6 / (16 + 48)) + 1e-6
