"""`trainwell predict` from an export directory: no torch, same answers, clear errors (exit 2)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

# starlette's TestClient notes a future dependency change (httpx2); nothing to do with this code
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")


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


def test_predictions_are_written_as_csv_or_parquet_by_the_suffix(cli, mlp_export, serve_data, tmp_path):
    """-o out.parquet is a Parquet file (it used to be CSV text under that name); any other suffix
    is refused up front (exit 2) and nothing is written."""
    inp = serve_data / "blobs_new.csv"
    assert cli("predict", mlp_export, inp, "-o", tmp_path / "p.csv")[0] == 0
    code, _, err = cli("predict", mlp_export, inp, "-o", tmp_path / "p.parquet")
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p.parquet"), pd.read_csv(tmp_path / "p.csv"),
                                  check_dtype=False, atol=1e-6)
    for name in ("p.txt", "p"):
        code, _, err = cli("predict", mlp_export, inp, "-o", tmp_path / name)
        assert code == 2 and ".csv or .parquet" in err and "Traceback" not in err, err
        assert not (tmp_path / name).exists()


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


def test_unreadable_numbers_are_refused_like_the_server_does(cli, mlp_run, mlp_export, serve_data, tmp_path):
    """A value that is not a number in a numeric column is exit 2 from the run and from the export,
    naming the column, the row (1-based, header not counted) and the value; the server answers the
    same rows with a 422 on the same fields. Training's tolerance (up to 5% strays, imputed) is about
    deciding a column's type; at prediction time a stray would silently become the training median."""
    from fastapi.testclient import TestClient

    from trainwell.serve.predict import load_predictor
    from trainwell.serve.server import create_app

    inp = tmp_path / "in.csv"
    frame = pd.read_csv(serve_data / "blobs_new.csv")
    frame["a"] = frame["a"].astype(object)
    frame.loc[0, "a"] = "not a number"
    frame.loc[4, "a"] = "inf"
    frame.to_csv(inp, index=False)
    for source in (mlp_run, mlp_export):
        code, _, err = cli("predict", source, inp, "-o", tmp_path / "p.csv")
        assert code == 2, err
        assert "Traceback" not in err and err.startswith("error: ")
        assert "column 'a'" in err and "row 1: 'not a number'" in err and "row 5: 'inf'" in err, err
        assert not (tmp_path / "p.csv").exists()
    # The Python API refuses the same DataFrame (Run.predict and the predictor alike).
    import trainwell
    from trainwell.errors import UserError

    with pytest.raises(UserError, match="row 1: 'not a number'"):
        trainwell.load_run(mlp_run).predict(frame)
    records = json.loads(frame.head(5).to_json(orient="records"))
    client = TestClient(create_app(load_predictor(mlp_export)))
    r = client.post("/predict", json={"records": records})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "records", 0, "a"), ("body", "records", 4, "a")}


def test_missing_numbers_are_still_imputed_from_a_file(cli, mlp_run, mlp_export, serve_data, tmp_path):
    """An empty cell (or NA) is a missing value: imputed with the training median, by predict and
    by the server alike."""
    from fastapi.testclient import TestClient

    from trainwell.serve.predict import load_predictor
    from trainwell.serve.server import create_app

    inp = tmp_path / "in.csv"
    frame = pd.read_csv(serve_data / "blobs_new.csv")
    frame.loc[0, "a"] = np.nan
    frame.to_csv(inp, index=False)
    (tmp_path / "na.csv").write_text(inp.read_text().replace("\n,", "\nNA,", 1))
    outs = []
    for source in (mlp_run, mlp_export):
        for name in ("in.csv", "na.csv"):
            code, _, err = cli("predict", source, tmp_path / name, "-o", tmp_path / "p.csv")
            assert code == 0, err
            outs.append(pd.read_csv(tmp_path / "p.csv"))
    assert all((o["prediction"] == outs[0]["prediction"]).all() for o in outs)
    records = json.loads(frame.head(3).to_json(orient="records"))
    assert records[0]["a"] is None
    r = TestClient(create_app(load_predictor(mlp_export))).post("/predict", json={"records": records})
    assert r.status_code == 200 and r.json()["predictions"] == outs[0]["prediction"].head(3).tolist()


def test_evaluate_and_series_refuse_unreadable_numbers(cli, mlp_run, family_runs, serve_data, tmp_path):
    """The same rule for `evaluate --data` (row numbers are the file's, before rows without a
    target are skipped) and for a forecasting model's value columns (before rows are ordered by time)."""
    labelled = pd.read_csv(serve_data / "blobs.csv").head(30)
    labelled["b"] = labelled["b"].astype(object)
    labelled.loc[1, "label"] = np.nan
    labelled.loc[2, "b"] = "1.5.2"
    labelled.to_csv(tmp_path / "labelled.csv", index=False)
    code, _, err = cli("evaluate", mlp_run, "--data", tmp_path / "labelled.csv")
    assert code == 2 and "column 'b'" in err and "row 3: '1.5.2'" in err, err

    run_dir, new = family_runs("lstm_series")
    series = pd.read_csv(new)
    series["temperature"] = series["temperature"].astype(object)
    series.loc[9, "temperature"] = "warm"
    series.to_csv(tmp_path / "series.csv", index=False)
    code, _, err = cli("predict", run_dir, tmp_path / "series.csv", "-o", tmp_path / "p.csv")
    assert code == 2 and "column 'temperature'" in err and "row 10: 'warm'" in err, err
    series.loc[9, "temperature"] = None  # a gap: interpolated as in training
    series.to_csv(tmp_path / "series.csv", index=False)
    code, _, err = cli("predict", run_dir, tmp_path / "series.csv", "-o", tmp_path / "p.csv")
    assert code == 0, err


