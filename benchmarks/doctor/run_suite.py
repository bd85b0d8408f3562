#!/usr/bin/env python
"""Run the training doctor's fault suite and score it.

Every case in cases.yaml is trained with trainwell.train(cfg, out=tmpdir, quiet=True); each
faulty case is trained again with doctor.repair: true. From findings.json, repairs.json,
metrics.json and run.json it prints a table per case and then:

  recall per code       a faulty case is detected when its FIRST finding (most serious, as ranked
                        in findings.json) is one of its expected codes; "anywhere" counts an
                        expected code anywhere in the findings
  false alarms          healthy cases with any finding of severity warning or error (info-level
                        findings on healthy runs are listed separately; they are not alarms)
  repair success        the repaired run's test metric (accuracy; r2 for regression; a case may
                        name another, e.g. balanced_accuracy on imbalanced data) is no more than
                        2 points (0.02) below its healthy reference's
  repair cost           repaired run's training seconds (run.json "seconds") / the healthy
                        reference's, trained again just before the repair (--no-paired: its plain
                        run, earlier in the suite); also in epochs trained (replays included), and against the
                        repaired config (config.repaired.yaml) trained from the start without repair,
                        which says what the live repair itself cost (--no-clean skips those runs)
  probe overhead        median of run.json doctor_overhead over the plain (non-repair) runs
  wall time             the whole suite

    .venv/bin/python benchmarks/doctor/run_suite.py [--subset] [--only NAME[,NAME]] [--no-repair]
                                                    [--no-rerun] [--seed N] [--json results.json] [--keep DIR]
                                                    [--cases heldout.yaml] [--no-paired]

It also reruns each faulty case once with its top finding's first fix (architecture changes
allowed), as a check of the advice where the live repair cannot act; --no-rerun skips that.

One process, one torch thread: the numbers must not depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.yaml"
# A handful that covers a data fault, an lr fault, a gradient fault and two healthy runs; used
# by --subset and by tests/doctor/test_suite_subset.py.
SUBSET = ["f_digits_adam_lr_low", "f_iris_x1e4_noscale", "f_digits_deep_sigmoid", "h_digits", "h_wine"]
GOALS = {"recall": 0.95, "false_alarms": 0.02, "repairs": 0.95, "cost": 1.1, "overhead": 0.03}
MARGIN = 0.02   # "within 2 points of the healthy score"


# ----------------------------------------------------------------------------- cases
def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def load_cases(path: Path = CASES) -> dict[str, dict]:
    raw = yaml.safe_load(path.read_text())
    cases = {}
    for name, case in raw["cases"].items():
        cfg = _merge(raw.get("base", {}), case["config"])
        cfg["name"] = name
        src = cfg["data"]["source"]
        if not src.startswith("builtin:"):
            cfg["data"]["source"] = str((path.parent / src).resolve())
            cfg["data"].setdefault("target", "target")   # make_data.py names every label column `target`
        for split in ("val", "test"):  # an explicit validation or test file, also relative to the cases file
            if cfg["data"].get(split):
                cfg["data"][split] = str((path.parent / cfg["data"][split]).resolve())
        cases[name] = {"name": name, "config": cfg, "expect": list(case.get("expect") or []),
                       "healthy_ref": case.get("healthy_ref"), "metric": case.get("metric"),
                       "why": case.get("why", "")}
    for c in cases.values():
        if c["expect"] and c["healthy_ref"] not in cases:
            raise SystemExit(f"{c['name']}: healthy_ref {c['healthy_ref']!r} is not a case")
    return cases


def ensure_data() -> None:
    sys.path.insert(0, str(HERE))
    import make_data

    if not all((make_data.HERE / f).is_file() for f in make_data.FILES):
        make_data.main()


def select(cases: dict, only: list[str] | None, subset: bool) -> list[str]:
    names = list(cases)
    if subset:
        names = [n for n in SUBSET if n in cases]
    if only:
        missing = [n for n in only if n not in cases]
        if missing:
            raise SystemExit(f"--only: unknown case(s) {missing}")
        names = only
    # A faulty case needs its healthy reference's score.
    refs = [cases[n]["healthy_ref"] for n in names if cases[n]["expect"]]
    return names + [r for r in dict.fromkeys(refs) if r not in names]


# ----------------------------------------------------------------------------- one run
def run_one(cfg: dict, keep: Path | None = None, overrides: dict | None = None) -> dict:
    """Train once and read back what the run directory says."""
    import trainwell

    tmp = Path(tempfile.mkdtemp(prefix="twsuite-"))
    t0 = time.perf_counter()
    out = {"error": None}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = trainwell.train(cfg, overrides or None, out=tmp, quiet=True)
        d = Path(run.path)
        read = lambda f, default: json.loads((d / f).read_text()) if (d / f).is_file() else default
        info = read("run.json", {})
        out.update(findings=read("findings.json", []), repairs=read("repairs.json", []),
                   metrics=read("metrics.json", {}), task=info.get("task"), seconds=info.get("seconds"),
                   overhead=info.get("doctor_overhead"), rules_overhead=info.get("doctor_rules_overhead"),
                   epochs=info.get("epochs_run"),
                   epochs_total=info.get("epochs_trained", info.get("epochs_run")))
        if (d / "config.repaired.yaml").is_file():
            out["repaired_config"] = yaml.safe_load((d / "config.repaired.yaml").read_text())
        if keep is not None:
            shutil.copytree(d, keep / cfg["name"], dirs_exist_ok=True)
    except Exception as e:  # a crash is a result too: the table shows it
        import traceback

        out["traceback"] = traceback.format_exc()[-2000:]
        out.update(findings=[], repairs=[], metrics={}, task=None, seconds=None, overhead=None, epochs=None,
                   rules_overhead=None,
                   error=f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["wall"] = time.perf_counter() - t0
    return out


def score(result: dict, metric: str | None) -> float | None:
    test = (result.get("metrics") or {}).get("test") or {}
    key = metric or ("r2" if result.get("task") == "regression" else "accuracy")
    v = test.get(key)
    return float(v) if isinstance(v, (int, float)) else None


# ----------------------------------------------------------------------------- report
def _fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def _found(findings: list[dict]) -> str:
    return ", ".join(f"{f['code']}({f['severity'][0]})" for f in findings) or "-"


def summarise(cases: dict, names: list[str], plain: dict, repaired: dict, wall: float, out=print,
              reruns: dict | None = None) -> dict:
    faulty = [n for n in names if cases[n]["expect"]]
    healthy = [n for n in names if not cases[n]["expect"]]

    out(f"\n{'case':28} {'expected':34} {'found (most serious first; e/w/i = severity)':58} "
        f"{'score':>6} {'repaired':>8} {'healthy':>7} {'cost':>5}  repair")
    rows = {}
    for n in names:
        c, r = cases[n], plain[n]
        f = r["findings"]
        first = f[0]["code"] if f else None
        rep = repaired.get(n)
        ref = plain.get(c["healthy_ref"]) if c["healthy_ref"] else None
        row = {"first_ok": bool(c["expect"]) and first in c["expect"],
               "anywhere_ok": bool(c["expect"]) and any(x["code"] in c["expect"] for x in f),
               "alarms": [x["code"] for x in f if x["severity"] in ("warning", "error")],
               "infos": [x["code"] for x in f if x["severity"] == "info"],
               "score": score(r, c["metric"]), "error": r["error"]}
        if rep is not None:
            row["repaired_score"] = score(rep, c["metric"])
            row["ref_score"] = score(ref, c["metric"]) if ref else None
            row["repair_ok"] = (row["repaired_score"] is not None and row["ref_score"] is not None
                                and row["repaired_score"] >= row["ref_score"] - MARGIN)
            row["cost_apart"] = (rep["seconds"] / ref["seconds"]) if rep.get("seconds") and ref and ref.get("seconds") \
                else None
            beside = rep.get("ref_beside") or {}
            row["cost"] = (rep["seconds"] / beside["seconds"]) if rep.get("seconds") and beside.get("seconds") \
                else row["cost_apart"]
            # Epochs trained (replayed ones included) do not depend on the machine's load.
            row["cost_epochs"] = (rep["epochs_total"] / ref["epochs_total"]) \
                if rep.get("epochs_total") and ref and ref.get("epochs_total") else None
            clean = rep.get("clean")
            # What the live repair cost over training its final config from the start (the same
            # network, so a rebuilt, larger network does not count as the doctor's cost).
            row["cost_vs_clean"] = (rep["seconds"] / clean["seconds"]) \
                if clean and clean.get("seconds") and rep.get("seconds") else None
            clean_score = score(clean, c["metric"]) if clean else None
            row["clean_ok"] = None if clean_score is None or row["ref_score"] is None else \
                clean_score >= row["ref_score"] - MARGIN
            applied = [x for x in rep["repairs"] if x.get("action") and "could not" not in x["action"]]
            row["applied"] = "; ".join(f"{x['code']}->{x['overrides']}" for x in applied) or \
                ("none applicable" if not rep["repairs"] else "could not apply")
            row["fixed_live"] = bool(applied)
        rows[n] = row
        mark = ("ok " if row["first_ok"] else ("~  " if row["anywhere_ok"] else "MISS")) if c["expect"] else \
            ("ok " if not row["alarms"] else "ALARM")
        out(f"{n:28} {','.join(c['expect']) or '(healthy)':34} {_found(f)[:58]:58} {_fmt(row['score']):>6} "
            f"{_fmt(row.get('repaired_score')):>8} {_fmt(row.get('ref_score')):>7} {_fmt(row.get('cost'), '.2f'):>5}  "
            f"{mark} {'' if rep is None else ('REPAIRED ' if row['repair_ok'] else 'NOT-REPAIRED ') + row['applied']}"
            + (f"  [error: {row['error']}]" if row["error"] else ""))

    summary = {}
    out("\n== recall per code (a case counts under its own code, the first in `expect`)")
    by_code: dict[str, list[str]] = {}
    for n in faulty:
        by_code.setdefault(cases[n]["expect"][0], []).append(n)
    out(f"{'code':24} {'cases':>5} {'first':>6} {'anywhere':>8}  missed (first finding)")
    for code, ns in sorted(by_code.items()):
        first = sum(rows[n]["first_ok"] for n in ns)
        anywhere = sum(rows[n]["anywhere_ok"] for n in ns)
        missed = [f"{n} ({plain[n]['findings'][0]['code'] if plain[n]['findings'] else 'nothing'})"
                  for n in ns if not rows[n]["first_ok"]]
        out(f"{code:24} {len(ns):5d} {first / len(ns):6.0%} {anywhere / len(ns):8.0%}  {', '.join(missed)}")
    if faulty:
        recall = sum(rows[n]["first_ok"] for n in faulty) / len(faulty)
        anywhere = sum(rows[n]["anywhere_ok"] for n in faulty) / len(faulty)
        summary.update(recall=recall, recall_anywhere=anywhere)
        out(f"{'ALL':24} {len(faulty):5d} {recall:6.1%} {anywhere:8.1%}")

    if healthy:
        alarms = [n for n in healthy if rows[n]["alarms"]]
        summary["false_alarms"] = len(alarms) / len(healthy)
        out(f"\n== false alarms on healthy runs: {len(alarms)}/{len(healthy)} = {summary['false_alarms']:.1%}"
            + ("  (" + ", ".join(f"{n}: {rows[n]['alarms']}" for n in alarms) + ")" if alarms else ""))
        infos = {n: rows[n]["infos"] for n in healthy if rows[n]["infos"]}
        out("   info-level findings on healthy runs (not alarms): "
            + (", ".join(f"{n}: {v}" for n, v in infos.items()) or "none"))

    scored = [n for n in faulty if n in repaired]
    if scored:
        ok = [n for n in scored if rows[n]["repair_ok"]]
        live = [n for n in scored if rows[n]["fixed_live"]]
        live_ok = [n for n in live if rows[n]["repair_ok"]]
        summary.update(repairs=len(ok) / len(scored),
                       repairs_when_applied=len(live_ok) / len(live) if live else None)
        out(f"\n== repair success (test score >= healthy reference - {MARGIN:g}): "
            f"{len(ok)}/{len(scored)} = {summary['repairs']:.1%} of all faulty cases; "
            f"{len(live_ok)}/{len(live)} = {_fmt(summary['repairs_when_applied'], '.1%')} where a fix was applied")
        out("   not repaired: " + (", ".join(f"{n} ({rows[n]['applied']})" for n in scored if not rows[n]["repair_ok"])
                                   or "none"))
        # Whether a miss is the fix or the live repair: the same final config trained from the start.
        cleaned = [n for n in scored if rows[n].get("clean_ok") is not None]
        if cleaned:
            summary["clean_repairs"] = sum(rows[n]["clean_ok"] for n in cleaned) / len(cleaned)
            out(f"   the repaired config trained from the start, without the doctor: {sum(rows[n]['clean_ok'] for n in cleaned)}"
                f"/{len(cleaned)} = {summary['clean_repairs']:.1%} within {MARGIN:g}; the live repair missed where that "
                f"passed: {', '.join(n for n in cleaned if rows[n]['clean_ok'] and not rows[n]['repair_ok']) or 'none'}")
        # Judged on the successful repairs: a failed one that stops early would look cheap.
        costs = [rows[n]["cost"] for n in live_ok if rows[n]["cost"] is not None]
        every = [rows[n]["cost"] for n in live if rows[n]["cost"] is not None]
        epoch_costs = [rows[n]["cost_epochs"] for n in live_ok if rows[n].get("cost_epochs") is not None]
        if epoch_costs:
            summary["cost_epochs"] = statistics.median(epoch_costs)
            out(f"== repair cost in epochs trained, replays included (repaired / healthy reference's), over the "
                f"{len(epoch_costs)} successful repairs: median {summary['cost_epochs']:.2f}x, max {max(epoch_costs):.2f}x")
        vs_clean = [rows[n]["cost_vs_clean"] for n in live_ok if rows[n].get("cost_vs_clean") is not None]
        if vs_clean:
            summary["cost_vs_clean"] = statistics.median(vs_clean)
            out(f"== repair cost against the repaired config trained from the start without the doctor's repair "
                f"(not the goal's definition: it leaves out a rebuilt network's own size), over the {len(vs_clean)} "
                f"successful repairs: median {summary['cost_vs_clean']:.2f}x, max {max(vs_clean):.2f}x")
        if costs:
            summary.update(cost=statistics.median(costs), cost_max=max(costs),
                           cost_all=statistics.median(every))
            beside = sum(bool((repaired[n].get("ref_beside") or {}).get("seconds")) for n in live_ok)
            timed = ("timed beside the repair" if beside == len(live_ok) else
                     f"timed beside the repair in {beside} of {len(live_ok)}, else its plain run" if beside else
                     "its plain run")
            out(f"== repair cost (repaired training seconds / healthy reference's, {timed}), over the {len(costs)} "
                f"successful repairs: median {summary['cost']:.2f}x, max {summary['cost_max']:.2f}x "
                f"(over all {len(every)} repaired runs: median {summary['cost_all']:.2f}x)")
        apart = [rows[n]["cost_apart"] for n in live_ok if rows[n].get("cost_apart") is not None]
        if apart and any(repaired[n].get("ref_beside") for n in live_ok):
            summary["cost_apart"] = statistics.median(apart)
            out(f"   against the reference's plain run earlier in the suite instead (the figure before session 18): "
                f"median {summary['cost_apart']:.2f}x")
    if reruns:
        # Not the live repair: a second run with the top finding's first fix, architecture
        # changes allowed. It says whether the diagnosis and its advice are right where the
        # live repair cannot act (init, activation, width need a new network).
        ok = []
        for n in scored or faulty:
            r = reruns.get(n)
            ref = plain.get(cases[n]["healthy_ref"])
            s_, r_ = (score(r, cases[n]["metric"]) if r else None), (score(ref, cases[n]["metric"]) if ref else None)
            if s_ is not None and r_ is not None and s_ >= r_ - MARGIN:
                ok.append(n)
        total = len(scored or faulty)
        summary["rerun_fix"] = len(ok) / total if total else None
        missed = [f"{n} ({reruns[n]['fix'] if n in reruns else 'no fix'})" for n in (scored or faulty) if n not in ok]
        out(f"== advised fix, rerun (top finding's first fix, architecture allowed; not a goal, a check of the "
            f"advice): {len(ok)}/{total} = {_fmt(summary['rerun_fix'], '.1%')} within {MARGIN:g} of healthy")
        out("   not fixed by the advice: " + (", ".join(missed) or "none"))
    overheads = [plain[n]["overhead"] for n in names if plain[n].get("overhead") is not None]
    if overheads:
        summary.update(overhead=statistics.median(overheads), overhead_max=max(overheads))
        out(f"== probe overhead (run.json doctor_overhead): median {summary['overhead']:.1%}, "
            f"max {summary['overhead_max']:.1%} over {len(overheads)} runs")
    rules = [plain[n]["rules_overhead"] for n in names if plain[n].get("rules_overhead") is not None]
    if rules:
        summary.update(rules_overhead=statistics.median(rules))
        out(f"== the rules' own time (run.json doctor_rules_overhead, not part of the probe goal): median "
            f"{summary['rules_overhead']:.1%}, max {max(rules):.1%}")
    errors = [n for n in names if plain[n]["error"] or (n in repaired and repaired[n]["error"])]
    if errors:
        out(f"== runs that raised: {errors}")
    summary["wall_seconds"] = wall
    paired = sum(1 for n in scored if repaired[n].get("ref_beside"))
    out(f"== suite wall time: {wall:.0f} s ({wall / 60:.1f} min), {len(names)} cases "
        f"({len(faulty)} faulty, {len(healthy)} healthy), {len(names) + len(scored)} runs"
        + (f" and {paired} healthy references timed again beside their repairs" if paired else ""))

    checks = [("recall", summary.get("recall"), lambda v: v >= GOALS["recall"], f">= {GOALS['recall']:.0%}"),
              ("false alarms", summary.get("false_alarms"), lambda v: v <= GOALS["false_alarms"],
               f"<= {GOALS['false_alarms']:.0%}"),
              ("repairs", summary.get("repairs"), lambda v: v >= GOALS["repairs"], f">= {GOALS['repairs']:.0%}"),
              ("repair cost", summary.get("cost"), lambda v: v <= GOALS["cost"], f"<= {GOALS['cost']}x"),
              ("overhead", summary.get("overhead"), lambda v: v <= GOALS["overhead"], f"<= {GOALS['overhead']:.0%}"),
              ("wall time", wall, lambda v: v < 1200, "< 20 min")]
    out("== goals: " + "; ".join(f"{k} {'-' if v is None else ('MET' if ok(v) else 'NOT MET')} ({goal})"
                                  for k, v, ok, goal in checks))
    summary["rows"] = rows
    return summary


# ----------------------------------------------------------------------------- main
def top_fix(findings: list[dict]) -> dict | None:
    """The first fix of the most serious finding, architecture changes included: what a user
    rerunning with the doctor's advice (config.repaired.yaml, or --set) would change."""
    for f in findings:
        if f["severity"] != "info" and f.get("fixes"):
            return f["fixes"][0]["overrides"]
    return None


