"""Every bad input: exit code 2, one clear message naming the key or column, no traceback,
and nothing the user had is overwritten."""

import re

import numpy as np
import pandas as pd
import pytest


def expect_user_error(result, *needles):
    code, stdout, err = result
    assert code == 2, (code, err)
    assert "Traceback" not in err and "Traceback" not in stdout
    assert err.startswith("error: ")
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def train(cli, write_yaml, cfg, tmp_path, *extra):
    return cli("train", write_yaml(cfg), "--out", tmp_path / "run", "-q", *extra)


def test_missing_data_file(cli, write_yaml, tiny_cfg, tmp_path):
    tiny_cfg["data"]["source"] = str(tmp_path / "nope.csv")
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "nope.csv", "data.source")
    assert not (tmp_path / "run").exists()


def test_empty_file(cli, write_yaml, tiny_cfg, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    tiny_cfg["data"]["source"] = str(empty)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "empty")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,label\n")
    tiny_cfg["data"]["source"] = str(header_only)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "header.csv")


def test_unknown_target_column_lists_columns(cli, write_yaml, tiny_cfg, tmp_path):
    tiny_cfg["data"]["target"] = "lable"
    err = expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "lable", "label")
    assert "color" in err


def test_target_with_one_class(cli, write_yaml, tiny_cfg, tmp_path):
    df = pd.DataFrame({"a": range(30), "label": ["x"] * 30})
    p = tmp_path / "one.csv"
    df.to_csv(p, index=False)
    tiny_cfg["data"]["source"] = str(p)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "label", "single value")


def test_garbage_strings_in_numeric_column_are_coerced(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    df = pd.read_csv(blobs_csv)
    df["a"] = df["a"].astype(object)
    df.loc[:3, "a"] = "n/a??"
    p = tmp_path / "garbage.csv"
    df.to_csv(p, index=False)
    tiny_cfg["data"]["source"] = str(p)
    code, _, err = train(cli, write_yaml, tiny_cfg, tmp_path)
    assert code == 0, err
    assert "coerced" in (tmp_path / "run" / "log.txt").read_text()


def test_column_of_garbage_text_is_rejected_when_too_many_levels(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    df = pd.read_csv(blobs_csv)
    df["junk"] = [f"zz{i}qq" for i in range(len(df))]
    p = tmp_path / "junk.csv"
    df.to_csv(p, index=False)
    tiny_cfg["data"]["source"] = str(p)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "junk", "data.features")


def test_nan_in_target_with_dropping_off(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    df = pd.read_csv(blobs_csv)
    df.loc[:4, "label"] = np.nan
    p = tmp_path / "nan.csv"
    df.to_csv(p, index=False)
    tiny_cfg["data"]["source"] = str(p)
    tiny_cfg["data"]["clean"] = {"drop_missing_target": False}
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "label", "drop_missing_target")
    tiny_cfg["data"]["clean"] = {"drop_missing_target": True}
    code, _, err = train(cli, write_yaml, tiny_cfg, tmp_path)
    assert code == 0, err


@pytest.mark.parametrize("patch,needles", [
    ({"optimizer": {"learning_rate": 0.1}}, ["optimizer.learning_rate", "unknown key"]),
    ({"training": {"epochs": "ten"}}, ["training.epochs", "'ten'"]),
    ({"optimizer": {"lr": -0.1}}, ["optimizer.lr", "greater than 0"]),
    ({"optimizer": {"lr": 0}}, ["optimizer.lr"]),
    ({"data": {"split": {"train": 0.5, "val": 0.2, "test": 0.2}}}, ["data.split", "sum to 1"]),
    ({"training": {"batch_size": 0}}, ["training.batch_size", "'full'"]),
])
def test_config_errors(cli, write_yaml, tiny_cfg, tmp_path, patch, needles):
    for section, values in patch.items():
        tiny_cfg.setdefault(section, {}).update(values)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), *needles)


@pytest.mark.parametrize("patch,needles", [
    ({"training": {"early_stopping": {"monitor": "val_rmse"}}},
     ["training.early_stopping.monitor", "'val_rmse'", "multiclass", "'val_loss'", "'val_accuracy'"]),
    ({"metrics": {"names": ["r2"]}}, ["metrics.names", "'r2'", "'accuracy'"]),
    ({"metrics": {"per_epoch": ["mae"]}}, ["metrics.per_epoch", "'mae'", "'accuracy'"]),
])
def test_a_metric_of_the_other_task_names_the_key_it_came_from(cli, write_yaml, tiny_cfg, tmp_path, patch, needles):
    """A regression metric in a classifier's early-stopping monitor was reported as 'metrics: [...]'."""
    for section, values in patch.items():
        tiny_cfg.setdefault(section, {}).update(values)
    err = expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), *needles)
    assert not err.startswith("error: metrics: ")


