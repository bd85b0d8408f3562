"""The run directory: what a finished (or interrupted) run leaves on disk.

    config.yaml         fully resolved config, defaults included
    run.json            status, task, loss, output size, device, timings, stop reason
    data.json           what preparation did: cleaning counts, rows per split, class counts
    preprocess.json     the fitted preprocessing state (predict applies exactly this)
    history.jsonl       one line per epoch
    metrics.json        {"val": {...}, "test": {...}}
    findings.json       the doctor's findings
    model.safetensors   final weights
    checkpoints/        last.safetensors (resume), best.safetensors
    log.txt             what was printed while training
    report.html         the run's report (trainwell report RUN; written at the end of train)

Beside the run directories, their parent folder holds the run index (index.py).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from .errors import UserError
from .training.checkpoint import write_text_atomic

DEFAULT_ROOT = Path("runs")


def _status(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "run.json").read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def new_run_dir(name: str, out: str | Path | None, resumable: bool = True) -> Path:
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise UserError(f"--out {str(path)!r} is a file; give a new folder (nothing was overwritten)")
        if path.exists() and any(path.iterdir()):
            # --resume only where it would be taken: an unfinished run with a checkpoint
            resumable = resumable and (path / "checkpoints" / "last.safetensors").is_file() and \
                _status(path) != "completed"
            raise UserError(f"--out {str(path)!r} already exists and is not empty; choose a new folder "
                            f"(nothing was overwritten)" + (f", or resume it with --resume {path}" if resumable else ""))
        return path
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = DEFAULT_ROOT / f"{slug}-{stamp}"
    i = 1
    while path.exists():
        i += 1
        path = DEFAULT_ROOT / f"{slug}-{stamp}-{i}"
    return path


def require_run_dir(path: str | Path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{str(p)!r} is a file, not a run directory (the folder trainwell train printed last).")
    if not p.is_dir():
        raise UserError(f"Run directory {str(p)!r} does not exist.")
    if any((p / f).is_file() for f in ("model.onnx", "model.pt")):
        if not (p / "manifest.json").is_file():
            raise UserError(f"{str(p)!r} looks like an export directory without its manifest.json; "
                            f"export again with trainwell export RUN")
    for needed in ("config.yaml", "run.json", "preprocess.json"):
        if not (p / needed).is_file():
            raise UserError(f"{str(p)!r} is not a trainwell run directory: {needed} is missing.")
    return p


def never_checkpointed(run_dir: Path) -> str:
    """Why a run without a checkpoint cannot be resumed, and what to do instead. Said the same way by
    train --resume and by evaluate/predict, which would otherwise send the user from one to the other."""
    return (f"the run stopped before its first checkpoint (killed before training.checkpoint_interval "
            f"had passed, or before training began), so there is nothing to resume; start it again "
            f"from its saved config: trainwell train {Path(run_dir) / 'config.yaml'} --out NEW_FOLDER")


def refuse_ensemble_resume(folder: Path) -> None:
    """--resume on a `trainwell ensemble` directory: it holds the first member's config.yaml, so it
    would otherwise pass for a run killed before its first checkpoint, and get that advice."""
    plan = folder / "bagging.json"  # tuning/ensemble.py's PLAN, written before the first member
    if not (folder / "ensemble.json").is_file() and not plan.is_file():
        return
    if (folder / "metrics.json").is_file():
        raise UserError(f"--resume {str(folder)!r}: this is a finished ensemble (trainwell ensemble), not a run; "
                        "there is nothing to resume (evaluate, predict or export it)")
    if not plan.is_file():  # a study's top-k, cut while it was assembled: nothing trains, so start again
        raise UserError(f"--resume {str(folder)!r}: this is an unfinished ensemble of a study's trials, not a "
                        f"run; make it again: trainwell ensemble --study STUDY --top K --out NEW_FOLDER")
    try:
        members = f" --members {int(read_json(plan)['members'])}"
    except (ValueError, KeyError, TypeError, UserError):
        members = " --members K"
    raise UserError(f"--resume {str(folder)!r}: this is an unfinished ensemble (trainwell ensemble), not a run; "
                    f"finish it by rerunning the command that started it, with the same config and --out: "
                    f"trainwell ensemble CONFIG{members} --out {folder} (finished members are kept, the one cut "
                    "off resumes from its checkpoint)")


# The top-level keys each data kind writes to preprocess.json (data/*.py); keys added later are
# optional, filled in by api._state_defaults.
STATE_KEYS = {"tabular": ("spec", "features", "target"), "image": ("spec", "image", "target"),
              "timeseries": ("spec", "series", "scale", "target"), "sequence": ("spec", "scale", "target"),
              "text": ("spec", "text", "target")}
SPEC_KEYS = ("task", "target", "input_columns", "column_types", "feature_names", "n_features", "classes", "n_outputs")


def read_state(run_dir: Path) -> dict:
    """preprocess.json, checked for the keys predict and evaluate read: a damaged file is a clear
    error here rather than a KeyError there (or evaluate's false "the data changed")."""
    path = Path(run_dir) / "preprocess.json"
    state = read_json(path)

    def damaged(what: str):
        return UserError(f"{str(path)!r} is damaged ({what}): the run's fitted preprocessing cannot be "
                         f"applied. Restore the file from a copy, or train the run again")

    if not isinstance(state, dict):
        raise damaged(f"expected a JSON object, got {type(state).__name__}")
    kind = state.get("kind", "tabular")
    if kind not in STATE_KEYS:
        raise damaged(f"unknown kind {kind!r}; valid: {', '.join(STATE_KEYS)}")
    missing = [k for k in STATE_KEYS[kind] if k not in state]
    if "spec" in state and not isinstance(state["spec"], dict):
        raise damaged("'spec' is not an object")
    missing += [f"spec.{k}" for k in SPEC_KEYS if isinstance(state.get("spec"), dict) and k not in state["spec"]]
    if missing:
        raise damaged(f"missing key{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
    return state


def write_json(path: Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=_plain) + "\n")


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"{str(path)!r} is missing.") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{str(path)!r} is not valid JSON ({exc}); the run directory is damaged.") from None


def read_history(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    lines = Path(path).read_text().splitlines()
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut by a crash; what came before it is good
    return out


def _plain(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


class Log:
    """Prints to stderr (stdout carries only the run directory) and keeps a copy in log.txt."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.lines: list[str] = []
        self.path: Path | None = None

    def __call__(self, msg: str) -> None:
        self.lines.append(msg)
        if not self.quiet:
            print(msg, file=sys.stderr, flush=True)
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(msg + "\n")

    def attach(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "a") as f:
            f.writelines(line + "\n" for line in self.lines)


def indexed(run_dir: Path, log=None) -> None:
    """Record the run in its folder's index (as it starts, stops or ends). Never raises."""
    from .index import update

    update(run_dir, log)


def write_report(run_dir: Path, log=None) -> Path | None:
    """The report at the end of train. A failure is logged, never raised: the run itself is done
    and on disk, and `trainwell report RUN` can try again."""
    try:
        from .report import write_run_report

        return write_run_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - a report must not fail a finished run
        if log is not None:
            log(f"report: not written ({type(exc).__name__}: {exc}); try: trainwell report {run_dir}")
        return None
