import json

import numpy as np
import pytest
import torch
from PIL import Image

from trainwell.config import load_config
from trainwell.data import load_inputs, load_labelled, prepare, resolve_kind
from trainwell.errors import UserError


def _cfg(source, **data):
    return load_config({"data": {"source": str(source), **data}, "model": {"type": "cnn"}}).data


def _prep(source, seed=0, **data):
    return prepare(_cfg(source, **data), seed, "cnn")


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode).save(path)


@pytest.fixture
def gray_folder(tmp_path):
    """Two classes of 8x8 grayscale PNGs: bright squares vs dark squares (6 each)."""
    rng = np.random.default_rng(0)
    root = tmp_path / "gray"
    for label, level in (("bright", 200), ("dark", 40)):
        for i in range(6):
            _save(root / label / f"{i}.png", np.clip(level + rng.normal(0, 10, (8, 8)), 0, 255))
    return root


@pytest.fixture
def digits_npz(tmp_path):
    from sklearn.datasets import load_digits

    d = load_digits()
    path = tmp_path / "digits.npz"
    np.savez(path, x=d.images[:200], y=d.target[:200])
    return path


def _json(obj):
    return json.loads(json.dumps(obj))


# ----------------------------------------------------------------------------- sources
def test_builtin_digits_as_images():
    p = _prep("builtin:digits")
    assert p.train.x.shape[1:] == (1, 8, 8) and p.train.x.dtype == np.float32
    assert sum(p.report["rows"].values()) == 1797
    spec = p.spec
    assert (spec.kind, spec.input_shape, spec.n_features, spec.n_outputs, spec.task) == \
        ("image", [1, 8, 8], 64, 10, "multiclass")
    assert spec.classes == list(range(10)) and spec.target == "label"
    assert p.state["kind"] == "image" and p.state["image"]["size"] == [8, 8]
    assert _json(p.state) == p.state and _json(p.report) == p.report  # JSON-able as it is
    assert p.report["class_counts"]["train"]["3"] == int((p.train.y == 3).sum())
    assert p.train.y.dtype == np.int64


def test_kind_resolves_to_image_for_folders_and_cnn(gray_folder):
    cfg = load_config({"data": {"source": str(gray_folder)}}).data
    assert resolve_kind(cfg, "mlp") == "image"
    assert resolve_kind(load_config({"data": {"source": "builtin:digits"}}).data, "cnn") == "image"
    assert resolve_kind(load_config({"data": {"source": "builtin:digits"}}).data, "mlp") == "tabular"


def test_folder_mixed_sizes_formats_and_an_unreadable_file(tmp_path):
    root = tmp_path / "pics"
    rng = np.random.default_rng(1)
    for i in range(5):
        _save(root / "a" / f"{i}.png", rng.integers(0, 255, (10, 12)))
        (root / "b").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (20 + i, 16), dtype=np.uint8)).save(root / "b" / f"{i}.jpg", quality=90)
    (root / "a" / "broken.png").write_bytes(b"not a png at all")
    (root / "a" / "readme.txt").write_text("ignored: not an image extension")
    (root / "empty_class").mkdir()
    p = _prep(root, split={"train": 0.6, "val": 0.2, "test": 0.2})
    images = p.report["images"]
    assert images["loaded"] == 10 and images["unreadable"] == 1
    assert images["skipped_files"] == ["a/broken.png"]
    assert images["resized"] == 5  # every .jpg differs from the first image's 10x12
    assert p.state["image"]["size"] == [10, 12] and p.train.x.shape[1:] == (1, 10, 12)
    assert p.spec.classes == ["a", "b"] and p.spec.task == "binary"
    notes = " ".join(p.report["notes"])
    assert "empty_class" in notes and "could not be read" in notes and "resized" in notes


def test_explicit_size(gray_folder):
    p = _prep(gray_folder, image={"size": [5, 6]})
    assert p.train.x.shape[1:] == (1, 5, 6) and p.report["images"]["resized"] == 12
    with pytest.raises(UserError, match=r"data\.image\.size: expected \[height, width\]"):
        _prep(gray_folder, image={"size": [5]})


def test_empty_folder_names_folder_and_extensions(tmp_path):
    (tmp_path / "nothing" / "cls").mkdir(parents=True)
    with pytest.raises(UserError, match=r"no images found in .*nothing.*\.png, \.jpg"):
        _prep(tmp_path / "nothing")


