"""Every sampler and pruner on a tiny real study; objectives, conditions, lr auto, divergence, cv."""

import json
import math
import time

import pytest
import yaml

from trainwell.tuning.study import tune


def counted(study):
    return [t for t in study.trials if not t.user_attrs.get("interrupted") and t.state.name != "WAITING"]


@pytest.mark.parametrize("sampler", ["grid", "random", "tpe", "gp", "cmaes", "nsga2"])
def test_every_sampler_runs_a_tiny_study(sampler, tune_cfg, tmp_path, load):
    if sampler == "cmaes":
        pytest.importorskip("cmaes", reason="Optuna's CmaEsSampler needs the cmaes package (not in pyproject yet)")
    tune_cfg["tune"].update(sampler=sampler, pruner="none", grid_points=2)
    out = tmp_path / "study"
    result = tune(tune_cfg, out=out)
    study = load(out)
    assert len(counted(study)) == 3
    assert result["complete"] >= 1
    for t in study.trials:
        over = t.user_attrs["overrides"]
        # the conditional parameter exists exactly when its condition holds
        assert ("optimizer.momentum" in over) == (over["optimizer.name"] == "sgd")
        assert over["model.hidden"] in ([8], [16, 8])
        assert 1e-3 <= over["optimizer.lr"] <= 0.1
        assert (out / t.user_attrs["run_dir"] / "config.yaml").is_file()
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert "tune" not in best
    assert best["model"]["hidden"] == result["best"]["overrides"]["model.hidden"]
    assert (out / "trials.csv").read_text().startswith("trial,state,val_accuracy")


@pytest.mark.parametrize("pruner", ["none", "median", "successive_halving", "hyperband"])
def test_every_pruner_sees_one_report_per_epoch(pruner, tune_cfg, tmp_path, load):
    tune_cfg["tune"].update(sampler="random", pruner=pruner, trials=4)
    out = tmp_path / "study"
    tune(tune_cfg, out=out)
    study = load(out)
    assert len(counted(study)) == 4
    for t in study.trials:
        if pruner == "none":
            assert t.state.name == "COMPLETE" and not t.intermediate_values
        elif t.state.name in ("COMPLETE", "PRUNED"):
            # one report per epoch run, at steps 1..epochs
            assert sorted(t.intermediate_values) == list(range(1, t.user_attrs["epochs"] + 1))


def test_a_bad_trial_is_pruned_early_by_the_median_pruner(tune_cfg, tmp_path, load):
    from trainwell.tuning.study import prepare_study, tune as run

    tune_cfg["tune"].update(pruner="median", trials=2, space={"optimizer.lr": [0.05, 1.0e-7]})
    tune_cfg["training"]["epochs"] = 6
    out = tmp_path / "study"
    _, _, study = prepare_study(tune_cfg, out=out)
    study.enqueue_trial({"optimizer.lr": 0.05})
    study.enqueue_trial({"optimizer.lr": 1.0e-7})
    run(tune_cfg, out=out)
    bad = load(out).trials[1]
    assert bad.state.name == "PRUNED"
    assert bad.user_attrs["epochs"] < 6
    assert "pruned by the median pruner" in bad.user_attrs["reason"]


def test_a_diverging_trial_fails_with_the_doctors_reason_and_the_study_goes_on(tune_cfg, tmp_path, load):
    tune_cfg["optimizer"] = {"name": "sgd", "lr": 0.01, "momentum": 0.9}
    tune_cfg["tune"].update(sampler="grid", pruner="none", trials=2, space={"optimizer.lr": [1000.0, 0.05]})
    out = tmp_path / "study"
    result = tune(tune_cfg, out=out)
    trials = {t.params["optimizer.lr"]: t for t in load(out).trials}
    assert trials[1000.0].state.name == "FAIL"
    assert trials[1000.0].user_attrs["reason"].startswith("diverged (doctor)")
    assert "diverged" in [f["code"] for f in trials[1000.0].user_attrs["findings"]]
    assert json.loads((out / trials[1000.0].user_attrs["run_dir"] / "findings.json").read_text())
    assert trials[0.05].state.name == "COMPLETE"
    assert result["best"]["trial"] == trials[0.05].number


