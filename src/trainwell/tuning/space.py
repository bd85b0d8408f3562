"""The search space: `tune.space` entries -> Optuna suggestions -> config overrides.

A space maps dotted config keys to distributions (float linear or log, int, choice). A choice may
hold lists (hidden-layer shapes); Optuna stores only scalars, so such values are kept as their
JSON text in the study (readable in optuna-dashboard) and decoded back here. A parameter with
`when` is sampled only when the keys it names hold the given values (momentum only for sgd).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..config import Config, ConfigError, TuneParam, load_config
from ..errors import UserError


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value)


def _lookup(tree: dict, dotted: str) -> Any:
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _matches(value: Any, wanted: Any) -> bool:
    options = wanted if isinstance(wanted, list) else [wanted]
    return any(value == w or str(value) == str(w) for w in options)


class Space:
    """tune.space of a config. lr_bounds: (low, high) to use where optimizer.lr says auto."""

    def __init__(self, cfg: Config, lr_bounds: tuple[float, float] | None = None):
        self.cfg = cfg
        self.base = cfg.model_dump(mode="json", exclude={"tune"})
        self.lr_bounds = lr_bounds
        self.params: list[tuple[str, TuneParam]] = _ordered(cfg.tune.space)
        self._decode = {key: {_encode(v): v for v in p.values} for key, p in self.params if p.type == "choice"}

    @property
    def needs_lr_auto(self) -> bool:
        return any("auto" in (p.low, p.high) for _, p in self.params)

    def bounds(self, key: str, p: TuneParam) -> tuple[float, float]:
        low, high = p.low, p.high
        if "auto" in (low, high):
            if self.lr_bounds is None:
                raise UserError(f"tune.space.{key}: auto bounds need the LR range test's suggestion first")
            low = self.lr_bounds[0] if low == "auto" else low
            high = self.lr_bounds[1] if high == "auto" else high
            if low > high:
                raise UserError(f"tune.space.{key}: the range test suggests bounds {self.lr_bounds[0]:.3g}..."
                                f"{self.lr_bounds[1]:.3g}, which do not fit the fixed bound; set both or neither")
        return float(low), float(high)

    # ------------------------------------------------------------------ sampling
    def sample(self, trial) -> dict[str, Any]:
        """Suggest every active parameter on an Optuna trial; returns {dotted key: value}."""
        values: dict[str, Any] = {}
        for key, p in self.params:
            if not self.active(p, values):
                continue
            if p.type == "choice":
                encoded = trial.suggest_categorical(key, list(self._decode[key]))
                values[key] = self._decode[key][encoded]
            elif p.type == "int":
                low, high = self.bounds(key, p)
                values[key] = trial.suggest_int(key, int(low), int(high), step=int(p.step or 1), log=p.log)
            else:
                low, high = self.bounds(key, p)
                values[key] = trial.suggest_float(key, low, high, log=p.log, step=p.step)
        return values

    def distributions(self) -> dict[str, Any]:
        """{dotted key: the Optuna distribution `sample` suggests from}, to check a resumed study."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out = {}
        for key, p in self.params:
            if p.type == "choice":
                out[key] = CategoricalDistribution(list(self._decode[key]))
                continue
            low, high = self.bounds(key, p)
            out[key] = IntDistribution(int(low), int(high), step=int(p.step or 1), log=p.log) if p.type == "int" \
                else FloatDistribution(low, high, log=p.log, step=p.step)
        return out

    def active(self, p: TuneParam, values: dict) -> bool:
        for cond, wanted in (p.when or {}).items():
            current = values[cond] if cond in values else _lookup(self.base, cond)
            if not _matches(current, wanted):
                return False
        return True

    def decode(self, key: str, stored: Any) -> Any:
        """A value as Optuna stored it -> the config value (lists come back from their JSON)."""
        return self._decode.get(key, {}).get(stored, stored)

    def grid(self, points: int) -> dict[str, list]:
        """The grid sampler's values: every choice, every int of a narrow range, else `points` values."""
        out = {}
        for key, p in self.params:
            if p.type == "choice":
                out[key] = list(self._decode[key])
                continue
            low, high = self.bounds(key, p)
            if p.step:
                n = int(math.floor((high - low) / p.step + 1e-9)) + 1
                vals = [low + i * p.step for i in range(n)]
                if len(vals) > points:
                    vals = [vals[round(i * (n - 1) / (points - 1))] for i in range(points)]
            elif p.log:
                vals = [math.exp(math.log(low) + i * (math.log(high) - math.log(low)) / (points - 1))
                        for i in range(points)]
            else:
                vals = [low + i * (high - low) / (points - 1) for i in range(points)]
            vals = [min(max(v, low), high) for v in vals]  # exp(log(x)) may land a hair outside
            if p.type == "int":
                vals = sorted({int(round(v)) for v in vals}) if high - low + 1 > points else \
                    list(range(int(low), int(high) + 1))
            out[key] = list(dict.fromkeys(vals))
        return out

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        """Every bound and candidate must make a valid config; all problems at once, as UserError."""
        problems = []
        searched = dict(self.params)
        for key, p in self.params:
            for cond, wanted in (p.when or {}).items():
                never = self._never(cond, wanted, searched.get(cond))
                if never:
                    problems.append(f"tune.space.{key}.when: {never}, so {key} would never be sampled; "
                                    f"change the condition, or drop the entry")
            if p.log and p.step is not None and (p.type == "float" or p.step != 1):
                problems.append(f"tune.space.{key}: step and log cannot be combined; drop one")
            if p.type == "choice":
                candidates = list(p.values)
            else:
                candidates = [b for b in (p.low, p.high) if b != "auto"]
                if p.type == "int":
                    candidates = [int(b) for b in candidates]
            when = {c: (w[0] if isinstance(w, list) and w else w) for c, w in (p.when or {}).items()}
            for value in candidates:
                try:
                    load_config(self.cfg, {**when, key: value})
                except ConfigError as exc:
                    detail = "; ".join(x for x in exc.problems)
                    problems.append(f"tune.space.{key}: the value {value!r} gives an invalid config ({detail})")
                except UserError as exc:
                    problems.append(f"tune.space.{key}: the value {value!r} cannot be set ({exc})")
        if problems:
            raise ConfigError(problems)


    def _never(self, cond: str, wanted, searched: TuneParam | None) -> str | None:
        """Why `cond` can never hold a `wanted` value, or None when it can (or a range may)."""
        options = wanted if isinstance(wanted, list) else [wanted]
        if searched is None:
            fixed = _lookup(self.base, cond)
            if not _matches(fixed, wanted):
                return f"{cond} is not searched and is {fixed!r} in this config, never {_shown(options)}"
        elif searched.type == "choice" and not any(_matches(v, wanted) for v in searched.values):
            return f"{cond} is searched over {list(searched.values)!r}, never {_shown(options)}"
        return None


def _shown(values: list) -> str:
    return values[0].__repr__() if len(values) == 1 else "any of " + repr(list(values))


def _ordered(space: dict[str, TuneParam]) -> list[tuple[str, TuneParam]]:
    """Parameters a `when` depends on come first; a cycle is an error naming the keys."""
    pending = dict(space)
    done: list[tuple[str, TuneParam]] = []
    while pending:
        ready = [k for k, p in pending.items()
                 if all(c not in pending or c == k for c in (p.when or {}))]
        if not ready:
            raise UserError(f"tune.space: the `when` conditions of {sorted(pending)} depend on each other in a "
                            f"cycle; a condition may only name a fixed key or one sampled without it")
        for k in ready:
            if k in (pending[k].when or {}):
                raise UserError(f"tune.space.{k}.when: a parameter cannot depend on itself")
            done.append((k, pending.pop(k)))
    return done
