"""The config: pydantic models for every section, YAML loading and `--set a.b=c` overrides.

Layers, each type-checked: defaults, then the YAML file, then overrides. Every problem is
reported at once, each naming its key path, the bad value and what would be valid.
"""

from __future__ import annotations

import difflib
import json
import re
import math
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import yamlio
from .errors import ConfigError, UserError

Task = Literal["auto", "binary", "multiclass", "regression"]
Activation = Literal["relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "sigmoid"]
InitName = Literal[
    "auto", "default", "pytorch", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
    "orthogonal", "normal", "uniform", "constant", "zeros",
]
SEED_MAX = 2**32 - 1  # numpy's and scikit-learn's seeds are unsigned 32-bit


def _scalar() -> list[str]:
    from .metrics import SCALAR

    return sorted(SCALAR)


def _is_val_metric(name: str) -> bool:
    """val_loss, or val_ and a metric that is one number (early stopping and a study compare it)."""
    return name == "val_loss" or (name.startswith("val_") and name[4:] in _scalar())


class Section(BaseModel):
    # extra="forbid" turns a typo into an error instead of a silently ignored key.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ----------------------------------------------------------------------------- data
class Split(Section):
    train: float = Field(0.7, gt=0, le=1, description="fraction of rows for training")
    val: float = Field(0.15, ge=0, lt=1, description="fraction for validation (early stopping, monitoring)")
    test: float = Field(0.15, ge=0, lt=1, description="fraction held out for the final test metrics")
    stratify: bool = Field(True, description="keep class shares equal across splits (classification)")
    seed: int | None = Field(
        None, ge=0, le=SEED_MAX, description="seed for the split, data.train_fraction, rebalancing and tune.cv_folds; default: the "
                          "run's seed. Fix it to vary the run's seed (init, shuffling) over the same rows")

    @model_validator(mode="after")
    def _sums_to_one(self):
        total = self.train + self.val + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(
                f"train + val + test must sum to 1, got {self.train} + {self.val} + {self.test} = {total:g}"
            )
        return self


class Clean(Section):
    drop_duplicates: bool = Field(True, description="drop exact duplicate rows of data.source before the split "
                                                  "(data.val and data.test files are kept as given)")
    drop_missing_target: bool = Field(True, description="drop rows whose target is empty")
    impute: Literal["median", "mean", "most_frequent", "constant", "none"] = Field(
        "median", description="fill missing numeric values (fitted on the training split)")
    impute_value: float = Field(0.0, description="the fill value when impute is constant")
    missing_codes: list[float] = Field(
        default_factory=list, description="numbers that mean 'missing' in a table's numeric columns "
                                          "(e.g. [-999, 9999999], matched to a millionth): read as empty cells, "
                                          "then imputed; in a time series' input columns, gaps that "
                                          "data.series.missing fills or drops")
    target_missing_codes: list[float] = Field(
        default_factory=list, description="numbers that mean 'no value' in a table's regression target (e.g. "
                                          "[-999]): those rows are dropped, as rows with an empty target (a time "
                                          "series: gaps, as data.series.missing says)")
    clip_outliers: Literal["none", "iqr", "zscore"] = Field(
        "none", description="clip numeric outliers to bounds fitted on the training split (tables only; a time "
                            "series refuses it)")
    clip_factor: float = Field(
        0.0, ge=0, description="IQR multiple (default 1.5) or z-score limit (default 3); 0 = default")
    normalize_categories: bool = Field(
        True, description="treat ' Red', 'red' and 'RED' as one category (case, whitespace)")


class ImageConfig(Section):
    size: list[int] | None = Field(None, description="[height, width] to resize to; default: the first image's size")
    color: Literal["auto", "grayscale", "rgb"] = Field(
        "auto", description="auto: grayscale if every image is (arrays: as their channels); .npz arrays are "
                            "converted too")


class AugmentConfig(Section):
    rotation: float = Field(0.0, ge=0, le=180, description="random rotation up to ± this many degrees")
    translate: float = Field(0.0, ge=0, lt=1, description="random shift up to ± this fraction of width/height")
    hflip: bool = Field(False, description="random horizontal flip (not for digits or text!)")
    vflip: bool = Field(False, description="random vertical flip")
    noise: float = Field(0.0, ge=0, description="gaussian noise std, in units of the normalized input")


class SeriesConfig(Section):
    time_column: str | None = Field(None, description="sorts the rows; the split follows it")
    value_columns: list[str] | None = Field(None, description="input series; default every numeric column")
    window: int = Field(24, ge=1, description="past steps the model sees")
    horizon: int = Field(1, ge=1, description="steps ahead it forecasts (1..horizon)")
    missing: Literal["interpolate", "drop"] = Field(
        "interpolate", description="gaps in the series: linear interpolation, or drop the rows (counted)")
    dayfirst: bool = Field(False, description="dates written day first (31/01/2024): 01/02/2024 is then 1 February")


class TextConfig(Section):
    column: str | None = Field(None, description="the text column (a CSV); setting it makes this a text task")
    max_len: int = Field(64, ge=1, description="tokens per text; longer texts are truncated, shorter padded")
    vocab_size: int = Field(20000, ge=10, description="most frequent training tokens kept; the rest are <unk>")
    min_freq: int = Field(1, ge=1, description="a token needs this many training occurrences")
    lowercase: bool = True


class SequenceConfig(Section):
    layout: Literal["steps_first", "channels_first"] = Field(
        "steps_first", description="how x in a sequence .npz is laid out: steps_first (N, steps, features), or "
                                   "channels_first (N, features, steps), as PyTorch's Conv1d takes it; "
                                   "channels_first is transposed on reading, for training and for new data")
    padding: Literal["as_given", "front"] = Field(
        "as_given", description="front: move each sequence's trailing all-zero steps (padding written after "
                                "the signal) to its start, so a recurrent net ends its reading on the signal; "
                                "applied to training and new data alike")


class DataConfig(Section):
    kind: Literal["auto", "tabular", "image", "timeseries", "sequence", "text"] = Field(
        "auto", description="auto: image for a folder or a cnn, text when data.text.column is set, "
                            "timeseries when data.series is set, sequence for 3-D .npz with rnn/transformer")
    source: str = Field(
        "builtin:iris",
        description="builtin:digits|iris|wine|breast_cancer|diabetes, or a .csv/.parquet/.npz path")
    target: str | None = Field(None, description="target column: required for CSV and parquet tables; 'target' for "
                                              "builtin: sets, 'y' for .npz; with data.series, the column forecast "
                                              "(default: the first of data.series.value_columns; it may be outside them)")
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
    categorical: list[str] = Field(
        default_factory=list, description="table columns to one-hot encode although they hold numbers: codes "
                                          "and IDs (store 101, zip code), whose number names a group and measures "
                                          "nothing")
    imbalance: Literal["none", "class_weights", "oversample", "undersample"] = Field(
        "none", description="class imbalance handling, on the training split only")
    classes: list[Any] | None = Field(None, description="keep only rows of these target classes (e.g. [0,1,2,3,4])")
    train_fraction: float = Field(
        1.0, gt=0, le=1, description="use only this (stratified, seeded) fraction of the training split")
    image: ImageConfig = Field(default_factory=ImageConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig, description="training batches only")
    series: SeriesConfig | None = Field(None, description="time-series forecasting settings")
    text: TextConfig = Field(default_factory=TextConfig)
    sequence: SequenceConfig = Field(default_factory=SequenceConfig, description="sequence (.npz) settings")


# ----------------------------------------------------------------------------- model
class InitSpec(Section):
    name: InitName = Field("auto", description="the scheme; auto picks by activation; pytorch re-draws every "
                                                "layer as PyTorch builds it (weights and biases), undoing a custom "
                                                "network's own init")
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


class ModelBase(Section):
    init: Init = Field(default_factory=Init)
    init_from: str | None = Field(None, description="a run directory whose weights start this model (transfer)")
    freeze: list[str] = Field(default_factory=list, description="parameter-name prefixes to freeze, e.g. [blocks]")
    new_head: bool = Field(False, description="with init_from: a fresh output layer (e.g. new classes)")


class MLPModel(ModelBase):
    type: Literal["mlp"] = Field("mlp", description="network family")
    hidden: list[int] = Field(default_factory=lambda: [64, 64], description="hidden layer sizes")
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout after each hidden layer")
    batch_norm: bool = Field(False, description="batch norm before each activation")

    @field_validator("hidden")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(h < 1 for h in v):
            raise ValueError(f"every hidden size must be >= 1, got {v}")
        return v


class ConvBlock(Section):
    channels: int = Field(32, ge=1)
    kernel: int = Field(3, ge=1)
    stride: int = Field(1, ge=1)
    padding: Union[int, Literal["same"]] = Field("same", description="an integer, or same (keeps the size)")
    pool: Literal["max", "avg", "none"] = "max"
    pool_size: int = Field(2, ge=1)
    batch_norm: bool = True
    dropout: float = Field(0.0, ge=0, lt=1)


class CNNModel(ModelBase):
    type: Literal["cnn"] = "cnn"
    blocks: list[ConvBlock] = Field(default_factory=lambda: [ConvBlock(channels=32), ConvBlock(channels=64)],
                                    description="conv -> [batch norm] -> activation -> [pool] -> [dropout]")
    head: list[int] = Field(default_factory=lambda: [128], description="dense layers after the conv blocks")
    activation: Activation = "relu"
    dropout: float = Field(0.25, ge=0, lt=1, description="dropout in the dense head")
    global_pool: bool = Field(False, description="average over space before the head (fewer parameters)")


class RNNModel(ModelBase):
    type: Literal["rnn"] = "rnn"
    cell: Literal["rnn", "lstm", "gru"] = "lstm"
    hidden_size: int = Field(64, ge=1)
    layers: int = Field(1, ge=1)
    bidirectional: bool = False
    dropout: float = Field(0.0, ge=0, lt=1, description="between stacked layers (PyTorch applies none after the last), and after each layer of the dense head")
    head: list[int] = Field(default_factory=list, description="dense layers after the last state")


class TransformerModel(ModelBase):
    type: Literal["transformer"] = "transformer"
    d_model: int = Field(64, ge=2)
    heads: int = Field(4, ge=1)
    layers: int = Field(2, ge=1)
    ff: int = Field(128, ge=1, description="feed-forward width")
    dropout: float = Field(0.1, ge=0, lt=1)
    positional: Literal["sinusoidal", "learned", "none"] = "sinusoidal"
    pooling: Literal["mean", "cls"] = Field("mean", description="how the sequence becomes one vector (mean skips padding)")

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by heads ({self.heads})")
        return self


class GANModel(ModelBase):
    type: Literal["gan"] = "gan"
    arch: Literal["mlp", "dcgan"] = "mlp"
    latent: int = Field(64, ge=1, description="noise vector size")
    generator: list[int] = Field(default_factory=lambda: [256, 512], description="mlp: hidden sizes; dcgan: channels")
    discriminator: list[int] = Field(default_factory=lambda: [512, 256], description="mlp: hidden sizes; dcgan: channels")
    d_steps: int = Field(1, ge=1, description="discriminator updates per generator update")
    real_label: float = Field(0.9, gt=0, le=1, description="one-sided label smoothing for real samples")
    sample_every: int = Field(10, ge=1, description="epochs between sample grids (PNG)")


class PythonModel(ModelBase):
    type: Literal["python"] = "python"
    builder: str = Field(..., description="'package.module:function', called as function(spec, **options)")
    options: dict[str, Any] = Field(default_factory=dict, description="keyword arguments for the builder")


MODEL_TYPES = {"mlp": MLPModel, "cnn": CNNModel, "rnn": RNNModel, "transformer": TransformerModel,
               "gan": GANModel, "python": PythonModel}
ModelConfig = Annotated[Union[MLPModel, CNNModel, RNNModel, TransformerModel, GANModel, PythonModel],
                        Field(discriminator="type")]


# ----------------------------------------------------------------------------- training
class LossConfig(Section):
    name: Literal["auto", "mse", "mae", "huber", "cross_entropy", "bce", "hinge"] = Field(
        "auto", description="auto: cross_entropy (multiclass), bce (binary), mse (regression)")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description=(
        "cross_entropy and bce (eps/K moved to every class); with class weights each row's smoothed loss takes "
        "its own class's weight"))
    huber_delta: float = Field(1.0, gt=0)
    class_weights: Union[list[float], dict[str, float], None] = Field(
        None, description=(
            "per-class loss weights: a mapping from class label to weight (classes left out weigh 1), or a list in "
            "sorted label order (the order of preprocess.json's classes); data.imbalance=class_weights computes them"))

    @field_validator("class_weights", mode="before")
    @classmethod
    def _by_label(cls, v):
        if isinstance(v, dict):  # YAML reads a label such as 1 or 2.5 as a number; labels match as text
            booleans = [k for k in v if isinstance(k, bool)]
            if booleans:
                raise ValueError(f"YAML reads the key(s) {booleans} as true/false, not as a label (yes, no, on, off, "
                                 f"true, false): quote the label, e.g. {{'yes': 5}}")
            as_text = [str(k) for k in v]
            same = sorted({k for k in as_text if as_text.count(k) > 1})
            if same:
                raise ValueError(f"labels given twice, once as a number and once as text: {same}; keep one of each")
            return {str(k): w for k, w in v.items()}
        if v is not None and not isinstance(v, (list, tuple)):
            raise ValueError(f"expected a mapping from class label to weight, such as {{security: 10}} (a class "
                             f"left out weighs 1), or a list of weights in sorted label order; got {v!r}")
        return v

    @field_validator("class_weights")
    @classmethod
    def _non_negative(cls, v):
        items = v.items() if isinstance(v, dict) else enumerate(v or [])
        bad = [f"{k!r}: {w}" if isinstance(v, dict) else f"{w} (position {k})" for k, w in items
               if not (w >= 0 and math.isfinite(w))]
        if bad:
            raise ValueError(f"weights must be finite and 0 or more; got {', '.join(bad)}")
        return v


