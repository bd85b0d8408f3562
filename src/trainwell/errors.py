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
    """Raised after Ctrl-C once the last completed epoch is safely on disk."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        super().__init__(f"Interrupted. Resume with: trainwell train --resume {run_dir}")
