"""The doctor at work during training: examine each epoch, say what it finds in one line, and
(when asked) repair: roll back to the last good state, apply the top fix, and go on."""

from __future__ import annotations

import time

import torch

from ..training.loop import Callback, Rollback
from . import rules
from .findings import Finding, ranked


# Problems that only slow training down: what was learned before them is worth keeping.
SLOW_NOT_DAMAGED = {"lr_too_low", "plateau", "class_imbalance"}
# Epochs between the older healthy states kept for a rollback (two of them, so one is always
# 4-8 epochs back): a problem is found a few epochs after its onset (two loss jumps, four epochs
# above chance), and the last healthy state is then already past the onset.
ANCHOR_SPACING = 4
# Findings read from the probes, which come every fourth epoch on tiny epochs: their onset is the
# first probe that saw the problem, and the damage may be older (ReLUs killed by SGD at 2.0 were
# first seen at epoch 3; rolled back to a state of epoch 2, already dead, the net ended 6 points
# short). For these only the latest healthy state, if before the onset, or the start will do.
PROBED = {"dying_relu", "saturated_activations", "vanishing_gradients"}

_CONTEXT_KEYS = {"optimizer.lr": "lr", "optimizer.weight_decay": "weight_decay", "optimizer.name": "optimizer",
                 "model.dropout": "dropout", "data.imbalance": "imbalance",
                 "model.activation": "activation", "optimizer.momentum": "momentum",
                 "schedule.name": "schedule", "schedule.warmup_epochs": "warmup_epochs",
                 "loss.huber_delta": "huber_delta",
                 "loss.label_smoothing": "label_smoothing",
                 "regularization.clip_grad_value": "clip_grad_value", "regularization.l1": "l1",
                 "model.cell": "cell", "model.hidden_size": "hidden_size", "model.d_model": "d_model",
                 "model.bidirectional": "bidirectional",
                 "model.positional": "positional", "model.blocks": "conv_blocks",
                 "regularization.clip_grad_norm": "clip_grad_norm", "optimizer.eps": "eps"}


def _update_context(ctx, overrides: dict) -> None:
    """After a repair the rules must judge the run as it now is (a second lr fix divides the new lr)."""
    lr_before = ctx.lr
    for key, value in overrides.items():
        if key in _CONTEXT_KEYS:
            setattr(ctx, _CONTEXT_KEYS[key], value)
    if "model.init.weight" in overrides:
        spec = overrides["model.init.weight"]
        ctx.init_weight = spec if isinstance(spec, str) else spec.get("name", "auto")
    if "model.init.bias" in overrides:
        spec = overrides["model.init.bias"]
        constant = isinstance(spec, dict) and spec.get("name") == "constant"
        ctx.init_bias_value = float(spec.get("value", 0.0)) if constant else 0.0
    if overrides.get("model.hidden"):
        ctx.narrowest_hidden = min(overrides["model.hidden"])
    options = {k.split(".", 2)[-1]: v for k, v in overrides.items() if k.startswith("model.options.")}
    if options and ctx.wiring:
        # The readings were of the network as first built; what this builder option was checked to
        # remove is gone from the rebuilt one.
        fixed = [p for p, option in (ctx.wiring.get("fixes") or {}).items() if option.items() <= options.items()]
        ctx.wiring = {k: v for k, v in ctx.wiring.items() if k not in fixed}
        if "probabilities" in fixed:   # raw scores now: the loss's floor is 0 again (measures.loss_floor)
            ctx.probability_outputs = False
    augment = {k.rsplit(".", 1)[-1]: v for k, v in overrides.items() if k.startswith("data.augment.")}
    if augment.get("hflip") is False or augment.get("vflip") is False or \
            ("rotation" in augment and augment["rotation"] < ctx.augment.get("rotation", 0)):
        ctx.orientation_undone = True
    if augment:
        # Back in the usual range, which healthy runs show is no cause of failure (see rules.fit._augment_fix).
        ctx.augment, ctx.augment_distortion = {**ctx.augment, **augment}, None
        if "translate" in augment:
            ctx.shift_retention = None
    # The rules size a later lr fix by what the doctor already did to the rate; by its direction,
    # as stuck_at_chance may raise the rate or cut it.
    if ctx.lr > lr_before:
        ctx.lr_raised = True
    elif ctx.lr < lr_before:
        ctx.lr_cuts += 1


