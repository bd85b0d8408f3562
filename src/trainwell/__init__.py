"""trainwell: train deep learning models well, from one YAML file.

The public API is imported lazily so `import trainwell` (and the CLI's --help) stays fast.
"""

__version__ = "0.1.0"
__all__ = ["load_config", "train", "load_run", "Run", "Config", "UserError", "TrainingInterrupted", "tune",
           "find_lr", "diagnose", "export", "load_predictor"]

_WHERE = {
    "load_config": "config", "Config": "config",
    "train": "api", "load_run": "api", "Run": "api",
    "UserError": "errors", "TrainingInterrupted": "errors",
    "tune": "tuning",
    "find_lr": "doctor.lr_finder", "diagnose": "doctor.report",
    "export": "serve.export", "load_predictor": "serve.predict",
}


def __getattr__(name):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'trainwell' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
