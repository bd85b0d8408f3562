#!/usr/bin/env python
"""Write the data files of the twenty-fourth held-out set (heldout24.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2401-2405, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data24.py

  h24_frost.csv       1400 frost nights of apple-orchard blocks in bloom, and the share of blossoms
                      the frost killed (the target, regression, 0-100 %, mean 17, zero on 58 % of
                      the nights). variety (gala, fuji, honeycrisp, granny_smith) and stage
                      (tight_cluster, pink, full_bloom, petal_fall) text, min_temp_c (the screen
                      minimum at 1.5 m, -8 to 6), hours_below_0, wind_ms, cloud_okta 0-8,
                      dewpoint_c, fan (a wind machine ran, 0/1, 35 %), sprinkler (overhead frost
                      irrigation ran, 0/1, 20 %), slope_pct, block_age (no effect). The buds'
                      temperature is the screen minimum, colder on clear calm nights (radiation
                      frost), warmer where a fan mixes the inversion down, much warmer under
                      sprinklers (latent heat, 3 C; 0.8 C in wind over 3 m/s), warmer on a slope
                      (cold air drains away), colder in dry air; each stage has its critical
                      temperatures (10 % and 90 % kill), a variety its hardiness, a long frost
                      kills more; 25 % of the blocks lie in a frost pocket (1.5 C colder) that no
                      column records; the kill is scattered by 15 % and 2 points of noise
  h24_vines.csv       1200 vineyard scouting visits and the diagnosis (the target): healthy 446,
                      downy_mildew 247, powdery_mildew 224, botrytis 153, drought_stress 130.
                      variety (chardonnay, pinot_noir, merlot, riesling, cabernet) and stage
                      (pre_bloom, fruit_set, veraison, harvest) text, temp_mean_c, rh_mean_pct,
                      leaf_wetness_h (hours a day, mean over the week), rain_mm_7d,
                      soil_moisture_pct, leaf_air_diff_c (a leaf warmer than the air: closed
                      stomata), oil_spots (downy's yellow spots per leaf), white_coating_pct
                      (powdery's), rot_pct (grey rot on the bunches), days_since_spray,
                      canopy_density 1-5. Each diagnosis shifts a few readings, up or down from
                      healthy (downy: warm and wet; powdery: warm, dry, dense canopy; botrytis:
                      cool, wet, at veraison and harvest; drought: dry soil, a warm leaf,
                      yellowing), with overlap; 3 % of the labels wrong
  h24_heatnet.csv     2160 hours (90 days from Monday 2024-01-15) of a town's district-heating
                      plant: heat_mw (the series to forecast, 30-65 MW), hour 0-23, weekday 0-6,
                      outdoor_c (weather fronts over a daily cycle and a warming season, -12 to 14
                      C), wind_ms, sun (0-1, daytime only). The load follows the outdoor
                      temperature through the buildings' inertia (a 6-hour lag), rises with wind
                      and falls with sun, has a morning peak (showers, 6-8, an hour later at
                      weekends) and a smaller evening one, and the network's own slow drift
                      (AR(1) noise). heat_mw 1..6 hours ahead from a 24-hour window
  h24_grains.npz      600 grayscale camera patches (N, 1, 16, 16) uint8 of single rice kernels from a
                      grain grader, and the grade (y 0-4, 120 each): 0 whole (a long pale ellipse), 1
                      broken (a short piece with one square end), 2 chalky (an opaque white patch in
                      one end of the kernel), 3 spotted (a dark spot near one end: pecky rice), 4
                      paddy (still in its hull: darker, with lengthwise ridges). The kernel lies
                      anywhere in the patch (its centre up to 3.5 px off the patch's), at any angle;
                      the chalky patch and the spot sit near an end, so they often fall in the
                      patch's outer ring. Lighting 0.85-1.15, sensor noise
  h24_drones.npz      500 flight logs (N, 32, 5) float32 of a delivery drone's climb and cruise,
                      16 s sampled at 2 Hz: throttle_pct, battery_v, vibration_g, yaw_rate_dps,
                      altitude_m; and the maintenance finding (y 0-4, 100 each): 0 normal, 1
                      prop_damage (vibration up, rising with throttle), 2 weak_motor (more throttle
                      for the same climb, a yaw drift toward the weak arm), 3 battery_sag (the voltage
                      falls under load, steeper late in the flight, throttle creeping up), 4
                      baro_fault (the altitude reading jumps and drifts while the throttle says
                      steady flight). Payloads of 0.5-2.5 kg. Telemetry dropouts: in 30 % of the
                      logs one or two readings of one channel are missing (NaN, 237 in all;
                      trainwell fills them with the feature's training mean)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h24_frost.csv", "h24_vines.csv", "h24_heatnet.csv", "h24_grains.npz", "h24_drones.npz"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def frost() -> None:
    """Frost nights in an apple orchard in bloom, and the share of blossoms killed."""
    rng = np.random.default_rng(2401)
    n = 1400
    varieties = np.array(["gala", "fuji", "honeycrisp", "granny_smith"])
    stages = np.array(["tight_cluster", "pink", "full_bloom", "petal_fall"])
    va = rng.choice(4, n, p=[0.35, 0.25, 0.2, 0.2])
    st = rng.choice(4, n, p=[0.2, 0.3, 0.3, 0.2])
    tmin = np.clip(rng.normal(-1.2, 2.4, n), -8, 6)
    wind = np.clip(rng.gamma(1.6, 1.1, n), 0, 8)
    cloud = rng.integers(0, 9, n)
    dew = tmin - np.clip(rng.gamma(2.0, 1.8, n), 0.2, 14)
    hours = np.clip(np.round(np.maximum(0, -tmin) * rng.uniform(0.8, 2.2, n) + rng.normal(0, 0.7, n)), 0, 12)
    fan = (rng.random(n) < 0.35).astype(int)
    sprinkler = (rng.random(n) < 0.2).astype(int)
    slope = np.clip(rng.gamma(1.5, 2.5, n), 0, 20)
    age = rng.integers(3, 30, n)
    pocket = rng.random(n) < 0.25                                     # unrecorded frost pockets
    inversion = (1 - cloud / 8) * np.exp(-wind / 1.8)                  # clear and calm: radiation frost
    bud = (tmin - 1.8 * inversion + fan * 1.6 * inversion
           + sprinkler * np.where(wind > 3, 0.8, 3.0)
           + 0.08 * slope - 0.06 * (tmin - dew) - 1.5 * pocket)
    crit10 = np.array([-3.9, -2.8, -2.2, -2.0])[st] + np.array([0.0, 0.2, -0.6, -0.3])[va]
    crit90 = np.array([-7.9, -5.9, -4.7, -4.3])[st] + np.array([0.0, 0.2, -0.6, -0.3])[va]
    mid = (crit10 + crit90) / 2
    k = 2 * np.log(9) / (crit10 - crit90)
    p = _sigmoid(k * (mid - bud) + 0.12 * (hours - 3))
    kill = 100 * p * rng.uniform(0.85, 1.15, n) + rng.normal(0, 2.0, n)
    kill = np.where(p < 0.03, 0.0, kill)
    kill = np.clip(kill, 0, 100)
    df = pd.DataFrame({
        "variety": varieties[va], "stage": stages[st], "min_temp_c": tmin.round(1), "hours_below_0": hours.astype(int),
        "wind_ms": wind.round(1), "cloud_okta": cloud, "dewpoint_c": dew.round(1), "fan": fan,
        "sprinkler": sprinkler, "slope_pct": slope.round(1), "block_age": age, "target": kill.round(1)})
    df.to_csv(HERE / "h24_frost.csv", index=False)


def vines() -> None:
    """Vineyard scouting visits and the diagnosis."""
    rng = np.random.default_rng(2402)
    counts = [450, 250, 220, 150, 130]
    y = np.repeat(np.arange(5), counts)
    rng.shuffle(y)
    n = len(y)
    varieties = np.array(["chardonnay", "pinot_noir", "merlot", "riesling", "cabernet"])
    stages = np.array(["pre_bloom", "fruit_set", "veraison", "harvest"])
    va = rng.choice(5, n, p=[0.25, 0.2, 0.2, 0.15, 0.2])
    st = np.where(y == 3, rng.choice(4, n, p=[0.05, 0.1, 0.45, 0.4]), rng.choice(4, n, p=[0.25, 0.3, 0.25, 0.2]))
    temp = rng.normal(np.select([y == 1, y == 2, y == 3, y == 4], [22.0, 24.0, 16.5, 27.0], 21.0), 3.0, n)
    rh = np.clip(rng.normal(np.select([y == 1, y == 2, y == 3, y == 4], [84.0, 58.0, 88.0, 45.0], 66.0), 9, n), 20, 100)
    wet = np.clip(rng.normal(np.select([y == 1, y == 2, y == 3, y == 4], [9.0, 2.5, 10.0, 1.0], 4.5), 2.2, n), 0, 24)
    rain = np.clip(rng.gamma(1.5, np.select([y == 1, y == 3, y == 4, y == 2], [14.0, 12.0, 1.5, 4.0], 7.0), n), 0, 120)
    soil = np.clip(rng.normal(np.select([y == 4, y == 1, y == 3], [11.0, 30.0, 29.0], 24.0), 4.5, n), 3, 45)
    leafdiff = rng.normal(np.where(y == 4, 2.6, 0.2), 1.0, n)
    oil = rng.poisson(np.where(y == 1, 4.0, 0.4))
    coat = np.clip(rng.normal(np.where(y == 2, 14.0, 1.0), np.where(y == 2, 7.0, 2.0), n), 0, 60)
    rot = np.clip(rng.normal(np.where(y == 3, 12.0, 0.8), np.where(y == 3, 6.0, 2.0), n), 0, 50)
    rot = np.where(np.isin(st, [0, 1]) & (y != 3), 0.0, rot)
    yellow = np.clip(rng.normal(np.select([y == 4, y == 1], [22.0, 12.0], 4.0), 6.0, n), 0, 80)
    spray = np.clip(rng.gamma(2.0, np.where(np.isin(y, [1, 2, 3]), 9.0, 5.0), n), 0, 70)
    dens = np.clip(np.round(rng.normal(np.where(y == 2, 3.9, np.where(y == 4, 2.3, 3.0)), 0.8, n)), 1, 5)
    wrong = rng.random(n) < 0.03
    y = np.where(wrong, rng.choice(5, n), y)
    names = np.array(["healthy", "downy_mildew", "powdery_mildew", "botrytis", "drought_stress"])
    df = pd.DataFrame({
        "variety": varieties[va], "stage": stages[st], "temp_mean_c": temp.round(1), "rh_mean_pct": rh.round(0),
        "leaf_wetness_h": wet.round(1), "rain_mm_7d": rain.round(1), "soil_moisture_pct": soil.round(1),
        "leaf_air_diff_c": leafdiff.round(1), "oil_spots": oil, "white_coating_pct": coat.round(1),
        "rot_pct": rot.round(1), "leaf_yellow_pct": yellow.round(1), "days_since_spray": spray.round(0).astype(int),
        "canopy_density": dens.astype(int), "target": names[y]})
    df.to_csv(HERE / "h24_vines.csv", index=False)


def heatnet() -> None:
    """Hourly load of a town's district-heating plant."""
    rng = np.random.default_rng(2403)
    days = 90
    hours = days * 24
    ts = pd.date_range("2024-01-15 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod = t % 24
    dow = (t // 24) % 7
    # weather: fronts (a slow AR(1) over a seasonal warming) plus a daily cycle
    front = np.zeros(hours)
    for k in range(1, hours):
        front[k] = 0.985 * front[k - 1] + rng.normal(0, 0.55)
    season = -3.0 + 7.0 * t / hours
    daily = 3.0 * np.sin(2 * np.pi * (hod - 9) / 24)
    outdoor = season + front + daily + rng.normal(0, 0.4, hours)
    wind = np.clip(3.5 + 2.5 * np.sin(2 * np.pi * t / 97.0) + np.cumsum(rng.normal(0, 0.25, hours)) * 0.15
                   + rng.normal(0, 0.8, hours), 0, 18)
    sun = np.clip(np.sin(np.pi * (hod - 7) / 10), 0, None) * np.clip(rng.beta(1.2, 1.5, days).repeat(24)
                                                                      + rng.normal(0, 0.05, hours), 0, 1)
    # buildings answer the outdoor temperature through their inertia: an exponential lag of ~6 h
    lagged = np.zeros(hours)
    lagged[0] = outdoor[0]
    for k in range(1, hours):
        lagged[k] = lagged[k - 1] + (outdoor[k] - lagged[k - 1]) / 6.0
    weekend = dow >= 5
    morning = np.exp(-0.5 * ((hod - np.where(weekend, 8.0, 7.0)) / 1.1) ** 2)
    evening = np.exp(-0.5 * ((hod - 19.0) / 1.8) ** 2)
    night = (hod <= 4) | (hod >= 23)
    drift = np.zeros(hours)
    for k in range(1, hours):
        drift[k] = 0.9 * drift[k - 1] + rng.normal(0, 0.45)
    heat = (24 + 1.25 * (16 - lagged) + 0.35 * wind - 5.0 * sun + 7.0 * morning + 3.5 * evening
            - 2.5 * night + drift + rng.normal(0, 0.5, hours))
    heat = np.clip(heat, 3, None)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "heat_mw": heat.round(2), "hour": hod, "weekday": dow,
                  "outdoor_c": outdoor.round(1), "wind_ms": wind.round(1), "sun": sun.round(2)}
                 ).to_csv(HERE / "h24_heatnet.csv", index=False)


