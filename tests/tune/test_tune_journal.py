"""The study journal's fixed cost per trial: reads that find nothing new skip the file. It must be
invisible: the same study as Optuna's own reads, every record in the journal for Optuna and other
processes to read."""

import contextlib
import functools
import json
import os

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from trainwell.tuning import storage as mod, study as study_mod, trial as trial_mod
from trainwell.tuning.storage import JOURNAL, open_storage
from trainwell.tuning.study import tune


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
    """A real study: same parameters, pruning, values as reading the journal on every call and
    writing each record on its own."""
    tune_cfg["training"]["epochs"] = 6
    tune_cfg["tune"].update(sampler="tpe", pruner="hyperband", trials=7, startup_trials=2, warmup_epochs=1)
    tune(tune_cfg, out=tmp_path / "ours")
    real = mod._journal_backend

    def unskipped(path):
        backend = real(path)
        backend.read_logs = functools.partial(JournalFileBackend.read_logs, backend)
        return backend
    monkeypatch.setattr(mod, "_journal_backend", unskipped)
    for where in (trial_mod, study_mod):  # one append per record, and every read reads the file
        monkeypatch.setattr(where, "_held_writes", lambda trial: contextlib.nullcontext())
    monkeypatch.setattr(mod, "_flock_lock", lambda path: None)  # Optuna's own symlink lock
    tune(tune_cfg, out=tmp_path / "optuna")

    def trials(folder):
        study = optuna.load_study(study_name="tiny", storage=plain(folder / JOURNAL))
        return [(t.state, t.params, t.values, t.intermediate_values, t.user_attrs["epochs"]) for t in study.trials]
    ours = trials(tmp_path / "ours")
    assert ours == trials(tmp_path / "optuna")
    assert len(ours) == 7 and {s for s, *_ in ours} <= {TrialState.COMPLETE, TrialState.PRUNED}


# ----------------------------------------------------------------------------- writing
def sample(trial):
    trial.set_user_attr("worker", {"host": "h", "pid": 1})
    return {"x": trial.suggest_float("x", 1e-4, 1.0, log=True), "k": trial.suggest_categorical("k", ["a", "b"]),
            "n": trial.suggest_int("n", 1, 9)}


@pytest.mark.parametrize("sampler", ["tpe", "random", "cmaes"])
def test_a_trials_start_is_one_append_and_samples_the_same(sampler, tmp_path, monkeypatch):
    make = {"tpe": lambda: optuna.samplers.TPESampler(seed=3, n_startup_trials=3),
            "random": lambda: optuna.samplers.RandomSampler(seed=3),
            "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=3, n_startup_trials=3, warn_independent_sampling=False)}
    held = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path / "held"), sampler=make[sampler]())
    each = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path / "each"), sampler=make[sampler]())
    backend, appends = held._storage._backend, []
    real = backend.append_logs

    def append(logs):
        if backend.held is None:  # a write to the file (while held, the records wait in memory)
            appends.append(len(logs))
        return real(logs)
    monkeypatch.setattr(backend, "append_logs", append)
    for i in range(12):
        a, b = held.ask(), each.ask()
        before = len(appends)
        with mod._held_writes(a):
            params = sample(a)
            assert len(appends) == before  # nothing written yet
        assert len(appends) == before + 1 and appends[-1] >= 4  # the worker, three parameters (TPE's notes)
        assert params == sample(b)
        held.tell(a, i % 5), each.tell(b, i % 5)
    for name in ("held", "each"):  # as a fresh process (optuna-dashboard) reads the journal
        again = optuna.load_study(study_name="s", storage=plain(tmp_path / name / JOURNAL))
        assert [(t.params, t.user_attrs) for t in again.trials] == [(t.params, t.user_attrs) for t in held.trials]


def test_reads_while_writes_are_held_leave_the_journal_alone_and_catch_up_after(tmp_path, monkeypatch):
    study = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path))
    theirs = optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL))
    trial = study.ask()
    reads = counted(monkeypatch, type(study._storage._backend), "read_logs")
    with mod._held_writes(trial):
        theirs.tell(theirs.ask(), 5.0)  # another process ends a trial meanwhile
        sample(trial)
        assert len(study.get_trials(deepcopy=False)) == 1  # not read yet
        assert reads == []
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.RUNNING, TrialState.COMPLETE] and trials[1].value == 5.0
    assert set(trials[0].params) == {"x", "k", "n"} and trials[0].user_attrs["worker"]["pid"] == 1


def test_the_pruner_sees_another_workers_trials_while_writes_are_held(tmp_path):
    # review: with every read skipped while held, a worker's pruner compared with the study as it was
    # at its last write, not with what the others had finished since
    pruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    ours = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path), pruner=pruner)
    theirs = optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL))
    trial = ours.ask()
    reports = trial_mod._Reports(trial)
    assert not reports.report(9.0, 0)   # nobody to compare with yet
    done = theirs.ask()
    done.report(1.0, 0)
    done.report(1.0, 1)
    theirs.tell(done, 1.0)   # another worker finishes a far better trial
    assert reports.report(9.0, 1)   # our 9.0 at step 1 against their 1.0: pruned
    reports.flush()


def test_held_records_are_written_when_sampling_fails(tmp_path):
    study = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path))
    trial = study.ask()
    with pytest.raises(ValueError):
        with mod._held_writes(trial):
            trial.suggest_float("x", 0.0, 1.0)
            trial.suggest_float("y", 1.0, 0.0)  # Optuna refuses low > high
    again = optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL))
    assert list(again.trials[0].params) == ["x"]


