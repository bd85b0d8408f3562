"""Checkpoints as safetensors + JSON metadata: resumable state that loads without unpickling.

Writes are atomic (temp file, fsync, rename), so a crash mid-write leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes the file private (0600); the run's files are read by whoever reads the run
        # (a server under another user, a teammate), as a file opened the usual way would be
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process's umask, read once without changing it (os.umask sets it, racing other threads)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_text_atomic(path: str | Path, text: str) -> None:
    write_atomic(path, text.encode())


def pack(tensors: dict, meta: dict) -> bytes:
    from safetensors.torch import save

    # safetensors refuses tensors that share storage and 0-d tensors are awkward to restore, so
    # every tensor goes in contiguous and at least 1-d; shared storage (a view of a parameter,
    # a tied weight) gets its own copy. save() serialises at once, so no other copy is needed.
    flat, shapes, seen = {}, {}, set()
    for k, t in tensors.items():
        t = t.detach().to("cpu")
        shapes[k] = list(t.shape)
        flat[k] = _own_storage(t.reshape(-1) if t.dim() == 0 else t.contiguous(), seen)
    meta = dict(meta, _shapes=shapes)
    return save(flat, metadata={"trainwell": json.dumps(meta)})


def save_weights(path: str | Path, state_dict: dict) -> None:
    """model.safetensors: a plain safetensors file of the network's state dict (what load_file and
    other tools read), written atomically. A layer used twice (tied weights, `[layer] * k`) appears
    under each of its names on the same storage, which safetensors' save_file refuses; each name
    gets its own copy here, and load_state_dict puts the same values back into the one layer."""
    from safetensors.torch import save

    seen: set = set()
    write_atomic(path, save({k: _own_storage(t.detach().to("cpu").contiguous(), seen) for k, t in state_dict.items()}))


def _own_storage(t, seen: set):
    """`t`, or a copy of it when an earlier tensor (in `seen`) shares its storage: safetensors refuses
    shared storage."""
    ptr = t.untyped_storage().data_ptr()
    if ptr in seen:
        return t.clone()
    seen.add(ptr)
    return t


def unpack(path: str | Path, tensors: bool = True) -> tuple[dict, dict]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {})["trainwell"])
        loaded = {k: f.get_tensor(k).reshape(meta["_shapes"][k]) for k in f.keys()} if tensors else {}
    return loaded, meta


def save(path: str | Path, tensors: dict, meta: dict) -> None:
    write_atomic(path, pack(tensors, meta))


def flatten_optimizer(opt) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors, plain = {}, {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if hasattr(v, "shape"):
                tensors[f"opt.{idx}.{k}"] = v
            else:
                plain[f"{idx}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "plain": plain}


def restore_optimizer(opt, tensors: dict, meta: dict) -> None:
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith("opt."):
            _, idx, name = key.split(".", 2)
            # A copy: the optimizer updates its state in place, and the tensors given may be a
            # snapshot the doctor rolls back to again (load_state_dict keeps them as they are).
            state.setdefault(int(idx), {})[name] = v.clone()
    for key, v in meta["plain"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def prefixed(prefix: str, d: dict) -> dict:
    return {f"{prefix}{k}": v for k, v in d.items()}


def strip(prefix: str, d: dict) -> dict:
    return {k[len(prefix):]: v for k, v in d.items() if k.startswith(prefix)}
