#!/usr/bin/env python
"""Write the data files of the thirteenth held-out set (heldout13.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, so changing one never
shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data13.py

  h13_gestures.npz   900 wrist accelerometer recordings (N, 48, 3): ax, ay, az in m/s^2 (az carries
                     gravity, 9.81), four gestures (circle, shake, swipe, double tap) at a random onset
                     (steps 2-16), length (16-26 steps) and strength, with tilt, drift and noise. A GRU
                     reads them at 0.98-1.00; one whose weights are drawn from N(0, 1) saturates its
                     gates (saturated_activations); dropout 0.8 in its dense head (a TF1 keep_prob of
                     0.8 carried over) leaves it at chance                        -> stuck_at_chance
  h13_glyphs.npz     1200 stamped glyphs, 16x16 8-bit grey (N, 1, 16, 16), six shapes: ring, disc,
                     square outline, plus, x, triangle outline, each at a random place, size (radius
                     3.2-5.1 px), stroke, tilt (+-14 degrees) and ink level, on an uneven background.
                     A plus turned by 45 degrees IS an x, so rotation augmentation of 45 degrees gives
                     half the plus and x training images the other one's shape  -> underfitting
  h13_tickets.csv    2400 help-desk tickets of an online shop (text, target): billing 1277, technical
                     997, security 126 (5%). A security ticket reads like a technical one plus one
                     alarm phrase ('someone changed my password'); 138 technical tickets (14%) carry
                     such a phrase too (the customer's partner, an old phone), so a phrase means
                     security 48% of the time: without class weights the rare class is never the
                     better bet                                                  -> class_imbalance
  h13_bearings.csv   2500 rolling-bearing condition records (healthy, outer race, inner race, ball,
                     unbalance; ~500 each): speed_rpm (600-3000), load_kn, temp_c, rms_mm_s,
                     kurtosis, crest, and three band-energy ratios (~1; raised by the fault that
                     excites that band, the inner race's with speed). Read unscaled, speed in rpm
                     drowns the ratios                                         -> unscaled_features
  h13_rents.csv      2200 flat listings: listing_id (text, one per row), district (text, 8), area_m2,
                     rooms, floor, year_built, dist_centre_km, balcony, energy_class (text, A-G) and the
                     monthly rent (EUR, 209-3349): area x a district price per m2 that falls with the
                     distance, times age, energy, size and floor factors, x lognormal noise (sd 7%)
  h13_water.csv      3120 hours (130 days from 2024-05-06) of a small town's drinking-water demand
                     (m3/h, 45-270) with air temperature (C) and rainfall (mm): a morning peak (later
                     and flatter at weekends) and an evening peak, more demand in hot weather (garden
                     watering, mostly in the evening), less after rain, AR(1) noise. Forecast
                     demand_m3 1..6 hours ahead from 24 hours
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h13_gestures.npz", "h13_glyphs.npz", "h13_tickets.csv", "h13_bearings.csv", "h13_rents.csv",
         "h13_water.csv"]


def gestures() -> None:
    """Wrist accelerometer recordings (N, 48, 3): ax, ay, az in m/s^2 (az carries gravity)."""
    rng = np.random.default_rng(1301)
    n, T = 900, 48
    labels = rng.integers(0, 4, n)   # 0 circle, 1 shake, 2 swipe, 3 double tap
    t = np.arange(T, dtype=float)
    x = np.zeros((n, T, 3))
    for i, lab in enumerate(labels):
        start = rng.uniform(2, 16)
        dur = rng.uniform(16, 26)
        amp = rng.uniform(1.5, 3.0)
        u = (t - start) / dur                         # 0..1 inside the gesture
        on = ((u >= 0) & (u <= 1)).astype(float)
        env = on * np.sin(np.pi * np.clip(u, 0, 1))   # smooth envelope
        ax, ay, az = np.zeros(T), np.zeros(T), np.zeros(T)
        if lab == 0:      # circle: x and y a quarter period apart
            w = 2 * np.pi * rng.uniform(1.0, 2.0)
            ph = rng.uniform(0, 2 * np.pi)
            ax = amp * env * np.cos(w * u + ph)
            ay = amp * env * np.sin(w * u + ph) * rng.choice([-1, 1])
        elif lab == 1:    # shake: fast oscillation along x
            w = 2 * np.pi * rng.uniform(4.0, 6.0)
            ax = amp * env * np.sin(w * u + rng.uniform(0, 2 * np.pi))
            ay = 0.3 * amp * env * np.sin(w * u + rng.uniform(0, 2 * np.pi))
        elif lab == 2:    # swipe: accelerate then brake, along x (either way)
            ax = rng.choice([-1, 1]) * amp * on * np.sin(2 * np.pi * np.clip(u, 0, 1))
            ay = 0.2 * amp * env
        else:             # double tap: two short spikes on z
            for c in (0.3, 0.3 + rng.uniform(0.25, 0.4)):
                az += amp * 1.5 * np.exp(-0.5 * ((u - c) * dur / 1.2) ** 2)
        drift = rng.normal(0, 0.3, 3)[None, :] * (t[:, None] / T)
        tilt = rng.normal(0, 0.3, 2)
        x[i, :, 0] = ax + tilt[0]
        x[i, :, 1] = ay + tilt[1]
        x[i, :, 2] = 9.81 + az
        x[i] += drift + rng.normal(0, 0.25, (T, 3))
    _savez(HERE / "h13_gestures.npz", x=x.round(2).astype(np.float32), y=labels.astype(np.int64))


def _glyph(rng, lab: int, size: int) -> np.ndarray:
    """One glyph drawn with anti-aliased strokes at a random place, size, thickness and ink level."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    cy, cx = rng.uniform(size * 0.35, size * 0.65, 2)
    r = rng.uniform(size * 0.2, size * 0.32)
    th = rng.uniform(0.8, 1.5)
    ang = rng.uniform(-0.25, 0.25)
    dy, dx = yy - cy, xx - cx
    ry, rx = np.cos(ang) * dy - np.sin(ang) * dx, np.sin(ang) * dy + np.cos(ang) * dx
    d = np.hypot(ry, rx)
    if lab == 0:      # ring
        dist = np.abs(d - r)
    elif lab == 1:    # disc
        dist = np.maximum(d - r, 0)
    elif lab == 2:    # square outline
        dist = np.abs(np.maximum(np.abs(ry), np.abs(rx)) - r * 0.85)
    elif lab == 3:    # plus
        dist = np.where(np.maximum(np.abs(ry), np.abs(rx)) <= r, np.minimum(np.abs(ry), np.abs(rx)), 99)
    elif lab == 4:    # x
        u, v = (ry + rx) / np.sqrt(2), (ry - rx) / np.sqrt(2)
        dist = np.where(np.maximum(np.abs(u), np.abs(v)) <= r, np.minimum(np.abs(u), np.abs(v)), 99)
    else:             # triangle outline (pointing up)
        k = np.sqrt(3)
        e1 = ry - r * 0.5                               # base
        e2 = (-ry * 0.5 + rx * k / 2) - r * 0.5         # right side
        e3 = (-ry * 0.5 - rx * k / 2) - r * 0.5         # left side
        dist = np.abs(np.maximum(np.maximum(e1, e2), e3))
    ink = np.clip(th - dist + 0.5, 0, 1) * rng.uniform(0.6, 1.0)
    bg = rng.uniform(0.05, 0.25) + rng.normal(0, 0.02, 2) @ np.stack([yy - size / 2, xx - size / 2]).reshape(2, -1)
    img = bg.reshape(size, size) + ink + rng.normal(0, 0.08, (size, size))
    return np.clip(np.round(img * 200), 0, 255).astype(np.uint8)


