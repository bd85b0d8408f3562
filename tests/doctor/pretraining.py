"""What the doctor reads and finds before training, for the tests: a config's context and findings."""

from __future__ import annotations

from trainwell import api
from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.doctor import rules
from trainwell.doctor.context import build_context


def context(config: dict):
    """The context the rules read for `config` (seed 0 unless it sets one), built as a run builds it."""
    cfg = load_config({"seed": 0, **config})
    prepared = prepare(cfg.data, cfg.seed, cfg.model.type)
    return build_context(cfg, prepared, api._plan(cfg, prepared.spec))


def found(config: dict, key: str | None = None) -> list:
    """The findings before training; with `key`, only those whose evidence holds it."""
    return [f for f in rules.examine([], {}, context(config), rules.PRE_TRAINING) if key is None or key in f.evidence]
