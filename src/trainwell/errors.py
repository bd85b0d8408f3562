"""Errors a user can fix. The CLI turns these into exit code 2 and one clear paragraph."""


class UserError(Exception):
    """Bad input: a config key, a data column, a file or an argument. The message says what
    was wrong and what would be valid."""


class ConfigError(UserError):
    """One or more config problems, all reported at once."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"The config has {len(problems)} {noun}:\n{lines}")


class TrainingInterrupted(Exception):
    """Raised after Ctrl-C (SIGINT) or SIGTERM once the training state is safely on disk."""

    def __init__(self, run_dir: str, signum: int = 0, resume: str | None = None):
        self.run_dir = run_dir
        # SIGTERM (15) or else SIGINT (2), by number so errors.py stays free of imports; a flag set
        # to True by hand (tests, callbacks) counts as Ctrl-C.
        self.signum = 15 if signum == 15 else 2
        by = " by SIGTERM" if self.signum == 15 else ""
        super().__init__(f"Interrupted{by}. Resume with: {resume or f'trainwell train --resume {run_dir}'}")

    @property
    def exit_code(self) -> int:
        """128 + the signal, as the shell reports a process the signal ended: 130 after Ctrl-C, 143
        after SIGTERM, so a scheduler that sent TERM sees the code it expects."""
        return 128 + self.signum


class BadCells(UserError):
    """Bad input located value by value. `cells` holds (row, field, problem): row counted from 0 in
    the rows given, field None for an input without named fields (an image, a sequence). The REST
    server points each of its 422 errors at one of them, as it does for the values it checks itself."""

    def __init__(self, message: str, cells: list[tuple[int, str | None, str]]):
        self.cells = cells
        super().__init__(message)
