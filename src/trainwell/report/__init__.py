"""HTML reports: for a run (from its directory alone), a tuning study, and an LR range test.

Each is one self-contained file (inline CSS, base64 PNG plots, no script, no network). Plotting
modules load lazily so importing this package costs nothing.
"""

from __future__ import annotations

__all__ = ["write_run_report", "build_run_report", "write_study_report", "write_lr_report"]


def write_run_report(run_dir, out=None):
    from .run import write_run_report as _write

    return _write(run_dir, out)


def build_run_report(run_dir):
    from .run import build_run_report as _build

    return _build(run_dir)


def write_study_report(study_dir, study, *, metric=None, direction=None, best_config=None, out=None,
                       importances=None):
    from .study import write_study_report as _write

    return _write(study_dir, study, metric=metric, direction=direction, best_config=best_config, out=out,
                  importances=importances)


def write_lr_report(result, path, *, config_name=None):
    from .lr import write_lr_report as _write

    return _write(result, path, config_name=config_name)