def test_flat_folder_cannot_train(tmp_path):
    _save(tmp_path / "flat" / "x.png", np.zeros((4, 4)))
    with pytest.raises(UserError, match="no class sub-folders"):
        _prep(tmp_path / "flat")


def test_grayscale_vs_rgb(gray_folder):
    assert _prep(gray_folder).state["image"]["color"] == "grayscale"
    _save(gray_folder / "dark" / "colour.png", np.full((8, 8, 3), [255, 0, 0]))
    p = _prep(gray_folder)
    assert p.state["image"]["color"] == "rgb" and p.train.x.shape[1] == 3
    assert len(p.state["image"]["mean"]) == 3
    forced = _prep(gray_folder, image={"color": "grayscale"})
    assert forced.train.x.shape[1] == 1


@pytest.mark.parametrize("shape", [(30, 6, 5), (30, 3, 6, 5)])
def test_npz_images(tmp_path, shape):
    rng = np.random.default_rng(0)
    path = tmp_path / "imgs.npz"
    np.savez(path, x=rng.normal(size=shape), y=np.repeat(["cat", "dog", "eel"], 10))
    p = _prep(path)
    c = 1 if len(shape) == 3 else 3
    assert p.train.x.shape[1:] == (c, 6, 5) and p.spec.input_shape == [c, 6, 5]
    assert p.spec.classes == ["cat", "dog", "eel"]


def test_bad_npz_shape(tmp_path):
    path = tmp_path / "flat.npz"
    np.savez(path, x=np.zeros((10, 4)), y=np.arange(10) % 2)
    with pytest.raises(UserError, match=r"\(N, H, W\) or \(N, C, H, W\)"):
        _prep(path)


def test_not_an_image_builtin():
    with pytest.raises(UserError, match="not an image dataset"):
        _prep("builtin:iris")


# ----------------------------------------------------------------------------- split and fitting
def test_normalisation_fitted_on_train_only(tmp_path):
    rng = np.random.default_rng(0)
    src, test = tmp_path / "src.npz", tmp_path / "test.npz"
    np.savez(src, x=rng.normal(10, 2, (60, 2, 4, 4)), y=np.arange(60) % 2)
    np.savez(test, x=rng.normal(500, 50, (20, 2, 4, 4)), y=np.arange(20) % 2)
    p = _prep(src, test=str(test))
    x = p.train.x
    np.testing.assert_allclose(x.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(0, 2, 3)), 1, atol=1e-4)
    assert all(9 < m < 11 for m in p.state["image"]["mean"])  # the test file's 500s never reach the fit
    assert p.test.x.mean() > 100 and p.report["rows"]["test"] == 20


def test_classes_and_train_fraction():
    full = _prep("builtin:digits")
    p = _prep("builtin:digits", classes=[5, 6, 7, 8, 9], train_fraction=0.1)
    assert p.spec.classes == [5, 6, 7, 8, 9] and p.spec.n_outputs == 5
    assert p.report["train_fraction"]["rows_after"] == pytest.approx(0.1 * p.report["train_fraction"]["rows_before"],
                                                                     abs=5)
    counts = p.report["class_counts"]["train"]
    assert set(counts) == {"5", "6", "7", "8", "9"} and min(counts.values()) >= 10
    assert p.report["rows"]["test"] < full.report["rows"]["test"]


def test_imbalance_oversample(tmp_path):
    path = tmp_path / "imb.npz"
    y = np.array([0] * 80 + [1] * 20)
    np.savez(path, x=np.random.default_rng(0).normal(size=(100, 4, 4)), y=y)
    p = _prep(path, imbalance="oversample")
    assert len(set(p.report["imbalance"]["after"].values())) == 1
    assert _prep(path, imbalance="class_weights").class_weights[1] > 1


def test_split_errors_are_the_shared_ones(gray_folder):
    with pytest.raises(UserError, match=r"data\.split\.val"):
        _prep(gray_folder, split={"train": 0.9, "val": 0.05, "test": 0.05})


def test_explicit_val_and_test_folders(gray_folder, tmp_path):
    extra = tmp_path / "extra"
    for label, level in (("bright", 220), ("dark", 20)):
        for i in range(2):
            _save(extra / label / f"{i}.png", np.full((16, 16), level))  # resized to the source's 8x8
    p = _prep(gray_folder, val=str(extra), test=str(extra))
    assert p.report["rows"] == {"train": 12, "val": 4, "test": 4}
    assert p.val.x.shape[1:] == (1, 8, 8) and p.report["images"]["resized"] == 8