def _settled(f: Finding, epoch: int, evidence: dict, sentence: str) -> Finding:
    """A live finding the end of the run no longer bears out, told as an info without fixes."""
    return Finding(f.code, "info", f.epoch, f.step, {**f.evidence, "settled_by_epoch": epoch, **evidence},
                   f.explanation + sentence, [])


def _snapshot(trainer, spare: tuple | None = None) -> tuple[dict, dict]:
    """The run's state, with a copy of the tensors training changes in place (the weights, the
    optimizer's state); the rest are held as they are (see Trainer.live_keys). `spare`: a retired
    snapshot (its keys, its tensors), written over when it has the same keys, and so the same shapes,
    the network being the same (Doctor.on_model_changed drops it): one batched copy instead of a new
    tensor each (a deep batch-norm net with Adam holds 160: 310 us to clone, 60 us to copy)."""
    tensors, meta = trainer.state()
    live = trainer.live_keys(tensors)
    layout = tuple(live)
    out = dict(tensors)
    if spare is not None and spare[0] == layout:
        torch._foreach_copy_([spare[1][k] for k in live], [tensors[k].detach() for k in live])
        out.update((k, spare[1][k]) for k in live)
    else:
        out.update((k, tensors[k].detach().clone()) for k in live)
    meta = _copy_meta(meta)
    meta["layout"] = layout
    return out, meta


def _copy_meta(x):
    """A copy that later training cannot change. Lists of records (the history, the signal
    records) only grow, so their entries are shared rather than copied: a JSON round trip of
    them every epoch cost 9% of a tiny run's time (wine, 40 epochs of 5 ms)."""
    if isinstance(x, dict):
        return {k: _copy_meta(v) for k, v in x.items()}
    if isinstance(x, list):
        return [v if isinstance(v, dict) else _copy_meta(v) for v in x]
    return x


def _early_stopping(trainer):
    """The run's early-stopping callback, if any (the doctor runs before it each epoch)."""
    from ..training.callbacks import EarlyStopping

    return next((cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)), None)


