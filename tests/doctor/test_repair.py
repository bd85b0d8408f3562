"""Choosing a live repair: a fix that would leave the config as it is never costs a rollback."""

from trainwell.config import load_config
from trainwell.doctor import rules
from trainwell.doctor.findings import Finding, Fix
from trainwell.doctor.live import Doctor
from trainwell.doctor.repair import make_fixer


def _doctor(cfg: dict) -> Doctor:
    holder = {"cfg": load_config(cfg)}
    fixer = make_fixer(holder, rebuild_loss=lambda c: None, log=lambda m: None, rebuild_model=lambda c: None)
    return Doctor(rules.Context(task="multiclass", n_classes=3, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=10), signals=None, log=lambda m: None, repair=True,
                  allow_architecture=True, apply_fix=fixer)


def test_a_fix_that_asks_for_what_is_in_use_is_passed_over():
    doctor = _doctor({"data": {"source": "builtin:iris"},
                      "model": {"type": "transformer", "d_model": 2, "heads": 1, "layers": 1, "ff": 4}})
    same = Fix({"model.init.weight": "auto"}, "the init in use", architecture=True)
    wider = Fix({"model.d_model": 32, "model.ff": 64}, "wider", architecture=True)
    finding = Finding("vanishing_gradients", "error", 3, 30, {}, "why", [same, wider])
    assert doctor._pick_fix(finding) is wider
    assert doctor.apply_fix.changes({"model.init.weight": "xavier_uniform"})
    # nothing but no-ops: no repair at all
    assert doctor._pick_fix(Finding("vanishing_gradients", "error", 3, 30, {}, "why", [same])) is None
    # a key this model has no place for (a transformer has no activation) is no change it can make:
    # picking it would roll back, fail to apply, and spend a repair
    relu = Fix({"model.activation": "relu", "model.init.weight": "he_uniform"}, "relu", architecture=True)
    assert doctor._pick_fix(Finding("vanishing_gradients", "error", 3, 30, {}, "why", [relu, wider])) is wider


def test_stopping_at_the_best_epoch_is_an_action_even_when_early_stopping_is_on():
    doctor = _doctor({"data": {"source": "builtin:iris"}, "model": {"hidden": [8]},
                      "training": {"early_stopping": {"enabled": True, "restore_best": True}}})
    stop = Fix({"training.early_stopping.enabled": True, "training.early_stopping.restore_best": True}, "stop")
    assert doctor._pick_fix(Finding("overfitting", "warning", 5, None, {}, "why", [stop])) is stop


def test_a_stall_the_run_left_by_itself_is_told_as_an_info_at_the_end():
    doctor = _doctor({"data": {"source": "builtin:iris"}, "model": {"hidden": [8]}})
    stuck = Finding("stuck_at_chance", "error", 3, None, {"train_loss_last_3": [1.10, 1.099, 1.098]}, "Stuck.", [])
    early = Finding("underfitting", "warning", 0, 0, {"train_loss": 1.0}, "Before training.", [])
    doctor.findings = {"stuck_at_chance": stuck, "underfitting": early}
    doctor._settle([{"epoch": 30, "train_loss": 0.9, "val_loss": 0.9}])  # still high: it stays
    assert doctor.findings["stuck_at_chance"].severity == "error"
    doctor._settle([{"epoch": 30, "train_loss": 0.02, "val_loss": 0.05}])
    settled = doctor.findings["stuck_at_chance"]
    assert settled.severity == "info" and settled.fixes == [] and settled.evidence["settled_by_epoch"] == 30
    assert "It did not last" in settled.explanation
    assert doctor.findings["underfitting"] is early  # a finding about the config, from before training, stays


def test_dead_units_the_live_ones_carried_past_are_told_as_an_info_at_the_end():
    from types import SimpleNamespace

    doctor = _doctor({"data": {"source": "builtin:iris"}, "model": {"hidden": [8]}})
    # 40% of a layer dead from the first probe (a quarter is the limit when the init left them so)
    probes = [{"epoch": e, "step": 10 * e, "dead": {"body.1": 0.4}, "update_ratio": {"body.0": 1e-3}}
              for e in (1, 2, 3)]
    doctor.signals = SimpleNamespace(records=probes, nonfinite=None, initial_probe={"dead": {"body.1": 0.4}})
    doctor.ctx = rules.Context(task="multiclass", n_classes=3, class_shares=[1 / 3] * 3, loss="cross_entropy",
                               optimizer="adam", lr=1e-3, epochs=30)
    early = [{"epoch": e, "train_loss": 1.0, "val_loss": 1.0} for e in (1, 2, 3)]
    [found] = rules.examine(early, doctor.signal_dict(), doctor.ctx, [rules.dying_relu])
    doctor.findings = {"dying_relu": found}
    doctor._settle(early)   # the loss still high: it stands
    assert doctor.findings["dying_relu"].severity == "warning"
    doctor._settle(early + [{"epoch": 30, "train_loss": 0.05, "val_loss": 0.06}])
    settled = doctor.findings["dying_relu"]
    assert settled.severity == "info" and settled.fixes == [] and "It cost nothing in the end" in settled.explanation


