"""Ensembles: several trained runs whose predictions are averaged (probabilities for classification).

Two ways to get the members: bagging (K runs of one config, each on a bootstrap sample of the
training split) or the top-k complete trials of a study. Either way the result is an ensemble
directory that `evaluate` and `predict` accept like a run directory:

    ensemble.json       method, members (relative paths), where they came from
    bagging.json        what bagging trains (config, members), written first: rerunning the same
                        command with the same --out finishes an interrupted ensemble
    members/NAME/       each member, a complete run directory (its own preprocessing and weights)
    config.yaml, run.json, preprocess.json   the first member's, so tools that list runs read it
    metrics.json        {"val": ensemble, "test": ensemble, "members": {NAME: {"val", "test"}}}, written
                        last: a bagging directory without it is unfinished

Members keep their own preprocessing (top-k trials may differ in data.* settings), so each member
predicts through its own Run and only the outputs are averaged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .. import runs
from ..api import Run, _clean_float, _outputs, _roundtrip, _to_tensors
from ..config import load_config
from ..errors import TrainingInterrupted, UserError
from . import interrupt

# What a bagging ensemble will train, written first, so that the same command can finish it.
PLAN = "bagging.json"


def bootstrap_hook(seed: int):
    """Prepared -> Prepared whose training split is a bootstrap sample (n rows drawn with replacement)."""
    def hook(prepared):
        import dataclasses

        import numpy as np

        from ..data import SplitArrays

        t = prepared.train
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(t.x), len(t.x))
        y_raw = t.y_raw[idx] if t.y_raw is not None else None
        report = {**prepared.report, "bootstrap": {"seed": seed, "rows": int(len(idx)),
                                                   "distinct_rows": int(len(np.unique(idx)))}}
        return dataclasses.replace(prepared, train=SplitArrays(t.x[idx], t.y[idx], y_raw), report=report)
    return hook


class EnsembleRun(Run):
    """An ensemble directory, loaded: predict and evaluate average the members' outputs."""

    def __init__(self, path: str | Path):
        super().__init__(path)
        meta = runs.read_json(self.path / "ensemble.json")
        self.meta = meta
        self.members = [Run(self.path / m) for m in meta["members"]]
        if not self.members:
            raise UserError(f"{str(self.path)!r}: ensemble.json lists no members")

    def __repr__(self) -> str:
        return f"EnsembleRun({str(self.path)!r}, {len(self.members)} members, {self.meta.get('method')})"

    def model(self):
        """One network that averages the members (probabilities, or values), for tools that need a
        single model (export, serving). Only when every member uses the same preprocessing."""
        if self._model is None:
            differ = [str(m.path) for m in self.members if m.state != self.state]
            if differ:
                raise UserError(f"{str(self.path)!r}: its members preprocess their inputs differently ({differ[0]} "
                                f"differs from the first), so they are not one network; predict and evaluate "
                                f"work, and a single member can be exported")
            self._model = _averaging_module(self.members, self.info["loss"], self.info["task"]).eval()
        return self._model

    def predict(self, inputs):
        import numpy as np

        frames = [m.predict(inputs) for m in self.members]
        result = frames[0].copy()
        if self.info["task"] == "regression":
            for col in [c for c in result.columns if c.startswith("prediction")]:
                result[col] = np.mean([f[col].to_numpy() for f in frames], axis=0)
            return result
        cols = [c for c in result.columns if c.startswith("proba_")]
        for f in frames[1:]:
            if [c for c in f.columns if c.startswith("proba_")] != cols:
                raise UserError("ensemble members predict different classes; they cannot be averaged")
        proba = np.mean([f[cols].to_numpy() for f in frames], axis=0)
        result[cols] = proba
        from ..data import inverse_target

        # The columns follow spec.classes, so the argmax is the encoded label, as in Run.predict.
        result["prediction"] = inverse_target(self.state, proba.argmax(axis=1))
        return result

    def outputs(self, data=None, split: str = "test"):
        """(y, [member outputs], name, rows): probabilities or values in the target's units, per member."""
        ys, outs, name = None, [], split
        for m in self.members:
            y, out, name = _member_outputs(m, data, split)
            if ys is None:
                ys = y
            elif y.shape != ys.shape or not (y == ys).all():
                raise UserError("ensemble members were evaluated on different rows (their data settings differ); "
                                "pass one labelled file with --data")
            outs.append(out)
        return ys, outs, name

    def evaluate(self, data: str | Path | None = None) -> dict:
        """The ensemble's metrics and every member's, on the test split (or --data)."""
        import numpy as np

        from .. import metrics

        y, outs, name = self.outputs(data)
        names, task = self.plan["metrics"], self.info["task"]
        ens = metrics.compute(names, task, y, np.mean(outs, axis=0))
        members = {m.path.name: {k: _clean_float(v) for k, v in metrics.compute(names, task, y, o).items()}
                   for m, o in zip(self.members, outs)}
        return {name: {k: _clean_float(v) for k, v in ens.items()}, "members": members, "rows": int(len(y))}