def glyphs() -> None:
    """1200 stamped glyphs, 16x16 grey (N, 1, 16, 16), six shapes."""
    rng = np.random.default_rng(1302)
    n, size = 1200, 16
    labels = rng.integers(0, 6, n)
    x = np.stack([_glyph(rng, int(lab), size)[None] for lab in labels])
    _savez(HERE / "h13_glyphs.npz", x=x, y=labels.astype(np.int64))


def tickets() -> None:
    """Help-desk tickets of an online shop: billing, technical, or security (5%). A security ticket
    reads like a technical one plus one alarm phrase ('someone changed my password'); 15% of technical
    tickets are drawn with such a phrase too (it was the customer's partner, or an old phone), so an
    alarm phrase means security about half the time: unweighted, technical is the better bet."""
    rng = np.random.default_rng(1303)
    billing = ["invoice", "refund", "charged twice", "payment", "receipt", "credit card", "VAT", "subscription fee",
               "discount code", "bank transfer", "direct debit", "price", "overcharged", "billing address", "voucher"]
    technical = ["login", "password", "app", "website", "error message", "page", "browser", "account", "email",
                 "two factor code", "update", "screen", "checkout button", "notification", "settings"]
    alarm_lines = ["someone changed my {}", "I saw a login from an unknown device on my {}",
                   "there is something strange about my {}", "my {} was changed without me",
                   "the new {} was not me", "an unfamiliar name is on my {}", "a login from another country on my {}",
                   "I got a suspicious message about my {}"]
    openers = ["Hello", "Hi team", "Good morning", "Dear support", "Hi", "Hey there"]
    templates = ["I have a problem with the {}", "Can you help me with my {}", "Something is wrong with the {}",
                 "Question about the {}", "The {} does not work", "I need help with the {}"]
    closers = ["Thanks", "Kind regards", "Please reply soon", "Cheers", "Thank you in advance", "Best wishes"]
    filler = ["I ordered last week", "This is the second time I write", "I am a regular customer",
              "My order number is in the subject", "I use the app on my phone", "It started yesterday",
              "I tried again this morning", "Please check"]

    def ticket() -> tuple[str, str]:
        u = rng.random()
        lab = "billing" if u < 0.52 else ("technical" if u < 0.95 else "security")
        words = billing if lab == "billing" else technical
        kws = rng.choice(words, size=int(rng.integers(1, 3)), replace=False)
        parts = [rng.choice(openers), rng.choice(templates).format(kws[0])]
        parts += list(rng.choice(filler, size=int(rng.integers(1, 3)), replace=False))
        if len(kws) > 1:
            parts.append(rng.choice(templates).format(kws[1]))
        if lab == "security" or (lab == "technical" and rng.random() < 0.15):
            line = rng.choice(alarm_lines).format(rng.choice(technical))
            parts.insert(int(rng.integers(1, len(parts) + 1)), line)
        parts.append(rng.choice(closers))
        return ". ".join(parts) + ".", lab

    rows = [ticket() for _ in range(2400)]
    pd.DataFrame(rows, columns=["text", "target"]).to_csv(HERE / "h13_tickets.csv", index=False)


