"""Callbacks: history file, early stopping, checkpoints, progress bar."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from .loop import Callback


class Monitor:
    """Tracks the best value of one logged quantity."""

    def __init__(self, key: str, mode: str, min_delta: float = 0.0):
        from ..metrics import is_better_high

        self.key = key
        self.mode = ("max" if is_better_high(key) else "min") if mode == "auto" else mode
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None

    def improved(self, logs: dict) -> bool:
        value = logs.get(self.key)
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            better = True
        elif self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch = value, logs["epoch"]
        return better

    def state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load(self, s: dict) -> None:
        self.best, self.best_epoch = s.get("best"), s.get("best_epoch")


def _clone_weights(model) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    def __init__(self, monitor: str, mode: str, patience: int, min_delta: float, restore_best: bool):
        self.monitor = Monitor(monitor, mode, min_delta)
        self.patience = patience
        self.restore_best = restore_best
        self.wait = 0
        self.best_weights: dict | None = None
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, trainer, logs):
        if self.monitor.key not in logs:
            return
        if self.monitor.improved(logs):
            self.wait = 0
            if self.restore_best:
                self.best_weights = _clone_weights(trainer.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.should_stop = True
            self.stopped_epoch = logs["epoch"]
            trainer.stop_reason = (
                f"early stopping: {self.monitor.key} did not improve in the last {self.patience} epochs; "
                f"best {self.monitor.best:.6g} at epoch {self.monitor.best_epoch}")

    def on_fit_end(self, trainer):
        if self.restore_best and self.best_weights is not None:
            last = trainer.history[-1]["epoch"] if trainer.history else None
            if self.monitor.best_epoch != last:
                trainer.model.load_state_dict(self.best_weights)
                trainer.stop_reason = (trainer.stop_reason or "") + \
                    f"; restored the weights of epoch {self.monitor.best_epoch}"

    def state_dict(self):
        meta = {"monitor": self.monitor.state(), "wait": self.wait, "stopped_epoch": self.stopped_epoch}
        return meta, dict(self.best_weights or {})

    def load_state_dict(self, meta, tensors):
        if meta:
            self.monitor.load(meta["monitor"])
            self.wait, self.stopped_epoch = meta["wait"], meta["stopped_epoch"]
        self.best_weights = tensors or None


class HistoryWriter(Callback):
    """Appends one JSON line per epoch; rewritten whole on resume so it matches the checkpoint."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def on_fit_start(self, trainer):
        with open(self.path, "w") as f:
            for logs in trainer.history:
                f.write(json.dumps(logs) + "\n")

    def on_epoch_end(self, trainer, logs):
        with open(self.path, "a") as f:
            f.write(json.dumps(logs) + "\n")


class Checkpoint(Callback):
    """checkpoints/last.safetensors every epoch (resume), best.safetensors when the monitor improves."""

    def __init__(self, folder: Path, monitor: str, mode: str):
        self.folder = Path(folder)
        self.monitor = Monitor(monitor, mode)

    def __call__(self, trainer) -> None:
        from . import checkpoint

        tensors, meta = trainer.state()
        checkpoint.save(self.folder / "last.safetensors", tensors, meta)

    def on_epoch_end(self, trainer, logs):
        from . import checkpoint

        if self.monitor.improved(logs):
            checkpoint.save(self.folder / "best.safetensors", trainer.model.state_dict(),
                            {"epoch": logs["epoch"], self.monitor.key: self.monitor.best})
        self(trainer)

    def state_dict(self):
        return self.monitor.state(), {}

    def load_state_dict(self, meta, tensors):
        if meta:
            self.monitor.load(meta)


class Progress(Callback):
    """A rich progress bar on stderr: epoch, loss, val metrics, ETA. Updated once per epoch."""

    def __init__(self, total_epochs: int, keys: list[str]):
        self.total = total_epochs
        self.keys = keys
        self.bar = None

    def on_fit_start(self, trainer):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

        self.bar = Bar(TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[stats]}"),
                       TimeRemainingColumn(), console=Console(file=sys.stderr), transient=False)
        self.task = self.bar.add_task("train", total=self.total, completed=trainer.pos.epoch, stats="")
        self.bar.start()

    def on_epoch_end(self, trainer, logs):
        stats = "  ".join(f"{k} {logs[k]:.4g}" for k in self.keys if k in logs and isinstance(logs[k], float))
        self.bar.update(self.task, completed=logs["epoch"], stats=stats)

    def on_fit_end(self, trainer):
        self.close()

    def close(self):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


