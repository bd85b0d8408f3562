"""`trainwell diagnose RUN`: the findings of a run, in full, from its directory alone."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from .findings import Finding, ranked


def load(run: str | Path) -> tuple[list[Finding], list[dict]]:
    run = Path(run)
    if not run.is_dir():
        raise UserError(f"Run directory {str(run)!r} does not exist.")
    path = run / "findings.json"
    if not path.is_file():
        raise UserError(f"{str(run)!r} has no findings.json: the run did not finish, or the doctor was off "
                        f"(doctor.enabled: false)")
    try:
        findings = [Finding.from_dict(d) for d in json.loads(path.read_text())]
        repairs = json.loads((run / "repairs.json").read_text()) if (run / "repairs.json").is_file() else []
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise UserError(f"{str(path)!r} is damaged: {exc}") from None
    return ranked(findings), repairs


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
    prints it: {"findings": [Finding, ...] most serious first, "repairs": [dict, ...] made during
    the run, "text": the full explanation with evidence and fixes}."""
    findings, repairs = load(run)
    return {"findings": findings, "repairs": repairs, "text": render(run)}


def render(run: str | Path) -> str:
    findings, repairs = load(run)
    if not findings and not repairs:
        return f"{run}: healthy. The doctor found nothing wrong."
    if findings:
        lines = [f"{run}: {len(findings)} finding(s), most serious first.", ""]
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
        lines.append(f"- {r['code']}{sev} at epoch {r['epoch']}{onset}: {r.get('action')}")
        if r.get("explanation"):
            lines.append(f"   {r['explanation']}")
        if r.get("before"):
            lines.append("   before: " + "; ".join(f"{k} = {_value(v)}" for k, v in r["before"].items()))
        lines.append(f"   fix: {r.get('reason')}: {set_flags(r.get('overrides') or {})}")
        if r.get("after"):
            lines.append("   after: " + "; ".join(f"{k} = {_value(v)}" for k, v in r["after"].items()))
    if repairs:
        lines.append(f"the repaired config is {Path(run) / 'config.repaired.yaml'}: train it again without --repair")
    return "\n".join(lines).rstrip()
