"""Judged before the first step, from the prepared values themselves: non-finite cells, missing-value
codes, clipping, fills, leaked or shifted columns, dates, codes stored as numbers, and scale
(bad_input_data, unscaled_features)."""

from __future__ import annotations

import math
import statistics

import numpy as np

from ..facts import Context
from ..findings import Finding, Fix


def bad_input_data(history, signals, ctx: Context) -> Finding | None:
    if ctx.nonfinite_inputs <= 0:
        return (_codes_too_common(ctx) or _codes_carry_signal(ctx) or _clipped_away(ctx) or _out_of_time_order(ctx) or _times_repeated(ctx) or _day_month_swapped(ctx)
                or _coded_target(ctx)
                or _skewed_columns(ctx) or _shifted_columns(ctx) or _drifted_inputs(ctx) or _blanks_mean_zero(ctx)
                or _filled_far_away(ctx) or _extreme_values(ctx) or _numbers_as_codes(ctx) or _spellings_apart(ctx))
    return Finding(
        "bad_input_data", "error", 0, 0, {"nonfinite_cells": ctx.nonfinite_inputs, "impute": ctx.impute},
        f"The training inputs hold {ctx.nonfinite_inputs} NaN or infinite values. One of them in a batch makes "
        f"the loss NaN and every weight it touches NaN after the update, so training cannot recover. "
        f"data.clean.impute is {ctx.impute!r}.",
        [Fix({"data.clean.impute": "median"}, "fill missing numbers with the training median before training")])


# A group of class labels written apart by case or spaces counts as one value mistyped when its rarer
# spellings hold at most this share of the group's training rows: hand-typed variants beside the label
# of record (meteorite groups: 11% of the labels typed by hand). Labels where case means something
# ('Co' and 'CO') are more even; so are two sources' conventions, which the user may keep apart.
SPELLING_SHARE = 1 / 3


def _spellings_apart(ctx: Context) -> Finding | None:
    """data.clean.normalize_categories off, and class labels that differ only by case or spaces
    (context.spellings), the rarer spellings of each group a small share of it (SPELLING_SHARE). A
    meteorite table whose hand-typed group labels ('ll', 'IRON', 'Eucrite ') became 18 classes of their
    own beside the six they spell, 3-14 rows each with their namesakes' chemistry: every hand-typed test
    label was wrong, 0.856/0.878 against 0.989/0.994, and class weights made it worse (0.372/0.411;
    twenty-seventh held-out set). Not with loss.class_weights set: those name the labels as they are."""
    if not ctx.spellings or not ctx.class_names or not ctx.class_shares or ctx.loss_class_weights is not None:
        return None
    share = dict(zip(ctx.class_names, ctx.class_shares))
    groups, rare = [], 0.0
    for group in ctx.spellings:
        sizes = sorted((share.get(str(v), 0.0) for v in group), reverse=True)
        if sum(sizes) > 0 and sum(sizes[1:]) <= SPELLING_SHARE * sum(sizes):
            groups.append(sorted(group, key=lambda v: -share.get(str(v), 0.0)))
            rare += sum(sizes[1:])
    if not groups:
        return None
    first = groups[0]
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"groups": groups[:10], "n_groups": len(groups), "classes": len(ctx.class_names),
         "rare_spellings_share": round(rare, 4), "limit_share": round(SPELLING_SHARE, 4), "normalize_categories": False},
        f"data.clean.normalize_categories is off, and {len(groups)} of the class labels are written several ways by "
        f"case or spaces ({', '.join(repr(v) for v in first)}"
        + (f"; {len(groups) - 1} more label(s) likewise" if len(groups) > 1 else "")
        + f"), so the {len(ctx.class_names)} classes are fewer in truth. Each spelling is a class of its own: the "
          f"network must tell {first[0]!r} from {first[1]!r} on inputs that mean the same, so it cannot, and every "
          f"row typed the rarer way ({rare:.0%} of the training rows) is scored wrong.",
        [Fix({"data.clean.normalize_categories": True},
             "read ' Red', 'red' and 'RED' as one value (strip spaces, lowercase), as the default does")])


# A missing-value code is a stand-in for the odd empty cell: the sentinels the suites hold fill 2%-4%
# of the cells. One that turns a quarter of the numeric training cells or more into missing values
# is a common real value, and imputation overwrites it (missing_codes [0] on digits made 49% of
# the pixels "missing", every background pixel filled with its column's ink: 0.79 against 0.95;
# sixth held-out set).
CODED_SHARE_LIMIT = 0.25
# Or half of one column's cells: a column can be sparse, but a code that blanks most of one is its
# commonest value (a rain gauge's 0 mm in 88% of the hours, read as gaps that interpolation filled
# with drizzle between storms: r2 0.78 against 0.94; seventeenth held-out set).
CODED_COLUMN_LIMIT = 0.5


