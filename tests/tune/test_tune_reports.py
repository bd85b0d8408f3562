"""Per-epoch reports: the pruner is asked only where it can decide, values are written in batches.

Both must be invisible: the same pruning decisions as asking every epoch, and every epoch's value
in the storage (also for a pruned or interrupted trial)."""

import os
import random
import signal

import optuna
import pytest
from optuna.trial import TrialState

from trainwell.config import load_config
from trainwell.tuning.search import build_pruner
from trainwell.tuning.storage import JOURNAL, open_storage
from trainwell.tuning.study import tune
from trainwell.tuning.trial import _Reports


def curves(seed: int, trials: int = 40, steps: int = 30) -> list[list[tuple[int, float]]]:
    """Noisy learning curves with gaps (an epoch without a finite value, an early-stopped fold)."""
    rng = random.Random(seed)
    out = []
    for _ in range(trials):
        quality, speed = rng.random(), rng.uniform(0.05, 0.5)
        kept = [s for s in range(1, steps + 1) if s <= 2 or rng.random() > 0.15]
        out.append([(s, quality * (1 - (1 - speed) ** s) + rng.gauss(0, 0.01)) for s in kept])
    return out


def replay(folder, pruner, trials, batched: bool):
    """Each curve as a trial, reported at every step: through _Reports, or through Optuna's own
    report + should_prune at every step. Returns [(state, pruned step)] and the pruner's asks."""
    study = optuna.create_study(study_name="replay", storage=open_storage(None, folder), direction="maximize",
                                pruner=pruner)
    outcome, asks = [], 0
    for curve in trials:
        trial = study.ask()
        reports, pruned, ask = _Reports(trial), None, trial.should_prune

        def counted():
            nonlocal asks
            asks += 1
            return ask()
        trial.should_prune = counted
        for step, value in curve:
            if batched:
                stop = reports.report(value, step)
            else:
                trial.report(value, step)
                stop = counted()
            if stop:
                pruned = step
                break
        reports.flush()
        if pruned is None:
            study.tell(trial, max(v for _, v in curve))
        else:
            study.tell(trial, state=TrialState.PRUNED)
        outcome.append(("pruned" if pruned else "complete", pruned))
    return outcome, asks


def configured(name: str, tune_cfg):
    tune_cfg["training"]["epochs"] = 30
    tune_cfg["tune"].update(pruner=name, warmup_epochs=3, startup_trials=3)
    return lambda: build_pruner(load_config(tune_cfg))


PRUNERS = {
    "percentile-interval": lambda: optuna.pruners.PercentilePruner(40.0, n_startup_trials=2, n_warmup_steps=2,
                                                                   interval_steps=4),
    "sh-rate-1": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=2,
                                                               min_early_stopping_rate=1),
    "sh-auto": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource="auto", reduction_factor=2),
    "hyperband-auto": lambda: optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3),
}


@pytest.mark.parametrize("name", ["median", "successive_halving", "hyperband", *PRUNERS])
@pytest.mark.parametrize("seed", [0, 1])
def test_asking_the_pruner_only_where_it_decides_gives_the_same_decisions(name, seed, tune_cfg, tmp_path):
    make = PRUNERS.get(name) or configured(name, tune_cfg)
    trials = curves(seed)
    every, every_asks = replay(tmp_path / "every", make(), trials, batched=False)
    gated, gated_asks = replay(tmp_path / "gated", make(), trials, batched=True)
    assert gated == every
    states = [s for s, _ in every]
    assert "pruned" in states and "complete" in states  # the replay exercises the pruner
    assert gated_asks < every_asks  # "auto" steps: every epoch until a complete trial fixes them
    # every reported value is in the journal, read back by a fresh process's view
    again = optuna.load_study(study_name="replay", storage=open_storage(None, tmp_path / "gated"))
    for t, curve, (_, pruned) in zip(again.trials, trials, gated):
        assert t.intermediate_values == {s: v for s, v in curve if pruned is None or s <= pruned}


