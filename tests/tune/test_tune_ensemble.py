"""Ensembles: bagging and a study's top-k; the directory evaluate and predict accept."""

import json

import pandas as pd

import trainwell
from trainwell.tuning.ensemble import bagging
from trainwell.tuning.study import tune


def test_bagging_members_train_on_bootstrap_samples_and_the_dir_loads_as_a_run(tiny_cfg, blobs_csv, tmp_path, cli):
    result = bagging(tiny_cfg, None, 3, out=tmp_path / "bag")
    assert set(result.metrics["members"]) == {"member-0", "member-1", "member-2"}
    assert "test" in result.metrics and "accuracy" in result.metrics["test"]
    rows = [json.loads((tmp_path / "bag" / "members" / m / "data.json").read_text())["bootstrap"]
            for m in result.metrics["members"]]
    assert len({r["seed"] for r in rows}) == 3 and all(r["distinct_rows"] < r["rows"] for r in rows)
    run = trainwell.load_run(tmp_path / "bag")
    evaluated = run.evaluate()
    assert evaluated["test"]["accuracy"] == result.metrics["test"]["accuracy"]
    assert set(evaluated["members"]) == set(result.metrics["members"])
    frame = pd.read_csv(blobs_csv).drop(columns=["label"]).head(7)
    pred = run.predict(frame)
    members = [m.predict(frame) for m in run.members]
    mean = sum(m["proba_cat"] for m in members) / 3
    assert (pred["proba_cat"] - mean).abs().max() < 1e-6
    assert set(pred["prediction"]) <= {"cat", "dog", "eel"}
    # the CLI accepts the ensemble directory like a run directory
    code, out, err = cli("evaluate", tmp_path / "bag")
    assert code == 0, err
    assert json.loads(out)["test"]["accuracy"] == result.metrics["test"]["accuracy"]
    code, out, err = cli("predict", tmp_path / "bag", blobs_csv, "-o", tmp_path / "p.csv")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "p.csv")) == len(pd.read_csv(blobs_csv))
    # diagnose gives each member's verdict: the ensemble itself was never trained, so "healthy" would
    # say nothing
    code, out, err = cli("diagnose", tmp_path / "bag")
    assert code == 0, err
    assert out.startswith(f"{tmp_path / 'bag'}: an ensemble of 3 member(s)")
    assert all(str(tmp_path / "bag" / "members" / m) in out for m in result.metrics["members"])


def test_top_k_of_a_study(tune_cfg, tmp_path, cli):
    tune_cfg["tune"].update(trials=3, pruner="none")
    tune(tune_cfg, out=tmp_path / "study")
    code, out, err = cli("ensemble", "--study", tmp_path / "study", "--top", 2, "--out", tmp_path / "top")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == str(tmp_path / "top")
    assert "ensemble" in out and "trial-" in out
    meta = json.loads((tmp_path / "top" / "ensemble.json").read_text())
    assert meta["method"] == "top_k" and len(meta["members"]) == 2
    ranked = sorted(meta["values"], reverse=True)
    assert meta["values"] == ranked
    assert not (tmp_path / "top" / meta["members"][0] / "checkpoints").exists()


def test_top_k_of_a_cross_validated_study_takes_every_fold_model_and_says_so(tune_cfg, tmp_path, cli):
    """A trial's value is the mean over its folds: all its fold models are members (not fold 0's alone),
    and the val metrics, on rows most members trained on, are left out."""
    tune_cfg["tune"].update(trials=2, pruner="none", cv_folds=2)
    tune(tune_cfg, out=tmp_path / "study")
    code, out, err = cli("ensemble", "--study", tmp_path / "study", "--top", 2, "--out", tmp_path / "top")
    assert code == 0, err
    assert "note: the study cross-validated: each of the 2 trials gives its 2 fold models" in err
    meta = json.loads((tmp_path / "top" / "ensemble.json").read_text())
    assert meta["cv_folds"] == 2 and len(meta["members"]) == 4
    assert sorted(m.rsplit("-", 1)[-1] for m in meta["members"]) == ["0", "0", "1", "1"]
    assert "judge it on test" in meta["note"]
    metrics = json.loads((tmp_path / "top" / "metrics.json").read_text())
    assert "val" not in metrics and metrics["test"]