def bearings() -> None:
    """Condition monitoring of rolling bearings: nine channels of a vibration logger, five states."""
    rng = np.random.default_rng(1304)
    n = 2500
    names = ["healthy", "outer_race", "inner_race", "ball", "unbalance"]
    lab = rng.integers(0, 5, n)
    sev = rng.uniform(0.35, 1.0, n) * (lab > 0)                    # fault severity; healthy 0
    speed = rng.uniform(600, 3000, n)
    load = rng.uniform(1, 20, n)
    s = speed / 1800
    base = lambda: rng.lognormal(0, 0.25, n)
    e_bpfo = base() * (1 + 2.5 * sev * (lab == 1) * (0.5 + 0.5 * load / 20))
    e_bpfi = base() * (1 + 2.5 * sev * (lab == 2) * s)             # inner race: grows with speed
    e_bsf = base() * (1 + 2.0 * sev * (lab == 3))
    kurt = 3 + rng.gamma(2, 0.4, n) + 4 * sev * np.isin(lab, [1, 2, 3]) * rng.uniform(0.3, 1, n)
    rms = (0.8 + 0.15 * load / 10) * s * base() * (1 + 1.5 * sev * (lab == 4) * s ** 2 + 0.4 * sev * (lab > 0))
    crest = kurt ** 0.5 * rng.uniform(1.1, 1.5, n) / (1 + 0.3 * (lab == 4) * sev)
    temp = 35 + 1.2 * load + 6 * s + 8 * sev * (lab == 2) + rng.normal(0, 3, n)
    df = pd.DataFrame({"speed_rpm": speed.round(0), "load_kn": load.round(2), "temp_c": temp.round(1),
                       "rms_mm_s": rms.round(3), "kurtosis": kurt.round(3), "crest": crest.round(3),
                       "e_bpfo": e_bpfo.round(3), "e_bpfi": e_bpfi.round(3), "e_bsf": e_bsf.round(3),
                       "target": [names[j] for j in lab]})
    df.to_csv(HERE / "h13_bearings.csv", index=False)


