"""Row-level cleaning and column typing, before the split. Every step is counted.

Column typing (decided once, on the loaded source, and stored in the fitted state):

* A column with a numeric (or bool) dtype is numeric.
* A text column (object / string / category / anything else) where at least 95% of the
  non-empty values parse as numbers is numeric too: real-world CSVs often hold a few stray
  strings ("?", "n/a", "12 kg") in a numeric column, and one of them must not turn a measurement
  into a thousand one-hot columns. The unparseable values become NaN (then imputed like any
  missing value) and are counted per column in report["coerced"]. Infinities count as coerced
  too, since no scaler can use them.
* Every other text column is categorical. Empty or whitespace-only strings are missing values;
  the transforms encode missing categorical values as their own category "<missing>".
* A categorical column with more distinct values than data.max_categories is rejected with a
  UserError instead of being one-hot encoded: it is almost always an ID or free text, and
  silently widening the network by thousands of inputs hides that mistake.

The same rule applies to the target (so "1", "2", "?" is a numeric target with one coerced
value), except when the task is forced to binary/multiclass: then text labels stay text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ..errors import UserError

NUMERIC_SHARE = 0.95


def to_text(series: pd.Series) -> pd.Series:
    """Values as str (object dtype), missing and blank strings as NaN."""
    s = series
    if ptypes.is_bool_dtype(s):
        s = s.astype(object)
    elif ptypes.is_numeric_dtype(s):
        # Integers read as float (because of a NaN) should still print as "3", not "3.0".
        f = s.astype("float64")
        obs = f.dropna()
        if len(obs) and np.isfinite(obs).all() and (obs % 1 == 0).all():
            s = f.astype("Int64")
        else:
            s = f
    elif ptypes.infer_dtype(s, skipna=True) in ("floating", "mixed-integer-float", "mixed-integer", "mixed"):
        # Numbers that reached an object column one by one (JSON to the server): 101.0 names the
        # same code as 101 (a numeric column read as categories, data.categorical).
        s = s.map(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)
    mask = s.notna().to_numpy()
    values = np.full(len(s), np.nan, dtype=object)
    if mask.any():
        text = s[mask].astype(str).astype(object)
        blank = (text.str.strip() == "").to_numpy()
        # Filled by position in numpy: an index-aligned Series assignment costs far more.
        values[np.flatnonzero(mask)[~blank]] = text.to_numpy()[~blank]
    return pd.Series(values, index=series.index, dtype=object)


def normalize_text(text: pd.Series) -> tuple[pd.Series, int]:
    """Strip and lowercase (so ' Red' == 'red'); returns the values and how many changed."""
    normalized = text.str.strip().str.lower()
    changed = int((text.notna() & (normalized != text)).sum())
    return normalized, changed


def is_numeric_series(series: pd.Series) -> bool:
    """A numeric or bool dtype: its values convert to float64 without parsing any text."""
    return ptypes.is_bool_dtype(series) or ptypes.is_numeric_dtype(series)


def _float_array(series: pd.Series) -> np.ndarray:
    """A numeric/bool series as a fresh (writable) float64 array."""
    if isinstance(series.dtype, np.dtype):
        # Plain numpy dtype: cast the array directly, skipping pandas' astype machinery.
        return series.to_numpy().astype(np.float64)
    # Extension dtypes (Int64, Float64, boolean, ...): pandas maps their NA to NaN.
    return series.astype("float64").to_numpy(copy=True)


def _bools_as_numbers(series: pd.Series) -> pd.Series:
    """A column of True/False with a missing cell, as pandas reads one (object dtype: bools and NaN),
    as 1.0/0.0/NaN: a full column of them has a bool dtype, which is numeric, so a model trained on
    one must take the same values in new rows where a cell is empty."""
    if series.dtype == object and ptypes.infer_dtype(series, skipna=True) == "boolean":
        return series.map({True: 1.0, False: 0.0}).astype("float64")
    return series


def coerce_numeric_array(series: pd.Series) -> tuple[np.ndarray, int]:
    """Like coerce_numeric, but returns a float64 numpy array (a new one, safe to modify)."""
    series = _bools_as_numbers(series)
    if is_numeric_series(series):
        # Fast path: nothing to parse; only infinities can be bad.
        values = _float_array(series)
        bad = np.isinf(values)
    else:
        text = to_text(series)
        values = pd.to_numeric(text.str.strip(), errors="coerce").astype("float64").to_numpy(copy=True)
        # A present value that ends up NaN (unparseable) or infinite is coerced.
        bad = text.notna().to_numpy() & ~np.isfinite(values)
    values[bad] = np.nan
    return values, int(np.count_nonzero(bad))


def unreadable_numbers(series: pd.Series) -> np.ndarray:
    """Positions (0-based) of present values that are not finite numbers: the values
    coerce_numeric would turn into NaN and count as coerced. Missing and blank values are not
    among them (they are missing, not unreadable)."""
    series = _bools_as_numbers(series)
    if is_numeric_series(series):
        return np.flatnonzero(np.isinf(_float_array(series)))
    text = to_text(series)
    values = pd.to_numeric(text.str.strip(), errors="coerce").astype("float64").to_numpy()
    return np.flatnonzero(text.notna().to_numpy() & ~np.isfinite(values))


def refuse_unreadable_numbers(frame: pd.DataFrame, columns: list[str], where: str, missing_hint: dict[str, str],
                              examples: int = 5) -> None:
    """New rows for a trained model (predict, evaluate --data): a value in a numeric column that
    cannot be read as a finite number is a UserError naming the column, the row and the value.

    Training coerces such values to missing (a column is numeric when 95% of its values parse,
    and the few strays are imputed: the column's type is being decided over many rows). At
    prediction time the type is fixed and each row gets its own answer, so an "abc" where a number
    belongs would silently become the training median; the REST server answers the same value
    with a 422, and this is its twin for files and DataFrames. Rows are counted from 1, the
    header not counted (row 1 is line 2 of a CSV). missing_hint[column] says what an empty cell
    would do (imputed, or refused when training imputed nothing)."""
    problems = []
    for col in columns:
        if col not in frame.columns:
            continue  # a missing column has its own message
        series = frame[col]
        if isinstance(series, pd.DataFrame):  # a repeated column name: its first copy
            series = series.iloc[:, 0]
        bad = unreadable_numbers(series.reset_index(drop=True))
        if not len(bad):
            continue
        shown = ", ".join(f"row {i + 1}: {_short(series.iloc[i])}" for i in bad[:examples])
        more = f" and {len(bad) - examples} more" if len(bad) > examples else ""
        hint = missing_hint.get(col)
        problems.append(f"column {col!r} takes numbers, but {len(bad)} value{'s' if len(bad) > 1 else ''} "
                        f"cannot be read as a finite number ({shown}{more})" + (f"; {hint}" if hint else ""))
    if problems:
        raise UserError(f"{where}: " + "; ".join(problems) + ". Rows are counted from 1 below the header (row 1 "
                        "is line 2 of a CSV). Write a number in each of these cells")


def _short(value) -> str:
    text = repr(value.item() if hasattr(value, "item") else value)
    return text if len(text) <= 40 else text[:37] + "..."


def coerce_numeric(series: pd.Series) -> tuple[pd.Series, int]:
    """Values as float64; unparseable text and infinities become NaN and are counted."""
    values, coerced = coerce_numeric_array(series)
    # Same index as the input; the name survives only a numeric dtype (parsed text never had it).
    name = series.name if is_numeric_series(series) else None
    return pd.Series(values, index=series.index, name=name), coerced


def _positional(series: pd.Series) -> pd.Series:
    """The series with a 0..n-1 index where it matters: text handling aligns on the index (which
    may repeat labels in a caller's frame); numeric dtypes go straight to numpy, so skip the copy."""
    return series if is_numeric_series(series) else series.reset_index(drop=True)


def _all_plain_numeric(frame: pd.DataFrame) -> bool:
    """Every column has a numpy bool/int/uint/float dtype (no NA sentinels, no text)."""
    return all(isinstance(dt, np.dtype) and dt.kind in "biuf" for dt in frame.dtypes)


def numeric_matrix(df: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[int]]:
    """The columns coerced to float64 and stacked as one (rows, columns) array, plus how many
    values each column had coerced to NaN.

    Column-major, so each column is a contiguous slice: per-column statistics then see exactly
    the same arrays as when each column was handled on its own.
    """
    if df.columns.is_unique:  # (repeated names would select extra columns)
        block = df[columns]
        if _all_plain_numeric(block):
            # Fast path (e.g. every split after cleaning): one conversion for all columns, and
            # the only values to coerce are infinities.
            matrix = np.array(block.to_numpy(dtype=np.float64), order="F")  # a writable copy
            bad = np.isinf(matrix)
            matrix[bad] = np.nan
            return matrix, bad.sum(axis=0).tolist()
    matrix = np.empty((len(df), len(columns)), dtype=np.float64, order="F")
    coerced = []
    for j, col in enumerate(columns):
        matrix[:, j], n = coerce_numeric_array(_positional(df[col]))
        coerced.append(n)
    return matrix, coerced


def column_kind(series: pd.Series) -> str:
    """'numeric' or 'categorical', by the rule in the module docstring."""
    if is_numeric_series(series):
        return "numeric"
    text = to_text(series).dropna()
    if len(text) == 0:
        return "numeric"  # all missing: nothing to one-hot; imputation fills it
    parsed = pd.to_numeric(text.str.strip(), errors="coerce")
    share = float(parsed.notna().mean())
    return "numeric" if share >= NUMERIC_SHARE else "categorical"


def infer_column_types(df: pd.DataFrame, columns: list[str]) -> dict[str, str]:
    return {c: column_kind(df[c]) for c in columns}


def type_columns(df: pd.DataFrame, kinds: dict[str, str], normalize: bool) -> tuple[pd.DataFrame, dict, dict]:
    """Numeric columns -> float64 (coerced), categorical -> cleaned text.

    Returns the frame, {column: values coerced to NaN} and {column: values normalized}.
    """
    numeric = [col for col, kind in kinds.items() if kind == "numeric"]
    matrix, counts = numeric_matrix(df, numeric)
    typed = dict(zip(numeric, matrix.T))
    coerced = {col: n for col, n in zip(numeric, counts) if n}
    normalized = {}
    for col, kind in kinds.items():
        if kind != "numeric":
            text = to_text(df[col])
            if normalize:
                text, normalized[col] = normalize_text(text)
            typed[col] = text
    # Built in one constructor call rather than column by column: same-dtype columns then share
    # one block, so the later row selections (dedup, split) copy a few arrays, not one per column.
    out = pd.DataFrame({c: typed[c] if c in typed else df[c] for c in df.columns},
                       index=df.index, columns=df.columns)
    return out, coerced, normalized


def clean_rows(df: pd.DataFrame, target: str, clean, role: str = "data.source") -> tuple[pd.DataFrame, dict]:
    """Drop duplicate rows and rows without a target, as switched on in `clean` (a Clean model).
    Duplicates only in data.source: a separate validation or test file is scored as given, and its
    repeated rows are part of what it measures (deduplicating a test file changed the test set)."""
    counts = {"duplicates_dropped": 0, "missing_target_dropped": 0}
    if clean.drop_duplicates and role == "data.source":
        before = len(df)
        df = df.drop_duplicates()
        counts["duplicates_dropped"] = before - len(df)
    missing = df[target].isna()
    n_missing = int(missing.sum())
    if n_missing:
        if not clean.drop_missing_target:
            raise UserError(
                f"data.target: column {target!r} has {n_missing} missing values"
                f"{'' if role == 'data.source' else f' in {role}'}; turn on "
                "data.clean.drop_missing_target or fill them")
        df = df[~missing]
        counts["missing_target_dropped"] = n_missing
    return df.reset_index(drop=True), counts


def clean_table(df: pd.DataFrame, target: str, kinds: dict[str, str], clean,
                role: str = "data.source") -> tuple[pd.DataFrame, dict, dict]:
    """Type every column (features and target, per `kinds`), then drop rows.

    Returns (frame, cleaning counts, coerced counts).
    """
    typed, coerced, normalized = type_columns(df, kinds, clean.normalize_categories)
    cleaned, counts = clean_rows(typed, target, clean, role)
    counts["categories_normalized"] = normalized
    return cleaned, counts, coerced


def check_max_categories(df: pd.DataFrame, kinds: dict[str, str], max_categories: int,
                         skip: tuple[str, ...] = (), declared: tuple[str, ...] | list[str] = ()) -> None:
    """Reject ID-like / free-text columns, all at once."""
    problems = []
    for col, kind in kinds.items():
        if kind != "categorical" or col in skip:
            continue
        n = int(df[col].nunique(dropna=True))
        if n > max_categories:
            problems.append((col, n))
    named = [(c, n) for c, n in problems if c in declared]
    if named:
        # the user made these categorical: the advice is about that key, not about data.features
        listed = ", ".join(f"{c!r} has {n} distinct values" for c, n in named)
        raise UserError(
            f"data.categorical: {listed}, over data.max_categories ({max_categories}); each value would "
            f"become its own one-hot column. A number with this many values is usually a measurement: "
            f"take it out of data.categorical to read it as a number, or raise data.max_categories to at "
            f"least {max(n for _, n in named)}.")
    if problems:
        listed = ", ".join(f"{c!r} has {n} distinct values" for c, n in problems)
        highest = max(n for _, n in problems)
        # sentences (a median of 3 words or more) are text to learn from, not an ID
        prose = [c for c, _ in problems
                 if df[c].dropna().astype(str).str.split().str.len().median() >= 3]
        hint = (f" To learn from {prose[0]!r} as text, set data.text.column: {prose[0]} (a text classifier or "
                f"regressor on that column alone)." if prose else "")
        strays = "".join(_mostly_numeric_hint(df[c]) for c, _ in problems)
        raise TooManyCategories(
            f"data.features: text column(s) with too many categories: {listed} "
            f"(data.max_categories is {max_categories}). Such columns are usually IDs or free text. "
            f"List data.features without {'it' if len(problems) == 1 else 'them'}, "
            f"or raise data.max_categories to at least {highest}.{hint}{strays}", [c for c, _ in problems], listed,
            strays)


class TooManyCategories(UserError):
    """check_max_categories' refusal, with its parts: `auto` has no data.features or
    data.max_categories to set, so it words the advice itself from `listed` (the columns and their
    counts) and `strays` (how to clean a mostly numeric column, which any user can follow)."""

    def __init__(self, message: str, columns: list[str], listed: str, strays: str):
        self.columns, self.listed, self.strays = columns, listed, strays
        super().__init__(message)


def _mostly_numeric_hint(column: pd.Series) -> str:
    """For a column rejected as text that is mostly numbers: the real problem is a few stray cells,
    not an ID column, and the fix is to clean those cells."""
    present = column.dropna().astype(str).str.strip()
    present = present[present != ""]
    parsed = pd.to_numeric(present, errors="coerce")
    share = float(parsed.notna().mean()) if len(present) else 0.0
    if share < 0.5:
        return ""
    stray = present[parsed.isna()]
    shown = ", ".join(repr(v) for v in stray.value_counts().index[:5])
    return (f" But {column.name!r} is {share:.0%} numbers: a column is read as numeric when at least "
            f"{NUMERIC_SHARE:.0%} of its values parse, and {len(stray)} of its {len(present)} values do not "
            f"(such as {shown}). Empty those cells in the file (an empty cell is a missing value, imputed as "
            f"data.clean.impute says), or correct them.")
