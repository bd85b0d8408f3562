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

import json
import os
import socket
import sys
import time
from pathlib import Path

from ..config import load_config
from ..errors import TrainingInterrupted, UserError
from . import interrupt
from .budget import search_end
from .results import summary
from .search import (_seed, build_pruner, build_sampler, check_loss_comparable, objectives, pruner_name,
                     sampler_name, scipy_log_ndtr)
from .storage import DEFAULT_ROOT, JOURNAL, _catch_up, _counts, _held_writes, absolute_storage, _locked, _quiet_optuna, _recover_stale, _requeue, open_storage
from .trial import _describe, _log, _set_user_attrs, run_trial


def work(ctx: dict, worker: int = 0, ready=None) -> dict:
    """One worker: ask, train, tell, until the study holds ctx['trials'] trials or time is up.
    Returns what it did, with the time spent inside Optuna (ask, tell, report, should_prune).
    Raises interrupt.StudyInterrupted after Ctrl-C or SIGTERM, with nothing half-written."""
    with interrupt.deferred(), scipy_log_ndtr():
        return _work(ctx, worker, ready)


def _work(ctx: dict, worker: int, ready) -> dict:
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
        interrupt.check()
        if deadline is not None and time.time() >= deadline:
            break
        stop_at = None
        if ctx.get("budget"):
            starts_until, stop_at = search_end(study, ctx["budget"])
            if time.time() >= starts_until:
                break
        trial = None
        try:
            with _locked(folder):
                interrupt.check()  # the signal may have come while another worker held the lock
                locked_at = time.perf_counter()
                _recover_stale(study)
                done = sum(_counts(t) for t in study.get_trials(deepcopy=False))
                if done >= ctx["trials"]:
                    break
                grid = isinstance(study.sampler, optuna.samplers.GridSampler)
                if grid and study.sampler.is_exhausted(study):
                    break
                trial = study.ask()
                twin = _grid_twin(study, trial, space) if grid else None
                if twin is not None:
                    _skip_twin(study, trial, twin)
                    _log(ctx, f"trial {trial.number} skipped: the same configuration as trial {twin.number}")
                    continue
                stats["optuna_seconds"] += time.perf_counter() - locked_at
            ran = time.perf_counter()
            result = run_trial(trial, ctx, cfg, space, {"host": host, "pid": os.getpid()}, stop_at)
        except (TrainingInterrupted, KeyboardInterrupt) as exc:
            signum = getattr(exc, "signum", 2)
            if trial is not None:
                _requeue(study, trial._trial_id, trial.number, trial.params)
                trial.set_user_attr("reason", f"interrupted ({'SIGTERM' if signum == 15 else 'Ctrl-C'}); queued again")
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            raise interrupt.StudyInterrupted(signum) from None
        except UserError:
            raise
        except Exception as exc:  # an internal failure in one trial is recorded; the study goes on
            if trial is None:
                raise
            result = {"state": "fail", "values": None, "optuna_seconds": 0.0,
                      "attrs": {"reason": f"internal error: {type(exc).__name__}: {exc}"}}
        trial_seconds = time.perf_counter() - ran
        told = time.perf_counter()
        state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}[result["state"]]
        # the attributes and the end in one journal append: tell reads the trial's reports (a pruned
        # trial's value is its last one), which run_trial wrote already, never its new attributes
        with _held_writes(trial):
            _set_user_attrs(trial, result["attrs"])
            _catch_up(trial)
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


def _grid_twin(study, trial, space):
    """The earlier trial that trains what this grid trial would, or None. Optuna's grid is the product
    of every parameter's values, so where a `when` leaves a parameter unused (momentum with adam)
    its values give points that train the same configuration. Called under the lock, and it samples
    the trial's parameters there, so that two workers cannot both take one configuration as new."""
    from optuna.trial import TrialState

    space.sample(trial)  # the grid's point; a parameter whose condition fails is not suggested
    mine = trial.params
    for t in study.get_trials(deepcopy=False):
        if t.number == trial.number or t.state == TrialState.WAITING or not _counts(t):
            continue
        if t.params == mine:
            return t
    return None


def _skip_twin(study, trial, twin) -> None:
    """Told as failed (so the grid sampler counts its point visited) and not counted as a trial."""
    from optuna.trial import TrialState

    _set_user_attrs(trial, {"duplicate_of": twin.number,
                            "reason": f"skipped: the same configuration as trial {twin.number} (a grid point "
                                      f"whose other values are for a parameter its `when` leaves unused)"})
    try:
        study.tell(trial, state=TrialState.FAIL)
    except RuntimeError as exc:  # the grid sampler calls study.stop() after its last point
        if "Study.stop" not in str(exc):
            raise


