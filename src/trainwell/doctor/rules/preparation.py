"""Judged before the first step, from how the data was cut and shaped: series windows and gaps,
sorted rows, splits with twins, undersampling, text lengths and vocabularies, padding and
augmentation. Each returns a Finding at epoch 0 or None."""

from __future__ import annotations

from ..baseline import verdict
from ..facts import TEXT_LEN_CAP, Context
from ..findings import Finding, Fix
from ..image_measures import PAIR_KEPT, PAIR_SEPARABLE


# Persistence (tomorrow as today) explaining half the variance of the validation targets or more:
# the target's own past is the strongest input a forecaster can have. A load forecaster given only
# the temperature scored r2 0.45 where persistence alone reaches 0.61 and the same LSTM with load
# among its inputs 0.95 (seventh held-out set).
PERSISTENCE_R2 = 0.5


def target_history_unseen(history, signals, ctx: Context) -> Finding | None:
    """data.series.value_columns that leave out the target: the network forecasts a series it never
    sees. Some forecasts must (the target is not known at prediction time); then persistence's
    score says what that costs."""
    seen = ctx.unseen_target
    if not seen or seen["persistence_r2"] < PERSISTENCE_R2:
        return None
    target, inputs = seen["target"], seen["inputs"]
    return Finding(
        "underfitting", "warning", 0, 0,
        {"target": target, "value_columns": inputs, "persistence_val_r2": round(seen["persistence_r2"], 4),
         "limit": PERSISTENCE_R2},
        f"data.series.value_columns {inputs} leave out the target {target!r}: the network forecasts {target} without "
        f"ever seeing its past. Its past alone explains much of it: holding the last value (persistence) scores r2 "
        f"{seen['persistence_r2']:.2f} on the validation windows. If {target} is known when forecasts are made, it "
        f"belongs among the inputs.",
        [Fix({"data.series.value_columns": [*inputs, target]}, f"add {target!r} to the inputs")])


def columns_left_out(history, signals, ctx: Context) -> Finding | None:
    """data.series.value_columns that leave out columns of the file a linear model finds useful
    (series_measures.left_out_columns: each tried beside the listed ones, on the same windows). A
    bike-share forecaster given only its own past counts (the univariate habit) had no way to know
    whether the next morning was a working one or wet: r2 0.841/0.860 against 0.922/0.908 with
    hour, workday, temperature and rain (fifteenth held-out set). A column that is not known when
    forecasts are made must stay out; the explanation says so."""
    found = ctx.left_out_columns
    if not found:
        return None
    names = [h["column"] for h in found["helpful"]]
    gains = ", ".join(f"{h['column']} +{h['r2_gain']:.2f}" for h in found["helpful"])
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit_r2_gain": 0.02},
        f"data.series.value_columns {found['listed']} leave out {', '.join(names)}. A ridge regression on the same "
        f"windows scores validation r2 {found['r2_listed']:.2f} with the listed columns and {found['r2_with_helpful']:.2f} "
        f"with these added (each alone: {gains}): they say something about the target that its own past does not. "
        f"If they are known when forecasts are made, they belong among the inputs; a column that records what "
        f"happens later (the next step's actual value) would help as much and must stay out.",
        [Fix({"data.series.value_columns": found["listed"] + names}, f"add {', '.join(map(repr, names))} to the inputs")])


def columns_drown_signal(history, signals, ctx: Context) -> Finding | None:
    """A wide table (as many features as training rows, or more) whose signal sits in a few columns
    (column_screen.noise_columns: screened one by one on the training rows, and a linear model on
    those few far better on the validation rows than on all). A network can fit every training row
    through the columns that say nothing: an MLP on wine's 13 measurements logged beside 400 unrelated
    sensors (124 training rows) scored 0.370/0.556 against 1.000/0.963 on the 13, its validation loss
    never under chance (eighth held-out set)."""
    found = ctx.noise_columns
    if not found:
        return None
    from ..column_screen import KEEP_FDR

    kept, every, few = found["kept"], found["all"], found["screened"]
    if "val_r2" in few:
        score = f"validation r2 {few['val_r2']:.2f} on those against {every['val_r2']:.2f} on all of them"
    else:
        score = (f"validation loss {few['val_loss']:.3g} on those against {every['val_loss']:.3g} on all of them "
                 f"(accuracy {few['val_accuracy']:.3f} against {every['val_accuracy']:.3f})")
    shown = ", ".join(kept[:8]) + (f" and {len(kept) - 8} more" if len(kept) > 8 else "")
    return Finding(
        "overfitting", "warning", 0, 0,
        {"features": found["features"], "training_rows": found["rows"], "kept_columns": kept,
         "kept_features": found["kept_features"], "linear_all": every, "linear_kept": few, "false_discovery_rate": KEEP_FDR},
        f"The table has {found['features']} features for {found['rows']} training rows, and only {len(kept)} of its "
        f"columns ({shown}) are related to the target on their own (an F-test per column, at a false discovery rate of {KEEP_FDR}). A {every['model']} does "
        f"far better on those alone: {score}. With more features than rows a network can fit every training row "
        f"through columns that say nothing, and what it learns does not carry over to new rows. Train on the "
        f"columns that carry the signal (data.features), or gather many more rows.",
        [Fix({"data.features": kept}, f"keep the {len(kept)} columns the screen finds related to the target "
                                      f"(checked: a linear model does far better on them)")])


