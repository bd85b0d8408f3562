#!/usr/bin/env python
"""What turning repair on costs a healthy run: the same config trained with doctor.repair false and
true, interleaved, in one process with one torch thread. With repair on the doctor keeps a state to
roll back to at every healthy epoch (and the best epoch's weights); on a healthy run nothing else
changes, so the difference is that bookkeeping.

Prints per case the median fit seconds (run.json "seconds") of each, their ratio, and the doctor's
own share of the fit (run.json doctor_rules_overhead: the rules, plus the snapshots with repair on).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/doctor/repair_mode.py [--repeats 5] [--cases h_wine,h_digits]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

# Small and deep nets on the bundled sets: a tiny epoch (wine: 3 ms) shows the per-epoch cost
# most; the deep batch-norm net holds 160 tensors to copy with Adam.
CASES = "h_wine,h_digits,h_bc,h_iris,h_wine_wide,h_digits_cnn"
DEEP = {"name": "deep_bn_wine", "data": {"source": "builtin:wine"}, "optimizer": {"name": "adam", "lr": 1e-3},
        "model": {"hidden": [64] * 8, "activation": "sigmoid", "batch_norm": True}, "training": {"epochs": 40}}


def main() -> None:
    import run_suite as rs
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cases", default=CASES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cases = rs.load_cases()
    configs = {n: cases[n]["config"] for n in args.cases.split(",")}
    configs[DEEP["name"]] = rs._merge(cases["h_wine"]["config"], DEEP)
    rs.run_one(configs[next(iter(configs))])   # imports and caches warm before anything is timed
    print(f"{'case':16s} {'off s':>7s} {'on s':>7s} {'on/off':>7s} {'doctor off':>10s} {'doctor on':>10s}")
    ratios = []
    for name, cfg in configs.items():
        off, on = [], []
        for _ in range(args.repeats):
            off.append(rs.run_one(rs._merge(cfg, {"doctor": {"repair": False}})))
            on.append(rs.run_one(rs._merge(cfg, {"doctor": {"repair": True}})))
        s_off, s_on = (statistics.median(r["seconds"] for r in rs_) for rs_ in (off, on))
        d_off, d_on = (statistics.median(r["rules_overhead"] for r in rs_) for rs_ in (off, on))
        ratios.append(s_on / s_off)
        print(f"{name:16s} {s_off:7.3f} {s_on:7.3f} {s_on / s_off:7.3f} {100 * d_off:9.1f}% {100 * d_on:9.1f}%", flush=True)
    print(f"median on/off over {len(ratios)} cases: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
