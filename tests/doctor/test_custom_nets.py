"""Custom networks (model.type python) whose code, not their config, sets the trap."""

from __future__ import annotations

import json
import sys
import textwrap

import trainwell


def read(run, name):
    return json.loads((run.path / name).read_text())


def test_a_classifier_ending_in_softmax_is_read_above_its_floor(tmp_path, monkeypatch):
    (tmp_path / "soft_nets.py").write_text(textwrap.dedent('''
        from torch import nn

        def mlp(spec, softmax=True):
            layers = [nn.Linear(spec.n_features, 32), nn.ReLU(), nn.Linear(32, spec.n_outputs)]
            return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if softmax else []))
    '''))
    monkeypatch.chdir(tmp_path)
    cfg = {"data": {"source": "builtin:wine"}, "seed": 0, "optimizer": {"lr": 0.01},
           "model": {"type": "python", "builder": "soft_nets:mlp"}, "training": {"epochs": 30, "threads": 1}}
    try:
        soft = trainwell.train(cfg, out=tmp_path / "soft", quiet=True)
        found = read(soft, "findings.json")
        assert soft.metrics["test"]["accuracy"] > 0.9
        assert [(f["code"], f["severity"]) for f in found if f["severity"] != "info"] == []
        told = [f for f in found if f["evidence"].get("outputs_sum_to_one")]
        assert abs(told[0]["evidence"]["loss_floor"] - 0.5514) < 1e-3   # log(e + 2) - 1 for 3 classes
        raw = trainwell.train(cfg, {"model.options.softmax": False}, out=tmp_path / "raw", quiet=True)
        assert not [f for f in read(raw, "findings.json") if f["evidence"].get("outputs_sum_to_one")]
    finally:
        sys.modules.pop("soft_nets", None)


