"""Where a study is kept and how several processes share it safely: the journal file (or any
database URL Optuna supports), the file lock workers ask under, writes held back and flushed
together, and trials left behind by a dead process found and queued again."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

from ..errors import UserError


DEFAULT_ROOT = Path("studies")


JOURNAL = "journal.log"


def absolute_storage(url: str | None) -> str | None:
    """The URL with a relative SQLite or journal-file path made absolute: study.json keeps it, and
    `tune --show` or `ensemble --study` run from another directory must open the same file (a
    relative one would open, and create, another)."""
    if url is None:
        return None
    if url.endswith(".log") and "://" not in url:
        return str(Path(url).expanduser().resolve())
    parts = sqlite_parts(url)
    if parts and not parts[1].startswith("/"):
        return parts[0] + str(Path(parts[1]).expanduser().resolve()) + parts[2]
    return url


def sqlite_parts(url: str | None) -> tuple[str, str, str] | None:
    """A SQLite URL's (scheme, file, query): sqlite+pysqlite:///x.db?timeout=30 gives
    ("sqlite+pysqlite:///", "x.db", "?timeout=30"); None for any other storage or an in-memory one."""
    import re

    m = re.match(r"(sqlite(?:\+\w+)?:///)([^?]*)(.*)", url or "")
    return m.groups() if m and m.group(2) not in ("", ":memory:") else None


def open_storage(url: str | None, folder: Path):
    """The default is a JournalStorage file in the study folder (safe for several local processes);
    any database URL Optuna takes (sqlite:///x.db, postgresql://..., mysql://...) shares a study
    between machines; a path ending in .log is a journal file."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if url is None or url.endswith(".log"):
        path = folder / JOURNAL if url is None else Path(url)
        path.parent.mkdir(parents=True, exist_ok=True)

        class Storage(JournalStorage):
            def _sync_with_backend(self):
                # While this process holds its writes back (_held_writes) there is nothing of its
                # own to read; another worker's records are read where a decision uses them
                # (catch_up: the pruner's question, tell) and at the next read after: in the tuning
                # benchmark a trial re-read the journal 13 times instead of 67.
                if getattr(self._backend, "held", None) is None:
                    super()._sync_with_backend()

            def catch_up(self):
                with self._thread_lock:
                    super()._sync_with_backend()

        return Storage(_journal_backend(str(path)))
    try:
        return optuna.storages.get_storage(url)
    except Exception as exc:  # a malformed URL, a missing driver, a database that cannot be reached
        raise UserError(f"--storage {url!r}: Optuna cannot open it ({type(exc).__name__}: {exc}); give a "
                        f"database URL such as sqlite:///study.db or postgresql://user@host/db, "
                        f"or a journal file path ending in .log") from None


def _journal_backend(path: str):
    """Optuna's journal file, written without an fsync per record.

    Every report, attribute and state change is one appended record, and Optuna fsyncs each: about
    5 ms here, which on small trials (20 ms epochs) made the storage a fifth of the trial time.
    Without the fsync a record is still in the file the moment it is written (other processes read
    it, a killed process loses nothing); only a crash of the machine itself may lose the last
    records, and the file stays a valid journal that Optuna and optuna-dashboard read as usual.

    Reading: JournalStorage re-reads the journal before every storage call (about 40 a trial: each
    suggest, report, should_prune, tell), and Optuna's read_logs opens the file and seeks to the
    last record read each time. The file only grows, so when its size is the end of the last
    complete record already read there is nothing new, and a stat says so without opening it.
    (On a network file system the size a stat gives may be cached for a few seconds, so a record
    written from another machine can be seen that much later; local processes see it at once.)

    Locking: see _flock_lock.
    """
    from optuna.storages.journal import JournalFileBackend

    class Journal(JournalFileBackend):
        def read_logs(self, log_number_from):
            # Optuna's map: log number -> byte offset where that record starts (complete records only)
            offsets = getattr(self, "_log_number_offset", None)
            end = offsets.get(log_number_from) if isinstance(offsets, dict) else None
            if end is not None and isinstance(getattr(self, "_file_path", None), str):
                try:
                    unchanged = os.stat(self._file_path).st_size == end
                except OSError:  # gone or unreadable: Optuna's own read says what is wrong
                    unchanged = False
                if unchanged:
                    return iter(())
            return super().read_logs(log_number_from)

        held: list | None = None  # records waiting for one append (see _held_writes)

        def append_logs(self, logs):
            if self.held is not None:
                self.held.extend(logs)
                return
            try:
                from optuna.storages.journal._file import get_lock_file
                lock, file_path = self._lock, self._file_path
            except (ImportError, AttributeError):  # another Optuna layout: its own (fsync) append
                return super().append_logs(logs)
            text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
            with get_lock_file(lock):
                with open(file_path, "ab") as f:
                    f.write(text.encode("utf-8"))

    lock = _flock_lock(path)
    return Journal(path) if lock is None else Journal(path, lock_obj=lock)


def _flock_lock(path: str):
    """The journal's write lock as flock(2) on `<journal>.flock`, or None where there is no fcntl
    (Optuna's own symlink lock then).

    Optuna's default lock creates a symlink next to the journal and removes it after the write:
    two metadata changes per append, which cost 130-190 µs here in a process that trains between
    its appends (28 µs in a loop on its own), about a fifth of Optuna's time in a small trial.
    flock is one system call each way on a file kept open, with no metadata change, and the kernel
    drops it when its process dies, where the symlink of a worker killed while writing blocks the
    others for Optuna's 30 s grace period.
    Every trainwell worker takes this lock; plain Optuna code that writes to the same journal while
    a study runs would take the symlink one instead, so the two would not exclude each other
    (readers such as optuna-dashboard take no lock either way)."""
    try:
        import fcntl
    except ImportError:
        return None

    import errno

    class FlockLock:  # the acquire/release Optuna's file backend calls (its base class is private)
        # One open file per process, locked and unlocked: an interruption between the lock and
        # Optuna's try leaves this process holding it, and its next append takes it again (flock is
        # per open file) instead of waiting on itself. A file system without flock (some FUSE or
        # network mounts) gets Optuna's symlink lock from the first refusal on.
        def __init__(self, file: str, journal: str):
            self.file, self.journal, self.fd, self.pid, self.fallback = file, journal, None, None, None

        def acquire(self) -> bool:
            if self.fallback is not None:
                return self.fallback.acquire()
            if self.fd is None or self.pid != os.getpid():   # a forked child opens its own
                self.fd, self.pid = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644), os.getpid()
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            except OSError as exc:
                if exc.errno not in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                from optuna.storages.journal import JournalFileSymlinkLock

                self._close()
                self.fallback = JournalFileSymlinkLock(self.journal)
                return self.fallback.acquire()
            return True

        def release(self) -> None:
            if self.fallback is not None:
                return self.fallback.release()
            fcntl.flock(self.fd, fcntl.LOCK_UN)

        def _close(self) -> None:
            if self.fd is not None and self.pid == os.getpid():
                os.close(self.fd)
            self.fd = None

        def __del__(self):
            try:
                self._close()
            except Exception:
                pass

    return FlockLock(path + ".flock", path)