def grains() -> None:
    """Camera patches of single rice kernels and their grade."""
    rng = np.random.default_rng(2404)
    n, S = 600, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 1, S, S), np.uint8)
    for i, k in enumerate(labels):
        cx, cy = S / 2 - 0.5 + rng.uniform(-3.5, 3.5, 2)
        ang = rng.uniform(0, np.pi)
        ca, sa = np.cos(ang), np.sin(ang)
        u = (xx - cx) * ca + (yy - cy) * sa                                  # along the kernel
        v = -(xx - cx) * sa + (yy - cy) * ca                                 # across
        half_len = rng.uniform(4.6, 5.6)
        half_w = rng.uniform(1.6, 2.1)
        end = rng.choice([-1, 1])
        if k == 1:                                                           # broken: short, one square end
            cut = rng.uniform(-0.2, 1.2)
            body = _sigmoid((1 - (u / half_len) ** 2 - (v / half_w) ** 2) * 6) * _sigmoid((cut - end * u) * 3)
        else:
            body = _sigmoid((1 - (u / half_len) ** 2 - (v / half_w) ** 2) * 6)
        bright = 135.0
        img = 40 + bright * body
        if k == 2:                                                           # chalky: an opaque white end
            at = end * rng.uniform(2.2, 3.6)
            img = img + 75 * body * np.exp(-0.5 * (((u - at) / 1.5) ** 2 + (v / 1.4) ** 2))
        elif k == 3:                                                         # a dark spot near an end
            at = end * rng.uniform(2.4, 3.8)
            off = rng.uniform(-0.7, 0.7)
            img = img - 110 * body * np.exp(-0.5 * (((u - at) ** 2 + (v - off) ** 2) / 0.9 ** 2))
        elif k == 4:                                                         # paddy: a darker ridged hull
            img = 40 + body * (95 + 28 * np.sin(v * rng.uniform(2.6, 3.4) + rng.uniform(0, 6.3)))
        img = img * rng.uniform(0.85, 1.15) + rng.normal(0, 6, (S, S))
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h24_grains.npz", x=x, y=labels.astype(np.int64))


