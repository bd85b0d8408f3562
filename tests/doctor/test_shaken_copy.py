"""The copy with every weight moved a little, on which several wiring readings judge a network apart from
the values it starts at: the same in every process, whatever ran before it, and a gate at zero moved by
exactly 0.1 (a healthy tide forecaster's zero gate, moved by 0.1 x N(0, 1) drawn from the process's state,
read as affine in some processes and not in others)."""

from __future__ import annotations

import torch
from torch import nn

from trainwell.doctor.network_measures import shaken_copy


def _gated():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    net.gate = nn.Parameter(torch.zeros(1))
    return net


def _weights(net):
    return [p.detach().clone() for p in net.parameters()]


def test_the_moves_are_the_same_whatever_the_process_drew_before():
    net = _gated()
    torch.manual_seed(1)
    first = _weights(shaken_copy(net))
    torch.manual_seed(2)
    torch.randn(100)
    state = torch.get_rng_state()
    second = _weights(shaken_copy(net))
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert torch.equal(torch.get_rng_state(), state)   # the run's random stream is left as it was


def test_a_gate_at_zero_moves_by_a_tenth_and_the_original_stays():
    net = _gated()
    before = _weights(net)
    shaken = shaken_copy(net)
    assert abs(abs(float(shaken.gate.detach())) - 0.1) < 1e-7
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(net)))
    moved = [float((a - b).abs().max()) for a, b in zip(_weights(shaken), before)]
    assert all(m > 0 for m in moved)
