"""One trial: a real trainwell run with the trial's overrides (or one per fold, under cv_folds)
that reports the monitored value every epoch, may be pruned, and keeps the doctor's findings."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import UserError
from . import interrupt
from .search import _decision_steps, objectives, pruner_name
from .storage import _catch_up, _held_writes


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
                _catch_up(self.trial)   # the other workers' trials, as the pruner compares with them
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


def _reporter(reports: _Reports, metric: str, prune: bool, pruner: str, stop_at: float | None = None):
    """A training callback: reports the monitored value each epoch (when `prune`); stops the run when
    pruned, or after the epoch that passes `stop_at` (unix time: auto's budget, see budget.py)."""
    from ..training.loop import Callback  # imports torch, so only when a trial runs

    class Reporter(Callback):
        def __init__(self):
            self.pruned_at: int | None = None
            self.out_of_time = False

        def on_fit_start(self, trainer):
            interrupt.on_fit_start(trainer)  # a signal noted before the training stops it now

        def on_fit_end(self, trainer):
            interrupt.on_fit_end(trainer)

        def on_epoch_end(self, trainer, logs):
            if stop_at is not None and time.time() >= stop_at:
                trainer.should_stop = True
                self.out_of_time = True
                trainer.stop_reason = f"out of time: stopped after epoch {logs['epoch']} to leave the final run its time"
                return
            value = logs.get(metric)
            if not prune or value is None or not math.isfinite(value):
                return
            if reports.report(float(value), logs["epoch"]):
                trainer.should_stop = True
                self.pruned_at = logs["epoch"]
                trainer.stop_reason = (f"pruned by the {pruner} pruner after epoch {logs['epoch']}: "
                                       f"{metric} {value:.4g}")

    return Reporter()


def _kept(run, info: dict, history: list[dict]) -> dict | None:
    """The history line of the epoch whose weights the run ended with, which best.yaml trains again:
    early stopping's best epoch when it restores the best weights (its monitor may be another metric
    than the study's), else the last epoch. The best value of the metric over all epochs would rank
    trials by weights they did not keep."""
    from ..config import load_config

    if not history:
        return None
    repaired = run.path / "config.repaired.yaml"  # a repair may have turned early stopping on
    es = (load_config(repaired) if repaired.is_file() else run.config).training.early_stopping
    best = info.get("best_epoch")
    if es.enabled and es.restore_best and best is not None:
        for h in history:
            if h.get("epoch") == best:
                return h
    return history[-1]


def _value(line: dict | None, metric: str) -> float | None:
    v = (line or {}).get(metric)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


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
        stratified = classify and np.bincount(y.astype("int64")).min() >= folds
        if stratified:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        else:
            splitter = KFold(folds, shuffle=True, random_state=seed)
        tr, va = list(splitter.split(x, y if classify else None))[fold]
        report = {**prepared.report, "cv": {"fold": fold, "folds": folds, "train_rows": len(tr), "val_rows": len(va),
                                            "stratified": bool(stratified),
                                            "note": "folds of train+val; preprocessing fitted on the train split"}}
        return dataclasses.replace(prepared, train=SplitArrays(x[tr], y[tr], y_raw[tr]),
                                   val=SplitArrays(x[va], y[va], y_raw[va]), report=report)
    return hook


def run_trial(trial, ctx: dict, cfg: Config, space, worker: dict, stop_at: float | None = None) -> dict:
    """Train one trial (K runs with cv_folds); returns {"state", "values", "attrs", "optuna_seconds",
    "optuna_epoch_seconds"} (the latter: Optuna's time in the per-epoch reports and pruning).
    `worker` (host, pid) is stored on the trial, so a trial whose worker died can be found."""
    sampled_at = time.perf_counter()
    with _held_writes(trial):
        trial.set_user_attr("worker", worker)
        if ctx.get("config_id"):  # not the config the study was created with (study._check_same_config)
            trial.set_user_attr("config_id", ctx["config_id"])
        overrides = space.sample(trial)
    suggest_seconds = time.perf_counter() - sampled_at  # the sampler works inside suggest_*
    reports = _Reports(trial)
    try:
        result = _train_folds(trial, ctx, cfg, overrides, reports, stop_at)
    finally:
        reports.flush()  # buffered values reach the storage before the trial is told, however it ended
    return {**result, "optuna_seconds": suggest_seconds + reports.seconds, "optuna_epoch_seconds": reports.seconds}


def _train_folds(trial, ctx: dict, cfg: Config, overrides: dict, reports: _Reports, stop_at: float | None) -> dict:
    from .. import api
    from ..data import data_seed
    from ..runs import read_json

    objs = objectives(cfg)
    multi = len(objs) > 1
    folder = Path(ctx["folder"])
    trial_dir = folder / "trials" / f"trial-{trial.number:04d}"
    folds = cfg.tune.cv_folds
    attrs: dict[str, Any] = {"overrides": overrides, "run_dir": str(trial_dir.relative_to(folder))}
    per_fold: list[list[float | None]] = []
    epochs, seconds, findings = 0, 0.0, []
    pruner = pruner_name(cfg)
    for k in range(folds):
        out = trial_dir / f"fold-{k}" if folds > 1 else trial_dir
        # Only fold 0 reports: it is the same split in every trial, so a rung compares epoch e with
        # epoch e. Steps running on into later folds put a rung on a fold's first epochs, and a trial
        # whose early folds were good lost on one untrained number. Folds 1.. run to their end.
        reporter = _reporter(reports, objs[0][0], k == 0 and not multi and pruner != "none", pruner, stop_at)
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
        if reporter.pruned_at is not None or reporter.out_of_time:  # a cut trial's value would not compare
            return {"state": "pruned", "values": None, "attrs": {**attrs, "reason": info.get("stop_reason", "pruned")}}
        values, kept = [], _kept(run, info, history)
        for metric, direction in objs:
            if metric == "parameters":
                values.append(float(info.get("parameters", 0)))
            elif metric == "latency_ms":
                values.append(_latency_ms(run))
            else:
                values.append(_value(kept, metric))
        if any(v is None for v in values):
            missing = next(m for (m, _), v in zip(objs, values) if v is None)
            return {"state": "fail", "values": None,
                    "attrs": {**attrs, "reason": f"no finite {missing} at epoch {(kept or {}).get('epoch')}, whose "
                                                 f"weights the run kept"}}
        per_fold.append(values)
        attrs["reason"] = info.get("stop_reason", "")
    mean = [sum(v[i] for v in per_fold) / len(per_fold) for i in range(len(objs))]
    if folds > 1:
        attrs["fold_values"] = [v[0] for v in per_fold]
    return {"state": "complete", "values": mean, "attrs": attrs}


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
