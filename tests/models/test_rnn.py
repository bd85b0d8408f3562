import pytest
import torch

from trainwell.config import load_config
from trainwell.data import DataSpec
from trainwell.errors import UserError
from trainwell.models import build, count_parameters

T, F = 7, 3
SPEC = DataSpec(task="regression", target="y", input_columns=["a", "b", "c"],
                column_types={c: "numeric" for c in "abc"}, feature_names=["a", "b", "c"], n_features=F,
                classes=None, n_outputs=4, kind="timeseries", input_shape=[T, F])


def _model(n_out=4, spec=SPEC, **model):
    return build(load_config({"model": {"type": "rnn", **model}}).model, spec, n_out, seed=0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_shape_for_every_cell(cell, bidirectional):
    m = _model(cell=cell, hidden_size=8, layers=2, bidirectional=bidirectional, dropout=0.1, head=[5])
    out = m(torch.randn(6, T, F))
    assert out.shape == (6, 4)
    assert m.head.in_features == 5 and m.head.out_features == 4
    assert m.rnn.hidden_size == 8 and m.rnn.num_layers == 2 and m.rnn.bidirectional == bidirectional


def test_bidirectional_state_feeds_both_directions_to_the_head():
    m = _model(cell="gru", hidden_size=6, bidirectional=True)
    assert m.head.in_features == 12
    # The summary is (forward after the last step, backward after the first): both read every step,
    # so changing the first step or the last changes the output.
    x = torch.randn(2, T, F)
    base = m(x)
    for t in (0, T - 1):
        x2 = x.clone()
        x2[:, t] += 1.0
        assert not torch.allclose(m(x2), base)


def test_parameter_count_lstm():
    m = _model(cell="lstm", hidden_size=8, head=[])
    lstm = 4 * (8 * F + 8 * 8 + 8 + 8)
    assert count_parameters(m) == lstm + 8 * 4 + 4


def test_two_dimensional_input_is_one_feature():
    spec = DataSpec(**{**SPEC.__dict__, "input_shape": [T, 1], "n_features": 1})
    assert _model(spec=spec, hidden_size=4)(torch.randn(3, T)).shape == (3, 4)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_one_training_step_changes_parameters(cell):
    m = _model(n_out=3, cell=cell, hidden_size=8, head=[8], bidirectional=cell == "gru")
    before = [p.detach().clone() for p in m.parameters()]
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(m(torch.randn(6, T, F)), torch.tensor([0, 1, 2, 0, 1, 2]))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    changed = [not torch.equal(a, b) for a, b in zip(before, m.parameters())]
    assert all(changed), "every parameter, recurrent weights included, receives a gradient"


def test_tabular_data_is_a_user_error():
    spec = DataSpec(**{**SPEC.__dict__, "kind": "tabular", "input_shape": [F]})
    with pytest.raises(UserError, match="rnn reads sequences"):
        _model(spec=spec)


@pytest.mark.parametrize("model_type", ["rnn", "mlp"])
def test_text_refused_by_rnn_and_mlp_points_to_the_transformer(tmp_path, write_yaml, cli, model_type):
    """rnn said 'use ... model.type: mlp' for text and mlp said 'use transformer (or rnn)': a loop."""
    import pandas as pd

    words = ["good", "bad", "fine", "awful", "great", "poor"]
    pd.DataFrame({"review": [f"{words[i % 6]} {words[(i * 7) % 6]} thing {i}" for i in range(60)],
                  "label": [i % 2 for i in range(60)]}).to_csv(tmp_path / "t.csv", index=False)
    cfg = {"data": {"source": str(tmp_path / "t.csv"), "target": "label", "text": {"column": "review"}},
           "model": {"type": model_type}, "training": {"epochs": 1}}
    code, _, err = cli("train", write_yaml(cfg), "--out", tmp_path / "r", "-q")
    assert code == 2 and "Traceback" not in err
    assert "model.type: transformer" in err
    other = {"rnn": "mlp", "mlp": "rnn"}[model_type]
    assert f"model.type: {other}" not in err and f"or {other}" not in err