def features_left_out(history, signals, ctx: Context) -> Finding | None:
    """data.features lists columns in which the linear yardstick finds nothing, while columns the
    list leaves out, each added to it, carry the signal (column_screen.left_out_signal). Diabetes'
    age and sex alone, a list from a demographics-only config: r2 0.013/0.025 against 0.196/0.359
    with the eight clinical measurements (eighth held-out set)."""
    found = ctx.features_left_out
    if not found:
        return None
    names = [h["column"] for h in found["helpful"]]
    before, after = found["as_listed"], found["with_helpful"]
    if "val_r2" in before:
        score = f"validation r2 {before['val_r2']:.2f} on the listed columns and {after['val_r2']:.2f} with these added"
    else:
        score = (f"validation loss {before['val_loss']:.3g} on the listed columns (the class shares give "
                 f"{before['chance_loss']:.3g}) and {after['val_loss']:.3g} with these added")
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    leaks = found.get("left_out_as_leaks") or []
    return Finding(
        "underfitting", "warning", 0, 0, {**found, "limit_r2_gain": 0.02, "limit_loss_gain_of_chance": 0.05},
        f"data.features {found['listed']} hold nothing a {before['model']} can use, and the columns it leaves out do: "
        f"{shown} ({score}). A network can learn no more than its inputs say. If those columns are known when "
        f"predictions are made, they belong among the inputs; one that records the outcome itself (a refund asked "
        f"for after cancelling) must stay out."
        + (f" Not offered: {', '.join(leaks)}, which alone predicts the validation rows almost perfectly, more likely "
           f"a leak of the outcome than a forgotten input." if leaks else ""),
        [Fix({"data.features": found["listed"] + names}, f"add {', '.join(map(repr, names[:8]))}"
                                                        f"{' and more' if len(names) > 8 else ''} to data.features")])


def rows_sorted(history, signals, ctx: Context) -> Finding | None:
    """training.shuffle off on training rows sorted by their target (context.row_order): each epoch
    walks one class after another (or from low targets to high), so every stretch of batches pulls
    the weights towards what it holds, momentum and batch norm's running statistics follow the last
    stretch, and the epoch ends tuned to the last classes (a CNN on digits sorted by class: 0.19
    against 0.98 shuffled; eighth held-out set). Fires at a tenth of the label changes a random
    order gives, or a rank correlation of 0.9 between a regression target and the row number."""
    order = ctx.row_order
    if ctx.shuffle or not order:
        return None
    if "label_changes" in order:
        if order["label_changes"] > 0.1 * order["random_order_changes"]:
            return None
        how = (f"the class changes only {order['label_changes']} times from one row to the next, where a random "
               f"order changes it about {order['random_order_changes']:.0f} times")
        limit = "label changes <= 0.1 x a random order's"
    else:
        if abs(order["target_rank_correlation"]) < 0.9:
            return None
        how = f"the target's rank correlation with the row number is {order['target_rank_correlation']:.2f}"
        limit = "|rank correlation| >= 0.9"
    return Finding(
        "bad_input_data", "warning", 0, 0, {**order, "shuffle": False, "limit": limit},
        f"training.shuffle is off and the training rows are sorted by their target: {how} (over "
        f"{order['rows']} rows). Each epoch then shows the network one kind of row after another, and it "
        f"ends every epoch fitted to the last ones it saw.",
        [Fix({"training.shuffle": True}, "shuffle the rows every epoch, so every batch is a fair sample")])


def series_unshuffled(history, signals, ctx: Context) -> Finding | None:
    """training.shuffle off on a forecaster: a series' training windows are in time order, so each
    batch is a stretch of consecutive hours that share their level and season, the gradients of a
    batch all point one way, and every epoch ends fitted to the latest stretch (batch norm makes it
    worse: it normalises each stretch's shared level away in training only). On five healthy
    forecasters of the held-out sets (GRUs, an LSTM, a transformer; doctor off, seeds 0/1), shuffle
    off lost 5-9 points of r2 on a seed of four and 1 on the fifth; an MLP with batch norm lost 14-22
    (twelfth held-out set). Shuffling windows loses nothing: each holds its own past."""
    if ctx.shuffle or ctx.data_kind != "timeseries":
        return None
    return Finding(
        "underfitting", "warning", 0, 0, {"shuffle": False, "data_kind": "timeseries"},
        "training.shuffle is off on a time series: the training windows are in time order, so every batch is a "
        "stretch of consecutive windows with the same level and season, each batch pulls the weights its own way, "
        "and every epoch ends fitted to the latest stretch of time"
        + (" (batch norm then normalises each stretch's shared level away, in training only)" if ctx.batch_norm
           else "") + ". Each window carries its own past, so shuffling them keeps every pattern in time.",
        [Fix({"training.shuffle": True}, "shuffle the windows every epoch, so every batch samples the whole series")])


# Undersampling balances classes by dropping rows of the larger ones. Keeping under a quarter of the
# training rows, with the smallest class under 50, leaves too little to learn from: class weights
# balance the loss instead and keep every row (a 3% minority on a 5-vs-rest digits set: 44 of 662
# rows kept, balanced accuracy 0.80 against 0.92 with class weights; eighth held-out set).
UNDERSAMPLE_KEEP = 0.25


UNDERSAMPLE_MIN_CLASS = 50


