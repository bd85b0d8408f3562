"""Tiny studies: the blobs CSV, 4 epochs, a 16-unit MLP; real Optuna, real training."""

import pytest


@pytest.fixture
def tune_cfg(tiny_cfg):
    """A config with a small search space: a choice of lists, a log float, a conditional float."""
    return {
        **tiny_cfg,
        "training": {"epochs": 4, "batch_size": 32, "checkpoint_interval": 60},
        "tune": {
            "metric": "val_accuracy",
            "trials": 3,
            "startup_trials": 1,
            "warmup_epochs": 1,
            "space": {
                "optimizer.name": ["adam", "sgd"],
                "optimizer.lr": {"type": "float", "low": 1.0e-3, "high": 0.1, "log": True},
                "optimizer.momentum": {"type": "float", "low": 0.5, "high": 0.95, "when": {"optimizer.name": "sgd"}},
                "model.hidden": [[8], [16, 8]],
            },
        },
    }


@pytest.fixture
def load(tmp_path):
    """The Optuna study in a study folder."""
    def get(folder):
        from trainwell.tuning.results import load_study

        return load_study(folder)[0]
    return get