def _child(ctx: dict, worker: int, ready, stop) -> None:
    """Entry point of a spawned worker process: its stats go to a file the parent reads. `stop`: a
    shared Value where the parent writes the signal that stops the study, for the moments the worker
    cannot take a signal itself."""
    with interrupt.handled(worker=True, stop=stop):
        try:
            stats = work(ctx, worker, ready)
        except KeyboardInterrupt:
            stats = {"worker": worker, "interrupted": True}
    Path(ctx["folder"], "workers").mkdir(exist_ok=True)
    Path(ctx["folder"], "workers", f"{os.getpid()}.json").write_text(json.dumps(stats))


def _check_study_name(name: str, flag: str) -> None:
    """A study name is also its folder's under studies/: a path in it ('../x', 'a/b') would write
    elsewhere, and an empty one would quietly become the config's name."""
    if not name.strip() or name.startswith(".") or any(c in name for c in "/\\") or \
            len(name) > 100 or not name.isprintable():
        raise UserError(f"{flag}: {name!r} is not a valid study name: it names a folder under {DEFAULT_ROOT}/, so it "
                        f"must be 1 to 100 printable characters without '/' or '\\', not starting with '.' "
                        f"(letters, digits, '_', '-' and '.' are safe); choose a folder elsewhere with --out")


def _folder_for(name: str, out: str | Path | None) -> Path:
    return Path(out) if out is not None else DEFAULT_ROOT / name


# What a study folder holds before its study.json is written (a first run stopped early).
_STUDY_FILES = {JOURNAL, ".lock", f"{JOURNAL}.lock", f"{JOURNAL}.flock", "workers"}


def _check_folder(folder: Path, name: str, out) -> None:
    """A folder is this study's, or new, or empty: tune writes report.html, best.yaml and trials/
    there, and must not write over someone's files (or another study's)."""
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    flag = f"--out {str(folder)!r}" if out is not None else f"the study folder {str(folder)!r}"
    meta = folder / "study.json"
    if meta.is_file():
        try:
            held = json.loads(meta.read_text()).get("study")
        except (ValueError, AttributeError):
            held = None
        if held == name:
            return
        if held is not None:
            raise UserError(f"{flag} holds the study {held!r}, not {name!r}; resume that one with --study {held}, "
                            f"or give a new --out (nothing was overwritten)")
    elif {p.name for p in folder.iterdir()} <= _STUDY_FILES:
        return
    raise UserError(f"{flag} already exists, is not empty and holds no study; choose a new or empty folder "
                    f"(nothing was overwritten)")


def _describe_distribution(d) -> str:
    if hasattr(d, "choices"):
        return "[" + ", ".join(c if isinstance(c, str) and c[:1] in "[{" else repr(c) for c in d.choices) + "]"
    kind = "int" if type(d).__name__.startswith("Int") else "float"
    return f"{kind} {d.low:g}..{d.high:g}" + (" log" if d.log else "")


def _check_same_space(st, space, name: str) -> None:
    """A choice (or a kind, or log) cannot change within a study: Optuna would fail every new trial.
    Ranges may change, as Optuna allows: narrowing one to go on searching is a real use."""
    from optuna.distributions import check_distribution_compatibility

    new = space.distributions()
    old = {}
    for t in st.get_trials(deepcopy=False):
        for key, d in t.distributions.items():
            old.setdefault(key, d)
    problems = []
    for key in sorted(new.keys() & old.keys()):
        try:
            check_distribution_compatibility(old[key], new[key])
        except ValueError:
            problems.append(f"tune.space.{key}: the study {name!r} was created with {_describe_distribution(old[key])}, "
                            f"this config has {_describe_distribution(new[key])}")
    if problems:
        raise UserError("the search space differs from the one the study was created with, and Optuna cannot "
                        "change a choice (or a parameter's kind or log scale) within a study:\n"
                        + "\n".join(f"  - {p}" for p in problems)
                        + "\nuse a new --study name (or a new --out), or restore the old values to resume it")


