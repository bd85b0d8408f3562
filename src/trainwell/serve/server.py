"""The REST server: FastAPI over a Predictor (a run directory, or an ONNX export without torch).

    GET  /health     liveness; never needs the token
    GET  /metadata   features and their types, classes, task, metrics at training time, limits
    POST /predict    {"records": [{column: value, ...}, ...]} or {"columns": {column: [values]}}
                     (tables, text, series); {"inputs": nested array (rows, *input_shape)} (images,
                     sequences) -> predictions, and probabilities for classification
    GET  /docs, /openapi.json

Bad input is always a 4xx, never a 5xx: a payload that does not fit the model is a 422 whose
`loc` names the field (["body", "records", 3, "age"]); more rows than `max_rows` or a body over
`max_body_bytes` is a 413 (the body is never read past the limit); a missing or wrong bearer
token is a 401. Extra columns are ignored and listed in the answer's `ignored_columns`, the same
rule as predicting from a file.
"""

from __future__ import annotations

import hmac
import json
import math
import sys
from typing import Any, Dict, List, Optional

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ..errors import BadCells, UserError

MAX_ROWS = 10_000
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ERRORS = 20  # a 422 lists at most this many problems; one bad column in 10,000 rows is one line each
TABLE_KINDS = ("tabular", "text", "timeseries")


# ----------------------------------------------------------------------------- payload -> model inputs
class PayloadError(Exception):
    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(errors)


def _err(loc: list, msg: str, kind: str = "value_error") -> dict:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


class Columns:
    """What each input column accepts, from the run's preprocessing state."""

    def __init__(self, state: dict):
        spec = state["spec"]
        self.kind = state.get("kind", "tabular")
        self.names: list[str] = list(spec.get("input_columns") or [])
        types = spec.get("column_types") or {}
        by_column = {st["column"]: st for st in state.get("features", [])}
        self.types, self.missing_ok = {}, {}
        for col in self.names:
            t = types.get(col, "any")  # a series' time column has no type: it only names the rows
            self.types[col] = t
            st = by_column.get(col)
            # Tables: a number may be missing only if training fitted an imputation for it.
            # Series gaps are interpolated or dropped; text may be empty; a category may be missing.
            self.missing_ok[col] = st.get("impute") is not None if st and st["kind"] == "numeric" else True
        # A JSON true/false reads as the text "True"/"False": a category only where training saw
        # booleans; elsewhere it would silently be an unseen category, so it is refused by name.
        as_text = set(_bool_categories(state))
        self.no_bools = {col for col, st in by_column.items()
                         if st["kind"] != "numeric" and "categories" in st and not as_text & set(st["categories"])}

    def check(self, col: str, value, loc: list, errors: list) -> Any:
        """The value as the preprocessing reads it, or an error appended to `errors`."""
        t = self.types[col]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if not self.missing_ok[col]:
                errors.append(_err(loc, f"missing value for {col!r}; this model was trained without imputing "
                                        "this column (data.clean.impute: none) and cannot take null/NaN",
                                   "missing_not_allowed"))
            return None
        if t == "numeric":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(_err(loc, f"{col!r} must be a number, got {type(value).__name__} {_short(value)}",
                                   "number_type"))
                return None
            try:
                value = float(value)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value):
                errors.append(_err(loc, f"{col!r} must be a finite number, got {value}", "finite_number"))
                return None
            return value
        if t == "text":
            if not isinstance(value, str):
                errors.append(_err(loc, f"{col!r} must be a string (the text), got {type(value).__name__}",
                                   "string_type"))
                return None
            return value
        if isinstance(value, (dict, list)):
            errors.append(_err(loc, f"{col!r} must be a single value (string or number), got a "
                                    f"{type(value).__name__}", "scalar_type"))
            return None
        if isinstance(value, bool) and col in self.no_bools:
            errors.append(_err(loc, f"{col!r} must be a string or a number (one of its categories), got the "
                                    f"boolean {str(value).lower()}", "scalar_type"))
            return None
        return value

    def column(self, col: str, values: list, loc, errors: list) -> Any:
        """A whole column at once: checked by its set of value types (C speed), and only when
        something is off value by value, for the messages. loc(i) is the i-th value's location."""
        kinds = set(map(type, values))
        t = self.types[col]
        if t == "numeric" and kinds <= _NUMBER_TYPES:
            try:
                arr = np.array(values, dtype=np.float64)  # None -> NaN
            except OverflowError:
                arr = None
            if arr is not None:
                finite = np.isfinite(arr)
                if finite.all():
                    return arr
                nan = np.isnan(arr)
                if not (~finite & ~nan).any() and self.missing_ok[col]:
                    return arr
        elif (t == "text" and kinds <= _TEXT_TYPES) or (t not in ("numeric", "text") and not kinds & _NESTED
                                                         and not (bool in kinds and col in self.no_bools)):
            return values
        return [self.check(col, v, loc(i), errors) for i, v in enumerate(values)]

    def frame(self, values: dict[str, list]):
        import pandas as pd

        data = {}
        for col in self.names:
            v = values[col]
            if isinstance(v, np.ndarray):
                data[col] = v
            elif self.types[col] == "numeric":
                data[col] = np.array([np.nan if x is None else x for x in v], dtype=np.float64)
            else:
                data[col] = pd.Series(v, dtype=object)
        return pd.DataFrame(data)


