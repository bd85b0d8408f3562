"""`trainwell predict` from an export directory: no torch, same answers, clear errors (exit 2)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest


def test_cli_predict_from_export_matches_the_run(cli, mlp_run, mlp_export, serve_data, tmp_path):
    inp = serve_data / "blobs_new.csv"
    code, stdout, err = cli("predict", mlp_export, inp, "-o", tmp_path / "onnx.csv")
    assert code == 0, err
    code, stdout, err = cli("predict", mlp_run, inp, "-o", tmp_path / "run.csv")
    assert code == 0, err
    a, b = pd.read_csv(tmp_path / "onnx.csv"), pd.read_csv(tmp_path / "run.csv")
    assert list(a.columns) == ["prediction", "proba_cat", "proba_dog", "proba_eel"]
    assert (a["prediction"] == b["prediction"]).all()
    np.testing.assert_allclose(a.filter(like="proba_"), b.filter(like="proba_"), atol=1e-5)


def test_predict_from_export_never_imports_torch(mlp_export, serve_data, tmp_path):
    """Both the library call and the CLI command, in fresh interpreters."""
    out = tmp_path / "p.csv"
    code = f"""
import json, sys
from trainwell.serve.predict import load_predictor
frame = load_predictor({str(mlp_export)!r}).predict({str(serve_data / 'blobs_new.csv')!r})
assert len(frame) == 40
sys.argv = ["trainwell", "predict", {str(mlp_export)!r}, {str(serve_data / 'blobs_new.csv')!r}, "-o", {str(out)!r}]
from trainwell.cli import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {{"torch", "sklearn", "safetensors"}})))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    assert len(pd.read_csv(out)) == 40


def test_missing_column_names_it(cli, mlp_export, serve_data, tmp_path):
    inp = tmp_path / "in.csv"
    pd.read_csv(serve_data / "blobs_new.csv").drop(columns=["b"]).to_csv(inp, index=False)
    code, _, err = cli("predict", mlp_export, inp, "-o", tmp_path / "p.csv")
    assert code == 2 and "missing column(s) ['b']" in err
    assert not (tmp_path / "p.csv").exists()


def test_wrong_types_become_missing_and_are_imputed_as_in_training(cli, mlp_export, serve_data, tmp_path):
    """A file follows the training rules: a garbage string in a numeric column is coerced to
    missing and imputed (the server, stricter, answers 422)."""
    inp = tmp_path / "in.csv"
    frame = pd.read_csv(serve_data / "blobs_new.csv")
    frame["a"] = frame["a"].astype(object)
    frame.loc[0, "a"] = "not a number"
    frame.to_csv(inp, index=False)
    code, _, err = cli("predict", mlp_export, inp, "-o", tmp_path / "p.csv")
    assert code == 0, err


def test_nan_where_the_model_cannot_take_it(cli, family_runs, family_exports, serve_data, tmp_path):
    """Trained with impute none: a missing value cannot be filled, so predict refuses it (exit 2)
    from the run and from the export alike, naming the column."""
    run_dir, _ = family_runs("mlp_noimpute")
    exp, _ = family_exports("mlp_noimpute")
    inp = tmp_path / "in.csv"
    frame = pd.read_csv(serve_data / "blobs_new.csv")
    frame.loc[3, "b"] = np.nan
    frame.to_csv(inp, index=False)
    for source in (run_dir, exp):
        code, _, err = cli("predict", source, inp, "-o", tmp_path / "p.csv")
        assert code == 2, err
        assert "['b']" in err and "impute" in err
        assert not (tmp_path / "p.csv").exists()


def test_missing_and_tampered_export_files(cli, copy_export, serve_data, tmp_path):
    inp = serve_data / "blobs_new.csv"
    state = copy_export / "preprocess.json"
    original = state.read_text()
    state.write_text(original.replace('"center"', '"center" ', 1))  # one byte more, still valid JSON
    code, _, err = cli("predict", copy_export, inp, "-o", tmp_path / "p.csv")
    assert code == 2 and "preprocess.json was changed after export" in err
    state.write_text(original)
    assert cli("predict", copy_export, inp, "-o", tmp_path / "p.csv")[0] == 0

    (copy_export / "model.onnx").unlink()
    code, _, err = cli("predict", copy_export, inp, "-o", tmp_path / "p2.csv")
    assert code == 2 and "model.onnx is missing" in err and not (tmp_path / "p2.csv").exists()

    (copy_export / "manifest.json").write_text("{not json")
    code, _, err = cli("predict", copy_export, inp, "-o", tmp_path / "p2.csv")
    assert code == 2 and "manifest.json is not valid JSON" in err


def test_manifest_cannot_point_outside_its_folder(copy_export, tmp_path):
    from trainwell.errors import UserError
    from trainwell.serve.predict import load_predictor

    manifest = json.loads((copy_export / "manifest.json").read_text())
    manifest["files"]["../secret"] = "0" * 64
    (copy_export / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="not a plain file name"):
        load_predictor(copy_export)


def test_torchscript_export_is_refused_for_predict(cli, family_exports, serve_data, tmp_path):
    path, _ = family_exports("mlp", "torchscript")
    code, _, err = cli("predict", path, serve_data / "blobs_new.csv", "-o", tmp_path / "p.csv")
    assert code == 2 and "TorchScript" in err and "runs the code stored in the archive" in err


def test_manifest_with_nonsense_fields_is_refused(copy_export):
    from trainwell.errors import UserError
    from trainwell.serve.predict import load_predictor

    manifest = json.loads((copy_export / "manifest.json").read_text())
    manifest["input"]["dtype"] = "object"
    (copy_export / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="lacks a valid input"):
        load_predictor(copy_export)
