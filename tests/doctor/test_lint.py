"""Pre-flight lint on real prepared data: each odd setting gives a warning naming its key."""

import numpy as np
import pandas as pd

from trainwell.api import _plan
from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.doctor.lint import lint


def keys(cfg_dict):
    cfg = load_config(cfg_dict)
    prepared = prepare(cfg.data, cfg.seed, cfg.model.type)
    return {w["key"]: w for w in lint(cfg, prepared, _plan(cfg, prepared.spec))}


def test_healthy_config_is_quiet():
    assert keys({"data": {"source": "builtin:iris"}}) == {}


def test_each_warning(tmp_path):
    found = keys({"data": {"source": "builtin:iris", "split": {"train": 0.85, "val": 0.0, "test": 0.15}},
                  "optimizer": {"name": "adam", "lr": 0.5}, "model": {"dropout": 0.7},
                  "training": {"batch_size": 5000}})
    assert set(found) == {"optimizer.lr", "model.dropout", "training.batch_size", "training.early_stopping"}
    assert found["optimizer.lr"]["fix"] == {"optimizer.lr": 0.001}


def test_data_warnings(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(0, 1, 100), "big": rng.normal(5e4, 1e3, 100), "y": rng.integers(0, 2, 100)})
    df.loc[:4, "a"] = np.nan
    p = tmp_path / "d.csv"
    df.to_csv(p, index=False)
    found = keys({"data": {"source": str(p), "target": "y", "scale": "none", "clean": {"impute": "none"}}})
    assert {"data.clean.impute", "data.scale"} <= set(found)


def test_deep_sigmoid_stack_with_small_init():
    found = keys({"data": {"source": "builtin:iris"},
                  "model": {"hidden": [32] * 6, "activation": "sigmoid", "init": {"weight": {"name": "normal", "std": 0.01}}}})
    assert {"model.init.weight", "model.activation"} <= set(found)


def test_printed_fixes_are_set_flags_the_cli_takes(tmp_path, cli, write_yaml):
    # each lint line ends with the --set flags of its fix; given back to the CLI they leave no warning
    import re
    import shlex

    cfg = {"data": {"source": "builtin:iris", "split": {"train": 0.85, "val": 0.0, "test": 0.15}},
           "optimizer": {"name": "adam", "lr": 0.5}, "model": {"dropout": 0.7},
           "training": {"epochs": 1, "batch_size": 5000}}
    path = write_yaml(cfg)
    code, _, err = cli("train", path, "--out", str(tmp_path / "a"))
    assert code == 0, err
    flags = [shlex.split(m) for m in re.findall(r"^lint: .*\(fix: (.*)\)$", err, re.M)]
    assert len(flags) == 4, err
    code, _, err = cli("train", path, "--out", str(tmp_path / "b"), *[a for f in flags for a in f])
    assert code == 0, err
    assert "lint:" not in err


def test_settings_that_starve_training_are_named():
    # A schedule at 1% of its rate by half the run, a plateau cut of 1000x, Huber's gradient capped
    # at 1e-4, noise louder than the inputs, a hidden layer narrower than the classes.
    found = keys({"data": {"source": "builtin:digits", "augment": {"noise": 3.0}}, "model": {"hidden": [2]},
                  "schedule": {"name": "step", "step_size": 2, "gamma": 0.01}, "training": {"epochs": 20}})
    assert {"schedule.step_size", "data.augment.noise", "model.hidden"} <= set(found)
    assert found["model.hidden"]["fix"] == {"model.hidden": [64]}
    found = keys({"data": {"source": "builtin:diabetes"}, "loss": {"name": "huber", "huber_delta": 1e-4},
                  "schedule": {"name": "reduce_on_plateau", "factor": 0.001, "patience": 0}})
    assert found["loss.huber_delta"]["fix"] == {"loss.huber_delta": 1.0}
    assert found["schedule.factor"]["fix"] == {"schedule.factor": 0.5}
    # The usual settings stay quiet: step 10 x 0.1 over 30 epochs, Huber delta 1, mild noise, 64 units.
    assert keys({"data": {"source": "builtin:digits", "augment": {"noise": 0.3}}, "model": {"hidden": [64]},
                 "schedule": {"name": "step", "step_size": 10, "gamma": 0.1}, "training": {"epochs": 30}}) == {}
    assert keys({"data": {"source": "builtin:diabetes"}, "loss": {"name": "huber"},
                 "schedule": {"name": "reduce_on_plateau"}}) == {}