def _codes_too_common(ctx: Context) -> Finding | None:
    if not ctx.coded_cells or not ctx.numeric_columns or not ctx.n_train or not ctx.missing_codes:
        return None
    cells = sum(ctx.coded_cells.values())
    # Over the rows the codes were counted on: the training split before any over- or undersampling
    # (a forecast's whole series).
    rows = ctx.coded_rows or ctx.n_train
    share = cells / (rows * ctx.numeric_columns)
    column, most = max(ctx.coded_cells.items(), key=lambda kv: kv[1])
    if share < CODED_SHARE_LIMIT and most / rows < CODED_COLUMN_LIMIT:
        return None
    hit = sorted((c for c in ctx.coded_cells if ctx.coded_cells[c]), key=ctx.coded_cells.get, reverse=True)
    codes = ", ".join(f"{c:g}" for c in ctx.missing_codes)
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"missing_codes": ctx.missing_codes, "coded_cells": cells, "coded_share": round(share, 4),
         "columns_hit": len(hit), "numeric_columns": ctx.numeric_columns, "limit_share": CODED_SHARE_LIMIT,
         "most_coded_column": column, "its_share": round(most / rows, 4), "limit_column_share": CODED_COLUMN_LIMIT},
        f"data.clean.missing_codes [{codes}] turned {share:.0%} of the numeric "
        f"{'cells of the series' if ctx.data_kind == 'timeseries' else 'training cells'} into missing values "
        f"({cells} cells, in {len(hit)} of {ctx.numeric_columns} columns; {most / rows:.0%} of {column!r}"
        + (f"; then {', '.join(hit[1:3])}" if len(hit) > 1 else "") + "), and "
        + ("data.series.missing then fills" if ctx.data_kind == "timeseries" else "imputation then overwrites")
        + " each of them. A code for \"missing\" stands in for the odd empty cell; one that common is a real value "
          "of the data.",
        [Fix({"data.clean.missing_codes": []}, f"keep {codes} as the value it is")])


# A missing-value code whose rows differ in the target from the rest this much, on 30 rows or more and
# 5% of the training rows, and beyond chance (p under 1e-6): the code says something about the target,
# and imputation erases it. An avalanche service's 99 ('no propagation' in the stability test: 44% of
# the column, its rows 51% 'no problem' against 5% elsewhere) declared missing: 0.794/0.800 against
# 0.883/0.894 read as the number it is (twenty-sixth held-out set). Classes: total variation distance;
# regression: the difference of the target's means in its standard deviations.
CODE_SIGNAL_TVD = 0.3
CODE_SIGNAL_SHIFT = 0.5
CODE_SIGNAL_ROWS = 30
# ...and a code on the column's own scale (within 3 ranges of its real values), a value read as
# missing; a sentinel far off (-999 beside values 0-1) is the extreme-values check's.
CODE_SCALE_RANGES = 3.0


def _codes_carry_signal(ctx: Context) -> Finding | None:
    from scipy import stats

    hits = []
    for column, c in (ctx.coded_signal or {}).items():
        lo_hi, codes = c.get("real"), c.get("codes") or []
        if not lo_hi or not codes or c["rows"] < CODE_SIGNAL_ROWS or c["rows"] < 0.05 * c["of"] or c["rows"] == c["of"]:
            continue
        lo, hi = lo_hi
        span = max(hi - lo, 1e-12)
        if not all(lo - CODE_SCALE_RANGES * span <= code <= hi + CODE_SCALE_RANGES * span for code in codes):
            continue
        if "coded_counts" in c:
            a, b = np.asarray(c["coded_counts"], float), np.asarray(c["other_counts"], float)
            keep = (a + b) > 0
            if keep.sum() < 2 or b.sum() == 0:
                continue
            size = 0.5 * float(np.abs(a / a.sum() - b / b.sum()).sum())
            p = float(stats.chi2_contingency(np.stack([a[keep], b[keep]]))[1])
            if size >= CODE_SIGNAL_TVD and p < 1e-6:
                top = int(np.argmax(a / a.sum() - b / b.sum()))
                hits.append({"column": column, "codes": codes, "rows": c["rows"], "of": c["of"],
                             "distance": round(size, 3), "p": float(f"{p:.2g}"),
                             "class_index": top, "coded_share": round(float(a[top] / a.sum()), 3),
                             "other_share": round(float(b[top] / b.sum()), 3)})
        elif c.get("other_mean") is not None and c.get("spread"):
            shift = (c["coded_mean"] - c["other_mean"]) / c["spread"]
            n1, n2 = c["rows"], c["of"] - c["rows"]
            z = abs(shift) / math.sqrt(1 / n1 + 1 / n2)
            p = float(2 * stats.norm.sf(z))
            if abs(shift) >= CODE_SIGNAL_SHIFT and p < 1e-6:
                hits.append({"column": column, "codes": codes, "rows": c["rows"], "of": c["of"],
                             "shift_sd": round(float(shift), 3), "p": float(f"{p:.2g}")})
    if not hits:
        return None
    h = hits[0]
    dropped = {code for x in hits for code in x["codes"]}
    left = [code for code in ctx.missing_codes if not any(math.isclose(code, d, rel_tol=1e-6) for d in dropped)]
    codes = ", ".join(f"{v:g}" for v in h["codes"])
    classes = list(ctx.class_names or [])
    said = (f"{h['coded_share']:.0%} of them are {classes[h['class_index']]!r} against {h['other_share']:.0%} of the "
            f"other rows" if "distance" in h and h["class_index"] < len(classes) else
            f"their classes differ from the other rows' by a distance of {h['distance']:.2f}" if "distance" in h else
            f"their target is {h['shift_sd']:+.2f} standard deviations from the other rows'")
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"columns": hits, "limit_distance": CODE_SIGNAL_TVD, "limit_shift_sd": CODE_SIGNAL_SHIFT,
         "limit_rows": CODE_SIGNAL_ROWS, "limit_p": 1e-6},
        f"data.clean.missing_codes turns {codes} in {h['column']!r} into missing values in {h['rows']} of the "
        f"{h['of']} training rows, and those rows are unlike the rest: {said} (p = {h['p']:.2g}). Imputation then "
        f"fills them with a typical value, so what the {codes} said about the target is gone. A code that carries "
        f"this much is a value of the data (an instrument's 'beyond the scale', a test's 'no result'), not a gap; if "
        f"it does mean 'not recorded', that it was not recorded is what predicts the target, and a 0/1 column for it "
        f"in the file keeps that."
        + (f" Also: {', '.join(x['column'] for x in hits[1:])}." if len(hits) > 1 else ""),
        [Fix({"data.clean.missing_codes": left}, f"keep {codes} as the value it is, which the network can read (in "
                                                  f"every numeric column: missing_codes applies to all of them)")])


