"""Export: every family that predicts exports to ONNX and agrees with the eager model in ONNX Runtime;
the manifest records what the model takes and the hash of every file; TorchScript too."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from trainwell.serve.manifest import sha256

FAMILIES = ["mlp", "mlp_bce", "mlp_regression", "cnn", "lstm_series", "gru_sequence", "rnn_sequence",
            "transformer_text", "transformer_sequence", "python"]


@pytest.mark.parametrize("name", FAMILIES)
def test_onnx_parity_and_same_predictions_as_the_run(name, family_runs, family_exports):
    from trainwell.serve.predict import OnnxPredictor, RunPredictor

    run_dir, new_inputs = family_runs(name)
    path, result = family_exports(name)
    assert result.max_abs_diff <= 1e-4
    assert result.rows >= 1 and result.data in ("test split", "val split")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["parity"]["max_abs_diff"] == result.max_abs_diff
    assert manifest["parity"]["engine"] == "onnxruntime"
    # The whole chain from a file, through the JSON preprocessing, matches the eager run.
    eager = RunPredictor(run_dir).predict(str(new_inputs))
    onnx = OnnxPredictor(path).predict(str(new_inputs))
    assert list(onnx.columns) == list(eager.columns)
    assert len(onnx) == len(eager) > 0
    numeric = [c for c in eager.columns if c.startswith(("proba_", "prediction_"))]
    if "prediction" in eager.columns:
        if eager["prediction"].dtype.kind == "f":
            numeric.append("prediction")
        else:
            assert (onnx["prediction"] == eager["prediction"]).all()
    for col in numeric:
        np.testing.assert_allclose(onnx[col].to_numpy(float), eager[col].to_numpy(float), rtol=1e-4, atol=1e-4)


def test_legacy_exporter_is_the_fallback(family_exports):
    """A module torch.export cannot capture still exports, through the legacy exporter, and the
    manifest says which one was used."""
    path, result = family_exports("python_branchy")
    assert result.exporter == "legacy" and result.max_abs_diff <= 1e-4
    assert json.loads((path / "manifest.json").read_text())["parity"]["exporter"] == "legacy"


def test_manifest_lists_inputs_classes_versions_and_hashes(mlp_export):
    manifest = json.loads((mlp_export / "manifest.json").read_text())
    assert manifest["format"] == "onnx" and manifest["task"] == "multiclass"
    assert manifest["features"]["columns"] == ["a", "b", "color"]
    assert manifest["features"]["types"] == {"a": "numeric", "b": "numeric", "color": "categorical"}
    assert manifest["classes"] == ["cat", "dog", "eel"]
    assert manifest["input"] == {"name": "x", "dtype": "float32", "shape": ["batch", 4]}
    assert {"trainwell", "torch", "onnx", "onnxruntime", "opset"} <= set(manifest["versions"])
    assert set(manifest["files"]) == {"model.onnx", "preprocess.json"}
    for name, digest in manifest["files"].items():
        assert sha256(mlp_export / name) == digest
    assert "accuracy" in manifest["metrics"]["test"]


def test_onnx_graph_has_a_dynamic_batch_axis(mlp_export):
    import onnxruntime as ort

    session = ort.InferenceSession(str(mlp_export / "model.onnx"), providers=["CPUExecutionProvider"])
    batch = session.get_inputs()[0].shape[0]
    assert isinstance(batch, str)  # a named symbol, not a fixed size
    for n in (1, 3, 300):
        assert session.run(None, {"x": np.zeros((n, 4), np.float32)})[0].shape == (n, 3)


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm_series", "transformer_text"])
def test_torchscript_parity(name, family_exports):
    path, result = family_exports(name, "torchscript")
    assert result.max_abs_diff <= 1e-4
    assert (path / "model.pt").is_file() and (path / "manifest.json").is_file()
    assert json.loads((path / "manifest.json").read_text())["format"] == "torchscript"


def test_cli_export_prints_parity_and_the_path(cli, mlp_run, tmp_path):
    out = tmp_path / "exp"
    code, stdout, err = cli("export", mlp_run, "--format", "onnx", "-o", out)
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[-1] == str(out)
    assert "max abs difference" in lines[-2] and "onnxruntime" in lines[-2]
    assert (out / "model.onnx").is_file()
    # Re-exporting over an earlier export is fine; over any other folder it is refused.
    assert cli("export", mlp_run, "-o", out)[0] == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    code, _, err = cli("export", mlp_run, "-o", other)
    assert code == 2 and "not an earlier export" in err and (other / "notes.txt").read_text() == "mine"


def test_parity_above_tolerance_fails_clearly_and_leaves_nothing(cli, mlp_run, mlp_export, tmp_path):
    diff = json.loads((mlp_export / "manifest.json").read_text())["parity"]["max_abs_diff"]
    if diff == 0:
        pytest.skip("this export matched to the last bit; no tolerance below it to test")
    out = tmp_path / "exp"
    code, stdout, err = cli("export", mlp_run, "-o", out, "--tolerance", diff / 2)
    assert code == 1
    assert "parity check failed" in err and "tolerance" in err and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".exp")]  # no temp folder left


def test_bad_export_arguments(cli, mlp_run, tmp_path):
    code, _, err = cli("export", mlp_run, "--format", "pickle", "-o", tmp_path / "x")
    assert code == 2 and "valid: onnx, torchscript" in err
    code, _, err = cli("export", tmp_path / "nope")
    assert code == 2 and "does not exist" in err


def test_export_without_the_training_data_checks_on_random_rows(family_runs, tmp_path):
    """A run whose source file is gone still exports; the parity rows say where they came from."""
    import shutil

    from trainwell.serve.export import export

    run_dir, _ = family_runs("mlp")
    moved = tmp_path / "run"
    shutil.copytree(run_dir, moved)
    cfg = (moved / "config.yaml").read_text()
    (moved / "config.yaml").write_text(cfg.replace(str(run_dir.parent.parent), str(tmp_path / "gone")))
    src = [line for line in (moved / "config.yaml").read_text().splitlines() if "source:" in line][0]
    assert "gone" in src
    result = export(moved, "onnx", tmp_path / "exp")
    assert result.data.startswith("random inputs") and result.max_abs_diff <= 1e-4
    # the reason whole, or cut back to whole clauses: it used to stop mid-word ("a path endin")
    assert re.fullmatch(r"random inputs \(data\.source: file '.*gone.*' not found(; valid: .*\.npz)?\)",
                        result.data), result.data


def test_gan_runs_are_refused_with_the_reason(tmp_path, cli, write_yaml):
    import trainwell

    cfg = {"name": "gan", "seed": 0, "doctor": {"enabled": False},
           "data": {"source": "builtin:digits", "split": {"train": 1.0, "val": 0.0, "test": 0.0},
                    "train_fraction": 0.1},
           "model": {"type": "gan", "latent": 4, "generator": [16], "discriminator": [16], "sample_every": 100},
           "training": {"epochs": 1, "batch_size": 32}}
    run = trainwell.train(cfg, out=tmp_path / "gan", quiet=True)
    code, _, err = cli("export", run.path, "-o", tmp_path / "x")
    assert code == 2 and "GAN" in err and "generator" in err
    code, _, err = cli("predict", run.path, tmp_path / "in.csv", "-o", tmp_path / "p.csv")
    assert code == 2 and "GAN" in err


def test_export_predictions_from_a_dataframe_match(mlp_export, serve_data):
    from trainwell.serve.predict import OnnxPredictor

    frame = pd.read_csv(serve_data / "blobs_new.csv")
    result = OnnxPredictor(mlp_export).predict(frame)
    assert list(result.columns) == ["prediction", "proba_cat", "proba_dog", "proba_eel"]
    np.testing.assert_allclose(result.filter(like="proba_").sum(axis=1), 1, atol=1e-5)
