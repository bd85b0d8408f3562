#!/usr/bin/env python
"""Write the data files of the twenty-second held-out set (heldout22.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2201-2206, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data22.py

  h22_snowguns.csv    1500 gun-nights of a ski resort's snowmaking, and the snow made that night
                      in m3 (the target, regression; 0 when the crew did not run the gun). gun
                      (fan, lance) and slope (nursery, blue_run, red_run, park) text, air_temp_c
                      -17..6, humidity_pct 35-100, wind_ms 0-17, water_temp_c 1-9, flow_lps (the
                      pump's allocation to the gun, 2-14 l/s), night_hours 8-14, base_depth_cm 5-140
                      (the snow already on the slope). The gun makes snow only below a wet-bulb
                      temperature of about -2 C (the wet bulb is a non-linear function of the air
                      temperature and the humidity, computed with Stull's formula and NOT given); its
                      efficiency grows as the wet bulb falls, falls with warm water and wind, and a
                      lance needs colder air than a fan. The crew runs a gun with a probability set
                      by the slope's deficit (a target depth minus base_depth_cm), the cold and the
                      wind, and by staffing nobody logs (at most 0.9): so about half of the nights
                      are 0 and the mean snow of a night is p x the snow made when running; 5%
                      multiplicative noise
  h22_timber.csv      1400 logs measured by a sawmill's log scanner and the grade the grader gave
                      (the target): pallet 483, sawlog 402, pulp 327, veneer 188. species (spruce, pine, birch, oak) text, small_end_diam_cm
                      10-62, length_m 2.4-6.0, sweep_cm_per_m (the log's bow) 0-7, knot_count 0-12,
                      max_knot_cm 0-9, rot_pct (the end's rotten area) 0-64 (76% of logs 0), taper_cm_per_m,
                      ring_width_mm, moisture_pct (no effect). A grade is the best whose rule the log passes
                      (veneer: thick, straight, nearly knot-free, sound, hardwood bonus; sawlog:
                      fairly straight and sound; pallet: some rot and bow allowed; else pulp),
                      applied by the grader to his own eye's noisy reading of the measurements,
                      and 4% of the grades are slips (a neighbouring grade)
  h22_carpark.csv     2160 hours (90 days from 2024-09-02, a Monday) of a multi-storey car park by
                      a station and an arena (650 spaces): occupied (the cars parked, the series to
                      forecast), hour 0-23, weekday 0-6, temp_c, rain_mm. Commuters fill it on
                      working days from 07:00 to about 18:00 (85-95%), shoppers on Saturdays, little
                      on Sundays; on 12% of evenings the arena has an event (not in the file), which
                      fills the car park from 18:00 to 23:00 and starts to show an hour or two before;
                      rain adds cars; AR(1) noise. occupied 1..6 hours ahead from a window of 24
  h22_traps.npz       650 RGB patches (N, 3, 16, 16) uint8 from photographs of yellow sticky insect
                      traps in a greenhouse, and what is on the patch (y 0-4, 130 each): 0 empty (the
                      yellow card with a few specks of dust), 1 whitefly (2-5 small white-bluish
                      blobs, brighter than the card), 2 aphid (1-3 green oval bodies of 3-4 px), 3
                      thrips (2-4 thin dark streaks of 3-5 px), 4 fungus_gnat (1-2 black bodies with
                      a pair of greyish wings). All insects but the whitefly are darker than the card
                      on every channel. Exposure 0.93-1.07, pixel noise. Any flip or rotation keeps
                      the label
  h22_espresso.npz    600 espresso shots (N, 40, 3) float32 from a café machine's logger, sampled at
                      1.5 Hz over the first 26 s: pump pressure (bar), flow out of the puck (ml/s),
                      group-head temperature (C); and the barista's verdict (y 0-4, 120 each): 0 good
                      (pressure ramps to 8.5-9.5 bar in 4-7 s, flow steady 1.5-2.2 ml/s), 1 channeling
                      (a good shot with one or two sudden collapses of pressure with a spike of flow,
                      lasting 1-2 s, at a random time), 2 gusher (coarse grind: pressure peaks at
                      4-6 bar, flow 3-4.5 ml/s), 3 choked (fine grind: pressure 10-11 bar, flow
                      0.3-0.8 ml/s), 4 temp_swing (a good shot whose temperature oscillates with a
                      period of 2-3.5 s and an amplitude of 1-2.5 C). Machine-to-machine offsets, noise
  h22_notes.csv       1500 status notes typed by couriers on a handheld when they close a parcel,
                      and the outcome code (300 each): neighbour, safe_place, no_access, damaged,
                      address. A note has 1-2 filler words ('parcel', 'today', 'ok'), 2-4 key
                      words (65% from the outcome's own 22 words: 'neighbour', 'next', 'door', 'no',
                      'shed', 'porch', 'gate', 'code', 'dented', 'torn', 'wrong', 'street', ...; 20%
                      shared: 'customer', 'box', 'house', 'home'; 15% from a random outcome),
                      sometimes a house number (1-119), and 1-3 more filler words. Typed on the move: 40% of the notes all lower case, 20% with a
                      capital first letter, 28% IN CAPITALS (gloves and caps lock) and 12% With Every
                      Word Capitalized (the handheld's auto-capitalisation); 4-10 tokens, 246 distinct
                      lower-cased (499 as typed); every key word occurs 16-45 times
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h22_snowguns.csv", "h22_timber.csv", "h22_carpark.csv", "h22_traps.npz", "h22_espresso.npz",
         "h22_notes.csv"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _wet_bulb(t, rh):
    """Stull (2011): the wet-bulb temperature (C) from the air temperature (C) and the humidity (%)."""
    return (t * np.arctan(0.151977 * np.sqrt(rh + 8.313659)) + np.arctan(t + rh) - np.arctan(rh - 1.676331)
            + 0.00391838 * rh ** 1.5 * np.arctan(0.023101 * rh) - 4.686035)


def snowguns() -> None:
    """Gun-nights of a ski resort's snowmaking, and the snow made."""
    rng = np.random.default_rng(2201)
    n = 1500
    guns = np.array(["fan", "lance"])
    slopes = np.array(["nursery", "blue_run", "red_run", "park"])
    g = rng.choice(2, n, p=[0.6, 0.4])
    s = rng.choice(4, n, p=[0.2, 0.35, 0.3, 0.15])
    temp = rng.uniform(-17, 6, n)
    hum = np.clip(rng.normal(75, 15, n), 35, 100)
    wind = np.clip(rng.gamma(2.0, 2.5, n), 0, 17)
    water = rng.uniform(1, 9, n)
    flow = np.where(g == 0, rng.uniform(4, 14, n), rng.uniform(2, 7, n))
    hours = rng.uniform(8, 14, n)
    base = rng.uniform(5, 140, n)
    wb = _wet_bulb(temp, hum)
    need = np.array([40.0, 70.0, 90.0, 110.0])[s]                     # target depth per slope
    # efficiency: zero above the gun's wet-bulb limit, rising as it gets colder
    limit = np.where(g == 0, -2.0, -4.0)
    eff = np.clip((limit - wb) / 9.0, 0, 1) ** 0.7
    eff = eff * (1 - 0.05 * (water - 1)) * (1 - 0.03 * np.maximum(wind - 4, 0))
    made = flow * 3.6 * hours * 2.2 * eff * np.exp(rng.normal(0, 0.05, n))  # m3 of snow if run
    p_run = 0.9 * _sigmoid(0.06 * (need - base) + 0.5 * (limit - wb) - 0.3 * np.maximum(wind - 9, 0))
    run = rng.random(n) < p_run
    snow = np.where(run, made, 0.0)
    df = pd.DataFrame({
        "gun": guns[g], "slope": slopes[s], "air_temp_c": temp.round(1), "humidity_pct": hum.round(0),
        "wind_ms": wind.round(1), "water_temp_c": water.round(1), "flow_lps": flow.round(1),
        "night_hours": hours.round(1), "base_depth_cm": base.round(0), "target": snow.round(1)})
    df.to_csv(HERE / "h22_snowguns.csv", index=False)


