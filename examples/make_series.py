"""Writes examples/data/series.csv: an hourly, electricity-load-like series with the faults real ones have.

load = slow trend + a daily cycle (24 steps) + a weekly cycle (168 steps) + the effect of temperature
+ autocorrelated noise; temperature has its own daily cycle. A few values are missing and a few
temperature readings are garbage strings ("n/a", "err"), so cleaning has something to count.
Run: python examples/make_series.py
"""

from pathlib import Path

import numpy as np
import pandas as pd


def make(n: int = 2400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    day, week = 2 * np.pi * t / 24, 2 * np.pi * t / 168
    temperature = 12 + 6 * np.sin(day - 2.0) + 3 * np.sin(2 * np.pi * t / n) + rng.normal(0, 0.8, n)
    noise = np.zeros(n)
    for i in range(1, n):  # AR(1): errors persist for a few hours, as real load does
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 1.0)
    load = (100 + 0.004 * t + 12 * np.sin(day - 1.2) + 5 * np.sin(2 * day + 0.4)
            + 6 * np.sin(week) - 0.8 * (temperature - 12) + noise)
    df = pd.DataFrame({"timestamp": pd.date_range("2023-01-02", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
                       "load": load.round(3), "temperature": temperature.round(2)})
    # Faults at known places: missing cells in both columns, garbage text in temperature.
    df.loc[rng.choice(n, 12, replace=False), "load"] = np.nan
    df.loc[rng.choice(n, 8, replace=False), "temperature"] = np.nan
    df["temperature"] = df["temperature"].astype(object)
    df.loc[rng.choice(n, 4, replace=False), "temperature"] = ["n/a", "err", "n/a", "--"]
    return df


if __name__ == "__main__":
    out = Path(__file__).parent / "data" / "series.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    make().to_csv(out, index=False)
    print(f"wrote {out}")
