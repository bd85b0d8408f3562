"""The run index: a real SQLite file beside real (tiny) runs; listing, filters, sorting, compare,
rebuild after deletion or corruption, killed runs, failed runs, and several writers at once."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

import trainwell
from trainwell import index
from trainwell.errors import UserError

FAST = {"logging.report": False}  # these tests are about the index; the report has its own


@pytest.fixture(scope="module")
def root(tmp_path_factory, make_blobs):
    """A runs folder with two finished runs that differ in lr and hidden size."""
    base = tmp_path_factory.mktemp("index")
    csv = base / "blobs.csv"
    make_blobs(180, color=False).to_csv(csv, index=False)
    cfg = {"name": "blobs", "seed": 0, "data": {"source": str(csv), "target": "label"},
           "model": {"hidden": [8]}, "optimizer": {"lr": 0.01}, "training": {"epochs": 4}}
    runs = base / "runs"
    trainwell.train(cfg, FAST, out=runs / "slow")
    trainwell.train(cfg, {**FAST, "optimizer.lr": 0.05, "model.hidden": [16], "name": "blobs-fast"},
                    out=runs / "fast")
    (base / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    return runs


def test_training_writes_the_index_and_runs_lists_it(root, cli):
    assert (root / index.FILENAME).is_file()
    with sqlite3.connect(root / index.FILENAME) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        ids = {r[0] for r in conn.execute("SELECT id FROM runs WHERE status = 'completed'")}
    assert ids == {"slow", "fast"}
    code, out, err = cli("runs", "--root", root)
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header == ["id", "name", "task", "model", "hyperparameters", "best", "val", "test", "status", "duration"]
    fast = next(line for line in out.splitlines() if line.startswith("fast"))
    assert "blobs-fast" in fast and "multiclass" in fast and "mlp 16" in fast and "lr=0.05" in fast
    assert "val_loss" in fast and "accuracy" in fast and "completed" in fast


def test_filters_and_sort(root, cli):
    code, out, _ = cli("runs", "--root", root, "--name", "fast", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ["fast"]
    code, out, _ = cli("runs", "--root", root, "--status", "completed", "--task", "multiclass", "--json")
    assert {r["id"] for r in json.loads(out)} == {"slow", "fast"}
    code, out, _ = cli("runs", "--root", root, "--task", "regression", "--json")
    assert json.loads(out) == []

    rows = trainwell.index.list_runs(root, sort="test.log_loss")
    losses = [r["test"]["log_loss"] for r in rows]
    assert losses == sorted(losses)  # lower is better: best first
    rows = trainwell.index.list_runs(root, sort="val.accuracy")
    accs = [r["val"]["accuracy"] for r in rows]
    assert accs == sorted(accs, reverse=True)
    code, out, _ = cli("runs", "--root", root, "--sort", "test.f1")
    assert code == 0 and "test.f1" in out.splitlines()[0]


@pytest.mark.parametrize("args, says", [
    (["--status", "done"], "valid: running, completed, interrupted, failed"),
    (["--task", "vision"], "valid: binary, multiclass, regression, generation"),
    (["--sort", "test.bleu"], "has that metric"),
    (["--sort", "train.x"], "'train' is not a split"),
    (["--sort", "train.accuracy"], "Did you mean test.accuracy?"),
    (["--sort", "val_accuracy"], "Did you mean val.accuracy?"),
    (["--sort", "val.confusion_matrix"], "has that metric"),  # not a scalar: nothing to sort by
    (["--name", "no-such-run", "--sort", "test.bleu"], "has that metric"),  # checked though nothing matches
])
def test_bad_list_arguments_are_exit_2(root, cli, args, says):
    code, _, err = cli("runs", "--root", root, *args)
    assert code == 2 and says in err and "Traceback" not in err


def test_a_sort_key_is_checked_against_the_whole_index(root, cli, tmp_path):
    """The error names the key and lists the keys that exist; a key some run has is fine even when
    the filters leave no run with it, and an index with no run yet takes the metric names trainwell
    records (and refuses the others)."""
    code, _, err = cli("runs", "--root", root, "--sort", "foo.accuracy")
    assert code == 2 and "'foo.accuracy'" in err
    assert "test.accuracy" in err and "val.log_loss" in err and "started" in err and "epochs" in err
    assert "test.rmse" not in err  # no run here has it
    code, out, err = cli("runs", "--root", root, "--task", "regression", "--sort", "val.f1", "--json")
    assert code == 0 and json.loads(out) == [], err
    code, _, err = cli("runs", "--root", root, "--sort", "test.rmse")
    assert code == 2 and "test.rmse" in err
    with pytest.raises(UserError, match="'train' is not a split"):
        trainwell.index.list_runs(root, sort="train.accuracy")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = cli("runs", "--root", empty, "--sort", "test.rmse")
    assert code == 0 and "no runs" in out, err
    code, _, err = cli("runs", "--root", empty, "--sort", "test.acc")
    assert code == 2 and "holds no run yet" in err and "Did you mean test.accuracy?" in err


def test_missing_root_is_exit_2(tmp_path, cli):
    code, _, err = cli("runs", "--root", tmp_path / "nope")
    assert code == 2 and "does not exist" in err and "--root" in err


def test_compare_shows_config_differences_and_metrics(root, cli):
    code, out, err = cli("runs", "compare", "slow", "fast", "--root", root)
    assert code == 0, err
    assert "config (only keys that differ)" in out and "optimizer.lr" in out and "model.hidden" in out
    assert "data.source" not in out  # identical keys are left out
    assert "test metrics" in out and "accuracy" in out
    code, out, _ = cli("runs", "compare", str(root / "slow"), str(root / "fast"), "--json")
    result = json.loads(out)
    assert result["config"]["optimizer.lr"] == [0.01, 0.05]
    assert set(result["test"]["accuracy"]) <= {x / 27 for x in range(28)} | {x / 28 for x in range(29)}
    assert len(result["test"]["accuracy"]) == 2


def test_compare_bad_input(root, cli):
    code, _, err = cli("runs", "compare", "slow", "--root", root)
    assert code == 2 and "at least two runs" in err
    code, _, err = cli("runs", "compare", "slow", "fsat", "--root", root)
    assert code == 2 and "'fsat' not found" in err and "did you mean fast" in err


def test_compare_refuses_the_same_run_twice_and_an_unreadable_run(root, cli, tmp_path):
    """Comparing a run with itself (by id twice, or by id and path) used to print two identical
    columns; a run.json that is not a JSON object used to end in a traceback."""
    code, _, err = cli("runs", "compare", "slow", "slow", "--root", root)
    assert code == 2 and "'slow' is given twice" in err and "Traceback" not in err
    code, _, err = cli("runs", "compare", "slow", "fast", root / "slow", "--root", root)
    assert code == 2 and f"'slow' and '{root / 'slow'}' name the same run" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.json").write_text("[1, 2")
    code, _, err = cli("runs", "compare", root / "slow", broken)
    assert code == 2 and "Traceback" not in err and "run.json" in err and "not a valid run record" in err, err


def test_deleted_index_is_rebuilt_from_the_run_directories(root, cli):
    for p in root.glob(index.FILENAME + "*"):
        p.unlink()
    code, out, err = cli("runs", "--root", root, "--json")
    assert code == 0
    assert "built the run index" in err and "from 2 run directories" in err
    assert {r["id"] for r in json.loads(out)} == {"slow", "fast"}
    assert {r["status"] for r in json.loads(out)} == {"completed"}


def test_corrupt_index_is_moved_aside_and_rebuilt(root, cli):
    path = root / index.FILENAME
    for p in root.glob(index.FILENAME + "-*"):
        p.unlink()
    path.write_bytes(b"this is not a database" * 100)
    code, out, err = cli("runs", "--root", root, "--json")
    assert code == 0, err
    assert "was corrupt" in err and "rebuilt it from 2 run directories" in err
    assert {r["id"] for r in json.loads(out)} == {"slow", "fast"}
    kept = list(root.glob(index.FILENAME + ".corrupt-*"))
    assert kept and kept[0].read_bytes().startswith(b"this is not")
    # and the next listing is quiet: the index is good again
    code, _, err = cli("runs", "--root", root)
    assert code == 0 and "corrupt" not in err


def test_rebuild_names_each_damaged_run_directory_it_skips(root, cli):
    # A run.json that is not a run's record used to leave its directory out of the index silently.
    import shutil

    damaged = {"torn": '{"status": "compl', "blank": "", "listed": "[1, 2]"}
    for name, text in damaged.items():
        shutil.copytree(root / "slow", root / name)
        (root / name / "run.json").write_text(text)
    try:
        code, out, err = cli("runs", "--root", root, "--rebuild")
        assert code == 0 and "Traceback" not in err, err
        notes = [line for line in err.splitlines() if line.startswith("note: skipped run directory")]
        assert len(notes) == 3, err
        assert f"note: skipped run directory {str(root / 'torn')!r}: its run.json is not valid JSON (" in err
        assert f"{str(root / 'blank')!r}: its run.json is empty" in err
        assert f"{str(root / 'listed')!r}: its run.json holds list '[1, 2]', not a run's record" in err
        assert "from 2 run directories (3 skipped, named above)" in err
        assert {line.split()[0] for line in out.splitlines()[2:]} == {"slow", "fast"}  # the rest is listed
    finally:
        for name in damaged:
            shutil.rmtree(root / name)
    code, _, err = cli("runs", "--root", root, "--rebuild")
    assert code == 0 and "skipped" not in err and "from 2 run directories" in err


def test_rows_follow_the_folder(root, cli, tmp_path):
    """A run directory copied in is added; one deleted is dropped."""
    import shutil

    shutil.copytree(root / "slow", root / "copy")
    try:
        ids = {r["id"] for r in index.list_runs(root)}
        assert "copy" in ids
    finally:
        shutil.rmtree(root / "copy")
    assert {r["id"] for r in index.list_runs(root)} == {"slow", "fast"}


def test_killed_run_shows_as_interrupted(root, tmp_path):
    """A real training process, killed with SIGKILL, cannot mark itself: the listing finds its pid dead."""
    cfg = yaml.safe_load((root.parent / "cfg.yaml").read_text())
    cfg["training"] = {"epochs": 100000, "early_stopping": {"enabled": False}}
    cfg_path = tmp_path / "long.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    runs = tmp_path / "runs"
    runs.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "train", str(cfg_path), "--out", str(runs / "long"),
                             "-q"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (runs / "long" / "history.jsonl").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "training never started"
            time.sleep(0.2)
        [row] = index.list_runs(runs)
        assert row["status"] == "running" and row["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    [row] = index.list_runs(runs)
    assert row["status"] == "interrupted"
    with sqlite3.connect(runs / index.FILENAME) as conn:  # and it was written back
        assert conn.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"


def test_a_crash_in_training_marks_the_run_failed(tmp_path, monkeypatch, tiny_cfg):
    (tmp_path / "flaky_net.py").write_text(textwrap.dedent('''
        from torch import nn

        class Flaky(nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                self.head = nn.Linear(n_in, n_out)
                self.calls = 0

            def forward(self, x):
                if self.training:
                    self.calls += 1
                    if self.calls > 10:
                        raise RuntimeError("simulated crash in forward")
                return self.head(x)

        def make(spec):
            return Flaky(spec.n_features, len(spec.classes))
    '''))
    monkeypatch.chdir(tmp_path)
    cfg = {**tiny_cfg, "model": {"type": "python", "builder": "flaky_net:make"}}
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            trainwell.train(cfg, out=tmp_path / "runs" / "flaky")
    finally:
        sys.modules.pop("flaky_net", None)
    info = json.loads((tmp_path / "runs" / "flaky" / "run.json").read_text())
    assert info["status"] == "failed" and "simulated crash" in info["error"]
    [row] = index.list_runs(tmp_path / "runs")
    assert row["status"] == "failed"


WRITER = textwrap.dedent('''
    import sys
    from pathlib import Path
    from trainwell import index
    for d in sys.argv[1:]:
        index.update(Path(d), log=lambda m: print(m, file=sys.stderr))
''')


def test_several_processes_write_at_once(root, tmp_path):
    """Four writer processes, 15 runs each, started together: every row arrives, nobody errs."""
    import shutil

    runs = tmp_path / "runs"
    runs.mkdir()
    dirs = []
    for i in range(60):
        d = runs / f"run-{i:02d}"
        d.mkdir()
        for name in ("run.json", "config.yaml", "metrics.json", "history.jsonl"):
            shutil.copy(root / "slow" / name, d / name)
        dirs.append(str(d))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # The index file is created first so the writers race on rows, not on building the file.
    index.open_index(runs).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, *dirs[k::4]], env=env, stderr=subprocess.PIPE)
             for k in range(4)]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert not any("not updated" in e for e in errors), errors
    with sqlite3.connect(runs / index.FILENAME) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 60
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
