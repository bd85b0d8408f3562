"""Predictors: new inputs -> a table of predictions, from a run directory or an export directory.

Both apply the run's own preprocessing (preprocess.json, in numpy and pandas: trainwell.data),
refuse inputs the network cannot take (NaN left after preprocessing, values too large for its
float32 arithmetic: checks.py), and format the answer the same way as Run.predict: `prediction`
(or `prediction_<k>` for a forecast horizon) and `proba_<class>` for classification.

- OnnxPredictor (an export directory) runs the graph in ONNX Runtime. It never imports torch:
  predicting from an export needs onnxruntime, numpy and pandas, not the training stack.
- RunPredictor (a run directory) rebuilds the network from config.yaml and loads
  model.safetensors into it: the eager PyTorch path.

Neither unpickles anything: the weights are safetensors or an ONNX protobuf, the state is JSON.
A TorchScript export is refused here: torch.jit.load runs the code stored in the archive (see
load_predictor).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from .checks import check_inputs, check_outputs
from .manifest import FORMATS, check_against_state, is_export_dir, read_manifest

CHUNK = 8192  # rows per forward pass; bounds memory on large files


# ----------------------------------------------------------------------------- numpy post-processing
def to_output(loss: str, task: str, raw: np.ndarray) -> np.ndarray:
    """Raw network outputs -> probabilities (n, K) or values (n,) / (n, H); numpy twin of
    training.losses.to_output."""
    raw = np.asarray(raw, dtype=np.float32)
    if task == "regression":
        return raw[:, 0] if raw.shape[1] == 1 else raw
    if loss == "bce":
        p = 0.5 * (1.0 + np.tanh(0.5 * raw[:, 0]))  # the logistic function, without overflow in exp
        return np.stack([1 - p, p], axis=1).astype(np.float32)
    shifted = raw - raw.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class Predictor:
    """Shared by both paths: preprocessing, checks and formatting. Subclasses provide _raw()."""

    source = "?"       # run | export
    engine = "?"       # pytorch | onnxruntime
    state: dict
    info: dict         # task, loss, n_out
    metrics: dict

    @property
    def task(self) -> str:
        return self.info["task"]

    @property
    def spec(self) -> dict:
        return self.state["spec"]

    @property
    def kind(self) -> str:
        return self.state.get("kind", "tabular")

    def _raw(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Preprocessed inputs -> raw network outputs (n, n_out), in chunks."""
        if len(x) == 0:
            return np.zeros((0, self.info["n_out"]), dtype=np.float32)
        return np.concatenate([self._raw(x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)])

    def preprocess(self, inputs):
        """A DataFrame, an array (images, sequences) or a file path -> (network inputs, id columns)."""
        from ..data import load_inputs

        # A value past float32 once scaled becomes inf in the cast, which check_inputs names by row and
        # field; numpy's own warning would say the same thing worse.
        with np.errstate(over="ignore"):
            x, ids = load_inputs(self.state, inputs)
        check_inputs(self.state, x, ids)
        return x, ids

    def predict_arrays(self, inputs):
        """New inputs -> (id columns, predictions, probabilities or None), as arrays: predictions are
        class labels or values in the target's units, (n,) or (n, horizon)."""
        from ..data import inverse_target

        x, ids = self.preprocess(inputs)
        raw = self.raw(x)
        check_outputs(self.state, x, raw, ids)
        out = to_output(self.info["loss"], self.task, raw)
        if self.task == "regression":
            values = inverse_target(self.state, out)
            check_outputs(self.state, x, values, ids)
            return ids, values, None
        return ids, inverse_target(self.state, out.argmax(axis=1)), out

    def predict(self, inputs):
        """New inputs -> DataFrame: the id columns, prediction(s), proba_<class> for classification."""
        import pandas as pd

        ids, values, proba = self.predict_arrays(inputs)
        columns: dict = {}
        if values.ndim == 1:
            columns["prediction"] = values
        else:
            columns.update((f"prediction_{k + 1}", values[:, k]) for k in range(values.shape[1]))
        if proba is not None:
            columns.update((f"proba_{cls}", proba[:, i]) for i, cls in enumerate(self.spec["classes"]))
        # One constructor call: inserting a dozen columns one by one costs more than the model on a row.
        result = pd.DataFrame(columns, index=pd.RangeIndex(len(values)))
        if len(ids.columns):
            result = pd.concat([ids.reset_index(drop=True), result], axis=1)
        return result

    def _input_shape(self):
        """One input as the user's files and requests hold it (a channels-first sequence: (F, T))."""
        if self.kind == "sequence":
            from ..data.series import sequence_file_shape

            return sequence_file_shape(self.state)
        return self.spec.get("input_shape")

    def metadata(self) -> dict:
        """What a client needs to call the model: features and their types, classes, metrics."""
        spec = self.spec
        features = []
        by_column = {st["column"]: st for st in self.state.get("features", [])}
        for col in spec.get("input_columns") or []:
            entry = {"name": col, "type": spec["column_types"].get(col, "numeric")}
            st = by_column.get(col)
            if st is not None and st["kind"] == "numeric":
                entry["missing_allowed"] = st.get("impute") is not None
            elif st is not None:
                entry["categories"] = st["categories"]
                entry["missing_allowed"] = True  # a missing value is its own category
            features.append(entry)
        return {
            "source": self.source, "engine": self.engine, "task": self.task, "kind": self.kind,
            "target": spec.get("target"), "features": features, "input_shape": self._input_shape(),
            "classes": spec.get("classes"), "metrics": self.metrics,
            **({"layout": self.state.get("layout", "steps_first")} if self.kind == "sequence" else {}),
            "extra_columns": "ignored",
        }


