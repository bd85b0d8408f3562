"""The CLI end to end on real (tiny) data: run directory contract, evaluate, predict, schema."""

import json

import pandas as pd
import pytest
import yaml


def test_train_prints_run_dir_last_and_writes_contract(cli, write_yaml, tiny_cfg, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("train", write_yaml(tiny_cfg), "--out", out, "--quiet")
    assert code == 0, err
    assert stdout.strip().splitlines()[-1] == str(out)
    for name in ("config.yaml", "history.jsonl", "metrics.json", "findings.json", "model.safetensors",
                 "preprocess.json", "data.json", "run.json", "checkpoints/last.safetensors",
                 "checkpoints/best.safetensors", "log.txt"):
        assert (out / name).is_file(), name
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5]
    assert {"epoch", "lr", "train_loss", "val_loss", "val_accuracy", "seconds"} <= set(history[0])
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"val", "test"}
    assert {"accuracy", "f1", "roc_auc", "log_loss", "confusion_matrix"} <= set(metrics["test"])
    resolved = (out / "config.yaml").read_text()
    assert "weight_decay" in resolved and "early_stopping" in resolved  # defaults included


def test_set_overrides_reach_the_run(cli, write_yaml, tiny_cfg, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("train", write_yaml(tiny_cfg), "--out", out, "-q", "--set", "training.epochs=2",
                       "--set", "model.hidden=[8,4]", "--set", "optimizer.lr=0.02")
    assert code == 0, err
    text = (out / "config.yaml").read_text()
    assert "epochs: 2" in text and "lr: 0.02" in text
    assert len((out / "history.jsonl").read_text().splitlines()) == 2


def test_evaluate_and_predict(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    out = tmp_path / "run"
    assert cli("train", write_yaml(tiny_cfg), "--out", out, "-q")[0] == 0
    code, stdout, err = cli("evaluate", out)
    assert code == 0, err
    scores = json.loads(stdout)
    stored = json.loads((out / "metrics.json").read_text())["test"]
    assert scores["test"]["accuracy"] == pytest.approx(stored["accuracy"])

    code, stdout, err = cli("evaluate", out, "--data", blobs_csv)
    assert code == 0, err
    assert json.loads(stdout)["rows"] == 240

    new = pd.read_csv(blobs_csv).drop(columns=["label"]).head(20)
    inp = tmp_path / "new.csv"
    new.to_csv(inp, index=False)
    pred_path = tmp_path / "pred.csv"
    code, _, err = cli("predict", out, inp, "-o", pred_path)
    assert code == 0, err
    pred = pd.read_csv(pred_path)
    assert list(pred.columns) == ["prediction", "proba_cat", "proba_dog", "proba_eel"]
    assert len(pred) == 20 and set(pred["prediction"]) <= {"cat", "dog", "eel"}
    assert pred[["proba_cat", "proba_dog", "proba_eel"]].sum(axis=1).round(5).eq(1).all()


def test_schema_and_config_commands(cli, write_yaml, tiny_cfg):
    code, stdout, _ = cli("schema")
    assert code == 0 and "optimizer" in json.loads(stdout)["properties"]
    code, stdout, _ = cli("config", write_yaml(tiny_cfg), "--set", "optimizer.lr=0.5")
    assert code == 0 and "lr: 0.5" in stdout


def test_help_is_fast_and_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from trainwell.cli import app; "
            "assert 'torch' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repair_flag_turns_the_doctor_s_repair_on_and_refuses_a_resume(cli, write_yaml, tiny_cfg, tmp_path):
    # Label smoothing 0.99 over 3 classes: the targets are all but uniform, and the doctor's repair
    # sets it back to 0.1 inside the run.
    cfg = {**tiny_cfg, "loss": {"label_smoothing": 0.99}, "training": {"epochs": 20, "batch_size": 32}}
    out = tmp_path / "run"
    code, _, err = cli("train", write_yaml(cfg), "--out", out, "-q", "--repair")
    assert code == 0, err
    assert yaml.safe_load((out / "config.yaml").read_text())["doctor"]["repair"] is True
    repairs = json.loads((out / "repairs.json").read_text())
    assert repairs[0]["overrides"] == {"loss.label_smoothing": 0.1}
    code, _, err = cli("train", "--resume", out, "--repair")
    assert code == 2 and "--repair" in err


def test_repair_flag_with_the_doctor_off_is_exit_2_before_anything_is_written(cli, write_yaml, tiny_cfg, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("train", write_yaml(tiny_cfg), "--out", out, "-q", "--repair",
                            "--set", "doctor.enabled=false")
    assert code == 2 and "doctor.repair: true needs doctor.enabled: true" in err, err
    assert not out.exists() and "Traceback" not in err


def test_predict_takes_an_npz_of_new_rows_without_y_for_a_model_trained_on_an_npz_table(cli, write_yaml, tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype("float32")
    np.savez(tmp_path / "train.npz", x=x, y=(x[:, 0] > 0).astype("int64"))
    np.savez(tmp_path / "new.npz", x=x[:5])
    cfg = {"name": "npz", "seed": 0, "data": {"source": str(tmp_path / "train.npz")},
           "model": {"hidden": [8]}, "training": {"epochs": 2}}
    code, _, err = cli("train", write_yaml(cfg), "--out", tmp_path / "run", "-q")
    assert code == 0, err
    code, _, err = cli("predict", tmp_path / "run", tmp_path / "new.npz", "-o", tmp_path / "p.csv")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "p.csv")) == 5
    code, _, err = cli("evaluate", tmp_path / "run", "--data", tmp_path / "new.npz")
    assert code == 2 and "'y'" in err, err


def test_a_reader_that_goes_away_ends_the_command_quietly_with_141():
    """`trainwell runs | head -1`: exit as SIGPIPE would (128 + 13), no traceback, not 1 (a crash)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "schema"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command has imported its modules, so its first write fails
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert b"Traceback" not in err and b"Exception ignored" not in err


@pytest.mark.parametrize("signame, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_before_training_starts_ends_with_a_line_and_its_code(signame, code, tmp_path):
    """kill during data preparation or model building: Python's default for SIGTERM is a silent death."""
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "slowbuild.py").write_text(
        "import pathlib, time\n"
        "def build(spec):\n"
        "    pathlib.Path('building').touch()\n"
        "    time.sleep(120)\n")
    cfg = {"name": "slow", "data": {"source": "builtin:iris"},
           "model": {"type": "python", "builder": "slowbuild:build"}, "training": {"epochs": 1}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    # The child must not inherit an ignored SIGINT (a test run started in the background of a
    # non-interactive shell has one, and the CLI leaves an ignored signal ignored, as nohup asks).
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "train", "cfg.yaml", "--out", "run", "-q"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (tmp_path / "building").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    by = " by SIGTERM" if signame == "SIGTERM" else ""
    assert f"Interrupted{by}; no training step had run" in err.decode()
    assert b"Traceback" not in err


def test_resume_refuses_a_config_or_out_it_would_ignore(cli, write_yaml, tiny_cfg, tmp_path):
    """train CONFIG --resume RUN went on with RUN's saved config, and --out was dropped, both silently."""
    import os
    import signal
    import subprocess
    import sys
    import time

    tiny_cfg["training"].update(epochs=400, early_stopping={"enabled": False}, checkpoint_interval=0)
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "train", str(write_yaml(tiny_cfg)), "--out", str(run),
                             "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    history = run / "history.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (history.exists() and len(history.read_text().splitlines()) >= 2):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    before = history.read_text()
    other = write_yaml({**tiny_cfg, "name": "other", "optimizer": {"name": "sgd", "lr": 0.5}}, "other.yaml")
    code, _, err = cli("train", other, "--resume", run, "-q")
    assert code == 2 and "CONFIG cannot be combined with --resume" in err and "Traceback" not in err
    code, _, err = cli("train", "--resume", run, "--out", tmp_path / "elsewhere", "-q")
    assert code == 2 and "--out cannot be combined with --resume" in err
    assert history.read_text() == before and not (tmp_path / "elsewhere").exists()