def _skewed_columns(ctx: Context) -> Finding | None:
    """A column that varies in training but is one value throughout a separate validation or test
    file (context.skewed_columns): the file and the training rows were recorded at different
    moments. A churn table whose refund_requested flag is set by the cancellation itself: 43% of
    training rows, 0 in every test row; the net learned "no refund, stays" (0.69 against 0.81
    without the column; tenth held-out set). Or one value in every training row and others in a
    tenth or more of a validation or test split: a vibration logger installed after the training
    rows were recorded left 0 in all of them and real readings in the test file, which drove every
    prediction to one class (0.62 against 0.79 without it; eleventh held-out set). The fix trains
    without the column."""
    cols = ctx.skewed_columns
    if not cols:
        return None
    names = [c["column"] for c in cols]
    keep = [c for c in ctx.input_columns if c not in names]
    c = cols[0]
    if c.get("constant_in") == "training":
        said = (f"{len(cols)} column(s) {names} hold one value in every training row but vary in the data.{c['file']} "
                f"rows ({c['column']} is {c['value']:g} in all training rows and differs in {c['other_share']:.0%} of "
                f"the {c['rows']} {c['file']} rows). The network cannot learn anything from a constant, so the weights "
                f"that read it never train, and the new values push the output wherever those random weights point. "
                f"The training rows were recorded before the column was filled in.")
    else:
        said = (f"{len(cols)} column(s) {names} vary in the training rows but hold one value in every row of the "
                f"data.{c['file']} file ({c['column']} is {c['value']:g} in all {c['rows']}, where "
                f"{c['training_share']:.0%} of the training rows have it; chance cannot explain that). The training rows "
                f"and that file were recorded at different moments: a column filled in after the outcome is known leaks "
                f"the answer into training and is empty when the model is used.")
    return Finding(
        "bad_input_data", "warning", 0, 0, {"columns": cols, "limit": f"training share ** rows < {1e-6:g}; or "
                                                                       f"constant in training, other in 10% of rows"},
        said, [Fix({"data.features": keep}, f"train without {', '.join(names)}")] if keep else [])


def _shifted_columns(ctx: Context) -> Finding | None:
    """One column of a separate validation or test file distributed unlike its training cells while
    the rest of the file matches (context.shifted_columns): the column says where or when a row was
    recorded (a well's depth, a site's code, a date), and the network leans on a pattern that does
    not carry over. The fix trains without it."""
    cols = ctx.shifted_columns
    if not cols:
        return None
    names = [c["column"] for c in cols]
    keep = [c for c in ctx.input_columns if c not in names]
    c = cols[0]
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"columns": cols, "limit": "Kolmogorov-Smirnov distance >= 0.3 and 2x chance's (the 1% critical value), "
                                   "the other columns' median within chance's"},
        f"{c['column']} in the data.{c['file']} file is distributed unlike its training values (Kolmogorov-Smirnov "
        f"distance {c['ks']:.2f}), while the file's other columns match theirs (median distance "
        f"{c['others_median_ks']:.2f}). The file comes from the same kind of source, so {c['column']} records where or "
        f"when the rows were taken, not what they measure: whatever pattern the network finds in it among the "
        f"training rows does not hold for the new ones.",
        [Fix({"data.features": keep}, f"train without {', '.join(names)}")] if keep else [])


def _drifted_inputs(ctx: Context) -> Finding | None:
    """An input series of a forecaster that drifts with time (context.drifted_inputs): the split
    follows time, so validation and test hold values training never saw, and the network
    extrapolates a column it leaned on. A cumulative meter reading beside the hourly load was
    standardized to -1.7 .. 1.8 on training, 1.8 .. 2.6 on validation and 2.6 .. 3.4 on test: r2
    0.70 against 0.92 without it (eleventh held-out set). The fix forecasts from the other series."""
    cols = ctx.drifted_inputs
    if not cols:
        return None
    names = [c["column"] for c in cols]
    keep = [n for n in ctx.feature_names if n not in names]
    c = cols[0]
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"columns": cols, "limit": "share of later windows outside the training range >= 0.9"},
        f"The input series {names} drift with time: {c['outside_share']:.0%} of the {c['split']} windows end on a "
        f"{c['column']} outside everything the training windows hold (standardized, {c['train_range'][0]:g} .. "
        f"{c['train_range'][1]:g} in training, {c['later_range'][0]:g} .. {c['later_range'][1]:g} later). The split follows "
        f"time, so the network meets values it never saw and extrapolates whatever it made of that column: a running "
        f"total or a counter carries the date, not the load.",
        [Fix({"data.series.value_columns": keep}, f"forecast from {', '.join(keep)}")] if keep else [])


