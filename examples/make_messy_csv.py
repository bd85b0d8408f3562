"""Writes examples/data/customers.csv: a churn-style table with the faults real CSVs have.

Missing values, categorical columns with inconsistent spellings, duplicate rows, outliers and a
numeric column with a few garbage strings. The label depends on the features, so a model can learn it.
Run: python examples/make_messy_csv.py
"""

from pathlib import Path

import numpy as np
import pandas as pd


def make(n: int = 1200, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    income = rng.lognormal(10.5, 0.5, n)
    tenure = rng.integers(0, 120, n).astype(float)
    plan = rng.choice(["basic", "plus", "premium"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east", "west"], n)
    support_calls = rng.poisson(2, n).astype(float)
    score = (-0.03 * tenure + 0.5 * support_calls - 0.00002 * income + 0.02 * (age - 50)
             + np.select([plan == "basic", plan == "plus"], [0.8, 0.0], -0.8) + rng.normal(0, 0.7, n))
    churn = np.where(score > np.median(score), "yes", "no")
    df = pd.DataFrame({"age": age, "income": income.round(2), "tenure_months": tenure, "plan": plan,
                       "region": region, "support_calls": support_calls, "churn": churn})
    # Faults, each at a known rate.
    for col, rate in (("age", 0.05), ("income", 0.08), ("region", 0.04)):
        df.loc[rng.random(n) < rate, col] = np.nan
    variants = {"basic": [" Basic", "BASIC", "basic "], "premium": ["Premium", " premium"]}
    for canon, spellings in variants.items():
        idx = df.index[(df["plan"] == canon) & (rng.random(n) < 0.15)]
        df.loc[idx, "plan"] = rng.choice(spellings, len(idx))
    df.loc[rng.choice(n, 6, replace=False), "income"] = 5e7  # data-entry outliers
    df.loc[rng.choice(n, 12, replace=False), "churn"] = np.nan  # unlabelled rows
    calls = df["support_calls"].astype(object)
    calls[rng.choice(n, 10, replace=False)] = "unknown"
    df["support_calls"] = calls
    df = pd.concat([df, df.sample(25, random_state=seed)], ignore_index=True)  # duplicate rows
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


if __name__ == "__main__":
    out = Path(__file__).parent / "data" / "customers.csv"
    make().to_csv(out, index=False)
    print(out)