def test_label_smoothing_that_leaves_nothing_to_learn_is_named_and_the_usual_amount_is_not():
    found = keys({"data": {"source": "builtin:digits"}, "loss": {"label_smoothing": 0.99}})
    assert found["loss.label_smoothing"]["fix"] == {"loss.label_smoothing": 0.1}
    assert "loss.label_smoothing" not in keys({"data": {"source": "builtin:digits"}, "loss": {"label_smoothing": 0.3}})


def test_a_gradient_clip_that_caps_every_step_and_momentum_near_one_are_named():
    found = keys({"data": {"source": "builtin:digits"}, "regularization": {"clip_grad_value": 1e-5},
                  "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.999}})
    assert found["regularization.clip_grad_value"]["fix"] == {"regularization.clip_grad_value": None,
                                                              "regularization.clip_grad_norm": 1.0}
    assert found["optimizer.momentum"]["fix"] == {"optimizer.momentum": 0.9}
    assert keys({"data": {"source": "builtin:digits"}, "regularization": {"clip_grad_value": 0.5},
                 "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}}) == {}


def test_a_run_of_a_few_optimizer_steps_in_all_is_named():
    found = keys({"data": {"source": "builtin:digits"}, "training": {"batch_size": "full", "epochs": 12}})
    assert found["training.batch_size"]["fix"] == {"training.batch_size": 32}
    assert "12 optimizer steps" in found["training.batch_size"]["message"]
    # Full batch with enough epochs, the usual mini-batches, or full batches of a small set say nothing of it.
    assert "training.batch_size" not in keys({"data": {"source": "builtin:digits"},
                                              "training": {"batch_size": "full", "epochs": 150}})
    assert "training.batch_size" not in keys({"data": {"source": "builtin:digits"}, "training": {"epochs": 5}})
    assert "training.batch_size" not in keys({"data": {"source": "builtin:wine"},
                                              "training": {"batch_size": "full", "epochs": 30}})


def test_a_huge_adam_eps_a_tiny_sgd_gradient_norm_clip_and_a_constant_init_are_named():
    found = keys({"data": {"source": "builtin:digits"}, "optimizer": {"lr": 1e-3, "eps": 10.0},
                  "model": {"init": {"weight": {"name": "constant", "value": 0.05}}}})
    assert found["optimizer.eps"]["fix"] == {"optimizer.eps": 1e-8}
    assert found["model.init.weight"]["fix"] == {"model.init.weight": "auto"}
    found = keys({"data": {"source": "builtin:digits"}, "optimizer": {"name": "sgd", "lr": 0.05},
                  "regularization": {"clip_grad_norm": 1e-4}})
    assert found["regularization.clip_grad_norm"]["fix"] == {"regularization.clip_grad_norm": 1.0}
    # The usual eps, RMSprop's deliberate eps 1.0, a norm clip of 1 and a random init say nothing.
    assert keys({"data": {"source": "builtin:digits"}, "optimizer": {"name": "rmsprop", "lr": 1e-3, "eps": 1.0},
                 "regularization": {"clip_grad_norm": 1.0}}) == {}


def test_class_weights_on_top_of_resampling_are_a_double_correction():
    found = keys({"data": {"source": "builtin:breast_cancer", "imbalance": "oversample"},
                  "loss": {"class_weights": [1.0, 3.0]}})
    assert found["loss.class_weights"]["fix"] == {"loss.class_weights": None}
    assert "loss.class_weights" not in keys({"data": {"source": "builtin:breast_cancer"},
                                             "loss": {"class_weights": [1.0, 3.0]}})


def test_a_new_head_without_transferred_weights_is_a_warning():
    found = keys({"data": {"source": "builtin:digits"}, "model": {"new_head": True}})
    assert found["model.new_head"]["fix"] == {"model.new_head": False}
    assert "model.new_head" not in keys({"data": {"source": "builtin:digits"}})


def test_a_warmup_as_long_as_the_run_is_named():
    found = keys({"data": {"source": "builtin:iris"}, "schedule": {"name": "cosine", "warmup_epochs": 400},
                  "training": {"epochs": 50}})
    assert "cosine schedule never starts" in found["schedule.warmup_epochs"]["message"]
    assert found["schedule.warmup_epochs"]["fix"] == {"schedule.warmup_epochs": 5}
    assert keys({"data": {"source": "builtin:iris"}, "schedule": {"warmup_epochs": 8},
                 "training": {"epochs": 5}})["schedule.warmup_epochs"]["fix"] == {"schedule.warmup_epochs": 0}
    assert "schedule.warmup_epochs" not in keys({"data": {"source": "builtin:iris"},
                                                "schedule": {"name": "cosine", "warmup_epochs": 5},
                                                "training": {"epochs": 50}})