def _blanks_mean_zero(ctx: Context) -> Finding | None:
    """Count columns an export left blank where they are 0 (context.blank_zeros), filled with the
    median or mean of the written values: every clean record then looks like one with a few late
    payments. The fix reads the blanks as 0, where no other column is imputed (0 would not suit it)."""
    b = ctx.blank_zeros
    if not b:
        return None
    cols = b["columns"]
    names = [c["column"] for c in cols]
    fixes = [] if b["other_imputed"] else [
        Fix({"data.clean.impute": "constant", "data.clean.impute_value": 0.0},
            "read the blanks as 0, the value such exports leave out")]
    return Finding(
        "bad_input_data", "warning", 0, 0, {**b, "impute": ctx.impute, "limit": "filled >= 0.5 of the rows, "
                                                                              "whole numbers > 0 where written"},
        f"{len(cols)} column(s) {names} are blank in most training rows ({', '.join(str(c['filled']) for c in cols)} "
        f"of {b['rows']}) and hold only whole numbers from 1 up where written: counts or flags from an export that "
        f"writes only what is not zero. data.clean.impute: {ctx.impute} fills the blanks with "
        f"{', '.join(str(c['fill']) for c in cols)}, so most records read as if they had what they do not."
        + (f" Other imputed columns ({b['other_imputed']}) would not suit a fill of 0: fill these columns with 0 in "
           f"the file." if b["other_imputed"] else ""),
        fixes)


def _extreme_values(ctx: Context) -> Finding | None:
    """A few values per feature far outside the rest (context.extreme_features): a missing-value
    code stored as a number, or a unit error. Standardizing then divides every real value by a
    spread the sentinels set, and the feature carries next to nothing (breast_cancer with 9999999
    in 2% of its cells: 0.612 against 0.918 with the outliers clipped; third held-out set)."""
    # Measured on the data as prepared, so clipping that was done counts (z-score clipping fitted on a
    # spread the sentinels inflate leaves them far out, and they are still named).
    if not ctx.extreme_features or ctx.data_kind != "tabular":
        return None
    worst = ctx.extreme_features[0]
    names = ", ".join(f["feature"] for f in ctx.extreme_features)
    # One repeated number in every far cell is a code for "missing": read as missing, the cells are
    # imputed like any empty one, where clipping leaves them at the edge of the real values (-999
    # in 4% of diabetes' cells, clipped: r2 0.23 against 0.35; fifth held-out set).
    codes = []
    for code in sorted([*ctx.missing_codes, *(f["code"] for f in ctx.extreme_features if "code" in f)]):
        if not codes or not math.isclose(code, codes[-1], rel_tol=1e-6):  # one code, read back twice
            codes.append(code)
    fix = (Fix({"data.clean.missing_codes": codes}, f"read {', '.join(f'{c:g}' for c in codes)} as missing, so "
                                                    f"imputation fills those cells from the real values")
           if all("code" in f for f in ctx.extreme_features) and ctx.impute != "none" else None)
    # The far number is the imputation's own fill value (impute: constant with impute_value 1e9):
    # the cells were missing, and the fill put them there (fourth held-out set).
    if all("fill" in f for f in ctx.extreme_features):
        fix = Fix({"data.clean.impute": "median"}, f"fill missing cells with the training median, not "
                                                   f"{ctx.extreme_features[0]['fill']:g}, far outside the real values")
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"features": ctx.extreme_features, "limit_mads": 1000, "clip_outliers": ctx.clip_outliers},
        f"Some features hold a few values far outside the rest ({names}): in {worst['feature']}, "
        f"{worst['share']:.1%} of the training rows sit up to {worst['mads']:.3g} median absolute deviations "
        f"from the median. That is the mark of a missing-value code stored as a number (9999, -999) or of a "
        f"unit error; scaling then squeezes every real value of the feature into a sliver, and the "
        f"network can hardly use it.",
        ([fix] if fix else [])
        + [Fix({"data.clean.clip_outliers": "iqr"}, "clip each numeric feature to 1.5 IQR beyond its quartiles "
                                                     "(fitted on the training split)")])


