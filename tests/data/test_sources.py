import numpy as np
import pandas as pd
import pytest

from trainwell.data import load_table, read_input_table
from trainwell.data.sources import default_target
from trainwell.errors import UserError


@pytest.mark.parametrize("name,rows,n_cols", [
    ("iris", 150, 5), ("digits", 1797, 65), ("wine", 178, 14),
    ("breast_cancer", 569, 31), ("diabetes", 442, 11),
])
def test_builtins_load_with_target_column(name, rows, n_cols):
    df = load_table(f"builtin:{name}")
    assert df.shape == (rows, n_cols)
    assert "target" in df.columns
    assert default_target(f"builtin:{name}") == "target"


def test_digits_features_are_the_64_pixels():
    df = load_table("builtin:digits")
    pixels = [c for c in df.columns if c != "target"]
    assert len(pixels) == 64 and all(c.startswith("pixel") for c in pixels)


def test_unknown_builtin_lists_valid_names():
    with pytest.raises(UserError, match=r"data.source: unknown builtin dataset 'mnist'.*builtin:iris"):
        load_table("builtin:mnist")


def _frame():
    return pd.DataFrame({"a": [1.5, 2.0, 3.0], "b": ["x", "y", "z"], "label": [0, 1, 0]})


def test_csv_roundtrip(tmp_path):
    path = tmp_path / "t.csv"
    _frame().to_csv(path, index=False)
    df = load_table(str(path))
    pd.testing.assert_frame_equal(df, _frame(), check_dtype=False)
    assert default_target(str(path)) is None


def test_parquet_roundtrip(tmp_path):
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path)
    df = load_table(str(path))
    pd.testing.assert_frame_equal(df, _frame(), check_dtype=False)


def test_npz_roundtrip(tmp_path):
    path = tmp_path / "t.npz"
    x = np.arange(12, dtype=float).reshape(4, 3)
    np.savez(path, x=x, y=np.array([0, 1, 0, 1]))
    df = load_table(str(path))
    assert list(df.columns) == ["x0", "x1", "x2", "y"]
    np.testing.assert_array_equal(df[["x0", "x1", "x2"]].to_numpy(), x)
    assert default_target(str(path)) == "y"


def test_npz_missing_arrays(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, features=np.zeros((2, 2)))
    with pytest.raises(UserError, match=r"needs arrays 'x'.*missing \['x', 'y'\]"):
        load_table(str(path), role="data.val")


def test_npz_length_mismatch(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, x=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(UserError, match="'x' has 3 rows but 'y' has 2"):
        load_table(str(path))


def test_zero_byte_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(UserError, match=r"data.source: file .*empty.csv.* is empty"):
        load_table(str(path))


def test_header_only_csv_has_no_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b\n")
    with pytest.raises(UserError, match=r"has no rows \(columns: \['a', 'b'\]\)"):
        load_table(str(path))


def test_missing_file_names_role_and_path(tmp_path):
    with pytest.raises(UserError, match=r"data.test: file .*nope.csv.* not found"):
        load_table(str(tmp_path / "nope.csv"), role="data.test")


def test_a_header_written_twice_is_refused_naming_it_and_the_file(tmp_path, cli, write_yaml):
    # pandas read the second 'a' as 'a.1', silently: data.features [a] then took the first of two.
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a,y\n" + "".join(f"{i},{i % 3},{-i},{i % 2}\n" for i in range(40)))
    for loader, role in ((load_table, "data.source"), (read_input_table, "input file")):
        with pytest.raises(UserError) as exc:
            loader(str(path))
        msg = str(exc.value)
        assert msg.startswith(f"{role}: file {str(path)!r} has a column header written more than once "
                              f"('a' in columns 1 and 3)") and "unique header" in msg, msg
    code, _, err = cli("train", write_yaml({"data": {"source": str(path), "target": "y", "features": ["a"]},
                                            "training": {"epochs": 1}}), "--out", tmp_path / "r", "-q")
    assert code == 2 and "Traceback" not in err and "'a' in columns 1 and 3" in err and not (tmp_path / "r").exists()
    pq = tmp_path / "dup.parquet"
    import pyarrow as pa
    import pyarrow.parquet

    pyarrow.parquet.write_table(pa.table([[1, 2], [3, 4], [0, 1]], names=["x", "x", "y"]), pq)
    with pytest.raises(UserError, match=r"data.source: file .*dup.parquet' has a column header written more than "
                                        r"once \('x' in columns 1 and 2\)"):
        load_table(str(pq))
    # A column really named a.1 beside a is no repeat.
    (tmp_path / "dots.csv").write_text("a,a.1,y\n1,2,0\n3,4,1\n")
    assert list(load_table(str(tmp_path / "dots.csv")).columns) == ["a", "a.1", "y"]


def test_unknown_extension_lists_valid_and_hints_builtin():
    with pytest.raises(UserError, match=r"unsupported file type '.txt'.*\.csv, \.parquet, \.npz"):
        load_table("data.txt")
    with pytest.raises(UserError, match="did you mean builtin:iris"):
        load_table("iris")


def test_unreadable_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(UserError, match=r"data.source: could not read .*bad.parquet.* as parquet"):
        load_table(str(path))


def test_read_input_table(tmp_path):
    path = tmp_path / "in.csv"
    _frame().to_csv(path, index=False)
    assert len(read_input_table(str(path))) == 3
    with pytest.raises(UserError, match=r"input file: file .*missing.parquet.* not found"):
        read_input_table(str(tmp_path / "missing.parquet"))
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(UserError, match="empty"):
        read_input_table(str(tmp_path / "e.csv"))


def test_garbage_npz_is_user_error(tmp_path):
    path = tmp_path / "g.npz"
    path.write_bytes(b"garbage")
    with pytest.raises(UserError, match="not a numpy .npz archive"):
        load_table(str(path))


def test_a_3d_npz_read_as_a_table_points_to_data_kind(tmp_path, cli, write_yaml):
    np.savez(tmp_path / "seq.npz", x=np.zeros((20, 5, 2), dtype=np.float32), y=np.arange(20) % 2)
    path = write_yaml({"data": {"source": str(tmp_path / "seq.npz")}, "model": {"type": "mlp"}})
    code, _, err = cli("train", path, "--out", str(tmp_path / "r"))
    assert code == 2 and "data.kind: sequence" in err and "Traceback" not in err
