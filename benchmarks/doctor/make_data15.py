#!/usr/bin/env python
"""Write the data files of the fifteenth held-out set (heldout15.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, so changing one never
shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data15.py

  h15_flows.csv     3200 network flow records from a firewall log and what the analyst labelled them:
                    normal (~76%), scan, dos, bruteforce, exfil (~4%); duration_s, kb_out, kb_in,
                    packets, dst_port (a number that is a code), protocol (text: tcp, udp, icmp),
                    distinct_ports (ports the source touched in the minute), failed_logins, hour.
                    The rare classes overlap the normal traffic (big uploads, a mistyped password,
                    a service probe), so a model trained without weights favours "normal"
  h15_cells.csv     2000 lithium-ion cells from ageing tests: chemistry (text: LFP, NMC, NCA, LCO),
                    cycles, temp_c, charge_c, dod_pct (depth of discharge), months (calendar age),
                    storage_soc_pct, and the capacity retention in % (the target, ~55-100): a
                    calendar loss (Arrhenius in temperature, sqrt of time, higher at high state of
                    charge) plus a cycling loss (a power law in cycles, steeper with depth of
                    discharge, charge rate and temperature), each chemistry with its own rates
  h15_quakes.npz    720 three-component seismograms (N, 80, 3): 4 s at 20 Hz, vertical, north, east,
                    in digitizer counts (int16): local earthquake (P, then a stronger S 0.8-1.6 s
                    later, 5-8 Hz), regional earthquake (S 2-2.8 s after P, 2-4 Hz, a long coda),
                    quarry blast (a strong vertical P, a weak S, then a 1-1.5 Hz surface wave),
                    noise (microseism and passing traffic); magnitudes spread the amplitudes 10-fold
  h15_galaxies.npz  1000 galaxy cutouts (N, 1, 20, 20), 8-bit, on a noisy sky: elliptical, spiral
                    with S-wise arms, spiral with Z-wise arms, edge-on disk, merger (two cores and a
                    tidal tail); any orientation. The two spiral classes are mirror images of each
                    other (the winding sense, as Galaxy Zoo asked it): a rotation keeps the class, a
                    mirror swaps it
  h15_commits.csv   2400 commit messages (text) and their type: fix, feature, docs, refactor, test,
                    perf (~400 each), from templates with shared verbs ("Add tests for ...", "Add
                    support for ...", "Add docstring to ...", "Update README ...", "Update parser to
                    ..."), file names, modules and free words; 3% of the labels redrawn at random
  h15_bikes.csv     2400 hours (100 days from 2024-04-01) of a city bike-share station group:
                    rentals (the count of the hour, 0-~900), hour, workday (0/1), temp_c, rain_mm;
                    commuter peaks on workdays, a midday hump on weekends, rain and cold cut demand;
                    forecast rentals 1..3 hours ahead from 24 hours
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h15_flows.csv", "h15_cells.csv", "h15_quakes.npz", "h15_galaxies.npz",
         "h15_commits.csv", "h15_bikes.csv"]


def flows() -> None:
    """Firewall flow records, five classes, normal traffic the large majority."""
    rng = np.random.default_rng(1501)
    n = 3200
    names = ["normal", "scan", "dos", "bruteforce", "exfil"]
    lab = rng.choice(5, n, p=[0.76, 0.08, 0.07, 0.05, 0.04])
    rows = []
    common = np.array([443, 80, 53, 22, 3389, 25, 8080, 123])
    probed = np.array([21, 23, 110, 135, 139, 143, 445, 993, 1433, 1521, 3306, 5432, 5900, 6379, 8443, 9200,
                       11211, 27017, 2375, 5000])      # the other ports a scan tries
    for j in lab:
        name = names[j]
        if name == "normal":
            dur = rng.lognormal(0.5, 1.1)
            kb_out = rng.lognormal(2.0, 1.0) * (rng.lognormal(2.2, 0.8) if rng.random() < 0.12 else 1)  # uploads
            kb_in = rng.lognormal(3.5, 1.2)
            port = int(rng.choice(common, p=[0.5, 0.18, 0.14, 0.06, 0.03, 0.03, 0.04, 0.02]))
            proto = "udp" if port in (53, 123) else str(rng.choice(["tcp", "icmp"], p=[0.97, 0.03]))
            ports = int(1 + rng.poisson(1.2))
            failed = int(rng.poisson(0.15)) if port in (22, 3389) else 0
            hour = int(np.clip(rng.normal(14, 4), 0, 23))
        elif name == "scan":
            dur = rng.lognormal(-1.2, 1.0)
            kb_out = rng.lognormal(-0.5, 0.6)
            kb_in = rng.lognormal(-0.8, 0.8)
            port = int(rng.choice(common)) if rng.random() < 0.5 else int(rng.choice(probed))
            proto = str(rng.choice(["tcp", "udp", "icmp"], p=[0.7, 0.15, 0.15]))
            ports = int(1 + rng.poisson(rng.choice([4, 25])))     # slow scans touch few ports a minute
            failed = 0
            hour = int(rng.integers(0, 24))
        elif name == "dos":
            dur = rng.lognormal(1.5, 0.8)
            kb_out = rng.lognormal(4.0, 0.9)
            kb_in = rng.lognormal(1.5, 1.0)
            port = int(rng.choice([80, 443, 53, 123], p=[0.35, 0.35, 0.15, 0.15]))
            proto = "udp" if port in (53, 123) else "tcp"
            ports = int(1 + rng.poisson(0.5))
            failed = 0
            hour = int(rng.integers(0, 24))
        elif name == "bruteforce":
            dur = rng.lognormal(0.8, 0.8)
            kb_out = rng.lognormal(1.0, 0.7)
            kb_in = rng.lognormal(1.3, 0.7)
            port = int(rng.choice([22, 3389, 25], p=[0.6, 0.3, 0.1]))
            proto = "tcp"
            ports = int(1 + rng.poisson(0.6))
            failed = int(rng.poisson(2.5))
            hour = int(rng.integers(0, 24))
        else:  # exfil: big uploads, at night, over https or dns
            dur = rng.lognormal(1.6, 1.0)
            kb_out = rng.lognormal(4.8, 1.0)
            kb_in = rng.lognormal(2.5, 1.0)
            port = int(rng.choice([443, 53, 8080], p=[0.6, 0.3, 0.1]))
            proto = "udp" if port == 53 else "tcp"
            ports = int(1 + rng.poisson(1.0))
            failed = 0
            hour = int(np.clip(rng.normal(3, 4), 0, 23)) if rng.random() < 0.6 else int(rng.integers(0, 24))
        rate = {"dos": 60.0, "scan": 3.0}.get(name, 8.0)
        packets = int(max(1, (kb_out + kb_in) * rng.lognormal(0, 0.4) + rate * dur * rng.lognormal(0, 0.5)))
        rows.append((round(dur, 2), round(kb_out, 1), round(kb_in, 1), packets, port, proto, ports, failed, hour,
                     name))
    df = pd.DataFrame(rows, columns=["duration_s", "kb_out", "kb_in", "packets", "dst_port", "protocol",
                                     "distinct_ports", "failed_logins", "hour", "target"])
    df.to_csv(HERE / "h15_flows.csv", index=False)


def cells() -> None:
    """Capacity retention of lithium-ion cells after calendar and cycle ageing."""
    rng = np.random.default_rng(1503)
    n = 2000
    chem = rng.choice(["LFP", "NMC", "NCA", "LCO"], n, p=[0.3, 0.35, 0.15, 0.2])
    k_cal = {"LFP": 0.9, "NMC": 1.4, "NCA": 1.6, "LCO": 2.0}
    k_cyc = {"LFP": 0.010, "NMC": 0.028, "NCA": 0.032, "LCO": 0.045}
    cycles = rng.integers(0, 3000, n)
    temp = rng.uniform(10, 45, n)
    crate = rng.choice([0.3, 0.5, 1.0, 1.5, 2.0, 3.0], n)
    dod = rng.choice([20, 40, 60, 80, 100], n)
    months = rng.integers(0, 61, n)
    soc = rng.choice([30, 50, 80, 100], n)
    kc = np.array([k_cal[c] for c in chem])
    ky = np.array([k_cyc[c] for c in chem])
    cal = kc * np.exp(0.07 * (temp - 25)) * (soc / 50) ** 0.6 * np.sqrt(months)
    cyc = ky * (dod / 100) ** 1.4 * np.exp(0.035 * (temp - 25)) * (1 + 0.35 * (crate - 1)) * cycles ** 0.75
    retention = np.clip(100 - cal - cyc + rng.normal(0, 0.8, n), 40, 100.5)
    df = pd.DataFrame({"chemistry": chem, "cycles": cycles, "temp_c": temp.round(1), "charge_c": crate, "dod_pct": dod,
                       "months": months, "storage_soc_pct": soc, "target": retention.round(2)})
    df.to_csv(HERE / "h15_cells.csv", index=False)


def _wavelet(t, t0, f, decay, rng):
    s = np.where(t >= t0, np.sin(2 * np.pi * f * (t - t0) + rng.uniform(0, 6.3)) * np.exp(-(t - t0) / decay), 0.0)
    return s * np.clip((t - t0) / 0.1, 0, 1)          # a 0.1 s rise


def quakes() -> None:
    """Three-component seismograms (N, 80, 3) in int16 counts; four sources."""
    rng = np.random.default_rng(1504)
    n, T, fs = 720, 80, 20.0
    t = np.arange(T) / fs
    labels = rng.integers(0, 4, n)     # 0 local quake, 1 regional quake, 2 quarry blast, 3 noise
    x = np.zeros((n, T, 3))
    for i, lab in enumerate(labels):
        amp = 300 * rng.lognormal(0, 0.7)
        z = np.zeros(T)
        h1 = np.zeros(T)
        h2 = np.zeros(T)
        az = rng.uniform(0, 2 * np.pi)                # back azimuth: how the horizontal energy splits
        if lab in (0, 1, 2):
            tp = rng.uniform(0.3, 1.2) if lab != 1 else rng.uniform(0.2, 0.7)
            if lab == 0:
                fp, ts, fs_, sp, dec = rng.uniform(5, 8), tp + rng.uniform(0.8, 1.6), rng.uniform(4, 7), 2.5, 0.5
            elif lab == 1:
                fp, ts, fs_, sp, dec = rng.uniform(2, 4), tp + rng.uniform(2.0, 2.8), rng.uniform(1.5, 3), 2.0, 1.2
            else:
                fp, ts, fs_, sp, dec = rng.uniform(5, 8), tp + rng.uniform(0.8, 1.6), rng.uniform(4, 7), 0.35, 0.4
            p = _wavelet(t, tp, fp, dec * 0.6, rng)
            s = sp * _wavelet(t, ts, fs_, dec, rng)
            z += p + 0.3 * s
            h1 += 0.35 * p * np.cos(az) + s * np.sin(az + rng.normal(0, 0.3))
            h2 += 0.35 * p * np.sin(az) + s * np.cos(az + rng.normal(0, 0.3))
            if lab == 2:       # the surface wave of a shallow blast
                rg = 1.2 * _wavelet(t, tp + rng.uniform(1.5, 2.3), rng.uniform(1.0, 1.5), 1.0, rng)
                z += rg
                h1 += 0.6 * rg * np.cos(az)
                h2 += 0.6 * rg * np.sin(az)
        else:
            amp *= 0.25
            for k in range(int(rng.integers(1, 4))):    # passing traffic
                t0 = rng.uniform(0, 3.5)
                b = _wavelet(t, t0, rng.uniform(6, 9), 0.3, rng) * rng.uniform(0.5, 1.5)
                z += b
                h1 += 0.7 * b * rng.normal()
                h2 += 0.7 * b * rng.normal()
        micro = lambda: 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 6.3))  # noqa: E731
        noise = 0.05
        x[i, :, 0] = amp * (z + micro() + rng.normal(0, noise, T))
        x[i, :, 1] = amp * (h1 + micro() + rng.normal(0, noise, T))
        x[i, :, 2] = amp * (h2 + micro() + rng.normal(0, noise, T))
    x = np.clip(np.round(x), -32000, 32000).astype(np.int16)
    _savez(HERE / "h15_quakes.npz", x=x, y=labels.astype(np.int64))


def _galaxy(rng, lab: int, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    c = (size - 1) / 2 + rng.uniform(-0.7, 0.7, 2)
    dy, dx = yy - c[0], xx - c[1]
    ang = rng.uniform(0, 2 * np.pi)
    ca, sa = np.cos(ang), np.sin(ang)
    u, v = ca * dx + sa * dy, -sa * dx + ca * dy          # rotated coordinates
    flux = rng.lognormal(0, 0.35)
    img = np.zeros((size, size))
    if lab == 0:       # elliptical
        q = rng.uniform(0.55, 1.0)
        r = np.hypot(u, v / q)
        img += 200 * np.exp(-(r / rng.uniform(2.0, 3.2)) ** 0.8)
    elif lab in (1, 2):  # spirals: two logarithmic arms, winding sense by class
        q = rng.uniform(0.75, 1.0)
        vv = v / q
        r = np.hypot(u, vv) + 1e-6
        th = np.arctan2(vv, u)
        pitch = rng.uniform(0.35, 0.5) * (1 if lab == 1 else -1)
        phase = th - np.log(r) / np.tan(pitch)
        arms = np.cos(2 * phase) ** 2 * np.exp(-r / 5.5) * (r > 1.5)
        img += 150 * np.exp(-(r / 1.3) ** 1.0) + 170 * arms
    elif lab == 3:     # edge-on disk
        img += 210 * np.exp(-np.abs(u) / rng.uniform(3.0, 4.5) - np.abs(v) / rng.uniform(0.5, 0.9))
        img += 90 * np.exp(-(np.hypot(u, v) / 1.2) ** 2)
    else:              # merger: two cores and a tidal tail
        sep = rng.uniform(3.5, 6.0)
        for sgn, a in ((1, 1.0), (-1, rng.uniform(0.5, 0.9))):
            img += 190 * a * np.exp(-(np.hypot(u - sgn * sep / 2, v) / 1.5) ** 1.2)
        tail = np.exp(-((v - 0.15 * (u - sep / 2) ** 2 * rng.choice([-1, 1])) ** 2) / 1.5) * (u > sep / 2) * np.exp(-(u - sep / 2) / 5)
        img += 60 * tail
    sky = 25 + rng.normal(0, 4, (size, size))
    return np.clip(np.round(sky + flux * img), 0, 255).astype(np.uint8)


def galaxies() -> None:
    """Galaxy cutouts (N, 1, 20, 20): five morphologies, two of them mirror images."""
    rng = np.random.default_rng(1505)
    n, size = 1000, 20
    labels = rng.integers(0, 5, n)      # elliptical, spiral_s, spiral_z, edge_on, merger
    x = np.stack([_galaxy(rng, int(lab), size)[None] for lab in labels])
    _savez(HERE / "h15_galaxies.npz", x=x, y=labels.astype(np.int64))


def commits() -> None:
    """Commit messages and their type."""
    rng = np.random.default_rng(1506)
    modules = ["parser", "cli", "config loader", "http client", "cache", "scheduler", "exporter", "auth module",
               "image resizer", "db layer", "logger", "upload service", "search index", "date utils", "plugin api"]
    files = ["README", "CHANGELOG", "CONTRIBUTING guide", "install guide", "API reference", "FAQ", "tutorial"]
    things = ["empty input", "unicode names", "large files", "timeouts", "missing keys", "negative numbers",
              "windows paths", "retries", "concurrent writes", "expired tokens", "leap years", "null values"]
    feats = ["CSV export", "dark mode", "retry option", "progress bar", "JSON output", "proxy support", "batch mode",
             "webhooks", "S3 backend", "rate limiting", "dry run flag", "config validation"]
    tmpl = {
        "fix": ["Fix crash in {m} on {t}", "Fix {m} failing with {t}", "Handle {t} in {m}", "Correct off by one error in {m}",
                "Fix race condition in {m}", "Prevent {m} from hanging on {t}", "Fix wrong result in {m} for {t}",
                "Resolve {t} bug in {m}", "Fix typo in {m} error handling"],
        "feature": ["Add {f} to {m}", "Add support for {f}", "Implement {f}", "Introduce {f} in {m}", "Allow {f} in {m}",
                    "Add {f} option", "Support {t} in {m}", "New {f} for {m}"],
        "docs": ["Update {d}", "Add docstring to {m}", "Document {f} in {d}", "Fix typo in {d}", "Add example for {f} to {d}",
                 "Clarify {t} in {d}", "Update {d} for {m}", "Add {d} section on {f}"],
        "refactor": ["Refactor {m}", "Split {m} into smaller functions", "Rename helpers in {m}", "Move {m} into its own package",
                     "Simplify {m}", "Clean up {m}", "Extract {f} logic from {m}", "Update {m} to use dataclasses",
                     "Remove dead code in {m}"],
        "test": ["Add tests for {m}", "Add tests for {t} in {m}", "Test {f}", "Fix flaky test in {m}", "Increase coverage of {m}",
                 "Add regression test for {t}", "Mock {m} in tests", "Update tests for {f}"],
        "perf": ["Speed up {m}", "Cache results in {m}", "Reduce memory use of {m}", "Avoid copies in {m}",
                 "Make {m} faster on {t}", "Optimize {f} in {m}", "Batch queries in {m}", "Lazy load {m}"],
    }
    tails = ["", "", "", " (closes #{n})", " for {t}", " in v2", " and update {d}", " after review"]
    kinds = list(tmpl)
    rows = []
    for _ in range(2400):
        k = int(rng.integers(0, len(kinds)))
        s = str(rng.choice(tmpl[kinds[k]]))
        s += str(rng.choice(tails)) if rng.random() < 0.5 else ""
        s = s.format(m=rng.choice(modules), t=rng.choice(things), f=rng.choice(feats), d=rng.choice(files),
                     n=int(rng.integers(10, 999)))
        if rng.random() < 0.03:
            k = int(rng.integers(0, len(kinds)))
        rows.append((s, kinds[k]))
    pd.DataFrame(rows, columns=["text", "target"]).to_csv(HERE / "h15_commits.csv", index=False)


def bikes() -> None:
    """Hourly rentals of a bike-share station group over 100 days, with the weather."""
    rng = np.random.default_rng(1507)
    hours = 100 * 24
    ts = pd.date_range("2024-04-01 00:00", periods=hours, freq="h")
    h = ts.hour.to_numpy()
    workday = (ts.day_of_week.to_numpy() < 5).astype(int)
    commute = 520 * np.exp(-0.5 * ((h - 8) / 1.1) ** 2) + 600 * np.exp(-0.5 * ((h - 17.5) / 1.4) ** 2) \
        + 140 * np.exp(-0.5 * ((h - 12.5) / 2) ** 2) + 25
    leisure = 330 * np.exp(-0.5 * ((h - 14) / 3.2) ** 2) + 20
    base = np.where(workday == 1, commute, leisure) * np.where((h < 6), 0.25, 1.0)
    day = np.arange(hours) // 24
    temp = 9 + 10 * day / 100 + 5 * np.sin(2 * np.pi * (h - 9) / 24)
    tz = np.zeros(100)
    for k in range(1, 100):
        tz[k] = 0.7 * tz[k - 1] + rng.normal(0, 2.2)
    temp = temp + tz[day] + rng.normal(0, 0.8, hours)
    wet = np.zeros(hours)
    for k in range(1, hours):
        wet[k] = 0.85 * wet[k - 1] + (rng.random() < 0.03) * rng.exponential(3.0)
    rain_mm = np.where(wet > 0.3, wet * rng.uniform(0.5, 1.2, hours), 0.0)
    demand = np.exp(rng.normal(0, 0.12, 100))[day]
    comfort = 1 / (1 + np.exp(-(temp - 8) / 3))
    mu = base * demand * comfort * np.exp(-0.45 * rain_mm)
    rentals = rng.poisson(mu)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "rentals": rentals, "hour": h, "workday": workday,
                  "temp_c": temp.round(1), "rain_mm": rain_mm.round(1)}).to_csv(HERE / "h15_bikes.csv", index=False)


def heldout15() -> None:
    HERE.mkdir(exist_ok=True)
    flows()
    cells()
    quakes()
    galaxies()
    commits()
    bikes()


if __name__ == "__main__":
    heldout15()
    print_sizes(HERE, FILES)