def undersampled_away(history, signals, ctx: Context) -> Finding | None:
    rep = ctx.undersampled
    if not rep or not rep.get("before") or not rep.get("after"):
        return None
    before, after = sum(rep["before"].values()), sum(rep["after"].values())
    smallest = min((n for n in rep["before"].values() if n > 0), default=0)
    if not before or after > UNDERSAMPLE_KEEP * before or smallest >= UNDERSAMPLE_MIN_CLASS:
        return None
    return Finding(
        "class_imbalance", "warning", 0, 0,
        {"imbalance": "undersample", "rows_before": before, "rows_after": after, "smallest_class": smallest,
         "limit": f"kept <= {UNDERSAMPLE_KEEP} of the rows with the smallest class under {UNDERSAMPLE_MIN_CLASS}"},
        f"data.imbalance: undersample cut the training split from {before} rows to {after}, as many of each class "
        f"as the smallest has ({smallest}). That throws away {1 - after / before:.0%} of the data to balance it.",
        [Fix({"data.imbalance": "class_weights", **({"loss.class_weights": None} if ctx.loss_class_weights else {})},
             "class weights balance the loss and keep every row")])


# A forecast of `horizon` steps from a window shorter than the horizon: the network sees less past
# than it must extend. N-BEATS (Oreshkin et al. 2020) looks back 2 to 7 horizons; 4 is the middle
# (a GRU forecasting 6 hours of load from a window of 1: r2 0.65 against 0.94 from 24; eighth
# held-out set).
LOOKBACK_HORIZONS = 4


def window_too_short(history, signals, ctx: Context) -> Finding | None:
    if ctx.data_kind != "timeseries" or not ctx.horizon or not ctx.steps or ctx.steps >= ctx.horizon:
        return None
    # A longer window leaves fewer windows in the training part (its rows minus window and horizon):
    # at most as long as keeps half of them.
    rows = ctx.n_train + ctx.steps + ctx.horizon - 1
    to = min(LOOKBACK_HORIZONS * ctx.horizon, (rows - ctx.horizon + 1) // 2)
    fixes = [Fix({"data.series.window": to}, f"a window of {to} steps ({to / ctx.horizon:.3g} horizons; forecasting "
                                              f"models usually look back 2-7)")] if to > ctx.steps else []
    return Finding(
        "underfitting", "warning", 0, 0, {"window": ctx.steps, "horizon": ctx.horizon, "limit": "window >= horizon"},
        f"data.series.window is {ctx.steps} step(s) for a forecast {ctx.horizon} steps ahead: the network sees less "
        f"of the past than it must extend, so it cannot pick up the series' trend or cycle.",
        fixes)


def steps_as_features(history, signals, ctx: Context) -> Finding | None:
    """Sequences whose steps and features are swapped (context.sequence_axes): an .npz saved as
    (N, channels, steps), the layout PyTorch's Conv1d takes, read as (N, steps, features), gives a
    recurrent net 2 "steps" of 60 numbers each, so it never walks through time (0.33 against 0.90 on
    the example sequences; eighth held-out set). Fires on at most 4 steps of at least 8x as many
    features where neighbouring features move together (median correlation >= 0.3) by at least 0.1
    more than a feature does from one step to the next: a time series' neighbours are alike, two
    channels at one moment need not be. The fix flips data.sequence.layout."""
    axes = ctx.sequence_axes
    if not axes or axes["neighbour_features"] < 0.3:
        return None
    # Two steps for a recurrent net is no walk through time whatever the channels do: two ECG leads
    # at one moment move together (0.735) as much as neighbouring samples (0.68), and a GRU fed the
    # strips transposed scored 0.711/0.696 against 0.911/0.985 (fourteenth held-out set).
    # Known limit: two frames of a smooth spectrum, laid out right, read the same way (0.952 against
    # 0.984, a reviewer's synthetic case), and would be named too; no case of the suites is.
    two_step_rnn = axes["steps"] <= 2 and ctx.model_type == "rnn"
    if axes["next_step"] is not None and axes["neighbour_features"] < axes["next_step"] + 0.1 and not two_step_rnn:
        return None
    flip = "steps_first" if ctx.sequence_layout == "channels_first" else "channels_first"
    step_note = "" if axes["next_step"] is None else \
        f", while a feature moves with itself one step later only {axes['next_step']:.2f}"
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**axes, "layout": ctx.sequence_layout,
         "limit": "steps <= 4, features >= 8 x steps, neighbouring features' correlation >= 0.3 and >= 0.1 over "
                  "the next step's"},
        f"The sequences have {axes['steps']} step(s) of {axes['features']} features, and neighbouring features move "
        f"together (median correlation {axes['neighbour_features']:.2f}){step_note}: the features look like time "
        f"steps and the steps like channels, as when an array saved as (N, channels, steps) is read as (N, steps, "
        f"features). A recurrent net then takes {axes['steps']} step(s) and never walks through the series.",
        [Fix({"data.sequence.layout": flip}, f"read x as {'(N, features, steps)' if flip == 'channels_first' else '(N, steps, features)'}"
             f" (data.sequence.layout: {flip}), so the net steps through time")])


def split_twins(history, signals, ctx: Context) -> Finding | None:
    """Copies of one record on both sides of the split (context.split_twins): with
    data.clean.drop_duplicates off, a file that repeats its rows puts a twin of most validation rows
    in training, so validation scores memory instead of generalisation, early stopping and every
    choice made on it follow that, and the run ends on a memorised model (breast_cancer with each row
    four times and 20% wrong labels: 0.81 against 0.92 deduplicated; ninth held-out set). Fires when
    a tenth of the validation rows (5 or more) has an exact twin in training, in a table with a
    column of measurements, where two records rarely agree to the last digit by chance."""
    twins = ctx.split_twins
    if not twins or twins["share"] < 0.1 or twins["with_training_twin"] < 5:
        return None
    if twins.get("val_file"):
        return _val_file_is_training(twins)
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**twins, "drop_duplicates": False, "limit": "share >= 0.1 of validation rows, 5 or more"},
        f"{twins['with_training_twin']} of the {twins['val_rows']} validation rows ({twins['share']:.0%}) are exact "
        f"copies of training rows, inputs and target alike, with data.clean.drop_duplicates off. Validation then "
        f"rewards memorising the training rows, so its scores, early stopping and any tuning on them overstate what "
        f"the model does on new records.",
        [Fix({"data.clean.drop_duplicates": True}, "drop the repeated rows before the split, so each record lands "
                                                   "in one split only")])


