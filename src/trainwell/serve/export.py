"""Export a run's network to ONNX or TorchScript, with its preprocessing and a verified manifest.

Every export is checked against the eager model on held-out rows (the run's test split,
re-derived from its config and seed) before it is kept: the largest absolute difference of the
raw outputs is printed and recorded, and above the tolerance the export fails and nothing is
left behind. For ONNX the check runs in ONNX Runtime, on the whole batch and on a single row
(the batch axis is dynamic, so both must work).

ONNX uses torch.export (the dynamo exporter, the default since torch 2.9) with a dynamic batch
dimension; the TorchScript-based legacy exporter (dynamo=False, deprecated) is the fallback
when torch.export cannot capture a model, e.g. a custom module with data-dependent Python
control flow. TorchScript uses torch.jit.trace.
"""

from __future__ import annotations

import contextlib
import io
import logging
import platform
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from .manifest import FORMAT_VERSION, FORMATS, MANIFEST, is_export_dir, write_manifest

TOLERANCE = 1e-4
PARITY_ROWS = 512


class ParityError(Exception):
    """The exported model disagrees with the eager one by more than the tolerance (exit 1)."""


@dataclass
class ExportResult:
    path: Path
    format: str
    max_abs_diff: float
    rows: int
    data: str        # where the parity rows came from
    exporter: str    # dynamo | legacy | trace
    seconds: float


def export(run_dir: str | Path, fmt: str = "onnx", out: str | Path | None = None,
           tolerance: float = TOLERANCE) -> ExportResult:
    """Export the run's network to `out` (default RUN/export-FORMAT); returns what was checked."""
    import torch

    from .. import api

    if fmt not in FORMATS:
        raise UserError(f"--format: {fmt!r} is not an export format; valid: {', '.join(FORMATS)}")
    if not tolerance > 0:
        raise UserError(f"--tolerance: must be > 0, got {tolerance}")
    started = time.perf_counter()
    run = api.load_run(run_dir)
    if run.info.get("task") == "generation":
        raise UserError(f"{str(run.path)!r} is a GAN run: export covers networks that predict from inputs "
                        "(mlp, cnn, rnn, transformer, python). A GAN's generator maps noise to images and has "
                        "no predict or serve path yet; its samples are in samples/")
    out = Path(out) if out is not None else run.path / f"export-{fmt}"
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not is_export_dir(out))):
        raise UserError(f"-o {str(out)!r} exists and is not an earlier export; choose a new folder "
                        "(nothing was overwritten)")
    model = run.model().cpu().eval()
    x, data_note = _parity_rows(run)
    xt = torch.as_tensor(x)
    expected = api._outputs(model, xt, run.plan).float().numpy()

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        model_path = tmp / FORMATS[fmt]
        example = xt[:2] if len(xt) >= 2 else torch.cat([xt, xt])  # batch 1 could be specialised
        if fmt == "onnx":
            exporter = _export_onnx(model, example, model_path)
            got, single = _run_onnx(model_path, x)
            opset = _opset(model_path)
        else:
            exporter = "trace"
            _export_torchscript(model, example, model_path)
            got, single = _run_torchscript(model_path, xt)
            opset = None
        if got.shape != expected.shape or single.shape != expected[:1].shape:
            raise ParityError(f"the exported model returned shape {got.shape} (and {single.shape} for one row); "
                              f"the eager model returns {expected.shape}")
        diff = float(max(np.abs(got - expected).max(initial=0.0), np.abs(single - expected[:1]).max(initial=0.0)))
        if not np.isfinite(diff) or diff > tolerance:
            raise ParityError(f"parity check failed: the {fmt} export differs from the eager model by up to "
                              f"{diff:.3g} on {len(x)} rows ({data_note}); the tolerance is {tolerance:g}. "
                              f"Nothing was written to {out}. Try --format "
                              f"{'torchscript' if fmt == 'onnx' else 'onnx'}, or --tolerance if the difference is "
                              "acceptable for this model")
        shutil.copyfile(run.path / "preprocess.json", tmp / "preprocess.json")
        write_manifest(tmp, _manifest(run, fmt, exporter, opset, x, diff, tolerance, data_note))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(path=out, format=fmt, max_abs_diff=diff, rows=len(x), data=data_note, exporter=exporter,
                        seconds=time.perf_counter() - started)


# ----------------------------------------------------------------------------- parity rows
def _parity_rows(run) -> tuple[np.ndarray, str]:
    """Held-out inputs: the run's test split (else validation), re-derived from its config and seed;
    random inputs of the right shape when the training data is no longer there."""
    from .. import data as data_mod

    cfg = run.config
    try:
        prepared = data_mod.prepare(cfg.data, cfg.seed, cfg.model.type)
        for name in ("test", "val"):
            split = getattr(prepared, name)
            if split is not None and len(split.x):
                return split.x[:PARITY_ROWS], f"{name} split"
    except UserError as exc:
        reason = _short_reason(str(exc))
    else:
        reason = "the run has no test or validation split"
    return _synthetic_rows(run.spec), f"random inputs ({reason})"


def _short_reason(message: str, limit: int = 160) -> str:
    """The first line of a message, cut back to whole clauses ("; ") when it is long: the list of
    valid sources that follows "not found" says nothing about why the parity rows are random, and a
    cut mid-word read as a garbled path."""
    line = message.splitlines()[0] if message else ""
    clauses = line.split("; ")
    kept = clauses[0]
    for clause in clauses[1:]:
        if len(kept) + 2 + len(clause) > limit:
            break
        kept += "; " + clause
    if len(kept) > limit:  # one long clause: stop at a word
        kept = kept[:limit].rsplit(" ", 1)[0] + " ..."
    return kept