def timber() -> None:
    """Logs measured by a sawmill's scanner, and the grade."""
    rng = np.random.default_rng(2202)
    n = 1400
    species = np.array(["spruce", "pine", "birch", "oak"])
    sp = rng.choice(4, n, p=[0.4, 0.3, 0.18, 0.12])
    diam = np.clip(np.exp(rng.normal(np.log(26), 0.38, n)), 10, 62)
    length = rng.choice([2.4, 3.0, 3.6, 4.2, 4.8, 5.4, 6.0], n)
    sweep = np.clip(rng.gamma(1.6, 0.9, n), 0, 7)
    knots = np.clip(rng.poisson(np.array([5.0, 3.5, 2.5, 3.0])[sp] * (1.3 - 0.01 * diam)), 0, 14)
    max_knot = np.where(knots > 0, np.clip(rng.gamma(2.0, 1.0, n) + 0.05 * diam, 0.3, 9), 0.0)
    rot = np.where(rng.random(n) < np.array([0.25, 0.2, 0.35, 0.3])[sp],
                   np.clip(rng.gamma(1.3, 9.0, n), 0.5, 64), 0.0)
    taper = np.clip(rng.normal(0.9, 0.3, n), 0.2, 2.2)
    ring = np.clip(rng.normal(np.array([2.2, 2.6, 1.8, 1.5])[sp], 0.6, n), 0.5, 5)
    moist = np.clip(rng.normal(55, 12, n), 20, 95)
    # the grader's eye: a noisy reading of each measurement
    d_ = diam + rng.normal(0, 0.8, n)
    sw_ = sweep + rng.normal(0, 0.12, n)
    k_ = knots + rng.normal(0, 0.3, n)
    mk_ = max_knot + rng.normal(0, 0.2, n)
    r_ = rot + rng.normal(0, 0.8, n)
    hard = np.isin(sp, [2, 3])
    veneer = (d_ >= np.where(hard, 26, 29)) & (sw_ < 1.8) & (k_ + 2 * mk_ < np.where(hard, 13, 11)) & (r_ < 3) & (taper < 1.4)
    sawlog = (d_ >= 21) & (sw_ < 2.4) & (r_ < 6) & (mk_ < 5.0)
    pallet = (d_ >= 17) & (sw_ < 3.6) & (r_ < 18)
    grade = np.where(veneer, 0, np.where(sawlog, 1, np.where(pallet, 2, 3)))
    slip = rng.random(n) < 0.04
    grade = np.where(slip, np.clip(grade + rng.choice([-1, 1], n), 0, 3), grade)
    names = np.array(["veneer", "sawlog", "pallet", "pulp"])
    df = pd.DataFrame({
        "species": species[sp], "small_end_diam_cm": diam.round(1), "length_m": length,
        "sweep_cm_per_m": sweep.round(2), "knot_count": knots, "max_knot_cm": max_knot.round(1),
        "rot_pct": rot.round(1), "taper_cm_per_m": taper.round(2), "ring_width_mm": ring.round(2),
        "moisture_pct": moist.round(1), "target": names[grade]})
    df.to_csv(HERE / "h22_timber.csv", index=False)


