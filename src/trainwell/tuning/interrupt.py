"""Ctrl-C and SIGTERM in a study: whenever they come, the study stays resumable by the same command.

While a trial trains, the trainer turns the signal into a saved, interrupted run (training/loop.py)
and the worker fails the trial as interrupted and queues its parameters again. Outside training
(a trial's data preparation, its metrics, Optuna's ask and tell, the journal's appends) a signal
must not cut a write in half, nor kill the process with a trial left RUNNING, so there it is only
noted (`deferred`) and acted on at the next safe point: before a new trial is asked for (`check`),
or at the start of the next training, which then stops after one batch as if the signal had come
there (`Reporter.on_fit_start` in trial.py). Before and after the workers' loop (preparing the
study, the summary) nothing is half-written by stopping at once, so the signal raises there.

Worker processes (`--jobs`) are stopped by the parent: it writes its signal into their shared stop
value (read by a worker still starting, which ignores signals until its handlers are in place) and
sends them the signal.
A worker may get the signal twice, from the terminal's Ctrl-C (to the whole process group) or a
scheduler's SIGTERM (to every process) and from the parent, so a worker never takes a second
signal as "insist": it stops at the same safe points either way. In the process the user signals,
a second signal while the first waits does insist, and stops at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StudyInterrupted(KeyboardInterrupt):
    """A study stopped by Ctrl-C or SIGTERM; what it did is on disk and rerunning resumes it.
    A KeyboardInterrupt, so that no `except Exception` on the way up can take it for a failure."""

    def __init__(self, signum: int = signal.SIGINT):
        self.signum = int(signum) if int(signum) == signal.SIGTERM else int(signal.SIGINT)
        super().__init__("SIGTERM" if self.signum == signal.SIGTERM else "SIGINT")

    @property
    def exit_code(self) -> int:
        """128 + the signal, as for `train`: 130 after Ctrl-C, 143 after SIGTERM."""
        return 128 + self.signum


class _State:
    pending: int | None = None  # the signal noted while deferred
    defer = False               # note signals instead of raising
    worker = False              # a spawned worker process: a second signal does not insist
    stop = None                 # a spawned worker: the parent's signal, in a shared multiprocessing Value


_state = _State()


def _handler(signum, frame):
    # A second signal while the first waits for a safe point: the user insists, as with `train`
    # (a worker process is exempt: its parent passes on the signal it may already have had).
    insist = _state.pending is not None and not _state.worker
    _state.pending = _state.pending or signum
    if not _state.defer or insist:
        raise StudyInterrupted(signum)


@contextlib.contextmanager
def handled(*, worker: bool = False, stop=None):
    """Ctrl-C and SIGTERM raise StudyInterrupted in this process (outside `deferred`) for the duration;
    the previous handlers come back afterwards. Only the main thread can own signals; elsewhere
    (a study run from a thread) the process's own handling stays as it is."""
    _state.pending, _state.defer, _state.worker, _state.stop = None, False, worker, stop
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    if worker and hasattr(signal, "pthread_sigmask"):
        # spawned while its parent blocked them (`spawning`); one that came meanwhile arrives now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def deferred():
    """Within: a signal is only noted; `check` (or the next training) acts on it."""
    before, _state.defer = _state.defer, True
    try:
        yield
    finally:
        _state.defer = before


def requested() -> int | None:
    """The signal asking this process to stop (its own, or the one its parent passed on), or None."""
    if _state.pending:
        return _state.pending
    if _state.stop is not None and _state.stop.value:
        return _state.stop.value
    return None


def check() -> None:
    """A safe point: stop here if a signal was noted."""
    signum = requested()
    if signum:
        raise StudyInterrupted(signum)


def note(signum: int) -> None:
    """A signal the trainer took (its run was saved) that still has to stop the study."""
    _state.pending = _state.pending or signum


def on_fit_start(trainer) -> None:
    """Called as a trial's training starts (its signal handlers now the trainer's): a signal noted
    before it stops this training after one batch, with its state saved like any interruption. In a
    worker process, a second signal only repeats the first, instead of killing the worker."""
    signum = requested()
    if signum:
        trainer._interrupted = signum
    if _state.worker and threading.current_thread() is threading.main_thread():
        def repeatable(signum, frame):
            trainer._interrupted = trainer._interrupted or signum
        for s in SIGNALS:
            signal.signal(s, repeatable)  # the trainer puts back the previous handlers when the fit ends


def on_fit_end(trainer) -> None:
    """A signal the trainer noted too late to stop (after its last check) still stops the study."""
    if trainer._interrupted:
        note(trainer._interrupted)


def fit_callback():
    """A training callback that applies `on_fit_start` and `on_fit_end` (for runs other than trials)."""
    from ..training.loop import Callback  # imports torch, so only when something trains

    class AtFit(Callback):
        def on_fit_start(self, trainer):
            on_fit_start(trainer)

        def on_fit_end(self, trainer):
            on_fit_end(trainer)

    return AtFit()


@contextlib.contextmanager
def spawning():
    """Around starting worker processes: they start with the signals ignored and blocked (a Ctrl-C in
    their first second would otherwise print a traceback from Python's start-up; the parent stops
    them through their stop value until `handled` installs their handlers and unblocks them). Here
    the block keeps a signal that arrives meanwhile pending, so it reaches this process's own
    handler afterwards instead of being ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    block = hasattr(signal, "pthread_sigmask")
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS) if block else None
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        if block:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