def unscaled_features(history, signals, ctx: Context) -> Finding | None:
    # A feature whose typical magnitude (root mean square) is 100x its neighbours' makes the loss
    # surface a narrow valley: one learning rate is too large for it and too small for the rest.
    # Judged on the inputs as the network sees them, so scaling that was done counts.
    if ctx.data_kind == "text" or not ctx.feature_rms:
        return _unscaled_target(ctx)
    rms = [v for v in ctx.feature_rms if v > 0 and math.isfinite(v)]
    if len(rms) == 0:
        return None
    big = max(rms)
    typical = statistics.median(rms)
    # > 20: far outside the unit scale standardisation gives; ratio > 50: features disagree by
    # orders of magnitude. Both must hold, so uniformly scaled pixels (0..16) do not fire alone.
    # Into squashing units (a recurrent cell's gates, tanh or sigmoid layers) inputs over 20 are
    # enough with scaling off, whatever their neighbours: the units start saturated (a GRU
    # forecaster fed load near 100 beside temperature near 14: r2 0.538 against 0.950; fourth
    # held-out set).
    squashing = ctx.scale == "none" and big > 20 and (ctx.model_type == "rnn" or ctx.activation in ("tanh", "sigmoid"))
    if ctx.scale == "none" and big < TINY_FEATURES:
        return _tiny_features(ctx, big)
    if ctx.scale == "none" and ctx.model_type == "rnn" and ctx.feature_sd and big <= 20:
        faint = _faint_features(ctx)
        if faint is not None:
            return faint
    # Or 50x the unit scale with an order of magnitude between the features: beehive readings with
    # weight changes in grams (rms 1000) beside temperatures and hours (median 44): 0.833 against 0.960
    # standardized (seventeenth held-out set); snow depths in cm and humidity in % (rms 80 and 76)
    # beside temperatures, hours and one-hot columns (median 5.5) left a ReLU MLP at r2 0.61/0.52
    # against 0.73/0.66 (twenty-second set; its first training loss was 95x the standardized run's).
    # uint8 pixels (rms 205, all alike) are not. Of the suites' healthy runs with scaling off, only
    # custom nets that rescale their inputs themselves have a feature over 50 beside a median 10x
    # smaller, and those are judged on what their first layer is handed (below).
    ratio = big / max(typical, 1e-12)
    spread = len(rms) > 1 and (ratio > 50 or (big > 50 and ratio > 10))
    if not squashing and (big <= 20 or (len(rms) > 1 and not spread and big <= 1000)):
        return _unscaled_target(ctx)
    # A custom network that brings its inputs to a usual size itself (a log, its own normalisation)
    # before any weight sees them: a gas-analysis net taking log(ppm) of raw readings up to 14,000
    # hands its first layer numbers of rms 1-8, and scored 0.956/0.958, above the standardized MLP
    # (sixteenth held-out set). Judged on what that layer is handed (wiring: first_layer_rms).
    # At least as many numbers as there are features: all of them, perhaps expanded (a sailing net
    # hands its layer the sine and cosine of an angle beside its own batch norm of the raw columns:
    # 11 numbers for 10 features, eighteenth held-out set); a first layer of one branch sees fewer.
    seen = (ctx.wiring or {}).get("first_layer_rms")
    wide_enough = len(seen or []) == len(ctx.feature_rms) or \
        (ctx.data_kind == "tabular" and len(seen or []) > len(ctx.feature_rms))   # a window's layer may run along time
    if seen and wide_enough and max(seen) <= 20 and \
            max(seen) / max(statistics.median(seen), 1e-12) <= 50:
        return _unscaled_target(ctx)
    worst = sorted(zip(ctx.feature_rms, ctx.feature_names), reverse=True)[:3]
    return Finding(
        "unscaled_features", "warning", 0, 0,
        {"largest_rms": round(big, 4), "median_rms": round(typical, 4), "limit": 20,
         "largest_features": [n for _, n in worst], "scale": ctx.scale},
        (f"Input features are large with scaling off (largest typical magnitude {big:.3g}; worst: "
         f"{', '.join(n for _, n in worst)}): they drive the "
         f"{'recurrent cell' if ctx.model_type == 'rnn' else ctx.activation} units into saturation from the "
         f"first step, where they pass almost no gradient. " if squashing else
         f"Input features are on very different scales (largest typical magnitude {big:.3g}, median "
         f"{typical:.3g}; worst: {', '.join(n for _, n in worst)}). Gradients are then dominated by the large "
         f"features and no single learning rate suits all weights. ") + f"data.scale is {ctx.scale!r}.",
        [Fix({"data.scale": "standardize"}, "standardize every numeric feature (fitted on the training split)")])


# Every input far under the unit scale, with scaling off (SI units: vibration in metres, ~1e-5):
# a fresh layer's weights are sized for unit inputs, so the signal enters the network a few
# hundredths of its usual size and the biases drown it; the weights must first grow by as much.
# An MLP at Adam 1e-3 on wine, digits and breast cancer with every feature under 0.005 lost 19-59
# points against standardized (seeds 0/1; under 0.05, 10-59), and a BiLSTM on recordings of ~1e-5
# and ~5e-4 stayed at chance (twelfth held-out set). But scikit-learn's diabetes ships its columns at
# 0.048 and trains well unscaled (the suite's h_diabetes_noscale): the limit stays 5x under that.
# Min-max scaled columns keep a typical size of 0.3-0.6.
TINY_FEATURES = 0.01


# With scaling off, a recurrent cell's inputs whose spread (the root mean square of the features'
# standard deviations) is under this: their movements reach the gates 4x or more weaker than
# standardized ones, on top of any constant offset. Bird-tag accelerations in g (spreads 0.16-0.21,
# heave near +1 g of gravity) left a GRU at 0.778/0.844 against 0.978 standardized; centring alone
# gave 0.978/0.922, rescaling alone 0.967/0.978 (twenty-seventh held-out set). Healthy with scaling
# off: a lift GRU's inputs at a spread of 0.48 (twentieth); an MLP's diabetes inputs at 0.048 are
# not judged here (no gates, and its ReLUs rescale freely).
FAINT_SD = 0.25