def carpark() -> None:
    """Hourly occupancy of a car park by a station and an arena."""
    rng = np.random.default_rng(2203)
    days = 90
    hours = days * 24
    ts = pd.date_range("2024-09-02 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod = t % 24
    dow = (t // 24) % 7
    cap = 650.0
    # weather: a cooling autumn with AR(1) anomalies; rain in spells
    temp = 16 - 10 * t / hours + 4 * np.sin(2 * np.pi * (hod - 9) / 24)
    anom = np.zeros(hours)
    wet = np.zeros(hours)
    for k in range(1, hours):
        anom[k] = 0.97 * anom[k - 1] + rng.normal(0, 0.4)
        wet[k] = 0.93 * wet[k - 1] + rng.normal(0, 0.35)
    temp = temp + anom
    rain = np.where(wet > 0.6, rng.gamma(1.5, 0.8, hours), 0.0)
    # demand shapes
    commute = _sigmoid((hod - 7.0) * 2.2) * _sigmoid((17.5 - hod) * 1.4)
    shop = _sigmoid((hod - 10.0) * 1.5) * _sigmoid((18.0 - hod) * 1.2)
    base = np.where(dow < 5, 0.06 + 0.84 * commute * rng.uniform(0.95, 1.05, days).repeat(24),
                    np.where(dow == 5, 0.05 + 0.55 * shop, 0.04 + 0.22 * shop))
    event_day = rng.random(days) < 0.12
    ev = event_day.repeat(24) * _sigmoid((hod - 17.0) * 2.0) * _sigmoid((23.0 - hod) * 3.0)
    frac = np.maximum(base, 0) + 0.75 * ev * (1 - 0.5 * base) + 0.03 * np.minimum(rain, 3)
    noise = np.zeros(hours)
    for k in range(1, hours):
        noise[k] = 0.8 * noise[k - 1] + rng.normal(0, 0.015)
    occ = np.clip(np.round(cap * np.clip(frac + noise, 0.01, 0.99)), 0, cap)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "occupied": occ.astype(int), "hour": hod,
                  "weekday": dow, "temp_c": temp.round(1), "rain_mm": rain.round(1)}).to_csv(
        HERE / "h22_carpark.csv", index=False)


