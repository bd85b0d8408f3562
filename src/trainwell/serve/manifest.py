"""The export directory's manifest: what the model takes and gives, and a sha256 of every file.

An export directory holds the network (model.onnx or model.pt), the fitted preprocessing
(preprocess.json) and manifest.json. Loading verifies every listed file against its hash before
anything is read, so a file changed or swapped after export is refused with its name.

The manifest's own fields are covered too: `fields_sha256` holds a sha256 of every other
top-level field (task, loss, n_out, input, features, classes... everything but `files`, which
covers itself file by file), each over its canonical JSON. Several of them steer prediction (the
loss picks softmax or sigmoid, n_out and input the tensor fed to the graph), and `features` and
`classes` are what a client reads to call the model, so a field edited, removed or added after
export is refused with its name. An export written before field hashes existed has no
`fields_sha256`; it still loads, its files verified and its description of the model checked
against the hashed preprocess.json and the graph (check_against_state, which every export goes
through); re-export it to have every field covered.

The hashes detect corruption and files changed one at a time; someone who can rewrite the
manifest too can make it agree with anything. That is why nothing in an export is loaded in a
way that could run code (ONNX is a protobuf graph, the state is JSON): a hash cannot make a
hostile file safe, only the format can.

No torch here: predicting from an export must not need the training stack.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import UserError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
FORMATS = {"onnx": "model.onnx", "torchscript": "model.pt"}
TASKS = ("binary", "multiclass", "regression")
FIELDS = "fields_sha256"
UNCOVERED = ("files", FIELDS)  # `files` covers itself, file by file


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_export_dir(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def _json_sha256(value) -> str:
    """sha256 of a JSON value in canonical form (sorted keys, no spaces): the same for the value
    written and the value read back, whatever the file's indentation."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def field_digests(manifest: dict) -> dict:
    """{field: sha256} for every top-level field the field hashes cover."""
    return {k: _json_sha256(v) for k, v in manifest.items() if k not in UNCOVERED}


