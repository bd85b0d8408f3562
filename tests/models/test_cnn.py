import pytest
import torch

from trainwell.config import load_config
from trainwell.data import DataSpec
from trainwell.errors import UserError
from trainwell.models import build, count_parameters


def _spec(c=1, h=8, w=8, n=4):
    return DataSpec(task="multiclass", target="label", input_columns=[], column_types={}, feature_names=["pixels"],
                    n_features=c * h * w, classes=list(range(n)), n_outputs=n, kind="image", input_shape=[c, h, w])


def _model(spec=None, n_out=4, **model):
    return build(load_config({"model": {"type": "cnn", **model}}).model, spec or _spec(), n_out, seed=0)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("shape,model", [
    ((1, 8, 8), {}),
    ((3, 12, 10), {"blocks": [{"channels": 4, "kernel": 5, "padding": 0, "pool": "avg"}], "head": []}),
    ((1, 8, 8), {"blocks": [{"channels": 4, "stride": 2, "pool": "none", "batch_norm": False, "dropout": 0.2},
                            {"channels": 6, "kernel": 2, "padding": "same"}], "global_pool": True}),
    ((3, 16, 16), {"blocks": [{"channels": 4, "padding": 1, "pool_size": 3}] * 3, "head": [16, 8],
                   "activation": "selu", "dropout": 0.1}),
    ((1, 5, 7), {"blocks": [], "head": [8]}),
])
def test_output_shape_for_several_block_stacks(shape, model):
    m = _model(_spec(*shape), n_out=3, **model)
    m.eval()
    out = m(torch.randn(5, *shape))
    assert out.shape == (5, 3)
    assert isinstance(m.head, torch.nn.Linear) and m.head.out_features == 3


def test_flatten_width_and_parameter_count():
    m = _model(blocks=[{"channels": 2, "kernel": 3, "batch_norm": False}], head=[])
    # 8x8 -> conv same -> 8x8 -> pool 2 -> 4x4: 2 * 4 * 4 = 32 inputs to the head.
    assert m.head.in_features == 32
    assert count_parameters(m) == (2 * 9 + 2) + (32 * 4 + 4)


def test_global_pool_makes_head_independent_of_image_size():
    small = _model(_spec(h=8, w=8), global_pool=True)
    large = _model(_spec(h=32, w=24), global_pool=True)
    assert small.head.in_features == large.head.in_features == 128
    assert count_parameters(small) == count_parameters(large)


def test_pool_is_clamped_or_skipped_on_tiny_maps():
    m = _model(blocks=[{"channels": 2}] * 5)  # 8 -> 4 -> 2 -> 1 -> (1: skipped) -> (skipped)
    m.eval()
    assert m(torch.randn(2, 1, 8, 8)).shape == (2, 4)
    assert sum("skipped" in n for n in m.notes) == 2
    clamped = _model(_spec(h=3, w=3), blocks=[{"channels": 2, "pool_size": 4}], head=[])
    assert any("pooled with 3x3" in n for n in clamped.notes)
    assert clamped.head.in_features == 2 * 1 * 1  # head layers run on a 1x1 map


def test_kernel_too_large_names_the_block():
    with pytest.raises(UserError, match=r"model\.blocks\.1: kernel 5"):
        _model(blocks=[{"channels": 2}, {"channels": 2, "kernel": 5, "padding": 0}])


def test_tabular_spec_is_rejected():
    spec = DataSpec(task="multiclass", target="y", input_columns=["a"], column_types={"a": "numeric"},
                    feature_names=["a"], n_features=1, classes=[0, 1], n_outputs=2, input_shape=[1])
    with pytest.raises(UserError, match="cnn needs image data"):
        _model(spec)


@pytest.mark.parametrize("model", [
    {},
    {"blocks": [{"channels": 4, "pool": "avg", "dropout": 0.1}], "activation": "gelu", "global_pool": True},
    {"blocks": [{"channels": 4, "batch_norm": False, "stride": 2}], "activation": "tanh", "head": []},
])
def test_one_training_step_changes_parameters(model):
    m = _model(**model)
    before = [p.detach().clone() for p in m.parameters()]
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    torch.manual_seed(0)
    loss = torch.nn.functional.cross_entropy(m(torch.randn(6, 1, 8, 8)), torch.tensor([0, 1, 2, 3, 0, 1]))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    changed = [not torch.equal(a, b) for a, b in zip(before, m.parameters())]
    assert all(changed), "every parameter gets a gradient"


def test_init_reaches_conv_layers_and_same_seed_same_weights():
    m = build(load_config({"model": {"type": "cnn", "init": {"weight": "zeros"}}}).model, _spec(), 4, seed=0)
    assert torch.count_nonzero(m.blocks[0].conv.weight) == 0
    a, b = _model(), _model()
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_parameter_names_suit_freeze_and_new_head():
    names = {n.split(".")[0] for n, _ in _model().named_parameters()}
    assert names == {"blocks", "dense", "head"}