def _averaging_module(members: list[Run], out_loss: str, task: str):
    """Members' networks in one module: each member's outputs become probabilities (or values)
    through its own loss, are averaged, and are turned back into raw outputs of `out_loss`, so
    callers convert them exactly as for a single run."""
    import torch

    from ..training.losses import to_output

    class Averaged(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.nets = torch.nn.ModuleList([m.model() for m in members])
            self.losses = [m.info["loss"] for m in members]

        def forward(self, x):
            mean = torch.stack([to_output(loss, task, net(x)) for net, loss in zip(self.nets, self.losses)]).mean(0)
            if task == "regression":
                return mean if mean.dim() == 2 else mean[:, None]
            if out_loss == "bce":
                return torch.logit(mean[:, 1].clamp(1e-7, 1 - 1e-7))[:, None]
            return torch.log(mean.clamp_min(1e-12))  # softmax(log p) = p, since the averaged p sums to 1

    return Averaged()


class NoSplit(UserError):
    """A member's data has no such split: building an ensemble reports the others instead."""


def _member_outputs(run: Run, data, split: str):
    import torch

    from .. import data as data_mod
    from ..data import inverse_target
    from ..training.loop import TensorData
    from ..training.losses import to_output

    run._refuse_generation()
    if data is None:
        prepared = data_mod.prepare(run.config.data, run.config.seed, run.config.model.type)
        if _roundtrip(prepared.state) != run.state:
            raise UserError(f"the data in {run.config.data.source!r} changed since {run.path} was trained; "
                            f"pass the evaluation file with --data")
        part = prepared.test if split == "test" else prepared.val
        if part is None:
            raise NoSplit(f"{run.path} has no {split} split; pass a labelled file with --data")
        tensors, name = _to_tensors(part, "cpu"), split
    else:
        x, y = data_mod.load_labelled(run.state, str(data))
        tensors, name = TensorData(torch.as_tensor(x), torch.as_tensor(y)), "data"
    raw = _outputs(run.model(), tensors.x, run.plan)
    out = to_output(run.info["loss"], run.info["task"], raw).float().numpy()
    y = tensors.y.numpy()
    if run.info["task"] == "regression":
        out, y = inverse_target(run.state, out), inverse_target(run.state, y)
    return y, out, name


# ----------------------------------------------------------------------------- building
class EnsembleResult:
    def __init__(self, path: Path, metrics: dict, missing: dict | None = None):
        # missing: {split: why it has no metrics (None: no such split)}, for table() to say instead of an empty table
        self.path, self.metrics, self.missing = path, metrics, missing or {}

    def table(self) -> str:
        """Every member's and the ensemble's test metrics, one row each; the val metrics, said to be
        so, when there is no test split; a note when there is neither."""
        import pandas as pd

        why = {s: w or f"the members have no {s} split" for s, w in self.missing.items()}
        if "test" in self.metrics:
            split, head = "test", "test metrics:"
        elif "val" in self.metrics:
            split = "val"
            head = (f"val metrics, as there are no test metrics ({why.get('test', 'not evaluated')}); early "
                    f"stopping (and a study's ranking) watched these rows, so they flatter the models:")
        else:
            return (f"no metrics: {'; '.join(why.values()) or 'no split was evaluated'}. Evaluate it on a "
                    f"labelled file: trainwell evaluate {self.path} --data FILE")
        rows = [{"model": name, **{k: v for k, v in m.get(split, {}).items() if k != "confusion_matrix"}}
                for name, m in self.metrics["members"].items()]
        rows.append({"model": "ensemble", **{k: v for k, v in self.metrics[split].items()
                                             if k != "confusion_matrix"}})
        return f"{head}\n" + pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}")


