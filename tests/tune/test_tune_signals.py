"""SIGTERM (kill, docker stop, a scheduler's preemption) and Ctrl-C sent to a real `trainwell tune`
process, at any moment: exit 143 (130), one line saying how to resume, nothing lost or doubled,
no trial left RUNNING, and the same command finishes the study."""

import fcntl
import os
import signal
import subprocess
import sys
import time

import yaml

ENV = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")


def _start(path, folder, *args):
    return subprocess.Popen([sys.executable, "-m", "trainwell", "tune", str(path), "--out", str(folder), "--quiet",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True)


def _wait_for(ready, proc, what, timeout=180):
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, f"tune ended before {what}: {proc.communicate()}"
        assert time.time() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.02)


def _trials(folder):
    from trainwell.tuning.results import load_study

    return load_study(folder)[0].trials


def _long_trials(tune_cfg, write_yaml, trials):
    tune_cfg["tune"].update(sampler="random", pruner="none", trials=trials)
    # long enough that a trial is still training when the test looks
    tune_cfg["training"].update(epochs=300, early_stopping={"enabled": False})
    return write_yaml(tune_cfg)


def test_sigterm_between_trials_exits_143_and_the_same_command_resumes(tune_cfg, write_yaml, tmp_path):
    path = _long_trials(tune_cfg, write_yaml, trials=2)
    folder = tmp_path / "study"
    proc = _start(path, folder)
    _wait_for(lambda: (folder / "trials" / "trial-0000" / "history.jsonl").exists(), proc, "trial 0 training")
    # Holding the workers' lock keeps the worker between trials: once trial 0 is told it waits here
    # to ask for trial 1, as it would behind another worker. That is where SIGTERM lands.
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _wait_for(lambda: [t.state.name for t in _trials(folder)] == ["COMPLETE"], proc, "trial 0 complete")
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, (proc.returncode, err)
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert "SIGTERM" in line and "rerun the same command" in line and f"--out {folder}" in line, line
    assert [t.state.name for t in _trials(folder)] == ["COMPLETE"]  # nothing asked, nothing left RUNNING

    proc = _start(path, folder)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    trials = _trials(folder)
    assert [(t.number, t.state.name) for t in trials] == [(0, "COMPLETE"), (1, "COMPLETE")]
    assert out.strip().splitlines()[-1] == str(folder / "best.yaml")


def test_a_second_signal_while_the_first_waits_for_a_safe_point_stops_at_once(tune_cfg, write_yaml, tmp_path):
    """As with `train`, the user insists: a second signal does not wait for the worker's next safe point."""
    path = _long_trials(tune_cfg, write_yaml, trials=2)
    folder = tmp_path / "study"
    proc = _start(path, folder)
    _wait_for(lambda: (folder / "trials" / "trial-0000" / "history.jsonl").exists(), proc, "trial 0 training")
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the worker waits here between trials, as in the test above
        _wait_for(lambda: [t.state.name for t in _trials(folder)] == ["COMPLETE"], proc, "trial 0 complete")
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert proc.poll() is None  # the first waits for the lock, the safe point
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)  # the lock is still held: only insisting ends it
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert proc.returncode == 143 and "rerun the same command" in err and "Traceback" not in err, err
    assert [t.state.name for t in _trials(folder)] == ["COMPLETE"]


def test_sigterm_to_the_parent_of_two_workers_stops_both_and_the_study_resumes(tune_cfg, write_yaml, tmp_path):
    n = 4
    path = _long_trials(tune_cfg, write_yaml, trials=n)
    folder = tmp_path / "study"
    proc = _start(path, folder, "--jobs", "2")

    def both_training():
        started = [t for t in (folder / "trials").glob("trial-*") if (t / "history.jsonl").exists()]
        return len(started) >= 2
    _wait_for(lambda: (folder / "trials").is_dir() and both_training(), proc, "two trials training")
    proc.send_signal(signal.SIGTERM)  # to the parent only, as `kill PID` or `docker stop` sends it
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, (proc.returncode, err)
    assert "Traceback" not in err and "SIGTERM" in err and "rerun the same command" in err, err

    trials = _trials(folder)
    pids = {t.user_attrs["worker"]["pid"] for t in trials if "worker" in t.user_attrs}
    assert len(pids) == 2
    for pid in pids:  # the worker process stopped with its parent
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"worker {pid} still runs after its parent ended")
    assert not [t.number for t in trials if t.state.name == "RUNNING"]
    cut = [t for t in trials if t.user_attrs.get("interrupted")]
    assert len(cut) == 2 and all("SIGTERM" in t.user_attrs["reason"] for t in cut)
    waiting = [t for t in trials if t.state.name == "WAITING"]
    assert sorted(t.user_attrs["retry_of"] for t in waiting) == sorted(t.number for t in cut)

    proc = _start(path, folder, "--jobs", "2")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    trials = _trials(folder)
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(done) == n and len(trials) == n + len(cut)
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    retried = [t for t in done if "retry_of" in t.user_attrs]
    assert sorted(t.user_attrs["retry_of"] for t in retried) == sorted(t.number for t in cut)
    for t in cut:
        [again] = [r for r in retried if r.user_attrs["retry_of"] == t.number]
        assert again.params == t.params
    best = yaml.safe_load((folder / "best.yaml").read_text())
    assert "tune" not in best


