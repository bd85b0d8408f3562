#!/usr/bin/env python
"""Write the data files of the sixteenth held-out set (heldout16.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 1601-1606, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data16.py

  h16_dga.csv       2400 dissolved-gas analyses of transformer oil and the diagnosis: normal (~40%),
                    partial_discharge, arc_low (low-energy discharge), arc_high (high-energy
                    discharge), thermal_low (<300 C), thermal_high (>700 C), ~12% each. Seven gases
                    in ppm (h2, ch4, c2h6, c2h4, c2h2, co, co2), oil_temp_c, load_pct, age_years.
                    A fault adds a gas mixture whose PROPORTIONS name it (as Duval's triangle reads
                    them) at a severity spread over two decades, so the raw ppm are heavy-tailed and
                    the class lives in the ratios
  h16_soils.csv     2000 soil cores: land_use (text: forest, grassland, cropland, wetland, orchard),
                    depth_cm (0-100), clay_pct, sand_pct, ph, rainfall_mm, temp_c, ndvi,
                    elevation_m, and the soil organic carbon in % (the target, ~0.1-12): a land-use
                    level that decays exponentially with depth, raised by clay, rain and a green
                    canopy, lowered by warmth and by tillage, with a little multiplicative noise
  h16_strokes.npz   840 pen gestures on a tablet (N, 40, 3): dx, dy (tablet counts per sample) and
                    the pen pressure (0-1023), int16; six gestures: circle clockwise, circle
                    anticlockwise, zigzag, spiral inwards, arrow up, arrow down. Every gesture ENDS
                    with the same flourish (a short hook and a stroke to the right, as a signature
                    does), so the class is in the first two thirds of the recording
  h16_calls.npz     900 bird-call spectrograms (N, 1, 16, 24): 16 frequency bins (low to high) by 24
                    time frames, 8-bit log power on a noisy background; five call types: low
                    whistle, high whistle, up-sweep, down-sweep (the same band as the up-sweep,
                    run backwards) and a trill of short pulses; any start time, any loudness
  h16_triage.csv    2400 messages patients sent to a clinic's portal (text) and the department a
                    nurse routed them to: cardiology, dermatology, orthopedics, gastroenterology,
                    respiratory, neurology (~400 each); templates with shared openings ("I have
                    had ...", "For the last few days ..."), symptom words, body parts and durations;
                    2% of the labels redrawn at random
  h16_air.csv       2400 hours (100 days from 2023-11-01) of a roadside air-quality station: pm25
                    (ug/m3), traffic (vehicles per 5 min), wind_ms, temp_c, humidity_pct, hour;
                    PM2.5 builds up in still, cold, humid air and is swept away by wind, with two
                    traffic peaks a day; forecast pm25 1..3 hours ahead from 24 hours
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h16_dga.csv", "h16_soils.csv", "h16_strokes.npz", "h16_calls.npz", "h16_triage.csv", "h16_air.csv"]


def dga() -> None:
    """Dissolved-gas analyses of transformer oil, six diagnoses."""
    rng = np.random.default_rng(1601)
    n = 2400
    names = ["normal", "partial_discharge", "arc_low", "arc_high", "thermal_low", "thermal_high"]
    lab = rng.choice(6, n, p=[0.40, 0.12, 0.12, 0.12, 0.12, 0.12])
    # the fault gas mixture: shares of h2, ch4, c2h6, c2h4, c2h2
    mix = np.array([[0.85, 0.11, 0.02, 0.01, 0.01],
                    [0.45, 0.10, 0.02, 0.08, 0.35],
                    [0.33, 0.12, 0.02, 0.28, 0.25],
                    [0.10, 0.46, 0.36, 0.07, 0.01],
                    [0.07, 0.30, 0.05, 0.56, 0.02]])
    base_med = np.array([25.0, 12.0, 8.0, 6.0, 0.4])
    rows = []
    for j in lab:
        gas = base_med * rng.lognormal(0, 0.45, 5)
        co = 250 * rng.lognormal(0, 0.35)
        co2 = 2800 * rng.lognormal(0, 0.35)
        if j > 0:
            sev = 150 * rng.lognormal(0, 1.0)
            share = mix[j - 1] * rng.lognormal(0, 0.25, 5)
            gas = gas + sev * share / share.sum()
            if j in (4, 5):          # hot spots also char the paper: more CO and CO2
                co *= rng.lognormal(0.4, 0.3)
                co2 *= rng.lognormal(0.3, 0.3)
        temp = rng.normal(55, 9) + (6 if j in (4, 5) else 0)
        load = np.clip(rng.normal(65, 15), 10, 120)
        age = rng.uniform(1, 40)
        rows.append([*np.round(gas, 1), round(co, 0), round(co2, 0), round(temp, 1), round(load, 0), round(age, 1),
                     names[j]])
    cols = ["h2", "ch4", "c2h6", "c2h4", "c2h2", "co", "co2", "oil_temp_c", "load_pct", "age_years", "target"]
    pd.DataFrame(rows, columns=cols).to_csv(HERE / "h16_dga.csv", index=False)


def soils() -> None:
    """Soil cores and their organic carbon."""
    rng = np.random.default_rng(1602)
    n = 2000
    uses = ["forest", "grassland", "cropland", "wetland", "orchard"]
    level = np.array([3.2, 2.6, 1.4, 6.5, 1.9])       # topsoil carbon %, by land use
    decay = np.array([28.0, 35.0, 45.0, 60.0, 40.0])  # cm
    u = rng.choice(5, n, p=[0.25, 0.25, 0.25, 0.1, 0.15])
    depth = rng.integers(0, 101, n)
    clay = rng.uniform(5, 60, n)
    sand = np.clip(rng.uniform(10, 85, n) * (1 - clay / 100), 2, None)
    ph = np.clip(rng.normal(6.3, 0.9, n) - 0.5 * (u == 0) + 0.3 * (u == 2), 3.8, 8.8)
    rain = rng.uniform(300, 1500, n)
    temp = rng.uniform(2, 20, n)
    ndvi = np.clip(0.25 + 0.12 * (u != 2) + 0.0002 * rain + rng.normal(0, 0.08, n), 0.05, 0.95)
    elev = rng.uniform(0, 1800, n)
    soc = (level[u] * np.exp(-depth / decay[u]) * (0.7 + 0.012 * clay) * (0.6 + rain / 1500)
           * np.exp(-0.035 * (temp - 10)) * (0.7 + 0.8 * ndvi) * (1 + 0.00015 * elev)
           * (1 - 0.04 * np.abs(ph - 6.5)))
    soc = soc * rng.lognormal(0, 0.06, n) + 0.08
    df = pd.DataFrame({"land_use": np.array(uses)[u], "depth_cm": depth, "clay_pct": clay.round(1),
                       "sand_pct": sand.round(1), "ph": ph.round(2), "rainfall_mm": rain.round(0),
                       "temp_c": temp.round(1), "ndvi": ndvi.round(3), "elevation_m": elev.round(0),
                       "target": soc.round(3)})
    df.to_csv(HERE / "h16_soils.csv", index=False)


def _gesture(rng, lab: int, t_main: int) -> np.ndarray:
    """The pen path (t_main points, x and y) of one gesture before the common ending."""
    s = np.linspace(0, 1, t_main)
    warp = s + rng.uniform(-0.08, 0.08) * np.sin(np.pi * s)      # uneven speed
    if lab in (0, 1):        # circles: one turn, clockwise or anticlockwise
        a = 2 * np.pi * warp * (1 if lab == 1 else -1) + rng.uniform(0, 2 * np.pi)
        x, y = np.cos(a), np.sin(a)
    elif lab == 2:           # zigzag to the right
        x = 2 * warp
        y = 0.6 * np.abs(((warp * 4) % 2) - 1) * 2 - 0.6
    elif lab == 3:           # spiral inwards, anticlockwise
        a = 4 * np.pi * warp + rng.uniform(0, 2 * np.pi)
        r = 1.1 - 0.9 * warp
        x, y = r * np.cos(a), r * np.sin(a)
    else:                    # arrow: a shaft up (4) or down (5), then a head
        sgn = 1 if lab == 4 else -1
        first = warp < 0.6
        y = np.where(first, sgn * 2 * warp / 0.6, sgn * (2 - 0.8 * (warp - 0.6) / 0.4))
        x = np.where(first, 0.0, 0.5 * (warp - 0.6) / 0.4)
    return np.stack([x, y], 1)


def strokes() -> None:
    """Pen gestures on a tablet, all ending with the same flourish."""
    rng = np.random.default_rng(1603)
    n, T = 840, 40
    labels = np.repeat(np.arange(6), n // 6)
    rng.shuffle(labels)
    x = np.zeros((n, T, 3), np.int16)
    for i, lab in enumerate(labels):
        t_main = int(rng.integers(22, 27))
        path = _gesture(rng, int(lab), t_main)
        ang = rng.uniform(-0.25, 0.25)
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        path = path @ rot.T * rng.uniform(0.7, 1.4)
        # the common flourish: a small hook down, then a stroke to the right
        t_end = T - t_main
        e = np.linspace(0, 1, t_end + 1)[1:]
        hook = np.stack([0.3 * e + 0.9 * np.clip(e - 0.35, 0, None), -0.35 * np.sin(np.pi * np.clip(e / 0.35, 0, 1))], 1)
        path = np.vstack([path, path[-1] + hook * rng.uniform(0.9, 1.1)])
        d = np.diff(np.vstack([path[:1], path]), axis=0) * 400 + rng.normal(0, 2.0, (T, 2))
        pressure = 600 + 150 * np.sin(np.linspace(0, np.pi, T)) + rng.normal(0, 25, T)
        pressure[t_main:] -= np.linspace(0, 350, T - t_main)      # the pen lifts off at the end
        x[i, :, :2] = np.round(d).astype(np.int16)
        x[i, :, 2] = np.clip(np.round(pressure * rng.uniform(0.8, 1.2)), 0, 1023).astype(np.int16)
    _savez(HERE / "h16_strokes.npz", x=x, y=labels.astype(np.int64))


def calls() -> None:
    """Bird-call spectrograms, five call types."""
    rng = np.random.default_rng(1604)
    n, F, T = 900, 16, 24
    labels = rng.integers(0, 5, n)
    fb = np.arange(F)[:, None]
    x = np.zeros((n, 1, F, T), np.uint8)
    for i, lab in enumerate(labels):
        dur = int(rng.integers(9, 15))
        t0 = int(rng.integers(0, T - dur + 1))
        tt = np.arange(T)
        on = (tt >= t0) & (tt < t0 + dur)
        prog = np.clip((tt - t0) / max(dur - 1, 1), 0, 1)
        if lab == 0:
            f = np.full(T, 4.0 + rng.uniform(-0.8, 0.8))
        elif lab == 1:
            f = np.full(T, 11.0 + rng.uniform(-0.8, 0.8))
        elif lab == 2:
            lo = 4.0 + rng.uniform(-0.8, 0.8)
            f = lo + (7.0 + rng.uniform(-1, 1)) * prog
        elif lab == 3:
            hi = 11.0 + rng.uniform(-0.8, 0.8)
            f = hi - (7.0 + rng.uniform(-1, 1)) * prog
        else:
            f = np.full(T, 7.5 + rng.uniform(-1, 1))
            on = on & (((tt - t0) % 3) == 0)
        f = f + rng.normal(0, 0.25, T)
        loud = rng.uniform(0.6, 1.0)
        spec = loud * np.exp(-0.5 * ((fb - f[None, :]) / 0.7) ** 2) * on[None, :]
        img = 40 + 170 * spec + rng.normal(0, 12, (F, T))
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h16_calls.npz", x=x, y=labels.astype(np.int64))


def triage() -> None:
    """Patient portal messages and the department they went to."""
    rng = np.random.default_rng(1605)
    dur = ["two days", "a week", "three weeks", "ten days", "a few hours", "a month", "five days"]
    opens = ["I have had", "For the last few days I have", "My husband has", "My daughter has", "Since yesterday I have",
             "I keep getting", "I noticed", "Hi, I have", "Please help, I have"]
    sym = {
        "cardiology": ["chest pain when climbing stairs", "a racing heart at night", "palpitations and dizziness",
                       "swollen ankles and shortness of breath lying down", "high blood pressure readings",
                       "an irregular pulse", "tightness in the chest after exercise", "a fluttering heartbeat"],
        "dermatology": ["an itchy red rash on my arm", "a mole that changed colour", "dry flaky skin on the scalp",
                        "acne that will not clear", "a blistering rash on the back", "hives after eating",
                        "a dark spot on my skin", "eczema flaring on the hands"],
        "orthopedics": ["knee pain after running", "a swollen ankle after a fall", "lower back pain when lifting",
                        "shoulder pain reaching up", "a stiff painful hip", "wrist pain after a fall",
                        "a clicking knee", "pain in the heel every morning"],
        "gastroenterology": ["stomach cramps after meals", "heartburn every night", "diarrhoea and bloating",
                             "blood in the stool", "nausea and no appetite", "constipation and belly pain",
                             "acid reflux and burping", "pain in the upper belly after fatty food"],
        "respiratory": ["a cough that will not go away", "wheezing at night", "shortness of breath on walking",
                        "coughing up green phlegm", "an asthma flare", "a tight chest and wheeze in cold air",
                        "a dry cough and fever", "breathlessness climbing stairs"],
        "neurology": ["headaches every morning", "numbness in my left hand", "dizzy spells and blurred vision",
                      "tingling in both feet", "a tremor in my right hand", "migraines with flashing lights",
                      "memory lapses", "weakness in one leg"],
    }
    tails = ["", "", "", " for {d}", " for {d} now", ". It is getting worse", ". Can I see someone soon?",
             ". The pharmacist said to contact you", " and I am worried"]
    deps = list(sym)
    rows = []
    for _ in range(2400):
        k = int(rng.integers(0, len(deps)))
        s = f"{rng.choice(opens)} {rng.choice(sym[deps[k]])}"
        if rng.random() < 0.3:          # a second symptom of the same department
            s += f" and {rng.choice(sym[deps[k]])}"
        s += str(rng.choice(tails)).format(d=rng.choice(dur))
        if rng.random() < 0.02:
            k = int(rng.integers(0, len(deps)))
        rows.append((s, deps[k]))
    pd.DataFrame(rows, columns=["text", "target"]).to_csv(HERE / "h16_triage.csv", index=False)


def air() -> None:
    """Hourly PM2.5 at a roadside station with traffic and weather."""
    rng = np.random.default_rng(1606)
    hours = 100 * 24
    ts = pd.date_range("2023-11-01 00:00", periods=hours, freq="h")
    h = ts.hour.to_numpy()
    weekday = ts.day_of_week.to_numpy() < 5
    rush = 90 * np.exp(-0.5 * ((h - 8) / 1.3) ** 2) + 100 * np.exp(-0.5 * ((h - 17.5) / 1.6) ** 2) + 40 * ((h > 6) & (h < 21))
    traffic = np.round((rush * np.where(weekday, 1.0, 0.55) + 8) * rng.lognormal(0, 0.12, hours))
    # weather: slow synoptic swings in wind, temperature, humidity
    w = np.zeros(hours)
    tz = np.zeros(hours)
    hz = np.zeros(hours)
    for k in range(1, hours):
        w[k] = 0.97 * w[k - 1] + rng.normal(0, 0.25)
        tz[k] = 0.985 * tz[k - 1] + rng.normal(0, 0.35)
        hz[k] = 0.95 * hz[k - 1] + rng.normal(0, 2.0)
    wind = np.clip(2.5 + 1.2 * w + 0.8 * np.sin(2 * np.pi * (h - 14) / 24), 0.1, None)
    temp = 6 + tz + 4 * np.sin(2 * np.pi * (h - 9) / 24)
    hum = np.clip(75 + hz - 1.5 * (temp - 6), 30, 100)
    pm = np.zeros(hours)
    pm[0] = 20
    for k in range(1, hours):
        vent = 0.06 + 0.05 * wind[k]                     # share removed per hour
        source = 0.09 * traffic[k] + 3.0 * (temp[k] < 3) * (h[k] >= 17) + 0.04 * max(hum[k] - 70, 0)
        pm[k] = pm[k - 1] * (1 - vent) + source * rng.lognormal(0, 0.15)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "pm25": pm.round(1), "traffic": traffic.astype(int),
                  "wind_ms": wind.round(1), "temp_c": temp.round(1), "humidity_pct": hum.round(0).astype(int),
                  "hour": h}).to_csv(HERE / "h16_air.csv", index=False)


def heldout16() -> None:
    HERE.mkdir(exist_ok=True)
    dga()
    soils()
    strokes()
    calls()
    triage()
    air()


if __name__ == "__main__":
    heldout16()
    print_sizes(HERE, FILES)