def _assemble(folder: Path, member_dirs: list[Path], method: str, extra: dict,
              splits: tuple[str, ...] = ("val", "test")) -> EnsembleResult:
    import numpy as np

    from .. import metrics

    first = Run(member_dirs[0])
    for d in member_dirs[1:]:
        r = Run(d)
        if r.info.get("task") != first.info.get("task") or r.spec.classes != first.spec.classes:
            raise UserError(f"ensemble members must share the task and classes: {d} differs from {member_dirs[0]}")
    runs.write_json(folder / "ensemble.json", {"method": method, "members": [str(d.relative_to(folder))
                                                                            for d in member_dirs], **extra})
    shutil.copy(first.path / "config.yaml", folder / "config.yaml")
    shutil.copy(first.path / "preprocess.json", folder / "preprocess.json")
    info = {k: first.info[k] for k in ("task", "loss", "n_out", "metrics", "per_epoch") if k in first.info}
    info.update(status="completed", kind="ensemble", method=method, members=len(member_dirs),
                parameters=sum(Run(d).info.get("parameters", 0) for d in member_dirs))
    runs.write_json(folder / "run.json", info)
    runs.write_json(folder / "findings.json", [])
    ens = EnsembleRun(folder)
    names, task = ens.plan["metrics"], info["task"]
    result: dict = {"members": {m.path.name: {} for m in ens.members}}
    missing = {}
    for split in splits:
        try:
            y, outs, _ = ens.outputs(None, split)
        except NoSplit:  # data.split.test: 0, say
            missing[split] = None
            continue
        except UserError as exc:  # the data changed since, or members split it apart: table() says so
            missing[split] = str(exc)
            continue
        result[split] = {k: _clean_float(v) for k, v in metrics.compute(names, task, y, np.mean(outs, axis=0)).items()}
        for m, o in zip(ens.members, outs):
            result["members"][m.path.name][split] = {k: _clean_float(v)
                                                     for k, v in metrics.compute(names, task, y, o).items()}
    runs.write_json(folder / "metrics.json", result)
    return EnsembleResult(folder, result, missing)


def bagging(config, overrides=None, k: int = 5, *, out=None, quiet: bool = True) -> EnsembleResult:
    """K members of one config, each trained on its own bootstrap sample of the training split."""
    import sys

    from .. import api

    if k < 2:
        raise UserError(f"--members: an ensemble needs 2 or more, got {k}")
    cfg = load_config(config, overrides)
    cfg = api._resolve_paths(cfg, Path(config) if isinstance(config, (str, Path)) else None)
    if cfg.model.type == "gan":
        raise UserError("model.type: a GAN cannot be bagged (it has no predictions to average)")
    fixed = {"logging.report": False} if hasattr(cfg, "logging") and hasattr(cfg.logging, "report") else {}
    plan = {"config": cfg.model_dump(mode="json"), "members": k}
    # metrics.json is written last: a directory stopped while it was being assembled is finished too
    resuming = out is not None and (Path(out) / PLAN).is_file() and not (Path(out) / "metrics.json").is_file()
    if resuming:
        if runs.read_json(Path(out) / PLAN) != _roundtrip(plan):
            raise UserError(f"--out {str(out)!r} holds an unfinished ensemble of another config or --members; "
                            f"rerun that command to finish it, or choose a new --out (nothing was overwritten)")
        folder = Path(out)
    else:
        folder = runs.new_run_dir(f"{cfg.name}-ensemble", out, resumable=False)
        folder.mkdir(parents=True, exist_ok=True)
        runs.write_json(folder / PLAN, plan)
    again = (f"trainwell ensemble {config} --members {k} --out {folder}"
             + (" with the same --set options" if overrides else "")) if isinstance(config, (str, Path)) \
        else f"the same bagging call with out={str(folder)!r}"
    # Ctrl-C or SIGTERM between members (a member's data, metrics or files; the assembly) is held until
    # the next member's training starts, which then stops after a batch with its state saved: nothing
    # is cut half-written, and the same command goes on from there (tuning/interrupt.py).
    with interrupt.handled(), interrupt.deferred():
        try:
            dirs = []
            for i in range(k):
                interrupt.check()
                member = folder / "members" / f"member-{i}"
                hook = bootstrap_hook(cfg.seed * 1000 + i)
                if _finished(member):
                    pass  # finished before the interruption
                elif (member / "checkpoints" / "last.safetensors").is_file() and \
                        not (member / "model.safetensors").is_file():
                    api.train(resume=member, quiet=True, progress=False, data_hook=hook,
                              callbacks=[interrupt.fit_callback()])
                else:
                    if member.exists():  # cut before its first checkpoint, or while writing its results
                        shutil.rmtree(member)
                    api.train(cfg, fixed, out=member, quiet=True, progress=False, data_hook=hook,
                              callbacks=[interrupt.fit_callback()])
                dirs.append(member)
                if not quiet:
                    print(f"member {i + 1}/{k}: {member}", file=sys.stderr, flush=True)
            interrupt.check()
            return _assemble(folder, dirs, "bagging", {"config": cfg.name})
        except (TrainingInterrupted, KeyboardInterrupt) as exc:
            raise TrainingInterrupted(str(folder), getattr(exc, "signum", 2), resume=again) from None