class ParamGroup(Section):
    prefix: list[str] = Field(..., description="parameter-name prefixes in this group, e.g. [blocks]")
    lr: float = Field(..., gt=0)


class OptimizerConfig(Section):
    name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam", "radam"] = "adam"
    lr: Union[Annotated[float, Field(gt=0)], Literal["auto"]] = Field(
        1e-3, description="learning rate, or auto: the LR range test picks it before training")
    momentum: float = Field(0.9, ge=0, lt=1, description="sgd and rmsprop")
    nesterov: bool = Field(False, description="sgd only; needs momentum > 0")
    betas: tuple[float, float] = Field((0.9, 0.999), description="adam family")
    eps: float = Field(1e-8, gt=0)
    weight_decay: float = Field(0.0, ge=0, description="L2 penalty (decoupled for adamw)")
    param_groups: list[ParamGroup] = Field(
        default_factory=list, description="own lr for some parameters (e.g. a smaller one for a pretrained backbone)")

    @field_validator("nesterov")
    @classmethod
    def _nesterov(cls, nesterov, info):
        # A field check (name and momentum come before it) so a bad lr does not hide it.
        name, momentum = info.data.get("name"), info.data.get("momentum")
        if nesterov and name is not None and momentum is not None and (name != "sgd" or momentum == 0):
            raise ValueError(f"needs optimizer.name sgd with momentum > 0, got name {name} and momentum {momentum:g}")
        return nesterov


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
    l1: float = Field(0.0, ge=0, description="L1 penalty on weights (not biases), added to the training "
                                             "objective; train_loss reports the data loss without it")
    clip_grad_norm: float | None = Field(None, gt=0, description="clip the global gradient norm")
    clip_grad_value: float | None = Field(None, gt=0, description="clip each gradient element")