def test_values_wait_for_a_rung_or_a_second_then_are_written_together(tmp_path):
    study = optuna.create_study(study_name="replay", storage=open_storage(None, tmp_path), direction="maximize",
                                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=3, reduction_factor=3))
    trial = study.ask()
    reports = _Reports(trial)

    def stored():
        again = optuna.load_study(study_name="replay", storage=open_storage(None, tmp_path))
        return again.trials[0].intermediate_values
    for step in (1, 2):
        reports.report(0.1 * step, step)
    assert stored() == {}
    reports.report(0.3, 3)  # a rung: written before the pruner is asked
    assert stored() == {1: 0.1, 2: 0.2, 3: 0.3}
    reports.report(0.4, 4)
    reports.FLUSH_SECONDS = 0.0  # a slow trial: each value is written after it waited a second
    reports.report(0.5, 5)
    assert stored() == {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4, 5: 0.5}


def test_a_write_inside_a_report_is_timed_once(tmp_path, monkeypatch):
    """Optuna's time is the benchmark's overhead figure: a write made by report() must not be added
    again by the write's own timer. A fake clock moves 5 s per journal append and 1 s per ask."""
    from trainwell.tuning import trial as mod

    clock = [0.0]
    monkeypatch.setattr(mod.time, "perf_counter", lambda: clock[0])
    study = optuna.create_study(study_name="t", storage=open_storage(None, tmp_path), direction="maximize",
                                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=3, reduction_factor=3))
    trial = study.ask()
    backend = study._storage._backend
    real_append = backend.append_logs

    def slow_append(logs):
        if backend.held is None:  # a write to the file
            clock[0] += 5.0
        return real_append(logs)
    monkeypatch.setattr(backend, "append_logs", slow_append)
    ask = trial.should_prune

    def slow_ask():
        clock[0] += 1.0
        return ask()
    trial.should_prune = slow_ask
    reports = _Reports(trial)
    reports.report(0.1, 1)  # buffered: no time passes
    assert reports.seconds == 0.0
    reports.report(0.3, 3)  # a rung: one append and one ask
    assert reports.seconds == 6.0
    reports.report(0.4, 4)
    reports.flush()  # the end of the trial: one more append
    assert reports.seconds == 11.0


def test_an_rdb_storage_gets_plain_reports(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=2))
    trial = study.ask()
    reports = _Reports(trial)
    for step in range(1, 6):
        reports.report(0.1 * step, step)
    reports.flush()
    assert study.trials[0].intermediate_values == {s: 0.1 * s for s in range(1, 6)}


