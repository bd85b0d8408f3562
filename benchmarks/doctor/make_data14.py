#!/usr/bin/env python
"""Write the data files of the fourteenth held-out set (heldout14.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, so changing one never
shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data14.py

  h14_crops.csv     2100 field soil tests with the crop an agronomist recommended (seven crops: rice,
                    maize, chickpea, coffee, cotton, lentil, banana; ~300 each): n_ppm, p_ppm, k_ppm,
                    ph, rain_mm (yearly), temp_c (season mean), humidity_pct, organic_pct,
                    elevation_m and soil (text: clay, loam, sandy, silt, peat). Each crop has its own
                    climate and soil, with overlaps (chickpea and lentil, rice and banana)
  h14_cars.csv      2200 used-car adverts: brand (text, 10), year (2005-2023), mileage_km, power_kw,
                    fuel (text, 4), gearbox (text, 2), body (text, 4), owners, accident (0/1) and the
                    asking price in EUR (500-68,000, median 4,700): a brand price x power^0.7 x a yearly loss (10%) of
                    value x mileage, fuel, gearbox, body and accident factors x lognormal noise (sd 9%)
  h14_beats.npz     900 two-lead ECG strips (N, 80, 2), 2 s at 40 Hz, in mV: normal sinus rhythm,
                    atrial fibrillation (irregular beats, no P wave, a fibrillating baseline),
                    premature ventricular beats (one early, wide beat without a P wave, then a pause),
                    sinus tachycardia (130-170 per minute), with baseline wander, gain and noise
  h14_wafers.npz    1400 semiconductor wafer maps (N, 1, 20, 20), 8-bit: 0 off the wafer, 128 a good
                    die, 255 a failed die; seven patterns of failed dies (WM-811K style): none (a few
                    scattered fails), center, donut, edge_ring, edge_loc, local, scratch, on a 1-4%
                    background of random fails. Where the cluster sits (centre, mid radius, edge,
                    elsewhere) is what tells center, donut, edge_loc and local apart
  h14_recipes.csv   2400 recipe ingredient lists (text, target), six cuisines: italian, mexican,
                    indian, japanese, greek, thai (~400 each); each list is 7-13 ingredients: 3-6 of
                    its cuisine's own, 0-2 borrowed from another cuisine and the rest pantry staples
                    every cuisine uses (salt, onion, garlic, oil, water...); quantities in front
  h14_solar.csv     2880 hours (120 days from 2024-04-01) of a 5 kW rooftop PV system: pv_kw
                    (0 at night), cloud_pct (a slowly changing cover, 0-100), temp_c; forecast pv_kw
                    1..3 hours ahead from 24 hours
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h14_crops.csv", "h14_cars.csv", "h14_beats.npz", "h14_wafers.npz", "h14_recipes.csv", "h14_solar.csv"]


def crops() -> None:
    """Soil tests and the recommended crop: seven crops with their own soil and climate."""
    rng = np.random.default_rng(1401)
    n = 2100
    #            n    p    k    ph   rain  temp  hum  org  elev  soil probabilities (clay loam sandy silt peat)
    proto = {
        "rice":     (80, 45, 40, 6.2, 2100, 25, 82, 3.0, 150, (0.55, 0.15, 0.02, 0.25, 0.03)),
        "maize":    (95, 50, 45, 6.5, 800, 22, 62, 2.5, 600, (0.15, 0.50, 0.15, 0.18, 0.02)),
        "chickpea": (40, 65, 80, 7.2, 550, 19, 45, 1.5, 500, (0.10, 0.40, 0.35, 0.15, 0.00)),
        "coffee":   (100, 30, 30, 5.6, 1700, 20, 72, 4.5, 1400, (0.25, 0.45, 0.05, 0.10, 0.15)),
        "cotton":   (115, 45, 22, 7.5, 750, 27, 58, 1.8, 300, (0.45, 0.30, 0.15, 0.10, 0.00)),
        "lentil":   (30, 60, 22, 6.9, 450, 17, 48, 1.6, 650, (0.10, 0.40, 0.30, 0.20, 0.00)),
        "banana":   (100, 80, 50, 6.0, 1900, 26, 78, 3.5, 250, (0.25, 0.45, 0.05, 0.20, 0.05)),
    }
    names = list(proto)
    lab = rng.integers(0, len(names), n)
    soils = np.array(["clay", "loam", "sandy", "silt", "peat"])
    rows = []
    for j in lab:
        nn_, p, k, ph, rain, temp, hum, org, elev, sp = proto[names[j]]
        sp = np.array(sp) / sum(sp)
        rows.append((
            max(5.0, rng.normal(nn_, 17)), max(5.0, rng.normal(p, 12)), max(5.0, rng.normal(k, 12)),
            rng.normal(ph, 0.45), max(150.0, rain * rng.lognormal(0, 0.22)), rng.normal(temp, 2.5),
            float(np.clip(rng.normal(hum, 8), 15, 99)), max(0.2, org * rng.lognormal(0, 0.3)),
            max(0.0, elev + rng.normal(0, 250)), soils[rng.choice(5, p=sp)], names[j]))
    df = pd.DataFrame(rows, columns=["n_ppm", "p_ppm", "k_ppm", "ph", "rain_mm", "temp_c", "humidity_pct",
                                     "organic_pct", "elevation_m", "soil", "target"])
    for c, d in [("n_ppm", 0), ("p_ppm", 0), ("k_ppm", 0), ("ph", 2), ("rain_mm", 0), ("temp_c", 1),
                 ("humidity_pct", 0), ("organic_pct", 2), ("elevation_m", 0)]:
        df[c] = df[c].round(d)
    df.to_csv(HERE / "h14_crops.csv", index=False)


def cars() -> None:
    """Used-car adverts and their asking price in EUR."""
    rng = np.random.default_rng(1402)
    n = 2200
    brands = {"Dacia": 13000, "Fiat": 15000, "Skoda": 19000, "Toyota": 21000, "Ford": 18000, "Volkswagen": 22000,
              "Peugeot": 17500, "Volvo": 28000, "BMW": 33000, "Mercedes": 35000}
    bnames = list(brands)
    brand = rng.choice(bnames, n, p=[0.07, 0.09, 0.11, 0.11, 0.12, 0.14, 0.1, 0.07, 0.1, 0.09])
    year = rng.integers(2005, 2024, n)
    age = 2024 - year
    mileage = np.clip(age * rng.lognormal(np.log(14000), 0.4, n) + rng.uniform(0, 8000, n), 50, 450000)
    prem = np.isin(brand, ["BMW", "Mercedes", "Volvo"])
    power = np.clip(rng.lognormal(np.log(85), 0.3, n) * np.where(prem, 1.45, 1.0), 40, 400)
    fuel = rng.choice(["petrol", "diesel", "hybrid", "electric"], n, p=[0.5, 0.3, 0.13, 0.07])
    fuel = np.where((fuel == "electric") & (year < 2013), "petrol", fuel)
    gearbox = np.where(rng.random(n) < np.where(prem, 0.8, 0.35), "automatic", "manual")
    body = rng.choice(["hatchback", "sedan", "estate", "suv"], n, p=[0.35, 0.25, 0.2, 0.2])
    owners = np.clip(1 + rng.poisson(age / 6), 1, 6)
    accident = (rng.random(n) < 0.12).astype(int)
    base = np.array([brands[b] for b in brand])
    fuel_f = np.select([fuel == "diesel", fuel == "hybrid", fuel == "electric"], [1.05, 1.18, 1.25], 1.0)
    body_f = np.select([body == "suv", body == "estate", body == "sedan"], [1.2, 1.06, 1.04], 1.0)
    price = (base * (power / 85) ** 0.7 * 0.9 ** age * np.exp(-mileage / 260000) * fuel_f * body_f
             * np.where(gearbox == "automatic", 1.07, 1.0) * np.where(accident == 1, 0.82, 1.0)
             * (1 - 0.03 * (owners - 1)))
    price = np.clip(price * rng.lognormal(0, 0.09, n), 500, None)
    df = pd.DataFrame({"brand": brand, "year": year, "mileage_km": mileage.round(-2).astype(int),
                       "power_kw": power.round(0).astype(int), "fuel": fuel, "gearbox": gearbox, "body": body,
                       "owners": owners, "accident": accident, "target": (price / 10).round(0) * 10})
    df.to_csv(HERE / "h14_cars.csv", index=False)


def _beat(t, t0, amp, wide=False, p_wave=True):
    """One P-QRS-T complex at time t0 (seconds)."""
    s = np.zeros_like(t)
    if p_wave:
        s += 0.15 * amp * np.exp(-0.5 * ((t - t0 + 0.16) / 0.025) ** 2)
    w = 0.045 if wide else 0.018
    s += amp * (1.6 if wide else 1.0) * np.exp(-0.5 * ((t - t0) / w) ** 2)
    s -= 0.25 * amp * np.exp(-0.5 * ((t - t0 - 2.2 * w) / w) ** 2)
    s += (-0.35 if wide else 0.3) * amp * np.exp(-0.5 * ((t - t0 - 0.28) / 0.06) ** 2)
    return s


def beats() -> None:
    """Two-lead ECG strips (N, 80, 2), 2 s at 40 Hz, in mV; four rhythms."""
    rng = np.random.default_rng(1403)
    n, T, fs = 900, 80, 40.0
    t = np.arange(T) / fs
    labels = rng.integers(0, 4, n)     # 0 normal, 1 atrial fibrillation, 2 PVC, 3 tachycardia
    x = np.zeros((n, T, 2))
    for i, lab in enumerate(labels):
        amp = rng.uniform(0.7, 1.4)
        lead = np.zeros(T)
        if lab in (0, 2):
            rr = 60 / rng.uniform(55, 95)
        elif lab == 3:
            rr = 60 / rng.uniform(130, 170)
        else:
            rr = 60 / rng.uniform(80, 140)
        tb = -rng.uniform(0, rr)
        k = 0
        pvc_at = int(rng.integers(1, 3)) if lab == 2 else -1
        while tb < 2.4:
            if lab == 1:
                tb += rr * rng.uniform(0.55, 1.45)
                lead += _beat(t, tb, amp, p_wave=False)
            elif k == pvc_at:
                tb += rr * rng.uniform(0.55, 0.7)
                lead += _beat(t, tb, amp, wide=True, p_wave=False)
                tb += rr * 0.45        # compensatory pause
            else:
                tb += rr * rng.uniform(0.97, 1.03)
                lead += _beat(t, tb, amp)
            k += 1
        if lab == 1:
            lead += 0.06 * np.sin(2 * np.pi * rng.uniform(5, 8) * t + rng.uniform(0, 6.3)) * rng.uniform(0.5, 1.5)
        wander = rng.uniform(0.05, 0.25) * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6.3))
        x[i, :, 0] = lead + wander + rng.normal(0, 0.04, T)
        x[i, :, 1] = rng.uniform(0.4, 0.8) * lead - 0.5 * wander + rng.normal(0, 0.04, T)
    _savez(HERE / "h14_beats.npz", x=x.round(2).astype(np.float32), y=labels.astype(np.int64))


def _wafer(rng, lab: int, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    c = (size - 1) / 2
    dy, dx = yy - c, xx - c
    r = np.hypot(dy, dx) / (size / 2)                  # 0 at the centre, 1 at the rim
    th = np.arctan2(dy, dx)
    on = r <= 0.98
    p = np.full((size, size), rng.uniform(0.01, 0.04))
    if lab == 1:      # center
        p += 0.85 * (r < rng.uniform(0.25, 0.4))
    elif lab == 2:    # donut
        r0 = rng.uniform(0.42, 0.58)
        p += 0.8 * (np.abs(r - r0) < 0.11)
    elif lab == 3:    # edge ring
        p += 0.8 * (r > rng.uniform(0.8, 0.86))
    elif lab == 4:    # edge loc: a patch of the rim
        a0 = rng.uniform(-np.pi, np.pi)
        da = np.angle(np.exp(1j * (th - a0)))
        p += 0.85 * ((r > 0.66) & (np.abs(da) < rng.uniform(0.45, 0.8)))
    elif lab == 5:    # local: a blob off the centre, inside
        rr, a0 = rng.uniform(0.3, 0.55), rng.uniform(-np.pi, np.pi)
        cy, cx = c + rr * np.sin(a0) * size / 2, c + rr * np.cos(a0) * size / 2
        p += 0.85 * (np.hypot(yy - cy, xx - cx) < rng.uniform(1.8, 2.6))
    elif lab == 6:    # scratch: a thin line
        a0 = rng.uniform(0, np.pi)
        off = rng.uniform(-0.4, 0.4) * size / 2
        d = np.abs(-np.sin(a0) * dx + np.cos(a0) * dy - off)
        along = np.cos(a0) * dx + np.sin(a0) * dy
        L = rng.uniform(0.35, 0.6) * size / 2
        s0 = rng.uniform(-0.3, 0.3) * size / 2
        p += 0.9 * ((d < 0.7) & (np.abs(along - s0) < L))
    fail = rng.random((size, size)) < np.clip(p, 0, 0.97)
    img = np.where(on, np.where(fail, 255, 128), 0)
    return img.astype(np.uint8)


def wafers() -> None:
    """Wafer maps (N, 1, 20, 20): seven failure patterns."""
    rng = np.random.default_rng(1404)
    n, size = 1400, 20
    labels = rng.integers(0, 7, n)      # none, center, donut, edge_ring, edge_loc, local, scratch
    x = np.stack([_wafer(rng, int(lab), size)[None] for lab in labels])
    _savez(HERE / "h14_wafers.npz", x=x, y=labels.astype(np.int64))


def recipes() -> None:
    """Recipe ingredient lists and their cuisine."""
    rng = np.random.default_rng(1405)
    own = {
        "italian": ["parmesan", "basil", "mozzarella", "pasta", "oregano", "balsamic vinegar", "pancetta",
                    "ricotta", "arborio rice", "pine nuts", "canned tomatoes", "rosemary"],
        "mexican": ["tortillas", "cilantro", "lime", "black beans", "jalapeno", "cumin", "avocado", "corn",
                    "chipotle", "queso fresco", "chili powder", "salsa"],
        "indian": ["garam masala", "turmeric", "cumin", "ghee", "yogurt", "cardamom", "lentils", "chickpeas",
                   "coriander seeds", "fenugreek", "paneer", "basmati rice"],
        "japanese": ["soy sauce", "mirin", "sake", "miso", "nori", "rice vinegar", "dashi", "sushi rice",
                     "tofu", "wasabi", "scallions", "sesame oil"],
        "greek": ["feta", "olives", "oregano", "yogurt", "cucumber", "lemon", "dill", "phyllo", "lamb",
                  "red wine vinegar", "mint", "kalamata olives"],
        "thai": ["fish sauce", "coconut milk", "lemongrass", "lime", "thai basil", "galangal", "chili",
                 "cilantro", "peanuts", "jasmine rice", "curry paste", "palm sugar"],
    }
    staples = ["salt", "onion", "garlic", "olive oil", "water", "black pepper", "sugar", "butter", "eggs",
               "flour", "tomatoes", "chicken", "vegetable oil", "carrots", "ginger"]
    qty = ["1 cup", "2 tbsp", "1 tsp", "a pinch of", "200 g", "2", "1/2 cup", "3 cloves", "1 can", "some"]
    cuisines = list(own)
    rows = []
    for _ in range(2400):
        c = cuisines[int(rng.integers(0, 6))]
        items = list(rng.choice(own[c], size=int(rng.integers(3, 7)), replace=False))
        for _ in range(int(rng.integers(0, 3))):
            other = cuisines[int(rng.integers(0, 6))]
            items.append(str(rng.choice(own[other])))
        items += list(rng.choice(staples, size=int(rng.integers(3, 6)), replace=False))
        items = [str(s) for s in rng.permutation(items)]
        text = ", ".join(f"{rng.choice(qty)} {s}" if rng.random() < 0.6 else s for s in items)
        rows.append((text, c))
    pd.DataFrame(rows, columns=["text", "target"]).to_csv(HERE / "h14_recipes.csv", index=False)


def solar() -> None:
    """Hourly output of a 5 kW rooftop PV system over 120 days, with cloud cover and air temperature."""
    rng = np.random.default_rng(1406)
    hours = 120 * 24
    ts = pd.date_range("2024-04-01 00:00", periods=hours, freq="h")
    h = ts.hour.to_numpy() + 0.5
    doy = ts.day_of_year.to_numpy()
    day_len = 12 + 3.5 * np.sin(2 * np.pi * (doy - 80) / 365)        # hours of daylight
    noon = 13.2
    u = (h - noon) / (day_len / 2)
    clear = np.where(np.abs(u) < 1, np.clip(np.cos(np.pi / 2 * u), 0, None) ** 1.3, 0.0) * (0.8 + 0.2 * np.sin(2 * np.pi * (doy - 80) / 365))
    z = np.zeros(hours)
    for k in range(1, hours):
        z[k] = 0.93 * z[k - 1] + rng.normal(0, 0.37)
    cloud = 100 / (1 + np.exp(-(z + 0.2) * 1.6))
    temp = 12 + 8 * (doy - 92) / 120 + 6 * np.sin(2 * np.pi * (h - 9) / 24) - 0.04 * cloud + rng.normal(0, 1, hours)
    pv = 5.0 * clear * (1 - 0.78 * (cloud / 100) ** 2.2) * (1 - 0.004 * np.clip(temp - 25, 0, None))
    pv = np.where(clear > 0, np.clip(pv * rng.lognormal(0, 0.06, hours), 0, 5), 0.0)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "pv_kw": pv.round(3), "cloud_pct": cloud.round(0),
                  "temp_c": temp.round(1)}).to_csv(HERE / "h14_solar.csv", index=False)


def heldout14() -> None:
    HERE.mkdir(exist_ok=True)
    crops()
    cars()
    beats()
    wafers()
    recipes()
    solar()


if __name__ == "__main__":
    heldout14()
    print_sizes(HERE, FILES)
