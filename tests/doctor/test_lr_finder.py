"""The LR range test: a real sweep on iris, a network that cannot learn, and the rule on scripted curves."""

import json
import math

import numpy as np
import pytest

from trainwell.config import load_config
from trainwell.doctor.lr_finder import LRFinderResult, find_lr, lr_auto, suggest
from trainwell.errors import UserError


def iris(optimizer="adam", **model):
    return {
        "name": "iris_lr", "seed": 0,
        "data": {"source": "builtin:iris"},
        "model": {"hidden": [32], **model},
        "optimizer": {"name": optimizer, "lr": 0.01},
        "training": {"epochs": 3, "batch_size": 16, "early_stopping": {"enabled": False}, "device": "cpu"},
    }


@pytest.fixture(scope="module")
def adam_run(tmp_path_factory):
    cfg = load_config(iris())
    before = cfg.model_dump()
    png = tmp_path_factory.mktemp("lr") / "lr.png"
    result = find_lr(cfg, out_png=png)
    return cfg, before, result


# ----------------------------------------------------------------------------- a real sweep
def test_sweep_records_an_exponential_lr_and_stops_when_the_loss_diverges(adam_run):
    cfg, _, r = adam_run
    assert isinstance(r, LRFinderResult)
    assert len(r.lrs) == len(r.losses) == len(r.raw_losses) == r.steps_run
    assert r.lrs[0] == pytest.approx(1e-7)
    ratios = np.diff(np.log(r.lrs))
    assert np.allclose(ratios, ratios[0])           # exponential: a constant factor per step
    assert r.stopped_early and r.steps_run < 100    # end_lr = 10 is far past what Adam survives
    last = r.losses[-1]
    assert not math.isfinite(last) or last > 4 * min(r.losses[:-1])


def test_suggestion_lies_on_the_falling_part_in_a_sensible_range(adam_run):
    _, _, r = adam_run
    assert r.suggestion is not None, r.reason
    assert 1e-4 <= r.suggestion <= 1.0
    assert r.lrs[0] < r.suggestion < r.min_lr < r.lrs[-1]
    lr, why = suggest(r.lrs, r.losses)
    assert lr == r.suggestion and r.reason.startswith(why)
    assert "steepest" in r.reason and "stopped" in r.reason


def test_result_is_json_and_config_is_untouched(adam_run):
    cfg, before, r = adam_run
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["suggestion"] == r.suggestion and d["steps_run"] == r.steps_run
    assert cfg.model_dump() == before


def test_png_is_written_and_opens(adam_run):
    from PIL import Image

    _, _, r = adam_run
    with Image.open(r.png) as img:
        assert img.format == "PNG" and img.size[0] > 300


def test_same_config_gives_the_same_curve_and_lr_auto_returns_it(adam_run):
    _, _, r = adam_run
    lr, reason = lr_auto(load_config(iris()))
    assert lr == min(r.suggestion, 1e-2) and reason.startswith(r.reason)   # within Adam's usual range


def test_training_at_the_suggestion_beats_training_at_start_lr(adam_run, tmp_path):
    from trainwell.api import train

    _, _, r = adam_run
    losses = {}
    for name, lr in (("suggested", r.suggestion), ("start", r.lrs[0])):
        run = train(iris(), {"optimizer.lr": lr}, out=tmp_path / name)
        hist = run.history
        losses[name] = hist[0]["train_loss"] - hist[-1]["train_loss"]
    assert losses["suggested"] > 0.1 > losses["start"]


def test_sgd_sweep_suggests_a_sensible_lr():
    r = find_lr(load_config(iris("sgd")), steps=60)
    assert r.stopped_early
    assert r.suggestion is not None and 1e-4 <= r.suggestion <= 1.0, r.reason