def _finished(member: Path) -> bool:
    """A member whose training wrote all its results (its weights come first, its run.json last)."""
    try:
        return (member / "model.safetensors").is_file() and \
            runs.read_json(member / "run.json").get("status") == "completed"
    except (OSError, ValueError, UserError):  # no run.json yet, or one cut while written
        return False


def from_study(ref, top: int = 3, *, storage: str | None = None, out=None, quiet: bool = True) -> EnsembleResult:
    """The study's top-k complete trials; their run directories are copied in (without checkpoints)."""
    import sys

    from optuna.trial import TrialState

    from .results import load_study

    if top < 2:
        raise UserError(f"--top: an ensemble needs 2 or more members, got {top}")
    st, sfolder = load_study(ref, storage, option="--study")
    if len(st.directions) > 1:
        raise UserError(f"--study {st.study_name!r} is multi-objective: there is no single ranking for a top-k; "
                        f"pick trials from its Pareto front and bag one of their configs instead")
    done = [t for t in st.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if (sfolder / t.user_attrs.get("run_dir", "")).is_dir()]
    if len(done) < 2:
        raise UserError(f"--study {st.study_name!r}: {len(done)} complete trial(s) with a run directory here; "
                        f"an ensemble needs 2 or more")
    maximize = st.direction.name == "MAXIMIZE"
    chosen = sorted(done, key=lambda t: t.value, reverse=maximize)[:top]
    if len(chosen) < top:
        print(f"note: --top {top}, but the study has {len(chosen)} complete trials with a run directory; "
              f"the ensemble has {len(chosen)} members", file=sys.stderr, flush=True)
    name = json.loads((sfolder / "study.json").read_text())["study"] if (sfolder / "study.json").is_file() else "study"
    folder = runs.new_run_dir(f"{name}-top{len(chosen)}", out, resumable=False)
    folder.mkdir(parents=True, exist_ok=True)
    dirs, folds = [], 0
    for t in chosen:
        src = sfolder / t.user_attrs["run_dir"]
        # A cross-validated trial's value is the mean over its fold models: all of them are members,
        # so the ensemble is what was scored (fold 0 alone is one model on (K-1)/K of train+val).
        parts = sorted(src.glob("fold-*")) if not (src / "config.yaml").is_file() else []
        folds = max(folds, len(parts))
        for part in parts or [src]:
            dst = folder / "members" / (f"trial-{t.number:04d}" + (f"-{part.name}" if parts else ""))
            shutil.copytree(part, dst, ignore=shutil.ignore_patterns("checkpoints"))
            dirs.append(dst)
        if not quiet:
            print(f"member trial {t.number}: value {t.value:.6g}" + (f" (mean of {len(parts)} folds, each a member)"
                                                                      if parts else ""), file=sys.stderr, flush=True)
    extra = {"study": name, "trials": [t.number for t in chosen], "values": [t.value for t in chosen]}
    if not folds:
        return _assemble(folder, dirs, "top_k", extra)
    note = (f"the study cross-validated: each of the {len(chosen)} trials gives its {folds} fold models, trained on "
            f"{folds - 1}/{folds} of train+val each, so the ensemble has {len(dirs)} members; the values are the "
            f"trials' means over their folds; val metrics are left out, since every val row was in most members' "
            f"training; judge it on test")
    print(f"note: {note}", file=sys.stderr, flush=True)
    return _assemble(folder, dirs, "top_k", {**extra, "cv_folds": folds, "note": note}, splits=("test",))
