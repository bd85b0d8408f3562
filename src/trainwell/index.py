"""The run index: one SQLite file in the runs folder (the parent of each run directory).

The run directories are the truth; the index is a cache of them that lists, filters and sorts
fast and that several processes (tuning workers) update at once. So:

- every write is one short `BEGIN IMMEDIATE` transaction in WAL mode, with a busy timeout, and
  a failed write never fails a training run (the directory still has everything);
- a run is indexed from its directory (`update(run_dir)`), as it starts and as it ends; the
  same function rebuilds the whole index from the directories when the file is deleted or
  corrupt (a corrupt file is moved aside, never silently dropped, and the caller says so);
- a run that was killed (`kill -9`, power loss) never gets to say so: its row stays
  "running". Each row keeps the pid, the host and the process start time, and a listing on the
  same host checks whether that process is still alive; if not, the run shows as
  "interrupted". A run on another host cannot be checked and shows as running, with its host.

The stdlib sqlite3 only: the index is a few hundred rows of plain values.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterable

from .errors import UserError

FILENAME = "trainwell-index.sqlite"
SCHEMA_VERSION = 1
STATUSES = ("running", "completed", "interrupted", "failed")
BUSY_TIMEOUT_S = 30.0  # tuning workers may queue behind each other's (millisecond) writes

_COLUMNS = ("id", "path", "name", "task", "model", "hyper", "status", "pid", "host", "pid_start",
            "started", "finished", "seconds", "epochs", "monitor", "best", "best_epoch", "val", "test",
            "config", "updated")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,      -- the run directory's name
    path TEXT NOT NULL,       -- its absolute path
    name TEXT, task TEXT, model TEXT,
    hyper TEXT,               -- JSON: the key hyperparameters
    status TEXT,              -- {' | '.join(STATUSES)}
    pid INTEGER, host TEXT, pid_start TEXT,   -- to tell a live run from a killed one
    started TEXT, finished TEXT, seconds REAL, epochs INTEGER,
    monitor TEXT, best REAL, best_epoch INTEGER,  -- the monitored validation metric at its best
    val TEXT, test TEXT,      -- JSON: final metrics per split (no confusion matrix)
    config TEXT,              -- JSON: the resolved config
    updated REAL
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
"""


def index_path(root: str | Path) -> Path:
    return Path(root) / FILENAME


# ----------------------------------------------------------------------------- liveness
def _proc_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return False
    return True


def is_alive(pid: int | None, host: str | None, pid_start: str | None) -> bool | None:
    """True/False for a process on this host; None when it cannot be told (another host)."""
    if not pid:
        return False
    if host and host != platform.node():
        return None
    if not _pid_alive(int(pid)):
        return False
    if pid_start is not None:
        now = _proc_start(int(pid))
        if now is not None and now != pid_start:
            return False  # the pid was reused by another process
    return True


def effective_status(status: str | None, pid: int | None, host: str | None = None,
                     pid_start: str | None = None) -> str:
    """A run saying "running" whose process is gone was killed: it is "interrupted"."""
    if status == "running" and is_alive(pid, host, pid_start) is False:
        return "interrupted"
    return status or "unknown"