# Half the rows of a data.val file found in training, inputs and target alike: the file is (mostly)
# the training data, a copy-paste slip. Loan applications with data.val set to the training export:
# validation fell with training as a [256, 256] net memorised its 25% wrong labels, early stopping
# never fired, and the last weights scored 0.73 against 0.80 with the real validation file
# (eleventh held-out set). A file of new records shares no exact row with training where a column
# holds measurements (split_twins' condition).
VAL_FILE_TWIN_SHARE = 0.5


def _val_file_is_training(twins: dict) -> Finding | None:
    if twins["share"] < VAL_FILE_TWIN_SHARE:
        return None  # some copies across two exports: drop_duplicates cannot reach them, and the file is new rows
    split = twins["split"]
    val = split["val"] or 0.2
    train = round(1 - val - split["test"], 6)
    fixes = [Fix({"data.val": None, "data.split.train": train, "data.split.val": val},
                 "no data.val file: validate on a split of data.source's rows, kept out of training")] \
        if train >= 0.5 else []
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**twins, "limit": f"share >= {VAL_FILE_TWIN_SHARE} of the data.val file's rows"},
        f"{twins['with_training_twin']} of the {twins['val_rows']} rows of the data.val file {twins['val_file']} "
        f"({twins['share']:.0%}) are training rows, inputs and target alike: the validation data is the training "
        f"data. Its loss falls as the network memorises, so overfitting never shows, early stopping never acts, and "
        f"every choice made on validation rewards memory.",
        fixes)


# The yardstick on whole texts at this share of its loss on the texts as cut or less, and this many
# accuracy points up: the cut costs most of the signal.
CUT_LOSS_SHARE, CUT_ACCURACY_GAIN = 0.5, 0.1


def text_cut_short(history, signals, ctx: Context) -> Finding | None:
    """data.text.max_len cuts most texts to a fraction of their words (context.text_cut): whatever
    the label depends on past the cut never reaches the network (reviews cut to 16 tokens before
    their verdict: 0.49 against 0.97 at 64; ninth held-out set). Fires when half the training texts
    are cut and under half of all their tokens are kept; the fix keeps 99% of the texts whole."""
    cut = ctx.text_cut
    if not cut or cut["truncated"] < 0.5 * cut["rows"]:
        return None
    # Most tokens kept, but what was kept says nothing: the linear yardstick on the texts as cut finds
    # no signal, and on whole texts it does (log lines cut to 16 tokens, all timestamp, host and pid:
    # 1.07 of chance as cut, 0.07 whole; accuracy 0.183 against 0.980; seventeenth held-out set).
    # Commit subjects cut to 4 tokens kept their signal (0.15 of chance, 0.14 whole) and trained well.
    as_cut, whole = cut.get("baseline_as_cut"), cut.get("baseline_whole")
    silent = verdict(as_cut) == "nothing" and verdict(whole) == "signal"
    # Or the cut costs the yardstick most of what whole texts give it: ATC transcripts cut at 12
    # tokens, the instruction last, lost it in half the lines (loss 1.36 as cut, 0.085 whole;
    # accuracy 0.500 against 0.992), 0.487/0.567 against 0.988/0.996 (eighteenth held-out set).
    # Commit subjects cut to 4 tokens: 0.267 against 0.241, nothing lost.
    costly = bool(as_cut and whole) and "val_loss" in as_cut and verdict(whole) == "signal" \
        and whole["val_loss"] <= CUT_LOSS_SHARE * as_cut["val_loss"] \
        and whole["val_accuracy"] >= as_cut["val_accuracy"] + CUT_ACCURACY_GAIN
    if cut["kept_share"] >= 0.5 and not (silent or costly):
        return None
    to = min(TEXT_LEN_CAP, -(-max(cut["length_p99"], 1) // 8) * 8)
    why = (f"{to} tokens keep 99% of the training texts whole" if to >= cut["length_p99"] else
           f"{to} tokens, the most worth the attention's cost (which grows with the square of the length)")
    fixes = [Fix({"data.text.max_len": to}, why)] if to > cut["max_len"] else []
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**cut, "limit": "truncated >= 0.5 of the texts, and kept_share < 0.5 of the tokens or the words kept "
                         "hold no linear signal that whole texts hold"},
        f"data.text.max_len is {cut['max_len']} tokens: {cut['truncated']} of {cut['rows']} training texts are longer "
        f"and are cut, keeping {cut['kept_share']:.0%} of their tokens (99% of the texts have up to "
        f"{cut['length_p99']}). Whatever decides the label past the cut never reaches the network."
        + (f" Here that is all of it: a {as_cut['model']} on the words of each text as cut does no better than the "
           f"class shares (validation loss {as_cut['val_loss']:.3g} against {as_cut['chance_loss']:.3g}), and on "
           f"whole texts it reaches {whole['val_loss']:.3g}. The beginnings the cut keeps say nothing about the "
           f"label (a header, a greeting, a template)." if silent and "val_loss" in as_cut else
           f" Here that is most of it: a {as_cut['model']} on the words of each text as cut reaches validation loss "
           f"{as_cut['val_loss']:.3g} (accuracy {as_cut['val_accuracy']:.3f}), on whole texts {whole['val_loss']:.3g} "
           f"({whole['val_accuracy']:.3f}): what decides the label often comes after the cut." if costly else ""),
        fixes)


