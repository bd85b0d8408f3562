"""A study: an Optuna study whose objective is "train with these overrides", pruned per epoch.

Each trial is a real trainwell run (`trials/trial-NNNN/` in the study folder) that reports the
monitored validation value every epoch; the pruner may stop it. A trial the doctor finds diverged
is told to Optuna as failed, with the doctor's reason, and the study goes on.

The loop is Optuna's ask / report / should_prune / tell rather than `study.optimize`, because
several processes share one study and must together finish exactly `trials` trials: each worker
counts and asks under a file lock in the study folder, so none is lost or run twice, and a trial
cut short by Ctrl-C or a dead process is marked failed (interrupted) and queued again, so that
rerunning the same command resumes the study where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from ..config import Config, load_config
from ..errors import TrainingInterrupted, UserError

DEFAULT_ROOT = Path("studies")
JOURNAL = "journal.log"


# ----------------------------------------------------------------------------- settings
def objectives(cfg: Config) -> list[tuple[str, str]]:
    """[(metric, 'minimize'|'maximize')]: one for a plain study, several for a multi-objective one."""
    from ..metrics import is_better_high

    def direction(metric: str, given: str) -> str:
        if given != "auto":
            return given
        if metric in ("parameters", "latency_ms"):
            return "minimize"
        return "maximize" if is_better_high(metric) else "minimize"

    tune = cfg.tune
    if tune.objectives:
        return [(o.metric, direction(o.metric, o.direction)) for o in tune.objectives]
    metric = cfg.training.early_stopping.monitor if tune.metric == "auto" else tune.metric
    return [(metric, direction(metric, tune.direction))]


def sampler_name(cfg: Config) -> str:
    if cfg.tune.sampler != "auto":
        return cfg.tune.sampler
    return "nsga2" if len(cfg.tune.objectives) > 1 else "tpe"


def pruner_name(cfg: Config) -> str:
    if cfg.tune.pruner != "auto":
        return cfg.tune.pruner
    return "none" if len(cfg.tune.objectives) > 1 else "median"


def _seed(cfg: Config, worker: int, existing: int) -> int:
    # Seeded, so a fresh single-worker study is reproducible; but shifted by the worker and by the
    # trials already in the study, or parallel workers and resumed runs would repeat the same draws.
    base = cfg.seed if cfg.tune.seed is None else cfg.tune.seed
    return (base * 1_000_003 + worker * 7919 + existing * 104_729) % 2**31


def build_sampler(cfg: Config, space, seed: int):
    import optuna

    name = sampler_name(cfg)
    startup = cfg.tune.startup_trials
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(cfg.tune.grid_points), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise UserError("tune.sampler: cmaes needs the `cmaes` package (pip install cmaes); "
                            "or use tpe, gp, random, grid or nsga2") from None
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup, warn_independent_sampling=False)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, cfg.tune.trials // 2)))


def build_pruner(cfg: Config):
    import optuna

    name = pruner_name(cfg)
    warm = cfg.tune.warmup_epochs
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=cfg.tune.startup_trials, n_warmup_steps=warm)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=warm, reduction_factor=3)
    if name == "hyperband":
        total = cfg.training.epochs * max(1, cfg.tune.cv_folds)
        return optuna.pruners.HyperbandPruner(min_resource=warm, max_resource=max(total, warm + 1),
                                              reduction_factor=3)
    return optuna.pruners.NopPruner()


def open_storage(url: str | None, folder: Path):
    """The default is a JournalStorage file in the study folder (safe for several local processes);
    any database URL Optuna takes (sqlite:///x.db, postgresql://..., mysql://...) shares a study
    between machines; a path ending in .log is a journal file."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if url is None or url.endswith(".log"):
        path = folder / JOURNAL if url is None else Path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(_journal_backend(str(path)))
    try:
        return optuna.storages.get_storage(url)
    except Exception as exc:  # a malformed URL, a missing driver, a database that cannot be reached
        raise UserError(f"--storage {url!r}: Optuna cannot open it ({type(exc).__name__}: {exc}); give a "
                        f"database URL such as sqlite:///study.db or postgresql://user@host/db, "
                        f"or a journal file path ending in .log") from None


def _journal_backend(path: str):
    """Optuna's journal file, written without an fsync per record.

    Every report, attribute and state change is one appended record, and Optuna fsyncs each: about
    5 ms here, which on small trials (20 ms epochs) made the storage a fifth of the trial time.
    Without the fsync a record is still in the file the moment it is written (other processes read
    it, a killed process loses nothing); only a crash of the machine itself may lose the last
    records, and the file stays a valid journal that Optuna and optuna-dashboard read as usual.

    Reading: JournalStorage re-reads the journal before every storage call (about 40 a trial: each
    suggest, report, should_prune, tell), and Optuna's read_logs opens the file and seeks to the
    last record read each time. The file only grows, so when its size is the end of the last
    complete record already read there is nothing new, and a stat says so without opening it.
    (On a network file system the size a stat gives may be cached for a few seconds, so a record
    written from another machine can be seen that much later; local processes see it at once.)
    """
    from optuna.storages.journal import JournalFileBackend

    class Journal(JournalFileBackend):
        def read_logs(self, log_number_from):
            # Optuna's map: log number -> byte offset where that record starts (complete records only)
            offsets = getattr(self, "_log_number_offset", None)
            end = offsets.get(log_number_from) if isinstance(offsets, dict) else None
            if end is not None and isinstance(getattr(self, "_file_path", None), str):
                try:
                    unchanged = os.stat(self._file_path).st_size == end
                except OSError:  # gone or unreadable: Optuna's own read says what is wrong
                    unchanged = False
                if unchanged:
                    return iter(())
            return super().read_logs(log_number_from)

        held: list | None = None  # records waiting for one append (see _held_writes)

        def append_logs(self, logs):
            if self.held is not None:
                self.held.extend(logs)
                return
            try:
                from optuna.storages.journal._file import get_lock_file
                lock, file_path = self._lock, self._file_path
            except (ImportError, AttributeError):  # another Optuna layout: its own (fsync) append
                return super().append_logs(logs)
            text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
            with get_lock_file(lock):
                with open(file_path, "ab") as f:
                    f.write(text.encode("utf-8"))

    return Journal(path)


@contextlib.contextmanager
def _held_writes(trial):
    """Write the records of a trial's start (its worker, each sampled parameter, the sampler's
    notes) in one journal append instead of one each: the file lock and the write cost about
    0.3 ms apiece, and a trial starts with 6 to 10 of them.

    While held, this process's storage does not see its own new records; nothing reads them back
    in that time (Optuna's trial keeps its parameters in the trial object itself, and the samplers
    read other trials), and other workers see them a few milliseconds later than otherwise. Any
    other storage (a database URL) writes as usual."""
    storage = getattr(trial, "storage", None)
    backend = getattr(storage, "_backend", None)
    if not hasattr(backend, "held") or backend.held is not None or not hasattr(storage, "_thread_lock"):
        yield
        return
    backend.held = []
    try:
        yield
    finally:
        records, backend.held = backend.held, None
        if records:
            with storage._thread_lock:
                backend.append_logs(records)
                storage._sync_with_backend()


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock between the worker processes of this machine."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one worker at a time is still safe, several may overshoot by one
        yield
        return
    with open(folder / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _quiet_optuna():
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*is not supported by `GridSampler`.*")
    warnings.filterwarnings("ignore", message=".*The reported value is ignored.*")


# ----------------------------------------------------------------------------- counting
def _counts(trial) -> bool:
    """A trial counts toward `trials` unless it was cut short by an interruption (it is retried)."""
    from optuna.trial import TrialState

    if trial.state == TrialState.WAITING:
        return False
    return not (trial.state == TrialState.FAIL and trial.user_attrs.get("interrupted"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A trial's worker is recorded with its parameters within milliseconds of `ask`; a RUNNING trial
# still without one after this long lost its worker in between (kill -9, on any machine).
UNCLAIMED_SECONDS = 60.0


def _recover_stale(study) -> int:
    """RUNNING trials whose worker on this machine is gone (kill -9, a crash), or that no worker
    ever claimed: mark them failed (interrupted) and queue their parameters again. Called under
    the lock."""
    import datetime

    from optuna.trial import TrialState

    host, n, now = socket.gethostname(), 0, datetime.datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker")
        if worker is None:
            started = t.datetime_start
            if started is None or (now - started).total_seconds() < UNCLAIMED_SECONDS:
                continue
            reason = "its worker stopped before it recorded itself"
        elif worker.get("host") == host and worker.get("pid") and not _alive(worker["pid"]):
            reason = "its worker process died"
        else:
            continue
        _requeue(study, t._trial_id, t.number, t.params)
        study._storage.set_trial_user_attr(t._trial_id, "reason", reason)
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
        n += 1
    return n


def _requeue(study, trial_id: int, number: int, params: dict) -> None:
    study._storage.set_trial_user_attr(trial_id, "interrupted", True)
    if params:
        study.enqueue_trial(params, user_attrs={"retry_of": number}, skip_if_exists=False)


# ----------------------------------------------------------------------------- one trial
def _decision_steps(pruner):
    """due(prev, step): can `pruner` decide at `step`, the trial's previous report being at `prev`
    (-1 if none)? At other steps these pruners return False with no side effect, so asking only
    when due gives the decisions of asking every epoch. A pruner whose steps the study decides
    (min_resource or max_resource "auto", until a complete trial fixes them) or that is not known
    here is asked every time."""
    from optuna import pruners as p

    kind = type(pruner)  # exact types: a subclass may decide at other steps
    if kind in (p.SuccessiveHalvingPruner, p.HyperbandPruner):
        first, factor = getattr(pruner, "_min_resource", None), getattr(pruner, "_reduction_factor", None)
        if kind is p.HyperbandPruner and not isinstance(getattr(pruner, "_max_resource", None), int):
            return lambda prev, step: True
        if isinstance(first, int) and isinstance(factor, int) and first >= 1 and factor >= 2:
            if kind is p.SuccessiveHalvingPruner:
                first *= factor ** getattr(pruner, "_min_early_stopping_rate", 0)

            def due(prev: int, step: int) -> bool:
                # rungs end at min_resource * reduction_factor**k (k >= the bracket's rate): one was
                # reached since the previous report (every bracket's rungs: extra asks are harmless)
                rung = first
                while rung <= step:
                    if rung > prev:
                        return True
                    rung *= factor
                return False
            return due
    elif kind in (p.MedianPruner, p.PercentilePruner):
        warm, every = getattr(pruner, "_n_warmup_steps", None), getattr(pruner, "_interval_steps", None)
        if isinstance(warm, int) and isinstance(every, int) and warm >= 0 and every >= 1:
            # Optuna's _is_first_in_interval_step: a check step reached since the previous report
            return lambda prev, step: step >= warm and prev < (step - warm) // every * every + warm
    return lambda prev, step: True


def _set_user_attrs(trial, attrs: dict) -> None:
    """trial.set_user_attr for each key, written in one journal append (one record per key, as Optuna's)."""
    with _held_writes(trial):
        for key, value in attrs.items():
            trial.set_user_attr(key, value)


class _Reports:
    """A trial's per-epoch values (every fold's). trial.report costs one journal append under Optuna's
    file lock plus a re-read of the journal, per epoch; here the values wait and are written in one
    append right before the pruner is asked, when the oldest has waited `FLUSH_SECONDS` (so the
    dashboard follows slow trials), and at the end of the trial (`flush`, however the trial ends)."""

    FLUSH_SECONDS = 1.0

    def __init__(self, trial):
        self.trial = trial
        self.due = _decision_steps(trial.study.pruner)
        self.pending: dict[int, float] = {}
        self.steps: set[int] = set()  # every step reported
        self.last = -1
        self.since = 0.0
        self.seconds = 0.0  # time spent in Optuna: reports, flushes, should_prune

    def report(self, value: float, step: int) -> bool:
        """Record the value at `step`; True when the pruner, asked because it can decide here, says prune."""
        started = time.perf_counter()
        if step in self.steps:  # as trial.report: the first value of a step stays
            return False
        if not self.pending:
            self.since = started
        self.pending[step] = value
        self.steps.add(step)
        ask, self.last = self.due(self.last, step), max(self.last, step)
        stop = False
        if ask:
            # the values and the pruner's note of the rung (successive halving, hyperband) in one
            # append: the pruner reads the values from the trial object and the other trials'
            # notes from the storage, never this trial's new records
            with _held_writes(self.trial):
                self._write()
                stop = self.trial.should_prune()
        elif started - self.since >= self.FLUSH_SECONDS:
            self._write()
        self.seconds += time.perf_counter() - started
        return stop

    def flush(self) -> None:
        """Write what is pending (the end of a trial, however it ended); its time counts as Optuna's."""
        started = time.perf_counter()
        self._write()
        self.seconds += time.perf_counter() - started

    def _write(self) -> None:
        # untimed: report() times the whole call, this write included
        if not self.pending:
            return
        values, self.pending = self.pending, {}
        with _held_writes(self.trial):  # one append for them all
            for step, value in values.items():
                self.trial.report(value, step)


def _reporter(reports: _Reports, metric: str, offset: int, prune: bool, pruner: str):
    """A training callback: reports the monitored value each epoch; stops the run when pruned."""
    from ..training.loop import Callback  # imports torch, so only when a trial runs

    class Reporter(Callback):
        def __init__(self):
            self.pruned_at: int | None = None

        def on_epoch_end(self, trainer, logs):
            value = logs.get(metric)
            if not prune or value is None or not math.isfinite(value):
                return
            if reports.report(float(value), offset + logs["epoch"]):
                trainer.should_stop = True
                self.pruned_at = logs["epoch"]
                trainer.stop_reason = (f"pruned by the {pruner} pruner after epoch {logs['epoch']}: "
                                       f"{metric} {value:.4g}")

    return Reporter()


def _best(history: list[dict], metric: str, direction: str) -> float | None:
    values = [h[metric] for h in history if isinstance(h.get(metric), (int, float)) and math.isfinite(h[metric])]
    if not values:
        return None
    return max(values) if direction == "maximize" else min(values)


def _latency_ms(run) -> float:
    """Milliseconds to predict 1,000 rows with the trained network (median of 5, after a warm-up)."""
    import torch

    spec = run.spec
    shape = list(spec.input_shape or [spec.n_features])
    if spec.kind == "text":
        x = torch.randint(1, max(2, spec.vocab_size or 2), (1000, *shape))
    else:
        x = torch.randn(1000, *shape)
    model = run.model()
    times = []
    with torch.no_grad():
        model(x[:10])
        for _ in range(5):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    return 1000 * sorted(times)[2]


def fold_hook(fold: int, folds: int, seed: int):
    """Prepared -> Prepared where train and val are fold `fold` of K over train+val (test untouched)."""
    def hook(prepared):
        import dataclasses

        import numpy as np
        from sklearn.model_selection import KFold, StratifiedKFold

        from ..data import SplitArrays

        parts = [prepared.train] + ([prepared.val] if prepared.val is not None else [])
        x = np.concatenate([p.x for p in parts])
        y = np.concatenate([p.y for p in parts])
        y_raw = np.concatenate([p.y_raw for p in parts]) if all(p.y_raw is not None for p in parts) else y
        classify = prepared.spec.task in ("binary", "multiclass")
        if classify and np.bincount(y.astype("int64")).min() >= folds:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        else:
            splitter = KFold(folds, shuffle=True, random_state=seed)
        tr, va = list(splitter.split(x, y if classify else None))[fold]
        report = {**prepared.report, "cv": {"fold": fold, "folds": folds, "train_rows": len(tr), "val_rows": len(va),
                                            "note": "folds of train+val; preprocessing fitted on the train split"}}
        return dataclasses.replace(prepared, train=SplitArrays(x[tr], y[tr], y_raw[tr]),
                                   val=SplitArrays(x[va], y[va], y_raw[va]), report=report)
    return hook


def run_trial(trial, ctx: dict, cfg: Config, space, worker: dict) -> dict:
    """Train one trial (K runs with cv_folds); returns {"state", "values", "attrs", "optuna_seconds",
    "optuna_epoch_seconds"} (the latter: Optuna's time in the per-epoch reports and pruning).
    `worker` (host, pid) is stored on the trial, so a trial whose worker died can be found."""
    sampled_at = time.perf_counter()
    with _held_writes(trial):
        trial.set_user_attr("worker", worker)
        overrides = space.sample(trial)
    suggest_seconds = time.perf_counter() - sampled_at  # the sampler works inside suggest_*
    reports = _Reports(trial)
    try:
        result = _train_folds(trial, ctx, cfg, overrides, reports)
    finally:
        reports.flush()  # buffered values reach the storage before the trial is told, however it ended
    return {**result, "optuna_seconds": suggest_seconds + reports.seconds, "optuna_epoch_seconds": reports.seconds}


def _train_folds(trial, ctx: dict, cfg: Config, overrides: dict, reports: _Reports) -> dict:
    from .. import api
    from ..data import data_seed
    from ..runs import read_json

    objs = objectives(cfg)
    multi = len(objs) > 1
    folder = Path(ctx["folder"])
    epochs_per_fold = int(overrides.get("training.epochs", cfg.training.epochs))
    trial_dir = folder / "trials" / f"trial-{trial.number:04d}"
    folds = cfg.tune.cv_folds
    attrs: dict[str, Any] = {"overrides": overrides, "run_dir": str(trial_dir.relative_to(folder))}
    per_fold: list[list[float | None]] = []
    epochs, seconds, findings = 0, 0.0, []
    pruner = pruner_name(cfg)
    for k in range(folds):
        out = trial_dir / f"fold-{k}" if folds > 1 else trial_dir
        reporter = _reporter(reports, objs[0][0], k * epochs_per_fold, not multi and pruner != "none", pruner)
        try:
            run = api.train(cfg, {**overrides, **ctx.get("fixed", {})}, out=out, quiet=True, progress=False, callbacks=[reporter],
                            data_hook=fold_hook(k, folds, data_seed(cfg.data, cfg.seed)) if folds > 1 else None)
        except UserError as exc:  # a sampled combination the config or the data refuses
            return {"state": "fail", "values": None,
                    "attrs": {**attrs, "reason": f"invalid combination: {exc}", "epochs": epochs}}
        info = read_json(run.path / "run.json")
        history = run.history
        epochs += info.get("epochs_run", len(history))
        seconds += info.get("seconds", 0.0)
        fold_findings = run.findings
        findings += [{"code": f["code"], "severity": f["severity"], "epoch": f.get("epoch"), "fold": k}
                     for f in fold_findings]
        attrs.update(epochs=epochs, seconds=round(seconds, 3), findings=findings)
        diverged = [f for f in fold_findings if f["code"] == "diverged"]
        if diverged:
            why = diverged[0].get("explanation") or "the loss became non-finite"
            return {"state": "fail", "values": None, "attrs": {**attrs, "reason": f"diverged (doctor): {why}"}}
        if reporter.pruned_at is not None:
            return {"state": "pruned", "values": None, "attrs": {**attrs, "reason": info.get("stop_reason", "pruned")}}
        values = []
        for metric, direction in objs:
            if metric == "parameters":
                values.append(float(info.get("parameters", 0)))
            elif metric == "latency_ms":
                values.append(_latency_ms(run))
            else:
                values.append(_best(history, metric, direction))
        if any(v is None for v in values):
            return {"state": "fail", "values": None, "attrs": {**attrs, "reason": f"no finite {objs[0][0]} in any epoch"}}
        per_fold.append(values)
        attrs["reason"] = info.get("stop_reason", "")
    mean = [sum(v[i] for v in per_fold) / len(per_fold) for i in range(len(objs))]
    if folds > 1:
        attrs["fold_values"] = [v[0] for v in per_fold]
    return {"state": "complete", "values": mean, "attrs": attrs}


# ----------------------------------------------------------------------------- a worker
def _log(ctx: dict, msg: str) -> None:
    if not ctx.get("quiet"):
        print(msg, file=sys.stderr, flush=True)


def _describe(result: dict, number: int, objs) -> str:
    a = result["attrs"]
    shown = " ".join(f"{k}={json.dumps(v) if isinstance(v, list) else (f'{v:.3g}' if isinstance(v, float) else v)}"
                     for k, v in a.get("overrides", {}).items())
    if result["values"]:
        score = "  ".join(f"{m} {v:.4g}" for (m, _), v in zip(objs, result["values"]))
    else:
        score = a.get("reason", "")
    return f"trial {number} {result['state']}: {score}  ({a.get('epochs', 0)} epochs, {a.get('seconds', 0):.1f} s)  {shown}"


def work(ctx: dict, worker: int = 0, ready=None) -> dict:
    """One worker: ask, train, tell, until the study holds ctx['trials'] trials or time is up.
    Returns what it did, with the time spent inside Optuna (ask, tell, report, should_prune)."""
    import optuna
    from optuna.trial import TrialState

    from .space import Space

    _quiet_optuna()
    if ctx.get("threads"):
        import torch

        torch.set_num_threads(ctx["threads"])
    folder = Path(ctx["folder"])
    cfg = load_config(ctx["config"])
    storage = open_storage(ctx.get("storage"), folder)
    study = optuna.load_study(study_name=ctx["study"], storage=storage)
    lr = study.user_attrs.get("lr_auto")
    space = Space(cfg, tuple(lr["bounds"]) if lr else None)
    objs = objectives(cfg)
    with _locked(folder):
        existing = len(study.get_trials(deepcopy=False))
    study.sampler = build_sampler(cfg, space, _seed(cfg, worker, existing))
    study.pruner = build_pruner(cfg)
    if ready is not None:  # a spawned worker: imports done, study open; the parent may start
        ready.set()
    stats = {"worker": worker, "pid": os.getpid(), "trials": 0, "optuna_seconds": 0.0, "optuna_epoch_seconds": 0.0,
             "trial_seconds": 0.0, "epochs": 0}
    deadline = ctx.get("deadline")
    host = socket.gethostname()
    while True:
        if deadline is not None and time.time() >= deadline:
            break
        trial = None
        try:
            with _locked(folder):
                locked_at = time.perf_counter()
                _recover_stale(study)
                done = sum(_counts(t) for t in study.get_trials(deepcopy=False))
                if done >= ctx["trials"]:
                    break
                if isinstance(study.sampler, optuna.samplers.GridSampler) and study.sampler.is_exhausted(study):
                    break
                trial = study.ask()
                stats["optuna_seconds"] += time.perf_counter() - locked_at
            ran = time.perf_counter()
            result = run_trial(trial, ctx, cfg, space, {"host": host, "pid": os.getpid()})
        except (TrainingInterrupted, KeyboardInterrupt):
            if trial is not None:
                _requeue(study, trial._trial_id, trial.number, trial.params)
                trial.set_user_attr("reason", "interrupted (Ctrl-C); queued again")
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            raise KeyboardInterrupt from None
        except UserError:
            raise
        except Exception as exc:  # an internal failure in one trial is recorded; the study goes on
            if trial is None:
                raise
            result = {"state": "fail", "values": None, "optuna_seconds": 0.0,
                      "attrs": {"reason": f"internal error: {type(exc).__name__}: {exc}"}}
        trial_seconds = time.perf_counter() - ran
        told = time.perf_counter()
        _set_user_attrs(trial, result["attrs"])
        state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}[result["state"]]
        try:
            study.tell(trial, result["values"] if state == TrialState.COMPLETE else None, state=state)
        except RuntimeError as exc:  # the grid sampler calls study.stop() after its last point
            if "Study.stop" not in str(exc):
                raise
        stats["optuna_seconds"] += time.perf_counter() - told + result["optuna_seconds"]
        stats["optuna_epoch_seconds"] += result.get("optuna_epoch_seconds", 0.0)
        stats["trial_seconds"] += trial_seconds - result["optuna_seconds"]
        stats["trials"] += 1
        stats["epochs"] += result["attrs"].get("epochs", 0) or 0
        _log(ctx, _describe(result, trial.number, objs))
    return stats


def _child(ctx: dict, worker: int, ready) -> None:
    """Entry point of a spawned worker process: its stats go to a file the parent reads."""
    try:
        stats = work(ctx, worker, ready)
    except KeyboardInterrupt:
        stats = {"worker": worker, "interrupted": True}
    Path(ctx["folder"], "workers").mkdir(exist_ok=True)
    Path(ctx["folder"], "workers", f"{os.getpid()}.json").write_text(json.dumps(stats))


# ----------------------------------------------------------------------------- the study
def _folder_for(name: str, out: str | Path | None) -> Path:
    return Path(out) if out is not None else DEFAULT_ROOT / name


def prepare_study(config, overrides=None, *, trials=None, timeout=None, storage=None, study=None, out=None):
    """Validate everything up front (UserError naming the entry), create or load the study.
    Returns (ctx, cfg, optuna study)."""
    import optuna

    from .. import api, metrics
    from .. import data as data_mod
    from .space import Space

    _quiet_optuna()
    cfg = load_config(config, overrides)
    cfg = api._resolve_paths(cfg, Path(config) if isinstance(config, (str, Path)) else None)
    if not cfg.tune.space:
        raise UserError("tune.space: empty; map dotted config keys to distributions, e.g.\n"
                        "  tune:\n    space:\n      optimizer.lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}")
    if cfg.optimizer.lr == "auto":
        raise UserError("optimizer.lr: auto is decided per run; for a study, search it with "
                        "tune.space.optimizer.lr (low: auto, high: auto uses the range test once)")
    if trials is not None and trials < 1:
        raise UserError(f"--trials: must be >= 1, got {trials}")
    if timeout is not None and timeout <= 0:
        raise UserError(f"--timeout: must be > 0 seconds, got {timeout}")
    objs = objectives(cfg)
    multi = len(objs) > 1
    if multi and cfg.tune.pruner not in ("auto", "none"):
        raise UserError(f"tune.pruner: Optuna cannot prune a multi-objective study (got {cfg.tune.pruner}); "
                        f"use none or auto")
    if cfg.model.type == "gan":
        raise UserError("model.type: a GAN has no validation metric to tune; tune a classifier or regressor")
    space = Space(cfg)
    space.check()
    kind = data_mod.resolve_kind(cfg.data, cfg.model.type)
    if cfg.tune.cv_folds > 1 and kind == "timeseries":
        raise UserError("tune.cv_folds: cross-validation shuffles windows, which leaks the future into a "
                        "time series; use cv_folds: 1 (the chronological validation split)")
    prepared = data_mod.prepare(cfg.data, cfg.seed, cfg.model.type)
    task = prepared.spec.task
    fixed = {}
    for metric, _ in objs:
        if metric.startswith("val_") and metric != "val_loss":
            try:
                metrics.check_names([metric[4:]], task)
            except UserError as exc:
                raise UserError(f"tune.metric: {metric!r} does not fit this {task} task ({exc})") from None
            per_epoch = metrics.default_per_epoch(task) if cfg.metrics.per_epoch == "auto" else list(cfg.metrics.per_epoch)
            if metric[4:] not in per_epoch:
                fixed["metrics.per_epoch"] = per_epoch + [metric[4:]]
        if metric.startswith("val_") and (prepared.val is None or not len(prepared.val.x)) and cfg.tune.cv_folds < 2:
            raise UserError(f"tune.metric: {metric} needs a validation split; set data.split.val > 0 "
                            f"or tune.cv_folds >= 2")
    if isinstance(getattr(getattr(cfg, "logging", None), "report", None), bool):
        # report.html costs about a second per run, more than a small trial's training; a trial's
        # report can still be made afterwards with `trainwell report RUN`.
        fixed["logging.report"] = False
    name = study or cfg.name
    folder = _folder_for(name, out)
    store = open_storage(storage, folder)  # a bad URL fails here, before the folder exists
    folder.mkdir(parents=True, exist_ok=True)
    directions = [d for _, d in objs]
    with _locked(folder):
        try:
            st = optuna.create_study(study_name=name, storage=store, directions=directions, load_if_exists=True)
        except ValueError as exc:
            raise UserError(f"--study {name!r}: {exc}") from None
        if [d.name.lower() for d in st.directions] != directions:
            raise UserError(f"--study {name!r} exists with directions {[d.name.lower() for d in st.directions]}, "
                            f"but this config asks {directions}; choose another --study name")
        if "config" not in st.user_attrs:
            st.set_user_attr("config", cfg.model_dump(mode="json"))
            st.set_user_attr("objectives", [list(o) for o in objs])
            st.set_user_attr("task", task)
        if space.needs_lr_auto and "lr_auto" not in st.user_attrs:
            from ..doctor.lr_finder import find_lr

            result = find_lr(cfg)
            if result.suggestion is None:
                raise UserError(f"tune.space.optimizer.lr: low/high auto needs the range test's suggestion, but "
                                f"it gave none ({result.reason}); set numeric bounds")
            param = cfg.tune.space["optimizer.lr"]
            st.set_user_attr("lr_auto", {"suggestion": result.suggestion, "reason": result.reason,
                                         "bounds": [result.suggestion / param.span, result.suggestion * param.span]})
    meta = {"study": name, "storage": storage, "folder": str(folder.resolve()),
            "sampler": sampler_name(cfg), "pruner": pruner_name(cfg), "objectives": objs,
            "config": str(Path(config).resolve()) if isinstance(config, (str, Path)) else None}
    (folder / "study.json").write_text(json.dumps(meta, indent=2) + "\n")
    ctx = {"config": cfg.model_dump(mode="json"), "folder": str(folder.resolve()), "storage": storage,
           "study": name, "trials": trials or cfg.tune.trials,
           "deadline": time.time() + (timeout or cfg.tune.timeout) if (timeout or cfg.tune.timeout) else None,
           "fixed": fixed}
    return ctx, cfg, st


def tune(config, overrides=None, *, trials: int | None = None, timeout: float | None = None, jobs: int = 1,
         storage: str | None = None, study: str | None = None, out: str | Path | None = None,
         quiet: bool = True) -> dict:
    """Run (or resume) a study; returns the summary (see `summary`) plus this call's measurements.

    jobs: worker processes on this machine sharing the study (1 = this process only)."""
    import multiprocessing

    if jobs < 1:
        raise UserError(f"--jobs: must be >= 1, got {jobs}")
    ctx, cfg, st = prepare_study(config, overrides, trials=trials, timeout=timeout, storage=storage,
                                 study=study, out=out)
    ctx["quiet"] = quiet
    cpus = os.cpu_count() or 1
    ctx["threads"] = cfg.training.threads or (max(1, cpus // jobs) if jobs > 1 else None)
    _log(ctx, f"study {ctx['study']}: {sampler_name(cfg)} sampler, {pruner_name(cfg)} pruner, "
              f"{ctx['trials']} trials, {jobs} worker(s); folder {ctx['folder']}")
    started = time.perf_counter()
    procs, events = [], []
    if jobs > 1:
        spawn = multiprocessing.get_context("spawn")
        events = [spawn.Event() for _ in range(1, jobs)]
        procs = [spawn.Process(target=_child, args=(ctx, i, e), daemon=False) for i, e in zip(range(1, jobs), events)]
        for p in procs:
            p.start()
    workers = []
    try:
        # Start together: a spawned worker needs seconds to import torch, in which this one would
        # otherwise take the first trials alone (and a short study would never be shared).
        while any(p.is_alive() and not e.is_set() for p, e in zip(procs, events)):
            time.sleep(0.05)
        workers.append(work(ctx, 0))
    except BaseException:  # Ctrl-C or a failure here: the spawned workers stop too (Ctrl-C semantics)
        import signal

        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGINT)
        for p in procs:
            p.join()
        raise
    for p in procs:
        p.join()
        f = Path(ctx["folder"], "workers", f"{p.pid}.json")
        if f.exists():
            workers.append(json.loads(f.read_text()))
    wall = time.perf_counter() - started
    result = summary(ctx["folder"], storage=storage, study=ctx["study"])
    result["this_call"] = {"wall_seconds": round(wall, 3), "workers": workers,
                           "trials_run": sum(w.get("trials", 0) for w in workers),
                           "optuna_seconds": round(sum(w.get("optuna_seconds", 0) for w in workers), 4),
                           "optuna_epoch_seconds": round(sum(w.get("optuna_epoch_seconds", 0) for w in workers), 4),
                           "trial_seconds": round(sum(w.get("trial_seconds", 0) for w in workers), 4),
                           "epochs": sum(w.get("epochs", 0) for w in workers)}
    return result


# ----------------------------------------------------------------------------- results
def _resolve_study(ref: str | Path, storage: str | None, study: str | None,
                   option: str = "--show") -> tuple[Path, str | None, str]:
    p = Path(ref)
    if not (p / "study.json").is_file() and (DEFAULT_ROOT / str(ref) / "study.json").is_file():
        p = DEFAULT_ROOT / str(ref)
    if (p / "study.json").is_file():
        meta = json.loads((p / "study.json").read_text())
        return p, storage or meta.get("storage"), study or meta["study"]
    if storage and study:
        return p, storage, study
    raise UserError(f"{option} {str(ref)!r}: not a study folder (no study.json), and no study {str(ref)!r} in "
                    f"{DEFAULT_ROOT}/; give the folder, or --storage URL with --study NAME")


def load_study(ref, storage: str | None = None, study: str | None = None, option: str = "--show"):
    import optuna

    _quiet_optuna()
    folder, storage, name = _resolve_study(ref, storage, study, option)
    try:
        return optuna.load_study(study_name=name, storage=open_storage(storage, folder)), folder
    except KeyError:
        raise UserError(f"--study {name!r}: no such study in the storage") from None


def _plain(v):
    if isinstance(v, float):
        return float(f"{v:.6g}")
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def best_config(st, trial) -> str:
    """The trial's full config as plain YAML (without the tune section): `trainwell train` it."""
    base = dict(st.user_attrs["config"])
    cfg = load_config(base, trial.user_attrs.get("overrides", {}))
    cfg = cfg.model_copy(update={"name": f"{cfg.name}-best"})
    from .. import yamlio

    body = yamlio.dump(cfg.model_dump(mode="json", exclude={"tune"}), sort_keys=False)
    values = ", ".join(f"{v:.6g}" for v in trial.values)
    return (f"# best trial {trial.number} of study {st.study_name} (objective {values}).\n"
            f"# Train it directly: trainwell train best.yaml\n{body}")


def importances(st) -> dict:
    """Parameter importances (fANOVA) per objective, or a note saying why there are none."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    done = st.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(done) < 2:
        return {"note": f"needs 2 or more complete trials, have {len(done)}"}
    names = [o[0] for o in st.user_attrs.get("objectives", [["value"]])]
    out = {}
    for i, name in enumerate(names):
        try:
            imp = get_param_importances(st, evaluator=FanovaImportanceEvaluator(seed=0),
                                        target=(lambda t, i=i: t.values[i]) if len(names) > 1 else None)
            out[name] = {k: round(v, 4) for k, v in imp.items()}
        except (ValueError, RuntimeError, optuna.exceptions.OptunaError) as exc:
            out[name] = {"note": str(exc)}
    return out


def summary(ref, storage: str | None = None, study: str | None = None) -> dict:
    """Writes trials.csv, best.yaml (or pareto/*.yaml), importances.json in the study folder and
    returns the summary (`text` is what `trainwell tune --show` prints)."""
    import pandas as pd
    from optuna.trial import TrialState

    st, folder = load_study(ref, storage, study)
    objs = [tuple(o) for o in st.user_attrs.get("objectives", [["value", "minimize"]])]
    multi = len(objs) > 1
    trials = st.get_trials(deepcopy=False)
    keys = list(dict.fromkeys(k for t in trials for k in (t.user_attrs.get("overrides") or t.params)))
    rows = []
    for t in trials:
        row = {"trial": t.number, "state": t.state.name.lower()}
        for i, (m, _) in enumerate(objs):
            row[m] = t.values[i] if t.values else None
        row["seconds"] = round(t.duration.total_seconds(), 2) if t.duration else None
        row["epochs"] = t.user_attrs.get("epochs")
        over = t.user_attrs.get("overrides") or t.params  # a cut trial has only Optuna's params
        for k in keys:
            row[k] = _plain(over[k]) if k in over else None
        row["reason"] = t.user_attrs.get("reason", "")
        row["run_dir"] = t.user_attrs.get("run_dir", "")
        row["findings"] = ",".join(sorted({f["code"] for f in t.user_attrs.get("findings", [])}))
        rows.append(row)
    table = pd.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "trials.csv", index=False)
    states = {s: sum(t.state == s for t in trials) for s in TrialState}
    interrupted = sum(1 for t in trials if t.user_attrs.get("interrupted"))
    out: dict[str, Any] = {"study": st.study_name, "folder": str(folder), "objectives": objs,
                           "trials": len(trials), "complete": states[TrialState.COMPLETE],
                           "pruned": states[TrialState.PRUNED], "failed": states[TrialState.FAIL] - interrupted,
                           "interrupted": interrupted, "running": states[TrialState.RUNNING],
                           "epochs": int(sum(t.user_attrs.get("epochs", 0) or 0 for t in trials)),
                           "table": rows}
    lines = [f"study {st.study_name}: {len(trials)} trials: {out['complete']} complete, {out['pruned']} pruned, "
             f"{out['failed']} failed" + (f", {interrupted} interrupted (retried)" if interrupted else "")
             + (f", {out['running']} running" if out["running"] else ""),
             "objective: " + ", ".join(f"{m} ({d})" for m, d in objs) + f"; {out['epochs']} epochs trained in all"]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if complete and not multi:
        best = st.best_trial
        (folder / "best.yaml").write_text(best_config(st, best))
        out["best"] = {"trial": best.number, "value": best.value, "overrides": best.user_attrs.get("overrides", {}),
                       "run_dir": str(folder / best.user_attrs.get("run_dir", "")), "config": str(folder / "best.yaml")}
        shown = " ".join(f"{k}={_plain(v)}" for k, v in out["best"]["overrides"].items())
        lines.append(f"best: trial {best.number}, {objs[0][0]} {best.value:.6g}: {shown}")
    elif complete:
        front = sorted(st.best_trials, key=lambda t: t.values[0])
        (folder / "pareto").mkdir(exist_ok=True)
        out["pareto"] = []
        lines.append(f"Pareto front ({len(front)} trials):")
        for t in front:
            path = folder / "pareto" / f"trial-{t.number:04d}.yaml"
            path.write_text(best_config(st, t))
            out["pareto"].append({"trial": t.number, "values": t.values, "config": str(path),
                                  "overrides": t.user_attrs.get("overrides", {})})
            lines.append(f"  trial {t.number}: " + "  ".join(f"{m} {v:.6g}" for (m, _), v in zip(objs, t.values))
                         + f"  -> {path}")
    else:
        lines.append("best: none yet (no complete trial)")
    imp = importances(st)
    (folder / "importances.json").write_text(json.dumps(imp, indent=2) + "\n")
    out["importances"] = imp
    for name, values in imp.items():
        if name == "note" or "note" in values:
            lines.append(f"importances: {values if name == 'note' else values['note']}")
        else:
            lines.append(f"importances ({name}): " + ", ".join(f"{k} {v:.2f}" for k, v in values.items()))
    if rows:
        cols = ["trial", "state", *[m for m, _ in objs], "seconds", "epochs", *keys, "findings"]
        with pd.option_context("display.max_rows", 200, "display.width", 200, "display.max_colwidth", 40):
            lines += ["", table[cols].to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4g}")]
    lines.append("")
    lines.append(f"trials table: {folder / 'trials.csv'}; dashboard: optuna-dashboard "
                 f"{folder / JOURNAL if not _storage_of(folder) else _storage_of(folder)}")
    if "best" in out:
        lines.append(f"best config: {folder / 'best.yaml'}  (trainwell train {folder / 'best.yaml'})")
    report = _study_report(folder, st, objs, out)
    if report:
        out["report"] = str(report)
        lines.append(f"report: {report}")
    out["text"] = "\n".join(lines)
    return out


def _study_report(folder: Path, st, objs, out: dict) -> Path | None:
    """report.html in the study folder; a failure to draw must not lose the study's summary."""
    from ..report import write_study_report

    best = Path(out["best"]["config"]).read_text() if "best" in out else None
    imp = out.get("importances", {})
    known = imp.get(objs[0][0]) or ({"note": imp["note"]} if "note" in imp else None)
    try:
        return write_study_report(folder, st, metric=objs[0][0], direction=objs[0][1], best_config=best,
                                  importances=known)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the trials are safe on disk
        print(f"warning: the study report could not be written: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def _storage_of(folder: Path) -> str | None:
    try:
        return json.loads((folder / "study.json").read_text()).get("storage")
    except (FileNotFoundError, json.JSONDecodeError):
        return None
