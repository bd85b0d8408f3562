"""Commands for the tune feature (registered on trainwell.cli.app). Heavy imports stay inside commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

import typer

from .cli import SET_HELP, app
from .errors import UserError
from .paths import check_output


def parse_duration(text: str | None, option: str) -> float | None:
    """'90', '90s', '10m', '1.5h' -> seconds."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise UserError(f"{option}: expected a positive duration such as 90, 90s, 10m or 1h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


@app.command()
def tune(
    config: Optional[Path] = typer.Argument(None, help="The YAML config with a tune: section (omit with --show)."),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
    trials: Optional[int] = typer.Option(None, "--trials", help="Finished trials the study should hold "
                                         "(default tune.trials); rerunning resumes up to it."),
    timeout: Optional[str] = typer.Option(None, "--timeout", help="No new trial after this long: 600, 10m, 1h."),
    jobs: int = typer.Option(1, "--jobs", help="Worker processes on this machine sharing the study."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage URL (sqlite:///x.db, "
                                          "postgresql://...) shared by workers on many machines; "
                                          "default: a journal file in the study folder."),
    study: Optional[str] = typer.Option(None, "--study", help="Study name (default: the config's name)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Study folder (default studies/NAME)."),
    show: Optional[str] = typer.Option(None, "--show", help="Print the summary of a study (folder or name) again."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per trial."),
):
    """Search hyperparameters with Optuna; each trial is a real run. Prints the summary; the last
    line is the best config (or the study folder for a multi-objective study)."""
    if show is not None:
        from .tuning.results import summary

        result = summary(show, storage=storage, study=study)
        print(result["text"])
        print(result["best"]["config"] if "best" in result else result["folder"])
        return
    if config is None:
        raise UserError("tune needs a CONFIG file with a tune: section, or --show STUDY")
    check_output(out, "--out", folder=True)
    from .tuning.study import tune as run_study

    try:
        result = run_study(config, set_ or None, trials=trials, timeout=parse_duration(timeout, "--timeout"),
                           jobs=jobs, storage=storage, study=study, out=out, quiet=quiet)
    except KeyboardInterrupt as exc:
        _interrupted(exc, "the study is saved; rerun the same command to resume it")
    print(result["text"])
    print(result["best"]["config"] if "best" in result else result["folder"])
    if not result["complete"]:
        _no_complete_trial(result)


def _no_complete_trial(result: dict) -> None:
    """Exit 1: a script that goes on to train best.yaml must not go on when there is none."""
    import sys

    counts = f"{result['failed']} failed, {result['pruned']} pruned"
    why = _why(result.get("reasons", []))
    if result.get("running"):  # other workers on a shared storage: a best config may come later
        print(f"No trial has completed yet ({counts}); {result['running']} still running in other workers, so there "
              f"is no best config yet. When they end, `trainwell tune --show {result['folder']}` writes best.yaml "
              f"if one completed.{why}", file=sys.stderr)
        raise SystemExit(1)
    reasons = [r for r, _ in result.get("reasons", [])]
    if reasons and all(r.startswith("diverged") for r in reasons):
        fix = ("Narrow the space around values that train (a doctor-found divergence usually means lr bounds too "
               "high), or raise --trials.")
    elif any(r.startswith("diverged") for r in reasons):
        fix = ("Change the config or its tune.space where the reasons point; for the divergences, narrow the space "
               "around values that train (usually lr bounds too high).")
    else:
        fix = "Change the config or its tune.space where the reasons point, then rerun."
    print(f"No trial completed ({counts}), so there is no best config.{why}\n{fix} Each trial's reason is in "
          f"{result['folder']}/trials.csv.", file=sys.stderr)
    raise SystemExit(1)


def _why(reasons: list, shown: int = 3) -> str:
    """The distinct reasons with their counts, one a line (a reason's own lines indented): the first
    `shown`, as reasons that quote a trial's numbers (a divergence's lr) differ in every trial."""
    if not reasons:
        return ""
    lines = [f"  {n} trial{'s' if n > 1 else ''}: " + reason.replace("\n", "\n    ") for reason, n in reasons[:shown]]
    rest = reasons[shown:]
    if rest:
        lines.append(f"  {sum(n for _, n in rest)} more trial{'s' if sum(n for _, n in rest) > 1 else ''}, "
                     f"{len(rest)} other reason{'s' if len(rest) > 1 else ''}")
    return " The trials ended with:\n" + "\n".join(lines)


def _interrupted(exc: BaseException, what: str) -> None:
    """One line and 130 after Ctrl-C, 143 after SIGTERM, as `train` ends."""
    import shlex
    import sys

    sigterm = getattr(exc, "signum", 2) == 15
    command = "trainwell " + shlex.join(sys.argv[1:])
    print(f"Interrupted{' by SIGTERM' if sigterm else ''}: {what}: {command}", file=sys.stderr)
    # SystemExit, not KeyboardInterrupt: typer turns the latter into a return value that main() drops.
    raise SystemExit(143 if sigterm else 130) from None


@app.command()
def ensemble(
    config: Optional[Path] = typer.Argument(None, help="Bagging: the YAML config every member trains."),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
    members: int = typer.Option(5, "--members", "-k", help="Bagging: members, each on a bootstrap sample."),
    study: Optional[str] = typer.Option(None, "--study", help="Top-k: a study folder or name instead of CONFIG."),
    top: int = typer.Option(3, "--top", help="Top-k: how many of the study's best complete trials."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Top-k: the study's storage URL, if not in its folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Ensemble directory (default runs/NAME-ensemble-TIME)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Average several models: bagging (CONFIG --members K) or a study's top-k trials (--study S --top K).
    Prints every member's and the ensemble's test metrics (val, said so, without a test split); the
    last line is the ensemble directory, which evaluate and predict accept."""
    from .tuning.ensemble import bagging, from_study

    if (config is None) == (study is None):
        raise UserError("ensemble needs either CONFIG (bagging, with --members K) or --study STUDY (top-k, with --top K)")
    check_output(out, "--out", folder=True)
    if study is not None:
        result = from_study(study, top, storage=storage, out=out, quiet=quiet)
    else:
        result = bagging(config, set_ or None, members, out=out, quiet=quiet)
    print(result.table())
    print(result.path)


@app.command()
def auto(
    data: Path = typer.Argument(..., help="A CSV/Parquet/NPZ file or an image folder."),
    target: Optional[str] = typer.Option(None, "--target", help="The target column (CSV/Parquet)."),
    budget: str = typer.Option("10m", "--budget", help="Total time: search plus the final training (10m, 600, 1h)."),
    task: str = typer.Option("auto", "--task", help="auto (inferred), binary, multiclass or regression: integer "
                             "quantities with few distinct values are otherwise taken as class labels."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the config, the study and the final run."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """AutoML: infer the task and data kind, write a config and a search space, run a budgeted
    pruned study, train the final model. The last line is the final run directory."""
    from .tuning.auto import auto as run_auto

    check_output(out, "--out", folder=True)
    result = run_auto(data, target, parse_duration(budget, "--budget"), out=out, quiet=quiet, task=task)
    print(f"config (edit and rerun it): {result['config']}")
    print(f"study: {result['study']}")
    print(f"best config: {result['best_config']}")
    print(result["run"])

