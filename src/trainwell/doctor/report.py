"""`trainwell diagnose RUN`: the findings of a run, in full, from its directory alone."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from .findings import Finding


def _run_info(run: Path) -> dict:
    """run.json, or {} where there is none (a folder holding only findings.json)."""
    try:
        info = json.loads((run / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _doctor_was_off(run: Path) -> bool:
    """From the config saved with the run (doctor-off runs write findings.json too, an empty list
    that once read as healthy)."""
    from .. import yamlio

    try:
        cfg = yamlio.load((run / "config.yaml").read_text())
    except (OSError, ValueError, yamlio.YAMLError):
        return False
    doctor = cfg.get("doctor") if isinstance(cfg, dict) else None
    return isinstance(doctor, dict) and doctor.get("enabled") is False


def _status(info: dict) -> str:
    from ..index import effective_status

    return effective_status(info.get("status"), info.get("pid"), info.get("host"), info.get("pid_start"))


def _read(path: Path):
    try:
        return json.loads(path.read_text())
    except ValueError as exc:  # not JSON, or not UTF-8
        raise UserError(f"{str(path)!r} is damaged: {exc}") from None


def load(run: str | Path) -> tuple[list[Finding], list[dict]]:
    run = Path(run)
    if run.is_file():
        hint = (f"it looks like a config: train it with `trainwell train {run}`, then diagnose the run directory "
                f"train prints last" if run.suffix.lower() in (".yaml", ".yml")
                else "pass the folder `trainwell train` wrote (its path is the last line train prints)")
        raise UserError(f"{str(run)!r} is a file, not a run directory; {hint}.")
    if not run.is_dir():
        raise UserError(f"Run directory {str(run)!r} does not exist.")
    info = _run_info(run)
    if _doctor_was_off(run):
        raise UserError(f"{str(run)!r}: the doctor was off for this run (doctor.enabled: false), so it has no "
                        f"findings; train it again with the doctor on to have it examined")
    if info.get("task") == "generation":
        raise UserError(f"{str(run)!r} is a GAN (generation) run: the doctor does not examine those, so it has "
                        f"no findings")
    path = run / "findings.json"
    if not path.is_file():
        if not info and not (run / "config.yaml").is_file():
            raise UserError(f"{str(run)!r} is not a trainwell run directory: it has no run.json, config.yaml "
                            f"or findings.json")
        status = _status(info)
        why = {"running": "is still running", "failed": f"failed ({info.get('error') or 'see log.txt'})",
               "interrupted": "was stopped before the doctor could write it (killed, or interrupted before "
                              "its first epoch)"}.get(status, f"has status {status!r}")
        resume = f"; resume it with trainwell train --resume {run}" \
            if status in ("interrupted", "failed") and (run / "checkpoints" / "last.safetensors").is_file() else ""
        raise UserError(f"{str(run)!r} has no findings.json: the doctor writes it when training ends or is "
                        f"interrupted, and this run {why}{resume}")
    repairs_path = run / "repairs.json"
    findings, repairs = _read(path), (_read(repairs_path) if repairs_path.is_file() else [])
    try:
        # The file's order, which the end-of-run summary printed: causes found before training first,
        # then the most serious. Ranked again by severity alone, an unscaled-features warning went
        # under the lr_too_high error it caused.
        findings = [Finding.from_dict(d) for d in findings]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise UserError(f"{str(path)!r} is damaged: {exc}") from None
    if not isinstance(repairs, list) or not all(isinstance(r, dict) for r in repairs):
        raise UserError(f"{str(repairs_path)!r} is damaged: expected a list of repairs, each a mapping")
    return findings, repairs


ORDER = ("those found before training first, in the order of the checks (causes come before the symptoms "
         "they produce), then those found while training, the most serious first")


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def set_flags(overrides: dict) -> str:
    """A fix's overrides as the --set flags that apply it, quoted for a POSIX shell: a value with
    spaces or braces ({"name": "constant", "value": 0.01}) pasted unquoted splits into words."""
    import shlex

    return " ".join(f"--set {shlex.quote(f'{k}={json.dumps(v) if not isinstance(v, str) else v}')}"
                    for k, v in overrides.items())


def diagnose(run: str | Path) -> dict:
    """The doctor's verdict on a run directory, from the directory alone, as `trainwell diagnose`
    prints it: {"findings": [Finding, ...] in ORDER, "repairs": [dict, ...] made during
    the run, "text": the full explanation with evidence and fixes}."""
    findings, repairs = load(run)
    return {"findings": findings, "repairs": repairs, "text": render(run)}


def _unfinished(run: Path) -> tuple[str, str] | None:
    """For a run that did not end (findings.json then holds the findings so far, written when it
    was interrupted): how far it got, and how to finish it. None for a run that ended."""
    from ..runs import read_history

    info = _run_info(run)
    status = _status(info) if info else "completed"
    if status == "completed":
        return None
    epochs = len(read_history(run / "history.jsonl"))
    said = {"interrupted": "interrupted", "running": "still running", "failed": "failed"}.get(status, "not finished")
    resume = (f"resume it with trainwell train --resume {run}; the findings are complete when it ends"
              if (run / "checkpoints" / "last.safetensors").is_file() and status != "running" else "")
    return f"{said} after {epochs} epoch(s) (run.json status: {status})", resume


def _members(run: Path) -> list[Path] | None:
    """An ensemble's member run directories (ensemble.json), or None for a single run."""
    try:
        listed = json.loads((run / "ensemble.json").read_text())["members"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [run / m for m in listed]


def render(run: str | Path) -> str:
    members = _members(Path(run))
    if members is not None:
        # The ensemble itself was never trained: the doctor watched each member.
        parts = [f"{run}: an ensemble of {len(members)} member(s); the doctor watched each one:"]
        for m in members:
            try:
                text = render(m)
            except UserError as exc:
                text = f"{m}: {exc}"
            parts.append("\n".join("  " + line if line else "" for line in text.splitlines()))
        return "\n\n".join(parts)
    findings, repairs = load(run)
    unfinished = _unfinished(Path(run))
    if unfinished:
        state, resume = unfinished
        if not findings and not repairs:
            return f"{run}: {state}: the doctor had found nothing wrong so far." + (f"\n{resume}." if resume else "")
        lines = [f"{run}: {state}: the findings so far, " + (
            f"{len(findings)} finding(s), {ORDER}." if findings
            else f"nothing left wrong after {len(repairs)} repair(s)."), ""]
    elif not findings and not repairs:
        return f"{run}: healthy. The doctor found nothing wrong."
    elif findings:
        lines = [f"{run}: {len(findings)} finding(s), {ORDER}.", ""]
    else:
        lines = [f"{run}: nothing left wrong at the end, after {len(repairs)} repair(s) during training.", ""]
    for i, f in enumerate(findings, 1):
        when = "before training" if f.epoch == 0 else f"from epoch {f.epoch}" if f.epoch else "at the end"
        lines.append(f"{i}. {f.code} [{f.severity}] {when}")
        lines.append(f"   {f.explanation}")
        lines.append("   evidence: " + "; ".join(f"{k} = {_value(v)}" for k, v in f.evidence.items()))
        for j, fix in enumerate(f.fixes, 1):
            arch = " (changes the network)" if fix.architecture else ""
            lines.append(f"   fix {j}{arch}: {fix.reason}: {set_flags(fix.overrides)}")
        lines.append("")
    if repairs:
        lines.append("Repaired while training:")
    for r in repairs:
        # Runs from before the repair record kept its finding have no severity, onset or explanation.
        sev = f" [{r['severity']}]" if r.get("severity") else ""
        onset = f", onset epoch {r['onset_epoch']}" if r.get("onset_epoch") is not None else ""
        lines.append(f"- {r.get('code')}{sev} at epoch {r.get('epoch')}{onset}: {r.get('action')}")
        if r.get("explanation"):
            lines.append(f"   {r['explanation']}")
        if r.get("before"):
            lines.append("   before: " + "; ".join(f"{k} = {_value(v)}" for k, v in r["before"].items()))
        lines.append(f"   fix: {r.get('reason')}: {set_flags(r.get('overrides') or {})}")
        if r.get("after"):
            lines.append("   after: " + "; ".join(f"{k} = {_value(v)}" for k, v in r["after"].items()))
    if repairs and (Path(run) / "config.repaired.yaml").is_file():
        lines.append(f"the repaired config is {Path(run) / 'config.repaired.yaml'}: train it again without --repair")
    if unfinished and unfinished[1]:
        lines.append(unfinished[1] + ".")
    return "\n".join(lines).rstrip()