def test_multi_objective_nsga2_reports_a_pareto_front(tune_cfg, tmp_path, load):
    tune_cfg["tune"].update(objectives=[{"metric": "val_f1"}, {"metric": "parameters"}], trials=4)
    tune_cfg["tune"].pop("metric")
    out = tmp_path / "study"
    result = tune(tune_cfg, out=out)
    study = load(out)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert result["pareto"] and "best" not in result
    for entry in result["pareto"]:
        assert yaml.safe_load(open(entry["config"]))["model"]["hidden"] == entry["overrides"]["model.hidden"]
    assert "Pareto front" in result["text"]


def test_the_pareto_folder_drops_a_trial_once_it_is_dominated(tune_cfg, tmp_path, load):
    from trainwell.tuning.study import prepare_study, tune as run

    tune_cfg["tune"].update(objectives=[{"metric": "val_accuracy"}, {"metric": "parameters"}], sampler="random",
                            trials=1, space={"optimizer.lr": [1.0e-7, 0.05], "model.hidden": [[8], [16, 8]]})
    tune_cfg["tune"].pop("metric")
    out = tmp_path / "study"
    _, _, study = prepare_study(tune_cfg, out=out)
    # trial 1 is smaller and learns, trial 0 barely moves from its initial weights: 1 dominates 0
    study.enqueue_trial({"optimizer.lr": 1.0e-7, "model.hidden": "[16, 8]"})
    study.enqueue_trial({"optimizer.lr": 0.05, "model.hidden": "[8]"})
    assert [p["trial"] for p in run(tune_cfg, out=out)["pareto"]] == [0]
    assert [p["trial"] for p in run(tune_cfg, trials=2, out=out)["pareto"]] == [1]
    assert sorted(p.name for p in (out / "pareto").iterdir()) == ["trial-0001.yaml"]


def test_lr_bounds_from_the_range_test(tune_cfg, tmp_path, load):
    tune_cfg["tune"].update(trials=2, space={"optimizer.lr": {"type": "float", "low": "auto", "high": "auto",
                                                               "log": True, "span": 4}})
    out = tmp_path / "study"
    tune(tune_cfg, out=out)
    study = load(out)
    auto = study.user_attrs["lr_auto"]
    assert math.isclose(auto["bounds"][0] * 16, auto["bounds"][1])
    for t in study.trials:
        assert auto["bounds"][0] <= t.params["optimizer.lr"] <= auto["bounds"][1]


def test_cross_validation_objective_is_the_mean_over_folds(tune_cfg, tmp_path, load):
    tune_cfg["tune"].update(trials=1, cv_folds=2, pruner="none")
    out = tmp_path / "study"
    tune(tune_cfg, out=out)
    t = load(out).trials[0]
    assert len(t.user_attrs["fold_values"]) == 2
    assert math.isclose(t.value, sum(t.user_attrs["fold_values"]) / 2)
    for k in range(2):
        data = json.loads((out / t.user_attrs["run_dir"] / f"fold-{k}" / "data.json").read_text())
        assert data["cv"]["fold"] == k


def test_a_trial_with_good_early_folds_is_not_cut_by_a_later_folds_first_epoch(tune_cfg, tmp_path, load):
    """Trial 1 warms a higher lr up, so each fold starts slowly, but after 3 epochs of fold 0 it is ahead
    of trial 0. The rungs of successive halving (and of each hyperband bracket) are at epochs 3 and
    9; epoch 9 would be fold 2's first if the folds' epochs were counted on, where the warm-up
    loses. Only fold 0 reports, so trial 1 trains all its folds."""
    from trainwell.tuning.study import prepare_study

    tune_cfg["training"]["epochs"] = 4
    tune_cfg["tune"].update(metric="val_loss", sampler="random", pruner="successive_halving", warmup_epochs=3,
                            cv_folds=3, trials=2,
                            space={"optimizer.lr": [0.05, 0.1], "schedule.warmup_epochs": [0.0, 2.0]})
    out = tmp_path / "study"
    _, _, study = prepare_study(tune_cfg, out=out)
    study.enqueue_trial({"optimizer.lr": 0.05, "schedule.warmup_epochs": 0.0})
    study.enqueue_trial({"optimizer.lr": 0.1, "schedule.warmup_epochs": 2.0})
    tune(tune_cfg, out=out)
    first, second = load(out).trials
    assert second.intermediate_values[3] < first.intermediate_values[3]  # ahead where the rung compares
    assert second.state.name == "COMPLETE", second.user_attrs.get("reason")
    assert len(second.user_attrs["fold_values"]) == 3
    for t in (first, second):
        assert sorted(t.intermediate_values) == [1, 2, 3, 4]  # fold 0's epochs only


