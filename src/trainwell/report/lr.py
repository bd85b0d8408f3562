"""The LR range test as one HTML page: its curve, the suggestion (or why there is none), the settings."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from . import html as H


def build_lr_report(result, *, config_name: str | None = None) -> str:
    from .. import __version__
    from ..doctor.lr_finder import plot

    if result.png and Path(result.png).is_file():
        png = Path(result.png).read_bytes()
    else:  # no PNG was asked for: draw one the same way, in a scratch folder
        with tempfile.TemporaryDirectory() as tmp:
            png = plot(result, Path(tmp) / "lr.png").read_bytes()
    page = H.Page(title="trainwell LR range test" + (f": {config_name}" if config_name else ""),
                  subtitle="loss against learning rate on a fresh copy of the model")
    if result.suggestion is not None:
        verdict = f"<p><b>Suggested learning rate: {result.suggestion:.3g}</b></p><p>{H.esc(result.reason)}</p>"
    else:
        verdict = f"<p><b>No clear suggestion.</b></p><p>{H.esc(result.reason)}</p>"
    page.add("suggestion", "Suggestion", verdict + (
        f"<p class='muted'>Use it with <code>--set optimizer.lr={result.suggestion:.3g}</code>, or let "
        f"<code>optimizer.lr: auto</code> run this test before training.</p>" if result.suggestion else ""))
    page.add("curve", "Loss against learning rate", H.img(png, "LR range test: smoothed loss against learning rate"))
    finite = [v for v in result.losses if isinstance(v, float) and math.isfinite(v)]
    items = [("steps run", result.steps_run), ("stopped early (loss diverged)", result.stopped_early),
             ("lowest smoothed loss", min(finite) if finite else None),
             ("at lr", result.min_lr), *result.settings.items()]
    page.add("settings", "Sweep", H.kv_table(items))
    page.footer = (f"Written by trainwell {__version__} on {time.strftime('%Y-%m-%d %H:%M:%S')}. "
                   f"Self-contained: it loads nothing from the network.")
    return page.render()


def write_lr_report(result, path: str | Path, *, config_name: str | None = None) -> Path:
    from ..training.checkpoint import write_text_atomic

    path = Path(path)
    write_text_atomic(path, build_lr_report(result, config_name=config_name))
    return path