# ----------------------------------------------------------------------------- predict / evaluate inputs
def test_state_round_trip_gives_identical_arrays(gray_folder, digits_npz):
    whole = {"train": 1.0, "val": 0.0, "test": 0.0}  # train keeps the source order
    for source in (gray_folder, digits_npz):
        p = _prep(source, split=whole)
        state = _json(p.state)
        x, ids = load_inputs(state, str(source))
        assert np.array_equal(x, p.train.x) and x.dtype == np.float32 and len(ids) == len(x)
        x2, y2 = load_labelled(state, str(source))
        assert np.array_equal(x2, p.train.x) and np.array_equal(y2, p.train.y)


def test_explicit_size_resizes_array_sources_and_predict_resizes_arrays_alike(digits_npz, tmp_path):
    p = _prep("builtin:digits", image={"size": [16, 12]})
    assert p.train.x.shape[1:] == (1, 16, 12) and p.spec.input_shape == [1, 16, 12]
    assert p.report["images"]["resized"] == 1797 and any("resized from 8x8 to 16x16" not in n and
                                                         "resized from 8x8 to 16x12" in n for n in p.report["notes"])
    # Bilinear: a constant image stays constant, and the class signal survives (means per class differ).
    small = _prep(digits_npz, image={"size": [4, 4]}, test=str(digits_npz))
    assert small.train.x.shape[1:] == (1, 4, 4) and small.test.x.shape[1:] == (1, 4, 4)
    state = _json(small.state)
    assert state["image"]["resize_arrays"] is True
    x, _ = load_inputs(state, np.load(digits_npz)["x"][:5])      # 8x8 arrays, as trained from
    assert x.shape == (5, 1, 4, 4) and np.allclose(x, small.test.x[:5], atol=1e-5)
    x4, _ = load_labelled(state, digits_npz)
    assert x4.shape[1:] == (1, 4, 4)
    with pytest.raises(UserError, match=r"\[3, 8, 8\].*trained on \[1, 4, 4\]"):  # channels still must match
        load_inputs(state, np.zeros((2, 3, 8, 8), dtype=np.float32))
    assert "resize_arrays" not in _prep("builtin:digits", image={"size": [8, 8]}).state["image"]


def test_image_color_converts_array_sources_as_it_converts_files(tmp_path):
    # It was ignored for .npz sources: an RGB array asked for grayscale trained on 3 channels.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 3, 8, 8)).astype(np.float32)
    path, test = tmp_path / "rgb.npz", tmp_path / "rgb_test.npz"
    np.savez(path, x=x, y=np.arange(40) % 2)
    np.savez(test, x=x[:10], y=np.arange(10) % 2)
    gray = _prep(path, image={"color": "grayscale"}, test=str(test))
    assert gray.train.x.shape[1:] == (1, 8, 8) and gray.test.x.shape[1:] == (1, 8, 8)
    assert gray.spec.input_shape == [1, 8, 8] and gray.report["images"]["color"] == "grayscale"
    assert any("converted from rgb to grayscale" in n for n in gray.report["notes"])
    # the luma PIL gives a file: one pixel's value, before normalisation
    pixel = x[0, :, 0, 0]
    assert np.dot(pixel, [0.299, 0.587, 0.114]) == pytest.approx(
        np.asarray(Image.fromarray(x[0].transpose(1, 2, 0).astype(np.uint8)).convert("L"))[0, 0], abs=1)
    state = _json(gray.state)
    assert state["image"]["convert_arrays"] is True
    converted, _ = load_inputs(state, x[:3])   # predict converts RGB arrays alike
    assert converted.shape == (3, 1, 8, 8)
    luma = np.einsum("nchw,c->nhw", x[:3], np.array([0.299, 0.587, 0.114]))[:, None]
    assert np.allclose(converted, load_inputs(state, luma)[0], atol=1e-4)  # and takes gray ones as they are
    rgb = _prep("builtin:digits", image={"color": "rgb"})
    assert rgb.train.x.shape[1:] == (3, 8, 8)
    four = tmp_path / "four.npz"
    np.savez(four, x=np.zeros((20, 4, 8, 8), dtype=np.float32), y=np.arange(20) % 2)
    with pytest.raises(UserError, match="data.image.color.*4 channels"):
        _prep(four, image={"color": "grayscale"})
    assert _prep(path).train.x.shape[1:] == (3, 8, 8)  # auto keeps the channels


