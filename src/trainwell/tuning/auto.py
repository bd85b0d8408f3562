"""AutoML: `trainwell auto DATA --target COL --budget 10m`.

Infers the task and the data kind, writes a starting config whose tune: section holds a search
space sized to the data, runs a budgeted study (TPE sampler, Hyperband pruner) and trains the final
model from the best config. Everything it decides is in the config it writes, so the user can
edit that file and rerun `trainwell tune` on it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path

from .. import yamlio
from ..errors import TrainingInterrupted, UserError
from . import interrupt
from .ensemble import _finished

# Seconds, measured on a 1-core machine with a small table (digits; the larger figure with other
# jobs on the core): the parts of `auto` that do not grow with the trials' epochs. The budget keeps
# them free besides the final run's epochs.
TORCH_IMPORT = 2.0  # done by the first trial, unless the caller had imported torch (1.7-2.3 s)
TRIAL = 1.0  # the shortest trial worth running: a few epochs and its run directory
FINAL_EXTRA = 1.5  # a run beyond its epochs: test metrics, report.html, the run index (0.6-1.3 s)
AFTER_SEARCH = 2.0  # the study's summary: importances, report.html, trials.csv (1.1-2.9 s)
PROCESS = 1.5  # the command's start before auto() and its exit after it (torch's teardown: 1.2-1.5 s)


def _size_class(n: int) -> str:
    return "small" if n < 1000 else "medium" if n < 20000 else "large"


def space_for(kind: str, task: str, n_train: int, imbalanced: bool) -> tuple[dict, dict]:
    """(config sections, tune section) suited to the data kind and the number of training rows."""
    size = _size_class(n_train)
    batch = {"small": [16, 32, 64], "medium": [32, 64, 128, 256], "large": [128, 256, 512]}[size]
    epochs = {"small": 100, "medium": 50, "large": 25}[size]
    patience = {"small": 12, "medium": 8, "large": 5}[size]
    space: dict = {
        "optimizer.name": ["adam", "adamw"],
        "optimizer.lr": {"type": "float", "low": 1.0e-4, "high": 3.0e-2, "log": True},
        "optimizer.weight_decay": {"type": "float", "low": 1.0e-6, "high": 1.0e-2, "log": True},
        "training.batch_size": batch,
    }
    if kind == "image":
        model = {"type": "cnn"}
        space.update({
            "model.blocks": [[{"channels": 16}, {"channels": 32}], [{"channels": 32}, {"channels": 64}]],
            "model.head": [[64], [128]],
            "model.dropout": {"type": "float", "low": 0.0, "high": 0.5},
        })
    else:
        model = {"type": "mlp", "hidden": [64, 64]}
        space.update({
            "model.hidden": {"small": [[32], [64], [64, 32], [128, 64]],
                             "medium": [[64], [128, 64], [256, 128], [128, 128, 64]],
                             "large": [[128, 64], [256, 128], [512, 256], [256, 256, 128]]}[size],
            "model.activation": ["relu", "gelu"],
            "model.dropout": {"type": "float", "low": 0.0, "high": 0.5},
        })
    # The validation loss, not accuracy: on the small validation splits auto meets, accuracy ties
    # (many trials reach 1.0 on 85 rows) and the first trial to tie would win.
    metric = "val_loss"
    sections = {"model": model,
                "training": {"epochs": epochs, "early_stopping": {"monitor": "val_loss", "patience": patience}}}
    if imbalanced:
        sections["data"] = {"imbalance": "class_weights"}
    tune = {"metric": metric, "sampler": "tpe", "pruner": "hyperband", "trials": 1000,
            "startup_trials": 5, "warmup_epochs": 3, "space": space}
    return sections, tune


def auto(data: str | Path, target: str | None = None, budget: float | None = 600.0, *,
         out: str | Path | None = None, quiet: bool = True, task: str = "auto") -> dict:
    """Returns {"config", "study", "best_config", "run", "summary"} (paths and the study summary).
    task: auto (inferred), or binary / multiclass / regression when the inference would be wrong
    (integer quantities with few distinct values are taken as class labels)."""
    from .. import api
    from .. import data as data_mod
    from ..config import load_config
    from ..data.clean import TooManyCategories
    from ..data.sources import NotATable
    from ..data.split import TooFewRowsToStratify
    from .study import tune

    started = time.time()
    budget = 600.0 if budget is None else float(budget)
    source = str(data)
    if not source.startswith("builtin:"):
        p = Path(source)
        if not p.exists():
            raise UserError(f"DATA {source!r}: no such file or folder; give a CSV, Parquet or NPZ file, "
                            f"an image folder, or builtin:NAME")
        source = str(p.resolve())
    stem = source.removeprefix("builtin:") if source.startswith("builtin:") else Path(source).stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "auto"
    if task not in ("auto", "binary", "multiclass", "regression"):
        raise UserError(f"--task: expected auto, binary, multiclass or regression, got {task!r}")
    base = {"name": name, "data": {"source": source, **({"target": target} if target else {}),
                                   **({"task": task} if task != "auto" else {})}}
    kind = data_mod.resolve_kind(load_config(base).data)
    model_type = "cnn" if kind == "image" else "mlp"
    if kind not in ("tabular", "image"):
        raise UserError(f"DATA: auto handles tables and images; this is {kind} data, which needs settings auto "
                        f"cannot guess (see data.series / data.text in docs/CONFIG.md)")
    cfg = load_config({**base, "model": {"type": model_type}})
    try:
        prepared = data_mod.prepare(cfg.data, cfg.seed, model_type)
    except TooManyCategories as exc:
        them = "it" if len(exc.columns) == 1 else "them"
        raise UserError(f"DATA: text column(s) with too many categories: {exc.listed}. Such columns are usually "
                        f"IDs or free text, and auto uses every column but the target: remove {them} from the file, "
                        f"or write a config whose data.features leaves {them} out and run trainwell tune CONFIG "
                        f"(or train CONFIG).{exc.strays}") from None
    except NotATable as exc:
        what = {3: ("sequences (rows, steps, features)", "data.kind: sequence and model.type: rnn",
                    "examples/sequence_gru.yaml"),
                4: ("images (rows, channels, height, width)", "data.kind: image and model.type: cnn",
                    "examples/digits_cnn.yaml")}.get(len(exc.shape))
        if what is None:
            raise
        raise UserError(f"DATA: {str(data)!r} holds {what[0]} (x has shape {tuple(exc.shape)}); auto handles "
                        f"tables and image folders. Write a config with {what[1]} (like {what[2]}) and run "
                        "trainwell tune CONFIG (or train CONFIG)") from None
    except TooFewRowsToStratify as exc:
        # auto has no flag for the split: another task, or a config of the user's own, is the way out
        part = {"val": "validation", "test": "test"}[exc.part]
        lead = f"--task {task}: " if task != "auto" else "DATA: "
        what = f"column {target!r}" if target else "the images" if kind == "image" else "the target"
        other = "choose another --task (regression if its values are quantities, or auto), " if task != "auto" else ""
        raise UserError(f"{lead}{what}: {exc.n_classes} classes, but the {exc.rows}-row {part} split auto holds out "
                        f"({getattr(cfg.data.split, exc.part):.0%} of {exc.n} rows) cannot hold one row of each, "
                        f"as a stratified split needs; {other}add rows, or write a config with a larger "
                        f"data.split.{exc.part} or data.split.stratify: false and run trainwell tune CONFIG "
                        f"(or train CONFIG)") from None
    except UserError as exc:
        said = _in_auto_terms(str(exc), data, cfg.data.split)
        if said == str(exc):
            raise
        raise UserError(said) from None
    spec = prepared.spec
    n_train = len(prepared.train.x)
    for note in prepared.report.get("notes", []):
        if note.startswith("task:"):
            # said before the search, which the task shapes, and in auto's own terms: --task, not data.task
            fix = "--task regression" if spec.task != "regression" else "--task multiclass"
            print(f"note: {note.split('; set data.task')[0]}; if that is wrong, rerun with {fix}",
                  file=sys.stderr, flush=True)
    imbalanced = False
    if spec.task != "regression":
        import numpy as np

        counts = np.bincount(prepared.train.y.astype("int64"), minlength=len(spec.classes))
        imbalanced = bool(counts.min() == 0 or counts.max() / max(counts.min(), 1) > 3)
    sections, tune_section = space_for(kind, spec.task, n_train, imbalanced)
    folder = Path(out) if out is not None else Path("auto") / name
    asked = {"data": source, "target": target, "task": task}
    resuming = _unfinished(folder, asked)
    if not resuming and folder.exists() and any(folder.iterdir()):
        folder = folder.with_name(f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    folder.mkdir(parents=True, exist_ok=True)
    _check_budget(budget, time.time() - started)  # after reading the data, whose time counts
    end = started + budget
    # An upper bound (tune.timeout, kept in the config for a rerun); as trials complete, budget.py
    # also keeps the final run's epochs free, which only they tell
    search = end - time.time() - AFTER_SEARCH - PROCESS - FINAL_EXTRA
    config_path = folder / "config.yaml"
    if resuming:
        # An interrupted auto run: its config (perhaps edited since) and its study go on, with this
        # call's budget; the trials it has are kept.
        print(f"auto: resuming the interrupted run in {folder}: its study goes on for {search:.0f} s "
              f"(the trials it holds are kept), then the final training", file=sys.stderr, flush=True)
    else:
        tune_section["timeout"] = round(search, 1)  # kept in the config, so a rerun has the same budget
        config = {**base, **{k: v for k, v in sections.items() if k != "data"}, "tune": tune_section}
        config["data"] = {**base["data"], **sections.get("data", {})}
        header = (f"# Written by trainwell auto: {spec.task} on {kind} data, {n_train} training rows "
                  f"({_size_class(n_train)}), {spec.n_features} features.\n"
                  f"# Edit it, then: trainwell tune {folder / 'config.yaml'}   (or train it without the search)\n")
        config_path.write_text(header + yamlio.dump(config, sort_keys=False))
        (folder / MARK).write_text(json.dumps({**asked, "status": "running"}, indent=2) + "\n")
    if not quiet:
        print(f"auto: {spec.task}, {kind}, {n_train} training rows; config {config_path}", file=sys.stderr)
    import shlex

    again = (f"trainwell auto {shlex.quote(str(data))}" + (f" --target {shlex.quote(target)}" if target else "")
             + f" --budget {budget:g}" + (f" --task {task}" if task != "auto" else "")
             + f" --out {shlex.quote(str(folder))}")
    final = folder / "final"
    try:
        summary = tune(config_path, out=folder / "study", study=name, quiet=quiet,
                       timeout=search if resuming else None,
                       _budget={"end": end, "tail": AFTER_SEARCH + PROCESS, "final_extra": FINAL_EXTRA})
        if "best" not in summary:
            raise UserError(f"--budget: no trial finished within {search:.0f} s of search; give a larger budget")
        # as between bagging members: a signal outside the training waits for a safe point
        with interrupt.handled(), interrupt.deferred():
            if _finished(final):  # trained before the interruption
                run = api.load_run(final)
            elif (final / "checkpoints" / "last.safetensors").is_file() and not (final / "model.safetensors").is_file():
                run = api.train(resume=final, quiet=quiet, callbacks=[interrupt.fit_callback()])
            else:
                if final.exists():  # cut before its first checkpoint, or while writing its results
                    shutil.rmtree(final)
                run = api.train(summary["best"]["config"], out=final, quiet=quiet,
                                callbacks=[interrupt.fit_callback()])
    except (TrainingInterrupted, KeyboardInterrupt) as exc:
        # the same command, with this --out, resumes the study or the final training
        raise TrainingInterrupted(str(folder), getattr(exc, "signum", 2), resume=again) from None
    (folder / MARK).write_text(json.dumps({**asked, "status": "completed"}, indent=2) + "\n")
    return {"config": str(config_path), "study": str(folder / "study"), "best_config": summary["best"]["config"],
            "run": str(run.path), "summary": summary, "seconds": round(time.time() - started, 1)}


def _in_auto_terms(message: str, data, split) -> str:
    """A data error in the flags auto has: it writes data.target, data.task and data.split itself."""
    if message.startswith("data.target:"):
        return f"--target:{message[len('data.target:'):]} (trainwell auto {data} --target COLUMN)" \
            .replace("data.target", "--target")
    if message.startswith("data.task:"):
        return ("--task " + message[len("data.task: "):]).replace("set data.task: ", "rerun with --task ") \
            .replace("data.target", "--target")
    if message.startswith("data.split"):
        detail = message.split(": ", 1)[-1].split(";")[0]
        return (f"DATA: too few rows for the split auto makes ({split.train:.0%} train, {split.val:.0%} validation, "
                f"{split.test:.0%} test): {detail}; add rows, or write a config with other data.split shares and "
                f"run trainwell tune CONFIG (or train CONFIG)")
    return message


def _check_budget(budget: float, elapsed: float) -> None:
    """Refuse a budget that cannot hold one trial and the final run: `elapsed` went on reading the data."""
    import math

    first = TRIAL + (0.0 if "torch" in sys.modules else TORCH_IMPORT)
    smallest = math.ceil(elapsed + first + FINAL_EXTRA + AFTER_SEARCH + PROCESS)
    if budget < smallest:
        raise UserError(f"--budget: {budget:g} s cannot hold one trial and the final run on this data (reading "
                        f"it took {elapsed:.1f} s); "
                        f"the smallest that works is about {smallest} s (a real search wants minutes)")


# What an auto run was asked (data, target, task) and whether it finished: rerunning the same
# command resumes an unfinished one instead of starting over beside it.
MARK = "auto.json"


def _unfinished(folder: Path, asked: dict) -> bool:
    try:
        held = json.loads((folder / MARK).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(held, dict) and held.get("status") != "completed" and \
        {k: held.get(k) for k in asked} == asked and (folder / "config.yaml").is_file()