def drones() -> None:
    """Flight logs of a delivery drone and the maintenance finding."""
    rng = np.random.default_rng(2405)
    n, T, dt = 500, 32, 0.5
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    t = np.arange(T) * dt
    x = np.zeros((n, T, 5), np.float32)
    for i, k in enumerate(labels):
        payload = rng.uniform(0.5, 2.5)                                      # kg
        climb_end = rng.uniform(5, 9)                                        # seconds of climb
        target_alt = rng.uniform(35, 60)
        climbing = t < climb_end
        alt = target_alt * np.clip(t / climb_end, 0, 1) ** 1.2
        thr = np.where(climbing, 68, 52) + 3 * payload + rng.normal(0, 1.5, T)
        if k == 2:                                                           # weak motor: more throttle
            thr = thr + rng.uniform(8, 12)
        if k == 3:                                                           # sagging battery: throttle creeps
            thr = thr + np.linspace(0, rng.uniform(5, 9), T)
        v0 = rng.uniform(24.6, 25.2)
        used = np.cumsum(thr) * dt / 3000
        sag = 0.045 if k != 3 else rng.uniform(0.11, 0.15)
        volt = v0 - used - sag * (thr - 40) * (1 + (k == 3) * t / 10) / 4 + rng.normal(0, 0.04, T)
        vib = 0.12 + 0.004 * thr + rng.normal(0, 0.02, T)
        if k == 1:                                                           # damaged prop
            vib = vib + rng.uniform(0.006, 0.01) * thr + np.abs(rng.normal(0, 0.08, T))
        yaw = rng.normal(0, 1.5, T)
        if k == 2:
            yaw = yaw + rng.choice([-1, 1]) * rng.uniform(4, 7) * (thr / 60)
        alt_read = alt + rng.normal(0, 0.3, T)
        if k == 4:                                                           # barometer jumps and drifts
            j = int(rng.integers(8, T - 6))
            alt_read[j:] = alt_read[j:] + rng.choice([-1, 1]) * rng.uniform(6, 14) + np.cumsum(rng.normal(0, 0.8, T - j))
        x[i, :, 0] = np.round(thr, 1)
        x[i, :, 1] = np.round(volt, 2)
        x[i, :, 2] = np.round(vib, 3)
        x[i, :, 3] = np.round(yaw, 1)
        x[i, :, 4] = np.round(alt_read, 1)
        if rng.random() < 0.3:                                               # telemetry dropouts: NaN
            c = int(rng.integers(0, 5))
            for _ in range(int(rng.integers(1, 3))):
                x[i, int(rng.integers(0, T)), c] = np.nan
    _savez(HERE / "h24_drones.npz", x=x, y=labels.astype(np.int64))


def heldout24() -> None:
    HERE.mkdir(exist_ok=True)
    frost()
    vines()
    heatnet()
    grains()
    drones()


if __name__ == "__main__":
    heldout24()
    print_sizes(HERE, FILES)
