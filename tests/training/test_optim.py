import math

import pytest
import torch

from trainwell.config import load_config
from trainwell.training.optim import Schedule, build_optimizer


def sched(**kw):
    return Schedule(load_config({"schedule": kw}).schedule, steps_per_epoch=10, epochs=10)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam", "radam"])
def test_every_optimizer_reduces_a_quadratic(name):
    w = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
    cfg = load_config({"optimizer": {"name": name, "lr": 0.05, "weight_decay": 1e-4}}).optimizer
    opt = build_optimizer(cfg, [w])
    start = float((w ** 2).sum().detach())
    for _ in range(50):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    assert float((w ** 2).sum().detach()) < start
    assert opt.param_groups[0]["weight_decay"] == 1e-4


def test_sgd_momentum_nesterov_passed_through():
    cfg = load_config({"optimizer": {"name": "sgd", "momentum": 0.8, "nesterov": True}}).optimizer
    g = build_optimizer(cfg, [torch.nn.Parameter(torch.zeros(1))]).param_groups[0]
    assert g["momentum"] == 0.8 and g["nesterov"] is True


def test_step_multistep_exponential():
    s = sched(name="step", step_size=3, gamma=0.5)
    assert [s.factor(e * 10) for e in (0, 2, 3, 6)] == [1, 1, 0.5, 0.25]
    m = sched(name="multistep", milestones=[2, 5], gamma=0.1)
    assert [m.factor(e * 10) for e in (1, 2, 5)] == pytest.approx([1, 0.1, 0.01])
    x = sched(name="exponential", gamma=0.9)
    assert x.factor(30) == pytest.approx(0.9 ** 3)


def test_cosine_reaches_floor_and_warmup_is_linear():
    s = sched(name="cosine", warmup_epochs=1)
    s.base_lr = 0.1
    assert s.factor(0) == pytest.approx(0.1) and s.factor(9) == pytest.approx(1.0)
    assert s.factor(10) == pytest.approx(1.0)
    assert s.factor(99) < 0.01
    floor = sched(name="cosine", min_lr=0.01)
    floor.base_lr = 0.1
    assert floor.factor(100) == pytest.approx(0.1)


def test_one_cycle_rises_then_falls():
    s = sched(name="one_cycle", pct_start=0.3, div_factor=25)
    values = [s.factor(i) for i in range(100)]
    peak = max(range(100), key=values.__getitem__)
    assert values[0] == pytest.approx(1 / 25) and 28 <= peak <= 31
    assert values[-1] < 0.01


def test_reduce_on_plateau_cuts_after_patience_and_round_trips():
    s = sched(name="reduce_on_plateau", patience=2, factor=0.5)
    for v in [1.0, 0.9, 0.95, 0.95, 0.95]:
        s.on_epoch_end(v)
    assert s.factor(0) == 0.5
    t = sched(name="reduce_on_plateau", patience=2, factor=0.5)
    t.load_state_dict(s.state_dict())
    assert t.factor(0) == 0.5 and t.best == 0.9
    assert not math.isinf(t.best)


def test_a_schedule_swapped_in_mid_run_spans_the_steps_left_and_round_trips():
    # The doctor replaces a schedule at step 40 of 100: the new cosine starts at its full rate
    # there and reaches its floor at the last step, as a run started with it would.
    s = Schedule(load_config({"schedule": {"name": "cosine"}}).schedule)
    s.start = 40
    s.bind(10, 10, 0.1)
    assert s.factor(40) == pytest.approx(1.0)
    assert s.factor(70) == pytest.approx(0.5)
    assert s.factor(99) < 0.01
    plain = sched(name="cosine")
    assert plain.factor(40) < 0.7  # without the offset it would read the old run's position
    t = Schedule(load_config({"schedule": {"name": "cosine"}}).schedule)
    t.load_state_dict(s.state_dict())
    t.bind(10, 10, 0.1)
    assert t.factor(70) == pytest.approx(0.5)
    old = {k: v for k, v in s.state_dict().items() if k != "start"}  # a checkpoint written before
    t.load_state_dict(old)
    assert t.start == 0