def _faint_features(ctx: Context) -> Finding | None:
    # Features that never vary say nothing of the spread; inputs that all lie within [-1, 1] were put
    # on a unit range by the user (min-max scaling before an LSTM, the tutorials' recipe).
    kept = [(sd, rms, name) for sd, rms, name in zip(ctx.feature_sd, ctx.feature_rms, ctx.feature_names)
            if math.isfinite(sd) and sd > 0]
    if not kept or (ctx.feature_absmax and max(ctx.feature_absmax) <= 1.0):
        return None
    spread = math.sqrt(sum(sd * sd for sd, _, _ in kept) / len(kept))
    if spread >= FAINT_SD:
        return None
    sd, rms, name = max(kept, key=lambda p: p[1] / p[0])
    said_offset = (f" {name} also sits on a constant offset {rms / sd:.1f}x its own spread, which the gates read "
                   f"as a bias." if rms > 3 * sd else "")
    found = Finding(
        "unscaled_features", "warning", 0, 0,
        {"spread": round(spread, 4), "limit": FAINT_SD, "feature_sd": [round(v, 4) for v in ctx.feature_sd[:20]],
         "scale": ctx.scale, "cell": ctx.cell},
        f"The inputs barely move with scaling off: the features' standard deviations are {spread:.3g} on average "
        f"(standardized: 1), so what changes from step to step reaches the {ctx.cell or 'recurrent'} cell's gates "
        f"{1 / spread:.0f}x weaker than usual, and the cell learns from it slowly." + said_offset
        + " data.scale is 'none'.",
        [Fix({"data.scale": "standardize"}, "standardize every numeric feature (fitted on the training split)")])
    target = _unscaled_target(ctx)   # a raw target too: both go in one fix, neither hides the other
    if target is not None:
        found.explanation += " " + target.explanation
        found.evidence.update(target.evidence)
        found.fixes[0].overrides.update(target.fixes[0].overrides)
    return found


def _tiny_features(ctx: Context, big: float) -> Finding:
    worst = sorted(zip(ctx.feature_rms, ctx.feature_names), reverse=True)[:3]
    target = _unscaled_target(ctx)   # a raw target too: both go in one fix, neither hides the other
    found = Finding(
        "unscaled_features", "warning", 0, 0,
        {"largest_rms": float(f"{big:.4g}"), "limit": TINY_FEATURES, "largest_features": [n for _, n in worst],
         "scale": ctx.scale},
        f"Every input feature is tiny with scaling off (the largest typical magnitude is {big:.3g}, "
        f"{', '.join(n for _, n in worst)}): a fresh network's weights are sized for inputs near 1, so the signal "
        f"enters {1 / max(big, 1e-12):.0f}x weaker than usual and the biases drown it; the first layer must grow its "
        f"weights that much before anything is learned. data.scale is 'none'.",
        [Fix({"data.scale": "standardize"}, "standardize every numeric feature (fitted on the training split)")])
    if target is not None:
        found.explanation += " " + target.explanation
        found.evidence.update(target.evidence)
        found.fixes[0].overrides.update(target.fixes[0].overrides)
    return found


# A raw regression target whose typical size is over this many units is named. Faults: diabetes' raw
# target (rms 170) under Huber at Adam 3e-3 (sixth held-out set) and under MSE at SGD 0.01 (fourth),
# bike rentals (210) into a GRU (fifteenth). Healthy: orchard frost kill in % (rms 35) into an MLP at
# Adam 3e-3, r2 0.849/0.878 against 0.786/0.828 standardized (twenty-fourth): Adam's steps compound
# over the layers, and a target a few dozen units large is reached in a few hundred steps. The
# limit was 20, a feature's, until that run, and stays 20 under plain SGD, whose gradients are the
# target's size.
TARGET_RMS_LIMIT = 50.0


def _unscaled_target(ctx: Context) -> Finding | None:
    """A regression target left in its own units (data.scale_target off) far from the unit scale a
    fresh network's output starts at: the last layer must grow its weights and bias to the target's
    size, at a step of about the learning rate under Adam, or with gradients the target's size
    under SGD (diabetes' raw 25-346 under Huber at Adam 3e-3: r2 0.05 against 0.29 in 60 epochs,
    sixth held-out set; under MSE at SGD 0.01, NaN in epoch 1, fourth): TARGET_RMS_LIMIT."""
    # Plain SGD's gradients are the target's size: the feature limit (20) still holds for it.
    limit = 20.0 if ctx.optimizer == "sgd" else TARGET_RMS_LIMIT
    if ctx.task != "regression" or ctx.target_scaled or ctx.target_rms is None or ctx.target_rms <= limit:
        return None
    # Named by what it does to training, as practitioners see it: the inputs are scaled, so this is
    # not unscaled_features (five blind-written sets, 4, 6, 15, 25 and 28, each labelled it that way).
    # Adaptive optimizers crawl to the target's size (underfitting); plain SGD's gradients are the
    # target's size and blow up (diabetes' raw target at SGD 0.01: NaN in epoch 1).
    code = "exploding_gradients" if ctx.optimizer == "sgd" else "underfitting"
    return Finding(
        code, "warning", 0, 0,
        {"target_rms": round(ctx.target_rms, 4), "limit": limit, "scale_target": False},
        f"The target is in its own units (typical magnitude {ctx.target_rms:.3g}) with data.scale_target off, while a "
        f"fresh network's output starts near 0 at unit scale. Its last layer must first grow to the target's size: "
        f"adaptive optimizers move each weight by about the learning rate a step, so that takes thousands of steps, "
        f"and plain SGD gets gradients the target's size, which can blow up.",
        [Fix({"data.scale_target": True}, "standardize the target on the training split (predictions are returned "
                                          "in its own units)")])


# Clipping is for the odd outlier: a z-score limit of 3 clips 0.3% of normal values, Tukey's 1.5 IQR
# fences 0.7%. A fifth of the training cells clipped or more is no longer outliers, it is the data
# flattened onto two values per column (a z-score limit of 0.05 on diabetes clipped 96% of the
# cells: r2 0.27 against 0.35 at 3; seventh held-out set).
CLIPPED_SHARE_LIMIT = 0.2
# Or 15% of one column: twice what Tukey's fences clip of a heavy lognormal tail (sigma 1: 7.7%),
# and above the 12% the suites' healthy clips reach (breast cancer's area_error); a zero-inflated
# column (rain, 75% dry hours, so Q3 is a drizzle) has every real shower clipped: 20% of the rows,
# r2 0.79 against 0.93 (seventeenth held-out set).
CLIPPED_COLUMN_LIMIT = 0.15


