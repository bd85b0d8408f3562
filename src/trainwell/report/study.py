"""The report of a tuning study: optimization history, importances, parallel coordinates,
pruned vs complete trials, the best trial's config.

    write_study_report(study_dir, study, *, metric=None, direction=None, best_config=None, out=None) -> Path

`study` is an `optuna.Study`, or plain values:
    {"metric": "val_accuracy", "direction": "maximize",
     "trials": [{"number": 0, "value": 0.93,
                 "state": "COMPLETE" | "PRUNED" | "FAIL" | "INTERRUPTED" | "SKIPPED" | "RUNNING",
                 "params": {"optimizer.lr": 0.003}, "intermediate": {1: 0.81, 2: 0.9},
                 "duration": 4.2, "run_dir": "trials/trial-0000"}, ...],
     "importances": {"optimizer.lr": 0.7, ...}}            # optional
A multi-objective study is reported on its first objective, with its Pareto front as a table.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import UserError
from . import html as H


def _plain_trials(study) -> tuple[list[dict], str | None, list[str]]:
    """(trials, direction of the first objective, all directions) from an optuna Study."""
    directions = [d.name.lower() for d in study.directions]
    trials = []
    for t in study.get_trials(deepcopy=False):
        values = t.values
        # Failed in Optuna's terms, but not failures: a trial cut by Ctrl-C (queued again) and a grid
        # point that would train an earlier trial's configuration (tuning.results counts them apart).
        state = t.state.name
        if state == "FAIL" and t.user_attrs.get("interrupted"):
            state = "INTERRUPTED"
        elif state == "FAIL" and t.user_attrs.get("duplicate_of") is not None:
            state = "SKIPPED"
        trials.append({
            "number": t.number, "state": state,
            "value": values[0] if values else None, "values": list(values) if values else None,
            "params": dict(t.params), "intermediate": dict(sorted(t.intermediate_values.items())),
            "duration": t.duration.total_seconds() if t.duration else None,
            "run_dir": t.user_attrs.get("run_dir"), "reason": t.user_attrs.get("reason"),
        })
    return trials, directions[0] if directions else None, directions


def _importances(study, trials) -> tuple[dict | None, str | None]:
    if isinstance(study, dict):
        return study.get("importances"), None if study.get("importances") else "not given"
    done = [t for t in trials if t["state"] == "COMPLETE"]
    varied = [p for p in {k for t in done for k in t["params"]} if len({json.dumps(t["params"].get(p), default=str)
                                                                         for t in done}) > 1]
    if len(done) < 3 or not varied:
        return None, f"needs at least 3 complete trials with varied hyperparameters ({len(done)} complete)"
    try:
        import optuna

        target = None if len(study.directions) == 1 else (lambda t: t.values[0])
        # fANOVA, as `tune --show` and importances.json (Optuna's default evaluator is another,
        # which gave other values and warned on sparse conditional parameters)
        return dict(optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0), target=target)), None
    except Exception as exc:  # noqa: BLE001 - an estimate that fails must not cost the report
        return None, f"could not be estimated ({type(exc).__name__}: {exc})"


def build_study_report(study_dir: str | Path, study, *, metric: str | None = None, direction: str | None = None,
                       best_config=None, importances: dict | None = None) -> str:
    """importances: the first objective's, when the caller has estimated them already (fANOVA costs
    about a second on a few dozen trials), or {"note": why there are none}; otherwise estimated here."""
    from .. import __version__
    from . import plots

    if isinstance(study, dict):
        trials = [dict(t) for t in study.get("trials", [])]
        for t in trials:
            t.setdefault("intermediate", {})
            t.setdefault("params", {})
            t.setdefault("value", None)
        direction = direction or study.get("direction")
        directions = [direction] if direction else []
        metric = metric or study.get("metric")
        name = study.get("name") or Path(study_dir).name
    else:
        trials, first, directions = _plain_trials(study)
        direction = direction or first
        name = getattr(study, "study_name", None) or Path(study_dir).name
    if direction not in ("maximize", "minimize"):
        raise UserError(f"study report: direction must be maximize or minimize, got {direction!r}")
    metric = metric or "objective"
    maximize = direction == "maximize"
    states = {}
    for t in trials:
        states[t["state"]] = states.get(t["state"], 0) + 1
    done = [t for t in trials if t["state"] == "COMPLETE" and t["value"] is not None]
    best = (max if maximize else min)(done, key=lambda t: t["value"]) if done else None
    params = list(dict.fromkeys(p for t in trials for p in t["params"]))
    multi = len(directions) > 1

    page = H.Page(title=f"trainwell study: {name}",
                  subtitle=f"{Path(study_dir).resolve()} · {metric}, {direction} · {len(trials)} trials")
    summary = [("objective", f"{metric} ({direction})" + (f"; first of {len(directions)} objectives"
                                                           if multi else "")),
               ("trials", ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items())) or "none"),
               ("best value", f"{best['value']:.6g} (trial {best['number']})" if best else None),
               ("searched", ", ".join(params) or None)]
    total = sum(t.get("duration") or 0 for t in trials)
    if total:
        summary.append(("trial time", f"{total:.1f} s in all"))
    page.add("summary", "Summary", H.kv_table([(k, v) for k, v in summary if v is not None]))

    if done:
        body = H.img(plots.optimization_history(trials, metric, maximize), "optimization history")
    else:
        body = "<p class='muted'>No complete trial yet.</p>"
    page.add("history", "Optimization history", body)

    if importances:
        imp, why = (None, importances["note"]) if "note" in importances else (importances, None)
    else:
        imp, why = _importances(study, trials)
    page.add("importances", "Hyperparameter importances",
             H.img(plots.importances(imp), "hyperparameter importances") if imp
             else f"<p class='muted'>No importances: {H.esc(why)}.</p>")

    if len(done) >= 2 and params:
        body = H.img(plots.parallel_coordinates(trials, params, metric, maximize), "parallel coordinates")
    else:
        body = "<p class='muted'>Needs at least two complete trials.</p>"
    page.add("parallel", "Parallel coordinates", body)

    rows = []
    for t in sorted(trials, key=lambda t: t["number"]):
        steps = len(t.get("intermediate") or {})
        rows.append([t["number"], t["state"].lower(), t["value"], steps, t.get("duration"),
                     ", ".join(f"{k}={H.fmt(v)}" for k, v in t["params"].items()), t.get("reason") or ""])
    pruned_plot = ""
    if any(t.get("intermediate") for t in trials):
        pruned_plot = H.img(plots.intermediate_values(trials, metric), "intermediate values per trial")
    page.add("trials", "Pruned vs complete trials",
             pruned_plot + H.table(["trial", "state", metric, "epochs reported", "seconds", "params", "note"], rows))

    if multi and not isinstance(study, dict):
        front = study.best_trials
        page.add("pareto", "Pareto front", H.table(
            ["trial", *[f"objective {i + 1} ({d})" for i, d in enumerate(directions)], "params"],
            [[t.number, *t.values, ", ".join(f"{k}={H.fmt(v)}" for k, v in t.params.items())] for t in front]))

    best_body = ""
    if best:
        best_body += H.kv_table([("trial", best["number"]), (metric, best["value"]), *best["params"].items()])
        if best.get("run_dir"):
            best_body += f"<p>Its run directory: <code>{H.esc(best['run_dir'])}</code></p>"
    if best_config is not None:
        text = best_config if isinstance(best_config, str) else _yaml(best_config)
        best_body += f"<h3>Best config</h3><pre>{H.esc(text)}</pre>"
    page.add("best", "Best config", best_body or "<p class='muted'>No complete trial yet.</p>")
    page.footer = (f"Written by trainwell {__version__} on {time.strftime('%Y-%m-%d %H:%M:%S')}. "
                   f"Self-contained: it loads nothing from the network.")
    return page.render()


def _yaml(obj) -> str:
    from .. import yamlio

    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    return yamlio.dump(obj, sort_keys=False)


def write_study_report(study_dir: str | Path, study, *, metric: str | None = None, direction: str | None = None,
                       best_config=None, out: str | Path | None = None, importances: dict | None = None) -> Path:
    """Write STUDY_DIR/report.html (or `out`) for an optuna Study or plain trial values; returns the path.
    best_config: the best trial's resolved config (a Config, a dict or YAML text), shown in full."""
    from ..training.checkpoint import write_text_atomic

    text = build_study_report(study_dir, study, metric=metric, direction=direction, best_config=best_config,
                              importances=importances)
    path = Path(out) if out is not None else Path(study_dir) / "report.html"
    write_text_atomic(path, text)
    return path