class EarlyStopping(Section):
    enabled: bool = True
    monitor: str = Field("val_loss", description="val_loss or val_<metric>")
    mode: Literal["auto", "min", "max"] = Field("auto", description="auto: max for scores, min for losses and errors")
    patience: int = Field(10, ge=1, description="epochs without improvement before stopping")
    min_delta: float = Field(0.0, ge=0, description="smallest change that counts as improvement")
    restore_best: bool = Field(True, description="end with the weights of the best epoch")

    @field_validator("monitor")
    @classmethod
    def _monitorable(cls, monitor):
        if not _is_val_metric(monitor):
            raise ValueError(f"got {monitor!r}; valid: val_loss or val_<metric> with a metric from {_scalar()}")
        return monitor


class TrainingConfig(Section):
    epochs: int = Field(100, ge=1)
    batch_size: Union[int, Literal["full"]] = Field(32, description="an integer >= 1, or 'full' (batch gradient descent)")
    shuffle: bool = True
    device: str = Field("auto", description="auto (cuda when present), cpu, cuda, cuda:1, mps")
    threads: int | None = Field(
        None, ge=1, description="CPU threads for torch; default: torch's own (one per core). 1 is often as fast "
                                "for small models and far faster when other processes share the cores")
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


class DoctorConfig(Section):
    enabled: bool = Field(True, description="record signals and examine every epoch")
    repair: bool = Field(False, description="on a finding: roll back to the last good state, apply the top fix, go on")
    allow_architecture_changes: bool = Field(
        False, description="let repairs change the network (activation, init, batch norm, size)")
    max_repairs: int = Field(3, ge=0, description="repairs per run, at most")
    probe_size: int = Field(256, ge=8, description="training rows in the fixed probe batch")
    budget: float = Field(0.02, gt=0, le=0.5, description="share of training time the signals may take")

    @model_validator(mode="after")
    def _repair_needs_the_doctor(self):
        # The doctor repairs only what it finds while it watches; with it off, --repair was silently
        # a no-op and the run trained as written.
        if self.repair and not self.enabled:
            raise ValueError("doctor.repair: true needs doctor.enabled: true (the doctor repairs only what it "
                             "finds, and doctor.enabled: false turns it off); drop --repair or doctor.repair: "
                             "true, or set doctor.enabled: true")
        return self