def text_column_silent(history, signals, ctx: Context) -> Finding | None:
    """data.text.column holds texts whose words say nothing about the label, and another text column
    of the file does (context.other_text_signal: the linear bag-of-words yardstick at chance on the
    column as configured, with signal on the other). A helpdesk classifier read the subjects, twelve
    generic lines shared by every department, instead of the bodies: 0.258 against 1.000 (eleventh
    held-out set)."""
    found = ctx.other_text
    if not found:
        return None
    as_is, other = found["as_is"], found["other"]
    base = other["baseline"]
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"text_column": found["column"], "linear_val_loss": as_is["val_loss"], "chance_loss": as_is["chance_loss"],
         "other_column": other["column"], "other_linear_val_loss": base["val_loss"],
         "other_chance_loss": base["chance_loss"], "other_val_accuracy": base.get("val_accuracy")},
        f"The texts of data.text.column {found['column']!r} say nothing about the label: a {as_is['model']} on their "
        f"words does no better than the class shares (validation loss {as_is['val_loss']:.3g} against "
        f"{as_is['chance_loss']:.3g}), while on the words of column {other['column']!r} it reaches "
        f"{base['val_loss']:.3g} (accuracy {base.get('val_accuracy', float('nan')):.3f}). A network on these texts can "
        f"only memorise the training rows. Most often the config names the column of another export (a subject "
        f"line, a title, a template) where the text that carries the label is in another.",
        [Fix({"data.text.column": other["column"]}, f"read the texts of {other['column']!r}, whose words tell the "
                                                    f"classes apart (checked with the linear yardstick)")])


def usual_augment_fix(ctx: Context) -> Fix | None:
    """Each augmentation component above its usual range brought back into it: rotation 15 degrees,
    translate 0.1, noise 0.1."""
    usual = {"rotation": 15.0, "translate": 0.1, "noise": 0.1}
    over = {f"data.augment.{k}": v for k, v in usual.items() if ctx.augment.get(k, 0) > v}
    if not over:
        return None
    usual_range = ", ".join(f"{k.rsplit('.', 1)[-1]} {v:g}" for k, v in over.items())
    return Fix(over, f"augmented rows differ from the originals by {ctx.augment_distortion:.1f}x their own size: "
                     f"back to the usual range ({usual_range})")


# Before training, augmentation is named on its own only when it moves a row a quarter past the
# row's own size: translate 0.5 on 8x8 digits moves a digit 1.33x its size and left a CNN at 0.67
# against 0.99 (ninth held-out set), while rotation 30 with translate 0.2 (1.02), a quarter-image
# shift (1.02) or both flips (0.84) are heavy settings that can be meant; those are only named once
# training fails (fit._augment_fix, at 1.0).
AUGMENT_ALONE_LIMIT = 1.25


def augment_too_strong(history, signals, ctx: Context) -> Finding | None:
    if ctx.augment_distortion is None or ctx.augment_distortion < AUGMENT_ALONE_LIMIT:
        return None
    fix = usual_augment_fix(ctx)
    settings = ", ".join(f"{k} {str(v).lower() if isinstance(v, bool) else format(v, 'g')}"
                         for k, v in ctx.augment.items())
    return Finding(
        "underfitting", "warning", 0, 0,
        {"augment": ctx.augment, "augment_distortion": ctx.augment_distortion, "limit": AUGMENT_ALONE_LIMIT},
        f"data.augment ({settings}) moves each training row by "
        f"{ctx.augment_distortion:.2f}x its own size (median over 256 rows): the network sees more augmentation than "
        f"data, the training rows stop looking like the validation rows, and it underfits both.",
        [fix] if fix else [])


# Rotation or flips that keep under 58% of what tells the classes apart (context.augment_retention)
# turn rows of one class into look-alikes of another. On digits (seeds 0-3): rotation 180 keeps
# 0.22-0.25 and left a CNN at 0.84 against 0.98 (tenth held-out set), both flips 0.48-0.54 and 0.88
# against 0.98 (seventh), rotation 60 0.48-0.53; rotation 45 keeps 0.62-0.63 and one flip 0.63-0.69,
# each costing that CNN 2-3 points, which a user may accept for the robustness. The limit sits
# between the two groups. Classes that look the same in every orientation keep 1.00 under any
# rotation and both flips.
AUGMENT_RETENTION_LIMIT = 0.58


def orientation_fix(ctx: Context) -> tuple[dict, str]:
    """The overrides that keep images in their orientation (rotation 15 at most, no flips), and the
    settings they change as words ('rotation 45, hflip true'); empty when nothing turns images."""
    fix = {}
    if ctx.augment.get("rotation", 0) > 15:
        fix["data.augment.rotation"] = 15.0
    for flip in ("hflip", "vflip"):
        if ctx.augment.get(flip):
            fix[f"data.augment.{flip}"] = False
    return fix, ", ".join(f"{k.rsplit('.', 1)[-1]} {str(ctx.augment[k.rsplit('.', 1)[-1]]).lower()}" for k in fix)


