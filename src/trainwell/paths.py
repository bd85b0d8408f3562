"""Output paths checked before any work starts: a sweep, a study or a training run should not end
in a traceback because the place it writes to cannot exist. Stdlib only (the CLI imports it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UserError


def check_output(path: str | Path | None, flag: str, *, folder: bool = False) -> Path | None:
    """Refuse a file (folder=False) or folder output that cannot be created, naming `flag` and the
    path. Nothing is created: the nearest existing ancestor is probed with a temporary file."""
    if path is None:
        return None
    p = Path(path)
    want = "a folder" if folder else "the path of a file to write"
    if p.is_dir() and not folder:
        raise UserError(f"{flag} {str(p)!r} is a folder; give {want}")
    if p.exists() and not p.is_dir() and folder:
        raise UserError(f"{flag} {str(p)!r} is a file; give {want} (nothing was overwritten)")
    if p.exists() and not folder:
        if not os.access(p, os.W_OK):
            raise UserError(f"{flag} {str(p)!r} exists and is not writable; give {want}")
        return p
    # Path.exists() is False both for a free name and for one under a file (wine.yaml/x.csv).
    ancestor = next((a for a in p.parents if a.exists()), None)
    if ancestor is None:  # only a vanished root gets here
        raise UserError(f"{flag} {str(p)!r} cannot be created: none of its parent folders exists")
    if not ancestor.is_dir():
        raise UserError(f"{flag} {str(p)!r} cannot be created: {str(ancestor)!r} is a file, not a folder")
    # os.access says yes to root everywhere, and /proc or a read-only mount refuse anyway: try it.
    try:
        fd, probe = tempfile.mkstemp(dir=ancestor, prefix=".trainwell-probe-")
    except OSError as exc:
        why = "permission denied" if isinstance(exc, PermissionError) else "the file system takes no new files there"
        raise UserError(f"{flag} {str(p)!r} cannot be created: cannot write in {str(ancestor)!r} ({why}); "
                        f"choose a folder you can write to") from None
    os.close(fd)
    os.unlink(probe)
    return p