class LoggingConfig(Section):
    report: bool = Field(True, description="write report.html at the end of train (about a second on small runs)")
    tensorboard: bool = Field(False, description="write TensorBoard event files to RUN/tensorboard "
                                                 "(needs: pip install tensorboard)")
    mlflow: str | None = Field(None, description="an MLflow tracking URI (e.g. file:./mlruns) to log params, "
                                                 "metrics and the report to (needs: pip install mlflow)")


class MetricsConfig(Section):
    names: list[str] | Literal["auto"] = Field(
        "auto", description="final metrics; auto: all that fit the task")
    per_epoch: list[str] | Literal["auto"] = Field(
        "auto", description="metrics recorded every epoch; auto: accuracy, or mae and r2")

    @field_validator("names", "per_epoch")
    @classmethod
    def _known(cls, value):
        from .metrics import CLASSIFICATION, REGRESSION

        known = set(CLASSIFICATION) | set(REGRESSION)
        bad = [m for m in value if m not in known] if value != "auto" else []
        if bad:
            raise ValueError(f"unknown metric(s) {bad}; valid: {sorted(known)}")
        return value


# ----------------------------------------------------------------------------- tune (issue 5)
class TuneParam(Section):
    """One searched config key: a float (linear or log), an int, or a choice among values."""
    type: Literal["float", "int", "choice"] = Field(..., description="float, int or choice")
    low: Union[float, Literal["auto"], None] = Field(
        None, description="lower bound; auto (optimizer.lr only): the range test's suggestion / span")
    high: Union[float, Literal["auto"], None] = Field(
        None, description="upper bound; auto (optimizer.lr only): the range test's suggestion x span")
    log: bool = Field(False, description="sample on a log scale (bounds must be > 0)")
    step: float | None = Field(None, gt=0, description="spacing of the values (int default 1)")
    values: list[Any] | None = Field(None, description="choice: the candidates (numbers, strings, lists...)")
    when: dict[str, Any] | None = Field(
        None, description="sample only when these keys have these values (a list = any of them), "
                          "e.g. {optimizer.name: sgd}")
    span: float = Field(10.0, gt=1, description="auto bounds: suggestion / span .. suggestion x span")

    @model_validator(mode="after")
    def _bounds(self):
        if self.type == "choice":
            if not self.values:
                raise ValueError("choice needs a non-empty list `values`, e.g. values: [adam, sgd]")
            return self
        if self.low is None or self.high is None:
            raise ValueError(f"{self.type} needs both low and high, got low={self.low} high={self.high}")
        auto = "auto" in (self.low, self.high)
        bad = [f"{n}={v}" for n, v in (("low", self.low), ("high", self.high)) if v != "auto" and not math.isfinite(v)]
        if bad or (self.step is not None and not math.isfinite(self.step)):
            raise ValueError(f"bounds and step must be finite numbers, got {', '.join(bad) or f'step={self.step}'}")
        if auto and self.type != "float":
            raise ValueError("low/high auto works for a float (optimizer.lr) only")
        if not auto and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must be <= high ({self.high:g})")
        if self.log and any(b != "auto" and b <= 0 for b in (self.low, self.high)):
            raise ValueError(f"log scale needs bounds > 0, got low={self.low} high={self.high}")
        if self.type == "int" and any(b != "auto" and float(b) != int(b) for b in (self.low, self.high)):
            raise ValueError(f"int bounds must be whole numbers, got low={self.low} high={self.high}")
        if self.step is not None and self.type == "int" and float(self.step) != int(self.step):
            raise ValueError(f"an int's step must be a whole number, got {self.step:g}")
        if self.step is not None and not auto and not self.log:
            # Optuna narrows such a range to the last whole step with a warning (8..64 by 100 becomes
            # 8..8, a parameter that never changes); say so before the study starts instead.
            import decimal

            d_low, d_high, d_step = (decimal.Decimal(str(v)) for v in (self.low, self.high, self.step))
            if (d_high - d_low) % d_step:
                below = float((d_high - d_low) // d_step * d_step + d_low)
                raise ValueError(f"low ({self.low:g}) to high ({self.high:g}) is not a whole number of steps of "
                                 f"{self.step:g}; set high to {below:g} or {below + float(self.step):g}, or another step")
        return self


class TuneObjective(Section):
    metric: str = Field(..., description="val_loss, val_<metric>, parameters, or latency_ms (per 1000 rows)")
    direction: Literal["auto", "minimize", "maximize"] = Field(
        "auto", description="auto: maximize scores, minimize losses, errors, parameters and latency")

    @field_validator("metric")
    @classmethod
    def _known(cls, metric):
        if not (_is_val_metric(metric) or metric in ("parameters", "latency_ms")):
            raise ValueError(f"got {metric!r}; valid: val_loss, val_<metric>, parameters, latency_ms")
        return metric


class TuneConfig(Section):
    space: dict[str, TuneParam] = Field(
        default_factory=dict, description="dotted config key -> distribution; a bare list is a choice")
    metric: str = Field("auto", description="the objective, val_loss or val_<metric>; auto: early stopping's monitor")
    direction: Literal["auto", "minimize", "maximize"] = Field("auto", description="auto: from the metric")
    objectives: list[TuneObjective] = Field(
        default_factory=list, description="two or more objectives: a multi-objective study with a Pareto front")
    sampler: Literal["auto", "grid", "random", "tpe", "gp", "cmaes", "nsga2"] = Field(
        "auto", description="auto: tpe for one objective, nsga2 for several")
    pruner: Literal["auto", "none", "median", "successive_halving", "hyperband"] = Field(
        "auto", description="auto: median for one objective, none for several (Optuna cannot prune those)")
    trials: int = Field(20, ge=1, description="finished trials the study should hold (a rerun resumes up to it)")
    timeout: float | None = Field(None, gt=0, description="seconds after which no new trial starts")
    seed: int | None = Field(None, ge=0, le=SEED_MAX, description="sampler seed; default: the config's seed")
    cv_folds: int = Field(1, ge=1, description="1: none; K in 2 .. train+val rows: each trial trains K folds of train+val; objective = mean")
    grid_points: int = Field(4, ge=2, description="grid sampler: values per float or wide int range")
    startup_trials: int = Field(5, ge=0, description="trials before pruning and model-based sampling start")
    warmup_epochs: int = Field(3, ge=1, description="epochs a trial always gets before it may be pruned")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric):
        if metric != "auto" and not _is_val_metric(metric):
            raise ValueError(f"got {metric!r}; valid: auto, val_loss or val_<metric> with a metric from {_scalar()}")
        return metric

    @field_validator("objectives")
    @classmethod
    def _two_or_more(cls, objectives):
        if len(objectives) == 1:
            raise ValueError("got one objective; list two or more (or use tune.metric for one)")
        listed = [o.metric for o in objectives]
        twice = sorted({m for m in listed if listed.count(m) > 1})
        if twice:
            raise ValueError("; ".join(f"{m} is listed {listed.count(m)} times" for m in twice) + "; list each metric once")
        return objectives

    @field_validator("space", mode="before")
    @classmethod
    def _list_is_choice(cls, v):
        if isinstance(v, dict):
            return {k: {"type": "choice", "values": p} if isinstance(p, list) else p for k, p in v.items()}
        return v

    @field_validator("space")
    @classmethod
    def _auto_for_lr_only(cls, space):
        bad = [k for k, p in space.items() if "auto" in (p.low, p.high) and k != "optimizer.lr"]
        if bad:
            raise ValueError("\n".join(f"tune.space.{k}: low/high auto is for optimizer.lr only (the LR range test)"
                                       for k in bad))
        return space