def _synthetic_rows(spec, n: int = 128) -> np.ndarray:
    rng = np.random.default_rng(0)
    shape = list(spec.input_shape or [spec.n_features])
    if spec.kind == "text":
        ids = rng.integers(3, max(spec.vocab_size or 4, 4), size=(n, *shape))
        ids[:, shape[0] // 2:] = 0  # padding, as short texts have
        return ids.astype(np.int64)
    return rng.normal(size=(n, *shape)).astype(np.float32)


# ----------------------------------------------------------------------------- ONNX
@contextlib.contextmanager
def _quiet_exporter():
    """The exporters log warnings that say nothing about this model (torchvision ops not
    registered, their own deprecations) and, when torch.export gives up before the legacy
    fallback, a dump of the graph; real failures still raise."""
    # Records of torch.* loggers created during the export reach torch's handlers by propagation,
    # so the handlers are quietened too, not only the loggers that exist now.
    names = [n for n in logging.root.manager.loggerDict if n == "torch" or n.startswith("torch.")]
    loggers = [logging.getLogger(n) for n in names]
    handlers = [h for lg in [*loggers, logging.getLogger()] for h in lg.handlers]
    saved = [(x, x.level) for x in [*loggers, *handlers]]
    for x, _ in saved:
        x.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for x, level in saved:
            x.setLevel(level)


def _export_onnx(model, example, path: Path) -> str:
    import torch

    with _quiet_exporter():
        try:
            # torch.export prints the partial graph to stderr when it gives up; the fallback follows.
            with contextlib.redirect_stderr(io.StringIO()):
                torch.onnx.export(model, (example,), str(path), input_names=["x"], output_names=["output"],
                                  dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False,
                                  dynamo=True, verbose=False)
            return "dynamo"
        except Exception as first:  # torch.export could not capture it; the legacy tracer may
            dynamo_error = f"{type(first).__name__}: {str(first).splitlines()[0][:200] if str(first) else ''}"
        path.unlink(missing_ok=True)
        try:
            torch.onnx.export(model, (example,), str(path), input_names=["x"], output_names=["output"],
                              dynamic_axes={"x": {0: "batch"}, "output": {0: "batch"}}, dynamo=False)
            return "legacy"
        except Exception as second:
            raise UserError(f"this model could not be exported to ONNX: torch.export failed ({dynamo_error}) and "
                            f"so did the legacy exporter ({type(second).__name__}: {str(second)[:200]}). "
                            "Try --format torchscript") from None


def _run_onnx(path: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: x})[0], session.run(None, {name: x[:1]})[0]


def _opset(path: Path) -> int | None:
    import onnx

    model = onnx.load(str(path))
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


# ----------------------------------------------------------------------------- TorchScript
def _export_torchscript(model, example, path: Path) -> None:
    import torch

    with _quiet_exporter():
        try:
            traced = torch.jit.trace(model, (example,), check_trace=False)
        except Exception as exc:
            raise UserError(f"this model could not be traced to TorchScript: {type(exc).__name__}: "
                            f"{str(exc)[:300]}. Try --format onnx") from None
        torch.jit.save(traced, str(path))


def _run_torchscript(path: Path, xt) -> tuple[np.ndarray, np.ndarray]:
    import torch

    # Safe here and only here: this archive was written by this process a moment ago. trainwell
    # never loads a TorchScript file it did not just write (see predict.refuse_torchscript).
    with _quiet_exporter():
        loaded = torch.jit.load(str(path), map_location="cpu").eval()
    with torch.no_grad():
        return loaded(xt).float().numpy(), loaded(xt[:1]).float().numpy()


# ----------------------------------------------------------------------------- manifest
def _manifest(run, fmt: str, exporter: str, opset, x: np.ndarray, diff: float, tolerance: float,
              data_note: str) -> dict:
    import torch

    from .. import __version__

    spec = run.spec
    versions = {"trainwell": __version__, "torch": torch.__version__, "python": platform.python_version()}
    if fmt == "onnx":
        import onnx
        import onnxruntime

        versions.update(onnx=onnx.__version__, onnxruntime=onnxruntime.__version__, opset=opset)
    return {
        "trainwell_export": FORMAT_VERSION,
        "format": fmt,
        "model_file": FORMATS[fmt],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "run": str(run.path.resolve()),
        "name": run.config.name,
        "model_type": run.config.model.type,
        "task": run.info["task"], "loss": run.info["loss"], "n_out": run.info["n_out"],
        "kind": spec.kind,
        "input": {"name": "x", "dtype": str(x.dtype), "shape": ["batch", *(spec.input_shape or [spec.n_features])]},
        "output": {"name": "output", "shape": ["batch", run.info["n_out"]],
                   "meaning": "raw scores: softmax (cross_entropy, hinge) or sigmoid (bce) gives probabilities; "
                              "regression values are scaled as preprocess.json's target says"},
        "features": {"columns": spec.input_columns, "types": spec.column_types},
        "target": spec.target,
        "classes": spec.classes,
        "metrics": run.metrics,
        "versions": versions,
        "parity": {"max_abs_diff": diff, "tolerance": tolerance, "rows": int(len(x)), "data": data_note,
                   "engine": "onnxruntime" if fmt == "onnx" else "torch.jit", "exporter": exporter},
    }


def describe(result: ExportResult) -> str:
    return (f"parity: max abs difference {result.max_abs_diff:.3g} on {result.rows} rows ({result.data}), "
            f"{'onnxruntime' if result.format == 'onnx' else 'torch.jit'} vs eager PyTorch; "
            f"exporter {result.exporter}; {result.seconds:.1f} s")


__all__ = ["export", "ExportResult", "ParityError", "TOLERANCE", "MANIFEST", "describe"]
