"""YAML in and out, through libyaml when PyYAML was built with it.

A run reads or writes its config about six times (train's deep copy, config.yaml, the index, the
report, Run); PyYAML's pure-Python parser takes ~35 ms for a 2 KB config, libyaml ~2 ms. The
documents are the same either way (tests/test_yamlio.py)."""

from __future__ import annotations

import yaml

YAMLError = yaml.YAMLError
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str):
    """yaml.safe_load."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


def dump(obj, **kwargs) -> str:
    """yaml.safe_dump to a string."""
    return yaml.dump(obj, Dumper=_DUMPER, **kwargs)
