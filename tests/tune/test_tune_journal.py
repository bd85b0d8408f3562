"""The study journal's fixed cost per trial: reads that find nothing new skip the file. It must be
invisible: the same study as Optuna's own reads, every record in the journal for Optuna and other
processes to read."""

import functools
import json

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from trainwell.tuning import study as mod
from trainwell.tuning.study import JOURNAL, open_storage, tune


def plain(path):
    """The journal as another process using Optuna's own backend (optuna-dashboard) reads it."""
    return JournalStorage(JournalFileBackend(str(path)))


def counted(monkeypatch, cls, name):
    calls = []
    real = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        calls.append(args)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(cls, name, wrapper)
    return calls


# ----------------------------------------------------------------------------- reading
def test_a_read_with_nothing_new_does_not_open_the_journal(tmp_path, monkeypatch):
    storage = open_storage(None, tmp_path)
    study = optuna.create_study(study_name="s", storage=storage)
    study.tell(study.ask(), 1.0)
    reads = counted(monkeypatch, JournalFileBackend, "read_logs")  # Optuna's read (opens the file)
    for _ in range(5):
        assert study.directions and len(study.get_trials(deepcopy=False)) == 1
    assert reads == []
    study.tell(study.ask(), 2.0)  # its own writes: read back, as Optuna does
    assert reads and [t.value for t in study.get_trials(deepcopy=False)] == [1.0, 2.0]


def test_records_another_process_appends_are_read(tmp_path):
    ours = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path))
    theirs = optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL))
    assert ours.get_trials() == []
    theirs.tell(theirs.ask(), 3.0)
    assert [t.value for t in ours.get_trials(deepcopy=False)] == [3.0]
    ours.tell(ours.ask(), 4.0)
    assert [t.value for t in theirs.get_trials(deepcopy=False)] == [3.0, 4.0]


def test_a_record_half_written_by_another_process_is_read_once_complete(tmp_path):
    storage = open_storage(None, tmp_path)
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    record = json.dumps({"op_code": 8, "worker_id": "another-process", "trial_id": trial._trial_id,
                         "user_attr": {"note": "late"}}).encode() + b"\n"
    with open(tmp_path / JOURNAL, "ab") as f:
        f.write(record[:10])  # the other writer is part way through its append
    assert "note" not in storage.get_trial(trial._trial_id).user_attrs
    with open(tmp_path / JOURNAL, "ab") as f:
        f.write(record[10:])
    assert storage.get_trial(trial._trial_id).user_attrs == {"note": "late"}


def test_a_seeded_study_is_the_same_with_optunas_own_journal_calls(tune_cfg, tmp_path, monkeypatch):
    """A real study: same parameters, pruning, values as reading the journal on every call."""
    tune_cfg["training"]["epochs"] = 6
    tune_cfg["tune"].update(sampler="tpe", pruner="hyperband", trials=7, startup_trials=2, warmup_epochs=1)
    tune(tune_cfg, out=tmp_path / "ours")
    real = mod._journal_backend

    def unskipped(path):
        backend = real(path)
        backend.read_logs = functools.partial(JournalFileBackend.read_logs, backend)
        return backend
    monkeypatch.setattr(mod, "_journal_backend", unskipped)
    tune(tune_cfg, out=tmp_path / "optuna")

    def trials(folder):
        study = optuna.load_study(study_name="tiny", storage=plain(folder / JOURNAL))
        return [(t.state, t.params, t.values, t.intermediate_values, t.user_attrs["epochs"]) for t in study.trials]
    ours = trials(tmp_path / "ours")
    assert ours == trials(tmp_path / "optuna")
    assert len(ours) == 7 and {s for s, *_ in ours} <= {TrialState.COMPLETE, TrialState.PRUNED}