def augment_turns_classes(history, signals, ctx: Context) -> Finding | None:
    kept = ctx.augment_retention
    if kept is None or kept >= AUGMENT_RETENTION_LIMIT:
        return None
    fix, turns = orientation_fix(ctx)
    return Finding(
        "underfitting", "warning", 0, 0,
        {"augment": ctx.augment, "class_signal_kept": kept, "limit": AUGMENT_RETENTION_LIMIT},
        f"data.augment's changes of orientation ({turns}) keep only {max(kept, 0):.0%} of what tells the classes "
        f"apart (a classifier by class means, on 512 training rows turned as training turns them): in this data the "
        f"classes depend on orientation, and a turned or mirrored row looks like another class (a 6 turned half way "
        f"is a 9). The network is trained on rows whose labels no longer match what they show.",
        [Fix(fix, "rotation up to 15 degrees and no flips keep each image's orientation, which its class depends on")])


# Shifts above the usual range (translate over 0.1) that keep under a quarter of what tells the classes
# apart (context.shift_retention): the class lies in where things are, and a shifted row shows another
# class's place under its own label. Wafer maps whose defect's place is the class, under translate
# 0.25: 0.13, and a CNN at 0.895/0.924 against 0.986/0.962 without shifts (fourteenth held-out set);
# digits under translate 0.5: 0.08 (0.66 against 0.99, ninth), under 0.3: 0.18 (a CNN at 0.933/0.948
# against 0.989/0.981 without shifts; under 0.2, 0.36 and 0.963/0.970). Every healthy run of the suites with
# shifts keeps 0.40 or more: tread patterns under 0.3 (0.40), gauges under 0.1 (0.44; at 0.1 the
# check is not made), boards under 0.2 (0.72), digits and glyphs under 0.1 (0.78-0.80). Class means
# are partly blind to what a convolution takes in its stride, so the limit sits far under the turns'.
# Pill trays under 0.3, where a shift pushes tablets out of the frame, keep 0.40 and are not named.
SHIFT_RETENTION_LIMIT = 0.25


def augment_shifts_classes(history, signals, ctx: Context) -> Finding | None:
    kept = ctx.shift_retention
    if kept is None or kept >= SHIFT_RETENTION_LIMIT:
        return None
    return Finding(
        "underfitting", "warning", 0, 0,
        {"augment": ctx.augment, "class_signal_kept": kept, "limit": SHIFT_RETENTION_LIMIT},
        f"data.augment.translate {ctx.augment.get('translate', 0):g} keeps only {max(kept, 0):.0%} of what tells the "
        f"classes apart (a classifier by class means, on 512 training rows shifted as training shifts them): in "
        f"this data where things are in the image is the class, and a shifted row shows another class's place "
        f"under its own label.",
        [Fix({"data.augment.translate": 0.0}, "no shifts: the place of what the image shows is what tells its class")])


def split_reversed(history, signals, ctx: Context) -> Finding | None:
    """data.split giving training less than the test split (context.split_reversed)."""
    split = ctx.split_reversed
    if not split:
        return None
    return Finding(
        "overfitting", "warning", 0, 0, {**split, "limit": "train >= test, or 10000 training rows"},
        f"data.split trains on {split['train']:.0%} of the rows ({split['train_rows']}) and keeps {split['test']:.0%} "
        f"for the test: the shares look written into each other's keys. With so few rows to learn from the network "
        f"memorises them, and the larger part of the data only grades it.",
        [Fix({"data.split.train": split["test"], "data.split.test": split["train"]},
             "the training and test shares the other way round")])


def amounts_as_codes(history, signals, ctx: Context) -> Finding | None:
    """A number listed in data.categorical that is an amount: many levels whose mean target rises or
    falls with the number (context.counts_as_codes)."""
    cols = ctx.counts_as_codes
    if not cols:
        return None
    names = [c["column"] for c in cols]
    first = cols[0]
    return Finding(
        "overfitting", "warning", 0, 0, {"columns": cols, "limit": "levels >= 10 and |rho| >= 0.8"},
        f"data.categorical lists {', '.join(repr(n) for n in names)}, but {'it is' if len(cols) == 1 else 'they are'} an "
        f"amount: {first['column']!r} takes {first['levels']} numeric values ({first['range'][0]:g} to "
        f"{first['range'][1]:g}), and the mean target follows them in order (Spearman's rho {first['rho']:+.2f} over "
        f"the levels). One-hot coding gives each value its own weight, learned from its own rows (a median of "
        f"{first['median_rows_per_level']:g} a level), and throws the order away, so the rare large values are "
        f"memorised, not placed on the trend.",
        [Fix({"data.categorical": [c for c in ctx.categorical if c not in names]},
             "read it as the number it is (standardized like the other numeric columns)")])


def images_blurred_together(history, signals, ctx: Context) -> Finding | None:
    """data.image.color grayscale or a smaller data.image.size that makes classes look alike before
    the network sees them (image_measures.conversion_loss: PAIR_SEPARABLE, PAIR_KEPT)."""
    loss = ctx.conversion_loss
    if not loss:
        return None
    worst = loss["lost_pairs"][0]
    what = " and ".join(filter(None, [
        "data.image.color: grayscale turns the colour images into grey ones" if loss["grayscale"] else "",
        f"data.image.size shrinks the {loss['stored_size'][0]}x{loss['stored_size'][1]} images to "
        f"{loss['size'][0]}x{loss['size'][1]}" if loss["size"] else ""]))
    fix = loss["fix"]
    undo = ", ".join(f"{k} {v if v is not None else 'unset (the stored size)'}" for k, v in fix.items())
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"pairs_lost": loss["pairs_lost"], "pairs": loss["pairs"], "lost_pairs": loss["lost_pairs"],
         "separable_at": PAIR_SEPARABLE, "margin_kept_under": PAIR_KEPT, "images_read": loss["rows"]},
        f"{what[0].upper() + what[1:]}, and that makes classes look alike before the network sees them: "
        f"{worst['classes'][0]!r} and {worst['classes'][1]!r} are told apart on {worst['stored']:.0%} of held-out "
        f"images as stored and on {worst['converted']:.0%} as converted (a coin does 50%; a logistic regression on "
        f"what each image shows wherever it shows it, {loss['rows']} images)"
        + (f", and {loss['pairs_lost'] - 1} more pair(s) alike" if loss["pairs_lost"] > 1 else "")
        + ". What tells them apart (colour, or detail finer than the new pixels) is gone from every image, so no "
          "network can learn it."
        + ("" if loss.get("fixable", True) else " The network is custom or pretrained, so it may be built for the "
           "converted images: change the data setting and the network together."),
        [Fix(fix, f"{undo}: every pair of classes stays as distinct as stored")] if fix else [])