def test_an_rdb_storage_writes_as_usual(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    trial = study.ask()
    with mod._held_writes(trial):
        trial.suggest_float("x", 0.0, 1.0)
        assert "x" in study._storage.get_trial(trial._trial_id).params  # written at once


def test_a_trials_end_is_one_append_and_a_pruned_trial_keeps_its_last_value(tune_cfg, tmp_path, monkeypatch):
    tune_cfg["training"]["epochs"] = 6
    tune_cfg["tune"].update(sampler="tpe", pruner="hyperband", trials=8, startup_trials=2, warmup_epochs=1)
    batches = []
    real = mod._journal_backend

    def recording(path):
        backend = real(path)
        append = backend.append_logs

        def logged(logs):
            if backend.held is None:
                batches.append([log["op_code"] for log in logs])
            return append(logs)
        backend.append_logs = logged
        return backend
    monkeypatch.setattr(mod, "_journal_backend", recording)
    tune(tune_cfg, out=tmp_path / "study")
    from optuna.storages.journal._storage import JournalOperation as Op

    ends = [b for b in batches if Op.SET_TRIAL_STATE_VALUES in b and Op.CREATE_TRIAL not in b]
    assert len(ends) == 8 and all(Op.SET_TRIAL_USER_ATTR in b for b in ends)  # the attributes and the end together
    trials = optuna.load_study(study_name="tiny", storage=plain(tmp_path / "study" / JOURNAL)).trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "the study should prune at least one of its 8 trials"
    for t in pruned + [t for t in trials if t.state == TrialState.COMPLETE]:
        assert t.user_attrs["epochs"] == len(t.intermediate_values)
    for t in pruned:
        assert t.value == t.intermediate_values[max(t.intermediate_values)]


# ----------------------------------------------------------------------------- the write lock
def test_the_journal_lock_waits_for_another_process_and_is_freed_when_it_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import threading

    study = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(tmp_path / JOURNAL) + '.flock'!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(120)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        writer = threading.Thread(target=lambda: study.tell(study.ask(), 1.0), daemon=True)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive()  # waiting for the lock the other process holds
        assert optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL)).trials == []
        os.kill(holder.pid, signal.SIGKILL)  # dies holding it: the kernel lets it go
        writer.join(30)
        assert not writer.is_alive()
    finally:
        holder.kill()
        holder.wait()
    assert [t.value for t in optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL)).trials] == [1.0]


def test_a_file_system_without_flock_falls_back_to_optunas_symlink_lock(tmp_path, monkeypatch):
    import errno
    import fcntl

    def refused(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(fcntl, "flock", refused)
    study = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path))
    study.tell(study.ask(), 2.0)
    assert [t.value for t in optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL)).trials] == [2.0]


def test_a_lock_left_taken_by_an_interruption_is_taken_again_not_waited_on(tmp_path):
    # review: a Ctrl-C between the flock and Optuna's try kept the lock; the process's next append
    # must not wait on itself
    import threading

    storage = open_storage(None, tmp_path)
    lock = storage._backend._lock
    lock.acquire()   # never released, as after the interruption
    study = optuna.create_study(study_name="s", storage=storage)
    done = threading.Thread(target=lambda: study.tell(study.ask(), 1.0), daemon=True)
    done.start()
    done.join(20)
    assert not done.is_alive()


# ----------------------------------------------------------------------------- lost workers
def dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_worker_not_yet_reaped_is_dead():
    # `tune --jobs N` joins its workers only at the end: one killed with kill -9 mid-study stays a
    # zombie until then, and a zombie still answers kill(pid, 0); its trial must not wait for it
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(["sleep", "60"])
    try:
        assert mod._alive(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        for _ in range(100):   # until the kernel has made it a zombie
            if not mod._alive(proc.pid):
                break
            time.sleep(0.02)
        assert not mod._alive(proc.pid) and proc.poll() == -signal.SIGKILL   # dead, and only now reaped
    finally:
        proc.kill()
        proc.wait()


def test_a_trial_whose_worker_died_is_failed_and_queued_again(tmp_path, monkeypatch):
    import socket

    study = optuna.create_study(study_name="s", storage=open_storage(None, tmp_path))
    done = study.ask()
    done.suggest_float("x", 0.0, 1.0)
    study.tell(done, 1.0)
    lost = study.ask()
    x = lost.suggest_float("x", 0.0, 1.0)
    lost.set_user_attr("worker", {"host": socket.gethostname(), "pid": dead_pid()})
    alive = study.ask()
    alive.set_user_attr("worker", {"host": socket.gethostname(), "pid": os.getpid()})
    fresh = study.ask()  # no worker yet, just asked: left alone
    assert mod._recover_stale(study) == 1
    again = optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL))
    states = [t.state for t in again.trials]
    assert states[:4] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING, TrialState.RUNNING]
    assert again.trials[1].user_attrs["reason"] == "its worker process died"
    queued = again.trials[4]  # queued again, with the same parameters
    assert queued.state == TrialState.WAITING and queued.system_attrs["fixed_params"] == {"x": x}
    assert fresh.number == 3
    # a trial no worker claimed for a minute lost its worker between ask and its first records
    monkeypatch.setattr(mod, "UNCLAIMED_SECONDS", 0.0)
    assert mod._recover_stale(study) == 1
    again = optuna.load_study(study_name="s", storage=plain(tmp_path / JOURNAL))
    assert again.trials[3].state == TrialState.FAIL
    assert again.trials[3].user_attrs["reason"] == "its worker stopped before it recorded itself"
    assert again.trials[2].state == TrialState.RUNNING  # its worker (this process) is alive