def write_manifest(folder: Path, manifest: dict) -> dict:
    """Hash every file already in `folder` into manifest['files'], every other field into
    manifest['fields_sha256'], and write manifest.json."""
    files = {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = json.loads(json.dumps(manifest))  # hash exactly what a reader will get back (lists, str keys)
    manifest = {**manifest, "files": files, FIELDS: field_digests(manifest)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _check_fields(folder: Path, manifest: dict) -> None:
    """Refuse a manifest whose fields differ from those hashed at export, naming them."""
    recorded = manifest.get(FIELDS)
    if recorded is None:
        return  # written before field hashes existed: only its files are verified
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise _fail(folder, f"{MANIFEST} field {FIELDS!r} is not a table of field -> sha256")
    actual = field_digests(manifest)
    changed = [k for k in recorded if k in actual and actual[k] != recorded[k]]
    removed = [k for k in recorded if k not in actual]
    added = [k for k in actual if k not in recorded]
    if changed or removed or added:
        parts = []
        for what, keys in (("changed", changed), ("removed", removed), ("added", added)):
            if keys:
                noun = "field" if len(keys) == 1 else "fields"
                parts.append(f"{noun} {', '.join(map(repr, keys))} {'was' if len(keys) == 1 else 'were'} {what}")
        detail = ""
        if len(changed) == 1 and not removed and not added:
            k = changed[0]
            detail = f" (sha256 {actual[k][:12]}..., the manifest records {recorded[k][:12]}...)"
        raise _fail(folder, f"{MANIFEST} was edited after export: {'; '.join(parts)}{detail}; it is refused "
                            "and nothing was loaded")


def check_against_state(folder: Path, manifest: dict, state: dict, n_out_graph=None) -> None:
    """The manifest's description of the model must agree with the (hashed) preprocess.json and
    the graph's output width. For a current export its field hashes already guarantee this; for
    one written before them it is what catches an edited features, task, classes, loss or n_out,
    which would otherwise mislead a client or feed the graph's outputs through the wrong function."""
    spec = state.get("spec") or {}
    expected = {k: spec[k] for k in ("task", "classes", "target", "kind") if k in spec}
    if "input_columns" in spec and "column_types" in spec:
        expected["features"] = {"columns": spec["input_columns"], "types": spec["column_types"]}
    for field, want in expected.items():
        if field in manifest and manifest[field] != want:
            raise _fail(folder, f"{MANIFEST} field {field!r} says {_brief(manifest[field])} but preprocess.json "
                                f"says {_brief(want)}; it was edited after export and is refused")
    n_out, loss, classes = manifest.get("n_out"), manifest.get("loss"), spec.get("classes")
    if isinstance(n_out_graph, int) and n_out != n_out_graph:
        raise _fail(folder, f"{MANIFEST} field 'n_out' says {n_out} but the model's output has {n_out_graph} "
                            "values per row; it was edited after export and is refused")
    if classes and manifest.get("task") != "regression":
        # bce scores one logit through a sigmoid; the other classification losses one logit per class.
        want = 1 if loss == "bce" else len(classes)
        if n_out != want:
            raise _fail(folder, f"{MANIFEST} fields 'loss' ({loss!r}) and 'n_out' ({n_out}) do not fit "
                                f"{len(classes)} classes; one of them was edited after export and is refused")


def _brief(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _fail(folder: Path, what: str) -> UserError:
    return UserError(f"export {str(folder)!r}: {what}; re-export it with: trainwell export RUN --format onnx -o "
                     f"{folder}")


def read_manifest(folder: str | Path) -> dict:
    """The verified manifest of an export directory; a UserError naming the file if anything is off."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise UserError(f"{str(folder)!r} is not a trainwell export: {MANIFEST} is missing "
                        f"(make one with: trainwell export RUN --format onnx -o {folder})")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(folder, f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("trainwell_export") != FORMAT_VERSION:
        raise _fail(folder, f"{MANIFEST} is not a trainwell export manifest of version {FORMAT_VERSION}")
    _check_fields(folder, manifest)
    files = manifest.get("files")
    fmt = manifest.get("format")
    if fmt not in FORMATS:
        raise _fail(folder, f"{MANIFEST} names format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not isinstance(files, dict):
        raise _fail(folder, f"{MANIFEST} has no 'files' table")
    shape_ok = (isinstance(manifest.get("input"), dict) and manifest["input"].get("dtype") in ("float32", "int64")
                and isinstance(manifest["input"].get("name"), str))
    if not shape_ok or manifest.get("task") not in TASKS or not isinstance(manifest.get("n_out"), int) \
            or not isinstance(manifest.get("loss"), str):
        raise _fail(folder, f"{MANIFEST} lacks a valid input (name, dtype float32/int64), task, loss or n_out")
    needed = [FORMATS[fmt], "preprocess.json"]
    unlisted = [n for n in needed if n not in files]
    if unlisted:
        raise _fail(folder, f"{MANIFEST} does not list {unlisted}")
    for name, digest in files.items():
        # Plain names only: a manifest must not point the loader at files outside its folder.
        if not isinstance(name, str) or Path(name).name != name or name in (".", ".."):
            raise _fail(folder, f"{MANIFEST} lists {name!r}, which is not a plain file name")
        p = folder / name
        if not p.is_file():
            raise _fail(folder, f"{name} is missing (the manifest lists it)")
        actual = sha256(p)
        if actual != digest:
            raise _fail(folder, f"{name} was changed after export (sha256 {actual[:12]}..., the manifest "
                                f"records {str(digest)[:12]}...); it is refused and was not loaded")
    return manifest


def read_state(folder: Path) -> dict:
    """preprocess.json of a verified export."""
    try:
        return json.loads((Path(folder) / "preprocess.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(Path(folder), f"preprocess.json is not valid JSON ({exc})") from None
