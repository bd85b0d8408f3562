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