_CARD = np.array([228.0, 206.0, 42.0])


def traps() -> None:
    """Patches of yellow sticky traps and the insect on them."""
    rng = np.random.default_rng(2204)
    n, S = 650, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)

    def paint(img, mask, colour, alpha=1.0):
        m = np.clip(mask, 0, 1)[None] * alpha
        return img * (1 - m) + np.asarray(colour, float)[:, None, None] * m

    def ellipse(cy, cx, a, b, ang):
        dy, dx = yy - cy, xx - cx
        u = dx * np.cos(ang) + dy * np.sin(ang)
        v = -dx * np.sin(ang) + dy * np.cos(ang)
        return np.exp(-0.5 * ((u / a) ** 2 + (v / b) ** 2) ** 2 * 3)

    x = np.zeros((n, 3, S, S), np.uint8)
    for i, k in enumerate(labels):
        img = (_CARD + rng.normal(0, 5, 3))[:, None, None] * np.ones((3, S, S))
        img = img + rng.normal(0, 4, (1, S, S))                            # the card's glue texture
        for _ in range(int(rng.integers(1, 4))):                             # dust specks, every patch
            cy, cx = rng.uniform(0, S, 2)
            img = paint(img, ellipse(cy, cx, 0.5, 0.5, 0), (150, 135, 60), 0.6)
        if k == 1:                                                           # whitefly
            for _ in range(int(rng.integers(2, 6))):
                cy, cx = rng.uniform(2, S - 2, 2)
                img = paint(img, ellipse(cy, cx, rng.uniform(0.8, 1.2), rng.uniform(0.6, 0.9), rng.uniform(0, np.pi)),
                            (245, 245, 235))
        elif k == 2:                                                         # aphid
            for _ in range(int(rng.integers(1, 4))):
                cy, cx = rng.uniform(3, S - 3, 2)
                img = paint(img, ellipse(cy, cx, rng.uniform(1.6, 2.0), rng.uniform(1.1, 1.4), rng.uniform(0, np.pi)),
                            (85, 120, 30))
        elif k == 3:                                                         # thrips
            for _ in range(int(rng.integers(2, 5))):
                cy, cx = rng.uniform(2, S - 2, 2)
                img = paint(img, ellipse(cy, cx, rng.uniform(1.8, 2.6), 0.45, rng.uniform(0, np.pi)), (60, 45, 25))
        elif k == 4:                                                         # fungus gnat
            for _ in range(int(rng.integers(1, 3))):
                cy, cx = rng.uniform(4, S - 4, 2)
                ang = rng.uniform(0, np.pi)
                for side in (-1, 1):                                          # wings, translucent grey
                    wy, wx = cy + side * 1.6 * np.cos(ang), cx - side * 1.6 * np.sin(ang)
                    img = paint(img, ellipse(wy, wx, 1.8, 0.8, ang + side * 0.5), (120, 115, 70), 0.6)
                img = paint(img, ellipse(cy, cx, 1.9, 0.8, ang), (30, 28, 25))
        img = img * rng.uniform(0.93, 1.07) + rng.normal(0, 5, (3, S, S))
        x[i] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h22_traps.npz", x=x, y=labels.astype(np.int64))


def espresso() -> None:
    """Espresso shots logged by a café machine, and the barista's verdict."""
    rng = np.random.default_rng(2205)
    n, T, fs = 600, 40, 1.5
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    t = np.arange(T) / fs
    x = np.zeros((n, T, 3), np.float32)
    for i, k in enumerate(labels):
        ramp = rng.uniform(4, 7)
        p_top, f_top = rng.uniform(8.5, 9.5), rng.uniform(1.5, 2.2)
        if k == 2:                                                           # gusher
            p_top, f_top, ramp = rng.uniform(4, 6), rng.uniform(3.0, 4.5), rng.uniform(3, 5)
        elif k == 3:                                                         # choked
            p_top, f_top = rng.uniform(10, 11), rng.uniform(0.3, 0.8)
        rise = np.clip(t / ramp, 0, 1)
        pressure = p_top * rise ** 1.5 * (1 - 0.01 * np.maximum(t - ramp, 0))
        flow = f_top * _sigmoid((t - ramp - 1.0) * 2.0)
        if k == 1:                                                           # channeling: collapses
            for _ in range(int(rng.integers(1, 3))):
                t0, w = rng.uniform(ramp + 1, t[-1] - 2), rng.uniform(1.0, 2.0)
                bump = np.exp(-0.5 * ((t - t0) / (w / 2.5)) ** 2)
                pressure = pressure * (1 - rng.uniform(0.35, 0.55) * bump)
                flow = flow + rng.uniform(1.5, 2.5) * bump
        temp = rng.uniform(91, 95) - 0.6 * rise + rng.normal(0, 0.15, T)
        if k == 4:                                                           # temperature swing
            temp = temp + rng.uniform(1.0, 2.5) * np.sin(2 * np.pi * t / rng.uniform(2.0, 3.5) + rng.uniform(0, 6.3))
        x[i, :, 0] = np.round(np.maximum(pressure + rng.normal(0, 0.15, T), 0), 2)
        x[i, :, 1] = np.round(np.maximum(flow + rng.normal(0, 0.08, T), 0), 2)
        x[i, :, 2] = np.round(temp, 2)
    _savez(HERE / "h22_espresso.npz", x=x, y=labels.astype(np.int64))