def _bool_categories(state: dict) -> list[str]:
    """What true and false become as categories, by the run's own category preprocessing."""
    import pandas as pd

    from ..data.transforms import _categorical_text

    values = pd.Series([True, False], dtype=object)
    return _categorical_text(values, state.get("normalize_categories", True)).tolist()


_NUMBER_TYPES = {int, float, type(None)}
_TEXT_TYPES = {str, type(None)}
_NESTED = {dict, list}
_MISSING = object()


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def table_from_records(columns: Columns, records: list[dict]) -> tuple[Any, list[str]]:
    errors: list[dict] = []
    values = {}
    for col in columns.names:
        vals = [rec.get(col, _MISSING) for rec in records]
        if vals.count(_MISSING):
            for i in (i for i, v in enumerate(vals) if v is _MISSING):
                errors.append(_err(["records", i, col], f"missing column {col!r}; every record needs "
                                                        f"{columns.names}", "missing"))
                if len(errors) >= MAX_ERRORS:
                    raise PayloadError(errors)
            continue
        values[col] = columns.column(col, vals, lambda i, col=col: ["records", i, col], errors)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise PayloadError(errors[:MAX_ERRORS])
    known = set(columns.names)
    extra = sorted(set().union(*map(dict.keys, records)) - known)
    return columns.frame(values), extra


def table_from_columns(columns: Columns, data: dict[str, list]) -> tuple[Any, list[str]]:
    errors: list[dict] = []
    missing = [c for c in columns.names if c not in data]
    for col in missing:
        errors.append(_err(["columns", col], f"missing column {col!r}; the model needs {columns.names}", "missing"))
    if errors:
        raise PayloadError(errors)
    lengths = {col: len(data[col]) for col in columns.names}
    n = lengths[columns.names[0]] if columns.names else 0
    for col, length in lengths.items():
        if length != n:
            errors.append(_err(["columns", col], f"column {col!r} has {length} values but "
                                                 f"{columns.names[0]!r} has {n}; all columns need the same length"))
    if errors:
        raise PayloadError(errors)
    values = {}
    for col in columns.names:
        values[col] = columns.column(col, data[col], lambda i, col=col: ["columns", col, i], errors)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise PayloadError(errors[:MAX_ERRORS])
    return columns.frame(values), [c for c in data if c not in columns.names]


def array_from_inputs(state: dict, inputs: list) -> np.ndarray:
    shape = list(state["spec"].get("input_shape") or [])
    if state.get("kind") == "sequence":
        from ..data.series import sequence_file_shape

        shape = sequence_file_shape(state)  # the layout the user's files have (data.sequence.layout)
    try:
        x = np.asarray(inputs, dtype=np.float32)
    except (ValueError, TypeError):
        raise PayloadError([_err(["inputs"], f"must be a rectangular array of numbers of shape "
                                             f"(rows, {', '.join(map(str, shape))})")]) from None
    ok = list(x.shape[1:]) == shape or (len(shape) == 3 and shape[0] == 1 and list(x.shape[1:]) == shape[1:])
    if not ok and (state.get("image") or {}).get("resize_arrays") and x.ndim in (3, 4):
        # trained on arrays resized to data.image.size: any size with the channels is resized alike
        ok = x.ndim == 4 and x.shape[1] == shape[0] or x.ndim == 3 and shape[0] == 1
    if x.ndim < 2 or not ok:
        raise PayloadError([_err(["inputs"], f"shape {list(x.shape)}, but the model takes (rows, "
                                             f"{', '.join(map(str, shape))})", "shape")])
    return x


