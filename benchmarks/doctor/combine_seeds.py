#!/usr/bin/env python
"""The suite's figures over several seeds at once, from run_suite.py --json files (one per seed).

A repair passes when its test score is within 2 points of its healthy reference's. On these test
splits (iris 22 rows, wine 27, breast_cancer 85) one row is 1-5 points, and noise_floor.py shows
the reference itself, retrained from another init on the same split, passes that test in only
82-91% of the cases: a single seed cannot tell a 95% doctor from a perfect one. So besides each
seed's own figures, this prints the test on each case's MEAN over the seeds: the repaired runs'
mean score against the references' mean score, the same 2-point margin. Costs are summed over
the seeds before the ratio, which evens out the machine's run-to-run timing noise.

    .venv/bin/python benchmarks/doctor/combine_seeds.py s0.json s1.json s2.json [--cases cases.yaml]

where sN.json came from `run_suite.py --no-rerun --seed N --json sN.json` on the same cases file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_suite import CASES, GOALS, MARGIN, load_cases  # noqa: E402


def combine(results: list[dict], cases: dict, out=print) -> dict:
    """results: the --json contents of each seed's run. Returns the combined figures."""
    rows = [r["summary"]["rows"] for r in results]
    faulty = [n for n in rows[0] if "repair_ok" in rows[0][n] and all(n in rs for rs in rows)]
    out(f"{'seed':>4} {'recall':>7} {'false alarms':>13} {'repairs':>8}")
    for i, r in enumerate(results):
        s = r["summary"]
        out(f"{i:>4} {s.get('recall', float('nan')):7.1%} {s.get('false_alarms', float('nan')):13.1%} "
            f"{s.get('repairs', float('nan')):8.1%}")
    passed, missed, cost_s, cost_e = [], [], [], []
    for n in faulty:
        rep = [rs[n].get("repaired_score") for rs in rows]
        ref = [rs[n].get("ref_score") for rs in rows]
        if any(v is None for v in rep + ref):
            missed.append((n, None, None))
            continue
        m_rep, m_ref = statistics.mean(rep), statistics.mean(ref)
        ok = m_rep >= m_ref - MARGIN
        (passed if ok else missed).append((n, m_rep, m_ref))
        if ok:
            ref_name = cases[n]["healthy_ref"]
            seconds = [(r["repaired"].get(n, {}).get("seconds"), r["plain"].get(ref_name, {}).get("seconds"))
                       for r in results]
            epochs = [(r["repaired"].get(n, {}).get("epochs_total"), r["plain"].get(ref_name, {}).get("epochs_total"))
                      for r in results]
            if all(a and b for a, b in seconds):
                cost_s.append(sum(a for a, _ in seconds) / sum(b for _, b in seconds))
            if all(a and b for a, b in epochs):
                cost_e.append(sum(a for a, _ in epochs) / sum(b for _, b in epochs))
    rate = len(passed) / len(faulty) if faulty else float("nan")
    # The same test on the faulty runs as they are, doctor on but repair off: what the measure
    # gives a repair that changes nothing (a test that cannot fail would pass these too).
    as_is = [n for n in faulty if all(rs[n].get("score") is not None and rs[n].get("ref_score") is not None
                                      for rs in rows)
             and statistics.mean(rs[n]["score"] for rs in rows)
             >= statistics.mean(rs[n]["ref_score"] for rs in rows) - MARGIN]
    out(f"\n== repairs on the mean over {len(results)} seeds (mean repaired score >= mean reference score - "
        f"{MARGIN:g}): {len(passed)}/{len(faulty)} = {rate:.1%} (goal >= {GOALS['repairs']:.0%})")
    out("   not repaired on the mean: " + (", ".join(
        f"{n} ({'a run without a score' if a is None else f'{a:.3f} vs {b:.3f}'})" for n, a, b in missed) or "none"))
    out(f"   the faulty runs unrepaired pass the same test in {len(as_is)}/{len(faulty)} cases"
        + (f" ({', '.join(as_is)})" if as_is else ""))
    summary = {"seeds": len(results), "faulty": len(faulty), "repairs_mean": rate,
               "not_repaired": [n for n, _, _ in missed], "unrepaired_pass": len(as_is)}
    if cost_e:
        summary["cost_epochs"] = statistics.median(cost_e)
        out(f"== repair cost in epochs (summed over the seeds), over the {len(cost_e)} cases repaired on the mean: "
            f"median {summary['cost_epochs']:.2f}x")
    if cost_s:
        summary["cost_seconds"] = statistics.median(cost_s)
        out(f"== repair cost in seconds (summed over the seeds): median {summary['cost_seconds']:.2f}x "
            f"(goal <= {GOALS['cost']}x)")
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", type=Path, help="run_suite.py --json files, one per seed")
    p.add_argument("--cases", type=Path, default=CASES, help="the cases file the runs used")
    a = p.parse_args(argv)
    if len(a.results) < 2:
        p.error("give at least two seeds' results")
    combine([json.loads(f.read_text()) for f in a.results], load_cases(a.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