def test_data_classes_yes_no_read_by_yaml_as_booleans_says_to_quote_them(cli, tmp_path):
    """data.classes: [yes, no] reached the data as True/False: 'True' does not occur, with no word why."""
    pd.DataFrame({"x": np.arange(60.0), "answer": ["yes", "no", "maybe"] * 20}).to_csv(tmp_path / "a.csv", index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data:\n  source: {tmp_path / 'a.csv'}\n  target: answer\n  classes: [yes, no]\n"
                   f"training: {{epochs: 1}}\n")
    expect_user_error(cli("train", cfg, "--out", tmp_path / "run", "-q"), "data.classes", "true/false", "quote")
    assert not (tmp_path / "run").exists()


def test_more_val_test_than_rows(cli, write_yaml, tiny_cfg, tmp_path):
    df = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.4], "label": ["x", "y", "x", "y"]})
    p = tmp_path / "four.csv"
    df.to_csv(p, index=False)
    tiny_cfg["data"]["source"] = str(p)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "data.split")


def test_predict_input_missing_a_column(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    run = tmp_path / "run"
    assert cli("train", write_yaml(tiny_cfg), "--out", run, "-q")[0] == 0
    inp = tmp_path / "in.csv"
    pd.read_csv(blobs_csv).drop(columns=["label", "color", "b"]).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    expect_user_error(cli("predict", run, inp, "-o", out), "color", "b")
    assert out.read_text() == "keep me"


def test_evaluate_data_whose_every_target_is_empty(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    """Rows without a target are skipped; when that is every row, sklearn failed on no rows (a traceback)."""
    run = tmp_path / "run"
    assert cli("train", write_yaml(tiny_cfg), "--out", run, "-q")[0] == 0
    inp = tmp_path / "unlabelled.csv"
    pd.read_csv(blobs_csv).head(20).assign(label=None).to_csv(inp, index=False)
    expect_user_error(cli("evaluate", run, "--data", inp), "'label'", "empty", "predict")


def test_predict_input_with_a_value_that_is_not_a_number(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    """Training tolerates a few stray strings in a numeric column (coerced, imputed); predicting
    refuses them, like the server's 422, naming the column, the row and the value."""
    run = tmp_path / "run"
    assert cli("train", write_yaml(tiny_cfg), "--out", run, "-q")[0] == 0
    inp = tmp_path / "in.csv"
    frame = pd.read_csv(blobs_csv).drop(columns=["label"]).head(10)
    frame["b"] = frame["b"].astype(object)
    frame.loc[6, "b"] = "abc"
    frame.to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    expect_user_error(cli("predict", run, inp, "-o", out), "column 'b'", "row 7: 'abc'", "finite number")
    assert not out.exists()
    frame.loc[6, "b"] = None  # a missing value is still imputed
    frame.to_csv(inp, index=False)
    assert cli("predict", run, inp, "-o", out)[0] == 0 and len(pd.read_csv(out)) == 10


def test_out_dir_not_overwritten(cli, write_yaml, tiny_cfg, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "precious.txt").write_text("mine")
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "not empty")
    assert (run / "precious.txt").read_text() == "mine"


def test_out_dir_taken_suggests_resume_only_for_an_unfinished_run(cli, write_yaml, tiny_cfg, tmp_path):
    """A finished run (or any folder) given as --out was answered 'or resume it with --resume', which
    a finished run refuses."""
    assert train(cli, write_yaml, tiny_cfg, tmp_path)[0] == 0  # tmp_path / "run", finished
    err = expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "not empty")
    assert "--resume" not in err
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious.txt").write_text("mine")
    err = expect_user_error(cli("train", write_yaml(tiny_cfg), "--out", other, "-q"), "not empty")
    assert "--resume" not in err


def test_missing_run_directory(cli, tmp_path):
    expect_user_error(cli("evaluate", tmp_path / "nowhere"), "does not exist")
    expect_user_error(cli("predict", tmp_path / "nowhere", tmp_path / "x.csv", "-o", tmp_path / "y.csv"),
                      "does not exist")


def test_missing_config_file(cli, tmp_path):
    expect_user_error(cli("train", tmp_path / "none.yaml"), "none.yaml", "not found")


def test_loss_that_does_not_fit_task(cli, write_yaml, tiny_cfg, tmp_path):
    tiny_cfg["loss"] = {"name": "mse"}
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "loss.name", "cross_entropy")