def test_a_forecast_refuses_rows_without_a_readable_time(cli, family_runs, family_exports, serve_data, tmp_path):
    """Training drops a row whose time cannot be read, with a note; new rows are refused instead
    (exit 2, 422 on the field), naming the row and the value: a dropped row would silently shift the
    windows after it and lose a forecast."""
    from fastapi.testclient import TestClient

    from trainwell.serve.predict import load_predictor
    from trainwell.serve.server import create_app

    run_dir, new = family_runs("lstm_series")
    series = pd.read_csv(new).head(20)
    series.loc[3, "timestamp"] = "not a date"
    series.to_csv(tmp_path / "series.csv", index=False)
    for source in (run_dir, family_exports("lstm_series")[0]):
        code, _, err = cli("predict", source, tmp_path / "series.csv", "-o", tmp_path / "p.csv")
        assert code == 2 and "'timestamp'" in err and "row 4: 'not a date'" in err, err
        assert not (tmp_path / "p.csv").exists()
        r = TestClient(create_app(load_predictor(source))).post(
            "/predict", json={"records": json.loads(series.to_json(orient="records"))})
        assert r.status_code == 422, r.text
        assert [e["loc"] for e in r.json()["detail"]] == [["body", "records", 3, "timestamp"]]
        assert "not a date" in r.json()["detail"][0]["msg"]


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


def test_values_too_large_for_the_model_are_refused_by_row_and_column(cli, mlp_run, mlp_export, family_runs,
                                                                      serve_data, tmp_path):
    """A finite number can still be out of the model's range: past float32 once scaled (1e39), or in
    range but overflowing the network's arithmetic (-5e38 in both columns: NaN or inf outputs). Exit 2
    naming the row and the columns, nothing written, no numpy warning, and no claim that the run was
    trained without imputation (it imputes with the median)."""
    import warnings

    frame = pd.read_csv(serve_data / "blobs_new.csv").head(5)
    inp, out = tmp_path / "in.csv", tmp_path / "p.csv"
    for a, b, says in [(-5e38, -5e38, "not a finite number"), (1e39, 1.0, "beyond ±3.4e+38")]:
        frame.loc[2, ["a", "b", "color"]] = [a, b, "red"]
        frame.to_csv(inp, index=False)
        for source in (mlp_run, mlp_export):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                code, _, err = cli("predict", source, inp, "-o", out)
            assert code == 2 and "row 3: 'a'" in err and says in err, err
            assert "impute" not in err and "Traceback" not in err
            assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
            assert not out.exists()
    run_dir, diab = family_runs("mlp_regression")
    rows = pd.read_csv(diab).head(3)
    rows.loc[1, "age"] = 1e38  # the diabetes columns are scaled to a spread of 0.05: past float32
    rows.to_csv(inp, index=False)
    code, _, err = cli("predict", run_dir, inp, "-o", out)
    assert code == 2 and "row 2: 'age'" in err and "impute" not in err, err


def test_a_forecast_value_too_large_for_the_model_is_named_by_window_and_column(cli, family_runs, tmp_path):
    run_dir, new = family_runs("lstm_series")
    series = pd.read_csv(new)
    series["temperature"] = series["temperature"].astype(float)
    series.loc[len(series) - 2, "temperature"] = 1e300   # past float32 once scaled (a saturating LSTM takes 1e39)
    series.to_csv(tmp_path / "series.csv", index=False)
    code, _, err = cli("predict", run_dir, tmp_path / "series.csv", "-o", tmp_path / "p.csv")
    assert code == 2 and "the window ending at" in err and "'temperature'" in err and "beyond" in err, err
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

    from trainwell.serve.manifest import field_digests

    manifest = json.loads((copy_export / "manifest.json").read_text())
    manifest["input"]["dtype"] = "object"
    (copy_export / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="field 'input' was changed"):
        load_predictor(copy_export)
    manifest["fields_sha256"] = field_digests(manifest)  # the field hashes made to agree
    (copy_export / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="lacks a valid input"):
        load_predictor(copy_export)


def _edit_manifest(folder, change):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2))


