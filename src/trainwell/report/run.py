"""`trainwell report RUN`: one HTML file from a run directory alone (never from live objects).

Every section reads files the run wrote; a run that crashed or was stopped has some of them,
and the report shows what is there and says plainly what is missing and why.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import UserError
from . import html as H

SECTIONS = ("summary", "data", "config", "curves", "lr", "gradients", "evaluation", "findings", "metrics")


def _read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default
    except (OSError, ValueError):
        return default


def _missing_note(what: str, why: str) -> str:
    return f'<p class="muted">No {H.esc(what)}: {H.esc(why)}.</p>'


def _check_run_dir(run_dir: Path) -> None:
    if not run_dir.exists():
        raise UserError(f"Run directory {str(run_dir)!r} does not exist; pass a folder written by "
                        f"`trainwell train` (its path is the last line train prints), or see `trainwell runs`.")
    if not run_dir.is_dir():
        raise UserError(f"{str(run_dir)!r} is a file, not a run directory; pass the folder written by `trainwell train`.")
    missing = [n for n in ("run.json", "config.yaml") if not (run_dir / n).is_file()]
    if missing:
        raise UserError(f"{str(run_dir)!r} is not a trainwell run directory: {' and '.join(missing)} "
                        f"{'is' if len(missing) == 1 else 'are'} missing. A run directory holds config.yaml, "
                        f"run.json, history.jsonl and metrics.json.")
    if not isinstance(_read_json(run_dir / "run.json"), dict):
        raise UserError(f"{str(run_dir / 'run.json')!r} is not valid JSON; the run directory is damaged.")


class RunFiles:
    """What a run directory holds, read once; missing files are None."""

    def __init__(self, run_dir: Path):
        from .. import yamlio
        from ..index import effective_status
        from ..runs import read_history

        self.dir = run_dir
        self.info = _read_json(run_dir / "run.json", {})
        self.config_text = (run_dir / "config.yaml").read_text()
        try:
            self.config = yamlio.load(self.config_text) or {}
        except yamlio.YAMLError:
            self.config = {}
        self.history = read_history(run_dir / "history.jsonl")
        self.history_cut = self._history_cut(run_dir / "history.jsonl")
        self.metrics = _read_json(run_dir / "metrics.json")
        self.findings = _read_json(run_dir / "findings.json")
        self.repairs = _read_json(run_dir / "repairs.json", [])
        self.signals = _read_json(run_dir / "signals.json")
        self.data = _read_json(run_dir / "data.json")
        self.state = _read_json(run_dir / "preprocess.json")
        self.status = effective_status(self.info.get("status"), self.info.get("pid"), self.info.get("host"),
                                       self.info.get("pid_start"))

    @staticmethod
    def _history_cut(path: Path) -> bool:
        """True when the last line of history.jsonl was cut off mid-write (a crash)."""
        try:
            text = path.read_text()
        except OSError:
            return False
        last = text.rstrip("\n").rsplit("\n", 1)[-1] if text.strip() else ""
        if not last:
            return False
        try:
            json.loads(last)
            return False
        except ValueError:
            return True

    @property
    def complete(self) -> bool:
        return self.status == "completed" and self.metrics is not None

    @property
    def task(self) -> str:
        return self.info.get("task") or (self.data or {}).get("task") or "?"

    @property
    def classes(self) -> list:
        return list(((self.state or {}).get("spec") or {}).get("classes") or [])


# ----------------------------------------------------------------------------- sections
def _summary(r: RunFiles) -> str:
    cfg, info = r.config, r.info
    model = cfg.get("model") or {}
    shape = {k: v for k, v in model.items() if k not in ("type", "init", "init_from", "freeze", "new_head")}
    data = cfg.get("data") or {}
    items = [
        ("status", H.Raw(f'<span class="status-{H.esc(r.status)}">{H.esc(r.status)}</span>')),
        ("task", r.task),
        ("data", data.get("source")),
        ("model", f"{model.get('type', '?')} " + ", ".join(f"{k}={H.fmt(v)}" for k, v in shape.items())),
        ("parameters", f"{info['parameters']:,}" if isinstance(info.get("parameters"), int) else None),
        ("loss", info.get("loss")),
        ("optimizer", f"{(cfg.get('optimizer') or {}).get('name')} lr {H.fmt((cfg.get('optimizer') or {}).get('lr'))}, "
                      f"batch {(cfg.get('training') or {}).get('batch_size')}, schedule "
                      f"{(cfg.get('schedule') or {}).get('name')}"),
        ("training time", f"{info['seconds']:.2f} s" if isinstance(info.get("seconds"), (int, float)) else None),
        ("epochs", f"{len(r.history)} run" + (f" of {(cfg.get('training') or {}).get('epochs')} allowed"
                                              if (cfg.get("training") or {}).get("epochs") else "")),
        ("best epoch", (f"{info.get('best_epoch')} ("
                        + ", ".join(f"{k} {H.fmt(v)}" for k, v in (info.get("best") or {}).items()) + ")")
         if info.get("best_epoch") else None),
        ("stopped", info.get("stop_reason")),
        ("device", info.get("device")),
        ("started / finished", f"{info.get('started', '?')} / {info.get('finished', '–')}"),
        ("versions", f"torch {info.get('torch', '?')}, python {info.get('python', '?')}"),
    ]
    test = (r.metrics or {}).get("test") or {}
    headline = [(k, v) for k, v in test.items() if isinstance(v, (int, float)) and not isinstance(v, bool)][:4]
    if headline:
        items.insert(2, ("test", H.Raw("<b>" + H.esc(", ".join(f"{k} {H.fmt(v)}" for k, v in headline)) + "</b>")))
    if info.get("lr_auto"):
        items.append(("lr: auto", f"{H.fmt(info['lr_auto'].get('lr'))}: {info['lr_auto'].get('reason')}"))
    if info.get("doctor_overhead") is not None:
        items.append(("doctor overhead", f"{100 * info['doctor_overhead']:.1f}% of training time"))
    if _doctor_off(r):
        items.append(("doctor", "off (doctor.enabled: false)"))
    elif r.findings is not None:
        items.append(("doctor", _doctor_line(r.findings, r.repairs) + ("" if r.complete else " (so far)")))
    return H.kv_table([(k, v) for k, v in items if v is not None])


def _doctor_line(findings: list, repairs: list) -> str:
    repaired = f"{len(repairs)} repair(s)"
    if not findings:
        return f"no findings left after {repaired}" if repairs else "healthy: no findings"
    worst = {f.get("severity") for f in findings}
    kind = " incl. errors" if "error" in worst else " incl. warnings" if "warning" in worst else " (info)"
    return f"{len(findings)} finding(s){kind}" + (f", {repaired}" if repairs else "")


def _data(r: RunFiles) -> str:
    d = r.data
    if not d:
        return _missing_note("data report", "data.json is missing")
    parts = []
    rows = d.get("rows") or {}
    if rows:
        total = sum(v for v in rows.values() if isinstance(v, (int, float))) or 1
        parts.append("<h3>Rows per split</h3>" + H.table(
            ["split", "rows", "share"], [[k, v, f"{100 * v / total:.1f}%"] for k, v in rows.items()]))
    counts = d.get("class_counts") or {}
    if counts:
        splits = list(counts)
        classes = list(dict.fromkeys(c for s in splits for c in counts[s]))
        names = r.classes
        label = (lambda c: f"{names[int(c)]}" if str(c).isdigit() and int(c) < len(names) else str(c))
        body = []
        for c in classes[:60]:
            cells = [label(c)]
            for s in splits:
                n = counts[s].get(c, 0)
                tot = sum(counts[s].values()) or 1
                cells.append(H.Raw(f"{n} <span class='muted'>({100 * n / tot:.1f}%)</span>"))
            body.append(cells)
        note = f" (first 60 of {len(classes)})" if len(classes) > 60 else ""
        parts.append(f"<h3>Class balance{note}</h3>" + H.table(["class", *splits], body))
    cleaning = []
    for k, v in (d.get("cleaning") or {}).items():
        cleaning.append((k.replace("_", " "), v if v not in ({}, []) else 0))
    for key in ("coerced", "imputed", "clipped", "unknown_categories"):
        if key in d:
            v = d[key]
            empty = not v or (isinstance(v, dict) and all(not x for x in v.values()))
            cleaning.append((key.replace("_", " "), 0 if empty else v))
    if d.get("rows_loaded") is not None:
        cleaning.insert(0, ("rows loaded", d.get("rows_loaded")))
    if d.get("rows_after_cleaning") is not None:
        cleaning.append(("rows after cleaning", d.get("rows_after_cleaning")))
    imbalance = d.get("imbalance") or {}
    if imbalance:
        cleaning.append(("imbalance handling", imbalance.get("method")
                         if len(imbalance) == 1 else imbalance))
    if cleaning:
        parts.append("<h3>Cleaning</h3>" + H.kv_table(cleaning))
    shown = {"rows", "class_counts", "cleaning", "coerced", "imputed", "clipped", "unknown_categories",
             "rows_loaded", "rows_after_cleaning", "imbalance", "notes"}
    rest = [(k, v) for k, v in d.items() if k not in shown and v not in (None, {}, [])]
    if rest:
        parts.append("<h3>Source</h3>" + H.kv_table(rest))
    if d.get("notes"):
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{H.esc(n)}</li>" for n in d["notes"]) + "</ul>")
    return "".join(parts)


def _config(r: RunFiles) -> str:
    return ("<p class='muted'>Fully resolved, defaults included: <code>trainwell train</code> this file "
            "to run it again.</p>" f"<pre>{H.esc(r.config_text)}</pre>")


def _monitored_metric(r: RunFiles) -> str | None:
    monitor = (((r.config.get("training") or {}).get("early_stopping") or {}).get("monitor")) or "val_loss"
    keys = {k for h in r.history for k in h}
    if monitor != "val_loss" and monitor in keys:
        return monitor[4:]
    for m in r.info.get("per_epoch") or []:
        if f"val_{m}" in keys or f"train_{m}" in keys:
            return m
    return None


def _curves(r: RunFiles, plots) -> str:
    if not r.history:
        return _missing_note("learning curves", "history.jsonl is empty or missing (the run stopped before "
                                                "its first epoch ended)")
    keys = {k for h in r.history for k in h}
    stop = r.info.get("stop_reason") or ""
    stop_epoch = r.history[-1].get("epoch") if stop.startswith("early stopping") else None
    best = r.info.get("best_epoch")
    parts = []
    if "train_loss" in keys or "val_loss" in keys:
        metric = _monitored_metric(r)
        parts.append(H.img(plots.learning_curves(r.history, r.info.get("loss") or "loss", metric, best, stop_epoch),
                           "learning curves: loss and the monitored metric, training vs validation, per epoch"))
        if "val_loss" not in keys:
            parts.append("<p class='muted'>No validation split: only training curves.</p>")
    else:  # a GAN: discriminator and generator losses
        numeric = [k for k in keys if k not in ("epoch", "seconds", "lr")
                   and all(isinstance(h.get(k), (int, float)) for h in r.history)]
        parts.append(H.img(_generic_curves(plots, r.history, sorted(numeric)), "training curves per epoch"))
    marks = []
    if best:
        marks.append(f"dashed green line: best epoch {best}")
    if stop_epoch:
        marks.append(f"dotted red line: early stop at epoch {stop_epoch}")
    if marks:
        parts.append(f"<p class='muted'>{H.esc('; '.join(marks))}. {H.esc(stop)}</p>")
    return "".join(parts)


def _generic_curves(plots, history, keys) -> bytes:
    fig = plots.Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    for k in keys:
        ax.plot(epochs, plots._finite(h.get(k) for h in history), label=k.replace("_", " "), linewidth=1.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.legend(loc="best")
    plots.layout(fig)
    return plots.to_png(fig)


def _lr(r: RunFiles, plots) -> str:
    if not any(isinstance(h.get("lr"), (int, float)) for h in r.history):
        return _missing_note("learning-rate curve", "the history records no learning rate")
    sched = (r.config.get("schedule") or {}).get("name")
    warm = (r.config.get("schedule") or {}).get("warmup_epochs")
    return (H.img(plots.lr_curve(r.history), "learning rate per epoch")
            + f"<p class='muted'>schedule {H.esc(sched)}" + (f", warmup {H.esc(warm)} epoch(s)" if warm else "") + "</p>")


def _gradients(r: RunFiles, plots) -> str:
    if r.signals is None:
        why = ("the doctor was off (doctor.enabled: false)" if (r.config.get("doctor") or {}).get("enabled") is False
               else "signals.json is written when training ends; this run did not get there")
        return _missing_note("gradient norms", why)
    records = [x for x in r.signals.get("records", []) if x.get("grad_norms")]
    if not records:
        return _missing_note("gradient norms", "the doctor recorded no checks")
    rows = (r.data or {}).get("rows", {}).get("train")
    bs = (r.config.get("training") or {}).get("batch_size")
    steps = None
    if isinstance(rows, int) and rows:
        steps = 1 if bs == "full" else -(-rows // int(bs)) if isinstance(bs, int) else None
    body = H.img(plots.gradient_norms(records, steps),
                 "gradient norm and update-to-weight ratio per layer over training")
    body += (f"<p class='muted'>{len(records)} checks by the training doctor (spaced by its time budget). "
             "Vanishing gradients show as early layers' norms far below later ones'; exploding as norms "
             "that grow by orders of magnitude. Update ratio: the size of each optimizer step relative to "
             "the weights.</p>")
    if r.signals.get("nonfinite"):
        body += "<p><b>Non-finite values:</b> " + H.esc(H.fmt(r.signals["nonfinite"])) + "</p>"
    return body


def _predictions(run_dir: Path):
    """(actual, predicted) on the run's test split (else val), in the target's units, re-derived from
    the saved config and seed like `trainwell evaluate`."""
    import torch  # noqa: F401  (the model is a torch module)

    from .. import api
    from .. import data as data_mod
    from ..training.losses import to_output

    run = api.Run(run_dir)
    prepared = data_mod.prepare(run.config.data, run.config.seed, run.config.model.type)
    if api._roundtrip(prepared.state) != run.state:
        raise UserError(f"the data in {run.config.data.source!r} changed since this run was trained")
    split, name = (prepared.test, "test") if prepared.test is not None else (prepared.val, "validation")
    if split is None:
        raise UserError("the run has no test or validation split")
    tensors = api._to_tensors(split, "cpu")
    out = to_output(run.info["loss"], run.info["task"], api._outputs(run.model(), tensors.x, run.plan)).float().numpy()
    y = tensors.y.cpu().numpy()
    return data_mod.inverse_target(run.state, y), data_mod.inverse_target(run.state, out), name


def _evaluation(r: RunFiles, plots) -> str:
    task = r.task
    if task == "generation":
        samples = sorted((r.dir / "samples").glob("*.png")) if (r.dir / "samples").is_dir() else []
        if not samples:
            return _missing_note("samples", "the run wrote no sample grid yet")
        final = r.dir / "samples" / "final.png"
        pick = final if final in samples else samples[-1]
        return (f"<p>Generated samples ({H.esc(pick.name)}); quality: <code>benchmarks/gan_quality.py</code>.</p>"
                + H.img(pick.read_bytes(), "generated samples"))
    if task in ("binary", "multiclass"):
        cm = ((r.metrics or {}).get("test") or {}).get("confusion_matrix")
        split = "test"
        if cm is None:
            cm = ((r.metrics or {}).get("val") or {}).get("confusion_matrix")
            split = "validation"
        if cm is None:
            why = ("metrics.json is written when training ends; this run did not get there" if r.metrics is None
                   else "confusion_matrix is not among metrics.names")
            return _missing_note("confusion matrix", why)
        png = plots.confusion_matrix(cm, [str(c) for c in r.classes])
        note = "" if split == "test" else "<p class='muted'>No test split: this is the validation split.</p>"
        return H.img(png, f"confusion matrix on the {split} split") + note + \
            "<p class='muted'>Rows: the true class; columns: what the model predicted; the diagonal is right.</p>"
    if task == "regression":
        if not (r.dir / "model.safetensors").is_file():
            return _missing_note("predicted-vs-actual plot", "model.safetensors is missing (the run did not finish)")
        try:
            y, p, split = _predictions(r.dir)
        except UserError as exc:
            return _missing_note("predicted-vs-actual plot", str(exc))
        target = (r.data or {}).get("target") or (r.config.get("data") or {}).get("target") or "target"
        note = "" if split == "test" else "<p class='muted'>No test split: this is the validation split.</p>"
        return H.img(plots.regression(y, p, str(target)), "predicted vs actual, and residuals") + note
    return _missing_note("evaluation plot", f"task {task!r} has none")


def _doctor_off(r: RunFiles) -> bool:
    return (r.config.get("doctor") or {}).get("enabled") is False


def _findings(r: RunFiles) -> str:
    # A doctor-off run writes findings.json too (an empty list): it is not healthy, it was not examined.
    if r.findings is None or _doctor_off(r):
        why = ("the doctor was off (doctor.enabled: false)" if _doctor_off(r)
               else "findings.json is written when training ends or is interrupted; this run did not get there")
        return _missing_note("findings", why)
    if not r.findings and not r.repairs:
        return ("<p>Healthy: the training doctor found nothing wrong.</p>" if r.complete else
                f"<p>The training doctor had found nothing wrong so far (run status: {H.esc(r.status)}).</p>")
    from ..doctor.report import ORDER, set_flags

    order = r.findings  # findings.json's order, as the run's summary and `diagnose` print it
    head = (f"{len(order)} finding(s), {ORDER}." if order else
            f"Nothing left wrong at the end, after {len(r.repairs)} repair(s) during training.")
    if not r.complete:
        head = (f"The findings so far (run status: {H.esc(r.status)}): {len(order)}, {ORDER}." if order else
                f"Nothing left wrong so far (run status: {H.esc(r.status)}), after {len(r.repairs)} repair(s).")
    out = [f"<p>{head} The same in the terminal: <code>trainwell diagnose {H.esc(r.dir)}</code></p>"]
    for f in order:
        sev = H.esc(f.get("severity", "info"))
        epoch = f.get("epoch")
        when = "before training" if epoch == 0 else f"from epoch {epoch}" if epoch else "at the end"
        evidence = H.kv_table(list((f.get("evidence") or {}).items()))
        fixes = ""
        for i, fix in enumerate(f.get("fixes") or [], 1):
            sets = set_flags(fix.get("overrides") or {})
            arch = " (changes the network)" if fix.get("architecture") else ""
            fixes += f"<li>{H.esc(fix.get('reason'))}{H.esc(arch)}: <code>{H.esc(sets)}</code></li>"
        out.append(f'<div class="finding {sev}"><p><span class="sev {sev}">{sev}</span><b>{H.esc(f.get("code"))}</b> '
                   f'<span class="muted">{H.esc(when)}</span></p><p>{H.esc(f.get("explanation"))}</p>'
                   f"<h3>Evidence</h3>{evidence}" + (f"<h3>Fixes</h3><ol>{fixes}</ol>" if fixes else "") + "</div>")
    if r.repairs:
        out.append("<h3>Repairs made while training</h3>" + H.table(
            ["epoch", "code", "why", "action", "overrides"],
            [[x.get("epoch"), x.get("code"), x.get("explanation") or x.get("reason"), x.get("action"),
              x.get("overrides")] for x in r.repairs]))
    return "".join(out)


def _metrics(r: RunFiles) -> str:
    if r.metrics is None:
        return _missing_note("final metrics", "metrics.json is written when training ends; this run did not get there")
    splits = [s for s in ("val", "test", "data") if isinstance(r.metrics.get(s), dict)]
    names = list(dict.fromkeys(k for s in splits for k, v in r.metrics[s].items() if not isinstance(v, (list, dict))))
    label = {"val": "validation", "test": "test", "data": "data"}
    return H.table(["metric", *[label[s] for s in splits]], [[n, *[r.metrics[s].get(n) for s in splits]] for n in names]) \
        + "<p class='muted'>Classification scores are macro averages over classes; regression errors are in the " \
          "target's own units.</p>"


def _banner(r: RunFiles) -> str | None:
    if r.complete:
        return None
    have = [f"{len(r.history)} epoch(s) of history"]
    missing = [n for n, v in (("metrics.json", r.metrics), ("findings.json", r.findings),
                              ("signals.json", r.signals)) if v is None]
    if not (r.dir / "model.safetensors").is_file():
        missing.append("model.safetensors")
    why = {"running": "is still running", "interrupted": "was interrupted (Ctrl-C, or its process was killed)",
           "failed": "failed"}.get(r.status, f"has status {r.status!r}")
    cut = " The last line of history.jsonl was cut off mid-write and is left out." if r.history_cut else ""
    resume = (f" Resume it with <code>trainwell train --resume {H.esc(r.dir)}</code>."
              if (r.dir / "checkpoints" / "last.safetensors").is_file() and r.status != "running" else "")
    return (f"<b>Partial report:</b> this run {H.esc(why)}. It shows what is on disk: {H.esc(', '.join(have))}"
            + (f"; missing: {H.esc(', '.join(missing))}" if missing else "") + f".{cut}{resume}")


# ----------------------------------------------------------------------------- the page
def _section(what: str, build, *args) -> str:
    """A section's HTML, or a note in its place when it cannot be built: the report reads whatever a
    run left on disk, and one plot it cannot draw must not take the other sections with it (losses
    NaN from the first epoch once did, from a legend with no lines)."""
    try:
        return build(*args)
    except Exception as exc:  # noqa: BLE001 - the note names the error
        return _missing_note(what, f"it could not be built ({type(exc).__name__}: {exc})")


def build_run_report(run_dir: str | Path) -> str:
    """The report's HTML for a run directory (see write_run_report)."""
    from .. import __version__
    from . import plots

    run_dir = Path(run_dir)
    _check_run_dir(run_dir)
    r = RunFiles(run_dir)
    name = r.config.get("name") or run_dir.name
    page = H.Page(title=f"trainwell report: {name}",
                  subtitle=f"{run_dir.resolve()} · {r.task} · {r.status}", banner=_banner(r))
    page.add("summary", "Summary", _section("summary", _summary, r))
    page.add("data", "Data", _section("data summary", _data, r))
    page.add("config", "Config", _section("config", _config, r))
    page.add("curves", "Learning curves", _section("learning curves", _curves, r, plots))
    page.add("lr", "Learning rate", _section("learning-rate curve", _lr, r, plots))
    page.add("gradients", "Gradients", _section("gradient norms", _gradients, r, plots))
    page.add("evaluation", {"generation": "Samples", "regression": "Predicted vs actual"}.get(r.task, "Confusion matrix"),
             _section("evaluation plot", _evaluation, r, plots))
    page.add("findings", "Doctor's findings", _section("findings", _findings, r))
    page.add("metrics", "Test metrics", _section("test metrics", _metrics, r))
    page.footer = (f"Written by trainwell {__version__} on {time.strftime('%Y-%m-%d %H:%M:%S')} from the run "
                   f"directory alone. Self-contained: it loads nothing from the network.")
    return page.render()


def write_run_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write RUN/report.html (or `out`): one self-contained HTML file. Returns its path.
    Bad input (no such directory, not a run directory) is a UserError."""
    from ..training.checkpoint import write_text_atomic

    run_dir = Path(run_dir)
    text = build_run_report(run_dir)
    path = Path(out) if out is not None else run_dir / "report.html"
    if path.is_dir():
        path = path / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)
    return path
