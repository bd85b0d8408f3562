"""The one place that wires the stages into a run: config -> data -> model -> loop -> metrics -> run dir.

The CLI is a thin layer over these functions: every command is one call here.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from . import runs
from .config import Config, dump_config, load_config
from .errors import TrainingInterrupted, UserError


# ----------------------------------------------------------------------------- helpers
def resolve_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise UserError(f"training.device: {name!r} is not a device; valid: auto, cpu, cuda, cuda:N, mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError("training.device: cuda was asked for but no CUDA device is visible; use auto or cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError("training.device: mps was asked for but is not available; use auto or cpu")
    return device


def _resolve_paths(cfg: Config, config_path: Path | None) -> Config:
    """Data paths are taken relative to the working directory, else to the config file's folder."""
    updates = {}
    for key in ("source", "val", "test"):
        value = getattr(cfg.data, key)
        if not value or value.startswith("builtin:"):
            continue
        p = Path(value)
        if not p.is_absolute() and not p.exists() and config_path is not None:
            beside = config_path.parent / p
            if beside.exists():
                p = beside
        updates[key] = str(p.resolve()) if p.exists() else value
    if updates:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update=updates)})
    return cfg


def _seed_all(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _plan(cfg: Config, spec, labels=None) -> dict:
    """Decisions that follow from config + data and must be identical when the run is reloaded.
    labels (the validation split's, when training): per-epoch balanced accuracy where its classes are
    4:1 or more apart, since accuracy alone then hides a class the model ignores."""
    from . import metrics
    from .training import losses

    loss_name = losses.resolve_name(cfg.loss.name, spec.task)
    n_classes = len(spec.classes) if spec.classes else None
    names = metrics.default_names(spec.task) if cfg.metrics.names == "auto" else list(cfg.metrics.names)
    per_epoch = metrics.default_per_epoch(spec.task) if cfg.metrics.per_epoch == "auto" else list(cfg.metrics.per_epoch)
    if cfg.metrics.per_epoch == "auto" and labels is not None and metrics.imbalanced(spec.task, labels):
        per_epoch.append("balanced_accuracy")
    metrics.check_names(names, spec.task, "metrics.names")
    metrics.check_names(per_epoch, spec.task, "metrics.per_epoch")
    monitor = cfg.training.early_stopping.monitor
    if monitor != "val_loss":
        metrics.check_names([monitor[4:]], spec.task, "training.early_stopping.monitor", prefix="val_")
        if monitor[4:] not in per_epoch:
            per_epoch.append(monitor[4:])
    return {"task": spec.task, "loss": loss_name,
            "n_out": losses.output_size(loss_name, spec.task, n_classes, spec.n_outputs),
            "metrics": names, "per_epoch": per_epoch}


def _to_tensors(split, device):
    import torch

    from .training.loop import TensorData

    return TensorData(torch.as_tensor(split.x, device=device), torch.as_tensor(split.y, device=device))


def _outputs(model, x, plan, batch: int = 8192):
    """Forward in chunks, eval mode, no grad; returns raw outputs."""
    import torch

    model.eval()
    with torch.no_grad():
        outs = [model(x[i:i + batch]) for i in range(0, x.shape[0], batch)]
    return torch.cat(outs) if outs else x.new_zeros((0, plan["n_out"]))


def _score(model, data, plan, state, loss_fn, names, per_epoch: bool = False, baseline=None) -> dict:
    """Loss and metrics on one split. Regression metrics are in the target's own units; with a
    baseline (a naive forecast, same units), its scores and the model's skill over it too."""
    import numpy as np

    from . import metrics
    from .data import inverse_target
    from .training.losses import to_output

    raw = _outputs(model, data.x, plan)
    result = {"loss": float(loss_fn(raw, data.y))} if loss_fn is not None else {}
    out = to_output(plan["loss"], plan["task"], raw).float().cpu().numpy()
    y = data.y.cpu().numpy()
    if plan["task"] == "regression":
        out, y = inverse_target(state, out), inverse_target(state, y)
    bad = int(out.size - np.isfinite(out).sum())
    if bad:
        # A diverged model outputs NaN; no metric means anything then, and sklearn would refuse.
        result.update({n: None for n in names}, nonfinite_outputs=bad)
        return result
    result.update((metrics.compute_per_epoch if per_epoch else metrics.compute)(names, plan["task"], y, out))
    if per_epoch and "balanced_accuracy" in names and out.ndim == 2 and out.shape[1] > 1:
        # for the doctor's class_imbalance rule: a rare class given up on hides in the means
        result["rare_recall"], result["others_recall"] = metrics.smallest_class_recall(y, out)
    if per_epoch and plan["task"] == "multiclass":
        # for the doctor's augment_mirrors_classes rule: two classes the model can only toss a coin between
        pair = metrics.tossed_pair(y, out)
        if pair is not None:
            result["pair_a"], result["pair_b"], result["pair_toss"], result["pair_mass"] = pair
    if baseline is not None:
        base = metrics.compute(["mae", "rmse"], "regression", y, baseline)
        result.update({f"persistence_{k}": v for k, v in base.items()})
        # Skill: the share of the naive forecast's error the model removes (1 = perfect, 0 = no better).
        result["skill_mae"] = 1 - result["mae"] / base["mae"] if base["mae"] else float("nan")
        result["skill_rmse"] = 1 - result["rmse"] / base["rmse"] if base["rmse"] else float("nan")
    return result


def _clean_float(v):
    import math

    return None if isinstance(v, float) and not math.isfinite(v) else v


# ----------------------------------------------------------------------------- train
def train(config: str | Path | dict | Config = None, overrides: dict[str, Any] | list[str] | None = None, *,
          out: str | Path | None = None, resume: str | Path | None = None, quiet: bool = True,
          progress: bool | None = None, callbacks: list | None = None, data_hook=None) -> "Run":
    """Train from a YAML path, a dict or a Config; or continue an interrupted run with resume=RUN_DIR.

    callbacks: extra training.loop.Callback objects, called after the built-in ones (a tuning trial
    reports each epoch's value through one and stops a pruned trial). data_hook: Prepared -> Prepared,
    applied to the prepared data before training (bootstrap samples for bagging, CV folds).

    Returns the Run. Raises UserError for bad input and TrainingInterrupted on Ctrl-C or SIGTERM
    (after the state is on disk).
    """
    import torch

    from . import data as data_mod
    from .data.augment import build_augment
    from .models import build, count_parameters, has_batch_norm
    from .models.transfer import freeze, load_pretrained
    from .training import callbacks as cbs
    from .training import checkpoint
    from .training.loop import Trainer
    from .training.losses import build as build_loss
    from .training.optim import Schedule, build_optimizer

    log = runs.Log(quiet=quiet)
    callbacks_extra = list(callbacks or [])  # the name `callbacks` is reused below for the full list
    if resume is not None:
        run_dir = Path(resume)
        runs.refuse_ensemble_resume(run_dir)
        if not (run_dir / "checkpoints" / "last.safetensors").is_file():
            if (run_dir / "model.safetensors").is_file():
                raise UserError(f"--resume {str(run_dir)!r}: the run finished; there is nothing to resume "
                                f"(evaluate, predict or export it)")
            if (run_dir / "config.yaml").is_file():
                raise UserError(f"--resume {str(run_dir)!r}: {runs.never_checkpointed(run_dir)}")
            raise UserError(f"--resume {str(run_dir)!r}: no checkpoint to resume from "
                            f"(expected {run_dir / 'checkpoints' / 'last.safetensors'})")
        if _completed(run_dir):
            # its last checkpoint is kept, but training again from it would append epochs to a
            # finished history (an early-stopped run trained one more) and rewrite its results
            raise UserError(f"--resume {str(run_dir)!r}: the run finished; there is nothing to resume "
                            f"(evaluate, predict or export it)")
        if overrides:
            raise UserError("--set cannot be combined with --resume: a resumed run keeps its config")
        cfg = _saved_config(run_dir / "config.yaml")
        cfg = _with_repairs(cfg, run_dir)
    else:
        if config is None:
            raise UserError("train needs a config: a YAML path, a dict or a Config")
        cfg = load_config(config, overrides)
        cfg = _resolve_paths(cfg, Path(config) if isinstance(config, (str, Path)) else None)

    device = resolve_device(cfg.training.device)
    if cfg.training.threads:
        torch.set_num_threads(cfg.training.threads)
    lr_choice = None
    if cfg.optimizer.lr == "auto":
        from .doctor.lr_finder import lr_auto

        lr, why = lr_auto(cfg)
        lr_choice = {"lr": lr, "reason": why}
        cfg = load_config(cfg, {"optimizer.lr": lr})
        log(f"optimizer.lr: auto -> {lr:.3g} ({why})")
    from .loggers import check as check_loggers

    extra_logs = check_loggers(cfg)  # a logger asked for but not installed: refused before any file is written
    _seed_all(cfg.seed)
    prepared = data_mod.prepare(cfg.data, cfg.seed, cfg.model.type)
    spec = prepared.spec
    if cfg.model.type == "gan":
        run_dir = _open_run_dir(cfg, prepared, out, resume, log)
        return _train_gan(cfg, prepared, run_dir, log, device, quiet, progress, resume is not None)
    plan = _plan(cfg, spec, (prepared.val if prepared.val is not None else prepared.train).y)
    pre_findings, pre_repairs = [], []
    if cfg.doctor.enabled:
        cfg, prepared, plan, pre_findings, pre_repairs = _preflight(cfg, prepared, plan, log, resume is not None)
        spec = prepared.spec
    if data_hook is not None:
        prepared = data_hook(prepared)
    n_train = len(prepared.train.x)
    bs = n_train if cfg.training.batch_size == "full" else cfg.training.batch_size

    # Everything that can fail on bad input happens before the run directory exists, so a
    # rejected config leaves nothing behind.
    model = build(cfg.model, spec, plan["n_out"], seed=cfg.seed)
    if has_batch_norm(model) and bs < 2:
        raise UserError("training.batch_size: batch norm needs batches of at least 2 rows; "
                        "use batch_size >= 2 or turn batch norm off in the model")
    for note in getattr(model, "notes", []):
        log(f"model: {note}")
    transfer = load_pretrained(model, cfg.model) if cfg.model.init_from and resume is None else None
    frozen = freeze(model, cfg.model.freeze)
    model = model.to(device)
    loss_fn = build_loss(cfg.loss, spec.task, len(spec.classes) if spec.classes else None,
                         prepared.class_weights, device, classes=spec.classes)
    optimizer = build_optimizer(cfg.optimizer, model)
    augment = build_augment(cfg.data.augment, spec)

    run_dir = _open_run_dir(cfg, prepared, out, resume, log)
    if transfer:
        log(f"transfer: {transfer}")
    if frozen:
        log(f"transfer: froze {frozen:,} parameters ({cfg.model.freeze})")
    train_t = _to_tensors(prepared.train, device)
    val_t = _to_tensors(prepared.val, device) if prepared.val is not None else None

    def evaluate(m):
        if val_t is None:
            return {}
        # The trainer's loss, which a repair may have rebuilt (class weights, Huber's delta), so the
        # validation loss stays on the training loss's scale.
        scores = _score(m, val_t, plan, prepared.state, trainer.loss_fn, plan["per_epoch"], per_epoch=True)
        return {f"val_{k}": v for k, v in scores.items()}

    count_correct = None
    if spec.task != "regression":
        if plan["loss"] == "bce":
            count_correct = lambda out, y: ((out[:, 0] > 0).long() == y).sum()
        else:
            count_correct = lambda out, y: (out.argmax(1) == y).sum()

    es_cfg = cfg.training.early_stopping
    monitor = es_cfg.monitor if val_t is not None else "train_loss"
    callbacks: list = []
    doctor = signals = None
    if cfg.doctor.enabled:
        from .doctor.context import build_context
        from .doctor.live import Doctor
        from .doctor.repair import make_fixer
        from .doctor.signals import Signals

        probe_rows = torch.randperm(len(train_t), generator=torch.Generator().manual_seed(cfg.seed))
        signals = Signals(model, train_t.x[probe_rows[:cfg.doctor.probe_size].to(device)], cfg.doctor.budget)
        cfg_holder = {"cfg": cfg}
        rebuild_model = (lambda c: build(c.model, spec, plan["n_out"], seed=c.seed).to(device)) \
            if cfg.doctor.allow_architecture_changes and not cfg.model.init_from else None
        # The loss again, for a fix to class weights or to Huber's delta (a regression has no classes).
        rebuild = lambda c: build_loss(c.loss, spec.task, len(spec.classes) if spec.classes else None,
                                       _class_weights(prepared) if c.data.imbalance == "class_weights"
                                       else prepared.class_weights, device, classes=spec.classes)
        doctor = Doctor(build_context(cfg, prepared, plan), signals, log, repair=cfg.doctor.repair,
                        allow_architecture=cfg.doctor.allow_architecture_changes,
                        max_repairs=cfg.doctor.max_repairs,
                        apply_fix=make_fixer(cfg_holder, rebuild, log, rebuild_model=rebuild_model,
                                             rebuild_augment=lambda c: build_augment(c.data.augment, spec)))
        doctor.told = list(pre_findings)
        doctor.pre = {"findings": [f.to_dict() for f in pre_findings], "repairs": pre_repairs}
        callbacks += [signals, doctor]
    callbacks.append(cbs.HistoryWriter(run_dir / "history.jsonl"))
    early = None
    if es_cfg.enabled and val_t is not None:
        early = cbs.EarlyStopping(es_cfg.monitor, es_cfg.mode, es_cfg.patience, es_cfg.min_delta, es_cfg.restore_best)
        callbacks.append(early)
    ckpt = cbs.Checkpoint(run_dir / "checkpoints", monitor, es_cfg.mode, cfg.training.checkpoint_interval)
    callbacks.append(ckpt)
    show = (not quiet) if progress is None else progress
    bar = cbs.Progress(cfg.training.epochs, ["train_loss", "val_loss"] + [f"val_{m}" for m in plan["per_epoch"]]) \
        if show else None
    if bar:
        callbacks.append(bar)
    callbacks += list(callbacks_extra)
    if extra_logs is not None:
        callbacks.append(extra_logs.attach(run_dir))

    generator = torch.Generator().manual_seed(cfg.seed + 1)
    trainer = Trainer(
        model=model, optimizer=optimizer, loss_fn=loss_fn,
        schedule=Schedule(cfg.schedule),
        train=train_t, epochs=cfg.training.epochs, batch_size=bs, evaluate=evaluate,
        count_correct=count_correct, shuffle=cfg.training.shuffle, l1=cfg.regularization.l1,
        clip_grad_norm=cfg.regularization.clip_grad_norm, clip_grad_value=cfg.regularization.clip_grad_value,
        generator=generator, callbacks=callbacks, checkpoint=ckpt, augment=augment)

    info = {"status": "running", "task": spec.task, "loss": plan["loss"], "n_out": plan["n_out"],
            "metrics": plan["metrics"], "per_epoch": plan["per_epoch"], "device": str(device),
            "parameters": count_parameters(model), "torch": torch.__version__, "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "pid": os.getpid()}
    if lr_choice:
        info["lr_auto"] = lr_choice
    if resume is not None:
        tensors, meta = checkpoint.unpack(run_dir / "checkpoints" / "last.safetensors")
        trainer.load_state(tensors, meta)
        if doctor is not None and (doctor.pre["findings"] or doctor.pre["repairs"]):
            from .doctor.findings import Finding

            pre_findings = [Finding.from_dict(d) for d in doctor.pre["findings"]]
            pre_repairs = list(doctor.pre["repairs"])
            doctor.told = list(pre_findings)
        info = {**runs.read_json(run_dir / "run.json"), "status": "running", "pid": os.getpid()}
        log(f"resuming at epoch {trainer.pos.epoch + 1}, batch {trainer.pos.batch}")
    runs.write_json(run_dir / "run.json", info)
    runs.indexed(run_dir, log)
    shape = cfg.model.model_dump(exclude={"type", "init", "init_from", "freeze", "new_head"})
    log(f"model: {cfg.model.type} {shape} ({info['parameters']:,} parameters), loss {plan['loss']}, "
        f"optimizer {cfg.optimizer.name} lr {cfg.optimizer.lr:g}, device {device}")

    started = time.perf_counter()
    try:
        trainer.fit()
    except TrainingInterrupted as exc:
        if bar:
            bar.close()
        info.update(status="interrupted", seconds=info.get("seconds", 0) + time.perf_counter() - started,
                    epochs_trained=info.get("epochs_trained", 0) + trainer.epochs_trained)
        runs.write_json(run_dir / "run.json", info)
        runs.indexed(run_dir, log)
        if doctor is not None:
            _write_findings_so_far(run_dir, pre_findings + doctor.all_findings(), pre_repairs + doctor.repairs, log)
        log(f"interrupted at epoch {trainer.pos.epoch + 1}; state saved")
        raise TrainingInterrupted(str(run_dir), exc.signum) from None
    except BaseException as exc:  # a crash or a bug: say so in run.json and the index, then re-raise
        info.update(status="interrupted" if isinstance(exc, KeyboardInterrupt) else "failed",
                    error=f"{type(exc).__name__}: {exc}",
                    seconds=info.get("seconds", 0) + time.perf_counter() - started,
                    epochs_trained=info.get("epochs_trained", 0) + trainer.epochs_trained)
        runs.write_json(run_dir / "run.json", info)
        runs.indexed(run_dir, log)
        raise
    finally:
        if bar:
            bar.close()
    elapsed = time.perf_counter() - started
    log(f"stopped: {trainer.stop_reason}")

    from .training.checkpoint import save_weights

    model = trainer.model  # an architecture repair may have replaced the network
    save_weights(run_dir / "model.safetensors", model.state_dict())
    results = {}
    for split_name, split in (("val", val_t), ("test", prepared.test)):
        if split is None:
            continue
        tensors = split if split_name == "val" else _to_tensors(split, device)
        baseline = (prepared.baselines or {}).get(split_name)
        scores = _score(model, tensors, plan, prepared.state, None, plan["metrics"], baseline=baseline)
        results[split_name] = {k: _clean_float(v) for k, v in scores.items()}
    runs.write_json(run_dir / "metrics.json", results)
    findings = pre_findings + (doctor.all_findings() if doctor else [])
    repairs = pre_repairs + (doctor.repairs if doctor else [])
    if doctor is not None:
        from .doctor.baseline import annotate

        annotate(findings, repairs, prepared)
    runs.write_json(run_dir / "findings.json", [f.to_dict() for f in findings])
    if repairs:
        runs.write_json(run_dir / "repairs.json", repairs)
        applied = {k: v for r in repairs if r.get("action") and "could not" not in r["action"]
                   for k, v in r["overrides"].items()}
        # Repair off: it is the config to train again as repaired, and with repair on it would
        # repair again, from the fixed settings.
        (run_dir / "config.repaired.yaml").write_text(dump_config(load_config(cfg, {**applied, "doctor.repair": False})))
    if signals is not None:
        runs.write_json(run_dir / "signals.json", {"records": signals.records, "nonfinite": signals.nonfinite,
                                                   "initial_probe": signals.initial_probe})
        info["doctor_overhead"] = round(signals.overhead(), 4)
        if doctor is not None and elapsed > 0:
            info["doctor_rules_overhead"] = round(doctor.seconds / elapsed, 4)
    best = early.monitor if early else ckpt.monitor
    info.update(status="completed", seconds=round(info.get("seconds", 0) + elapsed, 3),
                finished=time.strftime("%Y-%m-%dT%H:%M:%S"), stop_reason=trainer.stop_reason,
                epochs_run=len(trainer.history), best_epoch=best.best_epoch,
                epochs_trained=info.get("epochs_trained", 0) + trainer.epochs_trained,
                best={best.key: best.best} if best.best is not None else {})
    runs.write_json(run_dir / "run.json", info)
    if cfg.doctor.enabled:
        _summarise(log, findings, repairs, run_dir)
    for split_name, scores in results.items():
        shown = {k: v for k, v in scores.items() if k != "confusion_matrix"}
        log(f"{split_name}: " + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                         for k, v in shown.items()))
    runs.indexed(run_dir, log)
    if cfg.logging.report:
        runs.write_report(run_dir, log)
    if extra_logs is not None:
        extra_logs.finish()
    return Run(run_dir)


def _write_findings_so_far(run_dir: Path, findings: list, repairs: list, log) -> None:
    """On Ctrl-C or SIGTERM: what the doctor had found until then, so `trainwell diagnose` can show
    it (it was written only at the end). A resumed run writes the full set over it when it ends.
    No linear yardstick here (the end adds it): an interrupt should not wait on a fit."""
    try:
        runs.write_json(run_dir / "findings.json", [f.to_dict() for f in findings])
        if repairs:
            runs.write_json(run_dir / "repairs.json", repairs)
    except Exception as exc:  # noqa: BLE001 - the state is saved; the interrupt must still end as one
        log(f"doctor: the findings so far were not written ({type(exc).__name__}: {exc})")


def _with_repairs(cfg: Config, run_dir: Path) -> Config:
    """A run the doctor repaired resumes as repaired: the rebuilt network (so its weights load),
    and the schedule, loss, augmentation and rates the repairs chose, not config.yaml's."""
    from .doctor.repair import ARCH_KEYS, LIVE_KEYS
    from .training import checkpoint

    _, meta = checkpoint.unpack(run_dir / "checkpoints" / "last.safetensors", tensors=False)
    keys = ARCH_KEYS | LIVE_KEYS
    applied = {}
    for cb in (meta.get("callbacks") or {}).values():
        applied.update({k: v for k, v in (cb.get("applied") or {}).items() if k in keys})
    return load_config(cfg, applied) if applied else cfg


def _class_weights(prepared) -> list[float]:
    """Balanced class weights from the training labels, for a repair that turns them on."""
    import numpy as np

    counts = np.bincount(prepared.train.y.astype("int64"), minlength=len(prepared.spec.classes)).astype(float)
    return [float(counts.sum() / (len(counts) * c)) if c else 1.0 for c in counts]


def _preflight(cfg, prepared, plan, log, resuming):
    """Pre-training findings (bad inputs, unscaled features, a run of too few steps); with repair
    on, fix the data or the plan first."""
    from . import data as data_mod
    from .doctor import rules
    from .doctor.context import build_context

    from .doctor.lint import lint
    from .doctor.report import set_flags

    for w in lint(cfg, prepared, plan):
        fix = set_flags(w["fix"])
        log(f"lint: {w['key']}: {w['message']}" + (f" (fix: {fix})" if fix else ""))
    found = rules.examine([], {}, build_context(cfg, prepared, plan), rules.PRE_TRAINING)
    for f in found:
        log(f"doctor: {f.headline()}")
    repairs = []
    if cfg.doctor.repair and not resuming:
        allowed = cfg.doctor.allow_architecture_changes
        # Info findings are advice, as in the live doctor: worth knowing, not worth changing the run for.
        chosen = [(f, next((x for x in f.fixes if allowed or not x.architecture), None)) for f in found
                  if f.severity != "info"]
        for f, x in chosen:
            if x is None and any(fix.architecture for fix in f.fixes):
                log(f"doctor: no repair for {f.code} before training: its fixes change the network; allow them "
                    f"with doctor.allow_architecture_changes: true")
        chosen = [(f, x) for f, x in chosen if x is not None]
        overrides = {k: v for _, x in chosen for k, v in x.overrides.items()}
        if overrides:
            try:
                fixed = load_config(cfg, overrides)
                refit = data_mod.prepare(fixed.data, fixed.seed, fixed.model.type) \
                    if any(k.startswith("data.") for k in overrides) else prepared
                # The classes may change with the data (spellings of one label merged): the plan too.
                replanned = plan if refit is prepared else \
                    _plan(fixed, refit.spec, (refit.val if refit.val is not None else refit.train).y)
            except UserError as exc:  # the data cannot take the fix (a window longer than the series allows)
                log(f"doctor: the fixes {overrides} cannot be applied to this data ({str(exc).splitlines()[0]}); "
                    f"training as configured")
                chosen, overrides = [], {}
            else:
                cfg, prepared, plan = fixed, refit, replanned
            for f, x in chosen:
                fix = x.overrides
                action = ("fixed the data before training" if all(k.startswith("data.") for k in fix)
                          else f"set {fix} before training")
                repairs.append({"epoch": 0, "code": f.code, "severity": f.severity, "onset_epoch": 0,
                                "explanation": f.explanation, "overrides": fix, "reason": x.reason,
                                "before": f.evidence, "action": action, "after": None})
                log(f"doctor: repair {f.code} before training: {fix}")
            after = rules.examine([], {}, build_context(cfg, prepared, plan), rules.PRE_TRAINING)
            for r in repairs:
                # The same rule again (its evidence has the same keys), not another under the same
                # code (frozen layers and 1x1 kernels are both underfitting).
                r["after"] = {"recurred": any(a.code == r["code"] and set(a.evidence) == set(r["before"])
                                              for a in after)}
            # As with live repairs, findings.json holds what is still wrong; repairs.json the rest.
            found = after
    return cfg, prepared, plan, found, repairs


def _summarise(log, findings, repairs, run_dir) -> None:
    if not findings and not repairs:
        log("doctor: healthy; no findings")
        return
    if findings:
        from .doctor.report import ORDER

        log(f"doctor: {len(findings)} finding(s): {ORDER}; details: trainwell diagnose {run_dir}")
    else:
        log(f"doctor: nothing left wrong at the end, after {len(repairs)} repair(s); details: "
            f"trainwell diagnose {run_dir}")
    for f in findings:
        log(f"  {f.headline()}")
    for r in repairs:
        log(f"  repaired {r['code']} at epoch {r['epoch']}: {r.get('action')}")


def _state_defaults(state: dict) -> dict:
    """A saved preprocessing state with the keys later versions added, at the values that mean what
    the older state did (so a run started before them still resumes)."""
    if state.get("kind") == "sequence":
        state.setdefault("layout", "steps_first")
        state.setdefault("padding", "as_given")
    if state.get("kind") == "timeseries" and isinstance(state.get("series"), dict):
        state["series"].setdefault("dayfirst", False)
        state["series"].setdefault("missing_codes", [])
        state["series"].setdefault("target_missing_codes", [])
    return state


def _open_run_dir(cfg, prepared, out, resume, log) -> Path:
    """The run directory, new (config, data report and preprocessing written first) or resumed.
    config.yaml holds what the checks before training repaired (the data was prepared with it)."""
    if resume is not None:
        run_dir = Path(resume)
        saved_state = _state_defaults(runs.read_state(run_dir))
        if saved_state != _roundtrip(prepared.state):
            raise UserError(f"--resume {str(run_dir)!r}: the data in {cfg.data.source!r} changed since the run "
                            f"started (its fitted preprocessing differs); start a new run instead")
    else:
        run_dir = runs.new_run_dir(cfg.name, out)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_config(cfg))
        runs.write_json(run_dir / "data.json", prepared.report)
        runs.write_json(run_dir / "preprocess.json", prepared.state)
    log.attach(run_dir / "log.txt")
    _log_data(log, prepared)
    return run_dir