def fresh(folder):
    """The study as optuna-dashboard would read it: Optuna's own journal backend, a new storage."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return optuna.load_study(study_name="tiny", storage=JournalStorage(JournalFileBackend(str(folder / JOURNAL))))


def test_every_epochs_value_is_stored_and_pruned_trials_keep_theirs(tune_cfg, tmp_path):
    import json

    tune_cfg["training"]["epochs"] = 9
    tune_cfg["tune"].update(sampler="random", pruner="hyperband", trials=6, warmup_epochs=1,
                            space={"optimizer.lr": {"type": "float", "low": 1.0e-5, "high": 0.1, "log": True}})
    out = tmp_path / "study"
    tune(tune_cfg, out=out)
    trials = fresh(out).trials
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    for t in trials:
        history = [json.loads(line) for line in (out / t.user_attrs["run_dir"] / "history.jsonl").open()]
        assert len(history) == t.user_attrs["epochs"]
        # one value per epoch trained, the pruned epoch included, and the value of that epoch
        assert t.intermediate_values == {h["epoch"]: h["val_accuracy"] for h in history}
        if t.state == TrialState.PRUNED:  # Optuna's tell gives a pruned trial its last stored value
            assert t.value == t.intermediate_values[max(t.intermediate_values)]
    assert TrialState.PRUNED in {t.state for t in trials}


def test_an_interrupted_trial_keeps_the_values_reported_before_the_interruption(tune_cfg, tmp_path, monkeypatch):
    from trainwell.tuning import trial as mod

    tune_cfg["training"]["epochs"] = 9
    tune_cfg["tune"].update(sampler="random", pruner="hyperband", trials=2, warmup_epochs=3)
    real = mod._reporter

    def reporter(reports, *args):
        inner = real(reports, *args)
        report = inner.on_epoch_end

        def on_epoch_end(trainer, logs):
            report(trainer, logs)
            if reports.trial.number == 1 and logs["epoch"] == 5:  # 4 and 5 wait for the rung at 9
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the loop stops after this epoch
        inner.on_epoch_end = on_epoch_end
        return inner
    monkeypatch.setattr(mod, "_reporter", reporter)
    out = tmp_path / "study"
    with pytest.raises(KeyboardInterrupt):
        tune(tune_cfg, out=out)
    cut = fresh(out).trials[1]
    assert cut.state == TrialState.FAIL and cut.user_attrs["interrupted"]
    assert sorted(cut.intermediate_values) == [1, 2, 3, 4, 5]


def test_a_seeded_study_prunes_the_same_trials_as_when_asking_every_epoch(tune_cfg, tmp_path, monkeypatch):
    from trainwell.tuning import trial as mod

    tune_cfg["training"]["epochs"] = 9
    tune_cfg["tune"].update(sampler="random", pruner="hyperband", trials=8, warmup_epochs=1,
                            space={"optimizer.lr": {"type": "float", "low": 1.0e-5, "high": 0.1, "log": True}})
    tune(tune_cfg, out=tmp_path / "gated")
    monkeypatch.setattr(mod, "_decision_steps", lambda pruner: lambda prev, step: True)
    tune(tune_cfg, out=tmp_path / "every")
    runs = [[(t.state, t.user_attrs["epochs"], t.intermediate_values) for t in fresh(tmp_path / k).trials]
            for k in ("gated", "every")]
    assert runs[0] == runs[1]
    assert {TrialState.PRUNED, TrialState.COMPLETE} <= {s for s, _, _ in runs[0]}


def test_a_relative_sqlite_storage_opens_from_anywhere_and_reading_creates_no_database(tune_cfg, tmp_path, monkeypatch, cli):
    import json

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    tune_cfg["tune"].update(trials=2, pruner="none")
    tune(tune_cfg, storage="sqlite:///sq.db", study="sq1", out=work / "study")
    meta = json.loads((work / "study" / "study.json").read_text())
    assert meta["storage"] == f"sqlite:///{work / 'sq.db'}"   # kept absolute
    monkeypatch.chdir(elsewhere)
    code, out, err = cli("tune", "--show", work / "study")
    assert code == 0, err
    assert "2 trials" in out
    # a storage that does not exist is named, and not created by reading it
    code, out, err = cli("tune", "--show", work / "study", "--storage", "sqlite:///sq.db", "--study", "sq1")
    assert code == 2 and "no such SQLite file" in err and str(elsewhere / "sq.db") in err
    assert not (elsewhere / "sq.db").exists()
    # a study whose database was moved away: its study.json named, not a --storage never given
    (work / "sq.db").rename(work / "moved.db")
    code, out, err = cli("tune", "--show", work / "study")
    assert code == 2 and "the study's storage in" in err and "study.json" in err and "--storage '" not in err


# ----------------------------------------------------------------------------- TPE's log_ndtr
def test_tpe_samples_with_scipys_log_ndtr_only_while_a_worker_runs(tune_cfg, tmp_path, monkeypatch):
    import numpy as np
    from optuna.samplers._tpe import _truncnorm

    from trainwell.tuning import search, study

    own = _truncnorm._log_ndtr
    # Optuna's port and SciPy's own agree over the tails TPE reaches (far left: the asymptotic series)
    x = np.concatenate([np.linspace(-60, 12, 7201), -np.logspace(-9, 1.5, 400)])
    assert np.allclose(search._scipy_log_ndtr(x), own(x), rtol=1e-7, atol=1e-300)
    seen = []
    real = study._work

    def spy(*args):
        seen.append(_truncnorm._log_ndtr)
        return real(*args)
    monkeypatch.setattr(study, "_work", spy)
    tune_cfg["tune"].update(sampler="tpe", trials=3, startup_trials=1)
    tune(tune_cfg, out=tmp_path / "study")
    assert seen == [search._scipy_log_ndtr]
    assert _truncnorm._log_ndtr is own  # Optuna's own again for the caller's other studies