def test_a_file_or_folder_where_the_other_is_expected(cli, tmp_path, tiny_cfg, write_yaml):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    expect_user_error(cli("export", afile), "is a file, not a run directory")
    expect_user_error(cli("runs", "--root", afile), "is a file")
    expect_user_error(cli("train", tmp_path), "is a folder")
    tiny_cfg["tune"] = {"space": {"optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1}}}
    expect_user_error(cli("tune", write_yaml(tiny_cfg), "--out", afile), "--out", "is a file")
    expect_user_error(cli("predict", tmp_path / "nowhere", afile, "-o", tmp_path), "-o/--output", "is a folder")
    assert afile.read_text() == "keep me"


def test_serve_bad_address_is_exit_2_before_loading_anything(cli, tmp_path):
    import socket

    expect_user_error(cli("serve", tmp_path / "nowhere", "--port", 70000), "--port must be 0-65535")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        expect_user_error(cli("serve", tmp_path / "nowhere", "--port", port), f"--port {port}", "already in use")


def test_export_directory_without_its_manifest(cli, tmp_path):
    broken = tmp_path / "export"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"not really")
    expect_user_error(cli("predict", broken, tmp_path / "x.csv", "-o", tmp_path / "y.csv"), "manifest.json")


@pytest.mark.parametrize("key,value,bound", [("seed", "-1", "greater than or equal to 0"),
                                             ("data.split.seed", "4294967296", "less than or equal to 4294967295"),
                                             ("tune.seed", "-3", "greater than or equal to 0")])
def test_seed_out_of_range_names_the_key_and_the_bound(cli, write_yaml, tiny_cfg, tmp_path, key, value, bound):
    # scikit-learn's split raised a traceback on these
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path, "--set", f"{key}={value}"), key, bound)


@pytest.mark.parametrize("args, flag", [
    (["predict", "RUN", "IN", "-o", "FILE/x.csv"], "-o/--output"),
    (["report", "RUN", "--out", "FILE/x.html"], "--out"),
    (["export", "RUN", "-o", "FILE/export"], "-o/--output"),
    (["find-lr", "CFG", "--out", "FILE/lr.png"], "--out"),
    (["train", "CFG", "--out", "FILE/run"], "--out"),
    (["tune", "CFG", "--out", "FILE/study"], "--out"),
    (["ensemble", "CFG", "--out", "FILE/ens"], "--out"),
    (["auto", "IN", "--out", "FILE/auto"], "--out"),
])
def test_output_under_a_file_is_refused_by_every_command(cli, write_yaml, tiny_cfg, blobs_csv, tmp_path, args, flag):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    names = {"RUN": str(tmp_path), "IN": str(blobs_csv), "CFG": str(write_yaml(tiny_cfg)),
             "FILE": str(a_file)}
    args = [names.get(a, a.replace("FILE", str(a_file))) for a in args]
    expect_user_error(cli(*args), flag, str(a_file), "is a file, not a folder")
    assert a_file.read_text() == "keep me"


def test_output_in_a_folder_that_takes_no_files_is_refused(cli, blobs_csv, tmp_path):
    expect_user_error(cli("predict", tmp_path, blobs_csv, "-o", "/proc/x.csv"), "-o/--output", "/proc")


def test_find_lr_refuses_a_plot_suffix_before_the_sweep(cli, write_yaml, tiny_cfg, tmp_path):
    expect_user_error(cli("find-lr", write_yaml(tiny_cfg), "--out", tmp_path / "lr.txt"), "--out", "lr.txt", ".png")
    assert not (tmp_path / "lr.html").exists()


def test_find_lr_names_its_own_flags(cli, write_yaml, tiny_cfg, tmp_path):
    # The messages named the finder's Python arguments (start_lr, end_lr, steps), not the flags.
    cfg, png = write_yaml(tiny_cfg), tmp_path / "lr.png"
    err = expect_user_error(cli("find-lr", cfg, "--out", png, "--start-lr", "0", "--end-lr", "-1", "--steps", "3"),
                            "--start-lr must be a learning rate above 0, such as 1e-7, got 0",
                            "--end-lr must be above 0 and --start-lr, such as 10, got -1",
                            "--steps must be 16 or more (the sweep's mini-batches), got 3")
    assert not re.search(r"\b(start_lr|end_lr)\b|(?<!-)\bsteps must", err)
    expect_user_error(cli("find-lr", cfg, "--out", png, "--start-lr", "1", "--end-lr", "0.5"),
                      "--end-lr must be above --start-lr (1), such as 10, got 0.5")
    assert not png.exists()
    # A sweep that starts too high: its advice names the flag, once.
    code, out, err = cli("find-lr", cfg, "--out", png, "--start-lr", "5", "--end-lr", "1e6", "--steps", "16")
    assert code == 0, err
    assert out.startswith("no clear suggestion: ") and out.count("no clear suggestion") == 1, out
    assert "--start-lr" in out and not re.search(r"\b(start_lr|end_lr)\b", out), out


