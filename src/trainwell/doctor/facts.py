"""The facts about a run that the rules read and that do not change while it trains (Context), in
a module of their own so the rule modules share them without importing each other."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

# Context.memo's values, by the id of the context they were computed from.
_MEMOS: dict[int, dict] = {}


@dataclass
class Context:
    task: str                       # binary | multiclass | regression
    loss: str                       # resolved loss name
    optimizer: str
    lr: float
    epochs: int                     # planned
    n_classes: int | None = None
    class_shares: list[float] | None = None   # training split
    class_names: list[str] | None = None      # the labels, in the order of class_shares and loss.class_weights
    imbalance: str = "none"
    data_kind: str = "tabular"
    scale: str = "standardize"
    impute: str = "median"
    nonfinite_inputs: int = 0       # NaN/inf cells in the training inputs as fed to the network
    feature_rms: list[float] = field(default_factory=list)   # per input feature, as fed
    feature_names: list[str] = field(default_factory=list)
    activation: str | None = None
    dropout: float = 0.0
    weight_decay: float = 0.0
    has_val: bool = True
    train_fraction: float = 1.0     # data.train_fraction: the share of the training split trained on
    model_type: str = "mlp"
    early_stopping: bool = True
    restore_best: bool = True
    judged_from: int = 0            # epochs completed when the last repair landed: judge only what came after
    lr_cuts: int = 0                # learning-rate cuts the doctor already made (blow-up, kill, overshoot)
    orientation_undone: bool = False  # the doctor took a flip or a large rotation off (pairs.py)
    lr_raised: bool = False         # the doctor raised the rate (lr_too_low) during this run
    momentum: float = 0.0           # sgd: the effective step is lr / (1 - momentum)
    target_scaled: bool = True      # regression: the target is standardized while training
    schedule: str = "constant"      # schedule.name
    warmup_epochs: float = 0.0      # schedule.warmup_epochs
    huber_delta: float = 1.0        # loss.huber_delta
    narrowest_hidden: int | None = None   # an MLP's narrowest hidden layer
    mlp_hidden: list = field(default_factory=list)  # an MLP's model.hidden
    dropout_acts: bool = False  # model.dropout reaches a layer of the built network (context.dropout_acts)
    augment: dict = field(default_factory=dict)    # data.augment's active settings
    augment_distortion: float | None = None        # median |augmented - row| / |row| over training rows
    augment_retention: float | None = None         # class-mean accuracy kept under rotation/flips (context)
    shift_retention: float | None = None           # ... and under translate above 0.1 (context)
    label_smoothing: float = 0.0    # cross-entropy's loss.label_smoothing
    clip_grad_value: float | None = None   # regularization.clip_grad_value
    clip_grad_norm: float | None = None    # regularization.clip_grad_norm
    l1: float = 0.0                 # regularization.l1
    extreme_features: list = field(default_factory=list)   # context.extreme_features: sentinels, unit errors
    clip_outliers: str = "none"     # data.clean.clip_outliers
    cell: str | None = None         # rnn: model.cell
    bidirectional: bool = False     # rnn: model.bidirectional
    sequence_shapes: dict | None = None  # an mlp on sequences: steps as given against shift-free features (context)
    cue_profile: dict | None = None  # a one-way rnn's sequences: where along them the classes differ (context)
    hidden_size: int | None = None  # rnn: model.hidden_size
    d_model: int | None = None      # transformer: model.d_model
    heads: int | None = None        # transformer: model.heads
    positional: str | None = None   # transformer: model.positional
    frozen: list = field(default_factory=list)   # model.freeze
    init_from: bool = False         # model.init_from is set (transfer)
    loss_class_weights: list | None = None   # loss.class_weights, one per class in class order (a mapping resolved)
    coded_cells: dict = field(default_factory=dict)   # training cells each missing code made missing, per column
    numeric_columns: int = 0        # tabular numeric input columns
    coded_signal: dict = field(default_factory=dict)  # per coded column, its rows' target against the rest's (data report)
    coded_rows: int = 0             # training rows coded_cells was counted on (before rebalancing)
    target_rms: float | None = None  # regression with data.scale_target off: the target's typical magnitude
    conv_blocks: list = field(default_factory=list)   # cnn: model.blocks, as dicts
    global_pool: bool = False       # cnn: model.global_pool
    steps: int | None = None        # sequences and series: time steps per sample
    n_train: int = 0                # training rows
    val_rare_rows: int = 0          # validation rows of the class with the fewest there (classification)
    steps_per_epoch: int | None = None   # optimizer steps an epoch (batches)
    linear: object = None           # () -> baseline.linear_baseline's dict or None, fitted on first call
    init_weight: str = "auto"       # model.init.weight's scheme
    init_bias_value: float = 0.0    # model.init.bias's value when it is a constant (0 otherwise)
    eps: float = 1e-8               # optimizer.eps (Adam family: added to the gradient's running size)
    missing_codes: list = field(default_factory=list)   # data.clean.missing_codes already set
    target_extreme: dict | None = None  # a regression target's far values (context.extreme_features), raw units
    target_missing_codes: list = field(default_factory=list)   # data.clean.target_missing_codes already set
    unordered_time: dict | None = None  # a series read in file order whose date column goes back in time
    unseen_target: dict | None = None   # a forecast whose inputs leave out the target (context._unseen_target_history)
    left_out_columns: dict | None = None  # value_columns leaving out columns a ridge finds useful (series_measures)
    noise_columns: dict | None = None  # a wide table whose few screened columns beat all (column_screen)
    features_left_out: dict | None = None  # data.features says nothing, columns it leaves out do (column_screen)
    barely_learning: dict | None = None  # a custom net whose weights get next to no gradient (wiring)
    other_text: dict | None = None  # data.text.column says nothing, another text column does (context)
    text_order: dict | None = None  # transformer without positions: the yardstick on words and word pairs (baseline)
    param_groups: list = field(default_factory=list)   # optimizer.param_groups, as dicts (prefix, lr)
    es_monitor: str = "val_loss"    # training.early_stopping.monitor
    es_mode: str = "auto"           # training.early_stopping.mode as given
    betas: tuple = (0.9, 0.999)     # optimizer.betas (Adam family)
    clip_outliers_factor: float = 0.0   # data.clean.clip_factor (0: the method's default)
    clipped_cells: int = 0          # training cells data.clean.clip_outliers clipped
    clipped_columns: dict = field(default_factory=dict)  # the same, per column
    es_min_delta: float = 0.0       # training.early_stopping.min_delta
    es_patience: int = 10           # training.early_stopping.patience
    es_stops_now: bool = False      # early stopping ends the run at this epoch (set live, before the rules)
    batch_size: int | None = None   # training.batch_size (None: full batches)
    batch_norm: bool = False        # the network normalizes over the batch (an MLP's or any CNN block's batch norm)
    shuffle: bool = True            # training.shuffle
    row_order: dict | None = None   # with shuffle off: how far the training rows are sorted by their target
    undersampled: dict | None = None   # data.imbalance undersample: the data report's before/after counts
    fill_far: list = field(default_factory=list)   # impute constant: columns whose fill lies far outside them
    code_columns: list = field(default_factory=list)   # numeric columns that behave as codes (context.code_columns)
    max_categories: int = 50        # data.max_categories
    horizon: int | None = None      # a series forecast: data.series.horizon
    sequence_axes: dict | None = None   # few steps of many features that move like time (context.sequence_axes)
    sequence_layout: str = "steps_first"    # data.sequence.layout
    split_reversed: dict | None = None  # data.split with a training share under the test share (context)
    counts_as_codes: list = field(default_factory=list)  # data.categorical columns that are ordered amounts (context)
    categorical: list = field(default_factory=list)   # data.categorical as set
    split_twins: dict | None = None     # validation rows that are copies of training rows (context.split_twins)
    text_cut: dict | None = None        # how much of the texts data.text.max_len keeps (context.text_cut)
    head: list = field(default_factory=list)    # an rnn's or cnn's dense head (model.head)
    n_outputs: int | None = None        # the network's outputs
    schedule_collapse: dict | None = None   # where a decaying schedule takes the rate under 1% (context)
    cnn_collapse: dict | None = None    # a CNN block handed a 1x1 map (network_measures.cnn_collapse)
    schedule_rise: dict | None = None   # a cosine floor above the rate it decays from (context)
    min_lr: float = 0.0             # schedule.min_lr
    day_month_swapped: dict | None = None   # a series' dates regular only read the other way (data report)
    repeated_times: dict | None = None      # a series' time column that repeats and scrambles it (data report)
    blank_zeros: dict | None = None     # mostly-blank count columns with no zero written (context.blank_zeros)
    skewed_columns: list = field(default_factory=list)  # constant in a separate val/test file only (context)
    shifted_columns: list = field(default_factory=list)   # context.shifted_columns: one column unlike its file's
    drifted_inputs: list = field(default_factory=list)  # forecaster inputs outside the training range later
    input_columns: list = field(default_factory=list)   # a table's input columns (data.features as resolved)
    trailing_padding: dict | None = None    # sequences: trailing all-zero steps (data report's padding)
    text_vocab: dict | None = None      # what data.text.min_freq leaves out of the vocabulary (context.text_vocab)
    clip_flattened: list = field(default_factory=list)  # columns outlier clipping made constant (context)
    dedup_conflicts: dict | None = None     # labels that disagree on one input after deduplication (context)
    series_gaps: dict | None = None     # data.series.missing drop: rows dropped from the series (data report)
    flat_width: int | None = None       # a cnn: the numbers its conv blocks hand the dense layers
    pool_retention: float | None = None  # a global-pool cnn: class signal kept by translation-invariant features
    text_lowercase: bool = True     # data.text.lowercase
    nesterov: bool = False          # optimizer.nesterov (sgd only)
    affine: dict | None = None  # a custom network's distance from an affine map (context.affine_network)
    gradient_cut: dict | None = None  # a custom net's layers that get no gradient (network_measures)
    wiring: dict | None = None      # a custom net's wiring slips at init (doctor/wiring.py)
    gradientless: dict | None = None  # a constant init's weight matrices without gradient (doctor/wiring.py)
    probability_outputs: bool = False  # a custom classifier that ends in a softmax (network_measures)
    recurrent_axes: dict | None = None  # a custom network's recurrent layers that read the batch as time
    conversion_loss: dict | None = None  # classes data.image.color/size make look alike (image_measures)
    pixel_pool_retention: float | None = None  # the same with 1x1 filters, for a cnn whose kernels are all 1x1
    l1_at_init: float | None = None                # regularization.l1 x sum |w| of the initial weights
    cnn_blocks: list = field(default_factory=list)      # a cnn: model.blocks, as dicts
    spellings: list = field(default_factory=list)   # groups of class labels one only by case or spaces (context)
    feature_sd: list[float] = field(default_factory=list)   # an rnn with scaling off: each feature's spread
    feature_absmax: list[float] = field(default_factory=list)   # and its largest size


    def __setattr__(self, name, value):
        # Any change drops what memo() kept: a repair updates the context (class weights, the
        # loss, label smoothing) and every level read from it must follow.
        memo = _MEMOS.get(id(self))
        if memo:
            memo.clear()   # in place: the finalizer registered with it stays the one
        super().__setattr__(name, value)

    def memo(self, key: str, compute):
        """compute() once until a field changes. The chance level and the loss floor were computed
        about 25 times per epoch's examination, a fifth of the rules' time on tiny epochs (wine,
        iris: 3-4 ms an epoch, where the rules took 11-17% of training). Lists in the context are
        replaced, never changed in place, so a field's change always goes through __setattr__.
        Kept outside the instance's __dict__, which stays the fields alone (Context(**c.__dict__))."""
        memo = _MEMOS.get(id(self))
        if memo is None:
            memo = _MEMOS[id(self)] = {}
            weakref.finalize(self, _MEMOS.pop, id(self), None)
        if key not in memo:
            memo[key] = compute()
        return memo[key]

# The longest max_len a fix proposes (and the whole-text yardstick reads): attention's cost grows
# with the square of the length.
TEXT_LEN_CAP = 512


def usual_low(ctx: Context) -> float:
    """The bottom of the usual learning-rate range for the run's optimizer (lint.LR_RANGE)."""
    from .lint import ADAPTIVE, LR_RANGE

    return LR_RANGE.get(ctx.optimizer, ADAPTIVE)[0]


def usual_top(ctx: Context) -> float:
    """The top of the usual learning-rate range for the run's optimizer (lint.LR_RANGE)."""
    from .lint import ADAPTIVE, LR_RANGE

    return LR_RANGE.get(ctx.optimizer, ADAPTIVE)[1]