def test_predict_inputs_flat_folder_single_file_and_array(gray_folder, tmp_path):
    state = _json(_prep(gray_folder).state)
    flat = tmp_path / "new"
    _save(flat / "one.png", np.full((8, 8), 200))
    _save(flat / "two.png", np.full((16, 16, 3), 40))  # RGB and larger: converted and resized
    (flat / "bad.png").write_bytes(b"junk")
    with pytest.warns(UserWarning, match="could not be read"):
        x, ids = load_inputs(state, flat)
    assert x.shape == (2, 1, 8, 8) and ids["file"].tolist() == ["one.png", "two.png"]
    x1, ids1 = load_inputs(state, flat / "one.png")
    assert np.array_equal(x1, x[:1]) and ids1["file"].tolist() == ["one.png"]
    xa, ida = load_inputs(state, np.full((3, 8, 8), 200.0))
    assert np.allclose(xa, x[0]) and ida["row"].tolist() == [0, 1, 2]


def test_predict_inputs_reject_wrong_channels_and_shape(gray_folder, tmp_path):
    state = _prep(gray_folder).state
    rgb, small = tmp_path / "rgb.npz", tmp_path / "small.npz"
    np.savez(rgb, x=np.zeros((2, 3, 8, 8)))
    np.savez(small, x=np.zeros((2, 6, 6)))
    with pytest.raises(UserError, match=r"\[3, 8, 8\].*trained on \[1, 8, 8\]"):
        load_inputs(state, rgb)
    with pytest.raises(UserError, match=r"\[1, 6, 6\]"):
        load_inputs(state, small)
    with pytest.raises(UserError, match="not found"):
        load_inputs(state, tmp_path / "missing.png")


def test_load_labelled_unknown_label(gray_folder, tmp_path):
    state = _prep(gray_folder).state
    other = tmp_path / "other"
    _save(other / "medium" / "0.png", np.full((8, 8), 120))
    with pytest.raises(UserError, match="not known classes.*medium"):
        load_labelled(state, other)


def test_digits_model_reads_8bit_files_on_its_own_scale(tmp_path):
    p = _prep("builtin:digits", split={"train": 1.0, "val": 0.0, "test": 0.0})
    from sklearn.datasets import load_digits

    raw = load_digits().images[0]
    _save(tmp_path / "d" / "0.png", np.round(raw * 255 / 16))
    x, _ = load_inputs(p.state, tmp_path / "d")
    np.testing.assert_allclose(x[0], p.train.x[0], atol=0.1)


# ----------------------------------------------------------------------------- end to end
def test_train_predict_evaluate_end_to_end(tmp_path, digits_npz):
    import trainwell

    run = trainwell.train({
        "name": "cnn_e2e", "seed": 0,
        "data": {"source": "builtin:digits", "augment": {"rotation": 10, "noise": 0.1}},
        "model": {"type": "cnn", "blocks": [{"channels": 8}, {"channels": 16}], "head": [32]},
        "optimizer": {"lr": 0.01}, "training": {"epochs": 2, "batch_size": 128},
    }, out=tmp_path / "run")
    assert run.metrics["test"]["accuracy"] > 0.5
    preds = run.predict(str(digits_npz))
    assert len(preds) == 200 and {"row", "prediction", "proba_0", "proba_9"} <= set(preds.columns)
    assert set(preds["prediction"]) <= set(range(10))
    ev = run.evaluate()
    assert ev["test"]["accuracy"] == pytest.approx(run.metrics["test"]["accuracy"])
    assert run.evaluate(str(digits_npz))["rows"] == 200


def test_augment_touches_training_batches_only():
    from trainwell.training.loop import TensorData, Trainer
    from trainwell.training.optim import Schedule

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    train = TensorData(torch.randn(20, 1, 4, 4), torch.arange(20) % 2)
    val_x = torch.randn(8, 1, 4, 4)
    seen = []

    def augment(x):
        seen.append(x.shape[0])
        return x + 1000.0  # would wreck any metric computed on it

    def evaluate(m):
        m.eval()
        with torch.no_grad():
            return {"val_max_input_seen": float(val_x.abs().max())}

    cfg = load_config({}).schedule
    trainer = Trainer(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.01),
                      loss_fn=torch.nn.functional.cross_entropy, schedule=Schedule(cfg), train=train,
                      epochs=3, batch_size=8, evaluate=evaluate, augment=augment)
    history = trainer.fit()
    assert sum(seen) == 3 * 20  # every training row once per epoch, and nothing else
    assert all(h["val_max_input_seen"] < 10 for h in history)