_CLIP_DEFAULTS = {"zscore": 3.0, "iqr": 1.5}


def _clipped_away(ctx: Context) -> Finding | None:
    if ctx.clip_outliers not in _CLIP_DEFAULTS or not ctx.clipped_cells or not ctx.numeric_columns:
        return None
    rows = ctx.coded_rows or ctx.n_train
    share = ctx.clipped_cells / (rows * ctx.numeric_columns)
    column, most = max(ctx.clipped_columns.items(), key=lambda kv: kv[1], default=(None, 0))
    if share < CLIPPED_SHARE_LIMIT and most / rows < CLIPPED_COLUMN_LIMIT:
        return None
    default = _CLIP_DEFAULTS[ctx.clip_outliers]
    factor = ctx.clip_outliers_factor or default
    # At the usual limit or looser, the columns themselves are the cause (a 0/1 flag with under a
    # quarter of ones has an IQR of 0, and every 1 is "out"): no clipping.
    fix = (Fix({"data.clean.clip_factor": default}, f"the usual limit, {default:g}, clips only real outliers")
           if factor < default else
           Fix({"data.clean.clip_outliers": "none"}, "no clipping: at the usual limit it still flattens these "
                                                      "columns, so their spread is not made of outliers"))
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"clipped_share": round(share, 3), "clipped_cells": ctx.clipped_cells, "clip_outliers": ctx.clip_outliers,
         "clip_factor": factor, "limit": CLIPPED_SHARE_LIMIT, "most_clipped_column": column,
         "its_share": round(most / rows, 3), "limit_column_share": CLIPPED_COLUMN_LIMIT},
        f"data.clean.clip_outliers {ctx.clip_outliers} with clip_factor {factor:g} clipped {share:.0%} of the numeric "
        f"training cells, {most / rows:.0%} of {column!r}. Clipping is meant for the odd outlier (the default "
        f"{default:g} clips under 1% of normal values); this flattens "
        + ("most of each column" if share >= CLIPPED_SHARE_LIMIT else "a large part of that column")
        + " onto its bounds, and the network cannot tell those rows apart.",
        [fix])


def _out_of_time_order(ctx: Context) -> Finding | None:
    """A series with no data.series.time_column, read in file order, while a column of dates in the
    file goes back in time: the windows string together unrelated moments, and the split is not
    chronological. A load series saved shuffled scored r2 -0.02 that way, 0.95 sorted by its
    timestamp (seventh held-out set)."""
    u = ctx.unordered_time
    if not u:
        return None
    if "dayfirst" in u:
        # The file is in time order once its dates are read the other way: sorting by the misread
        # dates would scramble rows that are right as they are.
        return Finding(
            "bad_input_data", "warning", 0, 0, {"date_column": u["column"], "times_back_in_time": u["steps_back"],
                                                "rows": u["rows"], "time_column": None, "dayfirst": u["dayfirst"]},
            f"data.series.time_column is not set, so the rows are read as the series in file order. The dates in "
            f"column {u['column']!r} go back in time {u['steps_back']} times as they are read, but never when read "
            f"{'day' if u['dayfirst'] else 'month'} first: the file is in time order and its dates are written "
            f"{'day' if u['dayfirst'] else 'month'} first.",
            [Fix({"data.series.time_column": u["column"], "data.series.dayfirst": u["dayfirst"]},
                 f"sort the rows by {u['column']!r} read {'day' if u['dayfirst'] else 'month'} first (and split "
                 f"chronologically)")])
    return Finding(
        "bad_input_data", "error", 0, 0, {"date_column": u["column"], "times_back_in_time": u["steps_back"],
                                          "rows": u["rows"], "time_column": None},
        f"data.series.time_column is not set, so the rows are read as the series in file order, but the dates in "
        f"column {u['column']!r} go back in time {u['steps_back']} times over {u['rows']} rows: the file is not in "
        f"time order. Each window then strings together unrelated moments, and no model can forecast from it.",
        [Fix({"data.series.time_column": u["column"]},
             f"sort the rows by {u['column']!r} (and split chronologically)")])


def _times_repeated(ctx: Context) -> Finding | None:
    """data.series.time_column repeating its values and going back in time in file order (data
    report's repeated_times, series.REPEATED_TIMES_SHARE): a part of the clock (the hour of the
    day), not the clock. Sorted by it, the rows of different days interleave."""
    r = ctx.repeated_times
    if not r:
        return None
    other = r.get("candidate")
    return Finding(
        "bad_input_data", "error", 0, 0, {**r, "limit": "repeated >= 10% of rows, back in time >= 3 times, "
                                                          "half the rows out of its order"},
        f"data.series.time_column {r['column']!r} takes only {r['distinct']} distinct values over {r['rows']} rows, "
        f"and in file order it goes back {r['steps_back']} times, {r.get('moved', 0)} rows out of its order. It is a "
        f"part of the clock (such as the hour of the day), not the series' own time, or the file stacks several "
        f"series. The rows are sorted by it, so rows of different days (or series) interleave and each window "
        f"strings together unrelated moments."
        + (f" Column {other!r} holds dates that never repeat." if other else ""),
        [Fix({"data.series.time_column": other}, f"sort the rows by {other!r}, the series' own time")] if other else [])


