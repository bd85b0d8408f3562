"""Optional loggers: TensorBoard event files and MLflow, when asked for and installed.

    logging:
      tensorboard: true          # RUN/tensorboard/ (view: tensorboard --logdir RUN/tensorboard)
      mlflow: file:./mlruns      # a tracking URI

Neither is a dependency: asking for one that is not installed is a UserError saying how to
install it, raised before the run directory exists. The run directory stays the record; these
copy the per-epoch history, the parameters and the final metrics (and, for MLflow, the report).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .errors import UserError
from .training.loop import Callback


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def check(cfg) -> "Loggers | None":
    """The loggers the config asks for, or None; a UserError if one is not installed."""
    lg = cfg.logging
    if not lg.tensorboard and not lg.mlflow:
        return None
    if lg.tensorboard and _missing("tensorboard"):
        raise UserError("logging.tensorboard: true needs the tensorboard package, which is not installed; "
                        "install it with `pip install tensorboard`, or set logging.tensorboard: false")
    if lg.mlflow and _missing("mlflow"):
        raise UserError(f"logging.mlflow: {lg.mlflow!r} needs the mlflow package, which is not installed; "
                        f"install it with `pip install mlflow`, or remove logging.mlflow")
    return Loggers(cfg)


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _scalars(logs: dict) -> dict:
    return {k: float(v) for k, v in logs.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "epoch"}


class Loggers(Callback):
    """Writes each epoch's history line to the configured loggers."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.tb = None
        self.mlflow = None
        self.run_dir: Path | None = None

    def attach(self, run_dir: Path) -> "Loggers":
        self.run_dir = Path(run_dir)
        params = {k: json.dumps(v) if isinstance(v, (list, dict)) else v
                  for k, v in _flat(self.cfg.model_dump(mode="json", exclude={"tune"} if hasattr(self.cfg, "tune")
                                                        else None)).items()}
        if self.cfg.logging.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))
            self.tb.add_text("config", "```\n" + (self.run_dir / "config.yaml").read_text() + "\n```")
        if self.cfg.logging.mlflow:
            import mlflow

            mlflow.set_tracking_uri(self.cfg.logging.mlflow)
            try:
                mlflow.set_experiment(self.cfg.name)
                self.mlflow = mlflow.start_run(run_name=self.run_dir.name)
            except Exception as exc:  # MLflow's own refusal (store, URI, server): the user's setting
                self.finish("FAILED")
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UserError(f"logging.mlflow: MLflow could not log to {self.cfg.logging.mlflow!r}: {first}") \
                    from None
            # MLflow caps a parameter value at a few hundred characters; configs hold short values.
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            mlflow.set_tag("trainwell.run_dir", str(self.run_dir.resolve()))
        return self

    def on_epoch_end(self, trainer, logs: dict) -> None:
        epoch = int(logs.get("epoch", 0))
        values = _scalars(logs)
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k.replace("train_", "train/").replace("val_", "val/"), v, epoch)
        if self.mlflow is not None:
            import mlflow

            mlflow.log_metrics(values, step=epoch)

    def finish(self, status: str = "FINISHED") -> None:
        """Final metrics and the report; closes both loggers. Called at the end of train."""
        metrics = {}
        if self.run_dir is not None and (self.run_dir / "metrics.json").is_file():
            for split, scores in json.loads((self.run_dir / "metrics.json").read_text()).items():
                metrics.update({f"{split}_{k}": v for k, v in _scalars(scores or {}).items()})
        if self.tb is not None:
            for k, v in metrics.items():
                self.tb.add_scalar(f"final/{k}", v, 0)
            self.tb.close()
            self.tb = None
        if self.mlflow is not None:
            import mlflow

            if metrics:
                mlflow.log_metrics(metrics)
            report = self.run_dir / "report.html" if self.run_dir else None
            if report is not None and report.is_file():
                mlflow.log_artifact(str(report))
            mlflow.end_run(status=status)
            self.mlflow = None