def _flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _config_id(base: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest()[:12]


def _check_same_config(st, cfg, objs, task: str, name: str) -> str | None:
    """A study resumed with another objective or task is refused: its values would not compare. A
    config changed outside tune: (more epochs, the data's path on another machine) is allowed, but
    its trials are not those of the first config: the config is kept in the study under its id and
    each trial records the id, so that best.yaml is the config the best trial really trained.
    Returns that id, or None for the config the study was created with."""
    old_objs = [tuple(o) for o in st.user_attrs.get("objectives", [])]
    if old_objs and old_objs != [tuple(o) for o in objs]:
        raise UserError(f"--study {name!r} optimises {', '.join(f'{m} ({d})' for m, d in old_objs)}, but this config "
                        f"asks {', '.join(f'{m} ({d})' for m, d in objs)}; their values do not compare: use a new "
                        f"--study name (or a new --out), or the study's tune.metric / tune.objectives")
    old_folds = (st.user_attrs["config"].get("tune") or {}).get("cv_folds", 1)
    if old_folds != cfg.tune.cv_folds:
        raise UserError(f"tune.cv_folds: the study {name!r} was created with {old_folds}, this config has "
                        f"{cfg.tune.cv_folds}; a mean over folds and a single validation split do not compare: "
                        f"use a new --study name (or a new --out), or cv_folds: {old_folds}")
    if st.user_attrs.get("task", task) != task:
        raise UserError(f"--study {name!r} was created for a {st.user_attrs['task']} task, but this config's data "
                        f"makes a {task} task; use a new --study name (or a new --out)")
    new = cfg.model_dump(mode="json")
    old = st.user_attrs["config"]
    plain = lambda c: {k: v for k, v in c.items() if k not in ("tune", "name")}  # noqa: E731
    if plain(new) == plain(old):
        return None
    cid = _config_id(plain(new))
    if f"config:{cid}" not in st.user_attrs:
        st.set_user_attr(f"config:{cid}", new)
    a, b = _flat(plain(old)), _flat(plain(new))
    changed = [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
    print(f"note: the config differs from the one study {name!r} was created with ("
          + "; ".join(changed[:5]) + (f"; {len(changed) - 5} more" if len(changed) > 5 else "")
          + "); the trials run now keep this config, and best.yaml is the best trial's own",
          file=sys.stderr, flush=True)
    return cid


def prepare_study(config, overrides=None, *, trials=None, timeout=None, storage=None, study=None, out=None):
    """Validate everything up front (UserError naming the entry), create or load the study.
    Returns (ctx, cfg, optuna study)."""
    import optuna

    from .. import api, metrics
    from .. import data as data_mod
    from .space import Space

    _quiet_optuna()
    storage = absolute_storage(storage)
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
    if multi and sampler_name(cfg) == "cmaes":
        # Optuna's CmaEsSampler raises inside every trial's first suggestion: the study would only fail
        raise UserError(f"tune.sampler: cmaes searches a single objective, and tune.objectives lists {len(objs)}; "
                        f"use nsga2 (the default for several), tpe, gp, random or grid")
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
    if cfg.tune.cv_folds > 1:
        # The upper bound is KFold's; above the smallest class's count fold_hook falls back from
        # stratified to plain folds, which is allowed, so that is not the limit.
        rows = len(prepared.train.x) + (len(prepared.val.x) if prepared.val is not None else 0)
        if cfg.tune.cv_folds > rows:
            raise UserError(f"tune.cv_folds: {cfg.tune.cv_folds} folds of the {rows} train+val rows is more folds "
                            f"than rows; valid: 2 .. {rows} (or 1 for no cross-validation)")
        if task in ("binary", "multiclass"):
            import numpy as np

            ys = [prepared.train.y] + ([prepared.val.y] if prepared.val is not None else [])
            counts = np.bincount(np.concatenate(ys).astype("int64"), minlength=len(prepared.spec.classes))
            if counts.min() < cfg.tune.cv_folds:
                smallest = prepared.spec.classes[int(counts.argmin())]
                print(f"note: tune.cv_folds: class {smallest!r} has {counts.min()} train+val rows, fewer than the "
                      f"{cfg.tune.cv_folds} folds, so the folds are not stratified and some validation folds "
                      f"lack it" + (f"; cv_folds {counts.min()} or fewer keeps them stratified" if counts.min() >= 2
                                    else ""),
                      file=sys.stderr, flush=True)
    check_loss_comparable(cfg, objs, task)
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
    name = cfg.name if study is None else study
    flag = "--study" if study is not None else "name (the config's, the default study name)"
    if out is None:   # the name is the folder's too
        _check_study_name(name, flag)
    elif not name.strip() or not name.isprintable():
        raise UserError(f"{flag}: {name!r} is not a valid study name: give 1 or more printable characters")
    folder = _folder_for(name, out)
    _check_folder(folder, name, out)
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
        config_id = _check_same_config(st, cfg, objs, task, name)
        if space.needs_lr_auto and "lr_auto" not in st.user_attrs:
            from ..doctor.lr_finder import find_lr

            result = find_lr(cfg)
            if result.suggestion is None:
                raise UserError(f"tune.space.optimizer.lr: low/high auto needs the range test's suggestion, but "
                                f"it gave none ({result.reason}); set numeric bounds")
            param = cfg.tune.space["optimizer.lr"]
            st.set_user_attr("lr_auto", {"suggestion": result.suggestion, "reason": result.reason,
                                         "bounds": [result.suggestion / param.span, result.suggestion * param.span]})
        _check_same_space(st, Space(cfg, tuple(st.user_attrs["lr_auto"]["bounds"])
                                    if "lr_auto" in st.user_attrs else None), name)
    meta = {"study": name, "storage": storage, "folder": str(folder.resolve()),
            "sampler": sampler_name(cfg), "pruner": pruner_name(cfg), "objectives": objs,
            "config": str(Path(config).resolve()) if isinstance(config, (str, Path)) else None}
    (folder / "study.json").write_text(json.dumps(meta, indent=2) + "\n")
    ctx = {"config": cfg.model_dump(mode="json"), "folder": str(folder.resolve()), "storage": storage,
           "study": name, "trials": trials or cfg.tune.trials,
           "deadline": time.time() + (timeout or cfg.tune.timeout) if (timeout or cfg.tune.timeout) else None,
           "fixed": fixed, **({"config_id": config_id} if config_id else {})}
    return ctx, cfg, st


def tune(config, overrides=None, *, trials: int | None = None, timeout: float | None = None, jobs: int = 1,
         storage: str | None = None, study: str | None = None, out: str | Path | None = None,
         quiet: bool = True, _budget: dict | None = None) -> dict:
    """Run (or resume) a study; returns the summary (see `summary`) plus this call's measurements.

    jobs: worker processes on this machine sharing the study (1 = this process only).
    _budget: auto's whole-command budget (budget.py), which also stops a trial that would overrun it."""
    if jobs < 1:
        raise UserError(f"--jobs: must be >= 1, got {jobs}")
    # Ctrl-C and SIGTERM: see interrupt.py; StudyInterrupted tells the caller which came.
    with interrupt.handled():
        return _tune(config, overrides, trials=trials, timeout=timeout, jobs=jobs, storage=storage, study=study,
                     out=out, quiet=quiet, budget=_budget)


def _tune(config, overrides, *, trials, timeout, jobs, storage, study, out, quiet, budget) -> dict:
    import multiprocessing

    ctx, cfg, st = prepare_study(config, overrides, trials=trials, timeout=timeout, storage=storage,
                                 study=study, out=out)
    ctx["quiet"] = quiet
    ctx["budget"] = budget
    cpus = os.cpu_count() or 1
    ctx["threads"] = cfg.training.threads or (max(1, cpus // jobs) if jobs > 1 else None)
    _log(ctx, f"study {ctx['study']}: {sampler_name(cfg)} sampler, {pruner_name(cfg)} pruner, "
              f"{ctx['trials']} trials, {jobs} worker(s); folder {ctx['folder']}")
    started = time.perf_counter()
    procs, events, stop = [], [], None
    if jobs > 1:
        spawn = multiprocessing.get_context("spawn")
        events = [spawn.Event() for _ in range(1, jobs)]
        stop = spawn.Value("i", 0)
        procs = [spawn.Process(target=_child, args=(ctx, i, e, stop), daemon=False)
                 for i, e in zip(range(1, jobs), events)]
        with interrupt.spawning():
            for p in procs:
                p.start()
    workers = []
    try:
        # Start together: a spawned worker needs seconds to import torch, in which this one would
        # otherwise take the first trials alone (and a short study would never be shared).
        while any(p.is_alive() and not e.is_set() for p, e in zip(procs, events)):
            time.sleep(0.05)
        for i, (p, e) in enumerate(zip(procs, events), start=1):
            if not e.is_set():
                # typically a script without `if __name__ == "__main__":`, which each spawned worker imports
                print(f"warning: worker {i} ended before it started (exit code {p.exitcode}; its error is above); "
                      f"the other workers go on without it. From a Python script, call trainwell.tune(jobs=...) "
                      f"under `if __name__ == \"__main__\":`", file=sys.stderr, flush=True)
        workers.append(work(ctx, 0))
        for p in procs:
            p.join()
    except BaseException as exc:  # Ctrl-C, SIGTERM or a failure here: the spawned workers stop as after that signal
        with interrupt.deferred():
            signum = getattr(exc, "signum", 2)
            if stop is not None:
                stop.value = signum
            for p in procs:
                if p.is_alive():
                    os.kill(p.pid, signum)
            for p in procs:
                if p.pid is not None:  # started
                    p.join()
        raise
    for p in procs:
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