def _train_gan(cfg, prepared, run_dir, log, device, quiet, progress, resuming) -> "Run":
    """A GAN trains two networks against each other, so it has its own loop (training/gan.py);
    the run directory follows the same contract."""
    import torch

    from .training.gan import train_gan

    info = {"status": "running", "task": "generation", "loss": "gan", "n_out": None, "metrics": [],
            "per_epoch": [], "device": str(device), "torch": torch.__version__,
            "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "pid": os.getpid()}
    if resuming:
        info = {**runs.read_json(run_dir / "run.json"), "status": "running", "pid": os.getpid()}
    runs.write_json(run_dir / "run.json", info)
    runs.indexed(run_dir, log)
    started = time.perf_counter()
    show = (not quiet) if progress is None else progress
    try:
        updates = train_gan(cfg=cfg, prepared=prepared, run_dir=run_dir, log=log, device=device,
                            progress=show, resume=resuming)
    except TrainingInterrupted as exc:
        info.update(status="interrupted", seconds=info.get("seconds", 0) + time.perf_counter() - started)
        runs.write_json(run_dir / "run.json", info)
        runs.indexed(run_dir, log)
        raise TrainingInterrupted(str(run_dir), exc.signum) from None
    if not (run_dir / "findings.json").exists():
        runs.write_json(run_dir / "findings.json", [])
    info.update(updates, status="completed", seconds=round(info.get("seconds", 0) + time.perf_counter() - started, 3),
                finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
    runs.write_json(run_dir / "run.json", info)
    runs.indexed(run_dir, log)
    if cfg.logging.report:
        runs.write_report(run_dir, log)
    return Run(run_dir)


def _roundtrip(obj):
    import json

    return json.loads(json.dumps(obj, default=runs._plain))


def _log_data(log, prepared) -> None:
    r = prepared.report
    rows = r.get("rows", {})
    log(f"data: {prepared.spec.task}, {prepared.spec.n_features} features, rows "
        + ", ".join(f"{k} {v}" for k, v in rows.items()))
    cleaning = {k: v for k, v in (r.get("cleaning") or {}).items() if v}
    if cleaning:
        log(f"cleaning: {cleaning}")
    for key in ("coerced", "imputed", "clipped", "unknown_categories"):
        if r.get(key) and any(r[key].values() if isinstance(r[key], dict) else [r[key]]):
            log(f"{key}: {r[key]}")
    imbalance = r.get("imbalance") or {}
    if imbalance.get("method", "none") != "none":
        change = (f"class weights {imbalance['weights']}" if imbalance.get("weights") else
                  f"-> {imbalance.get('after')}")
        log(f"imbalance ({imbalance['method']}): train class counts {imbalance.get('before')} {change}")
    for note in r.get("notes", []):
        log(f"note: {note}")


# ----------------------------------------------------------------------------- runs
def _completed(run_dir: Path) -> bool:
    """A run whose training wrote all its results (its weights come first, its run.json last)."""
    try:
        return (run_dir / "model.safetensors").is_file() and \
            runs.read_json(run_dir / "run.json").get("status") == "completed"
    except (OSError, ValueError, AttributeError, UserError):  # no run.json, or one cut while written
        return False


def _saved_config(path: Path) -> Config:
    """A run's config.yaml. One saved before doctor.repair with the doctor off was refused (such a
    run trained without repair) still loads, with repair off, so its model is never lost."""
    from .errors import ConfigError

    try:
        return load_config(path)
    except ConfigError as exc:
        if not any(p.startswith("doctor.repair: true needs doctor.enabled") for p in exc.problems):
            raise
        return load_config(path, ["doctor.repair=false"])


class Run:
    """A run directory, loaded: metrics, history, and a model that predicts on new rows."""

    def __init__(self, path: str | Path):
        self.path = runs.require_run_dir(path)
        self.config = _saved_config(self.path / "config.yaml")
        self.info = runs.read_json(self.path / "run.json")
        self.state = runs.read_state(self.path)
        self._model = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.info.get('status')!r})"

    @property
    def metrics(self) -> dict:
        p = self.path / "metrics.json"
        return runs.read_json(p) if p.exists() else {}

    @property
    def history(self) -> list[dict]:
        return runs.read_history(self.path / "history.jsonl")

    @property
    def findings(self) -> list[dict]:
        p = self.path / "findings.json"
        return runs.read_json(p) if p.exists() else []

    @property
    def spec(self):
        from .data import DataSpec

        return DataSpec(**self.state["spec"])

    @property
    def plan(self) -> dict:
        return {k: self.info[k] for k in ("task", "loss", "n_out", "metrics", "per_epoch")}

    def _refuse_generation(self) -> None:
        if self.info.get("task") == "generation":
            raise UserError(f"{str(self.path)!r} is a GAN (generation) run: it has no predict or evaluate. Its "
                            f"samples are in samples/; draw more with trainwell.training.gan.generate(run_dir, n)")

    def model(self):
        self._refuse_generation()
        if self._model is None:
            from safetensors.torch import load_file

            from .models import build

            weights = self.path / "model.safetensors"
            if not weights.is_file():
                from .index import is_alive

                if self.info.get("status") == "running" and \
                        is_alive(self.info.get("pid"), self.info.get("host"), self.info.get("pid_start")):
                    raise UserError(f"{str(self.path)!r} is still training (pid {self.info.get('pid')}); "
                                    f"its model is written when it finishes")
                if not (self.path / "checkpoints" / "last.safetensors").is_file():
                    raise UserError(f"{str(self.path)!r} has no model.safetensors: "
                                    f"{runs.never_checkpointed(self.path)}")
                raise UserError(f"{str(self.path)!r} has no model.safetensors: the run did not finish "
                                f"(status {self.info.get('status')!r}); resume it with "
                                f"trainwell train --resume {self.path}")
            # The doctor may have rebuilt the network (an architecture repair): the repaired
            # config describes the weights that were saved.
            repaired = self.path / "config.repaired.yaml"
            net_cfg = load_config(repaired) if repaired.is_file() else self.config
            model = build(net_cfg.model, self.spec, self.info["n_out"])
            try:
                model.load_state_dict(load_file(str(weights)))
            except Exception as exc:  # a file that is not safetensors or does not fit this network
                raise UserError(f"{str(weights)!r} could not be loaded into the network: {exc}") from None
            self._model = model.eval()
        return self._model

    def predict(self, inputs) -> "Any":
        """New inputs -> DataFrame of predictions (+ proba_<class> columns for classification).

        inputs: a DataFrame with the training columns, or a path the run's data kind reads
        (a CSV/Parquet/NPZ table, an image folder or .npz of images, a series CSV, a text CSV).
        """
        import torch

        import numpy as np

        from .data import inverse_target, load_inputs
        from .serve.checks import check_inputs, check_outputs
        from .training.losses import to_output

        self._refuse_generation()
        with np.errstate(over="ignore"):  # a value past float32 becomes inf here; check_inputs names it
            x, ids = load_inputs(self.state, inputs)
        check_inputs(self.state, x, ids)
        raw = _outputs(self.model(), torch.as_tensor(x), self.plan)
        check_outputs(self.state, x, raw.numpy(), ids)
        out = to_output(self.info["loss"], self.info["task"], raw).numpy()
        result = ids.copy()
        if self.info["task"] == "regression":
            values = inverse_target(self.state, out)
            check_outputs(self.state, x, values, ids)
            if values.ndim == 1:
                result["prediction"] = values
            else:
                for k in range(values.shape[1]):
                    result[f"prediction_{k + 1}"] = values[:, k]
            return result
        result["prediction"] = inverse_target(self.state, out.argmax(axis=1))
        for i, cls in enumerate(self.spec.classes):
            result[f"proba_{cls}"] = out[:, i]
        return result

    def evaluate(self, data: str | Path | None = None) -> dict:
        """Metrics on a file holding the target column, or by default on the run's own test split
        (re-derived from the saved config: same source, same seed, same split)."""
        import torch

        from . import data as data_mod
        from .training.loop import TensorData

        self._refuse_generation()
        plan = self.plan
        if data is None:
            prepared = data_mod.prepare(self.config.data, self.config.seed, self.config.model.type)
            if _roundtrip(prepared.state) != self.state:
                raise UserError(f"the data in {self.config.data.source!r} changed since this run was trained; "
                                f"pass the evaluation file with --data")
            split, name = (prepared.test, "test") if prepared.test is not None else (prepared.val, "val")
            baseline = (prepared.baselines or {}).get(name)
            if split is None:
                raise UserError("this run has no test or validation split; pass a file with --data")
            tensors = _to_tensors(split, "cpu")
        else:
            x, y = data_mod.load_labelled(self.state, str(data))
            if len(y) == 0:  # every row's target empty: the metrics would fail on no rows
                raise UserError(f"--data {str(data)!r}: no row to score: every row's target "
                                f"{self.state['spec'].get('target')!r} is empty; evaluation needs rows with a "
                                f"known target (predict takes rows without one)")
            tensors, name, baseline = TensorData(torch.as_tensor(x), torch.as_tensor(y)), "data", None
        scores = _score(self.model(), tensors, plan, self.state, None, plan["metrics"], baseline=baseline)
        return {name: {k: _clean_float(v) for k, v in scores.items()}, "rows": int(tensors.x.shape[0])}


def load_run(path: str | Path) -> Run:
    """A run directory, or an ensemble directory (trainwell ensemble): both evaluate and predict."""
    if (Path(path) / "ensemble.json").is_file():
        from .tuning.ensemble import EnsembleRun

        return EnsembleRun(path)
    return Run(path)
