"""Load a table from a source string: `builtin:NAME`, or a .csv / .parquet / .npz path.

Every failure is a UserError that names the config key (the `role`), the path and what would be
valid. Relative paths are used as given (relative to the current directory); resolving them
against a config file's folder is the caller's job.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError

BUILTINS = ("digits", "iris", "wine", "breast_cancer", "diabetes")
EXTENSIONS = (".csv", ".parquet", ".npz")
_FILES = f"a path ending in {', '.join(EXTENSIONS)}"
_VALID = f"builtin:{'|'.join(BUILTINS)}, or {_FILES}"


class NotATable(UserError):
    """An .npz whose 'x' is not 2-D, read as a table. `shape` lets `auto`, which cannot set
    data.kind, say what to do in its own terms."""

    def __init__(self, message: str, shape: tuple):
        self.shape = shape
        super().__init__(message)


def default_target(source: str) -> str | None:
    """The target column a source implies, or None when the user has to name it (csv/parquet)."""
    if source.startswith("builtin:"):
        return "target"
    if Path(source).suffix.lower() == ".npz":
        return "y"
    return None


def load_table(source: str, role: str = "data.source") -> pd.DataFrame:
    """Load `source` as a DataFrame; errors name `role` (the config key it came from)."""
    if not isinstance(source, str) or not source.strip():
        raise UserError(f"{role}: empty source; valid: {_VALID}")
    if source.startswith("builtin:"):
        return _load_builtin(source[len("builtin:"):], role)
    return _load_file(source, role)


def read_input_table(path: str) -> pd.DataFrame:
    """Read a predict/evaluate input file (.csv/.parquet/.npz). An .npz may hold 'x' alone: new rows
    have no target, and evaluate asks for the 'y' column itself."""
    source = str(path)
    if source.startswith("builtin:"):
        raise UserError(f"input file: {source!r} is a builtin training set, not a file of rows; give {_FILES}")
    return _load_file(source, "input file", new_rows=True)


def _load_builtin(name: str, role: str) -> pd.DataFrame:
    if name not in BUILTINS:
        raise UserError(f"{role}: unknown builtin dataset {name!r}; valid: "
                        + ", ".join(f"builtin:{b}" for b in BUILTINS))
    from sklearn import datasets  # imported lazily: sklearn is slow to import

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    # Every builtin names its label column "target"; keep that contract explicit.
    if "target" not in frame.columns:
        frame["target"] = np.asarray(bunch.target)
    return frame.reset_index(drop=True)


def _load_file(source: str, role: str, new_rows: bool = False) -> pd.DataFrame:
    """new_rows: predict's or evaluate's input, a file whose .npz may lack 'y' (evaluate checks for it)."""
    path = Path(source)
    suffix = path.suffix.lower()
    valid = _FILES if new_rows else _VALID
    if suffix not in EXTENSIONS:
        hint = f"; did you mean builtin:{source}?" if source in BUILTINS and not new_rows else ""
        raise UserError(f"{role}: {source!r} has an unsupported file type {suffix or '(none)'!r}; "
                        f"valid: {valid}{hint}")
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise UserError(f"{role}: file {source!r} {what}{where}; valid: {valid}")
    if path.stat().st_size == 0:
        raise UserError(f"{role}: file {source!r} is empty (0 bytes); it needs a header and at least one row")
    reader = {".csv": _read_csv, ".parquet": _read_parquet,
              ".npz": lambda p, r: _read_npz(p, r, need_y=not new_rows)}[suffix]
    try:
        frame = reader(path, role)
    except UserError:
        raise
    except Exception as exc:  # parser, decoding, arrow and zip errors all mean "can't read this"
        raise UserError(f"{role}: could not read {source!r} as {suffix[1:]}: "
                        f"{type(exc).__name__}: {exc}") from None
    if len(frame) == 0:
        raise UserError(f"{role}: file {source!r} has no rows (columns: {list(frame.columns)})")
    if len(frame.columns) == 0:
        raise UserError(f"{role}: file {source!r} has no columns")
    frame.columns = frame.columns.map(str)  # JSON state keys and messages need string names
    return frame.reset_index(drop=True)


def _read_csv(path: Path, role: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise UserError(f"{role}: file {str(path)!r} is empty; it needs a header and at least one row") from None
    names = [str(c) for c in frame.columns]
    # pandas renames a repeated header 'a' to 'a.1'; the header is read again, as written, only when
    # such a pair is there (a column really named 'a.1' beside 'a' is then let through).
    if any(n.rpartition(".")[0] in names and n.rpartition(".")[2].isdigit() for n in names):
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
        _refuse_duplicates(header, path, role)
    return frame


def _read_parquet(path: Path, role: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    # pyarrow refuses a repeated name itself, but as "Multiple matches for FieldRef.Name(a)".
    _refuse_duplicates(pq.read_schema(path).names, path, role)
    return pd.read_parquet(path)


def _refuse_duplicates(header: list, path: Path, role: str) -> None:
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(map(str, header), start=1):
        seen.setdefault(name, []).append(i)
    twice = {name: cols for name, cols in seen.items() if len(cols) > 1}
    if twice:
        cols = lambda c: ", ".join(map(str, c[:-1])) + f" and {c[-1]}"
        listed = "; ".join(f"{name!r} in columns {cols(c)}" for name, c in twice.items())
        first = next(iter(twice))
        raise UserError(f"{role}: file {str(path)!r} has a column header written more than once ({listed}); "
                        f"data.target or data.features naming {first!r} could get either column (pandas would "
                        f"read the second as {first + '.1'!r}). Give each column a unique header in the file")


def _read_npz(path: Path, role: str, need_y: bool = True) -> pd.DataFrame:
    # np.load falls back to unpickling non-zip files, whose error message would mislead.
    if not zipfile.is_zipfile(path):
        raise UserError(f"{role}: could not read {str(path)!r} as npz: it is not a numpy .npz archive "
                        "(save one with numpy.savez(path, x=..., y=...))")
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UserError(f"{role}: could not read {str(path)!r} as npz: {exc}") from None
    with archive:
        missing = [k for k in (("x", "y") if need_y else ("x",)) if k not in archive.files]
        if missing:
            needs = "arrays 'x' (rows, features) and 'y' (rows,)" if need_y else "an array 'x' (rows, features)"
            raise UserError(f"{role}: {str(path)!r} needs {needs}; missing {missing}, found {sorted(archive.files)}")
        x = archive["x"]
        y = archive["y"] if "y" in archive.files else None
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        hint = {3: "; for sequences (rows, steps, features) set data.kind: sequence",
                4: "; for images (rows, channels, height, width) set data.kind: image"}.get(x.ndim, "")
        raise NotATable(f"{role}: {str(path)!r}: 'x' must be 2-D (rows, features) for a table, got shape "
                        f"{x.shape}{hint}", x.shape)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    if y is None:
        return frame
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise UserError(f"{role}: {str(path)!r}: 'y' must be 1-D (rows,), got shape {y.shape}")
    if len(x) != len(y):
        raise UserError(f"{role}: {str(path)!r}: 'x' has {len(x)} rows but 'y' has {len(y)}")
    frame["y"] = y
    return frame
