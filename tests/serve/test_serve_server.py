"""The REST server: endpoints through FastAPI's TestClient, every bad input a 4xx naming the field,
then a real uvicorn process on 127.0.0.1 under ~2,000 requests with malformed ones mixed in."""

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

# starlette's TestClient notes a future dependency change (httpx2); nothing to do with this code
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _client(path, **limits):
    from fastapi.testclient import TestClient

    from trainwell.serve.predict import load_predictor
    from trainwell.serve.server import create_app

    return TestClient(create_app(load_predictor(path), token=TOKEN, **limits))


@pytest.fixture(scope="module")
def client(mlp_export):
    return _client(mlp_export, max_rows=300, max_body_bytes=64_000)


@pytest.fixture(scope="module")
def new_rows(serve_data):
    return pd.read_csv(serve_data / "blobs_new.csv")


def _records(frame, n=None):
    return json.loads(frame.head(n).to_json(orient="records"))


def test_health_needs_no_token(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["engine"] == "onnxruntime"


def test_metadata(client):
    assert client.get("/metadata").status_code == 401
    meta = client.get("/metadata", headers=AUTH).json()
    assert [f["name"] for f in meta["features"]] == ["a", "b", "color"]
    assert [f["type"] for f in meta["features"]] == ["numeric", "numeric", "categorical"]
    assert meta["features"][2]["categories"] == ["blue", "red"]
    assert meta["classes"] == ["cat", "dog", "eel"] and meta["task"] == "multiclass"
    assert "accuracy" in meta["metrics"]["test"]
    assert meta["limits"] == {"max_rows": 300, "max_body_bytes": 64_000}
    assert meta["extra_columns"] == "ignored"


def test_openapi_is_served_with_bearer_security(client):
    spec = client.get("/openapi.json").json()
    assert {"/health", "/metadata", "/predict"} <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_predict_records_and_columns_match_the_predictor(client, mlp_export, new_rows):
    from trainwell.serve.predict import load_predictor

    expected = load_predictor(mlp_export).predict(new_rows)
    r = client.post("/predict", json={"records": _records(new_rows)}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predictions"] == expected["prediction"].tolist()
    assert body["classes"] == ["cat", "dog", "eel"]
    probs = np.array([[p[c] for c in body["classes"]] for p in body["probabilities"]])
    np.testing.assert_allclose(probs, expected.filter(like="proba_").to_numpy(), atol=1e-6)
    assert body["ignored_columns"] == ["extra"]  # extra columns: ignored, and said so
    cols = {c: new_rows[c].tolist() for c in ["a", "b", "color"]}
    r = client.post("/predict", json={"columns": cols}, headers=AUTH)
    assert r.status_code == 200 and r.json()["predictions"] == body["predictions"]
    assert r.json()["ignored_columns"] == []


def test_the_run_directory_serves_the_same_answers(mlp_run, client, new_rows):
    eager = _client(mlp_run)
    assert eager.get("/health").json()["engine"] == "pytorch"
    a = eager.post("/predict", json={"records": _records(new_rows)}, headers=AUTH).json()
    b = client.post("/predict", json={"records": _records(new_rows)}, headers=AUTH).json()
    assert a["predictions"] == b["predictions"]
    np.testing.assert_allclose([list(p.values()) for p in a["probabilities"]],
                               [list(p.values()) for p in b["probabilities"]], atol=1e-5)


def _detail(r):
    assert r.status_code == 422, r.text
    return r.json()["detail"]


def test_missing_column_is_422_naming_it(client, new_rows):
    records = _records(new_rows, 3)
    del records[1]["b"]
    [err] = _detail(client.post("/predict", json={"records": records}, headers=AUTH))
    assert err["loc"] == ["body", "records", 1, "b"] and "missing column 'b'" in err["msg"]
    [err] = _detail(client.post("/predict", json={"columns": {"a": [1.0], "color": ["red"]}}, headers=AUTH))
    assert err["loc"] == ["body", "columns", "b"]


def test_wrong_types_are_422_naming_the_field(client, new_rows):
    records = _records(new_rows, 3)
    records[0]["a"] = "12x"
    records[2]["b"] = True
    records[1]["color"] = ["red"]
    errs = _detail(client.post("/predict", json={"records": records}, headers=AUTH))
    assert {tuple(e["loc"]) for e in errs} == {("body", "records", 0, "a"), ("body", "records", 2, "b"),
                                               ("body", "records", 1, "color")}
    assert any("must be a number, got str '12x'" in e["msg"] for e in errs)
    [err] = _detail(client.post("/predict", json={"records": [1, 2]}, headers=AUTH))[:1]
    assert err["loc"][:3] == ["body", "records", 0]
    errs = _detail(client.post("/predict", json={"columns": {"a": [1.0, 2.0], "b": [1.0], "color": ["red", "red"]}},
                               headers=AUTH))
    assert errs[0]["loc"] == ["body", "columns", "b"] and "same length" in errs[0]["msg"]


def test_a_boolean_for_a_category_is_422_unless_training_saw_booleans(client, new_rows, tmp_path):
    """true/false is not one of 'color''s categories: refused naming the field (by records and by
    columns), where it used to be taken silently as an unseen category. A column of booleans read
    as categories (data.categorical; by default they are numbers 0/1) takes them."""
    import trainwell

    records = _records(new_rows, 2)
    records[1]["color"] = True
    [err] = _detail(client.post("/predict", json={"records": records}, headers=AUTH))
    assert err["loc"] == ["body", "records", 1, "color"] and "boolean true" in err["msg"]
    columns = {"a": [1.0], "b": [1.0], "color": [False]}
    [err] = _detail(client.post("/predict", json={"columns": columns}, headers=AUTH))
    assert err["loc"] == ["body", "columns", "color", 0] and "boolean false" in err["msg"]
    frame = new_rows.head(40).drop(columns=["extra"]).assign(flag=[i % 3 == 0 for i in range(40)],
                                                             label=["x", "y"] * 20)
    frame.to_csv(tmp_path / "flags.csv", index=False)
    run = trainwell.train({"name": "flags", "seed": 0, "doctor": {"enabled": False}, "training": {"epochs": 1},
                           "data": {"source": str(tmp_path / "flags.csv"), "target": "label",
                                    "categorical": ["flag"]}},
                          out=tmp_path / "run", quiet=True)
    flags = _client(run.path)
    assert flags.post("/predict", json={"records": [{"a": 1.0, "b": 1.0, "color": "red", "flag": True}]},
                      headers=AUTH).status_code == 200


def test_empty_and_malformed_payloads(client):
    assert _detail(client.post("/predict", json={}, headers=AUTH))[0]["msg"].startswith("send exactly one of")
    assert "empty" in _detail(client.post("/predict", json={"records": []}, headers=AUTH))[0]["msg"]
    assert _detail(client.post("/predict", json={"records": [{}], "rows": 1}, headers=AUTH))[0]["loc"] == ["body", "rows"]
    assert _detail(client.post("/predict", content=b"{not json", headers={**AUTH, "content-type": "application/json"}))
    assert _detail(client.post("/predict", content=b"", headers={**AUTH, "content-type": "application/json"}))
    assert _detail(client.post("/predict", json={"inputs": [[1, 2]]}, headers=AUTH))[0]["loc"] == ["body", "inputs"]


def test_nan_and_infinity(client, family_exports, new_rows):
    """The MLP imputes a missing number (median from training); the no-impute model cannot take
    one, and says which field; infinity is refused by both."""
    nan_body = b'{"records": [{"a": NaN, "b": 1.0, "color": "red"}]}'
    headers = {**AUTH, "content-type": "application/json"}
    assert client.post("/predict", content=nan_body, headers=headers).status_code == 200
    assert client.post("/predict", json={"records": [{"a": None, "b": 1.0, "color": None}]},
                       headers=AUTH).status_code == 200
    [err] = _detail(client.post("/predict", content=nan_body.replace(b"NaN", b"Infinity"), headers=headers))
    assert err["loc"] == ["body", "records", 0, "a"] and "finite" in err["msg"]
    strict = _client(family_exports("mlp_noimpute")[0])
    [err] = _detail(strict.post("/predict", content=nan_body, headers=headers))
    assert err["loc"] == ["body", "records", 0, "a"] and "impute" in err["msg"]


def test_limits_are_413(client, new_rows):
    rows = _records(new_rows, 1) * 301
    r = client.post("/predict", json={"records": rows}, headers=AUTH)
    assert r.status_code == 413 and "limit is 300" in r.json()["detail"]
    big = json.dumps({"records": _records(new_rows, 1), "pad": "x" * 70_000}).encode()
    r = client.post("/predict", content=big, headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 413 and "64,000 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit applies while the body arrives
        for _ in range(20):
            yield b" " * 5_000

    r = client.post("/predict", content=chunks(), headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 413


def test_wrong_or_missing_token_is_401(client, new_rows):
    body = {"records": _records(new_rows, 1)}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": TOKEN}):
        r = client.post("/predict", json=body, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_text_model(family_exports):
    c = _client(family_exports("transformer_text")[0])
    r = c.post("/predict", json={"records": [{"review": "the phone is great"}, {"review": "awful case"},
                                             {"review": None}]}, headers=AUTH)
    assert r.status_code == 200 and len(r.json()["predictions"]) == 3
    assert set(r.json()["classes"]) == {"negative", "positive"}
    [err] = _detail(c.post("/predict", json={"records": [{"review": 5}]}, headers=AUTH))
    assert err["loc"] == ["body", "records", 0, "review"] and "string" in err["msg"]


def test_sequence_model_takes_inputs(family_exports, serve_data):
    c = _client(family_exports("gru_sequence")[0])
    x = np.load(serve_data / "seq_new.npz")["x"][:4]
    r = c.post("/predict", json={"inputs": x.tolist()}, headers=AUTH)
    assert r.status_code == 200 and len(r.json()["predictions"]) == 4
    [err] = _detail(c.post("/predict", json={"inputs": x[:, :5].tolist()}, headers=AUTH))
    assert err["loc"] == ["body", "inputs"] and "shape" in err["msg"]
    assert _detail(c.post("/predict", json={"inputs": [[["a"]]]}, headers=AUTH))[0]["loc"] == ["body", "inputs"]
    assert _detail(c.post("/predict", json={"records": [{"x": 1}]}, headers=AUTH))[0]["msg"].startswith("send exactly")


def test_series_model_forecasts_from_records(family_exports, serve_data):
    c = _client(family_exports("lstm_series")[0])
    frame = pd.read_csv(serve_data / "series_new.csv").head(14)
    r = c.post("/predict", json={"records": _records(frame)}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["predictions"]) == 3 and len(body["predictions"][0]) == 3  # 3 windows of 12, 3 steps ahead
    assert body["ids"]["timestamp"][-1] == frame["timestamp"].iloc[-1]
    err = _detail(c.post("/predict", json={"records": _records(frame.head(5))}, headers=AUTH))[0]
    assert "window" in err["msg"]


# ----------------------------------------------------------------------------- a real server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(mlp_export, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    env = {**os.environ, "TRAINWELL_TOKEN": TOKEN, "OMP_NUM_THREADS": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "trainwell", "serve", str(mlp_export), "--port", str(port),
                                 "--max-rows", "300", "--max-body-mb", "0.0625", "--threads", "1"],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.1)
    yield url, proc, log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_real_server_answers(live_server, mlp_export, new_rows):
    import httpx

    from trainwell.serve.predict import load_predictor

    url, proc, log = live_server
    assert "127.0.0.1" in log.read_text()  # loopback unless told otherwise
    expected = load_predictor(mlp_export).predict(new_rows)
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
        assert http.get("/metadata").json()["classes"] == ["cat", "dog", "eel"]
        one = http.post("/predict", json={"records": _records(new_rows, 1)})
        assert one.status_code == 200 and one.json()["predictions"] == expected["prediction"].tolist()[:1]
        rows = pd.concat([new_rows] * 7).head(256)
        many = http.post("/predict", json={"records": _records(rows)})
        assert many.status_code == 200 and len(many.json()["predictions"]) == 256
        assert http.post("/predict", json={"records": []}).status_code == 422
        assert http.post("/predict", json={"records": _records(new_rows, 1)},
                         headers={"Authorization": "Bearer nope"}).status_code == 401
    assert proc.poll() is None


def test_values_too_large_for_the_model_are_422_never_500(live_server, mlp_run, new_rows):
    """A finite number the model cannot compute with (past float32 once scaled, or overflowing the
    network into NaN, which JSON cannot carry) is a 422 naming the record and the field, from the
    export in a real server and from the run directory (PyTorch) alike."""
    import httpx

    url, proc, _ = live_server
    records = _records(new_rows, 2)
    local = _client(mlp_run)
    for a, b in [(-5e38, -5e38), (1e39, 1.0)]:
        records[1].update(a=a, b=b, color="red")
        with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
            remote = http.post("/predict", json={"records": records})
        for r in (remote, local.post("/predict", json={"records": records}, headers=AUTH)):
            errs = _detail(r)
            assert ["body", "records", 1, "a"] in [e["loc"] for e in errs], errs
            assert all("impute" not in e["msg"] for e in errs)
    columns = {"a": [1e39], "b": [1.0], "color": ["red"]}
    assert _detail(local.post("/predict", json={"columns": columns}, headers=AUTH))[0]["loc"] == ["body", "columns",
                                                                                                  "a", 0]
    assert proc.poll() is None


def _malformed(i: int, good: dict) -> tuple[str, dict, tuple]:
    """(method, httpx kwargs, acceptable statuses) for request i; a third of them are bad."""
    kind = i % 33  # kinds 0-10 are bad: a third
    j = {"content-type": "application/json"}
    if kind == 0:
        return "post", {"content": b"{bad json"}, (422,)
    if kind == 1:
        return "post", {"json": {"records": [{**good["records"][0], "a": "text"}]}}, (422,)
    if kind == 2:
        return "post", {"json": {"records": [{"a": 1.0}]}}, (422,)
    if kind == 3:
        return "post", {"json": good, "headers": {"Authorization": "Bearer wrong"}}, (401,)
    if kind == 4:
        return "post", {"content": b"", "headers": j}, (422,)
    if kind == 5:
        return "post", {"json": {"records": good["records"][:1] * 301}}, (413,)
    if kind == 6:
        return "post", {"content": b'{"records": [' + b"1," * 40_000 + b"1]}", "headers": j}, (413,)
    if kind == 7:
        return "post", {"content": bytes(range(256)) * 4, "headers": j}, (422,)
    if kind == 8:
        return "post", {"json": {"records": [[1, 2, 3]]}}, (422,)
    if kind == 9:
        return "get", {}, (405,)
    if kind == 10:
        return "post", {"content": b'{"records": [{"a": NaN, "b": Infinity, "color": "red"}]}', "headers": j}, (422,)
    return "post", {"json": good}, (200,)


def test_real_server_under_load_with_malformed_requests(live_server, new_rows):
    """About 2,000 requests from 4 threads, a third of them malformed: no 5xx, every answer the
    expected 2xx/4xx, and the server still healthy afterwards."""
    import httpx

    url, proc, _ = live_server
    good_one = {"records": _records(new_rows, 1)}
    good_many = {"records": _records(new_rows)}

    def worker(start: int) -> list:
        seen = []
        with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
            for i in range(start, 2000, 4):
                method, kwargs, ok = _malformed(i, good_many if i % 30 == 29 else good_one)
                r = http.request(method.upper(), "/predict", **kwargs)
                seen.append((i, r.status_code, ok))
        return seen

    with ThreadPoolExecutor(4) as pool:
        results = [s for part in pool.map(worker, range(4)) for s in part]
    assert len(results) == 2000
    server_errors = [(i, code) for i, code, _ in results if code >= 500]
    assert server_errors == []
    unexpected = [(i, code, ok) for i, code, ok in results if code not in ok]
    assert unexpected == []
    assert sum(code == 200 for _, code, _ in results) > 1300
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    assert proc.poll() is None


def test_serve_refuses_what_it_cannot_load(cli, copy_export, tmp_path):
    """Every check happens before the port is bound: a bad path or a tampered export is exit 2."""
    code, _, err = cli("serve", tmp_path / "nope")
    assert code == 2 and "does not exist" in err
    (copy_export / "model.onnx").write_bytes(b"\x00" * 10)
    code, _, err = cli("serve", copy_export)
    assert code == 2 and "model.onnx was changed after export" in err


def test_serve_limits_are_checked_in_the_flags_own_units(cli, tmp_path):
    # -1 read "got 10000 and -1048576 bytes", and nan or inf was a traceback from int().
    for value in ("-1", "0", "1e-9", "nan", "inf"):
        code, _, err = cli("serve", tmp_path / "nope", "--max-body-mb", value)
        assert code == 2 and "Traceback" not in err, (value, err)
        assert err.startswith("error: --max-body-mb must be a size in megabytes above 0, such as 10 or 0.5") and \
            err.rstrip().endswith(f"got {float(value):g}"), err
    code, _, err = cli("serve", tmp_path / "nope", "--max-rows", "0")
    assert code == 2 and "error: --max-rows must be 1 or more, got 0" in err


def test_a_model_trained_on_resized_image_arrays_takes_arrays_of_their_original_size(tmp_path):
    import trainwell
    from sklearn.datasets import load_digits

    run = trainwell.train({"data": {"source": "builtin:digits", "image": {"size": [12, 12]}}, "seed": 0,
                           "model": {"type": "cnn", "blocks": [{"channels": 4}], "head": [16]},
                           "training": {"epochs": 1, "threads": 1}, "doctor": {"enabled": False}},
                          out=tmp_path / "r", quiet=True)
    x = load_digits().images[:5, None].astype(np.float32)          # 8x8, as the arrays trained from
    c = _client(run.path)
    r = c.post("/predict", json={"inputs": x.tolist()}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert [p for p in r.json()["predictions"]] == run.predict(x)["prediction"].tolist()
    [err] = _detail(c.post("/predict", json={"inputs": np.zeros((2, 3, 8, 8)).tolist()}, headers=AUTH))
    assert err["loc"] == ["body", "inputs"] and "shape" in err["msg"]   # channels must still match


def test_sigterm_stops_the_server_with_143(mlp_export, tmp_path):
    """A scheduler's or docker's stop: uvicorn shuts down gracefully, and the exit code says SIGTERM."""
    import signal

    import httpx

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "serve", str(mlp_export), "--port", str(port),
                             "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err.decode()[-2000:]
    assert b"Traceback" not in err