def _flat_keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for k, v in tree.items():
        keys.add(prefix + k)
        if isinstance(v, dict):
            keys |= _flat_keys(v, f"{prefix}{k}.")
    return keys


def _space_problems(space: dict, known_keys: set[str]) -> list[str]:
    """A searched key must exist in the config (for this model type), and `when` must name keys."""
    problems = []
    for key, param in space.items():
        if key.split(".")[0] in ("tune", "name"):
            problems.append(f"tune.space.{key}: " + ("the run name cannot be searched (each trial is named by the "
                            "study)" if key == "name" else "the tune: section itself cannot be searched")
                            + "; search keys of the other sections, such as optimizer.lr or model.hidden")
        elif key not in known_keys:
            close = difflib.get_close_matches(key, sorted(known_keys - {"name"}), n=1, cutoff=0.6)
            problems.append(f"tune.space.{key}: not a config key" + (f"; did you mean {close[0]}?" if close else
                            "; use a dotted key such as optimizer.lr or model.hidden"))
        when = param.get("when") if isinstance(param, dict) else getattr(param, "when", None)
        for cond in (when if isinstance(when, dict) else {}):
            if cond not in known_keys:
                problems.append(f"tune.space.{key}.when: {cond!r} is not a config key")
    return problems


def _tune_problems(cfg) -> list[str]:
    if not cfg.tune.space:
        return []
    return _space_problems(cfg.tune.space, _flat_keys(cfg.model_dump(mode="json", exclude={"tune"})))