def _day_month_swapped(ctx: Context) -> Finding | None:
    """A series' dates read with day and month the wrong way round (data report's
    day_month_swapped): 02/01/2023 taken as 1 February scatters the hours of each month's first
    twelve days among other months, so the rows sorted by time are out of order and each window
    strings together unrelated moments (0.87 against 0.94 read day first; ninth held-out set).
    The data step measures it: in file order the other reading never goes back in time, this one
    does, 3 times or more."""
    d = ctx.day_month_swapped
    if not d:
        return None
    flip = not d["dayfirst"]
    return Finding(
        "bad_input_data", "warning", 0, 0, {**d, "limit": "the other reading never back in time, this one >= 3 times"},
        f"The dates in {d['column']!r} (such as {d['example']!r}) are read {'day' if d['dayfirst'] else 'month'} "
        f"first, and so read they go back in time {d['steps_back']} times over the file's {d['rows']} rows; read "
        f"{'day' if flip else 'month'} first they never do. Sorted by the misread dates, the rows are out of time "
        f"order and each window strings together unrelated moments.",
        [Fix({"data.series.dayfirst": flip}, f"read the dates {'day' if flip else 'month'} first")])


def _coded_target(ctx: Context) -> Finding | None:
    """A regression target with one number repeated far from the rest (context.target_code): a code
    for "no value" stored in the target. The network is trained to predict it,
    and the loss, dominated by those rows, pulls every prediction towards it (-999 in 4% of
    diabetes' targets, 25-346 otherwise: r2 -1.9 on clean test rows, against 0.46 without those
    rows; seventh held-out set)."""
    far = ctx.target_extreme
    if not far or "code" not in far:
        return None
    code = far["code"]
    codes = [*ctx.target_missing_codes, code]
    return Finding(
        "bad_input_data", "warning", 0, 0, {"target": far["feature"], "code": code, "share": far["share"],
                                          "mads": far["mads"], "limit_mads": 10, "limit_gap_mads": 5},
        f"The target {far['feature']!r} holds {code:g} in {far['share']:.1%} of the training rows, up to "
        f"{far['mads']:.3g} median absolute deviations from the rest: a code for a missing value, stored as a number. "
        f"The network is trained to predict it, and those rows dominate the loss.",
        [Fix({"data.clean.target_missing_codes": codes}, f"drop the rows whose target is {code:g}, as rows with an "
                                                          f"empty target are")])


def _filled_far_away(ctx: Context) -> Finding | None:
    """data.clean.impute: constant with a fill value far outside the columns it fills
    (context.fill_far: 5 sd or more from the values each holds, and outside them). The value is
    in raw units, so the default 0 reads as a measurement no row has, the filled rows look like
    extreme ones, and the column's scaling is stretched to span them (wine with 8% of its cells
    blank, filled with 0: alcohol, 11-15 otherwise, got 13 zeros; 0.67 against 0.93 with mean
    imputation; eighth held-out set)."""
    far = ctx.fill_far
    if not far or sum(f["filled"] for f in far) < max(2, 0.01 * ctx.n_train):
        return None
    worst = max(far, key=lambda f: f["sds"])
    fill = worst["fill"]
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"impute": "constant", "impute_value": fill, "columns": far,
         "limit": "5 sd from the column's mean, and its range away from its nearest value"},
        f"data.clean.impute: constant fills the empty cells with {fill:g}, in the columns' own units. In "
        f"{len(far)} column(s) no real value comes near it: {worst['column']!r} holds values around "
        f"{worst['mean']:g} (sd {worst['sd']:g}), so its {worst['filled']} filled rows sit {worst['sds']:g} sd away. "
        f"The network reads them as extreme measurements.",
        [Fix({"data.clean.impute": "median"}, "fill each column with its training median, a value it holds")])


def _numbers_as_codes(ctx: Context) -> Finding | None:
    """Numeric columns that are codes, not measurements (context.code_columns): store 101 is not
    "one more" than store 100, but a network reads the number as a size, so it can only draw a
    smooth curve through effects that jump from one code to the next (store IDs 101-140 read as
    numbers: 0.68 against 0.84 one-hot; eighth held-out set). The fix one-hot encodes them with
    `data.categorical`."""
    codes = ctx.code_columns
    if not codes:
        return None
    names = [c["column"] for c in codes]
    first = codes[0]
    fix = {"data.categorical": names}
    most = max(c["levels"] for c in codes)
    if most > ctx.max_categories:
        fix["data.max_categories"] = most
    return Finding(
        "bad_input_data", "warning", 0, 0,
        {"columns": codes, "limit": "epsilon2 >= 0.15 and >= 5x a line's r2, neighbouring codes' effects "
                                    "correlated under 0.5"},
        f"{'Columns' if len(names) > 1 else 'Column'} {', '.join(repr(n) for n in names)} hold whole numbers that act "
        f"as codes, not measurements: {first['column']!r}'s {first['levels']} values explain {first['epsilon2']:.0%} of "
        f"the target's variance between them, a straight line in the number {first['line_r2']:.1%}, and neighbouring "
        f"codes have unrelated effects (correlation {first['neighbours']:.2f}). Read as a number, the network can only "
        f"fit a smooth curve through effects that jump from one code to the next.",
        [Fix(fix, "one-hot encode them as categories: one input per code")])