def test_layers_no_gradient_reaches_are_named_and_the_builders_switch_flipped(tmp_path, monkeypatch):
    (tmp_path / "probe_nets.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self, n_in, n_out, no_grad=False, detach=False, frozen=False):
                super().__init__()
                self.encoder = nn.Sequential(nn.Linear(n_in, 32), nn.ReLU())
                self.spare = nn.Linear(n_in, 32)           # defined, never called
                self.head = nn.Linear(32, n_out)
                self.no_grad, self.detach = no_grad, detach
                if frozen:
                    self.encoder.requires_grad_(False)     # frozen on purpose: said so

            def forward(self, x):
                if self.no_grad:
                    with torch.no_grad():
                        h = self.encoder(x)
                else:
                    h = self.encoder(x)
                return self.head(h.detach() if self.detach else h)

        class WithAux(Net):
            def __init__(self, n_in):
                super().__init__(n_in, 1)
                self.aux = nn.Linear(32, 1)                # a training-only head, as deep supervision

            def forward(self, x):
                h = self.encoder(x)
                out = self.head(h)
                return out + 0.1 * self.aux(h) if self.training else out

        def probe(spec, no_grad=False, frozen=False, pretrained=False):
            if pretrained:
                raise RuntimeError("would download weights")   # a keyword the doctor must never flip
            return Net(spec.n_features, 1, no_grad=no_grad, frozen=frozen)

        def with_aux(spec):
            return WithAux(spec.n_features)

        def detached(spec):
            return Net(spec.n_features, 1, detach=True)
    '''))
    monkeypatch.chdir(tmp_path)
    cfg = {"data": {"source": "builtin:diabetes"}, "seed": 0, "training": {"epochs": 2, "threads": 1},
           "model": {"type": "python", "builder": "probe_nets:probe", "options": {"no_grad": True}}}
    cut = lambda run: [f for f in read(run, "findings.json") if "layers_without_gradient" in f["evidence"]]  # noqa: E731
    try:
        found = cut(trainwell.train(cfg, out=tmp_path / "no_grad", quiet=True))
        assert [(f["code"], f["epoch"], f["evidence"]["layers_without_gradient"]) for f in found] == \
            [("vanishing_gradients", 0, ["encoder.0"])]
        assert found[0]["fixes"][0]["overrides"] == {"model.options.no_grad": False}
        detached = cut(trainwell.train(cfg, {"model.builder": "probe_nets:detached", "model.options": {}},
                                       out=tmp_path / "detached", quiet=True))
        assert [(f["evidence"]["layers_without_gradient"], f["fixes"]) for f in detached] == [(["encoder.0"], [])]
        # every layer learning (the unused one aside), frozen on purpose in the builder or by
        # model.freeze, or a head used in training only: nothing to say
        for name, over in (("plain", {"model.options": {"no_grad": False}}),
                           ("frozen", {"model.options": {"frozen": True}}),
                           ("freeze", {"model.freeze": ["encoder"]}),
                           ("aux", {"model.builder": "probe_nets:with_aux", "model.options": {}})):
            assert cut(trainwell.train(cfg, over, out=tmp_path / name, quiet=True)) == [], name
        # only a switch the user set is flipped, never another keyword (pretrained=True here raises)
        guarded = cut(trainwell.train(cfg, {"model.options": {"no_grad": True, "pretrained": False}},
                                      out=tmp_path / "guarded", quiet=True))
        assert guarded[0]["fixes"][0]["overrides"] == {"model.options.no_grad": False}
        repaired = trainwell.train(cfg, {"doctor.repair": True, "doctor.allow_architecture_changes": True},
                                   out=tmp_path / "repaired", quiet=True)
        assert ("vanishing_gradients", {"model.options.no_grad": False}) in \
            [(r["code"], r["overrides"]) for r in read(repaired, "repairs.json")]
    finally:
        sys.modules.pop("probe_nets", None)


def test_the_network_measures_leave_numpys_and_pythons_random_streams_alone():
    import random

    import numpy as np

    from trainwell.doctor.network_measures import _forked_rng

    np.random.seed(3)
    random.seed(3)
    expected = np.random.rand(), random.random()
    np.random.seed(3)
    random.seed(3)
    with _forked_rng():   # a builder drawing from the global generators, inside a measure
        np.random.rand(5)
        random.random()
    assert (np.random.rand(), random.random()) == expected


def test_a_recurrent_net_that_sits_at_chance_before_it_learns_is_left_alone(tmp_path, monkeypatch):
    """A GRU cell read step by step over 40 steps, whose cue lies early (sixteenth held-out set): at
    chance for 9 epochs, then 1.000. A guessed rate cut made three times took it to 0.167."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the builder is imported from the repository
    cfg = {"seed": 0, "data": {"source": "benchmarks/doctor/data/h16_strokes.npz", "kind": "sequence"},
           "optimizer": {"lr": 0.005}, "training": {"epochs": 30, "threads": 1},
           "model": {"type": "python", "builder": "benchmarks.doctor.h16_models:stroke_cell"}}
    plain = trainwell.train(cfg, out=tmp_path / "plain", quiet=True)
    history = [json.loads(line) for line in (plain.path / "history.jsonl").read_text().splitlines()]
    assert min(h["train_loss"] for h in history[:3]) > 1.75 and history[-1]["train_loss"] < 0.1  # slow start
    found = read(plain, "findings.json")
    assert [f["code"] for f in found if f["severity"] != "info"] == []
    stuck = [f for f in found if f["code"] == "stuck_at_chance"]
    assert stuck and "It did not last" in stuck[0]["explanation"] and stuck[0]["fixes"] == []
    repaired = trainwell.train(cfg, {"doctor.repair": True}, out=tmp_path / "repaired", quiet=True)
    assert not (repaired.path / "repairs.json").exists()
    assert repaired.metrics["test"]["accuracy"] > 0.95


def test_a_custom_nets_input_dropout_is_moved_by_its_builder_option_live(tmp_path, monkeypatch):
    """Blocks built (Dropout, Linear, ReLU) drop 30% of a table's measurements (sixteenth held-out set):
    found from the training loss at 2-3x the validation loss, and rebuilt with the builder's default."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    cfg = {"seed": 0, "data": {"source": "benchmarks/doctor/data/h16_soils.csv", "target": "target"},
           "optimizer": {"lr": 0.003}, "training": {"epochs": 80, "threads": 1},
           "model": {"type": "python", "builder": "benchmarks.doctor.h16_models:soil_net",
                     "options": {"dropout_first": True}},
           "doctor": {"repair": True, "allow_architecture_changes": True}}
    run = trainwell.train(cfg, out=tmp_path / "r", quiet=True)
    repairs = json.loads((run.path / "repairs.json").read_text())
    assert repairs[0]["overrides"] == {"model.options.dropout_first": False}, repairs
    assert run.metrics["test"]["r2"] > 0.93


DROPOUT_NET = textwrap.dedent('''
    from torch import nn

    def net(spec):
        return nn.Sequential(nn.Linear(spec.n_features, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, spec.n_outputs))
''')


def test_a_repair_leaves_a_custom_networks_own_dropout_as_its_builder_set_it(tmp_path, monkeypatch):
    """A rate repair on a custom net set every dropout layer's p to model.dropout (0) behind its back."""
    from trainwell.training.loop import Callback

    (tmp_path / "drop_nets.py").write_text(DROPOUT_NET)
    monkeypatch.chdir(tmp_path)
    seen = {}

    class Rates(Callback):
        def on_fit_end(self, trainer):
            seen["p"] = [m.p for m in trainer.model.modules() if m.__class__.__name__ == "Dropout"]

    cfg = {"seed": 0, "data": {"source": "builtin:wine"}, "optimizer": {"name": "sgd", "lr": 50.0},
           "model": {"type": "python", "builder": "drop_nets:net"}, "training": {"epochs": 10, "threads": 1},
           "doctor": {"repair": True}}
    try:
        run = trainwell.train(cfg, out=tmp_path / "r", quiet=True, callbacks=[Rates()])
        assert json.loads((run.path / "repairs.json").read_text())[0]["overrides"].get("optimizer.lr")
        assert seen["p"] == [0.5]
    finally:
        sys.modules.pop("drop_nets", None)