@pytest.mark.parametrize("field, change", [
    ("features", lambda m: m["features"]["columns"].reverse()),
    ("features", lambda m: m["features"]["types"].update(a="categorical")),
    ("loss", lambda m: m.update(loss="bce")),              # softmax -> sigmoid: different probabilities
    ("n_out", lambda m: m.update(n_out=2)),
    ("classes", lambda m: m["classes"].reverse()),         # what a client reads to name the classes
    ("task", lambda m: m.update(task="regression")),
    ("input", lambda m: m["input"].update(dtype="int64")),
    ("metrics", lambda m: m["metrics"]["test"].update(accuracy=1.0)),
], ids=["features-order", "features-type", "loss", "n_out", "classes", "task", "input", "metrics"])
def test_every_manifest_field_is_covered_by_a_hash(cli, copy_export, serve_data, tmp_path, field, change):
    """Editing a field of manifest.json (not only a file) refuses the export, naming the field:
    exit 2 for predict and serve, a UserError for the library, nothing written."""
    from trainwell.errors import UserError
    from trainwell.serve.predict import load_predictor

    _edit_manifest(copy_export, change)
    code, _, err = cli("predict", copy_export, serve_data / "blobs_new.csv", "-o", tmp_path / "p.csv")
    assert code == 2 and "Traceback" not in err, err
    assert f"manifest.json was edited after export: field {field!r} was changed" in err, err
    assert not (tmp_path / "p.csv").exists()
    with pytest.raises(UserError, match=f"field '{field}' was changed"):
        load_predictor(copy_export)


def test_a_field_removed_or_added_is_refused(copy_export):
    from trainwell.errors import UserError
    from trainwell.serve.predict import load_predictor

    _edit_manifest(copy_export, lambda m: (m.pop("classes"), m.update(note="mine")))
    with pytest.raises(UserError, match=r"field 'classes' was removed; field 'note' was added"):
        load_predictor(copy_export)


def test_an_export_written_before_field_hashes_still_loads(cli, mlp_export, copy_export, serve_data, tmp_path):
    """An older manifest has no fields_sha256: it loads and predicts as before; its fields are still
    checked against the hashed preprocess.json and the graph, so an edited features, loss or n_out is
    refused there too (an edited loss used to end in an IndexError traceback)."""
    inp = serve_data / "blobs_new.csv"
    _edit_manifest(copy_export, lambda m: m.pop("fields_sha256"))
    assert cli("predict", copy_export, inp, "-o", tmp_path / "old.csv")[0] == 0
    assert cli("predict", mlp_export, inp, "-o", tmp_path / "new.csv")[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "old.csv"), pd.read_csv(tmp_path / "new.csv"))
    original = (copy_export / "manifest.json").read_text()
    for change, says in [(lambda m: m["features"]["columns"].reverse(), "field 'features' says"),
                         (lambda m: m.update(loss="bce"), "fields 'loss' ('bce') and 'n_out' (3)"),
                         (lambda m: m.update(n_out=2), "field 'n_out' says 2 but the model's output has 3")]:
        (copy_export / "manifest.json").write_text(original)
        _edit_manifest(copy_export, change)
        code, _, err = cli("predict", copy_export, inp, "-o", tmp_path / "p.csv")
        assert code == 2 and says in err and "Traceback" not in err, err


def test_a_true_false_column_with_an_empty_cell_in_new_rows(cli, write_yaml, tmp_path):
    """A column of True/False trains as numbers (pandas gives it a bool dtype); new rows of the same
    column with one empty cell are read as objects (True, False, NaN), and predict refused the
    True/False values as 'cannot be read as a finite number', from the run and from its export."""
    rng = np.random.default_rng(0)
    n = 200
    flag = rng.random(n) < 0.5
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "flag": flag, "label": np.where(flag, "on", "off")})
    frame.to_csv(tmp_path / "train.csv", index=False)
    cfg = {"data": {"source": str(tmp_path / "train.csv"), "target": "label"}, "model": {"hidden": [8]},
           "optimizer": {"lr": 0.05}, "training": {"epochs": 20}, "logging": {"report": False}}
    run = tmp_path / "run"
    assert cli("train", write_yaml(cfg), "--out", run, "-q")[0] == 0
    assert json.loads((run / "preprocess.json").read_text())["spec"]["column_types"]["flag"] == "numeric"
    code, _, err = cli("export", run)
    assert code == 0, err
    full = frame.drop(columns="label").head(6)
    full.to_csv(tmp_path / "full.csv", index=False)
    gap = full.astype(object)
    gap.loc[5, "flag"] = None
    gap.to_csv(tmp_path / "gap.csv", index=False)
    assert pd.read_csv(tmp_path / "gap.csv")["flag"].dtype == object
    for source in (run, run / "export-onnx"):
        code, _, err = cli("predict", source, tmp_path / "full.csv", "-o", tmp_path / "full_p.csv")
        assert code == 0, err
        code, _, err = cli("predict", source, tmp_path / "gap.csv", "-o", tmp_path / "gap_p.csv")
        assert code == 0, err
        want, got = pd.read_csv(tmp_path / "full_p.csv"), pd.read_csv(tmp_path / "gap_p.csv")
        assert len(got) == 6
        assert (got["prediction"].head(5) == want["prediction"].head(5)).all()
        assert np.allclose(got["proba_on"].head(5), want["proba_on"].head(5), atol=1e-6)