def run_suite(names: list[str] | None = None, *, subset: bool = False, repair: bool = True, rerun: bool = True,
              seed: int | None = None, keep: Path | None = None, out=print, arch: bool = True,
              clean: bool = True, paired: bool = True, cases_file: Path = CASES) -> tuple[dict, dict, dict, dict]:
    import torch

    torch.set_num_threads(1)
    ensure_data()
    cases = load_cases(cases_file)
    if seed is not None:
        # Another seed changes the split, the init and the batch order: faults the rules were
        # not calibrated on, on the same recipes.
        for c in cases.values():
            c["config"]["seed"] = seed
    chosen = select(cases, names, subset)
    t0 = time.perf_counter()
    plain, repaired, reruns = {}, {}, {}
    for n in chosen:
        plain[n] = run_one(cases[n]["config"], keep)
        if repair and cases[n]["expect"]:
            cfg = _merge(cases[n]["config"], {"doctor": {"repair": True, "allow_architecture_changes": arch},
                                              "name": n + "_repaired"})
            if paired and cases[n]["healthy_ref"]:
                # The reference timed again beside the repair, not minutes earlier in a process
                # that has since run other cases: the seconds ratio then measures the repair,
                # not the drift between two moments.
                ref_cfg = _merge(cases[cases[n]["healthy_ref"]]["config"], {"name": n + "_ref"})
                beside = run_one(ref_cfg)
            repaired[n] = run_one(cfg, keep)
            if paired and cases[n]["healthy_ref"]:
                repaired[n]["ref_beside"] = {k: beside.get(k) for k in ("seconds", "epochs_total", "error")}
            final = repaired[n].get("repaired_config")
            if clean and final:
                final = _merge(final, {"doctor": {"repair": False}, "name": n + "_clean"})
                repaired[n]["clean"] = {k: v for k, v in run_one(final).items()
                                        if k in ("seconds", "error", "metrics", "task")}
        fix = top_fix(plain[n]["findings"]) if cases[n]["expect"] else None
        if rerun and fix:
            cfg = _merge(cases[n]["config"], {"name": n + "_rerun"})
            reruns[n] = {**run_one(cfg, keep, fix), "fix": fix}
    summary = summarise(cases, chosen, plain, repaired, time.perf_counter() - t0, out, reruns)
    return summary, cases, plain, repaired


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subset", action="store_true", help=f"only {SUBSET} (and their healthy references)")
    p.add_argument("--only", help="comma-separated case names (their healthy references run too)")
    p.add_argument("--no-repair", action="store_true", help="skip the doctor.repair runs")
    p.add_argument("--no-rerun", action="store_true", help="skip the reruns with the top finding's first fix")
    p.add_argument("--no-arch", action="store_true",
                   help="repair without doctor.allow_architecture_changes (hyperparameter fixes only)")
    p.add_argument("--no-clean", action="store_true",
                   help="skip training each repaired config from the start (the cost-against-clean figure)")
    p.add_argument("--no-paired", action="store_true",
                   help="skip timing each repair's healthy reference again beside it (the seconds cost then uses "
                        "the reference's plain run)")
    p.add_argument("--seed", type=int, help="run every case with this seed (a check on faults not calibrated on)")
    p.add_argument("--cases", type=Path, default=CASES,
                   help="the cases file (default cases.yaml; heldout.yaml is the held-out set)")
    p.add_argument("--json", type=Path, help="write every run's results here")
    p.add_argument("--keep", type=Path, help="copy every run directory here")
    a = p.parse_args(argv)
    if a.keep:
        a.keep.mkdir(parents=True, exist_ok=True)
    summary, cases, plain, repaired = run_suite(a.only.split(",") if a.only else None, subset=a.subset,
                                                repair=not a.no_repair, rerun=not a.no_rerun, seed=a.seed,
                                                keep=a.keep, arch=not a.no_arch, clean=not a.no_clean, paired=not a.no_paired,
                                                cases_file=a.cases)
    if a.json:
        a.json.write_text(json.dumps({"summary": summary, "plain": plain, "repaired": repaired}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