def test_sigterm_during_auto_then_the_same_command_resumes_its_study(blobs_csv, tmp_path, cli):
    folder = tmp_path / "auto"
    args = ["auto", str(blobs_csv), "--target", "label", "--budget", "60s", "--out", str(folder), "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, text=True)
    _wait_for(lambda: len(list((folder / "study" / "trials").glob("trial-*"))) >= 3, proc, "three trials")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, (proc.returncode, err)
    assert "Traceback" not in err
    assert f"Resume with: trainwell auto {blobs_csv} --target label --budget 60 --out {folder}" in err, err
    before = {t.number: t.params for t in _trials(folder / "study") if t.state.name != "WAITING"}
    assert not [t for t in _trials(folder / "study") if t.state.name == "RUNNING"]

    code, out, err = cli(*args[:5], "12s", *args[6:])  # the same command, a smaller budget for the test
    assert code == 0, err
    assert f"resuming the interrupted run in {folder}" in err
    after = {t.number: t.params for t in _trials(folder / "study")}
    assert all(after[n] == p for n, p in before.items()) and len(after) > len(before)  # kept, and went on
    assert out.strip().splitlines()[-1] == str(folder / "final")
    assert (folder / "final" / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("auto")) == ["auto"]  # no second folder


def test_sigterm_between_bagging_members_exits_143_and_the_same_command_finishes(tiny_cfg, write_yaml, tmp_path,
                                                                                  cli):
    import json

    tiny_cfg["training"].update(epochs=200, early_stopping={"enabled": False})
    path, out = write_yaml(tiny_cfg), tmp_path / "ens"
    args = ["ensemble", str(path), "--members", "2", "--out", str(out), "-q"]
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, text=True)
    first = out / "members" / "member-0"
    # its weights are written as its training ends; its metrics, its files and the next member's data
    # come after, outside any training: that is where the signal lands
    _wait_for(lambda: (first / "model.safetensors").exists(), proc, "member 0 trained")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, (proc.returncode, err)
    assert f"Resume with: trainwell ensemble {path} --members 2 --out {out}" in err and "Traceback" not in err
    assert json.loads((first / "run.json").read_text())["status"] == "completed"  # finished, not cut
    assert not (out / "metrics.json").exists()
    finished = (first / "run.json").read_text()

    code, stdout, err = cli(*args)
    assert code == 0, err
    assert stdout.strip().splitlines()[-1] == str(out)
    assert (first / "run.json").read_text() == finished  # kept, not trained again
    for m in ("member-0", "member-1"):
        assert len((out / "members" / m / "history.jsonl").read_text().splitlines()) == 200
    # killed (kill -9) while the ensemble was being assembled: ensemble.json is there, metrics.json
    # (written last) is not; the same command assembles it again instead of refusing the folder
    (out / "metrics.json").unlink()
    code, stdout, err = cli(*args)
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["test"]


def test_sigterm_while_autos_final_run_writes_its_results_lets_it_finish(blobs_csv, tmp_path):
    import json

    folder = tmp_path / "auto"
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "auto", str(blobs_csv), "--target", "label",
                             "--budget", "15s", "--out", str(folder), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, text=True)
    final = folder / "final"
    # its weights come first; metrics, findings and run.json follow, outside any training
    _wait_for(lambda: (final / "model.safetensors").exists(), proc, "the final run's weights")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (proc.returncode, err)  # it had only its files left to write
    assert out.strip().splitlines()[-1] == str(final)
    assert json.loads((final / "run.json").read_text())["status"] == "completed"
    assert json.loads((final / "metrics.json").read_text())["test"]
