"""Commands for the runs feature (registered on trainwell.cli.app). Heavy imports stay inside commands."""

from __future__ import annotations

from .cli import app  # noqa: F401
