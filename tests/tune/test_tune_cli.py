"""The tune command: bad input (exit 2 naming the entry), workers sharing a journal, resume."""

import json
import os
import signal
import threading
import time

import pytest
import yaml

SPACE = {"optimizer.lr": {"type": "float", "low": 1.0e-3, "high": 0.1, "log": True}}


@pytest.mark.parametrize("space, tune_extra, named", [
    ({"optimizer.lrr": {"type": "float", "low": 0.001, "high": 0.1}}, {}, "tune.space.optimizer.lrr: not a config key; did you mean optimizer.lr?"),
    ({"optimizer.lr": {"type": "float", "low": 0.1, "high": 0.001}}, {}, "tune.space.optimizer.lr: low (0.1) must be <= high (0.001)"),
    ({"model.hidden": {"type": "choice", "values": []}}, {}, "tune.space.model.hidden: choice needs a non-empty list"),
    ({"model.hidden": []}, {}, "tune.space.model.hidden: choice needs a non-empty list"),
    ({"optimizer.lr": {"type": "float", "low": 0, "high": 0.1, "log": True}}, {}, "tune.space.optimizer.lr: log scale needs bounds > 0"),
    ({"model.dropout": {"type": "float", "low": 0.0, "high": 1.5}}, {}, "tune.space.model.dropout: the value 1.5 gives an invalid config"),
    ({"training.batch_size": {"type": "int", "low": 8, "high": 64, "step": 100}}, {},
     "tune.space.training.batch_size: low (8) to high (64) is not a whole number of steps of 100; set high to 8 or 108"),
    ({"model.dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.2}}, {},
     "tune.space.model.dropout: low (0) to high (0.5) is not a whole number of steps of 0.2; set high to 0.4 or 0.6"),
    ({"training.batch_size": {"type": "int", "low": 8, "high": 64, "step": 2.5}}, {},
     "tune.space.training.batch_size: an int's step must be a whole number, got 2.5"),
    (SPACE, {"sampler": "annealing"}, "tune.sampler: Input should be 'auto', 'grid', 'random', 'tpe', 'gp', 'cmaes' or 'nsga2'"),
    (SPACE, {"pruner": "early"}, "tune.pruner: Input should be 'auto', 'none', 'median', 'successive_halving' or 'hyperband'"),
    (SPACE, {"metric": "val_accurcy"}, "tune.metric: got 'val_accurcy'"),
    (SPACE, {"sampler": "cmaes", "objectives": [{"metric": "val_loss"}, {"metric": "parameters"}]},
     "tune.sampler: cmaes searches a single objective"),
    (SPACE, {"objectives": [{"metric": "val_loss"}, {"metric": "val_loss", "direction": "maximize"}]},
     "tune.objectives: val_loss is listed 2 times; list each metric once"),
    ({}, {}, "tune.space: empty"),
    ({"optimizer.name": ["adam", "sgd"], "optimizer.momentum": {"type": "float", "low": 0.5, "high": 0.9,
                                                                "when": {"optimizer.name": "rmsprop"}}}, {},
     "tune.space.optimizer.momentum.when: optimizer.name is searched over ['adam', 'sgd'], never 'rmsprop', "
     "so optimizer.momentum would never be sampled"),
    ({"optimizer.momentum": {"type": "float", "low": 0.5, "high": 0.9, "when": {"optimizer.name": "sgd"}}}, {},
     "optimizer.name is not searched and is 'adam' in this config, never 'sgd'"),
    ({"name": ["a", "b"]}, {}, "tune.space.name: the run name cannot be searched"),
    ({"tune.trials": [1, 2]}, {}, "tune.space.tune.trials: the tune: section itself cannot be searched"),
    ({"loss.label_smoothing": [0.0, 0.2]}, {"metric": "val_loss"},
     "tune.space.loss.label_smoothing: searched while tune.metric is val_loss, and it changes the loss itself, so "
     "the trials' val_loss values do not compare (the smallest loss scale would win); tune a metric of the "
     "predictions instead, tune.metric: val_accuracy, val_f1, val_balanced_accuracy or val_log_loss"),
    ({"data.imbalance": ["none", "class_weights"]}, {},
     "tune.space.data.imbalance: searched while tune.metric (auto: training.early_stopping.monitor) is val_loss"),
    ({"loss.label_smoothing": [0.0, 0.2]}, {"objectives": [{"metric": "val_loss"}, {"metric": "parameters"}]},
     "tune.space.loss.label_smoothing: searched while tune.objectives is val_loss"),
])
def test_bad_input_exits_2_naming_the_entry(space, tune_extra, named, tiny_cfg, cli, write_yaml, tmp_path):
    cfg = {**tiny_cfg, "tune": {"space": space, **tune_extra}}
    code, out, err = cli("tune", write_yaml(cfg), "--out", tmp_path / "study")
    assert code == 2, (out, err)
    assert named in err
    assert "Traceback" not in err
    assert not (tmp_path / "study").exists()  # rejected before anything was written


def test_a_loss_objective_over_a_space_that_rescales_the_loss_is_refused(cli, write_yaml, tmp_path):
    """A huber_delta of 0.01 shrinks the loss a hundredfold: ranked by val_loss, that trial would win
    with a worse model. A metric of the predictions ranks the same space."""
    cfg = {"name": "thuber", "data": {"source": "builtin:diabetes"}, "training": {"epochs": 2},
           "tune": {"sampler": "grid", "pruner": "none",
                    "space": {"loss.name": ["mse", "huber"], "loss.huber_delta": [0.01, 1.0]}}}
    code, out, err = cli("tune", write_yaml(cfg), "--trials", "1", "--out", tmp_path / "s")
    assert code == 2, (out, err)
    for key in ("loss.name", "loss.huber_delta"):
        assert f"tune.space.{key}: searched while tune.metric (auto: training.early_stopping.monitor) is val_loss" in err
    assert "tune.metric: val_r2, val_mae or val_rmse, or fix loss.huber_delta" in err
    assert "Traceback" not in err and not (tmp_path / "s").exists()
    cfg["tune"]["metric"] = "val_r2"
    code, out, err = cli("tune", write_yaml(cfg), "--trials", "1", "--out", tmp_path / "s", "--quiet")
    assert code == 0, err


def test_bad_options_exit_2(tiny_cfg, cli, write_yaml, tmp_path):
    cfg = write_yaml({**tiny_cfg, "tune": {"space": SPACE}})
    for args, named in ((["--jobs", "0"], "--jobs"), (["--timeout", "soon"], "--timeout"),
                        (["--trials", "0"], "--trials")):
        code, _, err = cli("tune", cfg, "--out", tmp_path / "s", *args)
        assert code == 2 and named in err, err
    code, _, err = cli("tune", "--show", tmp_path / "nothing")
    assert code == 2 and "not a study folder" in err


@pytest.mark.parametrize("name", ["../../evil", "a/b", "", ".hidden"])
def test_a_study_name_that_is_not_a_folder_name_is_refused(name, tiny_cfg, cli, write_yaml, tmp_path, monkeypatch):
    """The name is the folder under studies/: a path in it would write elsewhere, and an empty one
    quietly resumed the config-named study."""
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("tune", write_yaml({**tiny_cfg, "tune": {"space": SPACE}}), "--study", name)
    assert code == 2, err
    assert f"--study: {name!r} is not a valid study name" in err and "without '/'" in err
    assert not (tmp_path / "studies").exists() and not (tmp_path.parent / "evil").exists()


def test_a_name_with_a_slash_is_a_study_name_when_out_names_the_folder(tiny_cfg, cli, write_yaml, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_yaml({**tiny_cfg, "name": "wine/lr-sweep", "tune": {"space": SPACE}})
    code, _, err = cli("tune", path, "--out", tmp_path / "here", "--trials", "1", "-q")
    assert code == 0, err
    code, _, err = cli("tune", path, "--trials", "1", "-q")   # without --out the name would be a path
    assert code == 2 and "is not a valid study name" in err


def test_two_processes_share_one_journal_without_losing_or_repeating_a_trial(tune_cfg, tmp_path, load):
    from trainwell.tuning.study import tune

    tune_cfg["tune"].update(sampler="random", pruner="none")
    folder = tmp_path / "study"
    n = 6
    # --jobs 2: this process and one spawned worker process ask, train and tell on one journal file.
    result = tune(tune_cfg, trials=n, jobs=2, out=folder)
    study = load(folder)
    assert len(study.trials) == n
    assert sorted(t.number for t in study.trials) == list(range(n))
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    run_dirs = [t.user_attrs["run_dir"] for t in study.trials]
    assert len(set(run_dirs)) == n
    assert sorted(p.name for p in (folder / "trials").glob("trial-*")) == sorted(d.split("/")[-1] for d in run_dirs)
    pids = {t.user_attrs["worker"]["pid"] for t in study.trials}
    assert os.getpid() in pids and len(pids) == 2  # the work really was shared
    assert result["this_call"]["trials_run"] == n


def _interrupt_when(path, timeout=120):
    """A real SIGINT to this process once `path` exists (the trial is then training)."""
    def fire():
        deadline = time.time() + timeout
        while not path.exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)   # a moment into the trial; a tiny trial of a few hundred ms may end soon after
        os.kill(os.getpid(), signal.SIGINT)
    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    return thread


def test_interrupt_then_rerun_resumes_the_study(tune_cfg, write_yaml, tmp_path, load, cli):
    tune_cfg["tune"].update(sampler="random", pruner="none", trials=3)
    # Long enough that the interrupt lands in trial 1 however fast this machine runs its epochs
    # (at 100 epochs a quiet machine finished trial 1 before the signal, and trial 2 was cut).
    tune_cfg["training"].update(epochs=400, early_stopping={"enabled": False})
    path = write_yaml(tune_cfg)
    folder = tmp_path / "study"
    thread = _interrupt_when(folder / "trials" / "trial-0001" / "history.jsonl")
    code, _, err = cli("tune", path, "--out", folder, "--quiet")
    thread.join()
    assert code == 130, err
    assert "rerun the same command to resume" in err
    study = load(folder)
    cut = [t for t in study.trials if t.user_attrs.get("interrupted")]
    assert len(cut) == 1 and cut[0].number == 1
    assert [t.state.name for t in study.trials] == ["COMPLETE", "FAIL", "WAITING"]
    # the same command again: the interrupted trial is retried with its parameters, up to 3 trials
    code, out, err = cli("tune", path, "--out", folder, "--quiet")
    assert code == 0, err
    study = load(folder)
    finished = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(finished) == 3
    retry = [t for t in finished if t.user_attrs.get("retry_of") == 1]
    assert len(retry) == 1 and retry[0].params == cut[0].params
    assert "1 interrupted (retried)" in out


def test_auto_writes_a_config_runs_a_budgeted_study_and_trains_the_final_model(blobs_csv, cli, tmp_path):
    # 12 s: the smallest budget auto takes is measured (reading the data, a trial, the final run),
    # about 8 s on this table with torch imported, more on a loaded machine
    code, out, err = cli("auto", blobs_csv, "--target", "label", "--budget", "12s", "--out", tmp_path / "auto",
                         "--quiet")
    assert code == 0, err
    lines = out.strip().splitlines()
    final = lines[-1]
    assert final == str(tmp_path / "auto" / "final")
    cfg = yaml.safe_load((tmp_path / "auto" / "config.yaml").read_text())
    assert cfg["tune"]["pruner"] == "hyperband" and cfg["tune"]["metric"] == "val_loss"
    assert cfg["tune"]["timeout"] < 12   # the search keeps time for the summary and the final run
    assert "model.hidden" in cfg["tune"]["space"]
    assert (tmp_path / "auto" / "final" / "metrics.json").is_file()
    code, _, err = cli("auto", blobs_csv, "--target", "label", "--budget", "2s")
    assert code == 2 and "--budget: 2 s cannot hold one trial and the final run" in err
    assert "the smallest that works is about" in err and "Traceback" not in err


def test_optuna_dashboard_reads_the_study_journal(tune_cfg, write_yaml, tmp_path, cli):
    """The storage stays readable by optuna-dashboard: its own WSGI app, asked as a browser would."""
    import json
    from wsgiref.util import setup_testing_defaults

    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna_dashboard import wsgi

    tune_cfg["tune"].update(sampler="random", pruner="median", trials=3)
    folder = tmp_path / "study"
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet")
    assert code == 0, err
    app = wsgi(JournalStorage(JournalFileBackend(str(folder / "journal.log"))))

    def get(path):
        env = {}
        setup_testing_defaults(env)
        env["PATH_INFO"] = path
        status = {}
        body = b"".join(app(env, lambda s, headers, exc_info=None: status.setdefault("s", s)))
        assert status["s"].startswith("200"), (path, status, body[:300])
        return json.loads(body)

    [summary] = get("/api/studies")["study_summaries"]
    study = get(f"/api/studies/{summary['study_id']}")
    assert len(study["trials"]) == 3
    assert all(t["state"] in ("Complete", "Pruned") for t in study["trials"])


def test_out_folder_with_the_user_s_files_or_another_study_is_refused(tune_cfg, write_yaml, tmp_path, cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my report")
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", mine, "--quiet")
    assert code == 2 and "--out" in err and "holds no study" in err, err
    assert (mine / "report.html").read_text() == "my report" and sorted(os.listdir(mine)) == ["report.html"]

    study = tmp_path / "study"
    study.mkdir()
    (study / "study.json").write_text('{"study": "other"}')
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", study, "--quiet")
    assert code == 2 and "holds the study 'other'" in err and "--study other" in err, err


def test_a_changed_choice_in_a_resumed_study_is_refused_up_front(tune_cfg, write_yaml, tmp_path, cli, load):
    tune_cfg["tune"].update(sampler="random", pruner="none", trials=1)
    tune_cfg["training"]["epochs"] = 1
    folder = tmp_path / "study"
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet")
    assert code == 0, err
    tune_cfg["tune"]["space"]["model.hidden"] = [[4], [32]]
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet", "--trials", "2")
    assert code == 2, err
    assert "tune.space.model.hidden" in err and "[[8], [16, 8]]" in err and "[[4], [32]]" in err
    assert "--study" in err
    assert len(load(folder).trials) == 1


def test_more_cv_folds_than_rows_is_refused_naming_the_range(tune_cfg, write_yaml, tmp_path, cli):
    tune_cfg["tune"]["cv_folds"] = 500
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", tmp_path / "study", "--quiet")
    assert code == 2, err
    assert "tune.cv_folds" in err and "valid: 2 .. " in err and "Traceback" not in err
    assert not (tmp_path / "study").exists()


def test_a_study_resumed_with_a_changed_config_writes_the_best_trials_own_config(tune_cfg, write_yaml, tmp_path,
                                                                                 cli, load):
    """More epochs on the second run: the best trial trained 30 epochs, so best.yaml must say 30."""
    tune_cfg["tune"].update(sampler="random", pruner="none", trials=2, metric="val_loss")
    tune_cfg["training"].update(epochs=1, early_stopping={"enabled": False})
    folder = tmp_path / "study"
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet")
    assert code == 0, err
    code, out, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet", "--trials", "4",
                         "--set", "training.epochs=30")
    assert code == 0, err
    assert "training.epochs: 1 -> 30" in err  # said, not silent
    study = load(folder)
    best = min((t for t in study.trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert best.number >= 2  # 30 epochs beat 1
    trained = yaml.safe_load((folder / best.user_attrs["run_dir"] / "config.yaml").read_text())
    written = yaml.safe_load((folder / "best.yaml").read_text())
    assert written["training"]["epochs"] == trained["training"]["epochs"] == 30
    assert written["model"]["hidden"] == trained["model"]["hidden"]

    # Another objective or another task in the same study is refused: the values would not compare.
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet", "--set", "tune.metric=val_f1",
                       "--set", "tune.direction=minimize")
    assert code == 2 and "optimises val_loss (minimize)" in err and "val_f1" in err, err
    import pandas as pd

    frame = pd.read_csv(tune_cfg["data"]["source"])
    frame["label"] = frame["a"] * 2.0
    frame.to_csv(tmp_path / "regression.csv", index=False)
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet",
                       "--set", f"data.source={tmp_path / 'regression.csv'}")
    assert code == 2 and "multiclass task" in err and "regression" in err, err
    code, _, err = cli("tune", write_yaml(tune_cfg), "--out", folder, "--quiet", "--set", "tune.cv_folds=3")
    assert code == 2 and "tune.cv_folds: the study 'tiny' was created with 1, this config has 3" in err, err
    assert len(load(folder).trials) == 4


def test_auto_says_how_it_took_integer_targets_and_takes_task(blobs_csv, cli, tmp_path):
    """Integer quantities with few distinct values (a rating, a count) are taken as class labels:
    auto says so before its search, and --task regression searches and trains a regressor."""
    import pandas as pd

    frame = pd.read_csv(blobs_csv)
    frame["stars"] = (frame["a"].abs().round().clip(0, 4)).astype(int)
    frame.drop(columns="label").to_csv(tmp_path / "ratings.csv", index=False)
    code, out, err = cli("auto", tmp_path / "ratings.csv", "--target", "stars", "--budget", "12s",
                         "--out", tmp_path / "as_classes", "--quiet")
    assert code == 0, err
    assert "taken as class labels; if that is wrong, rerun with --task regression" in err
    code, out, err = cli("auto", tmp_path / "ratings.csv", "--target", "stars", "--budget", "12s",
                         "--out", tmp_path / "as_values", "--quiet", "--task", "regression")
    assert code == 0, err
    assert yaml.safe_load((tmp_path / "as_values" / "config.yaml").read_text())["data"]["task"] == "regression"
    final = out.strip().splitlines()[-1]
    assert "r2" in json.loads((tmp_path / "as_values" / "final" / "metrics.json").read_text())["test"], final
    code, _, err = cli("auto", tmp_path / "ratings.csv", "--target", "stars", "--task", "regresion")
    assert code == 2 and "--task" in err and "regression" in err


def test_a_worker_that_cannot_start_is_reported_not_silently_dropped(tune_cfg, write_yaml, tmp_path):
    """A script calling trainwell.tune(jobs=2) without the main guard: each spawned worker imports the
    script and fails (Python's rule); the study still finishes, and the user is told why it was alone."""
    import subprocess
    import sys

    tune_cfg["tune"].update(sampler="random", pruner="none", trials=2)
    tune_cfg["training"]["epochs"] = 1
    script = tmp_path / "search.py"
    script.write_text(f"import trainwell\nr = trainwell.tune({str(write_yaml(tune_cfg))!r}, jobs=2, "
                      f"out={str(tmp_path / 'study')!r})\nprint(r['complete'])\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "2"
    assert "worker 1 ended before it started" in done.stderr and 'if __name__ == "__main__":' in done.stderr


def test_set_reaches_a_space_entry_whose_key_is_dotted(tune_cfg, write_yaml, cli):
    """tune.space keys are dotted config keys: --set tune.space.optimizer.lr.high=... is a field of the
    entry optimizer.lr, and --set tune.space.model.dropout={...} a new entry, not nested sections."""
    path = write_yaml(tune_cfg)
    code, out, err = cli("config", path, "--set", "tune.space.optimizer.lr.high=0.5",
                         "--set", "tune.space.model.dropout={type: float, low: 0.0, high: 0.3}",
                         "--set", "tune.space.model.hidden.values=[[4], [32]]")
    assert code == 0, err
    space = yaml.safe_load(out)["tune"]["space"]
    assert space["optimizer.lr"]["high"] == 0.5 and space["optimizer.lr"]["low"] == 1.0e-3
    assert space["model.dropout"]["high"] == 0.3
    assert space["model.hidden"]["type"] == "choice" and space["model.hidden"]["values"] == [[4], [32]]
    code, _, err = cli("config", path, "--set", "tune.space.optimizer.lr.hgh=0.5")
    assert code == 2 and "'hgh' is not a field of the tune.space entry 'optimizer.lr'" in err, err


def test_a_study_with_no_complete_trial_exits_1_and_says_why(tune_cfg, write_yaml, tmp_path, cli):
    cfg = {**tune_cfg, "optimizer": {"name": "sgd", "lr": 1.0e6},
           "tune": {"metric": "val_loss", "trials": 2, "sampler": "random",
                    "space": {"optimizer.lr": {"type": "float", "low": 1.0e5, "high": 1.0e7, "log": True}}}}
    code, out, err = cli("tune", write_yaml(cfg), "--out", tmp_path / "study", "-q")
    assert code == 1, (out, err)
    assert "No trial completed (2 failed, 0 pruned)" in err
    assert "1 trial: diverged (doctor): The loss became non-finite" in err and "lr bounds too high" in err, err
    assert out.strip().splitlines()[-1] == str(tmp_path / "study")  # the folder is still printed last
    assert not (tmp_path / "study" / "best.yaml").exists()
    code, out, _ = cli("tune", "--show", tmp_path / "study")  # --show only prints
    assert code == 0 and "best: none yet" in out


def test_no_complete_trial_shows_the_trials_reasons_not_advice_for_another_failure(tune_cfg, write_yaml, tmp_path, cli):
    cfg = {**tune_cfg, "optimizer": {"name": "sgd", "lr": 0.01},
           "tune": {"metric": "val_loss", "trials": 2, "sampler": "random",
                    "space": {"optimizer.momentum": [0.0], "optimizer.nesterov": [True]}}}
    code, out, err = cli("tune", write_yaml(cfg), "--out", tmp_path / "study", "-q")
    assert code == 1, (out, err)
    assert "No trial completed (2 failed, 0 pruned), so there is no best config" in err, err
    assert "2 trials: invalid combination:" in err
    assert "optimizer.nesterov: needs optimizer.name sgd with momentum > 0" in err
    assert "divergence" not in err and "lr bounds" not in err
    failed = [line.split() for line in out.splitlines() if " fail " in line]
    assert len(failed) == 2 and all(row[2] == "-" for row in failed), out  # val_loss, not None


def test_no_complete_trial_while_others_run_elsewhere_exits_1_and_says_so(tune_cfg, write_yaml, tmp_path, cli):
    import optuna

    from trainwell.tuning.storage import open_storage

    cfg = {**tune_cfg, "optimizer": {"name": "sgd", "lr": 1.0e6},
           "tune": {"metric": "val_loss", "trials": 2, "sampler": "random",
                    "space": {"optimizer.lr": {"type": "float", "low": 1.0e5, "high": 1.0e7, "log": True}}}}
    path, folder = write_yaml(cfg), tmp_path / "study"
    assert cli("tune", path, "--out", folder, "-q")[0] == 1
    storage = open_storage(None, folder)
    study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
    trial = study.ask()  # a worker on another machine, still training
    trial.set_user_attr("worker", {"host": "another-machine", "pid": 1})
    code, out, err = cli("tune", path, "--out", folder, "--trials", "2", "-q")
    assert code == 1, (out, err)
    assert "1 still running in other workers, so there is no best config yet" in err, err
    assert f"trainwell tune --show {folder}" in err
