"""Ctrl-C saves state and exits 130; --resume continues to the same result as an unbroken run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

import trainwell

CFG = {
    "name": "resume",
    "seed": 3,
    "data": {"source": "builtin:digits"},
    "model": {"hidden": [64], "dropout": 0.2},
    "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
    "schedule": {"name": "cosine", "warmup_epochs": 1},
    # One thread in every process: the in-process reference and the CLI runs must add up alike.
    "training": {"epochs": 15, "batch_size": 8, "early_stopping": {"patience": 100}, "threads": 1},
}


def _strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def test_same_seed_same_run(tmp_path):
    cfg = dict(CFG, training={**CFG["training"], "epochs": 3})
    a = trainwell.train(cfg, out=tmp_path / "a")
    b = trainwell.train(cfg, out=tmp_path / "b")
    assert _strip(a.history) == _strip(b.history)
    wa, wb = load_file(str(a.path / "model.safetensors")), load_file(str(b.path / "model.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_ctrl_c_then_resume_matches_unbroken_run(tmp_path, write_yaml):
    path = write_yaml(CFG)
    unbroken = trainwell.train(path, out=tmp_path / "unbroken")

    run = tmp_path / "broken"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "train", str(path), "--out", str(run), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    history = run / "history.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if history.exists() and len(history.read_text().splitlines()) >= 2:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    done = len(history.read_text().splitlines())
    assert done < CFG["training"]["epochs"], "the run finished before the interrupt; make it longer"

    resumed = subprocess.run([sys.executable, "-m", "trainwell", "train", "--resume", str(run), "-q"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1] == str(run)
    got = trainwell.load_run(run)
    assert _strip(got.history) == _strip(unbroken.history)
    assert got.metrics == unbroken.metrics
    wa, wb = load_file(str(run / "model.safetensors")), load_file(str(unbroken.path / "model.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(trainwell.UserError, match="no checkpoint"):
        trainwell.train(resume=tmp_path)


def test_kill_9_then_resume_from_last_epoch_checkpoint(tmp_path, write_yaml):
    """A hard kill skips every handler; the per-epoch checkpoint (interval 0) still resumes exactly."""
    cfg = dict(CFG, training={**CFG["training"], "epochs": 8, "checkpoint_interval": 0})
    path = write_yaml(cfg)
    unbroken = trainwell.train(path, out=tmp_path / "unbroken")
    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "train", str(path), "--out", str(run), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    history = run / "history.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (history.exists() and len(history.read_text().splitlines()) >= 3):
        time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=30)
    assert len(history.read_text().splitlines()) < 8, "the run finished before the kill; make it longer"
    resumed = subprocess.run([sys.executable, "-m", "trainwell", "train", "--resume", str(run), "-q"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    got = trainwell.load_run(run)
    assert _strip(got.history) == _strip(unbroken.history)
    wa, wb = load_file(str(run / "model.safetensors")), load_file(str(unbroken.path / "model.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_best_checkpoint_holds_the_restored_weights(tmp_path):
    cfg = dict(CFG, training={**CFG["training"], "epochs": 6, "checkpoint_interval": 3600})
    run = trainwell.train(cfg, out=tmp_path / "r")
    best = load_file(str(run.path / "checkpoints" / "best.safetensors"))
    final = load_file(str(run.path / "model.safetensors"))
    assert all(torch.equal(best[k], final[k]) for k in final)
    # A long interval still leaves a checkpoint at the end of training.
    from trainwell.training.checkpoint import unpack

    _, meta = unpack(run.path / "checkpoints" / "last.safetensors")
    assert meta["pos"]["epoch"] == len(run.history)


def test_sigterm_saves_state_like_ctrl_c_and_exits_143(tmp_path, write_yaml, tiny_cfg, cli):
    """kill, docker stop and a scheduler's preemption send SIGTERM: the run must be resumable after it."""
    import shutil
    import threading

    tiny_cfg["training"].update(epochs=2000, early_stopping={"enabled": False})
    run = tmp_path / "run"

    def term_once_training():
        deadline = time.time() + 60
        while not (run / "history.jsonl").exists() and time.time() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    def unhandled(signum, frame):  # without trainwell's handler, fail this test rather than kill pytest
        raise RuntimeError("SIGTERM reached the handler outside training")

    previous = signal.signal(signal.SIGTERM, unhandled)
    thread = threading.Thread(target=term_once_training, daemon=True)
    thread.start()
    try:
        code, _, err = cli("train", write_yaml(tiny_cfg), "--out", run, "-q")
        assert signal.getsignal(signal.SIGTERM) is unhandled  # restored when the fit ends
    finally:
        thread.join()
        signal.signal(signal.SIGTERM, previous)
    assert code == 143, err
    assert "SIGTERM" in err and f"--resume {run}" in err and "Traceback" not in err
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert (run / "checkpoints" / "last.safetensors").is_file()

    # Killed before its first checkpoint: both commands say so, neither points to the other.
    shutil.rmtree(run / "checkpoints")
    for args in (["train", "--resume", run], ["evaluate", run]):
        code, _, err = cli(*args)
        assert code == 2 and "before its first checkpoint" in err and f"{run / 'config.yaml'}" in err, err
        assert "--resume" not in err.split("before its first checkpoint")[1]


def test_resume_of_a_finished_run_is_refused_and_changes_nothing(tmp_path, write_yaml, tiny_cfg, cli):
    """A finished run keeps checkpoints/last.safetensors; --resume on it trained one more epoch after
    early stopping and rewrote history, metrics and run.json."""
    tiny_cfg["training"].update(epochs=200, early_stopping={"patience": 1, "min_delta": 10.0})
    run = trainwell.train(tiny_cfg, out=tmp_path / "r")
    assert run.info["status"] == "completed" and len(run.history) < 200
    history = (run.path / "history.jsonl").read_text()
    assert (run.path / "checkpoints" / "last.safetensors").is_file()
    code, _, err = cli("train", "--resume", run.path, "-q")
    assert code == 2 and "the run finished" in err and "Traceback" not in err
    assert (run.path / "history.jsonl").read_text() == history