# ----------------------------------------------------------------------------- one row
def _read(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _finite(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _model_summary(model: dict) -> str:
    kind = model.get("type", "?")
    if kind == "mlp":
        return f"mlp {'-'.join(str(h) for h in model.get('hidden', []))} {model.get('activation', '')}".strip()
    if kind == "cnn":
        return f"cnn {'-'.join(str(b.get('channels')) for b in model.get('blocks', []))}"
    if kind == "rnn":
        return f"{model.get('cell', 'rnn')} {model.get('hidden_size')}x{model.get('layers')}"
    if kind == "transformer":
        return f"transformer d{model.get('d_model')} L{model.get('layers')}"
    return kind


def key_hyperparameters(config: dict) -> dict:
    """The few knobs a person compares runs by; the full config stays in the row too."""
    opt, training, model = config.get("optimizer", {}), config.get("training", {}), config.get("model", {})
    hyper = {"optimizer": opt.get("name"), "lr": opt.get("lr"), "batch_size": training.get("batch_size"),
             "weight_decay": opt.get("weight_decay"), "dropout": model.get("dropout"),
             "schedule": (config.get("schedule") or {}).get("name"), "seed": config.get("seed")}
    return {k: v for k, v in hyper.items() if v is not None}


def row_from_dir(run_dir: Path) -> dict | None:
    """The index row for a run directory, read from its files; None if it is not a run."""
    from . import yamlio

    run_dir = Path(run_dir).resolve()
    info = _read(run_dir / "run.json")
    if not isinstance(info, dict):
        return None
    try:
        config = yamlio.load((run_dir / "config.yaml").read_text()) or {}
    except (OSError, yamlio.YAMLError):
        config = {}
    metrics = _read(run_dir / "metrics.json") or {}
    best = info.get("best") or {}
    monitor, best_value = next(iter(best.items()), (None, None))
    if monitor is None:
        monitor = ((config.get("training") or {}).get("early_stopping") or {}).get("monitor")
    pid = info.get("pid")
    host = info.get("host")
    pid_start = info.get("pid_start")
    if pid and pid == os.getpid():  # the training process indexing itself
        host, pid_start = platform.node(), _proc_start(pid)
    elif pid and pid_start is None and host in (None, platform.node()):
        pid_start = _proc_start(pid) if info.get("status") == "running" else None
    epochs = info.get("epochs_run")
    if epochs is None and (run_dir / "history.jsonl").exists():
        from .runs import read_history

        epochs = len(read_history(run_dir / "history.jsonl"))

    def scalars(d):
        return json.dumps({k: _finite(v) for k, v in (d or {}).items() if not isinstance(v, (list, dict))})

    return {"id": run_dir.name, "path": str(run_dir), "name": config.get("name"), "task": info.get("task"),
            "model": _model_summary(config.get("model") or {}), "hyper": json.dumps(key_hyperparameters(config)),
            "status": info.get("status"), "pid": pid, "host": host, "pid_start": pid_start,
            "started": info.get("started"), "finished": info.get("finished"), "seconds": _finite(info.get("seconds")),
            "epochs": epochs, "monitor": monitor, "best": _finite(best_value), "best_epoch": info.get("best_epoch"),
            "val": scalars(metrics.get("val")), "test": scalars(metrics.get("test")),
            "config": json.dumps(config), "updated": time.time()}


# ----------------------------------------------------------------------------- the file
class Index:
    """The SQLite index of one runs folder. Use `open_index(root)`; close() when done."""

    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root, self.conn = root, conn
        # Run directories the last build from the folder left out, each with why: [(dir, why)].
        self.skipped: list[tuple[Path, str]] = []

    @property
    def path(self) -> Path:
        return index_path(self.root)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, sql: str, rows: Iterable[tuple]) -> None:
        # BEGIN IMMEDIATE takes the write lock up front, so two writers queue (busy timeout)
        # instead of one failing half-way through a read-then-write.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(sql, rows)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def upsert(self, rows: list[dict]) -> None:
        cols = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        self._write(f"INSERT OR REPLACE INTO runs ({cols}) VALUES ({marks})",
                    [tuple(r[c] for c in _COLUMNS) for r in rows])

    def delete(self, ids: list[str]) -> None:
        if ids:
            self._write("DELETE FROM runs WHERE id = ?", [(i,) for i in ids])

    def set_status(self, ids: list[str], status: str) -> None:
        if ids:
            self._write("UPDATE runs SET status = ?, updated = ? WHERE id = ? AND status = 'running'",
                        [(status, time.time(), i) for i in ids])

    def rows(self, *, name: str | None = None, status: str | None = None, task: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM runs WHERE 1", []
        if name:
            sql += " AND (name LIKE ? OR id LIKE ?)"
            args += [f"%{name}%", f"%{name}%"]
        if task:
            sql += " AND task = ?"
            args.append(task)
        cur = self.conn.execute(sql + " ORDER BY started, id", args)
        cols = [d[0] for d in cur.description]
        out = []
        for values in cur.fetchall():
            row = dict(zip(cols, values))
            for key in ("hyper", "val", "test", "config"):
                row[key] = json.loads(row[key]) if row[key] else {}
            row["status"] = effective_status(row["status"], row["pid"], row["host"], row["pid_start"])
            if status and row["status"] != status:
                continue
            out.append(row)
        return out


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), never implicit.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    except BaseException:
        conn.close()
        raise
    return conn


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        os.replace(path, target)
    except FileNotFoundError:  # another process already moved it
        pass
    for suffix in ("-wal", "-shm"):
        try:
            os.remove(str(path) + suffix)
        except FileNotFoundError:
            pass
    return target


def why_not_indexed(run_dir: Path) -> str:
    """Why row_from_dir found no run in a directory that holds a run.json."""
    try:
        text = (Path(run_dir) / "run.json").read_text()
    except (OSError, UnicodeDecodeError) as exc:
        return f"its run.json cannot be read ({getattr(exc, 'strerror', None) or exc})"
    try:
        info = json.loads(text)
    except ValueError as exc:
        return f"its run.json is not valid JSON ({exc})" if text.strip() else "its run.json is empty"
    return f"its run.json holds {type(info).__name__} {str(info)[:40]!r}, not a run's record (a JSON object)"


def _skipped_note(run_dir: Path, why: str) -> str:
    return (f"skipped run directory {str(run_dir)!r}: {why}; it stays out of the index until the file is "
            f"repaired or restored (then `trainwell runs --rebuild`)")


def run_dirs(root: Path) -> list[Path]:
    """The run directories directly inside root (a folder holding run.json)."""
    try:
        children = list(Path(root).iterdir())
    except FileNotFoundError:
        return []
    return sorted(p for p in children if p.is_dir() and (p / "run.json").is_file())


def open_index(root: str | Path, *, check: bool = False, say: Callable[[str], None] | None = None) -> Index:
    """Open (creating if needed) the index of `root`. A missing index is built from the run
    directories; a corrupt one is moved aside and rebuilt, and `say` is told either way.
    check=True runs SQLite's quick_check first (cheap for a few hundred rows), as listings do."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UserError(f"Runs folder {str(root)!r} is a file; pass --root with the folder holding the run "
                        f"directories (the parent of a run directory; default: runs)")
    if not root.is_dir():
        raise UserError(f"Runs folder {str(root)!r} does not exist; pass --root with the folder holding "
                        f"the run directories (the parent of a run directory; default: runs)")
    path = index_path(root)
    existed = path.exists()
    problem = None
    try:
        conn = _connect(path)
        if check:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                conn.close()
                raise sqlite3.DatabaseError(result)
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise
        problem = str(exc)
        aside = _move_aside(path)
        conn = _connect(path)
        existed = False
    index = Index(root, conn)
    if not existed:
        dirs = run_dirs(root)
        rows = {d: row_from_dir(d) for d in dirs}
        index.upsert([r for r in rows.values() if r is not None])
        index.skipped = [(d, why_not_indexed(d)) for d, r in rows.items() if r is None]
        if say is not None:
            for d, why in index.skipped:
                say(_skipped_note(d, why))
            n = len(dirs) - len(index.skipped)
            counted = f"{n} run director{'y' if n == 1 else 'ies'}" + (
                f" ({len(index.skipped)} skipped, named above)" if index.skipped else "")
            if problem:
                say(f"the run index {str(path)!r} was corrupt ({problem}); rebuilt it from {counted} (the damaged "
                    f"file is kept as {aside.name})")
            elif dirs:
                say(f"built the run index {str(path)!r} from {counted}")
    return index


def rebuild(root: str | Path, say: Callable[[str], None] | None = None) -> int:
    """Drop the index of `root` and build it again from the run directories; returns the count."""
    path = index_path(Path(root))
    for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
        try:
            os.remove(p)
        except FileNotFoundError:
            pass
    with open_index(root) as index:
        n = len(index.rows())
        skipped = index.skipped
    if say is not None:
        for d, why in skipped:
            say(_skipped_note(d, why))
        also = f" ({len(skipped)} skipped, named above)" if skipped else ""
        say(f"rebuilt the run index {str(path)!r} from {n} run director{'y' if n == 1 else 'ies'}{also}")
    return n


def update(run_dir: str | Path, log: Callable[[str], None] | None = None) -> None:
    """Index one run from its directory (as it starts, and as it ends). Never raises: the index
    is a convenience, and a full disk or a locked file must not fail a training run."""
    run_dir = Path(run_dir)
    try:
        row = row_from_dir(run_dir)
        if row is None:
            return
        with open_index(run_dir.resolve().parent, say=log) as index:
            index.upsert([row])
    except (sqlite3.Error, OSError, UserError) as exc:
        if log is not None:
            log(f"run index: not updated ({type(exc).__name__}: {exc}); `trainwell runs --rebuild` rebuilds it")


def sync(index: Index) -> None:
    """Bring the index in line with the folder: add run directories it lacks (made by an older
    version, or copied in), drop rows whose directory is gone, and mark killed runs interrupted."""
    known = {r["id"]: r for r in index.rows()}
    present = {p.name: p for p in run_dirs(index.root)}
    new = [row_from_dir(present[i]) for i in present.keys() - known.keys()]
    index.upsert([r for r in new if r is not None])
    index.delete(sorted(known.keys() - present.keys()))
    dead = [i for i, r in known.items() if r["status"] == "interrupted" and i in present]
    index.set_status(dead, "interrupted")


# ----------------------------------------------------------------------------- queries
def _higher_is_better(metric: str) -> bool:
    from .metrics import HIGHER_IS_BETTER

    bare = metric.split(".", 1)[-1].removeprefix("val_").removeprefix("test_")
    return bare in HIGHER_IS_BETTER or bare.startswith("skill_")


SORT_COLUMNS = ("started", "name", "seconds", "epochs", "best")
SORT_SPLITS = ("test", "val")  # the splits whose final metrics the index keeps
# What runs may record as final metrics, for checking --sort when the index holds no run yet.
METRIC_NAMES = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "loss",
                "mae", "mse", "rmse", "r2", "persistence_mae", "persistence_rmse", "skill_mae", "skill_rmse")


def sort_keys(rows: list[dict]) -> list[str]:
    """The metric keys --sort accepts for these rows: SPLIT.NAME for every scalar metric some run
    recorded in that split (a bare NAME means test.NAME)."""
    return sorted({f"{split}.{m}" for r in rows for split in SORT_SPLITS for m in (r.get(split) or {})})


def check_sort(sort: str, rows: list[dict], root) -> None:
    """A UserError unless `sort` is a column or a metric some run in the index has. `rows` are all
    the index's rows (not the filtered ones): a filter that leaves no run with the metric is no error.
    An index with no run yet accepts the metric names trainwell records."""
    if sort in SORT_COLUMNS:
        return
    split, _, name = sort.partition(".") if "." in sort else ("test", "", sort)
    if rows:
        valid = sort_keys(rows)
        where = f"no run in {str(root)!r} has that metric"
    else:
        valid = [f"{s}.{m}" for s in SORT_SPLITS for m in METRIC_NAMES]
        where = f"that is not a metric trainwell records (the index of {str(root)!r} holds no run yet)"
    if split in SORT_SPLITS and f"{split}.{name}" in valid:
        return
    import difflib

    if split not in SORT_SPLITS and "." in sort:
        where = f"{split!r} is not a split the index keeps metrics for (test, val)"
        close = [k for k in (f"test.{name}", f"val.{name}") if k in valid][:1]
    else:
        close = difflib.get_close_matches(sort, [*SORT_COLUMNS, *valid], n=1, cutoff=0.75)
    hint = f". Did you mean {close[0]}?" if close else ""
    metrics = ", ".join(valid) if valid else "none (no run has final metrics yet)"
    raise UserError(f"--sort {sort!r}: {where}. Valid: a column ({', '.join(SORT_COLUMNS)}) or a metric as "
                    f"SPLIT.NAME: {metrics} (a bare NAME means test.NAME){hint}")


def sort_value(row: dict, key: str):
    """A row's value for --sort: a column, `best` (the monitored val metric), or a metric as
    test.NAME / val.NAME (a bare NAME means test.NAME)."""
    if key in SORT_COLUMNS:
        return row.get(key)
    split, _, name = key.partition(".") if "." in key else ("test", "", key)
    return _finite((row.get(split) or {}).get(name))


def list_runs(root: str | Path = "runs", *, name: str | None = None, status: str | None = None,
              task: str | None = None, sort: str | None = None, say: Callable[[str], None] | None = None,
              rebuild_first: bool = False) -> list[dict]:
    """The runs of a runs folder as plain dicts, filtered, and sorted best first by a metric
    (or by a column; default: when they started)."""
    if status is not None and status not in STATUSES:
        raise UserError(f"--status {status!r} is not a run status; valid: {', '.join(STATUSES)}")
    tasks = ("binary", "multiclass", "regression", "generation")
    if task is not None and task not in tasks:
        raise UserError(f"--task {task!r} is not a task; valid: {', '.join(tasks)}")
    if rebuild_first:
        rebuild(root, say=say)
    with open_index(root, check=True, say=say) as index:
        sync(index)
        rows = index.rows(name=name, status=status, task=task)
        if sort:
            # Checked against the whole index, not the filtered rows: a key no run has is a typo
            # (it used to sort nothing and show a column of "-"), a filter that leaves none is not.
            check_sort(sort, rows if not (name or status or task) else index.rows(), root)
    if sort:
        if sort == "best":
            higher = {r["monitor"]: _higher_is_better(r["monitor"] or "loss") for r in rows}
            key = lambda r: (r["best"] is None, -(r["best"] or 0) if higher.get(r["monitor"]) else (r["best"] or 0))
        elif sort in SORT_COLUMNS:
            key = lambda r: (sort_value(r, sort) is None, sort_value(r, sort) if sort_value(r, sort) is not None else 0)
        else:
            sign = -1 if _higher_is_better(sort) else 1
            key = lambda r: (sort_value(r, sort) is None, sign * (sort_value(r, sort) or 0))
        rows.sort(key=key)
    return rows


def resolve_run(ref: str, root: str | Path = "runs") -> Path:
    """A run named by its path, or by its id (directory name) inside root."""
    p = Path(ref)
    if (p / "run.json").is_file():
        return p
    q = Path(root) / ref
    if (q / "run.json").is_file():
        return q
    known = [d.name for d in run_dirs(Path(root))] if Path(root).is_dir() else []
    import difflib

    close = difflib.get_close_matches(ref, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else (f"; runs in {str(root)!r}: {', '.join(known[-5:])}"
                                                                if known else "")
    raise UserError(f"Run {ref!r} not found: it is neither a run directory nor a run id in {str(root)!r}{hint}")


def _flatten(d, prefix: str = "") -> dict:
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix.rstrip(".")] = d
    return out


def compare(refs: list[str], root: str | Path = "runs") -> dict:
    """Config differences and metrics side by side for two or more runs, as plain values:
    {"runs": [ids], "paths": [...], "config": {key: [values]}, "summary": {...}, "val": {...}, "test": {...}}."""
    from . import yamlio

    if len(refs) < 2:
        raise UserError(f"compare needs at least two runs, got {len(refs)}")
    dirs = [resolve_run(r, root) for r in refs]
    seen: dict = {}
    for i, (ref, d) in enumerate(zip(refs, dirs)):
        first = seen.setdefault(d.resolve(), i)
        if first != i:
            same = refs[first]
            what = f"{ref!r} is given twice" if ref == same else f"{same!r} and {ref!r} name the same run"
            raise UserError(f"compare: {what} ({str(d.resolve())!r}); give two or more different runs (run "
                            "directories, or run ids in --root)")
    rows = [row_from_dir(d) for d in dirs]
    for ref, d, row in zip(refs, dirs, rows):
        if row is None:
            raise UserError(f"compare: run {ref!r} cannot be read: {str(d / 'run.json')!r} is not a valid run "
                            "record (not a JSON object); it may be damaged or still being written")
    configs = []
    for d in dirs:
        try:
            configs.append(_flatten(yamlio.load((d / "config.yaml").read_text()) or {}))
        except (OSError, yamlio.YAMLError):
            configs.append({})
    keys = sorted(set().union(*configs))
    missing = object()
    diff = {k: [c.get(k, None) for c in configs] for k in keys
            if len({json.dumps(c.get(k, missing) if c.get(k, missing) is not missing else "<absent>",
                               sort_keys=True, default=str) for c in configs}) > 1}
    summary = {
        "status": [effective_status(r["status"], r["pid"], r["host"], r["pid_start"]) for r in rows],
        "task": [r["task"] for r in rows], "model": [r["model"] for r in rows],
        "epochs": [r["epochs"] for r in rows], "seconds": [r["seconds"] for r in rows],
        "best": [f"{r['monitor']} {r['best']:.4g} (epoch {r['best_epoch']})" if r["best"] is not None else None
                 for r in rows],
    }
    splits = {}
    for split in ("val", "test"):
        values = [json.loads(r[split]) for r in rows]
        names = [n for n in dict.fromkeys(n for v in values for n in v)]
        splits[split] = {n: [v.get(n) for v in values] for n in names}
    ids = [r["id"] for r in rows]
    if len(set(ids)) < len(ids):  # same directory name in different folders: show the paths
        ids = [str(d) for d in dirs]
    return {"runs": ids, "paths": [str(d) for d in dirs], "config": diff, "summary": summary, **splits}
