"""Tiny runs of every family that exports, each trained once per session (a second or two each),
and their ONNX exports, made on first use and shared."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

CUSTOM_NET = '''
from torch import nn

class Net(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 12), nn.Tanh(), nn.LayerNorm(12))
        self.head = nn.Linear(12, n_out)

    def forward(self, x):
        return self.head(self.body(x) + 0.5 * self.body(-x))

def make(spec):
    return Net(spec.n_features, len(spec.classes))


class Branchy(Net):
    def forward(self, x):
        # A Python decision on a value: torch.export cannot capture it, the legacy tracer can
        # (it records the branch taken, which is the only one for these inputs).
        if float(x.abs().sum()) >= 0:
            return super().forward(x)
        return -super().forward(x)

def make_branchy(spec):
    return Branchy(spec.n_features, len(spec.classes))
'''


def _blobs(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 0], [3, 3], [-3, 3]])
    x = centers[y] + rng.normal(0, 0.7, (n, 2))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "color": rng.choice(["red", "blue"], n),
                         "label": np.array(["cat", "dog", "eel"])[y]})


def _sequences(n: int = 150, seed: int = 1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    t = np.linspace(0, 2 * np.pi, 12)
    x = np.stack([np.sin(t * (1 + k) + rng.uniform(0, 6)) for k in y])[:, :, None]
    x = np.concatenate([x, rng.normal(0, 0.1, x.shape)], axis=2) + rng.normal(0, 0.1, x.shape)
    return x.astype(np.float32), y


def _series(n: int = 320, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, n)
    temp = 20 + 5 * np.sin(2 * np.pi * t / 48) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=n, freq="h").astype(str),
                         "load": load, "temperature": temp})


def _texts(n: int = 180, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    good, bad, filler = ["great", "good", "lovely"], ["bad", "awful", "poor"], ["the", "phone", "case", "is", "it"]
    rows = []
    for _ in range(n):
        label = rng.choice(["positive", "negative"])
        words = list(rng.choice(filler, 4)) + [rng.choice(good if label == "positive" else bad)]
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return pd.DataFrame(rows, columns=["review", "sentiment"])


FAST = {"doctor": {"enabled": False}, "seed": 0}


@pytest.fixture(scope="session")
def serve_data(tmp_path_factory):
    """Source files and prediction inputs for every family."""
    root = tmp_path_factory.mktemp("serve_data")
    blobs = _blobs()
    blobs.to_csv(root / "blobs.csv", index=False)
    blobs.drop(columns=["label"]).head(40).assign(extra="ignored").to_csv(root / "blobs_new.csv", index=False)
    x, y = _sequences()
    np.savez(root / "seq.npz", x=x, y=y)
    np.savez(root / "seq_new.npz", x=x[:20])
    _series().to_csv(root / "series.csv", index=False)
    _series(80, seed=5).to_csv(root / "series_new.csv", index=False)
    texts = _texts()
    texts.to_csv(root / "reviews.csv", index=False)
    texts.drop(columns=["sentiment"]).head(30).to_csv(root / "reviews_new.csv", index=False)
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

    np.savez(root / "digits_new.npz", x=load_digits().images[:25])
    load_breast_cancer(as_frame=True).frame.drop(columns=["target"]).head(30).to_csv(root / "bc_new.csv", index=False)
    load_diabetes(as_frame=True).frame.drop(columns=["target"]).head(30).to_csv(root / "diab_new.csv", index=False)
    (root / "tw_custom_net.py").write_text(textwrap.dedent(CUSTOM_NET))
    return root


def family_configs(root) -> dict[str, tuple[dict, str]]:
    """name -> (config, the file `predict` reads for it)."""
    tab = {"source": str(root / "blobs.csv"), "target": "label"}
    seq = {"source": str(root / "seq.npz")}
    return {
        "mlp": ({**FAST, "data": tab, "model": {"hidden": [16], "batch_norm": True}, "training": {"epochs": 3}},
                "blobs_new.csv"),
        "mlp_noimpute": ({**FAST, "data": {**tab, "clean": {"impute": "none"}}, "model": {"hidden": [8]},
                          "training": {"epochs": 1}}, "blobs_new.csv"),
        "mlp_bce": ({**FAST, "data": {"source": "builtin:breast_cancer"}, "model": {"hidden": [8]},
                     "training": {"epochs": 2}}, "bc_new.csv"),
        "mlp_regression": ({**FAST, "data": {"source": "builtin:diabetes"}, "model": {"hidden": [8]},
                            "training": {"epochs": 2}}, "diab_new.csv"),
        "cnn": ({**FAST, "data": {"source": "builtin:digits", "train_fraction": 0.15},
                 "model": {"type": "cnn", "blocks": [{"channels": 4, "kernel": 3, "pool": "max", "pool_size": 2,
                                                      "batch_norm": True}], "head": [16]},
                 "training": {"epochs": 1}}, "digits_new.npz"),
        "lstm_series": ({**FAST, "data": {"source": str(root / "series.csv"), "target": "load",
                                          "series": {"time_column": "timestamp", "value_columns": ["load", "temperature"],
                                                     "window": 12, "horizon": 3}},
                         "model": {"type": "rnn", "cell": "lstm", "hidden_size": 8, "layers": 2, "bidirectional": True},
                         "training": {"epochs": 1}}, "series_new.csv"),
        "gru_sequence": ({**FAST, "data": seq, "model": {"type": "rnn", "cell": "gru", "hidden_size": 8},
                          "training": {"epochs": 2}}, "seq_new.npz"),
        "rnn_sequence": ({**FAST, "data": seq, "model": {"type": "rnn", "cell": "rnn", "hidden_size": 8, "head": [8]},
                          "training": {"epochs": 1}}, "seq_new.npz"),
        "transformer_text": ({**FAST, "data": {"source": str(root / "reviews.csv"), "target": "sentiment",
                                               "text": {"column": "review", "max_len": 10}},
                              "model": {"type": "transformer", "d_model": 16, "heads": 2, "layers": 1, "ff": 32,
                                        "pooling": "cls", "positional": "learned"},
                              "training": {"epochs": 2}}, "reviews_new.csv"),
        "transformer_sequence": ({**FAST, "data": seq,
                                  "model": {"type": "transformer", "d_model": 16, "heads": 2, "layers": 1, "ff": 32},
                                  "training": {"epochs": 1}}, "seq_new.npz"),
        "python": ({**FAST, "data": tab, "model": {"type": "python", "builder": "tw_custom_net:make"},
                    "training": {"epochs": 2}}, "blobs_new.csv"),
        "python_branchy": ({**FAST, "data": tab, "model": {"type": "python", "builder": "tw_custom_net:make_branchy"},
                            "training": {"epochs": 1}}, "blobs_new.csv"),
    }


@pytest.fixture(scope="session")
def family_runs(serve_data, tmp_path_factory):
    """Trains a family's run the first time it is asked for: runs(name) -> (run_dir, input file)."""
    import trainwell

    sys.path.insert(0, str(serve_data))  # the python family's builder module
    configs = family_configs(serve_data)
    root = tmp_path_factory.mktemp("serve_runs")
    done: dict = {}

    def get(name: str):
        if name not in done:
            cfg, new = configs[name]
            run = trainwell.train({**cfg, "name": name}, out=root / name, quiet=True)
            done[name] = (run.path, serve_data / new)
        return done[name]

    yield get
    sys.path.remove(str(serve_data))
    sys.modules.pop("tw_custom_net", None)


@pytest.fixture(scope="session")
def family_exports(family_runs, tmp_path_factory):
    """exports(name, fmt="onnx") -> (export dir, ExportResult); each made once."""
    from trainwell.serve.export import export

    root = tmp_path_factory.mktemp("serve_exports")
    done: dict = {}

    def get(name: str, fmt: str = "onnx"):
        if (name, fmt) not in done:
            run_dir, _ = family_runs(name)
            result = export(run_dir, fmt, root / f"{name}-{fmt}")
            done[(name, fmt)] = (result.path, result)
        return done[(name, fmt)]

    return get


@pytest.fixture(scope="session")
def mlp_run(family_runs):
    return family_runs("mlp")[0]


@pytest.fixture(scope="session")
def mlp_export(family_exports):
    return family_exports("mlp")[0]


@pytest.fixture
def copy_export(mlp_export, tmp_path):
    """A private copy of the MLP export that a test may damage."""
    import shutil

    dest = tmp_path / "export"
    shutil.copytree(mlp_export, dest)
    return dest
