"""The YAML helper gives the same documents as PyYAML's safe functions, faster when libyaml is there."""

from pathlib import Path

import pytest
import yaml

from trainwell import yamlio
from trainwell.config import dump_config, load_config

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_same_documents_as_pyyaml_safe_functions(path):
    text = path.read_text()
    assert yamlio.load(text) == yaml.safe_load(text)
    full = load_config(path).model_dump(mode="json")  # every section, every default
    assert yamlio.dump(full, sort_keys=False) == yaml.safe_dump(full, sort_keys=False)
    assert yamlio.load(dump_config(load_config(path))) == full


def test_invalid_yaml_raises_the_yaml_error():
    with pytest.raises(yamlio.YAMLError):
        yamlio.load("a: [1, 2")
    with pytest.raises(yaml.constructor.ConstructorError):
        yamlio.load("!!python/object:os.system {}")  # a safe loader: no arbitrary objects


def test_uses_libyaml():
    # PyYAML's wheels ship libyaml; without it the helper falls back to the pure-Python classes.
    assert yamlio._LOADER is yaml.CSafeLoader and yamlio._DUMPER is yaml.CSafeDumper
