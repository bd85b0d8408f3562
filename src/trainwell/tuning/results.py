"""What a study leaves: the best config as a plain YAML, the trials table, parameter importances
and the summary `trainwell tune --show` prints again."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import UserError
from .storage import DEFAULT_ROOT, JOURNAL, _quiet_optuna, open_storage, sqlite_parts


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
    given = storage
    folder, storage, name = _resolve_study(ref, storage, study, option)
    parts = sqlite_parts(storage)
    path = Path(parts[1]).expanduser() if parts else None
    if path is not None and not path.is_file():
        # Opening it would create an empty database, and then say the study is not there.
        said = f"--storage {storage!r}" if given else f"the study's storage in {folder / 'study.json'} ({storage!r})"
        raise UserError(f"{said}: no such SQLite file ({path.resolve()}); give the path the study was created with "
                        f"(a relative one is relative to where tune ran)" + ("" if given else ", with --storage"))
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
    # A trial run after the config changed records the id of the config it trained (study._check_same_config).
    base = dict(st.user_attrs.get(f"config:{trial.user_attrs.get('config_id')}") or st.user_attrs["config"])
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
        row = {"trial": t.number, "state": "skipped" if t.user_attrs.get("duplicate_of") is not None
               else t.state.name.lower()}
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
    skipped = sum(1 for t in trials if t.user_attrs.get("duplicate_of") is not None)
    out: dict[str, Any] = {"study": st.study_name, "folder": str(folder), "objectives": objs,
                           "trials": len(trials), "complete": states[TrialState.COMPLETE],
                           "pruned": states[TrialState.PRUNED], "failed": states[TrialState.FAIL] - interrupted - skipped,
                           "interrupted": interrupted, "skipped": skipped, "running": states[TrialState.RUNNING],
                           "epochs": int(sum(t.user_attrs.get("epochs", 0) or 0 for t in trials)),
                           "table": rows, "reasons": _reasons(trials)}
    lines = [f"study {st.study_name}: {len(trials)} trials: {out['complete']} complete, {out['pruned']} pruned, "
             f"{out['failed']} failed" + (f", {interrupted} interrupted (retried)" if interrupted else "")
             + (f", {skipped} skipped (grid points that train an earlier trial's configuration)" if skipped else "")
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
        from ..training.checkpoint import write_text_atomic

        front = sorted(st.best_trials, key=lambda t: t.values[0])
        out["pareto"] = []
        lines.append(f"Pareto front ({len(front)} trials):")
        for t in front:
            path = folder / "pareto" / f"trial-{t.number:04d}.yaml"
            write_text_atomic(path, best_config(st, t))
            out["pareto"].append({"trial": t.number, "values": t.values, "config": str(path),
                                  "overrides": t.user_attrs.get("overrides", {})})
            lines.append(f"  trial {t.number}: " + "  ".join(f"{m} {v:.6g}" for (m, _), v in zip(objs, t.values))
                         + f"  -> {path}")
        # Dominated points go only once the new front is written: a crash between leaves a superset
        # of a front, never part of one.
        kept = {Path(p["config"]).name for p in out["pareto"]}
        for stale in (folder / "pareto").glob("trial-*.yaml"):
            if stale.name not in kept:
                stale.unlink(missing_ok=True)
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
        # a column where no trial has a value holds None, which to_string prints as such, not as na_rep
        shown = table[cols].astype({m: float for m, _ in objs})
        with pd.option_context("display.max_rows", 200, "display.width", 200, "display.max_colwidth", 40):
            lines += ["", shown.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4g}")]
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


def _reasons(trials) -> list[tuple[str, int]]:
    """The distinct reasons the failed and pruned trials ended with, most common first; a retried
    (interrupted) or skipped trial did not end on its own account."""
    from collections import Counter

    from optuna.trial import TrialState

    return Counter(t.user_attrs.get("reason") or t.state.name.lower() for t in trials
                   if t.state in (TrialState.FAIL, TrialState.PRUNED) and not t.user_attrs.get("interrupted")
                   and t.user_attrs.get("duplicate_of") is None).most_common()


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
