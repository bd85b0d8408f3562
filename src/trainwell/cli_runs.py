"""Commands for the runs feature (registered on trainwell.cli.app). Heavy imports stay inside commands.

    trainwell runs [--root DIR] [--name S] [--status S] [--task T] [--sort KEY] [--json] [--rebuild]
    trainwell runs compare A B [C ...] [--root DIR] [--json]
    trainwell report RUN [--out FILE]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .cli import app

runs_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                       help="List the runs of a runs folder (from its SQLite index), or compare runs.")
app.add_typer(runs_app, name="runs")

ROOT_HELP = "The runs folder: the parent of the run directories (default: runs)."
PRIMARY = {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse"}


def _say(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def _num(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def _hyper(h: dict) -> str:
    short = {"batch_size": "bs", "weight_decay": "wd", "dropout": "drop", "schedule": "sched"}
    parts = [str(h["optimizer"])] if "optimizer" in h else []
    for k, v in h.items():
        if k in ("optimizer", "seed") or v in (0, 0.0, "constant"):
            continue
        parts.append(f"{short.get(k, k)}={_num(v)}")
    return " ".join(parts)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


@runs_app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    root: Path = typer.Option(Path("runs"), "--root", help=ROOT_HELP),
    name: Optional[str] = typer.Option(None, "--name", help="Only runs whose name or id contains this."),
    status: Optional[str] = typer.Option(None, "--status", help="Only runs with this status: running, "
                                         "completed, interrupted, failed."),
    task: Optional[str] = typer.Option(None, "--task", help="Only runs of this task: binary, multiclass, "
                                       "regression, generation."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Sort best first by a metric (test.accuracy, "
                                       "val.rmse; a bare name means test), by best (the monitored val metric), "
                                       "or by started, name, seconds, epochs."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the index from the run directories first."),
):
    """List runs: id, name, task, model, key hyperparameters, best val metric, test metric, status, duration."""
    if ctx.invoked_subcommand is not None:
        return
    from .index import list_runs

    rows = list_runs(root, name=name, status=status, task=task, sort=sort, say=_say, rebuild_first=rebuild)
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        print(f"no runs in {str(root)!r}" + (" match" if (name or status or task) else ""))
        return
    extra = sort if sort and sort not in ("started", "name", "seconds", "epochs", "best") else None
    header = ["id", "name", "task", "model", "hyperparameters", "best val", "test", "status", "duration"]
    if extra:
        header.insert(7, extra)
    table = []
    for r in rows:
        primary = PRIMARY.get(r["task"] or "")
        test = f"{primary} {_num(r['test'].get(primary))}" if primary and r["test"].get(primary) is not None else "-"
        best = f"{r['monitor']} {_num(r['best'])}" if r["best"] is not None else "-"
        cells = [r["id"], r["name"] or "-", r["task"] or "-", r["model"] or "-", _hyper(r["hyper"]), best, test,
                 r["status"], _duration(r["seconds"])]
        if extra:
            from .index import sort_value

            cells.insert(7, _num(sort_value(r, extra)))
        table.append(cells)
    print(_table(header, table))


@runs_app.command()
def compare(
    refs: List[str] = typer.Argument(..., help="Two or more runs: run directories, or run ids in --root."),
    root: Path = typer.Option(Path("runs"), "--root", help=ROOT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
):
    """Config differences and metrics of two or more runs, side by side."""
    from .index import compare as compare_runs

    result = compare_runs(refs, root)
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    header = ["", *result["runs"]]
    cell = lambda v: json.dumps(v) if isinstance(v, (list, dict)) else _num(v)
    blocks = [("run", result["summary"])]
    if result["config"]:
        blocks.append(("config (only keys that differ)", result["config"]))
    else:
        blocks.append(("config", {"(identical)": ["" for _ in result["runs"]]}))
    blocks += [("validation metrics", result["val"]), ("test metrics", result["test"])]
    out = []
    for title, values in blocks:
        if not values:
            continue
        out.append(f"{title}:")
        out.append(_table(header, [[k, *map(cell, v)] for k, v in values.items()]))
        out.append("")
    print("\n".join(out).rstrip())


@app.command()
def report(
    run: Path = typer.Argument(..., help="A run directory."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the HTML (default RUN/report.html)."),
):
    """Write one self-contained HTML report for a run (plots embedded); prints its path."""
    from .paths import check_output
    from .report import write_run_report

    check_output(out, "--out")
    print(write_run_report(run, out))
