"""What the doctor records while training, cheaply.

Every step: whether the loss is finite (on CPU the loop has the value already). At checks:
the loss, the global and per-layer gradient norms, and the next step's update-to-weight ratio
per layer (|Δw| / |w|, the actual step the optimizer took, learning rate included). At probes:
on a fixed batch of training rows, the share of dead units in each ReLU layer and the share of
saturated pre-activations (|z| > 5) in each sigmoid/tanh layer.

Checks are spaced by a time budget, not a fixed count: the recorder measures what it spends and
skips a check while it is above `budget` of the training time so far (default 2%), with at
least one check and one probe per epoch so the rules always have something to read; on epochs
so short that this alone exceeds the budget (a few batches of a tiny set), at least one every
EVERY_OVER_BUDGET epochs, the first in epoch 1.
"""

from __future__ import annotations

import functools
import math
import time

import torch
from torch import nn

from ..training.loop import Callback

SATURATION_Z = 5.0  # |z| > 5: sigmoid'(z) < 0.007 and tanh'(z) < 0.0002; gradients barely pass
# Activations read only for the signal's size (see probe): no dead or saturated state of their own.
SMOOTH = (nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish, nn.Softplus)
EVERY_OVER_BUDGET = 4  # epochs between forced checks/probes when one per epoch would exceed the budget


# Modules that compute the same in train and eval mode (no dropout, no running statistics).
_MODE_FREE = (nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU,
              nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LogSoftmax, nn.Identity, nn.Flatten, nn.Unflatten, nn.Sequential,
              nn.ModuleList, nn.ModuleDict, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
              nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.Embedding,
              nn.LayerNorm) + SMOOTH


def mode_free(model: nn.Module) -> bool:
    """True when every module is one whose output does not depend on model.train()/eval(), so the
    probe may skip switching modes: torch's classes above, and trainwell's containers that declare
    `mode_free_forward` themselves (not inherited: a user's subclass may read self.training)."""
    return all(type(m) in _MODE_FREE or type(m).__dict__.get("mode_free_forward", False) for m in model.modules())