# A vocabulary that leaves out this share of the words the training texts use more than once, at a
# min_freq of 1% of the training texts or more: on 960 support tickets, min_freq 50 (from a config
# for two million) made every topic word <unk> (56% of the repeated words, 5% of the tokens) and
# left the transformer at chance (0.33 against 0.98; tenth held-out set). A large corpus's min_freq
# is a sliver of its texts, and the words it drops are the long tail.
VOCAB_DROPPED_SHARE = 0.3


MIN_FREQ_TEXT_SHARE = 0.01


# A vocabulary cut by data.text.vocab_size that reads this share of the training tokens as <unk>:
# vocab_size 30 meant as "messages of up to 30 words" kept 27 words of commit messages, 56% of the
# tokens unknown, and the transformer ended at 0.669 against 0.965 (fifteenth held-out set). The
# suites' healthy texts read 0-1.2% of their tokens as <unk>; a large corpus cut at 20,000 words
# loses a long tail of a few percent.
VOCAB_CAP_UNKNOWN = 0.25


def vocab_starved(history, signals, ctx: Context) -> Finding | None:
    """data.text.min_freq set for a far larger corpus (context.text_vocab): most words that recur
    in the training texts are read as <unk>; or data.text.vocab_size so small that a quarter of
    the training tokens are."""
    v = ctx.text_vocab
    if not v or not v["repeated_words"]:
        return None
    share = v["repeated_dropped"] / v["repeated_words"]
    capped = v.get("vocab_limit") is not None and v["vocab_size"] >= v["vocab_limit"]
    if capped and (v.get("unknown_rate") or 0) >= VOCAB_CAP_UNKNOWN and share >= VOCAB_DROPPED_SHARE:
        from ...config import TextConfig

        default = TextConfig.model_fields["vocab_size"].default
        return Finding(
            "bad_input_data", "warning", 0, 0,
            {**v, "dropped_share": round(share, 3), "limit": f"unknown_rate >= {VOCAB_CAP_UNKNOWN} with vocab_size reached"},
            f"data.text.vocab_size {v['vocab_limit']} keeps only the {v['vocab_limit']} most frequent tokens (the "
            f"special ones included): {v['repeated_dropped']} of the {v['repeated_words']} words the training texts "
            f"use more than once ({share:.0%}) are read as <unk>, {v['unknown_rate']:.0%} of all training tokens. "
            f"vocab_size counts distinct words kept, not words per text (that is data.text.max_len).",
            [Fix({"data.text.vocab_size": default}, f"the default, {default}: every word the texts use is kept")])
    if v["min_freq"] <= 2:
        return None
    if share < VOCAB_DROPPED_SHARE or v["min_freq"] < MIN_FREQ_TEXT_SHARE * v["rows"] or capped:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**v, "dropped_share": round(share, 3),
         "limit": f"dropped_share >= {VOCAB_DROPPED_SHARE} and min_freq >= {MIN_FREQ_TEXT_SHARE} x training texts"},
        f"data.text.min_freq {v['min_freq']} keeps only words seen {v['min_freq']} times or more in {v['rows']} training "
        f"texts: {v['repeated_dropped']} of the {v['repeated_words']} words they use more than once ({share:.0%}) are "
        f"read as <unk>, {v['unknown_rate']:.0%} of all tokens. Whatever the labels depend on among those words never "
        f"reaches the network.",
        [Fix({"data.text.min_freq": 2}, "keep every word the training texts use twice or more")])


# A fifth of a separate file's tokens unknown to the vocabulary, and 3x the source's own held-out
# rows' share plus 5 points: the file is written unlike the training texts (in capitals, another
# spelling, another language), and the network reads much of it as <unk>. Claims from a fax
# channel in capitals with data.text.lowercase false: 39% of the test tokens unknown against 0% of
# the validation ones, 0.685 against 1.000 lowercased (twelfth held-out set).
FILE_UNKNOWN_SHARE = 0.2


def file_words_unknown(history, signals, ctx: Context) -> Finding | None:
    v = ctx.text_vocab
    if not v or not v.get("file_unknown_rate") or v.get("split_unknown_rate") is None:
        return None   # no held-out rows of the source to compare with
    base = v["split_unknown_rate"]
    role, rate = max(v["file_unknown_rate"].items(), key=lambda kv: kv[1])
    if rate < FILE_UNKNOWN_SHARE or rate < 3 * base + 0.05:
        return None
    lower = not ctx.text_lowercase
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"file": role, "file_unknown_rate": rate, "split_unknown_rate": base, "lowercase": ctx.text_lowercase,
         "limit": f">= {FILE_UNKNOWN_SHARE} and >= 3x the split's + 0.05"},
        f"{rate:.0%} of the data.{role} file's tokens are not in the vocabulary built on the training texts, against "
        f"{base:.0%} of the source's own held-out rows: the file is written unlike the training texts, and the network "
        f"reads much of it as <unk>."
        + (" data.text.lowercase is false, so a word in capitals is another word." if lower else
           " Check its spelling, language or tokens against the training texts."),
        [Fix({"data.text.lowercase": True}, "lowercase every text, so a word in capitals is the same word")]
        if lower else [])