def _cell_errors(payload: str, exc: BadCells) -> list[dict]:
    """The preprocessing's findings located in the request as the server's own checks locate theirs."""
    def loc(row: int, field) -> list:
        if payload == "columns" and field is not None:
            return ["columns", field, row]
        return [payload, row] + ([field] if field is not None and payload == "records" else [])

    errors = [_err(loc(row, field), problem) for row, field, problem in exc.cells[:MAX_ERRORS]]
    return errors or [_err([payload], str(exc))]


def _rows(req) -> int:
    if req.records is not None:
        return len(req.records)
    if req.columns is not None:
        return max((len(v) for v in req.columns.values()), default=0)
    return len(req.inputs or [])


def _jsonable(values: np.ndarray) -> list:
    """Plain Python values; a non-finite float becomes null (JSON has no NaN)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if not bad.any():
            return arr.tolist()
        out = arr.astype(object)
        out[bad] = None
        return out.tolist()
    return [v.item() if hasattr(v, "item") else v for v in arr.tolist()] if arr.dtype == object else arr.tolist()


# ----------------------------------------------------------------------------- body size limit
class BodyLimit:
    """ASGI middleware: answers 413 as soon as a request body passes max_bytes, by its
    Content-Length or, for a chunked body, while it arrives; the app gets the buffered body.

    Recent FastAPI releases have FastAPI(max_body_size=...) for this; the package supports
    fastapi>=0.110, which has no such option, so the limit is this small middleware."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return await _plain(send, 400, "Content-Length is not a number")
            if declared > self.max_bytes:
                return await self._too_large(send, declared)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._too_large(send, None)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send, declared):
        got = f"{declared:,} bytes" if declared is not None else "more than that"
        return await _plain(send, 413, f"request body too large: the limit is {self.max_bytes:,} bytes, got {got}. "
                                       "Send fewer rows per request")


async def _plain(send, status: int, detail: str):
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# ----------------------------------------------------------------------------- the app
class PredictRequest(BaseModel):
    """One of `records` (a list of rows), `columns` (one list per column) or `inputs` (an array,
    for image and sequence models). Extra columns are ignored and listed in the answer."""

    model_config = ConfigDict(extra="forbid")
    records: Optional[List[Dict[str, Any]]] = Field(None, description="rows as objects: column -> value")
    columns: Optional[Dict[str, List[Any]]] = Field(None, description="column -> list of values")
    inputs: Optional[List[Any]] = Field(None, description="image/sequence models: (rows, *input_shape)")

class PredictResponse(BaseModel):
    predictions: List[Any] = Field(description="class labels, or values in the target's units")
    probabilities: Optional[List[Dict[str, float]]] = Field(None, description="classification: class -> p")
    classes: Optional[List[Any]] = None
    ids: Optional[Dict[str, List[Any]]] = Field(None, description="what names each prediction, if anything "
                                                                  "(a series' last observed time)")
    ignored_columns: List[str] = Field(default_factory=list, description="extra columns, not used")