def test_a_damaged_preprocess_json_is_named_not_a_key_error(cli, write_yaml, tiny_cfg, tmp_path, blobs_csv):
    tiny_cfg["training"]["epochs"] = 1
    assert train(cli, write_yaml, tiny_cfg, tmp_path)[0] == 0
    (tmp_path / "run" / "preprocess.json").write_text('{"format": 1}')
    for args in (["predict", tmp_path / "run", blobs_csv, "-o", tmp_path / "p.csv"], ["evaluate", tmp_path / "run"]):
        err = expect_user_error(cli(*args), "preprocess.json", "damaged", "missing keys 'spec'")
        assert "changed" not in err


def test_a_mostly_numeric_column_rejected_as_text_says_so_and_shows_the_stray_values(cli, write_yaml, tiny_cfg,
                                                                                     tmp_path, blobs_csv):
    df = pd.read_csv(blobs_csv)
    df["a"] = df["a"].astype(object)
    df.loc[:19, "a"] = ["abc"] * 10 + ["?"] * 10  # 8% stray: over the 5% a numeric column tolerates
    p = tmp_path / "stray.csv"
    df.to_csv(p, index=False)
    tiny_cfg["data"]["source"] = str(p)
    expect_user_error(train(cli, write_yaml, tiny_cfg, tmp_path), "data.max_categories", "'a' is 92% numbers",
                      "'abc'", "'?'", "Empty those cells")


def test_predict_on_a_builtin_set_asks_for_a_file_only(cli, write_yaml, tiny_cfg, tmp_path):
    tiny_cfg["training"]["epochs"] = 1
    assert train(cli, write_yaml, tiny_cfg, tmp_path)[0] == 0
    err = expect_user_error(cli("predict", tmp_path / "run", "builtin:iris", "-o", tmp_path / "p.csv"), "builtin:iris",
                            ".csv, .parquet, .npz")
    assert "builtin:digits" not in err


def test_auto_without_target_names_the_flag(cli, blobs_csv, tmp_path):
    expect_user_error(cli("auto", blobs_csv, "--out", tmp_path / "auto"), "--target", "label")


def test_auto_gives_advice_auto_users_can_follow(cli, tmp_path, make_blobs):
    """auto has no --set: an ID-like or mostly numeric text column, or an .npz of sequences, is
    refused with what an auto user can do (edit the file, or write a config for tune/train), never
    "list data.features" or "set data.kind"."""
    import numpy as np
    import pandas as pd

    frame = make_blobs()
    rng = np.random.default_rng(0)
    reading = pd.Series(rng.normal(0, 1, len(frame)).round(4)).astype(object)
    reading[rng.choice(len(frame), 36, replace=False)] = "n/a?"  # 85% numbers
    frame["reading"] = reading
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    err = expect_user_error(cli("auto", tmp_path / "mixed.csv", "--target", "label", "--out", tmp_path / "a1"),
                            "'reading'", "remove it from the file", "trainwell tune CONFIG", "Empty those cells")
    assert "List data.features" not in err and "data.max_categories" not in err
    np.savez(tmp_path / "seq.npz", x=rng.normal(0, 1, (40, 6, 2)), y=rng.integers(0, 2, 40))
    err = expect_user_error(cli("auto", tmp_path / "seq.npz", "--out", tmp_path / "a2"),
                            "sequences", "data.kind: sequence", "trainwell tune CONFIG")
    assert "set data.kind" not in err
    assert not (tmp_path / "a1").exists() and not (tmp_path / "a2").exists()


def test_auto_words_task_and_split_errors_in_its_own_flags(cli, tmp_path, make_blobs):
    """auto writes data.task and data.split itself: a forced --task the target cannot take is refused
    with --task advice that fits the target (a quantity: regression), never a data.* key to set."""
    frame = make_blobs().drop(columns="label")
    frame["score"] = (frame["a"] * 30).round().astype(int) + 100  # a quantity with many distinct values
    frame.to_csv(tmp_path / "scores.csv", index=False)
    err = expect_user_error(cli("auto", tmp_path / "scores.csv", "--target", "score", "--task", "binary"),
                            "--task binary needs 2 classes", "rerun with --task regression (or auto)")
    assert "data.task" not in err and "multiclass" not in err, err
    err = expect_user_error(cli("auto", tmp_path / "scores.csv", "--target", "score", "--task", "multiclass"),
                            "--task multiclass: column 'score': 148 classes", "36-row validation split",
                            "choose another --task (regression", "trainwell tune CONFIG")
    assert "use data.split" not in err and "set data.split" not in err, err
    frame.head(3).to_csv(tmp_path / "three.csv", index=False)
    err = expect_user_error(cli("auto", tmp_path / "three.csv", "--target", "score", "--task", "regression"),
                            "DATA: too few rows", "add rows")