def clip_flattens(history, signals, ctx: Context) -> Finding | None:
    """data.clean.clip_outliers with bounds that collapse to one value (context.clip_flattened):
    IQR clipping on a count that is 0 in over 75% of the rows has Q1 = Q3 = 0, so every late payment,
    chargeback and dispute flag became 0 and the net predicted the majority (0.71 against 0.89;
    tenth held-out set). Any such column is constant as the network sees it."""
    cols = ctx.clip_flattened
    if not cols:
        return None
    names = [c["column"] for c in cols]
    return Finding(
        "bad_input_data", "warning", 0, 0, {"clip_outliers": ctx.clip_outliers, "columns": cols,
                                            "limit": "clip bounds collapse to one value"},
        f"data.clean.clip_outliers: {ctx.clip_outliers} fits bounds of one value on {len(cols)} column(s) {names}: "
        f"over half of their training values are the same number, so the range it measures is 0, and every "
        f"other value ({sum(c['clipped'] for c in cols)} training cells) is clipped to it. The network sees "
        f"{'these columns' if len(cols) > 1 else 'this column'} as constant.",
        [Fix({"data.clean.clip_outliers": "none"}, "keep the values as they are (scaling still brings them to size)")])


# Deduplication that removed half the rows or more and left this share of the distinct inputs with
# more than one label: the rows were not copies of one record but respondents who answered alike,
# and how many of them said yes or no was the signal. Survey answers over 1024 patterns, 20000 rows
# cut to 1931: 907 of the patterns kept one yes and one no, and the net fell to 0.69/0.65 against
# 0.78 with the repeats (tenth held-out set). A table of measurements rarely repeats an input at all.
DEDUP_CONFLICT_SHARE = 0.2


def dedup_conflicts(history, signals, ctx: Context) -> Finding | None:
    d = ctx.dedup_conflicts
    if not d or d["share"] < DEDUP_CONFLICT_SHARE:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0, {**d, "drop_duplicates": True,
                                            "limit": f"half the rows dropped and share >= {DEDUP_CONFLICT_SHARE}"},
        f"data.clean.drop_duplicates removed {d['duplicates_dropped']} of {d['rows_loaded']} rows, and "
        f"{d['with_several_labels']} of the {d['train_inputs']} distinct training inputs ({d['share']:.0%}) still appear "
        f"with more than one label. These repeats are different records that happen to agree, not copies of one: "
        f"how often each answer occurs was what the model could learn, and deduplication threw it away.",
        [Fix({"data.clean.drop_duplicates": False}, "keep the repeated rows: each is a record of its own")])


# A series with this share of its rows dropped for a missing value: the windows then run across
# the gaps as if the hours were consecutive (18.5% of the hours blank in drop-outs of 1-8 hours:
# r2 0.62 against 0.86 interpolated; tenth held-out set).
SERIES_GAP_SHARE = 0.05


def series_gaps_dropped(history, signals, ctx: Context) -> Finding | None:
    g = ctx.series_gaps
    if not g or g["share"] < SERIES_GAP_SHARE:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0, {**g, "missing": "drop", "limit": f"share >= {SERIES_GAP_SHARE}"},
        f"data.series.missing: drop removed {g['dropped']} of the series' {g['rows_loaded']} rows ({g['share']:.0%}) "
        f"for a missing value. The rows left are joined as if they were consecutive, so many windows run across "
        f"gaps: the steps the network reads as one hour apart are sometimes many hours apart, and the target it "
        f"forecasts is not the horizon it was asked for.",
        [Fix({"data.series.missing": "interpolate"}, "fill each gap from its neighbours, so every step is one step")])


# Sequences whose signal is followed by zero steps (padding written after it, "post" padding) in
# half the training rows or more, the padding a quarter of their length at the median: a recurrent
# net reads the signal first and then a long run of zeros that washes it out of its state before
# the last step, the only one the head sees (an LSTM with 30-48 zero steps after 12-30 steps of
# signal: 0.33 against 0.90 with the same padding in front; tenth held-out set). Transformers and
# convolutions see every step at once and are left alone.
PADDED_AFTER_SHARE = 0.5


PADDED_AFTER_LENGTH = 0.25


def padded_after(history, signals, ctx: Context) -> Finding | None:
    p = ctx.trailing_padding
    if ctx.model_type != "rnn" or not p or p.get("method") != "as_given" or not p.get("rows"):
        return None
    share = p["padded_after"] / p["rows"]
    if share < PADDED_AFTER_SHARE or p["median_share"] < PADDED_AFTER_LENGTH:
        return None
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {**p, "share": round(share, 4), "limit": f"share >= {PADDED_AFTER_SHARE} of the sequences, median padding "
                                                 f">= {PADDED_AFTER_LENGTH} of the length"},
        f"{p['padded_after']} of {p['rows']} training sequences ({share:.0%}) end in steps that are all zero, "
        f"{p['median_share']:.0%} of their length at the median: padding written after the signal. A recurrent "
        f"network reads the signal first and then that run of zeros, which washes it out of its state before the "
        f"last step, the one its head sees.",
        [Fix({"data.sequence.padding": "front"}, "move each sequence's padding to its start, so the signal ends "
                                                 "on the last step")])
