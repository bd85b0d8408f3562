#!/usr/bin/env python
"""Write the data files of the twenty-seventh held-out set (heldout27.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2701-2705, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data27.py

  h27_marathon.csv    1400 finishers of six city marathons and their finish time (the target,
                      regression, minutes): sex (F/M, a few typed 'f' or ' M'), age, weekly_km (the
                      12 weeks before the race), longest_run_km, pb_10k_min (10 km best of the last
                      year), prior_marathons, bmi, race (text: six courses, each its own elevation
                      gain and race-day weather), elevation_gain_m, temp_c, humidity_pct, shoe
                      (carbon_plate, standard, minimal), start_wave (1-6, seeded by declared time),
                      bib (no effect); finish times 155-696 min (mean 298, sd 75). Riegel's rule
                      from the 10 km best (T x 4.22^1.06) and a 'wall' that hits runners whose
                      longest run stayed under about 27 km and whose weekly volume was low (up to
                      +75 min, a smooth threshold in both; 31 % of the runners past its middle),
                      first-marathon pacing losses, a heat penalty that grows with the square of
                      the degrees above 12 degC and of the time spent on the course, hills, carbon
                      plates (-2.5 %), a BMI penalty above 24, 3.5 % lognormal noise
  h27_meteorites.csv  1200 classified meteorites of a collection and their group (the target): H 300,
                      L 280, LL 200, CM 160 (carbonaceous), eucrite 140, iron 120; 11 % of the group
                      labels typed by hand in another case or with a stray space ('ll', ' L', 'IRON',
                      'Eucrite '). fa_mol (olivine fayalite, mol %; empty for eucrites and irons, which
                      hold no olivine), fs_mol (low-Ca pyroxene ferrosilite; empty for irons),
                      metal_wt_pct, density_g_cc, log_chi (magnetic susceptibility, log10 of 1e-9
                      m3/kg), weathering (W0-W4, text; finds only), find_or_fall (text), mass_g
                      (lognormal, no effect), petrologic_type (3-6; 2 for CM; empty otherwise).
                      Weathering rusts metal: a weathered H find loses metal and susceptibility and
                      looks like an L; the ordinary chondrites H, L, LL are told apart mainly by
                      fa_mol and fs_mol, with the metal and log_chi
  h27_pond.csv        2880 hours (120 days from Thursday 2024-06-06) of a catfish pond's logger:
                      timestamp, do_mg_l (dissolved oxygen, the series forecast; 12 gaps), water_temp_c,
                      solar_wm2 (0 at night), wind_ms, aerator (0/1, switched on by a controller when
                      DO falls under 3.5 mg/L and off above 5.5, plus a scheduled 02:00-05:00 run on
                      hot nights), feed_kg (fed at 08:00 and 16:00). Hourly mass balance: algal
                      photosynthesis (solar x an algal biomass that blooms and crashes over days),
                      respiration growing with temperature, fish and the last meals, reaeration by
                      wind and the aerator towards saturation at the water's temperature; 0.15 mg/L
                      sensor noise. No hour column
  h27_storks.npz      600 bursts (N, 50, 3) float32 of GPS-accelerometer tags on white storks, 5 s at
                      10 Hz, in g: surge (x), sway (y) and heave (z), and the behaviour (y 0-4, 120
                      each): 0 resting (standing, still), 1 walking (steps near 1.7 Hz), 2 foraging
                      (head-down posture, irregular jabs of the bill), 3 flapping flight (wingbeats
                      near 2.9 Hz, large in heave), 4 soaring (gliding in a thermal: banked, slow
                      swings, gusts). Each tag sits a little tilted on its bird (a fixed rotation of
                      up to 8 degrees) and has its own gain and noise
  h27_plankton.npz    720 images (N, 1, 20, 20) uint8 from an imaging flow cytometer (dark field,
                      objects bright), 120 per class: 0 diatom chain (2-5 round cells in a row),
                      1 copepod (an oval body with two long thin antennae and a tail), 2 dinoflagellate
                      (a round cell with a dark girdle groove and a bright spot), 3 ciliate (the
                      copepod's oval, with a fringe of fine cilia), 4 radiolarian (the
                      dinoflagellate's disc, with thin radial spines), 5 detritus (a granular clump of
                      small specks). Each at a random orientation, position (+-2 px) and size
                      (+-20 %), with shot noise and an uneven background; orientation means nothing,
                      and the coarse shapes come in pairs: fine structure one pixel wide (antennae,
                      spines, cilia, the groove, the specks) tells the classes apart
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h27_marathon.csv", "h27_meteorites.csv", "h27_pond.csv", "h27_storks.npz", "h27_plankton.npz"]


def marathon() -> None:
    """Finish times of city-marathon runners."""
    rng = np.random.default_rng(2701)
    n = 1400
    races = np.array(["berlin", "boston", "chicago", "valencia", "athens", "reykjavik"])
    gain = np.array([70, 250, 40, 30, 420, 60])
    t_mean = np.array([13.0, 16.0, 18.0, 14.0, 22.0, 9.0])
    race = rng.integers(0, 6, n)
    temp = t_mean[race] + rng.normal(0, 4.0, n)
    hum = np.clip(rng.normal(60, 15, n), 20, 100)
    male = rng.random(n) < 0.62
    age = np.clip(rng.normal(40, 11, n), 18, 75).round(0)
    fit = rng.normal(0, 1, n)                                     # latent aerobic fitness
    weekly = np.clip(np.exp(rng.normal(np.log(45) + 0.25 * fit, 0.4, n)), 8, 180)
    longest = np.clip(rng.normal(18 + 0.17 * weekly, 5, n), 8, 42)
    pb10 = (np.where(male, 49.0, 55.0) - 5.0 * fit + 0.22 * np.clip(age - 35, 0, None)
            + rng.normal(0, 2.0, n))
    pb10 = np.clip(pb10, 30, 80)
    prior = np.clip(rng.poisson(np.exp(0.6 + 0.35 * fit + 0.02 * (age - 40))), 0, 40)
    bmi = np.clip(rng.normal(23.2 - 0.6 * fit, 2.3, n), 17, 36)
    shoe_p = np.where(fit > 0.5, 0.55, 0.25)
    u = rng.random(n)
    shoe = np.where(u < shoe_p, 0, np.where(u < shoe_p + 0.1, 2, 1))
    shoes = np.array(["carbon_plate", "standard", "minimal"])
    base = pb10 * (42.195 / 10) ** 1.06                           # Riegel
    # the wall: little long-run training and low volume; a smooth threshold
    wall = 75 * (1 / (1 + np.exp((longest - 27) / 1.5))) * (1 / (1 + np.exp((weekly - 42) / 7.0)))
    first = np.where(prior == 0, 0.06, np.where(prior < 3, 0.02, 0.0))
    t = (base + wall) * (1 + first)
    heat = 0.0012 * np.clip(temp - 12, 0, None) ** 2 * (t / 220) ** 2 * (1 + 0.01 * (hum - 60))
    t = t * (1 + heat)
    t = t * (1 + 0.00011 * gain[race]) * np.where(shoe == 0, 0.975, np.where(shoe == 2, 1.01, 1.0))
    t = t * (1 + 0.012 * np.clip(bmi - 24, 0, None))
    t = t * np.exp(rng.normal(0, 0.035, n))
    wave = np.clip(np.digitize(t * np.exp(rng.normal(0, 0.05, n)), [200, 225, 250, 280, 320]) + 1, 1, 6)
    sex = np.where(male, "M", "F").astype(object)
    odd = rng.random(n) < 0.03
    sex[odd] = [(" " + s) if rng.random() < 0.5 else s.lower() for s in sex[odd]]
    df = pd.DataFrame({
        "sex": sex, "age": age.astype(int), "weekly_km": weekly.round(1), "longest_run_km": longest.round(1),
        "pb_10k_min": pb10.round(2), "prior_marathons": prior, "bmi": bmi.round(1), "race": races[race],
        "elevation_gain_m": gain[race], "temp_c": temp.round(1), "humidity_pct": hum.round(0),
        "shoe": shoes[shoe], "start_wave": wave, "bib": rng.permutation(n) + 1001, "target": t.round(1)})
    df.to_csv(HERE / "h27_marathon.csv", index=False)


def meteorites() -> None:
    """Classified meteorites of a collection: chemistry, physics and the group."""
    rng = np.random.default_rng(2702)
    counts = [300, 280, 200, 160, 140, 120]
    names = np.array(["H", "L", "LL", "CM", "Eucrite", "Iron"])
    y = np.repeat(np.arange(6), counts)
    rng.shuffle(y)
    n = len(y)
    H, L, LL, CM, EU, IR = (y == k for k in range(6))
    fall = rng.random(n) < 0.18
    wgrade = np.where(fall, 0, rng.choice(5, n, p=[0.15, 0.3, 0.3, 0.17, 0.08]))
    fa = np.select([H, L, LL, CM], [rng.normal(18.7, 1.2, n), rng.normal(24.4, 1.2, n),
                                   rng.normal(28.6, 1.5, n), np.abs(rng.normal(12, 14, n))], np.nan)
    fs = np.select([H, L, LL, CM, EU], [rng.normal(16.8, 1.1, n), rng.normal(20.9, 1.1, n),
                                       rng.normal(24.0, 1.4, n), np.abs(rng.normal(6, 5, n)),
                                       rng.normal(52, 6, n)], np.nan)
    metal0 = np.select([H, L, LL, CM, EU, IR], [rng.normal(8.5, 2.2, n), rng.normal(4.5, 1.6, n),
                                               rng.normal(1.8, 0.9, n), rng.normal(0.3, 0.2, n),
                                               rng.normal(0.6, 0.4, n), rng.normal(93, 2.5, n)])
    rust = 1 - 0.16 * wgrade * (~IR)                               # weathering oxidizes the metal
    metal = np.clip(metal0 * rust, 0, 100)
    dens = np.select([H, L, LL, CM, EU, IR], [rng.normal(3.38, 0.12, n), rng.normal(3.32, 0.12, n),
                                             rng.normal(3.22, 0.13, n), rng.normal(2.25, 0.15, n),
                                             rng.normal(2.95, 0.12, n), rng.normal(7.6, 0.2, n)])
    chi = np.log10(np.clip(np.select(
        [H, L, LL, CM, EU, IR],
        [10 ** rng.normal(5.32, 0.10, n), 10 ** rng.normal(4.87, 0.10, n), 10 ** rng.normal(4.15, 0.3, n),
         10 ** rng.normal(4.0, 0.4, n), 10 ** rng.normal(2.9, 0.2, n), 10 ** rng.normal(6.4, 0.15, n)])
        * np.where(IR, 1.0, rust), 10, None))
    ptype = np.select([H | L | LL, CM], [rng.choice([3, 4, 5, 6], n, p=[0.08, 0.27, 0.35, 0.3]), 2], 0)
    ptype = np.where(ptype == 0, np.nan, ptype)
    # lower petrologic types are less equilibrated: a wider fayalite spread
    fa = np.where((H | L | LL) & (ptype == 3), fa + rng.normal(0, 4, n), fa)
    mass = np.exp(rng.normal(np.log(300), 1.8, n)).round(1)
    label = names[y].astype(object)
    odd = rng.random(n) < 0.11
    variants = {"H": ["h", " H", "H "], "L": ["l", " L", "L "], "LL": ["ll", "Ll", " LL"],
                "CM": ["cm", "Cm", "CM "], "Eucrite": ["eucrite", "EUCRITE", "Eucrite "], "Iron": ["iron", "IRON", " Iron"]}
    label[odd] = [variants[s][rng.integers(0, 3)] for s in label[odd]]
    wtext = np.array(["W0", "W1", "W2", "W3", "W4"])[wgrade].astype(object)
    wtext[fall] = ""
    df = pd.DataFrame({
        "fa_mol": np.round(fa, 1), "fs_mol": np.round(fs, 1), "metal_wt_pct": metal.round(2),
        "density_g_cc": dens.round(2), "log_chi": chi.round(2), "weathering": wtext,
        "find_or_fall": np.where(fall, "Fell", "Find"), "mass_g": mass, "petrologic_type": ptype,
        "target": label})
    df.to_csv(HERE / "h27_meteorites.csv", index=False)


def pond() -> None:
    """Hourly dissolved oxygen of a catfish pond, with its weather, aerator and feeding."""
    rng = np.random.default_rng(2703)
    days = 120
    hours = days * 24
    ts = pd.date_range("2024-06-06 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod = t % 24
    doy = 158 + t / 24
    # weather: daily cloudiness, air temperature drifting over the summer
    cloud = np.repeat(np.clip(rng.beta(1.4, 2.2, days), 0, 1), 24)
    daylen = 14.5 - 3.0 * (doy - 172).clip(0) / 100
    sun_arg = np.pi * (hod - (12 - daylen / 2)) / daylen
    solar = np.where((sun_arg > 0) & (sun_arg < np.pi), 950 * np.sin(sun_arg), 0.0) * (1 - 0.75 * cloud)
    solar = np.clip(solar + rng.normal(0, 15, hours) * (solar > 0), 0, None)
    air = 27 - 8 * ((doy - 195) / 80) ** 2 + 4 * np.sin(2 * np.pi * (hod - 9) / 24) + np.repeat(rng.normal(0, 1.5, days), 24)
    wind = np.clip(rng.gamma(2.0, 1.3, hours) * (1 + 0.5 * np.sin(2 * np.pi * (hod - 10) / 24)), 0, 15)
    # algal biomass: logistic growth with crashes every 2-4 weeks
    algae = np.zeros(days)
    a = 0.6
    crash_at = int(rng.integers(12, 28))
    for d in range(days):
        if d == crash_at:
            a *= rng.uniform(0.15, 0.35)
            crash_at = d + int(rng.integers(14, 30))
        a = a + 0.18 * a * (1 - a / 1.3) * (1 - 0.5 * cloud[d * 24])
        algae[d] = a
    algae_h = np.interp(t / 24, np.arange(days), algae)
    feed = np.where((hod == 8) | (hod == 16), np.clip(rng.normal(9 + 0.05 * t / 24, 1.0, hours), 4, None), 0.0)
    feed = np.where(rng.random(hours) < 0.05, 0.0, feed).round(1)
    temp = np.zeros(hours)
    do = np.zeros(hours)
    aer = np.zeros(hours, int)
    w_t, x, on = 26.0, 7.0, 0
    meal = 0.0
    for i in range(hours):
        w_t = w_t + 0.12 * (air[i] - w_t) + 0.001 * solar[i]
        temp[i] = w_t
        sat = 14.6 - 0.39 * w_t + 0.007 * w_t ** 2 - 0.00006 * w_t ** 3
        if x < 3.5:
            on = 1
        elif x > 5.5:
            on = 0
        sched = 1 if (2 <= hod[i] < 5 and w_t > 29) else 0
        aer[i] = max(on, sched)
        meal = 0.7 * meal + feed[i]
        photo = 0.0032 * solar[i] * algae_h[i] * (1.0 if w_t < 33 else 0.8)
        resp = (0.28 + 0.35 * algae_h[i]) * 1.07 ** (w_t - 25) + 0.025 * meal
        k = 0.02 + 0.012 * wind[i] ** 1.3 + 0.22 * aer[i]
        x = max(0.2, x + photo - resp + k * (sat - x))
        do[i] = x
    do_obs = np.round(do + rng.normal(0, 0.15, hours), 2)
    do_obs[rng.choice(hours, 12, replace=False)] = np.nan
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "do_mg_l": do_obs,
                  "water_temp_c": (temp + rng.normal(0, 0.1, hours)).round(2), "solar_wm2": solar.round(0),
                  "wind_ms": wind.round(1), "aerator": aer, "feed_kg": feed}).to_csv(HERE / "h27_pond.csv", index=False)


def _rot(rng, deg):
    a, b, c = np.deg2rad(rng.uniform(-deg, deg, 3))
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def storks() -> None:
    """Tri-axial acceleration bursts of tagged white storks and the behaviour."""
    rng = np.random.default_rng(2704)
    n, T, hz = 600, 50, 10.0
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    t = np.arange(T) / hz
    x = np.zeros((n, T, 3), np.float32)
    for i, k in enumerate(labels):
        ph = rng.uniform(0, 2 * np.pi, 6)
        if k == 0:      # resting: standing, nearly still, the odd preen
            pitch = rng.normal(0.12, 0.06)
            static = np.array([np.sin(pitch), rng.normal(0, 0.05), np.cos(pitch)])
            dyn = rng.normal(0, 0.015, (T, 3))
            if rng.random() < 0.3:
                s = int(rng.integers(0, T - 8))
                dyn[s:s + 8] += rng.normal(0, 0.08, (8, 3))
        elif k == 1:    # walking: steps near 1.7 Hz, a bob in heave and surge
            pitch = rng.normal(0.2, 0.07)
            static = np.array([np.sin(pitch), rng.normal(0, 0.05), np.cos(pitch)])
            f = rng.uniform(1.4, 2.0)
            amp = rng.uniform(0.08, 0.16)
            dyn = np.stack([0.7 * amp * np.sin(2 * np.pi * f * t + ph[0]),
                            0.5 * amp * np.sin(np.pi * f * t + ph[1]),
                            amp * np.sin(2 * np.pi * f * t + ph[2])], 1) + rng.normal(0, 0.03, (T, 3))
        elif k == 2:    # foraging: head down, irregular jabs
            pitch = rng.normal(0.32, 0.1)
            static = np.array([np.sin(pitch), rng.normal(0, 0.05), np.cos(pitch)])
            dyn = rng.normal(0, 0.03, (T, 3))
            for s in rng.choice(T - 3, int(rng.integers(2, 6)), replace=False):
                dyn[s:s + 3, 0] += rng.uniform(0.2, 0.5) * np.array([1.0, -0.6, 0.2])
                dyn[s:s + 3, 2] += rng.uniform(0.1, 0.3) * np.array([-0.5, 1.0, -0.3])
            if rng.random() < 0.5:   # a few steps between jabs
                f = rng.uniform(1.4, 2.0)
                dyn[:, 2] += rng.uniform(0.03, 0.08) * np.sin(2 * np.pi * f * t + ph[3])
        elif k == 3:    # flapping flight: wingbeats near 2.9 Hz
            pitch = rng.normal(0.05, 0.07)
            static = np.array([np.sin(pitch), rng.normal(0, 0.08), np.cos(pitch)])
            f = rng.uniform(2.5, 3.3)
            amp = rng.uniform(0.35, 0.8)
            dyn = np.stack([0.35 * amp * np.sin(2 * np.pi * f * t + ph[0] + 0.8),
                            0.1 * amp * np.sin(2 * np.pi * f * t + ph[1]),
                            amp * np.sin(2 * np.pi * f * t + ph[0])
                            + 0.3 * amp * np.sin(4 * np.pi * f * t + ph[2])], 1) + rng.normal(0, 0.05, (T, 3))
        else:           # soaring in a thermal: banked, slow swings, gusts
            pitch = rng.normal(0.05, 0.07)
            bank = rng.choice([-1, 1]) * rng.uniform(0.1, 0.4)
            static = np.array([np.sin(pitch), np.sin(bank), np.cos(pitch) * np.cos(bank) + 0.1])
            fs = rng.uniform(0.1, 0.3)
            dyn = np.stack([0.03 * np.sin(2 * np.pi * fs * t + ph[0]),
                            0.08 * np.sin(2 * np.pi * fs * t + ph[1]),
                            0.06 * np.sin(2 * np.pi * fs * t + ph[2])], 1)
            dyn += np.cumsum(rng.normal(0, 0.01, (T, 3)), 0) + rng.normal(0, 0.02, (T, 3))
        sig = static[None, :] + dyn
        sig = sig @ _rot(rng, 8).T                                  # the tag's tilt on the bird
        sig = sig * rng.uniform(0.93, 1.07) + rng.normal(0, 0.01, (T, 3))
        x[i] = np.round(sig, 4)
    _savez(HERE / "h27_storks.npz", x=x, y=labels.astype(np.int64))


def plankton() -> None:
    """Dark-field images of plankton from an imaging flow cytometer."""
    rng = np.random.default_rng(2705)
    n, S = 720, 20
    labels = np.repeat(np.arange(6), n // 6)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    imgs = np.zeros((n, 1, S, S), np.uint8)

    def disc(img, cx, cy, r, v, soft=0.6):
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        img += v / (1 + np.exp((d - r) / soft))

    def line(img, x0, y0, x1, y1, v, w=0.45):
        px, py = xx - x0, yy - y0
        dx, dy = x1 - x0, y1 - y0
        L2 = dx * dx + dy * dy + 1e-9
        u = np.clip((px * dx + py * dy) / L2, 0, 1)
        d = np.sqrt((px - u * dx) ** 2 + (py - u * dy) ** 2)
        img += v * np.exp(-0.5 * (d / w) ** 2)

    for i, k in enumerate(labels):
        img = np.zeros((S, S))
        cx, cy = 9.5 + rng.uniform(-2, 2, 2)
        th = rng.uniform(0, 2 * np.pi)
        c, s = np.cos(th), np.sin(th)
        v = rng.uniform(0.7, 1.0)
        sc = rng.uniform(0.8, 1.2)
        if k == 0:      # diatom chain
            m = int(rng.integers(2, 6))
            r = 1.5 * sc
            for j in range(m):
                o = (j - (m - 1) / 2) * 2 * r * 1.05
                disc(img, cx + o * c, cy + o * s, r, v)
        elif k == 1:    # copepod: oval body, two long thin antennae, a tail
            a_, b_ = 4.0 * sc, 2.8 * sc
            px, py = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
            d = np.sqrt((px / a_) ** 2 + (py / b_) ** 2)
            img += v * 0.85 / (1 + np.exp((d - 1) / 0.12))
            hx, hy = cx + 3.6 * sc * c, cy + 3.6 * sc * s
            for side in (-1, 1):
                a = th + side * rng.uniform(1.1, 1.5)
                line(img, hx, hy, hx + 6 * sc * np.cos(a), hy + 6 * sc * np.sin(a), v * 0.45, w=0.3)
            line(img, cx - 3.6 * sc * c, cy - 3.6 * sc * s, cx - 6 * sc * c, cy - 6 * sc * s, v * 0.45, w=0.35)
        elif k == 2:    # dinoflagellate: round cell, dark girdle groove, bright spot
            disc(img, cx, cy, 3.4 * sc, v)
            line(img, cx - 4.5 * sc * c, cy - 4.5 * sc * s, cx + 4.5 * sc * c, cy + 4.5 * sc * s, -0.6 * v, w=0.4)
            disc(img, cx + 1.8 * sc * -s, cy + 1.8 * sc * c, 0.9, 0.5 * v)
        elif k == 3:    # ciliate: oval with a fringe of cilia
            a_, b_ = 4.0 * sc, 2.8 * sc
            px, py = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
            d = np.sqrt((px / a_) ** 2 + (py / b_) ** 2)
            img += v * 0.85 / (1 + np.exp((d - 1) / 0.12))
            for phi in np.linspace(0, 2 * np.pi, 16, endpoint=False):
                ex, ey = a_ * np.cos(phi), b_ * np.sin(phi)
                gx, gy = cx + ex * c - ey * s, cy + ex * s + ey * c
                line(img, gx, gy, gx + 1.6 * (gx - cx) / np.hypot(gx - cx, gy - cy),
                     gy + 1.6 * (gy - cy) / np.hypot(gx - cx, gy - cy), v * 0.4, w=0.3)
        elif k == 4:    # radiolarian: disc with thin radial spines
            r = 3.4 * sc
            disc(img, cx, cy, r, v)
            m = int(rng.integers(8, 13))
            for phi in th + np.linspace(0, 2 * np.pi, m, endpoint=False):
                line(img, cx + r * np.cos(phi), cy + r * np.sin(phi), cx + 7 * sc * np.cos(phi),
                     cy + 7 * sc * np.sin(phi), v * 0.4, w=0.3)
        else:           # detritus: a granular clump of small specks
            for _ in range(int(rng.integers(14, 24))):
                r0, a0 = 3.4 * sc * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
                disc(img, cx + r0 * np.cos(a0), cy + r0 * np.sin(a0), rng.uniform(0.5, 0.9),
                     v * rng.uniform(0.5, 0.9), soft=0.3)
        bg = 0.06 + 0.04 * rng.random() + 0.02 * ((xx - 10) * rng.normal() + (yy - 10) * rng.normal()) / 10
        img = np.clip(img, 0, None) + bg
        img = img + rng.normal(0, 0.06, (S, S)) + rng.normal(0, 0.04, (S, S)) * np.sqrt(np.clip(img, 0, None))
        imgs[i, 0] = np.clip(np.round(img * 200), 0, 255).astype(np.uint8)
    _savez(HERE / "h27_plankton.npz", x=imgs, y=labels.astype(np.int64))


def heldout27() -> None:
    HERE.mkdir(exist_ok=True)
    marathon()
    meteorites()
    pond()
    storks()
    plankton()


if __name__ == "__main__":
    heldout27()
    print_sizes(HERE, FILES)
