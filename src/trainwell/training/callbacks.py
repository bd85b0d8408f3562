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
    frozen_state = True   # best_weights: a clone, replaced, never changed in place

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

    def stops_after(self, logs) -> bool:
        """Whether this epoch's logs will stop the run (read before on_epoch_end, changing nothing)."""
        if self.monitor.key not in logs:
            return False
        best, epoch = self.monitor.best, self.monitor.best_epoch
        try:
            improved = self.monitor.improved(logs)
        finally:
            self.monitor.best, self.monitor.best_epoch = best, epoch
        return not improved and self.wait + 1 >= self.patience

    def on_model_changed(self, trainer):
        self.monitor.best = self.monitor.best_epoch = None
        self.wait, self.best_weights = 0, None

    def on_loss_changed(self, trainer):
        if self.monitor.key.endswith("loss"):
            self.on_model_changed(trainer)

    def on_repair(self, trainer):
        # Patience spent on the broken run must not cut the repaired one short (heavy L2 in the
        # suite: stopped 5 epochs after its repair, still improving).
        self.wait = 0

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
        self.written = 0

    def on_fit_start(self, trainer):
        self._rewrite(trainer.history)

    def _rewrite(self, history):
        with open(self.path, "w") as f:
            for logs in history:
                f.write(json.dumps(logs) + "\n")
        self.written = len(history)

    def on_epoch_end(self, trainer, logs):
        if self.written != len(trainer.history) - 1:  # a rollback shortened the history
            self._rewrite(trainer.history)
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(logs) + "\n")
        self.written += 1


class Checkpoint(Callback):
    """checkpoints/last.safetensors (resume) and best.safetensors (the best weights so far).

    Written at the end of an epoch once `interval` seconds have passed since the last write
    (0 = every epoch), at the end of fit, and on Ctrl-C. Tiny epochs would otherwise spend a
    fifth of their time writing files; a kill -9 loses at most `interval` seconds of work.
    """
    frozen_state = True   # best_weights: a clone, replaced, never changed in place

    def __init__(self, folder: Path, monitor: str, mode: str, interval: float = 0.0):
        self.folder = Path(folder)
        self.monitor = Monitor(monitor, mode)
        self.interval = interval
        self.best_weights: dict | None = None
        self._best_unsaved = False
        self._last_write = -math.inf

    def __call__(self, trainer) -> None:
        from . import checkpoint

        if self._best_unsaved:
            checkpoint.save(self.folder / "best.safetensors", self.best_weights,
                            {"epoch": self.monitor.best_epoch, self.monitor.key: self.monitor.best})
            self._best_unsaved = False
        tensors, meta = trainer.state()
        checkpoint.save(self.folder / "last.safetensors", tensors, meta)
        self._last_write = time.monotonic()

    def on_fit_start(self, trainer):
        self._last_write = time.monotonic()

    def on_epoch_end(self, trainer, logs):
        if self.monitor.improved(logs):
            self.best_weights = _clone_weights(trainer.model)
            self._best_unsaved = True
        if time.monotonic() - self._last_write >= self.interval:
            self(trainer)

    def on_model_changed(self, trainer):
        self.monitor.best = self.monitor.best_epoch = None
        self.best_weights, self._best_unsaved = None, False

    def on_loss_changed(self, trainer):
        if self.monitor.key.endswith("loss"):
            self.on_model_changed(trainer)

    def on_fit_end(self, trainer):
        self(trainer)

    def state_dict(self):
        return {**self.monitor.state(), "best_unsaved": self._best_unsaved}, \
            (dict(self.best_weights) if self._best_unsaved and self.best_weights else {})

    def load_state_dict(self, meta, tensors):
        if meta:
            self.monitor.load(meta)
            self._best_unsaved = bool(meta.get("best_unsaved")) and bool(tensors)
            self.best_weights = tensors or None


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


