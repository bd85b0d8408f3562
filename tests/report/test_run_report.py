"""The HTML reports, structurally (runs everywhere): every section, images that are real PNGs,
nothing loaded from the network; bad input; a crashed run's partial report; study and LR reports."""

import base64
import json
import re
import shutil

import pytest

import trainwell
from trainwell.report import build_run_report, write_lr_report, write_run_report, write_study_report
from trainwell.report.run import SECTIONS
from trainwell.doctor.report import ORDER

IMG = re.compile(r'<img class="plot" alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def images(html: str) -> list[tuple[str, bytes]]:
    return [(alt, base64.b64decode(data)) for alt, data in IMG.findall(html)]


def section(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S)
    assert m, f"section {sid} missing"
    return m.group(1)


def assert_self_contained(html: str) -> None:
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<script" not in html
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attr.startswith(("data:image/png;base64,", "#")), attr
    assert "http://" not in html and "https://" not in html


def test_train_writes_a_report_with_every_section(class_run):
    html = (class_run / "report.html").read_text()
    for sid in SECTIONS:
        section(html, sid)
    assert_self_contained(html)
    imgs = images(html)
    assert [alt.split(":")[0].split(" ")[0] for alt, _ in imgs] == ["learning", "learning", "gradient", "confusion"]
    for alt, png in imgs:
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000, alt
    summary = section(html, "summary")
    assert "multiclass" in summary and "parameters" in summary and "cpu" in summary and "completed" in summary
    data = section(html, "data")
    assert "Rows per split" in data and "Class balance" in data and "cat" in data and "imputed" in data
    assert "optimizer:" in section(html, "config") and "early_stopping:" in section(html, "config")
    curves = section(html, "curves")
    assert "best epoch" in curves and "early stop" in curves
    assert "confusion matrix" in section(html, "evaluation")
    assert "Partial report" not in html
    metrics = json.loads((class_run / "metrics.json").read_text())["test"]
    assert f"{metrics['accuracy']:.4g}" in section(html, "metrics")


def test_findings_show_evidence_and_fixes(class_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(class_run, run)
    finding = {"code": "lr_too_high", "severity": "warning", "epoch": 3, "step": 12,
               "evidence": {"update_ratio": 0.31, "limit": 0.1}, "explanation": "Steps are far too large.",
               "fixes": [{"overrides": {"optimizer.lr": 0.001}, "reason": "a smaller step", "architecture": False}]}
    (run / "findings.json").write_text(json.dumps([finding]))
    html = build_run_report(run)
    findings = section(html, "findings")
    assert "lr_too_high" in findings and "Steps are far too large." in findings
    assert "update_ratio" in findings and "0.31" in findings and "--set optimizer.lr=0.001" in findings


def test_regression_report_plots_predicted_vs_actual(regression_run):
    html = (regression_run / "report.html").read_text()
    evaluation = section(html, "evaluation")
    assert "Predicted vs actual" in html and "predicted vs actual, and residuals" in evaluation
    assert len(images(evaluation)) == 1
    assert "rmse" in section(html, "metrics")


def test_report_command(class_run, cli, tmp_path):
    out = tmp_path / "elsewhere.html"
    code, stdout, err = cli("report", class_run, "--out", out)
    assert code == 0, err
    assert stdout.strip() == str(out) and out.read_text().startswith("<!DOCTYPE html>")


def test_missing_run_directory_is_exit_2(cli, tmp_path):
    code, _, err = cli("report", tmp_path / "no-such-run")
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli("report", tmp_path / "empty")
    assert code == 2 and "not a trainwell run directory" in err and "run.json" in err


def test_crashed_run_gets_a_partial_report(class_run, tmp_path):
    """What a kill -9 mid-training leaves: run.json says running (its process is gone), part of
    the history with its last line cut, no metrics, findings, signals or final model."""
    run = tmp_path / "crashed"
    shutil.copytree(class_run, run)
    for name in ("metrics.json", "findings.json", "signals.json", "model.safetensors", "report.html"):
        (run / name).unlink()
    lines = (run / "history.jsonl").read_text().splitlines()[:3]
    (run / "history.jsonl").write_text("\n".join(lines) + '\n{"epoch": 4, "lr": 0.0')
    info = json.loads((run / "run.json").read_text())
    for key in ("finished", "stop_reason", "best_epoch", "best", "epochs_run"):
        info.pop(key, None)
    info.update(status="running", pid=2**22 + 12345)  # above Linux's pid_max: no such process
    (run / "run.json").write_text(json.dumps(info))

    path = write_run_report(run)
    html = path.read_text()
    for sid in SECTIONS:
        section(html, sid)
    assert "Partial report" in html and "interrupted" in html
    assert "3 epoch(s) of history" in html and "cut off" in html
    assert "missing: metrics.json, findings.json, signals.json, model.safetensors" in html
    assert "trainwell train --resume" in html
    assert len(images(section(html, "curves"))) == 1 and len(images(section(html, "lr"))) == 1
    assert "No final metrics" in section(html, "metrics")
    assert "No confusion matrix" in section(html, "evaluation")


def test_report_can_be_switched_off(tmp_path, tiny_cfg):
    run = trainwell.train(tiny_cfg, {"logging.report": False, "training.epochs": 2}, out=tmp_path / "r")
    assert not (run.path / "report.html").exists()


def test_study_report_from_a_real_optuna_study(tmp_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))

    def objective(trial):
        lr = trial.suggest_float("optimizer.lr", 1e-4, 1e-1, log=True)
        width = trial.suggest_categorical("model.hidden", ["[16]", "[64, 32]"])
        value = 0.0
        for epoch in range(1, 8):
            value = 0.9 - abs(lr - 0.01) * 5 - (0.05 if width == "[16]" else 0) - 0.3 / epoch
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=14)
    path = write_study_report(tmp_path, study, metric="val_accuracy",
                              best_config={"optimizer": {"lr": study.best_params["optimizer.lr"]}})
    html = path.read_text()
    assert path == tmp_path / "report.html"
    assert_self_contained(html)
    for sid in ("summary", "history", "importances", "parallel", "trials", "best"):
        section(html, sid)
    assert len(images(html)) == 4
    states = {t.state.name.lower() for t in study.trials}
    assert "pruned" in states  # the case this report must show
    assert "pruned" in section(html, "trials") and "complete" in section(html, "trials")
    assert "optimizer.lr" in section(html, "best") and "Best config" in section(html, "best")
    # the report's importances are the ones `tune --show` prints and importances.json holds (fANOVA)
    from trainwell.report.study import _importances
    from trainwell.tuning.results import importances

    shown, _ = _importances(study, [{"state": t.state.name, "params": t.params} for t in study.trials])
    assert {k: round(v, 4) for k, v in shown.items()} == importances(study)["value"]


