"""Text classification (or regression) from a table with a text column: tokenize -> vocabulary
fitted on the training split -> fixed-length int64 token ids.

The tokenizer is a few lines on purpose: nothing is downloaded, so there is no pretrained
vocabulary to fetch, and a whole tokenizer library would be one more dependency for one regex.

* Lowercase (data.text.lowercase), then split with TOKEN_PATTERN: runs of word characters, or
  any single character that is neither a word character nor whitespace. So "Isn't great!" ->
  ["isn", "'", "t", "great", "!"]: punctuation and the pieces of a contraction are tokens of
  their own, which keeps "not"-like signals visible to the model.
* Vocabulary, from the TRAINING split only: tokens seen at least data.text.min_freq times, most
  frequent first, ties broken alphabetically (so the same data always gives the same ids), cut so
  that the whole vocabulary, the specials included, holds at most data.text.vocab_size entries.
* Ids: 0 = <pad>, 1 = <unk>, 2 = <cls> (reserved for the transformer's cls pooling; never
  produced by the tokenizer), then the tokens. A token outside the vocabulary becomes <unk>;
  the share of such tokens is reported per split.
* Texts longer than data.text.max_len tokens keep their first max_len tokens (counted per
  split); shorter ones are padded with 0 at the end.
* A missing (NaN) or blank text is kept, as an all-padding row, and counted per split as
  "empty": dropping it would make predict() silently return fewer rows than it was given, and
  the network handles an all-padding row (it pools to zeros, so it predicts from the head's
  bias alone: roughly the class prior).

The fitted vocabulary, max_len, lowercase and the pattern are saved in the JSON state, so
predict tokenizes exactly as training did.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict

import numpy as np
import pandas as pd

from ..errors import UserError
from .clean import clean_table
from .prepare import (DataSpec, Prepared, SplitArrays, _class_count_dict, _imbalance_note, _load_extra_files,
                      split_frames,
                      _rebalance, _resolve_target, _resolve_task, _suggest, _target_kind)
from .sampling import check_imbalance_setting
from .sources import load_table, read_input_table
from .subset import class_mask
from .transforms import STATE_FORMAT, fit_target, raw_target, transform_target

__all__ = ["prepare_text", "load_inputs", "load_labelled", "tokenize", "build_vocab", "encode",
           "TOKEN_PATTERN", "SPECIALS", "PAD", "UNK", "CLS"]

TOKEN_PATTERN = r"\w+|[^\w\s]"
SPECIALS = ["<pad>", "<unk>", "<cls>"]
PAD, UNK, CLS = 0, 1, 2
SPLITS = ("train", "val", "test")


# ----------------------------------------------------------------------------- tokenizer
def tokenize(texts, lowercase: bool = True, pattern: str = TOKEN_PATTERN) -> list[list[str]]:
    """One token list per text; NaN, None and blank strings give an empty list."""
    regex = re.compile(pattern)
    out = []
    for t in texts:
        if t is None or (isinstance(t, float) and np.isnan(t)):
            out.append([])
            continue
        s = str(t)
        out.append(regex.findall(s.lower() if lowercase else s))
    return out


def build_vocab(token_lists: list[list[str]], vocab_size: int, min_freq: int) -> list[str]:
    """Specials, then the most frequent tokens (count >= min_freq; ties alphabetical), in id order.

    vocab_size bounds the whole list, the specials included, so it is the embedding table's size.
    """
    return _vocab(Counter(tok for toks in token_lists for tok in toks), vocab_size, min_freq)


def _vocab(counts: Counter, vocab_size: int, min_freq: int) -> list[str]:
    ranked = sorted((tok for tok, n in counts.items() if n >= min_freq), key=lambda tok: (-counts[tok], tok))
    return SPECIALS + ranked[:max(0, vocab_size - len(SPECIALS))]


def encode(token_lists: list[list[str]], vocab: list[str], max_len: int) -> tuple[np.ndarray, dict]:
    """Token lists -> int64 ids (n, max_len), padded with 0; and counts of what happened.

    counts: tokens (all, before truncation), kept (after it), unknown (of all), truncated and empty
    (texts), and the 99th percentile of the texts' lengths in tokens.
    """
    # The pattern never yields "<pad>"-like tokens ("<", "pad", ">"), so specials cannot collide.
    index = {tok: i for i, tok in enumerate(vocab)}
    x = np.zeros((len(token_lists), max_len), dtype=np.int64)
    n_tokens = n_unknown = n_truncated = n_empty = n_kept = 0
    for i, toks in enumerate(token_lists):
        ids = [index.get(tok, UNK) for tok in toks]
        n_tokens += len(ids)
        n_unknown += sum(1 for j in ids if j == UNK)
        n_empty += not ids
        if len(ids) > max_len:
            n_truncated += 1
            ids = ids[:max_len]
        x[i, :len(ids)] = ids
        n_kept += len(ids)
    p99 = int(np.ceil(np.percentile([len(t) for t in token_lists], 99))) if token_lists else 0
    return x, {"tokens": n_tokens, "kept": n_kept, "unknown": n_unknown, "truncated": n_truncated,
               "empty": n_empty, "length_p99": p99}


def _encode_texts(text_state: dict, values) -> tuple[np.ndarray, dict]:
    tokens = tokenize(values, text_state["lowercase"], text_state["pattern"])
    return encode(tokens, text_state["vocab"], text_state["max_len"])


# ----------------------------------------------------------------------------- prepare
def _text_column(cfg, columns: list[str]) -> str:
    column = cfg.text.column
    if not column:
        raise UserError("data.text.column: required for text data (data.kind: text); name the column "
                        f"that holds the text; columns are: {columns}")
    if column not in columns:
        raise UserError(f"data.text.column: column {column!r} not found{_suggest(column, columns)}; "
                        f"columns are: {columns}")
    return column


def _clean(cfg, frame: pd.DataFrame, target: str, target_kind: str, role: str) -> tuple[pd.DataFrame, dict]:
    """Type the target and drop duplicate / unlabelled rows (clean_table); the text is left as is."""
    cleaned, counts, coerced = clean_table(frame, target, {target: target_kind}, cfg.clean, role=role)
    if coerced:
        counts["target_coerced"] = int(sum(coerced.values()))
    if len(cleaned) == 0:
        raise UserError(f"{role}: no rows left after cleaning ({counts}); check data.target {target!r}")
    return cleaned, counts


# Text columns besides data.text.column named in the data report, at most.
OTHER_TEXT_COLUMNS = 8


def prepare_text(cfg, seed: int) -> Prepared:
    """cfg (a DataConfig) -> token ids per split; the vocabulary is fitted on train only."""
    notes: list[str] = []
    report: dict = {"source": cfg.source, "val_source": cfg.val, "test_source": cfg.test, "kind": "text"}
    source = load_table(cfg.source, "data.source")
    source.columns = source.columns.map(str)
    report["rows_loaded"] = len(source)
    columns = list(source.columns)
    column = _text_column(cfg, columns)
    target = _resolve_target(cfg, columns)
    if target == column:
        raise UserError(f"data.target: {target!r} is also data.text.column; the target must be another column")
    if cfg.features is not None and list(cfg.features) != [column]:
        notes.append(f"data.features is ignored for text data: the only input is data.text.column {column!r}")
    files = _load_extra_files(cfg, [column, target])

    target_kind = _target_kind(source[target], cfg.task, target)
    cleaned, report["cleaning"] = _clean(cfg, source[[column, target]], target, target_kind, "data.source")
    if cfg.classes is not None:
        keep = class_mask(cleaned[target].to_numpy(), cfg.classes)
        report["cleaning"]["other_classes_dropped"] = int((~keep).sum())
        cleaned = cleaned[keep].reset_index(drop=True)
    task, classes, label_kind = _resolve_task(cleaned[target], target_kind, cfg.task, target, notes)
    check_imbalance_setting(cfg.imbalance, task)
    frames_from_files = {}
    for role, frame in files.items():
        frames_from_files[role], counts = _clean(cfg, frame, target, target_kind, f"data.{role}")
        report["cleaning"].setdefault("files", {})[role] = counts
    report.update(task=task, task_inferred=cfg.task == "auto", target=target, text_column=column,
                  # the doctor's: where the text column says nothing, whether another one of the file does
                  other_text_columns=[c for c in columns if c not in (column, target)
                                      and not pd.api.types.is_numeric_dtype(source[c])][:OTHER_TEXT_COLUMNS])

    frames = split_frames(cfg, cleaned, target, classes, frames_from_files, seed, notes, report)

    text_cfg = cfg.text
    train_tokens = tokenize(frames["train"][column], text_cfg.lowercase)
    seen = Counter(tok for toks in train_tokens for tok in toks)
    vocab = _vocab(seen, text_cfg.vocab_size, text_cfg.min_freq)
    if len(vocab) == len(SPECIALS):
        raise UserError(f"data.text.min_freq: no training token occurs {text_cfg.min_freq} or more times, so the "
                        f"vocabulary is empty; lower data.text.min_freq (column {column!r})")
    spec = DataSpec(task=task, target=target, input_columns=[column], column_types={column: "text"},
                    feature_names=["tokens"], n_features=text_cfg.max_len, classes=classes,
                    n_outputs=1 if classes is None else len(classes), kind="text",
                    input_shape=[text_cfg.max_len], vocab_size=len(vocab))
    train_raw = frames["train"][target].to_numpy(dtype="float64") if classes is None else np.empty(0)
    state = {"kind": "text", "format": STATE_FORMAT, "spec": asdict(spec),
             "text": {"column": column, "vocab": vocab, "max_len": text_cfg.max_len,
                      "lowercase": bool(text_cfg.lowercase), "pattern": TOKEN_PATTERN},
             "target": fit_target(task, classes, train_raw, label_kind, cfg)}

    arrays, stats = {}, {"unknown_rate": {}, "truncated": {}, "empty": {}, "kept_share": {}, "length_p99": {}}
    report["rows"] = {}
    for split in SPLITS:
        if split not in frames:
            continue
        frame = frames[split]
        tokens = train_tokens if split == "train" else tokenize(frame[column], text_cfg.lowercase)
        x, counts = encode(tokens, vocab, text_cfg.max_len)
        role = f"data.{split}" if report.get(f"{split}_source") else "data.source"
        try:
            y, y_raw = transform_target(state, frame[target]), raw_target(state, frame[target])
        except UserError as exc:
            raise UserError(f"{role}: {exc}") from None
        arrays[split] = SplitArrays(x=x, y=y, y_raw=y_raw)
        report["rows"][split] = len(frame)
        stats["unknown_rate"][split] = round(counts["unknown"] / counts["tokens"], 6) if counts["tokens"] else 0.0
        stats["truncated"][split] = counts["truncated"]
        stats["empty"][split] = counts["empty"]
        stats["kept_share"][split] = round(counts["kept"] / counts["tokens"], 4) if counts["tokens"] else 1.0
        stats["length_p99"][split] = counts["length_p99"]
    # Words the training texts use more than once, and how many of them the vocabulary leaves out
    # (min_freq, vocab_size): hapaxes aside, these are the words a model could learn from.
    kept = set(vocab)
    repeated = [t for t, n in seen.items() if n >= 2]
    report["text"] = {"vocab_size": len(vocab), "tokens_in_train": len(seen),
                      "max_len": text_cfg.max_len, "min_freq": text_cfg.min_freq,
                      "vocab_limit": text_cfg.vocab_size,
                      "repeated_words": len(repeated), "repeated_dropped": sum(t not in kept for t in repeated),
                      **stats}
    _text_notes(report, notes)
    if classes is not None:
        report["class_counts"] = {s: _class_count_dict(a.y, classes) for s, a in arrays.items()}
        _imbalance_note(arrays["train"].y, classes, notes, cfg.imbalance)
    train, weights = _rebalance(cfg, arrays["train"], classes, seed, report)
    report["notes"] = notes
    return Prepared(spec=spec, train=train, val=arrays.get("val"), test=arrays.get("test"),
                    state=state, report=report, class_weights=weights)


def _text_notes(report: dict, notes: list) -> None:
    text, rows = report["text"], report["rows"]
    empty = {s: n for s, n in text["empty"].items() if n}
    if empty:
        notes.append(f"text: {sum(empty.values())} empty or missing text(s) {empty} are kept as all-padding rows; "
                     "the model predicts them from no words at all")
    truncated = text["truncated"].get("train", 0)
    if truncated > 0.1 * rows["train"]:
        notes.append(f"text: {truncated} of {rows['train']} training texts are longer than data.text.max_len "
                     f"({text['max_len']}) and were cut; consider a larger max_len")
    dropped = text["tokens_in_train"] - (text["vocab_size"] - len(SPECIALS))
    if dropped > 0:
        notes.append(f"text: {dropped} distinct training tokens are outside the vocabulary (data.text.vocab_size / "
                     "min_freq) and read as <unk>")


# ----------------------------------------------------------------------------- new inputs
def _frame(source) -> pd.DataFrame:
    return source if isinstance(source, pd.DataFrame) else read_input_table(str(source))


def _check_text_column(state: dict, frame: pd.DataFrame) -> str:
    column = state["text"]["column"]
    if column not in frame.columns:
        cols = list(map(str, frame.columns))
        raise UserError(f"input data: the text column {column!r} is missing{_suggest(column, cols)}; "
                        f"the model reads its text from it (columns: {cols[:20]})")
    return column


def load_inputs(state: dict, source):
    """A DataFrame or CSV/Parquet path with the text column -> (int64 ids (n, max_len), ids frame)."""
    frame = _frame(source)
    column = _check_text_column(state, frame)
    x, _ = _encode_texts(state["text"], frame[column])
    return x, pd.DataFrame(index=frame.index)


def load_labelled(state: dict, source):
    """A labelled DataFrame or file -> (ids, encoded targets); rows without a target are skipped."""
    frame = _frame(source)
    column = _check_text_column(state, frame)
    target = state["spec"]["target"]
    if target not in frame.columns:
        raise UserError(f"--data: the target column {target!r} is missing; evaluation needs it "
                        f"(columns: {list(frame.columns)[:20]})")
    frame = frame[frame[target].notna()]
    x, _ = _encode_texts(state["text"], frame[column])
    return x, transform_target(state, frame[target])
