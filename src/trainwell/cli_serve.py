"""Commands for the serve feature (registered on trainwell.cli.app). Heavy imports stay inside commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .cli import app  # noqa: F401


@app.command()
def export(
    run: Path = typer.Argument(..., help="A run directory."),
    format: str = typer.Option("onnx", "--format", "-f", help="onnx (recommended: predict and serve load it "
                                                              "without torch) or torchscript."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="The export directory (default RUN/export-FORMAT)."),
    tolerance: float = typer.Option(1e-4, "--tolerance", help="Largest allowed |exported - eager| on held-out rows."),
):
    """Export the network with its preprocessing and a manifest; checks parity against the eager model."""
    from .paths import check_output
    from .serve.export import ParityError, describe
    from .serve.export import export as run_export

    check_output(output, "-o/--output", folder=True)

    try:
        result = run_export(run, format, output, tolerance)
    except ParityError as exc:
        # Not bad input (exit 2) but not a crash either: a clear message, no traceback, exit 1.
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(describe(result))
    print(result.path)


@app.command()
def serve(
    path: Path = typer.Argument(..., help="A run directory or an ONNX export directory."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; loopback unless you say otherwise."),
    port: int = typer.Option(8000, "--port"),
    token: Optional[str] = typer.Option(None, "--token", envvar="TRAINWELL_TOKEN",
                                        help="Require Authorization: Bearer TOKEN (or set TRAINWELL_TOKEN, "
                                             "which keeps it out of the process list)."),
    max_rows: int = typer.Option(10_000, "--max-rows", help="Rows per request; more is a 413."),
    max_body_mb: float = typer.Option(10.0, "--max-body-mb", help="Request body size limit; more is a 413."),
    threads: Optional[int] = typer.Option(None, "--threads", help="Threads per forward pass (torch / ONNX Runtime)."),
):
    """Serve predictions over HTTP: GET /health, GET /metadata, POST /predict, OpenAPI at /docs."""
    import math

    from .errors import UserError
    from .serve.server import serve as run_server

    # Checked here, in the flag's own unit: the byte count the server gets cannot name the flag,
    # and int() of nan or inf would be a traceback.
    if not (math.isfinite(max_body_mb) and max_body_mb * 1024 * 1024 >= 1):
        raise UserError(f"--max-body-mb must be a size in megabytes above 0, such as 10 or 0.5 (one byte, "
                        f"1e-06, at the least), got {max_body_mb:g}")
    if max_rows < 1:
        raise UserError(f"--max-rows must be 1 or more, got {max_rows}")
    run_server(path, host=host, port=port, token=token, max_rows=max_rows,
               max_body_bytes=int(max_body_mb * 1024 * 1024), threads=threads)
