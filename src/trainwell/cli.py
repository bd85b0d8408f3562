"""The command line: a thin layer over trainwell.api; every command is one API call.

torch, pandas and sklearn are imported inside the commands, so `trainwell --help` stays instant.
Exit codes: 0 done, 1 internal failure, 2 bad input, 130 interrupted by Ctrl-C and 143 by SIGTERM
(state saved either way), 141 when the reader of stdout went away (`| head`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import TrainingInterrupted, UserError
from .paths import check_output

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train deep learning models well, from one YAML file.")

SET_HELP = "Override a config key, typed as YAML: --set optimizer.lr=0.01 --set model.hidden=[64,32]"


@app.command()
def train(
    config: Optional[Path] = typer.Argument(None, help="The YAML config (omit with --resume)."),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory to create (default runs/NAME-TIME)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted run directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or log lines."),
    repair: bool = typer.Option(False, "--repair", help="Let the doctor repair what it finds as the run trains "
                                "(the same as --set doctor.repair=true)."),
):
    """Train a model; prints the run directory on the last line of stdout."""
    from . import api

    if config is None and resume is None:
        raise UserError("train needs a CONFIG file, or --resume RUN_DIR")
    if resume is not None and (config is not None or out is not None):
        # either was silently ignored: the run went on with its saved config, in its own folder
        raise UserError(f"{'CONFIG' if config is not None else '--out'} cannot be combined with --resume: a resumed "
                        f"run keeps its saved config and its folder (trainwell train --resume {resume}); to train "
                        f"a config anew, leave out --resume")
    if repair and resume is not None:
        raise UserError("--repair cannot be combined with --resume: a resumed run keeps its config "
                        "(a run started with --repair resumes repairing)")
    check_output(out, "--out", folder=True)
    overrides = list(set_) + (["doctor.repair=true"] if repair else [])
    run = api.train(config, overrides or None, out=out, resume=resume, quiet=quiet)
    print(run.path)


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="A run directory."),
    data: Optional[Path] = typer.Option(None, "--data", help="A CSV/Parquet/NPZ file with the target column."),
):
    """Print the run's metrics as JSON, on its test split or on --data."""
    from . import api

    print(json.dumps(api.load_run(run).evaluate(data), indent=2))


