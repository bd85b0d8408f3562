"""The config: pydantic models for every section, YAML loading and `--set a.b=c` overrides.

Layers, each type-checked: defaults, then the YAML file, then overrides. Every problem is
reported at once, each naming its key path, the bad value and what would be valid.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, UserError

Task = Literal["auto", "binary", "multiclass", "regression"]
Activation = Literal["relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "sigmoid"]
InitName = Literal[
    "auto", "default", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
    "orthogonal", "normal", "uniform", "constant", "zeros",
]


class Section(BaseModel):
    # extra="forbid" turns a typo into an error instead of a silently ignored key.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ----------------------------------------------------------------------------- data
class Split(Section):
    train: float = Field(0.7, gt=0, le=1, description="fraction of rows for training")
    val: float = Field(0.15, ge=0, lt=1, description="fraction for validation (early stopping, monitoring)")
    test: float = Field(0.15, ge=0, lt=1, description="fraction held out for the final test metrics")
    stratify: bool = Field(True, description="keep class shares equal across splits (classification)")

    @model_validator(mode="after")
    def _sums_to_one(self):
        total = self.train + self.val + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(
                f"train + val + test must sum to 1, got {self.train} + {self.val} + {self.test} = {total:g}"
            )
        return self


class Clean(Section):
    drop_duplicates: bool = Field(True, description="drop exact duplicate rows")
    drop_missing_target: bool = Field(True, description="drop rows whose target is empty")
    impute: Literal["median", "mean", "most_frequent", "constant", "none"] = Field(
        "median", description="fill missing numeric values (fitted on the training split)")
    impute_value: float = Field(0.0, description="the fill value when impute is constant")
    clip_outliers: Literal["none", "iqr", "zscore"] = Field(
        "none", description="clip numeric outliers to bounds fitted on the training split")
    clip_factor: float = Field(
        0.0, ge=0, description="IQR multiple (default 1.5) or z-score limit (default 3); 0 = default")
    normalize_categories: bool = Field(
        True, description="treat ' Red', 'red' and 'RED' as one category (case, whitespace)")


class DataConfig(Section):
    source: str = Field(
        "builtin:iris",
        description="builtin:digits|iris|wine|breast_cancer|diabetes, or a .csv/.parquet/.npz path")
    target: str | None = Field(None, description="target column (default 'target'; 'y' for .npz)")
    features: list[str] | None = Field(None, description="feature columns; default all but the target")
    task: Task = Field("auto", description="inferred from the target unless set")
    val: str | None = Field(None, description="explicit validation file (same columns as source)")
    test: str | None = Field(None, description="explicit test file (same columns as source)")
    split: Split = Field(default_factory=Split)
    clean: Clean = Field(default_factory=Clean)
    scale: Literal["standardize", "minmax", "robust", "none"] = Field(
        "standardize", description="numeric feature scaling, fitted on the training split")
    scale_target: bool = Field(
        True, description="standardize a regression target while training; metrics stay in its units")
    max_categories: int = Field(
        50, ge=2, description="a text column with more distinct values than this is rejected, not one-hot encoded")
    imbalance: Literal["none", "class_weights", "oversample", "undersample"] = Field(
        "none", description="class imbalance handling, on the training split only")


# ----------------------------------------------------------------------------- model
class InitSpec(Section):
    name: InitName = Field("auto", description="the scheme; auto picks by activation")
    std: float = Field(0.01, gt=0, description="for normal")
    a: float = Field(0.05, gt=0, description="for uniform: U(-a, a)")
    value: float = Field(0.0, description="for constant")


def _init_from_str(v: Any) -> Any:
    return {"name": v} if isinstance(v, str) else v


class Init(Section):
    weight: InitSpec = Field(default_factory=InitSpec,
                             description="auto: he for relu-like, xavier for tanh/sigmoid, lecun for selu")
    bias: InitSpec = Field(default_factory=lambda: InitSpec(name="zeros"))

    _weight_str = field_validator("weight", "bias", mode="before")(lambda cls, v: _init_from_str(v))


class ModelConfig(Section):
    type: Literal["mlp"] = Field("mlp", description="network family")
    hidden: list[int] = Field(default_factory=lambda: [64, 64], description="hidden layer sizes")
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout after each hidden layer")
    batch_norm: bool = Field(False, description="batch norm before each activation")
    init: Init = Field(default_factory=Init)

    @field_validator("hidden")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(h < 1 for h in v):
            raise ValueError(f"every hidden size must be >= 1, got {v}")
        return v


# ----------------------------------------------------------------------------- training
class LossConfig(Section):
    name: Literal["auto", "mse", "mae", "huber", "cross_entropy", "bce", "hinge"] = Field(
        "auto", description="auto: cross_entropy (multiclass), bce (binary), mse (regression)")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="cross_entropy only")
    huber_delta: float = Field(1.0, gt=0)
    class_weights: list[float] | None = Field(
        None, description="per-class loss weights in class order; data.imbalance=class_weights computes them")


class OptimizerConfig(Section):
    name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam", "radam"] = "adam"
    lr: float = Field(1e-3, gt=0, description="learning rate")
    momentum: float = Field(0.9, ge=0, lt=1, description="sgd and rmsprop")
    nesterov: bool = Field(False, description="sgd only; needs momentum > 0")
    betas: tuple[float, float] = Field((0.9, 0.999), description="adam family")
    eps: float = Field(1e-8, gt=0)
    weight_decay: float = Field(0.0, ge=0, description="L2 penalty (decoupled for adamw)")


class ScheduleConfig(Section):
    name: Literal["constant", "step", "multistep", "exponential", "cosine", "one_cycle",
                  "reduce_on_plateau"] = "constant"
    warmup_epochs: float = Field(0.0, ge=0, description="linear warmup from 0 before the schedule")
    step_size: int = Field(10, ge=1, description="step: epochs between decays")
    milestones: list[int] = Field(default_factory=lambda: [30, 60], description="multistep: decay epochs")
    gamma: float = Field(0.1, gt=0, le=1, description="decay factor (step, multistep, exponential per epoch)")
    min_lr: float = Field(0.0, ge=0, description="cosine floor")
    pct_start: float = Field(0.3, gt=0, lt=1, description="one_cycle: share of steps spent rising")
    div_factor: float = Field(25.0, gt=1, description="one_cycle: start lr = lr / div_factor")
    factor: float = Field(0.5, gt=0, lt=1, description="reduce_on_plateau: lr multiplier")
    patience: int = Field(5, ge=0, description="reduce_on_plateau: epochs without improvement")


class RegularizationConfig(Section):
    l1: float = Field(0.0, ge=0, description="L1 penalty on weights (not biases), added to the loss")
    clip_grad_norm: float | None = Field(None, gt=0, description="clip the global gradient norm")
    clip_grad_value: float | None = Field(None, gt=0, description="clip each gradient element")


class EarlyStopping(Section):
    enabled: bool = True
    monitor: str = Field("val_loss", description="val_loss or val_<metric>")
    mode: Literal["auto", "min", "max"] = Field("auto", description="auto: max for scores, min for losses and errors")
    patience: int = Field(10, ge=1, description="epochs without improvement before stopping")
    min_delta: float = Field(0.0, ge=0, description="smallest change that counts as improvement")
    restore_best: bool = Field(True, description="end with the weights of the best epoch")


class TrainingConfig(Section):
    epochs: int = Field(100, ge=1)
    batch_size: Union[int, Literal["full"]] = Field(32, description="an integer >= 1, or 'full' (batch gradient descent)")
    shuffle: bool = True
    device: str = Field("auto", description="auto (cuda when present), cpu, cuda, cuda:1, mps")
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    checkpoint_interval: float = Field(
        5.0, ge=0, description="seconds between resume checkpoints, written at epoch ends (0 = every "
                               "epoch); Ctrl-C and the end of training always write one")

    @field_validator("batch_size")
    @classmethod
    def _bs(cls, v):
        if isinstance(v, int) and v < 1:
            raise ValueError(f"must be an integer >= 1 or 'full', got {v}")
        return v


class MetricsConfig(Section):
    names: list[str] | Literal["auto"] = Field(
        "auto", description="final metrics; auto: all that fit the task")
    per_epoch: list[str] | Literal["auto"] = Field(
        "auto", description="metrics recorded every epoch; auto: accuracy, or mae and r2")


class Config(Section):
    name: str = Field("run", description="run name, used in the run directory name")
    seed: int = Field(0, description="one seed for splits, init, shuffling and dropout")
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)

    @model_validator(mode="after")
    def _cross_checks(self):
        from .metrics import CLASSIFICATION, REGRESSION

        known = set(CLASSIFICATION) | set(REGRESSION)
        problems = []
        for key in ("names", "per_epoch"):
            value = getattr(self.metrics, key)
            if value != "auto":
                bad = [m for m in value if m not in known]
                if bad:
                    problems.append(f"metrics.{key}: unknown metric(s) {bad}; valid: {sorted(known)}")
        monitor = self.training.early_stopping.monitor
        if monitor != "val_loss" and not (monitor.startswith("val_") and monitor[4:] in known):
            problems.append(
                f"training.early_stopping.monitor: got {monitor!r}; valid: val_loss or val_<metric> "
                f"with a metric from {sorted(known)}")
        if self.optimizer.nesterov and (self.optimizer.name != "sgd" or self.optimizer.momentum == 0):
            problems.append("optimizer.nesterov: needs optimizer.name sgd with momentum > 0")
        if problems:
            raise ValueError("\n".join(problems))
        return self


# ----------------------------------------------------------------------------- loading
def parse_override(item: str) -> tuple[str, Any]:
    """'optimizer.lr=0.01' -> ('optimizer.lr', 0.01); the value is read as YAML so lists work."""
    if "=" not in item:
        raise UserError(f"--set {item!r}: expected key.path=value, e.g. --set optimizer.lr=0.01")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def apply_overrides(raw: dict, overrides: dict[str, Any]) -> dict:
    for dotted, value in overrides.items():
        node = raw
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else child
                if not isinstance(child, dict):
                    raise UserError(f"--set {dotted}: {part!r} holds a value, not a section")
                node[part] = child
            node = child
        node[parts[-1]] = value
    return raw


def _nearest_key(model: type[BaseModel], loc: tuple) -> str | None:
    """Walk the model along loc to find the section, then suggest the closest field name."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return None
    close = difflib.get_close_matches(str(loc[-1]), list(current.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _describe(err: dict, model: type[BaseModel]) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    path = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        hint = _nearest_key(model, loc)
        tail = f"; did you mean {'.'.join(str(p) for p in loc[:-1] + (hint,))}?" if hint else ""
        return f"{path}: unknown key{tail}"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind != "missing" and "got " not in msg and not isinstance(err["input"], dict):
        return f"{path}: {msg}, got {err['input']!r}"
    return f"{path}: {msg}"


def validate(raw: dict) -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        seen, problems = set(), []
        for err in exc.errors():
            line = _describe(err, Config)
            for part in line.split("\n"):
                # A union reports once per branch; one line per key is enough.
                key = part.split(":")[0]
                if key not in seen:
                    seen.add(key)
                    problems.append(part)
        raise ConfigError(problems) from None


def read_yaml(path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"Config file {str(p)!r} not found.")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"Config file {str(p)!r} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"Config file {str(p)!r} must hold a mapping of sections, got {type(raw).__name__}.")
    return raw


def load_config(source: str | Path | dict | Config, overrides: dict[str, Any] | list[str] | None = None) -> Config:
    """Defaults <- YAML file (or dict) <- overrides ('a.b=c' strings or a {dotted: value} dict)."""
    if isinstance(source, Config):
        raw = source.model_dump(mode="json")
    elif isinstance(source, dict):
        raw = yaml.safe_load(yaml.safe_dump(source))  # deep copy, and plain types only
    else:
        raw = read_yaml(source)
    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    return validate(apply_overrides(raw, overrides or {}))


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)


def json_schema() -> dict:
    return Config.model_json_schema()


def _type_name(annotation) -> str:
    import typing

    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(str(a) for a in typing.get_args(annotation))
    if origin in (Union, getattr(__import__("types"), "UnionType", Union)):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None)) + \
            (" or null" if type(None) in typing.get_args(annotation) else "")
    if origin in (list, tuple):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in typing.get_args(annotation))}]"
    return getattr(annotation, "__name__", str(annotation))


def markdown_reference() -> str:
    """The config reference as Markdown tables, generated from the models (docs/CONFIG.md)."""
    lines = ["# Config reference", "",
             "Generated by `trainwell schema --markdown` from the pydantic models; every key, its type,",
             "its default and what it does. Unknown keys are errors.", ""]

    def walk(model: type[BaseModel], prefix: str, default_obj: BaseModel):
        rows, subs = [], []
        for name, field in model.model_fields.items():
            ann = field.annotation
            value = getattr(default_obj, name)
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                subs.append((ann, f"{prefix}{name}.", value))
                continue
            default = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            rows.append(f"| `{prefix}{name}` | {_type_name(ann)} | `{json.dumps(default)}` | "
                        f"{(field.description or '').replace('|', chr(92) + '|')} |")
        if rows:
            lines.extend([f"## `{prefix.rstrip('.') or '(top level)'}`", "", "| key | type | default | meaning |",
                          "|---|---|---|---|", *rows, ""])
        for sub, sub_prefix, sub_default in subs:
            walk(sub, sub_prefix, sub_default)

    walk(Config, "", Config())
    return "\n".join(lines)