_FILLER = ["parcel", "today", "ok", "pkg", "done", "note", "item", "drop", "left", "at", "the", "to", "with"]
_KEYS = {
    "neighbour": ["neighbour", "next", "door", "number", "nbr", "signed", "by", "mrs", "mr", "across", "flat",
                  "opposite", "accepted", "collected", "lady", "upstairs", "downstairs", "shop", "reception",
                  "concierge", "friend", "relative"],
    "safe_place": ["shed", "porch", "behind", "bin", "garage", "safe", "place", "mat", "greenhouse", "hidden",
                   "recycling", "garden", "under", "bench", "plant", "pot", "letterbox", "side", "conservatory",
                   "log", "store", "hedge"],
    "no_access": ["no", "access", "gate", "locked", "code", "buzzer", "intercom", "dog", "answer", "closed",
                  "barrier", "entry", "keypad", "fob", "security", "guard", "padlock", "fence", "blocked",
                  "roadworks", "police", "cordon"],
    "damaged": ["damaged", "dented", "torn", "wet", "crushed", "broken", "leaking", "rattling", "photo", "taped",
                "corner", "split", "smashed", "soaked", "ripped", "squashed", "glass", "shattered", "punctured",
                "stained", "oily", "bent"],
    "address": ["wrong", "address", "street", "unknown", "moved", "postcode", "not", "found", "incomplete",
                "missing", "returned", "sender", "invalid", "nonexistent", "demolished", "vacant", "empty",
                "renamed", "duplicate", "unclear", "misspelt", "abroad"],
}
_COMMON = ["customer", "box", "house", "home"]


def _typed(words, style):
    if style == 0:
        return " ".join(words)
    if style == 1:
        s = " ".join(words)
        return s[:1].upper() + s[1:]
    if style == 2:
        return " ".join(words).upper()
    return " ".join(w[:1].upper() + w[1:] for w in words)


def notes() -> None:
    """Couriers' status notes and the outcome code."""
    rng = np.random.default_rng(2206)
    outcomes = list(_KEYS)
    rows = []
    for i in range(1500):
        o = outcomes[i % len(outcomes)]
        words = [_FILLER[int(j)] for j in rng.integers(0, len(_FILLER), int(rng.integers(1, 3)))]
        keys = []
        for _ in range(int(rng.integers(2, 5))):
            r = rng.random()
            if r < 0.65:
                pool = _KEYS[o]
            elif r < 0.85:
                pool = _COMMON
            else:
                pool = _KEYS[outcomes[int(rng.integers(0, len(outcomes)))]]
            keys.append(pool[int(rng.integers(0, len(pool)))])
        words = words + keys
        if rng.random() < 0.35:
            words.insert(int(rng.integers(0, len(words) + 1)), str(int(rng.integers(1, 120))))
        words += [_FILLER[int(j)] for j in rng.integers(0, len(_FILLER), int(rng.integers(1, 4)))]
        style = int(rng.choice(4, p=[0.40, 0.20, 0.28, 0.12]))
        rows.append((_typed(words, style), o))
    order = rng.permutation(len(rows))
    pd.DataFrame([rows[j] for j in order], columns=["text", "target"]).to_csv(HERE / "h22_notes.csv", index=False)


def heldout22() -> None:
    HERE.mkdir(exist_ok=True)
    snowguns()
    timber()
    carpark()
    traps()
    espresso()
    notes()


if __name__ == "__main__":
    heldout22()
    print_sizes(HERE, FILES)
