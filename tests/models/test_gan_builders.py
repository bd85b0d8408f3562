"""GAN builders: shapes, the discriminator's `head`, the generator's output range."""

import pytest
import torch

from trainwell.config import GANModel
from trainwell.data import DataSpec
from trainwell.errors import UserError
from trainwell.models.gan import build_gan, data_bounds


def _spec(shape):
    c, h, w = shape
    return DataSpec(task="multiclass", target="target", input_columns=[], column_types={}, feature_names=[],
                    n_features=c * h * w, classes=list(range(10)), n_outputs=10, kind="image", input_shape=list(shape))


CASES = [
    ("mlp", [32, 64], [64, 32], [1, 8, 8]),
    ("dcgan", [32, 16], [16, 32], [1, 8, 8]),
    ("dcgan", [16, 8], [8, 16], [3, 7, 9]),     # not a multiple of 4: generated larger, then cropped
    ("mlp", [16], [16], [3, 5, 6]),
]


@pytest.mark.parametrize("arch,gen,disc,shape", CASES)
def test_shapes_and_head(arch, gen, disc, shape):
    cfg = GANModel(arch=arch, latent=12, generator=gen, discriminator=disc)
    g, d = build_gan(cfg, _spec(shape), seed=0)
    z = torch.randn(5, 12)
    images = g(z)
    assert images.shape == (5, *shape)
    logits = d(images)
    assert logits.shape == (5, 1)
    assert isinstance(d.head, torch.nn.Linear) and d.head.out_features == 1
    assert torch.isfinite(logits).all()


def test_output_stays_inside_the_data_range_and_bounds_travel_with_the_weights():
    x = torch.randn(50, 1, 8, 8) * 2 + 1
    lo, hi = data_bounds(x)
    cfg = GANModel(arch="mlp", latent=8, generator=[16], discriminator=[16])
    g, _ = build_gan(cfg, _spec([1, 8, 8]), bounds=(lo, hi), seed=0)
    out = g(torch.randn(200, 8) * 10)
    assert out.min() >= lo.item() and out.max() <= hi.item()
    fresh, _ = build_gan(cfg, _spec([1, 8, 8]))
    fresh.load_state_dict(g.state_dict())
    assert torch.equal(fresh.scale.out_lo, g.scale.out_lo) and torch.equal(fresh.scale.out_hi, g.scale.out_hi)


def test_same_seed_same_networks():
    cfg = GANModel(arch="dcgan", latent=8, generator=[8, 4], discriminator=[4, 8])
    a, b = build_gan(cfg, _spec([1, 8, 8]), seed=3), build_gan(cfg, _spec([1, 8, 8]), seed=3)
    for na, nb in zip(a, b):
        assert all(torch.equal(p, q) for p, q in zip(na.state_dict().values(), nb.state_dict().values()))


def test_non_image_data_and_too_deep_dcgan_are_clear_errors():
    cfg = GANModel(arch="mlp")
    with pytest.raises(UserError, match="image data"):
        build_gan(cfg, _spec([1, 8, 8]).__class__(**{**_spec([1, 8, 8]).__dict__, "input_shape": [64]}))
    with pytest.raises(UserError, match="model.discriminator"):
        build_gan(GANModel(arch="dcgan", discriminator=[8, 8, 8, 8]), _spec([1, 8, 8]))