@contextlib.contextmanager
def _held_writes(trial):
    """Write the records of a trial's start (its worker, each sampled parameter, the sampler's
    notes) in one journal append instead of one each: the file lock and the write cost about
    0.3 ms apiece, and a trial starts with 6 to 10 of them.

    While held, this process's storage does not see its own new records; nothing reads them back
    in that time (Optuna's trial keeps its parameters in the trial object itself, and the samplers
    read other trials), and other workers see them a few milliseconds later than otherwise. Nor does
    it read other workers' new records, but where a decision uses them (`_catch_up`). Any other
    storage (a database URL) writes as usual."""
    storage = getattr(trial, "storage", None)
    backend = getattr(storage, "_backend", None)
    if not hasattr(backend, "held") or backend.held is not None or not hasattr(storage, "_thread_lock"):
        yield
        return
    backend.held = []
    try:
        yield
    finally:
        records, backend.held = backend.held, None
        if records:
            with storage._thread_lock:
                backend.append_logs(records)
                storage._sync_with_backend()


def _catch_up(trial) -> None:
    """Read what other workers wrote, inside a held block, before a decision that uses it: the
    pruner compares with their trials, tell hands the sampler the study."""
    catch_up = getattr(getattr(trial, "storage", None), "catch_up", None)
    if catch_up is not None:
        catch_up()


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock between the worker processes of this machine."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one worker at a time is still safe, several may overshoot by one
        yield
        return
    with open(folder / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _quiet_optuna():
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*is not supported by `GridSampler`.*")
    warnings.filterwarnings("ignore", message=".*The reported value is ignored.*")


def _counts(trial) -> bool:
    """A trial counts toward `trials` unless it was cut short by an interruption (it is retried) or
    skipped as a grid point that trains the same configuration as another (study._grid_twin)."""
    from optuna.trial import TrialState

    if trial.state == TrialState.WAITING:
        return False
    return not (trial.state == TrialState.FAIL and (trial.user_attrs.get("interrupted")
                                                    or trial.user_attrs.get("duplicate_of") is not None))


def _alive(pid: int) -> bool:
    """Whether a worker process still runs. A killed worker stays a zombie until its parent reaps
    it (the tune command joins its workers only at the end), and a zombie still answers
    kill(pid, 0): its state in /proc says it is dead. Not reaped here: multiprocessing's own join
    must do that."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            # "pid (name) state ...": the name may hold spaces or parentheses, the state follows the last ")"
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        pass
    try:   # no /proc (macOS): ps gives the state, Z for a zombie
        import subprocess

        state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, timeout=5).stdout
        return not state.strip().startswith("Z")
    except (OSError, subprocess.SubprocessError):
        return True


# A trial's worker is recorded with its parameters within milliseconds of `ask`; a RUNNING trial
# still without one after this long lost its worker in between (kill -9, on any machine).
UNCLAIMED_SECONDS = 60.0


def _recover_stale(study) -> int:
    """RUNNING trials whose worker on this machine is gone (kill -9, a crash), or that no worker
    ever claimed: mark them failed (interrupted) and queue their parameters again. Called under
    the lock."""
    import datetime

    from optuna.trial import TrialState

    host, n, now = socket.gethostname(), 0, datetime.datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker")
        if worker is None:
            started = t.datetime_start
            if started is None or (now - started).total_seconds() < UNCLAIMED_SECONDS:
                continue
            reason = "its worker stopped before it recorded itself"
        elif worker.get("host") == host and worker.get("pid") and not _alive(worker["pid"]):
            reason = "its worker process died"
        else:
            continue
        _requeue(study, t._trial_id, t.number, t.params)
        study._storage.set_trial_user_attr(t._trial_id, "reason", reason)
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
        n += 1
    return n


def _requeue(study, trial_id: int, number: int, params: dict) -> None:
    study._storage.set_trial_user_attr(trial_id, "interrupted", True)
    if params:
        study.enqueue_trial(params, user_attrs={"retry_of": number}, skip_if_exists=False)
