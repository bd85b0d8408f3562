"""Prepared data is kept per process for runs that prepare the same data again (a study, an
ensemble): each call gets its own copy, and an edited file or another setting is prepared afresh."""

import numpy as np
import pandas as pd

from trainwell import data as data_mod
from trainwell.config import DataConfig


def _write(path, seed, n=60):
    rng = np.random.default_rng(seed)
    pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.integers(0, 2, n)}).to_csv(path, index=False)


def test_the_same_data_again_is_an_equal_copy_that_a_run_cannot_change(monkeypatch):
    calls = []
    real = data_mod._prepare
    monkeypatch.setattr(data_mod, "_prepare", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(data_mod, "_CACHE", type(data_mod._CACHE)())
    cfg = DataConfig(source="builtin:wine")
    first = data_mod.prepare(cfg, 0)
    first.train.x[:] = np.nan  # a run scribbling on its arrays
    first.state["scribbled"] = True
    second = data_mod.prepare(cfg, 0)
    assert len(calls) == 1
    assert np.isfinite(second.train.x).all() and "scribbled" not in second.state
    fresh = real(cfg, 0, "mlp")
    for split in ("train", "val", "test"):
        assert np.array_equal(getattr(second, split).x, getattr(fresh, split).x)
        assert np.array_equal(getattr(second, split).y, getattr(fresh, split).y)
    second.train.y[:] = -1
    assert (data_mod.prepare(cfg, 0).train.y >= 0).all()
    # another seed, another setting: prepared afresh
    data_mod.prepare(cfg, 1)
    data_mod.prepare(DataConfig(source="builtin:wine", scale="minmax"), 0)
    assert len(calls) == 3


def test_an_edited_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "_CACHE", type(data_mod._CACHE)())
    path = tmp_path / "d.csv"
    _write(path, 0)
    cfg = DataConfig(source=str(path), target="y")
    before = data_mod.prepare(cfg, 0)
    _write(path, 1, n=80)
    after = data_mod.prepare(cfg, 0)
    assert len(after.train.x) + len(after.val.x) + len(after.test.x) == 80
    assert len(before.train.x) + len(before.val.x) + len(before.test.x) == 60


def test_a_folder_source_and_large_data_are_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "_CACHE", type(data_mod._CACHE)())
    monkeypatch.setattr(data_mod, "CACHE_MAX_BYTES", 1000)
    data_mod.prepare(DataConfig(source="builtin:wine"), 0)  # 178 rows x 13 floats: over 1000 bytes
    assert len(data_mod._CACHE) == 0
    assert data_mod._files_key(DataConfig(source=str(tmp_path))) is None
