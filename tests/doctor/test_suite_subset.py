"""A small slice of the doctor's fault suite (benchmarks/doctor): real runs on bundled data.

Three faults (a learning rate far too low, a feature 10^4 times its neighbours with scaling
off, a deep sigmoid stack with tiny init) must each be named first; two healthy runs must raise
no warning or error; the learning-rate fault must be repaired live to within 2 points of its
healthy reference. The whole suite is `python benchmarks/doctor/run_suite.py`.
"""

import importlib.util
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "doctor" / "run_suite.py"


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("doctor_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(suite):
    lines = []
    summary, cases, plain, repaired = suite.run_suite(
        suite.SUBSET, repair=False, rerun=False, out=lines.append)
    return summary, cases, plain, lines


def test_suite_file_has_enough_cases(suite):
    cases = suite.load_cases()
    faulty = [c for c in cases.values() if c["expect"]]
    healthy = [c for c in cases.values() if not c["expect"]]
    assert len(faulty) >= 30 and len(healthy) >= 15
    assert all(c["healthy_ref"] in cases and not cases[c["healthy_ref"]]["expect"] for c in faulty)


def test_faults_are_named_first(results):
    summary, cases, plain, lines = results
    for name in ("f_digits_adam_lr_low", "f_iris_x1e4_noscale", "f_digits_deep_sigmoid"):
        run = plain[name]
        assert run["error"] is None, run.get("traceback")
        first = run["findings"][0]["code"] if run["findings"] else None
        assert first in cases[name]["expect"], (name, [f["code"] for f in run["findings"]], "\n".join(lines))


def test_healthy_runs_raise_no_alarm(results):
    summary, cases, plain, lines = results
    for name in ("h_digits", "h_wine"):
        run = plain[name]
        assert run["error"] is None, run.get("traceback")
        alarms = [f["code"] for f in run["findings"] if f["severity"] in ("warning", "error")]
        assert alarms == [], (name, alarms)
    assert summary["false_alarms"] == 0


def test_lr_too_low_is_repaired_live(suite):
    cases = suite.load_cases()
    case = cases["f_digits_adam_lr_low"]
    healthy = suite.run_one(cases[case["healthy_ref"]]["config"])
    cfg = suite._merge(case["config"], {"doctor": {"repair": True}})
    repaired = suite.run_one(cfg)
    assert repaired["error"] is None, repaired.get("traceback")
    assert [r["code"] for r in repaired["repairs"]][:1] == ["lr_too_low"]
    assert suite.score(repaired, None) >= suite.score(healthy, None) - suite.MARGIN


def _result(seconds, epochs, acc, **extra):
    return {"error": None, "findings": [], "repairs": [], "metrics": {"test": {"accuracy": acc}},
            "task": "classification", "seconds": seconds, "epochs_total": epochs, "overhead": 0.02, **extra}


def test_repair_cost_in_seconds_uses_the_reference_timed_beside_the_repair(suite):
    cases = {"h": {"expect": [], "healthy_ref": None, "metric": None},
             "f": {"expect": ["lr_too_low"], "healthy_ref": "h", "metric": None}}
    fix = [{"code": "lr_too_low", "overrides": {"optimizer.lr": 0.01}, "action": "rolled back"}]
    plain = {"h": _result(1.0, 30, 0.95), "f": _result(0.5, 30, 0.5)}
    # The reference's plain run took 1.0 s early on; beside the repair it took 2.0 s.
    repaired = {"f": _result(2.2, 33, 0.95, repairs=fix, ref_beside={"seconds": 2.0, "epochs_total": 30})}
    summary = suite.summarise(cases, ["h", "f"], plain, repaired, 1.0, out=lambda *_: None)
    assert summary["cost"] == 1.1
    assert summary["cost_apart"] == 2.2
    assert summary["cost_epochs"] == 1.1
    # Without a reference timed beside it, the plain run is the yardstick.
    del repaired["f"]["ref_beside"]
    summary = suite.summarise(cases, ["h", "f"], plain, repaired, 1.0, out=lambda *_: None)
    assert summary["cost"] == 2.2 and "cost_apart" not in summary
