"""The one training loop.

Written by hand because it is the product: the doctor needs to see inside every step, a resume
must land on the exact batch where Ctrl-C struck, and small tabular data should be batched by
index from device-resident tensors rather than through a per-sample DataLoader.

Events, each a method on Callback: fit start/end, epoch start/end, batch end, eval end.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import torch

from ..errors import TrainingInterrupted


class Rollback(Exception):
    """Raised by a callback at the end of an epoch to return to an earlier state: the loop loads
    it, calls `after(trainer)` (where the caller changes what it wanted changed) and goes on."""

    def __init__(self, tensors: dict, meta: dict, after=None):
        super().__init__("rollback")
        self.tensors, self.meta, self.after = tensors, meta, after


class Callback:
    def on_fit_start(self, trainer: "Trainer") -> None: ...
    def on_epoch_start(self, trainer: "Trainer") -> None: ...
    def on_batch_end(self, trainer: "Trainer", loss: torch.Tensor) -> None: ...
    def on_eval_end(self, trainer: "Trainer", logs: dict) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", logs: dict) -> None: ...
    def on_fit_end(self, trainer: "Trainer") -> None: ...
    # The network itself was replaced (an architecture repair): weights kept from the old one
    # no longer fit, and hooks on its modules point at the wrong layers.
    def on_model_changed(self, trainer: "Trainer") -> None: ...
    # The doctor rolled back and changed the run: what was being waited for starts again.
    def on_repair(self, trainer: "Trainer") -> None: ...
    # The loss itself was rebuilt (class weights, Huber's delta): losses before and after are on
    # different scales, so a best validation loss from before cannot be compared with later ones.
    def on_loss_changed(self, trainer: "Trainer") -> None: ...

    # Callbacks with memory return (plain JSON state, tensors) and take it back on resume,
    # so a resumed run behaves like an unbroken one.
    # frozen_state: the tensors returned are copies the callback never changes in place (weights
    # cloned at a best epoch), so a snapshot of the run may hold them without copying them again.
    frozen_state = False

    def state_dict(self) -> tuple[dict, dict]:
        return {}, {}

    def load_state_dict(self, meta: dict, tensors: dict) -> None: ...


@dataclass
class TensorData:
    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass
class Position:
    """Where the loop is: `batch` > 0 means Ctrl-C struck inside `epoch` after that many batches."""
    epoch: int = 0          # epochs completed
    batch: int = 0
    step: int = 0           # optimizer steps taken in total
    perm: torch.Tensor | None = None
    loss_sum: float = 0.0
    correct: float = 0.0
    seen: int = 0
    seconds: float = 0.0    # time spent so far in the current epoch


@dataclass
class Trainer:
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: object
    schedule: object
    train: TensorData
    epochs: int
    batch_size: int
    evaluate: object = None           # model -> {"val_loss": ..., "val_<metric>": ...}
    count_correct: object = None      # (outputs, y) -> tensor count of right answers; classification only
    shuffle: bool = True
    l1: float = 0.0
    clip_grad_norm: float | None = None
    clip_grad_value: float | None = None
    generator: torch.Generator | None = None
    callbacks: list = field(default_factory=list)
    checkpoint: object = None         # callable(trainer) that saves state; used on Ctrl-C
    augment: object = None            # callable(x_batch) -> x_batch, training batches only
    history: list = field(default_factory=list)
    pos: Position = field(default_factory=Position)
    stop_reason: str | None = None
    should_stop: bool = False      # finish this epoch, then stop
    stop_now: bool = False         # end this epoch after the current batch (a callback saw it diverge)

    def __post_init__(self):
        self.n = len(self.train)
        self.batch_size = max(1, min(self.batch_size, self.n))
        self.batches_per_epoch = max(1, self.n // self.batch_size) if self.n % self.batch_size == 1 \
            else math.ceil(self.n / self.batch_size)
        self._interrupted = False
        self.loss_value: float | None = None  # the last step's loss, on CPU only (no device sync)
        self.epochs_trained = 0
        self._l1_params = [p for name, p in self.model.named_parameters() if p.dim() > 1]
        self._base_lrs = [g["lr"] for g in self.optimizer.param_groups]
        self.schedule.bind(self.batches_per_epoch, self.epochs, self._base_lrs[0])
        # Only callbacks that listen to batches are called per batch: the hot path stays bare.
        self._batch_listeners = [cb.on_batch_end for cb in self.callbacks
                                 if type(cb).on_batch_end is not Callback.on_batch_end]

    # ------------------------------------------------------------------ public
    def fit(self) -> list[dict]:
        with self._sigint_as_flag():
            self._emit("on_fit_start")
            while self.pos.epoch < self.epochs and not self.should_stop:
                logs = self._run_epoch()
                if logs is None:  # interrupted inside the epoch; state is on disk
                    raise TrainingInterrupted("", self._interrupted)
                self.epochs_trained += 1  # replays after a rollback included: what the run cost
                self.history.append(logs)
                try:
                    self._emit("on_epoch_end", logs)
                except Rollback as back:
                    self.load_state(back.tensors, back.meta)
                    self.should_stop = self.stop_now = False
                    self.stop_reason = None
                    if back.after is not None:
                        back.after(self)
                    continue
                if self._interrupted:
                    if self.checkpoint is not None:
                        self.checkpoint(self)
                    raise TrainingInterrupted("", self._interrupted)
            if not self.stop_reason:
                self.stop_reason = f"completed {self.epochs} epochs"
            self._emit("on_fit_end")
        return self.history

    def replace_model(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Swap in a rebuilt network and its optimizer, keeping the position, history and budget."""
        self.model, self.optimizer = model, optimizer
        self._l1_params = [p for name, p in model.named_parameters() if p.dim() > 1]
        self._base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.schedule.base_lr = self._base_lrs[0]
        self._emit("on_model_changed")

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    # ------------------------------------------------------------------ the epoch
    def _run_epoch(self) -> dict | None:
        p = self.pos
        model, opt, x, y = self.model, self.optimizer, self.train.x, self.train.y
        if p.batch == 0:
            self._emit("on_epoch_start")
            p.perm = (torch.randperm(self.n, generator=self.generator) if self.shuffle
                      else torch.arange(self.n)).to(x.device)
            p.loss_sum, p.correct, p.seen, p.seconds = 0.0, 0.0, 0, 0.0
        started = time.perf_counter()
        # On CPU a Python float is the cheapest running sum; on an accelerator the sums stay on
        # the device, since reading a value every batch would be a sync point. Either way they
        # restart from the saved values, so a resumed epoch adds in the same order as an unbroken one.
        on_cpu = x.device.type == "cpu"
        loss_sum = p.loss_sum if on_cpu else torch.tensor(p.loss_sum, device=x.device)
        correct = p.correct if on_cpu else torch.tensor(p.correct, device=x.device)
        constant_lr = self.schedule.is_constant
        model.train()
        bs = self.batch_size
        last = self.batches_per_epoch - 1
        for b in range(p.batch, self.batches_per_epoch):
            # The last batch takes the remainder, so no batch ever holds a single row
            # (batch norm cannot train on one).
            idx = p.perm[b * bs:(self.n if b == last else (b + 1) * bs)]
            xb, yb = x[idx], y[idx]
            if self.augment is not None:
                xb = self.augment(xb)
            if not constant_lr:
                f = self.schedule.factor(p.step)
                for g, base in zip(opt.param_groups, self._base_lrs):
                    g["lr"] = base * f
            out = model(xb)
            loss = self.loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            if self.l1:
                # The penalty is optimised but not reported: train_loss stays the data loss, the
                # same terms val_loss measures (as weight decay, which the optimizer applies).
                (loss + self.l1 * sum(w.abs().sum() for w in self._l1_params)).backward()
            else:
                loss.backward()
            if self.clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip_grad_norm)
            if self.clip_grad_value:
                torch.nn.utils.clip_grad_value_(model.parameters(), self.clip_grad_value)
            opt.step()
            p.step += 1
            if on_cpu:
                # Kept for the callbacks: a second .item() costs them 0.8 us a step.
                self.loss_value = loss.item()
                loss_sum += self.loss_value * len(idx)
                if self.count_correct is not None:
                    correct += self.count_correct(out.detach(), yb).item()
            else:
                loss_sum += loss.detach() * len(idx)
                if self.count_correct is not None:
                    correct += self.count_correct(out.detach(), yb)
            p.seen += len(idx)
            for listener in self._batch_listeners:
                listener(self, loss)
            if self.stop_now:
                self.should_stop = True
                break
            if self._interrupted and b + 1 < self.batches_per_epoch:
                p.batch = b + 1
                p.loss_sum = float(loss_sum)
                p.correct = float(correct)
                p.seconds += time.perf_counter() - started
                if self.checkpoint is not None:
                    self.checkpoint(self)
                return None
        p.loss_sum = float(loss_sum)
        p.correct = float(correct)
        logs = {"epoch": p.epoch + 1, "lr": self.lr, "train_loss": p.loss_sum / max(p.seen, 1)}
        if self.count_correct is not None:
            logs["train_accuracy"] = p.correct / max(p.seen, 1)
        if self.evaluate is not None:
            logs.update(self.evaluate(model))
            self._emit("on_eval_end", logs)
        if hasattr(self.schedule, "on_epoch_end"):
            self.schedule.on_epoch_end(logs.get("val_loss", logs["train_loss"]))
        p.seconds += time.perf_counter() - started
        logs["seconds"] = round(p.seconds, 4)
        p.epoch += 1
        p.batch = 0
        p.perm = None
        if not math.isfinite(logs["train_loss"]):
            self.should_stop = True
            self.stop_reason = f"training loss became non-finite ({logs['train_loss']}) in epoch {p.epoch}"
        return logs

    # ------------------------------------------------------------------ state
    # The keys of state() whose tensors training changes in place: a snapshot must copy them. The
    # rest are fresh (random states) or never changed (an epoch's order, frozen callbacks' copies).
    LIVE_PREFIXES = ("model.", "opt.")

    def live_keys(self, tensors: dict) -> list[str]:
        live = self.LIVE_PREFIXES + tuple(f"cb.{i}." for i, cb in enumerate(self.callbacks) if not cb.frozen_state)
        return [k for k in tensors if k.startswith(live)]

    def state(self) -> tuple[dict, dict]:
        from .checkpoint import flatten_optimizer, prefixed

        p = self.pos
        tensors = prefixed("model.", self.model.state_dict())
        opt_t, opt_meta = flatten_optimizer(self.optimizer)
        tensors.update(opt_t)
        tensors["rng.torch"] = torch.get_rng_state()
        if self.generator is not None:
            tensors["rng.shuffle"] = self.generator.get_state()
        if torch.cuda.is_available():
            tensors["rng.cuda"] = torch.cuda.get_rng_state()
        if p.perm is not None:
            tensors["pos.perm"] = p.perm
        meta = {
            "pos": {"epoch": p.epoch, "batch": p.batch, "step": p.step, "loss_sum": p.loss_sum,
                    "correct": p.correct, "seen": p.seen, "seconds": p.seconds},
            "optimizer": opt_meta,
            "schedule": self.schedule.state_dict(),
            "base_lrs": self._base_lrs,
            "history": self.history,
            "callbacks": {},
        }
        for i, cb in enumerate(self.callbacks):
            cb_meta, cb_tensors = cb.state_dict()
            meta["callbacks"][str(i)] = cb_meta
            tensors.update(prefixed(f"cb.{i}.", cb_tensors))
        return tensors, meta

    def load_state(self, tensors: dict, meta: dict) -> None:
        from .checkpoint import restore_optimizer, strip

        device = self.train.x.device
        self.model.load_state_dict(strip("model.", tensors))
        restore_optimizer(self.optimizer, tensors, meta["optimizer"])
        self._base_lrs = list(meta["base_lrs"])
        torch.set_rng_state(tensors["rng.torch"])
        if self.generator is not None and "rng.shuffle" in tensors:
            self.generator.set_state(tensors["rng.shuffle"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        self.schedule.load_state_dict(meta["schedule"])
        self.history = list(meta["history"])
        self.pos = Position(**meta["pos"])
        self.pos.perm = tensors["pos.perm"].to(device) if "pos.perm" in tensors else None
        for i, cb in enumerate(self.callbacks):
            cb.load_state_dict(meta["callbacks"].get(str(i), {}), strip(f"cb.{i}.", tensors))

    # ------------------------------------------------------------------ helpers
    def _emit(self, event: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(self, *args)

    def _sigint_as_flag(self):
        return sigint_as_flag(self)


@contextlib.contextmanager
def sigint_as_flag(trainer):
    """While training, Ctrl-C or SIGTERM (kill, docker stop, a scheduler's preemption) sets
    trainer._interrupted to the signal's number (the loop saves after the batch and stops); a second
    signal falls through to the default handler: the user insists."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        trainer._interrupted = signum
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