def test_study_report_counts_interrupted_and_skipped_trials_apart_from_failures(tmp_path):
    import optuna

    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for attrs in ({}, {"interrupted": True}, {"duplicate_of": 0}):
        t = study.ask({"optimizer.lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
        for k, v in attrs.items():
            t.set_user_attr(k, v)
        study.tell(t, 0.9 if not attrs else None, state=TrialState.COMPLETE if not attrs else TrialState.FAIL)
    trials = section(write_study_report(tmp_path, study, metric="val_accuracy").read_text(), "trials")
    assert "interrupted" in trials and "skipped" in trials and ">fail<" not in trials


def test_study_report_from_plain_values(tmp_path):
    trials = [{"number": i, "state": "PRUNED" if i % 3 == 2 else "COMPLETE", "value": None if i % 3 == 2 else 0.5 + i / 100,
               "params": {"lr": 10 ** -(i % 4), "opt": ["adam", "sgd"][i % 2]},
               "intermediate": {1: 0.3, 2: 0.4 + i / 100}} for i in range(6)]
    path = write_study_report(tmp_path, {"trials": trials, "direction": "maximize", "metric": "val_f1"})
    html = path.read_text()
    assert "No importances" in section(html, "importances")
    assert len(images(html)) == 3
    with pytest.raises(trainwell.UserError, match="direction"):
        write_study_report(tmp_path, {"trials": trials})


def test_lr_finder_report(tiny_cfg, tmp_path):
    from trainwell.doctor.lr_finder import find_lr

    result = find_lr(trainwell.load_config(tiny_cfg), steps=40, out_png=tmp_path / "lr.png")
    html = write_lr_report(result, tmp_path / "lr.html", config_name="tiny").read_text()
    assert_self_contained(html)
    for sid in ("suggestion", "curve", "settings"):
        section(html, sid)
    assert len(images(html)) == 1
    assert ("Suggested learning rate" in html) == (result.suggestion is not None)


@pytest.mark.parametrize("key, value, package", [("logging.tensorboard", True, "tensorboard"),
                                                 ("logging.mlflow", "file:./mlruns", "mlflow")])
def test_optional_logger_not_installed_is_a_clear_error(tiny_cfg, tmp_path, monkeypatch, key, value, package):
    import sys

    # A None entry in sys.modules is what importlib reports as "not installed", so this path is
    # tested whether or not the package is present (tensorboard is, in the dev extras).
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(trainwell.UserError, match=rf"pip install {package}"):
        trainwell.train(tiny_cfg, {key: value}, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_optional_loggers_write(tiny_cfg, tmp_path, monkeypatch):
    # tensorboard is in the dev extras, so this runs in CI; a user's install does not need it.
    monkeypatch.chdir(tmp_path)
    overrides = {"logging.tensorboard": True, "training.epochs": 2}
    run = trainwell.train(tiny_cfg, overrides, out=tmp_path / "r")
    assert list((run.path / "tensorboard").glob("events.out.tfevents.*"))


def test_mlflow_logger_writes_params_metrics_and_the_report(tiny_cfg, tmp_path, monkeypatch):
    # mlflow-skinny is in the dev extras, so this runs in CI; a user's install does not need it.
    import mlflow
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    uri = (tmp_path / "mlruns").as_uri()
    # MLflow 3 refuses its file store unless asked: that refusal is a clear error naming the key...
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    with pytest.raises(trainwell.UserError, match="logging.mlflow: MLflow could not log"):
        trainwell.train(tiny_cfg, {"logging.mlflow": uri, "training.epochs": 1}, out=tmp_path / "refused")
    # ...and with the file store allowed (a server or a database URI works the same way) it logs.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    run = trainwell.train(tiny_cfg, {"logging.mlflow": uri, "training.epochs": 3}, out=tmp_path / "r")
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("tiny")
    [logged] = client.search_runs([exp.experiment_id])
    assert logged.info.status == "FINISHED"
    assert logged.data.params["optimizer.lr"] == "0.01"
    assert len(client.get_metric_history(logged.info.run_id, "val_loss")) == len(run.history) == 3
    assert logged.data.metrics["test_accuracy"] == pytest.approx(run.metrics["test"]["accuracy"])
    assert "report.html" in [a.path for a in client.list_artifacts(logged.info.run_id)]
    mlflow.set_tracking_uri(None)


def test_a_run_whose_loss_is_nan_from_the_first_epoch_gets_its_report(tmp_path, make_blobs, cli):
    """NaN inputs left as they are: every loss is NaN, so the loss panel has no line and the
    legend once had no entry (fig.legend(ncol=0) raised; train said 'report: not written' and
    `trainwell report` printed a traceback)."""
    import numpy as np

    df = make_blobs(120, color=False)
    df.loc[::10, "a"] = np.nan
    df.to_csv(tmp_path / "nan.csv", index=False)
    cfg = {"name": "nan", "data": {"source": str(tmp_path / "nan.csv"), "target": "label",
                                   "clean": {"impute": "none"}},
           "model": {"hidden": [8]}, "training": {"epochs": 2}}
    run = trainwell.train(cfg, out=tmp_path / "r")
    assert all(h["train_loss"] != h["train_loss"] for h in run.history)  # NaN throughout
    assert "report: not written" not in (run.path / "log.txt").read_text()
    code, stdout, err = cli("report", run.path, "--out", tmp_path / "again.html")
    assert code == 0 and "Traceback" not in err, err
    html = (tmp_path / "again.html").read_text()
    curves = section(html, "curves")
    assert len(images(curves)) == 1 and "could not be built" not in html


def test_a_section_that_cannot_be_built_is_a_note_not_a_lost_report(class_run, tmp_path, monkeypatch):
    from trainwell.report import plots

    def broken(*args, **kwargs):
        raise ValueError("a plot the values break")

    monkeypatch.setattr(plots, "learning_curves", broken)
    html = build_run_report(class_run)
    assert "No learning curves: it could not be built (ValueError: a plot" in section(html, "curves")
    assert len(images(section(html, "gradients"))) == 1 and "confusion matrix" in section(html, "evaluation")


def test_a_doctor_off_run_is_not_reported_healthy(tmp_path, tiny_cfg):
    # findings.json is an empty list with the doctor off too; the report called that healthy.
    run = trainwell.train(tiny_cfg, {"doctor.enabled": False, "training.epochs": 2}, out=tmp_path / "r")
    html = (run.path / "report.html").read_text()
    assert "Healthy" not in html and "healthy" not in section(html, "summary")
    assert "No findings: the doctor was off (doctor.enabled: false)." in section(html, "findings")
    assert "off (doctor.enabled: false)" in section(html, "summary")


def test_an_interrupted_run_reports_its_findings_as_the_findings_so_far(class_run, tmp_path):
    run = tmp_path / "stopped"
    shutil.copytree(class_run, run)
    for name in ("metrics.json", "model.safetensors", "report.html"):
        (run / name).unlink()
    finding = {"code": "plateau", "severity": "info", "epoch": 3, "step": 12, "evidence": {"gain": 0.001},
               "explanation": "The loss stopped improving.", "fixes": []}
    (run / "findings.json").write_text(json.dumps([finding]))
    info = json.loads((run / "run.json").read_text())
    info["status"] = "interrupted"
    (run / "run.json").write_text(json.dumps(info))
    html = build_run_report(run)
    assert f"The findings so far (run status: interrupted): 1, {ORDER}." in section(html, "findings")
    assert "1 finding(s) (info) (so far)" in section(html, "summary")
