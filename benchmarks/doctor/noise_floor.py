#!/usr/bin/env python
"""How often would a perfect repair pass the suite's repair test?

The suite calls a repair successful when the repaired run's test score is no more than 2 points
below its healthy reference's, both trained once on the same split. A perfect repair is the
reference config itself. So this trains each healthy reference again on the same split
(data.split.seed fixed to the suite seed) from K other inits and batch orders (seed), and scores
each retrain against the suite's reference score by the same 2-point test. The share that
passes is the highest repair rate the suite can report for repairs that are exactly right,
weighted as the suite weights them: once per faulty case that uses the reference.

    .venv/bin/python benchmarks/doctor/noise_floor.py [--seed 0] [--inits 4] [--json out.json]

One process, one torch thread, as run_suite.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_suite import MARGIN, _merge, ensure_data, load_cases, run_one, score  # noqa: E402


def noise_floor(seed: int, inits: int, out=print) -> dict:
    import torch

    torch.set_num_threads(1)
    ensure_data()
    cases = load_cases()
    faulty = [c for c in cases.values() if c["expect"]]
    uses = Counter(c["healthy_ref"] for c in faulty)
    metric = {c["healthy_ref"]: c["metric"] for c in faulty}
    t0 = time.perf_counter()
    refs = {}
    out(f"{'reference':24} {'faults':>6} {'suite':>6}  retrains from other inits (same split)   passed")
    for ref, n in sorted(uses.items()):
        base = _merge(cases[ref]["config"], {"seed": seed, "data": {"split": {"seed": seed}}})
        first = score(run_one(base), metric[ref])
        again = [score(run_one(_merge(base, {"seed": seed + 1000 * k})), metric[ref]) for k in range(1, inits + 1)]
        passed = [a is not None and first is not None and a >= first - MARGIN for a in again]
        refs[ref] = {"faults": n, "suite": first, "retrains": again, "passed": sum(passed)}
        out(f"{ref:24} {n:>6} {first:6.3f}  {' '.join(f'{a:6.3f}' for a in again):40} {sum(passed)}/{inits}")
    cases_total = sum(uses.values())
    rate = sum(r["faults"] * r["passed"] / inits for r in refs.values()) / cases_total
    spread = [max(r["retrains"] + [r["suite"]]) - min(r["retrains"] + [r["suite"]]) for r in refs.values()]
    out(f"\n== a perfect repair (the reference retrained on the same split from {inits} other inits) passes the "
        f"{MARGIN:g} test in {rate:.1%} of the {cases_total} faulty cases (seed {seed})")
    out(f"== spread of each reference's test score over its {inits + 1} inits: median {statistics.median(spread):.3f}, "
        f"max {max(spread):.3f}")
    out(f"== wall time {time.perf_counter() - t0:.0f} s")
    return {"seed": seed, "inits": inits, "rate": rate, "refs": refs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=0, help="the suite seed: the split and the reference run")
    p.add_argument("--inits", type=int, default=4, help="retrains of each reference from other seeds")
    p.add_argument("--json", type=Path, help="write the figures here")
    a = p.parse_args(argv)
    result = noise_floor(a.seed, a.inits)
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
