"""The export directory's manifest: what the model takes and gives, and a sha256 of every file.

An export directory holds the network (model.onnx or model.pt), the fitted preprocessing
(preprocess.json) and manifest.json. Loading verifies every listed file against its hash before
anything is read, so a file changed or swapped after export is refused with its name.

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


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_export_dir(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def write_manifest(folder: Path, manifest: dict) -> dict:
    """Hash every file already in `folder` into manifest['files'] and write manifest.json."""
    files = {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = {**manifest, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


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