def test_a_settled_stall_under_label_smoothing_is_read_above_the_floor_once():
    doctor = _doctor({"data": {"source": "builtin:iris"}, "model": {"hidden": [8]}})
    doctor.ctx = rules.Context(task="multiclass", n_classes=3, class_shares=[1 / 3] * 3, loss="cross_entropy",
                               optimizer="adam", lr=1e-3, epochs=30, label_smoothing=0.3)
    shift = rules.loss_shift(doctor.ctx)
    assert shift > 0.3
    # the evidence is above the floor already (rules.examine shifts the history before the rules read it)
    stuck = Finding("stuck_at_chance", "error", 3, None, {"train_loss_last_3": [0.6, 0.6, 0.6]}, "Stuck.", [])
    doctor.findings = {"stuck_at_chance": stuck}
    doctor._settle([{"epoch": 30, "train_loss": shift + 0.2, "val_loss": shift + 0.25}])   # 0.2 over the floor
    assert doctor.findings["stuck_at_chance"].severity == "info"


def test_dead_units_called_an_error_or_a_loss_still_high_stand_at_the_end():
    from types import SimpleNamespace

    doctor = _doctor({"data": {"source": "builtin:iris"}, "model": {"hidden": [8]}})
    doctor.ctx = rules.Context(task="multiclass", n_classes=3, class_shares=[1 / 3] * 3, loss="cross_entropy",
                               optimizer="adam", lr=1e-3, epochs=30)
    probes = [{"epoch": e, "step": 10 * e, "dead": {"body.1": 0.4}, "update_ratio": {"body.0": 1e-3}} for e in (1, 2, 3)]
    doctor.signals = SimpleNamespace(records=probes, nonfinite=None, initial_probe={"dead": {"body.1": 0.4}})
    found = Finding("dying_relu", "error", 1, None, {"dead_share": {"body.1": 0.9}}, "Dead.", [])
    doctor.findings = {"dying_relu": found}
    doctor._settle([{"epoch": 30, "train_loss": 0.01, "val_loss": 0.02}])
    assert doctor.findings["dying_relu"].severity == "error"
    # a warning whose rule no longer holds, but the loss ended at a fifth of chance: the units did cost
    doctor.findings = {"dying_relu": Finding("dying_relu", "warning", 1, None, {}, "Dead.", [])}
    doctor._settle([{"epoch": 30, "train_loss": 0.22, "val_loss": 0.25}])
    assert doctor.findings["dying_relu"].severity == "warning"


def _fake_trainer(lr: float):
    import types

    import torch

    model = torch.nn.Linear(4, 3)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model(torch.randn(8, 4)).sum().backward()
    opt.step()
    return types.SimpleNamespace(model=model, optimizer=opt, _base_lrs=[lr], schedule=types.SimpleNamespace(base_lr=lr))


def test_a_rate_raised_tenfold_or_more_starts_the_optimizers_averages_afresh():
    # Adam's second moment, gathered while the weights stood still at 1e-6, would size the new
    # steps for ~1000 more: after a 10x raise it starts over; a cut keeps what it learned.
    holder = {"cfg": load_config({"data": {"source": "builtin:iris"}, "optimizer": {"name": "adam", "lr": 1e-6}})}
    fixer = make_fixer(holder, rebuild_loss=lambda c: None, log=lambda m: None)
    raised = _fake_trainer(1e-6)
    assert fixer(raised, {"optimizer.lr": 1e-3}) and not raised.optimizer.state
    assert raised.optimizer.param_groups[0]["lr"] == 1e-3
    # exactly 10x as written (3e-4 from 3e-5), whatever the floats round to
    for low in (3e-5, 6e-5, 0.07):
        holder = {"cfg": load_config({"data": {"source": "builtin:iris"}, "optimizer": {"name": "adam", "lr": low}})}
        tenfold = _fake_trainer(low)
        assert make_fixer(holder, rebuild_loss=lambda c: None, log=lambda m: None)(tenfold, {"optimizer.lr": float(f"{low * 10:.3g}")})
        assert not tenfold.optimizer.state, low
    holder = {"cfg": load_config({"data": {"source": "builtin:iris"}, "optimizer": {"name": "adam", "lr": 1e-2}})}
    fixer = make_fixer(holder, rebuild_loss=lambda c: None, log=lambda m: None)
    for new_lr in (1e-3, 5e-2):  # a cut, and a raise under 10x
        kept = _fake_trainer(1e-2)
        assert fixer(kept, {"optimizer.lr": new_lr}) and len(kept.optimizer.state) == 2

