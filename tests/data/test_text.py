import json

import numpy as np
import pandas as pd
import pytest

from trainwell.config import load_config
from trainwell.data import load_inputs, load_labelled, prepare
from trainwell.data.text import CLS, PAD, SPECIALS, UNK, build_vocab, encode, tokenize
from trainwell.errors import UserError

WORDS = {"good": "pos", "great": "pos", "bad": "neg", "awful": "neg"}


@pytest.fixture
def text_csv(tmp_path):
    """90 short texts in 2 classes by keyword, plus 3 empty ones and a missing one."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(90):
        word = rng.choice(list(WORDS))
        rows.append((f"The item {i} was {word}!", WORDS[word]))
    # Two missing texts (pandas reads "" as NaN too) and a blank one; distinct rows, so none is a duplicate.
    rows += [("", "pos"), ("   ", "neg"), (None, "neg"), ("x " * 40, "neg")]
    path = tmp_path / "texts.csv"
    pd.DataFrame(rows, columns=["body", "label"]).to_csv(path, index=False)
    return path


def _data_cfg(path, **text):
    return load_config({"data": {"source": str(path), "target": "label",
                                 "text": {"column": "body", "max_len": 6, **text}}}).data


def test_tokenizer_lowercases_and_splits_punctuation():
    assert tokenize(["Isn't it GOOD?!"]) == [["isn", "'", "t", "it", "good", "?", "!"]]
    assert tokenize(["Good"], lowercase=False) == [["Good"]]
    assert tokenize([None, float("nan"), "", "  "]) == [[], [], [], []]


def test_vocab_order_min_freq_and_size():
    tokens = [["b", "a", "c"], ["a", "b", "d"], ["a"]]
    assert build_vocab(tokens, 100, 1) == SPECIALS + ["a", "b", "c", "d"]  # count, then alphabetical
    assert build_vocab(tokens, 100, 2) == SPECIALS + ["a", "b"]
    assert build_vocab(tokens, 4, 1) == SPECIALS + ["a"]  # vocab_size counts the specials


def test_encode_pads_truncates_and_counts():
    vocab = SPECIALS + ["a", "b"]
    x, counts = encode([["a", "b", "zzz"], [], ["a"] * 5], vocab, 4)
    assert x.dtype == np.int64 and x.shape == (3, 4)
    assert x[0].tolist() == [3, 4, UNK, PAD]
    assert x[1].tolist() == [PAD] * 4
    assert x[2].tolist() == [3] * 4
    # lengths 3, 0 and 5: 7 of 8 tokens kept, and the 99th percentile of the lengths is 4.96 -> 5
    assert counts == {"tokens": 8, "kept": 7, "unknown": 1, "truncated": 1, "empty": 1, "length_p99": 5}
    assert CLS not in x  # reserved for the model's cls pooling


def test_prepare_fits_vocab_on_train_only(text_csv):
    prepared = prepare(_data_cfg(text_csv), seed=0)
    spec, state = prepared.spec, prepared.state
    assert spec.kind == "text" and state["kind"] == "text"
    assert spec.input_shape == [6] and spec.n_features == 6 and spec.feature_names == ["tokens"]
    assert spec.vocab_size == len(state["text"]["vocab"])
    assert spec.column_types == {"body": "text"} and spec.classes == ["neg", "pos"]
    vocab = set(state["text"]["vocab"])
    for split in ("val", "test"):
        arrays = getattr(prepared, split)
        assert arrays.x.dtype == np.int64 and arrays.x.shape[1] == 6
        assert arrays.x.max() < spec.vocab_size
    assert {"the", "item", "was", "!"} <= vocab
    assert "<pad>" == state["text"]["vocab"][PAD]
    assert set(prepared.report["text"]) >= {"vocab_size", "unknown_rate", "truncated", "empty"}
    assert sum(prepared.report["text"]["empty"].values()) == 3  # "", "   " and the missing one
    assert sum(prepared.report["text"]["truncated"].values()) == 1
    assert prepared.report["kind"] == "text" and set(prepared.report["class_counts"]) == {"train", "val", "test"}
    # Item numbers are unique per row: those outside train are <unk>, those in train are in the vocabulary.
    assert prepared.report["text"]["unknown_rate"]["test"] > 0 == prepared.report["text"]["unknown_rate"]["train"]


def test_token_only_outside_train_is_unknown(tmp_path):
    train = pd.DataFrame({"body": ["good day", "bad day"] * 10, "label": ["pos", "neg"] * 10})
    test = pd.DataFrame({"body": ["good zebra"], "label": ["pos"]})
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    cfg = load_config({"data": {"source": str(tmp_path / "train.csv"), "test": str(tmp_path / "test.csv"),
                                "target": "label", "clean": {"drop_duplicates": False},
                                "split": {"train": 0.8, "val": 0.2, "test": 0.0},
                                "text": {"column": "body", "max_len": 4}}}).data
    prepared = prepare(cfg, seed=0)
    vocab = prepared.state["text"]["vocab"]
    assert "zebra" not in vocab
    assert prepared.test.x[0].tolist() == [vocab.index("good"), UNK, PAD, PAD]
    assert prepared.report["text"]["unknown_rate"]["test"] == 0.5
    assert prepared.report["text"]["unknown_rate"]["train"] == 0.0


def test_state_json_round_trip_gives_identical_ids(text_csv):
    prepared = prepare(_data_cfg(text_csv), seed=0)
    state = json.loads(json.dumps(prepared.state))
    frame = pd.read_csv(text_csv)
    x, ids = load_inputs(state, frame)
    x2, _ = load_inputs(prepared.state, text_csv)
    assert np.array_equal(x, x2)
    assert list(ids.columns) == [] and ids.index.equals(frame.index)
    # The same rows through prepare and through load_inputs give the same ids.
    xl, y = load_labelled(state, frame)
    assert np.array_equal(xl, x) and y.dtype == np.int64
    assert set(map(tuple, prepared.train.x.tolist())) <= set(map(tuple, x.tolist()))


def test_missing_text_column_names_it(text_csv):
    prepared = prepare(_data_cfg(text_csv), seed=0)
    with pytest.raises(UserError, match="'body'"):
        load_inputs(prepared.state, pd.DataFrame({"text": ["good"]}))
    with pytest.raises(UserError, match="data.text.column.*'bdy'"):
        prepare(load_config({"data": {"source": str(text_csv), "target": "label",
                                      "text": {"column": "bdy"}}}).data, seed=0)


def test_classes_train_fraction_and_imbalance(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.choice(["a", "b", "c"], 150, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame({"body": [f"word{l} filler {i}" for i, l in enumerate(labels)], "label": labels})
    frame.to_csv(tmp_path / "t.csv", index=False)
    cfg = load_config({"data": {"source": str(tmp_path / "t.csv"), "target": "label", "classes": ["a", "b"],
                                "train_fraction": 0.5, "imbalance": "oversample",
                                "text": {"column": "body", "max_len": 3}}}).data
    prepared = prepare(cfg, seed=0)
    assert prepared.spec.classes == ["a", "b"]
    assert prepared.report["train_fraction"]["rows_after"] < prepared.report["train_fraction"]["rows_before"]
    counts = np.bincount(prepared.train.y)
    assert counts[0] == counts[1]  # oversampled


def test_regression_target(tmp_path):
    frame = pd.DataFrame({"body": [f"score {i % 9} words" for i in range(60)], "y": [float(i % 9) * 1.5 for i in range(60)]})
    frame.to_csv(tmp_path / "r.csv", index=False)
    cfg = load_config({"data": {"source": str(tmp_path / "r.csv"), "target": "y", "task": "regression",
                                "clean": {"drop_duplicates": False}, "text": {"column": "body"}}}).data
    prepared = prepare(cfg, seed=0)
    assert prepared.spec.task == "regression" and prepared.train.y.dtype == np.float32


@pytest.mark.parametrize("augment", [{"hflip": True}, {"rotation": 10}])
def test_geometric_augmentation_on_text_does_not_send_the_user_to_noise(text_csv, write_yaml, cli, tmp_path, augment):
    """The message said 'only data.augment.noise applies to it', and noise on text is refused in turn."""
    cfg = {"data": {"source": str(text_csv), "target": "label", "text": {"column": "body", "max_len": 6},
                    "augment": augment},
           "model": {"type": "transformer", "d_model": 8, "heads": 2, "layers": 1, "ff": 16}, "training": {"epochs": 1}}
    code, _, err = cli("train", write_yaml(cfg), "--out", tmp_path / "run", "-q")
    assert code == 2 and "Traceback" not in err and "data.augment" in err
    assert "noise applies" not in err and "remove data.augment" in err
