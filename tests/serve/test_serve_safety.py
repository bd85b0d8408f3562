"""Loading a run or an export never unpickles anything: a planted pickle that would write a file
when unpickled is refused with a clear error, and the file is never written."""

import json
import pickle
import re
import shutil
from pathlib import Path

import pytest

from trainwell.serve.manifest import field_digests, sha256

SRC = Path(__file__).resolve().parents[2] / "src" / "trainwell"


class Payload:
    """Unpickling this object opens (creates) the marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _plant(path: Path, marker: Path, torch_format: bool = False) -> None:
    if torch_format:
        import torch

        torch.save({"weights": Payload(marker)}, str(path))  # a zip with data.pkl, as a .pt file is
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    assert not marker.exists()


def _rehash(folder: Path, **changes) -> None:
    """What an attacker who controls the whole folder does: make the manifest agree."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    manifest["files"] = {p.name: sha256(p) for p in folder.iterdir() if p.name != "manifest.json"}
    manifest["fields_sha256"] = field_digests(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_payload_is_live(tmp_path):
    """Unpickled on purpose, here only: it does write the file, so its absence elsewhere means something."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(marker))).close()
    assert marker.exists()


def test_pickle_in_place_of_run_weights(cli, mlp_run, serve_data, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(mlp_run, run)
    marker = tmp_path / "pwned"
    _plant(run / "model.safetensors", marker)
    for args in (("predict", run, serve_data / "blobs_new.csv", "-o", tmp_path / "p.csv"),
                 ("evaluate", run), ("export", run, "-o", tmp_path / "exp")):
        code, _, err = cli(*args)
        assert code == 2, (args, err)
        assert "model.safetensors" in err and "could not be loaded" in err
    from trainwell.errors import UserError
    from trainwell.serve.predict import load_predictor

    with pytest.raises(UserError):
        load_predictor(run)
    assert not marker.exists()


def test_pickle_in_place_of_the_onnx_model(cli, copy_export, serve_data, tmp_path):
    marker = tmp_path / "pwned"
    _plant(copy_export / "model.onnx", marker)
    args = ("predict", copy_export, serve_data / "blobs_new.csv", "-o", tmp_path / "p.csv")
    code, _, err = cli(*args)
    assert code == 2 and "model.onnx was changed after export" in err
    _rehash(copy_export)  # the hashes now agree: the format itself must refuse it
    code, _, err = cli(*args)
    assert code == 2 and "could not be loaded by onnxruntime" in err
    assert not marker.exists()


def test_pickled_torch_archive_as_a_torchscript_export(cli, copy_export, serve_data, tmp_path):
    marker = tmp_path / "pwned"
    (copy_export / "model.onnx").unlink()
    _plant(copy_export / "model.pt", marker, torch_format=True)
    _rehash(copy_export, format="torchscript", model_file="model.pt")
    code, _, err = cli("predict", copy_export, serve_data / "blobs_new.csv", "-o", tmp_path / "p.csv")
    assert code == 2 and "TorchScript" in err
    from trainwell.errors import UserError
    from trainwell.serve.predict import load_predictor

    with pytest.raises(UserError, match="TorchScript"):
        load_predictor(copy_export)
    assert not marker.exists()


def test_files_outside_the_manifest_are_never_opened(cli, copy_export, serve_data, tmp_path):
    marker = tmp_path / "pwned"
    for name in ("model.pkl", "model.pt", "preprocess.pkl"):
        _plant(copy_export / name, marker)
    code, _, err = cli("predict", copy_export, serve_data / "blobs_new.csv", "-o", tmp_path / "p.csv")
    assert code == 0, err
    assert not marker.exists()


def test_no_unsafe_loader_in_the_code():
    """torch.load / pickle / joblib appear nowhere; torch.jit.load only where export re-reads the
    archive it has just written; every np.load refuses pickles."""
    hits = []
    for path in SRC.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"torch\.load\(|pickle\.load|import pickle|joblib|dill\.|cloudpickle", code):
                hits.append(f"{path.name}:{n}: {line.strip()}")
            if "jit.load(" in code and path.name != "export.py":
                hits.append(f"{path.name}:{n}: {line.strip()}")
            if "np.load(" in code and "allow_pickle=False" not in code:
                hits.append(f"{path.name}:{n}: {line.strip()}")
    assert hits == []