def rents() -> None:
    """Monthly rents of 2200 flat listings: size, rooms, floor, year built, distance to the centre,
    district (text), balcony, energy class (text), and the portal's listing id (text, one per row)."""
    rng = np.random.default_rng(1305)
    n = 2200
    districts = {"Altstadt": 17.0, "Hafen": 14.5, "Nordpark": 12.0, "Weststadt": 11.0, "Oberfeld": 9.5,
                 "Suedhang": 13.0, "Bahnhof": 10.5, "Kanal": 15.5}
    dnames = list(districts)
    district = rng.choice(dnames, n)
    area = np.clip(rng.lognormal(np.log(68), 0.38, n), 18, 240)
    rooms = np.clip(np.round(area / 28 + rng.normal(0.3, 0.6, n)), 1, 7)
    floor = rng.integers(0, 9, n)
    year = rng.integers(1900, 2024, n)
    dist = np.clip(rng.gamma(2.0, 2.2, n), 0.2, 25)
    balcony = (rng.random(n) < 0.55).astype(int)
    energy = rng.choice(list("ABCDEFG"), n, p=[0.08, 0.14, 0.2, 0.22, 0.17, 0.12, 0.07])
    per_m2 = np.array([districts[d] for d in district]) * np.exp(-0.045 * dist)
    age_f = np.where(year >= 2010, 1.18, np.where(year < 1950, 1.08, 1.0 - 0.003 * (year - 1950) * (year < 1990)))
    energy_f = 1.06 - 0.025 * np.array(["ABCDEFG".index(e) for e in energy])
    size_f = (area / 68) ** -0.12                                  # small flats cost more per m2
    floor_f = 1 + 0.012 * floor - 0.05 * (floor == 0)
    rent = area * per_m2 * age_f * energy_f * size_f * floor_f + 45 * balcony
    rent = rent * rng.lognormal(0, 0.07, n)
    ids = rng.permutation(n) + 10000
    df = pd.DataFrame({"listing_id": [f"L{i}" for i in ids], "district": district, "area_m2": area.round(1),
                       "rooms": rooms.astype(int), "floor": floor, "year_built": year, "dist_centre_km": dist.round(2),
                       "balcony": balcony, "energy_class": energy, "target": rent.round(0)})
    df.to_csv(HERE / "h13_rents.csv", index=False)


def water() -> None:
    """Hourly drinking-water demand of a small town over 130 days (m3/h), with air temperature and
    rainfall: a morning and an evening peak, later and flatter at weekends, more in hot weather."""
    rng = np.random.default_rng(1306)
    hours = 130 * 24
    ts = pd.date_range("2024-05-06 00:00", periods=hours, freq="h")
    h = ts.hour.to_numpy() + 0.0
    dow = ts.day_of_week.to_numpy()
    weekend = dow >= 5
    day = np.arange(hours) / 24
    temp = 17 + 7 * np.sin(2 * np.pi * (day - 20) / 180) + 5 * np.sin(2 * np.pi * (h - 9) / 24)
    weather = np.zeros(hours)
    for k in range(1, hours):
        weather[k] = 0.97 * weather[k - 1] + rng.normal(0, 0.45)
    temp = temp + weather
    rain = np.where(rng.random(hours) < 0.06, rng.gamma(1.5, 1.2, hours), 0.0)
    shift = np.where(weekend, 1.8, 0.0)
    morning = np.exp(-0.5 * ((h - 7.0 - shift) / (1.3 + 0.6 * weekend)) ** 2)
    evening = np.exp(-0.5 * ((h - 19.5) / 2.0) ** 2)
    base = 60 + 95 * morning * np.where(weekend, 0.8, 1.0) + 70 * evening + 25 * np.exp(-0.5 * ((h - 12.5) / 2.5) ** 2)
    garden = 1 + 0.035 * np.clip(temp - 18, 0, None) * (1 + 1.5 * evening)
    wet = np.zeros(hours)
    for k in range(1, hours):
        wet[k] = 0.9 * wet[k - 1] + rain[k]
    demand = base * garden * (1 - 0.04 * np.clip(wet, 0, 5))
    noise = np.zeros(hours)
    for k in range(1, hours):
        noise[k] = 0.6 * noise[k - 1] + rng.normal(0, 2.5)
    demand = demand + noise
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "demand_m3": demand.round(2), "temp_c": temp.round(1),
                  "rain_mm": rain.round(1)}).to_csv(HERE / "h13_water.csv", index=False)


def heldout13() -> None:
    HERE.mkdir(exist_ok=True)
    gestures()
    glyphs()
    tickets()
    bearings()
    rents()
    water()


if __name__ == "__main__":
    heldout13()
    print_sizes(HERE, FILES)
