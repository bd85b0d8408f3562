import json

import pytest
import yaml

from trainwell.config import dump_config, json_schema, load_config, parse_override
from trainwell.errors import ConfigError, UserError


def test_defaults_are_valid_and_complete():
    cfg = load_config({})
    assert cfg.optimizer.name == "adam" and cfg.optimizer.lr == 1e-3
    assert cfg.training.epochs == 100 and cfg.training.batch_size == 32
    assert cfg.data.split.train + cfg.data.split.val + cfg.data.split.test == pytest.approx(1)


def test_yaml_then_overrides_are_typed(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("optimizer: {lr: 0.1}\nmodel: {hidden: [8]}\n")
    cfg = load_config(p, ["optimizer.lr=0.01", "model.hidden=[64,32]", "training.batch_size=full",
                          "data.split.stratify=false"])
    assert cfg.optimizer.lr == 0.01
    assert cfg.model.hidden == [64, 32]
    assert cfg.training.batch_size == "full"
    assert cfg.data.split.stratify is False


def test_override_dict_form():
    cfg = load_config({}, {"training.epochs": 7, "optimizer.name": "sgd"})
    assert cfg.training.epochs == 7 and cfg.optimizer.name == "sgd"


def test_all_errors_reported_at_once_with_key_paths():
    with pytest.raises(ConfigError) as exc:
        load_config({"optimizer": {"lr": -1, "nme": "adam"}, "training": {"batch_size": 0, "epochs": "many"}})
    msg = str(exc.value)
    assert "optimizer.lr" in msg and "greater than 0" in msg
    assert "optimizer.nme: unknown key; did you mean optimizer.name?" in msg
    assert "training.batch_size" in msg
    assert "training.epochs" in msg and "'many'" in msg
    assert len(exc.value.problems) >= 4


def test_typo_in_section_name_suggests():
    with pytest.raises(ConfigError, match="did you mean optimizer"):
        load_config({"optimiser": {"lr": 0.1}})


def test_bad_literal_lists_valid_values():
    with pytest.raises(ConfigError) as exc:
        load_config({"optimizer": {"name": "adamm"}})
    assert "'sgd'" in str(exc.value) and "'adamm'" in str(exc.value)


def test_split_must_sum_to_one():
    with pytest.raises(ConfigError, match="must sum to 1"):
        load_config({"data": {"split": {"train": 0.8, "val": 0.3, "test": 0.1}}})


def test_explicit_loss_weights_and_computed_class_weights_cannot_both_be_set():
    base = {"data": {"source": "builtin:breast_cancer", "imbalance": "class_weights"}}
    with pytest.raises(ConfigError, match=r"loss\.class_weights: \[1\.0, 1\.0\] and data\.imbalance: class_weights"):
        load_config({**base, "loss": {"class_weights": [1.0, 1.0]}})
    load_config(base)   # either one alone is fine
    load_config({"data": {"source": "builtin:breast_cancer", "imbalance": "oversample"}, "loss": {"class_weights": [1, 2]}})


def test_repair_with_the_doctor_off_is_refused_naming_both_keys():
    # It used to be silently a no-op: the run trained as written, with nothing repaired.
    with pytest.raises(ConfigError) as exc:
        load_config({"doctor": {"enabled": False, "repair": True}})
    assert exc.value.problems == [
        "doctor.repair: true needs doctor.enabled: true (the doctor repairs only what it finds, and "
        "doctor.enabled: false turns it off); drop --repair or doctor.repair: true, or set doctor.enabled: true"]
    with pytest.raises(ConfigError, match=r"doctor\.repair: true needs doctor\.enabled: true"):
        load_config({}, ["doctor.repair=true", "doctor.enabled=false"])
    load_config({"doctor": {"enabled": False}})   # either one alone is fine
    load_config({"doctor": {"repair": True}})


def test_a_value_where_a_section_belongs_lists_every_key_of_the_section():
    from trainwell.config import DoctorConfig

    with pytest.raises(ConfigError) as exc:
        load_config({"doctor": True})
    keys = ", ".join(DoctorConfig.model_fields)
    assert "probe_size" in keys and "budget" in keys
    assert exc.value.problems == [f"doctor: got True; expected a section: a mapping of its keys ({keys}), "
                                  f"not a single value or a list"]


def test_class_weights_by_label_read_yaml_numbers_as_labels_and_refuse_negative_weights(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("loss: {class_weights: {1: 3, yes_class: 2}}\n")
    assert load_config(p).loss.class_weights == {"1": 3.0, "yes_class": 2.0}
    with pytest.raises(ConfigError, match=r"loss\.class_weights: weights must be finite and 0 or more; got 'a': -1"):
        load_config({"loss": {"class_weights": {"a": -1}}})
    with pytest.raises(ConfigError, match=r"got -2\.0 \(position 1\)"):
        load_config({"loss": {"class_weights": [1, -2]}})
    with pytest.raises(ConfigError, match=r"expected a mapping from class label to weight.*got 'foo'"):
        load_config({"loss": {"class_weights": "foo"}})


def test_nesterov_needs_sgd():
    with pytest.raises(ConfigError, match="nesterov"):
        load_config({"optimizer": {"name": "adam", "nesterov": True}})


def test_unknown_metric_and_monitor():
    with pytest.raises(ConfigError) as exc:
        load_config({"metrics": {"names": ["acc"]}, "training": {"early_stopping": {"monitor": "val_acc"}}})
    assert "metrics.names" in str(exc.value) and "training.early_stopping.monitor" in str(exc.value)


def test_a_table_metric_cannot_be_monitored_or_tuned(tmp_path, cli, write_yaml):
    # The confusion matrix is a metric, but not a number early stopping or a study can compare: it
    # passed validation and crashed after the first epoch with a traceback.
    for section in ({"training": {"early_stopping": {"monitor": "val_confusion_matrix"}}},
                    {"tune": {"metric": "val_confusion_matrix", "space": {"optimizer.lr": [0.01, 0.1]}}}):
        with pytest.raises(ConfigError, match="val_confusion_matrix") as exc:
            load_config({"data": {"source": "builtin:iris"}, **section})
        assert "val_accuracy" in str(exc.value) or "'accuracy'" in str(exc.value)
    path = write_yaml({"data": {"source": "builtin:iris"},
                       "training": {"epochs": 2, "early_stopping": {"monitor": "val_confusion_matrix"}}})
    code, _, err = cli("train", path, "--out", str(tmp_path / "r"))
    assert code == 2 and "training.early_stopping.monitor" in err and "Traceback" not in err


def test_init_accepts_string_or_mapping():
    cfg = load_config({"model": {"init": {"weight": "xavier_normal", "bias": {"name": "constant", "value": 0.1}}}})
    assert cfg.model.init.weight.name == "xavier_normal"
    assert cfg.model.init.bias.value == 0.1


def test_resolved_config_round_trips():
    cfg = load_config({"optimizer": {"lr": 0.05}})
    again = load_config(yaml.safe_load(dump_config(cfg)))
    assert again == cfg


def test_schema_is_json_with_sections():
    schema = json_schema()
    json.dumps(schema)
    assert {"data", "model", "optimizer", "training", "loss", "schedule", "regularization", "metrics"} <= set(
        schema["properties"])


def test_bad_override_syntax():
    with pytest.raises(UserError, match="key.path=value"):
        parse_override("optimizer.lr")


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_config(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(UserError, match="mapping"):
        load_config(lst)


def test_docs_config_reference_is_current():
    from pathlib import Path

    from trainwell.config import markdown_reference

    doc = Path(__file__).parent.parent / "docs" / "CONFIG.md"
    assert doc.read_text().strip() == markdown_reference().strip(), \
        "docs/CONFIG.md is stale: run `trainwell schema --markdown > docs/CONFIG.md`"


def test_a_key_written_twice_is_refused_with_both_lines(cli, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("data:\n  source: builtin:iris\noptimizer:\n  lr: 0.5\ntraining:\n  epochs: 2\n"
                    "optimizer:\n  name: sgd\n")
    code, _, err = cli("config", path)
    assert code == 2 and "Traceback" not in err
    assert "duplicate key 'optimizer' (lines 3 and 7)" in err and str(path) in err


def test_a_config_that_is_not_utf8_names_the_file_and_the_line(cli, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\ndata: {source: builtin:iris}\n".encode("latin-1"))
    code, _, err = cli("config", path)
    assert code == 2 and "Traceback" not in err
    assert str(path) in err and "not UTF-8" in err and "line 1" in err


def test_an_empty_config_file_is_refused_not_trained_on_iris(cli, tmp_path):
    # Every key has a default, so an empty file used to train the default MLP on builtin:iris.
    empty, comments = tmp_path / "empty.yaml", tmp_path / "comments.yaml"
    empty.write_text("")
    comments.write_text("# data: {source: my.csv, target: churn}\n\n")
    for path, what in ((empty, "empty (0 bytes)"), (comments, "only comments")):
        code, out, err = cli("train", path, "--out", tmp_path / "run", "-q")
        assert code == 2 and "Traceback" not in err and out == ""
        assert str(path) in err and what in err and "trainwell auto DATA --target COL" in err and "examples/" in err
    assert not (tmp_path / "run").exists()
    (tmp_path / "braces.yaml").write_text("{}\n")  # an explicit empty mapping is a choice, not a slip
    assert load_config(tmp_path / "braces.yaml").data.source == "builtin:iris"


def test_an_override_with_an_empty_key_says_so(cli, tmp_path):
    # `--set =5` used to read as a key named '' and say "(top level): unknown key".
    path = tmp_path / "c.yaml"
    path.write_text("data: {source: builtin:iris}\n")
    code, _, err = cli("config", path, "--set", "=5")
    assert code == 2 and "Traceback" not in err
    assert "--set '=5': the key before = is empty" in err and "optimizer.lr=0.01" in err
    for item in ("optimizer.=5", "a..b=5", ".lr=1"):
        with pytest.raises(UserError, match=r"has an empty part \(a leading, trailing or doubled dot\)"):
            parse_override(item)
    with pytest.raises(UserError, match="override '': the key is empty; expected a dotted config key"):
        load_config({}, {"": 5})


def test_a_value_where_a_mapping_belongs_says_what_to_write_not_a_python_class():
    # pydantic's words were "a valid dictionary or instance of TuneParam": a class the user never wrote.
    with pytest.raises(ConfigError) as exc:
        load_config({"tune": {"space": {"optimizer.lr": 0.01}, "objectives": ["val_loss", "parameters"]},
                     "training": {"early_stopping": 5}, "model": {"init": {"weight": 3}}})
    text = str(exc.value)
    assert "instance of" not in text and "TuneParam" not in text and "TuneObjective" not in text
    assert ("tune.space.optimizer.lr: got 0.01; expected a search distribution: a list of choices such as "
            "[0.001, 0.01], or a mapping such as {type: float, low: 0.0001, high: 0.1, log: true}") in text
    assert "(to fix optimizer.lr at one value, set optimizer.lr itself)" in text
    assert "tune.objectives.0: got 'val_loss'; expected an objective: a mapping such as {metric: val_loss}" in text
    assert "training.early_stopping: got 5; expected a section: a mapping of its keys (enabled, monitor" in text
    assert "model.init.weight: got 3; expected a scheme name such as he_normal" in text


def test_checks_on_one_key_are_reported_beside_other_problems_not_after_them():
    # These checks ran only once every field was valid, so a config with a bad epochs value showed
    # that alone, and the unknown metric, monitor and searched key came one round of fixes later.
    raw = {"training": {"epochs": 0, "early_stopping": {"monitor": "val_acc"}},
           "metrics": {"names": ["acc"]}, "optimizer": {"lr": -1, "nesterov": True},
           "tune": {"metric": "val_f", "objectives": [{"metric": "val_loss"}],
                    "space": {"model.hiden": [[8], [16]], "model.dropout": {"type": "float", "low": "auto", "high": 1},
                              "optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-2,
                                               "when": {"optimizer.nam": "sgd"}}}}}
    with pytest.raises(ConfigError) as exc:
        load_config(raw)
    problems = exc.value.problems
    keys = [p.split(":")[0] for p in problems]
    for key in ("training.epochs", "optimizer.lr", "training.early_stopping.monitor", "metrics.names", "optimizer.nesterov", "tune.metric",
                "tune.objectives", "tune.space.model.hiden", "tune.space.model.dropout", "tune.space.optimizer.lr.when"):
        assert key in keys, (key, problems)
    assert len(keys) == len(set(keys)) == 10
    assert "tune.space.model.hiden: not a config key; did you mean model.hidden?" in problems
    assert "optimizer.nesterov: needs optimizer.name sgd with momentum > 0, got name adam and momentum 0.9" in problems
    # The fuller check on a valid rest of the config still runs, and a key of another model type is no key here.
    with pytest.raises(ConfigError, match=r"tune.space.model.blocks: not a config key"):
        load_config({"tune": {"space": {"model.blocks": [[{"channels": 8}]]}}})
    with pytest.raises(ConfigError, match=r"tune.space.model.blocks: not a config key"):
        load_config({"training": {"epochs": 0}, "tune": {"space": {"model.blocks": [[{"channels": 8}]]}}})
    # ... while a key this model type has is not reported because something else is wrong.
    with pytest.raises(ConfigError) as exc:
        load_config({"model": {"type": "cnn"}, "training": {"epochs": 0},
                     "tune": {"space": {"model.blocks": [[{"channels": 8}]], "data.series.window": [8, 16]}}})
    assert [p.split(":")[0] for p in exc.value.problems] == ["training.epochs"]


def test_class_weight_labels_that_collide_as_text_or_read_as_booleans_are_refused():
    from trainwell import yamlio

    with pytest.raises(ConfigError, match=r"labels given twice, once as a number and once as text: \['1'\]"):
        load_config(yamlio.load('loss: {class_weights: {1: 5, "1": 1}}'))
    with pytest.raises(ConfigError, match=r"as true/false.*quote the label"):
        load_config(yamlio.load("loss: {class_weights: {yes: 5}}"))


def test_tune_bounds_must_be_finite():
    for entry in ({"type": "float", "low": 0, "high": float("inf"), "step": 0.1},
                  {"type": "float", "low": float("nan"), "high": 1}, {"type": "int", "low": 1, "high": float("inf")}):
        with pytest.raises(ConfigError, match="bounds and step must be finite numbers"):
            load_config({"tune": {"space": {"optimizer.weight_decay": entry}}})


def test_a_run_saved_with_repair_and_the_doctor_off_still_loads(tmp_path):
    # saved before the pair was refused: it trained without repair, and its model must stay usable
    import trainwell

    run = trainwell.train({"data": {"source": "builtin:iris"}, "training": {"epochs": 2}, "doctor": {"enabled": False},
                           "logging": {"report": False}}, out=tmp_path, quiet=True)
    saved = run.path / "config.yaml"
    saved.write_text(saved.read_text().replace("repair: false", "repair: true"))
    assert "repair: true" in saved.read_text()
    import pandas as pd

    again = trainwell.Run(run.path)
    assert again.config.doctor.repair is False
    assert len(again.predict(pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=again.spec.input_columns))) == 1