@app.command()
def predict(
    run: Path = typer.Argument(..., help="A run directory, or an ONNX export directory (trainwell export)."),
    input: Path = typer.Argument(..., help="A CSV/Parquet/NPZ file with the feature columns."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the predictions (.csv or .parquet)."),
):
    """Write predictions (and class probabilities) for new rows."""
    # From an export this needs onnxruntime, numpy and pandas only: torch is never imported.
    from .serve.predict import load_predictor

    if output.exists() and output.resolve() == input.resolve():
        raise UserError("-o/--output must differ from INPUT; nothing was overwritten")
    check_output(output, "-o/--output")
    suffix = output.suffix.lower()
    if suffix not in PREDICTION_SUFFIXES:
        # CSV text under another name (out.parquet, out.xlsx) fooled whatever read the file next
        raise UserError(f"-o/--output {str(output)!r}: predictions are written as {' or '.join(PREDICTION_SUFFIXES)} "
                        f"(chosen by the suffix); got {suffix or 'no suffix'!r}")
    result = load_predictor(run).predict(str(input))
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        result.to_parquet(output, index=False)
    else:
        result.to_csv(output, index=False)
    print(output)


PREDICTION_SUFFIXES = (".csv", ".parquet")


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@app.command("find-lr")
def find_lr(
    config: Path = typer.Argument(..., help="The YAML config."),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
    out: Path = typer.Option(Path("lr_finder.png"), "--out", help="Where to save the loss-vs-lr plot (PNG); "
                             "an HTML report goes beside it (same name, .html)."),
    start_lr: float = typer.Option(1e-7, "--start-lr"),
    end_lr: float = typer.Option(10.0, "--end-lr"),
    steps: int = typer.Option(100, "--steps", help="Mini-batches in the sweep."),
):
    """LR range test: sweep the learning rate on a copy of the model and suggest one."""
    from .api import _resolve_paths
    from .config import load_config
    from .doctor.lr_finder import find_lr as run_finder

    check_output(out, "--out")
    if out.suffix.lower() not in PLOT_SUFFIXES:
        # Checked now: matplotlib would refuse the format only after the whole sweep.
        raise UserError(f"--out {str(out)!r}: the plot is saved as an image; give a file ending in "
                        f"{', '.join(PLOT_SUFFIXES)} (the HTML report goes beside it)")
    _check_sweep_flags(start_lr, end_lr, steps)
    cfg = _resolve_paths(load_config(config, set_ or None), config)
    result = run_finder(cfg, start_lr=start_lr, end_lr=end_lr, steps=steps, out_png=out)
    # The finder's advice names its Python arguments ("lower start_lr"); here they are flags.
    result.reason = re.sub(r"\b(start|end)_lr\b", r"--\1-lr", result.reason)
    if result.suggestion is None:
        print(result.reason if result.reason.startswith("no clear suggestion") else
              f"no clear suggestion: {result.reason}")
    else:
        print(f"suggested learning rate: {result.suggestion:.3g}")
        print(f"why: {result.reason}")
    print(f"plot: {result.png}")
    from .report import write_lr_report

    print(f"report: {write_lr_report(result, Path(result.png).with_suffix('.html'), config_name=cfg.name)}")


def _check_sweep_flags(start_lr: float, end_lr: float, steps: int) -> None:
    """The sweep's flags, checked before the config and data load, in the flags' own names (the
    finder checks them too, but names its Python arguments)."""
    import math

    from .doctor.lr_finder import MIN_POINTS

    problems = []
    start_ok = math.isfinite(start_lr) and start_lr > 0
    if not start_ok:
        problems.append(f"--start-lr must be a learning rate above 0, such as 1e-7, got {start_lr:g}")
    if not (math.isfinite(end_lr) and end_lr > (start_lr if start_ok else 0)):
        above = f"--start-lr ({start_lr:g})" if start_ok else "0 and --start-lr"
        problems.append(f"--end-lr must be above {above}, such as 10, got {end_lr:g}")
    if steps < 2 * MIN_POINTS:
        problems.append(f"--steps must be {2 * MIN_POINTS} or more (the sweep's mini-batches), got {steps}")
    if problems:
        raise UserError("find-lr: " + "; ".join(problems))


@app.command()
def diagnose(run: Path = typer.Argument(..., help="A run directory.")):
    """The doctor's findings for a run, in full: evidence, explanation, fixes."""
    from .doctor.report import render

    print(render(run))


@app.command()
def schema(markdown: bool = typer.Option(False, "--markdown", help="Print the config reference as Markdown.")):
    """Print the config's JSON Schema (for editor completion)."""
    from .config import json_schema, markdown_reference

    print(markdown_reference() if markdown else json.dumps(json_schema(), indent=2))


@app.command()
def config(
    config: Path = typer.Argument(..., help="The YAML config."),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
):
    """Validate a config and print it fully resolved, with every default."""
    from .config import dump_config, load_config

    print(dump_config(load_config(config, set_ or None)), end="")


# Larger features keep their commands beside them; each module registers on `app` when imported.
from . import cli_tune, cli_runs, cli_serve  # noqa: E402,F401


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM outside the training loop (reading data, building, writing the results):
    one line and 130 or 143, where SIGTERM was Python's silent default death. The loop, a study and a
    server put their own handlers in place while they run and give these back."""

    signum = 2


def _on_signal(signum, frame):
    _on_signal.last = signum
    exc = Interrupted()
    exc.signum = signum
    raise exc


_on_signal.last = 0


def main() -> None:
    import signal

    # Left alone when the parent made the process ignore a signal, or when main() runs off the main thread.
    for sig, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(sig) == default:
            try:
                signal.signal(sig, _on_signal)
            except ValueError:
                pass
    try:
        # Without standalone mode, click returns an abort's exit code (130 on Ctrl-C) instead of exiting.
        code = app(standalone_mode=False)
        if _on_signal.last:
            # click's Abort after a KeyboardInterrupt in a command, or a server that stopped on the
            # signal and returned (uvicorn re-raises it into this handler and swallows the interrupt)
            _interrupted(_on_signal)
        if isinstance(code, int) and code:
            sys.exit(code)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except TrainingInterrupted as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except BrokenPipeError:
        _reader_gone()
    except SystemExit as exc:
        # click catches a broken pipe itself and exits 1, which would read as an internal failure.
        if isinstance(exc.__context__, BrokenPipeError):
            _reader_gone()
        raise
    except Exception as exc:
        # typer >= 0.23 vendors click as typer._click; older releases use click itself.
        try:
            from typer._click.exceptions import ClickException
        except ImportError:
            from click.exceptions import ClickException
        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(2)
        if type(exc).__name__ == "Abort":  # click turns a KeyboardInterrupt in a command into Abort
            _interrupted(exc.__context__)
        raise  # an internal failure: the traceback is for us, and the exit code is 1


def _interrupted(exc) -> None:
    """Ctrl-C or SIGTERM outside the places that save state and say how to resume (the training loop,
    a study): one line, and 128 + the signal."""
    sigterm = getattr(exc, "signum", getattr(exc, "last", 2)) == 15
    where = ("; no training step had run or all had ended (preparing the data, or writing the results), "
             "so rerun the same command" if sys.argv[1:2] == ["train"] else "")
    print(f"Interrupted{' by SIGTERM' if sigterm else ''}{where}", file=sys.stderr)
    sys.exit(143 if sigterm else 130)


def _reader_gone() -> None:
    """The reader of stdout went away (`trainwell runs | head -1`). Python's documented recipe: point
    stdout at devnull so the flush at exit cannot fail again, and end as a process SIGPIPE ended,
    128 + 13, as the exit codes for Ctrl-C and SIGTERM are."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by an object without a file descriptor (tests)
        pass
    sys.exit(141)


if __name__ == "__main__":
    main()