def layer_params(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """(layer name, weight) for every weight matrix or kernel, in forward (registration) order."""
    return [(name.removesuffix(".weight"), p) for name, p in model.named_parameters()
            if p.dim() >= 2 and p.requires_grad]


def _spread(t: torch.Tensor, rows: int = 32) -> float:
    """How much a layer's input varies with the probe rows: the root mean over units of each
    unit's variance across rows. Not its plain size: a bias adds the same to every row and
    carries nothing of the input forward. From 32 rows: the rule reads orders of magnitude, and
    torch's var over all 256 rows took 250 us a 128-unit layer here, 9x this."""
    t = t[:rows].float()
    return float((t - t.mean(dim=0)).square().mean().sqrt()) if t.shape[0] > 1 else 0.0


@torch.no_grad()
def recurrent_gain(layers: list[tuple[str, torch.Tensor]]) -> dict[str, float]:
    """Per recurrent weight matrix (weight_hh_*), its entries' spread times the square root of the
    hidden size: ||W||_F / sqrt(rows) = std(w) * sqrt(fan_in), how much one step of the recurrence
    multiplies a hidden state of unit size. PyTorch's own init gives 0.58, Xavier with tanh's gain
    (trainwell's auto) 1.05, orthogonal 0.5 (per gate); N(0, 1) on 24 units gives 4.9."""
    return {name: float(w.detach().float().norm() / math.sqrt(w.shape[0]))
            for name, w in layers if "weight_hh" in name and w.dim() == 2 and w.shape[0] > 0}


class Signals(Callback):
    def __init__(self, model: nn.Module, probe_x: torch.Tensor | None = None, budget: float = 0.02):
        self.layers = layer_params(model)
        self.probe_x = probe_x
        self.budget = budget
        self.records: list[dict] = []
        self.nonfinite: dict | None = None
        self.initial_probe: dict | None = None   # dead/saturated shares before the first step
        self._spent_outside_budget = 0.0
        self._spent = 0.0   # in self._clock's seconds (see on_fit_start)
        self._started = None
        self._clock = time.perf_counter
        self._snapshot: list[torch.Tensor] | None = None
        self._checked_this_epoch = False
        self._probed_this_epoch = False
        self._relus, self._squashers, self._others = self._activation_modules(model)
        self._mode_free = mode_free(model)

    # ------------------------------------------------------------------ events
    def on_fit_start(self, trainer):
        self.on_cpu = trainer.train.x.device.type == "cpu"
        # The budget is kept in this thread's CPU time on CPU: time spent waiting while other
        # work holds the cores is neither training nor checking, so the same seeded run reads
        # nearly the same steps however loaded the machine is. On wall time a healthy run beside
        # other jobs read 36-57 checks where alone it read 25-32, and was once called exploding
        # from spikes a quiet run never saw. The waiting also lands unevenly: reading the clock
        # is a system call, where the scheduler often switches, and under load 0.75 s of a run's
        # 1 s of waiting fell inside the recorder, which the wall clock would charge to it
        # (29% "overhead" against 2% of CPU). On an accelerator the thread waits for the device,
        # and wall time is the measure.
        self._clock = time.thread_time if self.on_cpu else time.perf_counter
        self._started = self._clock()
        if self.initial_probe is None and trainer.pos.step == 0:
            self._probe_initial(trainer.model)

    def _probe_initial(self, model) -> None:
        # One forward pass before the first step: whether units were dead or saturated from the
        # initialisation, or became so in training (a large rate can do it within epoch 1).
        if self.probe_x is not None:
            t0 = self._clock()
            self.initial_probe = self.probe(model)
            self.initial_probe["gain"] = recurrent_gain(self.layers)
            # Counted in the overhead, not against the check budget: charged there, it would
            # push the first check later, and the rules read the first check as the loss
            # before the optimizer moved the weights (a blow-up from the init).
            self._spent_outside_budget += self._clock() - t0

    def on_model_changed(self, trainer):
        self.layers = layer_params(trainer.model)
        self._relus, self._squashers, self._others = self._activation_modules(trainer.model)
        self._mode_free = mode_free(trainer.model)
        self._snapshot = None
        self._probe_initial(trainer.model)

    def on_epoch_start(self, trainer):
        self._checked_this_epoch = False
        self._probed_this_epoch = False

    def on_batch_end(self, trainer, loss):
        t0 = self._clock()
        if self.on_cpu and self.nonfinite is None:
            value = getattr(trainer, "loss_value", None)  # the loop's own .item(), when it has one
            value = loss.item() if value is None else value
            if not math.isfinite(value):
                self._record_nonfinite(trainer, value)
        if self._snapshot is not None:
            self._finish_update_ratio(trainer)
        elapsed = max(t0 - self._started, 1e-9)
        due = self._spent < self.budget * elapsed
        forced = probe_due = False
        # Only an epoch's last batch can force a check; deciding it on every step cost 3.4 us a
        # step, 0.8% of a 0.4 ms breast-cancer step.
        if not self._checked_this_epoch and self._is_last_batch(trainer):
            epoch = trainer.pos.epoch + 1
            # The end-of-epoch check is forced every epoch while the recorder stays within 1.5x
            # its budget; on tiny epochs (a few batches of a small set) one check alone can cost
            # more than that, and then it is forced only every EVERY_OVER_BUDGET epochs. The
            # rules read the last few checks, not one per epoch, so they still have something to
            # read. Read from the records, not kept apart, so a rollback (which trims them)
            # resets it too.
            lag = epoch - (self.records[-1]["epoch"] if self.records else -EVERY_OVER_BUDGET)
            # A probe (a forward pass with hooks) costs several checks: one per epoch at most,
            # and when over budget one every EVERY_OVER_BUDGET epochs. That probe forces its
            # check too: riding only on the checks, it was skipped whenever the checks ran under
            # 1.5x budget for a few epochs and then stopped (probes 7 epochs apart), and the
            # rules that need two probes (dying_relu, saturation) fired or not with the
            # machine's speed.
            probe_due = self.probe_x is not None and epoch - self._last_probe_epoch() >= EVERY_OVER_BUDGET
            forced = self._spent < 1.5 * self.budget * elapsed or lag >= EVERY_OVER_BUDGET or probe_due
        if due or forced:
            self._check(trainer, loss)
            if self.probe_x is not None and not self._probed_this_epoch and (due or probe_due):
                self.records[-1].update(self.probe(trainer.model))
                self._probed_this_epoch = True
        self._spent += self._clock() - t0

    # ------------------------------------------------------------------ pieces
    def _last_probe_epoch(self) -> int:
        return next((r["epoch"] for r in reversed(self.records) if "dead" in r), -EVERY_OVER_BUDGET)

    def _is_last_batch(self, trainer) -> bool:
        return trainer.pos.seen >= trainer.n

    def _check(self, trainer, loss) -> None:
        grads = [p.grad for _, p in self.layers]
        names = [n for n, p in self.layers if p.grad is not None]
        present = [g for g in grads if g is not None]
        norms = torch.stack(torch._foreach_norm(present)).tolist() if present else []
        total = math.sqrt(sum(v * v for v in norms)) if norms else 0.0
        record = {"step": trainer.pos.step, "epoch": trainer.pos.epoch + 1, "loss": float(loss.detach()),
                  "lr": trainer.lr, "grad_norm": total, "grad_norms": dict(zip(names, norms))}
        self.records.append(record)
        self._checked_this_epoch = True
        # Keep this step's weights; the next batch's end measures the update the optimizer made.
        self._snapshot = [p.detach().clone() for _, p in self.layers]
        if not all(math.isfinite(v) for v in norms) and self.nonfinite is None:
            self._record_nonfinite(trainer, record["loss"])

    def _finish_update_ratio(self, trainer) -> None:
        weights = [p.detach() for _, p in self.layers]
        deltas = torch._foreach_sub(weights, self._snapshot)
        d = torch.stack(torch._foreach_norm(deltas)).tolist()
        w = torch.stack(torch._foreach_norm(self._snapshot)).tolist()
        self.records[-1]["update_ratio"] = {name: (dv / wv if wv > 0 else float("inf"))
                                            for (name, _), dv, wv in zip(self.layers, d, w)}
        self._snapshot = None

    def _record_nonfinite(self, trainer, loss_value) -> None:
        """Where did the first NaN/inf come from? Inputs, then the first layer whose gradient
        or weight went non-finite, in forward order."""
        first_grad = next((n for n, p in self.layers if p.grad is not None and not torch.isfinite(p.grad).all()), None)
        first_weight = next((n for n, p in self.layers if not torch.isfinite(p.detach()).all()), None)
        self.nonfinite = {"step": trainer.pos.step, "epoch": trainer.pos.epoch + 1, "loss": loss_value,
                          "first_nonfinite_grad": first_grad, "first_nonfinite_weight": first_weight,
                          "lr": trainer.lr}

    @staticmethod
    def _activation_modules(model):
        relus, squashers, others = [], [], []
        for name, m in model.named_modules():
            # A leaky ReLU whose input is negative for every row is stuck on its 0.01 slope: it
            # passes 1/100 of the gradient, and a bias of -20 kept a digits MLP there all run.
            if isinstance(m, (nn.ReLU, nn.ReLU6, nn.LeakyReLU)):
                relus.append((name, m))
            elif isinstance(m, (nn.Sigmoid, nn.Tanh)):
                squashers.append((name, m))
            elif isinstance(m, SMOOTH):
                # Neither dies nor saturates the way the two above do, but a signal fading layer
                # after layer from a tiny init fades through them alike (six ELU layers with
                # N(0, 1e-3) weights: 0.61 on digits against 0.96, and no other signal fired).
                others.append((name, m))
        return relus, squashers, others

    @torch.no_grad()
    def probe(self, model: nn.Module) -> dict:
        """Dead-unit and saturation shares on the fixed probe batch, in eval mode; and `scale`, the
        spread of each dense activation's input over the probe rows, in forward order (a signal
        that shrinks layer after layer, from an init far too small, leaves every gradient equally
        tiny, which no first-to-last gradient ratio shows)."""
        dead, saturated, scale, handles = {}, {}, {}, []

        def scale_hook(mod, inp, out, name):
            if inp[0].dim() == 2:  # dense layers only: the rule that reads it is for MLPs
                scale[name] = _spread(inp[0])

        def relu_hook(mod, inp, out, name):
            # A unit (a feature, or a channel: dim 1) is dead when its largest output over the
            # rows is <= 0. A max over the rows, not (out <= 0).all(): 7x faster on a 256-unit
            # layer (15 us against 107 us), the same answer, NaN included (neither counts it).
            rows = [d for d in range(out.dim()) if d != 1]
            dead[name] = float((out.amax(dim=rows) <= 0).float().mean())
            scale_hook(mod, inp, out, name)

        def squash_hook(mod, inp, out, name):
            saturated[name] = float((inp[0].abs() > SATURATION_Z).float().mean())
            scale_hook(mod, inp, out, name)

        for name, m in self._relus:
            handles.append(m.register_forward_hook(functools.partial(relu_hook, name=name)))
        for name, m in self._squashers:
            handles.append(m.register_forward_hook(functools.partial(squash_hook, name=name)))
        for name, m in self._others:
            handles.append(m.register_forward_hook(functools.partial(scale_hook, name=name)))
        was_training = model.training
        toggle = not self._mode_free  # eval() and train() walk every module: 20 us on a 2-layer MLP
        if toggle:
            model.eval()
        try:
            model(self.probe_x)
        finally:
            if toggle:
                model.train(was_training)
            for h in handles:
                h.remove()
        return {"dead": dead, "saturated": saturated, "scale": scale}

    # ------------------------------------------------------------------ state
    def overhead(self) -> float:
        """The recorder's share of the run, in the clock its budget is kept in (see on_fit_start)."""
        total = self._clock() - self._started if self._started is not None else 0.0
        return (self._spent + self._spent_outside_budget) / total if total > 0 else 0.0

    def state_dict(self):
        return {"records": self.records, "nonfinite": self.nonfinite, "initial_probe": self.initial_probe}, {}

    def load_state_dict(self, meta, tensors):
        self._snapshot = None  # a weight copy from before a rollback measures nothing real
        if meta:
            self.records = list(meta.get("records", []))
            self.nonfinite = meta.get("nonfinite")
            self.initial_probe = meta.get("initial_probe", self.initial_probe)