def create_app(predictor, *, token: str | None = None, max_rows: int = MAX_ROWS,
               max_body_bytes: int = MAX_BODY_BYTES):
    if max_rows < 1 or max_body_bytes < 1:
        raise UserError(f"--max-rows and --max-body-mb must be positive, got {max_rows} and {max_body_bytes} bytes")
    meta = predictor.metadata()
    columns = Columns(predictor.state)
    kind = columns.kind
    classes = meta.get("classes")
    names = columns.names[:3] or ["feature"]
    example = ({"records": [{n: 0.0 if columns.types.get(n) == "numeric" else "value" for n in names}]}
               if kind in TABLE_KINDS else {"inputs": [[0.0]]})

    bearer = HTTPBearer(auto_error=False, description="needed when the server was started with --token")

    async def authorise(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> None:
        # async: a comparison is not worth a hop to the thread pool
        if token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token (send Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})

    app = FastAPI(title=f"trainwell: {meta.get('target') or 'model'} ({meta['task']})",
                  description=f"Predictions from a trainwell {meta['source']} ({meta['engine']}).",
                  version=str((meta.get("versions") or {}).get("trainwell", "")))
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "task": meta["task"], "engine": meta["engine"]}

    @app.get("/metadata", dependencies=[Depends(authorise)])
    def metadata() -> dict:
        return {**meta, "limits": {"max_rows": max_rows, "max_body_bytes": max_body_bytes},
                "payload": "records or columns" if kind in TABLE_KINDS else "inputs"}

    # The body is parsed and validated by pydantic's Rust JSON parser in one step (3.5 ms for 256 rows
    # of 64 numbers, against 12 ms for json.loads + validate, which FastAPI's declared-body path does);
    # the schema is still declared, so /openapi.json and /docs show it.
    request_schema = {"required": True, "content": {"application/json": {
        "schema": PredictRequest.model_json_schema(), "example": example}}}

    @app.post("/predict", dependencies=[Depends(authorise)], response_model=None,
              openapi_extra={"requestBody": request_schema},
              responses={200: {"model": PredictResponse}, 401: {"description": "missing or wrong bearer token"},
                         413: {"description": "too many rows, or the body is too large"},
                         422: {"description": "the payload does not fit the model; `loc` names the field"}})
    async def predict(request: Request):
        try:
            req = PredictRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            raise HTTPException(422, [{**e, "loc": ["body", *e["loc"]]} for e in errors]) from None
        return await run_in_threadpool(answer, req)

    def answer(req: PredictRequest) -> JSONResponse:
        given = [k for k in ("records", "columns", "inputs") if getattr(req, k) is not None]
        wanted = ("records", "columns") if kind in TABLE_KINDS else ("inputs",)
        if len(given) != 1 or given[0] not in wanted:
            what = " or ".join(wanted)
            raise HTTPException(422, [_err([given[0]] if given else [], f"send exactly one of {what} for this "
                                                                          f"{kind} model; got {given or 'none'}")])
        n = _rows(req)
        if n == 0:
            raise HTTPException(422, [_err([given[0]], "empty: send at least one row")])
        if n > max_rows:
            raise HTTPException(413, f"{n:,} rows in one request; the limit is {max_rows:,}. Split the request")
        try:
            if req.records is not None:
                inputs, ignored = table_from_records(columns, req.records)
            elif req.columns is not None:
                inputs, ignored = table_from_columns(columns, req.columns)
            else:
                inputs, ignored = array_from_inputs(predictor.state, req.inputs), []
            ids, values, proba = predictor.predict_arrays(inputs)
        except PayloadError as exc:
            raise HTTPException(422, exc.errors) from None
        except BadCells as exc:
            raise HTTPException(422, _cell_errors(given[0], exc)) from None
        except UserError as exc:  # what the preprocessing itself refuses (a series shorter than a window...)
            raise HTTPException(422, [_err([given[0]], str(exc))]) from None
        body: dict = {"predictions": _jsonable(values), "ignored_columns": ignored}
        if proba is not None:
            keys = [str(c) for c in classes]
            body["probabilities"] = [dict(zip(keys, row)) for row in proba.astype(np.float64).tolist()]
            body["classes"] = classes
        if len(ids.columns):
            body["ids"] = {c: _jsonable(ids[c].astype(str).to_numpy() if ids[c].dtype.kind == "M"
                                        else ids[c].to_numpy()) for c in ids.columns}
        return JSONResponse(body)

    return app


def serve(path, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          max_rows: int = MAX_ROWS, max_body_bytes: int = MAX_BODY_BYTES, threads: int | None = None,
          log_level: str = "info") -> None:
    import uvicorn

    from .predict import load_predictor

    _check_address(host, port)
    if threads is not None and threads < 1:
        raise UserError(f"--threads must be 1 or more, got {threads}")
    if max_rows < 1 or max_body_bytes < 1:
        raise UserError(f"--max-rows and --max-body-mb must be positive, got {max_rows} and {max_body_bytes} bytes")
    predictor = load_predictor(path, threads)
    app = create_app(predictor, token=token, max_rows=max_rows, max_body_bytes=max_body_bytes)
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        print(f"warning: serving on {host} without --token: anyone who can reach this port can use the model",
              file=sys.stderr)
    print(f"serving {path} ({predictor.engine}) on http://{host}:{port} ; API docs at /docs, "
          f"token {'required' if token else 'not required'}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)


def _check_address(host: str, port: int) -> None:
    """Bind once before loading anything, so a bad --host or a taken --port is one clear error
    (exit 2) instead of uvicorn's log line and exit 3 after the model has loaded."""
    import socket

    if not 0 <= port <= 65535:
        raise UserError(f"--port must be 0-65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host!r}: cannot resolve it ({exc.strerror}); use an address of this "
                        f"machine such as 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            what = "is already in use" if exc.errno == 98 else f"cannot be bound ({exc.strerror})"
            raise UserError(f"--port {port} on {host} {what}; choose another --port, or stop what holds it") \
                from None