def _schema_keys(model_type: str | None) -> set[str]:
    """Every key a config with this model type can hold, from the models alone."""
    import typing

    keys = set()

    def walk(cls, prefix: str) -> None:
        for name, field in cls.model_fields.items():
            keys.add(prefix + name)
            if cls is Config and name == "model":
                subs = [MODEL_TYPES[model_type]] if model_type in MODEL_TYPES else list(MODEL_TYPES.values())
            else:
                ann = field.annotation
                subs = [a for a in (ann, *typing.get_args(ann)) if isinstance(a, type) and issubclass(a, BaseModel)]
            for sub in subs:
                walk(sub, f"{prefix}{name}.")

    walk(Config, "")
    return keys


def _space_problems_raw(raw: dict) -> list[str]:
    """tune.space checked against a config that failed validation, so its unknown searched keys are
    reported with the other problems, not only once those are fixed. The known keys are every key
    the model type can hold plus those written: a superset of a valid config's own, so nothing
    reported here is wrong, while a key only a fuller check refuses waits for that check."""
    tune = raw.get("tune") if isinstance(raw, dict) else None
    space = tune.get("space") if isinstance(tune, dict) else None
    if not isinstance(space, dict) or not space:
        return []
    model = raw.get("model")
    model_type = model.get("type", "mlp") if isinstance(model, dict) else "mlp" if model is None else None
    rest = {k: v for k, v in raw.items() if k != "tune" and isinstance(k, str)}
    return _space_problems(space, _schema_keys(model_type) | _flat_keys(rest))