def test_ensemble_bad_input(tiny_cfg, write_yaml, cli, tmp_path):
    code, _, err = cli("ensemble", write_yaml(tiny_cfg), "--members", 1)
    assert code == 2 and "--members" in err
    code, _, err = cli("ensemble")
    assert code == 2 and "either CONFIG" in err


def test_an_interrupted_bagging_ensemble_is_finished_by_the_same_command(tiny_cfg, write_yaml, cli, tmp_path):
    import json
    import os
    import signal
    import threading
    import time

    tiny_cfg["training"].update(epochs=30, early_stopping={"enabled": False}, checkpoint_interval=0)
    path, out = write_yaml(tiny_cfg), tmp_path / "ens"
    history = out / "members" / "member-0" / "history.jsonl"

    def interrupt():
        deadline = time.time() + 60
        while not history.exists() and time.time() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    code, _, err = cli("ensemble", path, "--members", "2", "--out", out, "-q")
    thread.join()
    assert code == 130, err
    assert f"trainwell ensemble {path} --members 2 --out {out}" in err and "member-0" not in err
    assert len(history.read_text().splitlines()) < 30, "member 0 finished before the interrupt"
    # --resume is for runs: it says how an ensemble is finished instead of calling it a killed run
    code, _, err = cli("train", "--resume", out)
    assert code == 2 and "unfinished ensemble" in err and f"--members 2 --out {out}" in err, err
    assert "first checkpoint" not in err

    code, stdout, err = cli("ensemble", path, "--members", "2", "--out", out, "-q")
    assert code == 0, err
    assert stdout.strip().splitlines()[-1] == str(out)
    for m in ("member-0", "member-1"):
        assert len((out / "members" / m / "history.jsonl").read_text().splitlines()) == 30
        assert json.loads((out / "members" / m / "run.json").read_text())["status"] == "completed"
    # finished: the same command again is refused as before, nothing overwritten
    code, _, err = cli("ensemble", path, "--members", "2", "--out", out, "-q")
    assert code == 2 and "not empty" in err
    code, _, err = cli("train", "--resume", out)
    assert code == 2 and "finished ensemble" in err and "nothing to resume" in err, err


def test_top_k_of_a_study_without_a_test_split_reports_val_metrics_and_says_so(tune_cfg, tmp_path, cli):
    tune_cfg["tune"].update(trials=2, pruner="none")
    tune_cfg["data"]["split"] = {"train": 0.85, "val": 0.15, "test": 0.0}
    tune(tune_cfg, out=tmp_path / "study")
    code, out, err = cli("ensemble", "--study", tmp_path / "study", "--top", 2, "--out", tmp_path / "top")
    assert code == 0, err
    assert out.startswith("val metrics, as there are no test metrics (the members have no test split)"), out
    ensemble = next(line for line in out.splitlines() if line.strip().startswith("ensemble"))
    assert len(ensemble.split()) > 1, out  # the ensemble's metrics, not its name alone
    metrics = json.loads((tmp_path / "top" / "metrics.json").read_text())
    assert "accuracy" in metrics["val"] and "test" not in metrics


def test_an_ensemble_with_no_metrics_says_why_instead_of_an_empty_table(tmp_path):
    from trainwell.tuning.ensemble import EnsembleResult

    table = EnsembleResult(tmp_path, {"members": {"trial-0001": {}, "trial-0002": {}}}, {"test": None}).table()
    assert table.startswith("no metrics: the members have no test split.")
    assert f"trainwell evaluate {tmp_path} --data FILE" in table