# ----------------------------------------------------------------------------- export: ONNX Runtime
class OnnxPredictor(Predictor):
    source, engine = "export", "onnxruntime"

    def __init__(self, folder: str | Path, threads: int | None = None):
        self.path = Path(folder)
        self.manifest = read_manifest(self.path)
        if self.manifest["format"] != "onnx":
            raise refuse_torchscript(self.path)
        self.state = json.loads(_verified_bytes(self.path, "preprocess.json", self.manifest))
        self.info = {k: self.manifest[k] for k in ("task", "loss", "n_out")}
        self.metrics = self.manifest.get("metrics") or {}
        self.input_name = self.manifest["input"]["name"]
        self.input_dtype = np.dtype(self.manifest["input"]["dtype"])
        try:
            import onnxruntime as ort
        except ImportError:
            raise UserError("predicting from an ONNX export needs onnxruntime: pip install onnxruntime") from None
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        # From the verified bytes, not the path: what runs is exactly what was hashed, and a graph
        # pointing at external weight files has no folder to read them from.
        model = _verified_bytes(self.path, FORMATS["onnx"], self.manifest)
        try:
            self.session = ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT's own errors (InvalidProtobuf, Fail...) share no base class
            raise UserError(f"export {str(self.path)!r}: model.onnx could not be loaded by onnxruntime: "
                            f"{type(exc).__name__}: {str(exc)[:300]}") from None
        out_shape = self.session.get_outputs()[0].shape
        check_against_state(self.path, self.manifest, self.state,
                            out_shape[1] if len(out_shape) == 2 and isinstance(out_shape[1], int) else None)

    def _raw(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=self.input_dtype)})[0]

    def metadata(self) -> dict:
        meta = super().metadata()
        meta.update(format="onnx", versions=self.manifest.get("versions"), parity=self.manifest.get("parity"))
        return meta


def _verified_bytes(folder: Path, name: str, manifest: dict) -> bytes:
    """Read a file once and check those very bytes against the manifest (no swap between check and use)."""
    data = (folder / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["files"][name]:
        raise UserError(f"export {str(folder)!r}: {name} changed while it was being loaded; it is refused")
    return data


def refuse_torchscript(folder: Path) -> UserError:
    return UserError(
        f"{str(folder)!r} is a TorchScript export. trainwell does not load TorchScript archives for predict or "
        "serve: torch.jit.load runs the code stored in the archive, so loading one is only as safe as its author. "
        "It is meant for libtorch/C++ deployment by someone who trusts it. Use an ONNX export (trainwell export "
        "RUN --format onnx) or the run directory itself")


# ----------------------------------------------------------------------------- run: eager PyTorch
class RunPredictor(Predictor):
    source, engine = "run", "pytorch"

    def __init__(self, folder: str | Path, threads: int | None = None):
        import torch

        from ..api import load_run

        if threads:
            torch.set_num_threads(threads)
        self.run = load_run(folder)
        self.path = self.run.path
        self.run._refuse_generation()
        try:
            self.model = self.run.model()  # safetensors only; an ensemble gives one averaging network
        except UserError:
            # An ensemble whose members preprocess differently is not one network: each member then
            # predicts through its own preprocessing and the ensemble averages (its own predict).
            if not (self.path / "ensemble.json").is_file():
                raise
            self.model = None
        self.state = self.run.state
        self.info = self.run.plan
        self.metrics = self.run.metrics

    def predict_arrays(self, inputs):
        if self.model is not None:
            return super().predict_arrays(inputs)
        frame = self.run.predict(inputs)
        pred = [c for c in frame.columns if c == "prediction" or c.startswith("prediction_")]
        proba = [c for c in frame.columns if c.startswith("proba_")]
        ids = frame[[c for c in frame.columns if c not in pred and c not in proba]]
        values = frame[pred[0]].to_numpy() if len(pred) == 1 else frame[pred].to_numpy(dtype=np.float64)
        return ids, values, frame[proba].to_numpy(dtype=np.float32) if proba else None

    def predict(self, inputs):
        return super().predict(inputs) if self.model is not None else self.run.predict(inputs)

    def _raw(self, x: np.ndarray) -> np.ndarray:
        import torch

        from ..api import _outputs

        return _outputs(self.model, torch.as_tensor(x), self.info).float().numpy()

    def metadata(self) -> dict:
        import torch

        from .. import __version__

        meta = super().metadata()
        meta.update(format="safetensors", versions={"trainwell": __version__, "torch": torch.__version__})
        return meta


def load_predictor(path: str | Path, threads: int | None = None) -> Predictor:
    """An export directory (manifest.json) or a run directory -> its Predictor."""
    p = Path(path)
    if is_export_dir(p):
        return OnnxPredictor(p, threads)
    if not p.exists():
        raise UserError(f"{str(p)!r} does not exist; give a run directory or an export directory "
                        "(trainwell export RUN)")
    return RunPredictor(p, threads)