class Config(Section):
    name: str = Field("run", description="run name, used in the run directory name")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="one seed for init, shuffling, dropout and (unless data.split.seed is set) the split")
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=MLPModel)
    loss: LossConfig = Field(default_factory=LossConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    doctor: DoctorConfig = Field(default_factory=DoctorConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="the report and optional loggers")
    tune: TuneConfig = Field(default_factory=TuneConfig, description="hyperparameter search (trainwell tune)")

    @model_validator(mode="before")
    @classmethod
    def _default_model_type(cls, raw):
        # model.type may be left out: an MLP, as before the other families existed.
        if isinstance(raw, dict) and isinstance(raw.get("model"), dict) and "type" not in raw["model"]:
            raw = {**raw, "model": {**raw["model"], "type": "mlp"}}
        return raw

    @model_validator(mode="after")
    def _cross_checks(self):
        # Only checks that need two sections live here: pydantic runs this after every field has
        # validated, so a check on one key belongs on its section, where it is reported beside the
        # other keys' problems instead of only once they are fixed.
        problems = []
        if self.loss.class_weights is not None and self.data.imbalance == "class_weights":
            # Either would set the loss's weights; the explicit list used to win silently while the
            # log showed the computed ones ([1, 1] from a template left 2.5% fraud unweighted).
            problems.append(f"loss.class_weights: {self.loss.class_weights} and data.imbalance: class_weights both "
                            "set the class weights; remove loss.class_weights to use the balancing weights "
                            "data.imbalance computes, or set data.imbalance: none to use your own")
        problems += _tune_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self


# ----------------------------------------------------------------------------- loading
def parse_override(item: str) -> tuple[str, Any]:
    """'optimizer.lr=0.01' -> ('optimizer.lr', 0.01); the value is read as YAML so lists work."""
    if "=" not in item:
        raise UserError(f"--set {item!r}: expected key.path=value, e.g. --set optimizer.lr=0.01")
    key, raw = item.split("=", 1)
    _check_key(key.strip(), f"--set {item!r}")
    try:
        value = yamlio.load(raw) if raw.strip() else raw
    except yamlio.YAMLError:
        value = raw
    return key.strip(), value


def _check_key(dotted: str, where: str, cli: bool = True) -> None:
    # An empty part would be looked up as a key named '' and reported as "(top level): unknown key".
    example = ("expected key.path=value, e.g. --set optimizer.lr=0.01" if cli else
               "expected a dotted config key, e.g. optimizer.lr")
    if not dotted:
        raise UserError(f"{where}: the key{' before =' if cli else ''} is empty; {example}")
    if any(not part.strip() for part in dotted.split(".")):
        raise UserError(f"{where}: the key {dotted!r} has an empty part (a leading, trailing or doubled dot); "
                        f"{example}")


# The fields of a tune.space entry, to tell `tune.space.optimizer.lr.high` (a field of the entry
# optimizer.lr) from `tune.space.optimizer.lr` (the whole entry).
_PARAM_FIELDS = ("type", "low", "high", "log", "step", "values", "when", "span")


def _set_space_entry(raw: dict, dotted: str, rest: list[str], value: Any) -> None:
    """--set tune.space.KEY=... or tune.space.KEY.FIELD=...: a space key is itself dotted, so the
    entry is the longest prefix the space already has, else everything but a trailing field name."""
    tune = raw.setdefault("tune", {})
    if not isinstance(tune, dict):
        raise UserError(f"--set {dotted}: 'tune' holds a value, not a section")
    space = tune.setdefault("space", {})
    if not isinstance(space, dict):
        raise UserError(f"--set {dotted}: 'tune.space' holds a value, not a mapping of keys to distributions")
    known = [n for n in range(len(rest), 0, -1) if ".".join(rest[:n]) in space]
    n = known[0] if known else (len(rest) - 1 if len(rest) > 1 and rest[-1] in _PARAM_FIELDS else len(rest))
    key, field = ".".join(rest[:n]), rest[n:]
    if not field:
        space[key] = value
        return
    if len(field) > 1 or field[0] not in _PARAM_FIELDS:
        raise UserError(f"--set {dotted}: {'.'.join(field)!r} is not a field of the tune.space entry {key!r}; "
                        f"valid: {', '.join(_PARAM_FIELDS)}")
    entry = space.get(key)
    if isinstance(entry, list):  # a bare list is a choice
        entry = {"type": "choice", "values": entry}
    if entry is not None and not isinstance(entry, dict):
        raise UserError(f"--set {dotted}: tune.space.{key} holds {entry!r}, not an entry with fields")
    space[key] = {**(entry or {}), field[0]: value}


def apply_overrides(raw: dict, overrides: dict[str, Any]) -> dict:
    for dotted, value in overrides.items():
        _check_key(str(dotted).strip(), f"override {dotted!r}", cli=False)
        node = raw
        parts = dotted.split(".")
        if parts[:2] == ["tune", "space"] and len(parts) > 2:
            _set_space_entry(raw, dotted, parts[2:], value)
            continue
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


def _section_class(loc: tuple) -> tuple[Any, tuple]:
    """The model class that holds the last key of loc, and loc as the user wrote it.

    The model section is a union tagged by `type`; pydantic puts the tag into the path
    (model.cnn.blocks), which the user never wrote, so it is dropped and its class used instead.
    """
    if len(loc) > 1 and loc[0] == "model" and loc[1] in MODEL_TYPES:
        current, rest, shown = MODEL_TYPES[loc[1]], loc[2:], ("model",) + tuple(loc[2:])
    else:
        current, rest, shown = Config, loc, tuple(loc)
    for part in rest[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None, shown
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None, shown
        current = field.annotation
        args = [a for a in getattr(current, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
        if args:  # list[ConvBlock], ConvBlock | None
            current = args[0]
    return current, shown


_BRANCH = re.compile(r"^(constrained-)?(float|int|str|bool|list|dict)$|^function-|\[")


def _describe(err: dict) -> str:
    # Union branches add their type to the path (optimizer.lr.constrained-float); the user never wrote it.
    raw = tuple(p for p in err["loc"] if not (isinstance(p, str) and _BRANCH.search(p)))
    section, loc = _section_class(raw)
    path = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        hint = None
        if isinstance(section, type) and issubclass(section, BaseModel):
            close = difflib.get_close_matches(str(loc[-1]), list(section.model_fields), n=1, cutoff=0.6)
            hint = close[0] if close else None
        tail = f"; did you mean {'.'.join(str(p) for p in loc[:-1] + (hint,))}?" if hint else ""
        return f"{path}: unknown key{tail}"
    if kind in ("model_type", "model_attributes_type"):
        return f"{path}: got {err['input']!r}; {_section_expected(err.get('ctx', {}).get('class_name'), path)}"
    msg = err["msg"].removeprefix("Value error, ")
    if re.match(r"^[a-z_]+(\.[A-Za-z0-9_]+)+: ", msg) and (not loc or msg.startswith(path + ".")):
        return msg  # a check on a whole section that names its own key path (tune.space.<key>: ...)
    if "input" in err and kind != "missing" and "got " not in msg and "; valid: " not in msg \
            and not isinstance(err["input"], dict):
        return f"{path}: {msg}, got {err['input']!r}"
    return f"{path}: {msg}"


def _sections() -> dict[str, type]:
    found, todo = {}, [Section]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def _section_expected(class_name: str | None, path: str) -> str:
    """What a key that takes a mapping expects, in YAML terms: pydantic's own words ("a valid
    dictionary or instance of TuneParam") name a Python class the user never wrote."""
    if class_name == "TuneParam":
        key = path.removeprefix("tune.space.")
        return (f"expected a search distribution: a list of choices such as [0.001, 0.01], or a mapping "
                f"such as {{type: float, low: 0.0001, high: 0.1, log: true}}, {{type: int, low: 1, high: 4}} "
                f"or {{type: choice, values: [adam, sgd]}} (to fix {key} at one value, set {key} itself)")
    if class_name == "InitSpec":
        return "expected a scheme name such as he_normal, or a mapping such as {name: normal, std: 0.02}"
    if class_name == "TuneObjective":
        return "expected an objective: a mapping such as {metric: val_loss} or {metric: parameters, direction: minimize}"
    cls = _sections().get(class_name or "")
    # Every key, from the model itself: the first four alone read as the whole section.
    keys = ", ".join(cls.model_fields) if cls is not None else "type, hidden, ..."
    return f"expected a section: a mapping of its keys ({keys}), not a single value or a list"


def validate(raw: dict) -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        seen, problems = set(), []
        for err in exc.errors():
            line = _describe(err)
            for part in line.split("\n"):
                # A union reports once per branch; one line per key is enough.
                key = part.split(":")[0]
                if key not in seen:
                    seen.add(key)
                    problems.append(part)
        problems += [p for p in _space_problems_raw(raw) if p.split(":")[0] not in seen]
        raise ConfigError(problems) from None


def read_yaml(path: str | Path) -> dict:
    p = Path(path)
    if p.is_dir():
        raise UserError(f"Config file {str(p)!r} is a folder; give the path of a YAML config file.")
    if not p.is_file():
        raise UserError(f"Config file {str(p)!r} not found.")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        utf16 = " (it is UTF-16, as some Windows editors save)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise UserError(f"Config file {str(p)!r} is not UTF-8 text{utf16}: byte 0x{data[exc.start]:02x} on line "
                        f"{line} cannot be decoded; save the file as UTF-8") from None
    try:
        raw = yamlio.load(text)
    except yamlio.DuplicateKeyError as exc:
        raise UserError(f"Config file {str(p)!r}: {exc}; write each key once (merge the two, or the later "
                        f"would silently replace the earlier)") from None
    except yamlio.YAMLError as exc:
        raise UserError(f"Config file {str(p)!r} is not valid YAML: {exc}") from None
    if raw is None:
        # Every key has a default, so an empty file would train the default MLP on builtin:iris: a
        # wrong path or an unsaved editor buffer, never what someone with data of their own meant.
        what = "empty (0 bytes)" if not data else "empty (no settings, only comments or blank lines)"
        raise UserError(f"Config file {str(p)!r} is {what}; it must at least name the data, e.g. "
                        f"'data: {{source: my.csv, target: churn}}'. To have one written for your data, run "
                        f"`trainwell auto DATA --target COL`, or start from a config in examples/")
    if not isinstance(raw, dict):
        raise UserError(f"Config file {str(p)!r} must hold a mapping of sections, got {type(raw).__name__}.")
    return raw


def load_config(source: str | Path | dict | Config, overrides: dict[str, Any] | list[str] | None = None) -> Config:
    """Defaults <- YAML file (or dict) <- overrides ('a.b=c' strings or a {dotted: value} dict)."""
    if isinstance(source, Config):
        raw = source.model_dump(mode="json")
    elif isinstance(source, dict):
        raw = yamlio.load(yamlio.dump(source))  # deep copy, and plain types only
    else:
        raw = read_yaml(source)
    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    return validate(apply_overrides(raw, overrides or {}))


def dump_config(cfg: Config) -> str:
    return yamlio.dump(cfg.model_dump(mode="json"), sort_keys=False)


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
