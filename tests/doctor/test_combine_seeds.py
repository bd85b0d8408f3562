"""benchmarks/doctor/combine_seeds.py: the repair test on each case's mean over seeds."""

import importlib.util
from pathlib import Path

COMBINE = Path(__file__).resolve().parents[2] / "benchmarks" / "doctor" / "combine_seeds.py"


def _module():
    spec = importlib.util.spec_from_file_location("doctor_combine_seeds", COMBINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed(rows: dict, seconds: dict) -> dict:
    # what run_suite.py --json writes, reduced to the fields combine reads
    return {"summary": {"recall": 1.0, "false_alarms": 0.0, "repairs": 0.5, "rows": rows},
            "repaired": {n: {"seconds": s, "epochs_total": 10} for n, s in seconds.items()},
            "plain": {"h": {"seconds": 1.0, "epochs_total": 10}}}


def test_a_case_one_row_short_on_one_seed_passes_on_the_mean_and_a_real_miss_does_not():
    combine = _module().combine
    cases = {"f_noisy": {"healthy_ref": "h"}, "f_short": {"healthy_ref": "h"}}
    seeds = [
        _seed({"f_noisy": {"repair_ok": False, "repaired_score": 0.926, "ref_score": 0.963, "score": 0.4},
               "f_short": {"repair_ok": False, "repaired_score": 0.90, "ref_score": 0.96, "score": 0.4}},
              {"f_noisy": 1.0, "f_short": 2.0}),
        _seed({"f_noisy": {"repair_ok": True, "repaired_score": 1.0, "ref_score": 0.963, "score": 0.4},
               "f_short": {"repair_ok": True, "repaired_score": 0.95, "ref_score": 0.96, "score": 0.4}},
              {"f_noisy": 3.0, "f_short": 2.0}),
    ]
    lines = []
    summary = combine(seeds, cases, out=lines.append)
    # f_noisy: mean 0.963 against 0.963; f_short: mean 0.925 against 0.96, 3.5 points short
    assert summary["repairs_mean"] == 0.5 and summary["not_repaired"] == ["f_short"]
    assert summary["unrepaired_pass"] == 0  # the faulty runs as they are fail the same test
    assert summary["cost_seconds"] == 2.0  # (1 + 3) s over (1 + 1) s, summed before the ratio
    assert any("f_short (0.925 vs 0.960)" in line for line in lines)


def test_a_case_whose_reference_has_no_score_on_a_seed_is_a_miss_not_a_crash():
    combine = _module().combine
    cases = {"f": {"healthy_ref": "h"}}
    ok = {"f": {"repair_ok": True, "repaired_score": 0.9, "ref_score": 0.9, "score": 0.5}}
    broken = {"f": {"repair_ok": False, "repaired_score": 0.9, "ref_score": None, "score": 0.5}}
    summary = combine([_seed(ok, {"f": 1.0}), _seed(broken, {"f": 1.0})], cases, out=lambda line: None)
    assert summary["not_repaired"] == ["f"] and summary["unrepaired_pass"] == 0