def test_autos_budget_cuts_a_trial_that_would_leave_the_final_run_no_time(tune_cfg, tmp_path, load):
    """The first trial runs to its end (the final run needs one to retrain); the next is stopped
    when only the final run's time (the longest complete trial's, plus a run's fixed costs) and
    the tail are left, and no trial starts after it."""
    tune_cfg["training"].update(epochs=2, early_stopping={"enabled": False})
    tune_cfg["tune"].update(sampler="random", pruner="none", trials=5, space={"training.epochs": [2, 5000]})
    out = tmp_path / "study"
    from trainwell.tuning.study import prepare_study

    _, _, study = prepare_study(tune_cfg, out=out)
    study.enqueue_trial({"training.epochs": 2})
    study.enqueue_trial({"training.epochs": 5000})
    end = time.time() + 4.0
    tune(tune_cfg, out=out, _budget={"end": end, "tail": 0.5, "final_extra": 1.0})
    trials = load(out).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED"]
    assert trials[1].user_attrs["reason"].startswith("out of time: stopped after epoch")
    assert trials[1].user_attrs["epochs"] < 5000
    assert trials[1].datetime_complete.timestamp() <= end - 1.0  # the tail and the final run's time stay free


def test_show_prints_the_summary_again(tune_cfg, tmp_path, cli, write_yaml, monkeypatch):
    tune_cfg["tune"].update(trials=2, pruner="none")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("tune", write_yaml(tune_cfg), "--study", "s1", "--quiet")
    assert code == 0, err
    assert out.strip().splitlines()[-1].endswith("studies/s1/best.yaml")
    code, shown, err = cli("tune", "--show", "s1")
    assert code == 0, err
    assert "study s1: 2 trials: 2 complete" in shown
    assert "importances" in shown
    code, again, _ = cli("train", "studies/s1/best.yaml", "--quiet", "--set", "training.epochs=1")
    assert code == 0


@pytest.mark.parametrize("epochs, low", [(1, 1e-5), (4, 1e-3)])
def test_importances_are_estimated_once_for_the_summary_and_the_report(epochs, low, tune_cfg, tmp_path, monkeypatch):
    # fANOVA costs about a second on a few dozen trials; the report reuses the summary's estimate,
    # or its reason for having none (1 epoch from lr 1e-5: scores vary; 4 epochs: every trial scores 1.0)
    from optuna.importance import FanovaImportanceEvaluator

    calls = []
    evaluate = FanovaImportanceEvaluator.evaluate
    monkeypatch.setattr(FanovaImportanceEvaluator, "evaluate",
                        lambda self, *a, **k: calls.append(1) or evaluate(self, *a, **k))
    tune_cfg["training"]["epochs"] = epochs
    tune_cfg["tune"].update(trials=4, pruner="none", sampler="random")
    tune_cfg["tune"]["space"]["optimizer.lr"]["low"] = low
    out = tmp_path / "study"
    result = tune(tune_cfg, out=out)
    assert len(calls) == 1
    shown = result["importances"]["val_accuracy"]
    section = (out / "report.html").read_text().split('id="importances"')[1].split("</section>")[0]
    if epochs == 1:
        assert "note" not in shown and "<img" in section
    else:
        assert "zero total variance" in shown["note"] and "zero total variance" in section


