#!/usr/bin/env python
"""Write the fault suite's generated data sets (CSV) from scikit-learn's bundled ones.

Every file is derived from a bundled set with a fixed seed, so the suite downloads nothing and
gives the same data on every machine. Run once (run_suite.py calls it when a file is missing):

    .venv/bin/python benchmarks/doctor/make_data.py

  iris_x1e4.csv        iris with one feature (petal length) multiplied by 1e4   -> unscaled_features
  diabetes_x1e4.csv    diabetes (regression) with one feature (bmi) x 1e4        -> unscaled_features
  wine_nan.csv         wine with 8% of the numeric cells blanked (NaN)           -> bad_input_data
  iris_nan.csv         iris with 5% of the numeric cells blanked                 -> bad_input_data
  bc_imbalanced.csv    breast_cancer, malignant subsampled to 5% of the rows, only the four
                       weakest features kept (the minority is hard to see)       -> class_imbalance
  wine_imbalanced.csv  wine, 3 classes at about 90/5/5 on three weak features    -> class_imbalance
  digits_imbalanced.csv digits 0 vs 1..9 rows kept at 95/5 (easy: the model learns the minority;
                       a healthy imbalanced case that must not raise class_imbalance)

For the held-out set (heldout.yaml):
  bc_nan.csv           breast_cancer with 6% of the numeric cells blanked        -> bad_input_data
  digits8_imb98.csv    "is it an 8?" at 98/2 on five pixel columns (a logistic regression scores
                       balanced accuracy 0.50 unweighted, 0.79 with class weights) -> class_imbalance
  wine_mixed_units.csv wine with alcohol x1e3, flavanoids x1e5, hue x1e-3       -> unscaled_features

For the second held-out set (heldout2.yaml):
  iris_x1e3_all.csv    iris with every feature x1e3; iris_x1e3_half.csv: two of four -> unscaled_features
  iris_nan_rows.csv    iris with one cell blanked in each of 4 rows                -> bad_input_data
  digits3_imb97.csv    "is it a 3?" at about 97/3 on six pixel columns             -> class_imbalance
  bc_noisy15.csv       breast_cancer with 15% of the labels flipped                -> overfitting

For the third held-out set (heldout3.yaml):
  bc_sentinel.csv      breast_cancer with 2% of the numeric cells set to a sentinel 9999999 -> bad_input_data
  customers_churn6.csv examples/data/customers.csv with the churners cut to 40 (about 6%) -> class_imbalance
  digits_noisy30.csv   1497 digits rows with 30% of the labels changed to another digit, and
  digits_clean300.csv  the other 300 rows, labels untouched (the test file)     -> overfitting
  diabetes_units.csv   diabetes with its features in wildly different units (x1e-3 .. x1e5) -> unscaled_features

heldout5(), heldout6(), heldout7(), heldout8(), heldout9(), heldout10() and heldout11() list their own files in their docstrings;
heldout6's are synthetic, drawn with numpy from fixed seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

HERE = Path(__file__).parent / "data"
FILES = ["iris_x1e4.csv", "diabetes_x1e4.csv", "wine_nan.csv", "iris_nan.csv", "bc_imbalanced.csv",
         "wine_imbalanced.csv", "digits_imbalanced.csv", "bc_nan.csv", "digits8_imb98.csv", "wine_mixed_units.csv",
         "iris_x1e3_all.csv", "iris_x1e3_half.csv", "iris_nan_rows.csv", "digits3_imb97.csv", "bc_noisy15.csv",
         "bc_sentinel.csv", "customers_churn6.csv", "digits_noisy30.csv", "digits_clean300.csv",
         "diabetes_units.csv", "h5_diabetes_raw.csv", "h5_diabetes_m999.csv", "h5_diabetes_rare.csv",
         "h5_bc_noisy30.csv", "h5_bc_clean120.csv", "h6_imb50.csv", "h6_zero_inflated.csv", "h6_reg_noisy250.csv",
         "h6_reg_clean200.csv", "h7_series_shuffled.csv", "h7_bc_offbyone449.csv", "h7_bc_aligned449.csv",
         "h7_bc_test120.csv", "h7_diabetes_tgt_m999.csv", "h7_diabetes_tgt_clean.csv", "h7_diabetes_test100.csv",
         "h7_seq_noisy630.npz", "h7_seq_clean270.npz", "h7_seq_imb.npz",
         "h8_digits_sorted_train.npz", "h8_digits_val300.npz", "h8_digits_test300.npz", "h8_stores_codes.csv",
         "h8_stores_names.csv", "h8_seq_units.npz", "h8_digits5_imb.csv", "h8_seq_transposed.npz", "h8_wine_wide.csv",
         "h9_reviews_long.csv", "h9_wine_logged.csv", "h9_digits_u8.csv", "h9_bc_noisy_x4.csv", "h9_bc_test120.csv",
         "h9_digits9_train.npz", "h9_digits9_test300.npz", "h9_series_dayfirst.csv",
         "h10_accounts.csv", "h10_churn_train.csv", "h10_churn_test.csv", "h10_survey.csv", "h10_survey_test.csv",
         "h10_reg.csv", "h10_tickets.csv", "h10_series_gaps.csv", "h10_accounts_sparse.csv", "h10_seq_postpad.npz",
         "h10_seq_prepad.npz", "h10_fraud.csv",
         "h11_boards.npz", "h11_failures.csv", "h11_pumps_train.csv", "h11_pumps_test.csv",
         "h11_homes.csv", "h11_loans_train.csv", "h11_loans_val.csv",
         "h11_loans_test.csv", "h11_tickets.csv", "h11_meter.csv"]


def _frame(bunch) -> pd.DataFrame:
    df = pd.DataFrame(bunch.data, columns=[str(c).replace(" ", "_") for c in bunch.feature_names])
    df["target"] = bunch.target
    return df


def _blank(df: pd.DataFrame, share: float, rng) -> pd.DataFrame:
    df = df.copy()
    cols = [c for c in df.columns if c != "target"]
    mask = rng.random((len(df), len(cols))) < share
    values = df[cols].to_numpy(dtype=float, copy=True)
    values[mask] = np.nan
    df[cols] = values
    return df


def _subsample(df: pd.DataFrame, keep: dict, rng) -> pd.DataFrame:
    """keep: class -> number of rows to keep (all if None)."""
    parts = []
    for cls, n in keep.items():
        rows = df[df.target == cls]
        parts.append(rows if n is None else rows.sample(n=n, random_state=int(rng.integers(1 << 30))))
    return pd.concat(parts).sample(frac=1.0, random_state=0).reset_index(drop=True)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)

    iris = _frame(datasets.load_iris())
    big = iris.copy()
    big["petal_length_(cm)"] *= 1e4
    big.to_csv(HERE / "iris_x1e4.csv", index=False)
    _blank(iris, 0.05, rng).to_csv(HERE / "iris_nan.csv", index=False)

    diabetes = _frame(datasets.load_diabetes())
    diabetes["bmi"] *= 1e4
    diabetes.to_csv(HERE / "diabetes_x1e4.csv", index=False)

    wine = _frame(datasets.load_wine())
    _blank(wine, 0.08, rng).to_csv(HERE / "wine_nan.csv", index=False)

    bc = _frame(datasets.load_breast_cancer())
    # target 0 = malignant (212 rows), 1 = benign (357). Keep all benign and 19 malignant: 95/5.
    weak = ["mean_fractal_dimension", "texture_error", "smoothness_error", "symmetry_error", "target"]
    _subsample(bc[weak], {1: None, 0: 19}, rng).to_csv(HERE / "bc_imbalanced.csv", index=False)

    # wine classes: 59 / 71 / 48 rows. Keep class 1 whole and 4 rows each of 0 and 2: ~90/5/5.
    _subsample(wine[["ash", "magnesium", "proanthocyanins", "target"]], {1: None, 0: 4, 2: 4}, rng) \
        .to_csv(HERE / "wine_imbalanced.csv", index=False)

    digits = _frame(datasets.load_digits())
    digits["target"] = (digits["target"] != 0).astype(int)     # 1 = "not a zero"
    n_zero = 90                                                     # ~5% zeros: 1619 vs 90
    _subsample(digits, {1: None, 0: n_zero}, rng).to_csv(HERE / "digits_imbalanced.csv", index=False)
    heldout()
    heldout2()
    heldout3()
    heldout5()
    heldout6()
    heldout7()
    heldout8()
    heldout9()
    heldout10()
    heldout11()


def heldout() -> None:
    rng = np.random.default_rng(11)
    bc = _frame(datasets.load_breast_cancer())
    cols = [c for c in bc.columns if c != "target"]
    values = bc[cols].to_numpy(float, copy=True)
    values[rng.random(values.shape) < 0.06] = np.nan
    bc[cols] = values
    bc.to_csv(HERE / "bc_nan.csv", index=False)
    digits = _frame(datasets.load_digits())
    digits["target"] = (digits["target"] == 8).astype(int)
    eights = digits[digits.target == 1].sample(n=33, random_state=11)   # 33 eights against 1623 others
    keep = [digits.columns[i] for i in (19, 21, 27, 35, 43)] + ["target"]
    pd.concat([digits[digits.target == 0], eights])[keep].sample(frac=1.0, random_state=0) \
        .reset_index(drop=True).to_csv(HERE / "digits8_imb98.csv", index=False)
    wine = _frame(datasets.load_wine())
    wine["alcohol"] *= 1e3
    wine["flavanoids"] *= 1e5
    wine["hue"] *= 1e-3
    wine.to_csv(HERE / "wine_mixed_units.csv", index=False)



def heldout2() -> None:
    rng = np.random.default_rng(22)
    iris = _frame(datasets.load_iris())
    features = [c for c in iris.columns if c != "target"]
    big = iris.copy()
    big[features] *= 1e3
    big.to_csv(HERE / "iris_x1e3_all.csv", index=False)
    half = iris.copy()
    half["sepal_width_(cm)"] *= 1e3
    half["petal_width_(cm)"] *= 1e3
    half.to_csv(HERE / "iris_x1e3_half.csv", index=False)
    nan = iris.copy()
    for row in rng.choice(len(nan), size=4, replace=False):
        nan.loc[row, features[int(rng.integers(len(features)))]] = np.nan
    nan.to_csv(HERE / "iris_nan_rows.csv", index=False)
    digits = _frame(datasets.load_digits())
    digits["target"] = (digits["target"] == 3).astype(int)
    threes = digits[digits.target == 1].sample(n=50, random_state=22)
    keep = [digits.columns[i] for i in (10, 13, 26, 34, 42, 53)] + ["target"]
    pd.concat([digits[digits.target == 0], threes])[keep].sample(frac=1.0, random_state=0) \
        .reset_index(drop=True).to_csv(HERE / "digits3_imb97.csv", index=False)
    bc = _frame(datasets.load_breast_cancer())
    flip = np.random.default_rng(23).random(len(bc)) < 0.15
    bc.loc[flip, "target"] = 1 - bc.loc[flip, "target"]
    bc.to_csv(HERE / "bc_noisy15.csv", index=False)


def heldout3() -> None:
    rng = np.random.default_rng(33)
    bc = _frame(datasets.load_breast_cancer())
    cols = [c for c in bc.columns if c != "target"]
    values = bc[cols].to_numpy(float, copy=True)
    values[rng.random(values.shape) < 0.02] = 9999999.0          # a "missing" code read as a number
    bc[cols] = values
    bc.to_csv(HERE / "bc_sentinel.csv", index=False)
    customers = pd.read_csv(Path(__file__).resolve().parents[2] / "examples" / "data" / "customers.csv")
    churners = customers[customers.churn == "yes"].sample(n=40, random_state=33)   # 40 against ~620 (and 12 unlabelled)
    pd.concat([customers[customers.churn != "yes"], churners]).sample(frac=1.0, random_state=0) \
        .rename(columns={"churn": "target"}).to_csv(HERE / "customers_churn6.csv", index=False)
    digits = _frame(datasets.load_digits()).sample(frac=1.0, random_state=33).reset_index(drop=True)
    digits.iloc[:300].to_csv(HERE / "digits_clean300.csv", index=False)
    pool = digits.iloc[300:].copy()
    flip = rng.random(len(pool)) < 0.3
    pool.loc[flip, "target"] = (pool.loc[flip, "target"] + rng.integers(1, 10, int(flip.sum()))) % 10
    pool.to_csv(HERE / "digits_noisy30.csv", index=False)
    diabetes = _frame(datasets.load_diabetes())
    for col, factor in {"age": 1e3, "bmi": 1e5, "bp": 1e-3, "s1": 1e4, "s3": 1e-2, "s5": 1e2}.items():
        diabetes[col] *= factor
    diabetes.to_csv(HERE / "diabetes_units.csv", index=False)


def heldout5() -> None:
    """For the fifth held-out set (heldout5.yaml).

    h5_diabetes_raw.csv   diabetes in its natural units (load_diabetes(scaled=False): age in years,
                          sex 1/2, blood serum values up to ~300)            -> unscaled_features
    h5_diabetes_m999.csv  the same with 4% of the feature cells set to a -999 "missing" code -> bad_input_data
    h5_diabetes_rare.csv  diabetes features, target 1 when disease progression is in its top 7%
                          (a rare-event classification cut from the regression target) -> class_imbalance
    h5_bc_noisy30.csv     449 breast_cancer rows with 30% of the labels flipped, and
    h5_bc_clean120.csv    the other 120 rows, labels untouched (the test file) -> overfitting
    """
    rng = np.random.default_rng(55)
    raw = _frame(datasets.load_diabetes(scaled=False))
    raw.to_csv(HERE / "h5_diabetes_raw.csv", index=False)
    cols = [c for c in raw.columns if c != "target"]
    coded = raw.copy()
    values = coded[cols].to_numpy(float, copy=True)
    values[rng.random(values.shape) < 0.04] = -999.0
    coded[cols] = values
    coded.to_csv(HERE / "h5_diabetes_m999.csv", index=False)
    rare = _frame(datasets.load_diabetes())
    rare["target"] = (rare["target"] > rare["target"].quantile(0.93)).astype(int)
    rare.to_csv(HERE / "h5_diabetes_rare.csv", index=False)
    bc = _frame(datasets.load_breast_cancer()).sample(frac=1.0, random_state=55).reset_index(drop=True)
    bc.iloc[:120].to_csv(HERE / "h5_bc_clean120.csv", index=False)
    pool = bc.iloc[120:].copy()
    flip = np.random.default_rng(56).random(len(pool)) < 0.3
    pool.loc[flip, "target"] = 1 - pool.loc[flip, "target"]
    pool.to_csv(HERE / "h5_bc_noisy30.csv", index=False)


def heldout6() -> None:
    """For the sixth held-out set (heldout6.yaml); synthetic, numpy seeds 66 and 67.

    h6_imb50.csv          2550 rows, 10 features, binary at 1:50 (2500 against 50): the minority is
                          shifted by 1.0 sd along four features, so it overlaps the majority -> class_imbalance
    h6_zero_inflated.csv  1500 rows, binary: six ordinary features in everyday units plus
                          capital_gain, 0 in ~85% of rows and ~600-65000 (median ~5000) in the rest
                          (the label depends on it); its interquartile range is 0, so robust scaling
                          leaves it in raw units                             -> unscaled_features
    h6_reg_noisy250.csv   250 rows, 12 features, target = a smooth function of 5 of them (sd ~1.9)
                          plus noise of sd 2.0, and
    h6_reg_clean200.csv   200 more rows with the noise-free target (the test file) -> overfitting
    """
    rng = np.random.default_rng(66)
    n_maj, n_min, d = 2500, 50, 10
    x = rng.normal(size=(n_maj + n_min, d))
    x[n_maj:, :4] += 1.0
    imb = pd.DataFrame(x, columns=[f"x{i}" for i in range(d)])
    imb["target"] = np.r_[np.zeros(n_maj, int), np.ones(n_min, int)]
    imb.sample(frac=1.0, random_state=66).reset_index(drop=True).to_csv(HERE / "h6_imb50.csv", index=False)

    n = 1500
    z = rng.normal(size=(n, 6))
    has_gain = rng.random(n) < 0.15
    gain = np.where(has_gain, np.exp(rng.normal(8.5, 1.0, n)), 0.0).round(0)
    logit = 1.2 * z[:, 0] - 1.0 * z[:, 1] + 0.8 * z[:, 2] * z[:, 3] + 2.5 * has_gain + 0.8 * np.log1p(gain / 1000) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * logit))).astype(int)
    zi = pd.DataFrame({"age": (40 + 12 * z[:, 0]).round(0), "hours_per_week": (40 + 10 * z[:, 1]).round(1),
                       "tenure_years": (8 + 5 * z[:, 2]).round(2), "score": (0.5 + 0.15 * z[:, 3]).round(4),
                       "visits": (20 + 6 * z[:, 4]).round(0), "rating": (3 + z[:, 5]).round(2),
                       "capital_gain": gain, "target": y})
    zi.to_csv(HERE / "h6_zero_inflated.csv", index=False)

    # Regression with noisy training targets and a clean test file (its own generator, seed 67).
    rng = np.random.default_rng(67)
    d = 12

    def signal(x):
        return 2.0 * np.sin(x[:, 0]) + x[:, 1] + 0.8 * x[:, 2] - 0.6 * x[:, 3] + 0.5 * x[:, 4] * x[:, 1]

    for file, rows, noise in (("h6_reg_noisy250.csv", 250, 2.0), ("h6_reg_clean200.csv", 200, 0.0)):
        x = rng.normal(size=(rows, d))
        frame = pd.DataFrame(x.round(4), columns=[f"x{i}" for i in range(d)])
        frame["target"] = (signal(x) + rng.normal(0, noise, rows) if noise else signal(x)).round(4)
        frame.to_csv(HERE / file, index=False)


def heldout7() -> None:
    """For the seventh held-out set (heldout7.yaml); numpy seed 77 (pandas random_state 77).

    h7_series_shuffled.csv     examples/data/series.csv (hourly load and temperature) with its rows in
                               random order: fine when data.series.time_column sorts them, garbage
                               windows when it is left out                          -> bad_input_data
    h7_bc_offbyone449.csv      449 shuffled breast_cancer rows whose labels are shifted one row down
                               (an off-by-one join of features and labels: every row carries its
                               neighbour's label, so labels and features are unrelated), and
    h7_bc_aligned449.csv       the same 449 rows with their own labels, and
    h7_bc_test120.csv          the other 120 rows, labels untouched (the test file)  -> stuck_at_chance
    h7_diabetes_tgt_m999.csv   342 diabetes rows with 4% of the TARGET cells set to a -999 "missing"
                               code (data.clean.missing_codes only reads features), and
    h7_diabetes_tgt_clean.csv  the same rows with those rows left out, and
    h7_diabetes_test100.csv    the other 100 rows, untouched (the test file)        -> bad_input_data
    h7_seq_noisy630.npz        630 of examples/data/sequences.npz's 900 sequences (60 steps, 2 channels,
                               3 classes) with 40% of the labels changed to another class, and
    h7_seq_clean270.npz        the other 270, labels untouched (the test file)      -> overfitting
    h7_seq_imb.npz             the same 630 sequences with their own labels, class 2 cut to 12 rows
                               (about 2%; the test file is h7_seq_clean270.npz, balanced) -> class_imbalance
    """
    rng = np.random.default_rng(77)
    series = pd.read_csv(Path(__file__).resolve().parents[2] / "examples" / "data" / "series.csv")
    series.sample(frac=1.0, random_state=77).reset_index(drop=True).to_csv(HERE / "h7_series_shuffled.csv", index=False)

    bc = _frame(datasets.load_breast_cancer()).sample(frac=1.0, random_state=77).reset_index(drop=True)
    bc.iloc[449:].to_csv(HERE / "h7_bc_test120.csv", index=False)
    pool = bc.iloc[:449].copy()
    pool.to_csv(HERE / "h7_bc_aligned449.csv", index=False)
    pool["target"] = np.roll(pool["target"].to_numpy(), 1)
    pool.to_csv(HERE / "h7_bc_offbyone449.csv", index=False)

    diabetes = _frame(datasets.load_diabetes()).sample(frac=1.0, random_state=77).reset_index(drop=True)
    diabetes.iloc[342:].to_csv(HERE / "h7_diabetes_test100.csv", index=False)
    pool = diabetes.iloc[:342].copy()
    coded = rng.random(len(pool)) < 0.04
    pool[~coded].to_csv(HERE / "h7_diabetes_tgt_clean.csv", index=False)
    pool.loc[coded, "target"] = -999.0
    pool.to_csv(HERE / "h7_diabetes_tgt_m999.csv", index=False)

    with np.load(Path(__file__).resolve().parents[2] / "examples" / "data" / "sequences.npz") as seq:
        x, y = seq["x"], seq["y"]
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    np.savez(HERE / "h7_seq_clean270.npz", x=x[630:], y=y[630:])
    px, py = x[:630], y[:630].copy()
    flip = rng.random(len(py)) < 0.4
    noisy = py.copy()
    noisy[flip] = (py[flip] + rng.integers(1, 3, int(flip.sum()))) % 3
    np.savez(HERE / "h7_seq_noisy630.npz", x=px, y=noisy)
    keep = np.r_[np.flatnonzero(py != 2), np.flatnonzero(py == 2)[:12]]
    keep = np.sort(keep)
    np.savez(HERE / "h7_seq_imb.npz", x=px[keep], y=py[keep])


def heldout8() -> None:
    """For the eighth held-out set (heldout8.yaml); numpy seed 88 (pandas random_state 88).

    h8_digits_sorted_train.npz  1197 digits images (8x8, pixels 0..16) sorted by label (an export ordered
                                by class), with
    h8_digits_val300.npz and    300 validation and
    h8_digits_test300.npz       300 test images in random order: given as data.val and data.test, the
                                training file is not split (so not shuffled by the split); with
                                training.shuffle false every epoch runs the zeros first, the nines last -> bad_input_data
    h8_stores_codes.csv         2000 synthetic sales rows: store (an ID, 40 stores, each with its own
                                effect on the label) written as integer codes 101..140, four ordinary
                                numeric features; the label is drawn from a logistic model, and
    h8_stores_names.csv         the same rows with the store written as text (S101 ...), so it is
                                one-hot encoded                                    -> bad_input_data
    h8_seq_units.npz            examples/data/sequences.npz with channel 0 in thousandths (x1000,
                                e.g. millivolts for volts) and channel 1 offset by +500  -> unscaled_features
    h8_digits5_imb.csv          "is it a 5?" on four pixel columns, 50 fives against 1615 others (3%):
                                a logistic regression scores balanced accuracy 0.50 unweighted,
                                0.79 with class weights                              -> class_imbalance
    h8_seq_transposed.npz       examples/data/sequences.npz saved as (N, channels, steps) = (900, 2, 60)
                                instead of (N, steps, channels): an RNN reads 2 "steps" of 60 features -> bad_input_data
    h8_wine_wide.csv            wine's 13 measurements joined with 400 columns of an unrelated sensor table
                                (standard normal noise, sensor_000 ..), 178 rows      -> overfitting
    """
    rng = np.random.default_rng(88)
    digits = _frame(datasets.load_digits()).sample(frac=1.0, random_state=88).reset_index(drop=True)

    def images(frame: pd.DataFrame, file: str) -> None:
        x = frame.drop(columns="target").to_numpy(np.float32).reshape(-1, 8, 8)
        np.savez(HERE / file, x=x, y=frame["target"].to_numpy())

    images(digits.iloc[:300], "h8_digits_test300.npz")
    images(digits.iloc[300:600], "h8_digits_val300.npz")
    images(digits.iloc[600:].sort_values("target", kind="stable"), "h8_digits_sorted_train.npz")

    n, n_stores = 2000, 40
    store = rng.integers(0, n_stores, n)
    effect = rng.normal(0.0, 1.6, n_stores)
    z = rng.normal(size=(n, 4))
    logit = effect[store] + 0.9 * z[:, 0] - 0.7 * z[:, 1] + 0.5 * z[:, 2] * z[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-2.0 * logit))).astype(int)
    frame = pd.DataFrame({"store": store + 101, "price": (20 + 5 * z[:, 0]).round(2),
                          "discount": (0.2 + 0.08 * z[:, 1]).round(3), "footfall": (300 + 80 * z[:, 2]).round(0),
                          "rating": (3.5 + 0.6 * z[:, 3]).round(2), "target": y})
    frame.to_csv(HERE / "h8_stores_codes.csv", index=False)
    frame.assign(store="S" + frame["store"].astype(str)).to_csv(HERE / "h8_stores_names.csv", index=False)

    with np.load(Path(__file__).resolve().parents[2] / "examples" / "data" / "sequences.npz") as seq:
        x, ys = seq["x"].astype(np.float64), seq["y"]
    x[:, :, 0] *= 1000.0
    x[:, :, 1] += 500.0
    np.savez(HERE / "h8_seq_units.npz", x=x.astype(np.float32), y=ys)

    d5 = _frame(datasets.load_digits())
    d5["target"] = (d5["target"] == 5).astype(int)
    fives = d5[d5.target == 1].sample(n=50, random_state=88)
    keep = [d5.columns[i] for i in (13, 21, 29, 37)] + ["target"]
    pd.concat([d5[d5.target == 0], fives])[keep].sample(frac=1.0, random_state=0) \
        .reset_index(drop=True).to_csv(HERE / "h8_digits5_imb.csv", index=False)

    with np.load(Path(__file__).resolve().parents[2] / "examples" / "data" / "sequences.npz") as seq:
        np.savez(HERE / "h8_seq_transposed.npz", x=np.ascontiguousarray(seq["x"].transpose(0, 2, 1)), y=seq["y"])

    wine = _frame(datasets.load_wine())
    noise = pd.DataFrame(rng.normal(size=(len(wine), 400)).round(4), columns=[f"sensor_{i:03d}" for i in range(400)])
    pd.concat([wine.drop(columns="target"), noise, wine[["target"]]], axis=1).to_csv(HERE / "h8_wine_wide.csv", index=False)


def heldout9() -> None:
    """For the ninth held-out set (heldout9.yaml); numpy seed 99 (pandas random_state 99).

    h9_reviews_long.csv     1200 synthetic product reviews (positive / negative, 3% of the labels
                            flipped): three or four sentences of neutral chatter, then the verdict
                            ("in the end the battery is superb .") last, 23-49 tokens in all; with
                            data.text.max_len 16 every verdict is cut off        -> bad_input_data
    h9_wine_logged.csv      wine's 13 measurements already standardized upstream (z-scores) plus
                            logged_at, the unix time of each sample (~1.7e9 s, unrelated to the
                            class): harmless when scaled, ~1e9 against ~1 when data.scale is none -> unscaled_features
    h9_digits_u8.csv        digits with its pixels as 8-bit values (0..255, x16), as an image export
                            stores them; fed unscaled to a tanh net          -> saturated_activations
    h9_bc_noisy_x4.csv      449 breast_cancer rows with 20% of the labels flipped, every row written
                            four times (a join that repeated each record), and
    h9_bc_test120.csv       the other 120 rows, labels untouched (the test file): with
                            drop_duplicates false the copies land in training and validation alike -> overfitting
    h9_digits9_train.npz    "is it a 9?" on 8x8 digit images (pixels 0..16): 1497 images with their
                            nines cut to 24, so 1369 rows at about 1.8%, and
    h9_digits9_test300.npz  300 other images in natural proportion (28 nines) -> class_imbalance
    h9_series_dayfirst.csv  examples/data/series.csv with its timestamps written day first
                            (02/01/2023 00:00 for 2 January): read month first where the day is 12 or
                            less, so those days land in the wrong months      -> bad_input_data
    """
    rng = np.random.default_rng(99)
    root = Path(__file__).resolve().parents[2]

    # Long product reviews whose verdict comes in the last sentence, after a preamble of neutral
    # chatter (delivery, use, comparison): a 64-token window holds the verdict, a 16-token one does not.
    aspects = ["battery", "screen", "camera", "keyboard", "speaker", "charger", "strap", "lens", "hinge", "motor"]
    good = ["great", "excellent", "solid", "reliable", "superb", "sturdy", "fantastic", "good"]
    bad = ["awful", "flimsy", "poor", "terrible", "useless", "cheap", "disappointing", "bad"]
    chatter = ["i ordered it on a monday and it came on friday", "the box was a bit dented but fine",
               "my sister has the older model", "i have used it every day for three weeks",
               "setup took about ten minutes", "it replaced the one i had before", "the manual is short",
               "i mostly use it at work", "the colour is the same as in the photos", "shipping was free",
               "i compared it with two other brands first", "it fits in my bag", "the price was about average",
               "the instructions were in four languages", "i charge it every other night",
               "my neighbour recommended the shop", "it came with a spare cable", "i use it on the train"]
    rows = []
    for _ in range(1200):
        label = int(rng.integers(2))
        pre = ". ".join(rng.choice(chatter, size=int(rng.integers(3, 5)), replace=False))
        word = rng.choice(good if label else bad)
        verdict = f"in the end the {rng.choice(aspects)} is {word}"
        if rng.random() < 0.03:
            label = 1 - label
        rows.append((f"{pre}. {verdict}.", "positive" if label else "negative"))
    pd.DataFrame(rows, columns=["review", "target"]).to_csv(HERE / "h9_reviews_long.csv", index=False)

    # wine's 13 measurements already standardized upstream, plus the unix time each sample was logged.
    wine = _frame(datasets.load_wine())
    cols = [c for c in wine.columns if c != "target"]
    z = (wine[cols] - wine[cols].mean()) / wine[cols].std()
    z = z.round(4)
    z.insert(0, "logged_at", (1.69e9 + rng.uniform(0, 3.2e7, len(wine))).round(0))
    z["target"] = wine["target"]
    z.to_csv(HERE / "h9_wine_logged.csv", index=False)

    # digits as 8-bit pixels (0..255), the way an image export stores them.
    digits = _frame(datasets.load_digits())
    px = [c for c in digits.columns if c != "target"]
    digits[px] = np.minimum(digits[px] * 16, 255).astype(int)
    digits.to_csv(HERE / "h9_digits_u8.csv", index=False)

    # breast_cancer: 120 clean test rows; the other 449 with 20% of their labels flipped, each row
    # written four times (a join that repeated every record).
    bc = _frame(datasets.load_breast_cancer()).sample(frac=1.0, random_state=99).reset_index(drop=True)
    bc.iloc[449:].to_csv(HERE / "h9_bc_test120.csv", index=False)
    pool = bc.iloc[:449].copy()
    flip = rng.random(len(pool)) < 0.2
    pool.loc[flip, "target"] = 1 - pool.loc[flip, "target"]
    pd.concat([pool] * 4).sample(frac=1.0, random_state=99).reset_index(drop=True) \
        .to_csv(HERE / "h9_bc_noisy_x4.csv", index=False)

    # "is it a 9?" on 8x8 images: 300 test images in natural proportion; the training images keep 24
    # of their nines (about 2%).
    d = datasets.load_digits()
    order = rng.permutation(len(d.target))
    x, y = d.images[order].astype(np.float32), (d.target[order] == 9).astype(int)
    np.savez(HERE / "h9_digits9_test300.npz", x=x[:300], y=y[:300])
    tx, ty = x[300:], y[300:]
    keep = np.r_[np.flatnonzero(ty == 0), np.flatnonzero(ty == 1)[:24]]
    keep = np.sort(keep)
    np.savez(HERE / "h9_digits9_train.npz", x=tx[keep], y=ty[keep])

    # examples/data/series.csv with its timestamps written day first (02/01/2023 for 2 January), the
    # way a European spreadsheet exports them; month-first parsing swaps day and month wherever the
    # day is 12 or less, and falls back to day first elsewhere.
    series = pd.read_csv(root / "examples" / "data" / "series.csv")
    series["timestamp"] = pd.to_datetime(series["timestamp"]).dt.strftime("%d/%m/%Y %H:%M")
    series.to_csv(HERE / "h9_series_dayfirst.csv", index=False)


def _ticket(rng, keywords, filler, templates) -> str:
    """One synthetic support ticket: shared filler sentences around one or two of its class's topic
    words set in a template (the tenth and eleventh sets' ticket files; the draws' order is theirs)."""
    kws = rng.choice(keywords, size=int(rng.integers(1, 3)), replace=False)
    parts = list(rng.choice(filler, size=2, replace=False))
    parts.insert(int(rng.integers(1, 3)), rng.choice(templates).format(kws[0]))
    if len(kws) > 1:
        parts.append(rng.choice(templates).format(kws[1]))
    parts.append(rng.choice(filler))
    return " . ".join(parts) + " ."


def heldout10() -> None:
    """For the tenth held-out set (heldout10.yaml); numpy seed 1010.

    h10_accounts.csv        2000 synthetic card accounts: age, income, tenure (continuous) and the
                            zero-inflated columns that carry most of the default risk (late_payments,
                            chargebacks: 0 in 83% / 89% of rows; a 0/1 dispute flag, 1 in 7%); label
                            `target` = the account defaulted (29%). Interquartile-range clipping
                            squeezes every zero-inflated column to 0 (its IQR is 0) -> bad_input_data
    h10_accounts_sparse.csv the same accounts from a sparse export that leaves a cell empty where a
                            count or flag is 0; the default median imputation fills the blanks with
                            3, 2 and 1 instead of 0                               -> bad_input_data
    h10_churn_train.csv     2400 synthetic subscribers (usage, tenure, support calls, price, discount)
                            with refund_requested, a flag written by the cancellation workflow (set
                            for 90% of churners, 3% of stayers), and
    h10_churn_test.csv      800 subscribers scored at prediction time, before anyone has cancelled:
                            refund_requested is 0 for all (target leakage)         -> bad_input_data
    h10_survey.csv          20000 survey answers (six yes/no questions, an age band, a region: 1024
                            answer patterns, every column discrete, so 18069 rows repeat an earlier
                            one exactly), label drawn from a logistic model, and
    h10_survey_test.csv     one row per answer pattern (1024 rows, no repeats): dropping the training
                            file's exact duplicates leaves one (x, 0) and one (x, 1) for most
                            patterns, so the majority answer is lost              -> bad_input_data
    h10_reg.csv             1500 rows of a smooth synthetic regression (8 standard-normal features,
                            noise sd 0.35), for dropout 0.5 in a regression net   -> underfitting
    h10_tickets.csv         1200 synthetic support tickets (billing / technical / shipping, 3% of
                            the labels redrawn): shared filler sentences plus one or two topic words
                            drawn from 30 per class, each seen ~20 times in all; with
                            data.text.min_freq 50 every topic word becomes <unk>  -> bad_input_data
    h10_fraud.csv           8000 transactions, 2.5% fraud, six z-scored features, fraud shifted by
                            0.8-1.3 sd on three (the classes overlap)            -> class_imbalance
    h10_seq_postpad.npz     examples/data/sequences.npz cut to its first 12-30 steps and zero-padded
                            AFTER the signal to 60 steps, and
    h10_seq_prepad.npz      the same steps zero-padded BEFORE the signal (the reference): an LSTM's
                            last state after 30-48 padding steps has forgotten the signal -> bad_input_data
    h10_series_gaps.csv     examples/data/series.csv with load and temperature blank in 18.5% of the
                            hours (sensor drop-outs of 1-8 hours); with data.series.missing drop the
                            windows jump over the gaps                            -> bad_input_data
    """
    rng = np.random.default_rng(1010)
    root = Path(__file__).resolve().parents[2]
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))

    # Card accounts: the zero-inflated counts and the dispute flag carry the default risk.
    n = 2000
    age = rng.integers(21, 75, n)
    income = np.exp(rng.normal(10.5, 0.5, n)).round(0)
    tenure = rng.integers(1, 180, n)
    late = np.where(rng.random(n) < 0.18, rng.poisson(2.5, n) + 1, 0)
    charge = np.where(rng.random(n) < 0.10, rng.poisson(1.5, n) + 1, 0)
    dispute = (rng.random(n) < 0.07).astype(int)
    z = -2.6 + 1.4 * late + 1.6 * charge + 3.0 * dispute - 0.25 * (age - 45) / 15 - 0.3 * (tenure - 90) / 50
    y = (rng.random(n) < sig(z)).astype(int)
    accounts = pd.DataFrame({"age": age, "income": income, "tenure_months": tenure, "late_payments": late,
                             "chargebacks": charge, "dispute": dispute, "target": y})
    accounts.to_csv(HERE / "h10_accounts.csv", index=False)
    # The same accounts from a sparse export that writes nothing where a count or flag is zero.
    sparse = accounts.astype({c: "float64" for c in ("late_payments", "chargebacks", "dispute")})
    for c in ("late_payments", "chargebacks", "dispute"):
        sparse.loc[sparse[c] == 0, c] = np.nan
    sparse.to_csv(HERE / "h10_accounts_sparse.csv", index=False, float_format="%g")

    # Subscribers with a leaked post-outcome column.
    def subscribers(m: int, leak: bool) -> pd.DataFrame:
        usage = rng.gamma(2.0, 10.0, m).round(1)
        tenure = rng.integers(1, 72, m)
        calls = rng.poisson(1.5, m)
        price = rng.choice([9.99, 19.99, 29.99], m)
        discount = (rng.random(m) < 0.3).astype(int)
        z = 0.3 - 0.12 * (usage - 20) - 0.06 * (tenure - 36) + 0.9 * (calls - 1.5) + 0.08 * (price - 20) - 1.5 * discount
        churn = (rng.random(m) < sig(z)).astype(int)
        refund = np.where(churn == 1, rng.random(m) < 0.9, rng.random(m) < 0.03).astype(int) if leak else np.zeros(m, int)
        return pd.DataFrame({"monthly_usage_h": usage, "tenure_months": tenure, "support_calls": calls,
                             "price": price, "discount": discount, "refund_requested": refund, "target": churn})
    subscribers(2400, True).to_csv(HERE / "h10_churn_train.csv", index=False)
    subscribers(800, False).to_csv(HERE / "h10_churn_test.csv", index=False)

    # A survey: every column discrete, exact repeats are genuine respondents.
    w = np.array([1.1, -0.9, 0.7, -0.6, 0.5, 0.0])
    def survey_logit(q, band, region):
        return -0.3 + (q - 0.5) @ w * 2.0 + 0.35 * (band - 1.5) + np.array([0.4, -0.4, 0.2, -0.2])[region]
    m = 20000
    q = (rng.random((m, 6)) < 0.5).astype(int)
    band = rng.integers(0, 4, m)
    region = rng.integers(0, 4, m)
    yy = (rng.random(m) < sig(survey_logit(q, band, region))).astype(int)
    regions = np.array(["north", "south", "east", "west"])
    cols = {f"q{i + 1}": q[:, i] for i in range(6)}
    pd.DataFrame({**cols, "age_band": band, "region": regions[region], "target": yy}).to_csv(HERE / "h10_survey.csv", index=False)
    grid = np.array(np.meshgrid(*[[0, 1]] * 6, [0, 1, 2, 3], [0, 1, 2, 3], indexing="ij")).reshape(8, -1).T
    gq, gb, gr = grid[:, :6], grid[:, 6], grid[:, 7]
    gy = (rng.random(len(grid)) < sig(survey_logit(gq, gb, gr))).astype(int)
    cols = {f"q{i + 1}": gq[:, i] for i in range(6)}
    pd.DataFrame({**cols, "age_band": gb, "region": regions[gr], "target": gy}).to_csv(HERE / "h10_survey_test.csv", index=False)

    # A smooth regression.
    m = 1500
    x = rng.normal(size=(m, 8))
    f = 2 * np.sin(x[:, 0]) + x[:, 1] * x[:, 2] + 0.8 * x[:, 3] ** 2 - x[:, 4] + 0.5 * np.tanh(2 * x[:, 5])
    yr = f + rng.normal(0, 0.35, m)
    reg = pd.DataFrame(x.round(4), columns=[f"x{i}" for i in range(8)])
    reg["target"] = yr.round(4)
    reg.to_csv(HERE / "h10_reg.csv", index=False)

    # Support tickets.
    topics = {
        "billing": ["invoice", "refund", "overcharged", "payment", "receipt", "subscription", "fee", "vat",
                    "discount", "coupon", "price", "credit", "debit", "paypal", "statement", "balance",
                    "instalment", "renewal", "surcharge", "tariff", "chargeback", "iban", "billing", "prepaid",
                    "voucher", "tax", "bank", "transfer", "quote", "pricing"],
        "technical": ["crash", "error", "bug", "login", "password", "freeze", "update", "install", "reboot",
                      "sync", "wifi", "bluetooth", "firmware", "screen", "battery", "app", "lag", "timeout",
                      "server", "connection", "settings", "reset", "glitch", "driver", "pairing", "overheating",
                      "microphone", "touchscreen", "browser", "plugin"],
        "shipping": ["delivery", "courier", "parcel", "package", "tracking", "shipment", "dispatch",
                     "warehouse", "postcode", "pickup", "dhl", "ups", "fedex", "customs", "carrier", "depot",
                     "doorstep", "postman", "consignment", "freight", "locker", "mailroom", "pallet",
                     "van", "driver's", "signature", "postage", "transit", "lorry", "despatch"],
    }
    filler = ["hello team", "i hope you are well", "i am writing because of an issue", "this is my second message",
              "i have been a customer for years", "my order number is in the subject", "please help me soon",
              "i tried the help pages first", "nobody answered on the phone", "my colleague had the same thing",
              "i would appreciate a quick reply", "it happened again yesterday", "thanks in advance",
              "kind regards", "i am not happy about this", "could you look into it"]
    templates = ["there is a problem with the {}", "i have a question about the {}", "something is wrong with my {}",
                 "the {} is not right", "can you check the {} please"]
    labels = list(topics)
    rows = []
    for _ in range(1200):
        label = labels[int(rng.integers(3))]
        text = _ticket(rng, topics[label], filler, templates)
        if rng.random() < 0.03:
            label = labels[int(rng.integers(3))]
        rows.append((text, label))
    pd.DataFrame(rows, columns=["ticket", "target"]).to_csv(HERE / "h10_tickets.csv", index=False)

    # Card transactions, 2.5% fraud, the classes overlapping: a net without rebalancing calls
    # nearly everything legitimate.
    m = 8000
    fraud = (rng.random(m) < 0.025).astype(int)
    feats = rng.normal(size=(m, 6))
    feats[:, :3] += fraud[:, None] * np.array([1.3, 1.0, 0.8])
    tx = pd.DataFrame(feats.round(4), columns=["amount_z", "velocity_z", "distance_z", "hour_z", "merchant_z", "age_z"])
    tx["target"] = fraud
    tx.to_csv(HERE / "h10_fraud.csv", index=False)

    # sequences.npz cut to 12-30 of its 60 steps, zero-padded after the signal (post-padding) or
    # before it (pre-padding, the reference): the same steps, only the side of the padding differs.
    with np.load(root / "examples" / "data" / "sequences.npz") as seq:
        x, ys = seq["x"].astype(np.float32), seq["y"]
    lengths = rng.integers(12, 31, len(x))
    post, pre = np.zeros_like(x), np.zeros_like(x)
    for i, k in enumerate(lengths):
        post[i, :k] = x[i, :k]
        pre[i, -k:] = x[i, :k]
    np.savez(HERE / "h10_seq_postpad.npz", x=post, y=ys)
    np.savez(HERE / "h10_seq_prepad.npz", x=pre, y=ys)

    # series.csv with sensor drop-outs: both columns blank for 1-8 hours at a time.
    series = pd.read_csv(root / "examples" / "data" / "series.csv")
    blank = np.zeros(len(series), bool)
    while blank.mean() < 0.18:
        start = int(rng.integers(0, len(series)))
        blank[start:start + int(rng.integers(1, 9))] = True
    series.loc[blank, ["load", "temperature"]] = np.nan
    series.to_csv(HERE / "h10_series_gaps.csv", index=False)


def heldout11() -> None:
    """For the eleventh held-out set (heldout11.yaml); numpy seed 1111.

    h11_boards.npz          1200 synthetic 16x16 grayscale inspection images (N, 1, 16, 16): a noisy
                            board texture with one bright solder blob; the label is the quadrant that
                            holds the blob (4 classes). A CNN that averages over space before its
                            head (model.global_pool) cannot tell where the blob is   -> underfitting
    h11_failures.csv        6000 machine-days, 3.7% ending in a failure, eight sensor summaries (the
                            failures shifted by 0.6-1.2 sd on four of them: the classes overlap)
                                                                                     -> class_imbalance
    h11_pumps_train.csv     2000 pump-weeks from the historical export (pressure, flow, motor current,
                            temperature, running hours, age) with vibration_um_s written as 0.0 in
                            every row (the vibration logger was installed later), and
    h11_pumps_test.csv      600 recent pump-weeks in which vibration_um_s holds real readings (500-12000);
                            label `target` = a failure within the next week (~35%)  -> bad_input_data
    h11_homes.csv           2500 synthetic home sales (floor area, rooms, age, distance to the centre,
                            condition, garage) and the price in thousands (123-901, all positive),
                            for a custom (model.type: python) net that ends in a ReLU "because
                            prices cannot be negative", while trainwell standardizes the target
                                                                                   -> underfitting
    h11_loans_train.csv     1500 synthetic loan applications with 25% of the labels flipped,
    h11_loans_val.csv       400 more from the same noisy export (the validation file), and
    h11_loans_test.csv      600 applications with their true labels; pointing data.val at the
                            training file makes validation a copy of training          -> overfitting
    h11_tickets.csv         1500 synthetic support e-mails: a `subject` line that is generic for
                            every department ("Support request", "Re: case 48213"...) and a `body`
                            with the department's topic words; the label is the department
                            (billing / technical / shipping / account)            -> bad_input_data
    h11_meter.csv           examples/data/series.csv with a cumulative meter reading (meter_kwh, the
                            running sum of load from 152000) beside load and temperature: without
                            data.series.value_columns it is an input whose test values lie beyond
                            every training value                                   -> bad_input_data
    """
    rng = np.random.default_rng(1111)
    root = Path(__file__).resolve().parents[2]
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))

    # Inspection images: the quadrant of the blob is the label.
    n, size = 1200, 16
    yy, xx = np.mgrid[0:size, 0:size]
    labels = rng.integers(0, 4, n)
    imgs = np.empty((n, 1, size, size), np.float32)
    for i, lab in enumerate(labels):
        top, left = lab // 2 == 0, lab % 2 == 0
        cy = rng.uniform(2.0, 5.5) if top else rng.uniform(9.5, 13.0)
        cx = rng.uniform(2.0, 5.5) if left else rng.uniform(9.5, 13.0)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(0.8, 1.4) ** 2))
        texture = 0.25 * np.sin(xx * rng.uniform(0.5, 1.5) + rng.uniform(0, 6)) * np.cos(yy * rng.uniform(0.5, 1.5))
        imgs[i, 0] = 0.3 + texture + rng.uniform(0.6, 1.2) * blob + rng.normal(0, 0.15, (size, size))
    np.savez(HERE / "h11_boards.npz", x=imgs, y=labels.astype(np.int64))

    # Machine failures, 4%, overlapping.
    m = 6000
    fail = (rng.random(m) < 0.04).astype(int)
    feats = rng.normal(size=(m, 8))
    feats[:, :4] += fail[:, None] * np.array([1.2, 1.0, 0.8, 0.6])
    names = ["vibration_z", "temp_z", "current_z", "pressure_z", "rpm_z", "humidity_z", "load_z", "age_z"]
    fdf = pd.DataFrame(feats.round(4), columns=names)
    fdf["target"] = fail
    fdf.to_csv(HERE / "h11_failures.csv", index=False)

    # Pumps: the vibration logger came after the historical export (0.0 in every training row).
    def pumps(k: int, logged: bool) -> pd.DataFrame:
        pressure = rng.normal(6.0, 0.8, k).round(2)
        flow = rng.normal(120.0, 15.0, k).round(1)
        current = rng.normal(32.0, 4.0, k).round(2)
        temp = rng.normal(58.0, 7.0, k).round(1)
        hours = rng.integers(100, 6000, k)
        age = rng.integers(1, 20, k)
        vib = np.clip(rng.gamma(4.0, 0.9, k), 0.5, 12.0).round(2)
        z = (-0.7 + 0.9 * (current - 32) / 4 - 0.7 * (flow - 120) / 15 + 0.8 * (temp - 58) / 7 + 0.5 * (age - 10) / 5.5
             + 0.35 * (hours - 3000) / 1700 + 0.4 * (vib - 3.6) / 1.8)
        y = (rng.random(k) < sig(1.6 * z)).astype(int)
        return pd.DataFrame({"pressure_bar": pressure, "flow_m3h": flow, "motor_current_a": current, "bearing_temp_c": temp,
                             "running_hours": hours, "age_years": age, "vibration_um_s": (vib * 1000).round(0) if logged else 0.0,
                             "target": y})
    pumps(2000, False).to_csv(HERE / "h11_pumps_train.csv", index=False)
    pumps(600, True).to_csv(HERE / "h11_pumps_test.csv", index=False)

    # Homes: a smooth price model, prices all positive (in thousands).
    m = 2500
    sqft = rng.gamma(9.0, 190.0, m).round(0)
    beds = np.clip(np.round(sqft / 550 + rng.normal(0, 0.7, m)), 1, 7).astype(int)
    baths = np.clip(np.round(beds * 0.6 + rng.normal(0, 0.5, m) * 2) / 2, 1, 5)
    age = rng.integers(0, 90, m)
    dist = rng.gamma(2.0, 6.0, m).round(1)
    condition = rng.integers(1, 6, m)
    garage = (rng.random(m) < 0.6).astype(int)
    price = (60 + 0.16 * sqft + 12 * baths - 0.9 * age + 0.006 * age ** 2 + 180 * np.exp(-dist / 8)
             + 18 * (condition - 3) + 20 * garage) * np.exp(rng.normal(0, 0.08, m))
    pd.DataFrame({"sqft": sqft, "bedrooms": beds, "bathrooms": baths, "age_years": age, "km_to_centre": dist,
                  "condition": condition, "garage": garage, "target": price.round(1)}).to_csv(HERE / "h11_homes.csv", index=False)

    # Loan applications: noisy labels in the training and validation exports, a clean test file.
    def loans(k: int, flip: float) -> pd.DataFrame:
        income = np.exp(rng.normal(10.8, 0.45, k)).round(0)
        debt_ratio = rng.beta(2.0, 5.0, k).round(3)
        history = rng.integers(0, 30, k)
        late = rng.poisson(0.6, k)
        amount = (rng.gamma(3.0, 4000.0, k)).round(0)
        z = (0.4 + 1.3 * (np.log(income) - 10.8) / 0.45 - 5.0 * (debt_ratio - 0.28) + 0.05 * (history - 15)
             - 0.8 * (late - 0.6) - 0.5 * (amount - 12000) / 7000)
        y = (rng.random(k) < sig(2.0 * z)).astype(int)
        flipped = rng.random(k) < flip
        y = np.where(flipped, 1 - y, y)
        return pd.DataFrame({"income": income, "debt_ratio": debt_ratio, "credit_history_years": history,
                             "late_payments": late, "loan_amount": amount, "target": y})
    loans(1500, 0.25).to_csv(HERE / "h11_loans_train.csv", index=False)
    loans(400, 0.25).to_csv(HERE / "h11_loans_val.csv", index=False)
    loans(600, 0.0).to_csv(HERE / "h11_loans_test.csv", index=False)

    # Support e-mails: a generic subject line and an informative body.
    topics = {
        "billing": ["invoice", "refund", "overcharged", "payment", "receipt", "fee", "vat", "discount", "coupon",
                    "price", "credit", "debit", "statement", "balance", "instalment", "renewal", "surcharge",
                    "tariff", "chargeback", "iban", "prepaid", "voucher", "tax", "transfer", "quote"],
        "technical": ["crash", "error", "bug", "freeze", "update", "install", "reboot", "sync", "wifi", "bluetooth",
                      "firmware", "screen", "battery", "app", "lag", "timeout", "server", "connection", "reset",
                      "glitch", "driver", "pairing", "overheating", "microphone", "plugin"],
        "shipping": ["delivery", "courier", "parcel", "package", "tracking", "shipment", "dispatch", "warehouse",
                     "postcode", "pickup", "customs", "carrier", "depot", "doorstep", "postman", "consignment",
                     "freight", "locker", "mailroom", "pallet", "van", "signature", "postage", "transit", "lorry"],
        "account": ["password", "login", "username", "email", "profile", "verification", "2fa", "locked",
                    "deactivate", "signup", "avatar", "newsletter", "privacy", "gdpr", "nickname", "settings",
                    "preferences", "notifications", "security", "recovery", "phone", "address", "membership",
                    "deletion", "consent"],
    }
    subjects = ["support request", "help needed", "question", "urgent", "re: case {}", "fw: case {}",
                "(no subject)", "problem", "issue with my order {}", "please read", "complaint", "follow up"]
    filler = ["hello team", "i hope you are well", "i am writing because of an issue", "this is my second message",
              "i have been a customer for years", "please help me soon", "i tried the help pages first",
              "nobody answered on the phone", "i would appreciate a quick reply", "it happened again yesterday",
              "thanks in advance", "kind regards", "i am not happy about this", "could you look into it"]
    templates = ["there is a problem with the {}", "i have a question about the {}", "something is wrong with my {}",
                 "the {} is not right", "can you check the {} please", "what happened to the {}"]
    labels_t = list(topics)
    rows = []
    for _ in range(1500):
        label = labels_t[int(rng.integers(4))]
        body = _ticket(rng, topics[label], filler, templates)
        subject = rng.choice(subjects).format(int(rng.integers(10000, 99999)))
        rows.append((subject, body, label))
    pd.DataFrame(rows, columns=["subject", "body", "target"]).to_csv(HERE / "h11_tickets.csv", index=False)

    # series.csv with a cumulative meter reading beside the hourly load.
    series = pd.read_csv(root / "examples" / "data" / "series.csv")
    series["meter_kwh"] = (152000 + series["load"].interpolate().cumsum()).round(1)
    series.to_csv(HERE / "h11_meter.csv", index=False)


if __name__ == "__main__":
    main()
    for f in FILES:
        if not f.endswith(".csv"):
            continue
        df = pd.read_csv(HERE / f)
        if "target" not in df:  # a series or a text file names its own target column
            print(f"{f}: {df.shape}")
            continue
        print(f"{f}: {df.shape}, classes {df.target.value_counts().to_dict() if df.target.nunique() < 20 else 'regression'}")
