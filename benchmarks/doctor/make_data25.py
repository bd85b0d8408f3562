#!/usr/bin/env python
"""Write the data files of the twenty-fifth held-out set (heldout25.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2501-2505, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data25.py

  h25_fires.csv       1300 observed wildfire runs and their rate of spread (the target, regression,
                      m/min, 0-125, mean 10, median 4.8, 0 on 2 % of the rows: a fire that did not
                      carry). fuel text (grass, grass_shrub, shrub, timber_litter, slash; 44 typed
                      by hand as ' Grass' or 'SHRUB'), wind_kmh 0-51 (calm on 10 %), slope_pct 0-80
                      (flat on 31 %), temp_c (33 empty), rh_pct, rain_mm_48h (dry on 71 %),
                      fuel_moisture_pct (dead fine fuel, 2-22 %), fuel_load_t_ha, aspect (N, E, S,
                      W; it only moves the fuel moisture), crew (crew_01..crew_12, no effect). A
                      Rothermel-like rate: a base rate per fuel times a wind factor (strongest in
                      open grass), a slope factor and a moisture damping that reaches zero at the
                      fuel's moisture of extinction, times the load's effect and 18 % lognormal
                      noise. Not sampled: fuel_moisture_pct -99 on 104 rows and rh_pct -99 on 45
                      (the agency's code for 'not measured')
  h25_sleep.csv       1100 overnight sleep studies (polysomnography) and the diagnosis (the target):
                      normal 329, obstructive_apnea 299, insomnia 217, plmd 154, narcolepsy 101.
                      age, sex, bmi, neck_cm (53 empty), ahi and odi (apnea-hypopnea and
                      desaturation indices, per hour), min_spo2, snoring (none, mild, loud),
                      sleep_latency_min, rem_latency_min (56 empty: no REM sleep reached, mostly in
                      insomnia), total_sleep_min, sleep_efficiency_pct, waso_min, arousal_index,
                      plm_index (leg movements per hour), ess (Epworth sleepiness, 0-24),
                      caffeine_cups, lab (north, south, east; the south lab scores hypopneas by the
                      4 % rule, so its AHI reads 30 % lower). Apnea: a high AHI, low SpO2, older,
                      heavier, a thick neck, loud snoring; insomnia: a long sleep latency, a low
                      efficiency, much wake after sleep onset; PLMD: many leg movements and
                      arousals; narcolepsy: young, very sleepy, REM within 15 minutes in 70 %;
                      3 % of the labels wrong
  h25_charging.csv    2400 hours (100 days from Monday 2024-03-04) of a workplace charging hub for
                      electric cars and a delivery fleet, as its meter exports them: timestamp,
                      load_kw (the series to forecast, 0-388 kW, 10 meter gaps empty), temp_c (6
                      empty), price_ct (a dynamic tariff: a daily level that wanders, 9 ct cheaper
                      from 22:00 to 06:00, 5 ct dearer from 17:00 to 20:00) and workday (0/1:
                      weekends and six public holidays are 0). No hour or weekday column: the
                      time of day is only in the window's history (the load's and the price's
                      daily shape). About 45 cars arrive around 08:00 on a workday (a quarter fewer
                      on Fridays, 35 % more by the end of the 100 days, a small day-to-day 'busy'
                      factor; a few at random on days off), each charging at 7.4 or 11 kW until its
                      need (more in the cold) is met; the vans charge from midnight for six hours
                      on the cheap tariff, eight of them before a workday and two before a day off
  h25_radar.npz       600 weather-radar patches (N, 2, 16, 16) uint8 and the kind of echo (y 0-4, 120
                      each): channel 0 reflectivity (-10..70 dBZ over 0-255), channel 1 radial
                      velocity (-32..32 m/s over 0-255, 128 = still air). 0 stratiform (broad,
                      smooth, 18-32 dBZ), 1 convective cell (a small core of 44-54 dBZ), 2 squall
                      line (a line of 42-52 dBZ with an outflow: the velocity shifts across it), 3
                      hail (a very small core of 59-67 dBZ), 4 mesocyclone (a cell like 1 whose
                      velocity holds a couplet, inbound beside outbound: only the velocity tells it
                      from 1). The environmental wind sets a uniform velocity with a gentle
                      gradient; where there is no echo the velocity is half noise; 3 % of the
                      pixels are ground clutter (bright, zero velocity)
  h25_mains.npz       500 recordings (N, 40, 4) float32 of a substation's power-quality monitor, one
                      row per mains cycle (0.8 s at 50 Hz): the RMS voltage of the three phases in
                      per unit (around 1, each phase's own level, a slow drift, noise, and a small
                      step when a load switches on in 30 %) and the voltage THD in %; and the event
                      (y 0-4, 100 each): 0 normal, 1 sag (one phase or all three fall by 12-50 %
                      for 3-12 cycles), 2 swell (one or two phases rise by 10-25 %), 3 interruption
                      (a recloser opens: every phase near 0; the THD has no fundamental and the
                      meter writes nothing: NaN, 697 readings in the 100 interruptions; trainwell
                      fills them with the training mean), 4 flicker (an arc furnace's burst of
                      1.5-4 % modulation over 14-23 cycles, the THD up). A sag, swell or
                      interruption starts anywhere from cycle 3 to 27 and lasts 3-12 cycles; a
                      flicker burst starts anywhere from cycle 0 to 17
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h25_fires.csv", "h25_sleep.csv", "h25_charging.csv", "h25_radar.npz", "h25_mains.npz"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def fires() -> None:
    """Observed spread rates of grass, shrub and forest fires, and the weather and fuel at the time."""
    rng = np.random.default_rng(2501)
    n = 1300
    fuels = np.array(["grass", "grass_shrub", "shrub", "timber_litter", "slash"])
    fu = rng.choice(5, n, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    wind = np.where(rng.random(n) < 0.09, 0.0, np.clip(rng.gamma(3.0, 4.5, n), 1, 55)).round(0)
    slope = np.where(rng.random(n) < 0.3, 0.0, np.clip(rng.gamma(1.5, 10, n), 1, 80)).round(0)
    temp = rng.normal(25, 6, n)
    rh = np.clip(rng.normal(35 - 1.2 * (temp - 25), 11, n), 6, 95)
    rain = np.where(rng.random(n) < 0.7, 0.0, np.clip(rng.gamma(1.2, 4.0, n), 0.2, 40)).round(1)
    aspect = rng.choice(4, n)                                          # N, E, S, W
    fmc = (2.5 + 0.16 * rh - 0.06 * (temp - 25) + 1.1 * rain ** 0.7 + np.array([1.0, 0.3, -0.8, -0.5])[aspect]
           + rng.normal(0, 1.0, n))
    fmc = np.clip(fmc, 2, 35)
    load = np.exp(rng.normal(np.log(np.array([3.5, 8, 18, 12, 40]))[fu], 0.3))
    crew = rng.integers(1, 13, n)
    # Rothermel-like: a base rate per fuel, a wind factor (strongest in open grass), a slope factor,
    # moisture damping up to the fuel's moisture of extinction (a fire that does not carry: 0)
    base = np.array([7.0, 4.5, 2.6, 0.7, 1.3])[fu]
    cw = np.array([2.6, 2.0, 1.5, 0.7, 1.0])[fu]
    wind_f = 1 + cw * (wind / 10) ** 1.4
    slope_f = 1 + 5.3 * (slope / 100) ** 2
    mx = np.array([15.0, 20.0, 25.0, 30.0, 28.0])[fu]
    r = np.clip(fmc / mx, 0, 1)
    eta = np.clip(1 - 2.59 * r + 5.11 * r ** 2 - 3.52 * r ** 3, 0, 1)
    load_f = (load / np.array([3.5, 8, 18, 12, 40])[fu]) ** 0.3
    ros = base * wind_f * slope_f * eta * load_f * np.exp(rng.normal(0, 0.18, n))
    ros = np.where(eta <= 0.02, 0.0, ros).round(2)
    fmc_obs = fmc.round(1)
    fmc_obs[rng.random(n) < 0.08] = -99                                # fuel not sampled: the agency's -99
    rh_obs = rh.round(0)
    rh_obs[rng.random(n) < 0.03] = -99
    temp_obs = temp.round(1)
    temp_obs[rng.random(n) < 0.02] = np.nan
    fuel_text = fuels[fu].astype(object)
    odd = rng.random(n) < 0.04                                          # typed by hand: ' Grass', 'SHRUB'
    fuel_text[odd] = [(" " + f.capitalize()) if rng.random() < 0.5 else f.upper() for f in fuel_text[odd]]
    df = pd.DataFrame({
        "fuel": fuel_text, "wind_kmh": wind, "slope_pct": slope, "temp_c": temp_obs, "rh_pct": rh_obs,
        "rain_mm_48h": rain, "fuel_moisture_pct": fmc_obs, "fuel_load_t_ha": load.round(1),
        "aspect": np.array(["N", "E", "S", "W"])[aspect], "crew": [f"crew_{c:02d}" for c in crew],
        "target": ros})
    df.to_csv(HERE / "h25_fires.csv", index=False)


def sleep() -> None:
    """Overnight sleep studies and the diagnosis."""
    rng = np.random.default_rng(2502)
    counts = [330, 300, 220, 150, 100]
    y = np.repeat(np.arange(5), counts)
    rng.shuffle(y)
    n = len(y)
    N, A, I, P, K = (y == k for k in range(5))           # normal, apnea, insomnia, plmd, narcolepsy
    age = np.clip(rng.normal(np.select([A, K, I], [56, 31, 47], 45), 12, n), 18, 85).round(0)
    male = rng.random(n) < np.select([A, K], [0.68, 0.5], 0.45)
    bmi = np.clip(rng.normal(np.select([A], [33.0], 26.5), 4.5, n), 17, 55)
    neck = np.clip(np.where(male, 39.5, 34.5) + 0.45 * (bmi - 27) + np.where(A, 1.2, 0) + rng.normal(0, 1.6, n), 28, 52)
    ahi = np.where(A, np.exp(rng.normal(np.log(26), 0.6, n)), np.exp(rng.normal(np.log(2.2), 0.7, n)))
    lab = rng.choice(3, n, p=[0.45, 0.3, 0.25])                  # north, south, east
    ahi = ahi * np.where(lab == 1, 0.7, 1.0)                      # south scores hypopneas with the 4 % rule
    odi = ahi * rng.uniform(0.6, 1.0, n)
    spo2 = np.clip(94.5 - 4.0 * np.log1p(odi) + rng.normal(0, 2.0, n), 60, 99)
    lat = np.exp(rng.normal(np.select([I, K], [np.log(48), np.log(4)], np.log(14)), 0.55, n))
    soremp = K & (rng.random(n) < 0.7)
    rem_lat = np.where(soremp, rng.uniform(1, 14, n), rng.normal(np.select([I], [115], 90), 28, n).clip(20, 250))
    waso = np.exp(rng.normal(np.log(np.select([I, P, A, K], [95, 70, 62, 55], 35)), 0.4, n))
    tib = rng.normal(470, 25, n)
    tst = np.clip(tib - lat - waso, 120, 520)
    eff = 100 * tst / tib
    arousal = np.clip(np.select([A, P], [8 + 0.75 * ahi, 26.0], 12.0) + rng.normal(0, 4.5, n), 2, 90)
    plm = np.where(P, rng.gamma(5, 7, n), rng.gamma(1.0, 3.5, n) * np.where(K, 2.0, 1.0))
    ess = np.clip(np.round(rng.normal(np.select([K, A, P, I], [17, 11, 9, 5], 6.5), 3.2, n)), 0, 24)
    snoring = np.where(A, rng.choice(3, n, p=[0.08, 0.25, 0.67]), rng.choice(3, n, p=[0.45, 0.4, 0.15]))
    caffeine = rng.poisson(np.where(I, 3.2, 1.8))
    wrong = rng.random(n) < 0.03
    y = np.where(wrong, rng.choice(5, n), y)
    rem_lat = rem_lat.round(1)
    no_rem = rng.random(n) < np.where(I, 0.14, 0.03)               # no REM reached: no latency
    rem_lat[no_rem] = np.nan
    neck = neck.round(1)
    neck[rng.random(n) < 0.05] = np.nan
    names = np.array(["normal", "obstructive_apnea", "insomnia", "plmd", "narcolepsy"])
    df = pd.DataFrame({
        "age": age.astype(int), "sex": np.where(male, "M", "F"), "bmi": bmi.round(1), "neck_cm": neck,
        "ahi": ahi.round(1), "odi": odi.round(1), "min_spo2": spo2.round(0), "snoring": np.array(["none", "mild", "loud"])[snoring],
        "sleep_latency_min": lat.round(1), "rem_latency_min": rem_lat, "total_sleep_min": tst.round(0),
        "sleep_efficiency_pct": eff.round(1), "waso_min": waso.round(0), "arousal_index": arousal.round(1),
        "plm_index": plm.round(1), "ess": ess.astype(int), "caffeine_cups": caffeine,
        "lab": np.array(["north", "south", "east"])[lab], "target": names[y]})
    df.to_csv(HERE / "h25_sleep.csv", index=False)


def charging() -> None:
    """Hourly load of a workplace charging hub for electric cars and a delivery fleet."""
    rng = np.random.default_rng(2503)
    days = 100
    hours = days * 24
    ts = pd.date_range("2024-03-04 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod = t % 24
    day = t // 24
    holiday_days = {25, 28, 58, 66, 77, 87}   # Good Friday, Easter Monday, May Day, Ascension, Whit Monday, Corpus Christi
    holiday_d = np.array([d in holiday_days for d in range(days)])
    workday_d = (np.arange(days) % 7 < 5) & ~holiday_d
    # weather: a warming spring, fronts, a daily cycle
    front = np.zeros(days)
    for k in range(1, days):
        front[k] = 0.8 * front[k - 1] + rng.normal(0, 2.0)
    temp = (4 + 12 * day / days + front[day] + 5 * np.sin(2 * np.pi * (hod - 9) / 24) + rng.normal(0, 0.6, hours))
    # a dynamic tariff: a daily level and an hourly shape (cheap at night)
    level = 28 + np.cumsum(rng.normal(0, 0.8, days))
    price = level[day] + np.where((hod < 6) | (hod >= 22), -9.0, 0.0) + np.where((hod >= 17) & (hod < 20), 5.0, 0.0) \
        + rng.normal(0, 1.0, hours)
    load = np.zeros(hours + 48)
    busy = 0.0
    for d in range(days):
        busy = 0.6 * busy + rng.normal(0, 0.06)
        growth = 1.0 + 0.35 * d / days                   # more electric cars every week
        lam = (45 if workday_d[d] else 4) * growth * np.exp(busy) * (0.75 if d % 7 == 4 else 1.0)
        for _ in range(rng.poisson(lam)):
            arrive = d * 24 + (rng.normal(8.2, 0.9) if workday_d[d] else rng.uniform(9, 17))
            day_temp = temp[min(int(arrive), hours - 1)]
            need = rng.gamma(4.0, 3.6) * (1 + 0.025 * max(0.0, 12 - day_temp))   # kWh; more in the cold
            power = 11.0 if rng.random() < 0.7 else 7.4
            end = arrive + need / power
            h0 = int(np.floor(arrive))
            for h in range(h0, int(np.ceil(end)) + 1):
                overlap = max(0.0, min(h + 1, end) - max(h, arrive))
                load[h] += power * overlap
        # the delivery vans charge overnight on the cheap tariff, for the next day's rounds
        next_work = workday_d[d + 1] if d + 1 < days else True
        vans = 8 if next_work else 2
        energy = sum(rng.gamma(6, 5.0) for _ in range(vans)) * (1 + 0.02 * max(0.0, 10 - temp[d * 24]))
        start = d * 24 + 24 if d + 1 < days else None
        if start is not None:
            per_h = min(energy / 5, vans * 11.0)
            hours_needed = energy / per_h
            for h in range(6):
                load[start + h] += per_h * float(np.clip(hours_needed - h, 0, 1))
    load = load[:hours] + rng.normal(0, 1.2, hours)
    load = np.clip(load, 0, None).round(1)
    load[rng.choice(hours, 10, replace=False)] = np.nan                 # meter gaps
    temp_obs = temp.round(1)
    temp_obs[rng.choice(hours, 6, replace=False)] = np.nan
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "load_kw": load, "temp_c": temp_obs,
                  "price_ct": price.round(2), "workday": workday_d[day].astype(int)}
                 ).to_csv(HERE / "h25_charging.csv", index=False)


def radar() -> None:
    """Weather-radar patches (reflectivity and radial velocity) and the kind of echo."""
    rng = np.random.default_rng(2504)
    n, S = 600, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 2, S, S), np.uint8)
    for i, k in enumerate(labels):
        # environmental wind: a uniform radial velocity with a gentle gradient, m/s
        v_env = rng.uniform(-10, 10) + rng.uniform(-0.4, 0.4) * (xx - 7.5) + rng.uniform(-0.4, 0.4) * (yy - 7.5)
        cx, cy = rng.uniform(4, 12, 2)
        dbz = np.full((S, S), -5.0)
        vel = v_env.copy()
        if k == 0:                                                   # stratiform: broad, smooth, weak
            ang = rng.uniform(0, np.pi)
            u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
            dbz = 18 + rng.uniform(6, 14) * np.exp(-0.5 * (u / rng.uniform(4, 8)) ** 2) + 3 * rng.standard_normal((S, S))
        else:
            dbz = 12 * np.exp(-0.5 * (((xx - cx) ** 2 + (yy - cy) ** 2) / 4.5 ** 2)) + rng.normal(0, 1.5, (S, S)) - 3
            if k == 1 or k == 4:                                     # a convective cell (k 4: rotating)
                r = rng.uniform(1.6, 2.6)
                dbz = np.maximum(dbz, rng.uniform(44, 54) * np.exp(-0.5 * (((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2)))
            elif k == 2:                                             # a squall line across the patch
                ang = rng.uniform(0, np.pi)
                v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
                along = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
                line = rng.uniform(42, 52) * np.exp(-0.5 * (v / 1.1) ** 2) * (0.8 + 0.2 * np.cos(along * rng.uniform(0.6, 1.2)))
                dbz = np.maximum(dbz, line)
                vel = vel + rng.uniform(4, 9) * np.tanh(v / 1.5)        # outflow: a shift across the line
            elif k == 3:                                             # hail: a small, very intense core
                r = rng.uniform(1.2, 1.9)
                dbz = np.maximum(dbz, rng.uniform(59, 67) * np.exp(-0.5 * (((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2)))
            if k == 4:                                               # mesocyclone: a velocity couplet
                ang = rng.uniform(0, 2 * np.pi)
                ox, oy = np.cos(ang), np.sin(ang)
                d = 1.6
                amp = rng.uniform(12, 22) * rng.choice([-1, 1])
                g1 = np.exp(-0.5 * (((xx - cx - d * ox) ** 2 + (yy - cy - d * oy) ** 2) / 1.3 ** 2))
                g2 = np.exp(-0.5 * (((xx - cx + d * ox) ** 2 + (yy - cy + d * oy) ** 2) / 1.3 ** 2))
                vel = vel + amp * (g1 - g2)
        weak = dbz < 8                                               # no echo: the velocity is noise
        vel = vel + rng.normal(0, 1.5, (S, S))
        vel = np.where(weak, rng.uniform(-30, 30, (S, S)) * 0.5 + vel * 0.5, vel)
        clutter = rng.random((S, S)) < 0.03                          # ground clutter: bright, zero velocity
        dbz = np.where(clutter, rng.uniform(30, 55, (S, S)), dbz)
        vel = np.where(clutter, rng.normal(0, 0.5, (S, S)), vel)
        x[i, 0] = np.clip(np.round((dbz + 10) * 255 / 80), 0, 255).astype(np.uint8)      # -10..70 dBZ
        x[i, 1] = np.clip(np.round(128 + vel * 127 / 32), 0, 255).astype(np.uint8)        # -32..32 m/s
    _savez(HERE / "h25_radar.npz", x=x, y=labels.astype(np.int64))


def mains() -> None:
    """Cycle-by-cycle recordings of a substation's power-quality monitor and the event in each."""
    rng = np.random.default_rng(2505)
    n, T = 500, 40
    labels = np.repeat(np.arange(5), n // 5)            # normal, sag, swell, interruption, flicker
    rng.shuffle(labels)
    x = np.zeros((n, T, 4), np.float32)
    t = np.arange(T)
    for i, k in enumerate(labels):
        base = rng.uniform(0.97, 1.03, 3)                                   # each phase's level
        drift = np.cumsum(rng.normal(0, 0.002, (T, 3)), axis=0)
        rms = base + drift + rng.normal(0, 0.004, (T, 3))
        thd = rng.uniform(1.5, 4.0) + np.cumsum(rng.normal(0, 0.05, T)) + rng.normal(0, 0.15, T)
        if rng.random() < 0.3:                                              # a load switching on: a small step
            s = int(rng.integers(2, T - 2))
            rms[s:] -= rng.uniform(0.01, 0.03)
        start = int(rng.integers(3, 28))
        dur = int(rng.integers(3, 13))
        end = min(T, start + dur)
        env = np.zeros(T)
        env[start:end] = 1.0
        env = np.convolve(env, [0.25, 0.5, 0.25], mode="same")               # a cycle of ramp in and out
        if k == 1:                                                          # sag: one phase or all three
            phases = [int(rng.integers(0, 3))] if rng.random() < 0.6 else [0, 1, 2]
            depth = rng.uniform(0.12, 0.5)
            for p in phases:
                rms[:, p] -= depth * env * rng.uniform(0.85, 1.0)
            thd = thd + 1.5 * env
        elif k == 2:                                                        # swell on one or two phases
            phases = rng.choice(3, int(rng.integers(1, 3)), replace=False)
            for p in phases:
                rms[:, p] += rng.uniform(0.1, 0.25) * env
        elif k == 3:                                                        # interruption: a recloser opens
            rms = rms * (1 - env[:, None] * rng.uniform(0.93, 0.99))
            thd = np.where(env > 0.5, np.nan, thd)                          # no fundamental: the meter reads nothing
        elif k == 4:                                                        # flicker: an arc furnace's burst
            fl_start = int(rng.integers(0, 18))
            fl_end = min(T, fl_start + int(rng.integers(14, 24)))
            m = np.zeros(T)
            m[fl_start:fl_end] = 1.0
            rms = rms + (m * rng.uniform(0.015, 0.04) * np.sin(2 * np.pi * t / rng.uniform(4, 8) + rng.uniform(0, 6.3)))[:, None]
            thd = thd + m * rng.uniform(1.0, 3.0)
        x[i, :, :3] = np.round(rms, 4)
        x[i, :, 3] = np.round(thd, 2)
    _savez(HERE / "h25_mains.npz", x=x, y=labels.astype(np.int64))


def heldout25() -> None:
    HERE.mkdir(exist_ok=True)
    fires()
    sleep()
    charging()
    radar()
    mains()


if __name__ == "__main__":
    heldout25()
    print_sizes(HERE, FILES)