def test_folds_that_cannot_be_stratified_are_said_to_be_plain(tune_cfg, tmp_path, load, capsys):
    """A class with fewer train+val rows than folds: plain folds, said up front and kept in data.json."""
    import pandas as pd

    frame = pd.read_csv(tune_cfg["data"]["source"])
    rare = frame[frame["label"] == "eel"].head(4)
    frame = pd.concat([frame[frame["label"] != "eel"], rare])
    frame.to_csv(tmp_path / "rare.csv", index=False)
    tune_cfg["data"]["source"] = str(tmp_path / "rare.csv")
    tune_cfg["training"]["epochs"] = 1
    tune_cfg["tune"].update(trials=1, cv_folds=5, pruner="none")
    out = tmp_path / "study"
    tune(tune_cfg, out=out)
    err = capsys.readouterr().err
    assert "note: tune.cv_folds: class 'eel' has 3 train+val rows, fewer than the 5 folds" in err, err
    assert "cv_folds 3 or fewer keeps them stratified" in err
    run_dir = out / load(out).trials[0].user_attrs["run_dir"]
    assert json.loads((run_dir / "fold-0" / "data.json").read_text())["cv"]["stratified"] is False


def test_a_resumed_grid_and_two_workers_run_every_point_once(tune_cfg, tmp_path, load):
    """The grid sampler names its points by their place in a seeded shuffle: every process must use
    the same order, or a resumed study or a second worker repeats points and skips others."""
    tune_cfg["training"]["epochs"] = 1
    tune_cfg["tune"].update(sampler="grid", pruner="none", grid_points=3,
                            space={"optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True},
                                   "model.dropout": {"type": "float", "low": 0.0, "high": 0.4}})
    points = {(lr, d) for lr in (1e-3, 1e-2, 0.1) for d in (0.0, 0.2, 0.4)}

    def ran(study):
        return [(round(t.params["optimizer.lr"], 6), round(t.params["model.dropout"], 6)) for t in study.trials]

    tune(tune_cfg, out=tmp_path / "resumed", trials=4)
    tune(tune_cfg, out=tmp_path / "resumed", trials=9)
    assert sorted(ran(load(tmp_path / "resumed"))) == sorted(points)
    tune(tune_cfg, out=tmp_path / "two", trials=9, jobs=2)
    assert sorted(ran(load(tmp_path / "two"))) == sorted(points)


def test_a_grid_with_a_conditional_parameter_trains_each_configuration_once(tune_cfg, tmp_path, load):
    """adam x 2 lrs + sgd x 2 lrs x 2 momenta = 6 configurations; Optuna's product grid has 8 points,
    two of them adam with a momentum it does not use: those are skipped, not trained again."""
    tune_cfg["training"]["epochs"] = 1
    tune_cfg["tune"].update(sampler="grid", pruner="none", grid_points=2, space={
        "optimizer.name": ["adam", "sgd"],
        "optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True},
        "optimizer.momentum": {"type": "float", "low": 0.5, "high": 0.9, "when": {"optimizer.name": "sgd"}}})
    out = tmp_path / "study"
    result = tune(tune_cfg, out=out, trials=40)
    trained = [t for t in load(out).trials if t.state.name == "COMPLETE"]
    configs = [json.dumps(t.user_attrs["overrides"], sort_keys=True) for t in trained]
    assert len(configs) == len(set(configs)) == 6
    assert result["skipped"] == 2 and result["complete"] == 6 and result["failed"] == 0
    assert "2 skipped" in result["text"]


def test_a_trials_value_is_that_of_the_weights_it_kept(tmp_path, load):
    """Early stopping watches val_loss, the study val_mae: the value is val_mae at the epoch whose
    weights early stopping restored (what metrics.json and a rerun of best.yaml give), not the
    best val_mae of any epoch."""
    cfg = {"name": "kept", "seed": 0, "data": {"source": "builtin:diabetes"}, "model": {"hidden": [16]},
           "training": {"epochs": 60, "early_stopping": {"monitor": "val_loss", "patience": 5}},
           "tune": {"metric": "val_mae", "sampler": "random", "pruner": "none", "trials": 8,
                    "space": {"optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}}}
    out = tmp_path / "study"
    tune(cfg, out=out)
    done = [t for t in load(out).trials if t.state.name == "COMPLETE"]
    assert len(done) == 8
    for t in done:
        kept = json.loads((out / t.user_attrs["run_dir"] / "metrics.json").read_text())["val"]["mae"]
        assert math.isclose(t.value, kept, rel_tol=1e-5), (t.number, t.value, kept)
