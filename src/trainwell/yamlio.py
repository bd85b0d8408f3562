"""YAML in and out, through libyaml when PyYAML was built with it.

A run reads or writes its config about six times (train's deep copy, config.yaml, the index, the
report, Run); PyYAML's pure-Python parser takes ~35 ms for a 2 KB config, libyaml ~2 ms. The
documents are the same either way (tests/test_yamlio.py)."""

from __future__ import annotations

import yaml

YAMLError = yaml.YAMLError
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names a key twice. PyYAML keeps the last one, so a second `optimizer:` section
    would silently drop every setting of the first."""

    def __init__(self, key, first_line: int, second_line: int):
        self.key, self.lines = key, (first_line, second_line)
        where = f"line {first_line}, twice" if first_line == second_line else f"lines {first_line} and {second_line}"
        super().__init__(f"duplicate key {key!r} ({where})")


class _Loader(_LOADER):
    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            # The resolved tag tells 1 from '1'; both are scalars, which is what config keys are.
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                ident = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + 1
                if ident in seen:
                    raise DuplicateKeyError(key_node.value, seen[ident], line)
                seen[ident] = line
        return super().construct_mapping(node, deep=deep)


def load(text: str):
    """yaml.safe_load, except that a key written twice in one mapping is a DuplicateKeyError."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, C or Python


def dump(obj, **kwargs) -> str:
    """yaml.safe_dump to a string."""
    return yaml.dump(obj, Dumper=_DUMPER, **kwargs)
