#!/usr/bin/env python
"""Dead ReLU units before the first step, per case: the share of each layer's units that output
zero for every probe row in the probe taken before training (signals.json "initial_probe").

It calibrates dying_relu's limit for units dead from the initialisation (a quarter): a sound init
leaves almost none. Runs every healthy case and every case labelled dying_relu for one epoch.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/doctor/initial_dead.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    import trainwell
    from run_suite import load_cases

    rows = []
    for name, case in load_cases().items():
        if case["expect"] and "dying_relu" not in case["expect"]:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = trainwell.train(case["config"], {"training.epochs": 1}, out=tempfile.mkdtemp(), quiet=True)
        signals = json.loads((Path(run.path) / "signals.json").read_text())
        dead = (signals.get("initial_probe") or {}).get("dead") or {}
        rows.append((max(dead.values(), default=0.0), name, "dying_relu" if case["expect"] else "healthy", dead))
    for worst, name, kind, dead in sorted(rows, reverse=True):
        print(f"{name:30} {kind:10} worst layer {worst:6.1%}  {dead}")
    healthy = [w for w, _, kind, _ in rows if kind == "healthy"]
    print(f"healthy runs: {len(healthy)}, largest share dead before the first step {max(healthy, default=0):.1%}")


if __name__ == "__main__":
    main()