class Doctor(Callback):
    frozen_state = True   # the best epoch's weights: a clone, replaced, never changed in place

    def __init__(self, ctx: rules.Context, signals, log, *, repair: bool = False, allow_architecture: bool = False,
                 max_repairs: int = 3, apply_fix=None):
        self.ctx = ctx
        self.signals = signals
        self.log = log
        self.repair = repair
        self.allow_architecture = allow_architecture
        self.max_repairs = max_repairs
        self.apply_fix = apply_fix          # (trainer, overrides) -> True if applied to the live run
        self.findings: dict[str, Finding] = {}
        # Findings made before training and left as they were (repair off, or a fix not allowed):
        # the same finding made again live, with the same first fix, tells the user nothing new.
        self.told: list[Finding] = []
        self.repairs: list[dict] = []
        self.applied: dict = {}             # every override applied, for the repaired config
        self._good = None                   # the last healthy state
        self._first = None                  # the state training started from
        self._anchors: list = []            # older healthy states, ANCHOR_SPACING epochs apart
        self._spare = None                  # a retired state's tensors, for the next snapshot to write over
        self._best = None                   # (val_loss, model weights) of the best epoch, with repair on
        self.seconds = 0.0                  # time spent examining and repairing
        # What the checks before training found and repaired (api._preflight), kept in the checkpoint
        # so that a resumed run reports them and trains on the repaired config again.
        self.pre: dict = {"findings": [], "repairs": []}

    # ------------------------------------------------------------------ events
    def on_fit_start(self, trainer):
        if self.repair and self._good is None:
            self._good = self._first = self._snap(trainer)

    def on_batch_end(self, trainer, loss):
        # A NaN loss poisons every later step: end the epoch now so the doctor can act on it.
        if self.signals.nonfinite is not None:
            trainer.stop_now = True

    def on_epoch_end(self, trainer, logs):
        started = time.perf_counter()
        try:
            self._on_epoch_end(trainer, logs)
        finally:
            # The rules' own time, reported beside the signals' (run.json doctor_rules_overhead).
            self.seconds += time.perf_counter() - started

    def _on_epoch_end(self, trainer, logs):
        val = logs.get("val_loss")
        if self.repair and val is not None and val == val and (self._best is None or val < self._best[0]):
            # The best weights so far, for a repair that stops at the best epoch (overfitting).
            self._best = (val, {k: v.detach().clone() for k, v in trainer.model.state_dict().items()})
        early = _early_stopping(trainer)
        self.ctx.es_stops_now = bool(early is not None and early.stops_after(logs))
        found = rules.examine(trainer.history, self.signal_dict(), self.ctx,
                              rules.LIVE)
        fresh = [f for f in found if f.code not in self.findings and not self._told(f)]
        for f in fresh:
            self.findings[f.code] = f
            self.log(f"doctor: {f.headline()}")
        broken = any(f.code == "diverged" for f in found) or self.signals.nonfinite is not None
        if self.repair and len(self.repairs) < self.max_repairs:
            for f in ranked(fresh):
                if f.severity == "info":
                    continue  # worth knowing, not worth a rollback
                fix = self._pick_fix(f)
                if fix is not None:
                    self._repair(trainer, f, fix)  # raises Rollback unless the fix needs none
                    return
                self._say_why_not(f)
        elif self.repair:
            for f in ranked(fresh):
                if f.severity != "info":
                    self._say_once("max_repairs", f"doctor: no repair for {f.code}: the run has made its "
                                                  f"{self.max_repairs} repair(s) (doctor.max_repairs)")
        if broken:
            trainer.should_stop = True
            trainer.stop_reason = "the doctor stopped training: it diverged (see findings)"
        elif self.repair and self._healthy(trainer, found):
            self._keep_healthy(self._snap(trainer))

    def _settle_dead_units(self, history) -> None:
        """dying_relu called early whose rule, read again at the end, no longer holds: the live units
        carried the fit (a gas-analysis net on log inputs had 38-42% of two layers dead from the start
        and ended at 6% of the chance loss and 0.956, its reference's score; sixteenth held-out set)."""
        f = self.findings.get("dying_relu")
        if f is None or not f.epoch or f.severity != "warning" or not history:
            return   # an error (over 80% dead) stands: a leaky net with a bias of -3 ended at 0.80 against 0.963
        if rules.examine(history, self.signal_dict(), self.ctx, [rules.dying_relu]):
            return
        last = history[-1]
        loss = last.get("train_loss")
        chance = rules.chance_loss(self.ctx)
        if not isinstance(loss, (int, float)) or not chance or loss - rules.loss_shift(self.ctx) > self.DEAD_SETTLED * chance:
            return
        epoch = last.get("epoch", len(history))
        self.findings["dying_relu"] = _settled(f, epoch, {"train_loss_at_end": loss},
                                               f" It cost nothing in the end: by epoch {epoch} the training loss was "
                                               f"{loss:.3g}, and the live units carry the fit.")

    def _told(self, finding: Finding) -> bool:
        first = finding.fixes[0].overrides if finding.fixes else None
        return any(t.code == finding.code and t.fixes and t.fixes[0].overrides == first for t in self.told)

    def on_fit_end(self, trainer):
        for r in self.repairs:
            if r.get("after") is None:
                r["after"] = self._after(trainer, r)
        self._settle(trainer.history)

    # A stall called while training that the run left by itself: a GRU read step by step sat at
    # chance for 9 epochs and then went to 0.004 and 1.000 (sixteenth held-out set), and its
    # stuck_at_chance, an error at epoch 3, stayed in findings.json. What is still wrong at the end
    # is what findings.json holds; a stall the losses have since fallen to under half of is told as
    # what it was, an info.
    SETTLED = ("stuck_at_chance", "underfitting")
    DEAD_SETTLED = 0.1   # dead units cost nothing when the loss ends this low (that gas net: 6% of chance)
    LEFT_BEHIND = 0.5

    def _settle(self, history) -> None:
        self._settle_dead_units(history)
        last = history[-1] if history else {}
        shift = rules.loss_shift(self.ctx)
        now = {k: last.get(k) - shift for k in ("train_loss", "val_loss") if isinstance(last.get(k), (int, float))
               and last.get(k) == last.get(k)}
        if "train_loss" not in now:
            return
        for code, f in list(self.findings.items()):
            if code not in self.SETTLED or not f.epoch or f.severity == "info":
                continue
            ev = f.evidence
            then = {"train_loss": ev.get("train_loss", (ev.get("train_loss_last_3") or [None])[-1]),
                    "val_loss": ev.get("val_loss")}
            if not isinstance(then["train_loss"], (int, float)) or then["train_loss"] <= 0:
                continue
            then["val_loss"] = then["val_loss"] if isinstance(then["val_loss"], (int, float)) else then["train_loss"]
            # the evidence holds losses as the rules read them, above the label-smoothing floor already
            if any(now[k] >= self.LEFT_BEHIND * then[k] for k in now):
                continue
            epoch = last.get("epoch", len(history))
            shown = ", ".join(f"{k.replace('_', ' ')} {then[k]:.3g} -> {now[k]:.3g}" for k in now)
            self.findings[code] = _settled(
                f, epoch, {**{f"{k}_at_end": round(v, 5) for k, v in now.items()}, "limit_settled": self.LEFT_BEHIND},
                f" It did not last: by epoch {epoch} the run had left it by itself ({shown}). A network can sit still "
                f"for several epochs before it finds the signal (a recurrent one on long sequences often does); "
                f"nothing needed changing.")

    # ------------------------------------------------------------------ repair
    def _healthy(self, trainer, found) -> bool:
        """A state worth rolling back to: no error-level finding, and a training loss no worse
        than where training started (or than a model ignoring its inputs)."""
        if any(f.severity == "error" for f in found):
            return False
        loss = trainer.history[-1].get("train_loss") if trainer.history else None
        if loss is None or loss != loss:
            return False
        # Losses above the floor label smoothing sets, as the rules read them (rules.examine).
        shift = rules.loss_shift(self.ctx)
        loss -= shift
        chance = rules.chance_loss(self.ctx)
        first = trainer.history[0].get("train_loss")
        ceilings = [v for v in (chance, None if first is None else first - shift) if v]
        if chance and any(h.get("train_loss", 0) - shift > 3 * chance for h in trainer.history[self.ctx.judged_from:]):
            # An epoch of this stretch blew up (a mean loss 3x a model ignoring its inputs): the
            # weights it left are inflated even when the loss comes back near chance (a transformer
            # at AdamW 2.0: 15.9, then 1.07 with every later rate stuck at chance from there).
            return False
        return not ceilings or loss <= 1.5 * min(ceilings)

    def _keep_healthy(self, snapshot) -> None:
        old, self._good = self._good, snapshot
        # Kept by reference, not copied: a snapshot is never changed while the doctor may roll back
        # to it. One that no longer can (not the start, not an anchor) lends its tensors to the next.
        epoch = snapshot[1]["pos"]["epoch"]
        if not self._anchors or epoch - self._anchors[-1][1]["pos"]["epoch"] >= ANCHOR_SPACING:
            self._anchors = (self._anchors + [snapshot])[-2:]
        if old is not None and old is not self._first and all(old is not a for a in self._anchors):
            self._spare = (old[1].get("layout"), old[0])

    def _rollback_target(self, finding: Finding):
        """Back to the last healthy state from before the problem began: a state after its onset
        already carries the damage (heavy L2 in the suite: weights shrunk to near zero, and from
        there the repaired run ended 2-3 points short in its remaining epochs). The latest such
        state, not the start: an LSTM whose loss jumped at epochs 12 and 15 went back to epoch 3
        and trained its 8 good epochs again. Slow progress leaves the weights sound, though: there
        the latest healthy state is kept."""
        if finding.code in SLOW_NOT_DAMAGED or not finding.epoch or self._first is None:
            return self._good
        older = [] if finding.code in PROBED else list(reversed(self._anchors))
        return next((s for s in [self._good, *older] if s[1]["pos"]["epoch"] < finding.epoch), self._first)

    def _say_why_not(self, finding: Finding) -> None:
        """A warning or error left unrepaired with repair on: say why, once per reason."""
        if any(fix.architecture for fix in finding.fixes) and not self.allow_architecture:
            self._say_once("architecture", f"doctor: no repair for {finding.code}: its fixes change the network; "
                                           f"allow them with doctor.allow_architecture_changes: true")

    def _say_once(self, reason: str, line: str) -> None:
        said = vars(self).setdefault("_said", set())
        if reason not in said:
            said.add(reason)
            self.log(line)

    def _pick_fix(self, finding: Finding):
        from .repair import can_apply

        changes = getattr(self.apply_fix, "changes", None)
        usable = [fix for fix in finding.fixes
                  if (self.allow_architecture or not fix.architecture)
                  # anything else needs a new run (e.g. more epochs): a rollback would only lose time
                  and can_apply(fix.overrides, self.allow_architecture)
                  and (changes is None or changes(fix.overrides))]
        # The same problem back after a fix: escalate to the next kind of fix instead of repeating one
        # that did not hold (a second lr change is still fine when it is the only kind on offer).
        tried = [set(r["overrides"]) for r in self.repairs if r["code"] == finding.code]
        fresh = [fix for fix in usable if fix.repeatable or set(fix.overrides) not in tried]
        return (fresh or usable or [None])[0]

    def _repair(self, trainer, finding: Finding, fix) -> None:
        # The finding goes with its repair: once repaired it is not in findings.json (that holds what
        # is still wrong at the end), and diagnose must still say what was wrong and why.
        record = {"epoch": len(trainer.history), "code": finding.code, "severity": finding.severity,
                  "onset_epoch": finding.epoch, "explanation": finding.explanation, "overrides": fix.overrides,
                  "reason": fix.reason, "before": finding.evidence, "after": None}
        stop_fix = "training.early_stopping.restore_best" in fix.overrides
        if stop_fix:
            # Nothing to roll back: keep the best weights seen and stop here.
            if self._best is not None:
                trainer.model.load_state_dict(self._best[1])
            trainer.should_stop = True
            trainer.stop_reason = f"the doctor stopped training at the best epoch ({finding.epoch}): overfitting"
            record["action"] = "stop and restore the best weights"
            self.repairs.append(record)
            self.applied.update(fix.overrides)
            self.log(f"doctor: repair {finding.code}: {record['action']}")
            return
        if "training.early_stopping.patience" in fix.overrides:
            # Nothing to roll back: the run goes on from here, with the patience it needed.
            early = _early_stopping(trainer)
            if early is None:
                return
            early.patience, early.wait = int(fix.overrides["training.early_stopping.patience"]), 0
            self.ctx.es_patience, self.ctx.es_stops_now = early.patience, False
            record["action"] = f"kept training: early stopping's patience raised to {early.patience}"
            record["resumed_at_epoch"] = trainer.pos.epoch
            # Repaired: not in findings.json, and the rules may name underfitting again later.
            self.findings.pop(finding.code, None)
            self.repairs.append(record)
            self.applied.update(fix.overrides)
            self.log(f"doctor: repair {finding.code}: {record['action']}")
            return
        if self._good is None:
            return
        doctor = self
        # Rolling back restores every callback's state, this one's too; the doctor's own memory
        # (what it found, what it repaired) must survive the rollback.
        kept = (dict(self.findings), self.repairs, dict(self.applied))

        def after_rollback(t):
            # Findings whose onset the rollback undid described a run that no longer exists: they
            # may fire (and be repaired) afresh (an lr_too_high seen beside the exploding gradients
            # repaired first was otherwise never acted on).
            doctor.findings = {c: f for c, f in kept[0].items() if (f.epoch or 0) <= t.pos.epoch}
            doctor.repairs, doctor.applied = kept[1], dict(kept[2])
            network = t.model
            if doctor.apply_fix is None or not doctor.apply_fix(t, fix.overrides):
                record["action"] = "could not be applied to the running model"
                return
            record["action"] = f"rolled back to epoch {t.pos.epoch}, applied {fix.overrides}"
            rebuilt = t.model is not network
            if rebuilt:
                record["action"] += " (rebuilt the network)"
            _update_context(doctor.ctx, fix.overrides)
            doctor.ctx.judged_from = t.pos.epoch  # the rules judge the run from the repair on
            record["resumed_at_epoch"] = t.pos.epoch
            doctor.applied.update(fix.overrides)
            doctor.signals.nonfinite = None
            doctor.signals.records = [r for r in doctor.signals.records if r["epoch"] <= t.pos.epoch]
            # A repaired problem may be judged again on the new run.
            doctor.findings.pop(finding.code, None)
            doctor.log(f"doctor: repair {finding.code}: {record['action']} ({fix.reason})")
            t._emit("on_repair")
            # The repaired run starts here: a later problem rolls back no further than this (and
            # never onto the old network's weights after a rebuild).
            doctor._good = doctor._first = doctor._snap(t)
            doctor._anchors = []
            if rebuilt:
                doctor._best = None

        self.repairs.append(record)
        tensors, meta = self._rollback_target(finding)
        raise Rollback(tensors, meta, after_rollback)

    def on_model_changed(self, trainer):
        self._spare = None   # the old network's shapes

    def on_loss_changed(self, trainer):
        self._best = None  # a validation loss on the old loss's scale

    def _after(self, trainer, repair: dict) -> dict:
        start = repair.get("resumed_at_epoch", repair["epoch"])
        later = trainer.history[start:]
        out = {"epochs_after": len(later), "recurred": repair["code"] in self.findings}
        for key in ("train_loss", "val_loss", "val_accuracy"):
            vals = [h[key] for h in later if key in h]
            if vals:
                out[f"{key}_first"], out[f"{key}_last"] = vals[0], vals[-1]
        return out

    # ------------------------------------------------------------------ out
    def signal_dict(self) -> dict:
        return {"records": self.signals.records, "nonfinite": self.signals.nonfinite,
                "initial_probe": self.signals.initial_probe}

    def all_findings(self) -> list[Finding]:
        return ranked(list(self.findings.values()))

    def _snap(self, trainer):
        """A snapshot to roll back to, without the best epoch's weights (those go in checkpoints only:
        a rollback keeps the doctor's own record of the best epoch, and after a rebuild an older
        network's weights must never come back)."""
        self._snapshotting = True
        spare, self._spare = self._spare, None
        try:
            return _snapshot(trainer, spare)
        finally:
            self._snapshotting = False

    def state_dict(self):
        # The best epoch's weights too, in a checkpoint: a repair that stops at the best epoch after
        # a resume must restore them, not the best of the epochs since the resume.
        keep = self._best is not None and not getattr(self, "_snapshotting", False)
        best = {f"best.{k}": v for k, v in self._best[1].items()} if keep else {}
        return {"findings": [f.to_dict() for f in self.findings.values()], "repairs": self.repairs,
                "applied": self.applied, "pre": self.pre,
                "best_val_loss": self._best[0] if keep else None}, best

    def load_state_dict(self, meta, tensors):
        if meta:
            self.findings = {d["code"]: Finding.from_dict(d) for d in meta.get("findings", [])}
            self.repairs = meta.get("repairs", [])
            self.applied = meta.get("applied", {})
            self.pre = meta.get("pre") or {"findings": [], "repairs": []}
            best = {k[len("best."):]: v for k, v in (tensors or {}).items() if k.startswith("best.")}
            if meta.get("best_val_loss") is not None and best and self._first is None:   # a resume, not a rollback
                self._best = (meta["best_val_loss"], best)