def test_a_network_that_cannot_learn_gets_no_suggestion():
    # All-zero weights: every hidden unit outputs 0, so no gradient reaches any weight; only the
    # output bias moves, and on balanced classes the loss cannot go below log(3).
    cfg = load_config(iris(init={"weight": "zeros"}))
    r = find_lr(cfg, steps=60)
    assert r.suggestion is None
    assert r.reason.startswith("no clear suggestion: the loss never fell")
    with pytest.raises(UserError, match=r"^optimizer.lr: auto could not find a learning rate: no clear "
                                        r".*set optimizer.lr to a number$") as err:
        lr_auto(cfg)
    # auto has no start_lr to lower: the advice names what a config user can do
    assert "start_lr" not in str(err.value) and "the sweep's first rate (1e-7)" in str(err.value)


def test_diverging_from_the_start_says_lower_start_lr():
    r = find_lr(load_config(iris()), start_lr=5.0, end_lr=1e4, steps=40)
    assert r.suggestion is None and r.stopped_early
    assert "lower start_lr" in r.reason


def test_gan_and_bad_arguments_are_user_errors():
    gan = load_config({"data": {"source": "builtin:digits"}, "model": {"type": "gan"}})
    with pytest.raises(UserError, match="find-lr: not available for GAN runs"):
        find_lr(gan)
    with pytest.raises(UserError, match="end_lr must be a number above start_lr"):
        find_lr(load_config(iris()), start_lr=1.0, end_lr=0.1)


# ----------------------------------------------------------------------------- the rule
LRS = np.logspace(-7, 1, 100)


def test_suggest_on_a_clean_u_curve_picks_the_descending_part():
    x = np.log10(LRS)
    # Flat, a fall centred on lr 1e-3, a bottom, then a blow-up past lr 0.3.
    losses = 2 - 1.5 / (1 + np.exp(-3 * (x + 3))) + 0.5 * np.exp(3 * (x + 0.5))
    lr, reason = suggest(LRS, losses)
    assert lr is not None and 3e-4 < lr < 3e-3, reason
    assert lr < LRS[np.argmin(losses)] / 10
    assert "min/10" in reason


def test_suggest_ignores_wiggles_in_a_flat_stretch():
    x = np.log10(LRS)
    wiggle = 0.02 * np.sin(np.arange(100) * 2.5)
    losses = 1 + wiggle - 0.4 / (1 + np.exp(-4 * (x + 1)))
    lr, reason = suggest(LRS, losses)
    assert lr is not None and 1e-2 < lr < 1, reason


def test_suggest_on_a_flat_curve_answers_none():
    losses = 1.0 + 0.005 * np.random.default_rng(0).standard_normal(100)
    lr, reason = suggest(LRS, losses)
    assert lr is None and "never fell" in reason


def test_suggest_on_short_rising_and_non_finite_curves_answers_none():
    assert suggest(LRS[:4], [1.0, 0.9, 3, 9])[0] is None
    assert "lower start_lr" in suggest(LRS[:4], [1.0, 0.9, 3, 9])[1]
    rising = np.linspace(1, 0.5, 100)[::-1]
    rising[:3] = [0.5, 0.4, 0.45]
    lr, reason = suggest(LRS, rising)
    assert lr is None and "lower start_lr" in reason
    lr, reason = suggest(LRS, [float("nan")] * 100)
    assert lr is None and "non-finite from the first step" in reason
    with pytest.raises(ValueError):
        suggest(LRS, [1.0])


def test_lr_auto_keeps_to_the_usual_range_of_the_optimizer(monkeypatch):
    # the sweep suggesting Adam 0.026 (digits): auto takes the top of Adam's usual range, and says so
    from trainwell.doctor import lr_finder

    swept = LRFinderResult(lrs=[], losses=[], raw_losses=[], suggestion=0.026, reason="steepest descent",
                           min_lr=0.1, steps_run=100, stopped_early=True)
    monkeypatch.setattr(lr_finder, "find_lr", lambda cfg: swept)
    lr, reason = lr_auto(load_config(iris()))
    assert lr == 1e-2 and "0.026" in reason and "usual range" in reason
